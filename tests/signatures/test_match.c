// SPDX-License-Identifier: GPL-2.0-only
/*
 * Matcher: for each keyword, a rule that must fire and one that must not on
 * the same unit, through the real prefilter and verification.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "sig.h"
#include "test.h"

struct hits {
	uint32_t sid[32];
	enum pw_sig_action action[32];
	int n;
};

static void on_hit(const struct pw_sig_hit *h, void *ud)
{
	struct hits *x = ud;

	if (x->n < 32) {
		x->sid[x->n] = h->sid;
		x->action[x->n] = h->action;
		x->n++;
	}
}

static bool hit(const struct hits *h, uint32_t sid)
{
	for (int i = 0; i < h->n; i++)
		if (h->sid[i] == sid)
			return true;
	return false;
}

static struct pw_sig_set *load(const char *const *rules)
{
	struct pw_sig_set *s = NULL;

	if (pw_sig_set_new(&s))
		return NULL;
	for (int i = 0; rules[i]; i++)
		if (!ASSERT_EQ(pw_sig_add_rule(s, rules[i], "t.rules", i + 1), 1, rules[i]))
			pw_test_diag("  %s",
				     pw_sig_reject_get(s, pw_sig_reject_count(s) - 1)->detail);
	if (!ASSERT_OK(pw_sig_compile(s), "compile"))
		pw_sig_set_free(&s);
	return s;
}

/* A TCP packet unit from 10.0.0.1:1234 to 192.0.2.1:80 with payload. */
static struct pw_sig_input tcp_unit(const char *payload)
{
	struct pw_sig_input in = { .family = AF_INET,
				   .l4proto = IPPROTO_TCP,
				   .tcp_flags = 0x18,
				   .sport = 1234,
				   .dport = 80,
				   .to_server = true,
				   .established = true,
				   .stream = true,
				   .icmp_type = -1,
				   .icmp_code = -1 };

	inet_pton(AF_INET, "10.0.0.1", in.src);
	inet_pton(AF_INET, "192.0.2.1", in.dst);
	in.buf[PW_BUF_PKT] = (const uint8_t *)payload;
	in.len[PW_BUF_PKT] = strlen(payload);
	in.has[PW_BUF_PKT] = true;
	in.pkt_len = strlen(payload);
	return in;
}

static struct hits run(struct pw_sig_set *s, const struct pw_sig_input *in, struct pw_sig_flow *f)
{
	struct hits h = { 0 };

	pw_sig_match(s, in, f, on_hit, &h);
	return h;
}

#define EXPECT(sid, yes) ASSERT_EQ(hit(&h, sid), yes, #sid)

static void test_content_modifiers(void)
{
	static const char *const rules[] = {
		"alert tcp any any -> any any (content:\"HELLO\"; nocase; sid:1;)",
		"alert tcp any any -> any any (content:\"HELLO\"; sid:2;)",
		"alert tcp any any -> any any (content:\"world\"; depth:8; sid:3;)",
		"alert tcp any any -> any any (content:\"world\"; depth:12; sid:4;)",
		"alert tcp any any -> any any (content:\"world\"; offset:7; sid:5;)",
		"alert tcp any any -> any any (content:\"hello\"; content:\"there\"; distance:0; within:16; sid:6;)",
		"alert tcp any any -> any any (content:\"hello\"; content:\"there\"; distance:0; within:10; sid:7;)",
		"alert tcp any any -> any any (content:\"there\"; content:\"hello\"; distance:0; sid:8;)",
		"alert tcp any any -> any any (content:\"hello\"; startswith; content:\"there\"; endswith; sid:9;)",
		"alert tcp any any -> any any (content:\"world\"; startswith; sid:10;)",
		"alert tcp any any -> any any (content:\"hello\"; content:!\"bye\"; sid:11;)",
		"alert tcp any any -> any any (content:\"hello\"; content:!\"world\"; sid:12;)",
		"alert tcp any any -> any any (content:\"|77 6f|rld\"; sid:13;)",
		/* backtracking: the first "a" fails the relative test, the second matches */
		"alert tcp any any -> any any (content:\"a\"; content:\"b\"; distance:0; within:1; sid:14;)",
		"alert tcp any any -> any any (content:\"there\"; fast_pattern:only; sid:15;)",
		"alert tcp any any -> any any (content:\"o w\"; distance:3; sid:16;)",
		NULL,
	};
	struct pw_sig_set *s = load(rules);
	struct pw_sig_input in = tcp_unit("hello world, there");
	struct hits h;

	if (!s)
		return;
	h = run(s, &in, NULL);
	EXPECT(1, true);
	EXPECT(2, false);
	EXPECT(3, false);
	EXPECT(4, true);
	EXPECT(5, false);
	EXPECT(6, true);
	EXPECT(7, false);
	EXPECT(8, false);
	EXPECT(9, true);
	EXPECT(10, false);
	EXPECT(11, true);
	EXPECT(12, false);
	EXPECT(13, true);
	EXPECT(14, false);
	EXPECT(15, true);
	EXPECT(16, true);
	in = tcp_unit("ax ab");
	h = run(s, &in, NULL);
	EXPECT(14, true);
	pw_sig_set_free(&s);
}

static void test_pcre_numeric(void)
{
	static const char *const rules[] = {
		"alert tcp any any -> any any (pcre:\"/id=\\d{3}&/\"; sid:1;)",
		"alert tcp any any -> any any (pcre:\"/ID=\\d{3}/\"; sid:2;)",
		"alert tcp any any -> any any (pcre:\"/ID=\\d{3}/i\"; sid:3;)",
		"alert tcp any any -> any any (content:\"id=\"; pcre:\"/^\\d+/R\"; sid:4;)",
		"alert tcp any any -> any any (content:\"id=\"; pcre:\"/^x/R\"; sid:5;)",
		"alert tcp any any -> any any (content:\"id\"; pcre:!\"/evil/\"; sid:6;)",
		"alert tcp any any -> any any (dsize:>10; sid:7;)",
		"alert tcp any any -> any any (dsize:<10; sid:8;)",
		"alert tcp any any -> any any (dsize:10<>20; sid:9;)",
		"alert tcp any any -> any any (content:\"id=\"; isdataat:3,relative; sid:10;)",
		"alert tcp any any -> any any (content:\"id=\"; isdataat:!40,relative; sid:11;)",
		"alert tcp any any -> any any (isdataat:100; sid:12;)",
		"alert tcp any any -> any any (content:\"id=\"; byte_test:3,=,123,0,relative,string,dec; sid:13;)",
		"alert tcp any any -> any any (content:\"id=\"; byte_test:3,>,500,0,relative,string,dec; sid:14;)",
		"alert tcp any any -> any any (byte_test:1,=,0x67,0; sid:15;)",
		"alert tcp any any -> any any (byte_jump:1,0,from_beginning,post_offset -99; content:\"id\"; within:2; sid:16;)",
		"alert tcp any any -> any any (byte_test:1,&,0x01,0; sid:17;)",
		NULL,
	};
	struct pw_sig_set *s = load(rules);
	struct pw_sig_input in = tcp_unit("get id=123&x");
	struct hits h;

	if (!s)
		return;
	h = run(s, &in, NULL);
	EXPECT(1, true);
	EXPECT(2, false);
	EXPECT(3, true);
	EXPECT(4, true);
	EXPECT(5, false);
	EXPECT(6, true);
	EXPECT(7, true);
	EXPECT(8, false);
	EXPECT(9, true);
	EXPECT(10, true);
	EXPECT(11, true);
	EXPECT(12, false);
	EXPECT(13, true);
	EXPECT(14, false);
	EXPECT(15, true);
	EXPECT(16, true);
	EXPECT(17, true);
	pw_sig_set_free(&s);
}

static void test_header_flow_flags(void)
{
	static const char *const rules[] = {
		"alert tcp 10.0.0.0/8 any -> any 80 (sid:1;)",
		"alert tcp any any -> 10.0.0.0/8 any (sid:2;)",
		"alert tcp any any <> 10.0.0.0/8 any (sid:3;)",
		"alert tcp !$HOME_NET any -> any any (sid:4;)",
		"alert tcp any [!80,1:1000] -> any ![80,443] (sid:5;)",
		"alert udp any any -> any any (sid:6;)",
		"alert ip any any -> any any (sid:7;)",
		"alert tcp any any -> any any (flow:established,to_server; sid:8;)",
		"alert tcp any any -> any any (flow:to_client; sid:9;)",
		"alert tcp any any -> any any (flow:not_established; sid:10;)",
		"alert tcp any any -> any any (flags:PA; sid:11;)",
		"alert tcp any any -> any any (flags:S; sid:12;)",
		"alert tcp any any -> any any (flags:+P; sid:13;)",
		"alert tcp any any -> any any (flags:!S; sid:14;)",
		"alert tcp any any -> any 1:100 (sid:15;)",
		"alert tcp any any -> [192.0.2.0/24,!192.0.2.1] any (sid:16;)",
		NULL,
	};
	struct pw_sig_set *s = load(rules);
	struct pw_sig_input in = tcp_unit("x");
	struct pw_sig_flow f = { 0 };
	struct hits h;

	if (!s)
		return;
	h = run(s, &in, &f);
	EXPECT(1, true);
	EXPECT(2, false);
	EXPECT(3, true);
	EXPECT(4, false);
	EXPECT(5, false);
	EXPECT(6, false);
	EXPECT(7, true);
	EXPECT(8, true);
	EXPECT(9, false);
	EXPECT(10, false);
	EXPECT(11, true);
	EXPECT(12, false);
	EXPECT(13, true);
	EXPECT(14, true);
	EXPECT(15, true);
	EXPECT(16, false);
	/* IP-only rules fire once per flow direction. */
	h = run(s, &in, &f);
	EXPECT(7, false);
	EXPECT(11, true);
	pw_sig_flow_reset(&f);
	pw_sig_set_free(&s);
}

static void test_flowbits_threshold(void)
{
	static const char *const rules[] = {
		"alert tcp any any -> any any (content:\"login\"; flowbits:set,auth; flowbits:noalert; sid:1;)",
		"alert tcp any any -> any any (content:\"cmd\"; flowbits:isset,auth; sid:2;)",
		"alert tcp any any -> any any (content:\"cmd\"; flowbits:isnotset,auth; sid:3;)",
		"alert tcp any any -> any any (content:\"logout\"; flowbits:unset,auth; sid:4;)",
		"alert tcp any any -> any any (content:\"cmd\"; threshold:type limit, track by_src, count 2, seconds 60; sid:5;)",
		"alert tcp any any -> any any (content:\"cmd\"; threshold:type threshold, track by_src, count 3, seconds 60; sid:6;)",
		"alert tcp any any -> any any (content:\"cmd\"; detection_filter:track by_dst, count 2, seconds 60; sid:7;)",
		"alert tcp any any -> any any (content:\"cmd\"; threshold:type both, track by_rule, count 2, seconds 60; sid:8;)",
		NULL,
	};
	struct pw_sig_set *s = load(rules);
	struct pw_sig_flow f = { 0 };
	struct pw_sig_input in;
	struct hits h;
	int n5 = 0, n6 = 0, n7 = 0, n8 = 0;

	if (!s)
		return;
	in = tcp_unit("cmd");
	h = run(s, &in, &f);
	EXPECT(2, false);
	EXPECT(3, true);
	in = tcp_unit("login");
	h = run(s, &in, &f);
	EXPECT(1, false); /* noalert */
	in = tcp_unit("cmd");
	h = run(s, &in, &f);
	EXPECT(2, true);
	EXPECT(3, false);
	in = tcp_unit("logout");
	run(s, &in, &f);
	in = tcp_unit("cmd");
	h = run(s, &in, &f);
	EXPECT(2, false);
	/* 3 "cmd" units so far, 3 more: 6 within the window */
	for (int i = 0; i < 3; i++)
		h = run(s, &in, &f);
	pw_sig_flow_reset(&f);
	pw_sig_set_free(&s);

	s = load(rules);
	if (!s)
		return;
	for (int i = 0; i < 6; i++) {
		in = tcp_unit("cmd");
		in.ts_usec = 1000000 + i;
		h = run(s, &in, NULL);
		n5 += hit(&h, 5);
		n6 += hit(&h, 6);
		n7 += hit(&h, 7);
		n8 += hit(&h, 8);
	}
	ASSERT_EQ(n5, 2, "limit: first 2");
	ASSERT_EQ(n6, 2, "threshold: every 3rd");
	ASSERT_EQ(n7, 4, "detection_filter: after 2");
	ASSERT_EQ(n8, 1, "both: once at 2");
	/* a new window starts counting again */
	in.ts_usec = 1000000 + 61 * 1000000ULL;
	h = run(s, &in, NULL);
	EXPECT(5, true);
	pw_sig_set_free(&s);
}

static void test_app_buffers(void)
{
	static const char *const rules[] = {
		"alert http any any -> any any (http.method; content:\"POST\"; http.uri; content:\"/login\"; startswith; sid:1;)",
		"alert http any any -> any any (http.host; content:\"example.com\"; bsize:11; sid:2;)",
		"alert http any any -> any any (http.host; content:\"example\"; bsize:<5; sid:3;)",
		"alert tcp any any -> any any (content:\"pass=\"; http_client_body; sid:4;)",
		"alert tcp any any -> any any (uricontent:\"/login\"; urilen:6; sid:5;)",
		"alert tcp any any -> any any (content:\"POST\"; http_uri; sid:6;)",
		"alert http any any -> any any (http.user_agent; content:\"curl\"; nocase; sid:7;)",
		"alert dns any any -> any any (dns.query; dotprefix; content:\".evil.org\"; endswith; sid:8;)",
		"alert tls any any -> any any (tls.sni; content:\"bad.example\"; sid:9;)",
		"alert http any any -> any any (content:\"HTTP/1.1\"; sid:10;)",
		NULL,
	};
	struct pw_sig_set *s = load(rules);
	struct pw_sig_input in = tcp_unit("POST /login HTTP/1.1");
	struct hits h;

	if (!s)
		return;
	in.app = PW_APP_HTTP;
	in.app_only = true;
#define SETBUF(b, str)                              \
	do {                                        \
		in.buf[b] = (const uint8_t *)(str); \
		in.len[b] = strlen(str);            \
		in.has[b] = true;                   \
	} while (0)
	SETBUF(PW_BUF_HTTP_METHOD, "POST");
	SETBUF(PW_BUF_HTTP_URI, "/login");
	SETBUF(PW_BUF_HTTP_HOST, "example.com");
	SETBUF(PW_BUF_HTTP_REQ_BODY, "user=a&pass=b");
	SETBUF(PW_BUF_HTTP_UA, "CURL/8");
	h = run(s, &in, NULL);
	EXPECT(1, true);
	EXPECT(2, true);
	EXPECT(3, false);
	EXPECT(4, true);
	EXPECT(5, true);
	EXPECT(6, false);
	EXPECT(7, true);
	EXPECT(8, false);
	EXPECT(10, false); /* an app unit never runs packet-only rules */
	memset(in.has, 0, sizeof(in.has));
	in.app = PW_APP_DNS;
	SETBUF(PW_BUF_DNS_QUERY, "evil.org");
	h = run(s, &in, NULL);
	EXPECT(8, true); /* dotprefix: "evil.org" is ".evil.org" */
	EXPECT(1, false);
	SETBUF(PW_BUF_DNS_QUERY, "notevil.org");
	h = run(s, &in, NULL);
	EXPECT(8, false);
	memset(in.has, 0, sizeof(in.has));
	in.app = PW_APP_TLS;
	SETBUF(PW_BUF_TLS_SNI, "bad.example");
	h = run(s, &in, NULL);
	EXPECT(9, true);
	pw_sig_set_free(&s);
}

static void test_action_order(void)
{
	static const char *const rules[] = {
		"alert tcp any any -> any any (content:\"x\"; sid:1;)",
		"drop tcp any any -> any any (content:\"x\"; sid:2;)",
		"reject tcp any any -> any any (content:\"x\"; sid:3;)",
		"pass tcp any any -> any any (content:\"pass\"; sid:4;)",
		NULL,
	};
	struct pw_sig_set *s = load(rules);
	struct pw_sig_input in = tcp_unit("x");
	struct hits h;

	if (!s)
		return;
	h = run(s, &in, NULL);
	ASSERT_EQ(h.n, 3, "three hits");
	ASSERT_EQ(h.action[0], PW_SIG_DROP, "drop first");
	ASSERT_EQ(h.action[1], PW_SIG_REJECT, "then reject");
	ASSERT_EQ(h.action[2], PW_SIG_ALERT, "alert last");
	in = tcp_unit("x pass");
	h = run(s, &in, NULL);
	ASSERT_EQ(h.n, 1, "pass stops the rest");
	ASSERT_EQ(h.action[0], PW_SIG_PASS, "pass");
	pw_sig_set_free(&s);
}

static void test_icmp(void)
{
	static const char *const rules[] = {
		"alert icmp any any -> any any (itype:8; icode:0; sid:1;)",
		"alert icmp any any -> any any (itype:0; sid:2;)",
		"alert tcp any any -> any any (itype:8; sid:3;)",
		NULL,
	};
	struct pw_sig_set *s = load(rules);
	struct pw_sig_input in = tcp_unit("ping");
	struct hits h;

	if (!s)
		return;
	in.l4proto = IPPROTO_ICMP;
	in.icmp_type = 8;
	in.icmp_code = 0;
	h = run(s, &in, NULL);
	EXPECT(1, true);
	EXPECT(2, false);
	EXPECT(3, false);
	pw_sig_set_free(&s);
}

/* Many rules sharing the prefilter: each fires only on its own pattern. */
static void test_prefilter_many(void)
{
	struct pw_sig_set *s = NULL;
	char rule[160], payload[64];
	struct pw_sig_input in;
	struct hits h;

	if (!ASSERT_OK(pw_sig_set_new(&s), "set_new"))
		return;
	for (int i = 1; i <= 2000; i++) {
		snprintf(
			rule, sizeof(rule),
			"alert tcp any any -> any any (content:\"token-%05d|00|\"; nocase; sid:%d;)",
			i, i);
		ASSERT_EQ(pw_sig_add_rule(s, rule, "-", i), 1, "load");
	}
	ASSERT_OK(pw_sig_compile(s), "compile");
	snprintf(payload, sizeof(payload), "xx TOKEN-01234");
	in = tcp_unit(payload);
	in.len[PW_BUF_PKT] = strlen(payload) + 1; /* the NUL is part of the pattern */
	h = run(s, &in, NULL);
	ASSERT_EQ(h.n, 1, "one hit");
	EXPECT(1234, true);
	pw_sig_set_free(&s);
}

/* tcp-pkt rules see the raw segment unit, tcp/tcp-stream rules the stream unit. */
static void test_tcp_views(void)
{
	static const char *const rules[] = {
		"alert tcp-pkt any any -> any any (content:\"EVIL\"; sid:1;)",
		"alert tcp-stream any any -> any any (content:\"EVIL\"; sid:2;)",
		"alert tcp any any -> any any (content:\"EVIL\"; sid:3;)",
		"alert ip any any -> any any (content:\"EVIL\"; sid:4;)",
		NULL,
	};
	struct pw_sig_set *s = load(rules);
	struct pw_sig_input in = tcp_unit("EVIL");
	struct hits h;

	if (!s)
		return;
	in.has_raw_view = true;
	h = run(s, &in, NULL);
	EXPECT(1, false);
	EXPECT(2, true);
	EXPECT(3, true);
	EXPECT(4, true);
	in.raw_view = true;
	in.stream = false;
	h = run(s, &in, NULL);
	EXPECT(1, true);
	EXPECT(2, false);
	EXPECT(3, false);
	EXPECT(4, false);
	in.raw_view = in.has_raw_view = false; /* no raw unit: tcp-pkt falls back to the stream */
	h = run(s, &in, NULL);
	EXPECT(1, true);
	pw_sig_set_free(&s);
}

/*
 * Reputation lists (header-only rules over plain IPv4 lists) are found through
 * the engine's address index, not verified one by one: hosts, prefixes of
 * several lengths, either side, with and without a flow, once per flow
 * direction, and lists the index cannot hold (negation, bidirectional).
 */
static void test_reputation_index(void)
{
	static const char *const rules[] = {
		"alert ip [198.51.100.7,203.0.113.0/24,192.0.2.0/28] any -> any any "
		"(msg:\"src list\"; sid:501;)",
		"alert ip any any -> [192.0.2.1,10.9.0.0/16] any (msg:\"dst list\"; flowbits:set,bad; "
		"sid:502;)",
		"alert ip ![192.0.2.1] any -> any any (msg:\"negated\"; sid:503;)",
		"alert ip [10.0.0.1] any <> [192.0.2.99] any (msg:\"bidir\"; sid:504;)",
		"alert ip [198.51.100.8] any -> any any (msg:\"other host\"; sid:505;)",
		NULL,
	};
	struct pw_sig_set *s = load(rules);
	struct pw_sig_input in = tcp_unit("x");
	struct pw_sig_flow f = { 0 };
	struct hits h;

	if (!s)
		return;
	/* 10.0.0.1 -> 192.0.2.1: dst list (host), not src lists; negated list excludes dst only. */
	h = run(s, &in, NULL);
	ASSERT_TRUE(!hit(&h, 501) && hit(&h, 502) && hit(&h, 503) && !hit(&h, 504) && !hit(&h, 505),
		    "host on the destination side, no flow");
	inet_pton(AF_INET, "203.0.113.77", in.src);
	inet_pton(AF_INET, "10.9.3.4", in.dst);
	h = run(s, &in, NULL);
	ASSERT_TRUE(hit(&h, 501) && hit(&h, 502), "/24 source and /16 destination");
	inet_pton(AF_INET, "192.0.2.15", in.src);
	h = run(s, &in, NULL);
	ASSERT_TRUE(hit(&h, 501), "/28: last address inside");
	inet_pton(AF_INET, "192.0.2.16", in.src);
	h = run(s, &in, NULL);
	ASSERT_TRUE(!hit(&h, 501), "/28: first address outside");
	inet_pton(AF_INET, "198.51.100.7", in.src);
	inet_pton(AF_INET, "192.0.2.99", in.dst);
	h = run(s, &in, NULL);
	ASSERT_TRUE(hit(&h, 501) && !hit(&h, 505) && !hit(&h, 502), "exact host, not its neighbour");
	/* bidir: either way round */
	inet_pton(AF_INET, "192.0.2.99", in.src);
	inet_pton(AF_INET, "10.0.0.1", in.dst);
	h = run(s, &in, NULL);
	ASSERT_TRUE(hit(&h, 504), "bidirectional list, reversed");
	/* With a flow: once per direction (501 is IP-only: it fires once anyway). */
	inet_pton(AF_INET, "198.51.100.7", in.src);
	inet_pton(AF_INET, "192.0.2.1", in.dst);
	h = run(s, &in, &f);
	ASSERT_TRUE(hit(&h, 501) && hit(&h, 502), "first packet of the direction");
	h = run(s, &in, &f);
	ASSERT_TRUE(!hit(&h, 501) && !hit(&h, 502), "not again in that direction");
	pw_sig_flow_reset(&f);
	pw_sig_set_free(&s);
}

static const struct pw_test tests[] = {
	{ "tcp_views", test_tcp_views },
	{ "content_modifiers", test_content_modifiers },
	{ "pcre_numeric", test_pcre_numeric },
	{ "header_flow_flags", test_header_flow_flags },
	{ "flowbits_threshold", test_flowbits_threshold },
	{ "app_buffers", test_app_buffers },
	{ "action_order", test_action_order },
	{ "icmp", test_icmp },
	{ "prefilter_many", test_prefilter_many },
	{ "reputation_index", test_reputation_index },
};

PW_TEST_MAIN(tests)
