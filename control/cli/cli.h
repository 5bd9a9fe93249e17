/* SPDX-License-Identifier: GPL-2.0-only */
/* podwallctl: command tables and the one output path (text or JSON). */
#pragma once

#include <getopt.h>
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

/* The long options every command takes, so -j/-p also work after the command word. */
#define PW_CLI_OUTPUT_OPTS                                                            \
	{ "json", no_argument, NULL, 'j' }, { "pretty", no_argument, NULL, 'p' },     \
	{ "help", no_argument, NULL, 'h' }

/* getopt_long() that applies -j and -p itself and returns the next other option. */
int pw_cli_getopt(int argc, char **argv, const char *optstring, const struct option *opts);

/*
 * Talking to podwalld (daemon_cmds.c). The socket is the -s option, else
 * $PODWALL_SOCKET, else PW_API_SOCKET_DEFAULT. A call sends one request (it
 * takes req) and returns the answer, or prints the error (JSON mode:
 * {"error": ...}) and returns NULL.
 */
const char *pw_daemon_socket(const char *opt);
json_t *pw_daemon_call(const char *sock, json_t *req);

/*
 * JSON mode: prints the answer's member key (the whole answer but "ok" when
 * key is NULL), releases r and returns true. Text mode: false, r untouched.
 */
bool pw_daemon_print_json(json_t *r, const char *key);

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
