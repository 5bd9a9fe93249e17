// SPDX-License-Identifier: GPL-2.0-only
/*
 * The deploy manifests parse (with the project's own YAML reader) into the
 * kinds and fields the daemon needs: RBAC that lets the service account list
 * and watch exactly what the client asks for, a DaemonSet that runs podwalld
 * in-cluster on the host network with bpffs and the CNI directories, and a
 * ConfigMap whose CNI entry is valid JSON naming the podwall plugin.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s.h"
#include "policy.h"
#include "test.h"

static const char *dir; /* deploy/ */

static json_t *load(const char *name)
{
	char path[1024], msg[PW_ERRMSG_MAX];
	json_t *docs = NULL;
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!ASSERT_OK_PTR(f, path))
		return NULL;
	do {
		char *b = realloc(buf, cap += 65536);

		if (!b)
			break;
		buf = b;
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n);
	fclose(f);
	if (!ASSERT_OK(pw_manifest_parse(buf, len, path, true, &docs, msg), msg))
		docs = NULL;
	free(buf);
	return docs;
}

static json_t *find(json_t *docs, const char *kind, const char *name)
{
	size_t i;
	json_t *d;

	json_array_foreach (docs, i, d) {
		const char *k = json_string_value(json_object_get(d, "kind"));
		const char *n = json_string_value(
			json_object_get(json_object_get(d, "metadata"), "name"));

		if (k && n && !strcmp(k, kind) && !strcmp(n, name))
			return d;
	}
	return NULL;
}

/* A value by "a/b/0/c" path (object keys, array indexes). */
static const char *str(json_t *o, const char *path)
{
	char *p = strdup(path), *save = NULL, *tok;
	json_t *v = o;

	for (tok = strtok_r(p, "/", &save); tok && v; tok = strtok_r(NULL, "/", &save))
		v = isdigit((unsigned char)tok[0]) ? json_array_get(v, strtoul(tok, NULL, 10)) :
						     json_object_get(v, tok);
	free(p);
	return json_string_value(v);
}

static bool has_str(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach (arr, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	return false;
}

/* A rule of the ClusterRole granting list and watch on group/resource. */
static bool granted(json_t *role, const char *group, const char *resource)
{
	size_t i;
	json_t *r;

	json_array_foreach (json_object_get(role, "rules"), i, r) {
		if (has_str(json_object_get(r, "apiGroups"), group) &&
		    has_str(json_object_get(r, "resources"), resource) &&
		    has_str(json_object_get(r, "verbs"), "list") &&
		    has_str(json_object_get(r, "verbs"), "watch"))
			return true;
	}
	return false;
}

static void test_rbac(void)
{
	json_t *docs = load("kubernetes/rbac.yaml"), *role, *binding, *sa;

	if (!docs)
		return;
	sa = find(docs, "ServiceAccount", "podwall");
	role = find(docs, "ClusterRole", "podwall");
	binding = find(docs, "ClusterRoleBinding", "podwall");
	ASSERT_OK_PTR(sa, "ServiceAccount podwall");
	ASSERT_OK_PTR(role, "ClusterRole podwall");
	ASSERT_OK_PTR(binding, "ClusterRoleBinding podwall");
	/* What the client lists and watches, and nothing to write. */
	for (int r = 0; r < _PW_K8S_RES_MAX; r++) {
		const char *group = r == PW_K8S_POLICIES ? "networking.k8s.io" : "";

		if (!ASSERT_TRUE(granted(role, group, pw_k8s_res_name((enum pw_k8s_res)r)),
				 "list+watch granted"))
			pw_test_diag("resource %s", pw_k8s_res_name((enum pw_k8s_res)r));
	}
	size_t i;
	json_t *rule;

	json_array_foreach (json_object_get(role, "rules"), i, rule) {
		json_t *verbs = json_object_get(rule, "verbs");

		ASSERT_FALSE(has_str(verbs, "create") || has_str(verbs, "update") ||
				     has_str(verbs, "patch") || has_str(verbs, "delete") ||
				     has_str(verbs, "*"),
			     "read-only role");
	}
	ASSERT_STREQ(str(binding, "roleRef/kind"), "ClusterRole", "binding refers to the role");
	ASSERT_STREQ(str(binding, "roleRef/name"), "podwall", "role name");
	ASSERT_STREQ(str(binding, "subjects/0/kind"), "ServiceAccount", "subject kind");
	ASSERT_STREQ(str(binding, "subjects/0/name"), str(sa, "metadata/name"), "subject name");
	ASSERT_STREQ(str(binding, "subjects/0/namespace"), str(sa, "metadata/namespace"),
		     "subject namespace");
	json_decref(docs);
}

static json_t *named(json_t *arr, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach (arr, i, v)
		if (!strcmp(json_string_value(json_object_get(v, "name")) ?: "", name))
			return v;
	return NULL;
}

/* A port as an integer, whether the YAML gave a number or a numeric string. */
static long port_num(json_t *v)
{
	return json_is_integer(v) ? (long)json_integer_value(v) :
	       json_is_string(v)  ? strtol(json_string_value(v), NULL, 10) :
				    -1;
}

/* The needed capabilities only, and never a privileged container. */
static void check_caps(json_t *c)
{
	static const char *const allowed[] = { "BPF", "NET_ADMIN", "PERFMON", "SYS_RESOURCE" };
	json_t *sc = json_object_get(c, "securityContext");
	json_t *add = json_object_get(json_object_get(sc, "capabilities"), "add"), *v;
	size_t i;

	ASSERT_FALSE(json_is_true(json_object_get(sc, "privileged")), "not privileged");
	ASSERT_TRUE(has_str(add, "BPF") && has_str(add, "NET_ADMIN") && has_str(add, "PERFMON"),
		    "CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON");
	json_array_foreach (add, i, v) {
		bool ok = false;

		for (size_t j = 0; j < sizeof(allowed) / sizeof(allowed[0]); j++)
			ok |= json_is_string(v) && !strcmp(json_string_value(v), allowed[j]);
		if (!ASSERT_TRUE(ok, "no capability beyond the justified ones"))
			pw_test_diag("%s", json_string_value(v) ?: "?");
	}
}

/*
 * Liveness and readiness are podwalld's own /healthz and /readyz over HTTP,
 * on the port its --metrics-address listens on, and on the node's address:
 * with hostNetwork the kubelet probes the node IP, never loopback.
 */
static void check_probes(json_t *c)
{
	static const char *const probes[][2] = { { "livenessProbe", "/healthz" },
						 { "readinessProbe", "/readyz" } };
	const char *addr = NULL, *colon;
	json_t *a, *port = NULL, *ports = json_object_get(c, "ports");
	long want = -1;
	size_t i;

	json_array_foreach (json_object_get(c, "args"), i, a)
		if (json_is_string(a) && !strncmp(json_string_value(a), "--metrics-address=", 18))
			addr = json_string_value(a) + 18;
	if (!ASSERT_OK_PTR(addr, "--metrics-address=ADDR:PORT in the args"))
		return;
	colon = strrchr(addr, ':');
	ASSERT_TRUE(colon && !strncmp(addr, "$(HOST_IP)", (size_t)(colon - addr)),
		    "listens on $(HOST_IP), where the kubelet's probes arrive");
	ASSERT_STREQ(str(named(json_object_get(c, "env"), "HOST_IP"), "valueFrom/fieldRef/fieldPath"),
		     "status.hostIP", "HOST_IP is the node's address (downward API)");
	if (colon)
		want = strtol(colon + 1, NULL, 10);
	for (size_t p = 0; p < 2; p++) {
		json_t *get = json_object_get(json_object_get(c, probes[p][0]), "httpGet");
		json_t *pp = json_object_get(get, "port");
		long got = port_num(pp);

		if (!ASSERT_OK_PTR(get, "probe is httpGet")) {
			pw_test_diag("%s", probes[p][0]);
			continue;
		}
		ASSERT_FALSE(json_object_get(json_object_get(c, probes[p][0]), "exec") != NULL,
			     "no exec probe");
		ASSERT_STREQ(str(get, "path"), probes[p][1], "probe path");
		ASSERT_FALSE(str(get, "host") != NULL, "no host: the pod's (node's) address");
		/* A named port resolves through the container's ports. */
		if (json_is_string(pp) && got <= 0) {
			port = named(ports, json_string_value(pp));
			got = port ? port_num(json_object_get(port, "containerPort")) : -1;
		}
		if (!ASSERT_EQ(got, want, "probe port is --metrics-address's"))
			pw_test_diag("%s: %ld, listening on %ld", probes[p][0], got, want);
	}
}

static void test_daemonset(void)
{
	json_t *docs = load("kubernetes/daemonset.yaml"), *ds, *spec, *c, *vols, *mounts, *env;
	json_t *rbac = load("kubernetes/rbac.yaml"), *cm = load("kubernetes/configmap.yaml");
	const char *const host_paths[][2] = {
		{ "/sys/fs/bpf", "/sys/fs/bpf" },
		{ "/run/podwall", "/run/podwall" },
		{ "/var/lib/podwall", "/var/lib/podwall" },
	};

	if (!docs || !rbac || !cm)
		goto out;
	ds = find(docs, "DaemonSet", "podwall");
	if (!ASSERT_OK_PTR(ds, "DaemonSet podwall"))
		goto out;
	ASSERT_STREQ(str(ds, "apiVersion"), "apps/v1", "apiVersion");
	spec = json_object_get(json_object_get(json_object_get(ds, "spec"), "template"), "spec");
	ASSERT_TRUE(json_is_true(json_object_get(spec, "hostNetwork")), "hostNetwork");
	ASSERT_STREQ(str(spec, "serviceAccountName"),
		     str(find(rbac, "ServiceAccount", "podwall"), "metadata/name"),
		     "runs as the RBAC's service account");
	ASSERT_STREQ(str(ds, "metadata/namespace"),
		     str(find(rbac, "ServiceAccount", "podwall"), "metadata/namespace"),
		     "same namespace as the service account");
	c = named(json_object_get(spec, "containers"), "podwalld");
	if (!ASSERT_OK_PTR(c, "container podwalld"))
		goto out;
	ASSERT_TRUE(has_str(json_object_get(c, "args"), "--in-cluster"), "--in-cluster");
	ASSERT_TRUE(has_str(json_object_get(c, "args"), "--node-name=$(NODE_NAME)"),
		    "--node-name from the downward API");
	env = named(json_object_get(c, "env"), "NODE_NAME");
	ASSERT_STREQ(str(env, "valueFrom/fieldRef/fieldPath"), "spec.nodeName",
		     "NODE_NAME is spec.nodeName (the API source's node-local pods)");
	ASSERT_TRUE(has_str(json_object_get(json_object_get(json_object_get(c, "securityContext"),
							    "capabilities"),
					    "add"),
			    "BPF"),
		    "CAP_BPF");
	check_caps(c);
	check_probes(c);
	vols = json_object_get(spec, "volumes");
	mounts = json_object_get(c, "volumeMounts");
	for (size_t i = 0; i < sizeof(host_paths) / sizeof(host_paths[0]); i++) {
		size_t j;
		json_t *v, *m;
		bool ok = false;

		json_array_foreach (vols, j, v) {
			const char *p = str(v, "hostPath/path");

			if (!p || strcmp(p, host_paths[i][0]))
				continue;
			m = named(mounts, str(v, "name"));
			ok = m && !strcmp(str(m, "mountPath") ?: "", host_paths[i][1]);
		}
		if (!ASSERT_TRUE(ok, "host path mounted into podwalld"))
			pw_test_diag("%s", host_paths[i][0]);
	}
	c = named(json_object_get(spec, "initContainers"), "install-cni");
	if (ASSERT_OK_PTR(c, "init container install-cni")) {
		ASSERT_STREQ(str(c, "command/0"), "/usr/local/bin/install-cni.sh", "installer");
		ASSERT_OK_PTR(named(json_object_get(c, "volumeMounts"), "cni-bin"), "CNI bin dir");
		ASSERT_OK_PTR(named(json_object_get(c, "volumeMounts"), "cni-conf"),
			      "CNI conf dir");
	}
	ASSERT_STREQ(str(named(vols, "config"), "configMap/name"),
		     str(find(cm, "ConfigMap", "podwall-config"), "metadata/name"),
		     "mounts the ConfigMap");
out:
	json_decref(docs);
	json_decref(rbac);
	json_decref(cm);
}

static void test_configmap(void)
{
	json_t *docs = load("kubernetes/configmap.yaml"), *cm, *plugin;
	json_error_t je;
	const char *text;

	if (!docs)
		return;
	cm = find(docs, "ConfigMap", "podwall-config");
	if (!ASSERT_OK_PTR(cm, "ConfigMap podwall-config"))
		goto out;
	text = str(cm, "data/cni-plugin.json");
	if (!ASSERT_OK_PTR(text, "data.cni-plugin.json"))
		goto out;
	plugin = json_loads(text, 0, &je);
	if (!ASSERT_OK_PTR(plugin, je.text))
		goto out;
	ASSERT_STREQ(str(plugin, "type"), "podwall", "the CNI entry is the podwall plugin");
	ASSERT_STREQ(str(plugin, "socket"), "/run/podwall/podwalld.sock",
		     "the socket podwalld listens on in the DaemonSet");
	json_decref(plugin);
	ASSERT_OK_PTR(str(cm, "data/podwalld.flags"), "data.podwalld.flags");
out:
	json_decref(docs);
}

static const struct pw_test tests[] = {
	{ "rbac: read-only list+watch of what the client watches", test_rbac },
	{ "daemonset: in-cluster podwalld with its host paths and installer", test_daemonset },
	{ "configmap: the chained CNI entry", test_configmap },
};

int main(int argc, char **argv)
{
	dir = getenv("DEPLOY_DIR");
	if (!dir)
		pw_test_skip_all("DEPLOY_DIR not set");
	return pw_test_run(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
