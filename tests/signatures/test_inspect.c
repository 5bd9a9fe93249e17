// SPDX-License-Identifier: GPL-2.0-only
/*
 * The offline inspector on captures built with the packet builder: TCP
 * reassembly (out of order, retransmitted and overlapping segments, gaps), the
 * TLS SNI split across segments, HTTP and DNS (UDP and TCP) buffers, the flow
 * table bound and --simulate-ips blocking.
 */
#include <netinet/in.h>

#include <jansson.h>

#include "inspect.h"
#include "pkt.h"
#include "sig.h"
#include "test.h"

#define MAXF 64

struct cap {
	void *f[MAXF];
	size_t len[MAXF];
	size_t n;
};

/* Appends a frame whose L4 payload is data (the builder's pattern is overwritten). */
static void add(struct cap *c, const struct pw_pkt *p, const void *data, size_t n)
{
	struct pw_pkt q = *p;
	uint8_t *buf = malloc(2048);
	int len;

	q.payload_len = n;
	len = pw_pkt_build(&q, buf, 2048);
	if (!ASSERT_GE(len, (int)n, "build") || c->n == MAXF) {
		free(buf);
		return;
	}
	memcpy(buf + len - n, data, n);
	c->f[c->n] = buf;
	c->len[c->n++] = len;
}

static void cap_free(struct cap *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->f[i]);
	c->n = 0;
}

static struct pw_pkt tcp(bool to_server, uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct pw_pkt p = { .family = PW_AF_INET,
			    .proto = IPPROTO_TCP,
			    .sport = 40000,
			    .dport = 443,
			    .tcp_flags = flags,
			    .seq = seq,
			    .ack_seq = ack,
			    .src = PW_PKT_V4_SRC,
			    .dst = PW_PKT_V4_DST };

	if (!to_server) {
		p.src = PW_PKT_V4_DST;
		p.dst = PW_PKT_V4_SRC;
		p.sport = 443;
		p.dport = 40000;
	}
	return p;
}

static void handshake(struct cap *c, uint16_t dport)
{
	struct pw_pkt p = tcp(true, PW_TCP_SYN, 100, 0);

	p.dport = dport;
	add(c, &p, "", 0);
	p = tcp(false, PW_TCP_SYN | PW_TCP_ACK, 500, 101);
	p.sport = dport;
	add(c, &p, "", 0);
	p = tcp(true, PW_TCP_ACK, 101, 501);
	p.dport = dport;
	add(c, &p, "", 0);
}

/* Runs the capture through the inspector; returns the alert count of sid (or all with 0). */
static int inspect(struct cap *c, const char *rules, struct pw_inspect_opts *o,
		   struct pw_inspect_stats *st, uint32_t sid, const char *field, const char *want)
{
	char pcap[] = "/tmp/pw-insp-XXXXXX", rf[] = "/tmp/pw-rules-XXXXXX",
	     eve[] = "/tmp/pw-eve-XXXXXX";
	struct pw_sig_set *s = NULL;
	int fd, n = 0, ok_field = 0;
	FILE *f;
	char line[8192];

	close(mkstemp(pcap));
	fd = mkstemp(rf);
	if (write(fd, rules, strlen(rules)) < 0)
		return -1;
	close(fd);
	close(mkstemp(eve));
	if (!ASSERT_OK(pw_pkt_write_pcap(pcap, (const void *const *)c->f, c->len, c->n), "pcap"))
		return -1;
	ASSERT_OK(pw_sig_set_new(&s), "set");
	ASSERT_GE(pw_sig_load_file(s, rf), 1, "rules");
	ASSERT_OK(pw_sig_compile(s), "compile");
	o->eve_path = eve;
	ASSERT_OK(pw_inspect_pcap(s, pcap, o, st), "inspect");
	f = fopen(eve, "r");
	while (f && fgets(line, sizeof(line), f)) {
		json_t *r = json_loads(line, 0, NULL);
		json_t *v = json_object_get(json_object_get(r, "alert"), "signature_id");

		if (!sid || json_integer_value(v) == sid) {
			n++;
			if (field) {
				char *dup = strdup(field), *save = NULL;
				json_t *cur = r;

				for (char *t = strtok_r(dup, ".", &save); t && cur;
				     t = strtok_r(NULL, ".", &save))
					cur = json_object_get(cur, t);
				ok_field += cur && json_is_string(cur) &&
					    !strcmp(json_string_value(cur), want);
				free(dup);
			}
		}
		json_decref(r);
	}
	if (f)
		fclose(f);
	if (field)
		ASSERT_EQ(ok_field, n, field);
	pw_sig_set_free(&s);
	if (getenv("PW_KEEP")) { /* keep the files of a failing case for tshark */
		pw_test_diag("kept %s %s %s", pcap, rf, eve);
		return n;
	}
	unlink(pcap);
	unlink(rf);
	unlink(eve);
	return n;
}

/* A ClientHello carrying SNI "split.example.com", as a TLS record. */
static size_t client_hello(uint8_t *out)
{
	static const char name[] = "split.example.com";
	uint8_t body[256];
	size_t n = 0, nl = sizeof(name) - 1, ext = 9 + nl;

	body[n++] = 3;
	body[n++] = 3; /* TLS 1.2 */
	memset(body + n, 0x11, 32);
	n += 32;
	body[n++] = 0; /* no session id */
	body[n++] = 0;
	body[n++] = 2;
	body[n++] = 0x13;
	body[n++] = 0x01; /* one cipher suite */
	body[n++] = 1;
	body[n++] = 0; /* null compression */
	body[n++] = ext >> 8;
	body[n++] = ext & 0xff; /* extensions length */
	body[n++] = 0;
	body[n++] = 0; /* server_name */
	body[n++] = (nl + 5) >> 8;
	body[n++] = (nl + 5) & 0xff;
	body[n++] = (nl + 3) >> 8;
	body[n++] = (nl + 3) & 0xff;
	body[n++] = 0; /* host_name */
	body[n++] = nl >> 8;
	body[n++] = nl & 0xff;
	memcpy(body + n, name, nl);
	n += nl;
	out[0] = 22;
	out[1] = 3;
	out[2] = 1;
	out[3] = (n + 4) >> 8;
	out[4] = (n + 4) & 0xff;
	out[5] = 1; /* ClientHello */
	out[6] = 0;
	out[7] = n >> 8;
	out[8] = n & 0xff;
	memcpy(out + 9, body, n);
	return n + 9;
}

static void test_tls_sni_split_out_of_order(void)
{
	struct pw_inspect_opts o = { 0 };
	struct pw_inspect_stats st;
	struct cap c = { 0 };
	uint8_t ch[300];
	size_t n = client_hello(ch), cut = 40;
	struct pw_pkt p;

	handshake(&c, 443);
	/* second half first, then the first half, then the first half again (retransmission) */
	p = tcp(true, PW_TCP_ACK | PW_TCP_PSH, 101 + cut, 501);
	add(&c, &p, ch + cut, n - cut);
	p = tcp(true, PW_TCP_ACK, 101, 501);
	add(&c, &p, ch, cut);
	add(&c, &p, ch, cut + 10); /* overlapping retransmission */
	ASSERT_EQ(inspect(&c,
			  "alert tls any any -> any any (tls.sni; content:\"split.example.com\"; "
			  "bsize:17; sid:1;)\n",
			  &o, &st, 1, "tls.sni", "split.example.com"),
		  1, "one alert for the split SNI");
	ASSERT_EQ(st.tls_sni, 1, "one SNI parsed");
	ASSERT_EQ(st.flows, 1, "one flow for both directions");
	cap_free(&c);
}

static void test_http_segments_and_stream_rule(void)
{
	static const char req[] =
		"GET /admin/%63onfig.php?x=1 HTTP/1.1\r\nHost: Www.Example.COM:8080\r\n"
		"User-Agent: evil-scanner\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
	struct pw_inspect_opts o = { 0 };
	struct pw_inspect_stats st;
	struct cap c = { 0 };
	struct pw_pkt p;
	const char *rules =
		"alert http any any -> any any (http.uri; content:\"/admin/config.php\"; startswith; sid:1;)\n"
		"alert http any any -> any any (http.host; content:\"www.example.com\"; bsize:15; sid:2;)\n"
		"alert tcp any any -> any 80 (flow:established,to_server; content:\"evil-scanner\"; sid:3;)\n"
		"alert http any any -> any any (http.stat_code; content:\"200\"; file.data; content:\"hello\"; sid:4;)\n"
		"alert http any any -> any any (http.uri; content:\"nothere\"; sid:5;)\n";

	handshake(&c, 80);
	/* The request in three segments; "evil-scanner" is cut across two of them. */
	p = tcp(true, PW_TCP_ACK, 101, 501);
	p.dport = 80;
	add(&c, &p, req, 20);
	p.seq = 101 + 20;
	add(&c, &p, req + 20, 50);
	p.seq = 101 + 70;
	add(&c, &p, req + 70, sizeof(req) - 1 - 70);
	p = tcp(false, PW_TCP_ACK | PW_TCP_PSH, 501, 101 + sizeof(req) - 1);
	p.sport = 80;
	add(&c, &p, resp, sizeof(resp) - 1);
	ASSERT_EQ(inspect(&c, rules, &o, &st, 1, "http.hostname", "www.example.com"), 1,
		  "normalised uri");
	ASSERT_EQ(inspect(&c, rules, &o, &st, 2, NULL, NULL), 1, "host lower-cased, port cut");
	ASSERT_EQ(inspect(&c, rules, &o, &st, 3, NULL, NULL), 1, "content across segments");
	ASSERT_EQ(inspect(&c, rules, &o, &st, 4, NULL, NULL), 1, "response buffers");
	ASSERT_EQ(inspect(&c, rules, &o, &st, 5, NULL, NULL), 0, "no false positive");
	ASSERT_EQ(st.http_tx, 1, "one transaction");
	cap_free(&c);
}

static size_t dns_query(uint8_t *out, const char *name)
{
	size_t n = 12;

	memset(out, 0, 12);
	out[0] = 0x12;
	out[1] = 0x34;
	out[2] = 0x01; /* RD */
	out[5] = 1; /* one question */
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		out[n++] = l;
		memcpy(out + n, name, l);
		n += l;
		name += l + (dot ? 1 : 0);
	}
	out[n++] = 0;
	out[n++] = 0;
	out[n++] = 1; /* A */
	out[n++] = 0;
	out[n++] = 1; /* IN */
	return n;
}

static void test_dns_udp_and_tcp(void)
{
	struct pw_inspect_opts o = { 0 };
	struct pw_inspect_stats st;
	struct cap c = { 0 };
	uint8_t q[128], framed[130];
	size_t n = dns_query(q, "pool.minexmr.com");
	struct pw_pkt p = { .family = PW_AF_INET, .proto = IPPROTO_UDP, .sport = 5555, .dport = 53 };

	add(&c, &p, q, n);
	handshake(&c, 53);
	framed[0] = n >> 8;
	framed[1] = n & 0xff;
	memcpy(framed + 2, q, n);
	p = tcp(true, PW_TCP_ACK, 101, 501);
	p.dport = 53;
	add(&c, &p, framed, 7); /* the length prefix and part of the query */
	p.seq = 108;
	add(&c, &p, framed + 7, n + 2 - 7);
	ASSERT_EQ(inspect(&c,
			  "alert dns any any -> any any (dns.query; dotprefix; "
			  "content:\".minexmr.com\"; endswith; sid:7;)\n",
			  &o, &st, 7, NULL, NULL),
		  2, "UDP and TCP queries");
	ASSERT_EQ(st.dns_queries, 2, "two queries");
	cap_free(&c);
}

static void test_gap_flow_bound_ips(void)
{
	struct pw_inspect_opts o = { .max_flows = 2 };
	struct pw_inspect_stats st;
	struct cap c = { 0 };
	struct pw_pkt p;

	handshake(&c, 80);
	p = tcp(true, PW_TCP_ACK, 101, 501);
	p.dport = 80;
	add(&c, &p, "GET /a HTTP/1.1\r\n", 17);
	p.seq = 101 + 17 + 100; /* 100 bytes never arrive */
	add(&c, &p, "Host: x\r\n\r\n", 11);
	ASSERT_EQ(inspect(&c, "alert http any any -> any any (http.uri; content:\"/a\"; sid:1;)\n",
			  &o, &st, 1, NULL, NULL),
		  0, "no transaction across a gap");
	/* five more flows through a table of two */
	for (int i = 0; i < 5; i++) {
		struct pw_pkt u = {
			.family = PW_AF_INET, .proto = IPPROTO_UDP, .sport = 1000 + i, .dport = 9999
		};

		add(&c, &u, "blockme", 7);
		add(&c, &u, "blockme", 7);
	}
	o.simulate_ips = true;
	ASSERT_EQ(inspect(&c, "drop udp any any -> any 9999 (content:\"blockme\"; sid:9;)\n", &o,
			  &st, 9, "alert.action", "blocked"),
		  5, "one drop alert per flow");
	ASSERT_EQ(st.blocked_packets, 10, "the rest of each flow blocked");
	ASSERT_EQ(st.flows, 6, "flows");
	ASSERT_EQ(st.flows_evicted, 4, "evicted by the bound");
	ASSERT_GE(st.stream_gaps, 1, "gap counted");
	cap_free(&c);
}

/* A UDP datagram in two IPv4 fragments, out of order and duplicated, "SECRET" across the cut. */
static void test_ipv4_defrag(void)
{
	struct pw_inspect_opts o = { 0 };
	struct pw_inspect_stats st;
	struct cap c = { 0 };
	struct pw_pkt first = { .family = PW_AF_INET,
				.proto = IPPROTO_UDP,
				.sport = 7,
				.dport = 9,
				.frag = true,
				.more_frags = true,
				.frag_id = 77 };
	struct pw_pkt second = first;

	second.frag_offset = 3; /* 8-byte UDP header + 16 payload bytes before it */
	second.more_frags = false;
	add(&c, &second, "CRETyyyyyyyyyyyy", 16);
	add(&c, &first, "xxxxxxxxxxxxxxSE", 16);
	add(&c, &second, "CRETzzzzzzzzzzzz", 16); /* a late duplicate: not a second datagram */
	ASSERT_EQ(
		inspect(&c,
			"alert udp any any -> any any (content:\"SECRETyyy\"; dsize:32; sid:1;)\n",
			&o, &st, 1, NULL, NULL),
		1, "reassembled datagram matched once");
	ASSERT_EQ(st.decode_errors, 0, "fragments are not errors");
	cap_free(&c);
}

struct ndpi_seen {
	char names[8][64];
	int n;
};

static void flow_end(const struct pw_inspect_flow_info *fi, void *ud)
{
	struct ndpi_seen *x = ud;

	if (x->n < 8)
		snprintf(x->names[x->n++], sizeof(x->names[0]), "%s", fi->ndpi);
}

/* nDPI's classification agrees with ndpiReader's recorded output on single-flow captures. */
static void test_ndpi_matches_reader(void)
{
	static const struct {
		const char *pcap, *want;
	} cases[] = {
		{ "dns_doh.pcap", "TLS.DoH_DoT" },
		{ "google_ssl.pcap", "TLS.Google" },
		{ "WebattackRCE.pcap", "HTTP" },
		{ "ssh.pcap", "SSH" },
	};
	const char *data = getenv("PW_TESTDATA");
	struct pw_sig_set *s = NULL;
	char path[512], out[512], line[4096];

	if (!data) {
		pw_test_skip("PW_TESTDATA not set");
		return;
	}
	snprintf(path, sizeof(path), "%s/ndpi/pcap/%s", data, cases[0].pcap);
	if (access(path, R_OK)) {
		pw_test_skip("nDPI test captures not found");
		return;
	}
	ASSERT_OK(pw_sig_set_new(&s), "set");
	ASSERT_EQ(pw_sig_add_rule(s, "alert ip any any -> any any (sid:1;)", "-", 1), 1, "rule");
	ASSERT_OK(pw_sig_compile(s), "compile");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ndpi_seen seen = { 0 };
		struct pw_inspect_opts o = { .ndpi = true, .on_flow_end = flow_end, .ud = &seen };
		struct pw_inspect_stats st;
		bool recorded = false;
		FILE *f;

		snprintf(path, sizeof(path), "%s/ndpi/pcap/%s", data, cases[i].pcap);
		snprintf(out, sizeof(out), "%s/ndpi/result/%s.out", data, cases[i].pcap);
		/* the expectation is checked against ndpiReader's own output first */
		f = fopen(out, "r");
		while (f && fgets(line, sizeof(line), f)) {
			char tag[128];

			snprintf(tag, sizeof(tag), "/%s]", cases[i].want);
			recorded |= strstr(line, "[proto: ") && strstr(line, tag);
		}
		if (f)
			fclose(f);
		ASSERT_TRUE(recorded, cases[i].pcap);
		ASSERT_OK(pw_inspect_pcap(s, path, &o, &st), cases[i].pcap);
		if (ASSERT_GE(seen.n, 1, cases[i].pcap))
			ASSERT_STREQ(seen.names[0], cases[i].want, cases[i].pcap);
	}
	pw_sig_set_free(&s);
}

static const struct pw_test tests[] = {
	{ "ndpi_matches_reader", test_ndpi_matches_reader },
	{ "ipv4_defrag", test_ipv4_defrag },
	{ "tls_sni_split_out_of_order", test_tls_sni_split_out_of_order },
	{ "http_segments_and_stream_rule", test_http_segments_and_stream_rule },
	{ "dns_udp_and_tcp", test_dns_udp_and_tcp },
	{ "gap_flow_bound_ips", test_gap_flow_bound_ips },
};

PW_TEST_MAIN(tests)
