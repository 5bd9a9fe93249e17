// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "capture.h"
#include "cleanup.h"
#include "log.h"

static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

#define MAX_OPEN 64 /* files kept open at once; the least recently written is closed */
#define SNAPLEN 65535

struct cap_file {
	char name[256]; /* the pod key */
	char base[300]; /* current file's base name */
	unsigned int seq;
	pcap_dumper_t *dump;
	uint64_t bytes;
	uint64_t last_use;
};

struct pw_capture {
	struct pw_capture_opts o;
	char dir[PATH_MAX];
	pcap_t *dead;
	struct cap_file f[MAX_OPEN];
	uint64_t clock;
};

/* "<name>.<seq>.pcap" -> name and seq; 0 if the file is not one of ours. */
static int split_name(const char *fn, char *name, size_t nlen, unsigned int *seq)
{
	size_t l = strlen(fn);
	const char *dot;
	char *end;

	if (l < 7 || strcmp(fn + l - 5, ".pcap"))
		return 0;
	for (dot = fn + l - 6; dot > fn && *dot != '.'; dot--)
		;
	if (dot == fn || (size_t)(dot - fn) >= nlen)
		return 0;
	*seq = (unsigned int)strtoul(dot + 1, &end, 10);
	if (end != fn + l - 5)
		return 0;
	memcpy(name, fn, dot - fn);
	name[dot - fn] = 0;
	return 1;
}

/* Highest seq of name in the directory, or 0. */
static unsigned int max_seq(const char *dir, const char *name)
{
	_cleanup_(closedirp) DIR *dp = opendir(dir);
	char n[256];
	unsigned int s, best = 0;
	struct dirent *e;

	while (dp && (e = readdir(dp)))
		if (split_name(e->d_name, n, sizeof(n), &s) && !strcmp(n, name) && s > best)
			best = s;
	return best;
}

static bool is_open(struct pw_capture *c, const char *base)
{
	for (int i = 0; i < MAX_OPEN; i++)
		if (c->f[i].dump && !strcmp(c->f[i].base, base))
			return true;
	return false;
}

/*
 * Deletes the oldest closed files: of name beyond files_per_pod (name NULL:
 * none), then of anyone while the directory is over total_bytes.
 */
static void prune(struct pw_capture *c, const char *name)
{
	struct ent {
		char fn[300];
		char name[256];
		unsigned int seq;
		off_t size;
		struct timespec mtime;
	} *v = NULL;
	size_t n = 0, cap = 0, mine = 0;
	uint64_t total = 0;
	DIR *dp = opendir(c->dir);
	struct dirent *e;
	char path[PATH_MAX + 320];

	if (!dp)
		return;
	while ((e = readdir(dp))) {
		struct ent x;
		struct stat st;

		if (!split_name(e->d_name, x.name, sizeof(x.name), &x.seq))
			continue;
		snprintf(path, sizeof(path), "%s/%s", c->dir, e->d_name);
		if (stat(path, &st))
			continue;
		snprintf(x.fn, sizeof(x.fn), "%s", e->d_name);
		x.size = st.st_size;
		x.mtime = st.st_mtim;
		total += st.st_size;
		if (name && !strcmp(x.name, name))
			mine++;
		if (n == cap) {
			struct ent *nv = realloc(v, (cap = cap ? cap * 2 : 32) * sizeof(*v));

			if (!nv)
				break;
			v = nv;
		}
		v[n++] = x;
	}
	closedir(dp);
	/* Oldest first: by modification time, then sequence. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0; j--) {
			struct ent *a = &v[j - 1], *b = &v[j], t;

			if (a->mtime.tv_sec < b->mtime.tv_sec ||
			    (a->mtime.tv_sec == b->mtime.tv_sec && a->seq <= b->seq))
				break;
			t = *a;
			*a = *b;
			*b = t;
		}
	for (size_t i = 0; i < n; i++) {
		bool over_pod = name && !strcmp(v[i].name, name) && mine > c->o.files_per_pod;
		bool over_total = total > c->o.total_bytes;

		if (!over_pod && !over_total)
			continue;
		if (is_open(c, v[i].fn))
			continue;
		snprintf(path, sizeof(path), "%s/%s", c->dir, v[i].fn);
		if (unlink(path))
			continue;
		pr_debug("capture: removed %s (%s)", v[i].fn, over_pod ? "file count" : "total size");
		total -= v[i].size;
		if (name && !strcmp(v[i].name, name))
			mine--;
	}
	free(v);
}

static void close_file(struct cap_file *f)
{
	if (f->dump)
		pcap_dump_close(f->dump);
	f->dump = NULL;
}

static int open_file(struct pw_capture *c, struct cap_file *f)
{
	char path[PATH_MAX + 320];
	struct stat st;

	f->seq++;
	snprintf(f->base, sizeof(f->base), "%s.%u.pcap", f->name, f->seq);
	snprintf(path, sizeof(path), "%s/%s", c->dir, f->base);
	f->dump = pcap_dump_open(c->dead, path);
	if (!f->dump) {
		pr_err("capture: %s: %s", path, pcap_geterr(c->dead));
		return -EIO;
	}
	chmod(path, 0600);
	f->bytes = stat(path, &st) ? 24 : (uint64_t)st.st_size;
	prune(c, f->name);
	return 0;
}

static struct cap_file *get_file(struct pw_capture *c, const char *name)
{
	int slot = -1, lru = 0;
	struct cap_file *f;

	for (int i = 0; i < MAX_OPEN; i++) {
		if (c->f[i].dump && !strcmp(c->f[i].name, name))
			return &c->f[i];
		if (!c->f[i].dump && slot < 0)
			slot = i;
		if (c->f[i].last_use < c->f[lru].last_use)
			lru = i;
	}
	if (slot < 0) {
		close_file(&c->f[lru]);
		slot = lru;
	}
	f = &c->f[slot];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	/* A restart goes on after the files already there, never appending to them. */
	f->seq = max_seq(c->dir, name);
	return open_file(c, f) ? NULL : f;
}

int pw_capture_new(struct pw_capture **out, const struct pw_capture_opts *o)
{
	_cleanup_free_ struct pw_capture *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->o = *o;
	if (!c->o.file_bytes)
		c->o.file_bytes = 8ULL << 20;
	if (!c->o.files_per_pod)
		c->o.files_per_pod = 5;
	if (!c->o.total_bytes)
		c->o.total_bytes = 256ULL << 20;
	if (!o->dir || strlen(o->dir) >= sizeof(c->dir))
		return -EINVAL;
	strcpy(c->dir, o->dir);
	if (mkdir(c->dir, 0700) && errno != EEXIST)
		return pr_err_r(-errno, "capture directory %s", c->dir);
	c->dead = pcap_open_dead(DLT_EN10MB, SNAPLEN);
	if (!c->dead)
		return -ENOMEM;
	*out = TAKE_PTR(c);
	return 0;
}

void pw_capture_free(struct pw_capture **c)
{
	if (!c || !*c)
		return;
	for (int i = 0; i < MAX_OPEN; i++)
		close_file(&(*c)->f[i]);
	pcap_close((*c)->dead);
	free(*c);
	*c = NULL;
}

int pw_capture_write(struct pw_capture *c, const char *name, uint64_t ts_usec, const uint8_t *d,
		     uint32_t caplen, uint32_t wirelen, const char **file)
{
	struct pcap_pkthdr h = { .caplen = caplen, .len = wirelen < caplen ? caplen : wirelen };
	struct cap_file *f = get_file(c, name);

	if (!f)
		return -EIO;
	if (f->bytes + 16 + caplen > c->o.file_bytes && f->bytes > 24) {
		close_file(f);
		if (open_file(c, f))
			return -EIO;
	}
	h.ts.tv_sec = ts_usec / 1000000;
	h.ts.tv_usec = ts_usec % 1000000;
	pcap_dump((u_char *)f->dump, &h, d);
	pcap_dump_flush(f->dump);
	f->bytes += 16 + caplen;
	f->last_use = ++c->clock;
	if (file)
		*file = f->base;
	return 0;
}

const char *pw_capture_current(struct pw_capture *c, const char *name)
{
	for (int i = 0; i < MAX_OPEN; i++)
		if (c->f[i].dump && !strcmp(c->f[i].name, name))
			return c->f[i].base;
	return NULL;
}

static int cmp_file(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	double fx = json_real_value(json_object_get(x, "first"));
	double fy = json_real_value(json_object_get(y, "first"));

	if (fx != fy)
		return fx < fy ? -1 : 1;
	return strcmp(json_string_value(json_object_get(x, "file")),
		      json_string_value(json_object_get(y, "file")));
}

json_t *pw_capture_list(const char *dir, char *err, size_t errlen)
{
	_cleanup_(closedirp) DIR *dp = opendir(dir);
	json_t *arr = json_array(), **v;
	struct dirent *e;
	size_t n;

	if (!dp) {
		snprintf(err, errlen, "capture directory %s: %s", dir, strerror(errno));
		json_decref(arr);
		return NULL;
	}
	while ((e = readdir(dp))) {
		char name[256], path[PATH_MAX + 300], ebuf[PCAP_ERRBUF_SIZE], pod[300];
		struct pcap_pkthdr *h;
		const u_char *d;
		unsigned int seq;
		double first = 0, last = 0;
		uint64_t pkts = 0;
		struct stat st;
		pcap_t *pc;
		char *us;

		if (!split_name(e->d_name, name, sizeof(name), &seq))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st))
			continue;
		pc = pcap_open_offline(path, ebuf);
		while (pc && pcap_next_ex(pc, &h, &d) == 1) {
			double t = h->ts.tv_sec + h->ts.tv_usec / 1e6;

			if (!pkts++)
				first = t;
			last = t;
		}
		if (pc)
			pcap_close(pc);
		/* namespace and pod names are DNS labels: the first '_' separates them */
		snprintf(pod, sizeof(pod), "%s", name);
		us = strchr(pod, '_');
		if (us)
			*us = '/';
		json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:I, s:f, s:f}", "file",
						     e->d_name, "pod", pod, "bytes",
						     (json_int_t)st.st_size, "packets",
						     (json_int_t)pkts, "first", first, "last",
						     last));
	}
	n = json_array_size(arr);
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return arr;
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof(*v), cmp_file);
	json_array_clear(arr);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, v[i]);
	free(v);
	return arr;
}
