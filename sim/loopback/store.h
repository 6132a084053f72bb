/* store: the state of one emulated Loopback platform in memory: the static
 * platform description, every organization's workspaces kept sorted by name
 * (lookups are binary searches and a page of a list is a slice), tasks and
 * idempotency records by id. Every mutation writes the one record it touches
 * to the data directory (persist.c) before it changes memory, so a failed
 * write leaves both as they were. Not thread-safe: the API layer holds one
 * mutex around each request. */
#ifndef WSR_SIM_LOOPBACK_STORE_H
#define WSR_SIM_LOOPBACK_STORE_H
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "lib/hmap.h"

#define WSR_LBSIM_ID_MAX 32 /* "task-" + 16 hex digits, with room */

typedef struct wsr_lbsim_ws {
	char *name;
	const char *org;  /* borrowed from the store's platform */
	cJSON *obj;	  /* the Workspace object; its "state" is recomputed on read */
	int64_t ready_at; /* ms: initializing before, active after */
	int64_t gone_at;  /* ms: 0, or when a running deletion removes it */
	char create_task[WSR_LBSIM_ID_MAX];
	char delete_task[WSR_LBSIM_ID_MAX]; /* "" when not deleting */
} wsr_lbsim_ws;

typedef struct wsr_lbsim_task {
	char id[WSR_LBSIM_ID_MAX];
	int is_delete; /* type delete, else create */
	char *org, *ws;
	int64_t created_at, finished_at; /* ms; running before finished_at */
} wsr_lbsim_task;

typedef struct wsr_lbsim_idem {
	char *id; /* hash of API key and Idempotency-Key */
	int status;
	char *body;
} wsr_lbsim_idem;

typedef struct wsr_lbsim_org {
	const cJSON *json; /* its entry in the platform description */
	const char *name;
	wsr_lbsim_ws **ws; /* sorted by name */
	size_t nws, capws;
} wsr_lbsim_org;

typedef struct wsr_lbsim_store {
	cJSON *platform; /* normalized, see platform.h */
	wsr_lbsim_org *orgs;
	size_t norgs;
	int64_t provisioning_ms;
	wsr_hmap keys;		 /* API key -> its cJSON entry */
	wsr_hmap tasks;		 /* id -> wsr_lbsim_task */
	wsr_hmap idem;		 /* id -> wsr_lbsim_idem */
	wsr_lbsim_ws **deleting; /* workspaces with a running deletion */
	size_t ndeleting, capdeleting;
	char *dir; /* data directory; NULL keeps everything in memory */
} wsr_lbsim_store;

/* Builds a store around a platform description (taken over, already checked
 * by wsr_lbsim_platform_check). dir may be NULL; nothing is read or written
 * here (see persist.h). */
int wsr_lbsim_store_new(wsr_lbsim_store **out, cJSON *platform, const char *dir);
void wsr_lbsim_store_free(wsr_lbsim_store *s);

/* Lookups; NULL when absent. */
wsr_lbsim_org *wsr_lbsim_store_org(wsr_lbsim_store *s, const char *name);
const cJSON *wsr_lbsim_store_key(const wsr_lbsim_store *s, const char *key);
wsr_lbsim_ws *wsr_lbsim_store_ws(const wsr_lbsim_org *o, const char *name);
wsr_lbsim_task *wsr_lbsim_store_task(const wsr_lbsim_store *s, const char *id);
wsr_lbsim_idem *wsr_lbsim_store_idem(const wsr_lbsim_store *s, const char *id);

/* Index of the first workspace of o whose name sorts after key. */
size_t wsr_lbsim_store_after(const wsr_lbsim_org *o, const char *key);

/* "initializing", "active" or "deleting" at time now (ms). */
const char *wsr_lbsim_ws_state(const wsr_lbsim_ws *w, int64_t now);

/* Adds a new workspace and its create task (both taken over on success). */
int wsr_lbsim_store_create(wsr_lbsim_store *s, wsr_lbsim_org *o, wsr_lbsim_ws *w,
			   wsr_lbsim_task *t);
/* Writes w after its object changed. */
int wsr_lbsim_store_update(wsr_lbsim_store *s, const wsr_lbsim_ws *w);
/* Starts deleting w with task t (taken over on success). */
int wsr_lbsim_store_delete(wsr_lbsim_store *s, wsr_lbsim_ws *w, wsr_lbsim_task *t);
/* Records a create response under id (the strings are copied). */
int wsr_lbsim_store_remember(wsr_lbsim_store *s, const char *id, int status, const char *body);

/* Removes the workspaces whose deletion finished by now. */
void wsr_lbsim_store_sweep(wsr_lbsim_store *s, int64_t now);

/* Insert without persisting: used while loading a data directory. The
 * workspaces of an org must be sorted afterwards with store_sort. */
int wsr_lbsim_store_load_ws(wsr_lbsim_store *s, wsr_lbsim_org *o, wsr_lbsim_ws *w);
int wsr_lbsim_store_load_task(wsr_lbsim_store *s, wsr_lbsim_task *t);
int wsr_lbsim_store_load_idem(wsr_lbsim_store *s, wsr_lbsim_idem *r);
/* Sorts every org's workspaces; fails with WSR_ECORRUPT on a duplicate name. */
int wsr_lbsim_store_sort(wsr_lbsim_store *s);

/* Record constructors and destructors. */
wsr_lbsim_ws *wsr_lbsim_ws_new(const char *name, const char *org, cJSON *obj);
void wsr_lbsim_ws_free(wsr_lbsim_ws *w);
wsr_lbsim_task *wsr_lbsim_task_new(int is_delete, const char *org, const char *ws, int64_t now,
				   int64_t dur);
void wsr_lbsim_task_free(wsr_lbsim_task *t);
void wsr_lbsim_idem_free(wsr_lbsim_idem *r);

/* Fills out with prefix and 16 random hex digits ("ws-1b2c3d4e5f60718a"). */
void wsr_lbsim_new_id(char *out, const char *prefix);
#endif
