/* run: the flow every planning command shares, in the order of DESIGN.md —
 * config, load and validate the specs, read state, refresh (list what the
 * platforms report), diff into a plan, and check it against each platform's
 * rules. plan stops after it; apply carries the plan out. */
#ifndef WSR_RECONCILER_RUN_H
#define WSR_RECONCILER_RUN_H
#include "lib/diag.h"
#include "providers/resource.h"
#include "reconciler/engine.h"
#include "reconciler/load.h"
#include "reconciler/plan.h"
#include "state/state.h"

typedef struct wsr_run_opts {
	const char *dir;       /* spec directory ("." by default) */
	wsr_plan_opts plan;    /* targets, selectors; prune is or-ed with the config's */
	int lock;	       /* take the state lock first (apply) */
	const char *command;   /* recorded with the lock ("wsr apply") */
	int64_t lock_wait_ms;  /* --lock-timeout: wait this long for a busy lock */
	wsr_deadline deadline; /* --timeout; at_ms 0: none */
	/* wsr watch: */
	const char *config_file;     /* this wsr.yaml instead of dir's (it must exist) */
	const wsr_spec_files *files; /* specs in memory (a Git commit) instead of dir's files */
	int keep_going;		     /* a spec file that does not load leaves out only its own
					workspaces (plan_opts.skip_files) and holds every deletion;
					the run goes on with the rest */
	/* wsr watch with watch.ha: every state write of the run is fenced on
	 * this key (the leadership key) keeping this create_revision, so a
	 * replica that lost its leadership cannot write (state.h, fence). NULL:
	 * not fenced. A backend that cannot fence is an error. */
	const char *fence_key;
	int64_t fence_revision;
} wsr_run_opts;

typedef struct wsr_run {
	wsr_engine *engine;
	wsr_resource_set desired;
	wsr_resource_set observed;
	wsr_state *state;
	wsr_plan *plan;
	int locked;
	char **bad_files; /* keep_going: the spec files that did not load */
	size_t nbad;
} wsr_run;

/* Runs the flow up to a checked plan. Every problem goes into diag. Returns
 * 0 when a plan was made (it may still carry error diagnostics: refusals),
 * or an error when the flow stopped early (*out is then still set, with
 * whatever it got to, and must be freed). */
int wsr_run_plan(wsr_run **out, const wsr_run_opts *opts, wsr_diag *diag);

/* Releases the lock (if taken) and everything the run holds. */
void wsr_run_free(wsr_run *r);
#endif
