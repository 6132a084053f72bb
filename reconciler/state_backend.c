/* state_backend: wsr.yaml's `state:` block to an open backend (see
 * state_backend.h). The etcd block's files are relative to wsr.yaml, its
 * password comes from state.passwordEnv or state.passwordFile and is
 * scrubbed once the client has its copy. */
#include "reconciler/state_backend.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/etcd.h"
#include "lib/json.h"
#include "lib/secret.h"
#include "state/etcd.h"

/* Shortest and longest state.lockTTL: below 2 s a lease cannot outlive one
 * slow renewal; above an hour a dead run blocks everyone too long. */
#define LOCK_TTL_MIN_MS 2000
#define LOCK_TTL_MAX_MS 3600000

static int config_error(wsr_diag *diag, const wsr_config *cfg, const char *hint, const char *msg)
{
	wsr_pos pos = {cfg->file ? cfg->file : "wsr.yaml", 0, 0};
	wsr_diag_add(diag, WSR_SEV_ERROR, &pos, NULL, NULL, hint, "%s", msg);
	return WSR_EINVAL;
}

static int duration(const wsr_config *cfg, const char *key, int64_t min, int64_t max, int64_t *ms,
		    wsr_diag *diag)
{
	const char *v = wsr_json_str(cfg->state, key);
	if (v && wsr_clock_duration(ms, v) == 0 && *ms >= min && *ms <= max)
		return 0;
	char *msg = wsr_strdupf("state.%s must be a duration from %llds to %llds", key,
				(long long)(min / 1000), (long long)(max / 1000));
	int rc = config_error(diag, cfg, "e.g. 30s", msg ? msg : "bad duration");
	free(msg);
	return rc;
}

/* The password: the variable named by passwordEnv when set, else the file. */
static int password(const wsr_config *cfg, char **out, wsr_diag *diag)
{
	*out = NULL;
	const char *env = wsr_json_str(cfg->state, "passwordEnv");
	const char *v = env ? getenv(env) : NULL;
	if (v && *v) {
		*out = strdup(v);
		return *out ? 0 : WSR_ENOMEM;
	}
	const char *file = wsr_json_str(cfg->state, "passwordFile");
	if (!file) {
		char *msg = wsr_strdupf("state.username is set but there is no password: %s is "
					"unset and there is no state.passwordFile",
					env ? env : "WSR_ETCD_PASSWORD");
		int rc = config_error(diag, cfg, "export the variable or name a password file",
				      msg ? msg : "no password");
		free(msg);
		return rc;
	}
	char *path = wsr_config_path(cfg, file);
	size_t len = 0;
	int rc = path ? wsr_secret_read(out, &len, path, "etcd password file", "state.passwordFile",
					diag)
		      : WSR_ENOMEM;
	free(path);
	return rc;
}

static void scrub(char *s)
{
	if (s) {
		volatile char *p = s;
		while (*p)
			*p++ = 0;
	}
	free(s);
}

/* A client on the state's cluster, and where it is for messages. */
static int open_client(const wsr_config *cfg, wsr_etcd **client, char **where, wsr_diag *diag)
{
	*client = NULL;
	*where = NULL;
	const cJSON *eps = wsr_json_arr(cfg->state, "endpoints");
	if (!eps || cJSON_GetArraySize(eps) == 0)
		return config_error(diag, cfg, "e.g. endpoints: [https://etcd-1:2379]",
				    "state.endpoints is required with backend etcd");
	if (!wsr_json_str(cfg->state, "prefix"))
		return config_error(diag, cfg, "e.g. prefix: /wsr/prod (one per state)",
				    "state.prefix is required with backend etcd");
	const char *endpoints[WSR_ETCD_MAX_ENDPOINTS];
	size_t n = 0;
	wsr_buf w = WSR_BUF_INIT;
	wsr_buf_puts(&w, "etcd ");
	for (const cJSON *e = eps->child; e && n < WSR_ETCD_MAX_ENDPOINTS; e = e->next) {
		endpoints[n] = e->valuestring;
		wsr_buf_printf(&w, "%s%s", n ? "," : "", e->valuestring);
		n++;
	}
	int64_t timeout = 0;
	int rc = duration(cfg, "requestTimeout", 100, 600000, &timeout, diag);
	char *ca = wsr_config_path(cfg, wsr_json_str(cfg->state, "caFile"));
	char *cert = wsr_config_path(cfg, wsr_json_str(cfg->state, "certFile"));
	char *key = wsr_config_path(cfg, wsr_json_str(cfg->state, "keyFile"));
	const char *user = wsr_json_str(cfg->state, "username");
	char *pass = NULL;
	if (!rc && user)
		rc = password(cfg, &pass, diag);
	if (!rc && (!cert) != (!key))
		rc = config_error(diag, cfg,
				  "a client certificate needs its key, and a key its "
				  "certificate",
				  "state.certFile and state.keyFile go together");
	if (!rc) {
		wsr_etcd_opts o = {.endpoints = endpoints,
				   .nendpoints = n,
				   .ca_file = ca,
				   .cert_file = cert,
				   .key_file = key,
				   .username = user,
				   .password = pass,
				   .timeout_ms = (long)timeout,
				   .where = "state"};
		char *err = NULL;
		rc = wsr_etcd_new(client, &o, &err);
		if (rc) {
			wsr_pos pos = {cfg->file ? cfg->file : "wsr.yaml", 0, 0};
			wsr_diag_add(diag, WSR_SEV_ERROR, &pos, NULL, NULL, NULL, "state: %s",
				     err ? err : wsr_strerror(rc));
		}
		free(err);
	}
	scrub(pass);
	free(ca);
	free(cert);
	free(key);
	if (!rc && !(*where = wsr_buf_detach(&w)))
		rc = WSR_ENOMEM;
	wsr_buf_free(&w);
	if (rc) {
		wsr_etcd_free(*client);
		*client = NULL;
	}
	return rc;
}

static int open_etcd(wsr_state_backend **out, const wsr_config *cfg, wsr_diag *diag)
{
	int64_t ttl = 0;
	int rc = duration(cfg, "lockTTL", LOCK_TTL_MIN_MS, LOCK_TTL_MAX_MS, &ttl, diag);
	wsr_etcd *client = NULL;
	char *where = NULL;
	if (!rc)
		rc = open_client(cfg, &client, &where, diag);
	if (!rc)
		rc = wsr_state_etcd_open(out, client, wsr_json_str(cfg->state, "prefix"),
					 (ttl + 999) / 1000, where);
	free(where);
	return rc;
}

int wsr_state_backend_open(wsr_state_backend **out, const wsr_config *cfg, wsr_diag *diag)
{
	*out = NULL;
	if (cfg->state_backend && strcmp(cfg->state_backend, "etcd") == 0)
		return open_etcd(out, cfg, diag);
	int rc = wsr_state_file_open(out, cfg->state_path);
	if (rc)
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, NULL,
			     "cannot open state %s: %s", cfg->state_path, wsr_strerror(rc));
	return rc;
}

int wsr_state_backend_etcd(const wsr_config *cfg, struct wsr_etcd **client, char **prefix,
			   wsr_diag *diag)
{
	*client = NULL;
	*prefix = NULL;
	if (!cfg->state_backend || strcmp(cfg->state_backend, "etcd") != 0)
		return config_error(diag, cfg, "set state.backend: etcd (docs/operations.md)",
				    "watch.ha needs the etcd state backend: the replicas elect "
				    "their leader on the cluster that holds the state");
	char *where = NULL;
	int rc = open_client(cfg, client, &where, diag);
	free(where);
	if (!rc && !(*prefix = strdup(wsr_json_str(cfg->state, "prefix")))) {
		wsr_etcd_free(*client);
		*client = NULL;
		rc = WSR_ENOMEM;
	}
	return rc;
}
