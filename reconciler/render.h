/* render: a plan for people (text, with +, ~, -, -/+ and old -> new values)
 * and for machines (the wsr.plan/v1 JSON of DESIGN.md). Rendering never
 * prints an x-wsr-sensitive value: the diff never copied one. */
#ifndef WSR_RECONCILER_RENDER_H
#define WSR_RECONCILER_RENDER_H
#include <stdio.h>

#include <cJSON.h>

#include "lib/diag.h"
#include "reconciler/plan.h"

#define WSR_PLAN_FORMAT "wsr.plan/v1"

/* Writes the plan for people to f. color: ANSI colours. */
void wsr_render_text(FILE *f, const wsr_plan *p, int color);

/* The plan as JSON ({"format":"wsr.plan/v1", "changes", "drift",
 * "diagnostics", "summary"}); p may be NULL when planning failed early. */
cJSON *wsr_render_json(const wsr_plan *p, const wsr_diag *diag);

/* "+", "~", "-", "-/+", "<=" (adopt), "x" (forget) or " " (no change). */
const char *wsr_render_symbol(const wsr_plan_item *it);
#endif
