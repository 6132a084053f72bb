/* apply: carries a plan out. Independent resources run in parallel on
 * `parallelism` worker threads, a resource only once the items it waits
 * for (a parent's creation, a child's deletion) have succeeded — after a
 * failure, what waits for it is not started and is counted as skipped; each worker runs one
 * resource's actions in order through the provider's start/poll, polling asynchronous platform
 * tasks with a growing interval up to the provider's timeout. The calling
 * thread is the only one that touches state: it writes state after every
 * finished step (steps that finish while a write is in progress go into the
 * next write, so 10,000 quick steps do not mean 10,000 rewrites). An
 * interruption therefore loses at most the steps of the write in progress,
 * and those are found again by the next refresh (the platform has them, the
 * plan records them), never duplicated.
 *
 * Stopping: *stop = 1 (first SIGINT/SIGTERM) starts nothing new, finishes the
 * operations in flight and saves state; *stop >= 2 stops waiting for them.
 * Reaching deadline_ms is a second SIGINT: the run ends by the deadline
 * (requests in flight end then too, lib/http has the same deadline), every
 * finished step is in state, and the next plan finds the outcome of what
 * was cut short on the platform. */
#ifndef WSR_RECONCILER_APPLY_H
#define WSR_RECONCILER_APPLY_H
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/diag.h"
#include "reconciler/engine.h"
#include "reconciler/plan.h"
#include "state/state.h"

typedef struct wsr_apply_opts {
	int parallelism; /* workers; at least 1 */
	/* may be NULL. Set by a signal handler on the calling thread and read
	 * by the workers: an atomic, since volatile sig_atomic_t is only safe
	 * within one thread (a data race under ThreadSanitizer otherwise). */
	atomic_int *stop;
	FILE *progress;	      /* one line per started/finished step; may be NULL */
	int poll_min_ms;      /* first polling interval (default 100) */
	int poll_max_ms;      /* longest polling interval (default 2000) */
	const char *revision; /* source revision recorded with every entry written; may be NULL */
	int64_t deadline_ms;  /* a wsr_clock_mono_ms() time to stop at; 0: none */
	const char *deadline_hint; /* what set it ("--timeout 30m"), for messages */
	/* called (serialized, from a worker) when an item finished: rc 0 or its error */
	void (*on_item)(void *arg, const wsr_plan_item *it, int rc);
	void *arg;
	/* May be NULL. Asked by a worker right before each platform operation
	 * it starts (every action of an item), outside apply's lock: 0 lets it
	 * start; anything else means this process may no longer change the
	 * platform (the HA daemon lost its leadership, reconciler/watch_ha.h).
	 * Then that item is not started (or, after its first action, abandoned),
	 * nothing new starts, items in flight finish their current operation,
	 * no more state is written, and each refused item is a warning under
	 * its address, counted in wsr_apply_result.refused, never as failed.
	 * It may block (one etcd round-trip) and is called from several workers
	 * at once. */
	int (*may_start)(void *arg);
	void *may_start_arg;
} wsr_apply_opts;

typedef struct wsr_apply_result {
	int succeeded; /* resources whose every action finished */
	int failed;    /* resources with a failed action */
	int skipped;   /* resources not started because of a stop or a failure they wait for */
	int held;      /* resources not started because they are held (wsr_plan_item.hold) */
	int state_writes;
	int interrupted;
	int timed_out; /* stopped at deadline_ms */
	int refused;   /* items not started or abandoned because may_start said no */
} wsr_apply_result;

/* The state entry recording r as the platform has it, with applied as
 * what wsr applied (both copied without sensitive values), labels and
 * source from the spec d (may be NULL). NULL when out of memory. */
wsr_state_entry *wsr_apply_entry(const wsr_resource *r, const cJSON *applied,
				 const wsr_resource *d);

/* Applies p, recording into state through backend (already locked).
 * Returns 0 when every step succeeded and state was saved; otherwise an
 * error, with each failure in diag under its address. */
int wsr_apply_run(wsr_apply_result *res, wsr_engine *e, wsr_plan *p, wsr_state *state,
		  const wsr_apply_opts *opts, wsr_diag *diag);
#endif
