/* Unit tests for reconciler/window.c: which maintenance window a Loopback
 * workspace is in or waits for (week boundaries, window edges, partial and
 * empty schedules, desired over observed over the platform defaults, the
 * priority hour), the label watch prints, and which plan items it holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/json.h"
#include "reconciler/plan.h"
#include "reconciler/window.h"

#define KIND "loopback.wsr.dev/v1/Workspace"

/* 2026-11-21 is a Saturday, 2026-11-22 a Sunday. */
static int64_t at(const char *rfc3339)
{
	int64_t ms = 0;
	assert_int_equal(wsr_time_parse(&ms, rfc3339), 0);
	return ms;
}

static cJSON *json(const char *text)
{
	cJSON *v = cJSON_Parse(text);
	assert_non_null(v);
	return v;
}

/* The window for the desired and observed specs (JSON text, or NULL) at
 * now: returns whether now is inside; *start is its start as RFC 3339. */
static int next(char start[32], const char *desired, const char *observed, int priority,
		int64_t now)
{
	cJSON *d = desired ? json(desired) : NULL, *o = observed ? json(observed) : NULL;
	int64_t ms = -1;
	int in = wsr_window_next(&ms, d, o, priority, now);
	wsr_time_format(ms, start, 32);
	cJSON_Delete(d);
	cJSON_Delete(o);
	return in;
}

static void test_week_boundary(void **st)
{
	(void)st;
	char s[32];
	/* Saturday 23:30, the only window Sunday 00:00: half an hour away */
	const char *sun0 = "{\"maintenance\":{\"schedule\":{\"0\":0}}}";
	assert_int_equal(next(s, sun0, NULL, 0, at("2026-11-21T23:30:00Z")), 0);
	assert_string_equal(s, "2026-11-22T00:00:00Z");
	/* a window on Saturday 23:00 is in progress at 23:30, until midnight */
	const char *sat23 = "{\"maintenance\":{\"schedule\":{\"6\":23}}}";
	assert_int_equal(next(s, sat23, NULL, 0, at("2026-11-21T23:30:00Z")), 1);
	assert_string_equal(s, "2026-11-21T23:00:00Z");
	assert_int_equal(next(s, sat23, NULL, 0, at("2026-11-22T00:00:00Z")), 0);
	assert_string_equal(s, "2026-11-28T23:00:00Z");
}

static void test_edges(void **st)
{
	(void)st;
	char s[32];
	const char *tue5 = "{\"maintenance\":{\"schedule\":{\"2\":5}}}";
	/* a millisecond before: waits */
	assert_int_equal(next(s, tue5, NULL, 0, at("2026-11-24T05:00:00Z") - 1), 0);
	assert_string_equal(s, "2026-11-24T05:00:00Z");
	/* at the start: inside */
	assert_int_equal(next(s, tue5, NULL, 0, at("2026-11-24T05:00:00Z")), 1);
	assert_string_equal(s, "2026-11-24T05:00:00Z");
	assert_int_equal(next(s, tue5, NULL, 0, at("2026-11-24T06:00:00Z") - 1), 1);
	/* the end is exclusive: at 06:00 the next is a week later */
	assert_int_equal(next(s, tue5, NULL, 0, at("2026-11-24T06:00:00Z")), 0);
	assert_string_equal(s, "2026-12-01T05:00:00Z");
}

static void test_partial_schedule(void **st)
{
	(void)st;
	char s[32];
	/* Monday 02 and Thursday 22 only: Tuesday to Wednesday have no window */
	const char *sched = "{\"maintenance\":{\"schedule\":{\"1\":2,\"4\":22}}}";
	assert_int_equal(next(s, sched, NULL, 0, at("2026-11-24T03:00:00Z")), 0);
	assert_string_equal(s, "2026-11-26T22:00:00Z");
	/* after Thursday's: Monday's, past the weekend */
	assert_int_equal(next(s, sched, NULL, 0, at("2026-11-26T23:00:00Z")), 0);
	assert_string_equal(s, "2026-11-30T02:00:00Z");
	/* at 03:00 on any day: no window, where the default schedule has one */
	assert_int_equal(next(s, sched, NULL, 0, at("2026-11-25T03:30:00Z")), 0);
	assert_string_equal(s, "2026-11-26T22:00:00Z");
}

static void test_defaults(void **st)
{
	(void)st;
	char s[32];
	/* no maintenance anywhere: every day 03:00 */
	assert_int_equal(next(s, "{\"type\":\"baremetal\"}", NULL, 0, at("2026-11-21T03:15:00Z")),
			 1);
	assert_string_equal(s, "2026-11-21T03:00:00Z");
	assert_int_equal(next(s, NULL, NULL, 0, at("2026-11-21T04:00:00Z")), 0);
	assert_string_equal(s, "2026-11-22T03:00:00Z");
	/* an empty schedule is the default one, not "never" */
	assert_int_equal(next(s, "{\"maintenance\":{\"schedule\":{}}}",
			      "{\"maintenance\":{\"schedule\":{\"1\":9}}}", 0,
			      at("2026-11-24T01:00:00Z")),
			 0);
	assert_string_equal(s, "2026-11-24T03:00:00Z");
	/* enabled: false keeps the window */
	assert_int_equal(next(s, "{\"maintenance\":{\"enabled\":false,\"schedule\":{\"3\":7}}}",
			      NULL, 0, at("2026-11-24T03:30:00Z")),
			 0);
	assert_string_equal(s, "2026-11-25T07:00:00Z");
	/* the priority hour: 04:00 every day */
	assert_int_equal(next(s, NULL, NULL, 1, at("2026-11-21T05:00:00Z")), 0);
	assert_string_equal(s, "2026-11-22T04:00:00Z");
}

static void test_desired_over_observed(void **st)
{
	(void)st;
	char s[32];
	const char *obs = "{\"maintenance\":{\"schedule\":{\"0\":1,\"1\":1,\"2\":1,\"3\":1,"
			  "\"4\":1,\"5\":1,\"6\":1},\"priorityHour\":20}}";
	/* the observed schedule when the spec has none */
	assert_int_equal(
	    next(s, "{\"maintenance\":{\"enabled\":true}}", obs, 0, at("2026-11-24T00:30:00Z")), 0);
	assert_string_equal(s, "2026-11-24T01:00:00Z");
	/* the spec's schedule wins, whole: no Tuesday 01:00 from the observed */
	assert_int_equal(next(s, "{\"maintenance\":{\"schedule\":{\"5\":12}}}", obs, 0,
			      at("2026-11-24T00:30:00Z")),
			 0);
	assert_string_equal(s, "2026-11-27T12:00:00Z");
	/* priorityHour is chosen on its own: observed's 20 while the spec has none */
	assert_int_equal(next(s, "{\"maintenance\":{\"schedule\":{\"5\":12}}}", obs, 1,
			      at("2026-11-24T00:30:00Z")),
			 0);
	assert_string_equal(s, "2026-11-24T20:00:00Z");
	assert_int_equal(
	    next(s, "{\"maintenance\":{\"priorityHour\":0}}", obs, 1, at("2026-11-24T00:30:00Z")),
	    1);
	assert_string_equal(s, "2026-11-24T00:00:00Z");
	/* a value no schema allows is no hour: the default is used */
	assert_int_equal(
	    next(s, "{\"maintenance\":{\"priorityHour\":24}}", NULL, 1, at("2026-11-24T00:30:00Z")),
	    0);
	assert_string_equal(s, "2026-11-24T04:00:00Z");
}

static void test_label(void **st)
{
	(void)st;
	char out[16];
	assert_string_equal(wsr_window_label(at("2026-11-24T03:00:00Z"), out, sizeof(out)),
			    "Tue 03:00 UTC");
	assert_string_equal(wsr_window_label(at("2026-11-22T23:45:00Z"), out, sizeof(out)),
			    "Sun 23:45 UTC");
	/* before the epoch: 1969-12-31 was a Wednesday */
	assert_string_equal(wsr_window_label(at("1969-12-31T22:00:00Z"), out, sizeof(out)),
			    "Wed 22:00 UTC");
	char small[4];
	assert_string_equal(wsr_window_label(0, small, sizeof(small)), "Thu");
}

/* A plan built by hand: one item per call of add(). Resources live in the
 * fixture's sets; the plan borrows them like wsr_plan_build's does. */
typedef struct fx {
	wsr_resource_set desired, observed;
	wsr_plan *plan;
} fx;

static int setup(void **st)
{
	fx *f = calloc(1, sizeof(*f));
	f->plan = calloc(1, sizeof(*f->plan));
	f->plan->items = calloc(8, sizeof(*f->plan->items));
	*st = f;
	return 0;
}

static int teardown(void **st)
{
	fx *f = *st;
	wsr_plan_free(f->plan);
	wsr_resource_set_free(&f->desired);
	wsr_resource_set_free(&f->observed);
	free(f);
	return 0;
}

static wsr_resource *res(wsr_resource_set *s, const char *provider, const char *addr,
			 const char *spec)
{
	wsr_resource *r = wsr_resource_new(addr, provider, KIND, strrchr(addr, '/') + 1);
	r->spec = json(spec);
	assert_int_equal(wsr_resource_set_add(s, r), 0);
	return r;
}

/* An item for addr with one action (UPGRADE when disruptive, else UPDATE). */
static wsr_plan_item *add(fx *f, const char *provider, const char *addr, const char *spec,
			  int disruptive)
{
	wsr_plan_item *it = &f->plan->items[f->plan->n++];
	wsr_change *c = calloc(1, sizeof(*c));
	c->address = strdup(addr);
	c->provider = strdup(provider);
	c->kind = strdup(KIND);
	c->actions[c->nactions++] = disruptive ? WSR_ACT_UPGRADE : WSR_ACT_UPDATE;
	c->disruptive = disruptive;
	c->desired = res(&f->desired, provider, addr, spec);
	c->observed = res(&f->observed, provider, addr, spec);
	it->change = c;
	return it;
}

#define TUE3 "{\"maintenance\":{\"schedule\":{\"2\":3}}}"

static void test_hold_outside_window(void **st)
{
	fx *f = *st;
	wsr_plan_item *it = add(f, "loopback", "loopback/acme/web", TUE3, 1);
	assert_int_equal(wsr_window_hold(f->plan, at("2026-11-21T09:15:00Z"), WSR_DISRUPT_WINDOW),
			 1);
	assert_non_null(it->hold);
	assert_string_equal(it->hold, "waiting for maintenance window (next: Tue 03:00 UTC)");
	assert_true(it->hold_until_ms == at("2026-11-24T03:00:00Z"));
	/* held already: left as it is, not counted again */
	assert_int_equal(wsr_window_hold(f->plan, at("2026-11-21T09:15:00Z"), WSR_DISRUPT_WINDOW),
			 0);
	assert_string_equal(it->hold, "waiting for maintenance window (next: Tue 03:00 UTC)");
}

static void test_no_hold_inside_window(void **st)
{
	fx *f = *st;
	wsr_plan_item *it = add(f, "loopback", "loopback/acme/web", TUE3, 1);
	assert_int_equal(wsr_window_hold(f->plan, at("2026-11-24T03:10:00Z"), WSR_DISRUPT_WINDOW),
			 0);
	assert_null(it->hold);
	assert_true(it->hold_until_ms == 0);
}

static void test_immediate(void **st)
{
	fx *f = *st;
	wsr_plan_item *now = add(f, "loopback", "loopback/acme/now",
				 "{\"maintenance\":{\"schedule\":{\"2\":3}},"
				 "\"lifecycle\":{\"disruptive\":\"immediate\"}}",
				 1);
	wsr_plan_item *dflt = add(f, "loopback", "loopback/acme/dflt", TUE3, 1);
	wsr_plan_item *win = add(f, "loopback", "loopback/acme/win",
				 "{\"maintenance\":{\"schedule\":{\"2\":3}},"
				 "\"lifecycle\":{\"disruptive\":\"window\"}}",
				 1);
	/* the spec's immediate beats the default window */
	assert_int_equal(wsr_window_hold(f->plan, at("2026-11-21T09:15:00Z"), WSR_DISRUPT_WINDOW),
			 2);
	assert_null(now->hold);
	assert_non_null(dflt->hold);
	assert_non_null(win->hold);
	/* with the default immediate only the spec that asks for the window waits */
	free(dflt->hold);
	free(win->hold);
	dflt->hold = win->hold = NULL;
	assert_int_equal(
	    wsr_window_hold(f->plan, at("2026-11-21T09:15:00Z"), WSR_DISRUPT_IMMEDIATE), 1);
	assert_null(now->hold);
	assert_null(dflt->hold);
	assert_string_equal(win->hold, "waiting for maintenance window (next: Tue 03:00 UTC)");
}

static void test_priority(void **st)
{
	fx *f = *st;
	wsr_plan_item *it = add(f, "loopback", "loopback/acme/web",
				"{\"maintenance\":{\"schedule\":{\"2\":3},\"priorityHour\":6},"
				"\"lifecycle\":{\"disruptive\":\"priority\"}}",
				1);
	assert_int_equal(wsr_window_hold(f->plan, at("2026-11-21T09:15:00Z"), WSR_DISRUPT_WINDOW),
			 1);
	assert_string_equal(it->hold,
			    "waiting for maintenance window (priority hour; next: Sun 06:00 UTC)");
	assert_true(it->hold_until_ms == at("2026-11-22T06:00:00Z"));
	free(it->hold);
	it->hold = NULL;
	it->hold_until_ms = 0;
	/* in the priority hour, whatever the weekly schedule says */
	assert_int_equal(wsr_window_hold(f->plan, at("2026-11-21T06:30:00Z"), WSR_DISRUPT_WINDOW),
			 0);
	assert_null(it->hold);
}

static void test_not_disruptive(void **st)
{
	fx *f = *st;
	wsr_plan_item *upd = add(f, "loopback", "loopback/acme/upd", TUE3, 0);
	wsr_plan_item *kcp = add(f, "kcp", "kcp/root:acme", "{\"parent\":\"root\"}", 1);
	/* disruptive but nothing to do (no actions): nothing to hold */
	wsr_plan_item *idle = add(f, "loopback", "loopback/acme/idle", TUE3, 1);
	idle->change->nactions = 0;
	assert_int_equal(wsr_window_hold(f->plan, at("2026-11-21T09:15:00Z"), WSR_DISRUPT_WINDOW),
			 0);
	assert_null(upd->hold);
	assert_null(kcp->hold);
	assert_null(idle->hold);
}

/* Through wsr_plan_build: only lifecycle.disruptive changed is no platform
 * change; a version change is an upgrade watch holds. */
static void test_plan_build(void **st)
{
	(void)st;
	wsr_resource_set desired = WSR_RESOURCE_SET_INIT, observed = WSR_RESOURCE_SET_INIT;
	wsr_state *state = wsr_state_new();
	wsr_diag diag;
	wsr_diag_init(&diag);
	const char *base = "{\"organization\":\"acme\",\"project\":\"payments\","
			   "\"type\":\"kubernetes\",\"kubernetes\":{\"version\":\"%s\"},"
			   "\"maintenance\":{\"enabled\":true,\"schedule\":{\"2\":3}}%s}";
	const char *names[] = {"same", "up"};
	for (int i = 0; i < 2; i++) {
		char spec[512], addr[64];
		snprintf(addr, sizeof(addr), "loopback/acme/%s", names[i]);
		snprintf(spec, sizeof(spec), base, i ? "1.30.2" : "1.29.4",
			 ",\"lifecycle\":{\"disruptive\":\"window\"}");
		res(&desired, "loopback", addr, spec);
		snprintf(spec, sizeof(spec), base, "1.29.4", "");
		wsr_resource *o = res(&observed, "loopback", addr, spec);
		wsr_state_entry *e = calloc(1, sizeof(*e));
		e->address = strdup(addr);
		e->provider = strdup("loopback");
		e->kind = strdup(KIND);
		e->applied = cJSON_Duplicate(o->spec, 1);
		assert_int_equal(wsr_state_put(state, e), 0);
	}
	wsr_plan_opts o = {0};
	wsr_plan *p = NULL;
	assert_int_equal(wsr_plan_build(&p, &desired, &observed, state, &o, &diag), 0);
	assert_int_equal(p->n, 2);
	assert_string_equal(p->items[0].change->address, "loopback/acme/same");
	assert_int_equal(p->items[0].change->nactions, 0);
	assert_int_equal(p->items[1].change->nactions, 1);
	assert_int_equal(p->items[1].change->actions[0], WSR_ACT_UPGRADE);
	assert_int_equal(wsr_window_hold(p, at("2026-11-21T09:15:00Z"), WSR_DISRUPT_IMMEDIATE), 1);
	assert_string_equal(p->items[1].hold,
			    "waiting for maintenance window (next: Tue 03:00 UTC)");
	assert_null(p->items[0].hold);
	wsr_plan_free(p);
	wsr_state_free(state);
	wsr_diag_free(&diag);
	wsr_resource_set_free(&desired);
	wsr_resource_set_free(&observed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_week_boundary),
	    cmocka_unit_test(test_edges),
	    cmocka_unit_test(test_partial_schedule),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_desired_over_observed),
	    cmocka_unit_test(test_label),
	    cmocka_unit_test_setup_teardown(test_hold_outside_window, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_hold_inside_window, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_immediate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_priority, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_disruptive, setup, teardown),
	    cmocka_unit_test(test_plan_build),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
