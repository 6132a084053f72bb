/* typerules: the type rules as kcp's workspacetypeexists admission plugin
 * has them. Sets of type names in messages are sorted and printed as Go
 * prints a []string ("[root:organization root:team]"); several refusals of
 * one check are joined, duplicates dropped, as Kubernetes' error aggregate
 * does ("[a, b]"). */
#include "sim/kcp/typerules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "sim/kcp/admission.h"

const cJSON *wsr_kcpsim_type_resolve(const wsr_kcpsim_types *t, const char *from, const cJSON *ref)
{
	char path[WSR_KCPSIM_PATH_MAX + 1];
	const char *name = wsr_json_str(ref, "name"), *p = wsr_json_str(ref, "path");
	if (!name)
		return NULL;
	if (p && p[0])
		return t->get(t->ctx, p, name);
	snprintf(path, sizeof(path), "%s", from ? from : "root");
	for (;;) {
		const cJSON *found = t->get(t->ctx, path, name);
		char *colon = strrchr(path, ':');
		if (found)
			return found;
		if (!colon) /* a parent-less workspace (a home) falls back to root */
			return strcmp(path, "root") == 0 ? NULL : t->get(t->ctx, "root", name);
		*colon = '\0';
	}
}

/* Depth-first walk of type's extends: stack holds the chain being walked
 * (for cycles), out what was found. -1 with why on failure. */
static int walk(const wsr_kcpsim_types *t, const cJSON *type, const cJSON **stack, int depth,
		const cJSON **out, int *n, char *why)
{
	const cJSON *ref;
	stack[depth] = type;
	cJSON_ArrayForEach(ref, wsr_json_arr(type, "extends"))
	{
		const cJSON *base =
		    t->get(t->ctx, wsr_json_str(ref, "path"), wsr_json_str(ref, "name"));
		int seen = 0;
		if (!base) {
			snprintf(why, WSR_KCPSIM_WHY_MAX,
				 "unable to find inherited workspace type %s",
				 wsr_json_str(ref, "name"));
			return -1;
		}
		for (int i = 0; i <= depth; i++) {
			if (stack[i] != base)
				continue;
			char r[WSR_KCPSIM_REF_MAX];
			wsr_kcpsim_ref(r, base);
			int m = snprintf(why, WSR_KCPSIM_WHY_MAX,
					 "circular dependency detected in workspace type %s: ", r);
			for (int j = i; j <= depth && m > 0 && m < WSR_KCPSIM_WHY_MAX; j++) {
				wsr_kcpsim_ref(r, stack[j]);
				m += snprintf(why + m, (size_t)(WSR_KCPSIM_WHY_MAX - m), "%s%s",
					      j > i ? " -> " : "", r);
			}
			return -1;
		}
		for (int i = 0; i < *n; i++)
			seen |= out[i] == base;
		if (seen)
			continue;
		if (*n >= WSR_KCPSIM_ALIASES_MAX - 1 || depth + 1 >= WSR_KCPSIM_ALIASES_MAX) {
			snprintf(why, WSR_KCPSIM_WHY_MAX,
				 "a workspace type may count as at most %d types (itself and "
				 "those it extends)",
				 WSR_KCPSIM_ALIASES_MAX);
			return -1;
		}
		out[(*n)++] = base;
		if (walk(t, base, stack, depth + 1, out, n, why))
			return -1;
	}
	return 0;
}

int wsr_kcpsim_aliases(const wsr_kcpsim_types *t, const cJSON *type, const cJSON **out, char *why)
{
	const cJSON *stack[WSR_KCPSIM_ALIASES_MAX];
	int n = 0;
	if (walk(t, type, stack, 0, out, &n, why))
		return -1;
	out[n++] = type; /* never among those it extends: that is a cycle, refused above */
	return n;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends "[a b]": the distinct "<path>:<name>" of n types or references,
 * sorted, as Go prints a sorted set. */
static void print_set(wsr_buf *b, const cJSON *const *v, int n)
{
	char keys[WSR_KCPSIM_ALIASES_MAX][WSR_KCPSIM_REF_MAX];
	char *p[WSR_KCPSIM_ALIASES_MAX] = {NULL};
	int m = 0;
	for (int i = 0; i < n && m < WSR_KCPSIM_ALIASES_MAX; i++) {
		wsr_kcpsim_ref(keys[m], v[i]);
		int dup = 0;
		for (int j = 0; j < m; j++)
			dup |= strcmp(p[j], keys[m]) == 0;
		if (!dup) {
			p[m] = keys[m];
			m++;
		}
	}
	qsort(p, (size_t)m, sizeof(*p), by_str);
	wsr_buf_puts(b, "[");
	for (int i = 0; i < m; i++)
		wsr_buf_printf(b, "%s%s", i ? " " : "", p[i]);
	wsr_buf_puts(b, "]");
}

/* The references of a list as an array of pointers (at most the limit). */
static int refs_of(const cJSON *list, const cJSON **out)
{
	const cJSON *it;
	int n = 0;
	cJSON_ArrayForEach(it, list)
	{
		if (n < WSR_KCPSIM_ALIASES_MAX)
			out[n++] = it;
	}
	return n;
}

/* 1 when one of the aliases is among the references of list. */
static int any_in(const cJSON *const *aliases, int n, const cJSON *list)
{
	const cJSON *it;
	for (int i = 0; i < n; i++)
		cJSON_ArrayForEach(it, list)
		{
			if (wsr_kcpsim_ref_eq(aliases[i], it))
				return 1;
		}
	return 0;
}

/* Collects the refusals of one check, joined as Kubernetes aggregates them. */
typedef struct refusals {
	char msg[WSR_KCPSIM_ALIASES_MAX][WSR_KCPSIM_WHY_MAX / 4];
	int n;
} refusals;

static void refuse(refusals *r, const char *text)
{
	for (int i = 0; i < r->n; i++)
		if (strcmp(r->msg[i], text) == 0)
			return;
	if (r->n < WSR_KCPSIM_ALIASES_MAX)
		snprintf(r->msg[r->n++], sizeof(r->msg[0]), "%s", text);
}

/* -1 with the joined refusals in why, or 0 when there are none. */
static int joined(const refusals *r, char *why)
{
	int m = 0;
	if (!r->n)
		return 0;
	m = snprintf(why, WSR_KCPSIM_WHY_MAX, "%s", r->n > 1 ? "[" : "");
	for (int i = 0; i < r->n && m >= 0 && m < WSR_KCPSIM_WHY_MAX; i++)
		m += snprintf(why + m, (size_t)(WSR_KCPSIM_WHY_MAX - m), "%s%s", i ? ", " : "",
			      r->msg[i]);
	if (r->n > 1 && m > 0 && m < WSR_KCPSIM_WHY_MAX)
		snprintf(why + m, (size_t)(WSR_KCPSIM_WHY_MAX - m), "]");
	return -1;
}

/* One side's limits. parents: the child's aliases limit the parent's
 * (limitAllowedParents); else the parent's limit the child's. */
static void check_side(const cJSON *const *limiting, int nl, const cJSON *const *other, int no,
		       const char *self, const char *peer, int parents, refusals *r)
{
	const char *list = parents ? "allowedParents" : "allowedChildren";
	const char *none = parents ? "noParents" : "noChildren";
	for (int i = 0; i < nl; i++) {
		const cJSON *a = limiting[i], *allowed = wsr_json_arr(a, list);
		char q[WSR_KCPSIM_REF_MAX];
		wsr_buf b = WSR_BUF_INIT;
		const cJSON *refs[WSR_KCPSIM_ALIASES_MAX];
		if (wsr_json_bool(a, none, 0)) {
			wsr_buf_printf(&b, "workspace type %s cannot have any %s", self,
				       parents ? "parent" : "child");
		} else if (cJSON_GetArraySize(allowed) > 0 && !any_in(other, no, allowed)) {
			wsr_kcpsim_ref(q, a);
			wsr_buf_printf(&b, "workspace type %s", self);
			if (strcmp(q, self) != 0)
				wsr_buf_printf(&b, " extends %s, which", q);
			wsr_buf_puts(&b, " only allows ");
			print_set(&b, refs, refs_of(allowed, refs));
			wsr_buf_printf(&b, " %s workspaces, but %s type %s only implements ",
				       parents ? "parent" : "child", parents ? "parent" : "child",
				       peer);
			print_set(&b, other, no);
		}
		if (b.len)
			refuse(r, wsr_buf_failed(&b) ? "refused" : wsr_buf_str(&b));
		wsr_buf_free(&b);
	}
}

int wsr_kcpsim_type_fits(const wsr_kcpsim_types *t, const cJSON *parent, const cJSON *child,
			 char *why)
{
	const cJSON *pa[WSR_KCPSIM_ALIASES_MAX], *ca[WSR_KCPSIM_ALIASES_MAX];
	char p[WSR_KCPSIM_REF_MAX], c[WSR_KCPSIM_REF_MAX];
	int np = wsr_kcpsim_aliases(t, parent, pa, why), nc;
	if (np < 0 || (nc = wsr_kcpsim_aliases(t, child, ca, why)) < 0)
		return -1;
	refusals *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(why, WSR_KCPSIM_WHY_MAX, "out of memory");
		return -1;
	}
	wsr_kcpsim_ref(p, parent);
	wsr_kcpsim_ref(c, child);
	/* kcp checks the parents first and stops there when they refuse */
	check_side(ca, nc, pa, np, c, p, 1, r);
	if (!r->n)
		check_side(pa, np, ca, nc, p, c, 0, r);
	int rc = joined(r, why);
	free(r);
	return rc;
}

int wsr_kcpsim_is_master(const cJSON *groups)
{
	const cJSON *g;
	cJSON_ArrayForEach(g, groups)
	{
		if (cJSON_IsString(g) && strcmp(g->valuestring, "system:masters") == 0)
			return 1;
	}
	return 0;
}

int wsr_kcpsim_may_use(const cJSON *type, const char *user, const cJSON *groups)
{
	const cJSON *it, *g;
	if (wsr_kcpsim_is_master(groups))
		return 1;
	cJSON_ArrayForEach(it, wsr_json_arr(type, "use"))
	{
		const char *u = cJSON_GetStringValue(it);
		if (!u)
			continue;
		if (strcmp(u, "system:authenticated") == 0 || strcmp(u, user) == 0)
			return 1;
		cJSON_ArrayForEach(g, groups)
		{
			if (cJSON_IsString(g) && strcmp(g->valuestring, u) == 0)
				return 1;
		}
	}
	return 0;
}

const cJSON *wsr_kcpsim_use_refused(const wsr_kcpsim_types *t, const cJSON *type, const char *user,
				    const cJSON *groups, int *err, char *why)
{
	const cJSON *a[WSR_KCPSIM_ALIASES_MAX];
	int n = wsr_kcpsim_aliases(t, type, a, why);
	*err = n < 0;
	for (int i = 0; i < n; i++)
		if (!wsr_kcpsim_may_use(a[i], user, groups))
			return a[i];
	return NULL;
}

double wsr_kcpsim_initialize_ms(const wsr_kcpsim_types *t, const cJSON *type, cJSON **inits)
{
	const cJSON *a[WSR_KCPSIM_ALIASES_MAX];
	char why[WSR_KCPSIM_WHY_MAX], r[WSR_KCPSIM_REF_MAX];
	int n = wsr_kcpsim_aliases(t, type, a, why);
	double ms = 0;
	if (inits)
		*inits = cJSON_CreateArray();
	for (int i = 0; i < n; i++) {
		double m = wsr_json_num(a[i], "initializeMs", 0);
		if (m <= 0)
			continue;
		ms = m > ms ? m : ms;
		wsr_kcpsim_ref(r, a[i]);
		if (inits && *inits)
			cJSON_AddItemToArray(*inits, cJSON_CreateString(r));
	}
	return ms;
}
