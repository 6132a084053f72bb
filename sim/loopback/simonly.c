/* simonly: PATCH /_sim/organizations/{org}/workspaces/{name} (a JSON merge
 * patch, RFC 7386, applied to the stored Workspace and checked like a
 * create body) and POST|DELETE /_sim/faults. */
#include "sim/loopback/simonly.h"

#include <stdio.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "sim/loopback/api.h"
#include "sim/loopback/body.h"
#include "sim/loopback/catalog.h"
#include "sim/loopback/faults.h"
#include "sim/merge.h"

/* The fields that stay the platform's whatever the patch says. */
static const char *const fixed[] = {"id", "name", "organization", "state", "createdAt", NULL};

/* 0, or WSR_EINVAL with why when patch changes one of fixed (view is the
 * Workspace as shown now, so "state" compares with the state shown). */
static int keeps_fixed(const cJSON *view, const cJSON *patch, char *why)
{
	for (const char *const *f = fixed; *f; f++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(patch, *f);
		if (v && !cJSON_Compare(v, cJSON_GetObjectItemCaseSensitive(view, *f), 1)) {
			snprintf(why, WSR_LBSIM_WHY_MAX, "%s cannot be changed this way", *f);
			return WSR_EINVAL;
		}
	}
	return 0;
}

/* 1 when the placement inputs (kind, compute provider, pinned cluster) of
 * two workspaces are the same, so the stored placement still holds. */
static int same_placement(const cJSON *a, const cJSON *b)
{
	static const char *const keys[] = {"computeProvider", "managementCluster", NULL};
	const cJSON *ka = wsr_json_obj(a, "kubernetes"), *kb = wsr_json_obj(b, "kubernetes");
	if (!cJSON_Compare(cJSON_GetObjectItemCaseSensitive(a, "kind"),
			   cJSON_GetObjectItemCaseSensitive(b, "kind"), 1) ||
	    !ka != !kb)
		return 0;
	for (const char *const *k = keys; ka && *k; k++)
		if (!cJSON_Compare(cJSON_GetObjectItemCaseSensitive(ka, *k),
				   cJSON_GetObjectItemCaseSensitive(kb, *k), 1))
			return 0;
	return 1;
}

/* The platform's checks on a changed workspace beyond a create body's: its
 * project, a catalog version (active or not) and a placement. */
static int still_valid(const wsr_lbsim_store *s, const wsr_lbsim_org *o, const cJSON *old,
		       cJSON *ws, char *why)
{
	cJSON *k = cJSON_GetObjectItemCaseSensitive(ws, "kubernetes");
	const char *project = wsr_json_str(ws, "project"), *version = wsr_json_str(k, "version");
	const char *cluster, *code;
	if (!wsr_lbsim_list_has(wsr_json_arr(o->json, "projects"), project)) {
		snprintf(why, WSR_LBSIM_WHY_MAX, "project %s is not a project of organization %s",
			 project, o->name);
		return WSR_EINVAL;
	}
	if (version && !wsr_lbsim_catalog_version(s->platform, version)) {
		snprintf(why, WSR_LBSIM_WHY_MAX, "kubernetes.version %s is not in the catalog",
			 version);
		return WSR_EINVAL;
	}
	if (same_placement(old, ws))
		return 0;
	if (wsr_lbsim_place(&cluster, &code, why, WSR_LBSIM_WHY_MAX, s->platform, ws))
		return WSR_EINVAL;
	cJSON *n = cluster ? cJSON_CreateString(cluster) : NULL;
	if (!cluster || (n && cJSON_ReplaceItemInObjectCaseSensitive(k, "managementCluster", n)))
		return 0;
	cJSON_Delete(n);
	return WSR_ENOMEM;
}

/* Copies key from the stored object into ws; 0 or WSR_ENOMEM. */
static int keep(cJSON *ws, const cJSON *old, const char *key)
{
	cJSON *v = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(old, key), 1);
	if (v && cJSON_ReplaceItemInObjectCaseSensitive(ws, key, v))
		return 0;
	cJSON_Delete(v);
	return WSR_ENOMEM;
}

/* The stored object after patch, checked; NULL with rc and why otherwise. */
static cJSON *patched(const wsr_lbsim_store *s, const wsr_lbsim_org *o, const wsr_lbsim_ws *w,
		      const cJSON *patch, int64_t now, int *rc, char *why)
{
	static const char *const kept[] = {"id", "organization", "state", "createdAt", NULL};
	char at[32];
	cJSON *view = wsr_lbsim_ws_json(w, now), *merged = NULL, *ws = NULL;
	*rc = view ? keeps_fixed(view, patch, why) : WSR_ENOMEM;
	if (!*rc && !(merged = wsr_sim_merge_patch(cJSON_Duplicate(w->obj, 1), patch)))
		*rc = WSR_ENOMEM;
	if (!*rc) /* as an administrator would: nothing rewrites maintenance */
		*rc = wsr_lbsim_body_create(&ws, merged, 1, why);
	if (!*rc)
		*rc = still_valid(s, o, w->obj, ws, why);
	for (const char *const *k = kept; !*rc && *k; k++)
		*rc = keep(ws, w->obj, *k);
	/* a UI change is a change: updatedAt moves, unless the patch sets it */
	const cJSON *given = cJSON_GetObjectItemCaseSensitive(patch, "updatedAt");
	const char *stamp = cJSON_GetStringValue(given);
	int64_t ms;
	if (!*rc && given && !cJSON_IsNull(given) && (!stamp || wsr_time_parse(&ms, stamp))) {
		snprintf(why, WSR_LBSIM_WHY_MAX, "updatedAt must be an RFC 3339 UTC time");
		*rc = WSR_EINVAL;
	}
	cJSON *t =
	    *rc ? NULL : cJSON_CreateString(stamp ? stamp : wsr_time_format(now, at, sizeof(at)));
	if (!*rc && !(t && cJSON_ReplaceItemInObjectCaseSensitive(ws, "updatedAt", t))) {
		cJSON_Delete(t);
		*rc = WSR_ENOMEM;
	}
	cJSON_Delete(view);
	cJSON_Delete(merged);
	if (*rc) {
		cJSON_Delete(ws);
		return NULL;
	}
	return ws;
}

static void ui_patch(wsr_lbsim_call *c, const char *orgname, const char *name)
{
	char why[WSR_LBSIM_WHY_MAX];
	wsr_lbsim_org *o = wsr_lbsim_store_org(c->s, orgname);
	wsr_lbsim_ws *w = o ? wsr_lbsim_store_ws(o, name) : NULL;
	int rc;
	if (!w) {
		wsr_sim_resp_error(c->resp, 404, "not_found", "no workspace %s in organization %s",
				   name, orgname);
		return;
	}
	cJSON *patch = wsr_lbsim_body(c), *obj = NULL;
	if (!patch)
		return;
	if (!cJSON_IsObject(patch))
		wsr_sim_resp_error(c->resp, 400, "invalid_request",
				   "a merge patch of a workspace is a JSON object");
	else if (!(obj = patched(c->s, o, w, patch, c->now, &rc, why)) && rc == WSR_EINVAL)
		wsr_sim_resp_error(c->resp, 400, "invalid_request", "%s", why);
	else if (!obj)
		wsr_lbsim_unavailable(c, rc);
	cJSON_Delete(patch);
	if (obj)
		wsr_lbsim_ws_replace(c, w, obj);
}

static void reply_pending(wsr_lbsim_call *c, int status)
{
	cJSON *v = cJSON_CreateObject();
	if (v && !cJSON_AddNumberToObject(v, "faults", (double)wsr_lbsim_faults_pending(c->s))) {
		cJSON_Delete(v);
		v = NULL;
	}
	wsr_sim_resp_json(c->resp, status, v);
}

static void faults(wsr_lbsim_call *c)
{
	char why[WSR_LBSIM_WHY_MAX];
	if (strcmp(c->req->method, "DELETE") == 0) {
		wsr_lbsim_faults_clear(c->s);
		reply_pending(c, 200);
		return;
	}
	cJSON *body = wsr_lbsim_body(c);
	int rc = body ? wsr_lbsim_fault_add(c->s, body, why) : 0;
	if (rc == WSR_EINVAL || rc == WSR_ELIMIT)
		wsr_sim_resp_error(c->resp, 400, "invalid_request", "%s", why);
	else if (rc)
		wsr_lbsim_unavailable(c, rc);
	else if (body)
		reply_pending(c, 201);
	cJSON_Delete(body);
}

static void not_allowed(wsr_lbsim_call *c, const char *allow)
{
	c->resp->allow = allow;
	wsr_sim_resp_error(c->resp, 405, "method_not_allowed", "%s is not allowed here; use %s",
			   c->req->method, allow);
}

#define MAX_SIM_PATH 512

void wsr_lbsim_simonly(wsr_lbsim_store *s, const wsr_sim_req *req, wsr_sim_resp *resp, int64_t now)
{
	wsr_lbsim_call c = {req, resp, s, NULL, NULL, 0, 1, NULL, now};
	const char *m = req->method;
	char org[MAX_SIM_PATH], name[MAX_SIM_PATH], rest;
	if (strcmp(req->path, "/_sim/faults") == 0) {
		if (strcmp(m, "POST") == 0 || strcmp(m, "DELETE") == 0)
			faults(&c);
		else
			not_allowed(&c, "POST, DELETE");
	} else if (strlen(req->path) < MAX_SIM_PATH &&
		   sscanf(req->path, "/_sim/organizations/%511[^/]/workspaces/%511[^/]%c", org,
			  name, &rest) == 2) {
		if (strcmp(m, "PATCH") == 0)
			ui_patch(&c, org, name);
		else
			not_allowed(&c, "PATCH");
	} else
		wsr_sim_resp_error(resp, 404, "not_found", "no such path %.200s", req->path);
}
