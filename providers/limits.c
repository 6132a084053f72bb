/* limits: the bounded waits of a provider's HTTP client, read one way for
 * every platform from its providers.<name> block (connectTimeout,
 * requestTimeout, retryBudget) plus the run's deadline the engine adds
 * (deadlineMs, deadlineHint; see wsr_provider_ops.open). One reader so
 * both platforms take the same durations, bounds and messages. */
#include <stdio.h>
#include <stdlib.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "providers/provider.h"

/* Reads block.key (absent: *ms stays) as a duration from 1 ms to
 * WSR_HTTP_MAX_WAIT_MS; an error in diag otherwise. */
static int read_wait(long *ms, const cJSON *config, const char *block, const char *key,
		     wsr_diag *diag)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(config, key);
	if (!v)
		return 0;
	int64_t got = 0;
	if (!cJSON_IsString(v) || wsr_clock_duration(&got, v->valuestring) || got < 1 ||
	    got > WSR_HTTP_MAX_WAIT_MS) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL,
			     "a whole number with ms, s, m or h, e.g. 30s",
			     "%s: %s is not a duration from 1ms to %ldm", block, key,
			     WSR_HTTP_MAX_WAIT_MS / 60000);
		return WSR_EINVAL;
	}
	*ms = (long)got;
	return 0;
}

int wsr_provider_http_limits(wsr_http_opts *o, const cJSON *config, const char *block,
			     wsr_diag *diag)
{
	if (read_wait(&o->connect_timeout_ms, config, block, "connectTimeout", diag) ||
	    read_wait(&o->timeout_ms, config, block, "requestTimeout", diag) ||
	    read_wait(&o->retry_budget_ms, config, block, "retryBudget", diag))
		return WSR_EINVAL;
	o->deadline_ms = (int64_t)wsr_json_num(config, "deadlineMs", 0);
	o->deadline_hint = wsr_json_str(config, "deadlineHint");
	o->limits_hint = block;
	return 0;
}
