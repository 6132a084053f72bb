/* seed: the Loopback emulator's seeds, read by sim/seed.c (YAML, positions)
 * and checked by platform.c. */
#include "sim/loopback/seed.h"

#include "sim/loopback/platform.h"
#include "sim/seed.h"

int wsr_lbsim_seed_parse(cJSON **out, const char *name, const char *text, size_t len, char **err)
{
	return wsr_sim_seed_parse(out, name, text, len, wsr_lbsim_platform_check, err);
}

int wsr_lbsim_seed_load(cJSON **out, const char *path, char **err)
{
	return wsr_sim_seed_load(out, path, WSR_LBSIM_BUILTIN_SEED, wsr_lbsim_platform_check, err);
}
