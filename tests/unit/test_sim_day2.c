/* test_sim_day2: the Loopback emulator's day-two rules, driven without HTTP
 * and with an injected clock, on tests/fixtures/seed-day2.yaml: the
 * maintenance rules, ingress fixed at creation, one-hop forward-only
 * upgrades and transfers as tasks with every refusal in its documented
 * order, compute profiles with prices, explicit key permissions, the
 * emulator-only merge patch and faults, and persistence of running tasks. */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/clock.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "sim/loopback/api.h"
#include "sim/loopback/catalog.h"
#include "sim/loopback/faults.h"
#include "sim/loopback/lbsim.h"
#include "sim/loopback/names.h"
#include "sim/loopback/seed.h"

#define DAY2 "tests/fixtures/seed-day2.yaml"
#define WS "/v1/organizations/acme/workspaces"
#define ADMIN "day2-admin-key"
#define MEMBER "day2-member-key"
#define VIEWER "day2-viewer-key"
#define SANDBOX "day2-sandbox-key"
#define NOUPGRADE "day2-noupgrade-key"
#define TRANSFER "day2-transfer-key"
/* added by open_day2: may transfer, but only within sandbox */
#define SCOPED "scoped-transfer-key"

static int64_t now_ms = 1790000000000;

static int64_t fake_clock(void)
{
	return now_ms;
}

static cJSON *day2_platform(int seconds)
{
	cJSON *platform;
	char *err = NULL;
	if (wsr_lbsim_seed_load(&platform, DAY2, &err))
		fail_msg("%s", err);
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(platform, "provisioning"), "seconds",
				  cJSON_CreateNumber(seconds));
	cJSON *scoped = cJSON_Parse("{\"key\":\"" SCOPED "\",\"organization\":\"acme\","
				    "\"role\":\"member\",\"projects\":[\"sandbox\"],"
				    "\"permissions\":[\"workspace:read\",\"workspace:transfer\"]}");
	cJSON_AddItemToArray(cJSON_GetObjectItem(platform, "apiKeys"), scoped);
	return platform;
}

/* The day-two platform in memory, with its seeded workspaces, and a
 * provisioning time of seconds. */
static wsr_lbsim *open_day2(int seconds)
{
	cJSON *platform = day2_platform(seconds);
	cJSON *seeded = cJSON_DetachItemFromObject(platform, "workspaces");
	wsr_lbsim_store *s;
	wsr_lbsim *l;
	wsr_clock_set(fake_clock);
	assert_int_equal(wsr_lbsim_store_new(&s, platform, NULL), 0);
	assert_int_equal(wsr_lbsim_seed_workspaces(s, seeded, now_ms), 0);
	cJSON_Delete(seeded);
	assert_int_equal(wsr_lbsim_new(&l, s), 0);
	return l;
}

/* Sends one request (key NULL: a /_sim request, no key); returns the status
 * and, in *out, the parsed answer. */
static int call(wsr_lbsim *l, const char *method, const char *path, const char *body,
		const char *key, cJSON **out)
{
	char auth[128];
	snprintf(auth, sizeof(auth), "Bearer %s", key ? key : "");
	const char *headers[] = {"Authorization", auth, NULL};
	wsr_sim_req req = {method,  path, body ? body : "", body ? strlen(body) : 0, NULL,
			   headers, NULL};
	wsr_sim_resp resp = {0};
	if (key)
		wsr_lbsim_handle(l, &req, &resp);
	else
		wsr_lbsim_handle_sim(l, &req, &resp);
	assert_non_null(resp.body);
	*out = cJSON_Parse(resp.body);
	assert_non_null(*out);
	wsr_sim_resp_free(&resp);
	return resp.status;
}

static const char *code_of(const cJSON *v)
{
	const char *c = wsr_json_str(wsr_json_obj(v, "error"), "code");
	return c ? c : "";
}

static const char *message_of(const cJSON *v)
{
	const char *m = wsr_json_str(wsr_json_obj(v, "error"), "message");
	return m ? m : "";
}

/* The request is refused with status and code, and the message holds want
 * (when not NULL). */
static void refused(wsr_lbsim *l, const char *method, const char *path, const char *body,
		    const char *key, int status, const char *code, const char *want)
{
	cJSON *v;
	int got = call(l, method, path, body, key, &v);
	if (got != status || strcmp(code_of(v), code) != 0 ||
	    (want && !strstr(message_of(v), want)))
		fail_msg("%s %s %s: got %d %s \"%s\", expected %d %s \"%s\"", method, path,
			 body ? body : "", got, code_of(v), message_of(v), status, code,
			 want ? want : "");
	cJSON_Delete(v);
}

/* The request succeeds with status; returns the answer (caller frees). */
static cJSON *ok(wsr_lbsim *l, const char *method, const char *path, const char *body,
		 const char *key, int status)
{
	cJSON *v;
	int got = call(l, method, path, body, key, &v);
	if (got != status)
		fail_msg("%s %s %s: got %d %s \"%s\", expected %d", method, path, body ? body : "",
			 got, code_of(v), message_of(v), status);
	return v;
}

static void ok_free(wsr_lbsim *l, const char *method, const char *path, const char *body,
		    const char *key, int status)
{
	cJSON_Delete(ok(l, method, path, body, key, status));
}

/* A string at a dotted path of the workspace (GET as admin). */
static char *ws_field(wsr_lbsim *l, const char *name, const char *dotted)
{
	static char out[128];
	char path[128];
	snprintf(path, sizeof(path), WS "/%s", name);
	cJSON *v = ok(l, "GET", path, NULL, ADMIN, 200);
	const cJSON *x = wsr_json_path(v, dotted);
	snprintf(out, sizeof(out), "%s",
		 cJSON_IsString(x) ? x->valuestring
		 : cJSON_IsTrue(x) ? "true"
				   : "false");
	cJSON_Delete(v);
	return out;
}

static void create_k8s(wsr_lbsim *l, const char *name, const char *project, const char *version)
{
	char body[256];
	snprintf(body, sizeof(body),
		 "{\"name\":\"%s\",\"project\":\"%s\",\"type\":\"kubernetes\","
		 "\"kubernetes\":{\"version\":\"%s\"}}",
		 name, project, version);
	ok_free(l, "POST", WS, body, ADMIN, 202);
}

/* ---- maintenance ---- */

static const char *flag(const cJSON *ws, const char *dotted)
{
	const cJSON *x = wsr_json_path(ws, dotted);
	return cJSON_IsTrue(x) ? "true" : cJSON_IsFalse(x) ? "false" : "absent";
}

static void partial_maintenance_turns_flags_off(void **state)
{
	(void)state;
	wsr_lbsim *l = open_day2(0);
	/* seeded without maintenance: the platform's defaults, flags on */
	assert_string_equal(ws_field(l, "legacy", "maintenance.compute.autoUpdate"), "true");
	cJSON *v =
	    ok(l, "PATCH", WS "/legacy", "{\"maintenance\":{\"schedule\":{\"1\":5}}}", ADMIN, 200);
	assert_string_equal(flag(v, "maintenance.compute.autoUpdate"), "false");
	assert_string_equal(flag(v, "maintenance.kubernetes.autoPatch"), "false");
	assert_string_equal(flag(v, "maintenance.enabled"), "true");
	assert_int_equal((int)wsr_json_num(wsr_json_path(v, "maintenance.schedule"), "1", -1), 5);
	assert_int_equal((int)wsr_json_num(wsr_json_path(v, "maintenance.schedule"), "0", -1), 3);
	assert_int_equal((int)wsr_json_num(wsr_json_obj(v, "maintenance"), "priorityHour", -1), 4);
	cJSON_Delete(v);
	/* a block given without its flag means true */
	v = ok(l, "PATCH", WS "/legacy", "{\"maintenance\":{\"compute\":{},\"kubernetes\":{}}}",
	       ADMIN, 200);
	assert_string_equal(flag(v, "maintenance.compute.autoUpdate"), "true");
	assert_string_equal(flag(v, "maintenance.kubernetes.autoPatch"), "true");
	cJSON_Delete(v);
	/* the same rules at creation; omitted maintenance is the full default */
	v = ok(l, "POST", WS,
	       "{\"name\":\"a\",\"project\":\"payments\",\"type\":\"kubernetes\","
	       "\"kubernetes\":{\"version\":\"1.31.1\"},\"maintenance\":{\"compute\":{}}}",
	       ADMIN, 202);
	assert_string_equal(flag(v, "workspace.maintenance.compute.autoUpdate"), "true");
	assert_string_equal(flag(v, "workspace.maintenance.kubernetes.autoPatch"), "false");
	cJSON_Delete(v);
	v = ok(l, "POST", WS, "{\"name\":\"b\",\"project\":\"payments\",\"type\":\"baremetal\"}",
	       ADMIN, 202);
	assert_string_equal(flag(v, "workspace.maintenance.compute.autoUpdate"), "true");
	assert_true(cJSON_IsNull(wsr_json_path(v, "workspace.maintenance.kubernetes")));
	cJSON_Delete(v);
	wsr_lbsim_free(l);
}

static void baremetal_has_no_kubernetes_maintenance(void **state)
{
	(void)state;
	wsr_lbsim *l = open_day2(0);
	refused(l, "PATCH", WS "/metal", "{\"maintenance\":{\"kubernetes\":{\"autoPatch\":true}}}",
		ADMIN, 400, "invalid_request", "maintenance.kubernetes");
	refused(l, "POST", WS,
		"{\"name\":\"m\",\"project\":\"payments\",\"type\":\"baremetal\","
		"\"maintenance\":{\"kubernetes\":{}}}",
		ADMIN, 400, "invalid_request", "maintenance.kubernetes");
	/* null is fine: it is what the platform shows */
	ok_free(l, "PATCH", WS "/metal", "{\"maintenance\":{\"kubernetes\":null,\"compute\":{}}}",
		ADMIN, 200);
	wsr_lbsim_free(l);
}

static void only_admins_switch_maintenance_off(void **state)
{
	(void)state;
	wsr_lbsim *l = open_day2(0);
	const char *off = "{\"maintenance\":{\"enabled\":false,\"schedule\":{\"3\":7},"
			  "\"compute\":{},\"kubernetes\":{}}}";
	cJSON *v = ok(l, "PATCH", WS "/legacy", off, MEMBER, 200);
	assert_string_equal(flag(v, "maintenance.enabled"), "true");
	assert_int_equal((int)wsr_json_num(wsr_json_path(v, "maintenance.schedule"), "3", -1), 7);
	cJSON_Delete(v);
	assert_string_equal(ws_field(l, "legacy", "maintenance.enabled"), "true");
	/* what the member sent is, after the rule, what is stored: no change, so
	 * a key without maintenance:update may send it */
	ok_free(l, "PATCH", WS "/legacy", off, TRANSFER, 200);
	refused(l, "PATCH", WS "/legacy", "{\"maintenance\":{\"enabled\":false}}", TRANSFER, 403,
		"permission_denied", "missing permission maintenance:update");
	v = ok(l, "PATCH", WS "/legacy", off, ADMIN, 200);
	assert_string_equal(flag(v, "maintenance.enabled"), "false");
	cJSON_Delete(v);
	/* at creation too */
	v = ok(l, "POST", WS,
	       "{\"name\":\"c\",\"project\":\"payments\",\"type\":\"baremetal\","
	       "\"maintenance\":{\"enabled\":false,\"priorityHour\":9}}",
	       MEMBER, 202);
	assert_string_equal(flag(v, "workspace.maintenance.enabled"), "true");
	assert_int_equal(
	    (int)wsr_json_num(wsr_json_path(v, "workspace.maintenance"), "priorityHour", -1), 9);
	cJSON_Delete(v);
	wsr_lbsim_free(l);
}

static void ingress_is_seeded_at_creation(void **state)
{
	(void)state;
	wsr_lbsim *l = open_day2(0);
	refused(l, "PATCH", WS "/legacy", "{\"kubernetes\":{\"ingress\":true}}", ADMIN, 400,
		"invalid_request", "kubernetes.ingress");
	refused(l, "PATCH", WS "/legacy", "{\"kubernetes\":{\"ingress\":\"false\"}}", ADMIN, 400,
		"invalid_request", "kubernetes.ingress");
	ok_free(l, "PATCH", WS "/legacy", "{\"kubernetes\":{\"ingress\":false}}", ADMIN, 200);
	assert_string_equal(ws_field(l, "legacy", "kubernetes.ingress"), "false");
	refused(l, "PATCH", WS "/legacy", "{\"project\":\"sandbox\"}", ADMIN, 400,
		"invalid_request", "transfer");
	refused(l, "PATCH", WS "/legacy", "{\"kubernetes\":{\"version\":\"1.29.4\"}}", ADMIN, 400,
		"invalid_request", "upgrade");
	wsr_lbsim_free(l);
}

/* malformed 400, 404, workspace:update 403, fields 400, maintenance:update
 * 403, not active 409: each wins over every later one. */
static void patch_refusals_in_documented_order(void **state)
{
	(void)state;
	wsr_lbsim *l = open_day2(1);
	now_ms += 1000; /* nothing else is running */
	ok_free(l, "POST", WS "/legacy/upgrade", "{\"version\":\"1.29.4\"}", ADMIN, 202);
	/* legacy is upgrading now: 409 for whoever gets that far */
	const char *ingress_and_maint =
	    "{\"kubernetes\":{\"ingress\":true},\"maintenance\":{\"priorityHour\":1}}";
	refused(l, "PATCH", WS "/nope", "{\"metadata\":", ADMIN, 400, "invalid_request", NULL);
	refused(l, "PATCH", WS "/nope", ingress_and_maint, VIEWER, 404, "not_found", NULL);
	refused(l, "PATCH", WS "/legacy", ingress_and_maint, VIEWER, 403, "permission_denied",
		"workspace:update");
	refused(l, "PATCH", WS "/legacy", ingress_and_maint, TRANSFER, 400, "invalid_request",
		"kubernetes.ingress");
	refused(l, "PATCH", WS "/legacy", "{\"maintenance\":{\"priorityHour\":1}}", TRANSFER, 403,
		"permission_denied", "maintenance:update");
	refused(l, "PATCH", WS "/legacy", "{\"maintenance\":{\"priorityHour\":1}}", ADMIN, 409,
		"conflict", "upgrading");
	wsr_lbsim_free(l);
}

/* ---- upgrades ---- */

static void versions_compare_numerically(void **state)
{
	(void)state;
	assert_true(wsr_lbsim_version_cmp("1.10.0", "1.9.9") > 0);
	assert_true(wsr_lbsim_version_cmp("1.9.9", "1.10.0") < 0);
	assert_int_equal(wsr_lbsim_version_cmp("1.30.2", "1.30.2"), 0);
	assert_int_equal(wsr_lbsim_version_cmp("1.30", "1.30.0"), 0);
	assert_true(wsr_lbsim_version_cmp("1.30.10", "1.30.9") > 0);
	assert_true(wsr_lbsim_version_cmp("2.0.0", "1.99.99") > 0);
	assert_true(wsr_lbsim_version_cmp("1.30.2-rc1", "1.30.2") > 0); /* ties break as text */
	assert_true(wsr_lbsim_version_cmp("", "0.0.1") < 0);
	/* a part too long to hold does not wrap around */
	assert_true(wsr_lbsim_version_cmp("1.99999999999999999999999", "1.2") > 0);
}

static void upgrade_targets_are_one_active_hop_in_version_order(void **state)
{
	(void)state;
	const char *seed = "organizations: [{name: o}]\napiKeys: []\nkubernetesVersions:\n"
			   "  - {version: '1.8.0'}\n"
			   "  - {version: '1.10.0', upgradeFrom: ['1.8.0']}\n"
			   "  - {version: '1.9.9', upgradeFrom: ['1.8.0']}\n"
			   "  - {version: '1.9.10', active: false, upgradeFrom: ['1.8.0']}\n";
	cJSON *p;
	char *err = NULL;
	assert_int_equal(wsr_lbsim_seed_parse(&p, "s.yaml", seed, strlen(seed), &err), 0);
	cJSON *t = wsr_lbsim_upgrade_targets(p, "1.8.0");
	assert_int_equal(cJSON_GetArraySize(t), 2);
	assert_string_equal(wsr_json_str(cJSON_GetArrayItem(t, 0), "version"), "1.9.9");
	assert_string_equal(wsr_json_str(cJSON_GetArrayItem(t, 1), "version"), "1.10.0");
	cJSON_Delete(t);
	cJSON_Delete(p);

	wsr_lbsim *l = open_day2(0);
	cJSON *v = ok(l, "GET", WS "/legacy/upgrades", NULL, VIEWER, 200);
	assert_string_equal(wsr_json_str(v, "current"), "1.28.9");
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(v, "items")), 1);
	assert_string_equal(
	    wsr_json_str(cJSON_GetArrayItem(wsr_json_arr(v, "items"), 0), "version"), "1.29.4");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(v, "nextCursor")));
	cJSON_Delete(v);
	create_k8s(l, "top", "payments", "1.31.1"); /* 1.32.0 is inactive, 1.33.0 unreachable */
	v = ok(l, "GET", WS "/top/upgrades", NULL, ADMIN, 200);
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(v, "items")), 0);
	cJSON_Delete(v);
	v = ok(l, "GET", WS "/metal/upgrades", NULL, ADMIN, 200);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(v, "current")));
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(v, "items")), 0);
	cJSON_Delete(v);
	refused(l, "GET", WS "/legacy/upgrades", NULL, SANDBOX, 403, "permission_denied", NULL);
	refused(l, "GET", "/v1/organizations/globex/workspaces/legacy/upgrades", NULL, ADMIN, 404,
		"not_found", NULL);
	wsr_lbsim_free(l);
}

#define UP(ws) WS "/" ws "/upgrade"
#define TO(v) "{\"version\":\"" v "\"}"

static void upgrade_refusals_in_documented_order(void **state)
{
	(void)state;
	wsr_lbsim *l = open_day2(1);
	create_k8s(l, "young", "payments", "1.29.4"); /* initializing for a second */
	ok_free(l, "POST", WS,
		"{\"name\":\"bare\",\"project\":\"payments\",\"type\":\"baremetal\"}", ADMIN, 202);
	/* 400 before 404 */
	refused(l, "POST", UP("nope"), "{\"version\":", ADMIN, 400, "invalid_request", NULL);
	refused(l, "POST", UP("nope"), "{\"version\":1}", ADMIN, 400, "invalid_request", "version");
	refused(l, "POST", UP("nope"), "{}", ADMIN, 400, "invalid_request", "version");
	refused(l, "POST", UP("nope"), "[\"1.29.4\"]", ADMIN, 400, "invalid_request", NULL);
	/* 404 before 403 */
	refused(l, "POST", UP("nope"), TO("9.9.9"), VIEWER, 404, "not_found", NULL);
	refused(l, "POST", "/v1/organizations/globex/workspaces/legacy/upgrade", TO("1.29.4"),
		ADMIN, 404, "not_found", NULL);
	/* 403 before not_kubernetes, and for each way of lacking it */
	refused(l, "POST", UP("metal"), TO("9.9.9"), VIEWER, 403, "permission_denied",
		"kubernetes:upgrade");
	refused(l, "POST", UP("legacy"), TO("1.29.4"), NOUPGRADE, 403, "permission_denied",
		"missing permission kubernetes:upgrade on project payments");
	refused(l, "POST", UP("legacy"), TO("1.29.4"), SANDBOX, 403, "permission_denied", NULL);
	/* not_kubernetes before 409 */
	refused(l, "POST", UP("bare"), TO("9.9.9"), ADMIN, 422, "not_kubernetes", NULL);
	/* 409 (naming the state) before the catalog's refusals */
	refused(l, "POST", UP("young"), TO("9.9.9"), ADMIN, 409, "conflict", "initializing");
	now_ms += 1000;
	create_k8s(l, "mid", "payments", "1.30.2");
	now_ms += 1000;
	/* version_unknown, then version_inactive before version_not_newer */
	refused(l, "POST", UP("legacy"), TO("9.9.9"), ADMIN, 422, "version_unknown", NULL);
	refused(l, "POST", UP("legacy"), TO("1.28.9"), ADMIN, 422, "version_inactive", NULL);
	/* version_not_newer before upgrade_not_allowed (1.29.4 does not list 1.30.2) */
	refused(l, "POST", UP("mid"), TO("1.29.4"), ADMIN, 422, "version_not_newer", NULL);
	refused(l, "POST", UP("mid"), TO("1.30.2"), ADMIN, 422, "version_not_newer", NULL);
	/* upgrade_not_allowed names the eligible targets, or says there are none */
	refused(l, "POST", UP("legacy"), TO("1.30.2"), ADMIN, 422, "upgrade_not_allowed",
		"eligible targets: 1.29.4");
	create_k8s(l, "top", "payments", "1.31.1");
	now_ms += 1000;
	refused(l, "POST", UP("top"), TO("1.33.0"), ADMIN, 422, "upgrade_not_allowed",
		"eligible targets: none");
	/* nothing was changed by any of them */
	assert_string_equal(ws_field(l, "legacy", "kubernetes.version"), "1.28.9");
	assert_string_equal(ws_field(l, "legacy", "state"), "active");
	wsr_lbsim_free(l);
}

static char *task_id(const cJSON *v)
{
	static char id[WSR_LBSIM_ID_MAX];
	snprintf(id, sizeof(id), "%s", wsr_json_str(wsr_json_obj(v, "task"), "id"));
	return id;
}

/* GET /v1/tasks/id as admin (caller frees). */
static cJSON *task(wsr_lbsim *l, const char *id)
{
	char path[96];
	snprintf(path, sizeof(path), "/v1/tasks/%s", id);
	return ok(l, "GET", path, NULL, ADMIN, 200);
}

static void upgrade_hop_runs_as_a_task(void **state)
{
	(void)state;
	wsr_lbsim *l = open_day2(1);
	cJSON *v = ok(l, "POST", UP("legacy"), TO("1.29.4"), MEMBER, 202);
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "workspace"), "state"), "upgrading");
	assert_string_equal(wsr_json_str(wsr_json_path(v, "workspace.kubernetes"), "version"),
			    "1.28.9");
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "task"), "type"), "upgrade");
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "task"), "state"), "running");
	char id[WSR_LBSIM_ID_MAX];
	snprintf(id, sizeof(id), "%s", task_id(v));
	cJSON_Delete(v);
	/* every other mutation waits for it */
	refused(l, "POST", UP("legacy"), TO("1.29.4"), ADMIN, 409, "conflict", "upgrading");
	refused(l, "POST", WS "/legacy/transfer", "{\"project\":\"sandbox\"}", ADMIN, 409,
		"conflict", "upgrading");
	refused(l, "PATCH", WS "/legacy", "{\"metadata\":{}}", ADMIN, 409, "conflict", NULL);
	refused(l, "DELETE", WS "/legacy", NULL, ADMIN, 409, "conflict", "upgrading");
	now_ms += 999;
	assert_string_equal(ws_field(l, "legacy", "state"), "upgrading");
	now_ms += 1;
	assert_string_equal(ws_field(l, "legacy", "state"), "active");
	assert_string_equal(ws_field(l, "legacy", "kubernetes.version"), "1.29.4");
	v = task(l, id);
	assert_string_equal(wsr_json_str(v, "state"), "succeeded");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(v, "error")));
	cJSON_Delete(v);
	/* the next hop is offered now, and taken like the first */
	v = ok(l, "GET", WS "/legacy/upgrades", NULL, ADMIN, 200);
	assert_string_equal(wsr_json_str(v, "current"), "1.29.4");
	assert_string_equal(
	    wsr_json_str(cJSON_GetArrayItem(wsr_json_arr(v, "items"), 0), "version"), "1.30.2");
	cJSON_Delete(v);
	ok_free(l, "POST", UP("legacy"), TO("1.30.2"), ADMIN, 202);
	now_ms += 1000;
	assert_string_equal(ws_field(l, "legacy", "kubernetes.version"), "1.30.2");
	ok_free(l, "DELETE", WS "/legacy", NULL, ADMIN, 202);
	wsr_lbsim_free(l);
}

/* ---- transfers ---- */

#define XFER(ws) WS "/" ws "/transfer"
#define INTO(p) "{\"project\":\"" p "\"}"

static void transfer_refusals_in_documented_order(void **state)
{
	(void)state;
	wsr_lbsim *l = open_day2(1);
	now_ms += 1000;
	ok_free(l, "POST", WS, "{\"name\":\"box\",\"project\":\"sandbox\",\"type\":\"baremetal\"}",
		ADMIN, 202);
	/* 400 before 404 */
	refused(l, "POST", XFER("nope"), "{\"project\":", ADMIN, 400, "invalid_request", NULL);
	refused(l, "POST", XFER("nope"), "{\"project\":7}", ADMIN, 400, "invalid_request",
		"project");
	refused(l, "POST", XFER("nope"), "{\"project\":\"\"}", ADMIN, 400, "invalid_request",
		"project");
	/* 404 before 403 */
	refused(l, "POST", XFER("nope"), INTO("sandbox"), VIEWER, 404, "not_found", NULL);
	refused(l, "POST", "/v1/organizations/globex/workspaces/metal/transfer", INTO("research"),
		ADMIN, 404, "not_found", NULL);
	/* the workspace's own project is a 400, before 403 */
	refused(l, "POST", XFER("metal"), INTO("payments"), VIEWER, 400, "invalid_request",
		"payments");
	/* 403: no workspace:transfer (members lack it), the current project, the destination */
	refused(l, "POST", XFER("metal"), INTO("sandbox"), MEMBER, 403, "permission_denied",
		"missing permission workspace:transfer on project payments");
	refused(l, "POST", XFER("metal"), INTO("sandbox"), SCOPED, 403, "permission_denied",
		"on project payments");
	refused(l, "POST", XFER("box"), INTO("payments"), SCOPED, 403, "permission_denied",
		"on project payments");
	/* 403 before 422: the scoped key may not act in a project that does not exist */
	refused(l, "POST", XFER("box"), INTO("nope"), SCOPED, 403, "permission_denied", NULL);
	refused(l, "POST", XFER("box"), INTO("nope"), TRANSFER, 422, "project_not_found", NULL);
	/* 422 before 409 */
	ok_free(l, "POST", UP("legacy"), TO("1.29.4"), ADMIN, 202);
	refused(l, "POST", XFER("legacy"), INTO("nope"), TRANSFER, 422, "project_not_found", NULL);
	refused(l, "POST", XFER("legacy"), INTO("sandbox"), TRANSFER, 409, "conflict", "upgrading");
	assert_string_equal(ws_field(l, "metal", "project"), "payments");
	wsr_lbsim_free(l);
}

static void transfer_moves_at_once_and_ends_active(void **state)
{
	(void)state;
	wsr_lbsim *l = open_day2(1);
	char id[40];
	snprintf(id, sizeof(id), "%s", ws_field(l, "legacy", "id"));
	cJSON *v = ok(l, "POST", XFER("legacy"), INTO("sandbox"), TRANSFER, 202);
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "workspace"), "project"), "sandbox");
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "workspace"), "state"), "transferring");
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "task"), "type"), "transfer");
	cJSON_Delete(v);
	/* a sandbox-limited key sees it at once */
	ok_free(l, "GET", WS "/legacy", NULL, SANDBOX, 200);
	refused(l, "PATCH", WS "/legacy", "{\"metadata\":{}}", ADMIN, 409, "conflict",
		"transferring");
	now_ms += 1000;
	assert_string_equal(ws_field(l, "legacy", "state"), "active");
	assert_string_equal(ws_field(l, "legacy", "project"), "sandbox");
	assert_string_equal(ws_field(l, "legacy", "id"), id);
	assert_string_equal(ws_field(l, "legacy", "kubernetes.version"), "1.28.9");
	wsr_lbsim_free(l);
}

/* ---- compute profiles ---- */

static const cJSON *profile(const cJSON *page, const char *name)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, wsr_json_arr(page, "items"))
	{
		if (strcmp(wsr_json_str(it, "name"), name) == 0)
			return it;
	}
	fail_msg("no profile %s", name);
	return NULL;
}

static void compute_profiles_with_prices(void **state)
{
	(void)state;
	wsr_lbsim *l = open_day2(0);
	cJSON *v = ok(l, "GET", WS "/legacy/compute-profiles", NULL, VIEWER, 200);
	const cJSON *items = wsr_json_arr(v, "items");
	assert_int_equal(cJSON_GetArraySize(items), 3); /* hetzner_cloud's, by name */
	assert_string_equal(wsr_json_str(cJSON_GetArrayItem(items, 0), "name"), "cx22");
	assert_string_equal(wsr_json_str(cJSON_GetArrayItem(items, 2), "name"), "cx52");
	const cJSON *cx22 = profile(v, "cx22"), *cx32 = profile(v, "cx32"),
		    *cx52 = profile(v, "cx52");
	/* an inactive override is ignored; an active one replaces what it names */
	assert_string_equal(wsr_json_str(cx22, "priceSource"), "list");
	assert_string_equal(wsr_json_str(wsr_json_obj(cx22, "prices"), "hourly"), "0.0060");
	assert_string_equal(wsr_json_str(cx32, "priceSource"), "override");
	assert_string_equal(wsr_json_str(wsr_json_obj(cx32, "prices"), "hourly"), "0.0100");
	assert_string_equal(wsr_json_str(wsr_json_obj(cx32, "prices"), "monthly"), "6.49");
	assert_string_equal(wsr_json_str(wsr_json_obj(cx32, "prices"), "setup"), "0.00");
	assert_string_equal(wsr_json_str(wsr_json_obj(cx32, "prices"), "currency"), "EUR");
	/* cx22 is in fsn1 and nbg1: one reachable is enough; cx52 is only in nbg1 */
	assert_true(wsr_json_bool(cx22, "available", 0));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cx22, "unavailableReason")));
	assert_false(wsr_json_bool(cx52, "available", 1));
	assert_string_equal(wsr_json_str(cx52, "unavailableReason"),
			    "server type cx52 is in no reachable datacenter (nbg1: unreachable)");
	assert_int_equal((int)wsr_json_num(cx52, "cpu", 0), 16);
	assert_int_equal((int)wsr_json_num(cx52, "memoryGiB", 0), 32);
	cJSON_Delete(v);
	v = ok(l, "GET", WS "/metal/compute-profiles", NULL, ADMIN, 200);
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(v, "items")), 1);
	assert_string_equal(wsr_json_str(wsr_json_obj(profile(v, "bm-small"), "prices"), "setup"),
			    "99.00");
	cJSON_Delete(v);
	/* another organization has no overrides: list prices */
	ok_free(l, "POST", "/v1/organizations/globex/workspaces",
		"{\"name\":\"lab\",\"project\":\"research\",\"type\":\"kubernetes\","
		"\"kubernetes\":{\"version\":\"1.31.1\"}}",
		"globex-admin-key", 202);
	v = ok(l, "GET", "/v1/organizations/globex/workspaces/lab/compute-profiles", NULL,
	       "globex-admin-key", 200);
	assert_string_equal(wsr_json_str(profile(v, "cx32"), "priceSource"), "list");
	assert_string_equal(wsr_json_str(wsr_json_obj(profile(v, "cx32"), "prices"), "hourly"),
			    "0.0120");
	cJSON_Delete(v);
	refused(l, "GET", WS "/legacy/compute-profiles", NULL, SANDBOX, 403, "permission_denied",
		NULL);
	refused(l, "GET", WS "/nope/compute-profiles", NULL, ADMIN, 404, "not_found", NULL);
	/* the organization's own object does not show its overrides */
	v = ok(l, "GET", "/v1/organizations/acme", NULL, ADMIN, 200);
	assert_null(cJSON_GetObjectItem(v, "pricingOverrides"));
	cJSON_Delete(v);
	wsr_lbsim_free(l);
}

static void compute_profiles_are_paged(void **state)
{
	(void)state;
	wsr_lbsim *l = open_day2(0);
	const char *headers[] = {"Authorization", "Bearer " ADMIN, NULL};
	const char *first[] = {"limit", "2", NULL};
	wsr_sim_req req = {"GET", WS "/legacy/compute-profiles", "", 0, NULL, headers, first};
	wsr_sim_resp resp = {0};
	wsr_lbsim_handle(l, &req, &resp);
	cJSON *v = cJSON_Parse(resp.body);
	wsr_sim_resp_free(&resp);
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(v, "items")), 2);
	char cursor[WSR_LBSIM_CURSOR_MAX + 1];
	snprintf(cursor, sizeof(cursor), "%s", wsr_json_str(v, "nextCursor"));
	cJSON_Delete(v);
	const char *next[] = {"limit", "2", "cursor", cursor, NULL};
	req.query = next;
	wsr_lbsim_handle(l, &req, &resp);
	v = cJSON_Parse(resp.body);
	wsr_sim_resp_free(&resp);
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(v, "items")), 1);
	assert_string_equal(wsr_json_str(cJSON_GetArrayItem(wsr_json_arr(v, "items"), 0), "name"),
			    "cx52");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(v, "nextCursor")));
	cJSON_Delete(v);
	wsr_lbsim_free(l);
}

/* ---- explicit permissions ---- */

static void explicit_permissions_replace_the_roles(void **state)
{
	(void)state;
	wsr_lbsim *l = open_day2(0);
	cJSON *v = ok(l, "GET", "/v1/principal", NULL, NOUPGRADE, 200);
	const cJSON *perms = wsr_json_arr(v, "permissions");
	assert_int_equal(cJSON_GetArraySize(perms), 5);
	assert_false(wsr_lbsim_list_has(perms, "kubernetes:upgrade"));
	assert_string_equal(wsr_json_str(v, "role"), "member");
	cJSON_Delete(v);
	v = ok(l, "GET", "/v1/principal", NULL, TRANSFER, 200);
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(v, "permissions")), 3);
	assert_true(wsr_lbsim_list_has(wsr_json_arr(v, "permissions"), "workspace:transfer"));
	cJSON_Delete(v);
	refused(l, "POST", WS, "{\"name\":\"x\",\"project\":\"payments\",\"type\":\"baremetal\"}",
		TRANSFER, 403, "permission_denied", "workspace:create");
	refused(l, "DELETE", WS "/metal", NULL, TRANSFER, 403, "permission_denied",
		"workspace:delete");
	wsr_lbsim_free(l);
}

/* ---- the emulator-only endpoints ---- */

#define SIMWS "/_sim/organizations/acme/workspaces"

static void sim_merge_patch_makes_drift(void **state)
{
	(void)state;
	wsr_lbsim *l = open_day2(0);
	ok_free(l, "POST", WS,
		"{\"name\":\"web\",\"project\":\"payments\",\"type\":\"kubernetes\","
		"\"metadata\":{\"a\":\"1\",\"b\":\"2\"},\"kubernetes\":{\"version\":\"1.31.1\"}}",
		ADMIN, 202);
	char updated[40];
	snprintf(updated, sizeof(updated), "%s", ws_field(l, "web", "updatedAt"));
	now_ms += 60000;
	/* objects merge, null removes, an inactive catalog version is fine, and
	 * no rule rewrites maintenance */
	cJSON *v =
	    ok(l, "PATCH", SIMWS "/web",
	       "{\"metadata\":{\"a\":null,\"c\":\"3\"},\"kubernetes\":{\"version\":\"1.28.9\"},"
	       "\"maintenance\":{\"enabled\":false,\"compute\":null}}",
	       NULL, 200);
	const cJSON *md = wsr_json_obj(v, "metadata");
	assert_null(cJSON_GetObjectItem(md, "a"));
	assert_string_equal(wsr_json_str(md, "b"), "2");
	assert_string_equal(wsr_json_str(md, "c"), "3");
	assert_string_equal(flag(v, "maintenance.enabled"), "false");
	assert_string_equal(flag(v, "maintenance.compute.autoUpdate"), "false");
	assert_string_equal(flag(v, "maintenance.kubernetes.autoPatch"), "true");
	assert_string_equal(wsr_json_str(v, "state"), "active");
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "kubernetes"), "managementCluster"),
			    "kamaji-fsn1");
	assert_string_not_equal(wsr_json_str(v, "updatedAt"), updated);
	cJSON_Delete(v);
	assert_string_equal(ws_field(l, "web", "kubernetes.version"), "1.28.9");
	/* the result must still be a valid workspace */
	refused(l, "PATCH", SIMWS "/web", "{\"kubernetes\":{\"version\":\"9.9.9\"}}", NULL, 400,
		"invalid_request", "kubernetes.version");
	refused(l, "PATCH", SIMWS "/web", "{\"project\":\"nope\"}", NULL, 400, "invalid_request",
		"project");
	refused(l, "PATCH", SIMWS "/web", "{\"kubernetes\":{\"controlPlane\":\"huge\"}}", NULL, 400,
		"invalid_request", "controlPlane");
	refused(l, "PATCH", SIMWS "/web", "{\"colour\":\"red\"}", NULL, 400, "invalid_request",
		"colour");
	refused(l, "PATCH", SIMWS "/web", "{\"kubernetes\":{\"managementCluster\":\"root-1\"}}",
		NULL, 400, "invalid_request", "root-1");
	refused(l, "PATCH", SIMWS "/web", "[1]", NULL, 400, "invalid_request", NULL);
	refused(l, "PATCH", SIMWS "/web", "{", NULL, 400, "invalid_request", NULL);
	/* what stays the platform's, except when sent unchanged */
	const char *fixed[] = {"{\"id\":\"ws-0\"}", "{\"name\":\"other\"}",
			       "{\"organization\":\"globex\"}", "{\"state\":\"failed\"}",
			       "{\"createdAt\":\"2020-01-01T00:00:00Z\"}"};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		refused(l, "PATCH", SIMWS "/web", fixed[i], NULL, 400, "invalid_request",
			"cannot be changed");
	ok_free(l, "PATCH", SIMWS "/web", "{\"name\":\"web\",\"state\":\"active\"}", NULL, 200);
	/* updatedAt moves with a change, unless the patch sets it */
	v = ok(l, "PATCH", SIMWS "/web", "{\"updatedAt\":\"2020-02-02T02:02:02Z\"}", NULL, 200);
	assert_string_equal(wsr_json_str(v, "updatedAt"), "2020-02-02T02:02:02Z");
	cJSON_Delete(v);
	refused(l, "PATCH", SIMWS "/web", "{\"updatedAt\":\"yesterday\"}", NULL, 400,
		"invalid_request", "updatedAt");
	/* a project move and a type change are a UI's to make */
	v = ok(l, "PATCH", SIMWS "/web",
	       "{\"type\":\"baremetal\",\"kubernetes\":null,\"maintenance\":{\"kubernetes\":null},"
	       "\"project\":\"sandbox\"}",
	       NULL, 200);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(v, "kubernetes")));
	assert_string_equal(wsr_json_str(v, "project"), "sandbox");
	cJSON_Delete(v);
	refused(l, "PATCH", SIMWS "/nope", "{}", NULL, 404, "not_found", NULL);
	refused(l, "PATCH", "/_sim/organizations/ghost/workspaces/web", "{}", NULL, 404,
		"not_found", NULL);
	refused(l, "GET", SIMWS "/web", NULL, NULL, 405, "method_not_allowed", NULL);
	refused(l, "GET", "/_sim/nowhere", NULL, NULL, 404, "not_found", NULL);
	wsr_lbsim_free(l);
}

static int faults_pending(wsr_lbsim *l, const char *fault)
{
	cJSON *v = ok(l, "POST", "/_sim/faults", fault, NULL, 201);
	int n = (int)wsr_json_num(v, "faults", -1);
	cJSON_Delete(v);
	return n;
}

static void respond_fault_replaces_answers(void **state)
{
	(void)state;
	wsr_lbsim *l = open_day2(0);
	assert_int_equal(faults_pending(l, "{\"kind\":\"respond\",\"method\":\"POST\",\"path\":"
					   "\"/v1/organizations/acme/workspaces/legacy/up\","
					   "\"status\":503,\"code\":\"unavailable\",\"count\":2}"),
			 1);
	/* another method on that path is served */
	ok_free(l, "GET", WS "/legacy/upgrades", NULL, ADMIN, 200);
	/* the next two matching requests get the fault, key or not, and change nothing */
	refused(l, "POST", UP("legacy"), TO("1.29.4"), ADMIN, 503, "unavailable", "injected fault");
	refused(l, "POST", UP("legacy"), TO("1.29.4"), "no-such-key", 503, "unavailable", NULL);
	assert_string_equal(ws_field(l, "legacy", "kubernetes.version"), "1.28.9");
	ok_free(l, "POST", UP("legacy"), TO("1.29.4"), ADMIN, 202);
	cJSON *v = ok(l, "DELETE", "/_sim/faults", NULL, NULL, 200);
	assert_int_equal((int)wsr_json_num(v, "faults", -1), 0);
	cJSON_Delete(v);
	wsr_lbsim_free(l);
}

static void fail_task_fault_ends_tasks_failed(void **state)
{
	(void)state;
	wsr_lbsim *l = open_day2(0);
	faults_pending(l, "{\"kind\":\"failTask\",\"type\":\"upgrade\",\"code\":\"upgrade_failed\","
			  "\"message\":\"etcd did not come back\",\"count\":2}");
	faults_pending(l, "{\"kind\":\"failTask\",\"type\":\"transfer\",\"code\":\"stuck\"}");
	for (int i = 0; i < 2; i++) {
		cJSON *v = ok(l, "POST", UP("legacy"), TO("1.29.4"), ADMIN, 202);
		const cJSON *t = wsr_json_obj(v, "task");
		assert_string_equal(wsr_json_str(t, "state"), "failed");
		assert_string_equal(wsr_json_str(wsr_json_obj(t, "error"), "code"),
				    "upgrade_failed");
		assert_string_equal(wsr_json_str(wsr_json_obj(t, "error"), "message"),
				    "etcd did not come back");
		assert_string_equal(wsr_json_str(wsr_json_obj(v, "workspace"), "state"), "active");
		cJSON_Delete(v);
		assert_string_equal(ws_field(l, "legacy", "kubernetes.version"), "1.28.9");
	}
	cJSON_Delete(ok(l, "POST", UP("legacy"), TO("1.29.4"), ADMIN, 202)); /* used up */
	assert_string_equal(ws_field(l, "legacy", "kubernetes.version"), "1.29.4");
	cJSON *v = ok(l, "POST", XFER("metal"), INTO("sandbox"), ADMIN, 202);
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "task"), "state"), "failed");
	assert_string_equal(wsr_json_str(wsr_json_path(v, "task.error"), "message"),
			    "injected fault");
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "workspace"), "project"), "payments");
	cJSON_Delete(v);
	/* a create that fails leaves a failed workspace; a failed deletion leaves it */
	faults_pending(l, "{\"kind\":\"failTask\",\"type\":\"create\",\"code\":\"no_capacity\"}");
	faults_pending(l, "{\"kind\":\"failTask\",\"type\":\"delete\",\"code\":\"stuck\"}");
	ok_free(l, "POST", WS, "{\"name\":\"f\",\"project\":\"payments\",\"type\":\"baremetal\"}",
		ADMIN, 202);
	assert_string_equal(ws_field(l, "f", "state"), "failed");
	refused(l, "PATCH", WS "/f", "{\"metadata\":{}}", ADMIN, 409, "conflict", "failed");
	v = ok(l, "DELETE", WS "/metal", NULL, ADMIN, 202);
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "task"), "state"), "failed");
	cJSON_Delete(v);
	assert_string_equal(ws_field(l, "metal", "state"), "active");
	wsr_lbsim_free(l);
}

static void fail_task_applies_to_tasks_started_afterwards(void **state)
{
	(void)state;
	wsr_lbsim *l = open_day2(1);
	cJSON *v = ok(l, "POST", UP("legacy"), TO("1.29.4"), ADMIN, 202);
	char id[WSR_LBSIM_ID_MAX];
	snprintf(id, sizeof(id), "%s", task_id(v));
	cJSON_Delete(v);
	faults_pending(l, "{\"kind\":\"failTask\",\"type\":\"upgrade\",\"code\":\"x\"}");
	now_ms += 1000;
	v = task(l, id);
	assert_string_equal(wsr_json_str(v, "state"), "succeeded");
	cJSON_Delete(v);
	/* the running task's outcome is hidden until it ends */
	v = ok(l, "POST", UP("legacy"), TO("1.30.2"), ADMIN, 202);
	snprintf(id, sizeof(id), "%s", task_id(v));
	assert_true(cJSON_IsNull(wsr_json_path(v, "task.error")));
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "task"), "state"), "running");
	cJSON_Delete(v);
	now_ms += 1000;
	v = task(l, id);
	assert_string_equal(wsr_json_str(v, "state"), "failed");
	cJSON_Delete(v);
	assert_string_equal(ws_field(l, "legacy", "kubernetes.version"), "1.29.4");
	wsr_lbsim_free(l);
}

static void skip_lets_matching_ones_through_first(void **state)
{
	(void)state;
	wsr_lbsim *l = open_day2(0);
	/* the second hop fails, the first and third go through */
	faults_pending(l, "{\"kind\":\"failTask\",\"type\":\"upgrade\",\"skip\":1,"
			  "\"code\":\"upgrade_failed\"}");
	faults_pending(l, "{\"kind\":\"failTask\",\"type\":\"transfer\",\"code\":\"stuck\"}");
	ok_free(l, "POST", UP("legacy"), TO("1.29.4"), ADMIN, 202);
	assert_string_equal(ws_field(l, "legacy", "kubernetes.version"), "1.29.4");
	cJSON *v = ok(l, "POST", UP("legacy"), TO("1.30.2"), ADMIN, 202);
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "task"), "state"), "failed");
	cJSON_Delete(v);
	ok_free(l, "POST", UP("legacy"), TO("1.30.2"), ADMIN, 202);
	assert_string_equal(ws_field(l, "legacy", "kubernetes.version"), "1.30.2");
	/* the transfer fault did not see the upgrades */
	v = ok(l, "POST", XFER("legacy"), INTO("sandbox"), ADMIN, 202);
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "task"), "state"), "failed");
	cJSON_Delete(v);
	/* respond faults: the first skipping one counts a request and passes it
	 * to the next, which answers it */
	faults_pending(l, "{\"kind\":\"respond\",\"method\":\"GET\",\"path\":\"/v1/principal\","
			  "\"status\":500,\"code\":\"first\",\"skip\":2}");
	faults_pending(l, "{\"kind\":\"respond\",\"method\":\"GET\",\"path\":\"/v1/p\","
			  "\"status\":429,\"code\":\"rate_limited\"}");
	refused(l, "GET", "/v1/principal", NULL, ADMIN, 429, "rate_limited", NULL);
	ok_free(l, "GET", "/v1/principal", NULL, ADMIN, 200);
	refused(l, "GET", "/v1/principal", NULL, ADMIN, 500, "first", NULL);
	ok_free(l, "GET", "/v1/principal", NULL, ADMIN, 200);
	refused(l, "POST", "/_sim/faults",
		"{\"kind\":\"failTask\",\"type\":\"create\",\"code\":\"x\",\"skip\":-1}", NULL, 400,
		"invalid_request", "skip");
	wsr_lbsim_free(l);
}

static void malformed_faults_are_refused(void **state)
{
	(void)state;
	wsr_lbsim *l = open_day2(0);
	const char *bad[] = {
	    "{",
	    "[]",
	    "{\"kind\":\"explode\"}",
	    "{\"kind\":\"respond\",\"method\":\"POST\",\"path\":\"/v1\",\"status\":200,"
	    "\"code\":\"x\"}",
	    "{\"kind\":\"respond\",\"method\":\"POST\",\"path\":\"v1\",\"status\":503,\"code\":"
	    "\"x\"}",
	    "{\"kind\":\"respond\",\"method\":\"post\",\"path\":\"/v1\",\"status\":503,"
	    "\"code\":\"x\"}",
	    "{\"kind\":\"respond\",\"method\":\"POST\",\"path\":\"/v1\",\"status\":503}",
	    "{\"kind\":\"respond\",\"method\":\"POST\",\"path\":\"/v1\",\"status\":503,"
	    "\"code\":\"Bad Code\"}",
	    "{\"kind\":\"respond\",\"method\":\"POST\",\"path\":\"/v1\",\"status\":503,"
	    "\"code\":\"x\",\"count\":0}",
	    "{\"kind\":\"respond\",\"method\":\"POST\",\"path\":\"/v1\",\"status\":503,"
	    "\"code\":\"x\",\"count\":1.5}",
	    "{\"kind\":\"respond\",\"method\":\"POST\",\"path\":\"/v1\",\"status\":503,"
	    "\"code\":\"x\",\"extra\":1}",
	    "{\"kind\":\"failTask\",\"type\":\"reboot\",\"code\":\"x\"}",
	    "{\"kind\":\"failTask\",\"type\":\"upgrade\"}",
	    "{\"kind\":\"failTask\",\"type\":\"upgrade\",\"code\":\"x\",\"message\":5}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(l, "POST", "/_sim/faults", bad[i], NULL, 400, "invalid_request", NULL);
	/* at most WSR_LBSIM_MAX_FAULTS pending */
	const char *one = "{\"kind\":\"failTask\",\"type\":\"create\",\"code\":\"x\"}";
	for (int i = 1; i <= WSR_LBSIM_MAX_FAULTS; i++)
		assert_int_equal(faults_pending(l, one), i);
	refused(l, "POST", "/_sim/faults", one, NULL, 400, "invalid_request", "pending");
	refused(l, "GET", "/_sim/faults", NULL, NULL, 405, "method_not_allowed", NULL);
	wsr_lbsim_free(l);
}

/* ---- persistence ---- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Writes the day-two seed with a provisioning time of 5 s into dir/seed.yaml. */
static void slow_day2_seed(const char *dir, char *path, size_t len)
{
	char *text;
	size_t n;
	assert_int_equal(wsr_fs_read(&text, &n, DAY2, 1 << 20), 0);
	char *at = strstr(text, "seconds: 0");
	assert_non_null(at);
	at[9] = '5';
	snprintf(path, len, "%s/seed.yaml", dir);
	assert_int_equal(wsr_fs_write_atomic(path, text, n, 0600), 0);
	free(text);
}

static wsr_lbsim *reopen(const char *seed, const char *data)
{
	wsr_lbsim *l;
	char *err = NULL;
	if (wsr_lbsim_open(&l, seed, data, &err))
		fail_msg("%s", err);
	return l;
}

static void running_tasks_survive_a_restart(void **state)
{
	(void)state;
	char dir[] = "/tmp/wsr-sim-day2-XXXXXX", seed[96], data[96];
	assert_non_null(mkdtemp(dir));
	slow_day2_seed(dir, seed, sizeof(seed));
	snprintf(data, sizeof(data), "%s/data", dir);
	wsr_clock_set(fake_clock);
	int64_t t0 = now_ms;
	wsr_lbsim *l = reopen(seed, data);
	char legacy_id[40], up[WSR_LBSIM_ID_MAX], xfer[WSR_LBSIM_ID_MAX];
	snprintf(legacy_id, sizeof(legacy_id), "%s", ws_field(l, "legacy", "id"));
	cJSON *v = ok(l, "POST", UP("legacy"), TO("1.29.4"), ADMIN, 202);
	snprintf(up, sizeof(up), "%s", task_id(v));
	cJSON_Delete(v);
	faults_pending(l, "{\"kind\":\"failTask\",\"type\":\"transfer\",\"code\":\"stuck\"}");
	v = ok(l, "POST", XFER("metal"), INTO("sandbox"), ADMIN, 202);
	snprintf(xfer, sizeof(xfer), "%s", task_id(v));
	cJSON_Delete(v);
	wsr_lbsim_free(l);

	/* the same data directory (and an unreadable seed: the data wins) */
	now_ms = t0 + 1000;
	l = reopen("/nonexistent/seed.yaml", data);
	assert_string_equal(ws_field(l, "legacy", "id"), legacy_id); /* seeded once */
	assert_string_equal(ws_field(l, "legacy", "state"), "upgrading");
	assert_string_equal(ws_field(l, "legacy", "kubernetes.version"), "1.28.9");
	assert_string_equal(ws_field(l, "metal", "state"), "transferring");
	assert_string_equal(ws_field(l, "metal", "project"), "sandbox");
	v = task(l, up);
	assert_string_equal(wsr_json_str(v, "type"), "upgrade");
	assert_string_equal(wsr_json_str(v, "state"), "running");
	cJSON_Delete(v);
	refused(l, "DELETE", WS "/legacy", NULL, ADMIN, 409, "conflict", NULL);
	wsr_lbsim_free(l);

	now_ms = t0 + 5000;
	l = reopen(NULL, data);
	assert_string_equal(ws_field(l, "legacy", "state"), "active");
	assert_string_equal(ws_field(l, "legacy", "kubernetes.version"), "1.29.4");
	assert_string_equal(ws_field(l, "metal", "state"), "active");
	assert_string_equal(ws_field(l, "metal", "project"), "payments"); /* the transfer failed */
	v = task(l, xfer);
	assert_string_equal(wsr_json_str(v, "state"), "failed");
	assert_string_equal(wsr_json_str(wsr_json_obj(v, "error"), "code"), "stuck");
	cJSON_Delete(v);
	/* a seeded workspace that is deleted stays deleted */
	ok_free(l, "DELETE", WS "/metal", NULL, ADMIN, 202);
	wsr_lbsim_free(l);
	now_ms = t0 + 10000;
	l = reopen(seed, data);
	refused(l, "GET", WS "/metal", NULL, ADMIN, 404, "not_found", NULL);
	assert_string_equal(ws_field(l, "legacy", "kubernetes.version"), "1.29.4");
	wsr_lbsim_free(l);
	/* the settled state was written: a restart long after reads it back */
	now_ms = t0 + 20000;
	l = reopen(NULL, data);
	assert_string_equal(ws_field(l, "legacy", "kubernetes.version"), "1.29.4");
	wsr_lbsim_free(l);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	now_ms = t0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(partial_maintenance_turns_flags_off),
	    cmocka_unit_test(baremetal_has_no_kubernetes_maintenance),
	    cmocka_unit_test(only_admins_switch_maintenance_off),
	    cmocka_unit_test(ingress_is_seeded_at_creation),
	    cmocka_unit_test(patch_refusals_in_documented_order),
	    cmocka_unit_test(versions_compare_numerically),
	    cmocka_unit_test(upgrade_targets_are_one_active_hop_in_version_order),
	    cmocka_unit_test(upgrade_refusals_in_documented_order),
	    cmocka_unit_test(upgrade_hop_runs_as_a_task),
	    cmocka_unit_test(transfer_refusals_in_documented_order),
	    cmocka_unit_test(transfer_moves_at_once_and_ends_active),
	    cmocka_unit_test(compute_profiles_with_prices),
	    cmocka_unit_test(compute_profiles_are_paged),
	    cmocka_unit_test(explicit_permissions_replace_the_roles),
	    cmocka_unit_test(sim_merge_patch_makes_drift),
	    cmocka_unit_test(respond_fault_replaces_answers),
	    cmocka_unit_test(fail_task_fault_ends_tasks_failed),
	    cmocka_unit_test(fail_task_applies_to_tasks_started_afterwards),
	    cmocka_unit_test(skip_lets_matching_ones_through_first),
	    cmocka_unit_test(malformed_faults_are_refused),
	    cmocka_unit_test(running_tasks_survive_a_restart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
