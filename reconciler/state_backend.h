/* state_backend: opening the state backend that wsr.yaml's `state:` block
 * names — the file backend (state.path) or etcd (state.endpoints, ...) —
 * with the block's files resolved against wsr.yaml's directory and its
 * secrets read from the environment or files, never from wsr.yaml itself.
 * The one place that turns configuration into a backend: every command and
 * the daemon open state through it. */
#ifndef WSR_RECONCILER_STATE_BACKEND_H
#define WSR_RECONCILER_STATE_BACKEND_H
#include "lib/diag.h"
#include "reconciler/config.h"
#include "state/state.h"

/* Opens cfg's backend; problems (a missing endpoint, an unreadable
 * password file) go to diag. Nothing is read or locked yet. */
int wsr_state_backend_open(wsr_state_backend **out, const wsr_config *cfg, wsr_diag *diag);

struct wsr_etcd;
/* For the daemon's leader election (watch.ha), on the cluster that holds
 * the state: a new etcd client built from cfg's state block (caller frees
 * with wsr_etcd_free) and the state's key prefix ("/wsr/prod", caller
 * frees). WSR_EINVAL with a diagnostic when the backend is not etcd. */
int wsr_state_backend_etcd(const wsr_config *cfg, struct wsr_etcd **client, char **prefix,
			   wsr_diag *diag);
#endif
