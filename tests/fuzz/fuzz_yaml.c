/* fuzz_yaml: the spec loader on one fuzzed file: lib/yaml.c's parser and
 * every kind's schema validation behind wsr_load_files, as `wsr validate`,
 * `wsr plan` and `wsr watch` run them on whatever a user commits. */
#include <stdlib.h>

#include "reconciler/load.h"
#include "tests/fuzz/fuzz.h"

static int fuzz_yaml(const uint8_t *data, size_t size)
{
	wsr_spec_files files = {0};
	wsr_resource_set desired = {0};
	wsr_diag diag;
	wsr_diag_init(&diag);
	if (wsr_spec_files_add(&files, "specs/fuzz.yaml", data ? (const char *)data : "", size) ==
	    0)
		(void)wsr_load_files(&files, NULL, &desired, &diag);
	wsr_resource_set_free(&desired);
	wsr_spec_files_free(&files);
	wsr_diag_free(&diag);
	return 0;
}
WSR_FUZZ_TARGET(fuzz_yaml)
