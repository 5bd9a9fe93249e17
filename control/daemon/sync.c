// SPDX-License-Identifier: GPL-2.0-only
/*
 * Map sync: the policy db is the truth, the pinned maps follow it. Changes go
 * through pw_policy_db_compile()'s delta; a start (or restart) rewrites every
 * map from the compiled output and removes what no longer belongs there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ifaddrs.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <bpf/bpf.h>

#include "cleanup.h"
#include "daemon.h"
#include "log.h"

void pw_daemon_set_error(struct pw_daemon *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->last_error, sizeof(d->last_error), fmt, ap);
	va_end(ap);
	pr_err("%s", d->last_error);
}

/*
 * The db's Pod is the Pod manifest (labels, container ports) merged with
 * what the CNI plugin told us (the pod is here, with these addresses).
 */
static json_t *merged_pod(struct pw_daemon *d, const char *ns, const char *name)
{
	char key[512];
	json_t *item, *obj, *md, *spec, *status, *ips;
	bool have_ep = false;
	size_t i;

	snprintf(key, sizeof(key), "Pod/%s/%s", ns, name);
	item = d->objs ? json_object_get(d->objs, key) : NULL;
	for (i = 1; i < PW_MAX_ENDPOINTS; i++) {
		struct pw_ep *ep = &d->eps[i];

		if (ep->used && !strcmp(ep->ns, ns) && !strcmp(ep->pod, name))
			have_ep = true;
	}
	if (!item && !have_ep)
		return NULL;
	if (item)
		obj = json_deep_copy(json_object_get(item, "object"));
	else
		obj = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind", "Pod",
				"metadata", "name", name, "namespace", ns);
	if (!obj || !have_ep)
		return obj;

	md = json_object_get(obj, "metadata");
	if (json_is_object(md) && !json_object_get(md, "namespace"))
		json_object_set_new(md, "namespace", json_string(ns));
	spec = json_object_get(obj, "spec");
	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(obj, "spec", spec);
	}
	/* The CNI plugin wired this pod here: it is local and on the pod network. */
	json_object_set_new(spec, "nodeName", json_string(d->o.node_name));
	json_object_del(spec, "hostNetwork");
	status = json_object();
	ips = json_array();
	for (i = 1; i < PW_MAX_ENDPOINTS; i++) {
		struct pw_ep *ep = &d->eps[i];

		if (!ep->used || strcmp(ep->ns, ns) || strcmp(ep->pod, name))
			continue;
		for (int j = 0; j < ep->nips; j++)
			json_array_append_new(ips, json_pack("{s:s}", "ip", ep->ips[j]));
	}
	json_object_set_new(status, "podIPs", ips);
	json_object_set_new(obj, "status", status);
	return obj;
}

int pw_sync_pod(struct pw_daemon *d, const char *ns, const char *name, char *errmsg)
{
	json_t *obj = merged_pod(d, ns, name);
	int err;

	errmsg[0] = '\0';
	if (!obj) {
		err = pw_policy_db_delete_pod(d->db, ns, name);
		return err == -ENOENT ? 0 : err;
	}
	err = pw_policy_db_upsert_pod(d->db, obj, errmsg);
	json_decref(obj);
	return err;
}

/* A local pod's address: the ipcache entry must name its veth. */
static void host_val_patch(struct pw_daemon *d, const struct pw_host_key *k,
			   struct pw_ipcache_val *v)
{
	for (size_t i = 1; i < PW_MAX_ENDPOINTS; i++) {
		struct pw_ep *ep = &d->eps[i];

		if (!ep->used)
			continue;
		for (int j = 0; j < ep->nips; j++) {
			if (!memcmp(&ep->keys[j], k, sizeof(*k))) {
				v->ep_ifindex = ep->host_ifindex;
				return;
			}
		}
	}
}

/* The endpoints a sync writes (the daemon is single-threaded: one list will do). */
static struct pw_ep *sync_todo[PW_MAX_ENDPOINTS];

/* The ipcache entries of a local pod's addresses (they name its veth), then READY. */
static int endpoint_finish(struct pw_daemon *d, struct pw_ep *ep,
			   const struct pw_endpoint_view *v)
{
	struct pw_endpoint rec = { .ep_id = ep->ep_id };
	int err;

	for (int j = 0; j < ep->nips; j++) {
		struct pw_ipcache_val val;

		if (!pw_policy_db_host_get(d->db, &ep->keys[j], &val))
			continue;
		val.ep_ifindex = ep->host_ifindex;
		err = pw_dp_host_put(d->dp, &ep->keys[j], &val);
		if (err)
			return pr_err_r(err, "ipcache entry of %s", ep->ips[j]);
	}
	/* Last: READY tells the datapath that everything above is in place. */
	rec.identity = v->identity;
	rec.flags = PW_EP_F_READY | pw_observe_ep_flags(d, ep);
	err = pw_dp_endpoint_put(d->dp, ep->host_ifindex, &rec);
	if (err)
		return pr_err_r(err, "endpoint record of %s/%s", ep->ns, ep->pod);
	ep->obs_flags = rec.flags & PW_EP_F_OBSERVE_MASK;
	ep->identity = v->identity;
	ep->ready = true;
	return 0;
}

/*
 * Writes the compiled state of n local endpoints: every new policy map is
 * built first, then all are swapped into pw_policy with one batch update (a
 * map-in-map update waits for an RCU grace period, 10-20 ms: once for the
 * batch instead of once per pod, so a policy selecting many local pods takes
 * effect on all of them about as fast as on one), then each endpoint gets its
 * addresses and READY. Returns 0 or the first error; the others still proceed.
 */
static int sync_endpoints(struct pw_daemon *d, struct pw_ep **eps, size_t n)
{
	const struct pw_endpoint_view **views = calloc(n ?: 1, sizeof(*views));
	__u32 *ids = calloc(n ?: 1, sizeof(*ids));
	int *fds = calloc(n ?: 1, sizeof(*fds));
	bool *swapped = calloc(n ?: 1, sizeof(*swapped));
	size_t i, m = 0, *idx = calloc(n ?: 1, sizeof(*idx));
	int err, ret = 0;

	if (!views || !ids || !fds || !swapped || !idx) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct pw_ep *ep = eps[i];

		views[i] = pw_policy_db_endpoint(d->db, ep->ns, ep->pod);
		if (!views[i]) {
			ret = ret ?: pr_err_r(-ENOENT,
					      "endpoint %u (%s/%s): not a compiled local endpoint",
					      ep->ep_id, ep->ns, ep->pod);
			continue;
		}
		fds[m] = pw_dp_policy_build(d->dp, ep->ep_id, views[i]->entries,
					    views[i]->nentries);
		if (fds[m] < 0) {
			ret = ret ?: fds[m];
			views[i] = NULL;
			continue;
		}
		ids[m] = ep->ep_id;
		idx[m++] = i;
	}
	err = pw_dp_policy_swap(d->dp, ids, fds, m, swapped);
	ret = ret ?: err;
	for (i = 0; i < m; i++) {
		close(fds[i]);
		/* A pod whose new policy did not go in is not marked READY with it. */
		if (!swapped[i])
			continue;
		err = endpoint_finish(d, eps[idx[i]], views[idx[i]]);
		ret = ret ?: err;
	}
out:
	free(views);
	free(ids);
	free(fds);
	free(swapped);
	free(idx);
	return ret;
}

int pw_sync_endpoint(struct pw_daemon *d, struct pw_ep *ep)
{
	return sync_endpoints(d, &ep, 1);
}

static int bump(struct pw_daemon *d)
{
	int err = pw_dp_epoch_bump(d->dp, &d->epoch);

	if (err)
		return pr_err_r(err, "bump the policy epoch");
	return 0;
}

static bool name_is(const char *nsname, const struct pw_ep *ep)
{
	size_t l = strlen(ep->ns);

	return !strncmp(nsname, ep->ns, l) && nsname[l] == '/' && !strcmp(nsname + l + 1, ep->pod);
}

int pw_sync_apply(struct pw_daemon *d, bool force_epoch)
{
	struct pw_ep **todo = sync_todo;
	struct pw_policy_delta delta = {};
	size_t ntodo = 0;
	int err, ret = 0;
	size_t i, k;

	/* Before the first full list the db is partial: writing it could open a pod. */
	if (d->syncing)
		return 0;
	err = pw_policy_db_compile(d->db, &delta);
	if (err)
		return pr_err_r(err, "compile");
	/* Deletions first: an address that moved is upserted again below. */
	for (i = 0; i < delta.n_host_delete; i++) {
		err = pw_dp_host_del(d->dp, &delta.host_delete[i]);
		if (err && err != -ENOENT)
			ret = ret ?: pr_err_r(err, "delete an ipcache host entry");
	}
	for (i = 0; i < delta.n_lpm_delete; i++) {
		err = pw_dp_lpm_del(d->dp, &delta.lpm_delete[i]);
		if (err && err != -ENOENT)
			ret = ret ?: pr_err_r(err, "delete an ipcache prefix");
	}
	for (i = 0; i < delta.n_host_upsert; i++) {
		struct pw_ipcache_val v = delta.host_upsert[i].val;

		host_val_patch(d, &delta.host_upsert[i].key, &v);
		err = pw_dp_host_put(d->dp, &delta.host_upsert[i].key, &v);
		if (err)
			ret = ret ?: pr_err_r(err, "write an ipcache host entry");
	}
	for (i = 0; i < delta.n_lpm_upsert; i++) {
		err = pw_dp_lpm_put(d->dp, &delta.lpm_upsert[i].key, &delta.lpm_upsert[i].val);
		if (err)
			ret = ret ?: pr_err_r(err, "write an ipcache prefix");
	}
	for (k = 1; k < PW_MAX_ENDPOINTS; k++) {
		struct pw_ep *ep = &d->eps[k];
		const struct pw_endpoint_view *v;
		bool changed = false;

		if (!ep->used)
			continue;
		for (i = 0; i < delta.n_ep_changed && !changed; i++)
			changed = name_is(delta.ep_changed[i], ep);
		v = pw_policy_db_endpoint(d->db, ep->ns, ep->pod);
		if (!changed && v && v->identity == ep->identity && ep->ready)
			continue;
		todo[ntodo++] = ep;
	}
	if (ntodo) {
		err = sync_endpoints(d, todo, ntodo);
		if (err)
			ret = ret ?: err;
	}
	if (delta.changed || force_epoch)
		err = bump(d);
	pr_debug("sync: %zu endpoints changed, %zu removed, %zu/%zu host, %zu/%zu prefix "
		 "upserts/deletes, epoch %u",
		 delta.n_ep_changed, delta.n_ep_removed, delta.n_host_upsert, delta.n_host_delete,
		 delta.n_lpm_upsert, delta.n_lpm_delete, d->epoch);
	pw_policy_delta_free(&delta);
	return ret ?: err;
}

/* Deletes every key of a map for which keep() says no. */
static int prune(int fd, size_t ksz, bool (*keep)(struct pw_daemon *, const void *),
		 struct pw_daemon *d)
{
	_cleanup_free_ char *cur = calloc(1, ksz), *next = calloc(1, ksz);
	_cleanup_free_ char *dead = NULL;
	size_t ndead = 0, cap = 0;
	void *prev = NULL;

	if (!cur || !next)
		return -ENOMEM;
	/* Collect first: deleting while walking a hash restarts the walk. */
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(cur, next, ksz);
		prev = cur;
		if (keep(d, cur))
			continue;
		if (ndead == cap) {
			char *t = realloc(dead, (cap = cap ? cap * 2 : 64) * ksz);

			if (!t)
				return -ENOMEM;
			dead = t;
		}
		memcpy(dead + ndead++ * ksz, cur, ksz);
	}
	for (size_t i = 0; i < ndead; i++)
		bpf_map_delete_elem(fd, dead + i * ksz);
	return (int)ndead;
}

static bool keep_host(struct pw_daemon *d, const void *k)
{
	struct pw_ipcache_val v;

	return pw_policy_db_host_get(d->db, k, &v);
}

static bool keep_lpm(struct pw_daemon *d, const void *k)
{
	struct pw_ipcache_lpm_entry *le;
	size_t n = pw_policy_db_lpm_entries(d->db, &le);

	for (size_t i = 0; i < n; i++)
		if (!memcmp(&le[i].key, k, sizeof(le[i].key)))
			return true;
	return false;
}

static bool keep_ep_ifindex(struct pw_daemon *d, const void *k)
{
	__u32 ifindex = *(const __u32 *)k;

	for (size_t i = 1; i < PW_MAX_ENDPOINTS; i++)
		if (d->eps[i].used && (__u32)d->eps[i].host_ifindex == ifindex)
			return true;
	return false;
}

static bool keep_ep_id(struct pw_daemon *d, const void *k)
{
	__u32 id = *(const __u32 *)k;

	return id < PW_MAX_ENDPOINTS && d->eps[id].used;
}

int pw_sync_full(struct pw_daemon *d)
{
	struct pw_ep **todo = sync_todo;
	struct pw_ipcache_host_entry *he;
	struct pw_ipcache_lpm_entry *le;
	int err, ret = 0, n;
	size_t i, cnt, ntodo = 0;

	err = pw_policy_db_compile(d->db, NULL);
	if (err)
		return pr_err_r(err, "compile");
	n = prune(pw_datapath_map_fd(d->dp, PW_MAP_ID_ENDPOINTS), sizeof(__u32), keep_ep_ifindex,
		  d);
	if (n > 0)
		pr_info("removed %d stale endpoint records", n);
	n = prune(pw_datapath_map_fd(d->dp, PW_MAP_ID_POLICY), sizeof(__u32), keep_ep_id, d);
	if (n > 0)
		pr_info("removed %d stale policy maps", n);
	n = prune(pw_datapath_map_fd(d->dp, PW_MAP_ID_IPCACHE_HOST), sizeof(struct pw_host_key),
		  keep_host, d);
	if (n > 0)
		pr_info("removed %d stale ipcache host entries", n);
	n = prune(pw_datapath_map_fd(d->dp, PW_MAP_ID_IPCACHE), sizeof(struct pw_lpm_key), keep_lpm,
		  d);
	if (n > 0)
		pr_info("removed %d stale ipcache prefixes", n);

	cnt = pw_policy_db_host_entries(d->db, &he);
	for (i = 0; i < cnt; i++) {
		struct pw_ipcache_val v = he[i].val;

		host_val_patch(d, &he[i].key, &v);
		err = pw_dp_host_put(d->dp, &he[i].key, &v);
		if (err)
			ret = ret ?: pr_err_r(err, "write an ipcache host entry");
	}
	cnt = pw_policy_db_lpm_entries(d->db, &le);
	for (i = 0; i < cnt; i++) {
		err = pw_dp_lpm_put(d->dp, &le[i].key, &le[i].val);
		if (err)
			ret = ret ?: pr_err_r(err, "write an ipcache prefix");
	}
	for (i = 1; i < PW_MAX_ENDPOINTS; i++)
		if (d->eps[i].used)
			todo[ntodo++] = &d->eps[i];
	if (ntodo) {
		err = sync_endpoints(d, todo, ntodo);
		if (err)
			ret = ret ?: err;
	}
	err = bump(d);
	return ret ?: err;
}

/* The node's own addresses have identity host (kubelet probes, the ptp gateway). */
int pw_sync_node_addrs(struct pw_daemon *d)
{
	struct pw_addr addrs[ARRAY_SIZE(d->node_addrs)];
	struct ifaddrs *ifa, *i;
	size_t n = 0;
	int err;

	if (getifaddrs(&ifa) < 0)
		return pr_err_r(-errno, "list the node's addresses");
	for (i = ifa; i && n < ARRAY_SIZE(addrs); i = i->ifa_next) {
		struct pw_addr *a = &addrs[n];

		if (!i->ifa_addr)
			continue;
		memset(a, 0, sizeof(*a));
		if (i->ifa_addr->sa_family == AF_INET) {
			a->family = PW_AF_INET;
			memcpy(a->addr, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			a->family = PW_AF_INET6;
			memcpy(a->addr, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		/* ptp puts one gateway address on every veth: keep each address once. */
		bool dup = false;

		for (size_t j = 0; j < n && !dup; j++)
			dup = !memcmp(&addrs[j], a, sizeof(*a));
		if (!dup)
			n++;
	}
	freeifaddrs(ifa);
	if (n == d->n_node_addrs && !memcmp(addrs, d->node_addrs, n * sizeof(addrs[0])))
		return 0;
	err = pw_policy_db_set_node(d->db, d->o.node_name, addrs, n);
	if (err)
		return pr_err_r(err, "set the node's addresses");
	memcpy(d->node_addrs, addrs, n * sizeof(addrs[0]));
	d->n_node_addrs = n;
	return 1;
}
