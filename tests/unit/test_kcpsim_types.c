/* test_kcpsim_types: the kcp emulator's workspace types against kcp's
 * source: the seed's type features (extends, noParents, root's own type,
 * types inside workspaces, cycles and undefined types refused at their
 * position, the alias limit at its boundary), kcp's default configuration,
 * and admission as pkg/admission/workspacetypeexists/admission.go has it
 * (default type or 403, upward resolution, use on every alias, allowed
 * parents and children with "extends ..., which" and aggregated messages),
 * and WorkspaceType objects in kcp's shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "kcpsim_fixture.h"
#include "sim/kcp/typerules.h"

/* The error of seed text ("" when it passes). */
static const char *seed_error(const char *text)
{
	static char msg[2048];
	cJSON *p = NULL;
	char *err = NULL;
	int rc = wsr_kcpsim_seed_parse(&p, "seed.yaml", text, strlen(text), &err);
	snprintf(msg, sizeof(msg), "%s", rc ? (err ? err : "(no message)") : "");
	free(err);
	cJSON_Delete(p);
	return msg;
}

static void expect_seed_error(const char *text, const char *want)
{
	const char *got = seed_error(text);
	if (strcmp(got, want) != 0)
		fail_msg("seed:\n%.300s\ngot:  %s\nwant: %s", text, got, want);
}

#define U "users: [{name: a, token: t}]\n"

static void seed_type_mistakes_at_their_position(void **state)
{
	(void)state;
	expect_seed_error(U "types:\n  - {name: a, extends: [{name: b}]}\n"
			    "  - {name: b, extends: [{name: a}]}\n",
			  "seed.yaml:3:24: types[0].extends: circular dependency detected in "
			  "workspace type root:a: root:a -> root:b");
	expect_seed_error(U "types:\n  - {name: a, extends: [{name: a}]}\n",
			  "seed.yaml:3:24: types[0].extends: circular dependency detected in "
			  "workspace type root:a: root:a");
	expect_seed_error(U "types:\n  - {name: a, extends: [{name: zz}]}\n",
			  "seed.yaml:3:25: types[0].extends[0]: workspace type root:zz is not "
			  "defined");
	expect_seed_error(
	    U "types:\n  - {name: a, noParents: true, allowedParents: [{name: a}]}\n",
	    "seed.yaml:3:26: types[0].noParents: noParents and allowedParents exclude "
	    "each other");
	/* root's type from the seed without the battery: no default child type */
	expect_seed_error(U "types:\n  - {name: a}\nworkspaces:\n  - {path: \"root:x\"}\n",
			  "seed.yaml:5:12: workspaces[0].path: workspace type root:root has no "
			  "defaultChildType: give this workspace a type");
	expect_seed_error(U "workspaces:\n  - {path: \"root:x\", phase: Sleeping}\n",
			  "seed.yaml:3:29: workspaces[0].phase: Sleeping is not a phase "
			  "(Scheduling, Initializing, Ready, Unavailable, Inactive, Terminating, "
			  "Deleting)");
	expect_seed_error(U "homes: bucketed\n",
			  "seed.yaml:2:8: homes: bucketed is not logicalcluster or buckets");
	expect_seed_error(U "terminatingMs: 86400001\n",
			  "seed.yaml:2:16: terminatingMs: terminatingMs must be a whole number "
			  "from 0 to 86400000");
	expect_seed_error(U "types:\n  - {name: a, path: \"root:x\"}\nworkspaces:\n"
			    "  - {path: \"root:y\", type: {name: a}}\n",
			  "seed.yaml:3:21: types[0].path: workspace root:x is not in workspaces");
	/* a type inside a workspace is seen from below it, not from elsewhere */
	expect_seed_error(
	    U "types:\n  - {name: universal, defaultChildType: {name: universal}}\n"
	      "  - {name: local, path: \"root:x\"}\nworkspaces:\n"
	      "  - {path: \"root:x\", type: {name: universal}}\n"
	      "  - {path: \"root:y\", type: {name: universal}}\n"
	      "  - {path: \"root:y:z\", type: {name: local}}\n",
	    "seed.yaml:8:30: workspaces[2].type: workspace type local does not exist");
	expect_seed_error(U "types:\n  - {name: universal, defaultChildType: {name: universal}}\n"
			    "  - {name: local, path: \"root:x\"}\nworkspaces:\n"
			    "  - {path: \"root:x\", type: {name: universal}}\n"
			    "  - {path: \"root:x:z\", type: {name: local}, phase: Unavailable}\n",
			  "");
}

/* A chain of n types, t0 extending t1 extending ... t(n-1). */
static char *chain(int n)
{
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_puts(&b, U "types:\n");
	for (int i = 0; i < n; i++) {
		wsr_buf_printf(&b, "  - {name: t%d", i);
		if (i + 1 < n)
			wsr_buf_printf(&b, ", extends: [{name: t%d}]", i + 1);
		wsr_buf_puts(&b, "}\n");
	}
	char *text = strdup(wsr_buf_str(&b));
	wsr_buf_free(&b);
	return text;
}

static void the_alias_limit_at_its_boundary(void **state)
{
	(void)state;
	char *ok = chain(WSR_KCPSIM_ALIASES_MAX), *over = chain(WSR_KCPSIM_ALIASES_MAX + 1);
	expect_seed_error(ok, "");
	expect_seed_error(over, "seed.yaml:3:25: types[0].extends: a workspace type may count as "
				"at most 32 types (itself and those it extends)");
	free(ok);
	free(over);
}

static void kcp_default_configuration_admits_as_kcp(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open(KF_USERS);
	cJSON *v;
	/* untyped in root: root's default, organization; in it: universal */
	assert_int_equal(kf_create(k, "root", "acme", NULL, "bob-token", &v), 201);
	assert_string_equal(wsr_json_str(wsr_json_path(v, "spec.type"), "name"), "organization");
	assert_string_equal(wsr_json_str(wsr_json_path(v, "spec.type"), "path"), "root");
	assert_string_equal(
	    cJSON_GetArrayItem(wsr_json_path(v, "metadata.finalizers"), 0)->valuestring,
	    "core.kcp.io/logicalcluster");
	/* it inherits universal's initializer */
	assert_string_equal(kf_phase(v), "Initializing");
	assert_string_equal(
	    cJSON_GetArrayItem(wsr_json_path(v, "status.initializers"), 0)->valuestring,
	    "root:universal");
	cJSON_Delete(v);
	kf_now += 100;
	cJSON_Delete(kf_get(k, "root", "acme", 200));
	assert_int_equal(kf_create(k, "root:acme", "w", NULL, "bob-token", &v), 201);
	assert_string_equal(wsr_json_str(wsr_json_path(v, "spec.type"), "name"), "universal");
	cJSON_Delete(v);
	/* team is fine below an organization, which allows children that are universal */
	kf_create_ok(k, "root:acme", "t", "team", NULL);
	/* universal has no default child type: kcp's literal message */
	kf_now += 100;
	assert_int_equal(kf_create(k, "root:acme:w", "x", NULL, NULL, &v), 403);
	kf_expect(v, 403,
		  "workspaces.tenancy.kcp.io \"x\" is forbidden: spec.defaultChildWorkspaceType of "
		  "workspace type %s:%s must be set");
	assert_int_equal(kf_create(k, "root", "t", "team", NULL, &v), 403);
	kf_expect(v, 403,
		  "workspaces.tenancy.kcp.io \"t\" is forbidden: workspace type root:team only "
		  "allows [root:organization root:team] parent workspaces, but parent type "
		  "root:root only implements [root:root root:universal]");
	assert_int_equal(kf_create(k, "root:acme", "o", "organization", NULL, &v), 403);
	kf_expect(v, 403,
		  "workspaces.tenancy.kcp.io \"o\" is forbidden: workspace type root:organization "
		  "only allows [root:root] parent workspaces, but parent type root:organization "
		  "only implements [root:organization root:universal]");
	/* home: bob may use universal, which it extends, but not home itself */
	assert_int_equal(kf_create(k, "root", "h", "home", "bob-token", &v), 403);
	kf_expect(v, 403,
		  "workspaces.tenancy.kcp.io \"h\" is forbidden: unable to use workspace type "
		  "root:home: missing verb='use' permission on workspacetype");
	assert_int_equal(kf_create(k, "root", "h", "home", NULL, &v), 403);
	kf_expect(v, 403,
		  "workspaces.tenancy.kcp.io \"h\" is forbidden: workspace type root:home cannot "
		  "have any parent");
	assert_int_equal(kf_create(k, "root", "r", "root", NULL, &v), 403);
	kf_expect(v, 403,
		  "workspaces.tenancy.kcp.io \"r\" is forbidden: workspace type root:root cannot "
		  "have any parent");
	/* a path names exactly where the type is; without one it is looked for upward */
	assert_int_equal(
	    kf_create(k, "root", "p", "{\"name\":\"nope\",\"path\":\"root\"}", NULL, &v), 403);
	kf_expect(v, 403,
		  "workspaces.tenancy.kcp.io \"p\" is forbidden: Internal error occurred: "
		  "workspacetypes.tenancy.kcp.io \"root:nope\" not found");
	assert_int_equal(kf_create(k, "root", "p", "nope", NULL, &v), 403);
	kf_expect(v, 403,
		  "workspaces.tenancy.kcp.io \"p\" is forbidden: workspace type \"nope\" cannot be "
		  "resolved");
	/* a type with an empty name is no type: the default applies */
	assert_int_equal(kf_create(k, "root", "e", "{\"name\":\"\"}", NULL, &v), 201);
	assert_string_equal(wsr_json_str(wsr_json_path(v, "spec.type"), "name"), "organization");
	cJSON_Delete(v);
	wsr_kcpsim_free(k);
}

static const char extends_seed[] =
    KF_USERS "types:\n"
	     "  - {name: universal, use: [\"system:authenticated\"], defaultChildType: {name: "
	     "universal}}\n"
	     "  - {name: org2, use: [\"system:authenticated\"]}\n"
	     "  - {name: base, use: [\"system:authenticated\"], allowedParents: [{name: org2}]}\n"
	     "  - {name: base2, use: [\"system:authenticated\"], allowedParents: [{name: org2}]}\n"
	     "  - {name: derived, use: [\"system:authenticated\"], extends: [{name: base}]}\n"
	     "  - {name: both, use: [\"system:authenticated\"], extends: [{name: base}, {name: "
	     "base2}]}\n"
	     "  - {name: locked}\n"
	     "  - {name: mixed, use: [\"system:authenticated\"], extends: [{name: locked}]}\n"
	     "  - {name: shy, use: [\"system:authenticated\"], allowedChildren: [{name: base}]}\n"
	     "  - {name: local, path: \"root:lab\", use: [\"system:authenticated\"]}\n"
	     "workspaces:\n"
	     "  - {path: \"root:lab\", type: {name: universal}}\n"
	     "  - {path: \"root:o\", type: {name: org2}}\n"
	     "  - {path: \"root:s\", type: {name: shy}}\n";

static void extends_counts_for_every_rule(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open(extends_seed);
	cJSON *v;
	/* a seed that lists types without root: root's type has no default */
	assert_int_equal(kf_create(k, "root", "x", NULL, NULL, &v), 403);
	kf_expect(v, 403,
		  "workspaces.tenancy.kcp.io \"x\" is forbidden: spec.defaultChildWorkspaceType of "
		  "workspace type %s:%s must be set");
	assert_int_equal(kf_create(k, "root", "d", "derived", NULL, &v), 403);
	kf_expect(
	    v, 403,
	    "workspaces.tenancy.kcp.io \"d\" is forbidden: workspace type root:derived extends "
	    "root:base, which only allows [root:org2] parent workspaces, but parent type "
	    "root:root only implements [root:root root:universal]");
	kf_create_ok(k, "root:o", "d", "derived", NULL);
	/* two aliases refusing: both refusals, as Kubernetes aggregates them */
	assert_int_equal(kf_create(k, "root", "b", "both", NULL, &v), 403);
	kf_expect(v, 403,
		  "workspaces.tenancy.kcp.io \"b\" is forbidden: [workspace type root:both extends "
		  "root:base, which only allows [root:org2] parent workspaces, but parent type "
		  "root:root only implements [root:root root:universal], workspace type root:both "
		  "extends root:base2, which only allows [root:org2] parent workspaces, but parent "
		  "type root:root only implements [root:root root:universal]]");
	/* use is checked on every alias: the first refused is named */
	assert_int_equal(kf_create(k, "root:lab", "m", "mixed", "bob-token", &v), 403);
	kf_expect(v, 403,
		  "workspaces.tenancy.kcp.io \"m\" is forbidden: unable to use workspace type "
		  "root:locked: missing verb='use' permission on workspacetype");
	/* a child that extends an allowed child type counts as it */
	assert_int_equal(kf_create(k, "root:s", "u", "universal", NULL, &v), 403);
	kf_expect(
	    v, 403,
	    "workspaces.tenancy.kcp.io \"u\" is forbidden: workspace type root:shy only allows "
	    "[root:base] child workspaces, but child type root:universal only implements "
	    "[root:universal]");
	assert_int_equal(kf_create(k, "root:s", "d", "derived", NULL, &v), 403); /* parents first */
	cJSON_Delete(v);
	/* a type in a workspace, found from below it and stored with its path */
	kf_create_ok(k, "root:lab", "sub", "universal", NULL);
	assert_int_equal(kf_create(k, "root:lab:sub", "l", "local", NULL, &v), 201);
	assert_string_equal(wsr_json_str(wsr_json_path(v, "spec.type"), "path"), "root:lab");
	cJSON_Delete(v);
	assert_int_equal(kf_create(k, "root:o", "l", "local", NULL, &v), 403);
	kf_expect(
	    v, 403,
	    "workspaces.tenancy.kcp.io \"l\" is forbidden: workspace type \"local\" cannot be "
	    "resolved");
	wsr_kcpsim_free(k);
}

static void a_seed_may_give_root_its_own_type(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open(KF_USERS "types:\n  - {name: root, noParents: true, "
					 "defaultChildType: {name: plain}, allowedChildren: "
					 "[{name: plain}]}\n  - {name: plain, use: "
					 "[\"system:authenticated\"]}\n  - {name: other, use: "
					 "[\"system:authenticated\"]}\n");
	cJSON *v;
	assert_int_equal(kf_create(k, "root", "x", NULL, "bob-token", &v), 201);
	assert_string_equal(wsr_json_str(wsr_json_path(v, "spec.type"), "name"), "plain");
	cJSON_Delete(v);
	assert_int_equal(kf_create(k, "root", "y", "other", NULL, &v), 403);
	kf_expect(v, 403,
		  "workspaces.tenancy.kcp.io \"y\" is forbidden: workspace type root:root only "
		  "allows [root:plain] child workspaces, but child type root:other only implements "
		  "[root:other]");
	wsr_kcpsim_free(k);
}

/* PUT of root:w as token with spec.type as given (NULL: none) and the
 * server's fields spec.cluster and spec.URL as given (NULL: left out). */
static int put_spec(wsr_kcpsim *k, const char *token, const char *type, const char *cluster,
		    const char *url, cJSON **v)
{
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_puts(&b, "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\","
			 "\"metadata\":{\"name\":\"w\"},\"spec\":{\"location\":{}");
	if (type)
		wsr_buf_printf(&b, ",\"type\":%s", type);
	if (cluster)
		wsr_buf_printf(&b, ",\"cluster\":\"%s\"", cluster);
	if (url)
		wsr_buf_printf(&b, ",\"URL\":\"%s\"", url);
	wsr_buf_puts(&b, "}}");
	int rc = kf_req(k, "PUT", KF_WS("root") "/w", wsr_buf_str(&b), KF_AS(token), v);
	wsr_buf_free(&b);
	return rc;
}

static void spec_type_is_immutable_as_kcp_has_it(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open(KF_USERS);
	const char *org = "{\"name\":\"organization\",\"path\":\"root\"}";
	const char *url = KF_URL "/clusters/root:w";
	cJSON *v;
	assert_int_equal(kf_create(k, "root", "w", NULL, "bob-token", &v), 201);
	char *cluster = strdup(wsr_json_str(wsr_json_obj(v, "spec"), "cluster"));
	/* kcp records who created it (anyone but system:masters) */
	assert_string_equal(wsr_json_str(wsr_json_path(v, "metadata.annotations"),
					 "experimental.tenancy.kcp.io/owner"),
			    "{\"username\":\"bob\",\"groups\":[\"system:authenticated\"]}");
	cJSON_Delete(v);
	assert_int_equal(put_spec(k, "bob-token", org, cluster, url, &v), 200);
	cJSON_Delete(v);
	/* the schema's rules first: a path left out is a path changed */
	assert_int_equal(put_spec(k, NULL, "{\"name\":\"organization\"}", cluster, url, &v), 422);
	kf_expect(v, 422,
		  "Workspace.tenancy.kcp.io \"w\" is invalid: spec.type: Invalid value: "
		  "\"object\": path is immutable");
	assert_int_equal(
	    put_spec(k, NULL, "{\"name\":\"team\",\"path\":\"root:x\"}", cluster, url, &v), 422);
	kf_expect(v, 422,
		  "Workspace.tenancy.kcp.io \"w\" is invalid: [spec.type: Invalid value: "
		  "\"object\": name is immutable, spec.type: Invalid value: \"object\": path is "
		  "immutable]");
	/* spec.URL and spec.cluster stay set, the cluster as it is */
	assert_int_equal(put_spec(k, NULL, org, NULL, NULL, &v), 422);
	kf_expect(
	    v, 422,
	    "Workspace.tenancy.kcp.io \"w\" is invalid: [spec: Invalid value: \"object\": URL "
	    "cannot be unset, spec: Invalid value: \"object\": cluster cannot be unset]");
	assert_int_equal(put_spec(k, NULL, org, "other", url, &v), 422);
	kf_expect(v, 422,
		  "Workspace.tenancy.kcp.io \"w\" is invalid: spec.cluster: Invalid value: "
		  "\"string\": cluster is immutable");
	/* then kcp's workspace admission: URL is system:masters', spec.type stays */
	assert_int_equal(put_spec(k, "bob-token", org, cluster, "http://elsewhere", &v), 403);
	kf_expect(v, 403,
		  "workspaces.tenancy.kcp.io \"w\" is forbidden: spec.URL can only be changed by "
		  "system privileged users");
	assert_int_equal(put_spec(k, NULL, org, cluster, "http://elsewhere", &v), 200);
	cJSON_Delete(v);
	assert_int_equal(put_spec(k, NULL, NULL, cluster, url, &v), 403);
	kf_expect(v, 403,
		  "workspaces.tenancy.kcp.io \"w\" is forbidden: spec.type: Invalid value: "
		  "\"null\": field is immutable");
	/* on create, only system:masters may set them */
	assert_int_equal(
	    kf_req(k, "POST", KF_WS("root"),
		   "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\","
		   "\"metadata\":{\"name\":\"x\"},\"spec\":{\"cluster\":\"abc\"}}",
		   KF_AS("bob-token"), &v),
	    403);
	kf_expect(v, 403,
		  "workspaces.tenancy.kcp.io \"x\" is forbidden: spec.Cluster can only be set by "
		  "system privileged users");
	assert_int_equal(
	    kf_req(k, "POST", KF_WS("root"),
		   "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\","
		   "\"metadata\":{\"name\":\"x\"},\"spec\":{\"URL\":\"http://x\"}}",
		   NULL, &v),
	    201);
	assert_null(wsr_json_path(v, "metadata.annotations")); /* masters: no owner */
	cJSON_Delete(v);
	free(cluster);
	wsr_kcpsim_free(k);
}

static void workspace_types_in_kcps_shape(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open(KF_USERS);
	cJSON *v;
	assert_int_equal(kf_req(k, "GET",
				"/clusters/root" KF_TENANCY "/workspacetypes/organization", NULL,
				NULL, &v),
			 200);
	assert_string_equal(wsr_json_str(wsr_json_path(v, "metadata.annotations"), "kcp.io/path"),
			    "root");
	const cJSON *with = wsr_json_path(v, "spec.extend.with");
	assert_int_equal(cJSON_GetArraySize(with), 1);
	assert_string_equal(wsr_json_str(cJSON_GetArrayItem(with, 0), "name"), "universal");
	assert_string_equal(wsr_json_str(cJSON_GetArrayItem(with, 0), "path"), "root");
	assert_string_equal(
	    wsr_json_str(cJSON_GetArrayItem(wsr_json_path(v, "spec.limitAllowedParents.types"), 0),
			 "name"),
	    "root");
	assert_string_equal(
	    wsr_json_str(wsr_json_path(v, "spec.defaultChildWorkspaceType"), "name"), "universal");
	assert_null(wsr_json_path(v, "spec.initializer"));
	cJSON_Delete(v);
	assert_int_equal(
	    kf_req(k, "GET", "/clusters/root" KF_TENANCY "/workspacetypes/root", NULL, NULL, &v),
	    200);
	assert_true(cJSON_IsTrue(wsr_json_path(v, "spec.limitAllowedParents.none")));
	assert_string_equal(
	    wsr_json_str(wsr_json_path(v, "spec.defaultChildWorkspaceType"), "name"),
	    "organization");
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "GET", "/clusters/root" KF_TENANCY "/workspacetypes/universal",
				NULL, NULL, &v),
			 200);
	assert_true(cJSON_IsTrue(wsr_json_path(v, "spec.initializer")));
	assert_null(wsr_json_path(v, "spec.defaultChildWorkspaceType"));
	cJSON_Delete(v);
	/* the five of kcp's default configuration, and no bucket types */
	assert_int_equal(
	    kf_req(k, "GET", "/clusters/root" KF_TENANCY "/workspacetypes", NULL, NULL, &v), 200);
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(v, "items")), 5);
	cJSON_Delete(v);
	assert_int_equal(kf_req(k, "GET", "/clusters/root" KF_TENANCY "/workspacetypes/homebucket",
				NULL, NULL, &v),
			 404);
	cJSON_Delete(v);
	wsr_kcpsim_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(seed_type_mistakes_at_their_position),
	    cmocka_unit_test(the_alias_limit_at_its_boundary),
	    cmocka_unit_test(kcp_default_configuration_admits_as_kcp),
	    cmocka_unit_test(extends_counts_for_every_rule),
	    cmocka_unit_test(a_seed_may_give_root_its_own_type),
	    cmocka_unit_test(spec_type_is_immutable_as_kcp_has_it),
	    cmocka_unit_test(workspace_types_in_kcps_shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
