// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy compiler benchmark: generated clusters with realistic label mixes
 * (apps of a few replicas, tiers, teams, named ports, namespace-scoped
 * default-deny, app-to-app, cross-namespace, ipBlock and egress policies).
 * Prints full compile time, peak RSS, and the latency of one incremental
 * pod-label change and one policy change. Each size runs in its own child
 * process so that peak RSS is per size.
 *
 *   policy-bench [PODS POLICIES]...   (default: 1000 100 10000 1000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "policy.h"

static uint64_t rs = 88172645463325252ULL;

static uint32_t rnd(uint32_t n)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)(rs % n);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const char *const tiers[] = { "web", "api", "db", "cache", "worker" };

static json_t *gen_pod(int i, int nns, int napps, const char *app_override)
{
	char name[32], ns[16], app[16], ip[32], ip6[48];
	int a = app_override ? 0 : (int)rnd((uint32_t)napps);

	snprintf(name, sizeof(name), "pod-%d", i);
	/* apps live in one namespace each: app k in namespace k % nns */
	snprintf(app, sizeof(app), "app-%d", a);
	snprintf(ns, sizeof(ns), "ns-%d", a % nns);
	snprintf(ip, sizeof(ip), "10.%d.%d.%d", 1 + (i >> 16), (i >> 8) & 255, i & 255);
	snprintf(ip6, sizeof(ip6), "fd00::%x", i + 1);
	return json_pack("{s:s, s:{s:s, s:s, s:{s:s, s:s, s:s, s:s}}, s:{s:[{s:s, s:[{s:s, s:i}, "
			 "{s:s, s:i}]}]}, s:{s:[{s:s},{s:s}]}}",
			 "kind", "Pod", "metadata", "name", name, "namespace", ns, "labels", "app",
			 app_override ? app_override : app, "tier", tiers[a % 5], "version",
			 (a % 3) ? "v1" : "v2", "pod-template-hash", "5d8f7b9c6", "spec",
			 "containers", "name", "main", "ports", "name", "http", "containerPort",
			 (a % 2) ? 8080 : 80, "name", "metrics", "containerPort", 9090, "status",
			 "podIPs", "ip", ip, "ip", ip6);
}

static json_t *gen_ns(int k)
{
	char name[16], team[16];

	snprintf(name, sizeof(name), "ns-%d", k);
	snprintf(team, sizeof(team), "team-%d", k % 10);
	return json_pack("{s:s, s:{s:s, s:{s:s, s:s}}}", "kind", "Namespace", "metadata", "name",
			 name, "labels", "team", team, "env", (k % 4) ? "prod" : "staging");
}

static json_t *gen_policy(int i, int nns, int napps, int port_variant)
{
	char name[32], ns[16], app[16], peer[16], team[16], cidr[32];
	int a = (int)rnd((uint32_t)napps), kind = i % 10;
	json_t *spec;

	snprintf(name, sizeof(name), "np-%d", i);
	snprintf(app, sizeof(app), "app-%d", a);
	snprintf(ns, sizeof(ns), "ns-%d", a % nns);
	/* a peer app of the same namespace */
	snprintf(peer, sizeof(peer), "app-%d", (a + nns * (1 + (int)rnd(5))) % napps);
	snprintf(team, sizeof(team), "team-%u", rnd(10));
	if (kind == 0) {
		/* namespace default deny */
		spec = json_pack("{s:{}, s:[s, s]}", "podSelector", "policyTypes", "Ingress",
				 "Egress");
	} else if (kind <= 5) {
		/* app-to-app on the named port, plus metrics from the monitoring team */
		spec = json_pack("{s:{s:{s:s}}, s:[{s:[{s:{s:{s:s}}}], s:[{s:s}]}, "
				 "{s:[{s:{s:{s:s}}, s:{s:{s:s}}}], s:[{s:i}]}]}",
				 "podSelector", "matchLabels", "app", app, "ingress", "from",
				 "podSelector", "matchLabels", "app", peer, "ports", "port", "http",
				 "from", "namespaceSelector", "matchLabels", "team", "team-0",
				 "podSelector", "matchLabels", "tier", "worker", "ports", "port",
				 9090 + port_variant);
	} else if (kind <= 7) {
		/* cross-namespace by team, a port range */
		spec = json_pack(
			"{s:{s:[{s:s, s:s, s:[s, s]}]}, s:[{s:[{s:{s:{s:s}}, s:{s:{s:s}}}], "
			"s:[{s:i, s:i}, {s:i, s:s}]}]}",
			"podSelector", "matchExpressions", "key", "tier", "operator", "In",
			"values", "api", "web", "ingress", "from", "namespaceSelector",
			"matchLabels", "team", team, "podSelector", "matchLabels", "tier", "web",
			"ports", "port", 8000 + port_variant, "endPort", 8100, "port", 53,
			"protocol", "UDP");
	} else if (kind == 8) {
		/* egress to the outside world except the cluster, and DNS */
		snprintf(cidr, sizeof(cidr), "10.%u.0.0/16", 1 + rnd(4));
		spec = json_pack("{s:{s:{s:s}}, s:[s], s:[{s:[{s:{s:s, s:[s]}}], s:[{s:i}]}, "
				 "{s:[{s:{}, s:{s:{s:s}}}], s:[{s:i, s:s}]}]}",
				 "podSelector", "matchLabels", "app", app, "policyTypes", "Egress",
				 "egress", "to", "ipBlock", "cidr", "0.0.0.0/0", "except",
				 "10.0.0.0/8", "ports", "port", 443 + port_variant, "to",
				 "namespaceSelector", "podSelector", "matchLabels", "app", "app-0",
				 "ports", "port", 53, "protocol", "UDP");
		(void)cidr;
	} else {
		/* ingress from an ipBlock of another node's pod range, except a /24 */
		snprintf(cidr, sizeof(cidr), "10.1.%u.0/24", rnd(40));
		spec = json_pack("{s:{s:{s:s}}, s:[{s:[{s:{s:s, s:[s]}}], s:[{s:i}]}]}",
				 "podSelector", "matchLabels", "tier", tiers[rnd(5)], "ingress",
				 "from", "ipBlock", "cidr", "10.1.0.0/16", "except", cidr, "ports",
				 "port", 8443 + port_variant);
	}
	return json_pack("{s:s, s:{s:s, s:s}, s:o}", "kind", "NetworkPolicy", "metadata", "name",
			 name, "namespace", ns, "spec", spec);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int run(int npods, int npols)
{
	int nns = npods / 100 < 5 ? 5 : npods / 100, napps = npods / 4;
	struct pw_policy_db *db = NULL;
	struct pw_policy_delta d;
	json_t **pods = calloc((size_t)npods, sizeof(*pods));
	json_t **pols = calloc((size_t)npols, sizeof(*pols));
	char err[PW_ERRMSG_MAX];
	double t0, t1, t2, lat_pod[21], lat_pol[21];
	size_t eps_changed_pod = 0, eps_changed_pol = 0, recomputed_pod = 0, recomputed_pol = 0;
	struct pw_endpoint_view *eps;
	struct rusage ru;
	size_t neps, nentries = 0;

	if (pw_policy_db_new(&db))
		return 1;
	for (int i = 0; i < npods; i++)
		pods[i] = gen_pod(i, nns, napps, NULL);
	for (int i = 0; i < npols; i++)
		pols[i] = gen_policy(i, nns, napps, 0);
	t0 = now_ms();
	for (int k = 0; k < nns; k++) {
		json_t *n = gen_ns(k);

		pw_policy_db_upsert(db, n, err);
		json_decref(n);
	}
	for (int i = 0; i < npods; i++)
		if (pw_policy_db_upsert(db, pods[i], err))
			fprintf(stderr, "pod rejected: %s\n", err);
	for (int i = 0; i < npols; i++)
		if (pw_policy_db_upsert(db, pols[i], err))
			fprintf(stderr, "policy rejected: %s\n", err);
	t1 = now_ms();
	if (pw_policy_db_compile(db, &d))
		return 1;
	t2 = now_ms();
	pw_policy_delta_free(&d);
	neps = pw_policy_db_endpoints(db, &eps);
	for (size_t i = 0; i < neps; i++)
		nentries += eps[i].nentries;
	/* Incremental: one pod's label change, one policy's port change. */
	for (int r = 0; r < 21; r++) {
		int i = (int)rnd((uint32_t)npods);
		char app[16];
		json_t *p;
		double a;

		snprintf(app, sizeof(app), "app-%u", rnd((uint32_t)napps));
		p = json_deep_copy(pods[i]);
		json_object_set_new(json_object_get(json_object_get(p, "metadata"), "labels"),
				    "app", json_string(app));
		a = now_ms();
		pw_policy_db_upsert(db, p, err);
		pw_policy_db_compile(db, &d);
		lat_pod[r] = now_ms() - a;
		eps_changed_pod += d.n_ep_changed;
		recomputed_pod += d.n_ep_recomputed;
		pw_policy_delta_free(&d);
		json_decref(p);
	}
	for (int r = 0; r < 21; r++) {
		int i = (int)rnd((uint32_t)npols);
		json_t *p;
		double a;

		/* same name and namespace (same seed position), different ports */
		p = json_deep_copy(pols[i]);
		json_object_set_new(json_object_get(p, "spec"), "ingress",
				    json_pack("[{s:[{s:i}]}]", "ports", "port", 7000 + r));
		a = now_ms();
		pw_policy_db_upsert(db, p, err);
		pw_policy_db_compile(db, &d);
		lat_pol[r] = now_ms() - a;
		eps_changed_pol += d.n_ep_changed;
		recomputed_pol += d.n_ep_recomputed;
		pw_policy_delta_free(&d);
		json_decref(p);
	}
	qsort(lat_pod, 21, sizeof(double), cmp_d);
	qsort(lat_pol, 21, sizeof(double), cmp_d);
	getrusage(RUSAGE_SELF, &ru);
	printf("%5d pods x %4d policies (%d namespaces): %zu endpoints, %zu identities, "
	       "%zu policy entries\n",
	       npods, npols, nns, neps, pw_policy_db_identity_count(db), nentries);
	printf("  load (parse+upsert) %8.1f ms\n  full compile        %8.1f ms\n", t1 - t0,
	       t2 - t1);
	printf("  peak RSS            %8.1f MB (whole process, incl. generated JSON)\n",
	       (double)ru.ru_maxrss / 1024.0);
	printf("  pod label change    median %.3f ms, max %.3f ms (avg %.1f endpoints changed, "
	       "%.1f recomputed)\n",
	       lat_pod[10], lat_pod[20], (double)eps_changed_pod / 21, (double)recomputed_pod / 21);
	printf("  policy change       median %.3f ms, max %.3f ms (avg %.1f endpoints changed, "
	       "%.1f recomputed)\n",
	       lat_pol[10], lat_pol[20], (double)eps_changed_pol / 21, (double)recomputed_pol / 21);
	for (int i = 0; i < npods; i++)
		json_decref(pods[i]);
	for (int i = 0; i < npols; i++)
		json_decref(pols[i]);
	free(pods);
	free(pols);
	pw_policy_db_free(&db);
	return 0;
}

int main(int argc, char **argv)
{
	static const int defaults[] = { 1000, 100, 10000, 1000 };
	int n = argc > 1 ? argc - 1 : 4, status, ret = 0;

	if (n % 2) {
		fprintf(stderr, "usage: %s [PODS POLICIES]...\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < n; i += 2) {
		int pods = argc > 1 ? atoi(argv[1 + i]) : defaults[i];
		int pols = argc > 1 ? atoi(argv[2 + i]) : defaults[i + 1];
		pid_t pid = fork();

		if (pid == 0)
			_exit(run(pods, pols));
		if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			ret = 1;
	}
	return ret;
}
