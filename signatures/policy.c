// SPDX-License-Identifier: GPL-2.0-only
/*
 * Drop policies: public rule sets ship nearly every rule as `alert`, so a
 * short file picks the rules an IPS should drop instead, the way
 * suricata-update's drop.conf does. One selector per line:
 *
 *   2019401               a sid (gid 1)
 *   1:2019401             gid:sid
 *   classtype:trojan-activity
 *   metadata:signature_severity Major     (a "key value" pair of the rule's metadata)
 *   re:ET EXPLOIT         a PCRE2 pattern searched in the rule's msg
 *   # comment
 *
 * Only alert rules change; pass, drop and reject rules keep their action.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "internal.h"

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static bool meta_has(const char *meta, const char *pair)
{
	size_t n = strlen(pair);

	for (const char *p = meta; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len == n && !strncmp(p, pair, n))
			return true;
		p = nl ? nl + 1 : NULL;
	}
	return false;
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int pw_sig_drop_policy_line(struct pw_sig_set *s, const char *text, char *err, size_t errlen)
{
	enum { SEL_SID, SEL_CLASS, SEL_META, SEL_RE } kind;
	char buf[1024], *line, *arg = NULL;
	uint32_t gid = 1, sid = 0;
	pcre2_code *re = NULL;
	pcre2_match_data *md = NULL;
	int n = 0;

	if (s->compiled) {
		snprintf(err, errlen, "drop policy applied after the rules were compiled");
		return -EBUSY;
	}
	if (strlen(text) >= sizeof(buf)) {
		snprintf(err, errlen, "line longer than %zu bytes", sizeof(buf) - 1);
		return -EINVAL;
	}
	strcpy(buf, text);
	line = trim(buf);
	if (!*line || *line == '#')
		return 0;
	if (!strncmp(line, "classtype:", 10)) {
		kind = SEL_CLASS;
		arg = trim(line + 10);
	} else if (!strncmp(line, "metadata:", 9)) {
		char *sp;

		kind = SEL_META;
		arg = trim(line + 9);
		/* "key  value" compares as "key value", as the rule parser stores it */
		sp = strpbrk(arg, " \t");
		if (!sp) {
			snprintf(err, errlen, "metadata selector \"%s\": expected \"key value\"", arg);
			return -EINVAL;
		}
		*sp = ' ';
		memmove(sp + 1, trim(sp + 1), strlen(trim(sp + 1)) + 1);
	} else if (!strncmp(line, "re:", 3)) {
		int ec;
		PCRE2_SIZE off;

		kind = SEL_RE;
		arg = trim(line + 3);
		re = pcre2_compile((PCRE2_SPTR)arg, PCRE2_ZERO_TERMINATED, 0, &ec, &off, NULL);
		if (!re) {
			char m[128];

			pcre2_get_error_message(ec, (PCRE2_UCHAR *)m, sizeof(m));
			snprintf(err, errlen, "re selector: %s at offset %zu", m, (size_t)off);
			return -EINVAL;
		}
		md = pcre2_match_data_create_from_pattern(re, NULL);
		if (!md) {
			pcre2_code_free(re);
			return -ENOMEM;
		}
	} else {
		char *colon = strchr(line, ':');

		kind = SEL_SID;
		if (colon) {
			*colon = 0;
			if (parse_u32(line, &gid) || parse_u32(colon + 1, &sid) || !sid) {
				snprintf(err, errlen, "bad gid:sid selector \"%s:%s\"", line,
					 colon + 1);
				return -EINVAL;
			}
		} else if (parse_u32(line, &sid) || !sid) {
			snprintf(err, errlen,
				 "unknown selector \"%s\" (sid, gid:sid, classtype:, metadata:, re:)",
				 line);
			return -EINVAL;
		}
	}
	if (arg && !*arg) {
		snprintf(err, errlen, "empty selector");
		pcre2_match_data_free(md);
		pcre2_code_free(re);
		return -EINVAL;
	}
	for (size_t i = 0; i < s->nrules; i++) {
		struct pw_sig_rule *r = s->rules[i];
		bool hit = false;

		switch (kind) {
		case SEL_SID:
			hit = r->sid == sid && r->gid == gid;
			break;
		case SEL_CLASS:
			hit = r->classtype && !strcmp(r->classtype, arg);
			break;
		case SEL_META:
			hit = meta_has(r->metadata, arg);
			break;
		case SEL_RE:
			hit = r->msg && pcre2_match(re, (PCRE2_SPTR)r->msg, PCRE2_ZERO_TERMINATED, 0,
						    0, md, NULL) >= 0;
			break;
		}
		if (hit && r->action == PW_SIG_ALERT) {
			r->action = PW_SIG_DROP;
			n++;
		}
	}
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return n;
}

int pw_sig_drop_policy_load(struct pw_sig_set *s, const char *path, char *err, size_t errlen)
{
	char line[1100], msg[256];
	int lineno = 0, total = 0, rc;
	FILE *f = fopen(path, "r");

	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\n")] = 0;
		rc = pw_sig_drop_policy_line(s, line, msg, sizeof(msg));
		if (rc < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
			fclose(f);
			return rc;
		}
		total += rc;
	}
	fclose(f);
	return total;
}
