/* seed: turns a YAML seed (tests/fixtures/seed.yaml shows the format) into a
 * checked platform description, reporting problems as file:line:col. The
 * reading is sim/seed.c's, the check platform.c's. */
#ifndef WSR_SIM_LOOPBACK_SEED_H
#define WSR_SIM_LOOPBACK_SEED_H
#include <stddef.h>

#include <cJSON.h>

/* Where the built-in seed lives among the embedded files. */
#define WSR_LBSIM_BUILTIN_SEED "sim/loopback/seed.yaml"

/* Parses and checks len bytes of seed text; name is used in positions. On
 * failure returns WSR_EINVAL (or WSR_ENOMEM) and *err (caller frees) reads
 * "name:line:col: what is wrong". */
int wsr_lbsim_seed_parse(cJSON **out, const char *name, const char *text, size_t len, char **err);

/* Reads and parses the seed file path, or the built-in seed when path is NULL. */
int wsr_lbsim_seed_load(cJSON **out, const char *path, char **err);
#endif
