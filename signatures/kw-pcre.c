// SPDX-License-Identifier: GPL-2.0-only
/* pcre:"/re/flags" through PCRE2 with JIT; legacy flags pick the buffer. */
#include <errno.h>
#include <string.h>

#include "internal.h"

static const struct {
	char flag;
	enum pw_sig_buf buf;
} buf_flags[] = {
	{ 'U', PW_BUF_HTTP_URI },	{ 'I', PW_BUF_HTTP_URI_RAW },
	{ 'P', PW_BUF_HTTP_REQ_BODY },	{ 'Q', PW_BUF_FILE_DATA },
	{ 'H', PW_BUF_HTTP_HEADER },	{ 'D', PW_BUF_HTTP_HEADER_RAW },
	{ 'M', PW_BUF_HTTP_METHOD },	{ 'C', PW_BUF_HTTP_COOKIE },
	{ 'S', PW_BUF_HTTP_STAT_CODE }, { 'Y', PW_BUF_HTTP_STAT_MSG },
	{ 'V', PW_BUF_HTTP_UA },	{ 'W', PW_BUF_HTTP_HOST },
	{ 'Z', PW_BUF_HTTP_HOST_RAW },
};

static int kw_pcre(struct kw_ctx *ctx, const char *name, char *v)
{
	uint32_t opts = 0;
	bool neg = false, rel = false;
	enum pw_sig_buf buf = ctx->r->cur_buf;
	char *re, *end;
	pcre2_code *code;
	int errcode;
	PCRE2_SIZE erroff;
	struct sm *m;
	size_t vl;

	(void)name;
	if (*v == '!') {
		neg = true;
		v++;
	}
	vl = strlen(v);
	/* Quotes are customary, not required: pcre:/x/U; is accepted too. */
	if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
		v[vl - 1] = 0;
		v++;
	} else if (v[0] == '"') {
		return kw_fail(ctx, -EINVAL, "bad pcre", "pcre value has an unbalanced quote");
	}
	if (*v != '/')
		return kw_fail(ctx, -EINVAL, "bad pcre", "pcre must look like \"/re/flags\"");
	re = v + 1;
	end = strrchr(re, '/');
	if (!end)
		return kw_fail(ctx, -EINVAL, "bad pcre", "pcre has no closing '/'");
	*end = 0;
	for (char *f = end + 1; *f; f++) {
		bool known = true;

		switch (*f) {
		case 'i':
			opts |= PCRE2_CASELESS;
			break;
		case 's':
			opts |= PCRE2_DOTALL;
			break;
		case 'm':
			opts |= PCRE2_MULTILINE;
			break;
		case 'x':
			opts |= PCRE2_EXTENDED;
			break;
		case 'A':
			opts |= PCRE2_ANCHORED;
			break;
		case 'E':
			opts |= PCRE2_DOLLAR_ENDONLY;
			break;
		case 'G':
			opts |= PCRE2_UNGREEDY;
			break;
		case 'R':
			rel = true;
			break;
		case 'B':
		case 'O':
			break;
		default:
			known = false;
			for (size_t i = 0; i < sizeof(buf_flags) / sizeof(buf_flags[0]); i++)
				if (buf_flags[i].flag == *f) {
					buf = buf_flags[i].buf;
					known = true;
				}
		}
		if (!known)
			return kw_fail(ctx, -EINVAL, "bad pcre", "unknown pcre flag '%c'", *f);
	}
	code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, opts, &errcode, &erroff, NULL);
	if (!code) {
		PCRE2_UCHAR msg[128];

		pcre2_get_error_message(errcode, msg, sizeof(msg));
		return kw_fail(ctx, -EINVAL, "bad pcre", "pcre at offset %zu: %s", (size_t)erroff,
			       (char *)msg);
	}
	/* JIT is an optimisation: a failure leaves the interpreter, which still matches. */
	pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	m = kw_new_sm(ctx, SM_PCRE);
	if (!m) {
		pcre2_code_free(code);
		return -ENOMEM;
	}
	m->p.re = code;
	m->p.md = pcre2_match_data_create_from_pattern(code, NULL);
	m->buf = buf;
	m->negated = neg;
	m->relative = rel;
	if (buf == ctx->r->cur_buf)
		kw_relative_buf(ctx, m);
	if (!m->p.md)
		return -ENOMEM;
	ctx->r->last_content = m - ctx->r->sms;
	return 0;
}

const struct kw_def pw_kw_pcre[] = {
	{ "pcre", kw_pcre, true },
	{ 0 },
};
