/* persist: the data directory of an emulated kcp server, written with
 * sim/persist.c (one atomic JSON file per record):
 *   DIR/platform.json              the checked seed (seed.h)
 *   DIR/state.json                 {"resourceVersion", "secret", "seededAt"}
 *   DIR/workspaces/<cluster>.json  {"path", "workspace", "createdAt",
 *                                   "initializingAt", "readyAt",
 *                                   "deletedAt", "deletingAt",
 *                                   "goneAt": null | ms, "frozen"}
 * (a home's path is "user:<name>", its cluster kcp's HomeClusterName)
 * Files are named by cluster (16 characters) because a path may be longer
 * than a file name can. Times are milliseconds since the epoch. state.json
 * is rewritten when a workspace goes away, so the resourceVersion never
 * goes back across a restart. */
#ifndef WSR_SIM_KCP_PERSIST_H
#define WSR_SIM_KCP_PERSIST_H
#include <cJSON.h>

#include "sim/kcp/store.h"

/* Bound on one workspace record: a body is at most 1 MiB. */
#define WSR_KCPSIM_MAX_RECORD (4u * 1024 * 1024)

/* The writers do nothing (and succeed) when the store has no directory.
 * persist_ws writes w with obj as its object. */
int wsr_kcpsim_persist_ws(const wsr_kcpsim_store *s, const wsr_kcpsim_ws *w, const cJSON *obj);
int wsr_kcpsim_persist_ws_remove(const wsr_kcpsim_store *s, const wsr_kcpsim_ws *w);
int wsr_kcpsim_persist_state(const wsr_kcpsim_store *s);

/* Loads state.json and the workspaces of the store's directory into s, a
 * new store around the directory's platform.json (wsr_sim_persist_load_platform
 * reads that). 0, or an error with *err (caller frees) naming the file at
 * fault. */
int wsr_kcpsim_persist_load(wsr_kcpsim_store *s, char **err);
#endif
