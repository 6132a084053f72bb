/* persist: the data directory of an emulated Loopback platform. One JSON
 * file per object, so a mutation rewrites only what it touched:
 *   DIR/platform.json                 the checked platform description
 *   DIR/workspaces/<org>/<name>.json
 *       {"workspace", "readyAt", "goneAt", "failed", "createTask", "deleteTask",
 *        "op": null | {"type", "task", "until", "arg"}}
 *   DIR/tasks/<id>.json
 *       {"id", "type", "organization", "workspace", "createdAt", "finishedAt",
 *        "error": null | {"code", "message"}}
 *   DIR/idempotency/<id>.json         {"status", "body"}
 * Times are milliseconds since the epoch. Every write is atomic (lib/fs.h).
 * Fields added later ("failed", "op", "error") may be absent in older data. */
#ifndef WSR_SIM_LOOPBACK_PERSIST_H
#define WSR_SIM_LOOPBACK_PERSIST_H
#include <cJSON.h>

#include "sim/loopback/store.h"

/* Bound on one data file; workspaces and tasks are a few KiB at most, an
 * idempotency record holds a response (bounded by the request limit). */
#define WSR_LBSIM_MAX_RECORD (4u * 1024 * 1024)

/* The writers do nothing (and succeed) when the store has no directory. */
int wsr_lbsim_persist_ws(const wsr_lbsim_store *s, const wsr_lbsim_ws *w);
int wsr_lbsim_persist_ws_remove(const wsr_lbsim_store *s, const wsr_lbsim_ws *w);
int wsr_lbsim_persist_task(const wsr_lbsim_store *s, const wsr_lbsim_task *t);
int wsr_lbsim_persist_idem(const wsr_lbsim_store *s, const wsr_lbsim_idem *r);
/* Creates dir and writes platform.json into it. */
int wsr_lbsim_persist_platform(const char *dir, const cJSON *platform);

/* Loads the platform kept in dir. Returns WSR_ENOTFOUND when dir is missing
 * or empty (the caller seeds it); otherwise 0, or an error with *err (caller
 * frees) naming the file at fault. */
int wsr_lbsim_persist_load(wsr_lbsim_store **out, const char *dir, char **err);
#endif
