// SPDX-License-Identifier: GPL-2.0-only
/* The k8s client's pure parts: watch line splitting, backoff, kubeconfig, base64. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "k8s.h"
#include "policy.h"
#include "test.h"

struct lines {
	char got[16][128];
	int n;
	int fail_at; /* return -EPIPE for this line index, -1 never */
};

static int collect(void *ctx, char *line, size_t len)
{
	struct lines *l = ctx;

	if (l->n == l->fail_at)
		return -EPIPE;
	if (l->n < 16)
		snprintf(l->got[l->n], sizeof(l->got[0]), "%.*s", (int)len, line);
	l->n++;
	return 0;
}

static void test_linebuf_split(void)
{
	const char *stream = "{\"type\":\"ADDED\"}\n\r\n{\"type\":\"BOOKMARK\"}\r\n\nnot json\n{\"a\":1}";
	size_t len = strlen(stream);

	/* Every chunk size, from one byte at a time to all at once: the same lines. */
	for (size_t step = 1; step <= len; step++) {
		struct pw_k8s_linebuf lb;
		struct lines l = { .fail_at = -1 };
		int err = 0;

		pw_k8s_linebuf_init(&lb, 64);
		for (size_t off = 0; off < len && !err; off += step)
			err = pw_k8s_linebuf_feed(&lb, stream + off,
						  off + step > len ? len - off : step, collect, &l);
		ASSERT_OK(err, "feed");
		if (!ASSERT_EQ(l.n, 3, "complete lines (the last has no newline yet)"))
			pw_test_diag("chunk size %zu", step);
		ASSERT_STREQ(l.got[0], "{\"type\":\"ADDED\"}", "line 1");
		ASSERT_STREQ(l.got[1], "{\"type\":\"BOOKMARK\"}", "line 2: CR stripped");
		ASSERT_STREQ(l.got[2], "not json", "garbage is passed on for the caller to judge");
		ASSERT_EQ(lb.len, 7, "the partial last line is held");
		ASSERT_OK(pw_k8s_linebuf_feed(&lb, "\n", 1, collect, &l), "its newline");
		ASSERT_STREQ(l.got[3], "{\"a\":1}", "line 4");
		pw_k8s_linebuf_free(&lb);
	}
}

static void test_linebuf_huge(void)
{
	struct pw_k8s_linebuf lb;
	struct lines l = { .fail_at = -1 };
	char big[100];

	memset(big, 'x', sizeof(big));
	pw_k8s_linebuf_init(&lb, 64);
	/* A line of exactly max bytes is fine... */
	ASSERT_OK(pw_k8s_linebuf_feed(&lb, big, 64, collect, &l), "64 bytes");
	ASSERT_OK(pw_k8s_linebuf_feed(&lb, "\n", 1, collect, &l), "newline");
	ASSERT_EQ(l.n, 1, "the 64-byte line");
	/* ...one more, across chunks, is not; the buffer never grows past max. */
	ASSERT_OK(pw_k8s_linebuf_feed(&lb, big, 40, collect, &l), "40 bytes");
	ASSERT_EQ(pw_k8s_linebuf_feed(&lb, big, 25, collect, &l), -E2BIG, "65 bytes");
	ASSERT_TRUE(lb.cap <= 65, "bounded buffer");
	ASSERT_EQ(lb.len, 0, "the partial line is dropped");
	/* In one chunk with its newline. */
	memcpy(big + 80, "\nok\n", 4);
	ASSERT_EQ(pw_k8s_linebuf_feed(&lb, big, 84, collect, &l), -E2BIG, "80 bytes + newline");
	ASSERT_EQ(l.n, 1, "nothing emitted from an over-long line");
	/* After a reset the stream works again. */
	pw_k8s_linebuf_reset(&lb);
	ASSERT_OK(pw_k8s_linebuf_feed(&lb, "a\nb\n", 4, collect, &l), "after reset");
	ASSERT_EQ(l.n, 3, "two more lines");
	pw_k8s_linebuf_free(&lb);
}

static void test_linebuf_callback_error(void)
{
	struct pw_k8s_linebuf lb;
	struct lines l = { .fail_at = 1 };

	pw_k8s_linebuf_init(&lb, 64);
	ASSERT_EQ(pw_k8s_linebuf_feed(&lb, "a\nb\nc\n", 6, collect, &l), -EPIPE,
		  "the callback's error is returned");
	ASSERT_EQ(l.n, 1, "feeding stops at the failing line");
	pw_k8s_linebuf_free(&lb);
}

/* A cluster with enough policies that a compile of them all at once uses its namespace index. */
static json_t *gen_objects(void)
{
	json_t *items = json_array();
	char name[64], ns[32], team[16], app[16], app2[16], tier[16], ip[32], cidr[32], exc[32];

	for (int i = 0; i < 12; i++) {
		snprintf(ns, sizeof(ns), "ns-%d", i);
		snprintf(team, sizeof(team), "t%d", i % 4);
		json_array_append_new(items, json_pack("{s:s, s:{s:s, s:{s:s, s:s}}}", "kind",
						       "Namespace", "metadata", "name", ns,
						       "labels", "kubernetes.io/metadata.name", ns,
						       "team", team));
	}
	for (int j = 0; j < 120; j++) {
		snprintf(name, sizeof(name), "pod-%d", j);
		snprintf(ns, sizeof(ns), "ns-%d", j % 12);
		snprintf(app, sizeof(app), "a%d", j % 5);
		snprintf(tier, sizeof(tier), "x%d", j % 3);
		snprintf(ip, sizeof(ip), "10.9.%d.%d", j / 200, j % 200 + 1);
		json_array_append_new(
			items,
			json_pack("{s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:{s:s, s:[{s:s, s:[{s:s, s:i}]}]},"
				  " s:{s:[{s:s}]}}",
				  "kind", "Pod", "metadata", "name", name, "namespace", ns, "labels",
				  "app", app, "tier", tier, "spec", "nodeName",
				  j % 4 ? "other" : "here", "containers", "name", "c", "ports",
				  "name", "http", "containerPort", 8000 + j % 3, "status", "podIPs",
				  "ip", ip));
	}
	for (int i = 0; i < 24; i++) {
		json_t *peers = json_array();

		snprintf(name, sizeof(name), "np-%d", i);
		snprintf(ns, sizeof(ns), "ns-%d", i % 12);
		snprintf(team, sizeof(team), "t%d", i % 4);
		snprintf(app, sizeof(app), "a%d", i % 5);
		snprintf(app2, sizeof(app2), "a%d", (i + 1) % 5);
		snprintf(cidr, sizeof(cidr), "10.9.0.%d/26", (i % 4) * 64);
		snprintf(exc, sizeof(exc), "10.9.0.%d/28", (i % 4) * 64);
		json_array_append_new(peers, json_pack("{s:{s:{s:s}}, s:{s:{s:s}}}",
						       "namespaceSelector", "matchLabels", "team",
						       team, "podSelector", "matchLabels", "app", app2));
		if (i % 3 == 0)
			json_array_append_new(peers, json_pack("{s:{}}", "namespaceSelector"));
		if (i % 3 == 1)
			json_array_append_new(
				peers, json_pack("{s:{s:[{s:s, s:s, s:[s, s]}]}}", "podSelector",
						 "matchExpressions", "key", "tier", "operator",
						 "In", "values", "x1", "x2"));
		if (i % 3 == 2)
			json_array_append_new(peers, json_pack("{s:{s:s, s:[s]}}", "ipBlock", "cidr",
							       cidr, "except", exc));
		json_array_append_new(
			items,
			json_pack("{s:s, s:{s:s, s:s}, s:{s:o, s:[s, s], s:[{s:o, s:[{s:s, s:s}]}],"
				  " s:[{s:[{s:{s:{s:s}}}]}]}}",
				  "kind", "NetworkPolicy", "metadata", "name", name, "namespace", ns,
				  "spec", "podSelector",
				  i % 4 ? json_pack("{s:{s:s}}", "matchLabels", "app", app) :
					  json_object(),
				  "policyTypes", "Ingress", "Egress", "ingress", "from", peers, "ports",
				  "protocol", "TCP", "port", "http", "egress", "to", "podSelector",
				  "matchLabels", "app", app2));
	}
	return items;
}

/*
 * The compiler's output does not depend on how the policies arrived: all in
 * one compile (the namespace index of a big batch) or one compile each (the
 * plain scan of a single change) give the same document.
 */
static void test_compile_batch_vs_single(void)
{
	static const char *const kinds[] = { "Namespace", "Pod", "NetworkPolicy" };
	json_t *items = gen_objects(), *it, *a = NULL, *b = NULL;
	struct pw_policy_db *batch = NULL, *one = NULL;
	char msg[PW_ERRMSG_MAX];
	size_t i;

	if (!ASSERT_OK(pw_policy_db_new(&batch), "db") || !ASSERT_OK(pw_policy_db_new(&one), "db"))
		goto out;
	ASSERT_OK(pw_policy_db_set_node(batch, "here", NULL, 0), "node");
	ASSERT_OK(pw_policy_db_set_node(one, "here", NULL, 0), "node");
	for (size_t k = 0; k < 3; k++) {
		json_array_foreach (items, i, it) {
			if (strcmp(json_string_value(json_object_get(it, "kind")), kinds[k]))
				continue;
			if (!ASSERT_OK(pw_policy_db_upsert(batch, it, msg), msg) ||
			    !ASSERT_OK(pw_policy_db_upsert(one, it, msg), msg))
				goto out;
			if (k == 2 && !ASSERT_OK(pw_policy_db_compile(one, NULL), "compile one"))
				goto out;
		}
		if (k == 1 && !ASSERT_OK(pw_policy_db_compile(one, NULL), "compile pods"))
			goto out;
	}
	ASSERT_OK(pw_policy_db_compile(batch, NULL), "compile all at once");
	a = pw_compiled_dump(batch);
	b = pw_compiled_dump(one);
	ASSERT_TRUE(a && b && json_object_size(json_object_get(a, "endpoints")) == 30,
		    "30 local endpoints");
	ASSERT_TRUE(json_equal(a, b), "same compiled state");
out:
	json_decref(a);
	json_decref(b);
	json_decref(items);
	pw_policy_db_free(&batch);
	pw_policy_db_free(&one);
}

static void test_retry_after(void)
{
	ASSERT_EQ(pw_k8s_retry_after_ms(300, -1, 30000), 300, "no Retry-After: the backoff");
	ASSERT_EQ(pw_k8s_retry_after_ms(300, 0, 30000), 300, "Retry-After 0: the backoff");
	ASSERT_EQ(pw_k8s_retry_after_ms(300, 2, 30000), 2000, "Retry-After 2 s wins over 300 ms");
	ASSERT_EQ(pw_k8s_retry_after_ms(5000, 2, 30000), 5000, "a longer backoff stays");
	ASSERT_EQ(pw_k8s_retry_after_ms(300, 3600, 30000), 30000, "an hour is cut to the cap");
	ASSERT_EQ(pw_k8s_retry_after_ms(300, INT64_MAX, 30000), 30000, "no overflow");
}

static void test_backoff(void)
{
	struct pw_k8s_backoff b;
	uint32_t caps[] = { 100, 200, 400, 800, 1600, 3000, 3000, 3000 };
	uint32_t seen_min = UINT32_MAX, seen_max = 0;

	pw_k8s_backoff_init(&b, 100, 3000, 42);
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		uint32_t d = pw_k8s_backoff_next(&b);

		if (!ASSERT_TRUE(d >= caps[i] / 2 && d <= caps[i], "delay within [cap/2, cap]"))
			pw_test_diag("attempt %zu: %u ms, cap %u", i, d, caps[i]);
	}
	/* Far past the cap: no overflow, still bounded. */
	b.attempt = 1000;
	ASSERT_TRUE(pw_k8s_backoff_next(&b) <= 3000, "huge attempt count stays capped");
	b.attempt = UINT32_MAX;
	ASSERT_TRUE(pw_k8s_backoff_next(&b) <= 3000, "attempt counter saturates");
	pw_k8s_backoff_reset(&b);
	ASSERT_TRUE(pw_k8s_backoff_next(&b) <= 100, "reset starts over");

	/* Jitter: 1000 draws at the cap spread over the interval. */
	for (int i = 0; i < 1000; i++) {
		uint32_t d;

		b.attempt = 10;
		d = pw_k8s_backoff_next(&b);
		seen_min = d < seen_min ? d : seen_min;
		seen_max = d > seen_max ? d : seen_max;
	}
	ASSERT_TRUE(seen_min < 1700 && seen_max > 2800, "jitter spreads over [cap/2, cap]");

	/* Two nodes seeded differently do not retry in step. */
	struct pw_k8s_backoff x, y;
	int same = 0;

	pw_k8s_backoff_init(&x, 100, 30000, 1);
	pw_k8s_backoff_init(&y, 100, 30000, 2);
	for (int i = 0; i < 8; i++)
		same += pw_k8s_backoff_next(&x) == pw_k8s_backoff_next(&y);
	ASSERT_TRUE(same < 8, "different seeds, different delays");
}

static void test_base64(void)
{
	size_t n;
	char *s = pw_k8s_base64_decode("aGVsbG8g\nd29ybGQ=", &n);

	ASSERT_STREQ(s, "hello world", "decode with a line break and padding");
	ASSERT_EQ(n, 11, "length");
	free(s);
	s = pw_k8s_base64_decode("bad*chars", NULL);
	ASSERT_TRUE(s == NULL, "invalid characters rejected");
}

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static const char kubeconfig[] =
	"apiVersion: v1\n"
	"kind: Config\n"
	"current-context: prod\n"
	"clusters:\n"
	"- name: prod-cluster\n"
	"  cluster:\n"
	"    server: https://10.0.0.1:6443/\n"
	"    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n"
	"- name: dev-cluster\n"
	"  cluster:\n"
	"    server: http://127.0.0.1:8080\n"
	"    certificate-authority: certs/ca.pem\n"
	"    insecure-skip-tls-verify: true\n"
	"contexts:\n"
	"- name: prod\n"
	"  context: {cluster: prod-cluster, user: admin}\n"
	"- name: dev\n"
	"  context: {cluster: dev-cluster, user: dev}\n"
	"users:\n"
	"- name: admin\n"
	"  user:\n"
	"    token: abc.def\n"
	"    client-certificate-data: Y2VydA==\n"
	"    client-key: /etc/podwall/key.pem\n"
	"- name: dev\n"
	"  user:\n"
	"    tokenFile: token\n";

static void test_kubeconfig(void)
{
	struct pw_k8s_config c = {};
	char path[256], expect[256], msg[512];

	snprintf(path, sizeof(path), "%s/config", tmpdir);
	write_file("config", kubeconfig);
	if (!ASSERT_OK(pw_k8s_config_kubeconfig(path, NULL, &c, msg, sizeof(msg)), msg))
		return;
	ASSERT_STREQ(c.server, "https://10.0.0.1:6443", "current-context's server, no slash");
	ASSERT_STREQ(c.ca_pem, "-----BEGIN CERTIFICATE-----\n", "CA data decoded");
	ASSERT_STREQ(c.token, "abc.def", "token");
	ASSERT_STREQ(c.cert_pem, "cert", "client certificate data");
	ASSERT_STREQ(c.key_file, "/etc/podwall/key.pem", "absolute key path kept");
	ASSERT_FALSE(c.insecure, "verified");
	pw_k8s_config_clear(&c);

	ASSERT_OK(pw_k8s_config_kubeconfig(path, "dev", &c, msg, sizeof(msg)), "context dev");
	ASSERT_STREQ(c.server, "http://127.0.0.1:8080", "dev server");
	snprintf(expect, sizeof(expect), "%s/certs/ca.pem", tmpdir);
	ASSERT_STREQ(c.ca_file, expect, "relative CA path from the kubeconfig's directory");
	snprintf(expect, sizeof(expect), "%s/token", tmpdir);
	ASSERT_STREQ(c.token_file, expect, "relative tokenFile");
	ASSERT_TRUE(c.insecure, "insecure-skip-tls-verify");
	pw_k8s_config_clear(&c);

	ASSERT_EQ(pw_k8s_config_kubeconfig(path, "nope", &c, msg, sizeof(msg)), -EINVAL,
		  "unknown context");
	ASSERT_HAS(msg, "contexts", "the message names the field");
	ASSERT_TRUE(c.server == NULL, "out untouched on error");

	write_file("exec", "current-context: x\n"
			   "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
			   "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
			   "users: [{name: u, user: {exec: {command: aws}}}]\n");
	snprintf(path, sizeof(path), "%s/exec", tmpdir);
	ASSERT_EQ(pw_k8s_config_kubeconfig(path, NULL, &c, msg, sizeof(msg)), -EINVAL,
		  "exec credentials refused");
	ASSERT_HAS(msg, "exec", "named");

	write_file("noserver", "current-context: x\n"
			       "contexts: [{name: x, context: {cluster: c}}]\n"
			       "clusters: [{name: c, cluster: {}}]\n");
	snprintf(path, sizeof(path), "%s/noserver", tmpdir);
	ASSERT_EQ(pw_k8s_config_kubeconfig(path, NULL, &c, msg, sizeof(msg)), -EINVAL,
		  "no server");
	ASSERT_HAS(msg, "server", "named");

	write_file("broken", "clusters: [\n");
	snprintf(path, sizeof(path), "%s/broken", tmpdir);
	ASSERT_EQ(pw_k8s_config_kubeconfig(path, NULL, &c, msg, sizeof(msg)), -EINVAL,
		  "YAML syntax error");
	ASSERT_HAS(msg, "line", "with a line number");
	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	ASSERT_EQ(pw_k8s_config_kubeconfig(path, NULL, &c, msg, sizeof(msg)), -ENOENT,
		  "missing file");
}

static void test_incluster(void)
{
	struct pw_k8s_config c = {};
	char msg[512], expect[256];

	unsetenv("KUBERNETES_SERVICE_HOST");
	ASSERT_EQ(pw_k8s_config_incluster(tmpdir, &c, msg, sizeof(msg)), -ENOENT,
		  "not in a cluster");
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
	write_file("token", "tok\n");
	if (!ASSERT_OK(pw_k8s_config_incluster(tmpdir, &c, msg, sizeof(msg)), msg))
		return;
	ASSERT_STREQ(c.server, "https://[fd00::1]:6443", "IPv6 service address bracketed");
	snprintf(expect, sizeof(expect), "%s/ca.crt", tmpdir);
	ASSERT_STREQ(c.ca_file, expect, "service account CA");
	snprintf(expect, sizeof(expect), "%s/token", tmpdir);
	ASSERT_STREQ(c.token_file, expect, "token file (re-read by the client)");
	pw_k8s_config_clear(&c);
	unsetenv("KUBERNETES_SERVICE_HOST");
}

static const struct pw_test tests[] = {
	{ "linebuf: any chunking gives the same lines", test_linebuf_split },
	{ "linebuf: an over-long line is an error, bounded", test_linebuf_huge },
	{ "linebuf: callback errors stop feeding", test_linebuf_callback_error },
	{ "backoff: exponential, capped, jittered", test_backoff },
	{ "Retry-After: honored, bounded", test_retry_after },
	{ "compile: a batch of policies equals one at a time", test_compile_batch_vs_single },
	{ "base64", test_base64 },
	{ "kubeconfig: contexts, data, relative paths, errors", test_kubeconfig },
	{ "in-cluster service account", test_incluster },
};

int main(int argc, char **argv)
{
	int r;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pw-k8s-unit.XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	r = pw_test_run(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
	for (const char *const *f = (const char *const[]){ "config", "exec", "noserver", "broken",
							   "token", NULL };
	     *f; f++) {
		char path[256];

		snprintf(path, sizeof(path), "%s/%s", tmpdir, *f);
		unlink(path);
	}
	rmdir(tmpdir);
	return r;
}
