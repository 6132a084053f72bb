/* test_kcpsim_core: the core v1 group of the kcp emulator (docs/sim.md,
 * "What the emulator answers to kubectl"): kubectl api-resources needs it
 * to list something, so it has namespaces (an empty list; each one 404) and
 * events (empty lists), and discovery says workspaces can be watched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kcpsim_fixture.h"

static void the_core_group_is_not_empty(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("");
	cJSON *v, *it;
	char names[128] = "";
	assert_int_equal(kf_req(k, "GET", "/clusters/root/api/v1", NULL, NULL, &v), 200);
	assert_string_equal(wsr_json_str(v, "groupVersion"), "v1");
	cJSON_ArrayForEach(it, wsr_json_arr(v, "resources"))
	{
		size_t n = strlen(names);
		snprintf(names + n, sizeof(names) - n, "%s%s", n ? " " : "",
			 wsr_json_str(it, "name"));
	}
	assert_string_equal(names, "namespaces events");
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "GET", "/clusters/root/api/v1/namespaces", NULL, NULL, &v), 200);
	assert_string_equal(wsr_json_str(v, "kind"), "NamespaceList");
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(v, "items")), 0);
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "GET", "/api/v1/namespaces/default", NULL, NULL, &v), 404);
	assert_string_equal(kf_message(v), "namespaces \"default\" not found");
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "POST", "/clusters/root/api/v1/namespaces", "{}", NULL, &v),
			 405);
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "GET", "/api/v1/namespaces/a/pods", NULL, NULL, &v), 404);
	assert_string_equal(kf_message(v), "the server could not find the requested resource");
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "GET", "/api/v1/events", NULL, NULL, &v), 200);
	assert_string_equal(wsr_json_str(v, "kind"), "EventList");
	cJSON_Delete(v);
	wsr_kcpsim_free(k);
}

static void workspaces_and_types_can_be_watched(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("");
	cJSON *v, *it;
	int watchable = 0;
	assert_int_equal(kf_req(k, "GET", "/clusters/root" KF_TENANCY, NULL, NULL, &v), 200);
	cJSON_ArrayForEach(it, wsr_json_arr(v, "resources"))
	{
		const cJSON *verb;
		cJSON_ArrayForEach(verb, wsr_json_arr(it, "verbs"))
		{
			watchable += strcmp(verb->valuestring, "watch") == 0;
		}
	}
	assert_int_equal(watchable, 2);
	cJSON_Delete(v);
	wsr_kcpsim_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(the_core_group_is_not_empty),
	    cmocka_unit_test(workspaces_and_types_can_be_watched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
