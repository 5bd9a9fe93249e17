// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: drop policies (signatures/policy.c). Each input line is one
 * selector applied to a small fixed rule set; the set is compiled and
 * matched afterwards, so a selector that corrupted a rule would show.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sig.h"

static const char *const rules[] = {
	"alert tcp any any -> any any (msg:\"a\"; content:\"x\"; classtype:trojan-activity; "
	"metadata:signature_severity Major, deployment Perimeter; sid:1; rev:1;)",
	"alert http any any -> any any (msg:\"ET b\"; http.uri; content:\"/y\"; gid:3; sid:2;)",
	"pass udp any any -> any 53 (msg:\"c\"; sid:3;)",
};

static void on_hit(const struct pw_sig_hit *h, void *ud)
{
	(*(int *)ud) += h->action == PW_SIG_DROP;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pw_sig_input in = { .family = AF_INET, .l4proto = IPPROTO_TCP, .to_server = true,
				   .established = true, .stream = true, .icmp_type = -1,
				   .icmp_code = -1 };
	struct pw_sig_flow flow = { 0 };
	struct pw_sig_set *s = NULL;
	char *text, *line, *save = NULL, err[256];
	int hits = 0;

	if (size > 1 << 16 || pw_sig_set_new(&s))
		return 0;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		pw_sig_add_rule(s, rules[i], "fuzz", (int)i + 1);
	text = malloc(size + 1);
	if (!text) {
		pw_sig_set_free(&s);
		return 0;
	}
	memcpy(text, data, size);
	text[size] = 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		pw_sig_drop_policy_line(s, line, err, sizeof(err));
	if (!pw_sig_compile(s)) {
		in.buf[PW_BUF_PKT] = (const uint8_t *)"x";
		in.len[PW_BUF_PKT] = 1;
		in.has[PW_BUF_PKT] = true;
		in.pkt_len = 1;
		pw_sig_match(s, &in, &flow, on_hit, &hits);
	}
	pw_sig_flow_reset(&flow);
	free(text);
	pw_sig_set_free(&s);
	return 0;
}
