/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The CNI side of the podwall plugin: the spec's error codes and result
 * object, the network configuration podwall reads from stdin, CNI_ARGS.
 * Parsing is pure (no I/O), so that the fuzz target and the tests drive
 * exactly what the plugin runs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* CNI spec error codes (SPEC.md "Error"); 100+ would be ours, none so far. */
enum pw_cni_code {
	PW_CNI_E_VERSION = 1,	       /* incompatible CNI version */
	PW_CNI_E_FIELD = 2,	       /* unsupported field in the network configuration */
	PW_CNI_E_UNKNOWN_CONTAINER = 3, /* container unknown or does not exist */
	PW_CNI_E_ENV = 4,	       /* invalid necessary environment variables */
	PW_CNI_E_IO = 5,	       /* I/O failure */
	PW_CNI_E_DECODE = 6,	       /* failed to decode content */
	PW_CNI_E_CONFIG = 7,	       /* invalid network config */
	PW_CNI_E_TRY_AGAIN = 11,       /* try again later */
	PW_CNI_E_UNAVAILABLE = 50,     /* STATUS: plugin not available */
};

struct pw_cni_err {
	int code;
	char msg[512];
	char details[512];
};

/* Fills @e (the first error wins) and returns -EINVAL, for "return pw_cni_fail(...)". */
int pw_cni_fail(struct pw_cni_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Adds details to the error already in @e. */
void pw_cni_details(struct pw_cni_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The versions podwall speaks; the first is the newest, reported by VERSION. */
extern const char *const pw_cni_versions[];
extern const size_t pw_cni_n_versions;
bool pw_cni_version_supported(const char *v);

/* One entry of a result's "interfaces"; strings borrowed from the conf's JSON. */
struct pw_cni_iface {
	const char *name;
	const char *mac;     /* NULL when absent */
	const char *sandbox; /* NULL or "" for a host-side interface */
};

struct pw_cni_ip {
	const char *address; /* "addr/prefix", validated */
	int iface;	     /* index into interfaces, -1 when absent */
};

/* A parsed prevResult (1.0.0+ result format). */
struct pw_cni_result {
	json_t *json; /* borrowed from the conf */
	size_t n_ifaces, n_ips;
	struct pw_cni_iface *ifaces;
	struct pw_cni_ip *ips;
};

/* The plugin configuration object podwall receives on stdin. */
struct pw_cni_conf {
	json_t *root;
	const char *cni_version;
	const char *name;
	const char *type;
	/* Ours; defaults filled in. */
	const char *socket;
	const char *queue_dir;
	int timeout_ms;
	int log_level; /* enum pw_log_level */
	bool allow_missing_pod_args;
	/* NULL when absent. */
	struct pw_cni_result *prev;
	/* "cni.dev/valid-attachments" (GC), validated; NULL when absent. */
	json_t *valid_attachments;
};

/**
 * pw_cni_conf_parse() - parse and validate a plugin configuration.
 * @buf, @len: stdin as read (need not be NUL-terminated).
 * @out: the configuration, free with pw_cni_conf_free().
 * @e: on failure, the CNI error naming the field.
 *
 * Checks the version (code 1), JSON (6), required fields and the shape of
 * prevResult and cni.dev/valid-attachments (7). Return: 0 or -errno.
 */
int pw_cni_conf_parse(const char *buf, size_t len, struct pw_cni_conf **out, struct pw_cni_err *e);
void pw_cni_conf_free(struct pw_cni_conf **conf);

/* The pod a runtime names in CNI_ARGS (Kubernetes conventions). */
struct pw_cni_pod {
	char *namespace; /* NULL when absent */
	char *name;
	char *uid;
};

/**
 * pw_cni_args_parse() - parse CNI_ARGS ("K=V;K=V") into @pod.
 * Unknown keys are ignored (as IgnoreUnknown asks of every plugin); a pair
 * without "=" or a pod name with characters no Kubernetes name has is code 4.
 * Return: 0 or -errno; free @pod with pw_cni_pod_clear() either way.
 */
int pw_cni_args_parse(const char *args, struct pw_cni_pod *pod, struct pw_cni_err *e);
void pw_cni_pod_clear(struct pw_cni_pod *pod);

/* Whether @id is a valid container id (SPEC.md: [A-Za-z0-9][A-Za-z0-9_.-]*). */
bool pw_cni_container_id_valid(const char *id);

/* The ifalias podwall gives a pod's host-side interface, truncated to fit IFALIASZ. */
void pw_cni_ifalias(char *buf, size_t size, const char *ns, const char *pod);

#define PW_CNI_IFALIAS_PREFIX "podwall:"
#define PW_CNI_IFALIAS_MAX 256 /* the kernel's IFALIASZ, with the NUL */
