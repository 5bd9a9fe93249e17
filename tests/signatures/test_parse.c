// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rule parser: every keyword the subset supports loads, and every error path
 * rejects the rule with its line, sid, keyword and reason class while the
 * rules around it still load.
 */
#include <errno.h>
#include <stdio.h>

#include "sig.h"
#include "test.h"

#define HDR "alert tcp any any -> any any "

struct ok_case {
	const char *name, *rule;
};

static const struct ok_case ok_cases[] = {
	{ "msg sid rev gid", HDR "(msg:\"a \\\"quoted\\\" \\; msg\"; sid:1; rev:2; gid:3;)" },
	{ "classtype priority", HDR "(classtype:trojan-activity; priority:1; sid:1;)" },
	{ "metadata reference target", HDR
	  "(metadata:former_category X, created_at 2020; reference:url,x.y; target:dest_ip; sid:1;)" },
	{ "content hex escapes", HDR "(content:\"a|0d 0A|b\\\"\\;\\\\\"; sid:1;)" },
	{ "content negated", HDR "(content:!\"x\"; sid:1;)" },
	{ "nocase depth offset", HDR "(content:\"abc\"; nocase; depth:10; offset:2; sid:1;)" },
	{ "distance within", HDR "(content:\"a\"; content:\"b\"; distance:-1; within:5; sid:1;)" },
	{ "startswith endswith",
	  HDR "(content:\"a\"; startswith; content:\"z\"; endswith; sid:1;)" },
	{ "fast_pattern forms",
	  HDR "(content:\"abcd\"; fast_pattern; content:\"efgh\"; content:\"ijkl\"; sid:1;)" },
	{ "fast_pattern only", HDR "(content:\"abcd\"; fast_pattern:only; sid:1;)" },
	{ "fast_pattern chop", HDR "(content:\"abcdef\"; fast_pattern:1,3; sid:1;)" },
	{ "rawbytes", HDR "(content:\"a\"; rawbytes; sid:1;)" },
	{ "pcre flags", HDR "(pcre:\"/a.b/ismxAEGR\"; sid:1;)" },
	{ "pcre legacy buffers", HDR "(pcre:\"/x/UIPQHDMCSYVWZBO\"; sid:1;)" },
	{ "pcre negated", HDR "(pcre:!\"/x/\"; sid:1;)" },
	{ "pcre unquoted", HDR "(pcre:/x/U; sid:1;)" },
	{ "pcre with quote", HDR "(content:\"m\"; pcre:\"/^[\"']?post/Ri\"; sid:1;)" },
	{ "dsize forms", HDR "(dsize:>10; sid:1;)" },
	{ "dsize range", HDR "(dsize:10<>20; sid:1;)" },
	{ "bsize", HDR "(http.uri; bsize:<=10; sid:1;)" },
	{ "isdataat", HDR "(content:\"a\"; isdataat:!2,relative; sid:1;)" },
	{ "urilen", HDR "(urilen:5<>10,norm; sid:1;)" },
	{ "flags", HDR "(flags:S,CE; sid:1;)" },
	{ "flags modifiers", HDR "(flags:+A; sid:1;)" },
	{ "flow", HDR "(flow:established,to_server,only_stream; sid:1;)" },
	{ "flow not_established", HDR "(flow:not_established,from_client; sid:1;)" },
	{ "flowbits", HDR
	  "(flowbits:set,a; flowbits:isset,a|b; flowbits:isnotset,c&d; flowbits:unset,a; flowbits:toggle,e; flowbits:noalert; sid:1;)" },
	{ "noalert", HDR "(noalert; sid:1;)" },
	{ "threshold", HDR "(threshold:type limit, track by_src, count 1, seconds 60; sid:1;)" },
	{ "detection_filter", HDR "(detection_filter:track by_dst, count 5, seconds 10; sid:1;)" },
	{ "byte_test", HDR "(content:\"a\"; byte_test:2,>,5,0,relative,little; sid:1;)" },
	{ "byte_test string", HDR "(byte_test:3,=,100,0,string,dec; sid:1;)" },
	{ "byte_jump", HDR "(byte_jump:2,0,relative,multiplier 2,post_offset -1,align; sid:1;)" },
	{ "itype icode", "alert icmp any any -> any any (itype:8; icode:>0; sid:1;)" },
	{ "sticky http buffers",
	  "alert http any any -> any any (http.method; content:\"GET\"; http.uri; content:\"/a\"; "
	  "http.host; content:\"h\"; http.user_agent; content:\"u\"; http.header; content:\"x\"; "
	  "http.cookie; content:\"c\"; http.request_body; content:\"b\"; http.stat_code; "
	  "content:\"200\"; file.data; content:\"f\"; sid:1;)" },
	{ "legacy modifiers", HDR
	  "(content:\"GET\"; http_method; content:\"/a\"; http_uri; content:\"c\"; http_cookie; "
	  "content:\"h\"; http_header; content:\"b\"; http_client_body; content:\"u\"; "
	  "http_user_agent; content:\"200\"; http_stat_code; sid:1;)" },
	{ "uricontent", HDR "(uricontent:\"/x\"; nocase; sid:1;)" },
	{ "dns tls", "alert dns any any -> any any (dns_query; content:\"x\"; sid:1;)" },
	{ "dns.query dotprefix",
	  "alert dns any any -> any any (dns.query; dotprefix; content:\".x.com\"; endswith; sid:1;)" },
	{ "tls.sni",
	  "alert tls any any -> any any (tls.sni; content:\"x\"; tls_sni; content:\"y\"; sid:1;)" },
	{ "variables lists ranges negation",
	  "alert tcp [$HOME_NET,!10.1.0.0/16] [1:1024,!80] -> !$EXTERNAL_NET [$HTTP_PORTS,8080:] (sid:1;)" },
	{ "bidirectional", "alert ip 1.2.3.4 any <> 2001:db8::/32 any (sid:1;)" },
	{ "netmask", "alert ip 10.0.0.0/255.0.0.0 any -> any any (sid:1;)" },
	{ "actions", "drop udp any any -> any 53 (sid:1;)" },
	{ "reject pass", "pass tcp any any -> any any (sid:1;)" },
	{ "protocols", "alert tcp-pkt any any -> any any (sid:1;)" },
};

struct bad_case {
	const char *name, *rule, *keyword, *reason;
	uint32_t sid;
};

static const struct bad_case bad_cases[] = {
	{ "no options", "alert tcp any any -> any any", "", "malformed", 0 },
	{ "short header", "alert tcp any any -> any (sid:5;)", "", "malformed header", 5 },
	{ "bad action", "log tcp any any -> any any (sid:5;)", "action", "unsupported action", 5 },
	{ "bad protocol", "alert smtp any any -> any any (sid:5;)", "smtp", "unsupported protocol",
	  5 },
	{ "bad direction", "alert tcp any any <- any any (sid:5;)", "direction", "malformed header",
	  5 },
	{ "bad address", "alert tcp 1.2.3 any -> any any (sid:5;)", "address", "malformed address",
	  5 },
	{ "bad prefix", "alert tcp 1.2.3.4/33 any -> any any (sid:5;)", "address",
	  "malformed address", 5 },
	{ "unbalanced list", "alert tcp [1.2.3.4 any -> any any (sid:5;)", "", "malformed header",
	  5 },
	{ "unknown variable", "alert tcp $NOPE any -> any any (sid:5;)", "address",
	  "unknown variable", 5 },
	{ "negated any", "alert tcp !any any -> any any (sid:5;)", "address", "malformed address",
	  5 },
	{ "bad port", "alert tcp any 70000 -> any any (sid:5;)", "port", "malformed port", 5 },
	{ "bad port range", "alert tcp any 90:80 -> any any (sid:5;)", "port", "malformed port",
	  5 },
	{ "unknown port var", "alert tcp any $NOPE -> any any (sid:5;)", "port", "unknown variable",
	  5 },
	{ "unsupported keyword", HDR "(sid:5; ja3_hash; content:\"a\";)", "ja3_hash",
	  "unsupported keyword", 5 },
	{ "no sid", HDR "(msg:\"x\";)", "", "missing sid", 0 },
	{ "sid zero", HDR "(sid:0;)", "sid", "bad value", 0 },
	{ "sid not number", HDR "(sid:abc;)", "sid", "bad value", 0 },
	{ "missing value", HDR "(sid:5; content;)", "content", "missing value", 5 },
	{ "unterminated option", HDR "(sid:5; msg:\"x\")", "", "malformed", 5 },
	{ "text after paren", HDR "(sid:5;) x", "", "malformed", 5 },
	{ "unquoted content", HDR "(sid:5; content:abc;)", "content", "bad content", 5 },
	{ "odd hex", HDR "(sid:5; content:\"|0|\";)", "content", "bad content", 5 },
	{ "bad hex digit", HDR "(sid:5; content:\"|zz|\";)", "content", "bad content", 5 },
	{ "unterminated hex", HDR "(sid:5; content:\"|00\";)", "content", "bad content", 5 },
	{ "bad escape", HDR "(sid:5; content:\"\\n\";)", "content", "bad content", 5 },
	{ "empty content", HDR "(sid:5; content:\"\";)", "content", "bad content", 5 },
	{ "modifier without content", HDR "(sid:5; nocase;)", "nocase", "modifier without content",
	  5 },
	{ "depth too small", HDR "(sid:5; content:\"abcd\"; depth:2;)", "depth", "bad value", 5 },
	{ "negative offset", HDR "(sid:5; content:\"a\"; offset:-1;)", "offset", "bad value", 5 },
	{ "depth with distance", HDR "(sid:5; content:\"a\"; distance:1; depth:4;)", "depth",
	  "conflicting modifiers", 5 },
	{ "distance with depth", HDR "(sid:5; content:\"a\"; depth:4; distance:1;)", "distance",
	  "conflicting modifiers", 5 },
	{ "within too small", HDR "(sid:5; content:\"abc\"; within:2;)", "within", "bad value", 5 },
	{ "startswith with offset", HDR "(sid:5; content:\"a\"; offset:1; startswith;)",
	  "startswith", "conflicting modifiers", 5 },
	{ "offset after startswith", HDR "(sid:5; content:\"a\"; startswith; offset:1;)", "offset",
	  "conflicting modifiers", 5 },
	{ "number not number", HDR "(sid:5; content:\"a\"; depth:x;)", "depth", "bad value", 5 },
	{ "fast_pattern twice",
	  HDR "(sid:5; content:\"a\"; fast_pattern; content:\"b\"; fast_pattern;)", "", "bad value",
	  5 },
	{ "fast_pattern negated", HDR "(sid:5; content:!\"a\"; fast_pattern;)", "fast_pattern",
	  "bad value", 5 },
	{ "fast_pattern chop out", HDR "(sid:5; content:\"ab\"; fast_pattern:1,5;)", "fast_pattern",
	  "bad value", 5 },
	{ "pcre unbalanced quote", HDR "(sid:5; pcre:\"/a/;)", "", "malformed", 5 },
	{ "pcre leading quote only", HDR "(sid:5; pcre:\"/a/i ;)", "", "malformed", 5 },
	{ "pcre no slash", HDR "(sid:5; pcre:\"a\";)", "pcre", "bad pcre", 5 },
	{ "pcre unclosed", HDR "(sid:5; pcre:\"/a\";)", "pcre", "bad pcre", 5 },
	{ "pcre bad flag", HDR "(sid:5; pcre:\"/a/k\";)", "pcre", "bad pcre", 5 },
	{ "pcre bad regex", HDR "(sid:5; pcre:\"/a(/\";)", "pcre", "bad pcre", 5 },
	{ "dsize bad", HDR "(sid:5; dsize:big;)", "dsize", "bad value", 5 },
	{ "dsize twice", HDR "(sid:5; dsize:1; dsize:2;)", "dsize", "bad value", 5 },
	{ "dsize range reversed", HDR "(sid:5; dsize:9<>2;)", "dsize", "bad value", 5 },
	{ "bsize no buffer", HDR "(sid:5; bsize:3;)", "bsize", "bsize without buffer", 5 },
	{ "isdataat bad", HDR "(sid:5; isdataat:x;)", "isdataat", "bad value", 5 },
	{ "isdataat option", HDR "(sid:5; isdataat:1,foo;)", "isdataat", "bad value", 5 },
	{ "urilen mode", HDR "(sid:5; urilen:3,odd;)", "urilen", "bad value", 5 },
	{ "flags bad", HDR "(sid:5; flags:X;)", "flags", "bad value", 5 },
	{ "flags two modifiers", HDR "(sid:5; flags:+*S;)", "flags", "bad value", 5 },
	{ "flow unknown", HDR "(sid:5; flow:sideways;)", "flow", "bad value", 5 },
	{ "flow both dirs", HDR "(sid:5; flow:to_server,to_client;)", "flow",
	  "conflicting modifiers", 5 },
	{ "flow both states", HDR "(sid:5; flow:established,not_established;)", "flow",
	  "conflicting modifiers", 5 },
	{ "flowbits unknown", HDR "(sid:5; flowbits:paint,a;)", "flowbits", "bad value", 5 },
	{ "flowbits no name", HDR "(sid:5; flowbits:set;)", "flowbits", "missing value", 5 },
	{ "flowbits or with set", HDR "(sid:5; flowbits:set,a|b;)", "flowbits", "bad value", 5 },
	{ "threshold incomplete", HDR "(sid:5; threshold:type limit, count 1;)", "threshold",
	  "missing value", 5 },
	{ "threshold bad type",
	  HDR "(sid:5; threshold:type odd, track by_src, count 1, seconds 1;)", "threshold",
	  "bad value", 5 },
	{ "threshold twice",
	  HDR
	  "(sid:5; threshold:type limit, track by_src, count 1, seconds 1; detection_filter:track by_src, count 1, seconds 1;)",
	  "detection_filter", "conflicting modifiers", 5 },
	{ "byte_test count", HDR "(sid:5; byte_test:0,=,1,0;)", "byte_test", "bad value", 5 },
	{ "byte_test operator", HDR "(sid:5; byte_test:1,~,1,0;)", "byte_test", "bad value", 5 },
	{ "byte_test variable", HDR "(sid:5; byte_test:1,=,var,0;)", "byte_test",
	  "unsupported byte variable", 5 },
	{ "byte_jump option", HDR "(sid:5; byte_jump:1,0,sideways;)", "byte_jump", "bad value", 5 },
	{ "legacy buffer without content", HDR "(sid:5; http_uri;)", "http_uri",
	  "modifier without content", 5 },
	{ "legacy buffer conflict", HDR "(sid:5; content:\"a\"; http_uri; http_header;)",
	  "http_header", "conflicting buffers", 5 },
	{ "dotprefix no buffer", HDR "(sid:5; dotprefix;)", "dotprefix", "transform without buffer",
	  5 },
	{ "target bad", HDR "(sid:5; target:both;)", "target", "bad value", 5 },
	{ "priority range", HDR "(sid:5; priority:0;)", "priority", "bad value", 5 },
	{ "buffer takes no value", HDR "(sid:5; http.uri:1;)", "http.uri", "bad value", 5 },
};

static void test_keywords_load(void)
{
	for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
		struct pw_sig_set *s = NULL;
		int rc;

		if (!ASSERT_OK(pw_sig_set_new(&s), "set_new"))
			return;
		rc = pw_sig_add_rule(s, ok_cases[i].rule, "ok.rules", 1);
		if (!ASSERT_EQ(rc, 1, ok_cases[i].name))
			pw_test_diag("  %s: %s", pw_sig_reject_get(s, 0)->reason,
				     pw_sig_reject_get(s, 0)->detail);
		ASSERT_OK(pw_sig_compile(s), ok_cases[i].name);
		pw_sig_set_free(&s);
	}
}

static void test_errors_rejected(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		const struct pw_sig_reject *r;
		struct pw_sig_set *s = NULL;
		int rc;

		if (!ASSERT_OK(pw_sig_set_new(&s), "set_new"))
			return;
		rc = pw_sig_add_rule(s, c->rule, "bad.rules", 42);
		ASSERT_TRUE(rc < 0, c->name);
		r = pw_sig_reject_get(s, 0);
		if (!ASSERT_OK_PTR(r, c->name)) {
			pw_sig_set_free(&s);
			continue;
		}
		ASSERT_STREQ(r->file, "bad.rules", c->name);
		ASSERT_EQ(r->line, 42, c->name);
		ASSERT_EQ(r->sid, c->sid, c->name);
		if (*c->keyword)
			ASSERT_STREQ(r->keyword, c->keyword, c->name);
		ASSERT_STREQ(r->reason, c->reason, c->name);
		ASSERT_TRUE(r->detail && *r->detail, c->name);
		ASSERT_EQ(pw_sig_rule_count(s), 0, c->name);
		pw_sig_set_free(&s);
	}
}

/* One bad rule among good ones: the others load; comments and continuations are handled. */
static void test_file_keeps_going(void)
{
	char path[] = "/tmp/pw-sig-test-XXXXXX";
	struct pw_sig_set *s = NULL;
	int fd = mkstemp(path);
	FILE *f;

	if (!ASSERT_TRUE(fd >= 0, "mkstemp"))
		return;
	f = fdopen(fd, "w");
	fprintf(f, "# a comment\n\n"
		   "alert tcp any any -> any any (msg:\"one\"; sid:1;)\n"
		   "#alert tcp any any -> any any (msg:\"commented\"; sid:2;)\n"
		   "alert tcp any any -> any any (msg:\"bad\"; frobnicate; sid:3;)\n"
		   "alert tcp any any -> any any (msg:\"continued\"; \\\n"
		   "    content:\"x\"; sid:4;)\n"
		   "alert tcp any any -> any any (msg:\"last\"; sid:5;)\n");
	fclose(f);
	ASSERT_OK(pw_sig_set_new(&s), "set_new");
	ASSERT_EQ(pw_sig_load_file(s, path), 3, "loaded");
	ASSERT_EQ(pw_sig_reject_count(s), 1, "rejected");
	ASSERT_EQ(pw_sig_reject_get(s, 0)->line, 5, "reject line");
	ASSERT_EQ(pw_sig_reject_get(s, 0)->sid, 3, "reject sid");
	ASSERT_STREQ(pw_sig_reject_get(s, 0)->keyword, "frobnicate", "reject keyword");
	ASSERT_EQ(pw_sig_load_file(s, "/nonexistent/x.rules"), -ENOENT, "missing file");
	pw_sig_set_free(&s);
	ASSERT_TRUE(s == NULL, "free resets");
	pw_sig_set_free(&s); /* NULL-safe */
	unlink(path);
}

static void test_variables(void)
{
	struct pw_sig_set *s = NULL;

	ASSERT_OK(pw_sig_set_new(&s), "set_new");
	ASSERT_EQ(pw_sig_add_rule(s, "alert tcp $POD_NET any -> any any (sid:1;)", "-", 1), -EINVAL,
		  "unset variable");
	ASSERT_OK(pw_sig_set_var(s, "POD_NET", "[10.244.0.0/16]"), "set var");
	ASSERT_EQ(pw_sig_add_rule(s, "alert tcp $POD_NET any -> any any (sid:1;)", "-", 2), 1,
		  "set variable");
	/* A variable that refers to itself must not recurse forever. */
	ASSERT_OK(pw_sig_set_var(s, "LOOP", "$LOOP"), "set loop var");
	ASSERT_TRUE(pw_sig_add_rule(s, "alert tcp $LOOP any -> any any (sid:3;)", "-", 3) < 0,
		    "self-referencing variable");
	pw_sig_set_free(&s);
}

/* podwall's own rule file loads completely. */
static void test_project_rules(void)
{
	const char *path = getenv("PW_PROJECT_RULES");
	struct pw_sig_set *s = NULL;

	if (!path) {
		pw_test_skip("PW_PROJECT_RULES not set");
		return;
	}
	ASSERT_OK(pw_sig_set_new(&s), "set_new");
	ASSERT_GE(pw_sig_load_file(s, path), 1, "rules loaded");
	ASSERT_EQ(pw_sig_reject_count(s), 0, "no rejects");
	ASSERT_OK(pw_sig_compile(s), "compile");
	pw_sig_set_free(&s);
}

static const struct pw_test tests[] = {
	{ "keywords_load", test_keywords_load },
	{ "project_rules", test_project_rules },
	{ "errors_rejected", test_errors_rejected },
	{ "file_keeps_going", test_file_keeps_going },
	{ "variables", test_variables },
};

PW_TEST_MAIN(tests)
