/* kcpsim_api_fixture: what the kcp emulator's API tests share (test_kcpsim_*.c
 * for watch, lists, selectors and patches): the test seed on a fake clock,
 * one request as a client sends it, and the events of a watch stream read
 * the way the HTTP server reads them. Included after cmocka.h. */
#ifndef WSR_TESTS_KCPSIM_API_FIXTURE_H
#define WSR_TESTS_KCPSIM_API_FIXTURE_H
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

#define FX_SEED "tests/fixtures/kcp-seed.yaml"
#define FX_ADMIN "kcp-admin-token"
#define FX_TENANCY "/apis/tenancy.kcp.io/v1alpha1"
#define FX_WS(path) "/clusters/" path FX_TENANCY "/workspaces"
#define FX_URL "http://127.0.0.1:6443"

static int64_t fx_now = 1790000000000;

static inline int64_t fx_clock(void)
{
	return fx_now;
}

/* The test seed with settings (YAML lines, may be "") in front. */
static inline wsr_kcpsim *fx_open(const char *settings)
{
	wsr_buf b = WSR_BUF_INIT;
	char *text, *err = NULL;
	size_t len;
	cJSON *p;
	wsr_kcpsim *k;
	assert_int_equal(wsr_fs_read(&text, &len, FX_SEED, 1 << 20), 0);
	wsr_buf_printf(&b, "%s\n%s", settings, strstr(text, "users:"));
	free(text);
	wsr_clock_set(fx_clock);
	if (wsr_kcpsim_seed_parse(&p, "seed.yaml", b.data, b.len, &err))
		fail_msg("%s", err);
	wsr_buf_free(&b);
	if (wsr_kcpsim_open_platform(&k, p, NULL, &err))
		fail_msg("%s", err);
	wsr_kcpsim_set_url(k, FX_URL);
	return k;
}

typedef struct fx_rq {
	const char *ctype;  /* Content-Type; NULL: application/json */
	const char *accept; /* Accept, or NULL */
	const char *q[12];  /* query name, value pairs */
} fx_rq;

/* One request as the admin; the answer (with its stream, if any) in *resp,
 * which the caller frees with wsr_sim_resp_free. */
static inline int fx_send(wsr_kcpsim *k, const char *method, const char *path, const char *body,
			  const fx_rq *o, wsr_sim_resp *resp)
{
	const char *headers[8] = {"Authorization", "Bearer " FX_ADMIN, "Content-Type",
				  o && o->ctype ? o->ctype : "application/json"};
	if (o && o->accept) {
		headers[4] = "Accept";
		headers[5] = o->accept;
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
static inline int fx_req(wsr_kcpsim *k, const char *method, const char *path, const char *body,
			 const fx_rq *o, cJSON **out)
{
	wsr_sim_resp resp;
	int status = fx_send(k, method, path, body, o, &resp);
	if (!resp.body)
		fail_msg("%s %s: no body (status %d)", method, path, status);
	*out = cJSON_Parse(resp.body);
	assert_non_null(*out);
	wsr_sim_resp_free(&resp);
	return status;
}

static inline const char *fx_msg(const cJSON *v)
{
	const char *m = wsr_json_str(v, "message");
	return m ? m : "";
}

/* Creates parent:name of type (NULL: the default) with labels (a JSON
 * object text, or NULL); fails the test unless 201. */
static inline void fx_create(wsr_kcpsim *k, const char *parent, const char *name, const char *type,
			     const char *labels)
{
	char *path = wsr_strdupf("/clusters/%s" FX_TENANCY "/workspaces", parent);
	char *body = wsr_strdupf("{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":"
				 "\"Workspace\",\"metadata\":{\"name\":\"%s\"%s%s}%s%s%s}",
				 name, labels ? ",\"labels\":" : "", labels ? labels : "",
				 type ? ",\"spec\":{\"type\":{\"name\":\"" : "", type ? type : "",
				 type ? "\"}}" : "");
	cJSON *v;
	int rc = fx_req(k, "POST", path, body, NULL, &v);
	if (rc != 201)
		fail_msg("create %s:%s: %d %s", parent, name, rc, fx_msg(v));
	cJSON_Delete(v);
	free(path);
	free(body);
}

/* A merge patch of root:name's labels; fails the test unless 200. */
static inline void fx_label(wsr_kcpsim *k, const char *name, const char *key, const char *value)
{
	char *path = wsr_strdupf(FX_WS("root") "/%s", name);
	char *body = wsr_strdupf("{\"metadata\":{\"labels\":{\"%s\":\"%s\"}}}", key, value);
	fx_rq o = {"application/merge-patch+json", NULL, {NULL}};
	cJSON *v;
	int rc = fx_req(k, "PATCH", path, body, &o, &v);
	if (rc != 200)
		fail_msg("patch %s: %d %s", name, rc, fx_msg(v));
	cJSON_Delete(v);
	free(path);
	free(body);
}

/* The resourceVersion of a list of root's workspaces now. */
static inline unsigned long long fx_list_rv(wsr_kcpsim *k)
{
	cJSON *v;
	assert_int_equal(fx_req(k, "GET", FX_WS("root"), NULL, NULL, &v), 200);
	unsigned long long rv =
	    strtoull(wsr_json_str(wsr_json_obj(v, "metadata"), "resourceVersion"), NULL, 10);
	cJSON_Delete(v);
	return rv;
}

/* Reads a stream until it has nothing more now; its events are appended to
 * *events (an array, created when NULL). 1 when the stream ended. */
static inline int fx_read(wsr_sim_resp *resp, cJSON **events)
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

static inline const char *fx_ev_type(const cJSON *events, int i)
{
	return wsr_json_str(cJSON_GetArrayItem(events, i), "type");
}

static inline const char *fx_ev_name(const cJSON *events, int i)
{
	return wsr_json_str(wsr_json_path(cJSON_GetArrayItem(events, i), "object.metadata"),
			    "name");
}
#endif
