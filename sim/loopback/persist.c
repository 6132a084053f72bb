/* persist: the Loopback records in the data directory, written and read
 * with sim/persist.c (one atomic file per record, loads that name the file
 * at fault). */
#include "sim/loopback/persist.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "sim/loopback/platform.h"
#include "sim/persist.h"

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
		cJSON_AddItemToObject(r, "goneAt", wsr_sim_persist_ms(w->gone_at));
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
	int rc = sub ? wsr_sim_persist_write(s->dir, sub, w->name, r) : WSR_ENOMEM;
	if (!sub)
		cJSON_Delete(r);
	free(sub);
	return rc;
}

int wsr_lbsim_persist_ws_remove(const wsr_lbsim_store *s, const wsr_lbsim_ws *w)
{
	if (!s->dir)
		return 0;
	char *sub = wsr_strdupf("workspaces/%s", w->org);
	int rc = sub ? wsr_sim_persist_remove(s->dir, sub, w->name) : WSR_ENOMEM;
	free(sub);
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
	return wsr_sim_persist_write(s->dir, "tasks", t->id, r);
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
	return wsr_sim_persist_write(s->dir, "idempotency", r->id, v);
}

int wsr_lbsim_persist_platform(const char *dir, const cJSON *platform)
{
	return wsr_sim_persist_platform(dir, platform);
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
		rc = wsr_sim_persist_get_ms(op, "until", 0, &w->op_until);
	if (!rc && !(w->op_arg = strdup(arg)))
		rc = WSR_ENOMEM;
	return rc;
}

/* What a workspace record is loaded into. */
typedef struct ws_ctx {
	wsr_lbsim_store *s;
	wsr_lbsim_org *o;
} ws_ctx;

static int load_ws(void *ctx, const char *stem, const cJSON *v, const char **why)
{
	wsr_lbsim_store *s = ((ws_ctx *)ctx)->s;
	wsr_lbsim_org *o = ((ws_ctx *)ctx)->o;
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
	int rc = wsr_sim_persist_get_ms(v, "readyAt", 0, &w->ready_at);
	if (!rc)
		rc = wsr_sim_persist_get_ms(v, "goneAt", 1, &w->gone_at);
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

static int load_task(void *ctx, const char *stem, const cJSON *v, const char **why)
{
	wsr_lbsim_store *s = ctx;
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
		rc = wsr_sim_persist_get_ms(v, "createdAt", 0, &t->created_at);
	if (!rc)
		rc = wsr_sim_persist_get_ms(v, "finishedAt", 0, &t->finished_at);
	if (!rc && (rc = wsr_lbsim_store_load_task(s, t)) == WSR_ENOMEM)
		*why = NULL;
	if (rc)
		wsr_lbsim_task_free(t);
	return rc;
}

static int load_idem(void *ctx, const char *stem, const cJSON *v, const char **why)
{
	wsr_lbsim_store *s = ctx;
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
	int rc = folder ? wsr_sim_persist_names(&orgs, &n, folder) : WSR_ENOMEM;
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
		} else {
			ws_ctx x = {s, o};
			rc = wsr_sim_persist_load_folder(sub, WSR_LBSIM_MAX_RECORD, load_ws, &x,
							 err);
		}
		free(sub);
	}
	wsr_sim_persist_names_free(orgs, n);
	free(folder);
	return rc ? rc : wsr_lbsim_store_sort(s);
}

int wsr_lbsim_persist_load(wsr_lbsim_store **out, const char *dir, char **err)
{
	*out = NULL;
	*err = NULL;
	cJSON *platform = NULL;
	int rc = wsr_sim_persist_load_platform(&platform, dir, wsr_lbsim_platform_check, err);
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
		rc = wsr_sim_persist_load_folder(tasks, WSR_LBSIM_MAX_RECORD, load_task, s, err);
	if (!rc)
		rc = wsr_sim_persist_load_folder(idem, WSR_LBSIM_MAX_RECORD, load_idem, s, err);
	free(tasks);
	free(idem);
	if (rc) {
		wsr_lbsim_store_free(s);
		return rc;
	}
	*out = s;
	return 0;
}
