/* faults: the faults a test injects through POST /_sim/faults: request
 * faults (answers that replace a request's, connections reset, answers that
 * come late: the list in sim/faults.h) and tasks that end failed (failTask,
 * the Loopback emulator's own kind). Kept apart from the
 * handlers so a fault's shape and its consumption are one small, testable
 * thing; the store only holds the list. */
#ifndef WSR_SIM_LOOPBACK_FAULTS_H
#define WSR_SIM_LOOPBACK_FAULTS_H
#include <cJSON.h>

#include "sim/faults.h"
#include "sim/loopback/store.h"

#define WSR_LBSIM_MAX_FAULTS WSR_SIM_MAX_FAULTS
#define WSR_LBSIM_MAX_FAULT_COUNT WSR_SIM_MAX_FAULT_COUNT
#define WSR_LBSIM_FAULT_CODE_MAX WSR_SIM_FAULT_CODE_MAX
#define WSR_LBSIM_FAULT_MESSAGE_MAX WSR_SIM_FAULT_MESSAGE_MAX

/* Checks a fault body and adds it after the pending ones. On WSR_EINVAL
 * why (WSR_LBSIM_WHY_MAX bytes) says what is wrong, naming the field; more
 * than WSR_LBSIM_MAX_FAULTS pending is WSR_ELIMIT. */
int wsr_lbsim_fault_add(wsr_lbsim_store *s, const cJSON *in, char *why);

/* Removes every pending fault. */
void wsr_lbsim_faults_clear(wsr_lbsim_store *s);

/* How many faults are pending. */
size_t wsr_lbsim_faults_pending(const wsr_lbsim_store *s);

/* Shows a request to the request faults for method and path (a prefix
 * match), oldest first: returns 1 with the one that applies (used once) in
 * *hit, or 0 when none does (those still skipping count the request). */
int wsr_lbsim_fault_take(wsr_lbsim_store *s, const char *method, const char *path,
			 wsr_sim_fault_hit *hit);

/* Shows a new task to the failTask faults for its type, like requests to
 * respond faults, and makes t end failed with the error of the one that
 * applies. 0 (also when none applies) or WSR_ENOMEM. */
int wsr_lbsim_fault_task(wsr_lbsim_store *s, wsr_lbsim_task *t);
#endif
