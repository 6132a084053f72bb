/* reads: the small read-only endpoints (principal, organizations, the two
 * platform-wide catalogs, tasks). Catalog lists are short and fixed, so
 * they are paged by position in seed order rather than kept sorted. */
#include <string.h>

#include "lib/err.h"
#include "lib/json.h"
#include "sim/loopback/api.h"
#include "sim/loopback/names.h"

void wsr_lbsim_principal(wsr_lbsim_call *c)
{
	const cJSON *key = wsr_lbsim_store_key(c->s, c->apikey);
	cJSON *v = cJSON_CreateObject(), *perms = cJSON_CreateArray();
	cJSON_AddStringToObject(v, "organization", c->org->name);
	cJSON_AddStringToObject(v, "role", wsr_json_str(key, "role"));
	cJSON_AddItemToObject(v, "projects",
			      c->projects ? cJSON_Duplicate(c->projects, 1) : cJSON_CreateNull());
	for (unsigned i = 0; perms && i < WSR_LBSIM_NPERMS; i++)
		if (c->perms & (1u << i))
			cJSON_AddItemToArray(perms,
					     cJSON_CreateString(wsr_lbsim_perm_name(1u << i)));
	if (!cJSON_AddItemToObject(v, "permissions", perms)) {
		cJSON_Delete(perms);
		cJSON_Delete(v);
		v = NULL;
	}
	wsr_sim_resp_json(c->resp, 200, v);
}

/* A page of arr (fixed order) whose items are keyed by field. */
static void page_of(wsr_lbsim_call *c, const cJSON *arr, const char *field)
{
	cJSON *page = wsr_lbsim_page_of(c, arr, field);
	if (page)
		wsr_sim_resp_json(c->resp, 200, page);
}

/* The Organization object: the platform's entry without what only the
 * platform sees (its pricing overrides show in compute profiles). */
static cJSON *org_view(const cJSON *org)
{
	static const char *const shown[] = {"name", "verified", "state", "projects", NULL};
	cJSON *v = cJSON_CreateObject();
	for (const char *const *k = shown; v && *k; k++) {
		cJSON *x = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(org, *k), 1);
		if (!x || !cJSON_AddItemToObject(v, *k, x)) {
			cJSON_Delete(x);
			cJSON_Delete(v);
			v = NULL;
		}
	}
	return v;
}

void wsr_lbsim_org_list(wsr_lbsim_call *c)
{
	cJSON *own = cJSON_CreateArray();
	if (own && !cJSON_AddItemToArray(own, org_view(c->org->json))) {
		cJSON_Delete(own);
		own = NULL;
	}
	page_of(c, own, "name");
	cJSON_Delete(own);
}

void wsr_lbsim_org_get(wsr_lbsim_call *c, const char *org)
{
	wsr_lbsim_org *o = wsr_lbsim_own_org(c, org);
	if (o)
		wsr_sim_resp_json(c->resp, 200, org_view(o->json));
}

void wsr_lbsim_versions(wsr_lbsim_call *c)
{
	page_of(c, wsr_json_arr(c->s->platform, "kubernetesVersions"), "version");
}

void wsr_lbsim_clusters(wsr_lbsim_call *c)
{
	page_of(c, wsr_json_arr(c->s->platform, "managementClusters"), "name");
}

void wsr_lbsim_task_get(wsr_lbsim_call *c, const char *id)
{
	const wsr_lbsim_task *t = wsr_lbsim_store_task(c->s, id);
	if (!t || strcmp(t->org, c->org->name) != 0) {
		wsr_sim_resp_error(c->resp, 404, "not_found", "no task %s", id);
		return;
	}
	wsr_sim_resp_json(c->resp, 200, wsr_lbsim_task_json(t, c->now));
}
