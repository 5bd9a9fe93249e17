// SPDX-License-Identifier: GPL-2.0-only
/*
 * Manifest files: YAML (libyaml) is converted to jansson values so that one
 * object code path serves both formats.
 */
#define _GNU_SOURCE /* asprintf */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#include "cleanup.h"
#include "internal.h"

#define MAX_DEPTH   256
#define MAX_ALIASES 4096
#define MAX_FILE    (64 << 20)

struct anchor {
	char *name;
	json_t *val;
};

struct yconv {
	json_t **stack; /* containers being built */
	char **keys;	/* pending mapping key per level, NULL if expecting a key */
	size_t depth;
	struct anchor *anchors;
	size_t nanchors;
	char **anchor_of; /* anchor name of each open container */
	size_t naliases;
};

static void yconv_free(struct yconv *c)
{
	for (size_t i = 0; i < c->depth; i++) {
		json_decref(c->stack[i]);
		free(c->keys[i]);
		free(c->anchor_of[i]);
	}
	for (size_t i = 0; i < c->nanchors; i++) {
		free(c->anchors[i].name);
		json_decref(c->anchors[i].val);
	}
	free(c->anchors);
	free(c->stack);
	free(c->keys);
	free(c->anchor_of);
}

static bool is_null_scalar(const char *s)
{
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

/* YAML 1.2 core schema resolution of a plain scalar. */
static json_t *plain_scalar(const char *s)
{
	char *end;

	if (is_null_scalar(s))
		return json_null();
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return json_true();
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return json_false();
	if ((s[0] >= '0' && s[0] <= '9') || ((s[0] == '-' || s[0] == '+') && s[1])) {
		long long v;
		double d;

		errno = 0;
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o') && s[2]) {
			v = strtoll(s + 2, &end, s[1] == 'x' ? 16 : 8);
			if (!*end && !errno)
				return json_integer(v);
		} else {
			v = strtoll(s, &end, 10);
			if (!*end && !errno)
				return json_integer(v);
			errno = 0;
			d = strtod(s, &end);
			if (!*end && !errno && strspn(s, "+-0123456789.eE") == strlen(s))
				return json_real(d);
		}
	}
	return json_string(s);
}

static int add_value(struct yconv *c, json_t *v, json_t *docs, char *why, size_t whylen)
{
	json_t *top;

	if (!v) {
		snprintf(why, whylen, "out of memory or invalid UTF-8");
		return -EINVAL;
	}
	if (!c->depth) {
		/* A whole document. */
		int r = json_array_append_new(docs, v);

		return r ? -ENOMEM : 0;
	}
	top = c->stack[c->depth - 1];
	if (json_is_array(top))
		return json_array_append_new(top, v) ? -ENOMEM : 0;
	if (!c->keys[c->depth - 1]) {
		if (!json_is_string(v)) {
			snprintf(why, whylen, "mapping keys must be scalars");
			json_decref(v);
			return -EINVAL;
		}
		c->keys[c->depth - 1] = strdup(json_string_value(v));
		json_decref(v);
		return c->keys[c->depth - 1] ? 0 : -ENOMEM;
	}
	if (json_object_set_new(top, c->keys[c->depth - 1], v)) {
		snprintf(why, whylen, "invalid mapping key");
		free(c->keys[c->depth - 1]);
		c->keys[c->depth - 1] = NULL;
		return -EINVAL;
	}
	free(c->keys[c->depth - 1]);
	c->keys[c->depth - 1] = NULL;
	return 0;
}

static int remember(struct yconv *c, const char *name, json_t *v)
{
	struct anchor *n;

	if (!name)
		return 0;
	n = realloc(c->anchors, (c->nanchors + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	c->anchors = n;
	n[c->nanchors].name = strdup(name);
	n[c->nanchors].val = json_incref(v);
	c->nanchors++;
	return 0;
}

static int push(struct yconv *c, json_t *v, const char *anchor)
{
	json_t **s;
	char **k, **a;

	if (!v)
		return -ENOMEM;
	s = realloc(c->stack, (c->depth + 1) * sizeof(*s));
	if (s)
		c->stack = s;
	k = realloc(c->keys, (c->depth + 1) * sizeof(*k));
	if (k)
		c->keys = k;
	a = realloc(c->anchor_of, (c->depth + 1) * sizeof(*a));
	if (a)
		c->anchor_of = a;
	if (!s || !k || !a) {
		json_decref(v);
		return -ENOMEM;
	}
	c->stack[c->depth] = v;
	c->keys[c->depth] = NULL;
	c->anchor_of[c->depth] = anchor ? strdup(anchor) : NULL;
	c->depth++;
	return 0;
}

static int yaml_to_json(const char *buf, size_t len, json_t *docs, char *why, size_t whylen,
			size_t *line)
{
	struct yconv c = { 0 };
	yaml_parser_t p;
	yaml_event_t ev;
	bool done = false;
	int err = 0;

	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (!done && !err) {
		if (!yaml_parser_parse(&p, &ev)) {
			snprintf(why, whylen, "%s", p.problem ? p.problem : "YAML syntax error");
			*line = p.problem_mark.line + 1;
			err = -EINVAL;
			break;
		}
		*line = ev.start_mark.line + 1;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_SCALAR_EVENT: {
			const char *s = (const char *)ev.data.scalar.value;
			json_t *v;

			if (ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev.data.scalar.tag)
				v = plain_scalar(s);
			else
				v = json_stringn(s, ev.data.scalar.length);
			if (v && remember(&c, (const char *)ev.data.scalar.anchor, v)) {
				json_decref(v);
				err = -ENOMEM;
				break;
			}
			err = add_value(&c, v, docs, why, whylen);
			break;
		}
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (c.depth >= MAX_DEPTH) {
				snprintf(why, whylen, "nesting deeper than %d", MAX_DEPTH);
				err = -EINVAL;
				break;
			}
			err = push(&c,
				   ev.type == YAML_SEQUENCE_START_EVENT ? json_array() :
									  json_object(),
				   ev.type == YAML_SEQUENCE_START_EVENT ?
					   (const char *)ev.data.sequence_start.anchor :
					   (const char *)ev.data.mapping_start.anchor);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT: {
			json_t *v;
			char *anchor;

			if (!c.depth) {
				err = -EINVAL;
				break;
			}
			c.depth--;
			v = c.stack[c.depth];
			anchor = c.anchor_of[c.depth];
			free(c.keys[c.depth]);
			err = remember(&c, anchor, v);
			free(anchor);
			if (err) {
				json_decref(v);
				break;
			}
			err = add_value(&c, v, docs, why, whylen);
			break;
		}
		case YAML_ALIAS_EVENT: {
			const char *name = (const char *)ev.data.alias.anchor;
			json_t *v = NULL;

			if (++c.naliases > MAX_ALIASES) {
				snprintf(why, whylen, "too many aliases");
				err = -EINVAL;
				break;
			}
			for (size_t i = c.nanchors; i-- > 0;)
				if (!strcmp(c.anchors[i].name, name)) {
					v = c.anchors[i].val;
					break;
				}
			if (!v) {
				snprintf(why, whylen, "unknown alias \"%s\"", name);
				err = -EINVAL;
				break;
			}
			/* A copy, so that no value is shared between objects. */
			err = add_value(&c, json_deep_copy(v), docs, why, whylen);
			break;
		}
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	yconv_free(&c);
	return err;
}

/* Flattens List kinds and drops empty documents. */
static int flatten(json_t *v, json_t *out, int depth)
{
	const char *kind;
	json_t *items, *e;
	size_t i;

	if (json_is_null(v))
		return 0;
	kind = json_string_value(json_object_get(v, "kind"));
	items = json_object_get(v, "items");
	if (kind && strlen(kind) >= 4 && !strcmp(kind + strlen(kind) - 4, "List") &&
	    json_is_array(items)) {
		if (depth > 8)
			return -EINVAL;
		json_array_foreach (items, i, e) {
			int err = flatten(e, out, depth + 1);

			if (err)
				return err;
		}
		return 0;
	}
	return json_array_append(out, v) ? -ENOMEM : 0;
}

int pw_manifest_parse(const char *buf, size_t len, const char *name, bool yaml, json_t **docs,
		      char *errmsg)
{
	json_t *raw = json_array(), *out = json_array(), *d;
	char why[256] = "";
	size_t line = 0, i;
	int err = 0;

	if (!raw || !out) {
		err = -ENOMEM;
		goto out;
	}
	if (yaml) {
		err = yaml_to_json(buf, len, raw, why, sizeof(why), &line);
	} else {
		json_error_t je;
		size_t off = 0;

		/* Concatenated JSON documents are allowed, like kubectl accepts them. */
		while (off < len) {
			while (off < len && strchr(" \t\r\n", buf[off]))
				off++;
			if (off >= len)
				break;
			d = json_loadb(buf + off, len - off,
				       JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &je);
			if (!d) {
				snprintf(why, sizeof(why), "%s", je.text);
				line = (size_t)je.line;
				err = -EINVAL;
				break;
			}
			off += je.position;
			err = json_array_append_new(raw, d) ? -ENOMEM : 0;
			if (err)
				break;
		}
	}
	if (!err) {
		json_array_foreach (raw, i, d) {
			if (json_is_array(d)) {
				json_t *e;
				size_t k;

				json_array_foreach (d, k, e)
					if (!err)
						err = flatten(e, out, 0);
			} else if (!err) {
				err = flatten(d, out, 0);
			}
		}
		if (err == -EINVAL)
			snprintf(why, sizeof(why), "List nesting too deep");
	}
	if (err) {
		if (errmsg) {
			if (line)
				snprintf(errmsg, PW_ERRMSG_MAX, "%s: line %zu: %s", name, line,
					 why[0] ? why : strerror(-err));
			else
				snprintf(errmsg, PW_ERRMSG_MAX, "%s: %s", name,
					 why[0] ? why : strerror(-err));
		}
		goto out;
	}
	*docs = out;
	out = NULL;
out:
	json_decref(raw);
	json_decref(out);
	return err;
}

static bool has_ext(const char *n, const char *ext)
{
	size_t a = strlen(n), b = strlen(ext);

	return a > b && !strcmp(n + a - b, ext);
}

static void report(pw_manifest_err_fn cb, void *ctx, const char *msg)
{
	if (cb)
		cb(ctx, msg);
}

static int load_file(const char *path, json_t *items, pw_manifest_err_fn cb, void *ctx)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *buf = NULL;
	char msg[PW_ERRMSG_MAX + 64];
	json_t *docs = NULL, *d;
	size_t n = 0, cap = 0, i;
	bool yaml = !has_ext(path, ".json");

	if (!f) {
		snprintf(msg, sizeof(msg), "%s: %s", path, strerror(errno));
		report(cb, ctx, msg);
		return 1;
	}
	for (;;) {
		size_t r;

		if (n + 4096 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			if (cap > MAX_FILE) {
				snprintf(msg, sizeof(msg), "%s: file too large", path);
				report(cb, ctx, msg);
				return 1;
			}
			nb = realloc(buf, cap);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(msg, sizeof(msg), "%s: read error", path);
		report(cb, ctx, msg);
		return 1;
	}
	buf[n] = 0;
	if (pw_manifest_parse(buf, n, path, yaml, &docs, msg)) {
		report(cb, ctx, msg);
		return 1;
	}
	json_array_foreach (docs, i, d) {
		json_t *it = json_pack("{s:s, s:O}", "file", path, "object", d);

		if (!it || json_array_append_new(items, it)) {
			json_decref(docs);
			return -ENOMEM;
		}
	}
	json_decref(docs);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int pw_manifest_load(const char *path, json_t *items, pw_manifest_err_fn cb, void *ctx)
{
	struct stat st;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int errors = 0;
	DIR *dir;

	if (stat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return load_file(path, items, cb, ctx);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		char **nn;

		if (de->d_name[0] == '.' ||
		    !(has_ext(de->d_name, ".yaml") || has_ext(de->d_name, ".yml") ||
		      has_ext(de->d_name, ".json")))
			continue;
		nn = realloc(names, (n + 1) * sizeof(*nn));
		if (!nn)
			break;
		names = nn;
		if (asprintf(&names[n], "%s/%s", path, de->d_name) < 0)
			break;
		n++;
	}
	closedir(dir);
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		int r = load_file(names[i], items, cb, ctx);

		if (r < 0 && !errors)
			errors = r;
		else if (r > 0 && errors >= 0)
			errors += r;
		free(names[i]);
	}
	free(names);
	return errors;
}

int pw_manifest_apply(struct pw_policy_db *db, json_t *items, pw_manifest_err_fn cb, void *ctx)
{
	static const char *const order[] = { "Namespace", "Pod", "NetworkPolicy" };
	char err[PW_ERRMSG_MAX], msg[PW_ERRMSG_MAX + 300];
	int rejected = 0;
	json_t *it;
	size_t i;

	for (size_t k = 0; k < ARRAY_SIZE(order); k++) {
		json_array_foreach (items, i, it) {
			json_t *obj = json_object_get(it, "object");
			const char *kind = json_string_value(json_object_get(obj, "kind"));
			int r;

			if (!kind || strcmp(kind, order[k]))
				continue;
			err[0] = 0;
			r = pw_policy_db_upsert(db, obj, err);
			if (r) {
				snprintf(msg, sizeof(msg), "%s: %s",
					 json_string_value(json_object_get(it, "file")),
					 err[0] ? err : strerror(-r));
				report(cb, ctx, msg);
				rejected++;
			}
		}
	}
	return rejected;
}
