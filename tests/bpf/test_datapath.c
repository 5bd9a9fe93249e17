// SPDX-License-Identifier: GPL-2.0-only
/*
 * BPF_PROG_TEST_RUN tests of every datapath decision: the real objects are
 * loaded by the real loader, maps are filled as the control plane would, and
 * crafted packets run through pw_from_pod, pw_to_pod and pw_node_xdp. Each
 * case checks the return code and that exactly one packet was counted under
 * the expected (endpoint, direction, reason).
 *
 * Runs in a private network namespace with veth interfaces standing in for
 * pod veths (BPF_PROG_TEST_RUN resolves ctx.ifindex in the caller's netns).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfworld.h"
#include "cleanup.h"
#include "datapath.h"
#include "log.h"
#include "pkt.h"
#include "podwall/verdict.h"
#include "test.h"

#define TC_ACT_OK   0
#define TC_ACT_SHOT 2
#define XDP_DROP    1
#define XDP_PASS    2

/* The cast: two local pods, a third pod elsewhere, a node, CIDRs, the world. */
#define EP_A	   1
#define EP_B	   2
#define ID_A	   1000
#define ID_B	   1001
#define ID_C	   1002
#define ID_CIDR	   (PW_ID_FIRST_CIDR + 1) /* 172.16.0.0/16 */
#define ID_EXCEPT  (PW_ID_FIRST_CIDR + 2) /* 172.16.5.0/24, an `except` of it */
#define A4	   "10.0.0.1"
#define A6	   "fd00::1"
#define B4	   "10.0.0.2"
#define B6	   "fd00::2"
#define C4	   "10.1.0.3"
#define NODE4	   "10.0.0.254"
#define CIDR_IN	   "172.16.1.1"
#define CIDR_EXC   "172.16.5.7"
#define WORLD4	   "192.0.2.10"
#define WORLD6	   "2001:db8::10"
#define ROUTER4	   "192.0.2.1"

/* Cookies name the rule that decided; the values are arbitrary but distinct. */
enum {
	CK_B_TCP80 = 11,
	CK_CIDR_TLS,
	CK_ANY_DNS,
	CK_C_ALL,
	CK_B_SSH_RANGE,
	CK_DENY_22,
	CK_B_SCTP,
	CK_EG_B_8080,
	CK_SPILL,
};

static struct pw_datapath *dp;
static char pin_root[64];
static int if_a, if_b, if_unknown;

static void must(int err, const char *what)
{
	if (err) {
		printf("Bail out! %s: %s\n", what, strerror(err < 0 ? -err : err));
		exit(1);
	}
}

static void range(struct pw_policy_val *v, __u16 lo, __u16 hi, __u8 action, __u32 cookie)
{
	struct pw_port_range *r = &v->r[v->nranges++];

	r->lo = lo;
	r->hi = hi;
	r->action = action;
	r->cookie = cookie;
}

static struct pw_policy_entry *entry(struct pw_policy_entry *e, size_t *n, __u32 id, __u8 dir,
				     __u8 proto, __u16 dport)
{
	struct pw_policy_entry *x = &e[(*n)++];

	memset(x, 0, sizeof(*x));
	x->key.identity = id;
	x->key.dir = dir;
	x->key.proto = proto;
	x->key.dport = dport;
	return x;
}

/*
 * Pod A's policy. Ingress: B on TCP 80, SCTP 9000, TCP 20-30 (but 22 is
 * denied for everyone), the 172.16/16 block (except 172.16.5/24) on TCP
 * 443-445, anyone on UDP 53, C on everything. Egress: B on TCP 8080.
 * With_80 false drops the B TCP 80 rule (for revocation tests).
 */
static size_t policy_a(struct pw_policy_entry *e, bool with_80)
{
	struct pw_policy_entry *x;
	size_t n = 0;

	x = entry(e, &n, PW_ID_ANY, PW_DIR_INGRESS, 0, 0);
	x->val.flags = PW_POLICY_F_ISOLATED | PW_POLICY_F_HAS_DENY;
	x = entry(e, &n, ID_B, PW_DIR_INGRESS, IPPROTO_TCP, 0);
	if (with_80)
		range(&x->val, 80, 80, PW_ACTION_ALLOW, CK_B_TCP80);
	range(&x->val, 20, 30, PW_ACTION_ALLOW, CK_B_SSH_RANGE);
	x = entry(e, &n, ID_B, PW_DIR_INGRESS, IPPROTO_SCTP, 0);
	range(&x->val, 9000, 9000, PW_ACTION_ALLOW, CK_B_SCTP);
	x = entry(e, &n, PW_ID_ANY, PW_DIR_INGRESS, IPPROTO_TCP, 0);
	range(&x->val, 22, 22, PW_ACTION_DENY, CK_DENY_22);
	x = entry(e, &n, ID_CIDR, PW_DIR_INGRESS, IPPROTO_TCP, 0);
	range(&x->val, 443, 445, PW_ACTION_ALLOW, CK_CIDR_TLS);
	x = entry(e, &n, PW_ID_ANY, PW_DIR_INGRESS, IPPROTO_UDP, 0);
	range(&x->val, 53, 53, PW_ACTION_ALLOW, CK_ANY_DNS);
	x = entry(e, &n, ID_C, PW_DIR_INGRESS, 0, 0);
	range(&x->val, 0, 65535, PW_ACTION_ALLOW, CK_C_ALL);

	x = entry(e, &n, PW_ID_ANY, PW_DIR_EGRESS, 0, 0);
	x->val.flags = PW_POLICY_F_ISOLATED;
	x = entry(e, &n, ID_B, PW_DIR_EGRESS, IPPROTO_TCP, 0);
	range(&x->val, 8080, 8080, PW_ACTION_ALLOW, CK_EG_B_8080);
	return n;
}

static void host(const char *addr, __u32 id, __u32 cidr_id, __u32 ifindex)
{
	struct pw_ipcache_val v = {.identity = id, .cidr_identity = cidr_id, .ep_ifindex = ifindex};
	struct pw_host_key k;

	must(pw_host_key_parse(&k, addr), addr);
	must(pw_dp_host_put(dp, &k, &v), "ipcache host");
}

static void lpm(const char *cidr, __u32 cidr_id)
{
	struct pw_ipcache_val v = {.identity = PW_ID_WORLD, .cidr_identity = cidr_id};
	struct pw_lpm_key k;

	must(pw_lpm_key_parse(&k, cidr), cidr);
	must(pw_dp_lpm_put(dp, &k, &v), "ipcache lpm");
}

static void set_endpoint(int ifindex, __u32 ep_id, __u32 identity, __u32 flags)
{
	struct pw_endpoint ep = {.ep_id = ep_id, .identity = identity, .flags = flags};

	must(pw_dp_endpoint_put(dp, ifindex, &ep), "endpoint");
}

static void install_policy_a(bool with_80)
{
	struct pw_policy_entry e[16];

	must(pw_dp_policy_replace(dp, EP_A, e, policy_a(e, with_80)), "policy A");
}

static void flush_ct(void)
{
	int fd = pw_datapath_map_fd(dp, PW_MAP_ID_CT);
	struct pw_ct_key k;

	while (bpf_map_get_next_key(fd, NULL, &k) == 0)
		bpf_map_delete_elem(fd, &k);
}

/* The world every test starts from. */
static void setup_world(void)
{
	flush_ct();
	set_endpoint(if_a, EP_A, ID_A, PW_EP_F_READY);
	set_endpoint(if_b, EP_B, ID_B, PW_EP_F_READY);
	host(A4, ID_A, 0, if_a);
	host(A6, ID_A, 0, if_a);
	host(B4, ID_B, 0, if_b);
	host(B6, ID_B, 0, if_b);
	host(C4, ID_C, 0, 0);
	host(NODE4, PW_ID_HOST, 0, 0);
	lpm("172.16.0.0/16", ID_CIDR);
	lpm("172.16.5.0/24", ID_EXCEPT);
	install_policy_a(true);
	must(pw_dp_policy_delete(dp, EP_B), "policy B");
	must(pw_dp_epoch_bump(dp, NULL), "epoch");
}

static int run_prog(enum pw_prog prog, int ifindex, const void *frame, size_t len)
{
	struct __sk_buff skb = {.ifindex = ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len, .repeat = 1);
	int err;

	if (prog != PW_PROG_NODE_XDP) {
		o.ctx_in = &skb;
		o.ctx_size_in = sizeof(skb);
	}
	err = bpf_prog_test_run_opts(pw_datapath_prog_fd(dp, prog), &o);
	if (err)
		return -errno;
	return o.retval;
}

static __u64 counted(__u32 ep, __u32 dir, __u32 reason)
{
	struct pw_counter c = {};

	pw_dp_counter_read(dp, ep, dir, reason, &c);
	return c.packets;
}

/*
 * Runs one packet and checks the verdict and that it was counted once under
 * (ep, dir, reason). Returns true if both hold.
 */
static bool expect_frame(const char *what, enum pw_prog prog, int ifindex, const void *frame,
			 int len, int want_ret, __u32 ep, __u32 reason)
{
	__u32 dir = prog == PW_PROG_FROM_POD ? PW_DIR_EGRESS : PW_DIR_INGRESS;
	__u64 before = counted(ep, dir, reason);
	int ret;
	bool ok;

	if (!ASSERT_GE(len, 14, "packet built"))
		return false;
	ret = run_prog(prog, ifindex, frame, len);
	ok = ASSERT_EQ(ret, want_ret, what);
	if (!ASSERT_EQ(counted(ep, dir, reason) - before, 1, pw_reason_name(reason))) {
		pw_test_diag("  (%s)", what);
		ok = false;
	}
	return ok;
}

static bool expect(const char *what, enum pw_prog prog, int ifindex, const struct pw_pkt *p,
		   int want_ret, __u32 ep, __u32 reason)
{
	unsigned char buf[1600];

	return expect_frame(what, prog, ifindex, buf, pw_pkt_build(p, buf, sizeof(buf)), want_ret,
			    ep, reason);
}

/* Packets into pod A through its veth (pw_to_pod). */
#define TO_A(what, p, ret, reason) expect(what, PW_PROG_TO_POD, if_a, p, ret, EP_A, reason)
#define FROM_A(what, p, ret, reason) expect(what, PW_PROG_FROM_POD, if_a, p, ret, EP_A, reason)

static struct pw_pkt tcp4(const char *src, const char *dst, __u16 sport, __u16 dport, __u8 flags)
{
	struct pw_pkt p = {.family = PW_AF_INET, .src = src, .dst = dst, .proto = IPPROTO_TCP,
			   .sport = sport, .dport = dport, .tcp_flags = flags};
	return p;
}

static struct pw_pkt l4(int family, const char *src, const char *dst, __u8 proto, __u16 sport,
			__u16 dport)
{
	struct pw_pkt p = {.family = family, .src = src, .dst = dst, .proto = proto,
			   .sport = sport, .dport = dport, .tcp_flags = PW_TCP_SYN};
	return p;
}

static void test_ingress_identity_and_port(void)
{
	struct pw_pkt p;

	setup_world();
	p = tcp4(B4, A4, 40000, 80, PW_TCP_SYN);
	TO_A("B -> A tcp/80 allowed", &p, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
	p = tcp4(B4, A4, 40001, 81, PW_TCP_SYN);
	TO_A("B -> A tcp/81 denied", &p, TC_ACT_SHOT, PW_REASON_DROP_POLICY_INGRESS);
	p = tcp4(WORLD4, A4, 40002, 80, PW_TCP_SYN);
	TO_A("world -> A tcp/80 denied", &p, TC_ACT_SHOT, PW_REASON_DROP_POLICY_INGRESS);
	p = l4(PW_AF_INET, B4, A4, IPPROTO_UDP, 40003, 80);
	TO_A("B -> A udp/80 denied (rule is TCP)", &p, TC_ACT_SHOT, PW_REASON_DROP_POLICY_INGRESS);
}

static void test_port_range_and_except(void)
{
	static const struct {
		const char *src;
		__u16 port;
		int ret;
	} cases[] = {
		{CIDR_IN, 442, TC_ACT_SHOT}, {CIDR_IN, 443, TC_ACT_OK}, {CIDR_IN, 444, TC_ACT_OK},
		{CIDR_IN, 445, TC_ACT_OK},   {CIDR_IN, 446, TC_ACT_SHOT},
		/* Inside the block but in its except: no rule for that identity. */
		{CIDR_EXC, 443, TC_ACT_SHOT},
	};
	size_t i;

	setup_world();
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct pw_pkt p = tcp4(cases[i].src, A4, 41000 + i, cases[i].port, PW_TCP_SYN);
		char what[64];

		snprintf(what, sizeof(what), "%s -> A tcp/%u", cases[i].src, cases[i].port);
		TO_A(what, &p, cases[i].ret,
		     cases[i].ret == TC_ACT_OK ? PW_REASON_ALLOW_POLICY :
						 PW_REASON_DROP_POLICY_INGRESS);
	}
}

static void test_wildcards(void)
{
	struct pw_pkt p;

	setup_world();
	p = l4(PW_AF_INET, WORLD4, A4, IPPROTO_UDP, 5353, 53);
	TO_A("any identity udp/53", &p, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
	p = l4(PW_AF_INET, WORLD4, A4, IPPROTO_UDP, 5353, 54);
	TO_A("any identity udp/54", &p, TC_ACT_SHOT, PW_REASON_DROP_POLICY_INGRESS);
	p = tcp4(C4, A4, 42000, 31337, PW_TCP_SYN);
	TO_A("C all ports tcp", &p, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
	p = l4(PW_AF_INET, C4, A4, IPPROTO_UDP, 42001, 9);
	TO_A("C all protocols udp", &p, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
	p = (struct pw_pkt){.family = PW_AF_INET, .src = C4, .dst = A4, .proto = IPPROTO_ICMP,
			    .icmp_type = 8, .icmp_id = 77, .icmp_seq = 1};
	TO_A("C icmp echo", &p, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
	p = pw_pkt_reply(&p);
	FROM_A("A icmp echo reply", &p, TC_ACT_OK, PW_REASON_ALLOW_ESTABLISHED);
	p = (struct pw_pkt){.family = PW_AF_INET, .src = B4, .dst = A4, .proto = IPPROTO_ICMP,
			    .icmp_type = 8, .icmp_id = 78, .icmp_seq = 1};
	TO_A("B icmp echo (B has no port-less rule)", &p, TC_ACT_SHOT,
	     PW_REASON_DROP_POLICY_INGRESS);
}

static void test_deny_over_allow(void)
{
	struct pw_pkt p;

	setup_world();
	p = tcp4(B4, A4, 43000, 22, PW_TCP_SYN);
	TO_A("tcp/22 denied although B's 20-30 allows", &p, TC_ACT_SHOT,
	     PW_REASON_DROP_POLICY_INGRESS);
	p = tcp4(B4, A4, 43001, 23, PW_TCP_SYN);
	TO_A("tcp/23 allowed by B's 20-30", &p, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
}

static void test_sctp_not_tcp(void)
{
	struct pw_pkt p;

	setup_world();
	p = l4(PW_AF_INET, B4, A4, IPPROTO_SCTP, 43100, 9000);
	TO_A("sctp/9000 allowed", &p, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
	p = tcp4(B4, A4, 43101, 9000, PW_TCP_SYN);
	TO_A("tcp/9000 denied (rule is SCTP)", &p, TC_ACT_SHOT, PW_REASON_DROP_POLICY_INGRESS);
	p = l4(PW_AF_INET, B4, A4, IPPROTO_SCTP, 43102, 80);
	TO_A("sctp/80 denied (rule is TCP)", &p, TC_ACT_SHOT, PW_REASON_DROP_POLICY_INGRESS);
}

static void test_conntrack_reply_and_states(void)
{
	int ctfd = pw_datapath_map_fd(dp, PW_MAP_ID_CT);
	struct pw_ct_key k = {.ep_id = EP_A, .family = PW_AF_INET, .proto = IPPROTO_TCP};
	struct pw_ct_val v;
	struct pw_pkt syn, p;

	setup_world();
	k.pod_port = htons(80);
	k.peer_port = htons(44000);
	inet_pton(AF_INET, A4, k.pod_addr);
	inet_pton(AF_INET, B4, k.peer_addr);

	syn = tcp4(B4, A4, 44000, 80, PW_TCP_SYN);
	TO_A("SYN in", &syn, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
	ASSERT_OK(bpf_map_lookup_elem(ctfd, &k, &v), "ct entry created");
	ASSERT_EQ(v.state, PW_CT_SYN_SENT, "state after SYN");
	ASSERT_EQ(v.origin_dir, PW_DIR_INGRESS, "origin");
	ASSERT_EQ(v.cookie, CK_B_TCP80, "cookie");

	/* A's egress allows only TCP 8080 to B: the reply passes by conntrack. */
	p = tcp4(A4, B4, 80, 44000, PW_TCP_SYN | PW_TCP_ACK);
	FROM_A("SYN-ACK out", &p, TC_ACT_OK, PW_REASON_ALLOW_ESTABLISHED);
	bpf_map_lookup_elem(ctfd, &k, &v);
	ASSERT_EQ(v.state, PW_CT_SYN_RECV, "state after SYN-ACK");
	p = tcp4(B4, A4, 44000, 80, PW_TCP_ACK);
	TO_A("ACK in", &p, TC_ACT_OK, PW_REASON_ALLOW_ESTABLISHED);
	bpf_map_lookup_elem(ctfd, &k, &v);
	ASSERT_EQ(v.state, PW_CT_ESTABLISHED, "state after ACK");
	p = tcp4(A4, B4, 80, 44000, PW_TCP_FIN | PW_TCP_ACK);
	FROM_A("FIN out", &p, TC_ACT_OK, PW_REASON_ALLOW_ESTABLISHED);
	bpf_map_lookup_elem(ctfd, &k, &v);
	ASSERT_EQ(v.state, PW_CT_FIN_WAIT, "state after one FIN");
	p = tcp4(B4, A4, 44000, 80, PW_TCP_FIN | PW_TCP_ACK);
	TO_A("FIN in", &p, TC_ACT_OK, PW_REASON_ALLOW_ESTABLISHED);
	bpf_map_lookup_elem(ctfd, &k, &v);
	ASSERT_EQ(v.state, PW_CT_CLOSING, "state after both FINs");
	p = tcp4(A4, B4, 80, 44000, PW_TCP_RST);
	FROM_A("RST out", &p, TC_ACT_OK, PW_REASON_ALLOW_ESTABLISHED);
	bpf_map_lookup_elem(ctfd, &k, &v);
	ASSERT_EQ(v.state, PW_CT_CLOSED, "state after RST");

	/* The reply direction never opens a flow: a SYN from A to B:44000 is new (and denied). */
	p = tcp4(A4, B4, 80, 44000, PW_TCP_SYN);
	FROM_A("SYN from the responder side is a new flow", &p, TC_ACT_SHOT,
	       PW_REASON_DROP_POLICY_EGRESS);
}

static void test_conntrack_timeout(void)
{
	int ctfd = pw_datapath_map_fd(dp, PW_MAP_ID_CT);
	struct pw_ct_key k = {.ep_id = EP_A, .family = PW_AF_INET, .proto = IPPROTO_UDP};
	struct pw_ct_val v;
	struct pw_pkt p;

	setup_world();
	k.pod_port = htons(53);
	k.peer_port = htons(45000);
	inet_pton(AF_INET, A4, k.pod_addr);
	inet_pton(AF_INET, WORLD4, k.peer_addr);
	p = l4(PW_AF_INET, WORLD4, A4, IPPROTO_UDP, 45000, 53);
	TO_A("udp query in", &p, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
	ASSERT_OK(bpf_map_lookup_elem(ctfd, &k, &v), "udp ct entry");
	ASSERT_EQ(v.state, PW_CT_UNREPLIED, "unreplied");
	p = pw_pkt_reply(&p);
	FROM_A("udp answer out", &p, TC_ACT_OK, PW_REASON_ALLOW_ESTABLISHED);
	bpf_map_lookup_elem(ctfd, &k, &v);
	ASSERT_EQ(v.state, PW_CT_REPLIED, "replied");

	/* Age the entry past its timeout: the answer is now a new (denied) egress flow. */
	v.last_seen_ns = 1;
	ASSERT_OK(bpf_map_update_elem(ctfd, &k, &v, BPF_EXIST), "age entry");
	FROM_A("answer after timeout", &p, TC_ACT_SHOT, PW_REASON_DROP_POLICY_EGRESS);
}

static void test_epoch_revocation(void)
{
	struct pw_pkt syn, ack, out;

	setup_world();
	syn = tcp4(B4, A4, 46000, 80, PW_TCP_SYN);
	ack = tcp4(B4, A4, 46000, 80, PW_TCP_ACK);
	out = tcp4(A4, B4, 80, 46000, PW_TCP_ACK);
	TO_A("admitted", &syn, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
	TO_A("established", &ack, TC_ACT_OK, PW_REASON_ALLOW_ESTABLISHED);

	/* Same policy, new epoch: still allowed after re-evaluation. */
	must(pw_dp_epoch_bump(dp, NULL), "epoch");
	TO_A("re-evaluated, still allowed", &ack, TC_ACT_OK, PW_REASON_ALLOW_ESTABLISHED);

	/* Permission revoked: the established flow is cut in both directions. */
	install_policy_a(false);
	must(pw_dp_epoch_bump(dp, NULL), "epoch");
	FROM_A("reply after revocation", &out, TC_ACT_SHOT, PW_REASON_DROP_POLICY_INGRESS);
	TO_A("packet after revocation", &ack, TC_ACT_SHOT, PW_REASON_DROP_POLICY_INGRESS);

	/* Without an epoch bump a changed policy does not touch admitted flows. */
	install_policy_a(true);
	must(pw_dp_epoch_bump(dp, NULL), "epoch");
	TO_A("admitted again", &syn, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
	install_policy_a(false);
	TO_A("no bump: flow stays", &ack, TC_ACT_OK, PW_REASON_ALLOW_ESTABLISHED);
}

static void test_node_to_pod(void)
{
	struct pw_datapath_opts o = {.pin_root = pin_root, .deny_host = true};
	struct pw_datapath *strict = NULL;
	struct pw_pkt p;

	setup_world();
	p = tcp4(NODE4, A4, 47000, 9999, PW_TCP_SYN);
	TO_A("node -> pod allowed (kubelet probes)", &p, TC_ACT_OK, PW_REASON_ALLOW_HOST);
	p = tcp4(A4, NODE4, 47001, 9999, PW_TCP_SYN);
	FROM_A("pod -> node follows egress policy", &p, TC_ACT_SHOT, PW_REASON_DROP_POLICY_EGRESS);

	/* Configured off: the same packet meets the pod's ingress policy. */
	if (!ASSERT_OK(pw_datapath_open(&strict, &o), "open with deny_host"))
		return;
	p = tcp4(NODE4, A4, 47002, 9999, PW_TCP_SYN);
	{
		unsigned char buf[256];
		int len = pw_pkt_build(&p, buf, sizeof(buf));
		struct __sk_buff skb = {.ifindex = if_a};
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = buf, .data_size_in = len,
			    .ctx_in = &skb, .ctx_size_in = sizeof(skb));

		ASSERT_OK(bpf_prog_test_run_opts(pw_datapath_prog_fd(strict, PW_PROG_TO_POD), &t),
			  "test run");
		ASSERT_EQ(t.retval, TC_ACT_SHOT, "node -> pod denied when allow_host is off");
	}
	pw_datapath_free(&strict);
	/* Put the permissive programs back under the shared pins. */
	pw_datapath_free(&dp);
	o.deny_host = false;
	must(pw_datapath_open(&dp, &o), "reopen");
}

static void test_not_ready(void)
{
	struct pw_pkt p;

	setup_world();
	set_endpoint(if_a, EP_A, ID_A, 0);
	p = tcp4(B4, A4, 48000, 80, PW_TCP_SYN);
	TO_A("not ready: dropped", &p, TC_ACT_SHOT, PW_REASON_DROP_NOT_READY);
	p = tcp4(A4, B4, 48001, 8080, PW_TCP_SYN);
	FROM_A("not ready: egress dropped too", &p, TC_ACT_SHOT, PW_REASON_DROP_NOT_READY);
	p = tcp4(B4, A4, 48002, 80, PW_TCP_SYN);
	expect("unknown interface: dropped", PW_PROG_TO_POD, if_unknown, &p, TC_ACT_SHOT, 0,
	       PW_REASON_DROP_NOT_READY);
	set_endpoint(if_a, EP_A, ID_A, PW_EP_F_READY);
	p = tcp4(B4, A4, 48003, 80, PW_TCP_SYN);
	TO_A("ready again", &p, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
}

static void test_unisolated(void)
{
	struct pw_pkt p;

	setup_world();
	p = tcp4(WORLD4, B4, 49000, 1234, PW_TCP_SYN);
	expect("B has no policy: allowed", PW_PROG_TO_POD, if_b, &p, TC_ACT_OK, EP_B,
	       PW_REASON_ALLOW_UNISOLATED);
	p = tcp4(B4, WORLD4, 49001, 443, PW_TCP_SYN);
	expect("B egress allowed", PW_PROG_FROM_POD, if_b, &p, TC_ACT_OK, EP_B,
	       PW_REASON_ALLOW_UNISOLATED);
}

static void test_egress(void)
{
	struct pw_pkt p;

	setup_world();
	p = tcp4(A4, B4, 50000, 8080, PW_TCP_SYN);
	FROM_A("A -> B tcp/8080 allowed", &p, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
	p = tcp4(A4, WORLD4, 50001, 8080, PW_TCP_SYN);
	FROM_A("A -> world tcp/8080 denied", &p, TC_ACT_SHOT, PW_REASON_DROP_POLICY_EGRESS);
	p = l4(PW_AF_INET6, A6, B6, IPPROTO_TCP, 50002, 8080);
	FROM_A("A -> B over IPv6 allowed", &p, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
}

static void test_ipv6(void)
{
	struct pw_pkt p;

	setup_world();
	p = l4(PW_AF_INET6, B6, A6, IPPROTO_TCP, 51000, 80);
	TO_A("B6 -> A6 tcp/80 allowed", &p, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
	p = l4(PW_AF_INET6, WORLD6, A6, IPPROTO_TCP, 51001, 80);
	TO_A("world6 -> A6 denied", &p, TC_ACT_SHOT, PW_REASON_DROP_POLICY_INGRESS);
	p = l4(PW_AF_INET6, B6, A6, IPPROTO_TCP, 51002, 80);
	p.ext[0] = IPPROTO_HOPOPTS;
	p.ext[1] = IPPROTO_DSTOPTS;
	p.ext[2] = IPPROTO_ROUTING;
	p.n_ext = 3;
	TO_A("through extension headers", &p, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
	p = (struct pw_pkt){.family = PW_AF_INET6, .src = C4, .dst = A6};
	{
		unsigned char buf[256];
		int len = pw_pkt_nd(buf, sizeof(buf), B6, A6);

		expect_frame("neighbour solicitation passes", PW_PROG_TO_POD, if_a, buf, len,
			     TC_ACT_OK, EP_A, PW_REASON_ALLOW_NEIGH);
	}
}

static void test_fragments(void)
{
	struct pw_pkt p;
	int fam;

	for (fam = PW_AF_INET; fam <= PW_AF_INET6; fam += 2) {
		const char *src = fam == PW_AF_INET ? WORLD4 : WORLD6;
		const char *dst = fam == PW_AF_INET ? A4 : A6;

		setup_world();
		p = l4(fam, src, dst, IPPROTO_UDP, 52000, 53);
		p.frag = true;
		p.more_frags = true;
		p.frag_id = 0x1234;
		p.payload_len = 64;
		TO_A("first fragment, allowed port", &p, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
		p.frag_offset = 9;
		p.more_frags = false;
		TO_A("later fragment follows", &p, TC_ACT_OK, PW_REASON_ALLOW_FRAGMENT);
		p.frag_id = 0x4321;
		TO_A("later fragment of nothing", &p, TC_ACT_SHOT, PW_REASON_DROP_FRAGMENT);

		p = l4(fam, src, dst, IPPROTO_UDP, 52001, 54);
		p.frag = true;
		p.more_frags = true;
		p.frag_id = 0x5555;
		TO_A("first fragment, denied port", &p, TC_ACT_SHOT, PW_REASON_DROP_POLICY_INGRESS);
		p.frag_offset = 9;
		p.more_frags = false;
		TO_A("its later fragment is dropped", &p, TC_ACT_SHOT, PW_REASON_DROP_FRAGMENT);
	}
}

static void test_malformed(void)
{
	static const struct {
		int family;
		enum pw_pkt_mangle m;
	} cases[] = {
		{PW_AF_INET, PW_PKT_TRUNC_L3},	   {PW_AF_INET, PW_PKT_TRUNC_L4},
		{PW_AF_INET, PW_PKT_BAD_IHL},	   {PW_AF_INET, PW_PKT_IHL_BEYOND},
		{PW_AF_INET, PW_PKT_BAD_TOTLEN},   {PW_AF_INET, PW_PKT_BAD_VERSION},
		{PW_AF_INET, PW_PKT_TCP_BAD_DOFF}, {PW_AF_INET6, PW_PKT_TRUNC_L3},
		{PW_AF_INET6, PW_PKT_TRUNC_L4},	   {PW_AF_INET6, PW_PKT_BAD_TOTLEN},
		{PW_AF_INET6, PW_PKT_BAD_VERSION}, {PW_AF_INET6, PW_PKT_EXT_TRUNC},
		{PW_AF_INET6, PW_PKT_EXT_LOOP},	   {PW_AF_INET6, PW_PKT_TCP_BAD_DOFF},
	};
	size_t i;

	setup_world();
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct pw_pkt p = l4(cases[i].family, cases[i].family == PW_AF_INET ? B4 : B6,
				     cases[i].family == PW_AF_INET ? A4 : A6, IPPROTO_TCP, 53000,
				     80);
		char what[64];

		p.mangle = cases[i].m;
		if (cases[i].m == PW_PKT_EXT_TRUNC) {
			p.ext[0] = IPPROTO_DSTOPTS;
			p.n_ext = 1;
		}
		snprintf(what, sizeof(what), "v%d mangle %d", cases[i].family, cases[i].m);
		/* The parser is shared; the uplink program sees every case. */
		expect(what, PW_PROG_NODE_XDP, 0, &p, XDP_DROP, 0, PW_REASON_DROP_MALFORMED);
		/* BPF_PROG_TEST_RUN refuses to build an skb whose L3 header is cut (-EINVAL). */
		if (cases[i].m == PW_PKT_TRUNC_L3)
			continue;
		TO_A(what, &p, TC_ACT_SHOT, PW_REASON_DROP_MALFORMED);
		FROM_A(what, &p, TC_ACT_SHOT, PW_REASON_DROP_MALFORMED);
	}
}

static void test_arp(void)
{
	unsigned char buf[128];
	int len = pw_pkt_arp(buf, sizeof(buf), B4, A4);

	setup_world();
	expect_frame("ARP passes", PW_PROG_TO_POD, if_a, buf, len, TC_ACT_OK, EP_A,
		     PW_REASON_ALLOW_NEIGH);
	set_endpoint(if_a, EP_A, ID_A, 0);
	expect_frame("ARP passes a not-ready pod too", PW_PROG_FROM_POD, if_a, buf, len,
		     TC_ACT_OK, EP_A, PW_REASON_ALLOW_NEIGH);
}

static void test_icmp_related(void)
{
	struct pw_pkt out, err, quoted;

	setup_world();
	out = tcp4(A4, B4, 54000, 8080, PW_TCP_SYN);
	FROM_A("flow out", &out, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
	quoted = out;
	err = (struct pw_pkt){.family = PW_AF_INET, .src = ROUTER4, .dst = A4,
			      .proto = IPPROTO_ICMP, .icmp_type = 3, .icmp_code = 4,
			      .inner = &quoted};
	TO_A("frag-needed about it is related", &err, TC_ACT_OK, PW_REASON_ALLOW_RELATED);
	quoted.dport = 8081;
	TO_A("error about an unknown flow", &err, TC_ACT_SHOT, PW_REASON_DROP_POLICY_INGRESS);

	out = l4(PW_AF_INET6, A6, B6, IPPROTO_TCP, 54001, 8080);
	FROM_A("v6 flow out", &out, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
	quoted = out;
	err = (struct pw_pkt){.family = PW_AF_INET6, .src = WORLD6, .dst = A6,
			      .proto = IPPROTO_ICMPV6, .icmp_type = 2, .icmp_seq = 1280,
			      .inner = &quoted};
	TO_A("v6 packet-too-big is related", &err, TC_ACT_OK, PW_REASON_ALLOW_RELATED);
}

static void test_tcp_invalid_flags(void)
{
	struct pw_pkt p;

	setup_world();
	p = tcp4(B4, A4, 55000, 80, PW_TCP_SYN | PW_TCP_FIN);
	TO_A("SYN+FIN", &p, TC_ACT_SHOT, PW_REASON_DROP_CT_INVALID);
	p = tcp4(B4, A4, 55001, 80, 0);
	TO_A("no flags", &p, TC_ACT_SHOT, PW_REASON_DROP_CT_INVALID);
	p = tcp4(B4, A4, 55002, 80, PW_TCP_RST);
	TO_A("RST of no flow: policy decides, nothing tracked", &p, TC_ACT_OK,
	     PW_REASON_ALLOW_POLICY);
}

static void test_spill(void)
{
	struct pw_policy_entry e[4];
	struct pw_policy_entry *x;
	struct pw_pkt p;
	size_t n = 0;
	__u16 i;

	setup_world();
	x = entry(e, &n, PW_ID_ANY, PW_DIR_INGRESS, 0, 0);
	x->val.flags = PW_POLICY_F_ISOLATED;
	x = entry(e, &n, ID_B, PW_DIR_INGRESS, IPPROTO_TCP, 0);
	for (i = 0; i < PW_POLICY_RANGES; i++)
		range(&x->val, 1000 + 2 * i, 1000 + 2 * i, PW_ACTION_ALLOW, CK_SPILL);
	x->val.flags = PW_POLICY_F_SPILL;
	x = entry(e, &n, ID_B, PW_DIR_INGRESS, IPPROTO_TCP, 5000);
	range(&x->val, 5000, 5000, PW_ACTION_ALLOW, CK_SPILL + 1);
	must(pw_dp_policy_replace(dp, EP_A, e, n), "spill policy");
	must(pw_dp_epoch_bump(dp, NULL), "epoch");

	p = tcp4(B4, A4, 56000, 1030, PW_TCP_SYN);
	TO_A("16th range", &p, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
	p = tcp4(B4, A4, 56001, 5000, PW_TCP_SYN);
	TO_A("spilled single port", &p, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
	p = tcp4(B4, A4, 56002, 5001, PW_TCP_SYN);
	TO_A("neither", &p, TC_ACT_SHOT, PW_REASON_DROP_POLICY_INGRESS);
}

static void test_xdp_uplink(void)
{
	struct pw_pkt p;

	setup_world();
	p = tcp4(WORLD4, A4, 57000, 80, PW_TCP_SYN);
	expect("uplink: denied for A, dropped in XDP", PW_PROG_NODE_XDP, 0, &p, XDP_DROP, EP_A,
	       PW_REASON_DROP_POLICY_INGRESS);
	p = tcp4(WORLD4, "10.9.9.9", 57001, 80, PW_TCP_SYN);
	expect("uplink: not for a local pod", PW_PROG_NODE_XDP, 0, &p, XDP_PASS, 0,
	       PW_REASON_ALLOW_NOT_LOCAL);
	p = l4(PW_AF_INET6, WORLD6, A6, IPPROTO_TCP, 57002, 80);
	expect("uplink v6: denied", PW_PROG_NODE_XDP, 0, &p, XDP_DROP, EP_A,
	       PW_REASON_DROP_POLICY_INGRESS);
	p.mangle = PW_PKT_TRUNC_L4;
	expect("uplink: malformed", PW_PROG_NODE_XDP, 0, &p, XDP_DROP, 0,
	       PW_REASON_DROP_MALFORMED);

	/* Allowed: XDP admits the flow and passes it; pw_to_pod then counts it once. */
	p = tcp4(B4, A4, 57003, 80, PW_TCP_SYN);
	{
		unsigned char buf[256];
		int len = pw_pkt_build(&p, buf, sizeof(buf));

		ASSERT_EQ(run_prog(PW_PROG_NODE_XDP, 0, buf, len), XDP_PASS, "uplink: allowed");
	}
	TO_A("delivered after XDP admitted it", &p, TC_ACT_OK, PW_REASON_ALLOW_ESTABLISHED);

	set_endpoint(if_a, EP_A, ID_A, 0);
	p = tcp4(B4, A4, 57004, 80, PW_TCP_SYN);
	expect("uplink: not ready", PW_PROG_NODE_XDP, 0, &p, XDP_DROP, EP_A,
	       PW_REASON_DROP_NOT_READY);
}

static void test_audit(void)
{
	struct pw_pkt p;

	setup_world();
	set_endpoint(if_a, EP_A, ID_A, PW_EP_F_READY | PW_EP_F_AUDIT);
	p = tcp4(WORLD4, A4, 58000, 80, PW_TCP_SYN);
	TO_A("audit: would be denied, passes", &p, TC_ACT_OK, PW_REASON_ALLOW_AUDIT);
	p.mangle = PW_PKT_TRUNC_L4;
	TO_A("audit does not pass malformed packets", &p, TC_ACT_SHOT, PW_REASON_DROP_MALFORMED);
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct pw_event *out = ctx;

	if (len >= sizeof(*out))
		memcpy(out, data, sizeof(*out));
	return 0;
}

static void test_events(void)
{
	struct pw_event ev = {};
	struct ring_buffer *rb;
	__u64 hits0 = 0, hits = 0;
	struct pw_pkt p;

	setup_world();
	rb = ring_buffer__new(pw_datapath_map_fd(dp, PW_MAP_ID_EVENTS), on_event, &ev, NULL);
	if (!ASSERT_OK_PTR(rb, "ring buffer"))
		return;
	ring_buffer__consume(rb); /* earlier tests' records */
	memset(&ev, 0, sizeof(ev));
	p = tcp4(B4, A4, 59000, 22, PW_TCP_SYN);
	TO_A("denied by the deny rule", &p, TC_ACT_SHOT, PW_REASON_DROP_POLICY_INGRESS);
	ASSERT_GE(ring_buffer__consume(rb), 1, "a record");
	ASSERT_EQ(ev.type, PW_EVENT_DROP, "type");
	ASSERT_EQ(ev.reason, PW_REASON_DROP_POLICY_INGRESS, "reason");
	ASSERT_EQ(ev.cookie, CK_DENY_22, "cookie names the deny rule");
	ASSERT_EQ(ev.ep_id, EP_A, "endpoint");
	ASSERT_EQ(ev.peer_identity, ID_B, "peer identity");
	ASSERT_EQ(ntohs(ev.dport), 22, "port");
	ASSERT_EQ(ev.dir, PW_DIR_INGRESS, "direction");

	ASSERT_OK(pw_dp_rule_hits_read(dp, CK_B_TCP80, &hits0), "rule hits read");
	p = tcp4(B4, A4, 59001, 80, PW_TCP_SYN);
	TO_A("allowed", &p, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
	pw_dp_rule_hits_read(dp, CK_B_TCP80, &hits);
	ASSERT_EQ(hits, hits0 + 1, "the allowing rule's hit counter counts the new flow");
	p.tcp_flags = PW_TCP_ACK;
	TO_A("established", &p, TC_ACT_OK, PW_REASON_ALLOW_ESTABLISHED);
	pw_dp_rule_hits_read(dp, CK_B_TCP80, &hits);
	ASSERT_EQ(hits, hits0 + 1, "established packets are no new hits");
	ASSERT_GE(ring_buffer__consume(rb), 1, "a verdict record");
	ASSERT_EQ(ev.type, PW_EVENT_VERDICT, "verdict type");
	ASSERT_EQ(ev.cookie, CK_B_TCP80, "cookie names the allow rule");

	/* podwall.io/log-verdicts: denied -> no record of allowed flows, drops still. */
	set_endpoint(if_a, EP_A, ID_A, PW_EP_F_READY | PW_EP_F_QUIET_ALLOWED);
	p = tcp4(B4, A4, 59002, 80, PW_TCP_SYN);
	TO_A("quiet-allowed: allowed", &p, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
	ASSERT_EQ(ring_buffer__consume(rb), 0, "quiet-allowed: no verdict record");
	p = tcp4(B4, A4, 59003, 22, PW_TCP_SYN);
	TO_A("quiet-allowed: denied", &p, TC_ACT_SHOT, PW_REASON_DROP_POLICY_INGRESS);
	ASSERT_EQ(ring_buffer__consume(rb), 1, "quiet-allowed: the drop record");
	/* none -> nothing at all, while the verdicts and counters stay the same. */
	set_endpoint(if_a, EP_A, ID_A, PW_EP_F_READY | PW_EP_F_QUIET_ALLOWED | PW_EP_F_QUIET_DENIED);
	p = tcp4(B4, A4, 59004, 22, PW_TCP_SYN);
	TO_A("quiet: denied", &p, TC_ACT_SHOT, PW_REASON_DROP_POLICY_INGRESS);
	p = tcp4(B4, A4, 59005, 80, PW_TCP_SYN);
	TO_A("quiet: allowed", &p, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
	ASSERT_EQ(ring_buffer__consume(rb), 0, "quiet: no record");
	/* Audit: the would-be drop is a verdict record with its own reason and the rule. */
	set_endpoint(if_a, EP_A, ID_A, PW_EP_F_READY | PW_EP_F_AUDIT | PW_EP_F_QUIET_ALLOWED);
	memset(&ev, 0, sizeof(ev));
	p = tcp4(B4, A4, 59006, 22, PW_TCP_SYN);
	TO_A("audit: deny rule passes", &p, TC_ACT_OK, PW_REASON_ALLOW_AUDIT);
	ASSERT_EQ(ring_buffer__consume(rb), 1, "audit: one record despite quiet-allowed");
	ASSERT_EQ(ev.type, PW_EVENT_VERDICT, "audit: verdict type");
	ASSERT_EQ(ev.reason, PW_REASON_ALLOW_AUDIT, "audit: reason audit-denied");
	ASSERT_EQ(ev.cookie, CK_DENY_22, "audit: cookie names the deny rule");
	set_endpoint(if_a, EP_A, ID_A, PW_EP_F_READY | PW_EP_F_AUDIT | PW_EP_F_QUIET_DENIED);
	p = tcp4(B4, A4, 59007, 22, PW_TCP_SYN);
	TO_A("audit, quiet-denied: passes", &p, TC_ACT_OK, PW_REASON_ALLOW_AUDIT);
	ASSERT_EQ(ring_buffer__consume(rb), 0, "audit, quiet-denied: no record");
	ring_buffer__free(rb);
}

/*
 * Swaps between two policies that both allow B -> A tcp/80 while packets
 * flow. Each swap costs an RCU grace period in the kernel (map-in-map
 * update), so a few hundred keep the test short.
 */
#define PW_SWAPS 100
static atomic_int swapping;

static void *swapper(void *arg)
{
	struct pw_policy_entry e[16];
	size_t n = policy_a(e, true);
	__u32 i;

	(void)arg;
	for (i = 0; i < PW_SWAPS && atomic_load(&swapping); i++) {
		/* Alternate the entry order and cookies so consecutive maps differ. */
		e[1].val.r[0].cookie = i;
		if (pw_dp_policy_replace(dp, EP_A, e, n))
			break;
	}
	atomic_store(&swapping, 0);
	return NULL;
}

static void test_atomic_replace(void)
{
	unsigned char buf[256];
	pthread_t th;
	int runs = 0, drops = 0;
	__u16 sport = 1;

	setup_world();
	atomic_store(&swapping, 1);
	pthread_create(&th, NULL, swapper, NULL);
	while (atomic_load(&swapping)) {
		/* A new source port each time: every packet is a new flow, decided by policy. */
		struct pw_pkt p = tcp4(B4, A4, sport++, 80, PW_TCP_SYN);
		int len = pw_pkt_build(&p, buf, sizeof(buf));

		if (run_prog(PW_PROG_TO_POD, if_a, buf, len) != TC_ACT_OK)
			drops++;
		runs++;
	}
	pthread_join(th, NULL);
	pw_test_diag("%d new flows during %d policy swaps", runs, PW_SWAPS);
	ASSERT_GE(runs, 100, "packets ran during swaps");
	ASSERT_EQ(drops, 0, "no packet saw a half-written policy");
}

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * Many endpoints' policies swapped in one batch (what podwalld does when a
 * policy selects many local pods): each endpoint gets its own new map, one
 * that cannot go in does not stop the others, and the batch waits for one
 * RCU grace period instead of one per endpoint.
 */
#define PW_BATCH 16
static void test_batch_swap(void)
{
	struct pw_policy_entry e[16], iso = { .key = { .identity = PW_ID_ANY,
						       .dir = PW_DIR_INGRESS } };
	__u32 ids[3] = { EP_A, 7, EP_B }, bids[PW_BATCH], inner;
	int fds[3], bfds[PW_BATCH], outer = pw_datapath_map_fd(dp, PW_MAP_ID_POLICY);
	bool swapped[3] = {}, bswapped[PW_BATCH] = {};
	double t0, singles, batch;
	struct pw_pkt p;

	setup_world();
	iso.val.flags = PW_POLICY_F_ISOLATED;
	fds[0] = pw_dp_policy_build(dp, EP_A, e, policy_a(e, false));
	fds[1] = dup(0); /* not a map: this one must fail alone */
	fds[2] = pw_dp_policy_build(dp, EP_B, &iso, 1);
	if (!ASSERT_GE(fds[0], 0, "build A") || !ASSERT_GE(fds[2], 0, "build B"))
		return;
	ASSERT_ERR(pw_dp_policy_swap(dp, ids, fds, 3, swapped), "the bad one is reported");
	ASSERT_TRUE(swapped[0] && !swapped[1] && swapped[2], "the others went in");
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	ASSERT_TRUE(bpf_map_lookup_elem(outer, &ids[1], &inner) < 0, "nothing for the bad one");
	p = tcp4(B4, A4, 41001, 80, PW_TCP_SYN);
	TO_A("A's new policy in force: B -> A tcp/80 denied", &p, TC_ACT_SHOT,
	     PW_REASON_DROP_POLICY_INGRESS);
	p = tcp4(A4, B4, 41002, 8080, PW_TCP_SYN);
	expect("B's new policy in force: A -> B isolated", PW_PROG_TO_POD, if_b, &p, TC_ACT_SHOT,
	       EP_B, PW_REASON_DROP_POLICY_INGRESS);

	/* PW_BATCH swaps one by one, then as one batch. */
	for (int i = 0; i < PW_BATCH; i++)
		bids[i] = 100 + (__u32)i;
	t0 = mono_ms();
	for (int i = 0; i < PW_BATCH; i++)
		must(pw_dp_policy_replace(dp, bids[i], &iso, 1), "single swap");
	singles = mono_ms() - t0;
	for (int i = 0; i < PW_BATCH; i++)
		bfds[i] = pw_dp_policy_build(dp, bids[i], &iso, 1);
	t0 = mono_ms();
	ASSERT_OK(pw_dp_policy_swap(dp, bids, bfds, PW_BATCH, bswapped), "batch swap");
	batch = mono_ms() - t0;
	for (int i = 0; i < PW_BATCH; i++) {
		ASSERT_TRUE(bswapped[i], "swapped");
		close(bfds[i]);
		bpf_map_delete_elem(outer, &bids[i]);
	}
	pw_test_diag("%d swaps: %.1f ms one by one, %.1f ms as one batch", PW_BATCH, singles,
		     batch);
	/* 16 grace periods against one: a wide margin for a loaded machine. */
	ASSERT_TRUE(batch * 4 < singles, "a batch waits for one grace period, not one each");
}

static void test_readopt_pins(void)
{
	struct pw_datapath_opts o = {.pin_root = pin_root};
	struct pw_endpoint ep;
	struct pw_pkt p;

	setup_world();
	/* A restart: close everything, open again on the same pins. */
	pw_datapath_free(&dp);
	must(pw_datapath_open(&dp, &o), "reopen");
	ASSERT_OK(pw_dp_endpoint_get(dp, if_a, &ep), "endpoint survived");
	ASSERT_EQ(ep.ep_id, EP_A, "endpoint id");
	p = tcp4(B4, A4, 60000, 80, PW_TCP_SYN);
	TO_A("policy survived", &p, TC_ACT_OK, PW_REASON_ALLOW_POLICY);
	p = tcp4(WORLD4, A4, 60001, 80, PW_TCP_SYN);
	TO_A("isolation survived", &p, TC_ACT_SHOT, PW_REASON_DROP_POLICY_INGRESS);
}

static const struct pw_test tests[] = {
	{"ingress_identity_and_port", test_ingress_identity_and_port},
	{"port_range_and_except", test_port_range_and_except},
	{"wildcard_identity_port_proto", test_wildcards},
	{"deny_over_allow", test_deny_over_allow},
	{"sctp_not_tcp", test_sctp_not_tcp},
	{"conntrack_reply_and_tcp_states", test_conntrack_reply_and_states},
	{"conntrack_timeout", test_conntrack_timeout},
	{"epoch_revocation", test_epoch_revocation},
	{"node_to_pod", test_node_to_pod},
	{"not_ready", test_not_ready},
	{"unisolated", test_unisolated},
	{"egress", test_egress},
	{"ipv6", test_ipv6},
	{"fragments", test_fragments},
	{"malformed", test_malformed},
	{"arp", test_arp},
	{"icmp_related", test_icmp_related},
	{"tcp_invalid_flags", test_tcp_invalid_flags},
	{"policy_spill", test_spill},
	{"xdp_uplink", test_xdp_uplink},
	{"audit", test_audit},
	{"events", test_events},
	{"atomic_replace", test_atomic_replace},
	{"batch_swap", test_batch_swap},
	{"readopt_pins", test_readopt_pins},
};

int main(int argc, char **argv)
{
	struct pw_datapath_opts o = {};
	int ret;

	pw_test_bpf_world();
	if_a = pw_test_veth("pw-a");
	if_b = pw_test_veth("pw-b");
	if_unknown = pw_test_veth("pw-x");

	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/podwall-test-%d", getpid());
	o.pin_root = pin_root;
	must(pw_datapath_open(&dp, &o), "load datapath");
	ret = pw_test_run(tests, ARRAY_SIZE(tests), argc, argv);
	pw_datapath_free(&dp);
	pw_datapath_unpin(pin_root);
	return ret;
}
