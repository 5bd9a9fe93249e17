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
#include "daemon.h"
#include "log.h"

#define STATE_DIR_DEFAULT "/run/podwall"
#define METRICS_ADDRESS_DEFAULT "127.0.0.1:9464"

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
		"  -f, --foreground      accepted for compatibility: always the case\n"
		"      --uninstall       detach every pod and uplink, remove the pins and exit\n"
		"  -v, --verbose         more logs (-vv: debug, libbpf too)\n"
		"  -h, --help            this text\n",
		PW_PIN_ROOT, PW_API_SOCKET_DEFAULT, PW_API_QUEUE_DIR_DEFAULT, STATE_DIR_DEFAULT,
		METRICS_ADDRESS_DEFAULT);
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
	bool uninstall = false;
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

	err = start(&d) ?: pw_daemon_dos_start(&d) ?: pw_loop_setup(&d) ?: pw_flowlog_start(&d) ?:
		pw_metrics_start(&d) ?: pw_k8s_source_start(&d) ?: pw_api_listen(&d);
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
