/* api: what the request handlers of the Loopback emulator share: the call
 * (who asks, about what, at which time) and the checks every handler makes.
 * Internal to sim/loopback/. */
#ifndef WSR_SIM_LOOPBACK_API_H
#define WSR_SIM_LOOPBACK_API_H
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "sim/loopback/store.h"
#include "sim/server.h"

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

/* The name of one permission bit ("workspace:create"). */
const char *wsr_lbsim_perm_name(unsigned perm);

/* Default and largest page of a list. */
#define WSR_LBSIM_PAGE_DEFAULT 100
#define WSR_LBSIM_PAGE_MAX 500
/* Longest Idempotency-Key accepted. */
#define WSR_LBSIM_IDEM_KEY_MAX 255

typedef struct wsr_lbsim_call {
	const wsr_sim_req *req;
	wsr_sim_resp *resp;
	wsr_lbsim_store *s;
	const char *apikey;
	wsr_lbsim_org *org; /* the key's organization */
	unsigned perms;
	const cJSON *projects; /* the projects the key is limited to, or NULL */
	int64_t now;	       /* ms, fixed for the whole request */
} wsr_lbsim_call;

/* The caller's own organization named name, or NULL after answering 404. */
wsr_lbsim_org *wsr_lbsim_own_org(wsr_lbsim_call *c, const char *name);
/* 1 when the key has perm on project, else 0 after answering 403. */
int wsr_lbsim_allowed(wsr_lbsim_call *c, unsigned perm, const char *project);
/* 1 when the key may act in project at all (no limit, or one of its projects). */
int wsr_lbsim_in_scope(const wsr_lbsim_call *c, const char *project);
/* Parses ?limit= and ?cursor=; *after is "" without a cursor. 0, or -1
 * after answering 400. after has WSR_LBSIM_CURSOR_KEY_MAX + 1 bytes. */
int wsr_lbsim_page_params(wsr_lbsim_call *c, size_t *limit, char *after);
/* Answers 200 with {"items": items, "nextCursor": cursor after last, or null}. */
void wsr_lbsim_page_reply(wsr_lbsim_call *c, cJSON *items, const char *last);
/* Parses the request body as JSON; NULL after answering 400. */
cJSON *wsr_lbsim_body(wsr_lbsim_call *c);
/* Answers 503 for a failed write or allocation (clients retry those). */
void wsr_lbsim_unavailable(wsr_lbsim_call *c, int rc);

/* The Workspace and Task objects as the API shows them at c->now. */
cJSON *wsr_lbsim_ws_json(const wsr_lbsim_ws *w, int64_t now);
cJSON *wsr_lbsim_task_json(const wsr_lbsim_task *t, int64_t now);

/* Read-only handlers (reads.c). */
void wsr_lbsim_principal(wsr_lbsim_call *c);
void wsr_lbsim_org_list(wsr_lbsim_call *c);
void wsr_lbsim_org_get(wsr_lbsim_call *c, const char *org);
void wsr_lbsim_versions(wsr_lbsim_call *c);
void wsr_lbsim_clusters(wsr_lbsim_call *c);
void wsr_lbsim_task_get(wsr_lbsim_call *c, const char *id);
/* The permission bits of a role ("admin", "member", "viewer"). */
unsigned wsr_lbsim_role_perms(const char *role);

/* Workspace handlers (ws.c, ws_create.c). */
void wsr_lbsim_ws_list(wsr_lbsim_call *c, const char *org);
void wsr_lbsim_ws_get(wsr_lbsim_call *c, const char *org, const char *name);
void wsr_lbsim_ws_create(wsr_lbsim_call *c, const char *org);
void wsr_lbsim_ws_patch(wsr_lbsim_call *c, const char *org, const char *name);
void wsr_lbsim_ws_delete(wsr_lbsim_call *c, const char *org, const char *name);
#endif
