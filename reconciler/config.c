/* config: wsr.yaml -> wsr_config. Separate from load because wsr.yaml is
 * not a spec: it says how to reach the platforms and where state lives, and
 * it is read before any spec.
 *
 * Defaults come from schema/config.json only (never repeated here): an
 * absent wsr.yaml, or an absent block, is validated as an empty map against
 * its subschema, which fills the defaults. */
#include "reconciler/config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/yaml.h"
#include "providers/kcp/home.h"
#include "reconciler/load.h"
#include "schema/schema.h"

#define CONFIG_API "wsr.dev/v1"
#define CONFIG_KIND "Config"

void wsr_config_free(wsr_config *c)
{
	if (!c)
		return;
	free(c->dir);
	free(c->file);
	cJSON_Delete(c->providers);
	cJSON_Delete(c->watch);
	free(c->home_prefix);
	free(c->state_backend);
	free(c->state_path);
	cJSON_Delete(c->state);
	free(c);
}

/* The defaults of the subschema at path, as if an empty map had been written. */
static cJSON *defaults_at(const cJSON *schema, const char *path)
{
	wsr_node empty = {0};
	empty.kind = WSR_NODE_MAP;
	wsr_diag d = WSR_DIAG_INIT;
	cJSON *out = NULL;
	const cJSON *sub = path ? wsr_schema_at(schema, path) : schema;
	if (sub)
		wsr_schema_validate(&out, sub, &empty, &d);
	wsr_diag_free(&d);
	return out;
}

/* An absent or empty wsr.yaml means what a bare one would:
 * `apiVersion: wsr.dev/v1` and `kind: Config` and nothing else. */
static cJSON *defaults_doc(const cJSON *schema)
{
	static char api_k[] = "apiVersion", api_v[] = CONFIG_API, kind_k[] = "kind",
		    kind_v[] = CONFIG_KIND;
	wsr_node k[2] = {
	    {.kind = WSR_NODE_SCALAR, .text = api_k, .len = sizeof(api_k) - 1, .plain = 1},
	    {.kind = WSR_NODE_SCALAR, .text = kind_k, .len = sizeof(kind_k) - 1, .plain = 1}};
	wsr_node v[2] = {
	    {.kind = WSR_NODE_SCALAR, .text = api_v, .len = sizeof(api_v) - 1, .plain = 1},
	    {.kind = WSR_NODE_SCALAR, .text = kind_v, .len = sizeof(kind_v) - 1, .plain = 1}};
	wsr_node *keys[2] = {&k[0], &k[1]}, *vals[2] = {&v[0], &v[1]};
	wsr_node map = {.kind = WSR_NODE_MAP, .n = 2, .keys = keys, .vals = vals};
	wsr_diag d = WSR_DIAG_INIT;
	cJSON *out = NULL;
	wsr_schema_validate(&out, schema, &map, &d);
	wsr_diag_free(&d);
	return out;
}

/* Makes sure obj.key is present, filling it from the schema at path. */
static int ensure(cJSON *obj, const char *key, const cJSON *schema, const char *path)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		return 0;
	cJSON *v = defaults_at(schema, path);
	if (v && cJSON_AddItemToObject(obj, key, v))
		return 0;
	cJSON_Delete(v);
	return WSR_ENOMEM;
}

/* The home-workspace buckets of providers.kcp.home, judged by kcp's rule
 * (a JSON Schema cannot say it: it depends on both numbers at once), with
 * the error at the home block. */
static int check_home(const wsr_node *root, const cJSON *doc, wsr_diag *diag)
{
	const wsr_node *n =
	    wsr_node_get(wsr_node_get(wsr_node_get(root, "providers"), "kcp"), "home");
	const cJSON *home = wsr_json_path(doc, "providers.kcp.home");
	if (!n || !home)
		return 0;
	wsr_kcp_home_opts o = WSR_KCP_HOME_OPTS_INIT;
	o.prefix = wsr_json_str(home, "prefix") ? wsr_json_str(home, "prefix") : o.prefix;
	o.depth = (int)wsr_json_num(home, "depth", o.depth);
	o.length = (int)wsr_json_num(home, "length", o.length);
	const char *style = wsr_json_str(home, "style");
	o.style = style && strcmp(style, "buckets") == 0 ? WSR_KCP_HOME_BUCKETS
							 : WSR_KCP_HOME_LOGICALCLUSTER;
	wsr_pos pos = wsr_node_pos(n);
	return wsr_kcp_home_opts_check(diag, &pos, &o);
}

/* The document of wsr.yaml, or NULL with *rc set (0: absent or empty). */
static cJSON *read_file(const cJSON *schema, const char *path, int *rc, wsr_diag *diag)
{
	char *text = NULL;
	size_t len = 0;
	wsr_pos pos = {path, 1, 1};
	*rc = wsr_fs_read(&text, &len, path, WSR_LOAD_MAX_FILE);
	if (*rc == WSR_ENOTFOUND) {
		*rc = 0;
		return NULL;
	}
	if (*rc != 0) {
		wsr_diag_add(diag, WSR_SEV_ERROR, &pos, NULL, NULL, NULL, "cannot read %s: %s",
			     path, *rc == WSR_ELIMIT ? "larger than 8 MiB" : wsr_strerror(*rc));
		*rc = WSR_EINVAL;
		return NULL;
	}
	wsr_yaml_file y;
	cJSON *out = NULL;
	*rc = wsr_yaml_parse(&y, path, text, len, diag);
	const wsr_node *root = NULL;
	for (size_t i = 0; i < y.ndocs; i++) {
		if (!y.docs[i].root)
			continue;
		if (root) {
			wsr_pos at = wsr_node_pos(y.docs[i].root);
			wsr_diag_add(diag, WSR_SEV_ERROR, &at, NULL, NULL,
				     "keep one document in wsr.yaml",
				     "wsr.yaml holds one Config document; this is another");
			*rc = WSR_EINVAL;
			continue;
		}
		root = y.docs[i].root;
	}
	if (root && wsr_schema_validate(&out, schema, root, diag) != 0)
		*rc = WSR_EINVAL;
	if (*rc == 0 && root && check_home(root, out, diag) != 0)
		*rc = WSR_EINVAL;
	if (*rc != 0) {
		cJSON_Delete(out);
		out = NULL;
	}
	wsr_yaml_file_free(&y);
	free(text);
	return out;
}

static char *str_dup(const cJSON *obj, const char *path)
{
	const cJSON *v = obj;
	for (const char *p = path; v && p; p = strchr(p, '.') ? strchr(p, '.') + 1 : NULL) {
		const char *dot = strchr(p, '.');
		char key[64];
		snprintf(key, sizeof(key), "%.*s", dot ? (int)(dot - p) : (int)strlen(p), p);
		v = cJSON_GetObjectItemCaseSensitive(v, key);
	}
	return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

/* Fills c from the validated document (every default already present). */
static int from_doc(wsr_config *c, cJSON *doc, const cJSON *schema)
{
	cJSON *prov = NULL;
	if (ensure(doc, "providers", schema, "providers") ||
	    ensure(prov = cJSON_GetObjectItemCaseSensitive(doc, "providers"), "loopback", schema,
		   "providers.loopback") ||
	    ensure(prov, "kcp", schema, "providers.kcp") ||
	    ensure(cJSON_GetObjectItemCaseSensitive(prov, "kcp"), "home", schema,
		   "providers.kcp.home") ||
	    ensure(doc, "state", schema, "state") || ensure(doc, "watch", schema, "watch"))
		return WSR_ENOMEM;
	cJSON *w = cJSON_GetObjectItemCaseSensitive(doc, "watch");
	if (ensure(w, "webhook", schema, "watch.webhook") ||
	    ensure(w, "git", schema, "watch.git") || ensure(w, "backoff", schema, "watch.backoff"))
		return WSR_ENOMEM;
	c->watch = cJSON_DetachItemFromObjectCaseSensitive(doc, "watch");
	c->providers = cJSON_DetachItemFromObjectCaseSensitive(doc, "providers");
	const cJSON *home = wsr_json_path(c->providers, "kcp.home");
	c->home_prefix = str_dup(home, "prefix");
	c->home.prefix = c->home_prefix;
	c->home.depth = (int)wsr_json_num(home, "depth", WSR_KCP_HOME_DEPTH);
	c->home.length = (int)wsr_json_num(home, "length", WSR_KCP_HOME_LENGTH);
	const char *style = wsr_json_str(home, "style");
	c->home.style = style && strcmp(style, "buckets") == 0 ? WSR_KCP_HOME_BUCKETS
							       : WSR_KCP_HOME_LOGICALCLUSTER;
	if (!c->home_prefix)
		return WSR_ENOMEM;
	c->state_backend = str_dup(doc, "state.backend");
	char *path = str_dup(doc, "state.path");
	c->state_path =
	    path ? (strcmp(c->dir, ".") == 0 ? strdup(path) : wsr_path_join(c->dir, path)) : NULL;
	free(path);
	c->state = cJSON_DetachItemFromObjectCaseSensitive(doc, "state");
	c->prune = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "prune"));
	const cJSON *par = cJSON_GetObjectItemCaseSensitive(doc, "parallelism");
	c->parallelism = cJSON_IsNumber(par) ? par->valueint : 1;
	return c->state_backend && c->state_path && c->state ? 0 : WSR_ENOMEM;
}

/* Loads path (NULL: dir/wsr.yaml, which may be absent) with relative paths
 * resolved against dir. */
static int load(wsr_config **out, const char *dir, const char *file, wsr_diag *diag)
{
	*out = NULL;
	const cJSON *schema = wsr_schema_for(CONFIG_API, CONFIG_KIND);
	wsr_config *c = calloc(1, sizeof(*c));
	if (!c || !schema) {
		free(c);
		return WSR_ENOMEM;
	}
	c->dir = strdup(dir && *dir ? dir : ".");
	char *path = file ? strdup(file) : c->dir ? wsr_path_join(c->dir, WSR_CONFIG_FILE) : NULL;
	int rc = path ? 0 : WSR_ENOMEM;
	cJSON *doc = path ? read_file(schema, path, &rc, diag) : NULL;
	if (!doc && !rc && file) {
		wsr_pos pos = {file, 0, 0};
		wsr_diag_add(diag, WSR_SEV_ERROR, &pos, NULL, NULL, NULL,
			     "the configuration file does not exist or is empty");
		rc = WSR_EINVAL;
	}
	if (doc) {
		c->file = path;
		path = NULL;
	} else if (rc == 0) {
		doc = defaults_doc(schema);
		rc = doc ? 0 : WSR_ENOMEM;
	}
	free(path);
	if (rc == 0)
		rc = from_doc(c, doc, schema);
	cJSON_Delete(doc);
	if (rc != 0) {
		wsr_config_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int wsr_config_load(wsr_config **out, const char *dir, wsr_diag *diag)
{
	return load(out, dir, NULL, diag);
}

int wsr_config_load_file(wsr_config **out, const char *file, wsr_diag *diag)
{
	char *dir = wsr_path_dirname(file);
	int rc = dir ? load(out, dir, file, diag) : WSR_ENOMEM;
	free(dir);
	return rc;
}

char *wsr_config_path(const wsr_config *c, const char *file)
{
	if (!file)
		return NULL;
	return file[0] == '/' || strcmp(c->dir, ".") == 0 ? strdup(file)
							  : wsr_path_join(c->dir, file);
}
