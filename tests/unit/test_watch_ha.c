/* test_watch_ha: the leader election of reconciler/watch_ha.c against a
 * scripted fake of etcd's JSON gateway (one key, leases, and switches for
 * "etcd is down" and "the lease is gone"): a replica alone is elected; one
 * that finds another's key follows and campaigns once it is gone; a leader
 * steps down at once when etcd says its lease expired, and on its own once
 * renewals fail for the lease minus one renew period; may_start refuses
 * when the key is another's; stopping a leader revokes its lease. The
 * real-cluster behaviour is tests/integration/test_watch_ha.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <openssl/evp.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/etcd.h"
#include "reconciler/watch_ha.h"
#include "tests/unit/fake_server.h"

#define PREFIX "/wsr/t"
#define KEY PREFIX "/leader"

/* The fake's one key and its leases, under mu (the server thread answers). */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int present;
	char value[2048]; /* base64, as the gateway stores and shows it */
	long long create_rev, lease, rev, next_lease;
	int down;	/* answer every request 503 "no leader" */
	int lease_gone; /* keepalive answers an expired lease */
	int revoked;	/* revoke calls */
	long long revoked_id;
} f;
static char key_b64[64];
/* on_change's calls and the role it last read (through wsr_ha_status, as
 * watch.c does: it must not deadlock) */
static int changes;
static char seen_role[16];

static void b64(char *out, size_t n, const char *in)
{
	assert_true(4 * ((strlen(in) + 2) / 3) + 1 <= n);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)strlen(in));
}

static long long num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v)   ? atoll(v->valuestring)
	       : cJSON_IsNumber(v) ? (long long)v->valuedouble
				   : 0;
}

/* mu held */
static void put_kv(wsr_buf *b)
{
	wsr_buf_printf(b,
		       "{\"key\":\"%s\",\"value\":\"%s\",\"create_revision\":\"%lld\","
		       "\"mod_revision\":\"%lld\",\"version\":\"1\",\"lease\":\"%lld\"}",
		       key_b64, f.value, f.create_rev, f.create_rev, f.lease);
}

static void put_range(wsr_buf *b)
{
	wsr_buf_printf(b, "{\"header\":{\"revision\":\"%lld\"}", f.rev);
	if (f.present) {
		wsr_buf_puts(b, ",\"kvs\":[");
		put_kv(b);
		wsr_buf_puts(b, "],\"count\":\"1\"");
	}
	wsr_buf_puts(b, "}");
}

static char *dispatch(struct MHD_Connection *c, const char *method, const char *url,
		      const char *body, unsigned *status)
{
	(void)c, (void)method;
	cJSON *in = cJSON_Parse(body ? body : "{}");
	wsr_buf b = WSR_BUF_INIT;
	pthread_mutex_lock(&mu);
	*status = 200;
	if (f.down) {
		*status = 503;
		wsr_buf_puts(&b, "{\"error\":\"etcdserver: no leader\",\"code\":14,"
				 "\"message\":\"etcdserver: no leader\"}");
	} else if (strcmp(url, "/v3/kv/range") == 0) {
		put_range(&b);
	} else if (strcmp(url, "/v3/lease/grant") == 0) {
		wsr_buf_printf(&b, "{\"ID\":\"%lld\",\"TTL\":\"%lld\"}", ++f.next_lease,
			       num(in, "TTL"));
	} else if (strcmp(url, "/v3/lease/keepalive") == 0) {
		if (f.lease_gone)
			wsr_buf_puts(&b, "{\"result\":{\"header\":{}}}");
		else
			wsr_buf_printf(&b, "{\"result\":{\"ID\":\"%lld\",\"TTL\":\"3\"}}",
				       num(in, "ID"));
	} else if (strcmp(url, "/v3/lease/revoke") == 0) {
		long long id = num(in, "ID");
		f.revoked++;
		f.revoked_id = id;
		if (f.present && f.lease == id)
			f.present = 0;
		wsr_buf_puts(&b, "{\"header\":{}}");
	} else if (strcmp(url, "/v3/kv/txn") == 0) {
		/* the campaign: create the key if it was never created, else read it */
		if (!f.present) {
			const cJSON *put = cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(in, "success"), 0),
			    "request_put");
			const char *v =
			    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(put, "value"));
			snprintf(f.value, sizeof(f.value), "%s", v ? v : "");
			f.lease = num(put, "lease");
			f.present = 1;
			f.create_rev = ++f.rev;
			wsr_buf_printf(&b,
				       "{\"header\":{\"revision\":\"%lld\"},\"succeeded\":true,"
				       "\"responses\":[{\"response_put\":{}}]}",
				       f.rev);
		} else {
			wsr_buf_printf(&b,
				       "{\"header\":{\"revision\":\"%lld\"},\"responses\":[{"
				       "\"response_range\":",
				       f.rev);
			put_range(&b);
			wsr_buf_puts(&b, "}]}");
		}
	} else {
		*status = 404;
		wsr_buf_puts(&b, "{\"error\":\"not found\"}");
	}
	pthread_mutex_unlock(&mu);
	cJSON_Delete(in);
	return wsr_buf_detach(&b);
}

static struct MHD_Daemon *server;
static char url[64];

static int setup(void **state)
{
	(void)state;
	memset(&f, 0, sizeof(f));
	f.rev = 1;
	changes = 0;
	seen_role[0] = 0;
	b64(key_b64, sizeof(key_b64), KEY);
	server = fake_start(dispatch, url, sizeof(url));
	return server ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	MHD_stop_daemon(server);
	return 0;
}

/* Another replica's key, as it would have put it. */
static void other_leads(long long create_rev)
{
	char b[2048];
	b64(b, sizeof(b), "{\"id\":\"other\",\"host\":\"elsewhere\",\"pid\":7,\"since\":\"x\"}");
	pthread_mutex_lock(&mu);
	snprintf(f.value, sizeof(f.value), "%s", b);
	f.present = 1;
	f.lease = 999;
	f.create_rev = create_rev;
	if (f.rev < create_rev)
		f.rev = create_rev;
	pthread_mutex_unlock(&mu);
}

static void on_change(void *arg, wsr_ha *h)
{
	(void)arg;
	cJSON *st = wsr_ha_status(h);
	pthread_mutex_lock(&mu);
	changes++;
	snprintf(seen_role, sizeof(seen_role), "%s",
		 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "role")));
	pthread_mutex_unlock(&mu);
	cJSON_Delete(st);
}

static wsr_ha *start(int64_t lease_ms)
{
	const char *eps[] = {url};
	wsr_etcd_opts eo = {.endpoints = eps, .nendpoints = 1, .timeout_ms = 500, .where = "test"};
	wsr_etcd *c = NULL;
	char *err = NULL;
	assert_int_equal(wsr_etcd_new(&c, &eo, &err), 0);
	wsr_ha_opts o = {.etcd = c,
			 .prefix = PREFIX,
			 .lease_ms = lease_ms,
			 .listen = "127.0.0.1:9464",
			 .wake_fd = -1,
			 .poll_ms = 100,
			 .on_change = on_change};
	wsr_ha *h = NULL;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(wsr_ha_start(&h, &o, &d), 0);
	wsr_diag_free(&d);
	return h;
}

static int leads(wsr_ha *h)
{
	const char *k;
	int64_t rev;
	return wsr_ha_leader(h, &k, &rev);
}

/* Waits up to ms for leads(h) == want. */
static int becomes(wsr_ha *h, int want, int64_t ms)
{
	int64_t end = wsr_clock_mono_ms() + ms;
	while (wsr_clock_mono_ms() < end) {
		if (leads(h) == want)
			return 1;
		usleep(20 * 1000);
	}
	return leads(h) == want;
}

static void a_lease_out_of_range_is_refused(void **state)
{
	(void)state;
	const char *eps[] = {url};
	wsr_etcd_opts eo = {.endpoints = eps, .nendpoints = 1};
	int64_t bad[] = {1999, 300001, -1};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		wsr_etcd *c = NULL;
		char *err = NULL;
		assert_int_equal(wsr_etcd_new(&c, &eo, &err), 0);
		wsr_ha_opts o = {.etcd = c, .prefix = PREFIX, .lease_ms = bad[i], .wake_fd = -1};
		wsr_ha *h = NULL;
		wsr_diag d = WSR_DIAG_INIT;
		assert_int_equal(wsr_ha_start(&h, &o, &d), WSR_EINVAL);
		assert_null(h);
		assert_int_equal(d.n, 1);
		assert_non_null(strstr(d.v[0].summary, "watch.haLease"));
		wsr_diag_free(&d);
	}
}

static void alone_it_is_elected_and_resigns_on_stop(void **state)
{
	(void)state;
	wsr_ha *h = start(3000);
	assert_true(becomes(h, 1, 2000));
	const char *k = NULL;
	int64_t rev = 0;
	assert_int_equal(wsr_ha_leader(h, &k, &rev), 1);
	assert_string_equal(k, KEY);
	pthread_mutex_lock(&mu);
	long long want = f.create_rev, lease = f.lease;
	char value[2048];
	snprintf(value, sizeof(value), "%s", f.value);
	pthread_mutex_unlock(&mu);
	assert_int_equal(rev, want); /* the fencing token is the key's create_revision */
	unsigned char raw[2048];
	int n = EVP_DecodeBlock(raw, (const unsigned char *)value, (int)strlen(value));
	assert_true(n > 0);
	raw[n] = 0;
	cJSON *id = cJSON_Parse((char *)raw);
	assert_non_null(id);
	assert_non_null(cJSON_GetObjectItemCaseSensitive(id, "host"));
	assert_non_null(cJSON_GetObjectItemCaseSensitive(id, "since"));
	assert_int_equal((long)cJSON_GetObjectItemCaseSensitive(id, "pid")->valuedouble,
			 (long)getpid());
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(id, "listen")->valuestring,
			    "127.0.0.1:9464");
	cJSON *st = wsr_ha_status(h);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(st, "role")->valuestring, "leader");
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(st, "leader"), "id")
		->valuestring,
	    cJSON_GetObjectItemCaseSensitive(id, "id")->valuestring);
	assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(st, "transitions")->valuedouble, 1);
	cJSON_Delete(st);
	cJSON_Delete(id);
	assert_int_equal(wsr_ha_may_start(h), 0);
	char why[256];
	assert_int_equal(wsr_ha_not_ready(h, why, sizeof(why)), 0);
	usleep(100 * 1000); /* the thread calls on_change right after the campaign */
	pthread_mutex_lock(&mu);
	assert_true(changes >= 1);
	assert_string_equal(seen_role, "leader");
	pthread_mutex_unlock(&mu);
	wsr_ha_stop(h);
	pthread_mutex_lock(&mu);
	assert_int_equal(f.revoked_id, lease); /* resigned: the key went with the lease */
	assert_int_equal(f.present, 0);
	pthread_mutex_unlock(&mu);
}

static void it_follows_another_and_campaigns_once_the_key_is_gone(void **state)
{
	(void)state;
	other_leads(5);
	wsr_ha *h = start(3000);
	usleep(400 * 1000);
	assert_int_equal(leads(h), 0);
	assert_int_not_equal(wsr_ha_may_start(h), 0);
	cJSON *st = wsr_ha_status(h);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(st, "role")->valuestring, "follower");
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(st, "leader"), "host")
		->valuestring,
	    "elsewhere");
	cJSON_Delete(st);
	pthread_mutex_lock(&mu);
	f.present = 0; /* the other's lease expired */
	pthread_mutex_unlock(&mu);
	assert_true(becomes(h, 1, 1000)); /* within a few polls of 100 ms */
	wsr_ha_stop(h);
}

static void a_lease_etcd_says_is_gone_ends_the_leadership_at_once(void **state)
{
	(void)state;
	wsr_ha *h = start(3000);
	assert_true(becomes(h, 1, 2000));
	pthread_mutex_lock(&mu);
	f.lease_gone = 1;
	f.present = 0;
	pthread_mutex_unlock(&mu);
	/* the next renewal (every 1 s) hears it */
	assert_true(becomes(h, 0, 1500));
	pthread_mutex_lock(&mu);
	f.lease_gone = 0;
	pthread_mutex_unlock(&mu);
	assert_true(becomes(h, 1, 1000)); /* and it campaigns again */
	assert_int_equal(wsr_ha_transitions(h), 3);
	wsr_ha_stop(h);
}

static void without_etcd_the_leader_steps_down_before_its_lease_can_expire(void **state)
{
	(void)state;
	wsr_ha *h = start(3000);
	assert_true(becomes(h, 1, 2000));
	pthread_mutex_lock(&mu);
	f.down = 1;
	pthread_mutex_unlock(&mu);
	int64_t t0 = wsr_clock_mono_ms();
	assert_int_not_equal(wsr_ha_may_start(h), 0); /* cannot prove it: refused */
	/* no renewal for lease - lease/3 = 2 s after the last one that got through */
	assert_true(becomes(h, 0, 2500));
	int64_t took = wsr_clock_mono_ms() - t0;
	assert_true(took <= 2100); /* never past the deadline */
	char why[512];
	assert_int_equal(wsr_ha_not_ready(h, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "etcd unreachable"));
	pthread_mutex_lock(&mu);
	f.down = 0;
	f.present = 0; /* its lease expired meanwhile */
	pthread_mutex_unlock(&mu);
	assert_true(becomes(h, 1, 1500));
	assert_int_equal(wsr_ha_not_ready(h, why, sizeof(why)), 0);
	assert_int_equal(wsr_ha_transitions(h), 3); /* stepped down, elected again */
	wsr_ha_stop(h);
}

static void may_start_refuses_once_the_key_is_anothers(void **state)
{
	(void)state;
	wsr_ha *h = start(3000);
	assert_true(becomes(h, 1, 2000));
	assert_int_equal(wsr_ha_may_start(h), 0);
	other_leads(77); /* deleted and created again by someone else */
	assert_int_not_equal(wsr_ha_may_start(h), 0);
	assert_int_equal(leads(h), 0); /* and it stepped down at once */
	wsr_ha_stop(h);
	pthread_mutex_lock(&mu);
	assert_int_equal(f.present, 1); /* the other's key is left alone */
	assert_int_equal(f.create_rev, 77);
	pthread_mutex_unlock(&mu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(a_lease_out_of_range_is_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(alone_it_is_elected_and_resigns_on_stop, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(it_follows_another_and_campaigns_once_the_key_is_gone,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(a_lease_etcd_says_is_gone_ends_the_leadership_at_once,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		without_etcd_the_leader_steps_down_before_its_lease_can_expire, setup, teardown),
	    cmocka_unit_test_setup_teardown(may_start_refuses_once_the_key_is_anothers, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
