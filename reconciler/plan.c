/* plan: deciding, per resource, what apply would do and why. Changes the
 * user asked for (the spec moved away from what was last applied) and
 * corrections of drift (the platform moved away) are told apart per field,
 * using the state's record of what was applied. */
#include "reconciler/plan.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "reconciler/diff.h"
#include "reconciler/order.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int label_matches(const cJSON *labels, const char *selector)
{
	const char *eq = strchr(selector, '=');
	if (!eq)
		return 0;
	char key[256];
	size_t n = (size_t)(eq - selector);
	if (n >= sizeof(key))
		return 0;
	memcpy(key, selector, n);
	key[n] = '\0';
	const char *v = wsr_json_str(labels, key);
	return v && strcmp(v, eq + 1) == 0;
}

static int skipped_file(const wsr_plan_opts *o, const char *file)
{
	for (size_t i = 0; file && i < o->nskip_files; i++)
		if (strcmp(o->skip_files[i], file) == 0)
			return 1;
	return 0;
}

static int selected(const wsr_plan_opts *o, const char *address, const cJSON *labels)
{
	if (o->ntargets) {
		size_t i = 0;
		while (i < o->ntargets && strcmp(o->targets[i], address) != 0)
			i++;
		if (i == o->ntargets)
			return 0;
	}
	for (size_t i = 0; i < o->nselectors; i++)
		if (!label_matches(labels, o->selectors[i]))
			return 0;
	return 1;
}

static int prevent_destroy(const cJSON *spec)
{
	return cJSON_IsTrue(wsr_json_path(spec, "lifecycle.preventDestroy"));
}

static void push_action(wsr_change *c, wsr_action a)
{
	for (int i = 0; i < c->nactions; i++)
		if (c->actions[i] == a)
			return;
	if (c->nactions < WSR_MAX_ACTIONS)
		c->actions[c->nactions++] = a;
}

/* Orders actions as the platform must run them: a transfer moves the
 * workspace first, an upgrade follows, in-place updates last. */
static void classify(wsr_change *c)
{
	int replace = 0, transfer = 0, upgrade = 0, update = 0;
	size_t nspec = 0, ndrift = 0;
	for (size_t i = 0; i < c->nfields; i++) {
		const wsr_field_change *f = &c->fields[i];
		if (f->drift)
			ndrift++;
		else
			nspec++;
		if (f->replace)
			replace = 1;
		else if (f->operation && strcmp(f->operation, "transfer") == 0)
			transfer = 1;
		else if (f->operation && strcmp(f->operation, "upgrade") == 0)
			upgrade = 1;
		else
			update = 1;
	}
	if (replace) {
		push_action(c, WSR_ACT_DELETE);
		push_action(c, WSR_ACT_CREATE);
		c->disruptive = 1;
		for (size_t i = 0; i < c->nfields; i++)
			if (c->fields[i].replace)
				wsr_change_add_reason(
				    c, "%s cannot change in place: the workspace is replaced",
				    c->fields[i].path);
		return;
	}
	if (transfer)
		push_action(c, WSR_ACT_TRANSFER);
	if (upgrade) {
		push_action(c, WSR_ACT_UPGRADE);
		c->disruptive = 1;
	}
	if (update)
		push_action(c, WSR_ACT_UPDATE);
	if (c->nactions && nspec)
		wsr_change_add_reason(c, "the spec differs from the platform");
	if (c->nactions && ndrift)
		wsr_change_add_reason(c, "restores %zu field%s changed outside wsr", ndrift,
				      ndrift == 1 ? "" : "s");
}

/* A field is drift when the spec still says what was last applied there:
 * the platform moved, not the spec. */
static void mark_drift(wsr_change *c, const wsr_state_entry *s)
{
	for (size_t i = 0; s && i < c->nfields; i++) {
		wsr_field_change *f = &c->fields[i];
		const cJSON *applied = wsr_json_path(s->applied, f->path);
		f->drift = applied && f->after && cJSON_Compare(applied, f->after, 1);
	}
}

static const cJSON *ignored(const cJSON *spec)
{
	return wsr_json_path(spec, "lifecycle.ignoreChanges");
}

/* Points the change at the effective desired resource (ignored and
 * creation-only fields as observed) and warns about creation-only fields
 * the spec changed to no effect. */
static int use_effective(wsr_change *c, wsr_plan_item *it, const cJSON *schema, wsr_diag *diag)
{
	const wsr_resource *d = c->desired;
	cJSON *spec = NULL;
	wsr_field_change *held = NULL;
	size_t nheld = 0;
	int rc = wsr_diff_effective(&spec, &held, &nheld, schema, d->spec, c->observed->spec,
				    ignored(d->spec));
	for (size_t i = 0; i < nheld; i++) {
		wsr_pos pos = {d->file, d->line, d->col};
		char *was = held[i].before ? cJSON_PrintUnformatted(held[i].before) : NULL;
		char *want = held[i].after ? cJSON_PrintUnformatted(held[i].after) : NULL;
		wsr_diag_add(
		    diag, WSR_SEV_WARNING, d->file ? &pos : NULL, c->address, NULL,
		    "set it back to keep the spec true to the platform, or replace the "
		    "workspace if you need it",
		    "%s is only used when the workspace is created: the change to %s has no "
		    "effect (the platform keeps %s)",
		    held[i].path, want ? want : "?", was ? was : "none");
		free(was);
		free(want);
	}
	wsr_diff_free(held, nheld);
	if (rc || !spec)
		return rc;
	wsr_resource *e = wsr_resource_new(d->address, d->provider, d->kind, d->name);
	if (!e || (d->labels && !(e->labels = cJSON_Duplicate(d->labels, 1))) ||
	    (d->file && !(e->file = strdup(d->file)))) {
		wsr_resource_free(e);
		cJSON_Delete(spec);
		return WSR_ENOMEM;
	}
	e->spec = spec;
	e->line = d->line;
	e->col = d->col;
	it->effective = e;
	c->desired = e;
	return 0;
}

static wsr_change *change_new(const char *address, const wsr_resource *d, const wsr_resource *o,
			      const wsr_state_entry *s)
{
	wsr_change *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	const char *provider = d ? d->provider : s ? s->provider : o->provider;
	const char *kind = d ? d->kind : s ? s->kind : o->kind;
	c->address = strdup(address);
	c->provider = strdup(provider);
	c->kind = strdup(kind);
	c->desired = d;
	c->observed = o;
	if (!c->address || !c->provider || !c->kind) {
		wsr_change_free(c);
		return NULL;
	}
	return c;
}

static int add_drift(wsr_plan *p, const char *address, const cJSON *schema,
		     const wsr_state_entry *s, const wsr_resource *o, const cJSON *ignore)
{
	wsr_drift d = {0};
	if (o) {
		cJSON *applied = NULL, *observed = NULL;
		int rc = wsr_diff_without(&applied, s->applied, ignore);
		if (!rc)
			rc = wsr_diff_without(&observed, o->spec, ignore);
		if (!rc)
			rc = wsr_diff(&d.fields, &d.nfields, schema, applied ? applied : s->applied,
				      observed ? observed : o->spec);
		cJSON_Delete(applied);
		cJSON_Delete(observed);
		if (rc)
			return rc;
		if (!d.nfields)
			return 0;
	} else {
		d.gone = 1;
	}
	wsr_drift *v = realloc(p->drift, (p->ndrift + 1) * sizeof(*v));
	d.address = strdup(address);
	if (!v || !d.address) {
		free(d.address);
		wsr_diff_free(d.fields, d.nfields);
		if (v)
			p->drift = v;
		return WSR_ENOMEM;
	}
	p->drift = v;
	p->drift[p->ndrift++] = d;
	return 0;
}

static void refuse_replace(const wsr_change *c, wsr_diag *diag)
{
	wsr_buf fields = WSR_BUF_INIT;
	for (size_t i = 0; i < c->nfields; i++)
		if (c->fields[i].replace)
			wsr_buf_printf(&fields, "%s%s", fields.len ? ", " : "", c->fields[i].path);
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, c->address,
		     "a replacement deletes the workspace with everything on it, then creates a "
		     "new, empty one",
		     "revert the field, or pass --allow-replace to plan and apply if the "
		     "replacement is intended",
		     "changing %s replaces this workspace, which is refused without "
		     "--allow-replace",
		     fields.len ? wsr_buf_str(&fields) : "the spec");
	wsr_buf_free(&fields);
}

/* A resource the platform reports broken is never in sync, whatever its
 * spec says, and never adopted as it is. One whose creation failed is
 * replaced: nothing runs on it, so the replacement loses nothing, needs no
 * --allow-replace and interrupts nothing (lifecycle.preventDestroy still
 * holds). One the API cannot repair is refused with the platform's reason. */
static void plan_repair(wsr_change *c, wsr_plan_item *it, wsr_diag *diag)
{
	const wsr_resource *o = c->observed;
	const char *why = o->health_why ? o->health_why : "the platform reports it broken";
	it->record = WSR_REC_NONE;
	c->nactions = 0;
	c->disruptive = 0;
	wsr_change_add_reason(c, "%s", why);
	if (o->health != WSR_HEALTH_REPLACE) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, c->address, NULL,
			     "repair it on the platform; once it works again, the next plan shows "
			     "what is left to do",
			     "%s; wsr cannot repair that through the platform's API, so nothing "
			     "is planned for it",
			     why);
		return;
	}
	push_action(c, WSR_ACT_DELETE);
	push_action(c, WSR_ACT_CREATE);
	wsr_change_add_reason(c, "needs repair: apply deletes it and creates it again from the "
				 "spec (nothing runs on it, so this needs no --allow-replace)");
	if (prevent_destroy(c->desired->spec))
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, c->address, NULL,
			     "set lifecycle.preventDestroy to false to let wsr replace it, or "
			     "delete it on the platform",
			     "lifecycle.preventDestroy forbids replacing this workspace, which "
			     "needs repair: %s",
			     why);
}

static int plan_wanted(wsr_change *c, wsr_plan_item *it, const cJSON *schema,
		       const wsr_plan_opts *opts, wsr_diag *diag)
{
	const wsr_resource *o = c->observed;
	if (!o) {
		push_action(c, WSR_ACT_CREATE);
		wsr_change_add_reason(c, it->recorded
					     ? "recorded in state but no longer on the "
					       "platform (deleted outside wsr): it is created again"
					     : "new in the specs");
		return 0;
	}
	int rc = use_effective(c, it, schema, diag);
	if (!rc)
		rc = wsr_diff(&c->fields, &c->nfields, schema, c->desired->spec, o->spec);
	if (rc)
		return rc;
	mark_drift(c, it->recorded);
	if (o->health != WSR_HEALTH_OK) {
		plan_repair(c, it, diag);
		return 0;
	}
	classify(c);
	if (c->nactions && c->actions[0] == WSR_ACT_DELETE) {
		if (prevent_destroy(c->desired->spec))
			wsr_diag_add(diag, WSR_SEV_ERROR, NULL, c->address, NULL,
				     "set lifecycle.preventDestroy to false first if the "
				     "replacement is intended",
				     "lifecycle.preventDestroy forbids replacing this workspace");
		else if (!opts->allow_replace)
			refuse_replace(c, diag);
	}
	if (!it->recorded) {
		it->record = WSR_REC_ADOPT;
		wsr_change_add_reason(c,
				      "exists on the platform but not in state: apply records it");
	}
	return 0;
}

static void plan_unwanted(wsr_change *c, wsr_plan_item *it, int prune, wsr_diag *diag)
{
	if (!c->observed) {
		it->record = WSR_REC_FORGET;
		wsr_change_add_reason(c,
				      "gone from the specs and from the platform: apply removes it "
				      "from state");
		return;
	}
	if (!prune) {
		it->orphan = 1;
		wsr_change_add_reason(c, "no longer in the specs; kept because prune is off "
					 "(--prune deletes it)");
		return;
	}
	if (prevent_destroy(it->recorded->applied)) {
		wsr_diag_add(
		    diag, WSR_SEV_ERROR, NULL, c->address, NULL,
		    "restore its spec, or set preventDestroy to false and apply before removing it",
		    "lifecycle.preventDestroy forbids deleting this workspace");
		return;
	}
	push_action(c, WSR_ACT_DELETE);
	wsr_change_add_reason(c, "no longer in the specs, and prune is on");
}

static int plan_one(wsr_plan *p, const char *address, const wsr_resource_set *desired,
		    const wsr_resource_set *observed, const wsr_state *state,
		    const wsr_plan_opts *opts, wsr_diag *diag)
{
	const wsr_resource *d = wsr_resource_set_find(desired, address);
	const wsr_resource *o = wsr_resource_set_find(observed, address);
	const wsr_state_entry *s = state ? wsr_state_find(state, address) : NULL;
	if (!selected(opts, address,
		      d	  ? d->labels
		      : s ? s->labels
			  : NULL) ||
	    skipped_file(opts, d ? d->file : NULL) || skipped_file(opts, s ? s->file : NULL))
		return 0;
	wsr_plan_item *it = &p->items[p->n];
	memset(it, 0, sizeof(*it));
	it->recorded = s;
	it->change = change_new(address, d, o, s);
	if (!it->change)
		return WSR_ENOMEM;
	p->n++;
	const cJSON *schema = wsr_diff_spec_schema(it->change->kind);
	const cJSON *ignore = ignored(d ? d->spec : s ? s->applied : NULL);
	if (opts->refresh_only)
		return s ? add_drift(p, address, schema, s, o, ignore) : 0;
	int rc = 0;
	if (d)
		rc = plan_wanted(it->change, it, schema, opts, diag);
	else
		plan_unwanted(it->change, it, opts->prune, diag);
	if (!rc && s && (o || d))
		rc = add_drift(p, address, schema, s, o, ignore);
	return rc;
}

int wsr_plan_build(wsr_plan **out, const wsr_resource_set *desired,
		   const wsr_resource_set *observed, const wsr_state *state,
		   const wsr_plan_opts *opts, wsr_diag *diag)
{
	*out = NULL;
	size_t max = desired->n + (state ? state->n : 0);
	const char **addrs = calloc(max ? max : 1, sizeof(*addrs));
	wsr_plan *p = calloc(1, sizeof(*p));
	if (p)
		p->items = calloc(max ? max : 1, sizeof(*p->items));
	if (!addrs || !p || !p->items) {
		free(addrs);
		wsr_plan_free(p);
		return WSR_ENOMEM;
	}
	size_t n = 0;
	for (size_t i = 0; i < desired->n; i++)
		addrs[n++] = desired->v[i]->address;
	for (size_t i = 0; state && i < state->n; i++)
		if (!wsr_resource_set_find(desired, state->v[i]->address))
			addrs[n++] = state->v[i]->address;
	qsort(addrs, n, sizeof(*addrs), cmp_str);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++)
		rc = plan_one(p, addrs[i], desired, observed, state, opts, diag);
	free(addrs);
	if (state) {
		p->lineage = strdup(state->lineage ? state->lineage : "");
		p->serial = state->serial;
	}
	p->refresh_only = opts->refresh_only;
	p->allow_cascade = opts->allow_cascade;
	if (!rc)
		rc = wsr_order_build(p, observed, diag);
	if (rc) {
		wsr_plan_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

wsr_plan_item *wsr_plan_find(const wsr_plan *p, const char *address)
{
	size_t lo = 0, hi = p->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(p->items[mid].change->address, address);
		if (c == 0)
			return &p->items[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int deletes(const wsr_change *c)
{
	for (int i = 0; i < c->nactions; i++)
		if (c->actions[i] == WSR_ACT_DELETE)
			return 1;
	return 0;
}

/* A deletion destroys what the platform nests in it (the provider listed
 * it afresh in extra.descendants). Each descendant the plan does not delete
 * itself would go without a plan line of its own: refused unless the user
 * said --allow-cascade. The engine owns the rule so every provider gets it. */
static int cascade_check(const wsr_plan *p, wsr_change *c, wsr_diag *diag)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(c->extra, "descendants"), *d;
	wsr_buf names = WSR_BUF_INIT;
	size_t n = 0;
	cJSON_ArrayForEach(d, list)
	{
		const wsr_plan_item *it =
		    cJSON_IsString(d) ? wsr_plan_find(p, d->valuestring) : NULL;
		if (!cJSON_IsString(d) || (it && deletes(it->change)))
			continue;
		if (n++ < WSR_PLAN_NAMES_SHOWN)
			wsr_buf_printf(&names, "%s%s", n > 1 ? ", " : "", d->valuestring);
	}
	if (n > WSR_PLAN_NAMES_SHOWN)
		wsr_buf_printf(&names, " and %zu more", n - WSR_PLAN_NAMES_SHOWN);
	int rc = wsr_buf_failed(&names) ? WSR_ENOMEM : 0;
	if (!rc && n && p->allow_cascade)
		rc = wsr_change_add_reason(c,
					   "destroys %zu nested workspace%s not planned for "
					   "deletion (--allow-cascade): %s",
					   n, n == 1 ? "" : "s", wsr_buf_str(&names));
	else if (!rc && n)
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, c->address,
			     "the platform deletes everything nested in a workspace with it; "
			     "the plan lists them under \"destroys\"",
			     "delete them in the same plan (remove their specs, --prune), keep "
			     "this workspace, or pass --allow-cascade to plan and apply",
			     "deleting %s would also destroy %zu workspace%s not planned for "
			     "deletion: %s",
			     c->address, n, n == 1 ? "" : "s", wsr_buf_str(&names));
	wsr_buf_free(&names);
	return rc;
}

int wsr_plan_check(wsr_plan *p, wsr_engine *e, wsr_diag *diag)
{
	for (size_t i = 0; i < p->n; i++) {
		wsr_change *c = p->items[i].change;
		if (!c->nactions)
			continue;
		wsr_engine_provider *ep = wsr_engine_provider_get(e, c->provider);
		if (!ep)
			continue; /* never opened: refresh already reported why */
		int rc = ep->ops->check(ep->p, c, diag);
		if (!rc && deletes(c))
			rc = cascade_check(p, c, diag);
		if (rc)
			return rc;
	}
	return 0;
}

wsr_plan_summary wsr_plan_summarize(const wsr_plan *p)
{
	wsr_plan_summary s = {0};
	for (size_t i = 0; i < p->n; i++) {
		const wsr_plan_item *it = &p->items[i];
		const wsr_change *c = it->change;
		if (it->record == WSR_REC_ADOPT)
			s.adopt++;
		if (it->record == WSR_REC_FORGET)
			s.forget++;
		if (!c->nactions) {
			if (it->record == WSR_REC_NONE)
				s.noop++;
			continue;
		}
		if (c->nactions == 2 && c->actions[0] == WSR_ACT_DELETE &&
		    c->actions[1] == WSR_ACT_CREATE) {
			s.replace++;
			continue;
		}
		for (int a = 0; a < c->nactions; a++) {
			switch (c->actions[a]) {
			case WSR_ACT_CREATE:
				s.create++;
				break;
			case WSR_ACT_UPDATE:
				s.update++;
				break;
			case WSR_ACT_TRANSFER:
				s.transfer++;
				break;
			case WSR_ACT_UPGRADE:
				s.upgrade++;
				break;
			case WSR_ACT_DELETE:
				s.remove++;
				break;
			}
		}
	}
	s.drift = (int)p->ndrift;
	return s;
}

int wsr_plan_has_changes(const wsr_plan *p)
{
	if (p->refresh_only)
		return p->ndrift > 0;
	for (size_t i = 0; i < p->n; i++)
		if (p->items[i].change->nactions || p->items[i].record != WSR_REC_NONE)
			return 1;
	return 0;
}

void wsr_plan_free(wsr_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		wsr_change_free(p->items[i].change);
		wsr_resource_free(p->items[i].effective);
		free(p->items[i].after);
		free(p->items[i].hold);
	}
	free(p->items);
	for (size_t i = 0; i < p->ndrift; i++) {
		free(p->drift[i].address);
		wsr_diff_free(p->drift[i].fields, p->drift[i].nfields);
	}
	free(p->drift);
	free(p->lineage);
	free(p);
}
