// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * XDP on the node's uplinks: traffic for a local pod is decided here, with
 * that pod's conntrack and ingress policy, so denied packets die before an
 * skb exists. Everything else passes on to the stack.
 *
 * Allowed packets for a pod are counted when pw_to_pod delivers them, so a
 * packet is counted once; this program counts what it drops and what it
 * passes for no local pod (endpoint 0).
 */
#include "lib/dos.h"
#include "lib/ips.h"
#include "lib/verdict.h"

char _license[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int pw_node_xdp(struct xdp_md *ctx)
{
	struct pw_decision d = {};
	struct pw_ipcache_val *dst;
	struct pw_flow f = {};
	struct pw_endpoint *ep = NULL;
	__u32 ep_id = 0, len;
	int ret, exempt;

	len = ctx->data_end - ctx->data;
	ret = pw_parse_xdp(ctx, &f);
	if (ret == PW_PARSE_NOT_IP)
		return XDP_PASS;
	if (ret == PW_PARSE_MALFORMED) {
		d.reason = PW_REASON_DROP_MALFORMED;
		goto drop;
	}

	/*
	 * The DoS guards (podwall/dos_kern_user.h) run here, on every IP packet,
	 * before per-pod state. The blocklist goes first and alone: a blocked
	 * flood costs two lookups and nothing else. Neighbour discovery is
	 * exempt, so a rate limit cannot cut the node off its own link.
	 */
	if (pw_ips_check(&f)) {
		d.reason = PW_REASON_DROP_IPS_BLOCKED;
		goto dos_drop;
	}
	ret = pw_dos_blocklist_check(&f);
	if (ret > 0) {
		d.reason = ret;
		goto dos_drop;
	}
	exempt = ret < 0;
	dst = pw_ipcache_host_lookup(f.family, f.t.daddr);
	if (dst && dst->ep_ifindex) {
		ep = bpf_map_lookup_elem(&pw_endpoints, &dst->ep_ifindex);
		if (ep)
			ep_id = ep->ep_id;
	}
	d.reason = exempt ? 0 : pw_dos_ratelimit_check(&f, ep_id, len);
	if (d.reason)
		goto dos_drop;
	if (ep_id && !exempt && f.t.proto == PW_IPPROTO_TCP) {
		ret = pw_syn_guard(ctx, &f, ep_id);
		if (ret >= 0)
			return ret;
	}

	if (!dst || !dst->ep_ifindex) {
		pw_count(0, PW_DIR_INGRESS, PW_REASON_ALLOW_NOT_LOCAL, len);
		return XDP_PASS;
	}
	if (!ep || !(ep->flags & PW_EP_F_READY)) {
		if (f.neigh)
			return XDP_PASS;
		d.reason = PW_REASON_DROP_NOT_READY;
		goto drop;
	}
	pw_decide(&f, ep_id, ep->flags, PW_DIR_INGRESS, &d);
	if (pw_reason_is_drop(d.reason))
		goto drop;
	if (d.new_flow) {
		if (pw_event_wanted(ep->flags, d.reason))
			pw_event_emit(PW_EVENT_VERDICT, d.reason, PW_DIR_INGRESS, ep_id,
				      ctx->ingress_ifindex, d.cookie, d.peer_id, &f, len);
		/*
		 * pw_to_pod sees this flow as established: start its sampling
		 * here, and let pw_to_pod copy the packets (this one too).
		 */
		pw_sample_want(&f, ep_id, PW_DIR_INGRESS,
			       d.reason | PW_SW_NEW_FLOW | PW_SW_CREATE_ONLY, len);
	}
	return XDP_PASS;

drop:
	pw_count(ep_id, PW_DIR_INGRESS, d.reason, len);
	if (pw_event_wanted(ep ? ep->flags : 0, d.reason))
		pw_event_emit(PW_EVENT_DROP, d.reason, PW_DIR_INGRESS, ep_id,
			      ctx->ingress_ifindex, d.cookie, d.peer_id, &f, len);
	pw_sample_xdp(ctx, &f, ep_id, d.reason, len);
	return XDP_DROP;

dos_drop:
	/* Under endpoint 0: see podwall/dos_kern_user.h. */
	{
		struct pw_dos_stats *ds = pw_dos_stats_get();

		if (ds) {
			if (d.reason == PW_REASON_DROP_BLOCKLISTED)
				ds->blocklist_drops_total++;
			else if (d.reason == PW_REASON_DROP_RATE_LIMITED)
				ds->ratelimit_drops_total++;
		}
	}
	pw_count(0, PW_DIR_INGRESS, d.reason, len);
	pw_event_emit(PW_EVENT_DROP, d.reason, PW_DIR_INGRESS, 0, ctx->ingress_ifindex, 0, 0, &f,
		      len);
	pw_sample_xdp(ctx, &f, 0, d.reason, len);
	return XDP_DROP;
}
