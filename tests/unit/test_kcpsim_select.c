/* test_kcpsim_select: label selectors on lists of the kcp emulator
 * (docs/api/kcp.md, "Selectors"): equality- and set-based requirements as
 * Kubernetes matches them, bounded terms and values at their limits, and a
 * malformed selector refused with 400 and Kubernetes' kind of message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kcpsim_fixture.h"
#include "sim/kcp/selector.h"

/* The names root's list shows for selector, space-separated ("" none), or
 * the status when it is not 200 ("400: message"). */
static void names(wsr_kcpsim *k, const char *selector, char *out, size_t size)
{
	cJSON *v, *it;
	kf_rq o = {.q = {"labelSelector", selector}};
	int rc = kf_req(k, "GET", KF_WS("root"), NULL, &o, &v);
	out[0] = '\0';
	if (rc != 200)
		snprintf(out, size, "%d: %s", rc, kf_message(v));
	else
		cJSON_ArrayForEach(it, wsr_json_arr(v, "items"))
		{
			size_t n = strlen(out);
			snprintf(out + n, size - n, "%s%s", n ? " " : "",
				 wsr_json_str(wsr_json_obj(it, "metadata"), "name"));
		}
	cJSON_Delete(v);
}

static wsr_kcpsim *labelled(void)
{
	wsr_kcpsim *k = kf_open_seed("maxPageSize: 500");
	kf_create_ok(k, "root", "eu1", NULL, "{\"region\":\"eu\",\"tier\":\"1\"}");
	kf_create_ok(k, "root", "ap1", NULL, "{\"region\":\"ap\",\"tier\":\"2\"}");
	kf_create_ok(k, "root", "us1", NULL, "{\"region\":\"us\",\"tier\":\"10\"}");
	kf_create_ok(k, "root", "bare", NULL, NULL); /* and the seed's users */
	return k;
}

static void requirements_match_as_kubernetes_matches(void **state)
{
	(void)state;
	wsr_kcpsim *k = labelled();
	char got[512];
	const char *cases[][2] = {
	    {"region in (eu,ap)", "ap1 eu1"},
	    {"region in (eu, ap )", "ap1 eu1"},
	    {"region notin (eu,ap)", "bare us1 users"},
	    {"region", "ap1 eu1 us1"},
	    {"!region", "bare users"},
	    {"region=eu", "eu1"},
	    {"region==eu", "eu1"},
	    {"region!=eu", "ap1 bare us1 users"},
	    {"region in (eu,ap,us),tier notin (1)", "ap1 us1"},
	    {"region,!missing", "ap1 eu1 us1"},
	    {"tier>1", "ap1 us1"},
	    {"tier<2", "eu1"},
	    {"region in (nowhere)", ""},
	    {"", "ap1 bare eu1 us1 users"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		names(k, cases[i][0], got, sizeof(got));
		if (strcmp(got, cases[i][1]) != 0)
			fail_msg("-l '%s': got \"%s\", expected \"%s\"", cases[i][0], got,
				 cases[i][1]);
	}
	wsr_kcpsim_free(k);
}

static void malformed_selectors_are_400(void **state)
{
	(void)state;
	wsr_kcpsim *k = labelled();
	char got[512];
	const char *cases[][2] = {
	    {"region in (eu", "400: unable to parse requirement: found '', expected: ',' or ')'"},
	    {"region in eu", "400: unable to parse requirement: found 'eu', expected: '('"},
	    {"region ~ eu", "400: unable to parse requirement: found '~', expected: in, notin"},
	    {"region in ()", "400: unable to parse requirement: for 'in', 'notin' operators, "
			     "values set can't be empty"},
	    {"a,", "400: found '', expected: identifier after ','"},
	    {",a", "400: found ',', expected: !, identifier, or 'end of string'"},
	    {"a b", "400: unable to parse requirement: found 'b', expected: in, notin"},
	    {"(a)", "400: found '(', expected: !, identifier, or 'end of string'"},
	    {"!", "400: unable to parse requirement: found '', expected: identifier"},
	    {"region=eu)", "400: found ')', expected: ',' or 'end of string'"},
	    {"-bad=1", "400: unable to parse requirement: key: Invalid value: \"-bad\""},
	    {"region=e u", "400: found 'u', expected: ',' or 'end of string'"},
	    {"region in (-eu)", "400: unable to parse requirement: values[0][region]: Invalid "
				"value: \"-eu\""},
	    {"tier>one", "400: unable to parse requirement: values[0][tier]: Invalid value: "
			 "\"one\": for 'Gt', 'Lt' operators, the value must be an integer"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		names(k, cases[i][0], got, sizeof(got));
		if (strncmp(got, cases[i][1], strlen(cases[i][1])) != 0)
			fail_msg("-l '%s': got \"%s\", expected \"%s...\"", cases[i][0], got,
				 cases[i][1]);
	}
	wsr_kcpsim_free(k);
}

static void terms_values_and_length_are_bounded(void **state)
{
	(void)state;
	wsr_kcpsim *k = labelled();
	char got[512];
	wsr_buf b = WSR_BUF_INIT;
	/* WSR_KCPSIM_SELECTOR_VALUES values, then one more */
	wsr_buf_puts(&b, "region in (eu");
	for (int i = 1; i < WSR_KCPSIM_SELECTOR_VALUES; i++)
		wsr_buf_printf(&b, ",v%d", i);
	wsr_buf_puts(&b, ")");
	names(k, b.data, got, sizeof(got));
	assert_string_equal(got, "eu1");
	b.len--;
	wsr_buf_puts(&b, ",one-more)");
	names(k, b.data, got, sizeof(got));
	assert_non_null(
	    strstr(got, "400: unable to parse requirement: values[16][region]: Too many"));
	/* the same with an empty value as the extra one */
	wsr_buf_clear(&b);
	wsr_buf_puts(&b, "region in (eu");
	for (int i = 1; i < WSR_KCPSIM_SELECTOR_VALUES; i++)
		wsr_buf_printf(&b, ",v%d", i);
	wsr_buf_puts(&b, ",)");
	names(k, b.data, got, sizeof(got));
	assert_int_equal(strncmp(got, "400:", 4), 0);
	/* WSR_KCPSIM_SELECTOR_TERMS requirements, then one more */
	wsr_buf_clear(&b);
	for (int i = 0; i < WSR_KCPSIM_SELECTOR_TERMS; i++)
		wsr_buf_printf(&b, "%sregion", i ? "," : "");
	names(k, b.data, got, sizeof(got));
	assert_string_equal(got, "ap1 eu1 us1");
	wsr_buf_puts(&b, ",tier");
	names(k, b.data, got, sizeof(got));
	assert_string_equal(got, "400: labelSelector has more than 16 requirements");
	/* WSR_KCPSIM_SELECTOR_LEN bytes, then one more */
	wsr_buf_clear(&b);
	wsr_buf_puts(&b, "region");
	while (b.len < WSR_KCPSIM_SELECTOR_LEN)
		wsr_buf_putc(&b, ' ');
	names(k, b.data, got, sizeof(got));
	assert_string_equal(got, "ap1 eu1 us1");
	wsr_buf_putc(&b, ' ');
	names(k, b.data, got, sizeof(got));
	assert_string_equal(got, "400: labelSelector is longer than 1024 bytes");
	wsr_buf_free(&b);
	wsr_kcpsim_free(k);
}

static void a_copied_selector_matches_alone(void **state)
{
	(void)state;
	wsr_kcpsim_selector a, b;
	char why[WSR_KCPSIM_SELECTOR_WHY];
	assert_int_equal(wsr_kcpsim_selector_parse(&a, "region in (eu,ap),!x", NULL, why), 0);
	wsr_kcpsim_selector_copy(&b, &a);
	memset(&a, 'z', sizeof(a)); /* the copy must not point into the original */
	cJSON *eu = cJSON_Parse("{\"region\":\"eu\"}"), *us = cJSON_Parse("{\"region\":\"us\"}");
	assert_true(wsr_kcpsim_selector_match(&b, "n", eu));
	assert_false(wsr_kcpsim_selector_match(&b, "n", us));
	cJSON_Delete(eu);
	cJSON_Delete(us);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(requirements_match_as_kubernetes_matches),
	    cmocka_unit_test(malformed_selectors_are_400),
	    cmocka_unit_test(terms_values_and_length_are_bounded),
	    cmocka_unit_test(a_copied_selector_matches_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
