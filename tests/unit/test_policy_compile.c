// SPDX-License-Identifier: GPL-2.0-only
/*
 * Compiler semantics, checked through the compiled maps (entries, ipcache,
 * cookies) and the datapath's evaluation over them.
 */
#include <stdlib.h>

#include "policy_util.h"

#define PORTS_AB                                                                       \
	"[{\"name\":\"web\",\"containerPort\":8080},"                                      \
	"{\"name\":\"dns\",\"containerPort\":53,\"protocol\":\"UDP\"}]"

static const char base[] =
	NS("x", "{\"ns\":\"x\"}") NS("y", "{\"ns\":\"y\"}")
	POD("x", "a", "{\"app\":\"a\"}", "10.0.0.1", PORTS_AB)
	POD("x", "b", "{\"app\":\"b\",\"tier\":\"db\"}", "10.0.0.2", "[]")
	POD("y", "a", "{\"app\":\"a\"}", "10.0.1.1", "[]")
	POD("y", "b", "{\"app\":\"b\"}", "10.0.1.2", "[]");

static struct pw_policy_db *with(const char *policies)
{
	size_t n = strlen(base) + strlen(policies) + 1;
	char *text = malloc(n);
	struct pw_policy_db *db;

	if (!text)
		return NULL;
	strcpy(text, base);
	strcat(text, policies);
	db = util_db(text, false);
	free(text);
	return db;
}

static const struct pw_policy_entry *find(const struct pw_endpoint_view *ep, uint32_t id, int dir,
					  uint8_t proto, uint16_t dport)
{
	for (size_t i = 0; ep && i < ep->nentries; i++) {
		const struct pw_policy_key *k = &ep->entries[i].key;

		if (k->identity == id && k->dir == dir && k->proto == proto && k->dport == dport)
			return &ep->entries[i];
	}
	return NULL;
}

static void test_header_and_cookies(void)
{
	struct pw_policy_db *db = with(NP("x", "allow-all", "{\"podSelector\":{\"matchLabels\":"
							    "{\"app\":\"a\"}},\"ingress\":[{}]}"));
	const struct pw_endpoint_view *ep;
	const struct pw_policy_entry *h;
	struct pw_cookie_info ci;

	if (!ASSERT_OK_PTR(db, "db"))
		return;
	ep = pw_policy_db_endpoint(db, "x", "a");
	if (!ASSERT_OK_PTR(ep, "endpoint x/a"))
		goto out;
	h = find(ep, PW_ID_ANY, PW_DIR_INGRESS, 0, 0);
	if (!ASSERT_OK_PTR(h, "ingress header"))
		goto out;
	ASSERT_EQ(h->val.flags & PW_POLICY_F_ISOLATED, PW_POLICY_F_ISOLATED, "isolated");
	ASSERT_EQ(h->val.nranges, 1, "allow-all range in the header");
	ASSERT_EQ(h->val.r[0].lo, 0, "lo");
	ASSERT_EQ(h->val.r[0].hi, 65535, "hi");
	ASSERT_EQ(h->val.r[0].action, PW_ACTION_ALLOW, "allow");
	ASSERT_NEQ(h->val.r[0].cookie, 0, "cookie");
	ASSERT_OK(pw_policy_db_cookie(db, h->val.r[0].cookie, &ci), "cookie lookup");
	ASSERT_STREQ(ci.name, "allow-all", "cookie -> policy");
	ASSERT_EQ(ci.dir, PW_DIR_INGRESS, "cookie -> direction");
	ASSERT_EQ(ci.rule, 0, "cookie -> rule");
	ASSERT_TRUE(find(ep, PW_ID_ANY, PW_DIR_EGRESS, 0, 0) == NULL, "no egress header");
	ASSERT_EQ(pw_policy_db_endpoint(db, "x", "b")->nentries, 0, "x/b not selected");
out:
	pw_policy_db_free(&db);
}

static void test_selectors(void)
{
	struct pw_policy_db *db = with(
		/* {} namespaceSelector with no podSelector: all pods of all namespaces */
		NP("x", "all-ns", "{\"podSelector\":{\"matchLabels\":{\"app\":\"a\"}},\"ingress\":"
				  "[{\"from\":[{\"namespaceSelector\":{}}],\"ports\":[{"
				  	"\"port\":1}]}]}")
		/* podSelector {} without namespaceSelector: the policy's namespace only */
		NP("x", "same-ns", "{\"podSelector\":{\"matchLabels\":{\"app\":\"a\"}},\"ingress\":"
				   "[{\"from\":[{\"podSelector\":{}}],\"ports\":[{\"port\":2}]}]}")
		/* AND: y's pods labelled app=b */
		NP("x", "and", "{\"podSelector\":{\"matchLabels\":{\"app\":\"a\"}},\"ingress\":"
			       "[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"ns\":"
			       	"\"y\"}},"
			       "\"podSelector\":{\"matchLabels\":{\"app\":\"b\"}}}],\"ports\":["
			       	"{\"port\":3}]}]}")
		/* OR: y's pods, or x's app=b */
		NP("x", "or", "{\"podSelector\":{\"matchLabels\":{\"app\":\"a\"}},\"ingress\":"
			      "[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"ns\":"
			      	"\"y\"}}},"
			      "{\"podSelector\":{\"matchLabels\":{\"app\":\"b\"}}}],\"ports\":["
			      	"{\"port\":4}]}]}")
		NP("x", "exprs", "{\"podSelector\":{\"matchLabels\":{\"app\":\"a\"}},\"ingress\":"
				 "[{\"from\":[{\"namespaceSelector\":{},\"podSelector\":{"
				 	"\"matchExpressions\":["
				 "{\"key\":\"tier\",\"operator\":\"DoesNotExist\"},"
				 "{\"key\":\"app\",\"operator\":\"NotIn\",\"values\":[\"a\"]}]}}],"
				 "\"ports\":[{\"port\":5}]},"
				 "{\"from\":[{\"podSelector\":{\"matchExpressions\":[{\"key\":"
				 	"\"tier\","
				 "\"operator\":\"Exists\"}]}}],\"ports\":[{\"port\":6}]}]}"));

	if (!ASSERT_OK_PTR(db, "db"))
		return;
	ASSERT_EQ(util_probe(db, "y/a", "x/a", 1, TCP), 1, "{} namespaceSelector: other ns");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 1, TCP), 1, "{} namespaceSelector: same ns");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 2, TCP), 1, "podSelector {}: same ns");
	ASSERT_EQ(util_probe(db, "y/b", "x/a", 2, TCP), 0, "podSelector {}: not other ns");
	ASSERT_EQ(util_probe(db, "y/b", "x/a", 3, TCP), 1, "AND: y/b");
	ASSERT_EQ(util_probe(db, "y/a", "x/a", 3, TCP), 0, "AND: not y/a");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 3, TCP), 0, "AND: not x/b");
	ASSERT_EQ(util_probe(db, "y/a", "x/a", 4, TCP), 1, "OR: y/a");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 4, TCP), 1, "OR: x/b");
	ASSERT_EQ(util_probe(db, "y/b", "x/a", 5, TCP), 1, "DoesNotExist+NotIn: y/b");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 5, TCP), 0, "DoesNotExist: x/b has tier");
	ASSERT_EQ(util_probe(db, "y/a", "x/a", 5, TCP), 0, "NotIn: y/a is app=a");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 6, TCP), 1, "Exists: x/b");
	ASSERT_EQ(util_probe(db, "y/b", "x/a", 6, TCP), 0, "Exists: same ns only");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 7, TCP), 0, "isolated: other ports denied");
	pw_policy_db_free(&db);
}

static void test_ipblock(void)
{
	struct pw_policy_db *db = with(
		NP("x", "cidr", "{\"podSelector\":{\"matchLabels\":{\"app\":\"a\"}},\"ingress\":[{"
				"\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/16\",\"except\":["
					"\"10.0.1.0/24\"]}}]}]}")
		NP("x", "one", "{\"podSelector\":{\"matchLabels\":{\"app\":\"a\"}},\"ingress\":[{"
			       "\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.1.2/32\"}}],\"ports\":["
			       	"{\"port\":80}]}]}"));
	struct pw_ipcache_val v;
	struct pw_addr a;

	if (!ASSERT_OK_PTR(db, "db"))
		return;
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 80, TCP), 1, "pod IP inside the block");
	ASSERT_EQ(util_probe(db, "y/a", "x/a", 80, TCP), 0, "pod IP in the except");
	ASSERT_EQ(util_probe(db, "y/b", "x/a", 80, TCP), 1, "except in one, /32 in another");
	ASSERT_EQ(util_probe(db, "y/b", "x/a", 81, TCP), 0, "the /32 only allows port 80");
	ASSERT_EQ(util_probe(db, "10.0.9.9", "x/a", 81, TCP), 1, "a non-pod address in the block");
	ASSERT_EQ(util_probe(db, "10.0.1.9", "x/a", 81, TCP), 0, "a non-pod address in the except");
	ASSERT_EQ(util_probe(db, "10.1.0.1", "x/a", 81, TCP), 0, "outside the block");
	/* ipcache: pod entries carry the longest prefix's identity. */
	pw_addr_parse("10.0.1.2", &a);
	v = pw_policy_lookup(db, &a);
	ASSERT_TRUE(v.identity >= PW_ID_FIRST_LABEL && v.identity < PW_ID_FIRST_CIDR, "label id");
	ASSERT_STREQ(pw_policy_db_identity_key(db, v.cidr_identity), "10.0.1.2/32", "longest");
	pw_addr_parse("10.0.1.1", &a);
	v = pw_policy_lookup(db, &a);
	ASSERT_STREQ(pw_policy_db_identity_key(db, v.cidr_identity), "10.0.1.0/24", "except pfx");
	pw_addr_parse("192.168.0.1", &a);
	v = pw_policy_lookup(db, &a);
	ASSERT_EQ(v.identity, PW_ID_WORLD, "unknown is world");
	ASSERT_EQ(v.cidr_identity, 0, "no prefix");
	pw_policy_db_free(&db);
}

static void test_named_ports(void)
{
	static const char text[] =
		NS("x", "{}")
		POD("x", "a", "{\"app\":\"s\"}", "10.0.0.1",
		    "[{\"name\":\"web\",\"containerPort\":8080},{\"name\":\"alt\","
		    	"\"containerPort\":9090}]")
		POD("x", "b", "{\"app\":\"s\"}", "10.0.0.2",
		    "[{\"name\":\"web\",\"containerPort\":9090},{\"name\":\"alt\","
		    	"\"containerPort\":8080}]")
		POD("x", "c", "{\"app\":\"client\"}", "10.0.0.3", "[]")
		NP("x", "in", "{\"podSelector\":{\"matchLabels\":{\"app\":\"s\"}},\"ingress\":"
			      "[{\"ports\":[{\"port\":\"web\"}]}]}")
		NP("x", "out", "{\"podSelector\":{\"matchLabels\":{\"app\":\"client\"}},\"egress\":"
			       "[{\"ports\":[{\"port\":\"web\"}]}]}");
	struct pw_policy_db *db = util_db(text, false);
	const struct pw_endpoint_view *ea, *eb;

	if (!ASSERT_OK_PTR(db, "db"))
		return;
	ea = pw_policy_db_endpoint(db, "x", "a");
	eb = pw_policy_db_endpoint(db, "x", "b");
	if (!ASSERT_OK_PTR(ea, "a") || !ASSERT_OK_PTR(eb, "b"))
		goto out;
	ASSERT_NEQ(ea->identity, eb->identity, "same labels, different named ports: two ids");
	ASSERT_EQ(util_probe(db, "x/c", "x/a", 8080, TCP), 1, "ingress web=8080 on a");
	ASSERT_EQ(util_probe(db, "x/c", "x/b", 9090, TCP), 1, "ingress web=9090 on b");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 9090, TCP), 0, "9090 is not web on a");
	ASSERT_EQ(util_probe(db, "x/a", "x/b", 8080, TCP), 0, "8080 is not web on b");
	ASSERT_EQ(util_probe(db, "x/c", "x/a", 8080, UDP), 0, "named TCP port is not UDP");
	/* Egress named port without `to`: each peer's own number. */
	ASSERT_EQ(util_probe(db, "x/c", "x/a", 8080, TCP), 1, "egress web=8080 to a");
	ASSERT_EQ(util_probe(db, "x/c", "x/b", 9090, TCP), 1, "egress web=9090 to b");
	{
		const struct pw_endpoint_view *ec = pw_policy_db_endpoint(db, "x", "c");
		const struct pw_pod_view *pb = pw_policy_db_pod(db, "x", "b");
		struct pw_verdict v;

		if (ASSERT_OK_PTR(ec, "c") && ASSERT_OK_PTR(pb, "b")) {
			pw_policy_eval(db, ec, PW_DIR_EGRESS, &pb->ips[0], TCP, 8080, true, &v);
			ASSERT_EQ(v.reason, PW_REASON_DROP_POLICY_EGRESS, "8080 is not web on b");
			pw_policy_eval(db, ec, PW_DIR_EGRESS, &pb->ips[0], TCP, 9090, true, &v);
			ASSERT_EQ(v.reason, PW_REASON_ALLOW_POLICY, "9090 is web on b");
			ASSERT_NEQ(v.cookie, 0, "with a cookie");
		}
	}
out:
	pw_policy_db_free(&db);
}

static void test_endport_and_protocols(void)
{
	struct pw_policy_db *db = with(
		NP("x", "p", "{\"podSelector\":{\"matchLabels\":{\"app\":\"a\"}},\"ingress\":[{"
			"\"ports\":["
			     "{\"port\":1000,\"endPort\":2000},{\"port\":80,\"protocol\":\"SCTP\"},"
			     "{\"port\":\"dns\",\"protocol\":\"UDP\"}]}]}"));
	const struct pw_endpoint_view *ep;
	const struct pw_policy_entry *e;

	if (!ASSERT_OK_PTR(db, "db"))
		return;
	ep = pw_policy_db_endpoint(db, "x", "a");
	e = find(ep, PW_ID_ANY, PW_DIR_INGRESS, TCP, 0);
	if (ASSERT_OK_PTR(e, "TCP entry")) {
		ASSERT_EQ(e->val.nranges, 1, "one range");
		ASSERT_EQ(e->val.r[0].lo, 1000, "lo");
		ASSERT_EQ(e->val.r[0].hi, 2000, "hi = endPort");
	}
	ASSERT_OK_PTR(find(ep, PW_ID_ANY, PW_DIR_INGRESS, SCTP, 0), "SCTP entry, own key");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 999, TCP), 0, "below range");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 1000, TCP), 1, "range start");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 2000, TCP), 1, "range end");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 2001, TCP), 0, "above range");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 1500, UDP), 0, "range is TCP only");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 80, SCTP), 1, "SCTP 80");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 80, TCP), 0, "SCTP is never TCP");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 53, UDP), 1, "named UDP port");
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 53, TCP), 0, "named UDP port is not TCP");
	pw_policy_db_free(&db);
}

static void test_spill(void)
{
	char ports[4096] = "", text[8192];
	struct pw_policy_db *db;
	const struct pw_endpoint_view *ep;
	const struct pw_policy_entry *e;
	size_t off = 0, spilled = 0;

	for (int p = 0; p < 40; p++)
		off += (size_t)snprintf(ports + off, sizeof(ports) - off, "%s{\"port\":%d}",
					p ? "," : "", 5000 + 3 * p);
	snprintf(text, sizeof(text),
		 NP("x", "many", "{\"podSelector\":{\"matchLabels\":{\"app\":\"a\"}},\"ingress\":"
				 "[{\"ports\":[%s,{\"port\":100,\"endPort\":200}]}]}"),
		 ports);
	db = with(text);
	if (!ASSERT_OK_PTR(db, "db"))
		return;
	ep = pw_policy_db_endpoint(db, "x", "a");
	e = find(ep, PW_ID_ANY, PW_DIR_INGRESS, TCP, 0);
	if (ASSERT_OK_PTR(e, "base entry")) {
		ASSERT_EQ(e->val.nranges, PW_POLICY_RANGES, "base entry full");
		ASSERT_TRUE(e->val.flags & PW_POLICY_F_SPILL, "spill flag");
		ASSERT_EQ(e->val.r[0].lo, 100, "widest range kept in the base entry");
	}
	for (size_t i = 0; ep && i < ep->nentries; i++)
		spilled += ep->entries[i].key.dport != 0;
	ASSERT_EQ(spilled, 41 - PW_POLICY_RANGES, "the rest spilled as single ports");
	for (int p = 0; p < 40; p++) {
		ASSERT_EQ(util_probe(db, "x/b", "x/a", (uint16_t)(5000 + 3 * p), TCP), 1, "port");
		ASSERT_EQ(util_probe(db, "x/b", "x/a", (uint16_t)(5001 + 3 * p), TCP), 0, "gap");
	}
	ASSERT_EQ(util_probe(db, "x/b", "x/a", 150, TCP), 1, "range");
	pw_policy_db_free(&db);
}

static void test_host_network_and_node(void)
{
	static const char text[] =
		NS("x", "{}")
		POD("x", "a", "{\"app\":\"a\"}", "10.0.0.1", "[]")
		"{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"x\",\"name\":\"h\",\"labels\":"
		"{\"app\":\"a\"}},\"spec\":{\"hostNetwork\":true},\"status\":{\"podIP\":"
			"\"192.168.1.10\"}}\n"
		"{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"x\",\"name\":\"r\",\"labels\":"
		"{\"app\":\"r\"}},\"spec\":{\"nodeName\":\"other\"},\"status\":{\"podIP\":"
			"\"10.0.9.1\"}}\n"
		NP("x", "deny", "{\"podSelector\":{},\"policyTypes\":[\"Ingress\",\"Egress\"],"
				"\"ingress\":[{\"from\":[{\"podSelector\":{}}]}]}");
	struct pw_policy_db *db = NULL;
	struct pw_addr node = { 0 }, a;
	struct pw_endpoint_view *eps;
	struct pw_ipcache_val v;

	ASSERT_OK(pw_policy_db_new(&db), "db");
	pw_addr_parse("192.168.1.10", &node);
	ASSERT_OK(pw_policy_db_set_node(db, "this", &node, 1), "node config");
	util_errs[0] = 0;
	ASSERT_EQ(util_apply(db, text, false), 0, "apply");
	ASSERT_EQ(pw_policy_db_endpoints(db, &eps), 1, "only x/a is a local endpoint");
	ASSERT_OK_PTR(pw_policy_db_endpoint(db, "x", "a"), "x/a");
	ASSERT_TRUE(pw_policy_db_endpoint(db, "x", "h") == NULL, "hostNetwork is no endpoint");
	ASSERT_TRUE(pw_policy_db_endpoint(db, "x", "r") == NULL, "other node's pod");
	v = pw_policy_lookup(db, &node);
	ASSERT_EQ(v.identity, PW_ID_HOST, "node IP is host");
	ASSERT_EQ(util_probe(db, "192.168.1.10", "x/a", 80, TCP), 1, "node -> pod allowed");
	ASSERT_EQ(util_probe(db, "x/a", "192.168.1.10", 80, TCP), 0, "egress to node: isolated");
	ASSERT_EQ(util_probe(db, "x/r", "x/a", 80, TCP), 1, "remote pod matched by podSelector");
	pw_addr_parse("10.0.9.1", &a);
	v = pw_policy_lookup(db, &a);
	ASSERT_TRUE(v.identity >= PW_ID_FIRST_LABEL, "remote pods have label identities");
	pw_policy_db_free(&db);
}

static void test_ipv6(void)
{
	static const char text[] =
		NS("x", "{}")
		"{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"x\",\"name\":\"a\",\"labels\":"
			"{\"app\":\"a\"}},"
		"\"status\":{\"podIPs\":[{\"ip\":\"10.0.0.1\"},{\"ip\":\"fd00::1\"}]}}\n"
		"{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"x\",\"name\":\"b\",\"labels\":"
			"{\"app\":\"b\"}},"
		"\"status\":{\"podIPs\":[{\"ip\":\"10.0.0.2\"},{\"ip\":\"fd00::2\"}]}}\n"
		"{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"x\",\"name\":\"c\",\"labels\":"
			"{\"app\":\"c\"}},"
		"\"status\":{\"podIPs\":[{\"ip\":\"10.0.0.3\"},{\"ip\":\"fd01::3\"}]}}\n"
		NP("x", "v6", "{\"podSelector\":{\"matchLabels\":{\"app\":\"a\"}},\"ingress\":["
			"{\"from\":"
			      "[{\"ipBlock\":{\"cidr\":\"fd00::/64\",\"except\":[\"fd00::"
			      	"2/128\"]}}]}]}");
	struct pw_policy_db *db = util_db(text, false);
	struct pw_ipcache_host_entry *h;

	if (!ASSERT_OK_PTR(db, "db"))
		return;
	ASSERT_EQ(pw_policy_db_host_entries(db, &h), 6, "v4 and v6 host entries");
	ASSERT_EQ(util_probe_fam(db, "x/c", "x/a", 80, TCP, PW_AF_INET6), 0, "outside /64");
	ASSERT_EQ(util_probe_fam(db, "x/b", "x/a", 80, TCP, PW_AF_INET6), 0, "v6 except");
	ASSERT_EQ(util_probe_fam(db, "fd00::99", "x/a", 80, TCP, PW_AF_INET6), 1, "in v6 block");
	ASSERT_EQ(util_probe_fam(db, "x/b", "x/a", 80, TCP, PW_AF_INET), 0, "v4 not in v6 block");
	pw_policy_db_free(&db);
}

static void test_identity_stability(void)
{
	struct pw_policy_db *db = with("");
	uint32_t before, after;
	struct pw_policy_delta d;

	if (!ASSERT_OK_PTR(db, "db"))
		return;
	before = pw_policy_db_endpoint(db, "y", "b")->identity;
	ASSERT_EQ(util_apply(db, POD("y", "new", "{\"zz\":\"1\"}", "10.0.3.3", "[]"), false), 0,
		  "add pod");
	after = pw_policy_db_endpoint(db, "y", "b")->identity;
	ASSERT_EQ(after, before, "an existing key keeps its number");
	ASSERT_EQ(pw_policy_db_endpoint(db, "x", "a")->identity ==
			  pw_policy_db_endpoint(db, "y", "a")->identity,
		  0, "same labels, other namespace: other identity");
	ASSERT_OK(pw_policy_db_compile(db, &d), "recompile");
	ASSERT_FALSE(d.changed, "nothing changed");
	ASSERT_EQ(d.n_ep_recomputed, 0, "nothing recomputed");
	pw_policy_delta_free(&d);
	pw_policy_db_free(&db);
}

static const struct pw_test tests[] = {
	{ "header entries and cookies", test_header_and_cookies },
	{ "selectors: {} vs missing, AND vs OR, expressions", test_selectors },
	{ "ipBlock, except and pod IPs", test_ipblock },
	{ "named ports differ per pod", test_named_ports },
	{ "endPort, SCTP vs TCP, UDP", test_endport_and_protocols },
	{ "port ranges spill", test_spill },
	{ "hostNetwork, node and remote pods", test_host_network_and_node },
	{ "IPv6", test_ipv6 },
	{ "identity stability", test_identity_stability },
};

PW_TEST_MAIN(tests)
