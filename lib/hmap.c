/* hmap: open addressing with linear probing and tombstones. */
#include "lib/hmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"

static const char tombstone[] = "";
#define TOMB ((const char *)tombstone)

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static int rehash(wsr_hmap *m, size_t cap)
{
	const char **keys = calloc(cap, sizeof(*keys));
	void **vals = calloc(cap, sizeof(*vals));
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return WSR_ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->keys[i] || m->keys[i] == TOMB)
			continue;
		size_t j = hash(m->keys[i]) & (cap - 1);
		while (keys[j])
			j = (j + 1) & (cap - 1);
		keys[j] = m->keys[i];
		vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap = cap;
	m->used = m->n;
	return 0;
}

static size_t find(const wsr_hmap *m, const char *key)
{
	size_t i = hash(key) & (m->cap - 1);
	while (m->keys[i]) {
		if (m->keys[i] != TOMB && strcmp(m->keys[i], key) == 0)
			return i;
		i = (i + 1) & (m->cap - 1);
	}
	return (size_t)-1;
}

int wsr_hmap_put(wsr_hmap *m, const char *key, void *val)
{
	if ((m->used + 1) * 4 >= m->cap * 3) {
		size_t cap = m->cap ? m->cap : 16;
		while ((m->n + 1) * 2 >= cap)
			cap *= 2;
		if (rehash(m, cap))
			return WSR_ENOMEM;
	}
	size_t i = find(m, key);
	if (i != (size_t)-1) {
		m->vals[i] = val;
		return 0;
	}
	i = hash(key) & (m->cap - 1);
	while (m->keys[i] && m->keys[i] != TOMB)
		i = (i + 1) & (m->cap - 1);
	if (!m->keys[i])
		m->used++;
	m->keys[i] = key;
	m->vals[i] = val;
	m->n++;
	return 0;
}

void *wsr_hmap_get(const wsr_hmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	size_t i = find(m, key);
	return i == (size_t)-1 ? NULL : m->vals[i];
}

void *wsr_hmap_del(wsr_hmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	size_t i = find(m, key);
	if (i == (size_t)-1)
		return NULL;
	void *v = m->vals[i];
	m->keys[i] = TOMB;
	m->vals[i] = NULL;
	m->n--;
	return v;
}

void wsr_hmap_free(wsr_hmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}
