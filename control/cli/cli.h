/* SPDX-License-Identifier: GPL-2.0-only */
/* podwallctl: command tables and the one output path (text or JSON). */
#pragma once

#include <stdbool.h>

#include <jansson.h>

struct pw_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *doc;
};

struct pw_cli {
	bool json, pretty;
	int verbose;
};

extern struct pw_cli pw_cli;

/*
 * Runs the command argv[0] names (any unique prefix) from a NULL-terminated
 * table; "help" (or no command) lists the table under the heading level.
 */
int pw_cmd_dispatch(const struct pw_cmd *cmds, const char *level, int argc, char **argv);

/* Errors: {"error": "..."} on stdout in JSON mode, else "error: ..." on stderr. */
void p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints a JSON value (compact, or indented with -p) and a newline; steals the reference. */
void pw_json_print(json_t *v);

/* Command groups. */
int do_policy(int argc, char **argv);
int do_daemon_status(int argc, char **argv); /* daemon_cmds.c */
int do_daemon_endpoints(int argc, char **argv);
int do_rules(int argc, char **argv);   /* rules_cmds.c */
int do_inspect(int argc, char **argv); /* inspect_cmds.c */
int do_dos(int argc, char **argv); /* dos_cmds.c */
int do_blocklist(int argc, char **argv);
int do_ratelimit(int argc, char **argv);
int do_flows(int argc, char **argv); /* flows_cmds.c */
int do_drops(int argc, char **argv);
int do_policy_show(int argc, char **argv);
int do_captures(int argc, char **argv); /* capture_cmds.c */
int do_ips(int argc, char **argv);	/* ips_cmds.c */
