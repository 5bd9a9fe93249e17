// SPDX-License-Identifier: GPL-2.0-only
/*
 * BPF_PROG_TEST_RUN tests of the IPS in the datapath: flow blocks and IPS
 * source blocks checked before anything else (pw_from_pod, pw_to_pod,
 * pw_node_xdp), and flow sampling into pw_samples (first packets per
 * direction, byte caps, held flows and their release, drops by kind, the
 * per-CPU rate and its counters, snap length). Samples are read back from
 * the real ring buffer and compared with the packets sent.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfworld.h"
#include "cleanup.h"
#include "datapath.h"
#include "dos.h"
#include "ips.h"
#include "log.h"
#include "pkt.h"
#include "podwall/verdict.h"
#include "test.h"

#define TC_ACT_OK   0
#define TC_ACT_SHOT 2
#define XDP_DROP    1
#define XDP_PASS    2

#define EP_A  1
#define ID_A  1000
#define A4    "10.0.0.1"
#define A6    "fd00::1"
#define PEER4 "192.0.2.10"
#define PEER6 "2001:db8::10"

static struct pw_datapath *dp;
static struct pw_dos *dos;
static struct pw_ips_maps *ips;
static struct ring_buffer *rb;
static char pin_root[64];
static int if_a;

/* Samples read back from pw_samples since the last reset. */
#define MAX_SAMPLES 64
static struct pw_sample got[MAX_SAMPLES];
static int ngot;

static void must(int err, const char *what)
{
	if (err) {
		printf("Bail out! %s: %s\n", what, strerror(err < 0 ? -err : err));
		exit(1);
	}
}

static int on_sample(void *ctx, void *data, size_t len)
{
	(void)ctx;
	if (len >= sizeof(struct pw_sample) && ngot < MAX_SAMPLES)
		memcpy(&got[ngot], data, sizeof(struct pw_sample));
	ngot++;
	return 0;
}

static int drain(void)
{
	ngot = 0;
	ring_buffer__consume(rb);
	return ngot;
}

static void clear_pinned(const char *name)
{
	char path[128];
	unsigned char k[64];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "%s/%s", pin_root, name);
	fd = bpf_obj_get(path);
	must(fd < 0 ? -errno : 0, path);
	while (bpf_map_get_next_key(fd, NULL, k) == 0)
		bpf_map_delete_elem(fd, k);
}

static void host(const char *addr, __u32 ifindex)
{
	struct pw_ipcache_val v = {.identity = ID_A, .ep_ifindex = ifindex};
	struct pw_host_key k;

	must(pw_host_key_parse(&k, addr), addr);
	must(pw_dp_host_put(dp, &k, &v), "ipcache host");
}

/* Pod A unisolated, no blocks, no flow state; sampling as cfg says (NULL: off). */
static void setup(const struct pw_sample_cfg *cfg)
{
	struct pw_endpoint ep = {.ep_id = EP_A, .identity = ID_A, .flags = PW_EP_F_READY};
	struct pw_sample_cfg off = {};
	struct pw_dos_cfg dos_off = {};

	must(pw_dp_endpoint_put(dp, if_a, &ep), "endpoint");
	host(A4, if_a);
	host(A6, if_a);
	must(pw_dp_policy_delete(dp, EP_A), "no policy");
	clear_pinned(PW_MAP_CT);
	clear_pinned(PW_MAP_SAMPLE_FLOWS);
	clear_pinned(PW_MAP_IPS_FLOWS);
	clear_pinned(PW_MAP_BLOCKLIST);
	must(pw_dos_cfg_write(dos, &dos_off), "dos cfg");
	must(pw_ips_sample_cfg_write(ips, cfg ?: &off), "sample cfg");
	/* A fresh rate bucket per test: wait out any debt of the previous one. */
	drain();
}

/* Pod A with ingress and egress isolated and nothing allowed. */
static void isolate_a(void)
{
	struct pw_policy_entry e[2] = {};

	e[0].key.identity = PW_ID_ANY;
	e[0].key.dir = PW_DIR_INGRESS;
	e[0].val.flags = PW_POLICY_F_ISOLATED;
	e[1].key.identity = PW_ID_ANY;
	e[1].key.dir = PW_DIR_EGRESS;
	e[1].val.flags = PW_POLICY_F_ISOLATED;
	must(pw_dp_policy_replace(dp, EP_A, e, 2), "isolating policy");
	must(pw_dp_epoch_bump(dp, NULL), "epoch");
}

static int run(enum pw_prog prog, const struct pw_pkt *p, unsigned char *buf, int *lenp)
{
	struct __sk_buff skb = {.ifindex = if_a};
	int len = pw_pkt_build(p, buf, 4096);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = len, .repeat = 1);

	must(len < 14 ? -EINVAL : 0, "build packet");
	if (lenp)
		*lenp = len;
	if (prog != PW_PROG_NODE_XDP) {
		o.ctx_in = &skb;
		o.ctx_size_in = sizeof(skb);
	}
	if (bpf_prog_test_run_opts(pw_datapath_prog_fd(dp, prog), &o))
		return -errno;
	return o.retval;
}

static int xmit(enum pw_prog prog, const struct pw_pkt *p)
{
	unsigned char buf[4096];

	return run(prog, p, buf, NULL);
}

static __u64 counted(__u32 ep, __u32 dir, __u32 reason)
{
	struct pw_counter c = {};

	pw_dp_counter_read(dp, ep, dir, reason, &c);
	return c.packets;
}

static struct pw_stats stats(void)
{
	struct pw_stats s = {};

	pw_dp_stats_read(dp, &s);
	return s;
}

static struct pw_pkt tcp(int family, const char *src, const char *dst, __u16 sport, __u16 dport,
			 __u8 flags, size_t payload)
{
	struct pw_pkt p = {.family = family, .src = src, .dst = dst, .proto = IPPROTO_TCP,
			   .sport = sport, .dport = dport, .tcp_flags = flags,
			   .payload_len = payload};
	return p;
}

static struct pw_ips_key ips_key(int family, const char *src, const char *dst, __u16 sport,
				 __u16 dport)
{
	struct pw_ips_key k = {.family = family, .proto = IPPROTO_TCP, .sport = htons(sport),
			       .dport = htons(dport)};

	inet_pton(family == PW_AF_INET ? AF_INET : AF_INET6, src, k.saddr);
	inet_pton(family == PW_AF_INET ? AF_INET : AF_INET6, dst, k.daddr);
	return k;
}

static void test_flow_block_tc(void)
{
	struct pw_ips_key k = ips_key(PW_AF_INET, A4, PEER4, 40000, 80);
	struct pw_pkt out = tcp(PW_AF_INET, A4, PEER4, 40000, 80, PW_TCP_ACK, 10);
	struct pw_pkt back = tcp(PW_AF_INET, PEER4, A4, 80, 40000, PW_TCP_ACK, 10);
	struct pw_pkt other = tcp(PW_AF_INET, A4, PEER4, 40001, 80, PW_TCP_SYN, 0);
	__u64 eg = counted(EP_A, PW_DIR_EGRESS, PW_REASON_DROP_IPS_BLOCKED);
	__u64 in = counted(EP_A, PW_DIR_INGRESS, PW_REASON_DROP_IPS_BLOCKED);

	setup(NULL);
	ASSERT_EQ(xmit(PW_PROG_FROM_POD, &out), TC_ACT_OK, "flow passes before the block");
	must(pw_ips_flow_block(ips, &k, 2100001, 1, 0), "block flow");
	ASSERT_EQ(xmit(PW_PROG_FROM_POD, &out), TC_ACT_SHOT, "blocked flow, pod side");
	ASSERT_EQ(xmit(PW_PROG_TO_POD, &back), TC_ACT_SHOT, "blocked flow, peer side");
	ASSERT_EQ(counted(EP_A, PW_DIR_EGRESS, PW_REASON_DROP_IPS_BLOCKED) - eg, 1,
		  "counted ips-blocked egress");
	ASSERT_EQ(counted(EP_A, PW_DIR_INGRESS, PW_REASON_DROP_IPS_BLOCKED) - in, 1,
		  "counted ips-blocked ingress");
	ASSERT_EQ(xmit(PW_PROG_FROM_POD, &other), TC_ACT_OK, "another flow of the pod passes");
	ASSERT_EQ(pw_ips_flow_count(ips), 2, "one entry per direction");
	ASSERT_OK(pw_ips_flow_unblock(ips, &k), "unblock");
	ASSERT_EQ(pw_ips_flow_count(ips), 0, "both directions removed");
	ASSERT_EQ(xmit(PW_PROG_FROM_POD, &out), TC_ACT_OK, "unblocked flow passes");
	ASSERT_EQ(pw_ips_flow_unblock(ips, &k), -ENOENT, "unblock twice");
}

static void test_flow_block_expiry(void)
{
	struct pw_ips_key k = ips_key(PW_AF_INET6, A6, PEER6, 40000, 443);
	struct pw_pkt out = tcp(PW_AF_INET6, A6, PEER6, 40000, 443, PW_TCP_SYN, 0);

	setup(NULL);
	must(pw_ips_flow_block(ips, &k, 1, 1, 3600), "block v6 flow");
	ASSERT_EQ(xmit(PW_PROG_FROM_POD, &out), TC_ACT_SHOT, "blocked v6 flow");
	ASSERT_EQ(pw_ips_flow_sweep(ips), 0, "nothing expired yet");
	/* An entry past its deadline: ignored and deleted by the packet that finds it. */
	must(pw_ips_flow_block(ips, &k, 1, 1, 1), "block for 1 s");
	{
		struct timespec ts = {.tv_sec = 1, .tv_nsec = 200000000};

		nanosleep(&ts, NULL);
	}
	ASSERT_EQ(xmit(PW_PROG_FROM_POD, &out), TC_ACT_OK, "expired block passes");
	ASSERT_EQ(pw_ips_flow_count(ips), 1, "the expired entry of this direction is gone");
	ASSERT_EQ(pw_ips_flow_sweep(ips), 1, "sweep removes the other direction");
	ASSERT_EQ(pw_ips_flow_count(ips), 0, "no entry left");
}

static void test_flow_block_xdp(void)
{
	struct pw_ips_key k = ips_key(PW_AF_INET, A4, PEER4, 40002, 80);
	struct pw_pkt back = tcp(PW_AF_INET, PEER4, A4, 80, 40002, PW_TCP_ACK, 10);
	__u64 before = counted(0, PW_DIR_INGRESS, PW_REASON_DROP_IPS_BLOCKED);

	setup(NULL);
	ASSERT_EQ(xmit(PW_PROG_NODE_XDP, &back), XDP_PASS, "passes before the block");
	must(pw_ips_flow_block(ips, &k, 7, 1, 0), "block flow");
	ASSERT_EQ(xmit(PW_PROG_NODE_XDP, &back), XDP_DROP, "uplink drops the blocked flow");
	ASSERT_EQ(counted(0, PW_DIR_INGRESS, PW_REASON_DROP_IPS_BLOCKED) - before, 1,
		  "counted ips-blocked on the uplink");
}

static void test_source_block(void)
{
	struct pw_pkt ips_src = tcp(PW_AF_INET, "192.0.2.20", A4, 1000, 80, PW_TCP_SYN, 0);
	struct pw_pkt op_src = tcp(PW_AF_INET, "192.0.2.21", A4, 1000, 80, PW_TCP_SYN, 0);
	__u64 before = counted(EP_A, PW_DIR_INGRESS, PW_REASON_DROP_IPS_BLOCKED);

	setup(NULL);
	must(pw_dos_block_add(dos, "192.0.2.20", PW_BL_OWNER_IPS, 0, 60), "IPS source block");
	must(pw_dos_block_add(dos, "192.0.2.21", PW_BL_OWNER_OPERATOR, 0, 60), "operator block");
	ASSERT_EQ(xmit(PW_PROG_TO_POD, &ips_src), TC_ACT_SHOT, "IPS-blocked source, at the pod");
	ASSERT_EQ(counted(EP_A, PW_DIR_INGRESS, PW_REASON_DROP_IPS_BLOCKED) - before, 1,
		  "counted ips-blocked for the pod");
	ASSERT_EQ(xmit(PW_PROG_NODE_XDP, &ips_src), XDP_DROP, "IPS-blocked source, uplink");
	/* Operator entries stay the uplink's: pod-to-pod traffic is not DoS territory. */
	ASSERT_EQ(xmit(PW_PROG_TO_POD, &op_src), TC_ACT_OK, "operator entry ignored at the pod");
	ASSERT_EQ(xmit(PW_PROG_NODE_XDP, &op_src), XDP_DROP, "operator entry, uplink");
}

static bool check_sample(const struct pw_sample *s, const unsigned char *frame, int len,
			 __u8 kind, __u8 reason, __u8 dir, __u32 ep)
{
	bool ok = true;

	ok &= ASSERT_EQ(s->h.kind, kind, "sample kind");
	ok &= ASSERT_EQ(s->h.reason, reason, "sample reason");
	ok &= ASSERT_EQ(s->h.dir, dir, "sample direction");
	ok &= ASSERT_EQ(s->h.ep_id, ep, "sample endpoint");
	ok &= ASSERT_EQ(s->h.wire_len, (__u32)len, "sample wire length");
	ok &= ASSERT_EQ(s->h.cap_len, (__u32)(len < PW_SAMPLE_SNAP ? len : PW_SAMPLE_SNAP),
			"sample captured length");
	ok &= ASSERT_TRUE(s->h.ts_ns > 0, "sample timestamp");
	ok &= ASSERT_TRUE(!memcmp(s->data, frame, s->h.cap_len), "sample bytes = the packet");
	return ok;
}

static void test_sample_first_packets(void)
{
	struct pw_sample_cfg cfg = {.pkts = {[PW_DIR_INGRESS] = 3, [PW_DIR_EGRESS] = 2},
				    .per_sec = 100000};
	struct pw_pkt syn = tcp(PW_AF_INET, A4, PEER4, 41000, 80, PW_TCP_SYN, 0);
	struct pw_pkt ack = tcp(PW_AF_INET, A4, PEER4, 41000, 80, PW_TCP_ACK, 20);
	struct pw_pkt back = tcp(PW_AF_INET, PEER4, A4, 80, 41000, PW_TCP_ACK, 30);
	unsigned char buf[4096];
	struct pw_stats before = stats();
	int len, i, n = 0;

	setup(&cfg);
	ASSERT_EQ(run(PW_PROG_FROM_POD, &syn, buf, &len), TC_ACT_OK, "SYN passes");
	ASSERT_EQ(drain(), 1, "the new flow's first packet is sampled");
	check_sample(&got[0], buf, len, PW_SAMPLE_K_FLOW, PW_REASON_ALLOW_UNISOLATED,
		     PW_DIR_EGRESS, EP_A);
	ASSERT_EQ(got[0].h.family, PW_AF_INET, "sample family");
	ASSERT_EQ(got[0].h.proto, IPPROTO_TCP, "sample proto");
	ASSERT_EQ(ntohs(got[0].h.sport), 41000, "sample sport");
	ASSERT_EQ(ntohs(got[0].h.dport), 80, "sample dport");
	ASSERT_EQ(got[0].h.ifindex, (__u32)if_a, "sample ifindex");
	for (i = 0; i < 3; i++) {
		xmit(PW_PROG_FROM_POD, &ack);
		n += drain();
	}
	ASSERT_EQ(n, 1, "egress: two packets in all");
	n = 0;
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(run(PW_PROG_TO_POD, &back, buf, &len), TC_ACT_OK, "reply passes");
		if (drain() && i == 0)
			check_sample(&got[0], buf, len, PW_SAMPLE_K_FLOW,
				     PW_REASON_ALLOW_ESTABLISHED, PW_DIR_INGRESS, EP_A);
		n += ngot;
	}
	ASSERT_EQ(n, 3, "ingress: three packets");
	ASSERT_EQ(stats().samples_sent_total - before.samples_sent_total, 5,
		  "samples_sent_total");
}

static void test_sample_byte_cap(void)
{
	struct pw_sample_cfg cfg = {.pkts = {10, 10}, .bytes = {[PW_DIR_EGRESS] = 150},
				    .per_sec = 100000};
	struct pw_pkt p = tcp(PW_AF_INET, A4, PEER4, 41001, 80, PW_TCP_SYN, 46); /* 100 bytes */
	int n = 0;

	setup(&cfg);
	for (int i = 0; i < 4; i++) {
		xmit(PW_PROG_FROM_POD, &p);
		n += drain();
		p.tcp_flags = PW_TCP_ACK;
	}
	ASSERT_EQ(n, 2, "sampled until 150 bytes were reached");
}

static void test_sample_hold_and_release(void)
{
	struct pw_sample_cfg cfg = {.pkts = {1, 1}, .flow_byte_cap = 1000, .per_sec = 100000,
				    .flags = PW_SAMPLE_F_HOLD};
	struct pw_pkt p = tcp(PW_AF_INET, A4, PEER4, 41002, 80, PW_TCP_SYN, 46); /* 100 bytes */
	struct pw_pkt q = tcp(PW_AF_INET, A4, PEER4, 41003, 80, PW_TCP_SYN, 46);
	struct pw_ct_key k = {.ep_id = EP_A, .family = PW_AF_INET, .proto = IPPROTO_TCP,
			      .pod_port = htons(41002), .peer_port = htons(80)};
	int n = 0, i;

	setup(&cfg);
	for (i = 0; i < 5; i++) {
		xmit(PW_PROG_FROM_POD, &p);
		n += drain();
		p.tcp_flags = PW_TCP_ACK;
	}
	ASSERT_EQ(n, 5, "a held flow is sampled past its first packets");
	inet_pton(AF_INET, A4, k.pod_addr);
	inet_pton(AF_INET, PEER4, k.peer_addr);
	ASSERT_OK(pw_ips_flow_release(ips, &k), "release the flow");
	xmit(PW_PROG_FROM_POD, &p);
	ASSERT_EQ(drain(), 0, "a released flow is no longer sampled");
	ASSERT_EQ(pw_ips_flow_release(ips, &k), -ENOENT, "release twice");

	/* The byte cap ends a flow nobody releases. */
	n = 0;
	for (i = 0; i < 15; i++) {
		xmit(PW_PROG_FROM_POD, &q);
		n += drain();
		q.tcp_flags = PW_TCP_ACK;
	}
	ASSERT_EQ(n, 10, "held flow sampled up to its byte cap");
}

static void test_sample_drops(void)
{
	struct pw_sample_cfg cfg = {.per_sec = 100000};
	struct pw_pkt deny = tcp(PW_AF_INET, A4, PEER4, 42000, 80, PW_TCP_SYN, 0);
	struct pw_pkt dos_src = tcp(PW_AF_INET, "192.0.2.30", A4, 1000, 80, PW_TCP_SYN, 0);
	struct pw_ips_key k = ips_key(PW_AF_INET, A4, PEER4, 42001, 80);
	struct pw_pkt blocked = tcp(PW_AF_INET, A4, PEER4, 42001, 80, PW_TCP_ACK, 5);
	unsigned char buf[4096];
	int len;

	setup(&cfg);
	isolate_a();
	must(pw_ips_flow_block(ips, &k, 9, 1, 0), "block flow");
	must(pw_dos_block_add(dos, "192.0.2.30", PW_BL_OWNER_OPERATOR, 0, 60), "block source");
	ASSERT_EQ(xmit(PW_PROG_FROM_POD, &deny), TC_ACT_SHOT, "policy drop");
	ASSERT_EQ(xmit(PW_PROG_FROM_POD, &blocked), TC_ACT_SHOT, "IPS drop");
	ASSERT_EQ(xmit(PW_PROG_NODE_XDP, &dos_src), XDP_DROP, "DoS drop");
	ASSERT_EQ(drain(), 0, "no drop kind selected: nothing sampled");

	cfg.flags = PW_SAMPLE_F_DROP_POLICY | PW_SAMPLE_F_DROP_IPS | PW_SAMPLE_F_DROP_DOS;
	must(pw_ips_sample_cfg_write(ips, &cfg), "sample cfg");
	ASSERT_EQ(run(PW_PROG_FROM_POD, &deny, buf, &len), TC_ACT_SHOT, "policy drop");
	ASSERT_EQ(drain(), 1, "policy drop sampled");
	check_sample(&got[0], buf, len, PW_SAMPLE_K_DROP, PW_REASON_DROP_POLICY_EGRESS,
		     PW_DIR_EGRESS, EP_A);
	ASSERT_EQ(run(PW_PROG_FROM_POD, &blocked, buf, &len), TC_ACT_SHOT, "IPS drop");
	ASSERT_EQ(drain(), 1, "IPS drop sampled");
	check_sample(&got[0], buf, len, PW_SAMPLE_K_DROP, PW_REASON_DROP_IPS_BLOCKED,
		     PW_DIR_EGRESS, EP_A);
	ASSERT_EQ(run(PW_PROG_NODE_XDP, &dos_src, buf, &len), XDP_DROP, "DoS drop");
	ASSERT_EQ(drain(), 1, "DoS drop sampled from XDP");
	check_sample(&got[0], buf, len, PW_SAMPLE_K_DROP, PW_REASON_DROP_BLOCKLISTED,
		     PW_DIR_INGRESS, 0);

	cfg.flags = PW_SAMPLE_F_DROP_IPS;
	must(pw_ips_sample_cfg_write(ips, &cfg), "sample cfg");
	xmit(PW_PROG_FROM_POD, &deny);
	ASSERT_EQ(drain(), 0, "policy drops deselected");
}

static void test_sample_uplink_flow(void)
{
	/* A flow from the uplink: XDP admits it and starts its sampling, pw_to_pod copies. */
	struct pw_sample_cfg cfg = {.pkts = {2, 2}, .per_sec = 100000};
	struct pw_pkt syn = tcp(PW_AF_INET, PEER4, A4, 43000, 8080, PW_TCP_SYN, 0);
	unsigned char buf[4096];
	int len;

	setup(&cfg);
	ASSERT_EQ(run(PW_PROG_NODE_XDP, &syn, buf, &len), XDP_PASS, "uplink admits the SYN");
	ASSERT_EQ(drain(), 0, "XDP copies nothing of an allowed flow");
	ASSERT_EQ(run(PW_PROG_TO_POD, &syn, buf, &len), TC_ACT_OK, "delivered to the pod");
	ASSERT_EQ(drain(), 1, "pw_to_pod samples it");
	check_sample(&got[0], buf, len, PW_SAMPLE_K_FLOW, PW_REASON_ALLOW_ESTABLISHED,
		     PW_DIR_INGRESS, EP_A);
}

static void test_sample_rate_and_snap(void)
{
	struct pw_sample_cfg cfg = {.pkts = {100, 100}, .per_sec = 1};
	struct pw_pkt big = tcp(PW_AF_INET, A4, PEER4, 44000, 80, PW_TCP_SYN, 2500);
	struct pw_stats before;
	unsigned char buf[4096];
	int len, n = 0;

	setup(&cfg);
	/* Let the bucket fill: a second of 1 sample/s is one token. */
	{
		struct timespec ts = {.tv_sec = 1, .tv_nsec = 100000000};

		nanosleep(&ts, NULL);
	}
	before = stats();
	ASSERT_EQ(run(PW_PROG_FROM_POD, &big, buf, &len), TC_ACT_OK, "big packet passes");
	ASSERT_EQ(drain(), 1, "first sample within the rate");
	ASSERT_EQ(got[0].h.cap_len, PW_SAMPLE_SNAP, "cut to the snap length");
	ASSERT_EQ(got[0].h.wire_len, (__u32)len, "wire length kept");
	ASSERT_TRUE(!memcmp(got[0].data, buf, PW_SAMPLE_SNAP), "the first snap bytes");
	big.tcp_flags = PW_TCP_ACK;
	for (int i = 0; i < 5; i++) {
		xmit(PW_PROG_FROM_POD, &big);
		n += drain();
	}
	ASSERT_EQ(n, 0, "over the per-CPU rate: nothing sent");
	ASSERT_EQ(stats().samples_suppressed_total - before.samples_suppressed_total, 5,
		  "samples_suppressed_total");
	ASSERT_EQ(stats().samples_sent_total - before.samples_sent_total, 1, "samples_sent_total");
}

static void test_sampling_off(void)
{
	struct pw_pkt syn = tcp(PW_AF_INET, A4, PEER4, 45000, 80, PW_TCP_SYN, 0);
	struct pw_stats before = stats();

	setup(NULL);
	ASSERT_EQ(xmit(PW_PROG_FROM_POD, &syn), TC_ACT_OK, "passes");
	ASSERT_EQ(drain(), 0, "no sample with sampling off");
	ASSERT_EQ(stats().samples_suppressed_total, before.samples_suppressed_total,
		  "nothing counted as suppressed either");
}

static const struct pw_test tests[] = {
	{"flow_block_tc", test_flow_block_tc},
	{"flow_block_expiry", test_flow_block_expiry},
	{"flow_block_xdp", test_flow_block_xdp},
	{"source_block", test_source_block},
	{"sample_first_packets", test_sample_first_packets},
	{"sample_byte_cap", test_sample_byte_cap},
	{"sample_hold_and_release", test_sample_hold_and_release},
	{"sample_drops", test_sample_drops},
	{"sample_uplink_flow", test_sample_uplink_flow},
	{"sample_rate_and_snap", test_sample_rate_and_snap},
	{"sampling_off", test_sampling_off},
};

int main(int argc, char **argv)
{
	struct pw_datapath_opts o = {};
	int ret;

	pw_test_bpf_world();
	if_a = pw_test_veth("pw-a");

	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/podwall-ipstest-%d", getpid());
	o.pin_root = pin_root;
	must(pw_datapath_open(&dp, &o), "load datapath");
	must(pw_dos_open(&dos, pin_root), "open dos maps");
	must(pw_ips_maps_open(&ips, pin_root), "open ips maps");
	rb = ring_buffer__new(pw_ips_samples_fd(ips), on_sample, NULL, NULL);
	must(rb ? 0 : -errno, "sample ring buffer");
	ret = pw_test_run(tests, ARRAY_SIZE(tests), argc, argv);
	ring_buffer__free(rb);
	pw_ips_maps_free(&ips);
	pw_dos_free(&dos);
	pw_datapath_free(&dp);
	pw_datapath_unpin(pin_root);
	return ret;
}
