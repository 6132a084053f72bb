/* state: what wsr recorded about the resources it manages — the format
 * (wsr.state/v1), the in-memory document, and the backend interface (read,
 * compare-and-swap store, lock, unlock, holder, forced unlock) that the file
 * backend (file.c) and the etcd backend (etcd.c) implement, and the parts
 * they share: the write, the wait for a busy lock and the lock's record
 * (lock.c).
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
	/* Set by wsr_state_put (and when read): which put made this entry.
	 * An entry is not changed once put — a change is a new entry put in
	 * its place — so a backend may skip one whose seq it has written. */
	uint64_t seq;
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

/* Who holds a state lock, as the holder recorded it. The record is
 * untrusted text (anyone who can write the store can write it): only
 * printable bytes are kept, "?" for a field that is missing. */
typedef struct wsr_state_lock_info {
	char id[64];	   /* the lock id `wsr state unlock` takes */
	char host[128];	   /* where the holder runs */
	char user[64];	   /* who runs it */
	char command[128]; /* "wsr apply" */
	char since[40];	   /* RFC 3339 */
	long pid;	   /* 0 when not recorded */
} wsr_state_lock_info;

/* wsr_state_from_json for a document already parsed (a backend that
 * stores it in pieces assembles it): the same checks, problems named under
 * `where`. Items of doc are taken over; the caller still deletes doc. */
int wsr_state_from_doc(wsr_state **out, cJSON *doc, const char *where, wsr_diag *diag);

/* A backend stores one state document. */
typedef struct wsr_state_backend wsr_state_backend;

typedef struct wsr_state_backend_ops {
	const char *name; /* "file", "etcd" */
	/* Reads the stored state; a backend with nothing stored yet returns a new
	 * empty state (serial 0). A corrupt store is an error, never replaced. */
	int (*read)(wsr_state_backend *b, wsr_state **out, wsr_diag *diag);
	/* Optional. Checks, without reading the content, what makes read refuse
	 * the state whatever it holds (the file backend: a file another user
	 * could have written), so the engine contacts no platform for a state it
	 * would refuse while it reads it on the side. read checks again. */
	int (*trusted)(wsr_state_backend *b, wsr_diag *diag);
	/* Stores s exactly as it is (lineage, serial, entries) if the stored
	 * state is still the one expected: lineage expect_lineage at serial
	 * expect_serial (nothing stored matches expect_serial 0 and any
	 * lineage). WSR_ECONFLICT, with both named in diag, when someone else
	 * wrote in between: a write that loses the race is never an overwrite.
	 * A write made while holding the lock is fenced: a backend whose lock
	 * can be lost (etcd: its lease expired while this process was paused or
	 * cut off) refuses it with WSR_ELOCKED once the lock is no longer this
	 * process's. wsr_state_write is the ordinary way to call it. */
	int (*store)(wsr_state_backend *b, const wsr_state *s, const char *expect_lineage,
		     int64_t expect_serial, wsr_diag *diag);
	/* Tries once to take the exclusive lock, recording who holds it
	 * (wsr_state_lock_record). WSR_ELOCKED with the holder named in diag
	 * when it is taken. wsr_state_lock waits for a busy lock. */
	int (*lock)(wsr_state_backend *b, const char *command, wsr_diag *diag);
	int (*unlock)(wsr_state_backend *b);
	/* Who holds the lock: 0 with *info filled, WSR_ENOTFOUND when no one. */
	int (*holder)(wsr_state_backend *b, wsr_state_lock_info *info, wsr_diag *diag);
	/* Removes the lock held under id on purpose (`wsr state unlock`):
	 * WSR_ENOTFOUND when it is not locked, WSR_ECONFLICT when it is locked
	 * under another id, WSR_ELOCKED when this backend cannot break it (the
	 * file lock is the kernel's, held by a process that is still running). */
	int (*force_unlock)(wsr_state_backend *b, const char *id, wsr_diag *diag);
	/* Optional (NULL in the file backend). Fences every later store on
	 * key: it succeeds only while key still exists with this
	 * create_revision (the HA daemon's leadership key), so a replica that
	 * lost leadership can no longer write. WSR_EINVAL when the backend
	 * cannot fence. */
	int (*fence)(wsr_state_backend *b, const char *key, int64_t create_revision);
	void (*free)(wsr_state_backend *b);
} wsr_state_backend_ops;

struct wsr_state_backend {
	const wsr_state_backend_ops *ops;
};

/* The ordinary write: stores s if the stored serial still equals s->serial
 * (compare-and-swap); on success s->serial is incremented and is the
 * serial now stored, on failure it is unchanged. */
int wsr_state_write(wsr_state_backend *b, wsr_state *s, wsr_diag *diag);

/* Takes the lock, waiting up to wait_ms (0: fails at once) for a busy one,
 * and, if stop is given, giving up as soon as it is set (SIGINT): then
 * WSR_EINTR. The error names the holder, its lock id and how long this
 * waited. */
int wsr_state_lock(wsr_state_backend *b, const char *command, int64_t wait_ms, volatile int *stop,
		   wsr_diag *diag);

/* A random id (UUID v4 text); caller frees; NULL when out of memory or
 * without randomness. Lineages and lock ids are made with it. */
char *wsr_state_new_id(void);

/* The holder record a backend stores with its lock: {"id", "pid", "host",
 * "user", "command", "since"}, id a new wsr_state_new_id(). *id (caller
 * frees) is the id chosen. NULL when out of memory. */
char *wsr_state_lock_record(const char *command, char **id);
/* Reads a holder record (untrusted bytes) into *info; 0, or WSR_ECORRUPT
 * when it is not one (info then says "?" everywhere). */
int wsr_state_lock_parse(wsr_state_lock_info *info, const char *text, size_t len);
/* "pid 42 on host ci-7 (wsr apply, by alice, since 2026-...; lock id ...)"
 * for messages. */
void wsr_state_lock_describe(const wsr_state_lock_info *info, char *out, size_t n);

/* The file backend: the state at path (mode 0600, atomic writes, the
 * previous version kept as path.backup), locked through path.lock. */
int wsr_state_file_open(wsr_state_backend **out, const char *path);
#endif
