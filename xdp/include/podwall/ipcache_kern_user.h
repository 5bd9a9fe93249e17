/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ipcache: which identity an address has.
 *
 * Two maps answer one question. pw_ipcache_host is an exact-match hash for
 * single addresses (pod and node IPs: /32 and /128) so that the common case
 * stays O(1) however many pods a cluster has; pw_ipcache is an LPM trie for
 * CIDRs (ipBlock prefixes and their `except` prefixes), consulted only when
 * the hash misses. An address in neither has identity PW_ID_WORLD.
 *
 * An address carries two identities because one address can be matched by
 * label selectors and by ipBlocks at the same time (NetworkPolicy ipBlocks
 * also match pod IPs): `identity` is its label identity (pods) or a reserved
 * one (host, world); `cidr_identity` is the identity of the longest ipBlock
 * prefix containing it (0 if none). Nested prefixes give `except` its exact
 * meaning with one longest-prefix lookup: the compiler allows the identities
 * of the prefixes inside a block and outside its excepts.
 */
#pragma once

#include "types.h"

/* Reserved identities; label and CIDR identities are allocated above them. */
#define PW_ID_ANY	   0		/* policy key wildcard; never an address's identity */
#define PW_ID_HOST	   1		/* this node (its addresses, host-network pods) */
#define PW_ID_WORLD	   2		/* anything the ipcache does not know */
#define PW_ID_REMOTE_NODE  3		/* another node of the cluster */
#define PW_ID_FIRST_LABEL  256		/* first (namespace labels, pod labels) identity */
#define PW_ID_FIRST_CIDR   0x01000000	/* first ipBlock prefix identity */

#define PW_IPCACHE_HOST_MAX 65536
#define PW_IPCACHE_LPM_MAX  65536

/* Key of pw_ipcache_host. Addresses in network byte order; IPv4 in addr[0..3], rest zero. */
struct pw_host_key {
	__u8 family; /* PW_AF_INET or PW_AF_INET6 */
	__u8 pad[3];
	__u8 addr[16];
};
PW_STATIC_ASSERT(sizeof(struct pw_host_key) == 20, "pw_host_key layout");

/*
 * Key of pw_ipcache (LPM trie). prefixlen counts from `family`: the family
 * byte and the padding are always matched, so prefixlen = PW_LPM_PREFIX_BASE
 * + the CIDR's prefix length.
 */
struct pw_lpm_key {
	__u32 prefixlen;
	__u8 family;
	__u8 pad[3];
	__u8 addr[16];
};
PW_STATIC_ASSERT(sizeof(struct pw_lpm_key) == 24, "pw_lpm_key layout");
#define PW_LPM_PREFIX_BASE 32

/* Value of both ipcache maps. */
struct pw_ipcache_val {
	__u32 identity;	     /* label or reserved identity */
	__u32 cidr_identity; /* longest ipBlock prefix containing the address, or 0 */
	__u32 ep_ifindex;    /* host-side ifindex if a local pod (key of pw_endpoints), else 0 */
	__u32 flags;	     /* reserved, 0 */
};
PW_STATIC_ASSERT(sizeof(struct pw_ipcache_val) == 16, "pw_ipcache_val layout");

#define PW_MAP_IPCACHE_HOST "pw_ipcache_host"
#define PW_MAP_IPCACHE	    "pw_ipcache"
