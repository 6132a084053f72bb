/* planfile: `wsr plan --out FILE` and `wsr apply FILE`. A saved plan
 * records where and how it was made (directory, targets, selectors, prune)
 * and against what (state lineage and serial, and the plan itself, whose
 * "before" values are what the platforms reported). Applying it plans again
 * and refuses when anything differs: the state, the platform, or the specs.
 * What runs is thus exactly what was shown. */
#ifndef WSR_RECONCILER_PLANFILE_H
#define WSR_RECONCILER_PLANFILE_H
#include <cJSON.h>

#include "lib/diag.h"
#include "reconciler/run.h"

#define WSR_PLANFILE_FORMAT "wsr.planfile/v1"
#define WSR_PLANFILE_MAX_BYTES (256u * 1024 * 1024)

typedef struct wsr_planfile {
	cJSON *doc; /* owned; the strings below point into it */
	const char *dir;
	const char *lineage;
	int64_t serial;
	int prune, allow_replace, allow_cascade, refresh_only;
	const char *targets[64];
	size_t ntargets;
	const char *selectors[64];
	size_t nselectors;
	const cJSON *plan;
} wsr_planfile;

/* Saves the plan made by r with opts (plan_json from wsr_render_json). */
int wsr_planfile_write(const char *path, const wsr_run_opts *opts, const wsr_run *r,
		       const cJSON *plan_json, wsr_diag *diag);

/* Reads and checks a saved plan. */
int wsr_planfile_read(wsr_planfile **out, const char *path, wsr_diag *diag);

/* Compares a fresh run with the saved plan: WSR_ECONFLICT (with the reason in
 * diag) when it is stale. */
int wsr_planfile_check(const wsr_planfile *pf, const wsr_run *r, const cJSON *fresh_json,
		       wsr_diag *diag);

void wsr_planfile_free(wsr_planfile *pf);
#endif
