/* provider_fixture: what the provider tests share — building a change the
 * way the planner would, and driving one operation the way the apply engine
 * does. Included after cmocka.h by tests/unit/test_loopback_*.c. */
#ifndef WSR_TESTS_PROVIDER_FIXTURE_H
#define WSR_TESTS_PROVIDER_FIXTURE_H
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
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

/* The finished steps an operation reported before its end (an upgrade's
 * hops but the last), as the engine would record them. */
#define FIXTURE_MAX_STEPS 8
typedef struct fixture_steps {
	wsr_resource *v[FIXTURE_MAX_STEPS];
	int n;
} fixture_steps;

static inline void fixture_steps_free(fixture_steps *s)
{
	for (int i = 0; i < s->n; i++)
		wsr_resource_free(s->v[i]);
	s->n = 0;
}

/* start, then poll until done or max_polls, pausing pause_us between polls;
 * *polls (may be NULL) is how many polls it took. A resource reported with
 * done == 0 (a finished step) is kept in steps, or freed when steps is NULL. */
static inline int fixture_run_steps(const wsr_provider_ops *ops, wsr_provider *p,
				    const wsr_change *c, wsr_action a, wsr_resource **result,
				    int max_polls, useconds_t pause_us, int *polls,
				    fixture_steps *steps, wsr_diag *d)
{
	wsr_op *op = NULL;
	int done = 0, n = 0, rc = ops->start(p, c, a, &op, d);
	*result = NULL;
	while (!rc && !done && n < max_polls) {
		wsr_resource *r = NULL;
		rc = ops->poll(p, op, &done, &r, d);
		n++;
		if (rc) {
			wsr_resource_free(r);
		} else if (done) {
			*result = r;
		} else if (r && steps && steps->n < FIXTURE_MAX_STEPS) {
			steps->v[steps->n++] = r;
		} else if (r) {
			if (steps)
				fail_msg("more than %d steps reported", FIXTURE_MAX_STEPS);
			wsr_resource_free(r);
		}
		if (!rc && !done && pause_us)
			usleep(pause_us);
	}
	ops->op_free(op);
	if (polls)
		*polls = n;
	return rc;
}

static inline int fixture_run_op(const wsr_provider_ops *ops, wsr_provider *p, const wsr_change *c,
				 wsr_action a, wsr_resource **result, int max_polls,
				 useconds_t pause_us, int *polls, wsr_diag *d)
{
	return fixture_run_steps(ops, p, c, a, result, max_polls, pause_us, polls, NULL, d);
}
/* What check made of one change: its diagnostics, plan data and reasons. */
typedef struct fixture_checked {
	char *text; /* the diagnostics, "summary | detail | hint" a line */
	size_t errors;
	char *extra;   /* change->extra printed compactly, or NULL */
	char *reasons; /* the change's reasons, one a line */
} fixture_checked;

static inline void fixture_checked_free(fixture_checked *k)
{
	free(k->text);
	free(k->extra);
	free(k->reasons);
}

/* Runs check on c, which must succeed; every diagnostic must be on c's address. */
static inline fixture_checked fixture_check(const wsr_provider_ops *ops, wsr_provider *p,
					    wsr_change *c)
{
	wsr_diag d = WSR_DIAG_INIT;
	fixture_checked k = {NULL, 0, NULL, NULL};
	wsr_buf b = WSR_BUF_INIT;
	assert_int_equal(ops->check(p, c, &d), 0);
	for (size_t i = 0; i < d.n; i++) {
		assert_string_equal(d.v[i].address, c->address);
		wsr_buf_printf(&b, "%s | %s | %s\n", d.v[i].summary,
			       d.v[i].detail ? d.v[i].detail : "", d.v[i].hint ? d.v[i].hint : "");
	}
	k.text = wsr_buf_detach(&b);
	k.errors = wsr_diag_errors(&d);
	if (c->extra)
		k.extra = cJSON_PrintUnformatted(c->extra);
	for (size_t i = 0; i < c->nreasons; i++)
		wsr_buf_printf(&b, "%s\n", c->reasons[i]);
	k.reasons = wsr_buf_detach(&b);
	wsr_diag_free(&d);
	return k;
}
#endif
