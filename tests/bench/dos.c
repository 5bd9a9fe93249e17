// SPDX-License-Identifier: GPL-2.0-only
/*
 * DoS guard benchmark: ns/packet of pw_node_xdp through BPF_PROG_TEST_RUN,
 * 64-byte UDP frames to an address that is not a local pod, for
 *
 *   floor        an XDP program that only returns XDP_DROP;
 *   bl-exact     a source on the exact blocklist (dropped);
 *   bl-prefix    a source inside a blocked prefix (dropped, LPM lookup);
 *   rl-drop      a source over its token bucket (dropped);
 *   rl-pass      a source within its bucket (passed, bucket updated);
 *   off-pass     the guards unconfigured (passed; the blocklist still looked up);
 *
 * each with a small (10 entries) and a large blocklist (100k exact entries,
 * 16k prefixes: the trie's capacity) on two datapaths under their own pin
 * roots, measured in interleaved rounds; every figure is the median of the
 * rounds. Not a pass/fail test: exits 0 whatever the ratios, 77 without
 * root, BTF or bpffs, 1 if the setup fails.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cleanup.h"
#include "datapath.h"
#include "dos.h"
#include "log.h"
#include "pkt.h"

#define XDP_DROP 1
#define XDP_PASS 2

enum { SMALL, LARGE, N_SIZES };
enum { F_BL_EXACT, F_BL_PREFIX, F_RL_DROP, F_RL_PASS, F_OFF_PASS, N_FIGS };

static const char *const fig_names[N_FIGS] = {"bl-exact", "bl-prefix", "rl-drop", "rl-pass",
					      "off-pass"};
static const size_t exact_n[N_SIZES] = {10, 100000};
static const size_t prefix_n[N_SIZES] = {10, PW_BLOCKLIST_LPM_MAX};

struct fig {
	double v[32];
	int n;
};

static struct pw_datapath *dps[N_SIZES];
static struct pw_dos *dos[N_SIZES];
static char pin_roots[N_SIZES][64];
static struct fig figs[N_SIZES][N_FIGS], floor_fig;
static int floor_fd = -1, rounds = 5;
static __u32 repeat = 1000000;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const struct fig *f)
{
	double s[32];

	if (!f->n)
		return 0;
	memcpy(s, f->v, f->n * sizeof(s[0]));
	qsort(s, f->n, sizeof(s[0]), cmp_double);
	return f->n % 2 ? s[f->n / 2] : (s[f->n / 2 - 1] + s[f->n / 2]) / 2;
}

static void die(int err, const char *what)
{
	if (err) {
		fprintf(stderr, "bench_dos: %s: %s\n", what, strerror(err < 0 ? -err : err));
		exit(1);
	}
}

static void unpin_all(void)
{
	int i;

	for (i = 0; i < N_SIZES; i++) {
		pw_dos_free(&dos[i]);
		pw_datapath_free(&dps[i]);
		if (pin_roots[i][0])
			pw_datapath_unpin(pin_roots[i]);
	}
}

/* One call of repeat runs; the kernel reports the mean ns. Checks the verdict. */
static double batch(int fd, const void *frame, size_t len, __u32 want, const char *what)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len, .repeat = repeat);

	die(bpf_prog_test_run_opts(fd, &o) ? -errno : 0, what);
	if (o.retval != want) {
		fprintf(stderr, "bench_dos: %s: verdict %u, expected %u\n", what, o.retval, want);
		exit(1);
	}
	return o.duration;
}

static size_t udp_frame(__u32 src_be, void *buf)
{
	char src[INET_ADDRSTRLEN];
	struct pw_pkt p = {.family = PW_AF_INET, .src = src, .dst = "10.200.0.1",
			   .proto = IPPROTO_UDP, .sport = 4000, .dport = 53, .min_len = 64};
	int len;

	inet_ntop(AF_INET, &src_be, src, sizeof(src));
	len = pw_pkt_build(&p, buf, 128);
	die(len < 0 ? len : 0, "frame");
	return len;
}

/* Exact entries at 20.0.0.0 + i; prefixes 30.x.y.0/24. The measured ones sit in the middle. */
static __u32 exact_addr(size_t i)
{
	return htonl(0x14000000U + i);
}

static __u32 prefix_addr(size_t i)
{
	return htonl(0x1e000000U + (i << 8));
}

static void fill(int s)
{
	_cleanup_close_ int hfd = -1, lfd = -1;
	struct pw_bl_val v = {.owner = PW_BL_OWNER_OPERATOR};
	char path[128];
	size_t i;

	snprintf(path, sizeof(path), "%s/%s", pin_roots[s], PW_MAP_BLOCKLIST);
	hfd = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/%s", pin_roots[s], PW_MAP_BLOCKLIST_LPM);
	lfd = bpf_obj_get(path);
	die(hfd < 0 || lfd < 0 ? -errno : 0, "blocklist maps");
	for (i = 0; i < exact_n[s]; i++) {
		struct pw_host_key k = {.family = PW_AF_INET};
		__u32 a = exact_addr(i);

		memcpy(k.addr, &a, 4);
		die(bpf_map_update_elem(hfd, &k, &v, BPF_ANY) ? -errno : 0, "exact entry");
	}
	for (i = 0; i < prefix_n[s]; i++) {
		struct pw_lpm_key k = {.family = PW_AF_INET,
				       .prefixlen = PW_LPM_PREFIX_BASE + 24};
		__u32 a = prefix_addr(i);

		memcpy(k.addr, &a, 4);
		die(bpf_map_update_elem(lfd, &k, &v, BPF_ANY) ? -errno : 0, "prefix entry");
	}
}

static void round_of(int s)
{
	struct pw_dos_cfg on = {.flags = PW_DOS_F_ENABLED,
				.def = {.pps = 1, .burst_pkts = 1}}; /* no auto-block */
	struct pw_dos_cfg fast = {.flags = PW_DOS_F_ENABLED, .def = {.pps = 4000000000ULL}};
	struct pw_dos_cfg off = {};
	int fd = pw_datapath_prog_fd(dps[s], PW_PROG_NODE_XDP);
	unsigned char buf[128];
	size_t len;

	die(pw_dos_cfg_write(dos[s], &off), "cfg");
	len = udp_frame(exact_addr(exact_n[s] / 2), buf);
	figs[s][F_BL_EXACT].v[figs[s][F_BL_EXACT].n++] = batch(fd, buf, len, XDP_DROP, "bl-exact");
	len = udp_frame(prefix_addr(prefix_n[s] / 2) | htonl(7), buf);
	figs[s][F_BL_PREFIX].v[figs[s][F_BL_PREFIX].n++] =
		batch(fd, buf, len, XDP_DROP, "bl-prefix");
	len = udp_frame(htonl(0x28000001U), buf); /* 40.0.0.1: on no list */
	figs[s][F_OFF_PASS].v[figs[s][F_OFF_PASS].n++] = batch(fd, buf, len, XDP_PASS, "off-pass");
	die(pw_dos_cfg_write(dos[s], &fast), "cfg");
	figs[s][F_RL_PASS].v[figs[s][F_RL_PASS].n++] = batch(fd, buf, len, XDP_PASS, "rl-pass");
	die(pw_dos_cfg_write(dos[s], &on), "cfg");
	len = udp_frame(htonl(0x28000002U), buf);
	{
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = len, .repeat = 2);

		bpf_prog_test_run_opts(fd, &o); /* empties the source's bucket */
	}
	figs[s][F_RL_DROP].v[figs[s][F_RL_DROP].n++] = batch(fd, buf, len, XDP_DROP, "rl-drop");
}

static int load_floor(void)
{
	const struct bpf_insn drop[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_DROP},
		{.code = BPF_JMP | BPF_EXIT},
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "pw_floor", "GPL", drop, 2, NULL);
}

int main(int argc, char **argv)
{
	struct statfs st;
	unsigned char buf[128];
	size_t len;
	int c, r, s, f;
	bool json = false;

	while ((c = getopt(argc, argv, "jn:r:h")) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'n': repeat = strtoul(optarg, NULL, 10); break;
		case 'r': rounds = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: bench_dos [-j] [-n repeat] [-r rounds]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (rounds < 1 || rounds > 31 || !repeat)
		die(-EINVAL, "-r 1..31, -n > 0");
	if (geteuid())
		return fprintf(stderr, "bench_dos: skipped: needs root\n"), 77;
	if (access("/sys/kernel/btf/vmlinux", R_OK) || statfs("/sys/fs/bpf", &st) ||
	    st.f_type != 0xcafe4a11)
		return fprintf(stderr, "bench_dos: skipped: needs BTF and bpffs\n"), 77;
	if (unshare(CLONE_NEWNET))
		return fprintf(stderr, "bench_dos: skipped: no network namespace\n"), 77;
	pw_log_set_level(PW_LOG_WARN);
	pw_log_libbpf_init();
	atexit(unpin_all);
	for (s = 0; s < N_SIZES; s++) {
		struct pw_datapath_opts o = {.pin_root = pin_roots[s]};

		snprintf(pin_roots[s], sizeof(pin_roots[s]), "/sys/fs/bpf/podwall-bench-dos-%d-%d",
			 getpid(), s);
		die(pw_datapath_open(&dps[s], &o), "load datapath");
		die(pw_dos_open(&dos[s], pin_roots[s]), "dos maps");
		fill(s);
	}
	floor_fd = load_floor();
	die(floor_fd < 0 ? -errno : 0, "floor program");
	len = udp_frame(htonl(0x28000001U), buf);
	for (r = 0; r < rounds; r++) {
		floor_fig.v[floor_fig.n++] = batch(floor_fd, buf, len, XDP_DROP, "floor");
		for (s = 0; s < N_SIZES; s++)
			round_of(s);
	}

	if (json) {
		printf("{\"repeat\": %u, \"rounds\": %d, \"floor_ns\": %.1f", repeat, rounds,
		       median(&floor_fig));
		for (f = 0; f < N_FIGS; f++)
			printf(", \"%s\": {\"small_ns\": %.1f, \"large_ns\": %.1f, \"ratio\": %.3f}",
			       fig_names[f], median(&figs[SMALL][f]), median(&figs[LARGE][f]),
			       median(&figs[LARGE][f]) / median(&figs[SMALL][f]));
		printf("}\n");
		return 0;
	}
	printf("pw_node_xdp, BPF_PROG_TEST_RUN, 64-byte UDP, median of %d rounds x %u runs\n",
	       rounds, repeat);
	printf("floor (XDP_DROP only): %.1f ns\n", median(&floor_fig));
	printf("%-10s %16s %22s %8s\n", "figure", "10 entries (ns)", "100k exact/16k pfx (ns)",
	       "ratio");
	for (f = 0; f < N_FIGS; f++)
		printf("%-10s %16.1f %22.1f %8.3f\n", fig_names[f], median(&figs[SMALL][f]),
		       median(&figs[LARGE][f]), median(&figs[LARGE][f]) / median(&figs[SMALL][f]));
	return 0;
}
