/* ws_write: the workspace handlers that change something: create (with
 * admission in the documented order), update (PUT, and PATCH as a merge
 * patch turned into the same update), the status subresource, and delete.
 * An update builds the new object from the stored one and the client's
 * parts only, so the server's fields (uid, cluster, times, status on the
 * main resource) stay the server's. */
#include "sim/kcp/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "sim/kcp/admission.h"
#include "sim/kcp/seed.h"
#include "sim/kcp/status.h"
#include "sim/kcp/typerules.h"
#include "sim/merge.h"

/* The annotation /_sim/conflicts sets on the workspace it touches. */
#define TOUCHED "sim.wsr.dev/touched"
/* kcp's annotation of who created a workspace. */
#define OWNER "experimental.tenancy.kcp.io/owner"

/* An admission refusal, as Kubernetes words one (admission.NewForbidden). */
static void forbidden(wsr_kcpsim_call *c, const char *name, const char *msg)
{
	wsr_kcpsim_fail(c->resp, 403, NULL, wsr_kcpsim_details(name, "workspaces"),
			"workspaces.tenancy.kcp.io \"%.63s\" is forbidden: %s", name, msg);
}

/* ?fieldValidation=Strict (kubectl's default) refuses a field the API does
 * not know; otherwise unknown fields are dropped, as with Ignore. 0, or -1
 * after answering 400. */
static int strict(wsr_kcpsim_call *c, const cJSON *in)
{
	char f[WSR_KCPSIM_WHY_MAX];
	const char *fv = wsr_sim_req_query(c->req, "fieldValidation");
	if (!fv || strcmp(fv, "Strict") != 0 || !wsr_kcpsim_unknown_field(in, f))
		return 0;
	wsr_kcpsim_fail(c->resp, 400, NULL, NULL, "strict decoding error: unknown field \"%s\"", f);
	return -1;
}

/* Hands *p over to the caller and leaves NULL behind. */
static cJSON *take(cJSON **p)
{
	cJSON *v = *p;
	*p = NULL;
	return v;
}

/* The type a new child gets from the parent's type (kcp's Admit): the
 * body's, or the parent type's defaultChildWorkspaceType. A new {name[,
 * path]}, or NULL after answering. */
static cJSON *requested_type(wsr_kcpsim_call *c, const char *name, const cJSON *given)
{
	char r[WSR_KCPSIM_REF_MAX], why[WSR_KCPSIM_WHY_MAX];
	const cJSON *ptype = wsr_kcpsim_ws_type(c->s, c->ws), *d;
	cJSON *ref = NULL;
	if (given)
		ref = cJSON_Duplicate(given, 1);
	else if (!ptype) {
		wsr_kcpsim_ref(r, wsr_json_path(c->ws->obj, "spec.type"));
		snprintf(why, sizeof(why),
			 "parent type cannot be resolved: workspacetypes.tenancy.kcp.io \"%s\" not "
			 "found",
			 r);
		forbidden(c, name, why);
		return NULL;
	} else if (!(d = wsr_json_obj(ptype, "defaultChildType"))) {
		/* kcp builds this with errors.New: its verbs are never filled in */
		forbidden(c, name,
			  "spec.defaultChildWorkspaceType of workspace type %s:%s must be set");
		return NULL;
	} else
		ref = cJSON_Duplicate(d, 1);
	if (!ref)
		wsr_kcpsim_unavailable(c, WSR_ENOMEM);
	return ref;
}

/* The server's field a body sets that only system:masters may set
 * ("spec.Cluster", "spec.URL", as kcp's workspace admission names them),
 * or NULL. */
static const char *server_field(const wsr_kcpsim_call *c, const cJSON *spec)
{
	const char *cluster = wsr_json_str(spec, "cluster"), *url = wsr_json_str(spec, "URL");
	if (wsr_kcpsim_is_master(wsr_json_arr(c->user, "groups")))
		return NULL;
	if (cluster && cluster[0])
		return "spec.Cluster";
	return url && url[0] ? "spec.URL" : NULL;
}

/* The admission rules on a creation in kcp's order (resolve, aliases, use
 * on each, allowed parents, allowed children); 0, or -1 after answering
 * 403. *type is the new workspace's type. */
static int admit(wsr_kcpsim_call *c, const char *name, const cJSON *ref, const cJSON *spec,
		 const cJSON **type)
{
	const wsr_kcpsim_types tr = WSR_KCPSIM_STORE_TYPES(c);
	char r[WSR_KCPSIM_REF_MAX], why[WSR_KCPSIM_WHY_MAX];
	const cJSON *ptype = wsr_kcpsim_ws_type(c->s, c->ws), *refused;
	const char *path = wsr_json_str(ref, "path");
	int err = 0;
	const char *own = server_field(c, spec);
	if (!(*type = wsr_kcpsim_type_resolve(&tr, c->ws->path, ref))) {
		if (path) {
			wsr_kcpsim_ref(r, ref);
			snprintf(
			    why, sizeof(why),
			    "Internal error occurred: workspacetypes.tenancy.kcp.io \"%s\" not "
			    "found",
			    r);
		} else
			snprintf(why, sizeof(why), "workspace type \"%s\" cannot be resolved",
				 wsr_json_str(ref, "name"));
	} else if (own)
		snprintf(why, sizeof(why), "%s can only be set by system privileged users", own);
	else if ((refused = wsr_kcpsim_use_refused(&tr, *type, wsr_json_str(c->user, "name"),
						   wsr_json_arr(c->user, "groups"), &err, why))) {
		wsr_kcpsim_ref(r, refused);
		snprintf(why, sizeof(why),
			 "unable to use workspace type %s: missing verb='use' permission on "
			 "workspacetype",
			 r);
	} else if (!err && !ptype) {
		wsr_kcpsim_ref(r, wsr_json_path(c->ws->obj, "spec.type"));
		snprintf(why, sizeof(why),
			 "workspace type cannot be resolved: workspacetypes.tenancy.kcp.io \"%s\" "
			 "not found",
			 r);
	} else if (!err && !wsr_kcpsim_type_fits(&tr, ptype, *type, why))
		return 0;
	forbidden(c, name, why);
	return -1;
}

/* {name, path}: the reference a new workspace stores, the path canonical. */
static cJSON *canonical(const cJSON *type)
{
	cJSON *r = cJSON_CreateObject();
	if (r && (!cJSON_AddStringToObject(r, "name", wsr_json_str(type, "name")) ||
		  !cJSON_AddStringToObject(r, "path", wsr_json_str(type, "path")))) {
		cJSON_Delete(r);
		return NULL;
	}
	return r;
}

/* Answers a dry-run creation of w (taken over): its phase as the clock
 * would have it now, without a resourceVersion (nothing was stored). */
static void dry_created(wsr_kcpsim_call *c, wsr_kcpsim_ws *w, const cJSON *type)
{
	const wsr_kcpsim_types tr = WSR_KCPSIM_STORE_TYPES(c);
	cJSON *inits = NULL;
	int phase = wsr_kcpsim_phase_at(w, c->now);
	wsr_kcpsim_initialize_ms(&tr, type, &inits);
	int rc = wsr_kcpsim_status_set(w->obj, phase, inits);
	cJSON_Delete(inits);
	cJSON_DeleteItemFromObjectCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(w->obj, "metadata"), "resourceVersion");
	if (rc)
		wsr_kcpsim_unavailable(c, rc);
	else
		wsr_kcpsim_reply(c, 201, wsr_kcpsim_view(c, w));
	wsr_kcpsim_ws_free(w);
}

/* kcp's owner annotation (pkg/admission/workspace/admission.go) for a
 * creation by anyone but system:masters: who asked, as Kubernetes'
 * UserInfo in JSON. 0 or WSR_ENOMEM. */
static int mark_owner(wsr_kcpsim_call *c, cJSON *annotations)
{
	const cJSON *groups = wsr_json_arr(c->user, "groups"), *g;
	if (wsr_kcpsim_is_master(groups))
		return 0;
	cJSON *info = cJSON_CreateObject(), *list = cJSON_CreateArray();
	int ok = info && list &&
		 cJSON_AddStringToObject(info, "username", wsr_json_str(c->user, "name"));
	int authenticated = 0;
	cJSON_ArrayForEach(g, groups)
	{
		authenticated |=
		    cJSON_IsString(g) && strcmp(g->valuestring, "system:authenticated") == 0;
		ok = ok && cJSON_AddItemToArray(list, cJSON_Duplicate(g, 1));
	}
	ok = ok && (authenticated ||
		    cJSON_AddItemToArray(list, cJSON_CreateString("system:authenticated")));
	if (ok && cJSON_AddItemToObject(info, "groups", list))
		list = NULL;
	char *text = ok ? cJSON_PrintUnformatted(info) : NULL;
	cJSON_DeleteItemFromObjectCaseSensitive(annotations, OWNER);
	ok = text && cJSON_AddStringToObject(annotations, OWNER, text);
	free(text);
	cJSON_Delete(list);
	cJSON_Delete(info);
	return ok ? 0 : WSR_ENOMEM;
}

/* Creates the admitted child b of type and answers 201 (or, for a dry
 * run, answers what it would be). */
static void add_child(wsr_kcpsim_call *c, wsr_kcpsim_body *b, const cJSON *type)
{
	const wsr_kcpsim_types tr = WSR_KCPSIM_STORE_TYPES(c);
	char cluster[WSR_KCPSIM_CLUSTER_LEN + 1];
	char *path = wsr_strdupf("%s:%s", c->ws->path, b->name);
	cJSON *ref = mark_owner(c, b->annotations) ? NULL : canonical(type);
	wsr_kcpsim_new_cluster(c->s, cluster);
	cJSON *obj =
	    ref ? wsr_kcpsim_ws_object(b->name, take(&b->labels), take(&b->annotations), ref,
				       take(&b->location), cluster, c->now, WSR_KCPSIM_SCHEDULING)
		: NULL;
	cJSON_Delete(ref);
	wsr_kcpsim_ws *w = path && obj ? wsr_kcpsim_ws_new(path, obj) : NULL; /* frees obj */
	if (!path)
		cJSON_Delete(obj);
	free(path);
	int rc = w ? 0 : WSR_ENOMEM;
	if (w) {
		w->created_at = c->now;
		w->initializing_at = c->now + c->s->scheduling_ms;
		w->ready_at =
		    w->initializing_at + (int64_t)wsr_kcpsim_initialize_ms(&tr, type, NULL);
		w->phase = WSR_KCPSIM_SCHEDULING;
		if (c->dry) {
			dry_created(c, w, type);
			return;
		}
		rc = wsr_kcpsim_store_create(c->s, w);
	}
	if (rc) {
		wsr_kcpsim_ws_free(w);
		wsr_kcpsim_unavailable(c, rc);
		return;
	}
	/* the phases that take no time are already over */
	wsr_kcpsim_store_sweep(c->s, c->now);
	wsr_kcpsim_reply(c, 201, wsr_kcpsim_view(c, w));
}

void wsr_kcpsim_ws_create(wsr_kcpsim_call *c)
{
	wsr_kcpsim_invalid inv = {NULL, 0, 0};
	wsr_kcpsim_body b;
	const cJSON *type;
	cJSON *in, *ref = NULL;
	if (wsr_kcpsim_dry_run(c, "CreateOptions"))
		return;
	if (c->ws->deleted_at) {
		wsr_kcpsim_fail(c->resp, 403, NULL, NULL,
				"workspace %s is being deleted: no new workspaces in it",
				c->ws->path);
		return;
	}
	if (!(in = wsr_kcpsim_body_object(c)))
		return;
	if (strict(c, in)) {
		cJSON_Delete(in);
		return;
	}
	int rc = wsr_kcpsim_body_check(&b, in, 1, &inv);
	if (rc)
		wsr_kcpsim_unavailable(c, rc);
	else if (inv.n)
		wsr_kcpsim_reply_invalid(c->resp, "Workspace", WSR_KCPSIM_GROUP,
					 b.name ? b.name : "", &inv);
	else if (wsr_kcpsim_ws_kid(c->ws, b.name))
		wsr_kcpsim_fail(c->resp, 409, "AlreadyExists",
				wsr_kcpsim_details(b.name, "workspaces"),
				"workspaces.tenancy.kcp.io \"%s\" already exists", b.name);
	else if ((ref = requested_type(c, b.name, b.type)) &&
		 admit(c, b.name, ref, wsr_json_obj(in, "spec"), &type) == 0)
		add_child(c, &b, type);
	cJSON_Delete(ref);
	cJSON_Delete(in);
	wsr_kcpsim_invalid_free(&inv);
	wsr_kcpsim_body_free(&b);
}

/* /_sim/conflicts: another client writes w just before this update. */
static int touch(wsr_kcpsim_call *c, wsr_kcpsim_ws *w)
{
	char n[32];
	if (w->conflicts <= 0 || c->dry) /* a dry run uses none up: it writes nothing */
		return 0;
	cJSON *obj = cJSON_Duplicate(w->obj, 1);
	cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	cJSON *ann = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
	if (meta && !ann)
		ann = cJSON_AddObjectToObject(meta, "annotations");
	snprintf(n, sizeof(n), "%lu", ++c->s->touched);
	cJSON_DeleteItemFromObjectCaseSensitive(ann, TOUCHED);
	int rc = ann && cJSON_AddStringToObject(ann, TOUCHED, n) ? 0 : WSR_ENOMEM;
	if (!rc)
		rc = wsr_kcpsim_store_update(c->s, w, obj, 0);
	if (rc) {
		cJSON_Delete(obj);
		return rc;
	}
	w->conflicts--;
	return 0;
}

/* The checks an update shares with the status subresource: the name in
 * the body, and the resourceVersion it expects. 0, or -1 after answering. */
static int preconditions(wsr_kcpsim_call *c, const wsr_kcpsim_ws *w, const cJSON *in)
{
	const cJSON *meta = wsr_json_obj(in, "metadata");
	const char *name = wsr_json_str(meta, "name");
	const char *rv = wsr_json_str(meta, "resourceVersion");
	char have[32];
	if (!name || strcmp(name, w->name) != 0) {
		wsr_kcpsim_fail(c->resp, 400, NULL, NULL,
				"the name of the object (%.63s) does not match the name on the URL "
				"(%s)",
				name ? name : "", w->name);
		return -1;
	}
	snprintf(have, sizeof(have), "%llu", (unsigned long long)w->rv);
	if (rv && strcmp(rv, have) != 0) {
		wsr_kcpsim_fail(
		    c->resp, 409, "Conflict", wsr_kcpsim_details(w->name, "workspaces"),
		    "Operation cannot be fulfilled on workspaces.tenancy.kcp.io \"%s\": "
		    "the object has been modified; please apply your changes to the "
		    "latest version and try again",
		    w->name);
		return -1;
	}
	return 0;
}

/* Stores obj (taken over) as w's object unless it changes nothing, and
 * answers 200 with w as it then is. */
static void commit(wsr_kcpsim_call *c, wsr_kcpsim_ws *w, cJSON *obj, int frozen)
{
	int rc = 0;
	if (c->dry) { /* what the update would store, under the resourceVersion it has */
		wsr_kcpsim_reply(c, 200, wsr_kcpsim_view_of(c, w->path, obj));
		return;
	}
	if (cJSON_Compare(obj, w->obj, 1)) /* a no-op keeps its resourceVersion */
		cJSON_Delete(obj);
	else if ((rc = wsr_kcpsim_store_update(c->s, w, obj, frozen)) != 0)
		cJSON_Delete(obj);
	if (rc)
		wsr_kcpsim_unavailable(c, rc);
	else
		wsr_kcpsim_reply(c, 200, wsr_kcpsim_view(c, w));
}

/* The Workspace schema's rules on spec.type (x-kubernetes-validations in
 * kcp's types_workspace.go): name and path stay as they are. */
static void type_unchanged(const wsr_kcpsim_body *b, const cJSON *old, wsr_kcpsim_invalid *inv)
{
	const char *on = wsr_json_str(old, "name"), *op = wsr_json_str(old, "path");
	const char *nn = wsr_json_str(b->type, "name"), *np = wsr_json_str(b->type, "path");
	if (!b->type)
		return;
	if (!on || !nn || strcmp(on, nn) != 0)
		wsr_kcpsim_invalid_add(inv, "FieldValueInvalid", "spec.type",
				       "Invalid value: \"object\": name is immutable");
	if (!op != !np || (op && np && strcmp(op, np) != 0))
		wsr_kcpsim_invalid_add(inv, "FieldValueInvalid", "spec.type",
				       "Invalid value: \"object\": path is immutable");
}

/* The schema's other rules on spec: URL and cluster stay set, and cluster
 * stays as it is. */
static void spec_unchanged(const cJSON *in, const wsr_kcpsim_ws *w, wsr_kcpsim_invalid *inv)
{
	const cJSON *spec = wsr_json_obj(in, "spec");
	const cJSON *cluster = cJSON_GetObjectItemCaseSensitive(spec, "cluster");
	if (!cJSON_GetObjectItemCaseSensitive(spec, "URL"))
		wsr_kcpsim_invalid_add(inv, "FieldValueInvalid", "spec",
				       "Invalid value: \"object\": URL cannot be unset");
	if (!cluster)
		wsr_kcpsim_invalid_add(inv, "FieldValueInvalid", "spec",
				       "Invalid value: \"object\": cluster cannot be unset");
	else if (!cJSON_IsString(cluster) || strcmp(cluster->valuestring, w->cluster) != 0)
		wsr_kcpsim_invalid_add(inv, "FieldValueInvalid", "spec.cluster",
				       "Invalid value: \"string\": cluster is immutable");
}

/* kcp's workspace admission on an update, after the schema
 * (pkg/admission/workspace/admission.go): only system:masters may change
 * spec.URL, and spec.type may not go. 0, or -1 after answering 403. */
static int update_admitted(wsr_kcpsim_call *c, const wsr_kcpsim_ws *w, const cJSON *in,
			   const wsr_kcpsim_body *b)
{
	const char *url = wsr_json_str(wsr_json_obj(in, "spec"), "URL");
	char *have = wsr_strdupf("%s/clusters/%s", c->s->url, w->path);
	int changed = !url || !have || strcmp(url, have) != 0;
	free(have);
	if (changed && !wsr_kcpsim_is_master(wsr_json_arr(c->user, "groups"))) {
		forbidden(c, w->name, "spec.URL can only be changed by system privileged users");
		return -1;
	}
	if (!b->type) {
		forbidden(c, w->name, "spec.type: Invalid value: \"null\": field is immutable");
		return -1;
	}
	return 0;
}

/* PUT, and PATCH after merging: in is the whole new object. */
static void update(wsr_kcpsim_call *c, wsr_kcpsim_ws *w, const cJSON *in)
{
	wsr_kcpsim_invalid inv = {NULL, 0, 0};
	wsr_kcpsim_body b;
	if (strict(c, in) || preconditions(c, w, in))
		return;
	int rc = wsr_kcpsim_body_check(&b, in, 1, &inv);
	if (!rc) {
		type_unchanged(&b, wsr_json_path(w->obj, "spec.type"), &inv);
		spec_unchanged(in, w, &inv);
	}
	if (!rc && !inv.n && update_admitted(c, w, in, &b)) {
		wsr_kcpsim_body_free(&b);
		return;
	}
	cJSON *obj = rc || inv.n ? NULL : cJSON_Duplicate(w->obj, 1);
	cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata"),
	      *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
	if (obj) /* each put takes its part over, also when it fails */
		rc = wsr_kcpsim_set_part(meta, "labels", take(&b.labels));
	if (obj && !rc)
		rc = wsr_kcpsim_set_part(meta, "annotations", take(&b.annotations));
	if (obj && !rc)
		rc = wsr_kcpsim_set_part(spec, "location", take(&b.location));
	if (rc || (!inv.n && !obj))
		wsr_kcpsim_unavailable(c, rc ? rc : WSR_ENOMEM);
	else if (inv.n)
		wsr_kcpsim_reply_invalid(c->resp, "Workspace", WSR_KCPSIM_GROUP, w->name, &inv);
	else {
		commit(c, w, obj, 0);
		obj = NULL;
	}
	cJSON_Delete(obj);
	wsr_kcpsim_invalid_free(&inv);
	wsr_kcpsim_body_free(&b);
}

/* The workspace name in the call's workspace, after the conflicts
 * /_sim/conflicts asked for; NULL after answering 404 or 503. */
static wsr_kcpsim_ws *for_update(wsr_kcpsim_call *c, const char *name)
{
	wsr_kcpsim_ws *w = wsr_kcpsim_ws_kid(c->ws, name);
	int rc = w ? touch(c, w) : 0;
	if (!w)
		wsr_kcpsim_ws_not_found(c, name);
	else if (rc)
		wsr_kcpsim_unavailable(c, rc);
	return rc ? NULL : w;
}

void wsr_kcpsim_ws_put(wsr_kcpsim_call *c, const char *name)
{
	wsr_kcpsim_ws *w;
	cJSON *in;
	if (wsr_kcpsim_dry_run(c, "UpdateOptions") || !(w = for_update(c, name)) ||
	    !(in = wsr_kcpsim_body_object(c)))
		return;
	update(c, w, in);
	cJSON_Delete(in);
}

/* 1 when the request's Content-Type is media (parameters aside). */
static int content_type_is(const wsr_kcpsim_call *c, const char *media)
{
	const char *ct = wsr_sim_req_header(c->req, "Content-Type");
	size_t n = strlen(media);
	return ct && strncasecmp(ct, media, n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

void wsr_kcpsim_ws_patch(wsr_kcpsim_call *c, const char *name)
{
	wsr_kcpsim_ws *w;
	cJSON *patch, *merged;
	if (!content_type_is(c, "application/merge-patch+json")) {
		const char *ct = wsr_sim_req_header(c->req, "Content-Type");
		wsr_kcpsim_fail(
		    c->resp, 415, NULL, NULL,
		    "the body of the request was in an unknown format (%.100s) - accepted "
		    "media types include: application/merge-patch+json",
		    ct ? ct : "none");
		return;
	}
	if (wsr_kcpsim_dry_run(c, "PatchOptions") || !(w = for_update(c, name)) ||
	    !(patch = wsr_kcpsim_body_object(c)))
		return;
	if (!(merged = wsr_sim_merge_patch(wsr_kcpsim_view(c, w), patch)))
		wsr_kcpsim_unavailable(c, WSR_ENOMEM);
	else
		update(c, w, merged);
	cJSON_Delete(merged);
	cJSON_Delete(patch);
}

/* An optional list (null: none) whose entries are all what ok says. */
static void list_of(const cJSON *v, const char *field, cJSON_bool (*ok)(const cJSON *),
		    const char *what, wsr_kcpsim_invalid *inv)
{
	const cJSON *it;
	if (!v || cJSON_IsNull(v))
		return;
	if (!cJSON_IsArray(v)) {
		wsr_kcpsim_invalid_add(inv, "FieldValueInvalid", field,
				       "Invalid value: must be a list");
		return;
	}
	cJSON_ArrayForEach(it, v)
	{
		if (!ok(it)) {
			wsr_kcpsim_invalid_add(inv, "FieldValueInvalid", field,
					       "Invalid value: each entry must be %s", what);
			return;
		}
	}
}

/* The status a client writes: a known phase, conditions (objects) and
 * initializers (strings); a new copy with both lists present. */
static cJSON *check_status(const cJSON *in, wsr_kcpsim_invalid *inv)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(in, "status");
	const cJSON *cond = cJSON_GetObjectItemCaseSensitive(st, "conditions");
	const cJSON *inits = cJSON_GetObjectItemCaseSensitive(st, "initializers");
	if (!cJSON_IsObject(st)) {
		wsr_kcpsim_invalid_add(inv, "FieldValueRequired", "status", "Required value");
		return NULL;
	}
	if (wsr_kcpsim_phase_parse(wsr_json_str(st, "phase")) < 0)
		wsr_kcpsim_invalid_add(inv, "FieldValueNotSupported", "status.phase",
				       "Unsupported value: supported values: \"Scheduling\", "
				       "\"Initializing\", \"Ready\", \"Unavailable\", "
				       "\"Inactive\", \"Terminating\", \"Deleting\"");
	list_of(cond, "status.conditions", cJSON_IsObject, "an object", inv);
	list_of(inits, "status.initializers", cJSON_IsString, "a string", inv);
	if (inv->n)
		return NULL;
	cJSON *out = cJSON_CreateObject();
	if (out && (!cJSON_AddStringToObject(out, "phase", wsr_json_str(st, "phase")) ||
		    !cJSON_AddItemToObject(out, "conditions",
					   cJSON_IsArray(cond) ? cJSON_Duplicate(cond, 1)
							       : cJSON_CreateArray()) ||
		    !cJSON_AddItemToObject(out, "initializers",
					   cJSON_IsArray(inits) ? cJSON_Duplicate(inits, 1)
								: cJSON_CreateArray()))) {
		cJSON_Delete(out);
		out = NULL;
	}
	if (!out)
		inv->oom = 1;
	return out;
}

void wsr_kcpsim_ws_status_put(wsr_kcpsim_call *c, const char *name)
{
	wsr_kcpsim_invalid inv = {NULL, 0, 0};
	wsr_kcpsim_ws *w;
	cJSON *in, *st, *obj;
	if (wsr_kcpsim_dry_run(c, "UpdateOptions") || !(w = for_update(c, name)) ||
	    !(in = wsr_kcpsim_body_object(c)))
		return;
	if (preconditions(c, w, in)) {
		cJSON_Delete(in);
		return;
	}
	const char *kind = wsr_json_str(in, "kind"), *api = wsr_json_str(in, "apiVersion");
	if (!kind || strcmp(kind, "Workspace") != 0)
		wsr_kcpsim_invalid_add(&inv, "FieldValueNotSupported", "kind",
				       "Unsupported value: must be Workspace");
	if (!api || strcmp(api, WSR_KCPSIM_API_VERSION) != 0)
		wsr_kcpsim_invalid_add(&inv, "FieldValueNotSupported", "apiVersion",
				       "Unsupported value: must be " WSR_KCPSIM_API_VERSION);
	st = check_status(in, &inv);
	if (inv.oom) {
		cJSON_Delete(st);
		wsr_kcpsim_unavailable(c, WSR_ENOMEM);
	} else if (inv.n) {
		cJSON_Delete(st);
		wsr_kcpsim_reply_invalid(c->resp, "Workspace", WSR_KCPSIM_GROUP, w->name, &inv);
	} else if (!(obj = cJSON_Duplicate(w->obj, 1)) || wsr_kcpsim_set_part(obj, "status", st)) {
		if (!obj)
			cJSON_Delete(st); /* set_part frees it when it fails */
		cJSON_Delete(obj);
		wsr_kcpsim_unavailable(c, WSR_ENOMEM);
	} else {
		int phase = wsr_kcpsim_phase_parse(wsr_json_str(st, "phase"));
		/* writing another phase than the clock's stops the clock there;
		 * a deletion goes on, and its next phase replaces the written one */
		commit(c, w, obj, phase != wsr_kcpsim_phase_at(w, c->now) && !w->deleted_at);
	}
	wsr_kcpsim_invalid_free(&inv);
	cJSON_Delete(in);
}

/* DELETE's optional body (DeleteOptions): its dryRun is read and its
 * preconditions are checked. */
static int delete_preconditions(wsr_kcpsim_call *c, const wsr_kcpsim_ws *w)
{
	char have[32];
	cJSON *opts = NULL;
	char *err = NULL;
	if (c->req->len == 0)
		return 0;
	if (wsr_json_parse(&opts, c->req->body, c->req->len, &err) || !cJSON_IsObject(opts)) {
		wsr_kcpsim_fail(c->resp, 400, NULL, NULL, "the body is not DeleteOptions: %s",
				err ? err : "not an object");
		free(err);
		cJSON_Delete(opts);
		return -1;
	}
	/* kubectl delete --dry-run=server says it here, not in the query */
	const cJSON *dry = cJSON_GetObjectItemCaseSensitive(opts, "dryRun"), *it;
	dry = cJSON_IsArray(dry) ? dry : NULL;
	cJSON_ArrayForEach(it, dry)
	{
		if (cJSON_IsString(it) && strcmp(it->valuestring, "All") == 0) {
			c->dry = 1;
			continue;
		}
		wsr_kcpsim_invalid inv = {NULL, 0, 0};
		wsr_kcpsim_invalid_add(&inv, "FieldValueNotSupported", "dryRun",
				       "Unsupported value: []string{\"%.100s\"}: supported values: "
				       "\"All\"",
				       cJSON_IsString(it) ? it->valuestring : "");
		wsr_kcpsim_reply_invalid(c->resp, "DeleteOptions", "meta.k8s.io", "", &inv);
		cJSON_Delete(opts);
		return -1;
	}
	const cJSON *pre = wsr_json_obj(opts, "preconditions");
	const char *rv = wsr_json_str(pre, "resourceVersion"), *uid = wsr_json_str(pre, "uid");
	snprintf(have, sizeof(have), "%llu", (unsigned long long)w->rv);
	int bad = (rv && strcmp(rv, have) != 0) ||
		  (uid && strcmp(uid, wsr_json_str(wsr_json_obj(w->obj, "metadata"), "uid")) != 0);
	if (bad)
		wsr_kcpsim_fail(
		    c->resp, 409, "Conflict", wsr_kcpsim_details(w->name, "workspaces"),
		    "Operation cannot be fulfilled on workspaces.tenancy.kcp.io \"%s\": "
		    "the precondition (%s) does not match",
		    w->name, rv && strcmp(rv, have) != 0 ? "resourceVersion" : "uid");
	cJSON_Delete(opts);
	return bad ? -1 : 0;
}

/* What a DELETE answers without doing it: w as it is when it is being
 * deleted already, else with its deletionTimestamp and first deletion
 * phase. NULL when out of memory. */
static cJSON *dry_deleted(wsr_kcpsim_call *c, const wsr_kcpsim_ws *w)
{
	char at[32];
	cJSON *obj = cJSON_Duplicate(w->obj, 1);
	if (!obj || w->deleted_at)
		return obj;
	cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	int phase = c->s->terminating_ms ? WSR_KCPSIM_TERMINATING : WSR_KCPSIM_DELETING;
	if (!meta ||
	    !cJSON_AddStringToObject(meta, "deletionTimestamp",
				     wsr_time_format(c->now, at, sizeof(at))) ||
	    wsr_kcpsim_status_set(obj, phase, NULL)) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

void wsr_kcpsim_ws_delete(wsr_kcpsim_call *c, const char *name)
{
	if (wsr_kcpsim_dry_run(c, "DeleteOptions"))
		return;
	wsr_kcpsim_ws *w = wsr_kcpsim_ws_kid(c->ws, name);
	if (!w) {
		wsr_kcpsim_ws_not_found(c, name);
		return;
	}
	if (delete_preconditions(c, w))
		return;
	char *path = strdup(w->path);
	cJSON *last = NULL;
	int rc = !path ? WSR_ENOMEM : 0;
	if (!rc && c->dry)
		rc = (last = dry_deleted(c, w)) ? 0 : WSR_ENOMEM;
	else if (!rc)
		rc = wsr_kcpsim_store_delete(c->s, w, c->now, &last);
	if (rc)
		wsr_kcpsim_unavailable(c, rc);
	else
		wsr_kcpsim_reply(c, 200, wsr_kcpsim_view_of(c, path, last));
	free(path);
}
