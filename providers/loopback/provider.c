/* provider: the loopback provider's life cycle (open from config, close),
 * its reads (the listing, one workspace by address), plus the ops table the
 * engine finds it by. The plan-time rules live in check.c, the mutating
 * operations in ops.c and the compute profiles in profiles.c, so each file
 * reads as one stage of the flow. */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/http.h"
#include "lib/json.h"
#include "providers/loopback/lb.h"
#include "providers/loopback/loopback.h"

static int config_error(wsr_diag *diag, const char *hint, const char *summary)
{
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, hint, "providers.loopback: %s",
		     summary);
	return WSR_EINVAL;
}

/* Refuses a key that cannot go into the Authorization header as it is (a
 * CR/LF would inject headers): lib/http's one rule, the kcp token's too.
 * `where` names the key's origin; the key itself is never quoted. */
static int key_safe(const char *key, const char *where, wsr_diag *diag)
{
	if (wsr_http_header_safe(key))
		return 0;
	char *hint = wsr_strdupf("set %s to the key alone, without line breaks", where);
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, hint,
		     "providers.loopback: the API key in %s holds control characters", where);
	free(hint);
	return WSR_EINVAL;
}

/* The key: apiKey (the embedded platform's, set by the engine) or the
 * variable apiKeyEnv names. Only the variable's name ever reaches a message. */
static int find_key(const char **key, const cJSON *config, wsr_diag *diag)
{
	const char *env = wsr_json_str(config, "apiKeyEnv");
	*key = wsr_json_str(config, "apiKey");
	if (*key && **key)
		return key_safe(*key, "apiKey", diag);
	if (!env || !*env)
		return config_error(diag,
				    "name the environment variable holding the API key, "
				    "e.g. apiKeyEnv: LOOPBACK_API_KEY",
				    "apiKeyEnv is not set");
	*key = getenv(env);
	if (*key && **key)
		return key_safe(*key, env, diag);
	char *hint = wsr_strdupf("export %s=<your Loopback API key>", env);
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, hint,
		     "providers.loopback: environment variable %s (apiKeyEnv) is not set or empty",
		     env);
	free(hint);
	return WSR_EINVAL;
}

static int lb_open(wsr_provider **out, const cJSON *config, wsr_diag *diag)
{
	*out = NULL;
	const char *endpoint = wsr_json_str(config, "endpoint"), *key;
	if (!endpoint || !*endpoint)
		return config_error(diag, "set endpoint to the platform's https:// URL",
				    "endpoint is not set");
	int64_t timeout_s = LB_DEFAULT_TIMEOUT_S;
	int rc = wsr_json_int_in(config, "timeout", 1, LB_MAX_TIMEOUT_S, &timeout_s);
	if (rc == WSR_EINVAL) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, NULL,
			     "providers.loopback: timeout is not a whole number of seconds from 1 "
			     "to %d",
			     LB_MAX_TIMEOUT_S);
		return WSR_EINVAL;
	}
	rc = find_key(&key, config, diag);
	if (rc)
		return rc;
	wsr_provider *p = calloc(1, sizeof(*p));
	if (!p)
		return WSR_ENOMEM;
	p->facts_rc = 1;
	p->timeout_s = (long)timeout_s;
	const char *env = wsr_json_str(config, "apiKeyEnv");
	p->endpoint = strdup(endpoint);
	p->key_env = env ? strdup(env) : NULL;
	wsr_http_opts o = WSR_HTTP_OPTS_INIT;
	o.base_url = endpoint;
	o.bearer = key;
	o.ca_file = wsr_json_str(config, "caFile");
	o.max_response = LB_MAX_RESPONSE;
	char *err = NULL;
	if (wsr_provider_http_limits(&o, config, "providers.loopback", diag)) {
		wsr_loopback_provider.close(p);
		return WSR_EINVAL;
	}
	rc = p->endpoint ? wsr_http_new(&p->http, &o, &err) : WSR_ENOMEM;
	if (rc) {
		if (err)
			config_error(diag, NULL, err);
		free(err);
		wsr_loopback_provider.close(p);
		return rc;
	}
	*out = p;
	return 0;
}

static void lb_close(wsr_provider *p)
{
	if (!p)
		return;
	wsr_http_free(p->http);
	lb_facts_free(p);
	free(p->endpoint);
	free(p->key_env);
	free(p);
}

typedef struct list_ctx {
	wsr_resource_set *set;
	const char *org;
} list_ctx;

/* 1 when a listed workspace's address is one wsr can use afterwards: its
 * name a Loopback name (the platform only makes sanitized ones), the whole
 * address one lb_parse_address accepts (read, start). */
static int listed_address_ok(const wsr_resource *r)
{
	char org[64], name[64], clean[WSR_LOOPBACK_NAME_MAX + 1];
	return r->name[0] &&
	       strcmp(wsr_loopback_sanitize_name(r->name, clean, sizeof(clean)), r->name) == 0 &&
	       lb_parse_address(r->address, org, name) == 0;
}

static int add_workspace(void *arg, const cJSON *item, wsr_diag *diag)
{
	list_ctx *c = arg;
	wsr_resource *r;
	char *why = NULL;
	int rc = lb_workspace_to_resource(&r, item, &why);
	if (rc == WSR_EAPI)
		return lb_malformed(diag, NULL, "listing workspaces", why), free(why), rc;
	if (rc)
		return rc;
	if (strcmp(wsr_json_str(r->spec, "organization"), c->org) != 0) {
		rc = lb_malformed(
		    diag, r->address, "listing workspaces",
		    "the workspace belongs to another organization than the one listed");
	} else if (!listed_address_ok(r)) {
		rc = lb_malformed(diag, NULL, "listing workspaces",
				  "a workspace's name is not a Loopback name (at most 63 of "
				  "a-z, 0-9 and '-')");
	} else if ((rc = wsr_resource_set_add(c->set, r)) == WSR_ECONFLICT) {
		rc = lb_malformed(diag, r->address, "listing workspaces",
				  "the workspace is listed twice");
	}
	if (rc)
		wsr_resource_free(r);
	return rc;
}

static int lb_list(wsr_provider *p, wsr_resource_set *observed, wsr_diag *diag)
{
	const cJSON *orgs, *o;
	int rc = lb_orgs(p, &orgs, diag);
	cJSON_ArrayForEach(o, (rc ? NULL : orgs))
	{
		list_ctx c = {observed, wsr_json_str(o, "name")};
		char *esc = wsr_http_escape(c.org);
		char *path = esc ? wsr_strdupf("/v1/organizations/%s/workspaces", esc) : NULL;
		rc = path ? lb_paginate(p, path, add_workspace, &c, diag) : WSR_ENOMEM;
		free(path);
		free(esc);
		if (rc)
			break;
	}
	return rc;
}

int lb_read(wsr_provider *p, const char *address, wsr_resource **out, wsr_diag *diag)
{
	char org[64], name[64];
	*out = NULL;
	if (lb_parse_address(address, org, name) != 0) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, address, NULL, NULL,
			     "not a loopback address (loopback/<organization>/<workspace>)");
		return WSR_EINVAL;
	}
	char *path = lb_workspace_path(org, name, NULL);
	long status;
	cJSON *json = NULL;
	int rc =
	    path ? lb_call(p, &status, &json, address, "GET", path, NULL, NULL, diag) : WSR_ENOMEM;
	char *why = NULL;
	if (!rc && status == 200 && (rc = lb_workspace_to_resource(out, json, &why)) == WSR_EAPI)
		lb_malformed(diag, address, "reading the workspace", why);
	else if (!rc && status == 200 && strcmp((*out)->address, address) != 0)
		rc = lb_malformed(diag, address, "reading the workspace",
				  "the platform answered with another workspace");
	else if (!rc && status != 200 && status != 404)
		rc = lb_refused(p, diag, address, "the workspace cannot be read", status, json);
	if (rc) {
		wsr_resource_free(*out);
		*out = NULL;
	}
	free(why);
	free(path);
	cJSON_Delete(json);
	return rc;
}

const wsr_provider_ops wsr_loopback_provider = {
    .name = "loopback",
    .open = lb_open,
    .list = lb_list,
    .check = lb_check,
    .start = lb_start,
    .poll = lb_poll,
    .op_free = lb_op_free,
    .close = lb_close,
    .read = lb_read,
    .profiles = lb_profiles,
};
