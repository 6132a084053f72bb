/* lb: what the loopback provider's files share among themselves (not part of
 * the provider contract): the provider struct, the API call helpers
 * (client.c), the mapping between the platform's objects and wsr's shapes
 * (map.c), the version graph (upgrade.c), the plan data for people
 * (explain.c), and the entry points the ops table is built from. */
#ifndef WSR_PROVIDERS_LOOPBACK_LB_H
#define WSR_PROVIDERS_LOOPBACK_LB_H
#include <cJSON.h>

#include "lib/diag.h"
#include "lib/http.h"
#include "providers/provider.h"

#define LB_KIND "loopback.wsr.dev/v1/Workspace"
/* Page size asked for: the platform's maximum, so a listing costs pages, not workspaces. */
#define LB_PAGE_LIMIT 500
/* Pages followed in one listing (500 items each) before the listing is
 * refused: a server that hands out cursors forever must not loop us forever. */
#define LB_MAX_PAGES 1000
/* Largest response body accepted: a full page of 500 workspaces is well
 * under 1 MiB; anything far larger is hostile or broken. */
#define LB_MAX_RESPONSE (8u * 1024 * 1024)
/* Seconds one asynchronous step (a create, a delete, a transfer, one
 * upgrade hop) may take when the config says nothing. */
#define LB_DEFAULT_TIMEOUT_S 1800
/* The most the config's timeout may say (schema/config.json's maximum): a day. */
#define LB_MAX_TIMEOUT_S 86400
/* Maintenance hours in answers are UTC hours of a day: 0 to this. */
#define LB_HOUR_MAX 23
/* Most CPUs a compute profile may claim: far past any server sold, and the
 * bound that keeps a hostile count (1e30) from being converted at all. */
#define LB_PROFILE_CPU_MAX 65536

/* Stale replays one create posts again before it reports the replayed
 * failure: each failed creation an address had, that was deleted since
 * without the replacement that salts its key (a crash between the two),
 * adds one to the chain. */
#define LB_CREATE_REPOSTS_MAX 16

struct wsr_provider {
	wsr_http *http;
	char *endpoint;
	char *key_env; /* the variable that held the key, for hints; never the key */
	long timeout_s;
	/* Plan-time facts, fetched once (check and list run on one thread). */
	int facts_rc; /* 1: not fetched yet; else the result of fetching */
	cJSON *principal;
	cJSON *orgs;	 /* array of Organization objects; list fills it too */
	cJSON *versions; /* array of {version, active, upgradeFrom} */
	cJSON *clusters; /* array of {name, type, active, computeProvider} */
};

/* client.c */

/* Sends one request and parses the answer. Returns 0 with *status and *json
 * (NULL for an empty body, or a body that is not JSON on a non-2xx answer,
 * such as a proxy's HTML page). Transport failures and a 2xx body that is
 * not JSON become an error in diag on address (may be NULL) and a negative code. */
int lb_call(wsr_provider *p, long *status, cJSON **json, const char *address, const char *method,
	    const char *path, const char *const *headers, const char *body, wsr_diag *diag);

/* Adds the platform's refusal (its code and message) to diag as an error on
 * address, summary "<what>: <message>". Returns WSR_EAPI. */
int lb_refused(wsr_provider *p, wsr_diag *diag, const char *address, const char *what, long status,
	       const cJSON *json);

/* Reports a response whose shape is not the documented one. Returns WSR_EAPI. */
int lb_malformed(wsr_diag *diag, const char *address, const char *what, const char *why);

/* Calls each(ctx, item) for every item of every page of a list endpoint
 * (path without query), LB_PAGE_LIMIT items a page, following nextCursor. */
typedef int (*lb_each_fn)(void *ctx, const cJSON *item, wsr_diag *diag);
int lb_paginate(wsr_provider *p, const char *path, lb_each_fn each, void *ctx, wsr_diag *diag);

/* Collects every item of a list endpoint into a new array (*items). */
int lb_get_all(wsr_provider *p, cJSON **items, const char *path, wsr_diag *diag);

/* "/v1/organizations/<org>/workspaces[/<name>][<suffix>]", escaped; name
 * and suffix may be NULL. NULL on allocation failure. */
char *lb_workspace_path(const char *org, const char *name, const char *suffix);

/* The organizations the key sees (fetched once, shared by list and check). */
int lb_orgs(wsr_provider *p, const cJSON **orgs, wsr_diag *diag);

/* map.c */

/* Maps a Workspace object to a resource in canonical shape. On a malformed
 * object returns WSR_EAPI and *why (caller frees) names the bad field. */
int lb_workspace_to_resource(wsr_resource **out, const cJSON *ws, char **why);

/* The POST body creating desired (the spec in API shape, lifecycle left
 * out), with keys in a fixed order so that printing it is canonical. */
cJSON *lb_create_body(const wsr_resource *desired);

/* The PATCH body for an update: only the updatable blocks the change's
 * fields touch, each complete. An empty object when none is touched. */
cJSON *lb_patch_body(const wsr_change *change);

/* Maps one item of GET .../compute-profiles to the shape of the profiles
 * op (see provider.h), checking every field and that it belongs to
 * provider. On a malformed item returns WSR_EAPI and *why names the field. */
int lb_profile_to_json(cJSON **out, const cJSON *item, const char *provider, char **why);

/* 1 when one of the change's fields lies in (or contains) the dotted block. */
int lb_touches(const wsr_change *change, const char *block);

/* Splits "loopback/<org>/<name>" into org and name (each < 64 bytes + NUL). */
int lb_parse_address(const char *address, char org[64], char name[64]);

/* upgrade.c */

/* Compares versions numerically part by part (1.10.0 is newer than 1.9.9):
 * <0, 0, >0. */
int lb_version_cmp(const char *a, const char *b);

/* The shortest upgrade path from -> to through the catalog versions (array
 * of {version, active, upgradeFrom}): a hop v -> w exists when w is active,
 * newer than v and lists v in upgradeFrom; of equally short paths the one
 * through the lowest versions. *path is ["from", ..., "to"], or NULL when
 * no path leads to `to` (or `to` is NULL or from itself). *reachable (when
 * not NULL) gets every version some path reaches, ascending. */
int lb_upgrade_path(cJSON **path, cJSON **reachable, const cJSON *versions, const char *from,
		    const char *to);

/* "1.28.9 → 1.29.4 → 1.30.2"; NULL on allocation failure. */
char *lb_join_path(const cJSON *path);

/* explain.c */

/* Sets change->extra[key] = value (taken, even on failure). */
int lb_set_extra(wsr_change *c, const char *key, cJSON *value);
/* Sets "destroys" and "backupFirst" for a deletion of the observed workspace. */
int lb_explain_delete(wsr_change *c);
/* Sets "verifyAfter" for a transfer from project src to dst. */
int lb_explain_transfer(wsr_change *c, const char *src, const char *dst);

/* check.c, ops.c, provider.c (read), profiles.c: the ops table's entries */
int lb_check(wsr_provider *p, wsr_change *change, wsr_diag *diag);
int lb_start(wsr_provider *p, const wsr_change *change, wsr_action action, wsr_op **op,
	     wsr_diag *diag);
int lb_poll(wsr_provider *p, wsr_op *op, int *done, wsr_resource **result, wsr_diag *diag);
void lb_op_free(wsr_op *op);
void lb_facts_free(wsr_provider *p);
int lb_read(wsr_provider *p, const char *address, wsr_resource **out, wsr_diag *diag);
int lb_profiles(wsr_provider *p, const char *address, cJSON **out, wsr_diag *diag);
#endif
