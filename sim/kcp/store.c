/* store: the workspace tree. Children are sorted arrays of pointers:
 * inserting is a memmove (cheap even at 10,000 children), lookups and the
 * start of a page are binary searches. Workspaces that are not Ready yet or
 * are being deleted sit on the pending list, so the sweep every request
 * runs costs what is in flight, not what exists. */
#include "sim/kcp/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "sim/kcp/admission.h"
#include "sim/kcp/persist.h"
#include "sim/kcp/typerules.h"

static const char *const phases[WSR_KCPSIM_PHASES] = {
    "Scheduling", "Initializing", "Ready", "Unavailable", "Inactive", "Terminating", "Deleting"};

const char *wsr_kcpsim_phase_name(int phase)
{
	return phase >= 0 && phase < WSR_KCPSIM_PHASES ? phases[phase] : "Unknown";
}

int wsr_kcpsim_phase_parse(const char *name)
{
	for (int i = 0; name && i < WSR_KCPSIM_PHASES; i++)
		if (strcmp(phases[i], name) == 0)
			return i;
	return -1;
}

static void random_bytes(unsigned char *b, size_t n)
{
	if (getrandom(b, n, 0) != (ssize_t)n) {
		/* never expected from the kernel; fall back to something unique enough */
		static unsigned long counter;
		unsigned long v = (unsigned long)__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) ^
				  (unsigned long)wsr_clock_mono_ms();
		for (size_t i = 0; i < n; i++)
			b[i] = (unsigned char)(v >> (8 * (i % sizeof(v))));
	}
}

void wsr_kcpsim_new_uid(char *out)
{
	unsigned char b[16];
	random_bytes(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

void wsr_kcpsim_new_cluster(const wsr_kcpsim_store *s, char *out)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	do {
		unsigned char b[WSR_KCPSIM_CLUSTER_LEN];
		random_bytes(b, sizeof(b));
		for (size_t i = 0; i < sizeof(b); i++)
			out[i] = set[b[i] % (sizeof(set) - 1)];
		out[WSR_KCPSIM_CLUSTER_LEN] = '\0';
	} while (wsr_hmap_get(&s->clusters, out) || strcmp(out, "root") == 0);
}

wsr_kcpsim_ws *wsr_kcpsim_ws_new(const char *path, cJSON *obj)
{
	wsr_kcpsim_ws *w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(path))) {
		free(w);
		cJSON_Delete(obj);
		return NULL;
	}
	const char *colon = strrchr(w->path, ':');
	w->name = colon ? colon + 1 : w->path;
	w->obj = obj;
	return w;
}

void wsr_kcpsim_ws_free(wsr_kcpsim_ws *w)
{
	if (!w)
		return;
	free(w->path);
	free(w->kids);
	cJSON_Delete(w->obj);
	free(w);
}

/* Frees w and everything below it. Recursion is as deep as the tree, which
 * the path limit keeps to a few hundred levels. */
static void free_tree(wsr_kcpsim_ws *w)
{
	for (size_t i = 0; w && i < w->nkids; i++)
		free_tree(w->kids[i]);
	wsr_kcpsim_ws_free(w);
}

static const char root_obj[] =
    "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\","
    "\"metadata\":{\"name\":\"root\",\"finalizers\":[\"" WSR_KCPSIM_FINALIZER
    "\"]},\"spec\":{\"type\":{\"name\":\"root\",\"path\":\"root\"},"
    "\"cluster\":\"root\"},\"status\":{\"phase\":\"Ready\",\"conditions\":[],"
    "\"initializers\":[]}}";

static int index_type(wsr_kcpsim_store *s, const cJSON *t)
{
	char ref[WSR_KCPSIM_REF_MAX];
	wsr_kcpsim_ref(ref, t);
	char **keys = realloc(s->type_keys, (s->ntypes + 1) * sizeof(*keys));
	if (!keys)
		return WSR_ENOMEM;
	s->type_keys = keys;
	if (!(keys[s->ntypes] = strdup(ref)))
		return WSR_ENOMEM;
	return wsr_hmap_put(&s->types, keys[s->ntypes++], (void *)t);
}

int wsr_kcpsim_store_new(wsr_kcpsim_store **out, cJSON *platform, const char *dir)
{
	wsr_kcpsim_store *s = calloc(1, sizeof(*s));
	*out = NULL;
	if (!s)
		return WSR_ENOMEM;
	s->platform = platform;
	s->page_max = (size_t)wsr_json_num(platform, "maxPageSize", 500);
	s->scheduling_ms = (int64_t)wsr_json_num(platform, "schedulingMs", 0);
	s->terminating_ms = (int64_t)wsr_json_num(platform, "terminatingMs", 0);
	s->deletion_ms = (int64_t)wsr_json_num(platform, "deletionMs", 0);
	const char *homes = wsr_json_str(platform, "homes");
	s->buckets = homes && strcmp(homes, "buckets") == 0;
	random_bytes(s->secret, sizeof(s->secret));
	int rc = dir && !(s->dir = strdup(dir)) ? WSR_ENOMEM : 0;
	if (!rc && !(s->root = wsr_kcpsim_ws_new("root", cJSON_Parse(root_obj))))
		rc = WSR_ENOMEM;
	if (!rc && !(s->homes = wsr_kcpsim_ws_new("user", cJSON_CreateObject())))
		rc = WSR_ENOMEM;
	if (!rc) {
		s->root->phase = s->homes->phase = WSR_KCPSIM_READY;
		rc = wsr_hmap_put(&s->paths, s->root->path, s->root);
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, wsr_json_arr(platform, "types"))
	{
		if (!rc)
			rc = index_type(s, it);
	}
	cJSON_ArrayForEach(it, wsr_json_arr(platform, "users"))
	{
		if (!rc)
			rc = wsr_hmap_put(&s->tokens, wsr_json_str(it, "token"), (void *)it);
	}
	if (!rc && !(s->root_type = wsr_hmap_get(&s->types, "root:root")))
		rc = WSR_EINVAL; /* the seed check always adds it */
	if (rc) {
		s->platform = NULL; /* the caller keeps it on failure */
		wsr_kcpsim_store_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void wsr_kcpsim_store_free(wsr_kcpsim_store *s)
{
	if (!s)
		return;
	free_tree(s->root);
	free_tree(s->homes);
	wsr_hmap_free(&s->paths);
	wsr_hmap_free(&s->clusters);
	wsr_hmap_free(&s->tokens);
	wsr_hmap_free(&s->types);
	for (size_t i = 0; i < s->ntypes; i++)
		free(s->type_keys[i]);
	free(s->type_keys);
	free(s->pending);
	wsr_sim_faults_clear(&s->faults);
	cJSON_Delete(s->platform);
	free(s->dir);
	free(s);
}

wsr_kcpsim_ws *wsr_kcpsim_store_ws(const wsr_kcpsim_store *s, const char *path)
{
	return wsr_hmap_get(&s->paths, path);
}

const cJSON *wsr_kcpsim_store_user(const wsr_kcpsim_store *s, const char *token)
{
	return wsr_hmap_get(&s->tokens, token);
}

const cJSON *wsr_kcpsim_store_type_get(void *ctx, const char *path, const char *name)
{
	const wsr_kcpsim_store *s = ctx;
	char key[WSR_KCPSIM_REF_MAX];
	if (!path || !name || !wsr_kcpsim_store_ws(s, path))
		return NULL;
	snprintf(key, sizeof(key), "%s:%s", path, name);
	return wsr_hmap_get(&s->types, key);
}

const cJSON *wsr_kcpsim_store_type(const wsr_kcpsim_store *s, const cJSON *ref)
{
	return wsr_kcpsim_store_type_get((void *)s, wsr_json_str(ref, "path"),
					 wsr_json_str(ref, "name"));
}

const cJSON *wsr_kcpsim_ws_type(const wsr_kcpsim_store *s, const wsr_kcpsim_ws *w)
{
	return wsr_kcpsim_store_type(s, wsr_json_path(w->obj, "spec.type"));
}

/* The index where name is or would be among w's children. */
static size_t kid_index(const wsr_kcpsim_ws *w, const char *name, int *found)
{
	size_t lo = 0, hi = w->nkids;
	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(w->kids[mid]->name, name);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

wsr_kcpsim_ws *wsr_kcpsim_ws_kid(const wsr_kcpsim_ws *w, const char *name)
{
	int found;
	size_t i = kid_index(w, name, &found);
	return found ? w->kids[i] : NULL;
}

size_t wsr_kcpsim_ws_after(const wsr_kcpsim_ws *w, const char *name)
{
	int found;
	size_t i = kid_index(w, name, &found);
	return found ? i + 1 : i;
}

int wsr_kcpsim_phase_at(const wsr_kcpsim_ws *w, int64_t now)
{
	if (w->frozen)
		return w->phase;
	if (w->deleted_at)
		return now < w->deleting_at ? WSR_KCPSIM_TERMINATING : WSR_KCPSIM_DELETING;
	if (now < w->initializing_at)
		return WSR_KCPSIM_SCHEDULING;
	return now < w->ready_at ? WSR_KCPSIM_INITIALIZING : WSR_KCPSIM_READY;
}

static int needs_sweep(const wsr_kcpsim_ws *w)
{
	if (w->deleted_at)
		return w->gone_at || (!w->frozen && w->phase != WSR_KCPSIM_DELETING);
	return !w->frozen && w->phase < WSR_KCPSIM_READY;
}

int wsr_kcpsim_ws_list_grow(wsr_kcpsim_ws ***v, size_t n, size_t *cap)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 16;
	wsr_kcpsim_ws **p = realloc(*v, c * sizeof(*p));
	if (!p)
		return WSR_ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

/* Makes room for one more child of p and one more pending workspace, so
 * nothing can fail after a record is written. */
static int reserve(wsr_kcpsim_store *s, wsr_kcpsim_ws *p)
{
	int rc = p ? wsr_kcpsim_ws_list_grow(&p->kids, p->nkids, &p->capkids) : 0;
	return rc ? rc : wsr_kcpsim_ws_list_grow(&s->pending, s->npending, &s->cappending);
}

/* Puts w on or takes it off the pending list, as it now needs; room was
 * reserved. */
static void track(wsr_kcpsim_store *s, wsr_kcpsim_ws *w)
{
	size_t i = 0;
	while (i < s->npending && s->pending[i] != w)
		i++;
	if (needs_sweep(w) && i == s->npending)
		s->pending[s->npending++] = w;
	else if (!needs_sweep(w) && i < s->npending)
		s->pending[i] = s->pending[--s->npending];
}

/* Links w into its parent and the indexes; room was reserved. */
static int link_ws(wsr_kcpsim_store *s, wsr_kcpsim_ws *w)
{
	int found;
	size_t i = kid_index(w->parent, w->name, &found);
	if (found)
		return WSR_ECONFLICT;
	const char *cluster = wsr_json_str(wsr_json_obj(w->obj, "spec"), "cluster");
	if (!cluster || strlen(cluster) >= sizeof(w->cluster))
		return WSR_EINVAL;
	strcpy(w->cluster, cluster); /* the object changes; the key must stay */
	int rc = wsr_hmap_put(&s->paths, w->path, w);
	if (!rc && (rc = wsr_hmap_put(&s->clusters, w->cluster, w)) != 0)
		wsr_hmap_del(&s->paths, w->path);
	if (rc)
		return rc;
	wsr_kcpsim_ws *p = w->parent;
	memmove(&p->kids[i + 1], &p->kids[i], (p->nkids - i) * sizeof(*p->kids));
	p->kids[i] = w;
	p->nkids++;
	track(s, w);
	return 0;
}

/* The parent w belongs under, found by path (a home "user:<name>" under
 * the homes holder); NULL when it is not there. */
static wsr_kcpsim_ws *parent_of(const wsr_kcpsim_store *s, const wsr_kcpsim_ws *w)
{
	char parent[WSR_KCPSIM_PATH_MAX + 1];
	size_t n = (size_t)(w->name - w->path);
	if (n < 2 || n > sizeof(parent))
		return NULL;
	memcpy(parent, w->path, n - 1);
	parent[n - 1] = '\0';
	return strcmp(parent, "user") == 0 ? s->homes : wsr_kcpsim_store_ws(s, parent);
}

static int set_rv(cJSON *obj, uint64_t rv)
{
	char buf[32];
	cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)rv);
	cJSON *v = cJSON_CreateString(buf);
	if (!cJSON_IsObject(meta) || !v) {
		cJSON_Delete(v);
		return WSR_ENOMEM;
	}
	if (cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion"))
		return cJSON_ReplaceItemInObjectCaseSensitive(meta, "resourceVersion", v)
			   ? 0
			   : WSR_ENOMEM;
	return cJSON_AddItemToObject(meta, "resourceVersion", v) ? 0 : WSR_ENOMEM;
}

int wsr_kcpsim_store_create(wsr_kcpsim_store *s, wsr_kcpsim_ws *w)
{
	if (!(w->parent = parent_of(s, w)))
		return WSR_ENOTFOUND;
	if (wsr_kcpsim_ws_kid(w->parent, w->name))
		return WSR_ECONFLICT;
	uint64_t rv = s->rv + 1;
	int rc = reserve(s, w->parent);
	if (!rc)
		rc = set_rv(w->obj, rv);
	if (!rc)
		rc = wsr_kcpsim_persist_ws(s, w, w->obj);
	if (!rc && (rc = link_ws(s, w)) != 0)
		wsr_kcpsim_persist_ws_remove(s, w);
	if (rc)
		return rc;
	w->rv = s->rv = rv;
	return 0;
}

int wsr_kcpsim_store_update(wsr_kcpsim_store *s, wsr_kcpsim_ws *w, cJSON *obj, int frozen)
{
	uint64_t rv = s->rv + 1;
	int phase = wsr_kcpsim_phase_parse(wsr_json_str(wsr_json_obj(obj, "status"), "phase"));
	int rc = reserve(s, NULL);
	if (!rc)
		rc = set_rv(obj, rv);
	if (!rc)
		rc = wsr_kcpsim_persist_ws(s, w, obj);
	if (rc)
		return rc;
	cJSON_Delete(w->obj);
	w->obj = obj;
	w->rv = s->rv = rv;
	if (phase >= 0)
		w->phase = phase;
	if (frozen)
		w->frozen = 1;
	track(s, w);
	return 0;
}

/* Takes w off the pending list, wherever it is. */
static void untrack(wsr_kcpsim_store *s, const wsr_kcpsim_ws *w)
{
	for (size_t i = 0; i < s->npending; i++)
		if (s->pending[i] == w) {
			s->pending[i] = s->pending[--s->npending];
			return;
		}
}

/* Takes w and everything below it out of the indexes, the pending list
 * and the data directory. */
static void unlink_tree(wsr_kcpsim_store *s, wsr_kcpsim_ws *w)
{
	for (size_t i = 0; i < w->nkids; i++)
		unlink_tree(s, w->kids[i]);
	/* a failed unlink leaves a record the next start loads again: the
	 * workspace comes back, which is what a lost delete looks like */
	wsr_kcpsim_persist_ws_remove(s, w);
	wsr_hmap_del(&s->paths, w->path);
	wsr_hmap_del(&s->clusters, w->cluster);
	untrack(s, w);
}

/* Takes w and its subtree out of the tree and the data directory and frees
 * them: the end of a deletion. */
static void remove_ws(wsr_kcpsim_store *s, wsr_kcpsim_ws *w)
{
	int found;
	wsr_kcpsim_ws *p = w->parent;
	size_t i = kid_index(p, w->name, &found);
	unlink_tree(s, w);
	wsr_kcpsim_persist_state(s);
	if (found) {
		memmove(&p->kids[i], &p->kids[i + 1], (p->nkids - i - 1) * sizeof(*p->kids));
		p->nkids--;
	}
	free_tree(w);
}

/* Sets metadata.deletionTimestamp to now unless it is there. */
static int stamp_deletion(cJSON *obj, int64_t now)
{
	char at[32];
	cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	if (cJSON_GetObjectItemCaseSensitive(meta, "deletionTimestamp"))
		return 0;
	return meta && cJSON_AddStringToObject(meta, "deletionTimestamp",
					       wsr_time_format(now, at, sizeof(at)))
		   ? 0
		   : WSR_ENOMEM;
}

static void advance(wsr_kcpsim_store *s, wsr_kcpsim_ws *w, int64_t now);

int wsr_kcpsim_store_delete(wsr_kcpsim_store *s, wsr_kcpsim_ws *w, int64_t now, cJSON **last)
{
	*last = NULL;
	if (w->deleted_at) {
		*last = cJSON_Duplicate(w->obj, 1);
		return *last ? 0 : WSR_ENOMEM;
	}
	cJSON *obj = cJSON_Duplicate(w->obj, 1);
	int rc = obj ? stamp_deletion(obj, now) : WSR_ENOMEM;
	if (!rc)
		rc = wsr_kcpsim_status_set(obj, WSR_KCPSIM_TERMINATING, NULL);
	int64_t deleting = now + s->terminating_ms, gone = deleting + s->deletion_ms;
	int frozen = w->frozen;
	w->deleted_at = now > 0 ? now : 1;
	w->deleting_at = deleting;
	w->gone_at = gone > 0 ? gone : 1;
	w->frozen = 0; /* a deletion runs on the clock, whatever a client wrote */
	if (!rc)
		rc = wsr_kcpsim_store_update(s, w, obj, 0);
	if (rc) {
		w->deleted_at = w->deleting_at = w->gone_at = 0;
		w->frozen = frozen;
		cJSON_Delete(obj);
		return rc;
	}
	advance(s, w, now); /* Deleting at once when terminatingMs is 0 */
	if (!(*last = cJSON_Duplicate(w->obj, 1)))
		rc = WSR_ENOMEM;
	if (now >= w->gone_at)
		remove_ws(s, w);
	return rc;
}

int wsr_kcpsim_set_part(cJSON *obj, const char *key, cJSON *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	if (!obj || !v || (cJSON_IsObject(v) && !v->child)) {
		cJSON_Delete(v);
		return 0;
	}
	if (cJSON_AddItemToObject(obj, key, v))
		return 0;
	cJSON_Delete(v);
	return WSR_ENOMEM;
}

cJSON *wsr_kcpsim_ws_object(const char *name, cJSON *labels, cJSON *annotations, const cJSON *type,
			    cJSON *location, const char *cluster, int64_t now, int phase)
{
	char uid[37], at[32];
	cJSON *o = cJSON_CreateObject(), *meta = NULL, *spec = NULL;
	wsr_kcpsim_new_uid(uid);
	int ok = o && cJSON_AddStringToObject(o, "apiVersion", WSR_KCPSIM_API_VERSION) &&
		 cJSON_AddStringToObject(o, "kind", "Workspace") &&
		 (meta = cJSON_AddObjectToObject(o, "metadata")) != NULL &&
		 (spec = cJSON_AddObjectToObject(o, "spec")) != NULL &&
		 cJSON_AddStringToObject(meta, "name", name) &&
		 cJSON_AddStringToObject(meta, "uid", uid) &&
		 cJSON_AddStringToObject(meta, "resourceVersion", "0") &&
		 cJSON_AddStringToObject(meta, "creationTimestamp",
					 wsr_time_format(now, at, sizeof(at)));
	cJSON *fin = ok ? cJSON_AddArrayToObject(meta, "finalizers") : NULL;
	ok = fin && cJSON_AddItemToArray(fin, cJSON_CreateString(WSR_KCPSIM_FINALIZER));
	/* each part is taken over, also when it cannot be added */
	ok = !wsr_kcpsim_set_part(ok ? meta : NULL, "labels", labels) && ok;
	ok = !wsr_kcpsim_set_part(ok ? meta : NULL, "annotations", annotations) && ok;
	ok = ok && cJSON_AddItemToObject(spec, "type", cJSON_Duplicate(type, 1));
	ok = !wsr_kcpsim_set_part(ok ? spec : NULL, "location", location) && ok;
	ok = ok && cJSON_AddStringToObject(spec, "cluster", cluster) &&
	     !wsr_kcpsim_status_set(o, phase, NULL);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int wsr_kcpsim_status_set(cJSON *obj, int phase, const cJSON *inits)
{
	const cJSON *old = wsr_json_obj(obj, "status"), *it;
	const cJSON *cond = wsr_json_arr(old, "conditions");
	/* rebuilt so the three fields come first, in kcp's order */
	cJSON *st = cJSON_CreateObject(), *list = NULL;
	int ok = st && cJSON_AddStringToObject(st, "phase", wsr_kcpsim_phase_name(phase)) &&
		 cJSON_AddItemToObject(st, "conditions",
				       cond ? cJSON_Duplicate(cond, 1) : cJSON_CreateArray()) &&
		 (list = cJSON_AddArrayToObject(st, "initializers")) != NULL;
	const cJSON *shown = phase == WSR_KCPSIM_INITIALIZING ? inits : NULL;
	cJSON_ArrayForEach(it, shown)
	{
		ok = ok && cJSON_AddItemToArray(list, cJSON_Duplicate(it, 1));
	}
	cJSON_ArrayForEach(it, old)
	{
		if (ok && !cJSON_GetObjectItemCaseSensitive(st, it->string))
			ok = cJSON_AddItemToObject(st, it->string, cJSON_Duplicate(it, 1));
	}
	if (!ok) {
		cJSON_Delete(st);
		return WSR_ENOMEM;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(obj, "status");
	if (!cJSON_AddItemToObject(obj, "status", st)) {
		cJSON_Delete(st);
		return WSR_ENOMEM;
	}
	return 0;
}

/* Marks k Deleting at now, gone with its ancestor at gone (0: never):
 * what happens below a workspace whose Deleting starts. */
static void mark_deleting(wsr_kcpsim_store *s, wsr_kcpsim_ws *k, int64_t now, int64_t gone)
{
	cJSON *obj = cJSON_Duplicate(k->obj, 1);
	int rc = obj ? stamp_deletion(obj, now) : WSR_ENOMEM;
	if (!rc)
		rc = wsr_kcpsim_status_set(obj, WSR_KCPSIM_DELETING, NULL);
	if (!k->deleted_at)
		k->deleted_at = now;
	k->deleting_at = now;
	if (!k->gone_at || (gone && gone < k->gone_at))
		k->gone_at = gone;
	k->frozen = 0;
	if (rc || wsr_kcpsim_store_update(s, k, obj, 0))
		cJSON_Delete(obj); /* out of memory: it still goes with its ancestor */
}

/* Every workspace below w becomes Deleting (kcp deletes a logical
 * cluster's content, its child workspaces included). */
static void cascade(wsr_kcpsim_store *s, wsr_kcpsim_ws *w, int64_t now)
{
	for (size_t i = 0; i < w->nkids; i++) {
		wsr_kcpsim_ws *k = w->kids[i];
		if (k->phase != WSR_KCPSIM_DELETING || k->frozen)
			mark_deleting(s, k, now, w->gone_at);
		cascade(s, k, now);
	}
}

/* The initializers a workspace of type shows while Initializing. */
static cJSON *initializers(wsr_kcpsim_store *s, const cJSON *type)
{
	const wsr_kcpsim_types tr = {wsr_kcpsim_store_type_get, s};
	cJSON *inits = NULL;
	const cJSON *t = wsr_kcpsim_store_type(s, type);
	if (t)
		wsr_kcpsim_initialize_ms(&tr, t, &inits);
	return inits;
}

/* Writes w's phase changes due by now, one resourceVersion each. */
static void advance(wsr_kcpsim_store *s, wsr_kcpsim_ws *w, int64_t now)
{
	int target = wsr_kcpsim_phase_at(w, now), phase = w->phase, steps = 0;
	if (target == phase || (!w->deleted_at && target < phase))
		return;
	if (w->deleted_at) {
		phase = target;
		steps = 1;
	}
	while (phase < target) {
		phase++;
		if (phase == WSR_KCPSIM_INITIALIZING && w->initializing_at >= w->ready_at)
			phase++; /* no initializer: straight to Ready */
		steps++;
	}
	cJSON *obj = cJSON_Duplicate(w->obj, 1);
	cJSON *inits = phase == WSR_KCPSIM_INITIALIZING
			   ? initializers(s, wsr_json_path(w->obj, "spec.type"))
			   : NULL;
	int bad = !obj || wsr_kcpsim_status_set(obj, phase, inits) ||
		  set_rv(obj, s->rv + (uint64_t)steps);
	cJSON_Delete(inits);
	if (bad) {
		cJSON_Delete(obj);
		return; /* out of memory: the next request tries again */
	}
	/* a failed write is not fatal here: the record keeps the clock, so the
	 * next start computes the same phase */
	wsr_kcpsim_persist_ws(s, w, obj);
	cJSON_Delete(w->obj);
	w->obj = obj;
	s->rv += (uint64_t)steps;
	w->rv = s->rv;
	w->phase = phase;
	if (phase == WSR_KCPSIM_DELETING)
		cascade(s, w, now);
}

void wsr_kcpsim_store_sweep(wsr_kcpsim_store *s, int64_t now)
{
	size_t i = 0;
	while (i < s->npending) {
		wsr_kcpsim_ws *w = s->pending[i];
		if (w->gone_at && now >= w->gone_at) {
			/* takes its whole subtree off the list: start over */
			remove_ws(s, w);
			i = 0;
			continue;
		}
		advance(s, w, now);
		if (needs_sweep(w))
			i++;
		else
			s->pending[i] = s->pending[--s->npending];
	}
}

int wsr_kcpsim_store_load_ws(wsr_kcpsim_store *s, wsr_kcpsim_ws *w)
{
	if (!(w->parent = parent_of(s, w)))
		return WSR_ENOTFOUND;
	int rc = reserve(s, w->parent);
	if (!rc)
		rc = link_ws(s, w);
	if (!rc && w->rv > s->rv)
		s->rv = w->rv;
	return rc;
}
