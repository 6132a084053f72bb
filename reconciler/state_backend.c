/* state_backend: wsr.yaml's `state:` block to an open backend (see
 * state_backend.h). */
#include "reconciler/state_backend.h"

#include <string.h>

#include "lib/err.h"

int wsr_state_backend_open(wsr_state_backend **out, const wsr_config *cfg, wsr_diag *diag)
{
	*out = NULL;
	int rc = wsr_state_file_open(out, cfg->state_path);
	if (rc)
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, NULL,
			     "cannot open state %s: %s", cfg->state_path, wsr_strerror(rc));
	return rc;
}

int wsr_state_backend_etcd(const wsr_config *cfg, struct wsr_etcd **client, char **prefix,
			   wsr_diag *diag)
{
	(void)cfg;
	*client = NULL;
	*prefix = NULL;
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, "set state.backend: etcd",
		     "watch.ha needs the etcd state backend");
	return WSR_EINVAL;
}
