/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Fixed-width types for the kernel<->user ABI headers. BPF objects get them
 * from vmlinux.h (included first); user space from the UAPI header.
 */
#pragma once

#ifndef __bpf__
#include <linux/types.h>
#endif

#define PW_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)

/* Address families as stored in map keys: not AF_*, which differ per libc. */
#define PW_AF_INET  4
#define PW_AF_INET6 6

/* Direction, always seen from the pod. */
#define PW_DIR_INGRESS 0 /* into the pod: pw_to_pod, pw_node_xdp */
#define PW_DIR_EGRESS  1 /* out of the pod: pw_from_pod */
#define PW_DIR_COUNT   2

/* Endpoint ids index per-endpoint arrays; 0 is "the node / no endpoint". */
#define PW_MAX_ENDPOINTS 256

/* Where maps and programs are pinned. */
#define PW_PIN_ROOT "/sys/fs/bpf/podwall"
