// SPDX-License-Identifier: GPL-2.0-only
/*
 * podwallctl flows | drops: the daemon's verdict records (control/daemon/
 * flowlog.c), recent or followed live, and the top drop reasons, pods and
 * policies over a window.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "api.h"
#include "cleanup.h"
#include "cli.h"

static const char *s_or(json_t *o, const char *k, const char *def)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && *s ? s : def;
}

static long long num(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static void print_flow(json_t *r)
{
	char pod[300], src[80], dst[80];
	json_t *lost = json_object_get(r, "lost");

	if (lost) {
		printf("... %lld record(s) lost: this client did not keep up\n",
		       (long long)json_integer_value(lost));
		return;
	}
	if (*s_or(r, "pod", ""))
		snprintf(pod, sizeof(pod), "%s/%s", s_or(r, "namespace", "?"), s_or(r, "pod", "?"));
	else
		snprintf(pod, sizeof(pod), "(uplink %s)", s_or(r, "interface", "?"));
	snprintf(src, sizeof(src), "%s:%lld", s_or(r, "src", "?"), num(r, "sport"));
	snprintf(dst, sizeof(dst), "%s:%lld", s_or(r, "dst", "?"), num(r, "dport"));
	printf("%-23s %-24s %-7s %-4s %-21s %-21s %-12s %-21s %5lld  %s\n",
	       s_or(r, "time", "?"), pod, s_or(r, "direction", "?"), s_or(r, "proto", "?"), src,
	       dst, s_or(r, "verdict", "?"), s_or(r, "reason", "?"), num(r, "count"),
	       s_or(r, "why", ""));
}

static void print_flow_head(void)
{
	printf("%-23s %-24s %-7s %-4s %-21s %-21s %-12s %-21s %5s  %s\n", "TIME", "POD", "DIR",
	       "PROTO", "SOURCE", "DESTINATION", "VERDICT", "REASON", "COUNT", "WHY");
}

/* Streams records until the daemon goes or the user interrupts. Returns the exit code. */
static int follow(const char *sock, json_t *req)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_free_ char *s = json_dumps(req, JSON_COMPACT), *line = NULL;
	_cleanup_close_ int fd = -1;
	_cleanup_fclose_ FILE *in = NULL;
	size_t cap = 0;
	ssize_t n;
	bool first = true;

	json_decref(req);
	if (!s || strlen(sock) >= sizeof(sa.sun_path)) {
		p_err("podwalld at %s: %s", sock, strerror(s ? ENAMETOOLONG : ENOMEM));
		return 1;
	}
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    dprintf(fd, "%s\n", s) < 0) {
		p_err("podwalld at %s: %s (is podwalld running?)", sock, strerror(errno));
		return 1;
	}
	in = fdopen(TAKE_FD(fd), "r");
	if (!in) {
		p_err("podwalld at %s: %s", sock, strerror(errno));
		return 1;
	}
	if (!pw_cli.json)
		print_flow_head();
	while ((n = getline(&line, &cap, in)) > 0) {
		json_t *r = json_loads(line, 0, NULL);
		const char *msg;

		if (!json_is_object(r)) {
			json_decref(r);
			continue;
		}
		if (first) {
			first = false;
			if (!pw_api_resp_ok(r, &msg, NULL)) {
				p_err("podwalld: %s", msg ?: "error");
				json_decref(r);
				return 1;
			}
			json_decref(r);
			continue;
		}
		if (pw_cli.json)
			pw_json_print(r);
		else {
			print_flow(r);
			json_decref(r);
		}
		fflush(stdout);
	}
	if (first) {
		p_err("podwalld at %s: closed the connection without an answer", sock);
		return 1;
	}
	/* The daemon stopped: the stream ends, which is not the user's error. */
	return 0;
}

static int split_pod(const char *s, json_t *req)
{
	const char *slash = strchr(s, '/');

	if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/')) {
		p_err("--pod: \"%s\" is not NAMESPACE/POD", s);
		return -EINVAL;
	}
	json_object_set_new(req, "namespace", json_stringn(s, (size_t)(slash - s)));
	json_object_set_new(req, "pod", json_string(slash + 1));
	return 0;
}

static const char flows_usage[] =
	"Usage: podwallctl flows [--pod NS/POD | --namespace NS] [--verdict allowed|denied|audit-denied]\n"
	"                        [--follow] [--limit N] [-s|--socket PATH] [-j|-p]\n"
	"Verdict records of podwalld: the newest N (default 100) matching ones, oldest first;\n"
	"--follow then keeps printing new ones as they are written (-j: one JSON object a line).\n"
	"What is recorded depends on --log-verdicts and the podwall.io/log-verdicts annotation.\n";

int do_flows(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pod", required_argument, NULL, 'P' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "verdict", required_argument, NULL, 'V' },
		{ "follow", no_argument, NULL, 'f' },
		{ "limit", required_argument, NULL, 'l' },
		{ "socket", required_argument, NULL, 's' },
		PW_CLI_OUTPUT_OPTS,
		{ 0 },
	};
	json_t *req = json_pack("{s:s}", "cmd", "flows"), *r, *arr, *it;
	const char *sock = NULL;
	bool fol = false;
	long limit = -1;
	size_t i;
	int c;

	optind = 0;
	while ((c = pw_cli_getopt(argc, argv, "P:n:V:fl:s:jph", opts)) != -1) {
		switch (c) {
		case 'P':
			if (split_pod(optarg, req))
				goto usage_err;
			break;
		case 'n':
			json_object_set_new(req, "namespace", json_string(optarg));
			break;
		case 'V':
			if (strcmp(optarg, "allowed") && strcmp(optarg, "denied") &&
			    strcmp(optarg, "audit-denied")) {
				p_err("--verdict: \"%s\" is not allowed, denied or audit-denied",
				      optarg);
				goto usage_err;
			}
			json_object_set_new(req, "verdict", json_string(optarg));
			break;
		case 'f':
			fol = true;
			break;
		case 'l': {
			char *end;

			limit = strtol(optarg, &end, 10);
			if (*end || limit < 0 || limit > 4096) {
				p_err("--limit: \"%s\" is not 0..4096", optarg);
				goto usage_err;
			}
			break;
		}
		case 's':
			sock = optarg;
			break;
		case 'h':
			fputs(flows_usage, stdout);
			json_decref(req);
			return 0;
		default:
			goto usage_err;
		}
	}
	if (optind < argc) {
		p_err("flows: unexpected argument \"%s\"", argv[optind]);
		goto usage_err;
	}
	json_object_set_new(req, "limit", json_integer(limit < 0 ? (fol ? 0 : 100) : limit));
	if (fol) {
		json_object_set_new(req, "follow", json_true());
		return follow(pw_daemon_socket(sock), req);
	}
	r = pw_daemon_call(pw_daemon_socket(sock), req);
	if (!r)
		return 1;
	if (pw_daemon_print_json(r, "flows"))
		return 0;
	arr = json_object_get(r, "flows");
	print_flow_head();
	json_array_foreach (arr, i, it)
		print_flow(it);
	json_decref(r);
	return 0;

usage_err:
	json_decref(req);
	return 2;
}

/* "90", "90s", "5m", "2h" -> seconds. */
static long parse_window(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || v <= 0)
		return -1;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		return v;
	if (!strcmp(end, "m"))
		return v * 60;
	if (!strcmp(end, "h"))
		return v * 3600;
	return -1;
}

static void print_top(const char *title, json_t *arr)
{
	json_t *it;
	size_t i;

	printf("\n%-60s %10s\n", title, "PACKETS");
	if (!json_array_size(arr))
		printf("%-60s %10s\n", "(none)", "");
	json_array_foreach (arr, i, it)
		printf("%-60s %10lld\n", s_or(it, "name", "?"), num(it, "count"));
}

int do_drops(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "window", required_argument, NULL, 'w' },
		{ "top", required_argument, NULL, 't' },
		{ "socket", required_argument, NULL, 's' },
		PW_CLI_OUTPUT_OPTS,
		{ 0 },
	};
	const char *sock = NULL;
	long window = 300, top = 10;
	json_t *r;
	int c;

	optind = 0;
	while ((c = pw_cli_getopt(argc, argv, "w:t:s:jph", opts)) != -1) {
		switch (c) {
		case 'w':
			window = parse_window(optarg);
			if (window <= 0 || window > 86400) {
				p_err("--window: \"%s\" is not 1s..24h (N, Ns, Nm, Nh)", optarg);
				return 2;
			}
			break;
		case 't': {
			char *end;

			top = strtol(optarg, &end, 10);
			if (*end || top < 1 || top > 1000) {
				p_err("--top: \"%s\" is not 1..1000", optarg);
				return 2;
			}
			break;
		}
		case 's':
			sock = optarg;
			break;
		case 'h':
			printf("Usage: podwallctl drops [--window 5m] [--top N] [-s|--socket PATH] "
			       "[-j|-p]\n"
			       "Top drop reasons, pods and policies (or default-deny explanations)\n"
			       "over the window, from podwalld's recent verdict records (the last\n"
			       "4096 records; packets are their repeat counts).\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind < argc) {
		p_err("drops: unexpected argument \"%s\"", argv[optind]);
		return 2;
	}
	r = pw_daemon_call(pw_daemon_socket(sock),
			   json_pack("{s:s, s:I, s:I}", "cmd", "drops", "window",
				     (json_int_t)window, "top", (json_int_t)top));
	if (!r)
		return 1;
	if (pw_daemon_print_json(r, NULL))
		return 0;
	printf("drops in the last %lld s: %lld packet(s) in %lld record(s)\n", num(r, "window"),
	       num(r, "packets"), num(r, "records"));
	print_top("REASON", json_object_get(r, "reasons"));
	print_top("POD", json_object_get(r, "pods"));
	print_top("POLICY RULE / WHY", json_object_get(r, "policies"));
	json_decref(r);
	return 0;
}

/* podwallctl policy show NS/POD: the pod's compiled policy as podwalld installed it. */
int do_policy_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		PW_CLI_OUTPUT_OPTS,
		{ 0 },
	};
	json_t *req, *r, *rows, *row, *iso;
	const char *sock = NULL, *dirs[] = { "ingress", "egress" };
	size_t i;
	int c;

	optind = 0;
	while ((c = pw_cli_getopt(argc, argv, "s:jph", opts)) != -1) {
		switch (c) {
		case 's':
			sock = optarg;
			break;
		case 'h':
			printf("Usage: podwallctl policy show NS/POD [-s|--socket PATH] [-j|-p]\n"
			       "The compiled policy podwalld installed for a local pod: one row per\n"
			       "peer, direction, protocol and port range, with its verdict, the\n"
			       "NetworkPolicy rule it comes from and the new flows it decided\n"
			       "(hits, per rule: its rows share them; since podwalld started).\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc - 1) {
		p_err("policy show: expected one NS/POD");
		return 2;
	}
	req = json_pack("{s:s}", "cmd", "policy-show");
	if (split_pod(argv[optind], req)) {
		json_decref(req);
		return 2;
	}
	r = pw_daemon_call(pw_daemon_socket(sock), req);
	if (!r)
		return 1;
	if (pw_daemon_print_json(r, NULL))
		return 0;
	iso = json_object_get(r, "isolation");
	printf("pod %s/%s (identity %lld)\n", s_or(r, "namespace", "?"), s_or(r, "pod", "?"),
	       num(r, "identity"));
	for (i = 0; i < 2; i++) {
		json_t *d = json_object_get(iso, dirs[i]);

		if (json_is_true(json_object_get(d, "isolated")))
			printf("  %-7s isolated by %s: default deny\n", dirs[i],
			       s_or(d, "selected_by", "?"));
		else
			printf("  %-7s not isolated: everything allowed\n", dirs[i]);
	}
	rows = json_object_get(r, "rules");
	printf("\n%-7s %-44s %-5s %-11s %-7s %-36s %9s\n", "DIR", "PEER", "PROTO", "PORTS",
	       "VERDICT", "POLICY RULE", "RULE HITS");
	json_array_foreach (rows, i, row) {
		json_t *pol = json_object_get(row, "policy");
		char rule[300] = "-";

		if (json_is_object(pol))
			snprintf(rule, sizeof(rule), "%s/%s rule %lld", s_or(pol, "namespace", "?"),
				 s_or(pol, "name", "?"), num(pol, "rule"));
		printf("%-7s %-44s %-5s %-11s %-7s %-36s %9lld\n", s_or(row, "direction", "?"),
		       s_or(row, "peer", "?"), s_or(row, "proto", "?"), s_or(row, "ports", "?"),
		       s_or(row, "verdict", "?"), rule, num(row, "hits"));
	}
	if (!json_array_size(rows))
		printf("(no rules)\n");
	json_decref(r);
	return 0;
}
