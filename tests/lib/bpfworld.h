/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The private world of a BPF_PROG_TEST_RUN program: root, BTF and bpffs
 * checked (the whole program skips with the reason otherwise), a network
 * namespace of its own, and veths in it to stand for pod interfaces; or,
 * for live tests, a private node whose pods the CNI plugins wire.
 * Include it from a file built with _GNU_SOURCE (unshare()).
 */
#pragma once
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "log.h"
#include "pod.h"
#include "test.h"

#define PW_TEST_BPFFS_MAGIC 0xcafe4a11

static inline void pw_test_require_bpffs(void)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) || st.f_type != PW_TEST_BPFFS_MAGIC)
		pw_test_skip_all("bpffs not mounted on /sys/fs/bpf");
}

static inline void pw_test_log_init(void)
{
	pw_log_set_level(getenv("V") ? PW_LOG_DEBUG : PW_LOG_WARN);
	pw_log_libbpf_init();
}

static inline void pw_test_bpf_world(void)
{
	pw_test_require_root();
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		pw_test_skip_all("kernel without BTF");
	pw_test_require_bpffs();
	if (unshare(CLONE_NEWNET))
		pw_test_skip_all("cannot create a network namespace");
	pw_test_log_init();
}

/* A live test's world: a private node (pw_test_node_enter()) whose pods the real ptp plugin wires. */
static inline void pw_test_live_world(void)
{
	pw_test_require_root();
	if (access("/usr/lib/cni/ptp", X_OK))
		pw_test_skip_all("containernetworking-plugins not installed (/usr/lib/cni/ptp)");
	pw_test_require_bpffs();
	if (pw_test_node_enter())
		pw_test_skip_all("cannot create private network/mount namespaces");
	pw_test_log_init();
}

/* A veth (not dummy: container kernels often lack that module), up; its ifindex. */
static inline int pw_test_veth(const char *name)
{
	char cmd[160];
	int ifindex;

	snprintf(cmd, sizeof(cmd), "ip link add %s type veth peer name %s-p && ip link set %s up",
		 name, name, name);
	ifindex = system(cmd) ? 0 : (int)if_nametoindex(name);
	if (ifindex <= 0)
		pw_test_skip_all("cannot create veth interfaces (ip link)");
	return ifindex;
}
