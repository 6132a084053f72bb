/* config: wsr.yaml, the per-directory configuration (providers, state
 * backend, prune, parallelism), validated with schema/config.json. When the
 * file is absent the defaults are the embedded platform and
 * .wsr/state.json. */
#ifndef WSR_RECONCILER_CONFIG_H
#define WSR_RECONCILER_CONFIG_H
#include <cJSON.h>

#include "lib/diag.h"
#include "providers/kcp/home.h"

#define WSR_CONFIG_FILE "wsr.yaml"

typedef struct wsr_config {
	char *dir;		/* the directory the specs were loaded from */
	char *file;		/* path of wsr.yaml, or NULL when defaults are used */
	cJSON *providers;	/* {"loopback": {"endpoint": ..., "apiKeyEnv": ..., "caFile": ...},
				   "kcp": {"endpoint": ..., "home": {...}}}, defaults filled */
	wsr_kcp_home_opts home; /* providers.kcp.home, checked; prefix points into home_prefix */
	char *home_prefix;
	char *state_backend; /* "file" */
	char *state_path;    /* resolved against dir */
	cJSON *state;	     /* the state block, defaults filled (etcd's keys) */
	int prune;
	int parallelism;
	cJSON *watch; /* the watch block, defaults filled (webhook, git, backoff included) */
} wsr_config;

/* Reads dir/wsr.yaml (or the defaults). Problems go to diag with positions;
 * WSR_EINVAL then. */
int wsr_config_load(wsr_config **out, const char *dir, wsr_diag *diag);

/* Reads the configuration file named (wsr watch --config): it must exist;
 * relative paths in it are relative to its directory. */
int wsr_config_load_file(wsr_config **out, const char *file, wsr_diag *diag);

/* A file named in the configuration, relative to wsr.yaml's directory
 * unless absolute; a new string, NULL for NULL or out of memory. */
char *wsr_config_path(const wsr_config *c, const char *file);

void wsr_config_free(wsr_config *c);
#endif
