/* store: the in-memory platform. Workspaces live in one sorted array per
 * organization: inserting is a memmove (cheap even at 10,000 pointers, and
 * bulk loads append and sort once), lookups and cursor positions are binary
 * searches, so a page of a list costs O(log n + page). */
#include "sim/loopback/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "sim/loopback/persist.h"

static const char *const task_types[] = {NULL, "create", "delete", "upgrade", "transfer"};

const char *wsr_lbsim_task_type_name(int type)
{
	return type > 0 && type <= WSR_LBSIM_TASK_TRANSFER ? task_types[type] : "?";
}

int wsr_lbsim_task_type_parse(const char *name)
{
	for (int i = 1; name && i <= WSR_LBSIM_TASK_TRANSFER; i++)
		if (strcmp(task_types[i], name) == 0)
			return i;
	return 0;
}

wsr_lbsim_ws *wsr_lbsim_ws_new(const char *name, const char *org, cJSON *obj)
{
	wsr_lbsim_ws *w = calloc(1, sizeof(*w));
	if (!w || !(w->name = strdup(name))) {
		free(w);
		return NULL;
	}
	w->org = org;
	w->obj = obj;
	return w;
}

void wsr_lbsim_ws_free(wsr_lbsim_ws *w)
{
	if (!w)
		return;
	free(w->name);
	free(w->op_arg);
	cJSON_Delete(w->obj);
	free(w);
}

wsr_lbsim_task *wsr_lbsim_task_new(int type, const char *org, const char *ws, int64_t now,
				   int64_t dur)
{
	wsr_lbsim_task *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->org = strdup(org);
	t->ws = strdup(ws);
	if (!t->org || !t->ws) {
		wsr_lbsim_task_free(t);
		return NULL;
	}
	wsr_lbsim_new_id(t->id, "task-");
	t->type = type;
	t->created_at = now;
	t->finished_at = now + dur;
	return t;
}

void wsr_lbsim_task_free(wsr_lbsim_task *t)
{
	if (!t)
		return;
	free(t->org);
	free(t->ws);
	free(t->err_code);
	free(t->err_msg);
	free(t);
}

int wsr_lbsim_task_fail(wsr_lbsim_task *t, const char *code, const char *msg)
{
	free(t->err_code);
	free(t->err_msg);
	t->err_code = strdup(code);
	t->err_msg = strdup(msg);
	return t->err_code && t->err_msg ? 0 : WSR_ENOMEM;
}

void wsr_lbsim_idem_free(wsr_lbsim_idem *r)
{
	if (!r)
		return;
	free(r->id);
	free(r->body);
	free(r);
}

void wsr_lbsim_new_id(char *out, const char *prefix)
{
	unsigned char b[8] = {0};
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		/* never expected from the kernel; fall back to something unique enough */
		static unsigned long n;
		unsigned long v = (unsigned long)__atomic_add_fetch(&n, 1, __ATOMIC_RELAXED);
		memcpy(b, &v, sizeof(v) < sizeof(b) ? sizeof(v) : sizeof(b));
	}
	snprintf(out, WSR_LBSIM_ID_MAX, "%s%02x%02x%02x%02x%02x%02x%02x%02x", prefix, b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7]);
}

int wsr_lbsim_store_new(wsr_lbsim_store **out, cJSON *platform, const char *dir)
{
	*out = NULL;
	wsr_lbsim_store *s = calloc(1, sizeof(*s));
	if (!s)
		return WSR_ENOMEM;
	s->platform = platform;
	const cJSON *orgs = cJSON_GetObjectItemCaseSensitive(platform, "organizations");
	s->orgs = calloc((size_t)cJSON_GetArraySize(orgs) + 1, sizeof(*s->orgs));
	s->provisioning_ms =
	    (int64_t)(wsr_json_num(wsr_json_obj(platform, "provisioning"), "seconds", 0) * 1000);
	int rc = s->orgs && (!dir || (s->dir = strdup(dir))) ? 0 : WSR_ENOMEM;
	const cJSON *it;
	cJSON_ArrayForEach(it, orgs)
	{
		if (rc)
			break;
		s->orgs[s->norgs].json = it;
		s->orgs[s->norgs++].name = wsr_json_str(it, "name");
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(platform, "apiKeys")) if (!rc) rc =
	    wsr_hmap_put(&s->keys, wsr_json_str(it, "key"), (void *)it);
	if (rc) {
		s->platform = NULL; /* not taken over on failure: the caller still owns it */
		wsr_lbsim_store_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

static void free_map(wsr_hmap *m, void (*fn)(void *))
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i]) /* a removed slot holds NULL, which fn accepts */
			fn(m->vals[i]);
	wsr_hmap_free(m);
}

static void task_free_v(void *p)
{
	wsr_lbsim_task_free(p);
}

static void idem_free_v(void *p)
{
	wsr_lbsim_idem_free(p);
}

void wsr_lbsim_store_free(wsr_lbsim_store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->norgs; i++) {
		for (size_t j = 0; j < s->orgs[i].nws; j++)
			wsr_lbsim_ws_free(s->orgs[i].ws[j]);
		free(s->orgs[i].ws);
	}
	free(s->orgs);
	free_map(&s->tasks, task_free_v);
	free_map(&s->idem, idem_free_v);
	wsr_hmap_free(&s->keys);
	free(s->deleting);
	free(s->busy);
	wsr_sim_faults_clear(&s->faults);
	cJSON_Delete(s->platform);
	free(s->dir);
	free(s);
}

wsr_lbsim_org *wsr_lbsim_store_org(wsr_lbsim_store *s, const char *name)
{
	for (size_t i = 0; i < s->norgs; i++) /* organizations are a handful */
		if (strcmp(s->orgs[i].name, name) == 0)
			return &s->orgs[i];
	return NULL;
}

const cJSON *wsr_lbsim_store_key(const wsr_lbsim_store *s, const char *key)
{
	return wsr_hmap_get(&s->keys, key);
}

wsr_lbsim_task *wsr_lbsim_store_task(const wsr_lbsim_store *s, const char *id)
{
	return wsr_hmap_get(&s->tasks, id);
}

wsr_lbsim_idem *wsr_lbsim_store_idem(const wsr_lbsim_store *s, const char *id)
{
	return wsr_hmap_get(&s->idem, id);
}

/* First index whose name is >= key (or > key when after is set). */
static size_t bound(const wsr_lbsim_org *o, const char *key, int after)
{
	size_t lo = 0, hi = o->nws;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(o->ws[mid]->name, key);
		if (c < 0 || (after && c == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

wsr_lbsim_ws *wsr_lbsim_store_ws(const wsr_lbsim_org *o, const char *name)
{
	size_t i = bound(o, name, 0);
	return i < o->nws && strcmp(o->ws[i]->name, name) == 0 ? o->ws[i] : NULL;
}

size_t wsr_lbsim_store_after(const wsr_lbsim_org *o, const char *key)
{
	return bound(o, key, 1);
}

const char *wsr_lbsim_ws_state(const wsr_lbsim_ws *w, int64_t now)
{
	if (w->delete_task[0])
		return "deleting";
	if (now < w->ready_at)
		return "initializing";
	if (w->failed)
		return "failed";
	if (w->op)
		return w->op == WSR_LBSIM_TASK_UPGRADE ? "upgrading" : "transferring";
	return "active";
}

static int grow(void *vp, size_t *cap, size_t n, size_t size)
{
	void **v = vp;
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 16;
	void *p = realloc(*v, nc * size);
	if (!p)
		return WSR_ENOMEM;
	*v = p;
	*cap = nc;
	return 0;
}

static int insert_sorted(wsr_lbsim_org *o, wsr_lbsim_ws *w)
{
	if (grow(&o->ws, &o->capws, o->nws, sizeof(*o->ws)))
		return WSR_ENOMEM;
	size_t i = bound(o, w->name, 0);
	memmove(&o->ws[i + 1], &o->ws[i], (o->nws - i) * sizeof(*o->ws));
	o->ws[i] = w;
	o->nws++;
	return 0;
}

static int track(wsr_lbsim_ws ***list, size_t *n, size_t *cap, wsr_lbsim_ws *w)
{
	if (grow(list, cap, *n, sizeof(**list)))
		return WSR_ENOMEM;
	(*list)[(*n)++] = w;
	return 0;
}

static int track_deleting(wsr_lbsim_store *s, wsr_lbsim_ws *w)
{
	return track(&s->deleting, &s->ndeleting, &s->capdeleting, w);
}

static int track_busy(wsr_lbsim_store *s, wsr_lbsim_ws *w)
{
	return track(&s->busy, &s->nbusy, &s->capbusy, w);
}

int wsr_lbsim_store_load_ws(wsr_lbsim_store *s, wsr_lbsim_org *o, wsr_lbsim_ws *w)
{
	if (grow(&o->ws, &o->capws, o->nws, sizeof(*o->ws)))
		return WSR_ENOMEM;
	if (w->delete_task[0] && track_deleting(s, w))
		return WSR_ENOMEM;
	if (w->op && track_busy(s, w))
		return WSR_ENOMEM;
	o->ws[o->nws++] = w;
	return 0;
}

int wsr_lbsim_store_load_task(wsr_lbsim_store *s, wsr_lbsim_task *t)
{
	return wsr_hmap_get(&s->tasks, t->id) ? WSR_ECORRUPT : wsr_hmap_put(&s->tasks, t->id, t);
}

int wsr_lbsim_store_load_idem(wsr_lbsim_store *s, wsr_lbsim_idem *r)
{
	return wsr_hmap_get(&s->idem, r->id) ? WSR_ECORRUPT : wsr_hmap_put(&s->idem, r->id, r);
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(wsr_lbsim_ws *const *)a)->name, (*(wsr_lbsim_ws *const *)b)->name);
}

int wsr_lbsim_store_sort(wsr_lbsim_store *s)
{
	for (size_t i = 0; i < s->norgs; i++) {
		wsr_lbsim_org *o = &s->orgs[i];
		if (o->nws < 2)
			continue; /* qsort may not be handed the NULL of an empty array */
		qsort(o->ws, o->nws, sizeof(*o->ws), by_name);
		for (size_t j = 1; j < o->nws; j++)
			if (strcmp(o->ws[j - 1]->name, o->ws[j]->name) == 0)
				return WSR_ECORRUPT;
	}
	return 0;
}

int wsr_lbsim_store_create(wsr_lbsim_store *s, wsr_lbsim_org *o, wsr_lbsim_ws *w, wsr_lbsim_task *t)
{
	int rc = t ? wsr_lbsim_persist_task(s, t) : 0;
	if (!rc)
		rc = wsr_lbsim_persist_ws(s, w);
	if (!rc && t)
		rc = wsr_hmap_put(&s->tasks, t->id, t);
	if (!rc && (rc = insert_sorted(o, w)) != 0 && t)
		wsr_hmap_del(&s->tasks, t->id);
	return rc;
}

/* Writes t and w (already changed), then indexes t and tracks w with
 * track_fn: all of it, or nothing in memory (a file written before a failure
 * is rewritten by the next change, or settled again after a restart). */
static int commit(wsr_lbsim_store *s, wsr_lbsim_ws *w, wsr_lbsim_task *t,
		  int (*track_fn)(wsr_lbsim_store *, wsr_lbsim_ws *))
{
	int rc = wsr_lbsim_persist_task(s, t);
	if (!rc)
		rc = wsr_lbsim_persist_ws(s, w);
	if (!rc)
		rc = wsr_hmap_put(&s->tasks, t->id, t);
	if (!rc && (rc = track_fn(s, w)) != 0)
		wsr_hmap_del(&s->tasks, t->id);
	return rc;
}

/* Sets obj[key] to the string v; 0 or WSR_ENOMEM. */
static int set_str(cJSON *obj, const char *key, const char *v)
{
	cJSON *n = cJSON_CreateString(v);
	if (n && cJSON_ReplaceItemInObjectCaseSensitive(obj, key, n))
		return 0;
	cJSON_Delete(n);
	return WSR_ENOMEM;
}

/* Undoes what start_op did to w in memory. */
static void op_clear(wsr_lbsim_ws *w)
{
	free(w->op_arg);
	w->op_arg = NULL;
	w->op = 0;
	w->op_task[0] = '\0';
	w->op_until = 0;
}

int wsr_lbsim_store_start_op(wsr_lbsim_store *s, wsr_lbsim_ws *w, wsr_lbsim_task *t,
			     const char *arg)
{
	int transfer = t->type == WSR_LBSIM_TASK_TRANSFER;
	cJSON *obj = cJSON_Duplicate(w->obj, 1), *old = w->obj;
	w->op_arg = strdup(transfer ? wsr_json_str(w->obj, "project") : arg);
	int rc = obj && w->op_arg ? 0 : WSR_ENOMEM;
	if (!rc && transfer) /* the workspace shows its new project at once */
		rc = set_str(obj, "project", arg);
	if (!rc) {
		w->op = t->type;
		snprintf(w->op_task, sizeof(w->op_task), "%s", t->id);
		w->op_until = t->finished_at;
		w->obj = obj;
		rc = commit(s, w, t, track_busy);
	}
	if (rc) {
		w->obj = old;
		cJSON_Delete(obj);
		op_clear(w);
		return rc;
	}
	cJSON_Delete(old);
	return 0;
}

int wsr_lbsim_store_update(wsr_lbsim_store *s, const wsr_lbsim_ws *w)
{
	return wsr_lbsim_persist_ws(s, w);
}

int wsr_lbsim_store_delete(wsr_lbsim_store *s, wsr_lbsim_ws *w, wsr_lbsim_task *t)
{
	snprintf(w->delete_task, sizeof(w->delete_task), "%s", t->id);
	w->gone_at = t->finished_at;
	int rc = commit(s, w, t, track_deleting);
	if (rc) {
		w->delete_task[0] = '\0';
		w->gone_at = 0;
	}
	return rc;
}

int wsr_lbsim_store_remember(wsr_lbsim_store *s, const char *id, int status, const char *body)
{
	wsr_lbsim_idem *r = calloc(1, sizeof(*r));
	int rc = WSR_ENOMEM;
	if (r && (r->id = strdup(id)) && (r->body = strdup(body))) {
		r->status = status;
		rc = wsr_lbsim_persist_idem(s, r);
		if (!rc)
			rc = wsr_hmap_put(&s->idem, r->id, r);
	}
	if (rc)
		wsr_lbsim_idem_free(r);
	return rc;
}

static void remove_ws(wsr_lbsim_store *s, wsr_lbsim_ws *w)
{
	wsr_lbsim_org *o = wsr_lbsim_store_org(s, w->org);
	size_t i = bound(o, w->name, 0);
	memmove(&o->ws[i], &o->ws[i + 1], (o->nws - i - 1) * sizeof(*o->ws));
	o->nws--;
	/* a stale file would resurrect the workspace on restart; it is retried
	 * on the next start's load if unlinking fails now (see persist.c) */
	wsr_lbsim_persist_ws_remove(s, w);
	wsr_lbsim_ws_free(w);
}

/* The error a finished task of w ended with, or NULL when it succeeded. */
static const char *task_error(const wsr_lbsim_store *s, const char *id)
{
	const wsr_lbsim_task *t = wsr_lbsim_store_task(s, id);
	return t ? t->err_code : NULL;
}

/* An upgrade sets the version it was for and a transfer keeps the project
 * it shows; a failed one changes nothing (a failed transfer goes back to
 * the project it left). */
static void settle(wsr_lbsim_store *s, wsr_lbsim_ws *w)
{
	int failed = task_error(s, w->op_task) != NULL;
	char at[32];
	cJSON *obj = cJSON_Duplicate(w->obj, 1);
	cJSON *k = cJSON_GetObjectItemCaseSensitive(obj, "kubernetes");
	int rc = obj ? 0 : WSR_ENOMEM;
	if (!rc && !failed && w->op == WSR_LBSIM_TASK_UPGRADE && cJSON_IsObject(k))
		rc = set_str(k, "version", w->op_arg);
	if (!rc && failed && w->op == WSR_LBSIM_TASK_TRANSFER)
		rc = set_str(obj, "project", w->op_arg);
	if (!rc && !failed)
		rc = set_str(obj, "updatedAt", wsr_time_format(w->op_until, at, sizeof(at)));
	if (rc) { /* out of memory: settle on a later request */
		cJSON_Delete(obj);
		return;
	}
	cJSON_Delete(w->obj);
	w->obj = obj;
	op_clear(w);
	/* a failed write is settled again from the file after a restart, with
	 * the same outcome, so it needs no undo */
	wsr_lbsim_persist_ws(s, w);
}

void wsr_lbsim_store_sweep(wsr_lbsim_store *s, int64_t now)
{
	size_t keep = 0;
	for (size_t i = 0; i < s->nbusy; i++) {
		wsr_lbsim_ws *w = s->busy[i];
		if (now >= w->op_until)
			settle(s, w);
		if (w->op)
			s->busy[keep++] = w;
	}
	s->nbusy = keep;
	keep = 0;
	for (size_t i = 0; i < s->ndeleting; i++) {
		wsr_lbsim_ws *w = s->deleting[i];
		if (now < w->gone_at) {
			s->deleting[keep++] = w;
		} else if (task_error(s, w->delete_task)) {
			/* a failed deletion leaves the workspace as it was */
			w->delete_task[0] = '\0';
			w->gone_at = 0;
			wsr_lbsim_persist_ws(s, w);
		} else
			remove_ws(s, w);
	}
	s->ndeleting = keep;
}
