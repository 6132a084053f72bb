/* Unit tests for reconciler/diff.c: what the schema-guided diff reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "reconciler/diff.h"

#define KIND "loopback.wsr.dev/v1/Workspace"

static cJSON *J(const char *s)
{
	cJSON *v = cJSON_Parse(s);
	assert_non_null(v);
	return v;
}

static const char *base =
    "{\"organization\":\"acme\",\"project\":\"payments\",\"type\":\"kubernetes\","
    "\"metadata\":{\"costCenter\":\"4711\"},"
    "\"kubernetes\":{\"version\":\"1.30.2\",\"controlPlane\":\"high_available\","
    "\"computeProvider\":\"hetzner_cloud\",\"ingress\":false},"
    "\"maintenance\":{\"enabled\":true,\"schedule\":{\"0\":3,\"3\":3}},"
    "\"lifecycle\":{\"preventDestroy\":true}}";

static wsr_field_change *diff(const char *ref, const char *other, size_t *n)
{
	cJSON *a = J(ref), *b = J(other);
	wsr_field_change *f = NULL;
	assert_int_equal(wsr_diff(&f, n, wsr_diff_spec_schema(KIND), a, b), 0);
	cJSON_Delete(a);
	cJSON_Delete(b);
	return f;
}

static void test_equal_is_empty(void **st)
{
	(void)st;
	size_t n = 99;
	wsr_field_change *f = diff(base, base, &n);
	assert_int_equal(n, 0);
	wsr_diff_free(f, n);
}

static void test_lifecycle_and_platform_choices_ignored(void **st)
{
	(void)st;
	/* the platform reports a management cluster the spec did not pin, and
	 * never reports lifecycle: neither is a change */
	const char *observed =
	    "{\"organization\":\"acme\",\"project\":\"payments\",\"type\":\"kubernetes\","
	    "\"metadata\":{\"costCenter\":\"4711\"},"
	    "\"kubernetes\":{\"version\":\"1.30.2\",\"controlPlane\":\"high_available\","
	    "\"computeProvider\":\"hetzner_cloud\",\"ingress\":false,\"managementCluster\":"
	    "\"kamaji-fsn1\"},"
	    "\"maintenance\":{\"enabled\":true,\"schedule\":{\"0\":3,\"3\":3},\"priorityHour\":4}}";
	size_t n = 99;
	wsr_field_change *f = diff(base, observed, &n);
	assert_int_equal(n, 0);
	wsr_diff_free(f, n);
}

static void test_schedule_hour_is_one_field(void **st)
{
	(void)st;
	char other[2048];
	strcpy(other, base);
	char *p = strstr(other, "\"3\":3");
	p[4] = '7';
	size_t n = 0;
	wsr_field_change *f = diff(base, other, &n);
	assert_int_equal(n, 1);
	assert_string_equal(f[0].path, "maintenance.schedule.3");
	assert_int_equal(f[0].before->valueint, 7);
	assert_int_equal(f[0].after->valueint, 3);
	assert_false(f[0].replace);
	assert_null(f[0].operation);
	wsr_diff_free(f, n);
}

static void test_annotations(void **st)
{
	(void)st;
	const char *other =
	    "{\"organization\":\"acme\",\"project\":\"sandbox\",\"type\":\"kubernetes\","
	    "\"metadata\":{\"costCenter\":\"4711\",\"extra\":\"x\"},"
	    "\"kubernetes\":{\"version\":\"1.29.4\",\"controlPlane\":\"single_node\","
	    "\"computeProvider\":\"hetzner_cloud\",\"ingress\":false},"
	    "\"maintenance\":{\"enabled\":true,\"schedule\":{\"0\":3,\"3\":3}}}";
	size_t n = 0;
	wsr_field_change *f = diff(base, other, &n);
	assert_int_equal(n, 4);
	int seen = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(f[i].path, "project") == 0) {
			assert_string_equal(f[i].operation, "transfer");
			seen |= 1;
		} else if (strcmp(f[i].path, "kubernetes.version") == 0) {
			assert_string_equal(f[i].operation, "upgrade");
			seen |= 2;
		} else if (strcmp(f[i].path, "kubernetes.controlPlane") == 0) {
			assert_true(f[i].replace);
			seen |= 4;
		} else if (strcmp(f[i].path, "metadata") == 0) {
			/* a free-form map is compared whole: a removed key is a change */
			assert_false(f[i].replace);
			seen |= 8;
		}
	}
	assert_int_equal(seen, 15);
	wsr_diff_free(f, n);
}

static void test_missing_block_is_change(void **st)
{
	(void)st;
	const char *other =
	    "{\"organization\":\"acme\",\"project\":\"payments\",\"type\":\"kubernetes\","
	    "\"metadata\":{\"costCenter\":\"4711\"}}";
	size_t n = 0;
	wsr_field_change *f = diff(base, other, &n);
	assert_int_equal(n, 2); /* kubernetes and maintenance absent on the other side */
	assert_null(f[0].before);
	assert_non_null(f[0].after);
	wsr_diff_free(f, n);
}

static void test_redact_keeps_everything_without_sensitive(void **st)
{
	(void)st;
	cJSON *a = J(base);
	cJSON *r = wsr_diff_redact(wsr_diff_spec_schema(KIND), a);
	assert_true(cJSON_Compare(a, r, 1));
	cJSON_Delete(a);
	cJSON_Delete(r);
	assert_true(wsr_diff_is_local(wsr_diff_spec_schema(KIND), "lifecycle"));
	assert_false(wsr_diff_is_local(wsr_diff_spec_schema(KIND), "maintenance"));
	assert_null(wsr_diff_spec_schema("nope/v1/Thing"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_equal_is_empty),
	    cmocka_unit_test(test_lifecycle_and_platform_choices_ignored),
	    cmocka_unit_test(test_schedule_hour_is_one_field),
	    cmocka_unit_test(test_annotations),
	    cmocka_unit_test(test_missing_block_is_change),
	    cmocka_unit_test(test_redact_keeps_everything_without_sensitive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
