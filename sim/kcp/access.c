/* access: who acts and whether they may enter a workspace, as kcp decides:
 * the bearer token, impersonation (Kubernetes' filter: only system:masters
 * may impersonate), kcp's workspace content authorizer
 * (pkg/authorization/workspace_content_authorizer.go: Scheduling and
 * Unavailable are closed; a home is its owner's; a logical cluster that
 * does not exist is denied, not 404) and its inactive filter
 * (pkg/server/filters/inactivelogicalcluster.go), and ?dryRun= (Kubernetes'
 * ValidateDryRun). Refusals read as Kubernetes' authorizer writes them. */
#include "sim/kcp/api.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "sim/kcp/names.h"
#include "sim/kcp/status.h"
#include "sim/kcp/typerules.h"

/* Impersonate-Group headers one request may carry. */
#define WSR_KCPSIM_IMPERSONATED_GROUPS 16

void wsr_kcpsim_forbid(wsr_kcpsim_call *c, const char *verb, const char *group,
		       const char *resource, const char *name, const char *reason)
{
	char what[WSR_KCPSIM_MSG_MAX / 4];
	const char *user = wsr_json_str(c->user, "name");
	if (group[0])
		snprintf(what, sizeof(what), "%s.%s", resource, group);
	else
		snprintf(what, sizeof(what), "%s", resource);
	cJSON *d = cJSON_CreateObject();
	if (d && ((name && !cJSON_AddStringToObject(d, "name", name)) ||
		  !cJSON_AddStringToObject(d, "group", group) ||
		  !cJSON_AddStringToObject(d, "kind", resource))) {
		cJSON_Delete(d);
		d = NULL;
	}
	wsr_kcpsim_fail(
	    c->resp, 403, NULL, d,
	    "%s%s%.63s%s is forbidden: User \"%.200s\" cannot %s resource \"%s\" in API "
	    "group \"%s\" at the cluster scope%s%s",
	    what, name ? " \"" : "", name ? name : "", name ? "\"" : "", user ? user : "", verb,
	    resource, group, reason && reason[0] ? ": " : "", reason ? reason : "");
}

/* The impersonated user {name, groups}: the groups named plus
 * system:authenticated, as Kubernetes adds it. NULL when out of memory. */
static cJSON *impersonated(wsr_kcpsim_call *c, const char *name)
{
	const char *g[WSR_KCPSIM_IMPERSONATED_GROUPS];
	size_t n =
	    wsr_sim_req_header_all(c->req, "Impersonate-Group", g, WSR_KCPSIM_IMPERSONATED_GROUPS);
	cJSON *u = cJSON_CreateObject(), *groups = u ? cJSON_AddArrayToObject(u, "groups") : NULL;
	int ok = groups && cJSON_AddStringToObject(u, "name", name);
	for (size_t i = 0; ok && i < n && i < WSR_KCPSIM_IMPERSONATED_GROUPS; i++)
		ok = cJSON_AddItemToArray(groups, cJSON_CreateString(g[i]));
	ok = ok && cJSON_AddItemToArray(groups, cJSON_CreateString("system:authenticated"));
	if (!ok) {
		cJSON_Delete(u);
		return NULL;
	}
	return u;
}

int wsr_kcpsim_authenticate(wsr_kcpsim_call *c)
{
	const char *h = wsr_sim_req_header(c->req, "Authorization");
	if (h && strncasecmp(h, "Bearer ", 7) == 0) {
		h += 7;
		while (*h == ' ')
			h++;
		c->user = wsr_kcpsim_store_user(c->s, h);
	}
	if (!c->user) {
		wsr_kcpsim_fail(c->resp, 401, NULL, NULL, "Unauthorized");
		return -1;
	}
	c->caller = wsr_json_str(c->user, "name");
	const char *as = wsr_sim_req_header(c->req, "Impersonate-User");
	if (!as) {
		if (!wsr_sim_req_header(c->req, "Impersonate-Group"))
			return 0;
		wsr_kcpsim_fail(c->resp, 400, NULL, NULL,
				"Impersonate-Group needs Impersonate-User: groups are impersonated "
				"together with a user");
		return -1;
	}
	if (!wsr_kcpsim_is_master(wsr_json_arr(c->user, "groups"))) {
		wsr_kcpsim_forbid(c, "impersonate", "", "users", as, NULL);
		return -1;
	}
	const char *g[WSR_KCPSIM_IMPERSONATED_GROUPS];
	if (wsr_sim_req_header_all(c->req, "Impersonate-Group", g, WSR_KCPSIM_IMPERSONATED_GROUPS) >
	    WSR_KCPSIM_IMPERSONATED_GROUPS) {
		wsr_kcpsim_fail(c->resp, 400, NULL, NULL,
				"at most %d Impersonate-Group headers are accepted",
				WSR_KCPSIM_IMPERSONATED_GROUPS);
		return -1;
	}
	if (!as[0] || !(c->as = impersonated(c, as))) {
		wsr_kcpsim_fail(c->resp, 400, NULL, NULL, "Impersonate-User must name a user");
		return -1;
	}
	c->user = c->as;
	return 0;
}

/* The verb, API group, resource and name a request below /clusters/<path>
 * asks for, as Kubernetes' RequestInfo reads the path; resource is NULL for
 * a path that names none ("/version"). */
typedef struct attrs {
	const char *verb;
	char group[64], resource[64], name[WSR_KCPSIM_NAME_MAX + 2];
	int has_resource;
} attrs;

static void read_attrs(const wsr_kcpsim_call *c, const char *rest, attrs *a)
{
	const char *m = c->req->method, *p = rest, *seg[5] = {NULL};
	size_t len[5] = {0};
	int n = 0;
	memset(a, 0, sizeof(*a));
	for (; *p && n < 5; n++) {
		size_t l = strcspn(p, "/");
		seg[n] = p;
		len[n] = l;
		p += l + (p[l] == '/');
	}
	int base = n >= 3 && len[0] == 4 && strncmp(seg[0], "apis", 4) == 0  ? 3
		   : n >= 3 && len[0] == 3 && strncmp(seg[0], "api", 3) == 0 ? 2
									     : 0;
	a->has_resource = base && n > base;
	if (a->has_resource) {
		if (base == 3)
			snprintf(a->group, sizeof(a->group), "%.*s", (int)len[1], seg[1]);
		snprintf(a->resource, sizeof(a->resource), "%.*s", (int)len[base], seg[base]);
		if (n > base + 1)
			snprintf(a->name, sizeof(a->name), "%.*s", (int)len[base + 1],
				 seg[base + 1]);
	}
	a->verb = strcmp(m, "POST") == 0	       ? "create"
		  : strcmp(m, "PUT") == 0	       ? "update"
		  : strcmp(m, "PATCH") == 0	       ? "patch"
		  : strcmp(m, "DELETE") == 0	       ? "delete"
		  : !a->has_resource || a->name[0]     ? "get"
		  : wsr_sim_req_query(c->req, "watch") ? "watch"
						       : "list";
}

void wsr_kcpsim_deny(wsr_kcpsim_call *c, const char *rest, const char *reason)
{
	attrs a;
	read_attrs(c, rest, &a);
	if (a.has_resource) {
		wsr_kcpsim_forbid(c, a.verb, a.group, a.resource, a.name[0] ? a.name : NULL,
				  reason);
		return;
	}
	const char *user = wsr_json_str(c->user, "name");
	wsr_kcpsim_fail(c->resp, 403, NULL, NULL,
			"forbidden: User \"%.200s\" cannot %s path \"/%.200s\": %s",
			user ? user : "", a.verb, rest, reason);
}

/* 1 when the call's user may use the home w belongs to: its owner, or
 * system:masters. */
static int home_owner(const wsr_kcpsim_call *c, const wsr_kcpsim_ws *w)
{
	const char *user = wsr_json_str(c->user, "name");
	while (w->parent && w->parent != c->s->homes)
		w = w->parent;
	return wsr_kcpsim_is_master(wsr_json_arr(c->user, "groups")) ||
	       (user && strcmp(user, w->name) == 0);
}

int wsr_kcpsim_content_access(wsr_kcpsim_call *c, const char *rest)
{
	char reason[64];
	int phase = c->ws->phase;
	if (strncmp(c->ws->path, "user:", 5) == 0 && !home_owner(c, c->ws)) {
		wsr_kcpsim_deny(c, rest, "no verb=access permission on /");
		return -1;
	}
	if (phase == WSR_KCPSIM_INACTIVE && strncmp(rest, "openapi", 7) != 0 &&
	    strncmp(rest, "apis/core.kcp.io/v1alpha1/logicalclusters", 41) != 0) {
		wsr_kcpsim_fail(c->resp, 403, NULL, NULL,
				"logicalclusters.core.kcp.io \"%s\" is forbidden: logical cluster "
				"is marked inactive",
				c->ws->cluster);
		return -1;
	}
	if (phase != WSR_KCPSIM_SCHEDULING && phase != WSR_KCPSIM_UNAVAILABLE)
		return 0;
	snprintf(reason, sizeof(reason), "not permitted due to phase \"%s\"",
		 wsr_kcpsim_phase_name(phase));
	wsr_kcpsim_deny(c, rest, reason);
	return -1;
}

int wsr_kcpsim_dry_run(wsr_kcpsim_call *c, const char *kind)
{
	const char *d = wsr_sim_req_query(c->req, "dryRun");
	c->dry = 0;
	if (!d)
		return 0;
	if (strcmp(d, "All") == 0) {
		c->dry = 1;
		return 0;
	}
	wsr_kcpsim_invalid inv = {NULL, 0, 0};
	wsr_kcpsim_invalid_add(&inv, "FieldValueNotSupported", "dryRun",
			       "Unsupported value: []string{\"%.100s\"}: supported values: \"All\"",
			       d);
	wsr_kcpsim_reply_invalid(c->resp, kind, "meta.k8s.io", "", &inv);
	return -1;
}
