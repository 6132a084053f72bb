/* test_kcpsim_homes: home workspaces in the emulator against kcp's source:
 * logical-cluster homes (pkg/server/home_workspaces.go: ~ creates the home,
 * 429 while it is not Ready, then a Workspace "cluster"), the home's own
 * endpoint user:<name> (its owner and system:masters only; a missing one
 * is 403), its LogicalCluster read without creating it, kcp's
 * HomeClusterName (pkg/index/rewriters/user.go), homeCreatorGroups,
 * bucketed homes where ~ is just a name, homes across a restart, and
 * impersonation (system:masters only) with its access review. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include <cmocka.h>

#include "kcpsim_fixture.h"
#include "sim/kcp/api.h"
#include "sim/kcp/names.h"

#define HOME KF_WS("root") "/~"

/* GET of ~ as token (with extra headers); the status, the answer in *out. */
static int get_home(wsr_kcpsim *k, const char *token, const char *const *extra, cJSON **out)
{
	kf_rq o = {.token = token, .headers = extra};
	return kf_req(k, "GET", HOME, NULL, &o, out);
}

static void expect_creating(wsr_kcpsim *k, const char *token, const char *const *extra)
{
	kf_rq o = {.token = token, .headers = extra};
	wsr_sim_resp resp;
	assert_int_equal(kf_send(k, "GET", HOME, NULL, &o, &resp), 429);
	assert_non_null(resp.body);
	cJSON *v = cJSON_Parse(resp.body);
	assert_null(v); /* plain text, as kcp's http.Error */
	assert_string_equal(resp.body, "Creating the home workspace\n");
	wsr_sim_resp_free(&resp);
}

static void home_cluster_names_are_kcps(void **state)
{
	(void)state;
	char c[32];
	/* base36 of the first 8 bytes of SHA-224, computed outside the emulator */
	wsr_kcpsim_home_cluster("bob", c);
	assert_string_equal(c, "2okdry95y5lkv");
	wsr_kcpsim_home_cluster("alice", c);
	assert_string_equal(c, "v1u4alow0iv9");
	/* a leading zero byte is one '0' */
	wsr_kcpsim_home_cluster("u97", c);
	assert_string_equal(c, "02mtpqnefsm8");
}

static void home_paths_at_their_bounds(void **state)
{
	(void)state;
	char name[WSR_KCPSIM_NAME_MAX + 2], path[WSR_KCPSIM_PATH_MAX + 8];
	assert_true(wsr_kcpsim_ws_path_valid("user:bob"));
	assert_true(wsr_kcpsim_ws_path_valid("user:bob:dev"));
	assert_true(wsr_kcpsim_ws_path_valid("root:acme"));
	assert_false(wsr_kcpsim_ws_path_valid("user:"));
	assert_false(wsr_kcpsim_ws_path_valid("user"));
	/* a home's segment is a user name: e-mail addresses too */
	assert_true(wsr_kcpsim_ws_path_valid("user:Bob"));
	assert_true(wsr_kcpsim_ws_path_valid("user:bella@example.com"));
	assert_true(wsr_kcpsim_ws_path_valid("user:bella@example.com:dev"));
	assert_false(wsr_kcpsim_ws_path_valid("user:bella@"));
	assert_false(wsr_kcpsim_ws_path_valid("user:-bob"));
	assert_false(wsr_kcpsim_ws_path_valid("user:bo/b"));
	assert_false(wsr_kcpsim_ws_path_valid("user:bob:Dev")); /* below it, workspace names */
	assert_false(wsr_kcpsim_home_user_valid("bo b"));
	assert_false(wsr_kcpsim_ws_path_valid("user:bob:"));
	assert_false(wsr_kcpsim_ws_path_valid("user:bob::dev"));
	memset(name, 'a', WSR_KCPSIM_NAME_MAX);
	name[WSR_KCPSIM_NAME_MAX] = '\0';
	snprintf(path, sizeof(path), "user:%s", name);
	assert_true(wsr_kcpsim_ws_path_valid(path));
	snprintf(path, sizeof(path), "user:%sa", name);
	assert_false(wsr_kcpsim_ws_path_valid(path));
	/* the whole path: at most WSR_KCPSIM_PATH_MAX bytes, as below root */
	size_t n = (size_t)snprintf(path, sizeof(path), "user:bob");
	while (n + 2 <= WSR_KCPSIM_PATH_MAX)
		n += (size_t)snprintf(path + n, sizeof(path) - n, ":a");
	assert_int_equal(strlen(path), WSR_KCPSIM_PATH_MAX);
	assert_true(wsr_kcpsim_ws_path_valid(path));
	strcat(path, "a");
	assert_false(wsr_kcpsim_ws_path_valid(path));
}

static void the_first_get_of_the_home_creates_it(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open(KF_USERS);
	cJSON *v;
	expect_creating(k, "bob-token", NULL);
	kf_now += 99; /* universal's initializer, which home inherits */
	expect_creating(k, "bob-token", NULL);
	kf_now += 1;
	assert_int_equal(get_home(k, "bob-token", NULL, &v), 200);
	assert_string_equal(wsr_json_str(v, "kind"), "Workspace");
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "metadata"), "name"), "cluster");
	assert_null(wsr_json_path(v, "metadata.resourceVersion"));
	assert_null(wsr_json_path(v, "spec.type"));
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "spec"), "cluster"), "2okdry95y5lkv");
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "spec"), "URL"),
			    KF_URL "/clusters/user:bob");
	assert_string_equal(kf_phase(v), "Ready");
	cJSON_Delete(v);
	/* its own endpoint: the owner's, children default to universal */
	assert_int_equal(kf_create(k, "user:bob", "dev", NULL, "bob-token", &v), 201);
	assert_string_equal(wsr_json_str(wsr_json_path(v, "spec.type"), "name"), "universal");
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "spec"), "URL"),
			    KF_URL "/clusters/user:bob:dev");
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "GET", KF_WS("user:bob:dev"), NULL, KF_AS("bob-token"), &v),
			 200);
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "GET", KF_WS("user:bob"), NULL, NULL, &v), 200); /* masters */
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "GET", KF_WS("user:bob:dev"), NULL, KF_AS("alice-token"), &v),
			 403);
	kf_expect(v, 403,
		  "workspaces.tenancy.kcp.io is forbidden: User \"alice\" cannot list resource "
		  "\"workspaces\" in API group \"tenancy.kcp.io\" at the cluster scope: no "
		  "verb=access permission on /");
	/* a home that does not exist is denied, not missing */
	assert_int_equal(kf_req(k, "GET", KF_WS("user:alice"), NULL, KF_AS("alice-token"), &v),
			 403);
	kf_expect(v, 403, "*LogicalCluster not found");
	/* no API deletes a home: ~ is no workspace to delete */
	assert_int_equal(kf_req(k, "DELETE", HOME, NULL, KF_AS("bob-token"), &v), 404);
	cJSON_Delete(v);
	wsr_kcpsim_free(k);
}

static void a_home_is_read_without_creating_it(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open(KF_USERS);
	cJSON *v;
	const char *lc = "/clusters/user:bob/apis/core.kcp.io/v1alpha1/logicalclusters/cluster";
	assert_int_equal(kf_req(k, "GET", lc, NULL, KF_AS("bob-token"), &v), 403);
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "GET", lc, NULL, KF_AS("bob-token"), &v), 403); /* still none */
	cJSON_Delete(v);
	expect_creating(k, "bob-token", NULL);
	assert_int_equal(kf_req(k, "GET", lc, NULL, KF_AS("bob-token"), &v), 200);
	assert_string_equal(wsr_json_str(v, "kind"), "LogicalCluster");
	assert_string_equal(wsr_json_str(wsr_json_path(v, "metadata.annotations"), "kcp.io/path"),
			    "user:bob");
	assert_string_equal(
	    wsr_json_str(wsr_json_path(v, "metadata.annotations"), "internal.tenancy.kcp.io/type"),
	    "root:home");
	assert_string_equal(kf_phase(v), "Initializing");
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "status"), "URL"),
			    KF_URL "/clusters/user:bob");
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "GET", lc, NULL, KF_AS("alice-token"), &v), 403);
	cJSON_Delete(v);
	assert_int_equal(
	    kf_req(k, "GET", "/clusters/user:bob/apis/core.kcp.io/v1alpha1/logicalclusters/other",
		   NULL, KF_AS("bob-token"), &v),
	    404);
	kf_expect(v, 404, "logicalclusters.core.kcp.io \"other\" not found");
	wsr_kcpsim_free(k);
}

static void home_creators_and_bucketed_homes(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open("homeCreatorGroups: [acme-admins]\n" KF_USERS);
	cJSON *v;
	assert_int_equal(get_home(k, "bob-token", NULL, &v), 403);
	kf_expect(v, 403,
		  "workspaces.tenancy.kcp.io \"~\" is forbidden: User \"bob\" cannot create "
		  "resource \"workspaces\" in API group \"tenancy.kcp.io\" at the cluster scope: "
		  "workspace access not permitted");
	expect_creating(k, "alice-token", NULL);
	wsr_kcpsim_free(k);
	/* buckets: ~ is a name like any other, user: paths do not exist */
	k = kf_open("homes: buckets\n" KF_USERS);
	assert_int_equal(get_home(k, "bob-token", NULL, &v), 404);
	kf_expect(v, 404, "workspaces.tenancy.kcp.io \"~\" not found");
	assert_int_equal(kf_req(k, "GET", KF_WS("user:bob"), NULL, KF_AS("bob-token"), &v), 404);
	cJSON_Delete(v);
	wsr_kcpsim_free(k);
}

static void homes_survive_a_restart(void **state)
{
	(void)state;
	char *dir = strdup("/tmp/wsr-kcpsim-homes-XXXXXX");
	char *err = NULL, *file;
	cJSON *v;
	assert_non_null(mkdtemp(dir));
	wsr_kcpsim *k = kf_open_in(KF_USERS, dir);
	expect_creating(k, "bob-token", NULL);
	kf_create_ok(k, "root", "acme", NULL, NULL);
	wsr_kcpsim_free(k);
	file = wsr_strdupf("%s/workspaces/2okdry95y5lkv.json", dir);
	assert_int_equal(access(file, F_OK), 0);
	free(file);
	assert_int_equal(wsr_kcpsim_open(&k, NULL, dir, &err), 0);
	wsr_kcpsim_set_url(k, KF_URL);
	kf_now += 100;
	assert_int_equal(get_home(k, "bob-token", NULL, &v), 200);
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "spec"), "cluster"), "2okdry95y5lkv");
	cJSON_Delete(v);
	wsr_kcpsim_free(k);
	file = wsr_strdupf("rm -rf '%s'", dir);
	assert_int_equal(system(file), 0);
	free(file);
	free(dir);
}

static void only_masters_impersonate(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open("homeCreatorGroups: [acme-admins]\n" KF_USERS);
	cJSON *v;
	const char *as_bob[] = {"Impersonate-User", "bob", NULL};
	const char *as_bob_admin[] = {
	    "Impersonate-User", "bob", "Impersonate-Group", "x", "Impersonate-Group",
	    "acme-admins",	NULL};
	const char *as_alice[] = {"Impersonate-User", "alice", NULL};
	const char *group_only[] = {"Impersonate-Group", "acme-admins", NULL};
	/* the impersonated user acts: bob is no home creator, unless in the group */
	assert_int_equal(get_home(k, NULL, as_bob, &v), 403);
	kf_expect(v, 403, "*User \"bob\" cannot create resource \"workspaces\"");
	expect_creating(k, NULL, as_bob_admin);
	assert_int_equal(kf_req(k, "GET",
				"/clusters/user:bob/apis/core.kcp.io/v1alpha1/"
				"logicalclusters/cluster",
				NULL, KF_AS("bob-token"), &v),
			 200);
	cJSON_Delete(v);
	assert_int_equal(get_home(k, "bob-token", as_alice, &v), 403);
	kf_expect(
	    v, 403,
	    "users \"alice\" is forbidden: User \"bob\" cannot impersonate resource \"users\" "
	    "in API group \"\" at the cluster scope");
	assert_int_equal(get_home(k, NULL, group_only, &v), 400);
	cJSON_Delete(v);
	/* WSR_KCPSIM_IMPERSONATED_GROUPS (16) groups: the 16th still counts; 17 are refused */
	const char *many[2 * 18 + 3] = {"Impersonate-User", "carol"};
	for (int i = 0; i < 18; i++) {
		many[2 + 2 * i] = "Impersonate-Group";
		many[3 + 2 * i] = i == 15 ? "acme-admins" : "g";
	}
	many[2 + 2 * 16] = NULL; /* 16 groups, acme-admins the last */
	expect_creating(k, NULL, many);
	/* an e-mail user (OIDC) gets a home at user:<address> */
	const char *as_bella[] = {"Impersonate-User", "bella@example.com", "Impersonate-Group",
				  "acme-admins", NULL};
	kf_now += 100;
	expect_creating(k, NULL, as_bella);
	kf_now += 100;
	assert_int_equal(get_home(k, NULL, as_bella, &v), 200);
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "spec"), "URL"),
			    KF_URL "/clusters/user:bella@example.com");
	cJSON_Delete(v);
	const char *as_spaced[] = {"Impersonate-User", "bella smith", "Impersonate-Group",
				   "acme-admins", NULL};
	assert_int_equal(get_home(k, NULL, as_spaced, &v), 500);
	cJSON_Delete(v);
	many[2 + 2 * 16] = "Impersonate-Group"; /* 17 */
	many[2 + 2 * 17] = NULL;
	assert_int_equal(get_home(k, NULL, many, &v), 400);
	kf_expect(v, 400, "at most 16 Impersonate-Group headers are accepted");
	/* the access review says the same */
	const char *review = "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":"
			     "\"SelfSubjectAccessReview\",\"spec\":{\"resourceAttributes\":{"
			     "\"verb\":\"impersonate\",\"group\":\"\",\"resource\":\"users\","
			     "\"name\":\"alice\"}}}";
	const char *ssar = "/clusters/root/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
	assert_int_equal(kf_req(k, "POST", ssar, review, NULL, &v), 201);
	assert_true(cJSON_IsTrue(wsr_json_path(v, "status.allowed")));
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "POST", ssar, review, KF_AS("bob-token"), &v), 201);
	assert_true(cJSON_IsFalse(wsr_json_path(v, "status.allowed")));
	cJSON_Delete(v);
	wsr_kcpsim_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(home_cluster_names_are_kcps),
	    cmocka_unit_test(home_paths_at_their_bounds),
	    cmocka_unit_test(the_first_get_of_the_home_creates_it),
	    cmocka_unit_test(a_home_is_read_without_creating_it),
	    cmocka_unit_test(home_creators_and_bucketed_homes),
	    cmocka_unit_test(homes_survive_a_restart),
	    cmocka_unit_test(only_masters_impersonate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
