// SPDX-License-Identifier: GPL-2.0-only
/*
 * The compiled state in a form that does not depend on history: identity
 * numbers and rule cookies are allocated in arrival order, so two dbs with
 * the same objects can number them differently. Tests compare the daemon's
 * state after a storm of watch faults with a fresh compile of the final
 * objects through this document.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s.h"
#include "policy.h"

static void id_name(struct pw_policy_db *db, uint32_t id, char *buf, size_t len)
{
	const char *k = pw_policy_db_identity_key(db, id);

	if (id == PW_ID_ANY)
		snprintf(buf, len, "any");
	else if (id == PW_ID_HOST)
		snprintf(buf, len, "host");
	else if (id == PW_ID_WORLD)
		snprintf(buf, len, "world");
	else if (id == PW_ID_REMOTE_NODE)
		snprintf(buf, len, "remote-node");
	else if (k)
		snprintf(buf, len, "%s", k);
	else
		snprintf(buf, len, "unknown-identity");
}

static void cookie_name(struct pw_policy_db *db, uint32_t cookie, char *buf, size_t len)
{
	struct pw_cookie_info ci;

	if (!cookie || pw_policy_db_cookie(db, cookie, &ci))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s/%s/%s/%u", ci.ns, ci.name,
			 ci.dir == PW_DIR_INGRESS ? "ingress" : "egress", ci.rule);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
		      json_string_value(*(json_t *const *)b));
}

/* Sorts an array of strings in place. */
static json_t *sorted(json_t *arr)
{
	size_t n = json_array_size(arr);
	json_t **v = calloc(n ? n : 1, sizeof(*v)), *out;

	if (!v)
		return arr;
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof(*v), str_cmp);
	out = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(out, v[i]);
	free(v);
	json_decref(arr);
	return out;
}

static json_t *entries(struct pw_policy_db *db, const struct pw_endpoint_view *ep)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < ep->nentries; i++) {
		const struct pw_policy_entry *e = &ep->entries[i];
		char peer[256], line[4096], ck[600];
		size_t off;

		id_name(db, e->key.identity, peer, sizeof(peer));
		off = (size_t)snprintf(line, sizeof(line), "%s proto %u port %u peer %s flags %u:",
				       e->key.dir == PW_DIR_INGRESS ? "ingress" : "egress",
				       e->key.proto, e->key.dport, peer, e->val.flags);
		for (unsigned r = 0; r < e->val.nranges && r < PW_POLICY_RANGES; r++) {
			const struct pw_port_range *pr = &e->val.r[r];

			cookie_name(db, pr->cookie, ck, sizeof(ck));
			if (off < sizeof(line))
				off += (size_t)snprintf(line + off, sizeof(line) - off,
							" %u-%u %s %s", pr->lo, pr->hi,
							pr->action == PW_ACTION_ALLOW ? "allow" :
											"deny",
							ck);
		}
		json_array_append_new(arr, json_string(line));
	}
	return sorted(arr);
}

json_t *pw_compiled_dump(struct pw_policy_db *db)
{
	struct pw_endpoint_view *eps;
	struct pw_ipcache_host_entry *he;
	struct pw_ipcache_lpm_entry *le;
	json_t *out, *jeps, *hosts, *prefixes;
	size_t n, i;

	jeps = json_object();
	n = pw_policy_db_endpoints(db, &eps);
	for (i = 0; i < n; i++) {
		char key[512], id[256];

		snprintf(key, sizeof(key), "%s/%s", eps[i].ns, eps[i].name);
		id_name(db, eps[i].identity, id, sizeof(id));
		json_object_set_new(jeps, key,
				    json_pack("{s:s, s:o}", "identity", id, "entries",
					      entries(db, &eps[i])));
	}
	hosts = json_array();
	n = pw_policy_db_host_entries(db, &he);
	for (i = 0; i < n; i++) {
		struct pw_addr a = { .family = he[i].key.family };
		char addr[64], id[256], cid[256], line[700];

		/* The node's own addresses depend on where the compile ran. */
		if (he[i].val.identity == PW_ID_HOST)
			continue;
		memcpy(a.addr, he[i].key.addr, sizeof(a.addr));
		pw_addr_format(&a, addr, sizeof(addr));
		id_name(db, he[i].val.identity, id, sizeof(id));
		if (he[i].val.cidr_identity)
			id_name(db, he[i].val.cidr_identity, cid, sizeof(cid));
		else
			snprintf(cid, sizeof(cid), "-");
		snprintf(line, sizeof(line), "%s %s cidr %s", addr, id, cid);
		json_array_append_new(hosts, json_string(line));
	}
	prefixes = json_array();
	n = pw_policy_db_lpm_entries(db, &le);
	for (i = 0; i < n; i++) {
		struct pw_addr a = { .family = le[i].key.family };
		char addr[64], id[256], line[400];

		memcpy(a.addr, le[i].key.addr, sizeof(a.addr));
		pw_addr_format(&a, addr, sizeof(addr));
		id_name(db, le[i].val.identity, id, sizeof(id));
		snprintf(line, sizeof(line), "%s/%u %s", addr,
			 le[i].key.prefixlen - PW_LPM_PREFIX_BASE, id);
		json_array_append_new(prefixes, json_string(line));
	}
	out = json_pack("{s:o, s:o, s:o}", "endpoints", jeps, "ipcache", sorted(hosts),
			"prefixes", sorted(prefixes));
	return out;
}
