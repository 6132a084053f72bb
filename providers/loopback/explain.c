/* explain: what a plan tells people about a change beyond whether the
 * platform accepts it: what a deletion destroys and what to save first,
 * what to verify after a transfer. It is written from the workspace as the
 * platform has it, in the words of this platform, so a reviewer of the pull
 * request sees the cost of a change before it is merged. Separate from
 * check.c because nothing here can refuse a change. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "providers/loopback/lb.h"

int lb_set_extra(wsr_change *c, const char *key, cJSON *value)
{
	if (!value || (!c->extra && !(c->extra = cJSON_CreateObject()))) {
		cJSON_Delete(value);
		return WSR_ENOMEM;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(c->extra, key);
	if (!cJSON_AddItemToObject(c->extra, key, value)) {
		cJSON_Delete(value);
		return WSR_ENOMEM;
	}
	return 0;
}

/* Appends a printf-formatted line to arr; allocation failures are caught
 * when the array is handed over (a missing line is the only harm). */
static void line(cJSON *arr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(cJSON *arr, const char *fmt, ...)
{
	va_list ap;
	wsr_buf b = WSR_BUF_INIT;
	va_start(ap, fmt);
	wsr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	char *s = wsr_buf_detach(&b);
	cJSON *item = s ? cJSON_CreateString(s) : NULL;
	if (arr && item && !cJSON_AddItemToArray(arr, item))
		cJSON_Delete(item);
	else if (!arr)
		cJSON_Delete(item);
	free(s);
}

static const char *str_or(const char *s, const char *def)
{
	return s ? s : def;
}

/* "costCenter=4711, team=pay", or NULL when the metadata is empty. */
static char *metadata_text(const cJSON *meta)
{
	wsr_buf b = WSR_BUF_INIT;
	const cJSON *m;
	cJSON_ArrayForEach(m, meta)
	{
		if (cJSON_IsString(m))
			wsr_buf_printf(&b, "%s%s=%s", b.len ? ", " : "", m->string, m->valuestring);
	}
	return b.len ? wsr_buf_detach(&b) : (wsr_buf_free(&b), NULL);
}

/* The DNS the platform keeps for the workspace, or NULL when none is set. */
static char *dns_text(const cJSON *dns)
{
	const char *pattern = wsr_json_str(dns, "hostnamePattern");
	const char *provider = wsr_json_str(dns, "provider");
	if (pattern)
		return wsr_strdupf("DNS records under %s%s%s", pattern, provider ? " at " : "",
				   str_or(provider, ""));
	if (provider && strcmp(provider, "none") != 0)
		return wsr_strdupf("DNS records of the workspace at %s", provider);
	return NULL;
}

int lb_explain_delete(wsr_change *c)
{
	const wsr_resource *r = c->observed ? c->observed : c->desired;
	if (!r)
		return 0;
	const cJSON *s = r->spec, *k = wsr_json_obj(s, "kubernetes");
	const char *org = str_or(wsr_json_str(s, "organization"), "?");
	if (r->health == WSR_HEALTH_REPLACE) { /* a creation that failed holds nothing */
		cJSON *destroys = cJSON_CreateArray();
		line(destroys,
		     "the failed workspace %s/%s: its creation failed, nothing runs on it", org,
		     r->name);
		return lb_set_extra(c, "destroys", destroys);
	}
	const char *type = wsr_json_str(s, "type");
	int kube = type && strcmp(type, "kubernetes") == 0;
	char *dns = dns_text(wsr_json_obj(s, "dns"));
	char *meta = metadata_text(wsr_json_obj(s, "metadata"));
	cJSON *destroys = cJSON_CreateArray(), *backup = cJSON_CreateArray();
	if (kube) {
		const char *mc = wsr_json_str(k, "managementCluster");
		line(destroys,
		     "kubernetes cluster %s/%s (%s, %s)%s%s with its workloads and persistent "
		     "volumes",
		     org, r->name, str_or(wsr_json_str(k, "version"), "?"),
		     str_or(wsr_json_str(k, "controlPlane"), "?"), mc ? " on " : "",
		     str_or(mc, ""));
		line(backup, "the workloads' persistent data (volumes, databases): back it up or "
			     "move it to another cluster");
		const cJSON *oidc = wsr_json_obj(k, "oidc");
		const char *life = wsr_json_str(oidc, "sessionLifetime");
		line(backup,
		     "the kubeconfig and OIDC settings users rely on (OIDC %s%s%s): they stop "
		     "working",
		     wsr_json_bool(oidc, "enabled", 0) ? "enabled" : "disabled",
		     life ? ", session lifetime " : "", str_or(life, ""));
	} else {
		line(destroys,
		     "bare-metal workspace %s/%s (project %s) with its servers and the data "
		     "on their disks",
		     org, r->name, str_or(wsr_json_str(s, "project"), "?"));
		line(backup,
		     "the data on the servers' disks (databases, files, logs): back it up or "
		     "move it");
		line(backup, "the access users and automation rely on (SSH keys, inventories): it "
			     "stops working");
	}
	if (dns) {
		line(destroys, "%s", dns);
		line(backup, "%s: export them if other systems point at these names", dns);
	}
	if (meta)
		line(backup, "metadata such as the cost centre: %s", meta);
	else
		line(backup, "metadata such as the cost centre: none is set on the platform");
	free(dns);
	free(meta);
	int rc = lb_set_extra(c, "destroys", destroys);
	int rc2 = lb_set_extra(c, "backupFirst", backup);
	return rc ? rc : rc2;
}

int lb_explain_transfer(wsr_change *c, const char *src, const char *dst)
{
	cJSON *v = cJSON_CreateArray();
	line(v,
	     "access on project %s: who may now see and change the workspace (keys limited to "
	     "project %s lose it)",
	     dst, src);
	line(v, "automation that encoded project %s (CI variables, dashboards, alerts)", src);
	line(v, "billing: costs are attributed to project %s from now on", dst);
	return lb_set_extra(c, "verifyAfter", v);
}
