/* test_watch_http: the endpoints of `wsr watch` as a monitoring system, a
 * load balancer and a Git host see them: a server started on 127.0.0.1
 * (port 0) and driven with libcurl through lib/http. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/diag.h"
#include "lib/err.h"
#include "lib/http.h"
#include "reconciler/metrics.h"
#include "reconciler/watch_http.h"

#define SECRET "It's a Secret to Everybody"
/* GitHub's documented example: HMAC-SHA256(SECRET, "Hello, World!") */
#define BODY "Hello, World!"
#define SIG "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

typedef struct fixture {
	wsr_watch_http *h;
	wsr_metrics *m;
	wsr_http *client;
	atomic_int hooks;
	char url[64];
} fixture;

static void on_hook(void *arg)
{
	atomic_fetch_add(&((fixture *)arg)->hooks, 1);
}

static fixture *start(const char *secret, int64_t stale_ms)
{
	fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->m = wsr_metrics_new();
	wsr_watch_http_opts o = {.listen = "127.0.0.1:0",
				 .secret = secret,
				 .secret_len = secret ? strlen(secret) : 0,
				 .metrics = f->m,
				 .hook = on_hook,
				 .arg = f,
				 .stale_ms = stale_ms};
	wsr_diag d;
	wsr_diag_init(&d);
	assert_int_equal(wsr_watch_http_start(&f->h, &o, &d), 0);
	assert_int_equal(d.n, 0);
	wsr_diag_free(&d);
	assert_true(wsr_watch_http_port(f->h) > 0);
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", wsr_watch_http_port(f->h));
	wsr_http_opts ho = WSR_HTTP_OPTS_INIT;
	ho.base_url = f->url;
	ho.max_retries = 0; /* a 503 is the answer under test, not a reason to retry */
	char *err = NULL;
	assert_int_equal(wsr_http_new(&f->client, &ho, &err), 0);
	return f;
}

static void stop(fixture *f)
{
	wsr_http_free(f->client);
	wsr_watch_http_stop(f->h);
	wsr_metrics_free(f->m);
	free(f);
}

/* Sends a request; returns the status, the body in *body (caller frees). */
static long call(fixture *f, const char *method, const char *path, const char *const *headers,
		 const char *payload, char **body)
{
	wsr_http_resp r;
	char *err = NULL;
	int rc = wsr_http_request(f->client, &r, method, path, headers, payload, &err);
	if (rc)
		fail_msg("%s %s: %s", method, path, err ? err : wsr_strerror(rc));
	long status = r.status;
	if (body)
		*body = r.body;
	else
		free(r.body);
	return status;
}

static long get(fixture *f, const char *path, char **body)
{
	return call(f, "GET", path, NULL, NULL, body);
}

/* GET path answers status with a body that contains want. */
static void expect(fixture *f, const char *path, long status, const char *want)
{
	char *body;
	assert_int_equal(get(f, path, &body), status);
	if (!strstr(body, want))
		fail_msg("GET %s: %s, want %s", path, body, want);
	free(body);
}

/* What lib/http does not show: response headers, and a chunked upload. */
typedef struct raw_resp {
	long status;
	char type[128], allow[64];
} raw_resp;

static size_t on_header(char *b, size_t size, size_t n, void *arg)
{
	raw_resp *r = arg;
	size_t len = size * n;
	if (len > 7 && strncasecmp(b, "Allow: ", 7) == 0)
		snprintf(r->allow, sizeof(r->allow), "%.*s", (int)strcspn(b + 7, "\r\n"), b + 7);
	return len;
}

static size_t discard(char *b, size_t size, size_t n, void *arg)
{
	(void)b, (void)arg;
	return size * n;
}

static size_t chunk_src(char *b, size_t size, size_t n, void *arg)
{
	size_t *left = arg, len = size * n < *left ? size * n : *left;
	memset(b, 'x', len);
	*left -= len;
	return len;
}

/* method path; with chunked > 0 a chunked body of that many bytes. Status 0
 * when no answer came. */
static raw_resp raw(fixture *f, const char *method, const char *path, size_t chunked)
{
	raw_resp r = {0, "", ""};
	char url[128];
	snprintf(url, sizeof(url), "%s%s", f->url, path);
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_NOBODY, strcmp(method, "HEAD") == 0 ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	if (chunked) {
		h = curl_slist_append(h, "Transfer-Encoding: chunked");
		h = curl_slist_append(h, "X-Hub-Signature-256: " SIG);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, chunk_src);
		curl_easy_setopt(c, CURLOPT_READDATA, &chunked);
	}
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OK) /* else status 0: no answer */
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	const char *type = NULL;
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
	snprintf(r.type, sizeof(r.type), "%s", type ? type : "");
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return r;
}

static double webhook_errors(fixture *f)
{
	char *t = wsr_metrics_render(f->m);
	const char *p = strstr(t, "\nwsr_errors_total{kind=\"webhook\"} ");
	double v = p ? strtod(p + strlen("\nwsr_errors_total{kind=\"webhook\"} "), NULL) : -1;
	free(t);
	return v;
}

static void test_healthz_follows_the_heartbeat(void **st)
{
	(void)st;
	fixture *f = start(NULL, 300);
	expect(f, "/healthz", 200, "ok\n"); /* fresh at start */
	wsr_sleep_ms(400, NULL);
	expect(f, "/healthz", 503, "heartbeat");
	wsr_watch_http_beat(f->h);
	expect(f, "/healthz", 200, "ok\n");
	stop(f);

	/* the default bound is ten minutes, not the test's */
	f = start(NULL, 0);
	wsr_sleep_ms(400, NULL);
	expect(f, "/healthz", 200, "ok\n");
	stop(f);
}

static void test_readyz_and_status_follow_publish(void **st)
{
	(void)st;
	fixture *f = start(NULL, 0);
	expect(f, "/readyz", 503, "not ready: no reconcile has finished yet\n");
	expect(f, "/status", 503, "no status yet");

	const char *s1 = "{\"format\":\"wsr.status/v1\",\"reconcile\":{\"count\":1}}";
	wsr_watch_http_publish(f->h, s1, 0, "source unreachable: connection refused");
	expect(f, "/readyz", 503, "not ready: source unreachable: connection refused\n");
	expect(f, "/status", 200, s1);
	wsr_http_answer ans;
	cJSON *j = NULL;
	char *err = NULL;
	assert_int_equal(
	    wsr_http_request_json(f->client, &ans, &j, "GET", "/status", NULL, NULL, &err), 0);
	assert_string_equal(cJSON_GetObjectItem(j, "format")->valuestring, "wsr.status/v1");
	cJSON_Delete(j);
	assert_string_equal(raw(f, "GET", "/status", 0).type, "application/json");

	/* ready; a NULL status keeps the last one */
	wsr_watch_http_publish(f->h, NULL, 1, NULL);
	expect(f, "/readyz", 200, "ready\n");
	expect(f, "/status", 200, s1);
	wsr_watch_http_publish(f->h, "{\"n\":2}", 0, NULL);
	expect(f, "/readyz", 503, "not ready");
	char *body;
	assert_int_equal(get(f, "/status", &body), 200);
	assert_string_equal(body, "{\"n\":2}\n");
	free(body);
	stop(f);
}

static void test_metrics_endpoint(void **st)
{
	(void)st;
	fixture *f = start(NULL, 0);
	wsr_metrics_reconcile(f->m, "ok", 0.2, 1763716500000LL);
	char *body;
	assert_int_equal(get(f, "/metrics", &body), 200);
	static const char *const fams[] = {"wsr_reconcile_total",
					   "wsr_reconcile_duration_seconds",
					   "wsr_last_success_timestamp_seconds",
					   "wsr_changes_applied_total",
					   "wsr_drift_detected_total",
					   "wsr_errors_total",
					   "wsr_source_fetch_duration_seconds",
					   "wsr_held_changes",
					   "wsr_source_info"};
	for (size_t i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		char want[96];
		snprintf(want, sizeof(want), "# TYPE %s ", fams[i]);
		assert_non_null(strstr(body, want));
	}
	assert_non_null(strstr(body, "wsr_reconcile_total{result=\"ok\"} 1\n"));
	free(body);
	assert_string_equal(raw(f, "GET", "/metrics", 0).type,
			    "text/plain; version=0.0.4; charset=utf-8");
	stop(f);
}

static void test_routes(void **st)
{
	(void)st;
	fixture *f = start(SECRET, 0);
	raw_resp r = raw(f, "GET", "/hooks/git", 0);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "POST");
	r = raw(f, "POST", "/healthz", 0);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "GET, HEAD");
	assert_int_equal(raw(f, "HEAD", "/healthz", 0).status, 200);
	assert_int_equal(get(f, "/nope", NULL), 404);
	assert_int_equal(get(f, "/hooks/git/x", NULL), 404);
	assert_int_equal(get(f, "/healthz/", NULL), 404);
	assert_int_equal(atomic_load(&f->hooks), 0);
	stop(f);
}

static void test_authentic_hooks_wake_the_loop(void **st)
{
	(void)st;
	fixture *f = start(SECRET, 0);
	char *body;
	const char *github[] = {"X-Hub-Signature-256: " SIG, "X-GitHub-Event: push", NULL};
	assert_int_equal(call(f, "POST", "/hooks/git", github, BODY, &body), 202);
	assert_string_equal(body, "accepted\n");
	free(body);
	assert_int_equal(atomic_load(&f->hooks), 1);
	const char *gitlab[] = {"X-Gitlab-Token: " SECRET, NULL};
	assert_int_equal(call(f, "POST", "/hooks/git", gitlab, "{}", NULL), 202);
	assert_int_equal(atomic_load(&f->hooks), 2);
	assert_true(webhook_errors(f) == 0);
	stop(f);
}

/* Runs fn with stderr captured; returns what was written (caller frees). */
static char *captured_stderr(void (*fn)(fixture *), fixture *f)
{
	char path[] = "/tmp/wsr-watch-http-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	fn(f);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	char *out = NULL;
	size_t len;
	FILE *in = fopen(path, "r");
	assert_non_null(in);
	assert_true(getdelim(&out, &len, '\0', in) >= 0 || (out && !out[0]));
	fclose(in);
	unlink(path);
	return out;
}

static void refused_hooks(fixture *f)
{
	char *body;
	assert_int_equal(call(f, "POST", "/hooks/git", NULL, BODY, &body), 401);
	assert_string_equal(body, "missing signature\n");
	free(body);
	const char *bad[] = {
	    "X-Hub-Signature-256: "
	    "sha256=0000000000000000000000000000000000000000000000000000000000000000",
	    "X-Gitlab-Token: tok-not-the-secret", NULL};
	assert_int_equal(call(f, "POST", "/hooks/git", bad, BODY, &body), 401);
	assert_string_equal(body, "bad signature\n"); /* never the expected value */
	free(body);
	/* signed, but for another body */
	const char *github[] = {"X-Hub-Signature-256: " SIG, NULL};
	assert_int_equal(call(f, "POST", "/hooks/git", github, "Hello, World?", NULL), 401);
}

static void test_refused_hooks(void **st)
{
	(void)st;
	fixture *f = start(SECRET, 0);
	char *log = captured_stderr(refused_hooks, f);
	assert_int_equal(atomic_load(&f->hooks), 0);
	assert_true(webhook_errors(f) == 3);
	/* each refusal is logged, without what the client sent */
	assert_non_null(
	    strstr(log, "warning: webhook from 127.0.0.1 refused (401): bad signature"));
	assert_null(strstr(log, "tok-not-the-secret"));
	assert_null(strstr(log, "000000000000"));
	assert_null(strstr(log, "757107ea"));
	free(log);
	stop(f);

	/* no secret configured: even GitHub's own example is refused */
	f = start(NULL, 0);
	const char *github[] = {"X-Hub-Signature-256: " SIG, NULL};
	char *body;
	assert_int_equal(call(f, "POST", "/hooks/git", github, BODY, &body), 401);
	assert_string_equal(body, "no webhook secret configured\n");
	free(body);
	const char *gitlab[] = {"X-Gitlab-Token: ", NULL};
	assert_int_equal(call(f, "POST", "/hooks/git", gitlab, BODY, NULL), 401);
	assert_int_equal(atomic_load(&f->hooks), 0);
	assert_true(webhook_errors(f) == 2);
	stop(f);
}

static char *signed_header(const char *body, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	assert_non_null(HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)body,
			     len, md, &mdlen));
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_puts(&b, "X-Hub-Signature-256: sha256=");
	for (unsigned i = 0; i < mdlen; i++)
		wsr_buf_printf(&b, "%02x", md[i]);
	return wsr_buf_detach(&b);
}

static void test_body_limit(void **st)
{
	(void)st;
	fixture *f = start(SECRET, 0);
	/* exactly the limit is read and verified */
	char *body = malloc(2 * WSR_WATCH_MAX_HOOK_BODY + 1);
	memset(body, 'x', 2 * WSR_WATCH_MAX_HOOK_BODY);
	body[WSR_WATCH_MAX_HOOK_BODY] = '\0';
	char *sig = signed_header(body, WSR_WATCH_MAX_HOOK_BODY);
	const char *h[] = {sig, NULL};
	assert_int_equal(call(f, "POST", "/hooks/git", h, body, NULL), 202);
	assert_int_equal(atomic_load(&f->hooks), 1);
	free(sig);
	/* one byte more is refused from its Content-Length, signed or not */
	body[WSR_WATCH_MAX_HOOK_BODY] = 'x';
	body[WSR_WATCH_MAX_HOOK_BODY + 1] = '\0';
	sig = signed_header(body, WSR_WATCH_MAX_HOOK_BODY + 1);
	h[0] = sig;
	char *answer;
	assert_int_equal(call(f, "POST", "/hooks/git", h, body, &answer), 413);
	assert_non_null(strstr(answer, "larger than 1048576 bytes"));
	free(answer);
	free(sig);
	/* 2 MiB */
	body[2 * WSR_WATCH_MAX_HOOK_BODY] = '\0';
	sig = signed_header(body, 2 * WSR_WATCH_MAX_HOOK_BODY);
	h[0] = sig;
	assert_int_equal(call(f, "POST", "/hooks/git", h, body, NULL), 413);
	free(sig);
	free(body);
	/* without a Content-Length: refused when the bytes pass the limit */
	assert_int_equal(raw(f, "POST", "/hooks/git", 2 * WSR_WATCH_MAX_HOOK_BODY).status, 413);
	/* ... and one that goes on and on is cut off, not drained for ever */
	assert_int_equal(
	    raw(f, "POST", "/hooks/git", WSR_WATCH_MAX_HOOK_BODY + 2 * WSR_WATCH_MAX_HOOK_DRAIN)
		.status,
	    0);
	assert_int_equal(atomic_load(&f->hooks), 1);
	assert_true(webhook_errors(f) == 4);
	/* and the server still serves */
	assert_int_equal(get(f, "/healthz", NULL), 200);
	stop(f);
}

/* A raw connection to the server, for what libcurl will not do: pause in
 * the middle of a body. */
static int dial(fixture *f)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)wsr_watch_http_port(f->h))};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		assert_true(w > 0);
		p += w;
		n -= (size_t)w;
	}
}

/* Everything the server sends until it closes (at most 10 s), NUL-ended. */
static void read_answer(int fd, char *out, size_t cap)
{
	size_t len = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (len + 1 < cap && poll(&p, 1, 10000) == 1) {
		ssize_t r = recv(fd, out + len, cap - 1 - len, 0);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	out[len] = '\0';
}

/* A refused hook whose client is sending the body is answered after the
 * body, not in its middle: answering and closing there resets the
 * connection, and the client loses the 413 (seen as "broken pipe" when the
 * server is slow, under ThreadSanitizer or load). */
static void test_refusal_waits_for_the_body(void **st)
{
	(void)st;
	fixture *f = start(SECRET, 0);
	size_t n = WSR_WATCH_MAX_HOOK_BODY + 1;
	char *body = malloc(n);
	memset(body, 'x', n);
	char head[256];
	snprintf(head, sizeof(head),
		 "POST /hooks/git HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %zu\r\n"
		 "X-Hub-Signature-256: " SIG "\r\n\r\n",
		 n);
	int fd = dial(f);
	send_all(fd, head, strlen(head));
	send_all(fd, body, n / 2);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 300), 0); /* no answer, no close, mid-body */
	send_all(fd, body + n / 2, n - n / 2);
	char answer[1024];
	read_answer(fd, answer, sizeof(answer));
	assert_true(strncmp(answer, "HTTP/1.1 413", 12) == 0);
	assert_non_null(strstr(answer, "body larger than 1048576 bytes"));
	close(fd);
	free(body);

	/* a client that waits with Expect: 100-continue is answered at once,
	 * and never asked for the body */
	snprintf(head, sizeof(head),
		 "POST /hooks/git HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %zu\r\n"
		 "Expect: 100-continue\r\nX-Hub-Signature-256: " SIG "\r\n\r\n",
		 n);
	fd = dial(f);
	send_all(fd, head, strlen(head));
	read_answer(fd, answer, sizeof(answer));
	assert_true(strncmp(answer, "HTTP/1.1 413", 12) == 0);
	assert_null(strstr(answer, "100 Continue"));
	close(fd);

	/* so is one whose body is more than would be drained */
	snprintf(head, sizeof(head),
		 "POST /hooks/git HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n"
		 "X-Hub-Signature-256: " SIG "\r\n\r\n",
		 WSR_WATCH_MAX_HOOK_BODY + WSR_WATCH_MAX_HOOK_DRAIN + 1);
	fd = dial(f);
	send_all(fd, head, strlen(head));
	read_answer(fd, answer, sizeof(answer));
	assert_true(strncmp(answer, "HTTP/1.1 413", 12) == 0);
	close(fd);
	assert_true(webhook_errors(f) == 3);
	assert_int_equal(get(f, "/healthz", NULL), 200);
	stop(f);
}

static void test_listen_errors(void **st)
{
	(void)st;
	fixture *f = start(NULL, 0);
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", wsr_watch_http_port(f->h));
	wsr_watch_http_opts o = {.listen = addr};
	wsr_watch_http *h = NULL;
	wsr_diag d;
	wsr_diag_init(&d);
	assert_int_equal(wsr_watch_http_start(&h, &o, &d), WSR_EIO);
	assert_null(h);
	assert_int_equal(d.n, 1);
	char want[128];
	snprintf(want, sizeof(want), "cannot listen on %s: Address already in use", addr);
	assert_string_equal(d.v[0].summary, want);
	wsr_diag_free(&d);
	assert_int_equal(get(f, "/healthz", NULL), 200); /* the first one is unharmed */
	stop(f);

	static const char *const bad[] = {
	    "9464",	      "127.0.0.1", "127.0.0.1:",   "127.0.0.1:99999", "127.0.0.1:-1",
	    "example.com:80", "[::1:80",   "1.2.3.4.5:80", "127.0.0.1:8x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("%s\n", bad[i]);
		wsr_diag_init(&d);
		o.listen = bad[i];
		assert_int_equal(wsr_watch_http_start(&h, &o, &d), WSR_EINVAL);
		assert_null(h);
		assert_int_equal(strncmp(d.v[0].summary, "cannot listen on ", 17), 0);
		assert_non_null(strstr(d.v[0].summary, bad[i]));
		wsr_diag_free(&d);
	}
	o.listen = NULL;
	wsr_diag_init(&d);
	assert_int_equal(wsr_watch_http_start(&h, &o, &d), WSR_EINVAL);
	wsr_diag_free(&d);
}

static void test_other_addresses(void **st)
{
	(void)st;
	static const char *const ok[] = {"localhost:0", "[::1]:0", ":0"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		print_message("%s\n", ok[i]);
		wsr_watch_http_opts o = {.listen = ok[i]};
		wsr_watch_http *h = NULL;
		wsr_diag d;
		wsr_diag_init(&d);
		int rc = wsr_watch_http_start(&h, &o, &d);
		if (rc && strchr(ok[i], '[')) { /* a machine without IPv6 */
			wsr_diag_free(&d);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_true(wsr_watch_http_port(h) > 0);
		wsr_watch_http_stop(h);
		wsr_diag_free(&d);
	}
	wsr_watch_http_stop(NULL);
}

/* SigBlk of every thread but this one must hold SIGINT, SIGTERM, SIGHUP:
 * else the kernel may hand the watch loop's signals to the server. */
static void test_server_threads_block_signals(void **st)
{
	(void)st;
	sigset_t none, old;
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, &old);
	fixture *f = start(NULL, 0);
	unsigned long want = 1UL << (SIGINT - 1) | 1UL << (SIGTERM - 1) | 1UL << (SIGHUP - 1);
	pid_t self = (pid_t)syscall(SYS_gettid);
	int others = 0;
	DIR *dir = opendir("/proc/self/task");
	assert_non_null(dir);
	for (struct dirent *e; (e = readdir(dir));) {
		if (e->d_name[0] == '.' || atoi(e->d_name) == self)
			continue;
		char path[64], line[128];
		snprintf(path, sizeof(path), "/proc/self/task/%d/status", atoi(e->d_name));
		FILE *s = fopen(path, "r");
		if (!s)
			continue; /* a thread that just ended */
		while (fgets(line, sizeof(line), s))
			if (strncmp(line, "SigBlk:", 7) == 0) {
				unsigned long blk = strtoul(line + 7, NULL, 16);
				assert_int_equal(blk & want, want);
				others++;
			}
		fclose(s);
	}
	closedir(dir);
	assert_true(others >= 1);
	/* and the caller's mask is as it was */
	sigset_t now;
	pthread_sigmask(SIG_SETMASK, NULL, &now);
	assert_int_equal(sigismember(&now, SIGTERM), 0);
	stop(f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_server_threads_block_signals),
	    cmocka_unit_test(test_healthz_follows_the_heartbeat),
	    cmocka_unit_test(test_readyz_and_status_follow_publish),
	    cmocka_unit_test(test_metrics_endpoint),
	    cmocka_unit_test(test_routes),
	    cmocka_unit_test(test_authentic_hooks_wake_the_loop),
	    cmocka_unit_test(test_refused_hooks),
	    cmocka_unit_test(test_body_limit),
	    cmocka_unit_test(test_refusal_waits_for_the_body),
	    cmocka_unit_test(test_listen_errors),
	    cmocka_unit_test(test_other_addresses),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
