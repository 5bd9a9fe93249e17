// SPDX-License-Identifier: GPL-2.0-only
/*
 * k8s_compiled NODE FILE: a fresh, offline compile of the objects in FILE (a
 * List, as the fixture dumps it) for node NODE, printed as the canonical
 * document of pw_compiled_dump(): what podwalld's {"cmd": "compiled"} must
 * equal once it has converged on the same objects.
 */
#include <stdio.h>
#include <string.h>

#include "k8s.h"
#include "policy.h"

int main(int argc, char **argv)
{
	static const char *const order[] = { "Namespace", "Pod", "NetworkPolicy" };
	struct pw_policy_db *db = NULL;
	json_error_t je;
	json_t *root, *items, *it, *out;
	size_t i;

	if (argc != 3) {
		fprintf(stderr, "usage: k8s_compiled NODE FILE\n");
		return 2;
	}
	root = json_load_file(argv[2], 0, &je);
	items = json_object_get(root, "items");
	if (!json_is_array(items)) {
		fprintf(stderr, "%s: not a List: %s\n", argv[2], je.text);
		return 1;
	}
	if (pw_policy_db_new(&db) || pw_policy_db_set_node(db, argv[1], NULL, 0))
		return 1;
	for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++) {
		json_array_foreach (items, i, it) {
			char msg[PW_ERRMSG_MAX];

			if (strcmp(json_string_value(json_object_get(it, "kind")) ?: "", order[o]))
				continue;
			/* The same objects the daemon would reject, rejected here too. */
			if (pw_policy_db_upsert(db, it, msg))
				fprintf(stderr, "rejected: %s\n", msg);
		}
	}
	out = pw_policy_db_compile(db, NULL) ? NULL : pw_compiled_dump(db);
	if (!out)
		return 1;
	json_dumpf(out, stdout, JSON_SORT_KEYS | JSON_COMPACT);
	putchar('\n');
	json_decref(out);
	json_decref(root);
	pw_policy_db_free(&db);
	return 0;
}
