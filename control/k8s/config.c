// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where the API server is and how to authenticate: a kubeconfig file (the
 * subset a node agent needs: server, CA, bearer token or token file, client
 * certificate) or the in-cluster service account.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "k8s.h"
#include "policy.h"

void pw_k8s_config_clear(struct pw_k8s_config *c)
{
	free(c->server);
	free(c->token);
	free(c->token_file);
	free(c->ca_file);
	free(c->ca_pem);
	free(c->cert_file);
	free(c->key_file);
	free(c->cert_pem);
	free(c->key_pem);
	memset(c, 0, sizeof(*c));
}

static int b64val(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

char *pw_k8s_base64_decode(const char *in, size_t *outlen)
{
	size_t n = strlen(in), o = 0;
	uint32_t acc = 0;
	int bits = 0;
	char *out = malloc(n / 4 * 3 + 4);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)in[i];
		int v;

		if (ch == '=')
			break;
		if (ch == '\n' || ch == '\r' || ch == ' ' || ch == '\t')
			continue;
		v = b64val(ch);
		if (v < 0) {
			free(out);
			errno = EINVAL;
			return NULL;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)(acc >> bits & 0xff);
		}
	}
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return out;
}

static char *read_all(const char *path, size_t *len)
{
	_cleanup_free_ char *buf = NULL;
	size_t cap = 0, n = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			char *b = realloc(buf, cap = cap ? cap * 2 : 8192);

			if (!b) {
				close(fd);
				errno = ENOMEM;
				return NULL;
			}
			buf = b;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (r < 0)
		return NULL;
	buf[n] = '\0';
	if (len)
		*len = n;
	return TAKE_PTR(buf);
}

/* Finds {"name": name, key: {...}} in a kubeconfig list; returns the inner object. */
static json_t *named(json_t *list, const char *name, const char *key)
{
	size_t i;
	json_t *e;

	json_array_foreach (list, i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));

		if (n && !strcmp(n, name))
			return json_object_get(e, key);
	}
	return NULL;
}

/* A path relative to the kubeconfig's directory, as kubectl resolves it. */
static char *resolve(const char *dir, const char *p)
{
	char *out;

	if (p[0] == '/' || !dir)
		return strdup(p);
	if (asprintf(&out, "%s/%s", dir, p) < 0)
		return NULL;
	return out;
}

static int take_str(json_t *o, const char *field, const char *dir, bool path, char **dst)
{
	json_t *v = json_object_get(o, field);

	if (!v)
		return 0;
	if (!json_is_string(v))
		return -EINVAL;
	*dst = path ? resolve(dir, json_string_value(v)) : strdup(json_string_value(v));
	return *dst ? 0 : -ENOMEM;
}

static int take_data(json_t *o, const char *field, char **dst)
{
	json_t *v = json_object_get(o, field);

	if (!v)
		return 0;
	if (!json_is_string(v))
		return -EINVAL;
	*dst = pw_k8s_base64_decode(json_string_value(v), NULL);
	return *dst ? 0 : -EINVAL;
}

int pw_k8s_config_kubeconfig(const char *path, const char *context, struct pw_k8s_config *out,
			     char *errmsg, size_t errlen)
{
	char msg[PW_ERRMSG_MAX];
	struct pw_k8s_config c = {};
	_cleanup_free_ char *buf = NULL, *dir = NULL;
	json_t *docs = NULL, *root, *ctx, *cluster, *user;
	const char *cname, *clname, *uname, *bad = NULL;
	size_t len;
	int err;

	buf = read_all(path, &len);
	if (!buf) {
		err = -errno;
		snprintf(errmsg, errlen, "kubeconfig %s: %s", path, strerror(errno));
		return err;
	}
	err = pw_manifest_parse(buf, len, path, true, &docs, msg);
	if (err) {
		snprintf(errmsg, errlen, "kubeconfig %s", msg);
		return err;
	}
	root = json_array_get(docs, 0);
	dir = strdup(path);
	if (dir && strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	else if (dir)
		strcpy(dir, ".");

	cname = context ?: json_string_value(json_object_get(root, "current-context"));
	if (!cname) {
		bad = "current-context: missing";
		goto bad;
	}
	ctx = named(json_object_get(root, "contexts"), cname, "context");
	if (!json_is_object(ctx)) {
		bad = "contexts: the context is not defined";
		goto bad;
	}
	clname = json_string_value(json_object_get(ctx, "cluster"));
	uname = json_string_value(json_object_get(ctx, "user"));
	cluster = clname ? named(json_object_get(root, "clusters"), clname, "cluster") : NULL;
	if (!json_is_object(cluster)) {
		bad = "clusters: the context's cluster is not defined";
		goto bad;
	}
	user = uname ? named(json_object_get(root, "users"), uname, "user") : NULL;
	if (take_str(cluster, "server", dir, false, &c.server) || !c.server) {
		bad = "clusters[].cluster.server: missing or not a string";
		goto bad;
	}
	while (c.server[0] && c.server[strlen(c.server) - 1] == '/')
		c.server[strlen(c.server) - 1] = '\0';
	if (take_str(cluster, "certificate-authority", dir, true, &c.ca_file)) {
		bad = "clusters[].cluster.certificate-authority: not a string";
		goto bad;
	}
	if (take_data(cluster, "certificate-authority-data", &c.ca_pem)) {
		bad = "clusters[].cluster.certificate-authority-data: not base64";
		goto bad;
	}
	c.insecure = json_is_true(json_object_get(cluster, "insecure-skip-tls-verify"));
	if (json_is_object(user)) {
		if (take_str(user, "token", dir, false, &c.token) ||
		    take_str(user, "tokenFile", dir, true, &c.token_file)) {
			bad = "users[].user.token/tokenFile: not a string";
			goto bad;
		}
		if (take_str(user, "client-certificate", dir, true, &c.cert_file) ||
		    take_str(user, "client-key", dir, true, &c.key_file)) {
			bad = "users[].user.client-certificate/client-key: not a string";
			goto bad;
		}
		if (take_data(user, "client-certificate-data", &c.cert_pem) ||
		    take_data(user, "client-key-data", &c.key_pem)) {
			bad = "users[].user.client-certificate-data/client-key-data: not base64";
			goto bad;
		}
		if (json_object_get(user, "exec") || json_object_get(user, "auth-provider"))
			/* Plugins run programs: not something a node daemon should do. */
			bad = "users[].user: exec and auth-provider credentials are not supported";
	}
	if (bad)
		goto bad;
	json_decref(docs);
	*out = c;
	return 0;
bad:
	snprintf(errmsg, errlen, "kubeconfig %s: %s", path, bad);
	json_decref(docs);
	pw_k8s_config_clear(&c);
	return -EINVAL;
}

int pw_k8s_config_incluster(const char *sa_dir, struct pw_k8s_config *out, char *errmsg,
			    size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	struct pw_k8s_config c = {};
	struct stat st;

	if (!host || !*host) {
		snprintf(errmsg, errlen, "not in a cluster: KUBERNETES_SERVICE_HOST is not set");
		return -ENOENT;
	}
	sa_dir = sa_dir ?: PW_K8S_SA_DIR;
	/* An IPv6 service address needs brackets in a URL. */
	if (asprintf(&c.server, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
		     port && *port ? port : "443") < 0 ||
	    asprintf(&c.token_file, "%s/token", sa_dir) < 0 ||
	    asprintf(&c.ca_file, "%s/ca.crt", sa_dir) < 0) {
		pw_k8s_config_clear(&c);
		return -ENOMEM;
	}
	if (stat(c.token_file, &st) < 0) {
		int err = -errno;

		snprintf(errmsg, errlen, "in-cluster token %s: %s", c.token_file, strerror(-err));
		pw_k8s_config_clear(&c);
		return err;
	}
	*out = c;
	return 0;
}
