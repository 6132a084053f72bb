/* simonly: the kcp emulator's own /_sim endpoints: POST /_sim/conflicts
 * (the next updates of a workspace find it changed by someone else),
 * POST|DELETE /_sim/faults (respond faults, answered as Status objects) and
 * POST /_sim/expire-continue (every continue token handed out so far
 * expires, as after an etcd compaction). */
#include "sim/kcp/api.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "sim/kcp/status.h"

/* Most conflicts one workspace can have pending. */
#define MAX_CONFLICTS 1000000

static void reply_count(wsr_sim_resp *r, int status, const char *key, double n)
{
	cJSON *v = cJSON_CreateObject();
	if (v && !cJSON_AddNumberToObject(v, key, n)) {
		cJSON_Delete(v);
		v = NULL;
	}
	wsr_sim_resp_json(r, status, v);
}

static cJSON *body(const wsr_sim_req *req, wsr_sim_resp *r)
{
	cJSON *v = NULL;
	char *err = NULL;
	if (wsr_json_parse(&v, req->body, req->len, &err) || !cJSON_IsObject(v)) {
		wsr_kcpsim_fail(r, 400, NULL, NULL, "the body must be a JSON object%s%s",
				err ? ": " : "", err ? err : "");
		cJSON_Delete(v);
		v = NULL;
	}
	free(err);
	return v;
}

static void faults(wsr_kcpsim_store *s, const wsr_sim_req *req, wsr_sim_resp *r)
{
	static const char *const keys[] = {"kind", "method", "path", "status",
					   "skip", "count",  NULL};
	char why[WSR_SIM_FAULT_WHY_MAX] = "";
	if (strcmp(req->method, "DELETE") == 0) {
		wsr_sim_faults_clear(&s->faults);
		reply_count(r, 200, "faults", 0);
		return;
	}
	cJSON *in = body(req, r);
	if (!in)
		return;
	wsr_sim_fault f;
	memset(&f, 0, sizeof(f));
	const char *kind = wsr_json_str(in, "kind");
	int rc = 0;
	for (const cJSON *it = in->child; it && !rc; it = it->next) {
		const char *const *k = keys;
		while (*k && strcmp(*k, it->string) != 0)
			k++;
		if (!*k) {
			snprintf(why, sizeof(why), "unknown field %.100s", it->string);
			rc = WSR_EINVAL;
		}
	}
	if (!rc && (!kind || strcmp(kind, "respond") != 0)) {
		snprintf(why, sizeof(why), "kind must be respond");
		rc = WSR_EINVAL;
	}
	if (!rc && (rc = wsr_sim_fault_respond(&f, in, 0, why)) != 0)
		wsr_sim_fault_free(&f);
	if (!rc)
		rc = wsr_sim_faults_add(&s->faults, &f, in, why);
	if (rc == WSR_EINVAL || rc == WSR_ELIMIT)
		wsr_kcpsim_fail(r, 400, NULL, NULL, "%s", why);
	else if (rc)
		wsr_kcpsim_server_error(r, 503, "", "out of memory");
	else
		reply_count(r, 201, "faults", (double)s->faults.n);
	cJSON_Delete(in);
}

static void conflicts(wsr_kcpsim_store *s, const wsr_sim_req *req, wsr_sim_resp *r)
{
	cJSON *in = body(req, r);
	if (!in)
		return;
	const char *path = wsr_json_str(in, "path");
	const cJSON *count = cJSON_GetObjectItemCaseSensitive(in, "count");
	double n = count ? (cJSON_IsNumber(count) ? count->valuedouble : -1) : 1;
	wsr_kcpsim_ws *w = path ? wsr_kcpsim_store_ws(s, path) : NULL;
	if (!path)
		wsr_kcpsim_fail(r, 400, NULL, NULL, "path must be a workspace path");
	else if (n < 1 || n > MAX_CONFLICTS || floor(n) != n)
		wsr_kcpsim_fail(r, 400, NULL, NULL, "count must be a whole number from 1 to %d",
				MAX_CONFLICTS);
	else if (!w || w == s->root)
		wsr_kcpsim_fail(r, 404, NULL, NULL, "workspace %.200s not found", path);
	else {
		w->conflicts =
		    w->conflicts + (long)n > MAX_CONFLICTS ? MAX_CONFLICTS : w->conflicts + (long)n;
		reply_count(r, 201, "conflicts", (double)w->conflicts);
	}
	cJSON_Delete(in);
}

void wsr_kcpsim_simonly(wsr_kcpsim_store *s, const wsr_sim_req *req, wsr_sim_resp *resp)
{
	const char *m = req->method;
	if (strcmp(req->path, "/_sim/faults") == 0) {
		if (strcmp(m, "POST") == 0 || strcmp(m, "DELETE") == 0)
			faults(s, req, resp);
		else {
			resp->allow = "POST, DELETE";
			wsr_kcpsim_fail(resp, 405, NULL, NULL, "use POST or DELETE");
		}
	} else if (strcmp(req->path, "/_sim/conflicts") == 0) {
		if (strcmp(m, "POST") == 0)
			conflicts(s, req, resp);
		else {
			resp->allow = "POST";
			wsr_kcpsim_fail(resp, 405, NULL, NULL, "use POST");
		}
	} else if (strcmp(req->path, "/_sim/expire-continue") == 0) {
		if (strcmp(m, "POST") == 0) {
			s->continue_floor = wsr_clock_now_ms();
			reply_count(resp, 200, "expiredUntil", (double)s->continue_floor);
		} else {
			resp->allow = "POST";
			wsr_kcpsim_fail(resp, 405, NULL, NULL, "use POST");
		}
	} else
		wsr_kcpsim_fail(resp, 404, NULL, NULL, "no such path %.200s", req->path);
}
