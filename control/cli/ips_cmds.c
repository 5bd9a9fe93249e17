// SPDX-License-Identifier: GPL-2.0-only
/*
 * podwallctl ips blocks | unblock: the flows the live IPS blocked in the
 * datapath (pw_ips_flows), read and removed through the pinned maps. Blocked
 * sources are blocklist entries with owner "ips" (podwallctl blocklist).
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "ips.h"

struct ips_opts {
	const char *pin_root;
};

static int parse(int argc, char **argv, struct ips_opts *o, const char *usage)
{
	static const struct option opts[] = {
		{ "pin-root", required_argument, NULL, 'P' },
		PW_CLI_OUTPUT_OPTS,
		{ 0 },
	};
	int c;

	optind = 1;
	while ((c = pw_cli_getopt(argc, argv, "P:jph", opts)) != -1) {
		switch (c) {
		case 'P':
			o->pin_root = optarg;
			break;
		case 'h':
			printf("Usage: podwallctl ips %s [--pin-root DIR] [-j|-p]\n", usage);
			return 1;
		default:
			return -1;
		}
	}
	return 0;
}

static int open_maps(const struct ips_opts *o, struct pw_ips_maps **m)
{
	int err = pw_ips_maps_open(m, o->pin_root);

	if (err)
		p_err("cannot open the IPS maps under %s: %s (is the datapath loaded? root?)",
		      o->pin_root ?: PW_PIN_ROOT, strerror(-err));
	return err;
}

static const char *proto_name(__u8 p, char *buf, size_t n)
{
	if (p == IPPROTO_TCP)
		return "tcp";
	if (p == IPPROTO_UDP)
		return "udp";
	if (p == IPPROTO_SCTP)
		return "sctp";
	snprintf(buf, n, "%u", p);
	return buf;
}

struct list_ctx {
	json_t *arr;
	__u64 now;
};

static int one(const struct pw_ips_key *k, const struct pw_ips_val *v, void *ud)
{
	struct list_ctx *c = ud;
	int af = k->family == PW_AF_INET6 ? AF_INET6 : AF_INET;
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], pb[8];
	json_int_t left = 0;

	inet_ntop(af, k->saddr, s, sizeof(s));
	inet_ntop(af, k->daddr, d, sizeof(d));
	/* ttl_s: 0 never expires, -1 expired (not swept yet), else seconds left (at least 1) */
	if (v->expires_ns)
		left = v->expires_ns > c->now ?
			       (json_int_t)((v->expires_ns - c->now) / 1000000000ULL) + 1 :
			       -1;
	json_array_append_new(c->arr,
			      json_pack("{s:s, s:s, s:i, s:s, s:i, s:I, s:I, s:I}", "proto",
					proto_name(k->proto, pb, sizeof(pb)), "src", s, "sport",
					ntohs(k->sport), "dst", d, "dport", ntohs(k->dport), "sid",
					(json_int_t)v->sid, "gid", (json_int_t)v->gid, "ttl_s", left));
	return 0;
}

static int do_blocks(int argc, char **argv)
{
	struct ips_opts o = { 0 };
	struct pw_ips_maps *m = NULL;
	struct list_ctx c;
	size_t i;
	json_t *v;
	int err = parse(argc, argv, &o, "blocks");

	if (err)
		return err > 0 ? 0 : 2;
	if (open_maps(&o, &m))
		return 1;
	c.arr = json_array();
	c.now = pw_ips_now_ns();
	pw_ips_flow_foreach(m, one, &c);
	pw_ips_maps_free(&m);
	if (pw_cli.json) {
		pw_json_print(c.arr);
		return 0;
	}
	printf("%-5s %-40s %-40s %10s %8s\n", "PROTO", "FROM", "TO", "SID", "TTL");
	json_array_foreach (c.arr, i, v) {
		char from[64], to[64], ttl[24];
		json_int_t t = json_integer_value(json_object_get(v, "ttl_s"));

		snprintf(from, sizeof(from), "%s:%lld", json_string_value(json_object_get(v, "src")),
			 (long long)json_integer_value(json_object_get(v, "sport")));
		snprintf(to, sizeof(to), "%s:%lld", json_string_value(json_object_get(v, "dst")),
			 (long long)json_integer_value(json_object_get(v, "dport")));
		if (t < 0)
			snprintf(ttl, sizeof(ttl), "expired");
		else if (!t)
			snprintf(ttl, sizeof(ttl), "never");
		else
			snprintf(ttl, sizeof(ttl), "%llds", (long long)t);
		printf("%-5s %-40s %-40s %10lld %8s\n", json_string_value(json_object_get(v, "proto")),
		       from, to, (long long)json_integer_value(json_object_get(v, "sid")), ttl);
	}
	json_decref(c.arr);
	return 0;
}

/* podwallctl ips unblock PROTO SRC SPORT DST DPORT: both directions go. */
static int do_unblock(int argc, char **argv)
{
	struct ips_opts o = { 0 };
	struct pw_ips_maps *m = NULL;
	struct pw_ips_key k = { 0 };
	char *end;
	long sp, dp;
	int err = parse(argc, argv, &o, "unblock tcp|udp|sctp SRC SPORT DST DPORT");

	if (err)
		return err > 0 ? 0 : 2;
	if (argc - optind != 5) {
		p_err("ips unblock: expected PROTO SRC SPORT DST DPORT (as ips blocks lists them)");
		return 2;
	}
	argv += optind;
	k.proto = !strcmp(argv[0], "tcp") ? IPPROTO_TCP : !strcmp(argv[0], "udp") ? IPPROTO_UDP :
		  !strcmp(argv[0], "sctp")				    ? IPPROTO_SCTP :
										      0;
	sp = strtol(argv[2], &end, 10);
	if (!k.proto || *end || sp < 0 || sp > 65535) {
		p_err("ips unblock: bad protocol \"%s\" or port \"%s\"", argv[0], argv[2]);
		return 2;
	}
	dp = strtol(argv[4], &end, 10);
	if (*end || dp < 0 || dp > 65535) {
		p_err("ips unblock: bad port \"%s\"", argv[4]);
		return 2;
	}
	if (inet_pton(AF_INET, argv[1], k.saddr) == 1 && inet_pton(AF_INET, argv[3], k.daddr) == 1)
		k.family = PW_AF_INET;
	else if (inet_pton(AF_INET6, argv[1], k.saddr) == 1 &&
		 inet_pton(AF_INET6, argv[3], k.daddr) == 1)
		k.family = PW_AF_INET6;
	else {
		p_err("ips unblock: \"%s\" and \"%s\": two addresses of one family", argv[1],
		      argv[3]);
		return 2;
	}
	k.sport = htons((__u16)sp);
	k.dport = htons((__u16)dp);
	if (open_maps(&o, &m))
		return 1;
	err = pw_ips_flow_unblock(m, &k);
	pw_ips_maps_free(&m);
	if (err) {
		p_err("ips unblock: no such flow block");
		return 1;
	}
	if (pw_cli.json)
		pw_json_print(json_pack("{s:b}", "ok", 1));
	return 0;
}

int do_ips(int argc, char **argv)
{
	static const struct pw_cmd cmds[] = {
		{ "blocks", do_blocks, "flows the IPS blocked in the datapath" },
		{ "unblock", do_unblock, "lift one flow block (both directions)" },
		{ 0 },
	};

	return pw_cmd_dispatch(cmds, "podwallctl ips", argc - 1, argv + 1);
}
