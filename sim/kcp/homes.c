/* homes: kcp's home workspaces as kcp serves them today
 * (pkg/server/home_workspaces.go): GET .../workspaces/~ in root creates the
 * caller's home, a parent-less logical cluster at "user:<name>" of type
 * root:home, and answers 429 ("Creating the home workspace", Retry-After)
 * until it is Ready, then a Workspace built from the logical cluster. Its
 * cluster name is kcp's HomeClusterName (pkg/index/rewriters/user.go).
 * Also the LogicalCluster "cluster" every workspace has, which is how a
 * client reads a home without creating it. */
#include "sim/kcp/api.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "sim/kcp/admission.h"
#include "sim/kcp/names.h"
#include "sim/kcp/status.h"
#include "sim/kcp/typerules.h"

#define HOME_TEXT "Creating the home workspace\n"

void wsr_kcpsim_home_cluster(const char *user, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char digits[WSR_KCPSIM_CLUSTER_LEN + 1] = {0};
	size_t zeros = 0, n = 0;
	uint64_t v = 0;
	if (!EVP_Digest(user, strlen(user), md, &mdlen, EVP_sha224(), NULL) || mdlen < 8)
		memset(md, 0, 8); /* never expected; an all-zero hash still names a cluster */
	for (int i = 0; i < 8; i++)
		v = v << 8 | md[i];
	/* one '0' per leading zero byte, then the number in base 36 */
	while (zeros < 8 && md[zeros] == 0)
		zeros++;
	memset(out, '0', zeros);
	for (; v && n < sizeof(digits) - 1; v /= 36)
		digits[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
	for (size_t i = 0; i < n; i++)
		out[zeros + i] = digits[n - 1 - i];
	out[zeros + n] = '\0';
}

/* 1 when the user (name, groups) is in one of the seed's homeCreatorGroups. */
static int may_create(const wsr_kcpsim_call *c)
{
	const cJSON *allowed = wsr_json_arr(c->s->platform, "homeCreatorGroups"), *it, *g;
	cJSON_ArrayForEach(it, allowed)
	{
		if (cJSON_IsString(it) && strcmp(it->valuestring, "system:authenticated") == 0)
			return 1;
		cJSON_ArrayForEach(g, wsr_json_arr(c->user, "groups"))
		{
			if (cJSON_IsString(g) && cJSON_IsString(it) &&
			    strcmp(g->valuestring, it->valuestring) == 0)
				return 1;
		}
	}
	return 0;
}

static void creating(wsr_kcpsim_call *c)
{
	c->resp->status = 429; /* text: the server sends it as text/plain */
	if (!(c->resp->body = strdup(HOME_TEXT)))
		wsr_kcpsim_unavailable(c, WSR_ENOMEM);
}

/* Creates the caller's home, Initializing from the start (kcp moves it
 * there in the request that creates it). */
static int create_home(wsr_kcpsim_call *c, const char *user, const cJSON *type)
{
	const wsr_kcpsim_types tr = WSR_KCPSIM_STORE_TYPES(c);
	char cluster[WSR_KCPSIM_CLUSTER_LEN + 1];
	char *path = wsr_strdupf("user:%s", user);
	cJSON *ref = cJSON_CreateObject();
	if (ref) {
		cJSON_AddStringToObject(ref, "name", "home");
		cJSON_AddStringToObject(ref, "path", "root");
	}
	wsr_kcpsim_home_cluster(user, cluster);
	cJSON *obj = ref ? wsr_kcpsim_ws_object(user, NULL, NULL, ref, NULL, cluster, c->now,
						WSR_KCPSIM_INITIALIZING)
			 : NULL;
	cJSON_Delete(ref);
	wsr_kcpsim_ws *w = path && obj ? wsr_kcpsim_ws_new(path, obj) : NULL;
	if (!w && obj && !path)
		cJSON_Delete(obj);
	free(path);
	if (!w)
		return WSR_ENOMEM;
	w->created_at = w->initializing_at = c->now;
	w->ready_at = c->now + (int64_t)wsr_kcpsim_initialize_ms(&tr, type, NULL);
	w->phase = WSR_KCPSIM_INITIALIZING;
	int rc = wsr_kcpsim_store_create(c->s, w);
	if (rc)
		wsr_kcpsim_ws_free(w);
	return rc;
}

/* The Workspace kcp builds from a Ready home's logical cluster. */
static cJSON *home_view(const wsr_kcpsim_call *c, const wsr_kcpsim_ws *w)
{
	const cJSON *meta = wsr_json_obj(w->obj, "metadata"), *st = wsr_json_obj(w->obj, "status");
	char *url = wsr_strdupf("%s/clusters/%s", c->s->url, w->path);
	cJSON *v = cJSON_CreateObject(), *m, *spec;
	int ok = url && v && cJSON_AddStringToObject(v, "apiVersion", WSR_KCPSIM_API_VERSION) &&
		 cJSON_AddStringToObject(v, "kind", "Workspace") &&
		 (m = cJSON_AddObjectToObject(v, "metadata")) != NULL &&
		 cJSON_AddStringToObject(m, "name", "cluster") &&
		 cJSON_AddStringToObject(m, "creationTimestamp",
					 wsr_json_str(meta, "creationTimestamp")) &&
		 (spec = cJSON_AddObjectToObject(v, "spec")) != NULL &&
		 cJSON_AddStringToObject(spec, "cluster", w->cluster) &&
		 cJSON_AddStringToObject(spec, "URL", url) &&
		 cJSON_AddItemToObject(v, "status", cJSON_Duplicate(st, 1));
	free(url);
	if (!ok) {
		cJSON_Delete(v);
		return NULL;
	}
	return v;
}

void wsr_kcpsim_home_get(wsr_kcpsim_call *c)
{
	const char *user = wsr_json_str(c->user, "name");
	char path[WSR_KCPSIM_NAME_MAX + 8];
	snprintf(path, sizeof(path), "user:%.63s", user);
	if (!wsr_kcpsim_home_user_valid(user)) {
		wsr_kcpsim_fail(c->resp, 500, NULL, NULL,
				"the emulator makes homes only for user names of [A-Za-z0-9._@-], "
				"at most %d: %.200s",
				WSR_KCPSIM_NAME_MAX, user);
		return;
	}
	wsr_kcpsim_ws *w = wsr_kcpsim_store_ws(c->s, path);
	if (!w) {
		const cJSON *type;
		int rc;
		if (!may_create(c)) {
			wsr_kcpsim_forbid(c, "create", WSR_KCPSIM_GROUP, "workspaces", "~",
					  "workspace access not permitted");
			return;
		}
		type = wsr_kcpsim_store_type_get(c->s, "root", "home");
		if (!type) {
			wsr_kcpsim_fail(c->resp, 500, NULL, NULL,
					"workspace type root:home is not defined: the seed has "
					"no type for homes");
			return;
		}
		if ((rc = create_home(c, user, type)) != 0)
			wsr_kcpsim_unavailable(c, rc);
		else
			creating(c);
		return;
	}
	if (w->phase == WSR_KCPSIM_SCHEDULING || w->phase == WSR_KCPSIM_INITIALIZING) {
		creating(c);
		return;
	}
	wsr_kcpsim_reply(c, 200, home_view(c, w));
}

void wsr_kcpsim_logicalcluster_get(wsr_kcpsim_call *c, const char *name)
{
	const cJSON *meta = wsr_json_obj(c->ws->obj, "metadata");
	char rv[32], type[WSR_KCPSIM_REF_MAX];
	if (strcmp(name, "cluster") != 0) {
		wsr_kcpsim_fail(c->resp, 404, NULL, NULL,
				"logicalclusters.core.kcp.io \"%.63s\" not found", name);
		return;
	}
	snprintf(rv, sizeof(rv), "%llu", (unsigned long long)c->ws->rv);
	wsr_kcpsim_ref(type, wsr_json_path(c->ws->obj, "spec.type"));
	char *url = wsr_strdupf("%s/clusters/%s", c->s->url, c->ws->path);
	cJSON *v = cJSON_CreateObject(), *m, *ann, *st;
	int ok = url && v && cJSON_AddStringToObject(v, "apiVersion", "core.kcp.io/v1alpha1") &&
		 cJSON_AddStringToObject(v, "kind", "LogicalCluster") &&
		 (m = cJSON_AddObjectToObject(v, "metadata")) != NULL &&
		 cJSON_AddStringToObject(m, "name", "cluster") &&
		 (ann = cJSON_AddObjectToObject(m, "annotations")) != NULL &&
		 cJSON_AddStringToObject(ann, "kcp.io/path", c->ws->path) &&
		 cJSON_AddStringToObject(ann, "internal.tenancy.kcp.io/type", type) &&
		 cJSON_AddStringToObject(m, "creationTimestamp",
					 wsr_json_str(meta, "creationTimestamp")
					     ? wsr_json_str(meta, "creationTimestamp")
					     : "1970-01-01T00:00:00Z") &&
		 cJSON_AddStringToObject(m, "resourceVersion", rv) &&
		 (st = cJSON_AddObjectToObject(v, "status")) != NULL &&
		 cJSON_AddStringToObject(st, "phase", wsr_kcpsim_phase_name(c->ws->phase)) &&
		 cJSON_AddStringToObject(st, "URL", url);
	free(url);
	if (!ok) {
		cJSON_Delete(v);
		wsr_kcpsim_unavailable(c, WSR_ENOMEM);
		return;
	}
	wsr_sim_resp_json(c->resp, 200, v);
}
