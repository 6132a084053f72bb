/* load: a directory of YAML specs -> the desired set.
 *
 * The walk is deterministic (entries sorted byte-wise) so diagnostics and
 * plans come out in the same order on every machine. Everything a document
 * can get wrong is reported, not just the first thing: a file that does not
 * parse still lets the others be checked, and a document that fails its
 * schema still has its kind's rules checked.
 *
 * Rules a JSON Schema cannot express (a field required or refused depending
 * on another field's value, the platform's name form) live in the per-kind
 * table below, next to how that kind becomes a resource. */
#include "reconciler/load.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/yaml.h"
#include "providers/kcp/home.h"
#include "providers/loopback/loopback.h"
#include "reconciler/config.h"
#include "reconciler/diff.h"
#include "schema/schema.h"

typedef struct loader {
	const char *dir;
	char *root; /* realpath of dir: where symbolic links may lead */
	wsr_diag *diag;
	wsr_resource_set *set;
	size_t nfiles;
	const wsr_kcp_home_opts *home; /* where HomeWorkspaces live */
} loader;

/* ---- per-kind rules ---------------------------------------------------- */

static const char *scalar_text(const wsr_node *n)
{
	return n && n->kind == WSR_NODE_SCALAR ? n->text : NULL;
}

static void error_at(wsr_diag *d, const wsr_node *n, const char *hint, const char *msg)
{
	wsr_pos pos = wsr_node_pos(n);
	wsr_diag_add(d, WSR_SEV_ERROR, &pos, NULL, NULL, hint, "%s", msg);
}

/* Loopback Workspace: the type decides which blocks belong; the name must
 * already be what the platform would turn it into. Returns the node whose
 * schema problems the name rule replaces (NULL when none). */
static const wsr_node *workspace_check(const loader *l, const wsr_node *doc, wsr_diag *d)
{
	(void)l;
	const wsr_node *spec = wsr_node_get(doc, "spec");
	const wsr_node *type = wsr_node_get(spec, "type");
	const char *t = scalar_text(type);
	const wsr_node *kube = wsr_node_key(spec, "kubernetes");
	const wsr_node *mkube = wsr_node_key(wsr_node_get(spec, "maintenance"), "kubernetes");
	if (t && strcmp(t, "kubernetes") == 0 && !kube)
		error_at(d, type, "add spec.kubernetes with at least a version",
			 "spec.kubernetes is required for a kubernetes workspace");
	if (t && strcmp(t, "baremetal") == 0 && kube)
		error_at(d, kube, "remove it, or use type: kubernetes",
			 "spec.kubernetes is not allowed for a baremetal workspace");
	if (t && strcmp(t, "baremetal") == 0 && mkube)
		error_at(d, mkube, "remove it; maintenance.compute applies to baremetal workspaces",
			 "spec.maintenance.kubernetes is not allowed for a baremetal workspace");

	const wsr_node *name = wsr_node_get(wsr_node_get(doc, "metadata"), "name");
	const char *nm = scalar_text(name);
	char clean[WSR_LOOPBACK_NAME_MAX + 1];
	if (!nm || !*nm || strcmp(wsr_loopback_sanitize_name(nm, clean, sizeof(clean)), nm) == 0)
		return NULL;
	char *hint = *clean ? wsr_strdupf("the platform would call it '%s'; use that name", clean)
			    : wsr_strdupf("use lowercase letters, digits and '-'");
	wsr_pos pos = wsr_node_pos(name);
	wsr_diag_add(d, WSR_SEV_ERROR, &pos, NULL,
		     "names are lowercase letters, digits and '-', at most 63 characters", hint,
		     "metadata.name '%.*s' is not in the platform's form", 80, nm);
	free(hint);
	return name;
}

static cJSON *detach(cJSON *obj, const char *key)
{
	return cJSON_DetachItemFromObjectCaseSensitive(obj, key);
}

/* "apiVersion/kind" of a validated document; caller frees. */
static char *kind_of(const cJSON *doc)
{
	return wsr_strdupf("%s/%s", wsr_json_str(doc, "apiVersion"), wsr_json_str(doc, "kind"));
}

/* The resource for a validated Loopback Workspace document. */
static wsr_resource *workspace_resource(const loader *l, cJSON *doc, const cJSON *schema)
{
	(void)l;
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(doc, "metadata"), "name"));
	const char *org = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(doc, "spec"), "organization"));
	const char *provider =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(schema, "x-wsr-provider"));
	char *address = wsr_strdupf("%s/%s/%s", provider, org, name);
	char *kind = kind_of(doc);
	wsr_resource *r = address && kind ? wsr_resource_new(address, provider, kind, name) : NULL;
	free(address);
	free(kind);
	if (!r)
		return NULL;
	r->spec = detach(doc, "spec");
	r->labels = detach(cJSON_GetObjectItemCaseSensitive(doc, "metadata"), "labels");
	return r;
}

/* kcp Workspace: its path (parent:name) must fit kcp's path limit. */
static const wsr_node *kcp_workspace_check(const loader *l, const wsr_node *doc, wsr_diag *d)
{
	(void)l;
	const wsr_node *name = wsr_node_get(wsr_node_get(doc, "metadata"), "name");
	const wsr_node *parent = wsr_node_get(wsr_node_get(doc, "spec"), "parent");
	const char *nm = scalar_text(name), *pa = scalar_text(parent);
	if (nm && pa && strlen(pa) + 1 + strlen(nm) > WSR_KCP_PATH_MAX)
		error_at(d, parent, "shorten the names on the way down",
			 "the workspace's path (spec.parent:metadata.name) is longer than 1024 "
			 "bytes (WSR_KCP_PATH_MAX)");
	return NULL;
}

/* kcp kinds are compared as documents: the labels live on the platform
 * (metadata.labels) next to the spec, so the canonical value is
 * {"metadata": {"labels"}, "spec"} without the name, which is in the address. */
static wsr_resource *kcp_resource(const char *path, const char *name, cJSON *doc)
{
	char *address = wsr_strdupf("kcp/%s", path);
	char *kind = kind_of(doc);
	wsr_resource *r = address && kind ? wsr_resource_new(address, "kcp", kind, name) : NULL;
	free(address);
	free(kind);
	if (!r)
		return NULL;
	cJSON *meta = cJSON_GetObjectItemCaseSensitive(doc, "metadata");
	cJSON *labels = detach(meta, "labels");
	cJSON_DeleteItemFromObjectCaseSensitive(meta, "name");
	cJSON_DeleteItemFromObjectCaseSensitive(doc, "apiVersion");
	cJSON_DeleteItemFromObjectCaseSensitive(doc, "kind");
	if (labels) {
		r->labels = cJSON_Duplicate(labels, 1);
		cJSON_AddItemToObject(meta, "labels", labels);
	} else {
		cJSON_DeleteItemFromObjectCaseSensitive(doc, "metadata");
	}
	r->spec = cJSON_Duplicate(doc, 1);
	if (!r->spec || (labels && !r->labels)) {
		wsr_resource_free(r);
		return NULL;
	}
	return r;
}

static wsr_resource *kcp_workspace_resource(const loader *l, cJSON *doc, const cJSON *schema)
{
	(void)l;
	(void)schema;
	const char *name = wsr_json_str(wsr_json_obj(doc, "metadata"), "name");
	char *path = wsr_strdupf("%s:%s", wsr_json_str(wsr_json_obj(doc, "spec"), "parent"), name);
	char *nm = name ? strdup(name) : NULL;
	wsr_resource *r = path && nm ? kcp_resource(path, nm, doc) : NULL;
	free(path);
	free(nm);
	return r;
}

/* kcp HomeWorkspace: the user name must give a home path under the
 * configured buckets (a name that sanitizes to nothing does not). */
static const wsr_node *kcp_home_check(const loader *l, const wsr_node *doc, wsr_diag *d)
{
	const wsr_node *name = wsr_node_get(wsr_node_get(doc, "metadata"), "name");
	const char *nm = scalar_text(name);
	if (!nm || !*nm)
		return NULL;
	wsr_diag found = WSR_DIAG_INIT;
	char *path = NULL;
	if (wsr_kcp_home_path(&path, l->home, nm, &found) != 0 && found.n) {
		wsr_pos pos = wsr_node_pos(name);
		const wsr_diag_entry *it = &found.v[0];
		wsr_diag_add(d, WSR_SEV_ERROR, &pos, NULL, it->detail, it->hint, "%s", it->summary);
	}
	wsr_diag_free(&found);
	free(path);
	return NULL;
}

static wsr_resource *kcp_home_resource(const loader *l, cJSON *doc, const cJSON *schema)
{
	(void)schema;
	char *user = strdup(wsr_json_str(wsr_json_obj(doc, "metadata"), "name"));
	char *path = NULL;
	wsr_diag ignored = WSR_DIAG_INIT; /* kcp_home_check reported it */
	wsr_resource *r = user && wsr_kcp_home_path(&path, l->home, user, &ignored) == 0
			      ? kcp_resource(path, user, doc)
			      : NULL;
	wsr_diag_free(&ignored);
	free(path);
	free(user);
	return r;
}

typedef struct kind_rules {
	const char *api_version, *kind;
	const wsr_node *(*check)(const loader *l, const wsr_node *doc, wsr_diag *d);
	wsr_resource *(*resource)(const loader *l, cJSON *doc, const cJSON *schema);
} kind_rules;

static const kind_rules kinds[] = {
    {"kcp.wsr.dev/v1", "HomeWorkspace", kcp_home_check, kcp_home_resource},
    {"kcp.wsr.dev/v1", "Workspace", kcp_workspace_check, kcp_workspace_resource},
    {"loopback.wsr.dev/v1", "Workspace", workspace_check, workspace_resource},
};

static const kind_rules *rules_for(const char *api_version, const char *kind)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i].api_version, api_version) && !strcmp(kinds[i].kind, kind))
			return &kinds[i];
	return NULL;
}

/* Whether the top-level block path starts in is wsr-side only (lifecycle). */
static int local_block(const cJSON *spec_schema, const char *path)
{
	char top[128];
	size_t n = strcspn(path, ".");
	if (n >= sizeof(top))
		return 0;
	memcpy(top, path, n);
	top[n] = '\0';
	return wsr_diff_is_local(spec_schema, top);
}

/* Every kind: lifecycle.ignoreChanges names fields of the spec, each a
 * dotted path the schema knows, outside wsr's own lifecycle block. */
static void ignore_check(const wsr_node *doc, const cJSON *schema, wsr_diag *d)
{
	const wsr_node *list =
	    wsr_node_get(wsr_node_get(wsr_node_get(doc, "spec"), "lifecycle"), "ignoreChanges");
	const cJSON *spec = wsr_schema_at(schema, "spec");
	if (!list || list->kind != WSR_NODE_SEQ)
		return; /* the schema reports a wrong type */
	for (size_t i = 0; i < list->n; i++) {
		const char *path = scalar_text(list->vals[i]);
		if (!path)
			continue;
		const cJSON *at = *path && path[strlen(path) - 1] != '.' && !strstr(path, "..")
				      ? wsr_schema_at(spec, path)
				      : NULL;
		if (!at)
			error_at(d, list->vals[i],
				 "use a field path as plan prints it (maintenance.schedule, "
				 "metadata.costCenter)",
				 "lifecycle.ignoreChanges names a field the spec does not have");
		else if (local_block(spec, path))
			error_at(d, list->vals[i], "name a field that is sent to the platform",
				 "lifecycle.ignoreChanges cannot name wsr's own settings");
	}
}

/* ---- one document ------------------------------------------------------ */

static char *known_kinds(void)
{
	wsr_buf b = WSR_BUF_INIT;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		wsr_buf_printf(&b, "%s%s %s", i ? ", " : "", kinds[i].api_version, kinds[i].kind);
	return wsr_buf_detach(&b);
}

/* The kind's schema and rules, or NULL after reporting why there are none. */
static const kind_rules *identify(loader *l, const wsr_node *doc, const cJSON **schema)
{
	if (doc->kind != WSR_NODE_MAP) {
		error_at(l->diag, doc, "start the document with apiVersion: and kind:",
			 "a spec document must be a map with apiVersion and kind");
		return NULL;
	}
	const char *api = scalar_text(wsr_node_get(doc, "apiVersion"));
	const char *kind = scalar_text(wsr_node_get(doc, "kind"));
	const kind_rules *k = api && kind ? rules_for(api, kind) : NULL;
	*schema = k ? wsr_schema_for(api, kind) : NULL;
	if (k && *schema)
		return k;
	char *known = known_kinds(); /* for the hints: only on the way to an error */
	if (!api || !kind) {
		wsr_pos pos = wsr_node_pos(doc);
		wsr_diag_add(l->diag, WSR_SEV_ERROR, &pos, NULL, NULL, known ? known : NULL,
			     "the document has no %s", !api ? "apiVersion" : "kind");
	} else if (!strcmp(api, "wsr.dev/v1") && !strcmp(kind, "Config")) {
		char *where = wsr_path_join(l->dir, WSR_CONFIG_FILE);
		char *hint = wsr_strdupf("move it to %s", where ? where : WSR_CONFIG_FILE);
		error_at(
		    l->diag, doc, hint,
		    "a Config document belongs only in wsr.yaml at the root of the spec directory");
		free(hint);
		free(where);
	} else if (!k || !*schema) {
		char *hint = wsr_strdupf("known kinds: %s", known ? known : "");
		wsr_pos pos = wsr_node_pos(wsr_node_get(doc, "kind"));
		wsr_diag_add(l->diag, WSR_SEV_ERROR, &pos, NULL, NULL, hint,
			     "unknown kind '%.*s' with apiVersion '%.*s'", 80, kind, 80, api);
		free(hint);
		k = NULL;
	}
	free(known);
	return k;
}

/* Schema problems go to d except those at the node a kind rule already
 * explained better (the name rule's hint beats a bare pattern mismatch). */
static void merge_except(wsr_diag *d, const wsr_diag *from, const wsr_node *skip)
{
	for (size_t i = 0; i < from->n; i++) {
		const wsr_diag_entry *e = &from->v[i];
		if (skip && e->file && e->line == skip->line && e->col == skip->col)
			continue;
		wsr_pos pos = {e->file, e->line, e->col};
		wsr_diag_add(d, e->severity, &pos, e->address, e->detail, e->hint, "%s",
			     e->summary);
	}
}

static void add_resource(loader *l, wsr_resource *r, const wsr_node *doc)
{
	r->line = doc->line;
	r->col = doc->col;
	r->file = strdup(doc->file);
	int rc = r->file ? wsr_resource_set_add(l->set, r) : WSR_ENOMEM;
	if (rc == WSR_ECONFLICT) {
		const wsr_resource *first = wsr_resource_set_find(l->set, r->address);
		char *hint = wsr_strdupf("first declared at %s:%d:%d",
					 first->file ? first->file : "?", first->line, first->col);
		wsr_pos pos = wsr_node_pos(doc);
		wsr_diag_add(l->diag, WSR_SEV_ERROR, &pos, r->address, NULL, hint,
			     "%s is declared twice (first at %s:%d)", r->address,
			     first->file ? first->file : "?", first->line);
		free(hint);
	} else if (rc != 0) {
		wsr_pos pos = wsr_node_pos(doc);
		wsr_diag_error(l->diag, &pos, "out of memory");
	}
	if (rc != 0)
		wsr_resource_free(r);
}

static void load_doc(loader *l, const wsr_node *doc)
{
	const cJSON *schema = NULL;
	const kind_rules *k = identify(l, doc, &schema);
	if (!k)
		return;
	size_t before = wsr_diag_errors(l->diag);
	const wsr_node *explained = k->check(l, doc, l->diag);
	ignore_check(doc, schema, l->diag);
	wsr_diag found = WSR_DIAG_INIT;
	cJSON *json = NULL;
	int rc = wsr_schema_validate(&json, schema, doc, &found);
	merge_except(l->diag, &found, explained);
	wsr_diag_free(&found);
	if (rc == 0 && wsr_diag_errors(l->diag) == before) {
		wsr_resource *r = k->resource(l, json, schema);
		if (r)
			add_resource(l, r, doc);
		else
			error_at(l->diag, doc, NULL, "out of memory");
	} else if (rc == WSR_ENOMEM) {
		error_at(l->diag, doc, NULL, "out of memory");
	}
	cJSON_Delete(json);
}

/* ---- files and the walk ----------------------------------------------- */

static void file_error(loader *l, const char *path, const char *hint, const char *fmt,
		       const char *arg)
{
	wsr_pos pos = {path, 1, 1};
	wsr_diag_add(l->diag, WSR_SEV_ERROR, &pos, NULL, NULL, hint, fmt, arg);
}

static int is_spec_name(const char *name);

static void load_text(loader *l, const char *path, const char *text, size_t len)
{
	wsr_yaml_file y;
	wsr_yaml_parse(&y, path, text, len, l->diag);
	for (size_t i = 0; i < y.ndocs; i++)
		if (y.docs[i].root)
			load_doc(l, y.docs[i].root);
	wsr_yaml_file_free(&y);
}

static void too_large(loader *l, const char *path)
{
	file_error(l, path, "split it into several files", "the file is larger than %s",
		   "8 MiB (WSR_LOAD_MAX_FILE)");
}

static void load_file(loader *l, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	int rc = wsr_fs_read(&text, &len, path, WSR_LOAD_MAX_FILE);
	if (rc == WSR_ELIMIT) {
		too_large(l, path);
		return;
	}
	if (rc != 0) {
		file_error(l, path, NULL, "cannot read the file: %s", wsr_strerror(rc));
		return;
	}
	load_text(l, path, text, len);
	free(text);
}

int wsr_load_is_spec(const char *path, int top)
{
	const char *name = strrchr(path, '/');
	name = name ? name + 1 : path;
	return is_spec_name(name) && name[0] != '.' && !(top && strcmp(name, WSR_CONFIG_FILE) == 0);
}

static int is_spec_name(const char *name)
{
	size_t n = strlen(name);
	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

/* 1 when real (a resolved path) is the root or below it. */
static int inside(const loader *l, const char *real)
{
	size_t n = strlen(l->root);
	if (strcmp(l->root, "/") == 0)
		return 1;
	return strncmp(real, l->root, n) == 0 && (real[n] == '\0' || real[n] == '/');
}

/* A symbolic link is followed only when it stays inside the directory; a
 * link to a directory inside is not walked again (its files are loaded from
 * where they really are, and loops are impossible). */
static void visit_link(loader *l, const char *path, int spec)
{
	char *real = realpath(path, NULL);
	struct stat st;
	if (!real) {
		if (spec)
			file_error(l, path, "fix or remove the link", "%s", "broken symbolic link");
		return;
	}
	if (stat(real, &st) == 0 && (spec || S_ISDIR(st.st_mode))) {
		if (!inside(l, real)) {
			char *hint = wsr_strdupf("it points to %s; copy the file into %s instead",
						 real, l->dir);
			file_error(l, path, hint, "symbolic link leads outside %s", l->dir);
			free(hint);
		} else if (spec && S_ISREG(st.st_mode)) {
			load_file(l, path);
		}
	}
	free(real);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Dot entries (.wsr/, .git/, .gitlab-ci.yml) are never specs. */
static int skip_entry(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

static void walk(loader *l, const char *path, int top);

static void visit(loader *l, const char *path, const char *name, int top)
{
	struct stat st;
	int spec = is_spec_name(name) && !(top && strcmp(name, WSR_CONFIG_FILE) == 0);
	if (lstat(path, &st) != 0)
		return;
	if (spec || S_ISLNK(st.st_mode)) {
		if (++l->nfiles == WSR_LOAD_MAX_FILES + 1)
			file_error(l, path, NULL,
				   "more than %s spec files; the rest are not loaded",
				   "100000 (WSR_LOAD_MAX_FILES)");
		if (l->nfiles > WSR_LOAD_MAX_FILES)
			return;
	}
	if (S_ISLNK(st.st_mode))
		visit_link(l, path, spec);
	else if (S_ISDIR(st.st_mode))
		walk(l, path, 0);
	else if (spec && S_ISREG(st.st_mode))
		load_file(l, path);
}

static void walk(loader *l, const char *path, int top)
{
	struct dirent **list = NULL;
	int n = scandir(path, &list, skip_entry, by_name);
	if (n < 0) {
		file_error(l, path, NULL, "cannot read the directory: %s", strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		/* "." lists its entries by their bare names, as a user would type them */
		char *child = strcmp(path, ".") == 0 ? strdup(list[i]->d_name)
						     : wsr_path_join(path, list[i]->d_name);
		if (child)
			visit(l, child, list[i]->d_name, top);
		free(child);
		free(list[i]);
	}
	free(list);
}

int wsr_load_dir(const char *dir, const wsr_kcp_home_opts *home, wsr_resource_set *desired,
		 wsr_diag *diag)
{
	static const wsr_kcp_home_opts defaults = WSR_KCP_HOME_OPTS_INIT;
	if (!dir || !*dir)
		dir = ".";
	char *clean = strdup(dir);
	if (!clean)
		return WSR_ENOMEM;
	for (size_t n = strlen(clean); n > 1 && clean[n - 1] == '/'; n--)
		clean[n - 1] = '\0';
	size_t before = wsr_diag_errors(diag);
	loader l = {clean, realpath(clean, NULL), diag, desired, 0, home ? home : &defaults};
	if (!l.root)
		wsr_diag_error(diag, NULL, "%s: %s", clean, strerror(errno));
	else
		walk(&l, clean, 1);
	free(l.root);
	free(clean);
	return wsr_diag_errors(diag) == before ? 0 : WSR_EINVAL;
}

int wsr_spec_files_add(wsr_spec_files *f, const char *path, const char *text, size_t len)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		wsr_spec_file *v = realloc(f->v, cap * sizeof(*v));
		if (!v)
			return WSR_ENOMEM;
		f->v = v;
		f->cap = cap;
	}
	wsr_spec_file *e = &f->v[f->n];
	e->path = strdup(path);
	e->text = text ? malloc(len + 1) : NULL;
	e->len = len;
	if (!e->path || (text && !e->text)) {
		free(e->path);
		free(e->text);
		return WSR_ENOMEM;
	}
	if (text) {
		memcpy(e->text, text, len);
		e->text[len] = '\0';
	}
	f->n++;
	return 0;
}

void wsr_spec_files_free(wsr_spec_files *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].path);
		free(f->v[i].text);
	}
	free(f->v);
	*f = (wsr_spec_files){0};
}

int wsr_load_files(const wsr_spec_files *files, const wsr_kcp_home_opts *home,
		   wsr_resource_set *desired, wsr_diag *diag)
{
	static const wsr_kcp_home_opts defaults = WSR_KCP_HOME_OPTS_INIT;
	size_t before = wsr_diag_errors(diag);
	loader l = {".", NULL, diag, desired, 0, home ? home : &defaults};
	for (size_t i = 0; i < files->n; i++) {
		const wsr_spec_file *f = &files->v[i];
		if (++l.nfiles == WSR_LOAD_MAX_FILES + 1)
			file_error(&l, f->path, NULL,
				   "more than %s spec files; the rest are not loaded",
				   "100000 (WSR_LOAD_MAX_FILES)");
		if (l.nfiles > WSR_LOAD_MAX_FILES)
			break;
		if (!f->text)
			too_large(&l, f->path);
		else
			load_text(&l, f->path, f->text, f->len);
	}
	return wsr_diag_errors(diag) == before ? 0 : WSR_EINVAL;
}
