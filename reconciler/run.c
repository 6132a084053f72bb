/* run: config -> load -> state -> refresh -> plan -> check. */
#include "reconciler/run.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/log.h"
#include "reconciler/config.h"
#include "reconciler/load.h"

/* The addresses of provider name that desired or state hold but observed
 * lacks, read one by one: for a provider whose listing is partial (see
 * wsr_provider_ops.partial_list). */
static int read_unlisted(wsr_run *r, wsr_engine_provider *ep, const char *name, wsr_diag *diag)
{
	size_t total = r->desired.n + r->state->n;
	for (size_t i = 0; i < total; i++) {
		const char *prov = i < r->desired.n ? r->desired.v[i]->provider
						    : r->state->v[i - r->desired.n]->provider;
		const char *addr = i < r->desired.n ? r->desired.v[i]->address
						    : r->state->v[i - r->desired.n]->address;
		if (strcmp(prov, name) != 0 || wsr_resource_set_find(&r->observed, addr) ||
		    (i >= r->desired.n && wsr_resource_set_find(&r->desired, addr)))
			continue; /* a recorded one also desired was read already */
		wsr_resource *got = NULL;
		int rc = ep->ops->read(ep->p, addr, &got, diag);
		if (!rc && got && (rc = wsr_resource_set_add(&r->observed, got)) != 0)
			wsr_resource_free(got);
		if (rc)
			return rc;
	}
	return 0;
}

/* Adds the providers the desired resources and the first n_state state
 * entries use to names, each once, in first-use order, after those
 * already in names (the first n). Returns the new count. */
static int provider_names(const wsr_run *r, size_t n_state, const char **names, int n)
{
	size_t total = r->desired.n + n_state;
	for (size_t i = 0; i < total && n < WSR_ENGINE_MAX_PROVIDERS; i++) {
		const char *name = i < r->desired.n ? r->desired.v[i]->provider
						    : r->state->v[i - r->desired.n]->provider;
		int seen = 0;
		for (int j = 0; j < n; j++)
			seen |= strcmp(names[j], name) == 0;
		if (!seen)
			names[n++] = name;
	}
	return n;
}

/* One paginated listing per provider, not one request per workspace. */
static int list(wsr_run *r, const char *const *names, int from, int to, wsr_diag *diag)
{
	for (int i = from; i < to; i++) {
		wsr_engine_provider *ep;
		int rc = wsr_engine_provider_open(r->engine, names[i], &ep, diag);
		if (!rc)
			rc = ep->ops->list(ep->p, &r->observed, diag);
		if (rc)
			return rc;
		wsr_log(WSR_LOG_INFO, "%s: %zu resources observed", names[i], r->observed.n);
	}
	return 0;
}

/* The listing of the providers the specs use, on its own thread while the
 * state is read: the two are independent, and each is a third of a plan's
 * time at 10,000 workspaces. Only this thread touches the engine's
 * providers and the observed set until it is joined. */
typedef struct lister {
	wsr_run *r;
	const char *names[WSR_ENGINE_MAX_PROVIDERS];
	int n;
	wsr_diag diag;
	int rc;
	pthread_t thread;
	int started;
} lister;

static void *lister_main(void *arg)
{
	lister *l = arg;
	l->rc = list(l->r, l->names, 0, l->n, &l->diag);
	return NULL;
}

/* Reads the state (into r->state) while the providers the desired
 * resources use are listed; then lists those only the state names, and
 * reads one by one what a partial listing left out (wsr_provider_ops.partial_list). */
static int read_state_and_refresh(wsr_run *r, wsr_diag *diag)
{
	wsr_state_backend *b = r->engine->backend;
	int rc = b->ops->trusted ? b->ops->trusted(b, diag) : 0;
	if (rc)
		return rc; /* before any request: nothing is asked for a state refused */
	lister l = {.r = r};
	wsr_diag_init(&l.diag);
	r->observed.share = &r->desired; /* an unchanged workspace is held once */
	l.n = provider_names(r, 0, l.names, 0);
	if (l.n)
		l.started = pthread_create(&l.thread, NULL, lister_main, &l) == 0;
	rc = b->ops->read(b, &r->state, diag);
	if (l.started)
		pthread_join(l.thread, NULL);
	else if (l.n && !rc) /* no thread to be had: list here */
		lister_main(&l);
	wsr_diag_move(diag, &l.diag);
	wsr_diag_free(&l.diag);
	if (rc || (rc = l.rc))
		return rc;
	const char *names[WSR_ENGINE_MAX_PROVIDERS];
	memcpy(names, l.names, sizeof(names));
	int n = provider_names(r, r->state->n, names, l.n);
	if ((rc = list(r, names, l.n, n, diag)))
		return rc;
	for (int i = 0; i < n; i++) {
		wsr_engine_provider *ep = wsr_engine_provider_get(r->engine, names[i]);
		if (ep && ep->ops->partial_list && ep->ops->read &&
		    (rc = read_unlisted(r, ep, names[i], diag)))
			return rc;
	}
	return 0;
}

/* keep_going: the files named by the errors loading added to diag. */
static int note_bad_files(wsr_run *r, const wsr_diag *diag, size_t from)
{
	for (size_t i = from; i < diag->n; i++) {
		const wsr_diag_entry *e = &diag->v[i];
		if (e->severity != WSR_SEV_ERROR || !e->file)
			continue;
		size_t k = 0;
		while (k < r->nbad && strcmp(r->bad_files[k], e->file) != 0)
			k++;
		if (k < r->nbad)
			continue;
		char **v = realloc(r->bad_files, (r->nbad + 1) * sizeof(*v));
		if (!v)
			return WSR_ENOMEM;
		r->bad_files = v;
		if (!(v[r->nbad] = strdup(e->file)))
			return WSR_ENOMEM;
		r->nbad++;
	}
	/* errors past WSR_DIAG_MAX have no entry to name their file */
	return diag->dropped ? WSR_EINVAL : 0;
}

/* keep_going with invalid files: a workspace whose spec moved into a file
 * that does not load looks like one no longer wanted, so no deletion goes
 * ahead until every spec loads again. */
static int hold_deletions(wsr_run *r)
{
	for (size_t i = 0; r->nbad && i < r->plan->n; i++) {
		wsr_plan_item *it = &r->plan->items[i];
		if (it->change->desired || !it->change->nactions || it->hold)
			continue;
		it->hold = wsr_strdupf("deletion waits until every spec loads (%s does not)",
				       r->bad_files[0]);
		if (!it->hold)
			return WSR_ENOMEM;
	}
	return 0;
}

static int load_specs(wsr_run *r, const wsr_run_opts *opts, const wsr_config *cfg, wsr_diag *diag)
{
	size_t before = diag->n, errors = wsr_diag_errors(diag);
	int rc = opts->files
		     ? wsr_load_files(opts->files, &cfg->home, &r->desired, diag)
		     : wsr_load_dir(opts->dir ? opts->dir : ".", &cfg->home, &r->desired, diag);
	if (!rc && wsr_diag_errors(diag) > errors)
		rc = WSR_EINVAL;
	if (rc == WSR_EINVAL && opts->keep_going)
		rc = note_bad_files(r, diag, before);
	return rc;
}

int wsr_run_plan(wsr_run **out, const wsr_run_opts *opts, wsr_diag *diag)
{
	wsr_run *r = calloc(1, sizeof(*r));
	*out = r;
	if (!r)
		return WSR_ENOMEM;
	const char *dir = opts->dir ? opts->dir : ".";
	wsr_config *cfg = NULL;
	int rc = opts->config_file ? wsr_config_load_file(&cfg, opts->config_file, diag)
				   : wsr_config_load(&cfg, dir, diag);
	if (rc)
		return rc;
	int prune = cfg->prune || opts->plan.prune;
	if ((rc = load_specs(r, opts, cfg, diag))) {
		wsr_config_free(cfg);
		return rc;
	}
	if ((rc = wsr_engine_new(&r->engine, cfg, diag)))
		return rc;
	r->engine->deadline = opts->deadline;
	wsr_state_backend *b = r->engine->backend;
	if (opts->fence_key) { /* first: nothing of the run is written unfenced */
		if (!b->ops->fence) {
			wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL,
				     "set state.backend: etcd in wsr.yaml",
				     "watch.ha needs a backend that can fence (%s cannot)",
				     b->ops->name);
			return WSR_EINVAL;
		}
		if ((rc = b->ops->fence(b, opts->fence_key, opts->fence_revision))) {
			wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, NULL,
				     "cannot fence the state on %s: %s", opts->fence_key,
				     wsr_strerror(rc));
			return rc;
		}
	}
	if (opts->lock) {
		if ((rc = wsr_state_lock(b, opts->command, opts->lock_wait_ms, NULL, diag)))
			return rc;
		r->locked = 1;
	}
	if ((rc = read_state_and_refresh(r, diag)))
		return rc;
	wsr_plan_opts po = opts->plan;
	po.prune = prune;
	po.skip_files = (const char *const *)r->bad_files;
	po.nskip_files = r->nbad;
	if ((rc = wsr_plan_build(&r->plan, &r->desired, &r->observed, r->state, &po, diag)) ||
	    (rc = hold_deletions(r)))
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
	wsr_resource_set_free(&r->observed); /* first: it borrows from desired */
	wsr_resource_set_free(&r->desired);
	for (size_t i = 0; i < r->nbad; i++)
		free(r->bad_files[i]);
	free(r->bad_files);
	free(r);
}
