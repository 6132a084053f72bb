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
#include "sim/faults.h"

#define WSR_LBSIM_ID_MAX 32 /* "task-" + 16 hex digits, with room */

/* Task types; 0 is "none" where a type is optional. */
enum {
	WSR_LBSIM_TASK_CREATE = 1,
	WSR_LBSIM_TASK_DELETE,
	WSR_LBSIM_TASK_UPGRADE,
	WSR_LBSIM_TASK_TRANSFER,
};

/* "create", "delete", "upgrade" or "transfer"; and back (0 when unknown). */
const char *wsr_lbsim_task_type_name(int type);
int wsr_lbsim_task_type_parse(const char *name);

typedef struct wsr_lbsim_ws {
	char *name;
	const char *org;  /* borrowed from the store's platform */
	cJSON *obj;	  /* the Workspace object; its "state" is recomputed on read */
	int64_t ready_at; /* ms: initializing before, active after */
	int64_t gone_at;  /* ms: 0, or when a running deletion removes it */
	int failed;	  /* its creation fails: "failed" from ready_at on */
	char create_task[WSR_LBSIM_ID_MAX]; /* "" for a workspace that came with the seed */
	char delete_task[WSR_LBSIM_ID_MAX]; /* "" when not deleting */
	/* a running upgrade or transfer, settled by the sweep when its task ends */
	int op;				/* WSR_LBSIM_TASK_UPGRADE or _TRANSFER; 0 when none */
	char op_task[WSR_LBSIM_ID_MAX]; /* its task */
	int64_t op_until;		/* ms: when the task ends */
	char *op_arg; /* upgrade: the target version; transfer: the project it left */
} wsr_lbsim_ws;

typedef struct wsr_lbsim_task {
	char id[WSR_LBSIM_ID_MAX];
	int type; /* WSR_LBSIM_TASK_* */
	char *org, *ws;
	int64_t created_at, finished_at; /* ms; running before finished_at */
	char *err_code, *err_msg;	 /* both set when the task ends failed (a fault) */
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
	wsr_lbsim_ws **busy; /* workspaces with a running upgrade or transfer */
	size_t nbusy, capbusy;
	wsr_sim_faults faults; /* injected (POST /_sim/faults); kept in memory only */
	char *dir;	       /* data directory; NULL keeps everything in memory */
} wsr_lbsim_store;

/* Builds a store around a platform description (taken over on success,
 * already checked by wsr_lbsim_platform_check). dir may be NULL; nothing is read or written
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

/* "initializing", "active", "failed", "upgrading", "transferring" or
 * "deleting" at time now (ms). Running upgrades and transfers end only in
 * the sweep, which every request runs first. */
const char *wsr_lbsim_ws_state(const wsr_lbsim_ws *w, int64_t now);

/* Adds a new workspace and its create task (both taken over on success;
 * t is NULL for a workspace that comes with the seed). */
int wsr_lbsim_store_create(wsr_lbsim_store *s, wsr_lbsim_org *o, wsr_lbsim_ws *w,
			   wsr_lbsim_task *t);
/* Writes w after its object changed. */
int wsr_lbsim_store_update(wsr_lbsim_store *s, const wsr_lbsim_ws *w);
/* Starts deleting w with task t (taken over on success). */
int wsr_lbsim_store_delete(wsr_lbsim_store *s, wsr_lbsim_ws *w, wsr_lbsim_task *t);
/* Starts an upgrade or transfer of w with task t (taken over on success;
 * its type says which). arg is the target version of an upgrade, or the
 * destination project of a transfer, which the workspace shows at once. */
int wsr_lbsim_store_start_op(wsr_lbsim_store *s, wsr_lbsim_ws *w, wsr_lbsim_task *t,
			     const char *arg);
/* Records a create response under id (the strings are copied). */
int wsr_lbsim_store_remember(wsr_lbsim_store *s, const char *id, int status, const char *body);

/* Ends what finished by now: upgrades and transfers are applied (or, when
 * their task failed, undone), deletions remove their workspace (or, when
 * their task failed, leave it as it was). */
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
wsr_lbsim_task *wsr_lbsim_task_new(int type, const char *org, const char *ws, int64_t now,
				   int64_t dur);
/* Makes t end failed with that error (the strings are copied). */
int wsr_lbsim_task_fail(wsr_lbsim_task *t, const char *code, const char *msg);
void wsr_lbsim_task_free(wsr_lbsim_task *t);
void wsr_lbsim_idem_free(wsr_lbsim_idem *r);

/* Fills out with prefix and 16 random hex digits ("ws-1b2c3d4e5f60718a"). */
void wsr_lbsim_new_id(char *out, const char *prefix);
#endif
