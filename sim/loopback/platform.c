/* platform: validation of the static platform description. Every check names
 * the path of the offending value so a seed author is sent to the exact
 * line; cross-references (a key's organization and projects, a version's
 * upgradeFrom) are checked too, because the handlers trust this data. */
#include "sim/loopback/platform.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "lib/hmap.h"
#include "lib/json.h"
#include "sim/loopback/names.h"

typedef struct vctx {
	wsr_lbsim_perr *e;
	wsr_lbsim_step path[WSR_LBSIM_PATH_MAX];
	int depth;
} vctx;

static void push(vctx *c, const char *key, int index)
{
	if (c->depth < WSR_LBSIM_PATH_MAX)
		c->path[c->depth] = (wsr_lbsim_step){key, index};
	c->depth++;
}

static void pop(vctx *c)
{
	c->depth--;
}

/* Records the error at the current path, or at its child key when key is
 * given (a wrong value); a missing value is reported at its parent. */
static int fail(vctx *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(vctx *c, const char *key, const char *fmt, ...)
{
	wsr_lbsim_perr *e = c->e;
	e->nsteps = c->depth < WSR_LBSIM_PATH_MAX ? c->depth : WSR_LBSIM_PATH_MAX;
	memcpy(e->steps, c->path, sizeof(e->steps[0]) * (size_t)e->nsteps);
	if (key && e->nsteps < WSR_LBSIM_PATH_MAX)
		e->steps[e->nsteps++] = (wsr_lbsim_step){key, 0};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return WSR_EINVAL;
}

static int only_keys(vctx *c, const cJSON *obj, const char *const *allowed)
{
	for (const cJSON *it = obj->child; it; it = it->next) {
		const char *const *a = allowed;
		while (*a && strcmp(*a, it->string) != 0)
			a++;
		if (!*a)
			return fail(c, it->string, "unknown field %s", it->string);
	}
	return 0;
}

static int get_str(vctx *c, const cJSON *obj, const char *key, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v)
		return fail(c, NULL, "missing field %s", key);
	if (!cJSON_IsString(v) || !v->valuestring[0])
		return fail(c, key, "%s must be a non-empty string", key);
	*out = v->valuestring;
	return 0;
}

static int get_name(vctx *c, const cJSON *obj, const char *key, const char **out)
{
	int rc = get_str(c, obj, key, out);
	if (rc == 0 && !wsr_lbsim_name_valid(*out))
		return fail(c, key,
			    "%s %s is not a lowercase name of at most %d characters from [a-z0-9-]",
			    key, *out, WSR_LBSIM_NAME_MAX);
	return rc;
}

static int get_bool(vctx *c, const cJSON *obj, const char *key, int def, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = def;
	if (!v)
		return 0;
	if (!cJSON_IsBool(v))
		return fail(c, key, "%s must be true or false", key);
	*out = cJSON_IsTrue(v);
	return 0;
}

/* One of vals (default def when absent and def is not NULL). */
static int get_enum(vctx *c, const cJSON *obj, const char *key, const char *const *vals,
		    const char *def, const char **out)
{
	if (def && !cJSON_GetObjectItemCaseSensitive(obj, key)) {
		*out = def;
		return 0;
	}
	int rc = get_str(c, obj, key, out);
	if (rc)
		return rc;
	for (const char *const *v = vals; *v; v++)
		if (strcmp(*v, *out) == 0)
			return 0;
	return fail(c, key, "%s %s is not one of %s", key, *out,
		    vals[1] ? "the allowed values" : vals[0]);
}

/* A list of distinct strings (names when names is set); absent is []. */
static int get_list(vctx *c, const cJSON *obj, const char *key, int names, cJSON **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = cJSON_CreateArray();
	if (!*out)
		return WSR_ENOMEM;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v))
		return fail(c, key, "%s must be a list", key);
	push(c, key, 0);
	int i = 0, rc = 0;
	for (const cJSON *it = v->child; it && !rc; it = it->next, i++) {
		push(c, NULL, i);
		if (!cJSON_IsString(it) || !it->valuestring[0])
			rc = fail(c, NULL, "%s entries must be non-empty strings", key);
		else if (names && !wsr_lbsim_name_valid(it->valuestring))
			rc = fail(c, NULL, "%s is not a lowercase name from [a-z0-9-]",
				  it->valuestring);
		else if (cJSON_GetArrayItem(*out, 0) && wsr_lbsim_list_has(*out, it->valuestring))
			rc = fail(c, NULL, "%s is listed twice", it->valuestring);
		else
			cJSON_AddItemToArray(*out, cJSON_CreateString(it->valuestring));
		pop(c);
	}
	pop(c);
	return rc;
}

int wsr_lbsim_list_has(const cJSON *arr, const char *s)
{
	/* linear: project and upgradeFrom lists are a handful of entries */
	const cJSON *it;
	cJSON_ArrayForEach(it,
			   arr) if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0) return 1;
	return 0;
}

static const char *const org_keys[] = {"name", "verified", "state", "projects", NULL};
static const char *const org_states[] = {"active", "suspended", NULL};

static int check_org(vctx *c, const cJSON *in, cJSON *o, const cJSON *platform)
{
	(void)platform;
	const char *name, *state;
	int verified;
	cJSON *projects = NULL;
	int rc = only_keys(c, in, org_keys);
	if (!rc)
		rc = get_name(c, in, "name", &name);
	if (!rc)
		rc = get_bool(c, in, "verified", 1, &verified);
	if (!rc)
		rc = get_enum(c, in, "state", org_states, "active", &state);
	if (!rc)
		rc = get_list(c, in, "projects", 1, &projects);
	if (rc) {
		cJSON_Delete(projects);
		return rc;
	}
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddBoolToObject(o, "verified", verified);
	cJSON_AddStringToObject(o, "state", state);
	cJSON_AddItemToObject(o, "projects", projects);
	return 0;
}

static const char *const version_keys[] = {"version", "active", "upgradeFrom", NULL};

static int check_version(vctx *c, const cJSON *in, cJSON *o, const cJSON *platform)
{
	(void)platform;
	const char *version;
	int active;
	cJSON *from = NULL;
	int rc = only_keys(c, in, version_keys);
	if (!rc)
		rc = get_str(c, in, "version", &version);
	if (!rc)
		rc = get_bool(c, in, "active", 1, &active);
	if (!rc)
		rc = get_list(c, in, "upgradeFrom", 0, &from);
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

static int check_cluster(vctx *c, const cJSON *in, cJSON *o, const cJSON *platform)
{
	(void)platform;
	const char *name, *type, *compute = NULL;
	int active;
	int rc = only_keys(c, in, cluster_keys);
	if (!rc)
		rc = get_name(c, in, "name", &name);
	if (!rc)
		rc = get_enum(c, in, "type", cluster_types, NULL, &type);
	if (!rc)
		rc = get_bool(c, in, "active", 1, &active);
	if (rc)
		return rc;
	const cJSON *cp = cJSON_GetObjectItemCaseSensitive(in, "computeProvider");
	if (strcmp(type, "kamaji") == 0)
		rc = get_str(c, in, "computeProvider", &compute);
	else if (cp && !cJSON_IsNull(cp))
		rc = fail(c, "computeProvider", "a root cluster carries no computeProvider");
	if (rc)
		return rc;
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "type", type);
	cJSON_AddBoolToObject(o, "active", active);
	cJSON_AddItemToObject(o, "computeProvider",
			      compute ? cJSON_CreateString(compute) : cJSON_CreateNull());
	return 0;
}

static const char *const key_keys[] = {"key", "organization", "role", "projects", NULL};
static const char *const roles[] = {"admin", "member", "viewer", NULL};

static const cJSON *find_by(const cJSON *arr, const char *field, const char *value)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, field);
		if (cJSON_IsString(v) && strcmp(v->valuestring, value) == 0)
			return it;
	}
	return NULL;
}

/* Every project a key is limited to must belong to its organization. */
static int check_key_projects(vctx *c, const cJSON *projects, const cJSON *org)
{
	const cJSON *have = cJSON_GetObjectItemCaseSensitive(org, "projects");
	int i = 0;
	const cJSON *p;
	cJSON_ArrayForEach(p, projects)
	{
		if (!wsr_lbsim_list_has(have, p->valuestring)) {
			push(c, "projects", 0);
			push(c, NULL, i);
			int rc = fail(c, NULL, "project %s is not a project of organization %s",
				      p->valuestring, wsr_json_str(org, "name"));
			c->depth -= 2;
			return rc;
		}
		i++;
	}
	return 0;
}

static int check_key(vctx *c, const cJSON *in, cJSON *o, const cJSON *platform)
{
	const char *key, *orgname, *role;
	cJSON *projects = NULL;
	const cJSON *org = NULL;
	int rc = only_keys(c, in, key_keys);
	if (!rc)
		rc = get_str(c, in, "key", &key);
	if (!rc)
		rc = get_str(c, in, "organization", &orgname);
	if (!rc && !(org = find_by(cJSON_GetObjectItemCaseSensitive(platform, "organizations"),
				   "name", orgname)))
		rc = fail(c, "organization", "organization %s is not in the seed", orgname);
	if (!rc)
		rc = get_enum(c, in, "role", roles, NULL, &role);
	int limited = cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(in, "projects"));
	if (!rc)
		rc = get_list(c, in, "projects", 1, &projects);
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
	return 0;
}

typedef int (*check_fn)(vctx *c, const cJSON *in, cJSON *o, const cJSON *platform);

typedef struct section {
	const char *name;
	const char *id; /* the field that must be unique */
	check_fn check;
	int required;
} section;

static const section sections[] = {
    {"organizations", "name", check_org, 1},
    {"kubernetesVersions", "version", check_version, 0},
    {"managementClusters", "name", check_cluster, 0},
    {"apiKeys", "key", check_key, 1},
};

static int check_item(vctx *c, const section *sec, const cJSON *in, cJSON *arr,
		      const cJSON *platform, wsr_hmap *seen)
{
	if (!cJSON_IsObject(in))
		return fail(c, NULL, "each entry of %s must be a map", sec->name);
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
		return fail(c, sec->id, "%s %s appears twice", sec->id,
			    strcmp(sec->id, "key") ? id : "(sensitive)");
	return wsr_hmap_put(seen, id, o);
}

static int check_section(vctx *c, const section *sec, const cJSON *in, cJSON *platform)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(in, sec->name);
	cJSON *arr = cJSON_AddArrayToObject(platform, sec->name);
	if (!arr)
		return WSR_ENOMEM;
	if (!list && !sec->required)
		return 0;
	if (!list)
		return fail(c, NULL, "missing field %s", sec->name);
	if (!cJSON_IsArray(list))
		return fail(c, sec->name, "%s must be a list", sec->name);
	wsr_hmap seen = WSR_HMAP_INIT;
	int i = 0, rc = 0;
	push(c, sec->name, 0);
	for (const cJSON *it = list->child; it && !rc; it = it->next, i++) {
		push(c, NULL, i);
		rc = check_item(c, sec, it, arr, platform, &seen);
		pop(c);
	}
	pop(c);
	wsr_hmap_free(&seen);
	return rc;
}

/* upgradeFrom may only name versions of the catalog. */
static int check_graph(vctx *c, const cJSON *platform)
{
	const cJSON *versions = cJSON_GetObjectItemCaseSensitive(platform, "kubernetesVersions");
	const cJSON *v, *from;
	int i = 0;
	cJSON_ArrayForEach(v, versions)
	{
		int j = 0;
		cJSON_ArrayForEach(from, cJSON_GetObjectItemCaseSensitive(v, "upgradeFrom"))
		{
			if (!find_by(versions, "version", from->valuestring)) {
				push(c, "kubernetesVersions", 0);
				push(c, NULL, i);
				push(c, "upgradeFrom", 0);
				push(c, NULL, j);
				return fail(c, NULL, "version %s is not in kubernetesVersions",
					    from->valuestring);
			}
			j++;
		}
		i++;
	}
	return 0;
}

static const char *const top_keys[] = {"organizations", "kubernetesVersions", "managementClusters",
				       "apiKeys",	"provisioning",	      NULL};

static int check_provisioning(vctx *c, const cJSON *in, cJSON *platform)
{
	static const char *const keys[] = {"seconds", NULL};
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(in, "provisioning");
	double secs = 0;
	if (p && !cJSON_IsObject(p))
		return fail(c, "provisioning", "provisioning must be a map");
	if (p) {
		push(c, "provisioning", 0);
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(p, "seconds");
		int rc = only_keys(c, p, keys);
		if (!rc && s) {
			secs = cJSON_IsNumber(s) ? s->valuedouble : -1;
			if (secs < 0 || secs > WSR_LBSIM_MAX_PROVISIONING_S || floor(secs) != secs)
				rc = fail(c, "seconds",
					  "seconds must be a whole number from 0 to %d",
					  WSR_LBSIM_MAX_PROVISIONING_S);
		}
		pop(c);
		if (rc)
			return rc;
	}
	cJSON *o = cJSON_AddObjectToObject(platform, "provisioning");
	return o && cJSON_AddNumberToObject(o, "seconds", secs) ? 0 : WSR_ENOMEM;
}

int wsr_lbsim_platform_check(cJSON **out, const cJSON *in, wsr_lbsim_perr *e)
{
	vctx c = {e, {{NULL, 0}}, 0};
	memset(e, 0, sizeof(*e));
	*out = NULL;
	if (!cJSON_IsObject(in))
		return fail(&c, NULL,
			    "a seed is a map with organizations, apiKeys and the catalogs");
	cJSON *platform = cJSON_CreateObject();
	if (!platform)
		return WSR_ENOMEM;
	int rc = only_keys(&c, in, top_keys);
	for (size_t i = 0; !rc && i < sizeof(sections) / sizeof(sections[0]); i++)
		rc = check_section(&c, &sections[i], in, platform);
	if (!rc)
		rc = check_graph(&c, platform);
	if (!rc)
		rc = check_provisioning(&c, in, platform);
	if (rc) {
		cJSON_Delete(platform);
		return rc;
	}
	*out = platform;
	return 0;
}

void wsr_lbsim_perr_path(const wsr_lbsim_perr *e, char *out, unsigned long outlen)
{
	size_t n = 0;
	out[0] = '\0';
	for (int i = 0; i < e->nsteps && n < outlen; i++) {
		const wsr_lbsim_step *s = &e->steps[i];
		int w = s->key ? snprintf(out + n, outlen - n, "%s%s", n ? "." : "", s->key)
			       : snprintf(out + n, outlen - n, "[%d]", s->index);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}
