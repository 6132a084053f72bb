/* render: plans as text and as JSON. */
#include "reconciler/render.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "reconciler/diff.h"

static int is_replace(const wsr_change *c)
{
	return c->nactions == 2 && c->actions[0] == WSR_ACT_DELETE &&
	       c->actions[1] == WSR_ACT_CREATE;
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

static void print_value(FILE *f, const cJSON *v, int sensitive)
{
	if (sensitive) {
		fputs("(sensitive)", f);
		return;
	}
	if (!v) {
		fputs("(none)", f);
		return;
	}
	char *s = cJSON_PrintUnformatted(v);
	fputs(s ? s : "?", f);
	free(s);
}

/* Prints every leaf of a value as "+ path = value", for creations. */
static void print_leaves(FILE *f, const cJSON *schema, const cJSON *v, wsr_buf *path)
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
			print_leaves(f, sub, item, path);
			path->len = mark;
			path->data[mark] = '\0';
		}
		return;
	}
	int sensitive = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(schema, "x-wsr-sensitive"));
	fprintf(f, "      + %s = ", wsr_buf_str(path));
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
	print_notes(f, c->extra, "destroys", "destroys:");
	print_notes(f, c->extra, "backupFirst", "back up first:");
	print_notes(f, c->extra, "verifyAfter", "verify after the transfer:");
	if (c->nactions && c->actions[c->nactions - 1] == WSR_ACT_CREATE && !is_replace(c)) {
		wsr_buf path = WSR_BUF_INIT;
		wsr_buf_puts(&path, "");
		print_leaves(f, wsr_diff_spec_schema(c->kind), c->desired->spec, &path);
		wsr_buf_free(&path);
	} else {
		print_fields(f, c->fields, c->nfields);
	}
}

static int shown_item(const wsr_plan_item *it)
{
	return it->change->nactions || it->record != WSR_REC_NONE || it->orphan;
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
	wsr_plan_summary s = wsr_plan_summarize(p);
	if (p->refresh_only) {
		if (p->ndrift)
			fprintf(f,
				"Refresh only: apply records what the platforms report for %zu "
				"resource%s in state and changes nothing on the platforms.\n",
				p->ndrift, p->ndrift == 1 ? "" : "s");
		else
			fprintf(f, "No drift. State matches what the platforms report.\n");
		return;
	}
	if (!wsr_plan_has_changes(p)) {
		fprintf(f, "No changes. The platform matches the specs (%d workspaces).\n", s.noop);
		return;
	}
	fprintf(f, "Plan: %d to create, %d to update, %d to replace, %d to delete", s.create,
		s.update, s.replace, s.remove);
	if (s.transfer || s.upgrade)
		fprintf(f, ", %d to transfer, %d to upgrade", s.transfer, s.upgrade);
	if (s.adopt || s.forget)
		fprintf(f, "; state: %d to record, %d to forget", s.adopt, s.forget);
	fprintf(f, ".\n");
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
