/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small TAP harness in the spirit of the BPF selftests' ASSERT_*: a test
 * program is a table of test functions; each one is a TAP test point that
 * fails if any assertion in it failed. Assertions report and continue (they
 * evaluate to false so a test can bail out with `if (!ASSERT_…) return;`).
 *
 * Exit status: 0 all passed (or the whole program skipped: plan "1..0 # SKIP
 * why", when root, BTF or a kernel feature is missing), 1 some failed. A
 * TAP test reports its skip in the plan: meson 1.0 counts exit code 77 from
 * a TAP test as an error, not as a skip.
 */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pw_test {
	const char *name;
	void (*fn)(void);
};

struct pw_test_state {
	int failed;	  /* assertions failed in the current test */
	const char *skip; /* set by pw_test_skip() */
};

static struct pw_test_state pw_test_cur;

static inline void pw_test_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void pw_test_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

/* Marks the current test skipped; the caller returns. */
static inline void pw_test_skip(const char *why)
{
	pw_test_cur.skip = why;
}

static inline bool pw_test_check(bool ok, const char *file, int line, const char *check,
				 const char *name)
{
	if (!ok) {
		pw_test_cur.failed++;
		pw_test_diag("%s:%d: %s %s", file, line, check, name);
	}
	return ok;
}

#define ASSERT_TRUE(cond, name) pw_test_check(!!(cond), __FILE__, __LINE__, "expected true:", name)
#define ASSERT_FALSE(cond, name) pw_test_check(!(cond), __FILE__, __LINE__, "expected false:", name)

#define ASSERT_EQ(actual, expected, name)                                                        \
	({                                                                                       \
		long long ___a = (long long)(actual), ___e = (long long)(expected);              \
		bool ___ok = ___a == ___e;                                                       \
		if (!___ok)                                                                      \
			pw_test_diag("%s: got %lld (0x%llx), expected %lld (0x%llx)", name, ___a, \
				     (unsigned long long)___a, ___e, (unsigned long long)___e);  \
		pw_test_check(___ok, __FILE__, __LINE__, "ASSERT_EQ", name);                     \
	})

#define ASSERT_NEQ(actual, unexpected, name)                                                 \
	({                                                                                   \
		long long ___a = (long long)(actual), ___u = (long long)(unexpected);        \
		bool ___ok = ___a != ___u;                                                   \
		if (!___ok)                                                                  \
			pw_test_diag("%s: got %lld, expected anything else", name, ___a);    \
		pw_test_check(___ok, __FILE__, __LINE__, "ASSERT_NEQ", name);                \
	})

#define ASSERT_GE(actual, bound, name)                                                       \
	({                                                                                   \
		long long ___a = (long long)(actual), ___b = (long long)(bound);             \
		bool ___ok = ___a >= ___b;                                                   \
		if (!___ok)                                                                  \
			pw_test_diag("%s: got %lld, expected >= %lld", name, ___a, ___b);    \
		pw_test_check(___ok, __FILE__, __LINE__, "ASSERT_GE", name);                 \
	})

/* 0 (or a non-negative value) is success; a negative value is -errno. */
#define ASSERT_OK(err, name)                                                                 \
	({                                                                                   \
		long long ___r = (long long)(err);                                           \
		bool ___ok = ___r >= 0;                                                      \
		if (!___ok)                                                                  \
			pw_test_diag("%s: failed: %lld (%s)", name, ___r, strerror((int)-___r)); \
		pw_test_check(___ok, __FILE__, __LINE__, "ASSERT_OK", name);                 \
	})

#define ASSERT_ERR(err, name)                                                                \
	({                                                                                   \
		long long ___r = (long long)(err);                                           \
		bool ___ok = ___r < 0;                                                       \
		if (!___ok)                                                                  \
			pw_test_diag("%s: unexpectedly succeeded: %lld", name, ___r);        \
		pw_test_check(___ok, __FILE__, __LINE__, "ASSERT_ERR", name);                \
	})

#define ASSERT_OK_PTR(ptr, name)                                                             \
	({                                                                                   \
		const void *___p = (ptr);                                                    \
		bool ___ok = ___p != NULL;                                                   \
		if (!___ok)                                                                  \
			pw_test_diag("%s: NULL (%s)", name, strerror(errno));                \
		pw_test_check(___ok, __FILE__, __LINE__, "ASSERT_OK_PTR", name);             \
	})

#define ASSERT_STREQ(actual, expected, name)                                                 \
	({                                                                                   \
		const char *___a = (actual), *___e = (expected);                             \
		bool ___ok = ___a && ___e && strcmp(___a, ___e) == 0;                        \
		if (!___ok)                                                                  \
			pw_test_diag("%s: got \"%s\", expected \"%s\"", name,                \
				     ___a ? ___a : "(null)", ___e ? ___e : "(null)");        \
		pw_test_check(___ok, __FILE__, __LINE__, "ASSERT_STREQ", name);              \
	})

/* Substring check, for error messages that must name an object and a field. */
#define ASSERT_HAS(haystack, needle, name)                                                   \
	({                                                                                   \
		const char *___h = (haystack), *___n = (needle);                             \
		bool ___ok = ___h && ___n && strstr(___h, ___n) != NULL;                     \
		if (!___ok)                                                                  \
			pw_test_diag("%s: \"%s\" does not contain \"%s\"", name,             \
				     ___h ? ___h : "(null)", ___n ? ___n : "(null)");        \
		pw_test_check(___ok, __FILE__, __LINE__, "ASSERT_HAS", name);                \
	})

/* Skips the whole program (TAP plan 1..0 # SKIP) unless running as root. */
static inline void pw_test_require_root(void)
{
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (CAP_BPF, CAP_NET_ADMIN)\n");
		exit(0);
	}
}

static inline void pw_test_skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	exit(0);
}

/*
 * Runs every test, or only those whose name contains argv[1]. Returns the
 * exit status for main().
 */
static inline int pw_test_run(const struct pw_test *tests, size_t n, int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	int failed = 0, point = 0;
	size_t i, planned = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < n; i++)
		if (!filter || strstr(tests[i].name, filter))
			planned++;
	printf("TAP version 13\n1..%zu\n", planned);
	for (i = 0; i < n; i++) {
		if (filter && !strstr(tests[i].name, filter))
			continue;
		memset(&pw_test_cur, 0, sizeof(pw_test_cur));
		tests[i].fn();
		point++;
		if (pw_test_cur.failed) {
			printf("not ok %d - %s\n", point, tests[i].name);
			failed++;
		} else if (pw_test_cur.skip) {
			printf("ok %d - %s # SKIP %s\n", point, tests[i].name, pw_test_cur.skip);
		} else {
			printf("ok %d - %s\n", point, tests[i].name);
		}
	}
	return failed ? 1 : 0;
}

#define PW_TEST_MAIN(table)                                                                  \
	int main(int argc, char **argv)                                                      \
	{                                                                                    \
		return pw_test_run(table, sizeof(table) / sizeof(table[0]), argc, argv);     \
	}
