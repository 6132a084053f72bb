/* patch: the bodies PATCH accepts on a workspace, turned into the whole
 * object the PUT rules then check: a JSON merge patch
 * (application/merge-patch+json) or a JSON patch
 * (application/json-patch+json, RFC 6902). Server-side apply
 * (application/apply-patch+yaml) and strategic merge patch are answered 415
 * as a server without them answers; docs/sim.md says why. */
#include "sim/kcp/api.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/err.h"
#include "lib/json.h"
#include "sim/jsonpatch.h"
#include "sim/kcp/status.h"
#include "sim/merge.h"

static const char *const accepted[] = {"application/json-patch+json",
				       "application/merge-patch+json"};

/* The accepted type the request's Content-Type is (parameters aside), or -1. */
static int patch_type(const wsr_kcpsim_call *c)
{
	const char *ct = wsr_sim_req_header(c->req, "Content-Type");
	for (int i = 0; ct && i < 2; i++) {
		size_t n = strlen(accepted[i]);
		if (strncasecmp(ct, accepted[i], n) == 0 &&
		    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
			return i;
	}
	return -1;
}

int wsr_kcpsim_patch_check(wsr_kcpsim_call *c)
{
	if (patch_type(c) >= 0)
		return 0;
	/* kube-apiserver's negotiation.NewUnsupportedMediaTypeError */
	wsr_kcpsim_fail(c->resp, 415, "UnsupportedMediaType", NULL,
			"the body of the request was in an unknown format - accepted media types "
			"include: %s, %s",
			accepted[0], accepted[1]);
	return -1;
}

/* Answers the refusal wsr_sim_json_patch gave as kube-apiserver answers it. */
static void refused(wsr_kcpsim_call *c, int rc, const char *why)
{
	if (rc == WSR_EINVAL)
		wsr_kcpsim_fail(c->resp, 400, NULL, NULL, "%s", why);
	else if (rc == WSR_ELIMIT)
		wsr_kcpsim_fail(c->resp, 413, "RequestEntityTooLarge", NULL, "%s", why);
	else if (rc == WSR_ECONFLICT) /* a patch that does not apply */
		wsr_kcpsim_fail(c->resp, 422, "Invalid", NULL, "%s", why);
	else
		wsr_kcpsim_unavailable(c, rc);
}

/* The JSON patch in the body applied to view (taken over); NULL after
 * answering 400, 413, 422 or 503. */
static cJSON *json_patched(wsr_kcpsim_call *c, cJSON *view)
{
	char why[WSR_SIM_JSONPATCH_WHY], *err = NULL;
	cJSON *ops = NULL;
	int rc;
	if (!view) {
		wsr_kcpsim_unavailable(c, WSR_ENOMEM);
		return NULL;
	}
	if (wsr_json_parse(&ops, c->req->body, c->req->len, &err)) {
		wsr_kcpsim_fail(c->resp, 400, NULL, NULL, "the body is not valid JSON: %s",
				err ? err : "");
		rc = WSR_EINVAL;
	} else if ((rc = wsr_sim_json_patch(&view, ops, why)) != 0)
		refused(c, rc, why);
	free(err);
	cJSON_Delete(ops);
	if (rc) {
		cJSON_Delete(view);
		return NULL;
	}
	return view;
}

cJSON *wsr_kcpsim_patched(wsr_kcpsim_call *c, const wsr_kcpsim_ws *w)
{
	cJSON *patch, *merged;
	if (patch_type(c) == 0)
		return json_patched(c, wsr_kcpsim_view(c, w));
	if (!(patch = wsr_kcpsim_body_object(c)))
		return NULL;
	if (!(merged = wsr_sim_merge_patch(wsr_kcpsim_view(c, w), patch)))
		wsr_kcpsim_unavailable(c, WSR_ENOMEM);
	cJSON_Delete(patch);
	return merged;
}
