/* render: a plan for people (text, with +, ~, -, -/+ and old -> new values),
 * for machines (the wsr.plan/v1 JSON of DESIGN.md) and for a pull-request
 * comment (Markdown). Rendering never prints an x-wsr-sensitive value: the
 * diff never copied one. An item `wsr watch` holds (wsr_plan_item.hold)
 * shows its reason in every form. */
#ifndef WSR_RECONCILER_RENDER_H
#define WSR_RECONCILER_RENDER_H
#include <stdio.h>

#include <cJSON.h>

#include "lib/diag.h"
#include "reconciler/plan.h"

#define WSR_PLAN_FORMAT "wsr.plan/v1"

/* Writes the plan for people to f. color: ANSI colours. A held item carries
 * a "# held: <why>" line, and the summary line counts held items. */
void wsr_render_text(FILE *f, const wsr_plan *p, int color);

/* The plan as JSON ({"format":"wsr.plan/v1", "changes", "drift",
 * "diagnostics", "summary"}); p may be NULL when planning failed early.
 * Each change has "held" (the reason, or null) and "heldUntil" (RFC 3339,
 * or null when not held or the end is unknown); summary has "held". */
cJSON *wsr_render_json(const wsr_plan *p, const wsr_diag *diag);

/* Writes the plan as GitHub/GitLab-flavoured Markdown for a pull-request
 * comment: a "wsr plan" heading, the summary in bold, one table row per
 * change (symbol, address and source, actions, why; held items marked),
 * each change's fields as a ```diff block inside <details>, drift, then the
 * diagnostics of diag (may be NULL) as a list with file:line:col. Text from
 * specs and platforms is escaped so it cannot break the table or inject
 * markup. p may be NULL when planning failed early (only the diagnostics
 * are shown then). Deterministic: plan order, then diag order. */
void wsr_render_markdown(FILE *f, const wsr_plan *p, const wsr_diag *diag);

/* "+", "~", "-", "-/+", "<=" (adopt), "x" (forget) or " " (no change). */
const char *wsr_render_symbol(const wsr_plan_item *it);
#endif
