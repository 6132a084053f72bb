/* ops: the mutating operations (create, update, transfer, upgrade, delete)
 * as the engine drives them: start sends the request, poll advances the
 * platform's task with one or two short requests. Separate from check
 * because this is the only code that changes the platform. An op is
 * touched by one worker at a time and the provider's fields used here are
 * read-only after open, so concurrent ops need no lock (the http client is
 * thread-safe).
 *
 * Creates survive crashes: the Idempotency-Key is derived from the address
 * and the canonical body, so a re-run after a crash replays the first
 * answer instead of creating twice, and a 409 already_exists adopts the
 * workspace a lost answer had created. A replayed answer can be stale: its
 * task (succeeded or failed) made a workspace that is gone since. Then the
 * create is posted again under a key salted with that task, a chain that
 * stays deterministic across crashes. The creation that replaces a
 * workspace (a failed one, or one whose immutable field changed) salts its
 * key with the id of the workspace it replaces, so it never replays the
 * answer that made that one.
 *
 * An upgrade walks its path one hop at a time (the platform upgrades one
 * hop per request) and reports the workspace after every hop but the last
 * with *done == 0, so the engine records each finished hop: a re-run after a
 * crash starts from the version the platform then reports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "providers/loopback/lb.h"

typedef enum {
	OP_DONE,   /* finished; result holds the resource (NULL after a delete) */
	OP_TASK,   /* waiting for the platform's task */
	OP_FETCH,  /* the step finished (or a create was adopted): read the workspace */
	OP_STEP,   /* an upgrade hop finished: report result, then start the next hop */
	OP_HOP,	   /* start the next upgrade hop */
	OP_SETTLE, /* a retried step was refused: see what its first attempt did */
} op_state;

struct wsr_op {
	wsr_action action;
	op_state state;
	char *address;
	char org[64], name[64];
	char *task_id;
	char *body;	/* create: the POST body, kept for a re-post */
	char *idem_key; /* create: "Idempotency-Key: ..." */
	int reposts;	/* create: stale replays posted again (LB_CREATE_REPOSTS_MAX) */
	cJSON *path;	/* upgrade: the versions, current first */
	int hop;	/* upgrade: index in path of the version the running hop goes to */
	char *project;	/* transfer: the destination */
	cJSON *refusal; /* OP_SETTLE: the retry's refusal, reported if the step did not land */
	long refusal_status;
	char *refusal_what;
	int64_t started_ms;
	wsr_resource *result;
};

void lb_op_free(wsr_op *op)
{
	if (!op)
		return;
	free(op->address);
	free(op->task_id);
	free(op->body);
	free(op->idem_key);
	cJSON_Delete(op->path);
	free(op->project);
	cJSON_Delete(op->refusal);
	free(op->refusal_what);
	wsr_resource_free(op->result);
	free(op);
}

/* "Idempotency-Key: wsr-<hex sha256 of seed>" */
static char *idempotency_header(const char *seed)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (EVP_Digest(seed, strlen(seed), md, &n, EVP_sha256(), NULL) != 1)
		return NULL;
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_puts(&b, "Idempotency-Key: wsr-");
	for (unsigned int i = 0; i < n; i++)
		wsr_buf_printf(&b, "%02x", md[i]);
	return wsr_buf_detach(&b);
}

static char *workspaces_path(const wsr_op *op, int with_name)
{
	return lb_workspace_path(op->org, with_name ? op->name : NULL, NULL);
}

/* One request of an op; takes path (NULL: out of memory) and frees it. */
static int op_call(wsr_provider *p, const wsr_op *op, long *status, cJSON **json,
		   const char *method, char *path, const char *const *headers, const char *body,
		   wsr_diag *diag)
{
	*json = NULL;
	int rc = path ? lb_call(p, status, json, op->address, method, path, headers, body, diag)
		      : WSR_ENOMEM;
	free(path);
	return rc;
}

/* Takes {"task": {"id", "state"}} from a 202. */
static int take_task(wsr_op *op, const cJSON *json, wsr_diag *diag)
{
	const cJSON *task = wsr_json_obj(json, "task");
	const char *id = wsr_json_str(task, "id"), *state = wsr_json_str(task, "state");
	if (!id)
		return lb_malformed(diag, op->address, "starting the operation",
				    "a 202 answer must carry task.id");
	free(op->task_id);
	if (!(op->task_id = strdup(id)))
		return WSR_ENOMEM;
	op->state = OP_TASK;
	if (state && strcmp(state, "succeeded") == 0)
		op->state = op->action == WSR_ACT_DELETE ? OP_DONE : OP_FETCH;
	return 0;
}

static int post_create(wsr_provider *p, wsr_op *op, wsr_diag *diag)
{
	const char *headers[] = {op->idem_key, NULL};
	long status;
	cJSON *json = NULL;
	int rc =
	    op_call(p, op, &status, &json, "POST", workspaces_path(op, 0), headers, op->body, diag);
	const char *code = wsr_json_str(wsr_json_obj(json, "error"), "code");
	if (!rc && status == 202)
		rc = take_task(op, json, diag);
	else if (!rc && status == 409 && code && strcmp(code, "already_exists") == 0)
		op->state = OP_FETCH; /* a create whose answer was lost: adopt what it made */
	else if (!rc)
		rc = lb_refused(p, diag, op->address,
				"the platform refused to create the workspace", status, json);
	cJSON_Delete(json);
	return rc;
}

static int start_create(wsr_provider *p, wsr_op *op, const wsr_change *c, wsr_diag *diag)
{
	if (!c->desired) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, op->address, NULL, NULL,
			     "internal error: a create without a desired workspace");
		return WSR_EINVAL;
	}
	cJSON *body = lb_create_body(c->desired);
	op->body = body ? wsr_json_print(body, 0) : NULL;
	cJSON_Delete(body);
	const char *replaces = c->observed && c->observed->id ? c->observed->id : NULL;
	char *seed = !op->body ? NULL
		     : replaces
			 ? wsr_strdupf("%s\n%s\nreplaces %s", op->address, op->body, replaces)
			 : wsr_strdupf("%s\n%s", op->address, op->body);
	op->idem_key = seed ? idempotency_header(seed) : NULL;
	free(seed);
	return op->idem_key ? post_create(p, op, diag) : WSR_ENOMEM;
}

/* Maps a Workspace answer into op->result and marks the op done. Another
 * workspace than the op's is refused, as lb_read refuses it: the engine
 * would record it under the op's address. */
static int take_workspace(wsr_op *op, const cJSON *ws, wsr_diag *diag)
{
	char *why = NULL;
	int rc = lb_workspace_to_resource(&op->result, ws, &why);
	if (rc == WSR_EAPI)
		lb_malformed(diag, op->address, "reading the workspace", why);
	free(why);
	if (!rc && strcmp(op->result->address, op->address) != 0) {
		rc = lb_malformed(diag, op->address, "reading the workspace",
				  "the platform answered with another workspace");
		wsr_resource_free(op->result);
		op->result = NULL;
	}
	if (!rc)
		op->state = OP_DONE;
	return rc;
}

/* The op is finished before any request: the platform already has what
 * the action wants, so the result is the workspace as observed. */
static int already_done(wsr_op *op, const wsr_change *c)
{
	op->state = OP_DONE;
	return c->observed && !(op->result = wsr_resource_dup(c->observed)) ? WSR_ENOMEM : 0;
}

static const char *path_str(const cJSON *root, const char *dotted)
{
	const cJSON *v = wsr_json_path(root, dotted);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int start_update(wsr_provider *p, wsr_op *op, const wsr_change *c, wsr_diag *diag)
{
	cJSON *patch = c->desired ? lb_patch_body(c) : NULL;
	if (!patch)
		return WSR_ENOMEM;
	if (!patch->child) { /* nothing the platform updates in place was touched */
		cJSON_Delete(patch);
		return already_done(op, c);
	}
	char *body = wsr_json_print(patch, 0);
	cJSON_Delete(patch);
	long status;
	cJSON *json = NULL;
	int rc =
	    body ? op_call(p, op, &status, &json, "PATCH", workspaces_path(op, 1), NULL, body, diag)
		 : WSR_ENOMEM;
	if (!rc && status == 200)
		rc = take_workspace(op, json, diag);
	else if (!rc)
		rc = lb_refused(p, diag, op->address,
				"the platform refused to update the workspace", status, json);
	cJSON_Delete(json);
	free(body);
	return rc;
}

static int start_delete(wsr_provider *p, wsr_op *op, wsr_diag *diag)
{
	long status;
	cJSON *json = NULL;
	int rc = op_call(p, op, &status, &json, "DELETE", workspaces_path(op, 1), NULL, NULL, diag);
	if (!rc && status == 202)
		rc = take_task(op, json, diag);
	else if (!rc && status == 404)
		op->state = OP_DONE; /* already gone: what a delete wants */
	else if (!rc)
		rc = lb_refused(p, diag, op->address,
				"the platform refused to delete the workspace", status, json);
	cJSON_Delete(json);
	return rc;
}

/* A refusal of a step may be the platform refusing our own earlier
 * attempt of it, carried out but with its answer lost (a reset or a 502
 * after serving): "workspace is upgrading", "in project sandbox already",
 * "not newer than 1.30.2". lib/http cannot tell: libcurl itself sends a
 * request again when the reused connection it went out on died before any
 * answer. So a 400, 409 or 422 is checked against the workspace first
 * (OP_SETTLE); it is the refusal only when the workspace does not show
 * the step's outcome, nor is busy doing it. */
static int maybe_own_attempt(long status)
{
	return status == 400 || status == 409 || status == 422;
}

/* POST <workspace><suffix> {"key": "value"}: one step of a transfer or an
 * upgrade, answered 202 with the platform's task. what: for a refusal. */
static int post_step(wsr_provider *p, wsr_op *op, const char *suffix, const char *key,
		     const char *value, const char *what, wsr_diag *diag)
{
	cJSON *b = cJSON_CreateObject();
	char *body = b && cJSON_AddStringToObject(b, key, value) ? wsr_json_print(b, 0) : NULL;
	char *path = lb_workspace_path(op->org, op->name, suffix);
	cJSON_Delete(b);
	long status;
	cJSON *json = NULL;
	op->started_ms = wsr_clock_mono_ms();
	int rc = body && path
		     ? lb_call(p, &status, &json, op->address, "POST", path, NULL, body, diag)
		     : WSR_ENOMEM;
	if (!rc && status == 202) {
		rc = take_task(op, json, diag);
	} else if (!rc && maybe_own_attempt(status)) {
		cJSON_Delete(op->refusal);
		free(op->refusal_what);
		op->refusal = json;
		op->refusal_status = status;
		op->refusal_what = strdup(what);
		json = NULL;
		op->state = OP_SETTLE;
		rc = op->refusal_what ? 0 : WSR_ENOMEM;
	} else if (!rc) {
		rc = lb_refused(p, diag, op->address, what, status, json);
	}
	cJSON_Delete(json);
	free(path);
	free(body);
	return rc;
}

static const char *hop_version(const wsr_op *op, int i)
{
	const cJSON *v = cJSON_GetArrayItem(op->path, i);
	return cJSON_IsString(v) ? v->valuestring : "?";
}

static int post_hop(wsr_provider *p, wsr_op *op, wsr_diag *diag)
{
	char *what = wsr_strdupf("the platform refused the upgrade %s → %s",
				 hop_version(op, op->hop - 1), hop_version(op, op->hop));
	int rc = what
		     ? post_step(p, op, "/upgrade", "version", hop_version(op, op->hop), what, diag)
		     : WSR_ENOMEM;
	free(what);
	return rc;
}

/* The plan's path (check computed it from the same catalog) fits when it
 * runs from the version the workspace has to the desired one. */
static int path_fits(const cJSON *path, const char *from, const char *to)
{
	int n = cJSON_GetArraySize(path);
	const cJSON *v;
	cJSON_ArrayForEach(v, path)
	{
		if (!cJSON_IsString(v))
			return 0;
	}
	return n >= 2 && strcmp(cJSON_GetArrayItem(path, 0)->valuestring, from) == 0 &&
	       strcmp(cJSON_GetArrayItem(path, n - 1)->valuestring, to) == 0;
}

/* Upgrades start from the version observed, so after a crash the re-run's
 * plan (a fresh observation) starts after the hops already done. */
static int start_upgrade(wsr_provider *p, wsr_op *op, const wsr_change *c, wsr_diag *diag)
{
	const char *from = c->observed ? path_str(c->observed->spec, "kubernetes.version") : NULL;
	const char *to = c->desired ? path_str(c->desired->spec, "kubernetes.version") : NULL;
	if (!from || !to) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, op->address, NULL, NULL,
			     "internal error: an upgrade needs the running and the desired "
			     "Kubernetes version");
		return WSR_EINVAL;
	}
	if (strcmp(from, to) == 0)
		return already_done(op, c);
	const cJSON *planned = c->extra ? wsr_json_arr(c->extra, "upgradePath") : NULL;
	int rc = 0;
	if (path_fits(planned, from, to)) {
		rc = (op->path = cJSON_Duplicate(planned, 1)) ? 0 : WSR_ENOMEM;
	} else {
		cJSON *versions = NULL;
		rc = lb_get_all(p, &versions, "/v1/kubernetes-versions", diag);
		if (!rc)
			rc = lb_upgrade_path(&op->path, NULL, versions, from, to);
		cJSON_Delete(versions);
		if (!rc && !op->path) {
			wsr_diag_add(diag, WSR_SEV_ERROR, NULL, op->address, NULL,
				     "plan again to see the reachable versions",
				     "no upgrade path leads from Kubernetes %s to %s", from, to);
			rc = WSR_EAPI;
		}
	}
	op->hop = 1;
	return rc ? rc : post_hop(p, op, diag);
}

static int start_transfer(wsr_provider *p, wsr_op *op, const wsr_change *c, wsr_diag *diag)
{
	const char *dst = c->desired ? wsr_json_str(c->desired->spec, "project") : NULL;
	const char *src = c->observed ? wsr_json_str(c->observed->spec, "project") : NULL;
	if (!dst) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, op->address, NULL, NULL,
			     "internal error: a transfer without a desired project");
		return WSR_EINVAL;
	}
	if (src && strcmp(src, dst) == 0)
		return already_done(op, c);
	if (!(op->project = strdup(dst)))
		return WSR_ENOMEM;
	char *what =
	    wsr_strdupf("the platform refused to transfer the workspace to project %s", dst);
	int rc = what ? post_step(p, op, "/transfer", "project", dst, what, diag) : WSR_ENOMEM;
	free(what);
	return rc;
}

int lb_start(wsr_provider *p, const wsr_change *change, wsr_action action, wsr_op **out,
	     wsr_diag *diag)
{
	*out = NULL;
	wsr_op *op = calloc(1, sizeof(*op));
	if (!op || !(op->address = strdup(change->address))) {
		lb_op_free(op);
		return WSR_ENOMEM;
	}
	op->action = action;
	op->started_ms = wsr_clock_mono_ms();
	int rc = lb_parse_address(op->address, op->org, op->name);
	if (rc)
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, change->address, NULL, NULL,
			     "not a loopback address (loopback/<organization>/<workspace>)");
	else if (action == WSR_ACT_CREATE)
		rc = start_create(p, op, change, diag);
	else if (action == WSR_ACT_UPDATE)
		rc = start_update(p, op, change, diag);
	else if (action == WSR_ACT_TRANSFER)
		rc = start_transfer(p, op, change, diag);
	else if (action == WSR_ACT_UPGRADE)
		rc = start_upgrade(p, op, change, diag);
	else
		rc = start_delete(p, op, diag);
	if (rc) {
		lb_op_free(op);
		return rc;
	}
	*out = op;
	return 0;
}

/* A replayed create whose workspace is gone (created, or failed, and
 * deleted since, by an earlier life of this address): post once more under
 * a key salted with the old task, which stays deterministic for a crash
 * during this re-post. */
static int repost(wsr_provider *p, wsr_op *op, wsr_diag *diag)
{
	char *seed = wsr_strdupf("%s\n%s", op->idem_key, op->task_id);
	char *key = seed ? idempotency_header(seed) : NULL;
	free(seed);
	if (!key)
		return WSR_ENOMEM;
	free(op->idem_key);
	op->idem_key = key;
	op->reposts++;
	return post_create(p, op, diag);
}

/* After a transfer or an upgrade hop: the workspace must show what the
 * finished task promised, else the step did not happen as reported. */
static int step_landed(wsr_op *op, wsr_diag *diag)
{
	const cJSON *spec = op->result->spec;
	const char *want = op->action == WSR_ACT_UPGRADE ? hop_version(op, op->hop) : op->project;
	const char *field = op->action == WSR_ACT_UPGRADE ? "kubernetes.version" : "project";
	const char *got = path_str(spec, field);
	if (got && strcmp(got, want) == 0)
		return 0;
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, op->address, NULL,
		     "plan again: the next plan shows where the workspace is",
		     "the platform reported the %s finished, but the workspace's %s is %s, not %s",
		     wsr_action_name(op->action), field, got ? got : "missing", want);
	return WSR_EAPI;
}

static int fetch_workspace(wsr_provider *p, wsr_op *op, wsr_diag *diag)
{
	long status;
	cJSON *json = NULL;
	int rc = op_call(p, op, &status, &json, "GET", workspaces_path(op, 1), NULL, NULL, diag);
	if (!rc && status == 200)
		rc = take_workspace(op, json, diag);
	else if (!rc && status == 404 && op->action == WSR_ACT_CREATE && op->task_id &&
		 op->reposts < LB_CREATE_REPOSTS_MAX)
		rc = repost(p, op, diag);
	else if (!rc)
		rc = lb_refused(p, diag, op->address,
				op->action == WSR_ACT_CREATE
				    ? "the workspace cannot be read after its creation"
				    : "the workspace cannot be read after the operation",
				status, json);
	cJSON_Delete(json);
	if (!rc && op->state == OP_DONE &&
	    (op->action == WSR_ACT_UPGRADE || op->action == WSR_ACT_TRANSFER))
		rc = step_landed(op, diag);
	if (!rc && op->state == OP_DONE && op->action == WSR_ACT_UPGRADE &&
	    op->hop + 1 < cJSON_GetArraySize(op->path))
		op->state = OP_STEP;
	return rc;
}

/* OP_SETTLE: while the workspace is busy with the step (upgrading,
 * transferring) the op waits; once it is not, a workspace that shows the
 * step's outcome means the first attempt did it (read it as after a task);
 * anything else is the refusal the retry got. */
static int settle(wsr_provider *p, wsr_op *op, wsr_diag *diag)
{
	long status;
	cJSON *json = NULL;
	int rc = op_call(p, op, &status, &json, "GET", workspaces_path(op, 1), NULL, NULL, diag);
	const char *state = wsr_json_str(json, "state");
	const int up = op->action == WSR_ACT_UPGRADE;
	const char *got = path_str(json, up ? "kubernetes.version" : "project");
	const char *want = up ? hop_version(op, op->hop) : op->project;
	if (!rc && status != 200)
		rc = lb_refused(p, diag, op->address, "the workspace cannot be read", status, json);
	else if (!rc && state && strcmp(state, up ? "upgrading" : "transferring") == 0)
		rc = 0; /* still at it: read it again at the next poll */
	else if (!rc && state && strcmp(state, "active") == 0 && got && strcmp(got, want) == 0)
		op->state = OP_FETCH;
	else if (!rc)
		rc = lb_refused(p, diag, op->address, op->refusal_what, op->refusal_status,
				op->refusal);
	cJSON_Delete(json);
	return rc;
}

static int task_failed(wsr_op *op, const cJSON *task, wsr_diag *diag)
{
	const cJSON *e = wsr_json_obj(task, "error");
	const char *code = wsr_json_str(e, "code"), *msg = wsr_json_str(e, "message");
	char *detail = wsr_strdupf("task %s, code %s", op->task_id, code ? code : "(none)");
	if (!msg)
		msg = "no reason given";
	if (op->action == WSR_ACT_UPGRADE)
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, op->address, detail,
			     op->hop > 1 ? "the hops before it are done and recorded" : NULL,
			     "upgrade %s → %s failed: %s", hop_version(op, op->hop - 1),
			     hop_version(op, op->hop), msg);
	else if (op->action == WSR_ACT_TRANSFER)
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, op->address, detail, NULL,
			     "transfer to project %s failed: %s", op->project, msg);
	else if (op->action == WSR_ACT_CREATE)
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, op->address, detail,
			     "the platform leaves the workspace failed and wsr records nothing; "
			     "the next plan replaces it (deletes it and creates it again)",
			     "the platform's create failed: %s", msg);
	else
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, op->address, detail, NULL,
			     "the platform's %s failed: %s", wsr_action_name(op->action), msg);
	free(detail);
	return WSR_EAPI;
}

/* A create's task failed. When its workspace is gone the answer was a
 * stale replay (see repost); else the creation really failed. */
static int create_failed(wsr_provider *p, wsr_op *op, const cJSON *task, wsr_diag *diag)
{
	long status = 0;
	cJSON *json = NULL;
	int rc =
	    op->reposts < LB_CREATE_REPOSTS_MAX
		? op_call(p, op, &status, &json, "GET", workspaces_path(op, 1), NULL, NULL, diag)
		: 0;
	cJSON_Delete(json);
	if (rc)
		return rc;
	if (op->reposts < LB_CREATE_REPOSTS_MAX && status == 404)
		return repost(p, op, diag);
	return task_failed(op, task, diag);
}

static int poll_task(wsr_provider *p, wsr_op *op, wsr_diag *diag)
{
	char *esc = wsr_http_escape(op->task_id);
	long status;
	cJSON *json = NULL;
	int rc = op_call(p, op, &status, &json, "GET",
			 esc ? wsr_strdupf("/v1/tasks/%s", esc) : NULL, NULL, NULL, diag);
	const char *state = wsr_json_str(json, "state");
	if (!rc && status != 200)
		rc = lb_refused(p, diag, op->address, "the platform's task cannot be read", status,
				json);
	else if (!rc && !state)
		rc = lb_malformed(diag, op->address, "reading the task",
				  "task.state is not a string");
	else if (!rc && strcmp(state, "failed") == 0 && op->action == WSR_ACT_CREATE)
		rc = create_failed(p, op, json, diag);
	else if (!rc && strcmp(state, "failed") == 0)
		rc = task_failed(op, json, diag);
	else if (!rc && strcmp(state, "succeeded") == 0)
		op->state = op->action == WSR_ACT_DELETE ? OP_DONE : OP_FETCH;
	cJSON_Delete(json);
	free(esc);
	return rc;
}

int lb_poll(wsr_provider *p, wsr_op *op, int *done, wsr_resource **result, wsr_diag *diag)
{
	*done = 0;
	*result = NULL;
	int rc = 0;
	if (op->state != OP_DONE && op->state != OP_HOP && p->timeout_s > 0 &&
	    wsr_clock_mono_ms() - op->started_ms > (int64_t)p->timeout_s * 1000) {
		wsr_diag_add(
		    diag, WSR_SEV_ERROR, NULL, op->address, NULL,
		    "raise providers.loopback.timeout, or look at the task on the platform",
		    "the %s did not finish within %ld seconds", wsr_action_name(op->action),
		    p->timeout_s);
		return WSR_ETIMEOUT;
	}
	if (op->state == OP_HOP)
		rc = post_hop(p, op, diag);
	if (!rc && op->state == OP_TASK)
		rc = poll_task(p, op, diag);
	if (!rc && op->state == OP_SETTLE)
		rc = settle(p, op, diag);
	if (!rc && op->state == OP_FETCH)
		rc = fetch_workspace(p, op, diag);
	if (!rc && op->state == OP_STEP) { /* one hop done, more to go: report it */
		*result = op->result;
		op->result = NULL;
		op->hop++;
		op->state = OP_HOP;
	}
	if (!rc && op->state == OP_DONE) {
		*done = 1;
		*result = op->result;
		op->result = NULL;
	}
	return rc;
}
