// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the DoS value parsers (rates, bandwidths, durations,
 * counts: flags, --dos-config, the API, annotations) and the pod-limit
 * annotations. The input's lines are the values, in the order of the
 * annotations. Any input must give either values of at least 1 or -EINVAL
 * with a message (naming the annotation), the output untouched; never a
 * crash.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dos.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef int (*parse_fn)(const char *, __u64 *, char *, size_t);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const parse_fn fns[] = {pw_dos_parse_pps, pw_dos_parse_bandwidth,
				       pw_dos_parse_duration, pw_dos_parse_count};
	const char *ann[_PW_POD_ANN_MAX] = {};
	struct pw_pod_limits l, before;
	char *text = strndup((const char *)data, size), *line, *save = NULL, err[160];
	size_t i;
	int n = 0, r;

	if (!text)
		return 0;
	for (line = strtok_r(text, "\n", &save); line && n < _PW_POD_ANN_MAX;
	     line = strtok_r(NULL, "\n", &save))
		ann[n++] = line;

	for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		__u64 v = 12345;

		err[0] = '\0';
		r = fns[i](ann[0] ?: "", &v, err, sizeof(err));
		assert(r == 0 || r == -EINVAL);
		assert(r ? v == 12345 && err[0] : v >= 1);
	}

	memset(&l, 0xa5, sizeof(l));
	before = l;
	err[0] = '\0';
	r = pw_dos_pod_limits_parse(&l, ann, err, sizeof(err));
	assert(r == 0 || r == -EINVAL);
	if (r) {
		assert(!memcmp(&l, &before, sizeof(l)));
		assert(strstr(err, "kubernetes.io/") || strstr(err, "podwall.io/"));
	} else {
		for (i = 0; i < PW_DIR_COUNT; i++) {
			assert(!l.dir[i].pps || l.dir[i].burst_pkts >= 16);
			assert(!l.dir[i].bps || l.dir[i].burst_bytes >= 65536);
		}
	}
	free(text);
	return 0;
}
