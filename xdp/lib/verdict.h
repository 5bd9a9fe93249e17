/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The decision for one IP packet of a known, ready endpoint: fragments,
 * related ICMP errors, conntrack, and policy for new flows. Shared by the TC
 * programs (both directions) and the uplink XDP program (ingress).
 */
#pragma once

#include "ct.h"
#include "events.h"
#include "ipcache.h"
#include "maps.h"
#include "metrics.h"
#include "parse.h"
#include "policy.h"

struct pw_decision {
	__u32 reason;
	__u32 cookie;
	__u32 peer_id;	/* peer's identity, for events */
	__u8 new_flow;	/* a policy verdict was taken on this packet */
	__u8 pad[3];
};

PW_INLINE __u32 pw_cur_epoch(void)
{
	__u32 zero = 0;
	struct pw_state *st = bpf_map_lookup_elem(&pw_state, &zero);

	return st ? st->policy_epoch : 0;
}

PW_INLINE __u16 pw_policy_port(__u8 proto, __be16 port)
{
	if (proto == PW_IPPROTO_TCP || proto == PW_IPPROTO_UDP || proto == PW_IPPROTO_SCTP)
		return bpf_ntohs(port);
	return 0;
}

PW_INLINE void pw_frag_key_from(struct pw_frag_key *k, __u32 ep_id, const struct pw_flow *f)
{
	k->ep_id = ep_id;
	k->id = f->frag_id;
	k->family = f->family;
	k->proto = f->t.proto;
	k->pad = 0;
	__builtin_memcpy(k->saddr, f->t.saddr, 16);
	__builtin_memcpy(k->daddr, f->t.daddr, 16);
}

/* An ICMP error is related if the packet it quotes belongs to a tracked flow. */
PW_INLINE int pw_icmp_related(const struct pw_flow *f, __u32 ep_id, __u8 dir, __u64 now,
			       struct pw_ct_key *key)
{
	struct pw_ct_val *v;
	__u8 qdir;

	/*
	 * An error travelling into the pod quotes a packet the pod sent (egress
	 * orientation); one leaving the pod quotes a packet the pod received.
	 */
	qdir = dir == PW_DIR_INGRESS ? PW_DIR_EGRESS : PW_DIR_INGRESS;
	pw_ct_key_from(key, ep_id, f->family, qdir, &f->inner);
	v = bpf_map_lookup_elem(&pw_ct, key);
	return v && !pw_ct_expired(v, key->proto, now);
}

/*
 * Re-evaluates an admitted flow after a policy change, in the direction and
 * with the ports of its first packet. Returns 0 if still allowed.
 */
PW_INLINE int pw_ct_revalidate(const struct pw_ct_key *key, struct pw_ct_val *v, __u32 epoch,
			       struct pw_decision *d)
{
	struct pw_policy_result res;
	struct pw_ipcache_val peer;
	__be16 dport = v->origin_dir == PW_DIR_INGRESS ? key->pod_port : key->peer_port;

	pw_ipcache_lookup(key->family, (const __u32 *)key->peer_addr, &peer);
	d->peer_id = peer.identity;
	pw_policy_eval(key->ep_id, v->origin_dir, &peer, key->proto,
		       pw_policy_port(key->proto, dport), &res);
	if (pw_reason_is_drop(res.reason)) {
		d->reason = res.reason;
		d->cookie = res.cookie;
		return -1;
	}
	v->policy_epoch = epoch;
	v->cookie = res.cookie;
	return 0;
}

/*
 * Decides an IP packet f of an endpoint (id ep_id, flags ep_flags) in
 * direction dir; an allowed new flow gets a conntrack entry.
 *
 * A global function, verified once on its own rather than inlined into every
 * parse path of every program (which multiplies past the verifier's limits);
 * the verifier passes f and d as nullable memory, hence the check.
 */
__noinline int pw_decide(struct pw_flow *f, __u32 ep_id, __u32 ep_flags, __u32 dir,
			 struct pw_decision *d)
{
	__u32 epoch = pw_cur_epoch();
	/* Coarse (tick) time is plenty for timeouts in seconds and costs no clock read. */
	__u64 now = bpf_ktime_get_coarse_ns();
	struct pw_policy_result res;
	struct pw_ipcache_val peer;
	/* One of the two at a time; sharing the slot keeps the stack in bounds. */
	union {
		struct pw_ct_key ct;
		struct pw_frag_key frag;
	} k = {};
	struct pw_ct_val *v, *old = NULL;
	const __u32 *peer_addr;

	if (!f || !d)
		return -1;
	d->cookie = 0;
	d->peer_id = 0;
	d->new_flow = 0;

	if (f->neigh) {
		d->reason = PW_REASON_ALLOW_NEIGH;
		return 0;
	}
	if (f->frag == PW_FRAG_LATER) {
		/* No ports here: follow the first fragment's verdict, or drop. */
		pw_frag_key_from(&k.frag, ep_id, f);
		d->reason = bpf_map_lookup_elem(&pw_frag, &k.frag) ? PW_REASON_ALLOW_FRAGMENT :
								  PW_REASON_DROP_FRAGMENT;
		return 0;
	}
	if (f->icmp_error && pw_icmp_related(f, ep_id, dir, now, &k.ct)) {
		d->reason = PW_REASON_ALLOW_RELATED;
		return 0;
	}

	pw_ct_key_from(&k.ct, ep_id, f->family, dir, &f->t);
	v = bpf_map_lookup_elem(&pw_ct, &k.ct);
	if (v && pw_ct_expired(v, f->t.proto, now)) {
		pw_conn_release(v, ep_id);
		bpf_map_delete_elem(&pw_ct, &k.ct);
		v = NULL;
	}
	/*
	 * A fresh SYN from the side that did not open the flow, on a revoked
	 * flow, or reusing the ports of a closing one, is a new flow: policy
	 * and the pod's connection limit decide it afresh. The entry it
	 * replaces gives its slot back only if it is replaced.
	 */
	if (v && f->t.proto == PW_IPPROTO_TCP &&
	    (dir != v->origin_dir || (v->flags & PW_CT_F_REVOKED) ||
	     v->state >= PW_CT_FIN_WAIT) &&
	    (f->tcp_flags & (PW_TCP_SYN | PW_TCP_ACK)) == PW_TCP_SYN) {
		old = v;
		v = NULL;
	}
	if (v) {
		if (v->policy_epoch != epoch) {
			if (pw_ct_revalidate(&k.ct, v, epoch, d)) {
				v->flags |= PW_CT_F_REVOKED;
				v->policy_epoch = epoch;
				v->cookie = d->cookie;
				/* A cut flow is no live connection of the pod. */
				pw_conn_release(v, ep_id);
			} else {
				if (v->flags & PW_CT_F_REVOKED)
					pw_conn_retake(v, ep_id);
				v->flags &= ~PW_CT_F_REVOKED;
			}
		}
		if (v->flags & PW_CT_F_REVOKED) {
			/* Refreshed while the peers keep trying, so the flow stays cut. */
			v->last_seen_ns = now;
			d->reason = v->origin_dir == PW_DIR_INGRESS ? PW_REASON_DROP_POLICY_INGRESS :
								      PW_REASON_DROP_POLICY_EGRESS;
			d->cookie = v->cookie;
			goto audit;
		}
		if (pw_ct_advance(v, f->t.proto, dir, f->tcp_flags) ||
		    now - v->last_seen_ns > PW_CT_REFRESH_NS)
			v->last_seen_ns = now;
		/* Both sides said FIN, or one RST: the connection no longer counts. */
		if (v->state == PW_CT_CLOSING || v->state == PW_CT_CLOSED)
			pw_conn_release(v, ep_id);
		d->reason = PW_REASON_ALLOW_ESTABLISHED;
		d->cookie = v->cookie;
		goto allowed;
	}

	/* A new flow. */
	d->new_flow = 1;
	if (f->t.proto == PW_IPPROTO_TCP && pw_tcp_flags_invalid(f->tcp_flags)) {
		d->reason = PW_REASON_DROP_CT_INVALID;
		return 0;
	}
	peer_addr = dir == PW_DIR_INGRESS ? f->t.saddr : f->t.daddr;
	pw_ipcache_lookup(f->family, peer_addr, &peer);
	d->peer_id = peer.identity != PW_ID_WORLD ? peer.identity : peer.cidr_identity;
	pw_policy_eval(ep_id, dir, &peer, f->t.proto, pw_policy_port(f->t.proto, f->t.dport), &res);
	d->reason = res.reason;
	d->cookie = res.cookie;
	pw_rule_hit(res.cookie);
	if (pw_reason_is_drop(res.reason))
		goto audit;
	/* An RST opens nothing; ICMP errors are answers, not flows. */
	if (!(f->t.proto == PW_IPPROTO_TCP && (f->tcp_flags & PW_TCP_RST)) && !f->icmp_error) {
		struct pw_ct_val nv = {
			.last_seen_ns = now,
			.policy_epoch = epoch,
			.cookie = res.cookie,
			.state = pw_ct_initial_state(f->t.proto, f->tcp_flags),
			.origin_dir = dir,
			.reason = res.reason,
			.conn_slot = 1,
		};

		/* Allowed by policy, but the pod holds as many flows as it may. */
		if (pw_conn_take(ep_id)) {
			d->reason = PW_REASON_DROP_CONN_LIMIT;
			return 0;
		}
		if (old)
			pw_conn_release(old, ep_id);
		if (bpf_map_update_elem(&pw_ct, &k.ct, &nv, BPF_ANY)) {
			struct pw_stats *st = pw_stats_get();

			pw_conn_untake(ep_id);
			if (st)
				st->ct_insert_fail_total++;
		}
	}

allowed:
	if (f->frag == PW_FRAG_FIRST) {
		struct pw_frag_val fv = {.first_seen_ns = now, .sport = f->t.sport,
					 .dport = f->t.dport};

		pw_frag_key_from(&k.frag, ep_id, f);
		bpf_map_update_elem(&pw_frag, &k.frag, &fv, BPF_ANY);
	}
	return 0;

audit:
	/* Audit mode: record what enforcement would have done, let it pass. */
	if ((ep_flags & PW_EP_F_AUDIT) && (d->reason == PW_REASON_DROP_POLICY_INGRESS ||
					   d->reason == PW_REASON_DROP_POLICY_EGRESS))
		d->reason = PW_REASON_ALLOW_AUDIT;
	return 0;
}
