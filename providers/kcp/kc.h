/* kc: what the kcp provider's files share among themselves (not part of the
 * provider contract): the provider struct, the API call helpers (client.c),
 * the mapping between kcp's objects and wsr's shapes and the address rule
 * (map.c), the plan-time facts (check.c) and the entry points the ops table
 * is built from. */
#ifndef WSR_PROVIDERS_KCP_KC_H
#define WSR_PROVIDERS_KCP_KC_H
#include <cJSON.h>

#include "lib/diag.h"
#include "lib/hmap.h"
#include "lib/http.h"
#include "providers/kcp/kcp.h"
#include "providers/provider.h"

#define KC_API "/apis/tenancy.kcp.io/v1alpha1"
#define KC_API_VERSION "tenancy.kcp.io/v1alpha1"
/* Children asked for per page: the most the API allows. */
#define KC_PAGE_LIMIT 500
/* Pages followed in one listing before it is refused: a server handing out
 * continue tokens forever must not keep wsr listing forever. */
#define KC_MAX_PAGES 1000
/* Largest response accepted: a page of 500 workspaces is far below it. */
#define KC_MAX_RESPONSE (8u * 1024 * 1024)
/* Seconds a workspace may take to become Ready (or to go) when the config
 * says nothing. */
#define KC_DEFAULT_TIMEOUT_S 1800
/* The most the config's timeout may say (schema/config.json's maximum): a day. */
#define KC_MAX_TIMEOUT_S 86400
/* Tries of an update that keeps finding a newer resourceVersion (409
 * Conflict) before it gives up. */
#define KC_UPDATE_ATTEMPTS 5
/* Longest workspace path wsr can manage: what an address ("kcp/" + path)
 * has room for (kcp's own limit is 1024 bytes). A server listing a longer
 * one gets a warning and the workspace is left out, not a crash. */
#define KC_PATH_MAX (WSR_ADDRESS_MAX - 4)
/* Longest workspace (or type) name kcp accepts. */
#define KC_NAME_MAX 63
/* A type is named "<path>:<name>" here, as kcp's messages name it. */
#define KC_TYPE_MAX (KC_PATH_MAX + 1 + KC_NAME_MAX)
/* Most types one type may count as (itself and every type it extends,
 * transitively): kcp sets no bound, a hostile server must not make wsr
 * follow extensions forever. */
#define KC_ALIASES_MAX 16
/* False conditions an Unavailable workspace's reason names before "and N
 * more": a hostile server may send thousands. */
#define KC_CONDITIONS_SHOWN 3
/* Longest wait a home's 429 Retry-After may ask for between two polls. */
#define KC_RETRY_AFTER_MAX_S 60
/* Wait between two polls of a home creation when the 429 names none. */
#define KC_RETRY_AFTER_DEFAULT_S 1

/* What the plan knows of one workspace path: its type "<path>:<name>",
 * its phase ("" for a workspace this run plans to create) and whether the
 * listing read all its children. */
typedef struct kc_fact {
	char *path;
	char *type;
	char phase[16];
	int listed;
} kc_fact;

struct wsr_provider {
	wsr_http *http;
	char *endpoint;	  /* the server's root URL, for messages */
	char *creds_hint; /* where the credentials came from (never a secret), for 401 hints */
	long timeout_s;
	char *home_prefix; /* providers.kcp.home */
	int home_depth, home_length, home_style;
	/* the same server without retries of 429: a home's creation answers 429
	 * until the home is Ready, and poll must not sleep through that */
	wsr_http *http_once;
	/* Plan-time facts; list, read and check run on one thread. */
	wsr_hmap ws;	    /* workspace path -> kc_fact (observed, or created by a
			       change check accepted earlier in this run) */
	cJSON *types;	    /* "<where>:<name>" -> the WorkspaceType as GET at <where>
			       answered, or null when none there */
	cJSON *uses;	    /* "<path>:<name>" -> {"allowed": bool, "reason": string} */
	cJSON *impersonate; /* user -> {"allowed": bool, "reason": string} */
	int server_style;   /* home style the server runs: -1 not asked yet */
};

/* ---- client.c ---- */

/* Sends one request and parses the answer. Returns 0 with *status and *json
 * (NULL for an empty body, or a body that is not JSON on a non-2xx answer,
 * such as a proxy's HTML page). Transport failures and a 2xx body that is
 * not JSON become an error in diag on address (may be NULL). */
int kc_call(wsr_provider *p, long *status, cJSON **json, const char *address, const char *method,
	    const char *path, const char *body, wsr_diag *diag);

/* The reason of a Status answer ("NotFound", "AlreadyExists", ...) or "". */
const char *kc_reason(const cJSON *json);

/* Adds the platform's refusal as an error on address: summary
 * "<what>: <message>", the code, reason and causes (422) in the detail, and
 * for 401 a hint naming where the credentials came from. Returns WSR_EAPI. */
int kc_refused(wsr_provider *p, wsr_diag *diag, const char *address, const char *what, long status,
	       const cJSON *json);

/* Reports an answer that is not in the documented shape. Returns WSR_EAPI. */
int kc_malformed(wsr_diag *diag, const char *address, const char *what, const char *why);

/* Calls each(ctx, item) for every item of every page of the collection at
 * path (without query), KC_PAGE_LIMIT a page, following metadata.continue.
 * With skip non-NULL, a first page answered 403 or 404 is not an error:
 * *skip gets the status and nothing is listed. */
typedef int (*kc_each_fn)(void *ctx, const cJSON *item, wsr_diag *diag);
int kc_paginate(wsr_provider *p, const char *path, kc_each_fn each, void *ctx, long *skip,
		wsr_diag *diag);

/* "/clusters/<path>/apis/tenancy.kcp.io/v1alpha1/<resource>[/<name>]"; name
 * may be NULL. path and name must have passed kc_path_ok / kc_name_ok (they
 * are then safe in a URL as they are). NULL on allocation failure. */
char *kc_api_path(const char *path, const char *resource, const char *name);

/* 0 when the Workspace answer ws is the workspace name (or has no name for
 * the mapping to refuse); else WSR_EAPI, reported on address as what's
 * malformed answer. A server answering with another workspace must not
 * make wsr record that one under the address it asked about. */
int kc_is_named(wsr_diag *diag, const char *address, const char *what, const cJSON *ws,
		const char *name);

/* GET one workspace (parent path, name) into *ws (NULL on 404). Other
 * answers, and a Workspace of another name, are errors on address, what
 * saying what for. */
int kc_get_workspace(wsr_provider *p, cJSON **ws, long *status, const char *address,
		     const char *parent, const char *name, const char *what, wsr_diag *diag);

/* ---- map.c ---- */

/* 1 when s (n bytes) is a workspace name kcp accepts. */
int kc_name_ok(const char *s, size_t n);
/* 1 when path is root[:name]... of at most KC_PATH_MAX bytes. */
int kc_path_ok(const char *path);

/* Splits the address "kcp/<parent>:<name>" into parent and name. Returns 0,
 * or WSR_EINVAL when the address is not a kcp workspace address (the path
 * must start at root and have at least one name below it). */
int kc_split_address(const char *address, char parent[KC_PATH_MAX + 1], char name[KC_NAME_MAX + 1]);

/* A type's key "<path>:<name>" of a {name, path} object into key; 0, or
 * WSR_EINVAL unless name is a name and path a path kcp accepts (so a key is
 * safe in a URL and in a message). A reference without path has no key:
 * kcp resolves it (check.c). */
int kc_type_key(char key[KC_TYPE_MAX + 1], const cJSON *ref);

/* 1 when the address is a logicalcluster-style home: "kcp/user:<name>". */
int kc_is_user_home(const char *address);

/* Maps a Workspace object listed under parent to a resource in canonical
 * shape (see docs/providers/kcp.md). On a malformed object returns WSR_EAPI
 * and *why (caller frees) names the bad field. */
int kc_workspace_to_resource(wsr_resource **out, const cJSON *ws, const char *parent, char **why);

/* status.phase of a Workspace object, or NULL. */
const char *kc_phase(const cJSON *ws);

/* The POST body creating workspace name with the given type (type_name NULL:
 * the platform's default; type_path NULL: kcp resolves the name from the
 * parent upwards), and labels and location taken from the canonical spec
 * (may be NULL). Keys in a fixed order. NULL on failure. */
cJSON *kc_create_body(const char *name, const char *type_name, const char *type_path,
		      const cJSON *spec);

/* ---- check.c, ops.c, provider.c: the ops table's entries ---- */
int kc_check(wsr_provider *p, wsr_change *change, wsr_diag *diag);
int kc_start(wsr_provider *p, const wsr_change *change, wsr_action action, wsr_op **op,
	     wsr_diag *diag);
int kc_poll(wsr_provider *p, wsr_op *op, int *done, wsr_resource **result, wsr_diag *diag);
void kc_op_free(wsr_op *op);

/* The plan-time facts: records (or replaces) the type and phase of the
 * workspace at path (phase NULL: planned by this run); looks one up (NULL
 * when unknown); frees them all. */
int kc_ws_put(wsr_provider *p, const char *path, const char *type_key, const char *phase);
kc_fact *kc_ws_get(const wsr_provider *p, const char *path);
void kc_facts_free(wsr_provider *p);

/* ---- provider.c ---- */

/* Lists every workspace below path afresh (all phases), for a deletion's
 * check: *out gets an array of {"address", "type", "phase"}, parents before
 * children. A listing answered 403 anywhere is an error naming where (kcp
 * would destroy what wsr cannot see); 404 means gone meanwhile. */
int kc_subtree(wsr_provider *p, const char *path, const char *address, cJSON **out, wsr_diag *diag);

/* ---- home workspaces (map.c) ---- */

/* *why: kcp's reason when the Workspace (or LogicalCluster) obj is in
 * phase Unavailable, naming its False Workspace... conditions (see
 * docs/providers/kcp.md); NULL in any other phase. WSR_ENOMEM. */
int kc_unavailable(char **why, const cJSON *obj);

/* The resource of a logicalcluster-style home from the Workspace `~`
 * answered or the LogicalCluster read (status.phase, URL, cluster). */
int kc_home_resource(wsr_resource **out, const char *user, const cJSON *obj, char **why);
#endif
