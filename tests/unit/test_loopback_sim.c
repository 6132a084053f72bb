/* test_loopback_sim: the loopback provider against the real emulator,
 * started in-process through sim/sim.h with tests/fixtures/seed.yaml (or,
 * for the day-two tests, seed-day2.yaml) and a temporary data directory.
 * Where test_loopback_wire pins down answers the emulator never gives, this
 * proves the two sides of docs/api/loopback.md agree: every refusal check
 * predicts is one the platform really gives (sent raw where the provider
 * would not send it), a created workspace lists back without a diff,
 * update, delete, transfer and every upgrade hop land. */
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
#include "lib/http.h"
#include "lib/json.h"
#include "providers/loopback/loopback.h"
#include "tests/unit/provider_fixture.h"
#include "sim/sim.h"

static const wsr_provider_ops *ops = &wsr_loopback_provider;
static wsr_sim *sim;
static char data_dir[64];

/* A fixture seed, from the repository root or relative to this binary
 * (build/<flavour>/tests/). */
static const char *seed_path(const char *name)
{
	static char path[PATH_MAX];
	snprintf(path, sizeof(path), "tests/fixtures/%s", name);
	if (access(path, R_OK) == 0)
		return path;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	snprintf(path, sizeof(path), "%s/../../../tests/fixtures/%s", dirname(exe), name);
	return path;
}

/* Starts the emulator with the seed *state names (default seed.yaml). */
static int setup(void **state)
{
	strcpy(data_dir, "/tmp/wsr-lbsim-XXXXXX");
	if (!mkdtemp(data_dir))
		return -1;
	wsr_sim_opts o = WSR_SIM_OPTS_INIT;
	o.seed_file = seed_path(state && *state ? (const char *)*state : "seed.yaml");
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

/* ---- day two, against tests/fixtures/seed-day2.yaml ----------------------------- */

#define DAY2_ADMIN "day2-admin-key"
#define DAY2_MEMBER "day2-member-key"
#define DAY2_VIEWER "day2-viewer-key"
#define DAY2_SANDBOX "day2-sandbox-key"
#define DAY2_NOUPGRADE "day2-noupgrade-key"
#define DAY2_TRANSFER "day2-transfer-key"
#define GLOBEX_ADMIN "globex-admin-key"
#define END_ACTIONS (-1)

/* Sends one request as it is, so a test can show what the platform does
 * with a body the provider never sends, or that it refuses what check
 * predicted. Returns the status; *code (may be NULL) gets the error code. */
static long raw(const char *key, const char *method, const char *path, const char *body,
		char code[64])
{
	wsr_http_opts o = WSR_HTTP_OPTS_INIT;
	o.base_url = wsr_sim_url(sim);
	o.bearer = key;
	o.max_retries = 0;
	wsr_http *h = NULL;
	char *err = NULL;
	assert_int_equal(wsr_http_new(&h, &o, &err), 0);
	wsr_http_resp r;
	if (wsr_http_request(h, &r, method, path, NULL, body, &err) != 0)
		fail_msg("%s %s: %s", method, path, err ? err : "?");
	long status = r.status;
	cJSON *json = NULL;
	if (code) {
		code[0] = '\0';
		if (r.len && wsr_json_parse(&json, r.body, r.len, &err) == 0) {
			const char *c = wsr_json_str(wsr_json_obj(json, "error"), "code");
			snprintf(code, 64, "%s", c ? c : "");
		}
	}
	free(err);
	cJSON_Delete(json);
	wsr_http_resp_free(&r);
	wsr_http_free(h);
	return status;
}

/* The platform refuses the raw request with status and code. */
static void expect_platform_refuses(const char *key, const char *method, const char *path,
				    const char *body, long status, const char *code)
{
	char got[64];
	long st = raw(key, method, path, body, got);
	if (st != status || strcmp(got, code) != 0)
		fail_msg("%s %s %s as %s: got %ld %s, wanted %ld %s", method, path, body, key, st,
			 got, status, code);
}

static void inject(const char *fault)
{
	assert_int_equal(raw(NULL, "POST", "/_sim/faults", fault, NULL), 201);
}

static wsr_resource *read_ok(wsr_provider *p, const char *address)
{
	wsr_diag d = WSR_DIAG_INIT;
	wsr_resource *r = NULL;
	int rc = ops->read(p, address, &r, &d);
	if (rc || !r) {
		char *t = diag_text(&d);
		fail_msg("read %s: %d, %s:\n%s", address, rc, r ? "found" : "not found", t);
	}
	wsr_diag_free(&d);
	return r;
}

/* have with the string at a one- or two-level path replaced (or added). */
static wsr_resource *desire(const wsr_resource *have, const char *path, const char *value)
{
	wsr_resource *w = wsr_resource_dup(have);
	cJSON *obj = w->spec;
	const char *dot = strchr(path, '.');
	if (dot) {
		char head[32];
		snprintf(head, sizeof(head), "%.*s", (int)(dot - path), path);
		cJSON *sub = cJSON_GetObjectItem(obj, head);
		if (!cJSON_IsObject(sub)) {
			cJSON_DeleteItemFromObject(obj, head);
			sub = cJSON_AddObjectToObject(obj, head);
		}
		obj = sub;
		path = dot + 1;
	}
	cJSON_DeleteItemFromObject(obj, path);
	cJSON_AddStringToObject(obj, path, value);
	return w;
}

static const char *version_of(const wsr_resource *r)
{
	return wsr_json_str(wsr_json_obj(r->spec, "kubernetes"), "version");
}

/* have as if the platform were busy with it (the fixture provisions at
 * once, so the emulator never shows this state for long). */
static wsr_resource *busy(const wsr_resource *have, const char *state)
{
	wsr_resource *b = wsr_resource_dup(have);
	cJSON_ReplaceItemInObject(b->status, "state", cJSON_CreateString(state));
	return b;
}

static fixture_checked check_of(wsr_provider *p, const wsr_resource *have, const wsr_resource *want,
				const int *actions, const char *const *fields)
{
	wsr_change *c = fixture_change(have->address, (wsr_action)actions[0], want, have, fields);
	for (int i = 1; actions[i] != END_ACTIONS; i++)
		c->actions[c->nactions++] = (wsr_action)actions[i];
	fixture_checked k = fixture_check(ops, p, c);
	wsr_change_free(c);
	return k;
}

static const int UPGRADE[] = {WSR_ACT_UPGRADE, END_ACTIONS};
static const int TRANSFER[] = {WSR_ACT_TRANSFER, END_ACTIONS};
static const int DELETE[] = {WSR_ACT_DELETE, END_ACTIONS};

/* check as key refuses the change with needle (and errors in all). */
static void expect_check_refuses_n(const char *key, const wsr_resource *have,
				   const wsr_resource *want, const int *actions, size_t errors,
				   const char *needle)
{
	wsr_provider *p = open_as(key);
	fixture_checked k = check_of(p, have, want, actions, NULL);
	if (k.errors != errors || !strstr(k.text, needle))
		fail_msg("check of %s as %s: %zu errors, wanted %zu with \"%s\":\n%s",
			 have->address, key, k.errors, errors, needle, k.text);
	fixture_checked_free(&k);
	ops->close(p);
}

#define expect_check_refuses(key, have, want, actions, needle)                                     \
	expect_check_refuses_n(key, have, want, actions, 1, needle)

/* Creates acme/<name> in payments at version, as the admin key. */
static wsr_resource *create_kube(wsr_provider *p, const char *name, const char *version)
{
	char k8s[256];
	snprintf(k8s, sizeof(k8s), K8S("%s", "hetzner_cloud", ""), version);
	wsr_resource *spec = resource("acme", name, kube_spec("acme", "payments", k8s));
	wsr_resource *got = create_ok(p, spec);
	wsr_resource_free(spec);
	return got;
}

#define LEGACY "/v1/organizations/acme/workspaces/legacy"

static void test_day2_upgrade_refusals_match_the_platform(void **state)
{
	(void)state;
	wsr_provider *admin = open_as(DAY2_ADMIN);
	wsr_resource *legacy = read_ok(admin, "loopback/acme/legacy");
	wsr_resource *metal = read_ok(admin, "loopback/acme/metal");
	assert_string_equal(version_of(legacy), "1.28.9");
	wsr_resource *fresh = create_kube(admin, "fresh", "1.30.2");
	const struct {
		const char *key;
		const wsr_resource *have;
		const char *to, *needle, *path;
		long status;
		const char *code;
	} cases[] = {
	    {DAY2_ADMIN, fresh, "1.29.4",
	     "upgrades are forward-only: Kubernetes 1.29.4 is not newer than the running 1.30.2",
	     "/v1/organizations/acme/workspaces/fresh/upgrade", 422, "version_not_newer"},
	    {DAY2_ADMIN, legacy, "1.99.0",
	     "Kubernetes version 1.99.0 is not in the platform's catalog | versions reachable from "
	     "1.28.9: 1.29.4, 1.30.2, 1.31.1",
	     LEGACY "/upgrade", 422, "version_unknown"},
	    {DAY2_ADMIN, legacy, "1.32.0", "Kubernetes version 1.32.0 is no longer offered",
	     LEGACY "/upgrade", 422, "version_inactive"},
	    {DAY2_ADMIN, legacy, "1.33.0",
	     "no upgrade path leads from Kubernetes 1.28.9 to 1.33.0 | versions reachable from "
	     "1.28.9: 1.29.4, 1.30.2, 1.31.1",
	     LEGACY "/upgrade", 422, "upgrade_not_allowed"},
	    {DAY2_ADMIN, metal, "1.30.2", "the workspace is baremetal",
	     "/v1/organizations/acme/workspaces/metal/upgrade", 422, "not_kubernetes"},
	    {DAY2_NOUPGRADE, legacy, "1.29.4", "the API key lacks permission kubernetes:upgrade",
	     LEGACY "/upgrade", 403, "permission_denied"},
	    {DAY2_SANDBOX, legacy, "1.29.4",
	     "the API key is limited to other projects and cannot act in project payments",
	     LEGACY "/upgrade", 403, "permission_denied"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wsr_resource *want = desire(cases[i].have, "kubernetes.version", cases[i].to);
		expect_check_refuses(cases[i].key, cases[i].have, want, UPGRADE, cases[i].needle);
		char body[64];
		snprintf(body, sizeof(body), "{\"version\":\"%s\"}", cases[i].to);
		expect_platform_refuses(cases[i].key, "POST", cases[i].path, body, cases[i].status,
					cases[i].code);
		wsr_resource_free(want);
	}
	/* a busy workspace: the platform answers 409 while a task runs */
	wsr_resource *upgrading = busy(legacy, "upgrading");
	wsr_resource *want = desire(legacy, "kubernetes.version", "1.29.4");
	expect_check_refuses(
	    DAY2_ADMIN, upgrading, want, UPGRADE,
	    "the workspace is upgrading, not active: the platform refuses an upgrade "
	    "until it is active");
	/* and nothing was upgraded by all of this */
	wsr_resource *again = read_ok(admin, "loopback/acme/legacy");
	assert_string_equal(version_of(again), "1.28.9");
	wsr_resource_free(again);
	wsr_resource_free(want);
	wsr_resource_free(upgrading);
	wsr_resource_free(fresh);
	wsr_resource_free(metal);
	wsr_resource_free(legacy);
	ops->close(admin);
}

static void test_day2_three_hop_upgrade_records_each_hop(void **state)
{
	(void)state;
	wsr_provider *p = open_as(DAY2_ADMIN);
	wsr_resource *legacy = read_ok(p, "loopback/acme/legacy");
	wsr_resource *want = desire(legacy, "kubernetes.version", "1.31.1");
	const char *fields[] = {"kubernetes.version", NULL};
	wsr_change *c = fixture_change(legacy->address, WSR_ACT_UPGRADE, want, legacy, fields);
	fixture_checked k = fixture_check(ops, p, c);
	assert_int_equal(k.errors, 0);
	assert_string_equal(k.extra,
			    "{\"upgradePath\":[\"1.28.9\",\"1.29.4\",\"1.30.2\",\"1.31.1\"]}");
	assert_non_null(strstr(k.reasons,
			       "Kubernetes upgrade 1.28.9 → 1.29.4 → 1.30.2 → 1.31.1 (3 hops, "
			       "disruptive)"));
	fixture_checked_free(&k);
	fixture_steps steps = {.n = 0};
	wsr_resource *got = NULL;
	wsr_diag d = WSR_DIAG_INIT;
	int rc = fixture_run_steps(ops, p, c, WSR_ACT_UPGRADE, &got, 200, 20000, NULL, &steps, &d);
	if (rc) {
		char *t = diag_text(&d);
		fail_msg("upgrade failed (%d):\n%s", rc, t);
	}
	assert_int_equal(steps.n, 2);
	assert_string_equal(version_of(steps.v[0]), "1.29.4");
	assert_string_equal(version_of(steps.v[1]), "1.30.2");
	assert_string_equal(version_of(got), "1.31.1");
	assert_string_equal(wsr_json_str(got->status, "state"), "active");
	wsr_resource *now = read_ok(p, legacy->address);
	assert_string_equal(version_of(now), "1.31.1");
	wsr_resource_free(now);
	wsr_resource_free(got);
	fixture_steps_free(&steps);
	wsr_diag_free(&d);
	wsr_change_free(c);
	wsr_resource_free(want);
	wsr_resource_free(legacy);
	ops->close(p);
}

static void test_day2_failed_hop_then_rerun_from_observed(void **state)
{
	(void)state;
	wsr_provider *p = open_as(DAY2_ADMIN);
	wsr_resource *have = create_kube(p, "hopper", "1.29.4");
	wsr_resource *want = desire(have, "kubernetes.version", "1.31.1");
	const char *fields[] = {"kubernetes.version", NULL};
	wsr_change *c = fixture_change(have->address, WSR_ACT_UPGRADE, want, have, fields);
	fixture_checked k = fixture_check(ops, p, c);
	assert_string_equal(k.extra, "{\"upgradePath\":[\"1.29.4\",\"1.30.2\",\"1.31.1\"]}");
	fixture_checked_free(&k);

	/* drive it as the engine does; after the first hop, the platform fails the next */
	wsr_diag d = WSR_DIAG_INIT;
	wsr_op *op = NULL;
	assert_int_equal(ops->start(p, c, WSR_ACT_UPGRADE, &op, &d), 0);
	int done = 0, rc = 0, polls = 0;
	wsr_resource *step = NULL;
	while (!rc && !done && !step && polls++ < 200) {
		rc = ops->poll(p, op, &done, &step, &d);
		if (!step)
			usleep(20000);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(done, 0);
	assert_non_null(step);
	assert_string_equal(version_of(step), "1.30.2");
	inject("{\"kind\":\"failTask\",\"type\":\"upgrade\",\"code\":\"upgrade_failed\","
	       "\"message\":\"etcd did not come back\",\"count\":1}");
	wsr_resource *r = NULL;
	for (polls = 0; !rc && !done && polls < 200; polls++) {
		rc = ops->poll(p, op, &done, &r, &d);
		wsr_resource_free(r);
		r = NULL;
		usleep(20000);
	}
	assert_int_equal(rc, WSR_EAPI);
	char *t = diag_text(&d);
	if (!strstr(t, "upgrade 1.30.2 → 1.31.1 failed: etcd did not come back"))
		fail_msg("the failed hop is not named:\n%s", t);
	free(t);
	ops->op_free(op);
	wsr_diag_free(&d);
	wsr_change_free(c);

	/* the re-run starts from what the platform has: one hop left */
	wsr_resource *now = read_ok(p, have->address);
	assert_string_equal(version_of(now), "1.30.2");
	c = fixture_change(now->address, WSR_ACT_UPGRADE, want, now, fields);
	k = fixture_check(ops, p, c);
	assert_string_equal(k.extra, "{\"upgradePath\":[\"1.30.2\",\"1.31.1\"]}");
	fixture_checked_free(&k);
	fixture_steps steps = {.n = 0};
	wsr_resource *got = NULL;
	assert_int_equal(
	    fixture_run_steps(ops, p, c, WSR_ACT_UPGRADE, &got, 200, 20000, NULL, &steps, &d), 0);
	assert_int_equal(steps.n, 0);
	assert_string_equal(version_of(got), "1.31.1");
	wsr_resource_free(got);
	wsr_resource_free(step);
	wsr_resource_free(now);
	wsr_change_free(c);
	wsr_diag_free(&d);
	wsr_resource_free(want);
	wsr_resource_free(have);
	ops->close(p);
}

static void test_day2_transfer(void **state)
{
	(void)state;
	wsr_provider *admin = open_as(DAY2_ADMIN);
	wsr_resource *have = create_kube(admin, "mover", "1.30.2");
	const char *path = "/v1/organizations/acme/workspaces/mover/transfer";

	/* refusals check predicts, and the platform gives */
	wsr_resource *research = desire(have, "project", "research");
	expect_check_refuses(DAY2_ADMIN, have, research, TRANSFER,
			     "project research does not exist in organization acme: the workspace "
			     "cannot be transferred there | projects of organization: payments, "
			     "sandbox, platform");
	expect_platform_refuses(DAY2_ADMIN, "POST", path, "{\"project\":\"research\"}", 422,
				"project_not_found");
	wsr_resource *want = desire(have, "project", "sandbox");
	expect_check_refuses(DAY2_MEMBER, have, want, TRANSFER,
			     "the API key lacks permission workspace:transfer");
	expect_platform_refuses(DAY2_MEMBER, "POST", path, "{\"project\":\"sandbox\"}", 403,
				"permission_denied");
	/* a member lacks workspace:transfer besides: both are said */
	expect_check_refuses_n(DAY2_SANDBOX, have, want, TRANSFER, 2,
			       "cannot act in project payments");
	expect_platform_refuses(DAY2_SANDBOX, "POST", path, "{\"project\":\"sandbox\"}", 403,
				"permission_denied");
	wsr_resource *moving = busy(have, "transferring");
	expect_check_refuses(DAY2_ADMIN, moving, want, TRANSFER,
			     "the workspace is transferring, not active: the platform refuses a "
			     "transfer");
	wsr_resource_free(moving);

	/* the transfer key may: checked clean, then carried out */
	wsr_provider *mover = open_as(DAY2_TRANSFER);
	const char *fields[] = {"project", NULL};
	wsr_change *c = fixture_change(have->address, WSR_ACT_TRANSFER, want, have, fields);
	fixture_checked k = fixture_check(ops, mover, c);
	assert_int_equal(k.errors, 0);
	assert_non_null(strstr(k.extra, "\"verifyAfter\":[\"access on project sandbox"));
	assert_non_null(strstr(k.extra, "automation that encoded project payments"));
	assert_non_null(strstr(k.extra, "billing: costs are attributed to project sandbox"));
	fixture_checked_free(&k);
	wsr_diag d = WSR_DIAG_INIT;
	wsr_resource *got = NULL;
	assert_int_equal(run_op(mover, c, WSR_ACT_TRANSFER, &got, &d), 0);
	assert_string_equal(wsr_json_str(got->spec, "project"), "sandbox");
	assert_string_equal(wsr_json_str(got->status, "state"), "active");
	assert_string_equal(got->id, have->id); /* the same workspace, moved */
	wsr_change_free(c);

	/* a failed transfer task names the destination; the project stays */
	inject("{\"kind\":\"failTask\",\"type\":\"transfer\",\"code\":\"transfer_failed\","
	       "\"message\":\"billing account locked\",\"count\":1}");
	c = fixture_change(have->address, WSR_ACT_TRANSFER, have, got, fields);
	wsr_resource *back = NULL;
	assert_int_equal(run_op(admin, c, WSR_ACT_TRANSFER, &back, &d), WSR_EAPI);
	char *t = diag_text(&d);
	if (!strstr(t, "transfer to project payments failed: billing account locked"))
		fail_msg("the failed transfer is not named:\n%s", t);
	free(t);
	wsr_resource *now = read_ok(admin, have->address);
	assert_string_equal(wsr_json_str(now->spec, "project"), "sandbox");
	wsr_resource_free(now);
	wsr_change_free(c);
	wsr_resource_free(got);
	wsr_diag_free(&d);
	ops->close(mover);
	wsr_resource_free(want);
	wsr_resource_free(research);
	wsr_resource_free(have);
	ops->close(admin);
}

/* The profile named name in a profiles answer, or a failure. */
static const cJSON *profile(const cJSON *out, const char *name)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, wsr_json_arr(out, "profiles"))
	{
		if (strcmp(wsr_json_str(it, "name"), name) == 0)
			return it;
	}
	fail_msg("no profile %s", name);
	return NULL;
}

static void test_day2_profiles(void **state)
{
	(void)state;
	wsr_provider *p = open_as(DAY2_ADMIN);
	wsr_diag d = WSR_DIAG_INIT;
	cJSON *out = NULL;
	int rc = ops->profiles(p, "loopback/acme/legacy", &out, &d);
	if (rc) {
		char *t = diag_text(&d);
		fail_msg("profiles: %d\n%s", rc, t);
	}
	assert_string_equal(wsr_json_str(out, "address"), "loopback/acme/legacy");
	assert_string_equal(wsr_json_str(out, "computeProvider"), "hetzner_cloud");
	const char *names[] = {"cx22", "cx32", "cx52"};
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(out, "profiles")), 3);
	for (int i = 0; i < 3; i++)
		assert_string_equal(
		    wsr_json_str(cJSON_GetArrayItem(wsr_json_arr(out, "profiles"), i), "name"),
		    names[i]);
	/* the organization's active override replaces the prices it names */
	const cJSON *cx32 = profile(out, "cx32");
	assert_string_equal(wsr_json_str(cx32, "priceSource"), "override");
	assert_string_equal(wsr_json_str(wsr_json_obj(cx32, "prices"), "hourly"), "0.0100");
	assert_string_equal(wsr_json_str(wsr_json_obj(cx32, "prices"), "monthly"), "6.49");
	/* an inactive override is ignored */
	assert_string_equal(wsr_json_str(profile(out, "cx22"), "priceSource"), "list");
	/* a server type no reachable datacenter offers */
	const cJSON *cx52 = profile(out, "cx52");
	assert_false(wsr_json_bool(cx52, "available", 1));
	assert_non_null(strstr(wsr_json_str(cx52, "unavailableReason"), "nbg1"));
	assert_true(wsr_json_bool(cx32, "available", 0));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cx32, "unavailableReason")));
	cJSON_Delete(out);

	assert_int_equal(ops->profiles(p, "loopback/acme/metal", &out, &d), 0);
	assert_string_equal(wsr_json_str(out, "computeProvider"), "baremetal");
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(out, "profiles")), 1);
	assert_string_equal(profile(out, "bm-small") ? "bm-small" : "", "bm-small");
	cJSON_Delete(out);
	assert_int_equal(wsr_diag_errors(&d), 0);

	assert_int_equal(ops->profiles(p, "loopback/acme/nope", &out, &d), WSR_ENOTFOUND);
	assert_null(out);
	wsr_diag_free(&d);
	ops->close(p);
}

static void test_day2_read(void **state)
{
	(void)state;
	wsr_provider *p = open_as(DAY2_ADMIN), *globex = open_as(GLOBEX_ADMIN);
	wsr_resource *r = read_ok(p, "loopback/acme/legacy");
	assert_non_null(r->id);
	assert_string_equal(wsr_json_str(r->spec, "project"), "payments");
	assert_string_equal(wsr_json_str(r->status, "state"), "active");
	/* read and list agree */
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	list(p, &set);
	assert_true(cJSON_Compare(r->spec, wsr_resource_set_find(&set, r->address)->spec, 1));
	wsr_resource_set_free(&set);
	wsr_resource_free(r);
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(ops->read(p, "loopback/acme/nope", &r, &d), 0);
	assert_null(r);
	/* another organization's workspace does not exist for this key */
	assert_int_equal(ops->read(globex, "loopback/acme/legacy", &r, &d), 0);
	assert_null(r);
	assert_int_equal(wsr_diag_errors(&d), 0);
	wsr_diag_free(&d);
	ops->close(globex);
	ops->close(p);
}

/* "on", "off" or "?" for maintenance.<block>.<flag> of r. */
static const char *maint_flag(const wsr_resource *r, const char *block, const char *flag)
{
	const cJSON *b = wsr_json_obj(wsr_json_obj(r->spec, "maintenance"), block);
	return wsr_json_bool(b, flag, -1) == 1	 ? "on"
	       : wsr_json_bool(b, flag, -1) == 0 ? "off"
						 : "?";
}

static void test_day2_partial_maintenance_would_switch_flags_off(void **state)
{
	(void)state;
	wsr_provider *p = open_as(DAY2_ADMIN);
	wsr_resource *a = resource(
	    "acme", "maint-raw", kube_spec("acme", "payments", K8S("1.30.2", "hetzner_cloud", "")));
	wsr_resource *b = resource(
	    "acme", "maint-wsr", kube_spec("acme", "payments", K8S("1.30.2", "hetzner_cloud", "")));
	wsr_resource *ra = create_ok(p, a), *rb = create_ok(p, b);
	assert_string_equal(maint_flag(ra, "compute", "autoUpdate"), "on");
	assert_string_equal(maint_flag(ra, "kubernetes", "autoPatch"), "on");

	/* the hazard: a maintenance object without its blocks, sent as is */
	assert_int_equal(raw(DAY2_ADMIN, "PATCH", "/v1/organizations/acme/workspaces/maint-raw",
			     "{\"maintenance\":{\"enabled\":true,\"schedule\":{\"0\":4}}}", NULL),
			 200);
	wsr_resource *after = read_ok(p, ra->address);
	assert_string_equal(maint_flag(after, "compute", "autoUpdate"), "off");
	assert_string_equal(maint_flag(after, "kubernetes", "autoPatch"), "off");
	wsr_resource_free(after);

	/* the provider, given the same partial spec, keeps the flags */
	wsr_resource *want = wsr_resource_dup(rb);
	cJSON_ReplaceItemInObject(want->spec, "maintenance",
				  cJSON_Parse("{\"schedule\":{\"0\":4}}"));
	const char *fields[] = {"maintenance.schedule.0", NULL};
	wsr_change *c = fixture_change(rb->address, WSR_ACT_UPDATE, want, rb, fields);
	wsr_diag d = WSR_DIAG_INIT;
	wsr_resource *got = NULL;
	assert_int_equal(run_op(p, c, WSR_ACT_UPDATE, &got, &d), 0);
	after = read_ok(p, rb->address);
	for (int i = 0; i < 2; i++) {
		const wsr_resource *r = i ? after : got;
		assert_string_equal(maint_flag(r, "compute", "autoUpdate"), "on");
		assert_string_equal(maint_flag(r, "kubernetes", "autoPatch"), "on");
		assert_int_equal(
		    wsr_json_num(wsr_json_path(r->spec, "maintenance.schedule"), "0", -1), 4);
		assert_int_equal(
		    wsr_json_num(wsr_json_path(r->spec, "maintenance.schedule"), "1", -1), 3);
	}
	wsr_resource_free(after);
	wsr_resource_free(got);
	wsr_change_free(c);
	wsr_diag_free(&d);
	wsr_resource_free(want);
	wsr_resource_free(ra);
	wsr_resource_free(rb);
	wsr_resource_free(a);
	wsr_resource_free(b);
	ops->close(p);
}

static void test_day2_maintenance_off_needs_an_administrator(void **state)
{
	(void)state;
	const char *keys[] = {DAY2_MEMBER, DAY2_ADMIN};
	const char *names[] = {"off-member", "off-admin"};
	for (int i = 0; i < 2; i++) {
		wsr_provider *p = open_as(keys[i]);
		wsr_resource *want =
		    resource("acme", names[i],
			     kube_spec("acme", "payments", K8S("1.30.2", "hetzner_cloud", "")));
		cJSON_ReplaceItemInObject(cJSON_GetObjectItem(want->spec, "maintenance"), "enabled",
					  cJSON_CreateFalse());
		wsr_change *c = fixture_change(want->address, WSR_ACT_CREATE, want, NULL, NULL);
		fixture_checked k = fixture_check(ops, p, c);
		if (i == 0 && (k.errors != 1 || !strstr(k.text, "the platform would force "
								"maintenance back on and the spec "
								"would drift forever")))
			fail_msg("member: wanted the maintenance refusal:\n%s", k.text);
		if (i == 1)
			assert_int_equal(k.errors, 0);
		fixture_checked_free(&k);
		/* what check foresaw: the member's false is stored as true */
		wsr_resource *got = create_ok(p, want);
		assert_int_equal(
		    wsr_json_bool(wsr_json_obj(got->spec, "maintenance"), "enabled", -1),
		    i == 0 ? 1 : 0);
		wsr_resource_free(got);
		wsr_change_free(c);
		wsr_resource_free(want);
		ops->close(p);
	}
}

static void test_day2_every_missing_permission_of_a_change(void **state)
{
	(void)state;
	wsr_provider *admin = open_as(DAY2_ADMIN), *viewer = open_as(DAY2_VIEWER);
	wsr_resource *legacy = read_ok(admin, "loopback/acme/legacy");
	wsr_resource *w1 = desire(legacy, "project", "sandbox");
	wsr_resource *want = desire(w1, "kubernetes.version", "1.29.4");
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(want->spec, "maintenance"), "priorityHour",
				  cJSON_CreateNumber(5));
	static const int all[] = {WSR_ACT_TRANSFER, WSR_ACT_UPGRADE, WSR_ACT_UPDATE, END_ACTIONS};
	const char *fields[] = {"project", "kubernetes.version", "maintenance.priorityHour", NULL};
	fixture_checked k = check_of(viewer, legacy, want, all, fields);
	const char *perms[] = {"workspace:transfer", "kubernetes:upgrade", "workspace:update",
			       "maintenance:update"};
	for (int i = 0; i < 4; i++) {
		char needle[96];
		snprintf(needle, sizeof(needle), "lacks permission %s,", perms[i]);
		if (!strstr(k.text, needle))
			fail_msg("no refusal for %s:\n%s", perms[i], k.text);
	}
	assert_int_equal(k.errors, 4);
	fixture_checked_free(&k);
	/* the admin key may do all of it */
	k = check_of(admin, legacy, want, all, fields);
	assert_int_equal(k.errors, 0);
	fixture_checked_free(&k);
	wsr_resource_free(want);
	wsr_resource_free(w1);
	wsr_resource_free(legacy);
	ops->close(viewer);
	ops->close(admin);
}

static void test_day2_update_keeps_the_observed_ingress(void **state)
{
	(void)state;
	wsr_provider *p = open_as(DAY2_ADMIN);
	wsr_resource *have = create_kube(p, "ingress", "1.30.2");
	wsr_resource *want = wsr_resource_dup(have);
	cJSON *k = cJSON_GetObjectItem(want->spec, "kubernetes");
	cJSON_ReplaceItemInObject(k, "ingress", cJSON_CreateTrue());
	cJSON_ReplaceItemInObject(k, "oidc", cJSON_Parse("{\"enabled\":true}"));
	const char *fields[] = {"kubernetes.ingress", "kubernetes.oidc.enabled", NULL};
	wsr_change *c = fixture_change(have->address, WSR_ACT_UPDATE, want, have, fields);
	wsr_diag d = WSR_DIAG_INIT;
	wsr_resource *got = NULL;
	int rc = run_op(p, c, WSR_ACT_UPDATE, &got, &d);
	if (rc) { /* the platform refuses a changed ingress with 400 */
		char *t = diag_text(&d);
		fail_msg("update failed (%d):\n%s", rc, t);
	}
	assert_false(wsr_json_bool(wsr_json_obj(got->spec, "kubernetes"), "ingress", 1));
	assert_true(wsr_json_bool(wsr_json_path(got->spec, "kubernetes.oidc"), "enabled", 0));
	/* what sending the desired ingress would have met */
	expect_platform_refuses(DAY2_ADMIN, "PATCH", "/v1/organizations/acme/workspaces/ingress",
				"{\"kubernetes\":{\"version\":\"1.30.2\",\"ingress\":true}}", 400,
				"invalid_request");
	wsr_resource_free(got);
	wsr_change_free(c);
	wsr_diag_free(&d);
	wsr_resource_free(want);
	wsr_resource_free(have);
	ops->close(p);
}

static void test_day2_delete_says_what_it_destroys(void **state)
{
	(void)state;
	wsr_provider *p = open_as(DAY2_ADMIN);
	wsr_resource *legacy = read_ok(p, "loopback/acme/legacy");
	wsr_resource *metal = read_ok(p, "loopback/acme/metal");
	fixture_checked k = check_of(p, legacy, NULL, DELETE, NULL);
	assert_int_equal(k.errors, 0);
	if (!strstr(k.extra, "\"destroys\":[\"kubernetes cluster acme/legacy (1.28.9, ") ||
	    !strstr(k.extra, "on kamaji-fsn1 with its workloads and persistent volumes") ||
	    !strstr(k.extra, "\"backupFirst\":[\"the workloads' persistent data"))
		fail_msg("delete plan data: %s", k.extra);
	fixture_checked_free(&k);
	k = check_of(p, metal, NULL, DELETE, NULL);
	assert_non_null(strstr(k.extra, "bare-metal workspace acme/metal (project payments)"));
	fixture_checked_free(&k);

	wsr_change *c = fixture_change(legacy->address, WSR_ACT_DELETE, NULL, legacy, NULL);
	wsr_diag d = WSR_DIAG_INIT;
	wsr_resource *got = NULL;
	assert_int_equal(run_op(p, c, WSR_ACT_DELETE, &got, &d), 0);
	assert_null(got);
	assert_int_equal(ops->read(p, legacy->address, &got, &d), 0);
	assert_null(got);
	wsr_change_free(c);
	wsr_diag_free(&d);
	wsr_resource_free(metal);
	wsr_resource_free(legacy);
	ops->close(p);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define D(f) cmocka_unit_test_prestate_setup_teardown(f, setup, teardown, (void *)"seed-day2.yaml")
	const struct CMUnitTest tests[] = {
	    T(test_create_then_list_without_diff),
	    T(test_check_refusals_match_the_platform),
	    T(test_check_allows_what_the_platform_allows),
	    T(test_update_and_delete),
	    T(test_viewer_cannot_update_or_delete),
	    T(test_rerun_create_does_not_create_twice),
	    D(test_day2_upgrade_refusals_match_the_platform),
	    D(test_day2_three_hop_upgrade_records_each_hop),
	    D(test_day2_failed_hop_then_rerun_from_observed),
	    D(test_day2_transfer),
	    D(test_day2_profiles),
	    D(test_day2_read),
	    D(test_day2_partial_maintenance_would_switch_flags_off),
	    D(test_day2_maintenance_off_needs_an_administrator),
	    D(test_day2_every_missing_permission_of_a_change),
	    D(test_day2_update_keeps_the_observed_ingress),
	    D(test_day2_delete_says_what_it_destroys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
