/* persist: kcp's records. Loading reads every workspace record, then links
 * them shallowest first, so a parent is always in before its children
 * whatever order the folder lists them in. */
#include "sim/kcp/persist.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "sim/kcp/names.h"
#include "sim/persist.h"

int wsr_kcpsim_persist_ws(const wsr_kcpsim_store *s, const wsr_kcpsim_ws *w, const cJSON *obj)
{
	if (!s->dir)
		return 0;
	const char *cluster = wsr_json_str(wsr_json_obj(obj, "spec"), "cluster");
	cJSON *r = cJSON_CreateObject();
	if (!cluster) {
		cJSON_Delete(r);
		return WSR_EINVAL;
	}
	if (r) {
		cJSON_AddStringToObject(r, "path", w->path);
		cJSON_AddItemToObject(r, "workspace", cJSON_Duplicate(obj, 1));
		cJSON_AddNumberToObject(r, "createdAt", (double)w->created_at);
		cJSON_AddNumberToObject(r, "initializingAt", (double)w->initializing_at);
		cJSON_AddNumberToObject(r, "readyAt", (double)w->ready_at);
		cJSON_AddItemToObject(r, "deletedAt", wsr_sim_persist_ms(w->deleted_at));
		cJSON_AddItemToObject(r, "deletingAt", wsr_sim_persist_ms(w->deleting_at));
		cJSON_AddItemToObject(r, "goneAt", wsr_sim_persist_ms(w->gone_at));
		cJSON_AddBoolToObject(r, "frozen", w->frozen);
	}
	return wsr_sim_persist_write(s->dir, "workspaces", cluster, r);
}

int wsr_kcpsim_persist_ws_remove(const wsr_kcpsim_store *s, const wsr_kcpsim_ws *w)
{
	const char *cluster = wsr_json_str(wsr_json_obj(w->obj, "spec"), "cluster");
	if (!s->dir || !cluster)
		return 0;
	return wsr_sim_persist_remove(s->dir, "workspaces", cluster);
}

int wsr_kcpsim_persist_state(const wsr_kcpsim_store *s)
{
	if (!s->dir)
		return 0;
	char buf[2 * WSR_KCPSIM_SECRET_LEN + 1];
	size_t n = 0;
	if (OPENSSL_buf2hexstr_ex(buf, sizeof(buf), &n, s->secret, sizeof(s->secret), '\0') != 1)
		return WSR_ENOMEM;
	cJSON *v = cJSON_CreateObject();
	if (v) {
		cJSON_AddNumberToObject(v, "resourceVersion", (double)s->rv);
		cJSON_AddStringToObject(v, "secret", buf);
		cJSON_AddNumberToObject(v, "seededAt", (double)s->seeded_at);
	}
	return wsr_sim_persist_write(s->dir, NULL, "state", v);
}

static int load_state(void *ctx, const char *stem, const cJSON *v, const char **why)
{
	(void)stem;
	wsr_kcpsim_store *s = ctx;
	const char *secret = wsr_json_str(v, "secret");
	double rv = wsr_json_num(v, "resourceVersion", -1);
	size_t n = 0;
	*why = "not a state record";
	if (!secret || strlen(secret) != 2 * WSR_KCPSIM_SECRET_LEN || rv < 0 ||
	    OPENSSL_hexstr2buf_ex(s->secret, sizeof(s->secret), &n, secret, '\0') != 1 ||
	    n != WSR_KCPSIM_SECRET_LEN || wsr_sim_persist_get_ms(v, "seededAt", 0, &s->seeded_at))
		return WSR_ECORRUPT;
	s->rv = (uint64_t)rv;
	return 0;
}

/* The records read so far, linked once all are in. */
typedef struct loaded {
	wsr_kcpsim_ws **v;
	size_t n, cap;
} loaded;

static int load_ws(void *ctx, const char *stem, const cJSON *v, const char **why)
{
	loaded *l = ctx;
	const char *path = wsr_json_str(v, "path");
	const cJSON *obj = wsr_json_obj(v, "workspace");
	const char *cluster = wsr_json_str(wsr_json_obj(obj, "spec"), "cluster");
	const char *rv = wsr_json_str(wsr_json_obj(obj, "metadata"), "resourceVersion");
	const char *name = wsr_json_str(wsr_json_obj(obj, "metadata"), "name");
	const cJSON *frozen = cJSON_GetObjectItemCaseSensitive(v, "frozen");
	int phase = wsr_kcpsim_phase_parse(wsr_json_str(wsr_json_obj(obj, "status"), "phase"));
	*why = "not a workspace record";
	if (!path || !wsr_kcpsim_ws_path_valid(path) || !strchr(path, ':') || !cluster ||
	    strcmp(cluster, stem) != 0 || !rv || phase < 0 || !cJSON_IsBool(frozen) || !name ||
	    strcmp(strrchr(path, ':') + 1, name) != 0)
		return WSR_ECORRUPT;
	if (wsr_kcpsim_ws_list_grow(&l->v, l->n, &l->cap))
		return WSR_ENOMEM;
	wsr_kcpsim_ws *w = wsr_kcpsim_ws_new(path, cJSON_Duplicate(obj, 1));
	if (!w || !w->obj) {
		wsr_kcpsim_ws_free(w);
		*why = NULL;
		return WSR_ENOMEM;
	}
	w->rv = strtoull(rv, NULL, 10);
	w->phase = phase;
	w->frozen = cJSON_IsTrue(frozen);
	int rc = wsr_sim_persist_get_ms(v, "createdAt", 0, &w->created_at);
	if (!rc)
		rc = wsr_sim_persist_get_ms(v, "initializingAt", 0, &w->initializing_at);
	if (!rc)
		rc = wsr_sim_persist_get_ms(v, "readyAt", 0, &w->ready_at);
	if (!rc)
		rc = wsr_sim_persist_get_ms(v, "goneAt", 1, &w->gone_at);
	/* absent in records written before deletions had phases */
	if (!rc && cJSON_GetObjectItemCaseSensitive(v, "deletedAt"))
		rc = wsr_sim_persist_get_ms(v, "deletedAt", 1, &w->deleted_at);
	if (!rc && cJSON_GetObjectItemCaseSensitive(v, "deletingAt"))
		rc = wsr_sim_persist_get_ms(v, "deletingAt", 1, &w->deleting_at);
	if (!rc && w->gone_at && !w->deleted_at) /* an old record: deleting all along */
		w->deleted_at = w->deleting_at = w->created_at ? w->created_at : 1;
	if (rc) {
		wsr_kcpsim_ws_free(w);
		return rc;
	}
	l->v[l->n++] = w;
	return 0;
}

static size_t depth(const char *path)
{
	size_t d = 0;
	for (; *path; path++)
		d += *path == ':';
	return d;
}

static int shallower(const void *a, const void *b)
{
	const wsr_kcpsim_ws *x = *(wsr_kcpsim_ws *const *)a, *y = *(wsr_kcpsim_ws *const *)b;
	size_t dx = depth(x->path), dy = depth(y->path);
	return dx < dy ? -1 : dx > dy ? 1 : strcmp(x->path, y->path);
}

static int load_workspaces(wsr_kcpsim_store *s, char **err)
{
	loaded l = {NULL, 0, 0};
	char *folder = wsr_strdupf("%s/workspaces", s->dir);
	int rc = folder
		     ? wsr_sim_persist_load_folder(folder, WSR_KCPSIM_MAX_RECORD, load_ws, &l, err)
		     : WSR_ENOMEM;
	if (!rc && l.n) /* qsort of NULL is undefined, even for no items */
		qsort(l.v, l.n, sizeof(*l.v), shallower);
	size_t i = 0;
	for (; !rc && i < l.n; i++) {
		rc = wsr_kcpsim_store_load_ws(s, l.v[i]);
		if (rc == WSR_ENOTFOUND || rc == WSR_ECONFLICT) {
			*err = wsr_strdupf("%s: workspace %.200s %s", folder, l.v[i]->path,
					   rc == WSR_ENOTFOUND ? "has no parent workspace"
							       : "is recorded twice");
			rc = WSR_ECORRUPT;
		}
		if (rc)
			break;
	}
	for (; i < l.n; i++) /* those not linked (all of them after a failure) */
		wsr_kcpsim_ws_free(l.v[i]);
	free(l.v);
	free(folder);
	return rc;
}

int wsr_kcpsim_persist_load(wsr_kcpsim_store *s, char **err)
{
	char *state = wsr_strdupf("%s/state.json", s->dir);
	int rc = state ? wsr_sim_persist_load_file(state, "state", WSR_KCPSIM_MAX_RECORD,
						   load_state, s, err)
		       : WSR_ENOMEM;
	free(state);
	return rc ? rc : load_workspaces(s, err);
}
