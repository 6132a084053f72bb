/* render: plans as text, as JSON and as Markdown. The three forms share the
 * walk over the plan (which items show, the leaves of a creation, the
 * summary counts) so that they cannot disagree about what a plan says. */
#include "reconciler/render.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "reconciler/diff.h"

static int is_replace(const wsr_change *c)
{
	return c->nactions == 2 && c->actions[0] == WSR_ACT_DELETE &&
	       c->actions[1] == WSR_ACT_CREATE;
}

/* A workspace the platform reports broken that the plan does not repair
 * (it cannot: the plan refused it). Shown, so no plan calls it in sync. */
static int unrepaired(const wsr_plan_item *it)
{
	const wsr_resource *o = it->change->observed;
	return o && o->health != WSR_HEALTH_OK && !it->change->nactions;
}

const char *wsr_render_symbol(const wsr_plan_item *it)
{
	const wsr_change *c = it->change;
	if (is_replace(c))
		return "-/+";
	if (c->nactions) {
		switch (c->actions[0]) {
		case WSR_ACT_CREATE:
			return "+";
		case WSR_ACT_DELETE:
			return "-";
		default:
			return "~";
		}
	}
	if (it->record == WSR_REC_ADOPT)
		return "<=";
	if (it->record == WSR_REC_FORGET)
		return "x";
	if (unrepaired(it))
		return "!";
	return " ";
}

static const char *symbol_color(const char *sym)
{
	if (strcmp(sym, "+") == 0)
		return "\033[32m";
	if (strcmp(sym, "-") == 0 || strcmp(sym, "-/+") == 0 || strcmp(sym, "x") == 0)
		return "\033[31m";
	return "\033[33m";
}

/* Appends a value as the plan shows it: compact JSON, "(sensitive)" or "(none)". */
static void put_value(wsr_buf *b, const cJSON *v, int sensitive)
{
	if (sensitive) {
		wsr_buf_puts(b, "(sensitive)");
		return;
	}
	if (!v) {
		wsr_buf_puts(b, "(none)");
		return;
	}
	char *s = cJSON_PrintUnformatted(v);
	wsr_buf_puts(b, s ? s : "?");
	free(s);
}

static void print_value(FILE *f, const cJSON *v, int sensitive)
{
	wsr_buf b = WSR_BUF_INIT;
	put_value(&b, v, sensitive);
	fputs(wsr_buf_str(&b), f);
	wsr_buf_free(&b);
}

/* Called for each leaf of a created value with its dotted path. */
typedef void (*leaf_fn)(void *ctx, const char *path, const cJSON *v, int sensitive);

/* Walks every leaf of a value (what a creation sets), guided by the schema
 * so that sensitive leaves are known. */
static void walk_leaves(const cJSON *schema, const cJSON *v, wsr_buf *path, leaf_fn fn, void *ctx)
{
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
	if (cJSON_IsObject(v) && cJSON_IsObject(props)) {
		size_t mark = path->len;
		const cJSON *item;
		cJSON_ArrayForEach(item, v)
		{
			const cJSON *sub = cJSON_GetObjectItemCaseSensitive(props, item->string);
			if (mark)
				wsr_buf_putc(path, '.');
			wsr_buf_puts(path, item->string);
			walk_leaves(sub, item, path, fn, ctx);
			path->len = mark;
			path->data[mark] = '\0';
		}
		return;
	}
	int sensitive = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(schema, "x-wsr-sensitive"));
	fn(ctx, wsr_buf_str(path), v, sensitive);
}

/* Whether the change creates the resource (and is no replacement): it then
 * shows every leaf it sets instead of changed fields. */
static int is_creation(const wsr_change *c)
{
	return c->nactions && c->actions[c->nactions - 1] == WSR_ACT_CREATE && !is_replace(c) &&
	       c->desired;
}

static void each_created_leaf(const wsr_change *c, leaf_fn fn, void *ctx)
{
	wsr_buf path = WSR_BUF_INIT;
	wsr_buf_puts(&path, "");
	walk_leaves(wsr_diff_spec_schema(c->kind), c->desired->spec, &path, fn, ctx);
	wsr_buf_free(&path);
}

static void text_leaf(void *ctx, const char *path, const cJSON *v, int sensitive)
{
	FILE *f = ctx;
	fprintf(f, "      + %s = ", path);
	print_value(f, v, sensitive);
	fputc('\n', f);
}

static void print_fields(FILE *f, const wsr_field_change *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "      ~ %s: ", v[i].path);
		print_value(f, v[i].before, v[i].sensitive);
		fputs(" -> ", f);
		print_value(f, v[i].after, v[i].sensitive);
		if (v[i].replace)
			fputs("   # forces replacement", f);
		if (v[i].drift)
			fputs("   # changed outside wsr", f);
		fputc('\n', f);
	}
}

/* The provider's lists of notes a plan shows (see wsr_change.extra), in order. */
static const struct {
	const char *key, *heading;
} notes[] = {
    {"destroys", "destroys:"},
    {"backupFirst", "back up first:"},
    {"verifyAfter", "verify after the transfer:"},
};
#define NNOTES (sizeof(notes) / sizeof(notes[0]))

/* A provider's list of notes under a heading ("back up first:"). */
static void print_notes(FILE *f, const cJSON *extra, const char *key, const char *heading)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(extra, key), *it;
	if (!cJSON_IsArray(arr) || !arr->child)
		return;
	fprintf(f, "      %s\n", heading);
	cJSON_ArrayForEach(it, arr)
	{
		if (cJSON_IsString(it))
			fprintf(f, "        - %s\n", it->valuestring);
	}
}

static void print_item(FILE *f, const wsr_plan *p, const wsr_plan_item *it, int color)
{
	const wsr_change *c = it->change;
	const char *sym = wsr_render_symbol(it);
	fprintf(f, "  %s%-3s%s %s", color ? symbol_color(sym) : "", sym, color ? "\033[0m" : "",
		c->address);
	if (c->desired && c->desired->file)
		fprintf(f, "  (%s:%d)", c->desired->file, c->desired->line);
	if (c->disruptive)
		fputs("  [disruptive]", f);
	fputc('\n', f);
	for (size_t i = 0; i < c->nreasons; i++)
		fprintf(f, "      # %s\n", c->reasons[i]);
	for (size_t i = 0; i < it->nafter; i++)
		fprintf(f, "      # waits for %s\n", p->items[it->after[i]].change->address);
	if (it->hold)
		fprintf(f, "      # held: %s\n", it->hold);
	for (size_t i = 0; i < NNOTES; i++)
		print_notes(f, c->extra, notes[i].key, notes[i].heading);
	if (is_creation(c))
		each_created_leaf(c, text_leaf, f);
	else
		print_fields(f, c->fields, c->nfields);
}

static int shown_item(const wsr_plan_item *it)
{
	return it->change->nactions || it->record != WSR_REC_NONE || it->orphan || unrepaired(it);
}

/* Whether the items shown come from more than one provider: then each
 * provider's items (adjacent, as addresses start with its name) get a heading. */
static int several_providers(const wsr_plan *p)
{
	const char *first = NULL;
	for (size_t i = 0; i < p->n; i++) {
		if (!shown_item(&p->items[i]))
			continue;
		const char *prov = p->items[i].change->provider;
		if (first && strcmp(first, prov) != 0)
			return 1;
		first = prov;
	}
	return 0;
}

static int held_count(const wsr_plan *p)
{
	int n = 0;
	for (size_t i = 0; p && i < p->n; i++)
		n += p->items[i].hold != NULL;
	return n;
}

/* The plan's last line: what it would do in counts ("2 to create, ...",
 * after `lead`), or that there is nothing to do. */
static void summary_sentence(wsr_buf *b, const wsr_plan *p, const char *lead)
{
	wsr_plan_summary s = wsr_plan_summarize(p);
	if (p->refresh_only) {
		if (p->ndrift)
			wsr_buf_printf(
			    b,
			    "Refresh only: apply records what the platforms report for %zu "
			    "resource%s in state and changes nothing on the platforms.",
			    p->ndrift, p->ndrift == 1 ? "" : "s");
		else
			wsr_buf_puts(b, "No drift. State matches what the platforms report.");
		return;
	}
	int broken = 0;
	for (size_t i = 0; i < p->n; i++)
		broken += unrepaired(&p->items[i]);
	if (!wsr_plan_has_changes(p) && broken) {
		wsr_buf_printf(b,
			       "No changes can be planned: %d workspace%s need%s a repair wsr "
			       "cannot make (see the errors).",
			       broken, broken == 1 ? "" : "s", broken == 1 ? "s" : "");
		return;
	}
	if (!wsr_plan_has_changes(p)) {
		wsr_buf_printf(b, "No changes. The platform matches the specs (%d workspaces).",
			       s.noop);
		return;
	}
	wsr_buf_printf(b, "%s%d to create, %d to update, %d to replace, %d to delete", lead,
		       s.create, s.update, s.replace, s.remove);
	if (s.transfer || s.upgrade)
		wsr_buf_printf(b, ", %d to transfer, %d to upgrade", s.transfer, s.upgrade);
	if (s.adopt || s.forget)
		wsr_buf_printf(b, "; state: %d to record, %d to forget", s.adopt, s.forget);
	int held = held_count(p);
	if (held)
		wsr_buf_printf(b, "; %d held", held);
	if (broken)
		wsr_buf_printf(b, "; %d need%s a repair wsr cannot make", broken,
			       broken == 1 ? "s" : "");
	wsr_buf_putc(b, '.');
}

void wsr_render_text(FILE *f, const wsr_plan *p, int color)
{
	int shown = 0, headings = several_providers(p);
	const char *provider = NULL;
	for (size_t i = 0; i < p->n; i++) {
		const wsr_plan_item *it = &p->items[i];
		if (!shown_item(it))
			continue;
		if (!shown++)
			fprintf(f, "wsr will perform the following actions:\n\n");
		if (headings && (!provider || strcmp(provider, it->change->provider) != 0)) {
			provider = it->change->provider;
			fprintf(f, "%s:\n", provider);
		}
		print_item(f, p, it, color);
		fputc('\n', f);
	}
	if (p->ndrift) {
		fprintf(f, "Drift (changed outside wsr since the last apply):\n\n");
		for (size_t i = 0; i < p->ndrift; i++) {
			fprintf(f, "  ~   %s%s\n", p->drift[i].address,
				p->drift[i].gone ? ": deleted outside wsr" : "");
			for (size_t j = 0; j < p->drift[i].nfields; j++) {
				const wsr_field_change *fc = &p->drift[i].fields[j];
				fprintf(f, "      changed outside wsr: %s ", fc->path);
				print_value(f, fc->after, fc->sensitive);
				fputs(" -> ", f);
				print_value(f, fc->before, fc->sensitive);
				fputc('\n', f);
			}
		}
		fputc('\n', f);
	}
	wsr_buf b = WSR_BUF_INIT;
	summary_sentence(&b, p, "Plan: ");
	fprintf(f, "%s\n", wsr_buf_str(&b));
	wsr_buf_free(&b);
}

static cJSON *json_or_null(const cJSON *v)
{
	return v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
}

/* cause: whether to say per field if the spec or drift caused it. */
static cJSON *fields_json(const wsr_field_change *v, size_t n, const char *before,
			  const char *after, int cause)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; arr && i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToArray(arr, o);
		cJSON_AddStringToObject(o, "path", v[i].path);
		if (v[i].sensitive) {
			cJSON_AddStringToObject(o, before, "(sensitive)");
			cJSON_AddStringToObject(o, after, "(sensitive)");
		} else {
			cJSON_AddItemToObject(o, before, json_or_null(v[i].before));
			cJSON_AddItemToObject(o, after, json_or_null(v[i].after));
		}
		cJSON_AddBoolToObject(o, "forcesReplacement", v[i].replace);
		if (v[i].operation)
			cJSON_AddStringToObject(o, "operation", v[i].operation);
		if (cause)
			cJSON_AddStringToObject(o, "cause", v[i].drift ? "drift" : "spec");
	}
	return arr;
}

static cJSON *spec_json(const wsr_change *c, const wsr_resource *r)
{
	if (!r || !r->spec)
		return cJSON_CreateNull();
	return wsr_diff_redact(wsr_diff_spec_schema(c->kind), r->spec);
}

static cJSON *change_json(const wsr_plan *p, const wsr_plan_item *it)
{
	const wsr_change *c = it->change;
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "address", c->address);
	cJSON_AddStringToObject(o, "kind", c->kind);
	cJSON_AddStringToObject(o, "provider", c->provider);
	cJSON *acts = cJSON_AddArrayToObject(o, "actions");
	for (int i = 0; i < c->nactions; i++)
		cJSON_AddItemToArray(acts, cJSON_CreateString(wsr_action_name(c->actions[i])));
	cJSON_AddItemToObject(o, "fields",
			      fields_json(c->fields, c->nfields, "before", "after", 1));
	cJSON_AddBoolToObject(o, "disruptive", c->disruptive);
	cJSON *waits = cJSON_AddArrayToObject(o, "waitsFor");
	for (size_t i = 0; i < it->nafter; i++)
		cJSON_AddItemToArray(waits,
				     cJSON_CreateString(p->items[it->after[i]].change->address));
	cJSON_AddItemToObject(o, "before", spec_json(c, c->observed));
	cJSON_AddItemToObject(o, "after", spec_json(c, c->desired));
	cJSON *reasons = cJSON_AddArrayToObject(o, "reasons");
	for (size_t i = 0; i < c->nreasons; i++)
		cJSON_AddItemToArray(reasons, cJSON_CreateString(c->reasons[i]));
	if (c->observed && c->observed->health != WSR_HEALTH_OK)
		cJSON_AddStringToObject(o, "repair",
					c->observed->health_why ? c->observed->health_why : "");
	else
		cJSON_AddNullToObject(o, "repair");
	if (c->desired && c->desired->file) {
		char *src =
		    wsr_strdupf("%s:%d:%d", c->desired->file, c->desired->line, c->desired->col);
		cJSON_AddStringToObject(o, "source", src ? src : c->desired->file);
		free(src);
	} else {
		cJSON_AddNullToObject(o, "source");
	}
	const char *rec = it->record == WSR_REC_ADOPT	 ? "record"
			  : it->record == WSR_REC_FORGET ? "forget"
							 : NULL;
	if (rec)
		cJSON_AddStringToObject(o, "state", rec);
	else
		cJSON_AddNullToObject(o, "state");
	if (it->hold)
		cJSON_AddStringToObject(o, "held", it->hold);
	else
		cJSON_AddNullToObject(o, "held");
	char until[32];
	if (it->hold && it->hold_until_ms &&
	    wsr_time_format(it->hold_until_ms, until, sizeof(until)))
		cJSON_AddStringToObject(o, "heldUntil", until);
	else
		cJSON_AddNullToObject(o, "heldUntil");
	const cJSON *x;
	cJSON_ArrayForEach(x, c->extra)
	{
		cJSON_AddItemToObject(o, x->string, cJSON_Duplicate(x, 1));
	}
	return o;
}

static cJSON *summary_json(const wsr_plan *p)
{
	wsr_plan_summary s = p ? wsr_plan_summarize(p) : (wsr_plan_summary){0};
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "create", s.create);
	cJSON_AddNumberToObject(o, "update", s.update);
	cJSON_AddNumberToObject(o, "replace", s.replace);
	cJSON_AddNumberToObject(o, "delete", s.remove);
	cJSON_AddNumberToObject(o, "transfer", s.transfer);
	cJSON_AddNumberToObject(o, "upgrade", s.upgrade);
	cJSON_AddNumberToObject(o, "record", s.adopt);
	cJSON_AddNumberToObject(o, "forget", s.forget);
	cJSON_AddNumberToObject(o, "unchanged", s.noop);
	cJSON_AddNumberToObject(o, "drift", s.drift);
	cJSON_AddNumberToObject(o, "held", held_count(p));
	cJSON_AddBoolToObject(o, "changes", p && wsr_plan_has_changes(p));
	return o;
}

cJSON *wsr_render_json(const wsr_plan *p, const wsr_diag *diag)
{
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "format", WSR_PLAN_FORMAT);
	cJSON_AddBoolToObject(root, "refreshOnly", p && p->refresh_only);
	cJSON *changes = cJSON_AddArrayToObject(root, "changes");
	cJSON *drift = cJSON_AddArrayToObject(root, "drift");
	for (size_t i = 0; p && i < p->n; i++)
		cJSON_AddItemToArray(changes, change_json(p, &p->items[i]));
	for (size_t i = 0; p && i < p->ndrift; i++) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddItemToArray(drift, d);
		cJSON_AddStringToObject(d, "address", p->drift[i].address);
		cJSON_AddBoolToObject(d, "gone", p->drift[i].gone);
		cJSON_AddItemToObject(d, "fields",
				      fields_json(p->drift[i].fields, p->drift[i].nfields,
						  "observed", "recorded", 0));
	}
	cJSON *diags = diag ? wsr_diag_to_json(diag) : cJSON_CreateArray();
	cJSON_AddItemToObject(root, "diagnostics", diags ? diags : cJSON_CreateArray());
	cJSON_AddItemToObject(root, "summary", summary_json(p));
	return root;
}

/* Markdown. A pull-request comment is read in a browser, so text from specs
 * and platforms (file names, reasons, values) must neither break the table
 * nor become markup: inline text is backslash-escaped, HTML text entity-
 * escaped, and fenced diff lines stripped of line breaks so no line can
 * close the fence. */

/* Appends s for an inline Markdown context (a table cell, a list item):
 * every character Markdown or HTML could read as syntax is escaped with a
 * backslash (the backslash too, or "\|" could be undone), a line break
 * becomes <br> so a table row stays one line, other control bytes '?'. */
static void md_text(wsr_buf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\r' && s[1] == '\n')
			continue;
		if (c == '\n' || c == '\r')
			wsr_buf_puts(b, "<br>");
		else if (c < 0x20 || c == 0x7f)
			wsr_buf_putc(b, '?');
		else {
			if (strchr("\\`*_<>[]|~&#", c))
				wsr_buf_putc(b, '\\');
			wsr_buf_putc(b, (char)c);
		}
	}
}

/* Appends one line: lead (Markdown, as is), then text escaped. */
static void md_line(wsr_buf *b, const char *lead, const char *text)
{
	wsr_buf_puts(b, lead);
	md_text(b, text);
	wsr_buf_putc(b, '\n');
}

/* Appends s as HTML text (for <summary>, where Markdown is not read). */
static void html_text(wsr_buf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '&')
			wsr_buf_puts(b, "&amp;");
		else if (c == '<')
			wsr_buf_puts(b, "&lt;");
		else if (c == '>')
			wsr_buf_puts(b, "&gt;");
		else if (c == '"')
			wsr_buf_puts(b, "&quot;");
		else if (c < 0x20 || c == 0x7f)
			wsr_buf_putc(b, c == '\n' ? ' ' : '?');
		else
			wsr_buf_putc(b, (char)c);
	}
}

/* Appends s inside a fenced block: verbatim but for control bytes, so a
 * line break in a key cannot start a line that closes the fence. */
static void code_text(wsr_buf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		wsr_buf_putc(b, c < 0x20 || c == 0x7f ? '?' : (char)c);
	}
}

/* One "+ path = value" / "- path = value" line of a ```diff block. */
static void md_diff_line(wsr_buf *b, char sign, const char *path, const cJSON *v, int sensitive,
			 const char *note)
{
	wsr_buf val = WSR_BUF_INIT;
	put_value(&val, v, sensitive);
	wsr_buf_putc(b, sign);
	wsr_buf_putc(b, ' ');
	code_text(b, path);
	wsr_buf_puts(b, " = ");
	code_text(b, wsr_buf_str(&val));
	if (note)
		wsr_buf_puts(b, note);
	wsr_buf_putc(b, '\n');
	wsr_buf_free(&val);
}

static void md_leaf(void *ctx, const char *path, const cJSON *v, int sensitive)
{
	md_diff_line(ctx, '+', path, v, sensitive, NULL);
}

/* The diff lines of a change: the leaves of a creation, else each field as
 * its old value (-) and new value (+), an absent side left out. */
static void md_diff(wsr_buf *b, const wsr_change *c)
{
	if (is_creation(c)) {
		each_created_leaf(c, md_leaf, b);
		return;
	}
	for (size_t i = 0; i < c->nfields; i++) {
		const wsr_field_change *fc = &c->fields[i];
		const char *note = fc->replace ? "   # forces replacement"
				   : fc->drift ? "   # changed outside wsr"
					       : NULL;
		if (fc->before || fc->sensitive)
			md_diff_line(b, '-', fc->path, fc->before, fc->sensitive, NULL);
		if (fc->after || fc->sensitive)
			md_diff_line(b, '+', fc->path, fc->after, fc->sensitive, note);
	}
}

static void md_source(wsr_buf *b, const wsr_change *c)
{
	if (!c->desired || !c->desired->file)
		return;
	char line[32];
	snprintf(line, sizeof(line), ":%d", c->desired->line);
	wsr_buf_puts(b, " (");
	md_text(b, c->desired->file);
	wsr_buf_puts(b, line);
	wsr_buf_putc(b, ')');
}

static void md_row(wsr_buf *b, const wsr_plan *p, const wsr_plan_item *it)
{
	const wsr_change *c = it->change;
	const char *sym = wsr_render_symbol(it);
	wsr_buf_puts(b, "| ");
	if (strcmp(sym, " ") != 0)
		wsr_buf_printf(b, "`%s`", sym);
	wsr_buf_puts(b, " | ");
	md_text(b, c->address);
	md_source(b, c);
	wsr_buf_puts(b, " | ");
	for (int i = 0; i < c->nactions; i++)
		wsr_buf_printf(b, "%s%s", i ? ", " : "", wsr_action_name(c->actions[i]));
	if (!c->nactions)
		wsr_buf_puts(b, it->record == WSR_REC_ADOPT    ? "record in state"
				: it->record == WSR_REC_FORGET ? "forget from state"
							       : "none");
	if (c->disruptive)
		wsr_buf_puts(b, " **(disruptive)**");
	wsr_buf_puts(b, " | ");
	const char *sep = "";
	if (it->hold) {
		wsr_buf_puts(b, "**held:** ");
		md_text(b, it->hold);
		sep = "; ";
	}
	for (size_t i = 0; i < c->nreasons; i++, sep = "; ") {
		wsr_buf_puts(b, sep);
		md_text(b, c->reasons[i]);
	}
	for (size_t i = 0; i < it->nafter; i++, sep = "; ") {
		wsr_buf_puts(b, sep);
		wsr_buf_puts(b, "waits for ");
		md_text(b, p->items[it->after[i]].change->address);
	}
	wsr_buf_puts(b, " |\n");
}

/* A change's details: the provider's notes and the diff, collapsed. Nothing
 * when it has neither (a record or forget in state). */
static void md_details(wsr_buf *b, const wsr_plan_item *it)
{
	const wsr_change *c = it->change;
	wsr_buf diff = WSR_BUF_INIT, list = WSR_BUF_INIT;
	md_diff(&diff, c);
	for (size_t i = 0; i < NNOTES; i++) {
		const cJSON *arr = cJSON_GetObjectItemCaseSensitive(c->extra, notes[i].key), *n;
		if (!cJSON_IsArray(arr) || !arr->child)
			continue;
		wsr_buf_printf(&list, "- %s\n", notes[i].heading);
		cJSON_ArrayForEach(n, arr)
		{
			if (cJSON_IsString(n))
				md_line(&list, "  - ", n->valuestring);
		}
	}
	if (diff.len || list.len) {
		wsr_buf_puts(b, "<details><summary><code>");
		html_text(b, c->address);
		wsr_buf_puts(b, "</code>");
		if (it->hold) {
			wsr_buf_puts(b, " (held: ");
			html_text(b, it->hold);
			wsr_buf_putc(b, ')');
		}
		wsr_buf_puts(b, "</summary>\n\n");
		if (list.len)
			wsr_buf_printf(b, "%s\n", wsr_buf_str(&list));
		if (diff.len)
			wsr_buf_printf(b, "```diff\n%s```\n\n", wsr_buf_str(&diff));
		wsr_buf_puts(b, "</details>\n\n");
	}
	wsr_buf_free(&diff);
	wsr_buf_free(&list);
}

static void md_drift(wsr_buf *b, const wsr_plan *p)
{
	if (!p->ndrift)
		return;
	wsr_buf_puts(b, "### Drift (changed outside wsr since the last apply)\n\n");
	for (size_t i = 0; i < p->ndrift; i++) {
		const wsr_drift *d = &p->drift[i];
		wsr_buf_puts(b, "- ");
		md_text(b, d->address);
		wsr_buf_puts(b, d->gone ? ": deleted outside wsr\n" : "\n");
		for (size_t j = 0; j < d->nfields; j++) {
			const wsr_field_change *fc = &d->fields[j];
			wsr_buf v = WSR_BUF_INIT;
			wsr_buf_puts(b, "  - ");
			md_text(b, fc->path);
			wsr_buf_puts(b, ": ");
			put_value(&v, fc->after, fc->sensitive);
			md_text(b, wsr_buf_str(&v));
			wsr_buf_puts(b, " -> "); /* a '>' inside a line is no markup */
			wsr_buf_clear(&v);
			put_value(&v, fc->before, fc->sensitive);
			md_text(b, wsr_buf_str(&v));
			wsr_buf_putc(b, '\n');
			wsr_buf_free(&v);
		}
	}
	wsr_buf_putc(b, '\n');
}

static void md_diags(wsr_buf *b, const wsr_diag *diag)
{
	if (!diag || (!diag->n && !diag->dropped))
		return;
	static const char *const sev[] = {"error", "warning", "note"};
	wsr_buf_puts(b, "### Errors and warnings\n\n");
	for (size_t i = 0; i < diag->n; i++) {
		const wsr_diag_entry *e = &diag->v[i];
		char addr[WSR_DIAG_SHORT_SIZE];
		wsr_diag_short(addr, sizeof(addr), e->address);
		wsr_buf_printf(b, "- **%s** ", sev[e->severity]);
		if (e->file) {
			md_text(b, e->file);
			wsr_buf_printf(b, ":%d:%d: ", e->line, e->col);
		} else if (e->address) {
			md_text(b, addr);
			wsr_buf_puts(b, ": ");
		}
		md_line(b, "", e->summary);
		if (e->file && e->address)
			md_line(b, "  - resource: ", addr);
		if (e->detail)
			md_line(b, "  - ", e->detail);
		if (e->hint)
			md_line(b, "  - hint: ", e->hint);
	}
	if (diag->dropped)
		wsr_buf_printf(b, "- %zu more diagnostics not shown\n", diag->dropped);
	wsr_buf_putc(b, '\n');
}

void wsr_render_markdown(FILE *f, const wsr_plan *p, const wsr_diag *diag)
{
	wsr_buf b = WSR_BUF_INIT;
	/* a marker CI scripts look for to update their own comment */
	wsr_buf_puts(&b, "<!-- wsr-plan -->\n## wsr plan\n\n");
	size_t errors = diag ? wsr_diag_errors(diag) : 0;
	if (p) {
		wsr_buf_puts(&b, "**");
		summary_sentence(&b, p, "");
		wsr_buf_puts(&b, "**");
		if (errors)
			wsr_buf_printf(&b, " %zu error%s below: apply would refuse this plan.",
				       errors, errors == 1 ? "" : "s");
	} else {
		wsr_buf_printf(&b, "**No plan: planning failed with %zu error%s.**", errors,
			       errors == 1 ? "" : "s");
	}
	wsr_buf_puts(&b, "\n\n");
	int rows = 0;
	for (size_t i = 0; p && i < p->n; i++) {
		if (!shown_item(&p->items[i]))
			continue;
		if (!rows++)
			wsr_buf_puts(&b, "| | address | actions | why |\n|---|---|---|---|\n");
		md_row(&b, p, &p->items[i]);
	}
	if (rows)
		wsr_buf_putc(&b, '\n');
	for (size_t i = 0; p && i < p->n; i++)
		if (shown_item(&p->items[i]))
			md_details(&b, &p->items[i]);
	if (p)
		md_drift(&b, p);
	md_diags(&b, diag);
	if (wsr_buf_failed(&b))
		fputs("(out of memory while rendering the plan)\n", f);
	else
		fputs(wsr_buf_str(&b), f);
	wsr_buf_free(&b);
}
