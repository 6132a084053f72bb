/* etcd: the client of etcd's v3 JSON gateway that lib/etcd.h declares. It
 * owns the wire format (base64 keys and values, int64 fields as strings,
 * the fields the gateway leaves out when they are zero), the choice of
 * endpoint and failover between them, and authentication. The transport
 * (TLS, timeouts, response bounds) is lib/http's: one client per endpoint,
 * with no retries of its own, since a retry here means another member.
 *
 * Decisions recorded here (what the gateway really sends was checked
 * against etcd 3.4.23; docs/api/etcd.md has the etcd sources):
 * - Answers are read strictly: an int64 is a JSON string of digits within
 *   range, a key or value valid padded base64, a bool a bool; anything else
 *   is WSR_ECORRUPT. Absent fields are zero, as the gateway omits them
 *   ("succeeded" when false, "kvs" when none, "TTL" of an expired lease).
 *   A key holding a NUL byte cannot be a C string: also WSR_ECORRUPT.
 * - Errors come as {"error","message","code"} (unary calls) or, from the
 *   streaming keepalive, {"error":{"grpc_code","message",...}}; both are
 *   read, on any status, a 200 too (LeaseGrantResponse has an "error").
 * - Failover: an endpoint that cannot be reached, or a member that says it
 *   cannot serve now, sends the request to the next endpoint. Of those
 *   answers, "no leader", "not capable", "unhealthy cluster", "too many
 *   requests" and "not supported for learner" are given before the request
 *   is proposed to raft, so even a txn goes on to the next member; "request
 *   timed out", "leader changed", "server stopped", any other 5xx, and a
 *   transport failure after bytes were sent may come after it was applied:
 *   a txn that writes then ends with WSR_ETIMEOUT ("outcome unknown") and
 *   the caller re-reads. Whether bytes were sent is read from lib/http's
 *   request counter, which another thread's request on the same endpoint
 *   can also move: then the txn is taken as sent, the safe side.
 * - Every request carries gRPC metadata hasleader=true (the gateway maps a
 *   Grpc-Metadata-* header to it; clientv3's WithRequireLeader): a member
 *   that has lost its leader then answers "etcdserver: no leader" at once
 *   instead of holding the request until its own timeout (6 s with a 1 s
 *   election timeout) and answering "request timed out" — which would make
 *   every txn's outcome unknown while the cluster has no quorum.
 * - When every endpoint was tried and at least one member answered that
 *   it cannot serve now (an election is running), the endpoints are tried
 *   again after a short wait, as long as timeout_ms since the request
 *   began is not spent: a leader election (a second or so) does not fail a
 *   request, and a cluster without quorum fails it within about
 *   timeout_ms plus one attempt per endpoint.
 * - Auth: the token is fetched on first use and renewed once per request
 *   when etcd says it is invalid (code 16, "invalid auth token", simple
 *   tokens expire after --auth-token-ttl and vanish when a member restarts)
 *   or that the auth store moved on ("revision of auth store is old"). One
 *   thread renews; the others wait and use its token. "authentication is
 *   not enabled" is taken as no token needed, as etcd's clientv3 does.
 * - Secrets: the password and the token live only in this client and in
 *   the request bodies and headers built from them, which are scrubbed
 *   after use. Text from the server is cut to a short length, control
 *   characters replaced, and the password or token removed wherever it
 *   shows (a hostile server could echo them), before it goes into *err.
 * - Sizes: a request is measured as etcd does (the protobuf it decodes:
 *   keys, values and range ends plus a generous framing allowance per op),
 *   not as JSON, since the limit is etcd's --max-request-bytes. */
#include "lib/etcd.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/http.h"
#include "lib/json.h"
#include "lib/log.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 2000L
#define DEFAULT_TIMEOUT_MS 5000L
#define MAX_QUOTED 300	   /* bytes of a server's message put into *err */
#define MAX_TOKEN 4096	   /* an auth token longer than this is not etcd's */
#define FRAME_PER_OP 32	   /* protobuf tags, lengths and numbers of one op or compare */
#define FRAME_PER_REQ 256  /* the raft request's header around it */
#define FIRST_PAUSE_MS 50L /* between rounds over the endpoints, doubling */
#define MAX_PAUSE_MS 800L

struct wsr_etcd {
	size_t n;
	char *url[WSR_ETCD_MAX_ENDPOINTS];
	wsr_http *http[WSR_ETCD_MAX_ENDPOINTS];
	atomic_size_t current; /* the endpoint tried first */
	char *where;	       /* "state: " or "" */
	long timeout_ms;
	char *username, *password;
	pthread_mutex_t mu;	 /* token and token_gen */
	char *token;		 /* NULL: none (yet, or auth is off on the server) */
	unsigned long token_gen; /* bumped at every authentication; 0: never */
	pthread_mutex_t auth_mu; /* one authentication at a time */
};

/* ---- small helpers ---- */

static void scrub_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

/* Server text fit for *err: at most MAX_QUOTED bytes, control characters
 * as '?', and the password and token (when they show) as "(sensitive)". */
static char *quote(wsr_etcd *c, const char *tok, const char *s)
{
	wsr_buf b = WSR_BUF_INIT;
	const char *secrets[] = {c->password, tok};
	size_t n = strlen(s);
	for (size_t i = 0; i < n && b.len < MAX_QUOTED; i++) {
		int hit = 0;
		for (size_t k = 0; k < 2 && !hit; k++) {
			size_t m = secrets[k] ? strlen(secrets[k]) : 0;
			if (m > 0 && strncmp(s + i, secrets[k], m) == 0) {
				wsr_buf_puts(&b, "(sensitive)");
				i += m - 1;
				hit = 1;
			}
		}
		if (!hit)
			wsr_buf_putc(&b, (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i]);
	}
	if (b.len >= MAX_QUOTED)
		wsr_buf_puts(&b, "...");
	if (!b.data)
		return strdup("");
	return wsr_buf_detach(&b);
}

/* Appends len bytes of data as base64; a failure fails b (checked once). */
static void b64_put(wsr_buf *b, const char *data, size_t len)
{
	unsigned char *out = len <= INT_MAX / 2 ? malloc(4 * ((len + 2) / 3) + 1) : NULL;
	if (!out) {
		b->failed = 1;
		return;
	}
	int n = EVP_EncodeBlock(out, (const unsigned char *)data, (int)len);
	wsr_buf_add(b, (const char *)out, (size_t)n);
	free(out);
}

static int is_b64(char ch)
{
	return isalnum((unsigned char)ch) || ch == '+' || ch == '/';
}

/* Padded standard base64 (what Go's encoding/json makes of []byte) into a
 * NUL-terminated heap buffer. WSR_ECORRUPT on anything else. */
static int b64_decode(const char *s, char **out, size_t *outlen)
{
	size_t len = strlen(s), pad = 0;
	*out = NULL;
	if (len % 4 != 0 || len > INT_MAX)
		return WSR_ECORRUPT;
	while (pad < 2 && pad < len && s[len - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < len - pad; i++)
		if (!is_b64(s[i]))
			return WSR_ECORRUPT;
	unsigned char *buf = malloc(len / 4 * 3 + 1);
	if (!buf)
		return WSR_ENOMEM;
	/* EVP_DecodeBlock counts the padding as zero bytes of output */
	int n = len ? EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len) : 0;
	if (n < (int)pad) {
		free(buf);
		return WSR_ECORRUPT;
	}
	n -= (int)pad;
	buf[n] = '\0';
	*out = (char *)buf;
	*outlen = (size_t)n;
	return 0;
}

/* An int64 field: absent is 0 (the gateway omits zeros), else a string of
 * 1 to 19 digits no larger than INT64_MAX. Every field wsr reads is >= 0. */
static int get_i64(const cJSON *obj, const char *key, int64_t *out)
{
	*out = 0;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v)
		return 0;
	if (!cJSON_IsString(v) || !v->valuestring)
		return WSR_ECORRUPT;
	const char *s = v->valuestring;
	size_t n = strlen(s);
	if (n == 0 || n > 19)
		return WSR_ECORRUPT;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return WSR_ECORRUPT;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	if (x > INT64_MAX)
		return WSR_ECORRUPT;
	*out = (int64_t)x;
	return 0;
}

/* A bool field: absent is false. */
static int get_bool(const cJSON *obj, const char *key, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = 0;
	if (!v)
		return 0;
	if (!cJSON_IsBool(v))
		return WSR_ECORRUPT;
	*out = cJSON_IsTrue(v);
	return 0;
}

/* An object field: absent is NULL; of another type WSR_ECORRUPT. */
static int get_obj(const cJSON *obj, const char *key, const cJSON **out)
{
	*out = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (*out && !cJSON_IsObject(*out))
		return WSR_ECORRUPT;
	return 0;
}

static int header_revision(const cJSON *j, int64_t *rev)
{
	const cJSON *h;
	*rev = 0;
	return get_obj(j, "header", &h) ? WSR_ECORRUPT : h ? get_i64(h, "revision", rev) : 0;
}

/* ---- the client ---- */

static int check_url(const char *u, char **err)
{
	const char *rest = strncmp(u, "http://", 7) == 0    ? u + 7
			   : strncmp(u, "https://", 8) == 0 ? u + 8
							    : NULL;
	if (!rest || !*rest || *rest == '/') {
		*err = wsr_strdupf("endpoint %s is not an http:// or https:// URL with a host", u);
		return WSR_EINVAL;
	}
	size_t n = strcspn(rest, "/?#@");
	if (rest[n] == '@') {
		*err =
		    strdup("an endpoint URL holds credentials: give username and password instead");
		return WSR_EINVAL;
	}
	if (rest[n] && strcmp(rest + n, "/") != 0) {
		*err = wsr_strdupf("endpoint %s has a path: give scheme, host and port only", u);
		return WSR_EINVAL;
	}
	return 0;
}

static int check_file(const char *what, const char *path, char **err)
{
	FILE *f = path ? fopen(path, "r") : NULL;
	if (path && !f) {
		*err = wsr_strdupf("the %s %s cannot be read: %s", what, path, strerror(errno));
		return WSR_EINVAL;
	}
	if (f)
		fclose(f);
	return 0;
}

static int check_opts(const wsr_etcd_opts *o, char **err)
{
	if (!o->endpoints || o->nendpoints == 0 || o->nendpoints > WSR_ETCD_MAX_ENDPOINTS) {
		*err = wsr_strdupf("etcd needs 1 to %d endpoints, not %zu", WSR_ETCD_MAX_ENDPOINTS,
				   o->endpoints ? o->nendpoints : 0);
		return WSR_EINVAL;
	}
	for (size_t i = 0; i < o->nendpoints; i++) {
		if (!o->endpoints[i]) {
			*err = strdup("an etcd endpoint is missing");
			return WSR_EINVAL;
		}
		if (check_url(o->endpoints[i], err))
			return WSR_EINVAL;
	}
	if (!o->cert_file != !o->key_file) {
		*err =
		    strdup("an etcd client certificate needs its key, and a key its certificate");
		return WSR_EINVAL;
	}
	if (o->username &&
	    (!*o->username || !wsr_http_header_safe(o->username) || strlen(o->username) > 256)) {
		*err = strdup("the etcd username is empty, too long or holds control characters");
		return WSR_EINVAL;
	}
	if (o->connect_timeout_ms < 0 || o->timeout_ms < 0 ||
	    o->connect_timeout_ms > WSR_HTTP_MAX_WAIT_MS || o->timeout_ms > WSR_HTTP_MAX_WAIT_MS) {
		*err =
		    wsr_strdupf("etcd timeouts must be between 0 and %ld ms", WSR_HTTP_MAX_WAIT_MS);
		return WSR_EINVAL;
	}
	if (check_file("CA file", o->ca_file, err) ||
	    check_file("client certificate", o->cert_file, err) ||
	    check_file("client key", o->key_file, err))
		return WSR_EINVAL;
	return 0;
}

int wsr_etcd_new(wsr_etcd **out, const wsr_etcd_opts *o, char **err)
{
	*out = NULL;
	*err = NULL;
	int rc = o ? check_opts(o, err) : WSR_EINVAL;
	if (rc) {
		if (!*err)
			*err = strdup("etcd options missing");
		char *e = *err;
		*err = e ? wsr_strdupf("%s%s%s", o && o->where ? o->where : "",
				       o && o->where ? ": " : "", e)
			 : NULL;
		free(e);
		return rc;
	}
	wsr_etcd *c = calloc(1, sizeof(*c));
	if (!c)
		return WSR_ENOMEM;
	pthread_mutex_init(&c->mu, NULL);
	pthread_mutex_init(&c->auth_mu, NULL);
	atomic_init(&c->current, 0);
	c->n = o->nendpoints;
	c->timeout_ms = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	c->where = wsr_strdupf("%s%s", o->where ? o->where : "", o->where ? ": " : "");
	if (!c->where ||
	    (o->username && (!(c->username = strdup(o->username)) ||
			     !(c->password = strdup(o->password ? o->password : ""))))) {
		wsr_etcd_free(c);
		return WSR_ENOMEM;
	}
	for (size_t i = 0; i < c->n && !rc; i++) {
		wsr_http_opts h = WSR_HTTP_OPTS_INIT;
		h.base_url = o->endpoints[i];
		h.ca_file = o->ca_file;
		h.cert_file = o->cert_file;
		h.key_file = o->key_file;
		h.connect_timeout_ms =
		    o->connect_timeout_ms ? o->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
		h.timeout_ms = c->timeout_ms;
		h.retry_budget_ms = c->timeout_ms;
		h.max_retries = 0; /* failover is this file's: the next try is another member */
		h.max_response = WSR_ETCD_MAX_RESPONSE;
		h.limits_hint = o->where;
		char *e = NULL;
		rc = wsr_http_new(&c->http[i], &h, &e);
		if (rc) {
			*err = wsr_strdupf("%setcd endpoint %s: %s", c->where, o->endpoints[i],
					   e ? e : "cannot be used");
			free(e);
		} else if (!(c->url[i] = strdup(o->endpoints[i]))) {
			rc = WSR_ENOMEM;
		} else {
			size_t n = strlen(c->url[i]); /* check_url allows one trailing slash */
			if (n && c->url[i][n - 1] == '/')
				c->url[i][n - 1] = '\0';
		}
	}
	if (rc) {
		wsr_etcd_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void wsr_etcd_free(wsr_etcd *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		wsr_http_free(c->http[i]);
		free(c->url[i]);
	}
	scrub_free(c->password);
	scrub_free(c->token);
	free(c->username);
	free(c->where);
	pthread_mutex_destroy(&c->mu);
	pthread_mutex_destroy(&c->auth_mu);
	free(c);
}

const char *wsr_etcd_endpoint(const wsr_etcd *c)
{
	return c->url[atomic_load(&((wsr_etcd *)c)->current)];
}

/* ---- one request, over the endpoints ---- */

/* What one attempt on one endpoint came to. */
enum {
	GOT_ANSWER,   /* a 2xx JSON object: json */
	GOT_FINAL,    /* return rc and why now (a refusal, a corrupt or oversized answer) */
	GOT_AUTH,     /* the token is invalid or stale: authenticate again */
	GOT_BUSY,     /* the member cannot serve now; the request was not applied */
	GOT_UNKNOWN,  /* the member cannot serve now; the request may have been applied */
	GOT_UNSENT,   /* no connection: nothing was sent */
	GOT_LOST,     /* a transport failure after sending */
	GOT_TIMEDOUT, /* no answer in time after sending */
};

typedef struct outcome {
	int kind;
	int rc;	     /* GOT_FINAL */
	int code;    /* the gRPC code of a refusal; -1 when none */
	char *why;   /* for messages; heap */
	cJSON *json; /* GOT_ANSWER */
} outcome;

static int starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* etcd's message and gRPC code in an error answer, of either shape. */
static const char *error_of(const cJSON *j, int *code)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	const cJSON *holder = cJSON_IsObject(e) ? e : j;
	const char *msg = wsr_json_str(holder, "message");
	if (!msg && cJSON_IsString(e))
		msg = e->valuestring;
	int64_t v = -1;
	if (wsr_json_int_in(holder, cJSON_IsObject(e) ? "grpc_code" : "code", 0, 100, &v))
		v = -1;
	*code = (int)v;
	return msg;
}

/* Sorts an error answer (status, etcd's message and code) into a kind. */
static int classify(long status, const char *msg, int code)
{
	static const char *const busy[] = {
	    "etcdserver: no leader", "etcdserver: not capable", "etcdserver: unhealthy cluster",
	    "etcdserver: too many requests", "etcdserver: rpc not supported for learner"};
	/* "context deadline exceeded" (code 2, 500): a proposal's own timeout,
	 * come back raw (docs/api/etcd.md, Errors) */
	static const char *const unknown[] = {
	    "etcdserver: request timed out", "etcdserver: leader changed",
	    "etcdserver: server stopped", "context deadline exceeded"};
	if (code == 16 || (msg && (starts(msg, "etcdserver: invalid auth token") ||
				   starts(msg, "etcdserver: revision of auth store is old") ||
				   starts(msg, "etcdserver: user name is empty"))))
		return GOT_AUTH;
	for (size_t i = 0; msg && i < sizeof(busy) / sizeof(busy[0]); i++)
		if (starts(msg, busy[i]))
			return GOT_BUSY;
	for (size_t i = 0; msg && i < sizeof(unknown) / sizeof(unknown[0]); i++)
		if (starts(msg, unknown[i]))
			return GOT_UNKNOWN;
	/* Unavailable, DeadlineExceeded, or a 5xx that names no refusal */
	if (code == 14 || code == 4 || (status >= 500 && (!msg || code < 0)))
		return GOT_UNKNOWN;
	return GOT_FINAL;
}

/* The part of lib/http's message after "POST <url><path>: ". */
static const char *transport_why(const char *e, const char *url, const char *path)
{
	size_t u = strlen(url), p = strlen(path);
	if (e && starts(e, "POST ") && strncmp(e + 5, url, u) == 0 &&
	    strncmp(e + 5 + u, path, p) == 0 && starts(e + 5 + u + p, ": "))
		return e + 5 + u + p + 2;
	return e ? e : "no answer";
}

static void attempt(wsr_etcd *c, size_t i, const char *path, const char *body, const char *tok,
		    outcome *o)
{
	char *hdr = tok ? wsr_strdupf("Authorization: %s", tok) : NULL;
	const char *headers[] = {"Grpc-Metadata-hasleader: true", hdr, NULL};
	unsigned long before = wsr_http_requests(c->http[i]);
	wsr_http_answer ans;
	cJSON *j = NULL;
	char *e = NULL;
	memset(o, 0, sizeof(*o));
	o->code = -1;
	int rc = tok && !hdr
		     ? WSR_ENOMEM
		     : wsr_http_request_json(c->http[i], &ans, &j, "POST", path, headers, body, &e);
	scrub_free(hdr);
	if (rc == WSR_EHTTP || rc == WSR_ETIMEOUT) {
		int sent = wsr_http_requests(c->http[i]) != before;
		o->kind = !sent ? GOT_UNSENT : rc == WSR_ETIMEOUT ? GOT_TIMEDOUT : GOT_LOST;
		o->why = strdup(transport_why(e, c->url[i], path));
	} else if (rc) { /* too large, 2xx that is not JSON, out of memory */
		o->kind = GOT_FINAL;
		o->rc = rc == WSR_EINVAL ? WSR_ECORRUPT : rc;
		o->why = strdup(rc == WSR_EINVAL ? "the answer is not JSON"
						 : transport_why(e, c->url[i], path));
	} else if (ans.status / 100 == 2 && cJSON_IsObject(j) &&
		   (!cJSON_GetObjectItemCaseSensitive(j, "error") ||
		    (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "error")) &&
		     !*cJSON_GetObjectItemCaseSensitive(j, "error")->valuestring))) {
		o->kind = GOT_ANSWER;
		o->json = j;
		j = NULL;
	} else if (ans.status / 100 == 2 && !cJSON_IsObject(j)) {
		o->kind = GOT_FINAL;
		o->rc = WSR_ECORRUPT;
		o->why = strdup("the answer is not a JSON object");
	} else {
		const char *msg = cJSON_IsObject(j) ? error_of(j, &o->code) : NULL;
		o->kind = classify(ans.status, msg, o->code);
		o->rc = WSR_EAPI;
		char *q = msg ? quote(c, tok, msg) : NULL;
		o->why = q && *q ? wsr_strdupf("%s (HTTP %ld)", q, ans.status)
				 : wsr_strdupf("answered HTTP %ld", ans.status);
		free(q);
	}
	if (!o->why && o->kind != GOT_ANSWER) {
		o->kind = GOT_FINAL;
		o->rc = WSR_ENOMEM;
	}
	cJSON_Delete(j);
	free(e);
}

static int authenticate(wsr_etcd *c, unsigned long seen_gen, char **err);

/* The token to send, copied, and the generation it is of. */
static char *token_get(wsr_etcd *c, unsigned long *gen)
{
	pthread_mutex_lock(&c->mu);
	char *t = c->token ? strdup(c->token) : NULL;
	*gen = c->token_gen;
	pthread_mutex_unlock(&c->mu);
	return t;
}

typedef struct call {
	const char *path;
	const char *body;
	int resend;  /* may go to another member after it may have reached one */
	int no_auth; /* the authentication itself */
} call;

/* Sends one request, failing over as the top of the file says. Returns 0
 * with *out the answer (caller frees), or an error with *err; *code is the
 * gRPC code of a refusal (-1 when none). */
static int request(wsr_etcd *c, const call *q, cJSON **out, int *code, char **err)
{
	int64_t start = wsr_clock_mono_ms();
	long pause = FIRST_PAUSE_MS;
	int reauthed = 0, rc = 0;
	*out = NULL;
	*err = NULL;
	*code = -1;
	unsigned long gen = 0;
	char *tok = NULL;
	if (c->username && !q->no_auth) {
		tok = token_get(c, &gen);
		if (gen == 0) { /* the first request of this client */
			if ((rc = authenticate(c, 0, err)) != 0)
				return rc;
			tok = token_get(c, &gen);
		}
	}
	wsr_buf why = WSR_BUF_INIT;
	for (;;) {
		int busy = 0, timeouts = 0, tried = 0;
		wsr_buf_clear(&why);
		size_t first = atomic_load(&c->current);
		for (size_t k = 0; k < c->n; k++) {
			size_t i = (first + k) % c->n;
			outcome o;
			attempt(c, i, q->path, q->body, tok, &o);
			if (o.kind == GOT_AUTH && c->username && !q->no_auth && !reauthed) {
				reauthed = 1;
				free(o.why);
				wsr_log(WSR_LOG_INFO,
					"%setcd %s: auth token refused, authenticating again",
					c->where, c->url[i]);
				if ((rc = authenticate(c, gen, err)) != 0)
					goto done;
				scrub_free(tok);
				tok = token_get(c, &gen);
				k--; /* the same endpoint again, once */
				continue;
			}
			if (o.kind == GOT_ANSWER) {
				atomic_store(&c->current, i);
				*out = o.json;
				rc = 0;
				goto done;
			}
			int maybe_applied =
			    o.kind == GOT_UNKNOWN || o.kind == GOT_LOST || o.kind == GOT_TIMEDOUT;
			if (o.kind == GOT_FINAL || o.kind == GOT_AUTH ||
			    (maybe_applied && !q->resend)) {
				*code = o.code;
				if (o.kind == GOT_FINAL || o.kind == GOT_AUTH) {
					rc = o.kind == GOT_AUTH ? WSR_EAPI : o.rc;
					*err = wsr_strdupf(
					    "%setcd %s: %s: %s%s", c->where, c->url[i], q->path,
					    o.why,
					    o.kind == GOT_AUTH && !c->username
						? "; etcd has authentication on: configure a "
						  "username and password"
						: "");
				} else {
					rc = WSR_ETIMEOUT;
					*err =
					    wsr_strdupf("%setcd %s: %s: outcome unknown: %s; the "
							"request may have been applied: read "
							"again to find out",
							c->where, c->url[i], q->path, o.why);
				}
				free(o.why);
				goto done;
			}
			tried++;
			busy += o.kind == GOT_BUSY || o.kind == GOT_UNKNOWN;
			timeouts += o.kind == GOT_TIMEDOUT;
			wsr_buf_printf(&why, "%s%s: %s", k ? "; " : "", c->url[i], o.why);
			if (k + 1 < c->n)
				wsr_log(WSR_LOG_INFO, "%setcd %s: %s; trying %s", c->where,
					c->url[i], o.why, c->url[(i + 1) % c->n]);
			free(o.why);
		}
		int64_t spent = wsr_clock_mono_ms() - start;
		if (busy > 0 && spent + pause < c->timeout_ms) {
			wsr_sleep_ms(pause, NULL);
			pause = pause * 2 < MAX_PAUSE_MS ? pause * 2 : MAX_PAUSE_MS;
			continue;
		}
		rc = timeouts == tried ? WSR_ETIMEOUT : WSR_EHTTP;
		*err = wsr_strdupf("%setcd: no endpoint could serve %s: %s", c->where, q->path,
				   wsr_buf_str(&why));
		break;
	}
done:
	wsr_buf_free(&why);
	scrub_free(tok);
	if (rc && !*err)
		*err = strdup("out of memory");
	return rc;
}

/* Fetches a new token unless another thread did since seen_gen. */
static int authenticate(wsr_etcd *c, unsigned long seen_gen, char **err)
{
	pthread_mutex_lock(&c->auth_mu);
	unsigned long gen;
	scrub_free(token_get(c, &gen));
	if (gen != seen_gen) {
		pthread_mutex_unlock(&c->auth_mu);
		return 0;
	}
	cJSON *req = cJSON_CreateObject();
	cJSON *name = req ? cJSON_AddStringToObject(req, "name", c->username) : NULL;
	cJSON *pw = name ? cJSON_AddStringToObject(req, "password", c->password) : NULL;
	char *body = pw ? cJSON_PrintUnformatted(req) : NULL;
	if (pw)
		OPENSSL_cleanse(pw->valuestring, strlen(pw->valuestring));
	cJSON_Delete(req);
	cJSON *ans = NULL;
	int code = -1, rc = WSR_ENOMEM;
	char *token = NULL, *e = NULL;
	if (body) {
		call q = {"/v3/auth/authenticate", body, 1, 1};
		rc = request(c, &q, &ans, &code, &e);
	}
	scrub_free(body);
	if (rc == WSR_EAPI && e && strstr(e, "etcdserver: authentication is not enabled")) {
		rc = 0; /* as clientv3: no token needed */
	} else if (rc) {
		size_t w = strlen(c->where); /* e starts with it too */
		*err = wsr_strdupf("%setcd: authentication as %s failed: %s", c->where, c->username,
				   !e				  ? "out of memory"
				   : strncmp(e, c->where, w) == 0 ? e + w
								  : e);
	} else {
		const char *t = wsr_json_str(ans, "token");
		if (!t || !*t || strlen(t) > MAX_TOKEN || !wsr_http_header_safe(t)) {
			rc = WSR_ECORRUPT;
			*err = wsr_strdupf("%setcd: authentication as %s answered no usable token",
					   c->where, c->username);
		} else if (!(token = strdup(t))) {
			rc = WSR_ENOMEM;
		}
		const cJSON *tv = cJSON_GetObjectItemCaseSensitive(ans, "token");
		if (cJSON_IsString(tv) && tv->valuestring)
			OPENSSL_cleanse(tv->valuestring, strlen(tv->valuestring));
	}
	free(e);
	cJSON_Delete(ans);
	if (!rc) {
		pthread_mutex_lock(&c->mu);
		scrub_free(c->token);
		c->token = token;
		c->token_gen++;
		pthread_mutex_unlock(&c->mu);
	}
	pthread_mutex_unlock(&c->auth_mu);
	return rc;
}

/* A request whose body b built (its failure is WSR_ENOMEM); b is freed. */
static int send_built(wsr_etcd *c, const char *path, wsr_buf *b, int resend, cJSON **out, int *code,
		      char **err)
{
	*out = NULL;
	*code = -1;
	if (wsr_buf_failed(b)) {
		wsr_buf_free(b);
		*err = strdup("out of memory");
		return WSR_ENOMEM;
	}
	call q = {path, wsr_buf_str(b), resend, 0};
	int rc = request(c, &q, out, code, err);
	wsr_buf_free(b);
	return rc;
}

static int corrupt(wsr_etcd *c, const char *path, const char *what, char **err)
{
	*err = wsr_strdupf("%setcd %s: %s answered what the etcd API does not define: %s", c->where,
			   wsr_etcd_endpoint(c), path, what);
	return WSR_ECORRUPT;
}

/* ---- key-value ---- */

char *wsr_etcd_prefix_end(const char *prefix)
{
	char *end = strdup(prefix);
	if (!end)
		return NULL;
	for (size_t n = strlen(end); n > 0; n--) {
		if ((unsigned char)end[n - 1] < 0xff) {
			end[n - 1]++;
			end[n] = '\0';
			return end;
		}
	}
	end[0] = '\0'; /* all 0xff or empty: every key from prefix on ("\0") */
	return end;
}

/* "key" and "range_end" members; a range end of "" is etcd's "\0". */
static void put_key_range(wsr_buf *b, const char *key, const char *range_end)
{
	wsr_buf_puts(b, "\"key\":\"");
	b64_put(b, key, strlen(key));
	wsr_buf_putc(b, '"');
	if (range_end) {
		wsr_buf_puts(b, ",\"range_end\":\"");
		if (*range_end)
			b64_put(b, range_end, strlen(range_end));
		else
			wsr_buf_puts(b, "AA==");
		wsr_buf_putc(b, '"');
	}
}

static void range_free_kvs(wsr_etcd_kv *kvs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kvs[i].key);
		free(kvs[i].value);
	}
	free(kvs);
}

void wsr_etcd_range_free(wsr_etcd_range_result *r)
{
	if (!r)
		return;
	range_free_kvs(r->kvs, r->n);
	memset(r, 0, sizeof(*r));
}

/* A RangeResponse (the answer, or a txn's response_range) into out;
 * *what says which field is wrong when it is WSR_ECORRUPT. */
static int parse_range(const cJSON *j, wsr_etcd_range_result *out, const char **what)
{
	memset(out, 0, sizeof(*out));
	const cJSON *kvs = cJSON_GetObjectItemCaseSensitive(j, "kvs");
	*what = "header.revision is not a number in a string";
	if (header_revision(j, &out->revision))
		return WSR_ECORRUPT;
	*what = "count is not a number in a string";
	if (get_i64(j, "count", &out->count))
		return WSR_ECORRUPT;
	*what = "more is not a bool";
	if (get_bool(j, "more", &out->more))
		return WSR_ECORRUPT;
	*what = "kvs is not an array";
	if (kvs && !cJSON_IsArray(kvs))
		return WSR_ECORRUPT;
	int n = kvs ? cJSON_GetArraySize(kvs) : 0;
	if (n == 0)
		return 0;
	out->kvs = calloc((size_t)n, sizeof(*out->kvs));
	if (!out->kvs)
		return WSR_ENOMEM;
	int rc = 0;
	const cJSON *kv;
	cJSON_ArrayForEach(kv, kvs)
	{
		wsr_etcd_kv *d = &out->kvs[out->n++];
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(kv, "key");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(kv, "value");
		size_t klen = 0;
		*what = "a key-value is not an object";
		if (!cJSON_IsObject(kv))
			rc = WSR_ECORRUPT;
		if (!rc) {
			*what = "a key is missing or not base64";
			rc = cJSON_IsString(k) ? b64_decode(k->valuestring, &d->key, &klen)
					       : WSR_ECORRUPT;
		}
		if (!rc && (*what = "a key holds a NUL byte", klen != strlen(d->key)))
			rc = WSR_ECORRUPT;
		if (!rc && v) {
			*what = "a value is not base64";
			rc = cJSON_IsString(v)
				 ? b64_decode(v->valuestring, &d->value, &d->value_len)
				 : WSR_ECORRUPT;
		}
		if (!rc && !v && !(d->value = calloc(1, 1)))
			rc = WSR_ENOMEM;
		*what = "a revision, version or lease is not a number in a string";
		if (!rc && (get_i64(kv, "create_revision", &d->create_revision) ||
			    get_i64(kv, "mod_revision", &d->mod_revision) ||
			    get_i64(kv, "version", &d->version) || get_i64(kv, "lease", &d->lease)))
			rc = WSR_ECORRUPT;
		if (rc)
			break;
	}
	return rc;
}

static int check_size(wsr_etcd *c, size_t bytes, size_t ops, char **err)
{
	size_t total = FRAME_PER_REQ + bytes + ops * FRAME_PER_OP;
	if (bytes > WSR_ETCD_MAX_REQUEST_BYTES || total > WSR_ETCD_MAX_REQUEST_BYTES) {
		*err = wsr_strdupf("%setcd: a request of about %zu bytes is over etcd's limit of "
				   "%u bytes (--max-request-bytes): split it",
				   c->where, total, WSR_ETCD_MAX_REQUEST_BYTES);
		return WSR_ELIMIT;
	}
	return 0;
}

int wsr_etcd_range(wsr_etcd *c, wsr_etcd_range_result *out, const char *key, const char *range_end,
		   int64_t revision, int64_t limit, char **err)
{
	memset(out, 0, sizeof(*out));
	*err = NULL;
	if (!key || revision < 0 || limit < 0) {
		*err = wsr_strdupf("%setcd: a range needs a key, and a revision and limit >= 0",
				   c->where);
		return WSR_EINVAL;
	}
	int rc = check_size(c, strlen(key) + (range_end ? strlen(range_end) : 0), 1, err);
	if (rc)
		return rc;
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_putc(&b, '{');
	put_key_range(&b, key, range_end);
	if (revision)
		wsr_buf_printf(&b, ",\"revision\":\"%lld\"", (long long)revision);
	if (limit)
		wsr_buf_printf(&b, ",\"limit\":\"%lld\"", (long long)limit);
	wsr_buf_putc(&b, '}');
	cJSON *ans;
	int code;
	rc = send_built(c, "/v3/kv/range", &b, 1, &ans, &code, err);
	if (rc)
		return rc;
	const char *what = NULL;
	rc = parse_range(ans, out, &what);
	cJSON_Delete(ans);
	if (rc) {
		wsr_etcd_range_free(out);
		return rc == WSR_ECORRUPT ? corrupt(c, "/v3/kv/range", what, err) : rc;
	}
	return 0;
}

/* ---- transactions ---- */

void wsr_etcd_txn_result_free(wsr_etcd_txn_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ngets; i++)
		wsr_etcd_range_free(&r->gets[i]);
	free(r->gets);
	memset(r, 0, sizeof(*r));
}

static int put_compares(wsr_buf *b, const wsr_etcd_cmp *cmp, size_t n)
{
	static const char *const targets[] = {"VERSION", "CREATE", "MOD", "VALUE"};
	static const char *const fields[] = {"version", "create_revision", "mod_revision", NULL};
	static const char *const results[] = {"EQUAL", "NOT_EQUAL", "GREATER", "LESS"};
	wsr_buf_puts(b, "\"compare\":[");
	for (size_t i = 0; i < n; i++) {
		const wsr_etcd_cmp *m = &cmp[i];
		if (!m->key || m->target < 0 || m->target > WSR_ETCD_CMP_VALUE || m->result < 0 ||
		    m->result > WSR_ETCD_LESS || (m->target == WSR_ETCD_CMP_VALUE && !m->value) ||
		    (m->target != WSR_ETCD_CMP_VALUE && m->number < 0))
			return WSR_EINVAL;
		wsr_buf_puts(b, i ? ",{" : "{");
		put_key_range(b, m->key, NULL);
		wsr_buf_printf(b, ",\"target\":\"%s\",\"result\":\"%s\",", targets[m->target],
			       results[m->result]);
		if (m->target == WSR_ETCD_CMP_VALUE) {
			wsr_buf_puts(b, "\"value\":\"");
			b64_put(b, m->value, m->value_len);
			wsr_buf_putc(b, '"');
		} else {
			wsr_buf_printf(b, "\"%s\":\"%lld\"", fields[m->target],
				       (long long)m->number);
		}
		wsr_buf_putc(b, '}');
	}
	wsr_buf_putc(b, ']');
	return 0;
}

static int put_ops(wsr_buf *b, const char *name, const wsr_etcd_op *ops, size_t n)
{
	wsr_buf_printf(b, "\"%s\":[", name);
	for (size_t i = 0; i < n; i++) {
		const wsr_etcd_op *o = &ops[i];
		if (!o->key || o->type < WSR_ETCD_PUT || o->type > WSR_ETCD_GET ||
		    (o->type == WSR_ETCD_PUT && ((!o->value && o->value_len) || o->lease < 0)))
			return WSR_EINVAL;
		static const char *const kinds[] = {"request_put", "request_delete_range",
						    "request_range"};
		wsr_buf_printf(b, "%s{\"%s\":{", i ? "," : "", kinds[o->type]);
		put_key_range(b, o->key, o->type == WSR_ETCD_PUT ? NULL : o->range_end);
		if (o->type == WSR_ETCD_PUT) {
			wsr_buf_puts(b, ",\"value\":\"");
			if (o->value_len)
				b64_put(b, o->value, o->value_len);
			wsr_buf_putc(b, '"');
			if (o->lease)
				wsr_buf_printf(b, ",\"lease\":\"%lld\"", (long long)o->lease);
		}
		wsr_buf_puts(b, "}}");
	}
	wsr_buf_putc(b, ']');
	return 0;
}

static size_t ops_bytes(const wsr_etcd_op *ops, size_t n)
{
	size_t t = 0;
	for (size_t i = 0; i < n; i++)
		t += (ops[i].key ? strlen(ops[i].key) : 0) +
		     (ops[i].range_end ? strlen(ops[i].range_end) : 0) +
		     (ops[i].type == WSR_ETCD_PUT ? ops[i].value_len : 0);
	return t;
}

static int writes(const wsr_etcd_op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ops[i].type != WSR_ETCD_GET)
			return 1;
	return 0;
}

/* The responses of the branch that ran: one per op, a range for each GET. */
static int parse_txn(const cJSON *j, const wsr_etcd_op *ops, size_t nops, wsr_etcd_txn_result *out,
		     const char **what)
{
	const cJSON *resps = cJSON_GetObjectItemCaseSensitive(j, "responses");
	*what = "succeeded is not a bool";
	if (get_bool(j, "succeeded", &out->succeeded))
		return WSR_ECORRUPT;
	*what = "header.revision is not a number in a string";
	if (header_revision(j, &out->revision))
		return WSR_ECORRUPT;
	*what = "responses is not one per operation";
	if ((resps && !cJSON_IsArray(resps)) ||
	    (size_t)(resps ? cJSON_GetArraySize(resps) : 0) != nops)
		return WSR_ECORRUPT;
	size_t ngets = 0;
	for (size_t i = 0; i < nops; i++)
		ngets += ops[i].type == WSR_ETCD_GET;
	if (ngets && !(out->gets = calloc(ngets, sizeof(*out->gets))))
		return WSR_ENOMEM;
	static const char *const kinds[] = {"response_put", "response_delete_range",
					    "response_range"};
	size_t i = 0;
	const cJSON *r;
	cJSON_ArrayForEach(r, resps)
	{
		const cJSON *body;
		*what = "a response does not match its operation";
		if (!cJSON_IsObject(r) || get_obj(r, kinds[ops[i].type], &body) || !body)
			return WSR_ECORRUPT;
		if (ops[i].type == WSR_ETCD_GET) {
			int rc = parse_range(body, &out->gets[out->ngets], what);
			out->ngets++;
			if (rc)
				return rc;
		}
		i++;
	}
	return 0;
}

int wsr_etcd_txn(wsr_etcd *c, const wsr_etcd_cmp *cmp, size_t ncmp, const wsr_etcd_op *success,
		 size_t nsuccess, const wsr_etcd_op *failure, size_t nfailure,
		 wsr_etcd_txn_result *out, char **err)
{
	memset(out, 0, sizeof(*out));
	*err = NULL;
	if ((ncmp && !cmp) || (nsuccess && !success) || (nfailure && !failure)) {
		*err = wsr_strdupf("%setcd: a txn's compares or operations are missing", c->where);
		return WSR_EINVAL;
	}
	if (ncmp > WSR_ETCD_MAX_TXN_OPS || nsuccess > WSR_ETCD_MAX_TXN_OPS ||
	    nfailure > WSR_ETCD_MAX_TXN_OPS) {
		*err = wsr_strdupf("%setcd: a txn of %zu compares, %zu and %zu operations is over "
				   "etcd's limit of %d each (--max-txn-ops): split it",
				   c->where, ncmp, nsuccess, nfailure, WSR_ETCD_MAX_TXN_OPS);
		return WSR_ELIMIT;
	}
	size_t bytes = ops_bytes(success, nsuccess) + ops_bytes(failure, nfailure);
	for (size_t i = 0; i < ncmp; i++)
		bytes += (cmp[i].key ? strlen(cmp[i].key) : 0) +
			 (cmp[i].target == WSR_ETCD_CMP_VALUE ? cmp[i].value_len : 0);
	int rc = check_size(c, bytes, ncmp + nsuccess + nfailure, err);
	if (rc)
		return rc;
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_putc(&b, '{');
	rc = put_compares(&b, cmp, ncmp);
	wsr_buf_putc(&b, ',');
	if (!rc)
		rc = put_ops(&b, "success", success, nsuccess);
	wsr_buf_putc(&b, ',');
	if (!rc)
		rc = put_ops(&b, "failure", failure, nfailure);
	wsr_buf_putc(&b, '}');
	if (rc) {
		wsr_buf_free(&b);
		*err = wsr_strdupf("%setcd: a txn compare or operation is not valid (a key, "
				   "target, result, value or number is missing or out of range)",
				   c->where);
		return WSR_EINVAL;
	}
	cJSON *ans;
	int code;
	/* a txn that only reads can be sent again anywhere */
	int resend = !writes(success, nsuccess) && !writes(failure, nfailure);
	rc = send_built(c, "/v3/kv/txn", &b, resend, &ans, &code, err);
	if (rc)
		return rc;
	const char *what = NULL;
	int succeeded = 0;
	if (get_bool(ans, "succeeded", &succeeded) != 0) {
		rc = WSR_ECORRUPT;
		what = "succeeded is not a bool";
	} else {
		rc = parse_txn(ans, succeeded ? success : failure, succeeded ? nsuccess : nfailure,
			       out, &what);
	}
	cJSON_Delete(ans);
	if (rc) {
		wsr_etcd_txn_result_free(out);
		return rc == WSR_ECORRUPT ? corrupt(c, "/v3/kv/txn", what, err) : rc;
	}
	return 0;
}

/* ---- leases ---- */

int wsr_etcd_lease_grant(wsr_etcd *c, int64_t ttl_s, int64_t *id, char **err)
{
	*id = 0;
	*err = NULL;
	if (ttl_s <= 0) {
		*err = wsr_strdupf("%setcd: a lease needs a TTL of at least 1 s", c->where);
		return WSR_EINVAL;
	}
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_printf(&b, "{\"TTL\":\"%lld\"}", (long long)ttl_s);
	cJSON *ans;
	int code;
	/* sent twice, a grant leaves one unused lease that expires by itself */
	int rc = send_built(c, "/v3/lease/grant", &b, 1, &ans, &code, err);
	if (rc)
		return rc;
	int64_t got = 0, ttl = 0;
	if (get_i64(ans, "ID", &got) || get_i64(ans, "TTL", &ttl) || got == 0)
		rc = corrupt(c, "/v3/lease/grant", "ID or TTL is missing or not a number", err);
	else
		*id = got;
	cJSON_Delete(ans);
	return rc;
}

int wsr_etcd_lease_keepalive(wsr_etcd *c, int64_t id, int64_t *ttl, char **err)
{
	*ttl = 0;
	*err = NULL;
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_printf(&b, "{\"ID\":\"%lld\"}", (long long)id);
	cJSON *ans;
	int code;
	int rc = send_built(c, "/v3/lease/keepalive", &b, 1, &ans, &code, err);
	if (rc)
		return rc;
	/* a stream through the gateway: one {"result": LeaseKeepAliveResponse} */
	const cJSON *res = NULL;
	int64_t got = 0, left = 0;
	if (get_obj(ans, "result", &res) || !res || get_i64(res, "ID", &got) ||
	    get_i64(res, "TTL", &left) || (got != 0 && got != id))
		rc = corrupt(c, "/v3/lease/keepalive", "result.ID or result.TTL is wrong", err);
	else
		*ttl = left; /* absent: the lease no longer exists */
	cJSON_Delete(ans);
	return rc;
}

int wsr_etcd_lease_revoke(wsr_etcd *c, int64_t id, char **err)
{
	*err = NULL;
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_printf(&b, "{\"ID\":\"%lld\"}", (long long)id);
	cJSON *ans;
	int code;
	/* sent again after a timeout, a revoke that was applied the first
	 * time answers "not found": the lease is gone either way */
	int rc = send_built(c, "/v3/lease/revoke", &b, 1, &ans, &code, err);
	cJSON_Delete(ans);
	if (rc == WSR_EAPI && code == 5) /* NotFound: "requested lease not found" */
		return WSR_ENOTFOUND;
	return rc;
}
