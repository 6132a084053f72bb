/* faults: what a test injects through POST /_sim/faults to disturb a
 * request: an answer that replaces it ("respond": method, path prefix,
 * status, skip, count), a connection closed without an answer ("reset"), or
 * an answer that comes late ("slow"); each before or after the request is
 * served, to every matching request or to a percentage of them. Kept oldest
 * first in a list each emulator owns. An emulator may add kinds of its own
 * (the Loopback emulator's failTask) and share the counting.
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
/* Longest Retry-After a respond fault sends (s), longest delay of a slow
 * fault (ms): beyond these a test is waiting, not injecting. */
#define WSR_SIM_FAULT_RETRY_AFTER_MAX 3600
#define WSR_SIM_FAULT_DELAY_MAX_MS 60000

/* The request faults' kinds; an emulator's own kinds are above them. */
#define WSR_SIM_FAULT_RESPOND 0
#define WSR_SIM_FAULT_RESET (-1)
#define WSR_SIM_FAULT_SLOW (-2)

typedef struct wsr_sim_fault {
	int kind;	     /* WSR_SIM_FAULT_RESPOND, _RESET, _SLOW or the emulator's own */
	char *method, *path; /* request faults: which requests (path is a prefix) */
	int status;	     /* respond: the status to answer */
	char *code, *message;
	long skip;	  /* how many matching requests it lets through first */
	long count;	  /* how many more times it applies after those */
	long percent;	  /* the chance, in percent, that it applies to a request */
	int after;	  /* request faults: once the request has been served */
	long retry_after; /* respond: seconds of a Retry-After header; 0: none */
	long delay_ms;	  /* slow: how late the answer comes */
} wsr_sim_fault;

typedef struct wsr_sim_faults {
	wsr_sim_fault *v; /* pending, oldest first */
	size_t n, cap;
	unsigned long long rng; /* for percent; seeded at the first draw */
} wsr_sim_faults;

/* The request fault that applies to a request, copied out of the list (the
 * fault itself may be used up and gone). */
typedef struct wsr_sim_fault_hit {
	int kind, status, after;
	long retry_after, delay_ms;
	char code[WSR_SIM_FAULT_CODE_MAX + 1]; /* "" when it has none */
} wsr_sim_fault_hit;

/* Frees what a fault holds (not f itself) and zeroes it. */
void wsr_sim_fault_free(wsr_sim_fault *f);

/* A required string of 1..max bytes from the characters in set (NULL: any);
 * WSR_EINVAL with why (WSR_SIM_FAULT_WHY_MAX bytes) naming key otherwise. */
int wsr_sim_fault_text(const cJSON *in, const char *key, size_t max, const char *set,
		       const char **out, char *why);

/* Reads a respond fault's method, path and status into f, and its code
 * (a snake_case word) when with_code, and the optional when ("before" or
 * "after") and retryAfter (0 to WSR_SIM_FAULT_RETRY_AFTER_MAX seconds);
 * unknown members are the caller's to refuse. WSR_EINVAL with why, or
 * WSR_ENOMEM. */
int wsr_sim_fault_respond(wsr_sim_fault *f, const cJSON *in, int with_code, char *why);

/* The same for a reset fault (method, path, when) and a slow one (method,
 * path, when, ms from 1 to WSR_SIM_FAULT_DELAY_MAX_MS). */
int wsr_sim_fault_reset(wsr_sim_fault *f, const cJSON *in, char *why);
int wsr_sim_fault_slow(wsr_sim_fault *f, const cJSON *in, char *why);

/* Reads skip (default 0), count (default 1) and percent (1 to 100, default
 * 100) from in and appends f (taken over, freed on failure). More than WSR_SIM_MAX_FAULTS pending
 * is WSR_ELIMIT with why. */
int wsr_sim_faults_add(wsr_sim_faults *l, wsr_sim_fault *f, const cJSON *in, char *why);

/* Removes every pending fault (and frees the list's memory). */
void wsr_sim_faults_clear(wsr_sim_faults *l);

/* A matching request or task reached fault i: 1 when the fault applies to
 * it (used once, removed when used up), 0 when it lets it through (one
 * fewer to skip). */
int wsr_sim_faults_reached(wsr_sim_faults *l, size_t i);

/* Shows a request to the request faults (respond, reset, slow) for method
 * and path (a prefix match), oldest first: 1 with the one that applies
 * copied to *hit, or 0 when none does. A fault still skipping counts the
 * request and passes it on; one with a percent below 100 that does not draw
 * it passes it on without counting it. */
int wsr_sim_faults_take(wsr_sim_faults *l, const char *method, const char *path,
			wsr_sim_fault_hit *hit);

/* wsr_sim_faults_take for an emulator that has only respond faults: 1 with
 * its status and code (WSR_SIM_FAULT_CODE_MAX + 1 bytes), or 0. */
int wsr_sim_faults_match(wsr_sim_faults *l, const char *method, const char *path, int *status,
			 char *code);
#endif
