/* kcpsim: the kcp emulator's lifecycle (load or seed its data) and its
 * front door: one lock per request, the clock read once, due phase changes
 * written, injected answers given, the token checked (and impersonation),
 * /clusters/<path> resolved (404, or a refusal of content access: access.c),
 * and the rest of the path routed. */
#include "sim/kcp/kcpsim.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "sim/kcp/admission.h"
#include "sim/kcp/api.h"
#include "sim/kcp/persist.h"
#include "sim/kcp/seed.h"
#include "sim/kcp/status.h"
#include "sim/persist.h"

#define MAX_SEGMENTS 8

struct wsr_kcpsim {
	wsr_kcpsim_store *s;
	pthread_mutex_t mu;
};

static int wrap(wsr_kcpsim **out, wsr_kcpsim_store *s)
{
	if (!(*out = calloc(1, sizeof(**out))))
		return WSR_ENOMEM;
	(*out)->s = s;
	pthread_mutex_init(&(*out)->mu, NULL);
	return 0;
}

void wsr_kcpsim_free(wsr_kcpsim *k)
{
	if (!k)
		return;
	wsr_kcpsim_store_free(k->s);
	pthread_mutex_destroy(&k->mu);
	free(k);
}

/* One workspace of the seed, in its seeded phase from the start: Ready
 * follows the clock as usual, another phase stays until a client writes
 * one (Terminating and Deleting with a deletionTimestamp, never gone). */
static int seed_ws(wsr_kcpsim_store *s, const cJSON *entry, int64_t now)
{
	char cluster[WSR_KCPSIM_CLUSTER_LEN + 1], at[32];
	const char *path = wsr_json_str(entry, "path");
	int phase = wsr_kcpsim_phase_parse(wsr_json_str(entry, "phase"));
	phase = phase < 0 ? WSR_KCPSIM_READY : phase;
	wsr_kcpsim_new_cluster(s, cluster);
	cJSON *o = wsr_kcpsim_ws_object(strrchr(path, ':') + 1,
					cJSON_Duplicate(wsr_json_obj(entry, "labels"), 1), NULL,
					wsr_json_obj(entry, "type"), NULL, cluster, now, phase);
	if (o && phase >= WSR_KCPSIM_TERMINATING &&
	    !cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(o, "metadata"),
				     "deletionTimestamp", wsr_time_format(now, at, sizeof(at)))) {
		cJSON_Delete(o);
		o = NULL;
	}
	wsr_kcpsim_ws *w = o ? wsr_kcpsim_ws_new(path, o) : NULL;
	if (!w)
		return WSR_ENOMEM;
	w->created_at = w->initializing_at = w->ready_at = now;
	w->phase = phase;
	w->frozen = phase != WSR_KCPSIM_READY;
	if (phase >= WSR_KCPSIM_TERMINATING)
		w->deleted_at = w->deleting_at = now;
	int rc = wsr_kcpsim_store_create(s, w);
	if (rc)
		wsr_kcpsim_ws_free(w);
	return rc;
}

int wsr_kcpsim_open_platform(wsr_kcpsim **out, cJSON *platform, const char *data_dir, char **err)
{
	wsr_kcpsim_store *s = NULL;
	const cJSON *it;
	int64_t now = wsr_clock_now_ms();
	*out = NULL;
	*err = NULL;
	int rc = wsr_kcpsim_store_new(&s, platform, data_dir);
	if (rc) {
		cJSON_Delete(platform);
		*err = wsr_strdupf("%s", wsr_strerror(rc));
		return rc;
	}
	s->seeded_at = now;
	/* platform.json last: a seeding cut short leaves a folder the next
	 * start refuses by name instead of serving half a seed */
	cJSON_ArrayForEach(it, wsr_json_arr(s->platform, "workspaces"))
	{
		if (!rc)
			rc = seed_ws(s, it, now);
	}
	if (!rc)
		rc = wsr_kcpsim_persist_state(s);
	if (!rc && data_dir)
		rc = wsr_sim_persist_platform(data_dir, s->platform);
	if (!rc)
		rc = wrap(out, s);
	if (rc) {
		*err = wsr_strdupf("%s: cannot write the seeded server: %s",
				   data_dir ? data_dir : "kcp", wsr_strerror(rc));
		wsr_kcpsim_store_free(s);
	}
	return rc;
}

int wsr_kcpsim_open(wsr_kcpsim **out, const char *seed_file, const char *data_dir, char **err)
{
	wsr_kcpsim_store *s = NULL;
	cJSON *platform = NULL;
	*out = NULL;
	*err = NULL;
	int rc = data_dir ? wsr_sim_persist_load_platform(&platform, data_dir,
							  wsr_kcpsim_seed_check, err)
			  : WSR_ENOTFOUND;
	if (rc == WSR_ENOTFOUND) { /* new or empty: seed it */
		free(*err);
		*err = NULL;
		if ((rc = wsr_kcpsim_seed_load(&platform, seed_file, err)) == 0)
			return wsr_kcpsim_open_platform(out, platform, data_dir, err);
	} else if (!rc && (rc = wsr_kcpsim_store_new(&s, platform, data_dir)) != 0)
		cJSON_Delete(platform);
	else if (!rc && ((rc = wsr_kcpsim_persist_load(s, err)) != 0 || (rc = wrap(out, s)) != 0))
		wsr_kcpsim_store_free(s);
	if (rc && !*err)
		*err = wsr_strdupf("%s: %s", data_dir ? data_dir : "kcp", wsr_strerror(rc));
	return rc;
}

void wsr_kcpsim_set_url(wsr_kcpsim *k, const char *url)
{
	pthread_mutex_lock(&k->mu);
	snprintf(k->s->url, sizeof(k->s->url), "%s", url);
	pthread_mutex_unlock(&k->mu);
}

/* ---- routing ---- */

typedef void (*handler)(wsr_kcpsim_call *c, const char *name);

static void h_list(wsr_kcpsim_call *c, const char *name)
{
	(void)name;
	wsr_kcpsim_ws_list(c);
}

static void h_create(wsr_kcpsim_call *c, const char *name)
{
	(void)name;
	wsr_kcpsim_ws_create(c);
}

static void h_types(wsr_kcpsim_call *c, const char *name)
{
	(void)name;
	wsr_kcpsim_types_list(c);
}

static void h_ssar(wsr_kcpsim_call *c, const char *name)
{
	(void)name;
	wsr_kcpsim_ssar(c);
}

typedef struct route {
	const char *pattern; /* "*" matches one segment, the name handed to the handler */
	handler get, post, put, patch, del;
	const char *allow;
} route;

#define TENANCY "apis/tenancy.kcp.io/v1alpha1/"

static const route routes[] = {
    {TENANCY "workspaces", h_list, h_create, NULL, NULL, NULL, "GET, POST"},
    {TENANCY "workspaces/*", wsr_kcpsim_ws_get, NULL, wsr_kcpsim_ws_put, wsr_kcpsim_ws_patch,
     wsr_kcpsim_ws_delete, "GET, PUT, PATCH, DELETE"},
    {TENANCY "workspaces/*/status", wsr_kcpsim_ws_get, NULL, wsr_kcpsim_ws_status_put, NULL, NULL,
     "GET, PUT"},
    {TENANCY "workspacetypes", h_types, NULL, NULL, NULL, NULL, "GET"},
    {TENANCY "workspacetypes/*", wsr_kcpsim_types_get, NULL, NULL, NULL, NULL, "GET"},
    {"apis/authorization.k8s.io/v1/selfsubjectaccessreviews", NULL, h_ssar, NULL, NULL, NULL,
     "POST"},
    {"apis/core.kcp.io/v1alpha1/logicalclusters/*", wsr_kcpsim_logicalcluster_get, NULL, NULL, NULL,
     NULL, "GET"},
};

/* Matches rest against a pattern; *name gets the "*" segment (copied into
 * name_buf). */
static int match(const char *pattern, const char *rest, char *name_buf, size_t size)
{
	const char *star = strchr(pattern, '*');
	if (!star)
		return strcmp(pattern, rest) == 0;
	size_t pre = (size_t)(star - pattern);
	if (strncmp(pattern, rest, pre) != 0)
		return 0;
	const char *seg = rest + pre, *slash = strchr(seg, '/');
	size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
	if (n == 0 || n >= size || strcmp(star + 1, seg + n) != 0)
		return 0;
	memcpy(name_buf, seg, n);
	name_buf[n] = '\0';
	return 1;
}

static handler for_method(const route *r, const char *m)
{
	if (strcmp(m, "GET") == 0)
		return r->get;
	if (strcmp(m, "POST") == 0)
		return r->post;
	if (strcmp(m, "PUT") == 0)
		return r->put;
	if (strcmp(m, "PATCH") == 0)
		return r->patch;
	return strcmp(m, "DELETE") == 0 ? r->del : NULL;
}

static void no_such_path(wsr_kcpsim_call *c)
{
	wsr_kcpsim_fail(c->resp, 404, NULL, NULL,
			"the server could not find the requested resource");
}

static void dispatch(wsr_kcpsim_call *c, const char *rest)
{
	char name[WSR_KCPSIM_NAME_MAX + 2];
	if (wsr_kcpsim_discovery(c, rest))
		return;
	for (size_t i = 0; c->ws && i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!match(routes[i].pattern, rest, name, sizeof(name)))
			continue;
		handler h = for_method(&routes[i], c->req->method);
		if (h) {
			h(c, name);
			return;
		}
		c->resp->allow = routes[i].allow;
		wsr_kcpsim_fail(c->resp, 405, NULL, NULL,
				"the server does not allow this method on the requested resource "
				"(allowed: %s)",
				routes[i].allow);
		return;
	}
	no_such_path(c);
}

/* Resolves /clusters/<path>/rest into c->ws and *rest; 0, or -1 after
 * answering 404 or a refusal of content access (a missing home is 403, as
 * kcp denies a logical cluster it cannot find). */
static int resolve(wsr_kcpsim_call *c, const char *url, const char **rest)
{
	char path[WSR_KCPSIM_PATH_MAX + 1];
	const char *p = url + strlen("/clusters/"), *slash = strchr(p, '/');
	size_t n = slash ? (size_t)(slash - p) : strlen(p);
	*rest = slash ? slash + 1 : "";
	if (n < sizeof(path)) {
		memcpy(path, p, n);
		path[n] = '\0';
		c->ws = wsr_kcpsim_store_ws(c->s, path);
	}
	if (!c->ws && !c->s->buckets && strncmp(p, "user:", 5) == 0) {
		wsr_kcpsim_deny(c, *rest, "LogicalCluster not found");
		return -1;
	}
	if (!c->ws) {
		wsr_kcpsim_fail(c->resp, 404, NULL,
				wsr_kcpsim_details(n < sizeof(path) ? path : "", "workspaces"),
				"workspace %.*s%s not found", n > 200 ? 200 : (int)n, p,
				n > 200 ? "..." : "");
		return -1;
	}
	return wsr_kcpsim_content_access(c, *rest);
}

static void route_call(wsr_kcpsim_call *c)
{
	char rest[WSR_KCPSIM_MAX_URL + 1];
	const char *url = c->req->path, *r;
	size_t n = strlen(url);
	if (n > WSR_KCPSIM_MAX_URL) {
		no_such_path(c);
		return;
	}
	if (strncmp(url, "/clusters/", 10) == 0) {
		if (resolve(c, url, &r))
			return;
	} else
		r = url[0] == '/' ? url + 1 : url;
	snprintf(rest, sizeof(rest), "%s", r);
	n = strlen(rest);
	while (n && rest[n - 1] == '/') /* "/apis/" is "/apis" */
		rest[--n] = '\0';
	dispatch(c, rest);
}

void wsr_kcpsim_handle(void *ctx, const wsr_sim_req *req, wsr_sim_resp *resp)
{
	wsr_kcpsim *k = ctx;
	wsr_kcpsim_call c = {req, resp, k->s, NULL, NULL, 0, 0, NULL, NULL};
	char code[WSR_SIM_FAULT_CODE_MAX + 1];
	int status;
	pthread_mutex_lock(&k->mu);
	c.now = wsr_clock_now_ms();
	wsr_kcpsim_store_sweep(k->s, c.now);
	/* an injected answer replaces the request whole: nothing is checked or done */
	if (wsr_sim_faults_match(&k->s->faults, req->method, req->path, &status, code))
		wsr_kcpsim_server_error(resp, status, code, "injected fault");
	else if (wsr_kcpsim_authenticate(&c) == 0)
		route_call(&c);
	cJSON_Delete(c.as);
	pthread_mutex_unlock(&k->mu);
}

void wsr_kcpsim_handle_sim(void *ctx, const wsr_sim_req *req, wsr_sim_resp *resp)
{
	wsr_kcpsim *k = ctx;
	pthread_mutex_lock(&k->mu);
	wsr_kcpsim_store_sweep(k->s, wsr_clock_now_ms());
	wsr_kcpsim_simonly(k->s, req, resp);
	pthread_mutex_unlock(&k->mu);
}
