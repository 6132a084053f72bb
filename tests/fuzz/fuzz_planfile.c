/* fuzz_planfile: one fuzzed saved plan through wsr_planfile_read, as
 * `wsr apply FILE` starts, then wsr_planfile_check against the state it
 * names with its own plan as the fresh one: a plan that loads compared
 * with itself must never be stale, or no saved plan could be applied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "reconciler/planfile.h"
#include "state/state.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_util.h"

/* The check `wsr apply FILE` makes, against an unchanged state and plan. */
static void check_against_itself(const wsr_planfile *pf, wsr_diag *diag)
{
	wsr_run r = {0};
	r.state = wsr_state_new();
	if (!r.state)
		return;
	free(r.state->lineage);
	r.state->lineage = strdup(pf->lineage);
	r.state->serial = pf->serial;
	if (r.state->lineage && wsr_planfile_check(pf, &r, pf->plan, diag) != 0) {
		fprintf(stderr, "a saved plan is stale against itself\n");
		abort();
	}
	wsr_state_free(r.state);
}

static int fuzz_planfile(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file("plan.json", data, size);
	wsr_planfile *pf = NULL;
	wsr_diag diag;
	wsr_diag_init(&diag);
	if (wsr_planfile_read(&pf, path, &diag) == 0)
		check_against_itself(pf, &diag);
	fuzz_render_diag(&diag);
	wsr_planfile_free(pf);
	wsr_diag_free(&diag);
	return 0;
}
WSR_FUZZ_TARGET(fuzz_planfile)
