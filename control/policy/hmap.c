// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"

/* FNV-1a, then a final mix; values 0 and 1 are reserved for slot states. */
uint64_t pw_hash_bytes(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--) {
		h ^= *c++;
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h < 2 ? h + 2 : h;
}

static struct pw_hmap_slot *find(const struct pw_hmap *m, uint64_t h, const void *key, size_t klen)
{
	size_t i, mask;

	if (!m->cap)
		return NULL;
	mask = m->cap - 1;
	for (i = h & mask;; i = (i + 1) & mask) {
		struct pw_hmap_slot *s = &m->slots[i];

		if (s->hash == 0)
			return NULL;
		if (s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0)
			return s;
	}
}

void *pw_hmap_get(const struct pw_hmap *m, const void *key, size_t klen)
{
	struct pw_hmap_slot *s = find(m, pw_hash_bytes(key, klen), key, klen);

	return s ? s->val : NULL;
}

static int grow(struct pw_hmap *m)
{
	size_t ncap = m->cap ? m->cap : 16, i;
	struct pw_hmap_slot *ns;

	while (m->used * 2 + 2 > ncap)
		ncap *= 2;
	ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (i = 0; i < m->cap; i++) {
		struct pw_hmap_slot *s = &m->slots[i];
		size_t j;

		if (s->hash < 2)
			continue;
		for (j = s->hash & (ncap - 1); ns[j].hash; j = (j + 1) & (ncap - 1))
			;
		ns[j] = *s;
	}
	free(m->slots);
	m->slots = ns;
	m->cap = ncap;
	m->filled = m->used;
	return 0;
}

int pw_hmap_put(struct pw_hmap *m, const void *key, size_t klen, void *val)
{
	uint64_t h = pw_hash_bytes(key, klen);
	struct pw_hmap_slot *s = find(m, h, key, klen);
	size_t i;

	if (s) {
		s->key = key;
		s->val = val;
		return 0;
	}
	if ((m->filled + 1) * 4 > m->cap * 3) {
		int err = grow(m);

		if (err)
			return err;
	}
	for (i = h & (m->cap - 1); m->slots[i].hash > 1; i = (i + 1) & (m->cap - 1))
		;
	if (m->slots[i].hash == 0)
		m->filled++;
	m->slots[i] = (struct pw_hmap_slot){ h, key, klen, val };
	m->used++;
	return 0;
}

void *pw_hmap_del(struct pw_hmap *m, const void *key, size_t klen)
{
	struct pw_hmap_slot *s = find(m, pw_hash_bytes(key, klen), key, klen);
	void *v;

	if (!s)
		return NULL;
	v = s->val;
	s->hash = 1;
	s->key = NULL;
	s->val = NULL;
	m->used--;
	return v;
}

void pw_hmap_clear(struct pw_hmap *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
