/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The IPS in the datapath (podwall/ips_kern_user.h): the block verdicts the
 * inspector wrote, checked before anything else, and the flow samples it
 * reads. Sampling decides in one global function and copies in another per
 * context type, so neither multiplies the paths the verifier walks in the
 * programs that call them.
 */
#pragma once

#include "ct.h"
#include "dos.h"
#include "events.h"
#include "maps.h"
#include "metrics.h"
#include "parse.h"

/* pw_sample_want()'s flags, above the reason in its third argument. */
#define PW_SW_NEW_FLOW	  (1U << 8) /* a policy verdict was taken on this packet */
#define PW_SW_CREATE_ONLY (1U << 9) /* start the flow's sampling state, sample nothing */

PW_INLINE struct pw_sample_cfg *pw_sample_cfg_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&pw_sample_cfg, &zero);
}

/*
 * Is the packet's flow blocked by the IPS? Its tuple as sent is the key (the
 * daemon writes both directions). Returns PW_REASON_DROP_IPS_BLOCKED or 0.
 */
__noinline int pw_ips_check(struct pw_flow *f)
{
	struct pw_ips_key k = {};
	struct pw_ips_val *v;
	__u32 zero = 0, *used;

	if (!f || f->neigh)
		return 0;
	used = bpf_map_lookup_elem(&pw_ips_used, &zero);
	if (used && !*used)
		return 0;
	k.family = f->family;
	k.proto = f->t.proto;
	k.sport = f->t.sport;
	k.dport = f->t.dport;
	__builtin_memcpy(k.saddr, f->t.saddr, 16);
	__builtin_memcpy(k.daddr, f->t.daddr, 16);
	v = bpf_map_lookup_elem(&pw_ips_flows, &k);
	if (!v)
		return 0;
	if (v->expires_ns && bpf_ktime_get_coarse_ns() >= v->expires_ns) {
		bpf_map_delete_elem(&pw_ips_flows, &k);
		return 0;
	}
	return PW_REASON_DROP_IPS_BLOCKED;
}

/* The sampling flag that covers a drop reason. */
PW_INLINE __u32 pw_sample_drop_flag(__u32 reason)
{
	switch (reason) {
	case PW_REASON_DROP_POLICY_INGRESS:
	case PW_REASON_DROP_POLICY_EGRESS:
		return PW_SAMPLE_F_DROP_POLICY;
	case PW_REASON_DROP_IPS_BLOCKED:
		return PW_SAMPLE_F_DROP_IPS;
	case PW_REASON_DROP_BLOCKLISTED:
	case PW_REASON_DROP_RATE_LIMITED:
	case PW_REASON_DROP_CONN_LIMIT:
		return PW_SAMPLE_F_DROP_DOS;
	default:
		return PW_SAMPLE_F_DROP_OTHER;
	}
}

/*
 * Does the packet f of endpoint ep_id in direction dir go to pw_samples?
 * rflags is its verdict's reason | PW_SW_*. Drops are sampled by kind (for
 * capture); allowed packets while their flow is among its first packets or
 * held for inspection (podwall/ips_kern_user.h). Updates the flow's tally.
 */
__noinline int pw_sample_want(struct pw_flow *f, __u32 ep_id, __u32 dir, __u32 rflags, __u32 len)
{
	struct pw_sample_cfg *cfg = pw_sample_cfg_get();
	__u32 reason = rflags & 0xff, npkts, nbytes, *pk, *by;
	struct pw_sample_flow *s;
	struct pw_ct_key k;

	if (!f || !cfg || dir >= PW_DIR_COUNT)
		return 0;
	if (pw_reason_is_drop(reason))
		return !!(cfg->flags & pw_sample_drop_flag(reason));
	if (!cfg->pkts[0] && !cfg->pkts[1] && !(cfg->flags & PW_SAMPLE_F_HOLD))
		return 0;
	if (f->neigh || f->frag == PW_FRAG_LATER || f->icmp_error ||
	    reason == PW_REASON_ALLOW_NEIGH)
		return 0;
	pw_ct_key_from(&k, ep_id, f->family, dir, &f->t);
	s = bpf_map_lookup_elem(&pw_sample_flows, &k);
	if (!s) {
		struct pw_sample_flow ns = {};

		/* Only flows seen from their start: the inspector needs the beginning. */
		if (!(rflags & PW_SW_NEW_FLOW))
			return 0;
		if (cfg->flags & PW_SAMPLE_F_HOLD)
			ns.flags = PW_SF_HOLD;
		bpf_map_update_elem(&pw_sample_flows, &k, &ns, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&pw_sample_flows, &k);
		if (!s)
			return 0;
	}
	if (rflags & PW_SW_CREATE_ONLY)
		return 0;
	/* Constant offsets: a computed index into a value loses its bounds in the verifier. */
	if (dir == PW_DIR_EGRESS) {
		pk = &s->pkts[PW_DIR_EGRESS];
		by = &s->bytes[PW_DIR_EGRESS];
		npkts = cfg->pkts[PW_DIR_EGRESS];
		nbytes = cfg->bytes[PW_DIR_EGRESS];
	} else {
		pk = &s->pkts[PW_DIR_INGRESS];
		by = &s->bytes[PW_DIR_INGRESS];
		npkts = cfg->pkts[PW_DIR_INGRESS];
		nbytes = cfg->bytes[PW_DIR_INGRESS];
	}
	if (s->flags & PW_SF_HOLD) {
		/* Held: until released (the entry deleted) or past the flow's byte cap. */
		if (cfg->flow_byte_cap &&
		    (__u64)s->bytes[0] + s->bytes[1] >= cfg->flow_byte_cap)
			return 0;
	} else if (*pk >= npkts || (nbytes && *by >= nbytes)) {
		return 0;
	}
	*pk += 1;
	*by += len;
	return 1;
}

/* pw_sample_skb()/pw_sample_xdp()'s fourth argument: reason, PW_SW_* and direction. */
#define PW_SW_DIR_SHIFT 16

/*
 * Reserves a sample record for packet f under the per-CPU sample rate and
 * fills its metadata, or counts why not. The caller copies the packet and
 * calls pw_sample_done(). Built in the record, not on the stack: the
 * programs' stack is spent on pw_decide's call chain.
 */
PW_ALWAYS_INLINE struct pw_sample *pw_sample_reserve(const struct pw_flow *f, __u32 ep_id,
						     __u32 ifindex, __u32 rdir, __u32 len)
{
	struct pw_sample_cfg *cfg = pw_sample_cfg_get();
	struct pw_stats *st = pw_stats_get();
	__u32 zero = 0, reason = rdir & 0xff;
	__u64 now = bpf_ktime_get_ns();
	struct pw_sample *s;

	if (!cfg || !pw_bucket_take(bpf_map_lookup_elem(&pw_sample_bucket, &zero), cfg->per_sec,
				    now)) {
		if (st)
			st->samples_suppressed_total++;
		return NULL;
	}
	s = bpf_ringbuf_reserve(&pw_samples, sizeof(*s), 0);
	if (!s) {
		if (st)
			st->samples_lost_total++;
		return NULL;
	}
	s->h.ts_ns = now;
	s->h.ep_id = ep_id;
	s->h.ifindex = ifindex;
	s->h.wire_len = len;
	s->h.cap_len = 0;
	s->h.kind = pw_reason_is_drop(reason) ? PW_SAMPLE_K_DROP : PW_SAMPLE_K_FLOW;
	s->h.reason = reason;
	s->h.dir = rdir >> PW_SW_DIR_SHIFT;
	s->h.family = f->family;
	s->h.proto = f->t.proto;
	s->h.pad[0] = s->h.pad[1] = s->h.pad[2] = 0;
	s->h.sport = f->t.sport;
	s->h.dport = f->t.dport;
	__builtin_memcpy(s->h.saddr, f->t.saddr, 16);
	__builtin_memcpy(s->h.daddr, f->t.daddr, 16);
	s->h.pad2 = 0;
	return s;
}

PW_INLINE void pw_sample_done(struct pw_sample *s, long err)
{
	struct pw_stats *st = pw_stats_get();

	if (err) {
		bpf_ringbuf_discard(s, 0);
		if (st)
			st->samples_lost_total++;
		return;
	}
	bpf_ringbuf_submit(s, 0);
	if (st)
		st->samples_sent_total++;
}

PW_ALWAYS_INLINE __u64 pw_sample_caplen(__u64 len)
{
	/*
	 * The clamp in assembly: in C, clang hands the load helper the
	 * unclamped register the length came from, and the verifier sees no
	 * upper bound on the size.
	 */
	asm volatile("if %0 <= %1 goto +1; %0 = %1" : "+r"(len) : "i"(PW_SAMPLE_SNAP));
	return len;
}

/*
 * Samples packet f of skb if pw_sample_want() says so: rdir is the verdict's
 * reason | PW_SW_* | direction << PW_SW_DIR_SHIFT. Returns 1 if sent.
 */
__noinline int pw_sample_skb(struct __sk_buff *skb, struct pw_flow *f, __u32 ep_id, __u32 rdir,
			     __u32 len)
{
	struct pw_sample *s;
	__u64 cap;
	long err;

	if (!f || !pw_sample_want(f, ep_id, rdir >> PW_SW_DIR_SHIFT, rdir & 0xffff, len))
		return 0;
	s = pw_sample_reserve(f, ep_id, skb->ifindex, rdir, len);
	if (!s)
		return 0;
	cap = pw_sample_caplen(skb->len);
	s->h.cap_len = cap;
	err = cap ? bpf_skb_load_bytes(skb, 0, s->data, cap) : -1;
	pw_sample_done(s, err);
	return !err;
}

/* The same for an XDP packet (always ingress). */
__noinline int pw_sample_xdp(struct xdp_md *ctx, struct pw_flow *f, __u32 ep_id, __u32 rflags,
			     __u32 len)
{
	struct pw_sample *s;
	__u64 cap;
	long err;

	if (!f || !pw_sample_want(f, ep_id, PW_DIR_INGRESS, rflags, len))
		return 0;
	s = pw_sample_reserve(f, ep_id, ctx->ingress_ifindex, rflags, len);
	if (!s)
		return 0;
	cap = pw_sample_caplen(bpf_xdp_get_buff_len(ctx));
	s->h.cap_len = cap;
	err = cap ? bpf_xdp_load_bytes(ctx, 0, s->data, cap) : -1;
	pw_sample_done(s, err);
	return !err;
}
