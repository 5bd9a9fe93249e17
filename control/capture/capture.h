/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Capture files of blocked flows: one pcap (Ethernet, microsecond stamps)
 * per pod under a capture directory, "<namespace>_<pod>.<seq>.pcap", rotated
 * at a size, at most a number of files per pod, and the directory as a whole
 * kept under a total size by deleting the oldest closed files.
 */
#pragma once

#include <stdint.h>

#include <jansson.h>

struct pw_capture_opts {
	const char *dir;
	uint64_t file_bytes;	/* rotate a pod's file past this size; 0: 8 MiB */
	unsigned int files_per_pod; /* keep at most this many per pod; 0: 5 */
	uint64_t total_bytes;	/* the directory's cap; 0: 256 MiB */
};

struct pw_capture;

/** Creates dir if needed and picks up the numbering of the files already there. 0 or -errno. */
int pw_capture_new(struct pw_capture **out, const struct pw_capture_opts *o);
/** Closes every file (they stay on disk). NULL-safe; resets *c. */
void pw_capture_free(struct pw_capture **c);

/**
 * pw_capture_write() - appends one frame to name's current file (name: a
 * file-name-safe key such as "default_web"); the file is flushed so readers
 * see whole packets. *file (may be NULL) gets the file's base name, valid
 * until the next call. 0 or -errno.
 */
int pw_capture_write(struct pw_capture *c, const char *name, uint64_t ts_usec, const uint8_t *d,
		     uint32_t caplen, uint32_t wirelen, const char **file);

/** The base name of name's current file (NULL if none yet). */
const char *pw_capture_current(struct pw_capture *c, const char *name);

/**
 * Lists the capture files of dir, oldest first: an array of {file, pod,
 * bytes, packets, first, last} (first/last: Unix seconds with fraction; pod:
 * "namespace/pod" or "node"). NULL with a message in err on failure.
 */
json_t *pw_capture_list(const char *dir, char *err, size_t errlen);
