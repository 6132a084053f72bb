/* Unit tests for reconciler/order.c through wsr_plan_build: the edges
 * between kcp workspaces (parents created first, children deleted first)
 * and the plans no order can carry out, refused with the reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "reconciler/plan.h"

#define KIND "kcp.wsr.dev/v1/Workspace"

typedef struct fx {
	wsr_resource_set desired, observed;
	wsr_state *state;
	wsr_diag diag;
} fx;

/* A workspace at path ("root:a:b") of type t. */
static wsr_resource *ws(const char *path, const char *t)
{
	char addr[256], spec[512];
	snprintf(addr, sizeof(addr), "kcp/%s", path);
	const char *colon = strrchr(path, ':');
	snprintf(spec, sizeof(spec),
		 "{\"spec\":{\"parent\":\"%.*s\",\"type\":{\"name\":\"%s\",\"path\":\"root\"}}}",
		 (int)(colon - path), path, t);
	wsr_resource *r = wsr_resource_new(addr, "kcp", KIND, colon + 1);
	r->spec = cJSON_Parse(spec);
	assert_non_null(r->spec);
	return r;
}

static void want(fx *f, const char *path, const char *t)
{
	assert_int_equal(wsr_resource_set_add(&f->desired, ws(path, t)), 0);
}

/* On the platform and recorded in state as applied. */
static void have(fx *f, const char *path, const char *t)
{
	wsr_resource *r = ws(path, t);
	wsr_state_entry *e = calloc(1, sizeof(*e));
	e->address = strdup(r->address);
	e->provider = strdup("kcp");
	e->kind = strdup(KIND);
	e->applied = cJSON_Duplicate(r->spec, 1);
	assert_int_equal(wsr_state_put(f->state, e), 0);
	assert_int_equal(wsr_resource_set_add(&f->observed, r), 0);
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

static wsr_plan *build(fx *f, int prune, int allow_replace)
{
	wsr_plan_opts o = {0};
	o.prune = prune;
	o.allow_replace = allow_replace;
	wsr_plan *p = NULL;
	assert_int_equal(wsr_plan_build(&p, &f->desired, &f->observed, f->state, &o, &f->diag), 0);
	return p;
}

static const wsr_plan_item *item(const wsr_plan *p, const char *path)
{
	char addr[256];
	snprintf(addr, sizeof(addr), "kcp/%s", path);
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->items[i].change->address, addr) == 0)
			return &p->items[i];
	fail_msg("no item %s", addr);
	return NULL;
}

/* Asserts that path waits for exactly the paths in list (comma-separated,
 * in order; "" for none). */
static void waits(const wsr_plan *p, const char *path, const char *list)
{
	const wsr_plan_item *it = item(p, path);
	char got[1024] = "";
	for (size_t i = 0; i < it->nafter; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? "," : "",
			 p->items[it->after[i]].change->address + strlen("kcp/"));
	assert_string_equal(got, list);
}

static void has_error(const fx *f, const char *address, const char *text)
{
	for (size_t i = 0; i < f->diag.n; i++) {
		const wsr_diag_entry *e = &f->diag.v[i];
		if (e->severity == WSR_SEV_ERROR && e->address && !strcmp(e->address, address) &&
		    strstr(e->summary, text))
			return;
	}
	fail_msg("no error for %s containing \"%s\"", address, text);
}

static void test_tree_created_parent_first(void **st)
{
	fx *f = *st;
	want(f, "root:acme", "organization");
	want(f, "root:acme:a", "team");
	want(f, "root:acme:b", "team");
	want(f, "root:acme:a:x", "team");
	wsr_plan *p = build(f, 0, 0);
	assert_int_equal(wsr_diag_errors(&f->diag), 0);
	waits(p, "root:acme", "");
	waits(p, "root:acme:a", "root:acme");
	waits(p, "root:acme:b", "root:acme");
	waits(p, "root:acme:a:x", "root:acme:a");
	wsr_plan_free(p);
}

static void test_child_under_existing_parent_waits_for_nothing(void **st)
{
	fx *f = *st;
	want(f, "root:acme", "organization");
	have(f, "root:acme", "organization");
	want(f, "root:acme:a", "team");
	wsr_plan *p = build(f, 0, 0);
	assert_int_equal(wsr_diag_errors(&f->diag), 0);
	waits(p, "root:acme:a", "");
	wsr_plan_free(p);
}

static void test_tree_deleted_children_first(void **st)
{
	fx *f = *st;
	have(f, "root:acme", "organization");
	have(f, "root:acme:a", "team");
	have(f, "root:acme:b", "team");
	have(f, "root:acme:a:x", "team");
	wsr_plan *p = build(f, 1, 0);
	assert_int_equal(wsr_diag_errors(&f->diag), 0);
	waits(p, "root:acme", "root:acme:a,root:acme:b");
	waits(p, "root:acme:a", "root:acme:a:x");
	waits(p, "root:acme:a:x", "");
	wsr_plan_free(p);
}

static void test_missing_parent_refused(void **st)
{
	fx *f = *st;
	want(f, "root:nowhere:a", "universal");
	wsr_plan *p = build(f, 0, 0);
	has_error(f, "kcp/root:nowhere:a", "its parent kcp/root:nowhere does not exist");
	wsr_plan_free(p);
}

/* A provider whose check reports, for every deletion, the descendants the
 * test names (what the kcp provider lists afresh under the workspace). */
static const char *descendants_json = "[]";

static int fake_check(wsr_provider *p, wsr_change *c, wsr_diag *diag)
{
	(void)p, (void)diag;
	for (int i = 0; i < c->nactions; i++)
		if (c->actions[i] == WSR_ACT_DELETE && strcmp(c->address, "kcp/root:acme") == 0) {
			c->extra = cJSON_CreateObject();
			cJSON_AddItemToObject(c->extra, "descendants",
					      cJSON_Parse(descendants_json));
		}
	return 0;
}

static const wsr_provider_ops fake_ops = {.name = "kcp", .check = fake_check};

static void check_plan(wsr_plan *p, fx *f)
{
	wsr_engine e = {0};
	e.prov[0].name = "kcp";
	e.prov[0].ops = &fake_ops;
	e.nprov = 1;
	assert_int_equal(wsr_plan_check(p, &e, &f->diag), 0);
}

/* The order no longer judges what a deletion leaves behind from the cached
 * listing: the cascade rule does, on what the provider found afresh. */
static void test_deleting_a_parent_refused_by_the_cascade_rule(void **st)
{
	fx *f = *st;
	have(f, "root:acme", "organization");
	have(f, "root:acme:a", "team");
	want(f, "root:acme:a", "team");	   /* kept in the specs */
	have(f, "root:acme:gone", "team"); /* deleted with it */
	wsr_plan *p = build(f, 1, 0);
	assert_int_equal(wsr_diag_errors(&f->diag), 0);
	waits(p, "root:acme", "root:acme:gone");
	/* listed afresh: a, gone, and one nobody knew of */
	descendants_json = "[\"kcp/root:acme:a\",\"kcp/root:acme:gone\",\"kcp/root:acme:new\"]";
	check_plan(p, f);
	has_error(f, "kcp/root:acme",
		  "deleting kcp/root:acme would also destroy 2 workspaces not planned for "
		  "deletion: kcp/root:acme:a, kcp/root:acme:new");
	assert_int_equal(wsr_diag_errors(&f->diag), 1);
	assert_non_null(strstr(f->diag.v[0].hint, "--allow-cascade"));
	wsr_plan_free(p);
}

static void test_cascade_allowed_and_named_shown(void **st)
{
	fx *f = *st;
	have(f, "root:acme", "organization");
	wsr_plan_opts o = {.prune = 1, .allow_cascade = 1};
	wsr_plan *p = NULL;
	assert_int_equal(wsr_plan_build(&p, &f->desired, &f->observed, f->state, &o, &f->diag), 0);
	descendants_json = "[\"kcp/root:acme:a\",\"kcp/root:acme:b\",\"kcp/root:acme:c\","
			   "\"kcp/root:acme:d\",\"kcp/root:acme:e\"]";
	check_plan(p, f);
	assert_int_equal(wsr_diag_errors(&f->diag), 0);
	const wsr_change *c = item(p, "root:acme")->change;
	assert_int_equal(c->nreasons, 2);
	/* WSR_PLAN_NAMES_SHOWN names, then how many more */
	assert_string_equal(c->reasons[1],
			    "destroys 5 nested workspaces not planned for deletion "
			    "(--allow-cascade): kcp/root:acme:a, kcp/root:acme:b, kcp/root:acme:c "
			    "and 2 more");
	wsr_plan_free(p);
	descendants_json = "[]";
}

static void test_child_created_under_a_deleted_parent_refused(void **st)
{
	fx *f = *st;
	have(f, "root:acme", "organization");
	want(f, "root:acme:a", "team");
	wsr_plan *p = build(f, 1, 0);
	has_error(f, "kcp/root:acme:a", "this plan deletes its parent kcp/root:acme");
	wsr_plan_free(p);
}

static void test_parent_and_child_both_replaced_refused(void **st)
{
	fx *f = *st;
	have(f, "root:lab", "universal");
	have(f, "root:lab:x", "universal");
	want(f, "root:lab", "team");
	want(f, "root:lab:x", "team");
	wsr_plan *p = build(f, 0, 1);
	has_error(f, "kcp/root:lab:x", "both replaced");
	wsr_plan_free(p);
}

static void test_replaced_child_waits_and_parent_kept(void **st)
{
	fx *f = *st;
	have(f, "root:lab", "universal");
	want(f, "root:lab", "universal");
	have(f, "root:lab:x", "universal");
	want(f, "root:lab:x", "team");
	wsr_plan *p = build(f, 0, 1);
	assert_int_equal(wsr_diag_errors(&f->diag), 0);
	assert_int_equal(item(p, "root:lab:x")->change->nactions, 2);
	waits(p, "root:lab:x", "");
	waits(p, "root:lab", "");
	wsr_plan_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_tree_created_parent_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_child_under_existing_parent_waits_for_nothing,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tree_deleted_children_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_parent_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deleting_a_parent_refused_by_the_cascade_rule,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cascade_allowed_and_named_shown, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_child_created_under_a_deleted_parent_refused,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parent_and_child_both_replaced_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_replaced_child_waits_and_parent_kept, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
