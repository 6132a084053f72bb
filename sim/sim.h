/* sim: emulators of the platforms' APIs, served over real HTTP by
 * libmicrohttpd. This header is the one door into them: bin/wsr-sim uses it,
 * and so does the engine for `endpoint: embedded`. An emulator is the other
 * side of the wire: it depends on lib/ only and never on providers or the
 * reconciler. */
#ifndef WSR_SIM_H
#define WSR_SIM_H

typedef struct wsr_sim wsr_sim;

typedef struct wsr_sim_opts {
	int version;	       /* WSR_SIM_OPTS_VERSION */
	const char *api;       /* "loopback" or "kcp" */
	const char *listen;    /* "127.0.0.1:0" picks a free port */
	const char *seed_file; /* YAML seed; NULL for the built-in seed */
	const char *data_dir;  /* where platform data persists; created if missing */
	int quiet;	       /* no request log on stderr */
	/* PEM files to serve HTTPS with (both or neither; NULL: plain HTTP).
	 * kubectl sends its bearer token only over HTTPS. */
	const char *tls_cert_file, *tls_key_file;
} wsr_sim_opts;

#define WSR_SIM_OPTS_VERSION 1
#define WSR_SIM_OPTS_INIT                                                                          \
	{                                                                                          \
		WSR_SIM_OPTS_VERSION, "loopback", "127.0.0.1:0", NULL, NULL, 1, NULL, NULL         \
	}

/* Starts an emulator serving on its own threads. Loads data from data_dir,
 * or seeds it when empty. On failure returns an error and *err (caller
 * frees) says why. */
int wsr_sim_start(wsr_sim **out, const wsr_sim_opts *opts, char **err);

/* "http://127.0.0.1:PORT" ("https://..." with TLS) */
const char *wsr_sim_url(const wsr_sim *s);

/* Stops serving and frees everything; data already persisted stays. */
void wsr_sim_stop(wsr_sim *s);

/* The administrator API key (kcp: bearer token) of the built-in seed for
 * that api, which the engine hands the provider when it starts the embedded
 * platform; NULL for an api there is no emulator of. */
const char *wsr_sim_builtin_key(const char *api);
#endif
