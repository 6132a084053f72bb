/* faults: answers a test injects through POST /_sim/faults to replace a
 * request's ("respond" faults: method, path prefix, status, skip, count),
 * kept oldest first in a list each emulator owns. An emulator may add kinds
 * of its own (the Loopback emulator's failTask) and share the counting.
 * Moved here from the Loopback emulator when the kcp emulator needed the
 * same list. */
#ifndef WSR_SIM_FAULTS_H
#define WSR_SIM_FAULTS_H
#include <stddef.h>

#include <cJSON.h>

/* Most faults pending at once, most times one fault applies, longest error
 * code (a snake_case word) and message, size of a refusal's reason. */
#define WSR_SIM_MAX_FAULTS 100
#define WSR_SIM_MAX_FAULT_COUNT 1000000
#define WSR_SIM_FAULT_CODE_MAX 64
#define WSR_SIM_FAULT_MESSAGE_MAX 256
#define WSR_SIM_FAULT_WHY_MAX 256

/* The kind of a respond fault; an emulator's own kinds are above it. */
#define WSR_SIM_FAULT_RESPOND 0

typedef struct wsr_sim_fault {
	int kind;	     /* WSR_SIM_FAULT_RESPOND or the emulator's own */
	char *method, *path; /* respond: which requests (path is a prefix) */
	int status;	     /* respond: the status to answer */
	char *code, *message;
	long skip;  /* how many matching requests it lets through first */
	long count; /* how many more times it applies after those */
} wsr_sim_fault;

typedef struct wsr_sim_faults {
	wsr_sim_fault *v; /* pending, oldest first */
	size_t n, cap;
} wsr_sim_faults;

/* Frees what a fault holds (not f itself) and zeroes it. */
void wsr_sim_fault_free(wsr_sim_fault *f);

/* A required string of 1..max bytes from the characters in set (NULL: any);
 * WSR_EINVAL with why (WSR_SIM_FAULT_WHY_MAX bytes) naming key otherwise. */
int wsr_sim_fault_text(const cJSON *in, const char *key, size_t max, const char *set,
		       const char **out, char *why);

/* Reads a respond fault's method, path and status into f, and its code
 * (a snake_case word) when with_code; unknown members are the caller's to
 * refuse. WSR_EINVAL with why, or WSR_ENOMEM. */
int wsr_sim_fault_respond(wsr_sim_fault *f, const cJSON *in, int with_code, char *why);

/* Reads skip (default 0) and count (default 1) from in and appends f (taken
 * over, freed on failure). More than WSR_SIM_MAX_FAULTS pending is
 * WSR_ELIMIT with why. */
int wsr_sim_faults_add(wsr_sim_faults *l, wsr_sim_fault *f, const cJSON *in, char *why);

/* Removes every pending fault (and frees the list's memory). */
void wsr_sim_faults_clear(wsr_sim_faults *l);

/* A matching request or task reached fault i: 1 when the fault applies to
 * it (used once, removed when used up), 0 when it lets it through (one
 * fewer to skip). */
int wsr_sim_faults_reached(wsr_sim_faults *l, size_t i);

/* Shows a request to the respond faults for method and path (a prefix
 * match), oldest first: 1 with the fault that applies copied to *status and
 * code (WSR_SIM_FAULT_CODE_MAX + 1 bytes; "" when it has none), or 0 when
 * none does (those still skipping count the request). */
int wsr_sim_faults_match(wsr_sim_faults *l, const char *method, const char *path, int *status,
			 char *code);
#endif
