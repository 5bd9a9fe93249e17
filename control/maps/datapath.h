/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The datapath loader: loads the BPF objects, pins maps and programs under a
 * pin root, attaches them to interfaces, and writes the maps. Used by
 * podwalld, podwallctl and the tests.
 *
 * Pinned state outlives the process: pw_datapath_free() closes file
 * descriptors but leaves maps, programs and attachments in place, so the
 * datapath keeps enforcing while the daemon is down; the next
 * pw_datapath_open() on the same pin root re-adopts the maps and atomically
 * replaces the programs. pw_datapath_unpin() removes everything.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "podwall/ct_kern_user.h"
#include "podwall/endpoint_kern_user.h"
#include "podwall/ipcache_kern_user.h"
#include "podwall/metrics_kern_user.h"
#include "podwall/policy_kern_user.h"

struct pw_datapath;

struct pw_datapath_opts {
	const char *pin_root;	 /* NULL: PW_PIN_ROOT */
	bool deny_host;		 /* don't let the node reach its pods unconditionally */
	__u32 events_per_sec;	 /* per CPU; 0: the objects' default */
	__u32 ct_established_s;	 /* 0: the objects' default */
};

enum pw_prog {
	PW_PROG_FROM_POD,
	PW_PROG_TO_POD,
	PW_PROG_NODE_XDP,
	_PW_PROG_MAX,
};

enum pw_map {
	PW_MAP_ID_IPCACHE_HOST,
	PW_MAP_ID_IPCACHE,
	PW_MAP_ID_ENDPOINTS,
	PW_MAP_ID_POLICY,
	PW_MAP_ID_STATE,
	PW_MAP_ID_CT,
	PW_MAP_ID_FRAG,
	PW_MAP_ID_COUNTERS,
	PW_MAP_ID_STATS,
	PW_MAP_ID_EVENTS,
	PW_MAP_ID_RULE_HITS,
	_PW_MAP_ID_MAX,
};

/* XDP attach modes, as xdp-tools names them. */
enum pw_xdp_mode {
	PW_XDP_MODE_AUTO, /* native if the driver supports it, else generic */
	PW_XDP_MODE_NATIVE,
	PW_XDP_MODE_SKB,
};

/**
 * pw_datapath_open() - load (or re-adopt) the datapath under opts->pin_root.
 * Returns 0 and *out, or -errno with *out untouched.
 */
int pw_datapath_open(struct pw_datapath **out, const struct pw_datapath_opts *opts);

/** Closes descriptors; pins and attachments stay. NULL-safe; resets *dp. */
void pw_datapath_free(struct pw_datapath **dp);

/** Removes every pin under pin_root (NULL: PW_PIN_ROOT). Attachments stay until detached. */
int pw_datapath_unpin(const char *pin_root);

const char *pw_datapath_pin_root(const struct pw_datapath *dp);
int pw_datapath_prog_fd(const struct pw_datapath *dp, enum pw_prog prog);
int pw_datapath_map_fd(const struct pw_datapath *dp, enum pw_map map);

/** Attaches pw_from_pod/pw_to_pod to a pod's host-side veth (clsact ingress/egress). */
int pw_datapath_attach_pod(struct pw_datapath *dp, int ifindex);
int pw_datapath_detach_pod(struct pw_datapath *dp, int ifindex);
/** Is a podwall program attached to both TC hooks of ifindex? 1, 0, or -errno. */
int pw_datapath_pod_attached(struct pw_datapath *dp, int ifindex);

/** Attaches pw_node_xdp to an uplink; *used (may be NULL) tells which mode took. */
int pw_datapath_attach_uplink(struct pw_datapath *dp, int ifindex, enum pw_xdp_mode mode,
			      enum pw_xdp_mode *used);
int pw_datapath_detach_uplink(struct pw_datapath *dp, int ifindex);

/* Map writers. All return 0 or -errno. */
int pw_dp_endpoint_put(struct pw_datapath *dp, __u32 ifindex, const struct pw_endpoint *ep);
int pw_dp_endpoint_get(struct pw_datapath *dp, __u32 ifindex, struct pw_endpoint *ep);
int pw_dp_endpoint_del(struct pw_datapath *dp, __u32 ifindex);
int pw_dp_host_put(struct pw_datapath *dp, const struct pw_host_key *k,
		   const struct pw_ipcache_val *v);
int pw_dp_host_del(struct pw_datapath *dp, const struct pw_host_key *k);
int pw_dp_lpm_put(struct pw_datapath *dp, const struct pw_lpm_key *k,
		  const struct pw_ipcache_val *v);
int pw_dp_lpm_del(struct pw_datapath *dp, const struct pw_lpm_key *k);

/**
 * pw_dp_policy_replace() - give endpoint ep_id a whole new policy: a fresh
 * inner map sized to n is filled and then swapped in with one update of
 * pw_policy, so packets see the old policy or the new one, never a mix.
 */
int pw_dp_policy_replace(struct pw_datapath *dp, __u32 ep_id, const struct pw_policy_entry *e,
			 size_t n);
/**
 * pw_dp_policy_build() - the first half of a replace: a fresh inner map for
 * ep_id holding e[0..n). Returns its fd (the caller owns it) or -errno.
 */
int pw_dp_policy_build(struct pw_datapath *dp, __u32 ep_id, const struct pw_policy_entry *e,
		       size_t n);
/**
 * pw_dp_policy_swap() - the second half, for many endpoints at once: installs
 * fds[i] as the policy map of ep_ids[i] in one batch update of pw_policy (one
 * RCU grace period for all of them, where single updates wait one each).
 * swapped[i] says which went in; returns 0 or the first -errno. The fds stay
 * the caller's to close (pw_policy holds its own reference).
 */
int pw_dp_policy_swap(struct pw_datapath *dp, const __u32 *ep_ids, const int *fds, size_t n,
		      bool *swapped);
/** Removes the endpoint's policy map: the endpoint is then isolated in no direction. */
int pw_dp_policy_delete(struct pw_datapath *dp, __u32 ep_id);

/** Bumps the policy epoch so admitted flows are re-evaluated; *epoch may be NULL. */
int pw_dp_epoch_bump(struct pw_datapath *dp, __u32 *epoch);

/** Sums a counter over all CPUs. */
int pw_dp_counter_read(struct pw_datapath *dp, __u32 ep_id, __u32 dir, __u32 reason,
		       struct pw_counter *sum);
/** Zeroes every counter of one endpoint (when its id is reused). */
int pw_dp_counters_clear(struct pw_datapath *dp, __u32 ep_id);
int pw_dp_stats_read(struct pw_datapath *dp, struct pw_stats *sum);
/** New flows the rule with this cookie decided, summed over CPUs; -ERANGE past the map. */
int pw_dp_rule_hits_read(struct pw_datapath *dp, __u32 cookie, __u64 *sum);
/** Zeroes every rule's hit counter (cookies are renumbered at daemon start). */
int pw_dp_rule_hits_clear(struct pw_datapath *dp);

/** Helpers to build keys from text ("10.0.0.1", "fd00::/64"). 0 or -EINVAL. */
int pw_host_key_parse(struct pw_host_key *k, const char *addr);
int pw_lpm_key_parse(struct pw_lpm_key *k, const char *cidr);
