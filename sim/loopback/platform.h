/* platform: the static part of an emulated Loopback platform (organizations,
 * the two catalogs, API keys, provisioning time), validated from a seed or
 * from the platform.json a data directory keeps. Separate from the seed
 * loader so that it needs no YAML: it checks a JSON tree and reports where
 * the problem is as a path, which the YAML side turns into file:line:col. */
#ifndef WSR_SIM_LOOPBACK_PLATFORM_H
#define WSR_SIM_LOOPBACK_PLATFORM_H
#include <cJSON.h>

/* Longest provisioning time a seed may ask for (one day). */
#define WSR_LBSIM_MAX_PROVISIONING_S 86400
/* Deepest path an error can name (apiKeys[3].projects[1] is 4 steps). */
#define WSR_LBSIM_PATH_MAX 6

/* One step of the path to the offending value: a map key, or an index when
 * key is NULL. */
typedef struct wsr_lbsim_step {
	const char *key;
	int index;
} wsr_lbsim_step;

typedef struct wsr_lbsim_perr {
	char msg[256];
	wsr_lbsim_step steps[WSR_LBSIM_PATH_MAX];
	int nsteps;
} wsr_lbsim_perr;

/* Checks a platform description and returns in *out a new normalized copy:
 *   {"organizations": [{"name","verified","state","projects"}],
 *    "kubernetesVersions": [{"version","active","upgradeFrom"}],
 *    "managementClusters": [{"name","type","active","computeProvider"}],
 *    "apiKeys": [{"key","organization","role","projects"}],
 *    "provisioning": {"seconds"}}
 * with defaults filled in. On WSR_EINVAL, *e says what and where; step keys
 * point into in or into static strings, so resolve them before freeing in. */
int wsr_lbsim_platform_check(cJSON **out, const cJSON *in, wsr_lbsim_perr *e);

/* 1 when the JSON array arr holds the string s. */
int wsr_lbsim_list_has(const cJSON *arr, const char *s);

/* Formats e's path ("apiKeys[2].role") into out. */
void wsr_lbsim_perr_path(const wsr_lbsim_perr *e, char *out, unsigned long outlen);
#endif
