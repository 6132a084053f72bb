/* test_cli: the flags the planning commands share, here --timeout: the
 * durations it takes and refuses at the boundaries, the deadline it makes
 * (and the default one when it is absent), and when a run reports having
 * stopped at it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/diag.h"
#include "reconciler/cli.h"

static int parse(wsr_cli *cli, const char *value)
{
	char *argv[] = {"plan", "--timeout", (char *)value, NULL};
	return wsr_cli_parse(cli, 3, argv, WSR_CLI_TIMEOUT, ""); /* errors go to stderr */
}

static void test_timeout_values(void **state)
{
	(void)state;
	wsr_cli cli;
	assert_int_equal(parse(&cli, "168h"), 0);
	assert_int_equal(cli.timeout_ms, WSR_CLI_TIMEOUT_MAX_MS);
	assert_int_equal(parse(&cli, "604800000ms"), 0); /* the boundary, in ms */
	assert_int_equal(parse(&cli, "604800001ms"), -1);
	assert_int_equal(parse(&cli, "169h"), -1);
	assert_int_equal(parse(&cli, "1ms"), 0);
	assert_int_equal(cli.timeout_ms, 1);
	assert_int_equal(parse(&cli, "0"), 0);
	assert_int_equal(cli.timeout_ms, 0);
	assert_int_equal(parse(&cli, "0s"), 0);
	assert_int_equal(cli.timeout_ms, 0);
	static const char *const bad[] = {"",	  "5",	 "m",	"-1s",	"+5s",	       " 5s",
					  "1.5s", "5 m", "10d", "5min", "1000000000s", "abc"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(&cli, bad[i]) != -1)
			fail_msg("--timeout '%s' was accepted", bad[i]);
}

static void test_deadline_from_flag_and_default(void **state)
{
	(void)state;
	wsr_cli cli;
	assert_int_equal(parse(&cli, "90s"), 0);
	int64_t now = wsr_clock_mono_ms();
	wsr_deadline d = wsr_cli_deadline(&cli, WSR_CLI_TIMEOUT_READ_MS);
	assert_int_equal(d.after_ms, 90000);
	assert_true(d.at_ms >= now + 90000 && d.at_ms <= now + 90100);
	assert_string_equal(d.hint, "--timeout 90s");
	/* absent: the command's default, said to be one */
	memset(&cli, 0, sizeof(cli));
	d = wsr_cli_deadline(&cli, WSR_CLI_TIMEOUT_READ_MS);
	assert_int_equal(d.after_ms, 5 * 60 * 1000);
	assert_string_equal(d.hint, "--timeout, 5m by default");
	/* apply's default is none, and 0 turns a default off */
	d = wsr_cli_deadline(&cli, 0);
	assert_int_equal(d.at_ms, 0);
	assert_int_equal(parse(&cli, "0"), 0);
	d = wsr_cli_deadline(&cli, WSR_CLI_TIMEOUT_READ_MS);
	assert_int_equal(d.at_ms, 0);
}

static void test_report_only_for_a_failed_run_past_its_deadline(void **state)
{
	(void)state;
	wsr_deadline d = {.at_ms = wsr_clock_mono_ms() - 1, .after_ms = 2000};
	snprintf(d.hint, sizeof(d.hint), "--timeout 2s");
	wsr_diag diag = WSR_DIAG_INIT;
	wsr_cli_deadline_report(&d, "plan", 0, &diag); /* it did not fail */
	assert_int_equal(diag.n, 0);
	wsr_cli_deadline_report(&d, "plan", 1, &diag);
	assert_int_equal(diag.n, 1);
	assert_string_equal(diag.v[0].summary,
			    "wsr plan stopped at its deadline after 2.0 s (--timeout 2s)");
	assert_non_null(strstr(diag.v[0].hint, "--timeout 0"));
	wsr_diag_free(&diag);
	d.at_ms = wsr_clock_mono_ms() + 60000; /* failed before its deadline */
	wsr_cli_deadline_report(&d, "plan", 1, &diag);
	assert_int_equal(diag.n, 0);
	d.at_ms = 0; /* none */
	wsr_cli_deadline_report(&d, "plan", 1, &diag);
	assert_int_equal(diag.n, 0);
	wsr_diag_free(&diag);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timeout_values),
	    cmocka_unit_test(test_deadline_from_flag_and_default),
	    cmocka_unit_test(test_report_only_for_a_failed_run_past_its_deadline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
