/* seed: the kcp emulator's seed (docs/sim.md, "kcp seeds"): users and their
 * tokens, workspace types, workspaces that exist from the start, and the
 * timings. Checked here into a normalized platform description, which is
 * also what the data directory's platform.json holds. */
#ifndef WSR_SIM_KCP_SEED_H
#define WSR_SIM_KCP_SEED_H
#include <stddef.h>

#include <cJSON.h>

#include "sim/check.h"

/* Where the built-in seed lives among the embedded files. */
#define WSR_KCPSIM_BUILTIN_SEED "sim/kcp/seed.yaml"
/* Largest page the server hands out (and the largest ?limit=). */
#define WSR_KCPSIM_PAGE_MAX 500
/* Longest schedulingMs, deletionMs or initializeMs a seed may ask for (a day). */
#define WSR_KCPSIM_MAX_MS 86400000

/* Checks a seed (or a platform.json) and returns in *out a new normalized copy:
 *   {"maxPageSize", "schedulingMs", "terminatingMs", "deletionMs",
 *    "homes": "logicalcluster" | "buckets", "homeCreatorGroups": [...],
 *    "users": [{"name", "token", "groups": [...]}],
 *    "types": [{"name", "path", "use": [...], "initializeMs",
 *               "extends": [{"name", "path"}],
 *               ["defaultChildType": {"name", "path"}], "noParents",
 *               "allowedParents": [{"name", "path"}], "allowedChildren": [...],
 *               "noChildren"}],
 *    "workspaces": [{"path", "type": {"name", "path"}, "labels": {}, "phase"}]}
 * with kcp's default types when the seed has no "types", and root:root
 * always among the types (added when a seed with types lacks it). On
 * WSR_EINVAL *e says what and where. */
int wsr_kcpsim_seed_check(cJSON **out, const cJSON *in, wsr_check_err *e);

/* Parses and checks len bytes of seed text ("name:line:col: ..." in *err). */
int wsr_kcpsim_seed_parse(cJSON **out, const char *name, const char *text, size_t len, char **err);

/* Reads and checks the seed file path, or the built-in seed when NULL. */
int wsr_kcpsim_seed_load(cJSON **out, const char *path, char **err);
#endif
