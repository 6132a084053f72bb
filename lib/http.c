/* http: the one HTTP client (libcurl) every provider talks through, so TLS,
 * retries, size bounds and secrecy of the bearer token are decided once.
 *
 * Decisions recorded here:
 * - Connections: idle easy handles are kept in a mutex-guarded pool and
 *   reset (curl_easy_reset keeps live connections) before each use, so a
 *   paginated listing of 10,000 workspaces reuses one keep-alive connection
 *   instead of reconnecting per page.
 * - TLS: peer and host verification are always on. ca_file is trusted IN
 *   ADDITION to the system's CAs (as config.json promises for caFile):
 *   CURLOPT_CAINFO would replace the default bundle, so instead the file's
 *   certificates are added to the OpenSSL store in an SSL_CTX callback, next
 *   to OpenSSL's default paths (on Debian the same certificates as curl's
 *   bundle). Curl's CA store cache is off for such handles so the private CA
 *   does not leak into other handles' trust. Should libcurl be built on
 *   another TLS library, ca_file falls back to CAINFO (replace) with a warning.
 *   ca_pem is the other way, for kubeconfigs: kubectl trusts a context's
 *   certificate authority INSTEAD of the system's, so it goes to
 *   CURLOPT_CAINFO_BLOB with CAPATH cleared (the blob overrides only CAINFO).
 * - Client certificates (kubeconfigs again): files or PEM data. PEM data is
 *   checked at wsr_http_new with OpenSSL, so a damaged kubeconfig entry is a
 *   message when the client is made, not a TLS failure at the first request;
 *   the key's copy is scrubbed like the bearer token.
 * - Cleartext: http:// is accepted only towards loopback hosts (127.0.0.0/8,
 *   localhost, [::1]) because the bearer key would otherwise cross the
 *   network in clear; redirects are never followed, so a server cannot move
 *   the request elsewhere.
 * - Retries: connection errors, 429 and 5xx, with exponential backoff and
 *   full jitter (a random wait in [0, min(max, base * 2^attempt)]), or the
 *   server's Retry-After when it sent one (capped by backoff_max_ms). Every
 *   method is retried: creates carry an Idempotency-Key. Oversized answers
 *   (body or headers) are not retried: the next attempt gets the same.
 * - Bounded waits: an attempt may take timeout_ms, but never past the end
 *   of the request's retry budget or the run's deadline; a retry whose
 *   wait would end past either is not made. So a platform that accepts and
 *   never answers costs one request at most retry_budget_ms, and a run at
 *   most its deadline, and the message names the limit that ended it. The
 *   connection has its own shorter bound, so an address that does not
 *   answer at all is retried quickly instead of costing a whole attempt.
 * - Secrecy: the Authorization header is built once and never logged; error
 *   messages name method and URL only. */
#include "lib/http.h"
#include "lib/version.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/log.h"

#define DEFAULT_MAX_RETRIES 5
#define DEFAULT_BACKOFF_BASE_MS 200L
#define DEFAULT_BACKOFF_MAX_MS 10000L
#define DEFAULT_USER_AGENT "wsr/" WSR_VERSION
/* Idle handles kept for reuse; more concurrent requests than this still work,
 * their extra handles are closed afterwards. */
#define POOL_MAX 16

struct wsr_http {
	char *base_url;
	char *auth_header; /* "Authorization: Bearer ..." or NULL; never logged */
	char *ca_file;
	char *ca_pem, *cert_file, *cert_pem, *key_file;
	char *key_pem; /* never logged; scrubbed */
	char *user_agent;
	long connect_timeout_ms, timeout_ms, backoff_base_ms, backoff_max_ms, retry_budget_ms;
	int64_t deadline_ms;
	char *deadline_hint;
	char *limits_hint; /* "providers.kcp." or "": the prefix of the limits' keys */
	int max_retries;
	size_t max_response;
	pthread_mutex_t mu; /* guards pool */
	CURL *pool[POOL_MAX];
	int npool;
	atomic_ulong requests;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int is_loopback_host(const char *host)
{
	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
	    strcmp(host, "::1") == 0)
		return 1;
	struct in_addr a;
	return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

/* Accepts https:// anywhere and http:// only towards loopback. */
static int check_base_url(const char *url, char **err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int rc = WSR_EINVAL;
	if (!u)
		return WSR_ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		*err = wsr_strdupf("endpoint %s is not a valid URL", url);
	else if (strcmp(scheme, "https") == 0)
		rc = 0;
	else if (strcmp(scheme, "http") != 0)
		*err = wsr_strdupf("endpoint %s: only https:// (or http:// to a loopback address) "
				   "is supported",
				   url);
	else if (!is_loopback_host(host))
		*err = wsr_strdupf("endpoint %s uses plain http:// to a host that is not loopback; "
				   "the API key would travel in clear, use https://",
				   url);
	else
		rc = 0;
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

static long or_default(long v, long def)
{
	return v > 0 ? v : def;
}

static int dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : WSR_ENOMEM;
}

/* A key must not ask for a passphrase on the terminal: no callback
 * answer, so an encrypted key fails to load instead. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

static BIO *pem_bio(const char *pem, size_t len)
{
	return len <= (size_t)INT_MAX ? BIO_new_mem_buf(pem, (int)len) : NULL;
}

int wsr_http_pem_check(const char *pem, size_t len, wsr_http_pem what, char **err)
{
	*err = NULL;
	BIO *b = pem_bio(pem, len);
	if (!b)
		return WSR_ENOMEM;
	int n = 0;
	if (what == WSR_HTTP_PEM_KEY) {
		EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
		n = k != NULL;
		EVP_PKEY_free(k);
		if (!n)
			*err = wsr_strdupf("it holds no unencrypted private key in PEM form");
	} else {
		X509 *x;
		while ((x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL))) {
			X509_free(x);
			n++;
		}
		/* reading stops at the end with "no start line"; anything else
		 * means a block that looked like a certificate and was not one */
		unsigned long e = ERR_peek_last_error();
		if (!n)
			*err = wsr_strdupf("it holds no certificate in PEM form");
		else if (ERR_GET_LIB(e) != ERR_LIB_PEM || ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
			*err = wsr_strdupf("certificate %d of it is damaged", n + 1);
	}
	ERR_clear_error();
	BIO_free(b);
	if (*err)
		return WSR_EINVAL;
	return 0;
}

/* The client certificate and key must belong together, else every TLS
 * handshake would fail later with a vaguer message. */
static int check_pair(const char *cert, const char *key, char **err)
{
	BIO *cb = pem_bio(cert, strlen(cert)), *kb = pem_bio(key, strlen(key));
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, no_passphrase, NULL) : NULL;
	EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, no_passphrase, NULL) : NULL;
	int rc = x && k ? 0 : WSR_ENOMEM;
	if (!rc && X509_check_private_key(x, k) != 1) {
		*err = wsr_strdupf("http client: the client key (key_pem) does not belong to the "
				   "client certificate (cert_pem)");
		rc = WSR_EINVAL;
	}
	ERR_clear_error();
	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(cb);
	BIO_free(kb);
	return rc;
}

/* The version-2 TLS options: at most one source of each, PEM data readable. */
static int check_tls_opts(const wsr_http_opts *o, char **err)
{
	const char *both = o->ca_file && o->ca_pem	 ? "ca_file and ca_pem"
			   : o->cert_file && o->cert_pem ? "cert_file and cert_pem"
			   : o->key_file && o->key_pem	 ? "key_file and key_pem"
							 : NULL;
	if (both) {
		*err = wsr_strdupf("http client: %s are both set; give one", both);
		return WSR_EINVAL;
	}
	if ((o->key_file || o->key_pem) && !o->cert_file && !o->cert_pem) {
		*err = wsr_strdupf("http client: a client key without a client certificate");
		return WSR_EINVAL;
	}
	const struct {
		const char *name, *pem;
		wsr_http_pem what;
	} pems[] = {{"ca_pem", o->ca_pem, WSR_HTTP_PEM_CERTS},
		    {"cert_pem", o->cert_pem, WSR_HTTP_PEM_CERTS},
		    {"key_pem", o->key_pem, WSR_HTTP_PEM_KEY}};
	for (size_t i = 0; i < sizeof(pems) / sizeof(pems[0]); i++) {
		char *why = NULL;
		int rc = pems[i].pem ? wsr_http_pem_check(pems[i].pem, strlen(pems[i].pem),
							  pems[i].what, &why)
				     : 0;
		if (rc) {
			*err = why ? wsr_strdupf("http client: %s: %s", pems[i].name, why) : NULL;
			free(why);
			return rc;
		}
	}
	return o->cert_pem && o->key_pem ? check_pair(o->cert_pem, o->key_pem, err) : 0;
}

int wsr_http_header_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int wsr_http_new(wsr_http **out, const wsr_http_opts *opts, char **err)
{
	*out = NULL;
	*err = NULL;
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK) {
		*err =
		    wsr_strdupf("libcurl initialisation failed: %s", curl_easy_strerror(global_rc));
		return WSR_EHTTP;
	}
	if (!opts || opts->version < 1 || opts->version > WSR_HTTP_OPTS_VERSION ||
	    !opts->base_url) {
		*err = wsr_strdupf("http client: options missing or of an unknown version");
		return WSR_EINVAL;
	}
	/* an older caller's struct ends before the options of later versions */
	wsr_http_opts o = WSR_HTTP_OPTS_INIT;
	memcpy(&o, opts,
	       opts->version == 1   ? offsetof(wsr_http_opts, ca_pem)
	       : opts->version == 2 ? offsetof(wsr_http_opts, retry_budget_ms)
				    : sizeof(o));
	opts = &o;
	int rc = check_base_url(opts->base_url, err);
	if (!rc)
		rc = check_tls_opts(opts, err);
	if (!rc && opts->bearer && !wsr_http_header_safe(opts->bearer)) {
		*err = wsr_strdupf("the bearer token holds control characters");
		rc = WSR_EINVAL;
	}
	if (rc)
		return rc;
	wsr_http *h = calloc(1, sizeof(*h));
	if (!h)
		return WSR_ENOMEM;
	pthread_mutex_init(&h->mu, NULL);
	atomic_init(&h->requests, 0);
	h->connect_timeout_ms = or_default(opts->connect_timeout_ms, WSR_HTTP_CONNECT_TIMEOUT_MS);
	h->timeout_ms = or_default(opts->timeout_ms, WSR_HTTP_REQUEST_TIMEOUT_MS);
	h->retry_budget_ms = or_default(opts->retry_budget_ms, WSR_HTTP_RETRY_BUDGET_MS);
	h->deadline_ms = opts->deadline_ms > 0 ? opts->deadline_ms : 0;
	h->max_retries = opts->max_retries >= 0 ? opts->max_retries : DEFAULT_MAX_RETRIES;
	h->backoff_base_ms = or_default(opts->backoff_base_ms, DEFAULT_BACKOFF_BASE_MS);
	h->backoff_max_ms = or_default(opts->backoff_max_ms, DEFAULT_BACKOFF_MAX_MS);
	h->max_response = opts->max_response ? opts->max_response : WSR_HTTP_MAX_RESPONSE;
	if (dup_opt(&h->base_url, opts->base_url) || dup_opt(&h->ca_file, opts->ca_file) ||
	    dup_opt(&h->ca_pem, opts->ca_pem) || dup_opt(&h->cert_file, opts->cert_file) ||
	    dup_opt(&h->cert_pem, opts->cert_pem) || dup_opt(&h->key_file, opts->key_file) ||
	    dup_opt(&h->key_pem, opts->key_pem) ||
	    dup_opt(&h->deadline_hint, opts->deadline_hint ? opts->deadline_hint : "--timeout") ||
	    !(h->limits_hint = wsr_strdupf("%s%s", opts->limits_hint ? opts->limits_hint : "",
					   opts->limits_hint ? "." : "")) ||
	    dup_opt(&h->user_agent, opts->user_agent ? opts->user_agent : DEFAULT_USER_AGENT) ||
	    (opts->bearer &&
	     !(h->auth_header = wsr_strdupf("Authorization: Bearer %s", opts->bearer)))) {
		wsr_http_free(h);
		return WSR_ENOMEM;
	}
	/* a trailing slash would double with the paths' leading one */
	size_t n = strlen(h->base_url);
	while (n > 0 && h->base_url[n - 1] == '/')
		h->base_url[--n] = '\0';
	*out = h;
	return 0;
}

void wsr_http_free(wsr_http *h)
{
	if (!h)
		return;
	for (int i = 0; i < h->npool; i++)
		curl_easy_cleanup(h->pool[i]);
	/* scrub the secrets before the memory is reused */
	char *secrets[] = {h->auth_header, h->key_pem};
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		if (secrets[i])
			OPENSSL_cleanse(secrets[i], strlen(secrets[i]));
	free(h->auth_header);
	free(h->key_pem);
	free(h->base_url);
	free(h->ca_file);
	free(h->ca_pem);
	free(h->cert_file);
	free(h->cert_pem);
	free(h->key_file);
	free(h->user_agent);
	free(h->deadline_hint);
	free(h->limits_hint);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

static CURL *pool_get(wsr_http *h)
{
	CURL *c = NULL;
	pthread_mutex_lock(&h->mu);
	if (h->npool > 0)
		c = h->pool[--h->npool];
	pthread_mutex_unlock(&h->mu);
	return c ? c : curl_easy_init();
}

static void pool_put(wsr_http *h, CURL *c)
{
	pthread_mutex_lock(&h->mu);
	if (h->npool < POOL_MAX) {
		h->pool[h->npool++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&h->mu);
	if (c)
		curl_easy_cleanup(c);
}

/* One attempt's body, bounded by max, and its headers' size. */
typedef struct sink {
	wsr_buf buf;
	size_t max;
	int too_large;
	size_t header_bytes;
	int headers_too_large;
} sink;

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	(void)data;
	sink *s = arg;
	size_t n = size * nmemb;
	s->header_bytes += n;
	if (s->header_bytes > WSR_HTTP_MAX_HEADERS) {
		s->headers_too_large = 1;
		return 0; /* aborts the transfer */
	}
	return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	sink *s = arg;
	size_t n = size * nmemb;
	if (s->buf.len + n > s->max) {
		s->too_large = 1;
		return 0; /* aborts the transfer */
	}
	return wsr_buf_add(&s->buf, data, n) ? 0 : n;
}

static struct curl_slist *build_headers(const wsr_http *h, const char *const *extra, int has_body)
{
	struct curl_slist *l = NULL, *t;
	const char *fixed[] = {"Accept: application/json",
			       has_body ? "Content-Type: application/json" : NULL,
			       "Expect:", /* no 100-continue round trip for larger bodies */
			       h->auth_header};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (!fixed[i])
			continue;
		if (!(t = curl_slist_append(l, fixed[i])))
			goto fail;
		l = t;
	}
	for (; extra && *extra; extra++) {
		if (!(t = curl_slist_append(l, *extra)))
			goto fail;
		l = t;
	}
	return l;
fail:
	curl_slist_free_all(l);
	return NULL;
}

/* Adds ca_file to the trust curl built from the system's (see the top). */
static CURLcode add_private_ca(CURL *c, void *ssl_ctx, void *arg)
{
	(void)c;
	X509_STORE *store = SSL_CTX_get_cert_store(ssl_ctx);
	if (!store || X509_STORE_set_default_paths(store) != 1 ||
	    X509_STORE_load_file(store, (const char *)arg) != 1)
		return CURLE_SSL_CACERT_BADFILE;
	return CURLE_OK;
}

static void trust_ca_file(CURL *c, const char *ca_file)
{
	if (curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, add_private_ca) == CURLE_OK) {
		curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, ca_file);
#if LIBCURL_VERSION_NUM >= 0x075700 /* 7.87: CA cache */
		curl_easy_setopt(c, CURLOPT_CA_CACHE_TIMEOUT, 0L);
#endif
		return;
	}
	wsr_log(WSR_LOG_WARN, "http: this libcurl cannot add a CA; trusting only %s", ca_file);
	curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
}

/* PEM data handed to curl without a copy: it lives as long as h, which
 * outlives every handle of its pool. */
static void set_blob(CURL *c, CURLoption opt, char *pem)
{
	struct curl_blob b = {pem, strlen(pem), CURL_BLOB_NOCOPY};
	curl_easy_setopt(c, opt, &b);
}

/* The kubeconfig-style TLS options (see the top). */
static void setup_tls(const wsr_http *h, CURL *c)
{
	if (h->ca_pem) {
		set_blob(c, CURLOPT_CAINFO_BLOB, h->ca_pem);
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
#if LIBCURL_VERSION_NUM >= 0x075700 /* 7.87: CA cache */
		curl_easy_setopt(c, CURLOPT_CA_CACHE_TIMEOUT, 0L);
#endif
	}
	if (h->cert_file || h->cert_pem) {
		curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
		if (h->cert_file)
			curl_easy_setopt(c, CURLOPT_SSLCERT, h->cert_file);
		else
			set_blob(c, CURLOPT_SSLCERT_BLOB, h->cert_pem);
	}
	if (h->key_file || h->key_pem) {
		curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
		if (h->key_file)
			curl_easy_setopt(c, CURLOPT_SSLKEY, h->key_file);
		else
			set_blob(c, CURLOPT_SSLKEY_BLOB, h->key_pem);
	}
}

static void setup(const wsr_http *h, CURL *c, const char *method, const char *url, const char *body,
		  struct curl_slist *hdrs, sink *s, char *errbuf, long timeout_ms)
{
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS timeouts */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_file)
		trust_ca_file(c, h->ca_file);
	setup_tls(h, c);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_USERAGENT, h->user_agent);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->max_response);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
		if (body) {
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		}
	}
}

static int retryable_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static int retryable_status(long status)
{
	return status == 429 || (status >= 500 && status <= 599);
}

/* Full jitter: uniform in [0, min(max, base * 2^attempt)]. */
static long backoff_ms(const wsr_http *h, int attempt)
{
	long ceiling = h->backoff_base_ms;
	for (int i = 0; i < attempt && ceiling < h->backoff_max_ms; i++)
		ceiling *= 2;
	if (ceiling > h->backoff_max_ms)
		ceiling = h->backoff_max_ms;
	unsigned int r;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		return ceiling / 2;
	return (long)(r % ((unsigned long)ceiling + 1));
}

static long wait_ms(const wsr_http *h, CURL *c, int attempt)
{
	curl_off_t after = -1;
	if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after > 0) {
		/* compared in seconds first so a huge value cannot overflow */
		if (after >= h->backoff_max_ms / 1000 + 1)
			return h->backoff_max_ms;
		long ms = (long)after * 1000;
		return ms < h->backoff_max_ms ? ms : h->backoff_max_ms;
	}
	return backoff_ms(h, attempt);
}

/* Which limit bounds an attempt, for the message when it runs out. */
typedef enum { BY_REQUEST, BY_BUDGET, BY_DEADLINE } bound;

/* How long an attempt starting at now may take: timeout_ms, cut to what is
 * left of the request's retry budget and of the run's deadline. */
static int64_t attempt_ms(const wsr_http *h, int64_t start, int64_t now, bound *by)
{
	int64_t ms = h->timeout_ms, left = start + h->retry_budget_ms - now;
	*by = BY_REQUEST;
	if (left < ms) {
		ms = left;
		*by = BY_BUDGET;
	}
	if (h->deadline_ms && h->deadline_ms - now < ms) {
		ms = h->deadline_ms - now;
		*by = BY_DEADLINE;
	}
	return ms;
}

/* A wait for people: "250 ms" below a second, "1.5 s" above. */
typedef struct span {
	char s[32];
} span;

static span spell(int64_t ms)
{
	span out;
	if (ms < 1000)
		snprintf(out.s, sizeof(out.s), "%lld ms", (long long)(ms < 0 ? 0 : ms));
	else
		snprintf(out.s, sizeof(out.s), "%.1f s", (double)ms / 1000);
	return out;
}

/* Why an attempt that ran out of time ended, naming what to raise. */
static char *timed_out(const wsr_http *h, CURL *c, bound by, int64_t ms)
{
	/* connected: TCP up and, for https, the TLS handshake done (both count
	 * against connectTimeout in libcurl) */
	curl_off_t tcp = 0, tls = 0;
	curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &tcp);
	curl_easy_getinfo(c, CURLINFO_APPCONNECT_TIME_T, &tls);
	int connected = tcp > 0 && (tls > 0 || strncmp(h->base_url, "https:", 6) != 0);
	if (!connected && ms > h->connect_timeout_ms)
		return wsr_strdupf("no connection within %s (%sconnectTimeout)",
				   spell(h->connect_timeout_ms).s, h->limits_hint);
	if (by == BY_DEADLINE)
		return wsr_strdupf("no answer before the run's deadline (%s)", h->deadline_hint);
	if (by == BY_BUDGET)
		return wsr_strdupf("no answer within the %s left of %sretryBudget", spell(ms).s,
				   h->limits_hint);
	return wsr_strdupf("no answer within %s (%srequestTimeout)", spell(h->timeout_ms).s,
			   h->limits_hint);
}

/* libcurl's own refusal of a header line longer than it buffers (100 KiB):
 * on_header never saw the line. libcurl 7.88 says "out of memory" without
 * a message, later versions a receive error naming the headers; after the
 * status line arrived, either means the headers, not the machine. */
static int curl_refused_headers(CURLcode rc, const char *errbuf, const sink *s)
{
	return (rc == CURLE_OUT_OF_MEMORY && s->header_bytes > 0 && s->buf.len == 0) ||
	       (rc == CURLE_RECV_ERROR && strcasestr(errbuf, "header"));
}

/* The attempt's error, with how many attempts over how long and why no
 * further one was made. */
static char *failure(const wsr_http *h, const char *method, const char *url, const char *why,
		     const wsr_http_resp *resp, bound spent)
{
	char tail[160] = "";
	if (spent == BY_BUDGET)
		snprintf(tail, sizeof(tail), "; no more retries: %sretryBudget is spent",
			 h->limits_hint);
	else if (spent == BY_DEADLINE)
		snprintf(tail, sizeof(tail), "; no more retries: the run's deadline (%s) is near",
			 h->deadline_hint);
	return wsr_strdupf("%s %s: %s (%d attempt%s over %s%s)", method, url, why, resp->attempts,
			   resp->attempts == 1 ? "" : "s", spell(resp->elapsed_ms).s, tail);
}

static int answer(wsr_http_resp *resp, CURL *c, sink *s)
{
	curl_off_t after = 0;
	if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after > 0)
		resp->retry_after_s = after > LONG_MAX ? LONG_MAX : (long)after;
	if (wsr_buf_putc(&s->buf, '\0')) { /* the body is always a string */
		wsr_buf_free(&s->buf);
		return WSR_ENOMEM;
	}
	resp->len = s->buf.len - 1;
	resp->body = wsr_buf_detach(&s->buf);
	return 0;
}

/* An answer too large to take: never retried, the next one is the same. */
static int oversized(const wsr_http *h, const char *method, const char *url, const sink *s,
		     CURLcode rc, const char *errbuf, char **err)
{
	if (s->too_large || rc == CURLE_FILESIZE_EXCEEDED)
		*err = wsr_strdupf("%s %s: response larger than %zu bytes", method, url,
				   h->max_response);
	else if (s->headers_too_large)
		*err = wsr_strdupf("%s %s: the response headers are larger than %u bytes "
				   "(not retried)",
				   method, url, WSR_HTTP_MAX_HEADERS);
	else if (curl_refused_headers(rc, errbuf, s))
		*err = wsr_strdupf("%s %s: the response headers are too large: a line is longer "
				   "than libcurl takes%s%s (not retried)",
				   method, url, errbuf[0] ? ": " : "", errbuf);
	return *err ? WSR_ELIMIT : 0;
}

/* Whether a retry after wait_ms still fits the budget and the deadline:
 * BY_REQUEST when it does, else the limit it would overrun. */
static bound room_for_retry(const wsr_http *h, int64_t start, long wait)
{
	int64_t at = wsr_clock_mono_ms() + wait;
	if (h->deadline_ms && at >= h->deadline_ms)
		return BY_DEADLINE;
	return at >= start + h->retry_budget_ms ? BY_BUDGET : BY_REQUEST;
}

/* Sends attempts until one is final. Returns 0 with resp filled, or an error. */
static int perform(wsr_http *h, CURL *c, wsr_http_resp *resp, const char *method, const char *url,
		   const char *body, struct curl_slist *hdrs, char **err)
{
	char errbuf[CURL_ERROR_SIZE];
	int64_t start = wsr_clock_mono_ms();
	for (int attempt = 0;; attempt++) {
		bound by;
		int64_t ms = attempt_ms(h, start, wsr_clock_mono_ms(), &by);
		if (ms <= 0) { /* only a deadline can have passed before the first attempt */
			*err = wsr_strdupf("%s %s: not sent: the run's deadline (%s) has passed",
					   method, url, h->deadline_hint);
			return WSR_ETIMEOUT;
		}
		sink s = {WSR_BUF_INIT, h->max_response, 0, 0, 0};
		errbuf[0] = '\0';
		setup(h, c, method, url, body, hdrs, &s, errbuf, (long)ms);
		CURLcode rc = curl_easy_perform(c);
		curl_off_t sent = 0;
		if (curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &sent) == CURLE_OK && sent > 0)
			atomic_fetch_add(&h->requests, 1);
		resp->attempts = attempt + 1;
		resp->elapsed_ms = (long)(wsr_clock_mono_ms() - start);
		resp->status = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
		int lim = oversized(h, method, url, &s, rc, errbuf, err);
		if (lim) {
			wsr_buf_free(&s.buf);
			return lim;
		}
		int retry = rc == CURLE_OK ? retryable_status(resp->status) : retryable_curl(rc);
		long wait = retry ? wait_ms(h, c, attempt) : 0;
		/* an attempt cut short by the budget or the deadline is the last */
		bound spent = rc == CURLE_OPERATION_TIMEDOUT && by != BY_REQUEST ? by
			      : retry && attempt < h->max_retries ? room_for_retry(h, start, wait)
								  : BY_REQUEST;
		int last = !retry || attempt >= h->max_retries || spent != BY_REQUEST;
		if (rc == CURLE_OK && last)
			return answer(resp, c, &s);
		wsr_buf_free(&s.buf);
		if (rc != CURLE_OK && last) {
			char *why = rc == CURLE_OPERATION_TIMEDOUT
					? timed_out(h, c, by, ms)
					: strdup(errbuf[0] ? errbuf : curl_easy_strerror(rc));
			*err = why ? failure(h, method, url, why, resp,
					     spent == by ? BY_REQUEST : spent)
				   : NULL;
			free(why);
			return rc == CURLE_OPERATION_TIMEDOUT || spent == BY_DEADLINE ? WSR_ETIMEOUT
										      : WSR_EHTTP;
		}
		wsr_log(WSR_LOG_DEBUG, "http: %s %s: %s, retrying in %ld ms", method, url,
			rc == CURLE_OK ? "retryable status" : curl_easy_strerror(rc), wait);
		wsr_sleep_ms(wait, NULL);
	}
}

int wsr_http_request(wsr_http *h, wsr_http_resp *resp, const char *method, const char *path,
		     const char *const *headers, const char *body, char **err)
{
	memset(resp, 0, sizeof(*resp));
	*err = NULL;
	char *url = wsr_strdupf("%s%s", h->base_url, path);
	struct curl_slist *hdrs = build_headers(h, headers, body != NULL);
	CURL *c = pool_get(h);
	int rc = WSR_ENOMEM;
	if (url && hdrs && c)
		rc = perform(h, c, resp, method, url, body, hdrs, err);
	if (rc == WSR_ENOMEM && !*err)
		*err = strdup("out of memory");
	wsr_log(WSR_LOG_DEBUG, "http: %s %s -> %ld", method, url ? url : path, resp->status);
	if (c)
		pool_put(h, c);
	curl_slist_free_all(hdrs);
	free(url);
	return rc;
}

int wsr_http_exhausted(const wsr_http_answer *ans)
{
	return ans->attempts > 1 && retryable_status(ans->status);
}

char *wsr_http_gave_up(const wsr_http_answer *ans)
{
	return wsr_strdupf("answered %ld after %d attempt%s over %s", ans->status, ans->attempts,
			   ans->attempts == 1 ? "" : "s", spell(ans->elapsed_ms).s);
}

void wsr_http_resp_free(wsr_http_resp *r)
{
	if (!r)
		return;
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

unsigned long wsr_http_requests(const wsr_http *h)
{
	return atomic_load(&((wsr_http *)h)->requests);
}

char *wsr_http_escape(const char *s)
{
	pthread_once(&global_once, global_init);
	char *e = curl_easy_escape(NULL, s, 0); /* a NULL handle is allowed since 7.82 */
	char *out = e ? strdup(e) : NULL;
	curl_free(e);
	return out;
}
