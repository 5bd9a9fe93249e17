/* SPDX-License-Identifier: GPL-2.0-only */
#pragma once

#include <jansson.h>

/**
 * pw_cni_queue_del() - leave an endpoint-del request for podwalld to apply on
 * start, as "<dir>/<container_id>.json" (format in control/lib/api.h).
 * @container_id must be valid (pw_cni_container_id_valid()).
 * Return: 0 once the file is on disk, or -errno.
 */
int pw_cni_queue_del(const char *dir, const char *container_id, const json_t *req);

/* Removes a queued deletion the daemon no longer needs; 0 when there was none. */
int pw_cni_queue_drop(const char *dir, const char *container_id);
