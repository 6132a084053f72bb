/* map: the translation between the platform's Workspace object and wsr's
 * canonical spec (schema/loopback.workspace.json), in both directions, and
 * of its compute profiles into the shape `wsr profiles` prints. Kept
 * apart from the HTTP calls because it is the one place that decides what a
 * field means; everything the platform sends is checked for type here, so a
 * hostile answer becomes a message naming the field, never a crash or a
 * silently missing field (which the diff would take for a change). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "providers/loopback/lb.h"
#include "providers/loopback/loopback.h"

/* Field types; T_HOUR and T_COUNT are whole numbers in a range, read
 * through wsr_json_int_in so a hostile 1e30 is refused, never converted. */
enum { T_STR, T_BOOL, T_HOUR, T_COUNT, T_NUM };
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
	int64_t n, max = t == T_HOUR ? LB_HOUR_MAX : LB_PROFILE_CPU_MAX;
	if (t == T_STR)
		ok = cJSON_IsString(v);
	else if (t == T_BOOL)
		ok = cJSON_IsBool(v);
	else if (t == T_HOUR || t == T_COUNT)
		ok = wsr_json_int_in(src, key, 0, max, &n) == 0;
	else
		ok = cJSON_IsNumber(v) && isfinite(v->valuedouble);
	if (!ok && (t == T_HOUR || t == T_COUNT)) {
		*why = wsr_strdupf("field %s%s is not a whole number from 0 to %lld", where, key,
				   (long long)max);
		return WSR_EAPI;
	}
	if (!ok) {
		static const char *names[] = {"a string", "a boolean", "", "", "a finite number"};
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

/* A string map copied with its keys sorted (canonical to print); a wrong
 * shape is the platform's mistake. */
static int sorted_string_map(cJSON **out, const cJSON *m, const char *where, char **why)
{
	int rc = wsr_json_sorted_strings(out, m, where, why);
	return rc == WSR_EINVAL ? WSR_EAPI : rc;
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

/* Copies src[key] like copy_field (every field required) or, to send
 * (fb set or not), takes a missing value from fb, the observed object, and
 * else def (a bool for T_BOOL, a number for T_HOUR), in the same key position. */
static int copy_or_default(cJSON *dst, const cJSON *src, const cJSON *fb, const char *key, int t,
			   int send, int def, const char *where, char **why)
{
	int rc = copy_field(dst, src, key, t, !send, where, why);
	if (rc || !send || cJSON_HasObjectItem(dst, key))
		return rc;
	const cJSON *had = cJSON_GetObjectItemCaseSensitive(fb, key);
	if (t == T_BOOL ? cJSON_IsBool(had) : cJSON_IsNumber(had))
		return copy_field(dst, fb, key, t, REQUIRED, where, why);
	cJSON *v = t == T_BOOL ? cJSON_CreateBool(def) : cJSON_CreateNumber(def);
	return v && cJSON_AddItemToObject(dst, key, v) ? 0 : WSR_ENOMEM;
}

/* {key: {field: bool}}, as maintenance.compute and maintenance.kubernetes. */
static int add_switch(cJSON *dst, const cJSON *m, const cJSON *fb, const char *key,
		      const char *field, int send, const char *where, char **why)
{
	const cJSON *src;
	cJSON *d;
	int rc = sub_obj(&src, m, key, !send, "maintenance.", why);
	if (!rc && !(d = add_obj(dst, key)))
		rc = WSR_ENOMEM;
	return rc ? rc
		  : copy_or_default(d, src, wsr_json_obj(fb, key), field, T_BOOL, send, 1, where,
				    why);
}

/* maintenance, observed (every field required) or to send. The platform
 * replaces its object whole and reads a missing compute or kubernetes block
 * as "no automatic updates", so what is sent is always complete: the
 * desired values over fb (the observed object for an update, NULL for a
 * create) over the platform's creation defaults. */
static int add_maintenance(cJSON *dst, const cJSON *m, const cJSON *fb, int kube, int send,
			   char **why)
{
	static const char *days[] = {"0", "1", "2", "3", "4", "5", "6"};
	const cJSON *sched = NULL, *fbs = wsr_json_obj(fb, "schedule");
	cJSON *d = add_obj(dst, "maintenance"), *ds = NULL;
	int rc = d ? 0 : WSR_ENOMEM;
	if (!rc)
		rc = copy_or_default(d, m, fb, "enabled", T_BOOL, send, 1, "maintenance.", why);
	if (!rc && !(rc = sub_obj(&sched, m, "schedule", !send, "maintenance.", why)))
		rc = (ds = add_obj(d, "schedule")) ? 0 : WSR_ENOMEM;
	for (int i = 0; i < 7 && !rc; i++)
		rc = copy_or_default(ds, sched, fbs, days[i], T_HOUR, send, 3,
				     "maintenance.schedule.", why);
	if (!rc)
		rc =
		    copy_or_default(d, m, fb, "priorityHour", T_HOUR, send, 4, "maintenance.", why);
	if (!rc)
		rc = add_switch(d, m, fb, "compute", "autoUpdate", send, "maintenance.compute.",
				why);
	if (!rc && kube)
		rc = add_switch(d, m, fb, "kubernetes", "autoPatch", send,
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
		rc = add_maintenance(s, m, NULL, kube, 0, why);
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

/* The states docs/api/loopback.md gives a workspace that works or is on
 * its way there (a task running); the platform ends each on its own. */
static const char *const lb_states_ok[] = {"active",	   "initializing", "upgrading",
					   "transferring", "deleting",	   NULL};

/* Sets r->health and r->health_why from the state in r->status (see
 * wsr_health): `failed` is repaired by a replacement; a state the API does
 * not document is broken, so no plan takes it as in sync. */
static int lb_health(wsr_resource *r)
{
	const char *state = wsr_json_str(r->status, "state");
	for (int i = 0; state && lb_states_ok[i]; i++)
		if (strcmp(state, lb_states_ok[i]) == 0)
			return 0;
	char q[WSR_DIAG_SHORT_SIZE];
	if (state && strcmp(state, "failed") == 0) {
		/* `failed` only ever follows a creation that failed: nothing runs on
		 * the workspace and PATCH, upgrade and transfer refuse it, but it
		 * can be deleted, and a new creation then starts afresh */
		r->health = WSR_HEALTH_REPLACE;
		r->health_why = wsr_strdupf("the platform shows the workspace failed "
					    "(its creation failed)");
	} else {
		r->health = WSR_HEALTH_BROKEN;
		r->health_why = wsr_strdupf(
		    "the platform reports the workspace in state \"%s\", which is not one "
		    "of the states wsr knows (%s)",
		    wsr_diag_short(q, sizeof(q), state ? state : ""),
		    "active, initializing, upgrading, transferring, deleting, failed");
	}
	return r->health_why ? 0 : WSR_ENOMEM;
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
	if (!rc)
		rc = lb_health(r);
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
		rc = add_maintenance(b, m, NULL, kube, 1, &why);
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

static int has_action(const wsr_change *c, wsr_action a)
{
	for (int i = 0; i < c->nactions; i++)
		if (c->actions[i] == a)
			return 1;
	return 0;
}

/* kubernetes in a PATCH: the platform refuses changes to the fields that
 * need their own operation or are creation-time (ingress), so those are
 * sent as observed and only oidc comes from the desired spec. The one
 * exception: when the change upgrades first, the update runs on the
 * upgraded version, so that is the version to send. */
static int patch_kubernetes(cJSON *b, const wsr_change *c, char **why)
{
	const cJSON *want = wsr_json_obj(c->desired->spec, "kubernetes");
	const cJSON *have = c->observed ? wsr_json_obj(c->observed->spec, "kubernetes") : NULL;
	cJSON *k = cJSON_Duplicate(have ? have : want, 1);
	if (!k || !cJSON_AddItemToObject(b, "kubernetes", k)) {
		cJSON_Delete(k);
		return WSR_ENOMEM;
	}
	const char *version = wsr_json_str(want, "version");
	if (have && version && has_action(c, WSR_ACT_UPGRADE)) {
		cJSON *v = cJSON_CreateString(version);
		if (!v || !cJSON_ReplaceItemInObjectCaseSensitive(k, "version", v)) {
			cJSON_Delete(v);
			return WSR_ENOMEM;
		}
	}
	cJSON_DeleteItemFromObjectCaseSensitive(k, "oidc");
	return add_oidc(k, want, 1, why);
}

cJSON *lb_patch_body(const wsr_change *c)
{
	const cJSON *s = c->desired ? c->desired->spec : NULL;
	const cJSON *seen = c->observed ? wsr_json_obj(c->observed->spec, "maintenance") : NULL;
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
		rc = add_maintenance(b, wsr_json_obj(s, "maintenance"), seen, kube, 1, &why);
	if (!rc && kube && lb_touches(c, "kubernetes.oidc"))
		rc = patch_kubernetes(b, c, &why);
	free(why);
	if (rc) {
		cJSON_Delete(b);
		return NULL;
	}
	return b;
}

/* A price as the platform writes it: digits, optionally a dot and digits
 * ("0.0120"); never a float, so nothing is rounded on the way. */
static int is_decimal(const char *s)
{
	size_t i = 0, digits = 0;
	while (s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	if (s[i] == '.') {
		size_t frac = ++i;
		while (s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == frac)
			return 0;
	}
	return digits > 0 && s[i] == '\0';
}

static int add_prices(cJSON *dst, const cJSON *item, char **why)
{
	static const char *amounts[] = {"setup", "hourly", "monthly"};
	const cJSON *src;
	cJSON *d;
	int rc = sub_obj(&src, item, "prices", REQUIRED, "", why);
	if (!rc && !(d = add_obj(dst, "prices")))
		rc = WSR_ENOMEM;
	if (!rc)
		rc = copy_field(d, src, "currency", T_STR, REQUIRED, "prices.", why);
	for (int i = 0; i < 3 && !rc; i++) {
		rc = copy_field(d, src, amounts[i], T_STR, REQUIRED, "prices.", why);
		if (!rc && !is_decimal(wsr_json_str(d, amounts[i]))) {
			*why = wsr_strdupf("field prices.%s is not a decimal string", amounts[i]);
			rc = WSR_EAPI;
		}
	}
	return rc;
}

/* The checks of one profile past the field types: values a type cannot rule out. */
static int profile_values(const cJSON *d, const cJSON *item, const char *provider, char **why)
{
	const char *cp = wsr_json_str(item, "computeProvider");
	const char *source = wsr_json_str(d, "priceSource");
	const cJSON *reason = cJSON_GetObjectItemCaseSensitive(item, "unavailableReason");
	if (!cp || strcmp(cp, provider) != 0)
		*why = wsr_strdupf("field computeProvider is %s%s%s, not the workspace's %s",
				   cp ? "\"" : "", cp ? cp : "missing", cp ? "\"" : "", provider);
	else if (wsr_json_num(d, "memoryGiB", -1) < 0)
		*why = wsr_strdupf("field memoryGiB is negative");
	else if (reason && !cJSON_IsNull(reason) && !cJSON_IsString(reason))
		*why = wsr_strdupf("field unavailableReason is not a string or null");
	else if (strcmp(source, "list") != 0 && strcmp(source, "override") != 0)
		*why = wsr_strdupf("field priceSource is \"%s\", not list or override", source);
	else
		return 0;
	return WSR_EAPI;
}

int lb_profile_to_json(cJSON **out, const cJSON *item, const char *provider, char **why)
{
	static const struct {
		const char *key;
		int type;
	} f[] = {{"name", T_STR},
		 {"serverType", T_STR},
		 {"cpu", T_COUNT},
		 {"memoryGiB", T_NUM},
		 {"available", T_BOOL}};
	*out = NULL;
	*why = NULL;
	cJSON *d = cJSON_IsObject(item) ? cJSON_CreateObject() : NULL;
	int rc = d ? 0 : WSR_EAPI;
	if (!cJSON_IsObject(item))
		*why = wsr_strdupf("a compute profile must be an object");
	else if (!d)
		rc = WSR_ENOMEM;
	for (size_t i = 0; !rc && i < sizeof(f) / sizeof(f[0]); i++)
		rc = copy_field(d, item, f[i].key, f[i].type, REQUIRED, "", why);
	if (!rc)
		rc = copy_field(d, item, "unavailableReason", T_STR, OPTIONAL, "", why);
	if (!rc && !cJSON_HasObjectItem(d, "unavailableReason") &&
	    !cJSON_AddNullToObject(d, "unavailableReason"))
		rc = WSR_ENOMEM;
	if (!rc)
		rc = add_prices(d, item, why);
	if (!rc)
		rc = copy_field(d, item, "priceSource", T_STR, REQUIRED, "", why);
	if (!rc)
		rc = profile_values(d, item, provider, why);
	if (rc && *why) { /* name the profile the bad field belongs to */
		const char *name = wsr_json_str(item, "name");
		char *w = wsr_strdupf("compute profile %s: %s", name ? name : "(unnamed)", *why);
		free(*why);
		*why = w;
	}
	if (rc) {
		cJSON_Delete(d);
		return rc;
	}
	*out = d;
	return 0;
}

int lb_parse_address(const char *address, char org[64], char name[64])
{
	const char *prefix = "loopback/";
	size_t pl = strlen(prefix);
	if (strncmp(address, prefix, pl) != 0)
		return WSR_EINVAL;
	const char *o = address + pl, *slash = strchr(o, '/');
	/* '@' passes the shared address check for kcp homes' user names; no
	 * Loopback name has one */
	if (strchr(o, '@'))
		return WSR_EINVAL;
	if (!slash || slash == o || (size_t)(slash - o) > WSR_LOOPBACK_NAME_MAX || !slash[1] ||
	    strchr(slash + 1, '/') || strlen(slash + 1) > WSR_LOOPBACK_NAME_MAX)
		return WSR_EINVAL;
	memcpy(org, o, (size_t)(slash - o));
	org[slash - o] = '\0';
	strcpy(name, slash + 1);
	return 0;
}
