/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Kubernetes API client of podwalld: list + watch of NetworkPolicies,
 * Namespaces and Pods over libcurl's multi interface, driven by the caller's
 * event loop through one pollable fd (an epoll fd of the client's own sockets
 * and timers). Nothing here blocks; nothing here knows about the datapath.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct pw_policy_db;

enum pw_k8s_res {
	PW_K8S_NAMESPACES,
	PW_K8S_PODS,
	PW_K8S_POLICIES,
	_PW_K8S_RES_MAX,
};

/* "namespaces", "pods", "networkpolicies". */
const char *pw_k8s_res_name(enum pw_k8s_res r);
/* "Namespace", "Pod", "NetworkPolicy". */
const char *pw_k8s_res_kind(enum pw_k8s_res r);

/* ---- configuration (config.c) ---- */

struct pw_k8s_config {
	char *server;	  /* scheme://host[:port][/prefix], no trailing slash */
	char *token;	  /* a literal bearer token (kubeconfig), or NULL */
	char *token_file; /* bearer token file, re-read when it changes on disk */
	char *ca_file;	  /* PEM file */
	char *ca_pem;	  /* PEM text (kubeconfig certificate-authority-data) */
	char *cert_file, *key_file;
	char *cert_pem, *key_pem; /* client-certificate-data / client-key-data */
	bool insecure;		  /* do not verify the server (tests only) */
};

#define PW_K8S_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/**
 * Reads a kubeconfig (YAML or JSON): the cluster and user of @context, or of
 * current-context when @context is NULL. Relative file paths are resolved
 * against the kubeconfig's directory. Returns 0 or -errno with a message
 * naming the field in @errmsg (@errlen bytes); @out is filled only on success.
 */
int pw_k8s_config_kubeconfig(const char *path, const char *context, struct pw_k8s_config *out,
			     char *errmsg, size_t errlen);
/**
 * In-cluster service account: $KUBERNETES_SERVICE_HOST/_PORT and the token and
 * CA under @sa_dir (PW_K8S_SA_DIR when NULL). Returns 0, -ENOENT when not in a
 * cluster, or -errno.
 */
int pw_k8s_config_incluster(const char *sa_dir, struct pw_k8s_config *out, char *errmsg,
			    size_t errlen);
void pw_k8s_config_clear(struct pw_k8s_config *c);
/* Standard base64 (kubeconfig *-data fields). Returns a NUL-terminated buffer or NULL. */
char *pw_k8s_base64_decode(const char *in, size_t *outlen);

/* ---- watch stream lines (linebuf.c) ---- */

/*
 * Splits a byte stream into lines as chunks arrive, holding at most one
 * partial line of at most max bytes. Lines are passed without "\n" (and a
 * trailing "\r"), NUL-terminated and writable; empty lines are skipped.
 */
struct pw_k8s_linebuf {
	char *buf;
	size_t len, cap, max;
};

typedef int (*pw_k8s_line_fn)(void *ctx, char *line, size_t len);

void pw_k8s_linebuf_init(struct pw_k8s_linebuf *lb, size_t max);
/**
 * Feeds one chunk. Returns 0; -E2BIG if a line grows past max (the partial
 * line is dropped: the stream is out of step and must be restarted); -ENOMEM;
 * or the first negative value fn returned (feeding stops there).
 */
int pw_k8s_linebuf_feed(struct pw_k8s_linebuf *lb, const char *data, size_t len,
			pw_k8s_line_fn fn, void *ctx);
void pw_k8s_linebuf_reset(struct pw_k8s_linebuf *lb);
void pw_k8s_linebuf_free(struct pw_k8s_linebuf *lb);

/* ---- retry delays (backoff.c) ---- */

/*
 * Exponential backoff with "equal jitter": the n-th retry waits a uniformly
 * random time in [cap/2, cap] with cap = min(max, base * 2^n), so that many
 * nodes that lost the API server together do not come back in step.
 */
struct pw_k8s_backoff {
	uint32_t base_ms, max_ms;
	uint32_t attempt;
	uint64_t rnd; /* xorshift state, never 0 */
};

void pw_k8s_backoff_init(struct pw_k8s_backoff *b, uint32_t base_ms, uint32_t max_ms,
			 uint64_t seed);
/* The delay before the next retry, in ms; counts the attempt. */
uint32_t pw_k8s_backoff_next(struct pw_k8s_backoff *b);
void pw_k8s_backoff_reset(struct pw_k8s_backoff *b);
/**
 * The delay before retrying a 429 or 503 that carried Retry-After (@retry_after_s
 * seconds, < 0 when absent): the server's wish when it is longer than our own
 * @backoff_ms, bounded by @max_ms so that a server asking for hours does not
 * stop the sync for hours. Returns ms.
 */
uint32_t pw_k8s_retry_after_ms(uint32_t backoff_ms, int64_t retry_after_s, uint32_t max_ms);

/* ---- the client (client.c) ---- */

struct pw_k8s_client;

struct pw_k8s_ops {
	/* A complete (paginated) list: items is the resource's whole set, borrowed. */
	void (*relist)(void *ctx, enum pw_k8s_res r, json_t *items);
	/* ADDED, MODIFIED or DELETED; obj is borrowed and has kind and apiVersion set. */
	void (*event)(void *ctx, enum pw_k8s_res r, const char *type, json_t *obj);
	/* After each dispatch that delivered lists or events: compile once per batch. */
	void (*batch_end)(void *ctx);
};

struct pw_k8s_client_opts {
	uint32_t watch_timeout_s; /* timeoutSeconds of a watch (default 300) */
	uint32_t page_limit;	  /* list page size (default 500) */
	size_t max_line;	  /* longest watch event line (default 8 MiB) */
	uint32_t backoff_base_ms, backoff_max_ms; /* defaults 200 ms, 30 s */
};

/** Creates a client (nothing is sent before pw_k8s_client_start()). 0 or -errno. */
int pw_k8s_client_new(struct pw_k8s_client **out, const struct pw_k8s_config *cfg,
		      const struct pw_k8s_client_opts *opts, const struct pw_k8s_ops *ops,
		      void *ctx);
void pw_k8s_client_free(struct pw_k8s_client **c);
/* The fd to poll for EPOLLIN; call pw_k8s_client_dispatch() when it is readable. */
int pw_k8s_client_fd(const struct pw_k8s_client *c);
/* Starts the first list of every resource. */
int pw_k8s_client_start(struct pw_k8s_client *c);
/* Runs whatever is due (socket I/O, curl timers, retries); never blocks. */
void pw_k8s_client_dispatch(struct pw_k8s_client *c);
/* True once every resource completed its first list. */
bool pw_k8s_client_synced(const struct pw_k8s_client *c);
/* {"<resource>": {synced, state, resourceVersion, last_error, lag_ms, counters}}; new ref. */
json_t *pw_k8s_client_status(const struct pw_k8s_client *c);

/* ---- compiled state, canonical (digest.c) ---- */

/**
 * The db's compiled output with every identity number and cookie replaced by
 * what it stands for, sorted: two dbs holding the same objects give equal
 * documents whatever order the objects came in. Addresses of identity host
 * (the node's own) are left out. Reads the output of the last compile (it
 * does not compile: that would swallow the delta the map sync needs).
 * Returns a new reference or NULL.
 */
json_t *pw_compiled_dump(struct pw_policy_db *db);
