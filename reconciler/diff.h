/* diff: the generic comparison of two canonical values of one kind, guided
 * by the kind's schema annotations — it knows no platform. It compares only
 * what the reference value states: a property the reference omits is left as
 * the other side has it (so a platform-chosen management cluster is not a
 * change), objects with declared properties are compared field by field,
 * free-form maps and lists as a whole. x-wsr-local and x-wsr-computed parts
 * are skipped; x-wsr-immutable marks replacement; x-wsr-operation names a
 * dedicated operation; x-wsr-sensitive values are never copied out. */
#ifndef WSR_RECONCILER_DIFF_H
#define WSR_RECONCILER_DIFF_H
#include <stddef.h>

#include <cJSON.h>

#include "providers/resource.h"

/* The fields where `other` differs from `ref`, walking ref's properties.
 * before = other's value, after = ref's (the desired, or the recorded one
 * for drift). *out is an array of *n field changes (NULL when none). */
int wsr_diff(wsr_field_change **out, size_t *n, const cJSON *spec_schema, const cJSON *ref,
	     const cJSON *other);

void wsr_diff_free(wsr_field_change *f, size_t n);

/* The schema of the canonical value of a resource kind "apiVersion/Kind":
 * its spec's, or the whole document's when the schema says
 * "x-wsr-canonical": "document" (kcp: labels live on the platform next to
 * the spec, so the value is {"metadata": {"labels"}, "spec"}); NULL when
 * unknown. */
const cJSON *wsr_diff_spec_schema(const char *kind);

/* A copy of value without its x-wsr-sensitive parts (what may be stored or printed). */
cJSON *wsr_diff_redact(const cJSON *spec_schema, const cJSON *value);

/* The spec apply should aim for on a resource that exists: desired, except
 * that every path listed in ignore (lifecycle.ignoreChanges: an array of
 * dotted paths, each covering what lies under it) and every
 * x-wsr-create-only field keep observed's value. *out is a new value, or
 * NULL when that is desired itself (the common case copies nothing).
 * *held lists the create-only fields whose desired value differs from
 * observed, changes that have no effect (before = observed, after =
 * desired); free it with wsr_diff_free. */
int wsr_diff_effective(cJSON **out, wsr_field_change **held, size_t *nheld,
		       const cJSON *spec_schema, const cJSON *desired, const cJSON *observed,
		       const cJSON *ignore);

/* A copy of value without the paths listed in ignore; NULL in *out when
 * value has none of them (use value itself). */
int wsr_diff_without(cJSON **out, const cJSON *value, const cJSON *ignore);

/* Whether the value at path is x-wsr-local (wsr-side only, e.g. lifecycle). */
int wsr_diff_is_local(const cJSON *spec_schema, const char *path);
#endif
