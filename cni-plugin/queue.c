// SPDX-License-Identifier: GPL-2.0-only
/*
 * The DEL queue: deletions podwalld could not hear about because it was down.
 * The file format is the daemon's contract and is described in control/lib/api.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cleanup.h"
#include "queue.h"

static int mkdir_p(const char *dir, mode_t mode)
{
	char path[PATH_MAX];
	char *p;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	/* The leaf holds pod names and is read by root only. */
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int pw_cni_queue_del(const char *dir, const char *container_id, const json_t *req)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	_cleanup_free_ char *txt = NULL;
	_cleanup_close_ int fd = -1, dfd = -1;
	json_t *copy;
	int err;

	if (snprintf(tmp, sizeof(tmp), "%s/.%s.json.tmp", dir, container_id) >= (int)sizeof(tmp) ||
	    snprintf(path, sizeof(path), "%s/%s.json", dir, container_id) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	err = mkdir_p(dir, 0700);
	if (err)
		return err;

	copy = json_deep_copy(req);
	if (!copy)
		return -ENOMEM;
	json_object_set_new(copy, "queued_at", json_integer((json_int_t)time(NULL)));
	txt = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(copy);
	if (!txt)
		return -ENOMEM;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	err = write_all(fd, txt, strlen(txt));
	if (!err)
		err = write_all(fd, "\n", 1);
	/* The daemon reads this after a crash or reboot: it must be on disk before it is visible. */
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	if (rename(tmp, path) < 0) {
		err = -errno;
		unlink(tmp);
		return err;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fsync(dfd);
	return 0;
}

int pw_cni_queue_drop(const char *dir, const char *container_id)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s.json", dir, container_id) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
