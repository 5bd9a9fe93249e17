// SPDX-License-Identifier: GPL-2.0-only
/*
 * The datapath on real traffic: "pods" are network namespaces wired by the
 * real ptp CNI plugin, the loader attaches the real programs to their host
 * veths, the maps are filled by hand (the compiler has its own tests), and
 * real TCP, UDP and ping are allowed and denied as the maps say.
 *
 * The whole test runs in a private network and mount namespace (the node);
 * nothing touches the machine's own interfaces or addresses.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <bpf/bpf.h>

#include "bpfworld.h"
#include "cleanup.h"
#include "datapath.h"
#include "log.h"
#include "pod.h"
#include "podwall/verdict.h"
#include "test.h"

#define SUBNET	 "10.99.60.0/24"
#define ID_A	 2000
#define ID_B	 2001
#define ID_C	 2002
#define EP_A	 1
#define EP_B	 2
#define EP_C	 3
#define TIMEOUT	 700 /* ms: a denied probe waits this long */

static struct pw_datapath *dp;
static struct pw_test_pod a, b, c;
static char pin_root[64], ipam_dir[64];

static void must(int err, const char *what)
{
	if (err) {
		printf("Bail out! %s: %s\n", what, strerror(err < 0 ? -err : err));
		exit(1);
	}
}

static void endpoint(const struct pw_test_pod *p, __u32 ep_id, __u32 id, __u32 flags)
{
	struct pw_endpoint ep = {.ep_id = ep_id, .identity = id, .flags = flags};
	struct pw_ipcache_val v = {.identity = id, .ep_ifindex = p->host_ifindex};
	struct pw_host_key k;

	must(pw_host_key_parse(&k, p->ip), p->ip);
	must(pw_dp_host_put(dp, &k, &v), "ipcache");
	must(pw_dp_endpoint_put(dp, p->host_ifindex, &ep), "endpoint");
}

struct rule {
	__u32 peer;
	__u8 dir, proto;
	__u16 lo, hi;
};

/* Installs a policy isolating the pod in the directions its rules name (or isolate). */
static void policy(__u32 ep_id, const struct rule *rules, size_t n, bool iso_in, bool iso_out)
{
	struct pw_policy_entry e[16] = {};
	size_t ne = 0, i, j;

	e[ne].key = (struct pw_policy_key){.identity = PW_ID_ANY, .dir = PW_DIR_INGRESS};
	e[ne++].val.flags = iso_in ? PW_POLICY_F_ISOLATED : 0;
	e[ne].key = (struct pw_policy_key){.identity = PW_ID_ANY, .dir = PW_DIR_EGRESS};
	e[ne++].val.flags = iso_out ? PW_POLICY_F_ISOLATED : 0;
	for (i = 0; i < n; i++) {
		struct pw_policy_key k = {.identity = rules[i].peer, .dir = rules[i].dir,
					  .proto = rules[i].proto};
		struct pw_policy_val *v = NULL;

		for (j = 0; j < ne; j++)
			if (!memcmp(&e[j].key, &k, sizeof(k)))
				v = &e[j].val;
		if (!v) {
			e[ne].key = k;
			v = &e[ne++].val;
		}
		v->r[v->nranges++] = (struct pw_port_range){
			.lo = rules[i].lo, .hi = rules[i].hi, .action = PW_ACTION_ALLOW,
			.cookie = 100 + i};
	}
	must(pw_dp_policy_replace(dp, ep_id, e, ne), "policy");
	must(pw_dp_epoch_bump(dp, NULL), "epoch");
}

static __u64 drops(__u32 ep, __u32 dir, __u32 reason)
{
	struct pw_counter cnt = {};

	pw_dp_counter_read(dp, ep, dir, reason, &cnt);
	return cnt.packets;
}

static void reset_policies(void)
{
	pw_dp_policy_delete(dp, EP_A);
	pw_dp_policy_delete(dp, EP_B);
	pw_dp_policy_delete(dp, EP_C);
	endpoint(&a, EP_A, ID_A, PW_EP_F_READY);
	endpoint(&b, EP_B, ID_B, PW_EP_F_READY);
	endpoint(&c, EP_C, ID_C, PW_EP_F_READY);
	must(pw_dp_epoch_bump(dp, NULL), "epoch");
}

static void test_unisolated_traffic_flows(void)
{
	reset_policies();
	ASSERT_TRUE(pw_test_probe(&a, IPPROTO_TCP, b.ip, 8080, TIMEOUT), "A -> B tcp");
	ASSERT_TRUE(pw_test_probe(&a, IPPROTO_UDP, b.ip, 5353, TIMEOUT), "A -> B udp");
	ASSERT_TRUE(pw_test_ping(&a, b.ip), "A -> B ping");
	ASSERT_TRUE(pw_test_probe(&c, IPPROTO_TCP, a.ip, 8080, TIMEOUT), "C -> A tcp");
}

static void test_ingress_policy(void)
{
	const struct rule r[] = {
		{ID_A, PW_DIR_INGRESS, IPPROTO_TCP, 8080, 8080},
		{ID_C, PW_DIR_INGRESS, IPPROTO_UDP, 5353, 5353},
	};
	__u64 before;

	reset_policies();
	policy(EP_B, r, ARRAY_SIZE(r), true, false);
	ASSERT_TRUE(pw_test_probe(&a, IPPROTO_TCP, b.ip, 8080, TIMEOUT), "A -> B tcp/8080 allowed");
	before = drops(EP_B, PW_DIR_INGRESS, PW_REASON_DROP_POLICY_INGRESS);
	ASSERT_FALSE(pw_test_probe(&a, IPPROTO_TCP, b.ip, 8081, TIMEOUT), "A -> B tcp/8081 denied");
	ASSERT_GE(drops(EP_B, PW_DIR_INGRESS, PW_REASON_DROP_POLICY_INGRESS) - before, 1,
		  "denied SYN counted at B ingress");
	ASSERT_FALSE(pw_test_probe(&c, IPPROTO_TCP, b.ip, 8080, TIMEOUT), "C -> B tcp/8080 denied");
	ASSERT_TRUE(pw_test_probe(&c, IPPROTO_UDP, b.ip, 5353, TIMEOUT), "C -> B udp/5353 allowed");
	ASSERT_FALSE(pw_test_probe(&a, IPPROTO_UDP, b.ip, 5353, TIMEOUT), "A -> B udp/5353 denied");
	ASSERT_FALSE(pw_test_ping(&a, b.ip), "A -> B ping denied (no port-less rule)");
}

static void test_egress_policy_and_replies(void)
{
	/* A may only open TCP 8080 to B; everything A answers still goes out. */
	const struct rule r[] = {{ID_B, PW_DIR_EGRESS, IPPROTO_TCP, 8080, 8080}};

	reset_policies();
	policy(EP_A, r, ARRAY_SIZE(r), false, true);
	ASSERT_TRUE(pw_test_probe(&a, IPPROTO_TCP, b.ip, 8080, TIMEOUT), "A -> B tcp/8080");
	ASSERT_FALSE(pw_test_probe(&a, IPPROTO_TCP, c.ip, 8080, TIMEOUT), "A -> C tcp/8080 denied");
	ASSERT_FALSE(pw_test_probe(&a, IPPROTO_UDP, b.ip, 5353, TIMEOUT), "A -> B udp denied");
	/* Replies: A's answers to B and C leave through A's isolated egress. */
	ASSERT_TRUE(pw_test_probe(&b, IPPROTO_TCP, a.ip, 8080, TIMEOUT), "B -> A tcp (reply out)");
	ASSERT_TRUE(pw_test_probe(&c, IPPROTO_UDP, a.ip, 5353, TIMEOUT), "C -> A udp (reply out)");
	ASSERT_TRUE(pw_test_ping(&c, a.ip), "C -> A ping (echo reply out)");
}

static void test_all_protocols_rule(void)
{
	const struct rule r[] = {{ID_A, PW_DIR_INGRESS, 0, 0, 65535}};

	reset_policies();
	policy(EP_B, r, ARRAY_SIZE(r), true, false);
	ASSERT_TRUE(pw_test_ping(&a, b.ip), "A -> B ping with a port-less rule");
	ASSERT_TRUE(pw_test_probe(&a, IPPROTO_UDP, b.ip, 5353, TIMEOUT), "A -> B udp");
	ASSERT_FALSE(pw_test_ping(&c, b.ip), "C -> B ping denied");
}

static void test_revocation_cuts_established(void)
{
	const struct rule allow[] = {{ID_A, PW_DIR_INGRESS, IPPROTO_TCP, 8080, 8080}};
	struct pw_test_conn conn = {.ctl = -1};

	reset_policies();
	policy(EP_B, allow, ARRAY_SIZE(allow), true, false);
	if (!ASSERT_OK(pw_test_conn_open(&conn, &a, b.ip, 8080, TIMEOUT), "connection"))
		return;
	ASSERT_TRUE(pw_test_conn_echo(&conn, TIMEOUT), "echo while allowed");
	/* Same rules, new epoch: re-evaluated and still allowed. */
	must(pw_dp_epoch_bump(dp, NULL), "epoch");
	ASSERT_TRUE(pw_test_conn_echo(&conn, TIMEOUT), "echo after a harmless change");
	/* The rule goes: the established connection is cut. */
	policy(EP_B, NULL, 0, true, false);
	ASSERT_FALSE(pw_test_conn_echo(&conn, TIMEOUT), "echo after revocation");
	pw_test_conn_close(&conn);
}

static void test_not_ready_drops(void)
{
	__u64 before;

	reset_policies();
	endpoint(&b, EP_B, ID_B, 0);
	before = drops(EP_B, PW_DIR_INGRESS, PW_REASON_DROP_NOT_READY);
	ASSERT_FALSE(pw_test_probe(&a, IPPROTO_TCP, b.ip, 8080, TIMEOUT), "B not ready");
	ASSERT_GE(drops(EP_B, PW_DIR_INGRESS, PW_REASON_DROP_NOT_READY) - before, 1,
		  "counted as not-ready");
	endpoint(&b, EP_B, ID_B, PW_EP_F_READY);
	ASSERT_TRUE(pw_test_probe(&a, IPPROTO_TCP, b.ip, 8080, TIMEOUT), "B ready again");
}

static void test_detach_restores_plain_routing(void)
{
	reset_policies();
	policy(EP_B, NULL, 0, true, false);
	ASSERT_FALSE(pw_test_probe(&a, IPPROTO_TCP, b.ip, 8080, TIMEOUT), "isolated B");
	ASSERT_EQ(pw_datapath_pod_attached(dp, b.host_ifindex), 1, "attached");
	ASSERT_OK(pw_datapath_detach_pod(dp, b.host_ifindex), "detach");
	ASSERT_EQ(pw_datapath_pod_attached(dp, b.host_ifindex), 0, "detached");
	ASSERT_TRUE(pw_test_probe(&a, IPPROTO_TCP, b.ip, 8080, TIMEOUT), "no program, no policy");
	ASSERT_OK(pw_datapath_attach_pod(dp, b.host_ifindex), "attach again");
	ASSERT_FALSE(pw_test_probe(&a, IPPROTO_TCP, b.ip, 8080, TIMEOUT), "isolated again");
}

static const struct pw_test tests[] = {
	{"unisolated_traffic_flows", test_unisolated_traffic_flows},
	{"ingress_policy", test_ingress_policy},
	{"egress_policy_and_replies", test_egress_policy_and_replies},
	{"all_protocols_rule", test_all_protocols_rule},
	{"revocation_cuts_established", test_revocation_cuts_established},
	{"not_ready_drops", test_not_ready_drops},
	{"detach_restores_plain_routing", test_detach_restores_plain_routing},
};

static void cleanup(void)
{
	pw_test_pod_del(&a, SUBNET, ipam_dir);
	pw_test_pod_del(&b, SUBNET, ipam_dir);
	pw_test_pod_del(&c, SUBNET, ipam_dir);
	pw_datapath_free(&dp);
	if (pin_root[0])
		pw_datapath_unpin(pin_root);
	if (ipam_dir[0]) {
		char cmd[96];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", ipam_dir);
		if (system(cmd))
			return;
	}
}

int main(int argc, char **argv)
{
	struct pw_datapath_opts o = {};
	struct pw_test_pod *pods[] = {&a, &b, &c};
	const char *names[] = {"pwl-a", "pwl-b", "pwl-c"};
	size_t i;
	int ret;

	pw_test_live_world();

	snprintf(ipam_dir, sizeof(ipam_dir), "/tmp/pw-ipam-%d", getpid());
	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/podwall-live-%d", getpid());
	atexit(cleanup);
	o.pin_root = pin_root;
	must(pw_datapath_open(&dp, &o), "load datapath");
	for (i = 0; i < ARRAY_SIZE(pods); i++) {
		must(pw_test_pod_add(pods[i], names[i], SUBNET, ipam_dir), names[i]);
		must(pw_test_pod_serve(pods[i], IPPROTO_TCP, 8080), "tcp server");
		must(pw_test_pod_serve(pods[i], IPPROTO_TCP, 8081), "tcp server");
		must(pw_test_pod_serve(pods[i], IPPROTO_UDP, 5353), "udp server");
		must(pw_datapath_attach_pod(dp, pods[i]->host_ifindex), "attach");
	}
	ret = pw_test_run(tests, ARRAY_SIZE(tests), argc, argv);
	return ret;
}
