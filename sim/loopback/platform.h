/* platform: the static part of an emulated Loopback platform (organizations,
 * the catalogs, API keys and their permissions, provisioning time, and the
 * workspaces a seed asks for), validated from a seed or from the
 * platform.json a data directory keeps. Separate from the seed
 * loader so that it needs no YAML: it checks a JSON tree and reports where
 * the problem is as a path, which the YAML side turns into file:line:col. */
#ifndef WSR_SIM_LOOPBACK_PLATFORM_H
#define WSR_SIM_LOOPBACK_PLATFORM_H
#include <cJSON.h>

#include "sim/check.h"

/* Permissions, one bit each, in the order of docs/api/loopback.md. */
enum {
	WSR_LBSIM_WS_READ = 1 << 0,
	WSR_LBSIM_WS_CREATE = 1 << 1,
	WSR_LBSIM_WS_UPDATE = 1 << 2,
	WSR_LBSIM_WS_DELETE = 1 << 3,
	WSR_LBSIM_WS_TRANSFER = 1 << 4,
	WSR_LBSIM_K8S_UPGRADE = 1 << 5,
	WSR_LBSIM_MAINT_UPDATE = 1 << 6,
	WSR_LBSIM_KUBECONFIG_ADMIN = 1 << 7,
	WSR_LBSIM_KUBECONFIG_OIDC = 1 << 8,
};
#define WSR_LBSIM_NPERMS 9

/* The name of one permission bit ("workspace:create"); "?" for anything else. */
const char *wsr_lbsim_perm_name(unsigned perm);
/* The bit of a permission key, or 0 when the platform has no such permission. */
unsigned wsr_lbsim_perm_bit(const char *name);
/* The permission bits of a key entry of the normalized platform: its
 * explicit "permissions" when it has them, else those of its role. */
unsigned wsr_lbsim_key_perms(const cJSON *key);

/* Longest provisioning time a seed may ask for (one day). */
#define WSR_LBSIM_MAX_PROVISIONING_S 86400
/* Checks a platform description and returns in *out a new normalized copy:
 *   {"currency": "EUR",
 *    "kubernetesVersions": [{"version","active","upgradeFrom"}],
 *    "managementClusters": [{"name","type","active","computeProvider"}],
 *    "datacenters": [{"name","computeProvider","reachable"}],
 *    "serverTypes": [{"name","datacenters"}],
 *    "computeProfiles": [{"name","computeProvider","serverType","cpu","memoryGiB",
 *                         "prices": {"setup","hourly","monthly"}}],
 *    "organizations": [{"name","verified","state","projects",
 *                       "pricingOverrides":
 * [{"profile","active",["setup"],["hourly"],["monthly"]}]}], "apiKeys":
 * [{"key","organization","role","projects","permissions"}], "workspaces": [Workspace as a create
 * makes it, with organization and managementCluster filled in; id and times still null],
 *    "provisioning": {"seconds"}}
 * with defaults filled in. projects and permissions of a key are null when
 * not limited/explicit. On WSR_EINVAL, *e says what and where; step keys
 * point into in or into static strings, so resolve them before freeing in. */
int wsr_lbsim_platform_check(cJSON **out, const cJSON *in, wsr_check_err *e);

/* 1 when the JSON array arr holds the string s. */
int wsr_lbsim_list_has(const cJSON *arr, const char *s);
#endif
