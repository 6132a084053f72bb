/* ws: what every workspace handler shares (the view with spec.URL, replies
 * that become Tables when kubectl asks, bodies, paging, selectors) and the
 * two reads: one workspace, and a page of a workspace's children. */
#include "sim/kcp/api.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "sim/kcp/page.h"
#include "sim/kcp/seed.h"
#include "sim/kcp/status.h"
#include "sim/kcp/watch.h"

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

/* Kubernetes' own text for a continue token past its time (k8s.io/apiserver,
 * the etcd3 storage's inconsistentContinue). */
#define CONTINUE_EXPIRED                                                                           \
	"The provided continue parameter is too old to display a consistent list result. You "     \
	"can start a new list without the continue parameter, or use the continue token in this "  \
	"response to retrieve the remainder of the results. Continuing with the provided token "   \
	"results in an inconsistent list - objects that were created, modified, or deleted "       \
	"between the time the first chunk was returned and now may show up in the list."
/* Digits of a ?limit= (int64 has 19). */
#define LIMIT_DIGITS 19

/* The time a token handed out now carries: after the last expiry asked for
 * (POST /_sim/expire-continue), so no new token is born expired. */
static int64_t issue_time(const wsr_kcpsim_call *c)
{
	return c->now > c->s->continue_floor ? c->now : c->s->continue_floor + 1;
}

/* 1 when a token handed out at issued is past its time. */
static int expired(const wsr_kcpsim_call *c, int64_t issued)
{
	int64_t ttl = (int64_t)wsr_json_num(c->s->platform, "continueTtlMs", 0);
	return issued <= c->s->continue_floor || (ttl > 0 && c->now - issued > ttl);
}

/* 410 Expired with, as Kubernetes does, a fresh token in the Status's
 * metadata that continues after the same item (inconsistently). */
static void continue_expired(wsr_kcpsim_call *c, const char *list, const char *after)
{
	char token[WSR_KCPSIM_CONTINUE_MAX + 1];
	cJSON *st = wsr_kcpsim_status(410, "Expired", NULL, "%s", CONTINUE_EXPIRED), *m;
	if (st &&
	    wsr_kcpsim_continue_encode(token, c->s->secret, list, after, issue_time(c)) == 0) {
		cJSON_DeleteItemFromObjectCaseSensitive(st, "metadata");
		if (!(m = cJSON_AddObjectToObject(st, "metadata")) ||
		    !cJSON_AddStringToObject(m, "continue", token)) {
			cJSON_Delete(st);
			st = NULL;
		}
	}
	if (!st)
		wsr_kcpsim_unavailable(c, WSR_ENOMEM);
	else
		wsr_sim_resp_json(c->resp, 410, st);
}

/* ?limit=: any whole number (0: none); 0, or -1 when it is not one. */
static int parse_limit(const char *l, size_t *out)
{
	size_t n = strlen(l);
	unsigned long long v = 0;
	if (n == 0 || n > LIMIT_DIGITS)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (l[i] < '0' || l[i] > '9')
			return -1;
		v = v * 10 + (unsigned long long)(l[i] - '0');
	}
	*out = v > SIZE_MAX ? SIZE_MAX : (size_t)v;
	return 0;
}

int wsr_kcpsim_page_params(wsr_kcpsim_call *c, const char *list, size_t *limit, char *after)
{
	const char *l = wsr_sim_req_query(c->req, "limit"),
		   *cont = wsr_sim_req_query(c->req, "continue");
	int64_t issued = 0;
	*limit = 0;
	after[0] = '\0';
	if (l && parse_limit(l, limit)) {
		wsr_kcpsim_fail(c->resp, 400, NULL, NULL,
				"limit: Invalid value: \"%.32s\": must be a whole number (0 for no "
				"limit)",
				l);
		return -1;
	}
	if (cont && cont[0] &&
	    wsr_kcpsim_continue_decode(after, &issued, c->s->secret, list, cont)) {
		wsr_kcpsim_fail(c->resp, 410, "Gone", NULL,
				"the provided continue parameter was not handed out by this server "
				"for this list; start a new list without it");
		return -1;
	}
	if (cont && cont[0] && expired(c, issued)) {
		continue_expired(c, list, after);
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
	if (last &&
	    wsr_kcpsim_continue_encode(token, c->s->secret, name, last, issue_time(c)) == 0 &&
	    !cJSON_AddStringToObject(m, "continue", token))
		return WSR_ENOMEM;
	return 0;
}

int wsr_kcpsim_query_selector(wsr_kcpsim_call *c, wsr_kcpsim_selector *sel)
{
	char why[WSR_KCPSIM_SELECTOR_WHY];
	if (wsr_kcpsim_selector_parse(sel, wsr_sim_req_query(c->req, "labelSelector"),
				      wsr_sim_req_query(c->req, "fieldSelector"), why) == 0)
		return 0;
	wsr_kcpsim_fail(c->resp, 400, NULL, NULL, "%s", why);
	return -1;
}

static int selected(const wsr_kcpsim_selector *sel, const wsr_kcpsim_ws *w)
{
	return wsr_kcpsim_selector_match(sel, w->name, wsr_json_path(w->obj, "metadata.labels"));
}

void wsr_kcpsim_ws_list(wsr_kcpsim_call *c)
{
	char after[WSR_KCPSIM_NAME_MAX + 1];
	size_t limit, n = 0;
	wsr_kcpsim_selector sel;
	char *list_name = wsr_strdupf("%s/workspaces", c->ws->path);
	if (!list_name) {
		wsr_kcpsim_unavailable(c, WSR_ENOMEM);
		return;
	}
	int rc = wsr_kcpsim_query_selector(c, &sel);
	if (!rc && wsr_kcpsim_is_watch(c)) {
		wsr_kcpsim_watch_ws(c, &sel);
		rc = -1; /* answered */
	}
	if (rc || wsr_kcpsim_page_params(c, list_name, &limit, after)) {
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
