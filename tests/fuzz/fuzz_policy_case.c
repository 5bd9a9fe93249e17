// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: a policy case file through the case parser and, when it is
 * valid and small, the whole offline run (compile per step, every probe).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[PW_ERRMSG_MAX];
	struct pw_case_result res;
	struct pw_case *c = NULL;
	json_t *root;

	if (size > 1 << 16)
		return 0;
	root = json_loadb((const char *)data, size, 0, NULL);
	if (!root)
		return 0;
	if (!pw_case_parse(root, &c, err)) {
		if (c->npods <= 16 && c->nsteps <= 8 && !pw_case_run(c, NULL, &res, err))
			pw_case_result_free(&res);
		pw_case_free(&c);
	}
	json_decref(root);
	return 0;
}
