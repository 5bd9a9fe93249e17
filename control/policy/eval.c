// SPDX-License-Identifier: GPL-2.0-only
/*
 * The datapath's policy decision, step for step, over the compiled output.
 * The BPF program implements the same algorithm on the same entries; every
 * offline tool decides through this file (or a BPF_PROG_TEST_RUN-backed
 * struct pw_evaluator), so a tool can never disagree with enforcement.
 */
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int pw_policy_key_cmp(const struct pw_policy_key *a, const struct pw_policy_key *b);

static const struct pw_policy_val *lookup(const struct pw_endpoint_view *ep, uint32_t id, int dir,
					  uint8_t proto, uint16_t dport)
{
	struct pw_policy_key k = {
		.identity = id, .dir = (uint8_t)dir, .proto = proto, .dport = dport
	};
	size_t lo = 0, hi = ep->nentries;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = pw_policy_key_cmp(&k, &ep->entries[mid].key);

		if (!c)
			return &ep->entries[mid].val;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Scans one value; returns true on a deny (decided). */
static bool scan(const struct pw_policy_val *v, uint16_t dport, uint32_t *allow_cookie,
		 bool *allowed, uint32_t *deny_cookie)
{
	unsigned int n = v->nranges < PW_POLICY_RANGES ? v->nranges : PW_POLICY_RANGES;

	for (unsigned int i = 0; i < n; i++) {
		const struct pw_port_range *r = &v->r[i];

		if (dport < r->lo || dport > r->hi)
			continue;
		if (r->action == PW_ACTION_DENY) {
			*deny_cookie = r->cookie;
			return true;
		}
		if (r->action == PW_ACTION_ALLOW && !*allowed) {
			*allowed = true;
			*allow_cookie = r->cookie;
		}
	}
	return false;
}

void pw_policy_eval(const struct pw_policy_db *db, const struct pw_endpoint_view *ep, int dir,
		    const struct pw_addr *peer_addr, uint8_t proto, uint16_t dport, bool allow_host,
		    struct pw_verdict *out)
{
	struct pw_ipcache_val peer = pw_policy_lookup(db, peer_addr);
	enum pw_reason drop = dir == PW_DIR_INGRESS ? PW_REASON_DROP_POLICY_INGRESS :
						      PW_REASON_DROP_POLICY_EGRESS;
	const struct pw_policy_val *hdr;
	uint32_t ids[3], allow_cookie = 0, deny_cookie = 0;
	uint8_t protos[2] = { proto, 0 };
	size_t nids = 0;
	bool allowed = false, isolated;

	out->cookie = 0;
	if (dir == PW_DIR_INGRESS && peer.identity == PW_ID_HOST && allow_host) {
		out->reason = PW_REASON_ALLOW_HOST;
		return;
	}
	hdr = ep ? lookup(ep, PW_ID_ANY, dir, 0, 0) : NULL;
	if (!hdr ||
	    (!(hdr->flags & PW_POLICY_F_ISOLATED) && !(hdr->flags & PW_POLICY_F_HAS_DENY))) {
		out->reason = PW_REASON_ALLOW_UNISOLATED;
		return;
	}
	isolated = hdr->flags & PW_POLICY_F_ISOLATED;
	ids[nids++] = peer.identity;
	if (peer.cidr_identity && peer.cidr_identity != peer.identity)
		ids[nids++] = peer.cidr_identity;
	ids[nids++] = PW_ID_ANY;
	for (size_t i = 0; i < nids; i++) {
		for (int p = 0; p < 2; p++) {
			const struct pw_policy_val *v;

			/* Protocol 0 (ICMP etc.): the second pass would repeat the first. */
			if (p == 1 && protos[0] == 0)
				continue;
			v = lookup(ep, ids[i], dir, protos[p], 0);
			if (!v)
				continue;
			if (scan(v, dport, &allow_cookie, &allowed, &deny_cookie))
				goto deny;
			if (v->flags & PW_POLICY_F_SPILL) {
				const struct pw_policy_val *s =
					lookup(ep, ids[i], dir, protos[p], dport);

				if (s && dport &&
				    scan(s, dport, &allow_cookie, &allowed, &deny_cookie))
					goto deny;
			}
		}
	}
	if (allowed) {
		out->reason = PW_REASON_ALLOW_POLICY;
		out->cookie = allow_cookie;
	} else {
		out->reason = isolated ? drop : PW_REASON_ALLOW_UNISOLATED;
	}
	return;
deny:
	out->reason = drop;
	out->cookie = deny_cookie;
}

static void default_eval(void *ctx, const struct pw_policy_db *db,
			 const struct pw_endpoint_view *ep, int dir, const struct pw_addr *peer,
			 uint8_t proto, uint16_t dport, struct pw_verdict *out)
{
	(void)ctx;
	pw_policy_eval(db, ep, dir, peer, proto, dport, true, out);
}

const struct pw_evaluator pw_evaluator_default = {
	.eval = default_eval,
	.allow_host = true,
};

/* The local endpoint that owns an address, if any. */
static const struct pw_endpoint_view *ep_of(const struct pw_policy_db *db, const struct pw_addr *a)
{
	struct pw_pod_view *pods;
	size_t n = pw_policy_db_pods(db, &pods);

	for (size_t i = 0; i < n; i++) {
		if (!pods[i].local)
			continue;
		for (size_t k = 0; k < pods[i].nips; k++)
			if (!memcmp(&pods[i].ips[k], a, sizeof(*a)))
				return pw_policy_db_endpoint(db, pods[i].ns, pods[i].name);
	}
	return NULL;
}

void pw_policy_probe(const struct pw_policy_db *db, const struct pw_evaluator *ev,
		     const struct pw_addr *src, const struct pw_addr *dst, uint8_t proto,
		     uint16_t dport, struct pw_probe_result *out)
{
	const struct pw_endpoint_view *sep = ep_of(db, src), *dep = ep_of(db, dst);

	if (!ev)
		ev = &pw_evaluator_default;
	memset(out, 0, sizeof(*out));
	out->allowed = true;
	out->decided_dir = -1;
	if (sep) {
		out->has_egress = true;
		ev->eval(ev->ctx, db, sep, PW_DIR_EGRESS, dst, proto, dport, &out->egress);
		out->decided_dir = PW_DIR_EGRESS;
		if (pw_reason_is_drop(out->egress.reason))
			out->allowed = false;
	}
	if (dep) {
		out->has_ingress = true;
		ev->eval(ev->ctx, db, dep, PW_DIR_INGRESS, src, proto, dport, &out->ingress);
		if (out->allowed)
			out->decided_dir = PW_DIR_INGRESS;
		if (pw_reason_is_drop(out->ingress.reason))
			out->allowed = false;
	}
}
