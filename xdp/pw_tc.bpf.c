// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TC programs on a pod's host-side veth. The veth's ingress hook sees what
 * the pod sends (pod egress), its egress hook what the pod receives (pod
 * ingress). Each pod's own policy decides; conntrack lets replies through.
 */
#include "lib/dos.h"
#include "lib/ips.h"
#include "lib/verdict.h"

char _license[] SEC("license") = "Dual BSD/GPL";

static __always_inline int pw_tc_handle(struct __sk_buff *skb, __u8 dir)
{
	__u32 ifindex = skb->ifindex, len = skb->len, ep_id = 0;
	struct pw_flow f = {};
	struct pw_decision d = {};
	struct pw_endpoint *ep;
	int ret;

	ret = pw_parse_skb(skb, &f);
	ep = bpf_map_lookup_elem(&pw_endpoints, &ifindex);
	if (ep)
		ep_id = ep->ep_id;
	if (ret == PW_PARSE_NOT_IP) {
		pw_count(ep_id, dir, PW_REASON_ALLOW_NEIGH, len);
		return TC_ACT_OK;
	}

	if (ret == PW_PARSE_MALFORMED)
		d.reason = PW_REASON_DROP_MALFORMED;
	/*
	 * IPS verdicts first: a blocked flow, or a source the IPS put on the
	 * blocklist (operator entries stay the uplink's business, as before).
	 */
	else if (pw_ips_check(&f) || pw_dos_blocklist_check(&f) == PW_REASON_DROP_IPS_BLOCKED)
		d.reason = PW_REASON_DROP_IPS_BLOCKED;
	else if (!ep || !(ep->flags & PW_EP_F_READY))
		d.reason = f.neigh ? PW_REASON_ALLOW_NEIGH : PW_REASON_DROP_NOT_READY;
	else
		pw_decide(&f, ep_id, ep->flags, dir, &d);
	/*
	 * The pod's own rate limits (annotations) charge what policy let
	 * through, as it will be on the wire: a GSO batch is gso_segs packets,
	 * each with its own headers (Ethernet, IP, and TCP with timestamps or
	 * UDP: the usual sizes, so a few option bytes may go uncharged).
	 */
	if (!pw_reason_is_drop(d.reason) && d.reason != PW_REASON_ALLOW_NEIGH && ep_id) {
		__u32 segs = skb->gso_segs > 1 ? skb->gso_segs : 1;
		__u32 hdr = 14 + (f.family == PW_AF_INET ? 20 : 40) +
			    (f.t.proto == PW_IPPROTO_TCP ? 32 : 8);

		if (pw_pod_ratelimit_check(ep_id, dir, len + (segs - 1) * hdr, segs))
			d.reason = PW_REASON_DROP_RATE_LIMITED;
	}

	pw_count(ep_id, dir, d.reason, len);
	if (!pw_event_wanted(ep ? ep->flags : 0, d.reason))
		; /* nobody logs it: not even a ring buffer write */
	else if (pw_reason_is_drop(d.reason))
		pw_event_emit(PW_EVENT_DROP, d.reason, dir, ep_id, ifindex, d.cookie, d.peer_id,
			      &f, len);
	else if (d.new_flow)
		pw_event_emit(PW_EVENT_VERDICT, d.reason, dir, ep_id, ifindex, d.cookie,
			      d.peer_id, &f, len);
	/* To the inspector: a new flow's first packets, and drops for capture. */
	pw_sample_skb(skb, &f, ep_id,
		      d.reason | (d.new_flow ? PW_SW_NEW_FLOW : 0) | dir << PW_SW_DIR_SHIFT, len);
	return pw_reason_is_drop(d.reason) ? TC_ACT_SHOT : TC_ACT_OK;
}

SEC("tc")
int pw_from_pod(struct __sk_buff *skb)
{
	return pw_tc_handle(skb, PW_DIR_EGRESS);
}

SEC("tc")
int pw_to_pod(struct __sk_buff *skb)
{
	return pw_tc_handle(skb, PW_DIR_INGRESS);
}
