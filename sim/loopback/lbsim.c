/* lbsim: the Loopback emulator's lifecycle (load or seed its data) and its
 * front doors: injected faults taken, then one lock per request, the clock
 * read once, finished tasks swept, the API key checked, and the path routed
 * to its handler; /_sim requests go to simonly.c under the same lock. */
#include "sim/loopback/lbsim.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "sim/loopback/api.h"
#include "sim/loopback/faults.h"
#include "sim/loopback/persist.h"
#include "sim/loopback/seed.h"
#include "sim/loopback/simonly.h"

#define MAX_SEGMENTS 8
#define MAX_PATH 1024

struct wsr_lbsim {
	wsr_lbsim_store *s;
	pthread_mutex_t mu;
};

int wsr_lbsim_new(wsr_lbsim **out, wsr_lbsim_store *store)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return WSR_ENOMEM;
	(*out)->s = store;
	pthread_mutex_init(&(*out)->mu, NULL);
	return 0;
}

void wsr_lbsim_free(wsr_lbsim *l)
{
	if (!l)
		return;
	wsr_lbsim_store_free(l->s);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

/* A fresh platform from the seed: its workspaces are created once, here,
 * and platform.json is written last, so a seeding cut short leaves a folder
 * the next start refuses by name instead of serving half a seed. */
static int seeded(wsr_lbsim_store **s, const char *seed_file, const char *data_dir, char **err)
{
	cJSON *platform, *workspaces;
	int rc = wsr_lbsim_seed_load(&platform, seed_file, err);
	if (rc)
		return rc;
	/* the workspaces live in the store from now on, not in the description */
	workspaces = cJSON_DetachItemFromObjectCaseSensitive(platform, "workspaces");
	if ((rc = wsr_lbsim_store_new(s, platform, data_dir)) != 0) {
		*err = wsr_strdupf("%s", wsr_strerror(rc));
		cJSON_Delete(platform);
	} else if ((rc = wsr_lbsim_seed_workspaces(*s, workspaces, wsr_clock_now_ms())) != 0)
		*err = wsr_strdupf("%s: cannot write the seeded workspaces: %s",
				   data_dir ? data_dir : "loopback", wsr_strerror(rc));
	else if (data_dir && (rc = wsr_lbsim_persist_platform(data_dir, platform)) != 0)
		*err =
		    wsr_strdupf("%s: cannot write platform.json: %s", data_dir, wsr_strerror(rc));
	if (rc && *s) {
		wsr_lbsim_store_free(*s);
		*s = NULL;
	}
	cJSON_Delete(workspaces);
	return rc;
}

int wsr_lbsim_open(wsr_lbsim **out, const char *seed_file, const char *data_dir, char **err)
{
	wsr_lbsim_store *s = NULL;
	*out = NULL;
	*err = NULL;
	int rc = data_dir ? wsr_lbsim_persist_load(&s, data_dir, err) : WSR_ENOTFOUND;
	if (rc == WSR_ENOTFOUND)
		rc = seeded(&s, seed_file, data_dir, err);
	if (!rc && (rc = wsr_lbsim_new(out, s)) != 0)
		wsr_lbsim_store_free(s);
	if (rc && !*err)
		*err = wsr_strdupf("%s: %s", data_dir ? data_dir : "loopback", wsr_strerror(rc));
	return rc;
}

/* ---- routing ---- */

typedef void (*handler)(wsr_lbsim_call *c, char **args);

static void h_principal(wsr_lbsim_call *c, char **a)
{
	(void)a;
	wsr_lbsim_principal(c);
}

static void h_orgs(wsr_lbsim_call *c, char **a)
{
	(void)a;
	wsr_lbsim_org_list(c);
}

static void h_org(wsr_lbsim_call *c, char **a)
{
	wsr_lbsim_org_get(c, a[0]);
}

static void h_versions(wsr_lbsim_call *c, char **a)
{
	(void)a;
	wsr_lbsim_versions(c);
}

static void h_clusters(wsr_lbsim_call *c, char **a)
{
	(void)a;
	wsr_lbsim_clusters(c);
}

static void h_ws_list(wsr_lbsim_call *c, char **a)
{
	wsr_lbsim_ws_list(c, a[0]);
}

static void h_ws_create(wsr_lbsim_call *c, char **a)
{
	wsr_lbsim_ws_create(c, a[0]);
}

static void h_ws_get(wsr_lbsim_call *c, char **a)
{
	wsr_lbsim_ws_get(c, a[0], a[1]);
}

static void h_ws_patch(wsr_lbsim_call *c, char **a)
{
	wsr_lbsim_ws_patch(c, a[0], a[1]);
}

static void h_ws_delete(wsr_lbsim_call *c, char **a)
{
	wsr_lbsim_ws_delete(c, a[0], a[1]);
}

static void h_task(wsr_lbsim_call *c, char **a)
{
	wsr_lbsim_task_get(c, a[0]);
}

static void h_upgrades(wsr_lbsim_call *c, char **a)
{
	wsr_lbsim_ws_upgrades(c, a[0], a[1]);
}

static void h_upgrade(wsr_lbsim_call *c, char **a)
{
	wsr_lbsim_ws_upgrade(c, a[0], a[1]);
}

static void h_transfer(wsr_lbsim_call *c, char **a)
{
	wsr_lbsim_ws_transfer(c, a[0], a[1]);
}

static void h_profiles(wsr_lbsim_call *c, char **a)
{
	wsr_lbsim_ws_profiles(c, a[0], a[1]);
}

typedef struct route {
	const char *pattern; /* "*" matches one segment, passed to the handler */
	handler get, post, patch, del;
	const char *allow;
} route;

static const route routes[] = {
    {"v1/principal", h_principal, NULL, NULL, NULL, "GET"},
    {"v1/organizations", h_orgs, NULL, NULL, NULL, "GET"},
    {"v1/organizations/*", h_org, NULL, NULL, NULL, "GET"},
    {"v1/organizations/*/workspaces", h_ws_list, h_ws_create, NULL, NULL, "GET, POST"},
    {"v1/organizations/*/workspaces/*", h_ws_get, NULL, h_ws_patch, h_ws_delete,
     "GET, PATCH, DELETE"},
    {"v1/organizations/*/workspaces/*/upgrades", h_upgrades, NULL, NULL, NULL, "GET"},
    {"v1/organizations/*/workspaces/*/upgrade", NULL, h_upgrade, NULL, NULL, "POST"},
    {"v1/organizations/*/workspaces/*/transfer", NULL, h_transfer, NULL, NULL, "POST"},
    {"v1/organizations/*/workspaces/*/compute-profiles", h_profiles, NULL, NULL, NULL, "GET"},
    {"v1/kubernetes-versions", h_versions, NULL, NULL, NULL, "GET"},
    {"v1/management-clusters", h_clusters, NULL, NULL, NULL, "GET"},
    {"v1/tasks/*", h_task, NULL, NULL, NULL, "GET"},
};

/* Splits a path on '/' in place, ignoring empty segments; -1 when too many. */
static int split(char *p, char **seg)
{
	int n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(p, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (n == MAX_SEGMENTS)
			return -1;
		seg[n++] = tok;
	}
	return n;
}

/* Matches the path segments against a pattern, collecting the wildcards. */
static int match(const char *pattern, char **seg, int n, char **args)
{
	int i = 0, nargs = 0;
	for (const char *p = pattern; *p; i++) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (i >= n)
			return 0;
		if (len == 1 && *p == '*')
			args[nargs++] = seg[i];
		else if (strlen(seg[i]) != len || strncmp(seg[i], p, len) != 0)
			return 0;
		p += len + (slash ? 1 : 0);
	}
	return i == n;
}

static handler for_method(const route *r, const char *method)
{
	if (strcmp(method, "GET") == 0)
		return r->get;
	if (strcmp(method, "POST") == 0)
		return r->post;
	if (strcmp(method, "PATCH") == 0)
		return r->patch;
	return strcmp(method, "DELETE") == 0 ? r->del : NULL;
}

static void dispatch(wsr_lbsim_call *c, char **seg, int n)
{
	char *args[MAX_SEGMENTS];
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!match(routes[i].pattern, seg, n, args))
			continue;
		handler h = for_method(&routes[i], c->req->method);
		if (h) {
			h(c, args);
			return;
		}
		c->resp->allow = routes[i].allow;
		wsr_sim_resp_error(c->resp, 405, "method_not_allowed",
				   "%s is not allowed here; use %s", c->req->method,
				   routes[i].allow);
		return;
	}
	wsr_sim_resp_error(c->resp, 404, "not_found", "no such path %s", c->req->path);
}

/* Fills in who is calling; 0, or -1 after answering 401. */
static int authenticate(wsr_lbsim_call *c)
{
	const char *h = wsr_sim_req_header(c->req, "Authorization");
	const cJSON *key = NULL;
	if (h && strncasecmp(h, "Bearer ", 7) == 0) {
		h += 7;
		while (*h == ' ')
			h++;
		key = wsr_lbsim_store_key(c->s, h);
	}
	if (!key) {
		wsr_sim_resp_error(c->resp, 401, "unauthenticated",
				   h ? "the API key is not known"
				     : "an API key is required (Authorization: Bearer <key>)");
		return -1;
	}
	const cJSON *projects = cJSON_GetObjectItemCaseSensitive(key, "projects");
	c->apikey = wsr_json_str(key, "key");
	c->org = wsr_lbsim_store_org(c->s, wsr_json_str(key, "organization"));
	c->perms = wsr_lbsim_key_perms(key);
	c->admin = strcmp(wsr_json_str(key, "role"), "admin") == 0;
	c->projects = cJSON_IsArray(projects) ? projects : NULL;
	return 0;
}

/* Replaces the answer with what the fault says: an error (with its
 * Retry-After) or nothing at all (a reset). */
static void injected(wsr_sim_resp *resp, const wsr_sim_fault_hit *hit)
{
	if (hit->kind == WSR_SIM_FAULT_RESET) {
		resp->reset = 1;
		return;
	}
	wsr_sim_resp_free(resp);
	wsr_sim_resp_error(resp, hit->status, hit->code, "injected fault");
	resp->retry_after = (unsigned)hit->retry_after;
}

void wsr_lbsim_handle(void *ctx, const wsr_sim_req *req, wsr_sim_resp *resp)
{
	wsr_lbsim *l = ctx;
	char path[MAX_PATH], *seg[MAX_SEGMENTS] = {NULL};
	int n = -1;
	if (strlen(req->path) < sizeof(path)) {
		strcpy(path, req->path);
		n = split(path, seg);
	}
	if (n < 1 || strcmp(seg[0], "v1") != 0) {
		wsr_sim_resp_error(resp, 404, "not_found", "no such path %.200s", req->path);
		return;
	}
	wsr_lbsim_call c = {req, resp, l->s, NULL, NULL, 0, 0, NULL, 0};
	wsr_sim_fault_hit hit;
	pthread_mutex_lock(&l->mu);
	int fault = !resp->faults_taken && wsr_lbsim_fault_take(l->s, req->method, req->path, &hit);
	pthread_mutex_unlock(&l->mu);
	if (fault && hit.kind == WSR_SIM_FAULT_SLOW && !hit.after) {
		resp->delay_ms =
		    hit.delay_ms; /* the server waits without the lock, then calls again */
		resp->wait_first = 1;
		return;
	}
	/* an injected answer before serving replaces the request whole: nothing is
	 * checked or done */
	if (fault && hit.kind != WSR_SIM_FAULT_SLOW && !hit.after) {
		injected(resp, &hit);
		return;
	}
	pthread_mutex_lock(&l->mu);
	c.now = wsr_clock_now_ms();
	wsr_lbsim_store_sweep(l->s, c.now);
	if (authenticate(&c) == 0)
		dispatch(&c, seg, n);
	pthread_mutex_unlock(&l->mu);
	if (fault && hit.kind == WSR_SIM_FAULT_SLOW)
		resp->delay_ms = hit.delay_ms; /* the server sends the answer late */
	else if (fault && hit.after)	       /* served, and the client is not told */
		injected(resp, &hit);
}

void wsr_lbsim_handle_sim(void *ctx, const wsr_sim_req *req, wsr_sim_resp *resp)
{
	wsr_lbsim *l = ctx;
	pthread_mutex_lock(&l->mu);
	int64_t now = wsr_clock_now_ms();
	wsr_lbsim_store_sweep(l->s, now);
	wsr_lbsim_simonly(l->s, req, resp, now);
	pthread_mutex_unlock(&l->mu);
}
