// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "cleanup.h"
#include "ips.h"
#include "log.h"

enum {
	M_SAMPLES,
	M_CFG,
	M_FLOWS,
	M_IPS_FLOWS,
	M_IPS_USED,
	_M_MAX,
};

static const char *const map_names[_M_MAX] = {
	[M_SAMPLES] = PW_MAP_SAMPLES,	    [M_CFG] = PW_MAP_SAMPLE_CFG,
	[M_FLOWS] = PW_MAP_SAMPLE_FLOWS,    [M_IPS_FLOWS] = PW_MAP_IPS_FLOWS,
	[M_IPS_USED] = PW_MAP_IPS_USED,
};

struct pw_ips_maps {
	int fds[_M_MAX];
};

void pw_ips_maps_free(struct pw_ips_maps **m)
{
	if (!m || !*m)
		return;
	for (int i = 0; i < _M_MAX; i++)
		if ((*m)->fds[i] >= 0)
			close((*m)->fds[i]);
	free(*m);
	*m = NULL;
}

int pw_ips_maps_open(struct pw_ips_maps **out, const char *pin_root)
{
	_cleanup_free_ struct pw_ips_maps *m = calloc(1, sizeof(*m));
	char path[PATH_MAX];
	int i, err;

	if (!m)
		return -ENOMEM;
	for (i = 0; i < _M_MAX; i++)
		m->fds[i] = -1;
	for (i = 0; i < _M_MAX; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_root ?: PW_PIN_ROOT, map_names[i]);
		m->fds[i] = bpf_obj_get(path);
		if (m->fds[i] < 0) {
			err = pr_err_r(-errno, "open %s (is the datapath loaded?)", path);
			pw_ips_maps_free(&m);
			return err;
		}
	}
	*out = TAKE_PTR(m);
	return 0;
}

int pw_ips_sample_cfg_read(struct pw_ips_maps *m, struct pw_sample_cfg *c)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(m->fds[M_CFG], &zero, c) ? -errno : 0;
}

int pw_ips_sample_cfg_write(struct pw_ips_maps *m, const struct pw_sample_cfg *c)
{
	__u32 zero = 0;

	return bpf_map_update_elem(m->fds[M_CFG], &zero, c, BPF_ANY) ? -errno : 0;
}

int pw_ips_samples_fd(const struct pw_ips_maps *m)
{
	return m->fds[M_SAMPLES];
}

__u64 pw_ips_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void pw_ips_key_reverse(struct pw_ips_key *out, const struct pw_ips_key *k)
{
	struct pw_ips_key r = *k;

	r.sport = k->dport;
	r.dport = k->sport;
	memcpy(r.saddr, k->daddr, 16);
	memcpy(r.daddr, k->saddr, 16);
	r.pad = 0;
	*out = r;
}

int pw_ips_flow_block(struct pw_ips_maps *m, const struct pw_ips_key *k, __u32 sid, __u32 gid,
		      __u32 ttl_s)
{
	__u64 now = pw_ips_now_ns();
	struct pw_ips_val v = {
		.expires_ns = ttl_s ? now + (__u64)ttl_s * 1000000000ULL : 0,
		.added_ns = now,
		.sid = sid,
		.gid = gid,
	};
	struct pw_ips_key fwd = *k, rev;
	__u32 zero = 0, one = 1;

	fwd.pad = 0;
	pw_ips_key_reverse(&rev, &fwd);
	if (bpf_map_update_elem(m->fds[M_IPS_FLOWS], &fwd, &v, BPF_ANY) ||
	    bpf_map_update_elem(m->fds[M_IPS_FLOWS], &rev, &v, BPF_ANY))
		return -errno;
	/* After the entries: a packet that sees the flag finds them. */
	return bpf_map_update_elem(m->fds[M_IPS_USED], &zero, &one, BPF_ANY) ? -errno : 0;
}

int pw_ips_flow_unblock(struct pw_ips_maps *m, const struct pw_ips_key *k)
{
	struct pw_ips_key fwd = *k, rev;
	int n = 0;

	fwd.pad = 0;
	pw_ips_key_reverse(&rev, &fwd);
	n += !bpf_map_delete_elem(m->fds[M_IPS_FLOWS], &fwd);
	n += !bpf_map_delete_elem(m->fds[M_IPS_FLOWS], &rev);
	return n ? 0 : -ENOENT;
}

int pw_ips_flow_sweep(struct pw_ips_maps *m)
{
	struct pw_ips_key k, next, *prev = NULL;
	__u64 now = pw_ips_now_ns();
	struct pw_ips_val v;
	int n = 0;

	/* Deleting the current key restarts no walk: get_next_key of a gone key gives the first. */
	while (!bpf_map_get_next_key(m->fds[M_IPS_FLOWS], prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(m->fds[M_IPS_FLOWS], &k, &v))
			continue;
		if (v.expires_ns && now >= v.expires_ns &&
		    !bpf_map_delete_elem(m->fds[M_IPS_FLOWS], &k)) {
			n++;
			prev = NULL;
		}
	}
	return n;
}

long pw_ips_flow_count(struct pw_ips_maps *m)
{
	struct pw_ips_key k, next, *prev = NULL;
	long n = 0;

	while (!bpf_map_get_next_key(m->fds[M_IPS_FLOWS], prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

int pw_ips_flow_release(struct pw_ips_maps *m, const struct pw_ct_key *k)
{
	return bpf_map_delete_elem(m->fds[M_FLOWS], k) ? -errno : 0;
}

int pw_ips_flow_foreach(struct pw_ips_maps *m,
			int (*fn)(const struct pw_ips_key *k, const struct pw_ips_val *v, void *ud),
			void *ud)
{
	struct pw_ips_key k, next, *prev = NULL;
	struct pw_ips_val v;
	int r;

	while (!bpf_map_get_next_key(m->fds[M_IPS_FLOWS], prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(m->fds[M_IPS_FLOWS], &k, &v))
			continue;
		r = fn(&k, &v, ud);
		if (r)
			return r;
	}
	return 0;
}
