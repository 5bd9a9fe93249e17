// SPDX-License-Identifier: GPL-2.0-only
/*
 * podwalld and the uplink DoS guards: settings from --dos-config (a JSON
 * file) at start, the same settings and the blocklist live through the API
 * socket, and a periodic sweep of expired blocklist entries (the datapath
 * ignores them, but prefixes can only be deleted from user space).
 *
 * Settings object (file and "ratelimit-set" request), every key optional;
 * numbers may be given as JSON numbers or as strings with units:
 *   {"pps": "10k", "bandwidth": "100Mbit", "burst": 20000, "burst_bytes": "1MB",
 *    "src_prefix4": 24, "src_prefix6": 64, "auto_block_after": "2s",
 *    "auto_block_ttl": "10m", "syn_rate": "1k", "syn_burst": 2000,
 *    "verified_ttl": "10m", "enabled": true,
 *    "blocklist": [{"cidr": "198.51.100.0/24", "ttl": "1h", "exempt": false}]}
 * A request with "ep_id" sets that pod's override (pps, bandwidth, bursts only).
 *
 * Each pod's own limits at its veth follow its annotations (sync_pod_limits),
 * its connection limit podwall.io/max-connections too (sync_conn_limit).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "cleanup.h"
#include "daemon.h"
#include "dos.h"
#include "log.h"

#define SWEEP_EVERY_TICKS 10

typedef int (*parse_fn)(const char *, __u64 *, char *, size_t);

/* A key's value through parser fn: JSON numbers go through the same parser as text. */
static int get_val(json_t *o, const char *key, parse_fn fn, __u64 min, __u64 *out, bool *set,
		   char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	char buf[64], msg[160];
	const char *s;

	*set = false;
	if (!v)
		return 0;
	if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		s = buf;
	} else if (json_is_string(v)) {
		s = json_string_value(v);
	} else {
		snprintf(err, errlen, "%s: a number or a string with a unit", key);
		return -EINVAL;
	}
	if (fn(s, out, msg, sizeof(msg))) {
		snprintf(err, errlen, "%s: %s", key, msg);
		return -EINVAL;
	}
	if (*out < min || *out > UINT32_MAX) {
		snprintf(err, errlen, "%s: \"%s\": out of range", key, s);
		return -EINVAL;
	}
	*set = true;
	return 0;
}

static int limit_from(json_t *o, struct pw_rl_limit *l, char *err, size_t errlen)
{
	bool set;
	__u64 v;

	if (get_val(o, "pps", pw_dos_parse_pps, 1, &v, &set, err, errlen))
		return -EINVAL;
	if (set)
		l->pps = v;
	if (get_val(o, "bandwidth", pw_dos_parse_bandwidth, 1, &v, &set, err, errlen))
		return -EINVAL;
	if (set)
		l->bps = v;
	if (get_val(o, "burst", pw_dos_parse_count, 1, &v, &set, err, errlen))
		return -EINVAL;
	if (set)
		l->burst_pkts = v;
	if (get_val(o, "burst_bytes", pw_dos_parse_bandwidth, 1, &v, &set, err, errlen))
		return -EINVAL;
	if (set)
		l->burst_bytes = v;
	return 0;
}

/*
 * Validates all of o first, then writes: a bad value changes nothing.
 * Returns 0 or -errno with err filled.
 */
static int apply(struct pw_daemon *d, json_t *o, char *err, size_t errlen)
{
	struct pw_dos_cfg cfg;
	json_t *bl, *e, *p;
	size_t i;
	bool set;
	__u64 v;
	int r;

	if (!json_is_object(o)) {
		snprintf(err, errlen, "settings: not an object");
		return -EINVAL;
	}
	r = pw_dos_cfg_read(d->dos, &cfg);
	if (r) {
		snprintf(err, errlen, "read settings: %s", strerror(-r));
		return r;
	}
	if ((p = json_object_get(o, "ep_id"))) {
		struct pw_rl_limit l = {};
		json_int_t ep = json_integer_value(p);

		if (!json_is_integer(p) || ep <= 0 || ep >= PW_MAX_ENDPOINTS) {
			snprintf(err, errlen, "ep_id: an endpoint id 1..%d", PW_MAX_ENDPOINTS - 1);
			return -EINVAL;
		}
		pw_dos_pod_limit_get(d->dos, ep, &l);
		if (limit_from(o, &l, err, errlen))
			return -EINVAL;
		r = pw_dos_pod_limit_set(d->dos, ep, &l);
		if (r)
			snprintf(err, errlen, "ep %lld: %s", (long long)ep, strerror(-r));
		return r;
	}
	if (limit_from(o, &cfg.def, err, errlen))
		return -EINVAL;
	for (i = 0; i < 2; i++) {
		const char *k = i ? "src_prefix6" : "src_prefix4";
		json_int_t pl;

		if (!(p = json_object_get(o, k)))
			continue;
		pl = json_integer_value(p);
		if (!json_is_integer(p) || (i ? (pl != 64 && pl != 128) : (pl != 24 && pl != 32))) {
			snprintf(err, errlen, "%s: %s", k, i ? "64 or 128" : "24 or 32");
			return -EINVAL;
		}
		if (i)
			cfg.src_prefix6 = pl;
		else
			cfg.src_prefix4 = pl;
	}
	if (get_val(o, "auto_block_after", pw_dos_parse_duration, 1, &v, &set, err, errlen))
		return -EINVAL;
	if (set)
		cfg.auto_block_ms = v;
	if (get_val(o, "auto_block_ttl", pw_dos_parse_duration, 1000, &v, &set, err, errlen))
		return -EINVAL;
	if (set)
		cfg.auto_block_ttl_s = v / 1000;
	if (get_val(o, "syn_rate", pw_dos_parse_pps, 1, &v, &set, err, errlen))
		return -EINVAL;
	if (set)
		cfg.syn_pps = v;
	if (get_val(o, "syn_burst", pw_dos_parse_count, 1, &v, &set, err, errlen))
		return -EINVAL;
	if (set)
		cfg.syn_burst = v;
	if (get_val(o, "verified_ttl", pw_dos_parse_duration, 1000, &v, &set, err, errlen))
		return -EINVAL;
	if (set)
		cfg.verified_ttl_s = v / 1000;
	p = json_object_get(o, "enabled");
	if (p && !json_is_boolean(p)) {
		snprintf(err, errlen, "enabled: true or false");
		return -EINVAL;
	}
	if (!p || json_is_true(p))
		cfg.flags |= PW_DOS_F_ENABLED;
	else
		cfg.flags &= ~PW_DOS_F_ENABLED;

	bl = json_object_get(o, "blocklist");
	if (bl && !json_is_array(bl)) {
		snprintf(err, errlen, "blocklist: not an array");
		return -EINVAL;
	}
	/* Check every entry before the first write. */
	json_array_foreach (bl, i, e) {
		const char *cidr = json_string_value(json_object_get(e, "cidr"));
		struct pw_lpm_key k;

		if (!cidr || pw_lpm_key_parse(&k, cidr)) {
			snprintf(err, errlen, "blocklist[%zu]: cidr: %s%s%s", i, cidr ? "\"" : "",
				 cidr ?: "missing", cidr ? "\": not an address or CIDR" : "");
			return -EINVAL;
		}
		if (get_val(e, "ttl", pw_dos_parse_duration, 1000, &v, &set, err, errlen)) {
			char inner[256];

			snprintf(inner, sizeof(inner), "%s", err);
			snprintf(err, errlen, "blocklist[%zu]: %s", i, inner);
			return -EINVAL;
		}
	}
	r = pw_dos_cfg_write(d->dos, &cfg);
	if (r) {
		snprintf(err, errlen, "write settings: %s", strerror(-r));
		return r;
	}
	json_array_foreach (bl, i, e) {
		get_val(e, "ttl", pw_dos_parse_duration, 1000, &v, &set, err, errlen);
		r = pw_dos_block_add(d->dos, json_string_value(json_object_get(e, "cidr")),
				     PW_BL_OWNER_OPERATOR,
				     json_is_true(json_object_get(e, "exempt")) ? PW_BL_F_EXEMPT :
										  0,
				     set ? v / 1000 : 0);
		if (r) {
			snprintf(err, errlen, "blocklist[%zu]: %s", i, strerror(-r));
			return r;
		}
	}
	return 0;
}

int pw_daemon_dos_start(struct pw_daemon *d)
{
	char err[512];
	json_error_t je;
	json_t *o;
	int r;

	r = pw_dos_open(&d->dos, d->o.pin_root);
	if (r)
		return r;
	if (!d->o.dos_config)
		return 0;
	o = json_load_file(d->o.dos_config, 0, &je);
	if (!o) {
		pr_err("%s:%d: %s", d->o.dos_config, je.line, je.text);
		return -EINVAL;
	}
	r = apply(d, o, err, sizeof(err));
	json_decref(o);
	if (r)
		pr_err("%s: %s", d->o.dos_config, err);
	return r;
}

/* What was last written for each endpoint, so unchanged annotations cost no map write. */
static struct {
	bool set;
	struct pw_pod_limits l;
	char bad[256]; /* the last complaint, logged once */
	__u32 max_conns; /* podwall.io/max-connections as written; 0: none */
	char bad_conns[256];
	bool used; /* the endpoint existed at the last tick */
} pod_state[PW_MAX_ENDPOINTS];

/* An endpoint went away: sweep its conntrack entries before its id can be reused. */
static bool sweep_soon;

#define ANN_MAX_CONNS "podwall.io/max-connections"

/* The pod's podwall.io/max-connections (annotations a) -> pw_conn_limit, when it changed. */
static void sync_conn_limit(struct pw_daemon *d, struct pw_ep *ep, uint32_t i, json_t *a)
{
	const char *s = json_string_value(json_object_get(a, ANN_MAX_CONNS));
	char err[200], msg[160];
	__u64 v = 0;
	int r;

	if (json_object_get(a, ANN_MAX_CONNS) && !s) {
		snprintf(err, sizeof(err), "%s: not a string", ANN_MAX_CONNS);
		goto bad;
	}
	if (s && pw_dos_parse_count(s, &v, msg, sizeof(msg))) {
		snprintf(err, sizeof(err), "%s: %s", ANN_MAX_CONNS, msg);
		goto bad;
	}
	pod_state[i].bad_conns[0] = '\0';
	if (v == pod_state[i].max_conns)
		return;
	r = pw_dos_conn_limit_set(d->dos, i, v);
	if (r) {
		pr_warn("pod %s/%s: %s: %s", ep->ns, ep->pod, ANN_MAX_CONNS, strerror(-r));
		return;
	}
	pod_state[i].max_conns = v;
	if (v)
		pr_info("pod %s/%s: at most %llu connections", ep->ns, ep->pod,
			(unsigned long long)v);
	else
		pr_info("pod %s/%s: connections unlimited", ep->ns, ep->pod);
	return;
bad:
	/* Refused: the limit last applied stays. */
	if (strcmp(err, pod_state[i].bad_conns))
		pr_warn("pod %s/%s: %s (limit unchanged)", ep->ns, ep->pod, err);
	snprintf(pod_state[i].bad_conns, sizeof(pod_state[i].bad_conns), "%s", err);
}

/*
 * A pod's annotations -> its limits at its veth. Bad values are logged once
 * (naming the pod and the annotation) and keep the limits last applied.
 */
static void sync_pod_limits(struct pw_daemon *d)
{
	char key[512], err[256];
	uint32_t i;

	for (i = 1; i < PW_MAX_ENDPOINTS; i++) {
		const char *ann[_PW_POD_ANN_MAX] = {};
		struct pw_ep *ep = &d->eps[i];
		struct pw_pod_limits l;
		json_t *a = NULL;
		int k, r;

		if (!ep->used) {
			if (pod_state[i].set)
				pw_dos_pod_limits_set(d->dos, i, NULL);
			if (pod_state[i].max_conns)
				pw_dos_conn_limit_set(d->dos, i, 0);
			if (pod_state[i].used)
				sweep_soon = true;
			memset(&pod_state[i], 0, sizeof(pod_state[i]));
			continue;
		}
		pod_state[i].used = true;
		if (d->objs && ep->ns && ep->pod) {
			snprintf(key, sizeof(key), "Pod/%s/%s", ep->ns, ep->pod);
			a = json_object_get(json_object_get(json_object_get(json_object_get(
							d->objs, key), "object"), "metadata"),
					    "annotations");
		}
		sync_conn_limit(d, ep, i, a);
		for (k = 0; k < _PW_POD_ANN_MAX; k++)
			ann[k] = json_string_value(json_object_get(a, pw_dos_pod_ann_name(k)));
		if (pw_dos_pod_limits_parse(&l, ann, err, sizeof(err))) {
			if (strcmp(err, pod_state[i].bad))
				pr_warn("pod %s/%s: %s (limits unchanged)", ep->ns, ep->pod, err);
			snprintf(pod_state[i].bad, sizeof(pod_state[i].bad), "%s", err);
			continue;
		}
		pod_state[i].bad[0] = '\0';
		if (pod_state[i].set == true && !memcmp(&l, &pod_state[i].l, sizeof(l)))
			continue;
		if (!pod_state[i].set && !memcmp(&l, &(struct pw_pod_limits){}, sizeof(l)))
			continue;
		r = pw_dos_pod_limits_set(d->dos, i, &l);
		if (r) {
			pr_warn("pod %s/%s: limits: %s", ep->ns, ep->pod, strerror(-r));
			continue;
		}
		pod_state[i].set = true;
		pod_state[i].l = l;
		pr_info("pod %s/%s: limits in %llu pps %llu B/s, out %llu pps %llu B/s", ep->ns,
			ep->pod, (unsigned long long)l.dir[PW_DIR_INGRESS].pps,
			(unsigned long long)l.dir[PW_DIR_INGRESS].bps,
			(unsigned long long)l.dir[PW_DIR_EGRESS].pps,
			(unsigned long long)l.dir[PW_DIR_EGRESS].bps);
	}
}

/*
 * Expired conntrack entries, and those of pods gone, leave the map; their
 * connection slots go back to their pods (pw_dos_ct_sweep).
 */
static void ct_sweep(struct pw_daemon *d)
{
	bool known[PW_MAX_ENDPOINTS] = {};
	struct pw_ct_sweep_opts o = {.ep_known = known};
	struct pw_ct_sweep_result r;
	uint32_t i;
	int err;

	/* Entries of a pod still being set up are not purged: its endpoint is used already. */
	for (i = 1; i < PW_MAX_ENDPOINTS; i++)
		known[i] = d->eps[i].used;
	err = pw_dos_ct_sweep(d->dos, &o, &r);
	if (err)
		pr_warn("conntrack sweep: %s", strerror(-err));
	else if (r.deleted || r.reclaimed)
		pr_debug("conntrack sweep: %llu entries, %llu deleted, %llu slots reclaimed",
			 (unsigned long long)r.entries, (unsigned long long)r.deleted,
			 (unsigned long long)r.reclaimed);
}

void pw_daemon_dos_tick(struct pw_daemon *d)
{
	static unsigned int ticks;
	int n;

	if (!d->dos)
		return;
	/* Annotations change with a manifest reload or a watch event: follow within a tick. */
	sync_pod_limits(d);
	if (sweep_soon) {
		sweep_soon = false;
		ct_sweep(d);
	}
	if (++ticks % SWEEP_EVERY_TICKS)
		return;
	n = pw_dos_block_sweep(d->dos);
	if (n > 0)
		pr_info("blocklist: %d expired entries removed", n);
	ct_sweep(d);
}

static json_t *err_json(int code, const char *msg)
{
	return json_pack("{s:s, s:i}", "error", msg, "code", code);
}

static json_t *status_json(struct pw_daemon *d)
{
	struct pw_rl_talker top[10];
	struct pw_dos_stats st;
	struct pw_dos_cfg cfg;
	__u64 conn_limit = 0, pkts;
	char a[64];
	json_t *t;
	__u32 ep;
	int n, i;

	if (pw_dos_cfg_read(d->dos, &cfg) || pw_dos_stats_read(d->dos, &st))
		return err_json(PW_API_E_IO, "dos: cannot read the maps");
	n = pw_dos_top_talkers(d->dos, top, 10);
	t = json_array();
	for (i = 0; i < n; i++) {
		if (!inet_ntop(top[i].key.family == PW_AF_INET ? AF_INET : AF_INET6,
			       top[i].key.addr, a, sizeof(a)))
			continue;
		json_array_append_new(t, json_pack("{s:s, s:i, s:I, s:I}", "source", a, "ep_id",
						   (int)top[i].key.ep_id, "dropped",
						   (json_int_t)top[i].b.dropped, "passed",
						   (json_int_t)top[i].b.passed));
	}
	for (ep = 0; ep < PW_MAX_ENDPOINTS; ep++)
		if (!pw_dos_reason_packets(d->dos, ep, PW_REASON_DROP_CONN_LIMIT, &pkts))
			conn_limit += pkts;
	return json_pack("{s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "ok", 1,
			 "conn-limit", (json_int_t)conn_limit,
			 "enabled", !!(cfg.flags & PW_DOS_F_ENABLED), "pps",
			 (json_int_t)cfg.def.pps,
			 "bytes_per_sec", (json_int_t)cfg.def.bps, "syn_pps",
			 (json_int_t)cfg.syn_pps, "blocklisted",
			 (json_int_t)st.blocklist_drops_total, "rate-limited",
			 (json_int_t)st.ratelimit_drops_total, "auto_blocked",
			 (json_int_t)st.auto_blocked_total, "syn_cookies_sent",
			 (json_int_t)st.syn_cookies_sent_total, "syn_cookies_ok",
			 (json_int_t)st.syn_cookies_ok_total, "top_talkers", t);
}

json_t *pw_daemon_dos_api(struct pw_daemon *d, const char *cmd, json_t *req)
{
	char err[512];
	int r;

	if (strcmp(cmd, "dos-status") && strcmp(cmd, "blocklist-add") &&
	    strcmp(cmd, "blocklist-del") && strcmp(cmd, "blocklist-list") &&
	    strcmp(cmd, "ratelimit-set"))
		return NULL;
	if (!d->dos)
		return err_json(PW_API_E_TRY_AGAIN, "dos: maps not open");
	if (!strcmp(cmd, "dos-status")) {
		json_t *st = status_json(d);

		return st ?: err_json(PW_API_E_IO, "dos-status: out of memory");
	}
	if (!strcmp(cmd, "ratelimit-set")) {
		r = apply(d, json_object_get(req, "settings"), err, sizeof(err));
		return r ? err_json(r == -EINVAL ? PW_API_E_INVALID : PW_API_E_IO, err) :
			   json_pack("{s:b}", "ok", 1);
	}
	if (!strcmp(cmd, "blocklist-add")) {
		json_t *one = json_pack("{s:[O]}", "blocklist", req);

		/* Requests carry {cidr, ttl, exempt} like a config file entry. */
		r = apply(d, one, err, sizeof(err));
		json_decref(one);
		return r ? err_json(r == -EINVAL ? PW_API_E_INVALID : PW_API_E_IO, err) :
			   json_pack("{s:b}", "ok", 1);
	}
	if (!strcmp(cmd, "blocklist-del")) {
		const char *cidr = json_string_value(json_object_get(req, "cidr"));

		r = cidr ? pw_dos_block_del(d->dos, cidr) : -EINVAL;
		if (r == -EINVAL)
			return err_json(PW_API_E_INVALID, "cidr: missing or not an address or CIDR");
		if (r)
			return err_json(PW_API_E_IO, r == -ENOENT ? "no such entry" : strerror(-r));
		return json_pack("{s:b}", "ok", 1);
	}
	{
		_cleanup_free_ struct pw_bl_entry *e = NULL;
		json_t *a;
		size_t n = 0, i;

		r = pw_dos_block_list(d->dos, &e, &n);
		if (r)
			return err_json(PW_API_E_IO, strerror(-r));
		a = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:I, s:b}", "cidr",
							   e[i].cidr, "owner",
							   pw_bl_owner_name(e[i].owner), "exempt",
							   !!(e[i].flags & PW_BL_F_EXEMPT), "ttl_s",
							   (json_int_t)e[i].ttl_left_s, "expired",
							   e[i].expired));
		return json_pack("{s:b, s:o}", "ok", 1, "entries", a);
	}
}
