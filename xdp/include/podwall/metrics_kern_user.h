/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Counters and event records.
 *
 * pw_counters is a per-CPU array indexed by pw_counter_index(): one
 * {packets, bytes} pair per (endpoint, direction, reason). Endpoint 0 counts
 * what belongs to no endpoint (uplink traffic not for a local pod). Array
 * lookups are inlined by the verifier, so counting costs no hash lookup.
 */
#pragma once

#include "types.h"
#include "verdict.h"

struct pw_counter {
	__u64 packets;
	__u64 bytes;
};
PW_STATIC_ASSERT(sizeof(struct pw_counter) == 16, "pw_counter layout");

#define PW_COUNTERS_MAX (PW_MAX_ENDPOINTS * PW_DIR_COUNT * PW_REASON_SLOTS)

static inline __u32 pw_counter_index(__u32 ep_id, __u32 dir, __u32 reason)
{
	return (ep_id * PW_DIR_COUNT + dir) * PW_REASON_SLOTS + reason;
}

/* Datapath-wide per-CPU statistics (pw_stats, one-element per-CPU array). */
struct pw_stats {
	__u64 events_sent_total;       /* records written to pw_events */
	__u64 events_suppressed_total; /* not sent: over the per-CPU event rate */
	__u64 events_lost_total;       /* not sent: ring buffer full */
	__u64 ct_insert_fail_total;    /* conntrack entry could not be created */
	__u64 samples_sent_total;      /* records written to pw_samples (podwall/ips_kern_user.h) */
	__u64 samples_suppressed_total; /* not sent: over the per-CPU sample rate */
	__u64 samples_lost_total;      /* not sent: ring buffer full */
};
PW_STATIC_ASSERT(sizeof(struct pw_stats) == 56, "pw_stats layout");

/* Record types in the pw_events ring buffer. */
#define PW_EVENT_VERDICT 1 /* verdict on a new flow */
#define PW_EVENT_DROP	 2 /* a dropped packet */

struct pw_event {
	__u64 ts_ns;	     /* CLOCK_MONOTONIC_COARSE (bpf_ktime_get_coarse_ns()) */
	__u32 ep_id;	     /* 0 if none */
	__u32 ifindex;	     /* interface the packet was seen on */
	__u32 cookie;	     /* rule attribution, 0 if none */
	__u32 peer_identity; /* label identity of the peer (or cidr identity if it has none) */
	__u32 pkt_len;	     /* length on the wire */
	__u8 type;	     /* PW_EVENT_* */
	__u8 reason;	     /* PW_REASON_* */
	__u8 dir;	     /* PW_DIR_* */
	__u8 family;	     /* PW_AF_* */
	__u8 proto;
	__u8 pad[3];
	__be16 sport;
	__be16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
};
PW_STATIC_ASSERT(sizeof(struct pw_event) == 72, "pw_event layout");

#define PW_EVENTS_RINGBUF_SIZE (256 * 1024)

/*
 * pw_rule_hits: per-CPU array indexed by rule cookie; new flows a rule
 * decided (allowed, denied, or audit-denied). Cookies are the compiler's and
 * start again from 1 with every daemon start, which therefore zeroes the
 * array; cookies past the array are not counted.
 */
#define PW_RULE_HITS_MAX 16384

#define PW_MAP_COUNTERS "pw_counters"
#define PW_MAP_STATS	"pw_stats"
#define PW_MAP_EVENTS	"pw_events"
#define PW_MAP_RULE_HITS "pw_rule_hits"
