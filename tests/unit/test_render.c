/* Unit tests for reconciler/render.c: held items in the text, JSON and
 * Markdown plans, and Markdown that user text cannot break (table cells,
 * fenced diffs, HTML) and that never shows a sensitive value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "reconciler/plan.h"
#include "reconciler/render.h"

#define KIND "loopback.wsr.dev/v1/Workspace"

static const char *spec_a =
    "{\"organization\":\"acme\",\"project\":\"payments\",\"type\":\"baremetal\","
    "\"maintenance\":{\"enabled\":true,\"schedule\":{\"1\":3}}}";
static const char *spec_b =
    "{\"organization\":\"acme\",\"project\":\"payments\",\"type\":\"baremetal\","
    "\"maintenance\":{\"enabled\":true,\"schedule\":{\"1\":5}}}";

typedef struct fx {
	wsr_resource_set desired, observed;
	wsr_state *state;
	wsr_diag diag;
	wsr_plan *plan;
	char *out; /* the last rendering */
} fx;

static wsr_resource *res(const char *name, const char *spec)
{
	char addr[128];
	snprintf(addr, sizeof(addr), "loopback/acme/%s", name);
	wsr_resource *r = wsr_resource_new(addr, "loopback", KIND, name);
	r->spec = cJSON_Parse(spec);
	assert_non_null(r->spec);
	return r;
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
	wsr_plan_free(f->plan);
	wsr_resource_set_free(&f->desired);
	wsr_resource_set_free(&f->observed);
	wsr_state_free(f->state);
	wsr_diag_free(&f->diag);
	free(f->out);
	free(f);
	return 0;
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

/* Plans the fixture's sets into f->plan (freeing the previous plan). */
static void plan(fx *f)
{
	wsr_plan_free(f->plan);
	f->plan = NULL;
	wsr_plan_opts o = {0};
	assert_int_equal(
	    wsr_plan_build(&f->plan, &f->desired, &f->observed, f->state, &o, &f->diag), 0);
}

/* "edited": applied and observed with schedule.1 5, the spec says 3. */
static void add_edited(fx *f)
{
	wsr_resource_set_add(&f->desired, res("edited", spec_a));
	wsr_resource_set_add(&f->observed, res("edited", spec_b));
	record(f, "edited", spec_b);
}

/* "new" is created (from file), "edited" updated (schedule.1 5 -> 3). */
static void build(fx *f, const char *file)
{
	wsr_resource *n = res("new", spec_a);
	n->file = strdup(file);
	n->line = 3;
	wsr_resource_set_add(&f->desired, n);
	add_edited(f);
	plan(f);
	assert_int_equal(f->plan->n, 2);
}

static wsr_plan_item *item(fx *f, const char *name)
{
	char addr[128];
	snprintf(addr, sizeof(addr), "loopback/acme/%s", name);
	for (size_t i = 0; i < f->plan->n; i++)
		if (strcmp(f->plan->items[i].change->address, addr) == 0)
			return &f->plan->items[i];
	fail_msg("no item %s", addr);
	return NULL;
}

static void hold(fx *f, const char *name, const char *why, int64_t until)
{
	wsr_plan_item *it = item(f, name);
	it->hold = strdup(why);
	it->hold_until_ms = until;
}

enum { TEXT, MARKDOWN };

static const char *render(fx *f, int how, const wsr_plan *p)
{
	free(f->out);
	size_t len = 0;
	FILE *m = open_memstream(&f->out, &len);
	assert_non_null(m);
	if (how == TEXT)
		wsr_render_text(m, p, 0);
	else
		wsr_render_markdown(m, p, &f->diag);
	fclose(m);
	return f->out;
}

#define HELD "waiting for maintenance window (next: Tue 03:00 UTC)"

static void test_text_shows_held(void **st)
{
	fx *f = *st;
	build(f, "new.yaml");
	hold(f, "edited", HELD, 0);
	const char *out = render(f, TEXT, f->plan);
	const char *at = strstr(out, "~   loopback/acme/edited");
	assert_non_null(at);
	assert_non_null(strstr(at, "      # held: " HELD "\n"));
	assert_non_null(
	    strstr(out, "Plan: 1 to create, 1 to update, 0 to replace, 0 to delete; 1 held.\n"));
	/* the held line belongs to its change only */
	assert_null(strstr(strstr(out, "+   loopback/acme/new"), "# held"));
}

static void test_text_without_holds_unchanged(void **st)
{
	fx *f = *st;
	build(f, "new.yaml");
	const char *out = render(f, TEXT, f->plan);
	assert_null(strstr(out, "held"));
	assert_non_null(
	    strstr(out, "Plan: 1 to create, 1 to update, 0 to replace, 0 to delete.\n"));
}

/* An observed workspace the platform reports broken in a way wsr cannot
 * repair: the plan refuses it; the rendering must not call it in sync. */
static void add_broken(fx *f, const char *name)
{
	wsr_resource *o = res(name, spec_a);
	o->health = WSR_HEALTH_BROKEN;
	o->health_why = strdup("kcp reports the workspace Unavailable");
	wsr_resource_set_add(&f->desired, res(name, spec_a));
	wsr_resource_set_add(&f->observed, o);
	record(f, name, spec_a);
}

static void test_text_never_calls_a_broken_workspace_in_sync(void **st)
{
	fx *f = *st;
	add_broken(f, "sick");
	plan(f);
	const char *out = render(f, TEXT, f->plan);
	assert_null(strstr(out, "No changes."));
	assert_non_null(strstr(out, "!   loopback/acme/sick\n"
				    "      # kcp reports the workspace Unavailable\n"));
	assert_non_null(strstr(out, "No changes can be planned: 1 workspace needs a repair wsr "
				    "cannot make (see the errors).\n"));
	out = render(f, MARKDOWN, f->plan);
	assert_non_null(strstr(out, "No changes can be planned"));
	assert_non_null(strstr(out, "kcp reports the workspace Unavailable"));
	/* beside other changes, the summary still counts it */
	add_edited(f);
	plan(f);
	out = render(f, TEXT, f->plan);
	assert_non_null(strstr(out, "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete; "
				    "1 needs a repair wsr cannot make.\n"));
	cJSON *j = wsr_render_json(f->plan, &f->diag);
	const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "changes"), 1);
	assert_string_equal(cJSON_GetObjectItem(c, "address")->valuestring, "loopback/acme/sick");
	assert_string_equal(cJSON_GetObjectItem(c, "repair")->valuestring,
			    "kcp reports the workspace Unavailable");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(
	    cJSON_GetArrayItem(cJSON_GetObjectItem(j, "changes"), 0), "repair")));
	cJSON_Delete(j);
}

static void test_json_held_and_until(void **st)
{
	fx *f = *st;
	build(f, "new.yaml");
	/* Tue 2026-11-24 03:00:00 UTC */
	hold(f, "edited", HELD, 1795489200000LL);
	cJSON *j = wsr_render_json(f->plan, &f->diag);
	assert_non_null(j);
	const cJSON *ch;
	int seen = 0;
	cJSON_ArrayForEach(ch, wsr_json_arr(j, "changes"))
	{
		const char *addr = wsr_json_str(ch, "address");
		if (strcmp(addr, "loopback/acme/edited") == 0) {
			assert_string_equal(wsr_json_str(ch, "held"), HELD);
			assert_string_equal(wsr_json_str(ch, "heldUntil"), "2026-11-24T03:00:00Z");
		} else {
			assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(ch, "held")));
			assert_true(
			    cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(ch, "heldUntil")));
		}
		seen++;
	}
	assert_int_equal(seen, 2);
	const cJSON *sum = wsr_json_obj(j, "summary");
	assert_int_equal((int)wsr_json_num(sum, "held", -1), 1);
	assert_int_equal((int)wsr_json_num(sum, "update", -1), 1);
	cJSON_Delete(j);

	/* a hold whose end is unknown has no heldUntil */
	item(f, "edited")->hold_until_ms = 0;
	j = wsr_render_json(f->plan, &f->diag);
	cJSON_ArrayForEach(ch, wsr_json_arr(j, "changes"))
	{
		assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(ch, "heldUntil")));
	}
	cJSON_Delete(j);
}

/* Number of unescaped '|' in one line. */
static int pipes(const char *line, size_t len)
{
	int n = 0;
	for (size_t i = 0; i < len; i++) {
		if (line[i] == '\\' && i + 1 < len) {
			i++;
			continue;
		}
		n += line[i] == '|';
	}
	return n;
}

/* Every line starting with '|' has exactly as many cell separators as the
 * header; returns the number of rows (header and delimiter included). */
static int table_rows(const char *out)
{
	int rows = 0, want = -1;
	for (const char *l = out; *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		if (len && l[0] == '|') {
			int n = pipes(l, len);
			if (want < 0)
				want = n;
			assert_int_equal(n, want);
			rows++;
		}
		l += len + (nl ? 1 : 0);
	}
	return rows;
}

static void test_markdown_summary_table_details(void **st)
{
	fx *f = *st;
	build(f, "new.yaml");
	hold(f, "edited", HELD, 0);
	const char *out = render(f, MARKDOWN, f->plan);
	assert_non_null(strstr(out, "## wsr plan\n"));
	assert_non_null(
	    strstr(out, "**1 to create, 1 to update, 0 to replace, 0 to delete; 1 held.**"));
	assert_non_null(strstr(out, "| | address | actions | why |\n|---|---|---|---|\n"));
	assert_non_null(
	    strstr(out, "| `+` | loopback/acme/new (new.yaml:3) | create | new in the specs |\n"));
	assert_non_null(strstr(out, "| `~` | loopback/acme/edited | update | **held:** " HELD));
	assert_int_equal(table_rows(out), 4);
	/* the update as a diff, the creation as its leaves, each collapsed */
	const char *d = strstr(out, "<details><summary><code>loopback/acme/edited</code>");
	assert_non_null(d);
	assert_non_null(strstr(d, "```diff\n- maintenance.schedule.1 = 5\n"
				  "+ maintenance.schedule.1 = 3\n```\n"));
	d = strstr(out, "<details><summary><code>loopback/acme/new</code>");
	assert_non_null(d);
	assert_non_null(strstr(d, "```diff\n+ organization = \"acme\"\n"));
	/* the table comes first, plan order: new after edited */
	assert_true(strstr(out, "loopback/acme/edited |") < strstr(out, "loopback/acme/new ("));
	/* the same plan renders the same bytes */
	char *first = strdup(out);
	assert_string_equal(render(f, MARKDOWN, f->plan), first);
	free(first);
}

static void test_markdown_escapes_user_text(void **st)
{
	fx *f = *st;
	build(f, "we|ird`name*_[x](y).yaml");
	wsr_change_add_reason(item(f, "edited")->change, "a|b `c` <script>x</script>\nnext & more");
	hold(f, "edited", "<b>soon</b> | `now`", 0);
	const char *out = render(f, MARKDOWN, f->plan);
	assert_int_equal(table_rows(out), 4);
	assert_non_null(strstr(out, "(we\\|ird\\`name\\*\\_\\[x\\](y).yaml:3)"));
	assert_non_null(strstr(out, "a\\|b \\`c\\` \\<script\\>x\\</script\\><br>next \\& more"));
	assert_null(strstr(out, "<script>"));
	assert_null(strstr(out, "<b>"));
	/* in the <summary> the hold is HTML text */
	assert_non_null(strstr(out, "(held: &lt;b&gt;soon&lt;/b&gt; | `now`)</summary>"));
}

static void test_markdown_diff_cannot_close_fence_nor_leak(void **st)
{
	fx *f = *st;
	wsr_resource *n = res("new", "{\"organization\":\"acme\",\"project\":\"payments\","
				     "\"type\":\"baremetal\",\"metadata\":{\"note\":\"a|b ```\"}}");
	wsr_resource_set_add(&f->desired, n);
	add_edited(f);
	plan(f);
	/* a field path with a line break (a free-form key) and a sensitive field */
	wsr_change *c = item(f, "edited")->change;
	free(c->fields[0].path);
	c->fields[0].path = strdup("metadata.x\n```\n# evil");
	c->fields[0].sensitive = 1;
	cJSON_Delete(c->fields[0].before);
	cJSON_Delete(c->fields[0].after);
	c->fields[0].before = c->fields[0].after = NULL;
	const char *out = render(f, MARKDOWN, f->plan);
	/* values inside the fence stay verbatim, the table is intact */
	assert_non_null(strstr(out, "+ metadata = {\"note\":\"a|b ```\"}\n"));
	assert_int_equal(table_rows(out), 4);
	assert_non_null(strstr(out, "- metadata.x?```?# evil = (sensitive)\n"
				    "+ metadata.x?```?# evil = (sensitive)\n"));
	assert_null(strstr(out, "\n# evil"));
}

static void test_markdown_diagnostics_with_positions(void **st)
{
	fx *f = *st;
	wsr_pos pos = {"specs/a_b.yaml", 13, 9};
	wsr_diag_add(&f->diag, WSR_SEV_ERROR, &pos, NULL, NULL, "did you mean 'baremetal'?",
		     "spec.type: 'bare-metal' is not one of: kubernetes, baremetal");
	wsr_diag_add(&f->diag, WSR_SEV_WARNING, NULL, "loopback/acme/x", "line one\nline two", NULL,
		     "kept because prune is off");
	const char *out = render(f, MARKDOWN, NULL);
	assert_non_null(strstr(out, "**No plan: planning failed with 1 error.**"));
	assert_null(strstr(out, "| address |"));
	assert_non_null(strstr(out, "### Errors and warnings\n\n"
				    "- **error** specs/a\\_b.yaml:13:9: spec.type: 'bare-metal' is "
				    "not one of: kubernetes, baremetal\n"
				    "  - hint: did you mean 'baremetal'?\n"
				    "- **warning** loopback/acme/x: kept because prune is off\n"
				    "  - line one<br>line two\n"));
}

static void test_markdown_diagnostic_quotes_a_huge_address_short(void **st)
{
	fx *f = *st;
	enum { BIG = 10 * 1024 * 1024 };
	char *huge = malloc(BIG + 1);
	assert_non_null(huge);
	memset(huge, 'x', BIG);
	huge[BIG] = '\0';
	wsr_diag_add(&f->diag, WSR_SEV_ERROR, NULL, huge, NULL, NULL, "refused");
	free(huge);
	const char *out = render(f, MARKDOWN, NULL);
	assert_true(strlen(out) < 64 * 1024);
	assert_non_null(strstr(out, "x\u2026(10485760 bytes): refused\n"));
}

static void test_markdown_no_changes_and_drift(void **st)
{
	fx *f = *st;
	wsr_resource_set_add(&f->desired, res("same", spec_a));
	wsr_resource_set_add(&f->observed, res("same", spec_a));
	record(f, "same", spec_a);
	plan(f);
	const char *out = render(f, MARKDOWN, f->plan);
	assert_non_null(
	    strstr(out, "**No changes. The platform matches the specs (1 workspaces).**"));
	assert_null(strstr(out, "| address |"));
	assert_null(strstr(out, "<details>"));
	assert_null(strstr(out, "Errors"));

	/* recorded 3, observed 5: drift, listed recorded -> observed */
	wsr_resource_set_free(&f->observed);
	wsr_resource_set_add(&f->observed, res("same", spec_b));
	plan(f);
	out = render(f, MARKDOWN, f->plan);
	assert_non_null(strstr(out, "### Drift (changed outside wsr since the last apply)\n\n"
				    "- loopback/acme/same\n"
				    "  - maintenance.schedule.1: 3 -> 5\n"));
	assert_non_null(strstr(out, "+ maintenance.schedule.1 = 3   # changed outside wsr\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_text_shows_held, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_text_without_holds_unchanged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_json_held_and_until, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_text_never_calls_a_broken_workspace_in_sync, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_markdown_summary_table_details, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_markdown_escapes_user_text, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_markdown_diff_cannot_close_fence_nor_leak, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_markdown_diagnostics_with_positions, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_markdown_diagnostic_quotes_a_huge_address_short,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_markdown_no_changes_and_drift, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
