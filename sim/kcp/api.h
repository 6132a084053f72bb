/* api: what the request handlers of the kcp emulator share: the call (who
 * asks, about which workspace, at which time) and the answers every handler
 * gives the same way. Internal to sim/kcp/. */
#ifndef WSR_SIM_KCP_API_H
#define WSR_SIM_KCP_API_H
#include <stdint.h>

#include <cJSON.h>

#include "sim/kcp/store.h"
#include "sim/server.h"

typedef struct wsr_kcpsim_call {
	const wsr_sim_req *req;
	wsr_sim_resp *resp;
	wsr_kcpsim_store *s;
	const cJSON *user;  /* who acts: the caller's entry of the seed {name, token,
			     * groups}, or the user it impersonates */
	wsr_kcpsim_ws *ws;  /* the workspace of /clusters/<path>; NULL at the server root */
	int64_t now;	    /* ms, fixed for the whole request */
	int dry;	    /* ?dryRun=All: answer as if done, write nothing */
	cJSON *as;	    /* the impersonated user (owned), or NULL */
	const char *caller; /* the authenticated user's name (before impersonation) */
} wsr_kcpsim_call;

/* ---- access (access.c): who may do what, as kcp's authorizers decide ---- */

/* Answers 403 as Kubernetes' authorizer refusals read: '<resource>.<group>
 * "<name>" is forbidden: User "<user>" cannot <verb> resource "<resource>"
 * in API group "<group>" at the cluster scope[: <reason>]' (name may be
 * NULL, reason NULL or ""). */
void wsr_kcpsim_forbid(wsr_kcpsim_call *c, const char *verb, const char *group,
		       const char *resource, const char *name, const char *reason);

/* Answers the 403 of a content authorizer refusal of the request (rest is
 * its path below /clusters/<path>) with reason, naming what it asked for. */
void wsr_kcpsim_deny(wsr_kcpsim_call *c, const char *rest, const char *reason);

/* Authentication and impersonation: fills c->user (and c->as, c->caller);
 * 0, or -1 after answering 401, 403 or 400. */
int wsr_kcpsim_authenticate(wsr_kcpsim_call *c);

/* kcp's content access to c->ws (rest is the path below /clusters/<path>):
 * the phases that close a workspace, and who may enter a home. 0, or -1
 * after answering 403. */
int wsr_kcpsim_content_access(wsr_kcpsim_call *c, const char *rest);

/* Reads ?dryRun= into c->dry for a write of kind ("CreateOptions", ...); 0,
 * or -1 after answering 422 for a value other than All. */
int wsr_kcpsim_dry_run(wsr_kcpsim_call *c, const char *kind);

/* The type rules over the call's store (typerules.h). */
#define WSR_KCPSIM_STORE_TYPES(c)                                                                  \
	{                                                                                          \
		wsr_kcpsim_store_type_get, (c)->s                                                  \
	}

/* ---- homes (homes.c) ---- */

/* GET /clusters/root/.../workspaces/~ of a logicalcluster-style server. */
void wsr_kcpsim_home_get(wsr_kcpsim_call *c);
/* GET .../apis/core.kcp.io/v1alpha1/logicalclusters/<name> of c->ws. */
void wsr_kcpsim_logicalcluster_get(wsr_kcpsim_call *c, const char *name);
/* kcp's HomeClusterName (pkg/index/rewriters/user.go) of a user into out
 * (WSR_KCPSIM_CLUSTER_LEN + 1 bytes). */
void wsr_kcpsim_home_cluster(const char *user, char *out);

/* A Workspace as the API shows it: the stored object with spec.URL. NULL
 * when out of memory. */
cJSON *wsr_kcpsim_view(const wsr_kcpsim_call *c, const wsr_kcpsim_ws *w);
/* The same for a stored object obj (taken over) of the workspace at path. */
cJSON *wsr_kcpsim_view_of(const wsr_kcpsim_call *c, const char *path, cJSON *obj);

/* Answers code with v (taken over), as a Table when the client asked for
 * one (Accept: ...;as=Table;...) and v is a Workspace or type, or a list. */
void wsr_kcpsim_reply(wsr_kcpsim_call *c, int code, cJSON *v);

/* The request body as a JSON object; NULL after answering 400. */
cJSON *wsr_kcpsim_body_object(wsr_kcpsim_call *c);

/* Answers 503 for a failed write or allocation (clients retry those). */
void wsr_kcpsim_unavailable(wsr_kcpsim_call *c, int rc);

/* Answers 404 for the workspace name in the call's workspace. */
void wsr_kcpsim_ws_not_found(wsr_kcpsim_call *c, const char *name);

/* Fills *limit (0: none) and after ("" or the name a ?continue= resumes
 * after, WSR_KCPSIM_NAME_MAX + 1 bytes) for the list named list; 0, or -1
 * after answering 400 or 410. */
int wsr_kcpsim_page_params(wsr_kcpsim_call *c, const char *list, size_t *limit, char *after);
/* Adds {"resourceVersion", ["continue"]} as the list's metadata: continue
 * resumes after last when more remain (last non-NULL). 0 or WSR_ENOMEM. */
int wsr_kcpsim_list_meta(wsr_kcpsim_call *c, cJSON *list, const char *name, const char *last);

/* Answers a ?watch= list with the one event a watch whose history is gone
 * gets (ERROR, 410 Expired) and returns 1; 0 when it is no watch. */
int wsr_kcpsim_watch_refused(wsr_kcpsim_call *c);

/* Workspace handlers (ws.c, ws_write.c); name is the last path segment. */
void wsr_kcpsim_ws_list(wsr_kcpsim_call *c);
void wsr_kcpsim_ws_get(wsr_kcpsim_call *c, const char *name);
void wsr_kcpsim_ws_create(wsr_kcpsim_call *c);
void wsr_kcpsim_ws_put(wsr_kcpsim_call *c, const char *name);
void wsr_kcpsim_ws_patch(wsr_kcpsim_call *c, const char *name);
void wsr_kcpsim_ws_delete(wsr_kcpsim_call *c, const char *name);
void wsr_kcpsim_ws_status_put(wsr_kcpsim_call *c, const char *name);

/* Workspace types and access reviews (types.c). */
cJSON *wsr_kcpsim_type_json(const wsr_kcpsim_store *s, const cJSON *t);
void wsr_kcpsim_types_list(wsr_kcpsim_call *c);
void wsr_kcpsim_types_get(wsr_kcpsim_call *c, const char *name);
void wsr_kcpsim_ssar(wsr_kcpsim_call *c);

/* Discovery, OpenAPI and what else kubectl reads (discovery.c): answers
 * GET of rest (the path below /clusters/<path>, or the whole path, without
 * the leading '/') and returns 1, or returns 0 when rest is none of them. */
int wsr_kcpsim_discovery(wsr_kcpsim_call *c, const char *rest);

/* Answers a request to /_sim/faults or /_sim/conflicts (simonly.c). */
void wsr_kcpsim_simonly(wsr_kcpsim_store *s, const wsr_sim_req *req, wsr_sim_resp *resp);

/* Converts an object or list (taken over) to a meta.k8s.io/v1 Table at now
 * (table.c). include is ?includeObject= ("Object", "None", or
 * "Metadata", the default). NULL when out of memory. */
cJSON *wsr_kcpsim_table(cJSON *v, int64_t now, const char *include);
#endif
