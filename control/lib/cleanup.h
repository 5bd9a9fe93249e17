/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Ownership through cleanup attributes: a variable declared _cleanup_free_
 * (or one of the typed variants) is released when it leaves scope unless
 * TAKE_PTR()/TAKE_FD() handed it on.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void pw_freep(void *p)
{
	free(*(void **)p);
}

static inline void pw_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void pw_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_free_	 _cleanup_(pw_freep)
#define _cleanup_close_	 _cleanup_(pw_closep)
#define _cleanup_fclose_ _cleanup_(pw_fclosep)

/* Returns the pointer and clears the variable, so cleanup leaves it alone. */
#define TAKE_PTR(p)                          \
	({                                   \
		__typeof__(p) ___p = (p);    \
		(p) = NULL;                  \
		___p;                        \
	})

#define TAKE_FD(fd)                          \
	({                                   \
		int ___fd = (fd);            \
		(fd) = -1;                   \
		___fd;                       \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
