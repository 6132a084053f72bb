/* map: the translation between kcp's Workspace object (and a
 * logicalcluster home's Workspace or LogicalCluster) and wsr's canonical
 * values, and the address rule (kcp/<path>, kcp/user:<name> for a home). Kept apart from the HTTP
 * calls because it is the one place that decides what a field means; every field the server sends
 * is checked for type here, so a hostile answer becomes a message naming the field, never a crash
 * or a silently missing field (which the diff would take for a change).
 *
 * The canonical value is document-shaped, as the loader makes the desired
 * side: {"metadata": {"labels"}?, "spec": {"parent", "type": {"name",
 * "path"}, "location"?}} for a Workspace, {} for a HomeWorkspace (a
 * workspace of type root:home, or a home logical cluster). No name: it is
 * part of the address. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "providers/kcp/kc.h"

int kc_name_ok(const char *s, size_t n)
{
	if (n < 1 || n > KC_NAME_MAX || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

int kc_path_ok(const char *path)
{
	size_t n = strnlen(path, KC_PATH_MAX + 1);
	if (n > KC_PATH_MAX || strncmp(path, "root", 4) != 0 || (path[4] && path[4] != ':'))
		return 0;
	for (size_t start = 0; start < n;) {
		const char *colon = memchr(path + start, ':', n - start);
		size_t end = colon ? (size_t)(colon - path) : n;
		if (!kc_name_ok(path + start, end - start) || (colon && end + 1 == n))
			return 0;
		start = end + 1;
	}
	return 1;
}

int kc_split_address(const char *address, char parent[KC_PATH_MAX + 1], char name[KC_NAME_MAX + 1])
{
	if (strncmp(address, "kcp/", 4) != 0 || !kc_path_ok(address + 4))
		return WSR_EINVAL;
	const char *path = address + 4, *colon = strrchr(path, ':');
	if (!colon)
		return WSR_EINVAL; /* root itself: no workspace wsr manages */
	memcpy(parent, path, (size_t)(colon - path));
	parent[colon - path] = '\0';
	strcpy(name, colon + 1);
	return 0;
}

int kc_is_user_home(const char *address)
{
	const char *user = address + 9;
	size_t n = 0;
	if (strncmp(address, "kcp/user:", 9) != 0)
		return 0;
	for (; user[n]; n++)
		if (!((user[n] >= 'a' && user[n] <= 'z') || (user[n] >= '0' && user[n] <= '9') ||
		      strchr("-_.@", user[n])))
			return 0;
	return n >= 1 && n <= KC_PATH_MAX - 5;
}

int wsr_kcp_parent(const char *kind, const char *address, char *buf, size_t n)
{
	char parent[KC_PATH_MAX + 1], name[KC_NAME_MAX + 1];
	if (n)
		buf[0] = '\0';
	int home = kind && strcmp(kind, WSR_KCP_KIND_HOME) == 0;
	if (home && kc_is_user_home(address))
		return n ? 0 : WSR_ELIMIT; /* a logical cluster without parent */
	if (!kind || (!home && strcmp(kind, WSR_KCP_KIND_WORKSPACE) != 0) ||
	    kc_split_address(address, parent, name) != 0)
		return WSR_EINVAL;
	if (home || !strchr(parent, ':'))
		return n ? 0 : WSR_ELIMIT;
	if (4 + strlen(parent) + 1 > n)
		return WSR_ELIMIT;
	memcpy(buf, "kcp/", 4);
	strcpy(buf + 4, parent);
	return 0;
}

int kc_type_key(char key[KC_TYPE_MAX + 1], const cJSON *ref)
{
	const char *name = wsr_json_str(ref, "name"), *path = wsr_json_str(ref, "path");
	/* checked here so a key is always safe in a URL and in a message */
	if (!name || !path || !kc_name_ok(name, strlen(name)) || !kc_path_ok(path))
		return WSR_EINVAL;
	snprintf(key, KC_TYPE_MAX + 1, "%s:%s", path, name);
	return 0;
}

/* ---- from the server ------------------------------------------------ */

/* A string map copied with its keys sorted (canonical to print); a wrong
 * shape is the platform's mistake. */
static int string_map(cJSON **out, const cJSON *m, const char *where, char **why)
{
	int rc = wsr_json_sorted_strings(out, m, where, why);
	return rc == WSR_EINVAL ? WSR_EAPI : rc;
}

/* obj[key] as an object: *out NULL when absent or null; *why when another type. */
static int sub_obj(const cJSON **out, const cJSON *obj, const char *key, const char *where,
		   char **why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsObject(v)) {
		*why = wsr_strdupf("field %s%s is not an object", where, key);
		return WSR_EAPI;
	}
	*out = v;
	return 0;
}

/* obj[key] as a string: *out NULL when absent or null (an error when
 * required); *why when another type. */
static int str_field(const char **out, const cJSON *obj, const char *key, int required,
		     const char *where, char **why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = cJSON_IsString(v) ? v->valuestring : NULL;
	if (*out || ((!v || cJSON_IsNull(v)) && !required))
		return 0;
	*why = wsr_strdupf("field %s%s is %s", where, key,
			   v && !cJSON_IsNull(v) ? "not a string" : "missing");
	return WSR_EAPI;
}

const char *kc_phase(const cJSON *ws)
{
	return wsr_json_str(wsr_json_obj(ws, "status"), "phase");
}

/* Adds dst[key] = v (taken even on failure). */
static int add(cJSON *dst, const char *key, cJSON *v)
{
	if (v && cJSON_AddItemToObject(dst, key, v))
		return 0;
	cJSON_Delete(v);
	return WSR_ENOMEM;
}

/* {"metadata": {"labels"}} when the workspace has labels. */
static int map_labels(cJSON *canon, const cJSON *meta, char **why)
{
	const cJSON *labels;
	cJSON *copy, *m;
	int rc = sub_obj(&labels, meta, "labels", "metadata.", why);
	if (rc || !labels || !labels->child)
		return rc;
	if ((rc = string_map(&copy, labels, "metadata.labels", why)))
		return rc;
	if ((rc = add(canon, "metadata", m = cJSON_CreateObject())))
		return cJSON_Delete(copy), rc;
	return add(m, "labels", copy);
}

/* location: {"selector": {"matchLabels"}} only when the server has one. */
static int map_location(cJSON *s, const cJSON *spec, char **why)
{
	const cJSON *loc, *sel = NULL, *ml = NULL;
	int rc = sub_obj(&loc, spec, "location", "spec.", why);
	if (!rc && loc)
		rc = sub_obj(&sel, loc, "selector", "spec.location.", why);
	if (!rc && sel)
		rc = sub_obj(&ml, sel, "matchLabels", "spec.location.selector.", why);
	if (rc || !loc || !loc->child)
		return rc;
	cJSON *l = cJSON_CreateObject(), *sl = NULL, *copy = NULL;
	if ((rc = add(s, "location", l)) || !sel)
		return rc;
	if ((rc = add(l, "selector", sl = cJSON_CreateObject())) || !ml)
		return rc;
	if ((rc = string_map(&copy, ml, "spec.location.selector.matchLabels", why)))
		return rc;
	return add(sl, "matchLabels", copy);
}

/* The type key of a Workspace and, when canon is not NULL, its canonical
 * value into canon. */
static int map_workspace(cJSON *canon, const cJSON *ws, const char *parent,
			 char key[KC_TYPE_MAX + 1], char **why)
{
	const cJSON *meta = wsr_json_obj(ws, "metadata"), *spec, *type;
	const char *tname = NULL, *tpath = NULL;
	int rc = sub_obj(&spec, ws, "spec", "", why);
	if (!rc && !spec)
		*why = wsr_strdupf("field spec is missing"), rc = WSR_EAPI;
	if (!rc && !(rc = sub_obj(&type, spec, "type", "spec.", why)) && !type)
		*why = wsr_strdupf("field spec.type is missing"), rc = WSR_EAPI;
	if (!rc)
		rc = str_field(&tname, type, "name", 1, "spec.type.", why);
	if (!rc)
		rc = str_field(&tpath, type, "path", 1, "spec.type.", why);
	if (!rc && kc_type_key(key, type)) {
		*why = wsr_strdupf("field spec.type is not a type name and path kcp accepts");
		rc = WSR_EAPI;
	}
	if (rc || !canon)
		return rc;
	cJSON *s = NULL, *t = NULL;
	rc = map_labels(canon, meta, why);
	if (!rc && !(rc = add(canon, "spec", s = cJSON_CreateObject())))
		rc = cJSON_AddStringToObject(s, "parent", parent) ? 0 : WSR_ENOMEM;
	if (!rc && !(rc = add(s, "type", t = cJSON_CreateObject())))
		rc = cJSON_AddStringToObject(t, "name", tname) &&
			     cJSON_AddStringToObject(t, "path", tpath)
			 ? 0
			 : WSR_ENOMEM;
	return rc ? rc : map_location(s, spec, why);
}

/* status: phase, URL, cluster, resourceVersion (each when the server has it). */
static int map_status(cJSON **out, const cJSON *ws, const char **cluster, char **why)
{
	const cJSON *st, *spec = wsr_json_obj(ws, "spec"), *meta = wsr_json_obj(ws, "metadata");
	const char *phase = NULL, *url = NULL, *rv = NULL;
	int rc = sub_obj(&st, ws, "status", "", why);
	if (!rc)
		rc = str_field(&phase, st, "phase", 1, "status.", why);
	if (!rc)
		rc = str_field(&url, spec, "URL", 0, "spec.", why);
	if (!rc)
		rc = str_field(cluster, spec, "cluster", 0, "spec.", why);
	if (!rc)
		rc = str_field(&rv, meta, "resourceVersion", 0, "metadata.", why);
	if (rc)
		return rc;
	const char *keys[] = {"phase", "URL", "cluster", "resourceVersion"};
	const char *vals[] = {phase, url, *cluster, rv};
	if (!(*out = cJSON_CreateObject()))
		return WSR_ENOMEM;
	for (int i = 0; i < 4; i++)
		if (vals[i] && !cJSON_AddStringToObject(*out, keys[i], vals[i]))
			return WSR_ENOMEM;
	return 0;
}

/* One condition kcp counts against a workspace: a "Workspace…" condition
 * whose status is "False" (kcp's updateTerminalConditionPhase). */
static int condition_against(const cJSON *c)
{
	const char *type = wsr_json_str(c, "type"), *status = wsr_json_str(c, "status");
	return type && status && strncmp(type, "Workspace", 9) == 0 && strcmp(status, "False") == 0;
}

/* Appends what one condition says: `WorkspaceScheduled is False
 * (Unschedulable: no shard matches)`, each part quoted safely. */
static void say_condition(wsr_buf *b, const cJSON *c)
{
	char t[WSR_DIAG_SHORT_SIZE], r[WSR_DIAG_SHORT_SIZE], m[WSR_DIAG_SHORT_SIZE];
	const char *reason = wsr_json_str(c, "reason"), *msg = wsr_json_str(c, "message");
	wsr_buf_printf(b, "%s is False", wsr_diag_short(t, sizeof(t), wsr_json_str(c, "type")));
	if (reason || msg)
		wsr_buf_printf(b, " (%s%s%s)", wsr_diag_short(r, sizeof(r), reason),
			       reason && msg ? ": " : "", wsr_diag_short(m, sizeof(m), msg));
}

/* kcp's phase Unavailable: a workspace kcp took out of service because one
 * of its Workspace… conditions is False (kcp-dev/kcp
 * pkg/reconciler/tenancy/workspace/workspace_reconcile_phase.go), and that
 * kcp returns to Ready by itself once none is. wsr cannot repair it through
 * the API: deleting and creating it again would destroy what it holds. The
 * other phases are working or on their way (Scheduling, Initializing),
 * chosen by an administrator (Inactive), or going (Terminating, Deleting). */
int kc_unavailable(char **why, const cJSON *obj)
{
	const cJSON *st = wsr_json_obj(obj, "status"), *c;
	const cJSON *conds = cJSON_GetObjectItemCaseSensitive(st, "conditions");
	if (!cJSON_IsArray(conds))
		conds = NULL;
	const char *phase = wsr_json_str(st, "phase");
	*why = NULL;
	if (!phase || strcmp(phase, "Unavailable") != 0)
		return 0;
	wsr_buf b = WSR_BUF_INIT;
	size_t n = 0;
	wsr_buf_puts(&b, "kcp reports the workspace Unavailable");
	cJSON_ArrayForEach(c, conds)
	{
		if (!condition_against(c))
			continue;
		if (n < KC_CONDITIONS_SHOWN) {
			wsr_buf_puts(&b, n ? "; " : ": ");
			say_condition(&b, c);
		}
		n++;
	}
	if (n > KC_CONDITIONS_SHOWN)
		wsr_buf_printf(&b, "; and %zu more", n - KC_CONDITIONS_SHOWN);
	if (!n)
		wsr_buf_puts(&b, " (no Workspace condition says why)");
	*why = wsr_buf_detach(&b);
	return *why ? 0 : WSR_ENOMEM;
}

/* Sets r->health from obj's phase: only Unavailable is broken (above). */
static int kc_health(wsr_resource *r, const cJSON *obj)
{
	int rc = kc_unavailable(&r->health_why, obj);
	if (r->health_why)
		r->health = WSR_HEALTH_BROKEN;
	return rc;
}

int kc_workspace_to_resource(wsr_resource **out, const cJSON *ws, const char *parent, char **why)
{
	*out = NULL;
	*why = NULL;
	const cJSON *meta = NULL;
	const char *name = NULL, *cluster = NULL;
	int rc = cJSON_IsObject(ws) ? sub_obj(&meta, ws, "metadata", "", why) : WSR_EAPI;
	if (!rc)
		rc = str_field(&name, meta, "name", 1, "metadata.", why);
	if (!rc && !kc_name_ok(name, strlen(name))) {
		*why = wsr_strdupf("field metadata.name is not a workspace name kcp accepts");
		rc = WSR_EAPI;
	}
	if (rc) {
		if (!*why)
			*why = wsr_strdupf("a workspace must be an object with metadata.name");
		return rc;
	}
	char key[KC_TYPE_MAX + 1], *address = wsr_strdupf("kcp/%s:%s", parent, name);
	if (!address)
		return WSR_ENOMEM;
	/* the type decides the kind, so it is read first */
	rc = map_workspace(NULL, ws, parent, key, why);
	int home = !rc && strcmp(key, "root:home") == 0;
	wsr_resource *r =
	    rc ? NULL
	       : wsr_resource_new(address, "kcp", home ? WSR_KCP_KIND_HOME : WSR_KCP_KIND_WORKSPACE,
				  name);
	free(address);
	if (!rc && !(r && (r->spec = cJSON_CreateObject())))
		rc = WSR_ENOMEM;
	if (!rc && !home)
		rc = map_workspace(r->spec, ws, parent, key, why);
	if (!rc)
		rc = map_status(&r->status, ws, &cluster, why);
	if (!rc && cluster && !(r->id = strdup(cluster)))
		rc = WSR_ENOMEM;
	if (!rc)
		rc = kc_health(r, ws);
	if (rc) {
		if (*why) { /* name the workspace the bad field belongs to */
			char *w = wsr_strdupf("workspace %s:%s: %s", parent, name, *why);
			free(*why);
			*why = w;
		}
		wsr_resource_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* ---- to the server ---------------------------------------------------- */

cJSON *kc_create_body(const char *name, const char *type_name, const char *type_path,
		      const cJSON *spec)
{
	const cJSON *labels = wsr_json_path(spec, "metadata.labels");
	const cJSON *loc = wsr_json_path(spec, "spec.location");
	cJSON *b = cJSON_CreateObject(), *m = NULL, *s = NULL, *t = NULL;
	int rc = b && cJSON_AddStringToObject(b, "apiVersion", KC_API_VERSION) &&
			 cJSON_AddStringToObject(b, "kind", "Workspace")
		     ? 0
		     : WSR_ENOMEM;
	if (!rc && !(rc = add(b, "metadata", m = cJSON_CreateObject())))
		rc = cJSON_AddStringToObject(m, "name", name) ? 0 : WSR_ENOMEM;
	if (!rc && cJSON_IsObject(labels) && labels->child)
		rc = add(m, "labels", cJSON_Duplicate(labels, 1));
	if (!rc)
		rc = add(b, "spec", s = cJSON_CreateObject());
	if (!rc && type_name && !(rc = add(s, "type", t = cJSON_CreateObject())))
		rc = cJSON_AddStringToObject(t, "name", type_name) &&
			     (!type_path || cJSON_AddStringToObject(t, "path", type_path))
			 ? 0
			 : WSR_ENOMEM;
	if (!rc && cJSON_IsObject(loc) && loc->child)
		rc = add(s, "location", cJSON_Duplicate(loc, 1));
	if (rc) {
		cJSON_Delete(b);
		return NULL;
	}
	return b;
}

/* ---- home workspaces (logicalcluster style) --------------------------- */

int kc_home_resource(wsr_resource **out, const char *user, const cJSON *obj, char **why)
{
	const cJSON *st = wsr_json_obj(obj, "status"), *spec = wsr_json_obj(obj, "spec");
	const cJSON *ann = wsr_json_obj(wsr_json_obj(obj, "metadata"), "annotations");
	const char *phase = wsr_json_str(st, "phase");
	const char *url =
	    wsr_json_str(spec, "URL") ? wsr_json_str(spec, "URL") : wsr_json_str(st, "URL");
	const char *cluster = wsr_json_str(spec, "cluster") ? wsr_json_str(spec, "cluster")
							    : wsr_json_str(ann, "kcp.io/cluster");
	char *address = wsr_strdupf("kcp/user:%s", user);
	wsr_resource *r = NULL;
	int rc = address ? 0 : WSR_ENOMEM;
	*out = NULL;
	*why = NULL;
	if (!rc && (!cJSON_IsObject(obj) || !phase)) {
		*why = wsr_strdupf("the home of %s: field status.phase is missing or not a string",
				   user);
		rc = WSR_EAPI;
	}
	if (!rc && !(r = wsr_resource_new(address, "kcp", WSR_KCP_KIND_HOME, user)))
		rc = WSR_ENOMEM;
	if (!rc && (!(r->spec = cJSON_CreateObject()) || !(r->status = cJSON_CreateObject()) ||
		    !cJSON_AddStringToObject(r->status, "phase", phase) ||
		    (url && !cJSON_AddStringToObject(r->status, "URL", url)) ||
		    (cluster && (!cJSON_AddStringToObject(r->status, "cluster", cluster) ||
				 !(r->id = strdup(cluster))))))
		rc = WSR_ENOMEM;
	if (!rc)
		rc = kc_health(r, obj);
	free(address);
	if (rc) {
		wsr_resource_free(r);
		return rc;
	}
	*out = r;
	return 0;
}
