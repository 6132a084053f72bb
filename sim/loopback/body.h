/* body: what a client may send for a workspace, and the defaults the
 * platform applies. Pure functions from JSON to JSON with a reason on
 * refusal, so every 400 the API gives is testable without HTTP. */
#ifndef WSR_SIM_LOOPBACK_BODY_H
#define WSR_SIM_LOOPBACK_BODY_H
#include <cJSON.h>

/* Size of the buffer a refusal's reason is written into. */
#define WSR_LBSIM_WHY_MAX 256

/* Writes a refusal's reason into why (WSR_LBSIM_WHY_MAX bytes) and returns
 * WSR_EINVAL. */
int wsr_lbsim_why(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* WSR_EINVAL with why naming the first member of obj that is not one of
 * keys (NULL-terminated), as "where.member" ("member" when where is ""). */
int wsr_lbsim_only_fields(const cJSON *obj, const char *const *keys, const char *where, char *why);

/* Checks a create body and returns the Workspace it asks for, with every
 * default applied and the name sanitized; id, organization, state,
 * createdAt and updatedAt are present as null for the caller to fill.
 * admin says whether the principal's role is admin: for anyone else
 * maintenance.enabled false is stored as true. On WSR_EINVAL, why says what
 * is wrong (naming the field). */
int wsr_lbsim_body_create(cJSON **out, const cJSON *in, int admin, char *why);

/* Applies a PATCH body to ws (a stored Workspace, changed in place), with
 * the maintenance rules as for a create. *maintenance_changed tells whether
 * maintenance differs afterwards (after those rules). On WSR_EINVAL ws may
 * be half-changed (pass a copy) and why says what is wrong: an unknown or
 * mistyped field, or a change to a field that needs its own operation, is
 * seeded at creation (kubernetes.ingress) or needs a replacement. */
int wsr_lbsim_body_patch(cJSON *ws, const cJSON *in, int admin, int *maintenance_changed,
			 char *why);
#endif
