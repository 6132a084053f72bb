/* test_sim_seed: the emulator's seeds: the built-in one is what the
 * embedded platform promises, the fixture loads, and every kind of mistake
 * is refused with file:line:col and the field named, never a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/err.h"
#include "lib/json.h"
#include "sim/loopback/platform.h"
#include "sim/loopback/seed.h"
#include "sim/sim.h"

static cJSON *find(const cJSON *arr, const char *field, const char *value)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		const char *v = wsr_json_str(it, field);
		if (v && strcmp(v, value) == 0)
			return (cJSON *)it;
	}
	return NULL;
}

static void builtin_seed(void **state)
{
	(void)state;
	cJSON *p;
	char *err = NULL;
	assert_int_equal(wsr_lbsim_seed_load(&p, NULL, &err), 0);
	const cJSON *acme = find(wsr_json_arr(p, "organizations"), "name", "acme");
	assert_non_null(acme);
	assert_true(wsr_json_bool(acme, "verified", 0));
	assert_string_equal(wsr_json_str(acme, "state"), "active");
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(acme, "projects")), 3);
	const cJSON *v = find(wsr_json_arr(p, "kubernetesVersions"), "version", "1.31.1");
	assert_non_null(v);
	assert_true(wsr_json_bool(v, "active", 0));
	assert_string_equal(cJSON_GetArrayItem(wsr_json_arr(v, "upgradeFrom"), 0)->valuestring,
			    "1.30.2");
	const cJSON *fra = find(wsr_json_arr(p, "managementClusters"), "name", "kamaji-fra1");
	assert_string_equal(wsr_json_str(fra, "computeProvider"), "ionos_dcd");
	const cJSON *root = find(wsr_json_arr(p, "managementClusters"), "name", "root-1");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(root, "computeProvider")));
	/* the key the engine hands the provider is the seed's admin key */
	const cJSON *key = find(wsr_json_arr(p, "apiKeys"), "key", wsr_sim_builtin_key("loopback"));
	assert_non_null(key);
	assert_string_equal(wsr_json_str(key, "role"), "admin");
	assert_string_equal(wsr_json_str(key, "organization"), "acme");
	assert_int_equal((int)wsr_json_num(wsr_json_obj(p, "provisioning"), "seconds", -1), 1);
	assert_null(wsr_sim_builtin_key("kcp"));
	cJSON_Delete(p);
}

static void fixture_seed(void **state)
{
	(void)state;
	cJSON *p;
	char *err = NULL;
	int rc = wsr_lbsim_seed_load(&p, "tests/fixtures/seed.yaml", &err);
	if (rc)
		fail_msg("%s", err);
	const cJSON *sandbox = find(wsr_json_arr(p, "apiKeys"), "key", "test-sandbox-key");
	assert_string_equal(cJSON_GetArrayItem(wsr_json_arr(sandbox, "projects"), 0)->valuestring,
			    "sandbox");
	/* a key without projects may act in all of them: null, not [] */
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(
	    find(wsr_json_arr(p, "apiKeys"), "key", "test-admin-key"), "projects")));
	cJSON_Delete(p);
}

/* Parses text and expects an error containing each of the wanted strings. */
static void refused(const char *text, const char *want1, const char *want2)
{
	cJSON *p = NULL;
	char *err = NULL;
	int rc = wsr_lbsim_seed_parse(&p, "seed.yaml", text, strlen(text), &err);
	if (rc == 0)
		fail_msg("accepted: %s", text);
	assert_null(p);
	assert_non_null(err);
	if (!strstr(err, want1) || (want2 && !strstr(err, want2)))
		fail_msg("error \"%s\" lacks \"%s\" / \"%s\"", err, want1, want2 ? want2 : "");
	free(err);
}

#define ORG "organizations:\n  - {name: acme, projects: [web]}\n"

static void seed_errors_have_positions(void **state)
{
	(void)state;
	refused("organizations:\n  - {name: acme, verified: maybe}\napiKeys: []\n",
		"seed.yaml:2:", "organizations[0].verified: verified must be true or false");
	refused("organizations:\n  - {name: acme, colour: red}\napiKeys: []\n",
		"seed.yaml:2:", "unknown field colour");
	refused(ORG "apiKeys:\n  - {key: k, organization: ghost, role: admin}\n",
		"seed.yaml:4:", "organization ghost is not in the seed");
	refused(ORG
		"apiKeys:\n  - {key: k, organization: acme, role: admin, projects: [web, db]}\n",
		"seed.yaml:4:", "project db is not a project of organization acme");
	refused(ORG "apiKeys:\n  - {key: k, organization: acme, role: root}\n",
		"seed.yaml:4:", "role root");
	refused(ORG "  - {name: acme}\napiKeys: []\n", "seed.yaml:3:", "name acme appears twice");
	refused(
	    ORG
	    "apiKeys: []\nkubernetesVersions:\n  - {version: '1.30.2', upgradeFrom: ['1.29.4']}\n",
	    "seed.yaml:5:", "version 1.29.4 is not in kubernetesVersions");
	refused(ORG "apiKeys: []\nmanagementClusters:\n  - {name: k1, type: kamaji}\n",
		"seed.yaml:5:", "missing field computeProvider");
	refused(
	    ORG
	    "apiKeys: []\nmanagementClusters:\n  - {name: r1, type: root, computeProvider: x}\n",
	    "seed.yaml:5:", "carries no computeProvider");
	refused(ORG, "seed.yaml:1:1:", "missing field apiKeys");
	refused("organizations:\n  - {name: Acme}\napiKeys: []\n",
		"seed.yaml:2:", "not a lowercase name");
	refused("organizations: [\n", "seed.yaml:", NULL);
	refused(ORG "apiKeys: []\n---\n" ORG "apiKeys: []\n", "exactly one YAML document", NULL);
	refused("- just a list\n", "seed.yaml:1:1:", NULL);
	refused("", "seed.yaml:1:1:", NULL);
}

static void duplicate_keys_stay_secret(void **state)
{
	(void)state;
	refused(ORG "apiKeys:\n  - {key: s3cret, organization: acme, role: admin}\n"
		    "  - {key: s3cret, organization: acme, role: viewer}\n",
		"seed.yaml:5:", "key (sensitive) appears twice");
	cJSON *p = NULL;
	char *err = NULL;
	const char *t = ORG "apiKeys:\n  - {key: s3cret, organization: acme, role: admin}\n"
			    "  - {key: s3cret, organization: acme, role: viewer}\n";
	assert_int_not_equal(wsr_lbsim_seed_parse(&p, "seed.yaml", t, strlen(t), &err), 0);
	assert_null(strstr(err, "s3cret"));
	free(err);
}

static void provisioning_limit(void **state)
{
	(void)state;
	char text[256];
	cJSON *p = NULL;
	char *err = NULL;
	snprintf(text, sizeof(text), ORG "apiKeys: []\nprovisioning: {seconds: %d}\n",
		 WSR_LBSIM_MAX_PROVISIONING_S);
	assert_int_equal(wsr_lbsim_seed_parse(&p, "seed.yaml", text, strlen(text), &err), 0);
	cJSON_Delete(p);
	snprintf(text, sizeof(text), ORG "apiKeys: []\nprovisioning: {seconds: %d}\n",
		 WSR_LBSIM_MAX_PROVISIONING_S + 1);
	refused(text, "seed.yaml:4:", "seconds must be a whole number");
	refused(ORG "apiKeys: []\nprovisioning: {seconds: 0.5}\n", "seed.yaml:4:", "seconds");
	refused(ORG "apiKeys: []\nprovisioning: {seconds: -1}\n", "seed.yaml:4:", "seconds");
}

static void missing_seed_file(void **state)
{
	(void)state;
	cJSON *p = NULL;
	char *err = NULL;
	assert_int_equal(wsr_lbsim_seed_load(&p, "/nonexistent/seed.yaml", &err), WSR_ENOTFOUND);
	assert_non_null(strstr(err, "/nonexistent/seed.yaml"));
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(builtin_seed),
	    cmocka_unit_test(fixture_seed),
	    cmocka_unit_test(seed_errors_have_positions),
	    cmocka_unit_test(duplicate_keys_stay_secret),
	    cmocka_unit_test(provisioning_limit),
	    cmocka_unit_test(missing_seed_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
