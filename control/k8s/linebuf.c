// SPDX-License-Identifier: GPL-2.0-only
/* Incremental line splitting of watch streams, with a bound on one line. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "k8s.h"

void pw_k8s_linebuf_init(struct pw_k8s_linebuf *lb, size_t max)
{
	memset(lb, 0, sizeof(*lb));
	lb->max = max;
}

void pw_k8s_linebuf_reset(struct pw_k8s_linebuf *lb)
{
	lb->len = 0;
}

void pw_k8s_linebuf_free(struct pw_k8s_linebuf *lb)
{
	free(lb->buf);
	lb->buf = NULL;
	lb->len = lb->cap = 0;
}

static int append(struct pw_k8s_linebuf *lb, const char *p, size_t n)
{
	if (lb->len + n > lb->max) {
		lb->len = 0;
		return -E2BIG;
	}
	if (lb->len + n + 1 > lb->cap) {
		size_t cap = lb->cap ? lb->cap : 4096;
		char *b;

		while (cap < lb->len + n + 1)
			cap *= 2;
		if (cap > lb->max + 1)
			cap = lb->max + 1;
		b = realloc(lb->buf, cap);
		if (!b)
			return -ENOMEM;
		lb->buf = b;
		lb->cap = cap;
	}
	memcpy(lb->buf + lb->len, p, n);
	lb->len += n;
	lb->buf[lb->len] = '\0';
	return 0;
}

static int emit(char *line, size_t len, pw_k8s_line_fn fn, void *ctx)
{
	if (len && line[len - 1] == '\r')
		line[--len] = '\0';
	return len ? fn(ctx, line, len) : 0;
}

int pw_k8s_linebuf_feed(struct pw_k8s_linebuf *lb, const char *data, size_t len,
			pw_k8s_line_fn fn, void *ctx)
{
	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;
		int err;

		if (!nl)
			return append(lb, data, n);
		/* Copied even when whole in this chunk: fn may write to the line. */
		err = append(lb, data, n);
		if (err)
			return err;
		n = lb->len;
		lb->len = 0;
		err = emit(lb->buf, n, fn, ctx);
		if (err < 0)
			return err;
		len -= (size_t)(nl - data) + 1;
		data = nl + 1;
	}
	return 0;
}
