/* SPDX-License-Identifier: GPL-2.0-only */
/* Inspector internals: flows, streams and the app-layer parsers' state. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "sig.h"

#define DIR_TS 0 /* to server */
#define DIR_TC 1 /* to client */

struct seg {
	struct seg *next;
	uint32_t seq, len;
	uint8_t data[];
};

struct stream {
	bool init, gap, fin;
	uint32_t next;
	struct seg *q;
	size_t qbytes;
	uint64_t delivered;
};

/* Growable byte buffer. */
struct bbuf {
	uint8_t *p;
	size_t len, cap;
};

int bbuf_put(struct bbuf *b, const void *d, size_t n);
void bbuf_consume(struct bbuf *b, size_t n);
void bbuf_free(struct bbuf *b);

/* Reassembly: appends new in-order bytes of the segment to out. Returns -1 on a gap. */
int stream_segment(struct stream *s, uint32_t seq, const uint8_t *d, size_t n, struct bbuf *out);
void stream_free(struct stream *s);

/* One HTTP message's buffers, owned. */
struct http_msg {
	uint8_t *b[_PW_BUF_MAX];
	size_t l[_PW_BUF_MAX];
	bool head; /* a HEAD request: its response has no body */
	int status;
	uint64_t body_len;
	uint8_t *raw; /* the message as sent (head and body): the stream rules' payload */
	size_t rawlen;
	struct http_msg *next;
	uint64_t tx_id;
};

struct http_state {
	struct bbuf in[2];
	bool broken[2];
	struct http_msg *pending; /* requests waiting for their response, oldest first */
	struct http_msg *last_req, *last_resp; /* the last complete transaction, for eve */
	int cur_status; /* status of a response whose body is still arriving */
	uint64_t next_tx;
};

/* What one app-layer unit carries, besides the rule buffers. */
struct app_unit {
	int dir;
	uint64_t tx_id;
	const uint8_t *buf[_PW_BUF_MAX];
	size_t len[_PW_BUF_MAX];
	bool has[_PW_BUF_MAX];
	const struct http_msg *req, *resp;
	int status; /* a response still arriving, for eve */
	char sni[256];
	char qname[256];
	int qtype;
};

struct flow;
typedef void (*app_emit_fn)(struct flow *f, struct app_unit *u, void *ctx);

struct flow {
	struct flow *hnext, *lru_prev, *lru_next;
	uint8_t family, proto;
	uint8_t caddr[16], saddr[16]; /* client, server */
	uint16_t cport, sport;
	uint64_t id;
	uint64_t start_usec, last_usec;
	uint64_t pkts[2], bytes[2];
	bool syn, synack, established, midstream_pickup, seen[2];
	bool dropped, passed;
	struct stream st[2];
	struct bbuf tail[2]; /* the last stream bytes inspected, per direction */
	enum pw_sig_app app;
	struct http_state http;
	struct bbuf tls_in, dns_in[2];
	bool tls_done, app_checked[2];
	uint64_t tx_base; /* tx ids of TLS/DNS units */
	struct pw_sig_flow sf;
	uint32_t *tx_sids; /* (tx, sid) alerted, to fire once per transaction */
	size_t ntx_sids, captx_sids;
	void *ndpi_flow;
	uint32_t ndpi_pkts;
	bool ndpi_done;
	char ndpi_name[64];
};

void app_data(struct flow *f, int dir, const uint8_t *d, size_t n, app_emit_fn emit, void *ctx);
void app_udp(struct flow *f, int dir, const uint8_t *d, size_t n, app_emit_fn emit, void *ctx);
void app_flush(struct flow *f, app_emit_fn emit, void *ctx);
void app_free(struct flow *f);
const char *app_name(enum pw_sig_app a);

/* nDPI (dpi.c) */
struct dpi;
int dpi_new(struct dpi **out);
void dpi_free(struct dpi **d);
void dpi_packet(struct dpi *d, struct flow *f, const uint8_t *l3, size_t len, uint64_t usec);
void dpi_flow_end(struct dpi *d, struct flow *f);
