/* jsonpatch: JSON Patch (RFC 6902) with JSON Pointers (RFC 6901), which
 * kcp's PATCH accepts as application/json-patch+json. */
#ifndef WSR_SIM_JSONPATCH_H
#define WSR_SIM_JSONPATCH_H
#include <cJSON.h>

/* Most operations one patch may have (kube-apiserver's
 * maxJSONPatchOperations); more is WSR_ELIMIT. */
#define WSR_SIM_JSONPATCH_MAX_OPS 10000
/* Room for the reason a patch is refused. */
#define WSR_SIM_JSONPATCH_WHY 256

/* Applies patch (an array of operations) to *doc, all or nothing: on
 * success *doc is the patched document. WSR_EINVAL: the patch is no valid
 * JSON Patch (an operation without op or path, an unknown op, a bad
 * pointer); WSR_ELIMIT: too many operations; WSR_ECONFLICT: an operation
 * does not apply (a path that is missing, a failed test); WSR_ENOMEM. why
 * (WSR_SIM_JSONPATCH_WHY bytes) says what, on any failure; *doc is then
 * unchanged. */
int wsr_sim_json_patch(cJSON **doc, const cJSON *patch, char *why);
#endif
