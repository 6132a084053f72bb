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
#include "sim/kcp/typerules.h"
#include "sim/seed.h"

/* kcp's default root configuration (config/root/workspacetype-*.yaml with
 * the workspace-types battery), used when a seed lists no types. Only
 * universal has an initializer; the others inherit it by extending it. */
static const char standard_types[] =
    "[{\"name\":\"root\",\"extends\":[{\"name\":\"universal\"}],"
    "\"defaultChildType\":{\"name\":\"organization\"},\"noParents\":true},"
    "{\"name\":\"universal\",\"use\":[\"system:authenticated\"],\"initializeMs\":100},"
    "{\"name\":\"organization\",\"use\":[\"system:authenticated\"],"
    "\"extends\":[{\"name\":\"universal\"}],\"defaultChildType\":{\"name\":\"universal\"},"
    "\"allowedParents\":[{\"name\":\"root\"}],\"allowedChildren\":[{\"name\":\"universal\"}]},"
    "{\"name\":\"team\",\"use\":[\"system:authenticated\"],\"extends\":[{\"name\":\"universal\"}],"
    "\"defaultChildType\":{\"name\":\"universal\"},"
    "\"allowedParents\":[{\"name\":\"organization\"},{\"name\":\"team\"}]},"
    "{\"name\":\"home\",\"extends\":[{\"name\":\"universal\"}],"
    "\"defaultChildType\":{\"name\":\"universal\"},\"noParents\":true}]";

/* root's type when a seed lists types but not root:root: kcp's without the
 * workspace-types battery (no default child type), extending universal
 * when the seed defines it. */
static const char plain_root[] = "{\"name\":\"root\",\"noParents\":true}";

static const char *const top_keys[] = {
    "maxPageSize",	 "schedulingMs", "terminatingMs", "deletionMs", "homes",
    "homeCreatorGroups", "users",	 "types",	  "workspaces", NULL};
static const char *const user_keys[] = {"name", "token", "groups", NULL};
static const char *const ref_keys[] = {"name", "path", NULL};
static const char *const type_keys[] = {"name",
					"path",
					"use",
					"initializeMs",
					"extends",
					"defaultChildType",
					"noParents",
					"allowedParents",
					"allowedChildren",
					"noChildren",
					NULL};
static const char *const ws_keys[] = {"path", "type", "labels", "phase", NULL};
static const char *const phase_names[] = {"Scheduling", "Initializing", "Ready",    "Unavailable",
					  "Inactive",	"Terminating",	"Deleting", NULL};

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

/* An optional list of references under key into t[key] ([] when absent). */
static int ref_list(wsr_check *c, const cJSON *in, cJSON *t, const char *key)
{
	int rc = wsr_check_each(c, in, key, t, check_ref_entry, NULL);
	if (!rc && !cJSON_GetObjectItemCaseSensitive(t, key))
		rc = add_item(t, key, cJSON_CreateArray());
	return rc;
}

/* A flag that excludes a list: noParents and allowedParents, say. */
static int flag_excluding(wsr_check *c, const cJSON *in, cJSON *t, const char *flag,
			  const char *list)
{
	int on = 0;
	int rc = wsr_check_bool(c, in, flag, 0, &on);
	if (!rc && on && cJSON_GetArraySize(wsr_json_arr(t, list)) > 0)
		rc = wsr_check_fail(c, flag, "%s and %s exclude each other", flag, list);
	if (!rc && !cJSON_AddBoolToObject(t, flag, on))
		rc = WSR_ENOMEM;
	return rc;
}

static int check_type(wsr_check *c, const cJSON *in, cJSON *arr, const cJSON *ctx)
{
	(void)ctx;
	const char *name = NULL, *path = NULL;
	const cJSON *dct = cJSON_GetObjectItemCaseSensitive(in, "defaultChildType");
	cJSON *t = cJSON_CreateObject(), *use = NULL, *ref = NULL;
	double ms = 0;
	int rc = t ? wsr_check_only_keys(c, in, type_keys) : WSR_ENOMEM;
	if (!rc)
		rc = name_path(c, in, &name, &path);
	if (!rc && !(rc = add_str(t, "name", name)))
		rc = add_str(t, "path", path);
	if (!rc && find_ref(arr, t))
		rc = wsr_check_fail(c, "name", "workspace type %s:%s is listed twice", path, name);
	if (!rc && !(rc = wsr_check_list(c, in, "use", NULL, NULL, &use)))
		rc = add_item(t, "use", use);
	if (!rc)
		rc = wsr_check_whole(c, in, "initializeMs", 0, WSR_KCPSIM_MAX_MS, 0, &ms);
	if (!rc && !cJSON_AddNumberToObject(t, "initializeMs", ms))
		rc = WSR_ENOMEM;
	if (!rc)
		rc = ref_list(c, in, t, "extends");
	if (!rc && dct && !cJSON_IsNull(dct)) {
		wsr_check_push(c, "defaultChildType", 0);
		if (!(rc = check_ref(c, dct, &ref)))
			rc = add_item(t, "defaultChildType", ref);
		wsr_check_pop(c);
	}
	if (!rc)
		rc = ref_list(c, in, t, "allowedParents");
	if (!rc)
		rc = flag_excluding(c, in, t, "noParents", "allowedParents");
	if (!rc)
		rc = ref_list(c, in, t, "allowedChildren");
	if (!rc)
		rc = flag_excluding(c, in, t, "noChildren", "allowedChildren");
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

/* A seeded workspace's phase: one of kcp's seven, Ready when absent. */
static int check_phase(wsr_check *c, const cJSON *in, cJSON *w)
{
	const char *phase = "Ready";
	int rc = cJSON_GetObjectItemCaseSensitive(in, "phase")
		     ? wsr_check_str(c, in, "phase", &phase)
		     : 0;
	int i = 0;
	while (!rc && phase_names[i] && strcmp(phase_names[i], phase) != 0)
		i++;
	if (!rc && !phase_names[i])
		rc = wsr_check_fail(c, "phase",
				    "%.100s is not a phase (Scheduling, Initializing, Ready, "
				    "Unavailable, Inactive, Terminating, Deleting)",
				    phase);
	return rc ? rc : add_str(w, "phase", phase);
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
		if (!(rc = check_ref(c, type, &ref))) {
			/* without a path it is resolved upward later, as the API does */
			if (!cJSON_GetObjectItemCaseSensitive(type, "path"))
				cJSON_DeleteItemFromObjectCaseSensitive(ref, "path");
			rc = add_item(w, "type", ref);
		}
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
	if (!rc)
		rc = check_phase(c, in, w);
	if (!rc && !cJSON_AddItemToArray(arr, w))
		rc = WSR_ENOMEM;
	if (rc)
		cJSON_Delete(w);
	return rc;
}

/* The seed's types, found by (path, name) for the type rules. */
static const cJSON *seed_type(void *ctx, const char *path, const char *name)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, (const cJSON *)ctx)
	{
		const char *p = wsr_json_str(it, "path"), *n = wsr_json_str(it, "name");
		if (path && name && strcmp(p, path) == 0 && strcmp(n, name) == 0)
			return it;
	}
	return NULL;
}

/* Adds root:root as kcp has it without the workspace-types battery. */
static int add_plain_root(wsr_check *c, cJSON *types)
{
	cJSON *root = cJSON_Parse(plain_root);
	int rc = root ? 0 : WSR_ENOMEM;
	if (!rc && seed_type(types, "root", "universal"))
		rc = add_item(root, "extends",
			      cJSON_Parse("[{\"name\":\"universal\",\"path\":\"root\"}]"));
	/* checked like a listed type, so it is normalized the same way */
	if (!rc)
		rc = check_type(c, root, types, NULL);
	cJSON_Delete(root);
	return rc;
}

/* The numbers and the home settings at the top of a seed. */
static int check_settings(wsr_check *c, const cJSON *in, cJSON *p)
{
	double page = 0, sched = 0, term = 0, del = 0;
	const char *homes = "logicalcluster";
	cJSON *groups = NULL;
	int rc = wsr_check_whole(c, in, "maxPageSize", 1, WSR_KCPSIM_PAGE_MAX, WSR_KCPSIM_PAGE_MAX,
				 &page);
	if (!rc)
		rc = wsr_check_whole(c, in, "schedulingMs", 0, WSR_KCPSIM_MAX_MS, 0, &sched);
	if (!rc)
		rc = wsr_check_whole(c, in, "terminatingMs", 0, WSR_KCPSIM_MAX_MS, 0, &term);
	if (!rc)
		rc = wsr_check_whole(c, in, "deletionMs", 0, WSR_KCPSIM_MAX_MS, 0, &del);
	if (!rc && (!cJSON_AddNumberToObject(p, "maxPageSize", page) ||
		    !cJSON_AddNumberToObject(p, "schedulingMs", sched) ||
		    !cJSON_AddNumberToObject(p, "terminatingMs", term) ||
		    !cJSON_AddNumberToObject(p, "deletionMs", del)))
		rc = WSR_ENOMEM;
	if (!rc && cJSON_GetObjectItemCaseSensitive(in, "homes"))
		rc = wsr_check_str(c, in, "homes", &homes);
	if (!rc && strcmp(homes, "logicalcluster") != 0 && strcmp(homes, "buckets") != 0)
		rc = wsr_check_fail(c, "homes", "%.100s is not logicalcluster or buckets", homes);
	if (!rc)
		rc = add_str(p, "homes", homes);
	if (!rc && cJSON_GetObjectItemCaseSensitive(in, "homeCreatorGroups"))
		rc = wsr_check_list(c, in, "homeCreatorGroups", NULL, NULL, &groups);
	else if (!rc)
		rc = (groups = cJSON_Parse("[\"system:authenticated\"]")) ? 0 : WSR_ENOMEM;
	if (!rc)
		rc = add_item(p, "homeCreatorGroups", groups);
	return rc;
}

/* One list of references of type t (at entry i) names defined types. */
static int check_defined(wsr_check *c, const cJSON *types, const cJSON *t, const char *list)
{
	const cJSON *it;
	char r[WSR_KCPSIM_REF_MAX];
	int j = 0;
	cJSON_ArrayForEach(it, wsr_json_arr(t, list))
	{
		if (!find_ref(types, it)) {
			wsr_kcpsim_ref(r, it);
			return wsr_check_fail_entry(c, list, j, "workspace type %s is not defined",
						    r);
		}
		j++;
	}
	return 0;
}

/* Every type a type names is defined, its workspace exists, and its
 * extends make no cycle and not too many aliases. */
static int check_type_refs(wsr_check *c, const cJSON *p)
{
	static const char *const lists[] = {"extends", "allowedParents", "allowedChildren", NULL};
	const cJSON *types = wsr_json_arr(p, "types"), *t;
	const wsr_kcpsim_types tr = {seed_type, (void *)types};
	const cJSON *aliases[WSR_KCPSIM_ALIASES_MAX];
	char r[WSR_KCPSIM_REF_MAX], why[WSR_KCPSIM_WHY_MAX];
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
		if (!rc && d && !find_ref(types, d)) {
			wsr_kcpsim_ref(r, d);
			rc = wsr_check_fail(c, "defaultChildType",
					    "workspace type %s is not defined", r);
		}
		for (int l = 0; !rc && lists[l]; l++)
			rc = check_defined(c, types, t, lists[l]);
		if (!rc && wsr_kcpsim_aliases(&tr, t, aliases, why) < 0)
			rc = wsr_check_fail(c, "extends", "%s", why);
		wsr_check_pop(c);
	}
	wsr_check_pop(c);
	return rc;
}

/* Gives w its type: the one it names, resolved as the API would from its
 * parent (upward to root without a path), or its parent type's default. */
static int ws_type(wsr_check *c, const wsr_kcpsim_types *tr, cJSON *w, const char *parent,
		   const cJSON *ptype, const cJSON **type)
{
	const cJSON *given = wsr_json_obj(w, "type");
	char r[WSR_KCPSIM_REF_MAX];
	*type = NULL;
	if (!given && !wsr_json_obj(ptype, "defaultChildType")) {
		wsr_kcpsim_ref(r, ptype);
		return wsr_check_fail(c, "path",
				      "workspace type %s has no defaultChildType: give this "
				      "workspace a type",
				      r);
	}
	const cJSON *ref = given ? given : wsr_json_obj(ptype, "defaultChildType");
	if (!(*type = wsr_kcpsim_type_resolve(tr, parent, ref))) {
		wsr_kcpsim_ref(r, ref);
		return wsr_check_fail(
		    c, given ? "type" : "path", "workspace type %s does not exist",
		    given && !wsr_json_str(given, "path") ? wsr_json_str(given, "name") : r);
	}
	/* stored with the path of the workspace that holds it, as kcp does */
	cJSON *canon = cJSON_CreateObject();
	if (!canon || add_str(canon, "name", wsr_json_str(*type, "name")) ||
	    add_str(canon, "path", wsr_json_str(*type, "path"))) {
		cJSON_Delete(canon);
		return WSR_ENOMEM;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(w, "type");
	return add_item(w, "type", canon);
}

/* Each seeded workspace gets its type, which must fit its parent's. */
static int check_ws_types(wsr_check *c, cJSON *p)
{
	const cJSON *types = wsr_json_arr(p, "types");
	const wsr_kcpsim_types tr = {seed_type, (void *)types};
	const cJSON *root = seed_type((void *)types, "root", "root");
	cJSON *wss = cJSON_GetObjectItemCaseSensitive(p, "workspaces"), *w;
	char parent[WSR_KCPSIM_PATH_MAX + 1], why[WSR_KCPSIM_WHY_MAX];
	int i = 0, rc = 0;
	wsr_check_push(c, "workspaces", 0);
	for (w = wss ? wss->child : NULL; w && !rc; w = w->next, i++) {
		const cJSON *type;
		wsr_check_push(c, NULL, i);
		parent_of(parent, wsr_json_str(w, "path"));
		const cJSON *pw = wsr_check_find(wss, "path", parent);
		const cJSON *ptype = pw ? find_ref(types, wsr_json_obj(pw, "type")) : root;
		int given = wsr_json_obj(w, "type") != NULL;
		rc = ws_type(c, &tr, w, parent, ptype, &type);
		if (!rc && wsr_kcpsim_type_fits(&tr, ptype, type, why))
			rc = wsr_check_fail(c, given ? "type" : "path", "%s", why);
		wsr_check_pop(c);
	}
	wsr_check_pop(c);
	return rc;
}

/* The seed's types, or the standard ones, with root:root among them. */
static int check_types(wsr_check *c, const cJSON *in, cJSON *p)
{
	cJSON *std = NULL, *list = NULL;
	const cJSON *from = in;
	int rc = 0;
	if (!cJSON_GetObjectItemCaseSensitive(in, "types")) {
		/* checked like a seed's so they come out the same */
		std = cJSON_CreateObject();
		list = std ? cJSON_Parse(standard_types) : NULL;
		rc = list && cJSON_AddItemToObject(std, "types", list) ? 0 : WSR_ENOMEM;
		if (rc)
			cJSON_Delete(list);
		from = std;
	}
	if (!rc)
		rc = wsr_check_each(c, from, "types", p, check_type, NULL);
	cJSON *types = cJSON_GetObjectItemCaseSensitive(p, "types");
	if (!rc && !types)
		rc = (types = cJSON_AddArrayToObject(p, "types")) ? 0 : WSR_ENOMEM;
	if (!rc && !seed_type(types, "root", "root"))
		rc = add_plain_root(c, types);
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
	cJSON *p = cJSON_CreateObject();
	int rc = p ? wsr_check_only_keys(&c, in, top_keys) : WSR_ENOMEM;
	if (!rc)
		rc = check_settings(&c, in, p);
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
	if (!rc && !cJSON_GetObjectItemCaseSensitive(p, "workspaces"))
		rc = add_item(p, "workspaces", cJSON_CreateArray());
	if (!rc)
		rc = check_type_refs(&c, p);
	if (!rc)
		rc = check_ws_types(&c, p);
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
