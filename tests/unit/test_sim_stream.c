/* test_sim_stream: streamed answers of sim/server.c (what kcp watches are
 * built on), over real HTTP with libcurl: a stream that suspends its
 * connection while it has nothing to send and is resumed from another
 * thread arrives chunked and whole; the server's threads stay free for
 * other requests meanwhile; the server stops at once with streams
 * suspended (libmicrohttpd panics on a suspended connection otherwise);
 * each stream's free runs exactly once. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "lib/buf.h"
#include "sim/server.h"

typedef struct stream {
	pthread_mutex_t mu;
	wsr_buf queued; /* bytes to send next */
	int end, reads, freed;
	wsr_sim_conn *conn;
} stream;

static stream the_stream;

static long stream_fn(void *ctx, wsr_sim_conn *conn, char *buf, size_t max)
{
	stream *st = ctx;
	long n = 0;
	pthread_mutex_lock(&st->mu);
	st->conn = conn;
	st->reads++;
	if (st->queued.len) {
		n = (long)(st->queued.len < max ? st->queued.len : max);
		memcpy(buf, st->queued.data, (size_t)n);
		memmove(st->queued.data, st->queued.data + n, st->queued.len - (size_t)n);
		st->queued.len -= (size_t)n;
	} else if (st->end)
		n = WSR_SIM_STREAM_END;
	else
		wsr_sim_conn_suspend(conn);
	pthread_mutex_unlock(&st->mu);
	return n;
}

static void stream_free(void *ctx)
{
	stream *st = ctx;
	pthread_mutex_lock(&st->mu);
	st->freed++;
	pthread_mutex_unlock(&st->mu);
}

static void handler(void *ctx, const wsr_sim_req *req, wsr_sim_resp *resp)
{
	(void)ctx;
	if (strcmp(req->path, "/stream") == 0) {
		resp->status = 200;
		resp->stream = stream_fn;
		resp->stream_ctx = &the_stream;
		resp->stream_free = stream_free;
	} else
		wsr_sim_resp_json(resp, 200, cJSON_CreateObject());
}

static void push(const char *text, int end)
{
	pthread_mutex_lock(&the_stream.mu);
	wsr_buf_puts(&the_stream.queued, text);
	the_stream.end = end;
	wsr_sim_conn_resume(the_stream.conn);
	pthread_mutex_unlock(&the_stream.mu);
}

typedef struct fetch {
	char url[128];
	wsr_buf body, headers;
	long status;
	CURLcode rc;
} fetch;

static size_t on_data(char *p, size_t size, size_t n, void *b)
{
	wsr_buf_add(b, p, size * n);
	return size * n;
}

static void *fetch_main(void *arg)
{
	fetch *f = arg;
	CURL *c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, f->url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &f->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &f->headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	f->rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f->status);
	curl_easy_cleanup(c);
	return NULL;
}

static wsr_sim_server *start(void)
{
	wsr_sim_server *s;
	char *err = NULL;
	wsr_sim_server_opts o = {.listen = "127.0.0.1:0", .quiet = 1, .handler = handler};
	pthread_mutex_init(&the_stream.mu, NULL);
	wsr_buf_free(&the_stream.queued);
	the_stream.end = the_stream.reads = the_stream.freed = 0;
	the_stream.conn = NULL;
	if (wsr_sim_server_start(&s, &o, &err))
		fail_msg("%s", err);
	return s;
}

/* Waits up to 5 s until the stream was read at least n times. */
static void wait_reads(int n)
{
	for (int i = 0; i < 500; i++) {
		pthread_mutex_lock(&the_stream.mu);
		int r = the_stream.reads;
		pthread_mutex_unlock(&the_stream.mu);
		if (r >= n)
			return;
		usleep(10000);
	}
	fail_msg("the stream was not read %d times", n);
}

static void suspended_streams_resume_and_arrive_whole(void **state)
{
	(void)state;
	wsr_sim_server *s = start();
	fetch f = {{0}, WSR_BUF_INIT, WSR_BUF_INIT, 0, CURLE_OK};
	fetch other = {{0}, WSR_BUF_INIT, WSR_BUF_INIT, 0, CURLE_OK};
	pthread_t t, t2;
	snprintf(f.url, sizeof(f.url), "%s/stream", wsr_sim_server_url(s));
	snprintf(other.url, sizeof(other.url), "%s/other", wsr_sim_server_url(s));
	push("{\"n\":1}\n", 0);
	pthread_create(&t, NULL, fetch_main, &f);
	wait_reads(2); /* sent the first, then suspended */
	/* a suspended stream holds no thread: another request answers */
	pthread_create(&t2, NULL, fetch_main, &other);
	pthread_join(t2, NULL);
	assert_int_equal(other.status, 200);
	push("{\"n\":2}\n", 1);
	pthread_join(t, NULL);
	assert_int_equal(f.rc, CURLE_OK);
	assert_int_equal(f.status, 200);
	assert_string_equal(wsr_buf_str(&f.body), "{\"n\":1}\n{\"n\":2}\n");
	assert_non_null(strcasestr(wsr_buf_str(&f.headers), "transfer-encoding: chunked"));
	wsr_sim_server_stop(s);
	assert_int_equal(the_stream.freed, 1);
	wsr_buf_free(&f.body);
	wsr_buf_free(&f.headers);
	wsr_buf_free(&other.body);
	wsr_buf_free(&other.headers);
	wsr_buf_free(&the_stream.queued);
}

static void the_server_stops_with_streams_suspended(void **state)
{
	(void)state;
	wsr_sim_server *s = start();
	fetch f = {{0}, WSR_BUF_INIT, WSR_BUF_INIT, 0, CURLE_OK};
	pthread_t t;
	snprintf(f.url, sizeof(f.url), "%s/stream", wsr_sim_server_url(s));
	pthread_create(&t, NULL, fetch_main, &f);
	wait_reads(1); /* nothing to send: suspended */
	alarm(10);     /* a hang fails the test instead of the suite */
	wsr_sim_server_stop(s);
	alarm(0);
	pthread_join(t, NULL);
	assert_int_equal(the_stream.freed, 1);
	wsr_buf_free(&f.body);
	wsr_buf_free(&f.headers);
}

/* An answer whose stream never reached a connection is freed with it. */
static void an_unsent_stream_is_freed_once(void **state)
{
	(void)state;
	wsr_sim_resp r = {0};
	the_stream.freed = 0;
	r.stream = stream_fn;
	r.stream_ctx = &the_stream;
	r.stream_free = stream_free;
	wsr_sim_resp_free(&r);
	wsr_sim_resp_free(&r);
	assert_int_equal(the_stream.freed, 1);
	assert_null(r.stream);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(suspended_streams_resume_and_arrive_whole),
	    cmocka_unit_test(the_server_stops_with_streams_suspended),
	    cmocka_unit_test(an_unsent_stream_is_freed_once),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
