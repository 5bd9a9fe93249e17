// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rule parser: header (action, protocol, addresses, ports, direction) and the
 * option list, dispatched through the keyword tables of the kw-*.c families.
 * A rejected rule is recorded with file:line, sid, keyword and a reason class,
 * and never stops the rules around it from loading.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "internal.h"

static const char *const default_vars[][2] = {
	{ "HOME_NET", "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]" },
	{ "EXTERNAL_NET", "!$HOME_NET" },
	{ "HTTP_SERVERS", "$HOME_NET" },
	{ "SMTP_SERVERS", "$HOME_NET" },
	{ "SQL_SERVERS", "$HOME_NET" },
	{ "DNS_SERVERS", "$HOME_NET" },
	{ "TELNET_SERVERS", "$HOME_NET" },
	{ "AIM_SERVERS", "$EXTERNAL_NET" },
	{ "DC_SERVERS", "$HOME_NET" },
	{ "DNP3_SERVER", "$HOME_NET" },
	{ "DNP3_CLIENT", "$HOME_NET" },
	{ "MODBUS_CLIENT", "$HOME_NET" },
	{ "MODBUS_SERVER", "$HOME_NET" },
	{ "ENIP_CLIENT", "$HOME_NET" },
	{ "ENIP_SERVER", "$HOME_NET" },
	{ "HTTP_PORTS", "80" },
	{ "SHELLCODE_PORTS", "!80" },
	{ "ORACLE_PORTS", "1521" },
	{ "SSH_PORTS", "22" },
	{ "DNP3_PORTS", "20000" },
	{ "MODBUS_PORTS", "502" },
	{ "FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]" },
	{ "FTP_PORTS", "21" },
	{ "GENEVE_PORTS", "6081" },
	{ "VXLAN_PORTS", "4789" },
	{ "TEREDO_PORTS", "3544" },
};

static const struct kw_def *const kw_tables[] = {
	pw_kw_meta, pw_kw_content, pw_kw_pcre,	    pw_kw_numeric,
	pw_kw_flow, pw_kw_buffer,  pw_kw_threshold,
};

static const char *const action_names[] = {
	[PW_SIG_PASS] = "pass",
	[PW_SIG_DROP] = "drop",
	[PW_SIG_REJECT] = "reject",
	[PW_SIG_ALERT] = "alert",
};
static_assert(sizeof(action_names) / sizeof(action_names[0]) == _PW_SIG_ACTION_MAX, "action names");

static const char *const proto_names[] = {
	[PW_SIG_P_IP] = "ip",
	[PW_SIG_P_TCP] = "tcp",
	[PW_SIG_P_UDP] = "udp",
	[PW_SIG_P_ICMP] = "icmp",
	[PW_SIG_P_HTTP] = "http",
	[PW_SIG_P_TLS] = "tls",
	[PW_SIG_P_DNS] = "dns",
	[PW_SIG_P_TCP_PKT] = "tcp-pkt",
	[PW_SIG_P_TCP_STREAM] = "tcp-stream",
};
static_assert(sizeof(proto_names) / sizeof(proto_names[0]) == _PW_SIG_P_MAX, "proto names");

const char *pw_sig_action_name(enum pw_sig_action a)
{
	return a < _PW_SIG_ACTION_MAX ? action_names[a] : "?";
}

int kw_fail(struct kw_ctx *ctx, int err, const char *reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
	va_end(ap);
	ctx->reason = reason;
	return err;
}

struct sm *kw_new_sm(struct kw_ctx *ctx, enum sm_type t)
{
	struct pw_sig_rule *r = ctx->r;
	struct sm *n = realloc(r->sms, (r->nsms + 1) * sizeof(*n));

	if (!n)
		return NULL;
	r->sms = n;
	memset(&n[r->nsms], 0, sizeof(*n));
	n[r->nsms].type = t;
	n[r->nsms].buf = r->cur_buf;
	return &n[r->nsms++];
}

struct sm *kw_last_content(struct kw_ctx *ctx)
{
	if (ctx->r->last_content < 0 || ctx->r->sms[ctx->r->last_content].type != SM_CONTENT)
		return NULL;
	return &ctx->r->sms[ctx->r->last_content];
}

void kw_relative_buf(struct kw_ctx *ctx, struct sm *m)
{
	int last = ctx->r->last_content;

	if (m->relative && last >= 0 && &ctx->r->sms[last] != m)
		m->buf = ctx->r->sms[last].buf;
}

uint32_t sig_flowbit_id(struct pw_sig_set *s, const char *name)
{
	char **n;

	for (size_t i = 0; i < s->nbitnames; i++)
		if (!strcmp(s->bitnames[i], name))
			return i;
	n = realloc(s->bitnames, (s->nbitnames + 1) * sizeof(*n));
	if (!n)
		return UINT32_MAX;
	s->bitnames = n;
	n[s->nbitnames] = strdup(name);
	if (!n[s->nbitnames])
		return UINT32_MAX;
	return s->nbitnames++;
}

const char *sig_class_lookup(struct pw_sig_set *s, const char *name, int *prio)
{
	for (size_t i = 0; i < s->nclasses; i++)
		if (!strcmp(s->classes[i].name, name)) {
			*prio = s->classes[i].prio;
			return s->classes[i].desc;
		}
	return NULL;
}

/* Strips surrounding quotes in place. */
char *sig_unquote(char *v)
{
	size_t n;

	while (isspace((unsigned char)*v))
		v++;
	n = strlen(v);
	while (n && isspace((unsigned char)v[n - 1]))
		v[--n] = 0;
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v[n - 1] = 0;
		v++;
	}
	return v;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static const char *var_get(struct pw_sig_set *s, const char *name)
{
	for (size_t i = 0; i < s->nvars; i++)
		if (!strcmp(s->vars[i].name, name))
			return s->vars[i].value;
	return NULL;
}

int pw_sig_set_var(struct pw_sig_set *s, const char *name, const char *value)
{
	struct sig_var *n;
	char *v = strdup(value);

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < s->nvars; i++)
		if (!strcmp(s->vars[i].name, name)) {
			free(s->vars[i].value);
			s->vars[i].value = v;
			return 0;
		}
	n = realloc(s->vars, (s->nvars + 1) * sizeof(*n));
	if (!n) {
		free(v);
		return -ENOMEM;
	}
	s->vars = n;
	n[s->nvars].name = strdup(name);
	n[s->nvars].value = v;
	if (!n[s->nvars].name) {
		free(v);
		return -ENOMEM;
	}
	s->nvars++;
	return 0;
}

int pw_sig_set_new(struct pw_sig_set **out)
{
	struct pw_sig_set *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(default_vars) / sizeof(default_vars[0]); i++) {
		if (pw_sig_set_var(s, default_vars[i][0], default_vars[i][1])) {
			pw_sig_set_free(&s);
			return -ENOMEM;
		}
	}
	*out = s;
	return 0;
}

static void rule_free(struct pw_sig_rule *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nsms; i++) {
		struct sm *m = &r->sms[i];

		if (m->type == SM_CONTENT)
			free(m->c.pat);
		else if (m->type == SM_PCRE) {
			pcre2_match_data_free(m->p.md);
			pcre2_code_free(m->p.re);
		}
	}
	for (size_t i = 0; i < r->nfbs; i++)
		free(r->fbs[i].ids);
	free(r->fbs);
	free(r->sms);
	free(r->src.e);
	free(r->dst.e);
	free(r->src.hosts);
	free(r->dst.hosts);
	free(r->sp.e);
	free(r->dp.e);
	free(r->msg);
	free(r->classtype);
	free(r->metadata);
	free(r);
}

void sig_engine_free(struct pw_sig_set *s); /* engine.c */

void pw_sig_set_free(struct pw_sig_set **sp)
{
	struct pw_sig_set *s = *sp;

	if (!s)
		return;
	sig_engine_free(s);
	for (size_t i = 0; i < s->nrules; i++)
		rule_free(s->rules[i]);
	free(s->rules);
	for (size_t i = 0; i < s->nvars; i++) {
		free(s->vars[i].name);
		free(s->vars[i].value);
	}
	free(s->vars);
	for (size_t i = 0; i < s->nclasses; i++) {
		free(s->classes[i].name);
		free(s->classes[i].desc);
	}
	free(s->classes);
	for (size_t i = 0; i < s->nrejects; i++) {
		free(s->rejects[i].file);
		free(s->rejects[i].keyword);
		free(s->rejects[i].reason);
		free(s->rejects[i].detail);
	}
	free(s->rejects);
	for (size_t i = 0; i < s->nbitnames; i++)
		free(s->bitnames[i]);
	free(s->bitnames);
	free(s);
	*sp = NULL;
}

int pw_sig_load_classification(struct pw_sig_set *s, const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "r");
	char line[1024];

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char name[128], desc[512];
		int prio;
		struct sig_class *n;

		if (sscanf(line, "config classification: %127[^,],%511[^,],%d", name, desc,
			   &prio) != 3)
			continue;
		n = realloc(s->classes, (s->nclasses + 1) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->classes = n;
		n[s->nclasses].name = strdup(trim(name));
		n[s->nclasses].desc = strdup(trim(desc));
		n[s->nclasses].prio = prio;
		s->nclasses++;
	}
	return 0;
}

/* ---- addresses and ports ---- */

static int addr_add(struct addr_list *l, const struct addr_ent *e)
{
	struct addr_ent *n = realloc(l->e, (l->n + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	l->e = n;
	n[l->n++] = *e;
	return 0;
}

/* Splits a bracketed list body at top-level commas; calls fn for each item. */
static int split_list(char *body, int (*fn)(void *, char *, bool, int), void *arg, bool neg,
		      int depth)
{
	int lvl = 0;
	char *start = body;

	for (char *p = body;; p++) {
		if (*p == '[')
			lvl++;
		else if (*p == ']')
			lvl--;
		if ((*p == ',' && lvl == 0) || !*p) {
			bool end = !*p;
			int err;

			*p = 0;
			err = fn(arg, start, neg, depth + 1);
			if (err)
				return err;
			if (end)
				break;
			start = p + 1;
		}
	}
	return lvl ? -EINVAL : 0;
}

struct addr_parse {
	struct kw_ctx *ctx;
	struct addr_list *l;
};

static int addr_expr(void *arg, char *s, bool neg, int depth)
{
	struct addr_parse *ap = arg;
	struct kw_ctx *ctx = ap->ctx;
	struct addr_ent e = { 0 };
	char *slash;

	s = trim(s);
	if (depth > 16)
		return kw_fail(ctx, -EINVAL, "malformed address", "address nesting too deep");
	if (*s == '!')
		return addr_expr(arg, s + 1, !neg, depth + 1);
	if (*s == '[') {
		size_t n = strlen(s);

		if (n < 2 || s[n - 1] != ']')
			return kw_fail(ctx, -EINVAL, "malformed address", "unbalanced '[' in %s",
				       s);
		s[n - 1] = 0;
		return split_list(s + 1, addr_expr, arg, neg, depth);
	}
	if (*s == '$') {
		const char *v = var_get(ctx->set, s + 1);
		_cleanup_free_ char *copy = NULL;

		if (!v)
			return kw_fail(ctx, -EINVAL, "unknown variable",
				       "address variable %s is not set", s);
		copy = strdup(v);
		if (!copy)
			return -ENOMEM;
		return addr_expr(arg, copy, neg, depth + 1);
	}
	if (!strcmp(s, "any")) {
		if (neg)
			return kw_fail(ctx, -EINVAL, "malformed address", "!any matches nothing");
		ap->l->any = true;
		return 0;
	}
	slash = strchr(s, '/');
	if (slash)
		*slash++ = 0;
	if (inet_pton(AF_INET, s, e.addr) == 1) {
		e.family = AF_INET;
		e.plen = 32;
	} else if (inet_pton(AF_INET6, s, e.addr) == 1) {
		e.family = AF_INET6;
		e.plen = 128;
	} else {
		return kw_fail(ctx, -EINVAL, "malformed address", "bad address \"%s\"", s);
	}
	if (slash) {
		char *end;
		long p = strtol(slash, &end, 10);

		if (*end == '.' && e.family == AF_INET) {
			struct in_addr m;

			if (inet_pton(AF_INET, slash, &m) != 1)
				return kw_fail(ctx, -EINVAL, "malformed address", "bad netmask %s",
					       slash);
			p = __builtin_popcount(m.s_addr);
		} else if (*end || p < 0 || p > e.plen) {
			return kw_fail(ctx, -EINVAL, "malformed address", "bad prefix /%s", slash);
		}
		e.plen = p;
	}
	e.neg = neg;
	return addr_add(ap->l, &e);
}

static int parse_addr(struct kw_ctx *ctx, char *s, struct addr_list *l)
{
	struct addr_parse ap = { ctx, l };
	int err = addr_expr(&ap, s, false, 0);
	bool pos = l->any;

	if (err)
		return err;
	for (size_t i = 0; i < l->n; i++)
		pos |= !l->e[i].neg;
	if (!pos)
		l->any = true; /* only exclusions: everything else matches */
	return 0;
}

struct port_parse {
	struct kw_ctx *ctx;
	struct port_list *l;
};

static int port_expr(void *arg, char *s, bool neg, int depth)
{
	struct port_parse *pp = arg;
	struct kw_ctx *ctx = pp->ctx;
	struct port_ent e = { .lo = 0, .hi = 65535 };
	struct port_ent *n;
	char *colon, *end;

	s = trim(s);
	if (depth > 16)
		return kw_fail(ctx, -EINVAL, "malformed port", "port nesting too deep");
	if (*s == '!')
		return port_expr(arg, s + 1, !neg, depth + 1);
	if (*s == '[') {
		size_t len = strlen(s);

		if (len < 2 || s[len - 1] != ']')
			return kw_fail(ctx, -EINVAL, "malformed port", "unbalanced '[' in %s", s);
		s[len - 1] = 0;
		return split_list(s + 1, port_expr, arg, neg, depth);
	}
	if (*s == '$') {
		const char *v = var_get(ctx->set, s + 1);
		_cleanup_free_ char *copy = NULL;

		if (!v)
			return kw_fail(ctx, -EINVAL, "unknown variable",
				       "port variable %s is not set", s);
		copy = strdup(v);
		if (!copy)
			return -ENOMEM;
		return port_expr(arg, copy, neg, depth + 1);
	}
	if (!strcmp(s, "any")) {
		if (neg)
			return kw_fail(ctx, -EINVAL, "malformed port", "!any matches nothing");
		pp->l->any = true;
		return 0;
	}
	colon = strchr(s, ':');
	if (colon)
		*colon++ = 0;
	if (*s) {
		long v = strtol(s, &end, 10);

		if (*end || v < 0 || v > 65535)
			return kw_fail(ctx, -EINVAL, "malformed port", "bad port \"%s\"", s);
		e.lo = v;
		if (!colon)
			e.hi = v;
	}
	if (colon && *colon) {
		long v = strtol(colon, &end, 10);

		if (*end || v < 0 || v > 65535 || v < e.lo)
			return kw_fail(ctx, -EINVAL, "malformed port", "bad port range end \"%s\"",
				       colon);
		e.hi = v;
	}
	if (!*s && !colon)
		return kw_fail(ctx, -EINVAL, "malformed port", "empty port");
	e.neg = neg;
	n = realloc(pp->l->e, (pp->l->n + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	pp->l->e = n;
	n[pp->l->n++] = e;
	return 0;
}

static int parse_ports(struct kw_ctx *ctx, char *s, struct port_list *l)
{
	struct port_parse pp = { ctx, l };
	int err = port_expr(&pp, s, false, 0);
	bool pos = l->any;

	if (err)
		return err;
	for (size_t i = 0; i < l->n; i++)
		pos |= !l->e[i].neg;
	if (!pos)
		l->any = true;
	return 0;
}

/* ---- rejects ---- */

static void add_reject(struct pw_sig_set *s, const char *file, int line, uint32_t sid,
		       const char *keyword, const char *reason, const char *detail)
{
	struct sig_reject_rec *n, *r;

	if (s->nrejects == s->caprejects) {
		size_t cap = s->caprejects ? s->caprejects * 2 : 64;

		n = realloc(s->rejects, cap * sizeof(*n));
		if (!n)
			return;
		s->rejects = n;
		s->caprejects = cap;
	}
	r = &s->rejects[s->nrejects++];
	r->file = strdup(file ? file : "-");
	r->keyword = strdup(keyword ? keyword : "");
	r->reason = strdup(reason ? reason : "malformed");
	r->detail = strdup(detail ? detail : "");
	r->pub = (struct pw_sig_reject){ r->file, line, sid, r->keyword, r->reason, r->detail };
}

size_t pw_sig_reject_count(const struct pw_sig_set *s)
{
	return s->nrejects;
}

const struct pw_sig_reject *pw_sig_reject_get(const struct pw_sig_set *s, size_t i)
{
	return i < s->nrejects ? &s->rejects[i].pub : NULL;
}

bool pw_sig_has_proto(const struct pw_sig_set *s, enum pw_sig_proto p)
{
	for (size_t i = 0; i < s->nrules; i++)
		if (s->rules[i]->proto == p)
			return true;
	return false;
}

size_t pw_sig_rule_count(const struct pw_sig_set *s)
{
	return s->nrules;
}

/* ---- options ---- */

static const struct kw_def *kw_find(const char *name)
{
	for (size_t t = 0; t < sizeof(kw_tables) / sizeof(kw_tables[0]); t++)
		for (const struct kw_def *k = kw_tables[t]; k->name; k++)
			if (!strcmp(k->name, name))
				return k;
	return NULL;
}

/* Scans for the sid first so a reject can name it even when an earlier option fails. */
static uint32_t peek_sid(const char *opts)
{
	const char *p = opts;

	while ((p = strstr(p, "sid"))) {
		if (p == opts || p[-1] == ';' || p[-1] == '(' || isspace((unsigned char)p[-1])) {
			const char *q = p + 3;

			while (isspace((unsigned char)*q))
				q++;
			if (*q == ':')
				return strtoul(q + 1, NULL, 10);
		}
		p += 3;
	}
	return 0;
}

static int finalize(struct kw_ctx *ctx);

static int parse_options(struct kw_ctx *ctx, char *body, const char **bad_kw)
{
	char *p = body;

	while (*p) {
		char *start, *name, *value = NULL;
		bool inq = false;
		const struct kw_def *k;
		int err;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		start = p;
		for (; *p; p++) {
			if (*p == '\\' && p[1]) {
				p++;
				continue;
			}
			/* In a quoted value a quote ends it only before ';' (pcre:"/["']/"). */
			if (*p == '"' && inq) {
				const char *q = p + 1;

				while (isspace((unsigned char)*q))
					q++;
				if (*q == ';' || !*q)
					inq = false;
			} else if (*p == '"') {
				inq = true;
			} else if (*p == ';' && !inq)
				break;
		}
		if (!*p)
			return kw_fail(ctx, -EINVAL, "malformed",
				       "option \"%.40s\" is not terminated by ';'", start);
		*p++ = 0;
		name = start;
		value = strchr(start, ':');
		if (value)
			*value++ = 0;
		name = trim(name);
		*bad_kw = name;
		k = kw_find(name);
		if (!k)
			return kw_fail(ctx, -EOPNOTSUPP, "unsupported keyword",
				       "keyword %s is not supported", name);
		if (k->needs_value && (!value || !*trim(value)))
			return kw_fail(ctx, -EINVAL, "missing value", "%s needs a value", name);
		err = k->fn(ctx, name, value ? trim(value) : NULL);
		if (err)
			return err;
	}
	*bad_kw = "";
	return finalize(ctx);
}

static bool buf_is_app(enum pw_sig_buf b)
{
	return b != PW_BUF_PKT;
}

/* Checks cross-keyword constraints and picks the fast pattern. */
static int finalize(struct kw_ctx *ctx)
{
	struct pw_sig_rule *r = ctx->r;
	int best = -1, explicit = -1;
	bool payload = false;

	if (!r->sid)
		return kw_fail(ctx, -EINVAL, "missing sid", "rule has no sid");
	if (!r->msg)
		r->msg = strdup("");
	if (r->classtype && !r->class_desc) {
		int prio = 3;
		const char *d = sig_class_lookup(ctx->set, r->classtype, &prio);

		r->class_desc = d ? d : "";
		if (!r->priority)
			r->priority = d ? prio : 3;
	}
	if (!r->priority)
		r->priority = 3;
	if (!r->gid)
		r->gid = 1;
	for (size_t i = 0; i < r->nsms; i++) {
		struct sm *m = &r->sms[i];

		payload = true;
		r->bufmask |= 1u << m->buf;
		if (buf_is_app(m->buf))
			r->app = true;
		if (m->type != SM_CONTENT || m->negated)
			continue;
		if (m->c.flags & CF_FAST) {
			if (explicit >= 0)
				return kw_fail(ctx, -EINVAL, "bad value",
					       "fast_pattern given twice");
			explicit = i;
		}
		if (best < 0 || m->c.len > r->sms[best].c.len ||
		    (m->c.len == r->sms[best].c.len && buf_is_app(m->buf) &&
		     !buf_is_app(r->sms[best].buf)))
			best = i;
	}
	r->fp = explicit >= 0 ? explicit : best;
	if (r->fp >= 0 && !(r->sms[r->fp].c.flags & CF_FAST)) {
		r->sms[r->fp].c.fp_off = 0;
		r->sms[r->fp].c.fp_len = r->sms[r->fp].c.len;
	}
	if (r->proto == PW_SIG_P_HTTP || r->proto == PW_SIG_P_TLS || r->proto == PW_SIG_P_DNS)
		r->app = r->app || !payload;
	if (r->has_urilen)
		r->app = true;
	r->iponly = !payload && !r->flow && !r->has_flags && !r->has_itype && !r->has_icode &&
		    !r->has_dsize && !r->has_urilen && !r->nfbs && r->proto != PW_SIG_P_HTTP &&
		    r->proto != PW_SIG_P_TLS && r->proto != PW_SIG_P_DNS;
	r->header_once = !payload && !r->flow && !r->has_flags && !r->has_itype && !r->has_icode &&
			 !r->has_dsize && !r->has_urilen && r->proto != PW_SIG_P_HTTP &&
			 r->proto != PW_SIG_P_TLS && r->proto != PW_SIG_P_DNS;
	for (size_t i = 0; i < r->nfbs; i++) {
		if (r->fbs[i].cmd == FB_SET || r->fbs[i].cmd == FB_UNSET ||
		    r->fbs[i].cmd == FB_TOGGLE)
			r->sets_bits = true;
		if (r->fbs[i].cmd != FB_SET && r->fbs[i].cmd != FB_UNSET &&
		    r->fbs[i].cmd != FB_NOALERT)
			r->header_once = false;
	}
	return 0;
}

static int parse_rule(struct kw_ctx *ctx, char *line, const char **bad_kw)
{
	struct pw_sig_rule *r = ctx->r;
	char *tok[7], *p = line, *open, *close;
	int i;

	open = strchr(line, '(');
	close = strrchr(line, ')');
	if (!open || !close || close < open)
		return kw_fail(ctx, -EINVAL, "malformed", "rule has no ( options )");
	*open = 0;
	*close = 0;
	if (*trim(close + 1))
		return kw_fail(ctx, -EINVAL, "malformed", "text after the closing ')'");
	/* Bracketed lists may hold spaces: split the header on whitespace outside [ ]. */
	for (i = 0; i < 7; i++) {
		int lvl = 0;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		tok[i] = p;
		for (; *p && (lvl || !isspace((unsigned char)*p)); p++)
			lvl += (*p == '[') - (*p == ']');
		if (*p)
			*p++ = 0;
	}
	if (i < 7 || *trim(p))
		return kw_fail(ctx, -EINVAL, "malformed header",
			       "header needs: action proto src sport -> dst dport");
	*bad_kw = "action";
	for (i = 0; i < _PW_SIG_ACTION_MAX; i++)
		if (!strcmp(tok[0], action_names[i]))
			break;
	if (i == _PW_SIG_ACTION_MAX)
		return kw_fail(ctx, -EINVAL, "unsupported action", "action %s is not supported",
			       tok[0]);
	r->action = i;
	*bad_kw = "protocol";
	for (i = 0; i < _PW_SIG_P_MAX; i++)
		if (!strcmp(tok[1], proto_names[i]))
			break;
	if (i == _PW_SIG_P_MAX) {
		if (!strcmp(tok[1], "http1")) {
			i = PW_SIG_P_HTTP;
		} else {
			*bad_kw = tok[1]; /* the tally then names the protocol */
			return kw_fail(ctx, -EOPNOTSUPP, "unsupported protocol",
				       "protocol %s is not supported", tok[1]);
		}
	}
	r->proto = i;
	*bad_kw = "direction";
	if (!strcmp(tok[4], "<>"))
		r->bidir = true;
	else if (strcmp(tok[4], "->"))
		return kw_fail(ctx, -EINVAL, "malformed header",
			       "direction must be -> or <>, not %s", tok[4]);
	*bad_kw = "address";
	if (parse_addr(ctx, tok[2], &r->src) || parse_addr(ctx, tok[5], &r->dst))
		return -EINVAL;
	*bad_kw = "port";
	if (parse_ports(ctx, tok[3], &r->sp) || parse_ports(ctx, tok[6], &r->dp))
		return -EINVAL;
	return parse_options(ctx, open + 1, bad_kw);
}

int pw_sig_add_rule(struct pw_sig_set *s, const char *text, const char *file, int lineno)
{
	_cleanup_free_ char *line = NULL;
	struct kw_ctx ctx = { .set = s };
	const char *bad_kw = "";
	char *t;
	int err;

	line = strdup(text);
	if (!line)
		return -ENOMEM;
	t = trim(line);
	if (!*t || *t == '#')
		return 0;
	if (s->compiled)
		return -EBUSY;
	ctx.r = calloc(1, sizeof(*ctx.r));
	if (!ctx.r)
		return -ENOMEM;
	ctx.r->last_content = -1;
	ctx.r->fp = -1;
	err = parse_rule(&ctx, t, &bad_kw);
	if (!err && s->nrules == s->caprules) {
		size_t cap = s->caprules ? s->caprules * 2 : 256;
		struct pw_sig_rule **n = realloc(s->rules, cap * sizeof(*n));

		if (!n)
			err = -ENOMEM;
		else {
			s->rules = n;
			s->caprules = cap;
		}
	}
	if (err) {
		uint32_t sid = ctx.r->sid ? ctx.r->sid : peek_sid(text);

		if (err == -ENOMEM)
			snprintf(ctx.err, sizeof(ctx.err), "out of memory");
		add_reject(s, file, lineno, sid, bad_kw, ctx.reason ? ctx.reason : "malformed",
			   ctx.err);
		rule_free(ctx.r);
		return err;
	}
	ctx.r->idx = s->nrules;
	s->rules[s->nrules++] = ctx.r;
	return 1;
}

int pw_sig_load_file(struct pw_sig_set *s, const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "r");
	_cleanup_free_ char *line = NULL;
	_cleanup_free_ char *acc = NULL;
	size_t cap = 0, acclen = 0;
	int lineno = 0, start = 0, loaded = 0;
	ssize_t n;

	if (!f)
		return -errno;
	/* A line ending in '\' continues on the next one. */
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *na;
		bool cont;

		lineno++;
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		cont = n && line[n - 1] == '\\';
		if (cont)
			line[--n] = 0;
		if (!acclen)
			start = lineno;
		na = realloc(acc, acclen + n + 1);
		if (!na)
			return -ENOMEM;
		acc = na;
		memcpy(acc + acclen, line, n + 1);
		acclen += n;
		if (cont)
			continue;
		if (pw_sig_add_rule(s, acc, path, start) == 1)
			loaded++;
		acclen = 0;
	}
	if (acclen && pw_sig_add_rule(s, acc, path, start) == 1)
		loaded++;
	return loaded;
}

/* "N", "<N", ">N", "<=N", ">=N", "!N", "N<>M", "N-M" */
int parse_numcmp(const char *v, struct numcmp *out)
{
	char *end;
	const char *sep;

	while (isspace((unsigned char)*v))
		v++;
	out->b = 0;
	if ((sep = strstr(v, "<>")) || ((sep = strchr(v + 1, '-')) && isdigit((unsigned char)*v))) {
		out->op = CMP_RANGE;
		out->a = strtoull(v, &end, 10);
		if (end == v)
			return -EINVAL;
		v = sep + (sep[0] == '<' ? 2 : 1);
		out->b = strtoull(v, &end, 10);
		if (end == v || out->b < out->a)
			return -EINVAL;
	} else {
		if (!strncmp(v, "<=", 2)) {
			out->op = CMP_LE;
			v += 2;
		} else if (!strncmp(v, ">=", 2)) {
			out->op = CMP_GE;
			v += 2;
		} else if (*v == '<') {
			out->op = CMP_LT;
			v++;
		} else if (*v == '>') {
			out->op = CMP_GT;
			v++;
		} else if (*v == '!') {
			out->op = CMP_NE;
			v++;
		} else if (*v == '=') {
			out->op = CMP_EQ;
			v++;
		} else {
			out->op = CMP_EQ;
		}
		while (isspace((unsigned char)*v))
			v++;
		out->a = strtoull(v, &end, 10);
		if (end == v)
			return -EINVAL;
	}
	while (isspace((unsigned char)*end))
		end++;
	return *end ? -EINVAL : 0;
}

bool numcmp_eval(const struct numcmp *c, uint64_t v)
{
	switch (c->op) {
	case CMP_EQ:
		return v == c->a;
	case CMP_LT:
		return v < c->a;
	case CMP_GT:
		return v > c->a;
	case CMP_LE:
		return v <= c->a;
	case CMP_GE:
		return v >= c->a;
	case CMP_NE:
		return v != c->a;
	case CMP_RANGE:
		return v > c->a && v < c->b;
	}
	return false;
}

bool pw_sig_rule_is_app(const struct pw_sig_rule *r)
{
	return r->app;
}

bool pw_sig_rule_is_iponly(const struct pw_sig_rule *r)
{
	return r->iponly;
}

bool pw_sig_rule_is_stateless(const struct pw_sig_rule *r)
{
	return r->flow & FLOW_STATELESS;
}

size_t pw_sig_rule_index(const struct pw_sig_rule *r)
{
	return r->idx;
}
