/* watch: the `wsr watch` daemon. One loop, one reconcile at a time: a
 * change in the source (inotify, a new Git commit), an authentic webhook,
 * the interval or a due retry starts a reconcile, which is the flow of
 * `wsr apply` (run.c, apply.c) with what only a daemon needs around it —
 * per-workspace backoff, holds for maintenance windows, drift reported or
 * corrected (selfHeal), invalid files stopping only their own workspaces,
 * status and metrics for the HTTP endpoints, one event per change.
 *
 * Signals only set flags: SIGTERM/SIGINT finish the step in flight, save
 * state and end the loop (exit 0); SIGHUP reloads the configuration. */
#ifndef WSR_RECONCILER_WATCH_H
#define WSR_RECONCILER_WATCH_H
#include <stdint.h>

typedef struct wsr_watch_opts {
	const char *dir;	 /* the directory source (git_url NULL); default "." */
	const char *git_url;	 /* the Git source */
	const char *git_ref;	 /* branch, tag or commit; NULL: the remote's default branch */
	const char *git_path;	 /* subdirectory of the repository; NULL: its root */
	const char *config_file; /* NULL: DIR/wsr.yaml, or with git ./wsr.yaml (or defaults) */
	int64_t interval_ms;	 /* 0: the config's watch.interval */
	const char *listen;	 /* NULL: the config's watch.listen; "off": no endpoints */
	int once;		 /* one reconcile, then exit with plan's detailed exit code */
	int prune;
	int allow_replace;
	int parallelism; /* 0: the config's */
	int log_json;	 /* events as JSON lines instead of text */
} wsr_watch_opts;

/* Runs the daemon until a stop signal (or one reconcile with once).
 * Returns the exit status: 0 after a clean stop; with once 0 (no changes),
 * 2 (changes were planned) or 1 (an error, a failed change). */
int wsr_watch_run(const wsr_watch_opts *o);
#endif
