/* schema: the JSON Schema files (one per kind, schema/<kind>.json, compiled in)
 * and the validator that applies them to a YAML node tree. Validation types
 * the YAML by the schema, fills defaults, and reports every problem with the
 * node's file:line:col. Supported keywords: type, enum, required, pattern,
 * minimum, maximum, minLength, maxLength, properties, additionalProperties,
 * items, default, description; wsr annotations (x-wsr-immutable,
 * x-wsr-operation, x-wsr-sensitive, x-wsr-computed, x-wsr-local) are carried
 * for the diff engine, which reads them from the schema objects directly. */
#ifndef WSR_SCHEMA_H
#define WSR_SCHEMA_H
#include <stddef.h>

#include <cJSON.h>

#include "lib/diag.h"
#include "lib/yaml.h"

/* The schema for apiVersion/kind (e.g. "loopback.wsr.dev/v1", "Workspace";
 * "wsr.dev/v1", "Config"), or NULL when wsr knows no such kind. The
 * returned tree lives for the whole process. */
const cJSON *wsr_schema_for(const char *api_version, const char *kind);

/* The i-th schema wsr knows (0-based), or NULL past the last: for listing
 * the known kinds (x-wsr-api-version, x-wsr-kind) in messages and docs. */
const cJSON *wsr_schema_list(size_t i);

/* Validates node against schema. On success *out is the typed JSON value
 * with defaults filled in. Every problem goes into diag with its position;
 * then the return is WSR_EINVAL and *out is NULL. */
int wsr_schema_validate(cJSON **out, const cJSON *schema, const wsr_node *node, wsr_diag *diag);

/* The subschema describing the value at a dotted path below schema
 * ("spec.kubernetes.version"), following properties and
 * additionalProperties; NULL when the schema does not describe it. */
const cJSON *wsr_schema_at(const cJSON *schema, const char *dotted);
#endif
