/* SPDX-License-Identifier: GPL-2.0-only */
/* The compiler's parsed object model, shared by its source files only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hmap.h"
#include "policy.h"

struct pw_label {
	char *key;
	char *val;
};

/* Sorted by key; keys unique. */
struct pw_labels {
	struct pw_label *v;
	size_t n;
};

enum pw_sel_op { PW_SEL_IN, PW_SEL_NOT_IN, PW_SEL_EXISTS, PW_SEL_NOT_EXISTS };

struct pw_sel_req {
	char *key;
	enum pw_sel_op op;
	char **vals;
	size_t nvals;
};

/* A label selector: the AND of its requirements; none = match everything. */
struct pw_selector {
	struct pw_sel_req *reqs;
	size_t nreqs;
};

struct pw_cidr {
	uint8_t family;
	uint8_t len;
	uint8_t addr[16]; /* masked */
};

struct pw_peer {
	bool is_block;
	struct pw_selector *pod_sel; /* NULL = absent */
	struct pw_selector *ns_sel;  /* NULL = absent (the policy's namespace) */
	struct pw_cidr cidr;
	struct pw_cidr *except;
	size_t nexcept;
	/* Compiler state: identities (struct ident *) this peer matches. */
	void **match;
	size_t nmatch, capmatch;
};

struct pw_np_port {
	uint8_t proto;
	bool any_port;		 /* no port: every port of proto */
	char *name;		 /* named port, or NULL */
	uint16_t port, end_port; /* numeric [port, end_port] */
};

struct pw_rule {
	struct pw_peer *peers; /* none = every peer */
	size_t npeers;
	struct pw_np_port *ports; /* none = every port and protocol */
	size_t nports;
	uint32_t cookie; /* assigned by the db */
};

struct pw_np {
	char *ns, *name, *id; /* id = "ns/name" */
	struct pw_selector sel;
	bool types[2]; /* indexed by PW_DIR_* */
	struct pw_rule *rules[2];
	size_t nrules[2];
	/* Compiler state. */
	bool fresh;	 /* upserted since the last compile */
	void **selected; /* label identities of its namespace that its podSelector selects */
	size_t nselected, capselected;
};

struct pw_named_port {
	char *name;
	uint8_t proto;
	uint16_t port;
};

struct pw_pod {
	char *ns, *name, *id;
	struct pw_labels labels;
	struct pw_addr *ips;
	size_t nips;
	struct pw_named_port *ports; /* sorted by (name, proto, port) */
	size_t nports;
	char *node;
	bool host_network;
};

struct pw_ns {
	char *name;
	struct pw_labels labels; /* includes kubernetes.io/metadata.name */
};

int pw_np_parse(json_t *obj, struct pw_np **out, char *err);
int pw_pod_parse(json_t *obj, struct pw_pod **out, char *err);
int pw_ns_parse(json_t *obj, struct pw_ns **out, char *err);
void pw_np_free(struct pw_np *np);
void pw_pod_free(struct pw_pod *pod);
void pw_ns_free(struct pw_ns *ns);

void pw_labels_free(struct pw_labels *l);
int pw_labels_dup(const struct pw_labels *src, struct pw_labels *dst);
const char *pw_labels_get(const struct pw_labels *l, const char *key);
bool pw_selector_match(const struct pw_selector *s, const struct pw_labels *l);

bool pw_cidr_contains(const struct pw_cidr *outer, const struct pw_cidr *inner);
bool pw_cidr_has_addr(const struct pw_cidr *c, const struct pw_addr *a);
void pw_cidr_format(const struct pw_cidr *c, char *buf, size_t len);
int pw_cidr_parse(const char *s, struct pw_cidr *out);
