// SPDX-License-Identifier: GPL-2.0-only
/* Retry delays: exponential, capped, with equal jitter. */
#include "k8s.h"

void pw_k8s_backoff_init(struct pw_k8s_backoff *b, uint32_t base_ms, uint32_t max_ms,
			 uint64_t seed)
{
	b->base_ms = base_ms ? base_ms : 1;
	b->max_ms = max_ms < b->base_ms ? b->base_ms : max_ms;
	b->attempt = 0;
	b->rnd = seed ? seed : 0x9e3779b97f4a7c15ULL;
}

void pw_k8s_backoff_reset(struct pw_k8s_backoff *b)
{
	b->attempt = 0;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

uint32_t pw_k8s_backoff_next(struct pw_k8s_backoff *b)
{
	uint64_t cap = b->base_ms;

	/* Shift step by step: base << attempt overflows long before the cap matters. */
	for (uint32_t i = 0; i < b->attempt && cap < b->max_ms; i++)
		cap <<= 1;
	if (cap > b->max_ms)
		cap = b->max_ms;
	if (b->attempt < UINT32_MAX)
		b->attempt++;
	return (uint32_t)(cap / 2 + xorshift(&b->rnd) % (cap - cap / 2 + 1));
}

uint32_t pw_k8s_retry_after_ms(uint32_t backoff_ms, int64_t retry_after_s, uint32_t max_ms)
{
	uint64_t ms;

	if (retry_after_s <= 0)
		return backoff_ms;
	ms = retry_after_s > (int64_t)(UINT32_MAX / 1000) ? UINT32_MAX :
							    (uint64_t)retry_after_s * 1000;
	if (ms > max_ms)
		ms = max_ms;
	return ms > backoff_ms ? (uint32_t)ms : backoff_ms;
}
