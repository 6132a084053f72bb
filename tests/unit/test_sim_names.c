/* test_sim_names: the emulator's name rule and list cursors, at their
 * boundaries (63 characters, cursor key length, bytes a cursor may hold). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/err.h"
#include "sim/loopback/names.h"

static void expect_sanitized(const char *in, const char *want)
{
	char out[WSR_LBSIM_NAME_MAX + 1];
	wsr_lbsim_name_sanitize(out, in);
	assert_string_equal(out, want);
}

static void sanitize_rule(void **state)
{
	(void)state;
	expect_sanitized("Payments Prod!", "payments-prod");
	expect_sanitized("--a__b--", "a-b");
	expect_sanitized("a...b", "a-b");
	expect_sanitized("!!!", "");
	expect_sanitized("", "");
	expect_sanitized("\xc3\x84rger", "rger"); /* each byte of a non-ASCII letter becomes '-' */
	expect_sanitized("web-01", "web-01");
}

static void sanitize_cuts_at_63(void **state)
{
	(void)state;
	char in[200], want[64];
	memset(in, 'a', 70);
	in[70] = '\0';
	memset(want, 'a', 63);
	want[63] = '\0';
	expect_sanitized(in, want); /* 70 -> 63 */
	in[63] = '\0';
	expect_sanitized(in, want); /* exactly 63 stays */
	memset(in, 'a', 62);
	strcpy(in + 62, "-b");
	want[62] = '\0';
	expect_sanitized(in, want); /* cut leaves a trailing '-', removed again */
}

static void valid_names(void **state)
{
	(void)state;
	char n[70];
	assert_true(wsr_lbsim_name_valid("a"));
	assert_true(wsr_lbsim_name_valid("web-01"));
	assert_false(wsr_lbsim_name_valid(""));
	assert_false(wsr_lbsim_name_valid("Web"));
	assert_false(wsr_lbsim_name_valid("-web"));
	memset(n, 'a', 63);
	n[63] = '\0';
	assert_true(wsr_lbsim_name_valid(n));
	n[63] = 'a';
	n[64] = '\0';
	assert_false(wsr_lbsim_name_valid(n));
}

static void cursor_round_trip(void **state)
{
	(void)state;
	char c[WSR_LBSIM_CURSOR_MAX + 1], k[WSR_LBSIM_CURSOR_KEY_MAX + 2];
	assert_int_equal(wsr_lbsim_cursor_encode(c, "payments-prod"), 0);
	assert_int_equal(wsr_lbsim_cursor_decode(k, c), 0);
	assert_string_equal(k, "payments-prod");
	assert_int_equal(wsr_lbsim_cursor_encode(c, "1.30.2"), 0);
	assert_int_equal(wsr_lbsim_cursor_decode(k, c), 0);
	assert_string_equal(k, "1.30.2");
}

static void cursor_key_limit(void **state)
{
	(void)state;
	char c[WSR_LBSIM_CURSOR_MAX + 1], k[WSR_LBSIM_CURSOR_KEY_MAX + 2];
	memset(k, 'x', WSR_LBSIM_CURSOR_KEY_MAX);
	k[WSR_LBSIM_CURSOR_KEY_MAX] = '\0';
	assert_int_equal(wsr_lbsim_cursor_encode(c, k), 0);
	assert_int_equal(wsr_lbsim_cursor_decode(k, c), 0);
	assert_int_equal(strlen(k), WSR_LBSIM_CURSOR_KEY_MAX);
	memset(k, 'x', WSR_LBSIM_CURSOR_KEY_MAX + 1);
	k[WSR_LBSIM_CURSOR_KEY_MAX + 1] = '\0';
	assert_int_equal(wsr_lbsim_cursor_encode(c, k), WSR_ELIMIT);
}

static void cursor_refuses_forgeries(void **state)
{
	(void)state;
	char k[WSR_LBSIM_CURSOR_KEY_MAX + 2], longc[WSR_LBSIM_CURSOR_MAX + 3];
	assert_int_equal(wsr_lbsim_cursor_decode(k, ""), WSR_EINVAL);
	assert_int_equal(wsr_lbsim_cursor_decode(k, "616"), WSR_EINVAL); /* odd length */
	assert_int_equal(wsr_lbsim_cursor_decode(k, "zz"), WSR_EINVAL);	 /* not hex */
	assert_int_equal(wsr_lbsim_cursor_decode(k, "6A"), WSR_EINVAL); /* not what encode writes */
	assert_int_equal(wsr_lbsim_cursor_decode(k, "610a"), WSR_EINVAL); /* a control byte */
	assert_int_equal(wsr_lbsim_cursor_decode(k, "6120"), WSR_EINVAL); /* a space */
	memset(longc, '6', WSR_LBSIM_CURSOR_MAX + 2);
	longc[WSR_LBSIM_CURSOR_MAX + 2] = '\0';
	assert_int_equal(wsr_lbsim_cursor_decode(k, longc), WSR_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sanitize_rule),	cmocka_unit_test(sanitize_cuts_at_63),
	    cmocka_unit_test(valid_names),	cmocka_unit_test(cursor_round_trip),
	    cmocka_unit_test(cursor_key_limit), cmocka_unit_test(cursor_refuses_forgeries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
