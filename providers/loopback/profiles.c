/* profiles: the compute profiles a workspace can use, with their prices
 * (`wsr profiles`). Read-only and used by no other operation, so it stands
 * alone: the workspace is read first (its compute provider decides which
 * profiles apply), then every page of its profiles is checked field by
 * field (map.c) and handed out ordered by name. */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "providers/loopback/lb.h"

typedef struct collect_ctx {
	const char *address, *provider;
	cJSON *profiles;
} collect_ctx;

static int add_profile(void *arg, const cJSON *item, wsr_diag *diag)
{
	collect_ctx *c = arg;
	cJSON *prof = NULL;
	char *why = NULL;
	int rc = lb_profile_to_json(&prof, item, c->provider, &why);
	if (rc == WSR_EAPI)
		lb_malformed(diag, c->address, "listing compute profiles", why);
	else if (!rc && !cJSON_AddItemToArray(c->profiles, prof))
		rc = WSR_ENOMEM;
	if (rc)
		cJSON_Delete(prof);
	free(why);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	return strcmp(wsr_json_str(x, "name"), wsr_json_str(y, "name"));
}

/* Orders the profiles by name (the platform should already have) and
 * refuses a name listed twice: it would stand for two prices. */
static int sort_profiles(cJSON *arr, const char *address, wsr_diag *diag)
{
	size_t n = (size_t)cJSON_GetArraySize(arr);
	cJSON **v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return WSR_ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = cJSON_DetachItemFromArray(arr, 0);
	qsort(v, n, sizeof(*v), by_name);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (!rc && i > 0 && by_name(&v[i - 1], &v[i]) == 0) {
			char *why = wsr_strdupf("compute profile %s is listed twice",
						wsr_json_str(v[i], "name"));
			rc = lb_malformed(diag, address, "listing compute profiles", why);
			free(why);
		}
		cJSON_AddItemToArray(arr, v[i]);
	}
	free(v);
	return rc;
}

int lb_profiles(wsr_provider *p, const char *address, cJSON **out, wsr_diag *diag)
{
	*out = NULL;
	wsr_resource *ws = NULL;
	int rc = lb_read(p, address, &ws, diag);
	if (!rc && !ws) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, address, NULL,
			     "check the address, and that the API key belongs to its organization",
			     "the platform has no workspace %s", address);
		return WSR_ENOTFOUND;
	}
	if (rc)
		return rc;
	const char *type = wsr_json_str(ws->spec, "type");
	const cJSON *k = wsr_json_obj(ws->spec, "kubernetes");
	collect_ctx c = {address,
			 type && strcmp(type, "kubernetes") == 0
			     ? wsr_json_str(k, "computeProvider")
			     : "baremetal",
			 cJSON_CreateArray()};
	char org[64], name[64];
	lb_parse_address(address, org, name); /* lb_read accepted it */
	char *path = lb_workspace_path(org, name, "/compute-profiles");
	rc = c.profiles && path ? 0 : WSR_ENOMEM;
	if (!rc && !c.provider)
		rc = lb_malformed(diag, address, "reading the workspace",
				  "a kubernetes workspace without kubernetes.computeProvider");
	if (!rc)
		rc = lb_paginate(p, path, add_profile, &c, diag);
	if (!rc)
		rc = sort_profiles(c.profiles, address, diag);
	cJSON *o = rc ? NULL : cJSON_CreateObject();
	if (!rc && (!o || !cJSON_AddStringToObject(o, "address", address) ||
		    !cJSON_AddStringToObject(o, "computeProvider", c.provider) ||
		    !cJSON_AddItemToObject(o, "profiles", c.profiles)))
		rc = WSR_ENOMEM;
	else if (!rc)
		c.profiles = NULL; /* o owns it */
	if (rc)
		cJSON_Delete(o);
	else
		*out = o;
	cJSON_Delete(c.profiles);
	free(path);
	wsr_resource_free(ws);
	return rc;
}
