/* apply: parallel execution of a plan with one state writer. Items are
 * handed to workers from a ready queue: an item enters it when every item
 * it waits for (its `after`, reconciler/order.h) has succeeded, so
 * independent branches of a tree run side by side while a child is never
 * created before its parent is ready. */
#include "reconciler/apply.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "reconciler/diff.h"

/* One state change waiting to be written: put an entry, or remove an address. */
typedef struct update {
	struct update *next;
	wsr_state_entry *put; /* owned; NULL for a removal */
	char *remove;
} update;

typedef struct ctx {
	wsr_engine *e;
	wsr_plan *p;
	const wsr_apply_opts *o;
	wsr_diag *diag;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* the ready queue: items whose `after` items all succeeded, in plan
	 * order; an item enters it once its last prerequisite finishes */
	size_t *ready, head, tail;
	size_t *unmet;		 /* per item: prerequisites not yet finished */
	size_t *dep_start, *dep; /* per item: the items waiting for it (CSR) */
	int inflight;		 /* items being run */
	int running;		 /* workers not yet finished */
	update *pending;	 /* newest first */
	int write_failed;
	int lost; /* may_start said no: start nothing, write nothing more */
	wsr_apply_result res;
} ctx;

/* run_item's result for an item may_start refused (not an error code: the
 * item neither failed nor succeeded) */
#define REFUSED 1

/* Waits (mu held) for a signal on cv, at most 200 ms: long enough not to
 * spin, short enough that a stop flag set by a signal handler, which cannot
 * signal cv, is seen promptly. */
static void wait_briefly(ctx *c)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 200 * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&c->cv, &c->mu, &ts);
}

static int past_deadline(const ctx *c)
{
	return c->o->deadline_ms && wsr_clock_mono_ms() >= c->o->deadline_ms;
}

/* level 1: start nothing new; level 2: stop waiting for what runs. The
 * deadline is both, like a second SIGINT. */
static int stopping(const ctx *c, int level)
{
	return (c->o->stop && *c->o->stop >= level) ||
	       (level == 1 && (c->write_failed || c->lost)) || past_deadline(c);
}

static void progress(const ctx *c, const char *fmt, const char *address, const char *what,
		     double secs)
{
	if (c->o->progress) {
		fprintf(c->o->progress, fmt, address, what, secs);
		fflush(c->o->progress);
	}
}

static void push_update(ctx *c, wsr_state_entry *put, const char *remove)
{
	update *u = calloc(1, sizeof(*u));
	if (u && remove)
		u->remove = strdup(remove);
	pthread_mutex_lock(&c->mu);
	if (!u || (remove && !u->remove) || (!remove && !put)) {
		c->write_failed = 1; /* cannot record: stop starting new work */
		wsr_state_entry_free(put);
		free(u);
	} else {
		u->put = put;
		u->next = c->pending;
		c->pending = u;
	}
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

wsr_state_entry *wsr_apply_entry(const wsr_resource *r, const cJSON *applied, const wsr_resource *d)
{
	wsr_state_entry *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	const cJSON *schema = wsr_diff_spec_schema(r->kind);
	s->address = strdup(r->address);
	s->provider = strdup(r->provider);
	s->kind = strdup(r->kind);
	s->id = r->id ? strdup(r->id) : NULL;
	s->applied = wsr_diff_redact(schema, applied);
	s->observed = r->spec ? wsr_diff_redact(schema, r->spec) : NULL;
	s->labels = d && d->labels ? cJSON_Duplicate(d->labels, 1) : NULL;
	s->status = r->status ? cJSON_Duplicate(r->status, 1) : NULL;
	s->file = d && d->file ? strdup(d->file) : NULL;
	s->line = d ? d->line : 0;
	s->created_ms = s->updated_ms = wsr_clock_now_ms();
	if (!s->address || !s->provider || !s->kind || !s->applied || (r->id && !s->id) ||
	    (r->spec && !s->observed) || (d && d->labels && !s->labels) ||
	    (r->status && !s->status) || (d && d->file && !s->file)) {
		wsr_state_entry_free(s);
		return NULL;
	}
	return s;
}

/* The entry after a step of ch left the resource as r. When the change is
 * finished, what was applied is the (effective) desired spec; after a step
 * of it (one hop of an upgrade, a transfer before an update) it is what the
 * platform has, so that a crash between steps leaves the rest of the change
 * to the next plan as edits of the spec, not as drift. */
static wsr_state_entry *entry_for(const wsr_change *ch, const wsr_resource *r, int finished)
{
	const wsr_resource *d = ch->desired;
	return wsr_apply_entry(r, d && finished ? d->spec : r->spec, d);
}

static const char *doing(wsr_action a)
{
	static const char *names[] = {"creating", "updating", "transferring", "upgrading",
				      "deleting"};
	return names[a];
}

static const char *done_word(wsr_action a)
{
	static const char *names[] = {"created", "updated", "transferred", "upgraded", "deleted"};
	return names[a];
}

/* Runs one action to its end; *result is the resource afterwards. */
static int run_action(ctx *c, wsr_engine_provider *ep, const wsr_change *ch, wsr_action a,
		      wsr_resource **result)
{
	wsr_op *op = NULL;
	*result = NULL;
	int rc = ep->ops->start(ep->p, ch, a, &op, c->diag);
	if (rc)
		return rc;
	int64_t deadline = wsr_clock_mono_ms() + (int64_t)ep->timeout_s * 1000;
	int interval = c->o->poll_min_ms > 0 ? c->o->poll_min_ms : 100;
	int maxi = c->o->poll_max_ms > 0 ? c->o->poll_max_ms : 2000;
	for (int first = 1;; first = 0) {
		int done = 0;
		/* at the deadline a poll could not be answered: stop waiting first */
		rc = !first && past_deadline(c) ? 0
						: ep->ops->poll(ep->p, op, &done, result, c->diag);
		if (rc || done)
			break;
		if (*result) { /* one step of several finished: record it now */
			push_update(c, entry_for(ch, *result, 0), NULL);
			wsr_resource_free(*result);
			*result = NULL;
			progress(c, "%s: %s: a step finished\n", ch->address, doing(a), 0);
		}
		if (stopping(c, 2)) {
			int at_deadline = past_deadline(c) && c->o->deadline_hint;
			rc = WSR_EINTR;
			wsr_diag_add(c->diag, WSR_SEV_WARNING, NULL, ch->address, NULL,
				     "the next plan finds its outcome on the platform",
				     "stopped waiting for %s%s%s%s", wsr_action_name(a),
				     at_deadline ? " at the deadline (" : "",
				     at_deadline ? c->o->deadline_hint : "",
				     at_deadline ? ")" : "");
			break;
		}
		if (wsr_clock_mono_ms() > deadline) {
			rc = WSR_ETIMEOUT;
			wsr_diag_add(
			    c->diag, WSR_SEV_ERROR, NULL, ch->address, NULL,
			    "raise providers.<name>.timeout in wsr.yaml if the platform is slow",
			    "%s did not finish within %d s", wsr_action_name(a), ep->timeout_s);
			break;
		}
		wsr_sleep_ms(interval, NULL);
		interval = interval * 3 / 2 > maxi ? maxi : interval * 3 / 2;
	}
	ep->ops->op_free(op);
	return rc;
}

/* Whether the next platform operation may start (wsr_apply_opts.may_start).
 * The first no is final for the whole run, and stops the other workers. */
static int allowed(ctx *c)
{
	if (!c->o->may_start)
		return 1;
	pthread_mutex_lock(&c->mu);
	int lost = c->lost;
	pthread_mutex_unlock(&c->mu);
	if (!lost && c->o->may_start(c->o->may_start_arg) == 0)
		return 1;
	pthread_mutex_lock(&c->mu);
	c->lost = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

static int run_item(ctx *c, wsr_plan_item *it)
{
	wsr_change *ch = it->change;
	wsr_engine_provider *ep = wsr_engine_provider_get(c->e, ch->provider);
	if (!ep)
		return WSR_ENOTFOUND;
	for (int i = 0; i < ch->nactions; i++) {
		wsr_action a = ch->actions[i];
		if (!allowed(c)) {
			/* checked here, right before the operation, so a replica that
			 * lost its leadership sends nothing more to the platform */
			if (i == 0)
				wsr_diag_add(c->diag, WSR_SEV_WARNING, NULL, ch->address, NULL,
					     "the replica that leads now applies it",
					     "not started: this replica is no longer the leader");
			else
				wsr_diag_add(c->diag, WSR_SEV_WARNING, NULL, ch->address, NULL,
					     "the replica that leads now finishes it",
					     "abandoned before %s: this replica is no longer the "
					     "leader",
					     wsr_action_name(a));
			progress(c, "%s: %s not started (leadership lost)\n", ch->address, doing(a),
				 0);
			return REFUSED;
		}
		int64_t t0 = wsr_clock_mono_ms();
		progress(c, "%s: %s...\n", ch->address, doing(a), 0);
		wsr_resource *r = NULL;
		int rc = run_action(c, ep, ch, a, &r);
		if (rc) {
			wsr_resource_free(r);
			progress(c, "%s: %s failed\n", ch->address, doing(a), 0);
			return rc;
		}
		if (r && r->health != WSR_HEALTH_OK) {
			/* the platform answered but the workspace is not working:
			 * recorded as converged it would be adopted as in sync */
			wsr_diag_add(c->diag, WSR_SEV_ERROR, NULL, ch->address, NULL,
				     "the next plan shows what repairs it",
				     "after the %s, %s; nothing is recorded", wsr_action_name(a),
				     r->health_why ? r->health_why : "it is broken");
			wsr_resource_free(r);
			progress(c, "%s: %s failed\n", ch->address, doing(a), 0);
			return WSR_EAPI;
		}
		double secs = (double)(wsr_clock_mono_ms() - t0) / 1000.0;
		progress(c, "%s: %s (%.1fs)\n", ch->address, done_word(a), secs);
		if (a == WSR_ACT_DELETE || !r) {
			push_update(c, NULL, ch->address);
		} else {
			/* a NULL entry makes push_update stop the run: it cannot be recorded */
			push_update(c, entry_for(ch, r, i == ch->nactions - 1), NULL);
		}
		wsr_resource_free(r);
	}
	return 0;
}

/* Called with mu held when item i finished. Its waiting items become ready
 * once nothing else holds them; after a failure they (and whatever waits
 * for them) are not started, each with a note naming the failed item. */
static void finished(ctx *c, size_t i, int ok)
{
	size_t *stack = NULL, top = 0;
	for (size_t k = c->dep_start[i]; k < c->dep_start[i + 1]; k++) {
		size_t d = c->dep[k];
		if (ok) {
			if (c->unmet[d] != (size_t)-1 && --c->unmet[d] == 0)
				c->ready[c->tail++] = d;
			continue;
		}
		if (!stack && !(stack = malloc(c->p->n * sizeof(*stack))))
			break; /* left waiting: counted as skipped all the same */
		if (c->unmet[d] != (size_t)-1) {
			c->unmet[d] = (size_t)-1; /* never to be started */
			stack[top++] = d;
		}
	}
	while (top) {
		size_t d = stack[--top];
		wsr_diag_add(c->diag, WSR_SEV_WARNING, NULL, c->p->items[d].change->address, NULL,
			     "fix the failure and apply again", "not started: %s did not finish",
			     c->p->items[i].change->address);
		for (size_t k = c->dep_start[d]; k < c->dep_start[d + 1]; k++)
			if (c->unmet[c->dep[k]] != (size_t)-1) {
				c->unmet[c->dep[k]] = (size_t)-1;
				stack[top++] = c->dep[k];
			}
	}
	free(stack);
}

static void *worker(void *arg)
{
	ctx *c = arg;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		if (stopping(c, 1))
			break;
		if (c->head == c->tail) {
			if (!c->inflight)
				break; /* nothing ready and nothing running that could free more */
			wait_briefly(c);
			continue;
		}
		size_t i = c->ready[c->head++];
		c->inflight++;
		pthread_mutex_unlock(&c->mu);
		int rc = run_item(c, &c->p->items[i]);
		pthread_mutex_lock(&c->mu);
		c->inflight--;
		if (rc == REFUSED) {
			/* neither failed nor done: what waits for it stays waiting
			 * (nothing new starts now), and the item is "not started" */
			c->res.refused++;
			pthread_cond_broadcast(&c->cv);
			continue;
		}
		if (rc)
			c->res.failed++;
		else
			c->res.succeeded++;
		if (c->o->on_item)
			c->o->on_item(c->o->arg, &c->p->items[i], rc);
		finished(c, i, rc == 0);
		pthread_cond_broadcast(&c->cv);
	}
	c->running--;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* The ready queue and the waiting counts from the plan's `after` edges. */
static int schedule(ctx *c)
{
	size_t n = c->p->n, edges = 0;
	for (size_t i = 0; i < n; i++)
		edges += c->p->items[i].nafter;
	c->ready = malloc((n ? n : 1) * sizeof(*c->ready));
	c->unmet = calloc(n ? n : 1, sizeof(*c->unmet));
	c->dep_start = calloc(n + 1, sizeof(*c->dep_start));
	c->dep = malloc((edges ? edges : 1) * sizeof(*c->dep));
	if (!c->ready || !c->unmet || !c->dep_start || !c->dep)
		return WSR_ENOMEM;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < c->p->items[i].nafter; k++)
			c->dep_start[c->p->items[i].after[k] + 1]++;
	for (size_t i = 0; i < n; i++)
		c->dep_start[i + 1] += c->dep_start[i];
	size_t *fill = calloc(n ? n : 1, sizeof(*fill));
	if (!fill)
		return WSR_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const wsr_plan_item *it = &c->p->items[i];
		for (size_t k = 0; k < it->nafter; k++) {
			size_t first = it->after[k];
			c->dep[c->dep_start[first] + fill[first]++] = i;
		}
		c->unmet[i] = it->hold ? (size_t)-1 : it->nafter;
		if (it->change->nactions && !it->nafter && !it->hold)
			c->ready[c->tail++] = i;
	}
	free(fill);
	return 0;
}

static void drop_updates(update *list)
{
	for (update *u = list, *n; u; u = n) {
		n = u->next;
		wsr_state_entry_free(u->put);
		free(u->remove);
		free(u);
	}
}

/* Applies the updates (oldest first) to state and writes it once. */
static void write_updates(ctx *c, wsr_state *state, update *list)
{
	update *rev = NULL;
	while (list) {
		update *n = list->next;
		list->next = rev;
		rev = list;
		list = n;
	}
	for (update *u = rev, *n; u; u = n) {
		n = u->next;
		if (u->put) {
			const wsr_state_entry *old = wsr_state_find(state, u->put->address);
			if (old)
				u->put->created_ms = old->created_ms;
			/* the revision the entry now stands for: this run's, or (a
			 * record without a source revision) the one it had */
			const char *rev = c->o->revision ? c->o->revision
					  : old		 ? old->revision
							 : NULL;
			if (rev)
				u->put->revision =
				    strdup(rev); /* out of memory: recorded without it */
			if (wsr_state_put(state, u->put)) {
				/* the platform has it but state cannot hold it: say so, the
				 * next plan will show it as to be recorded */
				wsr_diag_add(
				    c->diag, WSR_SEV_ERROR, NULL, u->put->address, NULL,
				    "run wsr plan: it shows the resource as to be recorded",
				    "could not record the result in state");
				wsr_state_entry_free(u->put);
			}
		} else {
			wsr_state_remove(state, u->remove);
		}
		free(u->remove);
		free(u);
	}
	wsr_state_backend *b = c->e->backend;
	if (wsr_state_write(b, state, c->diag)) {
		pthread_mutex_lock(&c->mu);
		c->write_failed = 1;
		pthread_mutex_unlock(&c->mu);
	}
	c->res.state_writes++;
}

/* A refresh-only record: the recorded entry with the drifted fields as
 * the platform now has them, so the next plan no longer reports them. */
static wsr_state_entry *refreshed(const wsr_plan_item *it, const wsr_drift *d)
{
	const wsr_change *ch = it->change;
	wsr_state_entry *s = entry_for(ch, ch->observed, 1);
	if (!s)
		return NULL;
	cJSON_Delete(s->applied);
	s->applied = cJSON_Duplicate(it->recorded->applied, 1);
	for (size_t i = 0; s->applied && i < d->nfields; i++)
		if (!d->fields[i].sensitive &&
		    wsr_json_set_path(s->applied, d->fields[i].path, d->fields[i].before) ==
			WSR_ENOMEM) {
			wsr_state_entry_free(s);
			return NULL;
		}
	cJSON_Delete(s->labels);
	s->labels = it->recorded->labels ? cJSON_Duplicate(it->recorded->labels, 1) : NULL;
	if (!ch->desired) {
		free(s->file);
		s->file = it->recorded->file ? strdup(it->recorded->file) : NULL;
		s->line = it->recorded->line;
	}
	return s;
}

/* --refresh-only: the drift goes into state; nothing else happens. */
static void queue_refresh(ctx *c)
{
	size_t j = 0;
	for (size_t i = 0; i < c->p->n && j < c->p->ndrift; i++) {
		const wsr_plan_item *it = &c->p->items[i];
		const wsr_drift *d = &c->p->drift[j];
		if (strcmp(it->change->address, d->address) != 0)
			continue;
		j++;
		if (d->gone)
			push_update(c, NULL, d->address);
		else if (it->recorded && it->change->observed)
			push_update(c, refreshed(it, d), NULL);
	}
}

/* State-only items (record an adopted resource, forget a vanished one). */
static void queue_records(ctx *c)
{
	if (c->p->refresh_only) {
		queue_refresh(c);
		return;
	}
	for (size_t i = 0; i < c->p->n; i++) {
		wsr_plan_item *it = &c->p->items[i];
		if (it->change->nactions)
			continue;
		if (it->record == WSR_REC_FORGET) {
			push_update(c, NULL, it->change->address);
		} else if (it->record == WSR_REC_ADOPT && it->change->observed) {
			wsr_state_entry *s = entry_for(it->change, it->change->observed, 1);
			if (s)
				push_update(c, s, NULL);
		}
	}
}

static void free_schedule(ctx *c)
{
	free(c->ready);
	free(c->unmet);
	free(c->dep_start);
	free(c->dep);
}

int wsr_apply_run(wsr_apply_result *res, wsr_engine *e, wsr_plan *p, wsr_state *state,
		  const wsr_apply_opts *opts, wsr_diag *diag)
{
	ctx c = {.e = e, .p = p, .o = opts, .diag = diag};
	int nworkers = opts->parallelism > 0 ? opts->parallelism : 1;
	pthread_t *tids = calloc((size_t)nworkers, sizeof(*tids));
	if (!tids || schedule(&c)) {
		free(tids);
		free_schedule(&c);
		return WSR_ENOMEM;
	}
	pthread_mutex_init(&c.mu, NULL);
	pthread_cond_init(&c.cv, NULL);
	queue_records(&c);
	/* workers must not take SIGINT/SIGTERM: the calling thread's handler sets the flag */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	/* running is counted under mu: a worker with nothing to do exits at
	 * once, and its decrement must not race the increment (a lost update
	 * here left `wsr watch` waiting forever on an empty plan) */
	pthread_mutex_lock(&c.mu);
	for (int i = 0; i < nworkers; i++)
		if (pthread_create(&tids[i], NULL, worker, &c) == 0)
			c.running++;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (;;) {
		if (c.pending && c.lost) {
			/* leadership lost: the new leader's refresh finds these on the
			 * platform; a write now would be refused by the fence anyway */
			drop_updates(c.pending);
			c.pending = NULL;
		}
		if (c.pending) {
			update *list = c.pending;
			c.pending = NULL;
			pthread_mutex_unlock(&c.mu);
			write_updates(&c, state, list);
			pthread_mutex_lock(&c.mu);
			continue;
		}
		if (!c.running)
			break;
		wait_briefly(&c);
	}
	pthread_mutex_unlock(&c.mu);
	for (int i = 0; i < nworkers; i++)
		if (tids[i])
			pthread_join(tids[i], NULL);
	free(tids);
	for (size_t i = 0; i < p->n; i++)
		if (p->items[i].change->nactions) {
			if (p->items[i].hold)
				c.res.held++;
			else
				c.res.skipped++;
		}
	c.res.skipped -= c.res.succeeded + c.res.failed;
	c.res.interrupted = opts->stop && *opts->stop;
	c.res.timed_out = past_deadline(&c) && (c.res.skipped || c.res.failed);
	*res = c.res;
	pthread_mutex_destroy(&c.mu);
	pthread_cond_destroy(&c.cv);
	free_schedule(&c);
	if (c.write_failed)
		return WSR_EIO;
	if (c.lost)
		return WSR_ELOCKED;
	if (c.res.failed)
		return WSR_EAPI;
	if (c.res.interrupted)
		return WSR_EINTR;
	if (c.res.timed_out && c.res.skipped)
		return WSR_ETIMEOUT;
	return 0;
}
