// SPDX-License-Identifier: GPL-2.0-only
/*
 * The main() of every fuzz target built without libFuzzer (gcc builds, CI):
 * runs LLVMFuzzerTestOneInput once on each file named on the command line
 * (the seed corpus), one TAP point per file. A crash or sanitizer report
 * fails the test; a file that cannot be read is a failed point.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Larger than any seed: a seed is a small document, not a dump. */
#define PW_REPLAY_MAX (1 << 20)

int main(int argc, char **argv)
{
	uint8_t *buf = malloc(PW_REPLAY_MAX);
	int i, failed = 0;

	printf("TAP version 13\n1..%d\n", argc - 1);
	for (i = 1; i < argc; i++) {
		FILE *f = buf ? fopen(argv[i], "rb") : NULL;
		size_t n;

		if (!f) {
			printf("not ok %d - %s (cannot open)\n", i, argv[i]);
			failed++;
			continue;
		}
		n = fread(buf, 1, PW_REPLAY_MAX, f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
		printf("ok %d - %s\n", i, argv[i]);
	}
	free(buf);
	return failed ? 1 : 0;
}
