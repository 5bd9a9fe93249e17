// SPDX-License-Identifier: GPL-2.0-only
/*
 * podwall's own app-layer parsers, which give the rules their buffers: HTTP/1
 * requests and responses (chunked and gzip bodies), the TLS ClientHello's SNI
 * (across records and segments) and DNS query names over UDP and TCP. nDPI is
 * not used for these because its fields are lowercased, truncated or unions.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "flow.h"

#define HTTP_HEAD_MAX (64 * 1024)
#define HTTP_BODY_MAX (4 * 1024 * 1024)
#define TLS_HELLO_MAX (64 * 1024)

const char *app_name(enum pw_sig_app a)
{
	switch (a) {
	case PW_APP_HTTP:
		return "http";
	case PW_APP_TLS:
		return "tls";
	case PW_APP_DNS:
		return "dns";
	case PW_APP_FAILED:
		return "failed";
	default:
		return NULL;
	}
}

static void msg_free(struct http_msg *m)
{
	if (!m)
		return;
	for (int i = 0; i < _PW_BUF_MAX; i++)
		free(m->b[i]);
	free(m->raw);
	free(m);
}

static void msg_set(struct http_msg *m, enum pw_sig_buf b, const void *d, size_t n)
{
	if (m->b[b])
		return; /* the first occurrence of a header wins */
	m->b[b] = malloc(n + 1);
	if (!m->b[b])
		return;
	memcpy(m->b[b], d, n);
	m->b[b][n] = 0;
	m->l[b] = n;
}

static const uint8_t *find_mem(const uint8_t *h, size_t hl, const char *n)
{
	return memmem(h, hl, n, strlen(n));
}

static size_t head_end(const uint8_t *p, size_t n)
{
	const uint8_t *e = find_mem(p, n, "\r\n\r\n");

	if (e)
		return e - p + 4;
	e = find_mem(p, n, "\n\n");
	return e ? (size_t)(e - p + 2) : 0;
}

static int hexv(int c)
{
	return isdigit(c) ? c - '0' : isxdigit(c) ? tolower(c) - 'a' + 10 : -1;
}

/* libhtp-like normalisation, reduced: %XX decoded, an absolute URI cut to its path. */
static void uri_norm(struct http_msg *m, const uint8_t *u, size_t n)
{
	uint8_t *o = malloc(n + 1);
	size_t k = 0;

	if (!o)
		return;
	if (n > 7 && (!strncasecmp((const char *)u, "http://", 7) ||
		      !strncasecmp((const char *)u, "https://", 8))) {
		const uint8_t *s = memchr(u + 8, '/', n - 8);

		if (s) {
			n -= s - u;
			u = s;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (u[i] == '%' && i + 2 < n && hexv(u[i + 1]) >= 0 && hexv(u[i + 2]) >= 0) {
			o[k++] = hexv(u[i + 1]) << 4 | hexv(u[i + 2]);
			i += 2;
		} else {
			o[k++] = u[i];
		}
	}
	o[k] = 0;
	m->b[PW_BUF_HTTP_URI] = o;
	m->l[PW_BUF_HTTP_URI] = k;
}

static const struct {
	const char *name;
	enum pw_sig_buf buf;
	int side; /* 0 request, 1 response, 2 both */
} hdr_bufs[] = {
	{ "user-agent", PW_BUF_HTTP_UA, 0 },
	{ "cookie", PW_BUF_HTTP_COOKIE, 0 },
	{ "referer", PW_BUF_HTTP_REFERER, 0 },
	{ "accept", PW_BUF_HTTP_ACCEPT, 0 },
	{ "accept-encoding", PW_BUF_HTTP_ACCEPT_ENC, 0 },
	{ "accept-language", PW_BUF_HTTP_ACCEPT_LANG, 0 },
	{ "connection", PW_BUF_HTTP_CONNECTION, 2 },
	{ "content-type", PW_BUF_HTTP_CONTENT_TYPE, 2 },
	{ "content-length", PW_BUF_HTTP_CONTENT_LEN, 2 },
	{ "location", PW_BUF_HTTP_LOCATION, 1 },
	{ "server", PW_BUF_HTTP_SERVER, 1 },
	{ "set-cookie", PW_BUF_HTTP_COOKIE, 1 },
};

struct head_info {
	long long clen;
	bool chunked, gzip, deflate;
};

/* Parses the header block (after the first line) into the message's buffers. */
static void parse_headers(struct http_msg *m, const uint8_t *p, size_t n, int side,
			  struct head_info *hi)
{
	struct bbuf hdr = { 0 }, names = { 0 };
	const uint8_t *end = p + n;

	hi->clen = -1;
	bbuf_put(&names, "\r\n", 2);
	while (p < end) {
		const uint8_t *eol = memchr(p, '\n', end - p), *colon, *v, *ve;
		size_t ln;

		if (!eol)
			eol = end;
		ln = eol - p;
		if (ln && p[ln - 1] == '\r')
			ln--;
		if (!ln)
			break;
		colon = memchr(p, ':', ln);
		if (colon) {
			size_t nl = colon - p;

			v = colon + 1;
			ve = p + ln;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			bbuf_put(&hdr, p, nl);
			bbuf_put(&hdr, ": ", 2);
			bbuf_put(&hdr, v, ve - v);
			bbuf_put(&hdr, "\r\n", 2);
			bbuf_put(&names, p, nl);
			bbuf_put(&names, "\r\n", 2);
			for (size_t i = 0; i < sizeof(hdr_bufs) / sizeof(hdr_bufs[0]); i++)
				if ((hdr_bufs[i].side == side || hdr_bufs[i].side == 2) &&
				    strlen(hdr_bufs[i].name) == nl &&
				    !strncasecmp(hdr_bufs[i].name, (const char *)p, nl))
					msg_set(m, hdr_bufs[i].buf, v, ve - v);
			if (side == 0 && nl == 4 && !strncasecmp((const char *)p, "host", 4)) {
				const uint8_t *c = memchr(v, ':', ve - v);
				size_t hl = c && !memchr(v, ']', ve - v) ? (size_t)(c - v) :
									   (size_t)(ve - v);

				msg_set(m, PW_BUF_HTTP_HOST_RAW, v, ve - v);
				msg_set(m, PW_BUF_HTTP_HOST, v, hl);
				for (size_t i = 0; m->b[PW_BUF_HTTP_HOST] && i < hl; i++)
					m->b[PW_BUF_HTTP_HOST][i] =
						tolower(m->b[PW_BUF_HTTP_HOST][i]);
			}
			if (nl == 14 && !strncasecmp((const char *)p, "content-length", 14)) {
				char *e;
				long long cl = strtoll((const char *)v, &e, 10);

				/* "34( 68)": not a length; a response then runs to the close */
				while ((const uint8_t *)e < ve && (*e == ' ' || *e == '\t'))
					e++;
				hi->clen = (const uint8_t *)e == ve && e != (char *)v && cl >= 0 ?
						   cl :
						   -1;
			}
			if (nl == 17 && !strncasecmp((const char *)p, "transfer-encoding", 17) &&
			    memmem(v, ve - v, "chunked", 7))
				hi->chunked = true;
			if (nl == 16 && !strncasecmp((const char *)p, "content-encoding", 16)) {
				hi->gzip = memmem(v, ve - v, "gzip", 4) != NULL;
				hi->deflate = memmem(v, ve - v, "deflate", 7) != NULL;
			}
		}
		p = eol + 1;
	}
	bbuf_put(&names, "\r\n", 2);
	if (hdr.len)
		msg_set(m, PW_BUF_HTTP_HEADER, hdr.p, hdr.len);
	msg_set(m, PW_BUF_HTTP_HEADER_NAMES, names.p, names.len);
	bbuf_free(&hdr);
	bbuf_free(&names);
}

/*
 * Decodes a chunked body from p. Returns bytes consumed when complete, 0 when
 * more data is needed, -1 when malformed.
 */
static long dechunk(const uint8_t *p, size_t n, struct bbuf *out)
{
	size_t i = 0;

	for (;;) {
		const uint8_t *eol = memchr(p + i, '\n', n - i);
		unsigned long len;
		char *e;

		if (!eol)
			return 0;
		len = strtoul((const char *)p + i, &e, 16);
		if (e == (const char *)p + i)
			return -1;
		i = eol - p + 1;
		if (!len) {
			/* trailers up to an empty line */
			for (;;) {
				const uint8_t *l = memchr(p + i, '\n', n - i);

				if (!l)
					return 0;
				if (l == p + i || (l == p + i + 1 && p[i] == '\r'))
					return l - p + 1;
				i = l - p + 1;
			}
		}
		if (i + len > n)
			return 0;
		bbuf_put(out, p + i, len);
		i += len;
		if (i < n && p[i] == '\r')
			i++;
		if (i < n && p[i] == '\n')
			i++;
		else if (i >= n)
			return 0;
	}
}

static void set_body(struct http_msg *m, const uint8_t *b, size_t n, const struct head_info *hi,
		     bool request)
{
	uint8_t *dec = NULL;
	size_t dl = 0;

	m->body_len = n;
	if (n && (hi->gzip || hi->deflate)) {
		z_stream z = { 0 };
		size_t cap = n * 4 + 1024;

		dec = malloc(cap);
		if (dec && inflateInit2(&z, hi->gzip ? 15 + 32 : -15) == Z_OK) {
			int rc;

			z.next_in = (Bytef *)b;
			z.avail_in = n;
			do {
				if (dl == cap) {
					uint8_t *nd;

					if (cap >= HTTP_BODY_MAX)
						break;
					nd = realloc(dec, cap * 2);
					if (!nd)
						break;
					dec = nd;
					cap *= 2;
				}
				z.next_out = dec + dl;
				z.avail_out = cap - dl;
				rc = inflate(&z, Z_NO_FLUSH);
				dl = cap - z.avail_out;
			} while (rc == Z_OK && (z.avail_in || !z.avail_out));
			inflateEnd(&z);
		}
		if (dec && dl) {
			b = dec;
			n = dl;
		}
	}
	if (n) {
		msg_set(m, request ? PW_BUF_HTTP_REQ_BODY : PW_BUF_HTTP_RESP_BODY, b, n);
		msg_set(m, PW_BUF_FILE_DATA, b, n);
	}
	free(dec);
}

static void http_unit(struct flow *f, int dir, struct http_msg *req, struct http_msg *resp,
		      app_emit_fn emit, void *ctx)
{
	struct app_unit u = { .dir = dir, .req = req, .resp = resp, .qtype = -1 };

	u.tx_id = req ? req->tx_id : resp->tx_id;
	if ((resp ? resp : req)->raw) {
		u.buf[PW_BUF_PKT] = (resp ? resp : req)->raw;
		u.len[PW_BUF_PKT] = (resp ? resp : req)->rawlen;
		u.has[PW_BUF_PKT] = true;
	}
	for (int b = PW_BUF_PKT + 1; b < _PW_BUF_MAX; b++) {
		const struct http_msg *m = resp && resp->b[b] ? resp :
					   req && req->b[b]   ? req :
								NULL;

		/* the response unit sees its own body and content headers, not the request's */
		if (resp && m == req &&
		    (b == PW_BUF_FILE_DATA || b == PW_BUF_HTTP_CONTENT_TYPE ||
		     b == PW_BUF_HTTP_CONTENT_LEN || b == PW_BUF_HTTP_HEADER ||
		     b == PW_BUF_HTTP_HEADER_RAW || b == PW_BUF_HTTP_HEADER_NAMES ||
		     b == PW_BUF_HTTP_START || b == PW_BUF_HTTP_CONNECTION))
			m = NULL;
		if (!m)
			continue;
		u.buf[b] = m->b[b];
		u.len[b] = m->l[b];
		u.has[b] = true;
	}
	emit(f, &u, ctx);
}

/* Parses as many complete messages as side dir holds. close: the direction ended. */
static void http_parse(struct flow *f, int dir, bool close, app_emit_fn emit, void *ctx)
{
	struct http_state *h = &f->http;
	struct bbuf *in = &h->in[dir];

	while (in->len && !h->broken[dir]) {
		size_t he = head_end(in->p, in->len), hl, bodylen = 0, consumed;
		const uint8_t *eol, *sp1, *sp2;
		struct head_info hi = { 0 };
		struct http_msg *m;
		struct bbuf body = { 0 };
		bool until_close = false;

		if (!he) {
			if (in->len > HTTP_HEAD_MAX)
				h->broken[dir] = true;
			if (!close || !in->len)
				return;
			he = in->len; /* headers cut by the end of the stream */
		}
		eol = memchr(in->p, '\n', he);
		hl = eol ? (size_t)(eol - in->p) : he;
		m = calloc(1, sizeof(*m));
		if (!m)
			return;
		msg_set(m, PW_BUF_HTTP_START, in->p, he);
		msg_set(m, PW_BUF_HTTP_HEADER_RAW,
			in->p + hl + 1 > in->p + he ? in->p + he : in->p + hl + 1,
			he - (hl + 1 < he ? hl + 1 : he));
		if (hl && in->p[hl - 1] == '\r')
			hl--;
		msg_set(m, dir == DIR_TS ? PW_BUF_HTTP_REQUEST_LINE : PW_BUF_HTTP_RESPONSE_LINE,
			in->p, hl);
		sp1 = memchr(in->p, ' ', hl);
		sp2 = sp1 ? memchr(sp1 + 1, ' ', in->p + hl - sp1 - 1) : NULL;
		if (dir == DIR_TS) {
			const uint8_t *ue = sp2 ? sp2 : in->p + hl;

			if (sp1) {
				msg_set(m, PW_BUF_HTTP_METHOD, in->p, sp1 - in->p);
				msg_set(m, PW_BUF_HTTP_URI_RAW, sp1 + 1, ue - sp1 - 1);
				uri_norm(m, sp1 + 1, ue - sp1 - 1);
			}
			if (sp2)
				msg_set(m, PW_BUF_HTTP_PROTOCOL, sp2 + 1, in->p + hl - sp2 - 1);
			m->head = sp1 && sp1 - in->p == 4 && !memcmp(in->p, "HEAD", 4);
		} else {
			if (sp1) {
				const uint8_t *ce = sp2 ? sp2 : in->p + hl;

				msg_set(m, PW_BUF_HTTP_PROTOCOL, in->p, sp1 - in->p);
				msg_set(m, PW_BUF_HTTP_STAT_CODE, sp1 + 1, ce - sp1 - 1);
				m->status = atoi((const char *)sp1 + 1);
				if (sp2)
					msg_set(m, PW_BUF_HTTP_STAT_MSG, sp2 + 1,
						in->p + hl - sp2 - 1);
			}
		}
		if (dir == DIR_TC)
			h->cur_status = m->status;
		parse_headers(m, eol ? eol + 1 : in->p + he,
			      he - (eol ? (size_t)(eol + 1 - in->p) : he), dir == DIR_TS ? 0 : 1,
			      &hi);
		consumed = he;
		if (dir == DIR_TC && (h->pending && h->pending->head))
			; /* no body */
		else if (dir == DIR_TC &&
			 (m->status / 100 == 1 || m->status == 204 || m->status == 304))
			;
		else if (hi.chunked) {
			long c = dechunk(in->p + he, in->len - he, &body);

			if (c < 0) {
				h->broken[dir] = true;
			} else if (c == 0 && !close) {
				if (in->len > HTTP_BODY_MAX)
					h->broken[dir] = true;
				bbuf_free(&body);
				msg_free(m);
				return;
			}
			consumed = c > 0 ? he + c : in->len;
		} else if (hi.clen > 0) {
			bodylen = hi.clen;
			if (in->len - he < bodylen && !close) {
				if (bodylen > HTTP_BODY_MAX && in->len > HTTP_BODY_MAX) {
					bodylen = in->len - he; /* inspect what fits */
				} else {
					msg_free(m);
					return;
				}
			}
			if (bodylen > in->len - he)
				bodylen = in->len - he;
			bbuf_put(&body, in->p + he, bodylen);
			consumed = he + bodylen;
		} else if (dir == DIR_TC && hi.clen < 0) {
			until_close = true;
			if (!close) {
				msg_free(m);
				return;
			}
			bbuf_put(&body, in->p + he, in->len - he);
			consumed = in->len;
		}
		(void)until_close;
		set_body(m, body.p, body.len, &hi, dir == DIR_TS);
		bbuf_free(&body);
		m->raw = malloc(consumed ? consumed : 1);
		if (m->raw) {
			memcpy(m->raw, in->p, consumed);
			m->rawlen = consumed;
		}
		bbuf_consume(in, consumed);
		if (dir == DIR_TS) {
			struct http_msg **pp = &h->pending;

			m->tx_id = h->next_tx++;
			http_unit(f, DIR_TS, m, NULL, emit, ctx);
			while (*pp)
				pp = &(*pp)->next;
			*pp = m;
		} else if (m->status / 100 == 1 && m->status != 101) {
			msg_free(m); /* 100 Continue: the real response follows */
		} else {
			struct http_msg *req = h->pending;

			if (req)
				h->pending = req->next;
			m->tx_id = req ? req->tx_id : h->next_tx++;
			http_unit(f, DIR_TC, req, m, emit, ctx);
			msg_free(h->last_req);
			msg_free(h->last_resp);
			h->last_req = req;
			h->last_resp = m;
			h->cur_status = 0;
			/* Switching Protocols: what follows is not HTTP/1 any more. */
			if (m->status == 101)
				h->broken[DIR_TS] = h->broken[DIR_TC] = true;
		}
	}
}

static bool looks_http_request(const uint8_t *d, size_t n)
{
	static const char *const methods[] = { "GET ",	  "POST ",     "HEAD ",	   "PUT ",
					       "DELETE ", "OPTIONS ",  "CONNECT ", "PATCH ",
					       "TRACE ",  "PROPFIND ", "MKCOL ",   "COPY ",
					       "MOVE " };

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		size_t l = strlen(methods[i]);

		if (n >= l ? !memcmp(d, methods[i], l) : !memcmp(d, methods[i], n))
			return true;
	}
	return false;
}

/* ---- TLS ---- */

static void tls_sni(struct flow *f, app_emit_fn emit, void *ctx)
{
	struct bbuf hs = { 0 };
	const uint8_t *p = f->tls_in.p;
	size_t n = f->tls_in.len, i = 0, hlen, k;
	struct app_unit u = { .dir = DIR_TS, .qtype = -1 };

	/* Concatenate handshake record bodies until the ClientHello is whole. */
	while (i + 5 <= n && p[i] == 22) {
		size_t rl = p[i + 3] << 8 | p[i + 4];

		if (i + 5 + rl > n)
			break;
		bbuf_put(&hs, p + i + 5, rl);
		i += 5 + rl;
	}
	if (i + 5 <= n && p[i] != 22)
		f->tls_done = true;
	if (hs.len < 4 || hs.p[0] != 1) {
		if (hs.len >= 4)
			f->tls_done = true;
		bbuf_free(&hs);
		return;
	}
	hlen = hs.p[1] << 16 | hs.p[2] << 8 | hs.p[3];
	if (hs.len < 4 + hlen) {
		if (n > TLS_HELLO_MAX)
			f->tls_done = true;
		bbuf_free(&hs);
		return;
	}
	f->tls_done = true;
	p = hs.p + 4;
	n = hlen;
	k = 2 + 32; /* version, random */
	if (k + 1 > n)
		goto out;
	k += 1 + p[k];
	if (k + 2 > n)
		goto out;
	k += 2 + (p[k] << 8 | p[k + 1]);
	if (k + 1 > n)
		goto out;
	k += 1 + p[k];
	if (k + 2 > n)
		goto out;
	k += 2;
	while (k + 4 <= n) {
		size_t type = p[k] << 8 | p[k + 1], el = p[k + 2] << 8 | p[k + 3];

		k += 4;
		if (k + el > n)
			break;
		if (type == 0 && el >= 5 && p[k + 2] == 0) {
			size_t nl = p[k + 3] << 8 | p[k + 4];

			if (5 + nl <= el && nl < sizeof(u.sni)) {
				memcpy(u.sni, p + k + 5, nl);
				u.sni[nl] = 0;
				u.buf[PW_BUF_TLS_SNI] = (const uint8_t *)u.sni;
				u.len[PW_BUF_TLS_SNI] = nl;
				u.has[PW_BUF_TLS_SNI] = true;
			}
			break;
		}
		k += el;
	}
	u.tx_id = f->tx_base++;
	emit(f, &u, ctx);
out:
	bbuf_free(&hs);
}

/* ---- DNS ---- */

static int dns_name(const uint8_t *p, size_t n, size_t off, char *out, size_t outsz, size_t *end)
{
	size_t o = 0, jumps = 0;
	bool jumped = false;

	while (off < n) {
		uint8_t l = p[off];

		if (!l) {
			if (!jumped)
				*end = off + 1;
			out[o] = 0;
			return 0;
		}
		if ((l & 0xc0) == 0xc0) {
			if (off + 1 >= n || ++jumps > 16)
				return -1;
			if (!jumped)
				*end = off + 2;
			jumped = true;
			off = (l & 0x3f) << 8 | p[off + 1];
			continue;
		}
		if (off + 1 + l > n || o + l + 2 > outsz)
			return -1;
		if (o)
			out[o++] = '.';
		memcpy(out + o, p + off + 1, l);
		o += l;
		off += 1 + l;
	}
	return -1;
}

static void dns_msg(struct flow *f, int dir, const uint8_t *p, size_t n, app_emit_fn emit,
		    void *ctx)
{
	struct app_unit u = { .dir = dir, .qtype = -1 };
	size_t end = 0;

	if (n < 12 || !(p[4] << 8 | p[5]))
		return;
	if (dns_name(p, n, 12, u.qname, sizeof(u.qname), &end) || end + 4 > n)
		return;
	u.qtype = p[end] << 8 | p[end + 1];
	u.tx_id = (p[0] << 8 | p[1]);
	/* Only queries carry dns.query: a response must not fire the query's rules again. */
	if (!(p[2] & 0x80)) {
		u.buf[PW_BUF_DNS_QUERY] = (const uint8_t *)u.qname;
		u.len[PW_BUF_DNS_QUERY] = strlen(u.qname);
		u.has[PW_BUF_DNS_QUERY] = true;
	}
	emit(f, &u, ctx);
}

static bool dns_port(const struct flow *f)
{
	return f->sport == 53 || f->sport == 5353 || f->cport == 53;
}

void app_udp(struct flow *f, int dir, const uint8_t *d, size_t n, app_emit_fn emit, void *ctx)
{
	if (f->app == PW_APP_NONE && dns_port(f) && n >= 12)
		f->app = PW_APP_DNS;
	if (f->app == PW_APP_DNS)
		dns_msg(f, dir, d, n, emit, ctx);
}

void app_data(struct flow *f, int dir, const uint8_t *d, size_t n, app_emit_fn emit, void *ctx)
{
	if (!n)
		return;
	if (f->app == PW_APP_NONE) {
		if (dir == DIR_TS && looks_http_request(d, n))
			f->app = PW_APP_HTTP;
		else if (dir == DIR_TC && n >= 5 && !memcmp(d, "HTTP/", 5))
			f->app = PW_APP_HTTP;
		else if (dir == DIR_TS && n >= 3 && d[0] == 22 && d[1] == 3)
			f->app = PW_APP_TLS;
		else if (dns_port(f))
			f->app = PW_APP_DNS;
		else if (dir == DIR_TS)
			f->app = PW_APP_FAILED;
	}
	switch (f->app) {
	case PW_APP_HTTP:
		if (f->http.broken[dir])
			return;
		bbuf_put(&f->http.in[dir], d, n);
		http_parse(f, dir, false, emit, ctx);
		break;
	case PW_APP_TLS:
		if (dir != DIR_TS || f->tls_done)
			return;
		bbuf_put(&f->tls_in, d, n);
		tls_sni(f, emit, ctx);
		break;
	case PW_APP_DNS: {
		struct bbuf *b = &f->dns_in[dir];

		bbuf_put(b, d, n);
		while (b->len >= 2) {
			size_t ml = b->p[0] << 8 | b->p[1];

			if (b->len < 2 + ml)
				break;
			dns_msg(f, dir, b->p + 2, ml, emit, ctx);
			bbuf_consume(b, 2 + ml);
		}
		if (b->len > 65536 + 2)
			b->len = 0;
		break;
	}
	default:
		break;
	}
}

void app_flush(struct flow *f, app_emit_fn emit, void *ctx)
{
	if (f->app != PW_APP_HTTP)
		return;
	http_parse(f, DIR_TS, true, emit, ctx);
	http_parse(f, DIR_TC, true, emit, ctx);
}

void app_free(struct flow *f)
{
	bbuf_free(&f->http.in[0]);
	bbuf_free(&f->http.in[1]);
	msg_free(f->http.last_req);
	msg_free(f->http.last_resp);
	while (f->http.pending) {
		struct http_msg *m = f->http.pending;

		f->http.pending = m->next;
		msg_free(m);
	}
	bbuf_free(&f->tls_in);
	bbuf_free(&f->dns_in[0]);
	bbuf_free(&f->dns_in[1]);
}
