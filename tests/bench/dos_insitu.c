// SPDX-License-Identifier: GPL-2.0-only
/*
 * DoS guards in situ: a live flood over a veth into the node's uplink, and
 * what the receiving side spends per packet, beside the same flood dropped
 * by iptables (raw PREROUTING) and by nftables (a set, prerouting at raw
 * priority).
 *
 * The node is a private network and mount namespace; the attacker a netns
 * on the other end of the uplink veth, sending 64-byte UDP frames from a raw
 * packet socket pinned to one CPU. The uplink runs its NAPI in a kernel
 * thread (threaded NAPI; GRO on, so the veth uses NAPI without XDP too)
 * pinned to the other CPU: everything the receiving side does per packet,
 * from the veth's ring to the XDP verdict or the netfilter drop, runs in that
 * thread, so its run time (/proc/PID/schedstat) divided by the packets it
 * handled is the receive-side cost, the same measure for every mechanism.
 * For pw_node_xdp the kernel's own program statistics (BPF_ENABLE_STATS:
 * run_time_ns / run_cnt) give the program's part of it.
 *
 * Figures, each with 10 and 100k blocklist entries (exact; the nftables set
 * holds the same addresses): XDP blocklist hit, XDP rate-limit drop, XDP
 * pass (source on no list, dropped later by the stack: no route), iptables
 * raw DROP of the source, nftables set hit. Medians of -r rounds, figures
 * interleaved. Not pass/fail: exits 0 whatever the ratios, 77 without root,
 * two CPUs, iptables, nft or ethtool, 1 if the setup fails.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "cleanup.h"
#include "datapath.h"
#include "dos.h"
#include "log.h"
#include "pkt.h"

#define UPLINK	  "pwb-up"
#define GEN	  "pwb-gen"
#define ATT_NS	  "pwb-att"
#define DST	  "10.200.0.1" /* no local pod, no route: the stack drops what passes */
#define SRC_BL	  "198.18.0.1" /* on the blocklist */
#define SRC_RL	  "198.18.0.2" /* on no list, over its bucket */
#define SRC_PASS  "198.18.0.3" /* on no list, guards off */
#define CPU_GEN	  0
#define CPU_NAPI  1
#define MAX_RUNS  16

enum { SMALL, LARGE, N_SIZES };
static const size_t entries[N_SIZES] = {10, 100000};

enum { F_XDP_BL, F_XDP_RL, F_XDP_PASS, F_FLOOR, F_IPT, F_NFT, N_FIGS };
static const char *const fig_names[N_FIGS] = {"xdp-blocklist", "xdp-ratelimit", "xdp-pass",
					      "floor", "iptables-raw", "nftables-set"};

struct fig {
	double cpu[MAX_RUNS]; /* receive side, ns/packet */
	double prog[MAX_RUNS]; /* XDP program, ns/run */
	double pps[MAX_RUNS];  /* packets handled per second of flood */
	int n;
};

static struct fig figs[N_SIZES][N_FIGS];
static struct pw_datapath *dp;
static struct pw_dos *dos;
static char pin_root[64];
static int rounds = 3, flood_ms = 2000, uplink_ifx, floor_fd = -1;
static unsigned char uplink_mac[6];
static bool json;

static void die(int err, const char *what)
{
	if (err) {
		fprintf(stderr, "bench_dos_insitu: %s: %s\n", what, strerror(err < 0 ? -err : err));
		exit(1);
	}
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (getenv("V"))
		fprintf(stderr, "+ %s\n", cmd);
	return system(cmd) ? -EIO : 0;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
	double s[MAX_RUNS];

	if (!n)
		return 0;
	memcpy(s, v, n * sizeof(s[0]));
	qsort(s, n, sizeof(s[0]), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static int pin_cpu(pid_t pid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(pid, sizeof(set), &set) ? -errno : 0;
}

/* The uplink's NAPI thread ("napi/pwb-up-N"); it is created anew when XDP comes or goes. */
static pid_t napi_thread(void)
{
	DIR *d = opendir("/proc");
	pid_t found = -ENOENT;
	struct dirent *e;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char path[300], comm[64] = "";
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
		if (!strncmp(comm, "napi/" UPLINK "-", strlen("napi/" UPLINK "-"))) {
			found = atoi(e->d_name);
			break;
		}
	}
	closedir(d);
	return found;
}

/* Time the thread has run, ns (schedstat: on-CPU time, not sampled ticks). */
static __u64 run_ns(pid_t pid)
{
	unsigned long long v = 0;
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/*
 * The attacker: 64-byte UDP frames from src for flood_ms, made by the kernel
 * as xdp-trafficgen makes them: BPF_PROG_TEST_RUN in live-frames mode runs a
 * program that redirects each frame out of the attacker's veth, so frames
 * reach the uplink as XDP frames, the way a NIC hands them to its driver, and
 * the receiving side starts where a NIC's would, before any skb exists.
 */
static pid_t flood(const char *src, volatile __u64 *sent)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	{
		struct pw_pkt p = {.family = PW_AF_INET, .src = src, .dst = DST,
				   .dmac = uplink_mac, .proto = IPPROTO_UDP, .sport = 4000,
				   .dport = 53, .min_len = 64};
		static unsigned char frame[128];
		int nfd = open("/run/netns/" ATT_NS, O_RDONLY), len, prog;
		__u64 end, n = 0;

		if (nfd < 0 || setns(nfd, CLONE_NEWNET) || pin_cpu(0, CPU_GEN))
			_exit(1);
		{
			/* r1 = ifindex; r2 = 0; r0 = bpf_redirect(r1, r2); exit */
			const struct bpf_insn insns[] = {
				{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1,
				 .imm = (int)if_nametoindex(GEN)},
				{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_2, .imm = 0},
				{.code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_redirect},
				{.code = BPF_JMP | BPF_EXIT},
			};

			prog = bpf_prog_load(BPF_PROG_TYPE_XDP, "pwb_gen", "GPL", insns,
					     ARRAY_SIZE(insns), NULL);
		}
		len = pw_pkt_build(&p, frame, sizeof(frame));
		if (prog < 0 || len < 0)
			_exit(1);
		end = now_ns() + flood_ms * 1000000ULL;
		while (now_ns() < end) {
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
				    .repeat = 20000, .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

			if (bpf_prog_test_run_opts(prog, &o))
				_exit(2);
			n += 20000;
		}
		*sent = n;
		_exit(0);
	}
}

/* Packets of the rule in a chain listing ("... counter packets N bytes M ..."). */
static __u64 rule_packets(const char *cmd, const char *key)
{
	unsigned long long v = 0;
	char line[512];
	FILE *p = popen(cmd, "r");

	if (!p)
		return 0;
	while (fgets(line, sizeof(line), p)) {
		char *at = strstr(line, key);

		if (at && sscanf(at + strlen(key), "%llu", &v) == 1)
			break;
	}
	pclose(p);
	return v;
}

static __u64 ipt_packets(void)
{
	/* -x: exact numbers; the first field of the rule line is its packet count. */
	return rule_packets("iptables -t raw -nvxL PREROUTING | grep " SRC_BL, "");
}

static __u64 nft_packets(void)
{
	return rule_packets("nft list chain ip pwb pre", "counter packets ");
}

static void prog_stats(int f, __u64 *cnt, __u64 *ns)
{
	int fd = f == F_FLOOR ? floor_fd : pw_datapath_prog_fd(dp, PW_PROG_NODE_XDP);
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	die(bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0, "program info");
	*cnt = info.run_cnt;
	*ns = info.run_time_ns;
}

/* One flood from src, the figure f of size s measured. */
static void measure(int s, int f, const char *src)
{
	__u64 *sent = mmap(NULL, sizeof(*sent), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	__u64 t0, t1, c0 = 0, c1 = 0, n0 = 0, n1 = 0, pk0 = 0, pk1 = 0, pkts;
	bool xdp = f <= F_FLOOR;
	struct fig *g = &figs[s][f];
	int status;
	pid_t napi, gen;

	die(sent == MAP_FAILED ? -errno : 0, "mmap");
	*sent = 0;
	napi = napi_thread();
	die(napi < 0 ? napi : 0, "the uplink's NAPI thread");
	die(pin_cpu(napi, CPU_NAPI), "pin the NAPI thread");
	if (xdp)
		prog_stats(f, &c0, &n0);
	else
		pk0 = f == F_IPT ? ipt_packets() : nft_packets();
	t0 = run_ns(napi);
	gen = flood(src, sent);
	waitpid(gen, &status, 0);
	usleep(50000); /* the ring drains */
	t1 = run_ns(napi);
	if (xdp) {
		prog_stats(f, &c1, &n1);
		pkts = c1 - c0;
	} else {
		pk1 = f == F_IPT ? ipt_packets() : nft_packets();
		pkts = pk1 - pk0;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) || !pkts) {
		fprintf(stderr, "bench_dos_insitu: %s/%zu: flood failed (sent %llu, handled %llu)\n",
			fig_names[f], entries[s], (unsigned long long)*sent,
			(unsigned long long)pkts);
		exit(1);
	}
	if (getenv("V"))
		fprintf(stderr, "%s/%zu: sent %llu handled %llu napi %llu ns\n", fig_names[f],
			entries[s], (unsigned long long)*sent, (unsigned long long)pkts,
			(unsigned long long)(t1 - t0));
	g->cpu[g->n] = (double)(t1 - t0) / pkts;
	g->prog[g->n] = xdp ? (double)(n1 - n0) / (c1 - c0) : 0;
	g->pps[g->n] = pkts * 1000.0 / flood_ms;
	g->n++;
	munmap(sent, sizeof(*sent));
}

/* Blocklist entry i: SRC_BL first, then 20.0.0.0 + i. */
static void entry_addr(size_t i, char *buf, size_t len)
{
	struct in_addr a = {.s_addr = htonl(0x14000000U + i)};

	if (!i)
		snprintf(buf, len, SRC_BL);
	else
		inet_ntop(AF_INET, &a, buf, len);
}

/* Entries straight into the pinned hash: pw_dos_block_add() parses text, 100k times. */
static void fill_blocklist(size_t from, size_t to, bool del)
{
	struct pw_bl_val v = {.owner = PW_BL_OWNER_OPERATOR};
	char path[128], a[INET_ADDRSTRLEN];
	int fd;
	size_t i;

	if (!from) {
		/* The first one the ordinary way: it also marks the exact list as used. */
		die(pw_dos_block_add(dos, SRC_BL, PW_BL_OWNER_OPERATOR, 0, 0), SRC_BL);
		from = 1;
	}
	snprintf(path, sizeof(path), "%s/%s", pin_root, PW_MAP_BLOCKLIST);
	fd = bpf_obj_get(path);
	die(fd < 0 ? -errno : 0, path);
	for (i = from; i < to; i++) {
		struct pw_host_key k;

		entry_addr(i, a, sizeof(a));
		die(pw_host_key_parse(&k, a), a);
		if (del)
			bpf_map_delete_elem(fd, &k);
		else
			die(bpf_map_update_elem(fd, &k, &v, BPF_ANY) ? -errno : 0, "blocklist");
	}
	close(fd);
}

/* The nftables peer: table ip pwb with a set per size; the rule points at one. */
static void nft_setup(void)
{
	char path[] = "/tmp/pwb-nft-XXXXXX", a[INET_ADDRSTRLEN];
	int fd = mkstemp(path), s;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	size_t i;

	die(f ? 0 : -errno, "nft script");
	fprintf(f, "table ip pwb {\n");
	for (s = 0; s < N_SIZES; s++) {
		fprintf(f, "  set bl%zu {\n    type ipv4_addr\n    size 131072\n", entries[s]);
		fprintf(f, "    elements = {");
		for (i = 0; i < entries[s]; i++) {
			entry_addr(i, a, sizeof(a));
			fprintf(f, "%s%s", i ? ", " : " ", a);
			if (i % 16 == 15)
				fprintf(f, "\n");
		}
		fprintf(f, " }\n  }\n");
	}
	fprintf(f, "  chain pre {\n    type filter hook prerouting priority raw; policy accept;\n"
		   "  }\n}\n");
	fclose(f);
	s = sh("nft -f %s", path);
	unlink(path);
	die(s, "nft -f (the nftables peer)");
}

static void nft_use(int s)
{
	die(sh("nft flush chain ip pwb pre && nft add rule ip pwb pre ip saddr @bl%zu counter drop",
	       entries[s]),
	    "nft rule");
}

static void round_of(int s)
{
	struct pw_dos_cfg rl = {.flags = PW_DOS_F_ENABLED,
				.def = {.pps = 1, .burst_pkts = 1}}; /* no auto-block */
	struct pw_dos_cfg off = {};
	enum pw_xdp_mode mode;

	die(pw_datapath_attach_uplink(dp, uplink_ifx, PW_XDP_MODE_NATIVE, &mode), "attach XDP");
	die(pw_dos_cfg_write(dos, &off), "cfg");
	measure(s, F_XDP_BL, SRC_BL);
	die(pw_dos_cfg_write(dos, &rl), "cfg");
	measure(s, F_XDP_RL, SRC_RL);
	die(pw_dos_cfg_write(dos, &off), "cfg");
	measure(s, F_XDP_PASS, SRC_PASS);
	die(pw_datapath_detach_uplink(dp, uplink_ifx), "detach XDP");

	/* The floor: what the veth spends on a frame an XDP program only drops. */
	die(bpf_xdp_attach(uplink_ifx, floor_fd, XDP_FLAGS_DRV_MODE, NULL) ? -errno : 0,
	    "attach the floor");
	measure(s, F_FLOOR, SRC_BL);
	die(bpf_xdp_detach(uplink_ifx, XDP_FLAGS_DRV_MODE, NULL) ? -errno : 0, "detach the floor");

	/* iptables has no set here: one rule, its best case, the same at both sizes. */
	die(sh("iptables -t raw -I PREROUTING -s " SRC_BL " -j DROP"), "iptables rule");
	measure(s, F_IPT, SRC_BL);
	die(sh("iptables -t raw -D PREROUTING -s " SRC_BL " -j DROP"), "iptables rule");
	nft_use(s);
	measure(s, F_NFT, SRC_BL);
	die(sh("nft flush chain ip pwb pre"), "nft flush");
}

static void setup(void)
{
	struct pw_datapath_opts o = {};
	struct ifreq ifr = {};
	int fd;

	if (unshare(CLONE_NEWNET | CLONE_NEWNS))
		die(-errno, "unshare");
	die(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ? -errno : 0, "private mounts");
	/* This namespace's devices in /sys (NAPI threading), its own bpffs and netns names. */
	die(mount("sysfs", "/sys", "sysfs", 0, NULL) ? -errno : 0, "sysfs");
	die(mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL) ? -errno : 0, "bpffs");
	sh("mkdir -p /run/netns");
	die(mount("tmpfs", "/run/netns", "tmpfs", 0, NULL) ? -errno : 0, "/run/netns");
	die(sh("ip link set lo up && ip netns add " ATT_NS " && "
	       "ip link add " UPLINK " type veth peer name " GEN " netns " ATT_NS " && "
	       "ip -n " ATT_NS " link set " GEN " up && ip link set " UPLINK " up && "
	       "ip addr add 192.168.99.1/24 dev " UPLINK),
	    "veth");
	/* NAPI on the veth without XDP too (it takes XDP frames then), in a thread of its own. */
	die(sh("ethtool -K " UPLINK " gro on >/dev/null && echo 1 > /sys/class/net/" UPLINK
	       "/threaded"),
	    "GRO and threaded NAPI");
	uplink_ifx = if_nametoindex(UPLINK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), UPLINK);
	die(fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) ? -errno : 0, "uplink MAC");
	memcpy(uplink_mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);

	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/podwall-bench-insitu");
	o.pin_root = pin_root;
	die(pw_datapath_open(&dp, &o), "load datapath");
	die(pw_dos_open(&dos, pin_root), "dos maps");
	{
		/* r0 = XDP_DROP; exit */
		const struct bpf_insn drop[] = {
			{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1},
			{.code = BPF_JMP | BPF_EXIT},
		};

		floor_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "pwb_floor", "GPL", drop, 2, NULL);
		die(floor_fd < 0 ? -errno : 0, "floor program");
	}
	nft_setup();
}

static void print_results(void)
{
	double cpu[N_SIZES][N_FIGS], prog[N_SIZES][N_FIGS], pps[N_SIZES][N_FIGS], best_peer;
	int s, f;

	for (s = 0; s < N_SIZES; s++)
		for (f = 0; f < N_FIGS; f++) {
			cpu[s][f] = median(figs[s][f].cpu, figs[s][f].n);
			prog[s][f] = median(figs[s][f].prog, figs[s][f].n);
			pps[s][f] = median(figs[s][f].pps, figs[s][f].n);
		}
	best_peer = cpu[LARGE][F_IPT] < cpu[LARGE][F_NFT] ? cpu[LARGE][F_IPT] : cpu[LARGE][F_NFT];
	if (json) {
		printf("{\"rounds\": %d, \"flood_ms\": %d, \"figures\": [", rounds, flood_ms);
		for (s = 0; s < N_SIZES; s++)
			for (f = 0; f < N_FIGS; f++)
				printf("%s{\"figure\": \"%s\", \"entries\": %zu, "
				       "\"rx_ns_per_pkt\": %.1f, \"prog_ns_per_run\": %.1f, "
				       "\"pps\": %.0f}",
				       s || f ? ", " : "", fig_names[f], entries[s], cpu[s][f],
				       prog[s][f], pps[s][f]);
		printf("], \"ratios\": {\"best_peer_over_xdp_blocklist\": %.2f, "
		       "\"best_peer_over_xdp_blocklist_above_floor\": %.2f, "
		       "\"xdp_blocklist_100k_over_10_rx\": %.3f, "
		       "\"xdp_blocklist_100k_over_10_prog\": %.3f}}\n",
		       best_peer / cpu[LARGE][F_XDP_BL],
		       (best_peer - cpu[LARGE][F_FLOOR]) / (cpu[LARGE][F_XDP_BL] - cpu[LARGE][F_FLOOR]),
		       cpu[LARGE][F_XDP_BL] / cpu[SMALL][F_XDP_BL],
		       prog[LARGE][F_XDP_BL] / prog[SMALL][F_XDP_BL]);
		return;
	}
	printf("receive-side CPU per packet (NAPI thread run time / packets), XDP program time per "
	       "run (bpf stats), packets handled per second; medians of %d rounds of %d ms\n\n",
	       rounds, flood_ms);
	printf("%-15s %8s %12s %12s %12s\n", "figure", "entries", "rx ns/pkt", "prog ns/run",
	       "pps");
	for (f = 0; f < N_FIGS; f++)
		for (s = 0; s < N_SIZES; s++) {
			printf("%-15s %8zu %12.1f ", fig_names[f], entries[s], cpu[s][f]);
			if (f <= F_FLOOR)
				printf("%12.1f", prog[s][f]);
			else
				printf("%12s", "-");
			printf(" %12.0f\n", pps[s][f]);
		}
	printf("\nbest of iptables/nftables (100k) / XDP blocklist (100k), rx CPU: %.2fx cheaper "
	       "(target >= 3)\n",
	       best_peer / cpu[LARGE][F_XDP_BL]);
	printf("the same above the floor (the veth's own cost per frame, %.1f ns): %.2fx\n",
	       cpu[LARGE][F_FLOOR],
	       (best_peer - cpu[LARGE][F_FLOOR]) / (cpu[LARGE][F_XDP_BL] - cpu[LARGE][F_FLOOR]));
	printf("XDP blocklist 100k / 10 entries: rx CPU %.3f, program %.3f (target <= 1.2)\n",
	       cpu[LARGE][F_XDP_BL] / cpu[SMALL][F_XDP_BL],
	       prog[LARGE][F_XDP_BL] / prog[SMALL][F_XDP_BL]);
	printf("nftables set 100k / 10 entries: rx CPU %.3f\n",
	       cpu[LARGE][F_NFT] / cpu[SMALL][F_NFT]);
}

int main(int argc, char **argv)
{
	const char *const tools[] = {"iptables", "nft", "ethtool"};
	int c, r, s, stats_fd;
	size_t i;

	while ((c = getopt(argc, argv, "jr:t:h")) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		case 't':
			flood_ms = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: bench_dos_insitu [-j] [-r ROUNDS] [-t FLOOD_MS]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (rounds < 1 || rounds > MAX_RUNS || flood_ms < 100) {
		fprintf(stderr, "bench_dos_insitu: -r 1..%d, -t at least 100\n", MAX_RUNS);
		return 2;
	}
	if (geteuid()) {
		fprintf(stderr, "bench_dos_insitu: needs root\n");
		return 77;
	}
	if (libbpf_num_possible_cpus() < 2) {
		fprintf(stderr, "bench_dos_insitu: needs two CPUs (sender and receiver apart)\n");
		return 77;
	}
	for (i = 0; i < ARRAY_SIZE(tools); i++)
		if (sh("command -v %s >/dev/null", tools[i])) {
			fprintf(stderr, "bench_dos_insitu: %s not installed (deploy/deps.sh)\n",
				tools[i]);
			return 77;
		}
	pw_log_set_level(getenv("V") ? PW_LOG_DEBUG : PW_LOG_WARN);
	pw_log_libbpf_init();
	setup();
	/* Program statistics while this fd is open; closing it puts them back as they were. */
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	die(stats_fd < 0 ? -errno : 0, "BPF_ENABLE_STATS");

	fill_blocklist(0, entries[SMALL], false);
	for (r = 0; r < rounds; r++) {
		/* The large list is the small one plus the rest: grown, measured, shrunk. */
		round_of(SMALL);
		fill_blocklist(entries[SMALL], entries[LARGE], false);
		round_of(LARGE);
		fill_blocklist(entries[SMALL], entries[LARGE], true);
	}
	(void)s;
	print_results();
	close(stats_fd);
	pw_dos_free(&dos);
	pw_datapath_free(&dp);
	pw_datapath_unpin(pin_root);
	return 0;
}
