// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "cleanup.h"
#include "link.h"
#include "log.h"

static void nl_sock_freep(struct nl_sock **sk)
{
	if (*sk)
		nl_socket_free(*sk);
}

static void link_putp(struct rtnl_link **l)
{
	if (*l)
		rtnl_link_put(*l);
}

/* libnl speaks its own NLE_* codes; the plugin speaks -errno. */
static int nl2errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:
		return -ENODEV;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_RANGE:
		return -ERANGE;
	default:
		return -EIO;
	}
}

static int open_rtnl(struct nl_sock **out)
{
	struct nl_sock *sk = nl_socket_alloc();
	int err;

	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err < 0) {
		nl_socket_free(sk);
		return nl2errno(err);
	}
	*out = sk;
	return 0;
}

int pw_link_get(int ifindex, const char *name, struct pw_link *out)
{
	_cleanup_(nl_sock_freep) struct nl_sock *sk = NULL;
	_cleanup_(link_putp) struct rtnl_link *l = NULL;
	struct nl_addr *addr;
	const char *s;
	int err;

	err = open_rtnl(&sk);
	if (err)
		return err;
	err = rtnl_link_get_kernel(sk, ifindex, ifindex ? NULL : name, &l);
	if (err < 0)
		return nl2errno(err);
	memset(out, 0, sizeof(*out));
	out->ifindex = rtnl_link_get_ifindex(l);
	out->peer_ifindex = rtnl_link_get_link(l);
	snprintf(out->name, sizeof(out->name), "%s", rtnl_link_get_name(l) ?: "");
	s = rtnl_link_get_type(l);
	snprintf(out->kind, sizeof(out->kind), "%s", s ?: "");
	s = rtnl_link_get_ifalias(l);
	snprintf(out->ifalias, sizeof(out->ifalias), "%s", s ?: "");
	addr = rtnl_link_get_addr(l);
	if (addr && nl_addr_get_len(addr) == 6)
		nl_addr2str(addr, out->mac, sizeof(out->mac));
	return 0;
}

int pw_link_get_in_netns(const char *netns_path, const char *name, struct pw_link *out)
{
	_cleanup_close_ int self = -1, ns = -1;
	int err, err2 = 0;

	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	ns = open(netns_path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return -errno;
	/* EINVAL here: the path exists but is no network namespace. */
	if (setns(ns, CLONE_NEWNET) < 0)
		return -errno;
	/* A netlink socket stays in the namespace it was created in: query, then go back. */
	err = pw_link_get(0, name, out);
	if (setns(self, CLONE_NEWNET) < 0)
		err2 = pr_err_r(-errno, "cannot return to the plugin's network namespace");
	return err2 ?: err;
}

int pw_link_set_ifalias(int ifindex, const char *alias)
{
	_cleanup_(nl_sock_freep) struct nl_sock *sk = NULL;
	_cleanup_(link_putp) struct rtnl_link *orig = NULL, *change = NULL;
	int err;

	err = open_rtnl(&sk);
	if (err)
		return err;
	err = rtnl_link_get_kernel(sk, ifindex, NULL, &orig);
	if (err < 0)
		return nl2errno(err);
	change = rtnl_link_alloc();
	if (!change)
		return -ENOMEM;
	/* An empty IFLA_IFALIAS is how the kernel clears an alias. */
	rtnl_link_set_ifalias(change, alias);
	err = rtnl_link_change(sk, orig, change, 0);
	if (err < 0)
		return nl2errno(err);
	return 0;
}
