/* watch: the event history is a ring of WSR_KCPSIM_WATCH_HISTORY events in
 * resourceVersion order; floor is the newest resourceVersion that is no
 * longer covered (evicted, or before the server started), so a watch can
 * start from any resourceVersion >= floor. A stream keeps a cursor (the
 * last resourceVersion it has passed) and renders events only when the
 * client reads, so a slow client costs a cursor, not a queue; one that
 * falls behind the floor gets 410 Expired and reconnects, as clients of a
 * real server do. All of it runs under the store's lock. */
#include "sim/kcp/watch.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "sim/kcp/admission.h"
#include "sim/kcp/seed.h"
#include "sim/kcp/status.h"

typedef struct event {
	uint64_t rv;
	int type;
	char *list; /* the path of the workspace whose children it is one of */
	char *path; /* its own path, for spec.URL */
	cJSON *obj;
	cJSON *old_labels; /* MODIFIED: the labels before, for selector changes */
} event;

typedef struct watcher watcher;
struct watcher {
	wsr_kcpsim_store *s;
	char *list; /* as event.list; NULL for a watch of types (no events) */
	wsr_kcpsim_selector sel;
	uint64_t cursor;
	int64_t deadline, next_bookmark; /* ms; next_bookmark 0: no bookmarks */
	int table, headers_sent;
	char include[16]; /* ?includeObject= for Tables */
	wsr_buf out;	  /* rendered, not yet read; from off */
	size_t off;
	int ending; /* out holds the last bytes */
	wsr_sim_conn *conn;
	watcher *prev, *next;
};

struct wsr_kcpsim_watch_hub {
	event ring[WSR_KCPSIM_WATCH_HISTORY];
	size_t start, n;
	uint64_t floor;
	watcher *watchers;
	int nwatchers;
	pthread_t ticker;
	pthread_cond_t wake;
	int ticking, stop;
};

typedef struct wsr_kcpsim_watch_hub hub;

static hub *hub_of(wsr_kcpsim_store *s, uint64_t floor)
{
	if (!s->watch && (s->watch = calloc(1, sizeof(hub))) != NULL) {
		s->watch->floor = floor;
		pthread_cond_init(&s->watch->wake, NULL);
	}
	return s->watch;
}

static void event_free(event *e)
{
	free(e->list);
	free(e->path);
	cJSON_Delete(e->obj);
	cJSON_Delete(e->old_labels);
	memset(e, 0, sizeof(*e));
}

static uint64_t rv_of(const cJSON *obj)
{
	const char *rv = wsr_json_str(wsr_json_obj(obj, "metadata"), "resourceVersion");
	return rv ? strtoull(rv, NULL, 10) : 0;
}

/* The list w is one of: its parent's path. */
static char *list_of(const wsr_kcpsim_ws *w)
{
	size_t n = (size_t)(w->name - w->path);
	char *l = n ? malloc(n) : NULL;
	if (l) {
		memcpy(l, w->path, n - 1);
		l[n - 1] = '\0';
	}
	return l;
}

static void wake_list(hub *h, const char *list)
{
	for (watcher *wt = h->watchers; wt; wt = wt->next)
		if (wt->list && strcmp(wt->list, list) == 0)
			wsr_sim_conn_resume(wt->conn);
}

/* Appends one event (obj taken over); on failure the history is cut at
 * rv, so every watcher before it is told to start again (410). */
static void push(hub *h, int type, const wsr_kcpsim_ws *w, cJSON *obj, cJSON *old_labels)
{
	event e = {rv_of(obj), type, list_of(w), strdup(w->path), obj, old_labels};
	if (!e.list || !e.path || !e.obj || (type == WSR_KCPSIM_EV_MODIFIED && !old_labels)) {
		if (e.rv > h->floor)
			h->floor = e.rv;
		event_free(&e);
		return;
	}
	if (h->n == WSR_KCPSIM_WATCH_HISTORY) {
		event *old = &h->ring[h->start];
		h->floor = old->rv;
		event_free(old);
		h->start = (h->start + 1) % WSR_KCPSIM_WATCH_HISTORY;
		h->n--;
	}
	h->ring[(h->start + h->n++) % WSR_KCPSIM_WATCH_HISTORY] = e;
	wake_list(h, e.list);
}

static cJSON *labels_of(const cJSON *obj)
{
	const cJSON *l = wsr_json_path(obj, "metadata.labels");
	return l ? cJSON_Duplicate(l, 1) : cJSON_CreateObject();
}

/* DELETED events for w's subtree, children first, each its own rv. */
static void push_deleted(wsr_kcpsim_store *s, hub *h, const wsr_kcpsim_ws *w)
{
	char rv[32];
	for (size_t i = 0; i < w->nkids; i++)
		push_deleted(s, h, w->kids[i]);
	cJSON *obj = cJSON_Duplicate(w->obj, 1);
	cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	snprintf(rv, sizeof(rv), "%llu", (unsigned long long)++s->rv);
	cJSON_DeleteItemFromObjectCaseSensitive(meta, "resourceVersion");
	if (meta && !cJSON_AddStringToObject(meta, "resourceVersion", rv)) {
		cJSON_Delete(obj);
		obj = NULL;
	}
	if (!obj)
		h->floor = s->rv;
	else
		push(h, WSR_KCPSIM_EV_DELETED, w, obj, NULL);
}

void wsr_kcpsim_watch_record(wsr_kcpsim_store *s, int type, const wsr_kcpsim_ws *w,
			     const cJSON *obj)
{
	const cJSON *now = obj ? obj : w->obj;
	uint64_t rv = type == WSR_KCPSIM_EV_DELETED ? s->rv + 1 : rv_of(now);
	hub *h = hub_of(s, rv ? rv - 1 : 0);
	if (!h || w == s->root)
		return; /* no history: the floor is set when it exists */
	if (type == WSR_KCPSIM_EV_DELETED)
		push_deleted(s, h, w);
	else
		push(h, type, w, cJSON_Duplicate(now, 1),
		     type == WSR_KCPSIM_EV_MODIFIED ? labels_of(w->obj) : NULL);
}

/* ---- rendering ---- */

static const char *const type_names[] = {"ADDED", "MODIFIED", "DELETED"};

/* Appends {"type", "object"} and a newline (obj taken over). */
static int emit(watcher *wt, const char *type, cJSON *obj)
{
	cJSON *ev = cJSON_CreateObject();
	char *text = NULL;
	if (ev && obj && cJSON_AddStringToObject(ev, "type", type) &&
	    cJSON_AddItemToObject(ev, "object", obj)) {
		obj = NULL;
		text = cJSON_PrintUnformatted(ev);
	}
	cJSON_Delete(obj);
	cJSON_Delete(ev);
	if (!text)
		return WSR_ENOMEM;
	wsr_buf_puts(&wt->out, text);
	wsr_buf_putc(&wt->out, '\n');
	free(text);
	return wsr_buf_failed(&wt->out) ? WSR_ENOMEM : 0;
}

/* The object as the client asked for it: a Workspace with spec.URL, or a
 * one-row Table whose column definitions only the first event carries
 * (as kube-apiserver sends them). */
static cJSON *shown(watcher *wt, const char *path, cJSON *obj, int64_t now)
{
	wsr_kcpsim_call c = {.s = wt->s, .now = now}; /* enough for the view */
	cJSON *v = path ? wsr_kcpsim_view_of(&c, path, obj) : obj;
	if (!v || !wt->table)
		return v;
	v = wsr_kcpsim_table(v, now, wt->include[0] ? wt->include : NULL);
	if (v && wt->headers_sent)
		cJSON_ReplaceItemInObjectCaseSensitive(v, "columnDefinitions", cJSON_CreateArray());
	wt->headers_sent = 1;
	return v;
}

/* The type e is for wt after its selector (an object may enter or leave
 * the selection), or -1 when wt does not see it. */
static int seen_as(const watcher *wt, const event *e)
{
	const char *name = wsr_json_str(wsr_json_obj(e->obj, "metadata"), "name");
	if (!wt->list || strcmp(wt->list, e->list) != 0 || !name)
		return -1;
	int now =
	    wsr_kcpsim_selector_match(&wt->sel, name, wsr_json_path(e->obj, "metadata.labels"));
	if (e->type != WSR_KCPSIM_EV_MODIFIED)
		return now ? e->type : -1;
	int before = wsr_kcpsim_selector_match(&wt->sel, name, e->old_labels);
	if (before && now)
		return WSR_KCPSIM_EV_MODIFIED;
	return now ? WSR_KCPSIM_EV_ADDED : before ? WSR_KCPSIM_EV_DELETED : -1;
}

static int emit_error(watcher *wt, int code, const char *reason, const char *msg)
{
	wt->ending = 1;
	return emit(wt, "ERROR", wsr_kcpsim_status(code, reason, NULL, "%s", msg));
}

static int emit_expired(watcher *wt, uint64_t rv, uint64_t floor)
{
	char msg[96];
	snprintf(msg, sizeof(msg), "too old resource version: %llu (%llu)", (unsigned long long)rv,
		 (unsigned long long)floor);
	return emit_error(wt, 410, "Expired", msg);
}

static int emit_bookmark(watcher *wt)
{
	char rv[32];
	cJSON *o = cJSON_CreateObject(), *m = NULL;
	snprintf(rv, sizeof(rv), "%llu", (unsigned long long)wt->cursor);
	if (o && (!cJSON_AddStringToObject(o, "kind", wt->list ? "Workspace" : "WorkspaceType") ||
		  !cJSON_AddStringToObject(o, "apiVersion", WSR_KCPSIM_API_VERSION) ||
		  !(m = cJSON_AddObjectToObject(o, "metadata")) ||
		  !cJSON_AddStringToObject(m, "resourceVersion", rv))) {
		cJSON_Delete(o);
		o = NULL;
	}
	return emit(wt, "BOOKMARK", o);
}

/* Renders the events after the cursor (until a chunk is full). */
static int catch_up(watcher *wt, hub *h, int64_t now)
{
	for (size_t i = 0; i < h->n && wt->out.len < WSR_KCPSIM_WATCH_CHUNK; i++) {
		const event *e = &h->ring[(h->start + i) % WSR_KCPSIM_WATCH_HISTORY];
		if (e->rv <= wt->cursor)
			continue;
		int type = seen_as(wt, e);
		wt->cursor = e->rv;
		if (type >= 0 &&
		    emit(wt, type_names[type], shown(wt, e->path, cJSON_Duplicate(e->obj, 1), now)))
			return WSR_ENOMEM;
	}
	if (wt->out.len < WSR_KCPSIM_WATCH_CHUNK && wt->cursor < wt->s->rv)
		wt->cursor = wt->s->rv; /* the rest were no events of any list */
	return 0;
}

/* Fills wt->out with what is due at now, when it is empty. */
static void fill(watcher *wt, int64_t now)
{
	hub *h = wt->s->watch;
	int rc = 0;
	if (wt->off < wt->out.len || wt->ending)
		return;
	wsr_buf_clear(&wt->out);
	wt->off = 0;
	if (h && wt->cursor < h->floor)
		rc = emit_expired(wt, wt->cursor, h->floor);
	else if (h)
		rc = catch_up(wt, h, now);
	if (!rc && !wt->out.len && wt->next_bookmark && now >= wt->next_bookmark) {
		rc = emit_bookmark(wt);
		wt->next_bookmark = now + WSR_KCPSIM_WATCH_BOOKMARK_MS;
	}
	if (!rc && !wt->out.len && now >= wt->deadline)
		wt->ending = 1;
	if (rc) { /* out of memory: end the stream; the client watches again */
		wsr_buf_clear(&wt->out);
		wt->ending = 1;
	}
}

/* 1 when wt has something to send at now (the ticker wakes it). */
static int due(const watcher *wt, const hub *h, int64_t now)
{
	return wt->off < wt->out.len || wt->ending || now >= wt->deadline ||
	       (wt->next_bookmark && now >= wt->next_bookmark) || wt->cursor < h->floor ||
	       (wt->list && h->n &&
		h->ring[(h->start + h->n - 1) % WSR_KCPSIM_WATCH_HISTORY].rv > wt->cursor);
}

void wsr_kcpsim_watch_tick(wsr_kcpsim_store *s, int64_t now)
{
	for (watcher *wt = s->watch ? s->watch->watchers : NULL; wt; wt = wt->next)
		if (due(wt, s->watch, now))
			wsr_sim_conn_resume(wt->conn);
}

/* ---- streams ---- */

static long watch_read(void *ctx, wsr_sim_conn *conn, char *buf, size_t max)
{
	watcher *wt = ctx;
	long n;
	pthread_mutex_lock(wt->s->lock);
	wt->conn = conn; /* what the ticker and the writes wake */
	int64_t now = wsr_clock_now_ms();
	wsr_kcpsim_store_sweep(wt->s, now); /* phase changes are events too */
	fill(wt, now);
	size_t left = wt->out.len - wt->off;
	if (left) {
		n = (long)(left < max ? left : max);
		memcpy(buf, wt->out.data + wt->off, (size_t)n);
		wt->off += (size_t)n;
	} else if (wt->ending)
		n = WSR_SIM_STREAM_END;
	else {
		wsr_sim_conn_suspend(conn); /* under the lock: no wake-up is missed */
		n = 0;
	}
	pthread_mutex_unlock(wt->s->lock);
	return n;
}

static void watcher_free(watcher *wt)
{
	free(wt->list);
	wsr_buf_free(&wt->out);
	free(wt);
}

static void watch_done(void *ctx)
{
	watcher *wt = ctx;
	hub *h;
	pthread_mutex_lock(wt->s->lock);
	h = wt->s->watch;
	if (wt->prev)
		wt->prev->next = wt->next;
	else
		h->watchers = wt->next;
	if (wt->next)
		wt->next->prev = wt->prev;
	h->nwatchers--;
	pthread_mutex_unlock(wt->s->lock);
	watcher_free(wt);
}

static void *ticker_main(void *arg)
{
	wsr_kcpsim_store *s = arg;
	hub *h = s->watch;
	pthread_mutex_lock(s->lock);
	while (!h->stop) {
		int64_t now = wsr_clock_now_ms();
		struct timespec ts;
		wsr_kcpsim_store_sweep(s, now);
		wsr_kcpsim_watch_tick(s, now);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += WSR_KCPSIM_WATCH_TICK_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&h->wake, s->lock, &ts);
	}
	pthread_mutex_unlock(s->lock);
	return NULL;
}

void wsr_kcpsim_watch_free(wsr_kcpsim_store *s)
{
	hub *h = s->watch;
	if (!h)
		return;
	if (h->ticking) {
		pthread_mutex_lock(s->lock);
		h->stop = 1;
		pthread_cond_signal(&h->wake);
		pthread_mutex_unlock(s->lock);
		pthread_join(h->ticker, NULL);
	}
	for (size_t i = 0; i < h->n; i++)
		event_free(&h->ring[(h->start + i) % WSR_KCPSIM_WATCH_HISTORY]);
	pthread_cond_destroy(&h->wake);
	free(h);
	s->watch = NULL;
}

int wsr_kcpsim_is_watch(const wsr_kcpsim_call *c)
{
	static const char *const yes[] = {"true", "1", "t", "T", "TRUE", "True"};
	const char *w = wsr_sim_req_query(c->req, "watch");
	for (size_t i = 0; w && i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcmp(w, yes[i]) == 0)
			return 1;
	return 0;
}

/* Reads ?resourceVersion= (*from: 0 for none or "0"), ?timeoutSeconds= and
 * ?allowWatchBookmarks= into wt; 0, or -1 after answering 400. */
static int watch_params(wsr_kcpsim_call *c, watcher *wt, uint64_t *from)
{
	const char *rv = wsr_sim_req_query(c->req, "resourceVersion"),
		   *to = wsr_sim_req_query(c->req, "timeoutSeconds"),
		   *bm = wsr_sim_req_query(c->req, "allowWatchBookmarks");
	size_t secs = WSR_KCPSIM_WATCH_TIMEOUT_S;
	char *end = NULL;
	*from = 0;
	if (rv && rv[0]) {
		errno = 0;
		*from = strtoull(rv, &end, 10);
		if (rv[0] < '0' || rv[0] > '9' || *end || errno || strlen(rv) > 20) {
			wsr_kcpsim_fail(c->resp, 400, NULL, NULL,
					"resourceVersion: Invalid value: \"%.64s\": must be a "
					"resourceVersion this server handed out",
					rv);
			return -1;
		}
	}
	if (to && strcmp(to, "0") != 0 &&
	    wsr_sim_query_count(to, WSR_KCPSIM_WATCH_TIMEOUT_MAX_S, &secs)) {
		wsr_kcpsim_fail(c->resp, 400, NULL, NULL,
				"timeoutSeconds must be a whole number from 0 to %d",
				WSR_KCPSIM_WATCH_TIMEOUT_MAX_S);
		return -1;
	}
	wt->deadline = c->now + (int64_t)secs * 1000;
	if (bm && (strcmp(bm, "true") == 0 || strcmp(bm, "1") == 0))
		wt->next_bookmark = c->now + WSR_KCPSIM_WATCH_BOOKMARK_MS;
	const char *a = wsr_sim_req_header(c->req, "Accept");
	wt->table = a && strstr(a, "as=Table") && strstr(a, "g=meta.k8s.io");
	const char *inc = wsr_sim_req_query(c->req, "includeObject");
	snprintf(wt->include, sizeof(wt->include), "%s", inc && strlen(inc) < 16 ? inc : "");
	return 0;
}

/* A new watcher for the call, or NULL after answering 400, 429 or 503. */
static watcher *watcher_new(wsr_kcpsim_call *c, uint64_t *from)
{
	hub *h = hub_of(c->s, c->s->rv);
	watcher *wt = h ? calloc(1, sizeof(*wt)) : NULL;
	if (!wt) {
		wsr_kcpsim_unavailable(c, WSR_ENOMEM);
		return NULL;
	}
	wt->s = c->s;
	if (watch_params(c, wt, from)) {
		free(wt);
		return NULL;
	}
	if (h->nwatchers >= WSR_KCPSIM_WATCH_MAX) {
		free(wt);
		wsr_kcpsim_fail(c->resp, 429, "TooManyRequests", NULL,
				"too many watches are open (at most %d); try again later",
				WSR_KCPSIM_WATCH_MAX);
		return NULL;
	}
	wt->cursor = *from ? *from : c->s->rv;
	return wt;
}

/* Hands wt to the response as its stream and starts the ticker. */
static void serve(wsr_kcpsim_call *c, watcher *wt)
{
	hub *h = c->s->watch;
	wt->next = h->watchers;
	if (h->watchers)
		h->watchers->prev = wt;
	h->watchers = wt;
	h->nwatchers++;
	c->resp->status = 200;
	c->resp->stream = watch_read;
	c->resp->stream_ctx = wt;
	c->resp->stream_free = watch_done;
	if (c->req->conn && !h->ticking && c->s->lock &&
	    pthread_create(&h->ticker, NULL, ticker_main, c->s) == 0)
		h->ticking = 1;
}

void wsr_kcpsim_watch_ws(wsr_kcpsim_call *c, const wsr_kcpsim_selector *sel)
{
	uint64_t from;
	watcher *wt = watcher_new(c, &from);
	int rc = 0;
	if (!wt)
		return;
	wsr_kcpsim_selector_copy(&wt->sel, sel);
	if (!(wt->list = strdup(c->ws->path)))
		rc = WSR_ENOMEM;
	if (!rc && from && from < c->s->watch->floor)
		rc = emit_expired(wt, from, c->s->watch->floor);
	for (size_t i = 0; !rc && !from && i < c->ws->nkids; i++) {
		const wsr_kcpsim_ws *w = c->ws->kids[i];
		if (wsr_kcpsim_selector_match(sel, w->name,
					      wsr_json_path(w->obj, "metadata.labels")))
			rc = emit(wt, "ADDED",
				  shown(wt, w->path, cJSON_Duplicate(w->obj, 1), c->now));
	}
	if (rc) {
		watcher_free(wt);
		wsr_kcpsim_unavailable(c, rc);
		return;
	}
	serve(c, wt);
}

void wsr_kcpsim_watch_types(wsr_kcpsim_call *c, const cJSON **types, size_t n)
{
	uint64_t from;
	watcher *wt = watcher_new(c, &from);
	int rc = 0;
	if (!wt)
		return;
	for (size_t i = 0; !from && i < n && !rc; i++)
		rc = emit(wt, "ADDED",
			  shown(wt, NULL, wsr_kcpsim_type_json(c->s, types[i]), c->now));
	if (rc) {
		watcher_free(wt);
		wsr_kcpsim_unavailable(c, rc);
		return;
	}
	serve(c, wt);
}
