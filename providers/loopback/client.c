/* client: how the loopback provider speaks to the platform — one request
 * with its JSON answer, the platform's error objects turned into
 * diagnostics, and pagination. Separate from the ops so every call site gets
 * the same treatment of hostile answers (not JSON, wrong shape, endless
 * cursors). */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "providers/loopback/lb.h"

/* A 429 or 5xx that retries did not get past: the platform is failing, and
 * the message says how hard wsr tried. */
static int gave_up(wsr_provider *p, wsr_diag *diag, const char *address, const char *method,
		   const char *path, const wsr_http_answer *ans, const cJSON *json)
{
	char *tried = wsr_http_gave_up(ans);
	const char *msg = wsr_json_str(wsr_json_obj(json, "error"), "message");
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, address, msg,
		     "try again later, or raise providers.loopback.retryBudget if the platform "
		     "recovers slowly",
		     "%s %s: the Loopback platform at %s %s", method, path, p->endpoint,
		     tried ? tried : "failed");
	free(tried);
	return WSR_EAPI;
}

int lb_call(wsr_provider *p, long *status, cJSON **json, const char *address, const char *method,
	    const char *path, const char *const *headers, const char *body, wsr_diag *diag)
{
	char *err = NULL;
	wsr_http_answer ans;
	int rc = wsr_http_request_json(p->http, &ans, json, method, path, headers, body, &err);
	*status = ans.status;
	if (rc)
		wsr_diag_add(
		    diag, WSR_SEV_ERROR, NULL, address, err, NULL,
		    rc == WSR_ELIMIT ? "the Loopback platform at %s sent a response that "
				       "is too large"
		    : rc == WSR_EINVAL
			? "the Loopback platform at %s answered with something that is not "
			  "JSON"
		    : rc == WSR_ETIMEOUT ? "the Loopback platform at %s did not answer in time"
					 : "cannot reach the Loopback platform at %s",
		    p->endpoint);
	free(err);
	if (!rc && wsr_http_exhausted(&ans)) {
		rc = gave_up(p, diag, address, method, path, &ans, *json);
		cJSON_Delete(*json); /* callers own a body only when 0 is returned */
		*json = NULL;
		return rc;
	}
	return rc == WSR_EINVAL ? WSR_EAPI : rc;
}

int lb_refused(wsr_provider *p, wsr_diag *diag, const char *address, const char *what, long status,
	       const cJSON *json)
{
	const cJSON *e = wsr_json_obj(json, "error");
	const char *code = wsr_json_str(e, "code");
	const char *msg = wsr_json_str(e, "message");
	char *detail = wsr_strdupf("HTTP %ld, code %s", status, code ? code : "(none)");
	char *hint = NULL;
	if (status == 401)
		hint = wsr_strdupf("check the API key in %s",
				   p->key_env ? p->key_env : "the configuration");
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, address, detail, hint, "%s: %s", what,
		     msg ? msg : "the platform refused the request");
	free(detail);
	free(hint);
	return WSR_EAPI;
}

int lb_malformed(wsr_diag *diag, const char *address, const char *what, const char *why)
{
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, address, why, NULL,
		     "%s: the platform's answer is not in the documented shape", what);
	return WSR_EAPI;
}

static char *page_path(const char *path, const char *cursor)
{
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_printf(&b, "%s%climit=%d", path, strchr(path, '?') ? '&' : '?', LB_PAGE_LIMIT);
	if (cursor) {
		char *esc = wsr_http_escape(cursor);
		if (!esc) {
			wsr_buf_free(&b);
			return NULL;
		}
		wsr_buf_printf(&b, "&cursor=%s", esc);
		free(esc);
	}
	return wsr_buf_detach(&b);
}

/* Hands each item of one page to each(); sets *next to the next cursor or NULL. */
static int one_page(wsr_provider *p, const char *path, char **cursor, lb_each_fn each, void *ctx,
		    wsr_diag *diag)
{
	char *url = page_path(path, *cursor);
	long status;
	cJSON *page = NULL;
	int rc = url ? lb_call(p, &status, &page, NULL, "GET", url, NULL, NULL, diag) : WSR_ENOMEM;
	char *what = wsr_strdupf("listing %s", path);
	if (!rc && status != 200)
		rc = lb_refused(p, diag, NULL, what, status, page);
	const cJSON *items = wsr_json_arr(page, "items");
	const cJSON *next = cJSON_GetObjectItemCaseSensitive(page, "nextCursor");
	if (!rc && (!items || !(cJSON_IsNull(next) || cJSON_IsString(next) || !next)))
		rc = lb_malformed(
		    diag, NULL, what,
		    "a page must be {\"items\": [...], \"nextCursor\": string or null}");
	const cJSON *it;
	cJSON_ArrayForEach(it, (rc ? NULL : items))
	{
		if ((rc = each(ctx, it, diag)))
			break;
	}
	char *prev = *cursor;
	*cursor = NULL;
	if (!rc && cJSON_IsString(next)) {
		if (prev && strcmp(prev, next->valuestring) == 0)
			rc = lb_malformed(diag, NULL, what,
					  "nextCursor repeats the cursor of the page");
		else if (!(*cursor = strdup(next->valuestring)))
			rc = WSR_ENOMEM;
	}
	free(prev);
	free(what);
	free(url);
	cJSON_Delete(page);
	return rc;
}

int lb_paginate(wsr_provider *p, const char *path, lb_each_fn each, void *ctx, wsr_diag *diag)
{
	char *cursor = NULL;
	for (int page = 0; page < LB_MAX_PAGES; page++) {
		int rc = one_page(p, path, &cursor, each, ctx, diag);
		if (rc || !cursor)
			return rc;
	}
	free(cursor);
	wsr_diag_add(
	    diag, WSR_SEV_ERROR, NULL, NULL, NULL, NULL,
	    "listing %s: more than %d pages; refusing to follow the platform's cursors further",
	    path, LB_MAX_PAGES);
	return WSR_ELIMIT;
}

static int collect(void *ctx, const cJSON *item, wsr_diag *diag)
{
	(void)diag;
	cJSON *copy = cJSON_Duplicate(item, 1);
	return copy && cJSON_AddItemToArray(ctx, copy) ? 0 : WSR_ENOMEM;
}

int lb_get_all(wsr_provider *p, cJSON **items, const char *path, wsr_diag *diag)
{
	*items = cJSON_CreateArray();
	int rc = *items ? lb_paginate(p, path, collect, *items, diag) : WSR_ENOMEM;
	if (rc) {
		cJSON_Delete(*items);
		*items = NULL;
	}
	return rc;
}

char *lb_workspace_path(const char *org, const char *name, const char *suffix)
{
	char *o = wsr_http_escape(org), *n = name ? wsr_http_escape(name) : NULL;
	char *path = o && (n || !name) ? wsr_strdupf("/v1/organizations/%s/workspaces%s%s%s", o,
						     n ? "/" : "", n ? n : "", suffix ? suffix : "")
				       : NULL;
	free(o);
	free(n);
	return path;
}

int lb_orgs(wsr_provider *p, const cJSON **orgs, wsr_diag *diag)
{
	*orgs = p->orgs;
	if (p->orgs)
		return 0;
	cJSON *arr;
	int rc = lb_get_all(p, &arr, "/v1/organizations", diag);
	const cJSON *o;
	cJSON_ArrayForEach(o, (rc ? NULL : arr))
	{
		if (!wsr_json_str(o, "name")) {
			rc = lb_malformed(diag, NULL, "listing organizations",
					  "an organization has no name");
			break;
		}
	}
	if (rc) {
		cJSON_Delete(arr);
		return rc;
	}
	*orgs = p->orgs = arr;
	return 0;
}
