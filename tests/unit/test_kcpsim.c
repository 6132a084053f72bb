/* test_kcpsim: the kcp emulator's handlers driven without HTTP and with an
 * injected clock, against docs/api/kcp.md: phases that follow the clock
 * (each change a new resourceVersion), the Scheduling 403, admission in the
 * documented order, paging whose tokens survive inserts and deletes, PUT
 * and merge-patch with resourceVersion conflicts, deletion, the status
 * subresource, types, access reviews, discovery and Tables for kubectl,
 * the /_sim endpoints, hostile input, and concurrent requests. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kcpsim_fixture.h"
#include "sim/kcp/page.h"
#include "sim/kcp/status.h"

/* The test seed's admin token, for requests built here by hand. */
#define ADMIN "kcp-admin-token"

static const char *reason(const cJSON *v)
{
	const char *r = wsr_json_str(v, "reason");
	return r ? r : "";
}

/* Expects v (freed) to be a Status with that code and reason whose message
 * contains text (the HTTP status is the caller's to check). */
static void expect_status(cJSON *v, int code, const char *why, const char *text)
{
	if (strcmp(reason(v), why) != 0 || !strstr(kf_message(v), text) ||
	    strcmp(wsr_json_str(v, "kind") ? wsr_json_str(v, "kind") : "", "Status") != 0 ||
	    (int)wsr_json_num(v, "code", 0) != code)
		fail_msg("got %d %s \"%s\", expected %d %s with \"%s\"",
			 (int)wsr_json_num(v, "code", 0), reason(v), kf_message(v), code, why,
			 text);
	cJSON_Delete(v);
}

/* ---- phases ---- */

static void phases_follow_the_clock(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("schedulingMs: 100");
	cJSON *v;
	assert_int_equal(kf_create(k, "root", "acme", "organization", NULL, &v), 201);
	assert_string_equal(kf_phase(v), "Scheduling");
	assert_int_equal(cJSON_GetArraySize(wsr_json_path(v, "status.initializers")), 0);
	assert_string_equal(wsr_json_path(v, "spec.URL")->valuestring,
			    KF_URL "/clusters/root:acme");
	assert_int_equal(strlen(wsr_json_path(v, "spec.cluster")->valuestring), 16);
	long rv0 = kf_rv(v);
	cJSON_Delete(v);
	/* closed while Scheduling (kcp's content authorizer): even a read */
	expect_status(kf_get(k, "root:acme", "x", 403), 403, "Forbidden",
		      "workspaces.tenancy.kcp.io \"x\" is forbidden: User \"admin\" cannot get "
		      "resource \"workspaces\" in API group \"tenancy.kcp.io\" at the cluster "
		      "scope: not permitted due to phase \"Scheduling\"");
	kf_now += 99;
	v = kf_get(k, "root", "acme", 200);
	assert_string_equal(kf_phase(v), "Scheduling");
	assert_int_equal(kf_rv(v), rv0);
	cJSON_Delete(v);
	kf_now += 1; /* organization's initializer takes 200 ms */
	v = kf_get(k, "root", "acme", 200);
	assert_string_equal(kf_phase(v), "Initializing");
	assert_string_equal(
	    cJSON_GetArrayItem(wsr_json_path(v, "status.initializers"), 0)->valuestring,
	    "root:organization");
	assert_int_equal(kf_rv(v), rv0 + 1);
	cJSON_Delete(v);
	/* open while Initializing: its initializers work in it */
	cJSON_Delete(kf_get(k, "root:acme", "x", 404));
	kf_now += 200;
	v = kf_get(k, "root", "acme", 200);
	assert_string_equal(kf_phase(v), "Ready");
	assert_int_equal(cJSON_GetArraySize(wsr_json_path(v, "status.initializers")), 0);
	assert_int_equal(kf_rv(v), rv0 + 2);
	cJSON_Delete(v);
	kf_create_ok(k, "root:acme", "team-a", NULL, NULL);
	wsr_kcpsim_free(k);
}

static void phases_that_take_no_time_are_over_at_creation(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed(NULL);
	cJSON *v;
	assert_int_equal(kf_create(k, "root", "plain", NULL, NULL, &v), 201);
	assert_string_equal(kf_phase(v), "Ready");
	assert_string_equal(wsr_json_path(v, "spec.type.name")->valuestring, "universal");
	assert_string_equal(wsr_json_path(v, "spec.type.path")->valuestring, "root");
	cJSON_Delete(v);
	/* a slow type stays Initializing for its initializeMs */
	assert_int_equal(kf_create(k, "root", "turtle", "slow", "bob-token", &v), 201);
	assert_string_equal(kf_phase(v), "Initializing");
	cJSON_Delete(v);
	kf_now += 1499;
	v = kf_get(k, "root", "turtle", 200);
	assert_string_equal(kf_phase(v), "Initializing");
	cJSON_Delete(v);
	kf_now += 1;
	v = kf_get(k, "root", "turtle", 200);
	assert_string_equal(kf_phase(v), "Ready");
	cJSON_Delete(v);
	wsr_kcpsim_free(k);
}

/* ---- admission ---- */

static void refusals_in_documented_order(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed(NULL);
	cJSON *v;
	kf_create_ok(k, "root", "acme", "organization", NULL);
	kf_now += 200;
	/* 422 before 409 before 403: an existing name with a bad type name is 422 */
	assert_int_equal(kf_create(k, "root", "acme", "Bad_Type", NULL, &v), 422);
	assert_string_equal(
	    wsr_json_str(cJSON_GetArrayItem(wsr_json_path(v, "details.causes"), 0), "field"),
	    "spec.type.name");
	expect_status(v, 422, "Invalid",
		      "Workspace.tenancy.kcp.io \"acme\" is invalid: spec.type.name");
	/* an existing name with a type that does not exist is 409 */
	assert_int_equal(kf_create(k, "root", "acme", "nope", NULL, &v), 409);
	expect_status(v, 409, "AlreadyExists", "workspaces.tenancy.kcp.io \"acme\" already exists");
	/* then the 403s, in order */
	assert_int_equal(kf_create(k, "root", "x", "nope", NULL, &v), 403);
	expect_status(v, 403, "Forbidden",
		      "workspaces.tenancy.kcp.io \"x\" is forbidden: workspace type \"nope\" "
		      "cannot be resolved");
	assert_int_equal(kf_create(k, "root", "x", "restricted", "bob-token", &v), 403);
	expect_status(v, 403, "Forbidden",
		      "unable to use workspace type root:restricted: missing verb='use' "
		      "permission on workspacetype");
	assert_int_equal(kf_create(k, "root", "x", "restricted", "alice-token", &v), 201);
	cJSON_Delete(v);
	/* use is checked before the parents rule: bob may not use organization at all */
	assert_int_equal(kf_create(k, "root:acme", "y", "organization", "bob-token", &v), 403);
	expect_status(v, 403, "Forbidden", "unable to use workspace type root:organization");
	assert_int_equal(kf_create(k, "root:acme", "y", "organization", NULL, &v), 403);
	expect_status(v, 403, "Forbidden",
		      "workspace type root:organization only allows [root:root] parent "
		      "workspaces, but parent type root:organization only implements "
		      "[root:organization]");
	/* homeroot allows only homebucket children */
	assert_int_equal(kf_create(k, "root:users", "t", "team", NULL, &v), 403);
	expect_status(v, 403, "Forbidden",
		      "workspace type root:team only allows [root:organization root:team] parent "
		      "workspaces, but parent type root:homeroot only implements [root:homeroot]");
	assert_int_equal(kf_create(k, "root:users", "u", "universal", NULL, &v), 403);
	expect_status(v, 403, "Forbidden",
		      "workspace type root:homeroot only allows [root:homebucket] child "
		      "workspaces, but child type root:universal only implements "
		      "[root:universal]");
	/* the default type of an organization's child is team */
	assert_int_equal(kf_create(k, "root:acme", "team-a", NULL, "bob-token", &v), 201);
	assert_string_equal(wsr_json_path(v, "spec.type.name")->valuestring, "team");
	cJSON_Delete(v);
	wsr_kcpsim_free(k);
}

static void invalid_bodies_list_every_cause(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed(NULL);
	cJSON *v;
	assert_int_equal(
	    kf_req(k, "POST", KF_WS("root"),
		   "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"Bad\","
		   "\"generateName\":\"x-\",\"labels\":{\"ok\":\"fine\",\"-bad\":\"x\","
		   "\"k\":\"-bad-\"}}}",
		   NULL, &v),
	    422);
	const char *fields[] = {"kind",
				"apiVersion",
				"metadata.name",
				"metadata.generateName",
				"metadata.labels",
				"metadata.labels[k]"};
	const cJSON *causes = wsr_json_path(v, "details.causes");
	assert_int_equal(cJSON_GetArraySize(causes), 6);
	for (int i = 0; i < 6; i++)
		assert_string_equal(wsr_json_str(cJSON_GetArrayItem(causes, i), "field"),
				    fields[i]);
	expect_status(v, 422, "Invalid", "is invalid: [kind: ");
	/* a missing name; a body that is no object, or no JSON, is 400 */
	assert_int_equal(
	    kf_req(k, "POST", KF_WS("root"),
		   "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\"}", NULL, &v),
	    422);
	expect_status(v, 422, "Invalid", "metadata.name: Required value");
	assert_int_equal(kf_req(k, "POST", KF_WS("root"), "[1]", NULL, &v), 400);
	expect_status(v, 400, "BadRequest", "must be a JSON object");
	assert_int_equal(kf_req(k, "POST", KF_WS("root"), "{\"a\":", NULL, &v), 400);
	expect_status(v, 400, "BadRequest", "not valid JSON");
	assert_int_equal(kf_req(k, "POST", KF_WS("root"), NULL, NULL, &v), 400);
	expect_status(v, 400, "BadRequest", "a JSON body is required");
	/* nesting past the JSON depth limit is refused, not followed */
	wsr_buf deep = WSR_BUF_INIT;
	for (int i = 0; i < WSR_JSON_MAX_DEPTH + 1; i++)
		wsr_buf_puts(&deep, "{\"a\":");
	wsr_buf_puts(&deep, "1");
	for (int i = 0; i < WSR_JSON_MAX_DEPTH + 1; i++)
		wsr_buf_puts(&deep, "}");
	assert_int_equal(kf_req(k, "POST", KF_WS("root"), deep.data, NULL, &v), 400);
	expect_status(v, 400, "BadRequest", "not valid JSON");
	wsr_buf_free(&deep);
	/* at most WSR_KCPSIM_MAX_CAUSES causes are listed; the rest are counted */
	for (int extra = 0; extra < 2; extra++) {
		wsr_buf many = WSR_BUF_INIT;
		wsr_buf_puts(&many, "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":"
				    "\"Workspace\",\"metadata\":{\"name\":\"m\",\"labels\":{");
		for (int i = 0; i < WSR_KCPSIM_MAX_CAUSES + extra; i++)
			wsr_buf_printf(&many, "%s\"k%d\":\"-bad-\"", i ? "," : "", i);
		wsr_buf_puts(&many, "}}}");
		assert_int_equal(kf_req(k, "POST", KF_WS("root"), many.data, NULL, &v), 422);
		assert_int_equal(cJSON_GetArraySize(wsr_json_path(v, "details.causes")),
				 WSR_KCPSIM_MAX_CAUSES);
		assert_int_equal(strstr(kf_message(v), "and 1 more") != NULL, extra);
		cJSON_Delete(v);
		wsr_buf_free(&many);
	}
	/* with ?fieldValidation=Strict (kubectl's) an unknown field is refused */
	const char *typo = "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\","
			   "\"metadata\":{\"name\":\"t\",\"labels\":{\"any\":\"x\"}},"
			   "\"spec\":{\"type\":{\"name\":\"team\",\"paht\":\"root\"}}}";
	kf_rq strict = {.q = {"fieldValidation", "Strict"}};
	assert_int_equal(kf_req(k, "POST", KF_WS("root"), typo, &strict, &v), 400);
	expect_status(v, 400, "BadRequest",
		      "strict decoding error: unknown field \"spec.type.paht\"");
	cJSON *users = kf_get(k, "root", "users", 200);
	cJSON_AddStringToObject(cJSON_GetObjectItem(users, "metadata"), "colour", "blue");
	char *text = cJSON_PrintUnformatted(users);
	assert_int_equal(kf_req(k, "PUT", KF_WS("root") "/users", text, &strict, &v), 400);
	expect_status(v, 400, "BadRequest", "unknown field \"metadata.colour\"");
	free(text);
	cJSON_Delete(users);
	/* without it, the unknown field is dropped */
	assert_int_equal(kf_create(k, "root", "untyped", NULL, NULL, &v), 201);
	cJSON_Delete(v);
	wsr_kcpsim_free(k);
}

/* ---- paging ---- */

static int list_page(wsr_kcpsim *k, const char *limit, const char *cont, char *next,
		     char names[][64], int *n)
{
	kf_rq o = {.q = {NULL}};
	int i = 0;
	if (limit) {
		o.q[i++] = "limit";
		o.q[i++] = limit;
	}
	if (cont) {
		o.q[i++] = "continue";
		o.q[i++] = cont;
	}
	cJSON *v, *it;
	int rc = kf_req(k, "GET", KF_WS("root"), NULL, &o, &v);
	*n = 0;
	next[0] = '\0';
	if (rc == 200) {
		assert_string_equal(wsr_json_str(v, "kind"), "WorkspaceList");
		cJSON_ArrayForEach(it, wsr_json_arr(v, "items"))
		{
			snprintf(names[(*n)++], 64, "%s",
				 wsr_json_str(wsr_json_obj(it, "metadata"), "name"));
		}
		const char *c = wsr_json_str(wsr_json_obj(v, "metadata"), "continue");
		snprintf(next, WSR_KCPSIM_CONTINUE_MAX + 1, "%s", c ? c : "");
	}
	cJSON_Delete(v);
	return rc;
}

static void pages_follow_max_page_size_and_limit(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed(NULL); /* maxPageSize 2; root:users exists */
	const char *names[] = {"a", "b", "c", "d"};
	char next[WSR_KCPSIM_CONTINUE_MAX + 1], got[8][64], cont[WSR_KCPSIM_CONTINUE_MAX + 1];
	int n, pages = 0, total = 0;
	for (int i = 0; i < 4; i++)
		kf_create_ok(k, "root", names[i], NULL, NULL);
	cont[0] = '\0';
	do { /* no limit: the server cuts pages of 2 */
		assert_int_equal(list_page(k, NULL, cont[0] ? cont : NULL, next, got, &n), 200);
		assert_true(n <= 2);
		total += n;
		pages++;
		snprintf(cont, sizeof(cont), "%s", next);
	} while (cont[0]);
	assert_int_equal(total, 5);
	assert_int_equal(pages, 3);
	/* limit 1 is a smaller page; 500 cannot exceed the server's 2 */
	assert_int_equal(list_page(k, "1", NULL, next, got, &n), 200);
	assert_int_equal(n, 1);
	assert_string_equal(got[0], "a");
	assert_int_equal(list_page(k, "500", NULL, next, got, &n), 200);
	assert_int_equal(n, 2);
	/* any whole number is a limit (test_kcpsim_list.c), nothing else */
	const char *bad[] = {"-1", "5x", "", "1.5"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(list_page(k, bad[i], NULL, next, got, &n), 400);
	wsr_kcpsim_free(k);
}

static void continue_survives_inserts_and_deletes(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed(NULL);
	char next[WSR_KCPSIM_CONTINUE_MAX + 1], got[8][64], cont[WSR_KCPSIM_CONTINUE_MAX + 1];
	int n;
	const char *names[] = {"b", "d", "f"};
	for (int i = 0; i < 3; i++)
		kf_create_ok(k, "root", names[i], NULL, NULL);
	assert_int_equal(list_page(k, NULL, NULL, next, got, &n), 200);
	assert_string_equal(got[1], "d");
	snprintf(cont, sizeof(cont), "%s", next);
	/* the page's last item goes away, new ones appear on both sides */
	cJSON *v;
	assert_int_equal(kf_req(k, "DELETE", KF_WS("root") "/d", NULL, NULL, &v), 200);
	cJSON_Delete(v);
	kf_create_ok(k, "root", "c", NULL, NULL);
	kf_create_ok(k, "root", "e", NULL, NULL);
	assert_int_equal(list_page(k, NULL, cont, next, got, &n), 200);
	assert_int_equal(n, 2);
	assert_string_equal(got[0], "e");
	assert_string_equal(got[1], "f");
	/* tokens the server did not hand out: 410 Gone */
	const char *bogus[] = {"bogus", "62.00000000000000000000000000000000", ".", "zz.zz"};
	for (size_t i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++) {
		kf_rq o = {.q = {"continue", bogus[i]}};
		assert_int_equal(kf_req(k, "GET", KF_WS("root"), NULL, &o, &v), 410);
		expect_status(v, 410, "Gone", "continue");
	}
	/* a token of one list is no token of another */
	kf_rq types = {.q = {"continue", cont}};
	assert_int_equal(
	    kf_req(k, "GET", "/clusters/root" KF_TENANCY "/workspacetypes", NULL, &types, &v), 410);
	cJSON_Delete(v);
	/* one character changed is refused */
	cont[0] = cont[0] == '6' ? '7' : '6';
	kf_rq tampered = {.q = {"continue", cont}};
	assert_int_equal(kf_req(k, "GET", KF_WS("root"), NULL, &tampered, &v), 410);
	cJSON_Delete(v);
	wsr_kcpsim_free(k);
}

/* ---- updates ---- */

static char *ws_put_body(const cJSON *v, const char *labels_json, long rv)
{
	char rvs[32];
	snprintf(rvs, sizeof(rvs), "%ld", rv);
	return wsr_strdupf("{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\","
			   "\"metadata\":{\"name\":\"%s\",\"labels\":%s%s%s%s},"
			   "\"spec\":{\"type\":{\"name\":\"universal\",\"path\":\"root\"},"
			   "\"cluster\":\"%s\",\"URL\":\"%s\"}}",
			   wsr_json_str(wsr_json_obj(v, "metadata"), "name"), labels_json,
			   rv >= 0 ? ",\"resourceVersion\":\"" : "", rv >= 0 ? rvs : "",
			   rv >= 0 ? "\"" : "", wsr_json_str(wsr_json_obj(v, "spec"), "cluster"),
			   wsr_json_str(wsr_json_obj(v, "spec"), "URL"));
}

static void put_checks_resource_version_and_keeps_server_fields(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed(NULL);
	kf_create_ok(k, "root", "w", NULL, NULL);
	cJSON *v = kf_get(k, "root", "w", 200), *u;
	long rv = kf_rv(v);
	char *cluster = strdup(wsr_json_path(v, "spec.cluster")->valuestring);
	char *body = ws_put_body(v, "{\"a\":\"1\"}", rv - 1);
	assert_int_equal(kf_req(k, "PUT", KF_WS("root") "/w", body, NULL, &u), 409);
	expect_status(u, 409, "Conflict",
		      "Operation cannot be fulfilled on workspaces.tenancy.kcp.io \"w\": the "
		      "object has been modified; please apply your changes to the latest version "
		      "and try again");
	free(body);
	body = ws_put_body(v, "{\"a\":\"1\"}", rv);
	assert_int_equal(kf_req(k, "PUT", KF_WS("root") "/w", body, NULL, &u), 200);
	assert_true(kf_rv(u) > rv);
	assert_string_equal(wsr_json_path(u, "metadata.labels.a")->valuestring, "1");
	assert_string_equal(wsr_json_path(u, "spec.cluster")->valuestring, cluster);
	assert_string_equal(wsr_json_path(u, "spec.URL")->valuestring, KF_URL "/clusters/root:w");
	long rv2 = kf_rv(u);
	cJSON_Delete(u);
	free(body);
	/* the same again changes nothing: no new resourceVersion */
	body = ws_put_body(v, "{\"a\":\"1\"}", -1);
	assert_int_equal(kf_req(k, "PUT", KF_WS("root") "/w", body, NULL, &u), 200);
	assert_int_equal(kf_rv(u), rv2);
	cJSON_Delete(u);
	free(body);
	/* the name must match the URL */
	assert_int_equal(
	    kf_req(k, "PUT", KF_WS("root") "/w",
		   "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\","
		   "\"metadata\":{\"name\":\"other\"}}",
		   NULL, &u),
	    400);
	expect_status(u, 400, "BadRequest", "does not match the name on the URL");
	/* spec.type is immutable */
	assert_int_equal(
	    kf_req(k, "PUT", KF_WS("root") "/w",
		   "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\","
		   "\"metadata\":{\"name\":\"w\"},\"spec\":{\"type\":{\"name\":\"team\","
		   "\"path\":\"root\"},\"URL\":\"x\",\"cluster\":\"x\"}}",
		   NULL, &u),
	    422);
	/* the Workspace schema's rule (kcp's CRD), before admission */
	expect_status(u, 422, "Invalid",
		      "Workspace.tenancy.kcp.io \"w\" is invalid: [spec.type: Invalid value: "
		      "\"object\": name is immutable, spec.cluster: Invalid value: \"string\": "
		      "cluster is immutable]");
	assert_int_equal(kf_req(k, "PUT", KF_WS("root") "/nope", "{}", NULL, &u), 404);
	expect_status(u, 404, "NotFound", "workspaces.tenancy.kcp.io \"nope\" not found");
	free(cluster);
	cJSON_Delete(v);
	wsr_kcpsim_free(k);
}

static void merge_patch_then_the_put_rules(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed(NULL);
	cJSON *v;
	kf_rq mp = {.ctype = "application/merge-patch+json"};
	kf_rq sp = {.ctype = "application/strategic-merge-patch+json"};
	kf_create_ok(k, "root", "w", NULL, NULL);
	assert_int_equal(kf_req(k, "PATCH", KF_WS("root") "/w",
				"{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}}}", &mp, &v),
			 200);
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "PATCH", KF_WS("root") "/w",
				"{\"metadata\":{\"labels\":{\"a\":null}}}", &mp, &v),
			 200);
	assert_null(wsr_json_path(v, "metadata.labels.a"));
	assert_string_equal(wsr_json_path(v, "metadata.labels.b")->valuestring, "2");
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "PATCH", KF_WS("root") "/w", "{}", &sp, &v), 415);
	expect_status(v, 415, "UnsupportedMediaType", "application/merge-patch+json");
	assert_int_equal(kf_req(k, "PATCH", KF_WS("root") "/w",
				"{\"spec\":{\"type\":{\"name\":\"team\"}}}", &mp, &v),
			 422);
	expect_status(v, 422, "Invalid", "spec.type: Invalid value: \"object\": name is immutable");
	assert_int_equal(
	    kf_req(k, "PATCH", KF_WS("root") "/w",
		   "{\"metadata\":{\"resourceVersion\":\"1\",\"labels\":{\"c\":\"3\"}}}", &mp, &v),
	    409);
	expect_status(v, 409, "Conflict", "the object has been modified");
	wsr_kcpsim_free(k);
}

static void sim_conflicts_touch_before_the_update(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed(NULL);
	kf_create_ok(k, "root", "w", NULL, NULL);
	cJSON *v = kf_get(k, "root", "w", 200), *u;
	long rv = kf_rv(v);
	wsr_sim_req r = {
	    "POST", "/_sim/conflicts", "{\"path\":\"root:w\",\"count\":1}", 0, NULL, NULL, NULL};
	r.len = strlen(r.body);
	wsr_sim_resp resp = {0};
	wsr_kcpsim_handle_sim(k, &r, &resp);
	assert_int_equal(resp.status, 201);
	assert_string_equal(resp.body, "{\"conflicts\":1}");
	wsr_sim_resp_free(&resp);
	char *body = ws_put_body(v, "{}", rv);
	assert_int_equal(kf_req(k, "PUT", KF_WS("root") "/w", body, NULL, &u), 409);
	cJSON_Delete(u);
	/* someone else wrote it: the annotation shows, and the retry succeeds */
	cJSON_Delete(v);
	v = kf_get(k, "root", "w", 200);
	assert_string_equal(wsr_json_path(v, "metadata.annotations")->child->string,
			    "sim.wsr.dev/touched");
	free(body);
	body = ws_put_body(v, "{}", kf_rv(v));
	assert_int_equal(kf_req(k, "PUT", KF_WS("root") "/w", body, NULL, &u), 200);
	cJSON_Delete(u);
	free(body);
	cJSON_Delete(v);
	/* an unknown workspace is 404, a bad count 400 */
	r.body = "{\"path\":\"root:none\"}";
	r.len = strlen(r.body);
	wsr_kcpsim_handle_sim(k, &r, &resp);
	assert_int_equal(resp.status, 404);
	wsr_sim_resp_free(&resp);
	r.body = "{\"path\":\"root:w\",\"count\":0}";
	r.len = strlen(r.body);
	wsr_kcpsim_handle_sim(k, &r, &resp);
	assert_int_equal(resp.status, 400);
	wsr_sim_resp_free(&resp);
	wsr_kcpsim_free(k);
}

/* ---- deletion, status ---- */

static void delete_lingers_for_deletion_ms(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("deletionMs: 500");
	cJSON *v;
	kf_create_ok(k, "root", "acme", "organization", NULL);
	kf_now += 200;
	kf_create_ok(k, "root:acme", "b", NULL, NULL);
	kf_create_ok(k, "root:acme", "a", NULL, NULL);
	assert_int_equal(kf_req(k, "DELETE", KF_WS("root:acme") "/a", NULL, NULL, &v), 200);
	assert_non_null(wsr_json_path(v, "metadata.deletionTimestamp"));
	/* no terminatingMs: straight to Deleting, the finalizer still on */
	assert_string_equal(kf_phase(v), "Deleting");
	assert_string_equal(
	    cJSON_GetArrayItem(wsr_json_path(v, "metadata.finalizers"), 0)->valuestring,
	    "core.kcp.io/logicalcluster");
	cJSON_Delete(v);
	/* still there while it is deleted; no children for it meanwhile */
	v = kf_get(k, "root:acme", "a", 200);
	assert_non_null(wsr_json_path(v, "metadata.deletionTimestamp"));
	cJSON_Delete(v);
	assert_int_equal(kf_create(k, "root:acme:a", "x", NULL, NULL, &v), 403);
	expect_status(v, 403, "Forbidden", "workspace root:acme:a is being deleted");
	assert_int_equal(kf_req(k, "DELETE", KF_WS("root:acme") "/a", NULL, NULL, &v), 200);
	cJSON_Delete(v);
	kf_now += 499;
	cJSON_Delete(kf_get(k, "root:acme", "a", 200));
	kf_now += 1;
	cJSON_Delete(kf_get(k, "root:acme", "a", 404));
	assert_int_equal(kf_req(k, "DELETE", KF_WS("root:acme") "/a", NULL, NULL, &v), 404);
	cJSON_Delete(v);
	/* a precondition that does not hold is a conflict */
	assert_int_equal(kf_req(k, "DELETE", KF_WS("root:acme") "/b",
				"{\"preconditions\":{\"resourceVersion\":\"1\"}}", NULL, &v),
			 409);
	cJSON_Delete(v);
	wsr_kcpsim_free(k);
}

static void status_subresource_stops_the_clock(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed(NULL);
	cJSON *v;
	kf_create_ok(k, "root", "w", NULL, NULL);
	assert_int_equal(kf_req(k, "GET", KF_WS("root") "/w/status", NULL, NULL, &v), 200);
	assert_string_equal(kf_phase(v), "Ready");
	cJSON_Delete(v);
	const char *body =
	    "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\","
	    "\"metadata\":{\"name\":\"w\",\"labels\":{\"ignored\":\"yes\"}},"
	    "\"status\":{\"phase\":\"Unavailable\",\"conditions\":[{\"type\":\"X\"}]}}";
	assert_int_equal(kf_req(k, "PUT", KF_WS("root") "/w/status", body, NULL, &v), 200);
	assert_string_equal(kf_phase(v), "Unavailable");
	assert_null(wsr_json_path(v, "metadata.labels"));
	assert_string_equal(
	    wsr_json_str(cJSON_GetArrayItem(wsr_json_path(v, "status.conditions"), 0), "type"),
	    "X");
	cJSON_Delete(v);
	kf_now += 100000;
	expect_status(kf_get(k, "root:w", "x", 403), 403, "Forbidden",
		      "not permitted due to phase \"Unavailable\"");
	assert_int_equal(
	    kf_req(k, "PUT", KF_WS("root") "/w/status",
		   "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\","
		   "\"metadata\":{\"name\":\"w\"},\"status\":{\"phase\":\"Done\"}}",
		   NULL, &v),
	    422);
	expect_status(v, 422, "Invalid", "status.phase");
	assert_int_equal(kf_req(k, "PATCH", KF_WS("root") "/w/status", "{}", NULL, &v), 405);
	expect_status(v, 405, "MethodNotAllowed", "GET, PUT");
	wsr_kcpsim_free(k);
}

/* ---- types, reviews, discovery ---- */

static void types_are_listed_where_they_live_and_read_only(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed(NULL);
	cJSON *v;
	kf_rq all = {.q = {"limit", "500"}};
	int n = 0;
	char cont[WSR_KCPSIM_CONTINUE_MAX + 1] = "";
	do { /* ten types (root's own included), two a page */
		kf_rq o = {.q = {"continue", cont}};
		assert_int_equal(kf_req(k, "GET", "/clusters/root" KF_TENANCY "/workspacetypes",
					NULL, cont[0] ? &o : &all, &v),
				 200);
		assert_string_equal(wsr_json_str(v, "kind"), "WorkspaceTypeList");
		n += cJSON_GetArraySize(wsr_json_arr(v, "items"));
		const char *c = wsr_json_str(wsr_json_obj(v, "metadata"), "continue");
		snprintf(cont, sizeof(cont), "%s", c ? c : "");
		cJSON_Delete(v);
	} while (cont[0]);
	assert_int_equal(n, 9);
	assert_int_equal(kf_req(k, "GET",
				"/clusters/root" KF_TENANCY "/workspacetypes/organization", NULL,
				NULL, &v),
			 200);
	assert_true(cJSON_IsTrue(wsr_json_path(v, "spec.initializer")));
	assert_string_equal(wsr_json_path(v, "spec.defaultChildWorkspaceType.name")->valuestring,
			    "team");
	assert_string_equal(
	    wsr_json_str(cJSON_GetArrayItem(wsr_json_path(v, "spec.limitAllowedParents.types"), 0),
			 "name"),
	    "root");
	cJSON_Delete(v);
	assert_int_equal(
	    kf_req(k, "GET", "/clusters/root" KF_TENANCY "/workspacetypes/root", NULL, NULL, &v),
	    200);
	assert_true(cJSON_IsTrue(wsr_json_path(v, "spec.limitAllowedParents.none")));
	cJSON_Delete(v);
	assert_int_equal(
	    kf_req(k, "POST", "/clusters/root" KF_TENANCY "/workspacetypes", "{}", NULL, &v), 405);
	expect_status(v, 405, "MethodNotAllowed", "GET");
	assert_int_equal(kf_req(k, "GET", "/clusters/root:users" KF_TENANCY "/workspacetypes/team",
				NULL, NULL, &v),
			 404);
	expect_status(v, 404, "NotFound", "workspacetypes.tenancy.kcp.io \"team\" not found");
	wsr_kcpsim_free(k);
}

static int review(wsr_kcpsim *k, const char *token, const char *type)
{
	char *body = wsr_strdupf(
	    "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SelfSubjectAccessReview\","
	    "\"spec\":{\"resourceAttributes\":{\"group\":\"tenancy.kcp.io\",\"resource\":"
	    "\"workspacetypes\",\"verb\":\"use\",\"name\":\"%s\"}}}",
	    type);
	kf_rq o = {.token = token};
	cJSON *v;
	assert_int_equal(kf_req(k, "POST",
				"/clusters/root/apis/authorization.k8s.io/v1/"
				"selfsubjectaccessreviews",
				body, &o, &v),
			 201);
	free(body);
	assert_string_equal(wsr_json_str(v, "kind"), "SelfSubjectAccessReview");
	assert_non_null(wsr_json_path(v, "spec.resourceAttributes"));
	int allowed = cJSON_IsTrue(wsr_json_path(v, "status.allowed"));
	cJSON_Delete(v);
	return allowed;
}

static void access_reviews_answer_use(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed(NULL);
	assert_true(review(k, "alice-token", "restricted"));
	assert_false(review(k, "bob-token", "restricted"));
	assert_true(review(k, "bob-token", "team"));
	assert_false(review(k, "bob-token", "organization"));
	assert_true(review(k, ADMIN, "organization"));
	assert_false(review(k, ADMIN, "nope"));
	cJSON *v;
	assert_int_equal(kf_req(k, "POST",
				"/clusters/root/apis/authorization.k8s.io/v1/"
				"selfsubjectaccessreviews",
				"{\"spec\":{}}", NULL, &v),
			 422);
	cJSON_Delete(v);
	wsr_kcpsim_free(k);
}

static void discovery_and_tables_for_kubectl(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed(NULL);
	cJSON *v;
	const char *paths[] = {"/version",
			       "/clusters/root/api",
			       "/clusters/root/apis",
			       "/clusters/root" KF_TENANCY,
			       "/clusters/root/openapi/v3",
			       "/clusters/root/openapi/v3/apis/tenancy.kcp.io/v1alpha1",
			       "/clusters/root/api/v1/namespaces/default/events"};
	const char *kinds[] = {NULL, "APIVersions", "APIGroupList", "APIResourceList",
			       NULL, NULL,	    "EventList"};
	for (int i = 0; i < 7; i++) {
		assert_int_equal(kf_req(k, "GET", paths[i], NULL, NULL, &v), 200);
		if (kinds[i])
			assert_string_equal(wsr_json_str(v, "kind"), kinds[i]);
		cJSON_Delete(v);
	}
	assert_int_equal(kf_req(k, "GET", "/clusters/root" KF_TENANCY, NULL, NULL, &v), 200);
	const cJSON *ws = cJSON_GetArrayItem(wsr_json_arr(v, "resources"), 0);
	assert_string_equal(wsr_json_str(ws, "name"), "workspaces");
	assert_string_equal(cJSON_GetArrayItem(wsr_json_arr(ws, "shortNames"), 0)->valuestring,
			    "ws");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(ws, "namespaced")));
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "POST", "/clusters/root/apis", "{}", NULL, &v), 405);
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "GET", "/clusters/root/openapi/v2", NULL, NULL, &v), 404);
	cJSON_Delete(v);
	assert_int_equal(
	    kf_req(k, "GET", "/apis/tenancy.kcp.io/v1alpha1/workspaces", NULL, NULL, &v),
	    404); /* workspaces only under /clusters/<path> */
	cJSON_Delete(v);
	kf_create_ok(k, "root", "acme", "organization", NULL);
	kf_rq table = {.accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
		       .q = {"limit", "500"}};
	assert_int_equal(kf_req(k, "GET", KF_WS("root"), NULL, &table, &v), 200);
	assert_string_equal(wsr_json_str(v, "kind"), "Table");
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(v, "columnDefinitions")), 6);
	const cJSON *cells = wsr_json_arr(cJSON_GetArrayItem(wsr_json_arr(v, "rows"), 0), "cells");
	assert_string_equal(cJSON_GetArrayItem(cells, 0)->valuestring, "acme");
	assert_string_equal(cJSON_GetArrayItem(cells, 1)->valuestring, "organization");
	assert_string_equal(cJSON_GetArrayItem(cells, 3)->valuestring, "Initializing");
	assert_string_equal(cJSON_GetArrayItem(cells, 5)->valuestring, "0s");
	assert_non_null(wsr_json_path(v, "metadata.resourceVersion"));
	cJSON_Delete(v);
	/* label selectors: at most 16 terms */
	wsr_buf sel = WSR_BUF_INIT;
	for (int i = 0; i < 16; i++)
		wsr_buf_printf(&sel, "%sk%d!=x", i ? "," : "", i);
	kf_rq sel16 = {.q = {"labelSelector", sel.data}};
	assert_int_equal(kf_req(k, "GET", KF_WS("root"), NULL, &sel16, &v), 200);
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(v, "items")), 2);
	cJSON_Delete(v);
	wsr_buf_puts(&sel, ",k16");
	kf_rq sel17 = {.q = {"labelSelector", sel.data}};
	assert_int_equal(kf_req(k, "GET", KF_WS("root"), NULL, &sel17, &v), 400);
	cJSON_Delete(v);
	wsr_buf_free(&sel);
	kf_rq byname = {.q = {"fieldSelector", "metadata.name=acme"}};
	assert_int_equal(kf_req(k, "GET", KF_WS("root"), NULL, &byname, &v), 200);
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(v, "items")), 1);
	cJSON_Delete(v);
	kf_rq byother = {.q = {"fieldSelector", "status.phase=Ready"}};
	assert_int_equal(kf_req(k, "GET", KF_WS("root"), NULL, &byother, &v), 400);
	cJSON_Delete(v);
	/* watches: test_kcpsim_watch.c */
	wsr_kcpsim_free(k);
}

/* ---- front door ---- */

static void tokens_paths_and_hostile_urls(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed(NULL);
	cJSON *v;
	kf_rq none = {.token = ""}, wrong = {.token = "nope"};
	assert_int_equal(kf_req(k, "GET", KF_WS("root"), NULL, &none, &v), 401);
	expect_status(v, 401, "Unauthorized", "Unauthorized");
	assert_int_equal(kf_req(k, "GET", "/version", NULL, &wrong, &v), 401);
	expect_status(v, 401, "Unauthorized", "Unauthorized");
	assert_int_equal(kf_req(k, "GET", KF_WS("root:nope"), NULL, NULL, &v), 404);
	expect_status(v, 404, "NotFound", "workspace root:nope not found");
	assert_int_equal(kf_req(k, "GET", KF_WS("ROOT"), NULL, NULL, &v), 404);
	cJSON_Delete(v);
	/* a 1 MiB path: a short 404, not an echo */
	size_t big = 1024 * 1024;
	char *p = malloc(big + 1);
	memcpy(p, "/clusters/root:", 15);
	memset(p + 15, 'a', big - 15);
	p[big] = '\0';
	assert_int_equal(kf_req(k, "GET", p, NULL, NULL, &v), 404);
	assert_true(strlen(kf_message(v)) < WSR_KCPSIM_MSG_MAX);
	cJSON_Delete(v);
	/* a path just over the limit names no workspace either */
	p[10 + WSR_KCPSIM_PATH_MAX + 1] = '\0';
	assert_int_equal(kf_req(k, "GET", p, NULL, NULL, &v), 404);
	expect_status(v, 404, "NotFound", "not found");
	free(p);
	assert_int_equal(kf_req(k, "DELETE", "/clusters/root/apis", NULL, NULL, &v), 405);
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "GET", "/clusters/root/nothing/here", NULL, NULL, &v), 404);
	expect_status(v, 404, "NotFound", "the server could not find the requested resource");
	wsr_kcpsim_free(k);
}

static int sim(wsr_kcpsim *k, const char *method, const char *path, const char *body, cJSON **out)
{
	wsr_sim_req r = {method, path, body ? body : "", body ? strlen(body) : 0, NULL, NULL, NULL};
	wsr_sim_resp resp = {0};
	wsr_kcpsim_handle_sim(k, &r, &resp);
	*out = cJSON_Parse(resp.body);
	assert_non_null(*out);
	wsr_sim_resp_free(&resp);
	return resp.status;
}

static void faults_answer_status_objects(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed(NULL);
	cJSON *v;
	assert_int_equal(
	    sim(k, "POST", "/_sim/faults",
		"{\"kind\":\"respond\",\"method\":\"GET\",\"path\":\"/clusters/root/\","
		"\"status\":503,\"skip\":1,\"count\":2}",
		&v),
	    201);
	assert_int_equal((int)wsr_json_num(v, "faults", -1), 1);
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "GET", KF_WS("root"), NULL, NULL, &v), 200); /* skipped */
	cJSON_Delete(v);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(kf_req(k, "GET", KF_WS("root"), NULL, NULL, &v), 503);
		assert_int_equal(
		    (int)wsr_json_num(wsr_json_obj(v, "details"), "retryAfterSeconds", 0), 1);
		expect_status(v, 503, "ServiceUnavailable", "injected fault");
	}
	assert_int_equal(kf_req(k, "GET", KF_WS("root"), NULL, NULL, &v), 200);
	cJSON_Delete(v);
	/* no code field (that is Loopback's); kind respond only */
	assert_int_equal(
	    sim(k, "POST", "/_sim/faults",
		"{\"kind\":\"respond\",\"method\":\"GET\",\"path\":\"/\",\"status\":500,"
		"\"code\":\"x\"}",
		&v),
	    400);
	expect_status(v, 400, "BadRequest", "unknown field code");
	assert_int_equal(sim(k, "POST", "/_sim/faults", "{\"kind\":\"failTask\"}", &v), 400);
	cJSON_Delete(v);
	assert_int_equal(
	    sim(k, "POST", "/_sim/faults",
		"{\"kind\":\"respond\",\"method\":\"PUT\",\"path\":\"/\",\"status\":409}", &v),
	    201);
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "PUT", KF_WS("root") "/users", "{}", NULL, &v), 409);
	expect_status(v, 409, "Conflict", "injected fault");
	assert_int_equal(
	    sim(k, "POST", "/_sim/faults",
		"{\"kind\":\"respond\",\"method\":\"PUT\",\"path\":\"/\",\"status\":409}", &v),
	    201);
	cJSON_Delete(v);
	assert_int_equal(sim(k, "DELETE", "/_sim/faults", NULL, &v), 200);
	assert_int_equal((int)wsr_json_num(v, "faults", -1), 0);
	cJSON_Delete(v);
	assert_int_equal(sim(k, "GET", "/_sim/faults", NULL, &v), 405);
	cJSON_Delete(v);
	assert_int_equal(sim(k, "GET", "/_sim/nothing", NULL, &v), 404);
	expect_status(v, 404, "NotFound", "no such path");
	wsr_kcpsim_free(k);
}

/* ---- concurrency ---- */

#define THREADS 4
#define PER_THREAD 100

static void *creator(void *arg)
{
	wsr_kcpsim *k = arg;
	static int next;
	char name[32];
	for (int i = 0; i < PER_THREAD; i++) {
		snprintf(name, sizeof(name), "w-%04d",
			 __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED));
		char *body = kf_body(name, NULL, NULL);
		wsr_sim_req r = {
		    "POST", KF_WS("root"),
		    body,   strlen(body),
		    NULL,   (const char *const[]){"Authorization", "Bearer " ADMIN, NULL},
		    NULL};
		wsr_sim_resp resp = {0};
		wsr_kcpsim_handle(k, &r, &resp);
		if (resp.status != 201)
			abort();
		wsr_sim_resp_free(&resp);
		wsr_sim_req l = {
		    "GET", KF_WS("root"),
		    "",	   0,
		    NULL,  (const char *const[]){"Authorization", "Bearer " ADMIN, NULL},
		    NULL};
		wsr_kcpsim_handle(k, &l, &resp);
		if (resp.status != 200)
			abort();
		wsr_sim_resp_free(&resp);
		free(body);
	}
	return NULL;
}

static int by_value(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return x < y ? -1 : x > y;
}

static void concurrent_requests_lose_nothing(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("maxPageSize: 500");
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, creator, k), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	cJSON *v;
	assert_int_equal(kf_req(k, "GET", KF_WS("root"), NULL, NULL, &v), 200);
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(v, "items")), THREADS * PER_THREAD + 1);
	/* every write got its own resourceVersion */
	long rvs[THREADS * PER_THREAD + 1];
	int n = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, wsr_json_arr(v, "items"))
	{
		rvs[n++] = kf_rv(it);
	}
	qsort(rvs, (size_t)n, sizeof(rvs[0]), by_value);
	for (int i = 1; i < n; i++)
		assert_true(rvs[i] > rvs[i - 1]);
	cJSON_Delete(v);
	wsr_kcpsim_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(phases_follow_the_clock),
	    cmocka_unit_test(phases_that_take_no_time_are_over_at_creation),
	    cmocka_unit_test(refusals_in_documented_order),
	    cmocka_unit_test(invalid_bodies_list_every_cause),
	    cmocka_unit_test(pages_follow_max_page_size_and_limit),
	    cmocka_unit_test(continue_survives_inserts_and_deletes),
	    cmocka_unit_test(put_checks_resource_version_and_keeps_server_fields),
	    cmocka_unit_test(merge_patch_then_the_put_rules),
	    cmocka_unit_test(sim_conflicts_touch_before_the_update),
	    cmocka_unit_test(delete_lingers_for_deletion_ms),
	    cmocka_unit_test(status_subresource_stops_the_clock),
	    cmocka_unit_test(types_are_listed_where_they_live_and_read_only),
	    cmocka_unit_test(access_reviews_answer_use),
	    cmocka_unit_test(discovery_and_tables_for_kubectl),
	    cmocka_unit_test(tokens_paths_and_hostile_urls),
	    cmocka_unit_test(faults_answer_status_objects),
	    cmocka_unit_test(concurrent_requests_lose_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
