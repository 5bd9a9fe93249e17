/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Control of the uplink DoS guards (podwall/dos_kern_user.h): blocklist,
 * rate limits, SYN guard settings and statistics. Works on the maps pinned
 * under a pin root, so podwallctl, podwalld and the tests share one view and
 * changes take effect on the next packet.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "podwall/ct_kern_user.h"
#include "podwall/dos_kern_user.h"
#include "podwall/ipcache_kern_user.h"
#include "podwall/metrics_kern_user.h"

struct pw_dos;

/** Opens the DoS maps pinned under pin_root (NULL: PW_PIN_ROOT). 0 or -errno. */
int pw_dos_open(struct pw_dos **out, const char *pin_root);
/** NULL-safe; resets *d. */
void pw_dos_free(struct pw_dos **d);

int pw_dos_cfg_read(struct pw_dos *d, struct pw_dos_cfg *cfg);
int pw_dos_cfg_write(struct pw_dos *d, const struct pw_dos_cfg *cfg);

/* One blocklist entry as user space sees it. */
struct pw_bl_entry {
	char cidr[64];	     /* "10.0.0.1" for exact entries, "10.0.0.0/8" for prefixes */
	__u8 owner;	     /* PW_BL_OWNER_* */
	__u8 flags;	     /* PW_BL_F_* */
	__u64 ttl_left_s;    /* 0: never expires */
	bool expired;
};

/**
 * pw_dos_block_add() - block cidr (an address goes to the exact map, a prefix
 * shorter than the family's width to the trie) for ttl_s seconds (0: for
 * ever). Replaces an existing entry for the same key. 0 or -errno (-EINVAL:
 * bad CIDR).
 */
int pw_dos_block_add(struct pw_dos *d, const char *cidr, __u8 owner, __u8 flags, __u32 ttl_s);
/** Removes the entry for exactly cidr. -ENOENT if there is none. */
int pw_dos_block_del(struct pw_dos *d, const char *cidr);
/** Every entry (exact then prefixes) into a malloc()ed array *out of *n; caller frees. */
int pw_dos_block_list(struct pw_dos *d, struct pw_bl_entry **out, size_t *n);
/** Deletes expired entries of both maps; returns how many or -errno. */
int pw_dos_block_sweep(struct pw_dos *d);

/** Per-pod override for endpoint ep_id (1..PW_MAX_ENDPOINTS-1); NULL l removes it. */
int pw_dos_pod_limit_set(struct pw_dos *d, __u32 ep_id, const struct pw_rl_limit *l);
int pw_dos_pod_limit_get(struct pw_dos *d, __u32 ep_id, struct pw_rl_limit *l);

/* The annotations that set a pod's own limits (pw_dos_pod_limits_parse). */
enum {
	PW_POD_ANN_INGRESS_BW,	/* kubernetes.io/ingress-bandwidth: bits/s ("10M") */
	PW_POD_ANN_EGRESS_BW,	/* kubernetes.io/egress-bandwidth */
	PW_POD_ANN_INGRESS_PPS, /* podwall.io/ingress-pps: packets/s ("5k") */
	PW_POD_ANN_EGRESS_PPS,	/* podwall.io/egress-pps */
	_PW_POD_ANN_MAX,
};
const char *pw_dos_pod_ann_name(int i);

/**
 * pw_dos_pod_limits_parse() - the limits that annotation values ann[] (NULL:
 * absent) ask for, with bursts of a tenth of a second of packets (at least
 * 16) and a quarter of a second of bytes (at least 64 KiB). 0, or -EINVAL
 * with a message naming the annotation; *l untouched.
 */
int pw_dos_pod_limits_parse(struct pw_pod_limits *l, const char *const ann[_PW_POD_ANN_MAX],
			    char *errbuf, size_t errlen);
/** A pod's own limits at its veth (TC); NULL or all-zero removes them. Buckets restart full. */
int pw_dos_pod_limits_set(struct pw_dos *d, __u32 ep_id, const struct pw_pod_limits *l);
int pw_dos_pod_limits_get(struct pw_dos *d, __u32 ep_id, struct pw_pod_limits *l);

/*
 * Per-pod connection limits (podwall.io/max-connections) and the live
 * counts behind them (podwall/dos_kern_user.h).
 */
/** Limit for endpoint ep_id (1..PW_MAX_ENDPOINTS-1); 0 = unlimited. Live on the next new flow. */
int pw_dos_conn_limit_set(struct pw_dos *d, __u32 ep_id, __u32 max);
int pw_dos_conn_limit_get(struct pw_dos *d, __u32 ep_id, __u32 *max);
/** The endpoint's connection count as the datapath keeps it. */
int pw_dos_conn_read(struct pw_dos *d, __u32 ep_id, struct pw_conn_count *c);

struct pw_ct_sweep_opts {
	const bool *ep_known; /* [PW_MAX_ENDPOINTS]: entries of others are purged; NULL: keep */
	__u32 established_s;  /* the loader's ct_established_s; 0: the default */
};
struct pw_ct_sweep_result {
	__u64 entries;	 /* conntrack entries seen */
	__u64 deleted;	 /* expired (or of an unknown endpoint), deleted */
	__u64 reclaimed; /* connection slots given back: entries gone without a release */
};
/**
 * pw_dos_ct_sweep() - deletes expired conntrack entries (the datapath only
 * deletes those it meets again) and corrects each endpoint's connection
 * count for entries that left without releasing their slot (deleted here,
 * evicted by the LRU). Never gives back a slot still held. 0 or -errno.
 */
int pw_dos_ct_sweep(struct pw_dos *d, const struct pw_ct_sweep_opts *o,
		    struct pw_ct_sweep_result *r);

/** Packets counted under reason for endpoint ep_id (0: the node), both directions summed. */
int pw_dos_reason_packets(struct pw_dos *d, __u32 ep_id, __u32 reason, __u64 *pkts);

/** Sums the per-CPU statistics. */
int pw_dos_stats_read(struct pw_dos *d, struct pw_dos_stats *sum);

/* A source bucket, for top talkers. */
struct pw_rl_talker {
	struct pw_rl_key key;
	struct pw_rl_bucket b;
};
/** Up to n sources with the most dropped packets, most first; returns the count or -errno. */
int pw_dos_top_talkers(struct pw_dos *d, struct pw_rl_talker *out, size_t n);

/* Syn guard states per (endpoint, port), for status. */
struct pw_syn_entry {
	struct pw_syn_key key;
	struct pw_syn_state st;
	bool active;
};
int pw_dos_syn_list(struct pw_dos *d, struct pw_syn_entry *out, size_t n);

/** CLOCK_MONOTONIC_COARSE in ns: the datapath's clock. */
__u64 pw_dos_now_ns(void);

/*
 * Value parsers for flags, the config file and the CLI. Each refuses 0,
 * negative numbers, garbage and unknown units with -EINVAL and, when errbuf
 * is not NULL, a message naming what was wrong.
 *
 * pw_dos_parse_pps: "1000", "10k", "2M" (packets per second, SI suffixes).
 * pw_dos_parse_bandwidth: "100Mbit", "1Gbit", "800kbit", "10MB", "500kB",
 * "64B" (bit units as in tc and the Kubernetes bandwidth annotations, byte
 * units B/kB/MB/GB; SI) -> bytes per second.
 * pw_dos_parse_duration: "30s", "5m", "2h", "1d", "250ms" -> milliseconds.
 */
int pw_dos_parse_pps(const char *s, __u64 *out, char *errbuf, size_t errlen);
int pw_dos_parse_bandwidth(const char *s, __u64 *bytes_per_s, char *errbuf, size_t errlen);
int pw_dos_parse_duration(const char *s, __u64 *ms, char *errbuf, size_t errlen);
int pw_dos_parse_count(const char *s, __u64 *out, char *errbuf, size_t errlen);

const char *pw_bl_owner_name(__u8 owner);
/** "operator", "ips", "auto" -> PW_BL_OWNER_*; -EINVAL otherwise. */
int pw_bl_owner_parse(const char *s);
