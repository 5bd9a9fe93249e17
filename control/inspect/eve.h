/* SPDX-License-Identifier: GPL-2.0-only */
/* eve.json alert records. */
#pragma once

#include <jansson.h>

#include "flow.h"

struct eve_ctx {
	const struct pw_sig_input *in;
	const struct flow *flow; /* NULL for packets outside any flow */
	const struct app_unit *unit; /* the app-layer transaction, or NULL */
	uint64_t pcap_cnt;
	const char *iface;
};

/** Builds one alert record; the caller owns the returned reference. */
json_t *eve_alert(const struct eve_ctx *e, const struct pw_sig_hit *hit, bool blocked);
