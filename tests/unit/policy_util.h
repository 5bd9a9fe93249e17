/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers shared by the policy unit tests: build a db from manifest text, probe it. */
#pragma once

#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "test.h"

static char util_errs[4096];

static inline void util_err(void *ctx, const char *msg)
{
	(void)ctx;
	snprintf(util_errs + strlen(util_errs), sizeof(util_errs) - strlen(util_errs), "%s\n",
		 msg);
}

/* Applies YAML/JSON manifest text to db and compiles; returns the number of rejections. */
static inline int util_apply(struct pw_policy_db *db, const char *text, bool yaml)
{
	char err[PW_ERRMSG_MAX];
	json_t *docs = NULL, *items = json_array(), *d;
	size_t i;
	int r;

	if (pw_manifest_parse(text, strlen(text), "test", yaml, &docs, err)) {
		snprintf(util_errs + strlen(util_errs), sizeof(util_errs) - strlen(util_errs),
			 "%s\n", err);
		json_decref(items);
		return -1;
	}
	json_array_foreach(docs, i, d)
		json_array_append_new(items, json_pack("{s:s, s:O}", "file", "test", "object", d));
	r = pw_manifest_apply(db, items, util_err, NULL);
	json_decref(docs);
	json_decref(items);
	if (pw_policy_db_compile(db, NULL))
		return -1;
	return r;
}

static inline struct pw_policy_db *util_db(const char *text, bool yaml)
{
	struct pw_policy_db *db = NULL;

	util_errs[0] = 0;
	if (pw_policy_db_new(&db))
		return NULL;
	if (util_apply(db, text, yaml) < 0) {
		pw_test_diag("util_db: %s", util_errs);
		pw_policy_db_free(&db);
	}
	return db;
}

/* Allowed from pod (ns/name, first address of family) to pod? -1 if a pod is unknown. */
static inline int util_probe_fam(struct pw_policy_db *db, const char *from, const char *to,
			  uint16_t port, uint8_t proto, uint8_t family)
{
	const struct pw_pod_view *p[2];
	const char *ids[2] = { from, to };
	struct pw_addr a[2];
	struct pw_probe_result r;

	for (int k = 0; k < 2; k++) {
		char buf[256], *slash;
		size_t i;

		snprintf(buf, sizeof(buf), "%s", ids[k]);
		if (pw_addr_parse(buf, &a[k]) == 0)
			continue;
		slash = strchr(buf, '/');
		if (!slash)
			return -1;
		*slash = 0;
		p[k] = pw_policy_db_pod(db, buf, slash + 1);
		if (!p[k])
			return -1;
		for (i = 0; i < p[k]->nips && p[k]->ips[i].family != family; i++)
			;
		if (i == p[k]->nips)
			return -1;
		a[k] = p[k]->ips[i];
	}
	pw_policy_probe(db, NULL, &a[0], &a[1], proto, port, &r);
	return r.allowed;
}

static inline int util_probe(struct pw_policy_db *db, const char *from, const char *to,
			     uint16_t port, uint8_t proto)
{
	return util_probe_fam(db, from, to, port, proto, PW_AF_INET);
}

#define TCP  6
#define UDP  17
#define SCTP 132

/* A namespace and pods: NS(name, labels-json), POD(ns, name, labels-json, ip, ports-json) */
#define NS(n, l) "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" n "\",\"labels\":" l "}}\n"
#define POD(ns, n, l, ip, ports)                                                              \
	"{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"" ns "\",\"name\":\"" n               \
	"\",\"labels\":" l "},\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":" ports      \
	"}]},\"status\":{\"podIP\":\"" ip "\"}}\n"
#define NP(ns, n, spec)                                                                       \
	"{\"kind\":\"NetworkPolicy\",\"metadata\":{\"namespace\":\"" ns "\",\"name\":\"" n     \
	"\"},\"spec\":" spec "}\n"
