// SPDX-License-Identifier: GPL-2.0-only
/*
 * The offline evaluator and the datapath must never disagree: every
 * tests/conformance/ case (*.case.json) runs through the real compiler twice, once
 * decided offline (pw_evaluator_default) and once by the real TC programs
 * through BPF_PROG_TEST_RUN (control/maps/bpf_eval.h). Each evaluation of
 * the second run is also made offline and compared (reason and rule cookie),
 * and both runs must match the case's expectations. One TAP point per case,
 * then a summary with the counts.
 *
 *   test_policy_agreement CASE_DIR [NAME-FILTER]
 */
#define _GNU_SOURCE
#include <glob.h>
#include <time.h>

#include "bpf_eval.h"
#include "log.h"
#include "policy.h"
#include "test.h"

struct agreement {
	const struct pw_evaluator *bpf;
	const char *case_name;
	size_t evals, agree;
	size_t by_reason[_PW_REASON_MAX + 1];
	size_t cookies; /* BPF verdicts attributed to a rule */
};

static struct agreement ag;

/* Decides with both engines, compares, and returns the datapath's verdict. */
static void both_eval(void *ctx, const struct pw_policy_db *db, const struct pw_endpoint_view *ep,
		      int dir, const struct pw_addr *peer, uint8_t proto, uint16_t dport,
		      struct pw_verdict *out)
{
	struct pw_verdict off, bpf;
	char a[64];

	(void)ctx;
	pw_evaluator_default.eval(pw_evaluator_default.ctx, db, ep, dir, peer, proto, dport, &off);
	ag.bpf->eval(ag.bpf->ctx, db, ep, dir, peer, proto, dport, &bpf);
	ag.evals++;
	ag.by_reason[bpf.reason <= _PW_REASON_MAX ? bpf.reason : _PW_REASON_MAX]++;
	ag.cookies += bpf.cookie != 0;
	if (off.reason == bpf.reason && off.cookie == bpf.cookie) {
		ag.agree++;
	} else {
		pw_addr_format(peer, a, sizeof(a));
		pw_test_diag("%s: %s at %s/%s, peer %s, %s/%u: offline %s cookie %u, bpf %s "
			     "cookie %u",
			     ag.case_name, dir == PW_DIR_INGRESS ? "ingress" : "egress", ep->ns,
			     ep->name, a, pw_proto_name(proto), dport, pw_reason_name(off.reason),
			     off.cookie, pw_reason_name(bpf.reason), bpf.cookie);
		ASSERT_TRUE(false, "offline and BPF verdicts agree");
	}
	*out = bpf;
}

static const struct pw_evaluator both = { .eval = both_eval, .allow_host = true };

static void report_failures(const char *engine, const struct pw_case_result *r)
{
	for (size_t i = 0; i < r->nf && i < 10; i++) {
		const struct pw_case_failure *f = &r->f[i];

		pw_test_diag("  %s: step %zu probe %zu %s -> %s %s/%u ipv%u: expected %s (%s)",
			     engine, f->step, f->probe, f->from, f->to, pw_proto_name(f->proto),
			     f->port, f->family, f->expected ? "allow" : "deny", f->why);
	}
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct pw_bpf_eval *be = NULL;
	struct pw_bpf_eval_stats st;
	size_t probes = 0, ncases = 0, cases_ok = 0;
	const char *why, *filter = argc > 2 ? argv[2] : NULL;
	char pattern[4096];
	double t0;
	glob_t g;
	int err, point = 0, failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: %s CASE_DIR [FILTER]\n", argv[0]);
		return 2;
	}
	pw_test_require_root();
	if (pw_bpf_eval_supported(&why))
		pw_test_skip_all(why);
	pw_log_set_level(getenv("V") ? PW_LOG_DEBUG : PW_LOG_WARN);
	pw_log_libbpf_init();
	snprintf(pattern, sizeof(pattern), "%s/*.case.json", argv[1]);
	if (glob(pattern, 0, NULL, &g) || !g.gl_pathc) {
		printf("Bail out! no case files in %s\n", argv[1]);
		return 1;
	}
	err = pw_bpf_eval_new(&be);
	if (err)
		pw_test_skip_all("cannot load the datapath or create a network namespace");
	ag.bpf = pw_bpf_eval_evaluator(be);

	printf("TAP version 13\n");
	for (size_t i = 0; i < g.gl_pathc; i++)
		ncases += !filter || strstr(g.gl_pathv[i], filter);
	printf("1..%zu\n", ncases + 1);
	t0 = now_s();
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *path = g.gl_pathv[i], *base = strrchr(path, '/') + 1;
		struct pw_case_result off = { 0 }, bpf = { 0 };
		char errmsg[PW_ERRMSG_MAX] = "";
		struct pw_case *c = NULL;
		json_error_t je;
		json_t *root;
		size_t agree0 = ag.agree, evals0 = ag.evals;

		if (filter && !strstr(path, filter))
			continue;
		memset(&pw_test_cur, 0, sizeof(pw_test_cur));
		ag.case_name = base;
		root = json_load_file(path, 0, &je);
		if (!ASSERT_OK_PTR(root, "case file parses") ||
		    !ASSERT_OK(pw_case_parse(root, &c, errmsg), "case is valid"))
			goto next;
		err = pw_case_run(c, NULL, &off, errmsg);
		if (ASSERT_OK(err, "offline run")) {
			ASSERT_EQ(off.nf, 0, "offline verdicts match the expectations");
			report_failures("offline", &off);
		}
		pw_bpf_eval_reset(be);
		err = pw_case_run(c, &both, &bpf, errmsg);
		if (ASSERT_OK(err, "BPF run")) {
			ASSERT_EQ(pw_bpf_eval_error(be), 0, "every probe ran through the program");
			ASSERT_EQ(bpf.nf, 0, "BPF verdicts match the expectations");
			report_failures("bpf", &bpf);
			ASSERT_EQ(bpf.checked, off.checked, "both engines checked the same probes");
			ASSERT_GE(ag.evals - evals0, 1, "the datapath decided something");
			ASSERT_EQ(ag.agree - agree0, ag.evals - evals0, "agreements");
			probes += bpf.checked;
		}
		if (errmsg[0])
			pw_test_diag("%s: %s", base, errmsg);
next:
		point++;
		if (pw_test_cur.failed) {
			printf("not ok %d - %s\n", point, base);
			failed++;
		} else {
			printf("ok %d - %s (%zu evaluations agree)\n", point, base,
			       ag.agree - agree0);
			cases_ok++;
		}
		pw_case_result_free(&off);
		pw_case_result_free(&bpf);
		pw_case_free(&c);
		json_decref(root);
	}

	/* Guard against an engine that agrees by deciding nothing: every kind of verdict occurs. */
	memset(&pw_test_cur, 0, sizeof(pw_test_cur));
	pw_bpf_eval_stats(be, &st);
	pw_test_diag("cases %zu (%zu agree and pass), probes %zu, evaluations %zu, agreements %zu, "
		     "program runs %zu, installs %zu, max endpoints %zu, %.2f s",
		     ncases, cases_ok, probes, ag.evals, ag.agree, st.runs, st.syncs,
		     st.max_endpoints, now_s() - t0);
	pw_test_diag("BPF verdicts: allow-policy %zu, allow-unisolated %zu, allow-host %zu, "
		     "policy-denied-ingress %zu, policy-denied-egress %zu, with a rule cookie %zu, "
		     "events missing %zu",
		     ag.by_reason[PW_REASON_ALLOW_POLICY], ag.by_reason[PW_REASON_ALLOW_UNISOLATED],
		     ag.by_reason[PW_REASON_ALLOW_HOST],
		     ag.by_reason[PW_REASON_DROP_POLICY_INGRESS],
		     ag.by_reason[PW_REASON_DROP_POLICY_EGRESS], ag.cookies, st.events_missing);
	ASSERT_EQ(ag.agree, ag.evals, "every evaluation agrees");
	ASSERT_EQ(st.runs, ag.evals, "one program run per evaluation");
	ASSERT_EQ(st.events_missing, 0, "every verdict had its ring buffer record");
	if (!filter) {
		ASSERT_GE(ncases, 40, "the conformance suite is all here");
		ASSERT_GE(ag.by_reason[PW_REASON_ALLOW_POLICY], 1, "some allowed by a rule");
		ASSERT_GE(ag.by_reason[PW_REASON_ALLOW_UNISOLATED], 1, "some unisolated");
		ASSERT_GE(ag.by_reason[PW_REASON_DROP_POLICY_INGRESS], 1, "some denied at ingress");
		ASSERT_GE(ag.by_reason[PW_REASON_DROP_POLICY_EGRESS], 1, "some denied at egress");
		ASSERT_GE(ag.cookies, 1, "rule cookies come back from the datapath");
	}
	point++;
	if (pw_test_cur.failed) {
		printf("not ok %d - summary\n", point);
		failed++;
	} else {
		printf("ok %d - summary\n", point);
	}
	pw_bpf_eval_free(&be);
	globfree(&g);
	return failed ? 1 : 0;
}
