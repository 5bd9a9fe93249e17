/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one verdict/reason enum. Every packet the datapath decides on is
 * counted under exactly one of these; metrics, event records, pcap notes and
 * --json output all use the same numbers and names.
 */
#pragma once

#include "types.h"

enum pw_reason {
	/* Passed. */
	PW_REASON_ALLOW_POLICY = 0,	/* a policy rule allowed the new flow */
	PW_REASON_ALLOW_UNISOLATED,	/* no policy selects the pod in this direction */
	PW_REASON_ALLOW_ESTABLISHED,	/* packet or reply of an admitted flow */
	PW_REASON_ALLOW_RELATED,	/* ICMP error about an admitted flow */
	PW_REASON_ALLOW_HOST,		/* from the node itself (kubelet probes) */
	PW_REASON_ALLOW_NEIGH,		/* ARP, IPv6 neighbour discovery, non-IP */
	PW_REASON_ALLOW_FRAGMENT,	/* later fragment of an admitted datagram */
	PW_REASON_ALLOW_NOT_LOCAL,	/* uplink traffic not addressed to a local pod */
	PW_REASON_ALLOW_AUDIT,		/* would be denied, but enforcement is audit-only */
	/* Dropped. Everything from here on is a drop. */
	PW_REASON_DROP_POLICY_INGRESS,	/* ingress not allowed (or a deny rule matched) */
	PW_REASON_DROP_POLICY_EGRESS,	/* egress not allowed (or a deny rule matched) */
	PW_REASON_DROP_NOT_READY,	/* endpoint unknown or its policy not installed yet */
	PW_REASON_DROP_MALFORMED,	/* truncated or invalid headers */
	PW_REASON_DROP_FRAGMENT,	/* later fragment with no admitted first fragment */
	PW_REASON_DROP_RATE_LIMITED,	/* over a rate limit */
	PW_REASON_DROP_BLOCKLISTED,	/* source on a blocklist */
	PW_REASON_DROP_IPS_BLOCKED,	/* flow or source blocked by the IPS */
	PW_REASON_DROP_CT_INVALID,	/* TCP packet that cannot start or continue a flow */
	PW_REASON_DROP_CONN_LIMIT,	/* new flow over the pod's podwall.io/max-connections */
	_PW_REASON_MAX,
};

/*
 * Counters reserve a fixed number of reason slots so that adding a reason
 * does not change the layout of pinned maps.
 */
#define PW_REASON_SLOTS 32
PW_STATIC_ASSERT(_PW_REASON_MAX <= PW_REASON_SLOTS, "reason slots exhausted");

#define PW_REASON_FIRST_DROP PW_REASON_DROP_POLICY_INGRESS

static inline int pw_reason_is_drop(unsigned int reason)
{
	return reason >= PW_REASON_FIRST_DROP;
}

#ifndef __bpf__
/* Stable lower-case names, used as metric labels and in JSON. */
static const char *const pw_reason_names[] = {
	[PW_REASON_ALLOW_POLICY] = "allow-policy",
	[PW_REASON_ALLOW_UNISOLATED] = "allow-unisolated",
	[PW_REASON_ALLOW_ESTABLISHED] = "allow-established",
	[PW_REASON_ALLOW_RELATED] = "allow-related",
	[PW_REASON_ALLOW_HOST] = "allow-host",
	[PW_REASON_ALLOW_NEIGH] = "allow-neigh",
	[PW_REASON_ALLOW_FRAGMENT] = "allow-fragment",
	[PW_REASON_ALLOW_NOT_LOCAL] = "allow-not-local",
	[PW_REASON_ALLOW_AUDIT] = "audit-denied",
	[PW_REASON_DROP_POLICY_INGRESS] = "policy-denied-ingress",
	[PW_REASON_DROP_POLICY_EGRESS] = "policy-denied-egress",
	[PW_REASON_DROP_NOT_READY] = "not-ready",
	[PW_REASON_DROP_MALFORMED] = "malformed",
	[PW_REASON_DROP_FRAGMENT] = "unsupported-fragment",
	[PW_REASON_DROP_RATE_LIMITED] = "rate-limited",
	[PW_REASON_DROP_BLOCKLISTED] = "blocklisted",
	[PW_REASON_DROP_IPS_BLOCKED] = "ips-blocked",
	[PW_REASON_DROP_CT_INVALID] = "ct-invalid",
	[PW_REASON_DROP_CONN_LIMIT] = "conn-limit",
};
PW_STATIC_ASSERT(sizeof(pw_reason_names) / sizeof(pw_reason_names[0]) == _PW_REASON_MAX,
		 "every reason needs a name");

static inline const char *pw_reason_name(unsigned int reason)
{
	return reason < _PW_REASON_MAX ? pw_reason_names[reason] : "unknown";
}
#endif
