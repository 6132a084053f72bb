/* lbsim: the emulated Loopback platform as one object: its store, the lock
 * that makes concurrent requests safe, and the request handler that
 * sim/server.c calls. Everything the platform does is in docs/api/loopback.md. */
#ifndef WSR_SIM_LOOPBACK_LBSIM_H
#define WSR_SIM_LOOPBACK_LBSIM_H
#include "sim/loopback/store.h"
#include "sim/server.h"

/* The admin key of the built-in seed (sim/loopback/seed.yaml). */
#define WSR_LBSIM_BUILTIN_KEY "embedded-admin-key"

typedef struct wsr_lbsim wsr_lbsim;

/* Opens the platform kept in data_dir, or seeds data_dir (created if
 * missing) from seed_file (NULL: the built-in seed) when it is empty.
 * data_dir NULL keeps everything in memory. *err (caller frees) says why on
 * failure, naming the file (and line:col for a seed). */
int wsr_lbsim_open(wsr_lbsim **out, const char *seed_file, const char *data_dir, char **err);

/* Wraps an existing store (taken over), for tests. */
int wsr_lbsim_new(wsr_lbsim **out, wsr_lbsim_store *store);

/* Answers one request (a wsr_sim_handler; ctx is the wsr_lbsim). */
void wsr_lbsim_handle(void *ctx, const wsr_sim_req *req, wsr_sim_resp *resp);

/* Answers one request to the emulator-only endpoints under /_sim/ (other
 * than /_sim/stats, which the server answers): no key, not counted. */
void wsr_lbsim_handle_sim(void *ctx, const wsr_sim_req *req, wsr_sim_resp *resp);

void wsr_lbsim_free(wsr_lbsim *l);
#endif
