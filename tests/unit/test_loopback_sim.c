/* test_loopback_sim: the loopback provider against the real emulator,
 * started in-process through sim/sim.h with tests/fixtures/seed.yaml and a
 * temporary data directory. Where test_loopback_wire pins down answers the
 * emulator never gives, this proves the two sides of docs/api/loopback.md
 * agree: every refusal check predicts is one the platform really gives, a
 * created workspace lists back without a diff, update and delete land. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "providers/loopback/loopback.h"
#include "tests/unit/provider_fixture.h"
#include "sim/sim.h"

static const wsr_provider_ops *ops = &wsr_loopback_provider;
static wsr_sim *sim;
static char data_dir[64];

/* The fixture seed, from the repository root or relative to this binary
 * (build/<flavour>/tests/). */
static const char *seed_path(void)
{
	static char path[PATH_MAX];
	if (access("tests/fixtures/seed.yaml", R_OK) == 0)
		return "tests/fixtures/seed.yaml";
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	snprintf(path, sizeof(path), "%s/../../../tests/fixtures/seed.yaml", dirname(exe));
	return path;
}

static int setup(void **state)
{
	(void)state;
	strcpy(data_dir, "/tmp/wsr-lbsim-XXXXXX");
	if (!mkdtemp(data_dir))
		return -1;
	wsr_sim_opts o = WSR_SIM_OPTS_INIT;
	o.seed_file = seed_path();
	o.data_dir = data_dir;
	char *err = NULL;
	if (wsr_sim_start(&sim, &o, &err) != 0) {
		fprintf(stderr, "emulator did not start: %s\n", err ? err : "?");
		free(err);
		return -1;
	}
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	(void)state;
	wsr_sim_stop(sim);
	nftw(data_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static wsr_provider *open_as(const char *key)
{
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "endpoint", wsr_sim_url(sim));
	cJSON_AddStringToObject(c, "apiKeyEnv", "WSR_TEST_UNUSED");
	cJSON_AddStringToObject(c, "apiKey", key);
	wsr_provider *p = NULL;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(ops->open(&p, c, &d), 0);
	cJSON_Delete(c);
	wsr_diag_free(&d);
	return p;
}

static char *diag_text(const wsr_diag *d)
{
	wsr_buf b = WSR_BUF_INIT;
	for (size_t i = 0; i < d->n; i++)
		wsr_buf_printf(&b, "%s | %s\n", d->v[i].summary,
			       d->v[i].detail ? d->v[i].detail : "");
	return wsr_buf_detach(&b);
}

/* The canonical desired spec of a kubernetes workspace, defaults filled. */
static const char *kube_spec(const char *org, const char *project, const char *k8s)
{
	static char buf[1024];
	snprintf(buf, sizeof(buf),
		 "{\"organization\":\"%s\",\"project\":\"%s\",\"type\":\"kubernetes\","
		 "\"metadata\":{\"costCenter\":\"4711\"},\"kubernetes\":{%s},"
		 "\"maintenance\":{\"enabled\":true,\"schedule\":{\"0\":3,\"1\":3,\"2\":3,\"3\":3,"
		 "\"4\":3,"
		 "\"5\":3,\"6\":3},\"priorityHour\":4,\"compute\":{\"autoUpdate\":true},"
		 "\"kubernetes\":{\"autoPatch\":true}},\"lifecycle\":{\"preventDestroy\":false}}",
		 org, project, k8s);
	return buf;
}

#define K8S(v, cp, extra)                                                                          \
	"\"version\":\"" v "\",\"controlPlane\":\"high_available\",\"computeProvider\":\"" cp      \
	"\",\"ingress\":false,\"oidc\":{\"enabled\":false}" extra

static wsr_resource *resource(const char *org, const char *name, const char *spec)
{
	char addr[160];
	snprintf(addr, sizeof(addr), "loopback/%s/%s", org, name);
	wsr_resource *r = wsr_resource_new(addr, "loopback", "loopback.wsr.dev/v1/Workspace", name);
	r->spec = cJSON_Parse(spec);
	assert_non_null(r->spec);
	return r;
}

static wsr_change *change(wsr_action a, const wsr_resource *desired, const wsr_resource *observed,
			  const char *const *fields)
{
	const wsr_resource *r = desired ? desired : observed;
	if (!r)
		fail_msg("a change needs a desired or an observed resource");
	return fixture_change(r->address, a, desired, observed, fields);
}

/* start + poll until done, as the engine does (the fixture provisions at once). */
static int run_op(wsr_provider *p, const wsr_change *c, wsr_action a, wsr_resource **result,
		  wsr_diag *d)
{
	return fixture_run_op(ops, p, c, a, result, 200, 20000, NULL, d);
}

static wsr_resource *create_ok(wsr_provider *p, const wsr_resource *want)
{
	wsr_change *c = change(WSR_ACT_CREATE, want, NULL, NULL);
	wsr_diag d = WSR_DIAG_INIT;
	wsr_resource *got;
	int rc = run_op(p, c, WSR_ACT_CREATE, &got, &d);
	if (rc) {
		char *t = diag_text(&d);
		fail_msg("create %s failed (%d):\n%s", want->address, rc, t);
	}
	wsr_change_free(c);
	wsr_diag_free(&d);
	return got;
}

static void list(wsr_provider *p, wsr_resource_set *set)
{
	wsr_diag d = WSR_DIAG_INIT;
	wsr_resource_set_free(set);
	int rc = ops->list(p, set, &d);
	if (rc) {
		char *t = diag_text(&d);
		fail_msg("list failed (%d):\n%s", rc, t);
	}
	wsr_diag_free(&d);
}

/* What plan would compare: the desired spec without wsr-side lifecycle,
 * with the cluster the platform chose. */
static void assert_no_diff(const wsr_resource *want, const wsr_resource *got)
{
	cJSON *w = cJSON_Duplicate(want->spec, 1);
	cJSON_DeleteItemFromObject(w, "lifecycle");
	cJSON *k = cJSON_GetObjectItem(w, "kubernetes");
	if (k && !cJSON_HasObjectItem(k, "managementCluster"))
		cJSON_AddStringToObject(k, "managementCluster", "kamaji-fsn1");
	if (!cJSON_Compare(w, got->spec, 1)) {
		char *a = cJSON_PrintUnformatted(w), *b = cJSON_PrintUnformatted(got->spec);
		fail_msg("observed spec differs from desired:\n desired  %s\n observed %s", a, b);
	}
	cJSON_Delete(w);
}

static void test_create_then_list_without_diff(void **state)
{
	(void)state;
	wsr_provider *p = open_as("test-admin-key");
	wsr_resource *a = resource(
	    "acme", "alpha", kube_spec("acme", "payments", K8S("1.30.2", "hetzner_cloud", "")));
	wsr_resource *b = resource(
	    "acme", "beta",
	    kube_spec("acme", "sandbox",
		      K8S("1.29.4", "hetzner_cloud", ",\"managementCluster\":\"kamaji-fsn1\"")));
	wsr_resource *c = resource(
	    "acme", "gamma",
	    "{\"organization\":\"acme\",\"project\":\"sandbox\",\"type\":\"baremetal\","
	    "\"metadata\":{},\"dns\":{\"provider\":\"route53\"},\"maintenance\":{\"enabled\":false,"
	    "\"schedule\":{\"0\":1,\"1\":1,\"2\":1,\"3\":1,\"4\":1,\"5\":1,\"6\":1},"
	    "\"priorityHour\":2,\"compute\":{\"autoUpdate\":false}}}");
	wsr_resource *want[] = {a, b, c};
	for (int i = 0; i < 3; i++) {
		wsr_resource *got = create_ok(p, want[i]);
		assert_non_null(got);
		assert_string_equal(got->address, want[i]->address);
		assert_string_equal(wsr_json_str(got->status, "state"), "active");
		assert_no_diff(want[i], got);
		wsr_resource_free(got);
	}
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	list(p, &set);
	assert_int_equal(set.n, 3);
	for (int i = 0; i < 3; i++) {
		wsr_resource *got = wsr_resource_set_find(&set, want[i]->address);
		assert_non_null(got);
		assert_non_null(got->id);
		assert_no_diff(want[i], got);
	}
	wsr_resource_set_free(&set);
	for (int i = 0; i < 3; i++)
		wsr_resource_free(want[i]);
	ops->close(p);
}

/* check predicts a refusal (needle in its diagnostics) and the platform
 * then really refuses the create with code. */
static void expect_refused(const char *key, const char *org, const char *spec, const char *needle,
			   const char *code)
{
	wsr_provider *p = open_as(key);
	wsr_resource *want = resource(org, "refused", spec);
	wsr_change *c = change(WSR_ACT_CREATE, want, NULL, NULL);
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(ops->check(p, c, &d), 0);
	char *t = diag_text(&d);
	if (wsr_diag_errors(&d) == 0 || !strstr(t, needle))
		fail_msg("check of %s as %s: wanted \"%s\", got:\n%s", want->address, key, needle,
			 t);
	free(t);
	wsr_diag_free(&d);
	wsr_resource *got;
	assert_int_equal(run_op(p, c, WSR_ACT_CREATE, &got, &d), WSR_EAPI);
	t = diag_text(&d);
	if (!strstr(t, code))
		fail_msg("create of %s as %s: wanted platform code %s, got:\n%s", want->address,
			 key, code, t);
	free(t);
	wsr_diag_free(&d);
	wsr_change_free(c);
	wsr_resource_free(want);
	ops->close(p);
}

static void test_check_refusals_match_the_platform(void **state)
{
	(void)state;
	expect_refused("shady-key", "shady",
		       kube_spec("shady", "x", K8S("1.30.2", "hetzner_cloud", "")),
		       "organization shady is not verified", "organization_not_verified");
	expect_refused("frozen-key", "frozen",
		       kube_spec("frozen", "y", K8S("1.30.2", "hetzner_cloud", "")),
		       "organization frozen is suspended", "organization_inactive");
	expect_refused("test-admin-key", "acme",
		       kube_spec("acme", "nope", K8S("1.30.2", "hetzner_cloud", "")),
		       "project nope does not exist", "project_not_found");
	expect_refused("test-admin-key", "acme",
		       kube_spec("acme", "payments", K8S("1.27.0", "hetzner_cloud", "")),
		       "active versions: 1.29.4, 1.30.2", "version_unknown");
	expect_refused("test-admin-key", "acme",
		       kube_spec("acme", "payments", K8S("1.28.9", "hetzner_cloud", "")),
		       "1.28.9 is no longer offered", "version_inactive");
	expect_refused("test-admin-key", "acme",
		       kube_spec("acme", "payments", K8S("1.30.2", "ionos_dcd", "")),
		       "kamaji-old (kamaji, ionos_dcd, inactive)", "no_management_cluster");
	expect_refused(
	    "test-admin-key", "acme",
	    kube_spec("acme", "payments",
		      K8S("1.30.2", "hetzner_cloud", ",\"managementCluster\":\"root-1\"")),
	    "root-1 is not a Kamaji cluster", "management_cluster_invalid");
	expect_refused("test-admin-key", "acme",
		       kube_spec("acme", "payments",
				 K8S("1.30.2", "hetzner_cloud", ",\"managementCluster\":\"nope\"")),
		       "management cluster nope does not exist", "management_cluster_invalid");
	expect_refused("test-viewer-key", "acme",
		       kube_spec("acme", "payments", K8S("1.30.2", "hetzner_cloud", "")),
		       "lacks permission workspace:create", "permission_denied");
	expect_refused("test-sandbox-key", "acme",
		       kube_spec("acme", "payments", K8S("1.30.2", "hetzner_cloud", "")),
		       "cannot act in project payments", "permission_denied");
	expect_refused("shady-key", "acme",
		       kube_spec("acme", "payments", K8S("1.30.2", "hetzner_cloud", "")),
		       "organization acme is not visible to this API key", "not_found");
}

static void test_check_allows_what_the_platform_allows(void **state)
{
	(void)state;
	wsr_provider *p = open_as("test-sandbox-key");
	wsr_resource *want = resource(
	    "acme", "ok", kube_spec("acme", "sandbox", K8S("1.30.2", "hetzner_cloud", "")));
	wsr_change *c = change(WSR_ACT_CREATE, want, NULL, NULL);
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(ops->check(p, c, &d), 0);
	assert_int_equal(wsr_diag_errors(&d), 0);
	wsr_resource_free(create_ok(p, want));
	wsr_diag_free(&d);
	wsr_change_free(c);
	wsr_resource_free(want);
	ops->close(p);
}

static void test_update_and_delete(void **state)
{
	(void)state;
	wsr_provider *p = open_as("test-admin-key");
	wsr_resource *want = resource(
	    "acme", "upd", kube_spec("acme", "payments", K8S("1.30.2", "hetzner_cloud", "")));
	wsr_resource *have = create_ok(p, want);

	/* metadata, maintenance and oidc change in place */
	cJSON_ReplaceItemInObject(want->spec, "metadata",
				  cJSON_Parse("{\"costCenter\":\"9\",\"team\":\"pay\"}"));
	cJSON *m = cJSON_GetObjectItem(want->spec, "maintenance");
	cJSON_ReplaceItemInObject(m, "priorityHour", cJSON_CreateNumber(7));
	cJSON *k = cJSON_GetObjectItem(want->spec, "kubernetes");
	cJSON_ReplaceItemInObject(k, "oidc",
				  cJSON_Parse("{\"enabled\":true,\"sessionLifetime\":\"12h\"}"));
	const char *fields[] = {"metadata", "maintenance.priorityHour", "kubernetes.oidc.enabled",
				"kubernetes.oidc.sessionLifetime", NULL};
	wsr_change *c = change(WSR_ACT_UPDATE, want, have, fields);
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(ops->check(p, c, &d), 0);
	assert_int_equal(wsr_diag_errors(&d), 0);
	wsr_resource *got;
	assert_int_equal(run_op(p, c, WSR_ACT_UPDATE, &got, &d), 0);
	assert_non_null(got);
	assert_no_diff(want, got);
	wsr_resource_free(got);
	wsr_change_free(c);

	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	list(p, &set);
	assert_no_diff(want, wsr_resource_set_find(&set, want->address));

	/* delete: polled until gone; a second delete finds nothing and is done */
	c = change(WSR_ACT_DELETE, NULL, have, NULL);
	assert_int_equal(ops->check(p, c, &d), 0);
	assert_int_equal(run_op(p, c, WSR_ACT_DELETE, &got, &d), 0);
	assert_null(got);
	list(p, &set);
	assert_null(wsr_resource_set_find(&set, want->address));
	assert_int_equal(run_op(p, c, WSR_ACT_DELETE, &got, &d), 0);
	assert_int_equal(wsr_diag_errors(&d), 0);
	wsr_change_free(c);
	wsr_resource_set_free(&set);
	wsr_resource_free(have);
	wsr_resource_free(want);
	wsr_diag_free(&d);
	ops->close(p);
}

static void test_viewer_cannot_update_or_delete(void **state)
{
	(void)state;
	wsr_provider *admin = open_as("test-admin-key"), *viewer = open_as("test-viewer-key");
	wsr_resource *want = resource(
	    "acme", "ro", kube_spec("acme", "payments", K8S("1.30.2", "hetzner_cloud", "")));
	wsr_resource *have = create_ok(admin, want);
	const char *fields[] = {"maintenance.enabled", NULL};
	wsr_change *c = change(WSR_ACT_UPDATE, want, have, fields);
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(ops->check(viewer, c, &d), 0);
	assert_int_equal(wsr_diag_errors(&d), 2); /* workspace:update and maintenance:update */
	wsr_resource *got;
	assert_int_equal(run_op(viewer, c, WSR_ACT_UPDATE, &got, &d), WSR_EAPI);
	char *t = diag_text(&d);
	assert_non_null(strstr(t, "permission_denied"));
	free(t);
	wsr_change_free(c);
	wsr_resource_free(have);
	wsr_resource_free(want);
	wsr_diag_free(&d);
	ops->close(admin);
	ops->close(viewer);
}

static void test_rerun_create_does_not_create_twice(void **state)
{
	(void)state;
	wsr_provider *p = open_as("test-admin-key");
	wsr_resource *want = resource(
	    "acme", "twice", kube_spec("acme", "payments", K8S("1.30.2", "hetzner_cloud", "")));
	wsr_resource *first = create_ok(p, want);
	/* the same create again (a crash before state was written): replayed */
	wsr_resource *again = create_ok(p, want);
	assert_string_equal(first->id, again->id);
	/* another spec under the same name: 409, adopted */
	cJSON_ReplaceItemInObject(want->spec, "metadata", cJSON_Parse("{\"other\":\"x\"}"));
	wsr_resource *adopted = create_ok(p, want);
	assert_string_equal(first->id, adopted->id);
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	list(p, &set);
	assert_int_equal(set.n, 1);
	wsr_resource_set_free(&set);
	wsr_resource_free(first);
	wsr_resource_free(again);
	wsr_resource_free(adopted);
	wsr_resource_free(want);
	ops->close(p);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_create_then_list_without_diff),
	    T(test_check_refusals_match_the_platform),
	    T(test_check_allows_what_the_platform_allows),
	    T(test_update_and_delete),
	    T(test_viewer_cannot_update_or_delete),
	    T(test_rerun_create_does_not_create_twice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
