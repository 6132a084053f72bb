/* Unit tests for schema/: the registry of embedded schemas, typing YAML by
 * the schema, every keyword (each limit at its boundary), defaults, and
 * positions of the problems. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/yaml.h"
#include "schema/schema.h"

typedef struct result {
	cJSON *out;
	wsr_diag d;
	int rc;
} result;

static result *check(const cJSON *schema, const char *yaml)
{
	result *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	wsr_diag_init(&r->d);
	wsr_yaml_file f;
	assert_int_equal(wsr_yaml_parse(&f, "s.yaml", yaml, strlen(yaml), &r->d), 0);
	assert_int_equal(f.ndocs, 1);
	r->rc = wsr_schema_validate(&r->out, schema, f.docs[0].root, &r->d);
	wsr_yaml_file_free(&f);
	return r;
}

static void done(result *r)
{
	cJSON_Delete(r->out);
	wsr_diag_free(&r->d);
	free(r);
}

static const wsr_diag_entry *find(const result *r, const char *text)
{
	for (size_t i = 0; i < r->d.n; i++)
		if (strstr(r->d.v[i].summary, text))
			return &r->d.v[i];
	for (size_t i = 0; i < r->d.n; i++)
		fprintf(stderr, "got %d:%d: %s\n", r->d.v[i].line, r->d.v[i].col,
			r->d.v[i].summary);
	fail_msg("no diagnostic containing '%s'", text);
	return NULL;
}

static void expect_at(const result *r, int line, int col, const char *text)
{
	const wsr_diag_entry *e = find(r, text);
	assert_string_equal(e->file, "s.yaml");
	assert_int_equal(e->line, line);
	assert_int_equal(e->col, col);
}

static void expect_ok(const cJSON *schema, const char *yaml, const char *json)
{
	result *r = check(schema, yaml);
	if (r->rc != 0)
		find(r, "(expected no errors)");
	char *s = cJSON_PrintUnformatted(r->out);
	assert_string_equal(s, json);
	free(s);
	done(r);
}

static void expect_refused(const cJSON *schema, const char *yaml, const char *text)
{
	result *r = check(schema, yaml);
	assert_int_equal(r->rc, WSR_EINVAL);
	assert_null(r->out);
	find(r, text);
	done(r);
}

static cJSON *S(const char *json)
{
	cJSON *s = cJSON_Parse(json);
	assert_non_null(s);
	return s;
}

static const cJSON *workspace(void)
{
	const cJSON *s = wsr_schema_for("loopback.wsr.dev/v1", "Workspace");
	assert_non_null(s);
	return s;
}

static void test_registry(void **st)
{
	(void)st;
	assert_non_null(workspace());
	assert_non_null(wsr_schema_for("wsr.dev/v1", "Config"));
	assert_null(wsr_schema_for("wsr.dev/v1", "Workspace"));
	assert_null(wsr_schema_for(NULL, "Workspace"));
	assert_ptr_equal(workspace(), workspace()); /* parsed once */
	size_t n = 0;
	while (wsr_schema_list(n))
		n++;
	assert_int_equal(n, 4); /* config, kcp HomeWorkspace and Workspace, loopback Workspace */
	assert_non_null(wsr_schema_for("kcp.wsr.dev/v1", "Workspace"));
	assert_non_null(wsr_schema_for("kcp.wsr.dev/v1", "HomeWorkspace"));
}

static void test_schema_at(void **st)
{
	(void)st;
	const cJSON *v = wsr_schema_at(workspace(), "spec.kubernetes.version");
	assert_string_equal(cJSON_GetObjectItem(v, "x-wsr-operation")->valuestring, "upgrade");
	const cJSON *label = wsr_schema_at(workspace(), "metadata.labels.team");
	assert_int_equal(cJSON_GetObjectItem(label, "maxLength")->valueint, 256);
	assert_non_null(wsr_schema_at(workspace(), "spec.maintenance.schedule.3"));
	assert_null(wsr_schema_at(workspace(), "spec.nothing"));
	assert_null(wsr_schema_at(workspace(), "spec.type.deeper"));
	assert_ptr_equal(wsr_schema_at(workspace(), ""), workspace());
}

/* Every pattern wsr ships must mean the same in POSIX ERE (what the
 * validator runs) as in ECMA-262 (what JSON Schema specifies): checked by
 * compiling each and trying the values the schema's own docs promise. */
static void collect_patterns(const cJSON *s, int *n)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, s)
	{
		if (c->string && !strcmp(c->string, "pattern") && cJSON_IsString(c)) {
			regex_t re;
			assert_int_equal(regcomp(&re, c->valuestring, REG_EXTENDED | REG_NOSUB), 0);
			regfree(&re);
			(*n)++;
		}
		if (cJSON_IsObject(c) || cJSON_IsArray(c))
			collect_patterns(c, n);
	}
}

static void test_patterns_are_ere(void **st)
{
	(void)st;
	int n = 0;
	for (size_t i = 0; wsr_schema_list(i); i++)
		collect_patterns(wsr_schema_list(i), &n);
	assert_true(n >= 6);
	const cJSON *cfg = wsr_schema_for("wsr.dev/v1", "Config");
	const char *head =
	    "apiVersion: wsr.dev/v1\nkind: Config\nproviders:\n  loopback:\n    endpoint: ";
	const char *good[] = {"embedded", "https://api.loopback.example/v1",
			      "http://127.0.0.1:8080"};
	const char *bad[] = {"ftp://x", "https://", "https://a b", "embedded2"};
	for (size_t i = 0; i < 3; i++) {
		char *y = wsr_strdupf("%s\"%s\"\n", head, good[i]);
		result *r = check(cfg, y);
		assert_int_equal(r->rc, 0);
		done(r);
		free(y);
	}
	for (size_t i = 0; i < 4; i++) {
		char *y = wsr_strdupf("%s\"%s\"\n", head, bad[i]);
		expect_refused(cfg, y, "does not have the required form");
		free(y);
	}
}

static void test_string_typing(void **st)
{
	(void)st;
	cJSON *s = S("{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"string\"}}}");
	expect_ok(s, "v: 1.30\n", "{\"v\":\"1.30\"}");
	expect_ok(s, "v: true\n", "{\"v\":\"true\"}");
	expect_ok(s, "v: '007'\n", "{\"v\":\"007\"}");
	expect_refused(s, "v:\n", "v: expected a string, found nothing");
	expect_refused(s, "v: ~\n", "v: expected a string, found null");
	expect_refused(s, "v: [a]\n", "v: expected a string, found a list");
	cJSON_Delete(s);
}

static void test_boolean_typing(void **st)
{
	(void)st;
	cJSON *s = S("{\"type\":\"object\",\"properties\":{\"b\":{\"type\":\"boolean\"}}}");
	expect_ok(s, "b: true\n", "{\"b\":true}");
	expect_ok(s, "b: false\n", "{\"b\":false}");
	result *r = check(s, "b: yes\n");
	expect_at(r, 1, 4, "b: expected true or false, found 'yes'");
	assert_string_equal(r->d.v[0].hint, "YAML 1.2 booleans are true and false only");
	done(r);
	r = check(s, "b: \"true\"\n");
	expect_at(r, 1, 4, "expected true or false, found the quoted string \"true\"");
	assert_string_equal(r->d.v[0].hint, "remove the quotes");
	done(r);
	cJSON_Delete(s);
}

static void test_number_typing(void **st)
{
	(void)st;
	cJSON *s = S("{\"type\":\"object\",\"properties\":{\"i\":{\"type\":\"integer\"},\"n\":{"
		     "\"type\":\"number\"}}}");
	expect_ok(s, "i: 42\nn: 1.5\n", "{\"i\":42,\"n\":1.5}");
	expect_ok(s, "i: 0x10\nn: 3\n", "{\"i\":16,\"n\":3}");
	expect_refused(s, "i: 1.5\n", "i: expected an integer, found '1.5'");
	expect_refused(s, "i: '3'\n", "i: expected an integer, found the quoted string \"3\"");
	expect_refused(s, "n: .inf\n", "n: expected a number, found '.inf'");
	expect_refused(s, "n: ten\n", "n: expected a number, found 'ten'");
	cJSON_Delete(s);
}

static void test_minimum_maximum_boundary(void **st)
{
	(void)st;
	const char *h =
	    "apiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata: {name: a}\n"
	    "spec: {organization: o, project: p, type: baremetal, maintenance: {priorityHour: ";
	char *y;
	const char *ok[] = {"0}}\n", "23}}\n"}, *bad[] = {"-1}}\n", "24}}\n"};
	for (int i = 0; i < 2; i++) {
		y = wsr_strdupf("%s%s", h, ok[i]);
		result *r = check(workspace(), y);
		assert_int_equal(r->rc, 0);
		done(r);
		free(y);
	}
	y = wsr_strdupf("%s%s", h, bad[0]);
	expect_refused(workspace(), y, "spec.maintenance.priorityHour: -1 is below the minimum 0");
	free(y);
	y = wsr_strdupf("%s%s", h, bad[1]);
	expect_refused(workspace(), y, "spec.maintenance.priorityHour: 24 is above the maximum 23");
	free(y);
}

/* maxLength counts characters, not bytes: 3 x 'a-umlaut' is 3, not 6. */
static void test_length_boundary_in_characters(void **st)
{
	(void)st;
	cJSON *s = S("{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"string\","
		     "\"minLength\":2,\"maxLength\":3}}}");
	expect_ok(s, "v: \xc3\xa4\xc3\xa4\n", "{\"v\":\"\xc3\xa4\xc3\xa4\"}");
	expect_ok(s, "v: \xc3\xa4\xc3\xa4\xc3\xa4\n", "{\"v\":\"\xc3\xa4\xc3\xa4\xc3\xa4\"}");
	expect_refused(s, "v: \xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4\n",
		       "is 4 characters long; at most 3 are allowed");
	expect_refused(s, "v: \xc3\xa4\n", "is too short: at least 2 characters are required");
	cJSON_Delete(s);
}

static void test_enum(void **st)
{
	(void)st;
	cJSON *s = S("{\"type\":\"object\",\"properties\":{\"e\":{\"type\":\"string\",\"enum\":["
		     "\"high_available\",\"single_node\"]}}}");
	expect_ok(s, "e: single_node\n", "{\"e\":\"single_node\"}");
	result *r = check(s, "e: single-node\n");
	expect_at(r, 1, 4, "e: 'single-node' is not one of: high_available, single_node");
	assert_string_equal(r->d.v[0].hint, "did you mean 'single_node'?");
	done(r);
	r = check(s, "e: other\n");
	assert_null(r->d.v[0].hint);
	done(r);
	cJSON_Delete(s);
}

static void test_unknown_field(void **st)
{
	(void)st;
	result *r = check(workspace(),
			  "apiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata: {name: a}\n"
			  "spec:\n  organization: o\n  project: p\n  type: kubernetes\n"
			  "  kubernetes:\n    version: 1.30.2\n    controlplane: single_node\n"
			  "  colour: blue\n");
	expect_at(r, 10, 5, "unknown field 'controlplane' in spec.kubernetes");
	assert_string_equal(find(r, "controlplane")->hint, "did you mean 'controlPlane'?");
	expect_at(r, 11, 3, "unknown field 'colour' in spec");
	assert_non_null(
	    strstr(find(r, "colour")->hint, "allowed here: organization, project, type"));
	assert_int_equal(r->d.n, 2);
	done(r);
}

static void test_required(void **st)
{
	(void)st;
	result *r =
	    check(workspace(),
		  "apiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata:\n  labels: {}\n"
		  "spec:\n  type: baremetal\n");
	expect_at(r, 3, 1, "metadata: missing required field 'name'");
	expect_at(r, 5, 1, "spec: missing required field 'organization'");
	expect_at(r, 5, 1, "spec: missing required field 'project'");
	assert_int_equal(r->d.n, 3);
	done(r);
	r = check(workspace(), "kind: Workspace\n");
	expect_at(r, 1, 1, "missing required field 'apiVersion'");
	done(r);
}

static void test_maps_and_lists(void **st)
{
	(void)st;
	cJSON *s = S("{\"type\":\"object\",\"properties\":{"
		     "\"m\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\","
		     "\"maxLength\":2}},"
		     "\"l\":{\"type\":\"array\",\"items\":{\"type\":\"integer\",\"minimum\":1}},"
		     "\"any\":{}}}");
	expect_ok(s, "m: {a: 12, b: x}\nl: [1, 2]\nany: {x: [1, yes]}\n",
		  "{\"m\":{\"a\":\"12\",\"b\":\"x\"},\"l\":[1,2],\"any\":{\"x\":[1,\"yes\"]}}");
	result *r = check(s, "m: {a: long}\nl: [1, 0]\n");
	expect_at(r, 1, 8, "m.a: 'long...' is 4 characters long");
	expect_at(r, 2, 8, "l[1]: 0 is below the minimum 1");
	done(r);
	expect_refused(s, "m: [a]\n", "m: expected a map, found a list");
	expect_refused(s, "l: {a: 1}\n", "l: expected a list, found a map");
	cJSON_Delete(s);
}

/* Defaults fill absent fields of objects that are present; an absent object
 * without a default stays absent. Output follows the schema's order. */
static void test_defaults(void **st)
{
	(void)st;
	expect_ok(
	    workspace(),
	    "spec:\n  type: kubernetes\n  project: p\n  organization: o\n"
	    "  kubernetes: {version: 1.30.2, oidc: {}}\n  maintenance: {compute: {}}\n"
	    "metadata: {name: a}\nkind: Workspace\napiVersion: loopback.wsr.dev/v1\n",
	    "{\"apiVersion\":\"loopback.wsr.dev/"
	    "v1\",\"kind\":\"Workspace\",\"metadata\":{\"name\":\"a\"},"
	    "\"spec\":{\"organization\":\"o\",\"project\":\"p\",\"type\":\"kubernetes\","
	    "\"kubernetes\":{\"version\":\"1.30.2\",\"controlPlane\":\"high_available\","
	    "\"computeProvider\":\"hetzner_cloud\",\"ingress\":false,\"oidc\":{\"enabled\":false}},"
	    "\"maintenance\":{\"enabled\":true,\"compute\":{\"autoUpdate\":true}}}}");
}

static void test_every_problem_reported(void **st)
{
	(void)st;
	result *r =
	    check(workspace(), "apiVersion: v2\nkind: Workspace\nmetadata: {name: a, x: 1}\n"
			       "spec:\n  organization: o\n  project: p\n  type: vm\n"
			       "  dns: {provider: bind}\n  lifecycle: {preventDestroy: maybe}\n");
	expect_at(r, 1, 13, "apiVersion: 'v2' is not one of: loopback.wsr.dev/v1");
	expect_at(r, 3, 21, "unknown field 'x' in metadata");
	expect_at(r, 7, 9, "spec.type: 'vm' is not one of: kubernetes, baremetal");
	expect_at(r, 8, 19, "spec.dns.provider: 'bind'");
	expect_at(r, 9, 31, "spec.lifecycle.preventDestroy: expected true or false, found 'maybe'");
	assert_int_equal(r->d.n, 5);
	assert_int_equal(r->rc, WSR_EINVAL);
	done(r);
}

/* "{a: {a: ... leaf ...}}" with depth maps. */
static char *nested(int depth, const char *leaf)
{
	wsr_buf b = WSR_BUF_INIT;
	for (int i = 0; i < depth; i++)
		wsr_buf_puts(&b, "{a: ");
	wsr_buf_puts(&b, leaf);
	for (int i = 0; i < depth; i++)
		wsr_buf_puts(&b, "}");
	return wsr_buf_detach(&b);
}

/* A schema nested far deeper than any YAML tree can be: the deepest node
 * YAML allows is still typed by its schema level, and nothing breaks. */
static void test_schema_deeper_than_any_tree(void **st)
{
	(void)st;
	/* every level: {a: <the next level>, n: integer} */
	cJSON *schema = cJSON_Parse("{\"type\":\"object\"}");
	for (int i = 0; i < 200; i++) {
		cJSON *o = cJSON_CreateObject(), *props = cJSON_AddObjectToObject(o, "properties");
		cJSON_AddStringToObject(o, "type", "object");
		cJSON_AddItemToObject(props, "a", schema);
		cJSON_AddStringToObject(cJSON_AddObjectToObject(props, "n"), "type", "integer");
		schema = o;
	}
	/* one map past the YAML limit is the loader's to refuse */
	char *over = nested(WSR_YAML_MAX_DEPTH, "{n: 1}");
	wsr_diag d = WSR_DIAG_INIT;
	wsr_yaml_file f;
	assert_int_equal(wsr_yaml_parse(&f, "s.yaml", over, strlen(over), &d), WSR_EINVAL);
	wsr_yaml_file_free(&f);
	wsr_diag_free(&d);
	free(over);
	/* at the limit, it is checked all the way down */
	char *ok = nested(WSR_YAML_MAX_DEPTH - 1, "{n: 1}");
	char *bad = nested(WSR_YAML_MAX_DEPTH - 1, "{n: x}");
	result *r = check(schema, ok);
	if (r->rc != 0)
		find(r, "(expected no errors)");
	done(r);
	r = check(schema, bad);
	assert_int_equal(r->rc, WSR_EINVAL);
	find(r, "expected an integer, found 'x'");
	done(r);
	free(ok);
	free(bad);
	cJSON_Delete(schema);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registry),
	    cmocka_unit_test(test_schema_at),
	    cmocka_unit_test(test_patterns_are_ere),
	    cmocka_unit_test(test_string_typing),
	    cmocka_unit_test(test_boolean_typing),
	    cmocka_unit_test(test_number_typing),
	    cmocka_unit_test(test_minimum_maximum_boundary),
	    cmocka_unit_test(test_length_boundary_in_characters),
	    cmocka_unit_test(test_enum),
	    cmocka_unit_test(test_unknown_field),
	    cmocka_unit_test(test_required),
	    cmocka_unit_test(test_maps_and_lists),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_every_problem_reported),
	    cmocka_unit_test(test_schema_deeper_than_any_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
