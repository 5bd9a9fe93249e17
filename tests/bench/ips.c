// SPDX-License-Identifier: GPL-2.0-only
/*
 * Inspection throughput: podwall's inspector (flows, reassembly, app parsers,
 * nDPI, signatures) over the nDPI test captures, with 0, 1k and 10k ET Open
 * rules, against ndpiReader (nDPI's own reader, detection only) on the same
 * captures in the same run. See README.md ("IPS").
 *
 * Both read the pcap files from the page cache. ndpiReader gets them as one
 * playlist and reports its own packet processing time (its setup excluded);
 * ours is timed around the packet loop (rule compilation excluded). Figures
 * are medians of -r rounds; memory per flow is the heap the inspector holds
 * at the end of a capture, over the flows it tracks.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "inspect.h"
#include "sig.h"

#define MAX_PCAPS 256

static char *pcaps[MAX_PCAPS];
static int npcaps;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int cmp_s(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_pcaps(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return -errno;
	while ((e = readdir(d)) && npcaps < MAX_PCAPS) {
		size_t l = strlen(e->d_name);

		if ((l > 5 && !strcmp(e->d_name + l - 5, ".pcap")) ||
		    (l > 7 && !strcmp(e->d_name + l - 7, ".pcapng")))
			if (asprintf(&pcaps[npcaps], "%s/%s", dir, e->d_name) > 0)
				npcaps++;
	}
	closedir(d);
	qsort(pcaps, npcaps, sizeof(pcaps[0]), cmp_s);
	return npcaps;
}

/* The first n active rules of path that load (n 0: none). Returns how many loaded. */
static struct pw_sig_set *load_rules(const char *path, int n, const char *classif, int *loaded)
{
	struct pw_sig_set *s = NULL;
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0;
	FILE *f;

	*loaded = 0;
	if (pw_sig_set_new(&s))
		return NULL;
	if (classif)
		pw_sig_load_classification(s, classif);
	f = n ? fopen(path, "r") : NULL;
	while (f && *loaded < n && getline(&line, &cap, f) > 0) {
		lineno++;
		if (strncmp(line, "alert ", 6) && strncmp(line, "drop ", 5))
			continue;
		if (pw_sig_add_rule(s, line, path, lineno) == 1)
			(*loaded)++;
	}
	free(line);
	if (f)
		fclose(f);
	if (pw_sig_compile(s)) {
		pw_sig_set_free(&s);
		return NULL;
	}
	return s;
}

struct run {
	double secs;
	uint64_t bytes, packets, flows, alerts;
	double heap_per_flow;
};

/*
 * One pass of one inspector over every capture, as ndpiReader's playlist:
 * the inspector's setup (nDPI module, flow table) is outside the timing,
 * like ndpiReader's "Setup Time".
 */
static int run_ours(struct pw_sig_set *s, struct run *r)
{
	struct pw_inspect_opts o = { .ndpi = true };
	struct pw_inspect_stats st;
	struct pw_inspector *x = NULL;
	char eb[PCAP_ERRBUF_SIZE];
	struct mallinfo2 m0, m1;
	double t0;

	memset(r, 0, sizeof(*r));
	if (pw_inspector_new(&x, s, &o, &st))
		return -1;
	m0 = mallinfo2();
	t0 = now_s();
	for (int i = 0; i < npcaps; i++) {
		struct pcap_pkthdr *h;
		const u_char *d;
		pcap_t *pc = pcap_open_offline(pcaps[i], eb);
		int dlt;

		if (!pc) {
			fprintf(stderr, "%s: %s\n", pcaps[i], eb);
			pw_inspector_free(&x);
			return -1;
		}
		dlt = pcap_datalink(pc);
		while (pcap_next_ex(pc, &h, &d) == 1)
			pw_inspector_packet(x, dlt, d, h->caplen,
					    (uint64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec);
		pcap_close(pc);
	}
	m1 = mallinfo2();
	r->bytes = st.bytes;
	r->packets = st.packets;
	r->flows = st.flows;
	/* The end flushes every flow's app state (alerts at close): part of the work. */
	pw_inspector_free(&x);
	r->secs = now_s() - t0;
	r->alerts = st.alerts;
	r->heap_per_flow = r->flows ? (double)(m1.uordblks - m0.uordblks) / r->flows : 0;
	return 0;
}

/* ndpiReader over the same captures as one playlist; its processing time and flows. */
static int run_ndpi(const char *playlist, struct run *r)
{
	char cmd[512], line[512];
	FILE *p;
	double ms = -1;

	memset(r, 0, sizeof(*r));
	snprintf(cmd, sizeof(cmd), "ndpiReader -i %s 2>&1", playlist);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		unsigned long long v;
		double f;

		if (sscanf(line, " Packet Processing Time: %lf msec", &f) == 1)
			ms = f;
		else if (sscanf(line, " Ethernet bytes: %llu", &v) == 1)
			r->bytes = v;
		else if (sscanf(line, " IP packets: %llu", &v) == 1)
			r->packets = v;
		else if (sscanf(line, " Unique flows: %llu", &v) == 1)
			r->flows = v;
	}
	if (pclose(p) != 0 || ms < 0)
		return -1;
	r->secs = ms / 1000.0;
	return 0;
}

static void usage(void)
{
	printf("Usage: bench_ips [-d PCAP_DIR] [-R RULES] [-r ROUNDS] [-j]\n"
	       "Inspector throughput (0, 1k, 10k ET Open rules) against ndpiReader.\n");
}

int main(int argc, char **argv)
{
	const char *dir = "../shared/testdata/ndpi/pcap";
	const char *rules = "../shared/testdata/rules/emerging-all.rules";
	const char *classif = "../shared/testdata/rules/classification.config";
	static const int nrules[] = { 0, 1000, 10000 };
	struct run nd = { 0 }, ours[3] = { 0 };
	double nd_t[64], our_t[3][64], heap[3] = { 0 };
	int rounds = 5, json = 0, c, loaded[3] = { 0 };
	char playlist[] = "/tmp/pw-bench-ips-XXXXXX";
	struct pw_sig_set *sets[3] = { 0 };
	FILE *pl;
	int fd;

	while ((c = getopt(argc, argv, "d:R:r:jh")) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'R':
			rules = optarg;
			break;
		case 'r':
			rounds = atoi(optarg);
			if (rounds < 1 || rounds > 64)
				rounds = 5;
			break;
		case 'j':
			json = 1;
			break;
		default:
			usage();
			return c == 'h' ? 0 : 2;
		}
	}
	if (list_pcaps(dir) <= 0) {
		printf("bench_ips: no captures in %s (the shared test data): skipped\n", dir);
		return 77;
	}
	if (access(rules, R_OK)) {
		printf("bench_ips: %s missing: skipped\n", rules);
		return 77;
	}
	if (system("command -v ndpiReader >/dev/null 2>&1")) {
		printf("bench_ips: ndpiReader not installed (Debian libndpi-bin): skipped\n");
		return 77;
	}
	fd = mkstemp(playlist);
	pl = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!pl)
		return 1;
	for (int i = 0; i < npcaps; i++)
		fprintf(pl, "%s\n", pcaps[i]);
	fclose(pl);
	for (int k = 0; k < 3; k++) {
		double t0 = now_s();

		sets[k] = load_rules(rules, nrules[k], classif, &loaded[k]);
		if (!sets[k]) {
			fprintf(stderr, "bench_ips: rules failed to compile\n");
			return 1;
		}
		if (!json)
			printf("# %d rules loaded and compiled in %.2f s\n", loaded[k], now_s() - t0);
	}
	/* Rounds interleave the peers, so drift in the machine's load hits all alike. */
	for (int r = 0; r < rounds; r++) {
		if (run_ndpi(playlist, &nd)) {
			fprintf(stderr, "bench_ips: ndpiReader failed\n");
			unlink(playlist);
			return 1;
		}
		nd_t[r] = nd.secs;
		for (int k = 0; k < 3; k++) {
			if (run_ours(sets[k], &ours[k]))
				return 1;
			our_t[k][r] = ours[k].secs;
			heap[k] = ours[k].heap_per_flow;
		}
	}
	unlink(playlist);
	{
		double tn = median(nd_t, rounds), mb = nd.bytes / 1e6;
		double to[3];

		for (int k = 0; k < 3; k++)
			to[k] = median(our_t[k], rounds);
		if (json) {
			printf("{\"pcaps\": %d, \"rounds\": %d, \"ndpiReader\": {\"secs\": %.6f, "
			       "\"mb_per_s\": %.2f, \"flows_per_s\": %.0f, \"bytes\": %llu, "
			       "\"flows\": %llu}, \"podwall\": [",
			       npcaps, rounds, tn, mb / tn, nd.flows / tn,
			       (unsigned long long)nd.bytes, (unsigned long long)nd.flows);
			for (int k = 0; k < 3; k++)
				printf("%s{\"rules\": %d, \"secs\": %.6f, \"mb_per_s\": %.2f, "
				       "\"flows_per_s\": %.0f, \"alerts\": %llu, "
				       "\"heap_bytes_per_flow\": %.0f, \"ratio_vs_ndpiReader\": %.2f}",
				       k ? ", " : "", loaded[k], to[k], ours[k].bytes / 1e6 / to[k],
				       ours[k].flows / to[k], (unsigned long long)ours[k].alerts,
				       heap[k], tn / to[k]);
			printf("]}\n");
		} else {
			printf("%d captures, %.2f MB, %llu packets; medians of %d rounds\n", npcaps,
			       mb, (unsigned long long)nd.packets, rounds);
			printf("%-34s %10s %10s %12s %8s %12s %s\n", "", "ms", "MB/s", "flows/s",
			       "alerts", "heap/flow", "speed vs ndpiReader");
			printf("%-34s %10.2f %10.1f %12.0f %8s %12s %s\n",
			       "ndpiReader (nDPI detection only)", tn * 1e3, mb / tn, nd.flows / tn,
			       "-", "-", "1.00");
			for (int k = 0; k < 3; k++) {
				char name[64];

				snprintf(name, sizeof(name), "podwall, nDPI + %d rules", loaded[k]);
				printf("%-34s %10.2f %10.1f %12.0f %8llu %10.0f B %.2f\n", name,
				       to[k] * 1e3, ours[k].bytes / 1e6 / to[k], ours[k].flows / to[k],
				       (unsigned long long)ours[k].alerts, heap[k], tn / to[k]);
			}
			printf("target: with 1k rules at least as fast as ndpiReader (ratio >= 1): %s\n",
			       tn / to[1] >= 1 ? "met" : "not met");
		}
	}
	for (int k = 0; k < 3; k++)
		pw_sig_set_free(&sets[k]);
	for (int i = 0; i < npcaps; i++)
		free(pcaps[i]);
	return 0;
}
