// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: manifest text (YAML, then the same bytes as JSON) through the
 * parser, the object validation, a compile and an evaluation. Nothing may
 * crash, leak or read out of bounds, whatever the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "policy.h"

static void one(const char *buf, size_t len, bool yaml)
{
	struct pw_policy_db *db = NULL;
	char err[PW_ERRMSG_MAX];
	struct pw_pod_view *pods;
	json_t *docs = NULL, *d;
	size_t i, n;

	if (pw_manifest_parse(buf, len, "fuzz", yaml, &docs, err))
		return;
	if (pw_policy_db_new(&db)) {
		json_decref(docs);
		return;
	}
	json_array_foreach (docs, i, d)
		pw_policy_db_upsert(db, d, err);
	if (!pw_policy_db_compile(db, NULL)) {
		n = pw_policy_db_pods(db, &pods);
		for (i = 0; i + 1 < n && i < 8; i++) {
			struct pw_probe_result r;

			if (pods[i].nips && pods[i + 1].nips &&
			    pods[i].ips[0].family == pods[i + 1].ips[0].family)
				pw_policy_probe(db, NULL, &pods[i].ips[0], &pods[i + 1].ips[0], 6,
						80, &r);
		}
		/* Once more, incrementally: the same objects again must compile too. */
		json_array_foreach (docs, i, d)
			pw_policy_db_upsert(db, d, err);
		pw_policy_db_compile(db, NULL);
	}
	pw_policy_db_free(&db);
	json_decref(docs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	one((const char *)data, size, true);
	one((const char *)data, size, false);
	return 0;
}
