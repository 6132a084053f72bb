/* seed: YAML seed text in, checked JSON out, with every problem reported as
 * "file:line:col: path: what is wrong". Each emulator brings its own check
 * (a function over JSON, see sim/check.h); this is the one place that reads
 * YAML for the emulators and walks an error's path back to a position. */
#ifndef WSR_SIM_SEED_H
#define WSR_SIM_SEED_H
#include <stddef.h>

#include <cJSON.h>

#include "sim/check.h"

/* Largest seed file read. */
#define WSR_SIM_MAX_SEED (16u * 1024 * 1024)

/* Checks in (the seed as JSON) and returns in *out a new normalized copy;
 * WSR_EINVAL with *e filled on a mistake, or WSR_ENOMEM. */
typedef int (*wsr_sim_seed_check_fn)(cJSON **out, const cJSON *in, wsr_check_err *e);

/* Parses and checks len bytes of seed text; name is used in positions. On
 * failure returns WSR_EINVAL (or WSR_ENOMEM) and *err (caller frees) reads
 * "name:line:col: what is wrong". */
int wsr_sim_seed_parse(cJSON **out, const char *name, const char *text, size_t len,
		       wsr_sim_seed_check_fn check, char **err);

/* Reads and parses the seed file path, or, when path is NULL, the embedded
 * file builtin ("sim/loopback/seed.yaml"). */
int wsr_sim_seed_load(cJSON **out, const char *path, const char *builtin,
		      wsr_sim_seed_check_fn check, char **err);
#endif
