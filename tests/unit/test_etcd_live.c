/* test_etcd_live: lib/etcd against a real etcd cluster, which
 * tests/integration/test_etcd_client.sh starts (tests/integration/etcd_lib.sh)
 * and describes in the environment:
 *   WSR_ETCD_ENDPOINTS  comma-separated client URLs; unset: every test skips
 *   WSR_ETCD_LIVE       which group runs: kv, failover, noquorum, tls, auth
 *   WSR_ETCD_CA, WSR_ETCD_CERT, WSR_ETCD_KEY    TLS files (tls)
 *   WSR_ETCD_USER, WSR_ETCD_PASSWORD            credentials (auth)
 * The script sets the cluster up for the group (a member stopped, two
 * stopped, TLS, auth on) and checks that the group's tests ran, not
 * skipped. Each test prints what it measured on stdout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/etcd.h"

static char *eps_buf;
static const char *eps[WSR_ETCD_MAX_ENDPOINTS];
static size_t neps;
static char prefix[64];

/* Skips unless the cluster is there and group is the one asked for. */
static void need(const char *group)
{
	const char *e = getenv("WSR_ETCD_ENDPOINTS");
	const char *g = getenv("WSR_ETCD_LIVE");
	if (!e || !*e) {
		printf("skipped: WSR_ETCD_ENDPOINTS is not set (tests/integration/"
		       "test_etcd_client.sh runs these against a real cluster)\n");
		skip();
	}
	if (!g || strcmp(g, group) != 0)
		skip();
	if (!eps_buf) {
		eps_buf = strdup(e);
		assert_non_null(eps_buf);
		for (char *s = strtok(eps_buf, ","); s && neps < WSR_ETCD_MAX_ENDPOINTS;
		     s = strtok(NULL, ","))
			eps[neps++] = s;
		snprintf(prefix, sizeof(prefix), "/live/%ld-%lld/", (long)getpid(),
			 (long long)wsr_clock_now_ms());
	}
}

static wsr_etcd *open_with(const char *user, const char *password, int tls, long timeout_ms)
{
	wsr_etcd_opts o = {0};
	o.endpoints = eps;
	o.nendpoints = neps;
	o.username = user;
	o.password = password;
	if (tls) {
		o.ca_file = getenv("WSR_ETCD_CA");
		o.cert_file = getenv("WSR_ETCD_CERT");
		o.key_file = getenv("WSR_ETCD_KEY");
	}
	o.timeout_ms = timeout_ms;
	o.connect_timeout_ms = 1000;
	o.where = "state";
	wsr_etcd *c = NULL;
	char *err = NULL;
	if (wsr_etcd_new(&c, &o, &err))
		fail_msg("wsr_etcd_new: %s", err);
	return c;
}

static wsr_etcd *open_plain(void)
{
	return open_with(getenv("WSR_ETCD_USER"), getenv("WSR_ETCD_PASSWORD"),
			 getenv("WSR_ETCD_CA") != NULL, 0);
}

static char *key(const char *name)
{
	static char k[4][128];
	static int next;
	char *out = k[next++ % 4];
	snprintf(out, sizeof(k[0]), "%s%s", prefix, name);
	return out;
}

/* *err is read after the call: ok(f(&err), err) could pass its old value. */
static void ok(int rc, char **err, const char *what)
{
	if (rc)
		fail_msg("%s: rc %d: %s", what, rc, *err ? *err : "");
	free(*err);
	*err = NULL;
}

static void put(wsr_etcd *c, const char *k, const char *v, int64_t lease)
{
	wsr_etcd_op op = {WSR_ETCD_PUT, k, NULL, v, strlen(v), lease};
	wsr_etcd_txn_result t;
	char *err = NULL;
	ok(wsr_etcd_txn(c, NULL, 0, &op, 1, NULL, 0, &t, &err), &err, "put");
	assert_true(t.succeeded);
	wsr_etcd_txn_result_free(&t);
}

/* The key's record, or 0 keys. */
static size_t get(wsr_etcd *c, const char *k, wsr_etcd_kv *out)
{
	wsr_etcd_range_result r;
	char *err = NULL;
	ok(wsr_etcd_range(c, &r, k, NULL, 0, 0, &err), &err, "range");
	size_t n = r.n;
	if (n && out) {
		out->create_revision = r.kvs[0].create_revision;
		out->mod_revision = r.kvs[0].mod_revision;
		out->version = r.kvs[0].version;
		out->lease = r.kvs[0].lease;
		out->value_len = r.kvs[0].value_len;
	}
	wsr_etcd_range_free(&r);
	return n;
}

/* ---- kv ---- */

static void test_kv_put_read_delete(void **state)
{
	(void)state;
	need("kv");
	wsr_etcd *c = open_plain();
	put(c, key("a"), "hello", 0);
	wsr_etcd_range_result r;
	char *err = NULL;
	ok(wsr_etcd_range(c, &r, key("a"), NULL, 0, 0, &err), &err, "range");
	assert_int_equal(r.n, 1);
	assert_string_equal(r.kvs[0].key, key("a"));
	assert_string_equal(r.kvs[0].value, "hello");
	assert_int_equal(r.kvs[0].version, 1);
	assert_true(r.kvs[0].create_revision > 0);
	assert_int_equal(r.kvs[0].create_revision, r.kvs[0].mod_revision);
	assert_true(r.revision >= r.kvs[0].mod_revision);
	wsr_etcd_range_free(&r);
	/* binary values keep their bytes */
	wsr_etcd_op bin = {WSR_ETCD_PUT, key("bin"), NULL, "\0\xff\n", 3, 0};
	wsr_etcd_txn_result t;
	ok(wsr_etcd_txn(c, NULL, 0, &bin, 1, NULL, 0, &t, &err), &err, "put binary");
	wsr_etcd_txn_result_free(&t);
	ok(wsr_etcd_range(c, &r, key("bin"), NULL, 0, 0, &err), &err, "range binary");
	assert_int_equal(r.kvs[0].value_len, 3);
	assert_memory_equal(r.kvs[0].value, "\0\xff\n", 3);
	wsr_etcd_range_free(&r);
	/* delete of the prefix, read back in the same txn */
	char *end = wsr_etcd_prefix_end(prefix);
	wsr_etcd_op ops[] = {{WSR_ETCD_DELETE, prefix, end, NULL, 0, 0},
			     {WSR_ETCD_GET, prefix, end, NULL, 0, 0}};
	ok(wsr_etcd_txn(c, NULL, 0, ops, 2, NULL, 0, &t, &err), &err, "delete");
	assert_int_equal(t.ngets, 1);
	assert_int_equal(t.gets[0].n, 0);
	wsr_etcd_txn_result_free(&t);
	free(end);
	assert_int_equal(get(c, key("a"), NULL), 0);
	printf("put, read and delete against %s\n", wsr_etcd_endpoint(c));
	wsr_etcd_free(c);
}

static void test_kv_paging_at_a_fixed_revision(void **state)
{
	(void)state;
	need("kv");
	wsr_etcd *c = open_plain();
	char names[5][8];
	wsr_etcd_op ops[5];
	for (int i = 0; i < 5; i++) {
		snprintf(names[i], sizeof(names[i]), "p/%d", i);
		ops[i] = (wsr_etcd_op){WSR_ETCD_PUT, strdup(key(names[i])), NULL, "v", 1, 0};
	}
	wsr_etcd_txn_result t;
	char *err = NULL;
	ok(wsr_etcd_txn(c, NULL, 0, ops, 5, NULL, 0, &t, &err), &err, "put 5");
	wsr_etcd_txn_result_free(&t);
	char *from = strdup(key("p/")), *end = wsr_etcd_prefix_end(from);
	wsr_etcd_range_result r;
	ok(wsr_etcd_range(c, &r, from, end, 0, 2, &err), &err, "page 1");
	assert_int_equal(r.n, 2);
	assert_true(r.more);
	assert_int_equal(r.count, 5);
	int64_t rev = r.revision;
	char *last = strdup(r.kvs[1].key);
	wsr_etcd_range_free(&r);
	put(c, key("p/9"), "later", 0); /* after the first page: not in this read */
	size_t seen = 2;
	for (int pages = 1; pages < 10; pages++) {
		/* from the last key again (a C string cannot add etcd's "\0"), one more */
		ok(wsr_etcd_range(c, &r, last, end, rev, 3, &err), &err, "next page");
		assert_true(r.n >= 1);
		assert_string_equal(r.kvs[0].key, last);
		assert_int_equal(r.count, 5 - seen + 1);
		seen += r.n - 1;
		free(last);
		last = strdup(r.kvs[r.n - 1].key);
		int more = r.more;
		wsr_etcd_range_free(&r);
		if (!more)
			break;
	}
	assert_int_equal(seen, 5);
	assert_string_equal(last, key("p/4"));
	/* the latest revision sees the later key */
	ok(wsr_etcd_range(c, &r, from, end, 0, 0, &err), &err, "latest");
	assert_int_equal(r.n, 6);
	wsr_etcd_range_free(&r);
	/* a revision in the future is etcd's refusal */
	assert_int_equal(wsr_etcd_range(c, &r, from, end, rev + 1000000, 0, &err), WSR_EAPI);
	assert_non_null(strstr(err, "future revision"));
	free(err);
	for (int i = 0; i < 5; i++)
		free((char *)ops[i].key);
	free(last);
	free(from);
	free(end);
	wsr_etcd_free(c);
}

static void test_kv_compare_and_swap(void **state)
{
	(void)state;
	need("kv");
	wsr_etcd *c = open_plain();
	const char *k = key("cas");
	/* create only if absent: create_revision == 0 */
	wsr_etcd_cmp absent = {k, WSR_ETCD_CMP_CREATE, WSR_ETCD_EQUAL, 0, NULL, 0};
	wsr_etcd_op put1 = {WSR_ETCD_PUT, k, NULL, "one", 3, 0};
	wsr_etcd_op read = {WSR_ETCD_GET, k, NULL, NULL, 0, 0};
	wsr_etcd_txn_result t;
	char *err = NULL;
	ok(wsr_etcd_txn(c, &absent, 1, &put1, 1, &read, 1, &t, &err), &err, "create");
	assert_true(t.succeeded);
	wsr_etcd_txn_result_free(&t);
	ok(wsr_etcd_txn(c, &absent, 1, &put1, 1, &read, 1, &t, &err), &err, "create again");
	assert_false(t.succeeded); /* exists now: the failure branch read it */
	assert_int_equal(t.gets[0].n, 1);
	int64_t mod = t.gets[0].kvs[0].mod_revision;
	wsr_etcd_txn_result_free(&t);
	/* swap on mod_revision: the first wins, the second (same revision) loses */
	wsr_etcd_cmp same = {k, WSR_ETCD_CMP_MOD, WSR_ETCD_EQUAL, mod, NULL, 0};
	wsr_etcd_op put2 = {WSR_ETCD_PUT, k, NULL, "two", 3, 0};
	wsr_etcd_op put3 = {WSR_ETCD_PUT, k, NULL, "three", 5, 0};
	ok(wsr_etcd_txn(c, &same, 1, &put2, 1, &read, 1, &t, &err), &err, "swap");
	assert_true(t.succeeded);
	assert_true(t.revision > mod);
	wsr_etcd_txn_result_free(&t);
	ok(wsr_etcd_txn(c, &same, 1, &put3, 1, &read, 1, &t, &err), &err, "stale swap");
	assert_false(t.succeeded);
	assert_string_equal(t.gets[0].kvs[0].value, "two"); /* never overwritten */
	wsr_etcd_txn_result_free(&t);
	/* value compare */
	wsr_etcd_cmp val = {k, WSR_ETCD_CMP_VALUE, WSR_ETCD_EQUAL, 0, "two", 3};
	ok(wsr_etcd_txn(c, &val, 1, &put3, 1, NULL, 0, &t, &err), &err, "value swap");
	assert_true(t.succeeded);
	wsr_etcd_txn_result_free(&t);
	/* etcd's own refusal: two writes of one key in a txn */
	wsr_etcd_op dup[] = {put2, put3};
	assert_int_equal(wsr_etcd_txn(c, NULL, 0, dup, 2, NULL, 0, &t, &err), WSR_EAPI);
	assert_non_null(strstr(err, "duplicate key"));
	free(err);
	wsr_etcd_free(c);
}

static void test_lease_grant_keepalive_revoke(void **state)
{
	(void)state;
	need("kv");
	wsr_etcd *c = open_plain();
	int64_t id = 0, ttl = 0;
	char *err = NULL;
	ok(wsr_etcd_lease_grant(c, 30, &id, &err), &err, "grant");
	assert_true(id > 0);
	put(c, key("lock"), "holder", id);
	wsr_etcd_kv kv;
	assert_int_equal(get(c, key("lock"), &kv), 1);
	assert_int_equal(kv.lease, id);
	ok(wsr_etcd_lease_keepalive(c, id, &ttl, &err), &err, "keepalive");
	assert_true(ttl > 25 && ttl <= 30);
	ok(wsr_etcd_lease_revoke(c, id, &err), &err, "revoke");
	assert_int_equal(get(c, key("lock"), NULL), 0); /* deleted with its lease */
	assert_int_equal(wsr_etcd_lease_revoke(c, id, &err), WSR_ENOTFOUND);
	free(err);
	ok(wsr_etcd_lease_keepalive(c, id, &ttl, &err), &err, "keepalive of a revoked lease");
	assert_int_equal(ttl, 0);
	/* a put on a lease that does not exist is refused */
	wsr_etcd_op op = {WSR_ETCD_PUT, key("x"), NULL, "v", 1, id};
	wsr_etcd_txn_result t;
	assert_int_equal(wsr_etcd_txn(c, NULL, 0, &op, 1, NULL, 0, &t, &err), WSR_EAPI);
	assert_non_null(strstr(err, "lease not found"));
	free(err);
	wsr_etcd_free(c);
}

static void test_lease_expiry_deletes_keys(void **state)
{
	(void)state;
	need("kv");
	wsr_etcd *c = open_plain();
	int64_t id = 0, ttl = 0;
	char *err = NULL;
	ok(wsr_etcd_lease_grant(c, 1, &id, &err), &err, "grant");
	put(c, key("short"), "v", id);
	int64_t start = wsr_clock_mono_ms();
	while (get(c, key("short"), NULL) == 1 && wsr_clock_mono_ms() - start < 6000)
		usleep(100 * 1000);
	int64_t gone = wsr_clock_mono_ms() - start;
	assert_int_equal(get(c, key("short"), NULL), 0);
	printf("a key on a 1 s lease was gone after %lld ms\n", (long long)gone);
	assert_true(gone < 4000);
	ok(wsr_etcd_lease_keepalive(c, id, &ttl, &err), &err, "keepalive after expiry");
	assert_int_equal(ttl, 0);
	wsr_etcd_free(c);
}

/* ---- a member stopped (the script stopped the leader; it is listed first) ---- */

static void test_failover_one_member_stopped(void **state)
{
	(void)state;
	need("failover");
	wsr_etcd *c = open_plain();
	int64_t start = wsr_clock_mono_ms();
	put(c, key("f"), "after failover", 0);
	int64_t took = wsr_clock_mono_ms() - start;
	assert_int_equal(get(c, key("f"), NULL), 1);
	assert_string_not_equal(wsr_etcd_endpoint(c), eps[0]);
	int64_t id = 0, ttl = 0;
	char *err = NULL;
	ok(wsr_etcd_lease_grant(c, 10, &id, &err), &err, "grant");
	ok(wsr_etcd_lease_keepalive(c, id, &ttl, &err), &err, "keepalive");
	assert_true(ttl > 0);
	ok(wsr_etcd_lease_revoke(c, id, &err), &err, "revoke");
	printf("failover: first write took %lld ms, served by %s\n", (long long)took,
	       wsr_etcd_endpoint(c));
	wsr_etcd_free(c);
}

/* ---- two of three stopped: no quorum ---- */

static void test_no_quorum_fails_fast_and_clearly(void **state)
{
	(void)state;
	need("noquorum");
	long timeout = 1000;
	wsr_etcd *c = open_with(NULL, NULL, 0, timeout);
	wsr_etcd_range_result r;
	wsr_etcd_txn_result t;
	char *err = NULL;
	int64_t start = wsr_clock_mono_ms();
	int rc = wsr_etcd_range(c, &r, key("q"), NULL, 0, 0, &err);
	int64_t took = wsr_clock_mono_ms() - start;
	printf("no quorum: a read failed after %lld ms: %s\n", (long long)took, err);
	assert_true(rc == WSR_EHTTP || rc == WSR_ETIMEOUT);
	assert_non_null(strstr(err, "no leader"));
	/* bounded: the rounds stop after timeout_ms, each attempt is bounded too */
	assert_true(took < timeout + (long)neps * (timeout + 1000));
	free(err);
	wsr_etcd_op op = {WSR_ETCD_PUT, key("q"), NULL, "v", 1, 0};
	start = wsr_clock_mono_ms();
	rc = wsr_etcd_txn(c, NULL, 0, &op, 1, NULL, 0, &t, &err);
	took = wsr_clock_mono_ms() - start;
	printf("no quorum: a txn failed after %lld ms: %s\n", (long long)took, err);
	/* refused before raft ("no leader"): known not applied, not "outcome unknown" */
	assert_int_equal(rc, WSR_EHTTP);
	assert_null(strstr(err, "outcome unknown"));
	assert_true(took < timeout + (long)neps * (timeout + 1000));
	free(err);
	int64_t ttl;
	rc = wsr_etcd_lease_keepalive(c, 1, &ttl, &err);
	assert_true(rc == WSR_EHTTP || rc == WSR_ETIMEOUT);
	free(err);
	wsr_etcd_free(c);
}

/* the script started one member again: quorum is back */
static void test_quorum_back(void **state)
{
	(void)state;
	need("quorum");
	wsr_etcd *c = open_plain();
	put(c, key("back"), "v", 0);
	assert_int_equal(get(c, key("back"), NULL), 1);
	wsr_etcd_free(c);
}

/* ---- TLS with a client certificate ---- */

static void test_tls_client_certificate(void **state)
{
	(void)state;
	need("tls");
	assert_non_null(getenv("WSR_ETCD_CA"));
	/* with auth on too when the script gives credentials */
	wsr_etcd *c = open_with(getenv("WSR_ETCD_USER"), getenv("WSR_ETCD_PASSWORD"), 1, 0);
	put(c, key("tls"), "v", 0);
	assert_int_equal(get(c, key("tls"), NULL), 1);
	assert_int_equal(strncmp(wsr_etcd_endpoint(c), "https://", 8), 0);
	wsr_etcd_free(c);
	/* without the client certificate the members refuse the handshake */
	wsr_etcd_opts o = {0};
	o.endpoints = eps;
	o.nendpoints = neps;
	o.ca_file = getenv("WSR_ETCD_CA");
	o.connect_timeout_ms = 1000;
	char *err = NULL;
	ok(wsr_etcd_new(&c, &o, &err), &err, "new");
	wsr_etcd_range_result r;
	assert_int_equal(wsr_etcd_range(c, &r, key("tls"), NULL, 0, 0, &err), WSR_EHTTP);
	printf("tls without a client certificate: %s\n", err);
	free(err);
	wsr_etcd_free(c);
	/* nor do they pass a server the CA did not sign */
	o.ca_file = NULL;
	o.cert_file = getenv("WSR_ETCD_CERT");
	o.key_file = getenv("WSR_ETCD_KEY");
	ok(wsr_etcd_new(&c, &o, &err), &err, "new");
	assert_int_equal(wsr_etcd_range(c, &r, key("tls"), NULL, 0, 0, &err), WSR_EHTTP);
	free(err);
	wsr_etcd_free(c);
}

/* ---- username and password ---- */

static void test_auth_password(void **state)
{
	(void)state;
	need("auth");
	const char *user = getenv("WSR_ETCD_USER"), *pw = getenv("WSR_ETCD_PASSWORD");
	assert_non_null(user);
	assert_non_null(pw);
	wsr_etcd *c = open_with(user, pw, 0, 0);
	put(c, key("auth"), "v", 0);
	assert_int_equal(get(c, key("auth"), NULL), 1);
	/* the user may write under / only: etcd's refusal, as it is */
	wsr_etcd_op op = {WSR_ETCD_PUT, "outside", NULL, "v", 1, 0};
	wsr_etcd_txn_result t;
	char *err = NULL;
	assert_int_equal(wsr_etcd_txn(c, NULL, 0, &op, 1, NULL, 0, &t, &err), WSR_EAPI);
	assert_non_null(strstr(err, "permission denied"));
	free(err);
	/* the token expires (the script set --auth-token-ttl 1): renewed */
	sleep(3);
	assert_int_equal(get(c, key("auth"), NULL), 1);
	wsr_etcd_free(c);
	/* no credentials */
	c = open_with(NULL, NULL, 0, 0);
	wsr_etcd_range_result r;
	assert_int_equal(wsr_etcd_range(c, &r, key("auth"), NULL, 0, 0, &err), WSR_EAPI);
	assert_non_null(strstr(err, "configure a username and password"));
	free(err);
	wsr_etcd_free(c);
	/* a wrong password: a clear refusal that does not quote it */
	char wrong[128];
	snprintf(wrong, sizeof(wrong), "%s-wrong", pw);
	c = open_with(user, wrong, 0, 0);
	assert_int_equal(wsr_etcd_range(c, &r, key("auth"), NULL, 0, 0, &err), WSR_EAPI);
	printf("wrong password: %s\n", err);
	assert_non_null(strstr(err, "authentication as"));
	assert_non_null(strstr(err, "invalid user ID or password"));
	assert_null(strstr(err, pw));
	free(err);
	wsr_etcd_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kv_put_read_delete),
	    cmocka_unit_test(test_kv_paging_at_a_fixed_revision),
	    cmocka_unit_test(test_kv_compare_and_swap),
	    cmocka_unit_test(test_lease_grant_keepalive_revoke),
	    cmocka_unit_test(test_lease_expiry_deletes_keys),
	    cmocka_unit_test(test_failover_one_member_stopped),
	    cmocka_unit_test(test_no_quorum_fails_fast_and_clearly),
	    cmocka_unit_test(test_quorum_back),
	    cmocka_unit_test(test_tls_client_certificate),
	    cmocka_unit_test(test_auth_password),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(eps_buf);
	return rc;
}
