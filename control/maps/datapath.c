// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cleanup.h"
#include "datapath.h"
#include "log.h"
#include "pw_tc.skel.h"
#include "pw_xdp.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

/* Our TC filters: one handle/priority on each clsact hook of a pod's veth. */
#define PW_TC_HANDLE 0x5077 /* "Pw" */
#define PW_TC_PRIO   1

struct pw_datapath {
	char pin_root[PATH_MAX];
	struct pw_tc *tc;
	struct pw_xdp *xdp;
	int map_fds[_PW_MAP_ID_MAX];
	int prog_fds[_PW_PROG_MAX];
	int ncpus;
};

static const char *const prog_names[_PW_PROG_MAX] = {
	[PW_PROG_FROM_POD] = "pw_from_pod",
	[PW_PROG_TO_POD] = "pw_to_pod",
	[PW_PROG_NODE_XDP] = "pw_node_xdp",
};

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* The pin root must live on a bpffs mount, or pins would silently fail. */
static int check_bpffs(const char *pin_root)
{
	struct statfs st;

	if (statfs(pin_root, &st))
		return -errno;
	if ((unsigned long)st.f_type != BPF_FS_MAGIC) {
		pr_err("%s is not on a bpf filesystem; mount one: mount -t bpf bpf /sys/fs/bpf",
		       pin_root);
		return -ENOTSUP;
	}
	return 0;
}

static void configure_rodata(const struct pw_datapath_opts *o, volatile __u8 *allow_host,
			     volatile __u32 *events, volatile __u32 *ct_est)
{
	*allow_host = !o->deny_host;
	if (o->events_per_sec)
		*events = o->events_per_sec;
	if (o->ct_established_s)
		*ct_est = o->ct_established_s;
}

static int pin_prog(struct pw_datapath *dp, struct bpf_program *prog, const char *name)
{
	char path[PATH_MAX + 64];
	int err;

	snprintf(path, sizeof(path), "%s/progs/%s", dp->pin_root, name);
	/* The old pin goes; attachments keep the old program alive until replaced. */
	if (unlink(path) && errno != ENOENT)
		return pr_err_r(-errno, "unpin %s", path);
	err = bpf_program__pin(prog, path);
	if (err)
		return pr_err_r(err, "pin %s", path);
	return 0;
}

int pw_datapath_open(struct pw_datapath **out, const struct pw_datapath_opts *opts)
{
	struct pw_datapath_opts defaults = {};
	struct pw_datapath *dp;
	char progs[PATH_MAX + 8];
	int err;

	if (!opts)
		opts = &defaults;
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	snprintf(dp->pin_root, sizeof(dp->pin_root), "%s", opts->pin_root ?: PW_PIN_ROOT);
	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus <= 0) {
		err = dp->ncpus ?: -EINVAL;
		goto fail;
	}

	err = mkdir_p(dp->pin_root);
	if (err) {
		pr_err_r(err, "create %s", dp->pin_root);
		goto fail;
	}
	err = check_bpffs(dp->pin_root);
	if (err)
		goto fail;
	snprintf(progs, sizeof(progs), "%s/progs", dp->pin_root);
	err = mkdir_p(progs);
	if (err)
		goto fail;

	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = dp->pin_root);

	dp->tc = pw_tc__open_opts(&oo);
	if (!dp->tc) {
		err = pr_err_r(-errno, "open pw_tc object");
		goto fail;
	}
	configure_rodata(opts, &dp->tc->rodata->pw_cfg_allow_host,
			 &dp->tc->rodata->pw_cfg_events_per_sec,
			 &dp->tc->rodata->pw_cfg_ct_established_s);
	/* Loading reuses maps already pinned under pin_root: a restart re-adopts them. */
	err = pw_tc__load(dp->tc);
	if (err) {
		pr_err_r(err, "load pw_tc (pinned maps under %s from an incompatible version?)",
			 dp->pin_root);
		goto fail;
	}
	dp->xdp = pw_xdp__open_opts(&oo);
	if (!dp->xdp) {
		err = pr_err_r(-errno, "open pw_xdp object");
		goto fail;
	}
	configure_rodata(opts, &dp->xdp->rodata->pw_cfg_allow_host,
			 &dp->xdp->rodata->pw_cfg_events_per_sec,
			 &dp->xdp->rodata->pw_cfg_ct_established_s);
	err = pw_xdp__load(dp->xdp);
	if (err) {
		pr_err_r(err, "load pw_xdp");
		goto fail;
	}

	dp->map_fds[PW_MAP_ID_IPCACHE_HOST] = bpf_map__fd(dp->tc->maps.pw_ipcache_host);
	dp->map_fds[PW_MAP_ID_IPCACHE] = bpf_map__fd(dp->tc->maps.pw_ipcache);
	dp->map_fds[PW_MAP_ID_ENDPOINTS] = bpf_map__fd(dp->tc->maps.pw_endpoints);
	dp->map_fds[PW_MAP_ID_POLICY] = bpf_map__fd(dp->tc->maps.pw_policy);
	dp->map_fds[PW_MAP_ID_STATE] = bpf_map__fd(dp->tc->maps.pw_state);
	dp->map_fds[PW_MAP_ID_CT] = bpf_map__fd(dp->tc->maps.pw_ct);
	dp->map_fds[PW_MAP_ID_FRAG] = bpf_map__fd(dp->tc->maps.pw_frag);
	dp->map_fds[PW_MAP_ID_COUNTERS] = bpf_map__fd(dp->tc->maps.pw_counters);
	dp->map_fds[PW_MAP_ID_STATS] = bpf_map__fd(dp->tc->maps.pw_stats);
	dp->map_fds[PW_MAP_ID_EVENTS] = bpf_map__fd(dp->tc->maps.pw_events);
	dp->map_fds[PW_MAP_ID_RULE_HITS] = bpf_map__fd(dp->tc->maps.pw_rule_hits);
	dp->prog_fds[PW_PROG_FROM_POD] = bpf_program__fd(dp->tc->progs.pw_from_pod);
	dp->prog_fds[PW_PROG_TO_POD] = bpf_program__fd(dp->tc->progs.pw_to_pod);
	dp->prog_fds[PW_PROG_NODE_XDP] = bpf_program__fd(dp->xdp->progs.pw_node_xdp);

	err = pin_prog(dp, dp->tc->progs.pw_from_pod, prog_names[PW_PROG_FROM_POD]);
	if (!err)
		err = pin_prog(dp, dp->tc->progs.pw_to_pod, prog_names[PW_PROG_TO_POD]);
	if (!err)
		err = pin_prog(dp, dp->xdp->progs.pw_node_xdp, prog_names[PW_PROG_NODE_XDP]);
	if (err)
		goto fail;

	*out = dp;
	return 0;
fail:
	pw_xdp__destroy(dp->xdp);
	pw_tc__destroy(dp->tc);
	free(dp);
	return err;
}

void pw_datapath_free(struct pw_datapath **dp)
{
	if (!dp || !*dp)
		return;
	/* Destroying a skeleton detaches no TC/XDP attachment made through netlink. */
	pw_xdp__destroy((*dp)->xdp);
	pw_tc__destroy((*dp)->tc);
	free(*dp);
	*dp = NULL;
}

static int rm_tree(const char *path)
{
	struct dirent *de;
	DIR *d = opendir(path);
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		char sub[PATH_MAX];
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (lstat(sub, &st))
			continue;
		if (S_ISDIR(st.st_mode))
			err = rm_tree(sub) ?: err;
		else if (unlink(sub))
			err = -errno;
	}
	closedir(d);
	if (rmdir(path) && errno != ENOENT)
		err = -errno;
	return err;
}

int pw_datapath_unpin(const char *pin_root)
{
	return rm_tree(pin_root ?: PW_PIN_ROOT);
}

const char *pw_datapath_pin_root(const struct pw_datapath *dp)
{
	return dp->pin_root;
}

int pw_datapath_prog_fd(const struct pw_datapath *dp, enum pw_prog prog)
{
	return prog < _PW_PROG_MAX ? dp->prog_fds[prog] : -EINVAL;
}

int pw_datapath_map_fd(const struct pw_datapath *dp, enum pw_map map)
{
	return map < _PW_MAP_ID_MAX ? dp->map_fds[map] : -EINVAL;
}

static int tc_attach_one(int ifindex, enum bpf_tc_attach_point point, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, o, .prog_fd = prog_fd, .handle = PW_TC_HANDLE,
		    .priority = PW_TC_PRIO, .flags = BPF_TC_F_REPLACE);
	int err;

	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return err;
	return bpf_tc_attach(&hook, &o);
}

static int tc_detach_one(int ifindex, enum bpf_tc_attach_point point)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = PW_TC_HANDLE, .priority = PW_TC_PRIO);
	int err = bpf_tc_detach(&hook, &o);

	/* Already gone (or the interface is): the goal is reached. */
	return (err == -ENOENT || err == -ENODEV || err == -EINVAL) ? 0 : err;
}

int pw_datapath_attach_pod(struct pw_datapath *dp, int ifindex)
{
	int err;

	/* The veth's ingress is what the pod sends: its egress policy. */
	err = tc_attach_one(ifindex, BPF_TC_INGRESS, dp->prog_fds[PW_PROG_FROM_POD]);
	if (err)
		return pr_err_r(err, "attach pw_from_pod to ifindex %d", ifindex);
	err = tc_attach_one(ifindex, BPF_TC_EGRESS, dp->prog_fds[PW_PROG_TO_POD]);
	if (err) {
		tc_detach_one(ifindex, BPF_TC_INGRESS);
		return pr_err_r(err, "attach pw_to_pod to ifindex %d", ifindex);
	}
	return 0;
}

int pw_datapath_detach_pod(struct pw_datapath *dp, int ifindex)
{
	int e1, e2;

	(void)dp;
	e1 = tc_detach_one(ifindex, BPF_TC_INGRESS);
	e2 = tc_detach_one(ifindex, BPF_TC_EGRESS);
	return e1 ?: e2;
}

/*
 * 1 if our filter on this hook runs prog_fd's program. Compared by id: opening
 * the attached program by its id would take CAP_SYS_ADMIN, and start-up
 * re-attaches every endpoint, so the hooks run the programs we loaded.
 */
static int tc_has(int ifindex, enum bpf_tc_attach_point point, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = PW_TC_HANDLE, .priority = PW_TC_PRIO);
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int err;

	err = bpf_tc_query(&hook, &o);
	/* No such filter: -ENOENT, or -EINVAL from kernels that answer so for a missing handle. */
	if (err)
		return (err == -ENOENT || err == -EINVAL) ? 0 : err;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	return o.prog_id == info.id;
}

int pw_datapath_pod_attached(struct pw_datapath *dp, int ifindex)
{
	int in, eg;

	in = tc_has(ifindex, BPF_TC_INGRESS, dp->prog_fds[PW_PROG_FROM_POD]);
	if (in <= 0)
		return in;
	eg = tc_has(ifindex, BPF_TC_EGRESS, dp->prog_fds[PW_PROG_TO_POD]);
	return eg;
}

int pw_datapath_attach_uplink(struct pw_datapath *dp, int ifindex, enum pw_xdp_mode mode,
			      enum pw_xdp_mode *used)
{
	int fd = dp->prog_fds[PW_PROG_NODE_XDP], err;

	if (mode != PW_XDP_MODE_SKB) {
		err = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_DRV_MODE, NULL);
		if (!err) {
			if (used)
				*used = PW_XDP_MODE_NATIVE;
			return 0;
		}
		if (mode == PW_XDP_MODE_NATIVE)
			return pr_err_r(err, "attach pw_node_xdp (native) to ifindex %d", ifindex);
		pr_info("ifindex %d: native XDP unavailable (%s), using generic mode", ifindex,
			strerror(-err));
	}
	err = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_SKB_MODE, NULL);
	if (err)
		return pr_err_r(err, "attach pw_node_xdp (generic) to ifindex %d", ifindex);
	if (used)
		*used = PW_XDP_MODE_SKB;
	return 0;
}

int pw_datapath_detach_uplink(struct pw_datapath *dp, int ifindex)
{
	int e1, e2;

	(void)dp;
	e1 = bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	e2 = bpf_xdp_detach(ifindex, XDP_FLAGS_SKB_MODE, NULL);
	return (e1 && e2) ? e1 : 0;
}

static int map_update(struct pw_datapath *dp, enum pw_map m, const void *k, const void *v)
{
	return bpf_map_update_elem(dp->map_fds[m], k, v, BPF_ANY) ? -errno : 0;
}

static int map_delete(struct pw_datapath *dp, enum pw_map m, const void *k)
{
	if (bpf_map_delete_elem(dp->map_fds[m], k))
		return errno == ENOENT ? 0 : -errno;
	return 0;
}

int pw_dp_endpoint_put(struct pw_datapath *dp, __u32 ifindex, const struct pw_endpoint *ep)
{
	if (!ep->ep_id || ep->ep_id >= PW_MAX_ENDPOINTS)
		return -ERANGE;
	return map_update(dp, PW_MAP_ID_ENDPOINTS, &ifindex, ep);
}

int pw_dp_endpoint_get(struct pw_datapath *dp, __u32 ifindex, struct pw_endpoint *ep)
{
	return bpf_map_lookup_elem(dp->map_fds[PW_MAP_ID_ENDPOINTS], &ifindex, ep) ? -errno : 0;
}

int pw_dp_endpoint_del(struct pw_datapath *dp, __u32 ifindex)
{
	return map_delete(dp, PW_MAP_ID_ENDPOINTS, &ifindex);
}

int pw_dp_host_put(struct pw_datapath *dp, const struct pw_host_key *k,
		   const struct pw_ipcache_val *v)
{
	return map_update(dp, PW_MAP_ID_IPCACHE_HOST, k, v);
}

int pw_dp_host_del(struct pw_datapath *dp, const struct pw_host_key *k)
{
	return map_delete(dp, PW_MAP_ID_IPCACHE_HOST, k);
}

int pw_dp_lpm_put(struct pw_datapath *dp, const struct pw_lpm_key *k,
		  const struct pw_ipcache_val *v)
{
	return map_update(dp, PW_MAP_ID_IPCACHE, k, v);
}

int pw_dp_lpm_del(struct pw_datapath *dp, const struct pw_lpm_key *k)
{
	return map_delete(dp, PW_MAP_ID_IPCACHE, k);
}

int pw_dp_policy_build(struct pw_datapath *dp, __u32 ep_id, const struct pw_policy_entry *e,
		       size_t n)
{
	char name[BPF_OBJ_NAME_LEN];
	int fd;

	(void)dp;
	if (!ep_id || ep_id >= PW_MAX_ENDPOINTS)
		return -ERANGE;
	if (n > UINT32_MAX / 2)
		return -E2BIG;
	snprintf(name, sizeof(name), "pw_pol_%u", ep_id);
	/* Same type, sizes and flags as the template; max_entries may differ. */
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, name, sizeof(struct pw_policy_key),
			    sizeof(struct pw_policy_val), n ? n : 1, NULL);
	if (fd < 0)
		return pr_err_r(-errno, "create policy map for endpoint %u (%zu entries)", ep_id,
				n);
	for (size_t i = 0; i < n; i++) {
		if (bpf_map_update_elem(fd, &e[i].key, &e[i].val, BPF_NOEXIST)) {
			int err = -errno;

			close(fd);
			return pr_err_r(err, "fill policy map for endpoint %u, entry %zu", ep_id,
					i);
		}
	}
	return fd;
}

int pw_dp_policy_swap(struct pw_datapath *dp, const __u32 *ep_ids, const int *fds, size_t n,
		      bool *swapped)
{
	int outer = dp->map_fds[PW_MAP_ID_POLICY], ret = 0;
	size_t done = 0;

	/*
	 * Every syscall update of a map-in-map waits for an RCU grace period
	 * (10-20 ms) so that no program still runs on the old inner map when
	 * it returns; a batch waits once for all of its elements. A kernel
	 * without batch updates here (before 5.6) gets one update each.
	 */
	while (done < n) {
		__u32 count = (__u32)(n - done);

		if (!bpf_map_update_batch(outer, ep_ids + done, fds + done, &count, NULL)) {
			for (size_t i = done; i < n; i++)
				swapped[i] = true;
			return ret;
		}
		/* count elements went in before the one that failed. */
		for (size_t i = done; i < done + count && i < n; i++)
			swapped[i] = true;
		done += count;
		if (done >= n)
			break;
		/* One at a time for the failing one (and the rest, if batches are unknown). */
		if (bpf_map_update_elem(outer, &ep_ids[done], &fds[done], BPF_ANY))
			ret = ret ?: pr_err_r(-errno, "install policy map for endpoint %u",
					      ep_ids[done]);
		else
			swapped[done] = true;
		done++;
	}
	return ret;
}

int pw_dp_policy_replace(struct pw_datapath *dp, __u32 ep_id, const struct pw_policy_entry *e,
			 size_t n)
{
	_cleanup_close_ int fd = pw_dp_policy_build(dp, ep_id, e, n);
	bool swapped = false;

	if (fd < 0)
		return fd;
	return pw_dp_policy_swap(dp, &ep_id, &fd, 1, &swapped);
}

int pw_dp_policy_delete(struct pw_datapath *dp, __u32 ep_id)
{
	return map_delete(dp, PW_MAP_ID_POLICY, &ep_id);
}

int pw_dp_epoch_bump(struct pw_datapath *dp, __u32 *epoch)
{
	struct pw_state st = {};
	__u32 zero = 0;
	int fd = dp->map_fds[PW_MAP_ID_STATE];

	if (bpf_map_lookup_elem(fd, &zero, &st))
		return -errno;
	st.policy_epoch++;
	if (bpf_map_update_elem(fd, &zero, &st, BPF_ANY))
		return -errno;
	if (epoch)
		*epoch = st.policy_epoch;
	return 0;
}

int pw_dp_counter_read(struct pw_datapath *dp, __u32 ep_id, __u32 dir, __u32 reason,
		       struct pw_counter *sum)
{
	_cleanup_free_ struct pw_counter *v = calloc(dp->ncpus, sizeof(*v));
	__u32 idx;
	int i;

	if (!v)
		return -ENOMEM;
	if (ep_id >= PW_MAX_ENDPOINTS || dir >= PW_DIR_COUNT || reason >= PW_REASON_SLOTS)
		return -ERANGE;
	idx = pw_counter_index(ep_id, dir, reason);
	if (bpf_map_lookup_elem(dp->map_fds[PW_MAP_ID_COUNTERS], &idx, v))
		return -errno;
	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < dp->ncpus; i++) {
		sum->packets += v[i].packets;
		sum->bytes += v[i].bytes;
	}
	return 0;
}

int pw_dp_rule_hits_read(struct pw_datapath *dp, __u32 cookie, __u64 *sum)
{
	_cleanup_free_ __u64 *v = calloc(dp->ncpus, sizeof(*v));

	if (!v)
		return -ENOMEM;
	if (cookie >= PW_RULE_HITS_MAX)
		return -ERANGE;
	if (bpf_map_lookup_elem(dp->map_fds[PW_MAP_ID_RULE_HITS], &cookie, v))
		return -errno;
	*sum = 0;
	for (int i = 0; i < dp->ncpus; i++)
		*sum += v[i];
	return 0;
}

int pw_dp_rule_hits_clear(struct pw_datapath *dp)
{
	_cleanup_free_ __u64 *zero = calloc(dp->ncpus, sizeof(*zero));

	if (!zero)
		return -ENOMEM;
	for (__u32 c = 0; c < PW_RULE_HITS_MAX; c++)
		if (bpf_map_update_elem(dp->map_fds[PW_MAP_ID_RULE_HITS], &c, zero, BPF_ANY))
			return -errno;
	return 0;
}

int pw_dp_counters_clear(struct pw_datapath *dp, __u32 ep_id)
{
	_cleanup_free_ struct pw_counter *zero = calloc(dp->ncpus, sizeof(*zero));
	__u32 dir, reason, idx;

	if (!zero)
		return -ENOMEM;
	if (ep_id >= PW_MAX_ENDPOINTS)
		return -ERANGE;
	for (dir = 0; dir < PW_DIR_COUNT; dir++) {
		for (reason = 0; reason < PW_REASON_SLOTS; reason++) {
			idx = pw_counter_index(ep_id, dir, reason);
			if (bpf_map_update_elem(dp->map_fds[PW_MAP_ID_COUNTERS], &idx, zero,
						BPF_ANY))
				return -errno;
		}
	}
	return 0;
}

int pw_dp_stats_read(struct pw_datapath *dp, struct pw_stats *sum)
{
	_cleanup_free_ struct pw_stats *v = calloc(dp->ncpus, sizeof(*v));
	__u32 zero = 0;
	int i;

	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(dp->map_fds[PW_MAP_ID_STATS], &zero, v))
		return -errno;
	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < dp->ncpus; i++) {
		sum->events_sent_total += v[i].events_sent_total;
		sum->events_suppressed_total += v[i].events_suppressed_total;
		sum->events_lost_total += v[i].events_lost_total;
		sum->ct_insert_fail_total += v[i].ct_insert_fail_total;
		sum->samples_sent_total += v[i].samples_sent_total;
		sum->samples_suppressed_total += v[i].samples_suppressed_total;
		sum->samples_lost_total += v[i].samples_lost_total;
	}
	return 0;
}

int pw_host_key_parse(struct pw_host_key *k, const char *addr)
{
	memset(k, 0, sizeof(*k));
	if (inet_pton(AF_INET, addr, k->addr) == 1) {
		k->family = PW_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, addr, k->addr) == 1) {
		k->family = PW_AF_INET6;
		return 0;
	}
	return -EINVAL;
}

int pw_lpm_key_parse(struct pw_lpm_key *k, const char *cidr)
{
	struct pw_host_key hk;
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	long plen;
	int max, i;

	if (snprintf(buf, sizeof(buf), "%s", cidr) >= (int)sizeof(buf))
		return -EINVAL;
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (pw_host_key_parse(&hk, buf))
		return -EINVAL;
	max = hk.family == PW_AF_INET ? 32 : 128;
	plen = max;
	if (slash) {
		errno = 0;
		plen = strtol(slash + 1, &end, 10);
		if (errno || *end || end == slash + 1 || plen < 0 || plen > max)
			return -EINVAL;
	}
	memset(k, 0, sizeof(*k));
	k->family = hk.family;
	k->prefixlen = PW_LPM_PREFIX_BASE + plen;
	/* Keep only the prefix bits, as the API server does for non-canonical CIDRs. */
	for (i = 0; i < 16; i++) {
		int bits = plen - i * 8;

		if (bits >= 8)
			k->addr[i] = hk.addr[i];
		else if (bits > 0)
			k->addr[i] = hk.addr[i] & (0xff << (8 - bits));
	}
	return 0;
}
