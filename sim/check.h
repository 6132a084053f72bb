/* check: the toolkit every emulator's seed check is written with. A check
 * walks a JSON tree (a seed turned into JSON, or a data directory's
 * platform.json) and, on the first problem, records what is wrong and the
 * path to it ("types[2].allowedParents[0]"); sim/seed.c turns that path
 * back into the file:line:col a seed author has to fix. Shared by the
 * emulators so that every seed reports its mistakes the same way. */
#ifndef WSR_SIM_CHECK_H
#define WSR_SIM_CHECK_H
#include <cJSON.h>

/* Deepest path an error can name (organizations[0].pricingOverrides[1].hourly
 * is 5 steps, types[0].defaultChildType.name is 4). */
#define WSR_CHECK_PATH_MAX 8

/* One step of the path to the offending value: a map key, or an index when
 * key is NULL. */
typedef struct wsr_check_step {
	const char *key;
	int index;
} wsr_check_step;

/* What is wrong and where. Step keys point into the checked tree or into
 * static strings, so resolve them before freeing the tree. */
typedef struct wsr_check_err {
	char msg[256];
	wsr_check_step steps[WSR_CHECK_PATH_MAX];
	int nsteps;
} wsr_check_err;

/* A check in progress: where it is in the tree, and where the error goes. */
typedef struct wsr_check {
	wsr_check_err *e;
	wsr_check_step path[WSR_CHECK_PATH_MAX];
	int depth;
} wsr_check;

/* Starts a check that reports into e (cleared). */
void wsr_check_init(wsr_check *c, wsr_check_err *e);

/* Enters map key (index ignored) or list entry index (key NULL); leaves it. */
void wsr_check_push(wsr_check *c, const char *key, int index);
void wsr_check_pop(wsr_check *c);

/* Records the error at the current path, or at its child key when key is
 * given (a wrong value; a missing one is reported at its parent). Returns
 * WSR_EINVAL. */
int wsr_check_fail(wsr_check *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records the error at entry i of the list under key. Returns WSR_EINVAL. */
int wsr_check_fail_entry(wsr_check *c, const char *key, int i, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Refuses the first member of obj that is not one of allowed (NULL-terminated). */
int wsr_check_only_keys(wsr_check *c, const cJSON *obj, const char *const *allowed);
/* A required non-empty string. */
int wsr_check_str(wsr_check *c, const cJSON *obj, const char *key, const char **out);
/* An optional boolean; def when absent. */
int wsr_check_bool(wsr_check *c, const cJSON *obj, const char *key, int def, int *out);
/* An optional whole number from lo to hi; def when absent. */
int wsr_check_whole(wsr_check *c, const cJSON *obj, const char *key, double lo, double hi,
		    double def, double *out);

/* A list of distinct non-empty strings into a new array *out; absent or null
 * is []. valid (NULL: any string) refuses an entry as "X is not <what>".
 * On failure *out is NULL: nothing is left for the caller to free. */
int wsr_check_list(wsr_check *c, const cJSON *obj, const char *key, int (*valid)(const char *),
		   const char *what, cJSON **out);

/* Each entry (a map) of the list obj[key] (absent or null: none) checked by
 * fn, which adds what it makes to arr, a new array out[key]; the path points
 * at the entry meanwhile. ctx is passed through. */
typedef int (*wsr_check_entry_fn)(wsr_check *c, const cJSON *in, cJSON *arr, const cJSON *ctx);
int wsr_check_each(wsr_check *c, const cJSON *obj, const char *key, cJSON *out,
		   wsr_check_entry_fn fn, const cJSON *ctx);

/* 1 when the JSON array arr holds the string s (linear: seed lists are short). */
int wsr_check_has(const cJSON *arr, const char *s);

/* The first entry of arr whose string member field equals value, or NULL. */
const cJSON *wsr_check_find(const cJSON *arr, const char *field, const char *value);

/* Formats e's path ("apiKeys[2].role") into out; "" for the top. */
void wsr_check_path(const wsr_check_err *e, char *out, unsigned long outlen);
#endif
