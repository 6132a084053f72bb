/* Unit tests for the small lib/ modules: hmap, diag, json, buf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/diag.h"
#include "lib/err.h"
#include "lib/hmap.h"
#include "lib/json.h"
#include "lib/net.h"
#include "lib/yaml.h"
#include "lib/utf8.h"

/* Every time accepted is one wsr_time_format writes back the same; a time
 * that does not exist is refused, not moved (found by fuzz_parse:
 * 9999-12-31T23:59:60Z became the year 10000, unreadable once written). */
static void test_time_parse_only_what_exists(void **st)
{
	(void)st;
	static const char *const ok[] = {"2026-11-21T09:15:00Z", "1970-01-01T00:00:00Z",
					 "1969-12-31T23:59:59Z", "2024-02-29T12:00:00Z",
					 "9999-12-31T23:59:59Z"};
	static const char *const bad[] = {"9999-12-31T23:59:60Z",
					  "2026-02-30T00:00:00Z",
					  "2025-02-29T00:00:00Z",
					  "2026-04-31T00:00:00Z",
					  "2026-11-21T09:15:61Z",
					  "2026-11-21T24:00:00Z",
					  "2026-11-21T09:15:00+01:00",
					  "2026-11-21T09:15:00Z ",
					  "",
					  "yesterday"};
	char buf[40];
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t ms = -1;
		assert_int_equal(wsr_time_parse(&ms, ok[i]), 0);
		assert_string_equal(wsr_time_format(ms, buf, sizeof(buf)), ok[i]);
	}
	assert_int_equal(wsr_time_parse(&(int64_t){0}, "1970-01-01T00:00:01Z"), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ms = 42;
		assert_int_equal(wsr_time_parse(&ms, bad[i]), WSR_EINVAL);
		assert_int_equal(ms, 42); /* untouched */
	}
	assert_int_equal(wsr_time_parse(&(int64_t){0}, NULL), WSR_EINVAL);
}

static void test_hmap_many_and_tombstones(void **st)
{
	(void)st;
	enum { N = 10000 };
	static char keys[N][16];
	wsr_hmap m = WSR_HMAP_INIT;
	for (int i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		assert_int_equal(wsr_hmap_put(&m, keys[i], keys[i]), 0);
	}
	assert_int_equal(m.n, N);
	for (int i = 0; i < N; i += 2)
		assert_ptr_equal(wsr_hmap_del(&m, keys[i]), keys[i]);
	assert_int_equal(m.n, N / 2);
	for (int i = 0; i < N; i++)
		assert_ptr_equal(wsr_hmap_get(&m, keys[i]), i % 2 ? keys[i] : NULL);
	/* reinserting over tombstones keeps every key findable */
	for (int i = 0; i < N; i += 2)
		assert_int_equal(wsr_hmap_put(&m, keys[i], keys[i]), 0);
	for (int i = 0; i < N; i++)
		assert_ptr_equal(wsr_hmap_get(&m, keys[i]), keys[i]);
	assert_null(wsr_hmap_get(&m, "absent"));
	wsr_hmap_free(&m);
}

static void test_diag_format_sort_and_cap(void **st)
{
	(void)st;
	wsr_diag d;
	wsr_diag_init(&d);
	wsr_pos b = {"b.yaml", 2, 3}, a = {"a.yaml", 9, 1};
	wsr_diag_error(&d, &b, "second %d", 2);
	wsr_diag_add(&d, WSR_SEV_WARNING, &a, NULL, "the detail", "the hint", "first");
	wsr_diag_add(&d, WSR_SEV_ERROR, NULL, "loopback/acme/x", NULL, NULL, "refused");
	wsr_diag_sort(&d);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	wsr_diag_print(&d, f, 0);
	fclose(f);
	assert_string_equal(text, "a.yaml:9:1: warning: first\n  the detail\n  hint: the hint\n"
				  "b.yaml:2:3: error: second 2\n"
				  "loopback/acme/x: error: refused\n");
	free(text);
	assert_int_equal(wsr_diag_errors(&d), 2);
	cJSON *j = wsr_diag_to_json(&d);
	assert_string_equal(cJSON_GetArrayItem(j, 1)->child->next->valuestring, "second 2");
	assert_string_equal(wsr_json_str(cJSON_GetArrayItem(j, 1), "source"), "b.yaml:2:3");
	assert_string_equal(wsr_json_str(cJSON_GetArrayItem(j, 2), "address"), "loopback/acme/x");
	cJSON_Delete(j);
	/* past WSR_DIAG_MAX entries are counted, not kept */
	for (int i = 0; i < WSR_DIAG_MAX + 10; i++)
		wsr_diag_error(&d, NULL, "flood");
	assert_int_equal(d.n, WSR_DIAG_MAX);
	assert_int_equal(wsr_diag_errors(&d), WSR_DIAG_MAX + 12);
	wsr_diag_free(&d);
}

/* wsr_diag_short of s, checked to be valid UTF-8; caller frees. */
static char *shorten(const char *s)
{
	char buf[WSR_DIAG_SHORT_SIZE];
	wsr_diag_short(buf, sizeof(buf), s);
	int line = 0, col = 0;
	assert_int_equal(wsr_utf8_check(buf, strlen(buf), &line, &col), 0);
	char *r = strdup(buf);
	assert_non_null(r);
	return r;
}

static char *repeat(char c, size_t n, const char *tail)
{
	char *s = malloc(n + strlen(tail) + 1);
	assert_non_null(s);
	memset(s, c, n);
	strcpy(s + n, tail);
	return s;
}

static void test_diag_short_cuts_at_the_limit(void **st)
{
	(void)st;
	enum { N = WSR_DIAG_ADDRESS_SHOW };
	/* at the limit: whole */
	char *at = repeat('a', N, ""), *r = shorten(at);
	assert_string_equal(r, at);
	free(r);
	/* one past: the limit's worth, then the length */
	char *past = repeat('a', N + 1, ""), *want = repeat('a', N, "\u2026(1029 bytes)");
	r = shorten(past);
	assert_string_equal(r, want);
	free(r);
	free(want);
	/* a character that would straddle the limit is left out whole */
	char *straddle = repeat('a', N - 1, "\xc3\xa9"), *fits = repeat('a', N - 2, "\xc3\xa9");
	r = shorten(straddle);
	want = repeat('a', N - 1, "\u2026(1029 bytes)");
	assert_string_equal(r, want);
	free(r);
	free(want);
	r = shorten(fits);
	assert_string_equal(r, fits);
	free(r);
	/* a buffer too small for the whole still ends in a NUL */
	char small[8];
	assert_string_equal(wsr_diag_short(small, sizeof(small), past), "aaaaaaa");
	assert_string_equal(wsr_diag_short(small, sizeof(small), NULL), "");
	free(at);
	free(past);
	free(straddle);
	free(fits);
}

static void test_diag_short_is_terminal_safe(void **st)
{
	(void)st;
	/* ESC, '\\', a C1 CSI (U+009B), a byte that is not UTF-8, DEL: escaped;
	 * printable UTF-8 kept */
	char *r = shorten("a\x1b[2Jb\\c\xc2\x9b"
			  "d\xff"
			  "e\x7f"
			  "f\xc3\xa9");
	assert_string_equal(r, "a\\x1b[2Jb\\x5cc\\xc2\\x9bd\\xffe\\x7ff\xc3\xa9");
	free(r);
	r = shorten("loopback/acme/web");
	assert_string_equal(r, "loopback/acme/web");
	free(r);
}

static void test_diag_renders_a_huge_address_short(void **st)
{
	(void)st;
	enum { BIG = 10 * 1024 * 1024 };
	char *huge = repeat('x', BIG, "");
	wsr_diag d;
	wsr_diag_init(&d);
	wsr_pos pos = {"spec.yaml", 1, 1};
	wsr_diag_add(&d, WSR_SEV_ERROR, NULL, huge, NULL, NULL, "refused");
	wsr_diag_add(&d, WSR_SEV_ERROR, &pos, huge, NULL, NULL, "refused too");
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	wsr_diag_print(&d, f, 0);
	fclose(f);
	assert_true(len < 64 * 1024);
	assert_non_null(strstr(text, "x\u2026(10485760 bytes): error: refused\n"));
	assert_non_null(strstr(text, "  resource: xxx"));
	free(text);
	cJSON *j = wsr_diag_to_json(&d);
	char *json = cJSON_PrintUnformatted(j);
	assert_true(strlen(json) < 64 * 1024);
	const char *a = wsr_json_str(cJSON_GetArrayItem(j, 0), "address");
	assert_int_equal(strlen(a), WSR_DIAG_ADDRESS_SHOW + strlen("\u2026(10485760 bytes)"));
	free(json);
	cJSON_Delete(j);
	/* the entry keeps it whole: callers match diagnostics to changes by it */
	assert_int_equal(strlen(d.v[0].address), BIG);
	wsr_diag_free(&d);
	free(huge);
}

static char *nested(int depth)
{
	wsr_buf b = WSR_BUF_INIT;
	for (int i = 0; i < depth; i++)
		wsr_buf_putc(&b, '[');
	for (int i = 0; i < depth; i++)
		wsr_buf_putc(&b, ']');
	return wsr_buf_detach(&b);
}

static void test_json_bounds(void **st)
{
	(void)st;
	cJSON *v;
	char *err;
	char *ok = nested(WSR_JSON_MAX_DEPTH), *deep = nested(WSR_JSON_MAX_DEPTH + 1);
	assert_int_equal(wsr_json_parse(&v, ok, strlen(ok), &err), 0);
	cJSON_Delete(v);
	assert_int_equal(wsr_json_parse(&v, deep, strlen(deep), &err), WSR_EINVAL);
	assert_non_null(strstr(err, "nested deeper"));
	free(err);
	free(ok);
	free(deep);
	const char *trailing = "{\"a\":1} x";
	assert_int_equal(wsr_json_parse(&v, trailing, strlen(trailing), &err), WSR_EINVAL);
	free(err);
	const char *brace_in_string = "{\"a\":\"[[[[\"}";
	assert_int_equal(wsr_json_parse(&v, brace_in_string, strlen(brace_in_string), &err), 0);
	assert_string_equal(wsr_json_str(v, "a"), "[[[[");
	assert_null(wsr_json_str(v, "missing"));
	assert_int_equal(wsr_json_bool(v, "a", 7), 7); /* wrong type: the default */
	cJSON_Delete(v);
}

/* A key repeated in any object, at any depth, is found; the same key in
 * two different objects is not a repeat (found by fuzz_planfile). */
static void test_json_repeated_key(void **st)
{
	(void)st;
	static const struct {
		const char *text, *key;
	} cases[] = {
	    {"{\"a\":1,\"b\":2}", NULL},
	    {"{\"a\":{\"x\":1},\"b\":{\"x\":1}}", NULL},
	    {"[{\"x\":1},{\"x\":2}]", NULL},
	    {"7", NULL},
	    {"{\"a\":1,\"a\":2}", "a"},
	    {"{\"p\":{\"c\":[{\"k\":1,\"d\":{\"z\":0,\"z\":0}}]}}", "z"},
	    {"[[{\"\":1,\"\":1}]]", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *v = NULL;
		assert_int_equal(wsr_json_parse(&v, cases[i].text, strlen(cases[i].text), NULL), 0);
		const char *got = wsr_json_repeated_key(v);
		if (cases[i].key)
			assert_string_equal(got, cases[i].key);
		else
			assert_null(got);
		cJSON_Delete(v);
	}
	assert_null(wsr_json_repeated_key(NULL));
	/* many keys in one object: found through the index, not a scan per key */
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_putc(&b, '{');
	for (int i = 0; i < 20000; i++)
		wsr_buf_printf(&b, "\"k%d\":0,", i);
	wsr_buf_puts(&b, "\"k19999\":1}");
	cJSON *v = NULL;
	assert_int_equal(wsr_json_parse(&v, b.data, b.len, NULL), 0);
	assert_string_equal(wsr_json_repeated_key(v), "k19999");
	cJSON_Delete(v);
	wsr_buf_free(&b);
}

static void test_json_set_path(void **st)
{
	(void)st;
	cJSON *root = cJSON_Parse("{\"a\":{\"b\":1},\"s\":\"x\"}");
	cJSON *seven = cJSON_CreateNumber(7);
	assert_int_equal(wsr_json_set_path(root, "a.b", seven), 0);
	assert_int_equal(wsr_json_path(root, "a.b")->valueint, 7);
	assert_int_equal(wsr_json_set_path(root, "n.m.o", seven), 0); /* objects made on the way */
	assert_int_equal(wsr_json_path(root, "n.m.o")->valueint, 7);
	assert_int_equal(wsr_json_set_path(root, "a.b", NULL), 0);
	assert_null(wsr_json_path(root, "a.b"));
	assert_int_equal(wsr_json_set_path(root, "z.y", NULL), 0); /* nothing to remove */
	assert_null(wsr_json_path(root, "z"));
	assert_int_equal(wsr_json_set_path(root, "s.t", seven), WSR_EINVAL); /* through a string */
	assert_int_equal(wsr_json_set_path(root, "a..b", seven), WSR_EINVAL);
	assert_int_equal(wsr_json_set_path(root, "", seven), WSR_EINVAL);
	cJSON_Delete(seven);
	cJSON_Delete(root);
}

/* rc of wsr_json_int_in over {"v": text}; *out is 77 when untouched. */
static int int_in(const char *text, int64_t min, int64_t max, int64_t *out)
{
	char *doc = wsr_strdupf("{\"v\":%s}", text);
	cJSON *v = NULL;
	char *err = NULL;
	assert_int_equal(wsr_json_parse(&v, doc, strlen(doc), &err), 0);
	*out = 77;
	int rc = wsr_json_int_in(v, "v", min, max, out);
	cJSON_Delete(v);
	free(doc);
	return rc;
}

/* Hostile numbers (1e30, -1, 2.5, infinity) are errors, never a cast:
 * the bounds are inclusive and the extremes of int64_t are reachable. */
/* What is shared prints the same, survives its own deletion and copies
 * into a value of its own; what differs (order, a number's last bit) is
 * never borrowed. */
static void test_json_share(void **st)
{
	(void)st;
	const char *want = "{\"a\":\"x\",\"m\":{\"k\":[1,2],\"s\":\"t\"},\"n\":{\"p\":1,\"q\":2},"
			   "\"f\":{\"v\":0.1},\"l\":[{\"z\":1},{\"z\":3}]}";
	const char *have =
	    "{\"a\":\"x\",\"m\":{\"k\":[1,2],\"s\":\"t\"},\"n\":{\"q\":2,\"p\":1},"
	    "\"f\":{\"v\":0.10000000000000002},\"l\":[{\"z\":1},{\"z\":2}],\"extra\":{}}";
	cJSON *from = cJSON_Parse(want), *v = cJSON_Parse(have);
	assert_non_null(from);
	assert_non_null(v);
	char *before = cJSON_PrintUnformatted(v);
	/* m (k with its two items, s) and l[0] (z) are shared: 4 + 1 nodes */
	assert_int_equal(wsr_json_share(v, from), 5);
	assert_true(cJSON_GetObjectItem(v, "m")->type & cJSON_IsReference);
	assert_true(cJSON_GetObjectItem(v, "a")->type & cJSON_IsReference);
	assert_false(cJSON_GetObjectItem(v, "n")->type & cJSON_IsReference); /* order differs */
	assert_false(cJSON_GetObjectItem(cJSON_GetObjectItem(v, "f"), "v")->type &
		     cJSON_IsReference);
	cJSON *l = cJSON_GetObjectItem(v, "l");
	assert_true(cJSON_GetArrayItem(l, 0)->type & cJSON_IsReference);
	assert_false(cJSON_GetArrayItem(l, 1)->type & cJSON_IsReference);
	char *after = cJSON_PrintUnformatted(v);
	assert_string_equal(after, before);
	/* a copy owns everything; sharing twice changes nothing */
	cJSON *copy = cJSON_Duplicate(v, 1);
	assert_false(cJSON_GetObjectItem(copy, "m")->type & cJSON_IsReference);
	assert_int_equal(wsr_json_share(v, from), 0);
	cJSON_Delete(v); /* leaves from's nodes alone (ASan would see a double free) */
	char *still = cJSON_PrintUnformatted(from);
	assert_string_equal(still, want);
	cJSON_Delete(from);
	char *c = cJSON_PrintUnformatted(copy);
	assert_string_equal(c, before);
	cJSON_Delete(copy);
	assert_int_equal(wsr_json_share(NULL, NULL), 0);
	free(before);
	free(after);
	free(still);
	free(c);
}

static void test_json_int_in_boundaries(void **st)
{
	(void)st;
	int64_t n;
	assert_int_equal(int_in("0", 0, 23, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(int_in("23", 0, 23, &n), 0);
	assert_int_equal(n, 23);
	assert_int_equal(int_in("23.0", 0, 23, &n), 0); /* a whole number written as a float */
	assert_int_equal(int_in("2.3e1", 0, 23, &n), 0);
	assert_int_equal(n, 23);
	static const char *const bad[] = {"24",	   "-1",     "2.5",   "-0.5", "1e30", "-1e30",
					  "1e400", "-1e400", "\"3\"", "true", "[]",   "{}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(int_in(bad[i], 0, 23, &n), WSR_EINVAL);
		assert_int_equal(n, 77);
	}
	assert_int_equal(int_in("null", 0, 23, &n), WSR_ENOTFOUND);
	assert_int_equal(n, 77);
	cJSON *o = cJSON_CreateObject();
	assert_int_equal(wsr_json_int_in(o, "v", 0, 1, &n), WSR_ENOTFOUND);
	assert_int_equal(wsr_json_int_in(NULL, "v", 0, 1, &n), WSR_ENOTFOUND);
	cJSON_Delete(o);
	/* int64_t's own edges: -2^63 converts, 2^63 (one past the top) does not */
	assert_int_equal(int_in("-9223372036854775808", INT64_MIN, INT64_MAX, &n), 0);
	assert_true(n == INT64_MIN);
	assert_int_equal(int_in("9223372036854775808", INT64_MIN, INT64_MAX, &n), WSR_EINVAL);
	assert_int_equal(int_in("-9223372036854777856", INT64_MIN, INT64_MAX, &n), WSR_EINVAL);
	assert_int_equal(int_in("9007199254740992", INT64_MIN, INT64_MAX, &n), 0);
	assert_true(n == 9007199254740992LL);
}

static void test_buf(void **st)
{
	(void)st;
	wsr_buf b = WSR_BUF_INIT;
	assert_string_equal(wsr_buf_str(&b), "");
	for (int i = 0; i < 1000; i++)
		wsr_buf_printf(&b, "%d,", i);
	assert_false(wsr_buf_failed(&b));
	assert_int_equal(strncmp(wsr_buf_str(&b), "0,1,2,", 6), 0);
	char *s = wsr_buf_detach(&b);
	assert_int_equal(strlen(s), 3890);
	free(s);
	assert_int_equal(b.len, 0);
}

static void test_net_parse_listen(void **state)
{
	(void)state;
	wsr_net_addr a;
	assert_int_equal(wsr_net_parse_listen(&a, "127.0.0.1:9464", 0), 0);
	assert_string_equal(a.host, "127.0.0.1");
	assert_false(a.ipv6);
	assert_true(wsr_net_is_loopback(&a));
	assert_int_equal(wsr_net_parse_listen(&a, "[::1]:0", 0), 0);
	assert_string_equal(a.host, "[::1]");
	assert_true(a.ipv6 && wsr_net_is_loopback(&a));
	assert_int_equal(wsr_net_parse_listen(&a, "localhost:65535", 0), 0);
	assert_string_equal(a.host, "127.0.0.1");
	/* an empty host: every interface, only where the caller allows it */
	assert_int_equal(wsr_net_parse_listen(&a, ":9464", 0), WSR_EINVAL);
	assert_int_equal(wsr_net_parse_listen(&a, ":9464", 1), 0);
	assert_false(wsr_net_is_loopback(&a));
	const char *bad[] = {
	    "127.0.0.1",     "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+1",
	    "127.0.0.1:80x", NULL};
	for (int i = 0; bad[i]; i++)
		assert_int_equal(wsr_net_parse_listen(&a, bad[i], 1), WSR_EINVAL);
	assert_int_equal(wsr_net_parse_listen(&a, NULL, 1), WSR_EINVAL);
	assert_int_equal(wsr_net_parse_listen(&a, "example.com:80", 1), WSR_ENOTFOUND);
	char longhost[200];
	memset(longhost, '1', sizeof(longhost));
	strcpy(longhost + 150, ":80");
	assert_int_equal(wsr_net_parse_listen(&a, longhost, 1), WSR_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_time_parse_only_what_exists),
	    cmocka_unit_test(test_hmap_many_and_tombstones),
	    cmocka_unit_test(test_diag_format_sort_and_cap),
	    cmocka_unit_test(test_diag_short_cuts_at_the_limit),
	    cmocka_unit_test(test_diag_short_is_terminal_safe),
	    cmocka_unit_test(test_diag_renders_a_huge_address_short),
	    cmocka_unit_test(test_json_bounds),
	    cmocka_unit_test(test_json_repeated_key),
	    cmocka_unit_test(test_json_set_path),
	    cmocka_unit_test(test_json_int_in_boundaries),
	    cmocka_unit_test(test_json_share),
	    cmocka_unit_test(test_buf),
	    cmocka_unit_test(test_net_parse_listen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
