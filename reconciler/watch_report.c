/* watch_report: events, status and the per-workspace failure memory of
 * `wsr watch`. */
#include "reconciler/watch_report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"

typedef struct failure {
	char *address; /* the map's key */
	int failures;
	int64_t retry_at_ms;
	char *error;
} failure;

static void failure_free(failure *f)
{
	if (!f)
		return;
	free(f->address);
	free(f->error);
	free(f);
}

int wsr_report_init(wsr_report *r, int json, const char *type, const char *where, const char *ref,
		    const char *path)
{
	memset(r, 0, sizeof(*r));
	r->json = json;
	r->metrics = wsr_metrics_new();
	r->source = cJSON_CreateObject();
	r->last = cJSON_CreateObject();
	r->workspaces = cJSON_CreateArray();
	r->diagnostics = cJSON_CreateArray();
	r->source_ok = 1;
	if (!r->metrics || !r->source || !r->last || !r->workspaces || !r->diagnostics)
		return WSR_ENOMEM;
	cJSON_AddStringToObject(r->source, "type", type);
	cJSON_AddStringToObject(r->source, strcmp(type, "git") == 0 ? "url" : "dir", where);
	if (strcmp(type, "git") == 0) {
		cJSON_AddItemToObject(r->source, "ref",
				      ref ? cJSON_CreateString(ref) : cJSON_CreateNull());
		cJSON_AddStringToObject(r->source, "path", path ? path : "");
	}
	cJSON_AddNullToObject(r->source, "revision");
	cJSON_AddNullToObject(r->source, "lastFetch");
	cJSON_AddNullToObject(r->source, "error");
	cJSON_AddNumberToObject(r->last, "count", 0);
	cJSON_AddFalseToObject(r->last, "running");
	return 0;
}

void wsr_report_free(wsr_report *r)
{
	for (size_t i = 0; i < r->failing.cap; i++)
		if (r->failing.keys && r->failing.keys[i] && r->failing.vals[i])
			failure_free(r->failing.vals[i]);
	wsr_hmap_free(&r->failing);
	wsr_metrics_free(r->metrics);
	cJSON_Delete(r->source);
	cJSON_Delete(r->last);
	cJSON_Delete(r->workspaces);
	cJSON_Delete(r->diagnostics);
	free(r->source_error);
}

/* ---- events ------------------------------------------------------------- */

/* Writes one event; kv holds n key/value pairs. */
static void emit(wsr_report *r, const char *level, const char *event, const char *const *kv,
		 size_t n)
{
	char now[40];
	wsr_time_format(wsr_clock_now_ms(), now, sizeof(now));
	wsr_buf b = WSR_BUF_INIT;
	if (r->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "time", now);
		cJSON_AddStringToObject(o, "level", level);
		cJSON_AddStringToObject(o, "event", event);
		for (size_t i = 0; i < n; i++)
			cJSON_AddItemToObject(o, kv[2 * i],
					      kv[2 * i + 1] ? cJSON_CreateString(kv[2 * i + 1])
							    : cJSON_CreateNull());
		char *s = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (s)
			wsr_buf_puts(&b, s);
		free(s);
	} else {
		wsr_buf_printf(&b, "time=%s level=%s event=%s", now, level, event);
		for (size_t i = 0; i < n; i++) {
			const char *v = kv[2 * i + 1];
			if (!v)
				continue;
			/* a value with a space or a quote is quoted, so a line splits on spaces */
			int quote = !*v || strpbrk(v, " \"=\n\t") != NULL;
			wsr_buf_printf(&b, " %s=", kv[2 * i]);
			if (!quote) {
				wsr_buf_puts(&b, v);
				continue;
			}
			wsr_buf_putc(&b, '"');
			for (const char *p = v; *p; p++) {
				if (*p == '"' || *p == '\\')
					wsr_buf_putc(&b, '\\');
				wsr_buf_putc(&b, *p == '\n' || *p == '\t' ? ' ' : *p);
			}
			wsr_buf_putc(&b, '"');
		}
	}
	if (b.data) {
		wsr_buf_putc(&b, '\n');
		fputs(b.data, stderr);
		fflush(stderr);
	}
	wsr_buf_free(&b);
}

#define MAX_FIELDS 16

void wsr_report_event(wsr_report *r, const char *level, const char *event, ...)
{
	const char *kv[2 * MAX_FIELDS];
	size_t n = 0;
	va_list ap;
	va_start(ap, event);
	for (const char *k; n < MAX_FIELDS && (k = va_arg(ap, const char *)) != NULL; n++) {
		kv[2 * n] = k;
		kv[2 * n + 1] = va_arg(ap, const char *);
	}
	va_end(ap);
	emit(r, level, event, kv, n);
}

static const char *severity_level(wsr_severity s)
{
	return s == WSR_SEV_ERROR ? "error" : s == WSR_SEV_WARNING ? "warn" : "info";
}

void wsr_report_diag(wsr_report *r, const wsr_diag *diag, const char *kind)
{
	for (size_t i = 0; i < diag->n; i++) {
		const wsr_diag_entry *e = &diag->v[i];
		char line[16], col[16], addr[WSR_DIAG_SHORT_SIZE];
		snprintf(line, sizeof(line), "%d", e->line);
		snprintf(col, sizeof(col), "%d", e->col);
		/* an address may be megabytes from a damaged state: quoted short */
		const char *address =
		    e->address ? wsr_diag_short(addr, sizeof(addr), e->address) : NULL;
		const char *kv[] = {"message",	e->summary,
				    "file",	e->file,
				    "line",	e->file && e->line ? line : NULL,
				    "col",	e->file && e->col ? col : NULL,
				    "address",	address,
				    "revision", r->revision[0] ? r->revision : NULL,
				    "hint",	e->hint};
		emit(r, severity_level(e->severity),
		     e->file && !e->address ? "invalid" : "diagnostic", kv,
		     sizeof(kv) / sizeof(kv[0]) / 2);
		if (e->severity == WSR_SEV_ERROR)
			wsr_metrics_error(r->metrics, e->file && !e->address ? "spec" : kind);
	}
	if (diag->dropped)
		wsr_report_event(r, "error", "diagnostic", "message",
				 "more problems than can be listed; see wsr plan", WSR_EV_END);
}

/* ---- source and reconcile -------------------------------------------------- */

static void set_str(cJSON *o, const char *key, const char *v)
{
	cJSON *item = v ? cJSON_CreateString(v) : cJSON_CreateNull();
	if (item && !cJSON_ReplaceItemInObjectCaseSensitive(o, key, item) &&
	    !cJSON_AddItemToObject(o, key, item))
		cJSON_Delete(item);
}

static void set_time(cJSON *o, const char *key, int64_t ms)
{
	char buf[40];
	set_str(o, key, ms ? wsr_time_format(ms, buf, sizeof(buf)) : NULL);
}

static void set_num(cJSON *o, const char *key, double v)
{
	cJSON *item = cJSON_CreateNumber(v);
	if (item && !cJSON_ReplaceItemInObjectCaseSensitive(o, key, item) &&
	    !cJSON_AddItemToObject(o, key, item))
		cJSON_Delete(item);
}

void wsr_report_source_url(wsr_report *r, const char *url)
{
	set_str(r->source, "url", url);
}

void wsr_report_fetch(wsr_report *r, double secs)
{
	wsr_metrics_fetch(r->metrics, secs);
	set_time(r->source, "lastFetch", wsr_clock_now_ms());
}

void wsr_report_source(wsr_report *r, const char *rev, const char *error)
{
	set_str(r->source, "revision", rev);
	set_str(r->source, "error", error);
	snprintf(r->revision, sizeof(r->revision), "%s", rev ? rev : "");
	if (rev)
		wsr_metrics_revision(r->metrics, rev);
	free(r->source_error);
	r->source_error = error ? strdup(error) : NULL;
	r->source_ok = error == NULL;
	if (error)
		wsr_metrics_error(r->metrics, "source");
}

void wsr_report_start(wsr_report *r)
{
	r->started_ms = wsr_clock_now_ms();
	cJSON_ReplaceItemInObjectCaseSensitive(r->last, "running", cJSON_CreateTrue());
	set_time(r->last, "lastStarted", r->started_ms);
}

void wsr_report_reconcile(wsr_report *r, const char *result, double secs, const char *rev)
{
	int64_t now = wsr_clock_now_ms();
	r->count++;
	r->ok = strcmp(result, "error") != 0;
	wsr_metrics_reconcile(r->metrics, result, secs, now);
	set_num(r->last, "count", (double)r->count);
	cJSON_ReplaceItemInObjectCaseSensitive(r->last, "running", cJSON_CreateFalse());
	set_time(r->last, "lastFinished", now);
	set_num(r->last, "lastDurationSeconds", secs);
	set_str(r->last, "lastResult", result);
	set_str(r->last, "revision", rev && *rev ? rev : NULL);
	if (strcmp(result, "ok") == 0)
		set_time(r->last, "lastSuccess", now);
	char d[32];
	snprintf(d, sizeof(d), "%.3f", secs);
	wsr_report_event(r, strcmp(result, "ok") == 0 ? "info" : "warn", "reconciled", "result",
			 result, "seconds", d, "revision", rev && *rev ? rev : NULL, WSR_EV_END);
}

/* ---- workspaces ------------------------------------------------------------ */

static failure *failing(const wsr_report *r, const char *address)
{
	return wsr_hmap_get(&r->failing, address);
}

int64_t wsr_report_retry_at(const wsr_report *r, const char *address)
{
	const failure *f = failing(r, address);
	return f ? f->retry_at_ms : 0;
}

int64_t wsr_report_next_due(const wsr_report *r)
{
	int64_t due = 0;
	for (size_t i = 0; i < r->failing.cap; i++) {
		const failure *f =
		    r->failing.keys && r->failing.keys[i] ? r->failing.vals[i] : NULL;
		if (f && f->retry_at_ms && (!due || f->retry_at_ms < due))
			due = f->retry_at_ms;
	}
	const cJSON *w;
	cJSON_ArrayForEach(w, r->workspaces)
	{
		const cJSON *next = cJSON_GetObjectItemCaseSensitive(w, "nextWindow");
		int64_t ms = 0;
		if (cJSON_IsString(next) && wsr_time_parse(&ms, next->valuestring) == 0 &&
		    (!due || ms < due))
			due = ms;
	}
	return due;
}

static void record_failure(wsr_report *r, const char *address, const char *error, int64_t initial,
			   int64_t max, int64_t now)
{
	failure *f = failing(r, address);
	if (!f) {
		f = calloc(1, sizeof(*f));
		if (!f || !(f->address = strdup(address)) ||
		    wsr_hmap_put(&r->failing, f->address, f)) {
			failure_free(f);
			return; /* out of memory: retried at once rather than forgotten */
		}
	}
	f->failures++;
	int64_t wait = initial;
	for (int i = 1; i < f->failures && wait < max; i++)
		wait *= 2;
	f->retry_at_ms = now + (wait < max ? wait : max);
	free(f->error);
	f->error = error ? strdup(error) : NULL;
}

static void clear_failure(wsr_report *r, const char *address)
{
	failure_free(wsr_hmap_del(&r->failing, address));
}

static const char *actions_text(const wsr_change *c, wsr_buf *b)
{
	for (int i = 0; i < c->nactions; i++)
		wsr_buf_printf(b, "%s%s", i ? "," : "", wsr_action_name(c->actions[i]));
	return b->data ? b->data : "";
}

static const char *metric_action(const wsr_change *c)
{
	if (c->nactions == 2 && c->actions[0] == WSR_ACT_DELETE && c->actions[1] == WSR_ACT_CREATE)
		return "replace";
	return wsr_action_name(c->actions[c->nactions - 1]);
}

/* What the platform reports about a workspace that is failed or out of
 * service, or NULL when it works. */
static const char *needs_repair(const wsr_plan_item *it)
{
	const wsr_resource *o = it->change->observed;
	if (!o || o->health == WSR_HEALTH_OK)
		return NULL;
	return o->health_why ? o->health_why : "the platform reports it broken";
}

/* One workspace of the status. */
static cJSON *workspace(const wsr_report *r, const wsr_run *run, const wsr_plan_item *it,
			const char *state)
{
	const wsr_change *c = it->change;
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "address", c->address);
	cJSON_AddStringToObject(o, "state", state);
	const wsr_state_entry *s = wsr_state_find(run->state, c->address);
	set_str(o, "revision", s ? s->revision : NULL);
	cJSON *pending = cJSON_AddArrayToObject(o, "pending");
	if (strcmp(state, "in-sync") != 0)
		for (int i = 0; pending && i < c->nactions; i++)
			cJSON_AddItemToArray(pending,
					     cJSON_CreateString(wsr_action_name(c->actions[i])));
	const char *repair = strcmp(state, "needs-repair") == 0 ? needs_repair(it) : NULL;
	char *both = repair && it->hold ? wsr_strdupf("%s; %s", repair, it->hold) : NULL;
	set_str(o, "reason", both ? both : repair ? repair : it->hold);
	free(both);
	const failure *f = failing(r, c->address);
	set_str(o, "lastError", f ? f->error : NULL);
	set_num(o, "failures", f ? f->failures : 0);
	set_time(o, "retryAt", f ? f->retry_at_ms : 0);
	set_time(o, "nextWindow",
		 it->hold && strstr(it->hold, "maintenance window") ? it->hold_until_ms : 0);
	return o;
}

static int is_bad_file(const wsr_run *run, const char *file)
{
	for (size_t i = 0; file && i < run->nbad; i++)
		if (strcmp(run->bad_files[i], file) == 0)
			return 1;
	return 0;
}

/* Workspaces left out because their file does not load (state's record). */
static void add_invalid(const wsr_report *r, const wsr_run *run, cJSON *arr)
{
	for (size_t i = 0; run->state && i < run->state->n; i++) {
		const wsr_state_entry *s = run->state->v[i];
		if (!is_bad_file(run, s->file))
			continue;
		cJSON *o = cJSON_CreateObject();
		if (!o)
			return;
		cJSON_AddStringToObject(o, "address", s->address);
		cJSON_AddStringToObject(o, "state", "invalid");
		set_str(o, "revision", s->revision);
		cJSON_AddArrayToObject(o, "pending");
		char *why = wsr_strdupf("%s does not load at revision %s", s->file,
					r->revision[0] ? r->revision : "(directory)");
		set_str(o, "reason", why);
		free(why);
		cJSON_AddItemToArray(arr, o);
	}
}

void wsr_report_change(wsr_report *r, const wsr_plan_item *it, int rc, const char *error,
		       int64_t backoff_initial_ms, int64_t backoff_max_ms, int64_t when)
{
	if (rc)
		record_failure(r, it->change->address, error, backoff_initial_ms, backoff_max_ms,
			       when);
	else
		clear_failure(r, it->change->address);
	wsr_buf acts = WSR_BUF_INIT;
	const char *kv[] = {"address",	it->change->address,
			    "actions",	actions_text(it->change, &acts),
			    "revision", r->revision[0] ? r->revision : NULL,
			    "result",	rc ? "failed" : "ok",
			    "error",	rc ? (error ? error : wsr_strerror(rc)) : NULL};
	emit(r, rc ? "error" : "info", "change", kv, sizeof(kv) / sizeof(kv[0]) / 2);
	wsr_buf_free(&acts);
	wsr_metrics_change(r->metrics, metric_action(it->change), rc == 0);
}

void wsr_report_outcome(wsr_report *r, const wsr_run *run, int rc, const int *rcs,
			const wsr_diag *diag)
{
	wsr_report_diag(r, diag, rc ? "plan" : "apply");
	cJSON_Delete(r->diagnostics);
	r->diagnostics = wsr_diag_to_json(diag);
	if (!run || !run->plan)
		return; /* planning stopped early: keep the last known workspaces */
	const wsr_plan *p = run->plan;
	cJSON *arr = cJSON_CreateArray();
	int held_window = 0, held_heal = 0, held_backoff = 0, drifted = 0;
	for (size_t i = 0; i < p->n; i++) {
		const wsr_plan_item *it = &p->items[i];
		const char *address = it->change->address;
		const char *state = "in-sync";
		if (rcs && rcs[i] != 1) {
			state = rcs[i] ? "failing" : "in-sync";
		} else if (it->hold) {
			int window = strstr(it->hold, "maintenance window") != NULL;
			int heal = strncmp(it->hold, "drift:", 6) == 0;
			held_window += window;
			held_heal += heal;
			held_backoff += strncmp(it->hold, "backing off", 11) == 0;
			wsr_report_event(r, "info", "held", "address", address, "reason", it->hold,
					 WSR_EV_END);
			state = needs_repair(it)      ? "needs-repair" /* whatever holds it */
				: heal		      ? "drifted"
				: failing(r, address) ? "failing"
						      : "held";
		} else if (needs_repair(it)) {
			state = "needs-repair"; /* refused: no action, never in sync */
		} else if (it->change->nactions) {
			state = "pending"; /* not started: a stop, or what it waits for failed */
		} else {
			clear_failure(r, address);
		}
		cJSON *o = workspace(r, run, it, state);
		if (o)
			cJSON_AddItemToArray(arr, o);
	}
	for (size_t i = 0; i < p->ndrift; i++) {
		drifted++;
		wsr_report_event(r, "warn", "drift", "address", p->drift[i].address, "gone",
				 p->drift[i].gone ? "true" : "false", WSR_EV_END);
	}
	add_invalid(r, run, arr);
	wsr_metrics_drift(r->metrics, drifted);
	wsr_metrics_held(r->metrics, held_window, held_heal, held_backoff);
	cJSON_Delete(r->workspaces);
	r->workspaces = arr;
}

char *wsr_report_status(const wsr_report *r)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "format", "wsr.status/v1");
	cJSON_AddItemReferenceToObject(o, "source", r->source);
	cJSON_AddItemReferenceToObject(o, "reconcile", r->last);
	cJSON_AddItemReferenceToObject(o, "workspaces", r->workspaces);
	cJSON_AddItemReferenceToObject(o, "diagnostics", r->diagnostics);
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

const char *wsr_report_not_ready(wsr_report *r)
{
	if (!r->source_ok)
		snprintf(r->not_ready, sizeof(r->not_ready), "source unreachable: %s",
			 r->source_error ? r->source_error : "unknown");
	else if (!r->count)
		snprintf(r->not_ready, sizeof(r->not_ready), "no reconcile has finished yet");
	else if (!r->ok)
		snprintf(r->not_ready, sizeof(r->not_ready), "the last reconcile failed to plan");
	else
		return NULL;
	return r->not_ready;
}
