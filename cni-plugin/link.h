/* SPDX-License-Identifier: GPL-2.0-only */
/* The netlink side of the plugin (libnl): veth peers across namespaces, ifalias. */
#pragma once

#include <net/if.h>

#include "cni.h"

struct pw_link {
	int ifindex;
	int peer_ifindex; /* IFLA_LINK: for a veth, its peer's ifindex in the peer's netns */
	char name[IF_NAMESIZE];
	char kind[16];	 /* "veth", ... ("" when the kernel reports none) */
	char mac[32];	 /* "aa:bb:cc:dd:ee:ff" or "" */
	char ifalias[PW_CNI_IFALIAS_MAX];
};

/**
 * pw_link_get() - describe a link of the current network namespace.
 * @ifindex: its index, or 0 to look it up by @name.
 * Return: 0, -ENODEV when there is no such link, or another -errno.
 */
int pw_link_get(int ifindex, const char *name, struct pw_link *out);

/**
 * pw_link_get_in_netns() - pw_link_get() inside the network namespace at
 * @netns_path (e.g. /run/netns/x or /proc/PID/ns/net), returning to the
 * caller's namespace before it returns.
 * Return: 0, -ENOENT when the namespace is gone, -ENODEV, or another -errno.
 */
int pw_link_get_in_netns(const char *netns_path, const char *name, struct pw_link *out);

/* Sets (or with "" clears) the ifalias of @ifindex. Return: 0 or -errno. */
int pw_link_set_ifalias(int ifindex, const char *alias);
