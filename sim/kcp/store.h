/* store: the state of one emulated kcp server in memory: the workspace tree
 * (every workspace knows its parent and keeps its children sorted by name,
 * so a page of a list is a slice found by binary search), indexes by path,
 * cluster and token, the workspace types, and the global resourceVersion.
 * Phases follow the clock: a workspace records when it leaves Scheduling,
 * when it becomes Ready and, once deleted, when it starts Deleting and is
 * gone; the sweep every request runs first writes each phase change that
 * is due (a new resourceVersion each). Homes ("user:<name>") hang below a
 * holder of their own, not below root. Every mutation
 * writes the record it touches (persist.c) before it changes memory, so a
 * failed write leaves both as they were. Not thread-safe: the API layer
 * holds one mutex around each request. */
#ifndef WSR_SIM_KCP_STORE_H
#define WSR_SIM_KCP_STORE_H
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "lib/hmap.h"
#include "sim/faults.h"

/* A cluster name: 16 characters of [a-z0-9]. */
#define WSR_KCPSIM_CLUSTER_LEN 16
/* Bytes of the secret that signs continue tokens. */
#define WSR_KCPSIM_SECRET_LEN 32
/* Room for the server's base URL ("http://127.0.0.1:PORT"). */
#define WSR_KCPSIM_URL_MAX 128

/* kcp's phases of a logical cluster (core.kcp.io LogicalClusterPhaseType):
 * the clock goes Scheduling, Initializing, Ready, and after a DELETE
 * Terminating, Deleting; Unavailable and Inactive come only from a client
 * (the status subresource) or a seed. */
enum {
	WSR_KCPSIM_SCHEDULING,
	WSR_KCPSIM_INITIALIZING,
	WSR_KCPSIM_READY,
	WSR_KCPSIM_UNAVAILABLE,
	WSR_KCPSIM_INACTIVE,
	WSR_KCPSIM_TERMINATING,
	WSR_KCPSIM_DELETING,
	WSR_KCPSIM_PHASES /* how many */
};

/* The finalizer every workspace carries until it is gone (kcp's
 * pkg/admission/finalizer). */
#define WSR_KCPSIM_FINALIZER "core.kcp.io/logicalcluster"

/* "Scheduling", ...; and back (-1 when unknown). */
const char *wsr_kcpsim_phase_name(int phase);
int wsr_kcpsim_phase_parse(const char *name);

typedef struct wsr_kcpsim_ws wsr_kcpsim_ws;
struct wsr_kcpsim_ws {
	char *path;	  /* "root:acme:team-a" */
	const char *name; /* its last segment, inside path */
	wsr_kcpsim_ws *parent;
	wsr_kcpsim_ws **kids; /* sorted by name */
	size_t nkids, capkids;
	cJSON *obj;  /* the stored Workspace (spec.URL is added when shown) */
	uint64_t rv; /* its metadata.resourceVersion */
	char cluster[WSR_KCPSIM_CLUSTER_LEN + 1];      /* its spec.cluster: the index's key */
	int64_t created_at, initializing_at, ready_at; /* ms: the phase clock */
	/* ms, all 0 until a DELETE: when it came, when Deleting starts, when
	 * the workspace is gone (0 with deleted_at: never, a seeded one) */
	int64_t deleted_at, deleting_at, gone_at;
	int phase;	/* the phase obj shows */
	int frozen;	/* a client wrote another phase through /status: the clock stops */
	long conflicts; /* /_sim/conflicts still to apply (memory only) */
};

typedef struct wsr_kcpsim_store {
	cJSON *platform;	/* normalized, see seed.h */
	const cJSON *root_type; /* root:root, among the platform's types */
	wsr_kcpsim_ws *root;
	wsr_kcpsim_ws *homes; /* holds the homes "user:<name>" as its children; never served */
	int buckets;	      /* the seed's homes: buckets (else logicalcluster) */
	wsr_hmap paths;	      /* path -> wsr_kcpsim_ws */
	wsr_hmap clusters;    /* cluster -> wsr_kcpsim_ws */
	wsr_hmap tokens;      /* token -> user entry of the platform */
	wsr_hmap types;	      /* "<path>:<name>" -> type entry of the platform */
	char **type_keys;     /* the keys of types */
	size_t ntypes;
	wsr_kcpsim_ws **pending; /* not Ready yet (and not frozen), or being deleted */
	size_t npending, cappending;
	uint64_t rv;	   /* the last resourceVersion handed out */
	int64_t seeded_at; /* ms */
	unsigned char secret[WSR_KCPSIM_SECRET_LEN];
	int64_t scheduling_ms, terminating_ms, deletion_ms;
	size_t page_max;
	char *dir;		      /* data directory; NULL keeps everything in memory */
	wsr_sim_faults faults;	      /* injected (POST /_sim/faults); memory only */
	unsigned long touched;	      /* counter behind the sim.wsr.dev/touched annotation */
	char url[WSR_KCPSIM_URL_MAX]; /* the server's base URL, for spec.URL */
} wsr_kcpsim_store;

/* Builds a store around a platform (taken over on success; checked by
 * wsr_kcpsim_seed_check) with the root workspace only and a fresh secret.
 * dir may be NULL; nothing is read or written here (see persist.h). */
int wsr_kcpsim_store_new(wsr_kcpsim_store **out, cJSON *platform, const char *dir);
void wsr_kcpsim_store_free(wsr_kcpsim_store *s);

/* Lookups; NULL when absent. store_type takes a reference with its path
 * and also needs the type's workspace to exist (a type lives in it). */
wsr_kcpsim_ws *wsr_kcpsim_store_ws(const wsr_kcpsim_store *s, const char *path);
const cJSON *wsr_kcpsim_store_user(const wsr_kcpsim_store *s, const char *token);
const cJSON *wsr_kcpsim_store_type(const wsr_kcpsim_store *s, const cJSON *ref);
/* The store's types for the type rules (typerules.h); ctx is the store. */
const cJSON *wsr_kcpsim_store_type_get(void *ctx, const char *path, const char *name);
/* The type of w (its spec.type), or NULL when that no longer exists. */
const cJSON *wsr_kcpsim_ws_type(const wsr_kcpsim_store *s, const wsr_kcpsim_ws *w);

/* The child of w named name, or NULL; the index of w's first child whose
 * name sorts after name ("" for all). */
wsr_kcpsim_ws *wsr_kcpsim_ws_kid(const wsr_kcpsim_ws *w, const char *name);
size_t wsr_kcpsim_ws_after(const wsr_kcpsim_ws *w, const char *name);

/* The phase w is in at now (ms), by its clock. */
int wsr_kcpsim_phase_at(const wsr_kcpsim_ws *w, int64_t now);

/* A new workspace at path (a valid path below root) with the object obj
 * (taken over); the caller sets its clock, rv and phase. NULL when out of
 * memory (obj freed). */
wsr_kcpsim_ws *wsr_kcpsim_ws_new(const char *path, cJSON *obj);
void wsr_kcpsim_ws_free(wsr_kcpsim_ws *w);

/* Makes room for one more entry in a list of n workspaces with room for
 * *cap; 0 or WSR_ENOMEM (the list unchanged). */
int wsr_kcpsim_ws_list_grow(wsr_kcpsim_ws ***v, size_t n, size_t *cap);

/* Fills out with a fresh random uid (a version 4 UUID, 37 bytes) or a
 * cluster name no workspace has (WSR_KCPSIM_CLUSTER_LEN + 1 bytes). */
void wsr_kcpsim_new_uid(char *out);
void wsr_kcpsim_new_cluster(const wsr_kcpsim_store *s, char *out);

/* Adds w (taken over on success) below its parent with the next
 * resourceVersion; its object must carry spec.cluster. */
int wsr_kcpsim_store_create(wsr_kcpsim_store *s, wsr_kcpsim_ws *w);
/* Replaces w's object with obj (taken over on success) under the next
 * resourceVersion. frozen: 1 stops w's phase clock at obj's phase. */
int wsr_kcpsim_store_update(wsr_kcpsim_store *s, wsr_kcpsim_ws *w, cJSON *obj, int frozen);
/* Starts deleting w: deletionTimestamp is set and w is Terminating for the
 * seed's terminatingMs, then Deleting for its deletionMs (0: skipped); when
 * Deleting starts every workspace below w is Deleting too, and at its end
 * w and all of them are gone. *last (caller frees) is w's object as the
 * DELETE answers it. A second call only answers *last. */
int wsr_kcpsim_store_delete(wsr_kcpsim_store *s, wsr_kcpsim_ws *w, int64_t now, cJSON **last);

/* Writes every phase change due by now and ends the deletions due. Every
 * write of the store goes through store_create, store_update, advance and
 * remove_ws (store.c), the places a change can be observed from. */
void wsr_kcpsim_store_sweep(wsr_kcpsim_store *s, int64_t now);

/* Inserts w (loaded from the data directory; its parent must be in) without
 * writing anything. */
int wsr_kcpsim_store_load_ws(wsr_kcpsim_store *s, wsr_kcpsim_ws *w);

/* Replaces obj[key] with v (taken over, also on failure); NULL or an empty
 * object removes it, as Kubernetes leaves empty maps out. */
int wsr_kcpsim_set_part(cJSON *obj, const char *key, cJSON *v);

/* A new Workspace object as stored: metadata (name, a fresh uid,
 * creationTimestamp now, the finalizer, labels and annotations unless empty), spec (type,
 * location unless NULL, cluster) and the status of phase. labels,
 * annotations and location are taken over (also on failure; each may be
 * NULL). NULL when out of memory. */
cJSON *wsr_kcpsim_ws_object(const char *name, cJSON *labels, cJSON *annotations, const cJSON *type,
			    cJSON *location, const char *cluster, int64_t now, int phase);

/* Sets obj's status to the phase, listing inits (strings, may be NULL) as
 * status.initializers while Initializing and [] otherwise. */
int wsr_kcpsim_status_set(cJSON *obj, int phase, const cJSON *inits);
#endif
