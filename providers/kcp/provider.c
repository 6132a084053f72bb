/* provider: the kcp provider's life cycle (open from config, close), its
 * reads (the listing, one workspace by address) and the ops table the
 * engine finds it by. The plan-time rules live in check.c, the mutating
 * operations in ops.c, the kubeconfig in kubeconfig.c, so each file reads
 * as one stage of the flow.
 *
 * Listing walks the tree: kcp has no "all workspaces" call, only the
 * children of one workspace, so the walk lists root's children, then the
 * children of each Ready child, breadth first (a queue, not recursion: the
 * depth is the server's to choose). A workspace that is not Ready has its
 * endpoint closed and no children yet. A subtree the credentials may not
 * see (403) or that vanished meanwhile (404) is skipped, as kubectl would
 * show nothing there; root itself answering so is an error, since a plan
 * over an empty listing would create everything.
 *
 * The same walk lists one workspace's subtree afresh for a deletion's
 * check (every phase; a 403 there is an error, as kcp would destroy what
 * wsr cannot see). Home workspaces of the logicalcluster style have no
 * parent and are never listed: the engine asks `read` for them
 * (partial_list), which reads the home's LogicalCluster. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/log.h"
#include "providers/kcp/home.h"
#include "providers/kcp/kc.h"
#include "providers/kcp/kcp.h"
#include "providers/kcp/kubeconfig.h"

static int config_error(wsr_diag *diag, const char *hint, const char *summary)
{
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, hint, "providers.kcp: %s", summary);
	return WSR_EINVAL;
}

static void kc_close(wsr_provider *p)
{
	if (!p)
		return;
	wsr_http_free(p->http);
	wsr_http_free(p->http_once);
	kc_facts_free(p);
	free(p->endpoint);
	free(p->creds_hint);
	free(p->home_prefix);
	free(p);
}

/* The server and credentials: a kubeconfig's context, or (the embedded
 * platform) a URL and the token the engine put in apiKey. */
static int find_creds(wsr_kcp_creds *c, char **hint, const cJSON *config, wsr_diag *diag)
{
	const char *endpoint = wsr_json_str(config, "endpoint");
	memset(c, 0, sizeof(*c));
	*hint = NULL;
	if (!endpoint || !*endpoint)
		return config_error(diag, "set endpoint: kubeconfig (or embedded)",
				    "endpoint is not set");
	if (strcmp(endpoint, "kubeconfig") == 0) {
		char *path = wsr_kcp_kubeconfig_path(wsr_json_str(config, "kubeconfig"));
		if (!path)
			return config_error(
			    diag, "set providers.kcp.kubeconfig or KUBECONFIG",
			    "no kubeconfig: neither kubeconfig, KUBECONFIG nor HOME "
			    "is set");
		int rc = wsr_kcp_kubeconfig_load(c, path, wsr_json_str(config, "context"), diag);
		free(path);
		if (!rc && !(*hint = wsr_strdupf("kubeconfig %s, context %s", c->file, c->context)))
			rc = WSR_ENOMEM;
		return rc;
	}
	if (strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0)
		return config_error(diag, "set endpoint: kubeconfig (or embedded)",
				    "endpoint is neither kubeconfig nor a URL");
	const char *key = wsr_json_str(config, "apiKey");
	if (!(c->server = strdup(endpoint)) || (key && !(c->token = strdup(key))) ||
	    !(*hint = wsr_strdupf("the kcp platform at %s", endpoint)))
		return WSR_ENOMEM;
	wsr_kcp_server_root(c->server);
	return 0;
}

static int kc_open(wsr_provider **out, const cJSON *config, wsr_diag *diag)
{
	*out = NULL;
	const cJSON *home = wsr_json_obj(config, "home");
	const char *prefix = wsr_json_str(home, "prefix");
	const char *style = wsr_json_str(home, "style");
	/* read as any int, so the home check below says what kcp allows */
	int64_t depth = WSR_KCP_HOME_DEPTH, length = WSR_KCP_HOME_LENGTH;
	int64_t timeout_s = KC_DEFAULT_TIMEOUT_S;
	if (wsr_json_int_in(home, "depth", INT_MIN, INT_MAX, &depth) == WSR_EINVAL)
		return config_error(diag, NULL, "home.depth is not a whole number");
	if (wsr_json_int_in(home, "length", INT_MIN, INT_MAX, &length) == WSR_EINVAL)
		return config_error(diag, NULL, "home.length is not a whole number");
	if (wsr_json_int_in(config, "timeout", 1, KC_MAX_TIMEOUT_S, &timeout_s) == WSR_EINVAL) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, NULL,
			     "providers.kcp: timeout is not a whole number of seconds from 1 to %d",
			     KC_MAX_TIMEOUT_S);
		return WSR_EINVAL;
	}
	wsr_kcp_home_opts ho = {prefix ? prefix : WSR_KCP_HOME_PREFIX, (int)depth, (int)length,
				style && strcmp(style, "buckets") == 0
				    ? WSR_KCP_HOME_BUCKETS
				    : WSR_KCP_HOME_LOGICALCLUSTER};
	if (style && strcmp(style, "buckets") != 0 && strcmp(style, "logicalcluster") != 0)
		return config_error(diag,
				    "logicalcluster (today's kcp) or buckets (kcp before 2023)",
				    "home.style is neither logicalcluster nor buckets");
	if (wsr_kcp_home_opts_check(diag, NULL, &ho))
		return WSR_EINVAL;
	wsr_kcp_creds c;
	char *hint;
	int rc = find_creds(&c, &hint, config, diag);
	wsr_provider *p = rc ? NULL : calloc(1, sizeof(*p));
	if (!rc && !p)
		rc = WSR_ENOMEM;
	if (!rc) {
		p->creds_hint = hint;
		hint = NULL;
		p->timeout_s = (long)timeout_s;
		p->home_depth = ho.depth;
		p->home_length = ho.length;
		p->home_style = ho.style;
		p->server_style = -1;
		if (!(p->endpoint = strdup(c.server)) || !(p->home_prefix = strdup(ho.prefix)))
			rc = WSR_ENOMEM;
	}
	if (!rc) {
		wsr_http_opts o = WSR_HTTP_OPTS_INIT;
		o.base_url = c.server;
		o.bearer = c.token;
		o.ca_pem = c.ca_pem;
		o.cert_pem = c.cert_pem;
		o.key_pem = c.key_pem;
		o.max_response = KC_MAX_RESPONSE;
		char *err = NULL;
		rc = wsr_provider_http_limits(&o, config, "providers.kcp", diag);
		if (!rc && !(rc = wsr_http_new(&p->http, &o, &err))) {
			o.max_retries = 0;
			rc = wsr_http_new(&p->http_once, &o, &err);
		}
		if (rc && err)
			wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL,
				     c.file ? "fix the cluster's server in the kubeconfig" : NULL,
				     "providers.kcp (%s): %s", p->creds_hint, err);
		free(err);
	}
	/* root is there before anything is listed: its type is kcp's fixed one */
	if (!rc)
		rc = kc_ws_put(p, "root", "root:root", "Ready");
	wsr_kcp_creds_free(&c);
	free(hint);
	if (rc) {
		kc_close(p);
		return rc;
	}
	*out = p;
	return 0;
}

/* The walk's queue of workspaces whose children are still to list. */
typedef struct walk {
	wsr_provider *p;
	wsr_resource_set *set; /* the listing's; NULL in a subtree walk */
	cJSON *found;	       /* a subtree walk's {"address", "type", "phase"} */
	const char *parent;    /* the workspace being listed */
	char **queue;
	size_t head, n, cap;
} walk;

static int enqueue(walk *w, char *path)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		char **q = realloc(w->queue, cap * sizeof(*q));
		if (!q) {
			free(path);
			return WSR_ENOMEM;
		}
		w->queue = q;
		w->cap = cap;
	}
	w->queue[w->n++] = path;
	return 0;
}

static int add_child(void *arg, const cJSON *item, wsr_diag *diag)
{
	walk *w = arg;
	const char *name = wsr_json_str(wsr_json_obj(item, "metadata"), "name");
	char key[KC_TYPE_MAX + 1], *why = NULL,
				   *what = wsr_strdupf("listing the children of %s", w->parent);
	wsr_resource *r = NULL;
	if (!what)
		return WSR_ENOMEM;
	/* a bad name is map.c's to report; a good one may still be too deep */
	if (name && kc_name_ok(name, strlen(name)) &&
	    strlen(w->parent) + 1 + strlen(name) > KC_PATH_MAX) {
		wsr_diag_add(diag, WSR_SEV_WARNING, NULL, NULL, NULL,
			     "wsr cannot manage it: its address would pass WSR_ADDRESS_MAX",
			     "workspace %s:%s has a path longer than %d bytes; it and its "
			     "children are left out of the listing",
			     w->parent, name, KC_PATH_MAX);
		free(what);
		return 0;
	}
	int rc = kc_workspace_to_resource(&r, item, w->parent, &why);
	if (rc == WSR_EAPI)
		kc_malformed(diag, NULL, what, why);
	if (!rc && (rc = kc_type_key(key, wsr_json_path(item, "spec.type"))))
		rc = WSR_ENOMEM; /* mapping checked the type already */
	const char *phase = rc ? "" : kc_phase(item);
	/* a subtree walk goes into every workspace that may have children: all
	 * but one still Scheduling (it has no logical cluster yet) */
	int descend = w->set ? strcmp(phase, "Ready") == 0 : strcmp(phase, "Scheduling") != 0;
	if (!rc && w->set)
		rc = kc_ws_put(w->p, r->address + 4, key, phase);
	if (!rc && descend) {
		char *path = strdup(r->address + 4);
		rc = path ? enqueue(w, path) : WSR_ENOMEM;
	}
	if (!rc && !w->set) {
		cJSON *f = cJSON_CreateObject();
		if (!f || !cJSON_AddStringToObject(f, "address", r->address) ||
		    !cJSON_AddStringToObject(f, "type", key) ||
		    !cJSON_AddStringToObject(f, "phase", phase) ||
		    !cJSON_AddItemToArray(w->found, f)) {
			cJSON_Delete(f);
			rc = WSR_ENOMEM;
		}
	} else if (!rc && (rc = wsr_resource_set_add(w->set, r)) == WSR_ECONFLICT)
		rc = kc_malformed(diag, r->address, what, "the workspace is listed twice");
	if (!rc && w->set)
		r = NULL; /* the set took it */
	wsr_resource_free(r);
	free(why);
	free(what);
	return rc;
}

/* Walks from start, breadth first. The listing skips a subtree answering
 * 403 or 404 below root; a subtree walk skips only 404 (gone meanwhile)
 * and turns a 403 into an error on address. */
static int walk_from(walk *w, const char *start, const char *address, wsr_diag *diag)
{
	char *first = strdup(start);
	int rc = first ? enqueue(w, first) : WSR_ENOMEM;
	while (!rc && w->head < w->n) {
		w->parent = w->queue[w->head];
		char *url = kc_api_path(w->parent, "workspaces", NULL);
		long skipped = 0;
		int top = w->set && strcmp(w->parent, "root") == 0;
		kc_fact *f = w->set ? kc_ws_get(w->p, w->parent) : NULL;
		rc = url ? kc_paginate(w->p, url, add_child, w, top ? NULL : &skipped, diag)
			 : WSR_ENOMEM;
		if (!rc && skipped == 403 && !w->set) {
			wsr_diag_add(
			    diag, WSR_SEV_ERROR, NULL, address,
			    "kcp deletes every workspace under a workspace it deletes; wsr "
			    "does not destroy what it cannot see",
			    "use credentials that may list the whole subtree, or delete it "
			    "with kubectl",
			    "cannot delete %s: the workspaces in %s cannot be listed (HTTP "
			    "403)",
			    address, w->parent);
			rc = WSR_EAPI;
		} else if (!rc && skipped)
			wsr_log(WSR_LOG_DEBUG, "kcp: the children of %s answered HTTP %ld; skipped",
				w->parent, skipped);
		if (!rc && !skipped && f)
			f->listed = 1;
		free(url);
		free(w->queue[w->head]);
		w->queue[w->head++] = NULL;
	}
	for (size_t i = w->head; i < w->n; i++)
		free(w->queue[i]);
	free(w->queue);
	return rc;
}

static int kc_list(wsr_provider *p, wsr_resource_set *observed, wsr_diag *diag)
{
	walk w = {p, observed, NULL, NULL, NULL, 0, 0, 0};
	return walk_from(&w, "root", NULL, diag);
}

int kc_subtree(wsr_provider *p, const char *path, const char *address, cJSON **out, wsr_diag *diag)
{
	walk w = {p, NULL, cJSON_CreateArray(), NULL, NULL, 0, 0, 0};
	int rc = w.found ? walk_from(&w, path, address, diag) : WSR_ENOMEM;
	if (rc) {
		cJSON_Delete(w.found);
		w.found = NULL;
	}
	*out = w.found;
	return rc;
}

/* A logicalcluster-style home, read without creating it: its
 * LogicalCluster answers 200 when the home exists, 403 or 404 when not. */
static int read_home(wsr_provider *p, const char *address, wsr_resource **out, wsr_diag *diag)
{
	const char *user = address + strlen("kcp/user:");
	char *url = wsr_strdupf(
		 "/clusters/user:%s/apis/core.kcp.io/v1alpha1/logicalclusters/cluster", user),
	     *why = NULL;
	long status;
	cJSON *json = NULL;
	int rc = url ? kc_call(p, &status, &json, address, "GET", url, NULL, diag) : WSR_ENOMEM;
	if (!rc && status == 200 && (rc = kc_home_resource(out, user, json, &why)) == WSR_EAPI)
		kc_malformed(diag, address, "reading the home workspace", why);
	else if (!rc && status != 200 && status != 403 && status != 404)
		rc =
		    kc_refused(p, diag, address, "the home workspace cannot be read", status, json);
	free(why);
	free(url);
	cJSON_Delete(json);
	return rc;
}

/* 1 when the listing shows that parent:name does not exist: the nearest
 * ancestor the listing knows had all its children listed. */
static int listed_absent(const wsr_provider *p, const char *parent)
{
	char at[KC_PATH_MAX + 1];
	snprintf(at, sizeof(at), "%s", parent);
	for (;;) {
		const kc_fact *f = kc_ws_get(p, at);
		char *colon = strrchr(at, ':');
		if (f)
			return f->listed && f->phase[0];
		if (!colon)
			return 0;
		*colon = '\0';
	}
}

static int kc_read(wsr_provider *p, const char *address, wsr_resource **out, wsr_diag *diag)
{
	char parent[KC_PATH_MAX + 1], name[KC_NAME_MAX + 1], *why = NULL;
	*out = NULL;
	if (kc_is_user_home(address))
		return read_home(p, address, out, diag);
	if (kc_split_address(address, parent, name)) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, address, NULL,
			     "kcp addresses look like kcp/root:<name>[:<name>...]",
			     "not a kcp workspace address");
		return WSR_EINVAL;
	}
	/* kc_split_address checked the path: address + 4 fits */
	if (!kc_ws_get(p, address + 4) && listed_absent(p, parent))
		return 0; /* no request: the listing says so */
	long status;
	cJSON *ws = NULL;
	int rc = kc_get_workspace(p, &ws, &status, address, parent, name,
				  "the workspace cannot be read", diag);
	if (!rc && ws && (rc = kc_workspace_to_resource(out, ws, parent, &why)) == WSR_EAPI)
		kc_malformed(diag, address, "reading the workspace", why);
	free(why);
	cJSON_Delete(ws);
	return rc;
}

const wsr_provider_ops wsr_kcp_provider = {
    .name = "kcp",
    .open = kc_open,
    .list = kc_list,
    .check = kc_check,
    .start = kc_start,
    .poll = kc_poll,
    .op_free = kc_op_free,
    .close = kc_close,
    .read = kc_read,
    .profiles = NULL,
    .parent = wsr_kcp_parent,
    .partial_list = 1,
};
