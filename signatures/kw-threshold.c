// SPDX-License-Identifier: GPL-2.0-only
/* threshold and detection_filter: rate conditions on a rule's matches. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int kw_threshold(struct kw_ctx *ctx, const char *name, char *v)
{
	bool df = !strcmp(name, "detection_filter");
	struct thr t = { .type = df ? THR_DETECTION_FILTER : THR_NONE, .track = TRACK_SRC };
	bool have_track = false, have_count = false, have_seconds = false;
	char *save = NULL;

	if (ctx->r->thr.type != THR_NONE)
		return kw_fail(ctx, -EINVAL, "conflicting modifiers",
			       "only one threshold/detection_filter per rule");
	for (char *o = strtok_r(v, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		char key[32], val[32];

		if (sscanf(o, " %31s %31s", key, val) != 2)
			return kw_fail(ctx, -EINVAL, "bad value", "%s: bad option \"%s\"", name, o);
		if (!strcmp(key, "type") && !df) {
			if (!strcmp(val, "limit"))
				t.type = THR_LIMIT;
			else if (!strcmp(val, "threshold"))
				t.type = THR_THRESHOLD;
			else if (!strcmp(val, "both"))
				t.type = THR_BOTH;
			else
				return kw_fail(ctx, -EINVAL, "bad value", "%s: bad type %s", name,
					       val);
		} else if (!strcmp(key, "track")) {
			have_track = true;
			if (!strcmp(val, "by_src"))
				t.track = TRACK_SRC;
			else if (!strcmp(val, "by_dst"))
				t.track = TRACK_DST;
			else if (!strcmp(val, "by_rule"))
				t.track = TRACK_RULE;
			else if (!strcmp(val, "by_both"))
				t.track = TRACK_BOTH;
			else
				return kw_fail(ctx, -EINVAL, "bad value", "%s: bad track %s", name,
					       val);
		} else if (!strcmp(key, "count") || !strcmp(key, "seconds")) {
			char *end;
			unsigned long n = strtoul(val, &end, 10);

			if (*end || !n)
				return kw_fail(ctx, -EINVAL, "bad value", "%s: bad %s %s", name,
					       key, val);
			if (key[0] == 'c') {
				t.count = n;
				have_count = true;
			} else {
				t.seconds = n;
				have_seconds = true;
			}
		} else {
			return kw_fail(ctx, -EINVAL, "bad value", "%s: unknown option %s", name,
				       key);
		}
	}
	if (t.type == THR_NONE || !have_track || !have_count || !have_seconds)
		return kw_fail(ctx, -EINVAL, "missing value",
			       "%s needs %stype, track, count, seconds", name, df ? "" : "");
	ctx->r->thr = t;
	return 0;
}

const struct kw_def pw_kw_threshold[] = {
	{ "threshold", kw_threshold, true },
	{ "detection_filter", kw_threshold, true },
	{ 0 },
};
