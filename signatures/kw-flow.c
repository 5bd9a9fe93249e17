// SPDX-License-Identifier: GPL-2.0-only
/* flow, flags, flowbits and noalert. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int kw_flow(struct kw_ctx *ctx, const char *name, char *v)
{
	static const struct {
		const char *opt;
		uint32_t bit;
	} opts[] = {
		{ "established", FLOW_ESTABLISHED }, { "not_established", FLOW_NOT_ESTABLISHED },
		{ "to_server", FLOW_TO_SERVER },     { "from_client", FLOW_TO_SERVER },
		{ "to_client", FLOW_TO_CLIENT },     { "from_server", FLOW_TO_CLIENT },
		{ "stateless", FLOW_STATELESS },     { "only_stream", FLOW_ONLY_STREAM },
		{ "no_stream", FLOW_NO_STREAM },
	};
	char *save = NULL;

	(void)name;
	for (char *o = strtok_r(v, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		size_t i;

		while (isspace((unsigned char)*o))
			o++;
		for (char *e = o + strlen(o); e > o && isspace((unsigned char)e[-1]);)
			*--e = 0;
		for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
			if (!strcmp(o, opts[i].opt))
				break;
		if (i == sizeof(opts) / sizeof(opts[0]))
			return kw_fail(ctx, -EINVAL, "bad value", "flow: unknown option \"%s\"", o);
		ctx->r->flow |= opts[i].bit;
	}
	if ((ctx->r->flow & (FLOW_TO_SERVER | FLOW_TO_CLIENT)) == (FLOW_TO_SERVER | FLOW_TO_CLIENT))
		return kw_fail(ctx, -EINVAL, "conflicting modifiers", "flow: both directions");
	if ((ctx->r->flow & (FLOW_ESTABLISHED | FLOW_NOT_ESTABLISHED)) ==
	    (FLOW_ESTABLISHED | FLOW_NOT_ESTABLISHED))
		return kw_fail(ctx, -EINVAL, "conflicting modifiers",
			       "flow: established and not_established");
	return 0;
}

static int flag_bit(char c)
{
	switch (toupper((unsigned char)c)) {
	case 'F':
		return 0x01;
	case 'S':
		return 0x02;
	case 'R':
		return 0x04;
	case 'P':
		return 0x08;
	case 'A':
		return 0x10;
	case 'U':
		return 0x20;
	case 'E':
	case '2':
		return 0x40;
	case 'C':
	case '1':
		return 0x80;
	}
	return -1;
}

/* flags:[!+*]FSRPAUCE0[,mask] */
static int kw_flags(struct kw_ctx *ctx, const char *name, char *v)
{
	struct pw_sig_rule *r = ctx->r;
	char *comma = strchr(v, ',');

	(void)name;
	r->flags_mask = 0xff;
	if (comma) {
		*comma = 0;
		for (char *p = comma + 1; *p; p++) {
			int b = isspace((unsigned char)*p) ? 0 : flag_bit(*p);

			if (b < 0)
				return kw_fail(ctx, -EINVAL, "bad value",
					       "flags: bad mask flag '%c'", *p);
			r->flags_mask &= ~b;
		}
	}
	for (char *p = v; *p; p++) {
		int b;

		if (isspace((unsigned char)*p))
			continue;
		if (strchr("!+*", *p)) {
			if (r->flags_mod)
				return kw_fail(ctx, -EINVAL, "bad value", "flags: two modifiers");
			r->flags_mod = *p;
			continue;
		}
		if (*p == '0')
			continue;
		b = flag_bit(*p);
		if (b < 0)
			return kw_fail(ctx, -EINVAL, "bad value", "flags: bad flag '%c'", *p);
		r->flags_set |= b;
	}
	r->has_flags = true;
	return 0;
}

static int kw_flowbits(struct kw_ctx *ctx, const char *name, char *v)
{
	static const char *const cmds[] = {
		[FB_SET] = "set",     [FB_ISSET] = "isset",   [FB_ISNOTSET] = "isnotset",
		[FB_UNSET] = "unset", [FB_TOGGLE] = "toggle", [FB_NOALERT] = "noalert",
	};
	struct pw_sig_rule *r = ctx->r;
	struct flowbit_op op = { 0 }, *n;
	char *comma = strchr(v, ','), *names, *save = NULL;
	size_t i;

	(void)name;
	if (comma)
		*comma = 0;
	for (char *e = v + strlen(v); e > v && isspace((unsigned char)e[-1]);)
		*--e = 0;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(v, cmds[i]))
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0]))
		return kw_fail(ctx, -EINVAL, "bad value", "flowbits: unknown command \"%s\"", v);
	op.cmd = i;
	if (op.cmd == FB_NOALERT) {
		if (comma)
			return kw_fail(ctx, -EINVAL, "bad value", "flowbits:noalert takes no name");
		r->noalert = true;
		return 0;
	}
	if (!comma)
		return kw_fail(ctx, -EINVAL, "missing value", "flowbits:%s needs a name", v);
	names = comma + 1;
	if (strchr(names, '|')) {
		if (op.cmd != FB_ISSET && op.cmd != FB_ISNOTSET)
			return kw_fail(ctx, -EINVAL, "bad value",
				       "flowbits: '|' only with isset/isnotset");
		op.any = true;
	}
	for (char *t = strtok_r(names, "|&", &save); t; t = strtok_r(NULL, "|&", &save)) {
		uint32_t *ids;

		while (isspace((unsigned char)*t))
			t++;
		for (char *e = t + strlen(t); e > t && isspace((unsigned char)e[-1]);)
			*--e = 0;
		if (!*t || strchr(t, ' '))
			continue;
		ids = realloc(op.ids, (op.n + 1) * sizeof(*ids));
		if (!ids) {
			free(op.ids);
			return -ENOMEM;
		}
		op.ids = ids;
		ids[op.n] = sig_flowbit_id(ctx->set, t);
		if (ids[op.n] == UINT32_MAX) {
			free(op.ids);
			return -ENOMEM;
		}
		op.n++;
	}
	if (!op.n)
		return kw_fail(ctx, -EINVAL, "bad value", "flowbits: empty name");
	n = realloc(r->fbs, (r->nfbs + 1) * sizeof(*n));
	if (!n) {
		free(op.ids);
		return -ENOMEM;
	}
	r->fbs = n;
	n[r->nfbs++] = op;
	return 0;
}

static int kw_noalert(struct kw_ctx *ctx, const char *name, char *v)
{
	(void)name;
	(void)v;
	ctx->r->noalert = true;
	return 0;
}

const struct kw_def pw_kw_flow[] = {
	{ "flow", kw_flow, true },
	{ "flags", kw_flags, true },
	{ "flowbits", kw_flowbits, true },
	{ "noalert", kw_noalert, false },
	{ 0 },
};
