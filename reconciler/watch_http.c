/* watch_http: the endpoints of `wsr watch` on libmicrohttpd, and who may
 * hold a connection to them. One internal polling thread serves every
 * connection (the answers are tiny and the hook only wakes the loop), so
 * requests never run concurrently with each other and the connection table
 * is the server thread's alone; the loop publishes under a mutex. Separate
 * from watch.c so the loop knows nothing of HTTP and this file nothing of
 * reconciling. */
#include "reconciler/watch_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/net.h"
#include "reconciler/webhook.h"

#define TEXT "text/plain; charset=utf-8"
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* One open connection, from its accept to its close (libmicrohttpd's
 * socket context). Touched only by the server thread. */
typedef struct conn {
	struct conn *prev, *next;
	int fd;
	unsigned char client[17]; /* family, then the IPv4 address or IPv6 /64 */
	int64_t waiting_ms;	  /* monotonic: accepted, or its last answer ended */
	int answering;		  /* a response is queued: not to be closed */
	int closing;		  /* shut down by admit(), not yet closed by MHD */
} conn;

struct wsr_watch_http {
	struct MHD_Daemon *d;
	conn *conns, *conns_tail; /* oldest first; the server thread's */
	unsigned closed;	  /* closed by admit() since the last log line */
	int64_t closed_log_ms;	  /* when that line was written */
	int port;
	char *secret; /* NULL: hooks are refused */
	size_t secret_len;
	wsr_metrics *metrics;
	void (*hook)(void *arg);
	void *arg;
	int64_t stale_ms;
	atomic_llong beat_ms; /* monotonic */
	pthread_mutex_t mu;   /* guards what follows */
	char *status;	      /* NULL until the first publish */
	char *reason;	      /* why not ready; may be NULL */
	int published, ready;
	char *ha;	 /* watch.ha: the status's "ha" member; NULL: none */
	char *ha_reason; /* ... and why the election makes it not ready; NULL: it does not */
};

/* One request's state between libmicrohttpd's calls. */
typedef struct request {
	wsr_buf body;
	int answered;	  /* a response was queued before the body ended */
	unsigned refused; /* the status to answer when the body ends (0: none) */
	char why[64];	  /* ... and why */
	size_t discarded; /* bytes dropped since it was refused */
} request;

static conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
			     const char *body, const char *allow)
{
	conn *k = conn_of(c);
	if (k)
		k->answering = 1;
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void client_address(struct MHD_Connection *c, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	snprintf(out, len, "?");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
			  (socklen_t)len);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
			  (socklen_t)len);
}

/* A refused hook is counted and logged (why, from where; never a header's
 * value). */
static void note_refusal(wsr_watch_http *h, struct MHD_Connection *c, unsigned status,
			 const char *why)
{
	char from[INET6_ADDRSTRLEN];
	client_address(c, from, sizeof(from));
	wsr_log(WSR_LOG_WARN, "webhook from %s refused (%u): %s", from, status, why);
	if (h->metrics)
		wsr_metrics_error(h->metrics, "webhook");
}

/* ... and answered with why, never with what was expected. */
static enum MHD_Result refuse(wsr_watch_http *h, struct MHD_Connection *c, unsigned status,
			      const char *why)
{
	note_refusal(h, c, status, why);
	char body[128];
	snprintf(body, sizeof(body), "%s\n", why);
	return reply(c, status, TEXT, body, NULL);
}

/* "body larger than N bytes", into why (64 bytes) */
static const char *too_large(char *why, size_t len)
{
	snprintf(why, len, "body larger than %d bytes", WSR_WATCH_MAX_HOOK_BODY);
	return why;
}

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* Whether a request refused from its headers is answered before its body.
 * A client that sent "Expect: 100-continue" waits for the answer and sends
 * no body; so does one whose Content-Length passes what is drained anyway.
 * Any other client is sending the body already: this libmicrohttpd (0.9.75)
 * stops reading once an answer is queued and then closes, and a close with
 * bytes unread resets the connection, so depending on timing the client
 * lost the answer ("broken pipe" instead of 413). Its body is read and
 * dropped, and the answer follows it. */
static int answer_now(struct MHD_Connection *c, const char *cl)
{
	const char *expect = header(c, MHD_HTTP_HEADER_EXPECT);
	if (expect && strcasecmp(expect, "100-continue") == 0)
		return 1;
	return cl && strtoull(cl, NULL, 10) > WSR_WATCH_MAX_HOOK_BODY + WSR_WATCH_MAX_HOOK_DRAIN;
}

/* The rest of the body is dropped unread, and answered status, why, at its end. */
static void refuse_at_end(request *rq, unsigned status, const char *why)
{
	rq->refused = status;
	snprintf(rq->why, sizeof(rq->why), "%s", why);
	wsr_buf_free(&rq->body);
}

/* What can be refused from the headers alone, before reading any body. */
static enum MHD_Result hook_headers(wsr_watch_http *h, struct MHD_Connection *c, request *rq)
{
	const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH), *why = NULL;
	unsigned status = MHD_HTTP_UNAUTHORIZED;
	char big[64];
	if (cl && strtoull(cl, NULL, 10) > WSR_WATCH_MAX_HOOK_BODY) {
		status = MHD_HTTP_CONTENT_TOO_LARGE;
		why = too_large(big, sizeof(big));
	} else if (!h->secret) {
		why = "no webhook secret configured";
	} else if (!header(c, "X-Hub-Signature-256") && !header(c, "X-Gitlab-Token")) {
		why = "missing signature";
	}
	if (!why)
		return MHD_YES; /* read the body */
	if (answer_now(c, cl)) {
		rq->answered = 1;
		return refuse(h, c, status, why);
	}
	note_refusal(h, c, status, why);
	refuse_at_end(rq, status, why);
	return MHD_YES;
}

static enum MHD_Result hook_body(wsr_watch_http *h, struct MHD_Connection *c, request *rq)
{
	if (wsr_buf_failed(&rq->body))
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, TEXT, "out of memory\n", NULL);
	if (!wsr_webhook_verify(h->secret, h->secret_len, header(c, "X-Hub-Signature-256"),
				header(c, "X-Gitlab-Token"), rq->body.data, rq->body.len))
		return refuse(h, c, MHD_HTTP_UNAUTHORIZED, "bad signature");
	if (h->hook)
		h->hook(h->arg);
	return reply(c, MHD_HTTP_ACCEPTED, TEXT, "accepted\n", NULL);
}

static enum MHD_Result healthz(wsr_watch_http *h, struct MHD_Connection *c)
{
	long long age = (long long)(wsr_clock_mono_ms() - atomic_load(&h->beat_ms));
	if (age < h->stale_ms)
		return reply(c, MHD_HTTP_OK, TEXT, "ok\n", NULL);
	char body[96];
	snprintf(body, sizeof(body), "stalled: the watch loop's last heartbeat was %llds ago\n",
		 age / 1000);
	return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, TEXT, body, NULL);
}

static enum MHD_Result readyz(wsr_watch_http *h, struct MHD_Connection *c)
{
	pthread_mutex_lock(&h->mu);
	int ready = h->published && h->ready && !h->ha_reason;
	char *body = h->ha_reason	   ? wsr_strdupf("not ready: %s\n", h->ha_reason)
		     : !h->published	   ? strdup("not ready: no reconcile has finished yet\n")
		     : ready || !h->reason ? NULL
					   : wsr_strdupf("not ready: %s\n", h->reason);
	pthread_mutex_unlock(&h->mu);
	if (ready)
		return reply(c, MHD_HTTP_OK, TEXT, "ready\n", NULL);
	enum MHD_Result ret =
	    reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, TEXT, body ? body : "not ready\n", NULL);
	free(body);
	return ret;
}

static enum MHD_Result status(wsr_watch_http *h, struct MHD_Connection *c)
{
	pthread_mutex_lock(&h->mu);
	size_t len = h->status ? strlen(h->status) : 0;
	char *body = NULL;
	if (h->status && h->ha && len && h->status[len - 1] == '}') /* an object: add "ha" */
		body = wsr_strdupf("%.*s%s\"ha\":%s}\n", (int)(len - 1), h->status,
				   len > 2 ? "," : "", h->ha);
	else if (h->status)
		body = wsr_strdupf("%s\n", h->status);
	int have = h->status != NULL;
	pthread_mutex_unlock(&h->mu);
	if (!body)
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, TEXT,
			     have ? "out of memory\n" : "no status yet: the loop is starting\n",
			     NULL);
	enum MHD_Result ret = reply(c, MHD_HTTP_OK, "application/json", body, NULL);
	free(body);
	return ret;
}

static enum MHD_Result metrics(wsr_watch_http *h, struct MHD_Connection *c)
{
	char *text = h->metrics ? wsr_metrics_render(h->metrics) : NULL;
	if (!text)
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, TEXT,
			     h->metrics ? "out of memory\n" : "no metrics\n", NULL);
	enum MHD_Result ret = reply(c, MHD_HTTP_OK, METRICS_TYPE, text, NULL);
	free(text);
	return ret;
}

static int is_get(const char *method)
{
	return strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	       strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

/* The first call of a request (headers only): every GET is answered here. */
static enum MHD_Result route(wsr_watch_http *h, struct MHD_Connection *c, const char *url,
			     const char *method, request *rq)
{
	static const struct {
		const char *path;
		enum MHD_Result (*fn)(wsr_watch_http *, struct MHD_Connection *);
	} gets[] = {
	    {"/healthz", healthz}, {"/readyz", readyz}, {"/status", status}, {"/metrics", metrics}};
	if (strcmp(url, "/hooks/git") == 0) {
		if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
			return hook_headers(h, c, rq);
		rq->answered = 1;
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, TEXT, "method not allowed\n",
			     MHD_HTTP_METHOD_POST);
	}
	rq->answered = 1;
	for (size_t i = 0; i < sizeof(gets) / sizeof(gets[0]); i++) {
		if (strcmp(url, gets[i].path) != 0)
			continue;
		if (!is_get(method))
			return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, TEXT, "method not allowed\n",
				     "GET, HEAD");
		return gets[i].fn(h, c);
	}
	return reply(c, MHD_HTTP_NOT_FOUND, TEXT, "not found\n", NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	(void)version;
	wsr_watch_http *h = cls;
	request *rq = *con_cls;
	if (!rq) {
		if (!(rq = calloc(1, sizeof(*rq))))
			return MHD_NO;
		*con_cls = rq;
		return route(h, c, url, method, rq);
	}
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (rq->answered) /* libmicrohttpd discards the rest */
			return MHD_YES;
		if (rq->refused) {
			rq->discarded += n;
			/* not a webhook: stop reading rather than drain it forever */
			return rq->discarded > WSR_WATCH_MAX_HOOK_DRAIN ? MHD_NO : MHD_YES;
		}
		if (rq->body.len + n > WSR_WATCH_MAX_HOOK_BODY) {
			/* A body without Content-Length (chunked) passed the limit:
			 * dropped and answered at its end (answer_now says why). */
			char why[64];
			note_refusal(h, c, MHD_HTTP_CONTENT_TOO_LARGE, too_large(why, sizeof(why)));
			refuse_at_end(rq, MHD_HTTP_CONTENT_TOO_LARGE, why);
			rq->discarded = n;
			return MHD_YES;
		}
		wsr_buf_add(&rq->body, upload, n);
		return MHD_YES;
	}
	if (rq->answered)
		return MHD_YES;
	rq->answered = 1;
	if (rq->refused) { /* counted and logged when it was refused */
		char body[sizeof(rq->why) + 1];
		snprintf(body, sizeof(body), "%s\n", rq->why);
		return reply(c, rq->refused, TEXT, body, NULL);
	}
	return hook_body(h, c, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode t)
{
	(void)cls;
	(void)t;
	conn *k = conn_of(c);
	if (k) { /* a kept-alive connection waits for its next request from now */
		k->answering = 0;
		k->waiting_ms = wsr_clock_mono_ms();
	}
	request *rq = *con_cls;
	if (rq) {
		wsr_buf_free(&rq->body);
		free(rq);
	}
	*con_cls = NULL;
}

/* ---- who may hold a connection ---- */

/* Who a connection is from, for the per-client limit: the IPv4 address
 * (also when it comes IPv4-mapped, ::ffff:a.b.c.d), or the /64 of an IPv6
 * one (one host is given a whole /64, so counting its addresses one by one
 * would bound nothing). */
static void client_key(struct MHD_Connection *c, unsigned char key[17])
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	memset(key, 0, 17);
	if (sa && sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		int mapped = IN6_IS_ADDR_V4MAPPED(a6);
		key[0] = mapped ? 4 : 6;
		memcpy(key + 1, a6->s6_addr + (mapped ? 12 : 0), mapped ? 4 : 8);
	}
}

/* The connection, of those from client (NULL: from anyone), that has
 * waited longest for a request to finish and is not being answered (the
 * newest, just accepted, only when no other can be); NULL when all are
 * being answered. Sets *count to how many are open from client. */
static conn *longest_waiting(wsr_watch_http *h, const unsigned char *client, unsigned *count)
{
	conn *best = NULL;
	*count = 0;
	for (conn *k = h->conns; k; k = k->next) {
		if (k->closing || (client && memcmp(k->client, client, sizeof(k->client)) != 0))
			continue;
		++*count;
		if (!k->answering && (!best || k->waiting_ms < best->waiting_ms))
			best = k;
	}
	return best;
}

static void shut(wsr_watch_http *h, conn *k)
{
	/* libmicrohttpd sees the end of the stream and closes it as usual;
	 * close(2) here would free the descriptor under its feet */
	shutdown(k->fd, SHUT_RDWR);
	k->closing = 1;
	h->closed++;
	int64_t now = wsr_clock_mono_ms();
	if (h->closed_log_ms && now - h->closed_log_ms < WSR_WATCH_CLOSED_LOG_MS)
		return; /* a flood of slow clients must not become a flood of lines */
	wsr_log(WSR_LOG_WARN,
		"http: closed %u connection(s) waiting for a request, to admit newer ones (at "
		"most %d open from one client, %d in all)",
		h->closed, WSR_WATCH_MAX_CONNECTIONS_PER_CLIENT, WSR_WATCH_MAX_CONNECTIONS);
	h->closed = 0;
	h->closed_log_ms = now;
}

/* Makes room for the newly accepted n. A client past its share, or the
 * server past its total, loses the connection that has waited longest for
 * a request: one that trickles or sends nothing can hold a place only
 * while nobody else needs it, so /healthz answers whoever holds the other
 * places. (libmicrohttpd's own per-IP limit would refuse the newcomer
 * instead: a probe from the attacker's address, a shared node or NAT, would
 * fail while the stalled connections stay.) */
static void admit(wsr_watch_http *h, conn *n)
{
	unsigned count;
	conn *k = longest_waiting(h, n->client, &count);
	if (count > WSR_WATCH_MAX_CONNECTIONS_PER_CLIENT)
		shut(h, k ? k : n);
	if (n->closing)
		return;
	k = longest_waiting(h, NULL, &count);
	if (count > WSR_WATCH_MAX_CONNECTIONS)
		shut(h, k ? k : n);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	wsr_watch_http *h = cls;
	conn *k = *socket_context;
	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (!k)
			return;
		*(k->prev ? &k->prev->next : &h->conns) = k->next;
		*(k->next ? &k->next->prev : &h->conns_tail) = k->prev;
		free(k);
		*socket_context = NULL;
		return;
	}
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return;
	if (!(k = calloc(1, sizeof(*k)))) { /* untracked, it could never be evicted */
		shutdown(ci->connect_fd, SHUT_RDWR);
		return;
	}
	k->fd = ci->connect_fd;
	client_key(c, k->client);
	k->waiting_ms = wsr_clock_mono_ms();
	k->prev = h->conns_tail;
	*(h->conns_tail ? &h->conns_tail->next : &h->conns) = k;
	h->conns_tail = k;
	*socket_context = k;
	admit(h, k);
}

/* libmicrohttpd says only that it failed (its error log is off: it would
 * write to stderr in its own words); binding the address ourselves tells
 * why, in the system's words. */
static const char *bind_reason(const wsr_net_addr *a, char *buf, size_t len)
{
	int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	snprintf(buf, len, "the HTTP server did not start");
	if (fd < 0) {
		snprintf(buf, len, "%s", strerror(errno));
		return buf;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) != 0)
		snprintf(buf, len, "%s", strerror(errno));
	close(fd);
	return buf;
}

int wsr_watch_http_start(wsr_watch_http **out, const wsr_watch_http_opts *o, wsr_diag *diag)
{
	*out = NULL;
	wsr_net_addr a;
	if (wsr_net_parse_listen(&a, o->listen, 1) != 0) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL,
			     "expected HOST:PORT with a numeric address, for example "
			     "127.0.0.1:9464, [::1]:9464 or :9464 (every interface)",
			     "cannot listen on %s: not an address and port",
			     o->listen ? o->listen : "(none)");
		return WSR_EINVAL;
	}
	wsr_watch_http *h = calloc(1, sizeof(*h));
	if (!h || pthread_mutex_init(&h->mu, NULL) != 0) {
		free(h);
		return WSR_ENOMEM;
	}
	if (o->secret && o->secret_len) {
		if (!(h->secret = malloc(o->secret_len))) {
			wsr_watch_http_stop(h);
			return WSR_ENOMEM;
		}
		memcpy(h->secret, o->secret, o->secret_len);
		h->secret_len = o->secret_len;
	}
	h->metrics = o->metrics;
	h->hook = o->hook;
	h->arg = o->arg;
	h->stale_ms = o->stale_ms > 0 ? o->stale_ms : WSR_WATCH_STALE_MS;
	atomic_init(&h->beat_ms, wsr_clock_mono_ms());

	/* Threads inherit the signal mask: the server's must not take the
	 * signals the loop waits for. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	h->d = MHD_start_daemon(
	    MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | (a.ipv6 ? MHD_USE_IPv6 : 0), 0, NULL,
	    NULL, on_request, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a.ss,
	    /* one more than ours, so the one that makes room is accepted */
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)WSR_WATCH_MAX_CONNECTIONS + 1,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WSR_WATCH_CONNECTION_TIMEOUT_S,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, h, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, h, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	const union MHD_DaemonInfo *info =
	    h->d ? MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
	if (!info) {
		char why[128];
		wsr_diag_error(diag, NULL, "cannot listen on %s: %s", o->listen,
			       bind_reason(&a, why, sizeof(why)));
		wsr_watch_http_stop(h);
		return WSR_EIO;
	}
	h->port = info->port;
	*out = h;
	return 0;
}

int wsr_watch_http_port(const wsr_watch_http *h)
{
	return h->port;
}

void wsr_watch_http_beat(wsr_watch_http *h)
{
	atomic_store(&h->beat_ms, wsr_clock_mono_ms());
}

void wsr_watch_http_publish(wsr_watch_http *h, const char *status_json, int ready,
			    const char *not_ready_reason)
{
	/* a failed copy keeps the last status rather than none */
	char *st = status_json ? strdup(status_json) : NULL;
	char *why = ready ? NULL : strdup(not_ready_reason ? not_ready_reason : "not ready");
	pthread_mutex_lock(&h->mu);
	if (st) {
		free(h->status);
		h->status = st;
	}
	free(h->reason);
	h->reason = why;
	h->ready = ready != 0;
	h->published = 1;
	pthread_mutex_unlock(&h->mu);
}

void wsr_watch_http_publish_ha(wsr_watch_http *h, const char *ha_json, const char *not_ready)
{
	char *ha = ha_json ? strdup(ha_json) : NULL;
	char *why = not_ready ? strdup(not_ready) : NULL;
	if (not_ready && !why)
		why = strdup("out of memory"); /* NULL would read as ready */
	pthread_mutex_lock(&h->mu);
	if (ha || !ha_json) { /* a failed copy keeps the last one */
		free(h->ha);
		h->ha = ha;
	}
	free(h->ha_reason);
	h->ha_reason = why;
	pthread_mutex_unlock(&h->mu);
}

void wsr_watch_http_stop(wsr_watch_http *h)
{
	if (!h)
		return;
	if (h->d)
		MHD_stop_daemon(h->d);
	if (h->secret) {
		OPENSSL_cleanse(h->secret, h->secret_len);
		free(h->secret);
	}
	free(h->status);
	free(h->reason);
	free(h->ha);
	free(h->ha_reason);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
