/* plan: desired, observed and recorded sets -> what apply would do, per
 * resource, and why. One item per resource considered; its change holds the
 * ordered platform actions ([] for none) and the changed fields. Drift (the
 * platform differs from what state recorded as applied) is kept apart from
 * changes caused by edited specs. Refusals the platform would give come from
 * each provider's check and are plan diagnostics, so a user sees them before
 * anything happens. */
#ifndef WSR_RECONCILER_PLAN_H
#define WSR_RECONCILER_PLAN_H
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "lib/diag.h"
#include "providers/resource.h"
#include "reconciler/engine.h"
#include "state/state.h"

/* Resources named in one plan error before "and N more". */
#define WSR_PLAN_NAMES_SHOWN 3

/* What apply does to state for an item besides recording its actions. */
typedef enum {
	WSR_REC_NONE = 0,
	WSR_REC_ADOPT,	/* on the platform and in the specs, not in state: record it */
	WSR_REC_FORGET, /* in state, gone from the platform and not wanted: remove the entry */
} wsr_record_op;

typedef struct wsr_plan_item {
	wsr_change *change;		 /* always set */
	const wsr_state_entry *recorded; /* borrowed; NULL when not in state */
	wsr_record_op record;
	int orphan; /* in state, not in the specs, kept because prune is off */
	/* owned; the desired resource with its ignored (lifecycle.ignoreChanges)
	 * and creation-only fields as the platform has them, when those differ;
	 * change->desired then points here. NULL otherwise. */
	wsr_resource *effective;
	/* owned; indices of the items whose actions must all finish before this
	 * one's start (a parent's creation before a child's, a child's deletion
	 * before its parent's); see reconciler/order.h */
	size_t *after;
	size_t nafter;
	/* owned; why `wsr watch` leaves this item's actions for now ("waiting
	 * for maintenance window (next: Tue 03:00 UTC)"); NULL: go. apply
	 * starts neither a held item nor what waits for it. */
	char *hold;
	int64_t hold_until_ms; /* when the hold ends, when known; 0 otherwise */
} wsr_plan_item;

typedef struct wsr_drift {
	char *address;
	wsr_field_change *fields;
	size_t nfields;
	int gone; /* recorded, but no longer on the platform */
} wsr_drift;

typedef struct wsr_plan_opts {
	int prune;
	const char *const *targets; /* only these addresses (none: all) */
	size_t ntargets;
	const char *const *selectors; /* "key=value" label matches, all must hold */
	size_t nselectors;
	int allow_replace; /* without it a replacement is an error: it destroys the resource */
	/* without it a deletion that would destroy a resource nested in it
	 * (a kcp workspace's descendants) not itself planned for deletion is
	 * an error; see wsr_plan_check */
	int allow_cascade;
	int refresh_only; /* plan no change; only report drift, for apply to record */
	/* spec files that did not load (wsr watch): the resources declared
	 * there — by the specs, or by state's record of where they came
	 * from — are left out, as if not targeted, so a broken file stops
	 * only its own workspaces */
	const char *const *skip_files;
	size_t nskip_files;
} wsr_plan_opts;

typedef struct wsr_plan {
	wsr_plan_item *items; /* ordered by address */
	size_t n;
	wsr_drift *drift;
	size_t ndrift;
	char *lineage; /* of the state it was planned against */
	int64_t serial;
	int refresh_only;  /* apply records the drift in state and changes nothing else */
	int allow_cascade; /* from wsr_plan_opts, for wsr_plan_check */
} wsr_plan;

typedef struct wsr_plan_summary {
	int create, update, replace, remove, transfer, upgrade, adopt, forget, noop, drift;
} wsr_plan_summary;

/* Builds the plan, with the order between its items. desired, observed and
 * state must outlive it. Problems (prevented deletions, a parent that does
 * not exist, ...) go to diag with addresses. */
int wsr_plan_build(wsr_plan **out, const wsr_resource_set *desired,
		   const wsr_resource_set *observed, const wsr_state *state,
		   const wsr_plan_opts *opts, wsr_diag *diag);

/* Runs every provider's plan-time check on the items with actions. A
 * provider that lists in change->extra "descendants" (array of addresses)
 * what a deletion would destroy with it makes that deletion an error unless
 * every one of them is deleted by the plan too, or allow_cascade is set. */
int wsr_plan_check(wsr_plan *p, wsr_engine *e, wsr_diag *diag);

wsr_plan_summary wsr_plan_summarize(const wsr_plan *p);

/* The item for address (items are ordered by address), or NULL. */
wsr_plan_item *wsr_plan_find(const wsr_plan *p, const char *address);

/* 1 when apply would change anything on a platform or in state (with
 * refresh_only: when there is drift to record). */
int wsr_plan_has_changes(const wsr_plan *p);

void wsr_plan_free(wsr_plan *p);
#endif
