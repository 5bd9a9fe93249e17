/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small open-addressing hash map from byte strings to pointers. Keys are
 * not copied: the caller keeps each key alive while it is in the map
 * (usually the key lives inside the value).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pw_hmap_slot {
	uint64_t hash; /* 0 = empty, 1 = tombstone */
	const void *key;
	size_t klen;
	void *val;
};

struct pw_hmap {
	struct pw_hmap_slot *slots;
	size_t cap;    /* power of two, or 0 */
	size_t used;   /* live entries */
	size_t filled; /* live entries + tombstones */
};

uint64_t pw_hash_bytes(const void *p, size_t n);
void *pw_hmap_get(const struct pw_hmap *m, const void *key, size_t klen);
/* Inserts or replaces; returns 0 or -ENOMEM. */
int pw_hmap_put(struct pw_hmap *m, const void *key, size_t klen, void *val);
/* Removes and returns the value, or NULL. */
void *pw_hmap_del(struct pw_hmap *m, const void *key, size_t klen);
void pw_hmap_clear(struct pw_hmap *m);

static inline void *pw_hmap_gets(const struct pw_hmap *m, const char *s)
{
	return pw_hmap_get(m, s, __builtin_strlen(s));
}

/* Iteration: for (size_t i = 0; pw_hmap_next(m, &i, &val);) */
static inline bool pw_hmap_next(const struct pw_hmap *m, size_t *i, void **val)
{
	while (*i < m->cap) {
		const struct pw_hmap_slot *s = &m->slots[(*i)++];

		if (s->hash > 1) {
			*val = s->val;
			return true;
		}
	}
	return false;
}
