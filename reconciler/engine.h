/* engine: what a run holds open — the config, the state backend, and one
 * opened provider per platform in use. It is the one place that resolves
 * `endpoint: embedded`: it starts the emulator through sim/sim.h and hands
 * the provider a URL, so no provider knows whether its platform is real. */
#ifndef WSR_RECONCILER_ENGINE_H
#define WSR_RECONCILER_ENGINE_H
#include <stdint.h>

#include "lib/diag.h"
#include "providers/provider.h"
#include "reconciler/config.h"
#include "state/state.h"

#define WSR_ENGINE_MAX_PROVIDERS 4

typedef struct wsr_engine_provider {
	const char *name;
	const wsr_provider_ops *ops;
	wsr_provider *p;     /* NULL until opened */
	struct wsr_sim *sim; /* the embedded platform behind it, or NULL */
	int timeout_s;	     /* how long one async operation may take */
} wsr_engine_provider;

/* A run's deadline (`--timeout`): every request and wait of the run ends
 * by it, and apply stops there as at a second SIGINT. */
typedef struct wsr_deadline {
	int64_t at_ms;	  /* a wsr_clock_mono_ms() time; 0: none */
	int64_t after_ms; /* the duration it was set to, for messages */
	char hint[64];	  /* what set it: "--timeout 2s" or "--timeout, 5m by default" */
} wsr_deadline;

typedef struct wsr_engine {
	wsr_config *cfg;       /* owned */
	wsr_deadline deadline; /* handed to each provider opened */
	wsr_state_backend *backend;
	wsr_engine_provider prov[WSR_ENGINE_MAX_PROVIDERS];
	int nprov;
} wsr_engine;

/* Opens the state backend named by cfg (taking ownership of cfg). */
int wsr_engine_new(wsr_engine **out, wsr_config *cfg, wsr_diag *diag);

/* Opens the named provider if it is not open yet (starting the embedded
 * platform when configured so) and returns it. */
int wsr_engine_provider_open(wsr_engine *e, const char *name, wsr_engine_provider **out,
			     wsr_diag *diag);

/* The already opened provider, or NULL. */
wsr_engine_provider *wsr_engine_provider_get(wsr_engine *e, const char *name);

void wsr_engine_free(wsr_engine *e);
#endif
