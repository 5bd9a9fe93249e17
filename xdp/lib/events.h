/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Event records to user space (pw_events ring buffer), limited per CPU by a
 * token bucket so that a flood of new flows or drops costs the daemon a
 * bounded amount of work; what is held back is counted, never queued.
 */
#pragma once

#include "maps.h"
#include "metrics.h"
#include "parse.h"

#define PW_NSEC_PER_SEC 1000000000ULL

/* Takes one token of bucket bk filled at rate per second; 0 if there is none. */
PW_INLINE int pw_bucket_take(struct pw_event_bucket *bk, __u64 rate, __u64 now)
{
	__u64 cap, elapsed;

	if (!rate || !bk)
		return 0;
	/* Burst of one second's worth; tokens are in events * 1e9. */
	cap = rate * PW_NSEC_PER_SEC;
	elapsed = now - bk->last_ns;
	if (elapsed > PW_NSEC_PER_SEC)
		elapsed = PW_NSEC_PER_SEC;
	bk->tokens += elapsed * rate;
	if (bk->tokens > cap)
		bk->tokens = cap;
	bk->last_ns = now;
	if (bk->tokens < PW_NSEC_PER_SEC)
		return 0;
	bk->tokens -= PW_NSEC_PER_SEC;
	return 1;
}

PW_INLINE int pw_event_allowed(__u64 now)
{
	__u32 zero = 0;

	return pw_bucket_take(bpf_map_lookup_elem(&pw_event_bucket, &zero), pw_cfg_events_per_sec,
			      now);
}

PW_ALWAYS_INLINE void pw_event_emit(__u8 type, __u8 reason, __u8 dir, __u32 ep_id, __u32 ifindex,
			     __u32 cookie, __u32 peer_id, const struct pw_flow *f, __u32 len)
{
	__u64 now = bpf_ktime_get_coarse_ns();
	struct pw_stats *st = pw_stats_get();
	struct pw_event *e;

	if (!pw_event_allowed(now)) {
		if (st)
			st->events_suppressed_total++;
		return;
	}
	e = bpf_ringbuf_reserve(&pw_events, sizeof(*e), 0);
	if (!e) {
		if (st)
			st->events_lost_total++;
		return;
	}
	e->ts_ns = now;
	e->ep_id = ep_id;
	e->ifindex = ifindex;
	e->cookie = cookie;
	e->peer_identity = peer_id;
	e->pkt_len = len;
	e->type = type;
	e->reason = reason;
	e->dir = dir;
	e->family = f->family;
	e->proto = f->t.proto;
	e->pad[0] = e->pad[1] = e->pad[2] = 0;
	e->sport = f->t.sport;
	e->dport = f->t.dport;
	__builtin_memcpy(e->saddr, f->t.saddr, 16);
	__builtin_memcpy(e->daddr, f->t.daddr, 16);
	bpf_ringbuf_submit(e, 0);
	if (st)
		st->events_sent_total++;
}

/* Whether anyone logs this verdict of an endpoint with flags ep_flags (0: no endpoint). */
PW_INLINE int pw_event_wanted(__u32 ep_flags, __u32 reason)
{
	if (pw_reason_is_drop(reason) || reason == PW_REASON_ALLOW_AUDIT)
		return !(ep_flags & PW_EP_F_QUIET_DENIED);
	return !(ep_flags & PW_EP_F_QUIET_ALLOWED);
}
