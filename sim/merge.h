/* merge: JSON merge patch (RFC 7386), which both emulators accept: the
 * Loopback emulator's /_sim patch and kcp's PATCH
 * (application/merge-patch+json). */
#ifndef WSR_SIM_MERGE_H
#define WSR_SIM_MERGE_H
#include <cJSON.h>

/* Applies patch to target (taken over; NULL is an empty document) as RFC
 * 7386 says and returns the result; NULL when out of memory. */
cJSON *wsr_sim_merge_patch(cJSON *target, const cJSON *patch);
#endif
