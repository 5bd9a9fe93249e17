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

struct pw_inspect_opts {
	const char *eve_path; /* NULL: no eve output */
	const char *iface; /* in_iface of the records; NULL: omitted */
	bool simulate_ips; /* drop/reject rules block the flow */
	bool midstream; /* treat TCP flows picked up without a handshake as established */
	size_t max_flows; /* flow table bound; 0: default */
	size_t stream_depth; /* bytes per direction given to the app parsers; 0: default */
	bool ndpi; /* classify flows with nDPI */
	unsigned int alerts_per_packet; /* alerts logged per packet or transaction; 0: 15 */
	void (*on_flow_end)(const struct pw_inspect_flow_info *fi, void *ud);
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
