/* fuzz_json: lib/json.c's bounded parser, which reads every API answer,
 * state file and plan file before anything else looks at them. */
#include <stdlib.h>

#include "lib/json.h"
#include "tests/fuzz/fuzz.h"

static int fuzz_json(const uint8_t *data, size_t size)
{
	cJSON *v = NULL;
	char *err = NULL;
	if (wsr_json_parse(&v, (const char *)data, size, &err) == 0) {
		char *again = cJSON_PrintUnformatted(v);
		free(again);
	}
	cJSON_Delete(v);
	free(err);
	return 0;
}
WSR_FUZZ_TARGET(fuzz_json)
