/* body: field rules for workspace bodies. Objects are rebuilt from what is
 * known rather than copied, so an unknown field is refused by name instead
 * of being stored and echoed back as if the platform understood it. */
#include "sim/loopback/body.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "sim/loopback/names.h"

#define DEFAULT_HOUR 3
#define DEFAULT_PRIORITY_HOUR 4
#define DAYS 7

int wsr_lbsim_why(char *why, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, WSR_LBSIM_WHY_MAX, fmt, ap);
	va_end(ap);
	return WSR_EINVAL;
}

static const char *dot(const char *where)
{
	return where[0] ? "." : "";
}

/* An object (or absent/null when nullable); anything else is refused. */
static int expect_object(const cJSON *v, const char *where, char *why)
{
	if (v && !cJSON_IsNull(v) && !cJSON_IsObject(v))
		return wsr_lbsim_why(why, "%s must be an object", where);
	return 0;
}

int wsr_lbsim_only_fields(const cJSON *obj, const char *const *keys, const char *where, char *why)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, obj)
	{
		const char *const *k = keys;
		while (*k && strcmp(*k, it->string) != 0)
			k++;
		if (!*k)
			return wsr_lbsim_why(why, "unknown field %s%s%s", where, dot(where),
					     it->string);
	}
	return 0;
}

static int add(cJSON *out, const char *key, cJSON *v)
{
	return v && cJSON_AddItemToObject(out, key, v) ? 0 : WSR_ENOMEM;
}

static int take_bool(cJSON *out, const cJSON *in, const char *key, int def, const char *where,
		     char *why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, key);
	if (v && !cJSON_IsBool(v))
		return wsr_lbsim_why(why, "%s%s%s must be true or false", where, dot(where), key);
	return add(out, key, cJSON_CreateBool(v ? cJSON_IsTrue(v) : def));
}

/* Sets obj[key], when present and false, to true. */
static int set_true(cJSON *obj, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key), *t;
	if (!v || cJSON_IsTrue(v))
		return 0;
	if ((t = cJSON_CreateTrue()) != NULL && cJSON_ReplaceItemInObjectCaseSensitive(obj, key, t))
		return 0;
	cJSON_Delete(t);
	return WSR_ENOMEM;
}

/* A string; absent or null becomes def (null when def is NULL). */
static int take_str(cJSON *out, const cJSON *in, const char *key, const char *def,
		    const char *where, char *why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, key);
	if (v && !cJSON_IsNull(v) && !cJSON_IsString(v))
		return wsr_lbsim_why(why, "%s%s%s must be a string", where, dot(where), key);
	const char *s = cJSON_IsString(v) ? v->valuestring : def;
	return add(out, key, s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

static int take_hour(cJSON *out, const cJSON *in, const char *key, int def, const char *where,
		     char *why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, key);
	if (v && (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 23 ||
		  floor(v->valuedouble) != v->valuedouble))
		return wsr_lbsim_why(why, "%s%s%s must be an hour from 0 to 23", where, dot(where),
				     key);
	return add(out, key, cJSON_CreateNumber(v ? v->valuedouble : def));
}

/* Starts normalizing an optional object: refuses a non-object or an unknown
 * key (keys NULL: any key), and gives the empty object to fill. */
static int begin(cJSON **out, const cJSON *in, const char *const *keys, const char *where,
		 char *why)
{
	int rc = expect_object(in, where, why);
	if (!rc && keys && cJSON_IsObject(in))
		rc = wsr_lbsim_only_fields(in, keys, where, why);
	*out = rc ? NULL : cJSON_CreateObject();
	return rc ? rc : (*out ? 0 : WSR_ENOMEM);
}

static int norm_metadata(cJSON **out, const cJSON *in, char *why)
{
	int rc = begin(out, in, NULL, "metadata", why);
	if (rc)
		return rc;
	const cJSON *it;
	cJSON_ArrayForEach(it, in)
	{
		if (!cJSON_IsString(it))
			return wsr_lbsim_why(why, "metadata.%s must be a string", it->string);
		if ((rc = add(*out, it->string, cJSON_CreateString(it->valuestring))) != 0)
			return rc;
	}
	return 0;
}

static int norm_dns(cJSON **out, const cJSON *in, char *why)
{
	static const char *const keys[] = {"provider", "hostnamePattern", NULL};
	int rc = begin(out, in, keys, "dns", why);
	if (rc)
		return rc;
	rc = take_str(*out, in, "provider", NULL, "dns", why);
	return rc ? rc : take_str(*out, in, "hostnamePattern", NULL, "dns", why);
}

static int norm_oidc(cJSON **out, const cJSON *in, char *why)
{
	static const char *const keys[] = {"enabled", "sessionLifetime", NULL};
	const char *where = "kubernetes.oidc";
	int rc = begin(out, in, keys, where, why);
	if (rc)
		return rc;
	rc = take_bool(*out, in, "enabled", 0, where, why);
	return rc ? rc : take_str(*out, in, "sessionLifetime", NULL, where, why);
}

static int norm_schedule(cJSON **out, const cJSON *in, char *why)
{
	static const char *const days[] = {"0", "1", "2", "3", "4", "5", "6", NULL};
	const char *where = "maintenance.schedule";
	int rc = begin(out, in, days, where, why);
	if (rc)
		return rc;
	for (int d = 0; !rc && d < DAYS; d++)
		rc = take_hour(*out, in, days[d], DEFAULT_HOUR, where, why);
	return rc;
}

typedef int (*norm_fn)(cJSON **out, const cJSON *in, char *why);

/* Normalizes in with fn and attaches the result to parent under key, also
 * when it failed half-way, so the parent's deletion frees it. */
static int sub(cJSON *parent, const char *key, norm_fn fn, const cJSON *in, char *why)
{
	cJSON *v = NULL;
	int rc = fn(&v, in, why);
	if (v && !cJSON_AddItemToObject(parent, key, v)) {
		cJSON_Delete(v);
		return WSR_ENOMEM;
	}
	return rc;
}

/* maintenance.compute or maintenance.kubernetes: a block holding one flag.
 * A block given without its flag means true; an omitted (or null) block
 * means def, which is false when the rest of maintenance was given: the
 * platform reads a missing block as "no automatic updates". */
static int flag_block(cJSON *parent, const char *block, const char *key, const cJSON *in, int def,
		      char *why)
{
	const char *const keys[] = {key, NULL};
	char where[32];
	cJSON *o = NULL;
	snprintf(where, sizeof(where), "maintenance.%s", block);
	int rc = begin(&o, in, keys, where, why);
	if (!rc)
		rc = take_bool(o, in, key, cJSON_IsObject(in) ? 1 : def, where, why);
	if (o && !cJSON_AddItemToObject(parent, block, o)) {
		cJSON_Delete(o);
		return WSR_ENOMEM;
	}
	return rc;
}

/* The Maintenance section of docs/api/loopback.md: in absent or null is the
 * platform's default object; a given object replaces the stored one whole.
 * Only an administrator may switch maintenance off: for anyone else
 * enabled: false is stored as true, silently, and the rest applies. */
static int norm_maintenance(cJSON **out, const cJSON *in, int kube, int admin, char *why)
{
	static const char *const keys[] = {"enabled", "schedule",   "priorityHour",
					   "compute", "kubernetes", NULL};
	const char *where = "maintenance";
	int rc = begin(out, in, keys, where, why);
	if (rc)
		return rc;
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(in, "kubernetes");
	int given = cJSON_IsObject(in);
	rc = take_bool(*out, in, "enabled", 1, where, why);
	if (!rc && !admin)
		rc = set_true(*out, "enabled");
	if (!rc)
		rc = sub(*out, "schedule", norm_schedule,
			 cJSON_GetObjectItemCaseSensitive(in, "schedule"), why);
	if (!rc)
		rc = take_hour(*out, in, "priorityHour", DEFAULT_PRIORITY_HOUR, where, why);
	if (!rc)
		rc = flag_block(*out, "compute", "autoUpdate",
				cJSON_GetObjectItemCaseSensitive(in, "compute"), !given, why);
	if (!rc && kube)
		rc = flag_block(*out, "kubernetes", "autoPatch", k, !given, why);
	else if (!rc && k && !cJSON_IsNull(k))
		rc = wsr_lbsim_why(why, "maintenance.kubernetes is only for kubernetes workspaces");
	else if (!rc)
		rc = add(*out, "kubernetes", cJSON_CreateNull());
	return rc;
}

static const char *const control_planes[] = {"high_available", "single_node", NULL};

static int norm_kubernetes(cJSON **out, const cJSON *in, char *why)
{
	static const char *const keys[] = {
	    "version", "controlPlane", "computeProvider", "managementCluster", "ingress", "oidc",
	    NULL};
	const char *where = "kubernetes";
	int rc = cJSON_IsObject(in) ? wsr_lbsim_only_fields(in, keys, where, why)
				    : wsr_lbsim_why(why, "kubernetes must be an object");
	*out = rc ? NULL : cJSON_CreateObject();
	if (rc || !*out)
		return rc ? rc : WSR_ENOMEM;
	const char *version = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(in, "version"));
	if (!version || !version[0])
		return wsr_lbsim_why(why, "kubernetes.version is required (a non-empty string)");
	rc = take_str(*out, in, "version", NULL, where, why);
	if (!rc)
		rc = take_str(*out, in, "controlPlane", control_planes[0], where, why);
	const char *cp =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(*out, "controlPlane"));
	if (!rc && !(strcmp(cp, control_planes[0]) == 0 || strcmp(cp, control_planes[1]) == 0))
		rc = wsr_lbsim_why(
		    why, "kubernetes.controlPlane %s is not high_available or single_node", cp);
	if (!rc)
		rc = take_str(*out, in, "computeProvider", "hetzner_cloud", where, why);
	if (!rc)
		rc = take_str(*out, in, "managementCluster", NULL, where, why);
	if (!rc)
		rc = take_bool(*out, in, "ingress", 0, where, why);
	if (!rc)
		rc =
		    sub(*out, "oidc", norm_oidc, cJSON_GetObjectItemCaseSensitive(in, "oidc"), why);
	return rc;
}

/* Fields the platform owns: a client may echo them back; they are ignored. */
static const char *const server_fields[] = {"id",	 "organization", "state",
					    "createdAt", "updatedAt",	 NULL};

static int is_server_field(const char *k)
{
	for (const char *const *f = server_fields; *f; f++)
		if (strcmp(*f, k) == 0)
			return 1;
	return 0;
}

static const char *const ws_fields[] = {"name",	      "project", "type",	"kind", "metadata",
					"kubernetes", "dns",	 "maintenance", NULL};

static int known_fields(const cJSON *in, char *why)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, in)
	{
		if (is_server_field(it->string))
			continue;
		const char *const *f = ws_fields;
		while (*f && strcmp(*f, it->string) != 0)
			f++;
		if (!*f)
			return wsr_lbsim_why(why, "unknown field %s", it->string);
	}
	return 0;
}

static int req_str(const cJSON *in, const char *key, const char **out, char *why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, key);
	*out = cJSON_GetStringValue(v);
	if (!v || cJSON_IsNull(v))
		return wsr_lbsim_why(why, "%s is required", key);
	if (!*out || !(*out)[0])
		return wsr_lbsim_why(why, "%s must be a non-empty string", key);
	return 0;
}

/* name, project, type and kind: the workspace's identity. */
static int identity(cJSON *out, const cJSON *in, int *kube, char *why)
{
	const char *name, *project, *type;
	char clean[WSR_LBSIM_NAME_MAX + 1];
	int rc = req_str(in, "name", &name, why);
	if (!rc)
		rc = req_str(in, "project", &project, why);
	if (!rc)
		rc = req_str(in, "type", &type, why);
	if (rc)
		return rc;
	wsr_lbsim_name_sanitize(clean, name);
	if (!clean[0])
		return wsr_lbsim_why(why, "name %.64s has no letter or digit left after sanitizing",
				     name);
	*kube = strcmp(type, "kubernetes") == 0;
	if (!*kube && strcmp(type, "baremetal") != 0)
		return wsr_lbsim_why(why, "type %.64s is not kubernetes or baremetal", type);
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(in, "kind");
	if (kind && !cJSON_IsNull(kind) &&
	    !(cJSON_IsString(kind) && strcmp(kind->valuestring, "cluster") == 0))
		return wsr_lbsim_why(why, "kind must be null or \"cluster\"");
	cJSON_AddNullToObject(out, "id");
	cJSON_AddStringToObject(out, "name", clean);
	cJSON_AddNullToObject(out, "organization");
	cJSON_AddStringToObject(out, "project", project);
	cJSON_AddStringToObject(out, "type", type);
	add(out, "kind", cJSON_IsString(kind) ? cJSON_CreateString("cluster") : cJSON_CreateNull());
	cJSON_AddNullToObject(out, "state");
	return 0;
}

static int create_kubernetes(cJSON *out, const cJSON *in, int kube, char *why)
{
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(in, "kubernetes");
	int given = k && !cJSON_IsNull(k);
	if (kube && !given)
		return wsr_lbsim_why(why, "kubernetes is required for a kubernetes workspace");
	if (!kube && given)
		return wsr_lbsim_why(why, "kubernetes must be null for a baremetal workspace");
	return kube ? sub(out, "kubernetes", norm_kubernetes, k, why)
		    : add(out, "kubernetes", cJSON_CreateNull());
}

int wsr_lbsim_body_create(cJSON **out, const cJSON *in, int admin, char *why)
{
	*out = NULL;
	if (!cJSON_IsObject(in))
		return wsr_lbsim_why(why, "the body must be a JSON object");
	int kube = 0, rc = known_fields(in, why);
	cJSON *ws = cJSON_CreateObject(), *m = NULL;
	if (!ws)
		return WSR_ENOMEM;
	if (!rc)
		rc = identity(ws, in, &kube, why);
	if (!rc)
		rc = sub(ws, "metadata", norm_metadata,
			 cJSON_GetObjectItemCaseSensitive(in, "metadata"), why);
	if (!rc)
		rc = create_kubernetes(ws, in, kube, why);
	if (!rc)
		rc = sub(ws, "dns", norm_dns, cJSON_GetObjectItemCaseSensitive(in, "dns"), why);
	if (!rc) {
		rc = norm_maintenance(&m, cJSON_GetObjectItemCaseSensitive(in, "maintenance"), kube,
				      admin, why);
		if (m)
			cJSON_AddItemToObject(ws, "maintenance", m);
	}
	if (!rc &&
	    (!cJSON_AddNullToObject(ws, "createdAt") || !cJSON_AddNullToObject(ws, "updatedAt")))
		rc = WSR_ENOMEM;
	if (rc) {
		cJSON_Delete(ws);
		return rc;
	}
	*out = ws;
	return 0;
}

/* What to do instead of changing a fixed field, for the refusal's message. */
static const char *instead(const char *key)
{
	if (strcmp(key, "project") == 0)
		return "; a transfer moves a workspace (POST .../transfer)";
	if (strcmp(key, "version") == 0)
		return "; an upgrade changes it (POST .../upgrade)";
	if (strcmp(key, "ingress") == 0)
		return ": it is seeded when the cluster is created";
	return "; it needs a new workspace";
}

/* A field with its own operation, one seeded at creation, or one that
 * needs a replacement, may be sent in an update only with its current
 * value. */
static int unchanged(const cJSON *cur, const cJSON *in, const char *key, const char *where,
		     int null_ok, char *why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, key);
	if (!v || (null_ok && cJSON_IsNull(v)) ||
	    cJSON_Compare(v, cJSON_GetObjectItemCaseSensitive(cur, key), 1))
		return 0;
	return wsr_lbsim_why(why, "%s%s%s cannot be changed by an update%s", where, dot(where), key,
			     instead(key));
}

static int replace(cJSON *obj, const char *key, cJSON *v)
{
	if (!v)
		return WSR_ENOMEM;
	if (cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v))
		return 0;
	cJSON_Delete(v);
	return WSR_ENOMEM;
}

/* Normalizes in[key] with fn, when present, and stores it in obj[key]. */
static int patch_sub(cJSON *obj, const char *key, norm_fn fn, const cJSON *in, char *why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, key);
	cJSON *n = NULL;
	if (!v)
		return 0;
	int rc = fn(&n, v, why);
	if (rc) {
		cJSON_Delete(n);
		return rc;
	}
	return replace(obj, key, n);
}

static int patch_kubernetes(cJSON *ws, const cJSON *in, char *why)
{
	static const char *const keys[] = {
	    "version", "controlPlane", "computeProvider", "managementCluster", "ingress", "oidc",
	    NULL};
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(in, "kubernetes");
	cJSON *cur = cJSON_GetObjectItemCaseSensitive(ws, "kubernetes");
	if (!k || (cJSON_IsNull(k) && cJSON_IsNull(cur)))
		return 0;
	if (cJSON_IsNull(cur))
		return wsr_lbsim_why(why, "kubernetes must be null for a baremetal workspace");
	if (!cJSON_IsObject(k))
		return wsr_lbsim_why(why, "kubernetes must be an object");
	int rc = wsr_lbsim_only_fields(k, keys, "kubernetes", why);
	for (int i = 0; !rc && i < 5; i++) /* all but oidc are fixed at creation */
		rc = unchanged(cur, k, keys[i], "kubernetes", i == 3, why);
	return rc ? rc : patch_sub(cur, "oidc", norm_oidc, k, why);
}

static int patch_maintenance(cJSON *ws, const cJSON *in, int admin, int *changed, char *why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, "maintenance");
	cJSON *m = NULL;
	if (!v)
		return 0;
	int kube = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ws, "kubernetes"));
	int rc = norm_maintenance(&m, v, kube, admin, why);
	if (rc) {
		cJSON_Delete(m);
		return rc;
	}
	*changed = !cJSON_Compare(m, cJSON_GetObjectItemCaseSensitive(ws, "maintenance"), 1);
	return replace(ws, "maintenance", m);
}

int wsr_lbsim_body_patch(cJSON *ws, const cJSON *in, int admin, int *maintenance_changed, char *why)
{
	static const char *const fixed[] = {"name", "project", "type", "kind", NULL};
	*maintenance_changed = 0;
	if (!cJSON_IsObject(in))
		return wsr_lbsim_why(why, "the body must be a JSON object");
	int rc = known_fields(in, why);
	for (const char *const *f = fixed; !rc && *f; f++)
		rc = unchanged(ws, in, *f, "", 0, why);
	if (!rc)
		rc = patch_sub(ws, "metadata", norm_metadata, in, why);
	if (!rc)
		rc = patch_sub(ws, "dns", norm_dns, in, why);
	if (!rc)
		rc = patch_maintenance(ws, in, admin, maintenance_changed, why);
	return rc ? rc : patch_kubernetes(ws, in, why);
}
