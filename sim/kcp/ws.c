/* ws: what every workspace handler shares (the view with spec.URL, replies
 * that become Tables when kubectl asks, bodies, paging, selectors) and the
 * two reads: one workspace, and a page of a workspace's children. */
#include "sim/kcp/api.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "sim/kcp/page.h"
#include "sim/kcp/seed.h"
#include "sim/kcp/status.h"

/* Terms of one label selector ("a=b,c!=d,e,!f"). */
#define MAX_SELECTOR_TERMS 16
#define MAX_SELECTOR_LEN 1024

cJSON *wsr_kcpsim_view(const wsr_kcpsim_call *c, const wsr_kcpsim_ws *w)
{
	return wsr_kcpsim_view_of(c, w->path, cJSON_Duplicate(w->obj, 1));
}

cJSON *wsr_kcpsim_view_of(const wsr_kcpsim_call *c, const char *path, cJSON *v)
{
	cJSON *spec = cJSON_GetObjectItemCaseSensitive(v, "spec");
	char *url = wsr_strdupf("%s/clusters/%s", c->s->url, path);
	cJSON *u = url ? cJSON_CreateString(url) : NULL;
	free(url);
	/* spec.URL sits before spec.cluster, where kcp prints it */
	cJSON *cluster = cJSON_DetachItemFromObjectCaseSensitive(spec, "cluster");
	if (!v || !cJSON_IsObject(spec) || !u || !cJSON_AddItemToObject(spec, "URL", u)) {
		cJSON_Delete(u);
		cJSON_Delete(cluster);
		cJSON_Delete(v);
		return NULL;
	}
	if (cluster)
		cJSON_AddItemToObject(spec, "cluster", cluster);
	return v;
}

/* 1 when the Accept header asks for a Table (kubectl get does). */
static int wants_table(const wsr_kcpsim_call *c)
{
	const char *a = wsr_sim_req_header(c->req, "Accept");
	return a && strstr(a, "as=Table") && strstr(a, "g=meta.k8s.io");
}

void wsr_kcpsim_reply(wsr_kcpsim_call *c, int code, cJSON *v)
{
	if (v && code < 300 && wants_table(c)) {
		const char *inc = wsr_sim_req_query(c->req, "includeObject");
		v = wsr_kcpsim_table(v, c->now, inc);
	}
	if (!v) {
		wsr_kcpsim_unavailable(c, WSR_ENOMEM);
		return;
	}
	wsr_sim_resp_json(c->resp, code, v);
}

cJSON *wsr_kcpsim_body_object(wsr_kcpsim_call *c)
{
	cJSON *v = NULL;
	char *err = NULL;
	if (c->req->len == 0)
		wsr_kcpsim_fail(c->resp, 400, NULL, NULL, "a JSON body is required");
	else if (wsr_json_parse(&v, c->req->body, c->req->len, &err))
		wsr_kcpsim_fail(c->resp, 400, NULL, NULL, "the body is not valid JSON: %s",
				err ? err : "");
	else if (!cJSON_IsObject(v)) {
		wsr_kcpsim_fail(c->resp, 400, NULL, NULL, "the body must be a JSON object");
		cJSON_Delete(v);
		v = NULL;
	}
	free(err);
	return v;
}

void wsr_kcpsim_unavailable(wsr_kcpsim_call *c, int rc)
{
	cJSON *d = cJSON_CreateObject();
	if (d && !cJSON_AddNumberToObject(d, "retryAfterSeconds", 1)) {
		cJSON_Delete(d);
		d = NULL;
	}
	wsr_kcpsim_fail(c->resp, 503, NULL, d, "the server cannot store the change now (%s)",
			wsr_strerror(rc));
}

void wsr_kcpsim_ws_not_found(wsr_kcpsim_call *c, const char *name)
{
	wsr_kcpsim_fail(c->resp, 404, NULL, wsr_kcpsim_details(name, "workspaces"),
			"workspaces.tenancy.kcp.io \"%.63s\" not found", name);
}

int wsr_kcpsim_page_params(wsr_kcpsim_call *c, const char *list, size_t *limit, char *after)
{
	const char *l = wsr_sim_req_query(c->req, "limit"),
		   *cont = wsr_sim_req_query(c->req, "continue");
	*limit = 0;
	after[0] = '\0';
	if (l && wsr_sim_query_count(l, WSR_KCPSIM_PAGE_MAX, limit)) {
		wsr_kcpsim_fail(c->resp, 400, NULL, NULL,
				"limit must be a whole number from 1 to %d", WSR_KCPSIM_PAGE_MAX);
		return -1;
	}
	if (cont && cont[0] && wsr_kcpsim_continue_decode(after, c->s->secret, list, cont)) {
		wsr_kcpsim_fail(c->resp, 410, "Gone", NULL,
				"the provided continue parameter was not handed out by this server "
				"for this list; start a new list without it");
		return -1;
	}
	return 0;
}

int wsr_kcpsim_list_meta(wsr_kcpsim_call *c, cJSON *list, const char *name, const char *last)
{
	char rv[32], token[WSR_KCPSIM_CONTINUE_MAX + 1];
	cJSON *m = cJSON_CreateObject();
	snprintf(rv, sizeof(rv), "%llu", (unsigned long long)c->s->rv);
	if (!m || !cJSON_AddItemToObject(list, "metadata", m) ||
	    !cJSON_AddStringToObject(m, "resourceVersion", rv)) {
		if (!cJSON_GetObjectItemCaseSensitive(list, "metadata"))
			cJSON_Delete(m);
		return WSR_ENOMEM;
	}
	if (last && wsr_kcpsim_continue_encode(token, c->s->secret, name, last) == 0 &&
	    !cJSON_AddStringToObject(m, "continue", token))
		return WSR_ENOMEM;
	return 0;
}

/* One term of a label selector, as Kubernetes' equality-based ones. */
typedef struct term {
	char key[WSR_KCPSIM_LABEL_PREFIX_MAX + WSR_KCPSIM_LABEL_MAX + 2];
	char value[WSR_KCPSIM_LABEL_MAX + 1];
	enum { EQ, NE, EXISTS, ABSENT } op;
} term;

typedef struct selector {
	term t[MAX_SELECTOR_TERMS];
	int n;
	const char *name; /* fieldSelector metadata.name, or NULL */
	char name_buf[WSR_KCPSIM_NAME_MAX + 1];
} selector;

/* Copies n bytes of s, trimmed of blanks, into out (size bytes); -1 when
 * they do not fit. */
static int trimmed(char *out, size_t size, const char *s, size_t n)
{
	while (n && *s == ' ')
		s++, n--;
	while (n && s[n - 1] == ' ')
		n--;
	if (n >= size)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static int parse_term(term *t, const char *s, size_t n)
{
	const char *ne = memmem(s, n, "!=", 2), *eq = memchr(s, '=', n);
	if (ne || eq) {
		const char *op = ne ? ne : eq;
		size_t oplen = ne ? 2 : (op + 1 < s + n && op[1] == '=') ? 2 : 1;
		t->op = ne ? NE : EQ;
		if (trimmed(t->key, sizeof(t->key), s, (size_t)(op - s)) ||
		    trimmed(t->value, sizeof(t->value), op + oplen, n - (size_t)(op - s) - oplen))
			return -1;
		return wsr_kcpsim_label_key_valid(t->key) && wsr_kcpsim_label_value_valid(t->value)
			   ? 0
			   : -1;
	}
	while (n && *s == ' ')
		s++, n--;
	t->op = n && *s == '!' ? ABSENT : EXISTS;
	if (t->op == ABSENT)
		s++, n--;
	t->value[0] = '\0';
	return trimmed(t->key, sizeof(t->key), s, n) || !wsr_kcpsim_label_key_valid(t->key) ? -1
											    : 0;
}

/* Parses ?labelSelector= and ?fieldSelector= (metadata.name only); 0, or
 * -1 after answering 400. */
static int parse_selectors(wsr_kcpsim_call *c, selector *sel)
{
	const char *ls = wsr_sim_req_query(c->req, "labelSelector"),
		   *fs = wsr_sim_req_query(c->req, "fieldSelector");
	memset(sel, 0, sizeof(*sel));
	if (ls && strlen(ls) > MAX_SELECTOR_LEN) {
		wsr_kcpsim_fail(c->resp, 400, NULL, NULL, "labelSelector is longer than %d bytes",
				MAX_SELECTOR_LEN);
		return -1;
	}
	for (const char *p = ls && ls[0] ? ls : NULL; p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (sel->n == MAX_SELECTOR_TERMS || parse_term(&sel->t[sel->n++], p, n)) {
			wsr_kcpsim_fail(c->resp, 400, NULL, NULL,
					"unable to parse requirement in labelSelector \"%.200s\" "
					"(terms like a=b, a!=b, a, !a; at most %d)",
					ls, MAX_SELECTOR_TERMS);
			return -1;
		}
		p = comma ? comma + 1 : NULL;
	}
	if (fs && fs[0]) {
		const char *v = strncmp(fs, "metadata.name==", 15) == 0	 ? fs + 15
				: strncmp(fs, "metadata.name=", 14) == 0 ? fs + 14
									 : NULL;
		if (!v || strlen(v) > WSR_KCPSIM_NAME_MAX) {
			wsr_kcpsim_fail(
			    c->resp, 400, NULL, NULL,
			    "field label not supported in \"%.200s\" (only metadata.name=)", fs);
			return -1;
		}
		strcpy(sel->name_buf, v);
		sel->name = sel->name_buf;
	}
	return 0;
}

static int selected(const selector *sel, const wsr_kcpsim_ws *w)
{
	const cJSON *labels = wsr_json_path(w->obj, "metadata.labels");
	if (sel->name && strcmp(sel->name, w->name) != 0)
		return 0;
	for (int i = 0; i < sel->n; i++) {
		const char *v = wsr_json_str(labels, sel->t[i].key);
		int ok = sel->t[i].op == EXISTS	  ? v != NULL
			 : sel->t[i].op == ABSENT ? v == NULL
			 : sel->t[i].op == EQ	  ? v && strcmp(v, sel->t[i].value) == 0
						  : !v || strcmp(v, sel->t[i].value) != 0;
		if (!ok)
			return 0;
	}
	return 1;
}

int wsr_kcpsim_watch_refused(wsr_kcpsim_call *c)
{
	const char *w = wsr_sim_req_query(c->req, "watch");
	if (!w || (strcmp(w, "true") != 0 && strcmp(w, "1") != 0))
		return 0;
	/* one event, the end of the stream: clients list again (kubectl's
	 * delete does, to see the workspace gone) */
	cJSON *ev = cJSON_CreateObject(),
	      *st = wsr_kcpsim_status(410, "Expired", NULL,
				      "the emulator keeps no watch history: list again");
	if (!ev || !st || !cJSON_AddStringToObject(ev, "type", "ERROR") ||
	    !cJSON_AddItemToObject(ev, "object", st)) {
		if (!cJSON_GetObjectItemCaseSensitive(ev, "object"))
			cJSON_Delete(st);
		cJSON_Delete(ev);
		wsr_kcpsim_unavailable(c, WSR_ENOMEM);
		return 1;
	}
	wsr_sim_resp_json(c->resp, 200, ev);
	return 1;
}

void wsr_kcpsim_ws_list(wsr_kcpsim_call *c)
{
	char after[WSR_KCPSIM_NAME_MAX + 1];
	size_t limit, n = 0;
	selector sel;
	char *list_name = wsr_strdupf("%s/workspaces", c->ws->path);
	if (!list_name) {
		wsr_kcpsim_unavailable(c, WSR_ENOMEM);
		return;
	}
	if (wsr_kcpsim_watch_refused(c) || wsr_kcpsim_page_params(c, list_name, &limit, after) ||
	    parse_selectors(c, &sel)) {
		free(list_name);
		return;
	}
	size_t max = limit && limit < c->s->page_max ? limit : c->s->page_max;
	cJSON *list = cJSON_CreateObject(), *items = cJSON_CreateArray();
	int ok = list && items &&
		 cJSON_AddStringToObject(list, "apiVersion", WSR_KCPSIM_GROUP "/v1alpha1") &&
		 cJSON_AddStringToObject(list, "kind", "WorkspaceList");
	size_t i = wsr_kcpsim_ws_after(c->ws, after);
	const char *last = NULL;
	for (; ok && i < c->ws->nkids && n < max; i++) {
		const wsr_kcpsim_ws *w = c->ws->kids[i];
		if (!selected(&sel, w))
			continue;
		cJSON *v = wsr_kcpsim_view(c, w);
		ok = v && cJSON_AddItemToArray(items, v);
		if (!ok)
			cJSON_Delete(v);
		last = w->name;
		n++;
	}
	ok = ok && !wsr_kcpsim_list_meta(c, list, list_name, i < c->ws->nkids ? last : NULL);
	if (ok && cJSON_AddItemToObject(list, "items", items))
		items = NULL;
	else
		ok = 0;
	cJSON_Delete(items);
	free(list_name);
	if (!ok) {
		cJSON_Delete(list);
		wsr_kcpsim_unavailable(c, WSR_ENOMEM);
		return;
	}
	wsr_kcpsim_reply(c, 200, list);
}

void wsr_kcpsim_ws_get(wsr_kcpsim_call *c, const char *name)
{
	const wsr_kcpsim_ws *w = wsr_kcpsim_ws_kid(c->ws, name);
	/* "~" is the caller's home on a server with logical-cluster homes;
	 * with bucketed homes it is a name like any other (404) */
	if (strcmp(name, "~") == 0 && c->ws == c->s->root && !c->s->buckets &&
	    strcmp(c->req->method, "GET") == 0 && !strstr(c->req->path, "/status"))
		wsr_kcpsim_home_get(c);
	else if (!w)
		wsr_kcpsim_ws_not_found(c, name);
	else
		wsr_kcpsim_reply(c, 200, wsr_kcpsim_view(c, w));
}
