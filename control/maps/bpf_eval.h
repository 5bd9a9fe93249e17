/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A struct pw_evaluator backed by the real datapath: the TC programs are
 * loaded under a private pin root, the maps are filled from a compiled
 * pw_policy_db exactly as podwalld fills them, and every verdict is the
 * outcome of a crafted packet run through pw_from_pod / pw_to_pod with
 * BPF_PROG_TEST_RUN. Offline tools that use it decide with the programs that
 * enforce, so they cannot disagree with enforcement.
 *
 * Each local endpoint gets a veth pair in a private network namespace (the
 * kernel resolves a test run's ctx.ifindex there); the process itself stays
 * in its own namespace: probes enter the private one and leave it again.
 *
 * A separate library from the loader's users' point of view: the policy
 * compiler stays free of libbpf, and only podwallctl and tests link this.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

struct pw_bpf_eval;

struct pw_bpf_eval_stats {
	size_t runs;	       /* packets run through a program */
	size_t syncs;	       /* compiled outputs installed into the maps */
	size_t events_missing; /* runs without a ring buffer record (cookie then 0) */
	size_t max_endpoints;  /* most endpoints installed at once */
};

/**
 * pw_bpf_eval_supported() - can BPF evaluation work here? Checks root, BTF
 * and a bpffs on /sys/fs/bpf. Returns 0, or -errno with a reason in *why
 * (a static string; why may be NULL).
 */
int pw_bpf_eval_supported(const char **why);

/**
 * pw_bpf_eval_new() - load the datapath under /sys/fs/bpf/podwall-eval-<pid>
 * and create the private network namespace. Returns 0 and *out, or -errno
 * with *out untouched. Nothing is attached to any real interface.
 */
int pw_bpf_eval_new(struct pw_bpf_eval **out);

/** Unpins and frees everything (NULL-safe); resets *e. */
void pw_bpf_eval_free(struct pw_bpf_eval **e);

/*
 * The evaluator. Its eval() installs the db's compiled output on first use
 * and again whenever the db or its epoch changes; call pw_bpf_eval_reset()
 * after freeing a db, since a new one may reuse its address and epoch.
 * The pointer is owned by e.
 */
const struct pw_evaluator *pw_bpf_eval_evaluator(struct pw_bpf_eval *e);

/** Forgets which db is installed: the next eval() installs again. */
void pw_bpf_eval_reset(struct pw_bpf_eval *e);

/*
 * The first error an eval() met (eval() itself cannot return one; its
 * verdict is then reason _PW_REASON_MAX), or 0. Cleared by pw_bpf_eval_reset().
 */
int pw_bpf_eval_error(const struct pw_bpf_eval *e);

void pw_bpf_eval_stats(const struct pw_bpf_eval *e, struct pw_bpf_eval_stats *out);
