// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BPF_PROG_TEST_RUN-backed evaluator (bpf_eval.h): install a compiled
 * db into a private datapath, then decide each (endpoint, direction, peer,
 * protocol, port) by running one crafted packet through the TC program of
 * that direction. The verdict is what the program counted (the counter that
 * moved), the cookie what its ring buffer record says.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_eval.h"
#include "cleanup.h"
#include "datapath.h"
#include "log.h"

#define TC_ACT_OK   0
#define TC_ACT_SHOT 2
#define BPFFS_MAGIC 0xcafe4a11

struct pw_bpf_eval {
	struct pw_evaluator ev;
	struct pw_datapath *dp;
	struct ring_buffer *rb;
	char pin_root[64];
	int orig_ns, eval_ns;
	int ifindex[PW_MAX_ENDPOINTS]; /* [i]: host side of endpoint i + 1's veth */
	size_t nif;

	/* What is installed: the db (by address and epoch) and what to undo. */
	const struct pw_policy_db *db;
	uint32_t epoch;
	bool installed;
	size_t neps;
	struct pw_host_key *hosts;
	size_t nhosts;
	struct pw_lpm_key *lpms;
	size_t nlpms;
	/* Each endpoint's installed policy: unchanged ones are not swapped again. */
	struct pw_policy_entry *pol[PW_MAX_ENDPOINTS];
	size_t npol[PW_MAX_ENDPOINTS];
	bool has_pol[PW_MAX_ENDPOINTS];
	/*
	 * Counter values last seen, per (endpoint, direction, reason). Only our
	 * probes run in this private datapath, so these track the counters
	 * across installs and need no clearing.
	 */
	uint64_t (*seen)[PW_DIR_COUNT][_PW_REASON_MAX];

	uint16_t next_port; /* a fresh source port (or echo id) per probe: a new flow */
	bool have_event;
	struct pw_event event;
	int err;
	struct pw_bpf_eval_stats stats;
};

int pw_bpf_eval_supported(const char **why)
{
	struct statfs st;
	const char *w = NULL;
	int err = 0;

	if (geteuid() != 0) {
		w = "not root";
		err = -EPERM;
	} else if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		w = "kernel without BTF";
		err = -EOPNOTSUPP;
	} else if (statfs("/sys/fs/bpf", &st) || st.f_type != BPFFS_MAGIC) {
		w = "bpffs not mounted on /sys/fs/bpf";
		err = -ENOENT;
	}
	if (why)
		*why = w;
	return err;
}

/* ---------------- the private network namespace and its veths ---------------- */

static int enter(struct pw_bpf_eval *e)
{
	return setns(e->eval_ns, CLONE_NEWNET) ? -errno : 0;
}

static int leave(struct pw_bpf_eval *e)
{
	return setns(e->orig_ns, CLONE_NEWNET) ? -errno : 0;
}

/* Appends an attribute to the message in buf (max bytes); NULL if it does not fit. */
static struct rtattr *nl_attr(void *buf, size_t max, int type, const void *data, size_t len)
{
	struct nlmsghdr *n = buf;
	size_t at = NLMSG_ALIGN(n->nlmsg_len);
	struct rtattr a = { .rta_type = type, .rta_len = RTA_LENGTH(len) };

	if (at + RTA_SPACE(len) > max)
		return NULL;
	memcpy((char *)buf + at, &a, sizeof(a));
	if (len)
		memcpy((char *)buf + at + RTA_LENGTH(0), data, len);
	n->nlmsg_len = at + RTA_SPACE(len);
	return (struct rtattr *)((char *)buf + at);
}

static void nl_nest_end(struct nlmsghdr *n, struct rtattr *a)
{
	a->rta_len = (char *)n + n->nlmsg_len - (char *)a;
}

/* RTM_NEWLINK of a veth pair "name" <-> "name"p, in the namespace of fd. */
static int add_veth(int fd, const char *name)
{
	struct {
		struct nlmsghdr n;
		struct ifinfomsg i;
		char buf[512];
	} req = { 0 };
	struct {
		struct nlmsghdr n;
		struct nlmsgerr e;
		char buf[256];
	} ack;
	struct rtattr *info, *data, *peer;
	struct ifinfomsg pi = { .ifi_family = AF_UNSPEC };
	char pname[IFNAMSIZ + 2];
	ssize_t r;

	snprintf(pname, sizeof(pname), "%sp", name);
	req.n.nlmsg_len = NLMSG_LENGTH(sizeof(req.i));
	req.n.nlmsg_type = RTM_NEWLINK;
	req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	req.i.ifi_family = AF_UNSPEC;
	if (!nl_attr(&req, sizeof(req), IFLA_IFNAME, name, strlen(name) + 1) ||
	    !(info = nl_attr(&req, sizeof(req), IFLA_LINKINFO, NULL, 0)) ||
	    !nl_attr(&req, sizeof(req), IFLA_INFO_KIND, "veth", 5) ||
	    !(data = nl_attr(&req, sizeof(req), IFLA_INFO_DATA, NULL, 0)) ||
	    !(peer = nl_attr(&req, sizeof(req), VETH_INFO_PEER, &pi, sizeof(pi))) ||
	    !nl_attr(&req, sizeof(req), IFLA_IFNAME, pname, strlen(pname) + 1))
		return -E2BIG;
	nl_nest_end(&req.n, peer);
	nl_nest_end(&req.n, data);
	nl_nest_end(&req.n, info);
	if (send(fd, &req, req.n.nlmsg_len, 0) < 0)
		return -errno;
	r = recv(fd, &ack, sizeof(ack), 0);
	if (r < 0)
		return -errno;
	if ((size_t)r < NLMSG_LENGTH(sizeof(ack.e)) || ack.n.nlmsg_type != NLMSG_ERROR)
		return -EPROTO;
	return ack.e.error;
}

/* Makes sure endpoints 1..n have an interface. */
static int grow_ifaces(struct pw_bpf_eval *e, size_t n)
{
	_cleanup_close_ int fd = -1;
	int err, ret = 0;

	if (n <= e->nif)
		return 0;
	if (n >= PW_MAX_ENDPOINTS)
		return pr_err_r(-E2BIG, "BPF evaluator: %zu local endpoints (at most %d)", n,
				PW_MAX_ENDPOINTS - 1);
	err = enter(e);
	if (err)
		return pr_err_r(err, "enter the evaluator's network namespace");
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		ret = pr_err_r(-errno, "netlink socket");
	while (!ret && e->nif < n) {
		char name[IFNAMSIZ];
		int idx;

		snprintf(name, sizeof(name), "pwe%zu", e->nif + 1);
		err = add_veth(fd, name);
		idx = err ? 0 : (int)if_nametoindex(name);
		if (err || idx <= 0) {
			ret = pr_err_r(err ?: -ENODEV, "create veth %s", name);
			break;
		}
		e->ifindex[e->nif++] = idx;
	}
	err = leave(e);
	if (err)
		return pr_err_r(err, "leave the evaluator's network namespace");
	return ret;
}

/* ---------------- installing a compiled db ---------------- */

static void flush_ct(struct pw_bpf_eval *e)
{
	int fd = pw_datapath_map_fd(e->dp, PW_MAP_ID_CT);
	struct pw_ct_key k;

	while (bpf_map_get_next_key(fd, NULL, &k) == 0)
		if (bpf_map_delete_elem(fd, &k))
			break;
}

/* Removes what the previous install wrote. */
static int uninstall(struct pw_bpf_eval *e, size_t keep_eps)
{
	int err;

	for (size_t i = 0; i < e->nhosts; i++) {
		err = pw_dp_host_del(e->dp, &e->hosts[i]);
		if (err && err != -ENOENT)
			return pr_err_r(err, "BPF evaluator: delete an ipcache host entry");
	}
	for (size_t i = 0; i < e->nlpms; i++) {
		err = pw_dp_lpm_del(e->dp, &e->lpms[i]);
		if (err && err != -ENOENT)
			return pr_err_r(err, "BPF evaluator: delete an ipcache prefix");
	}
	e->nhosts = e->nlpms = 0;
	for (size_t i = keep_eps; i < e->neps; i++) {
		err = pw_dp_endpoint_del(e->dp, e->ifindex[i]);
		if (!err || err == -ENOENT)
			err = pw_dp_policy_delete(e->dp, i + 1);
		free(e->pol[i]);
		e->pol[i] = NULL;
		e->has_pol[i] = false;
		if (err && err != -ENOENT)
			return pr_err_r(err, "BPF evaluator: remove endpoint %zu", i + 1);
	}
	e->neps = keep_eps < e->neps ? keep_eps : e->neps;
	return 0;
}

/* The veth of a local pod's address, as podwalld patches ipcache values. */
static __u32 ifindex_of(const struct pw_bpf_eval *e, const struct pw_policy_db *db,
			const struct pw_endpoint_view *eps, size_t neps,
			const struct pw_host_key *k)
{
	for (size_t i = 0; i < neps; i++) {
		const struct pw_pod_view *p = pw_policy_db_pod(db, eps[i].ns, eps[i].name);

		for (size_t j = 0; p && j < p->nips; j++)
			if (p->ips[j].family == k->family && !memcmp(p->ips[j].addr, k->addr, 16))
				return e->ifindex[i];
	}
	return 0;
}

static int install(struct pw_bpf_eval *e, const struct pw_policy_db *db)
{
	struct pw_endpoint_view *eps;
	struct pw_ipcache_host_entry *he;
	struct pw_ipcache_lpm_entry *le;
	size_t neps = pw_policy_db_endpoints(db, &eps);
	size_t nh = pw_policy_db_host_entries(db, &he);
	size_t nl = pw_policy_db_lpm_entries(db, &le);
	int err;

	e->installed = false;
	err = grow_ifaces(e, neps);
	if (err)
		return err;
	err = uninstall(e, neps);
	if (err)
		return err;
	free(e->hosts);
	free(e->lpms);
	e->hosts = calloc(nh ?: 1, sizeof(*e->hosts));
	e->lpms = calloc(nl ?: 1, sizeof(*e->lpms));
	if (!e->hosts || !e->lpms)
		return -ENOMEM;
	/* The order of pw_sync_endpoint(): policy and addresses first, READY last. */
	for (size_t i = 0; i < neps; i++) {
		size_t sz = eps[i].nentries * sizeof(*eps[i].entries);

		/* Each swap waits for an RCU grace period (map-in-map): skip equal ones. */
		if (e->has_pol[i] && e->npol[i] == eps[i].nentries &&
		    (!sz || !memcmp(e->pol[i], eps[i].entries, sz)))
			continue;
		e->has_pol[i] = false;
		free(e->pol[i]);
		e->pol[i] = malloc(sz ?: 1);
		if (!e->pol[i])
			return -ENOMEM;
		err = pw_dp_policy_replace(e->dp, i + 1, eps[i].entries, eps[i].nentries);
		if (err)
			return pr_err_r(err, "BPF evaluator: policy of %s/%s", eps[i].ns,
					eps[i].name);
		if (sz)
			memcpy(e->pol[i], eps[i].entries, sz);
		e->npol[i] = eps[i].nentries;
		e->has_pol[i] = true;
	}
	for (size_t i = 0; i < nh; i++) {
		struct pw_ipcache_val v = he[i].val;

		v.ep_ifindex = ifindex_of(e, db, eps, neps, &he[i].key);
		err = pw_dp_host_put(e->dp, &he[i].key, &v);
		if (err)
			return pr_err_r(err, "BPF evaluator: ipcache host entry");
		e->hosts[e->nhosts++] = he[i].key;
	}
	for (size_t i = 0; i < nl; i++) {
		err = pw_dp_lpm_put(e->dp, &le[i].key, &le[i].val);
		if (err)
			return pr_err_r(err, "BPF evaluator: ipcache prefix");
		e->lpms[e->nlpms++] = le[i].key;
	}
	for (size_t i = 0; i < neps; i++) {
		struct pw_endpoint rec = {
			.ep_id = i + 1, .identity = eps[i].identity, .flags = PW_EP_F_READY
		};

		err = pw_dp_endpoint_put(e->dp, e->ifindex[i], &rec);
		if (err)
			return pr_err_r(err, "BPF evaluator: endpoint record of %s/%s", eps[i].ns,
					eps[i].name);
	}
	e->neps = neps;
	err = pw_dp_epoch_bump(e->dp, NULL);
	if (err)
		return pr_err_r(err, "BPF evaluator: bump the epoch");
	flush_ct(e);
	e->db = db;
	e->epoch = pw_policy_db_epoch(db);
	e->installed = true;
	e->stats.syncs++;
	if (neps > e->stats.max_endpoints)
		e->stats.max_endpoints = neps;
	return 0;
}

/* ---------------- packets ---------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t s)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* SCTP's CRC32c (RFC 4960 appendix B), reflected, sent least significant byte first. */
static uint32_t crc32c(const uint8_t *p, size_t len)
{
	uint32_t c = ~0U;

	for (size_t i = 0; i < len; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78U & -(c & 1));
	}
	return ~c;
}

struct probe_pkt {
	uint8_t family; /* PW_AF_* */
	uint8_t proto;	/* IPPROTO_TCP/UDP/SCTP, or 0: ICMP(v6) echo request */
	const uint8_t *src, *dst;
	uint16_t sport, dport; /* echo: sport is the identifier */
};

/*
 * Ethernet + IPv4/IPv6 + the first packet of a flow: TCP SYN, a UDP
 * datagram, SCTP INIT, ICMP echo request. Returns the frame's length.
 */
static size_t write_pkt(const struct probe_pkt *p, uint8_t *buf, size_t cap)
{
	bool v6 = p->family == PW_AF_INET6;
	size_t l3 = v6 ? 40 : 20, l4len, alen = v6 ? 16 : 4, off = 14;
	uint8_t proto = p->proto ? p->proto : v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	uint8_t *ip = buf + off, *l4 = ip + l3;
	uint32_t ps;

	switch (proto) {
	case IPPROTO_TCP:
		l4len = 20;
		break;
	case IPPROTO_SCTP:
		l4len = 12 + 20; /* common header + INIT chunk */
		break;
	default:
		l4len = 8;
	}
	if (cap < off + l3 + l4len)
		return 0;
	memset(buf, 0, off + l3 + l4len);
	/* Locally administered MACs; the programs look at L3 and above. */
	buf[0] = 0x02, buf[5] = 0x02;
	buf[6] = 0x02, buf[11] = 0x01;
	put16(buf + 12, v6 ? 0x86dd : 0x0800);
	if (v6) {
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)l4len);
		ip[6] = proto;
		ip[7] = 64;
		memcpy(ip + 8, p->src, 16);
		memcpy(ip + 24, p->dst, 16);
	} else {
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(l3 + l4len));
		put16(ip + 4, p->sport);
		put16(ip + 6, 0x4000); /* DF: not a fragment */
		ip[8] = 64;
		ip[9] = proto;
		memcpy(ip + 12, p->src, 4);
		memcpy(ip + 16, p->dst, 4);
		put16(ip + 10, fold(sum16(ip, 20, 0)));
	}
	switch (proto) {
	case IPPROTO_TCP:
		put16(l4, p->sport);
		put16(l4 + 2, p->dport);
		put16(l4 + 4, 0x5077); /* initial sequence number */
		l4[12] = 5 << 4;
		l4[13] = 0x02; /* SYN */
		put16(l4 + 14, 65535);
		break;
	case IPPROTO_UDP:
		put16(l4, p->sport);
		put16(l4 + 2, p->dport);
		put16(l4 + 4, (uint16_t)l4len);
		break;
	case IPPROTO_SCTP: {
		uint8_t *c = l4 + 12;
		uint32_t crc;

		put16(l4, p->sport);
		put16(l4 + 2, p->dport);
		c[0] = 1; /* INIT; verification tag 0 */
		put16(c + 2, 20);
		put16(c + 4, 0x5077); /* initiate tag */
		put16(c + 8, 1); /* a_rwnd 65536 */
		put16(c + 12, 1); /* outbound streams */
		put16(c + 14, 1); /* inbound streams */
		put16(c + 18, 1); /* initial TSN */
		crc = crc32c(l4, l4len);
		l4[8] = crc & 0xff;
		l4[9] = (crc >> 8) & 0xff;
		l4[10] = (crc >> 16) & 0xff;
		l4[11] = crc >> 24;
		return off + l3 + l4len;
	}
	default:
		l4[0] = v6 ? 128 : 8; /* echo request */
		put16(l4 + 4, p->sport);
		put16(l4 + 6, 1);
		if (!v6) {
			put16(l4 + 2, fold(sum16(l4, l4len, 0)));
			return off + l3 + l4len;
		}
	}
	/* TCP, UDP, ICMPv6: the pseudo-header counts. */
	ps = sum16(p->src, alen, 0);
	ps = sum16(p->dst, alen, ps);
	ps += proto + (uint32_t)l4len;
	put16(l4 + (proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2),
	      fold(sum16(l4, l4len, ps)) ?: (proto == IPPROTO_UDP ? 0xffff : 0));
	return off + l3 + l4len;
}

/* ---------------- evaluation ---------------- */

static int on_event(void *ctx, void *data, size_t len)
{
	struct pw_bpf_eval *e = ctx;

	if (len >= sizeof(e->event)) {
		memcpy(&e->event, data, sizeof(e->event));
		e->have_event = true;
	}
	return 0;
}

static uint64_t counter(struct pw_bpf_eval *e, __u32 ep, __u32 dir, __u32 reason)
{
	struct pw_counter c = { 0 };

	pw_dp_counter_read(e->dp, ep, dir, reason, &c);
	return c.packets;
}

/*
 * Which reason the program counted for this packet: exactly one counter of
 * (ep, dir) must have moved by one. hint is checked first (one read).
 */
static int counted_reason(struct pw_bpf_eval *e, __u32 ep, __u32 dir, int hint)
{
	int found = -1;

	if (hint >= 0 && hint < _PW_REASON_MAX &&
	    counter(e, ep, dir, hint) == e->seen[ep][dir][hint] + 1) {
		e->seen[ep][dir][hint]++;
		return hint;
	}
	for (int r = 0; r < _PW_REASON_MAX; r++) {
		uint64_t c = counter(e, ep, dir, r);

		if (c == e->seen[ep][dir][r])
			continue;
		if (found >= 0 || c != e->seen[ep][dir][r] + 1)
			return -EPROTO;
		found = r;
		e->seen[ep][dir][r] = c;
	}
	return found >= 0 ? found : -ENODATA;
}

static const struct pw_addr *addr_of(const struct pw_policy_db *db,
				     const struct pw_endpoint_view *ep, uint8_t family)
{
	const struct pw_pod_view *p = pw_policy_db_pod(db, ep->ns, ep->name);

	for (size_t i = 0; p && i < p->nips; i++)
		if (p->ips[i].family == family)
			return &p->ips[i];
	return NULL;
}

static int run_probe(struct pw_bpf_eval *e, const struct pw_policy_db *db,
		     const struct pw_endpoint_view *ep, int dir, const struct pw_addr *peer,
		     uint8_t proto, uint16_t dport, struct pw_verdict *out)
{
	static const uint8_t unspecified[16];
	struct pw_endpoint_view *eps;
	size_t neps = pw_policy_db_endpoints(db, &eps), idx;
	const struct pw_addr *own = addr_of(db, ep, peer->family);
	const uint8_t *pod = own ? own->addr : unspecified;
	struct probe_pkt p = { .family = peer->family, .proto = proto, .dport = dport };
	struct pw_ct_key ck = { 0 };
	struct __sk_buff skb = { 0 };
	uint8_t frame[128];
	int err, ret, reason;
	__u32 ep_id;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .ctx_in = &skb,
		    .ctx_size_in = sizeof(skb), .repeat = 1);

	if (!e->installed || e->db != db || e->epoch != pw_policy_db_epoch(db)) {
		err = install(e, db);
		if (err)
			return err;
	}
	/* ep points into the db's endpoint array; fall back to its name if not. */
	if (ep >= eps && ep < eps + neps) {
		idx = ep - eps;
	} else {
		for (idx = 0; idx < neps; idx++)
			if (!strcmp(eps[idx].ns, ep->ns) && !strcmp(eps[idx].name, ep->name))
				break;
		if (idx == neps)
			return -ENOENT;
	}
	ep_id = idx + 1;
	skb.ifindex = e->ifindex[idx];
	/* A fresh source port per probe: always a new flow, never a conntrack hit. */
	if (++e->next_port < 1024)
		e->next_port = 1024;
	p.sport = e->next_port;
	if (!proto)
		p.dport = p.sport; /* an echo: its identifier stands for both ports */
	p.src = dir == PW_DIR_INGRESS ? peer->addr : pod;
	p.dst = dir == PW_DIR_INGRESS ? pod : peer->addr;
	o.data_size_in = write_pkt(&p, frame, sizeof(frame));
	if (!o.data_size_in)
		return -EINVAL;

	e->have_event = false;
	err = enter(e);
	if (err)
		return err;
	ret = bpf_prog_test_run_opts(pw_datapath_prog_fd(e->dp, dir == PW_DIR_INGRESS ?
								     PW_PROG_TO_POD :
								     PW_PROG_FROM_POD),
				     &o) ?
		      -errno :
		      0;
	err = leave(e);
	if (ret)
		return ret;
	if (err)
		return err;
	e->stats.runs++;
	ring_buffer__consume(e->rb);
	reason = counted_reason(e, ep_id, dir, e->have_event ? e->event.reason : -1);
	if (reason < 0)
		return reason;
	if ((o.retval == TC_ACT_SHOT) != !!pw_reason_is_drop(reason) ||
	    (o.retval != TC_ACT_OK && o.retval != TC_ACT_SHOT))
		return -EPROTO;
	out->reason = reason;
	out->cookie = 0;
	if (e->have_event && e->event.reason == reason && e->event.ep_id == ep_id)
		out->cookie = e->event.cookie;
	else if (reason == PW_REASON_ALLOW_POLICY || pw_reason_is_drop(reason))
		e->stats.events_missing++;

	/* Leave no flow behind: the next probe must not find it. */
	ck.ep_id = ep_id;
	ck.family = p.family;
	ck.proto = proto ? proto : p.family == PW_AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	ck.pod_port = htons(dir == PW_DIR_INGRESS ? p.dport : p.sport);
	ck.peer_port = htons(dir == PW_DIR_INGRESS ? p.sport : p.dport);
	memcpy(ck.pod_addr, pod, p.family == PW_AF_INET6 ? 16 : 4);
	memcpy(ck.peer_addr, peer->addr, p.family == PW_AF_INET6 ? 16 : 4);
	bpf_map_delete_elem(pw_datapath_map_fd(e->dp, PW_MAP_ID_CT), &ck);
	return 0;
}

static void bpf_eval(void *ctx, const struct pw_policy_db *db, const struct pw_endpoint_view *ep,
		     int dir, const struct pw_addr *peer, uint8_t proto, uint16_t dport,
		     struct pw_verdict *out)
{
	struct pw_bpf_eval *e = ctx;
	int err = run_probe(e, db, ep, dir, peer, proto, dport, out);

	if (!err)
		return;
	if (!e->err)
		e->err = pr_err_r(err, "BPF evaluator: %s at %s/%s",
				  dir == PW_DIR_INGRESS ? "ingress" : "egress", ep->ns, ep->name);
	out->reason = _PW_REASON_MAX;
	out->cookie = 0;
}

/* ---------------- lifecycle ---------------- */

int pw_bpf_eval_new(struct pw_bpf_eval **out)
{
	struct pw_bpf_eval *e = calloc(1, sizeof(*e));
	/* No event may be lost to the datapath's rate limit: each carries a cookie. */
	struct pw_datapath_opts o = { .events_per_sec = 1000000 };
	int err;

	if (!e)
		return -ENOMEM;
	e->orig_ns = e->eval_ns = -1;
	e->seen = calloc(PW_MAX_ENDPOINTS, sizeof(*e->seen));
	if (!e->seen) {
		err = -ENOMEM;
		goto fail;
	}
	e->orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (e->orig_ns < 0) {
		err = pr_err_r(-errno, "open /proc/self/ns/net");
		goto fail;
	}
	if (unshare(CLONE_NEWNET)) {
		err = pr_err_r(-errno, "create a network namespace");
		goto fail;
	}
	e->eval_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	err = e->eval_ns < 0 ? -errno : 0;
	if (leave(e)) {
		/* Stranded in the new namespace: nothing sensible to continue with. */
		err = pr_err_r(-errno, "return to the original network namespace");
		goto fail;
	}
	if (err) {
		pr_err_r(err, "open the new network namespace");
		goto fail;
	}
	snprintf(e->pin_root, sizeof(e->pin_root), "/sys/fs/bpf/podwall-eval-%d", getpid());
	o.pin_root = e->pin_root;
	err = pw_datapath_open(&e->dp, &o);
	if (err) {
		pr_err_r(err, "BPF evaluator: load the datapath");
		goto fail;
	}
	e->rb = ring_buffer__new(pw_datapath_map_fd(e->dp, PW_MAP_ID_EVENTS), on_event, e, NULL);
	if (!e->rb) {
		err = pr_err_r(-errno, "BPF evaluator: ring buffer");
		goto fail;
	}
	e->ev.eval = bpf_eval;
	e->ev.ctx = e;
	/* pw_datapath_open() without deny_host: the node reaches its pods, as by default. */
	e->ev.allow_host = true;
	*out = e;
	return 0;
fail:
	pw_bpf_eval_free(&e);
	return err;
}

void pw_bpf_eval_free(struct pw_bpf_eval **ep)
{
	struct pw_bpf_eval *e = *ep;

	if (!e)
		return;
	ring_buffer__free(e->rb);
	if (e->dp) {
		pw_datapath_free(&e->dp);
		pw_datapath_unpin(e->pin_root);
		rmdir(e->pin_root);
	}
	/* The veths die with the namespace, once its last reference is closed. */
	if (e->eval_ns >= 0)
		close(e->eval_ns);
	if (e->orig_ns >= 0)
		close(e->orig_ns);
	free(e->hosts);
	free(e->lpms);
	free(e->seen);
	for (size_t i = 0; i < PW_MAX_ENDPOINTS; i++)
		free(e->pol[i]);
	free(e);
	*ep = NULL;
}

const struct pw_evaluator *pw_bpf_eval_evaluator(struct pw_bpf_eval *e)
{
	return &e->ev;
}

void pw_bpf_eval_reset(struct pw_bpf_eval *e)
{
	e->installed = false;
	e->db = NULL;
	e->err = 0;
}

int pw_bpf_eval_error(const struct pw_bpf_eval *e)
{
	return e->err;
}

void pw_bpf_eval_stats(const struct pw_bpf_eval *e, struct pw_bpf_eval_stats *out)
{
	*out = e->stats;
}
