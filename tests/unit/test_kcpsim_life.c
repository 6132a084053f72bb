/* test_kcpsim_life: a kcp workspace's life in the emulator, against kcp's
 * source: the seven phases (seeded, written through /status) and which of
 * them close a workspace (pkg/authorization/workspace_content_authorizer.go,
 * pkg/server/filters/inactivelogicalcluster.go), cascading deletion
 * (Terminating, then Deleting for the subtree, then gone; also across a
 * restart), and ?dryRun=All on every write, which must change nothing: no
 * resourceVersion, no file, no list entry. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include <cmocka.h>

#include "kcpsim_fixture.h"

static const kf_rq dry = {.q = {"dryRun", "All"}};

static char *temp_dir(void)
{
	char *d = strdup("/tmp/wsr-kcpsim-life-XXXXXX");
	assert_non_null(mkdtemp(d));
	return d;
}

static void remove_tree(const char *dir)
{
	char *cmd = wsr_strdupf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

/* The records in DIR/workspaces. */
static int records(const char *dir)
{
	char *w = wsr_strdupf("%s/workspaces", dir);
	DIR *d = opendir(w);
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d)) != NULL;)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	free(w);
	return n;
}

/* The status of a GET of the workspaces below path. */
static int list_in(wsr_kcpsim *k, const char *path, cJSON **out)
{
	char *url = wsr_strdupf("/clusters/%s" KF_TENANCY "/workspaces", path);
	int rc = kf_req(k, "GET", url, NULL, NULL, out);
	free(url);
	return rc;
}

static const char phases_seed[] =
    KF_USERS "workspaces:\n"
	     "  - {path: \"root:s\", type: {name: organization}, phase: Scheduling}\n"
	     "  - {path: \"root:i\", type: {name: organization}, phase: Initializing}\n"
	     "  - {path: \"root:r\", type: {name: organization}}\n"
	     "  - {path: \"root:u\", type: {name: organization}, phase: Unavailable}\n"
	     "  - {path: \"root:in\", type: {name: organization}, phase: Inactive}\n"
	     "  - {path: \"root:t\", type: {name: organization}, phase: Terminating}\n"
	     "  - {path: \"root:d\", type: {name: organization}, phase: Deleting}\n";

static void seven_phases_open_and_close_workspaces(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open(phases_seed);
	const char *open[] = {"root:i", "root:r", "root:t", "root:d"};
	cJSON *v;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(list_in(k, open[i], &v), 200);
		cJSON_Delete(v);
	}
	assert_int_equal(list_in(k, "root:s", &v), 403);
	kf_expect(v, 403,
		  "workspaces.tenancy.kcp.io is forbidden: User \"admin\" cannot list resource "
		  "\"workspaces\" in API group \"tenancy.kcp.io\" at the cluster scope: not "
		  "permitted due to phase \"Scheduling\"");
	assert_int_equal(list_in(k, "root:u", &v), 403);
	kf_expect(v, 403, "*not permitted due to phase \"Unavailable\"");
	/* a path that names no resource says the path */
	assert_int_equal(kf_req(k, "GET", "/clusters/root:u/version", NULL, NULL, &v), 403);
	kf_expect(v, 403,
		  "forbidden: User \"admin\" cannot get path \"/version\": not permitted due to "
		  "phase \"Unavailable\"");
	/* Inactive: kcp's filter, which still lets its LogicalCluster be read */
	v = kf_get(k, "root", "in", 200);
	char *msg = wsr_strdupf("logicalclusters.core.kcp.io \"%s\" is forbidden: logical cluster "
				"is marked inactive",
				wsr_json_str(wsr_json_obj(v, "spec"), "cluster"));
	cJSON_Delete(v);
	assert_int_equal(list_in(k, "root:in", &v), 403);
	kf_expect(v, 403, msg);
	free(msg);
	assert_int_equal(
	    kf_req(k, "GET", "/clusters/root:in/apis/core.kcp.io/v1alpha1/logicalclusters/cluster",
		   NULL, NULL, &v),
	    200);
	assert_string_equal(kf_phase(v), "Inactive");
	cJSON_Delete(v);
	/* seeded phases stay; the deleting ones carry their deletionTimestamp */
	kf_now += 86400000;
	v = kf_get(k, "root", "t", 200);
	assert_string_equal(kf_phase(v), "Terminating");
	assert_non_null(wsr_json_path(v, "metadata.deletionTimestamp"));
	cJSON_Delete(v);
	v = kf_get(k, "root", "s", 200);
	assert_string_equal(kf_phase(v), "Scheduling");
	assert_null(wsr_json_path(v, "metadata.deletionTimestamp"));
	cJSON_Delete(v);
	/* a phase written through /status opens or closes the workspace */
	const char *body = "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\","
			   "\"metadata\":{\"name\":\"s\"},\"status\":{\"phase\":\"Ready\"}}";
	assert_int_equal(kf_req(k, "PUT", KF_WS("root") "/s/status", body, NULL, &v), 200);
	cJSON_Delete(v);
	assert_int_equal(list_in(k, "root:s", &v), 200);
	cJSON_Delete(v);
	body = "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\","
	       "\"metadata\":{\"name\":\"r\"},\"status\":{\"phase\":\"Inactive\"}}";
	assert_int_equal(kf_req(k, "PUT", KF_WS("root") "/r/status", body, NULL, &v), 200);
	assert_string_equal(kf_phase(v), "Inactive");
	cJSON_Delete(v);
	assert_int_equal(list_in(k, "root:r", &v), 403);
	cJSON_Delete(v);
	wsr_kcpsim_free(k);
}

static const char cascade_seed[] = "terminatingMs: 100\ndeletionMs: 200\n" KF_USERS "workspaces:\n"
				   "  - {path: \"root:a\", type: {name: organization}}\n"
				   "  - {path: \"root:a:b\"}\n"
				   "  - {path: \"root:a:b:c\", type: {name: universal}}\n"
				   "  - {path: \"root:keep\", type: {name: organization}}\n";

static void delete_cascades_through_terminating_and_deleting(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open(cascade_seed);
	cJSON *v;
	assert_int_equal(kf_req(k, "DELETE", KF_WS("root") "/a", NULL, NULL, &v), 200);
	assert_string_equal(kf_phase(v), "Terminating");
	assert_non_null(wsr_json_path(v, "metadata.deletionTimestamp"));
	assert_string_equal(
	    cJSON_GetArrayItem(wsr_json_path(v, "metadata.finalizers"), 0)->valuestring,
	    "core.kcp.io/logicalcluster");
	long rv = kf_rv(v);
	cJSON_Delete(v);
	/* Terminating: its children are as they were, and it takes no new ones */
	kf_now += 99;
	v = kf_get(k, "root:a", "b", 200);
	assert_string_equal(kf_phase(v), "Ready");
	assert_null(wsr_json_path(v, "metadata.deletionTimestamp"));
	cJSON_Delete(v);
	assert_int_equal(kf_create(k, "root:a", "new", NULL, NULL, &v), 403);
	kf_expect(v, 403, "workspace root:a is being deleted: no new workspaces in it");
	/* Deleting: the whole subtree with it, each a write */
	kf_now += 1;
	v = kf_get(k, "root", "a", 200);
	assert_string_equal(kf_phase(v), "Deleting");
	assert_true(kf_rv(v) > rv);
	cJSON_Delete(v);
	v = kf_get(k, "root:a:b", "c", 200);
	assert_string_equal(kf_phase(v), "Deleting");
	assert_non_null(wsr_json_path(v, "metadata.deletionTimestamp"));
	cJSON_Delete(v);
	/* a phase a client writes does not stop a deletion */
	assert_int_equal(
	    kf_req(k, "PUT", KF_WS("root:a") "/b/status",
		   "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\","
		   "\"metadata\":{\"name\":\"b\"},\"status\":{\"phase\":\"Ready\"}}",
		   NULL, &v),
	    200);
	cJSON_Delete(v);
	/* a second DELETE answers the same */
	assert_int_equal(kf_req(k, "DELETE", KF_WS("root") "/a", NULL, NULL, &v), 200);
	assert_string_equal(kf_phase(v), "Deleting");
	cJSON_Delete(v);
	kf_now += 199;
	cJSON_Delete(kf_get(k, "root:a", "b", 200));
	kf_now += 1; /* b goes with a, whatever was written */
	cJSON_Delete(kf_get(k, "root", "a", 404));
	assert_int_equal(list_in(k, "root:a:b", &v), 404);
	kf_expect(v, 404, "workspace root:a:b not found");
	assert_int_equal(list_in(k, "root", &v), 200);
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(v, "items")), 1);
	cJSON_Delete(v);
	/* a name that is gone can be used again */
	kf_create_ok(k, "root", "a", NULL, NULL);
	wsr_kcpsim_free(k);
}

static void a_deletion_survives_a_restart(void **state)
{
	(void)state;
	char *dir = temp_dir();
	wsr_kcpsim *k = kf_open_in(cascade_seed, dir);
	cJSON *v;
	char *err = NULL;
	assert_int_equal(records(dir), 4);
	assert_int_equal(kf_req(k, "DELETE", KF_WS("root") "/a", NULL, NULL, &v), 200);
	cJSON_Delete(v);
	kf_now += 150;
	cJSON_Delete(kf_get(k, "root", "a", 200)); /* Deleting now, children too */
	wsr_kcpsim_free(k);
	assert_int_equal(wsr_kcpsim_open(&k, NULL, dir, &err), 0);
	wsr_kcpsim_set_url(k, KF_URL);
	v = kf_get(k, "root:a:b", "c", 200);
	assert_string_equal(kf_phase(v), "Deleting");
	cJSON_Delete(v);
	kf_now += 150;
	cJSON_Delete(kf_get(k, "root", "a", 404));
	assert_int_equal(records(dir), 1); /* root:keep */
	wsr_kcpsim_free(k);
	remove_tree(dir);
	free(dir);
}

/* A PUT of w (as read in v) with the label a=1. */
static char *labels_put(const cJSON *v)
{
	cJSON *b = cJSON_Duplicate(v, 1);
	cJSON *labels =
	    cJSON_AddObjectToObject(cJSON_GetObjectItemCaseSensitive(b, "metadata"), "labels");
	cJSON_AddStringToObject(labels, "a", "1");
	char *text = cJSON_PrintUnformatted(b);
	cJSON_Delete(b);
	return text;
}

static void dry_run_answers_and_writes_nothing(void **state)
{
	(void)state;
	char *dir = temp_dir();
	wsr_kcpsim *k = kf_open_in(KF_USERS "workspaces:\n  - {path: \"root:o\", type: {name: "
					    "organization}}\n  - {path: \"root:o:w\"}\n",
				   dir);
	cJSON *v, *list;
	assert_int_equal(list_in(k, "root:o", &list), 200);
	int files = records(dir);
	/* create: admitted and answered, not stored */
	assert_int_equal(kf_req(k, "POST", KF_WS("root:o"),
				"{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\","
				"\"kind\":\"Workspace\",\"metadata\":{\"name\":\"x\"}}",
				&dry, &v),
			 201);
	assert_string_equal(wsr_json_str(wsr_json_path(v, "spec.type"), "name"), "universal");
	assert_null(wsr_json_path(v, "metadata.resourceVersion"));
	assert_string_equal(kf_phase(v), "Initializing");
	cJSON_Delete(v);
	cJSON_Delete(kf_get(k, "root:o", "x", 404));
	/* refused the same as for real */
	assert_int_equal(
	    kf_req(k, "POST", KF_WS("root:o"),
		   "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\","
		   "\"metadata\":{\"name\":\"x\"},\"spec\":{\"type\":{\"name\":"
		   "\"organization\"}}}",
		   &dry, &v),
	    403);
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "POST", KF_WS("root:o"), "{\"kind\":\"Workspace\"}", &dry, &v),
			 422);
	cJSON_Delete(v);
	/* update, patch, status, delete: the answer of the real one */
	v = kf_get(k, "root:o", "w", 200);
	char *put = labels_put(v);
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "PUT", KF_WS("root:o") "/w", put, &dry, &v), 200);
	assert_string_equal(wsr_json_str(wsr_json_path(v, "metadata.labels"), "a"), "1");
	cJSON_Delete(v);
	free(put);
	const kf_rq dry_patch = {.ctype = "application/merge-patch+json", .q = {"dryRun", "All"}};
	assert_int_equal(kf_req(k, "PATCH", KF_WS("root:o") "/w",
				"{\"metadata\":{\"labels\":{\"b\":\"2\"}}}", &dry_patch, &v),
			 200);
	assert_string_equal(wsr_json_str(wsr_json_path(v, "metadata.labels"), "b"), "2");
	cJSON_Delete(v);
	assert_int_equal(
	    kf_req(k, "PUT", KF_WS("root:o") "/w/status",
		   "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\","
		   "\"metadata\":{\"name\":\"w\"},\"status\":{\"phase\":\"Unavailable\"}}",
		   &dry, &v),
	    200);
	assert_string_equal(kf_phase(v), "Unavailable");
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "DELETE", KF_WS("root:o") "/w", NULL, &dry, &v), 200);
	assert_non_null(wsr_json_path(v, "metadata.deletionTimestamp"));
	assert_string_equal(kf_phase(v), "Deleting");
	cJSON_Delete(v);
	/* kubectl delete --dry-run=server says so in its DeleteOptions */
	assert_int_equal(
	    kf_req(k, "DELETE", KF_WS("root:o") "/w", "{\"dryRun\":[\"All\"]}", NULL, &v), 200);
	assert_non_null(wsr_json_path(v, "metadata.deletionTimestamp"));
	cJSON_Delete(v);
	assert_int_equal(
	    kf_req(k, "DELETE", KF_WS("root:o") "/w", "{\"dryRun\":[\"Nope\"]}", NULL, &v), 422);
	kf_expect(v, 422, "*dryRun: Unsupported value: []string{\"Nope\"}");
	/* and nothing happened */
	v = kf_get(k, "root:o", "w", 200);
	assert_null(wsr_json_path(v, "metadata.labels"));
	assert_null(wsr_json_path(v, "metadata.deletionTimestamp"));
	assert_string_equal(kf_phase(v), "Ready");
	cJSON_Delete(v);
	cJSON *after;
	assert_int_equal(list_in(k, "root:o", &after), 200);
	assert_true(cJSON_Compare(list, after, 1));
	assert_int_equal(records(dir), files);
	cJSON_Delete(after);
	cJSON_Delete(list);
	/* any other value is refused as Kubernetes refuses it */
	const kf_rq bad = {.q = {"dryRun", "Some"}};
	assert_int_equal(kf_req(k, "DELETE", KF_WS("root:o") "/w", NULL, &bad, &v), 422);
	kf_expect(v, 422,
		  "DeleteOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: "
		  "[]string{\"Some\"}: supported values: \"All\"");
	cJSON_Delete(kf_get(k, "root:o", "w", 200));
	wsr_kcpsim_free(k);
	remove_tree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(seven_phases_open_and_close_workspaces),
	    cmocka_unit_test(delete_cascades_through_terminating_and_deleting),
	    cmocka_unit_test(a_deletion_survives_a_restart),
	    cmocka_unit_test(dry_run_answers_and_writes_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
