// SPDX-License-Identifier: GPL-2.0-only
/*
 * The offline inspector: pcap → decode → flow table → TCP reassembly → app
 * parsers → signature engine → eve.json. The same path the daemon will run on
 * sampled packets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <pcap/pcap.h>

#include "cleanup.h"
#include "eve.h"
#include "flow.h"
#include "inspect.h"
#include "log.h"

#define DEFAULT_MAX_FLOWS 65536
#define DEFAULT_STREAM_DEPTH (8u << 20)
#define ALERTS_PER_PACKET 15 /* like Suricata's packet-alert-max */
#define HASH_BUCKETS (1u << 16)
#define STREAM_TAIL 1024 /* stream bytes kept for patterns across segments */

/* IPv4 reassembly: a few datagrams at a time, each up to 64 KiB, first copy of a byte wins. */
#define DEFRAG_SLOTS 32
#define DEFRAG_MAX 65535
#define DEFRAG_TIMEOUT 30000000ULL /* usec */

struct defrag_slot {
	bool used, have_last;
	uint8_t src[4], dst[4], proto;
	uint16_t id;
	uint64_t first_usec;
	size_t total; /* payload bytes, known once the last fragment arrived */
	uint8_t hdr[60]; /* IP header of the first fragment */
	size_t hl;
	uint8_t *data; /* DEFRAG_MAX bytes */
	uint8_t have[DEFRAG_MAX / 8 / 8 + 1]; /* one bit per 8-byte unit */
};

struct defrag {
	struct defrag_slot slot[DEFRAG_SLOTS];
	uint8_t *out; /* the last reassembled datagram, valid for one packet */
	uint64_t now;
};

struct pkt {
	struct defrag *df;
	bool l4_bad; /* truncated L4 header: inspected as IP only, outside any flow */
	bool tunneled; /* this is the inner packet; outer holds the tunnel's IP header */
	bool reassembled; /* l3 points into the defragmented datagram */
	struct {
		uint8_t family, proto;
		uint8_t src[16], dst[16];
		const uint8_t *l3;
		size_t l3len;
	} outer;
	uint8_t family, proto, tcp_flags;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint32_t seq, ack;
	const uint8_t *l3, *payload;
	size_t l3len, plen;
	int icmp_type, icmp_code;
};

struct insp {
	struct pw_sig_set *set;
	struct pw_inspect_opts opts; /* o points here */
	const struct pw_inspect_opts *o;
	struct pw_inspect_stats own_st; /* st points here unless the caller gave one */
	bool own_eve; /* eve was opened here (eve_path), not given (eve_file) */
	struct pw_inspect_stats *st;
	FILE *eve;
	struct flow **hash;
	struct flow *lru_head, *lru_tail; /* head: most recently used */
	size_t nflows, max_flows;
	uint64_t next_id;
	struct dpi *dpi;
	/* current packet */
	uint64_t pcap_cnt, ts;
	const struct pkt *pk;
	struct flow *flow;
	bool to_server;
	int alerts_this_pkt;
	const struct app_unit *unit;
	const struct pw_sig_input *in;
	struct defrag df;
	bool has_tcp_pkt; /* some rule is tcp-pkt: TCP segments get a raw unit too */
	const uint8_t *pkt_data; /* the current packet unit's payload */
	size_t pkt_len;
	bool block;
};

/* ---- decode ---- */

static int decode_l4_hdr(struct pkt *p, const uint8_t *d, size_t n);

static int decode_l4(struct pkt *p, const uint8_t *d, size_t n)
{
	if (decode_l4_hdr(p, d, n)) {
		p->l4_bad = true;
		p->sport = p->dport = 0;
		p->tcp_flags = 0;
		p->payload = d;
		p->plen = 0;
	}
	return 0;
}

static int decode_l4_hdr(struct pkt *p, const uint8_t *d, size_t n)
{
	p->icmp_type = p->icmp_code = -1;
	switch (p->proto) {
	case IPPROTO_TCP: {
		size_t off;

		if (n < 20)
			return -1;
		off = (d[12] >> 4) * 4;
		if (off < 20 || off > n)
			return -1;
		p->sport = d[0] << 8 | d[1];
		p->dport = d[2] << 8 | d[3];
		p->seq = (uint32_t)d[4] << 24 | d[5] << 16 | d[6] << 8 | d[7];
		p->ack = (uint32_t)d[8] << 24 | d[9] << 16 | d[10] << 8 | d[11];
		p->tcp_flags = d[13];
		p->payload = d + off;
		p->plen = n - off;
		return 0;
	}
	case IPPROTO_UDP:
		if (n < 8)
			return -1;
		p->sport = d[0] << 8 | d[1];
		p->dport = d[2] << 8 | d[3];
		p->payload = d + 8;
		p->plen = n - 8;
		return 0;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (n < 4)
			return -1;
		p->icmp_type = d[0];
		p->icmp_code = d[1];
		p->payload = d + (n >= 8 ? 8 : 4);
		p->plen = n - (n >= 8 ? 8 : 4);
		return 0;
	default:
		p->payload = d;
		p->plen = n;
		return 0;
	}
}

static int decode_ip(struct pkt *p, const uint8_t *d, size_t n);
static int decode_eth(struct pkt *p, const uint8_t *d, size_t n);

/* GRE (RFC 2784/2890): the inner packet is inspected, the tunnel is not. */
static int decode_gre(struct pkt *p, const uint8_t *d, size_t n)
{
	size_t off = 4;
	uint16_t fl, pt;

	if (n < 4)
		return -1;
	fl = d[0] << 8 | d[1];
	pt = d[2] << 8 | d[3];
	off += (fl & 0x8000 ? 4 : 0) + (fl & 0x2000 ? 4 : 0) + (fl & 0x1000 ? 4 : 0);
	if (off > n)
		return -1;
	d += off;
	n -= off;
	switch (pt) {
	case 0x0800:
	case 0x86dd:
		return decode_ip(p, d, n);
	case 0x6558:
		return decode_eth(p, d, n);
	case 0x880b: /* PPP: address/control may be left out, the protocol compressed to a byte */
		if (n >= 2 && d[0] == 0xff && d[1] == 0x03) {
			d += 2;
			n -= 2;
		}
		if (n >= 1 && (d[0] == 0x21 || d[0] == 0x57))
			return decode_ip(p, d + 1, n - 1);
		if (n >= 2 && (d[0] << 8 | d[1]) == 0x0021)
			return decode_ip(p, d + 2, n - 2);
		if (n >= 2 && (d[0] << 8 | d[1]) == 0x0057)
			return decode_ip(p, d + 2, n - 2);
		return -1;
	default:
		return -1;
	}
}

static int decode_inner(struct pkt *p, int depth)
{
	const uint8_t *d = p->payload;
	size_t n = p->plen;
	int rc;

	if (depth > 4)
		return 0;
	/* IP-level tunnels: the outermost header is inspected too (IP-only rules). */
	if (!p->tunneled &&
	    (p->proto == IPPROTO_GRE || p->proto == IPPROTO_IPIP || p->proto == IPPROTO_IPV6)) {
		p->tunneled = true;
		p->outer.family = p->family;
		p->outer.proto = p->proto;
		memcpy(p->outer.src, p->src, 16);
		memcpy(p->outer.dst, p->dst, 16);
		p->outer.l3 = p->l3;
		p->outer.l3len = p->l3len;
	}
	switch (p->proto) {
	case IPPROTO_GRE:
		rc = decode_gre(p, d, n);
		if (rc)
			return rc;
		break;
	case IPPROTO_IPIP:
	case IPPROTO_IPV6:
		rc = decode_ip(p, d, n);
		if (rc)
			return rc;
		break;
	case IPPROTO_UDP:
		if ((p->dport == 4789 || p->dport == 8472) && n > 8 && (d[0] & 0x08)) { /* VXLAN */
			if (decode_eth(p, d + 8, n - 8))
				return -1;
			break;
		}
		if (p->dport == 6081 && n >= 8) { /* Geneve */
			size_t ol = 8 + (d[0] & 0x3f) * 4;

			if (ol > n || (d[2] << 8 | d[3]) != 0x6558 || decode_eth(p, d + ol, n - ol))
				return -1;
			break;
		}
		return 0;
	default:
		return 0;
	}
	return decode_inner(p, depth + 1);
}

static bool units_complete(const struct defrag_slot *sl)
{
	for (size_t u = 0; u < (sl->total + 7) / 8; u++)
		if (!(sl->have[u / 8] & (1u << (u % 8))))
			return false;
	return true;
}

/*
 * Adds a fragment; returns the reassembled datagram (valid until the next call)
 * and its length when this fragment completed one, else NULL.
 */
static const uint8_t *defrag_add(struct defrag *df, const uint8_t *d, size_t hl, size_t n,
				 size_t *outlen)
{
	uint16_t fo = (d[6] << 8 | d[7]), id = d[4] << 8 | d[5];
	size_t off = (size_t)(fo & 0x1fff) * 8, len = n - hl;
	bool mf = fo & 0x2000;
	struct defrag_slot *sl = NULL, *free_sl = NULL, *oldest = NULL;

	for (int i = 0; i < DEFRAG_SLOTS; i++) {
		struct defrag_slot *c = &df->slot[i];

		if (c->used && df->now - c->first_usec > DEFRAG_TIMEOUT)
			c->used = false;
		if (c->used && c->id == id && c->proto == d[9] && !memcmp(c->src, d + 12, 4) &&
		    !memcmp(c->dst, d + 16, 4))
			sl = c;
		if (!c->used && !free_sl)
			free_sl = c;
		if (c->used && (!oldest || c->first_usec < oldest->first_usec))
			oldest = c;
	}
	if (!sl) {
		sl = free_sl ? free_sl : oldest;
		if (!sl->data && !(sl->data = malloc(DEFRAG_MAX)))
			return NULL;
		memset(sl->have, 0, sizeof(sl->have));
		sl->used = true;
		sl->have_last = false;
		sl->hl = 0;
		sl->id = id;
		sl->proto = d[9];
		memcpy(sl->src, d + 12, 4);
		memcpy(sl->dst, d + 16, 4);
		sl->first_usec = df->now;
	}
	if (off + len > DEFRAG_MAX) {
		sl->used = false; /* oversized: dropped, as the datagram would be */
		return NULL;
	}
	if (!off) {
		memcpy(sl->hdr, d, hl);
		sl->hl = hl;
	}
	if (!mf) {
		sl->have_last = true;
		sl->total = off + len;
	}
	for (size_t b = off; b < off + len; b += 8) {
		size_t u = b / 8;

		if (!(sl->have[u / 8] & (1u << (u % 8)))) {
			memcpy(sl->data + b, d + hl + (b - off),
			       b + 8 <= off + len ? 8 : off + len - b);
			/* a partial unit is only final at the end of the datagram */
			if (b + 8 <= off + len || !mf)
				sl->have[u / 8] |= 1u << (u % 8);
		}
	}
	if (!sl->have_last || !sl->hl || !units_complete(sl))
		return NULL;
	free(df->out);
	df->out = malloc(sl->hl + sl->total);
	sl->used = false;
	if (!df->out)
		return NULL;
	memcpy(df->out, sl->hdr, sl->hl);
	memcpy(df->out + sl->hl, sl->data, sl->total);
	df->out[2] = (sl->hl + sl->total) >> 8; /* may wrap above 64 KiB; length is passed along */
	df->out[3] = (sl->hl + sl->total) & 0xff;
	df->out[6] = df->out[7] = 0;
	*outlen = sl->hl + sl->total;
	return df->out;
}

static int decode_ip(struct pkt *p, const uint8_t *d, size_t n)
{
	if (n < 1)
		return -1;
	p->l3 = d;
	if ((d[0] >> 4) == 4) {
		size_t hl = (d[0] & 15) * 4, tl;

		if (n < 20 || hl < 20 || hl > n)
			return -1;
		tl = d[2] << 8 | d[3];
		if (tl < hl && !p->reassembled)
			return -1;
		if (tl < n && !p->reassembled)
			n = tl; /* ethernet padding */
		if (((d[6] << 8 | d[7]) & 0x3fff) && p->df) {
			size_t rl;
			const uint8_t *r = defrag_add(p->df, d, hl, n, &rl);

			if (!r)
				return 1; /* a fragment, kept until its datagram is whole */
			p->reassembled = true;
			d = r;
			n = rl;
			p->l3 = d;
		}
		p->family = AF_INET;
		p->proto = d[9];
		memcpy(p->src, d + 12, 4);
		memcpy(p->dst, d + 16, 4);
		p->l3len = n;
		/* Non-first fragments carry no L4 header: inspected as raw IP payload. */
		if ((d[6] << 8 | d[7]) & 0x1fff) {
			p->payload = d + hl;
			p->plen = n - hl;
			p->icmp_type = p->icmp_code = -1;
			p->proto = 0;
			return 0;
		}
		return decode_l4(p, d + hl, n - hl);
	}
	if ((d[0] >> 4) == 6) {
		size_t off = 40, pl;
		uint8_t nh;

		if (n < 40)
			return -1;
		pl = d[4] << 8 | d[5];
		if (40 + pl < n)
			n = 40 + pl;
		p->family = AF_INET6;
		memcpy(p->src, d + 8, 16);
		memcpy(p->dst, d + 24, 16);
		p->l3len = n;
		nh = d[6];
		while ((nh == 0 || nh == 43 || nh == 60 || nh == 44) && off + 8 <= n) {
			uint8_t next = d[off];

			off += nh == 44 ? 8 : (d[off + 1] + 1) * 8;
			nh = next;
		}
		if (off > n)
			return -1;
		p->proto = nh;
		return decode_l4(p, d + off, n - off);
	}
	return -1;
}

static int decode_eth(struct pkt *p, const uint8_t *d, size_t n)
{
	uint16_t et;

	if (n < 14)
		return -1;
	et = d[12] << 8 | d[13];
	d += 14;
	n -= 14;
	while ((et == 0x8100 || et == 0x88a8 || et == 0x9100) && n >= 4) {
		et = d[2] << 8 | d[3];
		d += 4;
		n -= 4;
	}
	if (et == 0x8864 && n >= 8) { /* PPPoE session */
		et = (d[6] << 8 | d[7]) == 0x0021 ? 0x0800 : 0x86dd;
		d += 8;
		n -= 8;
	}
	if (et != 0x0800 && et != 0x86dd)
		return -1;
	return decode_ip(p, d, n);
}

static int decode_link(int dlt, struct pkt *p, const uint8_t *d, size_t n)
{
	switch (dlt) {
	case DLT_EN10MB:
		return decode_eth(p, d, n);
	case DLT_LINUX_SLL:
		return n < 16 ? -1 : decode_ip(p, d + 16, n - 16);
	case DLT_LINUX_SLL2:
		return n < 20 ? -1 : decode_ip(p, d + 20, n - 20);
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_C_HDLC:
	case DLT_PPP_SERIAL:
		return n < 4 ? -1 : decode_ip(p, d + 4, n - 4);
	case DLT_PPP:
		if (n < 4)
			return -1;
		return decode_ip(p, d + (d[0] == 0xff ? 4 : 2), n - (d[0] == 0xff ? 4 : 2));
	case DLT_RAW:
	case 14:
		return decode_ip(p, d, n);
	default:
		return -1;
	}
}

/* 0: decoded; 1: a fragment held for reassembly; -1: not decodable. */
static int decode(int dlt, struct pkt *p, struct defrag *df, const uint8_t *d, size_t n)
{
	int rc;

	memset(p, 0, sizeof(*p));
	p->df = df;
	rc = decode_link(dlt, p, d, n);
	if (rc)
		return rc;
	return decode_inner(p, 0);
}

/* ---- flows ---- */

static uint64_t flow_hash(const struct pkt *p)
{
	uint64_t h = 1469598103934665603ULL, a = 0, b = 0;

	/* Order-independent: both directions land in the same bucket. */
	for (int i = 0; i < 16; i++) {
		a = a * 131 + p->src[i];
		b = b * 131 + p->dst[i];
	}
	h ^= (a ^ b) + ((uint64_t)(p->sport ^ p->dport) << 8) + p->proto;
	return h * 1099511628211ULL;
}

static bool flow_is(const struct flow *f, const struct pkt *p, bool *to_server)
{
	size_t al = p->family == AF_INET ? 4 : 16;

	if (f->family != p->family || f->proto != p->proto)
		return false;
	if (!memcmp(f->caddr, p->src, al) && !memcmp(f->saddr, p->dst, al) &&
	    f->cport == p->sport && f->sport == p->dport) {
		*to_server = true;
		return true;
	}
	if (!memcmp(f->caddr, p->dst, al) && !memcmp(f->saddr, p->src, al) &&
	    f->cport == p->dport && f->sport == p->sport) {
		*to_server = false;
		return true;
	}
	return false;
}

static void lru_unlink(struct insp *x, struct flow *f)
{
	if (f->lru_prev)
		f->lru_prev->lru_next = f->lru_next;
	else
		x->lru_head = f->lru_next;
	if (f->lru_next)
		f->lru_next->lru_prev = f->lru_prev;
	else
		x->lru_tail = f->lru_prev;
	f->lru_prev = f->lru_next = NULL;
}

static void lru_push(struct insp *x, struct flow *f)
{
	f->lru_next = x->lru_head;
	f->lru_prev = NULL;
	if (x->lru_head)
		x->lru_head->lru_prev = f;
	x->lru_head = f;
	if (!x->lru_tail)
		x->lru_tail = f;
}

static void app_emit(struct flow *f, struct app_unit *u, void *ctx);

/* A flow picked up midstream whose "client" answers like a server is turned around. */
static void flow_reverse(struct flow *f)
{
	uint8_t a[16];
	uint16_t p = f->cport;
	struct stream st = f->st[0];
	uint64_t n = f->pkts[0], b = f->bytes[0];
	bool seen = f->seen[0];

	memcpy(a, f->caddr, 16);
	memcpy(f->caddr, f->saddr, 16);
	memcpy(f->saddr, a, 16);
	f->cport = f->sport;
	f->sport = p;
	f->st[0] = f->st[1];
	f->st[1] = st;
	f->pkts[0] = f->pkts[1];
	f->pkts[1] = n;
	f->bytes[0] = f->bytes[1];
	f->bytes[1] = b;
	f->seen[0] = f->seen[1];
	f->seen[1] = seen;
}

static void flow_end(struct insp *x, struct flow *f)
{
	/* A hole that never filled: that direction is given up, not guessed across. */
	for (int d = 0; d < 2; d++)
		if (f->st[d].q) {
			f->st[d].gap = true;
			f->http.broken[d] = true;
			stream_free(&f->st[d]);
		}
	x->flow = f;
	app_flush(f, app_emit, x);
	dpi_flow_end(x->dpi, f);
	if (f->st[0].gap || f->st[1].gap)
		x->st->stream_gaps++;
	if (x->o->on_flow_end) {
		struct pw_inspect_flow_info fi = {
			.family = f->family,
			.proto = f->proto,
			.client = f->caddr,
			.server = f->saddr,
			.cport = f->cport,
			.sport = f->sport,
			.pkts = { f->pkts[0], f->pkts[1] },
			.bytes = { f->bytes[0], f->bytes[1] },
			.app = app_name(f->app),
			.ndpi = f->ndpi_name,
		};

		x->o->on_flow_end(&fi, x->o->ud);
	}
}

static void flow_destroy(struct flow *f)
{
	stream_free(&f->st[0]);
	stream_free(&f->st[1]);
	bbuf_free(&f->tail[0]);
	bbuf_free(&f->tail[1]);
	app_free(f);
	pw_sig_flow_reset(&f->sf);
	free(f->tx_sids);
	free(f->ndpi_flow);
	free(f);
}

static void flow_remove(struct insp *x, struct flow *f)
{
	struct pkt k = {
		.family = f->family, .proto = f->proto, .sport = f->cport, .dport = f->sport
	};
	struct flow **pp;

	memcpy(k.src, f->caddr, 16);
	memcpy(k.dst, f->saddr, 16);
	for (pp = &x->hash[flow_hash(&k) % HASH_BUCKETS]; *pp; pp = &(*pp)->hnext)
		if (*pp == f) {
			*pp = f->hnext;
			break;
		}
	lru_unlink(x, f);
	x->nflows--;
	flow_destroy(f);
}

static struct flow *flow_get(struct insp *x, const struct pkt *p, bool *to_server)
{
	size_t b = flow_hash(p) % HASH_BUCKETS;
	struct flow *f;

	for (f = x->hash[b]; f; f = f->hnext)
		if (flow_is(f, p, to_server)) {
			lru_unlink(x, f);
			lru_push(x, f);
			return f;
		}
	if (x->nflows >= x->max_flows) {
		struct flow *old = x->lru_tail;

		flow_end(x, old);
		flow_remove(x, old);
		x->st->flows_evicted++;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->family = p->family;
	f->proto = p->proto;
	/*
	 * The sender of the first packet is the client, unless it is a SYN-ACK, or
	 * a TCP flow picked up midstream from a privileged port to an ephemeral one.
	 */
	if (p->proto == IPPROTO_TCP &&
	    ((p->tcp_flags & 0x12) == 0x12 ||
	     (!(p->tcp_flags & 0x02) && p->sport < 1024 && p->dport >= 1024))) {
		memcpy(f->caddr, p->dst, 16);
		memcpy(f->saddr, p->src, 16);
		f->cport = p->dport;
		f->sport = p->sport;
		*to_server = false;
	} else {
		memcpy(f->caddr, p->src, 16);
		memcpy(f->saddr, p->dst, 16);
		f->cport = p->sport;
		f->sport = p->dport;
		*to_server = true;
	}
	f->id = flow_hash(p) ^ (++x->next_id << 40);
	f->start_usec = x->ts;
	f->hnext = x->hash[b];
	x->hash[b] = f;
	lru_push(x, f);
	x->nflows++;
	x->st->flows++;
	return f;
}

/* ---- matching ---- */

static bool tx_fired(struct flow *f, uint64_t tx, uint32_t sid)
{
	uint32_t key = (uint32_t)tx * 2654435761u ^ sid;

	for (size_t i = 0; i + 1 < f->ntx_sids; i += 2)
		if (f->tx_sids[i] == (uint32_t)tx && f->tx_sids[i + 1] == sid)
			return true;
	(void)key;
	if (f->ntx_sids + 2 > f->captx_sids) {
		size_t cap = f->captx_sids ? f->captx_sids * 2 : 16;
		uint32_t *n = realloc(f->tx_sids, cap * sizeof(*n));

		if (!n)
			return false;
		f->tx_sids = n;
		f->captx_sids = cap;
	}
	f->tx_sids[f->ntx_sids++] = tx;
	f->tx_sids[f->ntx_sids++] = sid;
	return false;
}

static void on_hit(const struct pw_sig_hit *h, void *ud)
{
	struct insp *x = ud;
	bool blocking = h->action == PW_SIG_DROP || h->action == PW_SIG_REJECT;
	struct eve_ctx e = { x->in, x->flow, x->unit, x->pcap_cnt, x->o->iface };
	struct app_unit pu = { 0 };
	bool logged, hooked;
	json_t *rec;

	if (h->action == PW_SIG_PASS) {
		/*
		 * An IP-only or app-layer pass lets the whole flow through; a packet
		 * rule (e.g. flow:not_established) passes this packet only.
		 */
		if (x->flow && (pw_sig_rule_is_iponly(h->rule) || pw_sig_rule_is_app(h->rule)))
			x->flow->passed = true;
		return;
	}
	if (x->unit && x->flow && tx_fired(x->flow, x->unit->tx_id, h->sid))
		return;
	if (blocking && x->o->simulate_ips) {
		x->block = true;
		/* a stateless rule drops its packet; any other drops the rest of the flow */
		if (x->flow && !pw_sig_rule_is_stateless(h->rule))
			x->flow->dropped = true;
	}
	logged = x->alerts_this_pkt < (int)x->o->alerts_per_packet;
	if (logged) {
		x->alerts_this_pkt++;
		x->st->alerts++;
	}
	/* A block always reaches the hook, logged or not: it must be enforced. */
	hooked = x->o->on_alert && (logged || (blocking && x->o->simulate_ips));
	if (!hooked && (!logged || !x->eve))
		return;
	/* A packet alert on an HTTP flow names the transaction in progress, as Suricata does. */
	if (!x->unit && x->flow && x->flow->app == PW_APP_HTTP) {
		const struct http_state *hs = &x->flow->http;

		pu.req = hs->pending ? hs->pending : hs->last_req;
		pu.resp = hs->pending ? NULL : hs->last_resp;
		pu.status = hs->pending ? hs->cur_status : 0;
		pu.qtype = -1;
		if (pu.req || pu.resp) {
			pu.tx_id = pu.req ? pu.req->tx_id : pu.resp->tx_id;
			e.unit = &pu;
		}
	}
	rec = logged ? eve_alert(&e, h, blocking && x->o->simulate_ips) : NULL;
	if (hooked) {
		struct pw_inspect_alert a = {
			.hit = h,
			.blocking = blocking && x->o->simulate_ips,
			.stateless = pw_sig_rule_is_stateless(h->rule),
			.family = x->in->family,
			.proto = x->in->l4proto,
			.src = x->in->src,
			.dst = x->in->dst,
			.sport = x->in->sport,
			.dport = x->in->dport,
			.to_server = x->in->to_server,
			.ts_usec = x->in->ts_usec,
		};

		x->o->on_alert(&a, rec, x->o->ud);
	}
	if (rec && x->eve) {
		json_dumpf(rec, x->eve, JSON_COMPACT);
		fputc('\n', x->eve);
	}
	json_decref(rec);
}

static void fill_header(struct insp *x, struct pw_sig_input *in)
{
	const struct pkt *p = x->pk;
	struct flow *f = x->flow;

	in->family = p->family;
	in->l4proto = p->proto;
	in->tcp_flags = p->tcp_flags;
	memcpy(in->src, p->src, 16);
	memcpy(in->dst, p->dst, 16);
	in->sport = p->sport;
	in->dport = p->dport;
	in->to_server = x->to_server;
	in->established = f && f->established;
	in->app = f ? f->app : PW_APP_NONE;
	in->ts_usec = x->ts;
	in->pkt_len = p->plen;
	in->icmp_type = p->icmp_type;
	in->icmp_code = p->icmp_code;
}

static void app_emit(struct flow *f, struct app_unit *u, void *ctx)
{
	struct insp *x = ctx;
	struct pw_sig_input in = { 0 };

	if (f->dropped || f->passed)
		return;
	if (f->app == PW_APP_HTTP)
		x->st->http_tx += u->dir == DIR_TS;
	else if (f->app == PW_APP_TLS)
		x->st->tls_sni += u->has[PW_BUF_TLS_SNI];
	else if (f->app == PW_APP_DNS)
		x->st->dns_queries += u->has[PW_BUF_DNS_QUERY];
	if (x->pk) {
		fill_header(x, &in);
	} else { /* flushed at the end of the capture: no current packet */
		in.family = f->family;
		in.l4proto = f->proto;
		memcpy(in.src, u->dir == DIR_TS ? f->caddr : f->saddr, 16);
		memcpy(in.dst, u->dir == DIR_TS ? f->saddr : f->caddr, 16);
		in.sport = u->dir == DIR_TS ? f->cport : f->sport;
		in.dport = u->dir == DIR_TS ? f->sport : f->cport;
		in.established = f->established;
		in.ts_usec = f->last_usec;
		in.icmp_type = in.icmp_code = -1;
	}
	/* A unit takes the direction of its message, not of the packet that completed it. */
	if ((u->dir == DIR_TS) != in.to_server && x->pk) {
		uint8_t t[16];
		uint16_t tp = in.sport;

		memcpy(t, in.src, 16);
		memcpy(in.src, in.dst, 16);
		memcpy(in.dst, t, 16);
		in.sport = in.dport;
		in.dport = tp;
	}
	in.to_server = u->dir == DIR_TS;
	in.app = f->app;
	in.app_only = true;
	in.stream = true;
	for (int b = 0; b < _PW_BUF_MAX; b++) {
		in.buf[b] = u->buf[b];
		in.len[b] = u->len[b];
		in.has[b] = u->has[b];
	}
	if (!in.has[PW_BUF_PKT] && x->pkt_data) {
		in.buf[PW_BUF_PKT] = x->pkt_data;
		in.len[PW_BUF_PKT] = x->pkt_len;
		in.has[PW_BUF_PKT] = true;
	}
	x->unit = u;
	x->in = &in;
	x->flow = f;
	pw_sig_match(x->set, &in, &f->sf, on_hit, x);
	x->unit = NULL;
}

/*
 * The peer ACKed bytes past a hole in direction d: they were received, just
 * not captured. Inspection skips the hole and goes on with the queued bytes
 * (the app parser of that direction gives up: its data is no longer whole).
 */
static void skip_acked_hole(struct insp *x, struct flow *f, int d, uint32_t ack)
{
	struct stream *s = &f->st[d];
	struct pw_sig_input in = { 0 };
	struct bbuf late = { 0 };
	const struct pkt *p = x->pk;

	if (!s->init || s->gap || !s->q || (int32_t)(ack - s->q->seq) <= 0)
		return;
	s->next = s->q->seq;
	while (s->q && (int32_t)(s->q->seq - s->next) <= 0) {
		struct seg *g = s->q;

		s->q = g->next;
		s->qbytes -= g->len;
		stream_segment(s, g->seq, g->data, g->len, &late);
		free(g);
	}
	x->st->stream_gaps++;
	f->http.broken[d] = true;
	f->tail[d].len = 0; /* no pattern may span the hole */
	if (!late.len || f->passed || f->dropped) {
		bbuf_free(&late);
		return;
	}
	fill_header(x, &in);
	if ((d == DIR_TS) != x->to_server) {
		memcpy(in.src, p->dst, 16);
		memcpy(in.dst, p->src, 16);
		in.sport = p->dport;
		in.dport = p->sport;
	}
	in.to_server = d == DIR_TS;
	in.tcp_flags = 0;
	in.pkt_len = late.len;
	in.has_raw_view = x->has_tcp_pkt; /* stream bytes only: tcp-pkt rules saw the segments */
	in.stream = true;
	in.buf[PW_BUF_PKT] = late.p;
	in.len[PW_BUF_PKT] = late.len;
	in.has[PW_BUF_PKT] = true;
	bbuf_put(&f->tail[d], late.p, late.len);
	x->in = &in;
	pw_sig_match(x->set, &in, &f->sf, on_hit, x);
	bbuf_free(&late);
}

static void packet(struct insp *x, const struct pkt *p)
{
	struct bbuf data = { 0 };
	struct pw_sig_input in = { 0 };
	struct flow *f = NULL;
	bool ts = true, tracked = p->proto != 0; /* non-first fragments have no flow */
	bool establish_after = false;
	int dir;

	tracked = tracked && !p->l4_bad;

	x->pk = p;
	x->block = false;
	x->alerts_this_pkt = 0;
	if (tracked) {
		f = flow_get(x, p, &ts);
		if (!f)
			return;
	}
	x->flow = f;
	x->to_server = ts;
	dir = ts ? DIR_TS : DIR_TC;
	if (f) {
		f->pkts[dir]++;
		f->bytes[dir] += p->l3len;
		f->last_usec = x->ts;
		f->seen[dir] = true;
		if (f->dropped) {
			x->st->blocked_packets++;
			return;
		}
		dpi_packet(x->dpi, f, p->l3, p->l3len, x->ts);
	}
	if (f && p->proto == IPPROTO_TCP) {
		struct stream *s = &f->st[dir];
		uint32_t seq = p->seq;

		if (p->tcp_flags & 0x02) { /* SYN: data starts after it */
			if ((p->tcp_flags & 0x12) == 0x12)
				f->synack = true;
			else
				f->syn = true;
			s->init = true;
			s->next = seq + 1;
			seq++;
		} else if (!f->established && f->syn && f->synack && dir == DIR_TS &&
			   (p->tcp_flags & 0x10)) {
			/* the handshake's last ACK is itself not "established" (as in Suricata) */
			establish_after = true;
		}
		/* Midstream pickups, and (async) flows whose SYN-ACK went another way. */
		if (x->o->midstream && !f->synack &&
		    (!f->syn || (dir == DIR_TS && (p->tcp_flags & 0x10))))
			f->established = true;
		if (!s->init && p->plen && (f->established || !x->o->midstream)) {
			s->init = true;
			s->next = seq;
		}
		if (p->plen && stream_segment(s, seq, p->payload, p->plen, &data) < 0 && !s->gap)
			s->gap = true;
		if (p->tcp_flags & 0x10)
			skip_acked_hole(x, f, !dir, p->ack);
	} else if (f && p->proto == IPPROTO_UDP) {
		if (f->seen[DIR_TS] && f->seen[DIR_TC])
			f->established = true;
	}
	if (p->proto == IPPROTO_TCP) {
		x->pkt_data = data.p;
		x->pkt_len = data.len;
	} else {
		x->pkt_data = p->payload;
		x->pkt_len = p->plen;
	}
	/* App parsers first: the packet unit needs the flow's app protocol. */
	if (f && p->proto == IPPROTO_TCP && f->app == PW_APP_NONE && dir == DIR_TS && !f->syn &&
	    data.len >= 5 && !memcmp(data.p, "HTTP/", 5)) {
		flow_reverse(f);
		dir = DIR_TC;
		x->to_server = ts = false;
	}
	if (f && !f->passed && !f->dropped) {
		if (p->proto == IPPROTO_TCP) {
			struct stream *s = &f->st[dir];

			if (data.len && s->delivered <= x->o->stream_depth)
				app_data(f, dir, data.p, data.len, app_emit, x);
			if (p->tcp_flags & 0x05) /* FIN or RST: a close-delimited body ends */
				s->fin = true;
			if (f->st[0].fin && f->st[1].fin)
				app_flush(f, app_emit, x);
		} else if (p->proto == IPPROTO_UDP) {
			app_udp(f, dir, p->payload, p->plen, app_emit, x);
		}
	}
	/* The packet unit: new in-order stream bytes for TCP, the payload otherwise. */
	fill_header(x, &in);
	if (p->proto == IPPROTO_TCP && f && data.len) {
		/* Old tail + new bytes: a pattern split across segments is still seen. */
		struct bbuf *t = &f->tail[dir];

		in.pkt_seen = t->len;
		bbuf_put(t, data.p, data.len);
		in.stream = true;
		in.buf[PW_BUF_PKT] = t->p;
		in.len[PW_BUF_PKT] = t->len;
	} else if (p->proto == IPPROTO_TCP) {
		in.stream = true;
		in.buf[PW_BUF_PKT] = data.p;
		in.len[PW_BUF_PKT] = data.len;
	} else {
		in.buf[PW_BUF_PKT] = p->payload;
		in.len[PW_BUF_PKT] = p->plen;
	}
	in.has[PW_BUF_PKT] = true;
	in.has_raw_view = p->proto == IPPROTO_TCP && p->plen && x->has_tcp_pkt;
	x->in = &in;
	if (!(f && f->passed))
		pw_sig_match(x->set, &in, f ? &f->sf : NULL, on_hit, x);
	if (in.has_raw_view && !(f && (f->passed || f->dropped))) {
		/* tcp-pkt rules: the segment as sent, retransmissions and overlaps included */
		in.raw_view = true;
		in.stream = false;
		in.pkt_seen = 0;
		in.buf[PW_BUF_PKT] = p->payload;
		in.len[PW_BUF_PKT] = p->plen;
		x->alerts_this_pkt = 0;
		pw_sig_match(x->set, &in, f ? &f->sf : NULL, on_hit, x);
	}
	if (establish_after)
		f->established = true;
	if (f && f->tail[dir].len > STREAM_TAIL)
		bbuf_consume(&f->tail[dir], f->tail[dir].len - STREAM_TAIL);
	if (x->block)
		x->st->blocked_packets++;
	x->pkt_data = NULL;
	x->pkt_len = 0;
	bbuf_free(&data);
}

void pw_inspector_free(struct pw_inspector **xp)
{
	struct insp *x = (struct insp *)*xp;

	if (!x)
		return;
	/* The end: close-delimited bodies and half-parsed messages still count. */
	x->pk = NULL;
	while (x->lru_tail) {
		struct flow *f = x->lru_tail;

		flow_end(x, f);
		flow_remove(x, f);
	}
	for (int i = 0; i < DEFRAG_SLOTS; i++)
		free(x->df.slot[i].data);
	free(x->df.out);
	if (x->eve && x->own_eve)
		fclose(x->eve);
	else if (x->eve)
		fflush(x->eve);
	dpi_free(&x->dpi);
	free(x->hash);
	free(x);
	*xp = NULL;
}

int pw_inspector_new(struct pw_inspector **out, struct pw_sig_set *s,
		     const struct pw_inspect_opts *o, struct pw_inspect_stats *st)
{
	struct insp *x = calloc(1, sizeof(*x));
	int err;

	if (!x)
		return -ENOMEM;
	x->set = s;
	x->opts = *o;
	x->o = &x->opts;
	x->st = st ?: &x->own_st;
	memset(x->st, 0, sizeof(*x->st));
	if (!x->opts.max_flows)
		x->opts.max_flows = DEFAULT_MAX_FLOWS;
	if (!x->opts.stream_depth)
		x->opts.stream_depth = DEFAULT_STREAM_DEPTH;
	if (!x->opts.alerts_per_packet)
		x->opts.alerts_per_packet = ALERTS_PER_PACKET;
	x->max_flows = x->opts.max_flows;
	x->has_tcp_pkt = pw_sig_has_proto(s, PW_SIG_P_TCP_PKT);
	x->hash = calloc(HASH_BUCKETS, sizeof(*x->hash));
	if (!x->hash) {
		err = -ENOMEM;
		goto fail;
	}
	if (x->opts.eve_file) {
		x->eve = x->opts.eve_file;
	} else if (x->opts.eve_path) {
		x->eve = fopen(x->opts.eve_path, "w");
		if (!x->eve) {
			err = pr_err_r(-errno, "%s", x->opts.eve_path);
			goto fail;
		}
		x->own_eve = true;
	}
	if (x->opts.ndpi && (err = dpi_new(&x->dpi)))
		goto fail;
	*out = (struct pw_inspector *)x;
	return 0;
fail:
	pw_inspector_free((struct pw_inspector **)&x);
	return err;
}

int pw_inspector_packet(struct pw_inspector *ix, int dlt, const uint8_t *d, size_t caplen,
			uint64_t ts_usec)
{
	struct insp *x = (struct insp *)ix;
	struct pkt p;
	int drc;

	x->pcap_cnt++;
	x->st->packets++;
	x->st->bytes += caplen;
	x->ts = ts_usec;
	x->df.now = x->ts;
	drc = decode(dlt, &p, &x->df, d, caplen);
	if (drc > 0)
		return 0;
	if (drc) {
		x->st->decode_errors++;
		return -EINVAL;
	}
	if (p.tunneled) {
		struct pkt op = { .family = p.outer.family,
				  .proto = p.outer.proto,
				  .l3 = p.outer.l3,
				  .l3len = p.outer.l3len,
				  .icmp_type = -1,
				  .icmp_code = -1 };

		memcpy(op.src, p.outer.src, 16);
		memcpy(op.dst, p.outer.dst, 16);
		op.payload = p.outer.l3; /* no payload: the inner packet is inspected itself */
		packet(x, &op);
	}
	packet(x, &p);
	x->pk = NULL;
	return x->block || (x->flow && x->flow->dropped);
}

size_t pw_inspector_expire(struct pw_inspector *ix, uint64_t now_usec, uint64_t idle_usec)
{
	struct insp *x = (struct insp *)ix;
	size_t n = 0;

	x->pk = NULL;
	while (x->lru_tail && x->lru_tail->last_usec + idle_usec < now_usec) {
		struct flow *f = x->lru_tail;

		flow_end(x, f);
		flow_remove(x, f);
		n++;
	}
	if (x->eve)
		fflush(x->eve);
	return n;
}

size_t pw_inspector_flow_count(const struct pw_inspector *ix)
{
	return ((const struct insp *)ix)->nflows;
}

int pw_inspect_pcap(struct pw_sig_set *s, const char *pcap_path, const struct pw_inspect_opts *o,
		    struct pw_inspect_stats *st)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pw_inspector *x = NULL;
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t n = 0;
	pcap_t *pc;
	int dlt, rc, err;

	memset(st, 0, sizeof(*st));
	pc = pcap_open_offline(pcap_path, errbuf);
	if (!pc) {
		pr_err("%s: %s", pcap_path, errbuf);
		return -EINVAL;
	}
	dlt = pcap_datalink(pc);
	err = pw_inspector_new(&x, s, o, st);
	if (err) {
		pcap_close(pc);
		return err;
	}
	while ((rc = pcap_next_ex(pc, &h, &d)) == 1) {
		n++;
		pw_inspector_packet(x, dlt, d, h->caplen,
				    (uint64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec);
	}
	if (rc == -1)
		pr_err("%s: %s (stopping at packet %" PRIu64 ")", pcap_path, pcap_geterr(pc),
		       n + 1);
	pw_inspector_free(&x);
	pcap_close(pc);
	return 0;
}
