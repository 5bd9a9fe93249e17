// SPDX-License-Identifier: GPL-2.0-only
/*
 * BPF_PROG_TEST_RUN tests of the uplink DoS guards: blocklist (exact, LPM,
 * precedence, expiry), token buckets (refill across time, bytes, per-pod
 * overrides, /24 granularity), auto-blocklisting, and the SYN guard (cookie
 * SYN-ACK, cookie validation, admission, flood-safe conntrack).
 *
 * Time is simulated by writing the timestamps the program keeps in its maps
 * (bucket last refill, over-limit start, entry expiry) relative to
 * CLOCK_MONOTONIC_COARSE, the clock bpf_ktime_get_coarse_ns() reads.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfworld.h"
#include "cleanup.h"
#include "datapath.h"
#include "dos.h"
#include "log.h"
#include "pkt.h"
#include "podwall/verdict.h"
#include "test.h"

#define XDP_DROP 1
#define XDP_PASS 2
#define XDP_TX	 3

#define EP_A	1
#define ID_A	1000
#define A4	"10.0.0.1"
#define A6	"fd00::1"
#define FAR4	"10.9.9.9" /* not a local pod */
#define SEC_NS	1000000000ULL
#define PASS_TO_POD UINT32_MAX /* expect(): passed on to pw_to_pod, not counted here */

static struct pw_datapath *dp;
static struct pw_dos *dos;
static char pin_root[64];
static int if_a;

static void must(int err, const char *what)
{
	if (err) {
		printf("Bail out! %s: %s\n", what, strerror(err < 0 ? -err : err));
		exit(1);
	}
}

static int pinned(const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pin_root, name);
	fd = bpf_obj_get(path);
	must(fd < 0 ? -errno : 0, path);
	return fd;
}

static void clear_map(const char *name, size_t key_size)
{
	_cleanup_close_ int fd = pinned(name);
	unsigned char k[64];

	(void)key_size;
	while (bpf_map_get_next_key(fd, NULL, k) == 0)
		bpf_map_delete_elem(fd, k);
}

static size_t map_count(const char *name)
{
	_cleanup_close_ int fd = pinned(name);
	unsigned char k[64], nk[64];
	void *prev = NULL;
	size_t n = 0;

	while (bpf_map_get_next_key(fd, prev, nk) == 0) {
		memcpy(k, nk, sizeof(k));
		prev = k;
		n++;
	}
	return n;
}

static void host(const char *addr, __u32 ifindex)
{
	struct pw_ipcache_val v = {.identity = ID_A, .ep_ifindex = ifindex};
	struct pw_host_key k;

	must(pw_host_key_parse(&k, addr), addr);
	must(pw_dp_host_put(dp, &k, &v), "ipcache host");
}

/* Pod A, unisolated (no policy), every DoS map empty, the guards configured by cfg. */
static void setup(const struct pw_dos_cfg *cfg)
{
	struct pw_endpoint ep = {.ep_id = EP_A, .identity = ID_A, .flags = PW_EP_F_READY};
	struct pw_dos_cfg off = {};

	must(pw_dp_endpoint_put(dp, if_a, &ep), "endpoint");
	host(A4, if_a);
	host(A6, if_a);
	must(pw_dp_policy_delete(dp, EP_A), "no policy");
	clear_map(PW_MAP_CT, 44);
	clear_map(PW_MAP_BLOCKLIST, 20);
	clear_map(PW_MAP_BLOCKLIST_LPM, 24);
	clear_map(PW_MAP_RL_SRC, 24);
	clear_map(PW_MAP_RL_POD, 4);
	clear_map(PW_MAP_SYN_RATE, 8);
	clear_map(PW_MAP_SYN_VERIFIED, 20);
	must(pw_dos_cfg_write(dos, cfg ?: &off), "dos cfg");
}

static int run_xdp(void *frame, size_t len, void *out, __u32 *out_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len, .repeat = 1,
		    .data_out = out, .data_size_out = out ? 256 : 0);
	int err;

	err = bpf_prog_test_run_opts(pw_datapath_prog_fd(dp, PW_PROG_NODE_XDP), &o);
	if (err)
		return -errno;
	if (out_len)
		*out_len = o.data_size_out;
	return o.retval;
}

static __u64 counted(__u32 ep, __u32 reason)
{
	struct pw_counter c = {};

	pw_dp_counter_read(dp, ep, PW_DIR_INGRESS, reason, &c);
	return c.packets;
}

static struct pw_pkt tcp(int family, const char *src, const char *dst, __u16 sport, __u16 dport,
			 __u8 flags)
{
	struct pw_pkt p = {.family = family, .src = src, .dst = dst, .proto = IPPROTO_TCP,
			   .sport = sport, .dport = dport, .tcp_flags = flags};
	return p;
}

static struct pw_pkt udp4(const char *src, const char *dst, size_t payload)
{
	struct pw_pkt p = {.family = PW_AF_INET, .src = src, .dst = dst, .proto = IPPROTO_UDP,
			   .sport = 5000, .dport = 53, .payload_len = payload};
	return p;
}

/* Sends p through pw_node_xdp; checks the action and one count under (ep, reason). */
static bool expect(const char *what, const struct pw_pkt *p, int want, __u32 ep, __u32 reason)
{
	unsigned char buf[1600];
	int len = pw_pkt_build(p, buf, sizeof(buf)), ret;
	__u64 before = reason == PASS_TO_POD ? counted(0, PW_REASON_DROP_RATE_LIMITED) +
						       counted(0, PW_REASON_DROP_BLOCKLISTED) :
					       counted(ep, reason);
	bool ok;

	if (!ASSERT_GE(len, 14, "packet built"))
		return false;
	ret = run_xdp(buf, len, NULL, NULL);
	ok = ASSERT_EQ(ret, want, what);
	if (reason == PASS_TO_POD) {
		/* Passed toward a pod: pw_to_pod counts it on delivery, XDP counts nothing. */
		if (!ASSERT_EQ(counted(0, PW_REASON_DROP_RATE_LIMITED) +
				       counted(0, PW_REASON_DROP_BLOCKLISTED) - before,
			       0, "no DoS drop counted"))
			ok = false;
		return ok;
	}
	if (!ASSERT_EQ(counted(ep, reason) - before, 1, pw_reason_name(reason))) {
		pw_test_diag("  (%s)", what);
		ok = false;
	}
	return ok;
}

#define BLOCKED(what, p)  expect(what, p, XDP_DROP, 0, PW_REASON_DROP_BLOCKLISTED)
#define LIMITED(what, p)  expect(what, p, XDP_DROP, 0, PW_REASON_DROP_RATE_LIMITED)
#define FAR_PASS(what, p) expect(what, p, XDP_PASS, 0, PW_REASON_ALLOW_NOT_LOCAL)
#define POD_PASS(what, p) expect(what, p, XDP_PASS, EP_A, PASS_TO_POD)

static void bl_put_raw(const char *addr, __u64 expires_ns, __u8 owner, __u8 flags)
{
	_cleanup_close_ int fd = pinned(PW_MAP_BLOCKLIST);
	struct pw_bl_val v = {.expires_ns = expires_ns, .owner = owner, .flags = flags};
	struct pw_host_key k;

	must(pw_host_key_parse(&k, addr), addr);
	must(bpf_map_update_elem(fd, &k, &v, BPF_ANY) ? -errno : 0, "blocklist put");
}

static bool bl_has(const char *addr)
{
	_cleanup_close_ int fd = pinned(PW_MAP_BLOCKLIST);
	struct pw_host_key k;
	struct pw_bl_val v;

	must(pw_host_key_parse(&k, addr), addr);
	return bpf_map_lookup_elem(fd, &k, &v) == 0;
}

static void test_blocklist_exact(void)
{
	struct pw_pkt p;
	__u64 before;

	setup(NULL);
	must(pw_dos_block_add(dos, "192.0.2.10", PW_BL_OWNER_OPERATOR, 0, 0), "add");
	p = udp4("192.0.2.10", FAR4, 10);
	BLOCKED("blocked source, not for a pod", &p);
	p = tcp(PW_AF_INET, "192.0.2.10", A4, 1000, 80, PW_TCP_SYN);
	BLOCKED("blocked source, for pod A: dropped before policy", &p);
	p = udp4("192.0.2.11", FAR4, 10);
	FAR_PASS("neighbour address passes", &p);
	must(pw_dos_block_add(dos, "2001:db8::10", PW_BL_OWNER_IPS, 0, 0), "add v6");
	p = tcp(PW_AF_INET6, "2001:db8::10", A6, 1000, 80, PW_TCP_SYN);
	/* The IPS's entries drop under their own reason. */
	expect("blocked v6 source (by the IPS)", &p, XDP_DROP, 0, PW_REASON_DROP_IPS_BLOCKED);
	p = tcp(PW_AF_INET6, "2001:db8::11", A6, 1000, 80, PW_TCP_SYN);
	POD_PASS("other v6 source passes", &p);
	before = counted(0, PW_REASON_DROP_BLOCKLISTED);
	ASSERT_OK(pw_dos_block_del(dos, "192.0.2.10"), "del");
	p = udp4("192.0.2.10", FAR4, 10);
	FAR_PASS("deleted entry passes", &p);
	ASSERT_EQ(counted(0, PW_REASON_DROP_BLOCKLISTED), before, "no more blocklist drops");
	ASSERT_EQ(pw_dos_block_del(dos, "192.0.2.10"), -ENOENT, "del twice");
	ASSERT_EQ(pw_dos_block_add(dos, "192.0.2.300", 1, 0, 0), -EINVAL, "bad address");
	ASSERT_EQ(pw_dos_block_add(dos, "10.0.0.0/33", 1, 0, 0), -EINVAL, "bad prefix");
}

static void test_blocklist_lpm_precedence(void)
{
	struct pw_pkt p;
	__u64 now;

	setup(NULL);
	must(pw_dos_block_add(dos, "198.51.100.0/24", PW_BL_OWNER_OPERATOR, 0, 0), "add /24");
	p = udp4("198.51.100.7", FAR4, 10);
	BLOCKED("inside the /24", &p);
	p = udp4("198.51.101.7", FAR4, 10);
	FAR_PASS("outside the /24", &p);

	/* An exact exempt entry wins over the prefix. */
	must(pw_dos_block_add(dos, "198.51.100.8", PW_BL_OWNER_OPERATOR, PW_BL_F_EXEMPT, 0), "ex");
	p = udp4("198.51.100.8", FAR4, 10);
	FAR_PASS("exact exempt beats the prefix", &p);
	/* A longer exempt prefix wins over the shorter block. */
	must(pw_dos_block_add(dos, "198.51.100.16/28", PW_BL_OWNER_OPERATOR, PW_BL_F_EXEMPT, 0),
	     "exempt /28");
	p = udp4("198.51.100.20", FAR4, 10);
	FAR_PASS("longer exempt prefix", &p);
	p = udp4("198.51.100.40", FAR4, 10);
	BLOCKED("outside the exempt /28", &p);

	/* An expired exact entry does not shadow the prefix, and is deleted on sight. */
	now = pw_dos_now_ns();
	bl_put_raw("198.51.100.9", now - SEC_NS, PW_BL_OWNER_OPERATOR, PW_BL_F_EXEMPT);
	p = udp4("198.51.100.9", FAR4, 10);
	BLOCKED("expired exempt: the prefix decides", &p);
	ASSERT_FALSE(bl_has("198.51.100.9"), "expired exact entry deleted by the datapath");

	/* An exact block inside an unblocked range, and the v6 trie. */
	must(pw_dos_block_add(dos, "2001:db8:1::/48", PW_BL_OWNER_AUTO, 0, 0), "v6 /48");
	p = tcp(PW_AF_INET6, "2001:db8:1:2::3", A6, 1, 80, PW_TCP_SYN);
	BLOCKED("inside the v6 /48", &p);
	p = tcp(PW_AF_INET6, "2001:db8:2::3", A6, 1, 80, PW_TCP_SYN);
	POD_PASS("outside the v6 /48", &p);
}

static void test_blocklist_expiry(void)
{
	_cleanup_free_ struct pw_bl_entry *list = NULL;
	_cleanup_close_ int lfd = pinned(PW_MAP_BLOCKLIST_LPM);
	struct pw_lpm_key lk;
	struct pw_bl_val v;
	struct pw_pkt p;
	size_t n = 0, i;
	__u64 now;

	setup(NULL);
	now = pw_dos_now_ns();
	bl_put_raw("192.0.2.20", now + 30 * SEC_NS, PW_BL_OWNER_OPERATOR, 0);
	p = udp4("192.0.2.20", FAR4, 10);
	BLOCKED("not yet expired", &p);
	bl_put_raw("192.0.2.20", now - 1, PW_BL_OWNER_OPERATOR, 0);
	p = udp4("192.0.2.20", FAR4, 10);
	FAR_PASS("expired a nanosecond ago", &p);

	/* Prefixes: expired ones are ignored, and swept by the control plane. */
	must(pw_lpm_key_parse(&lk, "203.0.113.0/24"), "key");
	v = (struct pw_bl_val){.expires_ns = now - 1, .owner = PW_BL_OWNER_AUTO};
	must(bpf_map_update_elem(lfd, &lk, &v, BPF_ANY) ? -errno : 0, "lpm put");
	p = udp4("203.0.113.5", FAR4, 10);
	FAR_PASS("expired prefix ignored", &p);
	must(pw_dos_block_add(dos, "203.0.112.0/24", PW_BL_OWNER_OPERATOR, 0, 3600), "ttl add");
	p = udp4("203.0.112.5", FAR4, 10);
	BLOCKED("prefix with a ttl", &p);
	ASSERT_OK(pw_dos_block_list(dos, &list, &n), "list");
	ASSERT_EQ(n, 2, "two prefixes listed");
	for (i = 0; i < n; i++) {
		if (!strcmp(list[i].cidr, "203.0.112.0/24")) {
			ASSERT_TRUE(list[i].ttl_left_s > 3590 && list[i].ttl_left_s <= 3600, "ttl");
			ASSERT_FALSE(list[i].expired, "live");
		} else {
			ASSERT_STREQ(list[i].cidr, "203.0.113.0/24", "other prefix");
			ASSERT_TRUE(list[i].expired, "expired");
			ASSERT_STREQ(pw_bl_owner_name(list[i].owner), "auto", "owner");
		}
	}
	ASSERT_EQ(pw_dos_block_sweep(dos), 1, "one swept");
	ASSERT_EQ(map_count(PW_MAP_BLOCKLIST_LPM), 1, "the live prefix stays");
}

static struct pw_rl_bucket bucket_get(const char *addr, __u32 ep_id)
{
	_cleanup_close_ int fd = pinned(PW_MAP_RL_SRC);
	struct pw_rl_bucket b = {};
	struct pw_rl_key k = {.ep_id = ep_id};
	struct pw_host_key hk;

	must(pw_host_key_parse(&hk, addr), addr);
	k.family = hk.family;
	memcpy(k.addr, hk.addr, 16);
	ASSERT_OK(bpf_map_lookup_elem(fd, &k, &b) ? -errno : 0, "bucket exists");
	return b;
}

static void bucket_put(const char *addr, __u32 ep_id, const struct pw_rl_bucket *b)
{
	_cleanup_close_ int fd = pinned(PW_MAP_RL_SRC);
	struct pw_rl_key k = {.ep_id = ep_id};
	struct pw_host_key hk;

	must(pw_host_key_parse(&hk, addr), addr);
	k.family = hk.family;
	memcpy(k.addr, hk.addr, 16);
	must(bpf_map_update_elem(fd, &k, b, BPF_ANY) ? -errno : 0, "bucket put");
}

static void test_ratelimit_refill(void)
{
	struct pw_dos_cfg cfg = {.flags = PW_DOS_F_ENABLED, .def = {.pps = 10, .burst_pkts = 5}};
	struct pw_rl_bucket b;
	struct pw_pkt p = udp4("192.0.2.30", FAR4, 10);
	char what[32];
	int i;

	setup(&cfg);
	for (i = 0; i < 5; i++) {
		snprintf(what, sizeof(what), "burst packet %d", i);
		FAR_PASS(what, &p);
	}
	LIMITED("6th packet over the burst", &p);
	b = bucket_get("192.0.2.30", 0);
	ASSERT_TRUE(b.pkt_tokens < PW_RL_SCALE, "bucket empty");
	ASSERT_EQ(b.passed, 5, "passed");
	ASSERT_EQ(b.dropped, 1, "dropped");

	/* 300 ms at 10 packets/s refill 3 packets. */
	b.last_ns -= 300000000ULL;
	bucket_put("192.0.2.30", 0, &b);
	for (i = 0; i < 3; i++) {
		snprintf(what, sizeof(what), "refilled packet %d", i);
		FAR_PASS(what, &p);
	}
	LIMITED("4th after 300 ms", &p);

	/* Ten seconds away refill to the burst, not beyond. */
	b = bucket_get("192.0.2.30", 0);
	b.last_ns -= 10 * SEC_NS;
	bucket_put("192.0.2.30", 0, &b);
	for (i = 0; i < 5; i++)
		FAR_PASS("capped refill", &p);
	LIMITED("burst is the cap", &p);

	/* Another source has its own bucket. */
	p = udp4("192.0.2.31", FAR4, 10);
	FAR_PASS("other source", &p);
	/* An exempt source (a trusted peer) is never limited. */
	must(pw_dos_block_add(dos, "192.0.2.32", PW_BL_OWNER_OPERATOR, PW_BL_F_EXEMPT, 0), "ex");
	p = udp4("192.0.2.32", FAR4, 10);
	for (i = 0; i < 20; i++)
		if (!FAR_PASS("exempt source: no limit", &p))
			break;
	/* Neighbour discovery is never limited: checked through the v6 path below. */
}

static void test_ratelimit_bytes(void)
{
	struct pw_dos_cfg cfg = {.flags = PW_DOS_F_ENABLED,
				 .def = {.bps = 1000, .burst_bytes = 1000}};
	unsigned char buf[256];
	struct pw_rl_bucket b;
	struct pw_pkt p = udp4("192.0.2.40", FAR4, 0);
	int len, i;

	setup(&cfg);
	p.min_len = 100;
	len = pw_pkt_build(&p, buf, sizeof(buf));
	ASSERT_EQ(len, 100, "100-byte frames");
	for (i = 0; i < 10; i++)
		FAR_PASS("within 1000 bytes", &p);
	LIMITED("11th 100-byte frame", &p);
	/* 50 ms at 1000 B/s = 50 bytes: not enough for 100. */
	b = bucket_get("192.0.2.40", 0);
	b.last_ns -= 50000000ULL;
	bucket_put("192.0.2.40", 0, &b);
	LIMITED("50 bytes refilled", &p);
	b = bucket_get("192.0.2.40", 0);
	b.last_ns -= 100000000ULL;
	bucket_put("192.0.2.40", 0, &b);
	FAR_PASS("100 more bytes refilled", &p);
}

static void test_ratelimit_pod_override_and_prefix(void)
{
	struct pw_dos_cfg cfg = {.flags = PW_DOS_F_ENABLED, .def = {.pps = 1000},
				 .src_prefix4 = 24};
	struct pw_rl_limit ov = {.pps = 2, .burst_pkts = 2};
	struct pw_pkt p;

	setup(&cfg);
	must(pw_dos_pod_limit_set(dos, EP_A, &ov), "override");
	p = tcp(PW_AF_INET, "192.0.2.50", A4, 1, 80, PW_TCP_SYN);
	POD_PASS("to A 1", &p);
	p.sport = 2;
	POD_PASS("to A 2", &p);
	/* Same /24: the same bucket. */
	p = tcp(PW_AF_INET, "192.0.2.51", A4, 3, 80, PW_TCP_SYN);
	LIMITED("to A 3 from the same /24: over the pod's override", &p);
	p = udp4("192.0.2.51", FAR4, 10);
	FAR_PASS("elsewhere: the global default applies", &p);
	p = tcp(PW_AF_INET, "192.0.3.50", A4, 4, 80, PW_TCP_SYN);
	POD_PASS("another /24", &p);
	must(pw_dos_pod_limit_set(dos, EP_A, NULL), "override removed");
	p = tcp(PW_AF_INET, "192.0.2.52", A4, 5, 80, PW_TCP_SYN);
	POD_PASS("override removed: default limit", &p);
	ASSERT_EQ(pw_dos_pod_limit_set(dos, 0, &ov), -ERANGE, "endpoint 0 refused");
}

static void test_auto_blocklist(void)
{
	struct pw_dos_cfg cfg = {.flags = PW_DOS_F_ENABLED, .def = {.pps = 1, .burst_pkts = 1},
				 .auto_block_ms = 500, .auto_block_ttl_s = 60};
	_cleanup_free_ struct pw_bl_entry *list = NULL;
	struct pw_dos_stats st0, st1;
	struct pw_rl_bucket b;
	struct pw_pkt p = udp4("192.0.2.60", FAR4, 10);
	size_t n = 0;
	__u64 now;

	setup(&cfg);
	must(pw_dos_stats_read(dos, &st0), "stats");
	FAR_PASS("first packet", &p);
	LIMITED("over the limit: the episode starts", &p);
	b = bucket_get("192.0.2.60", 0);
	ASSERT_NEQ(b.over_since_ns, 0, "episode started");
	ASSERT_FALSE(bl_has("192.0.2.60"), "not blocked yet");
	/* 400 ms over the limit: not yet. */
	now = pw_dos_now_ns();
	b.over_since_ns = now - 400000000ULL;
	b.last_drop_ns = now;
	b.last_ns = now;
	bucket_put("192.0.2.60", 0, &b);
	LIMITED("400 ms over", &p);
	ASSERT_FALSE(bl_has("192.0.2.60"), "not blocked at 400 ms");
	/* A quiet second ends the episode: a later drop starts a new one. */
	b = bucket_get("192.0.2.60", 0);
	b.last_drop_ns -= 2 * SEC_NS;
	b.over_since_ns -= 10 * SEC_NS;
	b.last_ns = pw_dos_now_ns();
	bucket_put("192.0.2.60", 0, &b);
	LIMITED("after a quiet second", &p);
	ASSERT_FALSE(bl_has("192.0.2.60"), "a new episode, not blocked");
	/* 600 ms of continuous drops: blocked. */
	b = bucket_get("192.0.2.60", 0);
	now = pw_dos_now_ns();
	b.over_since_ns = now - 600000000ULL;
	b.last_drop_ns = now;
	b.last_ns = now;
	bucket_put("192.0.2.60", 0, &b);
	LIMITED("600 ms over: this drop blocks it", &p);
	ASSERT_TRUE(bl_has("192.0.2.60"), "auto-blocklisted");
	BLOCKED("then the blocklist drops it", &p);
	ASSERT_OK(pw_dos_block_list(dos, &list, &n), "list");
	ASSERT_EQ(n, 1, "one entry");
	if (n == 1) {
		ASSERT_STREQ(list[0].cidr, "192.0.2.60", "entry");
		ASSERT_STREQ(pw_bl_owner_name(list[0].owner), "auto", "owner auto");
		ASSERT_TRUE(list[0].ttl_left_s > 55 && list[0].ttl_left_s <= 60, "ttl 60 s");
	}
	must(pw_dos_stats_read(dos, &st1), "stats");
	ASSERT_EQ(st1.auto_blocked_total - st0.auto_blocked_total, 1, "auto_blocked_total");
	ASSERT_EQ(st1.ratelimit_drops_total - st0.ratelimit_drops_total, 4, "ratelimit drops");
	ASSERT_EQ(st1.blocklist_drops_total - st0.blocklist_drops_total, 1, "blocklist drops");

	/* Per-/24 buckets block the /24 in the trie. */
	cfg.src_prefix4 = 24;
	setup(&cfg);
	p = udp4("192.0.2.61", FAR4, 10);
	FAR_PASS("first", &p);
	LIMITED("second", &p);
	{
		_cleanup_close_ int fd = pinned(PW_MAP_RL_SRC);
		struct pw_rl_key k = {.family = PW_AF_INET};

		inet_pton(AF_INET, "192.0.2.0", k.addr);
		must(bpf_map_lookup_elem(fd, &k, &b) ? -errno : 0, "/24 bucket");
		now = pw_dos_now_ns();
		b.over_since_ns = now - SEC_NS;
		b.last_drop_ns = now;
		b.last_ns = now;
		must(bpf_map_update_elem(fd, &k, &b, BPF_ANY) ? -errno : 0, "put");
	}
	LIMITED("blocks the /24", &p);
	p = udp4("192.0.2.99", FAR4, 10);
	BLOCKED("another address of the /24", &p);
}

/* Internet checksum over a TCP segment with its pseudo-header: 0 if valid. */
static __u16 tcp_csum(int family, const unsigned char *l3, const unsigned char *th, size_t tlen)
{
	unsigned char ph[40] = {};
	size_t phlen;

	if (family == PW_AF_INET) {
		memcpy(ph, l3 + 12, 8);
		ph[9] = IPPROTO_TCP;
		ph[10] = tlen >> 8;
		ph[11] = tlen & 0xff;
		phlen = 12;
	} else {
		memcpy(ph, l3 + 8, 32);
		ph[34] = tlen >> 8;
		ph[35] = tlen & 0xff;
		ph[39] = IPPROTO_TCP;
		phlen = 40;
	}
	{
		unsigned char all[120];

		memcpy(all, ph, phlen);
		memcpy(all + phlen, th, tlen);
		return pw_pkt_csum_fold(all, phlen + tlen, 0);
	}
}

static __u32 be32(const unsigned char *p)
{
	return (__u32)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/*
 * Sends a SYN that the guard answers; checks the SYN-ACK and returns the
 * cookie (its sequence number), or 0 on failure.
 */
static __u32 syn_cookie(int family, const char *src, const char *dst, __u16 sport, __u32 seq)
{
	struct pw_pkt p = tcp(family, src, dst, sport, 80, PW_TCP_SYN);
	unsigned char in[256], out[256];
	const unsigned char *l3 = out + 14, *th;
	__u32 out_len = 0, l3len = family == PW_AF_INET ? 20 : 40;
	int len, ret;

	p.seq = seq;
	len = pw_pkt_build(&p, in, sizeof(in));
	ret = run_xdp(in, len, out, &out_len);
	if (!ASSERT_EQ(ret, XDP_TX, "SYN answered with XDP_TX"))
		return 0;
	th = l3 + l3len;
	ASSERT_EQ(out_len, 14 + l3len + 24, "SYN-ACK length (MSS option)");
	ASSERT_TRUE(!memcmp(out, in + 6, 6) && !memcmp(out + 6, in, 6), "MACs swapped");
	if (family == PW_AF_INET) {
		ASSERT_TRUE(!memcmp(l3 + 12, in + 14 + 16, 4) && !memcmp(l3 + 16, in + 14 + 12, 4),
			    "addresses swapped");
		ASSERT_EQ(pw_pkt_csum_fold(l3, 20, 0), 0xffff, "IPv4 header checksum");
	} else {
		ASSERT_TRUE(!memcmp(l3 + 8, in + 14 + 24, 16) && !memcmp(l3 + 24, in + 14 + 8, 16),
			    "addresses swapped");
	}
	ASSERT_EQ(tcp_csum(family, l3, th, 24), 0xffff, "TCP checksum");
	ASSERT_EQ(th[0] << 8 | th[1], 80, "source port");
	ASSERT_EQ(th[2] << 8 | th[3], sport, "destination port");
	ASSERT_EQ(th[13], PW_TCP_SYN | PW_TCP_ACK, "SYN-ACK flags");
	ASSERT_EQ(be32(th + 8), seq + 1, "ack = ISN + 1");
	ASSERT_EQ(th[20], 2, "MSS option");
	ASSERT_TRUE((th[22] << 8 | th[23]) >= 536, "MSS value");
	return be32(th + 4);
}

/* The client's ACK of a SYN-ACK with cookie; returns the action (and RST checks). */
static int cookie_ack(int family, const char *src, const char *dst, __u16 sport, __u32 seq,
		      __u32 cookie, bool expect_rst)
{
	struct pw_pkt p = tcp(family, src, dst, sport, 80, PW_TCP_ACK);
	unsigned char in[256], out[256];
	__u32 out_len = 0, l3len = family == PW_AF_INET ? 20 : 40;
	int len, ret;

	p.seq = seq + 1;
	p.ack_seq = cookie + 1;
	len = pw_pkt_build(&p, in, sizeof(in));
	ret = run_xdp(in, len, out, &out_len);
	if (expect_rst && ret == XDP_TX) {
		const unsigned char *th = out + 14 + l3len;

		ASSERT_EQ(out_len, 14 + l3len + 20, "RST length");
		ASSERT_EQ(th[13], PW_TCP_RST, "RST flag");
		ASSERT_EQ(be32(th + 4), cookie + 1, "RST seq = the client's ack");
		ASSERT_EQ(tcp_csum(family, out + 14, th, 20), 0xffff, "RST checksum");
	}
	return ret;
}

static void syn_guard_case(int family, const char *dst, const char *good, const char *bad)
{
	struct pw_dos_cfg cfg = {.flags = PW_DOS_F_ENABLED, .syn_pps = 1, .syn_burst = 1};
	struct pw_dos_stats st0, st1;
	struct pw_pkt p;
	__u32 cookie;
	__u64 before;

	setup(&cfg);
	must(pw_dos_stats_read(dos, &st0), "stats");
	p = tcp(family, good, dst, 2000, 80, PW_TCP_SYN);
	POD_PASS("first SYN within the SYN rate", &p);

	before = counted(0, PW_REASON_DROP_RATE_LIMITED);
	cookie = syn_cookie(family, good, dst, 2001, 7777);
	ASSERT_NEQ(cookie, 0, "cookie");
	ASSERT_EQ(counted(0, PW_REASON_DROP_RATE_LIMITED) - before, 1, "SYN counted rate-limited");
	ASSERT_EQ(map_count(PW_MAP_CT), 1, "no conntrack entry for the answered SYN");

	/* A wrong cookie (or an ACK out of nowhere) is dropped; nothing admitted. */
	ASSERT_EQ(cookie_ack(family, bad, dst, 2002, 5555, cookie, false), XDP_DROP,
		  "cookie of another source refused");
	ASSERT_EQ(cookie_ack(family, good, dst, 2001, 7777, cookie + 12345, false), XDP_DROP,
		  "wrong cookie refused");
	ASSERT_EQ(map_count(PW_MAP_SYN_VERIFIED), 0, "nobody admitted");

	/* The right one admits the source, answered with an RST. */
	ASSERT_EQ(cookie_ack(family, good, dst, 2001, 7777, cookie, true), XDP_TX, "cookie valid");
	ASSERT_EQ(map_count(PW_MAP_SYN_VERIFIED), 1, "source admitted");
	p = tcp(family, good, dst, 2003, 80, PW_TCP_SYN);
	POD_PASS("admitted source's retry reaches the pod", &p);
	p = tcp(family, bad, dst, 2004, 80, PW_TCP_SYN);
	ASSERT_TRUE(syn_cookie(family, bad, dst, 2004, 1) != 0, "others still get cookies");

	must(pw_dos_stats_read(dos, &st1), "stats");
	ASSERT_EQ(st1.syn_cookies_sent_total - st0.syn_cookies_sent_total, 2, "cookies sent");
	ASSERT_EQ(st1.syn_cookies_bad_total - st0.syn_cookies_bad_total, 2, "bad cookies");
	ASSERT_EQ(st1.syn_cookies_ok_total - st0.syn_cookies_ok_total, 1, "good cookies");
}

static void test_syn_cookie_v4(void)
{
	syn_guard_case(PW_AF_INET, A4, "192.0.2.70", "192.0.2.71");
}

static void test_syn_cookie_v6(void)
{
	syn_guard_case(PW_AF_INET6, A6, "2001:db8::70", "2001:db8::71");
}

static void test_flood_safe_conntrack(void)
{
	struct pw_dos_cfg cfg = {.flags = PW_DOS_F_ENABLED, .syn_pps = 5, .syn_burst = 5};
	struct pw_pkt p;
	char src[32];
	int i, tx = 0;

	setup(&cfg);
	/* An established flow from before the flood. */
	p = tcp(PW_AF_INET, "192.0.2.80", A4, 3000, 80, PW_TCP_SYN);
	POD_PASS("established flow's SYN", &p);
	ASSERT_EQ(map_count(PW_MAP_CT), 1, "one flow");
	/* A spoofed flood: 200 sources. */
	for (i = 0; i < 200; i++) {
		unsigned char buf[128];
		int len;

		snprintf(src, sizeof(src), "100.64.%d.%d", i / 250, i % 250 + 1);
		p = tcp(PW_AF_INET, src, A4, 4000 + i, 80, PW_TCP_SYN);
		len = pw_pkt_build(&p, buf, sizeof(buf));
		tx += run_xdp(buf, len, NULL, NULL) == XDP_TX;
	}
	ASSERT_GE(tx, 194, "flood answered with cookies beyond the burst");
	ASSERT_TRUE(map_count(PW_MAP_CT) <= 6, "flood created at most the burst's entries");
	/* The established flow's packets still pass as established. */
	p = tcp(PW_AF_INET, "192.0.2.80", A4, 3000, 80, PW_TCP_ACK);
	POD_PASS("established flow continues during the flood", &p);
	/* A stray ACK of no flow (ACK flood) is dropped while the guard is active. */
	p = tcp(PW_AF_INET, "100.64.9.9", A4, 9, 80, PW_TCP_ACK);
	LIMITED("ACK of no flow during the flood", &p);
	/* Another port of the pod is not under attack. */
	p = tcp(PW_AF_INET, "100.64.9.9", A4, 9, 443, PW_TCP_SYN);
	POD_PASS("another port unaffected", &p);
}

static void test_disabled_by_default(void)
{
	struct pw_pkt p;
	int i;

	setup(NULL);
	/* Without configuration only the blocklist runs: no bucket, no guard. */
	for (i = 0; i < 50; i++) {
		p = tcp(PW_AF_INET, "192.0.2.90", A4, 5000 + i, 80, PW_TCP_SYN);
		if (!POD_PASS("unconfigured: nothing limited", &p))
			break;
	}
	ASSERT_EQ(map_count(PW_MAP_RL_SRC), 0, "no buckets");
	ASSERT_EQ(map_count(PW_MAP_SYN_RATE), 0, "no SYN state");
}

/* A packet through a pod's TC program (veth of pod A): action, and one count under reason. */
static bool tc_expect(const char *what, enum pw_prog prog, const struct pw_pkt *p, int want,
		      __u32 reason)
{
	__u32 dir = prog == PW_PROG_FROM_POD ? PW_DIR_EGRESS : PW_DIR_INGRESS;
	struct __sk_buff skb = {.ifindex = if_a};
	unsigned char buf[1600];
	int len = pw_pkt_build(p, buf, sizeof(buf));
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = len, .repeat = 1,
		    .ctx_in = &skb, .ctx_size_in = sizeof(skb));
	struct pw_counter before = {}, after = {};
	bool ok;

	pw_dp_counter_read(dp, EP_A, dir, reason, &before);
	if (!ASSERT_OK(bpf_prog_test_run_opts(pw_datapath_prog_fd(dp, prog), &o) ? -errno : 0,
		       "test run"))
		return false;
	pw_dp_counter_read(dp, EP_A, dir, reason, &after);
	ok = ASSERT_EQ(o.retval, want, what);
	ok &= ASSERT_EQ(after.packets - before.packets, 1, pw_reason_name(reason));
	return ok;
}

#define TC_OK	0
#define TC_SHOT 2

static void test_pod_limits(void)
{
	const char *ann[_PW_POD_ANN_MAX] = {
		[PW_POD_ANN_INGRESS_PPS] = "20",
		[PW_POD_ANN_EGRESS_BW] = "8Mbit",
	};
	struct pw_pod_limits l, got;
	struct pw_dos_stats st0, st1;
	char err[160], what[48];
	struct pw_pkt p;
	int i;

	setup(NULL);
	clear_map(PW_MAP_POD_BUCKETS, 8);
	must(pw_dos_stats_read(dos, &st0), "stats");
	ASSERT_OK(pw_dos_pod_limits_parse(&l, ann, err, sizeof(err)), "annotations");
	ASSERT_EQ(l.dir[PW_DIR_INGRESS].pps, 20, "ingress pps");
	ASSERT_EQ(l.dir[PW_DIR_INGRESS].burst_pkts, 16, "burst floor");
	ASSERT_EQ(l.dir[PW_DIR_EGRESS].bps, 1000000, "egress 8 Mbit/s = 1 MB/s");
	ASSERT_EQ(l.dir[PW_DIR_EGRESS].burst_bytes, 250000, "a quarter of a second");
	/*
	 * Fewer packets make the test shorter: the bucket itself is what is
	 * checked. Rates low enough that the test's own running time refills
	 * nothing worth a packet, even on a loaded machine (1 pkt/s, 1 kB/s).
	 */
	l.dir[PW_DIR_INGRESS].burst_pkts = 3;
	l.dir[PW_DIR_INGRESS].pps = 1;
	l.dir[PW_DIR_EGRESS].bps = 1000;
	l.dir[PW_DIR_EGRESS].burst_bytes = 100000;
	must(pw_dos_pod_limits_set(dos, EP_A, &l), "pod limits");
	ASSERT_OK(pw_dos_pod_limits_get(dos, EP_A, &got), "get");

	for (i = 0; i < 3; i++) {
		p = tcp(PW_AF_INET, "192.0.2.100", A4, 6000 + i, 80, PW_TCP_SYN);
		snprintf(what, sizeof(what), "into A %d: within the burst", i);
		tc_expect(what, PW_PROG_TO_POD, &p, TC_OK, PW_REASON_ALLOW_UNISOLATED);
	}
	p = tcp(PW_AF_INET, "192.0.2.101", A4, 6010, 80, PW_TCP_SYN);
	tc_expect("into A: 4th over the pod's pps, any source", PW_PROG_TO_POD, &p, TC_SHOT,
		  PW_REASON_DROP_RATE_LIMITED);
	{
		unsigned char buf[64];
		struct __sk_buff skb = {.ifindex = if_a};
		int len = pw_pkt_arp(buf, sizeof(buf), "10.0.0.9", A4);
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = len,
			    .repeat = 1, .ctx_in = &skb, .ctx_size_in = sizeof(skb));

		bpf_prog_test_run_opts(pw_datapath_prog_fd(dp, PW_PROG_TO_POD), &o);
		ASSERT_EQ(o.retval, TC_OK, "ARP never charged");
	}
	/* Egress has its own bucket: bytes. 1400-byte frames, 100 kB burst: 71 pass. */
	for (i = 0; i < 80; i++) {
		struct __sk_buff skb = {.ifindex = if_a};
		unsigned char buf[1600];
		int len;

		p = tcp(PW_AF_INET, A4, "192.0.2.102", 7000, 80, PW_TCP_SYN);
		p.sport = 7000 + i;
		p.min_len = 1400;
		len = pw_pkt_build(&p, buf, sizeof(buf));
		{
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = len,
				    .repeat = 1, .ctx_in = &skb, .ctx_size_in = sizeof(skb));

			bpf_prog_test_run_opts(pw_datapath_prog_fd(dp, PW_PROG_FROM_POD), &o);
			if (i < 71 && !ASSERT_EQ(o.retval, TC_OK, "egress within 100 kB"))
				break;
			if (i >= 72 && !ASSERT_EQ(o.retval, TC_SHOT, "egress over 100 kB"))
				break;
		}
	}
	must(pw_dos_stats_read(dos, &st1), "stats");
	ASSERT_GE(st1.pod_ratelimit_drops_total - st0.pod_ratelimit_drops_total, 9,
		  "pod drops counted");
	/* Removing the limits lets everything through again. */
	must(pw_dos_pod_limits_set(dos, EP_A, NULL), "remove");
	p = tcp(PW_AF_INET, "192.0.2.103", A4, 6020, 80, PW_TCP_SYN);
	tc_expect("limits removed", PW_PROG_TO_POD, &p, TC_OK, PW_REASON_ALLOW_UNISOLATED);

	ann[PW_POD_ANN_INGRESS_PPS] = "0";
	ASSERT_EQ(pw_dos_pod_limits_parse(&l, ann, err, sizeof(err)), -EINVAL, "pps 0");
	ASSERT_HAS(err, "podwall.io/ingress-pps", "message names the annotation");
	ann[PW_POD_ANN_INGRESS_PPS] = NULL;
	ann[PW_POD_ANN_EGRESS_BW] = "10Mbps";
	ASSERT_EQ(pw_dos_pod_limits_parse(&l, ann, err, sizeof(err)), -EINVAL, "bad unit");
	ASSERT_HAS(err, "kubernetes.io/egress-bandwidth", "names the annotation");
}

/* Pod A's connection count as the datapath keeps it. */
static __s64 conns(void)
{
	struct pw_conn_count c = {};

	pw_dos_conn_read(dos, EP_A, &c);
	return c.live;
}

/* One flow's conntrack entry: 0, or -ENOENT. */
static int ct_get(const char *peer, __u16 peer_port, __u16 pod_port, struct pw_ct_val *v,
		  bool del)
{
	_cleanup_close_ int fd = pinned(PW_MAP_CT);
	struct pw_ct_key k = {.ep_id = EP_A, .family = PW_AF_INET, .proto = IPPROTO_TCP,
			      .pod_port = htons(pod_port), .peer_port = htons(peer_port)};

	inet_pton(AF_INET, A4, k.pod_addr);
	inet_pton(AF_INET, peer, k.peer_addr);
	if (del)
		return bpf_map_delete_elem(fd, &k) ? -errno : 0;
	return bpf_map_lookup_elem(fd, &k, v) ? -errno : 0;
}

static void ct_age(const char *peer, __u16 peer_port, __u16 pod_port, __u64 age_ns)
{
	_cleanup_close_ int fd = pinned(PW_MAP_CT);
	struct pw_ct_key k = {.ep_id = EP_A, .family = PW_AF_INET, .proto = IPPROTO_TCP,
			      .pod_port = htons(pod_port), .peer_port = htons(peer_port)};
	struct pw_ct_val v;

	inet_pton(AF_INET, A4, k.pod_addr);
	inet_pton(AF_INET, peer, k.peer_addr);
	must(bpf_map_lookup_elem(fd, &k, &v) ? -errno : 0, "ct entry to age");
	v.last_seen_ns = pw_dos_now_ns() - age_ns;
	must(bpf_map_update_elem(fd, &k, &v, BPF_EXIST) ? -errno : 0, "age");
}

#define PEER "192.0.2.50"

static void test_max_connections(void)
{
	struct pw_ct_sweep_result r;
	struct pw_conn_count c0, c1;
	struct pw_policy_entry deny = {
		.key = {.identity = PW_ID_ANY, .dir = PW_DIR_INGRESS},
		.val = {.flags = PW_POLICY_F_ISOLATED},
	};
	struct pw_ct_val v;
	struct pw_pkt p;
	__s64 base;
	int i;

	setup(NULL);
	/* A fresh start: setup() emptied conntrack without releasing slots, as an LRU would. */
	ASSERT_OK(pw_dos_ct_sweep(dos, NULL, &r), "sweep");
	ASSERT_EQ(conns(), 0, "the sweep gave back the slots of vanished entries");
	must(pw_dos_conn_limit_set(dos, EP_A, 2), "limit 2");

	p = tcp(PW_AF_INET, PEER, A4, 1001, 80, PW_TCP_SYN);
	tc_expect("1st connection", PW_PROG_TO_POD, &p, TC_OK, PW_REASON_ALLOW_UNISOLATED);
	p = tcp(PW_AF_INET, A4, PEER, 40000, 443, PW_TCP_SYN);
	tc_expect("2nd: outgoing ones count too", PW_PROG_FROM_POD, &p, TC_OK,
		  PW_REASON_ALLOW_UNISOLATED);
	ASSERT_EQ(conns(), 2, "two held");
	p = tcp(PW_AF_INET, PEER, A4, 1003, 80, PW_TCP_SYN);
	tc_expect("3rd refused", PW_PROG_TO_POD, &p, TC_SHOT, PW_REASON_DROP_CONN_LIMIT);
	ASSERT_EQ(ct_get(PEER, 1003, 80, &v, false), -ENOENT, "no entry for the refused flow");
	p = tcp(PW_AF_INET, A4, PEER, 40001, 443, PW_TCP_SYN);
	tc_expect("3rd outgoing refused", PW_PROG_FROM_POD, &p, TC_SHOT,
		  PW_REASON_DROP_CONN_LIMIT);
	p = tcp(PW_AF_INET, PEER, A4, 1003, 80, PW_TCP_SYN);
	expect("refused in XDP too, counted under the pod", &p, XDP_DROP, EP_A,
	       PW_REASON_DROP_CONN_LIMIT);
	ASSERT_EQ(conns(), 2, "refusals hold nothing");

	/* Admitted flows carry on at the limit. */
	p = tcp(PW_AF_INET, A4, PEER, 80, 1001, PW_TCP_SYN | PW_TCP_ACK);
	tc_expect("reply of the 1st", PW_PROG_FROM_POD, &p, TC_OK, PW_REASON_ALLOW_ESTABLISHED);
	p = tcp(PW_AF_INET, PEER, A4, 1001, 80, PW_TCP_ACK);
	tc_expect("1st established", PW_PROG_TO_POD, &p, TC_OK, PW_REASON_ALLOW_ESTABLISHED);

	/* A half-close keeps the slot; FIN from both sides releases it. */
	p = tcp(PW_AF_INET, PEER, A4, 1001, 80, PW_TCP_FIN | PW_TCP_ACK);
	tc_expect("peer FIN", PW_PROG_TO_POD, &p, TC_OK, PW_REASON_ALLOW_ESTABLISHED);
	ASSERT_EQ(conns(), 2, "half-closed still held");
	p = tcp(PW_AF_INET, A4, PEER, 80, 1001, PW_TCP_FIN | PW_TCP_ACK);
	tc_expect("pod FIN", PW_PROG_FROM_POD, &p, TC_OK, PW_REASON_ALLOW_ESTABLISHED);
	ASSERT_EQ(conns(), 1, "closed: released");
	p = tcp(PW_AF_INET, PEER, A4, 1001, 80, PW_TCP_ACK);
	tc_expect("last ACK", PW_PROG_TO_POD, &p, TC_OK, PW_REASON_ALLOW_ESTABLISHED);
	ASSERT_EQ(conns(), 1, "released once, whatever follows");
	p = tcp(PW_AF_INET, PEER, A4, 1003, 80, PW_TCP_SYN);
	tc_expect("a new one fits again", PW_PROG_TO_POD, &p, TC_OK, PW_REASON_ALLOW_UNISOLATED);
	ASSERT_EQ(conns(), 2, "two held");

	/* RST releases; the ports of a closed flow reused take a slot again. */
	p = tcp(PW_AF_INET, A4, PEER, 40000, 443, PW_TCP_RST);
	tc_expect("RST", PW_PROG_FROM_POD, &p, TC_OK, PW_REASON_ALLOW_ESTABLISHED);
	ASSERT_EQ(conns(), 1, "reset: released");
	p = tcp(PW_AF_INET, A4, PEER, 40000, 443, PW_TCP_SYN);
	tc_expect("ports reused", PW_PROG_FROM_POD, &p, TC_OK, PW_REASON_ALLOW_UNISOLATED);
	ASSERT_EQ(conns(), 2, "reuse takes a slot");
	p = tcp(PW_AF_INET, PEER, A4, 1001, 80, PW_TCP_SYN);
	tc_expect("reuse over the limit refused", PW_PROG_TO_POD, &p, TC_SHOT,
		  PW_REASON_DROP_CONN_LIMIT);

	/* The limit changes live. */
	must(pw_dos_conn_limit_set(dos, EP_A, 3), "limit 3");
	tc_expect("limit raised: admitted", PW_PROG_TO_POD, &p, TC_OK,
		  PW_REASON_ALLOW_UNISOLATED);
	ASSERT_EQ(conns(), 3, "three held");

	/* Expiry met by the datapath releases the slot before the new flow takes one. */
	ct_age(PEER, 1003, 80, 70 * SEC_NS); /* SYN_SENT: 60 s */
	p = tcp(PW_AF_INET, PEER, A4, 1003, 80, PW_TCP_SYN);
	tc_expect("expired flow restarted", PW_PROG_TO_POD, &p, TC_OK,
		  PW_REASON_ALLOW_UNISOLATED);
	ASSERT_EQ(conns(), 3, "expired released, new taken");

	/* Revocation: a cut flow holds no slot; allowed again, it holds one again. */
	must(pw_dp_policy_replace(dp, EP_A, &deny, 1), "deny all ingress");
	must(pw_dp_epoch_bump(dp, NULL), "epoch");
	p = tcp(PW_AF_INET, PEER, A4, 1003, 80, PW_TCP_ACK);
	tc_expect("revoked", PW_PROG_TO_POD, &p, TC_SHOT, PW_REASON_DROP_POLICY_INGRESS);
	ASSERT_EQ(conns(), 2, "revoked: released");
	tc_expect("still revoked", PW_PROG_TO_POD, &p, TC_SHOT, PW_REASON_DROP_POLICY_INGRESS);
	ASSERT_EQ(conns(), 2, "released once");
	must(pw_dp_policy_delete(dp, EP_A), "allow again");
	must(pw_dp_epoch_bump(dp, NULL), "epoch");
	tc_expect("allowed again", PW_PROG_TO_POD, &p, TC_OK, PW_REASON_ALLOW_ESTABLISHED);
	ASSERT_EQ(conns(), 3, "held again");

	/* The sweep: expired entries deleted and released; vanished ones reclaimed. */
	ct_age(PEER, 1003, 80, 7 * 3600 * SEC_NS);
	ASSERT_OK(ct_get(PEER, 1001, 80, &v, true), "an entry vanishes (as by LRU eviction)");
	pw_dos_conn_read(dos, EP_A, &c0);
	ASSERT_OK(pw_dos_ct_sweep(dos, NULL, &r), "sweep");
	pw_dos_conn_read(dos, EP_A, &c1);
	ASSERT_EQ(r.deleted, 1, "the expired entry deleted");
	ASSERT_EQ(r.reclaimed, 2, "its slot and the vanished one's given back");
	ASSERT_EQ(conns(), 1, "one connection left");
	ASSERT_EQ(c1.reclaimed_total - c0.reclaimed_total, 2, "counted as reclaimed");
	ASSERT_OK(pw_dos_ct_sweep(dos, NULL, &r), "sweep again");
	ASSERT_EQ(r.reclaimed, 0, "nothing more: never below what is held");
	ASSERT_EQ(conns(), 1, "still one");

	/* Many flows opened and closed: the count comes back to where it was. */
	must(pw_dos_conn_limit_set(dos, EP_A, 0), "unlimited");
	base = conns();
	for (i = 0; i < 200; i++) {
		p = tcp(PW_AF_INET, PEER, A4, 20000 + i, 8080, PW_TCP_SYN);
		if (!tc_expect("open", PW_PROG_TO_POD, &p, TC_OK, PW_REASON_ALLOW_UNISOLATED))
			break;
	}
	ASSERT_EQ(conns(), base + 200, "unlimited, still counted");
	for (i = 0; i < 200; i++) {
		p = tcp(PW_AF_INET, A4, PEER, 8080, 20000 + i, PW_TCP_RST);
		if (!tc_expect("reset", PW_PROG_FROM_POD, &p, TC_OK, PW_REASON_ALLOW_ESTABLISHED))
			break;
	}
	ASSERT_EQ(conns(), base, "no leak after 200 flows");
	ASSERT_OK(pw_dos_ct_sweep(dos, NULL, &r), "sweep");
	ASSERT_EQ(r.reclaimed, 0, "the datapath released every one itself");

	/* Endpoints the control plane no longer knows: their entries purged, slots back. */
	{
		bool known[PW_MAX_ENDPOINTS] = {};
		struct pw_ct_sweep_opts o = {.ep_known = known};

		ASSERT_OK(pw_dos_ct_sweep(dos, &o, &r), "sweep with pod A gone");
		ASSERT_EQ(conns(), 0, "nothing held by a pod that is gone");
	}
	ASSERT_EQ(pw_dos_conn_limit_set(dos, 0, 5), -ERANGE, "endpoint 0 refused");
}

static void test_parsers(void)
{
	char err[128];
	__u64 v;

	ASSERT_OK(pw_dos_parse_pps("10k", &v, err, sizeof(err)), "10k");
	ASSERT_EQ(v, 10000, "10k pps");
	ASSERT_OK(pw_dos_parse_bandwidth("8Mbit", &v, err, sizeof(err)), "8Mbit");
	ASSERT_EQ(v, 1000000, "8Mbit = 1 MB/s");
	ASSERT_OK(pw_dos_parse_bandwidth("10M", &v, err, sizeof(err)), "10M");
	ASSERT_EQ(v, 1250000, "bare M is bits, as in the k8s annotation");
	ASSERT_OK(pw_dos_parse_bandwidth("2kB", &v, err, sizeof(err)), "2kB");
	ASSERT_EQ(v, 2000, "2kB");
	ASSERT_OK(pw_dos_parse_duration("5m", &v, err, sizeof(err)), "5m");
	ASSERT_EQ(v, 300000, "5m");
	ASSERT_EQ(pw_dos_parse_pps("0", &v, err, sizeof(err)), -EINVAL, "0 refused");
	ASSERT_HAS(err, "at least 1", "0 message");
	ASSERT_EQ(pw_dos_parse_pps("-5", &v, err, sizeof(err)), -EINVAL, "negative refused");
	ASSERT_HAS(err, "positive", "negative message");
	ASSERT_EQ(pw_dos_parse_bandwidth("10Mbps", &v, err, sizeof(err)), -EINVAL, "unit");
	ASSERT_HAS(err, "unknown unit \"Mbps\"", "unit message");
	ASSERT_EQ(pw_dos_parse_duration("30", &v, err, sizeof(err)), -EINVAL, "no unit");
	ASSERT_EQ(pw_dos_parse_pps("abc", &v, err, sizeof(err)), -EINVAL, "garbage");
	ASSERT_HAS(err, "not a number", "garbage message");
}

static const struct pw_test tests[] = {
	{"blocklist_exact", test_blocklist_exact},
	{"blocklist_lpm_precedence", test_blocklist_lpm_precedence},
	{"blocklist_expiry", test_blocklist_expiry},
	{"ratelimit_refill", test_ratelimit_refill},
	{"ratelimit_bytes", test_ratelimit_bytes},
	{"ratelimit_pod_override_and_prefix", test_ratelimit_pod_override_and_prefix},
	{"auto_blocklist", test_auto_blocklist},
	{"syn_cookie_v4", test_syn_cookie_v4},
	{"syn_cookie_v6", test_syn_cookie_v6},
	{"flood_safe_conntrack", test_flood_safe_conntrack},
	{"disabled_by_default", test_disabled_by_default},
	{"pod_limits", test_pod_limits},
	{"max_connections", test_max_connections},
	{"parsers", test_parsers},
};

int main(int argc, char **argv)
{
	struct pw_datapath_opts o = {};
	int ret;

	pw_test_bpf_world();
	if_a = pw_test_veth("pw-a");

	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/podwall-dostest-%d", getpid());
	o.pin_root = pin_root;
	must(pw_datapath_open(&dp, &o), "load datapath");
	must(pw_dos_open(&dos, pin_root), "open dos maps");
	ret = pw_test_run(tests, ARRAY_SIZE(tests), argc, argv);
	pw_dos_free(&dos);
	pw_datapath_free(&dp);
	pw_datapath_unpin(pin_root);
	return ret;
}
