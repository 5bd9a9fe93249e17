/* SPDX-License-Identifier: GPL-2.0-only */
/* Engine internals shared by parse.c, engine.c and the kw-*.c keyword families. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "sig.h"

enum sm_type {
	SM_CONTENT,
	SM_PCRE,
	SM_ISDATAAT,
	SM_BSIZE,
	SM_BYTE_TEST,
	SM_BYTE_JUMP,
};

enum { CMP_EQ, CMP_LT, CMP_GT, CMP_RANGE, CMP_LE, CMP_GE, CMP_NE };

struct numcmp {
	int op;
	uint64_t a, b;
};

/* Content flags. */
#define CF_NOCASE (1u << 0)
#define CF_NEGATED (1u << 1)
#define CF_RELATIVE (1u << 2) /* distance or within given */
#define CF_DEPTH (1u << 3)
#define CF_OFFSET (1u << 4)
#define CF_DISTANCE (1u << 5)
#define CF_WITHIN (1u << 6)
#define CF_STARTSWITH (1u << 7)
#define CF_ENDSWITH (1u << 8)
#define CF_FAST (1u << 9)
#define CF_FAST_ONLY (1u << 10)

struct sm {
	enum sm_type type;
	enum pw_sig_buf buf;
	bool relative;
	bool negated;
	union {
		struct {
			uint8_t *pat;
			uint32_t len;
			uint32_t flags;
			int32_t offset, depth, distance, within;
			uint32_t fp_off, fp_len; /* fast_pattern:chop */
		} c;
		struct {
			pcre2_code *re;
			pcre2_match_data *md;
		} p;
		struct {
			uint32_t n;
		} dataat;
		struct numcmp bsize;
		struct {
			uint8_t nbytes, base; /* base 0: binary */
			bool little, relative;
			char op;
			bool negop;
			uint64_t value, mask;
			int32_t offset;
			/* byte_jump */
			uint32_t multiplier;
			int32_t post_offset;
			bool align, from_beginning, from_end;
		} b;
	};
};

struct addr_ent {
	uint8_t family;
	uint8_t plen;
	bool neg;
	uint8_t addr[16];
};

struct addr_list {
	struct addr_ent *e;
	size_t n;
	bool any;
	uint32_t *hosts; /* positive IPv4 /32 entries of long lists, sorted (host order) */
	size_t nhosts;
};

struct port_ent {
	uint16_t lo, hi;
	bool neg;
};

struct port_list {
	struct port_ent *e;
	size_t n;
	bool any;
};

#define FLOW_ESTABLISHED (1u << 0)
#define FLOW_NOT_ESTABLISHED (1u << 1)
#define FLOW_TO_SERVER (1u << 2)
#define FLOW_TO_CLIENT (1u << 3)
#define FLOW_STATELESS (1u << 4)
#define FLOW_ONLY_STREAM (1u << 5)
#define FLOW_NO_STREAM (1u << 6)

enum fb_cmd { FB_SET, FB_ISSET, FB_ISNOTSET, FB_UNSET, FB_TOGGLE, FB_NOALERT };

struct flowbit_op {
	enum fb_cmd cmd;
	bool any; /* '|' between names: any of them; otherwise all */
	uint32_t *ids;
	size_t n;
};

enum thr_type { THR_NONE, THR_LIMIT, THR_THRESHOLD, THR_BOTH, THR_DETECTION_FILTER };
enum thr_track { TRACK_SRC, TRACK_DST, TRACK_RULE, TRACK_BOTH };

struct thr {
	enum thr_type type;
	enum thr_track track;
	uint32_t count, seconds;
};

struct pw_sig_rule {
	size_t idx;
	enum pw_sig_action action;
	enum pw_sig_proto proto;
	struct addr_list src, dst;
	struct port_list sp, dp;
	bool bidir;
	uint32_t sid, gid, rev;
	int priority;
	char *msg, *classtype;
	char *metadata; /* "key value" pairs, one per line, for drop policies */
	const char *class_desc;

	struct sm *sms;
	size_t nsms;
	enum pw_sig_buf cur_buf; /* parse state: sticky buffer in force */
	int last_content; /* parse state: index of the last content/pcre, -1 none */

	uint32_t flow;
	uint8_t flags_set, flags_mask; /* flags keyword */
	char flags_mod; /* 0, '+', '*', '!' */
	bool has_flags;
	struct numcmp dsize;
	bool has_dsize;
	struct numcmp urilen;
	bool has_urilen;
	struct numcmp itype, icode;
	bool has_itype, has_icode;
	uint32_t dotprefix_mask; /* buffers seen with a leading '.' (dotprefix transform) */
	struct flowbit_op *fbs;
	size_t nfbs;
	bool noalert;
	bool sets_bits;
	struct thr thr;

	uint32_t bufmask; /* buffers the rule needs (1 << pw_sig_buf) */
	int fp; /* index into sms of the fast pattern, -1 none */
	bool app; /* needs an app-layer unit */
	bool iponly; /* header-only: fires once per flow direction */
	/*
	 * Its verdict cannot change within a flow direction: header-only, with at
	 * most flowbits it sets or unsets (reputation lists). Evaluated on the
	 * first packet unit of each direction only.
	 */
	bool header_once;
	uint32_t iponly_idx; /* its bit pair in pw_sig_flow.iponly_fired */
};

struct kw_ctx {
	struct pw_sig_set *set;
	struct pw_sig_rule *r;
	char err[256];
	const char *reason; /* tally class for rejects */
};

/* A keyword handler: value is NULL for keywords without ':'. 0 or -errno with ctx->err set. */
struct kw_def {
	const char *name;
	int (*fn)(struct kw_ctx *ctx, const char *name, char *value);
	bool needs_value;
};

int kw_fail(struct kw_ctx *ctx, int err, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
struct sm *kw_new_sm(struct kw_ctx *ctx, enum sm_type t);
struct sm *kw_last_content(struct kw_ctx *ctx);
/* A relative keyword inspects the buffer of the content it follows (uricontent; isdataat:R). */
void kw_relative_buf(struct kw_ctx *ctx, struct sm *m);
uint32_t sig_flowbit_id(struct pw_sig_set *s, const char *name);
const char *sig_class_lookup(struct pw_sig_set *s, const char *name, int *prio);
char *sig_unquote(char *v);
int parse_numcmp(const char *v, struct numcmp *out);
bool numcmp_eval(const struct numcmp *c, uint64_t v);

/* Keyword tables, one per family (kw-*.c). */
extern const struct kw_def pw_kw_meta[], pw_kw_content[], pw_kw_pcre[], pw_kw_numeric[],
	pw_kw_flow[], pw_kw_buffer[], pw_kw_threshold[];

struct sig_var {
	char *name, *value;
};

struct sig_class {
	char *name, *desc;
	int prio;
};

struct sig_reject_rec {
	struct pw_sig_reject pub;
	char *file, *keyword, *reason, *detail;
};

struct thr_ent {
	uint32_t sid;
	uint8_t key[32];
	uint64_t first_usec;
	uint32_t count;
	bool used;
};

struct hs_database;
struct hs_scratch;

struct pw_sig_set {
	struct pw_sig_rule **rules;
	size_t nrules, caprules;
	struct sig_var *vars;
	size_t nvars;
	struct sig_class *classes;
	size_t nclasses;
	struct sig_reject_rec *rejects;
	size_t nrejects, caprejects;
	char **bitnames;
	size_t nbitnames;

	/* engine.c: per-buffer prefilter and the rules that always need verification */
	struct hs_database *db[_PW_BUF_MAX];
	struct hs_scratch *scratch;
	uint32_t *fp_rule[_PW_BUF_MAX]; /* pattern id -> rule index */
	/* rules verified without a prefilter hit, by rank: [0] packet units, [1] app units */
	uint32_t *always[2];
	size_t nalways[2];
	/* always[0] without the header_once rules: for a flow direction that saw them */
	uint32_t *always_rest;
	size_t nalways_rest;
	/*
	 * header_once rules whose source or destination is a plain list of IPv4
	 * hosts (reputation lists), indexed by those hosts instead of verified on
	 * every new flow direction: [0] source side, [1] destination side.
	 */
	struct ip_idx {
		uint32_t ip; /* host order, masked to plen */
		uint32_t rule; /* index into rules */
		uint8_t plen;
	} *ipidx[2];
	size_t nipidx[2];
	uint64_t ipidx_plens[2]; /* bit p: some entry of that side has prefix length p */
	uint32_t *merge; /* scratch for merging candidates */
	uint8_t *cand; /* per-rule candidate marks for one unit */
	uint32_t *cand_list; /* the marked rules, in no order */
	size_t ncand;
	uint32_t *rank; /* evaluation rank per rule: flowbit setters first */
	uint32_t *order; /* evaluation order: flowbit setters first */
	struct thr_ent *thr;
	size_t nthr;
	bool compiled;
	size_t niponly;
	enum pw_sig_action order_of[_PW_SIG_ACTION_MAX]; /* action applied at each rank */
	bool custom_order;
};
