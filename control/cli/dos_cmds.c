// SPDX-License-Identifier: GPL-2.0-only
/*
 * podwallctl dos status | blocklist add|del|list | ratelimit set|off|list:
 * the uplink DoS guards, read and changed on the pinned maps of the running
 * datapath (podwall/dos_kern_user.h), so a change holds from the next packet,
 * with or without podwalld running.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <jansson.h>

#include "cleanup.h"
#include "cli.h"
#include "dos.h"

struct dos_opts {
	const char *pin_root;
	const char *ttl;
	const char *owner;
	bool exempt;
	const char *pps, *bandwidth, *burst, *burst_bytes;
	const char *src_prefix, *auto_after, *auto_ttl;
	const char *syn_rate, *syn_burst, *verified_ttl;
	long pod;
	int top;
};

enum {
	O_TTL = 256,
	O_OWNER,
	O_EXEMPT,
	O_PPS,
	O_BW,
	O_BURST,
	O_BURST_BYTES,
	O_PREFIX,
	O_AUTO_AFTER,
	O_AUTO_TTL,
	O_SYN_RATE,
	O_SYN_BURST,
	O_VERIFIED_TTL,
	O_POD,
	O_TOP,
	O_PIN_ROOT,
};

static const char *const usage_text =
	"Usage: podwallctl dos status [--top N]\n"
	"       podwallctl blocklist add CIDR [--ttl DURATION] [--owner operator|ips|auto] [--exempt]\n"
	"       podwallctl blocklist del CIDR\n"
	"       podwallctl blocklist list\n"
	"       podwallctl ratelimit set [--pod EP_ID] [--pps RATE] [--bandwidth RATE] [--burst N]\n"
	"                                [--burst-bytes SIZE] [--src-prefix 24|32|64|128]\n"
	"                                [--auto-block-after DURATION] [--auto-block-ttl DURATION]\n"
	"                                [--syn-rate RATE] [--syn-burst N] [--verified-ttl DURATION]\n"
	"       podwallctl ratelimit off [--pod EP_ID]\n"
	"       podwallctl ratelimit list\n"
	"Every command takes --pin-root DIR (default " PW_PIN_ROOT ") and -j/-p.\n"
	"RATE: packets/s with k/M/G (10k); bandwidth in bit (100Mbit, 10M = 10 Mbit/s) or\n"
	"byte units (10MB); DURATION: 250ms, 30s, 5m, 2h, 1d.\n";

/* Parses options into o; positional arguments stay in argv[optind..]. */
static int parse_opts(int argc, char **argv, struct dos_opts *o)
{
	static const struct option opts[] = {
		{ "pin-root", required_argument, NULL, O_PIN_ROOT },
		{ "ttl", required_argument, NULL, O_TTL },
		{ "owner", required_argument, NULL, O_OWNER },
		{ "exempt", no_argument, NULL, O_EXEMPT },
		{ "pps", required_argument, NULL, O_PPS },
		{ "bandwidth", required_argument, NULL, O_BW },
		{ "burst", required_argument, NULL, O_BURST },
		{ "burst-bytes", required_argument, NULL, O_BURST_BYTES },
		{ "src-prefix", required_argument, NULL, O_PREFIX },
		{ "auto-block-after", required_argument, NULL, O_AUTO_AFTER },
		{ "auto-block-ttl", required_argument, NULL, O_AUTO_TTL },
		{ "syn-rate", required_argument, NULL, O_SYN_RATE },
		{ "syn-burst", required_argument, NULL, O_SYN_BURST },
		{ "verified-ttl", required_argument, NULL, O_VERIFIED_TTL },
		{ "pod", required_argument, NULL, O_POD },
		{ "top", required_argument, NULL, O_TOP },
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	o->top = 10;
	/* 0, not 1: glibc then re-reads the option string and permutes again (main's "+"). */
	optind = 0;
	while ((c = getopt_long(argc, argv, "jph", opts, NULL)) != -1) {
		switch (c) {
		case O_PIN_ROOT: o->pin_root = optarg; break;
		case O_TTL: o->ttl = optarg; break;
		case O_OWNER: o->owner = optarg; break;
		case O_EXEMPT: o->exempt = true; break;
		case O_PPS: o->pps = optarg; break;
		case O_BW: o->bandwidth = optarg; break;
		case O_BURST: o->burst = optarg; break;
		case O_BURST_BYTES: o->burst_bytes = optarg; break;
		case O_PREFIX: o->src_prefix = optarg; break;
		case O_AUTO_AFTER: o->auto_after = optarg; break;
		case O_AUTO_TTL: o->auto_ttl = optarg; break;
		case O_SYN_RATE: o->syn_rate = optarg; break;
		case O_SYN_BURST: o->syn_burst = optarg; break;
		case O_VERIFIED_TTL: o->verified_ttl = optarg; break;
		case O_POD:
			o->pod = strtol(optarg, &end, 10);
			if (*end || o->pod <= 0 || o->pod >= PW_MAX_ENDPOINTS) {
				p_err("--pod: \"%s\": an endpoint id 1..%d (podwallctl endpoints)",
				      optarg, PW_MAX_ENDPOINTS - 1);
				return -1;
			}
			break;
		case O_TOP:
			o->top = strtol(optarg, &end, 10);
			if (*end || o->top < 0 || o->top > 1000) {
				p_err("--top: \"%s\": 0..1000", optarg);
				return -1;
			}
			break;
		case 'j': pw_cli.json = true; break;
		case 'p': pw_cli.json = pw_cli.pretty = true; break;
		case 'h': fputs(usage_text, stdout); return 1;
		default: return -1;
		}
	}
	return 0;
}

static int open_dos(const struct dos_opts *o, struct pw_dos **d)
{
	int err = pw_dos_open(d, o->pin_root);

	if (err)
		p_err("cannot open the DoS maps under %s: %s (is the datapath loaded? root?)",
		      o->pin_root ?: PW_PIN_ROOT, strerror(-err));
	return err;
}

static const char *key_str(__u8 family, const __u8 *addr, char *buf, size_t len)
{
	if (!inet_ntop(family == PW_AF_INET ? AF_INET : AF_INET6, addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

static json_t *limit_json(const struct pw_rl_limit *l)
{
	return json_pack("{s:I,s:I,s:I,s:I}", "pps", (json_int_t)l->pps, "bytes_per_sec",
			 (json_int_t)l->bps, "burst_pkts", (json_int_t)l->burst_pkts,
			 "burst_bytes", (json_int_t)l->burst_bytes);
}

static void limit_print(const char *who, const struct pw_rl_limit *l)
{
	printf("%-10s ", who);
	if (!l->pps && !l->bps) {
		printf("unlimited\n");
		return;
	}
	if (l->pps)
		printf("%llu pkt/s (burst %llu) ", (unsigned long long)l->pps,
		       (unsigned long long)(l->burst_pkts ?: l->pps));
	if (l->bps)
		printf("%llu B/s = %.1f Mbit/s (burst %llu B)", (unsigned long long)l->bps,
		       l->bps * 8 / 1e6, (unsigned long long)(l->burst_bytes ?: l->bps));
	printf("\n");
}

static json_t *cfg_json(const struct pw_dos_cfg *c)
{
	return json_pack("{s:b,s:o,s:i,s:i,s:I,s:I,s:I,s:I,s:I}", "enabled",
			 !!(c->flags & PW_DOS_F_ENABLED), "default", limit_json(&c->def),
			 "src_prefix4", c->src_prefix4 ?: 32, "src_prefix6", c->src_prefix6 ?: 128,
			 "auto_block_ms", (json_int_t)c->auto_block_ms, "auto_block_ttl_s",
			 (json_int_t)(c->auto_block_ttl_s ?: 300), "syn_pps",
			 (json_int_t)c->syn_pps, "syn_burst",
			 (json_int_t)(c->syn_burst ?: c->syn_pps), "verified_ttl_s",
			 (json_int_t)(c->verified_ttl_s ?: 600));
}

static void cfg_print(const struct pw_dos_cfg *c)
{
	printf("rate limits: %s; buckets per /%u (IPv4), /%u (IPv6)\n",
	       c->flags & PW_DOS_F_ENABLED ? "enabled" : "disabled", c->src_prefix4 ?: 32,
	       c->src_prefix6 ?: 128);
	limit_print("default", &c->def);
	if (c->auto_block_ms)
		printf("auto-block: after %u ms over the limit, for %u s\n", c->auto_block_ms,
		       c->auto_block_ttl_s ?: 300);
	else
		printf("auto-block: off\n");
	if (c->syn_pps)
		printf("SYN guard: cookies above %u SYN/s per pod port (burst %u), verified for %u s\n",
		       c->syn_pps, c->syn_burst ?: c->syn_pps, c->verified_ttl_s ?: 600);
	else
		printf("SYN guard: off\n");
}

static const __u32 dos_reasons[] = {
	PW_REASON_DROP_BLOCKLISTED,
	PW_REASON_DROP_RATE_LIMITED,
	PW_REASON_DROP_CONN_LIMIT,
};

/*
 * The DoS drop reasons summed over every endpoint (*drops), and per pod that
 * has any of them or connections (*pods). 0 or -errno.
 */
static int reason_drops(struct pw_dos *d, json_t **drops, json_t **pods)
{
	__u64 sum[ARRAY_SIZE(dos_reasons)] = {}, n;
	size_t r;
	__u32 ep;
	int err;

	*pods = json_array();
	for (ep = 0; ep < PW_MAX_ENDPOINTS; ep++) {
		struct pw_conn_count c = {};
		json_t *p = json_object();
		bool any = false;
		__u32 max = 0;

		for (r = 0; r < ARRAY_SIZE(dos_reasons); r++) {
			err = pw_dos_reason_packets(d, ep, dos_reasons[r], &n);
			if (err) {
				json_decref(p);
				json_decref(*pods);
				return err;
			}
			sum[r] += n;
			any |= n > 0;
			json_object_set_new(p, pw_reason_name(dos_reasons[r]), json_integer(n));
		}
		if (ep) {
			pw_dos_conn_read(d, ep, &c);
			pw_dos_conn_limit_get(d, ep, &max);
		}
		if (!ep || (!any && !c.live && !max)) {
			json_decref(p);
			continue;
		}
		json_object_set_new(p, "ep_id", json_integer(ep));
		json_object_set_new(p, "connections", json_integer(c.live));
		json_object_set_new(p, "max_connections", json_integer(max));
		json_array_append_new(*pods, p);
	}
	*drops = json_object();
	for (r = 0; r < ARRAY_SIZE(dos_reasons); r++)
		json_object_set_new(*drops, pw_reason_name(dos_reasons[r]), json_integer(sum[r]));
	return 0;
}

/*
 * The interfaces pw_node_xdp (pinned under pin_root) is attached to, with the
 * mode the kernel reports: native where the driver runs XDP, generic (skb)
 * otherwise. Always an array, empty when the program is not pinned.
 */
static json_t *uplinks_json(const char *pin_root)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct if_nameindex *ifs, *i;
	json_t *a = json_array();
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/progs/pw_node_xdp", pin_root ?: PW_PIN_ROOT);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return a;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		close(fd);
		return a;
	}
	close(fd);
	ifs = if_nameindex();
	for (i = ifs; i && i->if_index; i++) {
		LIBBPF_OPTS(bpf_xdp_query_opts, q);
		const char *mode = NULL;

		if (bpf_xdp_query(i->if_index, 0, &q))
			continue;
		if (q.drv_prog_id == info.id)
			mode = "native";
		else if (q.skb_prog_id == info.id)
			mode = "generic";
		else if (q.hw_prog_id == info.id)
			mode = "offload";
		if (mode)
			json_array_append_new(a, json_pack("{s:s,s:s}", "ifname", i->if_name,
							   "mode", mode));
	}
	if (ifs)
		if_freenameindex(ifs);
	return a;
}

static int do_dos_status(int argc, char **argv)
{
	struct pw_dos *d = NULL;
	struct pw_dos_cfg cfg;
	struct pw_dos_stats st;
	_cleanup_free_ struct pw_rl_talker *top = NULL;
	struct pw_syn_entry syn[64];
	struct dos_opts o;
	char a[INET6_ADDRSTRLEN];
	int err, ntop = 0, nsyn, i;
	json_t *drops = NULL, *pods = NULL;

	err = parse_opts(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : 2;
	if (open_dos(&o, &d))
		return 1;
	err = pw_dos_cfg_read(d, &cfg);
	if (!err)
		err = pw_dos_stats_read(d, &st);
	if (!err && o.top) {
		top = calloc(o.top, sizeof(*top));
		ntop = top ? pw_dos_top_talkers(d, top, o.top) : -ENOMEM;
		err = ntop < 0 ? ntop : 0;
	}
	nsyn = err ? 0 : pw_dos_syn_list(d, syn, ARRAY_SIZE(syn));
	if (!err)
		err = reason_drops(d, &drops, &pods);
	pw_dos_free(&d);
	if (err) {
		p_err("dos status: %s", strerror(-err));
		return 1;
	}
	if (pw_cli.json) {
		json_t *r = json_pack("{s:o,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I}}", "config",
				      cfg_json(&cfg), "counters", "blocklisted",
				      (json_int_t)st.blocklist_drops_total, "rate-limited",
				      (json_int_t)st.ratelimit_drops_total, "auto_blocked",
				      (json_int_t)st.auto_blocked_total, "syn_cookies_sent",
				      (json_int_t)st.syn_cookies_sent_total, "syn_cookies_ok",
				      (json_int_t)st.syn_cookies_ok_total, "syn_cookies_bad",
				      (json_int_t)st.syn_cookies_bad_total, "syn_rst_sent",
				      (json_int_t)st.syn_rst_sent_total);
		json_t *t = json_array(), *s = json_array();

		for (i = 0; i < ntop; i++)
			json_array_append_new(
				t, json_pack("{s:s,s:i,s:I,s:I}", "source",
					     key_str(top[i].key.family, top[i].key.addr, a,
						     sizeof(a)),
					     "ep_id", top[i].key.ep_id, "dropped",
					     (json_int_t)top[i].b.dropped, "passed",
					     (json_int_t)top[i].b.passed));
		for (i = 0; i < nsyn; i++)
			json_array_append_new(
				s, json_pack("{s:i,s:i,s:b,s:I}", "ep_id", syn[i].key.ep_id, "port",
					     ntohs(syn[i].key.dport), "active", syn[i].active,
					     "cookies_sent", (json_int_t)syn[i].st.cookies_sent));
		json_object_set_new(r, "top_talkers", t);
		json_object_set_new(r, "syn_guard", s);
		json_object_set_new(r, "uplinks", uplinks_json(o.pin_root));
		/* Every DoS drop reason, from the per-reason counters of every endpoint. */
		json_object_set_new(r, "drops", drops);
		json_object_set_new(r, "pods", pods);
		pw_json_print(r);
		return 0;
	}
	cfg_print(&cfg);
	{
		json_t *up = uplinks_json(o.pin_root), *v;
		const char *k;

		json_array_foreach (up, i, v)
			printf("uplink %s: pw_node_xdp in %s mode\n",
			       json_string_value(json_object_get(v, "ifname")),
			       json_string_value(json_object_get(v, "mode")));
		if (!json_array_size(up))
			printf("uplinks: pw_node_xdp attached nowhere\n");
		json_decref(up);

		printf("drops by reason:");
		json_object_foreach (drops, k, v)
			printf(" %s %lld", k, (long long)json_integer_value(v));
		printf("\n");
		json_array_foreach (pods, i, v)
			printf("ep %lld: rate-limited %lld, conn-limit %lld, connections %lld%s\n",
			       (long long)json_integer_value(json_object_get(v, "ep_id")),
			       (long long)json_integer_value(json_object_get(v, "rate-limited")),
			       (long long)json_integer_value(json_object_get(v, "conn-limit")),
			       (long long)json_integer_value(json_object_get(v, "connections")),
			       json_integer_value(json_object_get(v, "max_connections")) ?
				       " (limited)" :
				       "");
	}
	json_decref(drops);
	json_decref(pods);
	printf("uplink guards: blocklisted %llu, rate-limited %llu; auto-blocked sources %llu\n",
	       (unsigned long long)st.blocklist_drops_total,
	       (unsigned long long)st.ratelimit_drops_total,
	       (unsigned long long)st.auto_blocked_total);
	printf("SYN cookies: sent %llu, valid %llu, invalid %llu, RSTs %llu\n",
	       (unsigned long long)st.syn_cookies_sent_total,
	       (unsigned long long)st.syn_cookies_ok_total,
	       (unsigned long long)st.syn_cookies_bad_total,
	       (unsigned long long)st.syn_rst_sent_total);
	for (i = 0; i < nsyn; i++)
		printf("SYN guard ep %u port %u: %s, %llu cookies\n", syn[i].key.ep_id,
		       ntohs(syn[i].key.dport), syn[i].active ? "ACTIVE" : "idle",
		       (unsigned long long)syn[i].st.cookies_sent);
	if (ntop)
		printf("top talkers (source, ep, dropped, passed):\n");
	for (i = 0; i < ntop; i++)
		printf("  %-40s %3u %12llu %12llu\n",
		       key_str(top[i].key.family, top[i].key.addr, a, sizeof(a)), top[i].key.ep_id,
		       (unsigned long long)top[i].b.dropped, (unsigned long long)top[i].b.passed);
	return 0;
}

static int do_bl_add(int argc, char **argv)
{
	struct pw_dos *d = NULL;
	struct dos_opts o;
	char msg[160];
	__u64 ttl_ms = 0;
	int err, owner = PW_BL_OWNER_OPERATOR;

	err = parse_opts(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : 2;
	if (optind + 1 != argc) {
		p_err("blocklist add: expected one CIDR");
		return 2;
	}
	if (o.ttl && pw_dos_parse_duration(o.ttl, &ttl_ms, msg, sizeof(msg))) {
		p_err("blocklist add: --ttl: %s", msg);
		return 2;
	}
	if (o.owner && (owner = pw_bl_owner_parse(o.owner)) < 0) {
		p_err("blocklist add: --owner: \"%s\": operator, ips or auto", o.owner);
		return 2;
	}
	if (ttl_ms && ttl_ms < 1000) {
		p_err("blocklist add: --ttl: \"%s\": at least 1s", o.ttl);
		return 2;
	}
	if (open_dos(&o, &d))
		return 1;
	err = pw_dos_block_add(d, argv[optind], owner, o.exempt ? PW_BL_F_EXEMPT : 0,
			       ttl_ms / 1000);
	pw_dos_free(&d);
	if (err == -EINVAL) {
		p_err("blocklist add: \"%s\": not an IPv4/IPv6 address or CIDR", argv[optind]);
		return 2;
	}
	if (err) {
		p_err("blocklist add %s: %s", argv[optind], strerror(-err));
		return 1;
	}
	if (pw_cli.json)
		pw_json_print(json_pack("{s:s,s:I}", "added", argv[optind], "ttl_s",
					(json_int_t)(ttl_ms / 1000)));
	return 0;
}

static int do_bl_del(int argc, char **argv)
{
	struct pw_dos *d = NULL;
	struct dos_opts o;
	int err;

	err = parse_opts(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : 2;
	if (optind + 1 != argc) {
		p_err("blocklist del: expected one CIDR");
		return 2;
	}
	if (open_dos(&o, &d))
		return 1;
	err = pw_dos_block_del(d, argv[optind]);
	pw_dos_free(&d);
	if (err == -EINVAL) {
		p_err("blocklist del: \"%s\": not an IPv4/IPv6 address or CIDR", argv[optind]);
		return 2;
	}
	if (err) {
		p_err("blocklist del %s: %s", argv[optind],
		      err == -ENOENT ? "no such entry" : strerror(-err));
		return 1;
	}
	if (pw_cli.json)
		pw_json_print(json_pack("{s:s}", "deleted", argv[optind]));
	return 0;
}

static int do_bl_list(int argc, char **argv)
{
	_cleanup_free_ struct pw_bl_entry *e = NULL;
	struct pw_dos *d = NULL;
	struct dos_opts o;
	size_t n = 0, i;
	int err;

	err = parse_opts(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : 2;
	if (open_dos(&o, &d))
		return 1;
	err = pw_dos_block_list(d, &e, &n);
	pw_dos_free(&d);
	if (err) {
		p_err("blocklist list: %s", strerror(-err));
		return 1;
	}
	if (pw_cli.json) {
		json_t *a = json_array();

		for (i = 0; i < n; i++)
			json_array_append_new(
				a, json_pack("{s:s,s:s,s:b,s:I,s:b}", "cidr", e[i].cidr, "owner",
					     pw_bl_owner_name(e[i].owner), "exempt",
					     !!(e[i].flags & PW_BL_F_EXEMPT), "ttl_s",
					     (json_int_t)e[i].ttl_left_s, "expired", e[i].expired));
		pw_json_print(a);
		return 0;
	}
	for (i = 0; i < n; i++) {
		printf("%-43s %-8s", e[i].cidr, pw_bl_owner_name(e[i].owner));
		if (e[i].flags & PW_BL_F_EXEMPT)
			printf(" exempt");
		if (e[i].expired)
			printf(" expired\n");
		else if (e[i].ttl_left_s)
			printf(" ttl %llus\n", (unsigned long long)e[i].ttl_left_s);
		else
			printf(" permanent\n");
	}
	return 0;
}

typedef int (*parse_fn)(const char *, __u64 *, char *, size_t);

/* A parser, then the range [min, UINT32_MAX] the 32-bit map fields hold; 0 or -EINVAL + msg. */
static int parse_checked(parse_fn fn, const char *s, __u64 min, __u64 *v, char *msg, size_t len)
{
	int err = fn(s, v, msg, len);

	if (err)
		return err;
	if (*v < min) {
		snprintf(msg, len, "\"%s\": at least %s", s, min == 1000 ? "1s" : "1");
		return -EINVAL;
	}
	if (*v > UINT32_MAX) {
		snprintf(msg, len, "\"%s\": too large (at most %u)", s, UINT32_MAX);
		return -EINVAL;
	}
	return 0;
}

/* Parses the limit options present into l; 0, or 2 after printing why. */
static int limit_from_opts(const struct dos_opts *o, struct pw_rl_limit *l)
{
	char msg[160];
	__u64 v;

	if (o->pps) {
		if (parse_checked(pw_dos_parse_pps, o->pps, 1, &v, msg, sizeof(msg)))
			goto bad;
		l->pps = v;
	}
	if (o->bandwidth) {
		if (pw_dos_parse_bandwidth(o->bandwidth, &v, msg, sizeof(msg)))
			goto bad;
		l->bps = v;
	}
	if (o->burst) {
		if (parse_checked(pw_dos_parse_count, o->burst, 1, &v, msg, sizeof(msg)))
			goto bad;
		l->burst_pkts = v;
	}
	if (o->burst_bytes) {
		if (parse_checked(pw_dos_parse_bandwidth, o->burst_bytes, 1, &v, msg, sizeof(msg)))
			goto bad;
		l->burst_bytes = v;
	}
	return 0;
bad:
	p_err("ratelimit set: %s", msg);
	return 2;
}

static int do_rl_set(int argc, char **argv)
{
	struct pw_dos *d = NULL;
	struct pw_dos_cfg cfg;
	struct pw_rl_limit l = {};
	struct dos_opts o;
	char msg[160];
	__u64 v = 0;
	int err;

	err = parse_opts(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : 2;
	if (optind != argc) {
		p_err("ratelimit set: unexpected argument \"%s\"", argv[optind]);
		return 2;
	}
	if (open_dos(&o, &d))
		return 1;
	err = pw_dos_cfg_read(d, &cfg);
	if (err)
		goto fail;
	if (o.pod) {
		if (o.src_prefix || o.auto_after || o.auto_ttl || o.syn_rate || o.syn_burst ||
		    o.verified_ttl) {
			p_err("ratelimit set --pod: only --pps, --bandwidth, --burst, --burst-bytes");
			err = 2;
			goto out;
		}
		pw_dos_pod_limit_get(d, o.pod, &l);
		if ((err = limit_from_opts(&o, &l)))
			goto out;
		err = pw_dos_pod_limit_set(d, o.pod, &l);
		if (err)
			goto fail;
	} else {
		if ((err = limit_from_opts(&o, &cfg.def)))
			goto out;
		if (o.src_prefix) {
			long p = strtol(o.src_prefix, NULL, 10);

			if (strspn(o.src_prefix, "0123456789/") != strlen(o.src_prefix))
				p = -1;
			if (o.src_prefix[0] == '/')
				p = strtol(o.src_prefix + 1, NULL, 10);
			if (p == 24 || p == 32)
				cfg.src_prefix4 = p;
			else if (p == 64 || p == 128)
				cfg.src_prefix6 = p;
			else {
				p_err("ratelimit set: --src-prefix: \"%s\": 24 or 32 (IPv4), 64 or 128 (IPv6)",
				      o.src_prefix);
				err = 2;
				goto out;
			}
		}
		if (o.auto_after) {
			if (parse_checked(pw_dos_parse_duration, o.auto_after, 1, &v, msg,
					  sizeof(msg)))
				goto bad;
			cfg.auto_block_ms = v;
		}
		if (o.auto_ttl) {
			if (parse_checked(pw_dos_parse_duration, o.auto_ttl, 1000, &v, msg,
					  sizeof(msg)))
				goto bad;
			cfg.auto_block_ttl_s = v / 1000;
		}
		if (o.syn_rate) {
			if (parse_checked(pw_dos_parse_pps, o.syn_rate, 1, &v, msg, sizeof(msg)))
				goto bad;
			cfg.syn_pps = v;
		}
		if (o.syn_burst) {
			if (parse_checked(pw_dos_parse_count, o.syn_burst, 1, &v, msg, sizeof(msg)))
				goto bad;
			cfg.syn_burst = v;
		}
		if (o.verified_ttl) {
			if (parse_checked(pw_dos_parse_duration, o.verified_ttl, 1000, &v, msg,
					  sizeof(msg)))
				goto bad;
			cfg.verified_ttl_s = v / 1000;
		}
		cfg.flags |= PW_DOS_F_ENABLED;
		err = pw_dos_cfg_write(d, &cfg);
		if (err)
			goto fail;
	}
	if (pw_cli.json)
		pw_json_print(o.pod ? json_pack("{s:i,s:o}", "ep_id", (int)o.pod, "limit",
						limit_json(&l)) :
				      cfg_json(&cfg));
	err = 0;
	goto out;
bad:
	p_err("ratelimit set: %s", msg);
	err = 2;
	goto out;
fail:
	p_err("ratelimit set: %s", strerror(-err));
	err = 1;
out:
	pw_dos_free(&d);
	return err;
}

static int do_rl_off(int argc, char **argv)
{
	struct pw_dos *d = NULL;
	struct pw_dos_cfg cfg;
	struct dos_opts o;
	int err;

	err = parse_opts(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : 2;
	if (open_dos(&o, &d))
		return 1;
	if (o.pod) {
		err = pw_dos_pod_limit_set(d, o.pod, NULL);
	} else {
		err = pw_dos_cfg_read(d, &cfg);
		if (!err) {
			cfg.flags &= ~PW_DOS_F_ENABLED;
			err = pw_dos_cfg_write(d, &cfg);
		}
	}
	pw_dos_free(&d);
	if (err) {
		p_err("ratelimit off: %s", strerror(-err));
		return 1;
	}
	return 0;
}

static int do_rl_list(int argc, char **argv)
{
	struct pw_dos *d = NULL;
	struct pw_dos_cfg cfg;
	struct pw_rl_limit l;
	struct dos_opts o;
	json_t *pods, *own, *conns;
	char who[32];
	__u32 ep;
	int err;

	err = parse_opts(argc, argv, &o);
	if (err)
		return err > 0 ? 0 : 2;
	if (open_dos(&o, &d))
		return 1;
	err = pw_dos_cfg_read(d, &cfg);
	if (err) {
		pw_dos_free(&d);
		p_err("ratelimit list: %s", strerror(-err));
		return 1;
	}
	pods = json_array();
	if (!pw_cli.json)
		cfg_print(&cfg);
	for (ep = 1; ep < PW_MAX_ENDPOINTS; ep++) {
		if (pw_dos_pod_limit_get(d, ep, &l))
			continue;
		if (pw_cli.json) {
			json_t *j = limit_json(&l);

			json_object_set_new(j, "ep_id", json_integer(ep));
			json_array_append_new(pods, j);
		} else {
			snprintf(who, sizeof(who), "ep %u", ep);
			limit_print(who, &l);
		}
	}
	own = json_array();
	for (ep = 1; ep < PW_MAX_ENDPOINTS; ep++) {
		struct pw_pod_limits pl;

		if (pw_dos_pod_limits_get(d, ep, &pl))
			continue;
		if (pw_cli.json) {
			json_array_append_new(own, json_pack("{s:i,s:o,s:o}", "ep_id", (int)ep,
							     "ingress",
							     limit_json(&pl.dir[PW_DIR_INGRESS]),
							     "egress",
							     limit_json(&pl.dir[PW_DIR_EGRESS])));
		} else {
			snprintf(who, sizeof(who), "ep %u in", ep);
			limit_print(who, &pl.dir[PW_DIR_INGRESS]);
			snprintf(who, sizeof(who), "ep %u out", ep);
			limit_print(who, &pl.dir[PW_DIR_EGRESS]);
		}
	}
	conns = json_array();
	for (ep = 1; ep < PW_MAX_ENDPOINTS; ep++) {
		struct pw_conn_count c;
		__u32 max = 0;

		pw_dos_conn_limit_get(d, ep, &max);
		if (pw_dos_conn_read(d, ep, &c) || (!max && !c.live))
			continue;
		if (pw_cli.json)
			json_array_append_new(conns, json_pack("{s:i,s:I,s:I}", "ep_id", (int)ep,
							       "max_connections", (json_int_t)max,
							       "connections", (json_int_t)c.live));
		else if (max)
			printf("ep %u: %lld of at most %u connections\n", ep, (long long)c.live,
			       max);
		else
			printf("ep %u: %lld connections, no limit\n", ep, (long long)c.live);
	}
	pw_dos_free(&d);
	if (pw_cli.json) {
		json_t *r = cfg_json(&cfg);

		/* Each pod's podwall.io/max-connections and the connections it holds. */
		json_object_set_new(r, "connections", conns);
		json_object_set_new(r, "pods", pods);
		/* Each pod's own limits at its veth, from its annotations. */
		json_object_set_new(r, "pod_limits", own);
		pw_json_print(r);
	} else {
		json_decref(pods);
		json_decref(own);
		json_decref(conns);
	}
	return 0;
}

static int do_dos_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs(usage_text, stdout);
	return 0;
}

int do_dos(int argc, char **argv)
{
	static const struct pw_cmd cmds[] = {
		{ "status", do_dos_status, "uplink guards: settings, drops, SYN guard, top talkers" },
		{ "help", do_dos_help, "usage" },
		{ 0 },
	};

	return pw_cmd_dispatch(cmds, "podwallctl dos", argc - 1, argv + 1);
}

int do_blocklist(int argc, char **argv)
{
	static const struct pw_cmd cmds[] = {
		{ "add", do_bl_add, "block an address or CIDR [--ttl D] [--owner O] [--exempt]" },
		{ "del", do_bl_del, "remove the entry for exactly this address or CIDR" },
		{ "list", do_bl_list, "every entry with owner and time left" },
		{ 0 },
	};

	return pw_cmd_dispatch(cmds, "podwallctl blocklist", argc - 1, argv + 1);
}

int do_ratelimit(int argc, char **argv)
{
	static const struct pw_cmd cmds[] = {
		{ "set", do_rl_set, "per-source limits, per-pod overrides, SYN guard" },
		{ "off", do_rl_off, "disable the limits (or one pod's override)" },
		{ "list", do_rl_list, "current limits" },
		{ 0 },
	};

	return pw_cmd_dispatch(cmds, "podwallctl ratelimit", argc - 1, argv + 1);
}
