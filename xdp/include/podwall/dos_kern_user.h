/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * DoS guards of the node uplink (pw_node_xdp), run on every IP packet before
 * any per-pod state: blocklist, per-source token buckets, SYN-flood guard.
 *
 * Times are CLOCK_MONOTONIC_COARSE nanoseconds (bpf_ktime_get_coarse_ns()),
 * so user space converts a TTL with clock_gettime(CLOCK_MONOTONIC_COARSE).
 *
 * Every packet these guards drop is counted under endpoint 0, direction
 * ingress, with reason blocklisted or rate-limited: the uplink guards protect
 * the node as a whole and run before the destination pod is looked up for
 * the blocklist, so one place holds every DoS drop whatever its destination.
 */
#pragma once

#include "types.h"

/*
 * Blocklist: pw_blocklist (hash, exact /32 and /128, key struct pw_host_key)
 * is consulted before pw_blocklist_lpm (LPM trie, key struct pw_lpm_key).
 * A live exact entry decides alone, so an exact PW_BL_F_EXEMPT entry punches
 * a hole into a blocked prefix; an expired entry is ignored (and deleted).
 */
#define PW_BLOCKLIST_MAX     131072
#define PW_BLOCKLIST_LPM_MAX 16384

/* Who put an entry there (pw_bl_val.owner). */
#define PW_BL_OWNER_OPERATOR 1 /* podwallctl blocklist add, config file */
#define PW_BL_OWNER_IPS	     2 /* the inspector's verdicts */
#define PW_BL_OWNER_AUTO     3 /* the rate limiter: a source over its limit for too long */

/* Never blocked (e.g. an exact entry inside a blocked prefix), nor rate-limited or SYN-guarded. */
#define PW_BL_F_EXEMPT (1U << 0)

struct pw_bl_val {
	__u64 expires_ns; /* CLOCK_MONOTONIC_COARSE deadline; 0 = never expires */
	__u64 added_ns;	  /* CLOCK_MONOTONIC_COARSE */
	__u8 owner;	  /* PW_BL_OWNER_* */
	__u8 flags;	  /* PW_BL_F_* */
	__u8 pad[6];
};
PW_STATIC_ASSERT(sizeof(struct pw_bl_val) == 24, "pw_bl_val layout");

/*
 * Per-source token buckets (pw_rl_src, LRU hash). A bucket belongs to a
 * source (its address masked to cfg.src_prefix4/6) and to the endpoint whose
 * override limits it, or to endpoint 0 for the global default. Tokens are
 * scaled by 1e9 (one packet or one byte = 1e9), so refilling is
 * elapsed_ns * rate without a division per packet.
 */
#define PW_RL_SRC_MAX 65536
#define PW_RL_SCALE   1000000000ULL

/* A limit; a zero rate is "unlimited" in that dimension. */
struct pw_rl_limit {
	__u64 pps;	   /* packets per second */
	__u64 bps;	   /* bytes per second (on the wire, Ethernet header included) */
	__u32 burst_pkts;  /* bucket size; 0 = one second's worth */
	__u32 burst_bytes; /* bucket size; 0 = one second's worth (capped at 4 GiB) */
};
PW_STATIC_ASSERT(sizeof(struct pw_rl_limit) == 24, "pw_rl_limit layout");

struct pw_rl_key {
	__u32 ep_id; /* endpoint whose override applies, or 0 = global default */
	__u8 family; /* PW_AF_* */
	__u8 pad[3];
	__u8 addr[16]; /* source, masked to the configured prefix */
};
PW_STATIC_ASSERT(sizeof(struct pw_rl_key) == 24, "pw_rl_key layout");

struct pw_rl_bucket {
	__u64 last_ns;	     /* last refill */
	__u64 pkt_tokens;    /* scaled by PW_RL_SCALE */
	__u64 byte_tokens;   /* scaled by PW_RL_SCALE */
	__u64 over_since_ns; /* first drop of the current over-limit episode, 0 = none */
	__u64 last_drop_ns;  /* an episode ends after PW_RL_QUIET_NS without drops */
	__u64 dropped;	     /* packets dropped, ever (top talkers) */
	__u64 passed;	     /* packets passed, ever */
};
PW_STATIC_ASSERT(sizeof(struct pw_rl_bucket) == 56, "pw_rl_bucket layout");

#define PW_RL_QUIET_NS 1000000000ULL

/* Per-pod overrides (pw_rl_pod, hash keyed by endpoint id). */
#define PW_RL_POD_MAX PW_MAX_ENDPOINTS

/*
 * SYN-flood guard. Each (endpoint, port) has a SYN bucket (pw_syn_rate);
 * SYNs beyond cfg.syn_pps are answered in XDP with a SYN cookie SYN-ACK
 * instead of reaching the pod. A source whose ACK carries a valid cookie is
 * admitted to pw_syn_verified for cfg.verified_ttl_s and answered with an RST:
 * it did not open a connection with the pod, so the RST ends the half-open
 * client state at once, and its retry (the normal client behaviour after a
 * reset during connect) reaches the pod. Spoofed sources never see the
 * SYN-ACK, so they cannot produce a valid cookie and are never admitted.
 */
#define PW_SYN_RATE_MAX	    16384
#define PW_SYN_VERIFIED_MAX 65536

struct pw_syn_key {
	__u32 ep_id;
	__be16 dport;
	__u16 pad;
};
PW_STATIC_ASSERT(sizeof(struct pw_syn_key) == 8, "pw_syn_key layout");

struct pw_syn_state {
	__u64 last_ns;
	__u64 tokens;	     /* scaled by PW_RL_SCALE */
	__u64 active_until;  /* guard answers with cookies until then (CLOCK_MONOTONIC_COARSE) */
	__u64 cookies_sent;  /* SYN-ACKs with a cookie */
};
PW_STATIC_ASSERT(sizeof(struct pw_syn_state) == 32, "pw_syn_state layout");

/* pw_syn_verified: key struct pw_host_key, value: expiry (CLOCK_MONOTONIC_COARSE ns). */

/* How long the guard stays active after the SYN rate was last exceeded. */
#define PW_SYN_ACTIVE_NS 5000000000ULL

/* Flags of struct pw_dos_cfg. */
#define PW_DOS_F_ENABLED (1U << 0) /* rate limits and SYN guard run (the blocklist always does) */

/* pw_dos_cfg: one-element array written by the control plane, live. */
struct pw_dos_cfg {
	struct pw_rl_limit def; /* per-source default; both rates 0 = no default limit */
	__u32 flags;		/* PW_DOS_F_* */
	__u8 src_prefix4;	/* bucket granularity: 32 (per address) or 24; 0 = 32 */
	__u8 src_prefix6;	/* 128 or 64; 0 = 128 */
	__u16 pad;
	__u32 auto_block_ms;  /* over the limit this long: auto-blocklisted; 0 = never */
	__u32 auto_block_ttl_s; /* expiry of an auto entry; 0 = 300 */
	__u32 syn_pps;	      /* SYNs/s per (pod, port) before cookies; 0 = guard off */
	__u32 syn_burst;      /* 0 = syn_pps */
	__u32 verified_ttl_s; /* 0 = 600 */
	__u32 pad2;
};
PW_STATIC_ASSERT(sizeof(struct pw_dos_cfg) == 56, "pw_dos_cfg layout");

/* Per-CPU DoS statistics (pw_dos_stats, one-element per-CPU array). */
struct pw_dos_stats {
	__u64 blocklist_drops_total;
	__u64 ratelimit_drops_total;
	__u64 auto_blocked_total;     /* entries the rate limiter added */
	__u64 syn_cookies_sent_total; /* SYN-ACKs answered from XDP */
	__u64 syn_cookies_ok_total;   /* valid cookie ACKs: source admitted */
	__u64 syn_cookies_bad_total;  /* ACKs with an invalid cookie, dropped */
	__u64 syn_rst_sent_total;     /* RSTs to admitted sources (their retry connects) */
	__u64 pod_ratelimit_drops_total; /* dropped at a pod's veth by its own limits */
};
PW_STATIC_ASSERT(sizeof(struct pw_dos_stats) == 64, "pw_dos_stats layout");

/*
 * Flood-safe conntrack: while the SYN guard of a pod is active, a new flow
 * from a source not in pw_syn_verified is not given a pw_ct entry (it is
 * answered with a cookie instead), so a spoofed flood cannot evict
 * established flows from the conntrack LRU.
 */

/*
 * Per-pod limits at the pod's veth (TC: pw_to_pod for ingress, pw_from_pod
 * for egress), from the pod's annotations: kubernetes.io/ingress-bandwidth,
 * kubernetes.io/egress-bandwidth, podwall.io/ingress-pps, podwall.io/egress-pps.
 * Policed, not shaped: a packet over the pod's bucket is dropped (reason
 * rate-limited, under the pod's endpoint). Shaping with EDT would need the fq
 * qdisc on every pod veth and delays rather than drops; policing needs no
 * qdisc, keeps no queue a flood could fill, and TCP adapts to the drops.
 * Only allowed packets are charged: what policy drops does not use the
 * pod's budget.
 */
struct pw_pod_limits {
	struct pw_rl_limit dir[PW_DIR_COUNT]; /* [PW_DIR_INGRESS]: into the pod */
};
PW_STATIC_ASSERT(sizeof(struct pw_pod_limits) == 48, "pw_pod_limits layout");

struct pw_pod_bucket_key {
	__u32 ep_id;
	__u32 dir; /* PW_DIR_* */
};
PW_STATIC_ASSERT(sizeof(struct pw_pod_bucket_key) == 8, "pw_pod_bucket_key layout");

#define PW_MAP_POD_LIMITS  "pw_pod_limits"

/*
 * Per-pod connection limit (podwall.io/max-connections). Every conntrack
 * entry of an endpoint holds one slot of pw_conns[ep_id] while its flow is
 * live, in both directions and for every protocol: a TCP connection until
 * both sides sent FIN or one sent RST, other flows until they time out. A
 * new flow that finds the pod's live count at pw_conn_limit[ep_id] is
 * dropped with reason conn-limit and gets no conntrack entry.
 *
 * Slots are taken and released by the datapath with atomics (take on
 * insertion; release on close, expiry, revocation, replacement). Entries
 * can also leave without the datapath seeing it (LRU eviction, the control
 * plane's sweep of expired entries): the sweep (pw_dos_ct_sweep) counts the
 * slots still held and gives back the difference, never more (see there).
 */
struct pw_conn_count {
	__s64 live;	       /* slots held now */
	__u64 taken_total;     /* slots taken by the datapath, ever */
	__u64 released_total;  /* slots released by the datapath, ever */
	__u64 reclaimed_total; /* slots the sweep gave back (entries gone unseen) */
};
PW_STATIC_ASSERT(sizeof(struct pw_conn_count) == 32, "pw_conn_count layout");

#define PW_MAP_CONNS	  "pw_conns"
#define PW_MAP_CONN_LIMIT "pw_conn_limit"
#define PW_MAP_POD_BUCKETS "pw_pod_buckets"

/*
 * pw_bl_used (two-element array of __u32): whether the exact blocklist
 * (index PW_BL_USED_EXACT) and the prefix blocklist (PW_BL_USED_PREFIX) have
 * ever held an entry. Whoever adds an entry (the loader, the datapath's
 * auto-block) first sets its element to 1; nothing clears it. The uplink skips
 * the lookups of a blocklist that was never used, the common case, and can
 * never skip a live entry. One element each, so no writer read-modify-writes
 * another's flag.
 */
#define PW_BL_USED_EXACT  0
#define PW_BL_USED_PREFIX 1
#define PW_MAP_BL_USED	  "pw_bl_used"

#define PW_MAP_BLOCKLIST     "pw_blocklist"
#define PW_MAP_BLOCKLIST_LPM "pw_blocklist_lpm"
#define PW_MAP_RL_SRC	     "pw_rl_src"
#define PW_MAP_RL_POD	     "pw_rl_pod"
#define PW_MAP_SYN_RATE	     "pw_syn_rate"
#define PW_MAP_SYN_VERIFIED  "pw_syn_verified"
#define PW_MAP_DOS_CFG	     "pw_dos_cfg"
#define PW_MAP_DOS_STATS     "pw_dos_stats"
