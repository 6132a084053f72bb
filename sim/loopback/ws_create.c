/* ws_create: creating a workspace, the request with the most rules, and
 * seeding the workspaces a seed asks for the same way. The refusals run in
 * the order docs/api/loopback.md gives, because clients (and their tests)
 * rely on which one wins when several apply. Creates are made safe to retry
 * by Idempotency-Key: the first answer is kept and replayed, status and
 * body. */
#include "sim/loopback/api.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "sim/loopback/body.h"
#include "sim/loopback/catalog.h"
#include "sim/loopback/faults.h"
#include "sim/loopback/platform.h"

#define SHA256_HEX 65

static void refuse(wsr_lbsim_call *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void refuse(wsr_lbsim_call *c, const char *code, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wsr_sim_resp_error(c->resp, 422, code, "%s", msg);
}

/* The organization-level refusals: 422 for its state, then 403 for the key. */
static int org_accepts(wsr_lbsim_call *c, const wsr_lbsim_org *o, const char *project)
{
	const char *state = wsr_json_str(o->json, "state");
	if (!wsr_json_bool(o->json, "verified", 0))
		refuse(c, "organization_not_verified", "organization %s is not verified", o->name);
	else if (strcmp(state, "active") != 0)
		refuse(c, "organization_inactive", "organization %s is %s", o->name, state);
	else if (!wsr_lbsim_list_has(wsr_json_arr(o->json, "projects"), project))
		refuse(c, "project_not_found", "organization %s has no project %s", o->name,
		       project);
	else
		return wsr_lbsim_allowed(c, WSR_LBSIM_WS_CREATE, project);
	return 0;
}

static int version_ok(wsr_lbsim_call *c, const cJSON *k)
{
	const char *want = wsr_json_str(k, "version");
	const cJSON *v = wsr_lbsim_catalog_version(c->s->platform, want);
	if (v && wsr_json_bool(v, "active", 0))
		return 1;
	if (v)
		refuse(c, "version_inactive", "Kubernetes version %s is no longer offered", want);
	else
		refuse(c, "version_unknown", "Kubernetes version %s is not in the catalog", want);
	return 0;
}

/* Chooses the management cluster: *name is NULL for a workspace that needs
 * none. Returns 0, or -1 after answering 422. */
static int place(wsr_lbsim_call *c, const cJSON *ws, const char **name)
{
	char why[WSR_LBSIM_WHY_MAX];
	const char *code;
	if (wsr_lbsim_place(name, &code, why, sizeof(why), c->s->platform, ws) == 0)
		return 0;
	refuse(c, code, "%s", why);
	return -1;
}

/* Fills in what the platform decides: id, organization, state, placement, times. */
static int stamp(cJSON *ws, const char *org, const char *cluster, int64_t now)
{
	char id[WSR_LBSIM_ID_MAX], t[32];
	wsr_lbsim_new_id(id, "ws-");
	wsr_time_format(now, t, sizeof(t));
	cJSON *k = cJSON_GetObjectItemCaseSensitive(ws, "kubernetes");
	int ok =
	    cJSON_ReplaceItemInObjectCaseSensitive(ws, "id", cJSON_CreateString(id)) &&
	    cJSON_ReplaceItemInObjectCaseSensitive(ws, "organization", cJSON_CreateString(org)) &&
	    cJSON_ReplaceItemInObjectCaseSensitive(ws, "state",
						   cJSON_CreateString("initializing")) &&
	    cJSON_ReplaceItemInObjectCaseSensitive(ws, "createdAt", cJSON_CreateString(t)) &&
	    cJSON_ReplaceItemInObjectCaseSensitive(ws, "updatedAt", cJSON_CreateString(t)) &&
	    (!cJSON_IsObject(k) || !cluster ||
	     cJSON_ReplaceItemInObjectCaseSensitive(k, "managementCluster",
						    cJSON_CreateString(cluster)));
	return ok ? 0 : WSR_ENOMEM;
}

/* The checks after the body's own: 404, 422, 403, 409, 422 in the documented order. */
static int admissible(wsr_lbsim_call *c, const char *orgname, const cJSON *ws, wsr_lbsim_org **o,
		      const char **cluster)
{
	const char *name = wsr_json_str(ws, "name");
	const cJSON *k = wsr_json_obj(ws, "kubernetes");
	if (!(*o = wsr_lbsim_own_org(c, orgname)) ||
	    !org_accepts(c, *o, wsr_json_str(ws, "project")))
		return -1;
	if (wsr_lbsim_store_ws(*o, name)) {
		wsr_sim_resp_error(c->resp, 409, "already_exists",
				   "a workspace named %s exists in organization %s", name, orgname);
		return -1;
	}
	if (k && !version_ok(c, k))
		return -1;
	return place(c, ws, cluster);
}

static void create(wsr_lbsim_call *c, const char *orgname)
{
	char why[WSR_LBSIM_WHY_MAX];
	cJSON *body = wsr_lbsim_body(c), *ws = NULL;
	wsr_lbsim_org *o;
	const char *cluster;
	if (!body)
		return;
	int rc = wsr_lbsim_body_create(&ws, body, c->admin, why);
	cJSON_Delete(body);
	if (rc == WSR_EINVAL)
		wsr_sim_resp_error(c->resp, 400, "invalid_request", "%s", why);
	else if (!rc && !admissible(c, orgname, ws, &o, &cluster))
		rc = stamp(ws, o->name, cluster, c->now);
	else if (!rc)
		rc = WSR_EINVAL; /* refused; admissible answered */
	if (rc == WSR_ENOMEM)
		wsr_lbsim_unavailable(c, rc);
	if (rc) {
		cJSON_Delete(ws);
		return;
	}
	const char *name = wsr_json_str(ws, "name");
	wsr_lbsim_ws *w = wsr_lbsim_ws_new(name, o->name, ws);
	wsr_lbsim_task *t =
	    wsr_lbsim_task_new(WSR_LBSIM_TASK_CREATE, o->name, name, c->now, c->s->provisioning_ms);
	rc = w && t ? wsr_lbsim_fault_task(c->s, t) : WSR_ENOMEM;
	if (!w)
		cJSON_Delete(ws);
	if (!rc) {
		w->failed = t->err_code != NULL;
		w->ready_at = t->finished_at;
		snprintf(w->create_task, sizeof(w->create_task), "%s", t->id);
		rc = wsr_lbsim_store_create(c->s, o, w, t);
	}
	if (rc) {
		wsr_lbsim_ws_free(w);
		wsr_lbsim_task_free(t);
		wsr_lbsim_unavailable(c, rc);
		return;
	}
	wsr_lbsim_reply_ws_task(c, 202, w, t);
}

/* Records are keyed by a digest of the API key and the Idempotency-Key, so
 * the API key itself is never written into a file name or record. */
static int idem_id(char *out, const char *apikey, const char *key)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *x = EVP_MD_CTX_new();
	int ok = x && EVP_DigestInit_ex(x, EVP_sha256(), NULL) &&
		 EVP_DigestUpdate(x, apikey, strlen(apikey) + 1) &&
		 EVP_DigestUpdate(x, key, strlen(key)) && EVP_DigestFinal_ex(x, md, &n);
	EVP_MD_CTX_free(x);
	for (unsigned i = 0; ok && i < n && 2 * i + 2 < SHA256_HEX; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return ok ? 0 : WSR_ENOMEM;
}

void wsr_lbsim_ws_create(wsr_lbsim_call *c, const char *orgname)
{
	const char *key = wsr_sim_req_header(c->req, "Idempotency-Key");
	char id[SHA256_HEX];
	if (key && (!key[0] || strlen(key) > WSR_LBSIM_IDEM_KEY_MAX)) {
		wsr_sim_resp_error(c->resp, 400, "invalid_request",
				   "Idempotency-Key must be 1 to %d bytes", WSR_LBSIM_IDEM_KEY_MAX);
		return;
	}
	if (key && idem_id(id, c->apikey, key)) {
		wsr_lbsim_unavailable(c, WSR_ENOMEM);
		return;
	}
	const wsr_lbsim_idem *seen = key ? wsr_lbsim_store_idem(c->s, id) : NULL;
	if (seen) {
		wsr_sim_resp_free(c->resp);
		c->resp->status = seen->status;
		c->resp->body = strdup(seen->body);
		if (!c->resp->body)
			wsr_lbsim_unavailable(c, WSR_ENOMEM);
		return;
	}
	create(c, orgname);
	/* a 503 said nothing happened: a retry must be free to try again */
	if (key && c->resp->status != 503 && c->resp->body)
		wsr_lbsim_store_remember(c->s, id, c->resp->status, c->resp->body);
}

int wsr_lbsim_seed_workspaces(wsr_lbsim_store *s, const cJSON *list, int64_t now)
{
	const cJSON *it;
	int rc = 0;
	cJSON_ArrayForEach(it, list)
	{
		const char *orgname = wsr_json_str(it, "organization");
		const char *cluster =
		    wsr_json_str(wsr_json_obj(it, "kubernetes"), "managementCluster");
		wsr_lbsim_org *o = wsr_lbsim_store_org(s, orgname);
		cJSON *ws = cJSON_Duplicate(it, 1);
		wsr_lbsim_ws *w = NULL;
		rc = o && ws ? stamp(ws, o->name, cluster, now) : WSR_ENOMEM;
		if (!rc && !(w = wsr_lbsim_ws_new(wsr_json_str(ws, "name"), o->name, ws)))
			rc = WSR_ENOMEM;
		if (!rc) /* no task, ready_at 0: active from the start */
			rc = wsr_lbsim_store_create(s, o, w, NULL);
		if (rc) {
			if (w)
				wsr_lbsim_ws_free(w);
			else
				cJSON_Delete(ws);
			break;
		}
	}
	return rc;
}
