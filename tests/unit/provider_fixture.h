/* provider_fixture: what the provider tests share — building a change the
 * way the planner would, and driving one operation the way the apply engine
 * does. Included after cmocka.h by tests/unit/test_loopback_*.c. */
#ifndef WSR_TESTS_PROVIDER_FIXTURE_H
#define WSR_TESTS_PROVIDER_FIXTURE_H
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "providers/provider.h"

/* A change of one action on address, with the named fields changed. */
static inline wsr_change *fixture_change(const char *address, wsr_action a,
					 const wsr_resource *desired, const wsr_resource *observed,
					 const char *const *fields)
{
	wsr_change *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->address = strdup(address);
	c->provider = strdup("loopback");
	c->kind = strdup("loopback.wsr.dev/v1/Workspace");
	c->actions[c->nactions++] = a;
	c->desired = desired;
	c->observed = observed;
	for (; fields && fields[c->nfields]; c->nfields++)
		;
	c->fields = calloc(c->nfields + 1, sizeof(*c->fields));
	for (size_t i = 0; fields && i < c->nfields; i++)
		c->fields[i].path = strdup(fields[i]);
	return c;
}

/* start, then poll until done or max_polls, pausing pause_us between polls;
 * *polls (may be NULL) is how many polls it took. */
static inline int fixture_run_op(const wsr_provider_ops *ops, wsr_provider *p, const wsr_change *c,
				 wsr_action a, wsr_resource **result, int max_polls,
				 useconds_t pause_us, int *polls, wsr_diag *d)
{
	wsr_op *op = NULL;
	int done = 0, n = 0, rc = ops->start(p, c, a, &op, d);
	*result = NULL;
	while (!rc && !done && n < max_polls) {
		rc = ops->poll(p, op, &done, result, d);
		n++;
		if (!rc && !done && pause_us)
			usleep(pause_us);
	}
	ops->op_free(op);
	if (polls)
		*polls = n;
	return rc;
}
#endif
