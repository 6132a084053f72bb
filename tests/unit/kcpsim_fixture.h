/* kcpsim_fixture: what the kcp emulator's unit tests share
 * (tests/unit/test_kcpsim*.c), the one place for it: a server opened from
 * seed text or from the test seed (tests/fixtures/kcp-seed.yaml) on one
 * fake clock, the tenancy paths and the server's URL, one request as a
 * client sends it (any token, content type, Accept, extra headers and
 * query) with its JSON answer, Workspace bodies and creates, the checks of
 * a Status answer, and the events of a watch stream read the way the HTTP
 * server reads them. Included after cmocka.h. */
#ifndef WSR_TESTS_KCPSIM_FIXTURE_H
#define WSR_TESTS_KCPSIM_FIXTURE_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "sim/kcp/kcpsim.h"
#include "sim/kcp/seed.h"
#include "sim/server.h"

#define KF_SEED "tests/fixtures/kcp-seed.yaml"
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

static inline int64_t kf_clock(void)
{
	return kf_now;
}

/* The token of the first system:masters user of the seed opened last: what
 * a request that names no token sends. */
static char kf_admin[128];

/* A server seeded from text (in memory, or in dir when not NULL). */
static inline wsr_kcpsim *kf_open_in(const char *text, const char *dir)
{
	cJSON *p;
	const cJSON *u, *g;
	char *err = NULL;
	wsr_kcpsim *k;
	wsr_clock_set(kf_clock);
	if (wsr_kcpsim_seed_parse(&p, "seed.yaml", text, strlen(text), &err))
		fail_msg("%s", err);
	kf_admin[0] = '\0';
	cJSON_ArrayForEach(u, wsr_json_arr(p, "users"))
	{
		cJSON_ArrayForEach(g, wsr_json_arr(u, "groups"))
		{
			if (!kf_admin[0] && strcmp(g->valuestring, "system:masters") == 0)
				snprintf(kf_admin, sizeof(kf_admin), "%s",
					 wsr_json_str(u, "token"));
		}
	}
	if (wsr_kcpsim_open_platform(&k, p, dir, &err))
		fail_msg("%s", err);
	wsr_kcpsim_set_url(k, KF_URL);
	return k;
}

static inline wsr_kcpsim *kf_open(const char *text)
{
	return kf_open_in(text, NULL);
}

/* The test seed as it is (settings NULL), or its users and types with
 * settings (YAML lines, may be "") in front instead of its own. */
static inline wsr_kcpsim *kf_open_seed(const char *settings)
{
	wsr_buf b = WSR_BUF_INIT;
	char *text;
	size_t len;
	assert_int_equal(wsr_fs_read(&text, &len, KF_SEED, 1 << 20), 0);
	if (settings)
		wsr_buf_printf(&b, "%s\n%s", settings, strstr(text, "users:"));
	else
		wsr_buf_puts(&b, text);
	free(text);
	wsr_kcpsim *k = kf_open_in(wsr_buf_str(&b), NULL);
	wsr_buf_free(&b);
	return k;
}

/* How a request is sent; a NULL kf_rq, or any field left NULL, is the
 * plain request: the admin's token and a JSON body. */
typedef struct kf_rq {
	const char *token;	    /* NULL: the admin's; "": none */
	const char *ctype;	    /* Content-Type; NULL: application/json */
	const char *accept;	    /* Accept, or NULL */
	const char *q[12];	    /* query name, value pairs */
	const char *const *headers; /* more name, value pairs ending in NULL */
} kf_rq;

/* A request as token (a string). */
#define KF_AS(tok) (&(kf_rq){.token = (tok)})

/* One request; the answer (with its stream, if any) in *resp, which the
 * caller frees with wsr_sim_resp_free. The extra headers go first: the
 * first of a name is the one the server reads. */
static inline int kf_send(wsr_kcpsim *k, const char *method, const char *path, const char *body,
			  const kf_rq *o, wsr_sim_resp *resp)
{
	char auth[160];
	const char *token = o && o->token ? o->token : kf_admin;
	const char *headers[KF_HEADERS_MAX + 8] = {NULL};
	int h = 0;
	for (int i = 0; o && o->headers && o->headers[i] && h < KF_HEADERS_MAX; i++)
		headers[h++] = o->headers[i];
	snprintf(auth, sizeof(auth), "Bearer %s", token);
	if (token[0]) {
		headers[h++] = "Authorization";
		headers[h++] = auth;
	}
	headers[h++] = "Content-Type";
	headers[h++] = o && o->ctype ? o->ctype : "application/json";
	if (o && o->accept) {
		headers[h++] = "Accept";
		headers[h++] = o->accept;
	}
	wsr_sim_req r = {.method = method,
			 .path = path,
			 .body = body ? body : "",
			 .len = body ? strlen(body) : 0,
			 .headers = headers,
			 .query = o && o->q[0] ? o->q : NULL};
	memset(resp, 0, sizeof(*resp));
	wsr_kcpsim_handle(k, &r, resp);
	return resp->status;
}

/* One request whose answer is JSON: the status, and the answer in *out. */
static inline int kf_req(wsr_kcpsim *k, const char *method, const char *path, const char *body,
			 const kf_rq *o, cJSON **out)
{
	wsr_sim_resp resp;
	int status = kf_send(k, method, path, body, o, &resp);
	if (!resp.body)
		fail_msg("%s %s: no body (status %d)", method, path, status);
	*out = cJSON_Parse(resp.body);
	assert_non_null(*out);
	wsr_sim_resp_free(&resp);
	return status;
}

static inline const char *kf_message(const cJSON *v)
{
	const char *m = wsr_json_str(v, "message");
	return m ? m : "";
}

/* A Workspace body; type is NULL, "name", or a whole {"name":..} object;
 * labels a JSON object text, or NULL. */
static inline char *kf_body(const char *name, const char *type, const char *labels)
{
	int obj = type && type[0] == '{';
	return wsr_strdupf("{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\","
			   "\"metadata\":{\"name\":\"%s\"%s%s}%s%s%s%s}",
			   name, labels ? ",\"labels\":" : "", labels ? labels : "",
			   type ? ",\"spec\":{\"type\":" : "", type && !obj ? "{\"name\":\"" : "",
			   type ? type : "", type ? (obj ? "}" : "\"}}") : "");
}

/* Creates parent:name of type (as kf_body has it) as token (NULL: the
 * admin); the status, the answer in *out. */
static inline int kf_create(wsr_kcpsim *k, const char *parent, const char *name, const char *type,
			    const char *token, cJSON **out)
{
	char *path = wsr_strdupf("/clusters/%s" KF_TENANCY "/workspaces", parent);
	char *body = kf_body(name, type, NULL);
	int rc = kf_req(k, "POST", path, body, KF_AS(token), out);
	free(path);
	free(body);
	return rc;
}

/* Creates parent:name of type with labels (kf_body's) as the admin; fails
 * the test unless 201. */
static inline void kf_create_ok(wsr_kcpsim *k, const char *parent, const char *name,
				const char *type, const char *labels)
{
	char *path = wsr_strdupf("/clusters/%s" KF_TENANCY "/workspaces", parent);
	char *body = kf_body(name, type, labels);
	cJSON *v;
	int rc = kf_req(k, "POST", path, body, NULL, &v);
	if (rc != 201)
		fail_msg("create %s:%s: %d %s", parent, name, rc, kf_message(v));
	cJSON_Delete(v);
	free(path);
	free(body);
}

/* GET of parent's child name, which must answer want. */
static inline cJSON *kf_get(wsr_kcpsim *k, const char *parent, const char *name, int want)
{
	char *path = wsr_strdupf("/clusters/%s" KF_TENANCY "/workspaces/%s", parent, name);
	cJSON *v;
	int rc = kf_req(k, "GET", path, NULL, NULL, &v);
	if (rc != want)
		fail_msg("GET %s: %d, expected %d: %s", path, rc, want, kf_message(v));
	free(path);
	return v;
}

/* A merge patch of root:name's labels; fails the test unless 200. */
static inline void kf_label(wsr_kcpsim *k, const char *name, const char *key, const char *value)
{
	char *path = wsr_strdupf(KF_WS("root") "/%s", name);
	char *body = wsr_strdupf("{\"metadata\":{\"labels\":{\"%s\":\"%s\"}}}", key, value);
	kf_rq o = {.ctype = "application/merge-patch+json"};
	cJSON *v;
	int rc = kf_req(k, "PATCH", path, body, &o, &v);
	if (rc != 200)
		fail_msg("patch %s: %d %s", name, rc, kf_message(v));
	cJSON_Delete(v);
	free(path);
	free(body);
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

/* The resourceVersion of a list of root's workspaces now. */
static inline unsigned long long kf_list_rv(wsr_kcpsim *k)
{
	cJSON *v;
	assert_int_equal(kf_req(k, "GET", KF_WS("root"), NULL, NULL, &v), 200);
	unsigned long long rv =
	    strtoull(wsr_json_str(wsr_json_obj(v, "metadata"), "resourceVersion"), NULL, 10);
	cJSON_Delete(v);
	return rv;
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

/* Reads a stream until it has nothing more now; its events are appended to
 * *events (an array, created when NULL). 1 when the stream ended. */
static inline int kf_read(wsr_sim_resp *resp, cJSON **events)
{
	char buf[512]; /* small, so events cross reads */
	wsr_buf text = WSR_BUF_INIT;
	long n;
	assert_non_null(resp->stream);
	while ((n = resp->stream(resp->stream_ctx, NULL, buf, sizeof(buf))) > 0)
		wsr_buf_add(&text, buf, (size_t)n);
	if (text.len && text.data[text.len - 1] != '\n')
		fail_msg("the stream stopped inside an event");
	if (!*events)
		*events = cJSON_CreateArray();
	for (char *line = text.data, *nl; line && (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		cJSON *e = cJSON_Parse(line);
		if (!e)
			fail_msg("not a JSON event: %s", line);
		cJSON_AddItemToArray(*events, e);
	}
	wsr_buf_free(&text);
	return n == WSR_SIM_STREAM_END;
}

static inline const char *kf_ev_type(const cJSON *events, int i)
{
	return wsr_json_str(cJSON_GetArrayItem(events, i), "type");
}

static inline const char *kf_ev_name(const cJSON *events, int i)
{
	return wsr_json_str(wsr_json_path(cJSON_GetArrayItem(events, i), "object.metadata"),
			    "name");
}
#endif
