/* test_sim_seed: the emulator's seeds: the built-in one is what the
 * embedded platform promises, the fixtures load, and every kind of mistake
 * (in the day-two fields too: currency, datacenters, server types, compute
 * profiles, pricing overrides, key permissions, seeded workspaces) is
 * refused with file:line:col and the field named, never a crash. */
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
#include "sim/loopback/catalog.h"
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
	assert_string_equal(wsr_sim_builtin_key("kcp"), "wsr-embedded-kcp-admin");
	assert_null(wsr_sim_builtin_key("nope"));
	/* compute profiles for three providers, one of them unavailable */
	const char *providers[] = {"hetzner_cloud", "ionos_dcd", "baremetal"};
	for (size_t i = 0; i < 3; i++) {
		cJSON *list = wsr_lbsim_profiles(p, acme, providers[i]);
		assert_true(cJSON_GetArraySize(list) > 0);
		cJSON_Delete(list);
	}
	cJSON *h = wsr_lbsim_profiles(p, acme, "hetzner_cloud");
	assert_false(wsr_json_bool(find(h, "name", "cx52"), "available", 1));
	cJSON_Delete(h);
	assert_string_equal(wsr_json_str(p, "currency"), "EUR");
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(p, "workspaces")), 0);
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(p, "apiKeys")), 1);
	cJSON_Delete(p);
}

/* A seed file that must load; the platform (caller frees). */
static cJSON *load(const char *path)
{
	cJSON *p;
	char *err = NULL;
	if (wsr_lbsim_seed_load(&p, path, &err))
		fail_msg("%s", err);
	return p;
}

static void day2_fixture_seed(void **state)
{
	(void)state;
	cJSON *p = load("tests/fixtures/seed-day2.yaml");
	const cJSON *keys = wsr_json_arr(p, "apiKeys");
	const cJSON *noup = find(keys, "key", "day2-noupgrade-key");
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(noup, "permissions")), 5);
	assert_int_equal(wsr_lbsim_key_perms(noup) & WSR_LBSIM_K8S_UPGRADE, 0);
	assert_true(
	    cJSON_IsNull(cJSON_GetObjectItem(find(keys, "key", "day2-admin-key"), "permissions")));
	assert_int_equal(wsr_lbsim_key_perms(find(keys, "key", "day2-viewer-key")),
			 WSR_LBSIM_WS_READ);
	const cJSON *legacy = find(wsr_json_arr(p, "workspaces"), "name", "legacy");
	assert_string_equal(wsr_json_str(legacy, "organization"), "acme");
	assert_string_equal(wsr_json_str(wsr_json_obj(legacy, "kubernetes"), "managementCluster"),
			    "kamaji-fsn1");
	assert_string_equal(wsr_json_str(wsr_json_obj(legacy, "kubernetes"), "version"), "1.28.9");
	const cJSON *metal = find(wsr_json_arr(p, "workspaces"), "name", "metal");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(metal, "kubernetes")));
	const cJSON *acme = find(wsr_json_arr(p, "organizations"), "name", "acme");
	const cJSON *cx22 = find(wsr_json_arr(acme, "pricingOverrides"), "profile", "cx22");
	assert_false(wsr_json_bool(cx22, "active", 1));
	assert_null(cJSON_GetObjectItem(cx22, "monthly")); /* only what the seed names */
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(p, "computeProfiles")), 5);
	cJSON_Delete(p);
}

static void fixture_seed(void **state)
{
	(void)state;
	cJSON *p = load("tests/fixtures/seed.yaml");
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

/* Parses text, which must be accepted; returns the platform (caller frees). */
static cJSON *accepted(const char *text)
{
	cJSON *p = NULL;
	char *err = NULL;
	if (wsr_lbsim_seed_parse(&p, "seed.yaml", text, strlen(text), &err))
		fail_msg("refused: %s\n%s", err, text);
	return p;
}

/* Lines 1-3. */
#define BASE "organizations:\n  - {name: acme, projects: [web]}\napiKeys: []\n"
/* Lines 4-5. */
#define DC "datacenters:\n  - {name: fsn1, computeProvider: h}\n"
/* Lines 6-7. */
#define ST "serverTypes:\n  - {name: cx22, datacenters: [fsn1]}\n"
/* Lines 8-9, profile p with prices PRICES. */
#define PROFILE(prices)                                                                            \
	"computeProfiles:\n  - {name: p, computeProvider: h, serverType: cx22, cpu: 2, "           \
	"memoryGiB: 4, " prices "}\n"
#define PRICES "prices: {setup: '0.00', hourly: '0.0060', monthly: '3.79'}"

static void catalog_errors_have_positions(void **state)
{
	(void)state;
	refused(BASE "currency: euro\n", "seed.yaml:4:", "currency must be three capital letters");
	refused(BASE "currency: 978\n", "seed.yaml:4:", "currency must be three capital letters");
	refused(BASE "datacenters: fsn1\n", "seed.yaml:4:", "datacenters must be a list");
	refused(BASE "datacenters:\n  - fsn1\n", "seed.yaml:5:", "must be a map");
	refused(BASE "datacenters:\n  - {name: fsn1, computeProvider: h, reachable: maybe}\n",
		"seed.yaml:5:", "datacenters[0].reachable: reachable must be true or false");
	refused(BASE "datacenters:\n  - {name: fsn1}\n",
		"seed.yaml:5:", "missing field computeProvider");
	refused(BASE "datacenters:\n  - {name: fsn1, computeProvider: 5}\n",
		"seed.yaml:5:", "computeProvider must be a non-empty string");
	refused(BASE "computeProfiles: {}\n", "seed.yaml:4:", "computeProfiles must be a list");
	refused(BASE "serverTypes: [cx22]\n", "seed.yaml:4:", "must be a map");
	refused(BASE "datacenters:\n  - {name: fsn1, computeProvider: h, zone: a}\n",
		"seed.yaml:5:", "unknown field zone");
	refused(BASE "datacenters:\n  - {name: FSN1, computeProvider: h}\n",
		"seed.yaml:5:", "not a lowercase name");
	refused(BASE DC "  - {name: fsn1, computeProvider: h}\n",
		"seed.yaml:6:", "name fsn1 appears twice");
	refused(BASE DC "serverTypes:\n  - {name: cx22, datacenters: [fsn1, ghost]}\n",
		"seed.yaml:7:",
		"serverTypes[0].datacenters[1]: datacenter ghost is not in datacenters");
	refused(BASE DC "serverTypes:\n  - {name: cx22, datacenters: fsn1}\n",
		"seed.yaml:7:", "datacenters must be a list");
	refused(BASE DC "serverTypes:\n  - {name: cx22}\n  - {name: cx22}\n",
		"seed.yaml:8:", "name cx22 appears twice");
	refused(BASE DC ST
		"computeProfiles:\n  - {name: p, computeProvider: h, serverType: ghost, cpu: 2, "
		"memoryGiB: 4, " PRICES "}\n",
		"seed.yaml:9:",
		"computeProfiles[0].serverType: server type ghost is not in serverTypes");
	const char *cpus[] = {"0", "1.5", "'2'", "-4", "5000"};
	for (size_t i = 0; i < sizeof(cpus) / sizeof(cpus[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text),
			 BASE DC ST "computeProfiles:\n  - {name: p, computeProvider: h, "
				    "serverType: cx22, cpu: %s, memoryGiB: 4, " PRICES "}\n",
			 cpus[i]);
		refused(text, "seed.yaml:9:", "cpu must be a whole number above 0");
	}
	refused(BASE DC ST
		"computeProfiles:\n  - {name: p, computeProvider: h, serverType: cx22, cpu: 2, "
		"memoryGiB: -1, " PRICES "}\n",
		"seed.yaml:9:", "memoryGiB must be a number above 0");
	refused(BASE DC ST
		"computeProfiles:\n  - {name: p, computeProvider: h, serverType: cx22, cpu: 2, "
		"memoryGiB: 4}\n",
		"seed.yaml:9:", "missing field prices");
	refused(BASE DC ST PROFILE("prices: '3.79'"), "seed.yaml:9:", "prices must be a map");
	const char *bad_prices[] = {
	    "0.006",   "'1,5'", "'1.'", "'.5'",
	    "'-1.00'", "'1e3'", "''",	"'123456789012345678901234567890.00'"};
	for (size_t i = 0; i < sizeof(bad_prices) / sizeof(bad_prices[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text),
			 BASE DC ST PROFILE("prices: {setup: '0', hourly: %s, monthly: '1'}"),
			 bad_prices[i]);
		refused(text, "seed.yaml:9:",
			"computeProfiles[0].prices.hourly: hourly must be a decimal string");
	}
	refused(BASE DC ST PROFILE("prices: {setup: '0', hourly: '0'}"),
		"seed.yaml:9:", "missing field monthly");
	refused(BASE DC ST PROFILE("prices: {setup: '0', hourly: '0', monthly: '0', yearly: '0'}"),
		"seed.yaml:9:", "unknown field yearly");
	cJSON *p = accepted(BASE DC ST PROFILE(PRICES) "currency: CHF\n");
	assert_string_equal(wsr_json_str(p, "currency"), "CHF");
	cJSON_Delete(p);
}

/* An organization (line 8) with pricingOverrides: x, after a profile p. */
#define OVERRIDES(x)                                                                               \
	DC ST PROFILE(PRICES) "organizations:\n  - {name: acme, projects: [web], "                 \
			      "pricingOverrides: " x "}\napiKeys: []\n"

static void overrides_and_permissions_have_positions(void **state)
{
	(void)state;
	refused(OVERRIDES("[{profile: ghost}]"), "seed.yaml:8:",
		"organizations[0].pricingOverrides[0].profile: profile ghost is not in "
		"computeProfiles");
	refused(OVERRIDES("[{profile: p, hourly: abc}]"),
		"seed.yaml:8:", "pricingOverrides[0].hourly: hourly must be a decimal string");
	refused(OVERRIDES("[{profile: p}, {profile: p}]"),
		"seed.yaml:8:", "profile p has an override already");
	refused(OVERRIDES("[{profile: p, active: maybe}]"),
		"seed.yaml:8:", "active must be true or false");
	refused(OVERRIDES("[{profile: p, yearly: '1'}]"), "seed.yaml:8:", "unknown field yearly");
	refused(OVERRIDES("p"), "seed.yaml:8:", "pricingOverrides must be a list");
	refused(OVERRIDES("[p]"), "seed.yaml:8:", "must be a map");
	cJSON *p = accepted(OVERRIDES("[{profile: p, hourly: '0.0050'}]"));
	const cJSON *o =
	    cJSON_GetArrayItem(wsr_json_arr(cJSON_GetArrayItem(wsr_json_arr(p, "organizations"), 0),
					    "pricingOverrides"),
			       0);
	assert_true(wsr_json_bool(o, "active", 0)); /* active unless it says otherwise */
	assert_string_equal(wsr_json_str(o, "hourly"), "0.0050");
	cJSON_Delete(p);

	refused(
	    ORG "apiKeys:\n  - {key: k, organization: acme, role: member, "
		"permissions: [workspace:read, workspace:fly]}\n",
	    "seed.yaml:4:", "apiKeys[0].permissions[1]: permission workspace:fly is not one of");
	refused(ORG "apiKeys:\n  - {key: k, organization: acme, role: member, "
		    "permissions: workspace:read}\n",
		"seed.yaml:4:", "permissions must be a list");
	refused(ORG "apiKeys:\n  - {key: k, organization: acme, role: member, "
		    "permissions: [workspace:read, workspace:read]}\n",
		"seed.yaml:4:", "workspace:read is listed twice");
	refused(ORG "apiKeys:\n  - {key: k, organization: acme, role: member, "
		    "permissions: [7]}\n",
		"seed.yaml:4:", "permissions entries must be non-empty strings");
	p = accepted(ORG
		     "apiKeys:\n  - {key: k, organization: acme, role: admin, permissions: []}\n");
	/* an empty list is no permission at all, whatever the role */
	assert_int_equal(wsr_lbsim_key_perms(cJSON_GetArrayItem(wsr_json_arr(p, "apiKeys"), 0)), 0);
	cJSON_Delete(p);
}

/* Lines 1-8; the workspaces' entries start on line 9. */
#define WSBASE                                                                                     \
	"organizations:\n  - {name: acme, projects: [web]}\napiKeys: []\nkubernetesVersions:\n"    \
	"  - {version: '1.28.9', active: false}\nmanagementClusters:\n"                            \
	"  - {name: k1, type: kamaji, computeProvider: hetzner_cloud}\nworkspaces:\n"
#define BARE "  - {organization: acme, name: a, project: web, type: baremetal}\n"

static void seeded_workspaces_are_checked_like_creates(void **state)
{
	(void)state;
	refused(
	    WSBASE "  - {organization: ghost, name: a, project: web, type: baremetal}\n",
	    "seed.yaml:9:", "workspaces[0].organization: organization ghost is not in the seed");
	refused(WSBASE "  - {name: a, project: web, type: baremetal}\n",
		"seed.yaml:9:", "missing field organization");
	refused(
	    WSBASE "  - {organization: acme, name: a, project: db, type: baremetal}\n",
	    "seed.yaml:9:", "workspaces[0].project: project db is not a project of organization");
	refused(WSBASE "  - {organization: acme, name: a, project: web, type: kubernetes}\n",
		"seed.yaml:9:", "kubernetes is required");
	refused(WSBASE "  - {organization: acme, name: a, project: web, type: kubernetes, "
		       "kubernetes: {version: '9.9'}}\n",
		"seed.yaml:9:", "workspaces[0].kubernetes.version: version 9.9 is not in");
	refused(WSBASE "  - {organization: acme, name: a, project: web, type: kubernetes, "
		       "kubernetes: {version: '1.28.9', managementCluster: nowhere}}\n",
		"seed.yaml:9:", "management cluster nowhere does not exist");
	refused(WSBASE "  - {organization: acme, name: a, project: web, type: kubernetes, "
		       "kubernetes: {version: '1.28.9', computeProvider: ionos_dcd}}\n",
		"seed.yaml:9:", "no active Kamaji management cluster carries compute provider");
	refused(WSBASE "  - {organization: acme, name: a, project: web, type: baremetal, "
		       "maintenance: {kubernetes: {}}}\n",
		"seed.yaml:9:", "maintenance.kubernetes");
	refused(WSBASE "  - {organization: acme, name: a, project: web, type: baremetal, "
		       "state: active}\n",
		"seed.yaml:9:", "unknown field state");
	refused(WSBASE BARE "  - {organization: acme, name: A, project: web, type: baremetal}\n",
		"seed.yaml:10:", "workspace acme/a appears twice");
	refused(WSBASE "  {organization: acme}\n", "seed.yaml:", "workspaces must be a list");
	refused(WSBASE "  - web\n", "seed.yaml:9:", "each entry of workspaces must be a map");
	/* an inactive version is fine, the name is sanitized, placement is a create's */
	cJSON *p = accepted(WSBASE "  - {organization: acme, name: Old One, project: web, "
				   "type: kubernetes, kubernetes: {version: '1.28.9'}}\n" BARE);
	const cJSON *ws = cJSON_GetArrayItem(wsr_json_arr(p, "workspaces"), 0);
	assert_string_equal(wsr_json_str(ws, "name"), "old-one");
	assert_string_equal(wsr_json_str(ws, "organization"), "acme");
	assert_string_equal(wsr_json_str(wsr_json_obj(ws, "kubernetes"), "managementCluster"),
			    "k1");
	assert_true(wsr_json_bool(wsr_json_path(ws, "maintenance.compute"), "autoUpdate", 0));
	cJSON_Delete(p);
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
	    cmocka_unit_test(day2_fixture_seed),
	    cmocka_unit_test(catalog_errors_have_positions),
	    cmocka_unit_test(overrides_and_permissions_have_positions),
	    cmocka_unit_test(seeded_workspaces_are_checked_like_creates),
	    cmocka_unit_test(seed_errors_have_positions),
	    cmocka_unit_test(duplicate_keys_stay_secret),
	    cmocka_unit_test(provisioning_limit),
	    cmocka_unit_test(missing_seed_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
