/* types: the workspace types a workspace defines (read-only, listed with
 * the same paging as workspaces) and SelfSubjectAccessReview, which is how
 * a client learns whether it may use a type before it creates a workspace
 * of it. */
#include "sim/kcp/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "sim/kcp/admission.h"
#include "sim/kcp/seed.h"
#include "sim/kcp/status.h"
#include "sim/kcp/typerules.h"

/* {"types": [refs]} or {"none": true}; NULL when the type sets no limit. */
static cJSON *limit(const cJSON *t, const char *list, const char *flag)
{
	const cJSON *refs = wsr_json_arr(t, list);
	int none = wsr_json_bool(t, flag, 0);
	cJSON *l = none || cJSON_GetArraySize(refs) ? cJSON_CreateObject() : NULL;
	if (l && none)
		cJSON_AddBoolToObject(l, "none", 1);
	else if (l)
		cJSON_AddItemToObject(l, "types", cJSON_Duplicate(refs, 1));
	return l;
}

/* kcp's WorkspaceType (types_workspacetype.go): spec.extend.with,
 * defaultChildWorkspaceType, limitAllowedParents/Children, initializer,
 * and the annotation kcp.io/path naming the workspace that holds it. */
cJSON *wsr_kcpsim_type_json(const wsr_kcpsim_store *s, const cJSON *t)
{
	char at[32];
	cJSON *v = cJSON_CreateObject(), *meta, *spec, *l, *ann;
	if (!v)
		return NULL;
	cJSON_AddStringToObject(v, "apiVersion", WSR_KCPSIM_API_VERSION);
	cJSON_AddStringToObject(v, "kind", "WorkspaceType");
	meta = cJSON_AddObjectToObject(v, "metadata");
	spec = cJSON_AddObjectToObject(v, "spec");
	if (!meta || !spec) {
		cJSON_Delete(v);
		return NULL;
	}
	cJSON_AddStringToObject(meta, "name", wsr_json_str(t, "name"));
	cJSON_AddStringToObject(meta, "resourceVersion", "1"); /* types never change */
	cJSON_AddStringToObject(meta, "creationTimestamp",
				wsr_time_format(s->seeded_at, at, sizeof(at)));
	if ((ann = cJSON_AddObjectToObject(meta, "annotations")) != NULL)
		cJSON_AddStringToObject(ann, "kcp.io/path", wsr_json_str(t, "path"));
	if (wsr_json_num(t, "initializeMs", 0) > 0)
		cJSON_AddBoolToObject(spec, "initializer", 1);
	if (cJSON_GetArraySize(wsr_json_arr(t, "extends")) > 0) {
		cJSON *ext = cJSON_AddObjectToObject(spec, "extend");
		cJSON_AddItemToObject(ext, "with", cJSON_Duplicate(wsr_json_arr(t, "extends"), 1));
	}
	if (wsr_json_obj(t, "defaultChildType"))
		cJSON_AddItemToObject(spec, "defaultChildWorkspaceType",
				      cJSON_Duplicate(wsr_json_obj(t, "defaultChildType"), 1));
	if ((l = limit(t, "allowedParents", "noParents")) != NULL)
		cJSON_AddItemToObject(spec, "limitAllowedParents", l);
	if ((l = limit(t, "allowedChildren", "noChildren")) != NULL)
		cJSON_AddItemToObject(spec, "limitAllowedChildren", l);
	return v;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(wsr_json_str(*(const cJSON *const *)a, "name"),
		      wsr_json_str(*(const cJSON *const *)b, "name"));
}

/* The types defined in the call's workspace, sorted by name (*n of them;
 * the caller frees the array). */
static const cJSON **types_here(const wsr_kcpsim_call *c, size_t *n)
{
	const cJSON *it;
	size_t cap = (size_t)cJSON_GetArraySize(wsr_json_arr(c->s->platform, "types")) + 1;
	const cJSON **v = malloc(cap * sizeof(*v));
	*n = 0;
	if (!v)
		return NULL;
	cJSON_ArrayForEach(it, wsr_json_arr(c->s->platform, "types"))
	{
		if (strcmp(wsr_json_str(it, "path"), c->ws->path) == 0)
			v[(*n)++] = it;
	}
	qsort(v, *n, sizeof(*v), by_name);
	return v;
}

void wsr_kcpsim_types_list(wsr_kcpsim_call *c)
{
	char after[WSR_KCPSIM_NAME_MAX + 1];
	size_t n, limit, i = 0, count = 0;
	char *name = wsr_strdupf("%s/workspacetypes", c->ws->path);
	const cJSON **types = name ? types_here(c, &n) : NULL;
	if (!types) {
		free(name);
		wsr_kcpsim_unavailable(c, WSR_ENOMEM);
		return;
	}
	if (!wsr_kcpsim_watch_refused(c) && wsr_kcpsim_page_params(c, name, &limit, after) == 0) {
		size_t max = limit && limit < c->s->page_max ? limit : c->s->page_max;
		cJSON *list = cJSON_CreateObject(), *items = cJSON_CreateArray();
		const char *last = NULL;
		while (i < n && strcmp(wsr_json_str(types[i], "name"), after) <= 0)
			i++;
		for (; items && i < n && count < max; i++, count++) {
			cJSON_AddItemToArray(items, wsr_kcpsim_type_json(c->s, types[i]));
			last = wsr_json_str(types[i], "name");
		}
		int ok = list && items &&
			 cJSON_AddStringToObject(list, "apiVersion", WSR_KCPSIM_API_VERSION) &&
			 cJSON_AddStringToObject(list, "kind", "WorkspaceTypeList") &&
			 !wsr_kcpsim_list_meta(c, list, name, i < n ? last : NULL) &&
			 cJSON_AddItemToObject(list, "items", items);
		if (ok)
			wsr_kcpsim_reply(c, 200, list);
		else {
			if (!cJSON_GetObjectItemCaseSensitive(list, "items"))
				cJSON_Delete(items);
			cJSON_Delete(list);
			wsr_kcpsim_unavailable(c, WSR_ENOMEM);
		}
	}
	free(types);
	free(name);
}

void wsr_kcpsim_types_get(wsr_kcpsim_call *c, const char *name)
{
	size_t n;
	const cJSON **types = types_here(c, &n), *t = NULL;
	for (size_t i = 0; types && i < n && !t; i++)
		if (strcmp(wsr_json_str(types[i], "name"), name) == 0)
			t = types[i];
	if (!types)
		wsr_kcpsim_unavailable(c, WSR_ENOMEM);
	else if (!t)
		wsr_kcpsim_fail(c->resp, 404, NULL, wsr_kcpsim_details(name, "workspacetypes"),
				"workspacetypes.tenancy.kcp.io \"%.63s\" not found", name);
	else
		wsr_kcpsim_reply(c, 200, wsr_kcpsim_type_json(c->s, t));
	free(types);
}

/* Whether the caller may do what a review's resourceAttributes describe,
 * and why (into reason, WSR_KCPSIM_WHY_MAX bytes): the one permission
 * modelled is "use" on a workspace type. */
static int review(wsr_kcpsim_call *c, const cJSON *ra, char *reason)
{
	const char *group = wsr_json_str(ra, "group"), *res = wsr_json_str(ra, "resource"),
		   *verb = wsr_json_str(ra, "verb"), *name = wsr_json_str(ra, "name");
	const char *why;
	int ok = 0;
	if ((!group || !group[0]) && res && strcmp(res, "users") == 0 && verb &&
	    strcmp(verb, "impersonate") == 0) {
		/* Kubernetes' impersonation: system:masters may act as anyone */
		ok = wsr_kcpsim_is_master(wsr_json_arr(c->user, "groups"));
		why = ok ? "system:masters may impersonate users"
			 : "only system:masters may impersonate users";
	} else if (!group || strcmp(group, WSR_KCPSIM_GROUP) != 0 || !res)
		why = "the emulator models permissions of tenancy.kcp.io only";
	else if (strcmp(res, "workspaces") == 0) {
		why = "every authenticated user may read and write workspaces";
		ok = 1;
	} else if (strcmp(res, "workspacetypes") != 0)
		why = "no such resource in tenancy.kcp.io";
	else if (verb && (strcmp(verb, "get") == 0 || strcmp(verb, "list") == 0)) {
		why = "every authenticated user may read workspace types";
		ok = 1;
	} else if (!verb || strcmp(verb, "use") != 0)
		why = "workspace types are read-only";
	else {
		char ref[WSR_KCPSIM_REF_MAX];
		cJSON *r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "name", name ? name : "");
		cJSON_AddStringToObject(r, "path", c->ws->path);
		const cJSON *t = name ? wsr_kcpsim_store_type(c->s, r) : NULL;
		ok = t && wsr_kcpsim_may_use(t, wsr_json_str(c->user, "name"),
					     wsr_json_arr(c->user, "groups"));
		wsr_kcpsim_ref(ref, r);
		cJSON_Delete(r);
		snprintf(reason, WSR_KCPSIM_WHY_MAX, "workspace type %s %s", ref,
			 !t   ? "does not exist"
			 : ok ? "admits you (its use list, or system:masters)"
			      : "does not admit you (its use list)");
		return ok;
	}
	snprintf(reason, WSR_KCPSIM_WHY_MAX, "%s", why);
	return ok;
}

void wsr_kcpsim_ssar(wsr_kcpsim_call *c)
{
	char reason[WSR_KCPSIM_WHY_MAX];
	cJSON *in = wsr_kcpsim_body_object(c);
	if (!in)
		return;
	const char *kind = wsr_json_str(in, "kind"), *api = wsr_json_str(in, "apiVersion");
	const cJSON *spec = wsr_json_obj(in, "spec");
	const cJSON *ra = wsr_json_obj(spec, "resourceAttributes"),
		    *nra = wsr_json_obj(spec, "nonResourceAttributes");
	int allowed = 0;
	if ((kind && strcmp(kind, "SelfSubjectAccessReview") != 0) ||
	    (api && strcmp(api, "authorization.k8s.io/v1") != 0)) {
		wsr_kcpsim_fail(
		    c->resp, 400, NULL, NULL,
		    "the body is not an authorization.k8s.io/v1 SelfSubjectAccessReview");
		cJSON_Delete(in);
		return;
	}
	if (!ra && !nra) {
		wsr_kcpsim_invalid inv = {NULL, 0, 0};
		wsr_kcpsim_invalid_add(&inv, "FieldValueRequired", "spec.resourceAttributes",
				       "Required value: exactly one of resourceAttributes or "
				       "nonResourceAttributes must be specified");
		wsr_kcpsim_reply_invalid(c->resp, "SelfSubjectAccessReview", "authorization.k8s.io",
					 "", &inv);
		cJSON_Delete(in);
		return;
	}
	if (ra)
		allowed = review(c, ra, reason);
	else {
		const char *verb = wsr_json_str(nra, "verb");
		allowed = verb && strcmp(verb, "get") == 0;
		snprintf(reason, sizeof(reason), "%s",
			 allowed ? "discovery is open to every authenticated user"
				 : "only get of discovery paths is modelled");
	}
	cJSON *st = cJSON_CreateObject();
	cJSON_DeleteItemFromObjectCaseSensitive(in, "status");
	if (!st || !cJSON_AddBoolToObject(st, "allowed", allowed) ||
	    !cJSON_AddStringToObject(st, "reason", reason) ||
	    !cJSON_AddItemToObject(in, "status", st)) {
		cJSON_Delete(st);
		cJSON_Delete(in);
		wsr_kcpsim_unavailable(c, WSR_ENOMEM);
		return;
	}
	if (!cJSON_GetObjectItemCaseSensitive(in, "kind"))
		cJSON_AddStringToObject(in, "kind", "SelfSubjectAccessReview");
	if (!cJSON_GetObjectItemCaseSensitive(in, "apiVersion"))
		cJSON_AddStringToObject(in, "apiVersion", "authorization.k8s.io/v1");
	wsr_sim_resp_json(c->resp, 201, in);
}
