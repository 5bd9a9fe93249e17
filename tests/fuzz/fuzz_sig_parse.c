// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: the rule parser. Each input line is one rule; the rules that
 * load are compiled into the prefilter and matched against the input itself as
 * a packet payload and as every app-layer buffer, so the matcher is fuzzed too.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sig.h"

static void on_hit(const struct pw_sig_hit *h, void *ud)
{
	(*(int *)ud) += h->sid != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pw_sig_input in = { .family = AF_INET,
				   .l4proto = IPPROTO_TCP,
				   .to_server = true,
				   .established = true,
				   .icmp_type = -1,
				   .icmp_code = -1 };
	struct pw_sig_flow flow = { 0 };
	struct pw_sig_set *s = NULL;
	char *text, *line, *save = NULL;
	int hits = 0;

	if (size > 1 << 16 || pw_sig_set_new(&s))
		return 0;
	text = malloc(size + 1);
	if (!text) {
		pw_sig_set_free(&s);
		return 0;
	}
	memcpy(text, data, size);
	text[size] = 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		pw_sig_add_rule(s, line, "fuzz", 1);
	if (!pw_sig_compile(s)) {
		for (int b = 0; b < _PW_BUF_MAX; b++) {
			in.buf[b] = data;
			in.len[b] = size;
			in.has[b] = true;
		}
		in.pkt_len = size;
		pw_sig_match(s, &in, &flow, on_hit, &hits);
		in.app_only = true;
		in.app = PW_APP_HTTP;
		pw_sig_match(s, &in, &flow, on_hit, &hits);
	}
	pw_sig_flow_reset(&flow);
	free(text);
	pw_sig_set_free(&s);
	return 0;
}
