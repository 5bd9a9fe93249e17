// SPDX-License-Identifier: GPL-2.0-only
/* eve.json alert records, shaped like Suricata's (one JSON object per line). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "eve.h"

static json_t *str_n(const uint8_t *p, size_t n)
{
	return json_stringn_nocheck((const char *)p, n);
}

static void ts_str(uint64_t usec, char *out, size_t sz)
{
	time_t t = usec / 1000000;
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, sz, "%04d-%02d-%02dT%02d:%02d:%02d.%06u+0000", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned int)(usec % 1000000));
}

static const char *proto_str(uint8_t p, char *tmp)
{
	switch (p) {
	case IPPROTO_TCP:
		return "TCP";
	case IPPROTO_UDP:
		return "UDP";
	case IPPROTO_ICMP:
		return "ICMP";
	case IPPROTO_ICMPV6:
		return "IPv6-ICMP";
	case IPPROTO_SCTP:
		return "SCTP";
	case IPPROTO_IPIP:
		return "IP-in-IP";
	case IPPROTO_GRE:
		return "GRE";
	default:
		sprintf(tmp, "%03u", p);
		return tmp;
	}
}

static void add_http(json_t *o, const struct app_unit *u)
{
	json_t *h = json_object();
	const struct http_msg *q = u->req, *r = u->resp;

	if (q && q->b[PW_BUF_HTTP_HOST])
		json_object_set_new(h, "hostname",
				    str_n(q->b[PW_BUF_HTTP_HOST], q->l[PW_BUF_HTTP_HOST]));
	if (q && q->b[PW_BUF_HTTP_URI_RAW])
		json_object_set_new(h, "url",
				    str_n(q->b[PW_BUF_HTTP_URI_RAW], q->l[PW_BUF_HTTP_URI_RAW]));
	if (q && q->b[PW_BUF_HTTP_UA])
		json_object_set_new(h, "http_user_agent",
				    str_n(q->b[PW_BUF_HTTP_UA], q->l[PW_BUF_HTTP_UA]));
	if (r && r->b[PW_BUF_HTTP_CONTENT_TYPE])
		json_object_set_new(h, "http_content_type",
				    str_n(r->b[PW_BUF_HTTP_CONTENT_TYPE],
					  r->l[PW_BUF_HTTP_CONTENT_TYPE]));
	if (q && q->b[PW_BUF_HTTP_METHOD])
		json_object_set_new(h, "http_method",
				    str_n(q->b[PW_BUF_HTTP_METHOD], q->l[PW_BUF_HTTP_METHOD]));
	if (q && q->b[PW_BUF_HTTP_PROTOCOL])
		json_object_set_new(h, "protocol",
				    str_n(q->b[PW_BUF_HTTP_PROTOCOL], q->l[PW_BUF_HTTP_PROTOCOL]));
	if (r && r->status)
		json_object_set_new(h, "status", json_integer(r->status));
	else if (u->status)
		json_object_set_new(h, "status", json_integer(u->status));
	if (r)
		json_object_set_new(h, "length", json_integer(r->body_len));
	json_object_set_new(o, "http", h);
}

json_t *eve_alert(const struct eve_ctx *e, const struct pw_sig_hit *hit, bool blocked)
{
	char ts[64], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], tmp[8];
	const struct pw_sig_input *in = e->in;
	const struct flow *f = e->flow;
	json_t *o = json_object(), *a;
	const char *app = f ? app_name(f->app) : NULL;

	ts_str(in->ts_usec, ts, sizeof(ts));
	inet_ntop(in->family, in->src, src, sizeof(src));
	inet_ntop(in->family, in->dst, dst, sizeof(dst));
	json_object_set_new(o, "timestamp", json_string(ts));
	if (f)
		json_object_set_new(o, "flow_id", json_integer(f->id & 0x7fffffffffffffffULL));
	if (e->iface)
		json_object_set_new(o, "in_iface", json_string(e->iface));
	json_object_set_new(o, "pcap_cnt", json_integer(e->pcap_cnt));
	json_object_set_new(o, "event_type", json_string("alert"));
	json_object_set_new(o, "src_ip", json_string(src));
	if (in->l4proto == IPPROTO_TCP || in->l4proto == IPPROTO_UDP ||
	    in->l4proto == IPPROTO_SCTP) {
		json_object_set_new(o, "src_port", json_integer(in->sport));
		json_object_set_new(o, "dest_ip", json_string(dst));
		json_object_set_new(o, "dest_port", json_integer(in->dport));
	} else {
		json_object_set_new(o, "dest_ip", json_string(dst));
	}
	json_object_set_new(o, "proto", json_string(proto_str(in->l4proto, tmp)));
	json_object_set_new(o, "ip_v", json_integer(in->family == AF_INET ? 4 : 6));
	json_object_set_new(o, "pkt_src", json_string("wire/pcap"));
	if (in->l4proto == IPPROTO_ICMP || in->l4proto == IPPROTO_ICMPV6) {
		json_object_set_new(o, "icmp_type", json_integer(in->icmp_type));
		json_object_set_new(o, "icmp_code", json_integer(in->icmp_code));
	}
	if (e->unit)
		json_object_set_new(o, "tx_id", json_integer(e->unit->tx_id));
	json_object_set_new(o, "direction", json_string(in->to_server ? "to_server" : "to_client"));
	a = json_object();
	json_object_set_new(a, "action", json_string(blocked ? "blocked" : "allowed"));
	json_object_set_new(a, "gid", json_integer(hit->gid));
	json_object_set_new(a, "signature_id", json_integer(hit->sid));
	json_object_set_new(a, "rev", json_integer(hit->rev));
	json_object_set_new(a, "signature", json_string(hit->msg));
	json_object_set_new(a, "category", json_string(hit->class_desc));
	json_object_set_new(a, "severity", json_integer(hit->priority));
	json_object_set_new(o, "alert", a);
	if (app)
		json_object_set_new(o, "app_proto", json_string(app));
	else if (f && f->ndpi_name[0])
		json_object_set_new(o, "app_proto", json_string(f->ndpi_name));
	if (f && f->ndpi_name[0])
		json_object_set_new(o, "app_proto_ndpi", json_string(f->ndpi_name));
	if (e->unit && (e->unit->req || e->unit->resp))
		add_http(o, e->unit);
	if (e->unit && e->unit->has[PW_BUF_TLS_SNI])
		json_object_set_new(o, "tls", json_pack("{s:s}", "sni", e->unit->sni));
	if (e->unit && e->unit->qtype >= 0)
		json_object_set_new(o, "dns",
				    json_pack("{s:[{s:s,s:i}]}", "query", "rrname", e->unit->qname,
					      "rrtype", e->unit->qtype));
	if (f) {
		char start[64];

		ts_str(f->start_usec, start, sizeof(start));
		json_object_set_new(o, "flow",
				    json_pack("{s:I,s:I,s:I,s:I,s:s}", "pkts_toserver",
					      (json_int_t)f->pkts[DIR_TS], "pkts_toclient",
					      (json_int_t)f->pkts[DIR_TC], "bytes_toserver",
					      (json_int_t)f->bytes[DIR_TS], "bytes_toclient",
					      (json_int_t)f->bytes[DIR_TC], "start", start));
	}
	/* The pod is unknown offline; the live daemon fills namespace and name. */
	json_object_set_new(o, "podwall",
			    json_pack("{s:n,s:n,s:s}", "namespace", "name", "direction",
				      in->to_server ? "to_server" : "to_client"));
	return o;
}
