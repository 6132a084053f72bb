/* test_http: the HTTP client against a scripted libmicrohttpd server started
 * inside the test on 127.0.0.1 (port 0). Each test scripts the statuses the
 * server answers and asserts what a caller would notice: retries, waits,
 * limits, refusals, the bearer header, connection reuse and thread safety. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/http.h"

/* One scripted answer; the last one repeats once the script runs out. */
typedef struct answer {
	unsigned status;
	const char *retry_after; /* NULL: no header */
	size_t body_len;	 /* body of 'x' bytes; 0 with text */
	const char *text;
	int chunked; /* no Content-Length */
} answer;

static struct {
	pthread_mutex_t mu;
	const answer *script;
	size_t n, next;
	unsigned requests, connections;
	char auth[256];
	char last_method[16];
	char last_body[256];
	char last_header[256];
} srv = {.mu = PTHREAD_MUTEX_INITIALIZER};

static struct MHD_Daemon *daemon_;
static char base_url[64];

static ssize_t chunk_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
	size_t total = (size_t)(uintptr_t)cls;
	if (pos >= total)
		return MHD_CONTENT_READER_END_OF_STREAM;
	size_t n = total - pos < max ? total - pos : max;
	memset(buf, 'x', n);
	return (ssize_t)n;
}

static enum MHD_Result respond(struct MHD_Connection *c, const answer *a)
{
	struct MHD_Response *r;
	if (a->chunked) {
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, chunk_cb,
						      (void *)(uintptr_t)a->body_len, NULL);
	} else if (a->text) {
		r = MHD_create_response_from_buffer(strlen(a->text), (void *)a->text,
						    MHD_RESPMEM_PERSISTENT);
	} else {
		char *b = malloc(a->body_len + 1);
		memset(b, 'x', a->body_len);
		r = MHD_create_response_from_buffer(a->body_len, b, MHD_RESPMEM_MUST_FREE);
	}
	if (a->retry_after)
		MHD_add_response_header(r, "Retry-After", a->retry_after);
	enum MHD_Result ret = MHD_queue_response(c, a->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	(void)cls, (void)url, (void)version;
	if (!*con_cls) { /* first call: headers only */
		*con_cls = c;
		pthread_mutex_lock(&srv.mu);
		srv.last_body[0] = '\0';
		pthread_mutex_unlock(&srv.mu);
		return MHD_YES;
	}
	pthread_mutex_lock(&srv.mu);
	if (*upload_size) {
		strncat(srv.last_body, upload,
			*upload_size < sizeof(srv.last_body) - strlen(srv.last_body) - 1
			    ? *upload_size
			    : sizeof(srv.last_body) - strlen(srv.last_body) - 1);
		*upload_size = 0;
		pthread_mutex_unlock(&srv.mu);
		return MHD_YES;
	}
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	const char *x = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Test");
	snprintf(srv.auth, sizeof(srv.auth), "%s", auth ? auth : "");
	snprintf(srv.last_header, sizeof(srv.last_header), "%s", x ? x : "");
	snprintf(srv.last_method, sizeof(srv.last_method), "%s", method);
	srv.requests++;
	const answer *a = &srv.script[srv.next < srv.n ? srv.next : srv.n - 1];
	srv.next++;
	pthread_mutex_unlock(&srv.mu);
	return respond(c, a);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	(void)cls, (void)c, (void)socket_context;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		pthread_mutex_lock(&srv.mu);
		srv.connections++;
		pthread_mutex_unlock(&srv.mu);
	}
}

/* Serves script on 127.0.0.1; over TLS when cert and key (PEM) are given. */
static void serve_on(const answer *script, size_t n, const char *cert, const char *key)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv.script = script;
	srv.n = n;
	srv.next = srv.requests = srv.connections = 0;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
	/* without TLS the option list ends before the certificate options */
	daemon_ =
	    MHD_start_daemon(flags | (cert ? MHD_USE_TLS : 0), 0, NULL, NULL, handler, NULL,
			     MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
			     NULL, cert ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, key,
			     MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_END);
	assert_non_null(daemon_);
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(base_url, sizeof(base_url), "%s://127.0.0.1:%u", cert ? "https" : "http",
		 info->port);
}

static void serve(const answer *script, size_t n)
{
	serve_on(script, n, NULL, NULL);
}

static int teardown(void **state)
{
	(void)state;
	if (daemon_)
		MHD_stop_daemon(daemon_);
	daemon_ = NULL;
	return 0;
}

static wsr_http *client(long backoff_base, long backoff_max, int retries, size_t max_response)
{
	wsr_http_opts o = WSR_HTTP_OPTS_INIT;
	o.base_url = base_url;
	o.bearer = "s3cret-token";
	o.backoff_base_ms = backoff_base;
	o.backoff_max_ms = backoff_max;
	o.max_retries = retries;
	o.max_response = max_response;
	wsr_http *h = NULL;
	char *err = NULL;
	assert_int_equal(wsr_http_new(&h, &o, &err), 0);
	assert_null(err);
	return h;
}

/* GET path, asserting the return code; returns how long it took in ms. */
static int64_t get(wsr_http *h, wsr_http_resp *r, const char *path, int want_rc)
{
	char *err = NULL;
	int64_t t0 = wsr_clock_mono_ms();
	assert_int_equal(wsr_http_request(h, r, "GET", path, NULL, NULL, &err), want_rc);
	free(err);
	return wsr_clock_mono_ms() - t0;
}

static void test_retry_503_then_success(void **state)
{
	(void)state;
	static const answer s[] = {{503, NULL, 0, "busy", 0},
				   {503, NULL, 0, "busy", 0},
				   {200, NULL, 0, "{\"ok\":true}", 0}};
	serve(s, 3);
	wsr_http *h = client(1, 10, 5, 0);
	wsr_http_resp r;
	get(h, &r, "/v1/x", 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.attempts, 3);
	assert_string_equal(r.body, "{\"ok\":true}");
	assert_int_equal(r.len, 11);
	assert_int_equal(wsr_http_requests(h), 3);
	assert_int_equal(srv.requests, 3);
	wsr_http_resp_free(&r);
	wsr_http_free(h);
}

/* A first answer status/Retry-After, then 200: the wait lies in [min, max). */
static void expect_wait(unsigned status, const char *retry_after, long backoff_max, int64_t min,
			int64_t max)
{
	const answer s[] = {{status, retry_after, 0, "wait", 0}, {200, NULL, 0, "ok", 0}};
	serve(s, 2);
	wsr_http *h = client(1, backoff_max, 5, 0);
	wsr_http_resp r;
	int64_t took = get(h, &r, "/", 0);
	assert_int_equal(r.status, 200);
	if (took < min || took >= max)
		fail_msg("waited %lld ms, expected [%lld, %lld)", (long long)took, (long long)min,
			 (long long)max);
	wsr_http_resp_free(&r);
	wsr_http_free(h);
}

static void test_retry_after_is_honoured(void **state)
{
	(void)state;
	/* backoff alone would have waited at most 1 ms */
	expect_wait(429, "1", 5000, 1000, 3000);
}

static void test_retry_after_is_capped_by_backoff_max(void **state)
{
	(void)state;
	expect_wait(503, "3600", 200, 200, 2000);
}

/* Without retries a 429 comes back at once, with its Retry-After for the
 * caller to honour (a kcp home's creation polls instead of sleeping). */
static void test_retry_after_reported_without_retries(void **state)
{
	(void)state;
	static const answer s[] = {{429, "7", 0, "Creating the home workspace", 0},
				   {200, NULL, 0, "ok", 0}};
	serve(s, 2);
	wsr_http *h = client(1, 10000, 0, 0);
	wsr_http_resp r;
	assert_true(get(h, &r, "/", 0) < 1000);
	assert_int_equal(r.status, 429);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(r.retry_after_s, 7);
	wsr_http_resp_free(&r);
	get(h, &r, "/", 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.retry_after_s, 0); /* none sent */
	wsr_http_resp_free(&r);
	wsr_http_free(h);
}

static void test_gives_up_with_last_status(void **state)
{
	(void)state;
	static const answer s[] = {{503, NULL, 0, "a", 0}, {502, NULL, 0, "bad gateway", 0}};
	serve(s, 2);
	wsr_http *h = client(1, 5, 2, 0);
	wsr_http_resp r;
	get(h, &r, "/", 0);
	assert_int_equal(r.status, 502);
	assert_int_equal(r.attempts, 3); /* the first try and two retries */
	assert_string_equal(r.body, "bad gateway");
	assert_int_equal(srv.requests, 3);
	wsr_http_resp_free(&r);
	wsr_http_free(h);
}

static void test_client_errors_are_not_retried(void **state)
{
	(void)state;
	static const answer s[] = {{404, NULL, 0, "{}", 0}};
	serve(s, 1);
	wsr_http *h = client(1, 5, 5, 0);
	wsr_http_resp r;
	get(h, &r, "/", 0);
	assert_int_equal(r.status, 404);
	assert_int_equal(r.attempts, 1);
	wsr_http_resp_free(&r);
	wsr_http_free(h);
}

static unsigned free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd); /* nothing listens there now */
	return ntohs(sa.sin_port);
}

static void test_connection_refused(void **state)
{
	(void)state;
	snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%u", free_port());
	wsr_http *h = client(1, 5, 2, 0);
	wsr_http_resp r;
	char *err = NULL;
	assert_int_equal(wsr_http_request(h, &r, "GET", "/v1/principal", NULL, NULL, &err),
			 WSR_EHTTP);
	assert_non_null(err);
	assert_non_null(strstr(err, "/v1/principal"));
	assert_non_null(strstr(err, "3 attempts"));
	assert_null(strstr(err, "s3cret")); /* the key never shows in messages */
	assert_int_equal(r.attempts, 3);
	assert_int_equal(wsr_http_requests(h), 0); /* nothing reached a server */
	free(err);
	wsr_http_resp_free(&r);
	wsr_http_free(h);
}

static void expect_size(size_t max, size_t body, int chunked, int want_rc)
{
	const answer s[] = {{200, NULL, body, NULL, chunked}};
	serve(s, 1);
	wsr_http *h = client(1, 5, 3, max);
	wsr_http_resp r;
	char *err = NULL;
	assert_int_equal(wsr_http_request(h, &r, "GET", "/", NULL, NULL, &err), want_rc);
	if (want_rc == 0) {
		assert_int_equal(r.len, body);
	} else {
		assert_non_null(strstr(err, "larger than"));
		assert_int_equal(r.attempts, 1); /* a too-large answer is not retried */
	}
	free(err);
	wsr_http_resp_free(&r);
	wsr_http_free(h);
	teardown(NULL);
}

static void test_response_size_limit_boundary(void **state)
{
	(void)state;
	expect_size(100000, 100000, 0, 0);
	expect_size(100000, 100001, 0, WSR_ELIMIT); /* Content-Length known */
	expect_size(100000, 100000, 1, 0);
	expect_size(100000, 100001, 1, WSR_ELIMIT); /* chunked: counted as it arrives */
}

static void expect_url(const char *url, int ok)
{
	wsr_http_opts o = WSR_HTTP_OPTS_INIT;
	o.base_url = url;
	o.bearer = "s3cret-token";
	wsr_http *h = NULL;
	char *err = NULL;
	int rc = wsr_http_new(&h, &o, &err);
	if (ok) {
		assert_int_equal(rc, 0);
		assert_non_null(h);
	} else {
		assert_int_equal(rc, WSR_EINVAL);
		assert_null(h);
		assert_non_null(err);
		assert_null(strstr(err, "s3cret"));
	}
	free(err);
	wsr_http_free(h);
}

static void test_cleartext_only_to_loopback(void **state)
{
	(void)state;
	expect_url("http://example.com", 0);
	expect_url("http://10.0.0.1:8080", 0);
	expect_url("http://127.example.com", 0);
	expect_url("http://128.0.0.1", 0);
	expect_url("ftp://127.0.0.1", 0);
	expect_url("not a url", 0);
	expect_url("http://127.0.0.1:1", 1);
	expect_url("http://127.255.0.9", 1);
	expect_url("http://localhost:8080", 1);
	expect_url("http://[::1]:8080", 1);
	expect_url("https://api.example.com", 1);

	wsr_http_opts o = WSR_HTTP_OPTS_INIT;
	o.base_url = "http://example.com";
	wsr_http *h = NULL;
	char *err = NULL;
	assert_int_equal(wsr_http_new(&h, &o, &err), WSR_EINVAL);
	assert_non_null(strstr(err, "in clear"));
	free(err);
}

static void test_bearer_headers_and_body_sent(void **state)
{
	(void)state;
	static const answer s[] = {{201, NULL, 0, "{}", 0}};
	serve(s, 1);
	wsr_http *h = client(1, 5, 0, 0);
	wsr_http_resp r;
	char *err = NULL;
	const char *hdrs[] = {"X-Test: hello", NULL};
	assert_int_equal(wsr_http_request(h, &r, "PATCH", "/v1/w", hdrs, "{\"a\":1}", &err), 0);
	assert_int_equal(r.status, 201);
	assert_string_equal(srv.auth, "Bearer s3cret-token");
	assert_string_equal(srv.last_header, "hello");
	assert_string_equal(srv.last_method, "PATCH");
	assert_string_equal(srv.last_body, "{\"a\":1}");
	wsr_http_resp_free(&r);
	wsr_http_free(h);
}

static void test_connection_is_reused(void **state)
{
	(void)state;
	static const answer s[] = {{200, NULL, 0, "{\"items\":[]}", 0}};
	serve(s, 1);
	wsr_http *h = client(1, 5, 0, 0);
	for (int i = 0; i < 20; i++) {
		wsr_http_resp r;
		get(h, &r, "/page", 0);
		wsr_http_resp_free(&r);
	}
	assert_int_equal(srv.requests, 20);
	assert_int_equal(srv.connections, 1); /* pages of a listing share one connection */
	wsr_http_free(h);
}

#define THREADS 4
#define PER_THREAD 25

static void *worker(void *arg)
{
	wsr_http *h = arg;
	for (int i = 0; i < PER_THREAD; i++) {
		wsr_http_resp r;
		char *err = NULL;
		if (wsr_http_request(h, &r, "GET", "/", NULL, NULL, &err) != 0 || r.status != 200)
			return (void *)1;
		wsr_http_resp_free(&r);
	}
	return NULL;
}

static void test_concurrent_requests(void **state)
{
	(void)state;
	static const answer s[] = {{200, NULL, 0, "ok", 0}};
	serve(s, 1);
	wsr_http *h = client(1, 5, 0, 0);
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker, h), 0);
	for (int i = 0; i < THREADS; i++) {
		void *ret;
		pthread_join(t[i], &ret);
		assert_null(ret);
	}
	assert_int_equal(wsr_http_requests(h), THREADS * PER_THREAD);
	assert_int_equal(srv.requests, THREADS * PER_THREAD);
	assert_true(srv.connections <= THREADS + 1);
	wsr_http_free(h);
}

/* A self-signed certificate for IP 127.0.0.1, made here so the test needs
 * no files: *cert and *key are PEM (caller frees). */
static char *pem(int (*write)(BIO *, const void *), const void *obj)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	assert_int_equal(write(b, obj), 1);
	long n = BIO_get_mem_data(b, &data);
	char *out = strndup(data, (size_t)n);
	BIO_free(b);
	return out;
}

static int write_cert(BIO *b, const void *x)
{
	return PEM_write_bio_X509(b, (X509 *)x);
}

static int write_key(BIO *b, const void *k)
{
	return PEM_write_bio_PrivateKey(b, (EVP_PKEY *)k, NULL, NULL, 0, NULL, NULL);
}

static void make_cert_cn(const char *cn, char **cert, char **key)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	assert_non_null(k);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	const char *exts[][2] = {{"subjectAltName", "IP:127.0.0.1"},
				 {"basicConstraints", "critical,CA:TRUE"}};
	for (int i = 0; i < 2; i++) {
		X509_EXTENSION *e = X509V3_EXT_conf(NULL, &ctx, exts[i][0], exts[i][1]);
		assert_non_null(e);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	*cert = pem(write_cert, x);
	*key = pem(write_key, k);
	X509_free(x);
	EVP_PKEY_free(k);
}

static void make_cert(char **cert, char **key)
{
	make_cert_cn("wsr test", cert, key);
}

static void test_tls_verified_and_private_ca_trusted(void **state)
{
	(void)state;
	static const answer s[] = {{200, NULL, 0, "secure", 0}};
	char *cert, *key, ca_file[] = "/tmp/wsr-test-ca-XXXXXX";
	make_cert(&cert, &key);
	serve_on(s, 1, cert, key);
	int fd = mkstemp(ca_file);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, cert, strlen(cert)), (ssize_t)strlen(cert));
	close(fd);

	/* an unknown CA is refused, and not retried */
	wsr_http *h = client(1, 5, 3, 0);
	wsr_http_resp r;
	char *err = NULL;
	assert_int_equal(wsr_http_request(h, &r, "GET", "/", NULL, NULL, &err), WSR_EHTTP);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(srv.requests, 0);
	free(err);
	wsr_http_resp_free(&r);
	wsr_http_free(h);

	/* the private CA in ca_file makes it trusted */
	wsr_http_opts o = WSR_HTTP_OPTS_INIT;
	o.base_url = base_url;
	o.ca_file = ca_file;
	assert_int_equal(wsr_http_new(&h, &o, &err), 0);
	get(h, &r, "/", 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "secure");
	wsr_http_resp_free(&r);
	wsr_http_free(h);
	unlink(ca_file);
	free(cert);
	free(key);
}

/* wsr_http_new with the TLS options; returns its code, *err kept in errbuf. */
static int new_with(const char *ca_pem, const char *cert_pem, const char *key_pem,
		    const char *cert_file, const char *key_file, char *errbuf, size_t n)
{
	wsr_http_opts o = WSR_HTTP_OPTS_INIT;
	o.base_url = "https://127.0.0.1:1";
	o.ca_pem = ca_pem;
	o.cert_pem = cert_pem;
	o.key_pem = key_pem;
	o.cert_file = cert_file;
	o.key_file = key_file;
	wsr_http *h = NULL;
	char *err = NULL;
	int rc = wsr_http_new(&h, &o, &err);
	snprintf(errbuf, n, "%s", err ? err : "");
	assert_true(rc == 0 ? h != NULL && !err : h == NULL && err != NULL);
	free(err);
	wsr_http_free(h);
	return rc;
}

static void test_tls_pem_options_are_checked(void **state)
{
	(void)state;
	char *cert, *key, *cert2, *key2, e[512];
	make_cert_cn("one", &cert, &key);
	make_cert_cn("two", &cert2, &key2);
	assert_int_equal(new_with(cert, cert, key, NULL, NULL, e, sizeof(e)), 0);

	assert_int_equal(new_with("not pem", NULL, NULL, NULL, NULL, e, sizeof(e)), WSR_EINVAL);
	assert_non_null(strstr(e, "ca_pem: it holds no certificate in PEM form"));
	/* a block that starts like a certificate and is damaged */
	char *bad = strdup(cert);
	memcpy(strstr(bad, "\n") + 1, "!!!!", 4);
	assert_int_equal(new_with(bad, NULL, NULL, NULL, NULL, e, sizeof(e)), WSR_EINVAL);
	assert_non_null(strstr(e, "ca_pem"));
	char *two = wsr_strdupf("%s%s", cert, bad);
	assert_int_equal(new_with(two, NULL, NULL, NULL, NULL, e, sizeof(e)), WSR_EINVAL);
	assert_non_null(strstr(e, "ca_pem: certificate 2 of it is damaged"));
	char *chain = wsr_strdupf("%s%s", cert, cert2);
	assert_int_equal(new_with(chain, NULL, NULL, NULL, NULL, e, sizeof(e)), 0);

	/* a key that is not one, or belongs to another certificate; never quoted */
	assert_int_equal(new_with(NULL, cert, cert, NULL, NULL, e, sizeof(e)), WSR_EINVAL);
	assert_non_null(strstr(e, "key_pem: it holds no unencrypted private key"));
	assert_int_equal(new_with(NULL, cert, key2, NULL, NULL, e, sizeof(e)), WSR_EINVAL);
	assert_non_null(strstr(e, "does not belong to the client certificate"));
	assert_null(strstr(e, "PRIVATE"));
	assert_int_equal(new_with(NULL, key, key, NULL, NULL, e, sizeof(e)), WSR_EINVAL);
	assert_non_null(strstr(e, "cert_pem: it holds no certificate"));

	/* one source of each, and no key without a certificate */
	assert_int_equal(new_with(NULL, cert, NULL, "/c.pem", NULL, e, sizeof(e)), WSR_EINVAL);
	assert_non_null(strstr(e, "cert_file and cert_pem are both set"));
	assert_int_equal(new_with(NULL, NULL, key, NULL, NULL, e, sizeof(e)), WSR_EINVAL);
	assert_non_null(strstr(e, "a client key without a client certificate"));
	wsr_http_opts o = WSR_HTTP_OPTS_INIT;
	o.base_url = "https://127.0.0.1:1";
	o.ca_file = "/ca.pem";
	o.ca_pem = cert;
	wsr_http *h = NULL;
	char *err = NULL;
	assert_int_equal(wsr_http_new(&h, &o, &err), WSR_EINVAL);
	assert_non_null(strstr(err, "ca_file and ca_pem"));
	free(err);
	free(chain);
	free(two);
	free(bad);
	free(cert), free(key), free(cert2), free(key2);
}

static void test_tls_opts_version_1_still_accepted(void **state)
{
	(void)state;
	/* a caller built for version 1 knows nothing of the fields after user_agent */
	wsr_http_opts o = WSR_HTTP_OPTS_INIT;
	o.version = 1;
	o.base_url = "https://127.0.0.1:1";
	o.ca_pem = "garbage a version-1 caller never set"; /* must not be read */
	wsr_http *h = NULL;
	char *err = NULL;
	assert_int_equal(wsr_http_new(&h, &o, &err), 0);
	wsr_http_free(h);
	o.version = 3;
	assert_int_equal(wsr_http_new(&h, &o, &err), WSR_EINVAL);
	free(err);
}

/* ---- a TLS server that insists on a client certificate (OpenSSL; the
 * libmicrohttpd above cannot check one without linking GnuTLS) ---------- */

static struct {
	int fd;
	SSL_CTX *ctx;
	pthread_t thread;
	unsigned handshakes; /* completed, with a verified client certificate */
	char peer[64];	     /* CN of the last client certificate */
} mtls;

static void *mtls_serve(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept(mtls.fd, NULL, NULL);
		if (c < 0)
			return NULL;
		SSL *ssl = SSL_new(mtls.ctx);
		SSL_set_fd(ssl, c);
		if (SSL_accept(ssl) == 1) {
			char req[4096];
			int n = 0, r;
			while (n < (int)sizeof(req) - 1 &&
			       (r = SSL_read(ssl, req + n, (int)sizeof(req) - 1 - n)) > 0) {
				n += r;
				req[n] = '\0';
				if (strstr(req, "\r\n\r\n"))
					break;
			}
			X509 *peer = SSL_get1_peer_certificate(ssl);
			mtls.peer[0] = '\0';
			if (peer)
				X509_NAME_get_text_by_NID(X509_get_subject_name(peer),
							  NID_commonName, mtls.peer,
							  sizeof(mtls.peer));
			X509_free(peer);
			if (n > 0 && strstr(req, "\r\n\r\n")) {
				mtls.handshakes++;
				static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: "
							 "2\r\nConnection: close\r\n\r\nok";
				SSL_write(ssl, ok, (int)strlen(ok));
			}
			SSL_shutdown(ssl);
		}
		SSL_free(ssl);
		close(c);
	}
}

/* Serves cert/key, trusting only client_ca for client certificates. */
static void mtls_start(const char *cert, const char *key, const char *client_ca)
{
	mtls.ctx = SSL_CTX_new(TLS_server_method());
	BIO *b = BIO_new_mem_buf(cert, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	b = BIO_new_mem_buf(key, -1);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	b = BIO_new_mem_buf(client_ca, -1);
	X509 *ca = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	assert_int_equal(SSL_CTX_use_certificate(mtls.ctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(mtls.ctx, k), 1);
	assert_int_equal(X509_STORE_add_cert(SSL_CTX_get_cert_store(mtls.ctx), ca), 1);
	SSL_CTX_set_verify(mtls.ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	X509_free(x), X509_free(ca), EVP_PKEY_free(k);

	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(sa);
	mtls.fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(mtls.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(mtls.fd, 8), 0);
	assert_int_equal(getsockname(mtls.fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(base_url, sizeof(base_url), "https://127.0.0.1:%u", ntohs(sa.sin_port));
	mtls.handshakes = 0;
	assert_int_equal(pthread_create(&mtls.thread, NULL, mtls_serve, NULL), 0);
}

static void mtls_stop(void)
{
	shutdown(mtls.fd, SHUT_RDWR); /* wakes the accept */
	pthread_join(mtls.thread, NULL);
	close(mtls.fd);
	SSL_CTX_free(mtls.ctx);
}

/* GET / with the TLS options; returns wsr_http_request's code. */
static int mtls_get(const wsr_http_opts *o)
{
	wsr_http *h = NULL;
	char *err = NULL;
	assert_int_equal(wsr_http_new(&h, o, &err), 0);
	wsr_http_resp r;
	int rc = wsr_http_request(h, &r, "GET", "/", NULL, NULL, &err);
	if (rc == 0) {
		assert_int_equal(r.status, 200);
		assert_string_equal(r.body, "ok");
	}
	free(err);
	wsr_http_resp_free(&r);
	wsr_http_free(h);
	return rc;
}

static char *temp_file(const char *data)
{
	char *path = strdup("/tmp/wsr-test-pem-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
	return path;
}

static void test_tls_client_certificate_and_ca_pem(void **state)
{
	(void)state;
	char *scert, *skey, *ccert, *ckey;
	make_cert_cn("server", &scert, &skey);
	make_cert_cn("wsr client", &ccert, &ckey);
	mtls_start(scert, skey, ccert);

	/* ca_pem trusts the server; the certificate as PEM data is presented */
	wsr_http_opts o = WSR_HTTP_OPTS_INIT;
	o.base_url = base_url;
	o.max_retries = 0;
	o.ca_pem = scert;
	o.cert_pem = ccert;
	o.key_pem = ckey;
	assert_int_equal(mtls_get(&o), 0);
	assert_int_equal(mtls.handshakes, 1);
	assert_string_equal(mtls.peer, "wsr client");

	/* the same from files */
	char *cf = temp_file(ccert), *kf = temp_file(ckey);
	o.cert_pem = o.key_pem = NULL;
	o.cert_file = cf;
	o.key_file = kf;
	assert_int_equal(mtls_get(&o), 0);
	assert_int_equal(mtls.handshakes, 2);

	/* without a client certificate the server refuses the handshake */
	o.cert_file = o.key_file = NULL;
	assert_int_equal(mtls_get(&o), WSR_EHTTP);
	assert_int_equal(mtls.handshakes, 2);

	/* a CA that did not sign the server's certificate: not trusted */
	o.ca_pem = ccert;
	o.cert_pem = ccert;
	o.key_pem = ckey;
	assert_int_equal(mtls_get(&o), WSR_EHTTP);
	assert_int_equal(mtls.handshakes, 2);
	mtls_stop();
	unlink(cf), unlink(kf);
	free(cf), free(kf);
	free(scert), free(skey), free(ccert), free(ckey);
}

/* wsr_http_request_json once against a one-answer script. */
static int json_get(unsigned status, const char *text, long *got, cJSON **json, char **err)
{
	const answer s[] = {{status, NULL, 0, text, 0}};
	serve(s, 1);
	wsr_http *h = client(1, 5, 0, 0);
	wsr_http_answer ans;
	int rc = wsr_http_request_json(h, &ans, json, "GET", "/v1/x", NULL, NULL, err);
	*got = ans.status;
	wsr_http_free(h);
	teardown(NULL);
	return rc;
}

static void test_request_json(void **state)
{
	(void)state;
	long status;
	cJSON *json;
	char *err = NULL;
	assert_int_equal(json_get(200, "{\"a\":[1]}", &status, &json, &err), 0);
	assert_int_equal(status, 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(json, "a")), 1);
	cJSON_Delete(json);
	/* a proxy's page on an error: the status speaks, no JSON */
	assert_int_equal(json_get(502, "<html>", &status, &json, &err), 0);
	assert_int_equal(status, 502);
	assert_null(json);
	/* a success that is not JSON is an error naming the request */
	assert_int_equal(json_get(200, "<html>", &status, &json, &err), WSR_EINVAL);
	assert_null(json);
	assert_non_null(strstr(err, "GET /v1/x answered 200: "));
	free(err);
	assert_int_equal(json_get(204, "", &status, &json, &err), 0);
	assert_null(json);
}

static void test_escape(void **state)
{
	(void)state;
	char *e = wsr_http_escape("a b/c?d&e");
	assert_string_equal(e, "a%20b%2Fc%3Fd%26e");
	free(e);
}

/* The one rule for credentials in headers: any control byte is refused
 * (CR/LF would inject headers), printable bytes and UTF-8 are fine; a client
 * is never made with such a bearer token and the message never quotes it. */
static void test_header_safe_credentials(void **state)
{
	(void)state;
	assert_true(wsr_http_header_safe("abc-DEF_123.~+/="));
	assert_true(wsr_http_header_safe("\xc3\xa9 space ok"));
	assert_true(wsr_http_header_safe(""));
	assert_false(wsr_http_header_safe("key\r\nX-Injected: 1"));
	assert_false(wsr_http_header_safe("key\n"));
	assert_false(wsr_http_header_safe("\x01"));
	assert_false(wsr_http_header_safe("a\x1f"
					  "b"));
	assert_false(wsr_http_header_safe("a\x7f"));

	wsr_http_opts o = WSR_HTTP_OPTS_INIT;
	o.base_url = "http://127.0.0.1:1";
	o.bearer = "secret\r\nX-Injected: 1";
	wsr_http *h = NULL;
	char *err = NULL;
	assert_int_equal(wsr_http_new(&h, &o, &err), WSR_EINVAL);
	assert_null(h);
	assert_non_null(strstr(err, "control characters"));
	assert_null(strstr(err, "secret"));
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_retry_503_then_success, teardown),
	    cmocka_unit_test_teardown(test_retry_after_is_honoured, teardown),
	    cmocka_unit_test_teardown(test_retry_after_is_capped_by_backoff_max, teardown),
	    cmocka_unit_test_teardown(test_retry_after_reported_without_retries, teardown),
	    cmocka_unit_test_teardown(test_gives_up_with_last_status, teardown),
	    cmocka_unit_test_teardown(test_client_errors_are_not_retried, teardown),
	    cmocka_unit_test_teardown(test_connection_refused, teardown),
	    cmocka_unit_test_teardown(test_response_size_limit_boundary, teardown),
	    cmocka_unit_test(test_cleartext_only_to_loopback),
	    cmocka_unit_test_teardown(test_bearer_headers_and_body_sent, teardown),
	    cmocka_unit_test_teardown(test_connection_is_reused, teardown),
	    cmocka_unit_test_teardown(test_concurrent_requests, teardown),
	    cmocka_unit_test_teardown(test_tls_verified_and_private_ca_trusted, teardown),
	    cmocka_unit_test(test_tls_pem_options_are_checked),
	    cmocka_unit_test(test_tls_opts_version_1_still_accepted),
	    cmocka_unit_test(test_tls_client_certificate_and_ca_pem),
	    cmocka_unit_test(test_request_json),
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_header_safe_credentials),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
