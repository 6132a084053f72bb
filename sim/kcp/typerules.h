/* typerules: kcp's workspace type rules (pkg/admission/workspacetypeexists/
 * admission.go): how a type reference is resolved (its path, or upward from
 * the parent to root), what a type counts as (itself and every type it
 * extends: its "aliases"), the default child type, who may use a type, and
 * whether a parent and a child type allow each other, with kcp's messages.
 * Pure functions over normalized type entries (seed.h), shared by the API
 * and the seed check through a lookup callback, so a seed cannot build a
 * tree the API would refuse. */
#ifndef WSR_SIM_KCP_TYPERULES_H
#define WSR_SIM_KCP_TYPERULES_H
#include <cJSON.h>

/* Most types one type counts as; a seed whose extends make more is refused. */
#define WSR_KCPSIM_ALIASES_MAX 32

/* The type named name in the workspace at path, or NULL. */
typedef const cJSON *(*wsr_kcpsim_type_get_fn)(void *ctx, const char *path, const char *name);

typedef struct wsr_kcpsim_types {
	wsr_kcpsim_type_get_fn get;
	void *ctx;
} wsr_kcpsim_types;

/* The type a reference {name[, path]} names: with a path, there; without,
 * in from, then each workspace above it up to root. NULL when none. */
const cJSON *wsr_kcpsim_type_resolve(const wsr_kcpsim_types *t, const char *from, const cJSON *ref);

/* Fills out (WSR_KCPSIM_ALIASES_MAX entries) with what type counts as: the
 * types it extends, depth first, then itself, each once. Returns how many,
 * or -1 with why (WSR_KCPSIM_WHY_MAX bytes): a type it extends is not
 * defined, the extends form a cycle (kcp's message), or there are more
 * than WSR_KCPSIM_ALIASES_MAX. */
int wsr_kcpsim_aliases(const wsr_kcpsim_types *t, const cJSON *type, const cJSON **out, char *why);

/* kcp's limitAllowedParents and limitAllowedChildren checks between a
 * parent workspace of type parent and a new child of type child (named
 * child_ref, "<path>:<name>" as its spec.type has it): 0 when allowed, else
 * -1 with kcp's message (several joined as "[a, b]") in why. */
int wsr_kcpsim_type_fits(const wsr_kcpsim_types *t, const cJSON *parent, const cJSON *child,
			 char *why);

/* The first of type's aliases the user (name, groups) may not use, or NULL
 * when it may use them all (system:masters may use every type; otherwise a
 * type's "use" names the user, one of its groups, or system:authenticated).
 * *err is set when the aliases cannot be resolved (why filled in). */
const cJSON *wsr_kcpsim_use_refused(const wsr_kcpsim_types *t, const cJSON *type, const char *user,
				    const cJSON *groups, int *err, char *why);

/* 1 when the user may use this one type. */
int wsr_kcpsim_may_use(const cJSON *type, const char *user, const cJSON *groups);

/* 1 when groups holds system:masters. */
int wsr_kcpsim_is_master(const cJSON *groups);

/* The largest initializeMs among type's aliases (the initializers run side
 * by side), and their "<path>:<name>" as a new JSON array (*inits, may be
 * NULL when out of memory). */
double wsr_kcpsim_initialize_ms(const wsr_kcpsim_types *t, const cJSON *type, cJSON **inits);
#endif
