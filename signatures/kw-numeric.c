// SPDX-License-Identifier: GPL-2.0-only
/* Numeric keywords: dsize, bsize, urilen, isdataat, byte_test, byte_jump. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int kw_dsize(struct kw_ctx *ctx, const char *name, char *v)
{
	struct pw_sig_rule *r = ctx->r;

	if (r->has_dsize)
		return kw_fail(ctx, -EINVAL, "bad value", "dsize given twice");
	if (parse_numcmp(v, &r->dsize))
		return kw_fail(ctx, -EINVAL, "bad value", "%s: bad comparison \"%s\"", name, v);
	r->has_dsize = true;
	return 0;
}

static int kw_icmp(struct kw_ctx *ctx, const char *name, char *v)
{
	struct pw_sig_rule *r = ctx->r;
	bool type = !strcmp(name, "itype");
	struct numcmp *c = type ? &r->itype : &r->icode;

	if (parse_numcmp(v, c))
		return kw_fail(ctx, -EINVAL, "bad value", "%s: bad comparison \"%s\"", name, v);
	if (type)
		r->has_itype = true;
	else
		r->has_icode = true;
	return 0;
}

static int kw_urilen(struct kw_ctx *ctx, const char *name, char *v)
{
	struct pw_sig_rule *r = ctx->r;
	char *comma = strchr(v, ',');

	if (comma) {
		char *mode = comma + 1;

		*comma = 0;
		while (isspace((unsigned char)*mode))
			mode++;
		if (strcmp(mode, "norm") && strcmp(mode, "raw"))
			return kw_fail(ctx, -EINVAL, "bad value",
				       "urilen: mode must be norm or raw");
	}
	if (parse_numcmp(v, &r->urilen))
		return kw_fail(ctx, -EINVAL, "bad value", "%s: bad comparison \"%s\"", name, v);
	r->has_urilen = true;
	return 0;
}

static int kw_bsize(struct kw_ctx *ctx, const char *name, char *v)
{
	struct sm *m;
	struct numcmp c;

	if (parse_numcmp(v, &c))
		return kw_fail(ctx, -EINVAL, "bad value", "%s: bad comparison \"%s\"", name, v);
	if (ctx->r->cur_buf == PW_BUF_PKT)
		return kw_fail(ctx, -EINVAL, "bsize without buffer", "bsize needs a sticky buffer");
	m = kw_new_sm(ctx, SM_BSIZE);
	if (!m)
		return -ENOMEM;
	m->bsize = c;
	return 0;
}

static int kw_isdataat(struct kw_ctx *ctx, const char *name, char *v)
{
	bool neg = false, rel = false;
	char *comma, *end;
	unsigned long n;
	struct sm *m;

	(void)name;
	if (*v == '!') {
		neg = true;
		v++;
	}
	comma = strchr(v, ',');
	if (comma) {
		char *opt = comma + 1;

		*comma = 0;
		while (isspace((unsigned char)*opt))
			opt++;
		if (!strncmp(opt, "relative", 8))
			rel = true;
		else if (strncmp(opt, "rawbytes", 8))
			return kw_fail(ctx, -EINVAL, "bad value", "isdataat: unknown option %s",
				       opt);
	}
	n = strtoul(v, &end, 10);
	if (end == v || (*end && !isspace((unsigned char)*end)) || n > 65535)
		return kw_fail(ctx, -EINVAL, "bad value", "isdataat: \"%s\" is not a number", v);
	m = kw_new_sm(ctx, SM_ISDATAAT);
	if (!m)
		return -ENOMEM;
	m->dataat.n = n;
	m->negated = neg;
	m->relative = rel;
	kw_relative_buf(ctx, m);
	return 0;
}

static char *next_arg(char **p)
{
	char *s = *p, *e;

	if (!s)
		return NULL;
	e = strchr(s, ',');
	if (e) {
		*e = 0;
		*p = e + 1;
	} else {
		*p = NULL;
	}
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static int num_arg(const char *s, int64_t *out)
{
	char *end;

	if (!s || !*s)
		return -EINVAL;
	*out = strtoll(s, &end, 0);
	return *end ? -EINVAL : 0;
}

/* byte_test:n,op,value,offset[,opts]  byte_jump:n,offset[,opts] */
static int kw_byte(struct kw_ctx *ctx, const char *name, char *v)
{
	bool jump = !strcmp(name, "byte_jump");
	char *p = v, *a;
	struct sm *m;
	int64_t n;

	m = kw_new_sm(ctx, jump ? SM_BYTE_JUMP : SM_BYTE_TEST);
	if (!m)
		return -ENOMEM;
	m->b.multiplier = 1;
	a = next_arg(&p);
	if (num_arg(a, &n) || n < 1 || n > 10)
		return kw_fail(ctx, -EINVAL, "bad value", "%s: byte count must be 1..10", name);
	m->b.nbytes = n;
	if (!jump) {
		a = next_arg(&p);
		if (!a || !*a)
			return kw_fail(ctx, -EINVAL, "bad value", "%s: missing operator", name);
		if (*a == '!') {
			m->b.negop = true;
			a++;
		}
		if (!strcmp(a, "<=") || !strcmp(a, ">="))
			m->b.op = a[0] == '<' ? 'l' : 'g';
		else if (strlen(a) == 1 && strchr("<>=&^", *a))
			m->b.op = *a;
		else
			return kw_fail(ctx, -EINVAL, "bad value", "%s: bad operator \"%s\"", name,
				       a);
		a = next_arg(&p);
		if (num_arg(a, &n))
			return kw_fail(ctx, -EINVAL, "unsupported byte variable",
				       "%s: value \"%s\" must be a number", name, a ? a : "");
		m->b.value = n;
	}
	a = next_arg(&p);
	if (num_arg(a, &n))
		return kw_fail(ctx, -EINVAL, "unsupported byte variable",
			       "%s: offset \"%s\" must be a number", name, a ? a : "");
	m->b.offset = n;
	while ((a = next_arg(&p))) {
		if (!strcmp(a, "relative")) {
			m->b.relative = m->relative = true;
		} else if (!strcmp(a, "big")) {
			m->b.little = false;
		} else if (!strcmp(a, "little")) {
			m->b.little = true;
		} else if (!strcmp(a, "string")) {
			m->b.base = 10;
		} else if (!strcmp(a, "hex")) {
			m->b.base = 16;
		} else if (!strcmp(a, "dec")) {
			m->b.base = 10;
		} else if (!strcmp(a, "oct")) {
			m->b.base = 8;
		} else if (!strcmp(a, "align") && jump) {
			m->b.align = true;
		} else if (!strcmp(a, "from_beginning") && jump) {
			m->b.from_beginning = true;
		} else if (!strcmp(a, "from_end") && jump) {
			m->b.from_end = true;
		} else if (!strncmp(a, "multiplier", 10) && jump) {
			if (num_arg(a + 10, &n) || n < 1)
				return kw_fail(ctx, -EINVAL, "bad value", "%s: bad multiplier",
					       name);
			m->b.multiplier = n;
		} else if (!strncmp(a, "post_offset", 11) && jump) {
			if (num_arg(a + 11, &n))
				return kw_fail(ctx, -EINVAL, "bad value", "%s: bad post_offset",
					       name);
			m->b.post_offset = n;
		} else if (!strncmp(a, "bitmask", 7)) {
			int64_t mask;

			if (num_arg(a + 7, &mask) || !mask)
				return kw_fail(ctx, -EINVAL, "bad value", "%s: bad bitmask", name);
			m->b.mask = mask;
		} else if (!strcmp(a, "dce")) {
			return kw_fail(ctx, -EOPNOTSUPP, "unsupported keyword",
				       "%s: dce is not supported", name);
		} else {
			return kw_fail(ctx, -EINVAL, "bad value", "%s: unknown option \"%s\"", name,
				       a);
		}
	}
	kw_relative_buf(ctx, m);
	if (m->b.base && m->b.nbytes > 10)
		return kw_fail(ctx, -EINVAL, "bad value", "%s: string conversion over 10 bytes",
			       name);
	if (!m->b.base && m->b.nbytes > 8)
		return kw_fail(ctx, -EINVAL, "bad value", "%s: binary conversion over 8 bytes",
			       name);
	return 0;
}

const struct kw_def pw_kw_numeric[] = {
	{ "dsize", kw_dsize, true },
	{ "urilen", kw_urilen, true },
	{ "itype", kw_icmp, true },
	{ "icode", kw_icmp, true },
	{ "bsize", kw_bsize, true },
	{ "isdataat", kw_isdataat, true },
	{ "byte_test", kw_byte, true },
	{ "byte_jump", kw_byte, true },
	{ 0 },
};
