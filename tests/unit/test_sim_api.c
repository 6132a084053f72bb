/* test_sim_api: the Loopback emulator's handlers driven without HTTP and
 * with an injected clock: pagination over 10,000 workspaces, cursors that
 * survive inserts and deletes, provisioning that follows the clock to the
 * millisecond, the documented order of refusals, and idempotent retries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/clock.h"
#include "lib/json.h"
#include "sim/loopback/api.h"
#include "sim/loopback/lbsim.h"
#include "sim/loopback/names.h"
#include "sim/loopback/seed.h"

static int64_t now_ms = 1790000000000;
static const char *admin_key; /* the admin key of the seed in use */

static int64_t fake_clock(void)
{
	return now_ms;
}

static wsr_lbsim *open_seed(const char *file, int seconds)
{
	cJSON *platform;
	char *err = NULL;
	wsr_lbsim_store *s;
	wsr_lbsim *l;
	if (wsr_lbsim_seed_load(&platform, file, &err))
		fail_msg("%s", err);
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(platform, "provisioning"), "seconds",
				  cJSON_CreateNumber(seconds));
	assert_int_equal(wsr_lbsim_store_new(&s, platform, NULL), 0);
	assert_int_equal(wsr_lbsim_new(&l, s), 0);
	wsr_clock_set(fake_clock);
	admin_key = file ? "test-admin-key" : WSR_LBSIM_BUILTIN_KEY;
	return l;
}

typedef struct req_opts {
	const char *key;
	const char *idem;
	const char *limit;
	const char *cursor;
} req_opts;

/* Sends one request; returns the status and, in *out, the parsed answer. */
static int call_opts(wsr_lbsim *l, const char *method, const char *path, const char *body,
		     req_opts o, cJSON **out)
{
	char auth[128];
	snprintf(auth, sizeof(auth), "Bearer %s", o.key ? o.key : admin_key);
	const char *headers[] = {"Authorization", auth, o.idem ? "Idempotency-Key" : NULL, o.idem,
				 NULL};
	const char *query[] = {o.limit ? "limit" : "cursor", o.limit ? o.limit : o.cursor,
			       o.limit && o.cursor ? "cursor" : NULL, o.cursor, NULL};
	wsr_sim_req req = {method,
			   path,
			   body ? body : "",
			   body ? strlen(body) : 0,
			   NULL,
			   headers,
			   o.limit || o.cursor ? query : NULL};
	wsr_sim_resp resp = {0};
	wsr_lbsim_handle(l, &req, &resp);
	assert_non_null(resp.body);
	*out = cJSON_Parse(resp.body);
	assert_non_null(*out);
	wsr_sim_resp_free(&resp);
	return resp.status;
}

static int call(wsr_lbsim *l, const char *method, const char *path, const char *body,
		const char *key, cJSON **out)
{
	req_opts o = {key, NULL, NULL, NULL};
	return call_opts(l, method, path, body, o, out);
}

/* The error code of an answer, or "" when it is not an error. */
static const char *code_of(const cJSON *v)
{
	const char *c = wsr_json_str(wsr_json_obj(v, "error"), "code");
	return c ? c : "";
}

static void expect_refusal(wsr_lbsim *l, const char *path, const char *body, const char *key,
			   int status, const char *code)
{
	cJSON *v;
	int got = call(l, "POST", path, body, key, &v);
	if (got != status || strcmp(code_of(v), code) != 0)
		fail_msg("%s: got %d %s, expected %d %s", body, got, code_of(v), status, code);
	cJSON_Delete(v);
}

#define WS "/v1/organizations/acme/workspaces"
#define FIXTURE "tests/fixtures/seed.yaml"

static void create_bare(wsr_lbsim *l, const char *name)
{
	char body[160];
	cJSON *v;
	snprintf(body, sizeof(body),
		 "{\"name\":\"%s\",\"project\":\"sandbox\",\"type\":\"baremetal\"}", name);
	assert_int_equal(call(l, "POST", WS, body, NULL, &v), 202);
	cJSON_Delete(v);
}

/* Lists every page of limit items; checks order and returns how many. */
static int list_all(wsr_lbsim *l, const char *limit, int *pages)
{
	char cursor[WSR_LBSIM_CURSOR_MAX + 1] = "", last[80] = "";
	int n = 0;
	*pages = 0;
	for (;;) {
		req_opts o = {NULL, NULL, limit, cursor[0] ? cursor : NULL};
		cJSON *v, *it;
		assert_int_equal(call_opts(l, "GET", WS, NULL, o, &v), 200);
		(*pages)++;
		cJSON_ArrayForEach(it, wsr_json_arr(v, "items"))
		{
			assert_true(strcmp(last, wsr_json_str(it, "name")) < 0);
			snprintf(last, sizeof(last), "%s", wsr_json_str(it, "name"));
			n++;
		}
		const char *next = wsr_json_str(v, "nextCursor");
		if (next)
			snprintf(cursor, sizeof(cursor), "%s", next);
		cJSON_Delete(v);
		if (!next)
			return n;
	}
}

static void pages_of_500_cover_10000(void **state)
{
	(void)state;
	wsr_lbsim *l = open_seed(NULL, 0);
	char name[32];
	for (int i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "w-%05d", (i * 7919) % 10000); /* a permutation */
		create_bare(l, name);
	}
	int64_t t0 = wsr_clock_mono_ms(), pages;
	int pg;
	assert_int_equal(list_all(l, "500", &pg), 10000);
	pages = pg;
	/* generous even under sanitizers; a quadratic walk would take minutes */
	assert_true(wsr_clock_mono_ms() - t0 < 10000);
	assert_int_equal(pages, 20);
	assert_int_equal(list_all(l, NULL, &pg), 10000);
	assert_int_equal(pg, 100); /* default page of 100 */
	wsr_lbsim_free(l);
}

static void cursor_survives_inserts_and_deletes(void **state)
{
	(void)state;
	wsr_lbsim *l = open_seed(NULL, 0);
	const char *names[] = {"a", "b", "c", "d", "e", "f"};
	for (int i = 0; i < 6; i++)
		create_bare(l, names[i]);
	cJSON *v, *gone;
	req_opts first = {NULL, NULL, "2", NULL};
	assert_int_equal(call_opts(l, "GET", WS, NULL, first, &v), 200);
	char cursor[WSR_LBSIM_CURSOR_MAX + 1];
	snprintf(cursor, sizeof(cursor), "%s", wsr_json_str(v, "nextCursor"));
	cJSON_Delete(v);
	/* the page's last item goes away and new ones appear on both sides */
	assert_int_equal(call(l, "DELETE", WS "/b", NULL, NULL, &gone), 202);
	cJSON_Delete(gone);
	create_bare(l, "aa");
	create_bare(l, "bb");
	req_opts next = {NULL, NULL, "2", cursor};
	assert_int_equal(call_opts(l, "GET", WS, NULL, next, &v), 200);
	const cJSON *items = wsr_json_arr(v, "items");
	assert_int_equal(cJSON_GetArraySize(items), 2);
	assert_string_equal(wsr_json_str(cJSON_GetArrayItem(items, 0), "name"), "bb");
	assert_string_equal(wsr_json_str(cJSON_GetArrayItem(items, 1), "name"), "c");
	cJSON_Delete(v);
	req_opts bad = {NULL, NULL, NULL, "not-a-cursor"};
	assert_int_equal(call_opts(l, "GET", WS, NULL, bad, &v), 400);
	cJSON_Delete(v);
	wsr_lbsim_free(l);
}

static void page_limit_boundary(void **state)
{
	(void)state;
	wsr_lbsim *l = open_seed(NULL, 0);
	cJSON *v;
	const char *ok[] = {"1", "500"}, *bad[] = {"0", "501", "-1", "5x", "", "00000001"};
	for (size_t i = 0; i < 2; i++) {
		req_opts o = {NULL, NULL, ok[i], NULL};
		assert_int_equal(call_opts(l, "GET", WS, NULL, o, &v), 200);
		cJSON_Delete(v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req_opts o = {NULL, NULL, bad[i], NULL};
		assert_int_equal(call_opts(l, "GET", WS, NULL, o, &v), 400);
		assert_string_equal(code_of(v), "invalid_request");
		cJSON_Delete(v);
	}
	wsr_lbsim_free(l);
}

static const char *task_state(wsr_lbsim *l, const char *id)
{
	static char state[32];
	char path[96];
	cJSON *v;
	snprintf(path, sizeof(path), "/v1/tasks/%s", id);
	assert_int_equal(call(l, "GET", path, NULL, NULL, &v), 200);
	snprintf(state, sizeof(state), "%s", wsr_json_str(v, "state"));
	cJSON_Delete(v);
	return state;
}

static const char *ws_state(wsr_lbsim *l, const char *name)
{
	static char state[32];
	char path[96];
	cJSON *v;
	snprintf(path, sizeof(path), WS "/%s", name);
	if (call(l, "GET", path, NULL, NULL, &v) == 404)
		snprintf(state, sizeof(state), "gone");
	else
		snprintf(state, sizeof(state), "%s", wsr_json_str(v, "state"));
	cJSON_Delete(v);
	return state;
}

static void provisioning_follows_the_clock(void **state)
{
	(void)state;
	wsr_lbsim *l = open_seed(NULL, 1);
	cJSON *v;
	assert_int_equal(call(l, "POST", WS,
			      "{\"name\":\"web\",\"project\":\"payments\",\"type\":\"kubernetes\","
			      "\"kubernetes\":{\"version\":\"1.31.1\"}}",
			      NULL, &v),
			 202);
	char task[WSR_LBSIM_ID_MAX];
	snprintf(task, sizeof(task), "%s", wsr_json_str(wsr_json_obj(v, "task"), "id"));
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "workspace"), "state"), "initializing");
	cJSON_Delete(v);
	now_ms += 999;
	assert_string_equal(ws_state(l, "web"), "initializing");
	assert_string_equal(task_state(l, task), "running");
	now_ms += 1;
	assert_string_equal(ws_state(l, "web"), "active");
	assert_string_equal(task_state(l, task), "succeeded");
	assert_int_equal(call(l, "DELETE", WS "/web", NULL, NULL, &v), 202);
	cJSON_Delete(v);
	now_ms += 999;
	assert_string_equal(ws_state(l, "web"), "deleting");
	now_ms += 1;
	assert_string_equal(ws_state(l, "web"), "gone");
	wsr_lbsim_free(l);
}

static void zero_seconds_is_done_at_once(void **state)
{
	(void)state;
	wsr_lbsim *l = open_seed(FIXTURE, 0);
	cJSON *v;
	assert_int_equal(call(l, "POST", WS,
			      "{\"name\":\"now\",\"project\":\"payments\",\"type\":\"baremetal\"}",
			      NULL, &v),
			 202);
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "workspace"), "state"), "active");
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "task"), "state"), "succeeded");
	cJSON_Delete(v);
	assert_int_equal(call(l, "DELETE", WS "/now", NULL, NULL, &v), 202);
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "task"), "state"), "succeeded");
	cJSON_Delete(v);
	assert_string_equal(ws_state(l, "now"), "gone");
	wsr_lbsim_free(l);
}

/* When several refusals apply, the one earlier in the documented table wins. */
static void refusals_in_documented_order(void **state)
{
	(void)state;
	wsr_lbsim *l = open_seed(FIXTURE, 0);
	const char *bad_version =
	    "{\"name\":\"a\",\"project\":\"payments\",\"type\":\"kubernetes\","
	    "\"kubernetes\":{\"version\":\"0.0.1\",\"managementCluster\":\"nowhere\"}}";
	expect_refusal(l, "/v1/organizations/acme/workspaces", "{\"name\":\"a\"}", "shady-key", 400,
		       "invalid_request");
	expect_refusal(l, "/v1/organizations/shady/workspaces", bad_version, NULL, 404,
		       "not_found");
	expect_refusal(l, "/v1/organizations/shady/workspaces", bad_version, "shady-key", 422,
		       "organization_not_verified");
	expect_refusal(l, "/v1/organizations/frozen/workspaces", bad_version, "frozen-key", 422,
		       "organization_inactive");
	expect_refusal(l, WS, "{\"name\":\"a\",\"project\":\"nope\",\"type\":\"baremetal\"}",
		       "test-viewer-key", 422, "project_not_found");
	expect_refusal(l, WS, bad_version, "test-viewer-key", 403, "permission_denied");
	create_bare(l, "a");
	expect_refusal(l, WS, bad_version, NULL, 409, "already_exists");
	const char *inactive =
	    "{\"name\":\"b\",\"project\":\"payments\",\"type\":\"kubernetes\","
	    "\"kubernetes\":{\"version\":\"1.28.9\",\"computeProvider\":\"ionos_dcd\"}}";
	expect_refusal(l, WS, inactive, NULL, 422, "version_inactive");
	const char *no_cluster =
	    "{\"name\":\"b\",\"project\":\"payments\",\"type\":\"kubernetes\","
	    "\"kubernetes\":{\"version\":\"1.30.2\",\"computeProvider\":\"ionos_dcd\","
	    "\"managementCluster\":\"nowhere\"}}";
	expect_refusal(l, WS, no_cluster, NULL, 422, "no_management_cluster");
	wsr_lbsim_free(l);
}

/* Creates from body and returns where the platform put it (NULL: nowhere). */
static char *placed_on(wsr_lbsim *l, const char *body)
{
	cJSON *v;
	assert_int_equal(call(l, "POST", WS, body, NULL, &v), 202);
	const char *cl =
	    cJSON_GetStringValue(wsr_json_path(v, "workspace.kubernetes.managementCluster"));
	char *out = cl ? strdup(cl) : NULL;
	if (!cl) /* a baremetal workspace: no kubernetes, no kubernetes maintenance */
		assert_true(cJSON_IsNull(wsr_json_path(v, "workspace.maintenance.kubernetes")));
	cJSON_Delete(v);
	return out;
}

static void placement(void **state)
{
	(void)state;
	wsr_lbsim *l = open_seed(NULL, 0);
	char *a = placed_on(
	    l, "{\"name\":\"k\",\"project\":\"payments\",\"type\":\"kubernetes\","
	       "\"kubernetes\":{\"version\":\"1.30.2\",\"computeProvider\":\"ionos_dcd\"}}");
	char *b = placed_on(l, "{\"name\":\"c\",\"project\":\"payments\",\"type\":\"kubernetes\","
			       "\"kind\":\"cluster\",\"kubernetes\":{\"version\":\"1.30.2\"}}");
	char *c = placed_on(l, "{\"name\":\"m\",\"project\":\"payments\",\"type\":\"baremetal\"}");
	assert_string_equal(a, "kamaji-fra1");
	assert_string_equal(b, "root-1");
	assert_null(c);
	free(a);
	free(b);
	wsr_lbsim_free(l);
}

static void idempotent_retries(void **state)
{
	(void)state;
	wsr_lbsim *l = open_seed(FIXTURE, 1);
	const char *body = "{\"name\":\"once\",\"project\":\"payments\",\"type\":\"baremetal\"}";
	req_opts o = {NULL, "key-1", NULL, NULL};
	cJSON *a, *b;
	assert_int_equal(call_opts(l, "POST", WS, body, o, &a), 202);
	now_ms += 5000;
	assert_int_equal(call_opts(l, "POST", WS, body, o, &b), 202);
	assert_true(cJSON_Compare(a, b, 1)); /* the first answer, "initializing" and all */
	cJSON_Delete(b);
	cJSON_Delete(a);
	o.key = "test-member-key"; /* another API key's Idempotency-Key is another record */
	assert_int_equal(call_opts(l, "POST", WS, body, o, &a), 409);
	cJSON_Delete(a);
	o.key = NULL;
	char key[WSR_LBSIM_IDEM_KEY_MAX + 2];
	memset(key, 'k', WSR_LBSIM_IDEM_KEY_MAX);
	key[WSR_LBSIM_IDEM_KEY_MAX] = '\0';
	o.idem = key;
	assert_int_equal(
	    call_opts(l, "POST", WS,
		      "{\"name\":\"x\",\"project\":\"payments\",\"type\":\"baremetal\"}", o, &a),
	    202);
	cJSON_Delete(a);
	key[WSR_LBSIM_IDEM_KEY_MAX] = 'k';
	key[WSR_LBSIM_IDEM_KEY_MAX + 1] = '\0';
	assert_int_equal(
	    call_opts(l, "POST", WS,
		      "{\"name\":\"y\",\"project\":\"payments\",\"type\":\"baremetal\"}", o, &a),
	    400);
	cJSON_Delete(a);
	wsr_lbsim_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(pages_of_500_cover_10000),
	    cmocka_unit_test(cursor_survives_inserts_and_deletes),
	    cmocka_unit_test(page_limit_boundary),
	    cmocka_unit_test(provisioning_follows_the_clock),
	    cmocka_unit_test(zero_seconds_is_done_at_once),
	    cmocka_unit_test(refusals_in_documented_order),
	    cmocka_unit_test(placement),
	    cmocka_unit_test(idempotent_retries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
