/* map: the translation between the platform's Workspace object and wsr's
 * canonical spec (schema/loopback.workspace.json), in both directions. Kept
 * apart from the HTTP calls because it is the one place that decides what a
 * field means; everything the platform sends is checked for type here, so a
 * hostile answer becomes a message naming the field, never a crash or a
 * silently missing field (which the diff would take for a change). */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "providers/loopback/lb.h"
#include "providers/loopback/loopback.h"

enum { T_STR, T_BOOL, T_INT };
enum { OPTIONAL = 0, REQUIRED = 1 };

/* Copies src[key] into dst when present and of type t. Absent or null is
 * fine unless required; a wrong type sets *why. */
static int copy_field(cJSON *dst, const cJSON *src, const char *key, int t, int required,
		      const char *where, char **why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, key);
	int ok;
	if (!v || cJSON_IsNull(v)) {
		if (!required)
			return 0;
		*why = wsr_strdupf("field %s%s is missing", where, key);
		return WSR_EAPI;
	}
	if (t == T_STR)
		ok = cJSON_IsString(v);
	else if (t == T_BOOL)
		ok = cJSON_IsBool(v);
	else
		ok = cJSON_IsNumber(v) && v->valuedouble == (double)(long)v->valuedouble;
	if (!ok) {
		static const char *names[] = {"a string", "a boolean", "an integer"};
		*why = wsr_strdupf("field %s%s is not %s", where, key, names[t]);
		return WSR_EAPI;
	}
	cJSON *c = cJSON_Duplicate(v, 0);
	return c && cJSON_AddItemToObject(dst, key, c) ? 0 : WSR_ENOMEM;
}

/* Adds dst[key] = a new object; NULL on allocation failure. */
static cJSON *add_obj(cJSON *dst, const char *key)
{
	cJSON *o = cJSON_CreateObject();
	if (o && !cJSON_AddItemToObject(dst, key, o)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The sub-object src[key]: *out NULL when absent or null (an error when
 * required), *why when it has another type. */
static int sub_obj(const cJSON **out, const cJSON *src, const char *key, int required,
		   const char *where, char **why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, key);
	*out = NULL;
	if (cJSON_IsObject(v)) {
		*out = v;
		return 0;
	}
	if ((!v || cJSON_IsNull(v)) && !required)
		return 0;
	*why = wsr_strdupf("field %s%s is %s", where, key,
			   v && !cJSON_IsNull(v) ? "not an object" : "missing");
	return WSR_EAPI;
}

/* A string map copied with its keys sorted, so printing it is canonical. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int sorted_string_map(cJSON **out, const cJSON *m, const char *where, char **why)
{
	size_t n = (size_t)cJSON_GetArraySize(m), i = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	const cJSON *it;
	int rc = keys && (*out = cJSON_CreateObject()) ? 0 : WSR_ENOMEM;
	cJSON_ArrayForEach(it, (rc ? NULL : m))
	{
		if (!cJSON_IsString(it)) {
			*why = wsr_strdupf("field %s.%s is not a string", where, it->string);
			rc = WSR_EAPI;
			break;
		}
		keys[i++] = it->string;
	}
	if (!rc)
		qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; !rc && i < n; i++)
		rc = copy_field(*out, m, keys[i], T_STR, REQUIRED, where, why);
	free(keys);
	return rc;
}

static int add_metadata(cJSON *dst, const cJSON *src, char **why)
{
	const cJSON *m;
	cJSON *copy = NULL;
	int rc = sub_obj(&m, src, "metadata", OPTIONAL, "", why);
	if (!rc)
		rc = m ? sorted_string_map(&copy, m, "metadata", why)
		       : ((copy = cJSON_CreateObject()) ? 0 : WSR_ENOMEM);
	if (!rc && !cJSON_AddItemToObject(dst, "metadata", copy))
		rc = WSR_ENOMEM;
	if (rc)
		cJSON_Delete(copy);
	return rc;
}

/* oidc: enabled always; sessionLifetime only when set. */
static int add_oidc(cJSON *dst, const cJSON *k, int complete, char **why)
{
	const cJSON *o;
	cJSON *d = add_obj(dst, "oidc");
	int rc = d ? sub_obj(&o, k, "oidc", OPTIONAL, "kubernetes.", why) : WSR_ENOMEM;
	if (!rc && !o)
		return cJSON_AddFalseToObject(d, "enabled") ? 0 : WSR_ENOMEM;
	if (!rc)
		rc = copy_field(d, o, "enabled", T_BOOL, REQUIRED, "kubernetes.oidc.", why);
	if (!rc)
		rc = copy_field(d, o, "sessionLifetime", T_STR, OPTIONAL, "kubernetes.oidc.", why);
	if (!rc && complete && !cJSON_HasObjectItem(d, "sessionLifetime"))
		rc = cJSON_AddNullToObject(d, "sessionLifetime") ? 0 : WSR_ENOMEM;
	return rc;
}

/* The kubernetes block, observed (all fields reported) or desired (create). */
static int add_kubernetes(cJSON *dst, const cJSON *k, char **why)
{
	static const struct {
		const char *key;
		int type, required;
	} f[] = {{"version", T_STR, REQUIRED},
		 {"controlPlane", T_STR, OPTIONAL},
		 {"computeProvider", T_STR, OPTIONAL},
		 {"managementCluster", T_STR, OPTIONAL},
		 {"ingress", T_BOOL, OPTIONAL}};
	cJSON *d = add_obj(dst, "kubernetes");
	int rc = d ? 0 : WSR_ENOMEM;
	for (size_t i = 0; !rc && i < sizeof(f) / sizeof(f[0]); i++)
		rc = copy_field(d, k, f[i].key, f[i].type, f[i].required, "kubernetes.", why);
	return rc ? rc : add_oidc(d, k, 0, why);
}

static int add_dns(cJSON *dst, const cJSON *src, int complete, char **why)
{
	const cJSON *dns;
	cJSON *d = cJSON_CreateObject();
	int rc = d ? sub_obj(&dns, src, "dns", OPTIONAL, "", why) : WSR_ENOMEM;
	const char *keys[] = {"provider", "hostnamePattern"};
	for (int i = 0; i < 2 && !rc; i++) {
		rc = copy_field(d, dns, keys[i], T_STR, OPTIONAL, "dns.", why);
		if (!rc && complete && !cJSON_HasObjectItem(d, keys[i]) &&
		    !cJSON_AddNullToObject(d, keys[i]))
			rc = WSR_ENOMEM;
	}
	if (rc || (!complete && !d->child)) { /* observed: omitted when nothing is set */
		cJSON_Delete(d);
		return rc;
	}
	return cJSON_AddItemToObject(dst, "dns", d) ? 0 : WSR_ENOMEM;
}

/* Copies src[key] like copy_field; with defaults, a missing value becomes
 * def (a bool for T_BOOL, a number for T_INT), in the same key position. */
static int copy_or_default(cJSON *dst, const cJSON *src, const char *key, int t, int defaults,
			   int def, const char *where, char **why)
{
	int rc = copy_field(dst, src, key, t, !defaults, where, why);
	if (rc || !defaults || cJSON_HasObjectItem(dst, key))
		return rc;
	cJSON *v = t == T_BOOL ? cJSON_CreateBool(def) : cJSON_CreateNumber(def);
	return v && cJSON_AddItemToObject(dst, key, v) ? 0 : WSR_ENOMEM;
}

/* {key: {field: bool}}, as maintenance.compute and maintenance.kubernetes. */
static int add_switch(cJSON *dst, const cJSON *m, const char *key, const char *field, int defaults,
		      const char *where, char **why)
{
	const cJSON *src;
	cJSON *d;
	int rc = sub_obj(&src, m, key, !defaults, "maintenance.", why);
	if (!rc && !(d = add_obj(dst, key)))
		rc = WSR_ENOMEM;
	return rc ? rc : copy_or_default(d, src, field, T_BOOL, defaults, 1, where, why);
}

/* maintenance, observed (every field required) or to send (defaults: the
 * parts the desired spec leaves out get the platform's creation defaults,
 * so the object sent is complete). */
static int add_maintenance(cJSON *dst, const cJSON *m, int kube, int defaults, char **why)
{
	static const char *days[] = {"0", "1", "2", "3", "4", "5", "6"};
	const cJSON *sched = NULL;
	cJSON *d = add_obj(dst, "maintenance"), *ds = NULL;
	int rc = d ? 0 : WSR_ENOMEM;
	if (!rc)
		rc = copy_or_default(d, m, "enabled", T_BOOL, defaults, 1, "maintenance.", why);
	if (!rc && !(rc = sub_obj(&sched, m, "schedule", !defaults, "maintenance.", why)))
		rc = (ds = add_obj(d, "schedule")) ? 0 : WSR_ENOMEM;
	for (int i = 0; i < 7 && !rc; i++)
		rc = copy_or_default(ds, sched, days[i], T_INT, defaults, 3,
				     "maintenance.schedule.", why);
	if (!rc)
		rc = copy_or_default(d, m, "priorityHour", T_INT, defaults, 4, "maintenance.", why);
	if (!rc)
		rc = add_switch(d, m, "compute", "autoUpdate", defaults, "maintenance.compute.",
				why);
	if (!rc && kube)
		rc = add_switch(d, m, "kubernetes", "autoPatch", defaults,
				"maintenance.kubernetes.", why);
	return rc;
}

static int map_spec(cJSON *s, const cJSON *ws, char **why)
{
	const cJSON *k = NULL, *m = NULL;
	int rc = 0;
	const char *req[] = {"organization", "project", "type"};
	for (int i = 0; i < 3 && !rc; i++)
		rc = copy_field(s, ws, req[i], T_STR, REQUIRED, "", why);
	const char *type = wsr_json_str(s, "type");
	int kube = type && strcmp(type, "kubernetes") == 0;
	if (!rc)
		rc = copy_field(s, ws, "kind", T_STR, OPTIONAL, "", why);
	if (!rc)
		rc = add_metadata(s, ws, why);
	if (!rc && kube && !(rc = sub_obj(&k, ws, "kubernetes", REQUIRED, "", why)))
		rc = add_kubernetes(s, k, why);
	if (!rc)
		rc = add_dns(s, ws, 0, why);
	if (!rc && !(rc = sub_obj(&m, ws, "maintenance", REQUIRED, "", why)))
		rc = add_maintenance(s, m, kube, 0, why);
	return rc;
}

static int map_status(cJSON **out, const cJSON *ws, char **why)
{
	int rc = (*out = cJSON_CreateObject()) ? 0 : WSR_ENOMEM;
	if (!rc)
		rc = copy_field(*out, ws, "state", T_STR, REQUIRED, "", why);
	if (!rc)
		rc = copy_field(*out, ws, "createdAt", T_STR, OPTIONAL, "", why);
	if (!rc)
		rc = copy_field(*out, ws, "updatedAt", T_STR, OPTIONAL, "", why);
	return rc;
}

int lb_workspace_to_resource(wsr_resource **out, const cJSON *ws, char **why)
{
	*out = NULL;
	*why = NULL;
	const char *name = wsr_json_str(ws, "name"), *id = wsr_json_str(ws, "id");
	const char *org = wsr_json_str(ws, "organization");
	if (!cJSON_IsObject(ws) || !name || !id || !org) {
		*why = wsr_strdupf(
		    "a workspace must be an object with string fields id, name and organization");
		return WSR_EAPI;
	}
	char *addr = wsr_strdupf("loopback/%s/%s", org, name);
	wsr_resource *r = addr ? wsr_resource_new(addr, "loopback", LB_KIND, name) : NULL;
	free(addr);
	int rc = r && (r->id = strdup(id)) && (r->spec = cJSON_CreateObject()) ? 0 : WSR_ENOMEM;
	if (!rc)
		rc = map_spec(r->spec, ws, why);
	if (!rc)
		rc = map_status(&r->status, ws, why);
	if (rc) {
		if (*why) { /* name the workspace the bad field belongs to */
			char *w = wsr_strdupf("workspace %s/%s: %s", org, name, *why);
			free(*why);
			*why = w;
		}
		wsr_resource_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* Desired values were validated by the schema, so mapping them cannot meet a
 * wrong type; a failure here is an allocation failure. */
cJSON *lb_create_body(const wsr_resource *d)
{
	const cJSON *s = d->spec, *k = wsr_json_obj(s, "kubernetes"),
		    *m = wsr_json_obj(s, "maintenance");
	const char *type = wsr_json_str(s, "type");
	int kube = type && strcmp(type, "kubernetes") == 0;
	char *why = NULL;
	cJSON *b = cJSON_CreateObject();
	int rc = b && cJSON_AddStringToObject(b, "name", d->name) ? 0 : WSR_ENOMEM;
	if (!rc)
		rc = copy_field(b, s, "project", T_STR, REQUIRED, "", &why);
	if (!rc)
		rc = copy_field(b, s, "type", T_STR, REQUIRED, "", &why);
	if (!rc)
		rc = copy_field(b, s, "kind", T_STR, OPTIONAL, "", &why);
	if (!rc)
		rc = add_metadata(b, s, &why);
	if (!rc && kube && k)
		rc = add_kubernetes(b, k, &why);
	if (!rc)
		rc = add_dns(b, s, 0, &why);
	if (!rc)
		rc = add_maintenance(b, m, kube, 1, &why);
	free(why);
	if (rc) {
		cJSON_Delete(b);
		return NULL;
	}
	return b;
}

int lb_touches(const wsr_change *c, const char *block)
{
	size_t bl = strlen(block);
	for (size_t i = 0; i < c->nfields; i++) {
		const char *p = c->fields[i].path;
		size_t pl = strlen(p);
		size_t n = pl < bl ? pl : bl;
		/* same path, or one is a dotted prefix of the other */
		if (strncmp(p, block, n) == 0 && (pl == bl || (pl > bl ? p[bl] : block[pl]) == '.'))
			return 1;
	}
	return 0;
}

/* kubernetes in a PATCH: the platform refuses changes to the fields that
 * need their own operation, so those are sent as observed and only ingress
 * and oidc come from the desired spec. */
static int patch_kubernetes(cJSON *b, const wsr_change *c, char **why)
{
	const cJSON *want = wsr_json_obj(c->desired->spec, "kubernetes");
	const cJSON *have = c->observed ? wsr_json_obj(c->observed->spec, "kubernetes") : NULL;
	cJSON *k = cJSON_Duplicate(have ? have : want, 1);
	if (!k || !cJSON_AddItemToObject(b, "kubernetes", k)) {
		cJSON_Delete(k);
		return WSR_ENOMEM;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(k, "ingress");
	cJSON_DeleteItemFromObjectCaseSensitive(k, "oidc");
	if (!cJSON_AddBoolToObject(k, "ingress", wsr_json_bool(want, "ingress", 0)))
		return WSR_ENOMEM;
	return add_oidc(k, want, 1, why);
}

cJSON *lb_patch_body(const wsr_change *c)
{
	const cJSON *s = c->desired ? c->desired->spec : NULL;
	const char *type = wsr_json_str(s, "type");
	int kube = type && strcmp(type, "kubernetes") == 0;
	char *why = NULL;
	cJSON *b = cJSON_CreateObject();
	int rc = b && s ? 0 : WSR_ENOMEM;
	if (!rc && lb_touches(c, "metadata"))
		rc = add_metadata(b, s, &why);
	if (!rc && lb_touches(c, "dns"))
		rc = add_dns(b, s, 1, &why);
	if (!rc && lb_touches(c, "maintenance"))
		rc = add_maintenance(b, wsr_json_obj(s, "maintenance"), kube, 1, &why);
	if (!rc && kube &&
	    (lb_touches(c, "kubernetes.oidc") || lb_touches(c, "kubernetes.ingress")))
		rc = patch_kubernetes(b, c, &why);
	free(why);
	if (rc) {
		cJSON_Delete(b);
		return NULL;
	}
	return b;
}

int lb_parse_address(const char *address, char org[64], char name[64])
{
	const char *prefix = "loopback/";
	size_t pl = strlen(prefix);
	if (strncmp(address, prefix, pl) != 0)
		return WSR_EINVAL;
	const char *o = address + pl, *slash = strchr(o, '/');
	if (!slash || slash == o || (size_t)(slash - o) > WSR_LOOPBACK_NAME_MAX || !slash[1] ||
	    strchr(slash + 1, '/') || strlen(slash + 1) > WSR_LOOPBACK_NAME_MAX)
		return WSR_EINVAL;
	memcpy(org, o, (size_t)(slash - o));
	org[slash - o] = '\0';
	strcpy(name, slash + 1);
	return 0;
}
