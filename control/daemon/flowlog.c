// SPDX-License-Identifier: GPL-2.0-only
/*
 * Verdict logs: the datapath's event records (new-flow verdicts and drops)
 * become flow records naming the pod, the 5-tuple, the verdict, the reason
 * and the NetworkPolicy rule that decided (or why nothing allowed).
 *
 * Records of one flow (endpoint, direction, reason, 5-tuple) within the dedup
 * window are merged into one with a repeat count; the window starts with the
 * flow's first event, and the record is written when it closes. Volume is
 * bounded three times: the datapath's per-CPU event rate, the dedup table's
 * size (past it, records are written at once, uncounted), and the log file's
 * rotation. Written records go to the JSON and/or text log files, to a history
 * ring (podwallctl flows, drops) and to API clients that follow the stream.
 *
 * Per-namespace settings (annotations of the Namespace object):
 *   podwall.io/log-verdicts: all | denied | none   (default: --log-verdicts)
 *   podwall.io/enforcement:  enforce | audit        (default: --enforcement)
 * become flags of each endpoint's pw_endpoints record, so that the datapath
 * writes no event nobody logs and lets audited drops pass.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <net/if.h>

#include "cleanup.h"
#include "daemon.h"
#include "log.h"

#define PENDING_MAX	8192 /* flows being deduplicated at once */
#define PENDING_BUCKETS 4096
#define HISTORY_MAX	4096 /* records kept for podwallctl flows / drops */
#define FLUSH_EVERY_MS	200

static const char *const level_names[] = {
	[PW_LOGV_ALL] = "all",
	[PW_LOGV_DENIED] = "denied",
	[PW_LOGV_NONE] = "none",
};

int pw_logv_parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++)
		if (!strcmp(s, level_names[i]))
			return (int)i;
	return -EINVAL;
}

const char *pw_logv_name(int level)
{
	return level >= 0 && level < (int)ARRAY_SIZE(level_names) ? level_names[level] : "?";
}

struct flow_key {
	__u32 ep_id;
	__u32 ifindex; /* only for endpoint 0: which uplink */
	__u8 dir, reason, family, proto;
	__be16 sport, dport;
	__u8 saddr[16], daddr[16];
};

struct pending {
	struct flow_key k;
	struct pw_event e; /* the first event */
	long long first_ms;
	uint64_t count;
	struct pending *next;
};

struct hist {
	json_t *rec;
	long long mono_ms;
};

static struct {
	struct pending *buckets[PENDING_BUCKETS];
	size_t npending;
	struct hist hist[HISTORY_MAX];
	size_t hhead, hlen; /* ring: oldest at hhead */
	int timerfd;
	struct pw_source src;
	struct logfile {
		const char *path;
		int fd;
		uint64_t size;
	} json, text;
	json_t *warned; /* namespace -> the bad annotation last complained about */
} fl = { .timerfd = -1, .json.fd = -1, .text.fd = -1 };

static uint32_t key_hash(const struct flow_key *k)
{
	const unsigned char *p = (const unsigned char *)k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* ---- per-namespace settings -> endpoint flags ---- */

static const char *ns_annotation(struct pw_daemon *d, const char *ns, const char *name)
{
	char key[512];

	if (!d->objs || !ns)
		return NULL;
	snprintf(key, sizeof(key), "Namespace//%s", ns);
	return json_string_value(json_object_get(
		json_object_get(json_object_get(json_object_get(json_object_get(d->objs, key),
								"object"),
						"metadata"),
				"annotations"),
		name));
}

/* A bad annotation is logged once per namespace and value, and the default applies. */
static void warn_once(const char *ns, const char *ann, const char *val, const char *want)
{
	char key[512];
	const char *last;

	if (!fl.warned && !(fl.warned = json_object()))
		return;
	snprintf(key, sizeof(key), "%s\n%s", ns, ann);
	last = json_string_value(json_object_get(fl.warned, key));
	if (last && !strcmp(last, val))
		return;
	pr_warn("Namespace %s: metadata.annotations[\"%s\"]: \"%s\" is not %s; using the default",
		ns, ann, val, want);
	json_object_set_new(fl.warned, key, json_string(val));
}

static int ns_log_level(struct pw_daemon *d, const char *ns)
{
	const char *v = ns_annotation(d, ns, PW_ANN_LOG_VERDICTS);
	int l;

	if (!v)
		return d->o.log_verdicts;
	l = pw_logv_parse(v);
	if (l < 0) {
		warn_once(ns, PW_ANN_LOG_VERDICTS, v, "all, denied or none");
		return d->o.log_verdicts;
	}
	return l;
}

static bool ns_audit(struct pw_daemon *d, const char *ns)
{
	const char *v = ns_annotation(d, ns, PW_ANN_ENFORCEMENT);

	if (!v)
		return d->o.audit;
	if (!strcmp(v, "audit"))
		return true;
	if (!strcmp(v, "enforce"))
		return false;
	warn_once(ns, PW_ANN_ENFORCEMENT, v, "enforce or audit");
	return d->o.audit;
}

uint32_t pw_observe_ep_flags(struct pw_daemon *d, struct pw_ep *ep)
{
	int level = ns_log_level(d, ep->ns);
	uint32_t f = 0;

	ep->log_level = (uint8_t)level;
	if (level != PW_LOGV_ALL)
		f |= PW_EP_F_QUIET_ALLOWED;
	if (level == PW_LOGV_NONE)
		f |= PW_EP_F_QUIET_DENIED;
	if (ns_audit(d, ep->ns))
		f |= PW_EP_F_AUDIT;
	return f;
}

void pw_observe_sync(struct pw_daemon *d)
{
	for (uint32_t i = 1; i < PW_MAX_ENDPOINTS; i++) {
		struct pw_ep *ep = &d->eps[i];
		struct pw_endpoint rec;
		uint32_t f;
		int err;

		if (!ep->used || !ep->ready)
			continue;
		f = pw_observe_ep_flags(d, ep);
		if (f == ep->obs_flags)
			continue;
		err = pw_dp_endpoint_get(d->dp, (__u32)ep->host_ifindex, &rec);
		if (err || rec.ep_id != ep->ep_id)
			continue;
		rec.flags = (rec.flags & ~PW_EP_F_OBSERVE_MASK) | f;
		err = pw_dp_endpoint_put(d->dp, (__u32)ep->host_ifindex, &rec);
		if (err) {
			pr_warn("endpoint %s/%s: flags: %s", ep->ns, ep->pod, strerror(-err));
			continue;
		}
		if ((f ^ ep->obs_flags) & PW_EP_F_AUDIT)
			pr_info("endpoint %s/%s: enforcement %s", ep->ns, ep->pod,
				f & PW_EP_F_AUDIT ? "audit" : "enforce");
		ep->obs_flags = f;
	}
}

/* ---- records ---- */

static const char *verdict_of(unsigned int reason)
{
	if (reason == PW_REASON_ALLOW_AUDIT)
		return "audit-denied";
	return pw_reason_is_drop(reason) ? "denied" : "allowed";
}

static void addr_str(__u8 family, const __u8 *a, char *buf, size_t len)
{
	if (!inet_ntop(family == PW_AF_INET6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

static const char *proto_str(__u8 proto, char *buf, size_t len)
{
	switch (proto) {
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 132:
		return "sctp";
	case 1:
		return "icmp";
	case 58:
		return "icmpv6";
	}
	snprintf(buf, len, "%u", proto);
	return buf;
}

static void time_str(long long wall_ms, char *buf, size_t len)
{
	time_t s = (time_t)(wall_ms / 1000);
	struct tm tm;

	char base[32];

	gmtime_r(&s, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", base, (int)(wall_ms % 1000));
}

/* The words policy explain uses for the same verdict (both call pw_policy_explain_verdict()). */
static void why_str(struct pw_daemon *d, struct pw_ep *ep, const struct pw_event *e, char *buf,
		    size_t len)
{
	const struct pw_endpoint_view *v = ep ? pw_policy_db_endpoint(d->db, ep->ns, ep->pod) :
						NULL;
	struct pw_verdict vd = { .reason = e->reason, .cookie = e->cookie };

	if (e->reason == PW_REASON_ALLOW_AUDIT)
		/* Explained as the drop it stands for. */
		vd.reason = e->dir == PW_DIR_INGRESS ? PW_REASON_DROP_POLICY_INGRESS :
						       PW_REASON_DROP_POLICY_EGRESS;
	if (vd.reason == PW_REASON_ALLOW_UNISOLATED) {
		snprintf(buf, len, "no policy selects the %s for %s",
			 e->dir == PW_DIR_INGRESS ? "destination" : "source",
			 e->dir == PW_DIR_INGRESS ? "ingress" : "egress");
		return;
	}
	if (vd.cookie || vd.reason == PW_REASON_DROP_POLICY_INGRESS ||
	    vd.reason == PW_REASON_DROP_POLICY_EGRESS || vd.reason == PW_REASON_ALLOW_HOST) {
		pw_policy_explain_verdict(d->db, v, e->dir, &vd, buf, len);
		return;
	}
	snprintf(buf, len, "%s", pw_reason_name(e->reason));
}

static json_t *record_json(struct pw_daemon *d, const struct pending *p, long long wall_ms)
{
	const struct pw_event *e = &p->e;
	struct pw_ep *ep = e->ep_id && e->ep_id < PW_MAX_ENDPOINTS && d->eps[e->ep_id].used ?
				   &d->eps[e->ep_id] :
				   NULL;
	char t[64], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], pb[8], why[700],
		ifn[IF_NAMESIZE] = "";
	const char *peer = pw_policy_db_identity_key(d->db, e->peer_identity);
	struct pw_cookie_info ci;
	json_t *r;

	time_str(wall_ms, t, sizeof(t));
	addr_str(e->family, e->saddr, src, sizeof(src));
	addr_str(e->family, e->daddr, dst, sizeof(dst));
	why_str(d, ep, e, why, sizeof(why));
	if (!ep)
		if_indextoname(e->ifindex, ifn);
	r = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:i, s:s, s:s, s:I, s:s, "
		      "s:I, s:s?}",
		      "time", t, "node", d->o.node_name, "namespace", ep ? ep->ns : "", "pod",
		      ep ? ep->pod : "", "direction",
		      e->dir == PW_DIR_INGRESS ? "ingress" : "egress", "proto",
		      proto_str(e->proto, pb, sizeof(pb)), "src", src, "sport",
		      (int)ntohs(e->sport), "dst", dst, "dport", (int)ntohs(e->dport), "verdict",
		      verdict_of(e->reason), "reason", pw_reason_name(e->reason), "count",
		      (json_int_t)p->count, "why", why, "peer_identity",
		      (json_int_t)e->peer_identity, "peer", peer);
	if (!r)
		return NULL;
	if (!ep)
		json_object_set_new(r, "interface", json_string(ifn));
	if (e->cookie && !pw_policy_db_cookie(d->db, e->cookie, &ci))
		json_object_set_new(r, "policy",
				    json_pack("{s:s, s:s, s:s, s:i}", "namespace", ci.ns, "name",
					      ci.name, "direction",
					      ci.dir == PW_DIR_INGRESS ? "ingress" : "egress",
					      "rule", (int)ci.rule));
	else
		json_object_set_new(r, "policy", json_null());
	return r;
}

/* One line of text: time node ns/pod dir proto src:sport -> dst:dport verdict reason xN why */
char *pw_flow_text(json_t *r)
{
	const char *pod = json_string_value(json_object_get(r, "pod"));
	char *s = NULL;
	int n;

	n = asprintf(&s, "%s %s %s%s%s %s %s %s:%lld -> %s:%lld %s %s x%lld %s\n",
		     json_string_value(json_object_get(r, "time")),
		     json_string_value(json_object_get(r, "node")),
		     pod && *pod ? json_string_value(json_object_get(r, "namespace")) : "-",
		     pod && *pod ? "/" : "", pod ?: "",
		     json_string_value(json_object_get(r, "direction")),
		     json_string_value(json_object_get(r, "proto")),
		     json_string_value(json_object_get(r, "src")),
		     json_integer_value(json_object_get(r, "sport")),
		     json_string_value(json_object_get(r, "dst")),
		     json_integer_value(json_object_get(r, "dport")),
		     json_string_value(json_object_get(r, "verdict")),
		     json_string_value(json_object_get(r, "reason")),
		     json_integer_value(json_object_get(r, "count")),
		     json_string_value(json_object_get(r, "why")));
	return n < 0 ? NULL : s;
}

/* ---- log files ---- */

static int logfile_open(struct logfile *lf)
{
	struct stat st;

	lf->fd = open(lf->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (lf->fd < 0)
		return pr_err_r(-errno, "flow log %s", lf->path);
	lf->size = fstat(lf->fd, &st) ? 0 : (uint64_t)st.st_size;
	return 0;
}

/* path -> path.1 -> ... -> path.<keep>; the oldest goes. */
static void logfile_rotate(struct pw_daemon *d, struct logfile *lf)
{
	char from[4096], to[4096];

	close(lf->fd);
	lf->fd = -1;
	for (unsigned int i = d->o.flow_log_keep; i > 0; i--) {
		if (i == 1)
			snprintf(from, sizeof(from), "%s", lf->path);
		else
			snprintf(from, sizeof(from), "%s.%u", lf->path, i - 1);
		snprintf(to, sizeof(to), "%s.%u", lf->path, i);
		rename(from, to);
	}
	if (!d->o.flow_log_keep)
		unlink(lf->path);
	d->flowlog_rotations++;
	logfile_open(lf);
}

static void logfile_write(struct pw_daemon *d, struct logfile *lf, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;

	if (lf->fd < 0)
		return;
	if (lf->size && lf->size + len > d->o.flow_log_max_bytes)
		logfile_rotate(d, lf);
	if (lf->fd < 0)
		return;
	/* A full disk costs records, never the loop: O_APPEND writes of one line. */
	n = write(lf->fd, s, len);
	if (n < 0) {
		d->flowlog_write_errors++;
		return;
	}
	lf->size += (uint64_t)n;
	d->flowlog_bytes += (uint64_t)n;
}

/* ---- emitting ---- */

static void hist_push(json_t *r)
{
	struct hist *h;

	if (fl.hlen == HISTORY_MAX) {
		h = &fl.hist[fl.hhead];
		json_decref(h->rec);
		fl.hhead = (fl.hhead + 1) % HISTORY_MAX;
		fl.hlen--;
	}
	h = &fl.hist[(fl.hhead + fl.hlen) % HISTORY_MAX];
	h->rec = json_incref(r);
	h->mono_ms = pw_now_ms();
	fl.hlen++;
}

static void emit(struct pw_daemon *d, const struct pending *p)
{
	struct timespec rt, mt;
	long long wall_ms;
	json_t *r;

	/* Event times are CLOCK_MONOTONIC(_COARSE): shift them onto the wall clock. */
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mt);
	wall_ms = ((long long)rt.tv_sec - mt.tv_sec) * 1000 + (rt.tv_nsec - mt.tv_nsec) / 1000000 +
		  (long long)(p->e.ts_ns / 1000000);
	r = record_json(d, p, wall_ms);
	if (!r)
		return;
	d->flowlog_records++;
	if (fl.json.fd >= 0) {
		_cleanup_free_ char *s = json_dumps(r, JSON_COMPACT);
		_cleanup_free_ char *line = NULL;

		if (s && asprintf(&line, "%s\n", s) >= 0)
			logfile_write(d, &fl.json, line);
	}
	if (fl.text.fd >= 0) {
		_cleanup_free_ char *line = pw_flow_text(r);

		if (line)
			logfile_write(d, &fl.text, line);
	}
	hist_push(r);
	pw_api_publish(d, r);
	json_decref(r);
}

static bool level_logs(int level, unsigned int reason)
{
	if (level == PW_LOGV_NONE)
		return false;
	if (level == PW_LOGV_DENIED)
		return pw_reason_is_drop(reason) || reason == PW_REASON_ALLOW_AUDIT;
	return true;
}

void pw_flowlog_event(struct pw_daemon *d, const struct pw_event *e)
{
	struct flow_key k = {
		.ep_id = e->ep_id, .dir = e->dir, .reason = e->reason, .family = e->family,
		.proto = e->proto, .sport = e->sport, .dport = e->dport,
	};
	struct pending *p;
	uint32_t b;
	int level = d->o.log_verdicts;

	if (e->ep_id && e->ep_id < PW_MAX_ENDPOINTS && d->eps[e->ep_id].used)
		level = d->eps[e->ep_id].log_level;
	/* The datapath filters too; this catches events from before a flag change. */
	if (!level_logs(level, e->reason))
		return;
	if (!e->ep_id)
		k.ifindex = e->ifindex;
	memcpy(k.saddr, e->saddr, 16);
	memcpy(k.daddr, e->daddr, 16);
	b = key_hash(&k) % PENDING_BUCKETS;
	for (p = fl.buckets[b]; p; p = p->next) {
		if (!memcmp(&p->k, &k, sizeof(k))) {
			p->count++;
			d->flowlog_merged++;
			return;
		}
	}
	if (fl.npending >= PENDING_MAX || !(p = calloc(1, sizeof(*p)))) {
		/* Table full (a flood of distinct flows): written at once, unmerged. */
		struct pending once = { .k = k, .e = *e, .count = 1 };

		d->flowlog_overflow++;
		emit(d, &once);
		return;
	}
	p->k = k;
	p->e = *e;
	p->count = 1;
	p->first_ms = pw_now_ms();
	p->next = fl.buckets[b];
	fl.buckets[b] = p;
	fl.npending++;
}

/* Writes the records whose window closed (all of them with all = true). */
static void flush(struct pw_daemon *d, bool all)
{
	long long now = pw_now_ms();

	for (size_t b = 0; b < PENDING_BUCKETS && fl.npending; b++) {
		struct pending **pp = &fl.buckets[b], *p;

		while ((p = *pp)) {
			if (!all && now - p->first_ms < (long long)d->o.flow_log_window_ms) {
				pp = &p->next;
				continue;
			}
			*pp = p->next;
			fl.npending--;
			emit(d, p);
			free(p);
		}
	}
}

static void on_flush_timer(struct pw_daemon *d, struct pw_source *s, uint32_t events)
{
	uint64_t n;

	(void)s;
	(void)events;
	if (read(fl.timerfd, &n, sizeof(n)) > 0)
		flush(d, false);
}

int pw_flowlog_start(struct pw_daemon *d)
{
	struct itimerspec its = {
		.it_interval.tv_nsec = FLUSH_EVERY_MS * 1000000L,
		.it_value.tv_nsec = FLUSH_EVERY_MS * 1000000L,
	};
	int err;

	fl.json.path = d->o.flow_log;
	fl.text.path = d->o.flow_log_text;
	if (fl.json.path && (err = logfile_open(&fl.json)))
		return err;
	if (fl.text.path && (err = logfile_open(&fl.text)))
		return err;
	fl.timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fl.timerfd < 0 || timerfd_settime(fl.timerfd, 0, &its, NULL) < 0)
		return pr_err_r(-errno, "flow log timerfd");
	fl.src.fn = on_flush_timer;
	return pw_loop_add(d, fl.timerfd, EPOLLIN, &fl.src);
}

void pw_flowlog_stop(struct pw_daemon *d)
{
	/* What was being merged is still worth writing. */
	if (fl.timerfd >= 0)
		flush(d, true);
	for (; fl.hlen; fl.hlen--) {
		json_decref(fl.hist[fl.hhead].rec);
		fl.hhead = (fl.hhead + 1) % HISTORY_MAX;
	}
	if (fl.json.fd >= 0)
		close(fl.json.fd);
	if (fl.text.fd >= 0)
		close(fl.text.fd);
	if (fl.timerfd >= 0)
		close(fl.timerfd);
	fl.json.fd = fl.text.fd = fl.timerfd = -1;
	json_decref(fl.warned);
	fl.warned = NULL;
}

/* ---- queries ---- */

bool pw_flow_filter_match(const struct pw_flow_filter *f, json_t *r)
{
	const char *v;

	if (f->ns && strcmp(f->ns, json_string_value(json_object_get(r, "namespace")) ?: ""))
		return false;
	if (f->pod && strcmp(f->pod, json_string_value(json_object_get(r, "pod")) ?: ""))
		return false;
	v = json_string_value(json_object_get(r, "verdict")) ?: "";
	if (f->verdict && strcmp(f->verdict, v))
		return false;
	return true;
}

/* Filter fields of a request; "verdict" must be one of the three names. */
int pw_flow_filter_parse(struct pw_flow_filter *f, json_t *req, char *err, size_t len)
{
	static const char *const verdicts[] = { "allowed", "denied", "audit-denied" };
	json_t *v;

	memset(f, 0, sizeof(*f));
	f->ns = json_string_value(json_object_get(req, "namespace"));
	f->pod = json_string_value(json_object_get(req, "pod"));
	v = json_object_get(req, "verdict");
	if (v) {
		f->verdict = json_string_value(v);
		for (size_t i = 0; f->verdict && i < ARRAY_SIZE(verdicts); i++)
			if (!strcmp(f->verdict, verdicts[i]))
				return 0;
		snprintf(err, len, "flows: verdict: must be allowed, denied or audit-denied");
		return -EINVAL;
	}
	return 0;
}

json_t *pw_flowlog_recent(struct pw_daemon *d, const struct pw_flow_filter *f, size_t limit)
{
	json_t *arr = json_array();
	size_t n = 0;

	(void)d;
	/* The newest `limit` matching records, oldest first. */
	for (size_t i = fl.hlen; i > 0 && n < limit; i--) {
		json_t *r = fl.hist[(fl.hhead + i - 1) % HISTORY_MAX].rec;

		if (!pw_flow_filter_match(f, r))
			continue;
		json_array_insert(arr, 0, r);
		n++;
	}
	return arr;
}

static void tally(json_t *obj, const char *key, json_int_t n)
{
	json_t *v = json_object_get(obj, key);

	json_object_set_new(obj, key, json_integer(json_integer_value(v) + n));
}

/* An object {key: n} as [{"name": key, "count": n}] sorted by count, at most top. */
static json_t *top_list(json_t *obj, size_t top)
{
	json_t *arr = json_array(), *v;
	const char *k;

	json_object_foreach (obj, k, v) {
		json_int_t n = json_integer_value(v);
		size_t i = 0;

		while (i < json_array_size(arr) &&
		       json_integer_value(json_object_get(json_array_get(arr, i), "count")) >= n)
			i++;
		json_array_insert_new(arr, i, json_pack("{s:s, s:I}", "name", k, "count", n));
	}
	while (json_array_size(arr) > top)
		json_array_remove(arr, json_array_size(arr) - 1);
	return arr;
}

json_t *pw_flowlog_drops(struct pw_daemon *d, unsigned int window_s, size_t top)
{
	long long since = pw_now_ms() - (long long)window_s * 1000;
	json_t *reasons = json_object(), *pods = json_object(), *pols = json_object(), *res;
	json_int_t total = 0, records = 0;

	for (size_t i = 0; i < fl.hlen; i++) {
		struct hist *h = &fl.hist[(fl.hhead + i) % HISTORY_MAX];
		json_t *r = h->rec, *pol = json_object_get(r, "policy");
		const char *ns = json_string_value(json_object_get(r, "namespace"));
		const char *pod = json_string_value(json_object_get(r, "pod"));
		json_int_t n = json_integer_value(json_object_get(r, "count"));
		char key[600];

		if (h->mono_ms < since ||
		    strcmp(json_string_value(json_object_get(r, "verdict")) ?: "", "denied"))
			continue;
		records++;
		total += n;
		tally(reasons, json_string_value(json_object_get(r, "reason")) ?: "?", n);
		snprintf(key, sizeof(key), "%s/%s", ns && *ns ? ns : "-", pod && *pod ? pod : "-");
		tally(pods, key, n);
		if (json_is_object(pol))
			snprintf(key, sizeof(key), "%s/%s %s rule %lld",
				 json_string_value(json_object_get(pol, "namespace")),
				 json_string_value(json_object_get(pol, "name")),
				 json_string_value(json_object_get(pol, "direction")),
				 json_integer_value(json_object_get(pol, "rule")));
		else
			snprintf(key, sizeof(key), "%s",
				 json_string_value(json_object_get(r, "why")) ?: "?");
		tally(pols, key, n);
	}
	res = json_pack("{s:b, s:i, s:I, s:I, s:o, s:o, s:o}", "ok", 1, "window", (int)window_s,
			"records", records, "packets", total, "reasons", top_list(reasons, top),
			"pods", top_list(pods, top), "policies", top_list(pols, top));
	json_decref(reasons);
	json_decref(pods);
	json_decref(pols);
	(void)d;
	return res;
}

void pw_flowlog_metrics(struct pw_daemon *d, FILE *f)
{
	pw_metric_u64(f, "podwall_flow_log_records_total", "counter",
		      "Verdict records written (after deduplication).", d->flowlog_records);
	pw_metric_u64(f, "podwall_flow_log_merged_total", "counter",
		      "Events merged into a record of the same flow within the window.",
		      d->flowlog_merged);
	pw_metric_u64(f, "podwall_flow_log_overflow_total", "counter",
		      "Records written unmerged: the deduplication table was full.",
		      d->flowlog_overflow);
	pw_metric_u64(f, "podwall_flow_log_bytes_total", "counter",
		      "Bytes written to the flow log files.", d->flowlog_bytes);
	pw_metric_u64(f, "podwall_flow_log_rotations_total", "counter",
		      "Flow log file rotations.", d->flowlog_rotations);
	pw_metric_u64(f, "podwall_flow_log_write_errors_total", "counter",
		      "Records a flow log file did not take (disk full, I/O error).",
		      d->flowlog_write_errors);
	pw_metric_u64(f, "podwall_flow_stream_dropped_total", "counter",
		      "Records not sent to a following client that did not keep up.",
		      d->stream_dropped);
}
