/* kcpsim_fixture: what the kcp emulator's topic tests share
 * (tests/unit/test_kcpsim_*.c): a server opened from seed text with an
 * injected clock, one request with any headers and query, and the checks
 * of a Status answer. Included after cmocka.h. */
#ifndef WSR_TESTS_KCPSIM_FIXTURE_H
#define WSR_TESTS_KCPSIM_FIXTURE_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "sim/kcp/kcpsim.h"
#include "sim/kcp/seed.h"
#include "sim/server.h"

#define KF_TENANCY "/apis/tenancy.kcp.io/v1alpha1"
#define KF_WS(path) "/clusters/" path KF_TENANCY "/workspaces"
#define KF_URL "http://127.0.0.1:6443"
/* Room for extra header names and values in one request. */
#define KF_HEADERS_MAX 64
/* The users every topic seed starts with. */
#define KF_USERS                                                                                   \
	"users:\n"                                                                                 \
	"  - {name: admin, token: admin-token, groups: [\"system:masters\"]}\n"                    \
	"  - {name: alice, token: alice-token, groups: [acme-admins]}\n"                           \
	"  - {name: bob, token: bob-token}\n"

static int64_t kf_now = 1790000000000;

static int64_t kf_clock(void)
{
	return kf_now;
}

/* A server seeded from text (in memory, or in dir when not NULL). */
static inline wsr_kcpsim *kf_open_in(const char *text, const char *dir)
{
	cJSON *p;
	char *err = NULL;
	wsr_kcpsim *k;
	wsr_clock_set(kf_clock);
	if (wsr_kcpsim_seed_parse(&p, "seed.yaml", text, strlen(text), &err))
		fail_msg("%s", err);
	if (wsr_kcpsim_open_platform(&k, p, dir, &err))
		fail_msg("%s", err);
	wsr_kcpsim_set_url(k, KF_URL);
	return k;
}

static inline wsr_kcpsim *kf_open(const char *text)
{
	return kf_open_in(text, NULL);
}

/* One request. token NULL is the admin's; extra is NULL or name, value
 * pairs ending in NULL; query likewise. Returns the status; *out is the
 * parsed answer, or NULL when it is no JSON (then *text, if asked for,
 * holds it; the caller frees). */
static inline int kf_req(wsr_kcpsim *k, const char *method, const char *path, const char *body,
			 const char *token, const char *const *extra, const char *const *query,
			 cJSON **out, char **text)
{
	char auth[128];
	const char *headers[KF_HEADERS_MAX + 6] = {NULL};
	int h = 0;
	snprintf(auth, sizeof(auth), "Bearer %s", token ? token : "admin-token");
	/* extra first: the first of a name wins, so it can replace Content-Type */
	for (int i = 0; extra && extra[i] && h < KF_HEADERS_MAX; i++)
		headers[h++] = extra[i];
	headers[h++] = "Authorization";
	headers[h++] = auth;
	headers[h++] = "Content-Type";
	headers[h++] = "application/json";
	wsr_sim_req r = {method,  path, body ? body : "", body ? strlen(body) : 0, NULL,
			 headers, query};
	wsr_sim_resp resp = {0, NULL, NULL};
	wsr_kcpsim_handle(k, &r, &resp);
	assert_non_null(resp.body);
	*out = cJSON_Parse(resp.body);
	if (text)
		*text = strdup(resp.body);
	wsr_sim_resp_free(&resp);
	return resp.status;
}

static inline int kf_call(wsr_kcpsim *k, const char *method, const char *path, const char *body,
			  const char *token, cJSON **out)
{
	return kf_req(k, method, path, body, token, NULL, NULL, out, NULL);
}

/* A Workspace body; type is NULL, "name", or a whole {"name":..} object. */
static inline char *kf_body(const char *name, const char *type)
{
	if (!type)
		return wsr_strdupf("{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":"
				   "\"Workspace\",\"metadata\":{\"name\":\"%s\"}}",
				   name);
	return wsr_strdupf("{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\","
			   "\"metadata\":{\"name\":\"%s\"},\"spec\":{\"type\":%s%s%s}}",
			   name, type[0] == '{' ? "" : "{\"name\":\"", type,
			   type[0] == '{' ? "" : "\"}");
}

/* Creates parent:name of type as token; the status, the answer in *out. */
static inline int kf_create(wsr_kcpsim *k, const char *parent, const char *name, const char *type,
			    const char *token, cJSON **out)
{
	char *path = wsr_strdupf("/clusters/%s" KF_TENANCY "/workspaces", parent);
	char *body = kf_body(name, type);
	int rc = kf_call(k, "POST", path, body, token, out);
	free(path);
	free(body);
	return rc;
}

static inline const char *kf_message(const cJSON *v)
{
	const char *m = wsr_json_str(v, "message");
	return m ? m : "";
}

static inline void kf_create_ok(wsr_kcpsim *k, const char *parent, const char *name,
				const char *type)
{
	cJSON *v;
	int rc = kf_create(k, parent, name, type, NULL, &v);
	if (rc != 201)
		fail_msg("create %s:%s: %d %s", parent, name, rc, kf_message(v));
	cJSON_Delete(v);
}

/* GET of parent's child name, which must answer want. */
static inline cJSON *kf_get(wsr_kcpsim *k, const char *parent, const char *name, int want)
{
	char *path = wsr_strdupf("/clusters/%s" KF_TENANCY "/workspaces/%s", parent, name);
	cJSON *v;
	int rc = kf_call(k, "GET", path, NULL, NULL, &v);
	if (rc != want)
		fail_msg("GET %s: %d, expected %d: %s", path, rc, want, kf_message(v));
	free(path);
	return v;
}

static inline const char *kf_phase(const cJSON *v)
{
	const char *p = wsr_json_str(wsr_json_obj(v, "status"), "phase");
	return p ? p : "";
}

static inline long kf_rv(const cJSON *v)
{
	const char *rv = wsr_json_str(wsr_json_obj(v, "metadata"), "resourceVersion");
	return rv ? atol(rv) : -1;
}

/* Expects v (freed) to be a Status of code whose message is exactly want
 * (or, when want starts with '*', contains the rest). */
static inline void kf_expect(cJSON *v, int code, const char *want)
{
	const char *m = kf_message(v);
	int ok = want[0] == '*' ? strstr(m, want + 1) != NULL : strcmp(m, want) == 0;
	if (!ok || (int)wsr_json_num(v, "code", 0) != code ||
	    strcmp(wsr_json_str(v, "kind") ? wsr_json_str(v, "kind") : "", "Status") != 0)
		fail_msg("got %d \"%s\"\nwant %d \"%s\"", (int)wsr_json_num(v, "code", 0), m, code,
			 want);
	cJSON_Delete(v);
}
#endif
