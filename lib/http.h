/* http: the HTTP client every provider uses, on libcurl. TLS verification is
 * always on (ca_file adds a private CA; ca_pem replaces the system's CAs, as
 * a kubeconfig's certificate authority does); a client certificate may be
 * presented (files or PEM data). Connection errors, 429 and 5xx are
 * retried with exponential backoff and full jitter, honouring Retry-After.
 * Every wait is bounded: the connection (connect_timeout_ms), each attempt
 * (timeout_ms), all attempts of one request with the waits between them
 * (retry_budget_ms) and, optionally, the whole run (deadline_ms).
 * Responses larger than max_response, or with more than
 * WSR_HTTP_MAX_HEADERS bytes of headers, are refused and not retried. Thread-safe: easy handles
 * are pooled (so connections are reused) and one client can serve several
 * apply workers at once. The bearer token is never logged. */
#ifndef WSR_LIB_HTTP_H
#define WSR_LIB_HTTP_H
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#define WSR_HTTP_MAX_RESPONSE (64u * 1024 * 1024) /* default bound on a response body */
/* Bytes of status line and headers accepted in one answer (CRLFs counted):
 * real platforms send a few hundred; more is a broken proxy or hostile.
 * Below libcurl's own 100 KiB per header line, so wsr says what happened. */
#define WSR_HTTP_MAX_HEADERS (64u * 1024)
/* Defaults of the bounded waits (docs/reliability.md, "Bounded waits"). */
#define WSR_HTTP_CONNECT_TIMEOUT_MS 5000L  /* a TCP/TLS connection */
#define WSR_HTTP_REQUEST_TIMEOUT_MS 30000L /* one attempt, connection included */
#define WSR_HTTP_RETRY_BUDGET_MS 60000L	   /* every attempt of one request and the waits */
/* The longest any of the three may be configured to (providers.<name>.*). */
#define WSR_HTTP_MAX_WAIT_MS 3600000L

typedef struct wsr_http_opts {
	int version;		 /* WSR_HTTP_OPTS_VERSION */
	const char *base_url;	 /* "https://api.example.net" (no trailing slash) */
	const char *bearer;	 /* Authorization: Bearer ...; may be NULL */
	const char *ca_file;	 /* extra CA bundle; may be NULL */
	long connect_timeout_ms; /* default WSR_HTTP_CONNECT_TIMEOUT_MS */
	long timeout_ms;	 /* one attempt; default WSR_HTTP_REQUEST_TIMEOUT_MS */
	int max_retries;	 /* default 5 */
	long backoff_base_ms;	 /* default 200 */
	long backoff_max_ms;	 /* default 10000; also caps Retry-After */
	size_t max_response;	 /* default WSR_HTTP_MAX_RESPONSE */
	const char *user_agent;	 /* default "wsr/<version>" */
	/* Since version 2. Each may be NULL. PEM data is copied at wsr_http_new,
	 * checked there (a parse error is a clear message naming the option),
	 * and the key is scrubbed when the client is freed. */
	const char *ca_pem;    /* CA certificates trusted INSTEAD of the system's (kubectl's
				  certificate-authority-data); not together with ca_file */
	const char *cert_file; /* client certificate, PEM file */
	const char *cert_pem;  /* client certificate, PEM data; not together with cert_file */
	const char *key_file;  /* the certificate's private key, PEM file (unencrypted) */
	const char *key_pem;   /* the same as PEM data; not together with key_file */
	/* Since version 3. */
	long retry_budget_ms;	   /* default WSR_HTTP_RETRY_BUDGET_MS: no attempt starts, and
				      none runs on, after this long since the request began */
	int64_t deadline_ms;	   /* a wsr_clock_mono_ms() time after which nothing is sent
				      or awaited (the run's --timeout); 0: none */
	const char *deadline_hint; /* what sets it, for messages ("--timeout 5m") */
	const char *limits_hint;   /* where the limits are set, for messages
				      ("providers.loopback"); may be NULL */
} wsr_http_opts;

#define WSR_HTTP_OPTS_VERSION 3
#define WSR_HTTP_OPTS_INIT                                                                         \
	{                                                                                          \
		WSR_HTTP_OPTS_VERSION, NULL, NULL, NULL, 0, 0, -1, 0, 0, 0, NULL, NULL, NULL,      \
		    NULL, NULL, NULL, 0, 0, NULL, NULL                                             \
	}

typedef struct wsr_http wsr_http;

typedef struct wsr_http_resp {
	long status; /* HTTP status of the last attempt */
	char *body;  /* NUL-terminated; may be empty */
	size_t len;
	int attempts;	    /* how many requests were sent */
	long retry_after_s; /* the last answer's Retry-After in seconds; 0 when none */
	long elapsed_ms;    /* from the first attempt to the answer, waits included */
} wsr_http_resp;

int wsr_http_new(wsr_http **out, const wsr_http_opts *opts, char **err);
void wsr_http_free(wsr_http *h);

/* Sends method path (appended to base_url) with an optional JSON body and
 * extra headers ("Name: value", NULL-terminated list; may be NULL). Returns
 * 0 when a response arrived (any status; 429/5xx only after retries ran
 * out; resp->retry_after_s carries its Retry-After), WSR_EHTTP with *err
 * (caller frees) when none did, WSR_ETIMEOUT when a bounded wait ran out
 * (*err says which, how long it waited and what to raise), WSR_ELIMIT when
 * the body or the headers were too large (never retried). resp must be
 * freed with wsr_http_resp_free. */
int wsr_http_request(wsr_http *h, wsr_http_resp *resp, const char *method, const char *path,
		     const char *const *headers, const char *body, char **err);

void wsr_http_resp_free(wsr_http_resp *r);

/* What wsr_http_request_json tells of the answer besides its body. */
typedef struct wsr_http_answer {
	long status;
	int attempts;
	long elapsed_ms;
} wsr_http_answer;

/* wsr_http_request for a JSON API: ans the answer's status, attempts and
 * time, *json its body parsed with lib/json's bounds (caller frees), NULL
 * for an empty body or for a body that is not JSON on a non-2xx answer (a
 * proxy's HTML page: the status says enough). Returns 0;
 * wsr_http_request's codes with *err; WSR_EINVAL with *err ("<method>
 * <path> answered <status>: <why>") when a 2xx answer is not JSON. */
int wsr_http_request_json(wsr_http *h, wsr_http_answer *ans, cJSON **json, const char *method,
			  const char *path, const char *const *headers, const char *body,
			  char **err);

/* 1 when ans is a 429 or 5xx that was retried until the retries or their
 * budget ran out: the caller reports it with wsr_http_gave_up. */
int wsr_http_exhausted(const wsr_http_answer *ans);

/* "answered 503 after 6 attempts over 12.3 s" for such an answer; caller frees. */
char *wsr_http_gave_up(const wsr_http_answer *ans);

/* Requests sent by this client so far (for benchmarks and tests). */
unsigned long wsr_http_requests(const wsr_http *h);

/* What a PEM text must hold for wsr_http_pem_check. */
typedef enum {
	WSR_HTTP_PEM_CERTS = 0, /* one or more certificates, nothing else unreadable */
	WSR_HTTP_PEM_KEY = 1,	/* one unencrypted private key */
} wsr_http_pem;

/* Checks that len bytes of pem hold what `what` asks for. Returns 0, or
 * WSR_EINVAL with *err (caller frees) saying what is wrong; the message
 * never quotes the data (a key is a secret). */
int wsr_http_pem_check(const char *pem, size_t len, wsr_http_pem what, char **err);

/* 1 when s, a credential (bearer token, API key), can go into a header as
 * it is: it holds no control character (bytes below 0x20, DEL), since a CR
 * or LF would end the header and let the credential inject others. The one
 * rule for every provider; wsr_http_new applies it to opts->bearer too. */
int wsr_http_header_safe(const char *s);

/* Percent-encodes s for a path segment or query value; caller frees. */
char *wsr_http_escape(const char *s);
#endif
