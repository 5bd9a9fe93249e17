// SPDX-License-Identifier: GPL-2.0-only
/* Meta keywords: msg, sid, rev, gid, classtype, priority, metadata, reference, target. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int parse_u32(struct kw_ctx *ctx, const char *name, const char *v, uint32_t *out)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);

	if (end == v || *end || n > UINT32_MAX)
		return kw_fail(ctx, -EINVAL, "bad value", "%s: \"%s\" is not a number", name, v);
	*out = n;
	return 0;
}

static int kw_msg(struct kw_ctx *ctx, const char *name, char *v)
{
	char *s = sig_unquote(v), *o, *p;

	(void)name;
	free(ctx->r->msg);
	ctx->r->msg = strdup(s);
	if (!ctx->r->msg)
		return -ENOMEM;
	/* Drop the escaping backslashes (\; \" \\). */
	o = ctx->r->msg;
	for (p = o; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		*o++ = *p;
	}
	*o = 0;
	return 0;
}

static int kw_sid(struct kw_ctx *ctx, const char *name, char *v)
{
	int err = parse_u32(ctx, name, v, &ctx->r->sid);

	if (!err && !ctx->r->sid)
		return kw_fail(ctx, -EINVAL, "bad value", "sid must not be 0");
	return err;
}

static int kw_rev(struct kw_ctx *ctx, const char *name, char *v)
{
	return parse_u32(ctx, name, v, &ctx->r->rev);
}

static int kw_gid(struct kw_ctx *ctx, const char *name, char *v)
{
	return parse_u32(ctx, name, v, &ctx->r->gid);
}

static int kw_priority(struct kw_ctx *ctx, const char *name, char *v)
{
	uint32_t p = 0;
	int err = parse_u32(ctx, name, v, &p);

	if (err)
		return err;
	if (p < 1 || p > 255)
		return kw_fail(ctx, -EINVAL, "bad value", "priority %u is out of 1..255", p);
	ctx->r->priority = p;
	return 0;
}

static int kw_classtype(struct kw_ctx *ctx, const char *name, char *v)
{
	int prio = 3;
	const char *d;

	(void)name;
	free(ctx->r->classtype);
	ctx->r->classtype = strdup(v);
	if (!ctx->r->classtype)
		return -ENOMEM;
	d = sig_class_lookup(ctx->set, v, &prio);
	if (d) {
		ctx->r->class_desc = d;
		/* An explicit priority keyword wins, in either order. */
		if (!ctx->r->priority)
			ctx->r->priority = prio;
	}
	return 0;
}

/*
 * metadata: comma-separated "key value" pairs, kept (trimmed, one per line)
 * for drop policies that select rules by metadata; matching ignores them.
 */
static int kw_metadata(struct kw_ctx *ctx, const char *name, char *v)
{
	size_t old = ctx->r->metadata ? strlen(ctx->r->metadata) : 0;
	char *tok, *save = NULL, *m;

	(void)name;
	m = realloc(ctx->r->metadata, old + strlen(v) + 2);
	if (!m)
		return -ENOMEM;
	ctx->r->metadata = m;
	m[old] = 0;
	for (tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *e;

		while (*tok == ' ' || *tok == '\t')
			tok++;
		e = tok + strlen(tok);
		while (e > tok && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = 0;
		if (!*tok)
			continue;
		strcat(m, tok);
		strcat(m, "\n");
	}
	return 0;
}

/* Kept for eve only; they do not change matching. */
static int kw_ignore(struct kw_ctx *ctx, const char *name, char *v)
{
	(void)ctx;
	(void)name;
	(void)v;
	return 0;
}

static int kw_target(struct kw_ctx *ctx, const char *name, char *v)
{
	(void)name;
	if (strcmp(v, "src_ip") && strcmp(v, "dest_ip"))
		return kw_fail(ctx, -EINVAL, "bad value", "target must be src_ip or dest_ip");
	return 0;
}

const struct kw_def pw_kw_meta[] = {
	{ "msg", kw_msg, true },	   { "sid", kw_sid, true },
	{ "rev", kw_rev, true },	   { "gid", kw_gid, true },
	{ "priority", kw_priority, true }, { "classtype", kw_classtype, true },
	{ "metadata", kw_metadata, true },   { "reference", kw_ignore, true },
	{ "target", kw_target, true },	   { 0 },
};
