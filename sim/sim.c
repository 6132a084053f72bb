/* sim: the one door into the emulators (sim/sim.h): picks the API by name,
 * opens its data and serves it with sim/server.c. */
#include "sim/sim.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "sim/loopback/lbsim.h"
#include "sim/server.h"

struct wsr_sim {
	wsr_lbsim *api;
	wsr_sim_server *srv;
};

int wsr_sim_serve(wsr_sim **out, const wsr_sim_opts *opts, int allow_remote, char **err)
{
	*out = NULL;
	*err = NULL;
	if (!opts || opts->version != WSR_SIM_OPTS_VERSION) {
		*err = wsr_strdupf("wsr_sim_opts version %d is not supported",
				   opts ? opts->version : 0);
		return WSR_EINVAL;
	}
	if (!opts->api || strcmp(opts->api, "loopback") != 0) {
		*err = wsr_strdupf("--api %s: no such emulator here (loopback is)",
				   opts->api ? opts->api : "(none)");
		return WSR_EINVAL;
	}
	wsr_sim *s = calloc(1, sizeof(*s));
	if (!s)
		return WSR_ENOMEM;
	int rc = wsr_lbsim_open(&s->api, opts->seed_file, opts->data_dir, err);
	if (!rc) {
		wsr_sim_server_opts so = {opts->listen,	    allow_remote, opts->quiet,
					  wsr_lbsim_handle, s->api,	  wsr_lbsim_handle_sim};
		rc = wsr_sim_server_start(&s->srv, &so, err);
	}
	if (rc) {
		wsr_sim_stop(s);
		return rc;
	}
	*out = s;
	return 0;
}

int wsr_sim_start(wsr_sim **out, const wsr_sim_opts *opts, char **err)
{
	return wsr_sim_serve(out, opts, 0, err);
}

const char *wsr_sim_url(const wsr_sim *s)
{
	return wsr_sim_server_url(s->srv);
}

void wsr_sim_stop(wsr_sim *s)
{
	if (!s)
		return;
	wsr_sim_server_stop(s->srv); /* no request runs past this, so the store can go */
	wsr_lbsim_free(s->api);
	free(s);
}

const char *wsr_sim_builtin_key(const char *api)
{
	return api && strcmp(api, "loopback") == 0 ? WSR_LBSIM_BUILTIN_KEY : NULL;
}
