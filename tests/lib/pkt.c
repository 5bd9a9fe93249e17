// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test packet builder. Headers are written byte by byte in network order
 * rather than through struct iphdr & co, so the bytes a test expects are the
 * bytes the code says, and malformed headers need no casts around bitfields.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"

#include "pkt.h"

#define ETH_HLEN     14
#define IP4_HLEN     20
#define IP6_HLEN     40
#define EXT_HLEN     8 /* every extension header we write is 8 bytes */
#define ETH_P_IP_    0x0800
#define ETH_P_ARP_   0x0806
#define ETH_P_IPV6_  0x86dd
#define NEXTHDR_FRAG 44

static const uint8_t mac_src[6] = PW_PKT_MAC_SRC;
static const uint8_t mac_dst[6] = PW_PKT_MAC_DST;

/* Append-only cursor over the caller's buffer; the first overflow sticks in err. */
struct cur {
	uint8_t *buf;
	size_t cap, len;
	int err;
};

static uint8_t *put(struct cur *c, size_t n)
{
	uint8_t *at;

	if (c->err || n > c->cap - c->len) {
		c->err = -ENOSPC;
		return NULL;
	}
	at = c->buf + c->len;
	memset(at, 0, n);
	c->len += n;
	return at;
}

static void be16(uint8_t *at, uint16_t v)
{
	at[0] = v >> 8;
	at[1] = v;
}

static void be32(uint8_t *at, uint32_t v)
{
	at[0] = v >> 24;
	at[1] = v >> 16;
	at[2] = v >> 8;
	at[3] = v;
}

static uint32_t csum_add(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *b = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

uint16_t pw_pkt_csum_fold(const void *data, size_t len, uint32_t sum)
{
	sum = csum_add(data, len, sum);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

uint32_t pw_pkt_crc32c(const void *data, size_t len)
{
	const uint8_t *b = data;
	uint32_t crc = ~0U;
	size_t i;
	int k;

	for (i = 0; i < len; i++) {
		crc ^= b[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78U & -(crc & 1));
	}
	return ~crc;
}

struct addrs {
	int family;
	uint8_t src[16], dst[16];
	size_t alen;
};

static int parse_addrs(const struct pw_pkt *p, int family, struct addrs *a)
{
	const char *src = p->src, *dst = p->dst;
	int af;

	a->family = family;
	if (family == PW_AF_INET) {
		af = AF_INET;
		a->alen = 4;
		src = src ?: PW_PKT_V4_SRC;
		dst = dst ?: PW_PKT_V4_DST;
	} else if (family == PW_AF_INET6) {
		af = AF_INET6;
		a->alen = 16;
		src = src ?: PW_PKT_V6_SRC;
		dst = dst ?: PW_PKT_V6_DST;
	} else {
		return -EINVAL;
	}
	if (inet_pton(af, src, a->src) != 1 || inet_pton(af, dst, a->dst) != 1)
		return -EINVAL;
	return 0;
}

/* Partial sum of the pseudo-header of TCP/UDP/ICMPv6 (RFC 793, RFC 8200 8.1). */
static uint32_t pseudo_sum(const struct addrs *a, uint8_t proto, size_t l4len)
{
	uint32_t sum = csum_add(a->src, a->alen, 0);

	sum = csum_add(a->dst, a->alen, sum);
	sum += proto;
	sum += l4len >> 16;
	sum += l4len & 0xffff;
	return sum;
}

static void fill_pattern(uint8_t *at, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		at[i] = i & 0xff;
}

static int build_ip(const struct pw_pkt *p, int family, struct cur *c);

/* Writes the L4 header and payload; returns its offset in c, the length being c->len - offset. */
static size_t build_l4(const struct pw_pkt *p, int family, struct cur *c)
{
	size_t off = c->len, n;
	uint8_t *h;

	switch (p->proto) {
	case IPPROTO_TCP:
		h = put(c, 20);
		if (!h)
			break;
		be16(h, p->sport);
		be16(h + 2, p->dport);
		be32(h + 4, p->seq ?: PW_PKT_TCP_SEQ);
		be32(h + 8, p->ack_seq);
		h[12] = (p->mangle == PW_PKT_TCP_BAD_DOFF ? 4 : 5) << 4;
		h[13] = p->tcp_flags;
		be16(h + 14, PW_PKT_TCP_WINDOW);
		break;
	case IPPROTO_UDP:
		h = put(c, 8);
		if (!h)
			break;
		be16(h, p->sport);
		be16(h + 2, p->dport);
		break;
	case IPPROTO_SCTP:
		h = put(c, 12);
		if (!h)
			break;
		be16(h, p->sport);
		be16(h + 2, p->dport);
		if (!p->sctp_chunk) {
			/* INIT (RFC 9260 3.3.2): verification tag 0, no parameters. */
			h = put(c, 20);
			if (!h)
				break;
			h[0] = 1;
			be16(h + 2, 20);
			be32(h + 4, PW_PKT_SCTP_INIT_TAG);
			be32(h + 8, 65535); /* a_rwnd */
			be16(h + 12, 1);    /* outbound streams */
			be16(h + 14, 1);    /* inbound streams */
			be32(h + 16, 1);    /* initial TSN */
		} else {
			be32(h + 4, PW_PKT_SCTP_VTAG);
			n = p->sctp_chunk == PW_PKT_SCTP_DATA ? 16 : 4;
			h = put(c, n);
			if (!h)
				break;
			h[0] = p->sctp_chunk & 0xff;
			be16(h + 2, n + p->payload_len);
			if (n == 16) {
				h[1] = 0x03; /* B|E: an unfragmented message */
				be32(h + 4, 1); /* TSN */
			}
		}
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		h = put(c, 8);
		if (!h)
			break;
		h[0] = p->icmp_type;
		h[1] = p->icmp_code;
		be16(h + 4, p->icmp_id);
		be16(h + 6, p->icmp_seq);
		/* The quoted packet keeps its own mangle: errors about malformed packets. */
		if (p->inner && build_ip(p->inner, p->inner->family ?: family, c) && !c->err)
			c->err = -EINVAL;
		break;
	default:
		break;
	}
	/* An INIT carries no user data, so its payload would not belong to any chunk. */
	if (p->proto != IPPROTO_SCTP || p->sctp_chunk) {
		h = put(c, p->payload_len);
		if (h)
			fill_pattern(h, p->payload_len);
	}
	if (p->proto == IPPROTO_SCTP && !c->err) {
		/* Chunks are padded to 4 bytes, the padding not counted in the chunk length. */
		n = (4 - (c->len - off) % 4) % 4;
		put(c, n);
	}
	return off;
}

static void l4_csum(const struct pw_pkt *p, const struct addrs *a, uint8_t *l4, size_t len)
{
	uint32_t crc;
	uint16_t sum;

	switch (p->proto) {
	case IPPROTO_TCP:
		sum = pw_pkt_csum_fold(l4, len, pseudo_sum(a, p->proto, len));
		be16(l4 + 16, ~sum);
		break;
	case IPPROTO_UDP:
		be16(l4 + 4, len);
		sum = ~pw_pkt_csum_fold(l4, len, pseudo_sum(a, p->proto, len));
		/* 0 means "no checksum" in UDP (RFC 768), so a computed 0 is sent as ~0. */
		be16(l4 + 6, sum ?: 0xffff);
		break;
	case IPPROTO_ICMP:
		be16(l4 + 2, ~pw_pkt_csum_fold(l4, len, 0));
		break;
	case IPPROTO_ICMPV6:
		sum = pw_pkt_csum_fold(l4, len, pseudo_sum(a, p->proto, len));
		be16(l4 + 2, ~sum);
		break;
	case IPPROTO_SCTP:
		/* Linux and RFC 9260 appendix A: the CRC goes out least significant byte first. */
		crc = pw_pkt_crc32c(l4, len);
		l4[8] = crc;
		l4[9] = crc >> 8;
		l4[10] = crc >> 16;
		l4[11] = crc >> 24;
		break;
	default:
		break;
	}
}

/* Writes an 8-byte extension header: options padded with PadN, or a routing header. */
static void put_ext(struct cur *c, uint8_t type)
{
	uint8_t *h = put(c, EXT_HLEN);

	if (!h)
		return;
	if (type == IPPROTO_ROUTING) {
		/* Experimental type (RFC 4727) with no segments left: skipped by every router. */
		h[2] = 253;
		return;
	}
	h[2] = 1; /* PadN */
	h[3] = 4;
}

/* Writes an IPv4 or IPv6 packet (no Ethernet) at the cursor; 0 or -errno. */
static int build_ip(const struct pw_pkt *p, int family, struct cur *c)
{
	size_t ip = c->len, l4 = 0, i, next_at;
	bool has_l4 = !p->frag || p->frag_offset == 0;
	uint8_t types[4 + PW_PKT_EXT_LOOP_N + 1];
	struct addrs a;
	int n = 0, err;
	uint8_t *h;

	err = parse_addrs(p, family, &a);
	if (err)
		return err;

	if (family == PW_AF_INET) {
		h = put(c, IP4_HLEN);
		if (!h)
			return c->err;
		h[0] = 0x45;
		be16(h + 4, p->frag_id);
		if (p->frag)
			be16(h + 6, (p->more_frags ? 0x2000 : 0) | (p->frag_offset & 0x1fff));
		h[8] = p->ttl ?: 64;
		h[9] = p->proto;
		memcpy(h + 12, a.src, 4);
		memcpy(h + 16, a.dst, 4);
	} else {
		if (p->n_ext < 0 || p->n_ext > 4)
			return -EINVAL;
		for (i = 0; i < (size_t)p->n_ext; i++) {
			if (p->ext[i] != IPPROTO_HOPOPTS && p->ext[i] != IPPROTO_DSTOPTS &&
			    p->ext[i] != IPPROTO_ROUTING)
				return -EINVAL;
			types[n++] = p->ext[i];
		}
		if (p->mangle == PW_PKT_EXT_LOOP)
			for (i = 0; i < PW_PKT_EXT_LOOP_N; i++)
				types[n++] = IPPROTO_DSTOPTS;
		if (p->mangle == PW_PKT_EXT_TRUNC && !n)
			types[n++] = IPPROTO_DSTOPTS;
		if (p->frag)
			types[n++] = NEXTHDR_FRAG;

		h = put(c, IP6_HLEN);
		if (!h)
			return c->err;
		h[0] = 0x60;
		h[7] = p->ttl ?: 64;
		memcpy(h + 8, a.src, 16);
		memcpy(h + 24, a.dst, 16);
		next_at = ip + 6;
		for (i = 0; i < (size_t)n; i++) {
			c->buf[next_at] = types[i];
			next_at = c->len;
			if (types[i] == NEXTHDR_FRAG) {
				h = put(c, EXT_HLEN);
				if (!h)
					return c->err;
				be16(h + 2, (p->frag_offset << 3) | (p->more_frags ? 1 : 0));
				be32(h + 4, p->frag_id);
			} else {
				put_ext(c, types[i]);
			}
			if (c->err)
				return c->err;
		}
		c->buf[next_at] = p->proto;
		if (p->mangle == PW_PKT_EXT_TRUNC)
			/* The last option header claims 2 KiB, far more than the frame has. */
			c->buf[ip + IP6_HLEN + (n - 1 - !!p->frag) * EXT_HLEN + 1] = 255;
	}

	if (has_l4) {
		l4 = build_l4(p, family, c);
	} else {
		h = put(c, p->payload_len);
		if (h)
			fill_pattern(h, p->payload_len);
	}
	if (c->err)
		return c->err;

	if (has_l4)
		l4_csum(p, &a, c->buf + l4, c->len - l4);

	h = c->buf + ip;
	if (family == PW_AF_INET) {
		be16(h + 2, c->len - ip + (p->mangle == PW_PKT_BAD_TOTLEN ? 100 : 0));
		if (p->mangle == PW_PKT_BAD_IHL)
			h[0] = 0x44;
		if (p->mangle == PW_PKT_BAD_VERSION)
			h[0] = 0x65;
		be16(h + 10, ~pw_pkt_csum_fold(h, IP4_HLEN, 0));
	} else {
		be16(h + 4, c->len - ip - IP6_HLEN + (p->mangle == PW_PKT_BAD_TOTLEN ? 100 : 0));
		if (p->mangle == PW_PKT_BAD_VERSION)
			h[0] = 0x40;
	}
	return 0;
}

static uint8_t *put_eth(struct cur *c, const uint8_t *dmac, const uint8_t *smac, uint16_t type)
{
	uint8_t *h = put(c, ETH_HLEN);

	if (!h)
		return NULL;
	memcpy(h, dmac, 6);
	memcpy(h + 6, smac, 6);
	be16(h + 12, type);
	return h;
}

static int build_arp(const struct pw_pkt *p, struct cur *c)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const uint8_t *smac = p->smac ?: mac_src;
	uint8_t *h;

	if (!put_eth(c, p->dmac ?: bcast, smac, ETH_P_ARP_))
		return c->err;
	h = put(c, 28);
	if (!h)
		return c->err;
	be16(h, 1);		/* Ethernet */
	be16(h + 2, ETH_P_IP_);
	h[4] = 6;
	h[5] = 4;
	be16(h + 6, 1);		/* request */
	memcpy(h + 8, smac, 6);
	if (inet_pton(AF_INET, p->src, h + 14) != 1 || inet_pton(AF_INET, p->dst, h + 24) != 1)
		return -EINVAL;
	return 0;
}

int pw_pkt_build(const struct pw_pkt *p, void *buf, size_t cap)
{
	struct cur c = { .buf = buf, .cap = cap };
	size_t l3 = ETH_HLEN, l4, cut = 0;
	uint16_t type;
	uint8_t *h;
	int err;

	if ((int)p->mangle < 0 || p->mangle >= _PW_PKT_MANGLE_MAX)
		return -EINVAL;
	if (p->family == 0 && p->ethertype == ETH_P_ARP_ && p->src && p->dst) {
		err = build_arp(p, &c);
		if (err)
			return err;
		goto pad;
	}
	if (p->family == PW_AF_INET)
		type = ETH_P_IP_;
	else if (p->family == PW_AF_INET6)
		type = ETH_P_IPV6_;
	else if (p->family == 0)
		type = p->ethertype;
	else
		return -EINVAL;
	if (!put_eth(&c, p->dmac ?: mac_dst, p->smac ?: mac_src, type))
		return c.err;

	if (p->family == 0) {
		h = put(&c, p->payload_len);
		if (!h)
			return c.err;
		fill_pattern(h, p->payload_len);
		goto pad;
	}
	err = build_ip(p, p->family, &c);
	if (err)
		return err;

	switch (p->mangle) {
	case PW_PKT_TRUNC_L3:
		cut = l3 + (p->family == PW_AF_INET ? IP4_HLEN : IP6_HLEN) / 2;
		break;
	case PW_PKT_TRUNC_L4:
		/* Four bytes of L4: ports, but no ICMP checksum/id, UDP length, TCP seq. */
		l4 = l3 + (p->family == PW_AF_INET ? IP4_HLEN :
						      IP6_HLEN + EXT_HLEN * (p->n_ext + !!p->frag));
		cut = l4 + 4;
		break;
	case PW_PKT_IHL_BEYOND:
		/* IHL 15 asks for 60 bytes of header; the frame holds 56 of the packet. */
		if (p->family != PW_AF_INET)
			return -EINVAL;
		cut = l3 + 56;
		h = c.buf + l3;
		h[0] = 0x4f;
		if (c.len > cut)
			be16(h + 2, 56);
		be16(h + 10, 0);
		be16(h + 10, ~pw_pkt_csum_fold(h, IP4_HLEN, 0));
		break;
	default:
		break;
	}
	if (cut) {
		if (cut < c.len)
			c.len = cut;
		return c.len;
	}
pad:
	if (c.len < p->min_len && !put(&c, p->min_len - c.len))
		return c.err;
	return c.len;
}

int pw_pkt_arp(void *buf, size_t cap, const char *sender_ip, const char *target_ip)
{
	struct pw_pkt p = {
		.ethertype = ETH_P_ARP_,
		.src = sender_ip,
		.dst = target_ip,
	};

	if (!sender_ip || !target_ip)
		return -EINVAL;
	return pw_pkt_build(&p, buf, cap);
}

int pw_pkt_nd(void *buf, size_t cap, const char *src, const char *target)
{
	struct cur c = { .buf = buf, .cap = cap };
	uint8_t tgt[16], dmac[6] = { 0x33, 0x33, 0xff };
	char dst[INET6_ADDRSTRLEN];
	struct pw_pkt p = {
		.family = PW_AF_INET6,
		.src = src,
		.dst = dst,
		.proto = IPPROTO_ICMPV6,
		.icmp_type = 135,
		.ttl = 255, /* RFC 4861 7.1.1: receivers drop ND with any other hop limit */
		.payload_len = 24,
	};
	const uint8_t *smac = mac_src;
	struct addrs a;
	uint8_t *h;
	size_t l4;
	int err;

	if (!src || !target || inet_pton(AF_INET6, target, tgt) != 1)
		return -EINVAL;
	/* Solicited-node multicast ff02::1:ffXX:XXXX (RFC 4291 2.7.1). */
	snprintf(dst, sizeof(dst), "ff02::1:ff%02x:%02x%02x", tgt[13], tgt[14], tgt[15]);
	memcpy(dmac + 3, tgt + 13, 3);
	p.dmac = dmac;
	if (!put_eth(&c, dmac, smac, ETH_P_IPV6_))
		return c.err;
	err = parse_addrs(&p, PW_AF_INET6, &a);
	if (err)
		return err;
	/* Build with a pattern body, then overwrite it with target + SLLA option and re-sum. */
	err = build_ip(&p, PW_AF_INET6, &c);
	if (err)
		return err;
	l4 = ETH_HLEN + IP6_HLEN;
	h = c.buf + l4;
	memset(h + 2, 0, 6); /* checksum and reserved */
	memcpy(h + 8, tgt, 16);
	h[24] = 1; /* source link-layer address */
	h[25] = 1; /* in units of 8 bytes */
	memcpy(h + 26, smac, 6);
	l4_csum(&p, &a, h, c.len - l4);
	return c.len;
}

struct pw_pkt pw_pkt_reply(const struct pw_pkt *p)
{
	struct pw_pkt r = *p;

	r.src = p->dst;
	r.dst = p->src;
	if (!p->src || !p->dst) {
		/* Swap defaults too, or a reply to a default packet would repeat it. */
		bool v4 = p->family == PW_AF_INET;

		r.src = p->dst ?: (v4 ? PW_PKT_V4_DST : PW_PKT_V6_DST);
		r.dst = p->src ?: (v4 ? PW_PKT_V4_SRC : PW_PKT_V6_SRC);
	}
	r.smac = p->dmac ?: mac_dst;
	r.dmac = p->smac ?: mac_src;
	r.sport = p->dport;
	r.dport = p->sport;
	r.seq = p->ack_seq;
	r.ack_seq = p->seq ?: PW_PKT_TCP_SEQ;
	if (p->proto == IPPROTO_ICMP && p->icmp_type == 8)
		r.icmp_type = 0;
	if (p->proto == IPPROTO_ICMPV6 && p->icmp_type == 128)
		r.icmp_type = 129;
	return r;
}

static int fwrite_all(FILE *f, const void *data, size_t len)
{
	return fwrite(data, 1, len, f) == len ? 0 : -EIO;
}

int pw_pkt_write_pcap(const char *path, const void *const *frames, const size_t *lens, size_t n)
{
	/* Classic pcap, written in host order: readers detect it from the magic. */
	const struct {
		uint32_t magic;
		uint16_t major, minor;
		int32_t thiszone;
		uint32_t sigfigs, snaplen, linktype;
	} hdr = { 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1 /* DLT_EN10MB */ };
	_cleanup_fclose_ FILE *f = fopen(path, "we");
	struct {
		uint32_t sec, usec, incl, orig;
	} rec;
	size_t i;
	int err;

	if (!f)
		return -errno;
	err = fwrite_all(f, &hdr, sizeof(hdr));
	for (i = 0; i < n && !err; i++) {
		rec.sec = 0;
		rec.usec = i;
		rec.incl = rec.orig = lens[i];
		err = fwrite_all(f, &rec, sizeof(rec)) ?: fwrite_all(f, frames[i], lens[i]);
	}
	if (err)
		return err;
	if (fflush(f))
		return -errno;
	return 0;
}
