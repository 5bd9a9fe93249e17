// SPDX-License-Identifier: GPL-2.0-only
/* podwallctl: the command-line tool. main() only wires the command table. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"

struct pw_cli pw_cli;

void p_err(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (pw_cli.json) {
		json_t *o = json_pack("{s:s}", "error", msg);

		pw_json_print(o);
	} else {
		pr_err("%s", msg);
	}
}

void pw_json_print(json_t *v)
{
	if (!v)
		return;
	json_dumpf(v, stdout, pw_cli.pretty ? JSON_INDENT(2) : JSON_COMPACT);
	fputc('\n', stdout);
	json_decref(v);
}

int pw_cli_getopt(int argc, char **argv, const char *optstring, const struct option *opts)
{
	int c;

	while ((c = getopt_long(argc, argv, optstring, opts, NULL)) == 'j' || c == 'p') {
		pw_cli.json = true;
		pw_cli.pretty |= c == 'p';
	}
	return c;
}

static void list_cmds(const struct pw_cmd *cmds, const char *level)
{
	printf("Usage: %s COMMAND [ARGS]\n\nCommands:\n", level);
	for (const struct pw_cmd *c = cmds; c->name; c++)
		if (strcmp(c->name, "help"))
			printf("  %-10s %s\n", c->name, c->doc);
	printf("  %-10s %s\n", "help", "show this list");
	printf("\nGlobal options: -j/--json, -p/--pretty (implies -j), -v (more verbose)\n"
	       "Commands may be abbreviated to any unique prefix.\n");
}

int pw_cmd_dispatch(const struct pw_cmd *cmds, const char *level, int argc, char **argv)
{
	const struct pw_cmd *found = NULL;
	size_t n;

	if (argc < 1 || !strcmp(argv[0], "help") || !strcmp(argv[0], "-h") ||
	    !strcmp(argv[0], "--help")) {
		list_cmds(cmds, level);
		return argc < 1 ? 2 : 0;
	}
	n = strlen(argv[0]);
	for (const struct pw_cmd *c = cmds; c->name; c++) {
		if (!strcmp(c->name, argv[0])) {
			found = c;
			break;
		}
		if (!strncmp(c->name, argv[0], n)) {
			if (found) {
				p_err("%s: ambiguous command \"%s\" (%s, %s, ...)", level, argv[0],
				      found->name, c->name);
				return 2;
			}
			found = c;
		}
	}
	if (!found) {
		p_err("%s: unknown command \"%s\"; try \"%s help\"", level, argv[0], level);
		return 2;
	}
	/* "help" after any command word is that command's --help: help at every level. */
	if (argc >= 2 && !strcmp(argv[1], "help")) {
		char *hv[] = { argv[0], (char *)"--help", NULL };

		optind = 1;
		return found->fn(2, hv);
	}
	return found->fn(argc, argv);
}

static const struct pw_cmd top_cmds[] = {
	{ "policy", do_policy, "NetworkPolicies: test, explain, matrix offline; show a pod's" },
	{ "status", do_daemon_status, "podwalld: readiness, counts, epoch, source" },
	{ "endpoints", do_daemon_endpoints, "podwalld: endpoints with their counters" },
	{ "flows", do_flows, "podwalld: verdict records, recent or --follow" },
	{ "drops", do_drops, "podwalld: top drop reasons, pods and policies" },
	{ "rules", do_rules, "check Suricata-compatible rule files" },
	{ "inspect", do_inspect, "run the inspector and signature engine on a pcap" },
	{ "dos", do_dos, "uplink DoS guards: status" },
	{ "blocklist", do_blocklist, "uplink blocklist: add, del, list" },
	{ "ratelimit", do_ratelimit, "per-source rate limits and SYN guard: set, off, list" },
	{ "captures", do_captures, "pcap files of blocked flows, per pod" },
	{ "ips", do_ips, "flows the live IPS blocked: blocks, unblock" },
	{ 0 },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		PW_CLI_OUTPUT_OPTS,
		{ 0 },
	};
	int c;

	/* "+": global options stop at the first command word. */
	while ((c = pw_cli_getopt(argc, argv, "+jpvh", opts)) != -1) {
		switch (c) {
		case 'v':
			pw_cli.verbose++;
			break;
		case 'h':
			list_cmds(top_cmds, "podwallctl");
			return 0;
		default:
			return 2;
		}
	}
	pw_log_set_level(pw_cli.verbose >= 2 ? PW_LOG_DEBUG
				: pw_cli.verbose ? PW_LOG_INFO : PW_LOG_WARN);
	return pw_cmd_dispatch(top_cmds, "podwallctl", argc - optind, argv + optind);
}
