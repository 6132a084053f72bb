/* test_kcpsim_seed: the kcp emulator's seeds (every mistake refused at its
 * file:line:col, the standard types, the built-in seed), its data directory
 * (what survives a restart, what is refused by file name), and its string
 * rules and limits at their boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kcpsim_fixture.h"
#include "lib/err.h"
#include "sim/kcp/admission.h"
#include "sim/kcp/names.h"
#include "sim/kcp/page.h"
#include "sim/kcp/persist.h"
#include "sim/kcp/status.h"
#include "sim/sim.h"

#define USERS "users: [{name: admin, token: t, groups: [\"system:masters\"]}]\n"

/* Parses text as seed.yaml; returns the error message ("" when it passed). */
static const char *seed_error(const char *text)
{
	static char msg[1024];
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
		fail_msg("seed:\n%s\ngot:  %s\nwant: %s", text, got, want);
}

static void mistakes_are_refused_at_their_position(void **state)
{
	(void)state;
	expect_seed_error("maxPageSize: 2\n", "seed.yaml:1:1: missing field users");
	expect_seed_error("users: [{name: a, token: t}, {name: b, token: t}]\n",
			  "seed.yaml:1:47: users[1].token: another user has the same token");
	expect_seed_error(USERS "colour: blue\n", "seed.yaml:2:9: colour: unknown field colour");
	expect_seed_error(USERS "types:\n  - {name: Bad}\n",
			  "seed.yaml:3:12: types[0].name: Bad is not a workspace type name");
	expect_seed_error(USERS "types:\n  - {name: a}\n  - {name: b, allowedParents: [{name: "
				"a}, {name: c}]}\n",
			  "seed.yaml:4:43: types[1].allowedParents[1]: workspace type root:c is "
			  "not defined");
	/* a refused list of strings (found leaking by fuzz_kcpsim): SANITIZE=1 checks the rest */
	expect_seed_error(USERS "types:\n  - {name: a, use: system:authenticated}\n",
			  "seed.yaml:3:20: types[0].use: use must be a list");
	expect_seed_error(USERS "homeCreatorGroups: [a, a]\n",
			  "seed.yaml:2:24: homeCreatorGroups[1]: a is listed twice");
	expect_seed_error(USERS "types:\n  - {name: a, path: \"root:x\"}\n",
			  "seed.yaml:3:21: types[0].path: workspace root:x is not in workspaces");
	expect_seed_error(USERS "types:\n  - {name: a, noChildren: true, allowedChildren: "
				"[{name: a}]}\n",
			  "seed.yaml:3:27: types[0].noChildren: noChildren and allowedChildren "
			  "exclude each other");
	expect_seed_error(USERS "workspaces:\n  - {path: \"root:a:b\"}\n",
			  "seed.yaml:3:12: workspaces[0].path: its parent root:a is not listed "
			  "before it");
	/* the standard types: team belongs under an organization */
	expect_seed_error(USERS "workspaces:\n  - {path: \"root:t\", type: {name: team}}\n",
			  "seed.yaml:3:28: workspaces[0].type: workspace type root:team only "
			  "allows [root:organization root:team] parent workspaces, but parent "
			  "type root:root only implements [root:root root:universal]");
	expect_seed_error(USERS "workspaces:\n  - {path: \"root:u\", labels: {\"-x\": y}}\n",
			  "seed.yaml:3:30: workspaces[0].labels: Invalid value: \"-x\": a "
			  "qualified name must be at most 63 characters of [A-Za-z0-9._-] "
			  "beginning and ending with a letter or digit, with an optional DNS "
			  "subdomain prefix and '/'");
	expect_seed_error(USERS "maxPageSize: 0\n",
			  "seed.yaml:2:14: maxPageSize: maxPageSize must be a whole number from 1 "
			  "to 500");
	expect_seed_error(USERS "maxPageSize: 501\n",
			  "seed.yaml:2:14: maxPageSize: maxPageSize must be a whole number from 1 "
			  "to 500");
	expect_seed_error(USERS "deletionMs: 86400001\n",
			  "seed.yaml:2:13: deletionMs: deletionMs must be a whole number from 0 to "
			  "86400000");
	expect_seed_error(
	    USERS "schedulingMs: 1.5\n",
	    "seed.yaml:2:15: schedulingMs: schedulingMs must be a whole number from 0 "
	    "to 86400000");
	expect_seed_error("users: [\n",
			  "seed.yaml:2:1: invalid YAML: did not find expected node content");
	expect_seed_error(USERS "---\n" USERS,
			  "seed.yaml:1:1: a seed is exactly one YAML document");
	/* the bounds themselves are fine */
	expect_seed_error(USERS "maxPageSize: 1\nschedulingMs: 86400000\n", "");
	expect_seed_error(USERS "maxPageSize: 500\n", "");
}

/* The type named name in a checked seed. */
static const cJSON *type_named(const cJSON *p, const char *name)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, wsr_json_arr(p, "types"))
	{
		if (strcmp(wsr_json_str(it, "name"), name) == 0)
			return it;
	}
	fail_msg("no type %s", name);
	return NULL;
}

static const char *ref_name(const cJSON *t, const char *field)
{
	return wsr_json_str(wsr_json_obj(t, field), "name");
}

static void standard_types_and_the_builtin_seed(void **state)
{
	(void)state;
	cJSON *p, *again;
	char *err = NULL;
	assert_int_equal(wsr_kcpsim_seed_load(&p, NULL, &err), 0);
	/* kcp's default root configuration (config/root/workspacetype-*.yaml) */
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(p, "types")), 5);
	const cJSON *root = type_named(p, "root"), *uni = type_named(p, "universal");
	const cJSON *org = type_named(p, "organization"), *team = type_named(p, "team");
	const cJSON *home = type_named(p, "home");
	assert_true(wsr_json_bool(root, "noParents", 0));
	assert_string_equal(ref_name(root, "defaultChildType"), "organization");
	assert_string_equal(
	    wsr_json_str(cJSON_GetArrayItem(wsr_json_arr(root, "extends"), 0), "name"),
	    "universal");
	assert_null(wsr_json_obj(uni, "defaultChildType"));
	assert_true(wsr_json_num(uni, "initializeMs", 0) > 0);
	assert_string_equal(cJSON_GetArrayItem(wsr_json_arr(uni, "use"), 0)->valuestring,
			    "system:authenticated");
	assert_string_equal(cJSON_GetArrayItem(wsr_json_arr(org, "use"), 0)->valuestring,
			    "system:authenticated");
	assert_int_equal((int)wsr_json_num(org, "initializeMs", -1), 0);
	assert_string_equal(ref_name(org, "defaultChildType"), "universal");
	assert_string_equal(
	    wsr_json_str(cJSON_GetArrayItem(wsr_json_arr(org, "allowedChildren"), 0), "name"),
	    "universal");
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(team, "allowedParents")), 2);
	assert_true(wsr_json_bool(home, "noParents", 0));
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(home, "use")), 0);
	/* logical-cluster homes for everyone who logs in; no root:users */
	assert_string_equal(wsr_json_str(p, "homes"), "logicalcluster");
	assert_string_equal(
	    cJSON_GetArrayItem(wsr_json_arr(p, "homeCreatorGroups"), 0)->valuestring,
	    "system:authenticated");
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(p, "workspaces")), 0);
	const cJSON *user = cJSON_GetArrayItem(wsr_json_arr(p, "users"), 0);
	assert_string_equal(wsr_json_str(user, "token"), wsr_sim_builtin_key("kcp"));
	assert_string_equal(wsr_json_str(user, "token"), WSR_KCPSIM_BUILTIN_TOKEN);
	/* a checked seed checks to itself: platform.json is read back this way */
	wsr_check_err e;
	assert_int_equal(wsr_kcpsim_seed_check(&again, p, &e), 0);
	assert_true(cJSON_Compare(p, again, 1));
	cJSON_Delete(again);
	cJSON_Delete(p);
	/* the fixture: nine types with its own root, bucketed homes */
	assert_int_equal(wsr_kcpsim_seed_load(&p, KF_SEED, &err), 0);
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(p, "types")), 9);
	assert_string_equal(ref_name(type_named(p, "root"), "defaultChildType"), "universal");
	assert_string_equal(wsr_json_str(p, "homes"), "buckets");
	assert_int_equal((int)wsr_json_num(p, "maxPageSize", 0), 2);
	cJSON_Delete(p);
	assert_int_equal(wsr_kcpsim_seed_load(&p, "/nonexistent/seed.yaml", &err), WSR_ENOTFOUND);
	assert_non_null(strstr(err, "/nonexistent/seed.yaml: cannot read the seed"));
	free(err);
}

/* ---- the data directory ---- */

static char *temp_dir(void)
{
	char *d = strdup("/tmp/wsr-kcpsim-XXXXXX");
	assert_non_null(mkdtemp(d));
	return d;
}

static void remove_tree(const char *dir)
{
	char *cmd = wsr_strdupf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static int handle(wsr_kcpsim *k, const char *method, const char *path, const char *body,
		  const char *q, cJSON **out)
{
	const char *headers[] = {"Authorization", "Bearer kcp-admin-token", NULL};
	const char *query[] = {"continue", q, NULL};
	wsr_sim_req r = {method, path,	  body ? body : "", body ? strlen(body) : 0,
			 NULL,	 headers, q ? query : NULL};
	wsr_sim_resp resp = {0};
	wsr_kcpsim_handle(k, &r, &resp);
	*out = cJSON_Parse(resp.body);
	wsr_sim_resp_free(&resp);
	return resp.status;
}

static void create(wsr_kcpsim *k, const char *name, const char *type)
{
	char *body = kf_body(name, type, NULL);
	cJSON *v;
	assert_int_equal(handle(k, "POST", KF_WS("root"), body, NULL, &v), 201);
	cJSON_Delete(v);
	free(body);
}

static wsr_kcpsim *open_dir(const char *dir)
{
	wsr_kcpsim *k;
	char *err = NULL;
	if (wsr_kcpsim_open(&k, KF_SEED, dir, &err))
		fail_msg("%s", err);
	return k;
}

static long list_rv(wsr_kcpsim *k)
{
	cJSON *v;
	assert_int_equal(handle(k, "GET", KF_WS("root"), NULL, NULL, &v), 200);
	long rv = atol(wsr_json_path(v, "metadata.resourceVersion")->valuestring);
	cJSON_Delete(v);
	return rv;
}

static void data_survives_a_restart(void **state)
{
	(void)state;
	char *dir = temp_dir();
	wsr_clock_set(kf_clock);
	wsr_kcpsim *k = open_dir(dir);
	cJSON *v;
	create(k, "acme", "organization"); /* Initializing for 200 ms */
	create(k, "a", "universal");
	create(k, "b", "universal");
	assert_int_equal(handle(k, "GET", KF_WS("root"), NULL, NULL, &v), 200);
	char cont[WSR_KCPSIM_CONTINUE_MAX + 1];
	snprintf(cont, sizeof(cont), "%s", wsr_json_path(v, "metadata.continue")->valuestring);
	cJSON_Delete(v);
	assert_int_equal(handle(k, "DELETE", KF_WS("root") "/b", NULL, NULL, &v), 200);
	cJSON_Delete(v);
	long rv = list_rv(k);
	wsr_kcpsim_free(k);

	/* the seed is not read again: the data directory wins */
	k = open_dir(dir);
	assert_true(list_rv(k) >= rv); /* a deletion's resourceVersion is not handed out twice */
	assert_int_equal(handle(k, "GET", KF_WS("root") "/b", NULL, NULL, &v), 404);
	cJSON_Delete(v);
	assert_int_equal(handle(k, "GET", KF_WS("root") "/acme", NULL, NULL, &v), 200);
	assert_string_equal(wsr_json_path(v, "status.phase")->valuestring, "Initializing");
	cJSON_Delete(v);
	kf_now += 200; /* the clock went on while it was down */
	assert_int_equal(handle(k, "GET", KF_WS("root") "/acme", NULL, NULL, &v), 200);
	assert_string_equal(wsr_json_path(v, "status.phase")->valuestring, "Ready");
	assert_true(atol(wsr_json_path(v, "metadata.resourceVersion")->valuestring) > rv);
	cJSON_Delete(v);
	/* a continue token handed out before the restart still works */
	assert_int_equal(handle(k, "GET", KF_WS("root"), NULL, cont, &v), 200);
	assert_string_equal(
	    wsr_json_path(cJSON_GetArrayItem(wsr_json_arr(v, "items"), 0), "metadata.name")
		->valuestring,
	    "users");
	cJSON_Delete(v);
	wsr_kcpsim_free(k);
	remove_tree(dir);
	free(dir);
}

static char *repeat(char c, size_t n);

static void write_file(const char *dir, const char *name, const char *text)
{
	char *path = wsr_strdupf("%s/%s", dir, name);
	assert_int_equal(wsr_fs_write_atomic(path, text, strlen(text), 0600), 0);
	free(path);
}

static void expect_open_error(const char *dir, const char *want)
{
	wsr_kcpsim *k = NULL;
	char *err = NULL;
	assert_int_not_equal(wsr_kcpsim_open(&k, KF_SEED, dir, &err), 0);
	assert_null(k);
	if (!err || !strstr(err, want))
		fail_msg("got %s, want %s", err ? err : "(none)", want);
	free(err);
}

static void broken_data_is_refused_by_file(void **state)
{
	(void)state;
	char *dir = temp_dir();
	write_file(dir, "notes.txt", "mine");
	expect_open_error(dir, "holds files but no platform.json");
	remove_tree(dir);
	free(dir);

	dir = temp_dir();
	wsr_kcpsim_free(open_dir(dir)); /* seeded */
	char *ws = wsr_strdupf("%s/workspaces", dir);
	write_file(ws, "zzzzzzzzzzzzzzzz.json", "{\"path\":\"root:x\"}");
	expect_open_error(dir, "zzzzzzzzzzzzzzzz.json: not a workspace record");
	write_file(ws, "zzzzzzzzzzzzzzzz.json", "{not json");
	expect_open_error(dir, "zzzzzzzzzzzzzzzz.json: ");
	/* a workspace whose parent is gone */
	write_file(ws, "zzzzzzzzzzzzzzzz.json",
		   "{\"path\":\"root:gone:x\",\"workspace\":{\"metadata\":{\"name\":\"x\","
		   "\"resourceVersion\":\"9\"},\"spec\":{\"cluster\":\"zzzzzzzzzzzzzzzz\"},"
		   "\"status\":{\"phase\":\"Ready\"}},\"createdAt\":1,\"initializingAt\":1,"
		   "\"readyAt\":1,\"goneAt\":null,\"frozen\":false}");
	expect_open_error(dir, "workspace root:gone:x has no parent workspace");
	/* a record past WSR_KCPSIM_MAX_RECORD is not read */
	char *huge = repeat(' ', WSR_KCPSIM_MAX_RECORD + 1);
	write_file(ws, "zzzzzzzzzzzzzzzz.json", huge);
	free(huge);
	expect_open_error(dir, "zzzzzzzzzzzzzzzz.json: ");
	char *zz = wsr_strdupf("%s/zzzzzzzzzzzzzzzz.json", ws);
	assert_int_equal(unlink(zz), 0);
	free(zz);
	write_file(ws, "stray.yaml", "x");
	expect_open_error(dir, "stray.yaml: not a data file of the emulator");
	free(ws);
	write_file(dir, "platform.json", "{\"users\":7}");
	expect_open_error(dir, "platform.json: users: users must be a list");
	remove_tree(dir);
	free(dir);
}

/* ---- strings and limits ---- */

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void names_and_paths_at_their_bounds(void **state)
{
	(void)state;
	char *n63 = repeat('a', WSR_KCPSIM_NAME_MAX), *n64 = repeat('a', WSR_KCPSIM_NAME_MAX + 1);
	assert_true(wsr_kcpsim_name_valid(n63));
	assert_false(wsr_kcpsim_name_valid(n64));
	const char *good[] = {"a", "0", "a-b", "a--b", "team-a1"};
	const char *bad[] = {"", "-a", "a-", "A", "a_b", "a.b", "a:b"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(wsr_kcpsim_name_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(wsr_kcpsim_name_valid(bad[i]));
	/* a path of exactly WSR_KCPSIM_PATH_MAX bytes: "root" and ":a" pairs, then a tail */
	wsr_buf p = WSR_BUF_INIT;
	wsr_buf_puts(&p, "root");
	while (p.len + 2 <= WSR_KCPSIM_PATH_MAX)
		wsr_buf_puts(&p, ":a");
	if (p.len < WSR_KCPSIM_PATH_MAX)
		wsr_buf_puts(&p, "b");
	assert_int_equal(p.len, WSR_KCPSIM_PATH_MAX);
	assert_true(wsr_kcpsim_path_valid(p.data));
	wsr_buf_puts(&p, "c");
	assert_false(wsr_kcpsim_path_valid(p.data));
	wsr_buf_free(&p);
	const char *gpaths[] = {"root", "root:a", "root:a-b:c"};
	const char *bpaths[] = {"",	 "rooty",  "root:", "root::a",
				":root", "root:A", "acme",  "root:a:"};
	for (size_t i = 0; i < sizeof(gpaths) / sizeof(gpaths[0]); i++)
		assert_true(wsr_kcpsim_path_valid(gpaths[i]));
	for (size_t i = 0; i < sizeof(bpaths) / sizeof(bpaths[0]); i++)
		assert_false(wsr_kcpsim_path_valid(bpaths[i]));
	free(n63);
	free(n64);
}

static void labels_at_their_bounds(void **state)
{
	(void)state;
	char *v63 = repeat('v', WSR_KCPSIM_LABEL_MAX), *v64 = repeat('v', WSR_KCPSIM_LABEL_MAX + 1);
	/* a 253-character DNS prefix: labels of at most 63 joined by dots */
	char *l63 = repeat('p', 63), *l61 = repeat('p', 61);
	char *p253 = wsr_strdupf("%s.%s.%s.%s", l63, l63, l63, l61);
	char *k1 = wsr_strdupf("%s/%s", p253, v63), *k2 = wsr_strdupf("p%s/x", p253);
	char *k3 = wsr_strdupf("%sp.x/y", l63); /* one label of 64 */
	assert_int_equal(strlen(p253), WSR_KCPSIM_LABEL_PREFIX_MAX);
	assert_false(wsr_kcpsim_label_key_valid(k3));
	free(l63);
	free(l61);
	free(k3);
	assert_true(wsr_kcpsim_label_value_valid(v63));
	assert_false(wsr_kcpsim_label_value_valid(v64));
	assert_true(wsr_kcpsim_label_value_valid(""));
	assert_true(wsr_kcpsim_label_key_valid(v63));
	assert_false(wsr_kcpsim_label_key_valid(v64));
	assert_true(wsr_kcpsim_label_key_valid(k1));
	assert_false(wsr_kcpsim_label_key_valid(k2));
	const char *gkeys[] = {"region", "app.kubernetes.io/name", "a_b.C-d", "x.y/Z"};
	const char *bkeys[] = {"", "-a", "a-", "a b", "/a", "a/", "A.b/c", "a//b", "x./y"};
	for (size_t i = 0; i < sizeof(gkeys) / sizeof(gkeys[0]); i++)
		assert_true(wsr_kcpsim_label_key_valid(gkeys[i]));
	for (size_t i = 0; i < sizeof(bkeys) / sizeof(bkeys[0]); i++)
		if (wsr_kcpsim_label_key_valid(bkeys[i]))
			fail_msg("label key \"%s\" passed", bkeys[i]);
	free(v63);
	free(v64);
	free(p253);
	free(k1);
	free(k2);
}

/* A create body whose annotations hold exactly n bytes of keys and values. */
static char *annotated(size_t n)
{
	char *value = repeat('x', n - 1);
	char *b = wsr_strdupf("{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\","
			      "\"metadata\":{\"name\":\"big\",\"annotations\":{\"k\":\"%s\"}}}",
			      value);
	free(value);
	return b;
}

static void annotations_and_tokens_at_their_bounds(void **state)
{
	(void)state;
	wsr_kcpsim *k = open_dir(NULL);
	cJSON *v;
	char *body = annotated(WSR_KCPSIM_ANNOTATIONS_MAX + 1);
	assert_int_equal(handle(k, "POST", KF_WS("root"), body, NULL, &v), 422);
	assert_non_null(strstr(wsr_json_str(v, "message"), "metadata.annotations: Too long"));
	cJSON_Delete(v);
	free(body);
	body = annotated(WSR_KCPSIM_ANNOTATIONS_MAX);
	assert_int_equal(handle(k, "POST", KF_WS("root"), body, NULL, &v), 201);
	cJSON_Delete(v);
	free(body);
	wsr_kcpsim_free(k);

	/* continue tokens: a round trip, and nothing longer than the limit */
	unsigned char secret[32] = {1, 2, 3};
	char tok[WSR_KCPSIM_CONTINUE_MAX + 1], last[WSR_KCPSIM_NAME_MAX + 1];
	char *n63 = repeat('z', WSR_KCPSIM_NAME_MAX);
	int64_t at = 0;
	assert_int_equal(wsr_kcpsim_continue_encode(tok, secret, "root/workspaces", n63, INT64_MAX),
			 0);
	assert_true(strlen(tok) <= WSR_KCPSIM_CONTINUE_MAX);
	assert_int_equal(wsr_kcpsim_continue_decode(last, &at, secret, "root/workspaces", tok), 0);
	assert_string_equal(last, n63);
	assert_true(at == INT64_MAX);
	assert_int_not_equal(
	    wsr_kcpsim_continue_decode(last, &at, secret, "root:a/workspaces", tok), 0);
	secret[0] = 9;
	assert_int_not_equal(wsr_kcpsim_continue_decode(last, &at, secret, "root/workspaces", tok),
			     0);
	char *longer = repeat('A', WSR_KCPSIM_CONTINUE_MAX + 1);
	assert_int_not_equal(
	    wsr_kcpsim_continue_decode(last, &at, secret, "root/workspaces", longer), 0);
	free(longer);
	free(n63);
	size_t lim;
	assert_int_equal(wsr_sim_query_count("500", WSR_KCPSIM_PAGE_MAX, &lim), 0);
	assert_int_equal(lim, 500);
	assert_int_not_equal(wsr_sim_query_count("501", WSR_KCPSIM_PAGE_MAX, &lim), 0);
	assert_int_not_equal(wsr_sim_query_count("", WSR_KCPSIM_PAGE_MAX, &lim), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(mistakes_are_refused_at_their_position),
	    cmocka_unit_test(standard_types_and_the_builtin_seed),
	    cmocka_unit_test(data_survives_a_restart),
	    cmocka_unit_test(broken_data_is_refused_by_file),
	    cmocka_unit_test(names_and_paths_at_their_bounds),
	    cmocka_unit_test(labels_at_their_bounds),
	    cmocka_unit_test(annotations_and_tokens_at_their_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
