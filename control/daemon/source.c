// SPDX-License-Identifier: GPL-2.0-only
/*
 * The manifest-directory source: the directory's NetworkPolicies, Namespaces
 * and Pods are the cluster. Every change (inotify, debounced) reloads the
 * whole directory, diffs it against the objects in force and applies only the
 * difference. A file that does not parse, or an object the db rejects, keeps
 * the version already in force: bad input never drops enforcement.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "cleanup.h"
#include "daemon.h"
#include "log.h"

#define DEBOUNCE_MS 50

static void report(void *ctx, const char *msg)
{
	pw_daemon_set_error(ctx, "manifest %s", msg);
}

static const char *obj_str(json_t *obj, const char *a, const char *b)
{
	return json_string_value(json_object_get(json_object_get(obj, a), b));
}

/* "Kind/ns/name", or NULL for kinds the source does not handle. */
static char *obj_key(json_t *obj)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *ns = obj_str(obj, "metadata", "namespace");
	const char *name = obj_str(obj, "metadata", "name");
	char *k;

	if (!kind)
		return NULL;
	if (!strcmp(kind, "Namespace"))
		ns = "";
	else if (strcmp(kind, "Pod") && strcmp(kind, "NetworkPolicy"))
		return NULL;
	else if (!ns || !*ns)
		ns = "default";
	if (asprintf(&k, "%s/%s/%s", kind, ns, name ?: "") < 0)
		return NULL;
	return k;
}

static bool has_ext(const char *n, const char *ext)
{
	size_t l = strlen(n), e = strlen(ext);

	return l > e && !strcmp(n + l - e, ext);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the directory into "key" -> {"file", "object"}. */
static json_t *read_dir(struct pw_daemon *d)
{
	json_t *set = json_object();
	char **names = NULL;
	size_t n = 0, i, j;
	struct dirent *de;
	DIR *dir;

	dir = opendir(d->o.manifests);
	if (!dir) {
		pw_daemon_set_error(d, "manifest directory %s: %s", d->o.manifests,
				    strerror(errno));
		json_decref(set);
		return NULL;
	}
	while ((de = readdir(dir))) {
		char **nn;

		/* Dot files are editors' and tools' temporaries. */
		if (de->d_name[0] == '.' ||
		    !(has_ext(de->d_name, ".yaml") || has_ext(de->d_name, ".yml") ||
		      has_ext(de->d_name, ".json")))
			continue;
		nn = realloc(names, (n + 1) * sizeof(*nn));
		if (!nn)
			break;
		names = nn;
		if (asprintf(&names[n], "%s/%s", d->o.manifests, de->d_name) < 0)
			break;
		n++;
	}
	closedir(dir);
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		json_t *items = json_array(), *it;
		const char *key;
		int r;

		r = pw_manifest_load(names[i], items, report, d);
		if (r) {
			/* Keep whatever this file held before, as a whole. */
			if (r < 0)
				pw_daemon_set_error(d, "manifest %s: %s", names[i], strerror(-r));
			json_object_foreach (d->objs, key, it) {
				if (!strcmp(json_string_value(json_object_get(it, "file")),
					    names[i]))
					json_object_set(set, key, it);
			}
		} else {
			json_array_foreach (items, j, it) {
				_cleanup_free_ char *k = obj_key(json_object_get(it, "object"));

				if (!k)
					continue;
				if (json_object_get(set, k))
					pr_warn("manifest %s: %s defined again; the later one wins",
						names[i], k);
				json_object_set(set, k, it);
			}
		}
		json_decref(items);
		free(names[i]);
	}
	free(names);
	return set;
}

/* Applies one new or changed object; on rejection the old version stays. */
static void apply_one(struct pw_daemon *d, const char *key, json_t *item, bool *ok)
{
	json_t *obj = json_object_get(item, "object"), *old = json_object_get(d->objs, key);
	const char *file = json_string_value(json_object_get(item, "file"));
	char msg[PW_ERRMSG_MAX];
	int err;

	msg[0] = '\0';
	if (old)
		json_incref(old);
	json_object_set(d->objs, key, item);
	if (!strncmp(key, "Pod/", 4))
		err = pw_sync_pod(d, obj_str(obj, "metadata", "namespace") ?: "default",
				  obj_str(obj, "metadata", "name"), msg);
	else
		err = pw_policy_db_upsert(d->db, obj, msg);
	if (err) {
		pw_daemon_set_error(d, "manifest %s: %s; the previous version stays in force", file,
				    msg[0] ? msg : strerror(-err));
		if (old)
			json_object_set(d->objs, key, old);
		else
			json_object_del(d->objs, key);
		*ok = false;
	}
	json_decref(old);
}

static void delete_one(struct pw_daemon *d, const char *key)
{
	/* key belongs to d->objs: copy it before the entry (and key) go. */
	_cleanup_free_ char *full = strdup(key), *k = strdup(key);
	char msg[PW_ERRMSG_MAX], *ns, *name;
	int err;

	if (!full || !k)
		return;
	json_object_del(d->objs, full);
	ns = strchr(k, '/');
	*ns++ = '\0';
	name = strchr(ns, '/');
	*name++ = '\0';
	if (!strcmp(k, "Pod"))
		err = pw_sync_pod(d, ns, name, msg);
	else if (!strcmp(k, "Namespace"))
		err = pw_policy_db_delete_namespace(d->db, name);
	else
		err = pw_policy_db_delete_policy(d->db, ns, name);
	if (err && err != -ENOENT)
		pr_err("manifest: delete %s: %s", full, strerror(-err));
	else
		pr_info("manifest: %s deleted", full);
}

int pw_source_reload(struct pw_daemon *d)
{
	json_t *set, *it;
	const char *key;
	void *tmp;
	bool ok = true;
	size_t nchanged = 0, ndeleted = 0;
	int err;

	set = read_dir(d);
	if (!set)
		return -EIO;
	/* Namespaces first so that a Pod or policy in a new namespace sees its labels. */
	static const char *const order[] = { "Namespace/", "Pod/", "NetworkPolicy/" };

	for (size_t o = 0; o < ARRAY_SIZE(order); o++) {
		json_object_foreach (set, key, it) {
			json_t *old = json_object_get(d->objs, key);

			if (strncmp(key, order[o], strlen(order[o])))
				continue;
			if (old && json_equal(json_object_get(old, "object"),
					      json_object_get(it, "object"))) {
				/* Same object; remember where it lives now. */
				json_object_set(d->objs, key, it);
				continue;
			}
			apply_one(d, key, it, &ok);
			nchanged++;
		}
	}
	json_object_foreach_safe(d->objs, tmp, key, it)
	{
		if (json_object_get(set, key))
			continue;
		delete_one(d, key);
		ndeleted++;
	}
	json_decref(set);
	err = pw_sync_apply(d, false);
	d->generation++;
	pr_info("manifests: generation %llu: %zu object(s) changed, %zu deleted%s, epoch %u",
		(unsigned long long)d->generation, nchanged, ndeleted, ok ? "" : ", some rejected",
		d->epoch);
	return err;
}

void pw_source_on_inotify(struct pw_daemon *d)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct itimerspec its = { .it_value.tv_nsec = DEBOUNCE_MS * 1000000L };

	/* Drain; what changed does not matter, the whole directory is re-read. */
	while (read(d->inofd, buf, sizeof(buf)) > 0)
		;
	if (timerfd_settime(d->debouncefd, 0, &its, NULL) < 0)
		pr_err("arm the manifest debounce timer: %s", strerror(errno));
}

int pw_source_start(struct pw_daemon *d)
{
	d->objs = json_object();
	if (!d->objs)
		return -ENOMEM;
	if (!d->o.manifests)
		return 0;
	d->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d->inofd < 0)
		return pr_err_r(-errno, "inotify");
	if (inotify_add_watch(d->inofd, d->o.manifests,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM |
				      IN_CREATE) < 0)
		return pr_err_r(-errno, "watch %s", d->o.manifests);
	d->debouncefd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->debouncefd < 0)
		return pr_err_r(-errno, "timerfd");
	return pw_source_reload(d);
}
