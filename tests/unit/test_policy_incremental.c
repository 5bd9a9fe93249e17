// SPDX-License-Identifier: GPL-2.0-only
/*
 * Incremental compiles against full ones, on random change sequences:
 *  - the delta of every compile, applied to a mirror of the maps, gives
 *    exactly the db's full output (nothing missed, nothing stale);
 *  - the output equals a fresh db's compile of the same objects (compared
 *    by identity keys and rule attribution, since numbers are history);
 *  - the epoch moves iff the delta is non-empty.
 */
#include <stdlib.h>

#include "policy_util.h"

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

#define NPODS 12
#define NPOLS 6
static const char *const nss[] = { "x", "y", "z" };

static json_t *rnd_labels(void)
{
	static const char *const keys[] = { "app", "tier", "env" };
	static const char *const vals[] = { "a", "b", "c" };
	json_t *l = json_object();

	for (int k = 0; k < 3; k++)
		if (rnd(2))
			json_object_set_new(l, keys[k], json_string(vals[rnd(3)]));
	return l;
}

static json_t *rnd_pod(int slot)
{
	char name[16], ip[32], ip6[32];
	json_t *ports = json_array(), *spec = json_object();
	bool host = rnd(10) == 0;

	snprintf(name, sizeof(name), "p%d", slot);
	if (host)
		snprintf(ip, sizeof(ip), "192.168.0.%d", 1 + rnd(2));
	else
		snprintf(ip, sizeof(ip), "10.0.%u.%d", rnd(2), slot + 1);
	snprintf(ip6, sizeof(ip6), "fd00::%x", slot + 1);
	if (rnd(2))
		json_array_append_new(ports, json_pack("{s:s, s:i}", "name", "web", "containerPort",
						       rnd(2) ? 80 : 8080));
	if (rnd(2))
		json_array_append_new(ports,
				      json_pack("{s:s, s:i, s:s}", "name", "dns", "containerPort",
						53, "protocol", rnd(2) ? "UDP" : "TCP"));
	json_object_set_new(spec, "containers",
			    json_pack("[{s:s, s:o}]", "name", "c", "ports", ports));
	if (rnd(5) == 0)
		json_object_set_new(spec, "nodeName", json_string("other"));
	if (host)
		json_object_set_new(spec, "hostNetwork", json_true());
	return json_pack("{s:s, s:{s:s, s:s, s:o}, s:o, s:{s:[{s:s},{s:s}]}}", "kind", "Pod",
			 "metadata", "namespace", nss[rnd(3)], "name", name, "labels", rnd_labels(),
			 "spec", spec, "status", "podIPs", "ip", ip, "ip", ip6);
}

static json_t *rnd_ns(int i)
{
	json_t *l = json_object();

	if (rnd(3))
		json_object_set_new(l, "team", json_string(rnd(2) ? "red" : "blue"));
	return json_pack("{s:s, s:{s:s, s:o}}", "kind", "Namespace", "metadata", "name", nss[i],
			 "labels", l);
}

static json_t *rnd_selector(bool ns)
{
	static const char *const ops[] = { "In", "NotIn", "Exists", "DoesNotExist" };
	const char *key = ns ? "team" : (const char *[]){ "app", "tier", "env" }[rnd(3)];
	const char *val =
		ns ? (rnd(2) ? "red" : "blue") : (const char *[]){ "a", "b", "c" }[rnd(3)];
	const char *op;

	switch (rnd(3)) {
	case 0:
		return json_object();
	case 1:
		return json_pack("{s:{s:s}}", "matchLabels", key, val);
	default:
		op = ops[rnd(4)];
		if (op[0] == 'E' || op[0] == 'D')
			return json_pack("{s:[{s:s, s:s}]}", "matchExpressions", "key", key,
					 "operator", op);
		return json_pack("{s:[{s:s, s:s, s:[s]}]}", "matchExpressions", "key", key,
				 "operator", op, "values", val);
	}
}

static json_t *rnd_peer(void)
{
	static const char *const cidrs[] = { "10.0.0.0/16", "10.0.0.0/24", "10.0.1.0/24",
					     "10.0.0.4/30", "10.0.0.3/32", "0.0.0.0/0",
					     "fd00::/64" };
	json_t *p = json_object();
	int c;

	switch (rnd(4)) {
	case 0:
		json_object_set_new(p, "podSelector", rnd_selector(false));
		break;
	case 1:
		json_object_set_new(p, "namespaceSelector", rnd_selector(true));
		break;
	case 2:
		json_object_set_new(p, "podSelector", rnd_selector(false));
		json_object_set_new(p, "namespaceSelector", rnd_selector(true));
		break;
	default:
		c = (int)rnd(7);
		if (c == 0 && rnd(2))
			json_object_set_new(p, "ipBlock",
					    json_pack("{s:s, s:[s]}", "cidr", cidrs[c], "except",
						      rnd(2) ? "10.0.1.0/24" : "10.0.0.2/31"));
		else if (c == 5 && rnd(2))
			json_object_set_new(p, "ipBlock",
					    json_pack("{s:s, s:[s]}", "cidr", cidrs[c], "except",
						      "10.0.0.0/16"));
		else
			json_object_set_new(p, "ipBlock", json_pack("{s:s}", "cidr", cidrs[c]));
	}
	return p;
}

static json_t *rnd_port(void)
{
	static const char *const protos[] = { "TCP", "UDP", "SCTP" };

	switch (rnd(4)) {
	case 0:
		return json_pack("{s:i}", "port", rnd(2) ? 80 : 53);
	case 1:
		return json_pack("{s:i, s:s}", "port", rnd(2) ? 8080 : 53, "protocol",
				 protos[rnd(3)]);
	case 2:
		return json_pack("{s:s, s:s}", "port", rnd(2) ? "web" : "dns", "protocol",
				 protos[rnd(2)]);
	default:
		return json_pack("{s:i, s:i}", "port", 50, "endPort", 50 + rnd(40));
	}
}

static json_t *rnd_policy(int slot)
{
	static const char *const dirs[] = { "ingress", "egress" };
	json_t *spec = json_object();
	char name[16];

	snprintf(name, sizeof(name), "np%d", slot);
	json_object_set_new(spec, "podSelector", rnd_selector(false));
	for (int d = 0; d < 2; d++) {
		json_t *rules;
		int n = (int)rnd(4) - 1;

		if (n < 0)
			continue;
		rules = json_array();
		for (int r = 0; r < n; r++) {
			json_t *rule = json_object(), *peers = json_array(), *ports = json_array();
			int np = (int)rnd(3), npo = (int)rnd(3);

			for (int k = 0; k < np; k++)
				json_array_append_new(peers, rnd_peer());
			for (int k = 0; k < npo; k++)
				json_array_append_new(ports, rnd_port());
			json_object_set_new(rule, d ? "to" : "from", peers);
			json_object_set_new(rule, "ports", ports);
			json_array_append_new(rules, rule);
		}
		json_object_set_new(spec, dirs[d], rules);
	}
	switch (rnd(4)) {
	case 0:
		json_object_set_new(spec, "policyTypes", json_pack("[s]", "Ingress"));
		break;
	case 1:
		json_object_set_new(spec, "policyTypes", json_pack("[s]", "Egress"));
		break;
	case 2:
		json_object_set_new(spec, "policyTypes", json_pack("[s, s]", "Ingress", "Egress"));
		break;
	}
	return json_pack("{s:s, s:{s:s, s:s}, s:o}", "kind", "NetworkPolicy", "metadata",
			 "namespace", nss[rnd(3)], "name", name, "spec", spec);
}

/* ---- output forms ---- */

static void add_str(json_t *a, const char *s)
{
	json_array_append_new(a, json_string(s));
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
		      json_string_value(*(json_t *const *)b));
}

static char *sorted_join(json_t *a)
{
	size_t n = json_array_size(a), len = 1;
	json_t **v = calloc(n + 1, sizeof(*v));
	char *out;

	for (size_t i = 0; i < n; i++) {
		v[i] = json_array_get(a, i);
		len += strlen(json_string_value(v[i])) + 1;
	}
	qsort(v, n, sizeof(*v), str_cmp);
	out = calloc(1, len);
	for (size_t i = 0; i < n; i++) {
		strcat(out, json_string_value(v[i]));
		strcat(out, "\n");
	}
	free(v);
	return out;
}

static const char *idk(struct pw_policy_db *db, uint32_t id)
{
	const char *k = pw_policy_db_identity_key(db, id);

	return k ? k : "?";
}

/* One endpoint: exact (numbers) or canonical (identity keys, no cookie numbers). */
static char *ep_form(struct pw_policy_db *db, const struct pw_endpoint_view *ep, bool exact)
{
	json_t *a = json_array();
	char buf[2048], *out;

	for (size_t i = 0; i < ep->nentries; i++) {
		const struct pw_policy_entry *e = &ep->entries[i];
		const struct pw_policy_key *k = &e->key, *pk = i ? &ep->entries[i - 1].key : NULL;
		size_t o;

		/* The datapath's lookups (and eval's binary search) need unique, sorted keys. */
		if (pk &&
		    (pk->identity > k->identity ||
		     (pk->identity == k->identity &&
		      (pk->dir > k->dir ||
		       (pk->dir == k->dir && (pk->proto > k->proto ||
					      (pk->proto == k->proto && pk->dport >= k->dport)))))))
			add_str(a, "UNSORTED");

		if (exact)
			o = (size_t)snprintf(buf, sizeof(buf), "%u", e->key.identity);
		else
			o = (size_t)snprintf(buf, sizeof(buf), "%s", idk(db, e->key.identity));
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "|%u|%u|%u|%u|", e->key.dir,
				      e->key.proto, e->key.dport, e->val.flags);
		for (unsigned r = 0; r < e->val.nranges; r++) {
			struct pw_cookie_info ci;
			const struct pw_port_range *pr = &e->val.r[r];

			if (exact)
				o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%u-%u:%u:%u,",
						      pr->lo, pr->hi, pr->action, pr->cookie);
			else
				o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%u-%u:%u:%s,",
						      pr->lo, pr->hi, pr->action,
						      pw_policy_db_cookie(db, pr->cookie, &ci) ?
							      "BAD" :
						      strcmp(ci.ns, ep->ns) ? "OTHERNS" :
									      "ok");
			if (o >= sizeof(buf))
				break;
		}
		add_str(a, buf);
	}
	snprintf(buf, sizeof(buf), "%s/%s id=%s\n", ep->ns, ep->name,
		 exact ? "" : idk(db, ep->identity));
	out = sorted_join(a);
	json_decref(a);
	{
		char *full = malloc(strlen(buf) + strlen(out) + 1);

		strcpy(full, buf);
		strcat(full, out);
		free(out);
		out = full;
	}
	return out;
}

static void host_form(struct pw_policy_db *db, const struct pw_ipcache_host_entry *h, bool exact,
		      char *buf, size_t len)
{
	struct pw_addr a = { .family = h->key.family };
	char ip[64];

	memcpy(a.addr, h->key.addr, 16);
	pw_addr_format(&a, ip, sizeof(ip));
	if (exact)
		snprintf(buf, len, "%s %u %u", ip, h->val.identity, h->val.cidr_identity);
	else
		snprintf(buf, len, "%s %s %s", ip, idk(db, h->val.identity),
			 h->val.cidr_identity ? idk(db, h->val.cidr_identity) : "-");
}

static void lpm_form(struct pw_policy_db *db, const struct pw_ipcache_lpm_entry *l, bool exact,
		     char *buf, size_t len)
{
	struct pw_addr a = { .family = l->key.family };
	char ip[64];

	memcpy(a.addr, l->key.addr, 16);
	pw_addr_format(&a, ip, sizeof(ip));
	if (exact)
		snprintf(buf, len, "%s/%u %u %u", ip, l->key.prefixlen - PW_LPM_PREFIX_BASE,
			 l->val.identity, l->val.cidr_identity);
	else
		snprintf(buf, len, "%s/%u %s %s", ip, l->key.prefixlen - PW_LPM_PREFIX_BASE,
			 idk(db, l->val.identity), idk(db, l->val.cidr_identity));
}

/* The whole output as one string; mirror-comparable (exact) or history-free (canonical). */
static char *db_form(struct pw_policy_db *db, bool exact)
{
	struct pw_endpoint_view *eps;
	struct pw_ipcache_host_entry *h;
	struct pw_ipcache_lpm_entry *l;
	json_t *a = json_array();
	size_t n;
	char buf[256], *out;

	n = pw_policy_db_endpoints(db, &eps);
	for (size_t i = 0; i < n; i++) {
		char *s = ep_form(db, &eps[i], exact);

		add_str(a, s);
		free(s);
	}
	n = pw_policy_db_host_entries(db, &h);
	for (size_t i = 0; i < n; i++) {
		host_form(db, &h[i], exact, buf, sizeof(buf));
		add_str(a, buf);
	}
	n = pw_policy_db_lpm_entries(db, &l);
	for (size_t i = 0; i < n; i++) {
		lpm_form(db, &l[i], exact, buf, sizeof(buf));
		add_str(a, buf);
	}
	out = sorted_join(a);
	json_decref(a);
	return out;
}

/* The mirror: what a loader would hold after applying every delta. */
struct mirror {
	json_t *eps, *host, *lpm; /* key -> exact string */
};

static void mirror_apply(struct mirror *m, struct pw_policy_db *db, const struct pw_policy_delta *d)
{
	char buf[256], key[256];

	for (size_t i = 0; i < d->n_ep_removed; i++)
		json_object_del(m->eps, d->ep_removed[i]);
	for (size_t i = 0; i < d->n_ep_changed; i++) {
		char nsb[128], *slash;
		const struct pw_endpoint_view *ep;

		snprintf(nsb, sizeof(nsb), "%s", d->ep_changed[i]);
		slash = strchr(nsb, '/');
		*slash = 0;
		ep = pw_policy_db_endpoint(db, nsb, slash + 1);
		if (ep) {
			char *s = ep_form(db, ep, true);

			json_object_set_new(m->eps, d->ep_changed[i], json_string(s));
			free(s);
		}
	}
	for (size_t i = 0; i < d->n_host_delete; i++) {
		struct pw_ipcache_host_entry h = { .key = d->host_delete[i] };

		host_form(db, &h, true, buf, sizeof(buf));
		*strchr(buf, ' ') = 0;
		json_object_del(m->host, buf);
	}
	for (size_t i = 0; i < d->n_host_upsert; i++) {
		host_form(db, &d->host_upsert[i], true, buf, sizeof(buf));
		snprintf(key, sizeof(key), "%s", buf);
		*strchr(key, ' ') = 0;
		json_object_set_new(m->host, key, json_string(buf));
	}
	for (size_t i = 0; i < d->n_lpm_delete; i++) {
		struct pw_ipcache_lpm_entry l = { .key = d->lpm_delete[i] };

		lpm_form(db, &l, true, buf, sizeof(buf));
		*strchr(buf, ' ') = 0;
		json_object_del(m->lpm, buf);
	}
	for (size_t i = 0; i < d->n_lpm_upsert; i++) {
		lpm_form(db, &d->lpm_upsert[i], true, buf, sizeof(buf));
		snprintf(key, sizeof(key), "%s", buf);
		*strchr(key, ' ') = 0;
		json_object_set_new(m->lpm, key, json_string(buf));
	}
}

static char *mirror_form(struct mirror *m)
{
	json_t *a = json_array(), *v;
	const char *k;
	char *out;

	json_object_foreach (m->eps, k, v)
		add_str(a, json_string_value(v));
	json_object_foreach (m->host, k, v)
		add_str(a, json_string_value(v));
	json_object_foreach (m->lpm, k, v)
		add_str(a, json_string_value(v));
	out = sorted_join(a);
	json_decref(a);
	return out;
}

static bool same(const char *a, const char *b, const char *what, int seq, int step)
{
	if (!strcmp(a, b))
		return true;
	pw_test_diag("seq %d step %d: %s differs\n--- got\n%s--- want\n%s", seq, step, what, a, b);
	return false;
}

static void run_sequence(int seq, int steps, int *failures, size_t *work_incr, size_t *work_full)
{
	json_t *pods[NPODS] = { 0 }, *pols[NPOLS] = { 0 }, *nsobj[3];
	struct pw_policy_db *db = NULL;
	struct mirror m = { json_object(), json_object(), json_object() };
	char err[PW_ERRMSG_MAX];
	bool failed = false;

	rng_state = 0x9e3779b97f4a7c15ULL * (uint64_t)(seq + 1);
	pw_policy_db_new(&db);
	for (int i = 0; i < 3; i++) {
		nsobj[i] = rnd_ns(i);
		pw_policy_db_upsert(db, nsobj[i], err);
	}
	for (int step = 0; step < steps && !failed; step++) {
		struct pw_policy_db *full = NULL;
		struct pw_policy_delta d;
		uint32_t epoch = pw_policy_db_epoch(db);
		int nops = 1 + (int)rnd(step == 0 ? 20 : 3);
		char *a, *b;

		for (int op = 0; op < nops; op++) {
			int k;

			switch (rnd(6)) {
			case 0:
			case 1:
				k = (int)rnd(NPODS);
				if (pods[k]) /* a pod may move namespace: delete the old one */
					pw_policy_db_delete_pod(
						db,
						json_string_value(json_object_get(
							json_object_get(pods[k], "metadata"),
							"namespace")),
						json_string_value(json_object_get(
							json_object_get(pods[k], "metadata"),
							"name")));
				json_decref(pods[k]);
				pods[k] = rnd_pod(k);
				pw_policy_db_upsert(db, pods[k], err);
				break;
			case 2:
				k = (int)rnd(NPODS);
				if (!pods[k])
					break;
				pw_policy_db_delete_pod(
					db,
					json_string_value(json_object_get(
						json_object_get(pods[k], "metadata"), "namespace")),
					json_string_value(json_object_get(
						json_object_get(pods[k], "metadata"), "name")));
				json_decref(pods[k]);
				pods[k] = NULL;
				break;
			case 3:
				k = (int)rnd(3);
				json_decref(nsobj[k]);
				nsobj[k] = rnd_ns(k);
				pw_policy_db_upsert(db, nsobj[k], err);
				break;
			case 4:
				k = (int)rnd(NPOLS);
				if (pols[k]) /* a policy may move namespace: delete the old one */
					pw_policy_db_delete_policy(
						db,
						json_string_value(json_object_get(
							json_object_get(pols[k], "metadata"),
							"namespace")),
						json_string_value(json_object_get(
							json_object_get(pols[k], "metadata"),
							"name")));
				json_decref(pols[k]);
				pols[k] = rnd_policy(k);
				if (pw_policy_db_upsert(db, pols[k], err)) {
					pw_test_diag("generated policy rejected: %s", err);
					failed = true;
				}
				break;
			default:
				k = (int)rnd(NPOLS);
				if (!pols[k])
					break;
				pw_policy_db_delete_policy(
					db,
					json_string_value(json_object_get(
						json_object_get(pols[k], "metadata"), "namespace")),
					json_string_value(json_object_get(
						json_object_get(pols[k], "metadata"), "name")));
				json_decref(pols[k]);
				pols[k] = NULL;
			}
		}
		if (!ASSERT_OK(pw_policy_db_compile(db, &d), "incremental compile"))
			break;
		*work_incr += d.n_ep_recomputed;
		mirror_apply(&m, db, &d);
		if (!ASSERT_EQ(pw_policy_db_epoch(db) != epoch, d.changed,
			       "epoch moves iff changed"))
			failed = true;
		pw_policy_delta_free(&d);
		/* delta completeness */
		a = mirror_form(&m);
		b = db_form(db, true);
		if (!same(a, b, "delta-applied mirror vs db", seq, step))
			failed = true;
		free(a);
		free(b);
		/* incremental == full */
		pw_policy_db_new(&full);
		for (int i = 0; i < 3; i++)
			pw_policy_db_upsert(full, nsobj[i], err);
		for (int i = 0; i < NPODS; i++)
			if (pods[i])
				pw_policy_db_upsert(full, pods[i], err);
		for (int i = 0; i < NPOLS; i++)
			if (pols[i])
				pw_policy_db_upsert(full, pols[i], err);
		pw_policy_db_compile(full, &d);
		*work_full += d.n_ep_recomputed;
		pw_policy_delta_free(&d);
		a = db_form(db, false);
		b = db_form(full, false);
		if (!same(a, b, "incremental vs full", seq, step))
			failed = true;
		free(a);
		free(b);
		pw_policy_db_free(&full);
	}
	if (failed)
		(*failures)++;
	for (int i = 0; i < NPODS; i++)
		json_decref(pods[i]);
	for (int i = 0; i < NPOLS; i++)
		json_decref(pols[i]);
	for (int i = 0; i < 3; i++)
		json_decref(nsobj[i]);
	json_decref(m.eps);
	json_decref(m.host);
	json_decref(m.lpm);
	pw_policy_db_free(&db);
}

static void test_random_sequences(void)
{
	size_t incr = 0, full = 0;
	int failures = 0;

	for (int seq = 0; seq < 300 && failures < 3; seq++)
		run_sequence(seq, 25, &failures, &incr, &full);
	ASSERT_EQ(failures, 0, "sequences with a difference");
	pw_test_diag("endpoint recomputations: incremental %zu, full %zu", incr, full);
	ASSERT_TRUE(incr < full, "incremental does less work than full compiles");
}

static const struct pw_test tests[] = {
	{ "incremental == full on random change sequences", test_random_sequences },
};

PW_TEST_MAIN(tests)
