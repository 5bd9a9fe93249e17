// SPDX-License-Identifier: GPL-2.0-only
/*
 * content and its modifiers: nocase, depth, offset, distance, within,
 * startswith, endswith, fast_pattern, rawbytes, dotprefix; uricontent.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes "abc|0d 0a|\"x" into bytes; out has room for strlen(s). */
static int decode(struct kw_ctx *ctx, const char *s, uint8_t *out, uint32_t *len)
{
	bool hex = false;
	uint32_t n = 0;
	int hi = -1;

	for (const char *p = s; *p; p++) {
		if (*p == '|') {
			if (hex && hi >= 0)
				return kw_fail(ctx, -EINVAL, "bad content",
					       "odd number of hex digits");
			hex = !hex;
			continue;
		}
		if (hex) {
			int v;

			if (isspace((unsigned char)*p))
				continue;
			v = hexval(*p);
			if (v < 0)
				return kw_fail(ctx, -EINVAL, "bad content", "bad hex digit '%c'",
					       *p);
			if (hi < 0) {
				hi = v;
			} else {
				out[n++] = hi << 4 | v;
				hi = -1;
			}
			continue;
		}
		if (*p == '\\') {
			p++;
			if (*p != '"' && *p != ';' && *p != '\\' && *p != ':' && *p != '|')
				return kw_fail(ctx, -EINVAL, "bad content", "bad escape \\%c",
					       *p ? *p : '0');
			out[n++] = *p;
			continue;
		}
		if (*p == '"' || *p == ';')
			return kw_fail(ctx, -EINVAL, "bad content", "unescaped '%c' in content",
				       *p);
		out[n++] = *p;
	}
	if (hex)
		return kw_fail(ctx, -EINVAL, "bad content", "unterminated |hex| block");
	if (!n)
		return kw_fail(ctx, -EINVAL, "bad content", "empty content");
	*len = n;
	return 0;
}

static int kw_content(struct kw_ctx *ctx, const char *name, char *v)
{
	bool neg = false;
	struct sm *m;
	uint8_t *pat;
	uint32_t len = 0;
	size_t vl;
	int err;

	while (isspace((unsigned char)*v))
		v++;
	if (*v == '!') {
		neg = true;
		v++;
		while (isspace((unsigned char)*v))
			v++;
	}
	vl = strlen(v);
	if (vl < 2 || v[0] != '"' || v[vl - 1] != '"')
		return kw_fail(ctx, -EINVAL, "bad content", "%s value must be quoted", name);
	v[vl - 1] = 0;
	pat = malloc(vl);
	if (!pat)
		return -ENOMEM;
	err = decode(ctx, v + 1, pat, &len);
	if (err) {
		free(pat);
		return err;
	}
	m = kw_new_sm(ctx, SM_CONTENT);
	if (!m) {
		free(pat);
		return -ENOMEM;
	}
	if (!strcmp(name, "uricontent"))
		m->buf = PW_BUF_HTTP_URI;
	m->c.pat = pat;
	m->c.len = len;
	m->negated = neg;
	if (neg)
		m->c.flags |= CF_NEGATED;
	ctx->r->last_content = m - ctx->r->sms;
	return 0;
}

static int need_content(struct kw_ctx *ctx, const char *name, struct sm **m)
{
	*m = kw_last_content(ctx);
	if (!*m)
		return kw_fail(ctx, -EINVAL, "modifier without content", "%s must follow a content",
			       name);
	return 0;
}

static int parse_int(struct kw_ctx *ctx, const char *name, const char *v, int32_t *out)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (end == v || *end || n < -65535 || n > 65535)
		return kw_fail(ctx, -EINVAL, "bad value", "%s: \"%s\" is not a number in range",
			       name, v);
	*out = n;
	return 0;
}

static int kw_modifier(struct kw_ctx *ctx, const char *name, char *v)
{
	struct sm *m;
	int err = need_content(ctx, name, &m);

	if (err)
		return err;
	if (!strcmp(name, "nocase")) {
		m->c.flags |= CF_NOCASE;
	} else if (!strcmp(name, "rawbytes")) {
		/* packet data is never normalised here, so rawbytes changes nothing */
	} else if (!strcmp(name, "startswith")) {
		if (m->c.flags & (CF_DEPTH | CF_OFFSET | CF_DISTANCE | CF_WITHIN))
			return kw_fail(
				ctx, -EINVAL, "conflicting modifiers",
				"startswith cannot be combined with depth/offset/distance/within");
		m->c.flags |= CF_STARTSWITH;
	} else if (!strcmp(name, "endswith")) {
		m->c.flags |= CF_ENDSWITH;
	} else {
		int32_t n = 0;

		if (!v)
			return kw_fail(ctx, -EINVAL, "missing value", "%s needs a value", name);
		err = parse_int(ctx, name, v, &n);
		if (err)
			return err;
		if (m->c.flags & CF_STARTSWITH)
			return kw_fail(ctx, -EINVAL, "conflicting modifiers",
				       "%s cannot be combined with startswith", name);
		if (!strcmp(name, "depth")) {
			if (n < 1 || (uint32_t)n < m->c.len)
				return kw_fail(ctx, -EINVAL, "bad value",
					       "depth %d is smaller than the content", n);
			if (m->c.flags & CF_RELATIVE)
				return kw_fail(ctx, -EINVAL, "conflicting modifiers",
					       "depth cannot be combined with distance/within");
			m->c.depth = n;
			m->c.flags |= CF_DEPTH;
		} else if (!strcmp(name, "offset")) {
			if (n < 0)
				return kw_fail(ctx, -EINVAL, "bad value",
					       "offset must not be negative");
			if (m->c.flags & CF_RELATIVE)
				return kw_fail(ctx, -EINVAL, "conflicting modifiers",
					       "offset cannot be combined with distance/within");
			m->c.offset = n;
			m->c.flags |= CF_OFFSET;
		} else {
			if (m->c.flags & (CF_DEPTH | CF_OFFSET))
				return kw_fail(ctx, -EINVAL, "conflicting modifiers",
					       "%s cannot be combined with depth/offset", name);
			if (!strcmp(name, "distance")) {
				m->c.distance = n;
				m->c.flags |= CF_DISTANCE;
			} else {
				if (n < 1 || (uint32_t)n < m->c.len)
					return kw_fail(ctx, -EINVAL, "bad value",
						       "within %d is smaller than the content", n);
				m->c.within = n;
				m->c.flags |= CF_WITHIN;
			}
			m->c.flags |= CF_RELATIVE;
			m->relative = true;
		}
	}
	return 0;
}

static int kw_fast_pattern(struct kw_ctx *ctx, const char *name, char *v)
{
	struct sm *m;
	int err = need_content(ctx, name, &m);

	if (err)
		return err;
	if (m->negated)
		return kw_fail(ctx, -EINVAL, "bad value", "fast_pattern on a negated content");
	m->c.flags |= CF_FAST;
	m->c.fp_len = m->c.len;
	if (!v)
		return 0;
	if (!strcmp(v, "only")) {
		m->c.flags |= CF_FAST_ONLY;
		return 0;
	}
	{
		char *end;
		unsigned long off = strtoul(v, &end, 10), len;

		if (*end != ',')
			return kw_fail(ctx, -EINVAL, "bad value", "fast_pattern: \"%s\"", v);
		len = strtoul(end + 1, &end, 10);
		if (*end || !len || off + len > m->c.len)
			return kw_fail(ctx, -EINVAL, "bad value",
				       "fast_pattern chop outside the content");
		m->c.fp_off = off;
		m->c.fp_len = len;
	}
	return 0;
}

const struct kw_def pw_kw_content[] = {
	{ "content", kw_content, true },
	{ "uricontent", kw_content, true },
	{ "nocase", kw_modifier, false },
	{ "rawbytes", kw_modifier, false },
	{ "startswith", kw_modifier, false },
	{ "endswith", kw_modifier, false },
	{ "depth", kw_modifier, true },
	{ "offset", kw_modifier, true },
	{ "distance", kw_modifier, true },
	{ "within", kw_modifier, true },
	{ "fast_pattern", kw_fast_pattern, false },
	{ 0 },
};
