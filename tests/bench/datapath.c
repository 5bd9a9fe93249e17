// SPDX-License-Identifier: GPL-2.0-only
/*
 * Datapath benchmark: ns/packet through BPF_PROG_TEST_RUN, 64-byte frames,
 * all in one run so the figures compare:
 *
 *   floor       an XDP program that only returns XDP_DROP;
 *   xdp-filter  Debian xdp-tools' deny-all object (xdpfilt_dny_all.o), as a peer;
 *   ours        pw_node_xdp (and pw_to_pod, TC, for reference) on the
 *               conntrack-hit path and on the new-flow path, with 10, 1k and
 *               100k policy entries and ipcache prefixes.
 *
 * The machine is noisy: every figure is the median of several rounds, and
 * each round measures every figure (each size has its own datapath under its
 * own pin root, so sizes interleave too), so that drift hits all alike. Not a pass/fail test: it exits 0 whatever the
 * ratios say, 77 without root, BTF or bpffs, 1 if the setup itself fails.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cleanup.h"
#include "datapath.h"
#include "log.h"
#include "pkt.h"
#include "podwall/verdict.h"

#define TC_ACT_OK 0

#define PEER_OBJ "/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_dny_all.o"
/* xdp-filter's map value flags (its common_kern_user.h, an ABI of the object). */
#define XF_FLAG_DST (1U << 1)
#define XF_FLAG_TCP (1U << 2)

/* The cast: pod A on a veth, its peers at 10.64.0.0 + i + 1, CIDRs at 11.0.0.0/8. */
#define EP_A	    1
#define ID_A	    PW_ID_FIRST_LABEL
#define ID_PEER0    (PW_ID_FIRST_LABEL + 16)
#define A4	    "10.0.0.1"
#define PEER_BASE   0x0a400001U /* 10.64.0.1 */
#define CIDR_BASE   0x0b000000U /* 11.0.0.0, then one /24 per prefix */
#define POD_PORT    80
#define CT_HIT_PORT 65000
#define FRAME_LEN   64

/* The host map holds PW_IPCACHE_HOST_MAX entries; pod A takes one of them. */
#define HOST_CAP (PW_IPCACHE_HOST_MAX - 1)

static const size_t sizes[] = {10, 1000, 100000};
#define N_SIZES ARRAY_SIZE(sizes)

struct cfg {
	__u32 repeat;	 /* BPF_PROG_TEST_RUN repeat of batch figures */
	int rounds;	 /* medians over this many rounds */
	__u32 new_flows; /* distinct flows (calls) per new-flow round */
	bool json;
};

/* Samples of one figure; the median is what is reported. */
struct fig {
	double v[64];
	int n;
};

struct size_result {
	size_t entries, hosts, prefixes;
	struct fig xdp_hit, xdp_rst, tc_hit;
	struct fig xdp_new, tc_new; /* raw per-call means; reported less overhead() */
};

/* One datapath (own pin root, own maps) per size, so that rounds interleave the sizes. */
static struct pw_datapath *dps[N_SIZES];
static struct pw_datapath *dp; /* the one being filled or measured */
static char pin_roots[N_SIZES][64];
static int if_a;
static int floor_fd = -1;
static struct bpf_object *peer_obj;
static int peer_fd = -1;
static struct cfg cfg = {.repeat = 1000000, .rounds = 5, .new_flows = 50000};

/* Reference figures, sampled in every block. */
static struct fig floor_batch, peer_batch, floor_call, peer_call;
static struct size_result res[N_SIZES];

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const struct fig *f)
{
	double s[ARRAY_SIZE(f->v)];

	if (!f->n)
		return 0;
	memcpy(s, f->v, f->n * sizeof(s[0]));
	qsort(s, f->n, sizeof(s[0]), cmp_double);
	return f->n % 2 ? s[f->n / 2] : (s[f->n / 2 - 1] + s[f->n / 2]) / 2;
}

static void add(struct fig *f, double v)
{
	if (f->n < (int)ARRAY_SIZE(f->v))
		f->v[f->n++] = v;
}

static void die(int err, const char *what)
{
	if (err) {
		fprintf(stderr, "bench_datapath: %s: %s\n", what, strerror(err < 0 ? -err : err));
		exit(1);
	}
}

/* Pins outlive the process: remove them however it ends. */
static void unpin_all(void)
{
	size_t i;

	for (i = 0; i < N_SIZES; i++) {
		pw_datapath_free(&dps[i]);
		if (pin_roots[i][0])
			pw_datapath_unpin(pin_roots[i]);
	}
}

static void skip(const char *why)
{
	fprintf(stderr, "bench_datapath: skipped: %s\n", why);
	exit(77);
}

/*
 * One BPF_PROG_TEST_RUN call: the kernel runs the program `repeat` times on
 * the same frame and reports the mean duration, in whole ns, of the timed
 * loop (which also holds one clock read per call; the floor shows its size).
 */
static int run(int fd, bool skb, const void *frame, size_t len, __u32 repeat, __u32 *ns,
	       __u32 *retval)
{
	struct __sk_buff ctx = {.ifindex = if_a};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
		    .repeat = repeat);

	if (skb) {
		o.ctx_in = &ctx;
		o.ctx_size_in = sizeof(ctx);
	}
	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	*ns = o.duration;
	*retval = o.retval;
	return 0;
}

static int prog(enum pw_prog p)
{
	return pw_datapath_prog_fd(dp, p);
}

static __u32 peer_addr(size_t i)
{
	return PEER_BASE + i;
}

static struct pw_pkt tcp_pkt(__u32 peer_be, __u16 sport, __u8 flags, bool to_pod, char *peer_s)
{
	struct in_addr a = {.s_addr = peer_be};
	struct pw_pkt p = {.family = PW_AF_INET, .proto = IPPROTO_TCP, .tcp_flags = flags,
			   .min_len = FRAME_LEN};

	inet_ntop(AF_INET, &a, peer_s, INET_ADDRSTRLEN);
	p.src = to_pod ? peer_s : A4;
	p.dst = to_pod ? A4 : peer_s;
	p.sport = to_pod ? sport : POD_PORT;
	p.dport = to_pod ? POD_PORT : sport;
	return p;
}

static size_t frame(const struct pw_pkt *p, void *buf)
{
	int len = pw_pkt_build(p, buf, 256);

	die(len < 0 ? len : 0, "build packet");
	return len;
}

/* A batch figure: one call with cfg.repeat repeats; checks the verdict. */
static double batch(int fd, bool skb, const void *buf, size_t len, __u32 want, const char *what)
{
	__u32 ns, ret;

	die(run(fd, skb, buf, len, cfg.repeat, &ns, &ret), what);
	if (ret != want) {
		fprintf(stderr, "bench_datapath: %s returned %u, expected %u\n", what, ret, want);
		exit(1);
	}
	return ns;
}

/* The mean per-call duration of repeat=1 calls of one frame: the overhead reference. */
static double per_call_same(int fd, const void *buf, size_t len)
{
	__u64 sum = 0;
	__u32 i, ns, ret;

	for (i = 0; i < cfg.new_flows; i++) {
		die(run(fd, false, buf, len, 1, &ns, &ret), "per-call reference");
		sum += ns;
	}
	return (double)sum / cfg.new_flows;
}

static void ct_key(struct pw_ct_key *k, __u32 peer_be, __u16 sport)
{
	memset(k, 0, sizeof(*k));
	k->ep_id = EP_A;
	k->family = PW_AF_INET;
	k->proto = IPPROTO_TCP;
	k->pod_port = htons(POD_PORT);
	k->peer_port = htons(sport);
	inet_pton(AF_INET, A4, k->pod_addr);
	memcpy(k->peer_addr, &peer_be, 4);
}

/* Deletes by key: walking an emptying hash with get_next_key is quadratic. */
static void ct_forget(__u32 peer_be, __u16 first, __u32 n)
{
	int fd = pw_datapath_map_fd(dp, PW_MAP_ID_CT);
	struct pw_ct_key k;
	__u32 i;

	for (i = 0; i < n; i++) {
		ct_key(&k, peer_be, first + i);
		bpf_map_delete_elem(fd, &k);
	}
}

static void sample_references(void)
{
	unsigned char buf[256];
	char s[INET_ADDRSTRLEN];
	struct pw_pkt p = tcp_pkt(htonl(peer_addr(0)), CT_HIT_PORT, PW_TCP_ACK, true, s);
	size_t len = frame(&p, buf);

	add(&floor_batch, batch(floor_fd, false, buf, len, XDP_DROP, "floor"));
	add(&peer_batch, batch(peer_fd, false, buf, len, XDP_PASS, "xdp-filter"));
	add(&floor_call, per_call_same(floor_fd, buf, len));
	add(&peer_call, per_call_same(peer_fd, buf, len));
}

/*
 * New flows, one call each (repeat=1): the kernel repeats a frame, and from
 * the second run on the flow would be tracked, so every flow gets its own
 * call with its own source port. Returns the mean per-call duration; the
 * caller subtracts the per-call overhead measured on the floor.
 */
static double new_flows(int fd, bool skb, __u32 peer_be, __u16 first)
{
	unsigned char buf[256];
	char s[INET_ADDRSTRLEN];
	__u32 i, ns, ret, want = skb ? TC_ACT_OK : XDP_PASS;
	__u64 sum = 0;

	for (i = 0; i < cfg.new_flows; i++) {
		struct pw_pkt p = tcp_pkt(peer_be, first + i, PW_TCP_SYN, true, s);
		size_t len = frame(&p, buf);

		die(run(fd, skb, buf, len, 1, &ns, &ret), "new flow");
		if (ret != want) {
			fprintf(stderr, "bench_datapath: new flow %u returned %u\n", i, ret);
			exit(1);
		}
		sum += ns;
	}
	return (double)sum / cfg.new_flows;
}

static void fill_world(size_t n, struct size_result *r)
{
	struct pw_endpoint ep = {.ep_id = EP_A, .identity = ID_A, .flags = PW_EP_F_READY};
	struct pw_ipcache_val v = {.identity = ID_A, .ep_ifindex = if_a};
	_cleanup_free_ struct pw_policy_entry *e = NULL;
	struct pw_host_key hk = {.family = PW_AF_INET};
	struct pw_lpm_key lk = {.family = PW_AF_INET};
	size_t i;

	r->entries = n;
	r->hosts = n < HOST_CAP ? n : HOST_CAP;
	r->prefixes = n / 10 ? n / 10 : 1;
	die(pw_dp_endpoint_put(dp, if_a, &ep), "endpoint");
	die(pw_host_key_parse(&hk, A4), "pod address");
	die(pw_dp_host_put(dp, &hk, &v), "pod ipcache entry");
	for (i = 0; i < r->hosts; i++) {
		__u32 a = htonl(peer_addr(i));

		v = (struct pw_ipcache_val){.identity = ID_PEER0 + i};
		memcpy(hk.addr, &a, 4);
		die(pw_dp_host_put(dp, &hk, &v), "ipcache host entry");
	}
	for (i = 0; i < r->prefixes; i++) {
		__u32 a = htonl(CIDR_BASE + (i << 8));

		v = (struct pw_ipcache_val){.identity = PW_ID_WORLD,
					    .cidr_identity = PW_ID_FIRST_CIDR + i};
		lk.prefixlen = PW_LPM_PREFIX_BASE + 24;
		memcpy(lk.addr, &a, 4);
		die(pw_dp_lpm_put(dp, &lk, &v), "ipcache prefix");
	}

	/* The isolating header, then one TCP/80 allow per peer identity. */
	e = calloc(n + 1, sizeof(*e));
	die(e ? 0 : -ENOMEM, "policy entries");
	e[0].key = (struct pw_policy_key){.identity = PW_ID_ANY, .dir = PW_DIR_INGRESS};
	e[0].val.flags = PW_POLICY_F_ISOLATED;
	for (i = 0; i < n; i++) {
		struct pw_policy_entry *x = &e[i + 1];

		x->key = (struct pw_policy_key){.identity = ID_PEER0 + i, .dir = PW_DIR_INGRESS,
						.proto = IPPROTO_TCP};
		x->val.nranges = 1;
		x->val.r[0] = (struct pw_port_range){.lo = POD_PORT, .hi = POD_PORT,
						     .action = PW_ACTION_ALLOW, .cookie = i + 1};
	}
	die(pw_dp_policy_replace(dp, EP_A, e, n + 1), "policy");
	die(pw_dp_epoch_bump(dp, NULL), "epoch");
}

/* SYN in (XDP admits it), SYN-ACK out, ACK in: an established flow to benchmark. */
static void establish(__u32 peer_be)
{
	int ctfd = pw_datapath_map_fd(dp, PW_MAP_ID_CT);
	unsigned char buf[256];
	char s[INET_ADDRSTRLEN];
	struct pw_ct_key k;
	struct pw_ct_val v;
	struct pw_pkt p;
	__u32 ns, ret;
	size_t len;

	p = tcp_pkt(peer_be, CT_HIT_PORT, PW_TCP_SYN, true, s);
	len = frame(&p, buf);
	die(run(prog(PW_PROG_NODE_XDP), false, buf, len, 1, &ns, &ret), "SYN");
	p = tcp_pkt(peer_be, CT_HIT_PORT, PW_TCP_SYN | PW_TCP_ACK, false, s);
	len = frame(&p, buf);
	die(run(prog(PW_PROG_FROM_POD), true, buf, len, 1, &ns, &ret), "SYN-ACK");
	p = tcp_pkt(peer_be, CT_HIT_PORT, PW_TCP_ACK, true, s);
	len = frame(&p, buf);
	die(run(prog(PW_PROG_TO_POD), true, buf, len, 1, &ns, &ret), "ACK");
	ct_key(&k, peer_be, CT_HIT_PORT);
	if (bpf_map_lookup_elem(ctfd, &k, &v) || v.state != PW_CT_ESTABLISHED) {
		fprintf(stderr, "bench_datapath: handshake did not establish the flow\n");
		exit(1);
	}
}

static __u64 counted(__u32 reason)
{
	struct pw_counter c = {};

	pw_dp_counter_read(dp, EP_A, PW_DIR_INGRESS, reason, &c);
	return c.packets;
}

static __u32 bench_peer(const struct size_result *r)
{
	return htonl(peer_addr(r->hosts / 2));
}

/* One round of one size: both programs, both paths. */
static void bench_round(struct size_result *r)
{
	__u32 peer_be = bench_peer(r);
	__u64 before = counted(PW_REASON_ALLOW_POLICY);
	unsigned char buf[256];
	char s[INET_ADDRSTRLEN];
	struct pw_pkt p = tcp_pkt(peer_be, CT_HIT_PORT, PW_TCP_ACK, true, s);
	size_t len = frame(&p, buf);

	add(&r->xdp_hit, batch(prog(PW_PROG_NODE_XDP), false, buf, len, XDP_PASS,
			       "pw_node_xdp ACK"));
	add(&r->tc_hit, batch(prog(PW_PROG_TO_POD), true, buf, len, TC_ACT_OK, "pw_to_pod ACK"));

	/* Source ports 1024.. are fresh flows: CT_HIT_PORT lies above them. */
	add(&r->xdp_new, new_flows(prog(PW_PROG_NODE_XDP), false, peer_be, 1024));
	ct_forget(peer_be, 1024, cfg.new_flows);
	add(&r->tc_new, new_flows(prog(PW_PROG_TO_POD), true, peer_be, 1024));
	ct_forget(peer_be, 1024, cfg.new_flows);
	if (counted(PW_REASON_ALLOW_POLICY) - before != cfg.new_flows) {
		fprintf(stderr, "bench_datapath: new flows were not decided by policy\n");
		exit(1);
	}

	/* A TCP RST of no flow: the whole new-flow decision, but it opens no entry. */
	p = tcp_pkt(peer_be, CT_HIT_PORT + 1, PW_TCP_RST, true, s);
	len = frame(&p, buf);
	add(&r->xdp_rst, batch(prog(PW_PROG_NODE_XDP), false, buf, len, XDP_PASS,
			       "pw_node_xdp RST"));
}

/* Per-call overhead of the kernel's timer at repeat=1, measured on the floor. */
static double overhead(void)
{
	return median(&floor_call) - median(&floor_batch);
}

/* A new-flow figure: the median per-call duration less that overhead. */
static double new_fig(const struct fig *f)
{
	return median(f) - overhead();
}

static int load_floor(void)
{
	/* r0 = XDP_DROP; exit */
	const struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_DROP},
		{.code = BPF_JMP | BPF_EXIT},
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "pw_bench_floor", "GPL", insns,
			       ARRAY_SIZE(insns), NULL);

	return fd < 0 ? -errno : fd;
}

static int percpu_put(int fd, const void *key, __u64 val)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	_cleanup_free_ __u64 *v = NULL;

	if (ncpu < 0)
		return ncpu;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < ncpu; i++)
		v[i] = val;
	return bpf_map_update_elem(fd, key, v, BPF_ANY) ? -errno : 0;
}

/*
 * The peer as `xdp-filter load --policy deny` plus `xdp-filter port 80 --mode
 * dst --proto tcp`, 1000 `xdp-filter ip` source entries and 10 `ether`
 * entries that the benchmarked packet does not match: an allowed TCP packet
 * then misses the ethernet and IPv4 maps (two lookups each) and hits the port
 * map, the longest path the object has for it. Its maps are not pinned (the
 * object asks for pinning by name; a real xdp-filter may be using those pins).
 */
static int load_peer(void)
{
	struct bpf_program *p;
	struct bpf_map *m;
	__u32 port = htons(POD_PORT), i;
	int err;

	peer_obj = bpf_object__open_file(PEER_OBJ, NULL);
	if (!peer_obj)
		return -errno;
	bpf_object__for_each_map(m, peer_obj)
		bpf_map__set_pin_path(m, NULL);
	err = bpf_object__load(peer_obj);
	if (err)
		return err;
	p = bpf_object__next_program(peer_obj, NULL);
	if (!p)
		return -ENOENT;
	peer_fd = bpf_program__fd(p);

	m = bpf_object__find_map_by_name(peer_obj, "filter_ports");
	if (!m)
		return -ENOENT;
	err = percpu_put(bpf_map__fd(m), &port, XF_FLAG_DST | XF_FLAG_TCP);
	if (err)
		return err;
	m = bpf_object__find_map_by_name(peer_obj, "filter_ipv4");
	if (!m)
		return -ENOENT;
	for (i = 0; i < 1000; i++) {
		__u32 a = htonl(0xc6120000U + i); /* 198.18.0.0/16 */

		err = percpu_put(bpf_map__fd(m), &a, 1 /* MAP_FLAG_SRC */);
		if (err)
			return err;
	}
	m = bpf_object__find_map_by_name(peer_obj, "filter_ethernet");
	if (!m)
		return -ENOENT;
	for (i = 0; i < 10; i++) {
		__u8 mac[6] = {0x02, 0xbe, 0x0c, 0, 0, i};

		err = percpu_put(bpf_map__fd(m), mac, 1);
		if (err)
			return err;
	}
	return 0;
}

static int add_veth(const char *name)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "ip link add %s type veth peer name %s-p && ip link set %s up",
		 name, name, name);
	if (system(cmd))
		return -1;
	return if_nametoindex(name);
}

static const char *verdict(double ratio, double target)
{
	return ratio <= target ? "met" : "MISSED";
}

static void print_text(void)
{
	double fl = median(&floor_batch), pe = median(&peer_batch);
	size_t i;

	printf("podwall datapath benchmark: ns/packet through BPF_PROG_TEST_RUN, %d-byte TCP "
	       "frames (IPv4)\n",
	       FRAME_LEN);
	printf("median of %d rounds (the machine is noisy); each round measures every figure, "
	       "sizes interleaved\n",
	       cfg.rounds);
	printf("batch figures: repeat=%u on one frame. new-flow figures: %u flows per round, one "
	       "call (repeat=1)\n",
	       cfg.repeat, cfg.new_flows);
	printf("each with its own source port, since a repeated frame is tracked after its first "
	       "run; the per-call\n");
	printf("overhead the kernel's timer adds at repeat=1 (floor per call - floor batch = "
	       "%.1f ns) is subtracted.\n\n",
	       overhead());

	printf("%-46s %10s\n", "reference", "ns/pkt");
	printf("%-46s %10.1f\n", "floor (return XDP_DROP)", fl);
	printf("%-46s %10.1f\n", "xdp-filter deny-all (xdpfilt_dny_all.o)", pe);
	printf("%-46s %10.1f\n", "floor, per call (repeat=1)", median(&floor_call));
	printf("%-46s %10.1f\n\n", "xdp-filter, per call (repeat=1)", median(&peer_call));

	printf("%-9s %7s %7s | %8s %8s %8s %8s | %8s %8s\n", "entries", "hosts", "LPM",
	       "xdp-hit", "xdp-new", "xdp-rst", "(raw)", "tc-hit", "tc-new");
	for (i = 0; i < N_SIZES; i++) {
		const struct size_result *r = &res[i];

		printf("%-9zu %7zu %7zu | %8.1f %8.1f %8.1f %8.1f | %8.1f %8.1f\n", r->entries,
		       r->hosts, r->prefixes, median(&r->xdp_hit), new_fig(&r->xdp_new),
		       median(&r->xdp_rst), median(&r->xdp_new), median(&r->tc_hit),
		       new_fig(&r->tc_new));
	}
	printf("xdp = pw_node_xdp, tc = pw_to_pod; hit = ACK of an established flow; new = SYN "
	       "of a new flow\n");
	printf("(policy + conntrack insert); rst = RST of no flow (the same decision, no insert; "
	       "batch);\n");
	printf("(raw) = xdp-new before the overhead correction.\n");
	if (res[N_SIZES - 1].hosts < res[N_SIZES - 1].entries)
		printf("the ipcache host map holds %d entries (PW_IPCACHE_HOST_MAX): the %zu row "
		       "fills it.\n",
		       PW_IPCACHE_HOST_MAX, res[N_SIZES - 1].entries);

	printf("\nratios (targets from issue 2)\n");
	for (i = 0; i < N_SIZES; i++) {
		double h = median(&res[i].xdp_hit) / pe, n = new_fig(&res[i].xdp_new) / pe;

		printf("  %6zu entries: conntrack-hit / xdp-filter %5.2f (<= 0.75 %s)   "
		       "new-flow / xdp-filter %5.2f (<= 2 %s)\n",
		       res[i].entries, h, verdict(h, 0.75), n, verdict(n, 2));
	}
	/* Both per call: the cold-cache cost of a lone call hits the peer too. */
	for (i = 0; i < N_SIZES; i++)
		printf("  %6zu entries: new-flow / xdp-filter, both per call (repeat=1) %5.2f\n",
		       res[i].entries, median(&res[i].xdp_new) / median(&peer_call));
	{
		const struct size_result *a = &res[0], *b = &res[N_SIZES - 1];
		double x[4] = {
			median(&b->xdp_hit) / median(&a->xdp_hit),
			new_fig(&b->xdp_new) / new_fig(&a->xdp_new),
			median(&b->tc_hit) / median(&a->tc_hit),
			new_fig(&b->tc_new) / new_fig(&a->tc_new),
		};
		static const char *const name[4] = {"xdp conntrack-hit", "xdp new-flow",
						     "tc conntrack-hit", "tc new-flow"};
		int j;

		for (j = 0; j < 4; j++)
			printf("  %zu / %zu entries, %-18s %5.2f (<= 1.2 %s)\n", b->entries,
			       a->entries, name[j], x[j], verdict(x[j], 1.2));
	}
	for (i = 0; i < N_SIZES; i++)
		printf("  %6zu entries: xdp conntrack-hit / floor %5.2f, xdp new-flow / floor %5.2f, "
		       "xdp-filter / floor %5.2f\n",
		       res[i].entries, median(&res[i].xdp_hit) / fl, new_fig(&res[i].xdp_new) / fl,
		       pe / fl);
}

static void print_json(void)
{
	double fl = median(&floor_batch), pe = median(&peer_batch);
	size_t i;

	printf("{\"unit\":\"ns/packet\",\"frame_len\":%d,\"rounds\":%d,\"repeat\":%u,"
	       "\"new_flows_per_round\":%u,\"statistic\":\"median\",",
	       FRAME_LEN, cfg.rounds, cfg.repeat, cfg.new_flows);
	printf("\"floor\":%.1f,\"xdp_filter\":%.1f,\"floor_per_call\":%.1f,"
	       "\"xdp_filter_per_call\":%.1f,\"sizes\":[",
	       fl, pe, median(&floor_call), median(&peer_call));
	for (i = 0; i < N_SIZES; i++) {
		const struct size_result *r = &res[i];

		printf("%s{\"entries\":%zu,\"ipcache_hosts\":%zu,\"ipcache_prefixes\":%zu,"
		       "\"xdp_ct_hit\":%.1f,\"xdp_new_flow\":%.1f,\"xdp_new_flow_raw\":%.1f,"
		       "\"xdp_rst_no_insert\":%.1f,\"tc_ct_hit\":%.1f,\"tc_new_flow\":%.1f,"
		       "\"ct_hit_over_xdp_filter\":%.3f,\"new_flow_over_xdp_filter\":%.3f,"
		       "\"new_flow_over_xdp_filter_per_call\":%.3f}",
		       i ? "," : "", r->entries, r->hosts, r->prefixes, median(&r->xdp_hit),
		       new_fig(&r->xdp_new), median(&r->xdp_new), median(&r->xdp_rst),
		       median(&r->tc_hit), new_fig(&r->tc_new), median(&r->xdp_hit) / pe,
		       new_fig(&r->xdp_new) / pe, median(&r->xdp_new) / median(&peer_call));
	}
	printf("],\"scale_100k_over_10\":{\"xdp_ct_hit\":%.3f,\"xdp_new_flow\":%.3f,"
	       "\"tc_ct_hit\":%.3f,\"tc_new_flow\":%.3f}}\n",
	       median(&res[N_SIZES - 1].xdp_hit) / median(&res[0].xdp_hit),
	       new_fig(&res[N_SIZES - 1].xdp_new) / new_fig(&res[0].xdp_new),
	       median(&res[N_SIZES - 1].tc_hit) / median(&res[0].tc_hit),
	       new_fig(&res[N_SIZES - 1].tc_new) / new_fig(&res[0].tc_new));
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_datapath [-j] [-n REPEAT] [-r ROUNDS] [-f NEW_FLOWS]\n"
		   "  -j  JSON output\n"
		   "  -n  BPF_PROG_TEST_RUN repeat of batch figures (default 1000000)\n"
		   "  -r  rounds; figures are medians (default 5, at most 16)\n"
		   "  -f  new flows per round (default 50000, at most 60000)\n");
}

int main(int argc, char **argv)
{
	struct pw_datapath_opts o = {};
	struct statfs st;
	cpu_set_t cpus;
	size_t i;
	int c, r;

	while ((c = getopt(argc, argv, "jn:r:f:h")) != -1) {
		switch (c) {
		case 'j':
			cfg.json = true;
			break;
		case 'n':
			cfg.repeat = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			cfg.rounds = atoi(optarg);
			break;
		case 'f':
			cfg.new_flows = strtoul(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	/* Ports 1024.. must stay below CT_HIT_PORT; rounds fit the sample arrays. */
	if (!cfg.repeat || cfg.rounds < 1 || cfg.rounds > 16 || !cfg.new_flows ||
	    cfg.new_flows > CT_HIT_PORT - 1024) {
		usage(stderr);
		return 2;
	}

	if (geteuid())
		skip("needs root");
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		skip("kernel without BTF");
	if (statfs("/sys/fs/bpf", &st) || st.f_type != 0xcafe4a11)
		skip("bpffs not mounted on /sys/fs/bpf");
	if (access(PEER_OBJ, R_OK))
		skip(PEER_OBJ " missing (apt-get install xdp-tools)");
	/* BPF_PROG_TEST_RUN resolves the skb's ifindex in our netns: a private one. */
	if (unshare(CLONE_NEWNET))
		skip("cannot create a network namespace");
	if_a = add_veth("pw-bench");
	if (if_a <= 0)
		skip("cannot create a veth interface (ip link)");
	/* One CPU for the whole run: per-CPU maps and caches stay warm and comparable. */
	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu(), &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);

	pw_log_set_level(getenv("V") ? PW_LOG_DEBUG : PW_LOG_WARN);
	pw_log_libbpf_init();
	floor_fd = load_floor();
	die(floor_fd < 0 ? floor_fd : 0, "load the floor program");
	die(load_peer(), "load " PEER_OBJ);
	atexit(unpin_all);
	for (i = 0; i < N_SIZES; i++) {
		snprintf(pin_roots[i], sizeof(pin_roots[i]), "/sys/fs/bpf/podwall-bench-%d-%zu",
			 getpid(), i);
		o.pin_root = pin_roots[i];
		die(pw_datapath_open(&dps[i], &o), "load the datapath");
		dp = dps[i];
		fill_world(sizes[i], &res[i]);
		establish(bench_peer(&res[i]));
	}
	/* Rounds interleave everything, so drift of a noisy machine hits every figure alike. */
	for (r = 0; r < cfg.rounds; r++) {
		if (!cfg.json)
			fprintf(stderr, "bench_datapath: round %d/%d\n", r + 1, cfg.rounds);
		sample_references();
		for (i = 0; i < N_SIZES; i++) {
			dp = dps[i];
			bench_round(&res[i]);
		}
	}

	if (cfg.json)
		print_json();
	else
		print_text();
	bpf_object__close(peer_obj);
	close(floor_fd);
	return 0;
}
