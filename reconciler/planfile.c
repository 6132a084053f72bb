/* planfile: saving a plan and refusing it once stale. */
#include "reconciler/planfile.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/json.h"

static cJSON *strings(const char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; a && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

int wsr_planfile_write(const char *path, const wsr_run_opts *opts, const wsr_run *r,
		       const cJSON *plan_json, wsr_diag *diag)
{
	char dir[PATH_MAX];
	if (!realpath(opts->dir ? opts->dir : ".", dir))
		return WSR_EIO;
	cJSON *doc = cJSON_CreateObject();
	if (!doc)
		return WSR_ENOMEM;
	cJSON_AddStringToObject(doc, "format", WSR_PLANFILE_FORMAT);
	cJSON_AddStringToObject(doc, "dir", dir);
	cJSON *st = cJSON_AddObjectToObject(doc, "state");
	cJSON_AddStringToObject(st, "lineage", r->state->lineage ? r->state->lineage : "");
	cJSON_AddNumberToObject(st, "serial", (double)r->state->serial);
	cJSON *o = cJSON_AddObjectToObject(doc, "options");
	cJSON_AddBoolToObject(o, "prune", opts->plan.prune);
	cJSON_AddBoolToObject(o, "allowReplace", opts->plan.allow_replace);
	cJSON_AddBoolToObject(o, "allowCascade", opts->plan.allow_cascade);
	cJSON_AddBoolToObject(o, "refreshOnly", opts->plan.refresh_only);
	cJSON_AddItemToObject(o, "targets", strings(opts->plan.targets, opts->plan.ntargets));
	cJSON_AddItemToObject(o, "selectors", strings(opts->plan.selectors, opts->plan.nselectors));
	cJSON_AddItemToObject(doc, "plan", cJSON_Duplicate(plan_json, 1));
	char *text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (!text)
		return WSR_ENOMEM;
	int rc = wsr_fs_write_atomic(path, text, strlen(text), 0600);
	free(text);
	if (rc)
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, NULL,
			     "cannot write plan file %s: %s", path, wsr_strerror(rc));
	return rc;
}

static int bad(wsr_diag *diag, const char *path, const char *what)
{
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL,
		     "make a new one with: wsr plan --out FILE",
		     "%s is not a usable wsr plan file: %s", path, what);
	return WSR_EINVAL;
}

static int read_list(const char **v, size_t *n, const cJSON *arr)
{
	const cJSON *x;
	*n = 0;
	cJSON_ArrayForEach(x, arr)
	{
		if (!cJSON_IsString(x) || *n == 64)
			return -1;
		v[(*n)++] = x->valuestring;
	}
	return 0;
}

int wsr_planfile_read(wsr_planfile **out, const char *path, wsr_diag *diag)
{
	*out = NULL;
	char *text = NULL, *err = NULL;
	size_t len;
	int rc = wsr_fs_read(&text, &len, path, WSR_PLANFILE_MAX_BYTES);
	if (rc)
		return bad(diag, path, wsr_strerror(rc));
	wsr_planfile *pf = calloc(1, sizeof(*pf));
	if (!pf) {
		free(text);
		return WSR_ENOMEM;
	}
	rc = wsr_json_parse(&pf->doc, text, len, &err);
	free(text);
	if (rc) {
		rc = bad(diag, path, err ? err : "invalid JSON");
		free(err);
		wsr_planfile_free(pf);
		return rc;
	}
	/* cJSON_Compare would find such a plan stale even against itself,
	 * and say the platform changed when the file is what is wrong */
	const char *twice = wsr_json_repeated_key(pf->doc);
	if (twice) {
		char shown[64]; /* a key from the file: shown short and terminal-safe */
		char *why = wsr_strdupf("the key \"%s\" appears twice in one object",
					wsr_diag_short(shown, sizeof(shown), twice));
		rc = bad(diag, path, why ? why : "a key appears twice in one object");
		free(why);
		wsr_planfile_free(pf);
		return rc;
	}
	const char *format = wsr_json_str(pf->doc, "format");
	const cJSON *st = wsr_json_obj(pf->doc, "state"), *o = wsr_json_obj(pf->doc, "options");
	pf->dir = wsr_json_str(pf->doc, "dir");
	pf->lineage = wsr_json_str(st, "lineage");
	/* checked before it is converted: a hand-edited 1e30 is no serial */
	int64_t serial = -1;
	int serial_rc = wsr_json_int_in(st, "serial", 0, INT64_MAX, &serial);
	pf->serial = serial;
	pf->prune = wsr_json_bool(o, "prune", 0);
	pf->allow_replace = wsr_json_bool(o, "allowReplace", 0);
	pf->allow_cascade = wsr_json_bool(o, "allowCascade", 0);
	pf->refresh_only = wsr_json_bool(o, "refreshOnly", 0);
	pf->plan = wsr_json_obj(pf->doc, "plan");
	const char *why =
	    !format || strcmp(format, WSR_PLANFILE_FORMAT) ? "unknown format"
	    : serial_rc == WSR_EINVAL ? "state.serial is not a whole number of 0 or more"
	    : !pf->dir || !pf->lineage || pf->serial < 0 ? "missing state or directory"
	    : !pf->plan					 ? "missing plan"
	    /* what wsr_planfile_check compares: without them even an unchanged
	       platform would make it "stale", blaming the wrong thing */
	    : !wsr_json_arr(pf->plan, "changes") || !wsr_json_arr(pf->plan, "drift")
		? "the plan lacks its changes or drift list"
	    : read_list(pf->targets, &pf->ntargets, wsr_json_arr(o, "targets")) ||
		    read_list(pf->selectors, &pf->nselectors, wsr_json_arr(o, "selectors"))
		? "bad options"
		: NULL;
	if (why) {
		wsr_planfile_free(pf);
		return bad(diag, path, why);
	}
	*out = pf;
	return 0;
}

/* A copy without "source": file paths depend on the directory the plan was
 * run from (relative as given, absolute when applied from the file), and
 * say nothing about the platform or the specs' content. */
static cJSON *without_sources(const cJSON *changes)
{
	cJSON *copy = cJSON_Duplicate(changes, 1);
	cJSON *c;
	cJSON_ArrayForEach(c, copy)
	{
		cJSON_DeleteItemFromObjectCaseSensitive(c, "source");
	}
	return copy;
}

int wsr_planfile_check(const wsr_planfile *pf, const wsr_run *r, const cJSON *fresh_json,
		       wsr_diag *diag)
{
	const char *hint = "run wsr plan again, review it, and apply the new plan";
	/* serial 0 is a state never written: it has no history to compare yet */
	int fresh = pf->serial == 0 && r->state->serial == 0;
	if (!fresh && (strcmp(pf->lineage, r->state->lineage ? r->state->lineage : "") != 0 ||
		       pf->serial != r->state->serial)) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, hint,
			     "the saved plan is stale: state changed since it was made (serial "
			     "%lld, now %lld)",
			     (long long)pf->serial, (long long)r->state->serial);
		return WSR_ECONFLICT;
	}
	static const char *parts[] = {"changes", "drift"};
	for (size_t i = 0; i < 2; i++) {
		cJSON *a = without_sources(cJSON_GetObjectItemCaseSensitive(pf->plan, parts[i]));
		cJSON *b = without_sources(cJSON_GetObjectItemCaseSensitive(fresh_json, parts[i]));
		int same = cJSON_Compare(a, b, 1);
		cJSON_Delete(a);
		cJSON_Delete(b);
		if (!same) {
			wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, hint,
				     "the saved plan is stale: the platform or the specs changed "
				     "since it was made");
			return WSR_ECONFLICT;
		}
	}
	return 0;
}

void wsr_planfile_free(wsr_planfile *pf)
{
	if (!pf)
		return;
	cJSON_Delete(pf->doc);
	free(pf);
}
