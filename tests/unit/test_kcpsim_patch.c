/* test_kcpsim_patch: PATCH bodies of the kcp emulator (docs/api/kcp.md,
 * "PATCH"): RFC 6902 JSON patches (every operation, JSON Pointer escapes,
 * arrays, all-or-nothing, the operation limit at its edge) followed by the
 * PUT rules, and the 415 a server-side apply or strategic merge patch gets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kcpsim_fixture.h"
#include "lib/err.h"
#include "sim/jsonpatch.h"

#define JP "application/json-patch+json"

static int jpatch(wsr_kcpsim *k, const char *name, const char *ops, cJSON **out)
{
	char *path = wsr_strdupf(KF_WS("root") "/%s", name);
	kf_rq o = {.ctype = JP};
	int rc = kf_req(k, "PATCH", path, ops, &o, out);
	free(path);
	return rc;
}

static const char *label(const cJSON *v, const char *key)
{
	return wsr_json_str(wsr_json_path(v, "metadata.labels"), key);
}

static void every_operation_on_a_workspace(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("");
	cJSON *v;
	kf_create_ok(k, "root", "w", NULL, NULL);
	assert_int_equal(
	    jpatch(
		k, "w",
		"[{\"op\":\"add\",\"path\":\"/metadata/labels\",\"value\":{\"a\":\"1\"}},"
		"{\"op\":\"add\",\"path\":\"/metadata/labels/b\",\"value\":\"2\"},"
		"{\"op\":\"replace\",\"path\":\"/metadata/labels/a\",\"value\":\"one\"},"
		"{\"op\":\"copy\",\"from\":\"/metadata/labels/b\",\"path\":\"/metadata/labels/c\"},"
		"{\"op\":\"move\",\"from\":\"/metadata/labels/b\",\"path\":\"/metadata/labels/d\"},"
		"{\"op\":\"test\",\"path\":\"/metadata/labels/d\",\"value\":\"2\"},"
		"{\"op\":\"add\",\"path\":\"/metadata/labels/example.com~1team\","
		"\"value\":\"x\"},"
		"{\"op\":\"remove\",\"path\":\"/metadata/labels/c\"}]",
		&v),
	    200);
	assert_string_equal(label(v, "a"), "one");
	assert_null(label(v, "b"));
	assert_null(label(v, "c"));
	assert_string_equal(label(v, "d"), "2");
	assert_string_equal(label(v, "example.com/team"), "x");
	cJSON_Delete(v);
	wsr_kcpsim_free(k);
}

static void a_failing_operation_changes_nothing(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("");
	cJSON *v;
	kf_create_ok(k, "root", "w", NULL, "{\"a\":\"1\"}");
	unsigned long long rv = kf_list_rv(k);
	const char *fails[][2] = {
	    {"[{\"op\":\"add\",\"path\":\"/metadata/labels/b\",\"value\":\"2\"},"
	     "{\"op\":\"test\",\"path\":\"/metadata/labels/a\",\"value\":\"9\"}]",
	     "testing value /metadata/labels/a failed"},
	    {"[{\"op\":\"remove\",\"path\":\"/metadata/labels/zz\"}]",
	     "remove operation does not apply: doc is missing path: \"/metadata/labels/zz\""},
	    {"[{\"op\":\"replace\",\"path\":\"/metadata/nothing/x\",\"value\":1}]",
	     "replace operation does not apply"},
	    {"[{\"op\":\"move\",\"from\":\"/metadata\",\"path\":\"/metadata/x\"}]",
	     "move operation: /metadata/x is inside /metadata"},
	};
	for (size_t i = 0; i < sizeof(fails) / sizeof(fails[0]); i++) {
		assert_int_equal(jpatch(k, "w", fails[i][0], &v), 422);
		assert_string_equal(wsr_json_str(v, "reason"), "Invalid");
		if (!strstr(kf_message(v), fails[i][1]))
			fail_msg("got \"%s\", expected \"%s\"", kf_message(v), fails[i][1]);
		cJSON_Delete(v);
	}
	assert_int_equal(kf_list_rv(k), rv); /* nothing was written */
	/* then the PUT rules: the name and the resourceVersion precondition */
	assert_int_equal(
	    jpatch(k, "w", "[{\"op\":\"replace\",\"path\":\"/metadata/name\",\"value\":\"v\"}]",
		   &v),
	    400);
	cJSON_Delete(v);
	assert_int_equal(jpatch(k, "w",
				"[{\"op\":\"replace\",\"path\":\"/metadata/resourceVersion\","
				"\"value\":\"1\"},{\"op\":\"add\",\"path\":\"/metadata/labels/b\","
				"\"value\":\"2\"}]",
				&v),
			 409);
	assert_string_equal(wsr_json_str(v, "reason"), "Conflict");
	cJSON_Delete(v);
	assert_int_equal(
	    jpatch(k, "w", "[{\"op\":\"add\",\"path\":\"/metadata/labels/b\",\"value\":\"-x\"}]",
		   &v),
	    422); /* an invalid label value, as a PUT of it */
	cJSON_Delete(v);
	wsr_kcpsim_free(k);
}

static void malformed_patches_are_400(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("");
	cJSON *v;
	kf_create_ok(k, "root", "w", NULL, NULL);
	const char *bad[] = {
	    "not json",
	    "{\"op\":\"add\"}",
	    "[{\"op\":\"frobnicate\",\"path\":\"/a\"}]",
	    "[{\"path\":\"/a\"}]",
	    "[{\"op\":\"add\",\"path\":\"/metadata/labels\"}]",
	    "[{\"op\":\"add\",\"path\":\"metadata\",\"value\":1}]",
	    "[{\"op\":\"add\",\"path\":\"/a~2b\",\"value\":1}]",
	    "[{\"op\":\"move\",\"path\":\"/a\"}]",
	    "[7]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (jpatch(k, "w", bad[i], &v) != 400)
			fail_msg("%s: %s", bad[i], kf_message(v));
		assert_string_equal(wsr_json_str(v, "reason"), "BadRequest");
		cJSON_Delete(v);
	}
	wsr_kcpsim_free(k);
}

static void operations_are_bounded(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("");
	wsr_buf b = WSR_BUF_INIT;
	cJSON *v;
	kf_create_ok(k, "root", "w", NULL, NULL);
	wsr_buf_putc(&b, '[');
	for (int i = 0; i < WSR_SIM_JSONPATCH_MAX_OPS; i++)
		wsr_buf_printf(&b, "%s{\"op\":\"test\",\"path\":\"/kind\",\"value\":\"Workspace\"}",
			       i ? "," : "");
	wsr_buf_putc(&b, ']');
	assert_int_equal(jpatch(k, "w", b.data, &v), 200);
	cJSON_Delete(v);
	b.len--;
	wsr_buf_puts(&b, ",{\"op\":\"test\",\"path\":\"/kind\",\"value\":\"Workspace\"}]");
	assert_int_equal(jpatch(k, "w", b.data, &v), 413);
	assert_string_equal(kf_message(v),
			    "The allowed maximum operations in a JSON patch is 10000, got 10001");
	cJSON_Delete(v);
	wsr_buf_free(&b);
	wsr_kcpsim_free(k);
}

/* Applies ops to doc (texts); the result printed, or "error N: why". */
static void patched(const char *doc, const char *ops, char *out, size_t size)
{
	char why[WSR_SIM_JSONPATCH_WHY];
	cJSON *d = cJSON_Parse(doc), *o = cJSON_Parse(ops);
	int rc = wsr_sim_json_patch(&d, o, why);
	char *text = rc ? NULL : cJSON_PrintUnformatted(d);
	if (rc)
		snprintf(out, size, "error %d: %s", rc, why);
	else
		snprintf(out, size, "%s", text);
	free(text);
	cJSON_Delete(d);
	cJSON_Delete(o);
}

static void pointers_and_arrays_as_rfc_6902_says(void **state)
{
	(void)state;
	char got[512];
	const char *cases[][3] = {
	    {"{\"a/b\":1,\"m~n\":2}",
	     "[{\"op\":\"test\",\"path\":\"/a~1b\",\"value\":1},"
	     "{\"op\":\"test\",\"path\":\"/m~0n\",\"value\":2}]",
	     "{\"a/b\":1,\"m~n\":2}"},
	    {"{\"l\":[1,2]}", "[{\"op\":\"add\",\"path\":\"/l/0\",\"value\":0}]",
	     "{\"l\":[0,1,2]}"},
	    {"{\"l\":[1,2]}", "[{\"op\":\"add\",\"path\":\"/l/-\",\"value\":3}]",
	     "{\"l\":[1,2,3]}"},
	    {"{\"l\":[1,2]}", "[{\"op\":\"add\",\"path\":\"/l/2\",\"value\":3}]",
	     "{\"l\":[1,2,3]}"},
	    {"{\"l\":[1,2]}", "[{\"op\":\"add\",\"path\":\"/l/3\",\"value\":3}]", "error -5"},
	    {"{\"l\":[1,2]}", "[{\"op\":\"add\",\"path\":\"/l/01\",\"value\":3}]", "error -5"},
	    {"{\"l\":[1,2]}", "[{\"op\":\"remove\",\"path\":\"/l/0\"}]", "{\"l\":[2]}"},
	    {"{\"l\":[1,2]}", "[{\"op\":\"replace\",\"path\":\"/l/-\",\"value\":9}]", "error -5"},
	    {"{\"l\":[1,2]}", "[{\"op\":\"replace\",\"path\":\"/l/1\",\"value\":9}]",
	     "{\"l\":[1,9]}"},
	    {"{\"l\":[1,2]}", "[{\"op\":\"move\",\"from\":\"/l/0\",\"path\":\"/l/-\"}]",
	     "{\"l\":[2,1]}"},
	    {"{\"a\":{\"b\":1}}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/c\"}]",
	     "{\"a\":{\"b\":1},\"c\":{\"b\":1}}"},
	    {"{\"a\":1}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a\"}]", "{\"a\":1}"},
	    {"{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":[1]}]", "[1]"},
	    {"{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":\"1\"}]", "error -5"},
	    {"{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a/b\",\"value\":1}]", "error -5"},
	    {"{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"\"}]", "error -5"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		patched(cases[i][0], cases[i][1], got, sizeof(got));
		if (strncmp(got, cases[i][2], strlen(cases[i][2])) != 0)
			fail_msg("%s on %s: got %s, expected %s", cases[i][1], cases[i][0], got,
				 cases[i][2]);
	}
}

static void apply_and_strategic_are_415(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("");
	cJSON *v;
	kf_create_ok(k, "root", "w", NULL, NULL);
	const char *types[] = {"application/apply-patch+yaml",
			       "application/strategic-merge-patch+json", "text/plain"};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		kf_rq o = {.ctype = types[i], .q = {"fieldManager", "kubectl", "force", "true"}};
		assert_int_equal(kf_req(k, "PATCH", KF_WS("root") "/w", "{}", &o, &v), 415);
		assert_string_equal(wsr_json_str(v, "reason"), "UnsupportedMediaType");
		assert_string_equal(kf_message(v),
				    "the body of the request was in an unknown format - "
				    "accepted media types include: "
				    "application/json-patch+json, "
				    "application/merge-patch+json");
		cJSON_Delete(v);
	}
	/* before the object is looked up, as kube-apiserver does */
	kf_rq o = {.ctype = "application/apply-patch+yaml"};
	assert_int_equal(kf_req(k, "PATCH", KF_WS("root") "/nope", "{}", &o, &v), 415);
	cJSON_Delete(v);
	wsr_kcpsim_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_operation_on_a_workspace),
	    cmocka_unit_test(a_failing_operation_changes_nothing),
	    cmocka_unit_test(malformed_patches_are_400),
	    cmocka_unit_test(operations_are_bounded),
	    cmocka_unit_test(pointers_and_arrays_as_rfc_6902_says),
	    cmocka_unit_test(apply_and_strategic_are_415),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
