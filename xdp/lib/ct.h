/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Connection tracking: keys, timeouts and the TCP state machine. The entry
 * is keyed by (pod side, peer side) so both directions of a flow share it.
 */
#pragma once

#include "maps.h"
#include "parse.h"

#define PW_CT_REFRESH_NS 1000000000ULL /* write last_seen at most once a second */

/* Fills key for endpoint ep_id from tuple t seen in direction dir. */
PW_INLINE void pw_ct_key_from(struct pw_ct_key *key, __u32 ep_id, __u8 family, __u8 dir,
			      const struct pw_tuple *t)
{
	key->ep_id = ep_id;
	key->family = family;
	key->proto = t->proto;
	key->pad = 0;
	if (dir == PW_DIR_INGRESS) {
		/* Into the pod: the pod is the destination. */
		key->pod_port = t->dport;
		key->peer_port = t->sport;
		__builtin_memcpy(key->pod_addr, t->daddr, 16);
		__builtin_memcpy(key->peer_addr, t->saddr, 16);
	} else {
		key->pod_port = t->sport;
		key->peer_port = t->dport;
		__builtin_memcpy(key->pod_addr, t->saddr, 16);
		__builtin_memcpy(key->peer_addr, t->daddr, 16);
	}
}

PW_INLINE __u64 pw_ct_timeout_ns(const struct pw_ct_val *v, __u8 proto)
{
	__u32 s;

	if (proto != PW_IPPROTO_TCP)
		s = pw_cfg_ct_other_s;
	else if (v->state == PW_CT_ESTABLISHED)
		s = pw_cfg_ct_established_s;
	else if (v->state >= PW_CT_FIN_WAIT)
		s = pw_cfg_ct_close_s;
	else
		s = pw_cfg_ct_syn_s;
	return (__u64)s * 1000000000ULL;
}

PW_INLINE int pw_ct_expired(const struct pw_ct_val *v, __u8 proto, __u64 now)
{
	return now - v->last_seen_ns > pw_ct_timeout_ns(v, proto);
}

/* The state a new entry starts in. */
PW_INLINE __u8 pw_ct_initial_state(__u8 proto, __u8 tcp_flags)
{
	if (proto != PW_IPPROTO_TCP)
		return PW_CT_UNREPLIED;
	if ((tcp_flags & (PW_TCP_SYN | PW_TCP_ACK)) == PW_TCP_SYN)
		return PW_CT_SYN_SENT;
	/* Picked up mid-stream (e.g. after LRU eviction): policy was just checked. */
	return PW_CT_ESTABLISHED;
}

/*
 * Connection slots (podwall/dos_kern_user.h, podwall.io/max-connections).
 * pw_conn_take() takes one of ep_id's slots for a new flow: 0, or -1 if the
 * pod is at its limit. The count goes up first and back down on refusal, so
 * two CPUs racing for the last slot cannot both get it; a flow that arrives
 * during that instant may be refused although a slot is about to be free.
 */
PW_INLINE int pw_conn_take(__u32 ep_id)
{
	struct pw_conn_count *c = bpf_map_lookup_elem(&pw_conns, &ep_id);
	__u32 *limit = bpf_map_lookup_elem(&pw_conn_limit, &ep_id);
	__s64 held;

	if (!c)
		return 0;
	held = __sync_fetch_and_add(&c->live, 1);
	if (limit && *limit && held >= (__s64)*limit) {
		__sync_fetch_and_add(&c->live, -1);
		return -1;
	}
	__sync_fetch_and_add(&c->taken_total, 1);
	return 0;
}

/* Gives back a slot taken by pw_conn_take() that no entry ended up holding. */
PW_INLINE void pw_conn_untake(__u32 ep_id)
{
	struct pw_conn_count *c = bpf_map_lookup_elem(&pw_conns, &ep_id);

	if (c) {
		__sync_fetch_and_add(&c->live, -1);
		__sync_fetch_and_add(&c->released_total, 1);
	}
}

/* Releases the slot entry v holds, if it still holds one: exactly once (xchg). */
PW_INLINE void pw_conn_release(struct pw_ct_val *v, __u32 ep_id)
{
	if (__sync_lock_test_and_set(&v->conn_slot, 0))
		pw_conn_untake(ep_id);
}

/* A revoked flow allowed again holds a slot again (over the limit if need be: it was live). */
PW_INLINE void pw_conn_retake(struct pw_ct_val *v, __u32 ep_id)
{
	struct pw_conn_count *c;

	if (__sync_lock_test_and_set(&v->conn_slot, 1))
		return;
	c = bpf_map_lookup_elem(&pw_conns, &ep_id);
	if (c) {
		__sync_fetch_and_add(&c->live, 1);
		__sync_fetch_and_add(&c->taken_total, 1);
	}
}

/* TCP flag combinations that never belong to a valid flow. */
PW_INLINE int pw_tcp_flags_invalid(__u8 flags)
{
	if ((flags & (PW_TCP_SYN | PW_TCP_FIN)) == (PW_TCP_SYN | PW_TCP_FIN))
		return 1;
	if ((flags & (PW_TCP_SYN | PW_TCP_RST)) == (PW_TCP_SYN | PW_TCP_RST))
		return 1;
	return (flags & (PW_TCP_SYN | PW_TCP_FIN | PW_TCP_RST | PW_TCP_ACK)) == 0;
}

/*
 * Advances the state of an existing entry for a packet in direction dir.
 * Returns 1 if the entry changed and must be written back now.
 */
PW_INLINE int pw_ct_advance(struct pw_ct_val *v, __u8 proto, __u8 dir, __u8 flags)
{
	int reply = dir != v->origin_dir;
	__u8 old = v->state, fl = v->flags;

	if (proto != PW_IPPROTO_TCP) {
		if (reply && v->state == PW_CT_UNREPLIED)
			v->state = PW_CT_REPLIED;
		return v->state != old;
	}
	if (flags & PW_TCP_RST) {
		v->state = PW_CT_CLOSED;
	} else if (flags & PW_TCP_FIN) {
		v->flags |= (dir == PW_DIR_EGRESS) ? PW_CT_F_FIN_POD : PW_CT_F_FIN_PEER;
		if ((v->flags & (PW_CT_F_FIN_POD | PW_CT_F_FIN_PEER)) ==
		    (PW_CT_F_FIN_POD | PW_CT_F_FIN_PEER))
			v->state = PW_CT_CLOSING;
		else if (v->state < PW_CT_FIN_WAIT)
			v->state = PW_CT_FIN_WAIT;
	} else if (v->state == PW_CT_SYN_SENT && reply &&
		   (flags & (PW_TCP_SYN | PW_TCP_ACK)) == (PW_TCP_SYN | PW_TCP_ACK)) {
		v->state = PW_CT_SYN_RECV;
	} else if (v->state == PW_CT_SYN_RECV && !reply && (flags & PW_TCP_ACK)) {
		v->state = PW_CT_ESTABLISHED;
	} else if (!reply && (flags & (PW_TCP_SYN | PW_TCP_ACK)) == PW_TCP_SYN &&
		   v->state >= PW_CT_FIN_WAIT) {
		/* The initiator reuses the ports for a new connection. */
		v->state = PW_CT_SYN_SENT;
		v->flags = 0;
	}
	return v->state != old || v->flags != fl;
}
