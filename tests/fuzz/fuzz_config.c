/* fuzz_config: one fuzzed wsr.yaml through wsr_config_load, as every
 * command reads it before any spec (lib/yaml.c, schema/config.json's
 * validation and defaults, the kcp home check), then what `wsr watch` takes
 * from the result: its durations and the files it names. */
#include <stdlib.h>

#include "reconciler/config.h"
#include "lib/clock.h"
#include "reconciler/watch.h"
#include "lib/json.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_util.h"

/* What take_config (reconciler/watch.c) reads from a loaded watch block. */
static void watch_block(const wsr_config *c)
{
	const cJSON *wb = c->watch, *backoff = wsr_json_path(wb, "backoff");
	int64_t ms = 0;
	(void)wsr_clock_duration(&ms, wsr_json_str(wb, "interval"));
	(void)wsr_clock_duration(&ms, wsr_json_str(backoff, "initial"));
	(void)wsr_clock_duration(&ms, wsr_json_str(backoff, "max"));
	free(wsr_config_path(c, wsr_json_str(wsr_json_path(wb, "webhook"), "secretFile")));
	free(wsr_config_path(c, wsr_json_str(wsr_json_path(c->providers, "kcp"), "kubeconfig")));
}

static int fuzz_config(const uint8_t *data, size_t size)
{
	fuzz_file(WSR_CONFIG_FILE, data, size);
	wsr_config *c = NULL;
	wsr_diag diag;
	wsr_diag_init(&diag);
	if (wsr_config_load(&c, fuzz_dir(), &diag) == 0)
		watch_block(c);
	fuzz_render_diag(&diag);
	wsr_config_free(c);
	wsr_diag_free(&diag);
	return 0;
}
WSR_FUZZ_TARGET(fuzz_config)
