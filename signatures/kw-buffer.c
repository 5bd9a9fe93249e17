// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sticky buffers (http.uri; content:...) and their legacy modifier forms
 * (content:...; http_uri;), which move the previous content to the buffer.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static const struct {
	const char *name;
	enum pw_sig_buf buf;
	bool legacy; /* a modifier of the previous content, not a sticky buffer */
} buffers[] = {
	{ "pkt_data", PW_BUF_PKT, false },
	{ "http.uri", PW_BUF_HTTP_URI, false },
	{ "http_uri", PW_BUF_HTTP_URI, true },
	{ "http.uri.raw", PW_BUF_HTTP_URI_RAW, false },
	{ "http_raw_uri", PW_BUF_HTTP_URI_RAW, true },
	{ "http.method", PW_BUF_HTTP_METHOD, false },
	{ "http_method", PW_BUF_HTTP_METHOD, true },
	{ "http.host", PW_BUF_HTTP_HOST, false },
	{ "http_host", PW_BUF_HTTP_HOST, true },
	{ "http.host.raw", PW_BUF_HTTP_HOST_RAW, false },
	{ "http_raw_host", PW_BUF_HTTP_HOST_RAW, true },
	{ "http.user_agent", PW_BUF_HTTP_UA, false },
	{ "http_user_agent", PW_BUF_HTTP_UA, true },
	{ "http.header", PW_BUF_HTTP_HEADER, false },
	{ "http_header", PW_BUF_HTTP_HEADER, true },
	{ "http.header.raw", PW_BUF_HTTP_HEADER_RAW, false },
	{ "http_raw_header", PW_BUF_HTTP_HEADER_RAW, true },
	{ "http.header_names", PW_BUF_HTTP_HEADER_NAMES, false },
	{ "http.cookie", PW_BUF_HTTP_COOKIE, false },
	{ "http_cookie", PW_BUF_HTTP_COOKIE, true },
	{ "http.request_line", PW_BUF_HTTP_REQUEST_LINE, false },
	{ "http_request_line", PW_BUF_HTTP_REQUEST_LINE, false },
	{ "http.request_body", PW_BUF_HTTP_REQ_BODY, false },
	{ "http_client_body", PW_BUF_HTTP_REQ_BODY, true },
	{ "http.content_type", PW_BUF_HTTP_CONTENT_TYPE, false },
	{ "http_content_type", PW_BUF_HTTP_CONTENT_TYPE, false },
	{ "http.content_len", PW_BUF_HTTP_CONTENT_LEN, false },
	{ "http.referer", PW_BUF_HTTP_REFERER, false },
	{ "http.accept", PW_BUF_HTTP_ACCEPT, false },
	{ "http.accept_enc", PW_BUF_HTTP_ACCEPT_ENC, false },
	{ "http.accept_lang", PW_BUF_HTTP_ACCEPT_LANG, false },
	{ "http.connection", PW_BUF_HTTP_CONNECTION, false },
	{ "http.protocol", PW_BUF_HTTP_PROTOCOL, false },
	{ "http.start", PW_BUF_HTTP_START, false },
	{ "http.stat_code", PW_BUF_HTTP_STAT_CODE, false },
	{ "http_stat_code", PW_BUF_HTTP_STAT_CODE, true },
	{ "http.stat_msg", PW_BUF_HTTP_STAT_MSG, false },
	{ "http_stat_msg", PW_BUF_HTTP_STAT_MSG, true },
	{ "http.response_line", PW_BUF_HTTP_RESPONSE_LINE, false },
	{ "http.location", PW_BUF_HTTP_LOCATION, false },
	{ "http.server", PW_BUF_HTTP_SERVER, false },
	{ "http.response_body", PW_BUF_HTTP_RESP_BODY, false },
	{ "http_server_body", PW_BUF_HTTP_RESP_BODY, true },
	{ "file.data", PW_BUF_FILE_DATA, false },
	{ "file_data", PW_BUF_FILE_DATA, false },
	{ "dns.query", PW_BUF_DNS_QUERY, false },
	{ "dns_query", PW_BUF_DNS_QUERY, false },
	{ "tls.sni", PW_BUF_TLS_SNI, false },
	{ "tls_sni", PW_BUF_TLS_SNI, false },
};

static int kw_buffer(struct kw_ctx *ctx, const char *name, char *v)
{
	struct pw_sig_rule *r = ctx->r;

	if (v)
		return kw_fail(ctx, -EINVAL, "bad value", "%s takes no value", name);
	for (size_t i = 0; i < sizeof(buffers) / sizeof(buffers[0]); i++) {
		if (strcmp(buffers[i].name, name))
			continue;
		if (buffers[i].legacy) {
			struct sm *m = kw_last_content(ctx);

			if (!m)
				return kw_fail(ctx, -EINVAL, "modifier without content",
					       "%s must follow a content", name);
			if (m->buf != PW_BUF_PKT && m->buf != buffers[i].buf)
				return kw_fail(ctx, -EINVAL, "conflicting buffers",
					       "%s: the content is already in another buffer",
					       name);
			m->buf = buffers[i].buf;
		} else {
			r->cur_buf = buffers[i].buf;
			r->last_content = -1; /* relative keywords start over in the new buffer */
		}
		return 0;
	}
	return kw_fail(ctx, -EOPNOTSUPP, "unsupported keyword", "buffer %s is unknown", name);
}

/* A transform: the buffer is inspected with a '.' in front (dns.query; dotprefix;). */
static int kw_dotprefix(struct kw_ctx *ctx, const char *name, char *v)
{
	(void)name;
	(void)v;
	if (ctx->r->cur_buf == PW_BUF_PKT)
		return kw_fail(ctx, -EINVAL, "transform without buffer",
			       "dotprefix needs a sticky buffer");
	ctx->r->dotprefix_mask |= 1u << ctx->r->cur_buf;
	return 0;
}

const struct kw_def pw_kw_buffer[] = {
	{ "dotprefix", kw_dotprefix, false },
	{ "pkt_data", kw_buffer, false },
	{ "http.uri", kw_buffer, false },
	{ "http_uri", kw_buffer, false },
	{ "http.uri.raw", kw_buffer, false },
	{ "http_raw_uri", kw_buffer, false },
	{ "http.method", kw_buffer, false },
	{ "http_method", kw_buffer, false },
	{ "http.host", kw_buffer, false },
	{ "http_host", kw_buffer, false },
	{ "http.host.raw", kw_buffer, false },
	{ "http_raw_host", kw_buffer, false },
	{ "http.user_agent", kw_buffer, false },
	{ "http_user_agent", kw_buffer, false },
	{ "http.header", kw_buffer, false },
	{ "http_header", kw_buffer, false },
	{ "http.header.raw", kw_buffer, false },
	{ "http_raw_header", kw_buffer, false },
	{ "http.header_names", kw_buffer, false },
	{ "http.cookie", kw_buffer, false },
	{ "http_cookie", kw_buffer, false },
	{ "http.request_line", kw_buffer, false },
	{ "http_request_line", kw_buffer, false },
	{ "http.request_body", kw_buffer, false },
	{ "http_client_body", kw_buffer, false },
	{ "http.content_type", kw_buffer, false },
	{ "http_content_type", kw_buffer, false },
	{ "http.content_len", kw_buffer, false },
	{ "http.referer", kw_buffer, false },
	{ "http.accept", kw_buffer, false },
	{ "http.accept_enc", kw_buffer, false },
	{ "http.accept_lang", kw_buffer, false },
	{ "http.connection", kw_buffer, false },
	{ "http.protocol", kw_buffer, false },
	{ "http.start", kw_buffer, false },
	{ "http.stat_code", kw_buffer, false },
	{ "http_stat_code", kw_buffer, false },
	{ "http.stat_msg", kw_buffer, false },
	{ "http_stat_msg", kw_buffer, false },
	{ "http.response_line", kw_buffer, false },
	{ "http.location", kw_buffer, false },
	{ "http.server", kw_buffer, false },
	{ "http.response_body", kw_buffer, false },
	{ "http_server_body", kw_buffer, false },
	{ "file.data", kw_buffer, false },
	{ "file_data", kw_buffer, false },
	{ "dns.query", kw_buffer, false },
	{ "dns_query", kw_buffer, false },
	{ "tls.sni", kw_buffer, false },
	{ "tls_sni", kw_buffer, false },
	{ 0 },
};
