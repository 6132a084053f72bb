/* order: edges between plan items from the platforms' nesting.
 *
 * Items are sorted by address, so an item is found by binary search. The
 * children a resource has on the platform come from one pass over the
 * observed set (a map from parent address to its children), not from a
 * scan per item: a plan of 10,000 workspaces stays linear. */
#include "reconciler/order.h"

#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/hmap.h"
#include "providers/provider.h"

typedef struct kids {
	char *parent; /* the key */
	size_t *v;    /* indices into observed */
	size_t n, cap;
} kids;

typedef struct order {
	wsr_plan *p;
	const wsr_resource_set *observed;
	wsr_diag *diag;
	wsr_hmap children; /* parent address -> kids */
	kids **all;
	size_t nall;
	int rc;
} order;

static int has(const wsr_change *c, wsr_action a)
{
	for (int i = 0; i < c->nactions; i++)
		if (c->actions[i] == a)
			return 1;
	return 0;
}

/* The parent address of a resource into buf ("" when none or unknown). */
static void parent_of(const char *provider, const char *kind, const char *address, char *buf,
		      size_t n)
{
	const wsr_provider_ops *ops = wsr_provider_find(provider);
	buf[0] = '\0';
	if (ops && ops->parent && ops->parent(kind, address, buf, n) != 0)
		buf[0] = '\0';
}

static void add_edge(order *o, wsr_plan_item *it, const wsr_plan_item *first)
{
	size_t *v = realloc(it->after, (it->nafter + 1) * sizeof(*v));
	if (!v) {
		o->rc = WSR_ENOMEM;
		return;
	}
	it->after = v;
	it->after[it->nafter++] = (size_t)(first - o->p->items);
}

static int index_children(order *o)
{
	char parent[WSR_ADDRESS_MAX + 1];
	for (size_t i = 0; i < o->observed->n; i++) {
		const wsr_resource *r = o->observed->v[i];
		parent_of(r->provider, r->kind, r->address, parent, sizeof(parent));
		if (!*parent)
			continue;
		kids *k = wsr_hmap_get(&o->children, parent);
		if (!k) {
			kids **all = realloc(o->all, (o->nall + 1) * sizeof(*all));
			if (!all)
				return WSR_ENOMEM;
			o->all = all;
			k = calloc(1, sizeof(*k));
			if (!k || !(k->parent = strdup(parent))) {
				free(k);
				return WSR_ENOMEM;
			}
			o->all[o->nall++] = k;
			if (wsr_hmap_put(&o->children, k->parent, k))
				return WSR_ENOMEM;
		}
		if (k->n == k->cap) {
			size_t cap = k->cap ? k->cap * 2 : 4;
			size_t *v = realloc(k->v, cap * sizeof(*v));
			if (!v)
				return WSR_ENOMEM;
			k->v = v;
			k->cap = cap;
		}
		k->v[k->n++] = i;
	}
	return 0;
}

/* A creation waits for its parent's creation; the parent must exist or be
 * created, and must not be deleted by the same plan. */
static void order_create(order *o, wsr_plan_item *it)
{
	const wsr_change *c = it->change;
	char parent[WSR_ADDRESS_MAX + 1];
	parent_of(c->provider, c->kind, c->address, parent, sizeof(parent));
	if (!*parent)
		return;
	wsr_plan_item *pi = wsr_plan_find(o->p, parent);
	const wsr_change *pc = pi ? pi->change : NULL;
	if (pc && has(pc, WSR_ACT_CREATE)) {
		if (has(pc, WSR_ACT_DELETE) && has(c, WSR_ACT_DELETE)) {
			wsr_diag_add(o->diag, WSR_SEV_ERROR, NULL, c->address, NULL,
				     "replace them one at a time: first remove this spec and "
				     "apply with --prune, then restore it",
				     "%s and its parent %s are both replaced; wsr cannot order "
				     "both replacements in one apply",
				     c->address, parent);
			return;
		}
		add_edge(o, it, pi);
		return;
	}
	if (pc && has(pc, WSR_ACT_DELETE)) {
		wsr_diag_add(o->diag, WSR_SEV_ERROR, NULL, c->address, NULL,
			     "keep the parent's spec, or remove this one too",
			     "cannot create %s: this plan deletes its parent %s", c->address,
			     parent);
		return;
	}
	if (!wsr_resource_set_find(o->observed, parent))
		wsr_diag_add(o->diag, WSR_SEV_ERROR, NULL, c->address, NULL,
			     pi ? NULL
				: "add a spec for the parent (and select it too when using "
				  "--target or --selector), or fix spec.parent",
			     "cannot create %s: its parent %s does not exist%s", c->address, parent,
			     pi ? " (it is in the specs but waits for a change)" : "");
}

/* A deletion waits for the deletion of every child the platform has that
 * the plan deletes too. Children it does not delete are not refused here:
 * the listing this index comes from may be stale or partial (a subtree the
 * credentials cannot read), so the provider lists the subtree afresh at
 * check time and the engine's cascade rule (plan.c) judges that. */
static void order_delete(order *o, wsr_plan_item *it)
{
	const kids *k = wsr_hmap_get(&o->children, it->change->address);
	for (size_t i = 0; k && i < k->n && !o->rc; i++) {
		wsr_plan_item *ci = wsr_plan_find(o->p, o->observed->v[k->v[i]]->address);
		if (ci && has(ci->change, WSR_ACT_DELETE))
			add_edge(o, it, ci);
	}
}

int wsr_order_build(wsr_plan *p, const wsr_resource_set *observed, wsr_diag *diag)
{
	order o = {.p = p, .observed = observed, .diag = diag, .children = WSR_HMAP_INIT};
	o.rc = index_children(&o);
	for (size_t i = 0; i < p->n && !o.rc; i++) {
		wsr_plan_item *it = &p->items[i];
		if (has(it->change, WSR_ACT_CREATE))
			order_create(&o, it);
		if (!o.rc && has(it->change, WSR_ACT_DELETE))
			order_delete(&o, it);
	}
	for (size_t i = 0; i < o.nall; i++) {
		free(o.all[i]->parent);
		free(o.all[i]->v);
		free(o.all[i]);
	}
	free(o.all);
	wsr_hmap_free(&o.children);
	return o.rc;
}
