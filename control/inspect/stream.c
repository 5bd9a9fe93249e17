// SPDX-License-Identifier: GPL-2.0-only
/*
 * TCP reassembly, in order, per direction: retransmitted and overlapping bytes
 * are trimmed (the first copy wins), out-of-order segments wait in a bounded
 * queue, and a hole that never fills gives up the direction (gap) cleanly.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"

#define QUEUE_MAX (256 * 1024) /* out-of-order bytes held per direction */

int bbuf_put(struct bbuf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		uint8_t *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, d, n);
	b->len += n;
	return 0;
}

void bbuf_consume(struct bbuf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

void bbuf_free(struct bbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static int32_t seqdiff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

/* Appends the part of [seq, seq+n) at or after s->next, if it starts there. */
static bool take(struct stream *s, uint32_t seq, const uint8_t *d, size_t n, struct bbuf *out)
{
	int32_t off = seqdiff(s->next, seq);

	if (off < 0)
		return false;
	if ((size_t)off >= n)
		return true; /* all seen already */
	if (bbuf_put(out, d + off, n - off))
		return true;
	s->next += n - off;
	s->delivered += n - off;
	return true;
}

int stream_segment(struct stream *s, uint32_t seq, const uint8_t *d, size_t n, struct bbuf *out)
{
	struct seg **pp, *g;

	if (!n)
		return 0;
	if (!s->init) {
		s->init = true;
		s->next = seq;
	}
	if (s->gap)
		return -1;
	if (take(s, seq, d, n, out)) {
		/* Drain queued segments the new bytes made contiguous. */
		while (s->q && seqdiff(s->q->seq, s->next) <= 0) {
			g = s->q;
			s->q = g->next;
			s->qbytes -= g->len;
			take(s, g->seq, g->data, g->len, out);
			free(g);
		}
		return 0;
	}
	if (s->qbytes + n > QUEUE_MAX) {
		stream_free(s);
		s->gap = true;
		return -1;
	}
	g = malloc(sizeof(*g) + n);
	if (!g)
		return -ENOMEM;
	g->seq = seq;
	g->len = n;
	memcpy(g->data, d, n);
	for (pp = &s->q; *pp && seqdiff((*pp)->seq, seq) <= 0; pp = &(*pp)->next)
		;
	g->next = *pp;
	*pp = g;
	s->qbytes += n;
	return 0;
}

void stream_free(struct stream *s)
{
	while (s->q) {
		struct seg *g = s->q;

		s->q = g->next;
		free(g);
	}
	s->qbytes = 0;
}
