/* persist: one file per object in the data directory, so creating one
 * workspace among 10,000 writes three small files instead of rewriting
 * everything. Loading reads every file back and refuses anything it cannot
 * account for, naming the file, rather than serving half a platform. */
#include "sim/loopback/persist.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "sim/loopback/platform.h"

#define FILE_MODE 0600
#define DIR_MODE 0700

static int write_json(const char *dir, const char *sub, const char *stem, cJSON *v)
{
	char *folder = wsr_strdupf("%s/%s", dir, sub);
	char *path = wsr_strdupf("%s/%s.json", folder ? folder : "", stem);
	char *text = v ? cJSON_PrintUnformatted(v) : NULL;
	int rc = folder && path && text ? wsr_fs_mkdirs(folder, DIR_MODE) : WSR_ENOMEM;
	if (!rc)
		rc = wsr_fs_write_atomic(path, text, strlen(text), FILE_MODE);
	free(folder);
	free(path);
	free(text);
	cJSON_Delete(v);
	return rc;
}

static cJSON *ms_or_null(int64_t ms)
{
	return ms ? cJSON_CreateNumber((double)ms) : cJSON_CreateNull();
}

static cJSON *str_or_null(const char *s)
{
	return s[0] ? cJSON_CreateString(s) : cJSON_CreateNull();
}

int wsr_lbsim_persist_ws(const wsr_lbsim_store *s, const wsr_lbsim_ws *w)
{
	if (!s->dir)
		return 0;
	cJSON *r = cJSON_CreateObject();
	if (r) {
		cJSON_AddItemToObject(r, "workspace", cJSON_Duplicate(w->obj, 1));
		cJSON_AddNumberToObject(r, "readyAt", (double)w->ready_at);
		cJSON_AddItemToObject(r, "goneAt", ms_or_null(w->gone_at));
		cJSON_AddBoolToObject(r, "failed", w->failed);
		cJSON_AddItemToObject(r, "createTask", str_or_null(w->create_task));
		cJSON_AddItemToObject(r, "deleteTask", str_or_null(w->delete_task));
		cJSON *op = w->op ? cJSON_AddObjectToObject(r, "op") : NULL;
		if (op) {
			cJSON_AddStringToObject(op, "type", wsr_lbsim_task_type_name(w->op));
			cJSON_AddStringToObject(op, "task", w->op_task);
			cJSON_AddNumberToObject(op, "until", (double)w->op_until);
			cJSON_AddStringToObject(op, "arg", w->op_arg);
		} else
			cJSON_AddNullToObject(r, "op");
	}
	char *sub = wsr_strdupf("workspaces/%s", w->org);
	int rc = sub ? write_json(s->dir, sub, w->name, r) : WSR_ENOMEM;
	if (!sub)
		cJSON_Delete(r);
	free(sub);
	return rc;
}

int wsr_lbsim_persist_ws_remove(const wsr_lbsim_store *s, const wsr_lbsim_ws *w)
{
	if (!s->dir)
		return 0;
	char *path = wsr_strdupf("%s/workspaces/%s/%s.json", s->dir, w->org, w->name);
	int rc = !path ? WSR_ENOMEM : (unlink(path) < 0 && errno != ENOENT) ? WSR_EIO : 0;
	free(path);
	return rc;
}

int wsr_lbsim_persist_task(const wsr_lbsim_store *s, const wsr_lbsim_task *t)
{
	if (!s->dir)
		return 0;
	cJSON *r = cJSON_CreateObject();
	if (r) {
		cJSON_AddStringToObject(r, "id", t->id);
		cJSON_AddStringToObject(r, "type", wsr_lbsim_task_type_name(t->type));
		cJSON_AddStringToObject(r, "organization", t->org);
		cJSON_AddStringToObject(r, "workspace", t->ws);
		cJSON_AddNumberToObject(r, "createdAt", (double)t->created_at);
		cJSON_AddNumberToObject(r, "finishedAt", (double)t->finished_at);
		cJSON *e = t->err_code ? cJSON_AddObjectToObject(r, "error") : NULL;
		if (e) {
			cJSON_AddStringToObject(e, "code", t->err_code);
			cJSON_AddStringToObject(e, "message", t->err_msg);
		} else
			cJSON_AddNullToObject(r, "error");
	}
	return write_json(s->dir, "tasks", t->id, r);
}

int wsr_lbsim_persist_idem(const wsr_lbsim_store *s, const wsr_lbsim_idem *r)
{
	if (!s->dir)
		return 0;
	cJSON *v = cJSON_CreateObject();
	if (v) {
		cJSON_AddNumberToObject(v, "status", r->status);
		cJSON_AddStringToObject(v, "body", r->body);
	}
	return write_json(s->dir, "idempotency", r->id, v);
}

int wsr_lbsim_persist_platform(const char *dir, const cJSON *platform)
{
	int rc = wsr_fs_mkdirs(dir, DIR_MODE);
	if (rc)
		return rc;
	char *path = wsr_strdupf("%s/platform.json", dir), *text = cJSON_PrintUnformatted(platform);
	rc = path && text ? wsr_fs_write_atomic(path, text, strlen(text), FILE_MODE) : WSR_ENOMEM;
	free(path);
	free(text);
	return rc;
}

/* The entries of folder other than . and .. and leftover temporary files of
 * an interrupted atomic write. A missing folder has none. */
static int list_dir(char ***out, size_t *n, const char *folder)
{
	*out = NULL;
	*n = 0;
	DIR *d = opendir(folder);
	if (!d)
		return errno == ENOENT ? 0 : WSR_EIO;
	size_t cap = 0;
	int rc = 0;
	struct dirent *e;
	while (!rc && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    strstr(e->d_name, ".tmp."))
			continue;
		if (*n == cap) {
			char **p = realloc(*out, (cap = cap ? cap * 2 : 64) * sizeof(*p));
			if (!p) {
				rc = WSR_ENOMEM;
				break;
			}
			*out = p;
		}
		if (!((*out)[*n] = strdup(e->d_name)))
			rc = WSR_ENOMEM;
		else
			(*n)++;
	}
	closedir(d);
	return rc;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Reads one record: why is set (a constant) when it is not what fn expects. */
typedef int (*load_fn)(wsr_lbsim_store *s, void *ctx, const char *stem, const cJSON *v,
		       const char **why);

static int load_file(wsr_lbsim_store *s, const char *path, const char *stem, load_fn fn, void *ctx,
		     char **err)
{
	char *text = NULL, *perr = NULL;
	size_t len = 0;
	cJSON *v = NULL;
	const char *why = NULL;
	int rc = wsr_fs_read(&text, &len, path, WSR_LBSIM_MAX_RECORD);
	if (rc)
		why = wsr_strerror(rc);
	else if ((rc = wsr_json_parse(&v, text, len, &perr)) != 0)
		why = perr;
	else if ((rc = fn(s, ctx, stem, v, &why)) != 0 && !why)
		why = wsr_strerror(rc);
	if (rc)
		*err = wsr_strdupf("%s: %s", path, why);
	free(text);
	free(perr);
	cJSON_Delete(v);
	return rc ? (rc == WSR_ENOMEM ? rc : WSR_ECORRUPT) : 0;
}

/* Loads every NAME.json in folder; anything else there is refused. */
static int load_folder(wsr_lbsim_store *s, const char *folder, load_fn fn, void *ctx, char **err)
{
	char **names;
	size_t n;
	int rc = list_dir(&names, &n, folder);
	if (rc)
		*err = wsr_strdupf("%s: cannot read the folder", folder);
	for (size_t i = 0; !rc && i < n; i++) {
		size_t len = strlen(names[i]);
		char *path = wsr_strdupf("%s/%s", folder, names[i]);
		if (!path)
			rc = WSR_ENOMEM;
		else if (len <= 5 || strcmp(names[i] + len - 5, ".json") != 0) {
			*err = wsr_strdupf("%s: not a data file of the emulator", path);
			rc = WSR_ECORRUPT;
		} else {
			names[i][len - 5] = '\0';
			rc = load_file(s, path, names[i], fn, ctx, err);
		}
		free(path);
	}
	free_list(names, n);
	return rc;
}

static int get_ms(const cJSON *v, const char *key, int nullable, int64_t *out)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(v, key);
	*out = 0;
	if (nullable && cJSON_IsNull(x))
		return 0;
	if (!cJSON_IsNumber(x) || x->valuedouble < 0)
		return WSR_ECORRUPT;
	*out = (int64_t)x->valuedouble;
	return 0;
}

static int get_id(const cJSON *v, const char *key, int nullable, char *out)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(v, key);
	out[0] = '\0';
	if (nullable && cJSON_IsNull(x))
		return 0;
	if (!cJSON_IsString(x) || !x->valuestring[0] || strlen(x->valuestring) >= WSR_LBSIM_ID_MAX)
		return WSR_ECORRUPT;
	strcpy(out, x->valuestring);
	return 0;
}

/* An optional boolean (records written before it existed lack it). */
static int get_flag(const cJSON *v, const char *key, int *out)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(v, key);
	*out = cJSON_IsTrue(x);
	return !x || cJSON_IsBool(x) ? 0 : WSR_ECORRUPT;
}

/* A running upgrade or transfer: absent or null when none. */
static int get_op(const cJSON *v, wsr_lbsim_ws *w)
{
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(v, "op");
	const char *arg = wsr_json_str(op, "arg");
	if (!op || cJSON_IsNull(op))
		return 0;
	w->op = wsr_lbsim_task_type_parse(wsr_json_str(op, "type"));
	if ((w->op != WSR_LBSIM_TASK_UPGRADE && w->op != WSR_LBSIM_TASK_TRANSFER) || !arg)
		return WSR_ECORRUPT;
	int rc = get_id(op, "task", 0, w->op_task);
	if (!rc)
		rc = get_ms(op, "until", 0, &w->op_until);
	if (!rc && !(w->op_arg = strdup(arg)))
		rc = WSR_ENOMEM;
	return rc;
}

static int load_ws(wsr_lbsim_store *s, void *ctx, const char *stem, const cJSON *v,
		   const char **why)
{
	wsr_lbsim_org *o = ctx;
	const cJSON *obj = wsr_json_obj(v, "workspace");
	const char *name = wsr_json_str(obj, "name");
	*why = "not a workspace record";
	if (!name || strcmp(name, stem) != 0 || !wsr_json_str(obj, "project") ||
	    !wsr_json_str(obj, "state"))
		return WSR_ECORRUPT;
	wsr_lbsim_ws *w = wsr_lbsim_ws_new(stem, o->name, cJSON_Duplicate(obj, 1));
	if (!w || !w->obj) {
		wsr_lbsim_ws_free(w);
		return WSR_ENOMEM;
	}
	int rc = get_ms(v, "readyAt", 0, &w->ready_at);
	if (!rc)
		rc = get_ms(v, "goneAt", 1, &w->gone_at);
	if (!rc)
		rc = get_id(v, "createTask", 1, w->create_task);
	if (!rc)
		rc = get_id(v, "deleteTask", 1, w->delete_task);
	if (!rc && !w->delete_task[0] != !w->gone_at)
		rc = WSR_ECORRUPT;
	if (!rc)
		rc = get_flag(v, "failed", &w->failed);
	if (!rc)
		rc = get_op(v, w);
	if (!rc && (rc = wsr_lbsim_store_load_ws(s, o, w)) == WSR_ENOMEM)
		*why = NULL;
	if (rc)
		wsr_lbsim_ws_free(w);
	return rc;
}

static int load_task(wsr_lbsim_store *s, void *ctx, const char *stem, const cJSON *v,
		     const char **why)
{
	(void)ctx;
	const char *type = wsr_json_str(v, "type"), *org = wsr_json_str(v, "organization"),
		   *ws = wsr_json_str(v, "workspace");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(v, "error");
	const char *code = wsr_json_str(e, "code"), *msg = wsr_json_str(e, "message");
	int tt = wsr_lbsim_task_type_parse(type);
	*why = "not a task record";
	if (!org || !ws || !tt || (e && !cJSON_IsNull(e) && (!code || !msg)))
		return WSR_ECORRUPT;
	wsr_lbsim_task *t = wsr_lbsim_task_new(tt, org, ws, 0, 0);
	if (!t)
		return WSR_ENOMEM;
	int rc = code ? wsr_lbsim_task_fail(t, code, msg) : 0;
	if (!rc)
		rc = get_id(v, "id", 0, t->id);
	if (!rc && strcmp(t->id, stem) != 0)
		rc = WSR_ECORRUPT;
	if (!rc)
		rc = get_ms(v, "createdAt", 0, &t->created_at);
	if (!rc)
		rc = get_ms(v, "finishedAt", 0, &t->finished_at);
	if (!rc && (rc = wsr_lbsim_store_load_task(s, t)) == WSR_ENOMEM)
		*why = NULL;
	if (rc)
		wsr_lbsim_task_free(t);
	return rc;
}

static int load_idem(wsr_lbsim_store *s, void *ctx, const char *stem, const cJSON *v,
		     const char **why)
{
	(void)ctx;
	const char *body = wsr_json_str(v, "body");
	double status = wsr_json_num(v, "status", 0);
	*why = "not an idempotency record";
	if (!body || status < 100 || status > 599)
		return WSR_ECORRUPT;
	wsr_lbsim_idem *r = calloc(1, sizeof(*r));
	int rc = r && (r->id = strdup(stem)) && (r->body = strdup(body)) ? 0 : WSR_ENOMEM;
	if (!rc) {
		r->status = (int)status;
		rc = wsr_lbsim_store_load_idem(s, r);
	}
	if (rc == WSR_ENOMEM)
		*why = NULL;
	if (rc)
		wsr_lbsim_idem_free(r);
	return rc;
}

static int load_workspaces(wsr_lbsim_store *s, char **err)
{
	char *folder = wsr_strdupf("%s/workspaces", s->dir);
	char **orgs = NULL;
	size_t n = 0;
	int rc = folder ? list_dir(&orgs, &n, folder) : WSR_ENOMEM;
	if (rc == WSR_EIO)
		*err = wsr_strdupf("%s: cannot read the folder", folder);
	for (size_t i = 0; !rc && i < n; i++) {
		wsr_lbsim_org *o = wsr_lbsim_store_org(s, orgs[i]);
		char *sub = wsr_strdupf("%s/%s", folder, orgs[i]);
		if (!sub)
			rc = WSR_ENOMEM;
		else if (!o) {
			*err = wsr_strdupf("%s: no organization %s in platform.json", sub, orgs[i]);
			rc = WSR_ECORRUPT;
		} else
			rc = load_folder(s, sub, load_ws, o, err);
		free(sub);
	}
	free_list(orgs, n);
	free(folder);
	return rc ? rc : wsr_lbsim_store_sort(s);
}

typedef struct platform_ctx {
	cJSON *platform;
	char why[400];
} platform_ctx;

static int check_platform(wsr_lbsim_store *s, void *ctx, const char *stem, const cJSON *v,
			  const char **why)
{
	(void)s;
	(void)stem;
	platform_ctx *p = ctx;
	wsr_lbsim_perr e = {.nsteps = 0};
	int rc = wsr_lbsim_platform_check(&p->platform, v, &e);
	if (rc == WSR_EINVAL) {
		char where[128];
		wsr_lbsim_perr_path(&e, where, sizeof(where));
		snprintf(p->why, sizeof(p->why), "%s: %s", where[0] ? where : "(top)", e.msg);
		*why = p->why;
	}
	return rc;
}

static int load_platform(cJSON **out, const char *path, char **err)
{
	platform_ctx p = {NULL, ""};
	int rc = load_file(NULL, path, "platform", check_platform, &p, err);
	*out = p.platform;
	return rc;
}

/* Refuses a folder that holds something but no platform: seeding there could
 * mix emulator data into files that belong to someone else. */
static int check_empty(const char *dir, char **err)
{
	char **names;
	size_t n;
	int rc = list_dir(&names, &n, dir);
	if (rc)
		*err = wsr_strdupf("%s: cannot read the folder", dir);
	else if (n) {
		*err = wsr_strdupf(
		    "%s: holds files but no platform.json; use an empty or new folder", dir);
		rc = WSR_ECORRUPT;
	}
	free_list(names, n);
	return rc ? rc : WSR_ENOTFOUND;
}

int wsr_lbsim_persist_load(wsr_lbsim_store **out, const char *dir, char **err)
{
	*out = NULL;
	*err = NULL;
	char *path = wsr_strdupf("%s/platform.json", dir);
	if (!path)
		return WSR_ENOMEM;
	cJSON *platform = NULL;
	int rc =
	    access(path, F_OK) == 0 ? load_platform(&platform, path, err) : check_empty(dir, err);
	free(path);
	if (rc)
		return rc;
	wsr_lbsim_store *s;
	if ((rc = wsr_lbsim_store_new(&s, platform, dir)) != 0) {
		cJSON_Delete(platform);
		return rc;
	}
	char *tasks = wsr_strdupf("%s/tasks", dir), *idem = wsr_strdupf("%s/idempotency", dir);
	rc = tasks && idem ? load_workspaces(s, err) : WSR_ENOMEM;
	if (!rc)
		rc = load_folder(s, tasks, load_task, NULL, err);
	if (!rc)
		rc = load_folder(s, idem, load_idem, NULL, err);
	free(tasks);
	free(idem);
	if (rc) {
		wsr_lbsim_store_free(s);
		return rc;
	}
	*out = s;
	return 0;
}
