// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdio.h>

#include <bpf/libbpf.h>

#include "log.h"

static enum pw_log_level cur_level = PW_LOG_INFO;

static const char *const prefixes[] = {
	[PW_LOG_ERR] = "error: ",
	[PW_LOG_WARN] = "warning: ",
	[PW_LOG_INFO] = "",
	[PW_LOG_DEBUG] = "debug: ",
};

void pw_log_set_level(enum pw_log_level level)
{
	cur_level = level;
}

enum pw_log_level pw_log_get_level(void)
{
	return cur_level;
}

void pw_log(enum pw_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > cur_level)
		return;
	fputs(prefixes[level], stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's WARN is our INFO, its INFO and DEBUG only at -vv. */
	enum pw_log_level ours = level == LIBBPF_WARN ? PW_LOG_INFO : PW_LOG_DEBUG;

	if (ours > cur_level)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void pw_log_libbpf_init(void)
{
	libbpf_set_print(libbpf_print);
}
