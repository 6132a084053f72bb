/* test_loopback_wire: the loopback provider on the wire against a fake
 * platform scripted inside the test (libmicrohttpd on 127.0.0.1, port 0).
 * The fake answers what each test chooses — malformed JSON, wrong types,
 * paginated listings, failing tasks, 409 and 404 — so the provider's
 * handling of answers the real emulator never gives is pinned down. */
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

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "providers/loopback/lb.h"
#include "providers/loopback/loopback.h"
#include "tests/unit/fake_server.h"
#include "tests/unit/provider_fixture.h"

/* ---- the fake platform ------------------------------------------------ */

/* A route answers requests whose method and path match (path "*" suffix:
 * prefix) and, when cursor is set, whose cursor query matches ("" = none).
 * times > 0: used that often, then skipped. gen: computes the body. */
typedef struct route {
	const char *method, *path, *cursor;
	unsigned status;
	const char *body;
	int times;
	char *(*gen)(const char *cursor);
} route;

#define MAX_ROUTES 32
#define MAX_LOG 64

static struct {
	pthread_mutex_t mu;
	route routes[MAX_ROUTES];
	int used[MAX_ROUTES];
	int nroutes;
	unsigned requests;
	struct {
		char method[8], path[128], limit[8], idem[128], auth[64];
		char body[2048];
	} log[MAX_LOG];
} fk = {.mu = PTHREAD_MUTEX_INITIALIZER};

static struct MHD_Daemon *daemon_;
static char base_url[64];

/* Forgets the routes, the requests seen and how often routes were used. */
static void fake_reset(void)
{
	fk.nroutes = 0;
	fk.requests = 0;
	memset(fk.used, 0, sizeof(fk.used));
}

static void on(const char *method, const char *path, const char *cursor, unsigned status,
	       const char *body, int times)
{
	route r = {method, path, cursor, status, body, times, NULL};
	fk.routes[fk.nroutes++] = r;
}

static int matches(int i, const char *method, const char *url, const char *cursor)
{
	const route *r = &fk.routes[i];
	size_t pl = strlen(r->path);
	int prefix = pl && r->path[pl - 1] == '*';
	if (strcmp(r->method, method) != 0 || (r->times && fk.used[i] >= r->times))
		return 0;
	if (prefix ? strncmp(url, r->path, pl - 1) != 0 : strcmp(url, r->path) != 0)
		return 0;
	return !r->cursor || strcmp(r->cursor, cursor ? cursor : "") == 0;
}

static char *route_body(const char *method, const char *url, const char *cursor, unsigned *status)
{
	for (int i = 0; i < fk.nroutes; i++) {
		if (!matches(i, method, url, cursor))
			continue;
		fk.used[i]++;
		*status = fk.routes[i].status;
		return fk.routes[i].gen ? fk.routes[i].gen(cursor) : strdup(fk.routes[i].body);
	}
	*status = 404;
	return strdup(
	    "{\"error\":{\"code\":\"not_found\",\"message\":\"no such route in the fake\"}}");
}

static void log_request(struct MHD_Connection *c, const char *method, const char *url,
			const char *body)
{
	if (fk.requests >= MAX_LOG)
		return;
	const char *limit = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
	const char *idem = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key");
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	snprintf(fk.log[fk.requests].method, sizeof(fk.log[0].method), "%s", method);
	snprintf(fk.log[fk.requests].path, sizeof(fk.log[0].path), "%s", url);
	snprintf(fk.log[fk.requests].limit, sizeof(fk.log[0].limit), "%s", limit ? limit : "");
	snprintf(fk.log[fk.requests].idem, sizeof(fk.log[0].idem), "%s", idem ? idem : "");
	snprintf(fk.log[fk.requests].auth, sizeof(fk.log[0].auth), "%s", auth ? auth : "");
	snprintf(fk.log[fk.requests].body, sizeof(fk.log[0].body), "%s", body);
}

static char *dispatch(struct MHD_Connection *c, const char *method, const char *url,
		      const char *body, unsigned *status)
{
	const char *cursor = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "cursor");
	pthread_mutex_lock(&fk.mu);
	log_request(c, method, url, body);
	fk.requests++;
	char *out = route_body(method, url, cursor, status);
	pthread_mutex_unlock(&fk.mu);
	return out;
}

static int setup(void **state)
{
	(void)state;
	memset(fk.used, 0, sizeof(fk.used));
	fk.nroutes = 0;
	fk.requests = 0;
	daemon_ = fake_start(dispatch, base_url, sizeof(base_url));
	if (!daemon_)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	MHD_stop_daemon(daemon_);
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static const wsr_provider_ops *ops = &wsr_loopback_provider;

static wsr_provider *open_provider(void)
{
	char cfg[256];
	snprintf(cfg, sizeof(cfg),
		 "{\"endpoint\":\"%s\",\"apiKeyEnv\":\"WSR_TEST_KEY\",\"timeout\":30}", base_url);
	setenv("WSR_TEST_KEY", "test-admin-key", 1);
	cJSON *c = cJSON_Parse(cfg);
	wsr_provider *p = NULL;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(ops->open(&p, c, &d), 0);
	assert_int_equal(wsr_diag_errors(&d), 0);
	cJSON_Delete(c);
	wsr_diag_free(&d);
	return p;
}

/* Returns the diagnostics as one string, for substring assertions. */
static char *diag_text(const wsr_diag *d)
{
	wsr_buf b = WSR_BUF_INIT;
	for (size_t i = 0; i < d->n; i++)
		wsr_buf_printf(&b, "%s | %s | %s\n", d->v[i].summary,
			       d->v[i].detail ? d->v[i].detail : "",
			       d->v[i].hint ? d->v[i].hint : "");
	return wsr_buf_detach(&b);
}

#define assert_diag_has(d, text)                                                                   \
	do {                                                                                       \
		char *t_ = diag_text(d);                                                           \
		if (!strstr(t_ ? t_ : "", text))                                                   \
			fail_msg("diagnostics lack \"%s\":\n%s", text, t_);                        \
		free(t_);                                                                          \
	} while (0)

/* A kubernetes Workspace as the platform answers it, at a version, in a
 * project and a state. */
#define WS_KUBE_AT(version, project, state)                                                        \
	"{\"id\":\"ws-1\",\"name\":\"payments-prod\",\"organization\":\"acme\",\"project\":"       \
	"\"" project "\","                                                                         \
	"\"type\":\"kubernetes\",\"kind\":null,\"state\":\"" state "\",\"metadata\":{"             \
	"\"costCenter\":\"4711\"},"                                                                \
	"\"kubernetes\":{\"version\":\"" version "\",\"controlPlane\":\"high_available\","         \
	"\"computeProvider\":\"hetzner_cloud\",\"managementCluster\":\"kamaji-fsn1\",\"ingress\":" \
	"true,"                                                                                    \
	"\"oidc\":{\"enabled\":true,\"sessionLifetime\":null}},"                                   \
	"\"dns\":{\"provider\":null,\"hostnamePattern\":null},"                                    \
	"\"maintenance\":{\"enabled\":true,\"schedule\":{\"0\":3,\"1\":3,\"2\":3,\"3\":3,\"4\":3," \
	"\"5\":5,\"6\":5},\"priorityHour\":4,\"compute\":{\"autoUpdate\":true},"                   \
	"\"kubernetes\":{\"autoPatch\":true}},"                                                    \
	"\"createdAt\":\"2026-11-21T09:15:00Z\",\"updatedAt\":\"2026-11-21T09:16:00Z\"}"
#define WS_KUBE WS_KUBE_AT("1.30.2", "payments", "active")

#define WS_BARE(name)                                                                              \
	"{\"id\":\"ws-" name "\",\"name\":\"" name                                                 \
	"\",\"organization\":\"acme\",\"project\":\"sandbox\","                                    \
	"\"type\":\"baremetal\",\"kind\":null,\"state\":\"active\",\"metadata\":{},"               \
	"\"kubernetes\":null,"                                                                     \
	"\"dns\":{\"provider\":\"route53\",\"hostnamePattern\":null},"                             \
	"\"maintenance\":{\"enabled\":false,\"schedule\":{\"0\":1,\"1\":1,\"2\":1,\"3\":1,\"4\":"  \
	"1,"                                                                                       \
	"\"5\":1,\"6\":1},\"priorityHour\":2,\"compute\":{\"autoUpdate\":false},\"kubernetes\":"   \
	"null},"                                                                                   \
	"\"createdAt\":\"2026-11-21T09:15:00Z\",\"updatedAt\":\"2026-11-21T09:15:00Z\"}"

#define ORGS                                                                                       \
	"{\"items\":[{\"name\":\"acme\",\"verified\":true,\"state\":\"active\",\"projects\":["     \
	"\"payments\",\"sandbox\"]}],\"nextCursor\":null}"
#define WS_PATH "/v1/organizations/acme/workspaces"

static int list_into(wsr_resource_set *set, wsr_diag *d)
{
	wsr_provider *p = open_provider();
	int rc = ops->list(p, set, d);
	ops->close(p);
	return rc;
}

/* ---- listing ------------------------------------------------------------ */

static void test_list_follows_cursors_one_request_per_page(void **state)
{
	(void)state;
	on("GET", "/v1/organizations", NULL, 200, ORGS, 0);
	on("GET", WS_PATH, "", 200,
	   "{\"items\":[" WS_KUBE "," WS_BARE("b1") "],\"nextCursor\":\"c2\"}", 0);
	on("GET", WS_PATH, "c2", 200,
	   "{\"items\":[" WS_BARE("b2") "," WS_BARE("b3") "],\"nextCursor\":\"c3\"}", 0);
	on("GET", WS_PATH, "c3", 200, "{\"items\":[" WS_BARE("b4") "],\"nextCursor\":null}", 0);
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(list_into(&set, &d), 0);
	assert_int_equal(set.n, 5);
	assert_int_equal(fk.requests, 4); /* organizations + three pages */
	for (unsigned i = 0; i < fk.requests; i++)
		assert_string_equal(fk.log[i].limit, "500");
	assert_string_equal(fk.log[0].auth, "Bearer test-admin-key");

	wsr_resource *r = wsr_resource_set_find(&set, "loopback/acme/payments-prod");
	assert_non_null(r);
	assert_string_equal(r->id, "ws-1");
	assert_string_equal(r->provider, "loopback");
	assert_string_equal(r->kind, "loopback.wsr.dev/v1/Workspace");
	char *spec = cJSON_PrintUnformatted(r->spec);
	assert_string_equal(
	    spec,
	    "{\"organization\":\"acme\",\"project\":\"payments\",\"type\":\"kubernetes\","
	    "\"metadata\":{\"costCenter\":\"4711\"},\"kubernetes\":{\"version\":\"1.30.2\","
	    "\"controlPlane\":\"high_available\",\"computeProvider\":\"hetzner_cloud\","
	    "\"managementCluster\":\"kamaji-fsn1\",\"ingress\":true,\"oidc\":{\"enabled\":true}},"
	    "\"maintenance\":{\"enabled\":true,\"schedule\":{\"0\":3,\"1\":3,\"2\":3,\"3\":3,"
	    "\"4\":3,\"5\":5,\"6\":5},\"priorityHour\":4,\"compute\":{\"autoUpdate\":true},"
	    "\"kubernetes\":{\"autoPatch\":true}}}");
	free(spec);
	char *status = cJSON_PrintUnformatted(r->status);
	assert_string_equal(status, "{\"state\":\"active\",\"createdAt\":\"2026-11-21T09:15:00Z\","
				    "\"updatedAt\":\"2026-11-21T09:16:00Z\"}");
	free(status);

	r = wsr_resource_set_find(&set, "loopback/acme/b4");
	assert_non_null(r);
	assert_null(wsr_json_obj(r->spec, "kubernetes"));
	assert_null(wsr_json_path(r->spec, "maintenance.kubernetes"));
	assert_string_equal(wsr_json_str(wsr_json_obj(r->spec, "dns"), "provider"), "route53");
	assert_null(wsr_json_path(r->spec, "dns.hostnamePattern"));
	assert_null(wsr_json_path(r->spec, "lifecycle"));
	wsr_resource_set_free(&set);
	wsr_diag_free(&d);
}

static void expect_list_error(const char *body, unsigned status, const char *needle)
{
	on("GET", "/v1/organizations", NULL, 200, ORGS, 0);
	on("GET", WS_PATH, NULL, status, body, 0);
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	wsr_diag d = WSR_DIAG_INIT;
	assert_true(list_into(&set, &d) < 0);
	assert_true(wsr_diag_errors(&d) > 0);
	assert_diag_has(&d, needle);
	wsr_resource_set_free(&set);
	wsr_diag_free(&d);
	fk.nroutes = 0;
}

static void test_list_hostile_answers_become_diagnostics(void **state)
{
	(void)state;
	expect_list_error("<html>oops</html>", 200, "not JSON");
	expect_list_error("{\"items\":[1,2]", 200, "not JSON");
	expect_list_error("[]", 200, "documented shape");
	expect_list_error("{\"items\":{},\"nextCursor\":null}", 200, "documented shape");
	expect_list_error("{\"items\":[],\"nextCursor\":5}", 200, "documented shape");
	expect_list_error("{\"items\":[42],\"nextCursor\":null}", 200, "id, name and organization");
	/* a wrong type deep inside is named by its path */
	char *ws = strdup(WS_KUBE), *v = strstr(ws, "\"1.30.2\"");
	memcpy(v, "1.3e+10 ", 8);
	char *page = wsr_strdupf("{\"items\":[%s],\"nextCursor\":null}", ws);
	expect_list_error(page, 200, "kubernetes.version is not a string");
	free(page);
	free(ws);
	expect_list_error(
	    "{\"items\":[{\"id\":\"x\",\"name\":\"n\",\"organization\":\"acme\","
	    "\"project\":\"p\",\"type\":\"baremetal\",\"state\":\"active\"}],\"nextCursor\":null}",
	    200, "maintenance is missing");
	expect_list_error(
	    "{\"error\":{\"code\":\"permission_denied\",\"message\":\"missing permission "
	    "workspace:read\"}}",
	    403, "missing permission workspace:read");
	expect_list_error("not json at all", 400, "HTTP 400");
	/* a workspace from another organization in acme's listing */
	char *other = strdup(WS_BARE("zz"));
	memcpy(strstr(other, "\"acme\""), "\"emca\"", 6);
	page = wsr_strdupf("{\"items\":[%s],\"nextCursor\":null}", other);
	expect_list_error(page, 200, "another organization");
	free(page);
	free(other);
}

/* text with its first `from` replaced by `to`; caller frees. */
static char *swap(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	assert_non_null(at);
	return wsr_strdupf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
}

/* Names wsr could not read or change afterwards (found by fuzz_lbmap): a
 * listing that holds one is refused, naming the rule. */
static void test_list_refuses_names_wsr_cannot_use(void **state)
{
	(void)state;
	const char *names[] = {"m0123456789012345678901234567890123456789012345678901234567890123",
			       "Upper",
			       "a/b",
			       "x@y",
			       "a b",
			       "-a",
			       ""};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *q = wsr_strdupf("\"%s\"", names[i]);
		char *w = swap(WS_BARE("zz"), "\"zz\"", q);
		char *page = wsr_strdupf("{\"items\":[%s],\"nextCursor\":null}", w);
		expect_list_error(page, 200, "is not a Loopback name");
		free(page);
		free(w);
		free(q);
	}
}

/* Numbers no whole hour can be: each would have been cast to an integer
 * (undefined behaviour past its range) and is now an answer refused by name. */
static const char *const hostile_numbers[] = {"1e30", "-1e30", "1e400", "-1", "2.5", "24", "\"3\""};

static void test_list_hostile_numbers_are_named(void **state)
{
	(void)state;
	static const struct {
		const char *from, *field;
	} fields[] = {
	    {"\"0\":3", "\"0\":"},
	    {"\"5\":5", "\"5\":"},
	    {"\"priorityHour\":4", "\"priorityHour\":"},
	};
	static const char *const names[] = {"maintenance.schedule.0", "maintenance.schedule.5",
					    "maintenance.priorityHour"};
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
		for (size_t i = 0; i < sizeof(hostile_numbers) / sizeof(hostile_numbers[0]); i++) {
			char *to = wsr_strdupf("%s%s", fields[f].field, hostile_numbers[i]);
			char *ws = swap(WS_KUBE, fields[f].from, to);
			char *page = wsr_strdupf("{\"items\":[%s],\"nextCursor\":null}", ws);
			char *needle =
			    wsr_strdupf("field %s is not a whole number from 0 to 23", names[f]);
			expect_list_error(page, 200, needle);
			free(needle);
			free(page);
			free(ws);
			free(to);
		}
	/* the bounds themselves are hours, and 4.0 is the whole number 4 */
	char *a = swap(WS_KUBE, "\"priorityHour\":4", "\"priorityHour\":23");
	char *b = swap(a, "\"0\":3", "\"0\":0");
	char *ws = swap(b, "\"1\":3", "\"1\":3.0");
	char *page = wsr_strdupf("{\"items\":[%s],\"nextCursor\":null}", ws);
	on("GET", "/v1/organizations", NULL, 200, ORGS, 0);
	on("GET", WS_PATH, NULL, 200, page, 0);
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(list_into(&set, &d), 0);
	assert_int_equal(set.n, 1);
	const cJSON *m = wsr_json_obj(set.v[0]->spec, "maintenance");
	assert_int_equal((int)wsr_json_num(m, "priorityHour", -1), 23);
	assert_int_equal((int)wsr_json_num(wsr_json_obj(m, "schedule"), "0", -1), 0);
	wsr_resource_set_free(&set);
	wsr_diag_free(&d);
	fk.nroutes = 0;
	free(page);
	free(ws);
	free(b);
	free(a);
}

static int pages_wanted;

/* Page N answers cursor pN+1 until pages_wanted pages were served. */
static char *endless(const char *cursor)
{
	int n = cursor ? atoi(cursor + 1) : 1;
	if (n >= pages_wanted)
		return strdup("{\"items\":[],\"nextCursor\":null}");
	return wsr_strdupf("{\"items\":[],\"nextCursor\":\"p%d\"}", n + 1);
}

static void test_list_page_limit_boundary(void **state)
{
	(void)state;
	on("GET", "/v1/organizations", NULL, 200, ORGS, 0);
	on("GET", WS_PATH, NULL, 200, NULL, 0);
	fk.routes[1].gen = endless;
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	wsr_diag d = WSR_DIAG_INIT;
	pages_wanted = LB_MAX_PAGES;
	assert_int_equal(list_into(&set, &d), 0);
	assert_int_equal(fk.requests, 1 + LB_MAX_PAGES);

	fk.requests = 0;
	pages_wanted = LB_MAX_PAGES + 1;
	assert_int_equal(list_into(&set, &d), WSR_ELIMIT);
	assert_diag_has(&d, "more than 1000 pages");
	wsr_resource_set_free(&set);
	wsr_diag_free(&d);
}

static void test_list_repeated_cursor_is_refused(void **state)
{
	(void)state;
	expect_list_error("{\"items\":[],\"nextCursor\":\"same\"}", 200, "repeats the cursor");
}

static char *huge(const char *cursor)
{
	(void)cursor;
	size_t n = LB_MAX_RESPONSE + 1;
	char *b = malloc(n + 1);
	memset(b, ' ', n);
	memcpy(b, "{\"items\":[],\"nextCursor\":null}", 30);
	b[n] = '\0';
	return b;
}

static void test_list_huge_answer_is_refused(void **state)
{
	(void)state;
	on("GET", "/v1/organizations", NULL, 200, NULL, 0);
	fk.routes[0].gen = huge;
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(list_into(&set, &d), WSR_ELIMIT);
	assert_diag_has(&d, "too large");
	wsr_diag_free(&d);
}

/* ---- open ----------------------------------------------------------------- */

static void test_open_key_handling(void **state)
{
	(void)state;
	wsr_provider *p = NULL;
	wsr_diag d = WSR_DIAG_INIT;
	unsetenv("WSR_TEST_MISSING");
	cJSON *c =
	    cJSON_Parse("{\"endpoint\":\"http://127.0.0.1:1\",\"apiKeyEnv\":\"WSR_TEST_MISSING\"}");
	assert_int_equal(ops->open(&p, c, &d), WSR_EINVAL);
	assert_null(p);
	assert_diag_has(&d, "WSR_TEST_MISSING");
	cJSON_Delete(c);

	/* the key's value never appears, even when the endpoint is refused */
	setenv("WSR_TEST_KEY", "supersecret-value", 1);
	c = cJSON_Parse("{\"endpoint\":\"http://example.com\",\"apiKeyEnv\":\"WSR_TEST_KEY\"}");
	assert_int_equal(ops->open(&p, c, &d), WSR_EINVAL);
	assert_diag_has(&d, "in clear");
	char *t = diag_text(&d);
	assert_null(strstr(t, "supersecret"));
	free(t);
	cJSON_Delete(c);
	wsr_diag_free(&d);

	/* apiKey (the embedded platform's) wins over the variable */
	on("GET", "/v1/organizations", NULL, 200, "{\"items\":[],\"nextCursor\":null}", 0);
	char cfg[256];
	snprintf(cfg, sizeof(cfg),
		 "{\"endpoint\":\"%s\",\"apiKeyEnv\":\"WSR_TEST_KEY\",\"apiKey\":\"embedded-key\"}",
		 base_url);
	c = cJSON_Parse(cfg);
	assert_int_equal(ops->open(&p, c, &d), 0);
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	assert_int_equal(ops->list(p, &set, &d), 0);
	assert_string_equal(fk.log[0].auth, "Bearer embedded-key");
	ops->close(p);
	cJSON_Delete(c);
	wsr_resource_set_free(&set);
	wsr_diag_free(&d);
}

/* A key with a line break would end the Authorization header and inject
 * others: it is refused at open, naming where it came from, never quoting
 * it, and no request is sent. */
static void test_open_refuses_a_key_that_injects_headers(void **state)
{
	(void)state;
	static const char *const bad[] = {"secret-key\r\nX-Injected: 1", "secret-key\n",
					  "secret\x7fkey", "secret\tkey"};
	char cfg[256];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		wsr_provider *p = NULL;
		wsr_diag d = WSR_DIAG_INIT;
		fake_reset();
		on("GET", "/v1/organizations", NULL, 200, "{\"items\":[],\"nextCursor\":null}", 0);
		setenv("WSR_TEST_KEY", bad[i], 1);
		snprintf(cfg, sizeof(cfg), "{\"endpoint\":\"%s\",\"apiKeyEnv\":\"WSR_TEST_KEY\"}",
			 base_url);
		cJSON *c = cJSON_Parse(cfg);
		assert_int_equal(ops->open(&p, c, &d), WSR_EINVAL);
		assert_null(p);
		assert_diag_has(&d, "WSR_TEST_KEY");
		assert_diag_has(&d, "control characters");
		char *t = diag_text(&d);
		assert_null(strstr(t, "secret"));
		assert_null(strstr(t, "X-Injected"));
		free(t);
		assert_int_equal(fk.requests, 0);
		cJSON_Delete(c);
		wsr_diag_free(&d);
	}
	/* apiKey (set by the engine) is held to the same rule */
	wsr_provider *p = NULL;
	wsr_diag d = WSR_DIAG_INIT;
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "endpoint", base_url);
	cJSON_AddStringToObject(c, "apiKey", "secret\r\nX-Injected: 1");
	assert_int_equal(ops->open(&p, c, &d), WSR_EINVAL);
	assert_diag_has(&d, "apiKey");
	cJSON_Delete(c);
	wsr_diag_free(&d);
	setenv("WSR_TEST_KEY", "test-admin-key", 1); /* open_provider's */
}

/* The config's timeout was cast to long unchecked: 1e30 was undefined
 * behaviour. Now it is whole seconds from 1 to a day, or an error naming it. */
static void test_open_refuses_hostile_timeout(void **state)
{
	(void)state;
	static const char *const bad[] = {"1e30", "-1e30", "1e400", "2.5", "0", "86401", "\"30\""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *cfg = wsr_strdupf(
		    "{\"endpoint\":\"%s\",\"apiKeyEnv\":\"WSR_TEST_KEY\",\"timeout\":%s}", base_url,
		    bad[i]);
		cJSON *c = cJSON_Parse(cfg);
		wsr_provider *p = NULL;
		wsr_diag d = WSR_DIAG_INIT;
		assert_int_equal(ops->open(&p, c, &d), WSR_EINVAL);
		assert_null(p);
		assert_diag_has(&d, "timeout is not a whole number of seconds from 1 to 86400");
		wsr_diag_free(&d);
		cJSON_Delete(c);
		free(cfg);
	}
}

/* ---- operations ------------------------------------------------------------ */

#define SPEC_KUBE                                                                                  \
	"{\"organization\":\"acme\",\"project\":\"payments\",\"type\":\"kubernetes\","             \
	"\"metadata\":{\"z\":\"1\",\"a\":\"2\"},\"kubernetes\":{\"version\":\"1.30.2\","           \
	"\"controlPlane\":\"high_available\",\"computeProvider\":\"hetzner_cloud\","               \
	"\"ingress\":true,\"oidc\":{\"enabled\":false}},"                                          \
	"\"maintenance\":{\"enabled\":true,\"compute\":{\"autoUpdate\":true},"                     \
	"\"kubernetes\":{\"autoPatch\":true}},\"lifecycle\":{\"preventDestroy\":true}}"

static wsr_resource *resource(const char *name, const char *spec)
{
	char addr[160];
	snprintf(addr, sizeof(addr), "loopback/acme/%s", name);
	wsr_resource *r = wsr_resource_new(addr, "loopback", "loopback.wsr.dev/v1/Workspace", name);
	r->spec = cJSON_Parse(spec);
	assert_non_null(r->spec);
	return r;
}

static wsr_change *change(const char *name, wsr_action a, const wsr_resource *desired,
			  const wsr_resource *observed, const char *const *fields)
{
	char addr[160];
	snprintf(addr, sizeof(addr), "loopback/acme/%s", name);
	return fixture_change(addr, a, desired, observed, fields);
}

/* Drives an operation the way the engine does: start, then poll until done. */
static int run_op(wsr_provider *p, const wsr_change *c, wsr_action a, wsr_resource **result,
		  int *polls, wsr_diag *d)
{
	return fixture_run_op(ops, p, c, a, result, 50, 0, polls, d);
}

/* A provider and a create of payments-prod from SPEC_KUBE. */
typedef struct fixture {
	wsr_provider *p;
	wsr_resource *want;
	wsr_change *c;
	wsr_diag d;
} fixture;

static void fixture_init(fixture *f)
{
	f->p = open_provider();
	f->want = resource("payments-prod", SPEC_KUBE);
	f->c = change("payments-prod", WSR_ACT_CREATE, f->want, NULL, NULL);
	wsr_diag_init(&f->d);
}

static void fixture_free(fixture *f)
{
	wsr_change_free(f->c);
	wsr_resource_free(f->want);
	ops->close(f->p);
	wsr_diag_free(&f->d);
}

/* Runs the create; asserts the return code; returns the resource made. */
static wsr_resource *create(fixture *f, int want_rc)
{
	wsr_resource *got;
	int polls;
	assert_int_equal(run_op(f->p, f->c, WSR_ACT_CREATE, &got, &polls, &f->d), want_rc);
	return got;
}

static void test_create_polls_task_then_reads_workspace(void **state)
{
	(void)state;
	on("POST", WS_PATH, NULL, 202,
	   "{\"workspace\":" WS_KUBE ",\"task\":{\"id\":\"task-1\",\"state\":\"running\"}}", 0);
	on("GET", "/v1/tasks/task-1", NULL, 200, "{\"id\":\"task-1\",\"state\":\"running\"}", 2);
	on("GET", "/v1/tasks/task-1", NULL, 200, "{\"id\":\"task-1\",\"state\":\"succeeded\"}", 0);
	on("GET", WS_PATH "/payments-prod", NULL, 200, WS_KUBE, 0);
	wsr_provider *p = open_provider();
	wsr_resource *want = resource("payments-prod", SPEC_KUBE), *got;
	wsr_change *c = change("payments-prod", WSR_ACT_CREATE, want, NULL, NULL);
	wsr_diag d = WSR_DIAG_INIT;
	int polls;
	assert_int_equal(run_op(p, c, WSR_ACT_CREATE, &got, &polls, &d), 0);
	assert_int_equal(polls, 3); /* running, running, succeeded */
	assert_non_null(got);
	assert_string_equal(got->address, "loopback/acme/payments-prod");
	assert_string_equal(got->id, "ws-1");
	/* the body: API shape, no lifecycle, sorted metadata, complete maintenance */
	assert_string_equal(fk.log[0].method, "POST");
	assert_string_equal(
	    fk.log[0].body,
	    "{\"name\":\"payments-prod\",\"project\":\"payments\",\"type\":\"kubernetes\","
	    "\"metadata\":{\"a\":\"2\",\"z\":\"1\"},\"kubernetes\":{\"version\":\"1.30.2\","
	    "\"controlPlane\":\"high_available\",\"computeProvider\":\"hetzner_cloud\",\"ingress\":"
	    "true,"
	    "\"oidc\":{\"enabled\":false}},\"maintenance\":{\"enabled\":true,\"schedule\":{\"0\":3,"
	    "\"1\":3,\"2\":3,\"3\":3,\"4\":3,\"5\":3,\"6\":3},\"priorityHour\":4,"
	    "\"compute\":{\"autoUpdate\":true},\"kubernetes\":{\"autoPatch\":true}}}");
	assert_int_equal(strlen(fk.log[0].idem), 4 + 64);
	assert_memory_equal(fk.log[0].idem, "wsr-", 4);
	char key1[128];
	strcpy(key1, fk.log[0].idem);
	wsr_resource_free(got);

	/* a re-run of the same create sends the same key: the platform replays */
	fk.requests = 0;
	memset(fk.used, 0, sizeof(fk.used));
	assert_int_equal(run_op(p, c, WSR_ACT_CREATE, &got, &polls, &d), 0);
	assert_string_equal(fk.log[0].idem, key1);
	wsr_resource_free(got);

	/* another spec is another create: another key */
	cJSON_ReplaceItemInObject(want->spec, "project", cJSON_CreateString("sandbox"));
	fk.requests = 0;
	memset(fk.used, 0, sizeof(fk.used));
	assert_int_equal(run_op(p, c, WSR_ACT_CREATE, &got, &polls, &d), 0);
	assert_string_not_equal(fk.log[0].idem, key1);
	wsr_resource_free(got);
	assert_int_equal(wsr_diag_errors(&d), 0);
	wsr_change_free(c);
	wsr_resource_free(want);
	ops->close(p);
	wsr_diag_free(&d);
}

#define TASK_FAILED(id)                                                                            \
	"{\"id\":\"" id "\",\"state\":\"failed\",\"error\":{\"code\":\"provisioning_failed\","     \
	"\"message\":\"no capacity in fsn1\"}}"

static void test_create_task_failure_is_reported(void **state)
{
	(void)state;
	on("POST", WS_PATH, NULL, 202,
	   "{\"workspace\":" WS_KUBE ",\"task\":{\"id\":\"t9\",\"state\":\"running\"}}", 0);
	on("GET", "/v1/tasks/t9", NULL, 200, TASK_FAILED("t9"), 0);
	/* the workspace the failed task made is there, failed: a real failure */
	on("GET", WS_PATH "/payments-prod", NULL, 200, WS_KUBE_AT("1.30.2", "payments", "failed"),
	   0);
	fixture f;
	fixture_init(&f);
	assert_null(create(&f, WSR_EAPI));
	assert_diag_has(&f.d, "no capacity in fsn1");
	assert_diag_has(&f.d, "provisioning_failed");
	assert_diag_has(&f.d, "the next plan replaces it");
	assert_string_equal(f.d.v[0].address, "loopback/acme/payments-prod");
	assert_int_equal(fk.requests, 3); /* POST, the task, the workspace: no re-post */
	fixture_free(&f);
}

static void test_stale_failed_replay_creates_again(void **state)
{
	(void)state;
	/* the key replays a creation that failed, whose workspace was deleted
	 * since (a crash between a repair's deletion and its creation) */
	on("POST", WS_PATH, NULL, 202,
	   "{\"workspace\":" WS_KUBE ",\"task\":{\"id\":\"old\",\"state\":\"failed\"}}", 1);
	on("GET", "/v1/tasks/old", NULL, 200, TASK_FAILED("old"), 0);
	on("GET", WS_PATH "/payments-prod", NULL, 404,
	   "{\"error\":{\"code\":\"not_found\",\"message\":\"no\"}}", 1);
	on("POST", WS_PATH, NULL, 202,
	   "{\"workspace\":" WS_KUBE ",\"task\":{\"id\":\"new\",\"state\":\"succeeded\"}}", 0);
	on("GET", WS_PATH "/payments-prod", NULL, 200, WS_KUBE, 0);
	fixture f;
	fixture_init(&f);
	wsr_resource *got = create(&f, 0);
	assert_non_null(got);
	assert_int_equal(got->health, WSR_HEALTH_OK);
	assert_string_equal(fk.log[3].method, "POST");
	assert_string_not_equal(fk.log[3].idem, fk.log[0].idem);
	assert_int_equal(wsr_diag_errors(&f.d), 0);
	wsr_resource_free(got);
	fixture_free(&f);
}

static void test_stale_replays_are_followed_a_bounded_number_of_times(void **state)
{
	(void)state;
	/* a platform that replays a failed task for every key and never has the
	 * workspace: wsr re-posts LB_CREATE_REPOSTS_MAX times, then reports it */
	on("POST", WS_PATH, NULL, 202,
	   "{\"workspace\":" WS_KUBE ",\"task\":{\"id\":\"t\",\"state\":\"failed\"}}", 0);
	on("GET", "/v1/tasks/t", NULL, 200, TASK_FAILED("t"), 0);
	fixture f;
	fixture_init(&f);
	assert_null(create(&f, WSR_EAPI));
	assert_diag_has(&f.d, "no capacity in fsn1");
	assert_int_equal(fk.requests, 3 * LB_CREATE_REPOSTS_MAX + 2);
	int posts = 0;
	for (unsigned i = 0; i < fk.requests && i < MAX_LOG; i++)
		posts += strcmp(fk.log[i].method, "POST") == 0;
	assert_int_equal(posts, LB_CREATE_REPOSTS_MAX + 1);
	fixture_free(&f);
}

static void test_replacement_never_replays_the_replaced_creation(void **state)
{
	(void)state;
	on("POST", WS_PATH, NULL, 202,
	   "{\"workspace\":" WS_KUBE ",\"task\":{\"id\":\"t1\",\"state\":\"succeeded\"}}", 0);
	on("GET", WS_PATH "/payments-prod", NULL, 200, WS_KUBE, 0);
	fixture f;
	fixture_init(&f);
	wsr_resource_free(create(&f, 0));
	char plain[128];
	strcpy(plain, fk.log[0].idem);
	/* the same body creating the workspace that replaces a failed one */
	wsr_resource *failed = resource("payments-prod", SPEC_KUBE);
	failed->id = strdup("ws-failed-1");
	wsr_change *c = change("payments-prod", WSR_ACT_CREATE, f.want, failed, NULL);
	wsr_resource *got;
	int polls;
	fk.requests = 0;
	assert_int_equal(run_op(f.p, c, WSR_ACT_CREATE, &got, &polls, &f.d), 0);
	assert_string_not_equal(fk.log[0].idem, plain);
	char first[128];
	strcpy(first, fk.log[0].idem);
	wsr_resource_free(got);
	/* deterministic: a re-run after a crash sends the same key */
	fk.requests = 0;
	assert_int_equal(run_op(f.p, c, WSR_ACT_CREATE, &got, &polls, &f.d), 0);
	assert_string_equal(fk.log[0].idem, first);
	wsr_resource_free(got);
	wsr_change_free(c);
	wsr_resource_free(failed);
	fixture_free(&f);
}

/* A workspace whose state is 10,000 bytes (built once: route bodies are copied). */
static char long_state_ws[16384];

/* The state a listing or a read reports becomes the resource's health. */
static void test_state_becomes_health(void **state)
{
	(void)state;
	on("GET", WS_PATH "/payments-prod", NULL, 200, WS_KUBE_AT("1.30.2", "payments", "failed"),
	   1);
	on("GET", WS_PATH "/payments-prod", NULL, 200,
	   WS_KUBE_AT("1.30.2", "payments", "initializing"), 1);
	on("GET", WS_PATH "/payments-prod", NULL, 200,
	   WS_KUBE_AT("1.30.2", "payments", "degraded\\n"), 1);
	char st[10001];
	memset(st, 'x', 10000);
	st[10000] = '\0';
	const char *tmpl = WS_KUBE_AT("1.30.2", "payments", "@");
	const char *at = strchr(tmpl, '@');
	snprintf(long_state_ws, sizeof(long_state_ws), "%.*s%s%s", (int)(at - tmpl), tmpl, st,
		 at + 1);
	on("GET", WS_PATH "/payments-prod", NULL, 200, long_state_ws, 1);
	wsr_provider *p = open_provider();
	wsr_diag d = WSR_DIAG_INIT;
	wsr_resource *r;
	assert_int_equal(ops->read(p, "loopback/acme/payments-prod", &r, &d), 0);
	assert_int_equal(r->health, WSR_HEALTH_REPLACE);
	assert_non_null(strstr(r->health_why, "failed (its creation failed)"));
	wsr_resource_free(r);
	assert_int_equal(ops->read(p, "loopback/acme/payments-prod", &r, &d), 0);
	assert_int_equal(r->health, WSR_HEALTH_OK); /* on its way: not broken */
	assert_null(r->health_why);
	wsr_resource_free(r);
	/* a state the API does not document: broken, quoted safely */
	assert_int_equal(ops->read(p, "loopback/acme/payments-prod", &r, &d), 0);
	assert_int_equal(r->health, WSR_HEALTH_BROKEN);
	assert_non_null(strstr(r->health_why, "state \"degraded\\x0a\""));
	assert_null(strchr(r->health_why, '\n'));
	wsr_resource_free(r);
	/* a state of 10,000 bytes costs a short line */
	assert_int_equal(ops->read(p, "loopback/acme/payments-prod", &r, &d), 0);
	assert_int_equal(r->health, WSR_HEALTH_BROKEN);
	assert_non_null(strstr(r->health_why, "(10000 bytes)"));
	assert_true(strlen(r->health_why) < WSR_DIAG_SHORT_SIZE + 200);
	wsr_resource_free(r);
	assert_int_equal(wsr_diag_errors(&d), 0);
	wsr_diag_free(&d);
	ops->close(p);
}

/* A platform answering the workspace's read with another one (found by the
 * property fuzz_lbmap checks): the create fails naming the answer, and no
 * resource at another address comes back for the engine to record. */
static void test_create_answered_with_another_workspace(void **state)
{
	(void)state;
	static char other[] = WS_KUBE;
	memcpy(strstr(other, "payments-prod"), "payments-test", 13);
	on("POST", WS_PATH, NULL, 202,
	   "{\"workspace\":" WS_KUBE ",\"task\":{\"id\":\"t8\",\"state\":\"succeeded\"}}", 0);
	on("GET", WS_PATH "/payments-prod", NULL, 200, other, 0);
	fixture f;
	fixture_init(&f);
	assert_null(create(&f, WSR_EAPI));
	assert_diag_has(&f.d, "the platform answered with another workspace");
	assert_string_equal(f.d.v[0].address, "loopback/acme/payments-prod");
	fixture_free(&f);
}

static void test_create_refusal_names_platform_code(void **state)
{
	(void)state;
	on("POST", WS_PATH, NULL, 422,
	   "{\"error\":{\"code\":\"version_inactive\",\"message\":\"version 1.28.9 is not "
	   "active\"}}",
	   0);
	fixture f;
	fixture_init(&f);
	assert_null(create(&f, WSR_EAPI));
	assert_diag_has(&f.d, "version 1.28.9 is not active");
	assert_diag_has(&f.d, "version_inactive");
	fixture_free(&f);
}

static void test_create_409_adopts_existing(void **state)
{
	(void)state;
	on("POST", WS_PATH, NULL, 409,
	   "{\"error\":{\"code\":\"already_exists\",\"message\":\"workspace payments-prod "
	   "exists\"}}",
	   0);
	on("GET", WS_PATH "/payments-prod", NULL, 200, WS_KUBE, 0);
	fixture f;
	fixture_init(&f);
	wsr_resource *got = create(&f, 0);
	assert_non_null(got);
	assert_string_equal(got->id, "ws-1");
	assert_int_equal(fk.requests, 2);
	wsr_resource_free(got);
	fixture_free(&f);
}

static void test_stale_replay_creates_again(void **state)
{
	(void)state;
	/* the key replays a create whose workspace was deleted since */
	on("POST", WS_PATH, NULL, 202,
	   "{\"workspace\":" WS_KUBE ",\"task\":{\"id\":\"old\",\"state\":\"succeeded\"}}", 1);
	on("GET", WS_PATH "/payments-prod", NULL, 404,
	   "{\"error\":{\"code\":\"not_found\",\"message\":\"no\"}}", 1);
	on("POST", WS_PATH, NULL, 202,
	   "{\"workspace\":" WS_KUBE ",\"task\":{\"id\":\"new\",\"state\":\"running\"}}", 0);
	on("GET", "/v1/tasks/new", NULL, 200, "{\"id\":\"new\",\"state\":\"succeeded\"}", 0);
	on("GET", WS_PATH "/payments-prod", NULL, 200, WS_KUBE, 0);
	fixture f;
	fixture_init(&f);
	wsr_resource *got = create(&f, 0);
	assert_non_null(got);
	assert_string_equal(fk.log[2].method, "POST");
	assert_string_not_equal(fk.log[2].idem, fk.log[0].idem);
	wsr_resource_free(got);
	fixture_free(&f);
}

static void test_delete_polls_and_404_is_done(void **state)
{
	(void)state;
	on("DELETE", WS_PATH "/gone", NULL, 404,
	   "{\"error\":{\"code\":\"not_found\",\"message\":\"no\"}}", 0);
	on("DELETE", WS_PATH "/payments-prod", NULL, 202,
	   "{\"task\":{\"id\":\"d1\",\"state\":\"running\"}}", 0);
	on("GET", "/v1/tasks/d1", NULL, 200, "{\"id\":\"d1\",\"state\":\"running\"}", 1);
	on("GET", "/v1/tasks/d1", NULL, 200, "{\"id\":\"d1\",\"state\":\"succeeded\"}", 0);
	wsr_provider *p = open_provider();
	wsr_diag d = WSR_DIAG_INIT;
	wsr_resource *got;
	int polls;
	wsr_change *c = change("gone", WSR_ACT_DELETE, NULL, NULL, NULL);
	assert_int_equal(run_op(p, c, WSR_ACT_DELETE, &got, &polls, &d), 0);
	assert_null(got);
	assert_int_equal(fk.requests, 1);
	wsr_change_free(c);

	c = change("payments-prod", WSR_ACT_DELETE, NULL, NULL, NULL);
	assert_int_equal(run_op(p, c, WSR_ACT_DELETE, &got, &polls, &d), 0);
	assert_null(got);
	assert_int_equal(polls, 2);
	assert_int_equal(wsr_diag_errors(&d), 0);
	wsr_change_free(c);
	ops->close(p);
	wsr_diag_free(&d);
}

/* What the platform has for payments-prod in the update tests: ingress
 * off, its own schedule, priority hour and maintenance switches. */
#define SPEC_SEEN                                                                                  \
	"{\"organization\":\"acme\",\"project\":\"payments\",\"type\":\"kubernetes\","             \
	"\"kubernetes\":{\"version\":\"1.29.4\",\"controlPlane\":\"high_available\","              \
	"\"computeProvider\":\"hetzner_cloud\",\"managementCluster\":\"kamaji-fsn1\","             \
	"\"ingress\":false,\"oidc\":{\"enabled\":true}},"                                          \
	"\"maintenance\":{\"enabled\":true,\"schedule\":{\"0\":1,\"1\":1,\"2\":1,\"3\":1,\"4\":1," \
	"\"5\":6,\"6\":6},\"priorityHour\":9,\"compute\":{\"autoUpdate\":false},"                  \
	"\"kubernetes\":{\"autoPatch\":false}}}"

/* Runs an update of the change's fields from have to want; body: the one
 * PATCH body expected, or NULL when no request may be sent at all. */
static void expect_patch_of(const char *want_spec, const char *have_spec, wsr_action first,
			    const char *const *fields, const char *body)
{
	on("PATCH", WS_PATH "/payments-prod", NULL, 200, WS_KUBE, 0);
	wsr_provider *p = open_provider();
	wsr_resource *want = resource("payments-prod", want_spec), *got;
	wsr_resource *have = resource("payments-prod", have_spec);
	wsr_change *c = change("payments-prod", first, want, have, fields);
	if (first != WSR_ACT_UPDATE)
		c->actions[c->nactions++] = WSR_ACT_UPDATE;
	wsr_diag d = WSR_DIAG_INIT;
	int polls;
	assert_int_equal(run_op(p, c, WSR_ACT_UPDATE, &got, &polls, &d), 0);
	assert_int_equal(polls, 1);
	assert_non_null(got);
	assert_string_equal(got->address, "loopback/acme/payments-prod");
	if (body) {
		assert_int_equal(fk.requests, 1);
		assert_string_equal(fk.log[0].method, "PATCH");
		assert_string_equal(fk.log[0].body, body);
	} else {
		assert_int_equal(fk.requests, 0);
	}
	wsr_resource_free(got);
	wsr_change_free(c);
	wsr_resource_free(want);
	wsr_resource_free(have);
	ops->close(p);
	wsr_diag_free(&d);
	fake_reset();
}

static void expect_patch(const char *const *fields, const char *body)
{
	expect_patch_of(SPEC_KUBE, SPEC_SEEN, WSR_ACT_UPDATE, fields, body);
}

/* The kubernetes block of a PATCH: what needs its own operation (and the
 * creation-time ingress) as SPEC_SEEN has it, oidc as SPEC_KUBE wants it. */
#define KUBE_PATCH(version)                                                                        \
	"{\"kubernetes\":{\"version\":\"" version "\",\"controlPlane\":\"high_available\","        \
	"\"computeProvider\":\"hetzner_cloud\",\"managementCluster\":\"kamaji-fsn1\","             \
	"\"ingress\":false,\"oidc\":{\"enabled\":false,\"sessionLifetime\":null}}}"

static void test_update_sends_only_touched_blocks_complete(void **state)
{
	(void)state;
	const char *meta[] = {"metadata.a", NULL};
	expect_patch(meta, "{\"metadata\":{\"a\":\"2\",\"z\":\"1\"}}");
	const char *dns[] = {"dns", NULL};
	expect_patch(dns, "{\"dns\":{\"provider\":null,\"hostnamePattern\":null}}");
	/* kubernetes: oidc from the spec, the rest as observed */
	const char *oidc[] = {"kubernetes.oidc.enabled", NULL};
	expect_patch(oidc, KUBE_PATCH("1.29.4"));
}

static void test_update_sends_complete_maintenance_over_observed(void **state)
{
	(void)state;
	/* SPEC_KUBE says enabled, autoUpdate and autoPatch, nothing of the
	 * schedule: the schedule and priority hour stay as observed, the flags
	 * are the spec's, and every block is there (a missing one would switch
	 * its flag off) */
	const char *maint[] = {"maintenance.compute.autoUpdate", NULL};
	expect_patch(maint,
		     "{\"maintenance\":{\"enabled\":true,\"schedule\":{\"0\":1,\"1\":1,\"2\":1,"
		     "\"3\":1,\"4\":1,\"5\":6,\"6\":6},\"priorityHour\":9,"
		     "\"compute\":{\"autoUpdate\":true},\"kubernetes\":{\"autoPatch\":true}}}");
	/* a spec that names only the schedule keeps the observed flags */
	expect_patch_of(
	    "{\"organization\":\"acme\",\"project\":\"payments\",\"type\":"
	    "\"kubernetes\",\"kubernetes\":{\"version\":\"1.29.4\"},"
	    "\"maintenance\":{\"schedule\":{\"3\":7}}}",
	    SPEC_SEEN, WSR_ACT_UPDATE, maint,
	    "{\"maintenance\":{\"enabled\":true,\"schedule\":{\"0\":1,\"1\":1,\"2\":1,"
	    "\"3\":7,\"4\":1,\"5\":6,\"6\":6},\"priorityHour\":9,"
	    "\"compute\":{\"autoUpdate\":false},\"kubernetes\":{\"autoPatch\":false}}}");
	/* baremetal: no kubernetes block, which the platform would refuse */
	expect_patch_of("{\"organization\":\"acme\",\"project\":\"payments\",\"type\":"
			"\"baremetal\",\"maintenance\":{\"priorityHour\":2}}",
			"{\"organization\":\"acme\",\"project\":\"payments\",\"type\":"
			"\"baremetal\",\"maintenance\":{\"enabled\":false,\"schedule\":{\"0\":1,"
			"\"1\":1,\"2\":1,\"3\":1,\"4\":1,\"5\":1,\"6\":1},\"priorityHour\":5,"
			"\"compute\":{\"autoUpdate\":true}}}",
			WSR_ACT_UPDATE, maint,
			"{\"maintenance\":{\"enabled\":false,\"schedule\":{\"0\":1,\"1\":1,\"2\":1,"
			"\"3\":1,\"4\":1,\"5\":1,\"6\":1},\"priorityHour\":2,"
			"\"compute\":{\"autoUpdate\":true}}}");
}

static void test_update_never_sends_a_changed_ingress(void **state)
{
	(void)state;
	/* only ingress differs (the planner should have dropped it): nothing to send */
	const char *ingress[] = {"kubernetes.ingress", NULL};
	expect_patch(ingress, NULL);
	/* with oidc, ingress goes as observed (false), not as desired (true) */
	const char *both[] = {"kubernetes.ingress", "kubernetes.oidc.enabled", NULL};
	expect_patch(both, KUBE_PATCH("1.29.4"));
	/* an update after an upgrade in the same change runs on the new version */
	expect_patch_of(SPEC_KUBE, SPEC_SEEN, WSR_ACT_UPGRADE, both, KUBE_PATCH("1.30.2"));
}

/* ---- upgrade and transfer ------------------------------------------------------ */

#define UP_PATH WS_PATH "/payments-prod/upgrade"
#define TASK(id, type, state)                                                                      \
	"{\"id\":\"" id "\",\"type\":\"" type "\",\"state\":\"" state "\",\"error\":null}"
#define ACCEPTED(ws, id, type) "{\"workspace\":" ws ",\"task\":" TASK(id, type, "running") "}"
#define FAILED_TASK(id, type, code, msg)                                                           \
	"{\"id\":\"" id "\",\"type\":\"" type                                                      \
	"\",\"state\":\"failed\",\"error\":{\"code\":\"" code "\",\"message\":\"" msg "\"}}"

/* The workspace as list maps it from the platform's answer. */
static wsr_resource *observed_ws(const char *ws)
{
	cJSON *j = cJSON_Parse(ws);
	wsr_resource *r = NULL;
	char *why = NULL;
	assert_int_equal(lb_workspace_to_resource(&r, j, &why), 0);
	cJSON_Delete(j);
	return r;
}

static const char *version_of(const wsr_resource *r)
{
	return wsr_json_str(wsr_json_obj(r->spec, "kubernetes"), "version");
}

#define AT(v) WS_KUBE_AT(v, "payments", "active")

/* An upgrade of payments-prod from the workspace ws (the platform's answer)
 * to SPEC_KUBE's 1.30.2, with the plan's extra (NULL: none); returns the
 * return code, the result and the steps reported before it. */
static int run_upgrade(const char *ws, const char *extra, wsr_resource **got, fixture_steps *steps,
		       wsr_diag *d)
{
	wsr_provider *p = open_provider();
	wsr_resource *have = observed_ws(ws), *want = resource("payments-prod", SPEC_KUBE);
	const char *fields[] = {"kubernetes.version", NULL};
	wsr_change *c = change("payments-prod", WSR_ACT_UPGRADE, want, have, fields);
	if (extra)
		c->extra = cJSON_Parse(extra);
	int polls;
	int rc = fixture_run_steps(ops, p, c, WSR_ACT_UPGRADE, got, 50, 0, &polls, steps, d);
	wsr_change_free(c);
	wsr_resource_free(want);
	wsr_resource_free(have);
	ops->close(p);
	return rc;
}

#define PATH_3 "{\"upgradePath\":[\"1.28.9\",\"1.29.4\",\"1.30.2\"]}"

static void test_upgrade_walks_the_path_hop_by_hop(void **state)
{
	(void)state;
	on("POST", UP_PATH, NULL, 202,
	   ACCEPTED(WS_KUBE_AT("1.28.9", "payments", "upgrading"), "u1", "upgrade"), 1);
	on("POST", UP_PATH, NULL, 202,
	   ACCEPTED(WS_KUBE_AT("1.29.4", "payments", "upgrading"), "u2", "upgrade"), 1);
	on("GET", "/v1/tasks/u1", NULL, 200, TASK("u1", "upgrade", "succeeded"), 0);
	on("GET", "/v1/tasks/u2", NULL, 200, TASK("u2", "upgrade", "running"), 1);
	on("GET", "/v1/tasks/u2", NULL, 200, TASK("u2", "upgrade", "succeeded"), 0);
	on("GET", WS_PATH "/payments-prod", NULL, 200, WS_KUBE_AT("1.29.4", "payments", "active"),
	   1);
	on("GET", WS_PATH "/payments-prod", NULL, 200, WS_KUBE_AT("1.30.2", "payments", "active"),
	   0);
	fixture_steps steps = {.n = 0};
	wsr_resource *got;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(run_upgrade(AT("1.28.9"), PATH_3, &got, &steps, &d), 0);
	assert_int_equal(wsr_diag_errors(&d), 0);
	/* the first hop was reported as a finished step, the second as the end */
	assert_int_equal(steps.n, 1);
	assert_string_equal(version_of(steps.v[0]), "1.29.4");
	assert_non_null(got);
	assert_string_equal(version_of(got), "1.30.2");
	/* one hop a request, each waited for before the next; no catalog asked */
	const char *want[][2] = {{"POST", UP_PATH},
				 {"GET", "/v1/tasks/u1"},
				 {"GET", WS_PATH "/payments-prod"},
				 {"POST", UP_PATH},
				 {"GET", "/v1/tasks/u2"},
				 {"GET", "/v1/tasks/u2"},
				 {"GET", WS_PATH "/payments-prod"}};
	assert_int_equal(fk.requests, 7);
	for (int i = 0; i < 7; i++) {
		assert_string_equal(fk.log[i].method, want[i][0]);
		assert_string_equal(fk.log[i].path, want[i][1]);
	}
	assert_string_equal(fk.log[0].body, "{\"version\":\"1.29.4\"}");
	assert_string_equal(fk.log[3].body, "{\"version\":\"1.30.2\"}");
	wsr_resource_free(got);
	fixture_steps_free(&steps);
	wsr_diag_free(&d);
}

static void test_upgrade_rerun_starts_from_the_observed_version(void **state)
{
	(void)state;
	/* the plan's path starts at 1.28.9 but the platform runs 1.29.4 now (a
	 * crash after the first hop): the path is computed again from the
	 * catalog, and the hop already done is not repeated */
	on("GET", "/v1/kubernetes-versions", NULL, 200,
	   "{\"items\":[{\"version\":\"1.28.9\",\"active\":false,\"upgradeFrom\":[]},"
	   "{\"version\":\"1.29.4\",\"active\":true,\"upgradeFrom\":[\"1.28.9\"]},"
	   "{\"version\":\"1.30.2\",\"active\":true,\"upgradeFrom\":[\"1.29.4\"]}],"
	   "\"nextCursor\":null}",
	   0);
	on("POST", UP_PATH, NULL, 202,
	   "{\"workspace\":" WS_KUBE ",\"task\":" TASK("u3", "upgrade", "succeeded") "}", 0);
	on("GET", WS_PATH "/payments-prod", NULL, 200, WS_KUBE, 0);
	fixture_steps steps = {.n = 0};
	wsr_resource *got;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(run_upgrade(AT("1.29.4"), PATH_3, &got, &steps, &d), 0);
	assert_int_equal(steps.n, 0);
	assert_string_equal(version_of(got), "1.30.2");
	assert_int_equal(fk.requests, 3);
	assert_string_equal(fk.log[0].path, "/v1/kubernetes-versions");
	assert_string_equal(fk.log[1].body, "{\"version\":\"1.30.2\"}");
	wsr_resource_free(got);
	wsr_diag_free(&d);
}

static void test_upgrade_failed_hop_is_named(void **state)
{
	(void)state;
	on("POST", UP_PATH, NULL, 202,
	   "{\"workspace\":" WS_KUBE ",\"task\":" TASK("u1", "upgrade", "succeeded") "}", 1);
	on("POST", UP_PATH, NULL, 202, ACCEPTED(WS_KUBE, "u2", "upgrade"), 1);
	on("GET", "/v1/tasks/u2", NULL, 200,
	   FAILED_TASK("u2", "upgrade", "upgrade_failed", "etcd did not come back"), 0);
	on("GET", WS_PATH "/payments-prod", NULL, 200, WS_KUBE_AT("1.29.4", "payments", "active"),
	   0);
	fixture_steps steps = {.n = 0};
	wsr_resource *got;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(run_upgrade(AT("1.28.9"), PATH_3, &got, &steps, &d), WSR_EAPI);
	assert_null(got);
	assert_int_equal(steps.n, 1); /* the first hop is recorded all the same */
	assert_diag_has(&d, "upgrade 1.29.4 → 1.30.2 failed: etcd did not come back");
	assert_diag_has(&d, "upgrade_failed");
	fixture_steps_free(&steps);
	wsr_diag_free(&d);
}

/* One hostile or refusing answer to an upgrade from 1.28.9 planned along
 * extra: the error names it. */
static void expect_upgrade_error(const char *extra, const char *post_body, unsigned status,
				 const char *ws_after, const char *needle)
{
	on("POST", UP_PATH, NULL, status, post_body, 0);
	on("GET", "/v1/tasks/u1", NULL, 200, TASK("u1", "upgrade", "succeeded"), 0);
	on("GET", WS_PATH "/payments-prod", NULL, 200, ws_after, 0);
	fixture_steps steps = {.n = 0};
	wsr_resource *got;
	wsr_diag d = WSR_DIAG_INIT;
	assert_true(run_upgrade(AT("1.28.9"), extra, &got, &steps, &d) < 0);
	assert_null(got);
	assert_int_equal(steps.n, 0);
	assert_diag_has(&d, needle);
	wsr_diag_free(&d);
	fake_reset();
}

static void test_upgrade_hostile_answers(void **state)
{
	(void)state;
	const char *ok = ACCEPTED(WS_KUBE, "u1", "upgrade");
	expect_upgrade_error(PATH_3, "{\"workspace\":{}}", 202, WS_KUBE, "must carry task.id");
	expect_upgrade_error(PATH_3, "not json", 202, WS_KUBE, "not JSON");
	expect_upgrade_error(PATH_3,
			     "{\"error\":{\"code\":\"upgrade_not_allowed\",\"message\":\"1.30.2 "
			     "cannot be reached from 1.28.9; eligible: 1.29.4\"}}",
			     422, WS_KUBE,
			     "the platform refused the upgrade 1.28.9 → 1.29.4: 1.30.2");
	expect_upgrade_error(PATH_3,
			     "{\"error\":{\"code\":\"conflict\",\"message\":\"workspace is "
			     "upgrading\"}}",
			     409, WS_KUBE, "HTTP 409, code conflict");
	/* the task says succeeded, the workspace says otherwise */
	expect_upgrade_error(PATH_3, ok, 202, AT("1.28.9"),
			     "the workspace's kubernetes.version is 1.28.9, not 1.29.4");
	char *bad = strdup(WS_KUBE), *v = strstr(bad, "\"1.30.2\"");
	memcpy(v, "1.302e0 ", 8);
	expect_upgrade_error(PATH_3, ok, 202, bad, "field kubernetes.version is not a string");
	free(bad);
	/* a plan path that is not one (not strings) is not trusted, and the
	 * catalog has no path either: nothing is posted */
	on("GET", "/v1/kubernetes-versions", NULL, 200,
	   "{\"items\":[{\"version\":\"1.30.2\",\"active\":true,\"upgradeFrom\":[]}],"
	   "\"nextCursor\":null}",
	   0);
	wsr_resource *got;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(run_upgrade(AT("1.28.9"), "{\"upgradePath\":[\"1.28.9\",7,\"1.30.2\"]}",
				     &got, NULL, &d),
			 WSR_EAPI);
	assert_diag_has(&d, "no upgrade path leads from Kubernetes 1.28.9 to 1.30.2");
	assert_int_equal(fk.requests, 1);
	assert_string_equal(fk.log[0].path, "/v1/kubernetes-versions");
	wsr_diag_free(&d);
}

static int run_transfer(const char *to, wsr_resource **got, wsr_diag *d)
{
	wsr_provider *p = open_provider();
	wsr_resource *have = observed_ws(WS_KUBE), *want = observed_ws(WS_KUBE);
	cJSON_ReplaceItemInObject(want->spec, "project", cJSON_CreateString(to));
	const char *fields[] = {"project", NULL};
	wsr_change *c = change("payments-prod", WSR_ACT_TRANSFER, want, have, fields);
	int polls;
	int rc = run_op(p, c, WSR_ACT_TRANSFER, got, &polls, d);
	wsr_change_free(c);
	wsr_resource_free(want);
	wsr_resource_free(have);
	ops->close(p);
	return rc;
}

#define TR_PATH WS_PATH "/payments-prod/transfer"

static void test_transfer_posts_then_waits_for_the_task(void **state)
{
	(void)state;
	on("POST", TR_PATH, NULL, 202,
	   ACCEPTED(WS_KUBE_AT("1.30.2", "sandbox", "transferring"), "t1", "transfer"), 0);
	on("GET", "/v1/tasks/t1", NULL, 200, TASK("t1", "transfer", "running"), 1);
	on("GET", "/v1/tasks/t1", NULL, 200, TASK("t1", "transfer", "succeeded"), 0);
	on("GET", WS_PATH "/payments-prod", NULL, 200, WS_KUBE_AT("1.30.2", "sandbox", "active"),
	   0);
	wsr_resource *got;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(run_transfer("sandbox", &got, &d), 0);
	assert_string_equal(wsr_json_str(got->spec, "project"), "sandbox");
	assert_string_equal(wsr_json_str(got->status, "state"), "active");
	assert_string_equal(fk.log[0].body, "{\"project\":\"sandbox\"}");
	assert_int_equal(fk.requests, 4);
	wsr_resource_free(got);

	/* already there (a re-run): nothing is sent */
	fk.requests = 0;
	assert_int_equal(run_transfer("payments", &got, &d), 0);
	assert_int_equal(fk.requests, 0);
	assert_string_equal(wsr_json_str(got->spec, "project"), "payments");
	wsr_resource_free(got);
	assert_int_equal(wsr_diag_errors(&d), 0);
	wsr_diag_free(&d);
}

static void expect_transfer_error(const char *post_body, unsigned status, const char *task,
				  const char *ws_after, const char *needle)
{
	on("POST", TR_PATH, NULL, status, post_body, 0);
	on("GET", "/v1/tasks/t1", NULL, 200, task, 0);
	on("GET", WS_PATH "/payments-prod", NULL, 200, ws_after, 0);
	wsr_resource *got;
	wsr_diag d = WSR_DIAG_INIT;
	assert_true(run_transfer("sandbox", &got, &d) < 0);
	assert_null(got);
	assert_diag_has(&d, needle);
	wsr_diag_free(&d);
	fake_reset();
}

static void test_transfer_failures_and_hostile_answers(void **state)
{
	(void)state;
	const char *ok = ACCEPTED(WS_KUBE, "t1", "transfer");
	const char *done = TASK("t1", "transfer", "succeeded");
	const char *moved = WS_KUBE_AT("1.30.2", "sandbox", "active");
	expect_transfer_error(ok, 202,
			      FAILED_TASK("t1", "transfer", "transfer_failed", "quota exceeded"),
			      moved, "transfer to project sandbox failed: quota exceeded");
	expect_transfer_error("{\"error\":{\"code\":\"permission_denied\",\"message\":\"missing "
			      "permission workspace:transfer on project payments\"}}",
			      403, done, moved,
			      "the platform refused to transfer the workspace to project sandbox: "
			      "missing permission workspace:transfer");
	expect_transfer_error(ok, 202, done, WS_KUBE,
			      "the workspace's project is payments, not sandbox");
	expect_transfer_error(ok, 202, "{\"id\":\"t1\",\"state\":7}", moved,
			      "task.state is not a string");
	expect_transfer_error("{\"task\":[]}", 202, done, moved, "must carry task.id");
}

/* ---- read and profiles ----------------------------------------------------------- */

static void test_read_one_workspace(void **state)
{
	(void)state;
	on("GET", WS_PATH "/payments-prod", NULL, 200, WS_KUBE, 1);
	on("GET", WS_PATH "/gone", NULL, 404,
	   "{\"error\":{\"code\":\"not_found\",\"message\":\"no\"}}", 0);
	on("GET", WS_PATH "/secret", NULL, 403,
	   "{\"error\":{\"code\":\"permission_denied\",\"message\":\"missing permission "
	   "workspace:read on project payments\"}}",
	   0);
	on("GET", WS_PATH "/other", NULL, 200, WS_KUBE, 0);
	on("GET", WS_PATH "/broken", NULL, 200, "{\"id\":\"x\",\"name\":\"broken\"}", 0);
	on("GET", WS_PATH "/nulls", NULL, 200, "null", 0);
	wsr_provider *p = open_provider();
	wsr_diag d = WSR_DIAG_INIT;
	wsr_resource *r;
	assert_int_equal(ops->read(p, "loopback/acme/payments-prod", &r, &d), 0);
	assert_non_null(r);
	assert_string_equal(r->id, "ws-1");
	assert_string_equal(wsr_json_str(r->status, "state"), "active");
	assert_string_equal(version_of(r), "1.30.2");
	wsr_resource_free(r);
	assert_int_equal(ops->read(p, "loopback/acme/gone", &r, &d), 0);
	assert_null(r);
	assert_int_equal(wsr_diag_errors(&d), 0);

	assert_int_equal(ops->read(p, "loopback/acme/secret", &r, &d), WSR_EAPI);
	assert_null(r);
	assert_diag_has(&d, "missing permission workspace:read on project payments");
	assert_int_equal(ops->read(p, "loopback/acme/other", &r, &d), WSR_EAPI);
	assert_diag_has(&d, "the platform answered with another workspace");
	assert_int_equal(ops->read(p, "loopback/acme/broken", &r, &d), WSR_EAPI);
	assert_diag_has(&d, "string fields id, name and organization");
	assert_int_equal(ops->read(p, "loopback/acme/nulls", &r, &d), WSR_EAPI);
	assert_int_equal(ops->read(p, "kcp/root:org", &r, &d), WSR_EINVAL);
	assert_diag_has(&d, "not a loopback address");
	assert_null(r);
	wsr_diag_free(&d);
	ops->close(p);
}

#define PROFILE(name, cp, avail, reason, hourly, source)                                           \
	"{\"name\":\"" name "\",\"computeProvider\":\"" cp "\",\"serverType\":\"" name "\","       \
	"\"cpu\":4,\"memoryGiB\":8,\"available\":" avail ",\"unavailableReason\":" reason ","      \
	"\"prices\":{\"currency\":\"EUR\",\"setup\":\"0.00\",\"hourly\":" hourly                   \
	",\"monthly\":\"7.49\"},\"priceSource\":\"" source "\"}"
#define PROF_PATH WS_PATH "/payments-prod/compute-profiles"

static void test_profiles_all_pages_in_documented_shape(void **state)
{
	(void)state;
	on("GET", WS_PATH "/payments-prod", NULL, 200, WS_KUBE, 0);
	on("GET", PROF_PATH, "", 200,
	   "{\"items\":[" PROFILE(
	       "cx52", "hetzner_cloud", "false",
	       "\"server type cx52 is in no reachable datacenter (nbg1: "
	       "unreachable)\"",
	       "\"0.0400\"", "list") "," PROFILE("cx32", "hetzner_cloud", "true", "null",
						 "\"0.0100\"", "override") "],"
									   "\"nextCursor\":\"p2\"}",
	   0);
	on("GET", PROF_PATH, "p2", 200,
	   "{\"items\":[" PROFILE("cx22", "hetzner_cloud", "true", "null", "\"0.0060\"",
				  "list") "],\"nextCursor\":null}",
	   0);
	wsr_provider *p = open_provider();
	wsr_diag d = WSR_DIAG_INIT;
	cJSON *out = NULL;
	assert_int_equal(ops->profiles(p, "loopback/acme/payments-prod", &out, &d), 0);
	char *text = cJSON_PrintUnformatted(out);
	assert_string_equal(
	    text,
	    "{\"address\":\"loopback/acme/payments-prod\",\"computeProvider\":\"hetzner_cloud\","
	    "\"profiles\":[{\"name\":\"cx22\",\"serverType\":\"cx22\",\"cpu\":4,\"memoryGiB\":8,"
	    "\"available\":true,\"unavailableReason\":null,\"prices\":{\"currency\":\"EUR\","
	    "\"setup\":\"0.00\",\"hourly\":\"0.0060\",\"monthly\":\"7.49\"},\"priceSource\":"
	    "\"list\"},"
	    "{\"name\":\"cx32\",\"serverType\":\"cx32\",\"cpu\":4,\"memoryGiB\":8,"
	    "\"available\":true,\"unavailableReason\":null,\"prices\":{\"currency\":\"EUR\","
	    "\"setup\":\"0.00\",\"hourly\":\"0.0100\",\"monthly\":\"7.49\"},\"priceSource\":"
	    "\"override\"},"
	    "{\"name\":\"cx52\",\"serverType\":\"cx52\",\"cpu\":4,\"memoryGiB\":8,"
	    "\"available\":false,\"unavailableReason\":\"server type cx52 is in no reachable "
	    "datacenter (nbg1: unreachable)\",\"prices\":{\"currency\":\"EUR\","
	    "\"setup\":\"0.00\",\"hourly\":\"0.0400\",\"monthly\":\"7.49\"},\"priceSource\":"
	    "\"list\"}]}");
	free(text);
	cJSON_Delete(out);
	for (unsigned i = 1; i < fk.requests; i++)
		assert_string_equal(fk.log[i].limit, "500");
	assert_int_equal(fk.requests, 3);
	wsr_diag_free(&d);
	ops->close(p);
}

static void expect_profiles_error(const char *ws_status_body, unsigned ws_status, const char *items,
				  const char *needle)
{
	on("GET", WS_PATH "/payments-prod", NULL, ws_status, ws_status_body, 0);
	on("GET", PROF_PATH, NULL, 200, items, 0);
	wsr_provider *p = open_provider();
	wsr_diag d = WSR_DIAG_INIT;
	cJSON *out = NULL;
	assert_true(ops->profiles(p, "loopback/acme/payments-prod", &out, &d) < 0);
	assert_null(out);
	assert_diag_has(&d, needle);
	wsr_diag_free(&d);
	ops->close(p);
	fake_reset();
}

#define ONE(item) "{\"items\":[" item "],\"nextCursor\":null}"

static void test_profiles_hostile_answers(void **state)
{
	(void)state;
#define CX32(cp, avail, reason, hourly, source)                                                    \
	ONE(PROFILE("cx32", cp, avail, reason, hourly, source))
	static const struct {
		const char *items, *needle;
	} cases[] = {
	    {ONE("42"), "a compute profile must be an object"},
	    {CX32("hetzner_cloud", "true", "null", "0.01", "list"),
	     "compute profile cx32: field prices.hourly is not a string"},
	    {CX32("hetzner_cloud", "true", "null", "\"1,5\"", "list"),
	     "compute profile cx32: field prices.hourly is not a decimal string"},
	    {CX32("hetzner_cloud", "true", "null", "\"-1\"", "list"),
	     "field prices.hourly is not a decimal string"},
	    {CX32("hetzner_cloud", "\"yes\"", "null", "\"1\"", "list"),
	     "compute profile cx32: field available is not a boolean"},
	    {CX32("hetzner_cloud", "true", "5", "\"1\"", "list"),
	     "field unavailableReason is not a string"},
	    {CX32("ionos_dcd", "true", "null", "\"1\"", "list"),
	     "field computeProvider is \"ionos_dcd\", not the workspace's hetzner_cloud"},
	    {CX32("hetzner_cloud", "true", "null", "\"1\"", "cheap"),
	     "field priceSource is \"cheap\", not list or override"},
	    {ONE("{\"name\":\"cx32\",\"computeProvider\":\"hetzner_cloud\"}"),
	     "compute profile cx32: field serverType is missing"},
	    {ONE(PROFILE("cx32", "hetzner_cloud", "true", "null", "\"1\"", "list") "," PROFILE(
		 "cx32", "hetzner_cloud", "true", "null", "\"2\"", "list")),
	     "compute profile cx32 is listed twice"},
	    {"{\"items\":7}", "documented shape"},
	};
#undef CX32
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_profiles_error(WS_KUBE, 200, cases[i].items, cases[i].needle);
	/* cpu was cast to an integer; memoryGiB must at least be finite */
	const char *item = PROFILE("cx32", "hetzner_cloud", "true", "null", "\"1\"", "list");
	static const char *const cpus[] = {"1e30", "-1e30", "1e400", "-1", "2.5", "65537"};
	for (size_t i = 0; i < sizeof(cpus) / sizeof(cpus[0]); i++) {
		char *to = wsr_strdupf("\"cpu\":%s", cpus[i]);
		char *bad = swap(item, "\"cpu\":4", to);
		char *items = wsr_strdupf("{\"items\":[%s],\"nextCursor\":null}", bad);
		expect_profiles_error(
		    WS_KUBE, 200, items,
		    "compute profile cx32: field cpu is not a whole number from 0 to 65536");
		free(items);
		free(bad);
		free(to);
	}
	char *bad = swap(item, "\"memoryGiB\":8", "\"memoryGiB\":1e400");
	char *items = wsr_strdupf("{\"items\":[%s],\"nextCursor\":null}", bad);
	expect_profiles_error(WS_KUBE, 200, items,
			      "compute profile cx32: field memoryGiB is not a finite number");
	free(items);
	free(bad);
	expect_profiles_error("{\"error\":{\"code\":\"not_found\",\"message\":\"no\"}}", 404,
			      ONE(""), "the platform has no workspace loopback/acme/payments-prod");
}

/* ---- plan-time checks -------------------------------------------------------- */

#define ADMIN                                                                                      \
	"{\"organization\":\"acme\",\"role\":\"admin\",\"projects\":null,\"permissions\":["        \
	"\"workspace:read\",\"workspace:create\",\"workspace:update\",\"workspace:delete\","       \
	"\"maintenance:update\"]}"
#define VIEWER                                                                                     \
	"{\"organization\":\"acme\",\"role\":\"viewer\",\"projects\":null,\"permissions\":["       \
	"\"workspace:read\"]}"
#define LIMITED                                                                                    \
	"{\"organization\":\"acme\",\"role\":\"member\",\"projects\":[\"sandbox\"],"               \
	"\"permissions\":[\"workspace:read\",\"workspace:create\",\"workspace:update\","           \
	"\"workspace:delete\"]}"

#define CATALOG                                                                                    \
	"{\"items\":[{\"version\":\"1.28.9\",\"active\":false,\"upgradeFrom\":[]},"                \
	"{\"version\":\"1.29.4\",\"active\":true,\"upgradeFrom\":[\"1.28.9\"]},"                   \
	"{\"version\":\"1.30.2\",\"active\":true,\"upgradeFrom\":[\"1.29.4\"]}],\"nextCursor\":"   \
	"null}"

static void facts_with(const char *principal, int with_root, const char *catalog);

static void platform_facts(const char *principal, int with_root)
{
	facts_with(principal, with_root, CATALOG);
}

static void facts_with(const char *principal, int with_root, const char *catalog)
{
	on("GET", "/v1/principal", NULL, 200, principal, 0);
	on("GET", "/v1/organizations", NULL, 200,
	   "{\"items\":[{\"name\":\"acme\",\"verified\":true,\"state\":\"active\",\"projects\":["
	   "\"payments\",\"sandbox\"]},"
	   "{\"name\":\"shady\",\"verified\":false,\"state\":\"active\",\"projects\":[\"x\"]},"
	   "{\"name\":\"frozen\",\"verified\":true,\"state\":\"suspended\",\"projects\":[\"y\"]}],"
	   "\"nextCursor\":null}",
	   0);
	on("GET", "/v1/kubernetes-versions", NULL, 200, catalog, 0);
	on("GET", "/v1/management-clusters", NULL, 200,
	   with_root ? "{\"items\":[{\"name\":\"kamaji-fsn1\",\"type\":\"kamaji\",\"active\":true,"
		       "\"computeProvider\":\"hetzner_cloud\"},"
		       "{\"name\":\"kamaji-old\",\"type\":\"kamaji\",\"active\":false,"
		       "\"computeProvider\":\"ionos_dcd\"},"
		       "{\"name\":\"root-1\",\"type\":\"root\",\"active\":true,\"computeProvider\":"
		       "null}],\"nextCursor\":null}"
		     : "{\"items\":[{\"name\":\"kamaji-fsn1\",\"type\":\"kamaji\",\"active\":true,"
		       "\"computeProvider\":\"hetzner_cloud\"}],\"nextCursor\":null}",
	   0);
}

/* Checks one change of spec (org, project, kubernetes block, extra fields)
 * and returns the diagnostics' text; *errors gets their count. */
static char *check_spec(wsr_provider *p, wsr_action a, const char *org, const char *project,
			const char *extra, const char *const *fields, size_t *errors)
{
	char *spec =
	    wsr_strdupf("{\"organization\":\"%s\",\"project\":\"%s\",\"type\":\"kubernetes\"%s}",
			org, project, extra);
	wsr_resource *want = resource("w", spec);
	wsr_change *c = change("w", a, a == WSR_ACT_DELETE ? NULL : want, want, fields);
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(ops->check(p, c, &d), 0);
	*errors = wsr_diag_errors(&d);
	for (size_t i = 0; i < d.n; i++)
		assert_string_equal(d.v[i].address, "loopback/acme/w");
	char *t = diag_text(&d);
	wsr_diag_free(&d);
	wsr_change_free(c);
	wsr_resource_free(want);
	free(spec);
	return t;
}

#define K(v, extra)                                                                                \
	",\"kubernetes\":{\"version\":\"" v "\",\"computeProvider\":\"hetzner_cloud\"" extra "}"

static void expect_refusal(wsr_provider *p, wsr_action a, const char *org, const char *project,
			   const char *extra, size_t want_errors, const char *needle)
{
	size_t n;
	char *t = check_spec(p, a, org, project, extra, NULL, &n);
	if (n != want_errors || (needle && !strstr(t, needle)))
		fail_msg("check of %s/%s %s: %zu errors, wanted %zu with \"%s\":\n%s", org, project,
			 extra, n, want_errors, needle ? needle : "", t);
	free(t);
}

static void test_check_create_refusals(void **state)
{
	(void)state;
	platform_facts(ADMIN, 1);
	wsr_provider *p = open_provider();
	expect_refusal(p, WSR_ACT_CREATE, "acme", "payments", K("1.30.2", ""), 0, NULL);
	expect_refusal(p, WSR_ACT_CREATE, "globex", "payments", K("1.30.2", ""), 1,
		       "organization globex is not visible to this API key");
	expect_refusal(
	    p, WSR_ACT_CREATE, "shady", "x", K("1.30.2", ""), 1,
	    "organization shady is not verified: the platform refuses to create workspaces in it");
	expect_refusal(p, WSR_ACT_CREATE, "frozen", "y", K("1.30.2", ""), 1,
		       "organization frozen is suspended");
	expect_refusal(p, WSR_ACT_CREATE, "acme", "nope", K("1.30.2", ""), 1,
		       "project nope does not exist in organization acme | projects of the "
		       "organization: payments, sandbox");
	expect_refusal(p, WSR_ACT_CREATE, "acme", "payments", K("1.27.0", ""), 1,
		       "Kubernetes version 1.27.0 is not in the platform's catalog | active "
		       "versions: 1.29.4, 1.30.2");
	expect_refusal(p, WSR_ACT_CREATE, "acme", "payments", K("1.28.9", ""), 1,
		       "Kubernetes version 1.28.9 is no longer offered (inactive)");
	expect_refusal(
	    p, WSR_ACT_CREATE, "acme", "payments",
	    ",\"kubernetes\":{\"version\":\"1.30.2\",\"computeProvider\":\"ionos_dcd\"}", 1,
	    "no active Kamaji management cluster offers compute provider ionos_dcd | management "
	    "clusters: kamaji-fsn1 (kamaji, hetzner_cloud, active), kamaji-old (kamaji, ionos_dcd, "
	    "inactive), root-1 (root, active)");
	expect_refusal(p, WSR_ACT_CREATE, "acme", "payments",
		       K("1.30.2", ",\"managementCluster\":\"kamaji-fsn1\""), 0, NULL);
	expect_refusal(p, WSR_ACT_CREATE, "acme", "payments",
		       K("1.30.2", ",\"managementCluster\":\"nope\""), 1,
		       "management cluster nope does not exist");
	expect_refusal(p, WSR_ACT_CREATE, "acme", "payments",
		       K("1.30.2", ",\"managementCluster\":\"kamaji-old\""), 1,
		       "management cluster kamaji-old is not active");
	expect_refusal(p, WSR_ACT_CREATE, "acme", "payments",
		       K("1.30.2", ",\"managementCluster\":\"root-1\""), 1,
		       "management cluster root-1 is not a Kamaji cluster");
	expect_refusal(p, WSR_ACT_CREATE, "acme", "payments",
		       ",\"kubernetes\":{\"version\":\"1.30.2\",\"computeProvider\":\"ionos_dcd\","
		       "\"managementCluster\":\"kamaji-fsn1\"}",
		       1, "management cluster kamaji-fsn1 is bound to another compute provider");
	expect_refusal(p, WSR_ACT_CREATE, "acme", "payments",
		       ",\"kind\":\"cluster\"" K("1.30.2", ""), 0, NULL);
	/* several refusals at once are all reported */
	expect_refusal(p, WSR_ACT_CREATE, "shady", "nope",
		       K("1.28.9", ",\"managementCluster\":\"nope\""), 4, NULL);
	/* the facts were fetched once for all of these */
	assert_int_equal(fk.requests, 4);
	ops->close(p);
}

static void test_check_cluster_workspace_needs_root(void **state)
{
	(void)state;
	platform_facts(ADMIN, 0);
	wsr_provider *p = open_provider();
	expect_refusal(p, WSR_ACT_CREATE, "acme", "payments",
		       ",\"kind\":\"cluster\"" K("1.30.2", ""), 1,
		       "no active root management cluster can host a cluster workspace");
	ops->close(p);
}

static void test_check_permissions(void **state)
{
	(void)state;
	platform_facts(VIEWER, 1);
	wsr_provider *p = open_provider();
	expect_refusal(p, WSR_ACT_CREATE, "acme", "payments", K("1.30.2", ""), 1,
		       "the API key lacks permission workspace:create, which creating a workspace "
		       "needs | the key's role viewer grants: workspace:read");
	expect_refusal(p, WSR_ACT_DELETE, "acme", "payments", K("1.30.2", ""), 1,
		       "the API key lacks permission workspace:delete");
	size_t n;
	const char *maint[] = {"maintenance.enabled", NULL};
	char *t = check_spec(p, WSR_ACT_UPDATE, "acme", "payments", K("1.30.2", ""), maint, &n);
	assert_int_equal(n, 2);
	assert_non_null(strstr(t, "workspace:update"));
	assert_non_null(strstr(t, "maintenance:update"));
	free(t);
	const char *meta[] = {"metadata.a", NULL};
	t = check_spec(p, WSR_ACT_UPDATE, "acme", "payments", K("1.30.2", ""), meta, &n);
	assert_int_equal(n, 1);
	assert_null(strstr(t, "maintenance:update"));
	free(t);
	ops->close(p);

	fk.requests = 0;
	fk.nroutes = 0;
	platform_facts(LIMITED, 1);
	p = open_provider();
	expect_refusal(p, WSR_ACT_CREATE, "acme", "sandbox", K("1.30.2", ""), 0, NULL);
	expect_refusal(
	    p, WSR_ACT_CREATE, "acme", "payments", K("1.30.2", ""), 1,
	    "the API key is limited to other projects and cannot act in project payments | the key "
	    "may act only in: sandbox");
	/* member keys lack maintenance:update in this fake: said at plan time */
	t = check_spec(p, WSR_ACT_UPDATE, "acme", "sandbox", K("1.30.2", ""), maint, &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(t, "maintenance:update"));
	free(t);
	ops->close(p);
}

static void test_check_when_platform_unreachable(void **state)
{
	(void)state;
	on("GET", "/v1/principal", NULL, 401,
	   "{\"error\":{\"code\":\"unauthenticated\",\"message\":\"unknown API key\"}}", 0);
	wsr_provider *p = open_provider();
	wsr_resource *want = resource("w", SPEC_KUBE);
	wsr_change *c = change("w", WSR_ACT_CREATE, want, NULL, NULL);
	wsr_diag d = WSR_DIAG_INIT;
	assert_true(ops->check(p, c, &d) < 0);
	assert_diag_has(&d, "unknown API key");
	assert_diag_has(&d, "check the API key in WSR_TEST_KEY");
	/* a second change does not ask again */
	assert_true(ops->check(p, c, &d) < 0);
	assert_int_equal(fk.requests, 1);
	wsr_diag_free(&d);
	wsr_change_free(c);
	wsr_resource_free(want);
	ops->close(p);
}

/* ---- plan-time checks of day two ------------------------------------------------- */

/* Every permission, the role admin. */
#define ADMIN_ALL                                                                                  \
	"{\"organization\":\"acme\",\"role\":\"admin\",\"projects\":null,\"permissions\":["        \
	"\"workspace:read\",\"workspace:create\",\"workspace:update\",\"workspace:delete\","       \
	"\"workspace:transfer\",\"kubernetes:upgrade\",\"maintenance:update\","                    \
	"\"kubeconfig:admin\",\"kubeconfig:oidc\"]}"
#define MEMBER                                                                                     \
	"{\"organization\":\"acme\",\"role\":\"member\",\"projects\":null,\"permissions\":["       \
	"\"workspace:read\",\"workspace:create\",\"workspace:update\",\"workspace:delete\","       \
	"\"maintenance:update\",\"kubernetes:upgrade\",\"kubeconfig:oidc\"]}"
#define MEMBER_NO_UPGRADE                                                                          \
	"{\"organization\":\"acme\",\"role\":\"member\",\"projects\":null,\"permissions\":["       \
	"\"workspace:read\",\"workspace:update\"]}"
/* limited to sandbox, with explicit transfer and upgrade permissions */
#define SANDBOX_MOVER                                                                              \
	"{\"organization\":\"acme\",\"role\":\"member\",\"projects\":[\"sandbox\"],"               \
	"\"permissions\":[\"workspace:read\",\"workspace:update\",\"workspace:transfer\","         \
	"\"kubernetes:upgrade\"]}"

/* 1.31.1 is two hops from 1.29.4 through 1.30.2 or 1.30.5 (the lower wins);
 * 1.27.0 claims an upgrade from 1.31.1, backwards; 1.33.0 is unreachable. */
#define CATALOG_DAY2                                                                               \
	"{\"items\":[{\"version\":\"1.28.9\",\"active\":false,\"upgradeFrom\":[]},"                \
	"{\"version\":\"1.29.4\",\"active\":true,\"upgradeFrom\":[\"1.28.9\"]},"                   \
	"{\"version\":\"1.30.5\",\"active\":true,\"upgradeFrom\":[\"1.29.4\"]},"                   \
	"{\"version\":\"1.30.2\",\"active\":true,\"upgradeFrom\":[\"1.29.4\"]},"                   \
	"{\"version\":\"1.31.1\",\"active\":true,\"upgradeFrom\":[\"1.30.5\",\"1.30.2\"]},"        \
	"{\"version\":\"1.32.0\",\"active\":false,\"upgradeFrom\":[\"1.31.1\"]},"                  \
	"{\"version\":\"1.27.0\",\"active\":true,\"upgradeFrom\":[\"1.31.1\"]},"                   \
	"{\"version\":\"1.33.0\",\"active\":true,\"upgradeFrom\":[]},"                             \
	"{\"version\":\"1.9.9\",\"active\":true,\"upgradeFrom\":[]},"                              \
	"{\"version\":\"1.10.0\",\"active\":true,\"upgradeFrom\":[\"1.9.9\"]}],"                   \
	"\"nextCursor\":null}"

#define SPEC_AT(v, project)                                                                        \
	"{\"organization\":\"acme\",\"project\":\"" project "\",\"type\":\"kubernetes\","          \
	"\"kubernetes\":{\"version\":\"" v "\"}}"

#define END_ACTIONS (-1)

typedef fixture_checked checked;
#define checked_free fixture_checked_free

/* Checks a change of the observed workspace ws (the platform's answer) to
 * want_spec (NULL for a deletion), with the actions (ending in END_ACTIONS). */
static checked check_change(wsr_provider *p, const char *ws, const char *want_spec,
			    const int *actions, const char *const *fields)
{
	wsr_resource *have = observed_ws(ws);
	wsr_resource *want = want_spec ? resource(have->name, want_spec) : NULL;
	wsr_change *c = fixture_change(have->address, (wsr_action)actions[0], want, have, fields);
	for (int i = 1; actions[i] != END_ACTIONS; i++)
		c->actions[c->nactions++] = (wsr_action)actions[i];
	checked k = fixture_check(ops, p, c);
	wsr_change_free(c);
	wsr_resource_free(want);
	wsr_resource_free(have);
	return k;
}

static const int UPGRADE[] = {WSR_ACT_UPGRADE, END_ACTIONS};
static const int TRANSFER[] = {WSR_ACT_TRANSFER, END_ACTIONS};
static const int DELETE[] = {WSR_ACT_DELETE, END_ACTIONS};

/* check of one change: want_errors errors, and needle in the diagnostics. */
static void expect_checked(wsr_provider *p, const char *ws, const char *want_spec, const int *acts,
			   size_t want_errors, const char *needle)
{
	checked k = check_change(p, ws, want_spec, acts, NULL);
	if (k.errors != want_errors || (needle && !strstr(k.text, needle)))
		fail_msg("check to %s: %zu errors, wanted %zu with \"%s\":\n%s", want_spec,
			 k.errors, want_errors, needle ? needle : "", k.text);
	checked_free(&k);
}

static void expect_upgrade_path(wsr_provider *p, const char *ws, const char *want_spec,
				const char *extra, const char *reason)
{
	checked k = check_change(p, ws, want_spec, UPGRADE, NULL);
	if (k.errors)
		fail_msg("upgrade to %s refused:\n%s", want_spec, k.text);
	assert_non_null(k.extra);
	assert_string_equal(k.extra, extra);
	assert_non_null(strstr(k.reasons, reason));
	checked_free(&k);
}

static void test_check_upgrade_computes_the_path(void **state)
{
	(void)state;
	facts_with(ADMIN_ALL, 1, CATALOG_DAY2);
	wsr_provider *p = open_provider();
	/* shortest, and of the equally short ones through the lowest version */
	expect_upgrade_path(p, AT("1.28.9"), SPEC_AT("1.31.1", "payments"),
			    "{\"upgradePath\":[\"1.28.9\",\"1.29.4\",\"1.30.2\",\"1.31.1\"]}",
			    "Kubernetes upgrade 1.28.9 → 1.29.4 → 1.30.2 → 1.31.1 (3 hops, "
			    "disruptive)\n");
	expect_upgrade_path(p, AT("1.29.4"), SPEC_AT("1.30.2", "payments"),
			    "{\"upgradePath\":[\"1.29.4\",\"1.30.2\"]}",
			    "Kubernetes upgrade 1.29.4 → 1.30.2 (1 hop, disruptive)\n");
	/* versions compare part by part: 1.10.0 is newer than 1.9.9 */
	expect_upgrade_path(p, AT("1.9.9"), SPEC_AT("1.10.0", "payments"),
			    "{\"upgradePath\":[\"1.9.9\",\"1.10.0\"]}", "(1 hop, disruptive)");
	assert_int_equal(fk.requests, 4); /* the facts, once */
	ops->close(p);
}

static void test_check_upgrade_refusals(void **state)
{
	(void)state;
	facts_with(ADMIN_ALL, 1, CATALOG_DAY2);
	wsr_provider *p = open_provider();
	const char *reach = "versions reachable from 1.29.4: 1.30.2, 1.30.5, 1.31.1";
	expect_checked(p, AT("1.30.2"), SPEC_AT("1.29.4", "payments"), UPGRADE, 1,
		       "upgrades are forward-only: Kubernetes 1.29.4 is not newer than the running "
		       "1.30.2 | versions reachable from 1.30.2: 1.31.1");
	/* 1.27.0 lists 1.31.1, but going there would be backwards */
	expect_checked(p, AT("1.31.1"), SPEC_AT("1.27.0", "payments"), UPGRADE, 1,
		       "not newer than the running 1.31.1 | versions reachable from 1.31.1: none");
	expect_checked(p, AT("1.29.4"), SPEC_AT("1.99.0", "payments"), UPGRADE, 1,
		       "Kubernetes version 1.99.0 is not in the platform's catalog");
	expect_checked(p, AT("1.29.4"), SPEC_AT("1.99.0", "payments"), UPGRADE, 1, reach);
	expect_checked(p, AT("1.29.4"), SPEC_AT("1.32.0", "payments"), UPGRADE, 1,
		       "Kubernetes version 1.32.0 is no longer offered (inactive): the platform "
		       "refuses to upgrade to it");
	expect_checked(p, AT("1.29.4"), SPEC_AT("1.33.0", "payments"), UPGRADE, 1,
		       "no upgrade path leads from Kubernetes 1.29.4 to 1.33.0 | "
		       "versions reachable from 1.29.4: 1.30.2, 1.30.5, 1.31.1");
	expect_checked(p, WS_BARE("b1"), SPEC_AT("1.30.2", "sandbox"), UPGRADE, 1,
		       "the workspace is baremetal: it has no Kubernetes version to upgrade");
	expect_checked(
	    p, WS_KUBE_AT("1.29.4", "payments", "upgrading"), SPEC_AT("1.30.2", "payments"),
	    UPGRADE, 1,
	    "the workspace is upgrading, not active: the platform refuses an upgrade until "
	    "it is active");
	/* a refused upgrade carries no path */
	checked k = check_change(p, AT("1.29.4"), SPEC_AT("1.33.0", "payments"), UPGRADE, NULL);
	assert_null(k.extra);
	checked_free(&k);
	ops->close(p);
}

static void test_check_upgrade_permissions(void **state)
{
	(void)state;
	facts_with(MEMBER_NO_UPGRADE, 1, CATALOG_DAY2);
	wsr_provider *p = open_provider();
	expect_checked(
	    p, AT("1.29.4"), SPEC_AT("1.30.2", "payments"), UPGRADE, 1,
	    "the API key lacks permission kubernetes:upgrade, which upgrading Kubernetes "
	    "needs | the key's role member grants: workspace:read, workspace:update");
	ops->close(p);
	fk.nroutes = 0;
	facts_with(SANDBOX_MOVER, 1, CATALOG_DAY2);
	p = open_provider();
	expect_checked(
	    p, AT("1.29.4"), SPEC_AT("1.30.2", "payments"), UPGRADE, 1,
	    "the API key is limited to other projects and cannot act in project payments");
	expect_checked(p, WS_KUBE_AT("1.29.4", "sandbox", "active"), SPEC_AT("1.30.2", "sandbox"),
		       UPGRADE, 0, NULL);
	ops->close(p);
}

static void test_check_transfer(void **state)
{
	(void)state;
	platform_facts(ADMIN_ALL, 1);
	wsr_provider *p = open_provider();
	checked k = check_change(p, WS_KUBE, SPEC_AT("1.30.2", "sandbox"), TRANSFER, NULL);
	assert_int_equal(k.errors, 0);
	assert_non_null(k.extra);
	assert_string_equal(k.extra,
			    "{\"verifyAfter\":[\"access on project sandbox: who may now see and "
			    "change the workspace (keys limited to project payments lose it)\","
			    "\"automation that encoded project payments (CI variables, dashboards, "
			    "alerts)\",\"billing: costs are attributed to project sandbox from now "
			    "on\"]}");
	checked_free(&k);
	expect_checked(p, WS_KUBE, SPEC_AT("1.30.2", "nope"), TRANSFER, 1,
		       "project nope does not exist in organization acme: the workspace cannot be "
		       "transferred there | projects of organization: payments, sandbox");
	/* a project of another organization the key sees */
	expect_checked(
	    p, WS_KUBE, SPEC_AT("1.30.2", "x"), TRANSFER, 1,
	    "project x belongs to organization shady and cannot be reached by a transfer "
	    "from organization acme | projects of organization: payments, sandbox");
	expect_checked(
	    p, WS_KUBE_AT("1.30.2", "payments", "transferring"), SPEC_AT("1.30.2", "sandbox"),
	    TRANSFER, 1,
	    "the workspace is transferring, not active: the platform refuses a transfer");
	ops->close(p);

	/* permissions: workspace:transfer, and both projects in the key's reach */
	fk.nroutes = 0;
	platform_facts(ADMIN, 1);
	p = open_provider();
	expect_checked(p, WS_KUBE, SPEC_AT("1.30.2", "sandbox"), TRANSFER, 1,
		       "the API key lacks permission workspace:transfer, which transferring a "
		       "workspace needs");
	ops->close(p);
	fk.nroutes = 0;
	platform_facts(SANDBOX_MOVER, 1);
	p = open_provider();
	expect_checked(p, WS_KUBE, SPEC_AT("1.30.2", "sandbox"), TRANSFER, 1,
		       "cannot act in project payments");
	expect_checked(p, WS_KUBE_AT("1.30.2", "sandbox", "active"), SPEC_AT("1.30.2", "payments"),
		       TRANSFER, 1, "cannot act in project payments");
	ops->close(p);
}

static void test_check_reports_every_missing_permission(void **state)
{
	(void)state;
	platform_facts(VIEWER, 1);
	wsr_provider *p = open_provider();
	static const int all[] = {WSR_ACT_TRANSFER, WSR_ACT_UPGRADE, WSR_ACT_UPDATE, END_ACTIONS};
	const char *fields[] = {"project", "kubernetes.version", "maintenance.priorityHour", NULL};
	checked k = check_change(p, AT("1.29.4"),
				 "{\"organization\":\"acme\",\"project\":\"sandbox\",\"type\":"
				 "\"kubernetes\",\"kubernetes\":{\"version\":\"1.30.2\"},"
				 "\"maintenance\":{\"priorityHour\":5}}",
				 all, fields);
	const char *perms[] = {"workspace:transfer, which transferring a workspace",
			       "kubernetes:upgrade, which upgrading Kubernetes",
			       "workspace:update, which updating a workspace",
			       "maintenance:update, which changing maintenance settings"};
	for (int i = 0; i < 4; i++)
		if (!strstr(k.text, perms[i]))
			fail_msg("no refusal for %s:\n%s", perms[i], k.text);
	assert_int_equal(k.errors, 4);
	checked_free(&k);
	ops->close(p);

	/* a project out of reach is said once, however many actions need it */
	fk.nroutes = 0;
	platform_facts(LIMITED, 1);
	p = open_provider();
	static const int move[] = {WSR_ACT_TRANSFER, WSR_ACT_UPDATE, END_ACTIONS};
	const char *meta[] = {"project", "metadata", NULL};
	k = check_change(p, WS_KUBE_AT("1.30.2", "sandbox", "active"),
			 SPEC_AT("1.30.2", "payments"), move, meta);
	assert_int_equal(k.errors, 2);
	assert_non_null(strstr(k.text, "lacks permission workspace:transfer"));
	assert_non_null(strstr(k.text, "cannot act in project payments"));
	checked_free(&k);
	ops->close(p);
}

static void test_check_maintenance_off_needs_an_administrator(void **state)
{
	(void)state;
	platform_facts(MEMBER, 1);
	wsr_provider *p = open_provider();
	const char *off = K("1.30.2", "") ",\"maintenance\":{\"enabled\":false}";
	const char *needle =
	    "maintenance.enabled: false needs an administrator: the platform would "
	    "force maintenance back on and the spec would drift forever";
	expect_refusal(p, WSR_ACT_CREATE, "acme", "payments", off, 1, needle);
	expect_refusal(p, WSR_ACT_CREATE, "acme", "payments", off, 1,
		       "use an administrator's API key, or remove enabled: false from the spec");
	size_t n;
	const char *maint[] = {"maintenance.schedule.3", NULL};
	char *t = check_spec(p, WSR_ACT_UPDATE, "acme", "payments", off, maint, &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(t, needle));
	free(t);
	/* an update that does not send maintenance does not switch it on */
	const char *meta[] = {"metadata", NULL};
	t = check_spec(p, WSR_ACT_UPDATE, "acme", "payments", off, meta, &n);
	assert_int_equal(n, 0);
	free(t);
	expect_refusal(p, WSR_ACT_CREATE, "acme", "payments",
		       K("1.30.2", "") ",\"maintenance\":{\"enabled\":true}", 0, NULL);
	ops->close(p);

	fk.nroutes = 0;
	platform_facts(ADMIN_ALL, 1);
	p = open_provider();
	expect_refusal(p, WSR_ACT_CREATE, "acme", "payments", off, 0, NULL);
	t = check_spec(p, WSR_ACT_UPDATE, "acme", "payments", off, maint, &n);
	assert_int_equal(n, 0);
	free(t);
	ops->close(p);
}

static void test_check_delete_says_what_is_destroyed(void **state)
{
	(void)state;
	platform_facts(ADMIN_ALL, 1);
	wsr_provider *p = open_provider();
	cJSON *j = cJSON_Parse(WS_KUBE);
	cJSON_ReplaceItemInObject(j, "dns",
				  cJSON_Parse("{\"provider\":\"cloudflare\",\"hostnamePattern\":"
					      "\"{name}.{organization}.example.net\"}"));
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(j, "kubernetes"), "oidc",
				  cJSON_Parse("{\"enabled\":true,\"sessionLifetime\":\"12h\"}"));
	char *with_dns = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	checked k = check_change(p, with_dns, NULL, DELETE, NULL);
	assert_int_equal(k.errors, 0);
	assert_string_equal(
	    k.extra,
	    "{\"destroys\":[\"kubernetes cluster acme/payments-prod (1.30.2, high_available) on "
	    "kamaji-fsn1 with its workloads and persistent volumes\",\"DNS records under "
	    "{name}.{organization}.example.net at cloudflare\"],"
	    "\"backupFirst\":[\"the workloads' persistent data (volumes, databases): back it up or "
	    "move it to another cluster\",\"the kubeconfig and OIDC settings users rely on (OIDC "
	    "enabled, session lifetime 12h): they stop working\",\"DNS records under "
	    "{name}.{organization}.example.net at cloudflare: export them if other systems point "
	    "at "
	    "these names\",\"metadata such as the cost centre: costCenter=4711\"]}");
	checked_free(&k);
	free(with_dns);

	k = check_change(p, WS_BARE("b1"), NULL, DELETE, NULL);
	assert_int_equal(k.errors, 0);
	assert_string_equal(
	    k.extra,
	    "{\"destroys\":[\"bare-metal workspace acme/b1 (project sandbox) with its servers and "
	    "the data on their disks\",\"DNS records of the workspace at route53\"],"
	    "\"backupFirst\":[\"the data on the servers' disks (databases, files, logs): back it "
	    "up or move it\",\"the access users and automation rely on (SSH keys, inventories): "
	    "it stops working\",\"DNS records of the workspace at route53: export them if other "
	    "systems point at these names\",\"metadata such as the cost centre: none is set on "
	    "the platform\"]}");
	checked_free(&k);
	/* a replacement destroys the same */
	static const int replace[] = {WSR_ACT_DELETE, WSR_ACT_CREATE, END_ACTIONS};
	k = check_change(p, WS_KUBE, SPEC_AT("1.30.2", "payments"), replace, NULL);
	assert_non_null(strstr(k.extra, "\"destroys\":[\"kubernetes cluster acme/payments-prod"));
	checked_free(&k);
	ops->close(p);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_list_follows_cursors_one_request_per_page),
	    T(test_list_hostile_answers_become_diagnostics),
	    T(test_list_refuses_names_wsr_cannot_use),
	    T(test_list_hostile_numbers_are_named),
	    T(test_list_page_limit_boundary),
	    T(test_list_repeated_cursor_is_refused),
	    T(test_list_huge_answer_is_refused),
	    T(test_open_key_handling),
	    T(test_open_refuses_a_key_that_injects_headers),
	    T(test_open_refuses_hostile_timeout),
	    T(test_create_polls_task_then_reads_workspace),
	    T(test_create_task_failure_is_reported),
	    T(test_stale_failed_replay_creates_again),
	    T(test_stale_replays_are_followed_a_bounded_number_of_times),
	    T(test_replacement_never_replays_the_replaced_creation),
	    T(test_state_becomes_health),
	    T(test_create_answered_with_another_workspace),
	    T(test_create_refusal_names_platform_code),
	    T(test_create_409_adopts_existing),
	    T(test_stale_replay_creates_again),
	    T(test_delete_polls_and_404_is_done),
	    T(test_update_sends_only_touched_blocks_complete),
	    T(test_update_sends_complete_maintenance_over_observed),
	    T(test_update_never_sends_a_changed_ingress),
	    T(test_upgrade_walks_the_path_hop_by_hop),
	    T(test_upgrade_rerun_starts_from_the_observed_version),
	    T(test_upgrade_failed_hop_is_named),
	    T(test_upgrade_hostile_answers),
	    T(test_transfer_posts_then_waits_for_the_task),
	    T(test_transfer_failures_and_hostile_answers),
	    T(test_read_one_workspace),
	    T(test_profiles_all_pages_in_documented_shape),
	    T(test_profiles_hostile_answers),
	    T(test_check_create_refusals),
	    T(test_check_cluster_workspace_needs_root),
	    T(test_check_permissions),
	    T(test_check_when_platform_unreachable),
	    T(test_check_upgrade_computes_the_path),
	    T(test_check_upgrade_refusals),
	    T(test_check_upgrade_permissions),
	    T(test_check_transfer),
	    T(test_check_reports_every_missing_permission),
	    T(test_check_maintenance_off_needs_an_administrator),
	    T(test_check_delete_says_what_is_destroyed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
