/* check: kcp's admission refusals, predicted at plan time so a user reads
 * them in `wsr plan`, not half-way through `apply`. A creation is refused
 * by kcp when its type does not exist, when the caller may not `use` the
 * type, or when the child's limitAllowedParents or the parent's
 * limitAllowedChildren rule out the pair (docs/api/kcp.md, POST). The types
 * and `use` answers are fetched once per run; the parent's type comes from
 * the listing or, for a parent created by the same plan, from the create
 * this file accepted earlier (the engine checks in address order, so a
 * parent is always checked before its children). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "providers/kcp/home.h"
#include "providers/kcp/kc.h"

/* ---- facts: workspace path -> type ------------------------------------ */

/* One allocation "path\0type": the map's key and value at once. */
int kc_ws_put(wsr_provider *p, const char *path, const char *type_key)
{
	size_t lp = strlen(path), lt = strlen(type_key);
	char *block = malloc(lp + lt + 2);
	if (!block)
		return WSR_ENOMEM;
	memcpy(block, path, lp + 1);
	memcpy(block + lp + 1, type_key, lt + 1);
	free(wsr_hmap_del(&p->ws, path)); /* the map keeps an old key: drop it first */
	if (wsr_hmap_put(&p->ws, block, block)) {
		free(block);
		return WSR_ENOMEM;
	}
	return 0;
}

const char *kc_ws_type(const wsr_provider *p, const char *path)
{
	const char *block = wsr_hmap_get(&p->ws, path);
	return block ? block + strlen(block) + 1 : NULL;
}

void kc_facts_free(wsr_provider *p)
{
	for (size_t i = 0; i < p->ws.cap; i++)
		free(p->ws.vals[i]);
	wsr_hmap_free(&p->ws);
	cJSON_Delete(p->types);
	cJSON_Delete(p->uses);
	p->types = p->uses = NULL;
}

/* ---- refusals ------------------------------------------------------------ */

/* Adds one refusal on c's address; detail (may be NULL) is taken. Returns
 * WSR_EAPI, which check turns into "refused, plan on". */
static int refuse(wsr_diag *diag, const wsr_change *c, char *detail, const char *hint,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int refuse(wsr_diag *diag, const wsr_change *c, char *detail, const char *hint,
		  const char *fmt, ...)
{
	wsr_buf b = WSR_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	wsr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, c->address, detail, hint, "%s", wsr_buf_str(&b));
	wsr_buf_free(&b);
	free(detail);
	return WSR_EAPI;
}

/* Splits a type key "<path>:<name>" (copied into buf) at its last ':'. */
static int split_key(char buf[KC_TYPE_MAX + 1], const char *key, const char **path,
		     const char **name)
{
	size_t n = strlen(key);
	char *colon;
	if (n > KC_TYPE_MAX)
		return WSR_EINVAL;
	memcpy(buf, key, n + 1);
	if (!(colon = strrchr(buf, ':')))
		return WSR_EINVAL;
	*colon = '\0';
	*path = buf;
	*name = colon + 1;
	return kc_path_ok(buf) && kc_name_ok(*name, strlen(*name)) ? 0 : WSR_EINVAL;
}

/* The WorkspaceType key into *type (NULL when kcp has none), fetched once. */
static int get_type(wsr_provider *p, const wsr_change *c, const char *key, const cJSON **type,
		    wsr_diag *diag)
{
	const cJSON *cached = cJSON_GetObjectItemCaseSensitive(p->types, key);
	char buf[KC_TYPE_MAX + 1];
	const char *path, *name;
	*type = NULL;
	if (cached) {
		*type = cJSON_IsNull(cached) ? NULL : cached;
		return 0;
	}
	if (split_key(buf, key, &path, &name))
		return refuse(diag, c, NULL, NULL, "workspace type %s is not a type kcp accepts",
			      key);
	char *url = kc_api_path(path, "workspacetypes", name), *what = NULL;
	long status;
	cJSON *json = NULL;
	int rc = url ? kc_call(p, &status, &json, c->address, "GET", url, NULL, diag) : WSR_ENOMEM;
	if (!rc && !(what = wsr_strdupf("reading workspace type %s", key)))
		rc = WSR_ENOMEM;
	if (!rc && status == 200 && !cJSON_IsObject(json))
		rc = kc_malformed(diag, c->address, what, "a WorkspaceType must be an object");
	else if (!rc && status != 200 && status != 404)
		rc = kc_refused(p, diag, c->address, what, status, json);
	if (!rc && status == 404) {
		cJSON_Delete(json);
		json = cJSON_CreateNull();
	}
	if (!rc && !(p->types || (p->types = cJSON_CreateObject())))
		rc = WSR_ENOMEM;
	if (!rc && (!json || !cJSON_AddItemToObject(p->types, key, json)))
		rc = WSR_ENOMEM;
	if (!rc)
		*type = cJSON_IsNull(json) ? NULL : json;
	else
		cJSON_Delete(json);
	free(what);
	free(url);
	return rc;
}

/* Whether the caller may `use` the type key (a SelfSubjectAccessReview at
 * the type's path), asked once. *reason may be "". */
static int may_use(wsr_provider *p, const wsr_change *c, const char *key, int *allowed,
		   const char **reason, wsr_diag *diag)
{
	const cJSON *cached = cJSON_GetObjectItemCaseSensitive(p->uses, key);
	char buf[KC_TYPE_MAX + 1];
	const char *path, *name;
	if (!cached && split_key(buf, key, &path, &name))
		return refuse(diag, c, NULL, NULL, "workspace type %s is not a type kcp accepts",
			      key);
	if (!cached) {
		cJSON *req = cJSON_CreateObject(), *attrs;
		char *body = NULL, *url = wsr_strdupf("/clusters/%s/apis/authorization.k8s.io/v1/"
						      "selfsubjectaccessreviews",
						      path);
		if (req && cJSON_AddStringToObject(req, "apiVersion", "authorization.k8s.io/v1") &&
		    cJSON_AddStringToObject(req, "kind", "SelfSubjectAccessReview") &&
		    (attrs = cJSON_AddObjectToObject(cJSON_AddObjectToObject(req, "spec"),
						     "resourceAttributes")) &&
		    cJSON_AddStringToObject(attrs, "group", "tenancy.kcp.io") &&
		    cJSON_AddStringToObject(attrs, "resource", "workspacetypes") &&
		    cJSON_AddStringToObject(attrs, "verb", "use") &&
		    cJSON_AddStringToObject(attrs, "name", name))
			body = wsr_json_print(req, 0);
		cJSON_Delete(req);
		long status;
		cJSON *json = NULL, *entry = NULL;
		int rc = body && url
			     ? kc_call(p, &status, &json, c->address, "POST", url, body, diag)
			     : WSR_ENOMEM;
		const cJSON *ok =
		    cJSON_GetObjectItemCaseSensitive(wsr_json_obj(json, "status"), "allowed");
		const char *why = wsr_json_str(wsr_json_obj(json, "status"), "reason");
		char *what =
		    rc ? NULL : wsr_strdupf("asking whether you may use workspace type %s", key);
		if (!rc && status / 100 != 2)
			rc = kc_refused(p, diag, c->address, what ? what : key, status, json);
		else if (!rc && !cJSON_IsBool(ok))
			rc = kc_malformed(diag, c->address, what ? what : key,
					  "a SelfSubjectAccessReview's status.allowed must be a "
					  "boolean");
		if (!rc && (!(p->uses || (p->uses = cJSON_CreateObject())) ||
			    !(entry = cJSON_AddObjectToObject(p->uses, key)) ||
			    !cJSON_AddBoolToObject(entry, "allowed", cJSON_IsTrue(ok)) ||
			    !cJSON_AddStringToObject(entry, "reason", why ? why : "")))
			rc = WSR_ENOMEM;
		free(what);
		free(body);
		free(url);
		cJSON_Delete(json);
		if (rc)
			return rc;
		cached = entry;
	}
	*allowed = wsr_json_bool(cached, "allowed", 0);
	*reason = wsr_json_str(cached, "reason");
	return 0;
}

/* "<key>, <key>" of a list of type references. */
static char *type_list(const cJSON *types)
{
	wsr_buf b = WSR_BUF_INIT;
	const cJSON *t;
	cJSON_ArrayForEach(t, types)
	{
		char key[KC_TYPE_MAX + 1];
		if (!kc_type_key(key, t))
			wsr_buf_printf(&b, "%s%s", b.len ? ", " : "", key);
	}
	return wsr_buf_detach(&b);
}

/* 1 when the list of type references holds key. */
static int lists_type(const cJSON *types, const char *key)
{
	const cJSON *t;
	cJSON_ArrayForEach(t, types)
	{
		char k[KC_TYPE_MAX + 1];
		if (!kc_type_key(k, t) && strcmp(k, key) == 0)
			return 1;
	}
	return 0;
}

/* The type must exist and the caller must be allowed to use it. */
static int check_usable(wsr_provider *p, const wsr_change *c, const char *key, const char *hint,
			const cJSON **type, wsr_diag *diag)
{
	int allowed = 0;
	const char *reason = NULL;
	int rc = get_type(p, c, key, type, diag);
	if (!rc && !*type)
		return refuse(diag, c, NULL, hint, "workspace type %s does not exist", key);
	if (!rc)
		rc = may_use(p, c, key, &allowed, &reason, diag);
	if (!rc && !allowed)
		return refuse(diag, c, reason && *reason ? strdup(reason) : NULL,
			      "ask an administrator for `use` of the type, or choose another "
			      "spec.type",
			      "you may not use workspace type %s", key);
	return rc;
}

/* The parent-child rules of both types (either side may say no). */
static int check_pair(const wsr_change *c, const char *parent, const char *ckey, const cJSON *ctype,
		      const char *pkey, const cJSON *ptype, wsr_diag *diag)
{
	const cJSON *parents =
	    wsr_json_arr(wsr_json_path(ctype, "spec.limitAllowedParents"), "types");
	const cJSON *kids = wsr_json_path(ptype, "spec.limitAllowedChildren");
	int rc = 0;
	if (cJSON_GetArraySize(parents) > 0 && !lists_type(parents, pkey)) {
		char *list = type_list(parents);
		rc = refuse(diag, c, wsr_strdupf("its parent %s is of type %s", parent, pkey),
			    "move it under a workspace of an allowed type (spec.parent), or choose "
			    "another spec.type",
			    "workspace type %s may only be created under workspaces of type %s",
			    ckey, list ? list : "?");
		free(list);
	}
	if (wsr_json_bool(kids, "none", 0))
		return refuse(diag, c, wsr_strdupf("its parent %s is of type %s", parent, pkey),
			      "choose another spec.parent",
			      "workspaces of type %s may not have children", pkey);
	const cJSON *allowed = wsr_json_arr(kids, "types");
	if (cJSON_GetArraySize(allowed) > 0 && !lists_type(allowed, ckey)) {
		char *list = type_list(allowed);
		rc = refuse(diag, c,
			    wsr_strdupf("its parent %s allows children of type %s", parent,
					list ? list : "?"),
			    "choose one of those types, or another spec.parent",
			    "workspaces of type %s may not have children of type %s", pkey, ckey);
		free(list);
	}
	return rc;
}

/* A Workspace's creation. A parent wsr knows nothing of (neither listed nor
 * created earlier in this plan) is the engine's refusal, not this one's;
 * only the type itself is checked then. */
static int check_workspace(wsr_provider *p, const wsr_change *c, wsr_diag *diag)
{
	char parent[KC_PATH_MAX + 1], name[KC_NAME_MAX + 1], ckey[KC_TYPE_MAX + 1];
	if (kc_split_address(c->address, parent, name))
		return refuse(diag, c, NULL, NULL,
			      "not a kcp workspace address (kcp/root:<name>...)");
	const cJSON *spec = c->desired ? c->desired->spec : NULL;
	const cJSON *want = wsr_json_path(spec, "spec.type"), *ptype = NULL, *ctype = NULL;
	const char *pkey = kc_ws_type(p, parent);
	int rc = pkey ? get_type(p, c, pkey, &ptype, diag) : 0;
	const cJSON *dflt = wsr_json_path(ptype, "spec.defaultChildWorkspaceType");
	const char *hint = "fix spec.type, or create the type first";
	if (rc)
		return rc;
	if (want && kc_type_key(ckey, want))
		return refuse(diag, c, NULL, NULL, "spec.type is not a type kcp accepts");
	if (!want && !pkey)
		return 0; /* the default comes from a parent nobody knows */
	if (!want && cJSON_IsObject(dflt) && !kc_type_key(ckey, dflt)) {
		hint = "it is the default child type of the parent's type; set spec.type";
	} else if (!want) {
		strcpy(ckey, "root:universal");
		hint = "it is kcp's default type; set spec.type";
	}
	rc = check_usable(p, c, ckey, hint, &ctype, diag);
	int bad = rc == WSR_EAPI;
	if (rc && !bad)
		return rc;
	if (pkey && ctype && (rc = check_pair(c, parent, ckey, ctype, pkey, ptype, diag)) &&
	    rc != WSR_EAPI)
		return rc;
	bad |= rc == WSR_EAPI;
	/* remembered only when accepted, so a refused parent's children are not
	 * refused again for rules that follow from the refusal */
	return bad ? WSR_EAPI : kc_ws_put(p, c->address + 4, ckey);
}

/* A HomeWorkspace's creation: the path must be the home rule's, the prefix
 * must exist, and the caller must be allowed to use the home types (the
 * bucket type only when a bucket on the way is missing). */
static int check_home(wsr_provider *p, const wsr_change *c, wsr_diag *diag)
{
	const char *path = c->address + 4, *prefix = p->home_prefix;
	size_t lp = strlen(prefix);
	int segs = 0, under = strncmp(c->address, "kcp/", 4) == 0 &&
			      strncmp(path, prefix, lp) == 0 && path[lp] == ':';
	for (const char *s = under ? path + lp : ""; *s; s++)
		segs += *s == ':';
	if (!under || segs != p->home_depth + 1 || !kc_path_ok(path))
		return refuse(diag, c, NULL,
			      "providers.kcp.home must match the kcp server's home workspace flags",
			      "%s is not a home workspace address under %s with %d bucket levels",
			      c->address, prefix, p->home_depth);
	wsr_kcp_home_opts o = {prefix, p->home_depth, p->home_length};
	char *want = NULL;
	wsr_diag ignored = WSR_DIAG_INIT; /* the loader reported a bad user name */
	int rc = c->desired && c->desired->name
		     ? wsr_kcp_home_path(&want, &o, c->desired->name, &ignored)
		     : 0;
	wsr_diag_free(&ignored);
	if (rc == WSR_ENOMEM)
		return rc;
	if (want && strcmp(want, path) != 0) {
		rc = refuse(diag, c, wsr_strdupf("the home rule gives %s", want), NULL,
			    "%s is not where kcp puts the home of this user", path);
		free(want);
		return rc;
	}
	free(want);
	if (!kc_ws_type(p, prefix))
		return refuse(diag, c, NULL,
			      "set providers.kcp.home.prefix to the server's "
			      "--home-workspaces-root-prefix",
			      "the home workspaces' prefix %s does not exist on the kcp server",
			      prefix);
	char bucket[KC_PATH_MAX + 1];
	int missing = 0;
	const cJSON *type;
	for (const char *s = strchr(path + lp + 1, ':'); s; s = strchr(s + 1, ':')) {
		memcpy(bucket, path, (size_t)(s - path));
		bucket[s - path] = '\0';
		missing |= !kc_ws_type(p, bucket);
	}
	if (missing && (rc = check_usable(p, c, "root:homebucket", NULL, &type, diag)))
		return rc;
	if ((rc = check_usable(p, c, "root:home", NULL, &type, diag)))
		return rc;
	for (const char *s = strchr(path + lp + 1, ':'); s && !rc; s = strchr(s + 1, ':')) {
		memcpy(bucket, path, (size_t)(s - path));
		bucket[s - path] = '\0';
		if (!kc_ws_type(p, bucket))
			rc = kc_ws_put(p, bucket, "root:homebucket");
	}
	return rc ? rc : kc_ws_put(p, path, "root:home");
}

/* Says whose home an accepted home creation is: the path alone does not
 * (it holds the sanitized name). A name with control characters is not
 * echoed to a terminal. */
static int home_reason(wsr_change *c, int rc)
{
	const char *user = c->desired ? c->desired->name : NULL;
	int printable = user != NULL;
	for (const unsigned char *s = (const unsigned char *)user; printable && *s; s++)
		printable = *s >= 0x20 && *s != 0x7f;
	if (!rc && printable)
		wsr_change_add_reason(c,
				      "home workspace of user %.80s%s (buckets on the way "
				      "are created when missing)",
				      user, strlen(user) > 80 ? "..." : "");
	return rc;
}

int kc_check(wsr_provider *p, wsr_change *change, wsr_diag *diag)
{
	int rc = 0;
	for (int i = 0; i < change->nactions && (!rc || rc == WSR_EAPI); i++) {
		wsr_action a = change->actions[i];
		if (a == WSR_ACT_TRANSFER || a == WSR_ACT_UPGRADE)
			rc = refuse(diag, change, NULL, NULL, "kcp has no %s operation",
				    wsr_action_name(a));
		else if (a == WSR_ACT_CREATE && strcmp(change->kind, WSR_KCP_KIND_HOME) == 0)
			rc = home_reason(change, check_home(p, change, diag));
		else if (a == WSR_ACT_CREATE)
			rc = check_workspace(p, change, diag);
	}
	return rc == WSR_EAPI ? 0 : rc; /* a refusal is reported; the plan goes on */
}
