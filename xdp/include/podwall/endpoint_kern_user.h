/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Endpoints: the local pods, keyed by the ifindex of their host-side veth
 * (what a TC program sees as skb->ifindex). The TC programs find their pod
 * from the interface, never from a packet's source address, so a pod cannot
 * claim another pod's policy by spoofing.
 */
#pragma once

#include "types.h"

/* The endpoint is ready: its policy (or default deny) is installed. */
#define PW_EP_F_READY (1U << 0)
/* Enforcement for this endpoint is audit-only: would-be drops pass. */
#define PW_EP_F_AUDIT (1U << 1)
/*
 * Verdict logging is off for this endpoint (podwall.io/log-verdicts): no event
 * records for allowed new flows (QUIET_ALLOWED), or for drops and audit-denied
 * flows (QUIET_DENIED). Counters are kept regardless.
 */
#define PW_EP_F_QUIET_ALLOWED (1U << 2)
#define PW_EP_F_QUIET_DENIED  (1U << 3)

struct pw_endpoint {
	__u32 ep_id;	/* 1..PW_MAX_ENDPOINTS-1: key of pw_policy, index of counters */
	__u32 identity; /* the pod's label identity */
	__u32 flags;	/* PW_EP_F_* */
	__u32 pad;
};
PW_STATIC_ASSERT(sizeof(struct pw_endpoint) == 16, "pw_endpoint layout");

#define PW_MAP_ENDPOINTS "pw_endpoints"
