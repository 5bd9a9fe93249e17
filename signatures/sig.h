/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * podwall's signature engine: a Suricata-compatible rule subset (see
 * docs/rule-language.md), parsed into rules, prefiltered with vectorscan and
 * verified rule by rule. The inspector feeds it packets and app-layer buffers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Action order, strongest first: pass > drop > reject > alert. */
enum pw_sig_action {
	PW_SIG_PASS,
	PW_SIG_DROP,
	PW_SIG_REJECT,
	PW_SIG_ALERT,
	_PW_SIG_ACTION_MAX,
};

enum pw_sig_proto {
	PW_SIG_P_IP,
	PW_SIG_P_TCP,
	PW_SIG_P_UDP,
	PW_SIG_P_ICMP,
	PW_SIG_P_HTTP,
	PW_SIG_P_TLS,
	PW_SIG_P_DNS,
	PW_SIG_P_TCP_PKT,
	PW_SIG_P_TCP_STREAM,
	_PW_SIG_P_MAX,
};

/* The buffers a rule can inspect; PW_BUF_PKT is the packet (or stream) payload. */
enum pw_sig_buf {
	PW_BUF_PKT,
	PW_BUF_HTTP_URI,
	PW_BUF_HTTP_URI_RAW,
	PW_BUF_HTTP_METHOD,
	PW_BUF_HTTP_HOST,
	PW_BUF_HTTP_HOST_RAW,
	PW_BUF_HTTP_UA,
	PW_BUF_HTTP_HEADER,
	PW_BUF_HTTP_HEADER_RAW,
	PW_BUF_HTTP_HEADER_NAMES,
	PW_BUF_HTTP_COOKIE,
	PW_BUF_HTTP_REQUEST_LINE,
	PW_BUF_HTTP_REQ_BODY,
	PW_BUF_HTTP_CONTENT_TYPE,
	PW_BUF_HTTP_CONTENT_LEN,
	PW_BUF_HTTP_REFERER,
	PW_BUF_HTTP_ACCEPT,
	PW_BUF_HTTP_ACCEPT_ENC,
	PW_BUF_HTTP_ACCEPT_LANG,
	PW_BUF_HTTP_CONNECTION,
	PW_BUF_HTTP_PROTOCOL,
	PW_BUF_HTTP_START,
	PW_BUF_HTTP_STAT_CODE,
	PW_BUF_HTTP_STAT_MSG,
	PW_BUF_HTTP_RESPONSE_LINE,
	PW_BUF_HTTP_LOCATION,
	PW_BUF_HTTP_SERVER,
	PW_BUF_HTTP_RESP_BODY,
	PW_BUF_FILE_DATA,
	PW_BUF_DNS_QUERY,
	PW_BUF_TLS_SNI,
	_PW_BUF_MAX,
};

/* Application protocol of a flow as the inspector's own parsers saw it. */
enum pw_sig_app {
	PW_APP_NONE,
	PW_APP_HTTP,
	PW_APP_TLS,
	PW_APP_DNS,
	PW_APP_FAILED,
};

struct pw_sig_set;
struct pw_sig_rule;

/* Everything a rule can look at for one inspection unit (a packet or an app-layer transaction). */
struct pw_sig_input {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t l4proto; /* IPPROTO_* */
	uint8_t tcp_flags; /* TCP header flags, 0 otherwise */
	uint8_t src[16]; /* network byte order; IPv4 in the first 4 bytes */
	uint8_t dst[16];
	uint16_t sport, dport; /* host order */
	bool to_server;
	bool established;
	bool stream; /* payload is reassembled stream data (not the raw packet) */
	bool app_only; /* an app-layer transaction: only rules using app buffers run */
	/*
	 * TCP: the stream view (stream bytes) serves tcp and tcp-stream rules; a
	 * second unit with raw_view set carries the segment as sent, for tcp-pkt
	 * rules only. has_raw_view says the caller sends that second unit.
	 */
	bool raw_view, has_raw_view;
	enum pw_sig_app app;
	uint64_t ts_usec;
	const uint8_t *buf[_PW_BUF_MAX];
	size_t len[_PW_BUF_MAX];
	bool has[_PW_BUF_MAX];
	uint32_t pkt_len; /* dsize: the packet's payload size */
	/*
	 * Stream units: PKT starts with this many bytes already inspected (kept so a
	 * pattern split across segments is seen); a match must end past them.
	 */
	uint32_t pkt_seen;
	int icmp_type, icmp_code; /* -1 when not ICMP */
};

/* Per-flow state the engine keeps between units (flowbits, per-direction IP-only firing). */
struct pw_sig_flow {
	uint32_t *bits; /* sorted flowbit ids that are set */
	size_t nbits, capbits;
	uint8_t *iponly_fired; /* bit per rule index per direction, lazily sized */
	size_t iponly_len;
	/*
	 * IP-only rules already evaluated, per direction and unit view (bit
	 * to_client + 2 * raw_view): a flow's header does not change, so they
	 * are evaluated on the first packet unit of each only.
	 */
	uint8_t iponly_done;
};

void pw_sig_flow_reset(struct pw_sig_flow *f);

/* A match the engine reports; the callee may keep pointers into rule for the set's lifetime. */
struct pw_sig_hit {
	const struct pw_sig_rule *rule;
	uint32_t sid, gid, rev;
	enum pw_sig_action action;
	int priority;
	const char *msg;
	const char *class_desc; /* classification description, or "" */
};

typedef void (*pw_sig_hit_fn)(const struct pw_sig_hit *hit, void *ud);

/** Creates an empty rule set with Suricata's default address/port variables. 0 or -ENOMEM. */
int pw_sig_set_new(struct pw_sig_set **out);
/** Frees a set (NULL-safe) and resets *s. */
void pw_sig_set_free(struct pw_sig_set **s);

/** Sets (or replaces) $name; value is a Suricata address or port expression. */
int pw_sig_set_var(struct pw_sig_set *s, const char *name, const char *value);

/**
 * Changes the order actions are applied in (default pass, drop, reject, alert);
 * order lists each action once. 0 or -EINVAL.
 */
int pw_sig_set_action_order(struct pw_sig_set *s,
			    const enum pw_sig_action order[_PW_SIG_ACTION_MAX]);

/** Loads classification.config lines (config classification: name,desc,prio). */
int pw_sig_load_classification(struct pw_sig_set *s, const char *path);

/**
 * Parses one rule line. Returns 1 if it loaded, 0 if it was a comment/blank,
 * -EINVAL (or -EOPNOTSUPP for an unsupported keyword) if it was rejected; the
 * reject is recorded with file, line, sid, keyword and reason.
 */
int pw_sig_add_rule(struct pw_sig_set *s, const char *line, const char *file, int lineno);

/** Loads a .rules file; rejects are recorded, never fatal. Returns loaded count or -errno. */
int pw_sig_load_file(struct pw_sig_set *s, const char *path);

/**
 * pw_sig_drop_policy_load() - turns the alert rules a drop policy file selects
 * (by sid, gid:sid, classtype:, metadata:, re: on msg; see policy.c) into
 * drop rules, like suricata-update's drop.conf. Before pw_sig_compile().
 * Returns how many rules changed, or -errno with "file:line: why" in err.
 */
int pw_sig_drop_policy_load(struct pw_sig_set *s, const char *path, char *err, size_t errlen);
/** One selector line of a drop policy; returns rules changed or -errno (why in err). */
int pw_sig_drop_policy_line(struct pw_sig_set *s, const char *line, char *err, size_t errlen);

/** Builds the prefilter databases. Must be called once after loading, before matching. */
int pw_sig_compile(struct pw_sig_set *s);

size_t pw_sig_rule_count(const struct pw_sig_set *s);

/** Whether any loaded rule uses protocol p (e.g. tcp-pkt, which needs a raw TCP unit). */
bool pw_sig_has_proto(const struct pw_sig_set *s, enum pw_sig_proto p);

struct pw_sig_reject {
	const char *file;
	int line;
	uint32_t sid; /* 0 if unknown */
	const char *keyword; /* offending keyword, or "" */
	const char *reason; /* short reason class, used for tallies */
	const char *detail; /* human-readable message */
};

size_t pw_sig_reject_count(const struct pw_sig_set *s);
const struct pw_sig_reject *pw_sig_reject_get(const struct pw_sig_set *s, size_t i);

/**
 * Runs every rule against one unit. Hits are reported in action order (pass
 * first) and a pass hit stops the others. Returns the number of hits.
 */
int pw_sig_match(struct pw_sig_set *s, const struct pw_sig_input *in, struct pw_sig_flow *f,
		 pw_sig_hit_fn fn, void *ud);

/** Rule accessors for the inspector. */
bool pw_sig_rule_is_app(const struct pw_sig_rule *r); /* uses app-layer buffers or proto */
bool pw_sig_rule_is_iponly(const struct pw_sig_rule *r); /* header only: a verdict for the flow */
bool pw_sig_rule_is_stateless(const struct pw_sig_rule *r); /* flow:stateless: per packet */
size_t pw_sig_rule_index(const struct pw_sig_rule *r);
const char *pw_sig_action_name(enum pw_sig_action a);
