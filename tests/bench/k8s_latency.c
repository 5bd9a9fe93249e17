// SPDX-License-Identifier: GPL-2.0-only
/*
 * Change-to-enforcement latency of podwalld's API source (run by k8s.sh).
 *
 *   bench_k8s_latency PIN_ROOT FIXTURE_CONTROL_URL POLICY_TEMPLATE N EP_ID...
 *
 * N times: the policy template with @PORT@ replaced by a port never used
 * before is POSTed to the API server fixture (which turns it into a MODIFIED
 * watch event), then the pinned pw_policy map is read (libbpf, the outer
 * HASH_OF_MAPS and each endpoint's inner map, as the datapath sees them)
 * until every listed endpoint's map holds a range allowing exactly that port.
 * The latency is from just before the POST to the moment the last endpoint
 * shows it. Prints one line per change ("i ms (POST answered after ms)"), then
 * "p50 X p99 Y max Z ms misses M".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <curl/curl.h>

#include "podwall/policy_kern_user.h"

#define TIMEOUT_MS 5000

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return NULL;
	n = getdelim(&buf, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The template with every @PORT@ replaced by port. */
static char *render(const char *tmpl, unsigned int port)
{
	char num[16], *out, *o;
	const char *p;
	size_t n = 0;

	snprintf(num, sizeof(num), "%u", port);
	for (p = tmpl; (p = strstr(p, "@PORT@")); p += 6)
		n++;
	out = malloc(strlen(tmpl) + n * strlen(num) + 1);
	if (!out)
		return NULL;
	for (o = out, p = tmpl; *p;) {
		if (!strncmp(p, "@PORT@", 6)) {
			o = stpcpy(o, num);
			p += 6;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

static size_t discard(char *p, size_t size, size_t nmemb, void *userp)
{
	(void)p;
	(void)userp;
	return size * nmemb;
}

/* Does endpoint ep's inner policy map allow exactly port (one range [port, port])? */
static int ep_has_port(int outer, __u32 ep, unsigned int port)
{
	struct pw_policy_key k, next, *prev = NULL;
	struct pw_policy_val v;
	__u32 inner_id;
	int fd, found = 0;

	if (bpf_map_lookup_elem(outer, &ep, &inner_id))
		return 0;
	fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0)
		return 0; /* swapped out and freed between the two calls: look again */
	while (!found && !bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue;
		for (unsigned int i = 0; i < v.nranges && i < PW_POLICY_RANGES; i++)
			if (v.r[i].lo == port && v.r[i].hi == port &&
			    v.r[i].action == PW_ACTION_ALLOW)
				found = 1;
	}
	close(fd);
	return found;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[n]. */
static double pct(const double *v, int n, double p)
{
	int r = (int)(p / 100.0 * n + 0.999999);

	return v[r < 1 ? 0 : r > n ? n - 1 : r - 1];
}

int main(int argc, char **argv)
{
	char path[512], url[512], *tmpl;
	int outer, n, nep, misses = 0, ok = 0;
	__u32 *eps;
	double *lat;
	CURL *e;

	if (argc < 6) {
		fprintf(stderr, "usage: %s PIN_ROOT CONTROL_URL TEMPLATE N EP_ID...\n", argv[0]);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/%s", argv[1], PW_MAP_POLICY);
	outer = bpf_obj_get(path);
	if (outer < 0) {
		fprintf(stderr, "bench_k8s_latency: %s: %s\n", path, strerror(errno));
		return 1;
	}
	tmpl = slurp(argv[3]);
	if (!tmpl) {
		fprintf(stderr, "bench_k8s_latency: %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	n = atoi(argv[4]);
	nep = argc - 5;
	eps = calloc((size_t)nep, sizeof(*eps));
	lat = calloc((size_t)(n > 0 ? n : 1), sizeof(*lat));
	if (!eps || !lat || n <= 0)
		return 1;
	for (int i = 0; i < nep; i++)
		eps[i] = (__u32)strtoul(argv[5 + i], NULL, 10);
	snprintf(url, sizeof(url), "%s/apply", argv[2]);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	e = curl_easy_init();
	if (!e)
		return 1;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	for (int i = 0; i < n; i++) {
		unsigned int port = 20000 + (unsigned int)i;
		char *body = render(tmpl, port);
		double t0, t, tpost;
		int left;
		long code = 0;

		if (!body)
			return 1;
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		t0 = now_ms();
		if (curl_easy_perform(e) != CURLE_OK ||
		    (curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code), code != 200)) {
			fprintf(stderr, "bench_k8s_latency: the fixture refused change %d\n", i);
			return 1;
		}
		free(body);
		tpost = now_ms() - t0;
		/* Poll every endpoint until all show the port; those done stay done. */
		char *done = calloc((size_t)nep, 1);

		left = nep;
		for (;;) {
			for (int j = 0; j < nep; j++)
				if (!done[j] && ep_has_port(outer, eps[j], port)) {
					done[j] = 1;
					left--;
				}
			t = now_ms();
			if (!left || t - t0 > TIMEOUT_MS)
				break;
			usleep(200);
		}
		free(done);
		if (left) {
			misses++;
			printf("%d timeout (%d of %d endpoints)\n", i, nep - left, nep);
			continue;
		}
		lat[ok++] = t - t0;
		printf("%d %.2f (POST answered after %.2f)\n", i, t - t0, tpost);
		fflush(stdout);
	}
	curl_easy_cleanup(e);
	if (!ok) {
		printf("p50 - p99 - max - ms misses %d\n", misses);
		return 1;
	}
	qsort(lat, (size_t)ok, sizeof(*lat), cmp_double);
	printf("p50 %.2f p99 %.2f max %.2f ms misses %d\n", pct(lat, ok, 50), pct(lat, ok, 99),
	       lat[ok - 1], misses);
	return 0;
}
