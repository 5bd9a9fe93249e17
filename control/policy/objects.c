// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kubernetes objects (JSON, as the API server returns them) into the
 * compiler's model, validated the way the API server validates them so that
 * a manifest the cluster would reject is rejected here too, with the field.
 */
#define _GNU_SOURCE /* asprintf */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "internal.h"

struct pctx {
	const char *kind;
	const char *ns;
	const char *name;
	char *err;
};

__attribute__((format(printf, 3, 4))) static int fail(struct pctx *c, const char *field,
						      const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->err) {
		if (c->ns && *c->ns)
			snprintf(c->err, PW_ERRMSG_MAX, "%s %s/%s: %s: %s", c->kind, c->ns,
				 c->name ? c->name : "?", field, msg);
		else
			snprintf(c->err, PW_ERRMSG_MAX, "%s %s: %s: %s", c->kind,
				 c->name ? c->name : "?", field, msg);
	}
	return -EINVAL;
}

/* Field paths are bounded; a truncated one is still a useful message. */
__attribute__((format(printf, 3, 4))) static void fieldf(char *buf, size_t len, const char *fmt,
							 ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static char *xstrdup(const char *s)
{
	return strdup(s ? s : "");
}

/* ---------------- addresses and CIDRs ---------------- */

int pw_addr_parse(const char *s, struct pw_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->addr) == 1) {
		out->family = PW_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->addr) == 1) {
		out->family = PW_AF_INET6;
		return 0;
	}
	return -EINVAL;
}

void pw_addr_format(const struct pw_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family == PW_AF_INET ? AF_INET : AF_INET6, a->addr, buf, len))
		snprintf(buf, len, "?");
}

static void mask_bits(uint8_t *addr, unsigned int len, unsigned int bytes)
{
	unsigned int i;

	for (i = 0; i < bytes; i++) {
		if (len >= (i + 1) * 8)
			continue;
		if (len <= i * 8)
			addr[i] = 0;
		else
			addr[i] &= (uint8_t)(0xff << (8 - (len - i * 8)));
	}
}

int pw_cidr_parse(const char *s, struct pw_cidr *out)
{
	char buf[64], *slash, *end;
	struct pw_addr a;
	unsigned long len;
	unsigned int max;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash || !slash[1])
		return -EINVAL;
	*slash = 0;
	if (pw_addr_parse(buf, &a))
		return -EINVAL;
	if (!isdigit((unsigned char)slash[1]))
		return -EINVAL;
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	max = a.family == PW_AF_INET ? 32 : 128;
	if (*end || errno || len > max)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->family = a.family;
	out->len = (uint8_t)len;
	memcpy(out->addr, a.addr, 16);
	/* Non-canonical CIDRs are masked, as the API server does. */
	mask_bits(out->addr, out->len, a.family == PW_AF_INET ? 4 : 16);
	return 0;
}

void pw_cidr_format(const struct pw_cidr *c, char *buf, size_t len)
{
	struct pw_addr a = { .family = c->family };
	char ip[64];

	memcpy(a.addr, c->addr, 16);
	pw_addr_format(&a, ip, sizeof(ip));
	snprintf(buf, len, "%s/%u", ip, c->len);
}

static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned int len)
{
	unsigned int full = len / 8, rem = len % 8;

	if (memcmp(a, b, full))
		return false;
	if (!rem)
		return true;
	return ((a[full] ^ b[full]) & (uint8_t)(0xff << (8 - rem))) == 0;
}

bool pw_cidr_contains(const struct pw_cidr *outer, const struct pw_cidr *inner)
{
	return outer->family == inner->family && outer->len <= inner->len &&
	       prefix_eq(outer->addr, inner->addr, outer->len);
}

bool pw_cidr_has_addr(const struct pw_cidr *c, const struct pw_addr *a)
{
	return c->family == a->family && prefix_eq(c->addr, a->addr, c->len);
}

uint8_t pw_proto_parse(const char *s)
{
	if (!strcasecmp(s, "TCP"))
		return 6;
	if (!strcasecmp(s, "UDP"))
		return 17;
	if (!strcasecmp(s, "SCTP"))
		return 132;
	return 0;
}

const char *pw_proto_name(uint8_t proto)
{
	switch (proto) {
	case 6:
		return "TCP";
	case 17:
		return "UDP";
	case 132:
		return "SCTP";
	case 0:
		return "any";
	default:
		return "?";
	}
}

/* ---------------- labels and selectors ---------------- */

void pw_labels_free(struct pw_labels *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].val);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pw_label *)a)->key, ((const struct pw_label *)b)->key);
}

int pw_labels_dup(const struct pw_labels *src, struct pw_labels *dst)
{
	size_t i;

	dst->n = 0;
	dst->v = calloc(src->n ? src->n : 1, sizeof(*dst->v));
	if (!dst->v)
		return -ENOMEM;
	for (i = 0; i < src->n; i++) {
		dst->v[i].key = strdup(src->v[i].key);
		dst->v[i].val = strdup(src->v[i].val);
		dst->n++;
		if (!dst->v[i].key || !dst->v[i].val) {
			pw_labels_free(dst);
			return -ENOMEM;
		}
	}
	return 0;
}

const char *pw_labels_get(const struct pw_labels *l, const char *key)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(key, l->v[mid].key);

		if (!c)
			return l->v[mid].val;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Label keys: [prefix/]name, name 1..63 of [A-Za-z0-9._-], alphanumeric at both ends. */
static bool valid_label_name(const char *s, size_t n, bool value)
{
	size_t i;

	if (n == 0)
		return value;
	if (n > 63)
		return false;
	if (!isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

static bool valid_label_key(const char *k)
{
	const char *slash = strchr(k, '/');

	if (!slash)
		return valid_label_name(k, strlen(k), false);
	if (slash == k || slash - k > 253 || strchr(slash + 1, '/'))
		return false;
	return valid_label_name(slash + 1, strlen(slash + 1), false);
}

static int parse_labels(struct pctx *c, json_t *j, const char *field, struct pw_labels *out,
			const char *extra_key, const char *extra_val)
{
	size_t n = 0, cap;
	const char *k;
	json_t *v;
	char f[256];

	memset(out, 0, sizeof(*out));
	if (j && !json_is_null(j) && !json_is_object(j))
		return fail(c, field, "must be an object");
	cap = (j ? json_object_size(j) : 0) + 1;
	out->v = calloc(cap, sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	if (j && json_is_object(j)) {
		json_object_foreach (j, k, v) {
			fieldf(f, sizeof(f), "%s.%s", field, k);
			if (!valid_label_key(k)) {
				pw_labels_free(out);
				return fail(c, f, "invalid label key");
			}
			if (!json_is_string(v) ||
			    !valid_label_name(json_string_value(v), json_string_length(v), true)) {
				pw_labels_free(out);
				return fail(c, f, "label value must be a valid label string");
			}
			if (extra_key && !strcmp(k, extra_key))
				continue;
			out->v[n].key = strdup(k);
			out->v[n].val = strdup(json_string_value(v));
			n++;
			out->n = n;
			if (!out->v[n - 1].key || !out->v[n - 1].val) {
				pw_labels_free(out);
				return -ENOMEM;
			}
		}
	}
	if (extra_key) {
		out->v[n].key = strdup(extra_key);
		out->v[n].val = strdup(extra_val);
		out->n = ++n;
		if (!out->v[n - 1].key || !out->v[n - 1].val) {
			pw_labels_free(out);
			return -ENOMEM;
		}
	}
	qsort(out->v, out->n, sizeof(*out->v), label_cmp);
	return 0;
}

static void selector_clear(struct pw_selector *s)
{
	size_t i, j;

	if (!s)
		return;
	for (i = 0; i < s->nreqs; i++) {
		free(s->reqs[i].key);
		for (j = 0; j < s->reqs[i].nvals; j++)
			free(s->reqs[i].vals[j]);
		free(s->reqs[i].vals);
	}
	free(s->reqs);
	s->reqs = NULL;
	s->nreqs = 0;
}

static void selector_free(struct pw_selector *s)
{
	selector_clear(s);
	free(s);
}

bool pw_selector_match(const struct pw_selector *s, const struct pw_labels *l)
{
	size_t i, j;

	for (i = 0; i < s->nreqs; i++) {
		const struct pw_sel_req *r = &s->reqs[i];
		const char *v = pw_labels_get(l, r->key);
		bool in = false;

		switch (r->op) {
		case PW_SEL_EXISTS:
			if (!v)
				return false;
			continue;
		case PW_SEL_NOT_EXISTS:
			if (v)
				return false;
			continue;
		case PW_SEL_IN:
		case PW_SEL_NOT_IN:
			if (v)
				for (j = 0; j < r->nvals && !in; j++)
					in = !strcmp(v, r->vals[j]);
			if (in != (r->op == PW_SEL_IN))
				return false;
			continue;
		}
	}
	return true;
}

static int add_req(struct pw_selector *s, const char *key, enum pw_sel_op op)
{
	struct pw_sel_req *n = realloc(s->reqs, (s->nreqs + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	s->reqs = n;
	memset(&n[s->nreqs], 0, sizeof(*n));
	n[s->nreqs].key = strdup(key);
	n[s->nreqs].op = op;
	if (!n[s->nreqs].key)
		return -ENOMEM;
	s->nreqs++;
	return 0;
}

static int add_val(struct pw_sel_req *r, const char *v)
{
	char **n = realloc(r->vals, (r->nvals + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	r->vals = n;
	n[r->nvals] = strdup(v);
	if (!n[r->nvals])
		return -ENOMEM;
	r->nvals++;
	return 0;
}

/* Parses a LabelSelector into s (cleared on error). */
static int parse_selector(struct pctx *c, json_t *j, const char *field, struct pw_selector *s)
{
	json_t *ml, *me, *v, *e;
	const char *k;
	char f[256];
	size_t i, vi;
	int err;

	memset(s, 0, sizeof(*s));
	if (json_is_null(j))
		return 0;
	if (!json_is_object(j))
		return fail(c, field, "must be an object");
	json_object_foreach (j, k, v) {
		if (strcmp(k, "matchLabels") && strcmp(k, "matchExpressions")) {
			fieldf(f, sizeof(f), "%s.%s", field, k);
			return fail(c, f, "unknown field");
		}
	}
	ml = json_object_get(j, "matchLabels");
	if (ml && !json_is_null(ml)) {
		fieldf(f, sizeof(f), "%s.matchLabels", field);
		if (!json_is_object(ml))
			return fail(c, f, "must be an object");
		json_object_foreach (ml, k, v) {
			fieldf(f, sizeof(f), "%s.matchLabels.%s", field, k);
			if (!valid_label_key(k)) {
				selector_clear(s);
				return fail(c, f, "invalid label key");
			}
			if (!json_is_string(v) ||
			    !valid_label_name(json_string_value(v), json_string_length(v), true)) {
				selector_clear(s);
				return fail(c, f, "must be a valid label value");
			}
			err = add_req(s, k, PW_SEL_IN);
			if (!err)
				err = add_val(&s->reqs[s->nreqs - 1], json_string_value(v));
			if (err) {
				selector_clear(s);
				return err;
			}
		}
	}
	me = json_object_get(j, "matchExpressions");
	if (me && !json_is_null(me)) {
		fieldf(f, sizeof(f), "%s.matchExpressions", field);
		if (!json_is_array(me))
			return selector_clear(s), fail(c, f, "must be a list");
		json_array_foreach (me, i, e) {
			json_t *key = json_object_get(e, "key"),
			       *op = json_object_get(e, "operator");
			json_t *vals = json_object_get(e, "values");
			enum pw_sel_op o;
			const char *ops;

			fieldf(f, sizeof(f), "%s.matchExpressions[%zu]", field, i);
			if (!json_is_object(e))
				return selector_clear(s), fail(c, f, "must be an object");
			if (!json_is_string(key) || !valid_label_key(json_string_value(key)))
				return selector_clear(s), fail(c, f, "key: missing or invalid");
			if (!json_is_string(op))
				return selector_clear(s), fail(c, f, "operator: missing");
			ops = json_string_value(op);
			if (!strcmp(ops, "In"))
				o = PW_SEL_IN;
			else if (!strcmp(ops, "NotIn"))
				o = PW_SEL_NOT_IN;
			else if (!strcmp(ops, "Exists"))
				o = PW_SEL_EXISTS;
			else if (!strcmp(ops, "DoesNotExist"))
				o = PW_SEL_NOT_EXISTS;
			else
				return selector_clear(s),
				       fail(c, f, "operator: unknown operator \"%s\"", ops);
			if (vals && !json_is_null(vals) && !json_is_array(vals))
				return selector_clear(s), fail(c, f, "values: must be a list");
			if ((o == PW_SEL_IN || o == PW_SEL_NOT_IN) && json_array_size(vals) == 0)
				return selector_clear(s),
				       fail(c, f, "values: must be non-empty for %s", ops);
			if ((o == PW_SEL_EXISTS || o == PW_SEL_NOT_EXISTS) && json_array_size(vals))
				return selector_clear(s),
				       fail(c, f, "values: must be empty for %s", ops);
			err = add_req(s, json_string_value(key), o);
			if (err)
				return selector_clear(s), err;
			json_array_foreach (vals, vi, v) {
				if (!json_is_string(v))
					return selector_clear(s),
					       fail(c, f, "values[%zu]: must be a string", vi);
				err = add_val(&s->reqs[s->nreqs - 1], json_string_value(v));
				if (err)
					return selector_clear(s), err;
			}
		}
	}
	return 0;
}

static int parse_selector_ptr(struct pctx *c, json_t *j, const char *field,
			      struct pw_selector **out)
{
	struct pw_selector *s;
	int err;

	*out = NULL;
	if (!j)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	err = parse_selector(c, j, field, s);
	if (err) {
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

/* ---------------- metadata ---------------- */

/* DNS-1123: lower-case alphanumerics and '-' (and '.' in subdomains), alphanumeric ends. */
static bool dns_name(const char *s, size_t max, bool dots)
{
	size_t n = strlen(s);

	if (!n || n > max || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-' ||
		      (dots && s[i] == '.')))
			return false;
	return true;
}

static int parse_meta(struct pctx *c, json_t *obj, bool namespaced, const char **ns,
		      const char **name)
{
	json_t *md = json_object_get(obj, "metadata"), *n, *s;

	*ns = "";
	*name = "?";
	if (!json_is_object(obj))
		return fail(c, "(object)", "must be a JSON object");
	if (!json_is_object(md))
		return fail(c, "metadata", "missing");
	n = json_object_get(md, "name");
	s = json_object_get(md, "namespace");
	if (json_is_string(n))
		*name = json_string_value(n);
	c->name = *name;
	if (namespaced) {
		if (s && !json_is_string(s))
			return fail(c, "metadata.namespace", "must be a string");
		/* A manifest without a namespace goes to "default", like kubectl apply. */
		*ns = s ? json_string_value(s) : "default";
		c->ns = *ns;
		if (!**ns)
			*ns = c->ns = "default";
	}
	if (!json_is_string(n) || !json_string_length(n))
		return fail(c, "metadata.name", "missing or empty");
	if (!dns_name(*name, 253, true))
		return fail(c, "metadata.name", "invalid name \"%s\" (lower-case DNS-1123)", *name);
	if (namespaced && !dns_name(*ns, 63, false))
		return fail(c, "metadata.namespace", "invalid namespace name \"%s\"", *ns);
	return 0;
}

/* ---------------- NetworkPolicy ---------------- */

static void peer_clear(struct pw_peer *p)
{
	selector_free(p->pod_sel);
	selector_free(p->ns_sel);
	free(p->except);
	free(p->match);
}

static void rule_clear(struct pw_rule *r)
{
	size_t i;

	for (i = 0; i < r->npeers; i++)
		peer_clear(&r->peers[i]);
	free(r->peers);
	for (i = 0; i < r->nports; i++)
		free(r->ports[i].name);
	free(r->ports);
}

void pw_np_free(struct pw_np *np)
{
	size_t d, i;

	if (!np)
		return;
	for (d = 0; d < 2; d++) {
		for (i = 0; i < np->nrules[d]; i++)
			rule_clear(&np->rules[d][i]);
		free(np->rules[d]);
	}
	selector_clear(&np->sel);
	free(np->selected);
	free(np->ns);
	free(np->name);
	free(np->id);
	free(np);
}

static bool valid_port_name(const char *s)
{
	size_t i, n = strlen(s);
	bool alpha = false;

	/* IANA_SVC_NAME: 1-15 lower-case alphanumerics or '-', a letter, no "--", no edge '-'. */
	if (n == 0 || n > 15 || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
		return false;
	for (i = 0; i < n; i++) {
		if (islower((unsigned char)s[i]))
			alpha = true;
		else if (!isdigit((unsigned char)s[i]) && s[i] != '-')
			return false;
	}
	return alpha;
}

static int parse_port(struct pctx *c, json_t *j, const char *field, struct pw_np_port *out)
{
	json_t *proto = json_object_get(j, "protocol"), *port = json_object_get(j, "port");
	json_t *end = json_object_get(j, "endPort");
	char f[256];

	memset(out, 0, sizeof(*out));
	if (!json_is_object(j))
		return fail(c, field, "must be an object");
	out->proto = 6;
	if (proto && !json_is_null(proto)) {
		fieldf(f, sizeof(f), "%s.protocol", field);
		if (!json_is_string(proto))
			return fail(c, f, "must be a string");
		out->proto = pw_proto_parse(json_string_value(proto));
		if (!out->proto || (strcmp(json_string_value(proto), "TCP") &&
				    strcmp(json_string_value(proto), "UDP") &&
				    strcmp(json_string_value(proto), "SCTP")))
			return fail(c, f, "unsupported protocol \"%s\" (TCP, UDP or SCTP)",
				    json_string_value(proto));
	}
	fieldf(f, sizeof(f), "%s.port", field);
	if (!port || json_is_null(port)) {
		out->any_port = true;
		out->port = 0;
		out->end_port = 65535;
	} else if (json_is_integer(port)) {
		json_int_t v = json_integer_value(port);

		if (v < 1 || v > 65535)
			return fail(c, f, "must be between 1 and 65535");
		out->port = out->end_port = (uint16_t)v;
	} else if (json_is_string(port)) {
		const char *s = json_string_value(port);
		char *e;
		long v;

		/* An IntOrString given as a numeric string is still a name in the API. */
		v = strtol(s, &e, 10);
		if (*s && !*e && v >= 1 && v <= 65535)
			return fail(c, f, "a port number must be an integer, not a string");
		if (!valid_port_name(s))
			return fail(c, f, "invalid port name \"%s\"", s);
		out->name = strdup(s);
		if (!out->name)
			return -ENOMEM;
	} else {
		return fail(c, f, "must be a number or a name");
	}
	if (end && !json_is_null(end)) {
		json_int_t v;

		fieldf(f, sizeof(f), "%s.endPort", field);
		if (!json_is_integer(end))
			goto bad_end;
		if (out->name || out->any_port) {
			free(out->name);
			out->name = NULL;
			return fail(c, f, "requires a numeric port");
		}
		v = json_integer_value(end);
		if (v < 1 || v > 65535)
			return fail(c, f, "must be between 1 and 65535");
		if (v < out->port)
			return fail(c, f, "must be greater than or equal to port (%u)", out->port);
		out->end_port = (uint16_t)v;
	}
	return 0;
bad_end:
	free(out->name);
	out->name = NULL;
	return fail(c, f, "must be an integer");
}

static int parse_peer(struct pctx *c, json_t *j, const char *field, struct pw_peer *out)
{
	json_t *ps = json_object_get(j, "podSelector"),
	       *ns = json_object_get(j, "namespaceSelector");
	json_t *ib = json_object_get(j, "ipBlock"), *cidr, *ex, *e;
	const char *k;
	json_t *v;
	char f[256];
	size_t i;
	int err;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(j))
		return fail(c, field, "must be an object");
	json_object_foreach (j, k, v) {
		if (strcmp(k, "podSelector") && strcmp(k, "namespaceSelector") &&
		    strcmp(k, "ipBlock")) {
			fieldf(f, sizeof(f), "%s.%s", field, k);
			return fail(c, f, "unknown field");
		}
	}
	if (json_is_null(ps))
		ps = NULL;
	if (json_is_null(ns))
		ns = NULL;
	if (json_is_null(ib))
		ib = NULL;
	if (ib && (ps || ns))
		return fail(c, field, "ipBlock cannot be combined with %s",
			    ps ? "podSelector" : "namespaceSelector");
	if (!ib && !ps && !ns)
		return fail(c, field, "must specify a podSelector, namespaceSelector or ipBlock");
	if (!ib) {
		fieldf(f, sizeof(f), "%s.podSelector", field);
		err = parse_selector_ptr(c, ps, f, &out->pod_sel);
		if (err)
			return err;
		fieldf(f, sizeof(f), "%s.namespaceSelector", field);
		err = parse_selector_ptr(c, ns, f, &out->ns_sel);
		if (err) {
			peer_clear(out);
			return err;
		}
		return 0;
	}
	out->is_block = true;
	fieldf(f, sizeof(f), "%s.ipBlock", field);
	if (!json_is_object(ib))
		return fail(c, f, "must be an object");
	cidr = json_object_get(ib, "cidr");
	fieldf(f, sizeof(f), "%s.ipBlock.cidr", field);
	if (!json_is_string(cidr))
		return fail(c, f, "missing");
	if (pw_cidr_parse(json_string_value(cidr), &out->cidr))
		return fail(c, f, "invalid CIDR \"%s\"", json_string_value(cidr));
	ex = json_object_get(ib, "except");
	if (ex && !json_is_null(ex)) {
		fieldf(f, sizeof(f), "%s.ipBlock.except", field);
		if (!json_is_array(ex))
			return fail(c, f, "must be a list");
		out->except = calloc(json_array_size(ex) + 1, sizeof(*out->except));
		if (!out->except)
			return -ENOMEM;
		json_array_foreach (ex, i, e) {
			struct pw_cidr *x = &out->except[i];

			fieldf(f, sizeof(f), "%s.ipBlock.except[%zu]", field, i);
			if (!json_is_string(e) || pw_cidr_parse(json_string_value(e), x)) {
				peer_clear(out);
				return fail(c, f, "invalid CIDR \"%s\"",
					    json_is_string(e) ? json_string_value(e) : "?");
			}
			if (!pw_cidr_contains(&out->cidr, x) || x->len == out->cidr.len) {
				peer_clear(out);
				return fail(c, f, "must be a strict subset of cidr %s",
					    json_string_value(cidr));
			}
			out->nexcept++;
		}
	}
	return 0;
}

static int parse_rule(struct pctx *c, json_t *j, const char *field, int dir, struct pw_rule *out)
{
	const char *pkey = dir == PW_DIR_INGRESS ? "from" : "to";
	json_t *peers = json_object_get(j, pkey), *ports = json_object_get(j, "ports"), *e, *v;
	const char *k;
	char f[256];
	size_t i;
	int err;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(j))
		return fail(c, field, "must be an object");
	json_object_foreach (j, k, v) {
		if (strcmp(k, pkey) && strcmp(k, "ports")) {
			fieldf(f, sizeof(f), "%s.%s", field, k);
			return fail(c, f, "unknown field");
		}
	}
	if (peers && !json_is_null(peers)) {
		fieldf(f, sizeof(f), "%s.%s", field, pkey);
		if (!json_is_array(peers))
			return fail(c, f, "must be a list");
		out->peers = calloc(json_array_size(peers) + 1, sizeof(*out->peers));
		if (!out->peers)
			return -ENOMEM;
		json_array_foreach (peers, i, e) {
			fieldf(f, sizeof(f), "%s.%s[%zu]", field, pkey, i);
			err = parse_peer(c, e, f, &out->peers[i]);
			if (err) {
				rule_clear(out);
				return err;
			}
			out->npeers++;
		}
	}
	if (ports && !json_is_null(ports)) {
		fieldf(f, sizeof(f), "%s.ports", field);
		if (!json_is_array(ports)) {
			rule_clear(out);
			return fail(c, f, "must be a list");
		}
		out->ports = calloc(json_array_size(ports) + 1, sizeof(*out->ports));
		if (!out->ports) {
			rule_clear(out);
			return -ENOMEM;
		}
		json_array_foreach (ports, i, e) {
			fieldf(f, sizeof(f), "%s.ports[%zu]", field, i);
			err = parse_port(c, e, f, &out->ports[i]);
			if (err) {
				rule_clear(out);
				return err;
			}
			out->nports++;
		}
	}
	return 0;
}

int pw_np_parse(json_t *obj, struct pw_np **out, char *err)
{
	struct pctx c = { .kind = "NetworkPolicy", .err = err };
	json_t *spec, *types, *rules[2], *e;
	const char *ns, *name;
	struct pw_np *np;
	char f[64];
	size_t i;
	int d, r;

	r = parse_meta(&c, obj, true, &ns, &name);
	if (r)
		return r;
	spec = json_object_get(obj, "spec");
	if (!json_is_object(spec))
		return fail(&c, "spec", "missing");
	np = calloc(1, sizeof(*np));
	if (!np)
		return -ENOMEM;
	np->ns = strdup(ns);
	np->name = strdup(name);
	if (!np->ns || !np->name || asprintf(&np->id, "%s/%s", ns, name) < 0) {
		np->id = NULL;
		r = -ENOMEM;
		goto out;
	}
	e = json_object_get(spec, "podSelector");
	/* The API requires podSelector; an absent one is defaulted to {} by clients. */
	r = parse_selector(&c, e ? e : json_null(), "spec.podSelector", &np->sel);
	if (r)
		goto out;
	rules[PW_DIR_INGRESS] = json_object_get(spec, "ingress");
	rules[PW_DIR_EGRESS] = json_object_get(spec, "egress");
	for (d = 0; d < 2; d++) {
		const char *fn = d == PW_DIR_INGRESS ? "ingress" : "egress";

		if (!rules[d] || json_is_null(rules[d]))
			continue;
		if (!json_is_array(rules[d])) {
			r = fail(&c, d ? "spec.egress" : "spec.ingress", "must be a list");
			goto out;
		}
		np->rules[d] = calloc(json_array_size(rules[d]) + 1, sizeof(struct pw_rule));
		if (!np->rules[d]) {
			r = -ENOMEM;
			goto out;
		}
		json_array_foreach (rules[d], i, e) {
			fieldf(f, sizeof(f), "spec.%s[%zu]", fn, i);
			r = parse_rule(&c, e, f, d, &np->rules[d][i]);
			if (r)
				goto out;
			np->nrules[d]++;
		}
	}
	types = json_object_get(spec, "policyTypes");
	if (types && !json_is_null(types) && json_array_size(types) > 0) {
		if (!json_is_array(types)) {
			r = fail(&c, "spec.policyTypes", "must be a list");
			goto out;
		}
		json_array_foreach (types, i, e) {
			const char *t = json_string_value(e);

			fieldf(f, sizeof(f), "spec.policyTypes[%zu]", i);
			if (t && !strcmp(t, "Ingress")) {
				np->types[PW_DIR_INGRESS] = true;
			} else if (t && !strcmp(t, "Egress")) {
				np->types[PW_DIR_EGRESS] = true;
			} else {
				r = fail(&c, f, "must be \"Ingress\" or \"Egress\"");
				goto out;
			}
		}
	} else {
		/* Defaulted as the API server does: Ingress always, Egress if it has rules. */
		np->types[PW_DIR_INGRESS] = true;
		np->types[PW_DIR_EGRESS] = np->nrules[PW_DIR_EGRESS] > 0;
	}
	*out = np;
	return 0;
out:
	pw_np_free(np);
	return r;
}

/* ---------------- Pod ---------------- */

void pw_pod_free(struct pw_pod *pod)
{
	size_t i;

	if (!pod)
		return;
	pw_labels_free(&pod->labels);
	for (i = 0; i < pod->nports; i++)
		free(pod->ports[i].name);
	free(pod->ports);
	free(pod->ips);
	free(pod->ns);
	free(pod->name);
	free(pod->id);
	free(pod->node);
	free(pod);
}

static int nport_cmp(const void *a, const void *b)
{
	const struct pw_named_port *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->proto != y->proto)
		return x->proto - y->proto;
	return x->port - y->port;
}

static int add_ip(struct pctx *c, struct pw_pod *pod, const char *s, const char *field)
{
	struct pw_addr a;
	size_t i;

	if (pw_addr_parse(s, &a))
		return fail(c, field, "invalid IP address \"%s\"", s);
	for (i = 0; i < pod->nips; i++)
		if (!memcmp(&pod->ips[i], &a, sizeof(a)))
			return 0;
	pod->ips[pod->nips++] = a;
	return 0;
}

int pw_pod_parse(json_t *obj, struct pw_pod **out, char *err)
{
	struct pctx c = { .kind = "Pod", .err = err };
	json_t *spec, *status, *md, *e, *ips, *ip, *cs, *ct, *ps, *p;
	const char *ns, *name;
	struct pw_pod *pod;
	size_t i, j, nports = 0;
	char f[128];
	int r;

	r = parse_meta(&c, obj, true, &ns, &name);
	if (r)
		return r;
	md = json_object_get(obj, "metadata");
	spec = json_object_get(obj, "spec");
	status = json_object_get(obj, "status");
	if (spec && !json_is_object(spec))
		return fail(&c, "spec", "must be an object");
	if (status && !json_is_object(status))
		return fail(&c, "status", "must be an object");
	pod = calloc(1, sizeof(*pod));
	if (!pod)
		return -ENOMEM;
	pod->ns = strdup(ns);
	pod->name = strdup(name);
	if (!pod->ns || !pod->name || asprintf(&pod->id, "%s/%s", ns, name) < 0) {
		pod->id = NULL;
		r = -ENOMEM;
		goto out;
	}
	r = parse_labels(&c, json_object_get(md, "labels"), "metadata.labels", &pod->labels, NULL,
			 NULL);
	if (r)
		goto out;
	e = json_object_get(spec, "nodeName");
	if (e && !json_is_null(e) && !json_is_string(e)) {
		r = fail(&c, "spec.nodeName", "must be a string");
		goto out;
	}
	pod->node = xstrdup(json_string_value(e));
	e = json_object_get(spec, "hostNetwork");
	if (e && !json_is_null(e) && !json_is_boolean(e)) {
		r = fail(&c, "spec.hostNetwork", "must be a boolean");
		goto out;
	}
	pod->host_network = json_is_true(e);
	ips = json_object_get(status, "podIPs");
	ip = json_object_get(status, "podIP");
	if (ips && !json_is_null(ips) && !json_is_array(ips)) {
		r = fail(&c, "status.podIPs", "must be a list");
		goto out;
	}
	pod->ips = calloc(json_array_size(ips) + 2, sizeof(*pod->ips));
	if (!pod->ips) {
		r = -ENOMEM;
		goto out;
	}
	if (ip && !json_is_null(ip)) {
		if (!json_is_string(ip)) {
			r = fail(&c, "status.podIP", "must be a string");
			goto out;
		}
		r = add_ip(&c, pod, json_string_value(ip), "status.podIP");
		if (r)
			goto out;
	}
	json_array_foreach (ips, i, e) {
		json_t *a = json_object_get(e, "ip");

		fieldf(f, sizeof(f), "status.podIPs[%zu].ip", i);
		if (!json_is_string(a)) {
			r = fail(&c, f, "missing");
			goto out;
		}
		r = add_ip(&c, pod, json_string_value(a), f);
		if (r)
			goto out;
	}
	cs = json_object_get(spec, "containers");
	if (cs && !json_is_null(cs) && !json_is_array(cs)) {
		r = fail(&c, "spec.containers", "must be a list");
		goto out;
	}
	json_array_foreach (cs, i, ct)
		nports += json_array_size(json_object_get(ct, "ports"));
	pod->ports = calloc(nports + 1, sizeof(*pod->ports));
	if (!pod->ports) {
		r = -ENOMEM;
		goto out;
	}
	json_array_foreach (cs, i, ct) {
		ps = json_object_get(ct, "ports");
		if (ps && !json_is_null(ps) && !json_is_array(ps)) {
			fieldf(f, sizeof(f), "spec.containers[%zu].ports", i);
			r = fail(&c, f, "must be a list");
			goto out;
		}
		json_array_foreach (ps, j, p) {
			json_t *n = json_object_get(p, "name"),
			       *cp = json_object_get(p, "containerPort");
			json_t *pr = json_object_get(p, "protocol");
			struct pw_named_port *np = &pod->ports[pod->nports];

			fieldf(f, sizeof(f), "spec.containers[%zu].ports[%zu]", i, j);
			if (!json_is_integer(cp) || json_integer_value(cp) < 1 ||
			    json_integer_value(cp) > 65535) {
				r = fail(&c, f, "containerPort: must be between 1 and 65535");
				goto out;
			}
			np->proto = 6;
			if (pr && !json_is_null(pr)) {
				np->proto = json_is_string(pr) ?
						    pw_proto_parse(json_string_value(pr)) :
						    0;
				if (!np->proto) {
					r = fail(&c, f, "protocol: unsupported protocol");
					goto out;
				}
			}
			/* Only named ports matter to policy. */
			if (!n || json_is_null(n) || !json_string_length(n))
				continue;
			if (!json_is_string(n) || !valid_port_name(json_string_value(n))) {
				r = fail(&c, f, "name: invalid port name");
				goto out;
			}
			np->name = strdup(json_string_value(n));
			np->port = (uint16_t)json_integer_value(cp);
			if (!np->name) {
				r = -ENOMEM;
				goto out;
			}
			pod->nports++;
		}
	}
	qsort(pod->ports, pod->nports, sizeof(*pod->ports), nport_cmp);
	*out = pod;
	return 0;
out:
	pw_pod_free(pod);
	return r;
}

/* ---------------- Namespace ---------------- */

void pw_ns_free(struct pw_ns *ns)
{
	if (!ns)
		return;
	pw_labels_free(&ns->labels);
	free(ns->name);
	free(ns);
}

int pw_ns_parse(json_t *obj, struct pw_ns **out, char *err)
{
	struct pctx c = { .kind = "Namespace", .err = err };
	const char *dummy, *name;
	struct pw_ns *ns;
	int r;

	r = parse_meta(&c, obj, false, &dummy, &name);
	if (r)
		return r;
	if (strlen(name) > 63)
		return fail(&c, "metadata.name", "invalid namespace name");
	ns = calloc(1, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	ns->name = strdup(name);
	if (!ns->name) {
		pw_ns_free(ns);
		return -ENOMEM;
	}
	/* The API server always sets this label to the name. */
	r = parse_labels(&c, json_object_get(json_object_get(obj, "metadata"), "labels"),
			 "metadata.labels", &ns->labels, "kubernetes.io/metadata.name", name);
	if (r) {
		pw_ns_free(ns);
		return r;
	}
	*out = ns;
	return 0;
}
