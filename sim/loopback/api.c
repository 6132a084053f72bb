/* api: the checks every handler shares (organization, permission, project
 * scope, pagination, body parsing), the Workspace and Task views, and the
 * small read-only endpoints: principal, organizations, catalogs, tasks. */
#include "sim/loopback/api.h"

#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "sim/loopback/names.h"
#include "sim/loopback/platform.h"

wsr_lbsim_org *wsr_lbsim_own_org(wsr_lbsim_call *c, const char *name)
{
	if (strcmp(name, c->org->name) == 0)
		return c->org;
	/* the same answer whether it exists or not: nothing is revealed */
	wsr_sim_resp_error(c->resp, 404, "not_found", "no organization %s", name);
	return NULL;
}

int wsr_lbsim_in_scope(const wsr_lbsim_call *c, const char *project)
{
	return !c->projects || wsr_lbsim_list_has(c->projects, project);
}

int wsr_lbsim_allowed(wsr_lbsim_call *c, unsigned perm, const char *project)
{
	if ((c->perms & perm) && wsr_lbsim_in_scope(c, project))
		return 1;
	wsr_sim_resp_error(c->resp, 403, "permission_denied", "missing permission %s on project %s",
			   wsr_lbsim_perm_name(perm), project);
	return 0;
}

int wsr_lbsim_page_params(wsr_lbsim_call *c, size_t *limit, char *after)
{
	const char *l = wsr_sim_req_query(c->req, "limit"),
		   *cur = wsr_sim_req_query(c->req, "cursor");
	*limit = WSR_LBSIM_PAGE_DEFAULT;
	after[0] = '\0';
	if (l && wsr_sim_query_count(l, WSR_LBSIM_PAGE_MAX, limit)) {
		wsr_sim_resp_error(c->resp, 400, "invalid_request",
				   "limit must be a whole number from 1 to %d", WSR_LBSIM_PAGE_MAX);
		return -1;
	}
	if (cur && wsr_lbsim_cursor_decode(after, cur)) {
		wsr_sim_resp_error(c->resp, 400, "invalid_request",
				   "cursor is not one this platform gave out");
		return -1;
	}
	return 0;
}

/* {"items": items, "nextCursor": cursor after last, or null}; items is
 * taken over. NULL after answering 503. */
static cJSON *page_obj(wsr_lbsim_call *c, cJSON *items, const char *last)
{
	char cursor[WSR_LBSIM_CURSOR_MAX + 1];
	cJSON *page = cJSON_CreateObject();
	if (!page || !cJSON_AddItemToObject(page, "items", items)) {
		cJSON_Delete(items);
		cJSON_Delete(page);
		wsr_lbsim_unavailable(c, WSR_ENOMEM);
		return NULL;
	}
	if (last && wsr_lbsim_cursor_encode(cursor, last) == 0)
		cJSON_AddStringToObject(page, "nextCursor", cursor);
	else
		cJSON_AddNullToObject(page, "nextCursor");
	return page;
}

void wsr_lbsim_page_reply(wsr_lbsim_call *c, cJSON *items, const char *last)
{
	cJSON *page = page_obj(c, items, last);
	if (page)
		wsr_sim_resp_json(c->resp, 200, page);
}

cJSON *wsr_lbsim_page_of(wsr_lbsim_call *c, const cJSON *arr, const char *field)
{
	size_t limit, n = 0;
	char after[WSR_LBSIM_CURSOR_KEY_MAX + 1];
	if (wsr_lbsim_page_params(c, &limit, after))
		return NULL;
	const cJSON *it = arr ? arr->child : NULL;
	if (after[0]) {
		while (it && strcmp(wsr_json_str(it, field), after) != 0)
			it = it->next;
		if (!it) {
			wsr_sim_resp_error(c->resp, 400, "invalid_request",
					   "cursor is not one this list gave out");
			return NULL;
		}
		it = it->next;
	}
	cJSON *items = cJSON_CreateArray();
	const char *last = NULL;
	for (; items && it && n < limit; it = it->next, n++) {
		cJSON_AddItemToArray(items, cJSON_Duplicate(it, 1));
		last = wsr_json_str(it, field);
	}
	if (!items) {
		wsr_lbsim_unavailable(c, WSR_ENOMEM);
		return NULL;
	}
	return page_obj(c, items, it ? last : NULL);
}

cJSON *wsr_lbsim_body(wsr_lbsim_call *c)
{
	cJSON *v = NULL;
	char *err = NULL;
	if (c->req->len == 0)
		wsr_sim_resp_error(c->resp, 400, "invalid_request", "a JSON body is required");
	else if (wsr_json_parse(&v, c->req->body, c->req->len, &err))
		wsr_sim_resp_error(c->resp, 400, "invalid_request", "malformed JSON: %s",
				   err ? err : "");
	free(err);
	return v;
}

void wsr_lbsim_unavailable(wsr_lbsim_call *c, int rc)
{
	wsr_sim_resp_error(c->resp, 503, "unavailable",
			   "the platform cannot store the change now (%s)", wsr_strerror(rc));
}

static cJSON *time_str(int64_t ms)
{
	char buf[32];
	return cJSON_CreateString(wsr_time_format(ms, buf, sizeof(buf)));
}

cJSON *wsr_lbsim_ws_json(const wsr_lbsim_ws *w, int64_t now)
{
	cJSON *v = cJSON_Duplicate(w->obj, 1);
	if (v && !cJSON_ReplaceItemInObjectCaseSensitive(
		     v, "state", cJSON_CreateString(wsr_lbsim_ws_state(w, now)))) {
		cJSON_Delete(v);
		v = NULL;
	}
	return v;
}

cJSON *wsr_lbsim_task_json(const wsr_lbsim_task *t, int64_t now)
{
	int done = now >= t->finished_at;
	cJSON *v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "id", t->id);
	const char *state = !done ? "running" : t->err_code ? "failed" : "succeeded";
	cJSON_AddStringToObject(v, "type", wsr_lbsim_task_type_name(t->type));
	cJSON_AddStringToObject(v, "state", state);
	cJSON_AddStringToObject(v, "organization", t->org);
	cJSON_AddStringToObject(v, "workspace", t->ws);
	cJSON_AddItemToObject(v, "createdAt", time_str(t->created_at));
	cJSON_AddItemToObject(v, "finishedAt",
			      done ? time_str(t->finished_at) : cJSON_CreateNull());
	cJSON *e = done && t->err_code ? cJSON_AddObjectToObject(v, "error")
				       : cJSON_AddNullToObject(v, "error");
	if (!e || (cJSON_IsObject(e) && (!cJSON_AddStringToObject(e, "code", t->err_code) ||
					 !cJSON_AddStringToObject(e, "message", t->err_msg)))) {
		cJSON_Delete(v);
		return NULL;
	}
	return v;
}

void wsr_lbsim_reply_ws_task(wsr_lbsim_call *c, int code, const wsr_lbsim_ws *w,
			     const wsr_lbsim_task *t)
{
	cJSON *v = cJSON_CreateObject();
	if (v && !(cJSON_AddItemToObject(v, "workspace", wsr_lbsim_ws_json(w, c->now)) &&
		   (!t || cJSON_AddItemToObject(v, "task", wsr_lbsim_task_json(t, c->now))))) {
		cJSON_Delete(v);
		v = NULL;
	}
	wsr_sim_resp_json(c->resp, code, v);
}
