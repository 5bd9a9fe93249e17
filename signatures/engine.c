// SPDX-License-Identifier: GPL-2.0-only
/*
 * Matcher: a vectorscan literal database per buffer holds each rule's fast
 * pattern; a unit is scanned once per buffer and only the candidate rules
 * (plus those without any positive content) are verified in full.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "internal.h"

#define MATCH_BUDGET 4096 /* recursion steps per rule and buffer: bounds backtracking */

void sig_engine_free(struct pw_sig_set *s)
{
	for (int b = 0; b < _PW_BUF_MAX; b++) {
		hs_free_database(s->db[b]);
		s->db[b] = NULL;
		free(s->fp_rule[b]);
		s->fp_rule[b] = NULL;
	}
	hs_free_scratch(s->scratch);
	s->scratch = NULL;
	free(s->always[0]);
	free(s->always[1]);
	free(s->always_rest);
	s->always_rest = NULL;
	for (int i = 0; i < 2; i++) {
		free(s->ipidx[i]);
		s->ipidx[i] = NULL;
		s->nipidx[i] = 0;
		s->ipidx_plens[i] = 0;
	}
	free(s->merge);
	s->merge = NULL;
	free(s->cand);
	free(s->cand_list);
	free(s->rank);
	s->cand_list = NULL;
	s->rank = NULL;
	free(s->order);
	free(s->thr);
	s->always[0] = s->always[1] = NULL;
	s->cand = NULL;
	s->order = NULL;
	s->thr = NULL;
}

int pw_sig_set_action_order(struct pw_sig_set *s,
			    const enum pw_sig_action order[_PW_SIG_ACTION_MAX])
{
	unsigned int seen = 0;

	for (int i = 0; i < _PW_SIG_ACTION_MAX; i++) {
		if (order[i] >= _PW_SIG_ACTION_MAX || (seen & (1u << order[i])))
			return -EINVAL;
		seen |= 1u << order[i];
	}
	memcpy(s->order_of, order, sizeof(s->order_of));
	s->custom_order = true;
	return 0;
}

/*
 * The bytes of a rule's fast pattern handed to vectorscan. Its literal API
 * rejects a pattern starting with NUL as empty, so leading NULs are left out:
 * a shorter prefilter literal only lets more rules through to verification.
 * Returns false when nothing is left (the rule is then always verified).
 */
static bool fp_bytes(const struct pw_sig_rule *r, const uint8_t **p, size_t *len)
{
	const struct sm *m = &r->sms[r->fp];

	*p = m->c.pat + m->c.fp_off;
	*len = m->c.fp_len;
	/* the scanned buffer lacks the dotprefix transform's leading '.' */
	if ((r->dotprefix_mask & (1u << m->buf)) && m->c.fp_off == 0 && **p == '.') {
		(*p)++;
		(*len)--;
	}
	while (*len && !**p) {
		(*p)++;
		(*len)--;
	}
	return *len > 0;
}

static int cmp_u32(const void *a, const void *b);

/*
 * Reputation-style rules list hundreds of hosts: those move to a sorted array
 * searched in log time, the rest of the list stays linear.
 */
static int index_hosts(struct addr_list *l)
{
	size_t k = 0, nh = 0;

	for (size_t i = 0; i < l->n; i++)
		nh += l->e[i].family == AF_INET && l->e[i].plen == 32 && !l->e[i].neg;
	if (nh < 16)
		return 0;
	l->hosts = malloc(nh * sizeof(*l->hosts));
	if (!l->hosts)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		const struct addr_ent *e = &l->e[i];

		if (e->family == AF_INET && e->plen == 32 && !e->neg) {
			uint32_t a;

			memcpy(&a, e->addr, 4);
			l->hosts[l->nhosts++] = ntohl(a);
		} else {
			l->e[k++] = *e;
		}
	}
	l->n = k;
	qsort(l->hosts, l->nhosts, sizeof(*l->hosts), cmp_u32);
	return 0;
}

/* A plain list of IPv4 addresses and prefixes (no "any", no negation): its size, else 0. */
static size_t plain_v4(const struct addr_list *l)
{
	if (l->any)
		return 0;
	for (size_t i = 0; i < l->n; i++)
		if (l->e[i].family != AF_INET || l->e[i].neg || l->e[i].plen > 32)
			return 0;
	return l->n + l->nhosts;
}

static uint32_t mask_v4(uint32_t ip, uint8_t plen)
{
	return plen ? ip & (~0u << (32 - plen)) : 0;
}

static int ip_index_add(struct pw_sig_set *s, int side, uint32_t ip, uint8_t plen, uint32_t rule)
{
	struct ip_idx *v = realloc(s->ipidx[side], (s->nipidx[side] + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	s->ipidx[side] = v;
	v[s->nipidx[side]].ip = mask_v4(ip, plen);
	v[s->nipidx[side]].plen = plen;
	v[s->nipidx[side]++].rule = rule;
	s->ipidx_plens[side] |= 1ULL << plen;
	return 0;
}

/*
 * Indexes header_once rule ri by its plain IPv4 list (source or destination,
 * whichever is one). 1 if indexed, 0 if its header has no plain list.
 */
static int ip_index_rule(struct pw_sig_set *s, size_t ri)
{
	const struct pw_sig_rule *r = s->rules[ri];
	const struct addr_list *l;
	int side;

	if (r->bidir || r->proto == PW_SIG_P_TCP_PKT)
		return 0;
	if (plain_v4(&r->src))
		side = 0;
	else if (plain_v4(&r->dst))
		side = 1;
	else
		return 0;
	l = side ? &r->dst : &r->src;
	for (size_t i = 0; i < l->n; i++) {
		uint32_t a;

		memcpy(&a, l->e[i].addr, 4);
		if (ip_index_add(s, side, ntohl(a), l->e[i].plen, (uint32_t)ri))
			return -ENOMEM;
	}
	for (size_t i = 0; i < l->nhosts; i++)
		if (ip_index_add(s, side, l->hosts[i], 32, (uint32_t)ri))
			return -ENOMEM;
	return 1;
}

static int cmp_ipidx(const void *a, const void *b)
{
	const struct ip_idx *x = a, *y = b;

	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	if (x->plen != y->plen)
		return x->plen < y->plen ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/*
 * Marks as candidates the indexed rules whose list on side holds ip (host
 * order): one search per prefix length the lists use (a handful).
 */
static void ip_index_lookup(struct pw_sig_set *s, int side, uint32_t ip)
{
	const struct ip_idx *v = s->ipidx[side];
	uint64_t plens = s->ipidx_plens[side];

	while (plens) {
		uint8_t plen = (uint8_t)__builtin_ctzll(plens);
		uint32_t m = mask_v4(ip, plen);
		size_t lo = 0, hi = s->nipidx[side];

		plens &= plens - 1;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (v[mid].ip < m || (v[mid].ip == m && v[mid].plen < plen))
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < s->nipidx[side] && v[lo].ip == m && v[lo].plen == plen; lo++)
			if (!s->cand[v[lo].rule]) {
				s->cand[v[lo].rule] = 1;
				s->cand_list[s->ncand++] = v[lo].rule;
			}
	}
}

int pw_sig_compile(struct pw_sig_set *s)
{
	size_t n = s->nrules, k = 0;
	int err = 0;

	if (s->compiled)
		return -EBUSY;
	s->cand = calloc(n ? n : 1, 1);
	s->always[0] = calloc(n ? n : 1, sizeof(*s->always[0]));
	s->always[1] = calloc(n ? n : 1, sizeof(*s->always[1]));
	s->always_rest = calloc(n ? n : 1, sizeof(*s->always_rest));
	s->merge = calloc(n ? n : 1, sizeof(*s->merge));
	s->order = calloc(n ? n : 1, sizeof(*s->order));
	s->thr = calloc(4096, sizeof(*s->thr));
	s->cand_list = calloc(n ? n : 1, sizeof(*s->cand_list));
	s->rank = calloc(n ? n : 1, sizeof(*s->rank));
	if (!s->cand || !s->always[0] || !s->always[1] || !s->always_rest || !s->merge || !s->order || !s->thr ||
	    !s->cand_list || !s->rank)
		return -ENOMEM;
	s->nthr = 4096;
	/* Flowbit setters first so a checker sees bits set by the same unit. */
	for (size_t i = 0; i < n; i++)
		if (s->rules[i]->sets_bits)
			s->order[k++] = i;
	for (size_t i = 0; i < n; i++)
		if (!s->rules[i]->sets_bits)
			s->order[k++] = i;
	for (size_t i = 0; i < n; i++)
		s->rank[s->order[i]] = i;
	/* per-flow state only for IP-only rules: a few bytes a flow, not a bit pair per rule */
	for (size_t i = 0; i < n; i++)
		if (s->rules[i]->iponly)
			s->rules[i]->iponly_idx = s->niponly++;
	for (size_t i = 0; i < n; i++)
		if (index_hosts(&s->rules[i]->src) || index_hosts(&s->rules[i]->dst))
			return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p;
		size_t l;

		if (s->rules[i]->fp >= 0 && !fp_bytes(s->rules[i], &p, &l))
			s->rules[i]->fp = -1;
	}
	/* kept by rank (the order[] position), so a unit only sorts its prefilter hits */
	for (size_t pos = 0; pos < n; pos++) {
		const struct pw_sig_rule *r = s->rules[s->order[pos]];

		if (r->fp >= 0)
			continue;
		if (!r->app && r->header_once && ip_index_rule(s, s->order[pos]) > 0)
			continue;
		s->always[r->app][s->nalways[r->app]++] = pos;
		if (!r->app && !r->header_once)
			s->always_rest[s->nalways_rest++] = pos;
	}

	for (int i = 0; i < 2; i++)
		if (s->nipidx[i])
			qsort(s->ipidx[i], s->nipidx[i], sizeof(*s->ipidx[i]), cmp_ipidx);

	for (int b = 0; b < _PW_BUF_MAX && !err; b++) {
		size_t cnt = 0, j = 0;
		char **exprs = NULL;
		size_t *lens = NULL;
		unsigned int *flags = NULL, *ids = NULL;
		hs_compile_error_t *cerr = NULL;

		for (size_t i = 0; i < n; i++) {
			const struct pw_sig_rule *r = s->rules[i];

			if (r->fp >= 0 && r->sms[r->fp].buf == (enum pw_sig_buf)b)
				cnt++;
		}
		if (!cnt)
			continue;
		exprs = calloc(cnt, sizeof(*exprs));
		flags = calloc(cnt, sizeof(*flags));
		ids = calloc(cnt, sizeof(*ids));
		lens = calloc(cnt, sizeof(*lens));
		s->fp_rule[b] = calloc(cnt, sizeof(*s->fp_rule[b]));
		if (!exprs || !flags || !ids || !lens || !s->fp_rule[b]) {
			err = -ENOMEM;
			goto next;
		}
		for (size_t i = 0; i < n; i++) {
			const struct pw_sig_rule *r = s->rules[i];
			const struct sm *m;

			if (r->fp < 0 || r->sms[r->fp].buf != (enum pw_sig_buf)b)
				continue;
			m = &r->sms[r->fp];
			{
				const uint8_t *fp;

				fp_bytes(r, &fp, &lens[j]);
				exprs[j] = (char *)fp;
			}
			flags[j] = HS_FLAG_SINGLEMATCH |
				   (m->c.flags & CF_NOCASE ? HS_FLAG_CASELESS : 0);
			ids[j] = j;
			s->fp_rule[b][j] = i;
			j++;
		}
		if (hs_compile_lit_multi((const char *const *)exprs, flags, ids, lens, cnt,
					 HS_MODE_BLOCK, NULL, &s->db[b], &cerr) != HS_SUCCESS) {
			err = -EINVAL;
			if (cerr && cerr->expression >= 0)
				fprintf(stderr, "prefilter: sid %u: %s\n",
					s->rules[s->fp_rule[b][cerr->expression]]->sid,
					cerr->message);
			hs_free_compile_error(cerr);
			goto next;
		}
		if (hs_alloc_scratch(s->db[b], &s->scratch) != HS_SUCCESS)
			err = -ENOMEM;
next:
		free(exprs);
		free(lens);
		free(flags);
		free(ids);
	}
	if (!err)
		s->compiled = true;
	return err;
}

/* ---- header ---- */

static bool addr_in(const struct addr_ent *e, uint8_t family, const uint8_t *a)
{
	unsigned int full = e->plen / 8, rem = e->plen % 8;

	if (e->family != family)
		return false;
	if (family == AF_INET) {
		uint32_t x, y, m = e->plen ? ~0u << (32 - e->plen) : 0;

		memcpy(&x, e->addr, 4);
		memcpy(&y, a, 4);
		return ((ntohl(x) ^ ntohl(y)) & m) == 0;
	}
	if (memcmp(e->addr, a, full))
		return false;
	if (rem) {
		uint8_t m = 0xff << (8 - rem);

		return (e->addr[full] & m) == (a[full] & m);
	}
	return true;
}

static bool addr_match(const struct addr_list *l, uint8_t family, const uint8_t *a)
{
	bool pos = l->any;

	if (l->nhosts && family == AF_INET) {
		uint32_t x;

		memcpy(&x, a, 4);
		x = ntohl(x);
		pos = pos || bsearch(&x, l->hosts, l->nhosts, sizeof(x), cmp_u32);
	}

	for (size_t i = 0; i < l->n; i++) {
		if (!addr_in(&l->e[i], family, a))
			continue;
		if (l->e[i].neg)
			return false;
		pos = true;
	}
	return pos;
}

static bool port_match(const struct port_list *l, bool has_ports, uint16_t p)
{
	bool pos = l->any;

	if (!has_ports)
		return l->any && !l->n;
	for (size_t i = 0; i < l->n; i++) {
		if (p < l->e[i].lo || p > l->e[i].hi)
			continue;
		if (l->e[i].neg)
			return false;
		pos = true;
	}
	return pos;
}

static bool proto_match(const struct pw_sig_rule *r, const struct pw_sig_input *in)
{
	switch (r->proto) {
	case PW_SIG_P_IP:
		return true;
	case PW_SIG_P_TCP:
	case PW_SIG_P_TCP_STREAM:
		return in->l4proto == IPPROTO_TCP && !in->raw_view;
	case PW_SIG_P_TCP_PKT:
		/* the raw segment when the caller gives one, else the stream view */
		return in->l4proto == IPPROTO_TCP && (in->raw_view || !in->has_raw_view);
	case PW_SIG_P_UDP:
		return in->l4proto == IPPROTO_UDP;
	case PW_SIG_P_ICMP:
		return in->l4proto == IPPROTO_ICMP || in->l4proto == IPPROTO_ICMPV6;
	case PW_SIG_P_HTTP:
		return in->app == PW_APP_HTTP;
	case PW_SIG_P_TLS:
		return in->app == PW_APP_TLS;
	case PW_SIG_P_DNS:
		return in->app == PW_APP_DNS;
	default:
		return false;
	}
}

static bool header_match(const struct pw_sig_rule *r, const struct pw_sig_input *in)
{
	bool ports = in->l4proto == IPPROTO_TCP || in->l4proto == IPPROTO_UDP ||
		     in->l4proto == IPPROTO_SCTP;

	if (!proto_match(r, in))
		return false;
	/* Ports first: a compare or two, where address lists walk prefixes and host tables. */
	if (port_match(&r->sp, ports, in->sport) && port_match(&r->dp, ports, in->dport) &&
	    addr_match(&r->src, in->family, in->src) && addr_match(&r->dst, in->family, in->dst))
		return true;
	return r->bidir && port_match(&r->sp, ports, in->dport) &&
	       port_match(&r->dp, ports, in->sport) && addr_match(&r->src, in->family, in->dst) &&
	       addr_match(&r->dst, in->family, in->src);
}

/* ---- payload ---- */

static long find(const uint8_t *h, size_t hlen, size_t from, const uint8_t *p, size_t plen,
		 bool nocase)
{
	if (plen > hlen)
		return -1;
	for (size_t i = from; i + plen <= hlen; i++) {
		if (!nocase) {
			const uint8_t *q = memchr(h + i, p[0], hlen - plen - i + 1);

			if (!q)
				return -1;
			i = q - h;
			if (!memcmp(h + i, p, plen))
				return i;
		} else {
			size_t k = 0;

			while (k < plen && tolower(h[i + k]) == tolower(p[k]))
				k++;
			if (k == plen)
				return i;
		}
	}
	return -1;
}

static bool byte_value(const struct sm *m, const uint8_t *buf, size_t len, long pos, uint64_t *v)
{
	uint64_t x = 0;

	if (pos < 0 || (size_t)pos + m->b.nbytes > len)
		return false;
	if (m->b.base) {
		char tmp[16], *end;

		memcpy(tmp, buf + pos, m->b.nbytes);
		tmp[m->b.nbytes] = 0;
		x = strtoull(tmp, &end, m->b.base);
		if (end == tmp)
			return false;
	} else {
		for (int i = 0; i < m->b.nbytes; i++) {
			int k = m->b.little ? m->b.nbytes - 1 - i : i;

			x = x << 8 | buf[pos + k];
		}
	}
	if (m->b.mask) {
		x &= m->b.mask;
		x >>= __builtin_ctzll(m->b.mask);
	}
	*v = x;
	return true;
}

static bool byte_test(const struct sm *m, uint64_t x)
{
	bool r;

	switch (m->b.op) {
	case '<':
		r = x < m->b.value;
		break;
	case '>':
		r = x > m->b.value;
		break;
	case '=':
		r = x == m->b.value;
		break;
	case '&':
		r = (x & m->b.value) != 0;
		break;
	case '^':
		r = (x ^ m->b.value) != 0;
		break;
	case 'l':
		r = x <= m->b.value;
		break;
	case 'g':
		r = x >= m->b.value;
		break;
	default:
		r = false;
	}
	return m->b.negop ? !r : r;
}

struct seq {
	const struct sm *const *items;
	size_t n;
	const uint8_t *buf;
	size_t len;
	int budget;
	long min_end; /* the last match must end after this (old stream bytes) */
	long base; /* where the new bytes start: absolute offsets count from here */
};

static bool seq_match(struct seq *q, size_t i, long prev_end)
{
	const struct sm *m;

	if (i == q->n)
		return prev_end > q->min_end;
	if (--q->budget < 0)
		return false;
	m = q->items[i];
	switch (m->type) {
	case SM_CONTENT: {
		long start = 0, end = q->len, pos;
		bool nocase = m->c.flags & CF_NOCASE;

		if (m->c.flags & CF_RELATIVE) {
			start = prev_end + (m->c.flags & CF_DISTANCE ? m->c.distance : 0);
			if (m->c.flags & CF_WITHIN)
				end = start + m->c.within;
		} else if (m->c.flags & (CF_OFFSET | CF_DEPTH | CF_STARTSWITH)) {
			start = q->base;
			if (m->c.flags & CF_OFFSET)
				start += m->c.offset;
			if (m->c.flags & CF_DEPTH)
				end = start + m->c.depth;
		} else if (m->negated) {
			start = q->base; /* absent from the new bytes */
		}
		if (start < 0)
			start = 0;
		if (end > (long)q->len)
			end = q->len;
		if (m->c.flags & CF_STARTSWITH)
			end = start + (long)m->c.len < end ? start + (long)m->c.len : end;
		if (m->c.flags & CF_ENDSWITH)
			start = (long)q->len - (long)m->c.len > start ?
					(long)q->len - (long)m->c.len :
					start;
		if (end - start < (long)m->c.len) {
			pos = -1;
		} else {
			pos = find(q->buf, end, start, m->c.pat, m->c.len, nocase);
		}
		if (m->negated)
			return pos < 0 && seq_match(q, i + 1, prev_end);
		while (pos >= 0) {
			if (!(m->c.flags & CF_ENDSWITH) || (size_t)pos + m->c.len == q->len) {
				if (seq_match(q, i + 1, pos + m->c.len))
					return true;
			}
			if (q->budget < 0)
				return false;
			pos = find(q->buf, end, pos + 1, m->c.pat, m->c.len, nocase);
		}
		return false;
	}
	case SM_PCRE: {
		size_t off = m->relative ? (size_t)prev_end : (size_t)q->base;
		int rc;

		if (off > q->len)
			return m->negated && seq_match(q, i + 1, prev_end);
		/* The subject starts at the previous match, so ^ anchors there (as in Suricata). */
		rc = pcre2_match(m->p.re, q->buf + off, q->len - off, 0, 0, m->p.md, NULL);
		if (m->negated)
			return rc < 0 && seq_match(q, i + 1, prev_end);
		if (rc < 0)
			return false;
		return seq_match(q, i + 1, off + pcre2_get_ovector_pointer(m->p.md)[1]);
	}
	case SM_ISDATAAT: {
		bool ok = m->relative ? (size_t)prev_end + m->dataat.n <= q->len :
					(size_t)q->base + m->dataat.n < q->len;

		return ok != m->negated && seq_match(q, i + 1, prev_end);
	}
	case SM_BSIZE:
		return numcmp_eval(&m->bsize, q->len - q->base) && seq_match(q, i + 1, prev_end);
	case SM_BYTE_TEST: {
		uint64_t x;
		long pos = (m->b.relative ? prev_end : q->base) + m->b.offset;

		return byte_value(m, q->buf, q->len, pos, &x) && byte_test(m, x) &&
		       seq_match(q, i + 1, prev_end);
	}
	case SM_BYTE_JUMP: {
		uint64_t x;
		long pos = (m->b.relative ? prev_end : q->base) + m->b.offset, np;

		if (!byte_value(m, q->buf, q->len, pos, &x))
			return false;
		x *= m->b.multiplier;
		if (m->b.from_end)
			np = (long)q->len + (long)x;
		else if (m->b.from_beginning)
			np = q->base + x;
		else
			np = pos + m->b.nbytes + x;
		if (m->b.align && np % 4)
			np += 4 - np % 4;
		np += m->b.post_offset;
		if (np < 0 || np > (long)q->len)
			return false;
		return seq_match(q, i + 1, np);
	}
	}
	return false;
}

static bool payload_match(const struct pw_sig_rule *r, const struct pw_sig_input *in)
{
	const struct sm *items[64];

	for (int b = 0; b < _PW_BUF_MAX; b++) {
		struct seq q = { items, 0, in->buf[b], in->len[b], MATCH_BUDGET, -1, 0 };

		if (!(r->bufmask & (1u << b)))
			continue;
		if (!in->has[b])
			return false;
		for (size_t i = 0; i < r->nsms && q.n < 64; i++)
			if (r->sms[i].buf == (enum pw_sig_buf)b)
				items[q.n++] = &r->sms[i];
		if (!q.buf)
			q.buf = (const uint8_t *)"";
		if (b == PW_BUF_PKT && in->pkt_seen) {
			q.base = in->pkt_seen;
			for (size_t i = 0; i < q.n; i++)
				if ((items[i]->type == SM_CONTENT || items[i]->type == SM_PCRE) &&
				    !items[i]->negated)
					q.min_end = in->pkt_seen;
		}
		if (r->dotprefix_mask & (1u << b)) {
			uint8_t tmp[1024];
			bool ok;

			if (q.len + 1 > sizeof(tmp))
				return false;
			tmp[0] = '.';
			memcpy(tmp + 1, q.buf, q.len);
			q.buf = tmp;
			q.len++;
			ok = seq_match(&q, 0, 0);
			if (!ok)
				return false;
			continue;
		}
		if (!seq_match(&q, 0, 0))
			return false;
	}
	return true;
}

/* ---- flow state ---- */

static bool bit_isset(const struct pw_sig_flow *f, uint32_t id)
{
	for (size_t i = 0; i < f->nbits; i++)
		if (f->bits[i] == id)
			return true;
	return false;
}

static void bit_set(struct pw_sig_flow *f, uint32_t id, bool on)
{
	for (size_t i = 0; i < f->nbits; i++)
		if (f->bits[i] == id) {
			if (!on)
				f->bits[i] = f->bits[--f->nbits];
			return;
		}
	if (!on)
		return;
	if (f->nbits == f->capbits) {
		size_t cap = f->capbits ? f->capbits * 2 : 8;
		uint32_t *n = realloc(f->bits, cap * sizeof(*n));

		if (!n)
			return;
		f->bits = n;
		f->capbits = cap;
	}
	f->bits[f->nbits++] = id;
}

void pw_sig_flow_reset(struct pw_sig_flow *f)
{
	free(f->bits);
	free(f->iponly_fired);
	memset(f, 0, sizeof(*f));
}

static bool flowbits_check(const struct pw_sig_rule *r, const struct pw_sig_flow *f)
{
	for (size_t i = 0; i < r->nfbs; i++) {
		const struct flowbit_op *op = &r->fbs[i];
		size_t hits = 0;

		if (op->cmd != FB_ISSET && op->cmd != FB_ISNOTSET)
			continue;
		for (size_t k = 0; k < op->n; k++)
			hits += f && bit_isset(f, op->ids[k]);
		if (op->cmd == FB_ISSET && (op->any ? !hits : hits != op->n))
			return false;
		if (op->cmd == FB_ISNOTSET && (op->any ? hits == op->n : hits))
			return false;
	}
	return true;
}

static void flowbits_apply(const struct pw_sig_rule *r, struct pw_sig_flow *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < r->nfbs; i++) {
		const struct flowbit_op *op = &r->fbs[i];

		for (size_t k = 0; k < op->n; k++) {
			if (op->cmd == FB_SET)
				bit_set(f, op->ids[k], true);
			else if (op->cmd == FB_UNSET)
				bit_set(f, op->ids[k], false);
			else if (op->cmd == FB_TOGGLE)
				bit_set(f, op->ids[k], !bit_isset(f, op->ids[k]));
		}
	}
}

static bool flags_match(const struct pw_sig_rule *r, uint8_t fl)
{
	uint8_t v = fl & r->flags_mask;

	switch (r->flags_mod) {
	case '+':
		return (v & r->flags_set) == r->flags_set;
	case '*':
		return (v & r->flags_set) != 0;
	case '!':
		return (v & r->flags_set) == 0;
	default:
		return v == r->flags_set;
	}
}

/* Returns true when the rule's threshold lets this match alert. */
static bool threshold_pass(struct pw_sig_set *s, const struct pw_sig_rule *r,
			   const struct pw_sig_input *in)
{
	const struct thr *t = &r->thr;
	uint8_t key[32] = { 0 };
	struct thr_ent *e = NULL, *victim = NULL;
	size_t h;

	if (t->type == THR_NONE)
		return true;
	if (t->track == TRACK_SRC || t->track == TRACK_BOTH)
		memcpy(key, in->src, 16);
	if (t->track == TRACK_DST || t->track == TRACK_BOTH)
		memcpy(key + 16, in->dst, 16);
	h = r->sid;
	for (int i = 0; i < 32; i++)
		h = h * 31 + key[i];
	for (size_t k = 0; k < 8; k++) {
		struct thr_ent *c = &s->thr[(h + k) % s->nthr];

		if (c->used && c->sid == r->sid && !memcmp(c->key, key, 32)) {
			e = c;
			break;
		}
		if (!c->used && !victim)
			victim = c;
	}
	if (!e) {
		e = victim ? victim : &s->thr[h % s->nthr];
		memset(e, 0, sizeof(*e));
		e->used = true;
		e->sid = r->sid;
		memcpy(e->key, key, 32);
		e->first_usec = in->ts_usec;
	}
	if (in->ts_usec - e->first_usec >= (uint64_t)t->seconds * 1000000) {
		e->first_usec = in->ts_usec;
		e->count = 0;
	}
	e->count++;
	switch (t->type) {
	case THR_LIMIT:
		return e->count <= t->count;
	case THR_THRESHOLD:
		if (e->count >= t->count) {
			e->count = 0;
			e->first_usec = in->ts_usec;
			return true;
		}
		return false;
	case THR_BOTH:
		return e->count == t->count;
	case THR_DETECTION_FILTER:
		return e->count > t->count;
	default:
		return true;
	}
}

static bool iponly_once(const struct pw_sig_rule *r, const struct pw_sig_input *in,
			struct pw_sig_flow *f, size_t niponly)
{
	size_t bit = r->iponly_idx * 2 + (in->to_server ? 0 : 1);

	if (!f)
		return true;
	if (!f->iponly_fired) {
		f->iponly_len = (niponly * 2 + 7) / 8;
		f->iponly_fired = calloc(f->iponly_len, 1);
		if (!f->iponly_fired)
			return true;
	}
	if (f->iponly_fired[bit / 8] & (1u << (bit % 8)))
		return false;
	f->iponly_fired[bit / 8] |= 1u << (bit % 8);
	return true;
}

static bool rule_match(const struct pw_sig_rule *r, const struct pw_sig_input *in,
		       const struct pw_sig_flow *f)
{
	if (r->app != in->app_only)
		return false;
	if (in->raw_view && r->proto != PW_SIG_P_TCP_PKT)
		return false;
	/*
	 * The comparisons first, the header (address lists) after them: the rules
	 * verified on every unit are mostly flags/flow/dsize rules, which these
	 * refuse at once on most packets.
	 */
	if (r->flow) {
		if ((r->flow & FLOW_TO_SERVER) && !in->to_server)
			return false;
		if ((r->flow & FLOW_TO_CLIENT) && in->to_server)
			return false;
		if ((r->flow & FLOW_ESTABLISHED) && !in->established)
			return false;
		if ((r->flow & FLOW_NOT_ESTABLISHED) && in->established)
			return false;
		if ((r->flow & FLOW_ONLY_STREAM) && !in->stream)
			return false;
		if ((r->flow & FLOW_NO_STREAM) && in->stream)
			return false;
	}
	if (r->has_flags && (in->l4proto != IPPROTO_TCP || !flags_match(r, in->tcp_flags)))
		return false;
	if (r->has_itype && (in->icmp_type < 0 || !numcmp_eval(&r->itype, in->icmp_type)))
		return false;
	if (r->has_icode && (in->icmp_code < 0 || !numcmp_eval(&r->icode, in->icmp_code)))
		return false;
	if (r->has_dsize && (in->app_only || !numcmp_eval(&r->dsize, in->pkt_len)))
		return false;
	if (r->has_urilen &&
	    (!in->has[PW_BUF_HTTP_URI] || !numcmp_eval(&r->urilen, in->len[PW_BUF_HTTP_URI])))
		return false;
	if (!header_match(r, in))
		return false;
	if (!flowbits_check(r, f))
		return false;
	return payload_match(r, in);
}

static int hs_on_match(unsigned int id, unsigned long long from, unsigned long long to,
		       unsigned int flags, void *ctx)
{
	void **c = ctx;
	struct pw_sig_set *s = c[1];
	uint32_t r = ((uint32_t *)c[0])[id];

	(void)from;
	(void)to;
	(void)flags;
	if (!s->cand[r]) {
		s->cand[r] = 1;
		s->cand_list[s->ncand++] = r;
	}
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int pw_sig_match(struct pw_sig_set *s, const struct pw_sig_input *in, struct pw_sig_flow *f,
		 pw_sig_hit_fn fn, void *ud)
{
	const struct pw_sig_rule *hits[256];
	size_t nhits = 0;
	int reported = 0;

	if (!s->compiled)
		return -EINVAL;
	s->ncand = 0;
	for (int b = 0; b < _PW_BUF_MAX; b++) {
		void *ctx[2] = { s->fp_rule[b], s };

		if (!s->db[b] || !in->has[b] || !in->len[b])
			continue;
		hs_scan(s->db[b], (const char *)in->buf[b], in->len[b], 0, s->scratch, hs_on_match,
			ctx);
	}
	/* header_once rules: once per flow direction and unit view (see pw_sig_flow.iponly_done) */
	uint8_t view = f && !in->app_only ? 1u << ((in->to_server ? 0 : 1) + (in->raw_view ? 2 : 0)) : 0;
	bool skip_once = view && (f->iponly_done & view);

	/* Reputation lists: only the rules listing this packet's addresses. */
	if (!in->app_only && !skip_once && in->family == AF_INET) {
		uint32_t a;

		memcpy(&a, in->src, 4);
		ip_index_lookup(s, 0, ntohl(a));
		memcpy(&a, in->dst, 4);
		ip_index_lookup(s, 1, ntohl(a));
	}
	/*
	 * Only candidates are verified, in rank order (flowbit setters first): the
	 * prefilter hits, sorted, merged with the always-verified rules of this kind
	 * (without the header_once ones where they ran already: not even touched,
	 * as walking hundreds of reputation-list rules per packet costs a cache
	 * miss each).
	 */
	{
		const uint32_t *al = skip_once ? s->always_rest : s->always[in->app_only];
		size_t na = skip_once ? s->nalways_rest : s->nalways[in->app_only], i = 0, j = 0,
		       m = 0;

		for (size_t k = 0; k < s->ncand; k++) {
			s->cand[s->cand_list[k]] = 0;
			s->cand_list[k] = s->rank[s->cand_list[k]];
		}
		qsort(s->cand_list, s->ncand, sizeof(*s->cand_list), cmp_u32);
		while (i < na || j < s->ncand)
			s->merge[m++] = j == s->ncand || (i < na && al[i] < s->cand_list[j]) ?
						al[i++] :
						s->cand_list[j++];
		s->ncand = m;
	}
	for (size_t k = 0; k < s->ncand; k++) {
		const struct pw_sig_rule *r = s->rules[s->order[s->merge[k]]];

		if (!rule_match(r, in, f))
			continue;
		if (r->iponly && !iponly_once(r, in, f, s->niponly))
			continue;
		flowbits_apply(r, f);
		if (r->noalert || !threshold_pass(s, r, in))
			continue;
		if (nhits < sizeof(hits) / sizeof(hits[0]))
			hits[nhits++] = r;
	}
	if (view)
		f->iponly_done |= view;
	/* Report in action order; a pass stops everything below it. */
	for (int rank = 0; rank < _PW_SIG_ACTION_MAX; rank++) {
		int a = s->custom_order ? (int)s->order_of[rank] : rank;
		bool any = false;

		for (size_t i = 0; i < nhits; i++) {
			const struct pw_sig_rule *r = hits[i];
			struct pw_sig_hit h;

			if (r->action != (enum pw_sig_action)a)
				continue;
			h = (struct pw_sig_hit){ r,	    r->sid,
						 r->gid,    r->rev,
						 r->action, r->priority,
						 r->msg,    r->class_desc ? r->class_desc : "" };
			fn(&h, ud);
			reported++;
			any = true;
		}
		if (any && a == PW_SIG_PASS)
			break;
	}
	return reported;
}
