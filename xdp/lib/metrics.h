/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#pragma once

#include "maps.h"

/* Counts one packet under (endpoint, direction, reason). */
PW_INLINE void pw_count(__u32 ep_id, __u32 dir, __u32 reason, __u32 len)
{
	__u32 idx;
	struct pw_counter *c;

	if (ep_id >= PW_MAX_ENDPOINTS || dir >= PW_DIR_COUNT || reason >= PW_REASON_SLOTS)
		return;
	idx = pw_counter_index(ep_id, dir, reason);
	c = bpf_map_lookup_elem(&pw_counters, &idx);
	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

/* Counts a new flow decided by the rule with this cookie (podwallctl policy show). */
PW_INLINE void pw_rule_hit(__u32 cookie)
{
	__u64 *n;

	if (!cookie || cookie >= PW_RULE_HITS_MAX)
		return;
	n = bpf_map_lookup_elem(&pw_rule_hits, &cookie);
	if (n)
		(*n)++;
}

PW_INLINE struct pw_stats *pw_stats_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&pw_stats, &zero);
}
