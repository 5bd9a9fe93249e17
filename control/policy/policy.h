/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The policy compiler: a pure function from (NetworkPolicies, Pods,
 * Namespaces, node config) to the contents of the datapath's maps
 * (identities, ipcache, per-endpoint policy entries, cookies, epoch).
 *
 * Objects go into a database; pw_policy_db_compile() brings the compiled
 * output up to date and reports what changed since the previous compile.
 * Bad objects are rejected with a message naming the object and the field;
 * a rejected update leaves the version already in the db in force.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "podwall/ipcache_kern_user.h"
#include "podwall/policy_kern_user.h"
#include "podwall/verdict.h"

#define PW_ERRMSG_MAX 512

struct pw_policy_db;

struct pw_addr {
	uint8_t family;	  /* PW_AF_INET or PW_AF_INET6 */
	uint8_t addr[16]; /* network byte order; IPv4 in [0..3] */
};

/* struct pw_policy_entry: in podwall/policy_kern_user.h, shared with the loader. */

struct pw_ipcache_host_entry {
	struct pw_host_key key;
	struct pw_ipcache_val val;
};

struct pw_ipcache_lpm_entry {
	struct pw_lpm_key key;
	struct pw_ipcache_val val;
};

/* What a cookie stands for. Strings are owned by the db. */
struct pw_cookie_info {
	const char *ns;
	const char *name;
	uint8_t dir;   /* PW_DIR_* */
	uint32_t rule; /* index in spec.ingress / spec.egress */
};

/* A local endpoint as compiled. Pointers are owned by the db, valid until the next compile. */
struct pw_endpoint_view {
	const char *ns;
	const char *name;
	uint32_t identity;
	const struct pw_policy_entry *entries; /* sorted by key */
	size_t nentries;
};

/* What one compile changed. Arrays owned by the delta; free with pw_policy_delta_free(). */
struct pw_policy_delta {
	uint32_t epoch;	   /* epoch after this compile */
	bool changed;	   /* any output changed (the epoch was bumped) */
	char **ep_changed; /* "ns/name" of endpoints added or whose entries changed */
	size_t n_ep_changed;
	char **ep_removed;
	size_t n_ep_removed;
	size_t n_ep_unchanged;
	size_t n_ep_recomputed; /* endpoints whose entries were recomputed (work done) */
	struct pw_ipcache_host_entry *host_upsert;
	size_t n_host_upsert;
	struct pw_host_key *host_delete;
	size_t n_host_delete;
	struct pw_ipcache_lpm_entry *lpm_upsert;
	size_t n_lpm_upsert;
	struct pw_lpm_key *lpm_delete;
	size_t n_lpm_delete;
};

void pw_policy_delta_free(struct pw_policy_delta *d);

/** Creates an empty db. Returns 0 or -ENOMEM; *out untouched on error. */
int pw_policy_db_new(struct pw_policy_db **out);
/** Frees the db (NULL-safe) and resets *db. */
void pw_policy_db_free(struct pw_policy_db **db);

/*
 * Node configuration: the node name (pods with another spec.nodeName are not
 * local endpoints; NULL or "" = every pod is local) and the node's own
 * addresses (identity PW_ID_HOST).
 */
int pw_policy_db_set_node(struct pw_policy_db *db, const char *node_name, const struct pw_addr *ips,
			  size_t nips);

/*
 * Upserts a Kubernetes object (Pod, Namespace or NetworkPolicy, as JSON).
 * Returns 0, or -EINVAL with a message "<Kind> <ns>/<name>: <field>: <why>"
 * in errmsg (PW_ERRMSG_MAX bytes); the db is then unchanged.
 */
int pw_policy_db_upsert(struct pw_policy_db *db, json_t *obj, char *errmsg);
int pw_policy_db_upsert_pod(struct pw_policy_db *db, json_t *obj, char *errmsg);
int pw_policy_db_upsert_namespace(struct pw_policy_db *db, json_t *obj, char *errmsg);
int pw_policy_db_upsert_policy(struct pw_policy_db *db, json_t *obj, char *errmsg);
/* Deletes; -ENOENT if absent. */
int pw_policy_db_delete_pod(struct pw_policy_db *db, const char *ns, const char *name);
int pw_policy_db_delete_namespace(struct pw_policy_db *db, const char *name);
int pw_policy_db_delete_policy(struct pw_policy_db *db, const char *ns, const char *name);

/**
 * Brings the compiled output up to date, recomputing only what the changes
 * since the last compile affect. Fills *delta if non-NULL (caller frees it
 * with pw_policy_delta_free()). Returns 0 or -errno.
 */
int pw_policy_db_compile(struct pw_policy_db *db, struct pw_policy_delta *delta);

/* Accessors of the current compiled output. */
uint32_t pw_policy_db_epoch(const struct pw_policy_db *db);
size_t pw_policy_db_endpoints(const struct pw_policy_db *db, struct pw_endpoint_view **out);
const struct pw_endpoint_view *pw_policy_db_endpoint(const struct pw_policy_db *db, const char *ns,
						     const char *name);
size_t pw_policy_db_host_entries(const struct pw_policy_db *db, struct pw_ipcache_host_entry **out);
/*
 * The compiled ipcache value of one address, without building the sorted
 * list above (which costs a sort of every address of the cluster): true and
 * *out filled, or false when the address has no entry.
 */
bool pw_policy_db_host_get(const struct pw_policy_db *db, const struct pw_host_key *k,
			   struct pw_ipcache_val *out);
size_t pw_policy_db_lpm_entries(const struct pw_policy_db *db, struct pw_ipcache_lpm_entry **out);
/* Returns 0 or -ENOENT. */
int pw_policy_db_cookie(const struct pw_policy_db *db, uint32_t cookie, struct pw_cookie_info *out);
/* Canonical text of an identity's key (label or CIDR), or NULL. */
const char *pw_policy_db_identity_key(const struct pw_policy_db *db, uint32_t id);
size_t pw_policy_db_identity_count(const struct pw_policy_db *db);

/* Pods known to the db (any node), in a stable order. */
struct pw_pod_view {
	const char *ns;
	const char *name;
	bool host_network;
	bool local; /* a local endpoint */
	const struct pw_addr *ips;
	size_t nips;
};
size_t pw_policy_db_pods(const struct pw_policy_db *db, struct pw_pod_view **out);
const struct pw_pod_view *pw_policy_db_pod(const struct pw_policy_db *db, const char *ns,
					   const char *name);
/* Names of the policies that select the pod for dir (comma separated, "ns/name"), or "". */
int pw_policy_db_selecting(const struct pw_policy_db *db, const char *ns, const char *name, int dir,
			   char *buf, size_t len);

/* ---- evaluation (eval.c): the datapath's algorithm over the compiled output ---- */

struct pw_verdict {
	enum pw_reason reason;
	uint32_t cookie;
};

/* ipcache lookup exactly as the datapath does: host map, else LPM, else {WORLD, 0}. */
struct pw_ipcache_val pw_policy_lookup(const struct pw_policy_db *db, const struct pw_addr *a);

/*
 * One direction at one endpoint: the datapath's policy decision for a new
 * flow with a peer address, protocol and destination port.
 */
void pw_policy_eval(const struct pw_policy_db *db, const struct pw_endpoint_view *ep, int dir,
		    const struct pw_addr *peer, uint8_t proto, uint16_t dport, bool allow_host,
		    struct pw_verdict *out);

/*
 * The pluggable evaluator behind every offline tool: an implementation that
 * runs the real BPF program (BPF_PROG_TEST_RUN) can replace the default one.
 */
struct pw_evaluator {
	void (*eval)(void *ctx, const struct pw_policy_db *db, const struct pw_endpoint_view *ep,
		     int dir, const struct pw_addr *peer, uint8_t proto, uint16_t dport,
		     struct pw_verdict *out);
	void *ctx;
	bool allow_host;
};

/* The default evaluator (pw_policy_eval). */
extern const struct pw_evaluator pw_evaluator_default;

/* A probe src -> dst: egress at src if it is a local endpoint, then ingress at dst. */
struct pw_probe_result {
	bool allowed;
	int decided_dir; /* direction that decided: first denying, else last; -1 none */
	bool has_egress, has_ingress;
	struct pw_verdict egress, ingress;
};

void pw_policy_probe(const struct pw_policy_db *db, const struct pw_evaluator *ev,
		     const struct pw_addr *src, const struct pw_addr *dst, uint8_t proto,
		     uint16_t dport, struct pw_probe_result *out);

/* ---- helpers ---- */
int pw_addr_parse(const char *s, struct pw_addr *out);
void pw_addr_format(const struct pw_addr *a, char *buf, size_t len);
/* "TCP"/"UDP"/"SCTP" (case-insensitive) -> 6/17/132, else 0. */
uint8_t pw_proto_parse(const char *s);
const char *pw_proto_name(uint8_t proto);

/* ---- manifests (manifest.c) ---- */

/*
 * Parses a YAML or JSON buffer (one or more documents; `*List` kinds are
 * flattened) into *docs, a new JSON array of objects. name is used in error
 * messages. Returns 0, or -EINVAL with "name: line N: why" in errmsg.
 */
int pw_manifest_parse(const char *buf, size_t len, const char *name, bool yaml, json_t **docs,
		      char *errmsg);

typedef void (*pw_manifest_err_fn)(void *ctx, const char *msg);

/*
 * Loads a file or a directory (its *.yaml, *.yml, *.json files, sorted) and
 * appends {"file": ..., "object": ...} items to items. A file that cannot be
 * read or parsed is reported through err and skipped. Returns the number of
 * such errors, or -errno if path itself cannot be opened.
 */
int pw_manifest_load(const char *path, json_t *items, pw_manifest_err_fn err, void *ctx);

/*
 * Upserts every item into db: Namespaces first, then Pods, then
 * NetworkPolicies; other kinds are ignored. Each rejected object is reported
 * as "<file>: <message>" through err. Returns the number of rejections.
 */
int pw_manifest_apply(struct pw_policy_db *db, json_t *items, pw_manifest_err_fn err, void *ctx);

/* ---- policy case files (case.c), see docs: /work/shared/spec/policy-case.md ---- */

struct pw_case_pod {
	char *ns, *name, *id;
	json_t *labels;	       /* object */
	json_t *ports;	       /* array of container ports */
	struct pw_addr v4, v6; /* offline addresses, from the pod's index */
};

struct pw_case_probe {
	uint16_t port;
	uint8_t proto;
	json_t *expect; /* {"ns/src": {"ns/dst": bool}} */
};

struct pw_case_step {
	json_t *apply;	/* array or NULL */
	json_t *del;	/* array of "ns/name" or NULL */
	json_t *labels; /* array or NULL */
	struct pw_case_probe *probes;
	size_t nprobes;
};

struct pw_case {
	char *name;
	json_t *namespaces; /* object */
	struct pw_case_pod *pods;
	size_t npods;
	struct pw_case_step *steps;
	size_t nsteps;
};

struct pw_case_failure {
	size_t step, probe;
	const char *from, *to; /* owned by the case */
	uint16_t port;
	uint8_t proto;
	uint8_t family;
	bool expected;
	struct pw_probe_result res;
	char why[160]; /* the deciding policy and rule, or the reason */
};

struct pw_case_result {
	size_t checked; /* probe pairs evaluated (both families count) */
	struct pw_case_failure *f;
	size_t nf;
};

/*
 * Offline addresses: pod i (0-based, in case order) has 10.244.0.0/16 + (i + 2)
 * and fd00::(i + 2).
 */
void pw_case_addr(size_t index, struct pw_addr *v4, struct pw_addr *v6);

/** Parses and validates a case; -EINVAL with the field named in errmsg. */
int pw_case_parse(json_t *root, struct pw_case **out, char *errmsg);
void pw_case_free(struct pw_case **c);

/*
 * Runs every step through a fresh db and ev (NULL = default). Returns 0
 * (failures in *res, free with pw_case_result_free()), or -EINVAL for a
 * case error (an object rejected, an unknown pod) with errmsg set.
 */
int pw_case_run(const struct pw_case *c, const struct pw_evaluator *ev, struct pw_case_result *res,
		char *errmsg);
void pw_case_result_free(struct pw_case_result *res);

/* Explains a verdict in words into buf: "<ns>/<policy> <dir> rule <i>" or why not. */
void pw_policy_explain_verdict(const struct pw_policy_db *db, const struct pw_endpoint_view *ep,
			       int dir, const struct pw_verdict *v, char *buf, size_t len);
