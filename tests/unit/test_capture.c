// SPDX-License-Identifier: GPL-2.0-only
/*
 * Capture files (control/capture): frames land in the pod's file and read
 * back intact with libpcap; files rotate at their size, at most N are kept
 * per pod, the directory stays under its total cap, a restart continues the
 * numbering instead of appending, and the listing counts what is there.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "capture.h"
#include "test.h"

static char dir[64];

static int count_files(const char *prefix, off_t *total)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (total)
		*total = 0;
	while (d && (e = readdir(d))) {
		char p[512];
		struct stat st;

		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		n++;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (total && !stat(p, &st))
			*total += st.st_size;
	}
	if (d)
		closedir(d);
	return n;
}

static void frame(uint8_t *f, size_t n, uint8_t tag)
{
	for (size_t i = 0; i < n; i++)
		f[i] = (uint8_t)(tag + i);
}

static void test_write_and_read_back(void)
{
	struct pw_capture_opts o = { .dir = dir };
	struct pw_capture *c = NULL;
	char path[512], eb[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	const char *file = NULL;
	uint8_t f[300];
	pcap_t *pc;
	int n = 0;

	if (!ASSERT_OK(pw_capture_new(&c, &o), "new"))
		return;
	for (int i = 0; i < 3; i++) {
		frame(f, sizeof(f), (uint8_t)i);
		ASSERT_OK(pw_capture_write(c, "demo_web", 1700000000000000ULL + i, f, 200, 1500, &file),
			  "write");
	}
	ASSERT_STREQ(file, "demo_web.1.pcap", "file name");
	ASSERT_STREQ(pw_capture_current(c, "demo_web"), "demo_web.1.pcap", "current");
	ASSERT_TRUE(pw_capture_current(c, "other_pod") == NULL, "no file for another pod");
	/* Readable while open: every write is flushed. */
	snprintf(path, sizeof(path), "%s/demo_web.1.pcap", dir);
	pc = pcap_open_offline(path, eb);
	if (!ASSERT_OK_PTR(pc, "pcap opens"))
		goto out;
	ASSERT_EQ(pcap_datalink(pc), DLT_EN10MB, "Ethernet");
	while (pcap_next_ex(pc, &h, &d) == 1) {
		frame(f, sizeof(f), (uint8_t)n);
		ASSERT_EQ(h->caplen, 200, "caplen");
		ASSERT_EQ(h->len, 1500, "wire length");
		ASSERT_EQ(h->ts.tv_usec, n, "timestamp");
		ASSERT_TRUE(!memcmp(d, f, 200), "bytes");
		n++;
	}
	ASSERT_EQ(n, 3, "three packets");
	pcap_close(pc);
out:
	pw_capture_free(&c);
}

static void test_rotation_and_caps(void)
{
	struct pw_capture_opts o = { .dir = dir, .file_bytes = 4096, .files_per_pod = 3,
				     .total_bytes = 6 * 4096 };
	struct pw_capture *c = NULL;
	const char *file = NULL;
	uint8_t f[1000] = { 0 };
	off_t total;
	json_t *l;
	char err[256], last[300];

	if (!ASSERT_OK(pw_capture_new(&c, &o), "new"))
		return;
	/* 40 frames of ~1 KB: ten 4 KiB files' worth for one pod. */
	for (int i = 0; i < 40; i++)
		pw_capture_write(c, "ns_a", 1700000000000000ULL + i, f, sizeof(f), sizeof(f), &file);
	ASSERT_EQ(count_files("ns_a.", NULL), 3, "at most 3 files per pod");
	{
		unsigned int seq = 0;

		ASSERT_TRUE(file && sscanf(file, "ns_a.%u.pcap", &seq) == 1 && seq >= 9,
			    "rotated about ten times");
	}
	/* Three pods of 3 files each would exceed 6 files' worth: the oldest go. */
	for (int i = 0; i < 40; i++) {
		pw_capture_write(c, "ns_b", 1700000001000000ULL + i, f, sizeof(f), sizeof(f), NULL);
		pw_capture_write(c, "ns_c", 1700000002000000ULL + i, f, sizeof(f), sizeof(f), NULL);
	}
	count_files("ns_", &total);
	/* Files still open may sit on top of the cap: one per pod at most. */
	ASSERT_TRUE(total <= 6 * 4096 + 3 * 4096, "directory near its total cap");
	pw_capture_free(&c);

	/* A restart continues after the highest number, never appending to old files. */
	ASSERT_OK(pw_capture_new(&c, &o), "new again");
	ASSERT_OK(pw_capture_write(c, "ns_a", 1700000009000000ULL, f, 100, 100, &file), "write");
	ASSERT_TRUE(strcmp(file, "ns_a.1.pcap") && strcmp(file, "ns_a.2.pcap"), "new number");
	snprintf(last, sizeof(last), "%s", file); /* file lives in c */
	pw_capture_free(&c);

	l = pw_capture_list(dir, err, sizeof(err));
	if (ASSERT_OK_PTR(l, "list")) {
		size_t i;
		json_t *v;
		bool seen = false;

		json_array_foreach (l, i, v)
			if (!strcmp(json_string_value(json_object_get(v, "file")), last)) {
				seen = true;
				ASSERT_STREQ(json_string_value(json_object_get(v, "pod")), "ns/a",
					     "pod from the name");
				ASSERT_EQ(json_integer_value(json_object_get(v, "packets")), 1,
					  "packets counted");
			}
		ASSERT_TRUE(seen, "the new file is listed");
		json_decref(l);
	}
	ASSERT_TRUE(pw_capture_list("/nonexistent-dir", err, sizeof(err)) == NULL, "bad dir");
	ASSERT_HAS(err, "/nonexistent-dir", "bad dir named");
}

static const struct pw_test tests[] = {
	{ "write_and_read_back", test_write_and_read_back },
	{ "rotation_and_caps", test_rotation_and_caps },
};

int main(int argc, char **argv)
{
	char cmd[128];
	int ret;

	snprintf(dir, sizeof(dir), "/tmp/pw-capture-test-%d", getpid());
	ret = pw_test_run(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		ret = 1;
	return ret;
}
