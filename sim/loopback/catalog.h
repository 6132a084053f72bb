/* catalog: the questions the handlers and the seed check ask of the
 * platform's catalogs: is this version offered, which versions are newer,
 * which upgrades are one hop away, which management cluster takes a
 * workspace, and what a compute profile costs an organization. Pure
 * functions over the normalized platform (platform.h), so the seed check
 * and the API give the same answers and both are testable without HTTP. */
#ifndef WSR_SIM_LOOPBACK_CATALOG_H
#define WSR_SIM_LOOPBACK_CATALOG_H
#include <stddef.h>

#include <cJSON.h>

/* The catalog entry of a Kubernetes version, or NULL. */
const cJSON *wsr_lbsim_catalog_version(const cJSON *platform, const char *version);

/* Compares two versions numerically part by part ("1.10.0" > "1.9.9"); a
 * missing part counts as 0, and what follows a part's digits ("-rc1")
 * breaks ties as text. <0, 0 or >0. */
int wsr_lbsim_version_cmp(const char *a, const char *b);

/* A new array of copies of the active catalog versions whose upgradeFrom
 * lists from, ordered by version; NULL when out of memory. */
cJSON *wsr_lbsim_upgrade_targets(const cJSON *platform, const char *from);

/* Where a workspace (a body as wsr_lbsim_body_create returns it) is placed:
 * returns 0 with *cluster the management cluster's name (NULL for a
 * baremetal workspace), or -1 with *code (no_management_cluster or
 * management_cluster_invalid) and why (whylen bytes) saying what is wrong. */
int wsr_lbsim_place(const char **cluster, const char **code, char *why, size_t whylen,
		    const cJSON *platform, const cJSON *ws);

/* A new array of the compute profiles of provider as organization org sees
 * them (availability, prices with its overrides), ordered by name, in the
 * shape of GET .../compute-profiles; NULL when out of memory. */
cJSON *wsr_lbsim_profiles(const cJSON *platform, const cJSON *org, const char *provider);
#endif
