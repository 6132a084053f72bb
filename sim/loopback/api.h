/* api: what the request handlers of the Loopback emulator share: the call
 * (who asks, about what, at which time) and the checks every handler makes.
 * Internal to sim/loopback/. */
#ifndef WSR_SIM_LOOPBACK_API_H
#define WSR_SIM_LOOPBACK_API_H
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "sim/loopback/platform.h"
#include "sim/loopback/store.h"
#include "sim/server.h"

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
	int admin;	       /* the key's role is admin (only admins switch maintenance off) */
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
/* The page of arr (a list in fixed order whose items are keyed by field)
 * that ?limit= and ?cursor= ask for, as {"items", "nextCursor"}; NULL after
 * answering 400 or 503. */
cJSON *wsr_lbsim_page_of(wsr_lbsim_call *c, const cJSON *arr, const char *field);
/* Parses the request body as JSON; NULL after answering 400. */
cJSON *wsr_lbsim_body(wsr_lbsim_call *c);
/* Answers 503 for a failed write or allocation (clients retry those). */
void wsr_lbsim_unavailable(wsr_lbsim_call *c, int rc);

/* The Workspace and Task objects as the API shows them at c->now. */
cJSON *wsr_lbsim_ws_json(const wsr_lbsim_ws *w, int64_t now);
cJSON *wsr_lbsim_task_json(const wsr_lbsim_task *t, int64_t now);
/* Answers code with {"workspace": w, "task": t} (t NULL: no task member). */
void wsr_lbsim_reply_ws_task(wsr_lbsim_call *c, int code, const wsr_lbsim_ws *w,
			     const wsr_lbsim_task *t);

/* Stores obj (taken over) as w's Workspace object and answers 200 with it,
 * or 503 (w unchanged) when it cannot be written. */
void wsr_lbsim_ws_replace(wsr_lbsim_call *c, wsr_lbsim_ws *w, cJSON *obj);

/* The workspace named in the path, or NULL after answering 404. */
wsr_lbsim_ws *wsr_lbsim_ws_lookup(wsr_lbsim_call *c, const char *org, const char *name);
/* The workspace named in the path that the key has perm on, or NULL after
 * answering 404 or 403. */
wsr_lbsim_ws *wsr_lbsim_ws_find(wsr_lbsim_call *c, const char *org, const char *name,
				unsigned perm);

/* Read-only handlers (reads.c). */
void wsr_lbsim_principal(wsr_lbsim_call *c);
void wsr_lbsim_org_list(wsr_lbsim_call *c);
void wsr_lbsim_org_get(wsr_lbsim_call *c, const char *org);
void wsr_lbsim_versions(wsr_lbsim_call *c);
void wsr_lbsim_clusters(wsr_lbsim_call *c);
void wsr_lbsim_task_get(wsr_lbsim_call *c, const char *id);

/* Workspace handlers (ws.c, ws_create.c). */
void wsr_lbsim_ws_list(wsr_lbsim_call *c, const char *org);
void wsr_lbsim_ws_get(wsr_lbsim_call *c, const char *org, const char *name);
void wsr_lbsim_ws_create(wsr_lbsim_call *c, const char *org);
void wsr_lbsim_ws_patch(wsr_lbsim_call *c, const char *org, const char *name);
void wsr_lbsim_ws_delete(wsr_lbsim_call *c, const char *org, const char *name);

/* Day-two operations and the reads that plan them (ws_ops.c). */
void wsr_lbsim_ws_upgrades(wsr_lbsim_call *c, const char *org, const char *name);
void wsr_lbsim_ws_upgrade(wsr_lbsim_call *c, const char *org, const char *name);
void wsr_lbsim_ws_transfer(wsr_lbsim_call *c, const char *org, const char *name);
void wsr_lbsim_ws_profiles(wsr_lbsim_call *c, const char *org, const char *name);

/* Seeds the workspaces of a checked platform's "workspaces" list into s,
 * active from the start and without a task (ws_create.c). */
int wsr_lbsim_seed_workspaces(wsr_lbsim_store *s, const cJSON *list, int64_t now);
#endif
