/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * DoS guards of the node uplink: blocklist, per-source token buckets with
 * auto-blocklisting, and the SYN-flood guard (SYN cookies answered from XDP).
 * Map layouts and the meaning of each field: podwall/dos_kern_user.h.
 *
 * Buckets live in shared LRU maps updated without locks: two CPUs refilling
 * the same source at once can admit a few packets more than the limit, which
 * is the price of not serialising every packet of a flood on one lock.
 */
#pragma once

#include "ct.h"
#include "maps.h"
#include "metrics.h"
#include "parse.h"

#define PW_DOS_AUTO_TTL_S     300
#define PW_DOS_VERIFIED_TTL_S 600

PW_INLINE struct pw_dos_stats *pw_dos_stats_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&pw_dos_stats, &zero);
}

PW_INLINE int pw_bl_live(struct pw_bl_val *v, __u64 now)
{
	return !v->expires_ns || now < v->expires_ns;
}

PW_INLINE int pw_bl_verdict(const struct pw_bl_val *v)
{
	if (v->flags & PW_BL_F_EXEMPT)
		return -1;
	return v->owner == PW_BL_OWNER_IPS ? 2 : 1;
}

/*
 * Is the source blocklisted (1, or 2 by the IPS), exempt (-1) or neither (0)? The exact entry
 * decides when there is a live one (an exempt entry overrides any prefix);
 * else the longest prefix.
 */
PW_INLINE int pw_dos_blocklisted(__u8 family, const __u32 *saddr, __u64 now)
{
	struct pw_host_key hk = {.family = family};
	struct pw_lpm_key lk = {.family = family};
	__u32 exact = PW_BL_USED_EXACT, prefix = PW_BL_USED_PREFIX;
	__u32 *used_exact = bpf_map_lookup_elem(&pw_bl_used, &exact);
	__u32 *used_prefix = bpf_map_lookup_elem(&pw_bl_used, &prefix);
	struct pw_bl_val *v = NULL;

	/* A blocklist that never held an entry costs no lookup (see pw_bl_used). */
	__builtin_memcpy(hk.addr, saddr, 16);
	if (!used_exact || *used_exact)
		v = bpf_map_lookup_elem(&pw_blocklist, &hk);
	if (v) {
		if (pw_bl_live(v, now))
			return pw_bl_verdict(v);
		/* Expired: gone for good, so later packets skip straight to the trie. */
		bpf_map_delete_elem(&pw_blocklist, &hk);
	}
	if (used_prefix && !*used_prefix)
		return 0;
	lk.prefixlen = PW_LPM_PREFIX_BASE + (family == PW_AF_INET ? 32 : 128);
	__builtin_memcpy(lk.addr, saddr, 16);
	v = bpf_map_lookup_elem(&pw_blocklist_lpm, &lk);
	/* Expired prefixes stay until the control plane sweeps them (the key is not known here). */
	if (!v || !pw_bl_live(v, now))
		return 0;
	return pw_bl_verdict(v);
}

/* Refills one dimension of a bucket: tokens scaled by PW_RL_SCALE, capped at burst. */
PW_INLINE __u64 pw_rl_refill(__u64 tokens, __u64 rate, __u64 burst, __u64 elapsed)
{
	__u64 cap = burst * PW_RL_SCALE;

	/* Past the time to fill an empty bucket it is full; below it, elapsed * rate < cap. */
	if (elapsed >= cap / rate)
		return cap;
	tokens += elapsed * rate;
	return tokens < cap ? tokens : cap;
}

PW_INLINE __u64 pw_rl_burst_pkts(const struct pw_rl_limit *l)
{
	return l->burst_pkts ?: l->pps;
}

PW_INLINE __u64 pw_rl_burst_bytes(const struct pw_rl_limit *l)
{
	__u64 b = l->burst_bytes ?: l->bps;

	return b < 0xffffffffULL ? b : 0xffffffffULL; /* keeps burst * 1e9 inside 64 bits */
}

/*
 * Refills b for now, then takes pkts packets of len bytes in all (more than
 * one for a GSO batch). Returns 1 if over the limit.
 */
PW_INLINE int pw_rl_take(struct pw_rl_bucket *b, const struct pw_rl_limit *l, __u32 len,
			 __u32 pkts, __u64 now)
{
	__u64 elapsed = now > b->last_ns ? now - b->last_ns : 0;
	__u64 cost = (__u64)len * PW_RL_SCALE, pcost = (__u64)pkts * PW_RL_SCALE;

	b->last_ns = now;
	if (l->pps)
		b->pkt_tokens = pw_rl_refill(b->pkt_tokens, l->pps, pw_rl_burst_pkts(l), elapsed);
	if (l->bps)
		b->byte_tokens =
			pw_rl_refill(b->byte_tokens, l->bps, pw_rl_burst_bytes(l), elapsed);
	if ((l->pps && b->pkt_tokens < pcost) || (l->bps && b->byte_tokens < cost))
		return 1;
	if (l->pps)
		b->pkt_tokens -= pcost;
	if (l->bps)
		b->byte_tokens -= cost;
	return 0;
}

/* Masks addr to prefix bits (IPv4 in word 0). */
PW_INLINE void pw_mask_addr(__u32 *a, __u8 family, __u8 prefix)
{
	if (family == PW_AF_INET) {
		if (prefix < 32)
			a[0] &= bpf_htonl(~0U << (32 - prefix));
		return;
	}
	if (prefix <= 64) {
		/* /64 is the only coarser IPv6 granularity offered. */
		a[2] = 0;
		a[3] = 0;
	}
}

/* A source over its limit for cfg->auto_block_ms goes on the blocklist with an expiry. */
PW_INLINE void pw_rl_auto_block(const struct pw_rl_key *k, __u8 prefix,
				const struct pw_dos_cfg *cfg, __u64 now)
{
	__u32 ttl = cfg->auto_block_ttl_s ?: PW_DOS_AUTO_TTL_S;
	struct pw_bl_val v = {
		.expires_ns = now + (__u64)ttl * 1000000000ULL,
		.added_ns = now,
		.owner = PW_BL_OWNER_AUTO,
	};
	struct pw_dos_stats *st;
	int err;

	if ((k->family == PW_AF_INET && prefix >= 32) ||
	    (k->family == PW_AF_INET6 && prefix > 64)) {
		struct pw_host_key hk = {.family = k->family};
		__u32 idx = PW_BL_USED_EXACT, *used = bpf_map_lookup_elem(&pw_bl_used, &idx);

		if (used)
			*used = 1;

		__builtin_memcpy(hk.addr, k->addr, 16);
		/* NOEXIST: never shorten or relabel an operator's or the IPS's entry. */
		err = bpf_map_update_elem(&pw_blocklist, &hk, &v, BPF_NOEXIST);
	} else {
		struct pw_lpm_key lk = {.family = k->family};
		__u32 idx = PW_BL_USED_PREFIX, *used = bpf_map_lookup_elem(&pw_bl_used, &idx);

		if (used)
			*used = 1;
		lk.prefixlen = PW_LPM_PREFIX_BASE + prefix;
		__builtin_memcpy(lk.addr, k->addr, 16);
		err = bpf_map_update_elem(&pw_blocklist_lpm, &lk, &v, BPF_NOEXIST);
	}
	st = pw_dos_stats_get();
	if (!err && st)
		st->auto_blocked_total++;
}

/*
 * Per-source rate limit for a packet toward endpoint ep_id (0 if not a local
 * pod). Returns 1 if the packet is over its source's limit.
 */
PW_INLINE int pw_dos_ratelimit(const struct pw_flow *f, __u32 ep_id, __u32 len,
			       const struct pw_dos_cfg *cfg, __u64 now)
{
	const struct pw_rl_limit *l = &cfg->def;
	struct pw_rl_key k = {.family = f->family};
	struct pw_rl_bucket *b, nb = {};
	struct pw_rl_limit *ov = NULL;
	__u8 prefix;

	if (ep_id)
		ov = bpf_map_lookup_elem(&pw_rl_pod, &ep_id);
	if (ov) {
		l = ov;
		k.ep_id = ep_id;
	}
	if (!l->pps && !l->bps)
		return 0;
	if (f->family == PW_AF_INET)
		prefix = cfg->src_prefix4 && cfg->src_prefix4 < 32 ? cfg->src_prefix4 : 32;
	else
		prefix = cfg->src_prefix6 && cfg->src_prefix6 <= 64 ? 64 : 128;
	__builtin_memcpy(k.addr, f->t.saddr, 16);
	pw_mask_addr((__u32 *)k.addr, f->family, prefix);

	b = bpf_map_lookup_elem(&pw_rl_src, &k);
	if (!b) {
		/* A new source starts with a full bucket. */
		nb.last_ns = now;
		nb.pkt_tokens = pw_rl_burst_pkts(l) * PW_RL_SCALE;
		nb.byte_tokens = pw_rl_burst_bytes(l) * PW_RL_SCALE;
		b = &nb;
	}
	if (!pw_rl_take(b, l, len, 1, now)) {
		b->passed++;
		if (b == &nb)
			bpf_map_update_elem(&pw_rl_src, &k, &nb, BPF_NOEXIST);
		return 0;
	}
	b->dropped++;
	if (!b->over_since_ns || now - b->last_drop_ns > PW_RL_QUIET_NS)
		b->over_since_ns = now;
	b->last_drop_ns = now;
	if (cfg->auto_block_ms &&
	    now - b->over_since_ns >= (__u64)cfg->auto_block_ms * 1000000ULL) {
		pw_rl_auto_block(&k, prefix, cfg, now);
		b->over_since_ns = 0;
	}
	if (b == &nb)
		bpf_map_update_elem(&pw_rl_src, &k, &nb, BPF_NOEXIST);
	return 1;
}

PW_INLINE struct pw_dos_cfg *pw_dos_cfg_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&pw_dos_cfg, &zero);
}

/*
 * The first two guards as global functions, verified once and with their own
 * stack frames: inlined, their keys and buckets pushed the uplink program
 * past the 512-byte combined stack limit together with pw_decide.
 * Each returns the drop reason, or 0 to continue.
 */
__noinline int pw_dos_blocklist_check(struct pw_flow *f)
{
	int r;

	if (!f || f->neigh)
		return 0;
	r = pw_dos_blocklisted(f->family, f->t.saddr, bpf_ktime_get_coarse_ns());
	if (r > 0)
		return r == 2 ? PW_REASON_DROP_IPS_BLOCKED : PW_REASON_DROP_BLOCKLISTED;
	/* Exempt sources (trusted peers: the API server, storage) skip the limits too. */
	return r < 0 ? -1 : 0;
}

__noinline int pw_dos_ratelimit_check(struct pw_flow *f, __u32 ep_id, __u32 len)
{
	struct pw_dos_cfg *cfg = pw_dos_cfg_get();

	if (!f || f->neigh || !cfg || !(cfg->flags & PW_DOS_F_ENABLED))
		return 0;
	if (pw_dos_ratelimit(f, ep_id, len, cfg, bpf_ktime_get_coarse_ns()))
		return PW_REASON_DROP_RATE_LIMITED;
	return 0;
}

/*
 * A pod's own limit in direction dir (podwall/dos_kern_user.h): 1 if the
 * packet (segs segments of len bytes in all, as on the wire) is over it. A
 * global function: the TC programs' stack is already spent on pw_decide.
 */
__noinline int pw_pod_ratelimit_check(__u32 ep_id, __u32 dir, __u32 len, __u32 segs)
{
	struct pw_pod_bucket_key k = {.ep_id = ep_id, .dir = dir};
	struct pw_rl_bucket *b, nb = {};
	struct pw_pod_limits *pl;
	struct pw_rl_limit *l;
	struct pw_dos_stats *ds;
	__u64 now;

	pl = bpf_map_lookup_elem(&pw_pod_limits, &ep_id);
	if (!pl)
		return 0;
	/* Constant offsets: a computed index into the value needs bounds the verifier loses. */
	l = dir == PW_DIR_EGRESS ? &pl->dir[PW_DIR_EGRESS] : &pl->dir[PW_DIR_INGRESS];
	if (!l->pps && !l->bps)
		return 0;
	now = bpf_ktime_get_coarse_ns();
	b = bpf_map_lookup_elem(&pw_pod_buckets, &k);
	if (!b) {
		nb.last_ns = now;
		nb.pkt_tokens = pw_rl_burst_pkts(l) * PW_RL_SCALE;
		nb.byte_tokens = pw_rl_burst_bytes(l) * PW_RL_SCALE;
		if (bpf_map_update_elem(&pw_pod_buckets, &k, &nb, BPF_NOEXIST) &&
		    bpf_map_update_elem(&pw_pod_buckets, &k, &nb, BPF_ANY))
			return 0;
		b = bpf_map_lookup_elem(&pw_pod_buckets, &k);
		if (!b)
			return 0;
	}
	if (!pw_rl_take(b, l, len, segs ?: 1, now)) {
		b->passed++;
		return 0;
	}
	b->dropped++;
	ds = pw_dos_stats_get();
	if (ds)
		ds->pod_ratelimit_drops_total++;
	return 1;
}

/*
 * SYN-flood guard. Packets are copied to the stack before the helpers see
 * them: the syncookie helpers take read-only memory of a size the verifier
 * knows, and a variable-length TCP header in packet memory would need a
 * bounds proof for its largest size (60 bytes), refusing short SYNs.
 */
#define PW_ETH_HLEN 14
#define PW_TCP_OPT_MSS 2

struct pw_syn_hdrs {
	/* The reply pw_syn_reply() writes. */
	__u32 r_seq;
	__u32 r_ack;
	__u16 r_mss; /* 0: no MSS option */
	__u8 r_flags;
	__u8 family;
	struct ethhdr eth;
	__u8 pad[2];
	union {
		struct iphdr ip4;
		struct ipv6hdr ip6;
	};
	union {
		struct tcphdr th;
		__u8 tbuf[60];
	};
};

/* Per-CPU scratch for the guard's header copies: too big for the shared 512-byte stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_syn_hdrs);
} pw_syn_scratch SEC(".maps");

PW_INLINE __u16 pw_csum_fold(__s64 sum)
{
	__u64 s = (__u32)sum;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return ~s;
}

/*
 * Turns the packet into a reply to h (addresses, ports swapped) carrying
 * h->r_flags, r_seq and r_ack, with an MSS option if r_mss != 0, and returns
 * XDP_TX; or XDP_DROP if the packet cannot be resized. A global function of
 * its own so that its frame does not add to the guard's.
 */
__noinline int pw_syn_reply(struct xdp_md *ctx, struct pw_syn_hdrs *h)
{
	struct {
		struct tcphdr th;
		__u8 opt[4];
	} t = {};
	struct ethhdr eth;
	__u32 tlen, l3len, len, seq, ack;
	__u8 family, flags;
	__u16 mss;
	__s64 sum;
	int err;

	if (!h)
		return XDP_DROP;
	seq = h->r_seq;
	ack = h->r_ack;
	mss = h->r_mss;
	flags = h->r_flags;
	family = h->family;
	tlen = mss ? 24 : 20;

	__builtin_memcpy(eth.h_dest, h->eth.h_source, 6);
	__builtin_memcpy(eth.h_source, h->eth.h_dest, 6);
	eth.h_proto = h->eth.h_proto;
	t.th.source = h->th.dest;
	t.th.dest = h->th.source;
	t.th.seq = bpf_htonl(seq);
	t.th.ack_seq = bpf_htonl(ack);
	((__u8 *)&t.th)[12] = (tlen / 4) << 4;
	((__u8 *)&t.th)[13] = flags;
	t.th.window = flags & PW_TCP_RST ? 0 : bpf_htons(65535);
	if (mss) {
		t.opt[0] = PW_TCP_OPT_MSS;
		t.opt[1] = 4;
		t.opt[2] = mss >> 8;
		t.opt[3] = mss & 0xff;
	}

	if (family == PW_AF_INET) {
		struct iphdr ip = {};
		struct {
			__be32 s, d;
			__u8 zero, proto;
			__be16 len;
		} ph;

		l3len = sizeof(ip);
		ip.version = 4;
		ip.ihl = 5;
		ip.tot_len = bpf_htons(sizeof(ip) + tlen);
		ip.frag_off = bpf_htons(0x4000); /* DF */
		ip.ttl = 64;
		ip.protocol = PW_IPPROTO_TCP;
		ip.saddr = h->ip4.daddr;
		ip.daddr = h->ip4.saddr;
		ip.check = pw_csum_fold(bpf_csum_diff(NULL, 0, (__be32 *)&ip, sizeof(ip), 0));
		ph.s = ip.saddr;
		ph.d = ip.daddr;
		ph.zero = 0;
		ph.proto = PW_IPPROTO_TCP;
		ph.len = bpf_htons(tlen);
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&t, tlen & 0x1c, sum);
		t.th.check = pw_csum_fold(sum);
		len = PW_ETH_HLEN + l3len + tlen;
		err = bpf_xdp_adjust_tail(ctx, (int)len - (int)(pw_ctx_load(ctx, data_end) -
								   pw_ctx_load(ctx, data)));
		if (err)
			return XDP_DROP;
		if (bpf_xdp_store_bytes(ctx, PW_ETH_HLEN, &ip, sizeof(ip)))
			return XDP_DROP;
	} else {
		struct ipv6hdr ip6 = {};
		struct {
			struct in6_addr s, d;
			__be32 len;
			__u8 zero[3];
			__u8 proto;
		} ph = {};

		l3len = sizeof(ip6);
		ip6.version = 6;
		ip6.payload_len = bpf_htons(tlen);
		ip6.nexthdr = PW_IPPROTO_TCP;
		ip6.hop_limit = 64;
		ip6.saddr = h->ip6.daddr;
		ip6.daddr = h->ip6.saddr;
		ph.s = ip6.saddr;
		ph.d = ip6.daddr;
		ph.len = bpf_htonl(tlen);
		ph.proto = PW_IPPROTO_TCP;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&t, tlen & 0x1c, sum);
		t.th.check = pw_csum_fold(sum);
		len = PW_ETH_HLEN + l3len + tlen;
		err = bpf_xdp_adjust_tail(ctx, (int)len - (int)(pw_ctx_load(ctx, data_end) -
								   pw_ctx_load(ctx, data)));
		if (err)
			return XDP_DROP;
		if (bpf_xdp_store_bytes(ctx, PW_ETH_HLEN, &ip6, sizeof(ip6)))
			return XDP_DROP;
	}
	if (bpf_xdp_store_bytes(ctx, 0, &eth, sizeof(eth)) ||
	    bpf_xdp_store_bytes(ctx, PW_ETH_HLEN + l3len, &t, tlen & 0x1c))
		return XDP_DROP;
	return XDP_TX;
}

PW_INLINE int pw_syn_verified_src(__u8 family, const __u32 *saddr, __u64 now)
{
	struct pw_host_key hk = {.family = family};
	__u64 *exp;

	__builtin_memcpy(hk.addr, saddr, 16);
	exp = bpf_map_lookup_elem(&pw_syn_verified, &hk);
	return exp && now < *exp;
}

/* Counts a packet the guard consumed: under rate-limited, as the SYN rate was exceeded. */
PW_INLINE void pw_syn_count(__u32 len)
{
	pw_count(0, PW_DIR_INGRESS, PW_REASON_DROP_RATE_LIMITED, len);
}

/*
 * The SYN guard for a TCP packet f toward local endpoint ep_id. Returns an
 * XDP action, or -1 to continue with conntrack and policy.
 *
 * A global function: verified once, and the packet copies stay in its frame.
 * Only untagged frames without IPv4 options or IPv6 extension headers are
 * answered; others are dropped while the guard is active rather than let
 * through, so tags or options cannot be used to bypass it.
 */
__noinline int pw_syn_guard(struct xdp_md *ctx, struct pw_flow *f, __u32 ep_id)
{
	__u64 now = bpf_ktime_get_coarse_ns();
	struct pw_syn_key sk = {.ep_id = ep_id};
	struct pw_dos_stats *ds;
	struct pw_syn_hdrs *hp;
	__u32 zero = 0;
	struct pw_syn_state *st;
	struct pw_dos_cfg *cfg;
	__u32 len, l3len, th_len;
	__u8 flags;
	__s64 cookie;

	if (!f || f->t.proto != PW_IPPROTO_TCP || f->frag != PW_FRAG_NONE)
		return -1;
	cfg = pw_dos_cfg_get();
	if (!cfg || !(cfg->flags & PW_DOS_F_ENABLED) || !cfg->syn_pps)
		return -1;
	flags = f->tcp_flags;
	sk.dport = f->t.dport;
	len = pw_ctx_load(ctx, data_end) - pw_ctx_load(ctx, data);

	if ((flags & (PW_TCP_SYN | PW_TCP_ACK | PW_TCP_RST)) == PW_TCP_SYN) {
		__u64 burst = cfg->syn_burst ?: cfg->syn_pps;

		st = bpf_map_lookup_elem(&pw_syn_rate, &sk);
		if (!st) {
			struct pw_syn_state ns = {.last_ns = now, .tokens = burst * PW_RL_SCALE};

			bpf_map_update_elem(&pw_syn_rate, &sk, &ns, BPF_NOEXIST);
			st = bpf_map_lookup_elem(&pw_syn_rate, &sk);
			if (!st)
				return -1;
		}
		st->tokens = pw_rl_refill(st->tokens, cfg->syn_pps, burst,
					  now > st->last_ns ? now - st->last_ns : 0);
		st->last_ns = now;
		if (st->tokens >= PW_RL_SCALE)
			st->tokens -= PW_RL_SCALE;
		else
			st->active_until = now + PW_SYN_ACTIVE_NS;
		if (now >= st->active_until || pw_syn_verified_src(f->family, f->t.saddr, now))
			return -1;
	} else if ((flags & (PW_TCP_SYN | PW_TCP_ACK | PW_TCP_RST)) == PW_TCP_ACK) {
		struct pw_ct_key ck;

		st = bpf_map_lookup_elem(&pw_syn_rate, &sk);
		if (!st || now >= st->active_until)
			return -1;
		if (pw_syn_verified_src(f->family, f->t.saddr, now))
			return -1;
		/* Flows admitted before the flood carry on untouched. */
		pw_ct_key_from(&ck, ep_id, f->family, PW_DIR_INGRESS, &f->t);
		if (bpf_map_lookup_elem(&pw_ct, &ck))
			return -1;
	} else {
		return -1;
	}

	/* The guard answers this packet itself. */
	pw_syn_count(len);
	ds = pw_dos_stats_get();
	hp = bpf_map_lookup_elem(&pw_syn_scratch, &zero);
	if (!hp)
		return XDP_DROP;
	hp->family = f->family;
	if (bpf_xdp_load_bytes(ctx, 0, &hp->eth, PW_ETH_HLEN))
		return XDP_DROP;
	if (f->family == PW_AF_INET) {
		l3len = sizeof(struct iphdr);
		if (hp->eth.h_proto != bpf_htons(ETH_P_IP) ||
		    bpf_xdp_load_bytes(ctx, PW_ETH_HLEN, &hp->ip4, l3len) || hp->ip4.ihl != 5)
			return XDP_DROP;
	} else {
		l3len = sizeof(struct ipv6hdr);
		if (hp->eth.h_proto != bpf_htons(ETH_P_IPV6) ||
		    bpf_xdp_load_bytes(ctx, PW_ETH_HLEN, &hp->ip6, l3len) ||
		    hp->ip6.nexthdr != PW_IPPROTO_TCP)
			return XDP_DROP;
	}
	if (bpf_xdp_load_bytes(ctx, PW_ETH_HLEN + l3len, hp->tbuf, sizeof(struct tcphdr)))
		return XDP_DROP;
	th_len = hp->th.doff * 4;
	if (th_len < sizeof(struct tcphdr) || th_len > sizeof(hp->tbuf))
		return XDP_DROP;
	if (bpf_xdp_load_bytes(ctx, PW_ETH_HLEN + l3len, hp->tbuf, th_len))
		return XDP_DROP;

	if (flags & PW_TCP_SYN) {
		if (f->family == PW_AF_INET)
			cookie = bpf_tcp_raw_gen_syncookie_ipv4(&hp->ip4, &hp->th, th_len);
		else
			cookie = bpf_tcp_raw_gen_syncookie_ipv6(&hp->ip6, &hp->th, th_len);
		if (cookie < 0)
			return XDP_DROP;
		st->cookies_sent++;
		if (ds)
			ds->syn_cookies_sent_total++;
		hp->r_flags = PW_TCP_SYN | PW_TCP_ACK;
		hp->r_seq = (__u32)cookie;
		hp->r_ack = bpf_ntohl(hp->th.seq) + 1;
		hp->r_mss = (__u16)(cookie >> 32);
		return pw_syn_reply(ctx, hp);
	}

	if (f->family == PW_AF_INET)
		cookie = bpf_tcp_raw_check_syncookie_ipv4(&hp->ip4, &hp->th);
	else
		cookie = bpf_tcp_raw_check_syncookie_ipv6(&hp->ip6, &hp->th);
	if (cookie) {
		if (ds)
			ds->syn_cookies_bad_total++;
		return XDP_DROP;
	}
	{
		struct pw_host_key hk = {.family = f->family};
		__u32 ttl = cfg->verified_ttl_s ?: PW_DOS_VERIFIED_TTL_S;
		__u64 exp = now + (__u64)ttl * 1000000000ULL;

		__builtin_memcpy(hk.addr, f->t.saddr, 16);
		bpf_map_update_elem(&pw_syn_verified, &hk, &exp, BPF_ANY);
	}
	if (ds) {
		ds->syn_cookies_ok_total++;
		ds->syn_rst_sent_total++;
	}
	/* The client believes it is connected: end that at once so it retries. */
	hp->r_flags = PW_TCP_RST;
	hp->r_seq = bpf_ntohl(hp->th.ack_seq);
	hp->r_ack = 0;
	hp->r_mss = 0;
	return pw_syn_reply(ctx, hp);
}
