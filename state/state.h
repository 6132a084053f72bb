/* state: what wsr recorded about the resources it manages — the format
 * (wsr.state/v1), the in-memory document, and the backend interface (read,
 * compare-and-swap write, lock, unlock) that the file backend implements
 * today and an etcd backend will implement later without touching the planner.
 *
 * Format (JSON):
 *   {"format":"wsr.state/v1", "lineage":"<uuid>", "serial":N,
 *    "resources":[{"address","provider","kind","id","applied":{spec},
 *                  "observed":{spec},"labels":{},"status":{},"source":{"file","line","revision"},
 *                  "created":"RFC3339","updated":"RFC3339"}]}
 * Secrets never reach it: the engine strips x-wsr-sensitive values first. */
#ifndef WSR_STATE_H
#define WSR_STATE_H
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "lib/diag.h"
#include "lib/hmap.h"

#define WSR_STATE_FORMAT "wsr.state/v1"
#define WSR_STATE_MAX_BYTES (256u * 1024 * 1024) /* a state file larger than this is refused */

typedef struct wsr_state_entry {
	char *address;
	char *provider;
	char *kind;
	char *id;	 /* platform id; may be NULL */
	cJSON *applied;	 /* the spec wsr last applied; owned */
	cJSON *observed; /* the spec the platform reported after that; owned; may be NULL */
	cJSON *labels;	 /* may be NULL */
	cJSON *status;	 /* may be NULL */
	char *file;	 /* source file of the spec; may be NULL */
	int line;
	char *revision; /* source revision (Git commit) of the spec applied; may be NULL */
	int64_t created_ms, updated_ms;
} wsr_state_entry;

typedef struct wsr_state {
	char *lineage;	/* identifies one state's history; a plan from another lineage is stale */
	int64_t serial; /* grows by one with every write */
	wsr_state_entry **v;
	size_t n, cap;
	wsr_hmap index;
} wsr_state;

/* A new empty state with a fresh random lineage and serial 0. */
wsr_state *wsr_state_new(void);
void wsr_state_free(wsr_state *s);
/* Deep copy (used to snapshot what is being written). */
wsr_state *wsr_state_dup(const wsr_state *s);

wsr_state_entry *wsr_state_find(const wsr_state *s, const char *address);
/* Inserts e or replaces the entry with the same address, taking ownership
 * of e on success. On failure e is still the caller's: WSR_EINVAL when e
 * lacks what the format requires (address without control characters,
 * provider, kind, applied object; observed, labels, status objects or
 * NULL), WSR_ENOMEM. */
int wsr_state_put(wsr_state *s, wsr_state_entry *e);
/* Removes and frees the entry; WSR_ENOTFOUND when absent. */
int wsr_state_remove(wsr_state *s, const char *address);
void wsr_state_entry_free(wsr_state_entry *e);

/* The entries ordered by address: a new array of s->n borrowed pointers (the
 * caller frees the array only); NULL on allocation failure. */
wsr_state_entry **wsr_state_sorted(const wsr_state *s);
/* One entry as the JSON object the file stores; NULL on allocation failure. */
cJSON *wsr_state_entry_to_json(const wsr_state_entry *e);

/* Serializes (entries ordered by address, so diffs of the file are stable). */
char *wsr_state_to_json(const wsr_state *s, size_t *len);
/* Parses and checks a state document; every problem is a diagnostic naming
 * `file` and the failing part. WSR_ECORRUPT on any problem. */
int wsr_state_from_json(wsr_state **out, const char *text, size_t len, const char *file,
			wsr_diag *diag);

/* A backend stores one state document. */
typedef struct wsr_state_backend wsr_state_backend;

typedef struct wsr_state_backend_ops {
	const char *name; /* "file" */
	/* Reads the stored state; a backend with nothing stored yet returns a new
	 * empty state (serial 0). A corrupt store is an error, never replaced. */
	int (*read)(wsr_state_backend *b, wsr_state **out, wsr_diag *diag);
	/* Stores s if the stored serial still equals s->serial (compare-and-swap);
	 * on success s->serial is incremented and is the serial now stored.
	 * WSR_ECONFLICT when someone else wrote in between. */
	int (*write)(wsr_state_backend *b, wsr_state *s, wsr_diag *diag);
	/* Takes the exclusive lock, recording who holds it (pid, host, command,
	 * time). WSR_ELOCKED with the holder named in diag when it is taken. */
	int (*lock)(wsr_state_backend *b, const char *command, wsr_diag *diag);
	int (*unlock)(wsr_state_backend *b);
	void (*free)(wsr_state_backend *b);
} wsr_state_backend_ops;

struct wsr_state_backend {
	const wsr_state_backend_ops *ops;
};

/* The file backend: the state at path (mode 0600, atomic writes, the
 * previous version kept as path.backup), locked through path.lock. */
int wsr_state_file_open(wsr_state_backend **out, const char *path);
#endif
