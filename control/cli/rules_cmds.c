// SPDX-License-Identifier: GPL-2.0-only
/* podwallctl rules: check a .rules file against the signature engine's subset. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "sig.h"

struct tally {
	char key[160];
	size_t n;
};

static int cmp_tally(const void *a, const void *b)
{
	const struct tally *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->key, y->key);
}

static int do_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "classification", required_argument, NULL, 'c' },
		{ "list", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct pw_sig_set *s = NULL;
	const char *classf = NULL;
	struct tally *t = NULL;
	size_t nt = 0, nrej, loaded;
	bool list = false;
	int c, err, total_loaded = 0;

	optind = 0; /* 0: getopt re-initialises, so options may follow the files */
	while ((c = getopt_long(argc, argv, "c:ljh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			pw_cli.json = true;
			break;
		case 'c':
			classf = optarg;
			break;
		case 'l':
			list = true;
			break;
		case 'h':
			printf("Usage: podwallctl rules check [-c classification.config] [-l] [-j] FILE...\n"
			       "Loads each rule file and reports how many rules load and why the others\n"
			       "do not; -l lists every reject as file:line, sid, keyword and reason;\n"
			       "-j prints JSON.\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind >= argc) {
		p_err("rules check: no rule file given");
		return 2;
	}
	err = pw_sig_set_new(&s);
	if (err) {
		p_err("rules check: %s", strerror(-err));
		return 1;
	}
	if (classf && (err = pw_sig_load_classification(s, classf))) {
		p_err("rules check: %s: %s", classf, strerror(-err));
		pw_sig_set_free(&s);
		return 1;
	}
	for (int i = optind; i < argc; i++) {
		err = pw_sig_load_file(s, argv[i]);
		if (err < 0) {
			p_err("rules check: %s: %s", argv[i], strerror(-err));
			pw_sig_set_free(&s);
			return 1;
		}
		total_loaded += err;
	}
	loaded = pw_sig_rule_count(s);
	nrej = pw_sig_reject_count(s);
	t = calloc(nrej ? nrej : 1, sizeof(*t));
	if (!t) {
		pw_sig_set_free(&s);
		return 1;
	}
	for (size_t i = 0; i < nrej; i++) {
		const struct pw_sig_reject *r = pw_sig_reject_get(s, i);
		char key[160];
		size_t k;

		snprintf(key, sizeof(key), "%s%s%s", r->reason, *r->keyword ? ": " : "",
			 r->keyword);
		for (k = 0; k < nt; k++)
			if (!strcmp(t[k].key, key))
				break;
		if (k == nt)
			snprintf(t[nt++].key, sizeof(t->key), "%s", key);
		t[k].n++;
	}
	qsort(t, nt, sizeof(*t), cmp_tally);
	if (pw_cli.json) {
		json_t *o = json_object(), *reasons = json_object(), *rejects = json_array();

		json_object_set_new(o, "loaded", json_integer(loaded));
		json_object_set_new(o, "rejected", json_integer(nrej));
		json_object_set_new(o, "active", json_integer(loaded + nrej));
		json_object_set_new(o, "load_share",
				    json_real(loaded + nrej ? (double)loaded / (loaded + nrej) :
							      1.0));
		for (size_t k = 0; k < nt; k++)
			json_object_set_new(reasons, t[k].key, json_integer(t[k].n));
		json_object_set_new(o, "reasons", reasons);
		for (size_t i = 0; list && i < nrej; i++) {
			const struct pw_sig_reject *r = pw_sig_reject_get(s, i);

			json_array_append_new(rejects,
					      json_pack("{s:s,s:i,s:I,s:s,s:s,s:s}", "file",
							r->file, "line", r->line, "sid",
							(json_int_t)r->sid, "keyword", r->keyword,
							"reason", r->reason, "detail", r->detail));
		}
		if (list)
			json_object_set_new(o, "rejects", rejects);
		else
			json_decref(rejects);
		pw_json_print(o);
	} else {
		printf("%zu of %zu active rules load (%.2f%%), %zu rejected\n", loaded,
		       loaded + nrej, loaded + nrej ? 100.0 * loaded / (loaded + nrej) : 100.0,
		       nrej);
		for (size_t k = 0; k < nt; k++)
			printf("  %6zu  %s\n", t[k].n, t[k].key);
		for (size_t i = 0; list && i < nrej; i++) {
			const struct pw_sig_reject *r = pw_sig_reject_get(s, i);

			printf("%s:%d: sid %u: %s%s%s\n", r->file, r->line, r->sid, r->keyword,
			       *r->keyword ? ": " : "", r->detail);
		}
	}
	(void)total_loaded;
	free(t);
	pw_sig_set_free(&s);
	return 0;
}

static const struct pw_cmd rules_cmds[] = {
	{ "check", do_check, "load rule files and report loaded rules and rejects by reason" },
	{ 0 },
};

int do_rules(int argc, char **argv)
{
	return pw_cmd_dispatch(rules_cmds, "podwallctl rules", argc - 1, argv + 1);
}
