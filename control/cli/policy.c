// SPDX-License-Identifier: GPL-2.0-only
/*
 * podwallctl policy test|explain|matrix: offline tools over the real
 * compiler. Every verdict comes from one evaluator: the real TC programs run
 * on a synthetic packet through BPF_PROG_TEST_RUN (bpf_eval.h) when root
 * and bpffs allow it, else pw_evaluator_default, the datapath's algorithm
 * over the compiled maps. Either way what these tools say is what the
 * datapath does; the output names the engine that decided.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf_eval.h"
#include "cleanup.h"
#include "cli.h"
#include "log.h"
#include "policy.h"

static const struct pw_evaluator *evaluator = &pw_evaluator_default;
static struct pw_bpf_eval *bpf_engine;
static const char *engine_name = "offline";

#define ENGINE_OPT { "engine", required_argument, NULL, 'E' }
#define ENGINE_HELP                                                                          \
	"  --engine bpf|offline|auto  who decides: the real programs (BPF_PROG_TEST_RUN,\n"   \
	"                             root), the compiler's offline evaluator, or bpf when\n" \
	"                             possible (default: auto)\n"

/* Picks the evaluator; 0, or -errno after reporting why (--engine bpf that cannot run). */
static int engine_setup(const char *want)
{
	const char *why = NULL;
	int err;

	if (!want)
		want = "auto";
	if (!strcmp(want, "offline"))
		return 0;
	if (strcmp(want, "bpf") && strcmp(want, "auto")) {
		p_err("--engine: \"%s\" is not bpf, offline or auto", want);
		return -EINVAL;
	}
	err = pw_bpf_eval_supported(&why);
	if (!err) {
		pw_log_libbpf_init();
		err = pw_bpf_eval_new(&bpf_engine);
		if (err)
			why = "the datapath could not be loaded (-v for details)";
	}
	if (err) {
		if (!strcmp(want, "bpf")) {
			p_err("--engine bpf: %s", why);
			return err;
		}
		pr_info("engine: offline (BPF not available: %s)", why);
		return 0;
	}
	evaluator = pw_bpf_eval_evaluator(bpf_engine);
	engine_name = "bpf";
	return 0;
}

/* After evaluating: did the BPF engine fail somewhere? (It then reported why.) */
static int engine_check(void)
{
	int err = bpf_engine ? pw_bpf_eval_error(bpf_engine) : 0;

	if (err)
		p_err("BPF engine: %s", strerror(-err));
	return err;
}

static void engine_free(void)
{
	pw_bpf_eval_free(&bpf_engine);
	evaluator = &pw_evaluator_default;
	engine_name = "offline";
}

static const char *dir_name(int dir)
{
	return dir == PW_DIR_INGRESS ? "ingress" : "egress";
}

static const char *fam_name(uint8_t f)
{
	return f == PW_AF_INET6 ? "ipv6" : "ipv4";
}

/* Shared by subcommands: -j/-p also accepted after the command word. */
static bool common_opt(int c)
{
	if (c == 'j') {
		pw_cli.json = true;
		return true;
	}
	if (c == 'p') {
		pw_cli.json = pw_cli.pretty = true;
		return true;
	}
	return false;
}

/* ---------------- policy test ---------------- */

static void print_grid(const struct pw_case *c, const struct pw_case_result *res, size_t from,
		       size_t to)
{
	const struct pw_case_failure *f0 = &res->f[from];
	const struct pw_case_probe *pr = &c->steps[f0->step].probes[f0->probe];
	_cleanup_free_ const char **cols = calloc(c->npods + 1, sizeof(*cols));
	size_t ncols = 0, w = 3;
	const char *src, *dst;
	json_t *row, *v;

	if (!cols)
		return;
	json_object_foreach (pr->expect, src, row) {
		if (strlen(src) > w)
			w = strlen(src);
		json_object_foreach (row, dst, v) {
			size_t k;

			for (k = 0; k < ncols && strcmp(cols[k], dst); k++)
				;
			if (k == ncols)
				cols[ncols++] = dst;
			if (strlen(dst) > w)
				w = strlen(dst);
		}
	}
	printf("  step %zu probe %zu %s/%u (%s): '.' as expected, 'X' wrong\n", f0->step, f0->probe,
	       pw_proto_name(pr->proto), pr->port, fam_name(f0->family));
	printf("    %-*s", (int)w, "from\\to");
	for (size_t k = 0; k < ncols; k++)
		printf(" %-*s", (int)w, cols[k]);
	printf("\n");
	json_object_foreach (pr->expect, src, row) {
		printf("    %-*s", (int)w, src);
		for (size_t k = 0; k < ncols; k++) {
			const char *cell = " ";

			if (json_object_get(row, cols[k]) && strcmp(src, cols[k])) {
				cell = ".";
				for (size_t i = from; i < to; i++)
					if (!strcmp(res->f[i].from, src) &&
					    !strcmp(res->f[i].to, cols[k]))
						cell = "X";
			}
			printf(" %-*s", (int)w, cell);
		}
		printf("\n");
	}
	for (size_t i = from; i < to; i++) {
		const struct pw_case_failure *f = &res->f[i];
		const struct pw_verdict *vd =
			f->res.decided_dir == PW_DIR_EGRESS ? &f->res.egress : &f->res.ingress;

		printf("    %s -> %s: expected %s, observed %s (%s at %s: %s)\n", f->from, f->to,
		       f->expected ? "allow" : "deny", f->res.allowed ? "allow" : "deny",
		       pw_reason_name(vd->reason), dir_name(f->res.decided_dir), f->why);
	}
}

static json_t *failure_json(const struct pw_case_failure *f)
{
	json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:i, s:s, s:b, s:b, s:s}", "step",
			      (json_int_t)f->step, "probe", (json_int_t)f->probe, "from", f->from,
			      "to", f->to, "protocol", pw_proto_name(f->proto), "port", f->port,
			      "family", fam_name(f->family), "expected", f->expected, "observed",
			      f->res.allowed, "why", f->why);

	if (o && f->res.has_egress)
		json_object_set_new(o, "egress", json_string(pw_reason_name(f->res.egress.reason)));
	if (o && f->res.has_ingress)
		json_object_set_new(o, "ingress",
				    json_string(pw_reason_name(f->res.ingress.reason)));
	return o;
}

static int test_one(const char *path, json_t *out, int *worst)
{
	char err[PW_ERRMSG_MAX] = "";
	struct pw_case_result res = { 0 };
	struct pw_case *c = NULL;
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je), *jc = NULL;
	int r = 0;

	if (!root) {
		snprintf(err, sizeof(err), "line %d: %s", je.line, je.text);
		r = -EINVAL;
	} else {
		r = pw_case_parse(root, &c, err);
	}
	if (!r) {
		/* A new db per case: it may reuse the last one's address and epoch. */
		if (bpf_engine)
			pw_bpf_eval_reset(bpf_engine);
		r = pw_case_run(c, evaluator, &res, err);
		if (!r && engine_check())
			r = -EIO;
	}
	if (r) {
		if (!err[0])
			snprintf(err, sizeof(err), "%s", strerror(-r));
		if (pw_cli.json)
			jc = json_pack("{s:s, s:s, s:s}", "file", path, "result", "error", "error",
				       err);
		else
			printf("ERROR %s: %s\n", path, err);
		*worst = 2;
		goto out;
	}
	if (pw_cli.json) {
		json_t *fl = json_array();

		for (size_t i = 0; i < res.nf; i++)
			json_array_append_new(fl, failure_json(&res.f[i]));
		jc = json_pack("{s:s, s:s, s:s, s:I, s:o, s:s}", "file", path, "name", c->name,
			       "result", res.nf ? "fail" : "pass", "checked",
			       (json_int_t)res.checked, "failures", fl, "engine", engine_name);
	} else if (!res.nf) {
		printf("PASS %s (%zu probes, %s)\n", c->name, res.checked, engine_name);
	} else {
		size_t i = 0;

		printf("FAIL %s: %zu of %zu probes wrong (%s)\n", c->name, res.nf, res.checked,
		       engine_name);
		while (i < res.nf) {
			size_t j = i + 1;

			while (j < res.nf && res.f[j].step == res.f[i].step &&
			       res.f[j].probe == res.f[i].probe &&
			       res.f[j].family == res.f[i].family)
				j++;
			print_grid(c, &res, i, j);
			i = j;
		}
	}
	if (res.nf && *worst < 1)
		*worst = 1;
out:
	if (jc)
		json_array_append_new(out, jc);
	pw_case_result_free(&res);
	pw_case_free(&c);
	json_decref(root);
	return r;
}

static int do_test(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		ENGINE_OPT,
		{ 0 },
	};
	const char *engine = NULL, *used;
	json_t *cases;
	int c, worst = 0, passed = 0, failed = 0, errors = 0;
	size_t i;
	json_t *e;

	optind = 0;
	while ((c = getopt_long(argc, argv, "jph", opts, NULL)) != -1) {
		if (common_opt(c))
			continue;
		if (c == 'E') {
			engine = optarg;
			continue;
		}
		printf("Usage: podwallctl policy test [-j] [--engine E] CASE.json...\n\n"
		       "Runs policy case files (docs: the policy case format) through the real\n"
		       "compiler and the datapath's evaluation, offline. Pod i of a case (0-based,\n"
		       "in file order) has the addresses 10.244.0.0/16 + (i + 2) and fd00::(i + 2);\n"
		       "each probe is checked over IPv4 and, in steps without ipBlocks, IPv6.\n"
		       ENGINE_HELP
		       "Exit: 0 all pass, 1 a probe differs, 2 a case file is malformed.\n");
		return c == 'h' ? 0 : 2;
	}
	if (optind >= argc) {
		p_err("policy test: no case file given");
		return 2;
	}
	if (engine_setup(engine))
		return 2;
	used = engine_name;
	cases = json_array();
	for (int k = optind; k < argc; k++)
		test_one(argv[k], cases, &worst);
	engine_free();
	json_array_foreach (cases, i, e) {
		const char *r = json_string_value(json_object_get(e, "result"));

		passed += !strcmp(r, "pass");
		failed += !strcmp(r, "fail");
		errors += !strcmp(r, "error");
	}
	if (pw_cli.json)
		pw_json_print(json_pack("{s:o, s:i, s:i, s:i, s:s}", "cases", cases, "passed",
					passed, "failed", failed, "errors", errors, "engine",
					used));
	else
		json_decref(cases);
	return worst;
}

/* ---------------- manifests for explain / matrix ---------------- */

static bool pod_has_ip(json_t *pod)
{
	json_t *st = json_object_get(pod, "status");
	json_t *ips = json_object_get(st, "podIPs");

	return json_string_length(json_object_get(st, "podIP")) ||
	       (json_is_array(ips) && json_array_size(ips));
}

/*
 * Label-only manifests (no status.podIP: the pod has not run yet) get the
 * offline addresses `policy test` gives case pods: pod i, counted over every
 * Pod in load order, has 10.244.0.0/16 + (i + 2) and fd00::(i + 2). An
 * address another pod's manifest already holds is not handed out twice.
 */
static void mark_used(json_t *used, const char *ip)
{
	struct pw_addr a;
	char buf[64];

	if (!ip || pw_addr_parse(ip, &a))
		return;
	pw_addr_format(&a, buf, sizeof(buf));
	json_object_set_new(used, buf, json_true());
}

static void assign_offline_ips(json_t *items)
{
	json_t *used = json_object(), *it, *j;
	size_t i, k = 0, m;

	/* Addresses manifests already hold, as canonical text. */
	json_array_foreach (items, i, it) {
		json_t *st = json_object_get(json_object_get(it, "object"), "status");

		mark_used(used, json_string_value(json_object_get(st, "podIP")));
		json_array_foreach (json_object_get(st, "podIPs"), m, j)
			mark_used(used, json_string_value(json_object_get(j, "ip")));
	}
	json_array_foreach (items, i, it) {
		json_t *obj = json_object_get(it, "object"), *st;
		json_t *meta = json_object_get(obj, "metadata");
		const char *kind = json_string_value(json_object_get(obj, "kind"));
		struct pw_addr a4, a6;
		char v4[64], v6[64];

		if (!kind || strcmp(kind, "Pod"))
			continue;
		pw_case_addr(k++, &a4, &a6);
		if (pod_has_ip(obj) ||
		    json_is_true(json_object_get(json_object_get(obj, "spec"), "hostNetwork")))
			continue;
		pw_addr_format(&a4, v4, sizeof(v4));
		pw_addr_format(&a6, v6, sizeof(v6));
		if (json_object_get(used, v4) || json_object_get(used, v6)) {
			pr_warn("pod %s/%s: no status.podIP, and its offline address %s is taken",
				json_string_value(json_object_get(meta, "namespace")),
				json_string_value(json_object_get(meta, "name")), v4);
			continue;
		}
		st = json_object_get(obj, "status");
		if (!json_is_object(st)) {
			st = json_object();
			json_object_set_new(obj, "status", st);
		}
		json_object_set_new(st, "podIP", json_string(v4));
		json_object_set_new(st, "podIPs", json_pack("[{s:s}, {s:s}]", "ip", v4, "ip", v6));
		pr_info("pod %s/%s: no status.podIP: offline addresses %s, %s",
			json_string_value(json_object_get(meta, "namespace")),
			json_string_value(json_object_get(meta, "name")), v4, v6);
	}
	json_decref(used);
}

struct load_opts {
	char **files;
	size_t nfiles;
	const char *node;
	struct pw_addr node_ips[16];
	size_t nnode_ips;
	int rejected;
};

static void load_err(void *ctx, const char *msg)
{
	struct load_opts *o = ctx;

	o->rejected++;
	/* In JSON mode rejections are warnings on stderr; stdout stays one JSON document. */
	pr_warn("%s", msg);
}

static int load_db(struct load_opts *o, struct pw_policy_db **out)
{
	struct pw_policy_db *db = NULL;
	json_t *items = json_array();
	int err;

	if (!o->nfiles) {
		p_err("no manifests given (-f FILE|DIR)");
		json_decref(items);
		return -EINVAL;
	}
	err = pw_policy_db_new(&db);
	if (err)
		goto out;
	if (o->node || o->nnode_ips) {
		err = pw_policy_db_set_node(db, o->node, o->node_ips, o->nnode_ips);
		if (err)
			goto out;
	}
	for (size_t i = 0; i < o->nfiles; i++) {
		err = pw_manifest_load(o->files[i], items, load_err, o);
		if (err < 0) {
			p_err("%s: %s", o->files[i], strerror(-err));
			goto out;
		}
	}
	assign_offline_ips(items);
	pw_manifest_apply(db, items, load_err, o);
	err = pw_policy_db_compile(db, NULL);
	if (err) {
		p_err("compile: %s", strerror(-err));
		goto out;
	}
	*out = db;
	db = NULL;
	err = 0;
out:
	json_decref(items);
	pw_policy_db_free(&db);
	return err < 0 ? err : 0;
}

/* The node's own addresses: their traffic is host traffic (PW_ID_HOST). */
static int add_node_ip(struct load_opts *o, const char *s)
{
	if (o->nnode_ips == ARRAY_SIZE(o->node_ips)) {
		p_err("--node-ip: at most %zu addresses", ARRAY_SIZE(o->node_ips));
		return -E2BIG;
	}
	if (pw_addr_parse(s, &o->node_ips[o->nnode_ips])) {
		p_err("--node-ip: \"%s\" is not an IP address", s);
		return -EINVAL;
	}
	o->nnode_ips++;
	return 0;
}

static int add_file(struct load_opts *o, char *f)
{
	char **n = realloc(o->files, (o->nfiles + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	o->files = n;
	n[o->nfiles++] = f;
	return 0;
}

/* NS/POD or an address; a pod's own address is its first IPv4 one (else its first). */
static int resolve(const struct pw_policy_db *db, const char *s, struct pw_addr *a,
		   const struct pw_pod_view **pod)
{
	struct pw_pod_view *pods;
	size_t n;

	*pod = NULL;
	if (!pw_addr_parse(s, a)) {
		n = pw_policy_db_pods(db, &pods);
		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; k < pods[i].nips; k++)
				if (!memcmp(&pods[i].ips[k], a, sizeof(*a)) &&
				    !pods[i].host_network)
					*pod = pw_policy_db_pod(db, pods[i].ns, pods[i].name);
		return 0;
	}
	if (strchr(s, '/')) {
		char buf[300], *slash;

		snprintf(buf, sizeof(buf), "%s", s);
		slash = strchr(buf, '/');
		*slash = 0;
		*pod = pw_policy_db_pod(db, buf, slash + 1);
	}
	if (!*pod) {
		p_err("\"%s\": no such pod (NS/POD) and not an IP address", s);
		return -ENOENT;
	}
	if (!(*pod)->nips) {
		p_err("pod %s has no IP address", s);
		return -ENOENT;
	}
	*a = (*pod)->ips[0];
	for (size_t k = 0; k < (*pod)->nips; k++)
		if ((*pod)->ips[k].family == PW_AF_INET) {
			*a = (*pod)->ips[k];
			break;
		}
	return 0;
}

static int parse_port_proto(const char *port, const char *proto, uint16_t *p, uint8_t *pr)
{
	char *end;
	long v;

	if (!port) {
		p_err("--port is required");
		return -EINVAL;
	}
	v = strtol(port, &end, 10);
	if (*end || v < 1 || v > 65535) {
		p_err("--port: \"%s\" is not a port number", port);
		return -EINVAL;
	}
	*p = (uint16_t)v;
	*pr = pw_proto_parse(proto ? proto : "TCP");
	if (!*pr) {
		p_err("--proto: \"%s\" is not TCP, UDP or SCTP", proto);
		return -EINVAL;
	}
	return 0;
}

/* ---------------- policy explain ---------------- */

static void explain_dir(const struct pw_policy_db *db, const struct pw_pod_view *pod, int dir,
			const struct pw_verdict *v, json_t *jo)
{
	const struct pw_endpoint_view *ep =
		pod ? pw_policy_db_endpoint(db, pod->ns, pod->name) : NULL;
	struct pw_cookie_info ci;
	char why[600];

	if (v->reason == PW_REASON_ALLOW_UNISOLATED)
		snprintf(why, sizeof(why), "no policy selects the %s for %s",
			 dir == PW_DIR_INGRESS ? "destination" : "source", dir_name(dir));
	else
		pw_policy_explain_verdict(db, ep, dir, v, why, sizeof(why));
	if (jo) {
		json_t *d =
			json_pack("{s:s, s:s, s:s, s:b, s:s}", "endpoint", ep ? ep->ns : "", "name",
				  ep ? ep->name : "", "reason", pw_reason_name(v->reason),
				  "allowed", !pw_reason_is_drop(v->reason), "why", why);

		if (d && v->cookie && !pw_policy_db_cookie(db, v->cookie, &ci))
			json_object_set_new(d, "rule",
					    json_pack("{s:s, s:s, s:s, s:i, s:I}", "namespace",
						      ci.ns, "policy", ci.name, "direction",
						      dir_name(ci.dir), "index", (int)ci.rule,
						      "cookie", (json_int_t)v->cookie));
		json_object_set_new(jo, dir_name(dir), d);
		return;
	}
	printf("  %-7s at %s/%s: %s: %s\n", dir_name(dir), ep ? ep->ns : "?", ep ? ep->name : "?",
	       pw_reason_name(v->reason), why);
}

static int do_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ "port", required_argument, NULL, 'P' },
		{ "proto", required_argument, NULL, 'r' },
		{ "node", required_argument, NULL, 'n' },
		{ "node-ip", required_argument, NULL, 'I' },
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		ENGINE_OPT,
		{ 0 },
	};
	struct load_opts lo = { 0 };
	const char *from = NULL, *to = NULL, *port = NULL, *proto = NULL, *engine = NULL;
	const struct pw_pod_view *sp, *dp;
	struct pw_policy_db *db = NULL;
	struct pw_probe_result r;
	struct pw_addr sa, da;
	char sbuf[64], dbuf[64];
	uint16_t dport;
	uint8_t pr;
	int c, ret = 1;

	optind = 0;
	while ((c = getopt_long(argc, argv, "f:jph", opts, NULL)) != -1) {
		if (common_opt(c))
			continue;
		switch (c) {
		case 'f':
			if (add_file(&lo, optarg))
				goto out;
			break;
		case 'F':
			from = optarg;
			break;
		case 'T':
			to = optarg;
			break;
		case 'P':
			port = optarg;
			break;
		case 'r':
			proto = optarg;
			break;
		case 'n':
			lo.node = optarg;
			break;
		case 'I':
			if (add_node_ip(&lo, optarg)) {
				ret = 2;
				goto out;
			}
			break;
		case 'E':
			engine = optarg;
			break;
		default:
			printf("Usage: podwallctl policy explain -f MANIFESTS... --from NS/POD|IP "
			       "--to NS/POD|IP --port N [--proto TCP|UDP|SCTP]\n"
			       "       [--node NAME] [--node-ip IP]... [--engine E]\n"
			       "Pods without status.podIP get `policy test`'s offline addresses.\n"
			       ENGINE_HELP);
			ret = c == 'h' ? 0 : 2;
			goto out;
		}
	}
	if (!from || !to) {
		p_err("--from and --to are required");
		ret = 2;
		goto out;
	}
	if (parse_port_proto(port, proto, &dport, &pr)) {
		ret = 2;
		goto out;
	}
	if (load_db(&lo, &db))
		goto out;
	if (resolve(db, from, &sa, &sp) || resolve(db, to, &da, &dp))
		goto out;
	if (sa.family != da.family) {
		p_err("--from and --to are of different address families");
		goto out;
	}
	if (engine_setup(engine)) {
		ret = 2;
		goto out;
	}
	pw_policy_probe(db, evaluator, &sa, &da, pr, dport, &r);
	if (engine_check()) {
		ret = 2;
		goto out;
	}
	pw_addr_format(&sa, sbuf, sizeof(sbuf));
	pw_addr_format(&da, dbuf, sizeof(dbuf));
	if (pw_cli.json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:b, s:s}", "from",
				      from, "from_ip", sbuf, "to", to, "to_ip", dbuf, "protocol",
				      pw_proto_name(pr), "port", dport, "verdict",
				      r.allowed ? "allow" : "deny", "allowed", r.allowed, "engine",
				      engine_name);

		if (o && r.has_egress)
			explain_dir(db, sp, PW_DIR_EGRESS, &r.egress, o);
		if (o && r.has_ingress)
			explain_dir(db, dp, PW_DIR_INGRESS, &r.ingress, o);
		pw_json_print(o);
	} else {
		printf("%s (%s) -> %s (%s) %s/%u: %s\n", from, sbuf, to, dbuf, pw_proto_name(pr),
		       dport, r.allowed ? "ALLOW" : "DENY");
		if (r.has_egress)
			explain_dir(db, sp, PW_DIR_EGRESS, &r.egress, NULL);
		else
			printf("  egress : source is not a local endpoint (not enforced here)\n");
		if (r.has_ingress)
			explain_dir(db, dp, PW_DIR_INGRESS, &r.ingress, NULL);
		else
			printf("  ingress: destination is not a local endpoint "
			       "(not enforced here)\n");
		printf("  decided by: %s\n", !strcmp(engine_name, "bpf") ?
			       "bpf (the datapath's programs, BPF_PROG_TEST_RUN)" :
			       "offline (the compiler's evaluator)");
	}
	ret = r.allowed ? 0 : 1;
out:
	engine_free();
	free(lo.files);
	pw_policy_db_free(&db);
	return ret;
}

/* ---------------- policy matrix ---------------- */

static const struct pw_addr *pod_addr(const struct pw_pod_view *p, uint8_t family)
{
	for (size_t k = 0; k < p->nips; k++)
		if (p->ips[k].family == family)
			return &p->ips[k];
	return NULL;
}

static int do_matrix(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "namespace", required_argument, NULL, 'N' },
		{ "port", required_argument, NULL, 'P' },
		{ "proto", required_argument, NULL, 'r' },
		{ "format", required_argument, NULL, 'o' },
		{ "node", required_argument, NULL, 'n' },
		{ "node-ip", required_argument, NULL, 'I' },
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		ENGINE_OPT,
		{ 0 },
	};
	struct load_opts lo = { 0 };
	const char *ns = NULL, *port = NULL, *proto = NULL, *format = NULL, *engine = NULL;
	struct pw_policy_db *db = NULL;
	_cleanup_free_ const struct pw_pod_view **pods = NULL;
	_cleanup_free_ bool *allowed = NULL;
	struct pw_pod_view *all;
	size_t n = 0, nall, w = 3;
	uint16_t dport;
	uint8_t pr;
	int c, ret = 1;

	optind = 0;
	while ((c = getopt_long(argc, argv, "f:n:jph", opts, NULL)) != -1) {
		if (common_opt(c))
			continue;
		switch (c) {
		case 'f':
			if (add_file(&lo, optarg))
				goto out;
			break;
		case 'N':
			ns = optarg;
			break;
		case 'P':
			port = optarg;
			break;
		case 'r':
			proto = optarg;
			break;
		case 'o':
			format = optarg;
			break;
		case 'n':
			lo.node = optarg;
			break;
		case 'I':
			if (add_node_ip(&lo, optarg)) {
				ret = 2;
				goto out;
			}
			break;
		case 'E':
			engine = optarg;
			break;
		default:
			printf("Usage: podwallctl policy matrix -f MANIFESTS... [--namespace NS] "
			       "--port N [--proto P] [--format text|json|dot]\n"
			       "       [--node NAME] [--node-ip IP]... [--engine E]\n"
			       "Pods without status.podIP get `policy test`'s offline addresses.\n"
			       ENGINE_HELP);
			ret = c == 'h' ? 0 : 2;
			goto out;
		}
	}
	if (!format)
		format = pw_cli.json ? "json" : "text";
	if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "dot")) {
		p_err("--format: \"%s\" is not text, json or dot", format);
		ret = 2;
		goto out;
	}
	if (parse_port_proto(port, proto, &dport, &pr)) {
		ret = 2;
		goto out;
	}
	if (load_db(&lo, &db))
		goto out;
	if (engine_setup(engine)) {
		ret = 2;
		goto out;
	}
	nall = pw_policy_db_pods(db, &all);
	pods = calloc(nall + 1, sizeof(*pods));
	allowed = calloc((nall + 1) * (nall + 1), sizeof(*allowed));
	if (!pods || !allowed)
		goto out;
	for (size_t i = 0; i < nall; i++) {
		/* Pod-to-pod only: host-network pods are the node, not endpoints. */
		if (all[i].host_network || !all[i].nips || (ns && strcmp(all[i].ns, ns)))
			continue;
		pods[n++] = &all[i];
		if (strlen(all[i].ns) + strlen(all[i].name) + 1 > w)
			w = strlen(all[i].ns) + strlen(all[i].name) + 1;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < n; k++) {
			const struct pw_addr *sa, *da;
			struct pw_probe_result r;

			if (i == k)
				continue;
			/* IPv4 where both have it, else IPv6; dual-stack pods agree unless ipBlocks */
			sa = pod_addr(pods[i], PW_AF_INET);
			da = pod_addr(pods[k], PW_AF_INET);
			if (!sa || !da) {
				sa = pod_addr(pods[i], PW_AF_INET6);
				da = pod_addr(pods[k], PW_AF_INET6);
			}
			if (!sa || !da)
				continue; /* no common family: not reachable */
			pw_policy_probe(db, evaluator, sa, da, pr, dport, &r);
			allowed[i * n + k] = r.allowed;
		}
	if (engine_check()) {
		ret = 2;
		goto out;
	}
	if (!strcmp(format, "json")) {
		json_t *jp = json_array(), *jm = json_array(), *edges = json_array();

		for (size_t i = 0; i < n; i++) {
			json_t *row = json_array();
			char id[600];

			snprintf(id, sizeof(id), "%s/%s", pods[i]->ns, pods[i]->name);
			json_array_append_new(jp, json_string(id));
			for (size_t k = 0; k < n; k++) {
				json_array_append_new(row,
						      i == k ? json_null() :
							       json_boolean(allowed[i * n + k]));
				if (i != k && allowed[i * n + k])
					json_array_append_new(edges,
							      json_pack("[s, s++]", id, pods[k]->ns,
									"/", pods[k]->name));
			}
			json_array_append_new(jm, row);
		}
		pw_json_print(json_pack("{s:s, s:i, s:o, s:o, s:o, s:s}", "protocol",
					pw_proto_name(pr), "port", dport, "pods", jp, "matrix", jm,
					"allowed", edges, "engine", engine_name));
	} else if (!strcmp(format, "dot")) {
		printf("digraph podwall {\n\tlabel=\"allowed %s/%u (decided by %s)\";\n"
		       "\trankdir=LR;\n\tnode [shape=box, style=rounded];\n",
		       pw_proto_name(pr), dport, engine_name);
		for (size_t i = 0; i < n;) {
			size_t j = i;

			/* pods are sorted by namespace: one cluster per run */
			printf("\tsubgraph \"cluster_%s\" {\n\t\tlabel=\"%s\";\n", pods[i]->ns,
			       pods[i]->ns);
			for (; j < n && !strcmp(pods[j]->ns, pods[i]->ns); j++)
				printf("\t\t\"%s/%s\" [label=\"%s\"];\n", pods[j]->ns,
				       pods[j]->name, pods[j]->name);
			printf("\t}\n");
			i = j;
		}
		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; k < n; k++)
				if (i != k && allowed[i * n + k])
					printf("\t\"%s/%s\" -> \"%s/%s\";\n", pods[i]->ns,
					       pods[i]->name, pods[k]->ns, pods[k]->name);
		printf("}\n");
	} else {
		printf("%s/%u: rows = from, columns = to; 1 allowed, . denied (decided by %s)\n",
		       pw_proto_name(pr), dport, engine_name);
		printf("%*s", (int)w + 5, "");
		for (size_t k = 0; k < n; k++)
			printf("%-2zu", k % 100);
		printf("\n");
		for (size_t i = 0; i < n; i++) {
			char id[600];

			snprintf(id, sizeof(id), "%s/%s", pods[i]->ns, pods[i]->name);
			printf("%3zu %-*s ", i, (int)w, id);
			for (size_t k = 0; k < n; k++)
				printf("%-2s", i == k ? "-" : allowed[i * n + k] ? "1" : ".");
			printf("\n");
		}
	}
	ret = 0;
out:
	engine_free();
	free(lo.files);
	pw_policy_db_free(&db);
	return ret;
}

static const struct pw_cmd policy_cmds[] = {
	{ "test", do_test, "run policy case files offline (exit 0 pass, 1 fail, 2 malformed)" },
	{ "explain", do_explain, "why a connection is allowed or denied, and by which rule" },
	{ "matrix", do_matrix, "reachability of every pod pair (text, json or dot)" },
	{ "show", do_policy_show, "podwalld: a pod's compiled policy, rules and hit counts" },
	{ 0 },
};

int do_policy(int argc, char **argv)
{
	return pw_cmd_dispatch(policy_cmds, "podwallctl policy", argc - 1, argv + 1);
}
