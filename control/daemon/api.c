// SPDX-License-Identifier: GPL-2.0-only
/*
 * The API server (protocol in control/lib/api.h): a non-blocking Unix
 * listener; each client is a small state machine on the event loop (read one
 * line, answer, write, close), so a slow or silent client costs a slot and
 * nothing else. Requests are handled to completion on the loop thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "api.h"
#include "cleanup.h"
#include "daemon.h"
#include "k8s.h"
#include "log.h"

#define MAX_CLIENTS	  128
#define CLIENT_TIMEOUT_MS 10000
#define MAX_REQUEST	  (1U << 20)
/* A following client that lets this much pile up loses records (counted), never the loop. */
#define STREAM_MAX_BUF (1U << 20)

struct client {
	struct pw_source src; /* first: the epoll pointer */
	struct pw_daemon *d;
	int fd;
	char *in;
	size_t inlen, incap;
	char *out;
	size_t outlen, outpos;
	long long deadline;
	struct client *prev, *next;
	/* Following the flow stream: the connection stays open, records are appended. */
	bool stream;
	json_t *sreq; /* the request: owns the filter's strings */
	struct pw_flow_filter filter;
	uint64_t lost; /* records not queued since the last notice */
};

static struct client *clients;
static struct pw_source listen_src;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void client_close(struct client *c)
{
	pw_loop_del(c->d, c->fd);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->d->nclients--;
	json_decref(c->sreq);
	free(c->in);
	free(c->out);
	free(c);
}

static json_t *err_resp(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *err_resp(int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:s, s:i}", "error", msg, "code", code);
}

static int errno_code(int err)
{
	switch (err) {
	case -EINVAL:
		return PW_API_E_INVALID;
	case -ENOENT:
		return PW_API_E_CONTAINER_UNKNOWN;
	case -EAGAIN:
		return PW_API_E_TRY_AGAIN;
	default:
		return PW_API_E_IO;
	}
}

static size_t count_prefix(json_t *objs, const char *prefix)
{
	const char *key;
	json_t *v;
	size_t n = 0;

	json_object_foreach (objs, key, v)
		n += !strncmp(key, prefix, strlen(prefix));
	return n;
}

static json_t *do_status(struct pw_daemon *d)
{
	size_t neps = 0;
	char src[PATH_MAX + 16];
	/* The API source is not ready before every resource has been listed once. */
	bool ready = d->ready && !d->syncing;

	for (size_t i = 1; i < PW_MAX_ENDPOINTS; i++)
		neps += d->eps[i].used;
	if (d->o.manifests)
		snprintf(src, sizeof(src), "manifests:%s", d->o.manifests);
	else if (d->o.api_server)
		snprintf(src, sizeof(src), "api:%s", d->o.api_server);
	else if (d->o.kubeconfig)
		snprintf(src, sizeof(src), "kubeconfig:%s", d->o.kubeconfig);
	else if (d->o.in_cluster)
		snprintf(src, sizeof(src), "in-cluster");
	else
		snprintf(src, sizeof(src), "none");
	return json_pack("{s:b, s:b, s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:s, "
			 "s:{s:I, s:I, s:I}, s:o, s:o}",
			 "ok", 1, "ready", ready, "reason",
			 ready ? "" : d->syncing ? "initial sync" : (d->not_ready_reason ?: "starting"),
			 "node",
			 d->o.node_name, "endpoints", (json_int_t)neps, "policies",
			 (json_int_t)count_prefix(d->objs, "NetworkPolicy/"), "epoch",
			 (json_int_t)d->epoch, "generation", (json_int_t)d->generation, "source",
			 src, "pin_root", pw_datapath_pin_root(d->dp), "last_error", d->last_error,
			 "events", "verdict", (json_int_t)d->events_verdict, "drop",
			 (json_int_t)d->events_drop, "other", (json_int_t)d->events_other, "k8s",
			 pw_k8s_source_status(d), "ips", pw_daemon_ips_status(d));
}

static json_t *counters_json(struct pw_daemon *d, uint32_t ep_id, int dir)
{
	json_t *reasons = json_object();
	__u64 allowed = 0, dropped = 0;

	for (__u32 r = 0; r < _PW_REASON_MAX; r++) {
		struct pw_counter c;

		if (pw_dp_counter_read(d->dp, ep_id, (__u32)dir, r, &c) || !c.packets)
			continue;
		if (pw_reason_is_drop(r))
			dropped += c.packets;
		else
			allowed += c.packets;
		json_object_set_new(reasons, pw_reason_name(r),
				    json_integer((json_int_t)c.packets));
	}
	return json_pack("{s:I, s:I, s:o}", "allowed", (json_int_t)allowed, "dropped",
			 (json_int_t)dropped, "reasons", reasons);
}

static json_t *do_endpoints(struct pw_daemon *d)
{
	json_t *arr = json_array();

	for (uint32_t i = 1; i < PW_MAX_ENDPOINTS; i++) {
		struct pw_ep *ep = &d->eps[i];
		json_t *ips;

		if (!ep->used)
			continue;
		ips = json_array();
		for (int j = 0; j < ep->nips; j++)
			json_array_append_new(ips, json_string(ep->ips[j]));
		json_array_append_new(
			arr, json_pack("{s:i, s:s, s:s, s:s, s:s, s:i, s:o, s:i, s:b, s:o, s:o}",
				       "id", (int)i, "namespace", ep->ns, "pod", ep->pod,
				       "container_id", ep->container_id, "interface",
				       ep->host_ifname, "ifindex", ep->host_ifindex, "ips", ips,
				       "identity", (int)ep->identity, "ready", ep->ready, "ingress",
				       counters_json(d, i, PW_DIR_INGRESS), "egress",
				       counters_json(d, i, PW_DIR_EGRESS)));
	}
	return json_pack("{s:b, s:o}", "ok", 1, "endpoints", arr);
}

/*
 * A local pod's compiled policy, one row per port range of each entry, with
 * the rule the range came from and its hit count from the datapath.
 */
static json_t *do_policy_show(struct pw_daemon *d, json_t *req)
{
	const char *ns = json_string_value(json_object_get(req, "namespace"));
	const char *pod = json_string_value(json_object_get(req, "pod"));
	const struct pw_endpoint_view *v;
	json_t *rows, *iso;

	if (!ns || !pod)
		return err_resp(PW_API_E_INVALID, "policy-show: namespace, pod: missing");
	v = pw_policy_db_endpoint(d->db, ns, pod);
	if (!v)
		return err_resp(PW_API_E_CONTAINER_UNKNOWN,
				"policy-show: pod %s/%s: not a local endpoint of node %s", ns, pod,
				d->o.node_name);
	rows = json_array();
	iso = json_object();
	for (int dir = 0; dir < PW_DIR_COUNT; dir++) {
		char sel[400] = "";

		pw_policy_db_selecting(d->db, ns, pod, dir, sel, sizeof(sel));
		json_object_set_new(iso, dir == PW_DIR_INGRESS ? "ingress" : "egress",
				    json_pack("{s:b, s:s}", "isolated", *sel != 0, "selected_by",
					      sel));
	}
	for (size_t i = 0; i < v->nentries; i++) {
		const struct pw_policy_entry *e = &v->entries[i];
		const char *peer = e->key.identity == PW_ID_ANY ?
					   "any" :
					   pw_policy_db_identity_key(d->db, e->key.identity);

		for (int r = 0; r < e->val.nranges && r < PW_POLICY_RANGES; r++) {
			const struct pw_port_range *pr = &e->val.r[r];
			struct pw_cookie_info ci;
			__u64 hits = 0;
			char ports[16];
			json_t *row;

			if (pr->lo == 0 && pr->hi == 65535)
				snprintf(ports, sizeof(ports), "all");
			else if (pr->lo == pr->hi)
				snprintf(ports, sizeof(ports), "%u", pr->lo);
			else
				snprintf(ports, sizeof(ports), "%u-%u", pr->lo, pr->hi);
			pw_dp_rule_hits_read(d->dp, pr->cookie, &hits);
			row = json_pack("{s:s, s:s?, s:i, s:s, s:s, s:s, s:i, s:I}", "direction",
					e->key.dir == PW_DIR_INGRESS ? "ingress" : "egress", "peer",
					peer, "peer_identity", (int)e->key.identity, "proto",
					e->key.proto ? pw_proto_name(e->key.proto) : "any", "ports",
					ports, "verdict",
					pr->action == PW_ACTION_DENY ? "deny" : "allow", "cookie",
					(int)pr->cookie, "hits", (json_int_t)hits);
			if (row && pr->cookie && !pw_policy_db_cookie(d->db, pr->cookie, &ci))
				json_object_set_new(row, "policy",
						    json_pack("{s:s, s:s, s:i}", "namespace", ci.ns,
							      "name", ci.name, "rule", (int)ci.rule));
			else if (row)
				json_object_set_new(row, "policy", json_null());
			json_array_append_new(rows, row);
		}
	}
	return json_pack("{s:b, s:s, s:s, s:i, s:o, s:o}", "ok", 1, "namespace", ns, "pod", pod,
			 "identity", (int)v->identity, "isolation", iso, "rules", rows);
}

static json_t *do_check(struct pw_daemon *d, json_t *req)
{
	const char *cid = json_string_value(json_object_get(req, "container_id"));
	const char *ifname = json_string_value(json_object_get(req, "ifname"));
	struct pw_endpoint rec;
	struct pw_ep *ep;
	__u32 inner;
	int r;

	if (!cid)
		return err_resp(PW_API_E_INVALID, "endpoint-check: container_id: missing");
	ep = pw_ep_find(d, cid, ifname);
	if (!ep)
		return err_resp(PW_API_E_CONTAINER_UNKNOWN, "endpoint %s/%s: unknown", cid,
				ifname ?: "");
	r = pw_datapath_pod_attached(d->dp, ep->host_ifindex);
	if (r != 1)
		return err_resp(PW_API_E_IO,
				"endpoint %s: programs not attached to %s (ifindex %d)", cid,
				ep->host_ifname, ep->host_ifindex);
	if (pw_dp_endpoint_get(d->dp, (__u32)ep->host_ifindex, &rec) || rec.ep_id != ep->ep_id ||
	    !(rec.flags & PW_EP_F_READY))
		return err_resp(PW_API_E_IO, "endpoint %s: endpoint record missing or not ready",
				cid);
	if (bpf_map_lookup_elem(pw_datapath_map_fd(d->dp, PW_MAP_ID_POLICY), &ep->ep_id, &inner))
		return err_resp(PW_API_E_IO, "endpoint %s: policy map missing", cid);
	return json_pack("{s:b, s:i}", "ok", 1, "id", (int)ep->ep_id);
}

static json_t *do_gc(struct pw_daemon *d, json_t *req)
{
	json_t *valid = json_object_get(req, "valid"), *v;
	int removed = 0;
	size_t j;

	if (!json_is_array(valid))
		return err_resp(PW_API_E_INVALID, "gc: valid: must be an array");
	for (size_t i = 1; i < PW_MAX_ENDPOINTS; i++) {
		struct pw_ep *ep = &d->eps[i];
		bool keep = false;

		if (!ep->used)
			continue;
		json_array_foreach (valid, j, v) {
			const char *cid = json_string_value(json_object_get(v, "containerID"));
			const char *ifn = json_string_value(json_object_get(v, "ifname"));

			if (cid && !strcmp(cid, ep->container_id) &&
			    (!ifn || !strcmp(ifn, ep->ifname)))
				keep = true;
		}
		if (!keep) {
			pw_ep_del(d, ep);
			removed++;
		}
	}
	return json_pack("{s:b, s:i}", "ok", 1, "removed", removed);
}

json_t *pw_daemon_handle(struct pw_daemon *d, json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	char err[1024];
	int r;

	if (!cmd)
		return err_resp(PW_API_E_INVALID, "request: cmd: missing or not a string");
	pr_debug("api: %s", cmd);
	if (!strcmp(cmd, PW_API_CMD_STATUS))
		return do_status(d);
	if (!strcmp(cmd, "endpoints"))
		return do_endpoints(d);
	if (!strcmp(cmd, "flows")) {
		struct pw_flow_filter f;
		json_int_t limit = json_integer_value(json_object_get(req, "limit"));

		if (pw_flow_filter_parse(&f, req, err, sizeof(err)))
			return err_resp(PW_API_E_INVALID, "%s", err);
		if (limit <= 0 || limit > 4096)
			limit = limit <= 0 ? 100 : 4096;
		return json_pack("{s:b, s:o}", "ok", 1, "flows",
				 pw_flowlog_recent(d, &f, (size_t)limit));
	}
	if (!strcmp(cmd, "policy-show"))
		return do_policy_show(d, req);
	if (!strcmp(cmd, "drops")) {
		json_int_t w = json_integer_value(json_object_get(req, "window"));
		json_int_t top = json_integer_value(json_object_get(req, "top"));

		if (w <= 0 || w > 86400)
			return err_resp(PW_API_E_INVALID, "drops: window: 1..86400 seconds");
		return pw_flowlog_drops(d, (unsigned int)w, top > 0 ? (size_t)top : 10);
	}
	if (!strcmp(cmd, "compiled")) {
		/* History-independent compiled state, for comparing with an offline compile. */
		json_t *c = pw_compiled_dump(d->db);

		return c ? json_pack("{s:b, s:o}", "ok", 1, "compiled", c) :
			   err_resp(PW_API_E_IO, "compile failed");
	}
	if (!d->ready)
		return err_resp(PW_API_E_TRY_AGAIN, "podwalld not ready: %s",
				d->not_ready_reason ?: "starting");
	if (!strcmp(cmd, PW_API_CMD_ENDPOINT_ADD)) {
		r = pw_ep_add(d, req, err, sizeof(err));
		if (r)
			return err_resp(errno_code(r), "%s", err);
		struct pw_ep *ep =
			pw_ep_find(d, json_string_value(json_object_get(req, "container_id")),
				   json_string_value(json_object_get(req, "ifname")));

		return json_pack("{s:b, s:i, s:i}", "ok", 1, "id", ep ? (int)ep->ep_id : 0,
				 "identity", ep ? (int)ep->identity : 0);
	}
	if (!strcmp(cmd, PW_API_CMD_ENDPOINT_DEL)) {
		const char *cid = json_string_value(json_object_get(req, "container_id"));
		struct pw_ep *ep;

		if (!cid || !*cid)
			return err_resp(PW_API_E_INVALID, "endpoint-del: container_id: missing");
		ep = pw_ep_find(d, cid, json_string_value(json_object_get(req, "ifname")));
		if (ep) {
			r = pw_ep_del(d, ep);
			if (r)
				pr_warn("endpoint-del %s: %s", cid, strerror(-r));
		}
		return json_pack("{s:b, s:b}", "ok", 1, "known", ep != NULL);
	}
	if (!strcmp(cmd, PW_API_CMD_ENDPOINT_CHECK))
		return do_check(d, req);
	if (!strcmp(cmd, PW_API_CMD_GC))
		return do_gc(d, req);
	{
		json_t *dos = pw_daemon_dos_api(d, cmd, req);

		if (dos)
			return dos;
	}
	return err_resp(PW_API_E_INVALID, "request: cmd: unknown command \"%s\"", cmd);
}

static void client_write(struct client *c)
{
	while (c->outpos < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outpos, c->outlen - c->outpos,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return; /* EPOLLOUT brings us back */
			break;
		}
		c->outpos += (size_t)n;
	}
	if (c->stream && c->outpos == c->outlen) {
		/* Drained: wait for more records, and notice a hang-up. */
		c->outpos = c->outlen = 0;
		if (pw_loop_mod(c->d, c->fd, EPOLLIN, &c->src))
			client_close(c);
		return;
	}
	client_close(c);
}

static int stream_append(struct client *c, const char *s, size_t len)
{
	char *t;

	if (c->outlen - c->outpos + len > STREAM_MAX_BUF)
		return -ENOBUFS;
	if (c->outpos) {
		memmove(c->out, c->out + c->outpos, c->outlen - c->outpos);
		c->outlen -= c->outpos;
		c->outpos = 0;
	}
	t = realloc(c->out, c->outlen + len + 1);
	if (!t)
		return -ENOMEM;
	c->out = t;
	memcpy(c->out + c->outlen, s, len);
	c->outlen += len;
	return 0;
}

void pw_api_publish(struct pw_daemon *d, json_t *rec)
{
	_cleanup_free_ char *line = NULL;
	struct client *c, *next;

	for (c = clients; c; c = next) {
		bool idle;
		char notice[64];

		next = c->next;
		if (!c->stream || !pw_flow_filter_match(&c->filter, rec))
			continue;
		if (!line) {
			char *s = json_dumps(rec, JSON_COMPACT);

			if (!s || asprintf(&line, "%s\n", s) < 0) {
				free(s);
				return;
			}
			free(s);
		}
		idle = c->outpos == c->outlen;
		if (c->lost) {
			int n = snprintf(notice, sizeof(notice), "{\"lost\":%llu}\n",
					 (unsigned long long)c->lost);

			if (!stream_append(c, notice, (size_t)n))
				c->lost = 0;
		}
		if (c->lost || stream_append(c, line, strlen(line))) {
			c->lost++;
			d->stream_dropped++;
			continue;
		}
		if (idle && !pw_loop_mod(d, c->fd, EPOLLIN | EPOLLOUT, &c->src))
			client_write(c);
	}
}

static void client_answer(struct client *c, json_t *resp);

/* {"cmd": "flows", "follow": true, filters}: the answer, the recent records, then live ones. */
static void stream_start(struct client *c, json_t *req)
{
	static const char ok[] = "{\"ok\":true,\"stream\":\"flows\"}\n";
	char err[256];
	json_t *recent, *r;
	size_t i;

	if (pw_flow_filter_parse(&c->filter, req, err, sizeof(err))) {
		client_answer(c, err_resp(PW_API_E_INVALID, "%s", err));
		return;
	}
	c->sreq = json_incref(req);
	c->stream = true;
	stream_append(c, ok, sizeof(ok) - 1);
	recent = pw_flowlog_recent(c->d, &c->filter,
				   (size_t)json_integer_value(json_object_get(req, "limit")));
	json_array_foreach (recent, i, r) {
		_cleanup_free_ char *s = json_dumps(r, JSON_COMPACT);

		if (s && (stream_append(c, s, strlen(s)) || stream_append(c, "\n", 1)))
			break;
	}
	json_decref(recent);
	if (pw_loop_mod(c->d, c->fd, EPOLLIN | EPOLLOUT, &c->src)) {
		client_close(c);
		return;
	}
	client_write(c);
}

static void client_answer(struct client *c, json_t *resp)
{
	char *s = resp ? json_dumps(resp, JSON_COMPACT) : NULL;

	json_decref(resp);
	if (!s || asprintf(&c->out, "%s\n", s) < 0) {
		free(s);
		client_close(c);
		return;
	}
	free(s);
	c->outlen = strlen(c->out);
	c->outpos = 0;
	if (pw_loop_mod(c->d, c->fd, c->stream ? EPOLLIN | EPOLLOUT : EPOLLOUT, &c->src)) {
		client_close(c);
		return;
	}
	client_write(c);
}

static void client_event(struct pw_daemon *d, struct pw_source *s, uint32_t events)
{
	struct client *c = (struct client *)s;
	json_error_t je;
	json_t *req;
	char *nl;

	(void)d;
	if (c->stream) {
		char buf[256];
		ssize_t n;

		/* Whatever a follower sends is ignored; its hang-up ends the stream. */
		if (events & (EPOLLERR | EPOLLHUP)) {
			client_close(c);
			return;
		}
		if (events & EPOLLIN) {
			n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				client_close(c);
				return;
			}
		}
		if (events & EPOLLOUT)
			client_write(c);
		return;
	}
	if (c->out) {
		client_write(c);
		return;
	}
	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
		client_close(c);
		return;
	}
	for (;;) {
		ssize_t n;

		if (c->incap - c->inlen < 2) {
			size_t cap = c->incap ? c->incap * 2 : 4096;
			char *t;

			if (cap > MAX_REQUEST) {
				client_answer(c, err_resp(PW_API_E_INVALID, "request too large"));
				return;
			}
			t = realloc(c->in, cap);
			if (!t) {
				client_close(c);
				return;
			}
			c->in = t;
			c->incap = cap;
		}
		n = recv(c->fd, c->in + c->inlen, c->incap - c->inlen - 1, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			client_close(c);
			return;
		}
		c->in[c->inlen + (size_t)n] = '\0';
		nl = n ? memchr(c->in + c->inlen, '\n', (size_t)n) : NULL;
		c->inlen += (size_t)n;
		if (nl || n == 0)
			break;
	}
	if (!c->inlen) {
		client_close(c);
		return;
	}
	req = json_loadb(c->in, c->inlen, JSON_DISABLE_EOF_CHECK, &je);
	if (!json_is_object(req)) {
		json_decref(req);
		client_answer(
			c, err_resp(PW_API_E_INVALID, "request: not a JSON object: %s", je.text));
		return;
	}
	if (!strcmp(json_string_value(json_object_get(req, "cmd")) ?: "", "flows") &&
	    json_is_true(json_object_get(req, "follow")))
		stream_start(c, req);
	else
		client_answer(c, pw_daemon_handle(c->d, req));
	json_decref(req);
}

static void listen_event(struct pw_daemon *d, struct pw_source *s, uint32_t events)
{
	(void)s;
	(void)events;
	for (;;) {
		int fd = accept4(d->listenfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *c;

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				pr_warn("api: accept: %s", strerror(errno));
			return;
		}
		if (d->nclients >= MAX_CLIENTS) {
			pr_warn("api: %d clients already; refusing one", MAX_CLIENTS);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->src.fn = client_event;
		c->d = d;
		c->fd = fd;
		c->deadline = now_ms() + CLIENT_TIMEOUT_MS;
		if (pw_loop_add(d, fd, EPOLLIN, &c->src)) {
			close(fd);
			free(c);
			continue;
		}
		c->next = clients;
		if (clients)
			clients->prev = c;
		clients = c;
		d->nclients++;
	}
}

void pw_api_tick(struct pw_daemon *d)
{
	long long now = now_ms();
	struct client *c = clients, *next;

	(void)d;
	for (; c; c = next) {
		next = c->next;
		if (!c->stream && now > c->deadline) {
			pr_debug("api: client timed out");
			client_close(c);
		}
	}
}

void pw_api_close(struct pw_daemon *d)
{
	while (clients)
		client_close(clients);
	if (d->listenfd >= 0) {
		close(d->listenfd);
		d->listenfd = -1;
	}
}

static int mkdir_parents(const char *path)
{
	_cleanup_free_ char *p = strdup(path);
	char *s;

	if (!p)
		return -ENOMEM;
	for (s = p + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return 0;
}

int pw_api_listen(struct pw_daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(d->o.socket) >= sizeof(sa.sun_path))
		return pr_err_r(-ENAMETOOLONG, "socket %s", d->o.socket);
	strcpy(sa.sun_path, d->o.socket);
	err = mkdir_parents(d->o.socket);
	if (err)
		return pr_err_r(err, "create the directory of %s", d->o.socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return pr_err_r(-errno, "socket");
	/* A stale socket from a killed daemon: we own the path. */
	unlink(d->o.socket);
	/* Root only: whoever can talk to us can open any pod's traffic. */
	mode_t old = umask(0177);

	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (err || chmod(d->o.socket, 0600) || listen(fd, 64)) {
		err = pr_err_r(-errno, "listen on %s", d->o.socket);
		close(fd);
		return err;
	}
	d->listenfd = fd;
	listen_src.fn = listen_event;
	return pw_loop_add(d, fd, EPOLLIN, &listen_src);
}
