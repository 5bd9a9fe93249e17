// SPDX-License-Identifier: GPL-2.0-only
/*
 * The endpoint registry: the pods the CNI plugin wired on this node, their
 * endpoint ids, and the state file that lets a restarted daemon re-adopt them.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <net/if.h>

#include "api.h"
#include "cleanup.h"
#include "daemon.h"
#include "log.h"

void pw_ep_clear(struct pw_ep *ep)
{
	free(ep->container_id);
	free(ep->ifname);
	free(ep->netns);
	free(ep->ns);
	free(ep->pod);
	free(ep->uid);
	free(ep->host_ifname);
	free(ep->mac);
	for (int i = 0; i < ep->nips; i++)
		free(ep->ips[i]);
	memset(ep, 0, sizeof(*ep));
}

struct pw_ep *pw_ep_find(struct pw_daemon *d, const char *cid, const char *ifname)
{
	for (size_t i = 1; i < PW_MAX_ENDPOINTS; i++) {
		struct pw_ep *ep = &d->eps[i];

		if (ep->used && !strcmp(ep->container_id, cid) &&
		    (!ifname || !*ifname || !strcmp(ep->ifname, ifname)))
			return ep;
	}
	return NULL;
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Fills ep from a request (or a state-file record). -EINVAL names the field. */
static int ep_parse(struct pw_ep *ep, json_t *o, char *err, size_t errlen)
{
	static const char *const req[] = { "container_id", "ifname", "namespace", "pod" };
	json_t *ips = json_object_get(o, "ips"), *v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(req); i++) {
		if (!str(o, req[i]) || !*str(o, req[i])) {
			snprintf(err, errlen, "endpoint: %s: missing or not a string", req[i]);
			return -EINVAL;
		}
	}
	v = json_object_get(o, "host_ifindex");
	if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
	    json_integer_value(v) > INT32_MAX) {
		snprintf(err, errlen, "endpoint %s: host_ifindex: must be a positive integer",
			 str(o, "container_id"));
		return -EINVAL;
	}
	if (ips && !json_is_array(ips)) {
		snprintf(err, errlen, "endpoint %s: ips: must be an array", str(o, "container_id"));
		return -EINVAL;
	}
	if (json_array_size(ips) > PW_DAEMON_MAX_IPS) {
		snprintf(err, errlen, "endpoint %s: ips: more than %d addresses",
			 str(o, "container_id"), PW_DAEMON_MAX_IPS);
		return -EINVAL;
	}
	memset(ep, 0, sizeof(*ep));
	json_array_foreach (ips, i, v) {
		const char *s = json_string_value(v);
		char *slash;

		ep->ips[ep->nips] = s ? strdup(s) : NULL;
		if (!ep->ips[ep->nips])
			goto bad_ip;
		slash = strchr(ep->ips[ep->nips], '/');
		if (slash)
			*slash = '\0';
		if (pw_host_key_parse(&ep->keys[ep->nips], ep->ips[ep->nips])) {
			free(ep->ips[ep->nips]);
			goto bad_ip;
		}
		ep->nips++;
		continue;
	bad_ip:
		snprintf(err, errlen, "endpoint %s: ips[%zu]: not an address",
			 str(o, "container_id"), i);
		pw_ep_clear(ep);
		return -EINVAL;
	}
	ep->container_id = strdup(str(o, "container_id"));
	ep->ifname = strdup(str(o, "ifname"));
	ep->ns = strdup(str(o, "namespace"));
	ep->pod = strdup(str(o, "pod"));
	ep->netns = strdup(str(o, "netns") ?: "");
	ep->uid = strdup(str(o, "uid") ?: "");
	ep->host_ifname = strdup(str(o, "host_ifname") ?: "");
	ep->mac = strdup(str(o, "mac") ?: "");
	ep->host_ifindex = (int)json_integer_value(json_object_get(o, "host_ifindex"));
	if (!ep->container_id || !ep->ifname || !ep->ns || !ep->pod || !ep->netns || !ep->uid ||
	    !ep->host_ifname || !ep->mac) {
		pw_ep_clear(ep);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static json_t *ep_json(const struct pw_ep *ep)
{
	json_t *ips = json_array();

	for (int i = 0; i < ep->nips; i++)
		json_array_append_new(ips, json_string(ep->ips[i]));
	return json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:o, s:s}", "ep_id",
			 (int)ep->ep_id, "container_id", ep->container_id, "ifname", ep->ifname,
			 "netns", ep->netns, "namespace", ep->ns, "pod", ep->pod, "uid", ep->uid,
			 "host_ifname", ep->host_ifname, "host_ifindex", ep->host_ifindex, "ips",
			 ips, "mac", ep->mac);
}

int pw_registry_save(struct pw_daemon *d)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	json_t *root, *arr = json_array();
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *text = NULL;
	size_t len;
	int err = 0;

	for (size_t i = 1; i < PW_MAX_ENDPOINTS; i++)
		if (d->eps[i].used)
			json_array_append_new(arr, ep_json(&d->eps[i]));
	root = json_pack("{s:i, s:s, s:o}", "version", 1, "node", d->o.node_name, "endpoints", arr);
	if (!root)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%s", d->o.state_dir, PW_DAEMON_STATE_FILE);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", d->o.state_dir, PW_DAEMON_STATE_FILE);
	/* Write beside, fsync, rename: a crash leaves the old file or the new one. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = pr_err_r(-errno, "write %s", tmp);
		goto out;
	}
	/* One write: json_dumpfd() issues a write per token, on every ADD and DEL. */
	text = json_dumps(root, JSON_COMPACT);
	len = text ? strlen(text) : 0;
	if (!text || write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
	    fsync(fd)) {
		err = pr_err_r(-EIO, "write %s", tmp);
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path)) {
		err = pr_err_r(-errno, "rename %s to %s", tmp, path);
		unlink(tmp);
	}
out:
	json_decref(root);
	return err;
}

int pw_registry_load(struct pw_daemon *d)
{
	char path[PATH_MAX], err[256], name[IF_NAMESIZE];
	json_error_t je;
	json_t *root, *arr, *o;
	size_t i;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", d->o.state_dir, PW_DAEMON_STATE_FILE);
	root = json_load_file(path, 0, &je);
	if (!root) {
		if (access(path, F_OK) && errno == ENOENT)
			return 0;
		pr_err("%s: line %d: %s; starting with no endpoints", path, je.line, je.text);
		return 0;
	}
	arr = json_object_get(root, "endpoints");
	json_array_foreach (arr, i, o) {
		json_t *id = json_object_get(o, "ep_id");
		struct pw_ep ep;

		if (!json_is_integer(id) || json_integer_value(id) < 1 ||
		    json_integer_value(id) >= PW_MAX_ENDPOINTS) {
			pr_err("%s: endpoints[%zu]: ep_id: out of range", path, i);
			continue;
		}
		if (ep_parse(&ep, o, err, sizeof(err))) {
			pr_err("%s: endpoints[%zu]: %s", path, i, err);
			continue;
		}
		ep.ep_id = (uint32_t)json_integer_value(id);
		/* The veth went away while we were down (the pod is gone): forget it. */
		if (!if_indextoname(ep.host_ifindex, name) ||
		    (*ep.host_ifname && strcmp(name, ep.host_ifname))) {
			pr_info("endpoint %u %s/%s: interface %s (ifindex %d) vanished; dropped",
				ep.ep_id, ep.ns, ep.pod, ep.host_ifname, ep.host_ifindex);
			pw_ep_clear(&ep);
			continue;
		}
		if (d->eps[ep.ep_id].used) {
			pr_err("%s: endpoints[%zu]: ep_id %u used twice", path, i, ep.ep_id);
			pw_ep_clear(&ep);
			continue;
		}
		ep.used = true;
		d->eps[ep.ep_id] = ep;
		n++;
	}
	json_decref(root);
	return n;
}

static int alloc_id(struct pw_daemon *d)
{
	for (int i = 1; i < PW_MAX_ENDPOINTS; i++)
		if (!d->eps[i].used)
			return i;
	return -ENOSPC;
}

/* Removes an endpoint's kernel state; the slot stays. */
static void ep_unwire(struct pw_daemon *d, struct pw_ep *ep)
{
	int err;

	err = pw_dp_endpoint_del(d->dp, ep->host_ifindex);
	if (err && err != -ENOENT)
		pr_warn("endpoint %u: remove its record: %s", ep->ep_id, strerror(-err));
	err = pw_datapath_detach_pod(d->dp, ep->host_ifindex);
	if (err)
		pr_warn("endpoint %u: detach from ifindex %d: %s", ep->ep_id, ep->host_ifindex,
			strerror(-err));
	err = pw_dp_policy_delete(d->dp, ep->ep_id);
	if (err && err != -ENOENT)
		pr_warn("endpoint %u: remove its policy: %s", ep->ep_id, strerror(-err));
}

/* Brings the db and the maps in line with the registry after the pod ns/name changed. */
static int resync(struct pw_daemon *d, const char *ns, const char *pod)
{
	char msg[PW_ERRMSG_MAX];
	int err;

	pw_sync_node_addrs(d);
	err = pw_sync_pod(d, ns, pod, msg);
	if (err) {
		pw_daemon_set_error(d, "Pod %s/%s: %s", ns, pod, msg);
		return err;
	}
	return pw_sync_apply(d, true);
}

int pw_ep_del(struct pw_daemon *d, struct pw_ep *ep)
{
	_cleanup_free_ char *ns = strdup(ep->ns), *pod = strdup(ep->pod);
	int err;

	if (!ns || !pod)
		return -ENOMEM;
	pr_info("endpoint %u %s/%s (%s, %s): delete", ep->ep_id, ns, pod, ep->container_id,
		ep->host_ifname);
	pw_metrics_retire(d, ep);
	ep_unwire(d, ep);
	pw_ep_clear(ep);
	err = resync(d, ns, pod);
	return pw_registry_save(d) ?: err;
}

int pw_ep_add(struct pw_daemon *d, json_t *req, char *err, size_t errlen)
{
	struct pw_ep ep, *old;
	int id, r;

	r = ep_parse(&ep, req, err, errlen);
	if (r)
		return r;
	old = pw_ep_find(d, ep.container_id, ep.ifname);
	if (old) {
		/* A retried ADD: keep the id (and its counters); move to the new veth if any. */
		id = (int)old->ep_id;
		if (old->host_ifindex != ep.host_ifindex)
			ep_unwire(d, old);
		pw_ep_clear(old);
	} else {
		id = alloc_id(d);
		if (id < 0) {
			snprintf(err, errlen, "endpoint %s: all %d endpoint ids in use",
				 ep.container_id, PW_MAX_ENDPOINTS - 1);
			pw_ep_clear(&ep);
			return -EAGAIN;
		}
		r = pw_dp_counters_clear(d->dp, (__u32)id);
		if (r)
			pr_warn("endpoint %d: clear counters: %s", id, strerror(-r));
	}
	ep.ep_id = (uint32_t)id;
	ep.used = true;
	d->eps[id] = ep;

	/* Not ready until its policy is in: the datapath drops its packets meanwhile. */
	r = pw_dp_endpoint_put(d->dp, ep.host_ifindex, &(struct pw_endpoint){ .ep_id = (__u32)id });
	if (r) {
		snprintf(err, errlen, "endpoint %s: write endpoint record: %s", ep.container_id,
			 strerror(-r));
		goto fail;
	}
	r = pw_datapath_attach_pod(d->dp, ep.host_ifindex);
	if (r) {
		snprintf(err, errlen, "endpoint %s: attach to %s (ifindex %d): %s", ep.container_id,
			 ep.host_ifname, ep.host_ifindex, strerror(-r));
		goto fail;
	}
	r = resync(d, ep.ns, ep.pod);
	/* During the API source's initial sync the endpoint stays isolated (not READY). */
	if (r || (!d->eps[id].ready && !d->syncing)) {
		snprintf(err, errlen, "endpoint %s: pod %s/%s: policy not installed: %s",
			 ep.container_id, ep.ns, ep.pod,
			 d->last_error[0] ? d->last_error : "sync failed");
		r = r ?: -EIO;
		goto fail;
	}
	r = pw_registry_save(d);
	if (r) {
		snprintf(err, errlen, "endpoint %s: save the registry: %s", ep.container_id,
			 strerror(-r));
		goto fail;
	}
	pr_info("endpoint %d %s/%s: %s ifindex %d, %d address(es), identity %u, %s", id,
		d->eps[id].ns, d->eps[id].pod, d->eps[id].host_ifname, d->eps[id].host_ifindex,
		d->eps[id].nips, d->eps[id].identity,
		d->eps[id].ready ? "ready" : "isolated until the initial sync");
	return 0;
fail:
	pr_err("%s", err);
	pw_ep_del(d, &d->eps[id]);
	return r;
}

/*
 * A pod deleted without a CNI DEL (a runtime crash) leaves its veth gone and
 * its endpoint id taken: free it, as a restart would.
 */
void pw_registry_reap(struct pw_daemon *d)
{
	char name[IF_NAMESIZE];

	for (size_t i = 1; i < PW_MAX_ENDPOINTS; i++) {
		struct pw_ep *ep = &d->eps[i];

		if (!ep->used)
			continue;
		if (if_indextoname((unsigned int)ep->host_ifindex, name) &&
		    (!*ep->host_ifname || !strcmp(name, ep->host_ifname)))
			continue;
		pr_info("endpoint %u %s/%s: interface %s vanished without a CNI DEL", ep->ep_id,
			ep->ns, ep->pod, ep->host_ifname);
		pw_ep_del(d, ep);
	}
}

/* The CNI plugin queued DELs while we were down: apply them before serving anyone. */
int pw_queue_apply(struct pw_daemon *d)
{
	DIR *dir = opendir(d->o.queue_dir);
	struct dirent *de;
	int n = 0;

	if (!dir)
		return errno == ENOENT ? 0 : pr_err_r(-errno, "open queue %s", d->o.queue_dir);
	while ((de = readdir(dir))) {
		char path[PATH_MAX], bad[PATH_MAX + 8];
		size_t l = strlen(de->d_name);
		json_error_t je;
		json_t *o;
		struct pw_ep *ep;

		if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", d->o.queue_dir, de->d_name);
		o = json_load_file(path, 0, &je);
		if (!o || !json_is_string(json_object_get(o, "container_id")) ||
		    strcmp(str(o, "cmd") ?: "", PW_API_CMD_ENDPOINT_DEL)) {
			pr_err("queue %s: %s; renamed to .bad", path,
			       o ? "not an endpoint-del with a container_id" : je.text);
			snprintf(bad, sizeof(bad), "%s.bad", path);
			rename(path, bad);
			json_decref(o);
			continue;
		}
		ep = pw_ep_find(d, str(o, "container_id"), str(o, "ifname"));
		pr_info("queue: endpoint-del %s %s%s", str(o, "container_id"),
			str(o, "ifname") ?: "", ep ? "" : " (unknown: nothing to do)");
		if (ep)
			pw_ep_del(d, ep);
		unlink(path);
		json_decref(o);
		n++;
	}
	closedir(dir);
	return n;
}

int pw_daemon_uninstall(const struct pw_daemon_opts *o)
{
	static struct pw_daemon d;
	struct pw_datapath_opts dopts = { .pin_root = o->pin_root };
	char path[PATH_MAX];
	int err, ret = 0;

	d.o = *o;
	err = pw_datapath_open(&d.dp, &dopts);
	if (err)
		pr_warn("open the datapath: %s; removing the pins only", strerror(-err));
	pw_registry_load(&d);
	for (size_t i = 1; i < PW_MAX_ENDPOINTS; i++) {
		if (!d.eps[i].used)
			continue;
		if (d.dp && pw_datapath_detach_pod(d.dp, d.eps[i].host_ifindex))
			ret = -EIO;
		pw_ep_clear(&d.eps[i]);
	}
	for (int i = 0; i < o->nuplinks && d.dp; i++) {
		int ifindex = (int)if_nametoindex(o->uplinks[i]);

		if (ifindex && pw_datapath_detach_uplink(d.dp, ifindex))
			ret = -EIO;
	}
	pw_datapath_free(&d.dp);
	err = pw_datapath_unpin(o->pin_root);
	if (err)
		ret = pr_err_r(err, "remove the pins under %s", o->pin_root);
	snprintf(path, sizeof(path), "%s/%s", o->state_dir, PW_DAEMON_STATE_FILE);
	if (unlink(path) && errno != ENOENT)
		ret = pr_err_r(-errno, "remove %s", path);
	return ret;
}
