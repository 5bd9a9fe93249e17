// SPDX-License-Identifier: GPL-2.0-only
/*
 * The live IPS in podwalld: one worker thread consumes the datapath's flow
 * samples (pw_samples), runs them through the same inspector and signature
 * engine as `podwallctl inspect`, writes alerts to eve.json with a "podwall"
 * object (pod, direction, capture file), turns drop/reject verdicts into
 * datapath blocks (the flow, or the source with a TTL), and writes dropped
 * packets and the packets of alerting flows to per-pod pcap files.
 *
 * The ring buffer is the bounded queue between the datapath and the worker:
 * when the worker falls behind, the datapath counts the samples it could
 * not queue (pw_stats.samples_lost_total) and never waits. The worker owns
 * its inspector (and so its nDPI module), its capture files and the eve
 * stream; the event loop only hands it a snapshot of the endpoints (names
 * and addresses) once a second, under a mutex, and reads its counters.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <jansson.h>

#include "capture.h"
#include "cleanup.h"
#include "daemon.h"
#include "dos.h"
#include "inspect.h"
#include "ips.h"
#include "log.h"
#include "podwall/verdict.h"
#include "sig.h"

/* pcap's DLT_EN10MB: <pcap/pcap.h> clashes with libbpf's struct bpf_insn. */
#define DLT_EN10MB 1

/* Recent flow samples kept for the capture of a flow that alerts. */
#define RECENT 512

struct ips_ep {
	bool used;
	char ns[64], pod[254];
	int naddr;
	uint8_t family[PW_DAEMON_MAX_IPS]; /* AF_INET/AF_INET6 */
	uint8_t addr[PW_DAEMON_MAX_IPS][16];
};

struct recent {
	bool used, written;
	uint64_t ts_usec;
	struct pw_sample s;
};

struct pw_ips {
	struct pw_ips_opts o;
	struct pw_sig_set *set;
	struct pw_inspector *insp;
	struct pw_inspect_stats ist; /* the worker's; read racily for status (counters) */
	struct pw_ips_maps *maps;
	struct pw_dos *dos;
	struct ring_buffer *rb;
	struct pw_capture *cap;
	FILE *eve;
	pthread_t thr;
	bool running;
	int stopfd, epfd;

	pthread_mutex_t lock; /* eps_next and eps_gen, written by the event loop */
	struct ips_ep eps_next[PW_MAX_ENDPOINTS];
	uint64_t eps_gen, eps_seen;
	struct ips_ep eps[PW_MAX_ENDPOINTS]; /* the worker's copy */

	const struct pw_sample *cur; /* the sample being inspected */
	uint64_t cur_ts;
	struct recent *recent;
	size_t recent_pos;
	int64_t mono_to_real_ns;
	uint64_t last_expire_usec;

	_Atomic uint64_t samples, flow_samples, drop_samples, bad_samples, alerts, blocks,
		block_errors, captured, capture_errors, released;
};

/* ---- helpers ---- */

static int64_t clock_offset_ns(void)
{
	struct timespec r, m;

	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return ((int64_t)r.tv_sec - m.tv_sec) * 1000000000LL + (r.tv_nsec - m.tv_nsec);
}

static uint64_t now_usec(void)
{
	struct timespec r;

	clock_gettime(CLOCK_REALTIME, &r);
	return (uint64_t)r.tv_sec * 1000000 + r.tv_nsec / 1000;
}

static int af_of(uint8_t pw_family)
{
	return pw_family == PW_AF_INET6 ? AF_INET6 : AF_INET;
}

/* The endpoint owning address a (family AF_*), or 0. */
static uint32_t ep_by_addr(struct pw_ips *x, int family, const uint8_t *a)
{
	size_t al = family == AF_INET ? 4 : 16;

	for (uint32_t i = 1; i < PW_MAX_ENDPOINTS; i++) {
		const struct ips_ep *e = &x->eps[i];

		if (!e->used)
			continue;
		for (int j = 0; j < e->naddr; j++)
			if (e->family[j] == family && !memcmp(e->addr[j], a, al))
				return i;
	}
	return 0;
}

/* The capture key of an endpoint: "<namespace>_<pod>", or "node". */
static void cap_name(struct pw_ips *x, uint32_t ep, char *out, size_t n)
{
	if (ep && ep < PW_MAX_ENDPOINTS && x->eps[ep].used)
		snprintf(out, n, "%s_%s", x->eps[ep].ns, x->eps[ep].pod);
	else
		snprintf(out, n, "node");
}

/* The sample's endpoint, or the local pod among its addresses (uplink drops carry none). */
static uint32_t sample_ep(struct pw_ips *x, const struct pw_sample_hdr *h)
{
	uint32_t ep;

	if (h->ep_id && h->ep_id < PW_MAX_ENDPOINTS)
		return h->ep_id;
	ep = ep_by_addr(x, af_of(h->family), h->daddr);
	return ep ?: ep_by_addr(x, af_of(h->family), h->saddr);
}

static int capture_one(struct pw_ips *x, uint32_t ep, uint64_t ts, const struct pw_sample *s,
		       const char **file)
{
	char name[330];
	int err;

	if (!x->cap)
		return -ENOENT;
	cap_name(x, ep, name, sizeof(name));
	err = pw_capture_write(x->cap, name, ts, s->data, s->h.cap_len, s->h.wire_len, file);
	if (err)
		x->capture_errors++;
	else
		x->captured++;
	return err;
}

static bool sample_in_flow(const struct pw_sample_hdr *h, const struct pw_inspect_alert *a)
{
	size_t al = a->family == AF_INET ? 4 : 16;
	uint16_t sp = ntohs(h->sport), dp = ntohs(h->dport);

	if (af_of(h->family) != a->family || h->proto != a->proto)
		return false;
	return (!memcmp(h->saddr, a->src, al) && !memcmp(h->daddr, a->dst, al) &&
		sp == a->sport && dp == a->dport) ||
	       (!memcmp(h->saddr, a->dst, al) && !memcmp(h->daddr, a->src, al) &&
		sp == a->dport && dp == a->sport);
}

/* Writes the alerting flow's recent packets, oldest first, that no earlier alert wrote. */
static const char *capture_flow(struct pw_ips *x, uint32_t ep, const struct pw_inspect_alert *a)
{
	const char *file = NULL;
	char name[330];

	if (!x->cap || !(x->o.capture & PW_IPS_CAP_ALERTS))
		return NULL;
	for (size_t i = 0; i < RECENT; i++) {
		struct recent *r = &x->recent[(x->recent_pos + i) % RECENT];

		if (!r->used || r->written || !sample_in_flow(&r->s.h, a))
			continue;
		if (!capture_one(x, ep, r->ts_usec, &r->s, &file))
			r->written = true;
	}
	if (file)
		return file;
	cap_name(x, ep, name, sizeof(name));
	return pw_capture_current(x->cap, name);
}

/* ---- the inspector's hooks ---- */

static const char *block_flow(struct pw_ips *x, const struct pw_inspect_alert *a)
{
	struct pw_ips_key k = { .family = a->family == AF_INET6 ? PW_AF_INET6 : PW_AF_INET,
				.proto = a->proto,
				.sport = htons(a->sport),
				.dport = htons(a->dport) };
	char addr[INET6_ADDRSTRLEN];
	int err;

	if (x->o.block_src) {
		inet_ntop(a->family, a->src, addr, sizeof(addr));
		err = pw_dos_block_add(x->dos, addr, PW_BL_OWNER_IPS, 0, x->o.block_ttl_s);
		if (err) {
			x->block_errors++;
			pr_err("ips: block source %s (sid %u): %s", addr, a->hit->sid, strerror(-err));
			return NULL;
		}
		x->blocks++;
		pr_info("ips: source %s blocked for %us (sid %u)", addr, x->o.block_ttl_s,
			a->hit->sid);
		return "source";
	}
	memcpy(k.saddr, a->src, a->family == AF_INET ? 4 : 16);
	memcpy(k.daddr, a->dst, a->family == AF_INET ? 4 : 16);
	err = pw_ips_flow_block(x->maps, &k, a->hit->sid, a->hit->gid, x->o.block_ttl_s);
	if (err) {
		x->block_errors++;
		pr_err("ips: block flow (sid %u): %s", a->hit->sid, strerror(-err));
		return NULL;
	}
	x->blocks++;
	inet_ntop(a->family, a->src, addr, sizeof(addr));
	pr_info("ips: flow %s:%u -> :%u blocked (sid %u)", addr, a->sport, a->dport, a->hit->sid);
	return "flow";
}

static void on_alert(const struct pw_inspect_alert *a, json_t *rec, void *ud)
{
	struct pw_ips *x = ud;
	uint32_t ep = ep_by_addr(x, a->family, a->src);
	const char *dir = "egress", *blocked = NULL, *file;
	json_t *pw;

	/* The pod's side: the source of the unit that matched, else its destination. */
	if (!ep) {
		ep = ep_by_addr(x, a->family, a->dst);
		dir = "ingress";
	}
	if (!ep && x->cur)
		ep = sample_ep(x, &x->cur->h);
	if (a->blocking && !a->stateless)
		blocked = block_flow(x, a);
	if (!rec)
		return;
	x->alerts++;
	file = capture_flow(x, ep, a);
	pw = json_object();
	if (ep && x->eps[ep].used) {
		json_object_set_new(pw, "namespace", json_string(x->eps[ep].ns));
		json_object_set_new(pw, "pod", json_string(x->eps[ep].pod));
	}
	json_object_set_new(pw, "direction", json_string(dir));
	if (file)
		json_object_set_new(pw, "pcap", json_string(file));
	if (blocked)
		json_object_set_new(pw, "blocked", json_string(blocked));
	json_object_set_new(rec, "podwall", pw);
}

/* The flow is over for the inspector: stop sampling it (both pods' entries, if local). */
static void on_flow_end(const struct pw_inspect_flow_info *fi, void *ud)
{
	struct pw_ips *x = ud;
	int family = fi->family == AF_INET6 ? AF_INET6 : AF_INET;
	size_t al = family == AF_INET ? 4 : 16;

	for (int side = 0; side < 2; side++) {
		const uint8_t *pod = side ? fi->server : fi->client;
		const uint8_t *peer = side ? fi->client : fi->server;
		uint32_t ep = ep_by_addr(x, family, pod);
		struct pw_ct_key k = { .ep_id = ep,
				       .family = family == AF_INET6 ? PW_AF_INET6 : PW_AF_INET,
				       .proto = fi->proto,
				       .pod_port = htons(side ? fi->sport : fi->cport),
				       .peer_port = htons(side ? fi->cport : fi->sport) };

		if (!ep)
			continue;
		memcpy(k.pod_addr, pod, al);
		memcpy(k.peer_addr, peer, al);
		if (!pw_ips_flow_release(x->maps, &k))
			x->released++;
	}
}

/* ---- the worker ---- */

static int on_sample(void *ctx, void *data, size_t len)
{
	struct pw_ips *x = ctx;
	const struct pw_sample *s = data;
	struct recent *r;
	uint64_t ts;

	x->samples++;
	if (len < sizeof(*s) || s->h.cap_len > PW_SAMPLE_SNAP) {
		x->bad_samples++;
		return 0;
	}
	ts = (uint64_t)(((int64_t)s->h.ts_ns + x->mono_to_real_ns) / 1000);
	if (s->h.kind == PW_SAMPLE_K_DROP) {
		/* The datapath samples only the drop kinds selected for capture. */
		x->drop_samples++;
		capture_one(x, sample_ep(x, &s->h), ts, s, NULL);
		return 0;
	}
	x->flow_samples++;
	/*
	 * Between two local pods, both ends sample the flow: the sender's egress
	 * copy is the one inspected, the receiver's is the same packet again.
	 */
	if (s->h.dir == PW_DIR_INGRESS && ep_by_addr(x, af_of(s->h.family), s->h.saddr))
		return 0;
	r = &x->recent[x->recent_pos];
	x->recent_pos = (x->recent_pos + 1) % RECENT;
	r->used = true;
	r->written = false;
	r->ts_usec = ts;
	memcpy(&r->s.h, &s->h, sizeof(s->h));
	memcpy(r->s.data, s->data, s->h.cap_len);
	if (!x->insp)
		return 0;
	x->cur = s;
	pw_inspector_packet(x->insp, DLT_EN10MB, s->data, s->h.cap_len, ts);
	x->cur = NULL;
	return 0;
}

static void refresh_eps(struct pw_ips *x)
{
	pthread_mutex_lock(&x->lock);
	if (x->eps_gen != x->eps_seen) {
		memcpy(x->eps, x->eps_next, sizeof(x->eps));
		x->eps_seen = x->eps_gen;
	}
	pthread_mutex_unlock(&x->lock);
}

static void *worker(void *arg)
{
	struct pw_ips *x = arg;
	struct epoll_event ev[2];

	for (;;) {
		int n = epoll_wait(x->epfd, ev, 2, 500);
		uint64_t now;
		bool stop = false;

		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++)
			if (ev[i].data.fd == x->stopfd)
				stop = true;
		refresh_eps(x);
		ring_buffer__consume(x->rb);
		if (stop)
			break;
		now = now_usec();
		if (now - x->last_expire_usec >= 1000000) {
			x->last_expire_usec = now;
			x->mono_to_real_ns = clock_offset_ns();
			if (x->insp)
				pw_inspector_expire(x->insp, now,
						    (uint64_t)x->o.flow_idle_s * 1000000);
		}
		if (x->eve)
			fflush(x->eve);
	}
	return NULL;
}

/* /metrics: the inspector's and the capture's counters, and the datapath's sample counters. */
static void write_metrics(struct pw_daemon *d, FILE *f, void *ctx)
{
	struct pw_ips *x = d->ips;
	struct pw_stats st = {};

	(void)ctx;
	if (!x)
		return;
	pw_dp_stats_read(d->dp, &st);
	pw_metric_u64(f, "podwall_ips_samples_sent_total", "counter",
		      "Packets the datapath copied to the inspector (pw_samples).",
		      st.samples_sent_total);
	pw_metric_u64(f, "podwall_ips_samples_suppressed_total", "counter",
		      "Samples not taken: over the per-CPU sample rate.",
		      st.samples_suppressed_total);
	pw_metric_u64(f, "podwall_ips_samples_lost_total", "counter",
		      "Samples lost: the ring buffer was full (the inspector fell behind).",
		      st.samples_lost_total);
	pw_metric_u64(f, "podwall_ips_samples_read_total", "counter",
		      "Samples the inspector read.", x->samples);
	pw_metric_u64(f, "podwall_ips_alerts_total", "counter", "Alerts written to eve.json.",
		      x->alerts);
	pw_metric_u64(f, "podwall_ips_blocks_total", "counter",
		      "Flows or sources the IPS blocked in the datapath.", x->blocks);
	pw_metric_u64(f, "podwall_ips_block_errors_total", "counter",
		      "Blocks the datapath maps refused (full).", x->block_errors);
	pw_metric_u64(f, "podwall_ips_flows", "gauge", "Flows in the inspector's table.",
		      x->insp ? pw_inspector_flow_count(x->insp) : 0);
	pw_metric_u64(f, "podwall_capture_packets_total", "counter",
		      "Packets written to capture files.", x->captured);
	pw_metric_u64(f, "podwall_capture_errors_total", "counter",
		      "Packets that could not be written to a capture file.", x->capture_errors);
}

/* ---- setup, called from the event loop ---- */

static int load_rules(struct pw_ips *x)
{
	size_t loaded = 0;
	char err[600];
	int r;

	r = pw_sig_set_new(&x->set);
	if (r)
		return r;
	if (x->o.home_net && (r = pw_sig_set_var(x->set, "HOME_NET", x->o.home_net)))
		return pr_err_r(r, "--home-net %s", x->o.home_net);
	if (x->o.classification && (r = pw_sig_load_classification(x->set, x->o.classification)))
		return pr_err_r(r, "--classification %s", x->o.classification);
	for (int i = 0; i < x->o.nrules; i++) {
		r = pw_sig_load_file(x->set, x->o.rules[i]);
		if (r < 0)
			return pr_err_r(r, "--rules %s", x->o.rules[i]);
		loaded += r;
	}
	if (pw_sig_reject_count(x->set))
		pr_warn("ips: %zu rule(s) rejected (podwallctl rules check FILE lists why)",
			pw_sig_reject_count(x->set));
	if (x->o.drop_policy) {
		r = pw_sig_drop_policy_load(x->set, x->o.drop_policy, err, sizeof(err));
		if (r < 0) {
			pr_err("--drop-policy: %s", err);
			return r;
		}
		pr_info("ips: drop policy %s turned %d alert rule(s) into drop", x->o.drop_policy,
			r);
	}
	r = pw_sig_compile(x->set);
	if (r)
		return pr_err_r(r, "compile the rules");
	pr_info("ips: %zu rule(s) loaded, %s mode", loaded, x->o.ips_mode ? "IPS" : "IDS");
	return 0;
}

static void sample_cfg(const struct pw_ips_opts *o, bool inspect, struct pw_sample_cfg *c)
{
	memset(c, 0, sizeof(*c));
	if (inspect) {
		c->pkts[PW_DIR_INGRESS] = c->pkts[PW_DIR_EGRESS] = o->sample_pkts;
		c->bytes[PW_DIR_INGRESS] = c->bytes[PW_DIR_EGRESS] = o->sample_bytes;
		c->flow_byte_cap = o->sample_flow_cap;
		if (o->sample_hold)
			c->flags |= PW_SAMPLE_F_HOLD;
	}
	if (o->capture & PW_IPS_CAP_POLICY)
		c->flags |= PW_SAMPLE_F_DROP_POLICY;
	if (o->capture & PW_IPS_CAP_IPS)
		c->flags |= PW_SAMPLE_F_DROP_IPS;
	if (o->capture & PW_IPS_CAP_DOS)
		c->flags |= PW_SAMPLE_F_DROP_DOS;
	if (o->capture & PW_IPS_CAP_OTHER)
		c->flags |= PW_SAMPLE_F_DROP_OTHER;
	c->per_sec = o->sample_rate;
}

static void ips_free(struct pw_ips *x)
{
	if (!x)
		return;
	ring_buffer__free(x->rb);
	pw_inspector_free(&x->insp);
	pw_sig_set_free(&x->set);
	pw_capture_free(&x->cap);
	if (x->eve)
		fclose(x->eve);
	pw_ips_maps_free(&x->maps);
	pw_dos_free(&x->dos);
	if (x->stopfd >= 0)
		close(x->stopfd);
	if (x->epfd >= 0)
		close(x->epfd);
	pthread_mutex_destroy(&x->lock);
	free(x->recent);
	free(x);
}

int pw_daemon_ips_start(struct pw_daemon *d)
{
	const struct pw_ips_opts *o = &d->o.ips;
	struct pw_inspect_opts io = { .ndpi = true, .simulate_ips = o->ips_mode, .midstream = true };
	struct pw_capture_opts co = { .dir = o->capture_dir,
				      .file_bytes = o->capture_file_bytes,
				      .files_per_pod = o->capture_files,
				      .total_bytes = o->capture_total };
	struct pw_sample_cfg cfg;
	struct epoll_event ev = { .events = EPOLLIN };
	struct pw_ips *x;
	int err;

	if (!o->nrules && !o->capture) {
		struct pw_ips_maps *m = NULL;
		struct pw_sample_cfg off = {};

		/* A previous run's settings stay pinned: nobody reads samples now. */
		if (!pw_ips_maps_open(&m, d->o.pin_root))
			pw_ips_sample_cfg_write(m, &off);
		pw_ips_maps_free(&m);
		return 0;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->o = *o;
	x->stopfd = x->epfd = -1;
	pthread_mutex_init(&x->lock, NULL);
	x->mono_to_real_ns = clock_offset_ns();
	x->recent = calloc(RECENT, sizeof(*x->recent));
	if (!x->recent) {
		err = -ENOMEM;
		goto fail;
	}
	err = pw_ips_maps_open(&x->maps, d->o.pin_root) ?: pw_dos_open(&x->dos, d->o.pin_root);
	if (err)
		goto fail;
	if (o->capture && (err = pw_capture_new(&x->cap, &co)))
		goto fail;
	if (o->nrules) {
		err = load_rules(x);
		if (err)
			goto fail;
		if (o->eve) {
			x->eve = fopen(o->eve, "a");
			if (!x->eve) {
				err = pr_err_r(-errno, "--eve %s", o->eve);
				goto fail;
			}
			chmod(o->eve, 0600);
		}
		io.eve_file = x->eve;
		io.on_alert = on_alert;
		io.on_flow_end = on_flow_end;
		io.ud = x;
		io.max_flows = o->max_flows;
		err = pw_inspector_new(&x->insp, x->set, &io, &x->ist);
		if (err)
			goto fail;
	}
	x->rb = ring_buffer__new(pw_ips_samples_fd(x->maps), on_sample, x, NULL);
	if (!x->rb) {
		err = pr_err_r(-errno, "open the sample ring buffer");
		goto fail;
	}
	x->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	x->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (x->stopfd < 0 || x->epfd < 0) {
		err = -errno;
		goto fail;
	}
	ev.data.fd = x->stopfd;
	epoll_ctl(x->epfd, EPOLL_CTL_ADD, x->stopfd, &ev);
	ev.data.fd = ring_buffer__epoll_fd(x->rb);
	epoll_ctl(x->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	d->ips = x;
	pw_daemon_ips_tick(d); /* the endpoints, before the first sample */
	{
		static bool registered;

		if (!registered && !pw_metrics_register(write_metrics, NULL))
			registered = true;
	}
	err = pthread_create(&x->thr, NULL, worker, x);
	if (err) {
		d->ips = NULL;
		err = -err;
		goto fail;
	}
	x->running = true;
	sample_cfg(o, o->nrules > 0, &cfg);
	err = pw_ips_sample_cfg_write(x->maps, &cfg);
	if (err) {
		pw_daemon_ips_stop(d);
		return pr_err_r(err, "write the sampling settings");
	}
	pr_info("ips: sampling %u packets/%u bytes per direction, %s; capture %s", cfg.pkts[0],
		cfg.bytes[0], o->sample_hold ? "held until inspected" : "not held",
		x->cap ? o->capture_dir : "off");
	return 0;
fail:
	ips_free(x);
	return err;
}

void pw_daemon_ips_stop(struct pw_daemon *d)
{
	struct pw_ips *x = d->ips;
	struct pw_sample_cfg off = {};
	uint64_t one = 1;

	if (!x)
		return;
	/* Nobody reads samples any more: the datapath stops copying them. */
	pw_ips_sample_cfg_write(x->maps, &off);
	if (x->running) {
		if (write(x->stopfd, &one, sizeof(one)) < 0)
			pr_warn("ips: wake the worker: %s", strerror(errno));
		pthread_join(x->thr, NULL);
	}
	ips_free(x);
	d->ips = NULL;
}

void pw_daemon_ips_tick(struct pw_daemon *d)
{
	struct pw_ips *x = d->ips;
	static unsigned int ticks;

	if (!x)
		return;
	pthread_mutex_lock(&x->lock);
	memset(x->eps_next, 0, sizeof(x->eps_next));
	for (uint32_t i = 1; i < PW_MAX_ENDPOINTS; i++) {
		const struct pw_ep *ep = &d->eps[i];
		struct ips_ep *e = &x->eps_next[i];

		if (!ep->used)
			continue;
		e->used = true;
		snprintf(e->ns, sizeof(e->ns), "%s", ep->ns ?: "");
		snprintf(e->pod, sizeof(e->pod), "%s", ep->pod ?: "");
		for (int j = 0; j < ep->nips && e->naddr < PW_DAEMON_MAX_IPS; j++) {
			int fam = strchr(ep->ips[j], ':') ? AF_INET6 : AF_INET;

			if (inet_pton(fam, ep->ips[j], e->addr[e->naddr]) == 1)
				e->family[e->naddr++] = fam;
		}
	}
	x->eps_gen++;
	pthread_mutex_unlock(&x->lock);
	if (++ticks % 10 == 0 && x->maps)
		pw_ips_flow_sweep(x->maps);
}

json_t *pw_daemon_ips_status(struct pw_daemon *d)
{
	struct pw_ips *x = d->ips;
	struct pw_stats st = {};

	if (!x)
		return json_pack("{s:b}", "enabled", 0);
	pw_dp_stats_read(d->dp, &st);
	return json_pack("{s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
			 "s:I, s:I}",
			 "enabled", 1, "mode", x->o.ips_mode ? "ips" : "ids", "rules",
			 (json_int_t)(x->set ? pw_sig_rule_count(x->set) : 0), "samples",
			 (json_int_t)x->samples, "flow_samples", (json_int_t)x->flow_samples,
			 "drop_samples", (json_int_t)x->drop_samples, "alerts",
			 (json_int_t)x->alerts, "blocks", (json_int_t)x->blocks, "block_errors",
			 (json_int_t)x->block_errors, "captured", (json_int_t)x->captured,
			 "capture_errors", (json_int_t)x->capture_errors, "released",
			 (json_int_t)x->released, "flow_blocks",
			 (json_int_t)pw_ips_flow_count(x->maps), "samples_sent",
			 (json_int_t)st.samples_sent_total, "samples_suppressed",
			 (json_int_t)st.samples_suppressed_total, "samples_lost",
			 (json_int_t)st.samples_lost_total);
}
