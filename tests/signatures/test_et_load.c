// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loads ET Open (../shared/testdata/rules/emerging-all.rules) and checks that
 * the share of active rules that load does not fall below what the engine
 * reached (95.58% when written: 23,730 of 24,827), that every reject has a reason, and that the
 * loaded set compiles into the prefilter.
 */
#include <stdlib.h>

#include "sig.h"
#include "test.h"

#define MIN_SHARE 0.95

static const char *data_path(void)
{
	const char *d = getenv("PW_TESTDATA");

	return d ? d : "/work/shared/testdata";
}

static void test_et_open_load_share(void)
{
	char path[512], classf[512];
	struct pw_sig_set *s = NULL;
	size_t loaded, rejected;
	double share;
	int n;

	snprintf(path, sizeof(path), "%s/rules/emerging-all.rules", data_path());
	snprintf(classf, sizeof(classf), "%s/rules/classification.config", data_path());
	if (access(path, R_OK)) {
		pw_test_skip("ET Open rules not found (set PW_TESTDATA)");
		return;
	}
	if (!ASSERT_OK(pw_sig_set_new(&s), "set_new"))
		return;
	ASSERT_OK(pw_sig_load_classification(s, classf), "classification");
	n = pw_sig_load_file(s, path);
	ASSERT_GE(n, 1, "rules loaded");
	loaded = pw_sig_rule_count(s);
	rejected = pw_sig_reject_count(s);
	share = (double)loaded / (loaded + rejected);
	pw_test_diag("ET Open: %zu of %zu active rules load (%.2f%%)", loaded, loaded + rejected,
		     share * 100);
	ASSERT_TRUE(share >= MIN_SHARE, "load share");
	/* The README counts 24,827 active rules: commented ones must not be parsed. */
	ASSERT_EQ(loaded + rejected, 24827, "active rules seen");
	for (size_t i = 0; i < rejected; i++) {
		const struct pw_sig_reject *r = pw_sig_reject_get(s, i);

		if (!ASSERT_TRUE(r->reason && *r->reason && r->line > 0 && r->sid, "reject named"))
			break;
	}
	ASSERT_OK(pw_sig_compile(s), "prefilter over all loaded rules");
	pw_sig_set_free(&s);
	ASSERT_TRUE(s == NULL, "free resets");
}

static const struct pw_test tests[] = {
	{ "et_open_load_share", test_et_open_load_share },
};

PW_TEST_MAIN(tests)
