/* seed: the kcp seed check. Entries are checked one by one first (shape,
 * names, duplicates), then against each other (a type's workspace exists,
 * every type a type or workspace names is defined, each seeded workspace
 * fits its parent as admission would require), each problem reported at
 * the entry that has to change. */
#include "sim/kcp/seed.h"

#include <string.h>

#include "lib/err.h"
#include "lib/json.h"
#include "sim/kcp/admission.h"
#include "sim/seed.h"

/* The types kcp ships, used when a seed lists none (docs/sim.md). */
static const char standard_types[] =
    "[{\"name\":\"universal\",\"use\":[\"system:authenticated\"]},"
    "{\"name\":\"organization\",\"use\":[\"system:masters\"],\"initializeMs\":200,"
    "\"defaultChildType\":{\"name\":\"team\"},\"allowedParents\":[{\"name\":\"root\"}]},"
    "{\"name\":\"team\",\"use\":[\"system:authenticated\"],"
    "\"allowedParents\":[{\"name\":\"organization\"},{\"name\":\"team\"}]},"
    "{\"name\":\"homeroot\",\"use\":[\"system:masters\"],\"allowedParents\":[{\"name\":\"root\"}],"
    "\"allowedChildren\":[{\"name\":\"homebucket\"}]},"
    "{\"name\":\"homebucket\",\"use\":[\"system:masters\"],"
    "\"allowedParents\":[{\"name\":\"homeroot\"},{\"name\":\"homebucket\"}],"
    "\"allowedChildren\":[{\"name\":\"homebucket\"},{\"name\":\"home\"}]},"
    "{\"name\":\"home\",\"use\":[\"system:masters\"],\"allowedParents\":[{\"name\":\"homebucket\"}]"
    "}]";

static const char *const top_keys[] = {"maxPageSize", "schedulingMs", "deletionMs",    "users",
				       "types",	      "workspaces",   "continueTtlMs", NULL};
static const char *const user_keys[] = {"name", "token", "groups", NULL};
static const char *const ref_keys[] = {"name", "path", NULL};
static const char *const type_keys[] = {"name",
					"path",
					"use",
					"initializeMs",
					"defaultChildType",
					"allowedParents",
					"allowedChildren",
					"noChildren",
					NULL};
static const char *const ws_keys[] = {"path", "type", "labels", NULL};

static int add_str(cJSON *o, const char *k, const char *v)
{
	return cJSON_AddStringToObject(o, k, v) ? 0 : WSR_ENOMEM;
}

static int add_item(cJSON *o, const char *k, cJSON *v)
{
	if (v && cJSON_AddItemToObject(o, k, v))
		return 0;
	cJSON_Delete(v);
	return WSR_ENOMEM;
}

static int check_user(wsr_check *c, const cJSON *in, cJSON *arr, const cJSON *ctx)
{
	(void)ctx;
	const char *name = NULL, *token = NULL;
	cJSON *groups = NULL, *u;
	int rc = wsr_check_only_keys(c, in, user_keys);
	if (!rc)
		rc = wsr_check_str(c, in, "name", &name);
	if (!rc && wsr_check_find(arr, "name", name))
		rc = wsr_check_fail(c, "name", "user %s is listed twice", name);
	if (!rc)
		rc = wsr_check_str(c, in, "token", &token);
	if (!rc && wsr_check_find(arr, "token", token)) /* never print a token */
		rc = wsr_check_fail(c, "token", "another user has the same token");
	if (!rc)
		rc = wsr_check_list(c, in, "groups", NULL, NULL, &groups);
	if (!rc && !(u = cJSON_CreateObject()))
		rc = WSR_ENOMEM;
	if (!rc && !(rc = add_str(u, "name", name)) && !(rc = add_str(u, "token", token)) &&
	    !(rc = add_item(u, "groups", groups)))
		groups = NULL;
	if (!rc && !cJSON_AddItemToArray(arr, u))
		rc = WSR_ENOMEM;
	cJSON_Delete(groups);
	return rc;
}

/* The entry of arr (types or references) that names the same type as ref. */
static const cJSON *find_ref(const cJSON *arr, const cJSON *ref)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		if (wsr_kcpsim_ref_eq(it, ref))
			return it;
	}
	return NULL;
}

/* A type's (or reference's) name and path (default root). */
static int name_path(wsr_check *c, const cJSON *in, const char **name, const char **path)
{
	*path = "root";
	int rc = wsr_check_str(c, in, "name", name);
	if (!rc && !wsr_kcpsim_name_valid(*name))
		rc = wsr_check_fail(c, "name", "%s is not a workspace type name", *name);
	if (!rc && cJSON_GetObjectItemCaseSensitive(in, "path"))
		rc = wsr_check_str(c, in, "path", path);
	if (!rc && !wsr_kcpsim_path_valid(*path))
		rc = wsr_check_fail(c, "path", "%.200s is not a workspace path", *path);
	return rc;
}

/* A type reference {name, path} (path defaults to root) into *out. */
static int check_ref(wsr_check *c, const cJSON *in, cJSON **out)
{
	const char *name = NULL, *path = NULL;
	*out = NULL;
	if (!cJSON_IsObject(in))
		return wsr_check_fail(c, NULL, "a workspace type reference is a map {name, path}");
	int rc = wsr_check_only_keys(c, in, ref_keys);
	if (!rc)
		rc = name_path(c, in, &name, &path);
	if (rc)
		return rc;
	if (!(*out = cJSON_CreateObject()) || add_str(*out, "name", name) ||
	    add_str(*out, "path", path)) {
		cJSON_Delete(*out);
		*out = NULL;
		return WSR_ENOMEM;
	}
	return 0;
}

/* One entry of a list of references (allowedParents, allowedChildren). */
static int check_ref_entry(wsr_check *c, const cJSON *in, cJSON *arr, const cJSON *ctx)
{
	(void)ctx;
	cJSON *r;
	int rc = check_ref(c, in, &r);
	if (!rc && find_ref(arr, r))
		rc = wsr_check_fail(c, NULL, "this type is listed twice");
	if (!rc && !cJSON_AddItemToArray(arr, r))
		rc = WSR_ENOMEM;
	if (rc)
		cJSON_Delete(r);
	return rc;
}

static int check_type(wsr_check *c, const cJSON *in, cJSON *arr, const cJSON *ctx)
{
	(void)ctx;
	const char *name = NULL, *path = NULL;
	const cJSON *dct = cJSON_GetObjectItemCaseSensitive(in, "defaultChildType");
	cJSON *t = cJSON_CreateObject(), *use = NULL, *ref = NULL;
	double ms = 0;
	int none = 0;
	int rc = t ? wsr_check_only_keys(c, in, type_keys) : WSR_ENOMEM;
	if (!rc)
		rc = name_path(c, in, &name, &path);
	if (!rc && !(rc = add_str(t, "name", name)))
		rc = add_str(t, "path", path);
	if (!rc && strcmp(name, "root") == 0 && strcmp(path, "root") == 0)
		rc = wsr_check_fail(c, "name",
				    "root:root is the root workspace's own type; it "
				    "always exists and is not listed");
	if (!rc && find_ref(arr, t))
		rc = wsr_check_fail(c, "name", "workspace type %s:%s is listed twice", path, name);
	if (!rc && !(rc = wsr_check_list(c, in, "use", NULL, NULL, &use)))
		rc = add_item(t, "use", use);
	if (!rc)
		rc = wsr_check_whole(c, in, "initializeMs", 0, WSR_KCPSIM_MAX_MS, 0, &ms);
	if (!rc && !cJSON_AddNumberToObject(t, "initializeMs", ms))
		rc = WSR_ENOMEM;
	if (!rc && dct && !cJSON_IsNull(dct)) {
		wsr_check_push(c, "defaultChildType", 0);
		if (!(rc = check_ref(c, dct, &ref)))
			rc = add_item(t, "defaultChildType", ref);
		wsr_check_pop(c);
	}
	if (!rc)
		rc = wsr_check_each(c, in, "allowedParents", t, check_ref_entry, NULL);
	if (!rc)
		rc = wsr_check_each(c, in, "allowedChildren", t, check_ref_entry, NULL);
	if (!rc)
		rc = wsr_check_bool(c, in, "noChildren", 0, &none);
	if (!rc && none && cJSON_GetArraySize(wsr_json_arr(t, "allowedChildren")) > 0)
		rc = wsr_check_fail(c, "noChildren",
				    "noChildren and allowedChildren exclude each other");
	if (!rc && !cJSON_AddBoolToObject(t, "noChildren", none))
		rc = WSR_ENOMEM;
	if (!rc && !cJSON_AddItemToArray(arr, t))
		rc = WSR_ENOMEM;
	if (rc)
		cJSON_Delete(t);
	return rc;
}

/* The path of path's parent into out ("root:acme" for "root:acme:team-a"). */
static void parent_of(char *out, const char *path)
{
	const char *colon = strrchr(path, ':');
	size_t n = colon ? (size_t)(colon - path) : 0;
	memcpy(out, path, n);
	out[n] = '\0';
}

static int check_ws(wsr_check *c, const cJSON *in, cJSON *arr, const cJSON *ctx)
{
	(void)ctx;
	const char *path = NULL;
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(in, "type");
	char parent[WSR_KCPSIM_PATH_MAX + 1];
	cJSON *w = cJSON_CreateObject(), *ref = NULL;
	wsr_kcpsim_invalid inv = {NULL, 0, 0};
	int rc = w ? wsr_check_only_keys(c, in, ws_keys) : WSR_ENOMEM;
	if (!rc)
		rc = wsr_check_str(c, in, "path", &path);
	if (!rc && (!wsr_kcpsim_path_valid(path) || !strchr(path, ':')))
		rc = wsr_check_fail(c, "path",
				    "%.200s is not the path of a workspace below root "
				    "(names joined with ':', at most %d bytes)",
				    path, WSR_KCPSIM_PATH_MAX);
	if (!rc && wsr_check_find(arr, "path", path))
		rc = wsr_check_fail(c, "path", "workspace %s is listed twice", path);
	if (!rc)
		parent_of(parent, path);
	if (!rc && strcmp(parent, "root") != 0 && !wsr_check_find(arr, "path", parent))
		rc = wsr_check_fail(c, "path", "its parent %s is not listed before it", parent);
	if (!rc)
		rc = add_str(w, "path", path);
	if (!rc && type && !cJSON_IsNull(type)) {
		wsr_check_push(c, "type", 0);
		if (!(rc = check_ref(c, type, &ref)))
			rc = add_item(w, "type", ref);
		wsr_check_pop(c);
	}
	if (!rc) {
		const cJSON *labels = cJSON_GetObjectItemCaseSensitive(in, "labels");
		wsr_kcpsim_labels_check(labels, "labels", &inv);
		if (inv.n)
			rc = wsr_check_fail(c, "labels", "%s",
					    cJSON_GetStringValue(
						cJSON_GetObjectItem(inv.causes->child, "message")));
		else
			rc = add_item(w, "labels",
				      labels && !cJSON_IsNull(labels) ? cJSON_Duplicate(labels, 1)
								      : cJSON_CreateObject());
	}
	wsr_kcpsim_invalid_free(&inv);
	if (!rc && !cJSON_AddItemToArray(arr, w))
		rc = WSR_ENOMEM;
	if (rc)
		cJSON_Delete(w);
	return rc;
}

/* The type ref names among types and root's own; NULL when undefined. */
static const cJSON *type_of(const cJSON *types, const cJSON *root, const cJSON *ref)
{
	return wsr_kcpsim_ref_eq(root, ref) ? root : find_ref(types, ref);
}

/* Every type a type names is defined, and its workspace exists. */
static int check_type_refs(wsr_check *c, const cJSON *p, const cJSON *root)
{
	static const char *const lists[] = {"allowedParents", "allowedChildren", NULL};
	const cJSON *types = wsr_json_arr(p, "types"), *t, *it;
	char r[WSR_KCPSIM_REF_MAX];
	int i = 0, rc = 0;
	wsr_check_push(c, "types", 0);
	for (t = types ? types->child : NULL; t && !rc; t = t->next, i++) {
		const char *path = wsr_json_str(t, "path");
		const cJSON *d = wsr_json_obj(t, "defaultChildType");
		wsr_check_push(c, NULL, i);
		if (strcmp(path, "root") != 0 &&
		    !wsr_check_find(wsr_json_arr(p, "workspaces"), "path", path))
			rc = wsr_check_fail(c, "path", "workspace %.200s is not in workspaces",
					    path);
		if (!rc && d && !type_of(types, root, d)) {
			wsr_kcpsim_ref(r, d);
			rc = wsr_check_fail(c, "defaultChildType",
					    "workspace type %s is not defined", r);
		}
		for (int l = 0; !rc && lists[l]; l++) {
			int j = 0;
			cJSON_ArrayForEach(it, wsr_json_arr(t, lists[l]))
			{
				if (!rc && !type_of(types, root, it)) {
					wsr_kcpsim_ref(r, it);
					rc = wsr_check_fail_entry(
					    c, lists[l], j, "workspace type %s is not defined", r);
				}
				j++;
			}
		}
		wsr_check_pop(c);
	}
	wsr_check_pop(c);
	return rc;
}

/* Each seeded workspace gets its type (the default when it names none),
 * which must exist and fit its parent's. */
static int check_ws_types(wsr_check *c, cJSON *p, const cJSON *root)
{
	const cJSON *types = wsr_json_arr(p, "types");
	cJSON *wss = cJSON_GetObjectItemCaseSensitive(p, "workspaces"), *w;
	char parent[WSR_KCPSIM_PATH_MAX + 1], r[WSR_KCPSIM_REF_MAX], why[WSR_KCPSIM_WHY_MAX];
	int i = 0, rc = 0;
	wsr_check_push(c, "workspaces", 0);
	for (w = wss ? wss->child : NULL; w && !rc; w = w->next, i++) {
		wsr_check_push(c, NULL, i);
		parent_of(parent, wsr_json_str(w, "path"));
		const cJSON *pw = wsr_check_find(wss, "path", parent);
		const cJSON *ptype = pw ? type_of(types, root, wsr_json_obj(pw, "type")) : root;
		const cJSON *given = wsr_json_obj(w, "type"), *type;
		if (!given) {
			cJSON *d = wsr_kcpsim_default_type(ptype);
			if (!d || !cJSON_AddItemToObject(w, "type", d)) {
				cJSON_Delete(d);
				rc = WSR_ENOMEM;
			}
		}
		const char *at = given ? "type" : "path";
		if (!rc && !(type = type_of(types, root, wsr_json_obj(w, "type")))) {
			wsr_kcpsim_ref(r, wsr_json_obj(w, "type"));
			rc = wsr_check_fail(c, at, "workspace type %s does not exist", r);
		}
		if (!rc && wsr_kcpsim_type_fits(ptype, type, why))
			rc = wsr_check_fail(c, at, "%s", why);
		wsr_check_pop(c);
	}
	wsr_check_pop(c);
	return rc;
}

static int check_types(wsr_check *c, const cJSON *in, cJSON *p)
{
	if (cJSON_GetObjectItemCaseSensitive(in, "types"))
		return wsr_check_each(c, in, "types", p, check_type, NULL);
	/* the standard types, checked like a seed's so they come out the same */
	cJSON *std = cJSON_CreateObject();
	cJSON *list = std ? cJSON_Parse(standard_types) : NULL;
	int rc = list && cJSON_AddItemToObject(std, "types", list) ? 0 : WSR_ENOMEM;
	if (rc)
		cJSON_Delete(list);
	else
		rc = wsr_check_each(c, std, "types", p, check_type, NULL);
	cJSON_Delete(std);
	return rc;
}

int wsr_kcpsim_seed_check(cJSON **out, const cJSON *in, wsr_check_err *e)
{
	wsr_check c;
	wsr_check_init(&c, e);
	*out = NULL;
	if (!cJSON_IsObject(in))
		return wsr_check_fail(&c, NULL,
				      "a seed is a map with users, and optionally types "
				      "and workspaces");
	cJSON *p = cJSON_CreateObject(), *root = wsr_kcpsim_root_type_new();
	double page = 0, sched = 0, del = 0, ttl = 0;
	int rc = p && root ? wsr_check_only_keys(&c, in, top_keys) : WSR_ENOMEM;
	if (!rc)
		rc = wsr_check_whole(&c, in, "maxPageSize", 1, WSR_KCPSIM_PAGE_MAX,
				     WSR_KCPSIM_PAGE_MAX, &page);
	if (!rc)
		rc = wsr_check_whole(&c, in, "schedulingMs", 0, WSR_KCPSIM_MAX_MS, 0, &sched);
	if (!rc)
		rc = wsr_check_whole(&c, in, "deletionMs", 0, WSR_KCPSIM_MAX_MS, 0, &del);
	if (!rc) /* 0: continue tokens never expire by age */
		rc = wsr_check_whole(&c, in, "continueTtlMs", 0, WSR_KCPSIM_MAX_MS, 0, &ttl);
	if (!rc && !cJSON_AddNumberToObject(p, "continueTtlMs", ttl))
		rc = WSR_ENOMEM;
	if (!rc && (!cJSON_AddNumberToObject(p, "maxPageSize", page) ||
		    !cJSON_AddNumberToObject(p, "schedulingMs", sched) ||
		    !cJSON_AddNumberToObject(p, "deletionMs", del)))
		rc = WSR_ENOMEM;
	if (!rc && !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(in, "users")))
		rc = cJSON_GetObjectItemCaseSensitive(in, "users")
			 ? wsr_check_fail(&c, "users", "users must be a list")
			 : wsr_check_fail(&c, NULL, "missing field users");
	if (!rc)
		rc = wsr_check_each(&c, in, "users", p, check_user, NULL);
	if (!rc)
		rc = check_types(&c, in, p);
	if (!rc)
		rc = wsr_check_each(&c, in, "workspaces", p, check_ws, NULL);
	if (!rc)
		rc = check_type_refs(&c, p, root);
	if (!rc)
		rc = check_ws_types(&c, p, root);
	cJSON_Delete(root);
	if (rc) {
		cJSON_Delete(p);
		return rc;
	}
	*out = p;
	return 0;
}

int wsr_kcpsim_seed_parse(cJSON **out, const char *name, const char *text, size_t len, char **err)
{
	return wsr_sim_seed_parse(out, name, text, len, wsr_kcpsim_seed_check, err);
}

int wsr_kcpsim_seed_load(cJSON **out, const char *path, char **err)
{
	return wsr_sim_seed_load(out, path, WSR_KCPSIM_BUILTIN_SEED, wsr_kcpsim_seed_check, err);
}
