// SPDX-License-Identifier: GPL-2.0-only
/* podwallctl captures: the pcap files of blocked flows, read from the capture directory. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "capture.h"
#include "cli.h"

#define CAPTURE_DIR_DEFAULT "/var/lib/podwall/captures"

static void fmt_time(double t, char *out, size_t n)
{
	time_t s = (time_t)t;
	struct tm tm;

	if (!t) {
		snprintf(out, n, "-");
		return;
	}
	gmtime_r(&s, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int do_captures(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "pod", required_argument, NULL, 'P' },
		PW_CLI_OUTPUT_OPTS,
		{ 0 },
	};
	const char *dir = CAPTURE_DIR_DEFAULT, *pod = NULL;
	char err[512];
	size_t i;
	json_t *l, *v, *out;
	int c;

	optind = 1;
	while ((c = pw_cli_getopt(argc, argv, "d:P:jph", opts)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'P':
			pod = optarg;
			break;
		case 'h':
			printf("Usage: podwallctl captures [-d|--dir DIR] [--pod NAMESPACE/POD] [-j|-p]\n"
			       "Lists podwalld's pcap files of blocked flows (default dir %s),\n"
			       "oldest first, with their packet counts and time span.\n",
			       CAPTURE_DIR_DEFAULT);
			return 0;
		default:
			return 2;
		}
	}
	if (optind < argc) {
		p_err("captures: unexpected argument \"%s\"", argv[optind]);
		return 2;
	}
	l = pw_capture_list(dir, err, sizeof(err));
	if (!l) {
		p_err("%s", err);
		return 1;
	}
	out = json_array();
	json_array_foreach (l, i, v)
		if (!pod || !strcmp(json_string_value(json_object_get(v, "pod")), pod))
			json_array_append(out, v);
	json_decref(l);
	if (pw_cli.json) {
		pw_json_print(json_pack("{s:s, s:o}", "dir", dir, "captures", out));
		return 0;
	}
	printf("%-40s %-32s %10s %8s  %-20s  %s\n", "FILE", "POD", "BYTES", "PACKETS", "FIRST",
	       "LAST");
	json_array_foreach (out, i, v) {
		char first[32], last[32];

		fmt_time(json_real_value(json_object_get(v, "first")), first, sizeof(first));
		fmt_time(json_real_value(json_object_get(v, "last")), last, sizeof(last));
		printf("%-40s %-32s %10lld %8lld  %-20s  %s\n",
		       json_string_value(json_object_get(v, "file")),
		       json_string_value(json_object_get(v, "pod")),
		       (long long)json_integer_value(json_object_get(v, "bytes")),
		       (long long)json_integer_value(json_object_get(v, "packets")), first, last);
	}
	json_decref(out);
	return 0;
}
