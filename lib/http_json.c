/* http_json: the JSON API layer over lib/http.c's transport: one request,
 * its answer parsed with lib/json's bounds, and what a body that is not
 * JSON means (an error on a 2xx, the status alone otherwise). Apart from
 * the transport so that the fuzz targets of the providers' answer handling
 * (tests/fuzz/http_fake.h) can replace the transport alone and keep this
 * decision as it is. */
#include <stdlib.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/http.h"
#include "lib/json.h"

int wsr_http_request_json(wsr_http *h, wsr_http_answer *ans, cJSON **json, const char *method,
			  const char *path, const char *const *headers, const char *body,
			  char **err)
{
	wsr_http_resp resp;
	char *why = NULL;
	*json = NULL;
	int rc = wsr_http_request(h, &resp, method, path, headers, body, err);
	*ans = (wsr_http_answer){resp.status, resp.attempts, resp.elapsed_ms};
	if (!rc && resp.len > 0 && wsr_json_parse(json, resp.body, resp.len, &why) != 0 &&
	    resp.status / 100 == 2) {
		*err = wsr_strdupf("%s %s answered %ld: %s", method, path, resp.status,
				   why ? why : "not JSON");
		rc = WSR_EINVAL;
	}
	free(why);
	wsr_http_resp_free(&resp);
	return rc;
}
