/* test_apply: the scheduler of reconciler/apply.c on its own — how it
 * starts and ends its workers — without a platform behind it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconciler/apply.h"

/* Runs that must all return: `wsr watch` applies an empty plan on every
 * interval, so a lost worker exit once in thousands of runs is a daemon
 * that stops for good (it did, in CI: a 300 ms interval, minutes in). */
#define EMPTY_RUNS 4000
/* Many workers a run: each exits at once, each exit a chance to lose. */
#define EMPTY_WORKERS 32
/* How long the runs may take before the test calls it a hang. */
#define EMPTY_DEADLINE_S 60

/* Under memcheck or ThreadSanitizer (WSR_TEST_UNTIMED=1) a thread costs
 * far more: a two-hundredth of the runs (there they check memory and
 * races, not the odds of a lost exit), with ten times the time. */
static int untimed(void)
{
	const char *v = getenv("WSR_TEST_UNTIMED");
	return v && strcmp(v, "1") == 0;
}

static void *empty_runs(void *arg)
{
	int *bad = arg;
	int runs = untimed() ? EMPTY_RUNS / 200 : EMPTY_RUNS;
	for (int i = 0; i < runs; i++) {
		wsr_plan p = {0};
		wsr_apply_opts o = {.parallelism = EMPTY_WORKERS};
		wsr_apply_result res;
		wsr_diag diag = WSR_DIAG_INIT;
		if (wsr_apply_run(&res, NULL, &p, NULL, &o, &diag) != 0 || res.succeeded ||
		    res.failed || res.skipped)
			(*bad)++;
		wsr_diag_free(&diag);
	}
	return NULL;
}

static void an_empty_plan_always_returns(void **state)
{
	(void)state;
	int bad = 0;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, empty_runs, &bad), 0);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	int limit = untimed() ? EMPTY_DEADLINE_S * 10 : EMPTY_DEADLINE_S;
	until.tv_sec += limit;
	if (pthread_timedjoin_np(t, NULL, &until) == ETIMEDOUT)
		fail_msg("wsr_apply_run did not return within %d s: a worker's exit was lost",
			 limit);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(an_empty_plan_always_returns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
