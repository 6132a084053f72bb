/* engine: opening what a run needs, and the embedded platform. */
#include "reconciler/engine.h"

#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/log.h"
#include "reconciler/state_backend.h"
#include "sim/sim.h"

int wsr_engine_new(wsr_engine **out, wsr_config *cfg, wsr_diag *diag)
{
	*out = NULL;
	wsr_engine *e = calloc(1, sizeof(*e));
	if (!e) {
		wsr_config_free(cfg);
		return WSR_ENOMEM;
	}
	e->cfg = cfg;
	int rc = wsr_state_backend_open(&e->backend, cfg, diag);
	if (rc) {
		wsr_engine_free(e);
		return rc;
	}
	*out = e;
	return 0;
}

wsr_engine_provider *wsr_engine_provider_get(wsr_engine *e, const char *name)
{
	for (int i = 0; i < e->nprov; i++)
		if (strcmp(e->prov[i].name, name) == 0)
			return &e->prov[i];
	return NULL;
}

/* Starts the emulator for `endpoint: embedded`, with its data next to the
 * state (.wsr/platform/<api>), and points config at it. */
static int start_embedded(wsr_engine *e, const char *name, cJSON *config, struct wsr_sim **sim,
			  wsr_diag *diag)
{
	char *base = wsr_path_join(e->cfg->dir, ".wsr/platform");
	char *data = base ? wsr_path_join(base, name) : NULL;
	free(base);
	if (!data)
		return WSR_ENOMEM;
	wsr_sim_opts o = WSR_SIM_OPTS_INIT;
	o.api = name;
	o.data_dir = data;
	char *err = NULL;
	int rc = wsr_sim_start(sim, &o, &err);
	if (rc) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, err, NULL,
			     "cannot start the embedded %s platform", name);
		free(err);
		free(data);
		return rc;
	}
	free(data);
	wsr_log(WSR_LOG_INFO, "embedded %s platform at %s", name, wsr_sim_url(*sim));
	cJSON_ReplaceItemInObject(config, "endpoint", cJSON_CreateString(wsr_sim_url(*sim)));
	cJSON_DeleteItemFromObject(config, "apiKey");
	cJSON_AddStringToObject(config, "apiKey", wsr_sim_builtin_key(name));
	return 0;
}

/* Makes a relative file named in a provider block relative to wsr.yaml's
 * directory, as state.path is, not to wherever wsr was started. */
static int resolve_file(cJSON *config, const char *key, const wsr_config *cfg)
{
	const char *file = wsr_json_str(config, key);
	if (!file)
		return 0;
	char *path = wsr_config_path(cfg, file);
	cJSON *v = path ? cJSON_CreateString(path) : NULL;
	free(path);
	if (!v || !cJSON_ReplaceItemInObject(config, key, v)) {
		cJSON_Delete(v);
		return WSR_ENOMEM;
	}
	return 0;
}

int wsr_engine_provider_open(wsr_engine *e, const char *name, wsr_engine_provider **out,
			     wsr_diag *diag)
{
	*out = wsr_engine_provider_get(e, name);
	if (*out)
		return 0;
	const wsr_provider_ops *ops = wsr_provider_find(name);
	const cJSON *block = cJSON_GetObjectItemCaseSensitive(e->cfg->providers, name);
	if (!ops || !cJSON_IsObject(block)) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL,
			     "configure it under providers: in wsr.yaml",
			     "no provider '%s' is configured", name);
		return WSR_ENOTFOUND;
	}
	if (e->nprov == WSR_ENGINE_MAX_PROVIDERS)
		return WSR_ELIMIT;
	cJSON *config = cJSON_Duplicate(block, 1);
	if (!config)
		return WSR_ENOMEM;
	wsr_engine_provider *ep = &e->prov[e->nprov];
	memset(ep, 0, sizeof(*ep));
	ep->name = ops->name;
	ep->ops = ops;
	ep->timeout_s = (int)wsr_json_num(config, "timeout", 1800);
	int rc = 0;
	if (resolve_file(config, "kubeconfig", e->cfg) || resolve_file(config, "caFile", e->cfg)) {
		cJSON_Delete(config);
		return WSR_ENOMEM;
	}
	if (e->deadline.at_ms &&
	    (!cJSON_AddNumberToObject(config, "deadlineMs", (double)e->deadline.at_ms) ||
	     !cJSON_AddStringToObject(config, "deadlineHint", e->deadline.hint))) {
		cJSON_Delete(config);
		return WSR_ENOMEM;
	}
	const char *endpoint = wsr_json_str(config, "endpoint");
	if (endpoint && strcmp(endpoint, "embedded") == 0)
		rc = start_embedded(e, name, config, &ep->sim, diag);
	if (!rc)
		rc = ops->open(&ep->p, config, diag);
	cJSON_Delete(config);
	if (rc) {
		if (ep->sim)
			wsr_sim_stop(ep->sim);
		memset(ep, 0, sizeof(*ep));
		return rc;
	}
	e->nprov++;
	*out = ep;
	return 0;
}

void wsr_engine_free(wsr_engine *e)
{
	if (!e)
		return;
	for (int i = 0; i < e->nprov; i++) {
		if (e->prov[i].p)
			e->prov[i].ops->close(e->prov[i].p);
		if (e->prov[i].sim)
			wsr_sim_stop(e->prov[i].sim);
	}
	if (e->backend)
		e->backend->ops->free(e->backend);
	wsr_config_free(e->cfg);
	free(e);
}
