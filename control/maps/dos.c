// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cleanup.h"
#include "datapath.h"
#include "dos.h"
#include "log.h"

enum {
	M_BL,
	M_BL_LPM,
	M_RL_SRC,
	M_RL_POD,
	M_SYN_RATE,
	M_SYN_VERIFIED,
	M_CFG,
	M_STATS,
	M_POD_LIMITS,
	M_POD_BUCKETS,
	M_BL_USED,
	M_CONNS,
	M_CONN_LIMIT,
	M_CT,
	M_COUNTERS,
	_M_MAX,
};

/*
 * The maps are found by their pins: the loader pins every datapath map by
 * name, and going through the pins lets podwallctl work on a running node
 * without loading the objects again.
 */
static const char *const map_names[_M_MAX] = {
	[M_BL] = PW_MAP_BLOCKLIST,	 [M_BL_LPM] = PW_MAP_BLOCKLIST_LPM,
	[M_RL_SRC] = PW_MAP_RL_SRC,	 [M_RL_POD] = PW_MAP_RL_POD,
	[M_SYN_RATE] = PW_MAP_SYN_RATE, [M_SYN_VERIFIED] = PW_MAP_SYN_VERIFIED,
	[M_CFG] = PW_MAP_DOS_CFG,	 [M_STATS] = PW_MAP_DOS_STATS,
	[M_POD_LIMITS] = PW_MAP_POD_LIMITS, [M_POD_BUCKETS] = PW_MAP_POD_BUCKETS,
	[M_BL_USED] = PW_MAP_BL_USED, [M_CONNS] = PW_MAP_CONNS,
	[M_CONN_LIMIT] = PW_MAP_CONN_LIMIT, [M_CT] = PW_MAP_CT,
	[M_COUNTERS] = PW_MAP_COUNTERS,
};

struct pw_dos {
	int fds[_M_MAX];
	int ncpus;
	/* pw_conns mapped: the sweep corrects counts with atomics, as the datapath does. */
	struct pw_conn_count *conns;
	size_t conns_len;
};

void pw_dos_free(struct pw_dos **d)
{
	int i;

	if (!d || !*d)
		return;
	if ((*d)->conns)
		munmap((*d)->conns, (*d)->conns_len);
	for (i = 0; i < _M_MAX; i++)
		if ((*d)->fds[i] >= 0)
			close((*d)->fds[i]);
	free(*d);
	*d = NULL;
}

int pw_dos_open(struct pw_dos **out, const char *pin_root)
{
	_cleanup_free_ struct pw_dos *d = calloc(1, sizeof(*d));
	char path[PATH_MAX];
	int i, err;

	if (!d)
		return -ENOMEM;
	for (i = 0; i < _M_MAX; i++)
		d->fds[i] = -1;
	d->ncpus = libbpf_num_possible_cpus();
	if (d->ncpus <= 0)
		return d->ncpus ?: -EINVAL;
	for (i = 0; i < _M_MAX; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_root ?: PW_PIN_ROOT, map_names[i]);
		d->fds[i] = bpf_obj_get(path);
		if (d->fds[i] < 0) {
			err = pr_err_r(-errno, "open %s (is the datapath loaded?)", path);
			pw_dos_free(&d);
			return err;
		}
	}
	d->conns_len = PW_MAX_ENDPOINTS * sizeof(struct pw_conn_count);
	d->conns = mmap(NULL, d->conns_len, PROT_READ | PROT_WRITE, MAP_SHARED, d->fds[M_CONNS], 0);
	if (d->conns == MAP_FAILED) {
		d->conns = NULL;
		err = pr_err_r(-errno, "mmap %s", PW_MAP_CONNS);
		pw_dos_free(&d);
		return err;
	}
	*out = TAKE_PTR(d);
	return 0;
}

__u64 pw_dos_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int pw_dos_cfg_read(struct pw_dos *d, struct pw_dos_cfg *cfg)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(d->fds[M_CFG], &zero, cfg) ? -errno : 0;
}

int pw_dos_cfg_write(struct pw_dos *d, const struct pw_dos_cfg *cfg)
{
	__u32 zero = 0;

	if ((cfg->src_prefix4 && cfg->src_prefix4 != 24 && cfg->src_prefix4 != 32) ||
	    (cfg->src_prefix6 && cfg->src_prefix6 != 64 && cfg->src_prefix6 != 128))
		return -EINVAL;
	return bpf_map_update_elem(d->fds[M_CFG], &zero, cfg, BPF_ANY) ? -errno : 0;
}

const char *pw_bl_owner_name(__u8 owner)
{
	switch (owner) {
	case PW_BL_OWNER_OPERATOR:
		return "operator";
	case PW_BL_OWNER_IPS:
		return "ips";
	case PW_BL_OWNER_AUTO:
		return "auto";
	}
	return "unknown";
}

int pw_bl_owner_parse(const char *s)
{
	if (!strcmp(s, "operator"))
		return PW_BL_OWNER_OPERATOR;
	if (!strcmp(s, "ips"))
		return PW_BL_OWNER_IPS;
	if (!strcmp(s, "auto"))
		return PW_BL_OWNER_AUTO;
	return -EINVAL;
}

/* An address or a full-width prefix is exact; anything shorter goes to the trie. */
static int bl_key(const char *cidr, struct pw_host_key *hk, struct pw_lpm_key *lk, bool *exact)
{
	int err = pw_lpm_key_parse(lk, cidr);

	if (err)
		return err;
	*exact = lk->prefixlen - PW_LPM_PREFIX_BASE == (lk->family == PW_AF_INET ? 32U : 128U);
	memset(hk, 0, sizeof(*hk));
	hk->family = lk->family;
	memcpy(hk->addr, lk->addr, 16);
	return 0;
}

int pw_dos_block_add(struct pw_dos *d, const char *cidr, __u8 owner, __u8 flags, __u32 ttl_s)
{
	__u64 now = pw_dos_now_ns();
	struct pw_bl_val v = {
		.expires_ns = ttl_s ? now + (__u64)ttl_s * 1000000000ULL : 0,
		.added_ns = now,
		.owner = owner,
		.flags = flags,
	};
	struct pw_host_key hk;
	struct pw_lpm_key lk;
	__u32 used_idx, one = 1;
	bool exact;
	int err;

	err = bl_key(cidr, &hk, &lk, &exact);
	if (err)
		return err;
	/* Mark the map used before the entry exists, so the datapath never skips it. */
	used_idx = exact ? PW_BL_USED_EXACT : PW_BL_USED_PREFIX;
	if (bpf_map_update_elem(d->fds[M_BL_USED], &used_idx, &one, BPF_ANY))
		return -errno;
	if (exact)
		err = bpf_map_update_elem(d->fds[M_BL], &hk, &v, BPF_ANY);
	else
		err = bpf_map_update_elem(d->fds[M_BL_LPM], &lk, &v, BPF_ANY);
	return err ? -errno : 0;
}

int pw_dos_block_del(struct pw_dos *d, const char *cidr)
{
	struct pw_host_key hk;
	struct pw_lpm_key lk;
	bool exact;
	int err;

	err = bl_key(cidr, &hk, &lk, &exact);
	if (err)
		return err;
	if (exact)
		err = bpf_map_delete_elem(d->fds[M_BL], &hk);
	else
		err = bpf_map_delete_elem(d->fds[M_BL_LPM], &lk);
	return err ? -errno : 0;
}

static void addr_str(__u8 family, const __u8 *addr, char *buf, size_t len)
{
	if (!inet_ntop(family == PW_AF_INET ? AF_INET : AF_INET6, addr, buf, len))
		snprintf(buf, len, "?");
}

static int bl_push(struct pw_bl_entry **arr, size_t *n, size_t *cap, const struct pw_bl_val *v,
		   __u64 now)
{
	struct pw_bl_entry *e;

	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct pw_bl_entry *na = realloc(*arr, nc * sizeof(*na));

		if (!na)
			return -ENOMEM;
		*arr = na;
		*cap = nc;
	}
	e = &(*arr)[(*n)++];
	memset(e, 0, sizeof(*e));
	e->owner = v->owner;
	e->flags = v->flags;
	e->expired = v->expires_ns && now >= v->expires_ns;
	if (v->expires_ns && !e->expired)
		e->ttl_left_s = (v->expires_ns - now + 999999999ULL) / 1000000000ULL;
	return 0;
}

int pw_dos_block_list(struct pw_dos *d, struct pw_bl_entry **out, size_t *n)
{
	_cleanup_free_ struct pw_bl_entry *arr = NULL;
	__u64 now = pw_dos_now_ns();
	size_t cnt = 0, cap = 0;
	struct pw_host_key hk, *hprev = NULL;
	struct pw_lpm_key lk, *lprev = NULL;
	struct pw_bl_val v;
	char a[INET6_ADDRSTRLEN];
	int err;

	while (bpf_map_get_next_key(d->fds[M_BL], hprev, &hk) == 0) {
		hprev = &hk;
		if (bpf_map_lookup_elem(d->fds[M_BL], &hk, &v))
			continue;
		err = bl_push(&arr, &cnt, &cap, &v, now);
		if (err)
			return err;
		addr_str(hk.family, hk.addr, a, sizeof(a));
		snprintf(arr[cnt - 1].cidr, sizeof(arr[cnt - 1].cidr), "%s", a);
	}
	while (bpf_map_get_next_key(d->fds[M_BL_LPM], lprev, &lk) == 0) {
		lprev = &lk;
		if (bpf_map_lookup_elem(d->fds[M_BL_LPM], &lk, &v))
			continue;
		err = bl_push(&arr, &cnt, &cap, &v, now);
		if (err)
			return err;
		addr_str(lk.family, lk.addr, a, sizeof(a));
		snprintf(arr[cnt - 1].cidr, sizeof(arr[cnt - 1].cidr), "%s/%u", a,
			 lk.prefixlen - PW_LPM_PREFIX_BASE);
	}
	*out = TAKE_PTR(arr);
	*n = cnt;
	return 0;
}

int pw_dos_block_sweep(struct pw_dos *d)
{
	_cleanup_free_ struct pw_host_key *hdel = NULL;
	_cleanup_free_ struct pw_lpm_key *ldel = NULL;
	size_t nh = 0, nl = 0, cap = PW_BLOCKLIST_MAX, i;
	__u64 now = pw_dos_now_ns();
	struct pw_host_key hk, *hprev = NULL;
	struct pw_lpm_key lk, *lprev = NULL;
	struct pw_bl_val v;
	int n = 0;

	/* Collect first: deleting while walking would restart the hash walk. */
	hdel = calloc(cap, sizeof(*hdel));
	ldel = calloc(PW_BLOCKLIST_LPM_MAX, sizeof(*ldel));
	if (!hdel || !ldel)
		return -ENOMEM;
	while (bpf_map_get_next_key(d->fds[M_BL], hprev, &hk) == 0 && nh < cap) {
		hprev = &hk;
		if (!bpf_map_lookup_elem(d->fds[M_BL], &hk, &v) && v.expires_ns &&
		    now >= v.expires_ns)
			hdel[nh++] = hk;
	}
	while (bpf_map_get_next_key(d->fds[M_BL_LPM], lprev, &lk) == 0 &&
	       nl < PW_BLOCKLIST_LPM_MAX) {
		lprev = &lk;
		if (!bpf_map_lookup_elem(d->fds[M_BL_LPM], &lk, &v) && v.expires_ns &&
		    now >= v.expires_ns)
			ldel[nl++] = lk;
	}
	for (i = 0; i < nh; i++)
		n += !bpf_map_delete_elem(d->fds[M_BL], &hdel[i]);
	for (i = 0; i < nl; i++)
		n += !bpf_map_delete_elem(d->fds[M_BL_LPM], &ldel[i]);
	return n;
}

int pw_dos_pod_limit_set(struct pw_dos *d, __u32 ep_id, const struct pw_rl_limit *l)
{
	if (!ep_id || ep_id >= PW_MAX_ENDPOINTS)
		return -ERANGE;
	if (!l) {
		if (bpf_map_delete_elem(d->fds[M_RL_POD], &ep_id) && errno != ENOENT)
			return -errno;
		return 0;
	}
	return bpf_map_update_elem(d->fds[M_RL_POD], &ep_id, l, BPF_ANY) ? -errno : 0;
}

int pw_dos_pod_limit_get(struct pw_dos *d, __u32 ep_id, struct pw_rl_limit *l)
{
	return bpf_map_lookup_elem(d->fds[M_RL_POD], &ep_id, l) ? -errno : 0;
}

int pw_dos_stats_read(struct pw_dos *d, struct pw_dos_stats *sum)
{
	_cleanup_free_ struct pw_dos_stats *v = calloc(d->ncpus, sizeof(*v));
	__u32 zero = 0;
	int i;

	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(d->fds[M_STATS], &zero, v))
		return -errno;
	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < d->ncpus; i++) {
		sum->blocklist_drops_total += v[i].blocklist_drops_total;
		sum->ratelimit_drops_total += v[i].ratelimit_drops_total;
		sum->auto_blocked_total += v[i].auto_blocked_total;
		sum->syn_cookies_sent_total += v[i].syn_cookies_sent_total;
		sum->syn_cookies_ok_total += v[i].syn_cookies_ok_total;
		sum->syn_cookies_bad_total += v[i].syn_cookies_bad_total;
		sum->syn_rst_sent_total += v[i].syn_rst_sent_total;
		sum->pod_ratelimit_drops_total += v[i].pod_ratelimit_drops_total;
	}
	return 0;
}

int pw_dos_top_talkers(struct pw_dos *d, struct pw_rl_talker *out, size_t n)
{
	struct pw_rl_key k, *prev = NULL;
	struct pw_rl_talker t;
	size_t cnt = 0, i;

	if (!n)
		return 0;
	while (bpf_map_get_next_key(d->fds[M_RL_SRC], prev, &k) == 0) {
		prev = &k;
		if (bpf_map_lookup_elem(d->fds[M_RL_SRC], &k, &t.b))
			continue;
		t.key = k;
		/* Insertion into a small sorted array: n is a handful. */
		if (cnt == n && t.b.dropped <= out[n - 1].b.dropped)
			continue;
		i = cnt < n ? cnt++ : n - 1;
		while (i > 0 && out[i - 1].b.dropped < t.b.dropped) {
			out[i] = out[i - 1];
			i--;
		}
		out[i] = t;
	}
	return cnt;
}

int pw_dos_syn_list(struct pw_dos *d, struct pw_syn_entry *out, size_t n)
{
	struct pw_syn_key k, *prev = NULL;
	__u64 now = pw_dos_now_ns();
	size_t cnt = 0;

	while (cnt < n && bpf_map_get_next_key(d->fds[M_SYN_RATE], prev, &k) == 0) {
		prev = &k;
		if (bpf_map_lookup_elem(d->fds[M_SYN_RATE], &k, &out[cnt].st))
			continue;
		out[cnt].key = k;
		out[cnt].active = now < out[cnt].st.active_until;
		cnt++;
	}
	return cnt;
}

static int perr(char *errbuf, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int perr(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errbuf && errlen) {
		va_start(ap, fmt);
		vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

struct unit {
	const char *name;
	double mult;
};

/* A positive number followed by one of units (the first entry is the bare number's). */
static int parse_units(const char *what, const char *s, const struct unit *units, size_t nu,
		       __u64 *out, char *errbuf, size_t errlen)
{
	char *end;
	double v, r;
	size_t i;

	if (!s || !*s)
		return perr(errbuf, errlen, "%s: empty value", what);
	if (strchr(s, '-'))
		return perr(errbuf, errlen, "%s: \"%s\": must be positive", what, s);
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v != v)
		return perr(errbuf, errlen, "%s: \"%s\": not a number", what, s);
	for (i = 0; i < nu; i++)
		if (!strcmp(end, units[i].name))
			break;
	if (i == nu)
		return perr(errbuf, errlen, "%s: \"%s\": unknown unit \"%s\"", what, s, end);
	r = v * units[i].mult;
	if (r < 1)
		return perr(errbuf, errlen, "%s: \"%s\": must be at least 1", what, s);
	if (r > 1e15)
		return perr(errbuf, errlen, "%s: \"%s\": too large", what, s);
	*out = (__u64)r;
	return 0;
}

int pw_dos_parse_pps(const char *s, __u64 *out, char *errbuf, size_t errlen)
{
	static const struct unit u[] = {
		{"", 1}, {"pps", 1}, {"k", 1e3}, {"kpps", 1e3}, {"M", 1e6}, {"Mpps", 1e6},
		{"G", 1e9},
	};

	return parse_units("packet rate", s, u, ARRAY_SIZE(u), out, errbuf, errlen);
}

int pw_dos_parse_bandwidth(const char *s, __u64 *out, char *errbuf, size_t errlen)
{
	/* Kubernetes' bandwidth annotations are quantities in bits ("10M"): bare = bits. */
	static const struct unit u[] = {
		{"", 1 / 8.0},	   {"bit", 1 / 8.0}, {"k", 1e3 / 8},   {"kbit", 1e3 / 8},
		{"M", 1e6 / 8},	   {"Mbit", 1e6 / 8}, {"G", 1e9 / 8},   {"Gbit", 1e9 / 8},
		{"B", 1},	   {"kB", 1e3},	     {"MB", 1e6},	{"GB", 1e9},
	};

	return parse_units("bandwidth", s, u, ARRAY_SIZE(u), out, errbuf, errlen);
}

int pw_dos_parse_duration(const char *s, __u64 *ms, char *errbuf, size_t errlen)
{
	static const struct unit u[] = {
		{"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}, {"d", 86400e3},
	};

	if (s && *s && strspn(s, "0123456789.") == strlen(s))
		return perr(errbuf, errlen, "duration: \"%s\": needs a unit (ms, s, m, h, d)", s);
	return parse_units("duration", s, u, ARRAY_SIZE(u), ms, errbuf, errlen);
}

int pw_dos_parse_count(const char *s, __u64 *out, char *errbuf, size_t errlen)
{
	static const struct unit u[] = {{"", 1}, {"k", 1e3}, {"M", 1e6}};
	int err = parse_units("count", s, u, ARRAY_SIZE(u), out, errbuf, errlen);

	if (!err && *out > UINT32_MAX)
		return perr(errbuf, errlen, "count: \"%s\": too large", s);
	return err;
}

int pw_dos_pod_limits_set(struct pw_dos *d, __u32 ep_id, const struct pw_pod_limits *l)
{
	struct pw_pod_bucket_key k = {.ep_id = ep_id};

	if (!ep_id || ep_id >= PW_MAX_ENDPOINTS)
		return -ERANGE;
	/* A new limit starts from a full bucket, not from the old limit's state. */
	for (k.dir = 0; k.dir < PW_DIR_COUNT; k.dir++)
		bpf_map_delete_elem(d->fds[M_POD_BUCKETS], &k);
	if (!l || (!l->dir[0].pps && !l->dir[0].bps && !l->dir[1].pps && !l->dir[1].bps)) {
		if (bpf_map_delete_elem(d->fds[M_POD_LIMITS], &ep_id) && errno != ENOENT)
			return -errno;
		return 0;
	}
	return bpf_map_update_elem(d->fds[M_POD_LIMITS], &ep_id, l, BPF_ANY) ? -errno : 0;
}

int pw_dos_pod_limits_get(struct pw_dos *d, __u32 ep_id, struct pw_pod_limits *l)
{
	return bpf_map_lookup_elem(d->fds[M_POD_LIMITS], &ep_id, l) ? -errno : 0;
}

/*
 * Bursts for limits from annotations, not less than a floor: packets, a tenth
 * of a second's worth; bytes, a quarter of a second's. A policer drops a TCP
 * sender's whole GSO batch (up to 64 KiB) at once: with a tenth of a second a
 * TCP stream through a veth got about half its rate (timeouts after bursts
 * of losses), with a quarter it gets the rate (tests/netns/pod_limits_live).
 */
static void default_bursts(struct pw_rl_limit *l)
{
	__u64 b;

	if (l->pps) {
		b = l->pps / 10;
		l->burst_pkts = b < 16 ? 16 : b > UINT32_MAX ? UINT32_MAX : b;
	}
	if (l->bps) {
		b = l->bps / 4;
		l->burst_bytes = b < 65536 ? 65536 : b > UINT32_MAX ? UINT32_MAX : b;
	}
}

int pw_dos_pod_limits_parse(struct pw_pod_limits *l, const char *const ann[_PW_POD_ANN_MAX],
			    char *errbuf, size_t errlen)
{
	struct pw_pod_limits out = {};
	char msg[160];
	__u64 v;
	int i, err;

	for (i = 0; i < _PW_POD_ANN_MAX; i++) {
		bool bw = i == PW_POD_ANN_INGRESS_BW || i == PW_POD_ANN_EGRESS_BW;
		bool in = i == PW_POD_ANN_INGRESS_BW || i == PW_POD_ANN_INGRESS_PPS;
		int dir = in ? PW_DIR_INGRESS : PW_DIR_EGRESS;

		if (!ann[i])
			continue;
		err = bw ? pw_dos_parse_bandwidth(ann[i], &v, msg, sizeof(msg)) :
			   pw_dos_parse_pps(ann[i], &v, msg, sizeof(msg));
		if (!err && !bw && v > UINT32_MAX)
			err = perr(msg, sizeof(msg), "\"%s\": too large", ann[i]);
		if (err)
			return perr(errbuf, errlen, "%s: %s", pw_dos_pod_ann_name(i), msg);
		if (bw)
			out.dir[dir].bps = v;
		else
			out.dir[dir].pps = v;
	}
	default_bursts(&out.dir[0]);
	default_bursts(&out.dir[1]);
	*l = out;
	return 0;
}

const char *pw_dos_pod_ann_name(int i)
{
	static const char *const names[_PW_POD_ANN_MAX] = {
		[PW_POD_ANN_INGRESS_BW] = "kubernetes.io/ingress-bandwidth",
		[PW_POD_ANN_EGRESS_BW] = "kubernetes.io/egress-bandwidth",
		[PW_POD_ANN_INGRESS_PPS] = "podwall.io/ingress-pps",
		[PW_POD_ANN_EGRESS_PPS] = "podwall.io/egress-pps",
	};

	return i >= 0 && i < _PW_POD_ANN_MAX ? names[i] : NULL;
}

int pw_dos_conn_limit_set(struct pw_dos *d, __u32 ep_id, __u32 max)
{
	if (!ep_id || ep_id >= PW_MAX_ENDPOINTS)
		return -ERANGE;
	return bpf_map_update_elem(d->fds[M_CONN_LIMIT], &ep_id, &max, BPF_ANY) ? -errno : 0;
}

int pw_dos_conn_limit_get(struct pw_dos *d, __u32 ep_id, __u32 *max)
{
	if (ep_id >= PW_MAX_ENDPOINTS)
		return -ERANGE;
	return bpf_map_lookup_elem(d->fds[M_CONN_LIMIT], &ep_id, max) ? -errno : 0;
}

int pw_dos_conn_read(struct pw_dos *d, __u32 ep_id, struct pw_conn_count *c)
{
	struct pw_conn_count *m;

	if (ep_id >= PW_MAX_ENDPOINTS)
		return -ERANGE;
	m = &d->conns[ep_id];
	c->live = __atomic_load_n(&m->live, __ATOMIC_RELAXED);
	c->taken_total = __atomic_load_n(&m->taken_total, __ATOMIC_RELAXED);
	c->released_total = __atomic_load_n(&m->released_total, __ATOMIC_RELAXED);
	c->reclaimed_total = __atomic_load_n(&m->reclaimed_total, __ATOMIC_RELAXED);
	return 0;
}

static __u64 ct_timeout_ns(const struct pw_ct_val *v, __u8 proto, __u32 established_s)
{
	__u32 s;

	/* The datapath's pw_ct_timeout_ns(), with the objects' defaults. */
	if (proto != IPPROTO_TCP)
		s = PW_CT_DEFAULT_OTHER_S;
	else if (v->state == PW_CT_ESTABLISHED)
		s = established_s ?: PW_CT_DEFAULT_ESTABLISHED_S;
	else if (v->state >= PW_CT_FIN_WAIT)
		s = PW_CT_DEFAULT_CLOSE_S;
	else
		s = PW_CT_DEFAULT_SYN_S;
	return (__u64)s * 1000000000ULL;
}

/*
 * Why the count it gives back can never be too large: let S be the slots
 * held when live is read (c0) and D the releases the datapath makes from then
 * to the end of the walk. A pause after reading c0 lets the takes already
 * counted but not yet inserted land in the map (a program run is far
 * shorter). Every slot of S is then either still held when the walk reaches
 * its entry (seen, n), or released meanwhile (in D), or its entry vanished
 * without a release: evicted by the LRU or deleted here, the leak. So
 * c0 - n - D is at most the leak; seeing an entry twice (a walk restarted by
 * a deletion) only makes it smaller. What is missed now is found next time.
 */
int pw_dos_ct_sweep(struct pw_dos *d, const struct pw_ct_sweep_opts *o, struct pw_ct_sweep_result *r)
{
	static __s64 c0[PW_MAX_ENDPOINTS], n[PW_MAX_ENDPOINTS];
	static __u64 d0[PW_MAX_ENDPOINTS];
	_cleanup_free_ struct pw_ct_key *gone = NULL;
	struct pw_ct_key k, next;
	size_t ngone = 0, cap = 0, j;
	struct pw_ct_val v;
	__u64 now;
	bool have = false;
	__u32 i;
	int fd = d->fds[M_CT];

	memset(r, 0, sizeof(*r));
	for (i = 0; i < PW_MAX_ENDPOINTS; i++) {
		c0[i] = __atomic_load_n(&d->conns[i].live, __ATOMIC_SEQ_CST);
		d0[i] = __atomic_load_n(&d->conns[i].released_total, __ATOMIC_SEQ_CST);
		n[i] = 0;
	}
	usleep(2000);
	now = pw_dos_now_ns();
	/* Deleting while walking would restart the walk: collect, then delete. */
	while (bpf_map_get_next_key(fd, have ? &k : NULL, &next) == 0) {
		k = next;
		have = true;
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue;
		r->entries++;
		if (k.ep_id >= PW_MAX_ENDPOINTS || (o && o->ep_known && !o->ep_known[k.ep_id]) ||
		    now - v.last_seen_ns > ct_timeout_ns(&v, k.proto, o ? o->established_s : 0)) {
			if (ngone == cap) {
				struct pw_ct_key *g;

				cap = cap ? cap * 2 : 256;
				g = realloc(gone, cap * sizeof(*gone));
				if (!g)
					return -ENOMEM;
				gone = g;
			}
			gone[ngone++] = k;
			continue;
		}
		if (v.conn_slot)
			n[k.ep_id]++;
	}
	for (j = 0; j < ngone; j++)
		r->deleted += !bpf_map_delete_elem(fd, &gone[j]);
	for (i = 0; i < PW_MAX_ENDPOINTS; i++) {
		__u64 rel = __atomic_load_n(&d->conns[i].released_total, __ATOMIC_SEQ_CST) - d0[i];
		__s64 leak = c0[i] - n[i] - (__s64)rel;

		if (leak <= 0)
			continue;
		__atomic_fetch_sub(&d->conns[i].live, leak, __ATOMIC_SEQ_CST);
		__atomic_fetch_add(&d->conns[i].reclaimed_total, leak, __ATOMIC_SEQ_CST);
		r->reclaimed += leak;
	}
	return 0;
}

int pw_dos_reason_packets(struct pw_dos *d, __u32 ep_id, __u32 reason, __u64 *pkts)
{
	_cleanup_free_ struct pw_counter *v = calloc(d->ncpus, sizeof(*v));
	__u32 dir, idx;
	int i;

	if (!v)
		return -ENOMEM;
	if (ep_id >= PW_MAX_ENDPOINTS || reason >= PW_REASON_SLOTS)
		return -ERANGE;
	*pkts = 0;
	for (dir = 0; dir < PW_DIR_COUNT; dir++) {
		idx = pw_counter_index(ep_id, dir, reason);
		if (bpf_map_lookup_elem(d->fds[M_COUNTERS], &idx, v))
			return -errno;
		for (i = 0; i < d->ncpus; i++)
			*pkts += v[i].packets;
	}
	return 0;
}
