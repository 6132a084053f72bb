/* hmap: a string-keyed hash map (open addressing, FNV-1a). Used to index
 * resource sets and state entries by address: 10,000 workspaces must not
 * mean 10,000 linear scans. Keys are borrowed: they must outlive the map. */
#ifndef WSR_LIB_HMAP_H
#define WSR_LIB_HMAP_H
#include <stddef.h>

typedef struct wsr_hmap {
	const char **keys;
	void **vals;
	size_t cap;  /* power of two, or 0 */
	size_t n;    /* live entries */
	size_t used; /* live + tombstones */
} wsr_hmap;

#define WSR_HMAP_INIT                                                                              \
	{                                                                                          \
		NULL, NULL, 0, 0, 0                                                                \
	}

/* Inserts or replaces. Returns 0 or WSR_ENOMEM. */
int wsr_hmap_put(wsr_hmap *m, const char *key, void *val);
/* Returns the value or NULL. */
void *wsr_hmap_get(const wsr_hmap *m, const char *key);
/* Removes key; returns the old value or NULL. */
void *wsr_hmap_del(wsr_hmap *m, const char *key);
void wsr_hmap_free(wsr_hmap *m);
#endif
