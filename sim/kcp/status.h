/* status: the Kubernetes Status object every kcp error is, and the 422
 * Invalid with its causes. Kept apart so that every refusal of the emulator,
 * the HTTP server's own (413, 405) included, has one shape. */
#ifndef WSR_SIM_KCP_STATUS_H
#define WSR_SIM_KCP_STATUS_H
#include <cJSON.h>

#include "sim/server.h"

/* Longest message a Status carries; longer ones are cut (a 1 MiB path in a
 * "not found" must not come back whole). */
#define WSR_KCPSIM_MSG_MAX 1024
/* Most causes one 422 lists; the rest are counted in the message. */
#define WSR_KCPSIM_MAX_CAUSES 16

/* The resource a Status's details name. */
#define WSR_KCPSIM_GROUP "tenancy.kcp.io"

/* The reason clients act on for a status code ("NotFound" for 404); 4xx
 * and 5xx codes without their own reason are BadRequest and InternalError. */
const char *wsr_kcpsim_reason(int code);

/* A Status object (NULL when out of memory); arguments as for fail. */
cJSON *wsr_kcpsim_status(int code, const char *reason, cJSON *details, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Answers code with a Status: reason NULL means the code's own; details
 * (taken over, may be NULL) is added as "details". */
void wsr_kcpsim_fail(wsr_sim_resp *r, int code, const char *reason, cJSON *details, const char *fmt,
		     ...) __attribute__((format(printf, 5, 6)));

/* {"name", "group": "tenancy.kcp.io", "kind"}; NULL when out of memory. */
cJSON *wsr_kcpsim_details(const char *name, const char *kind);

/* A wsr_sim_error_fn: the server's own errors as Status objects. */
void wsr_kcpsim_server_error(wsr_sim_resp *r, int status, const char *code, const char *msg);

/* The causes of one 422, collected while a body is checked. */
typedef struct wsr_kcpsim_invalid {
	cJSON *causes; /* [{"reason", "message", "field"}], created on the first */
	int n;	       /* causes found (more than are kept) */
	int oom;
} wsr_kcpsim_invalid;

/* Records that field is wrong: reason is Kubernetes' cause type
 * ("FieldValueInvalid", "FieldValueRequired", "FieldValueForbidden",
 * "FieldValueNotSupported"). */
void wsr_kcpsim_invalid_add(wsr_kcpsim_invalid *inv, const char *reason, const char *field,
			    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Answers 422 Invalid for the object kind/name ("Workspace", "team-a") with
 * the causes, and frees them. The message is Kubernetes':
 * Workspace.tenancy.kcp.io "team-a" is invalid: spec.type: type is immutable */
void wsr_kcpsim_reply_invalid(wsr_sim_resp *r, const char *kind, const char *group,
			      const char *name, wsr_kcpsim_invalid *inv);

void wsr_kcpsim_invalid_free(wsr_kcpsim_invalid *inv);
#endif
