/* run: config -> load -> state -> refresh -> plan -> check. */
#include "reconciler/run.h"

#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "reconciler/config.h"
#include "reconciler/load.h"

/* Lists every provider that desired resources or state entries use; one
 * paginated listing per provider, not one request per workspace. */
static int refresh(wsr_run *r, wsr_diag *diag)
{
	const char *names[WSR_ENGINE_MAX_PROVIDERS];
	int n = 0;
	size_t total = r->desired.n + r->state->n;
	for (size_t i = 0; i < total && n < WSR_ENGINE_MAX_PROVIDERS; i++) {
		const char *name = i < r->desired.n ? r->desired.v[i]->provider
						    : r->state->v[i - r->desired.n]->provider;
		int seen = 0;
		for (int j = 0; j < n; j++)
			seen |= strcmp(names[j], name) == 0;
		if (!seen)
			names[n++] = name;
	}
	for (int i = 0; i < n; i++) {
		wsr_engine_provider *ep;
		int rc = wsr_engine_provider_open(r->engine, names[i], &ep, diag);
		if (rc)
			return rc;
		rc = ep->ops->list(ep->p, &r->observed, diag);
		if (rc)
			return rc;
		wsr_log(WSR_LOG_INFO, "%s: %zu resources observed", names[i], r->observed.n);
	}
	return 0;
}

int wsr_run_plan(wsr_run **out, const wsr_run_opts *opts, wsr_diag *diag)
{
	wsr_run *r = calloc(1, sizeof(*r));
	*out = r;
	if (!r)
		return WSR_ENOMEM;
	const char *dir = opts->dir ? opts->dir : ".";
	wsr_config *cfg = NULL;
	int rc = wsr_config_load(&cfg, dir, diag);
	if (rc)
		return rc;
	int prune = cfg->prune || opts->plan.prune;
	rc = wsr_load_dir(dir, &cfg->home, &r->desired, diag);
	if (!rc && wsr_diag_errors(diag))
		rc = WSR_EINVAL;
	if (rc) {
		wsr_config_free(cfg);
		return rc;
	}
	if ((rc = wsr_engine_new(&r->engine, cfg, diag)))
		return rc;
	wsr_state_backend *b = r->engine->backend;
	if (opts->lock) {
		if ((rc = b->ops->lock(b, opts->command, diag)))
			return rc;
		r->locked = 1;
	}
	if ((rc = b->ops->read(b, &r->state, diag)))
		return rc;
	if ((rc = refresh(r, diag)))
		return rc;
	wsr_plan_opts po = opts->plan;
	po.prune = prune;
	if ((rc = wsr_plan_build(&r->plan, &r->desired, &r->observed, r->state, &po, diag)))
		return rc;
	return wsr_plan_check(r->plan, r->engine, diag);
}

void wsr_run_free(wsr_run *r)
{
	if (!r)
		return;
	wsr_plan_free(r->plan);
	if (r->locked)
		r->engine->backend->ops->unlock(r->engine->backend);
	wsr_state_free(r->state);
	wsr_engine_free(r->engine);
	wsr_resource_set_free(&r->desired);
	wsr_resource_set_free(&r->observed);
	free(r);
}
