/* status: Status objects. Messages are formatted into a fixed buffer, so
 * whatever a client sends (a 1 MiB path, a 63-character name) comes back
 * cut to WSR_KCPSIM_MSG_MAX, never whole. */
#include "sim/kcp/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"

/* Room kept at the end of a 422 message for ", and N more]". */
#define TAIL_MAX 32

static const struct {
	int code;
	const char *reason;
} reasons[] = {
    {400, "BadRequest"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "NotFound"},
    {405, "MethodNotAllowed"},
    {406, "NotAcceptable"},
    {409, "Conflict"},
    {410, "Gone"},
    {413, "RequestEntityTooLarge"},
    {415, "UnsupportedMediaType"},
    {422, "Invalid"},
    {429, "TooManyRequests"},
    {500, "InternalError"},
    {503, "ServiceUnavailable"},
    {504, "Timeout"},
};

const char *wsr_kcpsim_reason(int code)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == code)
			return reasons[i].reason;
	return code >= 500 ? "InternalError" : "BadRequest";
}

static cJSON *vstatus(int code, const char *reason, cJSON *details, const char *fmt, va_list ap)
{
	char msg[WSR_KCPSIM_MSG_MAX];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	cJSON *v = cJSON_CreateObject();
	int ok = v && cJSON_AddStringToObject(v, "kind", "Status") &&
		 cJSON_AddStringToObject(v, "apiVersion", "v1") &&
		 cJSON_AddObjectToObject(v, "metadata") &&
		 cJSON_AddStringToObject(v, "status", "Failure") &&
		 cJSON_AddStringToObject(v, "message", msg) &&
		 cJSON_AddStringToObject(v, "reason", reason ? reason : wsr_kcpsim_reason(code));
	if (ok && details && (ok = cJSON_AddItemToObject(v, "details", details)) != 0)
		details = NULL;
	ok = ok && cJSON_AddNumberToObject(v, "code", code);
	cJSON_Delete(details);
	if (!ok) {
		cJSON_Delete(v);
		v = NULL;
	}
	return v;
}

cJSON *wsr_kcpsim_status(int code, const char *reason, cJSON *details, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cJSON *v = vstatus(code, reason, details, fmt, ap);
	va_end(ap);
	return v;
}

void wsr_kcpsim_fail(wsr_sim_resp *r, int code, const char *reason, cJSON *details, const char *fmt,
		     ...)
{
	va_list ap;
	va_start(ap, fmt);
	cJSON *v = vstatus(code, reason, details, fmt, ap);
	va_end(ap);
	wsr_sim_resp_json(r, code, v);
}

cJSON *wsr_kcpsim_details(const char *name, const char *kind)
{
	cJSON *d = cJSON_CreateObject();
	if (d && (!cJSON_AddStringToObject(d, "name", name) ||
		  !cJSON_AddStringToObject(d, "group", WSR_KCPSIM_GROUP) ||
		  !cJSON_AddStringToObject(d, "kind", kind))) {
		cJSON_Delete(d);
		return NULL;
	}
	return d;
}

void wsr_kcpsim_server_error(wsr_sim_resp *r, int status, const char *code, const char *msg)
{
	(void)code;
	/* Kubernetes says when to retry in details (there is no header here) */
	cJSON *d = status == 429 || status == 503 ? cJSON_CreateObject() : NULL;
	if (d && !cJSON_AddNumberToObject(d, "retryAfterSeconds", 1)) {
		cJSON_Delete(d);
		d = NULL;
	}
	wsr_kcpsim_fail(r, status, NULL, d, "%s", msg);
}

void wsr_kcpsim_invalid_add(wsr_kcpsim_invalid *inv, const char *reason, const char *field,
			    const char *fmt, ...)
{
	char msg[WSR_KCPSIM_MSG_MAX / 2];
	va_list ap;
	inv->n++;
	if (inv->n > WSR_KCPSIM_MAX_CAUSES || inv->oom)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!inv->causes && !(inv->causes = cJSON_CreateArray())) {
		inv->oom = 1;
		return;
	}
	cJSON *c = cJSON_CreateObject();
	if (!c || !cJSON_AddStringToObject(c, "reason", reason) ||
	    !cJSON_AddStringToObject(c, "message", msg) ||
	    !cJSON_AddStringToObject(c, "field", field) || !cJSON_AddItemToArray(inv->causes, c)) {
		cJSON_Delete(c);
		inv->oom = 1;
	}
}

void wsr_kcpsim_reply_invalid(wsr_sim_resp *r, const char *kind, const char *group,
			      const char *name, wsr_kcpsim_invalid *inv)
{
	wsr_buf m = WSR_BUF_INIT;
	const cJSON *c;
	int i = 0;
	wsr_buf_printf(&m, "%s.%s \"%.63s\" is invalid: %s", kind, group, name,
		       inv->n > 1 ? "[" : "");
	cJSON_ArrayForEach(c, inv->causes)
	{
		wsr_buf_printf(&m, "%s%s: %s", i++ ? ", " : "",
			       cJSON_GetStringValue(cJSON_GetObjectItem(c, "field")),
			       cJSON_GetStringValue(cJSON_GetObjectItem(c, "message")));
	}
	/* cut so that the end (how many more, the bracket) survives the limit */
	if (m.len > WSR_KCPSIM_MSG_MAX - TAIL_MAX) {
		m.len = WSR_KCPSIM_MSG_MAX - TAIL_MAX;
		wsr_buf_puts(&m, "...");
	}
	if (inv->n > WSR_KCPSIM_MAX_CAUSES)
		wsr_buf_printf(&m, ", and %d more", inv->n - WSR_KCPSIM_MAX_CAUSES);
	wsr_buf_puts(&m, inv->n > 1 ? "]" : "");
	cJSON *d = cJSON_CreateObject();
	cJSON *causes = inv->causes ? inv->causes : cJSON_CreateArray();
	inv->causes = NULL;
	if (d && (!cJSON_AddStringToObject(d, "name", name) ||
		  !cJSON_AddStringToObject(d, "group", group) ||
		  !cJSON_AddStringToObject(d, "kind", kind))) {
		cJSON_Delete(d);
		d = NULL;
	}
	if (d && causes && cJSON_AddItemToObject(d, "causes", causes))
		causes = NULL;
	cJSON_Delete(causes);
	wsr_kcpsim_fail(r, 422, "Invalid", d, "%s",
			wsr_buf_failed(&m) ? "invalid" : wsr_buf_str(&m));
	wsr_buf_free(&m);
	wsr_kcpsim_invalid_free(inv);
}

void wsr_kcpsim_invalid_free(wsr_kcpsim_invalid *inv)
{
	cJSON_Delete(inv->causes);
	memset(inv, 0, sizeof(*inv));
}
