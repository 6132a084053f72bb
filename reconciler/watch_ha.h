/* watch_ha: the leader election of `wsr watch` replicas (watch.ha). The
 * replicas share the etcd cluster that holds their state; the one whose
 * campaign created the key <prefix>/leader, attached to a lease of
 * watch.haLease, leads, and only it reconciles. The key's create_revision
 * is the leadership's fencing token: state writes (state.h, fence) and
 * platform operations (wsr_ha_may_start) are checked against it, so a
 * replica that lost its leadership — paused, partitioned, its lease expired
 * — can neither write state nor start an operation.
 *
 * The election runs in its own thread, so renewals never wait for a
 * reconcile. Timings (docs/operations.md, High availability): the leader
 * renews every lease/3; it steps down at once when etcd says the lease is
 * gone, and on its own once no renewal succeeded for lease - lease/3 (so it
 * stops before anyone else can be elected); followers read the leader key
 * every WSR_HA_POLL_MS and campaign as soon as it is gone. */
#ifndef WSR_RECONCILER_WATCH_HA_H
#define WSR_RECONCILER_WATCH_HA_H
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "lib/diag.h"

#define WSR_HA_POLL_MS 500	    /* a follower's read of the leader key */
#define WSR_HA_MIN_LEASE_MS 2000    /* etcd's own minimum TTL, with its default timing */
#define WSR_HA_MAX_LEASE_MS 300000  /* 5 min: a longer failover helps no one */
#define WSR_HA_MAX_IDENTITY 1024    /* a leader value longer than this is shown as "?" */
#define WSR_HA_KEY_SUFFIX "/leader" /* the leader key is the state prefix + this */

struct wsr_etcd;
typedef struct wsr_ha wsr_ha;

typedef struct wsr_ha_opts {
	struct wsr_etcd *etcd; /* taken over: freed by wsr_ha_stop (also on a failed start) */
	const char *prefix;    /* the state's key prefix ("/wsr/prod"); copied */
	int64_t lease_ms;      /* watch.haLease: WSR_HA_MIN_LEASE_MS .. WSR_HA_MAX_LEASE_MS,
				  rounded up to whole seconds (etcd's TTL unit) */
	const char *listen;    /* the daemon's HTTP address for its identity; may be NULL */
	int wake_fd;	       /* an eventfd: 1 is added at every change of role, of the
				  leader or of etcd's reachability; -1: none */
	int64_t poll_ms;       /* 0: WSR_HA_POLL_MS */
	/* May be NULL. Called after every change wsr_ha_status would show
	 * (role, leader, etcd's reachability), from the election thread or an
	 * apply worker, one call at a time and never with the election's lock
	 * held, so it may call wsr_ha_status: the endpoints show the change
	 * even while the loop is busy with a long reconcile. */
	void (*on_change)(void *arg, wsr_ha *h);
	void *arg;
} wsr_ha_opts;

/* Checks the options and starts campaigning (in a new thread). WSR_EINVAL
 * with a diagnostic for a lease out of range. */
int wsr_ha_start(wsr_ha **out, const wsr_ha_opts *o, wsr_diag *diag);

/* 1 when this replica leads now — elected, and its lease renewed recently
 * enough that no one else can have been elected — with the fence: *key the
 * leader key (valid until wsr_ha_stop) and *revision its create_revision;
 * 0 otherwise. Cheap (no request): the loop asks it before each reconcile. */
int wsr_ha_leader(wsr_ha *h, const char **key, int64_t *revision);

/* wsr_apply_opts.may_start (arg: the wsr_ha): 0 only when this replica
 * leads and a (linearizable) read of the leader key still shows its
 * create_revision — one etcd round-trip per operation started. Any other
 * answer, or etcd unreachable, is a refusal, and a key that is gone or
 * another's makes this replica step down at once. */
int wsr_ha_may_start(void *arg);

/* The "ha" object of /status: {"role": "leader"|"follower", "leader": {id,
 * host, pid, since, listen} or null, "transitions": N, "etcd": the endpoint
 * that answered last, or {"error": why}}. NULL when out of memory. */
cJSON *wsr_ha_status(wsr_ha *h);

/* Why this replica is not ready as far as the election is concerned (etcd
 * unreachable, e.g. without quorum), copied into why; 0 when it is. */
int wsr_ha_not_ready(wsr_ha *h, char *why, size_t n);

/* Role changes of this replica so far, and whether it leads, for metrics. */
int64_t wsr_ha_transitions(wsr_ha *h);
/* Grows by one at every change wsr_ha_status would show differently. */
int64_t wsr_ha_version(wsr_ha *h);

/* Stops campaigning; a leader resigns (revokes its lease, so the key goes
 * and a follower is elected within one poll). Frees h; NULL is fine. */
void wsr_ha_stop(wsr_ha *h);
#endif
