/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * podwalld internals: one struct pw_daemon owned by main(), shared by the
 * event loop (loop.c), the API server (api.c), the endpoint registry
 * (registry.c), the manifest source (source.c) and the map sync (sync.c).
 * Everything runs on the one event-loop thread: no locking.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "datapath.h"
#include "policy.h"

#define PW_DAEMON_STATE_FILE  "endpoints.json"
#define PW_DAEMON_MAX_UPLINKS 16
#define PW_DAEMON_MAX_IPS     4

struct ring_buffer;
struct pw_k8s_client;

/* What the capture writes (--capture): PW_IPS_CAP_* */
#define PW_IPS_CAP_POLICY (1U << 0) /* policy-denied packets */
#define PW_IPS_CAP_IPS	  (1U << 1) /* packets of IPS-blocked flows and sources */
#define PW_IPS_CAP_DOS	  (1U << 2) /* uplink DoS and pod rate-limit drops */
#define PW_IPS_CAP_OTHER  (1U << 3) /* not-ready, malformed, fragments, ct-invalid */
#define PW_IPS_CAP_ALERTS (1U << 4) /* the sampled packets of flows that raised an alert */

#define PW_DAEMON_MAX_RULE_FILES 32

/* The live inspector and capture (ips.c). */
struct pw_ips_opts {
	const char *rules[PW_DAEMON_MAX_RULE_FILES];
	int nrules;
	const char *drop_policy, *classification, *home_net, *eve;
	bool ips_mode; /* drop/reject verdicts block in the datapath (else alert only) */
	bool block_src; /* block the source address (blocklist) rather than the flow */
	uint32_t block_ttl_s; /* 0: until removed */
	const char *capture_dir;
	uint32_t capture; /* PW_IPS_CAP_* */
	uint64_t capture_file_bytes, capture_total;
	unsigned int capture_files;
	uint32_t sample_pkts, sample_bytes, sample_flow_cap, sample_rate;
	bool sample_hold;
	uint32_t flow_idle_s;
	size_t max_flows;
};

struct pw_daemon_opts {
	const char *manifests; /* NULL: no manifest source */
	/* Kubernetes API source (control/k8s/api_source.c): any of these selects it. */
	const char *api_server, *kubeconfig, *context, *token_file, *ca_file;
	bool insecure, in_cluster;
	unsigned int watch_timeout_s; /* 0: the client's default */
	const char *node_name;
	const char *pin_root;
	const char *socket;
	const char *queue_dir;
	const char *state_dir;
	const char *uplinks[PW_DAEMON_MAX_UPLINKS];
	int nuplinks;
	bool deny_host;
	const char *dos_config; /* JSON settings of the uplink DoS guards (dos.c) */
	const char *metrics_address; /* "ADDR:PORT" of /metrics, /healthz, /readyz; "off" */
	bool metrics_per_pod;	     /* a pod label on the packet counters (cardinality!) */
	/* Verdict logs (flowlog.c). */
	int log_verdicts;	/* PW_LOGV_*: namespaces without the annotation */
	bool audit;		/* enforcement of namespaces without the annotation */
	const char *flow_log;	/* JSON lines, or NULL */
	const char *flow_log_text; /* text lines, or NULL */
	uint64_t flow_log_max_bytes; /* rotate past this size */
	unsigned int flow_log_keep;  /* rotated files kept */
	unsigned int flow_log_window_ms; /* dedup window */
	struct pw_ips_opts ips;
};

/* Verdict log levels (podwall.io/log-verdicts). */
enum { PW_LOGV_ALL, PW_LOGV_DENIED, PW_LOGV_NONE };
#define PW_ANN_LOG_VERDICTS "podwall.io/log-verdicts"
#define PW_ANN_ENFORCEMENT  "podwall.io/enforcement"
/* The endpoint flags flowlog.c owns; sync.c owns READY. */
#define PW_EP_F_OBSERVE_MASK (PW_EP_F_AUDIT | PW_EP_F_QUIET_ALLOWED | PW_EP_F_QUIET_DENIED)

/* A local pod as the CNI plugin registered it. Slot ep_id of pw_daemon.eps. */
struct pw_ep {
	bool used;
	uint32_t ep_id;
	char *container_id, *ifname, *netns, *ns, *pod, *uid, *host_ifname, *mac;
	int host_ifindex;
	char *ips[PW_DAEMON_MAX_IPS]; /* addresses without prefix length */
	struct pw_host_key keys[PW_DAEMON_MAX_IPS];
	int nips;
	uint32_t identity; /* as last written to pw_endpoints */
	bool ready;
	uint32_t obs_flags; /* PW_EP_F_OBSERVE_MASK bits as last written */
	uint8_t log_level;  /* PW_LOGV_* of its namespace */
};

struct pw_daemon {
	struct pw_daemon_opts o;
	struct pw_datapath *dp;
	struct pw_dos *dos;
	struct pw_ips *ips; /* NULL: no rules and no capture */
	struct pw_policy_db *db;
	struct pw_ep eps[PW_MAX_ENDPOINTS]; /* index = endpoint id; 0 unused */

	/* Manifest source: current objects, "Kind/ns/name" -> {"file", "object"}. */
	json_t *objs;
	uint64_t generation; /* applied manifest reloads / API event batches */
	struct pw_k8s_client *k8s;
	/*
	 * API source only: true until every resource completed its first list.
	 * Meanwhile maps are not rewritten (pinned state keeps enforcing what
	 * the last run knew) and new endpoints stay isolated (not READY).
	 */
	bool syncing;
	char last_error[PW_ERRMSG_MAX + 256];

	/* Event loop. */
	int epfd, sigfd, tickfd, debouncefd, inofd, listenfd;
	struct ring_buffer *rb;
	bool ready, stop, tick_pending;
	const char *not_ready_reason;
	uint64_t events_verdict, events_drop, events_other;
	uint32_t epoch; /* datapath epoch after the last bump */
	struct pw_addr node_addrs[64];
	size_t n_node_addrs;
	int nclients;
	long long last_tick_ms; /* CLOCK_MONOTONIC ms of the last 1 s tick (liveness) */
	uint64_t http_requests;
	uint64_t flowlog_records, flowlog_merged, flowlog_overflow, flowlog_bytes,
		flowlog_rotations, flowlog_write_errors, stream_dropped;
};

/* Event-loop sources; the epoll data pointer points at one of these. */
struct pw_source {
	void (*fn)(struct pw_daemon *d, struct pw_source *s, uint32_t events);
};

int pw_loop_add(struct pw_daemon *d, int fd, uint32_t events, struct pw_source *s);
int pw_loop_mod(struct pw_daemon *d, int fd, uint32_t events, struct pw_source *s);
void pw_loop_del(struct pw_daemon *d, int fd);
int pw_loop_setup(struct pw_daemon *d);
int pw_loop_run(struct pw_daemon *d);

/* api.c */
int pw_api_listen(struct pw_daemon *d);
void pw_api_tick(struct pw_daemon *d);
void pw_api_close(struct pw_daemon *d);
json_t *pw_daemon_handle(struct pw_daemon *d, json_t *req);

/* Uplink DoS guards (dos.c): settings at start, API requests (NULL: not a DoS command), sweep. */
struct pw_dos;
int pw_daemon_dos_start(struct pw_daemon *d);
json_t *pw_daemon_dos_api(struct pw_daemon *d, const char *cmd, json_t *req);
void pw_daemon_dos_tick(struct pw_daemon *d);

/* metrics.c: the HTTP endpoint (/metrics, /healthz, /readyz) on the event loop. */
typedef void (*pw_metrics_writer_fn)(struct pw_daemon *d, FILE *f, void *ctx);
/* Other parts (inspector, capture) add their metrics to /metrics; 0 or -ENOSPC. */
int pw_metrics_register(pw_metrics_writer_fn fn, void *ctx);
void pw_metric_head(FILE *f, const char *name, const char *type, const char *help);
void pw_metric_u64(FILE *f, const char *name, const char *type, const char *help, uint64_t v);
int pw_metrics_check_address(const char *spec);
int pw_metrics_start(struct pw_daemon *d);
void pw_metrics_tick(struct pw_daemon *d);
void pw_metrics_stop(struct pw_daemon *d);
struct pw_ep;
/* Keeps a deleted endpoint's counters in its namespace's sums. */
void pw_metrics_retire(struct pw_daemon *d, const struct pw_ep *ep);
/* Liveness and readiness with the reason in why (may be NULL for readiness). */
bool pw_daemon_healthy(struct pw_daemon *d, char *why, size_t len);
bool pw_daemon_readiness(struct pw_daemon *d, char *why, size_t len);
long long pw_now_ms(void);

/* flowlog.c: verdict records from the datapath's events. */
struct pw_event;
struct pw_flow_filter {
	const char *ns, *pod, *verdict; /* NULL: any */
};
int pw_logv_parse(const char *s);
const char *pw_logv_name(int level);
int pw_flowlog_start(struct pw_daemon *d);
void pw_flowlog_stop(struct pw_daemon *d);
void pw_flowlog_event(struct pw_daemon *d, const struct pw_event *e);
void pw_flowlog_metrics(struct pw_daemon *d, FILE *f);
/* The endpoint's PW_EP_F_OBSERVE_MASK flags from its namespace's annotations. */
uint32_t pw_observe_ep_flags(struct pw_daemon *d, struct pw_ep *ep);
/* Rewrites the flags of endpoints whose namespace settings changed (each tick). */
void pw_observe_sync(struct pw_daemon *d);
int pw_flow_filter_parse(struct pw_flow_filter *f, json_t *req, char *err, size_t len);
bool pw_flow_filter_match(const struct pw_flow_filter *f, json_t *r);
json_t *pw_flowlog_recent(struct pw_daemon *d, const struct pw_flow_filter *f, size_t limit);
json_t *pw_flowlog_drops(struct pw_daemon *d, unsigned int window_s, size_t top);
char *pw_flow_text(json_t *r);
/* api.c: sends a record to every client following the stream (borrowed). */
void pw_api_publish(struct pw_daemon *d, json_t *rec);
/* The live inspector and capture (ips.c): a worker thread fed by pw_samples. */
struct pw_ips;
int pw_daemon_ips_start(struct pw_daemon *d);
void pw_daemon_ips_stop(struct pw_daemon *d);
void pw_daemon_ips_tick(struct pw_daemon *d);
json_t *pw_daemon_ips_status(struct pw_daemon *d);

/* registry.c */
int pw_registry_load(struct pw_daemon *d);
int pw_registry_save(struct pw_daemon *d);
struct pw_ep *pw_ep_find(struct pw_daemon *d, const char *cid, const char *ifname);
int pw_ep_add(struct pw_daemon *d, json_t *req, char *err, size_t errlen);
int pw_ep_del(struct pw_daemon *d, struct pw_ep *ep);
int pw_queue_apply(struct pw_daemon *d);
void pw_registry_reap(struct pw_daemon *d);
void pw_ep_clear(struct pw_ep *ep);

/* source.c */
int pw_source_start(struct pw_daemon *d);
int pw_source_reload(struct pw_daemon *d);
void pw_source_on_inotify(struct pw_daemon *d);

/* control/k8s/api_source.c */
bool pw_k8s_source_wanted(const struct pw_daemon_opts *o);
int pw_k8s_source_start(struct pw_daemon *d);
void pw_k8s_source_stop(struct pw_daemon *d);
json_t *pw_k8s_source_status(struct pw_daemon *d);

/* sync.c */
int pw_sync_pod(struct pw_daemon *d, const char *ns, const char *name, char *errmsg);
int pw_sync_apply(struct pw_daemon *d, bool force_epoch);
int pw_sync_endpoint(struct pw_daemon *d, struct pw_ep *ep);
int pw_sync_full(struct pw_daemon *d);
int pw_sync_node_addrs(struct pw_daemon *d);
int pw_daemon_uninstall(const struct pw_daemon_opts *o);

void pw_daemon_set_error(struct pw_daemon *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
