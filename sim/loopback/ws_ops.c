/* ws_ops: the day-two operations on a workspace, Kubernetes upgrades and
 * transfers between projects, and the two reads a client plans them with
 * (the one-hop upgrade targets, the compute profiles). Both operations run
 * as tasks for the platform's provisioning time; their refusals follow the
 * order of docs/api/loopback.md, as creation's do. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "sim/loopback/api.h"
#include "sim/loopback/catalog.h"
#include "sim/loopback/faults.h"

static const char *project_of(const wsr_lbsim_ws *w)
{
	return wsr_json_str(w->obj, "project");
}

/* The Kubernetes version of w, or NULL for a baremetal workspace. */
static const char *version_of(const wsr_lbsim_ws *w)
{
	return wsr_json_str(wsr_json_obj(w->obj, "kubernetes"), "version");
}

static void refuse(wsr_lbsim_call *c, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void refuse(wsr_lbsim_call *c, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wsr_sim_resp_error(c->resp, status, code, "%s", msg);
}

void wsr_lbsim_ws_upgrades(wsr_lbsim_call *c, const char *org, const char *name)
{
	wsr_lbsim_ws *w = wsr_lbsim_ws_find(c, org, name, WSR_LBSIM_WS_READ);
	if (!w)
		return;
	const char *current = version_of(w);
	cJSON *targets = current ? wsr_lbsim_upgrade_targets(c->s->platform, current)
				 : cJSON_CreateArray(); /* baremetal: nothing to upgrade */
	cJSON *page = targets ? wsr_lbsim_page_of(c, targets, "version") : NULL;
	if (!targets)
		wsr_lbsim_unavailable(c, WSR_ENOMEM);
	cJSON_Delete(targets);
	if (!page)
		return;
	if (!cJSON_AddItemToObject(page, "current",
				   current ? cJSON_CreateString(current) : cJSON_CreateNull())) {
		cJSON_Delete(page);
		wsr_lbsim_unavailable(c, WSR_ENOMEM);
		return;
	}
	wsr_sim_resp_json(c->resp, 200, page);
}

/* The required string field of a body; NULL after answering 400. */
static const char *body_str(wsr_lbsim_call *c, const cJSON *body, const char *key)
{
	const char *v = wsr_json_str(body, key);
	if (!cJSON_IsObject(body))
		wsr_sim_resp_error(c->resp, 400, "invalid_request",
				   "the body must be a JSON object");
	else if (!v || !v[0])
		wsr_sim_resp_error(c->resp, 400, "invalid_request",
				   "%s is required (a non-empty string)", key);
	else
		return v;
	return NULL;
}

/* 1 when w is active, else 0 after answering 409 naming its state. */
static int idle(wsr_lbsim_call *c, const wsr_lbsim_ws *w, const char *what)
{
	const char *state = wsr_lbsim_ws_state(w, c->now);
	if (strcmp(state, "active") == 0)
		return 1;
	refuse(c, 409, "conflict", "workspace %s is %s; only an active workspace can be %s",
	       w->name, state, what);
	return 0;
}

/* "1.30.2, 1.30.3" (or "none") into b. */
static void list_versions(wsr_buf *b, const cJSON *targets)
{
	const cJSON *t;
	cJSON_ArrayForEach(t, targets)
	{
		wsr_buf_printf(b, "%s%s", b->len ? ", " : "", wsr_json_str(t, "version"));
	}
	if (!b->len)
		wsr_buf_puts(b, "none");
}

/* The catalog refusals of an upgrade from current to want, in order; 1
 * when the hop is allowed, else 0 after answering 422. */
static int hop_allowed(wsr_lbsim_call *c, const char *current, const char *want)
{
	const cJSON *v = wsr_lbsim_catalog_version(c->s->platform, want);
	if (!v) {
		refuse(c, 422, "version_unknown", "Kubernetes version %s is not in the catalog",
		       want);
		return 0;
	}
	if (!wsr_json_bool(v, "active", 0)) {
		refuse(c, 422, "version_inactive", "Kubernetes version %s is no longer offered",
		       want);
		return 0;
	}
	if (wsr_lbsim_version_cmp(want, current) <= 0) {
		refuse(c, 422, "version_not_newer",
		       "%s is not newer than the current version %s; upgrades only go forward",
		       want, current);
		return 0;
	}
	if (wsr_lbsim_list_has(wsr_json_arr(v, "upgradeFrom"), current))
		return 1;
	cJSON *targets = wsr_lbsim_upgrade_targets(c->s->platform, current);
	wsr_buf b = WSR_BUF_INIT;
	list_versions(&b, targets);
	refuse(c, 422, "upgrade_not_allowed",
	       "%s cannot be reached from %s in one upgrade; eligible targets: %s", want, current,
	       wsr_buf_failed(&b) ? "(unknown)" : wsr_buf_str(&b));
	wsr_buf_free(&b);
	cJSON_Delete(targets);
	return 0;
}

/* Starts the task of an upgrade or transfer and answers 202. */
static void start(wsr_lbsim_call *c, wsr_lbsim_ws *w, int type, const char *arg)
{
	wsr_lbsim_task *t =
	    wsr_lbsim_task_new(type, w->org, w->name, c->now, c->s->provisioning_ms);
	int rc = t ? wsr_lbsim_fault_task(c->s, t) : WSR_ENOMEM;
	if (!rc)
		rc = wsr_lbsim_store_start_op(c->s, w, t, arg);
	if (rc) {
		wsr_lbsim_task_free(t);
		wsr_lbsim_unavailable(c, rc);
		return;
	}
	/* with no provisioning time the task has ended already: show its outcome */
	wsr_lbsim_store_sweep(c->s, c->now);
	wsr_lbsim_reply_ws_task(c, 202, w, t);
}

void wsr_lbsim_ws_upgrade(wsr_lbsim_call *c, const char *org, const char *name)
{
	cJSON *body = wsr_lbsim_body(c);
	const char *want = body ? body_str(c, body, "version") : NULL;
	wsr_lbsim_ws *w = want ? wsr_lbsim_ws_find(c, org, name, WSR_LBSIM_K8S_UPGRADE) : NULL;
	const char *current = w ? version_of(w) : NULL;
	if (w && !current)
		refuse(c, 422, "not_kubernetes",
		       "workspace %s is a baremetal workspace; it has no Kubernetes to upgrade",
		       w->name);
	else if (w && idle(c, w, "upgraded") && hop_allowed(c, current, want))
		start(c, w, WSR_LBSIM_TASK_UPGRADE, want);
	cJSON_Delete(body);
}

void wsr_lbsim_ws_transfer(wsr_lbsim_call *c, const char *org, const char *name)
{
	cJSON *body = wsr_lbsim_body(c);
	const char *dest = body ? body_str(c, body, "project") : NULL;
	wsr_lbsim_ws *w = dest ? wsr_lbsim_ws_lookup(c, org, name) : NULL;
	if (w && strcmp(dest, project_of(w)) == 0) {
		refuse(c, 400, "invalid_request", "workspace %s is in project %s already", w->name,
		       dest);
		w = NULL;
	}
	/* the key must be allowed to act on both sides of the move */
	if (w && wsr_lbsim_allowed(c, WSR_LBSIM_WS_TRANSFER, project_of(w)) &&
	    wsr_lbsim_allowed(c, WSR_LBSIM_WS_TRANSFER, dest)) {
		const cJSON *o = wsr_lbsim_store_org(c->s, w->org)->json;
		if (!wsr_lbsim_list_has(wsr_json_arr(o, "projects"), dest))
			refuse(c, 422, "project_not_found", "organization %s has no project %s",
			       w->org, dest);
		else if (idle(c, w, "transferred"))
			start(c, w, WSR_LBSIM_TASK_TRANSFER, dest);
	}
	cJSON_Delete(body);
}

void wsr_lbsim_ws_profiles(wsr_lbsim_call *c, const char *org, const char *name)
{
	wsr_lbsim_ws *w = wsr_lbsim_ws_find(c, org, name, WSR_LBSIM_WS_READ);
	if (!w)
		return;
	const cJSON *k = wsr_json_obj(w->obj, "kubernetes");
	const char *provider = k ? wsr_json_str(k, "computeProvider") : "baremetal";
	cJSON *profiles = wsr_lbsim_profiles(c->s->platform, c->org->json, provider);
	cJSON *page = profiles ? wsr_lbsim_page_of(c, profiles, "name") : NULL;
	if (!profiles)
		wsr_lbsim_unavailable(c, WSR_ENOMEM);
	cJSON_Delete(profiles);
	if (page)
		wsr_sim_resp_json(c->resp, 200, page);
}
