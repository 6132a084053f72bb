/* server: the HTTP side of an emulator, on libmicrohttpd: binding (loopback
 * only unless asked), request bodies with a size limit, JSON responses and
 * errors, the request counter behind /_sim/stats, the emulator-only /_sim/
 * paths (for loopback clients only), and the request log. An
 * API (sim/loopback/) sees only wsr_sim_req and wsr_sim_resp, so it never
 * touches libmicrohttpd and its handlers can be driven by unit tests. */
#ifndef WSR_SIM_SERVER_H
#define WSR_SIM_SERVER_H
#include <stddef.h>

#include <cJSON.h>

#include "sim/sim.h"

/* Largest request body accepted; larger ones are 413 payload_too_large. */
#define WSR_SIM_MAX_BODY (1024u * 1024)

typedef struct wsr_sim_req {
	const char *method; /* "GET", "POST", ... */
	const char *path;   /* "/v1/principal" (no query string) */
	const char *body;   /* NUL-terminated; "" when none */
	size_t len;
	void *conn; /* the libmicrohttpd connection; NULL in unit tests */
	/* unit tests may set these instead of conn: NULL-terminated name, value pairs */
	const char *const *headers;
	const char *const *query;
} wsr_sim_req;

/* A connection whose answer is a stream (a Kubernetes watch): the stream
 * suspends it when it has nothing to send and resumes it when it has. */
typedef struct wsr_sim_conn wsr_sim_conn;

/* The end of a stream, as a wsr_sim_stream_fn returns it. */
#define WSR_SIM_STREAM_END (-1L)

/* Writes the next bytes of a stream into buf (at most max): the count; 0
 * when there is nothing now, after calling wsr_sim_conn_suspend(conn) (conn
 * is NULL in unit tests: they call again); or WSR_SIM_STREAM_END. Runs on
 * libmicrohttpd's threads, one call at a time per stream. */
typedef long (*wsr_sim_stream_fn)(void *ctx, wsr_sim_conn *conn, char *buf, size_t max);

typedef struct wsr_sim_resp {
	int status;
	char *body;	   /* heap JSON text, owned by the response */
	const char *allow; /* Allow header for 405, or NULL */
	/* Set instead of body: the answer is a stream of JSON (chunked) that
	 * stream writes; stream_free(stream_ctx) runs exactly once when the
	 * connection is done with it (or the answer cannot be sent). */
	wsr_sim_stream_fn stream;
	void *stream_ctx;
	void (*stream_free)(void *ctx);
	/* Injected faults: seconds of a Retry-After header (0: the server's
	 * own rule), and "close the connection without answering" (a reset:
	 * the client reads nothing, and cannot tell whether it was served). */
	unsigned retry_after;
	int reset;
	/* A slow fault: the server waits delay_ms before sending the answer,
	 * or, with wait_first, before calling the handler again to serve the
	 * request, on a fresh response with faults_taken set (the one field a
	 * handler reads: take no fault this time). The server waits, not the
	 * handler, so a handler driven without a server (unit tests, fuzzing)
	 * never sleeps. */
	long delay_ms;
	int wait_first, faults_taken;
} wsr_sim_resp;

/* Stops and restarts the calls of a stream's function (no-ops for NULL).
 * Safe from any thread; resume after the server stopped does nothing. */
void wsr_sim_conn_suspend(wsr_sim_conn *c);
void wsr_sim_conn_resume(wsr_sim_conn *c);

/* A request header (case-insensitive name) or query argument; NULL when absent. */
const char *wsr_sim_req_header(const wsr_sim_req *r, const char *name);
const char *wsr_sim_req_query(const wsr_sim_req *r, const char *name);
/* Every value of a header sent more than once (Impersonate-Group), in the
 * order sent: up to max of them into out; returns how many there are. */
size_t wsr_sim_req_header_all(const wsr_sim_req *r, const char *name, const char **out, size_t max);

/* Parses a count from a query argument (?limit=): decimal digits only, at
 * most one more digit than max has, from 1 to max. 0 and *out, or
 * WSR_EINVAL. */
int wsr_sim_query_count(const char *s, size_t max, size_t *out);

/* A body that is no JSON object or list goes out as text/plain (kcp's
 * http.Error answers); JSON as application/json. */

/* Sets the response to v printed (v is deleted). Out of memory becomes a 503. */
void wsr_sim_resp_json(wsr_sim_resp *r, int status, cJSON *v);
/* Sets the response to {"error": {"code", "message"}}. */
void wsr_sim_resp_error(wsr_sim_resp *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Frees the body, and a stream that was never handed to a connection. */
void wsr_sim_resp_free(wsr_sim_resp *r);

/* Sets the response to an error in an API's own shape; code is the
 * snake_case word wsr_sim_resp_error would use ("payload_too_large"). */
typedef void (*wsr_sim_error_fn)(wsr_sim_resp *r, int status, const char *code, const char *msg);

/* Answers one request; runs on libmicrohttpd's threads, concurrently. */
typedef void (*wsr_sim_handler)(void *ctx, const wsr_sim_req *req, wsr_sim_resp *resp);

typedef struct wsr_sim_server_opts {
	const char *listen; /* "127.0.0.1:0", "[::1]:8080", "localhost:0" */
	int allow_remote;   /* permit a non-loopback address */
	int quiet;	    /* no request log */
	wsr_sim_handler handler;
	void *ctx;
	/* The API's own /_sim/... endpoints (other than /_sim/stats), or NULL.
	 * They are answered only to clients on a loopback address and are not
	 * counted in /_sim/stats. */
	wsr_sim_handler sim_handler;
	/* The shape of the errors the server itself answers (413, 405 and 404
	 * on /_sim, 500); NULL: wsr_sim_resp_error's. */
	wsr_sim_error_fn error;
	/* PEM certificate (chain) and private key to serve HTTPS with; both
	 * NULL: plain HTTP. Kubernetes clients (kubectl) send a bearer token
	 * only over TLS. */
	const char *tls_cert, *tls_key;
	/* Seconds of a Retry-After header on every 429 and 503; 0: none. */
	unsigned retry_after;
} wsr_sim_server_opts;

typedef struct wsr_sim_server wsr_sim_server;

/* Binds exactly the address given and serves on libmicrohttpd's threads.
 * Refuses a non-loopback address unless allow_remote. *err (caller frees)
 * says why on failure. */
int wsr_sim_server_start(wsr_sim_server **out, const wsr_sim_server_opts *o, char **err);
/* The port actually bound (the free one chosen for port 0). */
unsigned wsr_sim_server_port(const wsr_sim_server *s);
/* "http://127.0.0.1:PORT" ("http://[::1]:PORT" for IPv6; https with TLS). */
const char *wsr_sim_server_url(const wsr_sim_server *s);
/* Ends every open stream (libmicrohttpd refuses to stop with a suspended
 * connection), then stops serving. */
void wsr_sim_server_stop(wsr_sim_server *s);

/* wsr_sim_start with the loopback-only rule under the caller's control, for
 * wsr-sim's --allow-remote. Declared here because sim/sim.h is shared and
 * its options carry no such switch. */
int wsr_sim_serve(wsr_sim **out, const wsr_sim_opts *opts, int allow_remote, char **err);
#endif
