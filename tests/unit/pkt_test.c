// SPDX-License-Identifier: GPL-2.0-only
/*
 * The packet builder, checked by parsing its bytes here with an independent
 * parser and independent checksum code, and (when installed) by tshark.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "pkt.h"
#include "test.h"

#define BUFSZ 4096

static uint16_t rd16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* Ones' complement sum of 16-bit words, written as RFC 1071 describes it, folded. */
static uint16_t sum16(const uint8_t *p, size_t len, uint64_t acc)
{
	while (len > 1) {
		acc += rd16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		acc += p[0] << 8;
	while (acc > 0xffff)
		acc = (acc >> 16) + (acc & 0xffff);
	return acc;
}

/* A table-driven CRC32c, unlike the builder's bitwise one. */
static uint32_t crc32c(const uint8_t *p, size_t len)
{
	static uint32_t table[256];
	uint32_t crc = 0xffffffff;
	size_t i;

	if (!table[1]) {
		for (i = 0; i < 256; i++) {
			uint32_t c = i;
			int k;

			for (k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1;
			table[i] = c;
		}
	}
	for (i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return crc ^ 0xffffffff;
}

struct parsed {
	uint16_t ethertype;
	int family;
	size_t l3, l4, end;   /* offsets; end = frame length */
	size_t l3_len;	      /* bytes of the IP packet per the header lengths */
	uint8_t proto;	      /* upper-layer protocol after any extension headers */
	int n_ext;	      /* IPv6 extension headers walked (including Fragment) */
	bool frag, more;      /* fragment seen, more fragments */
	uint16_t frag_off;    /* 8-byte units */
	uint32_t frag_id;
	uint8_t ttl;
	const uint8_t *saddr, *daddr;
};

/* Parses a well-formed IP packet at @off; returns false (and fails) on any inconsistency. */
static bool parse_ip(const uint8_t *f, size_t off, size_t end, struct parsed *r)
{
	const uint8_t *ip = f + off;
	uint8_t next;

	memset(r, 0, sizeof(*r));
	r->l3 = off;
	r->end = end;
	if (!ASSERT_GE(end, off + 20, "room for an IP header"))
		return false;
	if ((ip[0] >> 4) == 4) {
		size_t ihl = (ip[0] & 0xf) * 4;

		r->family = PW_AF_INET;
		if (!ASSERT_EQ(ihl, 20, "IHL"))
			return false;
		ASSERT_EQ(sum16(ip, ihl, 0), 0xffff, "IPv4 header checksum");
		r->l3_len = rd16(ip + 2);
		r->frag_id = rd16(ip + 4);
		r->more = rd16(ip + 6) & 0x2000;
		r->frag_off = rd16(ip + 6) & 0x1fff;
		r->frag = r->more || r->frag_off;
		r->ttl = ip[8];
		r->proto = ip[9];
		r->saddr = ip + 12;
		r->daddr = ip + 16;
		r->l4 = off + ihl;
	} else if ((ip[0] >> 4) == 6) {
		size_t at = off + 40, hl;

		r->family = PW_AF_INET6;
		if (!ASSERT_GE(end, off + 40, "room for an IPv6 header"))
			return false;
		r->l3_len = 40 + rd16(ip + 4);
		r->ttl = ip[7];
		r->saddr = ip + 8;
		r->daddr = ip + 24;
		next = ip[6];
		while (next == IPPROTO_HOPOPTS || next == IPPROTO_DSTOPTS ||
		       next == IPPROTO_ROUTING || next == 44) {
			if (!ASSERT_GE(end, at + 8, "extension header in frame"))
				return false;
			if (next == 44) {
				r->frag = true;
				r->frag_off = rd16(f + at + 2) >> 3;
				r->more = f[at + 3] & 1;
				r->frag_id = rd32(f + at + 4);
				hl = 8;
			} else {
				hl = (f[at + 1] + 1) * 8;
			}
			if (next == IPPROTO_HOPOPTS)
				ASSERT_EQ(r->n_ext, 0, "hop-by-hop comes first");
			next = f[at];
			at += hl;
			r->n_ext++;
			if (!ASSERT_GE(end, at, "extension header ends in frame") ||
			    !ASSERT_TRUE(r->n_ext < 32, "extension chain ends"))
				return false;
		}
		r->proto = next;
		r->l4 = at;
	} else {
		ASSERT_TRUE(false, "IP version 4 or 6");
		return false;
	}
	return ASSERT_EQ(r->l3_len, end - off, "IP length matches the bytes present");
}

static bool parse(const uint8_t *f, int len, struct parsed *r)
{
	if (!ASSERT_GE(len, 14, "frame length"))
		return false;
	if (rd16(f + 12) != 0x0800 && rd16(f + 12) != 0x86dd) {
		memset(r, 0, sizeof(*r));
		r->ethertype = rd16(f + 12);
		r->end = len;
		return true;
	}
	if (!parse_ip(f, 14, len, r))
		return false;
	r->ethertype = rd16(f + 12);
	ASSERT_EQ(r->ethertype, r->family == PW_AF_INET ? 0x0800 : 0x86dd, "ethertype");
	return true;
}

/* Verifies the L4 checksum of the L4 bytes [l4, end) against the parsed addresses. */
static bool l4_csum_ok(const uint8_t *f, const struct parsed *r, size_t end)
{
	const uint8_t *l4 = f + r->l4;
	size_t len = end - r->l4, alen = r->family == PW_AF_INET ? 4 : 16;
	uint64_t pseudo = 0;
	uint32_t crc;

	pseudo = sum16(r->saddr, alen, 0) + sum16(r->daddr, alen, 0) + r->proto + len;
	switch (r->proto) {
	case IPPROTO_TCP:
		return ASSERT_EQ(sum16(l4, len, pseudo), 0xffff, "TCP checksum");
	case IPPROTO_UDP:
		ASSERT_NEQ(rd16(l4 + 6), 0, "UDP checksum present");
		ASSERT_EQ(rd16(l4 + 4), len, "UDP length");
		return ASSERT_EQ(sum16(l4, len, pseudo), 0xffff, "UDP checksum");
	case IPPROTO_ICMP:
		return ASSERT_EQ(sum16(l4, len, 0), 0xffff, "ICMP checksum");
	case IPPROTO_ICMPV6:
		return ASSERT_EQ(sum16(l4, len, pseudo), 0xffff, "ICMPv6 checksum");
	case IPPROTO_SCTP: {
		uint8_t tmp[BUFSZ];

		memcpy(tmp, l4, len);
		memset(tmp + 8, 0, 4);
		crc = crc32c(tmp, len);
		ASSERT_EQ(len % 4, 0, "SCTP packet padded to 4 bytes");
		return ASSERT_EQ(l4[8] | l4[9] << 8 | l4[10] << 16 | (uint32_t)l4[11] << 24, crc,
				 "SCTP CRC32c (little-endian on the wire)");
	}
	default:
		return true;
	}
}

static bool pattern_ok(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != (i & 0xff))
			return false;
	return true;
}

static bool addr_is(const struct parsed *r, const uint8_t *a, const char *text)
{
	uint8_t want[16];

	if (inet_pton(r->family == PW_AF_INET ? AF_INET : AF_INET6, text, want) != 1)
		return false;
	return memcmp(a, want, r->family == PW_AF_INET ? 4 : 16) == 0;
}

static void test_crc32c_vector(void)
{
	/* The check value of CRC-32C (RFC 3720 B.4 test vectors use the same polynomial). */
	ASSERT_EQ(crc32c((const uint8_t *)"123456789", 9), 0xe3069283, "reference crc32c");
	ASSERT_EQ(pw_pkt_crc32c("123456789", 9), 0xe3069283, "builder crc32c");
}

/* One good packet per family x protocol, checked field by field. */
static void check_l4(int family, uint8_t proto)
{
	struct pw_pkt p = {
		.family = family,
		.src = family == PW_AF_INET ? "192.0.2.1" : "2001:db8::1",
		.dst = family == PW_AF_INET ? "198.51.100.7" : "2001:db8::7",
		.proto = proto,
		.sport = 40000,
		.dport = 443,
		.tcp_flags = PW_TCP_SYN | PW_TCP_ACK,
		.seq = 0x11223344,
		.ack_seq = 0x55667788,
		.icmp_type = proto == IPPROTO_ICMP ? 8 : 128,
		.icmp_id = 0x1234,
		.icmp_seq = 7,
		.ttl = 33,
		.payload_len = 37,
	};
	uint8_t f[BUFSZ];
	const uint8_t *l4;
	struct parsed r;
	size_t hl;
	int len;

	len = pw_pkt_build(&p, f, sizeof(f));
	if (!ASSERT_OK(len, "build") || !parse(f, len, &r))
		return;
	ASSERT_EQ(r.family, family, "family");
	ASSERT_EQ(r.proto, proto, "protocol");
	ASSERT_EQ(r.ttl, 33, "ttl");
	ASSERT_TRUE(addr_is(&r, r.saddr, p.src), "source address");
	ASSERT_TRUE(addr_is(&r, r.daddr, p.dst), "destination address");
	ASSERT_FALSE(r.frag, "not a fragment");
	ASSERT_EQ(f[0] & 1, 0, "unicast destination MAC");
	ASSERT_EQ(f[0] & 2, 2, "locally administered MAC");
	l4 = f + r.l4;
	l4_csum_ok(f, &r, len);
	switch (proto) {
	case IPPROTO_TCP:
		hl = (l4[12] >> 4) * 4;
		ASSERT_EQ(hl, 20, "TCP data offset");
		ASSERT_EQ(rd16(l4), 40000, "sport");
		ASSERT_EQ(rd16(l4 + 2), 443, "dport");
		ASSERT_EQ(rd32(l4 + 4), 0x11223344, "seq");
		ASSERT_EQ(rd32(l4 + 8), 0x55667788, "ack");
		ASSERT_EQ(l4[13], 0x12, "SYN|ACK flags");
		break;
	case IPPROTO_UDP:
		hl = 8;
		ASSERT_EQ(rd16(l4), 40000, "sport");
		ASSERT_EQ(rd16(l4 + 2), 443, "dport");
		break;
	case IPPROTO_SCTP:
		hl = 12 + 20;
		ASSERT_EQ(rd16(l4), 40000, "sport");
		ASSERT_EQ(rd16(l4 + 2), 443, "dport");
		ASSERT_EQ(rd32(l4 + 4), 0, "INIT verification tag");
		ASSERT_EQ(l4[12], 1, "INIT chunk");
		ASSERT_EQ(rd16(l4 + 14), 20, "INIT chunk length");
		ASSERT_NEQ(rd32(l4 + 16), 0, "initiate tag");
		ASSERT_EQ(len - r.l4, hl, "INIT carries no payload");
		return;
	default:
		hl = 8;
		ASSERT_EQ(l4[0], p.icmp_type, "echo request type");
		ASSERT_EQ(rd16(l4 + 4), 0x1234, "echo id");
		ASSERT_EQ(rd16(l4 + 6), 7, "echo seq");
		break;
	}
	ASSERT_EQ(len - r.l4 - hl, 37, "payload length");
	ASSERT_TRUE(pattern_ok(l4 + hl, 37), "payload pattern");
}

static void test_v4_tcp(void) { check_l4(PW_AF_INET, IPPROTO_TCP); }
static void test_v4_udp(void) { check_l4(PW_AF_INET, IPPROTO_UDP); }
static void test_v4_sctp(void) { check_l4(PW_AF_INET, IPPROTO_SCTP); }
static void test_v4_icmp(void) { check_l4(PW_AF_INET, IPPROTO_ICMP); }
static void test_v6_tcp(void) { check_l4(PW_AF_INET6, IPPROTO_TCP); }
static void test_v6_udp(void) { check_l4(PW_AF_INET6, IPPROTO_UDP); }
static void test_v6_sctp(void) { check_l4(PW_AF_INET6, IPPROTO_SCTP); }
static void test_v6_icmpv6(void) { check_l4(PW_AF_INET6, IPPROTO_ICMPV6); }

static void test_defaults_and_padding(void)
{
	struct pw_pkt p = { .family = PW_AF_INET, .proto = IPPROTO_UDP, .min_len = 64 };
	static const uint8_t smac[6] = PW_PKT_MAC_SRC, dmac[6] = PW_PKT_MAC_DST;
	uint8_t f[BUFSZ];
	struct parsed r;
	int len;

	len = pw_pkt_build(&p, f, sizeof(f));
	ASSERT_EQ(len, 64, "padded to min_len");
	ASSERT_TRUE(memcmp(f, dmac, 6) == 0, "default destination MAC");
	ASSERT_TRUE(memcmp(f + 6, smac, 6) == 0, "default source MAC");
	/* Padding is Ethernet trailer: the IP packet stays 28 bytes. */
	if (parse_ip(f, 14, 14 + 28, &r)) {
		ASSERT_TRUE(addr_is(&r, r.saddr, PW_PKT_V4_SRC), "default source");
		ASSERT_TRUE(addr_is(&r, r.daddr, PW_PKT_V4_DST), "default destination");
		l4_csum_ok(f, &r, 14 + 28);
	}
	ASSERT_TRUE(f[42] == 0 && f[63] == 0, "zero padding");
}

static void test_errors(void)
{
	struct pw_pkt p = { .family = PW_AF_INET, .proto = IPPROTO_TCP, .payload_len = 100 };
	uint8_t f[BUFSZ];

	ASSERT_EQ(pw_pkt_build(&p, f, 14 + 20 + 20 + 99), -ENOSPC, "one byte short");
	ASSERT_EQ(pw_pkt_build(&p, f, 14 + 20 + 20 + 100), 154, "exact fit");
	ASSERT_EQ(pw_pkt_build(&p, f, 0), -ENOSPC, "no room at all");
	p.src = "10.0.0.300";
	ASSERT_EQ(pw_pkt_build(&p, f, sizeof(f)), -EINVAL, "bad IPv4 address");
	p.src = "fd00::1";
	ASSERT_EQ(pw_pkt_build(&p, f, sizeof(f)), -EINVAL, "IPv6 address in an IPv4 packet");
	p.family = 5;
	ASSERT_EQ(pw_pkt_build(&p, f, sizeof(f)), -EINVAL, "bad family");
	p.family = PW_AF_INET6;
	p.ext[0] = IPPROTO_TCP;
	p.n_ext = 1;
	ASSERT_EQ(pw_pkt_build(&p, f, sizeof(f)), -EINVAL, "TCP is no extension header");
	ASSERT_EQ(pw_pkt_arp(f, sizeof(f), "10.0.0.1", "nope"), -EINVAL, "bad ARP target");
	ASSERT_EQ(pw_pkt_nd(f, sizeof(f), "fd00::1", "10.0.0.1"), -EINVAL, "bad ND target");
}

static void check_icmp_error(int family)
{
	bool v4 = family == PW_AF_INET;
	struct pw_pkt in = {
		.src = v4 ? "10.1.0.5" : "fd00:1::5",
		.dst = v4 ? "10.2.0.9" : "fd00:2::9",
		.proto = IPPROTO_UDP,
		.sport = 5353,
		.dport = 53,
		.payload_len = 11,
	};
	struct pw_pkt p = {
		.family = family,
		.src = v4 ? "10.9.9.9" : "fd00:9::9",
		.dst = in.src,
		.proto = v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6,
		.icmp_type = v4 ? 3 : 1, /* destination unreachable */
		.icmp_code = v4 ? 3 : 4, /* port unreachable */
		.inner = &in,
	};
	uint8_t f[BUFSZ];
	struct parsed r, q;
	int len;

	len = pw_pkt_build(&p, f, sizeof(f));
	if (!ASSERT_OK(len, "build") || !parse(f, len, &r))
		return;
	l4_csum_ok(f, &r, len);
	ASSERT_EQ(f[r.l4], p.icmp_type, "type");
	ASSERT_EQ(f[r.l4 + 1], p.icmp_code, "code");
	if (!parse_ip(f, r.l4 + 8, len, &q))
		return;
	ASSERT_EQ(q.family, family, "inner family inherited");
	ASSERT_EQ(q.proto, IPPROTO_UDP, "inner protocol");
	ASSERT_TRUE(addr_is(&q, q.saddr, in.src), "inner source");
	ASSERT_TRUE(addr_is(&q, q.daddr, in.dst), "inner destination");
	ASSERT_EQ(rd16(f + q.l4), 5353, "inner sport");
	ASSERT_EQ(rd16(f + q.l4 + 2), 53, "inner dport");
	l4_csum_ok(f, &q, len);
}

static void test_v4_icmp_error(void) { check_icmp_error(PW_AF_INET); }
static void test_v6_icmp_error(void) { check_icmp_error(PW_AF_INET6); }

static void check_frags(int family)
{
	struct pw_pkt p = {
		.family = family,
		.proto = IPPROTO_UDP,
		.sport = 1000,
		.dport = 2000,
		.frag = true,
		.more_frags = true,
		.frag_id = family == PW_AF_INET ? 0xbeef : 0xdeadbeef,
		.payload_len = 64,
	};
	uint8_t f[BUFSZ];
	struct parsed r;
	int len;

	len = pw_pkt_build(&p, f, sizeof(f));
	if (!ASSERT_OK(len, "build first") || !parse(f, len, &r))
		return;
	ASSERT_TRUE(r.frag && r.more, "first fragment, more follow");
	ASSERT_EQ(r.frag_off, 0, "offset 0");
	ASSERT_EQ(r.frag_id, p.frag_id, "fragment id");
	ASSERT_EQ(r.proto, IPPROTO_UDP, "first fragment carries UDP");
	ASSERT_EQ(rd16(f + r.l4 + 2), 2000, "first fragment has ports");
	ASSERT_EQ(len - r.l4, 8 + 64, "UDP header + payload");
	if (family == PW_AF_INET6)
		ASSERT_EQ(r.n_ext, 1, "one Fragment header");

	p.frag_offset = 9; /* 72 bytes: right after the first fragment */
	p.more_frags = false;
	len = pw_pkt_build(&p, f, sizeof(f));
	if (!ASSERT_OK(len, "build later") || !parse(f, len, &r))
		return;
	ASSERT_TRUE(r.frag && !r.more, "last fragment");
	ASSERT_EQ(r.frag_off, 9, "offset");
	ASSERT_EQ(r.frag_id, p.frag_id, "fragment id");
	ASSERT_EQ(len - r.l4, 64, "later fragment: payload only, no L4 header");
	ASSERT_TRUE(pattern_ok(f + r.l4, 64), "payload pattern");
}

static void test_v4_frags(void) { check_frags(PW_AF_INET); }
static void test_v6_frags(void) { check_frags(PW_AF_INET6); }

static void test_v6_ext(void)
{
	struct pw_pkt p = {
		.family = PW_AF_INET6,
		.proto = IPPROTO_TCP,
		.tcp_flags = PW_TCP_SYN,
		.dport = 80,
		.ext = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING },
		.n_ext = 3,
		.frag = true,
		.more_frags = true,
		.frag_id = 42,
		.payload_len = 8,
	};
	static const uint8_t want[] = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING, 44,
					IPPROTO_TCP };
	uint8_t f[BUFSZ], next;
	struct parsed r;
	size_t at, i;
	int len;

	len = pw_pkt_build(&p, f, sizeof(f));
	if (!ASSERT_OK(len, "build") || !parse(f, len, &r))
		return;
	ASSERT_EQ(r.n_ext, 4, "three headers + Fragment");
	ASSERT_EQ(r.l4, 14 + 40 + 32, "L4 offset");
	ASSERT_EQ(rd16(f + r.l4 + 2), 80, "dport after the chain");
	ASSERT_EQ(f[r.l4 + 13], PW_TCP_SYN, "flags");
	l4_csum_ok(f, &r, len);
	/* Walk the chain once more, checking the order and each header's body. */
	next = f[14 + 6];
	at = 14 + 40;
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(next, want[i], "next header in order");
		if (i == 4)
			break;
		if (next == IPPROTO_ROUTING)
			ASSERT_EQ(f[at + 3], 0, "no segments left");
		else if (next != 44)
			ASSERT_TRUE(f[at + 2] == 1 && f[at + 3] == 4, "PadN fills the options");
		next = f[at];
		at += 8;
	}
}

static void test_arp(void)
{
	static const uint8_t smac[6] = PW_PKT_MAC_SRC;
	uint8_t f[BUFSZ], ip[4];
	int len;

	len = pw_pkt_arp(f, sizeof(f), "10.0.0.1", "10.0.0.254");
	if (!ASSERT_EQ(len, 42, "ARP frame length"))
		return;
	ASSERT_EQ(rd16(f + 12), 0x0806, "ethertype ARP");
	ASSERT_TRUE(memcmp(f, "\xff\xff\xff\xff\xff\xff", 6) == 0, "broadcast");
	ASSERT_EQ(rd16(f + 14), 1, "htype Ethernet");
	ASSERT_EQ(rd16(f + 16), 0x0800, "ptype IPv4");
	ASSERT_TRUE(f[18] == 6 && f[19] == 4, "address lengths");
	ASSERT_EQ(rd16(f + 20), 1, "request");
	ASSERT_TRUE(memcmp(f + 22, smac, 6) == 0, "sender MAC");
	inet_pton(AF_INET, "10.0.0.1", ip);
	ASSERT_TRUE(memcmp(f + 28, ip, 4) == 0, "sender IP");
	inet_pton(AF_INET, "10.0.0.254", ip);
	ASSERT_TRUE(memcmp(f + 38, ip, 4) == 0, "target IP");
}

static void test_nd(void)
{
	static const uint8_t smac[6] = PW_PKT_MAC_SRC;
	uint8_t f[BUFSZ], tgt[16];
	struct parsed r;
	int len;

	len = pw_pkt_nd(f, sizeof(f), "fe80::1", "fd00::12:3456");
	if (!ASSERT_OK(len, "build") || !parse(f, len, &r))
		return;
	inet_pton(AF_INET6, "fd00::12:3456", tgt);
	ASSERT_TRUE(memcmp(f, "\x33\x33\xff\x12\x34\x56", 6) == 0, "multicast MAC");
	ASSERT_TRUE(addr_is(&r, r.daddr, "ff02::1:ff12:3456"), "solicited-node address");
	ASSERT_EQ(r.ttl, 255, "hop limit 255");
	ASSERT_EQ(r.proto, IPPROTO_ICMPV6, "ICMPv6");
	ASSERT_EQ(len - r.l4, 32, "NS + one option");
	ASSERT_EQ(f[r.l4], 135, "neighbour solicitation");
	ASSERT_EQ(rd32(f + r.l4 + 4), 0, "reserved");
	ASSERT_TRUE(memcmp(f + r.l4 + 8, tgt, 16) == 0, "target address");
	ASSERT_TRUE(f[r.l4 + 24] == 1 && f[r.l4 + 25] == 1, "SLLA option");
	ASSERT_TRUE(memcmp(f + r.l4 + 26, smac, 6) == 0, "SLLA is the source MAC");
	l4_csum_ok(f, &r, len);
}

static void test_reply(void)
{
	struct pw_pkt p = {
		.family = PW_AF_INET,
		.dst = "10.0.0.9",
		.proto = IPPROTO_TCP,
		.sport = 1234,
		.dport = 80,
		.tcp_flags = PW_TCP_SYN,
	};
	struct pw_pkt q = pw_pkt_reply(&p);
	uint8_t f[BUFSZ], g[BUFSZ];
	struct parsed r, s;
	int len;

	q.tcp_flags = PW_TCP_SYN | PW_TCP_ACK;
	ASSERT_OK(pw_pkt_build(&p, f, sizeof(f)), "build request");
	len = pw_pkt_build(&q, g, sizeof(g));
	if (!ASSERT_OK(len, "build reply") || !parse(f, 54, &r) || !parse(g, len, &s))
		return;
	ASSERT_TRUE(memcmp(r.saddr, s.daddr, 4) == 0 && memcmp(r.daddr, s.saddr, 4) == 0,
		    "addresses swapped (default source included)");
	ASSERT_TRUE(memcmp(f, g + 6, 6) == 0 && memcmp(f + 6, g, 6) == 0, "MACs swapped");
	ASSERT_EQ(rd16(g + s.l4), 80, "reply sport");
	ASSERT_EQ(rd16(g + s.l4 + 2), 1234, "reply dport");
	ASSERT_EQ(rd32(g + s.l4 + 8), PW_PKT_TCP_SEQ, "reply acks the request's seq");
	l4_csum_ok(g, &s, len);

	p.proto = IPPROTO_ICMP;
	p.icmp_type = 8;
	ASSERT_EQ(pw_pkt_reply(&p).icmp_type, 0, "echo reply");
	p.family = PW_AF_INET6;
	p.proto = IPPROTO_ICMPV6;
	p.icmp_type = 128;
	ASSERT_EQ(pw_pkt_reply(&p).icmp_type, 129, "ICMPv6 echo reply");
}

static int build_mangled(int family, uint8_t proto, enum pw_pkt_mangle m, uint8_t *f)
{
	struct pw_pkt p = {
		.family = family,
		.proto = proto,
		.sport = 1,
		.dport = 2,
		.payload_len = 40,
		.min_len = 60,
		.mangle = m,
	};

	return pw_pkt_build(&p, f, BUFSZ);
}

static void test_mangle_trunc(void)
{
	uint8_t f[BUFSZ];

	ASSERT_EQ(build_mangled(PW_AF_INET, IPPROTO_TCP, PW_PKT_TRUNC_L3, f), 14 + 10,
		  "v4 ends inside the IP header (min_len ignored)");
	ASSERT_EQ(f[14], 0x45, "v4 header start kept");
	ASSERT_EQ(build_mangled(PW_AF_INET6, IPPROTO_TCP, PW_PKT_TRUNC_L3, f), 14 + 20,
		  "v6 ends inside the IP header");
	ASSERT_EQ(build_mangled(PW_AF_INET, IPPROTO_TCP, PW_PKT_TRUNC_L4, f), 14 + 20 + 4,
		  "v4 ends inside TCP");
	ASSERT_EQ(rd16(f + 14 + 2), 20 + 20 + 40, "v4 total length still the full packet");
	ASSERT_EQ(build_mangled(PW_AF_INET6, IPPROTO_UDP, PW_PKT_TRUNC_L4, f), 14 + 40 + 4,
		  "v6 ends inside UDP");
	ASSERT_EQ(build_mangled(PW_AF_INET6, IPPROTO_ICMPV6, PW_PKT_TRUNC_L4, f), 14 + 40 + 4,
		  "v6 ends inside ICMPv6");
	ASSERT_EQ(build_mangled(PW_AF_INET, IPPROTO_SCTP, PW_PKT_TRUNC_L4, f), 14 + 20 + 4,
		  "v4 ends inside SCTP");
}

static void test_mangle_ipv4(void)
{
	uint8_t f[BUFSZ];
	int len;

	len = build_mangled(PW_AF_INET, IPPROTO_UDP, PW_PKT_BAD_IHL, f);
	if (ASSERT_OK(len, "bad IHL")) {
		ASSERT_EQ(f[14] & 0xf, 4, "IHL 4");
		ASSERT_EQ(f[14] >> 4, 4, "version 4");
		ASSERT_EQ(sum16(f + 14, 20, 0), 0xffff, "checksum over 20 bytes still right");
	}
	len = build_mangled(PW_AF_INET, IPPROTO_TCP, PW_PKT_IHL_BEYOND, f);
	if (ASSERT_OK(len, "IHL beyond")) {
		ASSERT_EQ(f[14] & 0xf, 15, "IHL 15");
		ASSERT_GE(14 + 60, len + 1, "60-byte header does not fit the frame");
		ASSERT_EQ(rd16(f + 16), len - 14, "total length matches the frame");
		ASSERT_EQ(sum16(f + 14, 20, 0), 0xffff, "checksum");
	}
	len = build_mangled(PW_AF_INET, IPPROTO_UDP, PW_PKT_BAD_TOTLEN, f);
	if (ASSERT_OK(len, "bad total length")) {
		ASSERT_EQ(rd16(f + 16), 20 + 8 + 40 + 100, "total length 100 too large");
		ASSERT_EQ(len, 14 + 20 + 8 + 40, "frame has the real packet");
		ASSERT_EQ(sum16(f + 14, 20, 0), 0xffff, "checksum");
	}
	len = build_mangled(PW_AF_INET, IPPROTO_UDP, PW_PKT_BAD_VERSION, f);
	if (ASSERT_OK(len, "bad version v4")) {
		ASSERT_EQ(rd16(f + 12), 0x0800, "ethertype IPv4");
		ASSERT_EQ(f[14] >> 4, 6, "version 6 under an IPv4 ethertype");
	}
}

static void test_mangle_ipv6(void)
{
	uint8_t f[BUFSZ];
	size_t at;
	int len, n;

	len = build_mangled(PW_AF_INET6, IPPROTO_UDP, PW_PKT_BAD_TOTLEN, f);
	if (ASSERT_OK(len, "bad payload length"))
		ASSERT_EQ(rd16(f + 18), 8 + 40 + 100, "payload length 100 too large");
	len = build_mangled(PW_AF_INET6, IPPROTO_UDP, PW_PKT_BAD_VERSION, f);
	if (ASSERT_OK(len, "bad version v6")) {
		ASSERT_EQ(rd16(f + 12), 0x86dd, "ethertype IPv6");
		ASSERT_EQ(f[14] >> 4, 4, "version 4 under an IPv6 ethertype");
	}
	len = build_mangled(PW_AF_INET6, IPPROTO_UDP, PW_PKT_EXT_TRUNC, f);
	if (ASSERT_OK(len, "ext trunc")) {
		ASSERT_EQ(f[14 + 6], IPPROTO_DSTOPTS, "a DSTOPTS header");
		ASSERT_GE(14 + 40 + (f[14 + 40 + 1] + 1) * 8, len + 1, "it runs past the frame");
		ASSERT_EQ(rd16(f + 18), len - 14 - 40, "payload length matches the frame");
	}
	len = build_mangled(PW_AF_INET6, IPPROTO_TCP, PW_PKT_EXT_LOOP, f);
	if (ASSERT_OK(len, "ext loop")) {
		uint8_t next = f[14 + 6];

		for (n = 0, at = 14 + 40; next == IPPROTO_DSTOPTS && at < (size_t)len; n++) {
			next = f[at];
			at += (f[at + 1] + 1) * 8;
		}
		ASSERT_EQ(n, PW_PKT_EXT_LOOP_N, "DSTOPTS headers in the chain");
		ASSERT_EQ(next, IPPROTO_TCP, "TCP after the chain");
		ASSERT_EQ(len - at, 20 + 40, "TCP header + payload follow");
	}
}

static void test_mangle_doff(void)
{
	uint8_t f[BUFSZ];
	struct parsed r;
	int len;

	len = build_mangled(PW_AF_INET, IPPROTO_TCP, PW_PKT_TCP_BAD_DOFF, f);
	if (!ASSERT_OK(len, "build") || !parse(f, len, &r))
		return;
	ASSERT_EQ(f[r.l4 + 12] >> 4, 4, "data offset 4");
	l4_csum_ok(f, &r, len);
}

/* Runs tshark over a pcap of good packets; fails on any malformed or bad-checksum report. */
static void test_tshark(void)
{
	static const uint8_t protos4[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, IPPROTO_ICMP };
	static const uint8_t protos6[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, IPPROTO_ICMPV6 };
	static uint8_t frames[32][512];
	const void *ptrs[32];
	size_t lens[32], n = 0, i;
	char path[] = "/tmp/pw_pkt_test_XXXXXX.pcap", cmd[1024], line[512];
	struct pw_pkt in = { .proto = IPPROTO_UDP, .sport = 9, .dport = 53, .payload_len = 4 };
	int fd, len, lines = 0, bad = 0, good = 0;
	FILE *out;

	if (system("command -v tshark >/dev/null 2>&1") != 0) {
		pw_test_skip("tshark not installed (apt-get install tshark)");
		return;
	}
	for (i = 0; i < 8; i++) {
		struct pw_pkt p = {
			.family = i < 4 ? PW_AF_INET : PW_AF_INET6,
			.proto = i < 4 ? protos4[i] : protos6[i - 4],
			.sport = 33000,
			.dport = 8080,
			.tcp_flags = PW_TCP_SYN,
			.icmp_type = i < 4 ? 8 : 128,
			.icmp_id = 1,
			.payload_len = i % 4 == 2 ? 0 : 20,
			.ext = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS },
			.n_ext = i == 5 ? 2 : 0,
		};
		struct pw_pkt q = pw_pkt_reply(&p);

		lens[n] = len = pw_pkt_build(&p, frames[n], sizeof(frames[n]));
		n++;
		ASSERT_OK(len, "build");
		lens[n] = len = pw_pkt_build(&q, frames[n], sizeof(frames[n]));
		n++;
		ASSERT_OK(len, "build reply");
	}
	{
		struct pw_pkt e4 = { .family = PW_AF_INET, .proto = IPPROTO_ICMP, .icmp_type = 3,
				     .icmp_code = 3, .inner = &in };
		struct pw_pkt e6 = { .family = PW_AF_INET6, .proto = IPPROTO_ICMPV6, .icmp_type = 1,
				     .icmp_code = 4, .inner = &in };
		struct pw_pkt d = { .family = PW_AF_INET, .proto = IPPROTO_SCTP,
				    .sctp_chunk = PW_PKT_SCTP_DATA, .payload_len = 5 };

		lens[n] = pw_pkt_build(&e4, frames[n], sizeof(frames[n]));
		n++;
		lens[n] = pw_pkt_build(&e6, frames[n], sizeof(frames[n]));
		n++;
		lens[n] = pw_pkt_build(&d, frames[n], sizeof(frames[n]));
		n++;
		lens[n] = pw_pkt_arp(frames[n], sizeof(frames[n]), "10.0.0.1", "10.0.0.2");
		n++;
		lens[n] = pw_pkt_nd(frames[n], sizeof(frames[n]), "fe80::1", "fe80::2");
		n++;
	}
	for (i = 0; i < n; i++) {
		if (!ASSERT_GE((long long)(ssize_t)lens[i], 1, "good frame built"))
			return;
		ptrs[i] = frames[i];
	}
	fd = mkstemps(path, 5);
	if (!ASSERT_GE(fd, 0, "mkstemps"))
		return;
	close(fd);
	if (!ASSERT_OK(pw_pkt_write_pcap(path, ptrs, lens, n), "write pcap"))
		goto out;
	snprintf(cmd, sizeof(cmd),
		 "tshark -n -r %s -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE "
		 "-o udp.check_checksum:TRUE -o sctp.checksum:crc-32c -V 2>&1",
		 path);
	out = popen(cmd, "r");
	if (!ASSERT_OK_PTR(out, "popen tshark"))
		goto out;
	while (fgets(line, sizeof(line), out)) {
		if (!strncmp(line, "Frame ", 6))
			lines++;
		if (strstr(line, "tatus: Good]"))
			good++;
		if (strstr(line, "Malformed") || strstr(line, "Status: Unverified") ||
		    strstr(line, "[incorrect") ||
		    strstr(line, "Bad checksum") || strstr(line, "Checksum Status: Bad") ||
		    strstr(line, "[Expert Info (Error") || strstr(line, "[Expert Info (Warning")) {
			bad++;
			pw_test_diag("tshark: %s", line);
		}
	}
	ASSERT_EQ(WEXITSTATUS(pclose(out)), 0, "tshark exit status");
	ASSERT_EQ(lines, n, "tshark read every frame");
	ASSERT_EQ(bad, 0, "tshark complaints");
	/* Every IP frame has its L4 checksum verified, v4 ones their header's too. */
	ASSERT_GE(good, n - 2 + 8 + 2 + 1, "checksums tshark verified as good");
	pw_test_diag("tshark: %d frames, %d checksums verified good", lines, good);
	if (pw_test_cur.failed)
		pw_test_diag("pcap kept at %s", path);
out:
	if (!pw_test_cur.failed)
		unlink(path);
}

static void test_pcap_format(void)
{
	char path[] = "/tmp/pw_pkt_pcap_XXXXXX";
	const void *ptrs[2];
	uint8_t f[2][BUFSZ], file[2 * BUFSZ];
	size_t lens[2];
	uint32_t hdr[6];
	FILE *in;
	size_t got;
	int fd;

	lens[0] = pw_pkt_arp(f[0], BUFSZ, "10.0.0.1", "10.0.0.2");
	lens[1] = pw_pkt_nd(f[1], BUFSZ, "fe80::1", "fe80::2");
	ptrs[0] = f[0];
	ptrs[1] = f[1];
	fd = mkstemp(path);
	if (!ASSERT_GE(fd, 0, "mkstemp"))
		return;
	close(fd);
	ASSERT_OK(pw_pkt_write_pcap(path, ptrs, lens, 2), "write");
	in = fopen(path, "r");
	if (ASSERT_OK_PTR(in, "reopen")) {
		got = fread(file, 1, sizeof(file), in);
		fclose(in);
		ASSERT_EQ(got, 24 + 16 + lens[0] + 16 + lens[1], "file size");
		memcpy(hdr, file, sizeof(hdr));
		ASSERT_EQ(hdr[0], 0xa1b2c3d4, "magic");
		ASSERT_EQ(hdr[1], 2 | 4 << 16, "version 2.4");
		ASSERT_EQ(hdr[5], 1, "DLT_EN10MB");
		memcpy(hdr, file + 24, 16);
		ASSERT_TRUE(hdr[2] == lens[0] && hdr[3] == lens[0], "record lengths");
		ASSERT_TRUE(memcmp(file + 40, f[0], lens[0]) == 0, "record bytes");
	}
	unlink(path);
	ASSERT_EQ(pw_pkt_write_pcap("/nonexistent/dir/x.pcap", ptrs, lens, 2), -ENOENT,
		  "unwritable path");
}

static const struct pw_test tests[] = {
	{ "crc32c_vector", test_crc32c_vector },
	{ "v4_tcp", test_v4_tcp },
	{ "v4_udp", test_v4_udp },
	{ "v4_sctp", test_v4_sctp },
	{ "v4_icmp_echo", test_v4_icmp },
	{ "v6_tcp", test_v6_tcp },
	{ "v6_udp", test_v6_udp },
	{ "v6_sctp", test_v6_sctp },
	{ "v6_icmpv6_echo", test_v6_icmpv6 },
	{ "defaults_and_padding", test_defaults_and_padding },
	{ "errors", test_errors },
	{ "v4_icmp_error", test_v4_icmp_error },
	{ "v6_icmp_error", test_v6_icmp_error },
	{ "v4_frags", test_v4_frags },
	{ "v6_frags", test_v6_frags },
	{ "v6_ext_headers", test_v6_ext },
	{ "arp", test_arp },
	{ "nd", test_nd },
	{ "reply", test_reply },
	{ "mangle_trunc", test_mangle_trunc },
	{ "mangle_ipv4", test_mangle_ipv4 },
	{ "mangle_ipv6", test_mangle_ipv6 },
	{ "mangle_tcp_doff", test_mangle_doff },
	{ "pcap_format", test_pcap_format },
	{ "tshark", test_tshark },
};

PW_TEST_MAIN(tests)
