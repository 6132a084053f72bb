/* client: how the kcp provider speaks the Kubernetes API conventions — one
 * request with its JSON answer, Status objects turned into diagnostics, and
 * paging with continue tokens. Separate from the operations so every call
 * site treats hostile answers the same way (not JSON, wrong shape, endless
 * or repeating continue tokens). */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "providers/kcp/kc.h"

/* A 429 or 5xx that retries did not get past: the server is failing, and
 * the message says how hard wsr tried. */
static int gave_up(wsr_provider *p, wsr_diag *diag, const char *address, const char *method,
		   const char *path, const wsr_http_answer *ans, const cJSON *json)
{
	char *tried = wsr_http_gave_up(ans);
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, address, wsr_json_str(json, "message"),
		     "try again later, or raise providers.kcp.retryBudget if the server "
		     "recovers slowly",
		     "%s %s: the kcp server at %s %s", method, path, p->endpoint,
		     tried ? tried : "failed");
	free(tried);
	return WSR_EAPI;
}

int kc_call(wsr_provider *p, long *status, cJSON **json, const char *address, const char *method,
	    const char *path, const char *body, wsr_diag *diag)
{
	char *err = NULL;
	wsr_http_answer ans;
	int rc = wsr_http_request_json(p->http, &ans, json, method, path, NULL, body, &err);
	*status = ans.status;
	if (rc)
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, address, err, NULL,
			     rc == WSR_ELIMIT
				 ? "the kcp server at %s sent a response that is too large"
			     : rc == WSR_EINVAL
				 ? "the kcp server at %s answered with something that is not JSON"
			     : rc == WSR_ETIMEOUT ? "the kcp server at %s did not answer in time"
						  : "cannot reach the kcp server at %s",
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

const char *kc_reason(const cJSON *json)
{
	const char *kind = wsr_json_str(json, "kind"), *reason = wsr_json_str(json, "reason");
	return kind && strcmp(kind, "Status") == 0 && reason ? reason : "";
}

/* "; spec.type.name: must be ..., metadata.name: ..." of an Invalid Status. */
static void add_causes(wsr_buf *b, const cJSON *json)
{
	const cJSON *c;
	int n = 0;
	cJSON_ArrayForEach(c, wsr_json_arr(wsr_json_obj(json, "details"), "causes"))
	{
		const char *field = wsr_json_str(c, "field"), *msg = wsr_json_str(c, "message");
		if (msg)
			wsr_buf_printf(b, "%s%s%s%s", n++ ? ", " : "; ", field ? field : "",
				       field ? ": " : "", msg);
	}
}

int kc_refused(wsr_provider *p, wsr_diag *diag, const char *address, const char *what, long status,
	       const cJSON *json)
{
	const char *reason = kc_reason(json), *msg = wsr_json_str(json, "message");
	wsr_buf detail = WSR_BUF_INIT;
	wsr_buf_printf(&detail, "HTTP %ld, reason %s", status, *reason ? reason : "(none)");
	if (!json && status / 100 != 2)
		wsr_buf_puts(&detail, " (the answer was not a Status object)");
	add_causes(&detail, json);
	char *hint = NULL;
	if (status == 401)
		hint = wsr_strdupf("the server did not accept the credentials of %s",
				   p->creds_hint ? p->creds_hint : "the configuration");
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, address, wsr_buf_str(&detail), hint, "%s: %s", what,
		     msg ? msg : "the server refused the request");
	free(hint);
	wsr_buf_free(&detail);
	return WSR_EAPI;
}

int kc_malformed(wsr_diag *diag, const char *address, const char *what, const char *why)
{
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, address, why, NULL,
		     "%s: the kcp server's answer is not in the documented shape", what);
	return WSR_EAPI;
}

char *kc_api_path(const char *path, const char *resource, const char *name)
{
	return wsr_strdupf("/clusters/%s" KC_API "/%s%s%s", path, resource, name ? "/" : "",
			   name ? name : "");
}

static char *page_url(const char *path, const char *token)
{
	char *esc = token ? wsr_http_escape(token) : NULL;
	char *url = token && !esc ? NULL
				  : wsr_strdupf("%s?limit=%d%s%s", path, KC_PAGE_LIMIT,
						esc ? "&continue=" : "", esc ? esc : "");
	free(esc);
	return url;
}

/* One page: hands its items to each() and moves *token to the next page's
 * token (NULL on the last page). */
static int one_page(wsr_provider *p, const char *path, char **token, kc_each_fn each, void *ctx,
		    long *skip, wsr_diag *diag)
{
	char *url = page_url(path, *token);
	long status = 0;
	cJSON *page = NULL;
	int rc = url ? kc_call(p, &status, &page, NULL, "GET", url, NULL, diag) : WSR_ENOMEM;
	char *what = wsr_strdupf("listing %s", path);
	int first = !*token;
	if (!rc && status != 200 && first && skip && (status == 403 || status == 404)) {
		*skip = status;
		free(*token);
		*token = NULL;
		free(what);
		free(url);
		cJSON_Delete(page);
		return 0;
	}
	if (!rc && status == 410)
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, wsr_json_str(page, "message"),
			     "run wsr again: the listing restarts",
			     "%s: the server no longer knows the continue token of its last page",
			     what ? what : "listing");
	if (!rc && status == 410)
		rc = WSR_EAPI;
	else if (!rc && status != 200)
		rc = kc_refused(p, diag, NULL, what ? what : "listing", status, page);
	const cJSON *items = wsr_json_arr(page, "items");
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(page, "metadata");
	const cJSON *next = cJSON_GetObjectItemCaseSensitive(meta, "continue");
	if (!rc && (!cJSON_IsObject(page) || !items || (meta && !cJSON_IsObject(meta)) ||
		    (next && !cJSON_IsString(next) && !cJSON_IsNull(next))))
		rc = kc_malformed(diag, NULL, what ? what : "listing",
				  "a page must be {\"items\": [...], \"metadata\": {\"continue\": "
				  "string}}");
	const cJSON *it;
	cJSON_ArrayForEach(it, (rc ? NULL : items))
	{
		if ((rc = each(ctx, it, diag)))
			break;
	}
	char *prev = *token;
	*token = NULL;
	if (!rc && cJSON_IsString(next) && *next->valuestring) {
		if (prev && strcmp(prev, next->valuestring) == 0)
			rc = kc_malformed(diag, NULL, what ? what : "listing",
					  "metadata.continue repeats the token of the page");
		else if (!(*token = strdup(next->valuestring)))
			rc = WSR_ENOMEM;
	}
	free(prev);
	free(what);
	free(url);
	cJSON_Delete(page);
	return rc;
}

int kc_paginate(wsr_provider *p, const char *path, kc_each_fn each, void *ctx, long *skip,
		wsr_diag *diag)
{
	char *token = NULL;
	if (skip)
		*skip = 0;
	for (int page = 0; page < KC_MAX_PAGES; page++) {
		int rc = one_page(p, path, &token, each, ctx, skip, diag);
		if (rc || !token)
			return rc;
	}
	free(token);
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, NULL,
		     "listing %s: more than %d pages; refusing to follow the server's continue "
		     "tokens further",
		     path, KC_MAX_PAGES);
	return WSR_ELIMIT;
}

int kc_is_named(wsr_diag *diag, const char *address, const char *what, const cJSON *ws,
		const char *name)
{
	const char *got = wsr_json_str(wsr_json_obj(ws, "metadata"), "name");
	if (!got || strcmp(got, name) == 0)
		return 0; /* a missing name is the mapping's to report */
	char *why = wsr_strdupf("asked for workspace %.63s, the answer is workspace %.63s%s", name,
				got, strlen(got) > 63 ? "..." : "");
	kc_malformed(diag, address, what, why ? why : "the answer is another workspace");
	free(why);
	return WSR_EAPI;
}

int kc_get_workspace(wsr_provider *p, cJSON **ws, long *status, const char *address,
		     const char *parent, const char *name, const char *what, wsr_diag *diag)
{
	*ws = NULL;
	char *path = kc_api_path(parent, "workspaces", name);
	cJSON *json = NULL;
	int rc = path ? kc_call(p, status, &json, address, "GET", path, NULL, diag) : WSR_ENOMEM;
	free(path);
	if (!rc && *status == 200 && !cJSON_IsObject(json))
		rc = kc_malformed(diag, address, what, "a Workspace must be a JSON object");
	else if (!rc && *status == 200)
		rc = kc_is_named(diag, address, what, json, name);
	else if (!rc && *status != 200 && *status != 404)
		rc = kc_refused(p, diag, address, what, *status, json);
	if (!rc && *status == 200) {
		*ws = json;
		json = NULL;
	}
	cJSON_Delete(json);
	return rc;
}
