/* watch: Kubernetes watches of a workspace's children (and of its
 * workspace types): a bounded history of change events that the store
 * records on every write, and watch streams that replay it from a
 * resourceVersion and then follow it live (newline-delimited JSON events
 * over a chunked answer that stays open). A stream with nothing to send
 * suspends its connection; a ticker thread sweeps the phase clock and wakes
 * the streams that have something due (events, a bookmark, their end), so a
 * watcher sees Initializing -> Ready without anyone else's request. */
#ifndef WSR_SIM_KCP_WATCH_H
#define WSR_SIM_KCP_WATCH_H
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "sim/kcp/api.h"

/* Events kept; a watch from a resourceVersion older than the oldest is
 * refused with 410 Expired ("too old resource version"), as is a watcher
 * that falls this far behind. */
#define WSR_KCPSIM_WATCH_HISTORY 1000
/* Watch streams open at once; one more is 429. */
#define WSR_KCPSIM_WATCH_MAX 32
/* How long a watch lasts without ?timeoutSeconds= (kube-apiserver's
 * --min-request-timeout), and the longest ?timeoutSeconds= accepted. */
#define WSR_KCPSIM_WATCH_TIMEOUT_S 1800
#define WSR_KCPSIM_WATCH_TIMEOUT_MAX_S 86400
/* Time between BOOKMARK events of a watch with ?allowWatchBookmarks=true. */
#define WSR_KCPSIM_WATCH_BOOKMARK_MS 60000
/* How often the ticker sweeps the clock and wakes streams. */
#define WSR_KCPSIM_WATCH_TICK_MS 100
/* Bytes of events a stream prepares ahead of what the client has read. */
#define WSR_KCPSIM_WATCH_CHUNK (64u * 1024)

enum { WSR_KCPSIM_EV_ADDED, WSR_KCPSIM_EV_MODIFIED, WSR_KCPSIM_EV_DELETED };

/* The store's one hook: called by every write. ADDED: w was just linked
 * (obj NULL, w->obj is new). MODIFIED: obj becomes w's object (w->obj is
 * still the one before). DELETED: w and everything below it are about to
 * be removed; each gets a DELETED event under a new resourceVersion with
 * its last object. Streams of the list are woken. */
void wsr_kcpsim_watch_record(wsr_kcpsim_store *s, int type, const wsr_kcpsim_ws *w,
			     const cJSON *obj);

/* Wakes every stream with something due at now (events, a bookmark, its
 * end); the ticker calls it after each sweep. Under the store's lock. */
void wsr_kcpsim_watch_tick(wsr_kcpsim_store *s, int64_t now);

/* Stops the ticker and frees the history (store_free calls it first).
 * Every stream must have been freed before. */
void wsr_kcpsim_watch_free(wsr_kcpsim_store *s);

/* 1 when the request is a watch (?watch=true, 1, t, ...). */
int wsr_kcpsim_is_watch(const wsr_kcpsim_call *c);

/* Answers a watch of the call's workspace's children (selected by sel):
 * a stream, or 400, 429, 503. */
void wsr_kcpsim_watch_ws(wsr_kcpsim_call *c, const wsr_kcpsim_selector *sel);

/* Answers a watch of the n workspace types here: they never change, so
 * the stream is their ADDED events (unless a resourceVersion is given),
 * bookmarks, and its end. */
void wsr_kcpsim_watch_types(wsr_kcpsim_call *c, const cJSON **types, size_t n);
#endif
