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

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	(void)cls, (void)version;
	wsr_buf *in = *con_cls;
	if (!in) {
		*con_cls = calloc(1, sizeof(wsr_buf));
		return MHD_YES;
	}
	if (*upload_size) {
		wsr_buf_add(in, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	const char *cursor = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "cursor");
	unsigned status;
	pthread_mutex_lock(&fk.mu);
	log_request(c, method, url, wsr_buf_str(in));
	fk.requests++;
	char *body = route_body(method, url, cursor, &status);
	pthread_mutex_unlock(&fk.mu);
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode code)
{
	(void)cls, (void)c, (void)code;
	wsr_buf_free(*con_cls);
	free(*con_cls);
	*con_cls = NULL;
}

static int setup(void **state)
{
	(void)state;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(fk.used, 0, sizeof(fk.used));
	fk.nroutes = 0;
	fk.requests = 0;
	daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
				   0, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, &sa,
				   MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
	if (!daemon_)
		return -1;
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%u", info->port);
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

#define WS_KUBE                                                                                    \
	"{\"id\":\"ws-1\",\"name\":\"payments-prod\",\"organization\":\"acme\",\"project\":"       \
	"\"payments\","                                                                            \
	"\"type\":\"kubernetes\",\"kind\":null,\"state\":\"active\",\"metadata\":{\"costCenter\":" \
	"\"4711\"},"                                                                               \
	"\"kubernetes\":{\"version\":\"1.30.2\",\"controlPlane\":\"high_available\","              \
	"\"computeProvider\":\"hetzner_cloud\",\"managementCluster\":\"kamaji-fsn1\",\"ingress\":" \
	"true,"                                                                                    \
	"\"oidc\":{\"enabled\":true,\"sessionLifetime\":null}},"                                   \
	"\"dns\":{\"provider\":null,\"hostnamePattern\":null},"                                    \
	"\"maintenance\":{\"enabled\":true,\"schedule\":{\"0\":3,\"1\":3,\"2\":3,\"3\":3,\"4\":3," \
	"\"5\":5,\"6\":5},\"priorityHour\":4,\"compute\":{\"autoUpdate\":true},"                   \
	"\"kubernetes\":{\"autoPatch\":true}},"                                                    \
	"\"createdAt\":\"2026-11-21T09:15:00Z\",\"updatedAt\":\"2026-11-21T09:16:00Z\"}"

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

static void test_create_task_failure_is_reported(void **state)
{
	(void)state;
	on("POST", WS_PATH, NULL, 202,
	   "{\"workspace\":" WS_KUBE ",\"task\":{\"id\":\"t9\",\"state\":\"running\"}}", 0);
	on("GET", "/v1/tasks/t9", NULL, 200,
	   "{\"id\":\"t9\",\"state\":\"failed\",\"error\":{\"code\":\"provisioning_failed\","
	   "\"message\":\"no capacity in fsn1\"}}",
	   0);
	fixture f;
	fixture_init(&f);
	assert_null(create(&f, WSR_EAPI));
	assert_diag_has(&f.d, "no capacity in fsn1");
	assert_diag_has(&f.d, "provisioning_failed");
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

static void expect_patch(const char *const *fields, const char *body)
{
	on("PATCH", WS_PATH "/payments-prod", NULL, 200, WS_KUBE, 0);
	wsr_provider *p = open_provider();
	wsr_resource *want = resource("payments-prod", SPEC_KUBE), *got;
	wsr_resource *have =
	    resource("payments-prod",
		     "{\"organization\":\"acme\",\"project\":\"payments\",\"type\":\"kubernetes\","
		     "\"kubernetes\":{\"version\":\"1.29.4\",\"controlPlane\":\"high_available\","
		     "\"computeProvider\":\"hetzner_cloud\",\"managementCluster\":\"kamaji-fsn1\","
		     "\"ingress\":false,\"oidc\":{\"enabled\":true}}}");
	wsr_change *c = change("payments-prod", WSR_ACT_UPDATE, want, have, fields);
	wsr_diag d = WSR_DIAG_INIT;
	int polls;
	assert_int_equal(run_op(p, c, WSR_ACT_UPDATE, &got, &polls, &d), 0);
	assert_int_equal(polls, 1);
	assert_non_null(got);
	assert_string_equal(got->id, "ws-1");
	assert_int_equal(fk.requests, 1);
	assert_string_equal(fk.log[0].body, body);
	wsr_resource_free(got);
	wsr_change_free(c);
	wsr_resource_free(want);
	wsr_resource_free(have);
	ops->close(p);
	wsr_diag_free(&d);
	fk.nroutes = 0;
	fk.requests = 0;
}

static void test_update_sends_only_touched_blocks_complete(void **state)
{
	(void)state;
	const char *meta[] = {"metadata.a", NULL};
	expect_patch(meta, "{\"metadata\":{\"a\":\"2\",\"z\":\"1\"}}");
	const char *dns[] = {"dns", NULL};
	expect_patch(dns, "{\"dns\":{\"provider\":null,\"hostnamePattern\":null}}");
	const char *maint[] = {"maintenance.enabled", NULL};
	expect_patch(maint,
		     "{\"maintenance\":{\"enabled\":true,\"schedule\":{\"0\":3,\"1\":3,\"2\":3,"
		     "\"3\":3,\"4\":3,\"5\":3,\"6\":3},\"priorityHour\":4,"
		     "\"compute\":{\"autoUpdate\":true},\"kubernetes\":{\"autoPatch\":true}}}");
	/* kubernetes: what needs its own operation is sent as observed */
	const char *oidc[] = {"kubernetes.oidc.enabled", "kubernetes.ingress", NULL};
	expect_patch(oidc,
		     "{\"kubernetes\":{\"version\":\"1.29.4\",\"controlPlane\":\"high_available\","
		     "\"computeProvider\":\"hetzner_cloud\",\"managementCluster\":\"kamaji-fsn1\","
		     "\"ingress\":true,\"oidc\":{\"enabled\":false,\"sessionLifetime\":null}}}");
}

static void test_transfer_and_upgrade_not_supported_yet(void **state)
{
	(void)state;
	wsr_provider *p = open_provider();
	wsr_resource *want = resource("payments-prod", SPEC_KUBE);
	wsr_change *c = change("payments-prod", WSR_ACT_TRANSFER, want, NULL, NULL);
	wsr_diag d = WSR_DIAG_INIT;
	wsr_op *op = NULL;
	assert_int_equal(ops->start(p, c, WSR_ACT_UPGRADE, &op, &d), WSR_EINVAL);
	assert_null(op);
	assert_diag_has(&d, "upgrade is not supported yet by this provider");
	assert_int_equal(fk.requests, 0);
	wsr_change_free(c);
	wsr_resource_free(want);
	ops->close(p);
	wsr_diag_free(&d);
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

static void platform_facts(const char *principal, int with_root)
{
	on("GET", "/v1/principal", NULL, 200, principal, 0);
	on("GET", "/v1/organizations", NULL, 200,
	   "{\"items\":[{\"name\":\"acme\",\"verified\":true,\"state\":\"active\",\"projects\":["
	   "\"payments\",\"sandbox\"]},"
	   "{\"name\":\"shady\",\"verified\":false,\"state\":\"active\",\"projects\":[\"x\"]},"
	   "{\"name\":\"frozen\",\"verified\":true,\"state\":\"suspended\",\"projects\":[\"y\"]}],"
	   "\"nextCursor\":null}",
	   0);
	on("GET", "/v1/kubernetes-versions", NULL, 200,
	   "{\"items\":[{\"version\":\"1.28.9\",\"active\":false,\"upgradeFrom\":[]},"
	   "{\"version\":\"1.29.4\",\"active\":true,\"upgradeFrom\":[\"1.28.9\"]},"
	   "{\"version\":\"1.30.2\",\"active\":true,\"upgradeFrom\":[\"1.29.4\"]}],\"nextCursor\":"
	   "null}",
	   0);
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

static void test_check_transfer_refused_at_plan_time(void **state)
{
	(void)state;
	platform_facts(ADMIN, 1);
	wsr_provider *p = open_provider();
	expect_refusal(p, WSR_ACT_TRANSFER, "acme", "payments", K("1.30.2", ""), 1,
		       "transfer is not supported yet by this provider");
	ops->close(p);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_list_follows_cursors_one_request_per_page),
	    T(test_list_hostile_answers_become_diagnostics),
	    T(test_list_page_limit_boundary),
	    T(test_list_repeated_cursor_is_refused),
	    T(test_list_huge_answer_is_refused),
	    T(test_open_key_handling),
	    T(test_create_polls_task_then_reads_workspace),
	    T(test_create_task_failure_is_reported),
	    T(test_create_refusal_names_platform_code),
	    T(test_create_409_adopts_existing),
	    T(test_stale_replay_creates_again),
	    T(test_delete_polls_and_404_is_done),
	    T(test_update_sends_only_touched_blocks_complete),
	    T(test_transfer_and_upgrade_not_supported_yet),
	    T(test_check_create_refusals),
	    T(test_check_cluster_workspace_needs_root),
	    T(test_check_permissions),
	    T(test_check_when_platform_unreachable),
	    T(test_check_transfer_refused_at_plan_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
