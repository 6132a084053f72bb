/* Unit tests for lib/yaml.c: positions, refusals with their positions, every
 * limit at its boundary, and YAML 1.2 core-schema typing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/yaml.h"
#include "lib/utf8.h"

typedef struct parsed {
	wsr_yaml_file f;
	wsr_diag d;
	int rc;
} parsed;

static parsed *parse_n(const char *text, size_t len)
{
	parsed *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	wsr_diag_init(&p->d);
	p->rc = wsr_yaml_parse(&p->f, "t.yaml", text, len, &p->d);
	return p;
}

static parsed *parse(const char *text)
{
	return parse_n(text, strlen(text));
}

static void done(parsed *p)
{
	wsr_yaml_file_free(&p->f);
	wsr_diag_free(&p->d);
	free(p);
}

/* Asserts exactly one error, at line:col, whose summary contains text. */
static void expect_error(parsed *p, int line, int col, const char *text)
{
	assert_int_equal(p->rc, WSR_EINVAL);
	if (p->d.n != 1 || p->d.v[0].line != line || p->d.v[0].col != col ||
	    !strstr(p->d.v[0].summary, text)) {
		for (size_t i = 0; i < p->d.n; i++)
			fprintf(stderr, "got %d:%d: %s\n", p->d.v[i].line, p->d.v[i].col,
				p->d.v[i].summary);
		fail_msg("expected one error at %d:%d containing '%s'", line, col, text);
	}
	assert_string_equal(p->d.v[0].file, "t.yaml");
}

static char *json_of(const wsr_node *n)
{
	cJSON *j = wsr_node_to_json(n);
	char *s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return s;
}

static void expect_json(const char *yaml, const char *json)
{
	parsed *p = parse(yaml);
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->f.ndocs, 1);
	char *s = json_of(p->f.docs[0].root);
	assert_string_equal(s, json);
	free(s);
	done(p);
}

static void test_positions(void **st)
{
	(void)st;
	parsed *p = parse("# comment\nspec:\n  name: x\n  list:\n    - 'a'\n    - {b: 1}\n");
	assert_int_equal(p->rc, 0);
	const wsr_node *root = p->f.docs[0].root;
	assert_int_equal(root->kind, WSR_NODE_MAP);
	assert_int_equal(root->line, 2);
	assert_int_equal(root->col, 1);
	const wsr_node *spec = wsr_node_get(root, "spec");
	const wsr_node *name = wsr_node_get(spec, "name");
	assert_int_equal(name->line, 3);
	assert_int_equal(name->col, 9);
	assert_true(name->plain);
	assert_string_equal(name->text, "x");
	const wsr_node *list = wsr_node_get(spec, "list");
	assert_int_equal(list->kind, WSR_NODE_SEQ);
	assert_int_equal(list->n, 2);
	assert_false(list->vals[0]->plain);
	assert_int_equal(list->vals[0]->line, 5);
	assert_int_equal(list->vals[0]->col, 7);
	assert_int_equal(list->vals[1]->col, 7);
	wsr_pos pos = wsr_node_pos(list->vals[1]);
	assert_string_equal(pos.file, "t.yaml");
	assert_int_equal(pos.line, 6);
	const wsr_node *key = wsr_node_key(spec, "list");
	assert_string_equal(key->text, "list");
	assert_int_equal(key->line, 4);
	assert_int_equal(key->col, 3);
	assert_null(wsr_node_key(spec, "missing"));
	assert_null(wsr_node_get(spec, "missing"));
	assert_null(wsr_node_get(name, "x"));
	done(p);
}

static void test_columns_count_characters(void **st)
{
	(void)st;
	parsed *p = parse("k\xc3\xa4y: v\xc3\xa4lue\nx: y\n");
	assert_int_equal(p->rc, 0);
	const wsr_node *v = wsr_node_get(p->f.docs[0].root, "k\xc3\xa4y");
	assert_non_null(v);
	assert_int_equal(v->col, 6);
	done(p);
}

static void test_documents(void **st)
{
	(void)st;
	parsed *p = parse("a: 1\n---\n---\n# only a comment\n---\nb: 2\n");
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->f.ndocs, 4);
	assert_non_null(p->f.docs[0].root);
	assert_null(p->f.docs[1].root);
	assert_null(p->f.docs[2].root);
	assert_int_equal(p->f.docs[3].line, 5);
	assert_int_equal(p->f.docs[3].root->line, 6);
	done(p);
	p = parse("");
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->f.ndocs, 0);
	done(p);
}

static void test_invalid_yaml(void **st)
{
	(void)st;
	parsed *p = parse("a: b: c\n");
	expect_error(p, 1, 5, "invalid YAML: mapping values are not allowed in this context");
	done(p);
	p = parse("a: [1, 2\nb: 3\n");
	expect_error(p, 2, 2, "invalid YAML: did not find expected ',' or ']'");
	assert_non_null(strstr(p->d.v[0].detail, "while parsing a flow sequence (at 1:4)"));
	done(p);
}

static void test_documents_before_an_error_are_kept(void **st)
{
	(void)st;
	parsed *p = parse("a: 1\n---\nb: [\n");
	assert_int_equal(p->rc, WSR_EINVAL);
	assert_int_equal(p->f.ndocs, 1);
	done(p);
}

static void test_duplicate_key(void **st)
{
	(void)st;
	parsed *p = parse("a: 1\nb: 2\na: 3\n");
	expect_error(p, 3, 1, "duplicate key 'a' (first defined at 1:1)");
	done(p);
}

static void test_duplicate_key_in_large_map(void **st)
{
	(void)st;
	wsr_buf b = WSR_BUF_INIT;
	for (int i = 0; i < 100; i++)
		wsr_buf_printf(&b, "k%d: %d\n", i, i);
	wsr_buf_puts(&b, "k42: again\n");
	parsed *p = parse(wsr_buf_str(&b));
	expect_error(p, 101, 1, "duplicate key 'k42' (first defined at 43:1)");
	done(p);
	wsr_buf_free(&b);
}

static void test_tab_indentation(void **st)
{
	(void)st;
	parsed *p = parse("a:\n  b: 1\n\tc: 2\n");
	expect_error(p, 3, 1, "tab character in indentation; YAML requires spaces");
	done(p);
	p = parse("a:\n  - 1\n  \t- 2\n");
	expect_error(p, 3, 3, "tab character in indentation; YAML requires spaces");
	done(p);
	/* a tab after the colon is a separator, not indentation */
	expect_json("a:\tx\nb: [1,\n\t2]\n", "{\"a\":\"x\",\"b\":[1,2]}");
}

static void test_invalid_utf8(void **st)
{
	(void)st;
	parsed *p = parse("a: 1\nname: J\xfcrgen\n");
	expect_error(p, 2, 8, "invalid UTF-8 (byte 0xfc)");
	done(p);
	p = parse("a: \xc3\xa4\xc0\xaf\n"); /* an overlong '/' after a valid character */
	expect_error(p, 1, 5, "invalid UTF-8 (byte 0xc0)");
	done(p);
	p = parse("a: \xed\xa0\x80\n"); /* a UTF-16 surrogate */
	expect_error(p, 1, 4, "invalid UTF-8");
	done(p);
	p = parse_n("a: b\0c\n", 7);
	expect_error(p, 1, 5, "NUL byte");
	done(p);
	int line, col;
	assert_int_equal(wsr_utf8_check("ok\n\xe2\x82\xac", 6, &line, &col), 0);
	assert_int_equal(wsr_utf8_check("ok\n\xe2\x82", 5, &line, &col), WSR_EINVAL);
	assert_int_equal(line, 2);
	assert_int_equal(col, 1);
}

static void test_refused_keys(void **st)
{
	(void)st;
	parsed *p = parse("base: &b {x: 1}\nthing:\n  <<: *b\n");
	expect_error(p, 3, 3, "merge keys ('<<') are not supported");
	done(p);
	p = parse("? [1, 2]\n: v\n");
	expect_error(p, 1, 3, "map keys must be scalars");
	done(p);
	p = parse("a: *nowhere\n");
	expect_error(p, 1, 4, "unknown alias '*nowhere'");
	done(p);
}

static void test_aliases_share_the_anchor(void **st)
{
	(void)st;
	expect_json("a: &x {p: [1, 2]}\nb: *x\nc: &s text\nd: *s\n",
		    "{\"a\":{\"p\":[1,2]},\"b\":{\"p\":[1,2]},\"c\":\"text\",\"d\":\"text\"}");
}

/* Anchors are forgotten at the end of each document. Freeing the names while
 * still looking the others up read freed memory once two names shared a
 * probe sequence (found by fuzzing; ASan in `make test SANITIZE=1`). */
static void test_anchors_end_with_their_document(void **st)
{
	(void)st;
	wsr_buf b = WSR_BUF_INIT;
	for (int i = 0; i < 64; i++)
		wsr_buf_printf(&b, "k%d: &a%d v%d\n", i, i, i);
	wsr_buf_puts(&b, "---\nx: &a7 again\ny: *a7\n---\nz: *a9\n");
	char *text = wsr_buf_detach(&b);
	parsed *p = parse(text);
	expect_error(p, 69, 4, "unknown alias '*a9'"); /* in the third document */
	assert_int_equal(p->f.ndocs, 2);
	char *j = json_of(p->f.docs[1].root);
	assert_string_equal(j, "{\"x\":\"again\",\"y\":\"again\"}");
	free(j);
	done(p);
	free(text);
	/* the fuzzer's own input: two anchors, one of them on a key */
	p = parse("&xxa: &xx1");
	assert_true(p->rc == 0 || p->rc == WSR_EINVAL);
	done(p);
}

/* An alias of an anchor that does not exist, as a key of a map large enough
 * to be indexed, crashed every reader of YAML (specs, wsr.yaml, seeds, the
 * watched directory): the placeholder key had no text. */
static void test_unknown_alias_anywhere(void **st)
{
	(void)st;
	parsed *p = parse("*nope: x\nb: 1\nc: 2\nd: 3\ne: 4\nf: 5\ng: 6\nh: 7\ni: 8\nj: 9\n");
	expect_error(p, 1, 1, "unknown alias '*nope'");
	assert_int_equal(p->f.ndocs, 0);
	done(p);
	p = parse("b: 1\nc: 2\nd: 3\ne: 4\nf: 5\ng: 6\nh: 7\ni: 8\nj: 9\n*nope: x\nk: 1\n");
	expect_error(p, 10, 1, "unknown alias '*nope'");
	done(p);
	p = parse("a: *nope\nb: [*nope2]\n");
	assert_int_equal(p->rc, WSR_EINVAL);
	assert_int_equal(p->d.n, 2);
	done(p);
	p = parse("*nope\n");
	expect_error(p, 1, 1, "unknown alias '*nope'");
	done(p);
}

/* "a: &a [x, ... (items-1 times)]" and then `aliases` references to it. */
static char *alias_doc(int items, int aliases, int extra_scalar_alias)
{
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_puts(&b, "s: &s x\na: &a [");
	for (int i = 0; i < items - 1; i++)
		wsr_buf_puts(&b, i ? ",x" : "x");
	wsr_buf_puts(&b, "]\nb: [");
	for (int i = 0; i < aliases; i++)
		wsr_buf_puts(&b, i ? ",*a" : "*a");
	if (extra_scalar_alias)
		wsr_buf_puts(&b, ",*s");
	wsr_buf_puts(&b, "]\n");
	return wsr_buf_detach(&b);
}

static void test_alias_limit_boundary(void **st)
{
	(void)st;
	/* 10 aliases of a 10,000-node list expand to exactly the limit */
	assert_int_equal(WSR_YAML_MAX_ALIAS_NODES, 100000);
	char *at = alias_doc(10000, 10, 0), *past = alias_doc(10000, 10, 1);
	parsed *p = parse(at);
	assert_int_equal(p->rc, 0);
	assert_int_equal(wsr_node_get(p->f.docs[0].root, "b")->n, 10);
	done(p);
	p = parse(past);
	expect_error(p, 3, 35, "aliases expand to more than 100000 nodes");
	done(p);
	free(at);
	free(past);
}

static void test_alias_bomb_is_fast(void **st)
{
	(void)st;
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_puts(&b, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (int i = 1; i <= 30; i++) {
		wsr_buf_printf(&b, "a%d: &a%d [", i, i);
		for (int k = 0; k < 10; k++)
			wsr_buf_printf(&b, "%s*a%d", k ? ", " : "", i - 1);
		wsr_buf_puts(&b, "]\n");
	}
	clock_t t0 = clock();
	parsed *p = parse(wsr_buf_str(&b));
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	expect_error(p, 5, 45, "aliases expand to more than");
	assert_true(secs < 0.5);
	done(p);
	wsr_buf_free(&b);
}

static char *nested(int depth)
{
	char *s = malloc((size_t)depth * 2 + 2);
	memset(s, '[', (size_t)depth);
	memset(s + depth, ']', (size_t)depth);
	strcpy(s + 2 * depth, "\n");
	return s;
}

static void test_depth_boundary(void **st)
{
	(void)st;
	char *at = nested(WSR_YAML_MAX_DEPTH), *past = nested(WSR_YAML_MAX_DEPTH + 1);
	parsed *p = parse(at);
	assert_int_equal(p->rc, 0);
	done(p);
	p = parse(past);
	expect_error(p, 1, WSR_YAML_MAX_DEPTH + 1, "nested deeper than 64 levels");
	done(p);
	free(at);
	free(past);
}

static void test_depth_through_an_alias(void **st)
{
	(void)st;
	/* a 60-deep anchor used 10 levels down is 70 deep */
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_puts(&b, "a: &d ");
	for (int i = 0; i < 60; i++)
		wsr_buf_putc(&b, '[');
	for (int i = 0; i < 60; i++)
		wsr_buf_putc(&b, ']');
	wsr_buf_puts(&b, "\nb: [[[[[[[[[[*d]]]]]]]]]]\n");
	parsed *p = parse(wsr_buf_str(&b));
	expect_error(p, 2, 14, "nested deeper than 64 levels");
	done(p);
	wsr_buf_free(&b);
}

static char *scalar_doc(size_t n)
{
	char *s = malloc(n + 8);
	memcpy(s, "k: ", 3);
	memset(s + 3, 'a', n);
	strcpy(s + 3 + n, "\n");
	return s;
}

static void test_scalar_boundary(void **st)
{
	(void)st;
	char *at = scalar_doc(WSR_YAML_MAX_SCALAR), *past = scalar_doc(WSR_YAML_MAX_SCALAR + 1);
	parsed *p = parse(at);
	assert_int_equal(p->rc, 0);
	assert_int_equal(wsr_node_get(p->f.docs[0].root, "k")->len, WSR_YAML_MAX_SCALAR);
	done(p);
	p = parse(past);
	expect_error(p, 1, 4, "scalar is longer than 1048576 bytes");
	done(p);
	free(at);
	free(past);
}

/* A flow list holding n-1 scalars: n nodes in all. */
static char *nodes_doc(size_t n)
{
	char *s = malloc(2 * n + 4);
	size_t k = 0;
	s[k++] = '[';
	for (size_t i = 0; i + 1 < n; i++) {
		s[k++] = '1';
		s[k++] = ',';
	}
	s[k - 1] = ']';
	s[k++] = '\n';
	s[k] = '\0';
	return s;
}

static void test_nodes_boundary(void **st)
{
	(void)st;
	char *at = nodes_doc(WSR_YAML_MAX_NODES), *past = nodes_doc(WSR_YAML_MAX_NODES + 1);
	parsed *p = parse(at);
	assert_int_equal(p->rc, 0);
	assert_int_equal(p->f.docs[0].root->n, WSR_YAML_MAX_NODES - 1);
	done(p);
	p = parse(past);
	expect_error(p, 1, 2 * WSR_YAML_MAX_NODES, "more than 2000000 nodes");
	done(p);
	free(at);
	free(past);
}

static void test_core_schema_typing(void **st)
{
	(void)st;
	expect_json("a:\nb: ~\n", "{\"a\":null,\"b\":null}");
	expect_json("[~, null, true, False, 0x1f, 0o17, -12, +3, 1.5, 1e3, .5, 1.30, yes, off, "
		    "\"1\", '2', 1.2.3]",
		    "[null,null,true,false,31,15,-12,3,1.5,1000,0.5,1.3,\"yes\",\"off\",\"1\","
		    "\"2\",\"1.2.3\"]");
	expect_json("!!str 12", "\"12\"");
	expect_json("{a: {b: [x]}}", "{\"a\":{\"b\":[\"x\"]}}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_positions),
	    cmocka_unit_test(test_columns_count_characters),
	    cmocka_unit_test(test_documents),
	    cmocka_unit_test(test_invalid_yaml),
	    cmocka_unit_test(test_documents_before_an_error_are_kept),
	    cmocka_unit_test(test_duplicate_key),
	    cmocka_unit_test(test_duplicate_key_in_large_map),
	    cmocka_unit_test(test_tab_indentation),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_refused_keys),
	    cmocka_unit_test(test_aliases_share_the_anchor),
	    cmocka_unit_test(test_anchors_end_with_their_document),
	    cmocka_unit_test(test_unknown_alias_anywhere),
	    cmocka_unit_test(test_alias_limit_boundary),
	    cmocka_unit_test(test_alias_bomb_is_fast),
	    cmocka_unit_test(test_depth_boundary),
	    cmocka_unit_test(test_depth_through_an_alias),
	    cmocka_unit_test(test_scalar_boundary),
	    cmocka_unit_test(test_nodes_boundary),
	    cmocka_unit_test(test_core_schema_typing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
