// SPDX-License-Identifier: GPL-2.0-only
/* podwallctl inspect: the offline inspector and signature engine on a pcap. */
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "inspect.h"
#include "log.h"
#include "sig.h"

static void usage(void)
{
	printf("Usage: podwallctl [-j] inspect --pcap FILE --rules FILE [--rules FILE...]\n"
	       "                  [--eve OUT] [--simulate-ips] [--midstream]\n"
	       "                  [--classification FILE] [--set VAR=VALUE] [--iface NAME] [--no-ndpi]\n"
	       "                  [--action-order A,B,C,D] [--alerts-per-packet N] [--flows]\n"
	       "Runs the capture through the flow table, TCP reassembly, the HTTP/TLS/DNS parsers,\n"
	       "nDPI and the rules; alerts are written to OUT as eve.json lines.\n"
	       "  --simulate-ips  drop/reject rules block the rest of their flow\n"
	       "  --midstream     TCP flows picked up without a handshake count as established\n"
	       "  --set VAR=VAL   an address or port variable, e.g. HOME_NET=[10.0.0.0/8]\n"
	       "  --action-order  e.g. drop,pass,reject,alert (default pass,drop,reject,alert)\n"
	       "  --alerts-per-packet N  alerts logged per packet or transaction (default 15)\n"
	       "  --flows         list each flow with its app protocol and nDPI classification\n");
}

struct flow_list {
	json_t *arr; /* JSON mode */
	bool text;
};

/* --flows: one line (or JSON object) per flow as it ends, with both classifications. */
static void print_flow(const struct pw_inspect_flow_info *fi, void *ud)
{
	struct flow_list *fl = ud;
	char c[INET6_ADDRSTRLEN], sv[INET6_ADDRSTRLEN];

	inet_ntop(fi->family, fi->client, c, sizeof(c));
	inet_ntop(fi->family, fi->server, sv, sizeof(sv));
	if (fl->arr) {
		json_array_append_new(
			fl->arr,
			json_pack("{s:i,s:s,s:i,s:s,s:i,s:s?,s:s,s:[I,I],s:[I,I]}", "proto",
				  fi->proto, "client", c, "client_port", fi->cport, "server", sv,
				  "server_port", fi->sport, "app_proto", fi->app, "ndpi", fi->ndpi,
				  "pkts", (json_int_t)fi->pkts[0], (json_int_t)fi->pkts[1], "bytes",
				  (json_int_t)fi->bytes[0], (json_int_t)fi->bytes[1]));
		return;
	}
	printf("flow %u %s:%u -> %s:%u app=%s ndpi=%s pkts=%" PRIu64 "/%" PRIu64 " bytes=%" PRIu64
	       "/%" PRIu64 "\n",
	       fi->proto, c, fi->cport, sv, fi->sport, fi->app ? fi->app : "-",
	       *fi->ndpi ? fi->ndpi : "-", fi->pkts[0], fi->pkts[1], fi->bytes[0], fi->bytes[1]);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int do_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pcap", required_argument, NULL, 'r' },
		{ "rules", required_argument, NULL, 'S' },
		{ "eve", required_argument, NULL, 'e' },
		{ "simulate-ips", no_argument, NULL, 'I' },
		{ "midstream", no_argument, NULL, 'm' },
		{ "classification", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' },
		{ "iface", required_argument, NULL, 'i' },
		{ "no-ndpi", no_argument, NULL, 'N' },
		{ "action-order", required_argument, NULL, 'O' },
		{ "alerts-per-packet", required_argument, NULL, 'A' },
		{ "flows", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct pw_inspect_opts io = { .ndpi = true };
	struct flow_list flows = { 0 };
	struct pw_inspect_stats st;
	struct pw_sig_set *s = NULL;
	const char *pcap = NULL, *classf = NULL;
	const char *rules[64];
	size_t nrules = 0;
	double t0, t1, t2;
	int c, err, ret = 1;

	err = pw_sig_set_new(&s);
	if (err) {
		p_err("inspect: %s", strerror(-err));
		return 1;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "r:S:e:Imc:s:i:NO:A:Fh", opts, NULL)) != -1) {
		switch (c) {
		case 'F':
			io.on_flow_end = print_flow;
			io.ud = &flows;
			break;
		case 'A': {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);

			if (*end || !n || n > 1000) {
				p_err("inspect: --alerts-per-packet wants 1..1000, not \"%s\"",
				      optarg);
				ret = 2;
				goto out;
			}
			io.alerts_per_packet = n;
			break;
		}
		case 'O': {
			enum pw_sig_action order[_PW_SIG_ACTION_MAX];
			char *save = NULL, *t = strtok_r(optarg, ",>", &save);
			int n = 0;

			for (; t && n < _PW_SIG_ACTION_MAX; t = strtok_r(NULL, ",>", &save), n++) {
				int a;

				for (a = 0; a < _PW_SIG_ACTION_MAX; a++)
					if (!strcmp(t, pw_sig_action_name(a)))
						break;
				order[n] = a;
			}
			if (n != _PW_SIG_ACTION_MAX || t || pw_sig_set_action_order(s, order)) {
				p_err("inspect: --action-order wants the four actions, e.g. pass,drop,reject,alert");
				ret = 2;
				goto out;
			}
			break;
		}
		case 'r':
			pcap = optarg;
			break;
		case 'S':
			if (nrules < sizeof(rules) / sizeof(rules[0]))
				rules[nrules++] = optarg;
			break;
		case 'e':
			io.eve_path = optarg;
			break;
		case 'I':
			io.simulate_ips = true;
			break;
		case 'm':
			io.midstream = true;
			break;
		case 'c':
			classf = optarg;
			break;
		case 's': {
			char *eq = strchr(optarg, '=');

			if (!eq) {
				p_err("inspect: --set wants VAR=VALUE, not \"%s\"", optarg);
				goto out;
			}
			*eq = 0;
			if (pw_sig_set_var(s, optarg, eq + 1))
				goto out;
			break;
		}
		case 'i':
			io.iface = optarg;
			break;
		case 'N':
			io.ndpi = false;
			break;
		case 'h':
			usage();
			ret = 0;
			goto out;
		default:
			ret = 2;
			goto out;
		}
	}
	if (!pcap || !nrules) {
		p_err("inspect: --pcap and --rules are required");
		ret = 2;
		goto out;
	}
	if (classf && (err = pw_sig_load_classification(s, classf))) {
		p_err("inspect: %s: %s", classf, strerror(-err));
		goto out;
	}
	t0 = now();
	for (size_t i = 0; i < nrules; i++) {
		err = pw_sig_load_file(s, rules[i]);
		if (err < 0) {
			p_err("inspect: %s: %s", rules[i], strerror(-err));
			goto out;
		}
	}
	for (size_t i = 0; i < pw_sig_reject_count(s); i++) {
		const struct pw_sig_reject *r = pw_sig_reject_get(s, i);

		pr_warn("%s:%d: sid %u: rule skipped: %s%s%s", r->file, r->line, r->sid, r->keyword,
			*r->keyword ? ": " : "", r->detail);
	}
	err = pw_sig_compile(s);
	if (err) {
		p_err("inspect: building the prefilter: %s", strerror(-err));
		goto out;
	}
	t1 = now();
	if (io.on_flow_end && pw_cli.json)
		flows.arr = json_array();
	err = pw_inspect_pcap(s, pcap, &io, &st);
	t2 = now();
	if (err) {
		p_err("inspect: %s: %s", pcap, strerror(-err));
		goto out;
	}
	if (pw_cli.json) {
		json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f}",
				      "rules", (json_int_t)pw_sig_rule_count(s), "rules_rejected",
				      (json_int_t)pw_sig_reject_count(s), "packets",
				      (json_int_t)st.packets, "bytes", (json_int_t)st.bytes,
				      "decode_errors", (json_int_t)st.decode_errors, "flows",
				      (json_int_t)st.flows, "flows_evicted",
				      (json_int_t)st.flows_evicted, "alerts", (json_int_t)st.alerts,
				      "blocked_packets", (json_int_t)st.blocked_packets, "http_tx",
				      (json_int_t)st.http_tx, "stream_gaps",
				      (json_int_t)st.stream_gaps, "load_seconds", t1 - t0,
				      "inspect_seconds", t2 - t1);

		if (flows.arr)
			json_object_set_new(o, "flows", flows.arr);
		flows.arr = NULL;
		pw_json_print(o);
	} else {
		printf("rules: %zu loaded, %zu rejected (%.3f s)\n", pw_sig_rule_count(s),
		       pw_sig_reject_count(s), t1 - t0);
		printf("packets: %" PRIu64 " (%" PRIu64 " bytes, %" PRIu64
		       " not decoded), flows: %" PRIu64 " (%" PRIu64 " evicted)\n",
		       st.packets, st.bytes, st.decode_errors, st.flows, st.flows_evicted);
		printf("alerts: %" PRIu64 ", blocked packets: %" PRIu64 ", http tx: %" PRIu64
		       ", tls sni: %" PRIu64 ", dns queries: %" PRIu64 ", stream gaps: %" PRIu64
		       "\n",
		       st.alerts, st.blocked_packets, st.http_tx, st.tls_sni, st.dns_queries,
		       st.stream_gaps);
		printf("inspection: %.3f s\n", t2 - t1);
	}
	ret = 0;
out:
	json_decref(flows.arr);
	pw_sig_set_free(&s);
	return ret;
}
