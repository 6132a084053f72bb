/* watch_report: what `wsr watch` tells the world, kept apart from the loop
 * that decides what to do — events on stderr (text or JSON lines), the
 * /status document, the metrics, and the per-workspace memory that
 * outlives one reconcile (failures, backoff, last error). Only the watch
 * loop's thread calls it; the HTTP server reads the published copies. */
#ifndef WSR_RECONCILER_WATCH_REPORT_H
#define WSR_RECONCILER_WATCH_REPORT_H
#include <stdint.h>

#include <cJSON.h>

#include "lib/diag.h"
#include "lib/hmap.h"
#include "reconciler/metrics.h"
#include "reconciler/run.h"

typedef struct wsr_report {
	int json;	      /* events as JSON lines */
	wsr_metrics *metrics; /* owned */
	cJSON *source;	      /* the "source" object of the status */
	cJSON *last;	      /* the "reconcile" object */
	cJSON *workspaces;    /* the "workspaces" array of the last reconcile */
	cJSON *diagnostics;   /* of the last reconcile */
	wsr_hmap failing;     /* address -> struct failure (owned) */
	int64_t started_ms;
	int64_t count;
	int ok;		    /* the last reconcile's result was ok */
	int source_ok;	    /* the source was reachable last time */
	char *source_error; /* why not */
	char revision[41];
	char not_ready[256];
} wsr_report;

/* type "git" or "dir"; where is the directory (a Git source's URL is set
 * with wsr_report_source_url once it is known without a password); ref and path
 * (may be NULL) describe a Git source. */
int wsr_report_init(wsr_report *r, int json, const char *type, const char *where, const char *ref,
		    const char *path);
void wsr_report_free(wsr_report *r);

/* One event on stderr: level (error|warn|info), the event's name, then
 * key/value string pairs ended by WSR_EV_END (a NULL value is written as
 * null in JSON and left out in text). */
#define WSR_EV_END ((const char *)NULL)
void wsr_report_event(wsr_report *r, const char *level, const char *event, ...);

/* Every entry of diag as an event (with file:line:col, address, and the
 * revision), and errors counted under metrics kind. */
void wsr_report_diag(wsr_report *r, const wsr_diag *diag, const char *kind);

/* The Git source's URL as it may be shown (no password). */
void wsr_report_source_url(wsr_report *r, const char *url);

void wsr_report_fetch(wsr_report *r, double secs);
/* The source's state after a fetch: rev is what the specs come from
 * (NULL: none yet); error NULL when the fetch worked. */
void wsr_report_source(wsr_report *r, const char *rev, const char *error);

void wsr_report_start(wsr_report *r);
/* The end of a reconcile: result ok|failed|invalid|error. */
void wsr_report_reconcile(wsr_report *r, const char *result, double secs, const char *rev);

/* One finished change (called as it finishes, from apply's worker, one at
 * a time): its event, its metric, and its failure memory — a failure
 * waits backoff_initial_ms doubled per failure in a row, up to
 * backoff_max_ms, from when; a success forgets earlier failures. error
 * may be NULL. */
void wsr_report_change(wsr_report *r, const wsr_plan_item *it, int rc, const char *error,
		       int64_t backoff_initial_ms, int64_t backoff_max_ms, int64_t when);

/* What one reconcile did: its diagnostics as events, drift, holds and the
 * workspaces of the status. run may be NULL (planning failed early); rcs
 * (per plan item: 1 not run, 0 ok, an error) NULL when nothing was applied. */
void wsr_report_outcome(wsr_report *r, const wsr_run *run, int rc, const int *rcs,
			const wsr_diag *diag);

/* When address may be tried again (wall clock ms), 0 when it may now. */
int64_t wsr_report_retry_at(const wsr_report *r, const char *address);

/* The earliest wall-clock time something held becomes due (a retry, a
 * maintenance window opening); 0 when nothing waits on time. */
int64_t wsr_report_next_due(const wsr_report *r);

/* The status document (wsr.status/v1), a new string. */
char *wsr_report_status(const wsr_report *r);

/* Why the daemon is not ready (NULL: ready): no reconcile finished with
 * result ok yet, or the source was unreachable last time. */
const char *wsr_report_not_ready(wsr_report *r);
#endif
