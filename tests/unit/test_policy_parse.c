// SPDX-License-Identifier: GPL-2.0-only
/* Parsing and validation of NetworkPolicies, Pods, Namespaces and manifest files. */
#include <stdlib.h>
#include <sys/stat.h>

#include "policy_util.h"

/* Upserts one NetworkPolicy spec (JSON text) into a fresh db; returns the error text. */
static int np_err(const char *spec, char *err)
{
	struct pw_policy_db *db = NULL;
	char text[4096];
	json_t *o;
	int r;

	snprintf(text, sizeof(text),
		 "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"web\",\"namespace\":"
		 "\"default\"},\"spec\":%s}",
		 spec);
	o = json_loads(text, 0, NULL);
	if (!o || pw_policy_db_new(&db))
		return -1;
	err[0] = 0;
	r = pw_policy_db_upsert_policy(db, o, err);
	json_decref(o);
	pw_policy_db_free(&db);
	return r;
}

struct bad {
	const char *spec;
	const char *msg;
};

static const struct bad bads[] = {
	{ "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"podSelector\":{}},{\"ipBlock\":{\"cidr\":"
	  "\"10.0.0.0/8\"},\"podSelector\":{}}]}]}",
	  "NetworkPolicy default/web: spec.ingress[0].from[1]: ipBlock cannot be combined with "
	  "podSelector" },
	{ "{\"podSelector\":{},\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\"},"
	  "\"namespaceSelector\":{}}]}]}",
	  "spec.egress[0].to[0]: ipBlock cannot be combined with namespaceSelector" },
	{ "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":\"http\",\"endPort\":90}]}]}",
	  "spec.ingress[0].ports[0].endPort: requires a numeric port" },
	{ "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"endPort\":90}]}]}",
	  "spec.ingress[0].ports[0].endPort: requires a numeric port" },
	{ "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":90,\"endPort\":80}]}]}",
	  "spec.ingress[0].ports[0].endPort: must be greater than or equal to port" },
	{ "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":"
	  "{\"cidr\":\"10.0.0.0/33\"}}]}]}",
	  "spec.ingress[0].from[0].ipBlock.cidr: invalid CIDR" },
	{ "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"banana\"}}]}]}",
	  "spec.ingress[0].from[0].ipBlock.cidr: invalid CIDR" },
	{ "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\","
	  "\"except\":[\"11.0.0.0/16\"]}}]}]}",
	  "spec.ingress[0].from[0].ipBlock.except[0]: must be a strict subset of cidr" },
	{ "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\","
	  "\"except\":[\"10.0.0.0/33\"]}}]}]}",
	  "spec.ingress[0].from[0].ipBlock.except[0]: invalid CIDR" },
	{ "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":80,\"protocol\":\"ICMP\"}]}]}",
	  "spec.ingress[0].ports[0].protocol: unsupported protocol \"ICMP\"" },
	{ "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":80,\"protocol\":\"tcp\"}]}]}",
	  "spec.ingress[0].ports[0].protocol: unsupported protocol" },
	{ "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":0}]}]}",
	  "spec.ingress[0].ports[0].port: must be between 1 and 65535" },
	{ "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":\"Not_A_Name\"}]}]}",
	  "spec.ingress[0].ports[0].port: invalid port name" },
	{ "{\"podSelector\":{},\"ingress\":[{\"from\":[{}]}]}",
	  "spec.ingress[0].from[0]: must specify a podSelector, namespaceSelector or ipBlock" },
	{ "{\"podSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"}]}}",
	  "spec.podSelector.matchExpressions[0]: values: must be non-empty for In" },
	{ "{\"podSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\","
	  "\"values\":[\"x\"]}]}}",
	  "spec.podSelector.matchExpressions[0]: values: must be empty for Exists" },
	{ "{\"podSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Like\"}]}}",
	  "operator: unknown operator \"Like\"" },
	{ "{\"podSelector\":{},\"policyTypes\":[\"Sideways\"]}",
	  "spec.policyTypes[0]: must be \"Ingress\" or \"Egress\"" },
	{ "{\"podSelector\":{},\"ingress\":{}}", "spec.ingress: must be a list" },
	{ "{\"podSelector\":{\"matchLabels\":{\"a\":7}}}", "spec.podSelector.matchLabels.a" },
};

static void test_rejections(void)
{
	char err[PW_ERRMSG_MAX];

	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		int r = np_err(bads[i].spec, err);

		ASSERT_EQ(r, -EINVAL, bads[i].msg);
		ASSERT_HAS(err, bads[i].msg, "message names object and field");
	}
	ASSERT_EQ(np_err("{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":80,"
			 "\"endPort\":80}]}]}",
			 err),
		  0, "endPort == port is fine");
}

static void test_object_errors(void)
{
	struct pw_policy_db *db = NULL;
	char err[PW_ERRMSG_MAX];
	json_t *o;

	ASSERT_OK(pw_policy_db_new(&db), "new");
	o = json_loads("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"n\"},"
		       "\"status\":{\"podIP\":\"10.1.2.300\"}}",
		       0, NULL);
	ASSERT_EQ(pw_policy_db_upsert(db, o, err), -EINVAL, "bad pod IP");
	ASSERT_HAS(err, "Pod n/p: status.podIP: invalid IP address", "pod IP message");
	json_decref(o);
	o = json_loads("{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"n\"}}", 0, NULL);
	ASSERT_EQ(pw_policy_db_upsert(db, o, err), -EINVAL, "no name");
	ASSERT_HAS(err, "metadata.name", "name message");
	json_decref(o);
	o = json_loads("{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"n\",\"labels\":"
		       "{\"bad key!\":\"v\"}}}",
		       0, NULL);
	ASSERT_EQ(pw_policy_db_upsert(db, o, err), -EINVAL, "bad label key");
	ASSERT_HAS(err, "Namespace n: metadata.labels.bad key!: invalid label key", "label msg");
	json_decref(o);
	o = json_loads("{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"n\",\"name\":\"Bad_Name\"}}",
		       0, NULL);
	ASSERT_EQ(pw_policy_db_upsert(db, o, err), -EINVAL, "not a DNS-1123 name");
	ASSERT_HAS(err, "Pod n/Bad_Name: metadata.name: invalid name", "name message");
	json_decref(o);
	o = json_loads("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"n\"}}", 0, NULL);
	ASSERT_EQ(pw_policy_db_upsert(db, o, err), -EOPNOTSUPP, "unsupported kind");
	json_decref(o);
	pw_policy_db_free(&db);
	ASSERT_TRUE(db == NULL, "free resets");
}

static void test_cidr_masking(void)
{
	struct pw_policy_db *db = util_db(
		NS("x", "{}") POD("x", "a", "{\"app\":\"a\"}", "10.244.1.7", "[]")
			NP("x", "p", "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":"
				     "{\"cidr\":\"10.244.1.7/4\"}}]}]}"),
		false);
	struct pw_ipcache_lpm_entry *lpm;
	size_t n;

	if (!ASSERT_OK_PTR(db, "db"))
		return;
	n = pw_policy_db_lpm_entries(db, &lpm);
	ASSERT_EQ(n, 1, "one prefix");
	ASSERT_EQ(lpm[0].key.prefixlen, PW_LPM_PREFIX_BASE + 4, "prefixlen");
	ASSERT_EQ(lpm[0].key.addr[0], 0, "10.244.1.7/4 masked to 0.0.0.0/4");
	ASSERT_EQ(lpm[0].key.addr[3], 0, "host bits cleared");
	ASSERT_STREQ(pw_policy_db_identity_key(db, lpm[0].val.cidr_identity), "0.0.0.0/4",
		     "canonical key");
	ASSERT_EQ(lpm[0].val.identity, PW_ID_WORLD, "LPM identity is world");
	pw_policy_db_free(&db);
}

static void test_defaults(void)
{
	/* policyTypes absent + egress rules -> Ingress and Egress; port protocol -> TCP. */
	struct pw_policy_db *db = util_db(
		NS("x", "{}") POD("x", "a", "{\"app\":\"a\"}", "10.0.0.1", "[]")
			POD("x", "b", "{\"app\":\"b\"}", "10.0.0.2", "[]")
				NP("x", "p", "{\"podSelector\":{\"matchLabels\":{\"app\":\"a\"}},"
					     "\"egress\":[{\"ports\":[{\"port\":53}]}]}"),
		false);

	if (!ASSERT_OK_PTR(db, "db"))
		return;
	ASSERT_EQ(util_probe(db, "x/a", "x/b", 53, TCP), 1, "egress TCP 53 allowed");
	ASSERT_EQ(util_probe(db, "x/a", "x/b", 53, UDP), 0, "egress UDP 53 not (TCP default)");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 80, TCP), 0, "ingress isolated (Ingress default)");
	ASSERT_EQ(util_probe(db, "x/a", "x/b", 80, TCP), 0, "egress isolated (egress rules)");
	pw_policy_db_free(&db);
}

static const char yaml_text[] =
	"# a multi-document file with a List\n"
	"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n  labels: {team: blue}\n"
	"---\n"
	"apiVersion: v1\nkind: List\nitems:\n"
	"- kind: Pod\n  metadata: {name: a, namespace: x, labels: {app: web}}\n"
	"  spec:\n    containers:\n    - name: c\n"
	"      ports: [{name: http, containerPort: 8080}]\n"
	"  status: {podIP: 10.0.0.1, podIPs: [{ip: 10.0.0.1}, {ip: 'fd00::1'}]}\n"
	"- kind: Pod\n  metadata: {name: b, namespace: x, labels: {app: db, 'yes': 'true'}}\n"
	"  status: {podIP: 10.0.0.2, podIPs: [{ip: 10.0.0.2}, {ip: 'fd00::2'}]}\n"
	"---\n"
	"---\n"
	"kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\n"
	"metadata: {name: web, namespace: x}\n"
	"spec:\n  podSelector: {matchLabels: {app: web}}\n  ingress:\n"
	"  - from: [{podSelector: {matchLabels: {app: db}}}]\n    ports: [{port: http}]\n";

static void test_yaml(void)
{
	static const char scalars[] = "a: '80'\nb: 80\nc: true\nd: ~\n";
	struct pw_policy_db *db = util_db(yaml_text, true);
	char err[PW_ERRMSG_MAX];
	json_t *docs = NULL;

	if (!ASSERT_OK_PTR(db, "yaml db"))
		return;
	ASSERT_STREQ(util_errs, "", "no rejections");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 8080, TCP), 1, "named port from YAML");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 80, TCP), 0, "other port denied");
	ASSERT_EQ(util_probe_fam(db, "x/b", "x/a", 8080, TCP, PW_AF_INET6), 1, "IPv6 too");
	pw_policy_db_free(&db);
	/* Scalars: quoted stays a string, plain numbers are numbers. */
	ASSERT_OK(pw_manifest_parse(scalars, strlen(scalars), "t", true, &docs, err),
		  "scalars");
	if (docs) {
		json_t *o = json_array_get(docs, 0);

		ASSERT_TRUE(json_is_string(json_object_get(o, "a")), "quoted -> string");
		ASSERT_TRUE(json_is_integer(json_object_get(o, "b")), "plain -> integer");
		ASSERT_TRUE(json_is_true(json_object_get(o, "c")), "bool");
		ASSERT_TRUE(json_is_null(json_object_get(o, "d")), "null");
		json_decref(docs);
	}
	ASSERT_EQ(pw_manifest_parse("a: [1, 2\n", 9, "bad.yaml", true, &docs, err), -EINVAL,
		  "syntax error");
	ASSERT_HAS(err, "bad.yaml: line", "names file and line");
	ASSERT_EQ(pw_manifest_parse("{\"a\": }", 7, "bad.json", false, &docs, err), -EINVAL,
		  "json syntax error");
	ASSERT_HAS(err, "bad.json: line 1", "names json file");
	/* Aliases are copied; undefined ones are errors, not crashes. */
	ASSERT_EQ(pw_manifest_parse("a: *nope\n", 9, "t", true, &docs, err), -EINVAL, "alias");
}

static void test_directory(void)
{
	char dir[] = "/tmp/pw-test-XXXXXX", path[300];
	struct pw_policy_db *db = NULL;
	json_t *items = json_array();
	FILE *f;
	int r;

	if (!ASSERT_OK_PTR(mkdtemp(dir), "mkdtemp"))
		return;
	snprintf(path, sizeof(path), "%s/10-ns.yaml", dir);
	f = fopen(path, "w");
	fputs("kind: Namespace\nmetadata: {name: x}\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/20-pods.json", dir);
	f = fopen(path, "w");
	fputs(POD("x", "a", "{\"app\":\"a\"}", "10.0.0.1", "[]")
		      POD("x", "b", "{\"app\":\"b\"}", "10.0.0.2", "[]"),
	      f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/30-bad.yml", dir);
	f = fopen(path, "w");
	fputs(NP("x", "bad", "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":99999}]}]}")
		      "---\n"
		      NP("x", "good", "{\"podSelector\":{\"matchLabels\":{\"app\":\"a\"}}}"),
	      f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/README.md", dir);
	f = fopen(path, "w");
	fputs("not a manifest: [\n", f);
	fclose(f);
	util_errs[0] = 0;
	r = pw_manifest_load(dir, items, util_err, NULL);
	ASSERT_EQ(r, 0, "every manifest file parsed; README ignored");
	ASSERT_EQ(json_array_size(items), 5, "1 ns + 2 pods + 2 policies");
	ASSERT_OK(pw_policy_db_new(&db), "db");
	r = pw_manifest_apply(db, items, util_err, NULL);
	ASSERT_EQ(r, 1, "one rejection");
	ASSERT_HAS(util_errs, "30-bad.yml: NetworkPolicy x/bad: spec.ingress[0].ports[0].port",
		   "file, object and field");
	ASSERT_OK(pw_policy_db_compile(db, NULL), "compile");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 80, TCP), 0, "the good policy still applies");
	ASSERT_EQ(util_probe(db, "x/a", "x/b", 80, TCP), 1, "b is not selected");
	pw_policy_db_free(&db);
	json_decref(items);
	for (const char *n = "10-ns.yaml\0" "20-pods.json\0" "30-bad.yml\0" "README.md\0"; *n;
	     n += strlen(n) + 1) {
		snprintf(path, sizeof(path), "%s/%s", dir, n);
		unlink(path);
	}
	rmdir(dir);
}

/* A rejected update of a policy already in force leaves the old version enforced. */
static void test_bad_update_keeps_old(void)
{
	struct pw_policy_db *db = util_db(
		NS("x", "{}") POD("x", "a", "{\"app\":\"a\"}", "10.0.0.1", "[]")
			POD("x", "b", "{\"app\":\"b\"}", "10.0.0.2", "[]")
				NP("x", "p", "{\"podSelector\":{\"matchLabels\":{\"app\":\"a\"}},"
					     "\"ingress\":[{\"from\":[{\"podSelector\":{}}],"
					     "\"ports\":[{\"port\":80}]}]}"),
		false);
	struct pw_policy_delta d;
	uint32_t epoch;
	int r;

	if (!ASSERT_OK_PTR(db, "db"))
		return;
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 80, TCP), 1, "80 allowed");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 81, TCP), 0, "81 denied");
	epoch = pw_policy_db_epoch(db);
	util_errs[0] = 0;
	r = util_apply(db,
		       NP("x", "p", "{\"podSelector\":{\"matchLabels\":{\"app\":\"a\"}},"
				    "\"ingress\":[{\"from\":[{\"podSelector\":{},\"ipBlock\":"
				    "{\"cidr\":\"0.0.0.0/0\"}}]}]}"),
		       false);
	ASSERT_EQ(r, 1, "update rejected");
	ASSERT_HAS(util_errs, "NetworkPolicy x/p: spec.ingress[0].from[0]: ipBlock cannot",
		   "rejection message");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 80, TCP), 1, "old version still allows 80");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 81, TCP), 0, "old version still denies 81");
	ASSERT_EQ(pw_policy_db_epoch(db), epoch, "nothing changed, epoch kept");
	/* A bad pod update keeps the pod's old labels and addresses. */
	r = util_apply(db, POD("x", "a", "{\"app\":\"zzz\"}", "10.0.0.999", "[]"), false);
	ASSERT_EQ(r, 1, "pod update rejected");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 81, TCP), 0, "pod keeps its policy");
	ASSERT_OK(pw_policy_db_compile(db, &d), "compile");
	ASSERT_FALSE(d.changed, "empty delta");
	pw_policy_delta_free(&d);
	pw_policy_db_free(&db);
}

static const struct pw_test tests[] = {
	{ "rejections name object and field", test_rejections },
	{ "object errors", test_object_errors },
	{ "non-canonical CIDR masked", test_cidr_masking },
	{ "policyTypes and protocol defaults", test_defaults },
	{ "YAML multi-document and List", test_yaml },
	{ "directory of manifests", test_directory },
	{ "bad update keeps the old version", test_bad_update_keeps_old },
};

PW_TEST_MAIN(tests)
