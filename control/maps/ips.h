/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Control of the datapath's IPS maps (podwall/ips_kern_user.h): the sampling
 * settings, the sample ring buffer, the per-flow sampling state the inspector
 * releases, and the flow blocks it writes. Found by their pins, like the DoS
 * maps (maps/dos.h), so the daemon, podwallctl and the tests share one view.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "podwall/ct_kern_user.h"
#include "podwall/ips_kern_user.h"

struct pw_ips_maps;

/** Opens the IPS maps pinned under pin_root (NULL: PW_PIN_ROOT). 0 or -errno. */
int pw_ips_maps_open(struct pw_ips_maps **out, const char *pin_root);
/** NULL-safe; resets *m. */
void pw_ips_maps_free(struct pw_ips_maps **m);

int pw_ips_sample_cfg_read(struct pw_ips_maps *m, struct pw_sample_cfg *c);
int pw_ips_sample_cfg_write(struct pw_ips_maps *m, const struct pw_sample_cfg *c);
/** The pw_samples ring buffer's fd (owned by m). */
int pw_ips_samples_fd(const struct pw_ips_maps *m);

/**
 * pw_ips_flow_block() - blocks the flow whose packets in one direction have
 * tuple k, both directions, for ttl_s seconds (0: until removed). 0 or -errno.
 */
int pw_ips_flow_block(struct pw_ips_maps *m, const struct pw_ips_key *k, __u32 sid, __u32 gid,
		      __u32 ttl_s);
/** Removes both directions' entries; -ENOENT if there were none. */
int pw_ips_flow_unblock(struct pw_ips_maps *m, const struct pw_ips_key *k);
/** Deletes expired flow blocks; returns how many or -errno. */
int pw_ips_flow_sweep(struct pw_ips_maps *m);
/** How many flow blocks exist (live or not yet swept). */
long pw_ips_flow_count(struct pw_ips_maps *m);

/** Calls fn for every flow block (both directions' entries); stops early if fn returns non-zero. */
int pw_ips_flow_foreach(struct pw_ips_maps *m,
			int (*fn)(const struct pw_ips_key *k, const struct pw_ips_val *v, void *ud),
			void *ud);
/** CLOCK_MONOTONIC_COARSE now, in the units of pw_ips_val's times. */
__u64 pw_ips_now_ns(void);

/** Ends the sampling of a held flow (its pw_sample_flows entry); -ENOENT if none. */
int pw_ips_flow_release(struct pw_ips_maps *m, const struct pw_ct_key *k);

/** The reverse direction of a flow key. */
void pw_ips_key_reverse(struct pw_ips_key *out, const struct pw_ips_key *k);
