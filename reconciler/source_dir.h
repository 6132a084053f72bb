/* source_dir: the directory source of `wsr watch` — inotify on the spec
 * directory and every subdirectory (new ones are followed as they appear).
 * It only says "something the loader reads may have changed"; the watch
 * loop debounces bursts and reloads the whole directory, so a missed
 * detail (a queue overflow) costs one extra reconcile, never a stale one. */
#ifndef WSR_RECONCILER_SOURCE_DIR_H
#define WSR_RECONCILER_SOURCE_DIR_H
#include "lib/diag.h"

#define WSR_DIR_WATCH_MAX 8192 /* directories watched; more are reported once and not watched */

typedef struct wsr_dir_watch wsr_dir_watch;

/* Watches dir recursively, skipping dot directories (.wsr/ holds state,
 * whose writes must not trigger reconciles; .git/). Errors go to diag. */
int wsr_dir_watch_open(wsr_dir_watch **out, const char *dir, wsr_diag *diag);

/* The descriptor to poll for POLLIN. */
int wsr_dir_watch_fd(const wsr_dir_watch *w);

/* Reads the pending events without blocking. Returns 1 when a spec file
 * (*.yaml, *.yml, wsr.yaml) or a directory was written, created, renamed
 * or removed, or events were lost; 0 for events that do not matter (an
 * editor's swap file); a negative error when reading failed. */
int wsr_dir_watch_read(wsr_dir_watch *w);

void wsr_dir_watch_free(wsr_dir_watch *w);
#endif
