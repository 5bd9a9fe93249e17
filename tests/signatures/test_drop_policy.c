// SPDX-License-Identifier: GPL-2.0-only
/*
 * Drop policies (signatures/policy.c): every selector kind turns exactly the
 * alert rules it names into drop rules, pass rules keep their action, and
 * every malformed line is refused with a message naming it (and the file's
 * line) without changing any rule.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sig.h"
#include "test.h"

#define R(sid, extra)                                                                   \
	"alert tcp any any -> any any (msg:\"rule " #sid "\"; content:\"x\"; " extra " sid:" #sid "; rev:1;)"

static const char *const rules[] = {
	R(1001, ""),
	"alert tcp any any -> any any (msg:\"rule 1002\"; content:\"x\"; gid:1; sid:1002;)",
	"alert tcp any any -> any any (msg:\"rule 1003\"; content:\"x\"; gid:3; sid:1003;)",
	R(1004, "classtype:trojan-activity;"),
	R(1005, "metadata:signature_severity Major, created_at 2020_01_01;"),
	R(1006, "metadata:signature_severity Minor;"),
	"alert tcp any any -> any any (msg:\"EVIL thing\"; content:\"x\"; sid:1007;)",
	"pass tcp any any -> any any (msg:\"pass me\"; content:\"zzz\"; classtype:trojan-activity; sid:1008;)",
};

struct hits {
	int action[2000];
};

static void on_hit(const struct pw_sig_hit *h, void *ud)
{
	struct hits *x = ud;

	if (h->sid < 2000)
		x->action[h->sid] = (int)h->action + 1;
}

/* A fresh set with the rules above; the policy lines; compiled. */
static struct pw_sig_set *setup(void)
{
	struct pw_sig_set *s = NULL;

	if (pw_sig_set_new(&s))
		return NULL;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		pw_sig_add_rule(s, rules[i], "test", (int)i + 1);
	return s;
}

/* The action each sid reports on one TCP packet with payload (0: no hit). */
static void actions_on(struct pw_sig_set *s, struct hits *h, const char *payload)
{
	struct pw_sig_input in = { .family = AF_INET, .l4proto = IPPROTO_TCP, .tcp_flags = 0x18,
				   .sport = 1234, .dport = 80, .to_server = true,
				   .established = true, .stream = true, .icmp_type = -1,
				   .icmp_code = -1 };
	struct pw_sig_flow f = { 0 };

	memset(h, 0, sizeof(*h));
	in.buf[PW_BUF_PKT] = (const uint8_t *)payload;
	in.len[PW_BUF_PKT] = strlen(payload);
	in.pkt_len = strlen(payload);
	in.has[PW_BUF_PKT] = true;
	pw_sig_compile(s);
	pw_sig_match(s, &in, &f, on_hit, h);
	pw_sig_flow_reset(&f);
}

static void actions(struct pw_sig_set *s, struct hits *h)
{
	actions_on(s, h, "x");
}

#define DROP  (PW_SIG_DROP + 1)
#define ALERT (PW_SIG_ALERT + 1)

static void one(const char *line, int changed, const unsigned int *dropped, size_t n)
{
	struct pw_sig_set *s = setup();
	struct hits h;
	char err[256] = "";
	int rc;

	if (!ASSERT_OK_PTR(s, "set"))
		return;
	rc = pw_sig_drop_policy_line(s, line, err, sizeof(err));
	ASSERT_EQ(rc, changed, line);
	actions(s, &h);
	for (unsigned int sid = 1001; sid <= 1007; sid++) {
		bool want = false;

		for (size_t i = 0; i < n; i++)
			want |= dropped[i] == sid;
		if (!ASSERT_EQ(h.action[sid], want ? DROP : ALERT, line))
			pw_test_diag("  (sid %u)", sid);
	}
	pw_sig_set_free(&s);
}

static void test_selectors(void)
{
	static const unsigned int d1001[] = { 1001 }, d1002[] = { 1002 }, d1003[] = { 1003 },
				  d1004[] = { 1004 }, d1005[] = { 1005 }, d1007[] = { 1007 };

	one("1001", 1, d1001, 1);
	one("1:1002", 1, d1002, 1);
	one("  3:1003  ", 1, d1003, 1);
	one("1:1003", 0, NULL, 0); /* gid 3, not 1 */
	one("classtype:trojan-activity", 1, d1004, 1); /* the pass rule 1008 is not counted */
	one("metadata:signature_severity Major", 1, d1005, 1);
	one("metadata:  signature_severity   Major", 1, d1005, 1);
	one("metadata:created_at 2020_01_01", 1, d1005, 1);
	one("re:^EVIL", 1, d1007, 1);
	one("# a comment", 0, NULL, 0);
	one("", 0, NULL, 0);
	one("424242", 0, NULL, 0);
}

static void test_pass_stays_pass(void)
{
	struct pw_sig_set *s = setup();
	struct hits h;
	char err[256];

	if (!ASSERT_OK_PTR(s, "set"))
		return;
	ASSERT_EQ(pw_sig_drop_policy_line(s, "1008", err, sizeof(err)), 0, "pass rule not changed");
	actions_on(s, &h, "zzz");
	ASSERT_EQ(h.action[1008], PW_SIG_PASS + 1, "still pass");
	pw_sig_set_free(&s);
}

static void bad(const char *line, const char *needle)
{
	struct pw_sig_set *s = setup();
	char err[256] = "";
	struct hits h;

	if (!ASSERT_OK_PTR(s, "set"))
		return;
	ASSERT_EQ(pw_sig_drop_policy_line(s, line, err, sizeof(err)), -EINVAL, line);
	ASSERT_HAS(err, needle, line);
	actions(s, &h);
	for (unsigned int sid = 1001; sid <= 1007; sid++)
		ASSERT_EQ(h.action[sid], ALERT, "nothing changed");
	pw_sig_set_free(&s);
}

static void test_errors(void)
{
	struct pw_sig_set *s;
	char err[256], path[] = "/tmp/pw-drop-policy-XXXXXX";
	FILE *f;
	int fd;

	bad("sid:1001", "bad gid:sid selector");
	bad("abc", "unknown selector \"abc\"");
	bad("1:x", "bad gid:sid");
	bad("0", "unknown selector");
	bad("99999999999", "unknown selector");
	bad("re:(", "re selector");
	bad("metadata:severity", "expected \"key value\"");
	bad("classtype:", "empty selector");

	/* After compiling, the actions are fixed: refused. */
	s = setup();
	pw_sig_compile(s);
	ASSERT_EQ(pw_sig_drop_policy_line(s, "1001", err, sizeof(err)), -EBUSY, "after compile");
	pw_sig_set_free(&s);

	/* A file: the total, or the first bad line with its number. */
	fd = mkstemp(path);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!ASSERT_OK_PTR(f, "temp file"))
		return;
	fputs("# drops\n1001\nclasstype:trojan-activity\n", f);
	fflush(f);
	s = setup();
	ASSERT_EQ(pw_sig_drop_policy_load(s, path, err, sizeof(err)), 2, "file: two rules");
	pw_sig_set_free(&s);
	fputs("bogus line\n", f);
	fclose(f);
	s = setup();
	ASSERT_EQ(pw_sig_drop_policy_load(s, path, err, sizeof(err)), -EINVAL, "file: bad line");
	ASSERT_HAS(err, ":4: unknown selector \"bogus line\"", "file: line number");
	ASSERT_EQ(pw_sig_drop_policy_load(s, "/nonexistent/drop.conf", err, sizeof(err)), -ENOENT,
		  "missing file");
	ASSERT_HAS(err, "/nonexistent/drop.conf", "missing file named");
	pw_sig_set_free(&s);
	unlink(path);
}

static const struct pw_test tests[] = {
	{ "selectors", test_selectors },
	{ "pass_stays_pass", test_pass_stays_pass },
	{ "errors", test_errors },
};

PW_TEST_MAIN(tests)
