/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What XDP and TC programs differ in, behind one small interface: where the
 * packet bytes are and how long the packet is. Everything in xdp/lib/ past
 * this header works on (data, data_end, len) and never on a context type.
 */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#ifdef PW_BPF_NOINLINE
/* CI builds the helpers as BPF-to-BPF calls too, so both shapes verify. */
#define PW_INLINE static __noinline
#else
#define PW_INLINE static __always_inline
#endif
/* Helpers with more than five arguments: a BPF call passes at most five. */
#define PW_ALWAYS_INLINE static __always_inline

/* TC return codes (linux/pkt_cls.h is a UAPI header that clashes with vmlinux.h). */
#define TC_ACT_OK   0
#define TC_ACT_SHOT 2

/*
 * How much of an skb must be linear for the parser: Ethernet + two VLAN tags
 * + IPv6 + extension headers + an ICMPv6 error quoting IPv6 + ports.
 */
#define PW_PULL_LEN 256

struct pw_buf {
	void *data;
	void *data_end;
	__u32 len; /* whole packet, including any non-linear part */
};

/*
 * Loads a 32-bit context field with one instruction at a fixed offset. Plain
 * C lets clang hoist &ctx->field into a register and reuse it after a helper
 * call, and the verifier refuses any access through a modified ctx pointer.
 */
#define pw_ctx_load(ctx, field)                                                        \
	({                                                                             \
		__u64 ___v;                                                            \
		asm volatile("%0 = *(u32 *)(%1 + %2)"                                  \
			     : "=r"(___v)                                              \
			     : "r"(ctx), "i"(__builtin_offsetof(typeof(*(ctx)), field))); \
		___v;                                                                  \
	})

static __always_inline void pw_buf_from_xdp(struct pw_buf *b, struct xdp_md *ctx)
{
	b->data = (void *)(long)pw_ctx_load(ctx, data);
	b->data_end = (void *)(long)pw_ctx_load(ctx, data_end);
	b->len = b->data_end - b->data;
}

static __always_inline void pw_buf_from_skb(struct pw_buf *b, struct __sk_buff *skb)
{
	__u32 len = pw_ctx_load(skb, len);
	__u32 want = len < PW_PULL_LEN ? len : PW_PULL_LEN;

	/* Headers of locally generated packets can sit in paged data (GSO, zerocopy). */
	if (pw_ctx_load(skb, data_end) - pw_ctx_load(skb, data) < want)
		bpf_skb_pull_data(skb, want);
	b->data = (void *)(long)pw_ctx_load(skb, data);
	b->data_end = (void *)(long)pw_ctx_load(skb, data_end);
	b->len = len;
}
