/* resource: the vocabulary the engine and the providers share — a resource
 * (one workspace as desired, observed or recorded), a set of them indexed by
 * address, and a planned change. Values are cJSON trees in the canonical
 * shape of their kind's schema (the `spec` part of a document, defaults
 * filled in), so the diff can be generic. */
#ifndef WSR_PROVIDERS_RESOURCE_H
#define WSR_PROVIDERS_RESOURCE_H
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "lib/hmap.h"

/* How the platform reports an existing resource, as its provider reads the
 * platform's own words (a state, a phase, conditions). The engine never
 * takes an unhealthy resource as in sync (reconciler/plan.c). */
typedef enum {
	WSR_HEALTH_OK = 0,  /* working, or on its way (a task still running) */
	WSR_HEALTH_REPLACE, /* broken, and deleting it and creating it again repairs it
			       losing nothing (a creation that failed: nothing runs on it) */
	WSR_HEALTH_BROKEN,  /* broken in a way wsr cannot repair through the API */
} wsr_health;

typedef struct wsr_resource {
	char *address;	   /* "loopback/acme/payments-prod" */
	char *provider;	   /* "loopback" */
	char *kind;	   /* "loopback.wsr.dev/v1/Workspace": apiVersion "/" kind */
	char *name;	   /* metadata.name */
	char *id;	   /* the platform's identifier (observed, recorded); may be NULL */
	cJSON *spec;	   /* canonical spec; owned */
	cJSON *labels;	   /* wsr-side labels (desired, recorded); owned; may be NULL */
	cJSON *status;	   /* what the platform reports beyond the spec (phase, ...); may be NULL */
	wsr_health health; /* observed resources: set by the provider's mapping */
	char *health_why;  /* owned; when not OK: what the platform reports, for people
			      ("the platform shows the workspace failed ..."); every word
			      the platform supplied in it is quoted by wsr_diag_short */
	char *file;	   /* source of a desired resource; may be NULL */
	int line, col;
} wsr_resource;

/* Allocates an empty resource with the given address, provider and kind. */
wsr_resource *wsr_resource_new(const char *address, const char *provider, const char *kind,
			       const char *name);
/* Deep copy; NULL on allocation failure. */
wsr_resource *wsr_resource_dup(const wsr_resource *r);
void wsr_resource_free(wsr_resource *r);

/* An ordered set of resources, indexed by address. Owns its resources. */
typedef struct wsr_resource_set {
	wsr_resource **v;
	size_t n, cap;
	wsr_hmap index;
	/* When set, a resource added holds what its spec and labels have in
	 * common with the resource of the same address there only once, borrowed
	 * from it (wsr_json_share): the observed set shares with the desired
	 * one, so an unchanged workspace is not held twice. That set must
	 * outlive this one, and neither's values may then change in place. */
	const struct wsr_resource_set *share;
} wsr_resource_set;

#define WSR_RESOURCE_SET_INIT                                                                      \
	{                                                                                          \
		NULL, 0, 0, WSR_HMAP_INIT, NULL                                                    \
	}

/* Adds r (taking ownership). WSR_ECONFLICT when its address is already in
 * the set (r is then not taken); WSR_ENOMEM. */
int wsr_resource_set_add(wsr_resource_set *s, wsr_resource *r);
/* Returns the resource with that address or NULL. */
wsr_resource *wsr_resource_set_find(const wsr_resource_set *s, const char *address);
void wsr_resource_set_free(wsr_resource_set *s);

/* Platform operations, in the order a change carries them out. */
typedef enum {
	WSR_ACT_CREATE = 0,
	WSR_ACT_UPDATE,
	WSR_ACT_TRANSFER,
	WSR_ACT_UPGRADE,
	WSR_ACT_DELETE,
} wsr_action;

/* "create", "update", ... */
const char *wsr_action_name(wsr_action a);

#define WSR_MAX_ACTIONS 4

/* One changed field: its dotted path in the spec, old and new value. */
typedef struct wsr_field_change {
	char *path;	 /* "kubernetes.version", "metadata.costCenter" */
	cJSON *before;	 /* NULL when absent; never a sensitive value */
	cJSON *after;	 /* NULL when absent */
	int sensitive;	 /* shown as (sensitive) */
	int replace;	 /* this field forces replacement (x-wsr-immutable) */
	char *operation; /* x-wsr-operation of the field, or NULL */
	int drift;	 /* changed outside wsr (the spec did not change since the
			    last apply): the change restores the spec's value */
} wsr_field_change;

/* A planned change to one resource. */
typedef struct wsr_change {
	char *address;
	char *provider;
	char *kind;
	wsr_action actions[WSR_MAX_ACTIONS];
	int nactions;	/* 0: no platform operation */
	int disruptive; /* interrupts the running workspace (an upgrade, a replacement) */
	wsr_field_change *fields;
	size_t nfields;
	char **reasons; /* why, for people */
	size_t nreasons;
	const wsr_resource *desired;  /* borrowed from the desired set; NULL for deletes */
	const wsr_resource *observed; /* borrowed from the observed set; NULL when absent */
	cJSON *extra;		      /* provider plan data, merged into the change's JSON;
					 owned; may be NULL. Known keys: "upgradePath" (array
					 of versions, current first; the provider says the
					 path in a reason), and three the text plan shows:
					 "verifyAfter" (array of strings: what to check after
					 a transfer), "destroys" (array of strings: what a
					 deletion destroys), "backupFirst" (array of strings:
					 what to save before a deletion); and "descendants"
					 (array of addresses: what the platform deletes with a
					 deletion, read by the engine's cascade rule) */
} wsr_change;

void wsr_change_free(wsr_change *c);
/* Appends a reason (copied, printf-style). */
int wsr_change_add_reason(wsr_change *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#endif
