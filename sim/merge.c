/* merge: RFC 7386 in one recursive function. The recursion is as deep as
 * the patch, which the bounded JSON parser (lib/json.h) keeps shallow. */
#include "sim/merge.h"

cJSON *wsr_sim_merge_patch(cJSON *target, const cJSON *patch)
{
	if (!cJSON_IsObject(patch)) {
		cJSON_Delete(target);
		return cJSON_Duplicate(patch, 1);
	}
	if (!cJSON_IsObject(target)) {
		cJSON_Delete(target);
		if (!(target = cJSON_CreateObject()))
			return NULL;
	}
	const cJSON *p;
	cJSON_ArrayForEach(p, patch)
	{
		cJSON *cur = cJSON_DetachItemFromObjectCaseSensitive(target, p->string), *n;
		if (cJSON_IsNull(p)) {
			cJSON_Delete(cur);
			continue;
		}
		if (!(n = wsr_sim_merge_patch(cur, p)) ||
		    !cJSON_AddItemToObject(target, p->string, n)) {
			cJSON_Delete(n);
			cJSON_Delete(target);
			return NULL;
		}
	}
	return target;
}
