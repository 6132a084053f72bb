/* sim: the one door into the emulators (sim/sim.h): picks the API by name,
 * opens its data and serves it with sim/server.c. */
#include "sim/sim.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "sim/kcp/kcpsim.h"
#include "sim/kcp/status.h"
#include "sim/loopback/lbsim.h"
#include "sim/server.h"

/* Largest certificate or key file read for TLS. */
#define MAX_PEM (256u * 1024)

struct wsr_sim {
	wsr_lbsim *lb;
	wsr_kcpsim *kcp;
	wsr_sim_server *srv;
	char *tls_cert, *tls_key; /* PEM texts, kept while serving */
};

/* Reads the TLS files named in opts (both or neither). */
static int read_tls(wsr_sim *s, const wsr_sim_opts *opts, char **err)
{
	const char *files[2] = {opts->tls_cert_file, opts->tls_key_file};
	char **pem[2] = {&s->tls_cert, &s->tls_key};
	size_t len;
	if (!files[0] != !files[1]) {
		*err = wsr_strdupf("--tls-cert and --tls-key go together");
		return WSR_EINVAL;
	}
	for (int i = 0; i < 2 && files[i]; i++) {
		int rc = wsr_fs_read(pem[i], &len, files[i], MAX_PEM);
		if (rc) {
			*err = wsr_strdupf("%s: cannot read: %s", files[i], wsr_strerror(rc));
			return rc;
		}
	}
	return 0;
}

/* Opens the API's data and fills in its handlers. */
static int open_api(wsr_sim *s, const wsr_sim_opts *opts, wsr_sim_server_opts *so, char **err)
{
	int rc;
	if (strcmp(opts->api, "kcp") == 0) {
		rc = wsr_kcpsim_open(&s->kcp, opts->seed_file, opts->data_dir, err);
		so->handler = wsr_kcpsim_handle;
		so->sim_handler = wsr_kcpsim_handle_sim;
		so->error = wsr_kcpsim_server_error;
		so->retry_after = 1; /* as details.retryAfterSeconds says */
		so->ctx = s->kcp;
	} else {
		rc = wsr_lbsim_open(&s->lb, opts->seed_file, opts->data_dir, err);
		so->handler = wsr_lbsim_handle;
		so->sim_handler = wsr_lbsim_handle_sim;
		so->ctx = s->lb;
	}
	return rc;
}

int wsr_sim_serve(wsr_sim **out, const wsr_sim_opts *opts, int allow_remote, char **err)
{
	*out = NULL;
	*err = NULL;
	if (!opts || opts->version != WSR_SIM_OPTS_VERSION) {
		*err = wsr_strdupf("wsr_sim_opts version %d is not supported",
				   opts ? opts->version : 0);
		return WSR_EINVAL;
	}
	if (!opts->api || (strcmp(opts->api, "loopback") != 0 && strcmp(opts->api, "kcp") != 0)) {
		*err = wsr_strdupf("--api %s: no such emulator here (loopback and kcp are)",
				   opts->api ? opts->api : "(none)");
		return WSR_EINVAL;
	}
	wsr_sim *s = calloc(1, sizeof(*s));
	if (!s)
		return WSR_ENOMEM;
	wsr_sim_server_opts so;
	memset(&so, 0, sizeof(so));
	so.listen = opts->listen;
	so.allow_remote = allow_remote;
	so.quiet = opts->quiet;
	int rc = read_tls(s, opts, err);
	so.tls_cert = s->tls_cert;
	so.tls_key = s->tls_key;
	if (!rc)
		rc = open_api(s, opts, &so, err);
	if (!rc)
		rc = wsr_sim_server_start(&s->srv, &so, err);
	if (rc) {
		wsr_sim_stop(s);
		return rc;
	}
	if (s->kcp) /* spec.URL names the address actually bound */
		wsr_kcpsim_set_url(s->kcp, wsr_sim_server_url(s->srv));
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
	wsr_lbsim_free(s->lb);
	wsr_kcpsim_free(s->kcp);
	free(s->tls_cert);
	free(s->tls_key);
	free(s);
}

const char *wsr_sim_builtin_key(const char *api)
{
	if (api && strcmp(api, "loopback") == 0)
		return WSR_LBSIM_BUILTIN_KEY;
	return api && strcmp(api, "kcp") == 0 ? WSR_KCPSIM_BUILTIN_TOKEN : NULL;
}
