/* etcd (state): the state backend that keeps a team's state in an etcd
 * cluster, so that ephemeral CI runners and several daemons share it. The
 * layout, the compare-and-swap, the lease under the lock and the fencing
 * are described in etcd.c and docs/state.md. */
#ifndef WSR_STATE_ETCD_H
#define WSR_STATE_ETCD_H
#include <stdint.h>

#include "lib/etcd.h"
#include "state/state.h"

#define WSR_STATE_ETCD_LOCK_TTL_S 30 /* state.lockTTL's default */

/* Opens the state under prefix ("/wsr/prod", no trailing slash) on the
 * cluster client talks to; client is taken over (also on failure). lock_ttl_s
 * is the TTL of the lease the lock is attached to. where names the cluster
 * in messages ("etcd https://a:2379,https://b:2379"). Nothing is sent yet. */
int wsr_state_etcd_open(wsr_state_backend **out, wsr_etcd *client, const char *prefix,
			int64_t lock_ttl_s, const char *where);
#endif
