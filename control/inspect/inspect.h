/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The offline inspector: reads a pcap, tracks flows (both directions), reassembles
 * TCP in order, parses HTTP/1, TLS ClientHello SNI and DNS queries into the rule
 * buffers, classifies flows with nDPI and runs the signature engine; alerts go
 * to an eve.json file.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "sig.h"

/* A flow as the inspector saw it, reported when it ends (evicted or end of capture). */
struct pw_inspect_flow_info {
	uint8_t family, proto;
	const uint8_t *client, *server; /* 16 bytes each; IPv4 in the first 4 */
	uint16_t cport, sport;
	uint64_t pkts[2], bytes[2]; /* [0] to server, [1] to client */
	const char *app; /* podwall's parsers: "http", "tls", "dns", "failed" or NULL */
	const char *ndpi; /* nDPI's protocol name ("TLS.Google"), or "" */
};

/* An alert as the on_alert hook sees it (before its eve record is written). */
struct pw_inspect_alert {
	const struct pw_sig_hit *hit;
	bool blocking; /* a drop/reject rule with simulate_ips: the flow is blocked from here on */
	bool stateless; /* ... only this packet (flow:stateless) */
	uint8_t family, proto; /* AF_INET/AF_INET6, IPPROTO_* */
	const uint8_t *src, *dst; /* the matched unit's addresses, 16 bytes each */
	uint16_t sport, dport; /* host order */
	bool to_server;
	uint64_t ts_usec;
};

struct pw_inspect_opts {
	const char *eve_path; /* NULL: no eve output */
	FILE *eve_file; /* instead of eve_path: append to this stream (the caller closes it) */
	const char *iface; /* in_iface of the records; NULL: omitted */
	bool simulate_ips; /* drop/reject rules block the flow */
	bool midstream; /* treat TCP flows picked up without a handshake as established */
	size_t max_flows; /* flow table bound; 0: default */
	size_t stream_depth; /* bytes per direction given to the app parsers; 0: default */
	bool ndpi; /* classify flows with nDPI */
	unsigned int alerts_per_packet; /* alerts logged per packet or transaction; 0: 15 */
	void (*on_flow_end)(const struct pw_inspect_flow_info *fi, void *ud);
	/*
	 * Every logged alert, and every blocking one even past alerts_per_packet
	 * (rec NULL then). The hook may add members to rec before it is written.
	 */
	void (*on_alert)(const struct pw_inspect_alert *a, json_t *rec, void *ud);
	void *ud;
};

struct pw_inspect_stats {
	uint64_t packets, bytes, decode_errors;
	uint64_t flows, flows_evicted;
	uint64_t alerts, blocked_packets;
	uint64_t stream_gaps, http_tx, tls_sni, dns_queries;
};

/** Runs pcap_path through the inspector and the (compiled) rule set s. 0 or -errno. */
int pw_inspect_pcap(struct pw_sig_set *s, const char *pcap_path, const struct pw_inspect_opts *o,
		    struct pw_inspect_stats *st);

/*
 * The same inspector fed one packet at a time (podwalld's live path). It
 * keeps its own copy of o; st (may be NULL) is zeroed and kept up to date.
 */
struct pw_inspector;

/** 0 and *out, or -errno. */
int pw_inspector_new(struct pw_inspector **out, struct pw_sig_set *s,
		     const struct pw_inspect_opts *o, struct pw_inspect_stats *st);
/**
 * One packet of link type dlt (DLT_*) seen at ts_usec (Unix time). Returns 1
 * if the packet or its flow is blocked (simulate_ips), 0 if not, -EINVAL if
 * it did not decode.
 */
int pw_inspector_packet(struct pw_inspector *x, int dlt, const uint8_t *d, size_t caplen,
			uint64_t ts_usec);
/** Ends the flows idle for idle_usec at now_usec (on_flow_end runs); returns how many. */
size_t pw_inspector_expire(struct pw_inspector *x, uint64_t now_usec, uint64_t idle_usec);
size_t pw_inspector_flow_count(const struct pw_inspector *x);
/** Ends every flow, then frees. NULL-safe; resets *x. */
void pw_inspector_free(struct pw_inspector **x);
