// SPDX-License-Identifier: GPL-2.0-only
/* Policy case files: parse, validate, and run offline through the compiler. */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "internal.h"

__attribute__((format(printf, 3, 4))) static int cfail(char *errmsg, const char *field,
						       const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (errmsg)
		snprintf(errmsg, PW_ERRMSG_MAX, "%s: %s", field, msg);
	return -EINVAL;
}

__attribute__((format(printf, 3, 4))) static void fieldf(char *buf, size_t len, const char *fmt,
							 ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

void pw_case_addr(size_t index, struct pw_addr *v4, struct pw_addr *v6)
{
	uint32_t n = (uint32_t)index + 2;

	memset(v4, 0, sizeof(*v4));
	memset(v6, 0, sizeof(*v6));
	v4->family = PW_AF_INET;
	v4->addr[0] = 10;
	v4->addr[1] = 244;
	v4->addr[2] = (uint8_t)(n >> 8);
	v4->addr[3] = (uint8_t)n;
	v6->family = PW_AF_INET6;
	v6->addr[0] = 0xfd;
	v6->addr[14] = (uint8_t)(n >> 8);
	v6->addr[15] = (uint8_t)n;
}

void pw_case_free(struct pw_case **pc)
{
	struct pw_case *c = *pc;

	if (!c)
		return;
	for (size_t i = 0; i < c->npods; i++) {
		free(c->pods[i].ns);
		free(c->pods[i].name);
		free(c->pods[i].id);
		json_decref(c->pods[i].labels);
		json_decref(c->pods[i].ports);
	}
	for (size_t i = 0; i < c->nsteps; i++) {
		json_decref(c->steps[i].apply);
		json_decref(c->steps[i].del);
		json_decref(c->steps[i].labels);
		for (size_t k = 0; k < c->steps[i].nprobes; k++)
			json_decref(c->steps[i].probes[k].expect);
		free(c->steps[i].probes);
	}
	free(c->pods);
	free(c->steps);
	free(c->name);
	json_decref(c->namespaces);
	free(c);
	*pc = NULL;
}

static int check_labels(json_t *l, const char *field, char *errmsg)
{
	const char *k;
	json_t *v;

	if (!json_is_object(l))
		return cfail(errmsg, field, "must be an object of strings");
	json_object_foreach (l, k, v)
		if (!json_is_string(v))
			return cfail(errmsg, field, "label \"%s\" must be a string", k);
	return 0;
}

static const struct pw_case_pod *find_pod(const struct pw_case *c, const char *id)
{
	for (size_t i = 0; i < c->npods; i++)
		if (!strcmp(c->pods[i].id, id))
			return &c->pods[i];
	return NULL;
}

static bool serves(const struct pw_case_pod *p, uint16_t port, uint8_t proto)
{
	json_t *e;
	size_t i;

	json_array_foreach (p->ports, i, e) {
		json_t *pr = json_object_get(e, "protocol");
		uint8_t pp = pr ? pw_proto_parse(json_string_value(pr)) : 6;

		if (json_integer_value(json_object_get(e, "containerPort")) == port && pp == proto)
			return true;
	}
	return false;
}

static bool only_keys(json_t *o, const char *const *keys, const char **bad)
{
	const char *k;
	json_t *v;

	json_object_foreach (o, k, v) {
		bool ok = false;

		for (size_t i = 0; keys[i]; i++)
			ok |= !strcmp(k, keys[i]);
		if (!ok) {
			*bad = k;
			return false;
		}
	}
	return true;
}

static int parse_pods(struct pw_case *c, json_t *pods, char *errmsg)
{
	static const char *const pod_keys[] = { "namespace", "name", "labels", "ports", NULL };
	char f[128];
	const char *bad;
	json_t *p;
	size_t i;

	if (!json_is_array(pods))
		return cfail(errmsg, "pods", "must be a list");
	c->pods = calloc(json_array_size(pods) + 1, sizeof(*c->pods));
	if (!c->pods)
		return -ENOMEM;
	json_array_foreach (pods, i, p) {
		struct pw_case_pod *cp = &c->pods[i];
		json_t *ns = json_object_get(p, "namespace"), *name = json_object_get(p, "name");
		json_t *labels = json_object_get(p, "labels"), *ports = json_object_get(p, "ports");
		json_t *e;
		size_t k;
		int err;

		fieldf(f, sizeof(f), "pods[%zu]", i);
		if (!json_is_object(p))
			return cfail(errmsg, f, "must be an object");
		if (!only_keys(p, pod_keys, &bad))
			return cfail(errmsg, f, "unknown field \"%s\"", bad);
		if (!json_is_string(ns) || !json_object_get(c->namespaces, json_string_value(ns)))
			return cfail(errmsg, f, "namespace: missing or not in namespaces");
		if (!json_is_string(name) || !json_string_length(name) ||
		    strchr(json_string_value(name), '/'))
			return cfail(errmsg, f, "name: missing or invalid");
		fieldf(f, sizeof(f), "pods[%zu].labels", i);
		if (labels) {
			err = check_labels(labels, f, errmsg);
			if (err)
				return err;
		}
		fieldf(f, sizeof(f), "pods[%zu].ports", i);
		if (ports && !json_is_array(ports))
			return cfail(errmsg, f, "must be a list");
		json_array_foreach (ports, k, e) {
			json_t *cpn = json_object_get(e, "containerPort");
			json_t *pr = json_object_get(e, "protocol");

			fieldf(f, sizeof(f), "pods[%zu].ports[%zu]", i, k);
			if (!json_is_object(e))
				return cfail(errmsg, f, "must be an object");
			if (!json_is_integer(cpn) || json_integer_value(cpn) < 1 ||
			    json_integer_value(cpn) > 65535)
				return cfail(errmsg, f,
					     "containerPort: must be between 1 and 65535");
			if (pr && (!json_is_string(pr) || !pw_proto_parse(json_string_value(pr))))
				return cfail(errmsg, f, "protocol: must be TCP, UDP or SCTP");
		}
		cp->ns = strdup(json_string_value(ns));
		cp->name = strdup(json_string_value(name));
		cp->labels = labels ? json_incref(labels) : json_object();
		cp->ports = ports ? json_incref(ports) : json_array();
		c->npods++;
		if (!cp->ns || !cp->name || asprintf(&cp->id, "%s/%s", cp->ns, cp->name) < 0) {
			cp->id = NULL;
			return -ENOMEM;
		}
		if (find_pod(c, cp->id) != cp)
			return cfail(errmsg, f, "duplicate pod %s", cp->id);
		pw_case_addr(i, &cp->v4, &cp->v6);
	}
	return 0;
}

static int parse_probe(struct pw_case *c, json_t *pr, const char *field, struct pw_case_probe *out)
{
	static const char *const probe_keys[] = { "port", "protocol", "expect", NULL };
	json_t *port = json_object_get(pr, "port"), *proto = json_object_get(pr, "protocol");
	json_t *ex = json_object_get(pr, "expect"), *row, *v;
	const char *src, *dst, *bad;
	char f[600];

	(void)c;
	if (!json_is_object(pr))
		return cfail(NULL, field, "must be an object");
	if (!only_keys(pr, probe_keys, &bad))
		return -EINVAL;
	if (!json_is_integer(port) || json_integer_value(port) < 1 ||
	    json_integer_value(port) > 65535)
		return -EINVAL;
	out->port = (uint16_t)json_integer_value(port);
	out->proto =
		proto ? (json_is_string(proto) ? pw_proto_parse(json_string_value(proto)) : 0) : 6;
	if (!out->proto)
		return -EINVAL;
	if (!json_is_object(ex))
		return -EINVAL;
	json_object_foreach (ex, src, row) {
		if (!find_pod(c, src) || !json_is_object(row))
			return -EINVAL;
		json_object_foreach (row, dst, v) {
			const struct pw_case_pod *dp = find_pod(c, dst);

			fieldf(f, sizeof(f), "%s", dst);
			if (!dp || !json_is_boolean(v))
				return -EINVAL;
			if (strcmp(src, dst) && !serves(dp, out->port, out->proto))
				return -ENOENT;
		}
	}
	out->expect = json_incref(ex);
	return 0;
}

/* Same checks as parse_probe, but names the field; only called when parse_probe failed. */
static int probe_error(struct pw_case *c, json_t *pr, const char *field, char *errmsg)
{
	static const char *const probe_keys[] = { "port", "protocol", "expect", NULL };
	json_t *port = json_object_get(pr, "port"), *proto = json_object_get(pr, "protocol");
	json_t *ex = json_object_get(pr, "expect"), *row, *v;
	const char *src, *dst, *bad;
	char f[700];

	if (!json_is_object(pr))
		return cfail(errmsg, field, "must be an object");
	if (!only_keys(pr, probe_keys, &bad))
		return cfail(errmsg, field, "unknown field \"%s\"", bad);
	fieldf(f, sizeof(f), "%s.port", field);
	if (!json_is_integer(port) || json_integer_value(port) < 1 ||
	    json_integer_value(port) > 65535)
		return cfail(errmsg, f, "must be an integer between 1 and 65535");
	fieldf(f, sizeof(f), "%s.protocol", field);
	if (proto && (!json_is_string(proto) || !pw_proto_parse(json_string_value(proto))))
		return cfail(errmsg, f, "must be TCP, UDP or SCTP");
	fieldf(f, sizeof(f), "%s.expect", field);
	if (!json_is_object(ex))
		return cfail(errmsg, f, "must be an object");
	json_object_foreach (ex, src, row) {
		fieldf(f, sizeof(f), "%s.expect[\"%s\"]", field, src);
		if (!find_pod(c, src))
			return cfail(errmsg, f, "unknown pod");
		if (!json_is_object(row))
			return cfail(errmsg, f, "must be an object");
		json_object_foreach (row, dst, v) {
			const struct pw_case_pod *dp = find_pod(c, dst);
			uint8_t pp = proto ? pw_proto_parse(json_string_value(proto)) : 6;

			fieldf(f, sizeof(f), "%s.expect[\"%s\"][\"%s\"]", field, src, dst);
			if (!dp)
				return cfail(errmsg, f, "unknown pod");
			if (!json_is_boolean(v))
				return cfail(errmsg, f, "must be true or false");
			if (strcmp(src, dst) && !serves(dp, (uint16_t)json_integer_value(port), pp))
				return cfail(errmsg, f, "pod %s does not serve %s/%lld", dst,
					     pw_proto_name(pp),
					     (long long)json_integer_value(port));
		}
	}
	return cfail(errmsg, field, "invalid probe");
}

static int parse_step(struct pw_case *c, json_t *s, size_t si, struct pw_case_step *out,
		      char *errmsg)
{
	static const char *const step_keys[] = { "apply", "delete", "labels", "probes", NULL };
	json_t *apply = json_object_get(s, "apply"), *del = json_object_get(s, "delete");
	json_t *labels = json_object_get(s, "labels"), *probes = json_object_get(s, "probes"), *e;
	const char *bad;
	char f[128];
	size_t i;

	fieldf(f, sizeof(f), "steps[%zu]", si);
	if (!json_is_object(s))
		return cfail(errmsg, f, "must be an object");
	if (!only_keys(s, step_keys, &bad))
		return cfail(errmsg, f, "unknown field \"%s\"", bad);
	fieldf(f, sizeof(f), "steps[%zu].apply", si);
	if (apply && !json_is_null(apply)) {
		if (!json_is_array(apply))
			return cfail(errmsg, f, "must be a list");
		json_array_foreach (apply, i, e) {
			const char *kind = json_string_value(json_object_get(e, "kind"));

			fieldf(f, sizeof(f), "steps[%zu].apply[%zu]", si, i);
			if (!json_is_object(e))
				return cfail(errmsg, f, "must be an object");
			if (kind && strcmp(kind, "NetworkPolicy"))
				return cfail(errmsg, f, "kind: must be NetworkPolicy, not %s",
					     kind);
		}
		out->apply = json_incref(apply);
	}
	fieldf(f, sizeof(f), "steps[%zu].delete", si);
	if (del && !json_is_null(del)) {
		if (!json_is_array(del))
			return cfail(errmsg, f, "must be a list");
		json_array_foreach (del, i, e) {
			const char *s2 = json_string_value(e);
			const char *slash = s2 ? strchr(s2, '/') : NULL;

			fieldf(f, sizeof(f), "steps[%zu].delete[%zu]", si, i);
			if (!slash || slash == s2 || !slash[1])
				return cfail(errmsg, f, "must be \"namespace/name\"");
		}
		out->del = json_incref(del);
	}
	fieldf(f, sizeof(f), "steps[%zu].labels", si);
	if (labels && !json_is_null(labels)) {
		if (!json_is_array(labels))
			return cfail(errmsg, f, "must be a list");
		json_array_foreach (labels, i, e) {
			json_t *ns = json_object_get(e, "namespace"),
			       *pod = json_object_get(e, "pod");
			_cleanup_free_ char *id = NULL;
			int err;

			fieldf(f, sizeof(f), "steps[%zu].labels[%zu]", si, i);
			if (!json_is_object(e))
				return cfail(errmsg, f, "must be an object");
			if (!json_is_string(ns) ||
			    !json_object_get(c->namespaces, json_string_value(ns)))
				return cfail(errmsg, f, "namespace: missing or unknown");
			if (pod) {
				if (!json_is_string(pod) ||
				    asprintf(&id, "%s/%s", json_string_value(ns),
					     json_string_value(pod)) < 0 ||
				    !find_pod(c, id))
					return cfail(errmsg, f, "pod: unknown pod");
			}
			fieldf(f, sizeof(f), "steps[%zu].labels[%zu].labels", si, i);
			err = check_labels(json_object_get(e, "labels"), f, errmsg);
			if (err)
				return err;
		}
		out->labels = json_incref(labels);
	}
	if (probes && !json_is_null(probes)) {
		fieldf(f, sizeof(f), "steps[%zu].probes", si);
		if (!json_is_array(probes))
			return cfail(errmsg, f, "must be a list");
		out->probes = calloc(json_array_size(probes) + 1, sizeof(*out->probes));
		if (!out->probes)
			return -ENOMEM;
		json_array_foreach (probes, i, e) {
			int err;

			fieldf(f, sizeof(f), "steps[%zu].probes[%zu]", si, i);
			err = parse_probe(c, e, f, &out->probes[i]);
			if (err)
				return probe_error(c, e, f, errmsg);
			out->nprobes++;
		}
	}
	return 0;
}

int pw_case_parse(json_t *root, struct pw_case **out, char *errmsg)
{
	static const char *const root_keys[] = { "name", "description", "namespaces",
						 "pods", "steps",	NULL };
	struct pw_case *c;
	json_t *name, *nss, *steps, *v, *e;
	const char *k, *bad;
	char f[128];
	size_t i;
	int err;

	if (!json_is_object(root))
		return cfail(errmsg, "(case)", "must be a JSON object");
	if (!only_keys(root, root_keys, &bad))
		return cfail(errmsg, "(case)", "unknown field \"%s\"", bad);
	name = json_object_get(root, "name");
	if (!json_is_string(name) || !json_string_length(name))
		return cfail(errmsg, "name", "missing or not a string");
	v = json_object_get(root, "description");
	if (v && !json_is_string(v))
		return cfail(errmsg, "description", "must be a string");
	nss = json_object_get(root, "namespaces");
	if (!json_is_object(nss))
		return cfail(errmsg, "namespaces", "missing or not an object");
	json_object_foreach (nss, k, v) {
		fieldf(f, sizeof(f), "namespaces.%s", k);
		if (!json_is_object(v))
			return cfail(errmsg, f, "must be an object");
		if (!only_keys(v, (const char *const[]){ "labels", NULL }, &bad))
			return cfail(errmsg, f, "unknown field \"%s\"", bad);
		fieldf(f, sizeof(f), "namespaces.%s.labels", k);
		if (json_object_get(v, "labels")) {
			err = check_labels(json_object_get(v, "labels"), f, errmsg);
			if (err)
				return err;
		}
	}
	steps = json_object_get(root, "steps");
	if (!json_is_array(steps))
		return cfail(errmsg, "steps", "missing or not a list");
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->name = strdup(json_string_value(name));
	c->namespaces = json_incref(nss);
	err = c->name ? 0 : -ENOMEM;
	if (!err)
		err = parse_pods(c,
				 json_object_get(root, "pods") ? json_object_get(root, "pods") :
								 json_array(),
				 errmsg);
	if (!err) {
		c->steps = calloc(json_array_size(steps) + 1, sizeof(*c->steps));
		if (!c->steps)
			err = -ENOMEM;
	}
	if (!err) {
		json_array_foreach (steps, i, e) {
			err = parse_step(c, e, i, &c->steps[i], errmsg);
			c->nsteps++;
			if (err)
				break;
		}
	}
	if (err) {
		pw_case_free(&c);
		return err;
	}
	*out = c;
	return 0;
}

/* ---------------- running ---------------- */

/* Replaces ${ip:NS/POD} in every string, recursively. */
static int substitute(const struct pw_case *c, json_t *v, char *errmsg)
{
	const char *k;
	json_t *e;
	size_t i;
	int err;

	if (json_is_object(v)) {
		json_object_foreach (v, k, e)
			if ((err = substitute(c, e, errmsg)))
				return err;
	} else if (json_is_array(v)) {
		json_array_foreach (v, i, e)
			if ((err = substitute(c, e, errmsg)))
				return err;
	} else if (json_is_string(v) && strstr(json_string_value(v), "${ip:")) {
		const char *s = json_string_value(v), *p;
		char out[1024];
		size_t o = 0;

		while ((p = strstr(s, "${ip:"))) {
			const char *end = strchr(p, '}');
			const struct pw_case_pod *pod;
			char id[300], ip[64];

			if (!end || (size_t)(end - p - 5) >= sizeof(id))
				return cfail(errmsg, "apply", "unterminated ${ip:...}");
			memcpy(id, p + 5, (size_t)(end - p - 5));
			id[end - p - 5] = 0;
			pod = find_pod(c, id);
			if (!pod)
				return cfail(errmsg, "apply", "${ip:%s}: unknown pod", id);
			pw_addr_format(&pod->v4, ip, sizeof(ip));
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%.*s%s", (int)(p - s), s,
					      ip);
			if (o >= sizeof(out))
				return cfail(errmsg, "apply", "string too long");
			s = end + 1;
		}
		snprintf(out + o, sizeof(out) - o, "%s", s);
		json_string_set(v, out);
	}
	return 0;
}

static json_t *ns_obj(const char *name, json_t *labels)
{
	return json_pack("{s:s, s:{s:s, s:O}}", "kind", "Namespace", "metadata", "name", name,
			 "labels", labels ? labels : json_object());
}

static json_t *pod_obj(const struct pw_case_pod *p, json_t *labels)
{
	char v4[64], v6[64];

	pw_addr_format(&p->v4, v4, sizeof(v4));
	pw_addr_format(&p->v6, v6, sizeof(v6));
	return json_pack("{s:s, s:{s:s, s:s, s:O}, s:{s:[{s:s, s:O}]}, s:{s:s, s:[{s:s},{s:s}]}}",
			 "kind", "Pod", "metadata", "name", p->name, "namespace", p->ns, "labels",
			 labels, "spec", "containers", "name", "c", "ports", p->ports, "status",
			 "podIP", v4, "podIPs", "ip", v4, "ip", v6);
}

static int upsert_new(struct pw_policy_db *db, json_t *obj, const char *field, char *errmsg)
{
	char e[PW_ERRMSG_MAX];
	int err;

	if (!obj)
		return -ENOMEM;
	err = pw_policy_db_upsert(db, obj, e);
	json_decref(obj);
	if (err)
		return cfail(errmsg, field, "%s", e);
	return 0;
}

void pw_policy_explain_verdict(const struct pw_policy_db *db, const struct pw_endpoint_view *ep,
			       int dir, const struct pw_verdict *v, char *buf, size_t len)
{
	struct pw_cookie_info ci;
	char sel[400];

	if (v->cookie && !pw_policy_db_cookie(db, v->cookie, &ci)) {
		snprintf(buf, len, "%s/%s %s rule %u", ci.ns, ci.name,
			 ci.dir == PW_DIR_INGRESS ? "ingress" : "egress", ci.rule);
		return;
	}
	switch (v->reason) {
	case PW_REASON_ALLOW_UNISOLATED:
		snprintf(buf, len, "no policy selects %s/%s for %s", ep ? ep->ns : "?",
			 ep ? ep->name : "?", dir == PW_DIR_INGRESS ? "ingress" : "egress");
		return;
	case PW_REASON_ALLOW_HOST:
		snprintf(buf, len, "traffic from the node is always allowed");
		return;
	case PW_REASON_DROP_POLICY_INGRESS:
	case PW_REASON_DROP_POLICY_EGRESS:
		if (ep)
			pw_policy_db_selecting(db, ep->ns, ep->name, dir, sel, sizeof(sel));
		snprintf(buf, len, "default deny: selected by %s, no rule allows", ep ? sel : "?");
		return;
	default:
		snprintf(buf, len, "%s", pw_reason_name(v->reason));
	}
}

static int add_failure(struct pw_case_result *res, const struct pw_case_failure *f)
{
	struct pw_case_failure *n = realloc(res->f, (res->nf + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	res->f = n;
	n[res->nf++] = *f;
	return 0;
}

static int run_step(const struct pw_case *c, size_t si, struct pw_policy_db *db, json_t *nslabels,
		    json_t *podlabels, const struct pw_evaluator *ev, struct pw_case_result *res,
		    char *errmsg)
{
	const struct pw_case_step *s = &c->steps[si];
	char f[128];
	json_t *e;
	size_t i;
	int err;

	json_array_foreach (s->del, i, e) {
		char buf[300], *slash;

		snprintf(buf, sizeof(buf), "%s", json_string_value(e));
		slash = strchr(buf, '/');
		*slash = 0;
		fieldf(f, sizeof(f), "steps[%zu].delete[%zu]", si, i);
		if (pw_policy_db_delete_policy(db, buf, slash + 1))
			return cfail(errmsg, f, "no policy %s/%s", buf, slash + 1);
	}
	json_array_foreach (s->labels, i, e) {
		const char *ns = json_string_value(json_object_get(e, "namespace"));
		json_t *pod = json_object_get(e, "pod"), *l = json_object_get(e, "labels");

		fieldf(f, sizeof(f), "steps[%zu].labels[%zu]", si, i);
		if (pod) {
			char id[300];
			const struct pw_case_pod *p;

			snprintf(id, sizeof(id), "%s/%s", ns, json_string_value(pod));
			p = find_pod(c, id);
			json_object_set(podlabels, id, l);
			err = upsert_new(db, pod_obj(p, l), f, errmsg);
		} else {
			json_object_set(nslabels, ns, l);
			err = upsert_new(db, ns_obj(ns, l), f, errmsg);
		}
		if (err)
			return err;
	}
	json_array_foreach (s->apply, i, e) {
		json_t *obj = json_deep_copy(e);

		fieldf(f, sizeof(f), "steps[%zu].apply[%zu]", si, i);
		if (!obj)
			return -ENOMEM;
		if (!json_object_get(obj, "kind"))
			json_object_set_new(obj, "kind", json_string("NetworkPolicy"));
		err = substitute(c, obj, errmsg);
		if (err) {
			json_decref(obj);
			return err;
		}
		err = upsert_new(db, obj, f, errmsg);
		if (err)
			return err;
	}
	err = pw_policy_db_compile(db, NULL);
	if (err)
		return cfail(errmsg, "compile", "%s", strerror(-err));
	for (size_t pi = 0; pi < s->nprobes; pi++) {
		const struct pw_case_probe *pr = &s->probes[pi];
		/* IPv4 ipBlocks say nothing about IPv6 peers: check v6 only without them. */
		struct pw_ipcache_lpm_entry *lpm;
		bool check_v6 = pw_policy_db_lpm_entries(db, &lpm) == 0;
		const char *src, *dst;
		json_t *row, *v;

		json_object_foreach (pr->expect, src, row) {
			json_object_foreach (row, dst, v) {
				const struct pw_case_pod *sp = find_pod(c, src),
							 *dp = find_pod(c, dst);

				if (sp == dp)
					continue;
				for (int fam = 0; fam < (check_v6 ? 2 : 1); fam++) {
					struct pw_case_failure fl = { 0 };
					const struct pw_endpoint_view *ep;

					pw_policy_probe(db, ev, fam ? &sp->v6 : &sp->v4,
							fam ? &dp->v6 : &dp->v4, pr->proto,
							pr->port, &fl.res);
					res->checked++;
					if (fl.res.allowed == json_is_true(v))
						continue;
					fl.step = si;
					fl.probe = pi;
					fl.from = sp->id;
					fl.to = dp->id;
					fl.port = pr->port;
					fl.proto = pr->proto;
					fl.family = fam ? PW_AF_INET6 : PW_AF_INET;
					fl.expected = json_is_true(v);
					if (fl.res.decided_dir == PW_DIR_EGRESS ||
					    (fl.res.has_egress &&
					     pw_reason_is_drop(fl.res.egress.reason)))
						ep = pw_policy_db_endpoint(db, sp->ns, sp->name),
						pw_policy_explain_verdict(db, ep, PW_DIR_EGRESS,
									  &fl.res.egress, fl.why,
									  sizeof(fl.why));
					else
						ep = pw_policy_db_endpoint(db, dp->ns, dp->name),
						pw_policy_explain_verdict(db, ep, PW_DIR_INGRESS,
									  &fl.res.ingress, fl.why,
									  sizeof(fl.why));
					err = add_failure(res, &fl);
					if (err)
						return err;
				}
			}
		}
	}
	return 0;
}

int pw_case_run(const struct pw_case *c, const struct pw_evaluator *ev, struct pw_case_result *res,
		char *errmsg)
{
	struct pw_policy_db *db = NULL;
	json_t *nslabels = json_object(), *podlabels = json_object(), *v;
	const char *k;
	int err;

	memset(res, 0, sizeof(*res));
	err = nslabels && podlabels ? pw_policy_db_new(&db) : -ENOMEM;
	if (err)
		goto out;
	json_object_foreach (c->namespaces, k, v) {
		err = upsert_new(db, ns_obj(k, json_object_get(v, "labels")), "namespaces", errmsg);
		if (err)
			goto out;
	}
	for (size_t i = 0; i < c->npods; i++) {
		char f[64];

		snprintf(f, sizeof(f), "pods[%zu]", i);
		err = upsert_new(db, pod_obj(&c->pods[i], c->pods[i].labels), f, errmsg);
		if (err)
			goto out;
	}
	for (size_t si = 0; si < c->nsteps; si++) {
		err = run_step(c, si, db, nslabels, podlabels, ev, res, errmsg);
		if (err)
			goto out;
	}
out:
	if (err)
		pw_case_result_free(res);
	json_decref(nslabels);
	json_decref(podlabels);
	pw_policy_db_free(&db);
	return err;
}

void pw_case_result_free(struct pw_case_result *res)
{
	free(res->f);
	memset(res, 0, sizeof(*res));
}
