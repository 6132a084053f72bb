/* ws: finding, reading, updating and deleting workspaces. Lists walk the sorted
 * array from the cursor's position, so a page costs O(log n + limit) (plus
 * the workspaces skipped for a project-limited key). */
#include "sim/loopback/api.h"

#include <string.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "sim/loopback/body.h"
#include "sim/loopback/faults.h"
#include "sim/loopback/names.h"

static const char *project_of(const wsr_lbsim_ws *w)
{
	return wsr_json_str(w->obj, "project");
}

void wsr_lbsim_ws_list(wsr_lbsim_call *c, const char *orgname)
{
	wsr_lbsim_org *o = wsr_lbsim_own_org(c, orgname);
	size_t limit, n = 0, i = 0;
	char after[WSR_LBSIM_CURSOR_KEY_MAX + 1];
	if (!o || wsr_lbsim_page_params(c, &limit, after))
		return;
	if (!(c->perms & WSR_LBSIM_WS_READ)) {
		wsr_sim_resp_error(c->resp, 403, "permission_denied",
				   "missing permission workspace:read");
		return;
	}
	if (after[0])
		i = wsr_lbsim_store_after(o, after);
	cJSON *items = cJSON_CreateArray();
	const char *last = NULL;
	for (; items && i < o->nws && n < limit; i++) {
		if (!wsr_lbsim_in_scope(c, project_of(o->ws[i])))
			continue; /* a project-limited key sees only its projects */
		cJSON_AddItemToArray(items, wsr_lbsim_ws_json(o->ws[i], c->now));
		last = o->ws[i]->name;
		n++;
	}
	while (i < o->nws && !wsr_lbsim_in_scope(c, project_of(o->ws[i])))
		i++;
	if (!items) {
		wsr_lbsim_unavailable(c, WSR_ENOMEM);
		return;
	}
	wsr_lbsim_page_reply(c, items, i < o->nws ? last : NULL);
}

wsr_lbsim_ws *wsr_lbsim_ws_lookup(wsr_lbsim_call *c, const char *orgname, const char *name)
{
	wsr_lbsim_org *o = wsr_lbsim_own_org(c, orgname);
	wsr_lbsim_ws *w = o ? wsr_lbsim_store_ws(o, name) : NULL;
	if (o && !w)
		wsr_sim_resp_error(c->resp, 404, "not_found", "no workspace %s in organization %s",
				   name, orgname);
	return w;
}

wsr_lbsim_ws *wsr_lbsim_ws_find(wsr_lbsim_call *c, const char *orgname, const char *name,
				unsigned perm)
{
	wsr_lbsim_ws *w = wsr_lbsim_ws_lookup(c, orgname, name);
	return w && wsr_lbsim_allowed(c, perm, project_of(w)) ? w : NULL;
}

void wsr_lbsim_ws_get(wsr_lbsim_call *c, const char *org, const char *name)
{
	wsr_lbsim_ws *w = wsr_lbsim_ws_find(c, org, name, WSR_LBSIM_WS_READ);
	if (w)
		wsr_sim_resp_json(c->resp, 200, wsr_lbsim_ws_json(w, c->now));
}

/* Checks body against w and returns the updated object, or NULL after answering. */
static cJSON *patched(wsr_lbsim_call *c, const wsr_lbsim_ws *w, const cJSON *body)
{
	char why[WSR_LBSIM_WHY_MAX], now[32];
	int maint = 0;
	cJSON *obj = cJSON_Duplicate(w->obj, 1);
	int rc = obj ? wsr_lbsim_body_patch(obj, body, c->admin, &maint, why) : WSR_ENOMEM;
	const char *state = wsr_lbsim_ws_state(w, c->now);
	if (rc == WSR_EINVAL)
		wsr_sim_resp_error(c->resp, 400, "invalid_request", "%s", why);
	else if (rc)
		wsr_lbsim_unavailable(c, rc);
	else if (maint && !wsr_lbsim_allowed(c, WSR_LBSIM_MAINT_UPDATE, project_of(w)))
		rc = WSR_EINVAL;
	else if (strcmp(state, "active") != 0) {
		wsr_sim_resp_error(c->resp, 409, "conflict",
				   "workspace %s is %s; only an active workspace can be updated",
				   w->name, state);
		rc = WSR_ECONFLICT;
	} else if (!cJSON_ReplaceItemInObjectCaseSensitive(
		       obj, "updatedAt",
		       cJSON_CreateString(wsr_time_format(c->now, now, sizeof(now))))) {
		wsr_lbsim_unavailable(c, WSR_ENOMEM);
		rc = WSR_ENOMEM;
	}
	if (rc) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

void wsr_lbsim_ws_patch(wsr_lbsim_call *c, const char *org, const char *name)
{
	cJSON *body = wsr_lbsim_body(c);
	wsr_lbsim_ws *w = body ? wsr_lbsim_ws_find(c, org, name, WSR_LBSIM_WS_UPDATE) : NULL;
	cJSON *obj = w ? patched(c, w, body) : NULL;
	cJSON_Delete(body);
	if (obj)
		wsr_lbsim_ws_replace(c, w, obj);
}

void wsr_lbsim_ws_replace(wsr_lbsim_call *c, wsr_lbsim_ws *w, cJSON *obj)
{
	cJSON *old = w->obj;
	w->obj = obj;
	int rc = wsr_lbsim_store_update(c->s, w);
	if (rc) { /* memory stays as the data directory has it */
		w->obj = old;
		cJSON_Delete(obj);
		wsr_lbsim_unavailable(c, rc);
		return;
	}
	cJSON_Delete(old);
	wsr_sim_resp_json(c->resp, 200, wsr_lbsim_ws_json(w, c->now));
}

static void reply_task(wsr_lbsim_call *c, const wsr_lbsim_task *t)
{
	cJSON *v = cJSON_CreateObject();
	if (v && !cJSON_AddItemToObject(v, "task", wsr_lbsim_task_json(t, c->now))) {
		cJSON_Delete(v);
		v = NULL;
	}
	wsr_sim_resp_json(c->resp, 202, v);
}

void wsr_lbsim_ws_delete(wsr_lbsim_call *c, const char *org, const char *name)
{
	wsr_lbsim_ws *w = wsr_lbsim_ws_find(c, org, name, WSR_LBSIM_WS_DELETE);
	if (!w)
		return;
	if (w->op) { /* an upgrade or transfer runs; it must end first */
		wsr_sim_resp_error(c->resp, 409, "conflict",
				   "workspace %s is %s; it can be deleted when its task %s ends",
				   w->name, wsr_lbsim_ws_state(w, c->now), w->op_task);
		return;
	}
	if (w->delete_task[0]) { /* already deleting: the running task again */
		const wsr_lbsim_task *running = wsr_lbsim_store_task(c->s, w->delete_task);
		if (running)
			reply_task(c, running);
		else
			wsr_lbsim_unavailable(c, WSR_ECORRUPT);
		return;
	}
	wsr_lbsim_task *t =
	    wsr_lbsim_task_new(WSR_LBSIM_TASK_DELETE, org, name, c->now, c->s->provisioning_ms);
	int rc = t ? wsr_lbsim_fault_task(c->s, t) : WSR_ENOMEM;
	if (!rc)
		rc = wsr_lbsim_store_delete(c->s, w, t);
	if (rc) {
		wsr_lbsim_task_free(t);
		wsr_lbsim_unavailable(c, rc);
		return;
	}
	reply_task(c, t);
}
