/* Unit tests for reconciler/plan.c: which actions, records and drift a
 * plan holds for each combination of desired, observed and recorded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "reconciler/plan.h"

#define KIND "loopback.wsr.dev/v1/Workspace"

static const char *spec_a =
    "{\"organization\":\"acme\",\"project\":\"payments\",\"type\":\"baremetal\","
    "\"maintenance\":{\"enabled\":true,\"schedule\":{\"1\":3}}}";

typedef struct fx {
	wsr_resource_set desired, observed;
	wsr_state *state;
	wsr_diag diag;
} fx;

static wsr_resource *res(const char *name, const char *spec, const char *labels)
{
	char addr[128];
	snprintf(addr, sizeof(addr), "loopback/acme/%s", name);
	wsr_resource *r = wsr_resource_new(addr, "loopback", KIND, name);
	r->spec = cJSON_Parse(spec);
	if (labels)
		r->labels = cJSON_Parse(labels);
	assert_non_null(r->spec);
	return r;
}

static void record(fx *f, const char *name, const char *applied)
{
	wsr_state_entry *e = calloc(1, sizeof(*e));
	char addr[128];
	snprintf(addr, sizeof(addr), "loopback/acme/%s", name);
	e->address = strdup(addr);
	e->provider = strdup("loopback");
	e->kind = strdup(KIND);
	e->applied = cJSON_Parse(applied);
	assert_int_equal(wsr_state_put(f->state, e), 0);
}

static int setup(void **st)
{
	fx *f = calloc(1, sizeof(*f));
	f->state = wsr_state_new();
	wsr_diag_init(&f->diag);
	*st = f;
	return 0;
}

static int teardown(void **st)
{
	fx *f = *st;
	wsr_resource_set_free(&f->desired);
	wsr_resource_set_free(&f->observed);
	wsr_state_free(f->state);
	wsr_diag_free(&f->diag);
	free(f);
	return 0;
}

static wsr_plan *build(fx *f, int prune)
{
	wsr_plan_opts o = {0};
	o.prune = prune;
	wsr_plan *p = NULL;
	assert_int_equal(wsr_plan_build(&p, &f->desired, &f->observed, f->state, &o, &f->diag), 0);
	return p;
}

static const wsr_plan_item *item(const wsr_plan *p, const char *name)
{
	char addr[128];
	snprintf(addr, sizeof(addr), "loopback/acme/%s", name);
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->items[i].change->address, addr) == 0)
			return &p->items[i];
	fail_msg("no item %s", addr);
	return NULL;
}

static void test_create_update_noop(void **st)
{
	fx *f = *st;
	wsr_resource_set_add(&f->desired, res("new", spec_a, NULL));
	wsr_resource_set_add(&f->desired, res("same", spec_a, NULL));
	wsr_resource_set_add(&f->observed, res("same", spec_a, NULL));
	record(f, "same", spec_a);
	wsr_resource_set_add(&f->desired, res("edited", spec_a, NULL));
	wsr_resource_set_add(&f->observed,
			     res("edited",
				 "{\"organization\":\"acme\",\"project\":\"payments\","
				 "\"type\":\"baremetal\",\"maintenance\":{\"enabled\":true,"
				 "\"schedule\":{\"1\":5}}}",
				 NULL));
	record(f, "edited", spec_a);
	wsr_plan *p = build(f, 0);
	assert_int_equal(p->n, 3);
	const wsr_plan_item *it = item(p, "new");
	assert_int_equal(it->change->nactions, 1);
	assert_int_equal(it->change->actions[0], WSR_ACT_CREATE);
	it = item(p, "same");
	assert_int_equal(it->change->nactions, 0);
	assert_int_equal(it->record, WSR_REC_NONE);
	it = item(p, "edited");
	assert_int_equal(it->change->nactions, 1);
	assert_int_equal(it->change->actions[0], WSR_ACT_UPDATE);
	assert_string_equal(it->change->fields[0].path, "maintenance.schedule.1");
	/* the observed 5 differs from the recorded 3: drift, reported apart */
	assert_int_equal(p->ndrift, 1);
	assert_string_equal(p->drift[0].address, "loopback/acme/edited");
	wsr_plan_summary s = wsr_plan_summarize(p);
	assert_int_equal(s.create, 1);
	assert_int_equal(s.update, 1);
	assert_int_equal(s.noop, 1);
	assert_true(wsr_plan_has_changes(p));
	assert_int_equal(wsr_diag_errors(&f->diag), 0);
	wsr_plan_free(p);
}

static void test_replace_and_prevent_destroy(void **st)
{
	fx *f = *st;
	wsr_resource_set_add(&f->desired,
			     res("r",
				 "{\"organization\":\"acme\",\"project\":\"payments\","
				 "\"type\":\"baremetal\",\"lifecycle\":{\"preventDestroy\":true}}",
				 NULL));
	wsr_resource_set_add(&f->observed,
			     res("r",
				 "{\"organization\":\"acme\",\"project\":\"payments\","
				 "\"type\":\"kubernetes\"}",
				 NULL));
	record(f, "r",
	       "{\"organization\":\"acme\",\"project\":\"payments\",\"type\":\"kubernetes\"}");
	wsr_plan *p = build(f, 0);
	const wsr_plan_item *it = item(p, "r");
	assert_int_equal(it->change->nactions, 2);
	assert_int_equal(it->change->actions[0], WSR_ACT_DELETE);
	assert_int_equal(it->change->actions[1], WSR_ACT_CREATE);
	assert_int_equal(wsr_diag_errors(&f->diag), 1);
	assert_non_null(strstr(f->diag.v[0].summary, "preventDestroy"));
	wsr_plan_free(p);
}

/* An observed resource the provider reports unhealthy (health, why). */
static wsr_resource *unhealthy(const char *name, const char *spec, wsr_health h, const char *why)
{
	wsr_resource *r = res(name, spec, NULL);
	r->health = h;
	r->health_why = strdup(why);
	return r;
}

static void test_failed_workspace_is_replaced_never_in_sync(void **st)
{
	fx *f = *st;
	/* the same spec as desired: without health it would be "no changes" */
	wsr_resource_set_add(&f->desired, res("unrecorded", spec_a, NULL));
	wsr_resource_set_add(&f->observed, unhealthy("unrecorded", spec_a, WSR_HEALTH_REPLACE,
						     "its creation failed"));
	wsr_resource_set_add(&f->desired, res("recorded", spec_a, NULL));
	wsr_resource_set_add(
	    &f->observed, unhealthy("recorded", spec_a, WSR_HEALTH_REPLACE, "its creation failed"));
	record(f, "recorded", spec_a);
	wsr_plan *p = build(f, 0); /* no --allow-replace: a failed workspace holds nothing */
	for (int i = 0; i < 2; i++) {
		const wsr_plan_item *it = item(p, i ? "recorded" : "unrecorded");
		assert_int_equal(it->change->nactions, 2);
		assert_int_equal(it->change->actions[0], WSR_ACT_DELETE);
		assert_int_equal(it->change->actions[1], WSR_ACT_CREATE);
		assert_false(it->change->disruptive);
		assert_int_equal(it->record, WSR_REC_NONE); /* never adopted as it is */
		assert_string_equal(it->change->reasons[0], "its creation failed");
		assert_non_null(strstr(it->change->reasons[1], "needs repair"));
	}
	wsr_plan_summary s = wsr_plan_summarize(p);
	assert_int_equal(s.replace, 2);
	assert_int_equal(s.adopt, 0);
	assert_true(wsr_plan_has_changes(p));
	assert_int_equal(wsr_diag_errors(&f->diag), 0);
	wsr_plan_free(p);
}

static void test_failed_workspace_keeps_prevent_destroy(void **st)
{
	fx *f = *st;
	const char *guarded = "{\"organization\":\"acme\",\"project\":\"payments\","
			      "\"type\":\"baremetal\",\"lifecycle\":{\"preventDestroy\":true}}";
	wsr_resource_set_add(&f->desired, res("g", guarded, NULL));
	wsr_resource_set_add(&f->observed,
			     unhealthy("g", spec_a, WSR_HEALTH_REPLACE, "its creation failed"));
	wsr_plan *p = build(f, 0);
	assert_int_equal(wsr_diag_errors(&f->diag), 1);
	assert_non_null(strstr(f->diag.v[0].summary, "preventDestroy"));
	assert_non_null(strstr(f->diag.v[0].summary, "its creation failed"));
	wsr_plan_free(p);
}

static void test_broken_workspace_is_refused_with_the_reason(void **st)
{
	fx *f = *st;
	wsr_resource_set_add(&f->desired, res("b", spec_a, NULL));
	wsr_resource_set_add(
	    &f->observed, unhealthy("b", spec_a, WSR_HEALTH_BROKEN, "kcp reports it Unavailable"));
	record(f, "b", spec_a);
	wsr_plan *p = build(f, 0);
	const wsr_plan_item *it = item(p, "b");
	assert_int_equal(it->change->nactions, 0);
	assert_int_equal(it->record, WSR_REC_NONE);
	assert_string_equal(it->change->reasons[0], "kcp reports it Unavailable");
	assert_int_equal(wsr_diag_errors(&f->diag), 1);
	assert_string_equal(f->diag.v[0].address, "loopback/acme/b");
	assert_non_null(strstr(f->diag.v[0].summary, "kcp reports it Unavailable"));
	assert_non_null(strstr(f->diag.v[0].summary, "cannot repair"));
	wsr_plan_free(p);
}

static void test_adopt_forget_orphan_prune(void **st)
{
	fx *f = *st;
	/* on the platform and in the specs, not in state: recorded, not created */
	wsr_resource_set_add(&f->desired, res("adopt", spec_a, NULL));
	wsr_resource_set_add(&f->observed, res("adopt", spec_a, NULL));
	/* in state only: forgotten */
	record(f, "vanished", spec_a);
	/* in state and on the platform, not in the specs */
	record(f, "orphan", spec_a);
	wsr_resource_set_add(&f->observed, res("orphan", spec_a, NULL));
	record(f, "kept",
	       "{\"organization\":\"acme\",\"project\":\"payments\",\"type\":\"baremetal\","
	       "\"lifecycle\":{\"preventDestroy\":true}}");
	wsr_resource_set_add(&f->observed, res("kept", spec_a, NULL));
	/* observed only: not ours, not in the plan */
	wsr_resource_set_add(&f->observed, res("stranger", spec_a, NULL));

	wsr_plan *p = build(f, 0);
	assert_int_equal(p->n, 4);
	assert_int_equal(item(p, "adopt")->record, WSR_REC_ADOPT);
	assert_int_equal(item(p, "adopt")->change->nactions, 0);
	assert_int_equal(item(p, "vanished")->record, WSR_REC_FORGET);
	assert_true(item(p, "orphan")->orphan);
	assert_int_equal(item(p, "orphan")->change->nactions, 0);
	assert_int_equal(wsr_diag_errors(&f->diag), 0);
	wsr_plan_free(p);

	p = build(f, 1);
	assert_int_equal(item(p, "orphan")->change->nactions, 1);
	assert_int_equal(item(p, "orphan")->change->actions[0], WSR_ACT_DELETE);
	assert_int_equal(item(p, "kept")->change->nactions, 0);
	assert_int_equal(wsr_diag_errors(&f->diag), 1); /* preventDestroy refused the prune */
	wsr_plan_free(p);
}

static void test_target_and_selector(void **st)
{
	fx *f = *st;
	wsr_resource_set_add(&f->desired, res("a", spec_a, "{\"team\":\"payments\"}"));
	wsr_resource_set_add(&f->desired, res("b", spec_a, "{\"team\":\"search\"}"));
	wsr_plan_opts o = {0};
	const char *sel[] = {"team=search"};
	o.selectors = sel;
	o.nselectors = 1;
	wsr_plan *p = NULL;
	assert_int_equal(wsr_plan_build(&p, &f->desired, &f->observed, f->state, &o, &f->diag), 0);
	assert_int_equal(p->n, 1);
	assert_string_equal(p->items[0].change->address, "loopback/acme/b");
	wsr_plan_free(p);
	const char *tgt[] = {"loopback/acme/a"};
	o = (wsr_plan_opts){0};
	o.targets = tgt;
	o.ntargets = 1;
	assert_int_equal(wsr_plan_build(&p, &f->desired, &f->observed, f->state, &o, &f->diag), 0);
	assert_int_equal(p->n, 1);
	assert_string_equal(p->items[0].change->address, "loopback/acme/a");
	wsr_plan_free(p);
}

static wsr_plan *build_opts(fx *f, const wsr_plan_opts *o)
{
	wsr_plan *p = NULL;
	assert_int_equal(wsr_plan_build(&p, &f->desired, &f->observed, f->state, o, &f->diag), 0);
	return p;
}

static void test_replacement_needs_allow_replace(void **st)
{
	fx *f = *st;
	wsr_resource_set_add(&f->desired, res("r",
					      "{\"organization\":\"acme\",\"project\":\"payments\","
					      "\"type\":\"baremetal\"}",
					      NULL));
	wsr_resource_set_add(&f->observed,
			     res("r",
				 "{\"organization\":\"acme\",\"project\":\"payments\","
				 "\"type\":\"kubernetes\"}",
				 NULL));
	wsr_plan *p = build(f, 0);
	assert_true(item(p, "r")->change->disruptive);
	assert_int_equal(wsr_diag_errors(&f->diag), 1);
	assert_non_null(strstr(f->diag.v[0].summary, "--allow-replace"));
	wsr_plan_free(p);
	wsr_diag_free(&f->diag);
	wsr_diag_init(&f->diag);
	wsr_plan_opts o = {.allow_replace = 1};
	p = build_opts(f, &o);
	assert_int_equal(item(p, "r")->change->nactions, 2);
	assert_int_equal(wsr_diag_errors(&f->diag), 0);
	wsr_plan_free(p);
}

/* A field the spec still has as applied is drift being restored; a field
 * the spec changed is the user's edit. */
static void test_drift_and_spec_fields_told_apart(void **st)
{
	fx *f = *st;
	const char *applied = "{\"organization\":\"acme\",\"project\":\"payments\",\"type\":"
			      "\"baremetal\",\"metadata\":{\"c\":\"1\"},\"maintenance\":{"
			      "\"schedule\":{\"3\":3}}}";
	wsr_resource_set_add(&f->desired,
			     res("w",
				 "{\"organization\":\"acme\",\"project\":\"payments\",\"type\":"
				 "\"baremetal\",\"metadata\":{\"c\":\"2\"},\"maintenance\":{"
				 "\"schedule\":{\"3\":3}}}",
				 NULL));
	wsr_resource_set_add(&f->observed,
			     res("w",
				 "{\"organization\":\"acme\",\"project\":\"payments\",\"type\":"
				 "\"baremetal\",\"metadata\":{\"c\":\"1\"},\"maintenance\":{"
				 "\"schedule\":{\"3\":7}}}",
				 NULL));
	record(f, "w", applied);
	wsr_plan *p = build(f, 0);
	const wsr_change *c = item(p, "w")->change;
	assert_int_equal(c->nfields, 2);
	for (size_t i = 0; i < c->nfields; i++)
		assert_int_equal(c->fields[i].drift,
				 strcmp(c->fields[i].path, "maintenance.schedule.3") == 0);
	assert_int_equal(c->nreasons, 2);
	assert_string_equal(c->reasons[1], "restores 1 field changed outside wsr");
	assert_int_equal(p->ndrift, 1);
	assert_int_equal(p->drift[0].nfields, 1);
	assert_false(c->disruptive);
	wsr_plan_free(p);
}

/* ignoreChanges: the ignored fields keep the platform's values in what
 * apply aims for, and their drift is not reported. */
static void test_ignore_changes(void **st)
{
	fx *f = *st;
	const char *want = "{\"organization\":\"acme\",\"project\":\"payments\",\"type\":"
			   "\"baremetal\",\"metadata\":{\"c\":\"1\",\"o\":\"new\"},"
			   "\"maintenance\":{\"schedule\":{\"3\":3}},\"lifecycle\":{"
			   "\"ignoreChanges\":[\"maintenance.schedule\",\"metadata.c\"]}}";
	wsr_resource_set_add(&f->desired, res("w", want, NULL));
	wsr_resource_set_add(&f->observed,
			     res("w",
				 "{\"organization\":\"acme\",\"project\":\"payments\",\"type\":"
				 "\"baremetal\",\"metadata\":{\"c\":\"9\",\"o\":\"old\"},"
				 "\"maintenance\":{\"schedule\":{\"3\":7,\"4\":1}}}",
				 NULL));
	record(
	    f, "w",
	    "{\"organization\":\"acme\",\"project\":\"payments\",\"type\":\"baremetal\","
	    "\"metadata\":{\"c\":\"1\",\"o\":\"old\"},\"maintenance\":{\"schedule\":{\"3\":3}}}");
	wsr_plan *p = build(f, 0);
	const wsr_plan_item *it = item(p, "w");
	assert_int_equal(it->change->nfields, 1);
	assert_string_equal(it->change->fields[0].path, "metadata");
	/* what apply sends: the platform's c and schedule, the spec's o */
	assert_non_null(it->effective);
	assert_ptr_equal(it->change->desired, it->effective);
	const cJSON *m = cJSON_GetObjectItem(it->effective->spec, "metadata");
	assert_string_equal(cJSON_GetObjectItem(m, "c")->valuestring, "9");
	assert_string_equal(cJSON_GetObjectItem(m, "o")->valuestring, "new");
	const cJSON *sch = wsr_json_path(it->effective->spec, "maintenance.schedule");
	assert_int_equal(cJSON_GetObjectItem(sch, "3")->valueint, 7);
	assert_int_equal(p->ndrift, 0);
	wsr_plan_free(p);
}

/* kubernetes.ingress is read at creation only: a later change is a warning
 * and no action. */
static void test_creation_only_field_warns(void **st)
{
	fx *f = *st;
	wsr_resource_set_add(
	    &f->desired,
	    res("k",
		"{\"organization\":\"acme\",\"project\":\"payments\",\"type\":\"kubernetes\","
		"\"kubernetes\":{\"version\":\"1.30.2\",\"ingress\":true}}",
		NULL));
	wsr_resource_set_add(
	    &f->observed,
	    res("k",
		"{\"organization\":\"acme\",\"project\":\"payments\",\"type\":\"kubernetes\","
		"\"kubernetes\":{\"version\":\"1.30.2\",\"ingress\":false}}",
		NULL));
	wsr_plan *p = build(f, 0);
	assert_int_equal(item(p, "k")->change->nactions, 0);
	assert_int_equal(wsr_diag_errors(&f->diag), 0);
	assert_int_equal(f->diag.n, 1);
	assert_int_equal(f->diag.v[0].severity, WSR_SEV_WARNING);
	assert_non_null(strstr(f->diag.v[0].summary, "kubernetes.ingress"));
	wsr_plan_free(p);
}

static void test_refresh_only_plans_no_change(void **st)
{
	fx *f = *st;
	wsr_resource_set_add(&f->desired, res("new", spec_a, NULL));
	wsr_resource_set_add(&f->desired, res("w", spec_a, NULL));
	wsr_resource_set_add(
	    &f->observed,
	    res("w",
		"{\"organization\":\"acme\",\"project\":\"payments\",\"type\":\"baremetal\","
		"\"maintenance\":{\"enabled\":true,\"schedule\":{\"1\":9}}}",
		NULL));
	record(f, "w", spec_a);
	record(f, "gone", spec_a);
	wsr_plan_opts o = {.refresh_only = 1};
	wsr_plan *p = build_opts(f, &o);
	for (size_t i = 0; i < p->n; i++)
		assert_int_equal(p->items[i].change->nactions, 0);
	assert_int_equal(p->ndrift, 2);
	assert_true(wsr_plan_has_changes(p));
	wsr_plan_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_update_noop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replace_and_prevent_destroy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_workspace_is_replaced_never_in_sync, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_failed_workspace_keeps_prevent_destroy, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_broken_workspace_is_refused_with_the_reason, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_adopt_forget_orphan_prune, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_target_and_selector, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replacement_needs_allow_replace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_drift_and_spec_fields_told_apart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ignore_changes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_creation_only_field_warns, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refresh_only_plans_no_change, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
