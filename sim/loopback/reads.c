/* reads: the small read-only endpoints (principal, organizations, the two
 * catalogs, tasks). Catalog lists are short and fixed, so they are paged by
 * position in seed order rather than kept sorted. */
#include <string.h>

#include "lib/err.h"
#include "lib/json.h"
#include "sim/loopback/api.h"
#include "sim/loopback/names.h"

unsigned wsr_lbsim_role_perms(const char *role)
{
	if (strcmp(role, "admin") == 0)
		return (1u << WSR_LBSIM_NPERMS) - 1;
	if (strcmp(role, "member") == 0)
		return WSR_LBSIM_WS_READ | WSR_LBSIM_WS_CREATE | WSR_LBSIM_WS_UPDATE |
		       WSR_LBSIM_WS_DELETE | WSR_LBSIM_MAINT_UPDATE | WSR_LBSIM_K8S_UPGRADE |
		       WSR_LBSIM_KUBECONFIG_OIDC;
	return strcmp(role, "viewer") == 0 ? WSR_LBSIM_WS_READ : 0;
}

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
	size_t limit, n = 0;
	char after[WSR_LBSIM_CURSOR_KEY_MAX + 1];
	if (wsr_lbsim_page_params(c, &limit, after))
		return;
	const cJSON *it = arr ? arr->child : NULL;
	if (after[0]) {
		while (it && strcmp(wsr_json_str(it, field), after) != 0)
			it = it->next;
		if (!it) {
			wsr_sim_resp_error(c->resp, 400, "invalid_request",
					   "cursor is not one this list gave out");
			return;
		}
		it = it->next;
	}
	cJSON *items = cJSON_CreateArray();
	const char *last = NULL;
	for (; items && it && n < limit; it = it->next, n++) {
		cJSON_AddItemToArray(items, cJSON_Duplicate(it, 1));
		last = wsr_json_str(it, field);
	}
	if (!items)
		wsr_lbsim_unavailable(c, WSR_ENOMEM);
	else
		wsr_lbsim_page_reply(c, items, it ? last : NULL);
}

void wsr_lbsim_org_list(wsr_lbsim_call *c)
{
	cJSON *own = cJSON_CreateArray();
	if (own && !cJSON_AddItemToArray(own, cJSON_Duplicate(c->org->json, 1))) {
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
		wsr_sim_resp_json(c->resp, 200, cJSON_Duplicate(o->json, 1));
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
