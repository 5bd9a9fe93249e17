// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HTTP endpoint: /metrics (Prometheus text format 0.0.4), /healthz and
 * /readyz. libmicrohttpd runs without a thread of its own: its epoll fd sits
 * in the daemon's event loop and MHD_run() is called when it is readable (and
 * on the 1 s tick, for connection timeouts). Answers are built on the loop
 * thread from the daemon's own state, so nothing needs a lock; the datapath
 * enforces in the kernel whatever the loop is doing.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <microhttpd.h>

#include "cleanup.h"
#include "daemon.h"
#include "dos.h"
#include "log.h"

#define HTTP_CONN_LIMIT	  32
#define HTTP_CONN_TIMEOUT 10 /* seconds */
/* The tick runs every second; three missed ticks mean the loop is stuck somewhere. */
#define TICK_STALE_MS 5000

static inline void pw_closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

static struct MHD_Daemon *httpd;
static struct pw_source http_src;

#define MAX_WRITERS 8
static struct {
	pw_metrics_writer_fn fn;
	void *ctx;
} writers[MAX_WRITERS];
static size_t nwriters;

int pw_metrics_register(pw_metrics_writer_fn fn, void *ctx)
{
	if (nwriters == MAX_WRITERS)
		return -ENOSPC;
	writers[nwriters].fn = fn;
	writers[nwriters].ctx = ctx;
	nwriters++;
	return 0;
}

long long pw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Label values: backslash, double quote and newline escaped, as the format requires. */
static void label_value(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
}

void pw_metric_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void pw_metric_u64(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
	pw_metric_head(f, name, type, help);
	fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

/* Sums of one (namespace[, pod]) group, by direction and reason. */
struct group {
	const char *ns, *pod;
	struct pw_counter c[PW_DIR_COUNT][_PW_REASON_MAX];
};

/*
 * Counters of deleted endpoints, per namespace: without them a namespace's
 * sums would fall when a pod goes, which Prometheus takes for a reset and
 * turns into a false burst. Kept for the daemon's lifetime (namespaces are few).
 */
struct retired {
	char *ns;
	struct pw_counter c[PW_DIR_COUNT][_PW_REASON_MAX];
};
static struct retired *retired;
static size_t nretired;

void pw_metrics_retire(struct pw_daemon *d, const struct pw_ep *ep)
{
	struct retired *r = NULL, *t;

	if (!ep->used || !ep->ns)
		return;
	for (size_t i = 0; i < nretired; i++)
		if (!strcmp(retired[i].ns, ep->ns))
			r = &retired[i];
	if (!r) {
		t = realloc(retired, (nretired + 1) * sizeof(*t));
		if (!t)
			return;
		retired = t;
		r = &retired[nretired];
		memset(r, 0, sizeof(*r));
		r->ns = strdup(ep->ns);
		if (!r->ns)
			return;
		nretired++;
	}
	for (int dir = 0; dir < PW_DIR_COUNT; dir++) {
		for (uint32_t k = 0; k < _PW_REASON_MAX; k++) {
			struct pw_counter c;

			if (pw_dp_counter_read(d->dp, ep->ep_id, (__u32)dir, k, &c))
				continue;
			r->c[dir][k].packets += c.packets;
			r->c[dir][k].bytes += c.bytes;
		}
	}
}

static int group_cmp(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	int r = strcmp(x->ns, y->ns);

	return r ? r : strcmp(x->pod ?: "", y->pod ?: "");
}

static void write_packets(struct pw_daemon *d, FILE *f)
{
	/* Endpoint 0 (traffic of no local pod) is the group with namespace "". */
	_cleanup_free_ struct group *g = calloc(PW_MAX_ENDPOINTS, sizeof(*g));
	size_t ng = 0, i;
	int dir;

	if (!g)
		return;
	for (uint32_t id = 0; id < PW_MAX_ENDPOINTS; id++) {
		struct pw_ep *ep = &d->eps[id];
		const char *ns = id && ep->used ? ep->ns : "";
		const char *pod = id && ep->used && d->o.metrics_per_pod ? ep->pod : NULL;
		struct group *cur = NULL;

		if (id && !ep->used)
			continue;
		for (i = 0; i < ng; i++)
			if (!strcmp(g[i].ns, ns) && !strcmp(g[i].pod ?: "", pod ?: ""))
				cur = &g[i];
		if (!cur) {
			cur = &g[ng++];
			cur->ns = ns;
			cur->pod = pod;
		}
		for (dir = 0; dir < PW_DIR_COUNT; dir++) {
			for (uint32_t r = 0; r < _PW_REASON_MAX; r++) {
				struct pw_counter c;

				if (pw_dp_counter_read(d->dp, id, (__u32)dir, r, &c))
					continue;
				cur->c[dir][r].packets += c.packets;
				cur->c[dir][r].bytes += c.bytes;
			}
		}
	}
	/* Per-pod series of a deleted pod just end; namespace sums keep what it counted. */
	for (size_t k = 0; k < nretired && !d->o.metrics_per_pod; k++) {
		struct group *cur = NULL;

		for (i = 0; i < ng; i++)
			if (!strcmp(g[i].ns, retired[k].ns))
				cur = &g[i];
		if (!cur) {
			if (ng == PW_MAX_ENDPOINTS)
				break;
			cur = &g[ng++];
			cur->ns = retired[k].ns;
		}
		for (dir = 0; dir < PW_DIR_COUNT; dir++) {
			for (uint32_t r = 0; r < _PW_REASON_MAX; r++) {
				cur->c[dir][r].packets += retired[k].c[dir][r].packets;
				cur->c[dir][r].bytes += retired[k].c[dir][r].bytes;
			}
		}
	}
	qsort(g, ng, sizeof(*g), group_cmp);
	for (int bytes = 0; bytes < 2; bytes++) {
		const char *name = bytes ? "podwall_bytes_total" : "podwall_packets_total";

		pw_metric_head(f, name, "counter",
			       bytes ? "Bytes the datapath decided on, by namespace, direction, "
				       "reason and verdict." :
				       "Packets the datapath decided on, by namespace, direction, "
				       "reason and verdict.");
		for (i = 0; i < ng; i++) {
			for (dir = 0; dir < PW_DIR_COUNT; dir++) {
				for (uint32_t r = 0; r < _PW_REASON_MAX; r++) {
					const struct pw_counter *c = &g[i].c[dir][r];

					if (!c->packets)
						continue;
					fprintf(f, "%s{namespace=\"", name);
					label_value(f, g[i].ns);
					if (g[i].pod) {
						fputs("\",pod=\"", f);
						label_value(f, g[i].pod);
					}
					fprintf(f,
						"\",direction=\"%s\",reason=\"%s\",verdict=\"%s\"} "
						"%llu\n",
						dir == PW_DIR_INGRESS ? "ingress" : "egress",
						pw_reason_name(r),
						pw_reason_is_drop(r) ? "dropped" : "allowed",
						(unsigned long long)(bytes ? c->bytes : c->packets));
				}
			}
		}
	}
}

static void write_state(struct pw_daemon *d, FILE *f)
{
	size_t ready = 0, not_ready = 0, pols = 0;
	const char *key;
	json_t *v;

	for (size_t i = 1; i < PW_MAX_ENDPOINTS; i++) {
		if (!d->eps[i].used)
			continue;
		if (d->eps[i].ready)
			ready++;
		else
			not_ready++;
	}
	json_object_foreach (d->objs, key, v)
		pols += !strncmp(key, "NetworkPolicy/", 14);
	pw_metric_head(f, "podwall_endpoints", "gauge",
		       "Local pods registered by the CNI plugin, by state.");
	fprintf(f, "podwall_endpoints{state=\"ready\"} %zu\n", ready);
	fprintf(f, "podwall_endpoints{state=\"not-ready\"} %zu\n", not_ready);
	pw_metric_u64(f, "podwall_policies", "gauge", "NetworkPolicies known to the daemon.", pols);
	pw_metric_u64(f, "podwall_identities", "gauge", "Label and CIDR identities compiled.",
		      pw_policy_db_identity_count(d->db));
	pw_metric_u64(f, "podwall_policy_epoch", "gauge",
		      "Datapath policy epoch (bumped by every policy change).", d->epoch);
	pw_metric_u64(f, "podwall_source_updates_total", "counter",
		      "Manifest reloads or Kubernetes API event batches applied.", d->generation);
	pw_metric_u64(f, "podwall_initial_sync_done", "gauge",
		      "1 once every watched resource was listed once (always 1 for manifests).",
		      !d->syncing);
	pw_metric_u64(f, "podwall_ready", "gauge", "1 when /readyz answers 200.",
		      pw_daemon_readiness(d, NULL, 0));
	pw_metric_u64(f, "podwall_api_clients", "gauge", "Open connections on the API socket.",
		      (uint64_t)d->nclients);
}

static void write_events(struct pw_daemon *d, FILE *f)
{
	struct pw_stats st = {};

	pw_dp_stats_read(d->dp, &st);
	pw_metric_u64(f, "podwall_datapath_events_sent_total", "counter",
		      "Event records the datapath wrote to the ring buffer.", st.events_sent_total);
	pw_metric_u64(f, "podwall_datapath_events_suppressed_total", "counter",
		      "Event records not written: over the per-CPU event rate.",
		      st.events_suppressed_total);
	pw_metric_u64(f, "podwall_datapath_events_lost_total", "counter",
		      "Event records lost: the ring buffer was full.", st.events_lost_total);
	pw_metric_u64(f, "podwall_conntrack_insert_failures_total", "counter",
		      "Conntrack entries the datapath could not create.", st.ct_insert_fail_total);
	pw_metric_head(f, "podwall_events_received_total", "counter",
		       "Event records the daemon read from the ring buffer, by type.");
	fprintf(f, "podwall_events_received_total{type=\"verdict\"} %llu\n",
		(unsigned long long)d->events_verdict);
	fprintf(f, "podwall_events_received_total{type=\"drop\"} %llu\n",
		(unsigned long long)d->events_drop);
	fprintf(f, "podwall_events_received_total{type=\"other\"} %llu\n",
		(unsigned long long)d->events_other);
}

static void write_dos(struct pw_daemon *d, FILE *f)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} m[] = {
#define DOS(n, h) { "podwall_dos_" #n, h, offsetof(struct pw_dos_stats, n) }
		DOS(blocklist_drops_total, "Uplink packets dropped: source on the blocklist."),
		DOS(ratelimit_drops_total, "Uplink packets dropped: over a per-source rate limit."),
		DOS(auto_blocked_total, "Blocklist entries the rate limiter added."),
		DOS(syn_cookies_sent_total, "SYN-ACKs with a cookie answered from XDP."),
		DOS(syn_cookies_ok_total, "ACKs with a valid SYN cookie (source admitted)."),
		DOS(syn_cookies_bad_total, "ACKs with an invalid SYN cookie, dropped."),
		DOS(syn_rst_sent_total, "RSTs sent to admitted sources so that they retry."),
		DOS(pod_ratelimit_drops_total, "Packets dropped at a pod's veth by its own limits."),
#undef DOS
	};
	struct pw_dos_stats st = {};

	if (!d->dos || pw_dos_stats_read(d->dos, &st))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(m); i++)
		pw_metric_u64(f, m[i].name, "counter", m[i].help,
			      *(const __u64 *)((const char *)&st + m[i].off));
}

/* Capture files and bytes on disk (ips.c has the packet counters): a listing, no pcap read. */
static void write_capture_disk(struct pw_daemon *d, FILE *f)
{
	const char *dir = d->o.ips.capture_dir;
	_cleanup_(pw_closedirp) DIR *dp = NULL;
	uint64_t files = 0, bytes = 0;
	struct dirent *de;
	struct stat sb;

	if (!d->ips || !dir)
		return;
	dp = opendir(dir);
	while (dp && (de = readdir(dp))) {
		size_t l = strlen(de->d_name);

		if (l < 6 || strcmp(de->d_name + l - 5, ".pcap") ||
		    fstatat(dirfd(dp), de->d_name, &sb, 0) || !S_ISREG(sb.st_mode))
			continue;
		files++;
		bytes += (uint64_t)sb.st_size;
	}
	pw_metric_u64(f, "podwall_capture_files", "gauge", "pcap files in the capture directory.",
		      files);
	pw_metric_u64(f, "podwall_capture_bytes", "gauge",
		      "Bytes of pcap files in the capture directory.", bytes);
}

static char *metrics_text(struct pw_daemon *d, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	write_packets(d, f);
	write_state(d, f);
	write_events(d, f);
	write_dos(d, f);
	pw_flowlog_metrics(d, f);
	write_capture_disk(d, f);
	for (size_t i = 0; i < nwriters; i++)
		writers[i].fn(d, f, writers[i].ctx);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

bool pw_daemon_healthy(struct pw_daemon *d, char *why, size_t len)
{
	struct pw_stats st;
	int err;

	if (pw_now_ms() - d->last_tick_ms > TICK_STALE_MS) {
		snprintf(why, len, "event loop: no tick for %lld ms", pw_now_ms() - d->last_tick_ms);
		return false;
	}
	err = pw_dp_stats_read(d->dp, &st);
	if (err) {
		snprintf(why, len, "map %s unreachable: %s", PW_MAP_STATS, strerror(-err));
		return false;
	}
	snprintf(why, len, "ok");
	return true;
}

bool pw_daemon_readiness(struct pw_daemon *d, char *why, size_t len)
{
	char dummy[8];

	if (!why) {
		why = dummy;
		len = sizeof(dummy);
	}
	if (!d->ready) {
		snprintf(why, len, "starting: %s", d->not_ready_reason ?: "not listening yet");
		return false;
	}
	if (d->syncing) {
		snprintf(why, len, "initial sync with the API server not done");
		return false;
	}
	for (size_t i = 1; i < PW_MAX_ENDPOINTS; i++) {
		struct pw_ep *ep = &d->eps[i];

		if (!ep->used)
			continue;
		if (!ep->ready) {
			snprintf(why, len, "endpoint %s/%s: policy not installed", ep->ns, ep->pod);
			return false;
		}
		if (pw_datapath_pod_attached(d->dp, ep->host_ifindex) != 1) {
			snprintf(why, len, "endpoint %s/%s: programs not attached to %s", ep->ns,
				 ep->pod, ep->host_ifname);
			return false;
		}
	}
	snprintf(why, len, "ok");
	return true;
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned int status, char *body,
			      size_t len, const char *type)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result answer_text(struct MHD_Connection *conn, unsigned int status,
				   const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static enum MHD_Result answer_text(struct MHD_Connection *conn, unsigned int status,
				   const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return MHD_NO;
	return answer(conn, status, s, (size_t)n, "text/plain; charset=utf-8");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_len, void **con_cls)
{
	struct pw_daemon *d = cls;
	char why[512];
	size_t len;
	char *body;

	(void)version;
	(void)upload;
	(void)con_cls;
	if (*upload_len)
		return answer_text(conn, MHD_HTTP_BAD_REQUEST, "no request body expected\n");
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or HEAD only\n");
	d->http_requests++;
	if (!strcmp(url, "/metrics")) {
		body = metrics_text(d, &len);
		if (!body)
			return answer_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		return answer(conn, MHD_HTTP_OK, body, len, "text/plain; version=0.0.4; charset=utf-8");
	}
	if (!strcmp(url, "/healthz")) {
		bool ok = pw_daemon_healthy(d, why, sizeof(why));

		return answer_text(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "%s\n",
				   why);
	}
	if (!strcmp(url, "/readyz")) {
		bool ok = pw_daemon_readiness(d, why, sizeof(why));

		return answer_text(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "%s\n",
				   why);
	}
	if (!strcmp(url, "/"))
		return answer_text(conn, MHD_HTTP_OK,
				   "podwalld on node %s: /metrics /healthz /readyz\n",
				   d->o.node_name);
	return answer_text(conn, MHD_HTTP_NOT_FOUND, "%s: not found (/metrics /healthz /readyz)\n",
			   url);
}

static void on_http(struct pw_daemon *d, struct pw_source *s, uint32_t events)
{
	(void)d;
	(void)s;
	(void)events;
	MHD_run(httpd);
}

/* "ADDR:PORT" or "[V6ADDR]:PORT", numeric. */
static int parse_address(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen)
{
	_cleanup_free_ char *s = strdup(spec);
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	char *host, *port;

	if (!s)
		return -ENOMEM;
	port = strrchr(s, ':');
	if (!port || port == s || !port[1])
		return -EINVAL;
	*port++ = '\0';
	host = s;
	if (*host == '[') {
		size_t l = strlen(host);

		if (host[l - 1] != ']')
			return -EINVAL;
		host[l - 1] = '\0';
		host++;
	}
	if (getaddrinfo(host, port, &hints, &res))
		return -EINVAL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int pw_metrics_check_address(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t l;

	if (!strcmp(spec, "off"))
		return 0;
	return parse_address(spec, &ss, &l);
}

int pw_metrics_start(struct pw_daemon *d)
{
	struct sockaddr_storage ss = {};
	const union MHD_DaemonInfo *info;
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	socklen_t sslen;
	uint16_t port;
	int err;

	d->last_tick_ms = pw_now_ms();
	if (!d->o.metrics_address || !strcmp(d->o.metrics_address, "off"))
		return 0;
	err = parse_address(d->o.metrics_address, &ss, &sslen);
	if (err)
		return pr_err_r(err, "--metrics-address %s: expected ADDR:PORT", d->o.metrics_address);
	if (ss.ss_family == AF_INET6) {
		flags |= MHD_USE_IPv6;
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	httpd = MHD_start_daemon(flags, port, NULL, NULL, on_request, d, MHD_OPTION_SOCK_ADDR, &ss,
				 MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_CONN_LIMIT,
				 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_CONN_TIMEOUT,
				 MHD_OPTION_END);
	if (!httpd)
		return pr_err_r(-EADDRNOTAVAIL, "metrics: cannot listen on %s",
				d->o.metrics_address);
	info = MHD_get_daemon_info(httpd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info) {
		MHD_stop_daemon(httpd);
		httpd = NULL;
		return pr_err_r(-EINVAL, "metrics: no epoll fd from libmicrohttpd");
	}
	http_src.fn = on_http;
	err = pw_loop_add(d, info->epoll_fd, EPOLLIN, &http_src);
	if (err) {
		MHD_stop_daemon(httpd);
		httpd = NULL;
		return err;
	}
	pr_info("metrics: http://%s/metrics, /healthz, /readyz", d->o.metrics_address);
	return 0;
}

void pw_metrics_tick(struct pw_daemon *d)
{
	d->last_tick_ms = pw_now_ms();
	/* Idle connections time out only when MHD runs. */
	if (httpd)
		MHD_run(httpd);
}

void pw_metrics_stop(struct pw_daemon *d)
{
	(void)d;
	if (httpd)
		MHD_stop_daemon(httpd);
	httpd = NULL;
	for (size_t i = 0; i < nretired; i++)
		free(retired[i].ns);
	free(retired);
	retired = NULL;
	nretired = 0;
}
