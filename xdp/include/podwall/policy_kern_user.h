/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Per-pod policy.
 *
 * pw_policy is a HASH_OF_MAPS keyed by endpoint id; each value is that pod's
 * own hash map of struct pw_policy_key -> struct pw_policy_val. A new policy
 * for a pod is written into a fresh inner map and swapped in with one update
 * of the outer map, so no packet ever sees a half-written policy.
 *
 * A new flow is decided by up to six lookups: peer identity in {label
 * identity, CIDR identity, PW_ID_ANY} x protocol in {the packet's, 0 = any}.
 * Each value holds the port ranges (endPort) that rule lines allow or deny for
 * that (peer, direction, protocol); a packet matches a range when lo <= port
 * <= hi. A deny match in any lookup wins over every allow. Hash maps keep the
 * cost flat in the number of entries, where an LPM trie would grow.
 *
 * The entry {PW_ID_ANY, dir, 0, 0} is the pod's per-direction header: its
 * flags say whether a policy isolates the pod in that direction. Without it
 * (or without an inner map) the pod is not isolated in that direction.
 *
 * A (peer, dir, proto) with more than PW_POLICY_RANGES ranges spills the
 * single ports beyond them into entries with dport != 0, each one range wide;
 * PW_POLICY_F_SPILL on the dport == 0 entry tells the datapath to look there.
 */
#pragma once

#include "types.h"

#define PW_POLICY_RANGES 16

#define PW_ACTION_ALLOW 1
#define PW_ACTION_DENY	2

/* Flags of a struct pw_policy_val. */
#define PW_POLICY_F_ISOLATED (1U << 0) /* header entry: a policy selects the pod here */
#define PW_POLICY_F_HAS_DENY (1U << 1) /* header entry: deny entries exist in this direction */
#define PW_POLICY_F_SPILL    (1U << 2) /* exact-port entries with dport != 0 exist */

struct pw_policy_key {
	__u32 identity; /* peer identity or PW_ID_ANY */
	__u8 dir;	/* PW_DIR_INGRESS or PW_DIR_EGRESS */
	__u8 proto;	/* IPPROTO_TCP/UDP/SCTP, or 0 = every protocol (all ports) */
	__u16 dport;	/* host byte order; 0 except for spilled single ports */
};
PW_STATIC_ASSERT(sizeof(struct pw_policy_key) == 8, "pw_policy_key layout");

struct pw_port_range {
	__u16 lo;     /* host byte order, inclusive */
	__u16 hi;     /* host byte order, inclusive */
	__u8 action;  /* PW_ACTION_ALLOW or PW_ACTION_DENY */
	__u8 pad[3];
	__u32 cookie; /* rule attribution: the compiler's (policy, rule) index, 0 = none */
};
PW_STATIC_ASSERT(sizeof(struct pw_port_range) == 12, "pw_port_range layout");

struct pw_policy_val {
	__u8 nranges; /* used entries of r[] */
	__u8 flags;   /* PW_POLICY_F_* */
	__u16 pad;
	__u32 pad2;
	struct pw_port_range r[PW_POLICY_RANGES];
};
PW_STATIC_ASSERT(sizeof(struct pw_policy_val) == 8 + 12 * PW_POLICY_RANGES, "pw_policy_val layout");

#ifndef __bpf__
/* One entry of a pod's policy map, as the compiler produces and the loader installs it. */
struct pw_policy_entry {
	struct pw_policy_key key;
	struct pw_policy_val val;
};
#endif

/* Size of the inner-map template; real inner maps are sized to their content. */
#define PW_POLICY_INNER_MAX 1024

#define PW_MAP_POLICY "pw_policy"

/*
 * Global datapath state (pw_state, one-element array). Any change to the
 * ipcache or any policy bumps policy_epoch; a conntrack entry admitted under
 * an older epoch is re-evaluated on its next packet, so revoking a permission
 * also cuts established flows.
 */
struct pw_state {
	__u32 policy_epoch;
	__u32 flags; /* reserved, 0 */
};
PW_STATIC_ASSERT(sizeof(struct pw_state) == 8, "pw_state layout");

#define PW_MAP_STATE "pw_state"
