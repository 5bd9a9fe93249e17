/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Packet parsing into a flat flow description. Every header is bounds
 * checked against data_end before it is read, and header lengths taken from
 * the packet are checked against the packet's real length, so truncated or
 * lying headers become PW_PARSE_MALFORMED instead of out-of-bounds reads.
 */
#pragma once

#include "ctx.h"
#include <bpf/bpf_endian.h>

#include "podwall/types.h"

#define ETH_P_IP     0x0800
#define ETH_P_IPV6   0x86DD
#define ETH_P_8021Q  0x8100
#define ETH_P_8021AD 0x88A8

#define PW_IPPROTO_HOPOPTS  0
#define PW_IPPROTO_ICMP	    1
#define PW_IPPROTO_TCP	    6
#define PW_IPPROTO_UDP	    17
#define PW_IPPROTO_ROUTING  43
#define PW_IPPROTO_FRAGMENT 44
#define PW_IPPROTO_AH	    51
#define PW_IPPROTO_ICMPV6   58
#define PW_IPPROTO_NONE	    59
#define PW_IPPROTO_DSTOPTS  60
#define PW_IPPROTO_SCTP	    132

#define PW_TCP_FIN 0x01
#define PW_TCP_SYN 0x02
#define PW_TCP_RST 0x04
#define PW_TCP_PSH 0x08
#define PW_TCP_ACK 0x10

/* Extension headers walked before giving up on an IPv6 packet as malformed. */
#define PW_IPV6_MAX_EXT 6

enum {
	PW_PARSE_OK = 0,
	PW_PARSE_NOT_IP,    /* ARP, LLDP, ...: not ours to judge */
	PW_PARSE_MALFORMED,
};

enum {
	PW_FRAG_NONE = 0,
	PW_FRAG_FIRST, /* offset 0, more fragments: carries the L4 header */
	PW_FRAG_LATER, /* offset > 0: no L4 header */
};

struct pw_tuple {
	__u32 saddr[4]; /* network byte order; IPv4 in [0] */
	__u32 daddr[4];
	__be16 sport;	/* ICMP echo: the identifier, in both fields */
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct pw_flow {
	struct pw_tuple t;
	struct pw_tuple inner; /* ICMP error: the quoted packet's tuple */
	__u32 frag_id;
	__u8 family;	       /* PW_AF_* */
	__u8 tcp_flags;
	__u8 frag;	       /* PW_FRAG_* */
	__u8 icmp_error;       /* ICMP/ICMPv6 error with a parsed quote in `inner` */
	__u8 neigh;	       /* IPv6 neighbour discovery / MLD: always passes */
	__u8 pad[3];
};

/* Reads ports (or the ICMP echo id) of an L4 header at cur. */
PW_INLINE int pw_parse_ports(void *cur, void *data_end, __u8 proto, __be16 *sport, __be16 *dport)
{
	if (proto == PW_IPPROTO_TCP || proto == PW_IPPROTO_UDP || proto == PW_IPPROTO_SCTP) {
		__be16 *p = cur;

		if ((void *)(p + 2) > data_end)
			return -1;
		*sport = p[0];
		*dport = p[1];
	}
	return 0;
}

/* ICMP errors quote the offending packet: IPv4 header + at least 8 bytes. */
PW_INLINE int pw_parse_inner4(void *cur, void *data_end, struct pw_tuple *t)
{
	struct iphdr *ip = cur;
	__u32 ihl;

	if ((void *)(ip + 1) > data_end)
		return -1;
	ihl = ip->ihl;
	if (ip->version != 4 || ihl < 5)
		return -1;
	t->saddr[0] = ip->saddr;
	t->daddr[0] = ip->daddr;
	t->proto = ip->protocol;
	return pw_parse_ports(cur + ihl * 4, data_end, t->proto, &t->sport, &t->dport);
}

/* The quoted IPv6 packet; extension headers in quotes are not walked. */
PW_INLINE int pw_parse_inner6(void *cur, void *data_end, struct pw_tuple *t)
{
	struct ipv6hdr *ip6 = cur;

	if ((void *)(ip6 + 1) > data_end)
		return -1;
	if (ip6->version != 6)
		return -1;
	__builtin_memcpy(t->saddr, &ip6->saddr, 16);
	__builtin_memcpy(t->daddr, &ip6->daddr, 16);
	t->proto = ip6->nexthdr;
	return pw_parse_ports((void *)(ip6 + 1), data_end, t->proto, &t->sport, &t->dport);
}

PW_INLINE int pw_parse_l4(void *cur, void *end, __u32 l4_len, struct pw_flow *f)
{
	__u8 proto = f->t.proto;

	if (proto == PW_IPPROTO_TCP) {
		struct tcphdr *th = cur;

		if ((void *)(th + 1) > end)
			return PW_PARSE_MALFORMED;
		if (th->doff < 5 || th->doff * 4 > l4_len)
			return PW_PARSE_MALFORMED;
		f->t.sport = th->source;
		f->t.dport = th->dest;
		f->tcp_flags = ((__u8 *)th)[13];
	} else if (proto == PW_IPPROTO_UDP) {
		struct udphdr *uh = cur;

		if ((void *)(uh + 1) > end)
			return PW_PARSE_MALFORMED;
		f->t.sport = uh->source;
		f->t.dport = uh->dest;
	} else if (proto == PW_IPPROTO_SCTP) {
		/* Common header: ports, verification tag, checksum. */
		if (cur + 12 > end)
			return PW_PARSE_MALFORMED;
		pw_parse_ports(cur, end, proto, &f->t.sport, &f->t.dport);
	} else if (proto == PW_IPPROTO_ICMP) {
		struct icmphdr *ih = cur;
		__u8 type;

		if ((void *)(ih + 1) > end)
			return PW_PARSE_MALFORMED;
		type = ih->type;
		if (type == 0 || type == 8) { /* echo reply / request */
			f->t.sport = ih->un.echo.id;
			f->t.dport = ih->un.echo.id;
		} else if (type == 3 || type == 4 || type == 11 || type == 12) {
			/* Unreachable, source quench, time exceeded, parameter problem. */
			if (pw_parse_inner4((void *)(ih + 1), end, &f->inner) == 0)
				f->icmp_error = 1;
		}
	} else if (proto == PW_IPPROTO_ICMPV6) {
		struct icmp6hdr *ih = cur;
		__u8 type;

		if ((void *)(ih + 1) > end)
			return PW_PARSE_MALFORMED;
		type = ih->icmp6_type;
		if (type == 128 || type == 129) { /* echo request / reply */
			f->t.sport = ih->icmp6_dataun.u_echo.identifier;
			f->t.dport = ih->icmp6_dataun.u_echo.identifier;
		} else if (type >= 1 && type <= 4) {
			if (pw_parse_inner6((void *)(ih + 1), end, &f->inner) == 0)
				f->icmp_error = 1;
		} else if ((type >= 130 && type <= 137) || type == 143) {
			/* MLD, router/neighbour discovery, redirect: the link needs them. */
			f->neigh = 1;
		}
	}
	return PW_PARSE_OK;
}

PW_INLINE int pw_parse_ipv4(void *cur, struct pw_buf *b, struct pw_flow *f)
{
	struct iphdr *ip = cur;
	__u32 ihl, tot_len, l3_avail, frag_off;

	if ((void *)(ip + 1) > b->data_end)
		return PW_PARSE_MALFORMED;
	ihl = ip->ihl;
	tot_len = bpf_ntohs(ip->tot_len);
	l3_avail = b->len - (cur - b->data);
	if (ip->version != 4 || ihl < 5 || tot_len < ihl * 4 || tot_len > l3_avail)
		return PW_PARSE_MALFORMED;

	f->family = PW_AF_INET;
	f->t.saddr[0] = ip->saddr;
	f->t.daddr[0] = ip->daddr;
	f->t.proto = ip->protocol;

	frag_off = bpf_ntohs(ip->frag_off);
	if (frag_off & 0x3fff) { /* MF or a nonzero offset */
		f->frag_id = bpf_ntohs(ip->id);
		if (frag_off & 0x1fff) {
			f->frag = PW_FRAG_LATER;
			return PW_PARSE_OK;
		}
		f->frag = PW_FRAG_FIRST;
	}
	return pw_parse_l4(cur + ihl * 4, b->data_end, tot_len - ihl * 4, f);
}

PW_INLINE int pw_parse_ipv6(void *cur, struct pw_buf *b, struct pw_flow *f)
{
	struct ipv6hdr *ip6 = cur;
	__u32 l3_avail, payload;
	__u8 nexthdr;
	int i;

	if ((void *)(ip6 + 1) > b->data_end)
		return PW_PARSE_MALFORMED;
	payload = bpf_ntohs(ip6->payload_len);
	l3_avail = b->len - (cur - b->data);
	if (ip6->version != 6 || payload + sizeof(*ip6) > l3_avail)
		return PW_PARSE_MALFORMED;

	f->family = PW_AF_INET6;
	__builtin_memcpy(f->t.saddr, &ip6->saddr, 16);
	__builtin_memcpy(f->t.daddr, &ip6->daddr, 16);
	nexthdr = ip6->nexthdr;
	cur = ip6 + 1;

	for (i = 0; i < PW_IPV6_MAX_EXT; i++) {
		__u8 *eh = cur;

		switch (nexthdr) {
		case PW_IPPROTO_HOPOPTS:
		case PW_IPPROTO_ROUTING:
		case PW_IPPROTO_DSTOPTS:
			if ((void *)(eh + 2) > b->data_end)
				return PW_PARSE_MALFORMED;
			nexthdr = eh[0];
			cur += (eh[1] + 1) * 8;
			continue;
		case PW_IPPROTO_AH:
			if ((void *)(eh + 2) > b->data_end)
				return PW_PARSE_MALFORMED;
			nexthdr = eh[0];
			cur += (eh[1] + 2) * 4;
			continue;
		case PW_IPPROTO_FRAGMENT: {
			struct frag_hdr *fh = cur;
			__u16 off;

			if ((void *)(fh + 1) > b->data_end)
				return PW_PARSE_MALFORMED;
			nexthdr = fh->nexthdr;
			off = bpf_ntohs(fh->frag_off);
			f->frag_id = bpf_ntohl(fh->identification);
			cur = fh + 1;
			if (off & 0xfff8) {
				f->t.proto = nexthdr;
				f->frag = PW_FRAG_LATER;
				return PW_PARSE_OK;
			}
			if (off & 1)
				f->frag = PW_FRAG_FIRST;
			continue;
		}
		default:
			goto upper;
		}
	}
	/* Still an extension header after the last allowed one: refuse, don't guess. */
	if (nexthdr == PW_IPPROTO_HOPOPTS || nexthdr == PW_IPPROTO_ROUTING ||
	    nexthdr == PW_IPPROTO_DSTOPTS || nexthdr == PW_IPPROTO_AH ||
	    nexthdr == PW_IPPROTO_FRAGMENT)
		return PW_PARSE_MALFORMED;
upper:
	if (cur > b->data + b->len)
		return PW_PARSE_MALFORMED;
	f->t.proto = nexthdr;
	return pw_parse_l4(cur, b->data_end, b->data + b->len - cur, f);
}

/* Parses the Ethernet frame in b into f (zeroed by the caller). */
static __always_inline int pw_parse(struct pw_buf *b, struct pw_flow *f)
{
	struct ethhdr *eth = b->data;
	void *cur;
	__u16 proto;
	int i;

	if ((void *)(eth + 1) > b->data_end)
		return PW_PARSE_MALFORMED;
	proto = eth->h_proto;
	cur = eth + 1;
	for (i = 0; i < 2; i++) {
		struct vlan_hdr *vh = cur;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > b->data_end)
			return PW_PARSE_MALFORMED;
		proto = vh->h_vlan_encapsulated_proto;
		cur = vh + 1;
	}
	if (proto == bpf_htons(ETH_P_IP))
		return pw_parse_ipv4(cur, b, f);
	if (proto == bpf_htons(ETH_P_IPV6))
		return pw_parse_ipv6(cur, b, f);
	return PW_PARSE_NOT_IP;
}

/*
 * Per-hook entry points: global functions, so the parser is verified once
 * per program instead of once per path of its callers. Only the context may
 * cross into a global function, not packet pointers; f is nullable memory.
 */
__noinline int pw_parse_skb(struct __sk_buff *skb, struct pw_flow *f)
{
	struct pw_buf b;

	if (!f)
		return PW_PARSE_MALFORMED;
	pw_buf_from_skb(&b, skb);
	return pw_parse(&b, f);
}

__noinline int pw_parse_xdp(struct xdp_md *ctx, struct pw_flow *f)
{
	struct pw_buf b;

	if (!f)
		return PW_PARSE_MALFORMED;
	pw_buf_from_xdp(&b, ctx);
	return pw_parse(&b, f);
}
