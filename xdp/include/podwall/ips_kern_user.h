/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The IPS half of the datapath: flow samples for the inspector in podwalld
 * (pw_samples ring buffer, pw_sample_cfg, pw_sample_flows) and the block
 * verdicts it writes back (pw_ips_flows; blocked sources go to the DoS
 * blocklist with owner PW_BL_OWNER_IPS, see podwall/dos_kern_user.h).
 *
 * Times are CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns()) for samples, so
 * capture timestamps are precise; block expiries are CLOCK_MONOTONIC_COARSE
 * like the blocklist's (user space converts a TTL with clock_gettime()).
 */
#pragma once

#include "types.h"

/*
 * Bytes of a packet copied into a sample, from the Ethernet header on. A
 * constant: bpf_ringbuf_reserve() needs one, and 1536 holds a whole
 * MTU-sized frame, so ordinary segments reach the inspector untruncated (GSO
 * super-packets are cut, and their flow's reassembly gives up at the gap).
 */
#define PW_SAMPLE_SNAP 1536

/* Why a packet was sampled (pw_sample.kind). */
#define PW_SAMPLE_K_FLOW 1 /* one of a flow's first packets, or a flow under inspection */
#define PW_SAMPLE_K_DROP 2 /* a dropped packet, for capture */

/* pw_sample_cfg.flags: which drops are sampled for capture. */
#define PW_SAMPLE_F_DROP_POLICY (1U << 0) /* policy-denied-ingress/-egress */
#define PW_SAMPLE_F_DROP_IPS	(1U << 1) /* ips-blocked */
#define PW_SAMPLE_F_DROP_DOS	(1U << 2) /* blocklisted, rate-limited (uplink and pod limits), conn-limit */
#define PW_SAMPLE_F_DROP_OTHER	(1U << 3) /* not-ready, malformed, fragments, ct-invalid */
/*
 * New flows are marked "under inspection": they keep being sampled past
 * pkts/bytes until the daemon releases them (deletes their pw_sample_flows
 * entry) or flow_byte_cap is reached.
 */
#define PW_SAMPLE_F_HOLD	(1U << 8)

/* pw_sample_cfg: one-element array the daemon writes; all zero = no sampling. */
struct pw_sample_cfg {
	__u32 pkts[PW_DIR_COUNT];  /* first packets sampled per flow, per direction (PW_DIR_*) */
	__u32 bytes[PW_DIR_COUNT]; /* ... and at most these wire bytes per direction */
	__u32 flow_byte_cap;	   /* a held flow stops being sampled after this many bytes */
	__u32 per_sec;		   /* samples per second per CPU (token bucket); 0 = none */
	__u32 flags;		   /* PW_SAMPLE_F_* */
	__u32 pad;
};
PW_STATIC_ASSERT(sizeof(struct pw_sample_cfg) == 32, "pw_sample_cfg layout");

/* pw_sample_flows (LRU hash): key struct pw_ct_key, the flow's sampling so far. */
#define PW_SAMPLE_FLOWS_MAX 65536
#define PW_SF_HOLD	    (1U << 0) /* under inspection: see PW_SAMPLE_F_HOLD */

struct pw_sample_flow {
	__u32 pkts[PW_DIR_COUNT];
	__u32 bytes[PW_DIR_COUNT];
	__u32 flags; /* PW_SF_* */
	__u32 pad;
};
PW_STATIC_ASSERT(sizeof(struct pw_sample_flow) == 24, "pw_sample_flow layout");

/* One record of the pw_samples ring buffer: metadata, then the packet. */
struct pw_sample_hdr {
	__u64 ts_ns;	/* CLOCK_MONOTONIC */
	__u32 ep_id;	/* 0 if none (uplink drops for no local pod) */
	__u32 ifindex;	/* interface the packet was seen on */
	__u32 wire_len; /* length of the packet */
	__u32 cap_len;	/* bytes in data[] (<= PW_SAMPLE_SNAP) */
	__u8 kind;	/* PW_SAMPLE_K_* */
	__u8 reason;	/* PW_REASON_* of the packet's verdict */
	__u8 dir;	/* PW_DIR_* */
	__u8 family;	/* PW_AF_* */
	__u8 proto;
	__u8 pad[3];
	__be16 sport;
	__be16 dport;
	__u8 saddr[16]; /* network byte order; IPv4 in [0..3] */
	__u8 daddr[16];
	__u32 pad2;
};
PW_STATIC_ASSERT(sizeof(struct pw_sample_hdr) == 72, "pw_sample_hdr layout");

struct pw_sample {
	struct pw_sample_hdr h;
	__u8 data[PW_SAMPLE_SNAP]; /* the packet from its Ethernet header */
};
PW_STATIC_ASSERT(sizeof(struct pw_sample) == 72 + PW_SAMPLE_SNAP, "pw_sample layout");

#define PW_SAMPLES_RINGBUF_SIZE (4 * 1024 * 1024)

/*
 * pw_ips_flows (hash): flows the IPS blocked, keyed by the packet's tuple as
 * seen on the wire. The daemon writes one entry per direction, so every
 * program finds it with one lookup before any other state, whichever side
 * the packet comes from.
 */
#define PW_IPS_FLOWS_MAX 65536

struct pw_ips_key {
	__u8 family; /* PW_AF_* */
	__u8 proto;
	__be16 sport;
	__be16 dport;
	__u16 pad;
	__u8 saddr[16];
	__u8 daddr[16];
};
PW_STATIC_ASSERT(sizeof(struct pw_ips_key) == 40, "pw_ips_key layout");

struct pw_ips_val {
	__u64 expires_ns; /* CLOCK_MONOTONIC_COARSE deadline; 0 = never */
	__u64 added_ns;	  /* CLOCK_MONOTONIC_COARSE */
	__u32 sid;	  /* the rule that blocked it */
	__u32 gid;
};
PW_STATIC_ASSERT(sizeof(struct pw_ips_val) == 24, "pw_ips_val layout");

#define PW_MAP_SAMPLES	    "pw_samples"
#define PW_MAP_SAMPLE_CFG   "pw_sample_cfg"
#define PW_MAP_SAMPLE_FLOWS "pw_sample_flows"
#define PW_MAP_IPS_FLOWS    "pw_ips_flows"
#define PW_MAP_IPS_USED	    "pw_ips_used"
