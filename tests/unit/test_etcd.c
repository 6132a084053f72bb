/* test_etcd: lib/etcd against scripted fakes of etcd's JSON gateway on
 * 127.0.0.1 (tests/unit/fake_server.h), two of them for failover. Each test
 * scripts what the members answer — good answers, hostile or malformed
 * ones, refusals, busy members, expired tokens — and asserts what a caller
 * would notice: the values read, the code returned, which member was
 * asked, and that no secret reaches a message. The real etcd is
 * test_etcd_live's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/etcd.h"
#include "tests/unit/fake_server.h"

#define PASSWORD "pw-Secret-123"

/* What a test scripts: server is 0 or 1; returns the body (heap). */
typedef char *(*script_fn)(int server, const char *url, const char *body, const char *auth,
			   unsigned *status);

static struct {
	pthread_mutex_t mu;
	script_fn script;
	int requests[2];
	char last_url[2][64];
	char last_body[2][8192];
	char last_auth[2][128];
	char last_hasleader[2][16];
	int auths; /* /v3/auth/authenticate requests, both servers */
	unsigned hang_ms;
} S = {.mu = PTHREAD_MUTEX_INITIALIZER};

static struct MHD_Daemon *srv[2];
static char url[2][64];

static char *dispatch(int i, struct MHD_Connection *c, const char *method, const char *u,
		      const char *body, unsigned *status)
{
	(void)method;
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	const char *hl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Grpc-Metadata-hasleader");
	pthread_mutex_lock(&S.mu);
	S.requests[i]++;
	if (strcmp(u, "/v3/auth/authenticate") == 0)
		S.auths++;
	snprintf(S.last_url[i], sizeof(S.last_url[i]), "%s", u);
	snprintf(S.last_body[i], sizeof(S.last_body[i]), "%s", body);
	snprintf(S.last_auth[i], sizeof(S.last_auth[i]), "%s", auth ? auth : "");
	snprintf(S.last_hasleader[i], sizeof(S.last_hasleader[i]), "%s", hl ? hl : "");
	script_fn f = S.script;
	unsigned hang = S.hang_ms;
	pthread_mutex_unlock(&S.mu);
	if (hang && i == 0)
		usleep(hang * 1000);
	*status = 200;
	return f(i, u, body, auth, status);
}

static char *dispatch0(struct MHD_Connection *c, const char *m, const char *u, const char *b,
		       unsigned *s)
{
	return dispatch(0, c, m, u, b, s);
}

static char *dispatch1(struct MHD_Connection *c, const char *m, const char *u, const char *b,
		       unsigned *s)
{
	return dispatch(1, c, m, u, b, s);
}

static void start(script_fn f)
{
	pthread_mutex_lock(&S.mu);
	S.script = f;
	memset(S.requests, 0, sizeof(S.requests));
	S.auths = 0;
	S.hang_ms = 0;
	pthread_mutex_unlock(&S.mu);
	srv[0] = fake_start(dispatch0, url[0], sizeof(url[0]));
	srv[1] = fake_start(dispatch1, url[1], sizeof(url[1]));
	assert_non_null(srv[0]);
	assert_non_null(srv[1]);
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++) {
		if (srv[i])
			MHD_stop_daemon(srv[i]);
		srv[i] = NULL;
	}
	return 0;
}

static int requests(int i)
{
	pthread_mutex_lock(&S.mu);
	int n = S.requests[i];
	pthread_mutex_unlock(&S.mu);
	return n;
}

/* A port on 127.0.0.1 where nothing listens. */
static void refused_url(char *out, size_t n)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(sa);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &len), 0);
	close(s);
	snprintf(out, n, "http://127.0.0.1:%u", ntohs(sa.sin_port));
}

/* A client of the given endpoints (NULL-terminated list). */
static wsr_etcd *client_of(const char *user, long timeout_ms, const char *e0, const char *e1)
{
	const char *eps[2] = {e0, e1};
	wsr_etcd_opts o = {0};
	o.endpoints = eps;
	o.nendpoints = e1 ? 2 : 1;
	o.username = user;
	o.password = user ? PASSWORD : NULL;
	o.timeout_ms = timeout_ms;
	o.connect_timeout_ms = 500;
	o.where = "state";
	wsr_etcd *c = NULL;
	char *err = NULL;
	int rc = wsr_etcd_new(&c, &o, &err);
	if (rc)
		fail_msg("wsr_etcd_new: %s", err ? err : "?");
	free(err);
	return c;
}

static wsr_etcd *client(void)
{
	return client_of(NULL, 0, url[0], url[1]);
}

static char *dup_(const char *s)
{
	char *d = strdup(s);
	assert_non_null(d);
	return d;
}

/* ---- answers read right ---- */

#define RANGE_OK                                                                                   \
	"{\"header\":{\"cluster_id\":\"1\",\"member_id\":\"2\",\"revision\":\"42\",\"raft_term\":" \
	"\"2\"},\"kvs\":[{\"key\":\"L3dzci9h\",\"create_revision\":\"4\",\"mod_revision\":\"9\","  \
	"\"version\":\"3\",\"value\":\"aGVsbG8=\",\"lease\":\"9223372036854775807\"},{\"key\":"    \
	"\"L3dzci9i\",\"create_revision\":\"5\",\"mod_revision\":\"5\",\"version\":\"1\"}],"       \
	"\"more\":true,\"count\":\"7\"}"

static const char *fixed_answer;

static char *answer_fixed(int i, const char *u, const char *b, const char *a, unsigned *st)
{
	(void)i, (void)u, (void)b, (void)a, (void)st;
	return dup_(fixed_answer);
}

static int range_with(const char *answer, wsr_etcd_range_result *r, char **err)
{
	fixed_answer = answer;
	start(answer_fixed);
	wsr_etcd *c = client();
	int rc = wsr_etcd_range(c, r, "/wsr/", "/wsr0", 0, 0, err);
	wsr_etcd_free(c);
	teardown(NULL);
	return rc;
}

static void test_range_reads_every_field(void **state)
{
	(void)state;
	fixed_answer = RANGE_OK;
	start(answer_fixed);
	wsr_etcd *c = client();
	wsr_etcd_range_result r;
	char *err = NULL;
	assert_int_equal(wsr_etcd_range(c, &r, "/wsr/", "/wsr0", 17, 2, &err), 0);
	/* the request: base64 keys, int64 as strings */
	assert_string_equal(S.last_url[0], "/v3/kv/range");
	assert_non_null(strstr(S.last_body[0], "\"key\":\"L3dzci8=\""));
	assert_non_null(strstr(S.last_body[0], "\"range_end\":\"L3dzcjA=\""));
	assert_non_null(strstr(S.last_body[0], "\"revision\":\"17\""));
	assert_non_null(strstr(S.last_body[0], "\"limit\":\"2\""));
	/* a member without a leader says so at once (clientv3's WithRequireLeader) */
	assert_string_equal(S.last_hasleader[0], "true");
	assert_string_equal(S.last_auth[0], ""); /* no username: no token */
	assert_int_equal(r.n, 2);
	assert_string_equal(r.kvs[0].key, "/wsr/a");
	assert_string_equal(r.kvs[0].value, "hello");
	assert_int_equal(r.kvs[0].value_len, 5);
	assert_int_equal(r.kvs[0].create_revision, 4);
	assert_int_equal(r.kvs[0].mod_revision, 9);
	assert_int_equal(r.kvs[0].version, 3);
	assert_true(r.kvs[0].lease == INT64_MAX);
	/* an empty value is left out by the gateway: "" here */
	assert_string_equal(r.kvs[1].key, "/wsr/b");
	assert_string_equal(r.kvs[1].value, "");
	assert_int_equal(r.kvs[1].value_len, 0);
	assert_int_equal(r.kvs[1].lease, 0);
	assert_true(r.more);
	assert_int_equal(r.count, 7);
	assert_int_equal(r.revision, 42);
	wsr_etcd_range_free(&r);
	assert_null(r.kvs);
	wsr_etcd_free(c);
}

static void test_absent_fields_are_zero(void **state)
{
	(void)state;
	wsr_etcd_range_result r;
	char *err = NULL;
	assert_int_equal(range_with("{\"header\":{\"revision\":\"3\"}}", &r, &err), 0);
	assert_int_equal(r.n, 0);
	assert_false(r.more);
	assert_int_equal(r.count, 0);
	assert_int_equal(r.revision, 3);
	wsr_etcd_range_free(&r);
}

static void test_binary_values_keep_their_length(void **state)
{
	(void)state;
	wsr_etcd_range_result r;
	char *err = NULL;
	/* "a\0b\xff" and a value of one byte (one padding pair) */
	assert_int_equal(
	    range_with("{\"kvs\":[{\"key\":\"YQ==\",\"value\":\"YQBi/w==\"},{\"key\":\"Yg==\","
		       "\"value\":\"eg==\"}]}",
		       &r, &err),
	    0);
	assert_int_equal(r.kvs[0].value_len, 4);
	assert_memory_equal(r.kvs[0].value, "a\0b\xff", 4);
	assert_int_equal(r.kvs[0].value[4], '\0');
	assert_int_equal(r.kvs[1].value_len, 1);
	assert_string_equal(r.kvs[1].value, "z");
	wsr_etcd_range_free(&r);
}

/* ---- hostile or malformed answers: WSR_ECORRUPT, never a crash ---- */

static void expect_corrupt(const char *answer)
{
	wsr_etcd_range_result r;
	char *err = NULL;
	int rc = range_with(answer, &r, &err);
	if (rc != WSR_ECORRUPT)
		fail_msg("answer %s: rc %d (%s), want WSR_ECORRUPT", answer, rc, err ? err : "");
	assert_non_null(err);
	assert_null(r.kvs);
	free(err);
}

static void test_bad_json_is_corrupt(void **state)
{
	(void)state;
	expect_corrupt("not json");
	expect_corrupt("{\"kvs\":[");
	expect_corrupt("[1,2]");
	expect_corrupt("\"a string\"");
	expect_corrupt("");
	expect_corrupt("{\"kvs\":{}}");
	expect_corrupt("{\"kvs\":[1]}");
	expect_corrupt("{\"header\":[]}");
}

static void test_bad_base64_is_corrupt(void **state)
{
	(void)state;
	expect_corrupt("{\"kvs\":[{\"key\":\"Zm9\"}]}");      /* length */
	expect_corrupt("{\"kvs\":[{\"key\":\"Zm9v!A==\"}]}"); /* alphabet */
	expect_corrupt("{\"kvs\":[{\"key\":\"Zm=v\"}]}");     /* padding inside */
	expect_corrupt("{\"kvs\":[{\"key\":\"Z===\"}]}");     /* three pads */
	expect_corrupt("{\"kvs\":[{\"key\":\"Zm9v\",\"value\":\"@@@@\"}]}");
	expect_corrupt("{\"kvs\":[{\"key\":\"Zm9v\",\"value\":5}]}");
	expect_corrupt("{\"kvs\":[{\"key\":\"YQBi\"}]}");   /* "a\0b": a key is a C string */
	expect_corrupt("{\"kvs\":[{\"value\":\"Zm9v\"}]}"); /* no key */
	expect_corrupt("{\"kvs\":[{\"key\":null}]}");
}

static void test_int64_must_be_a_digit_string(void **state)
{
	(void)state;
	expect_corrupt("{\"count\":5}");
	expect_corrupt("{\"count\":\"5.0\"}");
	expect_corrupt("{\"count\":\"-1\"}");
	expect_corrupt("{\"count\":\"+1\"}");
	expect_corrupt("{\"count\":\"\"}");
	expect_corrupt("{\"count\":\" 1\"}");
	expect_corrupt("{\"count\":\"9223372036854775808\"}"); /* INT64_MAX + 1 */
	expect_corrupt("{\"count\":\"99999999999999999999\"}");
	expect_corrupt("{\"header\":{\"revision\":1e3}}");
	expect_corrupt("{\"kvs\":[{\"key\":\"YQ==\",\"mod_revision\":\"12a\"}]}");
	expect_corrupt("{\"kvs\":[{\"key\":\"YQ==\",\"lease\":true}]}");
	expect_corrupt("{\"more\":\"true\"}");
	wsr_etcd_range_result r;
	char *err = NULL;
	assert_int_equal(range_with("{\"count\":\"9223372036854775807\"}", &r, &err), 0);
	assert_true(r.count == INT64_MAX);
	wsr_etcd_range_free(&r);
}

static char *huge;

static char *answer_huge(int i, const char *u, const char *b, const char *a, unsigned *st)
{
	(void)i, (void)u, (void)b, (void)a, (void)st;
	return dup_(huge);
}

static void test_huge_answer_is_refused(void **state)
{
	(void)state;
	size_t n = WSR_ETCD_MAX_RESPONSE + 1;
	huge = malloc(n + 1);
	assert_non_null(huge);
	memset(huge, ' ', n); /* JSON whitespace: valid were it taken */
	memcpy(huge, "{\"count\":\"1\"}", 13);
	huge[n] = '\0';
	start(answer_huge);
	wsr_etcd *c = client_of(NULL, 20000, url[0], url[1]);
	wsr_etcd_range_result r;
	char *err = NULL;
	assert_int_equal(wsr_etcd_range(c, &r, "a", NULL, 0, 0, &err), WSR_ELIMIT);
	assert_non_null(strstr(err, "larger than"));
	assert_int_equal(requests(1), 0); /* the next member would send the same */
	free(err);
	/* one byte less is taken */
	huge[n - 1] = '\0';
	assert_int_equal(wsr_etcd_range(c, &r, "a", NULL, 0, 0, &err), 0);
	assert_int_equal(r.count, 1);
	wsr_etcd_range_free(&r);
	wsr_etcd_free(c);
	free(huge);
	huge = NULL;
}

/* ---- transactions ---- */

static char *answer_txn(int i, const char *u, const char *b, const char *a, unsigned *st)
{
	(void)i, (void)u, (void)a, (void)st;
	if (strstr(b, "\"mod_revision\":\"7\"")) /* the compare holds: put, then get */
		return dup_(
		    "{\"header\":{\"revision\":\"8\"},\"succeeded\":true,\"responses\":[{"
		    "\"response_put\":{\"header\":{\"revision\":\"8\"}}},{\"response_range\":"
		    "{\"header\":{\"revision\":\"8\"},\"kvs\":[{\"key\":\"YQ==\",\"value\":"
		    "\"Yg==\",\"mod_revision\":\"8\"}],\"count\":\"1\"}}]}");
	/* "succeeded" left out when false; the failure branch is one get */
	return dup_("{\"header\":{\"revision\":\"8\"},\"responses\":[{\"response_range\":{"
		    "\"header\":{\"revision\":\"8\"}}}]}");
}

static void test_txn_compare_and_swap(void **state)
{
	(void)state;
	start(answer_txn);
	wsr_etcd *c = client();
	wsr_etcd_cmp cmp = {"a", WSR_ETCD_CMP_MOD, WSR_ETCD_EQUAL, 7, NULL, 0};
	wsr_etcd_op ok[] = {{WSR_ETCD_PUT, "a", NULL, "b", 1, 99},
			    {WSR_ETCD_GET, "a", NULL, NULL, 0, 0}};
	wsr_etcd_op bad[] = {{WSR_ETCD_GET, "a", NULL, NULL, 0, 0}};
	wsr_etcd_txn_result t;
	char *err = NULL;
	assert_int_equal(wsr_etcd_txn(c, &cmp, 1, ok, 2, bad, 1, &t, &err), 0);
	assert_non_null(strstr(S.last_body[0], "\"target\":\"MOD\",\"result\":\"EQUAL\""));
	assert_non_null(strstr(S.last_body[0], "{\"request_put\":{\"key\":\"YQ==\",\"value\":\"Yg=="
					       "\",\"lease\":\"99\"}}"));
	assert_true(t.succeeded);
	assert_int_equal(t.revision, 8);
	assert_int_equal(t.ngets, 1);
	assert_string_equal(t.gets[0].kvs[0].value, "b");
	wsr_etcd_txn_result_free(&t);
	cmp.number = 6; /* lost the race */
	assert_int_equal(wsr_etcd_txn(c, &cmp, 1, ok, 2, bad, 1, &t, &err), 0);
	assert_false(t.succeeded);
	assert_int_equal(t.ngets, 1);
	assert_int_equal(t.gets[0].n, 0);
	wsr_etcd_txn_result_free(&t);
	/* a value compare and a delete of a range */
	wsr_etcd_cmp vc = {"a", WSR_ETCD_CMP_VALUE, WSR_ETCD_NOT_EQUAL, 0, "xy", 2};
	wsr_etcd_op del = {WSR_ETCD_DELETE, "a", "", NULL, 0, 0};
	assert_int_equal(wsr_etcd_txn(c, &vc, 1, &del, 1, bad, 1, &t, &err), 0);
	assert_non_null(strstr(S.last_body[0], "\"target\":\"VALUE\",\"result\":\"NOT_EQUAL\","
					       "\"value\":\"eHk=\""));
	assert_non_null(strstr(S.last_body[0], "{\"request_delete_range\":{\"key\":\"YQ==\","
					       "\"range_end\":\"AA==\"}}"));
	wsr_etcd_txn_result_free(&t);
	wsr_etcd_free(c);
}

static void test_txn_answer_not_matching_ops_is_corrupt(void **state)
{
	(void)state;
	const char *answers[] = {
	    "{\"succeeded\":true}", /* no responses for two ops */
	    "{\"succeeded\":true,\"responses\":[{\"response_put\":{}}]}",
	    "{\"succeeded\":true,\"responses\":[{\"response_put\":{}},{\"response_put\":{}}]}",
	    "{\"succeeded\":\"yes\",\"responses\":[]}",
	    "{\"succeeded\":true,\"responses\":[{\"response_put\":{}},{\"response_range\":{"
	    "\"kvs\":[{\"key\":\"%%%%\"}]}}]}",
	};
	wsr_etcd_op ops[] = {{WSR_ETCD_PUT, "a", NULL, "b", 1, 0},
			     {WSR_ETCD_GET, "a", NULL, NULL, 0, 0}};
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		fixed_answer = answers[i];
		start(answer_fixed);
		wsr_etcd *c = client();
		wsr_etcd_txn_result t;
		char *err = NULL;
		int rc = wsr_etcd_txn(c, NULL, 0, ops, 2, NULL, 0, &t, &err);
		if (rc != WSR_ECORRUPT)
			fail_msg("%s: rc %d", answers[i], rc);
		assert_null(t.gets);
		free(err);
		wsr_etcd_free(c);
		teardown(NULL);
	}
}

static void test_txn_limits_at_the_boundary(void **state)
{
	(void)state;
	fixed_answer = "{\"succeeded\":true,\"responses\":[{\"response_put\":{}}]}";
	start(answer_fixed);
	wsr_etcd *c = client();
	wsr_etcd_txn_result t;
	char *err = NULL;
	static wsr_etcd_op many[WSR_ETCD_MAX_TXN_OPS + 1];
	for (size_t i = 0; i < WSR_ETCD_MAX_TXN_OPS + 1; i++)
		many[i] = (wsr_etcd_op){WSR_ETCD_DELETE, "k", NULL, NULL, 0, 0};
	assert_int_equal(
	    wsr_etcd_txn(c, NULL, 0, many, WSR_ETCD_MAX_TXN_OPS + 1, NULL, 0, &t, &err),
	    WSR_ELIMIT);
	assert_non_null(strstr(err, "--max-txn-ops"));
	free(err);
	assert_int_equal(requests(0) + requests(1), 0);
	/* one put as large as may be (the framing allowance is lib/etcd.c's,
	 * 256 + 32 per op), then one byte more */
	size_t max = WSR_ETCD_MAX_REQUEST_BYTES - 256 - 32 - 1;
	char *big = malloc(max + 2);
	assert_non_null(big);
	memset(big, 'v', max + 1);
	wsr_etcd_op put = {WSR_ETCD_PUT, "k", NULL, big, max, 0};
	assert_int_equal(wsr_etcd_txn(c, NULL, 0, &put, 1, NULL, 0, &t, &err), 0);
	wsr_etcd_txn_result_free(&t);
	assert_int_equal(requests(0), 1);
	put.value_len = max + 1;
	assert_int_equal(wsr_etcd_txn(c, NULL, 0, &put, 1, NULL, 0, &t, &err), WSR_ELIMIT);
	assert_non_null(strstr(err, "--max-request-bytes"));
	free(err);
	assert_int_equal(requests(0), 1);
	free(big);
	wsr_etcd_free(c);
}

/* ---- leases ---- */

static char *answer_lease(int i, const char *u, const char *b, const char *a, unsigned *st)
{
	(void)i, (void)a;
	if (strcmp(u, "/v3/lease/grant") == 0)
		return dup_("{\"header\":{\"revision\":\"3\"},\"ID\":\"7587\",\"TTL\":\"10\"}");
	if (strcmp(u, "/v3/lease/keepalive") == 0 && strstr(b, "\"7587\""))
		return dup_("{\"result\":{\"header\":{},\"ID\":\"7587\",\"TTL\":\"10\"}}\n");
	if (strcmp(u, "/v3/lease/keepalive") == 0) /* expired: what etcd 3.4 answers */
		return dup_("{\"result\":{\"header\":{},\"ID\":\"1\"}}\n");
	if (strcmp(u, "/v3/lease/revoke") == 0 && strstr(b, "\"7587\""))
		return dup_("{\"header\":{\"revision\":\"4\"}}");
	*st = 404;
	return dup_("{\"error\":\"etcdserver: requested lease not found\",\"message\":"
		    "\"etcdserver: requested lease not found\",\"code\":5}");
}

static void test_lease_grant_keepalive_revoke(void **state)
{
	(void)state;
	start(answer_lease);
	wsr_etcd *c = client();
	int64_t id = 0, ttl = -1;
	char *err = NULL;
	assert_int_equal(wsr_etcd_lease_grant(c, 10, &id, &err), 0);
	assert_string_equal(S.last_body[0], "{\"TTL\":\"10\"}");
	assert_int_equal(id, 7587);
	assert_int_equal(wsr_etcd_lease_keepalive(c, id, &ttl, &err), 0);
	assert_int_equal(ttl, 10);
	assert_int_equal(wsr_etcd_lease_keepalive(c, 1, &ttl, &err), 0);
	assert_int_equal(ttl, 0); /* the lease no longer exists */
	assert_int_equal(wsr_etcd_lease_revoke(c, id, &err), 0);
	assert_int_equal(wsr_etcd_lease_revoke(c, 5, &err), WSR_ENOTFOUND);
	assert_int_equal(requests(1), 0); /* a refusal is not sent elsewhere */
	free(err);
	assert_int_equal(wsr_etcd_lease_grant(c, 0, &id, &err), WSR_EINVAL);
	free(err);
	wsr_etcd_free(c);
}

static void test_lease_answers_malformed(void **state)
{
	(void)state;
	const char *grants[] = {"{\"TTL\":\"10\"}", "{\"ID\":7587}", "{\"ID\":\"0\"}",
				"{\"ID\":\"1\",\"error\":\"etcdserver: too large lease TTL\"}"};
	int want[] = {WSR_ECORRUPT, WSR_ECORRUPT, WSR_ECORRUPT, WSR_EAPI};
	for (size_t i = 0; i < 4; i++) {
		fixed_answer = grants[i];
		start(answer_fixed);
		wsr_etcd *c = client();
		int64_t id = 0;
		char *err = NULL;
		assert_int_equal(wsr_etcd_lease_grant(c, 10, &id, &err), want[i]);
		free(err);
		wsr_etcd_free(c);
		teardown(NULL);
	}
	const char *alives[] = {"{\"header\":{}}", "{\"result\":[]}",
				"{\"result\":{\"ID\":\"5\",\"TTL\":10}}",
				"{\"result\":{\"ID\":\"6\",\"TTL\":\"10\"}}"}; /* another lease */
	for (size_t i = 0; i < 4; i++) {
		fixed_answer = alives[i];
		start(answer_fixed);
		wsr_etcd *c = client();
		int64_t ttl = 0;
		char *err = NULL;
		assert_int_equal(wsr_etcd_lease_keepalive(c, 5, &ttl, &err), WSR_ECORRUPT);
		free(err);
		wsr_etcd_free(c);
		teardown(NULL);
	}
}

/* ---- failover ---- */

static char *answer_first_busy(int i, const char *u, const char *b, const char *a, unsigned *st)
{
	(void)u, (void)b, (void)a;
	if (i == 0) {
		*st = 503;
		return dup_("{\"error\":\"etcdserver: no leader\",\"message\":\"etcdserver: no "
			    "leader\",\"code\":14}");
	}
	return dup_(strcmp(u, "/v3/kv/txn") == 0
			? "{\"succeeded\":true,\"responses\":[{\"response_put\":{}}]}"
			: RANGE_OK);
}

static void test_503_fails_over_and_sticks(void **state)
{
	(void)state;
	start(answer_first_busy);
	wsr_etcd *c = client();
	wsr_etcd_range_result r;
	char *err = NULL;
	assert_int_equal(wsr_etcd_range(c, &r, "a", NULL, 0, 0, &err), 0);
	assert_int_equal(r.n, 2);
	wsr_etcd_range_free(&r);
	assert_int_equal(requests(0), 1);
	assert_int_equal(requests(1), 1);
	assert_string_equal(wsr_etcd_endpoint(c), url[1]);
	/* the member that answered is asked first next time */
	assert_int_equal(wsr_etcd_range(c, &r, "a", NULL, 0, 0, &err), 0);
	wsr_etcd_range_free(&r);
	assert_int_equal(requests(0), 1);
	assert_int_equal(requests(1), 2);
	wsr_etcd_free(c);
}

static void test_txn_refused_before_raft_goes_on(void **state)
{
	(void)state;
	start(answer_first_busy); /* "no leader" is said before the proposal */
	wsr_etcd *c = client();
	wsr_etcd_op put = {WSR_ETCD_PUT, "a", NULL, "b", 1, 0};
	wsr_etcd_txn_result t;
	char *err = NULL;
	assert_int_equal(wsr_etcd_txn(c, NULL, 0, &put, 1, NULL, 0, &t, &err), 0);
	assert_true(t.succeeded);
	assert_int_equal(requests(1), 1);
	wsr_etcd_txn_result_free(&t);
	wsr_etcd_free(c);
}

static void test_connection_refused_fails_over(void **state)
{
	(void)state;
	start(answer_first_busy);
	char dead[64];
	refused_url(dead, sizeof(dead));
	wsr_etcd *c = client_of(NULL, 0, dead, url[1]);
	wsr_etcd_range_result r;
	char *err = NULL;
	assert_int_equal(wsr_etcd_range(c, &r, "a", NULL, 0, 0, &err), 0);
	wsr_etcd_range_free(&r);
	/* a txn that could not connect was never sent: it may go on too */
	wsr_etcd_free(c);
	c = client_of(NULL, 0, dead, url[1]);
	wsr_etcd_op put = {WSR_ETCD_PUT, "a", NULL, "b", 1, 0};
	wsr_etcd_txn_result t;
	assert_int_equal(wsr_etcd_txn(c, NULL, 0, &put, 1, NULL, 0, &t, &err), 0);
	wsr_etcd_txn_result_free(&t);
	assert_string_equal(wsr_etcd_endpoint(c), url[1]);
	wsr_etcd_free(c);
}

static void test_no_endpoint_names_each(void **state)
{
	(void)state;
	char d0[64], d1[64];
	refused_url(d0, sizeof(d0));
	refused_url(d1, sizeof(d1));
	wsr_etcd *c = client_of(NULL, 0, d0, d1);
	wsr_etcd_range_result r;
	char *err = NULL;
	assert_int_equal(wsr_etcd_range(c, &r, "a", NULL, 0, 0, &err), WSR_EHTTP);
	assert_non_null(strstr(err, "state: etcd: no endpoint could serve /v3/kv/range"));
	assert_non_null(strstr(err, d0));
	assert_non_null(strstr(err, d1));
	free(err);
	wsr_etcd_free(c);
}

static char *answer_timed_out(int i, const char *u, const char *b, const char *a, unsigned *st)
{
	(void)u, (void)b, (void)a;
	if (i == 0) {
		*st = 503;
		return dup_("{\"error\":\"etcdserver: request timed out\",\"message\":"
			    "\"etcdserver: request timed out\",\"code\":14}");
	}
	return dup_("{\"succeeded\":true,\"responses\":[{\"response_put\":{}}]}");
}

static char *answer_deadline(int i, const char *u, const char *b, const char *a, unsigned *st)
{
	(void)u, (void)b, (void)a;
	if (i == 0) { /* a proposal's timeout, raw: what etcd 3.4 says without quorum */
		*st = 500;
		return dup_("{\"error\":\"context deadline exceeded\",\"message\":\"context "
			    "deadline exceeded\",\"code\":2}");
	}
	return dup_(strcmp(u, "/v3/kv/txn") == 0
			? "{\"succeeded\":true,\"responses\":[{\"response_put\":{}}]}"
			: RANGE_OK);
}

static void test_txn_maybe_applied_is_not_resent(void **state)
{
	(void)state;
	wsr_etcd_op put = {WSR_ETCD_PUT, "a", NULL, "b", 1, 0};
	wsr_etcd_txn_result t;
	wsr_etcd_range_result r;
	char *err = NULL;
	/* etcd says it timed out: the proposal may be committed */
	start(answer_timed_out);
	wsr_etcd *c = client();
	assert_int_equal(wsr_etcd_txn(c, NULL, 0, &put, 1, NULL, 0, &t, &err), WSR_ETIMEOUT);
	assert_non_null(strstr(err, "outcome unknown"));
	assert_non_null(strstr(err, "etcdserver: request timed out"));
	assert_int_equal(requests(1), 0);
	free(err);
	wsr_etcd_free(c);
	teardown(NULL);
	/* the same for a raw "context deadline exceeded"; a read goes on */
	start(answer_deadline);
	c = client();
	assert_int_equal(wsr_etcd_txn(c, NULL, 0, &put, 1, NULL, 0, &t, &err), WSR_ETIMEOUT);
	assert_non_null(strstr(err, "outcome unknown"));
	assert_int_equal(requests(1), 0);
	free(err);
	assert_int_equal(wsr_etcd_range(c, &r, "a", NULL, 0, 0, &err), 0);
	wsr_etcd_range_free(&r);
	assert_int_equal(requests(1), 1);
	wsr_etcd_free(c);
	teardown(NULL);
	/* no answer at all after the request was sent */
	start(answer_txn);
	S.hang_ms = 1500;
	c = client_of(NULL, 300, url[0], url[1]);
	assert_int_equal(wsr_etcd_txn(c, NULL, 0, &put, 1, NULL, 0, &t, &err), WSR_ETIMEOUT);
	assert_non_null(strstr(err, "outcome unknown"));
	assert_int_equal(requests(1), 0);
	free(err);
	/* a read goes on to the next member */
	wsr_etcd_op get = {WSR_ETCD_GET, "a", NULL, NULL, 0, 0};
	assert_int_equal(wsr_etcd_txn(c, NULL, 0, NULL, 0, &get, 1, &t, &err), 0);
	wsr_etcd_txn_result_free(&t);
	assert_int_equal(requests(1), 1);
	wsr_etcd_free(c);
}

static char *answer_stream_error(int i, const char *u, const char *b, const char *a, unsigned *st)
{
	(void)u, (void)b, (void)a;
	if (i == 0) { /* the keepalive stream's error shape */
		*st = 503;
		return dup_("{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":"
			    "\"etcdserver: no leader\",\"http_status\":\"Service Unavailable\"}}");
	}
	return dup_("{\"result\":{\"ID\":\"5\",\"TTL\":\"3\"}}");
}

static void test_keepalive_stream_error_fails_over(void **state)
{
	(void)state;
	start(answer_stream_error);
	wsr_etcd *c = client();
	int64_t ttl = 0;
	char *err = NULL;
	assert_int_equal(wsr_etcd_lease_keepalive(c, 5, &ttl, &err), 0);
	assert_int_equal(ttl, 3);
	assert_int_equal(requests(0), 1);
	wsr_etcd_free(c);
}

static char *answer_refusal(int i, const char *u, const char *b, const char *a, unsigned *st)
{
	(void)i, (void)u, (void)b, (void)a;
	*st = 403;
	return dup_("{\"error\":\"etcdserver: permission denied\",\"message\":\"etcdserver: "
		    "permission denied\",\"code\":7}");
}

static void test_refusal_is_returned_at_once(void **state)
{
	(void)state;
	start(answer_refusal);
	wsr_etcd *c = client();
	wsr_etcd_range_result r;
	char *err = NULL;
	assert_int_equal(wsr_etcd_range(c, &r, "a", NULL, 0, 0, &err), WSR_EAPI);
	assert_non_null(strstr(err, "etcdserver: permission denied"));
	assert_non_null(strstr(err, url[0]));
	assert_int_equal(requests(1), 0);
	free(err);
	wsr_etcd_free(c);
}

/* ---- authentication ---- */

static char *answer_auth(int i, const char *u, const char *b, const char *a, unsigned *st)
{
	(void)i;
	if (strcmp(u, "/v3/auth/authenticate") == 0) {
		if (!strstr(b, "\"name\":\"root\"") ||
		    !strstr(b, "\"password\":\"" PASSWORD "\"")) {
			*st = 400;
			return dup_("{\"error\":\"etcdserver: authentication failed, invalid user "
				    "ID or password\",\"code\":3}");
		}
		pthread_mutex_lock(&S.mu);
		int n = S.auths;
		pthread_mutex_unlock(&S.mu);
		return dup_(n == 1 ? "{\"token\":\"tok-one.1\"}" : "{\"token\":\"tok-two.2\"}");
	}
	if (!a || strcmp(a, "tok-two.2") != 0) { /* the first token has expired */
		*st = 401;
		return dup_("{\"error\":\"etcdserver: invalid auth token\",\"message\":"
			    "\"etcdserver: invalid auth token\",\"code\":16}");
	}
	return dup_(RANGE_OK);
}

static void test_invalid_token_is_renewed_once(void **state)
{
	(void)state;
	start(answer_auth);
	wsr_etcd *c = client_of("root", 0, url[0], url[1]);
	wsr_etcd_range_result r;
	char *err = NULL;
	assert_int_equal(wsr_etcd_range(c, &r, "a", NULL, 0, 0, &err), 0);
	wsr_etcd_range_free(&r);
	assert_int_equal(S.auths, 2);
	assert_string_equal(S.last_auth[0], "tok-two.2"); /* no "Bearer" */
	assert_int_equal(requests(1), 0);
	/* the renewed token is kept */
	assert_int_equal(wsr_etcd_range(c, &r, "a", NULL, 0, 0, &err), 0);
	wsr_etcd_range_free(&r);
	assert_int_equal(S.auths, 2);
	wsr_etcd_free(c);
}

static char *answer_auth_always_invalid(int i, const char *u, const char *b, const char *a,
					unsigned *st)
{
	(void)i, (void)b, (void)a;
	if (strcmp(u, "/v3/auth/authenticate") == 0)
		return dup_("{\"token\":\"tok-one.1\"}");
	*st = 401;
	return dup_("{\"error\":\"etcdserver: invalid auth token\",\"code\":16}");
}

static void test_token_renewed_only_once(void **state)
{
	(void)state;
	start(answer_auth_always_invalid);
	wsr_etcd *c = client_of("root", 0, url[0], url[1]);
	wsr_etcd_range_result r;
	char *err = NULL;
	assert_int_equal(wsr_etcd_range(c, &r, "a", NULL, 0, 0, &err), WSR_EAPI);
	assert_non_null(strstr(err, "invalid auth token"));
	assert_null(strstr(err, "tok-one"));
	assert_int_equal(S.auths, 2);
	free(err);
	wsr_etcd_free(c);
}

static char *answer_echo_secret(int i, const char *u, const char *b, const char *a, unsigned *st)
{
	(void)i, (void)u, (void)b, (void)a;
	*st = 400; /* a hostile member quoting what it was sent */
	return dup_("{\"error\":\"bad password " PASSWORD "\",\"message\":\"bad password " PASSWORD
		    " for root\",\"code\":3}");
}

static void test_password_never_in_messages(void **state)
{
	(void)state;
	start(answer_echo_secret);
	wsr_etcd *c = client_of("root", 0, url[0], url[1]);
	wsr_etcd_range_result r;
	char *err = NULL;
	assert_int_equal(wsr_etcd_range(c, &r, "a", NULL, 0, 0, &err), WSR_EAPI);
	assert_null(strstr(err, PASSWORD));
	assert_non_null(strstr(err, "(sensitive)"));
	assert_non_null(strstr(err, "authentication as root failed"));
	free(err);
	wsr_etcd_free(c);
	teardown(NULL);
	/* a wrong password: etcd's own refusal */
	start(answer_auth);
	const char *eps[] = {url[0]};
	wsr_etcd_opts o = {0};
	o.endpoints = eps;
	o.nendpoints = 1;
	o.username = "root";
	o.password = "not-" PASSWORD;
	assert_int_equal(wsr_etcd_new(&c, &o, &err), 0);
	assert_int_equal(wsr_etcd_range(c, &r, "a", NULL, 0, 0, &err), WSR_EAPI);
	assert_non_null(strstr(err, "invalid user ID or password"));
	assert_null(strstr(err, PASSWORD));
	free(err);
	wsr_etcd_free(c);
}

static char *answer_no_auth(int i, const char *u, const char *b, const char *a, unsigned *st)
{
	(void)i, (void)b;
	if (strcmp(u, "/v3/auth/authenticate") == 0) {
		*st = 400;
		return dup_("{\"error\":\"etcdserver: authentication is not enabled\",\"code\":9}");
	}
	return dup_(a ? "{\"count\":\"9\"}" : RANGE_OK);
}

static void test_auth_not_enabled_means_no_token(void **state)
{
	(void)state;
	start(answer_no_auth);
	wsr_etcd *c = client_of("root", 0, url[0], url[1]);
	wsr_etcd_range_result r;
	char *err = NULL;
	assert_int_equal(wsr_etcd_range(c, &r, "a", NULL, 0, 0, &err), 0);
	assert_int_equal(r.count, 7); /* sent without a token */
	wsr_etcd_range_free(&r);
	assert_int_equal(wsr_etcd_range(c, &r, "a", NULL, 0, 0, &err), 0);
	wsr_etcd_range_free(&r);
	assert_int_equal(S.auths, 1);
	wsr_etcd_free(c);
}

/* Tokens "tok-N": only the last one issued is valid, and after the 30th
 * range it expires once. */
static struct {
	int issued, ranges, expired;
} tokens;

static char *answer_rotating(int i, const char *u, const char *b, const char *a, unsigned *st)
{
	(void)i, (void)b;
	char want[32];
	pthread_mutex_lock(&S.mu);
	if (strcmp(u, "/v3/auth/authenticate") == 0) {
		int n = ++tokens.issued;
		pthread_mutex_unlock(&S.mu);
		char *t = malloc(48);
		snprintf(t, 48, "{\"token\":\"tok-%d\"}", n);
		return t;
	}
	if (++tokens.ranges == 30 && !tokens.expired)
		tokens.expired = tokens.issued;
	snprintf(want, sizeof(want), "tok-%d", tokens.issued);
	int valid = a && strcmp(a, want) == 0 && tokens.expired != tokens.issued;
	pthread_mutex_unlock(&S.mu);
	if (!valid) {
		*st = 401;
		return dup_("{\"error\":\"etcdserver: invalid auth token\",\"code\":16}");
	}
	return dup_(RANGE_OK);
}

static void *reader(void *arg)
{
	wsr_etcd *c = arg;
	for (int k = 0; k < 25; k++) {
		wsr_etcd_range_result r;
		char *err = NULL;
		int rc = wsr_etcd_range(c, &r, "a", NULL, 0, 0, &err);
		if (rc) {
			fprintf(stderr, "range: %s\n", err);
			free(err);
			return (void *)1;
		}
		wsr_etcd_range_free(&r);
	}
	return NULL;
}

static void test_threads_share_one_token_renewal(void **state)
{
	(void)state;
	memset(&tokens, 0, sizeof(tokens));
	start(answer_rotating);
	wsr_etcd *c = client_of("root", 0, url[0], url[1]);
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, c), 0);
	for (int i = 0; i < 4; i++) {
		void *res;
		pthread_join(th[i], &res);
		assert_null(res);
	}
	/* one authentication at first use, one after the expiry: not one a thread */
	assert_int_equal(tokens.issued, 2);
	assert_true(tokens.expired);
	wsr_etcd_free(c);
}

/* ---- options and helpers ---- */

static void test_options_are_checked(void **state)
{
	(void)state;
	const char *bad[] = {"ftp://127.0.0.1:1", "http://", "http://127.0.0.1:1/v3",
			     "http://user:pw@127.0.0.1:1", "127.0.0.1:2379"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		wsr_etcd_opts o = {0};
		o.endpoints = &bad[i];
		o.nendpoints = 1;
		o.where = "state";
		wsr_etcd *c = NULL;
		char *err = NULL;
		assert_int_equal(wsr_etcd_new(&c, &o, &err), WSR_EINVAL);
		assert_null(c);
		assert_non_null(strstr(err, "state: "));
		assert_null(strstr(err, "pw@"));
		free(err);
	}
	const char *ok[] = {"http://127.0.0.1:2379/"};
	wsr_etcd_opts o = {0};
	o.endpoints = ok;
	char *err = NULL;
	wsr_etcd *c = NULL;
	assert_int_equal(wsr_etcd_new(&c, &o, &err), WSR_EINVAL); /* no endpoint */
	free(err);
	o.nendpoints = WSR_ETCD_MAX_ENDPOINTS + 1;
	assert_int_equal(wsr_etcd_new(&c, &o, &err), WSR_EINVAL);
	free(err);
	o.nendpoints = 1;
	o.cert_file = "/etc/hostname"; /* without its key */
	assert_int_equal(wsr_etcd_new(&c, &o, &err), WSR_EINVAL);
	free(err);
	o.cert_file = NULL;
	o.ca_file = "/nonexistent/ca.pem";
	assert_int_equal(wsr_etcd_new(&c, &o, &err), WSR_EINVAL);
	assert_non_null(strstr(err, "/nonexistent/ca.pem"));
	free(err);
	o.ca_file = NULL;
	assert_int_equal(wsr_etcd_new(&c, &o, &err), 0);
	assert_string_equal(wsr_etcd_endpoint(c), "http://127.0.0.1:2379");
	wsr_etcd_free(c);
}

static void test_prefix_end(void **state)
{
	(void)state;
	char *e = wsr_etcd_prefix_end("/wsr/a/");
	assert_string_equal(e, "/wsr/a0");
	free(e);
	e = wsr_etcd_prefix_end("a\xff\xff");
	assert_string_equal(e, "b");
	free(e);
	e = wsr_etcd_prefix_end("\xff");
	assert_string_equal(e, ""); /* every key: etcd's "\0" */
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_range_reads_every_field, teardown),
	    cmocka_unit_test_teardown(test_absent_fields_are_zero, teardown),
	    cmocka_unit_test_teardown(test_binary_values_keep_their_length, teardown),
	    cmocka_unit_test_teardown(test_bad_json_is_corrupt, teardown),
	    cmocka_unit_test_teardown(test_bad_base64_is_corrupt, teardown),
	    cmocka_unit_test_teardown(test_int64_must_be_a_digit_string, teardown),
	    cmocka_unit_test_teardown(test_huge_answer_is_refused, teardown),
	    cmocka_unit_test_teardown(test_txn_compare_and_swap, teardown),
	    cmocka_unit_test_teardown(test_txn_answer_not_matching_ops_is_corrupt, teardown),
	    cmocka_unit_test_teardown(test_txn_limits_at_the_boundary, teardown),
	    cmocka_unit_test_teardown(test_lease_grant_keepalive_revoke, teardown),
	    cmocka_unit_test_teardown(test_lease_answers_malformed, teardown),
	    cmocka_unit_test_teardown(test_503_fails_over_and_sticks, teardown),
	    cmocka_unit_test_teardown(test_txn_refused_before_raft_goes_on, teardown),
	    cmocka_unit_test_teardown(test_connection_refused_fails_over, teardown),
	    cmocka_unit_test_teardown(test_no_endpoint_names_each, teardown),
	    cmocka_unit_test_teardown(test_txn_maybe_applied_is_not_resent, teardown),
	    cmocka_unit_test_teardown(test_keepalive_stream_error_fails_over, teardown),
	    cmocka_unit_test_teardown(test_refusal_is_returned_at_once, teardown),
	    cmocka_unit_test_teardown(test_invalid_token_is_renewed_once, teardown),
	    cmocka_unit_test_teardown(test_token_renewed_only_once, teardown),
	    cmocka_unit_test_teardown(test_password_never_in_messages, teardown),
	    cmocka_unit_test_teardown(test_auth_not_enabled_means_no_token, teardown),
	    cmocka_unit_test_teardown(test_threads_share_one_token_renewal, teardown),
	    cmocka_unit_test(test_options_are_checked),
	    cmocka_unit_test(test_prefix_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
