/* check: kcp's admission refusals, predicted at plan time so a user reads
 * them in `wsr plan`, not half-way through `apply` — in kcp's own words
 * (`workspaces.tenancy.kcp.io "x" is forbidden: ...`) and in kcp's order
 * (pkg/admission/workspacetypeexists/admission.go; docs/api/kcp.md, POST):
 *
 *   the parent's phase (content access, and not being deleted)
 *   -> the default child type when spec.type is absent
 *   -> the type resolved: at its path, or from the parent upwards to root
 *   -> `use` of the type and of every type it extends (its aliases)
 *   -> every alias's limitAllowedParents against the parent type's aliases
 *   -> every parent alias's limitAllowedChildren against the child's.
 *
 * Types and `use` answers are fetched once per run. The parent's type and
 * phase come from the listing or, for a parent created by the same plan,
 * from the create this file accepted earlier (the engine checks in address
 * order, so a parent is always checked before its children). A deletion's
 * check lists the workspace's subtree afresh (provider.c) and reports it
 * in the change's extra, for the engine's cascade rule. Home workspaces:
 * both generations (home.h). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "providers/kcp/home.h"
#include "providers/kcp/kc.h"

/* ---- facts: workspace path -> type, phase ---------------------------- */

int kc_ws_put(wsr_provider *p, const char *path, const char *type_key, const char *phase)
{
	kc_fact *f = wsr_hmap_get(&p->ws, path);
	char *type = strdup(type_key);
	if (!type)
		return WSR_ENOMEM;
	if (!f) {
		if (!(f = calloc(1, sizeof(*f))) || !(f->path = strdup(path)) ||
		    wsr_hmap_put(&p->ws, f->path, f)) {
			if (f)
				free(f->path);
			free(f);
			free(type);
			return WSR_ENOMEM;
		}
	}
	free(f->type);
	f->type = type;
	snprintf(f->phase, sizeof(f->phase), "%s", phase ? phase : "");
	return 0;
}

kc_fact *kc_ws_get(const wsr_provider *p, const char *path)
{
	return wsr_hmap_get(&p->ws, path);
}

void kc_facts_free(wsr_provider *p)
{
	for (size_t i = 0; i < p->ws.cap; i++) {
		kc_fact *f = p->ws.vals[i];
		if (f) {
			free(f->path);
			free(f->type);
			free(f);
		}
	}
	wsr_hmap_free(&p->ws);
	cJSON_Delete(p->types);
	cJSON_Delete(p->uses);
	cJSON_Delete(p->impersonate);
	p->types = p->uses = p->impersonate = NULL;
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

/* A creation kcp's admission would refuse, worded as kcp words it. */
static int forbidden(wsr_diag *diag, const wsr_change *c, char *detail, const char *hint,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int forbidden(wsr_diag *diag, const wsr_change *c, char *detail, const char *hint,
		     const char *fmt, ...)
{
	const char *name = strrchr(c->address, ':');
	wsr_buf b = WSR_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	wsr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	int rc = refuse(diag, c, detail, hint, "workspaces.tenancy.kcp.io \"%s\" is forbidden: %s",
			name ? name + 1 : c->address, wsr_buf_str(&b));
	wsr_buf_free(&b);
	return rc;
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

/* ---- types ---------------------------------------------------------------- */

/* A resolved type: the object and its key "<canonical path>:<name>". */
typedef struct kc_type {
	const cJSON *obj;
	char key[KC_TYPE_MAX + 1];
} kc_type;

/* The WorkspaceType name as GET at path `at` answers it into *type, NULL
 * when there is none there (404; or 403: a workspace whose types wsr may
 * not read offers none wsr could use), fetched once per run. */
static int type_at(wsr_provider *p, const wsr_change *c, const char *at, const char *name,
		   const cJSON **type, wsr_diag *diag)
{
	char key[KC_TYPE_MAX + 1];
	snprintf(key, sizeof(key), "%s:%s", at, name);
	const cJSON *cached = cJSON_GetObjectItemCaseSensitive(p->types, key);
	*type = NULL;
	if (cached) {
		*type = cJSON_IsNull(cached) ? NULL : cached;
		return 0;
	}
	char *url = kc_api_path(at, "workspacetypes", name), *what = NULL;
	long status;
	cJSON *json = NULL;
	int rc = url ? kc_call(p, &status, &json, c->address, "GET", url, NULL, diag) : WSR_ENOMEM;
	if (!rc && !(what = wsr_strdupf("reading workspace type %s", key)))
		rc = WSR_ENOMEM;
	if (!rc && status == 200 && !cJSON_IsObject(json))
		rc = kc_malformed(diag, c->address, what, "a WorkspaceType must be an object");
	else if (!rc && status != 200 && status != 404 && status != 403)
		rc = kc_refused(p, diag, c->address, what, status, json);
	if (!rc && status != 200) {
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

/* Looks the reference (rpath may be NULL) up as kcp does: with a path,
 * there; without, in `from`, then in each parent up to root (a workspace
 * this run only plans holds no types yet and is skipped). The canonical
 * path is the type's kcp.io/path annotation, else where it was found.
 * t->obj is NULL when nothing was found. */
static int resolve(wsr_provider *p, const wsr_change *c, const char *from, const char *rpath,
		   const char *rname, kc_type *t, wsr_diag *diag)
{
	char at[KC_PATH_MAX + 1];
	t->obj = NULL;
	if (!rname || !kc_name_ok(rname, strlen(rname)) || (rpath && !kc_path_ok(rpath)))
		return 0;
	snprintf(at, sizeof(at), "%s", rpath ? rpath : from);
	for (;;) {
		const kc_fact *f = kc_ws_get(p, at);
		if (!(f && !f->phase[0]) && kc_path_ok(at)) {
			int rc = type_at(p, c, at, rname, &t->obj, diag);
			if (rc || t->obj) {
				const char *canon = wsr_json_str(
				    wsr_json_obj(wsr_json_obj(t->obj, "metadata"), "annotations"),
				    "kcp.io/path");
				snprintf(t->key, sizeof(t->key), "%s:%s",
					 canon && kc_path_ok(canon) ? canon : at, rname);
				return rc;
			}
		}
		char *colon = strrchr(at, ':');
		if (rpath || strcmp(at, "root") == 0)
			return 0;
		if (colon)
			*colon = '\0';
		else
			strcpy(at, "root"); /* a path outside root falls back to root, as in kcp */
	}
}

/* A type and every type it extends, transitively: its aliases. */
typedef struct aliases {
	kc_type v[KC_ALIASES_MAX];
	int n;
} aliases;

/* Adds t's bases (depth first, as kcp's transitive resolver orders them);
 * stack holds the keys on the way down, to tell a cycle from a diamond. */
static int collect(wsr_provider *p, const wsr_change *c, const kc_type *t, aliases *out,
		   const char **stack, int depth, wsr_diag *diag)
{
	char buf[KC_TYPE_MAX + 1];
	const char *tpath, *tname;
	const cJSON *w;
	if (split_key(buf, t->key, &tpath, &tname))
		return forbidden(diag, c, NULL, NULL, "workspace type %s is not a type kcp accepts",
				 t->key);
	stack[depth] = t->key;
	cJSON_ArrayForEach(w, wsr_json_arr(wsr_json_path(t->obj, "spec.extend"), "with"))
	{
		kc_type base;
		const char *bname = wsr_json_str(w, "name"), *bpath = wsr_json_str(w, "path");
		int rc = resolve(p, c, tpath, bpath && *bpath ? bpath : NULL, bname, &base, diag);
		if (rc)
			return rc;
		if (!base.obj)
			return forbidden(diag, c, wsr_strdupf("in spec.extend.with of %s", t->key),
					 "ask the type's owner to fix it",
					 "unable to find inherited workspace type %s",
					 bname ? bname : "(unnamed)");
		for (int i = 0; i <= depth; i++)
			if (strcmp(stack[i], base.key) == 0)
				return forbidden(diag, c, NULL, "ask the type's owner to fix it",
						 "circular dependency detected in workspace type "
						 "%s",
						 base.key);
		int seen = 0;
		for (int i = 0; i < out->n && !seen; i++)
			seen = strcmp(out->v[i].key, base.key) == 0;
		if (seen)
			continue;
		if (out->n + 1 >= KC_ALIASES_MAX || depth + 1 >= KC_ALIASES_MAX)
			return refuse(diag, c, NULL, NULL,
				      "workspace type %s extends more than %d types; wsr does not "
				      "follow further (KC_ALIASES_MAX)",
				      stack[0], KC_ALIASES_MAX - 1);
		out->v[out->n++] = base;
		if ((rc = collect(p, c, &out->v[out->n - 1], out, stack, depth + 1, diag)))
			return rc;
	}
	return 0;
}

static int aliases_of(wsr_provider *p, const wsr_change *c, const kc_type *t, aliases *out,
		      wsr_diag *diag)
{
	const char *stack[KC_ALIASES_MAX];
	out->n = 0;
	int rc = collect(p, c, t, out, stack, 0, diag);
	if (!rc)
		out->v[out->n++] = *t; /* collect keeps one slot free for it */
	return rc;
}

/* ---- permissions ---------------------------------------------------------- */

/* A SelfSubjectAccessReview at path for attrs ({verb, group, resource,
 * name}, taken), its answer stored as {"allowed", "reason"} under key in
 * *cache (created when NULL). */
static int ssar(wsr_provider *p, const wsr_change *c, const char *path, cJSON *attrs, cJSON **cache,
		const char *key, const char *what, const cJSON **entry, wsr_diag *diag)
{
	cJSON *req = cJSON_CreateObject(), *spec = NULL, *json = NULL, *e = NULL;
	char *body = NULL, *url = wsr_strdupf("/clusters/%s/apis/authorization.k8s.io/v1/"
					      "selfsubjectaccessreviews",
					      path);
	if (req && attrs && cJSON_AddStringToObject(req, "apiVersion", "authorization.k8s.io/v1") &&
	    cJSON_AddStringToObject(req, "kind", "SelfSubjectAccessReview") &&
	    (spec = cJSON_AddObjectToObject(req, "spec")) &&
	    cJSON_AddItemToObject(spec, "resourceAttributes", attrs))
		attrs = NULL, body = wsr_json_print(req, 0);
	cJSON_Delete(attrs);
	cJSON_Delete(req);
	long status;
	int rc = body && url ? kc_call(p, &status, &json, c->address, "POST", url, body, diag)
			     : WSR_ENOMEM;
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(wsr_json_obj(json, "status"), "allowed");
	const char *why = wsr_json_str(wsr_json_obj(json, "status"), "reason");
	if (!rc && status / 100 != 2)
		rc = kc_refused(p, diag, c->address, what, status, json);
	else if (!rc && !cJSON_IsBool(ok))
		rc = kc_malformed(diag, c->address, what,
				  "a SelfSubjectAccessReview's status.allowed must be a boolean");
	if (!rc && (!(*cache || (*cache = cJSON_CreateObject())) ||
		    !(e = cJSON_AddObjectToObject(*cache, key)) ||
		    !cJSON_AddBoolToObject(e, "allowed", cJSON_IsTrue(ok)) ||
		    !cJSON_AddStringToObject(e, "reason", why ? why : "")))
		rc = WSR_ENOMEM;
	*entry = e;
	free(body);
	free(url);
	cJSON_Delete(json);
	return rc;
}

/* {verb, group, resource, name} of a review. */
static cJSON *attrs_of(const char *verb, const char *group, const char *resource, const char *name)
{
	cJSON *a = cJSON_CreateObject();
	if (a && cJSON_AddStringToObject(a, "verb", verb) &&
	    cJSON_AddStringToObject(a, "group", group) &&
	    cJSON_AddStringToObject(a, "resource", resource) &&
	    cJSON_AddStringToObject(a, "name", name))
		return a;
	cJSON_Delete(a);
	return NULL;
}

/* Whether the caller may `use` the type key (a review at the type's
 * workspace, as kcp authorizes it there), asked once per type. */
static int may_use(wsr_provider *p, const wsr_change *c, const char *key, int *allowed,
		   const char **reason, wsr_diag *diag)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(p->uses, key);
	char buf[KC_TYPE_MAX + 1], *what = NULL;
	const char *path, *name;
	int rc = 0;
	if (!e && split_key(buf, key, &path, &name))
		return refuse(diag, c, NULL, NULL, "workspace type %s is not a type kcp accepts",
			      key);
	if (!e && !(what = wsr_strdupf("asking whether you may use workspace type %s", key)))
		return WSR_ENOMEM;
	if (!e)
		rc = ssar(p, c, path, attrs_of("use", "tenancy.kcp.io", "workspacetypes", name),
			  &p->uses, key, what, &e, diag);
	free(what);
	if (rc)
		return rc;
	*allowed = wsr_json_bool(e, "allowed", 0);
	*reason = wsr_json_str(e, "reason");
	return 0;
}

/* kcp asks for `use` of every alias; the first one refused is the answer. */
static int check_use(wsr_provider *p, const wsr_change *c, const aliases *a, wsr_diag *diag)
{
	for (int i = 0; i < a->n; i++) {
		int allowed = 0;
		const char *reason = NULL;
		int rc = may_use(p, c, a->v[i].key, &allowed, &reason, diag);
		if (rc)
			return rc;
		if (!allowed)
			return forbidden(
			    diag, c, reason && *reason ? strdup(reason) : NULL,
			    "ask an administrator for `use` of the type (a ClusterRole "
			    "with verb use on workspacetypes), or choose another "
			    "spec.type",
			    "unable to use workspace type %s: missing verb='use' "
			    "permission on workspacetype",
			    a->v[i].key);
	}
	return 0;
}

/* ---- parent and child rules ------------------------------------------------ */

/* "<path>:<name>", or "<name>" for a reference without path (which kcp
 * joins the same way, so it never equals a canonical key). */
static void ref_key(char key[KC_TYPE_MAX + 1], const cJSON *ref)
{
	const char *name = wsr_json_str(ref, "name"), *path = wsr_json_str(ref, "path");
	snprintf(key, KC_TYPE_MAX + 1, "%s%s%.63s", path && *path ? path : "",
		 path && *path ? ":" : "", name ? name : "");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Go's "%v" of a sorted set of strings: "[a b]". */
static void go_set(wsr_buf *b, const char **v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_str);
	wsr_buf_putc(b, '[');
	for (size_t i = 0, shown = 0; i < n; i++)
		if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
			wsr_buf_printf(b, "%s%s", shown++ ? " " : "", v[i]);
	wsr_buf_putc(b, ']');
}

/* The set of a limit's type references, printed into b. */
static void refs_set(wsr_buf *b, const cJSON *types)
{
	size_t n = (size_t)cJSON_GetArraySize(types), i = 0;
	char(*keys)[KC_TYPE_MAX + 1] = calloc(n ? n : 1, sizeof(*keys));
	const char **v = calloc(n ? n : 1, sizeof(*v));
	const cJSON *t;
	if (!keys || !v) {
		wsr_buf_puts(b, "[?]");
	} else {
		cJSON_ArrayForEach(t, types)
		{
			ref_key(keys[i], t);
			v[i] = keys[i];
			i++;
		}
		go_set(b, v, n);
	}
	free(keys);
	free(v);
}

static void aliases_set(wsr_buf *b, const aliases *a)
{
	const char *v[KC_ALIASES_MAX] = {NULL};
	for (int i = 0; i < a->n; i++)
		v[i] = a->v[i].key;
	go_set(b, v, (size_t)a->n);
}

/* 1 when an alias is among the limit's types. */
static int any_in(const aliases *a, const cJSON *types)
{
	const cJSON *t;
	cJSON_ArrayForEach(t, types)
	{
		char key[KC_TYPE_MAX + 1];
		ref_key(key, t);
		for (int i = 0; i < a->n; i++)
			if (strcmp(a->v[i].key, key) == 0)
				return 1;
	}
	return 0;
}

/* One side's limits (kcp's validateAllowedParents / -Children): for every
 * alias of `self` with a limit on the other side, `none`, or types none of
 * whose entries is an alias of `other`. Errors go into errs, "; "-free and
 * counted in *n, as kcp aggregates them. */
static void limits(wsr_buf *errs, int *n, const aliases *self, const char *self_key,
		   const aliases *other, const char *other_key, int parents)
{
	const char *field = parents ? "spec.limitAllowedParents" : "spec.limitAllowedChildren";
	for (int i = 0; i < self->n; i++) {
		const cJSON *lim = wsr_json_path(self->v[i].obj, field);
		const cJSON *types = wsr_json_arr(lim, "types");
		int none = wsr_json_bool(lim, "none", 0);
		if (!cJSON_IsObject(lim) ||
		    (!none && (!cJSON_GetArraySize(types) || any_in(other, types))))
			continue;
		wsr_buf_puts(errs, (*n)++ ? ", " : "");
		if (none) {
			wsr_buf_printf(errs, "workspace type %s cannot have any %s", self_key,
				       parents ? "parent" : "child");
			continue;
		}
		wsr_buf_printf(errs, "workspace type %s", self_key);
		if (strcmp(self->v[i].key, self_key) != 0)
			wsr_buf_printf(errs, " extends %s, which", self->v[i].key);
		wsr_buf_puts(errs, " only allows ");
		refs_set(errs, types);
		wsr_buf_printf(errs, " %s workspaces, but %s type %s only implements ",
			       parents ? "parent" : "child", parents ? "parent" : "child",
			       other_key);
		aliases_set(errs, other);
	}
}

/* kcp checks the child's limitAllowedParents, and only when those pass the
 * parent's limitAllowedChildren; several failures of one side are one
 * refusal "[a, b]". */
static int check_pair(const wsr_change *c, const char *parent, const aliases *ca, const char *ckey,
		      const aliases *pa, const char *pkey, wsr_diag *diag)
{
	for (int side = 1; side >= 0; side--) {
		wsr_buf errs = WSR_BUF_INIT;
		int n = 0;
		if (side)
			limits(&errs, &n, ca, ckey, pa, pkey, 1);
		else
			limits(&errs, &n, pa, pkey, ca, ckey, 0);
		int rc = 0;
		if (wsr_buf_failed(&errs))
			rc = WSR_ENOMEM;
		else if (n)
			rc = forbidden(diag, c,
				       wsr_strdupf("its parent %s is of type %s", parent, pkey),
				       side ? "put it under a workspace of an allowed type "
					      "(spec.parent), or choose another spec.type"
					    : "choose a type the parent allows, or another "
					      "spec.parent",
				       n > 1 ? "[%s]" : "%s", wsr_buf_str(&errs));
		wsr_buf_free(&errs);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- creations -------------------------------------------------------------- */

/* The parent's phase: content access (kcp's workspace content authorizer
 * denies Scheduling, Unavailable, Inactive) and deletion (a child created
 * in a Terminating or Deleting parent would be destroyed with it). An
 * existing parent still Initializing is admitted by kcp, so by plan too. */
static int check_phase(wsr_change *c, const char *parent, const char *phase, wsr_diag *diag)
{
	if (!*phase || strcmp(phase, "Ready") == 0)
		return 0;
	if (strcmp(phase, "Initializing") == 0)
		return wsr_change_add_reason(c,
					     "its parent %s is still Initializing; kcp accepts "
					     "workspaces in it",
					     parent);
	if (strcmp(phase, "Terminating") == 0 || strcmp(phase, "Deleting") == 0)
		return refuse(diag, c,
			      strdup("kcp deletes every workspace inside a workspace it deletes, a "
				     "new one too"),
			      "wait until it is gone, then plan again",
			      "cannot create %s: its parent %s is being deleted (phase %s)",
			      c->address, parent, phase);
	int known = strcmp(phase, "Scheduling") == 0 || strcmp(phase, "Unavailable") == 0 ||
		    strcmp(phase, "Inactive") == 0;
	return refuse(diag, c,
		      known ? wsr_strdupf("kcp refuses access to a workspace's content in "
					  "phase %s (403: not permitted due to phase \"%s\")",
					  phase, phase)
			    : strdup("not a phase of kcp's"),
		      strcmp(phase, "Scheduling") == 0
			  ? "plan again when it is Ready"
			  : "ask an administrator to make it Ready, or choose another spec.parent",
		      "cannot create %s: its parent %s is in phase %s", c->address, parent, phase);
}

/* The child's type reference: spec.type, or when absent the parent type's
 * defaultChildWorkspaceType (kcp's literal refusal when that is unset: it
 * builds the message with errors.New, so the verbs stay in it). */
static int child_ref(wsr_change *c, const kc_type *pt, const char **rpath, const char **rname,
		     int *defaulted, wsr_diag *diag)
{
	const cJSON *want = c->desired ? wsr_json_path(c->desired->spec, "spec.type") : NULL;
	*rname = wsr_json_str(want, "name");
	*rpath = wsr_json_str(want, "path");
	*defaulted = !*rname || !**rname;
	if (*defaulted) {
		const cJSON *d = wsr_json_path(pt->obj, "spec.defaultChildWorkspaceType");
		*rname = wsr_json_str(d, "name");
		*rpath = wsr_json_str(d, "path");
		if (!*rname || !**rname)
			return forbidden(diag, c,
					 wsr_strdupf("spec.type is not set and the parent's type "
						     "%s has no defaultChildWorkspaceType",
						     pt->key),
					 "set spec.type",
					 "%s", /* kcp's text, placeholders and all */
					 "spec.defaultChildWorkspaceType of workspace type %s:%s "
					 "must be set");
	}
	if (*rpath && !**rpath)
		*rpath = NULL;
	return 0;
}

/* A Workspace's creation. A parent wsr knows nothing of (neither listed nor
 * created earlier in this plan) is the engine's refusal, not this one's. */
static int check_workspace(wsr_provider *p, wsr_change *c, wsr_diag *diag)
{
	char parent[KC_PATH_MAX + 1], name[KC_NAME_MAX + 1], buf[KC_TYPE_MAX + 1];
	const char *ppath, *pname, *rpath, *rname;
	if (kc_split_address(c->address, parent, name))
		return refuse(diag, c, NULL, NULL,
			      "not a kcp workspace address (kcp/root:<name>...)");
	const kc_fact *pf = kc_ws_get(p, parent);
	if (!pf)
		return 0;
	int rc = check_phase(c, parent, pf->phase, diag), defaulted = 0;
	kc_type pt, ct;
	aliases *ca = NULL, *pa = NULL;
	if (!rc && split_key(buf, pf->type, &ppath, &pname))
		rc = kc_malformed(diag, c->address, "the parent's type", "not <path>:<name>");
	if (!rc && !(rc = type_at(p, c, ppath, pname, &pt.obj, diag)) && !pt.obj)
		rc = forbidden(diag, c, NULL, NULL,
			       "parent type cannot be resolved: workspace type %s not found",
			       pf->type);
	snprintf(pt.key, sizeof(pt.key), "%s", pf->type);
	if (!rc)
		rc = child_ref(c, &pt, &rpath, &rname, &defaulted, diag);
	const char *hint = defaulted ? "it is the default child type of the parent's type; set "
				       "spec.type"
				     : "fix spec.type, or create the type first";
	/* kcp's two words for "not found": a reference with a path is looked up
	 * once and kcp wraps the NotFound as an internal error */
	if (!rc && !(rc = resolve(p, c, parent, rpath, rname, &ct, diag)) && !ct.obj && rpath)
		rc = forbidden(
		    diag, c, NULL, hint,
		    "Internal error occurred: workspacetypes.tenancy.kcp.io \"%s:%s\" not "
		    "found",
		    rpath, rname);
	else if (!rc && !ct.obj)
		rc = forbidden(diag, c, NULL, hint, "workspace type \"%s\" cannot be resolved",
			       rname);
	if (!rc && (!(ca = malloc(sizeof(*ca))) || !(pa = malloc(sizeof(*pa)))))
		rc = WSR_ENOMEM;
	if (!rc && !(rc = aliases_of(p, c, &ct, ca, diag)) && !(rc = check_use(p, c, ca, diag)) &&
	    !(rc = aliases_of(p, c, &pt, pa, diag)))
		rc = check_pair(c, parent, ca, ct.key, pa, pt.key, diag);
	if (!rc && (defaulted || !rpath))
		rc = wsr_change_add_reason(c, "its type is %s (%s)", ct.key,
					   defaulted ? "the parent type's default child type"
						     : "kcp resolves spec.type from the parent up");
	free(ca);
	free(pa);
	/* remembered only when accepted, so a refused parent's children are not
	 * refused again for rules that follow from the refusal */
	return rc ? rc : kc_ws_put(p, c->address + 4, ct.key, NULL);
}

/* The type root:<name> (homes' types live in root) must exist and be usable. */
static int usable(wsr_provider *p, const wsr_change *c, const char *name, wsr_diag *diag)
{
	kc_type t;
	aliases *a = malloc(sizeof(*a));
	int rc = a ? resolve(p, c, "root", "root", name, &t, diag) : WSR_ENOMEM;
	if (!rc && !t.obj)
		rc = forbidden(diag, c, NULL, NULL, "workspace type \"root:%s\" cannot be resolved",
			       name);
	if (!rc && !(rc = aliases_of(p, c, &t, a, diag)))
		rc = check_use(p, c, a, diag);
	free(a);
	return rc;
}

/* Which generation of homes the server runs: only a bucket-style one has
 * the type root:homebucket. */
static int server_style(wsr_provider *p, const wsr_change *c, int *style, wsr_diag *diag)
{
	const cJSON *t = NULL;
	int rc = p->server_style >= 0 ? 0 : type_at(p, c, "root", "homebucket", &t, diag);
	if (!rc && p->server_style < 0)
		p->server_style = t ? WSR_KCP_HOME_BUCKETS : WSR_KCP_HOME_LOGICALCLUSTER;
	*style = p->server_style;
	return rc;
}

static int wrong_style(const wsr_provider *p, const wsr_change *c, int server, wsr_diag *diag)
{
	return refuse(diag, c,
		      strdup(server == WSR_KCP_HOME_BUCKETS
				 ? "the server has workspace type root:homebucket"
				 : "the server has no workspace type root:homebucket"),
		      server == WSR_KCP_HOME_BUCKETS ? "set providers.kcp.home.style: buckets"
						     : "set providers.kcp.home.style: "
						       "logicalcluster (the default)",
		      "the kcp server at %s keeps home workspaces %s, not as "
		      "providers.kcp.home.style says",
		      p->endpoint,
		      server == WSR_KCP_HOME_BUCKETS ? "in buckets"
						     : "as logical clusters user:<name>");
}

/* A bucket-style HomeWorkspace's creation: the path must be the home rule's,
 * the prefix must exist, and the caller must be allowed to use the home
 * types (the bucket type only when a bucket on the way is missing). */
static int check_bucket_home(wsr_provider *p, const wsr_change *c, wsr_diag *diag)
{
	const char *path = c->address + 4, *prefix = p->home_prefix;
	size_t lp = strlen(prefix);
	int segs = 0, style,
	    under = strncmp(c->address, "kcp/", 4) == 0 && strncmp(path, prefix, lp) == 0 &&
		    path[lp] == ':';
	for (const char *s = under ? path + lp : ""; *s; s++)
		segs += *s == ':';
	if (!under || segs != p->home_depth + 1 || !kc_path_ok(path))
		return refuse(diag, c, NULL,
			      "providers.kcp.home must match the kcp server's home workspace flags",
			      "%s is not a home workspace address under %s with %d bucket levels",
			      c->address, prefix, p->home_depth);
	wsr_kcp_home_opts o = {prefix, p->home_depth, p->home_length, WSR_KCP_HOME_BUCKETS};
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
	if ((rc = server_style(p, c, &style, diag)))
		return rc;
	if (style != WSR_KCP_HOME_BUCKETS)
		return wrong_style(p, c, style, diag);
	if (!kc_ws_get(p, prefix))
		return refuse(diag, c, NULL,
			      "set providers.kcp.home.prefix to the server's "
			      "--home-workspaces-root-prefix",
			      "the home workspaces' prefix %s does not exist on the kcp server",
			      prefix);
	char bucket[KC_PATH_MAX + 1];
	int missing = 0;
	for (const char *s = strchr(path + lp + 1, ':'); s; s = strchr(s + 1, ':')) {
		memcpy(bucket, path, (size_t)(s - path));
		bucket[s - path] = '\0';
		missing |= !kc_ws_get(p, bucket);
	}
	if (missing && (rc = usable(p, c, "homebucket", diag)))
		return rc;
	if ((rc = usable(p, c, "home", diag)))
		return rc;
	for (const char *s = strchr(path + lp + 1, ':'); s && !rc; s = strchr(s + 1, ':')) {
		memcpy(bucket, path, (size_t)(s - path));
		bucket[s - path] = '\0';
		if (!kc_ws_get(p, bucket))
			rc = kc_ws_put(p, bucket, "root:homebucket", NULL);
	}
	return rc ? rc : kc_ws_put(p, path, "root:home", NULL);
}

/* A logicalcluster-style home: kcp creates it when the user asks for `~`;
 * wsr asks as the user (Impersonate-User), so its credentials must be
 * allowed to impersonate that user. */
static int check_lc_home(wsr_provider *p, wsr_change *c, wsr_diag *diag)
{
	const char *user = c->address + strlen("kcp/user:");
	int style, rc;
	if (!kc_is_user_home(c->address))
		return refuse(diag, c, NULL, "set providers.kcp.home.style to the server's",
			      "%s is not a home workspace address kcp/user:<name>", c->address);
	if ((rc = server_style(p, c, &style, diag)))
		return rc;
	if (style != WSR_KCP_HOME_LOGICALCLUSTER)
		return wrong_style(p, c, style, diag);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(p->impersonate, user);
	if (!e &&
	    (rc = ssar(p, c, "root", attrs_of("impersonate", "", "users", user), &p->impersonate,
		       user, "asking whether wsr may impersonate the user", &e, diag)))
		return rc;
	const char *why = wsr_json_str(e, "reason");
	if (!wsr_json_bool(e, "allowed", 0))
		return refuse(diag, c, why && *why ? strdup(why) : NULL,
			      "let wsr's credentials impersonate users (kcp's system:masters "
			      "may), or let the user log in once: kcp creates a home on the "
			      "user's first request of ~",
			      "cannot create the home workspace of %s: wsr's credentials may not "
			      "impersonate user %s (kcp creates a home only for the user who asks "
			      "for it; wsr asks with Impersonate-User)",
			      user, user);
	return wsr_change_add_reason(c,
				     "home workspace of user %s: kcp creates it when the user "
				     "asks for ~ (wsr asks as %s, with Impersonate-User)",
				     user, user);
}

/* Says whose home an accepted bucket-style home creation is: the path alone
 * does not (it holds the sanitized name). A name with control characters
 * is not echoed to a terminal. */
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

/* ---- deletions ------------------------------------------------------------- */

/* kcp deletes a workspace's whole subtree with it: listed afresh, every
 * descendant goes into extra ("destroys" for people, "descendants" for
 * the engine's cascade rule and for machines). */
static int check_delete(wsr_provider *p, wsr_change *c, wsr_diag *diag)
{
	if (kc_is_user_home(c->address))
		return refuse(
		    diag, c,
		    strdup("a home is a logical cluster kcp made for its user; no request deletes "
			   "it"),
		    "keep its spec, or stop managing it with `wsr state rm`; an administrator can "
		    "remove the home from kcp's storage (its LogicalCluster and contents) directly",
		    "kcp has no API that deletes a home workspace");
	cJSON *found = NULL, *destroys = NULL, *list = NULL;
	const cJSON *d;
	int rc = kc_subtree(p, c->address + 4, c->address, &found, diag);
	if (rc || !cJSON_GetArraySize(found)) {
		cJSON_Delete(found);
		return rc;
	}
	if (!c->extra && !(c->extra = cJSON_CreateObject()))
		rc = WSR_ENOMEM;
	if (!rc && (!(destroys = cJSON_AddArrayToObject(c->extra, "destroys")) ||
		    !(list = cJSON_AddArrayToObject(c->extra, "descendants"))))
		rc = WSR_ENOMEM;
	cJSON_ArrayForEach(d, (rc ? NULL : found))
	{
		const char *addr = wsr_json_str(d, "address");
		char *line = wsr_strdupf("workspace %s (type %s, %s)", addr,
					 wsr_json_str(d, "type"), wsr_json_str(d, "phase"));
		cJSON *s = line ? cJSON_CreateString(line) : NULL, *a = cJSON_CreateString(addr);
		free(line);
		if (!s || !a || !cJSON_AddItemToArray(destroys, s) ||
		    !cJSON_AddItemToArray(list, a)) {
			cJSON_Delete(s);
			cJSON_Delete(a);
			rc = WSR_ENOMEM;
			break;
		}
	}
	cJSON_Delete(found);
	return rc;
}

int kc_check(wsr_provider *p, wsr_change *change, wsr_diag *diag)
{
	int rc = 0, home = strcmp(change->kind, WSR_KCP_KIND_HOME) == 0;
	for (int i = 0; i < change->nactions && (!rc || rc == WSR_EAPI); i++) {
		wsr_action a = change->actions[i];
		if (a == WSR_ACT_TRANSFER || a == WSR_ACT_UPGRADE)
			rc = refuse(diag, change, NULL, NULL, "kcp has no %s operation",
				    wsr_action_name(a));
		else if (a == WSR_ACT_DELETE)
			rc = check_delete(p, change, diag);
		else if (a == WSR_ACT_CREATE && home &&
			 p->home_style == WSR_KCP_HOME_LOGICALCLUSTER)
			rc = check_lc_home(p, change, diag);
		else if (a == WSR_ACT_CREATE && home)
			rc = home_reason(change, check_bucket_home(p, change, diag));
		else if (a == WSR_ACT_CREATE)
			rc = check_workspace(p, change, diag);
	}
	return rc == WSR_EAPI ? 0 : rc; /* a refusal is reported; the plan goes on */
}
