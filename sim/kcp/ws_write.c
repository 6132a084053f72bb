/* ws_write: the workspace handlers that change something: create (with
 * admission in the documented order), update (PUT, and PATCH turned into
 * the same update by patch.c), the status subresource, and delete.
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

/* Children a refused DELETE names before it says how many more there are. */
#define MAX_NAMED_CHILDREN 10
/* The annotation /_sim/conflicts sets on the workspace it touches. */
#define TOUCHED "sim.wsr.dev/touched"

static void forbidden(wsr_kcpsim_call *c, const char *name, const char *msg)
{
	wsr_kcpsim_fail(c->resp, 403, NULL, wsr_kcpsim_details(name, "workspaces"), "%s", msg);
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

/* The admission rules on a creation, in the documented order; 0, or -1
 * after answering 403. *type is the new workspace's type. */
static int admit(wsr_kcpsim_call *c, const char *name, const cJSON *ref, const cJSON **type)
{
	char r[WSR_KCPSIM_REF_MAX], why[WSR_KCPSIM_WHY_MAX];
	const cJSON *ptype = wsr_kcpsim_ws_type(c->s, c->ws);
	wsr_kcpsim_ref(r, ref);
	if (!ptype) /* the parent's type went away with its workspace: it limits nothing */
		ptype = c->s->root_type;
	if (!(*type = wsr_kcpsim_store_type(c->s, ref)))
		snprintf(why, sizeof(why), "workspace type %s does not exist", r);
	else if (!wsr_kcpsim_may_use(*type, wsr_json_str(c->user, "name"),
				     wsr_json_arr(c->user, "groups")))
		snprintf(why, sizeof(why), "you may not use workspace type %s", r);
	else if (!wsr_kcpsim_type_fits(ptype, *type, why))
		return 0;
	forbidden(c, name, why);
	return -1;
}

/* Creates the admitted child b of type (ref names it) and answers 201. */
static void add_child(wsr_kcpsim_call *c, wsr_kcpsim_body *b, const cJSON *ref, const cJSON *type)
{
	char cluster[WSR_KCPSIM_CLUSTER_LEN + 1];
	char *path = wsr_strdupf("%s:%s", c->ws->path, b->name);
	wsr_kcpsim_new_cluster(c->s, cluster);
	cJSON *obj =
	    wsr_kcpsim_ws_object(b->name, take(&b->labels), take(&b->annotations), ref,
				 take(&b->location), cluster, c->now, WSR_KCPSIM_SCHEDULING);
	wsr_kcpsim_ws *w = path && obj ? wsr_kcpsim_ws_new(path, obj) : NULL; /* frees obj */
	if (!path)
		cJSON_Delete(obj);
	free(path);
	int rc = w ? 0 : WSR_ENOMEM;
	if (w) {
		w->created_at = c->now;
		w->initializing_at = c->now + c->s->scheduling_ms;
		w->ready_at = w->initializing_at + (int64_t)wsr_json_num(type, "initializeMs", 0);
		w->phase = WSR_KCPSIM_SCHEDULING;
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
	if (c->ws->gone_at) {
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
	else if (!(ref = b.type ? cJSON_Duplicate(b.type, 1)
				: wsr_kcpsim_default_type(wsr_kcpsim_ws_type(c->s, c->ws))))
		wsr_kcpsim_unavailable(c, WSR_ENOMEM);
	else if (admit(c, b.name, ref, &type) == 0)
		add_child(c, &b, ref, type);
	cJSON_Delete(ref);
	cJSON_Delete(in);
	wsr_kcpsim_invalid_free(&inv);
	wsr_kcpsim_body_free(&b);
}

/* /_sim/conflicts: another client writes w just before this update. */
static int touch(wsr_kcpsim_call *c, wsr_kcpsim_ws *w)
{
	char n[32];
	if (w->conflicts <= 0)
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
	if (cJSON_Compare(obj, w->obj, 1)) /* a no-op keeps its resourceVersion */
		cJSON_Delete(obj);
	else if ((rc = wsr_kcpsim_store_update(c->s, w, obj, frozen)) != 0)
		cJSON_Delete(obj);
	if (rc)
		wsr_kcpsim_unavailable(c, rc);
	else
		wsr_kcpsim_reply(c, 200, wsr_kcpsim_view(c, w));
}

/* PUT, and PATCH after merging: in is the whole new object. */
static void update(wsr_kcpsim_call *c, wsr_kcpsim_ws *w, const cJSON *in)
{
	wsr_kcpsim_invalid inv = {NULL, 0, 0};
	wsr_kcpsim_body b;
	if (strict(c, in) || preconditions(c, w, in))
		return;
	int rc = wsr_kcpsim_body_check(&b, in, 1, &inv);
	const cJSON *type = wsr_json_path(w->obj, "spec.type");
	if (!rc && b.type && !wsr_kcpsim_ref_eq(b.type, type))
		wsr_kcpsim_invalid_add(&inv, "FieldValueInvalid", "spec.type", "type is immutable");
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
	if (!(w = for_update(c, name)) || !(in = wsr_kcpsim_body_object(c)))
		return;
	update(c, w, in);
	cJSON_Delete(in);
}

void wsr_kcpsim_ws_patch(wsr_kcpsim_call *c, const char *name)
{
	wsr_kcpsim_ws *w;
	cJSON *patched;
	if (wsr_kcpsim_patch_check(c) || !(w = for_update(c, name)) ||
	    !(patched = wsr_kcpsim_patched(c, w)))
		return;
	update(c, w, patched);
	cJSON_Delete(patched);
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
				       "\"Initializing\", \"Ready\", \"Unavailable\"");
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
	if (!(w = for_update(c, name)) || !(in = wsr_kcpsim_body_object(c)))
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
		/* writing another phase than the clock's stops the clock there */
		commit(c, w, obj, phase != wsr_kcpsim_phase_at(w, c->now));
	}
	wsr_kcpsim_invalid_free(&inv);
	cJSON_Delete(in);
}

/* DELETE's optional body (DeleteOptions): its preconditions are checked. */
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

void wsr_kcpsim_ws_delete(wsr_kcpsim_call *c, const char *name)
{
	wsr_kcpsim_ws *w = wsr_kcpsim_ws_kid(c->ws, name);
	if (!w) {
		wsr_kcpsim_ws_not_found(c, name);
		return;
	}
	if (delete_preconditions(c, w))
		return;
	if (w->nkids) {
		wsr_buf b = WSR_BUF_INIT;
		for (size_t i = 0; i < w->nkids && i < MAX_NAMED_CHILDREN; i++)
			wsr_buf_printf(&b, "%s%s", i ? ", " : "", w->kids[i]->name);
		if (w->nkids > MAX_NAMED_CHILDREN)
			wsr_buf_printf(&b, " and %zu more", w->nkids - MAX_NAMED_CHILDREN);
		wsr_kcpsim_fail(c->resp, 409, "Conflict", wsr_kcpsim_details(name, "workspaces"),
				"workspace %.900s has child workspaces: %s", w->path,
				wsr_buf_failed(&b) ? "(many)" : wsr_buf_str(&b));
		wsr_buf_free(&b);
		return;
	}
	char *path = strdup(w->path);
	cJSON *last = NULL;
	int rc = path ? wsr_kcpsim_store_delete(c->s, w, c->now, &last) : WSR_ENOMEM;
	if (rc)
		wsr_kcpsim_unavailable(c, rc);
	else
		wsr_kcpsim_reply(c, 200, wsr_kcpsim_view_of(c, path, last));
	free(path);
}
