/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Packet builder for tests: a struct describes one packet, pw_pkt_build()
 * writes it as an Ethernet frame with correct lengths and checksums (or with
 * one deliberate malformation). Tests build packets here instead of
 * carrying hex blobs, so every case says what it sends.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <podwall/types.h>

/* TCP flag bits, as in the 13th byte of the TCP header. */
#define PW_TCP_FIN 0x01
#define PW_TCP_SYN 0x02
#define PW_TCP_RST 0x04
#define PW_TCP_PSH 0x08
#define PW_TCP_ACK 0x10
#define PW_TCP_URG 0x20

/* Locally administered, fixed MACs: the default source and destination of every frame. */
#define PW_PKT_MAC_SRC { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 }
#define PW_PKT_MAC_DST { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 }

/* Default addresses when pw_pkt.src/dst are NULL. */
#define PW_PKT_V4_SRC "10.0.0.1"
#define PW_PKT_V4_DST "10.0.0.2"
#define PW_PKT_V6_SRC "fd00::1"
#define PW_PKT_V6_DST "fd00::2"

/* pw_pkt.sctp_chunk: 0 means INIT; DATA (type 0) is asked for with this value. */
#define PW_PKT_SCTP_DATA 0x100

/* Extension headers PW_PKT_EXT_LOOP appends to the chain. */
#define PW_PKT_EXT_LOOP_N 10

/* Values of the INIT chunk and of the TCP header when the description leaves them 0. */
#define PW_PKT_SCTP_INIT_TAG 0x01020304U
#define PW_PKT_SCTP_VTAG     0x0a0b0c0dU /* verification tag of non-INIT chunks */
#define PW_PKT_TCP_SEQ	     1000U
#define PW_PKT_TCP_WINDOW    65535

enum pw_pkt_mangle {
	PW_PKT_OK = 0,
	PW_PKT_TRUNC_L3,     /* frame ends inside the IPv4/IPv6 header */
	PW_PKT_TRUNC_L4,     /* frame ends inside the TCP/UDP/SCTP/ICMP header */
	PW_PKT_BAD_IHL,	     /* IPv4 IHL < 5 (4) */
	PW_PKT_IHL_BEYOND,   /* IPv4 IHL (15) pointing past the end of the frame */
	PW_PKT_BAD_TOTLEN,   /* IPv4 total / IPv6 payload length 100 bytes more than sent */
	PW_PKT_BAD_VERSION,  /* IP version nibble not matching the ethertype */
	PW_PKT_EXT_TRUNC,    /* IPv6 extension header chain running past the end of the frame */
	PW_PKT_EXT_LOOP,     /* IPv6: PW_PKT_EXT_LOOP_N extra DSTOPTS headers before the L4 */
	PW_PKT_TCP_BAD_DOFF, /* TCP data offset < 5 (4) */
	_PW_PKT_MANGLE_MAX,
};

/*
 * Describes one packet; zero-initialise and set what you need. Addresses are
 * text ("10.0.0.1", "fd00::1"); NULL selects PW_PKT_{V4,V6}_{SRC,DST}.
 */
struct pw_pkt {
	int family;	    /* PW_AF_INET or PW_AF_INET6; 0 = non-IP (see ethertype) */
	uint16_t ethertype; /* only when family == 0; ETH_P_ARP with src/dst = ARP request */
	const char *src, *dst;
	const uint8_t *smac, *dmac; /* 6 bytes each; NULL = PW_PKT_MAC_SRC / PW_PKT_MAC_DST */
	uint8_t proto;		    /* IPPROTO_TCP/UDP/SCTP/ICMP/ICMPV6, else raw payload */
	uint16_t sport, dport;	    /* host order (TCP/UDP/SCTP) */
	uint8_t tcp_flags;	    /* PW_TCP_* */
	uint32_t seq, ack_seq;	    /* TCP; seq 0 = PW_PKT_TCP_SEQ; ack_seq sent as is */
	uint16_t sctp_chunk;	    /* chunk type; 0 = INIT, PW_PKT_SCTP_DATA = DATA */
	uint8_t icmp_type, icmp_code;
	/*
	 * The 4 bytes after the ICMP/ICMPv6 checksum, network order: echo id and
	 * sequence, or for errors e.g. the next-hop MTU (v4: icmp_seq; v6 Packet
	 * Too Big: icmp_id << 16 | icmp_seq).
	 */
	uint16_t icmp_id, icmp_seq;
	/* ICMP/ICMPv6: packet quoted after the 8-byte header (no Ethernet; family 0 = outer's) */
	const struct pw_pkt *inner;
	uint8_t ttl; /* also IPv6 hop limit; 0 = 64 */
	/* Fragments (IPv4 header fields; for IPv6 a Fragment extension header is added). */
	bool frag;	      /* this packet is a fragment */
	uint16_t frag_offset; /* in 8-byte units; 0 = first fragment (carries the L4 header) */
	bool more_frags;
	uint32_t frag_id; /* IPv4 uses the low 16 bits; also the IPv4 id of non-fragments */
	/* IPv6 extension headers before the upper layer, in order: HOPOPTS/DSTOPTS/ROUTING */
	uint8_t ext[4];
	int n_ext;
	size_t payload_len; /* bytes after the L4 header (pattern-filled: byte i = i & 0xff) */
	size_t min_len;	    /* pad the frame with zeros to at least this many bytes */
	enum pw_pkt_mangle mangle;
};

/**
 * pw_pkt_build() - write the Ethernet frame described by @p into @buf.
 *
 * Checksums are correct everywhere (IPv4 header, TCP/UDP/ICMPv6 with the
 * pseudo-header, ICMP, SCTP CRC32c), also under a mangle unless the mangle
 * makes them meaningless (truncation). The L4 checksum of a first fragment
 * covers the bytes of that fragment only. Truncating mangles ignore min_len.
 *
 * Return: the frame length, -ENOSPC if @cap is too small, -EINVAL for a bad
 * address, family or extension header.
 */
int pw_pkt_build(const struct pw_pkt *p, void *buf, size_t cap);

/**
 * pw_pkt_arp() - write a broadcast ARP request (who-has @target_ip, tell
 * @sender_ip) from PW_PKT_MAC_SRC.
 *
 * Return: the frame length or -errno as pw_pkt_build().
 */
int pw_pkt_arp(void *buf, size_t cap, const char *sender_ip, const char *target_ip);

/**
 * pw_pkt_nd() - write an IPv6 neighbour solicitation (ICMPv6 135) from @src
 * for @target, to its solicited-node multicast address (and 33:33:ff:… MAC),
 * hop limit 255, with a source link-layer address option.
 *
 * Return: the frame length or -errno as pw_pkt_build().
 */
int pw_pkt_nd(void *buf, size_t cap, const char *src, const char *target);

/**
 * pw_pkt_reply() - the description of a reply to @p: addresses, MACs, ports
 * and TCP seq/ack swapped, echo request turned into echo reply. Pointers in the
 * result point to the same strings as @p's.
 */
struct pw_pkt pw_pkt_reply(const struct pw_pkt *p);

/**
 * pw_pkt_write_pcap() - write @n frames to @path as a classic pcap file
 * (DLT_EN10MB, microsecond timestamps 1 µs apart), for reading failed cases
 * with tshark.
 *
 * Return: 0 or -errno.
 */
int pw_pkt_write_pcap(const char *path, const void *const *frames, const size_t *lens, size_t n);

/* Internet checksum of @len bytes plus partial sum @sum (host order); folded, not inverted. */
uint16_t pw_pkt_csum_fold(const void *data, size_t len, uint32_t sum);

/* CRC32c (Castagnoli) as used by SCTP: init ~0, final xor ~0. */
uint32_t pw_pkt_crc32c(const void *data, size_t len);
