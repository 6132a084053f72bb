/* ops: the mutating operations as the engine drives them. A create is a
 * list of steps, one workspace each — one for a Workspace; for a
 * bucket-style HomeWorkspace every missing bucket below the prefix, then the
 * home — and each step is finished only when its workspace is Ready, because
 * kcp closes a workspace's endpoint (so creating anything inside it) until
 * then. A logicalcluster-style home is one request kcp answers 429 (with
 * Retry-After) until the home is Ready: poll asks again after that wait,
 * never sleeping in the worker. An update is a read-modify-write of the
 * labels guarded by resourceVersion; a delete waits until the workspace is
 * gone, through kcp's Terminating and Deleting. Separate from check because this
 * is the only code that changes the platform. An op is touched by one worker
 * at a time and reads only the provider's fields that open set, so
 * concurrent ops need no lock (the http client is thread-safe).
 *
 * Retries are safe: a create answered 409 AlreadyExists (our earlier
 * attempt, or another worker making the same home bucket) adopts the
 * workspace when its type is the one wanted. */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "providers/kcp/kc.h"

typedef enum {
	ST_GET,	  /* GET the step's workspace; 404: create it */
	ST_POST,  /* create the step's workspace */
	ST_ADOPT, /* it already existed (409): GET it and compare its type */
	ST_WAIT,  /* GET until it is Ready */
	ST_GONE,  /* delete: GET until 404 */
	ST_HOME,  /* GET ~ as the user until 200 (429 while kcp makes the home) */
	ST_DONE,
} op_state;

typedef struct step {
	char parent[KC_PATH_MAX + 1];
	char name[KC_NAME_MAX + 1];
	/* wanted "<path>:<name>", or "<name>" (kcp resolves the path); "" = any
	 * (kcp's default child type) */
	char type[KC_TYPE_MAX + 1];
	char *body; /* the POST body */
	int ensure; /* GET first (home buckets), else POST first */
} step;

struct wsr_op {
	wsr_action action;
	op_state state;
	char *address;
	step *steps;
	int nsteps, cur;
	int64_t started_ms;
	char phase[32]; /* the phase last seen, for a timeout's message */
	wsr_resource *result;
	const char *user; /* ST_HOME: the home's user (in address) */
	int64_t next_ms;  /* ST_HOME: not before (Retry-After) */
};

void kc_op_free(wsr_op *op)
{
	if (!op)
		return;
	for (int i = 0; i < op->nsteps; i++)
		free(op->steps[i].body);
	free(op->steps);
	free(op->address);
	wsr_resource_free(op->result);
	free(op);
}

static step *cur(wsr_op *op)
{
	return &op->steps[op->cur];
}

/* "root:a:b" of a step, for messages. */
static char *step_path(const step *s)
{
	return wsr_strdupf("%s:%s", s->parent, s->name);
}

/* The workspace's type must be the step's (when it wants one). */
static int type_matches(wsr_op *op, const cJSON *ws, wsr_diag *diag)
{
	char key[KC_TYPE_MAX + 1];
	const step *s = cur(op);
	if (kc_type_key(key, wsr_json_path(ws, "spec.type")))
		return kc_malformed(diag, op->address, "reading the workspace",
				    "field spec.type is missing or not {name, path}");
	const char *colon = strrchr(key, ':');
	if (!s->type[0] || strcmp(key, s->type) == 0 ||
	    (!strchr(s->type, ':') && strcmp(colon + 1, s->type) == 0))
		return 0;
	char *path = step_path(s);
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, op->address, NULL,
		     "delete that workspace, or set spec.type to its type",
		     "workspace %s already exists with type %s, not %s", path ? path : s->name, key,
		     s->type);
	free(path);
	return WSR_EAPI;
}

/* A workspace kcp took out of service (Unavailable) ends the step with
 * kcp's reason: waiting for Ready would take the whole timeout, and kcp
 * leaves that phase only when the condition behind it clears. */
static int out_of_service(wsr_op *op, const cJSON *ws, wsr_diag *diag)
{
	char *why = NULL;
	if (kc_unavailable(&why, ws))
		return WSR_ENOMEM;
	if (!why)
		return 0;
	char *path = step_path(cur(op));
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, op->address, NULL,
		     "kcp makes it Ready again once the condition clears; until then the plan "
		     "refuses it with this reason",
		     "workspace %s was created, but %s", path ? path : cur(op)->name, why);
	free(path);
	free(why);
	return WSR_EAPI;
}

/* A step's workspace answered: finished when Ready (the next step, or the
 * result after the last), else wait for it. */
static int reached(wsr_op *op, const cJSON *ws, wsr_diag *diag)
{
	const char *phase = kc_phase(ws);
	if (!phase)
		return kc_malformed(diag, op->address, "reading the workspace",
				    "field status.phase is missing or not a string");
	snprintf(op->phase, sizeof(op->phase), "%s", phase);
	int rc = out_of_service(op, ws, diag);
	if (rc)
		return rc;
	if (strcmp(phase, "Ready") != 0) {
		op->state = ST_WAIT;
		return 0;
	}
	if (op->cur + 1 < op->nsteps) {
		op->cur++;
		op->state = cur(op)->ensure ? ST_GET : ST_POST;
		return 0;
	}
	char *why = NULL;
	rc = kc_workspace_to_resource(&op->result, ws, cur(op)->parent, &why);
	if (rc == WSR_EAPI)
		kc_malformed(diag, op->address, "reading the workspace", why);
	free(why);
	if (!rc)
		op->state = ST_DONE;
	return rc;
}

static int post(wsr_provider *p, wsr_op *op, wsr_diag *diag)
{
	step *s = cur(op);
	char *url = kc_api_path(s->parent, "workspaces", NULL), *path = step_path(s);
	char *what = path ? wsr_strdupf("kcp refused to create workspace %s", path) : NULL;
	long status;
	cJSON *json = NULL;
	int rc = url && what ? kc_call(p, &status, &json, op->address, "POST", url, s->body, diag)
			     : WSR_ENOMEM;
	if (!rc && status / 100 == 2 && cJSON_IsObject(json) &&
	    !(rc = kc_is_named(diag, op->address, "creating the workspace", json, s->name)) &&
	    !(rc = type_matches(op, json, diag)))
		rc = reached(op, json, diag);
	else if (!rc && status / 100 == 2)
		rc = kc_malformed(diag, op->address, what, "the answer is not a Workspace object");
	else if (!rc && status == 409 && strcmp(kc_reason(json), "AlreadyExists") == 0)
		op->state = ST_ADOPT; /* an earlier attempt's, or another worker's */
	else if (!rc)
		rc = kc_refused(p, diag, op->address, what, status, json);
	cJSON_Delete(json);
	free(what);
	free(path);
	free(url);
	return rc;
}

/* GET of the step's workspace, whatever the state waits for. */
static int get(wsr_provider *p, wsr_op *op, wsr_diag *diag)
{
	step *s = cur(op);
	long status;
	cJSON *ws = NULL;
	int rc = kc_get_workspace(p, &ws, &status, op->address, s->parent, s->name,
				  "the workspace cannot be read", diag);
	char *path = rc ? NULL : step_path(s);
	if (!rc && op->state == ST_GONE)
		op->state = ws ? ST_GONE : ST_DONE; /* still there: wait on */
	else if (!rc && ws && op->state != ST_WAIT && !(rc = type_matches(op, ws, diag)))
		rc = reached(op, ws, diag);
	else if (!rc && ws && op->state == ST_WAIT)
		rc = reached(op, ws, diag);
	else if (!rc && !ws && op->state == ST_GET)
		op->state = ST_POST;
	else if (!rc && !ws) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, op->address, NULL, "run apply again",
			     op->state == ST_ADOPT
				 ? "workspace %s was reported as existing, but is gone"
				 : "workspace %s disappeared before it became Ready",
			     path ? path : s->name);
		rc = WSR_EAPI;
	}
	free(path);
	cJSON_Delete(ws);
	return rc;
}

/* GET ~ as the home's user. kcp creates the home on the first one and
 * answers 429 with Retry-After until it is Ready, then 200 with a
 * Workspace (no type, no resourceVersion: it is made from the home's
 * LogicalCluster). Not before next_ms: poll comes back later. */
static int home_get(wsr_provider *p, wsr_op *op, wsr_diag *diag)
{
	int64_t now = wsr_clock_mono_ms();
	if (now < op->next_ms)
		return 0;
	char *hdr = wsr_strdupf("Impersonate-User: %s", op->user), *err = NULL, *why = NULL;
	const char *headers[] = {hdr, NULL};
	wsr_http_resp resp;
	cJSON *json = NULL;
	int rc =
	    hdr ? wsr_http_request(p->http_once, &resp, "GET",
				   "/clusters/root" KC_API "/workspaces/~", headers, NULL, &err)
		: WSR_ENOMEM;
	free(hdr);
	if (rc) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, op->address, err, NULL,
			     rc == WSR_ELIMIT
				 ? "the kcp server at %s sent a response that is too large"
			     : rc == WSR_ETIMEOUT ? "the kcp server at %s did not answer in time"
						  : "cannot reach the kcp server at %s",
			     p->endpoint);
		free(err);
		return rc == WSR_ELIMIT || rc == WSR_ETIMEOUT ? rc : WSR_EHTTP;
	}
	if (resp.len)
		wsr_json_parse(&json, resp.body, resp.len, &why);
	free(why);
	why = NULL;
	const char *phase = kc_phase(json);
	if (resp.status == 429 || (resp.status == 200 && phase && strcmp(phase, "Ready") != 0)) {
		long s = resp.retry_after_s > 0 ? resp.retry_after_s : KC_RETRY_AFTER_DEFAULT_S;
		op->next_ms = now + (s < KC_RETRY_AFTER_MAX_S ? s : KC_RETRY_AFTER_MAX_S) * 1000;
		snprintf(op->phase, sizeof(op->phase), "%s", phase ? phase : "being created");
	} else if (resp.status == 200) {
		if ((rc = kc_home_resource(&op->result, op->user, json, &why)) == WSR_EAPI)
			kc_malformed(diag, op->address, "creating the home workspace", why);
		op->state = rc ? op->state : ST_DONE;
	} else {
		char *what =
		    wsr_strdupf("kcp refused to create the home workspace of %s", op->user);
		rc = kc_refused(p, diag, op->address, what ? what : "kcp refused the home",
				resp.status, json);
		free(what);
	}
	free(why);
	cJSON_Delete(json);
	wsr_http_resp_free(&resp);
	return rc;
}

/* One request of the op's state. */
static int advance(wsr_provider *p, wsr_op *op, wsr_diag *diag)
{
	switch (op->state) {
	case ST_POST:
		return post(p, op, diag);
	case ST_HOME:
		return home_get(p, op, diag);
	case ST_DONE:
		return 0;
	default:
		return get(p, op, diag);
	}
}

/* Adds a step creating parent:name of the type key ("" = kcp's default). */
static int add_step(wsr_op *op, const char *parent, size_t plen, const char *name, const char *type,
		    const cJSON *spec, int ensure)
{
	step *s = &op->steps[op->nsteps++];
	memcpy(s->parent, parent, plen);
	s->parent[plen] = '\0';
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->type, sizeof(s->type), "%s", type);
	s->ensure = ensure;
	char *colon = strrchr(s->type, ':');
	if (colon)
		*colon = '\0'; /* type path and name for the body, put back below */
	cJSON *b = kc_create_body(s->name,
				  colon	       ? colon + 1
				  : s->type[0] ? s->type
					       : NULL,
				  colon ? s->type : NULL, spec);
	if (colon)
		*colon = ':';
	s->body = b ? wsr_json_print(b, 0) : NULL;
	cJSON_Delete(b);
	return s->body ? 0 : WSR_ENOMEM;
}

static int start_create(wsr_provider *p, wsr_op *op, const wsr_change *c, wsr_diag *diag)
{
	char parent[KC_PATH_MAX + 1], name[KC_NAME_MAX + 1], type[KC_TYPE_MAX + 1] = "";
	const char *path = op->address + 4, *prefix = p->home_prefix;
	size_t lp = strlen(prefix);
	int rc = kc_split_address(op->address, parent, name);
	int home = strcmp(c->kind, WSR_KCP_KIND_HOME) == 0;
	const cJSON *want = c->desired ? wsr_json_path(c->desired->spec, "spec.type") : NULL;
	const char *tname = wsr_json_str(want, "name"), *tpath = wsr_json_str(want, "path");
	if (!rc && home && (strncmp(path, prefix, lp) != 0 || path[lp] != ':'))
		rc = WSR_EINVAL;
	if (!rc && tname && tpath && kc_type_key(type, want))
		rc = WSR_EINVAL;
	else if (!rc && tname && !tpath && kc_name_ok(tname, strlen(tname)))
		snprintf(type, sizeof(type), "%s", tname); /* kcp resolves it from the parent up */
	else if (!rc && tname && !tpath)
		rc = WSR_EINVAL;
	if (rc) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, op->address, NULL, NULL,
			     home ? "internal error: a home workspace outside %s"
				  : "internal error: a create without a valid address or type%s",
			     home ? prefix : "");
		return WSR_EINVAL;
	}
	/* at most one step per path segment */
	int n = 1;
	for (const char *s = path; *s; s++)
		n += *s == ':';
	if (!(op->steps = calloc((size_t)n, sizeof(*op->steps))))
		return WSR_ENOMEM;
	for (const char *s = home ? strchr(path + lp + 1, ':') : NULL; s && !rc;
	     s = strchr(s + 1, ':')) {
		const char *b = s - 1; /* the bucket's name runs back to the previous ':' */
		while (*b != ':')
			b--;
		char bucket[KC_NAME_MAX + 1];
		snprintf(bucket, sizeof(bucket), "%.*s", (int)(s - b - 1), b + 1);
		rc = add_step(op, path, (size_t)(b - path), bucket, "root:homebucket", NULL, 1);
	}
	if (!rc)
		rc = add_step(op, parent, strlen(parent), name, home ? "root:home" : type,
			      home || !c->desired ? NULL : c->desired->spec, 0);
	if (rc)
		return rc;
	op->state = op->steps[0].ensure ? ST_GET : ST_POST;
	return advance(p, op, diag);
}

/* A logicalcluster-style home: created (or found) by kcp on the user's
 * GET of ~; nothing else can be done to it. */
static int start_home(wsr_provider *p, wsr_op *op, wsr_diag *diag)
{
	op->user = op->address + strlen("kcp/user:");
	if (op->action != WSR_ACT_CREATE) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, op->address, NULL,
			     "plan again: plan refuses this",
			     "kcp has no API to %s a home workspace", wsr_action_name(op->action));
		return WSR_EINVAL;
	}
	if (!(op->steps = calloc(1, sizeof(*op->steps))))
		return WSR_ENOMEM;
	op->nsteps = 1;
	snprintf(op->steps[0].parent, sizeof(op->steps[0].parent), "user");
	snprintf(op->steps[0].name, sizeof(op->steps[0].name), "%.63s", op->user);
	op->state = ST_HOME;
	return advance(p, op, diag);
}

static int start_delete(wsr_provider *p, wsr_op *op, wsr_diag *diag)
{
	step *s = &op->steps[0];
	char *url = kc_api_path(s->parent, "workspaces", s->name);
	long status;
	cJSON *json = NULL;
	int rc =
	    url ? kc_call(p, &status, &json, op->address, "DELETE", url, NULL, diag) : WSR_ENOMEM;
	if (!rc && status / 100 == 2)
		op->state = ST_GONE;
	else if (!rc && status == 404)
		op->state = ST_DONE; /* already gone: what a delete wants */
	else if (!rc)
		rc = kc_refused(p, diag, op->address, "kcp refused to delete the workspace", status,
				json);
	cJSON_Delete(json);
	free(url);
	return rc;
}

/* Sets ws's metadata.labels[k] for every label of the spec; *changed
 * when any differed. Other labels stay. */
static int merge_labels(cJSON *ws, const cJSON *want, int *changed)
{
	cJSON *meta = cJSON_GetObjectItemCaseSensitive(ws, "metadata");
	cJSON *have = cJSON_GetObjectItemCaseSensitive(meta, "labels");
	const cJSON *l;
	*changed = 0;
	if (!cJSON_IsObject(meta))
		return WSR_EAPI;
	if (!cJSON_IsObject(have)) {
		cJSON_DeleteItemFromObjectCaseSensitive(meta, "labels");
		if (!(have = cJSON_AddObjectToObject(meta, "labels")))
			return WSR_ENOMEM;
	}
	cJSON_ArrayForEach(l, want)
	{
		const char *v = wsr_json_str(have, l->string);
		if (!cJSON_IsString(l) || (v && strcmp(v, l->valuestring) == 0))
			continue;
		*changed = 1;
		cJSON *s = cJSON_CreateString(l->valuestring);
		cJSON_DeleteItemFromObjectCaseSensitive(have, l->string);
		if (!s || !cJSON_AddItemToObject(have, l->string, s)) {
			cJSON_Delete(s);
			return WSR_ENOMEM;
		}
	}
	return 0;
}

/* One read-modify-write of the labels. *conflict when the PUT found a newer
 * resourceVersion; the op is done otherwise. */
static int update_once(wsr_provider *p, wsr_op *op, const cJSON *want, int *conflict,
		       wsr_diag *diag)
{
	step *s = &op->steps[0];
	long status;
	cJSON *ws = NULL, *json = NULL;
	int changed = 0;
	*conflict = 0;
	int rc = kc_get_workspace(p, &ws, &status, op->address, s->parent, s->name,
				  "the workspace cannot be read for its update", diag);
	if (!rc && !ws) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, op->address, NULL, "plan again",
			     "workspace %s:%s does not exist (any more)", s->parent, s->name);
		return WSR_EAPI;
	}
	if (!rc && !wsr_json_str(wsr_json_obj(ws, "metadata"), "resourceVersion"))
		rc = kc_malformed(diag, op->address, "reading the workspace for its update",
				  "field metadata.resourceVersion is missing or not a string");
	if (!rc && (rc = merge_labels(ws, want, &changed)) == WSR_EAPI)
		kc_malformed(diag, op->address, "reading the workspace for its update",
			     "field metadata is not an object");
	char *body = !rc && changed ? wsr_json_print(ws, 0) : NULL;
	char *url = body ? kc_api_path(s->parent, "workspaces", s->name) : NULL;
	if (!rc && changed)
		rc = body && url ? kc_call(p, &status, &json, op->address, "PUT", url, body, diag)
				 : WSR_ENOMEM;
	const cJSON *now = changed ? json : ws;
	if (!rc && changed && status == 409)
		*conflict = 1;
	else if (!rc && changed && status != 200)
		rc = kc_refused(p, diag, op->address, "kcp refused to update the workspace", status,
				json);
	else if (!rc && !cJSON_IsObject(now))
		rc = kc_malformed(diag, op->address, "updating the workspace",
				  "the answer is not a Workspace object");
	else if (!rc &&
		 !(rc = kc_is_named(diag, op->address, "updating the workspace", now, s->name))) {
		char *why = NULL;
		if ((rc = kc_workspace_to_resource(&op->result, now, s->parent, &why)) == WSR_EAPI)
			kc_malformed(diag, op->address, "updating the workspace", why);
		free(why);
		op->state = rc ? op->state : ST_DONE;
	}
	free(body);
	free(url);
	cJSON_Delete(ws);
	cJSON_Delete(json);
	return rc;
}

/* Sets the spec's labels (other labels stay), PUT with the resourceVersion
 * just read; a 409 Conflict means another client wrote in between: read
 * again and retry, KC_UPDATE_ATTEMPTS times in all. Location is create-only
 * on wsr's side and a type change is a replacement, so labels are all an
 * update changes. */
static int start_update(wsr_provider *p, wsr_op *op, const wsr_change *c, wsr_diag *diag)
{
	const cJSON *want = c->desired ? wsr_json_path(c->desired->spec, "metadata.labels") : NULL;
	int conflict = 1, rc = 0;
	for (int i = 0; i < KC_UPDATE_ATTEMPTS && conflict && !rc; i++)
		rc = update_once(p, op, want, &conflict, diag);
	if (!rc && conflict) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, op->address, NULL,
			     "another client keeps writing the workspace; run apply again",
			     "kcp answered 409 Conflict to %d updates in a row: the workspace "
			     "changed each time between reading and writing it",
			     KC_UPDATE_ATTEMPTS);
		rc = WSR_ECONFLICT;
	}
	return rc;
}

int kc_start(wsr_provider *p, const wsr_change *change, wsr_action action, wsr_op **out,
	     wsr_diag *diag)
{
	*out = NULL;
	wsr_op *op = calloc(1, sizeof(*op));
	if (!op || !(op->address = strdup(change->address))) {
		kc_op_free(op);
		return WSR_ENOMEM;
	}
	op->action = action;
	op->started_ms = wsr_clock_mono_ms();
	char parent[KC_PATH_MAX + 1], name[KC_NAME_MAX + 1];
	int rc = kc_is_user_home(op->address) ? 0 : kc_split_address(op->address, parent, name);
	if (!rc && kc_is_user_home(op->address)) {
		rc = start_home(p, op, diag);
	} else if (rc)
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, change->address, NULL, NULL,
			     "not a kcp workspace address (kcp/root:<name>...)");
	else if (action == WSR_ACT_TRANSFER || action == WSR_ACT_UPGRADE) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, change->address, NULL, NULL,
			     "%s is not supported by kcp", wsr_action_name(action));
		rc = WSR_EINVAL;
	} else if (action == WSR_ACT_CREATE) {
		rc = start_create(p, op, change, diag);
	} else if (!(op->steps = calloc(1, sizeof(*op->steps)))) {
		rc = WSR_ENOMEM;
	} else {
		op->nsteps = 1;
		snprintf(op->steps[0].parent, sizeof(op->steps[0].parent), "%s", parent);
		snprintf(op->steps[0].name, sizeof(op->steps[0].name), "%s", name);
		rc = action == WSR_ACT_UPDATE ? start_update(p, op, change, diag)
					      : start_delete(p, op, diag);
	}
	if (rc) {
		kc_op_free(op);
		return rc;
	}
	*out = op;
	return 0;
}

int kc_poll(wsr_provider *p, wsr_op *op, int *done, wsr_resource **result, wsr_diag *diag)
{
	*done = 0;
	*result = NULL;
	if (op->state != ST_DONE && p->timeout_s > 0 &&
	    wsr_clock_mono_ms() - op->started_ms > (int64_t)p->timeout_s * 1000) {
		char *path = step_path(cur(op));
		const char *hint =
		    "raise providers.kcp.timeout, or look at the workspace with kubectl";
		if (op->action == WSR_ACT_DELETE)
			wsr_diag_add(diag, WSR_SEV_ERROR, NULL, op->address, NULL, hint,
				     "workspace %s was not gone within %ld seconds",
				     path ? path : op->address, p->timeout_s);
		else
			wsr_diag_add(diag, WSR_SEV_ERROR, NULL, op->address, NULL, hint,
				     "workspace %s was not Ready within %ld seconds (phase %s)",
				     path ? path : op->address, p->timeout_s,
				     op->phase[0] ? op->phase : "unknown");
		free(path);
		return WSR_ETIMEOUT;
	}
	/* at most one waiting GET per poll; the steps that need no wait follow at once */
	int rc = 0, waited = 0;
	while (!rc && op->state != ST_DONE) {
		int waiting = op->state == ST_WAIT || op->state == ST_GONE || op->state == ST_HOME;
		if (waiting && waited)
			break;
		waited |= waiting;
		rc = advance(p, op, diag);
	}
	if (!rc && op->state == ST_DONE) {
		*done = 1;
		*result = op->result;
		op->result = NULL;
	}
	return rc;
}
