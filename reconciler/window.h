/* window: when `wsr watch` may start a disruptive change (an upgrade or a
 * replacement) of a Loopback workspace — the workspace's weekly maintenance
 * window or its daily priority hour — and the holds it puts on plan items
 * until then. Pure calendar arithmetic on UTC milliseconds: the clock is the
 * caller's, so tests pass any instant and nothing here waits. plan and
 * apply on the command line never call it: only watch holds. */
#ifndef WSR_RECONCILER_WINDOW_H
#define WSR_RECONCILER_WINDOW_H
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "reconciler/plan.h"

/* The platform's defaults (docs/api/loopback.md, Maintenance): every
 * weekday's window at 03:00 UTC, the priority hour at 04:00 UTC. */
#define WSR_WINDOW_DEFAULT_HOUR 3
#define WSR_WINDOW_DEFAULT_PRIORITY_HOUR 4
/* How long a window (and the priority hour) lasts. */
#define WSR_WINDOW_LENGTH_MS (60 * 60 * 1000LL)

/* The next maintenance window of a Loopback workspace at or after now (a
 * window in progress counts: returns its start, which is <= now).
 * desired_spec / observed_spec are the canonical specs (either may be
 * NULL): maintenance.schedule and maintenance.priorityHour are taken from
 * the desired spec when it has them, else from the observed one, else the
 * platform defaults. A weekday missing from a schedule has no window; a
 * schedule with no weekday at all is the default one. priority: use the
 * daily priority hour instead of the weekly schedule. Windows are
 * [start, start + 1h), the end exclusive. Returns 1 when now is inside the
 * window, 0 otherwise; *start_ms is that window's start. */
int wsr_window_next(int64_t *start_ms, const cJSON *desired_spec, const cJSON *observed_spec,
		    int priority, int64_t now_ms);

/* "Tue 03:00 UTC" for ms into out (>= 16 bytes; shorter is truncated).
 * Returns out. */
char *wsr_window_label(int64_t ms, char *out, size_t outlen);

/* What a Loopback workspace whose spec has no lifecycle.disruptive does:
 * the config's watch.disruptive. */
typedef enum { WSR_DISRUPT_WINDOW = 0, WSR_DISRUPT_IMMEDIATE } wsr_disrupt_default;

/* Holds every item of p whose change is disruptive (change->disruptive),
 * of provider "loopback", with actions, when now_ms is outside its window:
 * sets hold to "waiting for maintenance window (next: Tue 03:00 UTC)" (with
 * lifecycle.disruptive: priority, "waiting for maintenance window
 * (priority hour; next: Tue 04:00 UTC)") and hold_until_ms to the window's
 * start. Not held: a desired spec with lifecycle.disruptive: immediate, or
 * without lifecycle.disruptive when dflt is WSR_DISRUPT_IMMEDIATE. An item
 * already held is left as it is. Returns the number of items it held, or
 * WSR_ENOMEM (items held until then keep their hold). */
int wsr_window_hold(wsr_plan *p, int64_t now_ms, wsr_disrupt_default dflt);
#endif
