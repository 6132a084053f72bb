/* watch_http: the HTTP side of `wsr watch` (libmicrohttpd): /healthz,
 * /readyz, /status, /metrics and POST /hooks/git. It serves what the loop
 * published last and wakes the loop on an authentic webhook; it never runs
 * a reconcile itself. */
#ifndef WSR_RECONCILER_WATCH_HTTP_H
#define WSR_RECONCILER_WATCH_HTTP_H
#include <stddef.h>
#include <stdint.h>

#include "lib/diag.h"
#include "reconciler/metrics.h"

/* Largest webhook body kept; a larger one is answered 413, from its
 * Content-Length when it has one, else once the bytes received pass it. */
#define WSR_WATCH_MAX_HOOK_BODY (1024 * 1024)
/* A hook refused before its body ended (too large, unsigned, no secret) is
 * answered at once only when the client waits for it (Expect:
 * 100-continue) or its Content-Length passes this much more than the
 * limit; otherwise the body is read and dropped and the answer follows it,
 * so the client reliably sees the answer. Past this many dropped bytes the
 * connection is closed. */
#define WSR_WATCH_MAX_HOOK_DRAIN (8 * 1024 * 1024)
/* /healthz fails when the loop has not called wsr_watch_http_beat for this
 * long: the loop is stuck. */
#define WSR_WATCH_STALE_MS (10 * 60 * 1000)
/* Connections open at once, in all and from one client (an IPv4 address,
 * or an IPv6 /64). A connection past either limit makes room by closing
 * the one, from that client or from anyone, that has waited longest for a
 * request and is not being answered (itself when all are being answered):
 * clients that connect and send nothing, or a byte a second, can hold
 * places only while no one else needs them, so /healthz still answers. */
#define WSR_WATCH_MAX_CONNECTIONS 64
#define WSR_WATCH_MAX_CONNECTIONS_PER_CLIENT 16
/* A connection that sends and reads nothing for this long is closed. */
#define WSR_WATCH_CONNECTION_TIMEOUT_S 10
/* At most one log line this often says how many connections were closed
 * to make room. */
#define WSR_WATCH_CLOSED_LOG_MS (60 * 1000)

typedef struct wsr_watch_http wsr_watch_http;

typedef struct wsr_watch_http_opts {
	/* "127.0.0.1:9464", "[::1]:9464", "localhost:9464"; ":9464" listens on
	 * every IPv4 interface. Port 0 picks a free port (wsr_watch_http_port). */
	const char *listen;
	/* The webhook secret (copied); NULL or empty: every hook is 401. */
	const char *secret;
	size_t secret_len;
	wsr_metrics *metrics; /* borrowed; NULL: /metrics is 503 */
	/* Called from the server thread for each authentic hook; must return
	 * quickly (wake the loop, do not reconcile). */
	void (*hook)(void *arg);
	void *arg;
	int64_t stale_ms; /* heartbeat age that fails /healthz; 0: WSR_WATCH_STALE_MS */
} wsr_watch_http_opts;

/* Starts serving on o->listen. A malformed address or a bind failure is an
 * error diagnostic ("cannot listen on ADDR: reason") and WSR_EINVAL or
 * WSR_EIO. The server's threads start with SIGINT, SIGTERM and SIGHUP
 * blocked, so those signals reach the caller's threads. The heartbeat
 * starts fresh; /readyz and /status answer 503 until the first publish. */
int wsr_watch_http_start(wsr_watch_http **out, const wsr_watch_http_opts *o, wsr_diag *diag);

/* The port served (the one picked, for port 0). */
int wsr_watch_http_port(const wsr_watch_http *h);

/* The loop is alive (monotonic clock). */
void wsr_watch_http_beat(wsr_watch_http *h);

/* Replaces what /status and /readyz answer: status_json (copied; NULL keeps
 * the last one), ready (1: 200) and, when not ready, the reason /readyz
 * gives (copied; NULL: "not ready"). */
void wsr_watch_http_publish(wsr_watch_http *h, const char *status_json, int ready,
			    const char *not_ready_reason);

/* watch.ha: what the election says now, kept apart from what the loop
 * publishes because it changes while the loop is busy (a reconcile can run
 * for as long as an upgrade takes): /status answers ha_json (copied; NULL
 * none) as its "ha" member, and /readyz answers 503 with not_ready (copied;
 * NULL: the election has nothing against readiness) before anything the
 * loop published. Any thread may call it. */
void wsr_watch_http_publish_ha(wsr_watch_http *h, const char *ha_json, const char *not_ready);

/* Stops serving (waits for the server thread) and frees h. NULL is fine. */
void wsr_watch_http_stop(wsr_watch_http *h);
#endif
