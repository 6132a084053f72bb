/* simonly: the endpoints only the emulator has, for tests: changing a
 * workspace as a person in the web UI would (drift), and injecting faults.
 * No key, no permission and no platform rule applies to them, so they live
 * apart from the API handlers, which must never be reachable this way. */
#ifndef WSR_SIM_LOOPBACK_SIMONLY_H
#define WSR_SIM_LOOPBACK_SIMONLY_H
#include <stdint.h>

#include "sim/loopback/store.h"
#include "sim/server.h"

/* Answers one request to /_sim/... (other than /_sim/stats) at time now
 * (ms); the caller holds the store's lock. */
void wsr_lbsim_simonly(wsr_lbsim_store *s, const wsr_sim_req *req, wsr_sim_resp *resp, int64_t now);
#endif
