/* platform: validation of the static platform description. Every check names
 * the path of the offending value so a seed author is sent to the exact
 * line; cross-references (a key's organization and projects, a version's
 * upgradeFrom, a profile's server type, an override's profile, a seeded
 * workspace's organization, version and cluster) are checked too, because
 * the handlers trust this data. */
#include "sim/loopback/platform.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/hmap.h"
#include "lib/json.h"
#include "sim/loopback/body.h"
#include "sim/loopback/catalog.h"
#include "sim/loopback/names.h"
#include "sim/check.h"

#define DEFAULT_CURRENCY "EUR"
#define NAME_RULE "a lowercase name from [a-z0-9-]"
#define PRICE_MAX 32 /* characters of a price string; "99999999.9999" is far inside */

/* A bit's position is its name's index, in the order of docs/api/loopback.md. */
static const char *const perm_names[WSR_LBSIM_NPERMS] = {
    "workspace:read",	  "workspace:create",	"workspace:update",
    "workspace:delete",	  "workspace:transfer", "kubernetes:upgrade",
    "maintenance:update", "kubeconfig:admin",	"kubeconfig:oidc"};

const char *wsr_lbsim_perm_name(unsigned perm)
{
	for (unsigned i = 0; i < WSR_LBSIM_NPERMS; i++)
		if (perm == 1u << i)
			return perm_names[i];
	return "?";
}

unsigned wsr_lbsim_perm_bit(const char *name)
{
	for (unsigned i = 0; i < WSR_LBSIM_NPERMS; i++)
		if (strcmp(perm_names[i], name) == 0)
			return 1u << i;
	return 0;
}

static unsigned role_perms(const char *role)
{
	if (strcmp(role, "admin") == 0)
		return (1u << WSR_LBSIM_NPERMS) - 1;
	if (strcmp(role, "member") == 0)
		return WSR_LBSIM_WS_READ | WSR_LBSIM_WS_CREATE | WSR_LBSIM_WS_UPDATE |
		       WSR_LBSIM_WS_DELETE | WSR_LBSIM_MAINT_UPDATE | WSR_LBSIM_K8S_UPGRADE |
		       WSR_LBSIM_KUBECONFIG_OIDC;
	return strcmp(role, "viewer") == 0 ? WSR_LBSIM_WS_READ : 0;
}

unsigned wsr_lbsim_key_perms(const cJSON *key)
{
	const cJSON *list = wsr_json_arr(key, "permissions"), *p;
	unsigned bits = 0;
	if (!list)
		return role_perms(wsr_json_str(key, "role"));
	cJSON_ArrayForEach(p, list)
	{
		if (cJSON_IsString(p))
			bits |= wsr_lbsim_perm_bit(p->valuestring);
	}
	return bits;
}

/* The index of the first string of list that known rejects, or -1. */
static int first_unknown(const cJSON *list, int (*known)(const cJSON *arr, const char *s),
			 const cJSON *arr)
{
	int i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, list)
	{
		if (!known(arr, it->valuestring))
			return i;
		i++;
	}
	return -1;
}

static const char *entry(const cJSON *list, int i)
{
	return cJSON_GetArrayItem(list, i)->valuestring;
}

static int get_name(wsr_check *c, const cJSON *obj, const char *key, const char **out)
{
	int rc = wsr_check_str(c, obj, key, out);
	if (rc == 0 && !wsr_lbsim_name_valid(*out))
		return wsr_check_fail(
		    c, key, "%s %s is not a lowercase name of at most %d characters from [a-z0-9-]",
		    key, *out, WSR_LBSIM_NAME_MAX);
	return rc;
}

/* One of vals (default def when absent and def is not NULL). */
static int get_enum(wsr_check *c, const cJSON *obj, const char *key, const char *const *vals,
		    const char *def, const char **out)
{
	if (def && !cJSON_GetObjectItemCaseSensitive(obj, key)) {
		*out = def;
		return 0;
	}
	int rc = wsr_check_str(c, obj, key, out);
	if (rc)
		return rc;
	for (const char *const *v = vals; *v; v++)
		if (strcmp(*v, *out) == 0)
			return 0;
	return wsr_check_fail(c, key, "%s %s is not one of %s", key, *out,
			      vals[1] ? "the allowed values" : vals[0]);
}

int wsr_lbsim_list_has(const cJSON *arr, const char *s)
{
	return wsr_check_has(arr, s);
}

static int price_valid(const char *s)
{
	size_t n = strspn(s, "0123456789");
	if (n && s[n] == '.') {
		size_t m = strspn(s + n + 1, "0123456789");
		n = m ? n + 1 + m : 0;
	}
	return n && !s[n] && n <= PRICE_MAX;
}

/* A price: a decimal string (never a YAML number, which would round). */
static int get_price(wsr_check *c, const cJSON *obj, const char *key, int required,
		     const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = NULL;
	if (!v && !required)
		return 0;
	if (!v)
		return wsr_check_fail(c, NULL, "missing field %s", key);
	if (!cJSON_IsString(v) || !price_valid(v->valuestring))
		return wsr_check_fail(
		    c, key,
		    "%s must be a decimal string of digits, optionally '.' and digits "
		    "(quoted, like \"0.0120\")",
		    key);
	*out = v->valuestring;
	return 0;
}

/* A positive number (a whole one when whole is set), at most max. */
static int get_positive(wsr_check *c, const cJSON *obj, const char *key, int whole, double max,
			double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v)
		return wsr_check_fail(c, NULL, "missing field %s", key);
	*out = cJSON_IsNumber(v) ? v->valuedouble : -1;
	if (!(*out > 0 && *out <= max) || (whole && floor(*out) != *out))
		return wsr_check_fail(c, key, "%s must be a %snumber above 0 and at most %.0f", key,
				      whole ? "whole " : "", max);
	return 0;
}

static const char *const price_kinds[] = {"setup", "hourly", "monthly", NULL};
static const char *const override_keys[] = {"profile", "active",  "setup",
					    "hourly",  "monthly", NULL};

/* A negotiated price: each of setup, hourly, monthly optional. */
static int check_override(wsr_check *c, const cJSON *in, cJSON *arr, const cJSON *platform)
{
	const char *profile = NULL, *price;
	int active;
	int rc = wsr_check_only_keys(c, in, override_keys);
	if (!rc)
		rc = wsr_check_str(c, in, "profile", &profile);
	if (rc)
		return rc;
	if (!wsr_check_find(wsr_json_arr(platform, "computeProfiles"), "name", profile))
		rc = wsr_check_fail(c, "profile", "profile %s is not in computeProfiles", profile);
	else if (wsr_check_find(arr, "profile", profile))
		rc = wsr_check_fail(c, "profile", "profile %s has an override already", profile);
	if (!rc)
		rc = wsr_check_bool(c, in, "active", 1, &active);
	cJSON *o = rc ? NULL : cJSON_CreateObject();
	if (rc || !o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return rc ? rc : WSR_ENOMEM;
	}
	cJSON_AddStringToObject(o, "profile", profile);
	cJSON_AddBoolToObject(o, "active", active);
	for (const char *const *k = price_kinds; !rc && *k; k++)
		if ((rc = get_price(c, in, *k, 0, &price)) == 0 && price)
			cJSON_AddStringToObject(o, *k, price);
	return rc;
}

static const char *const org_keys[] = {"name",	   "verified",	       "state",
				       "projects", "pricingOverrides", NULL};
static const char *const org_states[] = {"active", "suspended", NULL};

static int check_org(wsr_check *c, const cJSON *in, cJSON *o, const cJSON *platform)
{
	const char *name, *state;
	int verified;
	cJSON *projects = NULL;
	int rc = wsr_check_only_keys(c, in, org_keys);
	if (!rc)
		rc = get_name(c, in, "name", &name);
	if (!rc)
		rc = wsr_check_bool(c, in, "verified", 1, &verified);
	if (!rc)
		rc = get_enum(c, in, "state", org_states, "active", &state);
	if (!rc)
		rc = wsr_check_list(c, in, "projects", wsr_lbsim_name_valid, NAME_RULE, &projects);
	if (rc) {
		cJSON_Delete(projects);
		return rc;
	}
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddBoolToObject(o, "verified", verified);
	cJSON_AddStringToObject(o, "state", state);
	cJSON_AddItemToObject(o, "projects", projects);
	return wsr_check_each(c, in, "pricingOverrides", o, check_override, platform);
}

static const char *const version_keys[] = {"version", "active", "upgradeFrom", NULL};

static int check_version(wsr_check *c, const cJSON *in, cJSON *o, const cJSON *platform)
{
	(void)platform;
	const char *version;
	int active;
	cJSON *from = NULL;
	int rc = wsr_check_only_keys(c, in, version_keys);
	if (!rc)
		rc = wsr_check_str(c, in, "version", &version);
	if (!rc)
		rc = wsr_check_bool(c, in, "active", 1, &active);
	if (!rc)
		rc = wsr_check_list(c, in, "upgradeFrom", NULL, NULL, &from);
	if (rc) {
		cJSON_Delete(from);
		return rc;
	}
	cJSON_AddStringToObject(o, "version", version);
	cJSON_AddBoolToObject(o, "active", active);
	cJSON_AddItemToObject(o, "upgradeFrom", from);
	return 0;
}

static const char *const cluster_keys[] = {"name", "type", "active", "computeProvider", NULL};
static const char *const cluster_types[] = {"kamaji", "root", NULL};

static int check_cluster(wsr_check *c, const cJSON *in, cJSON *o, const cJSON *platform)
{
	(void)platform;
	const char *name, *type, *compute = NULL;
	int active;
	int rc = wsr_check_only_keys(c, in, cluster_keys);
	if (!rc)
		rc = get_name(c, in, "name", &name);
	if (!rc)
		rc = get_enum(c, in, "type", cluster_types, NULL, &type);
	if (!rc)
		rc = wsr_check_bool(c, in, "active", 1, &active);
	if (rc)
		return rc;
	const cJSON *cp = cJSON_GetObjectItemCaseSensitive(in, "computeProvider");
	if (strcmp(type, "kamaji") == 0)
		rc = wsr_check_str(c, in, "computeProvider", &compute);
	else if (cp && !cJSON_IsNull(cp))
		rc = wsr_check_fail(c, "computeProvider",
				    "a root cluster carries no computeProvider");
	if (rc)
		return rc;
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "type", type);
	cJSON_AddBoolToObject(o, "active", active);
	cJSON_AddItemToObject(o, "computeProvider",
			      compute ? cJSON_CreateString(compute) : cJSON_CreateNull());
	return 0;
}

static const char *const key_keys[] = {"key",	   "organization", "role",
				       "projects", "permissions",  NULL};
static const char *const roles[] = {"admin", "member", "viewer", NULL};

/* Every project a key is limited to must belong to its organization. */
static int check_key_projects(wsr_check *c, const cJSON *projects, const cJSON *org)
{
	int i = first_unknown(projects, wsr_lbsim_list_has, wsr_json_arr(org, "projects"));
	if (i < 0)
		return 0;
	return wsr_check_fail_entry(c, "projects", i,
				    "project %s is not a project of organization %s",
				    entry(projects, i), wsr_json_str(org, "name"));
}

static int is_permission(const cJSON *unused, const char *name)
{
	(void)unused;
	return wsr_lbsim_perm_bit(name) != 0;
}

/* An explicit permission list replaces the role's: every entry must be a
 * permission key the platform has. Absent is null (the role decides). */
static int check_key_permissions(wsr_check *c, const cJSON *in, cJSON *o)
{
	cJSON *perms = NULL;
	const cJSON *given = cJSON_GetObjectItemCaseSensitive(in, "permissions");
	if (!given || cJSON_IsNull(given))
		return cJSON_AddNullToObject(o, "permissions") ? 0 : WSR_ENOMEM;
	int rc = wsr_check_list(c, in, "permissions", NULL, NULL, &perms);
	int i = rc ? -1 : first_unknown(perms, is_permission, NULL);
	if (i >= 0)
		rc = wsr_check_fail_entry(
		    c, "permissions", i,
		    "permission %s is not one of workspace:read, workspace:create, "
		    "workspace:update, workspace:delete, workspace:transfer, "
		    "kubernetes:upgrade, maintenance:update, kubeconfig:admin, "
		    "kubeconfig:oidc",
		    entry(perms, i));
	if (rc) {
		cJSON_Delete(perms);
		return rc;
	}
	return cJSON_AddItemToObject(o, "permissions", perms) ? 0 : WSR_ENOMEM;
}

static int check_key(wsr_check *c, const cJSON *in, cJSON *o, const cJSON *platform)
{
	const char *key, *orgname, *role;
	cJSON *projects = NULL;
	const cJSON *org = NULL;
	int rc = wsr_check_only_keys(c, in, key_keys);
	if (!rc)
		rc = wsr_check_str(c, in, "key", &key);
	if (!rc)
		rc = wsr_check_str(c, in, "organization", &orgname);
	if (!rc &&
	    !(org = wsr_check_find(cJSON_GetObjectItemCaseSensitive(platform, "organizations"),
				   "name", orgname)))
		rc = wsr_check_fail(c, "organization", "organization %s is not in the seed",
				    orgname);
	if (!rc)
		rc = get_enum(c, in, "role", roles, NULL, &role);
	int limited = cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(in, "projects"));
	if (!rc)
		rc = wsr_check_list(c, in, "projects", wsr_lbsim_name_valid, NAME_RULE, &projects);
	if (!rc)
		rc = check_key_projects(c, projects, org);
	if (rc) {
		cJSON_Delete(projects);
		return rc;
	}
	cJSON_AddStringToObject(o, "key", key);
	cJSON_AddStringToObject(o, "organization", orgname);
	cJSON_AddStringToObject(o, "role", role);
	if (limited)
		cJSON_AddItemToObject(o, "projects", projects);
	else {
		cJSON_Delete(projects);
		cJSON_AddNullToObject(o, "projects");
	}
	return check_key_permissions(c, in, o);
}

static const char *const dc_keys[] = {"name", "computeProvider", "reachable", NULL};

static int check_datacenter(wsr_check *c, const cJSON *in, cJSON *o, const cJSON *platform)
{
	(void)platform;
	const char *name, *compute;
	int reachable;
	int rc = wsr_check_only_keys(c, in, dc_keys);
	if (!rc)
		rc = get_name(c, in, "name", &name);
	if (!rc)
		rc = wsr_check_str(c, in, "computeProvider", &compute);
	if (!rc)
		rc = wsr_check_bool(c, in, "reachable", 1, &reachable);
	if (rc)
		return rc;
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "computeProvider", compute);
	cJSON_AddBoolToObject(o, "reachable", reachable);
	return 0;
}

static int has_name(const cJSON *arr, const char *name)
{
	return wsr_check_find(arr, "name", name) != NULL;
}

static const char *const server_type_keys[] = {"name", "datacenters", NULL};

static int check_server_type(wsr_check *c, const cJSON *in, cJSON *o, const cJSON *platform)
{
	const char *name;
	cJSON *dcs = NULL;
	int rc = wsr_check_only_keys(c, in, server_type_keys);
	if (!rc)
		rc = get_name(c, in, "name", &name);
	if (!rc)
		rc = wsr_check_list(c, in, "datacenters", wsr_lbsim_name_valid, NAME_RULE, &dcs);
	int i = rc ? -1 : first_unknown(dcs, has_name, wsr_json_arr(platform, "datacenters"));
	if (i >= 0)
		rc = wsr_check_fail_entry(c, "datacenters", i,
					  "datacenter %s is not in datacenters", entry(dcs, i));
	if (rc) {
		cJSON_Delete(dcs);
		return rc;
	}
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddItemToObject(o, "datacenters", dcs);
	return 0;
}

#define MAX_CPU 4096
#define MAX_MEMORY_GIB 65536

static const char *const profile_keys[] = {"name",	"computeProvider", "serverType", "cpu",
					   "memoryGiB", "prices",	   NULL};

static int check_prices(wsr_check *c, const cJSON *in, cJSON *o)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(in, "prices");
	const char *price;
	if (!p)
		return wsr_check_fail(c, NULL, "missing field prices");
	if (!cJSON_IsObject(p))
		return wsr_check_fail(c, "prices",
				      "prices must be a map of setup, hourly and monthly");
	cJSON *out = cJSON_AddObjectToObject(o, "prices");
	if (!out)
		return WSR_ENOMEM;
	wsr_check_push(c, "prices", 0);
	int rc = wsr_check_only_keys(c, p, price_kinds);
	for (const char *const *k = price_kinds; !rc && *k; k++)
		if ((rc = get_price(c, p, *k, 1, &price)) == 0)
			cJSON_AddStringToObject(out, *k, price);
	wsr_check_pop(c);
	return rc;
}

static int check_profile(wsr_check *c, const cJSON *in, cJSON *o, const cJSON *platform)
{
	const char *name, *compute, *type;
	double cpu, memory;
	int rc = wsr_check_only_keys(c, in, profile_keys);
	if (!rc)
		rc = get_name(c, in, "name", &name);
	if (!rc)
		rc = wsr_check_str(c, in, "computeProvider", &compute);
	if (!rc)
		rc = wsr_check_str(c, in, "serverType", &type);
	if (!rc && !wsr_check_find(wsr_json_arr(platform, "serverTypes"), "name", type))
		rc = wsr_check_fail(c, "serverType", "server type %s is not in serverTypes", type);
	if (!rc)
		rc = get_positive(c, in, "cpu", 1, MAX_CPU, &cpu);
	if (!rc)
		rc = get_positive(c, in, "memoryGiB", 0, MAX_MEMORY_GIB, &memory);
	if (rc)
		return rc;
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "computeProvider", compute);
	cJSON_AddStringToObject(o, "serverType", type);
	cJSON_AddNumberToObject(o, "cpu", cpu);
	cJSON_AddNumberToObject(o, "memoryGiB", memory);
	return check_prices(c, in, o);
}

static const char *const seeded_ws_keys[] = {"organization", "name",	 "project",    "type",
					     "kind",	     "metadata", "kubernetes", "dns",
					     "maintenance",  NULL};

/* Moves every member of from into to (from is freed). */
static int take_members(cJSON *to, cJSON *from)
{
	cJSON *it;
	int rc = 0;
	while (!rc && (it = from->child) != NULL) {
		cJSON_DetachItemViaPointer(from, it);
		if (!cJSON_AddItemToObject(to, it->string, it)) {
			cJSON_Delete(it);
			rc = WSR_ENOMEM;
		}
	}
	cJSON_Delete(from);
	return rc;
}

/* Where a seeded workspace's kubernetes block is wrong: its version must be
 * in the catalog (active or not: seeds set up old workspaces) and it must
 * be placed as a create would place it. */
static int check_seeded_kubernetes(wsr_check *c, cJSON *ws, const cJSON *platform)
{
	cJSON *k = cJSON_GetObjectItemCaseSensitive(ws, "kubernetes");
	const char *version = wsr_json_str(k, "version"), *cluster, *code;
	char why[WSR_LBSIM_WHY_MAX];
	int rc = 0;
	wsr_check_push(c, "kubernetes", 0);
	if (version && !wsr_lbsim_catalog_version(platform, version))
		rc = wsr_check_fail(c, "version", "version %s is not in kubernetesVersions",
				    version);
	else if (wsr_lbsim_place(&cluster, &code, why, sizeof(why), platform, ws))
		rc = wsr_check_fail(
		    c, wsr_json_str(k, "managementCluster") ? "managementCluster" : NULL, "%s (%s)",
		    why, code);
	else if (cluster && !cJSON_ReplaceItemInObjectCaseSensitive(k, "managementCluster",
								    cJSON_CreateString(cluster)))
		rc = WSR_ENOMEM;
	wsr_check_pop(c);
	return rc;
}

/* A workspace that exists from the start: its body is checked as a create
 * body would be (by admin: no rule rewrites it). */
static int check_workspace(wsr_check *c, const cJSON *in, cJSON *arr, const cJSON *platform)
{
	const char *orgname, *project;
	const cJSON *org = NULL;
	char why[WSR_LBSIM_WHY_MAX];
	cJSON *ws = NULL;
	int rc = wsr_check_only_keys(c, in, seeded_ws_keys);
	if (!rc)
		rc = wsr_check_str(c, in, "organization", &orgname);
	if (!rc &&
	    !(org = wsr_check_find(wsr_json_arr(platform, "organizations"), "name", orgname)))
		rc = wsr_check_fail(c, "organization", "organization %s is not in the seed",
				    orgname);
	if (!rc && (rc = wsr_lbsim_body_create(&ws, in, 1, why)) == WSR_EINVAL)
		rc = wsr_check_fail(c, NULL, "%s", why);
	if (rc)
		return rc;
	project = wsr_json_str(ws, "project");
	if (!wsr_lbsim_list_has(wsr_json_arr(org, "projects"), project))
		rc = wsr_check_fail(c, "project", "project %s is not a project of organization %s",
				    project, orgname);
	if (!rc)
		rc = check_seeded_kubernetes(c, ws, platform);
	if (!rc && !cJSON_ReplaceItemInObjectCaseSensitive(ws, "organization",
							   cJSON_CreateString(orgname)))
		rc = WSR_ENOMEM;
	cJSON *o = rc ? NULL : cJSON_CreateObject();
	if (rc || !o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		cJSON_Delete(ws);
		return rc ? rc : WSR_ENOMEM;
	}
	return take_members(o, ws);
}

/* A workspace name is unique in its organization (after sanitizing, as on
 * the platform). */
static int check_workspaces_unique(wsr_check *c, const cJSON *platform)
{
	const cJSON *list = wsr_json_arr(platform, "workspaces"), *w;
	size_t n = (size_t)cJSON_GetArraySize(list), i = 0;
	char **ids = calloc(n + 1, sizeof(*ids));
	wsr_hmap seen = WSR_HMAP_INIT;
	int rc = ids ? 0 : WSR_ENOMEM;
	const cJSON *todo = rc ? NULL : list;
	cJSON_ArrayForEach(w, todo)
	{
		if (!(ids[i] = wsr_strdupf("%s/%s", wsr_json_str(w, "organization"),
					   wsr_json_str(w, "name")))) {
			rc = WSR_ENOMEM;
			break;
		}
		if (wsr_hmap_get(&seen, ids[i])) {
			wsr_check_push(c, "workspaces", 0);
			wsr_check_push(c, NULL, (int)i);
			rc = wsr_check_fail(c, "name", "workspace %s appears twice", ids[i]);
			c->depth -= 2;
			break;
		}
		if ((rc = wsr_hmap_put(&seen, ids[i], (void *)w)) != 0)
			break;
		i++;
	}
	wsr_hmap_free(&seen);
	for (size_t j = 0; ids && j < n; j++)
		free(ids[j]);
	free(ids);
	return rc;
}

typedef int (*check_fn)(wsr_check *c, const cJSON *in, cJSON *o, const cJSON *platform);

typedef struct section {
	const char *name;
	const char *id; /* the field that must be unique */
	check_fn check;
	int required;
} section;

/* In the order they are checked: a section may refer only to those before it. */
static const section sections[] = {
    {"kubernetesVersions", "version", check_version, 0},
    {"managementClusters", "name", check_cluster, 0},
    {"datacenters", "name", check_datacenter, 0},
    {"serverTypes", "name", check_server_type, 0},
    {"computeProfiles", "name", check_profile, 0},
    {"organizations", "name", check_org, 1},
    {"apiKeys", "key", check_key, 1},
};

static int check_item(wsr_check *c, const section *sec, const cJSON *in, cJSON *arr,
		      const cJSON *platform, wsr_hmap *seen)
{
	if (!cJSON_IsObject(in))
		return wsr_check_fail(c, NULL, "each entry of %s must be a map", sec->name);
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return WSR_ENOMEM;
	cJSON_AddItemToArray(arr, o);
	int rc = sec->check(c, in, o, platform);
	if (rc)
		return rc;
	const char *id = wsr_json_str(o, sec->id);
	if (wsr_hmap_get(seen, id))
		/* API keys are secrets: say which entry, never the value */
		return wsr_check_fail(c, sec->id, "%s %s appears twice", sec->id,
				      strcmp(sec->id, "key") ? id : "(sensitive)");
	return wsr_hmap_put(seen, id, o);
}

static int check_section(wsr_check *c, const section *sec, const cJSON *in, cJSON *platform)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(in, sec->name);
	cJSON *arr = cJSON_AddArrayToObject(platform, sec->name);
	if (!arr)
		return WSR_ENOMEM;
	if (!list && !sec->required)
		return 0;
	if (!list)
		return wsr_check_fail(c, NULL, "missing field %s", sec->name);
	if (!cJSON_IsArray(list))
		return wsr_check_fail(c, sec->name, "%s must be a list", sec->name);
	wsr_hmap seen = WSR_HMAP_INIT;
	int i = 0, rc = 0;
	wsr_check_push(c, sec->name, 0);
	for (const cJSON *it = list->child; it && !rc; it = it->next, i++) {
		wsr_check_push(c, NULL, i);
		rc = check_item(c, sec, it, arr, platform, &seen);
		wsr_check_pop(c);
	}
	wsr_check_pop(c);
	wsr_hmap_free(&seen);
	return rc;
}

static int has_version(const cJSON *versions, const char *v)
{
	return wsr_check_find(versions, "version", v) != NULL;
}

/* upgradeFrom may only name versions of the catalog. */
static int check_graph(wsr_check *c, const cJSON *platform)
{
	const cJSON *versions = cJSON_GetObjectItemCaseSensitive(platform, "kubernetesVersions");
	const cJSON *v;
	int i = 0, rc = 0;
	cJSON_ArrayForEach(v, versions)
	{
		const cJSON *from = wsr_json_arr(v, "upgradeFrom");
		int j = first_unknown(from, has_version, versions);
		if (j >= 0) {
			wsr_check_push(c, "kubernetesVersions", 0);
			wsr_check_push(c, NULL, i);
			rc = wsr_check_fail_entry(c, "upgradeFrom", j,
						  "version %s is not in kubernetesVersions",
						  entry(from, j));
			c->depth -= 2;
			break;
		}
		i++;
	}
	return rc;
}

static const char *const top_keys[] = {"currency",
				       "organizations",
				       "kubernetesVersions",
				       "managementClusters",
				       "datacenters",
				       "serverTypes",
				       "computeProfiles",
				       "apiKeys",
				       "workspaces",
				       "provisioning",
				       NULL};

/* An ISO 4217 code: three capital letters. */
static int check_currency(wsr_check *c, const cJSON *in, cJSON *platform)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, "currency");
	const char *s = cJSON_GetStringValue(v);
	if (v && !(s && strlen(s) == 3 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 3))
		return wsr_check_fail(c, "currency",
				      "currency must be three capital letters, like EUR");
	return cJSON_AddStringToObject(platform, "currency", s ? s : DEFAULT_CURRENCY) ? 0
										       : WSR_ENOMEM;
}

static int check_provisioning(wsr_check *c, const cJSON *in, cJSON *platform)
{
	static const char *const keys[] = {"seconds", NULL};
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(in, "provisioning");
	double secs = 0;
	if (p && !cJSON_IsObject(p))
		return wsr_check_fail(c, "provisioning", "provisioning must be a map");
	if (p) {
		wsr_check_push(c, "provisioning", 0);
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(p, "seconds");
		int rc = wsr_check_only_keys(c, p, keys);
		if (!rc && s) {
			secs = cJSON_IsNumber(s) ? s->valuedouble : -1;
			if (secs < 0 || secs > WSR_LBSIM_MAX_PROVISIONING_S || floor(secs) != secs)
				rc = wsr_check_fail(c, "seconds",
						    "seconds must be a whole number from 0 to %d",
						    WSR_LBSIM_MAX_PROVISIONING_S);
		}
		wsr_check_pop(c);
		if (rc)
			return rc;
	}
	cJSON *o = cJSON_AddObjectToObject(platform, "provisioning");
	return o && cJSON_AddNumberToObject(o, "seconds", secs) ? 0 : WSR_ENOMEM;
}

int wsr_lbsim_platform_check(cJSON **out, const cJSON *in, wsr_check_err *e)
{
	wsr_check c;
	wsr_check_init(&c, e);
	*out = NULL;
	if (!cJSON_IsObject(in))
		return wsr_check_fail(
		    &c, NULL, "a seed is a map with organizations, apiKeys and the catalogs");
	cJSON *platform = cJSON_CreateObject();
	if (!platform)
		return WSR_ENOMEM;
	int rc = wsr_check_only_keys(&c, in, top_keys);
	if (!rc)
		rc = check_currency(&c, in, platform);
	for (size_t i = 0; !rc && i < sizeof(sections) / sizeof(sections[0]); i++)
		rc = check_section(&c, &sections[i], in, platform);
	if (!rc)
		rc = check_graph(&c, platform);
	if (!rc)
		rc = wsr_check_each(&c, in, "workspaces", platform, check_workspace, platform);
	if (!rc)
		rc = check_workspaces_unique(&c, platform);
	if (!rc)
		rc = check_provisioning(&c, in, platform);
	if (rc) {
		cJSON_Delete(platform);
		return rc;
	}
	*out = platform;
	return 0;
}
