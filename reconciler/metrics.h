/* metrics: the numbers `wsr watch` exports on GET /metrics, in Prometheus
 * text format 0.0.4. Every series of the contract exists from the start
 * (at 0) so a dashboard or alert sees it before the first event, and label
 * values outside the contract's sets are dropped so no input can grow the
 * number of series. Thread-safe: the loop records, the HTTP thread renders. */
#ifndef WSR_RECONCILER_METRICS_H
#define WSR_RECONCILER_METRICS_H
#include <stdint.h>

/* Longest wsr_source_info revision label kept (a commit id is 40; a
 * longer one is cut, not refused). */
#define WSR_METRICS_MAX_REVISION 128

typedef struct wsr_metrics wsr_metrics;

/* NULL when out of memory. */
wsr_metrics *wsr_metrics_new(void);
void wsr_metrics_free(wsr_metrics *m);

/* A reconcile finished: result is "ok", "failed", "invalid" or "error"
 * (anything else is ignored), secs its duration; with "ok", now_ms (wall
 * clock, ms since the epoch) becomes wsr_last_success_timestamp_seconds. */
void wsr_metrics_reconcile(wsr_metrics *m, const char *result, double secs, int64_t now_ms);

/* One action of a change was applied: action is "create", "update",
 * "replace", "delete", "transfer" or "upgrade" (else ignored); ok 0 counts
 * it as failed. */
void wsr_metrics_change(wsr_metrics *m, const char *action, int ok);

/* n workspaces were found drifted by one reconcile (n <= 0: nothing). */
void wsr_metrics_drift(wsr_metrics *m, int n);

/* An error of kind "source", "config", "spec", "plan", "apply", "state" or
 * "webhook" (else ignored). */
void wsr_metrics_error(wsr_metrics *m, const char *kind);

/* A source fetch took secs. */
void wsr_metrics_fetch(wsr_metrics *m, double secs);

/* Sets how many changes are held now, by reason (negative counts as 0). */
void wsr_metrics_held(wsr_metrics *m, int window, int selfheal, int backoff);

/* Sets the revision the source is at (NULL or "": unknown, no
 * wsr_source_info sample). Copied. */
void wsr_metrics_revision(wsr_metrics *m, const char *rev);

/* watch.ha: this replica leads (1) or follows (0), and has changed role
 * transitions times. The two series wsr_ha_leader and
 * wsr_ha_transitions_total exist from the first call on (a daemon without
 * watch.ha has neither). */
void wsr_metrics_ha(wsr_metrics *m, int leader, int64_t transitions);

/* The exposition text (caller frees); NULL when out of memory. */
char *wsr_metrics_render(wsr_metrics *m);
#endif
