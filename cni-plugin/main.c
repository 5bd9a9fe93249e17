// SPDX-License-Identifier: GPL-2.0-only
/*
 * podwall: a chained CNI plugin (spec 1.0.0 and 1.1.0). It runs after the
 * main plugin (ptp, bridge, ...), tags the pod's host-side veth and registers
 * the endpoint with podwalld, returning the main plugin's result only once
 * the daemon says the pod is enforced.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/magic.h>

#include <jansson.h>

#include "api.h"
#include "cleanup.h"
#include "cni.h"
#include "link.h"
#include "log.h"
#include "queue.h"

#define PW_BPFFS "/sys/fs/bpf"
/* Codes 100+ are the plugin's own (SPEC.md "Error"). */
#define PW_CNI_E_CHECK_FAILED 100
/* A network configuration is small; this only bounds a runaway writer. */
#define MAX_STDIN (16U << 20)

enum {
	NEED_CONTAINERID = 1 << 0,
	NEED_NETNS = 1 << 1,
	NEED_IFNAME = 1 << 2,
};

struct ctx {
	const char *command;
	const char *container_id;
	const char *netns;
	const char *ifname;
	const char *args;
	const char *socket;
	struct pw_cni_conf *conf;
	struct pw_cni_pod pod;
	struct pw_cni_err err;
};

struct cmd {
	const char *name;
	int (*fn)(struct ctx *c);
	unsigned int need;
	bool need_conf;
	const char *min_version; /* NULL: any supported version */
};

/* jansson (>= 2.9) provides json_decrefp() for cleanup attributes. */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* The API client's failure as the CNI error the runtime should see: try again later. */
static int daemon_unreachable(struct ctx *c, int code, int err)
{
	if (err == -ETIMEDOUT)
		return pw_cni_fail(&c->err, code, "podwalld did not answer within %d ms at %s",
				   c->conf->timeout_ms, c->socket);
	if (pw_api_err_is_down(err))
		return pw_cni_fail(&c->err, code, "podwalld is not reachable at %s: %s", c->socket,
				   strerror(-err));
	return pw_cni_fail(&c->err, code, "podwalld at %s: %s", c->socket, strerror(-err));
}

/* Sends @req; on failure fills c->err (transport failures get @down_code). */
static int call_daemon(struct ctx *c, json_t *req, int down_code, json_t **resp, int *transport)
{
	_cleanup_json_ json_t *ans = NULL;
	const char *msg;
	int err, code;

	*transport = 0;
	err = pw_api_call(c->socket, req, c->conf->timeout_ms, &ans);
	if (err) {
		*transport = err;
		return daemon_unreachable(c, down_code, err);
	}
	if (!pw_api_resp_ok(ans, &msg, &code))
		return pw_cni_fail(&c->err, code, "podwalld: %s", msg);
	if (resp)
		*resp = TAKE_PTR(ans);
	return 0;
}

/* ADD and CHECK need a pod; DEL takes what there is. */
static int need_pod(struct ctx *c)
{
	int err = pw_cni_args_parse(c->args, &c->pod, &c->err);

	if (err)
		return err;
	if (c->pod.namespace && c->pod.name)
		return 0;
	if (!c->conf->allow_missing_pod_args)
		return pw_cni_fail(&c->err, PW_CNI_E_ENV,
				   "CNI_ARGS: K8S_POD_NAMESPACE and K8S_POD_NAME are required (set \"allowMissingPodArgs\": true in the network configuration to run without them)");
	if (!c->pod.namespace && !(c->pod.namespace = strdup("default")))
		return -ENOMEM;
	if (!c->pod.name && !(c->pod.name = strndup(c->container_id, 12)))
		return -ENOMEM;
	return 0;
}

/* The container-side interface CNI_IFNAME as the main plugin reported it. */
static int find_ctr_iface(struct ctx *c, int *idx)
{
	const struct pw_cni_result *r = c->conf->prev;
	size_t i;

	for (i = 0; i < r->n_ifaces; i++) {
		if (strcmp(r->ifaces[i].name, c->ifname) || !r->ifaces[i].sandbox ||
		    !*r->ifaces[i].sandbox)
			continue;
		*idx = (int)i;
		return 0;
	}
	return pw_cni_fail(&c->err, PW_CNI_E_CONFIG,
			   "prevResult.interfaces: no interface named \"%s\" with a sandbox (CNI_IFNAME); is podwall chained after the plugin that creates it?",
			   c->ifname);
}

/*
 * Finds the host-side veth of the pod: the container interface's IFLA_LINK,
 * read inside CNI_NETNS, names its peer by ifindex in our namespace; the
 * peer must point back, so an unrelated link with that ifindex is refused.
 */
static int find_host_peer(struct ctx *c, struct pw_link *ctr, struct pw_link *host)
{
	int err;

	err = pw_link_get_in_netns(c->netns, c->ifname, ctr);
	if (err == -ENOENT)
		return pw_cni_fail(&c->err, PW_CNI_E_UNKNOWN_CONTAINER,
				   "CNI_NETNS: %s: no such network namespace", c->netns);
	if (err == -EINVAL)
		return pw_cni_fail(&c->err, PW_CNI_E_ENV, "CNI_NETNS: %s is not a network namespace",
				   c->netns);
	if (err == -ENODEV)
		return pw_cni_fail(&c->err, PW_CNI_E_UNKNOWN_CONTAINER,
				   "interface %s (CNI_IFNAME) does not exist in %s", c->ifname,
				   c->netns);
	if (err)
		return pw_cni_fail(&c->err, PW_CNI_E_IO, "reading interface %s in %s: %s",
				   c->ifname, c->netns, strerror(-err));
	if (strcmp(ctr->kind, "veth") || ctr->peer_ifindex <= 0)
		return pw_cni_fail(&c->err, PW_CNI_E_CONFIG,
				   "interface %s in %s is a \"%s\" link, not a veth: podwall enforces on the host side of a veth pair",
				   c->ifname, c->netns, ctr->kind);
	err = pw_link_get(ctr->peer_ifindex, NULL, host);
	if (err == -ENODEV)
		return pw_cni_fail(&c->err, PW_CNI_E_UNKNOWN_CONTAINER,
				   "the veth peer of %s (ifindex %d) is not in podwall's network namespace",
				   c->ifname, ctr->peer_ifindex);
	if (err)
		return pw_cni_fail(&c->err, PW_CNI_E_IO, "reading host interface ifindex %d: %s",
				   ctr->peer_ifindex, strerror(-err));
	if (strcmp(host->kind, "veth") || host->peer_ifindex != ctr->ifindex)
		return pw_cni_fail(&c->err, PW_CNI_E_UNKNOWN_CONTAINER,
				   "host interface %s (ifindex %d) is not the veth peer of %s in %s",
				   host->name, host->ifindex, c->ifname, c->netns);
	return 0;
}

/* The main plugin may list the host side too; if it does, it must agree with the kernel. */
static int cross_check_host(struct ctx *c, const struct pw_link *host)
{
	const struct pw_cni_result *r = c->conf->prev;
	size_t i;

	for (i = 0; i < r->n_ifaces; i++) {
		const struct pw_cni_iface *f = &r->ifaces[i];

		if ((f->sandbox && *f->sandbox) || strcmp(f->name, host->name))
			continue;
		if (f->mac && *host->mac && strcasecmp(f->mac, host->mac))
			return pw_cni_fail(&c->err, PW_CNI_E_CONFIG,
					   "prevResult.interfaces[%zu].mac: %s, but host interface %s has %s",
					   i, f->mac, host->name, host->mac);
		return 0;
	}
	pr_debug("host interface %s is not listed in prevResult", host->name);
	return 0;
}

static json_t *pod_ips(struct ctx *c, int ctr_idx)
{
	const struct pw_cni_result *r = c->conf->prev;
	json_t *ips = json_array();
	size_t i;

	for (i = 0; ips && i < r->n_ips; i++)
		if (r->ips[i].iface == ctr_idx || r->ips[i].iface < 0)
			json_array_append_new(ips, json_string(r->ips[i].address));
	return ips;
}

static int print_json(json_t *j)
{
	if (json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) < 0 || fputc('\n', stdout) < 0 ||
	    fflush(stdout) != 0)
		return -EIO;
	return 0;
}

static int do_add(struct ctx *c)
{
	_cleanup_json_ json_t *req = NULL;
	char alias[PW_CNI_IFALIAS_MAX];
	struct pw_link ctr, host;
	int err, err2, idx, transport;
	json_t *out;

	if (!c->conf->prev)
		return pw_cni_fail(&c->err, PW_CNI_E_CONFIG,
				   "prevResult: missing; podwall is a chained plugin and must follow the main plugin (ptp, bridge, ...) in a conflist");
	err = need_pod(c);
	if (!err)
		err = find_ctr_iface(c, &idx);
	if (!err)
		err = find_host_peer(c, &ctr, &host);
	if (!err)
		err = cross_check_host(c, &host);
	if (err)
		return err;

	req = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:o, s:s}",
			"cmd", PW_API_CMD_ENDPOINT_ADD, "container_id", c->container_id,
			"netns", c->netns, "ifname", c->ifname, "namespace", c->pod.namespace,
			"pod", c->pod.name, "uid", c->pod.uid ?: "", "host_ifname", host.name,
			"host_ifindex", host.ifindex, "ips", pod_ips(c, idx), "mac", ctr.mac);
	if (!req)
		return -ENOMEM;

	pw_cni_ifalias(alias, sizeof(alias), c->pod.namespace, c->pod.name);
	err = pw_link_set_ifalias(host.ifindex, alias);
	if (err)
		return pw_cni_fail(&c->err, PW_CNI_E_IO, "setting the ifalias of %s: %s", host.name,
				   strerror(-err));

	err = call_daemon(c, req, PW_CNI_E_TRY_AGAIN, NULL, &transport);
	if (err) {
		/* No half-attached pod: take back the tag, so `ip link` does not claim it is enforced. */
		err2 = pw_link_set_ifalias(host.ifindex, host.ifalias);
		if (err2)
			pw_cni_details(&c->err, "and restoring the ifalias of %s failed: %s",
				       host.name, strerror(-err2));
		return err;
	}

	out = c->conf->prev->json;
	if (!json_object_get(out, "cniVersion"))
		json_object_set_new(out, "cniVersion", json_string(c->conf->cni_version));
	return print_json(out);
}

/* Takes our tag off the host veth; the main plugin deletes the veth itself after us. */
static void untag_host(struct ctx *c)
{
	struct pw_link ctr, host;
	struct pw_cni_err ignored = {};
	struct pw_cni_err saved = c->err;

	if (!c->netns || !*c->netns)
		return;
	c->err = ignored;
	if (!find_host_peer(c, &ctr, &host) &&
	    !strncmp(host.ifalias, PW_CNI_IFALIAS_PREFIX, strlen(PW_CNI_IFALIAS_PREFIX)) &&
	    pw_link_set_ifalias(host.ifindex, ""))
		pr_warn("cannot clear the ifalias of %s", host.name);
	if (c->err.code)
		pr_debug("DEL: no host veth to untag: %s", c->err.msg);
	c->err = saved;
}

static int do_del(struct ctx *c)
{
	_cleanup_json_ json_t *req = NULL;
	struct pw_cni_err args_err = {};
	int err, transport;

	/* DEL must succeed whatever is left: bad or missing pod args only lose the names. */
	if (pw_cni_args_parse(c->args, &c->pod, &args_err))
		pr_warn("DEL: ignoring CNI_ARGS: %s", args_err.msg);
	untag_host(c);

	req = json_pack("{s:s, s:s, s:s, s:s, s:s}", "cmd", PW_API_CMD_ENDPOINT_DEL,
			"container_id", c->container_id, "ifname", c->ifname, "namespace",
			c->pod.namespace ?: "", "pod", c->pod.name ?: "");
	if (!req)
		return -ENOMEM;
	err = call_daemon(c, req, PW_CNI_E_TRY_AGAIN, NULL, &transport);
	if (!err) {
		err = pw_cni_queue_drop(c->conf->queue_dir, c->container_id);
		if (err)
			pr_warn("DEL: cannot remove the stale queued deletion of %s: %s",
				c->container_id, strerror(-err));
		return 0;
	}
	if (!transport)
		return err;

	/* The daemon is down or stuck: leave the deletion for it to apply when it starts. */
	memset(&c->err, 0, sizeof(c->err));
	err = pw_cni_queue_del(c->conf->queue_dir, c->container_id, req);
	if (err)
		return pw_cni_fail(&c->err, PW_CNI_E_IO,
				   "podwalld is not reachable at %s and the deletion cannot be queued in %s: %s",
				   c->socket, c->conf->queue_dir, strerror(-err));
	pr_info("podwalld is not reachable at %s: deletion of %s queued in %s", c->socket,
		c->container_id, c->conf->queue_dir);
	return 0;
}

static int do_check(struct ctx *c)
{
	_cleanup_json_ json_t *req = NULL;
	char alias[PW_CNI_IFALIAS_MAX];
	struct pw_link ctr, host;
	int err, idx, transport;

	if (!c->conf->prev)
		return pw_cni_fail(&c->err, PW_CNI_E_CONFIG,
				   "prevResult: missing; CHECK needs the result of the ADD it checks");
	err = need_pod(c);
	if (err)
		return err;
	req = json_pack("{s:s, s:s, s:s}", "cmd", PW_API_CMD_ENDPOINT_CHECK, "container_id",
			c->container_id, "ifname", c->ifname);
	if (!req)
		return -ENOMEM;
	err = call_daemon(c, req, PW_CNI_E_TRY_AGAIN, NULL, &transport);
	if (!err)
		err = find_ctr_iface(c, &idx);
	if (!err)
		err = find_host_peer(c, &ctr, &host);
	if (!err)
		err = cross_check_host(c, &host);
	if (err)
		return err;
	pw_cni_ifalias(alias, sizeof(alias), c->pod.namespace, c->pod.name);
	if (strcmp(host.ifalias, alias))
		return pw_cni_fail(&c->err, PW_CNI_E_CHECK_FAILED,
				   "host interface %s has ifalias \"%s\", expected \"%s\"", host.name,
				   host.ifalias, alias);
	return 0;
}

static int do_status(struct ctx *c)
{
	_cleanup_json_ json_t *req = NULL, *resp = NULL;
	const json_t *reason;
	struct statfs st;
	int err, transport;

	if (statfs(PW_BPFFS, &st) < 0 || st.f_type != BPF_FS_MAGIC)
		return pw_cni_fail(&c->err, PW_CNI_E_UNAVAILABLE,
				   "bpffs is not mounted at " PW_BPFFS
				   ": podwall cannot pin or find its datapath");
	req = json_pack("{s:s}", "cmd", PW_API_CMD_STATUS);
	if (!req)
		return -ENOMEM;
	err = call_daemon(c, req, PW_CNI_E_UNAVAILABLE, &resp, &transport);
	if (err) {
		/* Whatever the daemon said, STATUS has one failure code for "no new pods". */
		c->err.code = PW_CNI_E_UNAVAILABLE;
		return err;
	}
	if (!json_is_true(json_object_get(resp, "ready"))) {
		reason = json_object_get(resp, "reason");
		return pw_cni_fail(&c->err, PW_CNI_E_UNAVAILABLE, "podwalld is not ready: %s",
				   json_is_string(reason) ? json_string_value(reason) :
							    "no reason given");
	}
	return 0;
}

static int do_gc(struct ctx *c)
{
	_cleanup_json_ json_t *req = NULL;
	json_t *valid, *v;
	int err, transport;
	size_t i;

	/* Without the list, "remove everything not listed" would remove every pod. */
	if (!c->conf->valid_attachments)
		return pw_cni_fail(&c->err, PW_CNI_E_CONFIG,
				   "cni.dev/valid-attachments: missing; GC needs the list of attachments to keep");
	valid = json_array();
	req = json_pack("{s:s, s:o}", "cmd", PW_API_CMD_GC, "valid", valid);
	if (!req)
		return -ENOMEM;
	json_array_foreach(c->conf->valid_attachments, i, v)
		json_array_append_new(valid, json_pack("{s:O, s:O}", "containerID",
						       json_object_get(v, "containerID"), "ifname",
						       json_object_get(v, "ifname")));
	err = call_daemon(c, req, PW_CNI_E_TRY_AGAIN, NULL, &transport);
	return err;
}

static int do_version(struct ctx *c)
{
	_cleanup_json_ json_t *out = NULL;
	json_t *list;
	size_t i;

	(void)c;
	list = json_array();
	/* Oldest first, as runtimes print it. */
	for (i = pw_cni_n_versions; list && i-- > 0;)
		json_array_append_new(list, json_string(pw_cni_versions[i]));
	out = json_pack("{s:s, s:o}", "cniVersion", pw_cni_versions[0], "supportedVersions", list);
	if (!out)
		return -ENOMEM;
	return print_json(out);
}

static const struct cmd cmds[] = {
	{ "ADD", do_add, NEED_CONTAINERID | NEED_NETNS | NEED_IFNAME, true, NULL },
	{ "DEL", do_del, NEED_CONTAINERID | NEED_IFNAME, true, NULL },
	{ "CHECK", do_check, NEED_CONTAINERID | NEED_NETNS | NEED_IFNAME, true, NULL },
	{ "STATUS", do_status, 0, true, "1.1.0" },
	{ "GC", do_gc, 0, true, "1.1.0" },
	{ "VERSION", do_version, 0, false, NULL },
};

static int read_stdin(char **out, size_t *len)
{
	_cleanup_free_ char *buf = NULL;
	size_t n = 0, cap = 0;
	char *tmp;
	ssize_t r;

	for (;;) {
		if (n == cap) {
			if (cap >= MAX_STDIN)
				return -EFBIG;
			cap = cap ? cap * 2 : 4096;
			tmp = realloc(buf, cap + 1);
			if (!tmp)
				return -ENOMEM;
			buf = tmp;
		}
		r = read(STDIN_FILENO, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (!buf && !(buf = calloc(1, 1)))
		return -ENOMEM;
	buf[n] = '\0';
	*len = n;
	*out = TAKE_PTR(buf);
	return 0;
}

/* The error object's cniVersion: the configuration's when it says a supported one. */
static const char *err_version(const char *in, size_t len)
{
	static char ver[16];
	json_t *root = json_loadb(in ?: "", in ? len : 0, 0, NULL);
	const char *v = json_string_value(json_object_get(root, "cniVersion"));

	snprintf(ver, sizeof(ver), "%s", pw_cni_version_supported(v) ? v : pw_cni_versions[0]);
	json_decref(root);
	return ver;
}

static int check_env(struct ctx *c, unsigned int need)
{
	if ((need & NEED_CONTAINERID) && (!c->container_id || !*c->container_id))
		return pw_cni_fail(&c->err, PW_CNI_E_ENV, "CNI_CONTAINERID: missing (required for %s)",
				   c->command);
	if (c->container_id && *c->container_id && !pw_cni_container_id_valid(c->container_id))
		return pw_cni_fail(&c->err, PW_CNI_E_ENV,
				   "CNI_CONTAINERID: \"%s\" is not a container id (a letter or digit, then letters, digits, '_', '.' or '-')",
				   c->container_id);
	if ((need & NEED_NETNS) && (!c->netns || !*c->netns))
		return pw_cni_fail(&c->err, PW_CNI_E_ENV, "CNI_NETNS: missing (required for %s)",
				   c->command);
	if ((need & NEED_IFNAME) && (!c->ifname || !*c->ifname))
		return pw_cni_fail(&c->err, PW_CNI_E_ENV, "CNI_IFNAME: missing (required for %s)",
				   c->command);
	if (c->ifname && *c->ifname &&
	    (strlen(c->ifname) >= IF_NAMESIZE || strpbrk(c->ifname, "/ \t\n:")))
		return pw_cni_fail(&c->err, PW_CNI_E_ENV, "CNI_IFNAME: \"%s\" is not an interface name",
				   c->ifname);
	return 0;
}

static int run(struct ctx *c, const char *in, size_t len)
{
	const struct cmd *cmd = NULL;
	const char *env;
	size_t i;
	int err;

	if (!c->command || !*c->command)
		return pw_cni_fail(&c->err, PW_CNI_E_ENV,
				   "CNI_COMMAND: missing (ADD, DEL, CHECK, STATUS, GC or VERSION)");
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(c->command, cmds[i].name))
			cmd = &cmds[i];
	if (!cmd)
		return pw_cni_fail(&c->err, PW_CNI_E_ENV,
				   "CNI_COMMAND: \"%s\" is not one of ADD, DEL, CHECK, STATUS, GC, VERSION",
				   c->command);
	if (cmd->need_conf) {
		err = pw_cni_conf_parse(in, len, &c->conf, &c->err);
		if (err)
			return err;
		pw_log_set_level(c->conf->log_level);
		if (cmd->min_version && strcmp(c->conf->cni_version, cmd->min_version) < 0)
			return pw_cni_fail(&c->err, PW_CNI_E_VERSION,
					   "cniVersion: %s appeared in CNI %s; the configuration says %s",
					   cmd->name, cmd->min_version, c->conf->cni_version);
		env = getenv("PODWALL_SOCKET");
		c->socket = env && *env ? env : c->conf->socket;
	}
	err = check_env(c, cmd->need);
	if (err)
		return err;
	return cmd->fn(c);
}

int main(void)
{
	_cleanup_free_ char *in = NULL;
	struct ctx c = {
		.command = getenv("CNI_COMMAND"),
		.container_id = getenv("CNI_CONTAINERID"),
		.netns = getenv("CNI_NETNS"),
		.ifname = getenv("CNI_IFNAME"),
		.args = getenv("CNI_ARGS"),
	};
	json_t *out;
	size_t len = 0;
	int err;

	pw_log_set_level(PW_LOG_WARN);
	err = read_stdin(&in, &len);
	if (err)
		pw_cni_fail(&c.err, PW_CNI_E_IO, "reading the network configuration from stdin: %s",
			    strerror(-err));
	else
		err = run(&c, in, len);

	if (err && !c.err.code)
		pw_cni_fail(&c.err, PW_CNI_E_IO, "%s failed: %s", c.command ?: "podwall",
			    strerror(-err));
	pw_cni_pod_clear(&c.pod);
	pw_cni_conf_free(&c.conf);
	if (!c.err.code)
		return 0;

	pr_err("%s%s%s", c.err.msg, *c.err.details ? ": " : "", c.err.details);
	out = json_pack("{s:s, s:i, s:s}", "cniVersion", err_version(in, len), "code", c.err.code,
			"msg", c.err.msg);
	if (out && *c.err.details)
		json_object_set_new(out, "details", json_string(c.err.details));
	if (out)
		print_json(out);
	json_decref(out);
	return 1;
}
