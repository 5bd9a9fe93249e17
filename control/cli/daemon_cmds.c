// SPDX-License-Identifier: GPL-2.0-only
/* podwallctl status | endpoints: ask the running podwalld over its API socket. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "cli.h"

struct daemon_opts {
	const char *socket;
};

/* Per-command options; -j/-p are accepted after the command word too. */
static int parse_opts(int argc, char **argv, struct daemon_opts *o, const char *usage)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		PW_CLI_OUTPUT_OPTS,
		{ 0 },
	};
	int c;

	o->socket = NULL;
	optind = 1;
	while ((c = pw_cli_getopt(argc, argv, "s:jph", opts)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'h':
			printf("Usage: podwallctl %s [-s|--socket PATH] [-j|-p]\n"
			       "The socket defaults to $PODWALL_SOCKET, else %s.\n",
			       usage, PW_API_SOCKET_DEFAULT);
			return 1;
		default:
			return -1;
		}
	}
	if (optind < argc) {
		p_err("%s: unexpected argument \"%s\"", usage, argv[optind]);
		return -1;
	}
	return 0;
}

const char *pw_daemon_socket(const char *opt)
{
	return opt ?: getenv("PODWALL_SOCKET") ?: PW_API_SOCKET_DEFAULT;
}

json_t *pw_daemon_call(const char *sock, json_t *req)
{
	json_t *resp = NULL;
	const char *msg;
	int err = pw_api_call(sock, req, 0, &resp);

	json_decref(req);
	if (err) {
		p_err("podwalld at %s: %s%s", sock, strerror(-err),
		      pw_api_err_is_down(err) ? " (is podwalld running?)" : "");
		return NULL;
	}
	if (!pw_api_resp_ok(resp, &msg, NULL)) {
		p_err("podwalld: %s", msg ?: "error");
		json_decref(resp);
		return NULL;
	}
	return resp;
}

bool pw_daemon_print_json(json_t *r, const char *key)
{
	if (!pw_cli.json)
		return false;
	if (key) {
		pw_json_print(json_incref(json_object_get(r, key)));
		json_decref(r);
	} else {
		json_object_del(r, "ok");
		pw_json_print(r);
	}
	return true;
}

/* One request {"cmd": cmd} to the socket of the options. */
static json_t *call(const struct daemon_opts *o, const char *cmd)
{
	return pw_daemon_call(pw_daemon_socket(o->socket), json_pack("{s:s}", "cmd", cmd));
}

static json_int_t num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static const char *s_or(json_t *o, const char *k, const char *def)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && *s ? s : def;
}

/* The API source's per-resource sync state (absent with a manifest directory). */
static void print_k8s(json_t *k8s)
{
	const char *res;
	json_t *v;

	if (!json_is_object(k8s))
		return;
	printf("\n%-16s %-7s %-9s %-16s %8s %7s %7s %7s  %s\n", "RESOURCE", "SYNCED", "STATE",
	       "RESOURCEVERSION", "LAG", "EVENTS", "RELISTS", "ERRORS", "LAST ERROR");
	json_object_foreach (k8s, res, v) {
		char lag[32];

		snprintf(lag, sizeof(lag), "%.1fs", (double)num(v, "lag_ms") / 1000.0);
		printf("%-16s %-7s %-9s %-16s %8s %7lld %7lld %7lld  %s\n", res,
		       json_is_true(json_object_get(v, "synced")) ? "yes" : "no",
		       s_or(v, "state", "-"), s_or(v, "resourceVersion", "-"), lag,
		       (long long)num(v, "events"), (long long)num(v, "relists"),
		       (long long)num(v, "errors"), s_or(v, "last_error", "-"));
	}
}

/* The live inspector's counters (ips.c in the daemon). */
static void print_ips(json_t *ips)
{
	if (!json_is_true(json_object_get(ips, "enabled"))) {
		printf("ips:        off\n");
		return;
	}
	printf("ips:        %s mode, %lld rules\n", s_or(ips, "mode", "-"),
	       (long long)num(ips, "rules"));
	printf("  samples:  %lld read (%lld flow, %lld drop); datapath sent %lld, "
	       "suppressed %lld, lost %lld\n",
	       (long long)num(ips, "samples"), (long long)num(ips, "flow_samples"),
	       (long long)num(ips, "drop_samples"), (long long)num(ips, "samples_sent"),
	       (long long)num(ips, "samples_suppressed"), (long long)num(ips, "samples_lost"));
	printf("  alerts:   %lld; blocks %lld (errors %lld), flow blocks in place %lld\n",
	       (long long)num(ips, "alerts"), (long long)num(ips, "blocks"),
	       (long long)num(ips, "block_errors"), (long long)num(ips, "flow_blocks"));
	printf("  captured: %lld packets (errors %lld)\n", (long long)num(ips, "captured"),
	       (long long)num(ips, "capture_errors"));
}

int do_daemon_status(int argc, char **argv)
{
	struct daemon_opts o;
	json_t *r;
	int err = parse_opts(argc, argv, &o, "status");

	if (err)
		return err > 0 ? 0 : 2;
	r = call(&o, "status");
	if (!r)
		return 1;
	if (pw_daemon_print_json(r, NULL))
		return 0;
	printf("ready:      %s%s%s\n", json_is_true(json_object_get(r, "ready")) ? "yes" : "no",
	       *s_or(r, "reason", "") ? " - " : "", s_or(r, "reason", ""));
	printf("node:       %s\n", s_or(r, "node", "-"));
	printf("endpoints:  %lld\n", (long long)num(r, "endpoints"));
	printf("policies:   %lld\n", (long long)num(r, "policies"));
	printf("epoch:      %lld\n", (long long)num(r, "epoch"));
	printf("generation: %lld\n", (long long)num(r, "generation"));
	printf("source:     %s\n", s_or(r, "source", "-"));
	printf("pin root:   %s\n", s_or(r, "pin_root", "-"));
	printf("last error: %s\n", s_or(r, "last_error", "none"));
	print_ips(json_object_get(r, "ips"));
	print_k8s(json_object_get(r, "k8s"));
	json_decref(r);
	return 0;
}

int do_daemon_endpoints(int argc, char **argv)
{
	struct daemon_opts o;
	json_t *r, *eps, *ep;
	size_t i;
	int err = parse_opts(argc, argv, &o, "endpoints");

	if (err)
		return err > 0 ? 0 : 2;
	r = call(&o, "endpoints");
	if (!r)
		return 1;
	if (pw_daemon_print_json(r, "endpoints"))
		return 0;
	eps = json_object_get(r, "endpoints");
	printf("%-4s %-32s %-16s %-18s %-5s %10s %10s %10s %10s\n", "ID", "POD", "INTERFACE", "IPS",
	       "READY", "IN-ALLOW", "IN-DROP", "EG-ALLOW", "EG-DROP");
	json_array_foreach (eps, i, ep) {
		json_t *ips = json_object_get(ep, "ips"), *ing = json_object_get(ep, "ingress");
		json_t *eg = json_object_get(ep, "egress"), *ip;
		char pod[256], addrs[256] = "";
		size_t j, l = 0;

		snprintf(pod, sizeof(pod), "%s/%s", s_or(ep, "namespace", "?"),
			 s_or(ep, "pod", "?"));
		json_array_foreach (ips, j, ip) {
			int n = snprintf(addrs + l, sizeof(addrs) - l, "%s%s", j ? "," : "",
					 json_string_value(ip) ?: "?");

			if (n < 0 || (size_t)n >= sizeof(addrs) - l)
				break;
			l += (size_t)n;
		}
		printf("%-4lld %-32s %-16s %-18s %-5s %10lld %10lld %10lld %10lld\n",
		       (long long)num(ep, "id"), pod, s_or(ep, "interface", "-"),
		       *addrs ? addrs : "-",
		       json_is_true(json_object_get(ep, "ready")) ? "yes" : "no",
		       (long long)num(ing, "allowed"), (long long)num(ing, "dropped"),
		       (long long)num(eg, "allowed"), (long long)num(eg, "dropped"));
	}
	json_decref(r);
	return 0;
}
