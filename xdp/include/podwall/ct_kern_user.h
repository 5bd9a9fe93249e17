/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Connection tracking (pw_ct, LRU hash).
 *
 * One entry per (endpoint, flow), keyed the same way in both directions: the
 * pod's side and the peer's side rather than source and destination, so a
 * packet and its reply find the entry with one lookup. Flows between two
 * local pods get one entry per endpoint, because each pod's policy decides
 * its own side (egress of the client, ingress of the server).
 */
#pragma once

#include "types.h"

#define PW_CT_MAX 262144

/* Default timeouts in seconds (the objects' pw_cfg_ct_*_s; the loader may change established). */
#define PW_CT_DEFAULT_SYN_S	    60	  /* TCP handshake */
#define PW_CT_DEFAULT_ESTABLISHED_S 21600 /* TCP established: 6 h */
#define PW_CT_DEFAULT_CLOSE_S	    10	  /* TCP after FIN/RST */
#define PW_CT_DEFAULT_OTHER_S	    60	  /* UDP, SCTP, ICMP, other */

/* TCP states. */
#define PW_CT_SYN_SENT	  1 /* initiator's SYN seen */
#define PW_CT_SYN_RECV	  2 /* responder's SYN-ACK seen */
#define PW_CT_ESTABLISHED 3 /* handshake complete (or picked up mid-stream) */
#define PW_CT_FIN_WAIT	  4 /* one side sent FIN */
#define PW_CT_CLOSING	  5 /* both sides sent FIN */
#define PW_CT_CLOSED	  6 /* RST seen */
/* Pseudo-states of UDP, SCTP, ICMP and other protocols. */
#define PW_CT_UNREPLIED	  7
#define PW_CT_REPLIED	  8

/* Flags of struct pw_ct_val. */
#define PW_CT_F_FIN_POD	 (1U << 0) /* the pod's side sent FIN */
#define PW_CT_F_FIN_PEER (1U << 1) /* the peer's side sent FIN */
/*
 * A policy change revoked the flow: its packets are dropped in both
 * directions until it expires or a later change allows it again. The entry
 * is kept rather than deleted so that no packet of the revoked flow can
 * re-admit it as a new flow from the other side.
 */
#define PW_CT_F_REVOKED	 (1U << 2)

struct pw_ct_key {
	__u32 ep_id;
	__u8 family;	  /* PW_AF_INET or PW_AF_INET6 */
	__u8 proto;	  /* IPPROTO_* */
	__be16 pod_port;  /* ICMP echo: the identifier, on both sides */
	__be16 peer_port;
	__u16 pad;
	__u8 pod_addr[16];  /* network byte order; IPv4 in [0..3], rest zero */
	__u8 peer_addr[16];
};
PW_STATIC_ASSERT(sizeof(struct pw_ct_key) == 44, "pw_ct_key layout");

struct pw_ct_val {
	__u64 last_seen_ns; /* CLOCK_MONOTONIC_COARSE; refreshed at most once a second */
	__u32 policy_epoch; /* pw_state.policy_epoch the flow was (re)admitted under */
	__u32 cookie;	    /* rule that admitted it, 0 if not a rule */
	__u8 state;	    /* PW_CT_* */
	__u8 origin_dir;    /* PW_DIR_* of the flow's first packet */
	__u8 reason;	    /* PW_REASON_ALLOW_* that admitted it */
	__u8 flags;	    /* PW_CT_F_* */
	/*
	 * 1 while the flow holds one of its endpoint's connection slots
	 * (pw_conns, podwall.io/max-connections). Whoever swaps it from 1 to 0
	 * releases the slot, so a slot is released exactly once whichever
	 * CPU closes, expires, revokes or replaces the flow.
	 */
	__u32 conn_slot;
};
PW_STATIC_ASSERT(sizeof(struct pw_ct_val) == 24, "pw_ct_val layout");

/*
 * Fragments (pw_frag, LRU hash): the first fragment of an admitted datagram
 * records its ports so later fragments, which carry no L4 header, follow it.
 */
#define PW_FRAG_MAX 8192

struct pw_frag_key {
	__u32 ep_id;
	__u32 id; /* IPv4 identification (host order, zero-extended) or IPv6 fragment id */
	__u8 family;
	__u8 proto;
	__u16 pad;
	__u8 saddr[16];
	__u8 daddr[16];
};
PW_STATIC_ASSERT(sizeof(struct pw_frag_key) == 44, "pw_frag_key layout");

struct pw_frag_val {
	__u64 first_seen_ns; /* CLOCK_MONOTONIC_COARSE */
	__be16 sport;
	__be16 dport;
	__u32 pad;
};
PW_STATIC_ASSERT(sizeof(struct pw_frag_val) == 16, "pw_frag_val layout");

#define PW_MAP_CT   "pw_ct"
#define PW_MAP_FRAG "pw_frag"
