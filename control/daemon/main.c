// SPDX-License-Identifier: GPL-2.0-only
/* podwalld: the node daemon. main() only parses flags and wires the parts together. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <net/if.h>

#include <bpf/libbpf.h>

#include "api.h"
#include "cleanup.h"
#include "daemon.h"
#include "log.h"

#define STATE_DIR_DEFAULT "/run/podwall"
#define METRICS_ADDRESS_DEFAULT "127.0.0.1:9464"
#define EVE_DEFAULT "/var/log/podwall/eve.json"
#define CAPTURE_DIR_DEFAULT "/var/lib/podwall/captures"

/* A number within [min, max] for flag name, or -1 (after saying why). */
static long long num_arg(const char *name, const char *v, long long min, long long max)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max) {
		fprintf(stderr, "podwalld: --%s: a number in %lld..%lld, not \"%s\"\n", name, min,
			max, v);
		return -1;
	}
	return n;
}

static int capture_kinds(const char *v, uint32_t *out)
{
	static const struct {
		const char *name;
		uint32_t bit;
	} kinds[] = { { "policy", PW_IPS_CAP_POLICY }, { "ips", PW_IPS_CAP_IPS },
		      { "dos", PW_IPS_CAP_DOS },       { "other", PW_IPS_CAP_OTHER },
		      { "alerts", PW_IPS_CAP_ALERTS }, { "none", 0 } };
	char buf[256], *tok, *save = NULL;

	*out = 0;
	snprintf(buf, sizeof(buf), "%s", v);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(kinds); i++)
			if (!strcmp(tok, kinds[i].name))
				break;
		if (i == ARRAY_SIZE(kinds)) {
			fprintf(stderr,
				"podwalld: --capture: unknown kind \"%s\" (policy, ips, dos, other, "
				"alerts, none)\n",
				tok);
			return -1;
		}
		*out |= kinds[i].bit;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: podwalld [OPTIONS]\n"
		"The podwall node daemon: keeps the eBPF datapath's maps in sync with the\n"
		"NetworkPolicies, Namespaces and Pods, and serves the CNI plugin and podwallctl.\n"
		"It always runs in the foreground (systemd or Kubernetes supervise it).\n\n"
		"  -m, --manifests DIR   YAML/JSON manifests to enforce (watched with inotify)\n"
		"      --api-server URL  list and watch a Kubernetes API server\n"
		"      --kubeconfig FILE the API server and credentials of a kubeconfig\n"
		"      --context NAME    the kubeconfig context (default: current-context)\n"
		"      --in-cluster      the pod's service account (the default without\n"
		"                        --manifests when $KUBERNETES_SERVICE_HOST is set)\n"
		"      --token-file FILE bearer token, re-read when it changes\n"
		"      --ca-file FILE    CA bundle that signed the API server's certificate\n"
		"      --insecure        do not verify the API server's certificate (tests)\n"
		"      --watch-timeout S a watch's timeoutSeconds (default 300)\n"
		"  -n, --node-name NAME  this node's name (default: the hostname)\n"
		"  -P, --pin-root DIR    bpffs directory of the pinned state (default %s)\n"
		"  -s, --socket PATH     API socket (default %s)\n"
		"  -q, --queue-dir DIR   CNI DEL queue (default %s)\n"
		"  -S, --state-dir DIR   where the endpoint registry is kept (default %s)\n"
		"  -u, --uplink IFNAME   attach the XDP program to an uplink (repeatable)\n"
		"  -H, --deny-host       do not let the node reach its pods unconditionally\n"
		"      --dos-config FILE settings of the uplink DoS guards (JSON, see dos.c)\n"
		"      --metrics-address ADDR:PORT\n"
		"                        serve /metrics, /healthz and /readyz over HTTP there\n"
		"                        (default %s; \"off\" disables)\n"
		"      --metrics-per-pod label the packet counters by pod too (one series per pod)\n"
		"      --log-verdicts all|denied|none\n"
		"                        verdict records of namespaces without the\n"
		"                        podwall.io/log-verdicts annotation (default denied)\n"
		"      --enforcement enforce|audit\n"
		"                        of namespaces without podwall.io/enforcement (default\n"
		"                        enforce; audit logs would-be drops as audit-denied)\n"
		"      --flow-log FILE   verdict records as JSON lines\n"
		"      --flow-log-text FILE  verdict records as text lines\n"
		"      --flow-log-max-size SIZE  rotate a flow log past SIZE (k/M/G; default 10M)\n"
		"      --flow-log-keep N rotated files kept (default 3)\n"
		"      --flow-log-window MS  records of one flow merged within MS (default 1000)\n"
		"\nIntrusion prevention (sampled flows through the signature engine):\n"
		"      --rules FILE      Suricata-compatible rules (repeatable); enables inspection\n"
		"      --ips-mode MODE   ids: alert only (default); ips: drop/reject rules block\n"
		"      --drop-policy FILE  alert rules to treat as drop: sid, gid:sid,\n"
		"                        classtype:NAME, metadata:KEY VALUE, re:REGEX per line\n"
		"      --classification FILE  classification.config (classtype -> priority)\n"
		"      --home-net CIDRS  $HOME_NET of the rules (default: RFC 1918 ranges)\n"
		"      --eve FILE        eve.json alert log, appended (default %s)\n"
		"      --block-by WHAT   flow (default) or src: the source address, with a TTL\n"
		"      --block-ttl S     how long a block lasts, 0 = until removed (default 600)\n"
		"      --sample-packets N  first packets sampled per flow and direction (16)\n"
		"      --sample-bytes N  ... and at most these bytes per direction (65536)\n"
		"      --sample-flow-cap N  bytes after which a flow under inspection is no\n"
		"                        longer sampled (1048576); 0 = until released\n"
		"      --no-sample-hold  sample only the first packets, not until inspected\n"
		"      --sample-rate N   samples per second per CPU (5000)\n"
		"      --flow-idle S     the inspector ends flows idle this long (30)\n"
		"      --capture KINDS   pcap of: policy,ips,dos,other,alerts, or none\n"
		"                        (default with --rules: ips,alerts; else none)\n"
		"      --capture-dir DIR per-pod pcap files (default %s)\n"
		"      --capture-file-size BYTES  rotate past this size (8388608)\n"
		"      --capture-files N files kept per pod (5)\n"
		"      --capture-total BYTES  cap of the whole directory (268435456)\n\n"
		"  -f, --foreground      accepted for compatibility: always the case\n"
		"      --uninstall       detach every pod and uplink, remove the pins and exit\n"
		"  -v, --verbose         more logs (-vv: debug, libbpf too)\n"
		"  -h, --help            this text\n",
		PW_PIN_ROOT, PW_API_SOCKET_DEFAULT, PW_API_QUEUE_DIR_DEFAULT, STATE_DIR_DEFAULT,
		METRICS_ADDRESS_DEFAULT, EVE_DEFAULT, CAPTURE_DIR_DEFAULT);
}

/* A decimal number, with k/M/G (powers of 1024) if units, within [lo, hi]. */
static int parse_num(const char *s, bool units, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	if (units && *end) {
		const char *u = "kMGT", *p = strchr(u, *end);

		if (!p || end[1])
			return -EINVAL;
		for (long i = 0; i <= p - u; i++)
			v *= 1024;
	} else if (*end) {
		return -EINVAL;
	}
	if (v < lo || v > hi)
		return -ERANGE;
	*out = v;
	return 0;
}

static int attach_uplinks(struct pw_daemon *d)
{
	static const char *const modes[] = { "auto", "native", "generic (skb)" };

	for (int i = 0; i < d->o.nuplinks; i++) {
		int ifindex = (int)if_nametoindex(d->o.uplinks[i]), err;
		enum pw_xdp_mode used;

		if (!ifindex)
			return pr_err_r(-errno, "uplink %s", d->o.uplinks[i]);
		err = pw_datapath_attach_uplink(d->dp, ifindex, PW_XDP_MODE_AUTO, &used);
		if (err)
			return err;
		pr_info("uplink %s: pw_node_xdp attached in %s mode", d->o.uplinks[i], modes[used]);
	}
	return 0;
}

/* Everything before the socket opens: nobody is answered until the state is whole again. */
static int start(struct pw_daemon *d)
{
	struct pw_datapath_opts dopts = { .pin_root = d->o.pin_root, .deny_host = d->o.deny_host };
	char msg[PW_ERRMSG_MAX];
	int err, n;

	if (mkdir(d->o.state_dir, 0700) && errno != EEXIST)
		return pr_err_r(-errno, "create %s", d->o.state_dir);
	err = pw_datapath_open(&d->dp, &dopts);
	if (err)
		return pr_err_r(err, "open the datapath under %s", d->o.pin_root);
	/* Cookies are numbered afresh by this run's compiler: old hit counts mean nothing. */
	err = pw_dp_rule_hits_clear(d->dp);
	if (err)
		pr_warn("rule hit counters not cleared: %s", strerror(-err));
	err = pw_policy_db_new(&d->db);
	if (err)
		return err;
	err = pw_sync_node_addrs(d);
	if (err < 0)
		return err;

	n = pw_registry_load(d);
	for (size_t i = 1; i < PW_MAX_ENDPOINTS; i++) {
		struct pw_ep *ep = &d->eps[i];

		if (!ep->used)
			continue;
		/* Swaps the program on the hooks in place: the veth is never unfiltered. */
		err = pw_datapath_attach_pod(d->dp, ep->host_ifindex);
		if (err)
			pr_err("endpoint %u %s/%s: re-attach failed; keeping it", ep->ep_id, ep->ns,
			       ep->pod);
		if (pw_sync_pod(d, ep->ns, ep->pod, msg))
			pr_err("endpoint %u: Pod %s/%s: %s", ep->ep_id, ep->ns, ep->pod, msg);
	}
	if (n > 0)
		pr_info("re-adopted %d endpoint(s) from %s", n, d->o.state_dir);
	err = pw_source_start(d);
	if (err)
		return err;
	n = pw_queue_apply(d);
	if (n > 0)
		pr_info("applied %d queued endpoint deletion(s)", n);
	/* API source: the full rewrite waits for the first list of every resource. */
	err = d->syncing ? 0 : pw_sync_full(d);
	if (err)
		pr_err("initial map sync incomplete: %s", strerror(-err));
	err = pw_registry_save(d);
	if (err)
		return err;
	return attach_uplinks(d);
}

static void stop(struct pw_daemon *d)
{
	pw_daemon_ips_stop(d);
	pw_api_close(d);
	pw_metrics_stop(d);
	pw_flowlog_stop(d);
	pw_k8s_source_stop(d);
	ring_buffer__free(d->rb);
	for (size_t i = 1; i < PW_MAX_ENDPOINTS; i++)
		pw_ep_clear(&d->eps[i]);
	json_decref(d->objs);
	pw_policy_db_free(&d->db);
	/* Pins and attachments stay: the datapath enforces until we are back. */
	pw_datapath_free(&d->dp);
	if (d->epfd >= 0)
		close(d->epfd);
}

int main(int argc, char **argv)
{
	enum {
		OPT_UNINSTALL = 0x100,
		OPT_API_SERVER,
		OPT_KUBECONFIG,
		OPT_CONTEXT,
		OPT_IN_CLUSTER,
		OPT_TOKEN_FILE,
		OPT_CA_FILE,
		OPT_INSECURE,
		OPT_WATCH_TIMEOUT,
		OPT_DOS_CONFIG,
		OPT_METRICS_ADDRESS,
		OPT_METRICS_PER_POD,
		OPT_LOG_VERDICTS,
		OPT_ENFORCEMENT,
		OPT_FLOW_LOG,
		OPT_FLOW_LOG_TEXT,
		OPT_FLOW_LOG_MAX,
		OPT_FLOW_LOG_KEEP,
		OPT_FLOW_LOG_WINDOW,
		OPT_RULES,
		OPT_IPS_MODE,
		OPT_DROP_POLICY,
		OPT_CLASSIFICATION,
		OPT_HOME_NET,
		OPT_EVE,
		OPT_BLOCK_BY,
		OPT_BLOCK_TTL,
		OPT_SAMPLE_PACKETS,
		OPT_SAMPLE_BYTES,
		OPT_SAMPLE_FLOW_CAP,
		OPT_NO_SAMPLE_HOLD,
		OPT_SAMPLE_RATE,
		OPT_FLOW_IDLE,
		OPT_CAPTURE,
		OPT_CAPTURE_DIR,
		OPT_CAPTURE_FILE_SIZE,
		OPT_CAPTURE_FILES,
		OPT_CAPTURE_TOTAL,
	};
	static const struct option opts[] = {
		{ "manifests", required_argument, NULL, 'm' },
		{ "node-name", required_argument, NULL, 'n' },
		{ "pin-root", required_argument, NULL, 'P' },
		{ "socket", required_argument, NULL, 's' },
		{ "queue-dir", required_argument, NULL, 'q' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "uplink", required_argument, NULL, 'u' },
		{ "deny-host", no_argument, NULL, 'H' },
		{ "dos-config", required_argument, NULL, OPT_DOS_CONFIG },
		{ "metrics-address", required_argument, NULL, OPT_METRICS_ADDRESS },
		{ "metrics-per-pod", no_argument, NULL, OPT_METRICS_PER_POD },
		{ "log-verdicts", required_argument, NULL, OPT_LOG_VERDICTS },
		{ "enforcement", required_argument, NULL, OPT_ENFORCEMENT },
		{ "flow-log", required_argument, NULL, OPT_FLOW_LOG },
		{ "flow-log-text", required_argument, NULL, OPT_FLOW_LOG_TEXT },
		{ "flow-log-max-size", required_argument, NULL, OPT_FLOW_LOG_MAX },
		{ "flow-log-keep", required_argument, NULL, OPT_FLOW_LOG_KEEP },
		{ "flow-log-window", required_argument, NULL, OPT_FLOW_LOG_WINDOW },
		{ "rules", required_argument, NULL, OPT_RULES },
		{ "ips-mode", required_argument, NULL, OPT_IPS_MODE },
		{ "drop-policy", required_argument, NULL, OPT_DROP_POLICY },
		{ "classification", required_argument, NULL, OPT_CLASSIFICATION },
		{ "home-net", required_argument, NULL, OPT_HOME_NET },
		{ "eve", required_argument, NULL, OPT_EVE },
		{ "block-by", required_argument, NULL, OPT_BLOCK_BY },
		{ "block-ttl", required_argument, NULL, OPT_BLOCK_TTL },
		{ "sample-packets", required_argument, NULL, OPT_SAMPLE_PACKETS },
		{ "sample-bytes", required_argument, NULL, OPT_SAMPLE_BYTES },
		{ "sample-flow-cap", required_argument, NULL, OPT_SAMPLE_FLOW_CAP },
		{ "no-sample-hold", no_argument, NULL, OPT_NO_SAMPLE_HOLD },
		{ "sample-rate", required_argument, NULL, OPT_SAMPLE_RATE },
		{ "flow-idle", required_argument, NULL, OPT_FLOW_IDLE },
		{ "capture", required_argument, NULL, OPT_CAPTURE },
		{ "capture-dir", required_argument, NULL, OPT_CAPTURE_DIR },
		{ "capture-file-size", required_argument, NULL, OPT_CAPTURE_FILE_SIZE },
		{ "capture-files", required_argument, NULL, OPT_CAPTURE_FILES },
		{ "capture-total", required_argument, NULL, OPT_CAPTURE_TOTAL },
		{ "foreground", no_argument, NULL, 'f' },
		{ "uninstall", no_argument, NULL, OPT_UNINSTALL },
		{ "api-server", required_argument, NULL, OPT_API_SERVER },
		{ "kubeconfig", required_argument, NULL, OPT_KUBECONFIG },
		{ "context", required_argument, NULL, OPT_CONTEXT },
		{ "in-cluster", no_argument, NULL, OPT_IN_CLUSTER },
		{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
		{ "ca-file", required_argument, NULL, OPT_CA_FILE },
		{ "insecure", no_argument, NULL, OPT_INSECURE },
		{ "watch-timeout", required_argument, NULL, OPT_WATCH_TIMEOUT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct pw_daemon d = {
		.epfd = -1, .sigfd = -1, .tickfd = -1, .debouncefd = -1, .inofd = -1, .listenfd = -1
	};
	char host[256] = "";
	bool uninstall = false, capture_set = false;
	struct pw_ips_opts *io = &d.o.ips;
	long long n;
	int c, verbose = 0, err;

	d.o.pin_root = PW_PIN_ROOT;
	d.o.socket = PW_API_SOCKET_DEFAULT;
	d.o.queue_dir = PW_API_QUEUE_DIR_DEFAULT;
	d.o.state_dir = STATE_DIR_DEFAULT;
	d.o.metrics_address = METRICS_ADDRESS_DEFAULT;
	d.o.log_verdicts = PW_LOGV_DENIED;
	d.o.flow_log_max_bytes = 10 << 20;
	d.o.flow_log_keep = 3;
	d.o.flow_log_window_ms = 1000;
	io->eve = EVE_DEFAULT;
	io->capture_dir = CAPTURE_DIR_DEFAULT;
	io->block_ttl_s = 600;
	io->sample_pkts = 16;
	io->sample_bytes = 65536;
	io->sample_flow_cap = 1 << 20;
	io->sample_hold = true;
	io->sample_rate = 5000;
	io->flow_idle_s = 30;
	while ((c = getopt_long(argc, argv, "m:n:P:s:q:S:u:Hfvh", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			d.o.manifests = optarg;
			break;
		case 'n':
			d.o.node_name = optarg;
			break;
		case 'P':
			d.o.pin_root = optarg;
			break;
		case 's':
			d.o.socket = optarg;
			break;
		case 'q':
			d.o.queue_dir = optarg;
			break;
		case 'S':
			d.o.state_dir = optarg;
			break;
		case 'u':
			if (d.o.nuplinks == PW_DAEMON_MAX_UPLINKS) {
				fprintf(stderr, "podwalld: at most %d uplinks\n",
					PW_DAEMON_MAX_UPLINKS);
				return 2;
			}
			d.o.uplinks[d.o.nuplinks++] = optarg;
			break;
		case 'H':
			d.o.deny_host = true;
			break;
		case 'f':
			break;
		case OPT_UNINSTALL:
			uninstall = true;
			break;
		case OPT_API_SERVER:
			d.o.api_server = optarg;
			break;
		case OPT_KUBECONFIG:
			d.o.kubeconfig = optarg;
			break;
		case OPT_CONTEXT:
			d.o.context = optarg;
			break;
		case OPT_IN_CLUSTER:
			d.o.in_cluster = true;
			break;
		case OPT_TOKEN_FILE:
			d.o.token_file = optarg;
			break;
		case OPT_CA_FILE:
			d.o.ca_file = optarg;
			break;
		case OPT_INSECURE:
			d.o.insecure = true;
			break;
		case OPT_WATCH_TIMEOUT: {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || !v || v > 3600) {
				fprintf(stderr, "podwalld: --watch-timeout: 1..3600 seconds\n");
				return 2;
			}
			d.o.watch_timeout_s = (unsigned int)v;
			break;
		}
		case OPT_DOS_CONFIG:
			d.o.dos_config = optarg;
			break;
		case OPT_METRICS_ADDRESS:
			if (pw_metrics_check_address(optarg)) {
				fprintf(stderr, "podwalld: --metrics-address %s: expected ADDR:PORT "
						"(numeric, [V6]:PORT) or off\n", optarg);
				return 2;
			}
			d.o.metrics_address = optarg;
			break;
		case OPT_METRICS_PER_POD:
			d.o.metrics_per_pod = true;
			break;
		case OPT_LOG_VERDICTS:
			c = pw_logv_parse(optarg);
			if (c < 0) {
				fprintf(stderr, "podwalld: --log-verdicts: all, denied or none\n");
				return 2;
			}
			d.o.log_verdicts = c;
			break;
		case OPT_ENFORCEMENT:
			if (strcmp(optarg, "enforce") && strcmp(optarg, "audit")) {
				fprintf(stderr, "podwalld: --enforcement: enforce or audit\n");
				return 2;
			}
			d.o.audit = !strcmp(optarg, "audit");
			break;
		case OPT_FLOW_LOG:
			d.o.flow_log = optarg;
			break;
		case OPT_FLOW_LOG_TEXT:
			d.o.flow_log_text = optarg;
			break;
		case OPT_FLOW_LOG_MAX:
			if (parse_num(optarg, true, 4096, 1ULL << 40, &d.o.flow_log_max_bytes)) {
				fprintf(stderr, "podwalld: --flow-log-max-size: 4k..1T\n");
				return 2;
			}
			break;
		case OPT_FLOW_LOG_KEEP:
		case OPT_FLOW_LOG_WINDOW: {
			uint64_t v;

			if (parse_num(optarg, false, c == OPT_FLOW_LOG_KEEP ? 0 : 1,
				      c == OPT_FLOW_LOG_KEEP ? 100 : 60000, &v)) {
				fprintf(stderr, "podwalld: --%s: %s\n",
					c == OPT_FLOW_LOG_KEEP ? "flow-log-keep" : "flow-log-window",
					c == OPT_FLOW_LOG_KEEP ? "0..100 files" : "1..60000 ms");
				return 2;
			}
			if (c == OPT_FLOW_LOG_KEEP)
				d.o.flow_log_keep = (unsigned int)v;
			else
				d.o.flow_log_window_ms = (unsigned int)v;
			break;
		}
		case OPT_RULES:
			if (io->nrules == PW_DAEMON_MAX_RULE_FILES) {
				fprintf(stderr, "podwalld: at most %d rule files\n",
					PW_DAEMON_MAX_RULE_FILES);
				return 2;
			}
			io->rules[io->nrules++] = optarg;
			break;
		case OPT_IPS_MODE:
			if (strcmp(optarg, "ids") && strcmp(optarg, "ips")) {
				fprintf(stderr, "podwalld: --ips-mode: ids or ips\n");
				return 2;
			}
			io->ips_mode = !strcmp(optarg, "ips");
			break;
		case OPT_DROP_POLICY:
			io->drop_policy = optarg;
			break;
		case OPT_CLASSIFICATION:
			io->classification = optarg;
			break;
		case OPT_HOME_NET:
			io->home_net = optarg;
			break;
		case OPT_EVE:
			io->eve = optarg;
			break;
		case OPT_BLOCK_BY:
			if (strcmp(optarg, "flow") && strcmp(optarg, "src")) {
				fprintf(stderr, "podwalld: --block-by: flow or src\n");
				return 2;
			}
			io->block_src = !strcmp(optarg, "src");
			break;
		case OPT_BLOCK_TTL:
			if ((n = num_arg("block-ttl", optarg, 0, 30 * 86400)) < 0)
				return 2;
			io->block_ttl_s = (uint32_t)n;
			break;
		case OPT_SAMPLE_PACKETS:
			if ((n = num_arg("sample-packets", optarg, 0, 1000000)) < 0)
				return 2;
			io->sample_pkts = (uint32_t)n;
			break;
		case OPT_SAMPLE_BYTES:
			if ((n = num_arg("sample-bytes", optarg, 0, UINT32_MAX)) < 0)
				return 2;
			io->sample_bytes = (uint32_t)n;
			break;
		case OPT_SAMPLE_FLOW_CAP:
			if ((n = num_arg("sample-flow-cap", optarg, 0, UINT32_MAX)) < 0)
				return 2;
			io->sample_flow_cap = (uint32_t)n;
			break;
		case OPT_NO_SAMPLE_HOLD:
			io->sample_hold = false;
			break;
		case OPT_SAMPLE_RATE:
			if ((n = num_arg("sample-rate", optarg, 1, 10000000)) < 0)
				return 2;
			io->sample_rate = (uint32_t)n;
			break;
		case OPT_FLOW_IDLE:
			if ((n = num_arg("flow-idle", optarg, 1, 86400)) < 0)
				return 2;
			io->flow_idle_s = (uint32_t)n;
			break;
		case OPT_CAPTURE:
			if (capture_kinds(optarg, &io->capture))
				return 2;
			capture_set = true;
			break;
		case OPT_CAPTURE_DIR:
			io->capture_dir = optarg;
			break;
		case OPT_CAPTURE_FILE_SIZE:
			if ((n = num_arg("capture-file-size", optarg, 4096, 1LL << 40)) < 0)
				return 2;
			io->capture_file_bytes = (uint64_t)n;
			break;
		case OPT_CAPTURE_FILES:
			if ((n = num_arg("capture-files", optarg, 1, 100000)) < 0)
				return 2;
			io->capture_files = (unsigned int)n;
			break;
		case OPT_CAPTURE_TOTAL:
			if ((n = num_arg("capture-total", optarg, 4096, 1LL << 50)) < 0)
				return 2;
			io->capture_total = (uint64_t)n;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "podwalld: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	pw_log_set_level(verbose >= 2 ? PW_LOG_DEBUG : verbose ? PW_LOG_INFO : PW_LOG_WARN);
	pw_log_libbpf_init();
	if (!d.o.node_name) {
		gethostname(host, sizeof(host) - 1);
		d.o.node_name = host;
	}
	if (uninstall)
		return pw_daemon_uninstall(&d.o) ? 1 : 0;
	if (!d.o.manifests && !pw_k8s_source_wanted(&d.o) && getenv("KUBERNETES_SERVICE_HOST"))
		d.o.in_cluster = true;
	if (d.o.manifests && pw_k8s_source_wanted(&d.o)) {
		fprintf(stderr, "podwalld: --manifests and an API server exclude each other\n");
		return 2;
	}
	d.syncing = pw_k8s_source_wanted(&d.o);
	if (!capture_set && io->nrules)
		io->capture = PW_IPS_CAP_IPS | PW_IPS_CAP_ALERTS;
	/* The default places' parents; a directory given by flag is the operator's to create. */
	if (!strcmp(io->eve, EVE_DEFAULT) && io->nrules)
		mkdir("/var/log/podwall", 0700);
	if (!strcmp(io->capture_dir, CAPTURE_DIR_DEFAULT) && io->capture)
		mkdir("/var/lib/podwall", 0700);

	err = start(&d) ?: pw_daemon_dos_start(&d) ?: pw_daemon_ips_start(&d) ?:
		pw_loop_setup(&d) ?: pw_flowlog_start(&d) ?: pw_metrics_start(&d) ?:
		pw_k8s_source_start(&d) ?: pw_api_listen(&d);
	if (!err) {
		d.ready = true;
		pr_info("ready: node %s, %s, socket %s", d.o.node_name,
			d.o.manifests	 ? d.o.manifests :
			d.o.api_server ? d.o.api_server :
			d.syncing	 ? "API server" :
					   "no manifest source",
			d.o.socket);
		err = pw_loop_run(&d);
	}
	stop(&d);
	return err ? 1 : 0;
}
