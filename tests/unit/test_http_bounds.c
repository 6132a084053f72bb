/* test_http_bounds: the HTTP client's bounded waits and its header limit,
 * against a raw-socket server on 127.0.0.1 started by the test: one that
 * accepts, reads and never answers (a hung platform), one that sends a
 * canned answer (headers of a chosen size, a 503), and a listener whose
 * backlog is full so a connection is never accepted. Each test asserts
 * what a user notices: the error comes within the limit plus a margin,
 * says how long it waited and names the setting to change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/http.h"
#include "lib/json.h"
#include "providers/provider.h"

/* Slack allowed above a bound: curl's timers and a loaded 2-core machine. */
#define MARGIN_MS 700

#include "tests/unit/hung_server.h"

static int teardown(void **state)
{
	(void)state;
	raw_stop();
	return 0;
}

typedef struct limits {
	long connect_ms, request_ms, budget_ms;
	int retries;
	int64_t deadline_ms;
} limits;

static wsr_http *client(const limits *l)
{
	wsr_http_opts o = WSR_HTTP_OPTS_INIT;
	o.base_url = base_url;
	o.connect_timeout_ms = l->connect_ms;
	o.timeout_ms = l->request_ms;
	o.retry_budget_ms = l->budget_ms;
	o.max_retries = l->retries;
	o.backoff_base_ms = 1;
	o.backoff_max_ms = 5;
	o.deadline_ms = l->deadline_ms;
	o.deadline_hint = "--timeout 1s";
	o.limits_hint = "providers.test";
	wsr_http *h = NULL;
	char *err = NULL;
	assert_int_equal(wsr_http_new(&h, &o, &err), 0);
	return h;
}

/* GET / with l; asserts the code, returns the time taken, *err the message. */
static int64_t get(const limits *l, int want_rc, wsr_http_resp *r, char **err)
{
	wsr_http *h = client(l);
	int64_t t0 = wsr_clock_mono_ms();
	int rc = wsr_http_request(h, r, "GET", "/v1/x", NULL, NULL, err);
	if (rc != want_rc)
		fail_msg("returned %d, not %d: %s", rc, want_rc, *err ? *err : "(no message)");
	int64_t took = wsr_clock_mono_ms() - t0;
	wsr_http_free(h);
	return took;
}

/* Under memcheck or ThreadSanitizer (WSR_TEST_UNTIMED=1) code runs many
 * times slower: a wait must still not end early, but its upper bound is
 * checked in the ordinary build only. */
static int untimed(void)
{
	const char *v = getenv("WSR_TEST_UNTIMED");
	return v && strcmp(v, "1") == 0;
}

static void assert_within(int64_t took, int64_t bound)
{
	if (took < bound - 50 || (took > bound + MARGIN_MS && !untimed()))
		fail_msg("took %lld ms, bound %lld ms", (long long)took, (long long)bound);
}

static void assert_has(const char *s, const char *needle)
{
	if (!s || !strstr(s, needle))
		fail_msg("'%s' does not say '%s'", s ? s : "(null)", needle);
}

/* A server that accepts and never answers costs one requestTimeout, not
 * six: without retries the error comes at the bound and names the key. */
static void test_hung_server_request_timeout(void **state)
{
	(void)state;
	raw_start(NULL, 0);
	limits l = {.request_ms = 600, .retries = 0};
	wsr_http_resp r;
	char *err = NULL;
	assert_within(get(&l, WSR_ETIMEOUT, &r, &err), 600);
	assert_has(err, "GET http://127.0.0.1:");
	assert_has(err, "no answer within 600 ms (providers.test.requestTimeout)");
	assert_has(err, "(1 attempt over ");
	assert_int_equal(raw_requests(), 1);
	free(err);
}

/* With retries, the retry budget bounds the whole request: attempts stop
 * when it is spent and the last one is cut to what was left of it. */
static void test_hung_server_retry_budget(void **state)
{
	(void)state;
	raw_start(NULL, 0);
	limits l = {.request_ms = 400, .budget_ms = 1000, .retries = 5};
	wsr_http_resp r;
	char *err = NULL;
	assert_within(get(&l, WSR_ETIMEOUT, &r, &err), 1000);
	assert_has(err, "retryBudget");
	assert_true(r.attempts >= 2 && r.attempts <= 3);
	assert_int_equal(raw_requests(), r.attempts);
	free(err);
}

/* The boundary of the budget: one that equals the request timeout allows
 * exactly one attempt, however many retries are configured. */
static void test_budget_equal_to_request_timeout_is_one_attempt(void **state)
{
	(void)state;
	raw_start(NULL, 0);
	limits l = {.request_ms = 500, .budget_ms = 500, .retries = 5};
	wsr_http_resp r;
	char *err = NULL;
	assert_within(get(&l, WSR_ETIMEOUT, &r, &err), 500);
	assert_int_equal(r.attempts, 1);
	free(err);
}

/* The run's deadline cuts an attempt short and stops retries, and says
 * which flag set it. */
static void test_deadline_cuts_the_wait(void **state)
{
	(void)state;
	raw_start(NULL, 0);
	limits l = {.request_ms = 30000, .retries = 5};
	l.deadline_ms = wsr_clock_mono_ms() + 800;
	wsr_http_resp r;
	char *err = NULL;
	assert_within(get(&l, WSR_ETIMEOUT, &r, &err), 800);
	assert_has(err, "no answer before the run's deadline (--timeout 1s)");
	assert_int_equal(r.attempts, 1);
	free(err);
}

/* A deadline already past sends nothing. */
static void test_deadline_passed_sends_nothing(void **state)
{
	(void)state;
	raw_start(NULL, 0);
	limits l = {.retries = 5};
	l.deadline_ms = wsr_clock_mono_ms() - 1;
	wsr_http_resp r;
	char *err = NULL;
	assert_true(get(&l, WSR_ETIMEOUT, &r, &err) < 100);
	assert_has(err, "not sent: the run's deadline (--timeout 1s) has passed");
	usleep(100 * 1000);
	assert_int_equal(raw_nconns(), 0);
	free(err);
}

/* A listener that never accepts (its backlog full): the connect timeout,
 * shorter than the request timeout, ends the attempt and is named. */
static void test_connect_timeout_is_separate(void **state)
{
	(void)state;
	int fd = listen_on(0);
	/* fill the backlog: these connections are never accepted */
	int fill[4];
	for (int i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET};
		socklen_t len = sizeof(sa);
		getsockname(fd, (struct sockaddr *)&sa, &len);
		connect(fill[i], (struct sockaddr *)&sa, sizeof(sa));
	}
	usleep(100 * 1000);
	limits l = {.connect_ms = 500, .request_ms = 20000, .retries = 0};
	wsr_http_resp r;
	char *err = NULL;
	assert_within(get(&l, WSR_ETIMEOUT, &r, &err), 500);
	assert_has(err, "no connection within 500 ms (providers.test.connectTimeout)");
	free(err);
	for (int i = 0; i < 4; i++)
		close(fill[i]);
	close(fd);
}

/* A TLS handshake that never completes (the server reads the hello and
 * keeps silent) is a connection that did not come: connectTimeout. */
static void test_tls_handshake_hang_is_a_connect_timeout(void **state)
{
	(void)state;
	raw_start(NULL, 0);
	snprintf(base_url, sizeof(base_url), "https://127.0.0.1:%u", base_port);
	limits l = {.connect_ms = 500, .request_ms = 20000, .retries = 0};
	wsr_http_resp r;
	char *err = NULL;
	assert_within(get(&l, WSR_ETIMEOUT, &r, &err), 500);
	assert_has(err, "no connection within 500 ms (providers.test.connectTimeout)");
	free(err);
}

/* An answer whose status line and headers take exactly n bytes. */
static char *answer_with_headers(size_t n, size_t *len)
{
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pad: ";
	const char *tail = "\r\n\r\n{}";
	size_t pad = n - strlen(head) - 4; /* the closing CRLF CRLF count, the body does not */
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_puts(&b, head);
	for (size_t i = 0; i < pad; i++)
		wsr_buf_putc(&b, 'p');
	wsr_buf_puts(&b, tail);
	*len = b.len;
	return wsr_buf_detach(&b);
}

static void expect_headers(size_t n, int want_rc)
{
	size_t len;
	char *reply = answer_with_headers(n, &len);
	raw_start(reply, len);
	limits l = {.retries = 5};
	wsr_http_resp r;
	char *err = NULL;
	get(&l, want_rc, &r, &err);
	if (!want_rc) {
		assert_int_equal(r.status, 200);
		assert_string_equal(r.body, "{}");
		wsr_http_resp_free(&r);
	} else {
		assert_has(err, "the response headers are larger than 65536 bytes (not retried)");
		assert_int_equal(r.attempts, 1); /* the next answer would be the same */
	}
	free(err);
	teardown(NULL);
	free(reply);
}

static void test_header_limit_boundary(void **state)
{
	(void)state;
	expect_headers(WSR_HTTP_MAX_HEADERS, 0);
	expect_headers(WSR_HTTP_MAX_HEADERS + 1, WSR_ELIMIT);
}

/* One header line beyond what libcurl buffers (100 KiB): curl refuses it
 * before wsr sees it; still "too large", not "cannot reach", not retried. */
static void test_giant_header_line_is_too_large(void **state)
{
	(void)state;
	size_t len;
	char *reply = answer_with_headers(300 * 1024, &len);
	raw_start(reply, len);
	limits l = {.retries = 5};
	wsr_http_resp r;
	char *err = NULL;
	get(&l, WSR_ELIMIT, &r, &err);
	assert_has(err, "the response headers are");
	assert_has(err, "(not retried)");
	assert_int_equal(r.attempts, 1);
	assert_int_equal(raw_requests(), 1);
	free(err);
	raw_stop(); /* the server thread may still be writing the reply */
	free(reply);
}

/* A 503 that retries never got past: the answer says how hard wsr tried. */
static void test_exhausted_5xx_says_attempts(void **state)
{
	(void)state;
	static const char reply[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n"
				    "Connection: close\r\n\r\n{}";
	raw_start(reply, sizeof(reply) - 1);
	limits l = {.retries = 2};
	wsr_http *h = client(&l);
	wsr_http_answer ans;
	cJSON *json = NULL;
	char *err = NULL;
	assert_int_equal(wsr_http_request_json(h, &ans, &json, "GET", "/v1/x", NULL, NULL, &err),
			 0);
	assert_int_equal(ans.status, 503);
	assert_int_equal(ans.attempts, 3);
	assert_true(wsr_http_exhausted(&ans));
	char *said = wsr_http_gave_up(&ans);
	assert_has(said, "answered 503 after 3 attempts over ");
	free(said);
	cJSON_Delete(json);
	wsr_http_free(h);
	/* a 503 given once, without retries, is the caller's to report as it is */
	ans.attempts = 1;
	assert_false(wsr_http_exhausted(&ans));
	ans = (wsr_http_answer){404, 3, 0};
	assert_false(wsr_http_exhausted(&ans));
}

/* The providers' reader of the limits: each duration from 1 ms to
 * WSR_HTTP_MAX_WAIT_MS, the boundaries included, anything else an error
 * naming the key; absent keys keep lib/http's defaults. */
static int read_limit(const char *key, const char *value, long *got)
{
	cJSON *config = cJSON_CreateObject();
	if (value)
		cJSON_AddStringToObject(config, key, value);
	wsr_http_opts o = WSR_HTTP_OPTS_INIT;
	wsr_diag d = WSR_DIAG_INIT;
	int rc = wsr_provider_http_limits(&o, config, "providers.test", &d);
	*got = strcmp(key, "connectTimeout") == 0   ? o.connect_timeout_ms
	       : strcmp(key, "requestTimeout") == 0 ? o.timeout_ms
						    : o.retry_budget_ms;
	if (rc) {
		assert_int_equal(d.n, 1);
		assert_has(d.v[0].summary, "providers.test: ");
		assert_has(d.v[0].summary, key);
		assert_has(d.v[0].summary, "is not a duration from 1ms to 60m");
	}
	wsr_diag_free(&d);
	cJSON_Delete(config);
	return rc;
}

static void test_provider_limits_boundaries(void **state)
{
	(void)state;
	static const char *const keys[] = {"connectTimeout", "requestTimeout", "retryBudget"};
	for (size_t i = 0; i < 3; i++) {
		long ms;
		assert_int_equal(read_limit(keys[i], "1ms", &ms), 0);
		assert_int_equal(ms, 1);
		assert_int_equal(read_limit(keys[i], "60m", &ms), 0);
		assert_int_equal(ms, WSR_HTTP_MAX_WAIT_MS);
		assert_int_equal(read_limit(keys[i], "3600000ms", &ms), 0);
		assert_int_equal(read_limit(keys[i], "3600001ms", &ms), WSR_EINVAL);
		assert_int_equal(read_limit(keys[i], "0ms", &ms), WSR_EINVAL);
		assert_int_equal(read_limit(keys[i], "2h", &ms), WSR_EINVAL);
		assert_int_equal(read_limit(keys[i], "fast", &ms), WSR_EINVAL);
		assert_int_equal(read_limit(keys[i], NULL, &ms), 0);
		assert_int_equal(ms, 0); /* absent: lib/http's default applies */
	}
	/* the run's deadline, as the engine adds it */
	cJSON *config = cJSON_CreateObject();
	cJSON_AddNumberToObject(config, "deadlineMs", 123456);
	cJSON_AddStringToObject(config, "deadlineHint", "--timeout 2s");
	wsr_http_opts o = WSR_HTTP_OPTS_INIT;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(wsr_provider_http_limits(&o, config, "providers.test", &d), 0);
	assert_int_equal(o.deadline_ms, 123456);
	assert_string_equal(o.deadline_hint, "--timeout 2s");
	assert_string_equal(o.limits_hint, "providers.test");
	cJSON_Delete(config);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_hung_server_request_timeout, teardown),
	    cmocka_unit_test_teardown(test_hung_server_retry_budget, teardown),
	    cmocka_unit_test_teardown(test_budget_equal_to_request_timeout_is_one_attempt,
				      teardown),
	    cmocka_unit_test_teardown(test_deadline_cuts_the_wait, teardown),
	    cmocka_unit_test_teardown(test_deadline_passed_sends_nothing, teardown),
	    cmocka_unit_test_teardown(test_connect_timeout_is_separate, teardown),
	    cmocka_unit_test_teardown(test_tls_handshake_hang_is_a_connect_timeout, teardown),
	    cmocka_unit_test_teardown(test_header_limit_boundary, teardown),
	    cmocka_unit_test_teardown(test_giant_header_line_is_too_large, teardown),
	    cmocka_unit_test_teardown(test_exhausted_5xx_says_attempts, teardown),
	    cmocka_unit_test(test_provider_limits_boundaries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
