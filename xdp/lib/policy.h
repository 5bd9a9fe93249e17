/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Policy evaluation of a new flow against the endpoint's own policy map; the
 * algorithm is the one documented in podwall/policy_kern_user.h, and
 * control/policy/eval.c implements the same steps for the offline tools.
 */
#pragma once

#include "ipcache.h"
#include "maps.h"
#include "parse.h"

#include "podwall/verdict.h"

struct pw_policy_result {
	__u32 reason; /* PW_REASON_* */
	__u32 cookie; /* rule that decided, 0 if none */
};

/*
 * Scans one entry's ranges for port. Returns (cookie << 32) | action, action
 * being PW_ACTION_DENY (first deny), PW_ACTION_ALLOW (first allow) or 0.
 * Global, so the verifier walks its sixteen iterations once, not once per
 * probe and caller state.
 */
__noinline __u64 pw_policy_scan(const struct pw_policy_val *v, __u32 port)
{
	__u64 allow = 0;
	int i;

	if (!v)
		return 0;
	for (i = 0; i < PW_POLICY_RANGES; i++) {
		const struct pw_port_range *r = &v->r[i];

		if (i >= v->nranges)
			break;
		if (port < r->lo || port > r->hi)
			continue;
		if (r->action == PW_ACTION_DENY)
			return ((__u64)r->cookie << 32) | PW_ACTION_DENY;
		if (!allow)
			allow = ((__u64)r->cookie << 32) | PW_ACTION_ALLOW;
	}
	return allow;
}

/*
 * Looks up one (identity, proto) key and its spilled single port. Returns
 * like pw_policy_scan().
 */
PW_ALWAYS_INLINE __u64 pw_policy_probe(void *inner, const struct pw_policy_val *hdr, __u32 id,
				       __u8 dir, __u8 proto, __u16 port)
{
	struct pw_policy_key key = {.identity = id, .dir = dir, .proto = proto};
	const struct pw_policy_val *v;
	__u64 res, spill;

	v = (id == PW_ID_ANY && proto == 0) ? hdr : bpf_map_lookup_elem(inner, &key);
	if (!v)
		return 0;
	res = pw_policy_scan(v, port);
	if ((res & 0xff) == PW_ACTION_DENY || !(v->flags & PW_POLICY_F_SPILL))
		return res;
	key.dport = port;
	spill = pw_policy_scan(bpf_map_lookup_elem(inner, &key), port);
	if ((spill & 0xff) == PW_ACTION_DENY || !(res & 0xff))
		return spill;
	return res;
}

/*
 * Decides a new flow of endpoint ep_id in direction dir with a peer of the
 * given identities, protocol and destination port (host order; 0 for ICMP).
 * Returns (cookie << 32) | reason.
 *
 * A global function: the verifier checks it once, on its own, instead of
 * once per call site and caller state; inlined, its six probes of sixteen
 * ranges multiply with the rest of the program past the verifier's limit.
 * Hence scalar arguments only, at most five: dir_proto is dir | proto << 8.
 */
__noinline __u64 pw_policy_verdict(__u32 ep_id, __u32 peer_id, __u32 peer_cidr_id,
				   __u32 dir_proto, __u32 dport)
{
	__u32 dir = dir_proto & 0xff, proto = (dir_proto >> 8) & 0xff;
	struct pw_policy_key hkey = {.identity = PW_ID_ANY, .dir = dir};
	__u32 cookie = 0, ids[3];
	const struct pw_policy_val *hdr;
	int i, j, allowed = 0;
	__u64 act;
	void *inner;

	if (dir == PW_DIR_INGRESS && peer_id == PW_ID_HOST && pw_cfg_allow_host)
		return PW_REASON_ALLOW_HOST;
	inner = bpf_map_lookup_elem(&pw_policy, &ep_id);
	if (!inner)
		return PW_REASON_ALLOW_UNISOLATED;
	hdr = bpf_map_lookup_elem(inner, &hkey);
	if (!hdr || !(hdr->flags & (PW_POLICY_F_ISOLATED | PW_POLICY_F_HAS_DENY)))
		return PW_REASON_ALLOW_UNISOLATED;

	ids[0] = peer_id;
	ids[1] = peer_cidr_id;
	ids[2] = PW_ID_ANY;
	for (i = 0; i < 3; i++) {
		if (i == 1 && (ids[1] == 0 || ids[1] == ids[0]))
			continue;
		for (j = 0; j < 2; j++) {
			__u8 p = j == 0 ? proto : 0;

			if (j == 0 && proto == 0)
				continue;
			act = pw_policy_probe(inner, hdr, ids[i], dir, p, dport);
			if ((act & 0xff) == PW_ACTION_DENY)
				return (act & ~0xffULL) |
				       (dir == PW_DIR_INGRESS ? PW_REASON_DROP_POLICY_INGRESS :
								PW_REASON_DROP_POLICY_EGRESS);
			if ((act & 0xff) == PW_ACTION_ALLOW && !allowed) {
				allowed = 1;
				cookie = act >> 32;
			}
		}
	}
	if (allowed)
		return ((__u64)cookie << 32) | PW_REASON_ALLOW_POLICY;
	if (hdr->flags & PW_POLICY_F_ISOLATED)
		return dir == PW_DIR_INGRESS ? PW_REASON_DROP_POLICY_INGRESS :
					       PW_REASON_DROP_POLICY_EGRESS;
	return PW_REASON_ALLOW_UNISOLATED;
}

PW_ALWAYS_INLINE void pw_policy_eval(__u32 ep_id, __u8 dir, const struct pw_ipcache_val *peer,
			      __u8 proto, __u16 dport, struct pw_policy_result *res)
{
	__u64 v = pw_policy_verdict(ep_id, peer->identity, peer->cidr_identity,
				    dir | (__u32)proto << 8, dport);

	res->reason = (__u32)v;
	res->cookie = v >> 32;
}
