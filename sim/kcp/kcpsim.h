/* kcpsim: the emulated kcp server as one object: its store, the lock that
 * makes concurrent requests safe, and the request handlers sim/server.c
 * calls. What it answers is docs/api/kcp.md (and, for kubectl, docs/sim.md). */
#ifndef WSR_SIM_KCP_KCPSIM_H
#define WSR_SIM_KCP_KCPSIM_H
#include <cJSON.h>

#include "sim/kcp/names.h"
#include "sim/kcp/store.h"
#include "sim/server.h"

/* The administrator's token in the built-in seed (sim/kcp/seed.yaml). */
#define WSR_KCPSIM_BUILTIN_TOKEN "wsr-embedded-kcp-admin"
/* Longest request path looked at; a longer one is 404 at once. */
#define WSR_KCPSIM_MAX_URL (WSR_KCPSIM_PATH_MAX + 512)

typedef struct wsr_kcpsim wsr_kcpsim;

/* Opens the server kept in data_dir, or seeds data_dir (created if
 * missing) from seed_file (NULL: the built-in seed) when it is empty.
 * data_dir NULL keeps everything in memory. *err (caller frees) says why on
 * failure, naming the file (and line:col for a seed). */
int wsr_kcpsim_open(wsr_kcpsim **out, const char *seed_file, const char *data_dir, char **err);

/* Seeds a new server from a checked platform (taken over), in memory when
 * data_dir is NULL; for tests that build their seed in place. */
int wsr_kcpsim_open_platform(wsr_kcpsim **out, cJSON *platform, const char *data_dir, char **err);

/* Tells the server its base URL ("http://127.0.0.1:PORT"), for spec.URL. */
void wsr_kcpsim_set_url(wsr_kcpsim *k, const char *url);

/* Answers one request (a wsr_sim_handler; ctx is the wsr_kcpsim). */
void wsr_kcpsim_handle(void *ctx, const wsr_sim_req *req, wsr_sim_resp *resp);

/* Answers the emulator-only endpoints under /_sim/ (other than
 * /_sim/stats, which the server answers): no token, not counted. */
void wsr_kcpsim_handle_sim(void *ctx, const wsr_sim_req *req, wsr_sim_resp *resp);

void wsr_kcpsim_free(wsr_kcpsim *k);
#endif
