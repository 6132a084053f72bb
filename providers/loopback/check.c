/* check: the platform's refusals, predicted at plan time so a user reads
 * them in `wsr plan`, not half-way through `apply`. The facts (who the key
 * is, its organizations, the version catalog, the management clusters) are
 * fetched once per provider; each rule below mirrors one refusal of
 * docs/api/loopback.md, in the platform's order. Missing permissions are
 * collected over all the actions of a change and reported once each. What
 * a plan tells people beyond refusals (what a deletion destroys, what to
 * verify after a transfer) is explain.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "providers/loopback/lb.h"

void lb_facts_free(wsr_provider *p)
{
	cJSON_Delete(p->principal);
	cJSON_Delete(p->orgs);
	cJSON_Delete(p->versions);
	cJSON_Delete(p->clusters);
	p->principal = p->orgs = p->versions = p->clusters = NULL;
}

static int fetch_principal(wsr_provider *p, wsr_diag *diag)
{
	long status;
	int rc = lb_call(p, &status, &p->principal, NULL, "GET", "/v1/principal", NULL, NULL, diag);
	if (!rc && status != 200)
		rc = lb_refused(p, diag, NULL, "asking the platform who the API key is", status,
				p->principal);
	else if (!rc && (!wsr_json_str(p->principal, "organization") ||
			 !wsr_json_arr(p->principal, "permissions")))
		rc = lb_malformed(diag, NULL, "GET /v1/principal",
				  "expected organization (string) and permissions (array)");
	return rc;
}

/* Fetched once; a failure is reported once and remembered. */
static int facts(wsr_provider *p, wsr_diag *diag)
{
	if (p->facts_rc != 1)
		return p->facts_rc;
	const cJSON *orgs;
	int rc = fetch_principal(p, diag);
	if (!rc)
		rc = lb_orgs(p, &orgs, diag);
	if (!rc)
		rc = lb_get_all(p, &p->versions, "/v1/kubernetes-versions", diag);
	if (!rc)
		rc = lb_get_all(p, &p->clusters, "/v1/management-clusters", diag);
	p->facts_rc = rc;
	return rc;
}

static const cJSON *find_named(const cJSON *arr, const char *key, const char *value)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		const char *v = wsr_json_str(it, key);
		if (v && value && strcmp(v, value) == 0)
			return it;
	}
	return NULL;
}

static int has_string(const cJSON *arr, const char *s)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0)
			return 1;
	}
	return 0;
}

/* "prefix: a, b, c" of the strings in arr (or of arr[i][key]); "none" when empty. */
static char *join(const char *prefix, const cJSON *arr, const char *key)
{
	wsr_buf b = WSR_BUF_INIT;
	const cJSON *it;
	size_t start = 0;
	wsr_buf_printf(&b, "%s: ", prefix);
	start = b.len;
	cJSON_ArrayForEach(it, arr)
	{
		const char *s =
		    key ? wsr_json_str(it, key) : (cJSON_IsString(it) ? it->valuestring : NULL);
		if (s)
			wsr_buf_printf(&b, "%s%s", b.len > start ? ", " : "", s);
	}
	if (b.len == start)
		wsr_buf_puts(&b, "none");
	return wsr_buf_detach(&b);
}

/* One refusal: summary in a user's words, detail and hint may be NULL. The
 * detail is taken (freed here). */
static void refuse(wsr_diag *diag, const wsr_change *c, char *detail, const char *hint,
		   const char *summary)
{
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, c->address, detail, hint, "%s", summary);
	free(detail);
}

#define REFUSE(diag, c, detail, hint, ...)                                                         \
	do {                                                                                       \
		char *s_ = wsr_strdupf(__VA_ARGS__);                                               \
		refuse((diag), (c), (detail), (hint), s_ ? s_ : "refused");                        \
		free(s_);                                                                          \
	} while (0)

/* A permission one action of the change needs, on a project (NULL: the
 * permission alone). Collected over every action and reported together, so
 * a key short of several permissions learns all of them from one plan. */
typedef struct need {
	const char *perm, *project, *doing;
} need;

#define LB_MAX_NEEDS 16 /* a change needs at most 7 (create ... delete) */

typedef struct needs {
	need v[LB_MAX_NEEDS];
	int n;
} needs;

static void require(needs *ns, const char *perm, const char *project, const char *doing)
{
	if (ns->n < LB_MAX_NEEDS)
		ns->v[ns->n++] = (need){perm, project, doing};
}

/* Every missing permission once, every project out of the key's reach once. */
static void report_needs(wsr_provider *p, const wsr_change *c, const needs *ns, wsr_diag *diag)
{
	const cJSON *perms = wsr_json_arr(p->principal, "permissions");
	const cJSON *limit = wsr_json_arr(p->principal, "projects");
	const char *role = wsr_json_str(p->principal, "role");
	char pre[96];
	snprintf(pre, sizeof(pre), "the key's role %.40s grants", role ? role : "(unknown)");
	for (int i = 0; i < ns->n; i++) {
		const need *n = &ns->v[i];
		int perm_seen = 0, project_seen = 0;
		for (int j = 0; j < i; j++) {
			perm_seen |= strcmp(ns->v[j].perm, n->perm) == 0;
			project_seen |= n->project && ns->v[j].project &&
					strcmp(ns->v[j].project, n->project) == 0;
		}
		if (!perm_seen && !has_string(perms, n->perm))
			REFUSE(
			    diag, c, join(pre, perms, NULL), "use an API key whose role grants it",
			    "the API key lacks permission %s, which %s needs", n->perm, n->doing);
		if (!project_seen && n->project && limit && !has_string(limit, n->project))
			REFUSE(diag, c, join("the key may act only in", limit, NULL),
			       "use an API key that is not limited to other projects",
			       "the API key is limited to other projects and cannot act in project "
			       "%s",
			       n->project);
	}
}

/* Only an administrator may switch maintenance off; anyone else's
 * enabled: false is stored as true, silently, so the plan would show the
 * same change after every apply. Said at plan time instead. */
static void check_maintenance_off(wsr_provider *p, const wsr_change *c, wsr_diag *diag)
{
	const char *role = wsr_json_str(p->principal, "role");
	const cJSON *enabled =
	    c->desired ? wsr_json_path(c->desired->spec, "maintenance.enabled") : NULL;
	if (!cJSON_IsFalse(enabled) || (role && strcmp(role, "admin") == 0))
		return;
	REFUSE(diag, c,
	       wsr_strdupf("the API key's role is %s; the platform answers as if it accepted "
			   "enabled: false, stores enabled: true and applies the rest of the "
			   "maintenance settings",
			   role ? role : "(unknown)"),
	       "use an administrator's API key, or remove enabled: false from the spec",
	       "maintenance.enabled: false needs an administrator: the platform would force "
	       "maintenance back on and the spec would drift forever");
}

/* Organization rules; returns 0 when the organization is visible at all. */
static int check_org(wsr_provider *p, const wsr_change *c, const cJSON *spec, wsr_diag *diag)
{
	const char *org = wsr_json_str(spec, "organization"),
		   *project = wsr_json_str(spec, "project");
	const cJSON *o = find_named(p->orgs, "name", org);
	if (!o) {
		REFUSE(diag, c,
		       wsr_strdupf("the API key belongs to organization %s",
				   wsr_json_str(p->principal, "organization")),
		       "use an API key of that organization",
		       "organization %s is not visible to this API key", org ? org : "(none)");
		return WSR_ENOTFOUND;
	}
	if (!wsr_json_bool(o, "verified", 0))
		REFUSE(diag, c, NULL, "ask the platform's support to verify the organization",
		       "organization %s is not verified: the platform refuses to create workspaces "
		       "in it",
		       org);
	const char *state = wsr_json_str(o, "state");
	if (!state || strcmp(state, "active") != 0)
		REFUSE(diag, c, NULL, NULL,
		       "organization %s is %s, not active: the platform refuses to create "
		       "workspaces in it",
		       org, state ? state : "in an unknown state");
	if (project && !has_string(wsr_json_arr(o, "projects"), project))
		REFUSE(diag, c,
		       join("projects of the organization", wsr_json_arr(o, "projects"), NULL),
		       NULL, "project %s does not exist in organization %s", project, org);
	return 0;
}

static char *active_versions(const cJSON *versions)
{
	cJSON *act = cJSON_CreateArray();
	const cJSON *v;
	cJSON_ArrayForEach(v, (act ? versions : (const cJSON *)NULL))
	{
		if (wsr_json_bool(v, "active", 0) && wsr_json_str(v, "version"))
			cJSON_AddItemToArray(act, cJSON_CreateString(wsr_json_str(v, "version")));
	}
	char *s = join("active versions", act, NULL);
	cJSON_Delete(act);
	return s;
}

static void check_version(wsr_provider *p, const wsr_change *c, const cJSON *k, wsr_diag *diag)
{
	const char *want = wsr_json_str(k, "version");
	const cJSON *v = find_named(p->versions, "version", want);
	if (!want)
		return;
	if (!v)
		REFUSE(diag, c, active_versions(p->versions), "pick one of the active versions",
		       "Kubernetes version %s is not in the platform's catalog", want);
	else if (!wsr_json_bool(v, "active", 0))
		REFUSE(diag, c, active_versions(p->versions), "pick one of the active versions",
		       "Kubernetes version %s is no longer offered (inactive): the platform "
		       "refuses to "
		       "create workspaces with it",
		       want);
}

/* "kamaji-fsn1 (kamaji, hetzner_cloud, active), ..." */
static char *describe_clusters(const cJSON *clusters)
{
	wsr_buf b = WSR_BUF_INIT;
	const cJSON *cl;
	wsr_buf_puts(&b, "management clusters: ");
	cJSON_ArrayForEach(cl, clusters)
	{
		const char *cp = wsr_json_str(cl, "computeProvider");
		wsr_buf_printf(&b, "%s%s (%s%s%s, %s)", cl != clusters->child ? ", " : "",
			       wsr_json_str(cl, "name") ? wsr_json_str(cl, "name") : "?",
			       wsr_json_str(cl, "type") ? wsr_json_str(cl, "type") : "?",
			       cp ? ", " : "", cp ? cp : "",
			       wsr_json_bool(cl, "active", 0) ? "active" : "inactive");
	}
	if (!clusters || !clusters->child)
		wsr_buf_puts(&b, "none");
	return wsr_buf_detach(&b);
}

static int cluster_fits(const cJSON *cl, const char *type, const char *provider)
{
	const char *t = wsr_json_str(cl, "type"), *cp = wsr_json_str(cl, "computeProvider");
	return wsr_json_bool(cl, "active", 0) && t && strcmp(t, type) == 0 &&
	       (!provider || (cp && strcmp(cp, provider) == 0));
}

static int any_cluster(const cJSON *clusters, const char *type, const char *provider)
{
	const cJSON *cl;
	cJSON_ArrayForEach(cl, clusters)
	{
		if (cluster_fits(cl, type, provider))
			return 1;
	}
	return 0;
}

static void check_pin(wsr_provider *p, const wsr_change *c, const char *pin, const char *cp,
		      wsr_diag *diag)
{
	const cJSON *cl = find_named(p->clusters, "name", pin);
	const char *why = NULL;
	if (!cl)
		why = "does not exist";
	else if (!wsr_json_bool(cl, "active", 0))
		why = "is not active";
	else if (!cluster_fits(cl, "kamaji", NULL))
		why = "is not a Kamaji cluster";
	else if (!cluster_fits(cl, "kamaji", cp))
		why = "is bound to another compute provider";
	if (why)
		REFUSE(diag, c, describe_clusters(p->clusters),
		       "pin an active Kamaji cluster of the compute provider, or omit "
		       "managementCluster",
		       "management cluster %s %s: it cannot host a %s workspace", pin, why, cp);
}

static void check_placement(wsr_provider *p, const wsr_change *c, const cJSON *spec, wsr_diag *diag)
{
	const cJSON *k = wsr_json_obj(spec, "kubernetes");
	const char *cp = wsr_json_str(k, "computeProvider");
	const char *pin = wsr_json_str(k, "managementCluster");
	if (!cp)
		cp = "hetzner_cloud"; /* the platform's default */
	if (wsr_json_str(spec, "kind")) {
		if (!any_cluster(p->clusters, "root", NULL))
			REFUSE(diag, c, describe_clusters(p->clusters), NULL,
			       "no active root management cluster can host a cluster workspace "
			       "(kind: %s)",
			       wsr_json_str(spec, "kind"));
	} else if (k && pin) {
		check_pin(p, c, pin, cp, diag);
	} else if (k && !any_cluster(p->clusters, "kamaji", cp)) {
		REFUSE(diag, c, describe_clusters(p->clusters),
		       "choose a compute provider an active Kamaji cluster carries",
		       "no active Kamaji management cluster offers compute provider %s", cp);
	}
}

static void check_create(wsr_provider *p, const wsr_change *c, needs *ns, wsr_diag *diag)
{
	const cJSON *spec = c->desired ? c->desired->spec : NULL;
	if (!spec || check_org(p, c, spec, diag))
		return;
	require(ns, "workspace:create", wsr_json_str(spec, "project"), "creating a workspace");
	const cJSON *k = wsr_json_obj(spec, "kubernetes");
	if (k)
		check_version(p, c, k, diag);
	check_placement(p, c, spec, diag);
	check_maintenance_off(p, c, diag);
}

/* The project an action runs in: a transfer earlier in the change has
 * moved the workspace to the desired project by then. */
static const char *project_at(const wsr_change *c, int action_index)
{
	const wsr_resource *r = c->observed ? c->observed : c->desired;
	for (int i = 0; i < action_index; i++)
		if (c->actions[i] == WSR_ACT_TRANSFER && c->desired)
			r = c->desired;
	return r ? wsr_json_str(r->spec, "project") : NULL;
}

/* Day-two operations act on what the platform has: without it (or the
 * desired spec) there is nothing to check against. */
static int needs_both(const wsr_change *c, wsr_action a, wsr_diag *diag)
{
	if (c->observed && c->desired)
		return 1;
	REFUSE(diag, c, NULL, NULL,
	       "internal error: a %s needs the workspace both as desired and as observed",
	       wsr_action_name(a));
	return 0;
}

/* The platform refuses day-two operations on a workspace that is busy. */
static void check_active(const wsr_change *c, const char *doing, wsr_diag *diag)
{
	const char *state = wsr_json_str(c->observed->status, "state");
	if (state && strcmp(state, "active") == 0)
		return;
	REFUSE(diag, c, NULL,
	       "wait until the platform's running task has finished, then plan again",
	       "the workspace is %s, not active: the platform refuses %s until it is active",
	       state ? state : "in an unknown state", doing);
}

static void check_upgrade(wsr_provider *p, wsr_change *c, int at, needs *ns, wsr_diag *diag)
{
	if (!needs_both(c, WSR_ACT_UPGRADE, diag))
		return;
	require(ns, "kubernetes:upgrade", project_at(c, at), "upgrading Kubernetes");
	const char *type = wsr_json_str(c->observed->spec, "type");
	if (!type || strcmp(type, "kubernetes") != 0) {
		REFUSE(diag, c, NULL, NULL,
		       "the workspace is %s: it has no Kubernetes version to upgrade",
		       type ? type : "of an unknown type");
		return;
	}
	check_active(c, "an upgrade", diag);
	const char *from = wsr_json_str(wsr_json_obj(c->observed->spec, "kubernetes"), "version");
	const char *to = wsr_json_str(wsr_json_obj(c->desired->spec, "kubernetes"), "version");
	if (!from || !to)
		return;
	cJSON *path = NULL, *reach = NULL;
	if (lb_upgrade_path(&path, &reach, p->versions, from, to) != 0) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, c->address, NULL, NULL,
			     "out of memory while computing the upgrade path");
		return;
	}
	char pre[128];
	snprintf(pre, sizeof(pre), "versions reachable from %.40s", from);
	char *detail = join(pre, reach, NULL);
	const char *hint = "pick one of the reachable versions";
	const cJSON *v = find_named(p->versions, "version", to);
	if (!v)
		REFUSE(diag, c, detail, hint,
		       "Kubernetes version %s is not in the platform's catalog", to);
	else if (!wsr_json_bool(v, "active", 0))
		REFUSE(
		    diag, c, detail, hint,
		    "Kubernetes version %s is no longer offered (inactive): the platform refuses "
		    "to upgrade to it",
		    to);
	else if (lb_version_cmp(to, from) <= 0)
		REFUSE(diag, c, detail,
		       "keep the running version in the spec; going back means replacing the "
		       "workspace",
		       "upgrades are forward-only: Kubernetes %s is not newer than the running %s",
		       to, from);
	else if (!path)
		REFUSE(diag, c, detail, hint, "no upgrade path leads from Kubernetes %s to %s",
		       from, to);
	else {
		free(detail);
		int hops = cJSON_GetArraySize(path) - 1;
		char *route = lb_join_path(path);
		wsr_change_add_reason(c, "Kubernetes upgrade %s (%d hop%s, disruptive)",
				      route ? route : to, hops, hops == 1 ? "" : "s");
		free(route);
		lb_set_extra(c, "upgradePath", path);
		path = NULL;
	}
	cJSON_Delete(path);
	cJSON_Delete(reach);
}

/* The organization other than org whose projects include project, or NULL. */
static const char *owner_of(const cJSON *orgs, const char *project, const char *org)
{
	const cJSON *o;
	cJSON_ArrayForEach(o, orgs)
	{
		const char *name = wsr_json_str(o, "name");
		if (name && strcmp(name, org) != 0 &&
		    has_string(wsr_json_arr(o, "projects"), project))
			return name;
	}
	return NULL;
}

static void check_transfer(wsr_provider *p, wsr_change *c, needs *ns, wsr_diag *diag)
{
	if (!needs_both(c, WSR_ACT_TRANSFER, diag))
		return;
	const char *org = wsr_json_str(c->observed->spec, "organization");
	const char *src = wsr_json_str(c->observed->spec, "project");
	const char *dst = wsr_json_str(c->desired->spec, "project");
	if (!org || !src || !dst)
		return;
	require(ns, "workspace:transfer", src, "transferring a workspace");
	require(ns, "workspace:transfer", dst, "transferring a workspace");
	const cJSON *o = find_named(p->orgs, "name", org);
	const cJSON *projects = wsr_json_arr(o, "projects");
	const char *owner = owner_of(p->orgs, dst, org);
	if (o && !has_string(projects, dst) && owner)
		REFUSE(diag, c, join("projects of organization", projects, NULL),
		       "a transfer moves a workspace between projects of its own organization; to "
		       "move it elsewhere, create it there and delete it here",
		       "project %s belongs to organization %s and cannot be reached by a transfer "
		       "from organization %s",
		       dst, owner, org);
	else if (o && !has_string(projects, dst))
		REFUSE(diag, c, join("projects of organization", projects, NULL), NULL,
		       "project %s does not exist in organization %s: the workspace cannot be "
		       "transferred there",
		       dst, org);
	check_active(c, "a transfer", diag);
	lb_explain_transfer(c, src, dst);
}

int lb_check(wsr_provider *p, wsr_change *change, wsr_diag *diag)
{
	if (change->nactions == 0)
		return 0;
	int rc = facts(p, diag);
	if (rc) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, change->address, NULL, NULL,
			     "cannot check the change against the platform's rules");
		return rc;
	}
	needs ns = {.n = 0};
	for (int i = 0; i < change->nactions; i++) {
		switch (change->actions[i]) {
		case WSR_ACT_CREATE:
			check_create(p, change, &ns, diag);
			break;
		case WSR_ACT_UPDATE:
			require(&ns, "workspace:update", project_at(change, i),
				"updating a workspace");
			if (!lb_touches(change, "maintenance"))
				break;
			require(&ns, "maintenance:update", NULL, "changing maintenance settings");
			check_maintenance_off(p, change, diag);
			break;
		case WSR_ACT_TRANSFER:
			check_transfer(p, change, &ns, diag);
			break;
		case WSR_ACT_UPGRADE:
			check_upgrade(p, change, i, &ns, diag);
			break;
		case WSR_ACT_DELETE:
			require(&ns, "workspace:delete", project_at(change, i),
				"deleting a workspace");
			lb_explain_delete(change);
			break;
		}
	}
	report_needs(p, change, &ns, diag);
	return 0;
}
