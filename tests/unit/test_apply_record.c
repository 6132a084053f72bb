/* Unit tests for reconciler/apply.c against a provider scripted inside the
 * test: what apply records in state when a step finishes, and what it
 * refuses to record. The end-to-end behaviour against the emulator is in
 * tests/integration/; here are the answers the emulator never gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/err.h"
#include "reconciler/apply.h"

#define KIND "loopback.wsr.dev/v1/Workspace"

static const char *spec =
    "{\"organization\":\"acme\",\"project\":\"payments\",\"type\":\"baremetal\","
    "\"maintenance\":{\"enabled\":true,\"schedule\":{\"1\":3}}}";

/* ---- the scripted provider -------------------------------------------- */

struct wsr_op {
	char *address;
};

/* start: remembers the address; the op is finished at once. */
static int fake_start(wsr_provider *p, const wsr_change *c, wsr_action a, wsr_op **op,
		      wsr_diag *diag)
{
	(void)p, (void)a, (void)diag;
	*op = calloc(1, sizeof(**op));
	(*op)->address = strdup(c->address);
	return 0;
}

/* poll: done; the workspace "sick" comes back as the platform reports a
 * failed creation, every other one working. */
static int fake_poll(wsr_provider *p, wsr_op *op, int *done, wsr_resource **result, wsr_diag *diag)
{
	(void)p, (void)diag;
	const char *name = strrchr(op->address, '/') + 1;
	wsr_resource *r = wsr_resource_new(op->address, "loopback", KIND, name);
	r->spec = cJSON_Parse(spec);
	r->id = strdup("ws-1");
	if (strcmp(name, "sick") == 0) {
		r->health = WSR_HEALTH_REPLACE;
		r->health_why = strdup("the platform shows the workspace failed");
	}
	*done = 1;
	*result = r;
	return 0;
}

static void fake_op_free(wsr_op *op)
{
	if (op)
		free(op->address);
	free(op);
}

static void fake_close(wsr_provider *p)
{
	(void)p;
}

static const wsr_provider_ops fake_ops = {.name = "loopback",
					  .start = fake_start,
					  .poll = fake_poll,
					  .op_free = fake_op_free,
					  .close = fake_close};

/* ---- the tests --------------------------------------------------------- */

static wsr_resource *res(const char *name)
{
	char addr[128];
	snprintf(addr, sizeof(addr), "loopback/acme/%s", name);
	wsr_resource *r = wsr_resource_new(addr, "loopback", KIND, name);
	r->spec = cJSON_Parse(spec);
	return r;
}

static void test_a_broken_result_is_never_recorded(void **st)
{
	(void)st;
	char dir[] = "/tmp/wsr-test-apply-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof(path), "%s/state.json", dir);
	wsr_engine *e = calloc(1, sizeof(*e));
	assert_int_equal(wsr_state_file_open(&e->backend, path), 0);
	e->prov[0] = (wsr_engine_provider){.name = "loopback", .ops = &fake_ops, .timeout_s = 10};
	e->nprov = 1;
	wsr_resource_set desired = WSR_RESOURCE_SET_INIT, observed = WSR_RESOURCE_SET_INIT;
	wsr_resource_set_add(&desired, res("well"));
	wsr_resource_set_add(&desired, res("sick"));
	wsr_state *state = wsr_state_new();
	wsr_diag d = WSR_DIAG_INIT;
	wsr_plan_opts po = {0};
	wsr_plan *p = NULL;
	assert_int_equal(wsr_plan_build(&p, &desired, &observed, state, &po, &d), 0);
	assert_int_equal(p->n, 2);
	wsr_apply_opts ao = {.parallelism = 2};
	wsr_apply_result res = {0};
	assert_int_equal(wsr_apply_run(&res, e, p, state, &ao, &d), WSR_EAPI);
	assert_int_equal(res.succeeded, 1);
	assert_int_equal(res.failed, 1);
	/* the working one is recorded; the failed one is not, and apply says why */
	assert_non_null(wsr_state_find(state, "loopback/acme/well"));
	assert_null(wsr_state_find(state, "loopback/acme/sick"));
	assert_int_equal(wsr_diag_errors(&d), 1);
	assert_string_equal(d.v[0].address, "loopback/acme/sick");
	assert_string_equal(d.v[0].summary, "after the create, the platform shows the workspace "
					    "failed; nothing is recorded");
	wsr_plan_free(p);
	wsr_state_free(state);
	wsr_resource_set_free(&desired);
	wsr_resource_set_free(&observed);
	wsr_diag_free(&d);
	wsr_engine_free(e);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_broken_result_is_never_recorded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
