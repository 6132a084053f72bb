/* server: libmicrohttpd plumbing shared by every emulated API. Bodies are
 * gathered with the con_cls pattern; a declared Content-Length over the
 * limit is refused before any byte is read, and a body that grows past it
 * (chunked uploads) is drained and refused at the end. Streamed answers
 * (watches) come from a content-reader callback; a stream with nothing to
 * send suspends its connection, so it holds none of the pool's threads. */
#include "sim/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/net.h"

#define THREADS 4		/* concurrent requests; the API serializes on its store anyway */
#define CONNECTION_TIMEOUT_S 30 /* idle keep-alive connections are closed after this */

struct wsr_sim_server {
	struct MHD_Daemon *d;
	wsr_sim_handler handler, sim_handler;
	wsr_sim_error_fn error;
	unsigned retry_after;
	void *ctx;
	int quiet;
	unsigned port;
	atomic_ulong requests;
	char url[WSR_NET_HOST_MAX + 48];
	pthread_mutex_t streams_mu; /* guards streams, stopping and each suspended flag */
	wsr_sim_conn *streams;	    /* the open ones */
	int stopping;
};

struct wsr_sim_conn {
	wsr_sim_server *s;
	struct MHD_Connection *c;
	wsr_sim_stream_fn fn;
	void *ctx;
	void (*free)(void *ctx);
	int suspended;
	wsr_sim_conn *prev, *next;
};

typedef struct conn_state {
	wsr_buf body;
	int too_large;
} conn_state;

static const char *lookup(const char *const *pairs, const char *name, int nocase)
{
	for (; pairs && pairs[0]; pairs += 2)
		if (nocase ? strcasecmp(pairs[0], name) == 0 : strcmp(pairs[0], name) == 0)
			return pairs[1];
	return NULL;
}

const char *wsr_sim_req_header(const wsr_sim_req *r, const char *name)
{
	if (r->conn)
		return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
	return lookup(r->headers, name, 1);
}

typedef struct header_all {
	const char *name;
	const char **out;
	size_t max, n;
} header_all;

static enum MHD_Result collect_header(void *ctx, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	header_all *h = ctx;
	(void)kind;
	if (key && value && strcasecmp(key, h->name) == 0 && h->n++ < h->max)
		h->out[h->n - 1] = value;
	return MHD_YES;
}

size_t wsr_sim_req_header_all(const wsr_sim_req *r, const char *name, const char **out, size_t max)
{
	header_all h = {name, out, max, 0};
	if (r->conn) {
		MHD_get_connection_values(r->conn, MHD_HEADER_KIND, collect_header, &h);
		return h.n;
	}
	for (const char *const *p = r->headers; p && p[0]; p += 2)
		collect_header(&h, MHD_HEADER_KIND, p[0], p[1]);
	return h.n;
}

const char *wsr_sim_req_query(const wsr_sim_req *r, const char *name)
{
	if (r->conn)
		return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
	return lookup(r->query, name, 0);
}

int wsr_sim_query_count(const char *s, size_t max, size_t *out)
{
	size_t n = 0, v = 0, digits = 1;
	for (size_t m = max; m >= 10; m /= 10)
		digits++;
	for (; s[n]; n++) {
		if (s[n] < '0' || s[n] > '9' || n > digits)
			return WSR_EINVAL;
		v = v * 10 + (size_t)(s[n] - '0');
	}
	if (n == 0 || v < 1 || v > max)
		return WSR_EINVAL;
	*out = v;
	return 0;
}

static const char oom_body[] =
    "{\"error\":{\"code\":\"unavailable\",\"message\":\"out of memory\"}}";

void wsr_sim_resp_json(wsr_sim_resp *r, int status, cJSON *v)
{
	free(r->body);
	r->body = v ? cJSON_PrintUnformatted(v) : NULL;
	r->status = status;
	cJSON_Delete(v);
	if (!r->body) {
		r->status = 503;
		r->body = strdup(oom_body);
	}
}

void wsr_sim_resp_error(wsr_sim_resp *r, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON *v = cJSON_CreateObject();
	cJSON *e = cJSON_AddObjectToObject(v, "error");
	if (!cJSON_AddStringToObject(e, "code", code) ||
	    !cJSON_AddStringToObject(e, "message", msg)) {
		cJSON_Delete(v);
		v = NULL;
	}
	wsr_sim_resp_json(r, status, v);
}

void wsr_sim_resp_free(wsr_sim_resp *r)
{
	free(r->body);
	r->body = NULL;
	if (r->stream && r->stream_free)
		r->stream_free(r->stream_ctx);
	r->stream = NULL;
	r->stream_ctx = NULL;
}

void wsr_sim_conn_suspend(wsr_sim_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->s->streams_mu);
	if (!c->s->stopping && !c->suspended) {
		MHD_suspend_connection(c->c);
		c->suspended = 1;
	}
	pthread_mutex_unlock(&c->s->streams_mu);
}

void wsr_sim_conn_resume(wsr_sim_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->s->streams_mu);
	if (c->suspended) {
		MHD_resume_connection(c->c);
		c->suspended = 0;
	}
	pthread_mutex_unlock(&c->s->streams_mu);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	wsr_sim_conn *c = cls;
	pthread_mutex_lock(&c->s->streams_mu);
	int stopping = c->s->stopping;
	pthread_mutex_unlock(&c->s->streams_mu);
	long n = stopping ? WSR_SIM_STREAM_END : c->fn(c->ctx, c, buf, max);
	return n < 0 ? (ssize_t)MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

static void stream_done(void *cls)
{
	wsr_sim_conn *c = cls;
	pthread_mutex_lock(&c->s->streams_mu);
	if (c->prev)
		c->prev->next = c->next;
	else
		c->s->streams = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&c->s->streams_mu);
	c->free(c->ctx);
	free(c);
}

/* A chunked response that r's stream writes (taken over); NULL when out of
 * memory (the stream is freed). */
static struct MHD_Response *stream_response(wsr_sim_server *s, struct MHD_Connection *mc,
					    wsr_sim_resp *r)
{
	wsr_sim_conn *c = calloc(1, sizeof(*c));
	struct MHD_Response *m = NULL;
	if (c) {
		*c = (wsr_sim_conn){s, mc, r->stream, r->stream_ctx, r->stream_free, 0, NULL, NULL};
		m = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, c,
						      stream_done);
	}
	if (!m) {
		free(c);
		return NULL; /* the caller's wsr_sim_resp_free frees the stream */
	}
	r->stream = NULL; /* the connection owns it now */
	pthread_mutex_lock(&s->streams_mu);
	c->next = s->streams;
	if (s->streams)
		s->streams->prev = c;
	s->streams = c;
	pthread_mutex_unlock(&s->streams_mu);
	return m;
}

/* An error the server answers itself, in the API's shape. */
static void server_error(const wsr_sim_server *s, wsr_sim_resp *r, int status, const char *code,
			 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void server_error(const wsr_sim_server *s, wsr_sim_resp *r, int status, const char *code,
			 const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->error)
		s->error(r, status, code, msg);
	else
		wsr_sim_resp_error(r, status, code, "%s", msg);
}

static enum MHD_Result send_resp(wsr_sim_server *s, struct MHD_Connection *c, wsr_sim_resp *r)
{
	struct MHD_Response *m;
	int json = 1;
	if (r->stream)
		m = stream_response(s, c, r);
	else {
		if (!r->body) /* a handler that set nothing is a bug; say so rather than hang */
			server_error(s, r, 500, "internal", "no response");
		if (!r->body)
			return MHD_NO;
		json = r->body[0] == '{' || r->body[0] == '[';
		m = MHD_create_response_from_buffer(strlen(r->body), r->body,
						    MHD_RESPMEM_MUST_FREE);
		if (m)
			r->body = NULL; /* the response owns it now */
	}
	if (!m)
		return MHD_NO;
	MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE,
				json ? "application/json" : "text/plain; charset=utf-8");
	if (r->allow)
		MHD_add_response_header(m, MHD_HTTP_HEADER_ALLOW, r->allow);
	unsigned after = r->retry_after ? r->retry_after : s->retry_after;
	if (after && (r->status == 429 || r->status == 503)) {
		char secs[16];
		snprintf(secs, sizeof(secs), "%u", after);
		MHD_add_response_header(m, MHD_HTTP_HEADER_RETRY_AFTER, secs);
	}
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, m);
	MHD_destroy_response(m);
	return ret;
}

static int is_sim_path(const char *url)
{
	return strncmp(url, "/_sim/", 6) == 0 || strcmp(url, "/_sim") == 0;
}

/* 1 when the client is on this machine (127.0.0.0/8, ::1, or ::ffff:127.x). */
static int client_is_local(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	if (sa && sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa && sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return 0;
}

/* The emulator's own endpoints: they serve tests, not clients, so they are
 * not counted, and a client beyond this machine (--allow-remote) does not
 * see them: they take no key and change the platform at will. */
static void sim_endpoint(wsr_sim_server *s, const wsr_sim_req *req, wsr_sim_resp *r)
{
	const char *method = req->method, *url = req->path;
	if (!client_is_local(req->conn)) {
		server_error(s, r, 404, "not_found", "no such path %.200s", url);
		return;
	}
	if (strcmp(url, "/_sim/stats") != 0) {
		if (s->sim_handler)
			s->sim_handler(s->ctx, req, r);
		else
			server_error(s, r, 404, "not_found", "no such path %.200s", url);
		return;
	}
	if (strcmp(method, "GET") != 0) {
		r->allow = "GET";
		server_error(s, r, 405, "method_not_allowed", "%s is not allowed on %s", method,
			     url);
		return;
	}
	cJSON *v = cJSON_CreateObject();
	if (v && !cJSON_AddNumberToObject(v, "requests", (double)atomic_load(&s->requests))) {
		cJSON_Delete(v);
		v = NULL;
	}
	wsr_sim_resp_json(r, 200, v);
}

/* Closes c without an answer, as a reset: SO_LINGER 0 makes the close send
 * RST, so the client sees "connection reset" rather than an orderly end. */
static enum MHD_Result reset(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct linger now = {1, 0};
	if (ci)
		setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
	return MHD_NO; /* libmicrohttpd closes the connection */
}

static enum MHD_Result finish(wsr_sim_server *s, struct MHD_Connection *c, const char *url,
			      const char *method, wsr_sim_resp *r)
{
	if (!is_sim_path(url))
		atomic_fetch_add(&s->requests, 1);
	if (!s->quiet && r->reset && !r->status) /* reset before it was served */
		fprintf(stderr, "wsr-sim: %s %s reset\n", method, url);
	else if (!s->quiet && r->reset)
		fprintf(stderr, "wsr-sim: %s %s %d reset\n", method, url, r->status);
	else if (!s->quiet)
		fprintf(stderr, "wsr-sim: %s %s %d\n", method, url, r->status);
	if (r->reset) {
		wsr_sim_resp_free(r);
		return reset(c);
	}
	enum MHD_Result ret = send_resp(s, c, r);
	wsr_sim_resp_free(r);
	return ret;
}

static void too_large(const wsr_sim_server *s, wsr_sim_resp *r)
{
	server_error(s, r, 413, "payload_too_large", "request bodies are limited to %u bytes",
		     WSR_SIM_MAX_BODY);
}

/* The first call of a request: refuse a declared oversized body at once. */
static int declared_too_large(struct MHD_Connection *c)
{
	const char *cl =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	return cl && strtoull(cl, NULL, 10) > WSR_SIM_MAX_BODY;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	(void)version;
	wsr_sim_server *s = cls;
	conn_state *st = *con_cls;
	wsr_sim_resp r = {0};
	if (!st) {
		if (!(st = calloc(1, sizeof(*st))))
			return MHD_NO;
		*con_cls = st;
		if (!declared_too_large(c))
			return MHD_YES;
		too_large(s, &r);
		return finish(s, c, url, method, &r);
	}
	if (*upload_size) {
		if (st->body.len + *upload_size > WSR_SIM_MAX_BODY)
			st->too_large = 1;
		else
			wsr_buf_add(&st->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (st->too_large)
		too_large(s, &r);
	else if (wsr_buf_failed(&st->body))
		server_error(s, &r, 503, "unavailable", "out of memory");
	else {
		wsr_sim_req req = {method, url, wsr_buf_str(&st->body), st->body.len, c,
				   NULL,   NULL};
		if (is_sim_path(url))
			sim_endpoint(s, &req, &r);
		else
			s->handler(s->ctx, &req, &r);
		if (r.wait_first) { /* a slow fault before serving: wait, then serve */
			wsr_sleep_ms(r.delay_ms, NULL);
			wsr_sim_resp_free(&r);
			r = (wsr_sim_resp){0};
			r.faults_taken = 1;
			s->handler(s->ctx, &req, &r);
		}
	}
	if (r.delay_ms) /* a slow fault after serving: the answer waits */
		wsr_sleep_ms(r.delay_ms, NULL);
	return finish(s, c, url, method, &r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode t)
{
	(void)cls;
	(void)c;
	(void)t;
	conn_state *st = *con_cls;
	if (st) {
		wsr_buf_free(&st->body);
		free(st);
	}
	*con_cls = NULL;
}

int wsr_sim_server_start(wsr_sim_server **out, const wsr_sim_server_opts *o, char **err)
{
	*out = NULL;
	*err = NULL;
	wsr_net_addr a;
	int rc = wsr_net_parse_listen(&a, o->listen, 0);
	if (rc == WSR_ENOTFOUND)
		*err = wsr_strdupf("--listen %s: the host is not a numeric IPv4 or IPv6 address",
				   o->listen);
	else if (rc)
		*err = wsr_strdupf("--listen %s: expected HOST:PORT, for example 127.0.0.1:0",
				   o->listen);
	if (rc)
		return WSR_EINVAL;
	if (!wsr_net_is_loopback(&a) && !o->allow_remote) {
		*err = wsr_strdupf(
		    "--listen %s: not a loopback address; an emulator has no authentication worth "
		    "the name, so wsr-sim serves beyond this machine only with --allow-remote",
		    o->listen);
		return WSR_EINVAL;
	}
	wsr_sim_server *s = calloc(1, sizeof(*s));
	if (!s)
		return WSR_ENOMEM;
	s->handler = o->handler;
	s->sim_handler = o->sim_handler;
	s->error = o->error;
	s->retry_after = o->retry_after;
	s->ctx = o->ctx;
	s->quiet = o->quiet;
	atomic_init(&s->requests, 0);
	pthread_mutex_init(&s->streams_mu, NULL);
	int tls = o->tls_cert && o->tls_key;
	if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		*err = wsr_strdupf("this libmicrohttpd is built without TLS");
		pthread_mutex_destroy(&s->streams_mu);
		free(s);
		return WSR_EINVAL;
	}
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
			 (a.ipv6 ? MHD_USE_IPv6 : 0) | (tls ? MHD_USE_TLS : 0);
	/* empty (it starts with the end) without TLS; the caller keeps the PEM texts */
	struct MHD_OptionItem tls_opts[] = {
	    {tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, (void *)o->tls_cert},
	    {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)o->tls_key},
	    {MHD_OPTION_END, 0, NULL},
	};
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
				(struct sockaddr *)&a.ss, MHD_OPTION_THREAD_POOL_SIZE,
				(unsigned)THREADS, MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED,
				on_completed, s, MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
	const union MHD_DaemonInfo *info =
	    s->d ? MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
	if (!info) {
		*err =
		    wsr_strdupf(tls ? "cannot serve HTTPS on %s (address in use, or the "
				      "certificate and key are not a matching PEM pair)"
				    : "cannot listen on %s (address in use or not available here)",
				o->listen);
		wsr_sim_server_stop(s);
		return WSR_EIO;
	}
	s->port = info->port;
	snprintf(s->url, sizeof(s->url), "%s://%s:%u", tls ? "https" : "http", a.host, s->port);
	*out = s;
	return 0;
}

unsigned wsr_sim_server_port(const wsr_sim_server *s)
{
	return s->port;
}

const char *wsr_sim_server_url(const wsr_sim_server *s)
{
	return s->url;
}

void wsr_sim_server_stop(wsr_sim_server *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->streams_mu);
	s->stopping = 1; /* resumed streams end at their next call */
	for (wsr_sim_conn *c = s->streams; c; c = c->next)
		if (c->suspended) {
			MHD_resume_connection(c->c);
			c->suspended = 0;
		}
	pthread_mutex_unlock(&s->streams_mu);
	if (s->d)
		MHD_stop_daemon(s->d);
	pthread_mutex_destroy(&s->streams_mu);
	free(s);
}
