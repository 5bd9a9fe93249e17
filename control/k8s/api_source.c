// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Kubernetes API source of podwalld: the client's lists and watch events
 * become db upserts and deletes, compiled once per batch. A relist replaces a
 * resource's whole set (upsert what changed, delete what vanished). Objects
 * are kept in d->objs under "Kind/ns/name" -> {"object": ...}, the layout the
 * manifest source uses, so that Pods merge with CNI endpoints the same way.
 *
 * Until the first list of every resource is in (d->syncing), nothing is
 * written to the maps: the pinned state keeps enforcing what the previous
 * run knew, and an endpoint added meanwhile keeps the not-READY record the
 * registry writes first, so the datapath drops its packets both ways rather
 * than let a pod whose policies are unknown talk freely.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "cleanup.h"
#include "daemon.h"
#include "k8s.h"
#include "log.h"

static const char *meta(json_t *obj, const char *f)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), f));
}

/* "Kind/ns/name"; NULL (logged) for an object without a name. */
static char *key_of(enum pw_k8s_res r, json_t *obj)
{
	const char *kind = pw_k8s_res_kind(r), *ns = meta(obj, "namespace"),
		   *name = meta(obj, "name");
	char *k;

	if (!name || !*name) {
		pr_err("k8s: %s %s/<no name>: metadata.name: missing; skipped", kind, ns ?: "");
		return NULL;
	}
	if (r == PW_K8S_NAMESPACES)
		ns = "";
	else if (!ns || !*ns)
		ns = "default";
	if (asprintf(&k, "%s/%s/%s", kind, ns, name) < 0)
		return NULL;
	return k;
}

static void apply(struct pw_daemon *d, enum pw_k8s_res r, const char *key, json_t *obj)
{
	json_t *old = json_incref(json_object_get(d->objs, key));
	char msg[PW_ERRMSG_MAX] = "";
	int err;

	json_object_set_new(d->objs, key, json_pack("{s:O}", "object", obj));
	if (r == PW_K8S_PODS)
		err = pw_sync_pod(d, meta(obj, "namespace") ?: "default", meta(obj, "name"), msg);
	else
		err = pw_policy_db_upsert(d->db, obj, msg);
	if (err) {
		/* Bad input never drops enforcement: the version in force stays. */
		pw_daemon_set_error(d, "k8s: %s; skipped, the previous version stays in force",
				    msg[0] ? msg : strerror(-err));
		if (old)
			json_object_set(d->objs, key, old);
		else
			json_object_del(d->objs, key);
	}
	json_decref(old);
}

static void remove_obj(struct pw_daemon *d, enum pw_k8s_res r, const char *key)
{
	/* key may belong to d->objs: copy before the entry goes. */
	_cleanup_free_ char *k = strdup(key);
	char msg[PW_ERRMSG_MAX], *ns, *name;
	int err;

	if (!k || !json_object_get(d->objs, k))
		return;
	json_object_del(d->objs, k);
	ns = strchr(k, '/') + 1;
	name = strchr(ns, '/');
	*name++ = '\0';
	if (r == PW_K8S_PODS)
		err = pw_sync_pod(d, ns, name, msg);
	else if (r == PW_K8S_NAMESPACES)
		err = pw_policy_db_delete_namespace(d->db, name);
	else
		err = pw_policy_db_delete_policy(d->db, ns, name);
	if (err && err != -ENOENT)
		pr_err("k8s: delete %s: %s", key, strerror(-err));
}

static void on_relist(void *ctx, enum pw_k8s_res r, json_t *items)
{
	struct pw_daemon *d = ctx;
	json_t *set = json_object(), *obj;
	const char *key;
	char prefix[64];
	size_t i, nchanged = 0, ndeleted = 0;
	void *tmp;

	if (!set)
		return;
	json_array_foreach (items, i, obj) {
		_cleanup_free_ char *k = key_of(r, obj);

		if (k)
			json_object_set(set, k, obj);
	}
	json_object_foreach (set, key, obj) {
		json_t *old = json_object_get(json_object_get(d->objs, key), "object");

		if (old && json_equal(old, obj))
			continue;
		apply(d, r, key, obj);
		nchanged++;
	}
	snprintf(prefix, sizeof(prefix), "%s/", pw_k8s_res_kind(r));
	json_object_foreach_safe (d->objs, tmp, key, obj) {
		if (strncmp(key, prefix, strlen(prefix)) || json_object_get(set, key))
			continue;
		remove_obj(d, r, key);
		ndeleted++;
	}
	json_decref(set);
	pr_info("k8s %s: relist: %zu object(s), %zu changed, %zu deleted", pw_k8s_res_name(r),
		json_array_size(items), nchanged, ndeleted);
}

static void on_event(void *ctx, enum pw_k8s_res r, const char *type, json_t *obj)
{
	struct pw_daemon *d = ctx;
	_cleanup_free_ char *k = key_of(r, obj);

	if (!k)
		return;
	pr_debug("k8s %s: %s %s", pw_k8s_res_name(r), type, k);
	if (!strcmp(type, "DELETED"))
		remove_obj(d, r, k);
	else
		apply(d, r, k, obj);
}

static void on_batch_end(void *ctx)
{
	struct pw_daemon *d = ctx;
	int err;

	if (d->syncing) {
		if (!pw_k8s_client_synced(d->k8s))
			return;
		d->syncing = false;
		pw_sync_node_addrs(d);
		err = pw_sync_full(d);
		if (err)
			pw_daemon_set_error(d, "k8s: initial map sync incomplete: %s",
					    strerror(-err));
		pr_info("k8s: initial sync complete: %zu object(s), epoch %u",
			json_object_size(d->objs), d->epoch);
	} else {
		err = pw_sync_apply(d, false);
		if (err)
			pw_daemon_set_error(d, "k8s: map sync: %s", strerror(-err));
	}
	d->generation++;
}

static struct pw_source k8s_src;

static void on_ready(struct pw_daemon *d, struct pw_source *s, uint32_t events)
{
	(void)s;
	(void)events;
	pw_k8s_client_dispatch(d->k8s);
}

bool pw_k8s_source_wanted(const struct pw_daemon_opts *o)
{
	return o->api_server || o->kubeconfig || o->in_cluster;
}

int pw_k8s_source_start(struct pw_daemon *d)
{
	static const struct pw_k8s_ops ops = {
		.relist = on_relist,
		.event = on_event,
		.batch_end = on_batch_end,
	};
	const struct pw_daemon_opts *o = &d->o;
	struct pw_k8s_config cfg = {};
	char msg[1024];
	int err;

	if (!pw_k8s_source_wanted(o))
		return 0;
	if (o->api_server) {
		cfg.server = strdup(o->api_server);
		if (!cfg.server)
			return -ENOMEM;
		while (cfg.server[0] && cfg.server[strlen(cfg.server) - 1] == '/')
			cfg.server[strlen(cfg.server) - 1] = '\0';
	} else if (o->kubeconfig) {
		err = pw_k8s_config_kubeconfig(o->kubeconfig, o->context, &cfg, msg, sizeof(msg));
		if (err)
			return pr_err_r(err, "%s", msg);
	} else {
		/* The service-account directory can be moved (tests; unusual mounts). */
		err = pw_k8s_config_incluster(getenv("PODWALL_SERVICEACCOUNT_DIR"), &cfg, msg,
					      sizeof(msg));
		if (err)
			return pr_err_r(err, "%s", msg);
	}
	/* Flags win over what the kubeconfig says. */
	if (o->token_file) {
		free(cfg.token_file);
		free(cfg.token);
		cfg.token = NULL;
		cfg.token_file = strdup(o->token_file);
	}
	if (o->ca_file) {
		free(cfg.ca_file);
		free(cfg.ca_pem);
		cfg.ca_pem = NULL;
		cfg.ca_file = strdup(o->ca_file);
	}
	cfg.insecure |= o->insecure;
	err = pw_k8s_client_new(&d->k8s, &cfg,
				&(struct pw_k8s_client_opts){ .watch_timeout_s = o->watch_timeout_s },
				&ops, d);
	if (err) {
		pr_err("k8s client for %s: %s", cfg.server, strerror(-err));
		pw_k8s_config_clear(&cfg);
		return err;
	}
	pr_info("k8s: API server %s%s", cfg.server, cfg.insecure ? " (not verified)" : "");
	pw_k8s_config_clear(&cfg);
	k8s_src.fn = on_ready;
	err = pw_loop_add(d, pw_k8s_client_fd(d->k8s), EPOLLIN, &k8s_src);
	if (err)
		return err;
	return pw_k8s_client_start(d->k8s);
}

void pw_k8s_source_stop(struct pw_daemon *d)
{
	pw_k8s_client_free(&d->k8s);
}

json_t *pw_k8s_source_status(struct pw_daemon *d)
{
	return d->k8s ? pw_k8s_client_status(d->k8s) : json_null();
}
