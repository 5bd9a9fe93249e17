/* SPDX-License-Identifier: GPL-2.0-only */
/* Leveled logging to stderr, shared by podwalld, podwallctl and the CNI plugin. */
#pragma once

#include <string.h>

enum pw_log_level {
	PW_LOG_ERR,
	PW_LOG_WARN,
	PW_LOG_INFO,
	PW_LOG_DEBUG,
};

/* Messages above this level are dropped; -v raises it. */
void pw_log_set_level(enum pw_log_level level);
enum pw_log_level pw_log_get_level(void);

void pw_log(enum pw_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_err(fmt, ...)   pw_log(PW_LOG_ERR, fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...)  pw_log(PW_LOG_WARN, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...)  pw_log(PW_LOG_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) pw_log(PW_LOG_DEBUG, fmt, ##__VA_ARGS__)

/* Logs "<message>: <strerror(-err)>" and evaluates to err (a negative errno). */
#define pr_err_r(err, fmt, ...)                                                      \
	({                                                                           \
		int ___e = (err);                                                    \
		pw_log(PW_LOG_ERR, fmt ": %s", ##__VA_ARGS__, strerror(-___e));      \
		___e;                                                                \
	})

/*
 * Routes libbpf's messages through pw_log one level below ours, so that a
 * verifier log shows only with -vv (PW_LOG_DEBUG).
 */
void pw_log_libbpf_init(void);
