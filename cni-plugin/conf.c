// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "cleanup.h"
#include "cni.h"
#include "log.h"

const char *const pw_cni_versions[] = { "1.1.0", "1.0.0" };
const size_t pw_cni_n_versions = ARRAY_SIZE(pw_cni_versions);

int pw_cni_fail(struct pw_cni_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e && !e->code) {
		e->code = code;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

void pw_cni_details(struct pw_cni_err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->details, sizeof(e->details), fmt, ap);
	va_end(ap);
}

bool pw_cni_version_supported(const char *v)
{
	size_t i;

	for (i = 0; v && i < pw_cni_n_versions; i++)
		if (!strcmp(v, pw_cni_versions[i]))
			return true;
	return false;
}

bool pw_cni_container_id_valid(const char *id)
{
	const char *p;

	if (!id || !isalnum((unsigned char)id[0]))
		return false;
	for (p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return false;
	/* Bounded so that it always fits a file name in the DEL queue. */
	return p - id <= 200;
}

void pw_cni_ifalias(char *buf, size_t size, const char *ns, const char *pod)
{
	size_t cap = size < PW_CNI_IFALIAS_MAX ? size : PW_CNI_IFALIAS_MAX;

	/* Kubernetes names fit 63 + 253 bytes; the kernel keeps 255: truncation is for display. */
	snprintf(buf, cap, PW_CNI_IFALIAS_PREFIX "%s/%s", ns, pod);
}

/* "a.b.c.d/n" or "x::y/n", the form CNI results use for addresses and routes. */
static bool cidr_valid(const char *s)
{
	unsigned char addr[16];
	const char *slash = strchr(s, '/');
	char ip[INET6_ADDRSTRLEN];
	size_t iplen;
	long prefix;
	char *end;
	int af;

	if (!slash)
		return false;
	iplen = (size_t)(slash - s);
	if (!iplen || iplen >= sizeof(ip))
		return false;
	memcpy(ip, s, iplen);
	ip[iplen] = '\0';
	af = strchr(ip, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(af, ip, addr) != 1)
		return false;
	if (!isdigit((unsigned char)slash[1]))
		return false;
	errno = 0;
	prefix = strtol(slash + 1, &end, 10);
	if (errno || *end || prefix < 0 || prefix > (af == AF_INET ? 32 : 128))
		return false;
	return true;
}

static bool ip_valid(const char *s)
{
	unsigned char addr[16];

	return inet_pton(strchr(s, ':') ? AF_INET6 : AF_INET, s, addr) == 1;
}

/* A string member: 0 with *out NULL when absent; an error naming the field when not a string. */
static int get_str(json_t *obj, const char *path, const char *key, bool required, const char **out,
		   struct pw_cni_err *e)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v) {
		if (required)
			return pw_cni_fail(e, PW_CNI_E_CONFIG, "%s%s: missing (expected a string)",
					   path, key);
		return 0;
	}
	if (!json_is_string(v))
		return pw_cni_fail(e, PW_CNI_E_CONFIG, "%s%s: expected a string", path, key);
	*out = json_string_value(v);
	if (required && !**out)
		return pw_cni_fail(e, PW_CNI_E_CONFIG, "%s%s: must not be empty", path, key);
	return 0;
}

static int parse_ifaces(json_t *arr, struct pw_cni_result *r, struct pw_cni_err *e)
{
	char path[64];
	size_t i;
	json_t *v;
	int err;

	if (!json_is_array(arr))
		return pw_cni_fail(e, PW_CNI_E_CONFIG, "prevResult.interfaces: expected an array");
	r->n_ifaces = json_array_size(arr);
	r->ifaces = calloc(r->n_ifaces ? r->n_ifaces : 1, sizeof(*r->ifaces));
	if (!r->ifaces)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		snprintf(path, sizeof(path), "prevResult.interfaces[%zu].", i);
		if (!json_is_object(v))
			return pw_cni_fail(e, PW_CNI_E_CONFIG, "prevResult.interfaces[%zu]: expected an object", i);
		err = get_str(v, path, "name", true, &r->ifaces[i].name, e);
		if (!err)
			err = get_str(v, path, "mac", false, &r->ifaces[i].mac, e);
		if (!err)
			err = get_str(v, path, "sandbox", false, &r->ifaces[i].sandbox, e);
		if (err)
			return err;
	}
	return 0;
}

static int parse_ips(json_t *arr, struct pw_cni_result *r, struct pw_cni_err *e)
{
	const char *gw;
	char path[64];
	json_t *v, *ifc;
	size_t i;
	int err;

	if (!json_is_array(arr))
		return pw_cni_fail(e, PW_CNI_E_CONFIG, "prevResult.ips: expected an array");
	r->n_ips = json_array_size(arr);
	r->ips = calloc(r->n_ips ? r->n_ips : 1, sizeof(*r->ips));
	if (!r->ips)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		snprintf(path, sizeof(path), "prevResult.ips[%zu].", i);
		if (!json_is_object(v))
			return pw_cni_fail(e, PW_CNI_E_CONFIG, "prevResult.ips[%zu]: expected an object", i);
		err = get_str(v, path, "address", true, &r->ips[i].address, e);
		if (err)
			return err;
		if (!cidr_valid(r->ips[i].address))
			return pw_cni_fail(e, PW_CNI_E_CONFIG,
					   "%saddress: \"%s\" is not an address/prefix", path,
					   r->ips[i].address);
		err = get_str(v, path, "gateway", false, &gw, e);
		if (err)
			return err;
		if (gw && !ip_valid(gw))
			return pw_cni_fail(e, PW_CNI_E_CONFIG, "%sgateway: \"%s\" is not an address",
					   path, gw);
		r->ips[i].iface = -1;
		ifc = json_object_get(v, "interface");
		if (!ifc)
			continue;
		if (!json_is_integer(ifc))
			return pw_cni_fail(e, PW_CNI_E_CONFIG, "%sinterface: expected an integer", path);
		if (json_integer_value(ifc) < 0 ||
		    (size_t)json_integer_value(ifc) >= r->n_ifaces)
			return pw_cni_fail(e, PW_CNI_E_CONFIG,
					   "%sinterface: %" JSON_INTEGER_FORMAT
					   " is not an index into prevResult.interfaces (%zu entries)",
					   path, json_integer_value(ifc), r->n_ifaces);
		r->ips[i].iface = (int)json_integer_value(ifc);
	}
	return 0;
}

static int parse_routes(json_t *arr, struct pw_cni_err *e)
{
	const char *dst, *gw;
	char path[64];
	json_t *v;
	size_t i;
	int err;

	if (!json_is_array(arr))
		return pw_cni_fail(e, PW_CNI_E_CONFIG, "prevResult.routes: expected an array");
	json_array_foreach(arr, i, v) {
		snprintf(path, sizeof(path), "prevResult.routes[%zu].", i);
		if (!json_is_object(v))
			return pw_cni_fail(e, PW_CNI_E_CONFIG, "prevResult.routes[%zu]: expected an object", i);
		err = get_str(v, path, "dst", true, &dst, e);
		if (!err)
			err = get_str(v, path, "gw", false, &gw, e);
		if (err)
			return err;
		if (!cidr_valid(dst))
			return pw_cni_fail(e, PW_CNI_E_CONFIG, "%sdst: \"%s\" is not an address/prefix",
					   path, dst);
		if (gw && !ip_valid(gw))
			return pw_cni_fail(e, PW_CNI_E_CONFIG, "%sgw: \"%s\" is not an address", path, gw);
	}
	return 0;
}

static void result_free(struct pw_cni_result **r)
{
	if (!*r)
		return;
	free((*r)->ifaces);
	free((*r)->ips);
	free(*r);
	*r = NULL;
}

static int parse_result(json_t *obj, struct pw_cni_result **out, struct pw_cni_err *e)
{
	struct pw_cni_result *r;
	const char *ver;
	json_t *v;
	int err;

	if (!json_is_object(obj))
		return pw_cni_fail(e, PW_CNI_E_CONFIG, "prevResult: expected an object");
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->json = obj;
	err = get_str(obj, "prevResult.", "cniVersion", false, &ver, e);
	if (err)
		goto out;
	/* 0.x results keep addresses in another shape ("version" per IP); refuse rather than guess. */
	if (ver && !pw_cni_version_supported(ver)) {
		err = pw_cni_fail(e, PW_CNI_E_VERSION,
				  "prevResult.cniVersion: \"%s\" is not supported (podwall speaks %s and %s)",
				  ver, pw_cni_versions[1], pw_cni_versions[0]);
		goto out;
	}
	v = json_object_get(obj, "interfaces");
	if (v && (err = parse_ifaces(v, r, e)))
		goto out;
	v = json_object_get(obj, "ips");
	if (v && (err = parse_ips(v, r, e)))
		goto out;
	v = json_object_get(obj, "routes");
	if (v && (err = parse_routes(v, e)))
		goto out;
	v = json_object_get(obj, "dns");
	if (v && !json_is_object(v)) {
		err = pw_cni_fail(e, PW_CNI_E_CONFIG, "prevResult.dns: expected an object");
		goto out;
	}
	*out = r;
	return 0;
out:
	result_free(&r);
	return err;
}

static int parse_attachments(json_t *arr, struct pw_cni_err *e)
{
	const char *s;
	char path[80];
	json_t *v;
	size_t i;
	int err;

	if (!json_is_array(arr))
		return pw_cni_fail(e, PW_CNI_E_CONFIG, "cni.dev/valid-attachments: expected an array");
	json_array_foreach(arr, i, v) {
		snprintf(path, sizeof(path), "cni.dev/valid-attachments[%zu].", i);
		if (!json_is_object(v))
			return pw_cni_fail(e, PW_CNI_E_CONFIG,
					   "cni.dev/valid-attachments[%zu]: expected an object", i);
		err = get_str(v, path, "containerID", true, &s, e);
		if (!err)
			err = get_str(v, path, "ifname", true, &s, e);
		if (err)
			return err;
	}
	return 0;
}

static int parse_ours(struct pw_cni_conf *c, struct pw_cni_err *e)
{
	static const char *const levels[] = { "error", "warn", "info", "debug" };
	const char *lvl;
	json_t *v;
	size_t i;
	int err;

	err = get_str(c->root, "", "socket", false, &c->socket, e);
	if (!err)
		err = get_str(c->root, "", "queueDir", false, &c->queue_dir, e);
	if (!err)
		err = get_str(c->root, "", "logLevel", false, &lvl, e);
	if (err)
		return err;
	if (c->socket && !*c->socket)
		return pw_cni_fail(e, PW_CNI_E_CONFIG, "socket: must not be empty");
	if (c->queue_dir && c->queue_dir[0] != '/')
		return pw_cni_fail(e, PW_CNI_E_CONFIG, "queueDir: \"%s\" is not an absolute path",
				   c->queue_dir);
	if (!c->socket)
		c->socket = PW_API_SOCKET_DEFAULT;
	if (!c->queue_dir)
		c->queue_dir = PW_API_QUEUE_DIR_DEFAULT;

	c->log_level = PW_LOG_WARN;
	if (lvl) {
		for (i = 0; i < ARRAY_SIZE(levels); i++)
			if (!strcmp(lvl, levels[i]))
				break;
		if (i == ARRAY_SIZE(levels))
			return pw_cni_fail(e, PW_CNI_E_CONFIG,
					   "logLevel: \"%s\" is not one of error, warn, info, debug", lvl);
		c->log_level = (int)i;
	}

	c->timeout_ms = PW_API_TIMEOUT_MS_DEFAULT;
	v = json_object_get(c->root, "timeoutMs");
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 600000)
			return pw_cni_fail(e, PW_CNI_E_CONFIG,
					   "timeoutMs: expected an integer from 1 to 600000");
		c->timeout_ms = (int)json_integer_value(v);
	}

	v = json_object_get(c->root, "allowMissingPodArgs");
	if (v && !json_is_boolean(v))
		return pw_cni_fail(e, PW_CNI_E_CONFIG, "allowMissingPodArgs: expected true or false");
	c->allow_missing_pod_args = json_is_true(v);
	return 0;
}

int pw_cni_conf_parse(const char *buf, size_t len, struct pw_cni_conf **out, struct pw_cni_err *e)
{
	struct pw_cni_conf *c;
	json_error_t jerr;
	json_t *v;
	int err;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!c->root) {
		err = pw_cni_fail(e, PW_CNI_E_DECODE,
				  "network configuration on stdin is not valid JSON: %s (line %d, column %d)",
				  jerr.text, jerr.line, jerr.column);
		goto out;
	}
	if (!json_is_object(c->root)) {
		err = pw_cni_fail(e, PW_CNI_E_DECODE,
				  "network configuration on stdin: expected a JSON object");
		goto out;
	}
	err = get_str(c->root, "", "cniVersion", true, &c->cni_version, e);
	if (err)
		goto out;
	if (!pw_cni_version_supported(c->cni_version)) {
		err = pw_cni_fail(e, PW_CNI_E_VERSION,
				  "cniVersion: \"%s\" is not supported (podwall speaks %s and %s)",
				  c->cni_version, pw_cni_versions[1], pw_cni_versions[0]);
		goto out;
	}
	err = get_str(c->root, "", "name", true, &c->name, e);
	if (!err)
		err = get_str(c->root, "", "type", true, &c->type, e);
	if (!err)
		err = parse_ours(c, e);
	if (err)
		goto out;
	v = json_object_get(c->root, "prevResult");
	if (v && !json_is_null(v) && (err = parse_result(v, &c->prev, e)))
		goto out;
	v = json_object_get(c->root, "cni.dev/valid-attachments");
	if (v) {
		err = parse_attachments(v, e);
		if (err)
			goto out;
		c->valid_attachments = v;
	}
	*out = c;
	return 0;
out:
	pw_cni_conf_free(&c);
	return err;
}

void pw_cni_conf_free(struct pw_cni_conf **conf)
{
	struct pw_cni_conf *c = *conf;

	if (!c)
		return;
	result_free(&c->prev);
	json_decref(c->root);
	free(c);
	*conf = NULL;
}

/* Kubernetes names: DNS labels/subdomains, UIDs: hex and dashes. Anything else is not a pod. */
static bool k8s_name_valid(const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!islower((unsigned char)s[n]) && !isdigit((unsigned char)s[n]) &&
		    !strchr("-.", s[n]))
			return false;
	return n > 0 && n <= max;
}

static int set_arg(char **dst, const char *key, const char *val, size_t max, struct pw_cni_err *e)
{
	char *copy;

	/* Some runtimes pass keys they have no value for; that is "absent", not a bad name. */
	if (!*val)
		return 0;
	if (!k8s_name_valid(val, max))
		return pw_cni_fail(e, PW_CNI_E_ENV,
				   "CNI_ARGS: %s=\"%s\" is not a Kubernetes name (lowercase letters, digits, '-' and '.', at most %zu)",
				   key, val, max);
	copy = strdup(val);
	if (!copy)
		return -ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

int pw_cni_args_parse(const char *args, struct pw_cni_pod *pod, struct pw_cni_err *e)
{
	_cleanup_free_ char *copy = NULL;
	char *save = NULL, *pair, *eq;
	int err = 0;

	if (!args || !*args)
		return 0;
	copy = strdup(args);
	if (!copy)
		return -ENOMEM;
	for (pair = strtok_r(copy, ";", &save); pair && !err; pair = strtok_r(NULL, ";", &save)) {
		eq = strchr(pair, '=');
		if (!eq || eq == pair)
			return pw_cni_fail(e, PW_CNI_E_ENV,
					   "CNI_ARGS: \"%s\" is not a KEY=VALUE pair", pair);
		*eq++ = '\0';
		if (!strcmp(pair, "K8S_POD_NAMESPACE"))
			err = set_arg(&pod->namespace, pair, eq, 63, e);
		else if (!strcmp(pair, "K8S_POD_NAME"))
			err = set_arg(&pod->name, pair, eq, 253, e);
		else if (!strcmp(pair, "K8S_POD_UID"))
			err = set_arg(&pod->uid, pair, eq, 64, e);
	}
	return err;
}

void pw_cni_pod_clear(struct pw_cni_pod *pod)
{
	free(pod->namespace);
	free(pod->name);
	free(pod->uid);
	memset(pod, 0, sizeof(*pod));
}
