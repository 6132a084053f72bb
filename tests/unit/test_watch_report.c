/* Tests for watch_report (backoff, status, readiness) and the watch
 * loop's duration parsing: what an operator of `wsr watch` reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "reconciler/run.h"
#include "reconciler/watch.h"
#include "reconciler/watch_report.h"

static void durations(void **state)
{
	(void)state;
	int64_t ms = -1;
	assert_int_equal(wsr_clock_duration(&ms, "250ms"), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(wsr_clock_duration(&ms, "30s"), 0);
	assert_int_equal(ms, 30000);
	assert_int_equal(wsr_clock_duration(&ms, "5m"), 0);
	assert_int_equal(ms, 300000);
	assert_int_equal(wsr_clock_duration(&ms, "999999999h"), 0);
	assert_int_equal(ms, 999999999LL * 3600000);
	const char *bad[] = {"",    "5",   "m",	  "-1s", "1.5s",  "5 m", "5min", "1000000000s",
			     "1sx", "+5s", " 5s", "-0s", "0x10s", NULL};
	for (int i = 0; bad[i]; i++)
		assert_int_equal(wsr_clock_duration(&ms, bad[i]), WSR_EINVAL);
	assert_int_equal(wsr_clock_duration(&ms, NULL), WSR_EINVAL);
}

/* A plan item changing address with one update. */
static wsr_plan_item *item(const char *address)
{
	wsr_plan_item *it = calloc(1, sizeof(*it));
	it->change = calloc(1, sizeof(*it->change));
	it->change->address = strdup(address);
	it->change->actions[0] = WSR_ACT_UPDATE;
	it->change->nactions = 1;
	return it;
}

static void item_free(wsr_plan_item *it)
{
	free(it->change->address);
	free(it->change);
	free(it);
}

static void backoff_doubles_up_to_max_and_clears(void **state)
{
	(void)state;
	wsr_report r;
	assert_int_equal(wsr_report_init(&r, 1, "dir", "specs", NULL, NULL), 0);
	wsr_plan_item *a = item("loopback/acme/a"), *b = item("loopback/acme/b");
	const int64_t t = 1000000;
	assert_int_equal(wsr_report_retry_at(&r, "loopback/acme/a"), 0);
	int64_t want[] = {1000, 2000, 4000, 5000, 5000};
	for (int i = 0; i < 5; i++) {
		wsr_report_change(&r, a, WSR_EAPI, "quota exceeded", 1000, 5000, t);
		assert_int_equal(wsr_report_retry_at(&r, "loopback/acme/a"), t + want[i]);
	}
	/* another workspace's failure is its own, and the earliest retry is due first */
	wsr_report_change(&r, b, WSR_EAPI, NULL, 1000, 5000, t);
	assert_int_equal(wsr_report_retry_at(&r, "loopback/acme/b"), t + 1000);
	assert_int_equal(wsr_report_next_due(&r), t + 1000);
	/* a success forgets the failures */
	wsr_report_change(&r, a, 0, NULL, 1000, 5000, t + 6000);
	assert_int_equal(wsr_report_retry_at(&r, "loopback/acme/a"), 0);
	wsr_report_change(&r, a, WSR_EAPI, "again", 1000, 5000, t + 7000);
	assert_int_equal(wsr_report_retry_at(&r, "loopback/acme/a"), t + 8000);
	item_free(a);
	item_free(b);
	wsr_report_free(&r);
}

static void status_and_readiness(void **state)
{
	(void)state;
	wsr_report r;
	assert_int_equal(wsr_report_init(&r, 1, "git", "file:///srv/specs.git", "main", "prod"), 0);
	assert_non_null(wsr_report_not_ready(&r));
	assert_non_null(strstr(wsr_report_not_ready(&r), "no reconcile"));
	wsr_report_source(&r, NULL, "reference 'main' not found");
	assert_non_null(strstr(wsr_report_not_ready(&r), "source unreachable"));
	wsr_report_source(&r, "0123456789abcdef0123456789abcdef01234567", NULL);
	wsr_report_start(&r);
	wsr_report_reconcile(&r, "error", 0.5, r.revision);
	assert_non_null(strstr(wsr_report_not_ready(&r), "failed to plan"));
	wsr_report_reconcile(&r, "failed", 0.5, r.revision);
	assert_null(wsr_report_not_ready(&r)); /* it ran through; one workspace failing */
	char *s = wsr_report_status(&r);
	cJSON *o = cJSON_Parse(s);
	assert_non_null(o);
	assert_string_equal(cJSON_GetObjectItem(o, "format")->valuestring, "wsr.status/v1");
	cJSON *src = cJSON_GetObjectItem(o, "source");
	assert_string_equal(cJSON_GetObjectItem(src, "type")->valuestring, "git");
	assert_string_equal(cJSON_GetObjectItem(src, "ref")->valuestring, "main");
	assert_string_equal(cJSON_GetObjectItem(src, "revision")->valuestring,
			    "0123456789abcdef0123456789abcdef01234567");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(src, "error")));
	cJSON *rec = cJSON_GetObjectItem(o, "reconcile");
	assert_int_equal(cJSON_GetObjectItem(rec, "count")->valueint, 2);
	assert_string_equal(cJSON_GetObjectItem(rec, "lastResult")->valuestring, "failed");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(rec, "running")));
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(o, "workspaces")));
	cJSON_Delete(o);
	free(s);
	wsr_report_free(&r);
}

/* The status of the workspaces of one reconcile whose plan has two items:
 * one the platform shows failed (its repair held for a backoff), one kcp
 * reports Unavailable (refused: no action). */
static void failed_and_broken_workspaces_need_repair(void **state)
{
	(void)state;
	wsr_report r;
	assert_int_equal(wsr_report_init(&r, 1, "dir", "specs", NULL, NULL), 0);
	wsr_plan p = {0};
	wsr_plan_item items[2] = {{0}};
	wsr_resource *obs[2] = {
	    wsr_resource_new("loopback/acme/f", "loopback", "loopback.wsr.dev/v1/Workspace", "f"),
	    wsr_resource_new("kcp/root:u", "kcp", "tenancy.kcp.io/v1alpha1/Workspace", "u")};
	obs[0]->health = WSR_HEALTH_REPLACE;
	obs[0]->health_why = strdup("the platform shows the workspace failed");
	obs[1]->health = WSR_HEALTH_BROKEN;
	obs[1]->health_why = strdup("kcp reports the workspace Unavailable");
	for (int i = 0; i < 2; i++) {
		items[i].change = calloc(1, sizeof(*items[i].change));
		items[i].change->address = strdup(obs[i]->address);
		items[i].change->observed = obs[i];
	}
	items[0].change->actions[0] = WSR_ACT_DELETE;
	items[0].change->actions[1] = WSR_ACT_CREATE;
	items[0].change->nactions = 2;
	items[0].hold = strdup("backing off after a failure");
	p.items = items;
	p.n = 2;
	wsr_run run = {0};
	run.plan = &p;
	run.state = wsr_state_new();
	wsr_diag d = WSR_DIAG_INIT;
	wsr_report_outcome(&r, &run, 0, NULL, &d);
	char *s = wsr_report_status(&r);
	cJSON *o = cJSON_Parse(s), *ws = cJSON_GetObjectItem(o, "workspaces");
	assert_int_equal(cJSON_GetArraySize(ws), 2);
	cJSON *f = cJSON_GetArrayItem(ws, 0), *u = cJSON_GetArrayItem(ws, 1);
	assert_string_equal(cJSON_GetObjectItem(f, "state")->valuestring, "needs-repair");
	assert_string_equal(cJSON_GetObjectItem(f, "reason")->valuestring,
			    "the platform shows the workspace failed; backing off after a failure");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f, "pending")), 2);
	assert_string_equal(cJSON_GetObjectItem(u, "state")->valuestring, "needs-repair");
	assert_string_equal(cJSON_GetObjectItem(u, "reason")->valuestring,
			    "kcp reports the workspace Unavailable");
	cJSON_Delete(o);
	free(s);
	/* the held repair still counts as held by its backoff */
	char *m = wsr_metrics_render(r.metrics);
	assert_non_null(strstr(m, "wsr_held_changes{reason=\"backoff\"} 1\n"));
	free(m);
	/* once the repair ran through, it is in sync */
	int rcs[2] = {0, 1};
	wsr_report_outcome(&r, &run, 0, rcs, &d);
	s = wsr_report_status(&r);
	o = cJSON_Parse(s);
	ws = cJSON_GetObjectItem(o, "workspaces");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(ws, 0), "state")->valuestring,
			    "in-sync");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(ws, 1), "state")->valuestring,
			    "needs-repair");
	cJSON_Delete(o);
	free(s);
	free(items[0].hold);
	for (int i = 0; i < 2; i++) {
		free(items[i].change->address);
		free(items[i].change);
		wsr_resource_free(obs[i]);
	}
	wsr_state_free(run.state);
	wsr_diag_free(&d);
	wsr_report_free(&r);
}

int main(void)
{
	/* events go to stderr with cmocka's own summary: silencing stderr hid
	 * the summary, so tests/run.sh counted these tests as none */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(durations),
	    cmocka_unit_test(backoff_doubles_up_to_max_and_clears),
	    cmocka_unit_test(status_and_readiness),
	    cmocka_unit_test(failed_and_broken_workspaces_need_repair),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
