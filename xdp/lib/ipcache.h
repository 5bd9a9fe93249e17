/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#pragma once

#include "maps.h"

/*
 * The identity of an address: exact host entry first (pods, nodes: O(1)),
 * then the longest ipBlock prefix, else the world.
 */
PW_INLINE void pw_ipcache_lookup(__u8 family, const __u32 *addr, struct pw_ipcache_val *out)
{
	struct pw_host_key hk = {.family = family};
	struct pw_lpm_key lk = {.family = family};
	struct pw_ipcache_val *v;

	__builtin_memcpy(hk.addr, addr, 16);
	v = bpf_map_lookup_elem(&pw_ipcache_host, &hk);
	if (!v) {
		lk.prefixlen = PW_LPM_PREFIX_BASE + (family == PW_AF_INET ? 32 : 128);
		__builtin_memcpy(lk.addr, addr, 16);
		v = bpf_map_lookup_elem(&pw_ipcache, &lk);
	}
	if (v) {
		*out = *v;
	} else {
		out->identity = PW_ID_WORLD;
		out->cidr_identity = 0;
		out->ep_ifindex = 0;
		out->flags = 0;
	}
}

/* Only the exact map: local pods are always host entries. */
PW_INLINE struct pw_ipcache_val *pw_ipcache_host_lookup(__u8 family, const __u32 *addr)
{
	struct pw_host_key hk = {.family = family};

	__builtin_memcpy(hk.addr, addr, 16);
	return bpf_map_lookup_elem(&pw_ipcache_host, &hk);
}
