/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every map of the datapath. Each object includes this once; all maps are
 * pinned by name under the loader's pin root, so pw_tc and pw_xdp share one
 * set of maps and a restarted daemon re-adopts them.
 */
#pragma once

#include "ctx.h"

#include "podwall/ct_kern_user.h"
#include "podwall/endpoint_kern_user.h"
#include "podwall/ips_kern_user.h"
#include "podwall/ipcache_kern_user.h"
#include "podwall/metrics_kern_user.h"
#include "podwall/policy_kern_user.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PW_IPCACHE_HOST_MAX);
	__type(key, struct pw_host_key);
	__type(value, struct pw_ipcache_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_ipcache_host SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PW_IPCACHE_LPM_MAX);
	__type(key, struct pw_lpm_key);
	__type(value, struct pw_ipcache_val);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* required for LPM tries */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_ipcache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PW_MAX_ENDPOINTS);
	__type(key, __u32); /* host-side ifindex */
	__type(value, struct pw_endpoint);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_endpoints SEC(".maps");

/*
 * Inner maps are plain (preallocated) hashes. The kernel compares an inner
 * map's type, key/value size and flags with this template but not its
 * max_entries, so each pod's map is sized to its policy.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, PW_MAX_ENDPOINTS);
	__type(key, __u32); /* endpoint id */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(max_entries, PW_POLICY_INNER_MAX);
		/* Sizes, not BTF types: clang emits only a forward declaration
		 * for types first seen inside __array(), which libbpf rejects. */
		__uint(key_size, sizeof(struct pw_policy_key));
		__uint(value_size, sizeof(struct pw_policy_val));
	});
} pw_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_CT_MAX);
	__type(key, struct pw_ct_key);
	__type(value, struct pw_ct_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_FRAG_MAX);
	__type(key, struct pw_frag_key);
	__type(value, struct pw_frag_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_frag SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PW_COUNTERS_MAX);
	__type(key, __u32);
	__type(value, struct pw_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PW_RULE_HITS_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_rule_hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PW_EVENTS_RINGBUF_SIZE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_events SEC(".maps");

/* Per-CPU token bucket for event output (not shared state: not pinned). */
struct pw_event_bucket {
	__u64 tokens; /* scaled by 1e9: one event = 1e9 */
	__u64 last_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_event_bucket);
} pw_event_bucket SEC(".maps");

/* Runtime configuration, set by the loader through skel->rodata. */
const volatile __u8 pw_cfg_allow_host = 1;	   /* node -> its pods always allowed */
const volatile __u32 pw_cfg_ct_syn_s = PW_CT_DEFAULT_SYN_S;
const volatile __u32 pw_cfg_ct_established_s = PW_CT_DEFAULT_ESTABLISHED_S;
const volatile __u32 pw_cfg_ct_close_s = PW_CT_DEFAULT_CLOSE_S;
const volatile __u32 pw_cfg_ct_other_s = PW_CT_DEFAULT_OTHER_S;
const volatile __u32 pw_cfg_events_per_sec = 2000; /* per CPU; 0 = no events */

/* DoS guards of the uplink (xdp/lib/dos.h, podwall/dos_kern_user.h). */
#include "podwall/dos_kern_user.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PW_BLOCKLIST_MAX);
	__type(key, struct pw_host_key);
	__type(value, struct pw_bl_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_blocklist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PW_BLOCKLIST_LPM_MAX);
	__type(key, struct pw_lpm_key);
	__type(value, struct pw_bl_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_blocklist_lpm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_bl_used SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_RL_SRC_MAX);
	__type(key, struct pw_rl_key);
	__type(value, struct pw_rl_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_rl_src SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PW_RL_POD_MAX);
	__type(key, __u32); /* endpoint id */
	__type(value, struct pw_rl_limit);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_rl_pod SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_SYN_RATE_MAX);
	__type(key, struct pw_syn_key);
	__type(value, struct pw_syn_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_syn_rate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_SYN_VERIFIED_MAX);
	__type(key, struct pw_host_key);
	__type(value, __u64); /* expiry */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_syn_verified SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_dos_cfg);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_dos_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_dos_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_dos_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PW_MAX_ENDPOINTS);
	__type(key, __u32); /* endpoint id */
	__type(value, struct pw_pod_limits);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_pod_limits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PW_MAX_ENDPOINTS * PW_DIR_COUNT);
	__type(key, struct pw_pod_bucket_key);
	__type(value, struct pw_rl_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_pod_buckets SEC(".maps");

/* The IPS: flow samples and block verdicts (podwall/ips_kern_user.h). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PW_SAMPLES_RINGBUF_SIZE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_samples SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_sample_cfg);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_sample_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_SAMPLE_FLOWS_MAX);
	__type(key, struct pw_ct_key);
	__type(value, struct pw_sample_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_sample_flows SEC(".maps");

/* Per-CPU token bucket for samples (not shared state: not pinned). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_event_bucket);
} pw_sample_bucket SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PW_IPS_FLOWS_MAX);
	__type(key, struct pw_ips_key);
	__type(value, struct pw_ips_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_ips_flows SEC(".maps");

/* [0] != 0 once the daemon wrote a flow block: until then no packet pays the lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_ips_used SEC(".maps");

/* Per-pod connection counts (mmapable: user space corrects them with atomics). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PW_MAX_ENDPOINTS);
	__type(key, __u32); /* endpoint id */
	__type(value, struct pw_conn_count);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PW_MAX_ENDPOINTS);
	__type(key, __u32);   /* endpoint id */
	__type(value, __u32); /* podwall.io/max-connections; 0 = unlimited */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pw_conn_limit SEC(".maps");
