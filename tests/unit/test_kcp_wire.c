/* test_kcp_wire: the kcp provider on the wire against a fake kcp server
 * scripted inside the test (libmicrohttpd on 127.0.0.1, port 0). The fake
 * answers what each test chooses — paged listings, endless continue tokens,
 * Status refusals, phases that take several polls, 409s — so the provider's
 * handling of answers the emulator seldom or never gives is pinned down. */
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
#include <unistd.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "providers/kcp/kc.h"
#include "providers/kcp/kcp.h"
#include "tests/unit/fake_server.h"
#include "tests/unit/provider_fixture.h"

/* ---- the fake kcp server --------------------------------------------------- */

/* A route answers requests whose method and path match (a path ending in
 * '*' is a prefix) and, when cont is set, whose continue query matches (""
 * = none). times > 0: used that often, then skipped. gen: computes the body. */
typedef struct route {
	const char *method, *path, *cont;
	unsigned status;
	char *body;
	int times;
	char *(*gen)(const char *url, const char *cont);
} route;

#define MAX_ROUTES 48
#define MAX_LOG 64

static struct {
	pthread_mutex_t mu;
	route routes[MAX_ROUTES];
	int used[MAX_ROUTES];
	int nroutes;
	unsigned requests;
	struct {
		char method[8], path[160], limit[8], cont[32], auth[64], as[64];
		char body[1024];
	} log[MAX_LOG];
} fk = {.mu = PTHREAD_MUTEX_INITIALIZER};

static struct MHD_Daemon *daemon_;
static char base_url[64];

static void fake_reset(void)
{
	for (int i = 0; i < fk.nroutes; i++)
		free(fk.routes[i].body);
	fk.nroutes = 0;
	fk.requests = 0;
	fake_retry_after = NULL;
	memset(fk.used, 0, sizeof(fk.used));
}

/* Adds a route; body is copied (may be NULL with a gen set afterwards). */
static void on(const char *method, const char *path, const char *cont, unsigned status,
	       const char *body, int times)
{
	assert_true(fk.nroutes < MAX_ROUTES);
	route r = {method, path, cont, status, body ? strdup(body) : NULL, times, NULL};
	fk.routes[fk.nroutes++] = r;
}

/* The same, taking a heap body. */
static void on_take(const char *method, const char *path, const char *cont, unsigned status,
		    char *body, int times)
{
	on(method, path, cont, status, body, times);
	free(body);
}

static int matches(int i, const char *method, const char *url, const char *cont)
{
	const route *r = &fk.routes[i];
	size_t pl = strlen(r->path);
	int prefix = pl && r->path[pl - 1] == '*';
	if (strcmp(r->method, method) != 0 || (r->times && fk.used[i] >= r->times))
		return 0;
	if (prefix ? strncmp(url, r->path, pl - 1) != 0 : strcmp(url, r->path) != 0)
		return 0;
	return !r->cont || strcmp(r->cont, cont ? cont : "") == 0;
}

static char *route_body(const char *method, const char *url, const char *cont, unsigned *status)
{
	for (int i = 0; i < fk.nroutes; i++) {
		if (!matches(i, method, url, cont))
			continue;
		fk.used[i]++;
		*status = fk.routes[i].status;
		return fk.routes[i].gen ? fk.routes[i].gen(url, cont) : strdup(fk.routes[i].body);
	}
	*status = 500; /* an unscripted request is a test bug: make it loud */
	return strdup("{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"InternalError\","
		      "\"message\":\"no such route in the fake\",\"code\":500}");
}

static void log_request(struct MHD_Connection *c, const char *method, const char *url,
			const char *body)
{
	if (fk.requests >= MAX_LOG)
		return;
	const char *limit = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
	const char *cont = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "continue");
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	const char *as = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Impersonate-User");
	snprintf(fk.log[fk.requests].as, sizeof(fk.log[0].as), "%s", as ? as : "");
	snprintf(fk.log[fk.requests].method, sizeof(fk.log[0].method), "%s", method);
	snprintf(fk.log[fk.requests].path, sizeof(fk.log[0].path), "%s", url);
	snprintf(fk.log[fk.requests].limit, sizeof(fk.log[0].limit), "%s", limit ? limit : "");
	snprintf(fk.log[fk.requests].cont, sizeof(fk.log[0].cont), "%s", cont ? cont : "");
	snprintf(fk.log[fk.requests].auth, sizeof(fk.log[0].auth), "%s", auth ? auth : "");
	snprintf(fk.log[fk.requests].body, sizeof(fk.log[0].body), "%s", body);
}

static char *dispatch(struct MHD_Connection *c, const char *method, const char *url,
		      const char *body, unsigned *status)
{
	const char *cont = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "continue");
	pthread_mutex_lock(&fk.mu);
	log_request(c, method, url, body);
	fk.requests++;
	char *out = route_body(method, url, cont, status);
	pthread_mutex_unlock(&fk.mu);
	return out;
}

static int setup(void **state)
{
	(void)state;
	daemon_ = fake_start(dispatch, base_url, sizeof(base_url));
	if (!daemon_)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_reset();
	MHD_stop_daemon(daemon_);
	return 0;
}

static int reset(void **state)
{
	(void)state;
	fake_reset();
	return 0;
}

/* ---- helpers ---------------------------------------------------------------- */

static const wsr_provider_ops *ops = &wsr_kcp_provider;

#define API "/apis/tenancy.kcp.io/v1alpha1"
#define WS(path) "/clusters/" path API "/workspaces"
#define TYPES(path) "/clusters/" path API "/workspacetypes/"
#define SSAR(path) "/clusters/" path "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"

static wsr_provider *open_provider(void)
{
	char cfg[256];
	snprintf(cfg, sizeof(cfg),
		 "{\"endpoint\":\"%s/clusters/root:somewhere\",\"apiKey\":\"test-token\","
		 "\"timeout\":30}",
		 base_url);
	cJSON *c = cJSON_Parse(cfg);
	wsr_provider *p = NULL;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(ops->open(&p, c, &d), 0);
	assert_int_equal(wsr_diag_errors(&d), 0);
	cJSON_Delete(c);
	wsr_diag_free(&d);
	return p;
}

static char *diag_text(const wsr_diag *d)
{
	wsr_buf b = WSR_BUF_INIT;
	for (size_t i = 0; i < d->n; i++)
		wsr_buf_printf(&b, "%s: %s | %s | %s\n", d->v[i].address ? d->v[i].address : "-",
			       d->v[i].summary, d->v[i].detail ? d->v[i].detail : "",
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

/* A Workspace as kcp answers it; extra_meta / extra_spec are inserted
 * (with a leading comma) into metadata and spec. */
static char *ws_full(const char *name, const char *type, const char *phase, const char *rv,
		     const char *extra_meta, const char *extra_spec)
{
	return wsr_strdupf(
	    "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\","
	    "\"metadata\":{\"name\":\"%s\",\"resourceVersion\":\"%s\",\"uid\":\"u-%s\"%s},"
	    "\"spec\":{\"type\":{\"name\":\"%s\",\"path\":\"root\"},\"URL\":"
	    "\"http://kcp/clusters/x:%s\",\"cluster\":\"c0%s\"%s},"
	    "\"status\":{\"phase\":\"%s\",\"conditions\":[],\"initializers\":[]}}",
	    name, rv, name, extra_meta, type, name, name, extra_spec, phase);
}

static char *ws(const char *name, const char *type, const char *phase)
{
	return ws_full(name, type, phase, "7", "", "");
}

/* A Workspace in a phase with the given status.conditions (JSON array). */
static char *ws_cond(const char *name, const char *phase, const char *conditions)
{
	return wsr_strdupf(
	    "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\","
	    "\"metadata\":{\"name\":\"%s\",\"resourceVersion\":\"7\"},"
	    "\"spec\":{\"type\":{\"name\":\"team\",\"path\":\"root\"},\"cluster\":\"c0%s\"},"
	    "\"status\":{\"phase\":\"%s\",\"conditions\":%s,\"initializers\":[]}}",
	    name, name, phase, conditions);
}

/* A WorkspaceList of the given items (heap strings, taken) and continue token. */
static char *page(const char *cont, int n, ...)
{
	wsr_buf b = WSR_BUF_INIT;
	va_list ap;
	va_start(ap, n);
	wsr_buf_puts(&b, "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"WorkspaceList\","
			 "\"items\":[");
	for (int i = 0; i < n; i++) {
		char *it = va_arg(ap, char *);
		wsr_buf_printf(&b, "%s%s", i ? "," : "", it);
		free(it);
	}
	va_end(ap);
	wsr_buf_printf(&b, "],\"metadata\":{\"resourceVersion\":\"50\"%s%s%s}}",
		       cont ? ",\"continue\":\"" : "", cont ? cont : "", cont ? "\"" : "");
	return wsr_buf_detach(&b);
}

#define STATUS(code, reason, msg)                                                                  \
	"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","       \
	"\"message\":\"" msg "\",\"reason\":\"" reason "\",\"code\":" #code "}"

static int list_into(wsr_resource_set *set, wsr_diag *d)
{
	wsr_provider *p = open_provider();
	int rc = ops->list(p, set, d);
	ops->close(p);
	return rc;
}

static char *json_of(const cJSON *v)
{
	return cJSON_PrintUnformatted(v);
}

/* ---- listing ----------------------------------------------------------------- */

static void test_list_walks_three_levels_across_pages(void **state)
{
	(void)state;
	on_take("GET", WS("root"), "", 200,
		page("t2", 2,
		     ws_full("acme", "organization", "Ready", "11",
			     ",\"labels\":{\"tier\":\"gold\","
			     "\"env\":\"prod\"}",
			     ""),
		     ws("beta", "organization", "Scheduling")),
		0);
	on_take("GET", WS("root"), "t2", 200, page(NULL, 1, ws("users", "homeroot", "Ready")), 0);
	on_take("GET", WS("root:acme"), "", 200,
		page("a2", 1,
		     ws_full("team-a", "team", "Ready", "12", "",
			     ",\"location\":{\"selector\":{\"matchLabels\":{\"region\":\"eu\"}}}")),
		0);
	on_take("GET", WS("root:acme"), "a2", 200,
		page("", 1, ws("team-b", "team", "Initializing")), 0);
	on_take("GET", WS("root:acme:team-a"), "", 200, page(NULL, 1, ws("alice", "home", "Ready")),
		0);
	on_take("GET", WS("root:acme:team-a:alice"), "", 200, page(NULL, 0), 0);
	on_take("GET", WS("root:users"), "", 200, page(NULL, 0), 0);
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(list_into(&set, &d), 0);
	assert_int_equal(wsr_diag_errors(&d), 0);
	assert_int_equal(set.n, 6);
	/* one request a page; the children of workspaces not Ready are not asked for */
	assert_int_equal(fk.requests, 7);
	for (unsigned i = 0; i < fk.requests; i++) {
		assert_string_equal(fk.log[i].limit, "500");
		assert_string_equal(fk.log[i].auth, "Bearer test-token");
		assert_null(strstr(fk.log[i].path, "beta"));
		assert_null(strstr(fk.log[i].path, "team-b"));
	}
	assert_string_equal(fk.log[1].cont, "t2");

	wsr_resource *r = wsr_resource_set_find(&set, "kcp/root:acme");
	assert_non_null(r);
	assert_string_equal(r->kind, WSR_KCP_KIND_WORKSPACE);
	assert_string_equal(r->provider, "kcp");
	assert_string_equal(r->name, "acme");
	assert_string_equal(r->id, "c0acme");
	char *s = json_of(r->spec);
	assert_string_equal(s, "{\"metadata\":{\"labels\":{\"env\":\"prod\",\"tier\":\"gold\"}},"
			       "\"spec\":{\"parent\":\"root\",\"type\":{\"name\":\"organization\","
			       "\"path\":\"root\"}}}");
	free(s);
	s = json_of(r->status);
	assert_string_equal(s, "{\"phase\":\"Ready\",\"URL\":\"http://kcp/clusters/x:acme\","
			       "\"cluster\":\"c0acme\",\"resourceVersion\":\"11\"}");
	free(s);

	r = wsr_resource_set_find(&set, "kcp/root:acme:team-a");
	assert_non_null(r);
	s = json_of(r->spec);
	assert_string_equal(s, "{\"spec\":{\"parent\":\"root:acme\",\"type\":{\"name\":\"team\","
			       "\"path\":\"root\"},\"location\":{\"selector\":{\"matchLabels\":{"
			       "\"region\":\"eu\"}}}}}");
	free(s);
	r = wsr_resource_set_find(&set, "kcp/root:acme:team-a:alice");
	assert_non_null(r);
	assert_string_equal(r->kind, WSR_KCP_KIND_HOME);
	s = json_of(r->spec);
	assert_string_equal(s, "{}");
	free(s);
	assert_non_null(wsr_resource_set_find(&set, "kcp/root:beta"));
	assert_non_null(wsr_resource_set_find(&set, "kcp/root:acme:team-b"));
	assert_non_null(wsr_resource_set_find(&set, "kcp/root:users"));
	wsr_resource_set_free(&set);
	wsr_diag_free(&d);
}

static void expect_list_error(char *root_body, unsigned status, const char *needle)
{
	fake_reset();
	on_take("GET", WS("root"), NULL, status, root_body, 0);
	on_take("GET", WS("root:*"), NULL, 200, page(NULL, 0), 0);
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	wsr_diag d = WSR_DIAG_INIT;
	assert_true(list_into(&set, &d) < 0);
	assert_true(wsr_diag_errors(&d) > 0);
	assert_diag_has(&d, needle);
	wsr_resource_set_free(&set);
	wsr_diag_free(&d);
}

/* One listed item replaced by text: the page around it. */
static char *page_of(const char *item)
{
	return page(NULL, 1, strdup(item));
}

static void test_list_hostile_answers_become_diagnostics(void **state)
{
	(void)state;
	expect_list_error(strdup("<html>oops</html>"), 200, "not JSON");
	expect_list_error(strdup("{\"items\":[1,2]"), 200, "not JSON");
	expect_list_error(strdup("[]"), 200, "documented shape");
	expect_list_error(strdup("{\"items\":{}}"), 200, "documented shape");
	expect_list_error(strdup("{\"items\":[],\"metadata\":{\"continue\":5}}"), 200,
			  "documented shape");
	expect_list_error(page_of("42"), 200, "metadata.name");
	expect_list_error(page_of("{\"metadata\":{\"name\":\"a/../b\"}}"), 200,
			  "metadata.name is not a workspace name");
	expect_list_error(
	    page_of("{\"metadata\":{\"name\":\"a\"},\"status\":{\"phase\":\"Ready\"}}"), 200,
	    "workspace root:a: field spec is missing");
	expect_list_error(page_of("{\"metadata\":{\"name\":\"a\"},\"spec\":{\"type\":{\"name\":7}},"
				  "\"status\":{\"phase\":\"Ready\"}}"),
			  200, "field spec.type.name is not a string");
	char *w = ws("a", "team", "Ready");
	memcpy(strstr(w, "\"phase\""), "\"phaze\"", 7);
	expect_list_error(page_of(w), 200, "field status.phase is missing");
	free(w);
	expect_list_error(
	    page_of("{\"metadata\":{\"name\":\"a\",\"labels\":{\"x\":1}},\"spec\":{\"type\":{"
		    "\"name\":\"team\",\"path\":\"root\"}},\"status\":{\"phase\":\"Ready\"}}"),
	    200, "metadata.labels.x is not a string");
	/* kcp stores the canonical path of every type: one without is not kcp's */
	expect_list_error(page_of("{\"metadata\":{\"name\":\"a\"},\"spec\":{\"type\":{"
				  "\"name\":\"team\"}},\"status\":{\"phase\":\"Ready\"}}"),
			  200, "workspace root:a: field spec.type.path is missing");
	expect_list_error(page(NULL, 2, ws("twice", "team", "Ready"), ws("twice", "team", "Ready")),
			  200, "listed twice");
	/* root refusing is an error (an empty listing would plan to create everything) */
	expect_list_error(strdup(STATUS(403, "Forbidden", "access denied to root")), 403,
			  "listing /clusters/root" API "/workspaces: access denied to root");
	expect_list_error(strdup("<html>bad gateway</html>"), 404, "HTTP 404, reason (none)");
	expect_list_error(strdup(STATUS(401, "Unauthorized", "Unauthorized")), 401,
			  "did not accept the credentials of the kcp platform at");
	expect_list_error(strdup(STATUS(410, "Gone", "expired")), 410, "continue token");
}

/* Numbers kcp sends that wsr does not use (a generation, a Status code) are
 * never converted, so 1e30 there changes nothing: the listing still maps and
 * a refusal still says kcp's message. */
static void test_list_hostile_numbers_are_never_converted(void **state)
{
	(void)state;
	fake_reset();
	on_take("GET", WS("root"), NULL, 200,
		page(NULL, 1,
		     ws_full("acme", "organization", "Ready", "7", ",\"generation\":1e30", "")),
		0);
	on_take("GET", WS("root:acme"), NULL, 200, page(NULL, 0), 0);
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(list_into(&set, &d), 0);
	assert_int_equal(set.n, 1);
	assert_string_equal(set.v[0]->address, "kcp/root:acme");
	wsr_resource_set_free(&set);
	wsr_diag_free(&d);
	expect_list_error(strdup(STATUS(1e30, "Forbidden", "access denied to root")), 403,
			  "access denied to root");
	expect_list_error(strdup(STATUS(-1e400, "Forbidden", "access denied to root")), 403,
			  "access denied to root");
}

/* opens with config and expects a refusal naming needle; no client is made */
static void expect_open_error(const char *config, const char *needle)
{
	char *cfg =
	    wsr_strdupf("{\"endpoint\":\"%s\",\"apiKey\":\"test-token\",%s}", base_url, config);
	cJSON *c = cJSON_Parse(cfg);
	assert_non_null(c);
	wsr_provider *p = NULL;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(ops->open(&p, c, &d), WSR_EINVAL);
	assert_null(p);
	assert_diag_has(&d, needle);
	wsr_diag_free(&d);
	cJSON_Delete(c);
	free(cfg);
}

/* The config's numbers were cast to int and long unchecked (1e30 is
 * undefined behaviour): now each is a whole number in range or an error
 * naming it. Out-of-range whole depths keep kcp's own words. */
static void test_open_refuses_hostile_config_numbers(void **state)
{
	(void)state;
	static const char *const bad[] = {"1e30", "-1e30", "1e400", "2.5", "\"2\"", "true"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *cfg = wsr_strdupf("\"home\":{\"depth\":%s}", bad[i]);
		expect_open_error(cfg, "providers.kcp: home.depth is not a whole number");
		free(cfg);
		cfg = wsr_strdupf("\"home\":{\"length\":%s}", bad[i]);
		expect_open_error(cfg, "providers.kcp: home.length is not a whole number");
		free(cfg);
		cfg = wsr_strdupf("\"timeout\":%s", bad[i]);
		expect_open_error(cfg, "timeout is not a whole number of seconds from 1 to 86400");
		free(cfg);
	}
	expect_open_error("\"timeout\":0", "from 1 to 86400");
	expect_open_error("\"timeout\":86401", "from 1 to 86400");
	expect_open_error("\"home\":{\"depth\":6}", "kcp allows depth 1 to 5");
	expect_open_error("\"home\":{\"depth\":-1}", "kcp allows depth 1 to 5");
	/* the bounds are accepted */
	static const char *const good[] = {"\"timeout\":1", "\"timeout\":86400",
					   "\"timeout\":30.0"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *cfg = wsr_strdupf("{\"endpoint\":\"%s\",\"apiKey\":\"test-token\",%s}",
					base_url, good[i]);
		cJSON *c = cJSON_Parse(cfg);
		wsr_provider *p = NULL;
		wsr_diag d = WSR_DIAG_INIT;
		assert_int_equal(ops->open(&p, c, &d), 0);
		ops->close(p);
		wsr_diag_free(&d);
		cJSON_Delete(c);
		free(cfg);
	}
}

static void test_list_skips_refused_subtrees(void **state)
{
	(void)state;
	on_take("GET", WS("root"), NULL, 200,
		page(NULL, 3, ws("acme", "organization", "Ready"),
		     ws("beta", "organization", "Ready"), ws("gamma", "organization", "Ready")),
		0);
	on("GET", WS("root:acme"), NULL, 403,
	   STATUS(403, "Forbidden", "workspace root:acme is not ready (phase Initializing)"), 0);
	on("GET", WS("root:beta"), NULL, 404,
	   STATUS(404, "NotFound", "workspace root:beta not found"), 0);
	on_take("GET", WS("root:gamma"), NULL, 200, page(NULL, 1, ws("g1", "team", "Ready")), 0);
	on_take("GET", WS("root:gamma:g1"), NULL, 200, page(NULL, 0), 0);
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(list_into(&set, &d), 0);
	assert_int_equal(wsr_diag_errors(&d), 0);
	assert_int_equal(set.n, 4);
	assert_non_null(wsr_resource_set_find(&set, "kcp/root:gamma:g1"));
	wsr_resource_set_free(&set);
	wsr_diag_free(&d);

	/* 401 below root is an error all the same: the credentials are wrong */
	fake_reset();
	on_take("GET", WS("root"), NULL, 200, page(NULL, 1, ws("acme", "organization", "Ready")),
		0);
	on("GET", WS("root:acme"), NULL, 401, STATUS(401, "Unauthorized", "Unauthorized"), 0);
	wsr_diag_init(&d);
	assert_int_equal(list_into(&set, &d), WSR_EAPI);
	assert_diag_has(&d, "Unauthorized | HTTP 401, reason Unauthorized");
	wsr_resource_set_free(&set);
	wsr_diag_free(&d);
}

static int pages_wanted;

/* Page N answers continue pN+1 until pages_wanted pages were served. */
static char *endless(const char *url, const char *cont)
{
	(void)url;
	int n = cont && *cont ? atoi(cont + 1) : 1;
	if (n >= pages_wanted)
		return page(NULL, 0);
	char next[16];
	snprintf(next, sizeof(next), "p%d", n + 1);
	return page(next, 0);
}

static void test_list_page_limit_boundary(void **state)
{
	(void)state;
	on("GET", WS("root"), NULL, 200, NULL, 0);
	fk.routes[0].gen = endless;
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	wsr_diag d = WSR_DIAG_INIT;
	pages_wanted = KC_MAX_PAGES;
	assert_int_equal(list_into(&set, &d), 0);
	assert_int_equal(fk.requests, KC_MAX_PAGES);

	fk.requests = 0;
	pages_wanted = KC_MAX_PAGES + 1;
	assert_int_equal(list_into(&set, &d), WSR_ELIMIT);
	assert_diag_has(&d, "more than 1000 pages");
	wsr_resource_set_free(&set);
	wsr_diag_free(&d);
}

/* Every workspace has one Ready child of the longest name kcp allows. */
static char *deeper(const char *url, const char *cont)
{
	(void)url, (void)cont;
	char name[KC_NAME_MAX + 1];
	memset(name, 'n', KC_NAME_MAX);
	name[KC_NAME_MAX] = '\0';
	return page(NULL, 1, ws(name, "universal", "Ready"));
}

static void test_list_stops_at_the_path_limit(void **state)
{
	(void)state;
	on("GET", "/clusters/root*", NULL, 200, NULL, 0);
	fk.routes[0].gen = deeper;
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(list_into(&set, &d), 0);
	/* "root" and 15 names of 63 bytes make 1019 bytes; the 16th would pass 1024 */
	assert_int_equal(set.n, 15);
	assert_int_equal(wsr_diag_errors(&d), 0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].severity, WSR_SEV_WARNING);
	assert_diag_has(&d, "has a path longer than 1024 bytes; it and its children are left out");
	wsr_resource_set_free(&set);
	wsr_diag_free(&d);
}

static void test_list_repeated_continue_is_refused(void **state)
{
	(void)state;
	on_take("GET", WS("root"), NULL, 200, page("same", 0), 0);
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(list_into(&set, &d), WSR_EAPI);
	assert_diag_has(&d, "repeats the token");
	assert_int_equal(fk.requests, 2);
	wsr_resource_set_free(&set);
	wsr_diag_free(&d);
}

/* ---- operations ------------------------------------------------------------------- */

static wsr_resource *desired(const char *kind, const char *path, const char *name, const char *spec)
{
	char *addr = wsr_strdupf("kcp/%s", path);
	wsr_resource *r = wsr_resource_new(addr, "kcp", kind, name);
	r->spec = cJSON_Parse(spec);
	assert_non_null(r->spec);
	free(addr);
	return r;
}

static wsr_change *change(const char *kind, const char *path, wsr_action a, const wsr_resource *d,
			  const wsr_resource *o)
{
	char *addr = wsr_strdupf("kcp/%s", path);
	wsr_change *c = fixture_change(addr, a, d, o, NULL);
	free(c->provider);
	free(c->kind);
	c->provider = strdup("kcp");
	c->kind = strdup(kind);
	free(addr);
	return c;
}

static int run(wsr_provider *p, const wsr_change *c, wsr_action a, wsr_resource **result,
	       int *polls, wsr_diag *d)
{
	return fixture_run_op(ops, p, c, a, result, 20, 0, polls, d);
}

#define TEAM_SPEC                                                                                  \
	"{\"metadata\":{\"labels\":{\"env\":\"prod\"}},\"spec\":{\"parent\":\"root:acme\","        \
	"\"type\":{\"name\":\"team\",\"path\":\"root\"},\"location\":{\"selector\":{"              \
	"\"matchLabels\":{\"region\":\"eu\"}}}}}"

/* A provider, a desired team-a in root:acme (TEAM_SPEC) and a change of
 * one action on it. */
typedef struct fixture {
	wsr_provider *p;
	wsr_resource *want;
	wsr_change *c;
	wsr_diag d;
	wsr_resource *got;
} fixture;

static void fixture_init(fixture *f, wsr_action a)
{
	f->p = open_provider();
	f->want = a == WSR_ACT_DELETE
		      ? NULL
		      : desired(WSR_KCP_KIND_WORKSPACE, "root:acme:team-a", "team-a", TEAM_SPEC);
	f->c = change(WSR_KCP_KIND_WORKSPACE, "root:acme:team-a", a, f->want, NULL);
	wsr_diag_init(&f->d);
	f->got = NULL;
}

/* Runs the fixture's action; *polls may be NULL. Frees an earlier result. */
static int fixture_run(fixture *f, int *polls)
{
	wsr_resource_free(f->got);
	f->got = NULL;
	return run(f->p, f->c, f->c->actions[0], &f->got, polls, &f->d);
}

static void fixture_free(fixture *f)
{
	wsr_resource_free(f->got);
	wsr_change_free(f->c);
	wsr_resource_free(f->want);
	ops->close(f->p);
	wsr_diag_free(&f->d);
}

static void test_create_waits_through_phases_to_ready(void **state)
{
	(void)state;
	on_take("POST", WS("root:acme"), NULL, 201, ws("team-a", "team", "Scheduling"), 0);
	on_take("GET", WS("root:acme") "/team-a", NULL, 200, ws("team-a", "team", "Scheduling"), 1);
	on_take("GET", WS("root:acme") "/team-a", NULL, 200, ws("team-a", "team", "Initializing"),
		2);
	on_take("GET", WS("root:acme") "/team-a", NULL, 200,
		ws_full("team-a", "team", "Ready", "9", ",\"labels\":{\"env\":\"prod\"}", ""), 0);
	fixture f;
	fixture_init(&f, WSR_ACT_CREATE);
	int polls = 0;
	assert_int_equal(fixture_run(&f, &polls), 0);
	/* never done before Ready: one poll per phase answer */
	assert_int_equal(polls, 4);
	assert_int_equal(fk.requests, 5);
	assert_non_null(f.got);
	assert_string_equal(f.got->address, "kcp/root:acme:team-a");
	assert_string_equal(wsr_json_str(f.got->status, "phase"), "Ready");
	assert_string_equal(fk.log[0].method, "POST");
	assert_string_equal(
	    fk.log[0].body,
	    "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\",\"metadata\":{"
	    "\"name\":\"team-a\",\"labels\":{\"env\":\"prod\"}},\"spec\":{\"type\":{\"name\":"
	    "\"team\",\"path\":\"root\"},\"location\":{\"selector\":{\"matchLabels\":{\"region\":"
	    "\"eu\"}}}}}");
	fixture_free(&f);
}

static void test_create_stops_when_kcp_takes_the_workspace_out_of_service(void **state)
{
	(void)state;
	on_take("POST", WS("root:acme"), NULL, 201, ws("team-a", "team", "Scheduling"), 0);
	on_take("GET", WS("root:acme") "/team-a", NULL, 200,
		ws_cond("team-a", "Unavailable",
			"[{\"type\":\"WorkspaceScheduled\",\"status\":\"False\",\"reason\":"
			"\"Unschedulable\",\"message\":\"no shard matches\"}]"),
		0);
	fixture f;
	fixture_init(&f, WSR_ACT_CREATE);
	int polls = 0;
	assert_int_equal(fixture_run(&f, &polls), WSR_EAPI);
	/* at the first answer in that phase, not after the timeout */
	assert_int_equal(fk.requests, 2);
	assert_null(f.got);
	assert_diag_has(&f.d,
			"workspace root:acme:team-a was created, but kcp reports the "
			"workspace Unavailable: WorkspaceScheduled is False (Unschedulable: no "
			"shard matches)");
	fixture_free(&f);
}

static void test_create_409_adopts_when_the_type_matches(void **state)
{
	(void)state;
	on("POST", WS("root:acme"), NULL, 409,
	   STATUS(409, "AlreadyExists", "workspaces.tenancy.kcp.io \\\"team-a\\\" already exists"),
	   0);
	on_take("GET", WS("root:acme") "/team-a", NULL, 200, ws("team-a", "team", "Ready"), 0);
	fixture f;
	fixture_init(&f, WSR_ACT_CREATE);
	assert_int_equal(fixture_run(&f, NULL), 0);
	assert_non_null(f.got);
	assert_int_equal(wsr_diag_errors(&f.d), 0);

	/* the name is taken by a workspace of another type: not ours to adopt */
	fake_reset();
	on("POST", WS("root:acme"), NULL, 409, STATUS(409, "AlreadyExists", "exists"), 0);
	on_take("GET", WS("root:acme") "/team-a", NULL, 200, ws("team-a", "universal", "Ready"), 0);
	assert_int_equal(fixture_run(&f, NULL), WSR_EAPI);
	assert_null(f.got);
	assert_diag_has(&f.d, "workspace root:acme:team-a already exists with type "
			      "root:universal, not root:team");

	/* any other refusal is reported with kcp's reason and message */
	fake_reset();
	on("POST", WS("root:acme"), NULL, 403,
	   STATUS(403, "Forbidden", "you may not use workspace type root:team"), 0);
	assert_int_equal(fixture_run(&f, NULL), WSR_EAPI);
	assert_diag_has(&f.d,
			"kcp/root:acme:team-a: kcp refused to create workspace root:acme:team-a: "
			"you may not use workspace type root:team | HTTP 403, reason Forbidden");
	fixture_free(&f);
}

/* A spec type without path goes to kcp without one (kcp resolves it from
 * the parent up), and no type at all sends none (kcp's default); adopting
 * a 409 then compares the name only. */
static void test_create_sends_the_type_as_the_spec_has_it(void **state)
{
	(void)state;
	static const struct {
		const char *spec, *body_type;
	} cases[] = {
	    {"{\"spec\":{\"parent\":\"root:acme\",\"type\":{\"name\":\"team\"}}}",
	     "\"spec\":{\"type\":{\"name\":\"team\"}}}"},
	    {"{\"spec\":{\"parent\":\"root:acme\"}}", "\"spec\":{}}"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake_reset();
		on_take("POST", WS("root:acme"), NULL, 201, ws("team-a", "team", "Ready"), 0);
		wsr_provider *p = open_provider();
		wsr_resource *want =
		    desired(WSR_KCP_KIND_WORKSPACE, "root:acme:team-a", "team-a", cases[i].spec);
		wsr_change *c =
		    change(WSR_KCP_KIND_WORKSPACE, "root:acme:team-a", WSR_ACT_CREATE, want, NULL);
		wsr_resource *got = NULL;
		wsr_diag d = WSR_DIAG_INIT;
		assert_int_equal(run(p, c, WSR_ACT_CREATE, &got, NULL, &d), 0);
		assert_non_null(strstr(fk.log[0].body, cases[i].body_type));
		assert_string_equal(wsr_json_path(got->spec, "spec.type.path")->valuestring,
				    "root");
		wsr_resource_free(got);
		got = NULL;
		/* 409: the workspace there is a root:team, the name the spec asked for */
		fake_reset();
		on("POST", WS("root:acme"), NULL, 409, STATUS(409, "AlreadyExists", "exists"), 0);
		on_take("GET", WS("root:acme") "/team-a", NULL, 200, ws("team-a", "team", "Ready"),
			0);
		assert_int_equal(run(p, c, WSR_ACT_CREATE, &got, NULL, &d), 0);
		assert_non_null(got);
		assert_int_equal(wsr_diag_errors(&d), 0);
		wsr_resource_free(got);
		wsr_change_free(c);
		wsr_resource_free(want);
		wsr_diag_free(&d);
		ops->close(p);
	}
}

static void test_create_hostile_answers(void **state)
{
	(void)state;
	static const struct {
		unsigned post_status;
		const char *post, *get, *needle;
	} cases[] = {
	    {201, "[]", NULL, "the answer is not a Workspace object"},
	    {201, "<html>", NULL, "not JSON"},
	    {201, "{\"metadata\":{\"name\":\"team-a\"}}", NULL, "spec.type is missing"},
	    {201, "{\"spec\":{\"type\":{\"name\":\"team\",\"path\":\"root\"}},\"status\":{}}", NULL,
	     "status.phase is missing"},
	    {201,
	     "{\"spec\":{\"type\":{\"name\":\"team\",\"path\":\"root\"}},\"status\":{\"phase\":"
	     "\"Scheduling\"}}",
	     "\"a string\"", "a Workspace must be a JSON object"},
	    {400, "<html>proxy</html>", NULL,
	     "HTTP 400, reason (none) (the answer was not a Status"},
	    {422,
	     "{\"kind\":\"Status\",\"reason\":\"Invalid\",\"message\":\"bad\",\"details\":{"
	     "\"causes\":[{\"field\":\"spec.type.name\",\"message\":\"must be a name\"}]}}",
	     NULL, "reason Invalid; spec.type.name: must be a name"},
	};
	fixture f;
	fixture_init(&f, WSR_ACT_CREATE);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake_reset();
		wsr_diag_free(&f.d);
		on("POST", WS("root:acme"), NULL, cases[i].post_status, cases[i].post, 0);
		if (cases[i].get)
			on("GET", WS("root:acme") "/team-a", NULL, 200, cases[i].get, 0);
		assert_int_equal(fixture_run(&f, NULL), WSR_EAPI);
		assert_null(f.got);
		assert_diag_has(&f.d, cases[i].needle);
	}
	fixture_free(&f);
}

static void test_create_home_makes_missing_buckets(void **state)
{
	(void)state;
	on("GET", WS("root:users") "/bi", NULL, 404, STATUS(404, "NotFound", "not found"), 1);
	on_take("POST", WS("root:users"), NULL, 201, ws("bi", "homebucket", "Scheduling"), 0);
	on_take("GET", WS("root:users") "/bi", NULL, 200, ws("bi", "homebucket", "Ready"), 0);
	on_take("GET", WS("root:users:bi") "/ie", NULL, 200, ws("ie", "homebucket", "Ready"), 0);
	on_take("POST", WS("root:users:bi:ie"), NULL, 201, ws("user-1", "home", "Ready"), 0);
	fixture f;
	fixture_init(&f, WSR_ACT_CREATE);
	wsr_resource *home = desired(WSR_KCP_KIND_HOME, "root:users:bi:ie:user-1", "user-1", "{}");
	wsr_change *c =
	    change(WSR_KCP_KIND_HOME, "root:users:bi:ie:user-1", WSR_ACT_CREATE, home, NULL);
	assert_int_equal(run(f.p, c, WSR_ACT_CREATE, &f.got, NULL, &f.d), 0);
	assert_non_null(f.got);
	assert_string_equal(f.got->kind, WSR_KCP_KIND_HOME);
	assert_string_equal(f.got->address, "kcp/root:users:bi:ie:user-1");
	/* GET bi (missing), POST bi, GET bi (Ready), GET ie (there), POST the home */
	assert_int_equal(fk.requests, 5);
	assert_non_null(
	    strstr(fk.log[1].body, "\"type\":{\"name\":\"homebucket\",\"path\":\"root\"}"));
	assert_non_null(strstr(fk.log[4].body, "\"name\":\"user-1\""));
	assert_non_null(strstr(fk.log[4].body, "\"type\":{\"name\":\"home\",\"path\":\"root\"}"));
	wsr_change_free(c);
	wsr_resource_free(home);
	fixture_free(&f);
}

/* The stored workspace a successful PUT answers with. */
static char *put_answer(const char *url, const char *cont)
{
	(void)url, (void)cont;
	return ws_full("team-a", "team", "Ready", "8",
		       ",\"labels\":{\"env\":\"prod\",\"keep\":\"me\"}", "");
}

static void test_update_retries_on_conflict_then_gives_up(void **state)
{
	(void)state;
	on_take("GET", WS("root:acme") "/team-a", NULL, 200,
		ws_full("team-a", "team", "Ready", "5",
			",\"labels\":{\"env\":\"dev\",\"keep\":\"me\"}", ""),
		1);
	on_take("GET", WS("root:acme") "/team-a", NULL, 200,
		ws_full("team-a", "team", "Ready", "6",
			",\"labels\":{\"env\":\"dev\",\"keep\":\"me\"}", ""),
		0);
	on("PUT", WS("root:acme") "/team-a", NULL, 409,
	   STATUS(409, "Conflict", "the object has been modified"), 1);
	on("PUT", WS("root:acme") "/team-a", NULL, 200, NULL, 0);
	fk.routes[3].gen = put_answer;
	fixture f;
	fixture_init(&f, WSR_ACT_UPDATE);
	assert_int_equal(fixture_run(&f, NULL), 0);
	assert_non_null(f.got);
	assert_int_equal(fk.requests, 4);
	assert_string_equal(fk.log[1].method, "PUT");
	assert_non_null(strstr(fk.log[1].body, "\"resourceVersion\":\"5\""));
	assert_non_null(strstr(fk.log[3].body, "\"resourceVersion\":\"6\""));
	/* the spec's label is set, another label stays */
	assert_non_null(strstr(fk.log[3].body, "\"labels\":{\"keep\":\"me\",\"env\":\"prod\"}"));
	assert_string_equal(wsr_json_path(f.got->spec, "metadata.labels.env")->valuestring, "prod");

	/* a workspace written by someone else every time: bounded */
	fake_reset();
	on_take("GET", WS("root:acme") "/team-a", NULL, 200,
		ws_full("team-a", "team", "Ready", "5", "", ""), 0);
	on("PUT", WS("root:acme") "/team-a", NULL, 409, STATUS(409, "Conflict", "modified"), 0);
	assert_int_equal(fixture_run(&f, NULL), WSR_ECONFLICT);
	assert_null(f.got);
	assert_int_equal(fk.requests, 2 * KC_UPDATE_ATTEMPTS);
	assert_diag_has(&f.d, "409 Conflict to 5 updates in a row");

	/* nothing to change: no PUT */
	fake_reset();
	on_take("GET", WS("root:acme") "/team-a", NULL, 200,
		ws_full("team-a", "team", "Ready", "5", ",\"labels\":{\"env\":\"prod\"}", ""), 0);
	assert_int_equal(fixture_run(&f, NULL), 0);
	assert_int_equal(fk.requests, 1);
	fixture_free(&f);
}

/* kcp accepts the deletion at once (finalizer, deletionTimestamp) and
 * removes the workspace, and everything in it, through Terminating and
 * Deleting: the delete is done only at 404. */
static void test_delete_polls_until_gone(void **state)
{
	(void)state;
	on_take("DELETE", WS("root:acme") "/team-a", NULL, 200,
		ws_full("team-a", "team", "Terminating", "5",
			",\"deletionTimestamp\":\"2026-11-21T09:15:00Z\",\"finalizers\":["
			"\"core.kcp.io/logicalcluster\"]",
			""),
		0);
	on_take("GET", WS("root:acme") "/team-a", NULL, 200, ws("team-a", "team", "Terminating"),
		1);
	on_take("GET", WS("root:acme") "/team-a", NULL, 200, ws("team-a", "team", "Deleting"), 1);
	on("GET", WS("root:acme") "/team-a", NULL, 404, STATUS(404, "NotFound", "not found"), 0);
	fixture f;
	fixture_init(&f, WSR_ACT_DELETE);
	int polls = 0;
	assert_int_equal(fixture_run(&f, &polls), 0);
	assert_null(f.got);
	assert_int_equal(polls, 3);
	assert_int_equal(fk.requests, 4);

	/* already gone is what a delete wants */
	fake_reset();
	on("DELETE", WS("root:acme") "/team-a", NULL, 404, STATUS(404, "NotFound", "not found"), 0);
	wsr_diag_free(&f.d);
	assert_int_equal(fixture_run(&f, NULL), 0);
	assert_int_equal(wsr_diag_errors(&f.d), 0);

	/* a refusal is kcp's, with its message */
	fake_reset();
	on("DELETE", WS("root:acme") "/team-a", NULL, 403, STATUS(403, "Forbidden", "no delete"),
	   0);
	assert_int_equal(fixture_run(&f, NULL), WSR_EAPI);
	assert_diag_has(&f.d, "kcp refused to delete the workspace: no delete | HTTP 403");
	fixture_free(&f);
}

static void test_transfer_and_upgrade_are_not_kcp_operations(void **state)
{
	(void)state;
	fixture f;
	fixture_init(&f, WSR_ACT_TRANSFER);
	wsr_op *op = NULL;
	assert_int_equal(ops->start(f.p, f.c, WSR_ACT_UPGRADE, &op, &f.d), WSR_EINVAL);
	assert_null(op);
	assert_diag_has(&f.d, "upgrade is not supported by kcp");
	fixture_checked k = fixture_check(ops, f.p, f.c);
	assert_int_equal(k.errors, 1);
	assert_non_null(strstr(k.text, "kcp has no transfer operation"));
	fixture_checked_free(&k);
	assert_int_equal(fk.requests, 0);
	fixture_free(&f);
}

static void test_read_one_workspace(void **state)
{
	(void)state;
	on_take("GET", WS("root:acme") "/team-a", NULL, 200, ws("team-a", "team", "Ready"), 0);
	on("GET", WS("root:acme") "/gone", NULL, 404, STATUS(404, "NotFound", "not found"), 0);
	wsr_provider *p = open_provider();
	wsr_diag d = WSR_DIAG_INIT;
	wsr_resource *r = NULL;
	assert_int_equal(ops->read(p, "kcp/root:acme:team-a", &r, &d), 0);
	assert_non_null(r);
	assert_string_equal(r->address, "kcp/root:acme:team-a");
	wsr_resource_free(r);
	assert_int_equal(ops->read(p, "kcp/root:acme:gone", &r, &d), 0);
	assert_null(r);
	assert_int_equal(ops->read(p, "kcp/root", &r, &d), WSR_EINVAL);
	assert_diag_has(&d, "not a kcp workspace address");
	ops->close(p);
	wsr_diag_free(&d);
}

#define COND(type, status, reason, msg)                                                            \
	"{\"type\":\"" type "\",\"status\":\"" status                                              \
	"\",\"severity\":\"Error\",\"reason\":\"" reason "\",\"message\":\"" msg "\"}"

static wsr_resource *read_ws(wsr_provider *p, const char *name, wsr_diag *d)
{
	char addr[64];
	snprintf(addr, sizeof(addr), "kcp/root:acme:%s", name);
	wsr_resource *r = NULL;
	assert_int_equal(ops->read(p, addr, &r, d), 0);
	assert_non_null(r);
	return r;
}

/* Unavailable is kcp's phase for a workspace one of whose Workspace…
 * conditions is False (workspace_reconcile_phase.go): broken, with kcp's
 * reason; every other phase is working, on its way, chosen or going. */
static void test_unavailable_workspace_is_broken_with_kcps_reason(void **state)
{
	(void)state;
	/* a message of 5,000 characters (JSON) holding an escaped line break:
	 * 4,999 bytes once read */
	char msg[5001];
	memset(msg, 'm', 5000);
	msg[5000] = '\0';
	msg[10] = '\\';
	msg[11] = 'n';
	on_take(
	    "GET", WS("root:acme") "/sched", NULL, 200,
	    ws_cond("sched", "Unavailable",
		    "[" COND("WorkspaceScheduled", "False", "Unschedulable",
			     "no shard matches") "," COND("Ready", "False", "X",
							  "not kcp's") ","
								       "7,\"x\"," COND(
									   "WorkspaceInitialized",
									   "True", "", "") "]"),
	    0);
	on_take("GET", WS("root:acme") "/none", NULL, 200, ws_cond("none", "Unavailable", "{}"), 0);
	char *many =
	    wsr_strdupf("[" COND("WorkspaceA", "False", "A", "a") "," COND(
			    "WorkspaceB", "False", "B",
			    "b") "," COND("WorkspaceC", "False", "C",
					  "c") "," COND("WorkspaceD", "False", "D",
							"d") ",{\"type\":\"WorkspaceE\",\"status\":"
							     "\"False\",\"message\":\"%s\"}]",
			msg);
	on_take("GET", WS("root:acme") "/many", NULL, 200, ws_cond("many", "Unavailable", many), 0);
	free(many);
	char *huge =
	    wsr_strdupf("[{\"type\":\"WorkspaceE\",\"status\":\"False\",\"message\":\"%s\"}]", msg);
	on_take("GET", WS("root:acme") "/huge", NULL, 200, ws_cond("huge", "Unavailable", huge), 0);
	free(huge);
	static const char *const fine[] = {"Scheduling", "Initializing", "Ready",
					   "Inactive",	 "Terminating",	 "Deleting"};
	static const char *const paths[] = {WS("root:acme") "/p0", WS("root:acme") "/p1",
					    WS("root:acme") "/p2", WS("root:acme") "/p3",
					    WS("root:acme") "/p4", WS("root:acme") "/p5"};
	for (int i = 0; i < 6; i++) {
		char name[8];
		snprintf(name, sizeof(name), "p%d", i);
		on_take(
		    "GET", paths[i], NULL, 200,
		    ws_cond(name, fine[i], "[" COND("WorkspaceScheduled", "False", "X", "y") "]"),
		    0);
	}
	wsr_provider *p = open_provider();
	wsr_diag d = WSR_DIAG_INIT;
	wsr_resource *r = read_ws(p, "sched", &d);
	assert_int_equal(r->health, WSR_HEALTH_BROKEN);
	assert_string_equal(r->health_why, "kcp reports the workspace Unavailable: "
					   "WorkspaceScheduled is False (Unschedulable: no shard "
					   "matches)");
	wsr_resource_free(r);
	r = read_ws(p, "none", &d);
	assert_int_equal(r->health, WSR_HEALTH_BROKEN);
	assert_string_equal(r->health_why, "kcp reports the workspace Unavailable (no Workspace "
					   "condition says why)");
	wsr_resource_free(r);
	r = read_ws(p, "many", &d); /* KC_CONDITIONS_SHOWN, then a count */
	assert_non_null(strstr(r->health_why, "WorkspaceC is False (C: c); and 2 more"));
	assert_null(strstr(r->health_why, "WorkspaceD"));
	wsr_resource_free(r);
	r = read_ws(p, "huge", &d); /* quoted safely and cut */
	assert_null(strchr(r->health_why, '\n'));
	assert_non_null(strstr(r->health_why, "\\x0a"));
	assert_non_null(strstr(r->health_why, "(4999 bytes)"));
	wsr_resource_free(r);
	for (int i = 0; i < 6; i++) {
		char name[8];
		snprintf(name, sizeof(name), "p%d", i);
		r = read_ws(p, name, &d);
		assert_int_equal(r->health, WSR_HEALTH_OK);
		assert_null(r->health_why);
		wsr_resource_free(r);
	}
	assert_int_equal(wsr_diag_errors(&d), 0);
	ops->close(p);
	wsr_diag_free(&d);
}

/* A server answering with another workspace than the one asked for (found
 * by fuzz_kcpmap): an error naming both, never a resource at the other
 * address for the engine to record. */
static void test_answered_with_another_workspace(void **state)
{
	(void)state;
	on_take("GET", WS("root:acme") "/team-a", NULL, 200, ws("team-b", "team", "Ready"), 0);
	wsr_provider *p = open_provider();
	wsr_diag d = WSR_DIAG_INIT;
	wsr_resource *r = NULL;
	assert_int_equal(ops->read(p, "kcp/root:acme:team-a", &r, &d), WSR_EAPI);
	assert_null(r);
	assert_diag_has(&d, "asked for workspace team-a, the answer is workspace team-b");
	ops->close(p);
	wsr_diag_free(&d);
	fake_reset();
	on_take("POST", WS("root:acme"), NULL, 201, ws("team-b", "team", "Ready"), 0);
	fixture f;
	fixture_init(&f, WSR_ACT_CREATE);
	int polls = 0;
	assert_int_equal(fixture_run(&f, &polls), WSR_EAPI);
	assert_null(f.got);
	assert_diag_has(&f.d, "asked for workspace team-a, the answer is workspace team-b");
	fixture_free(&f);
}

/* ---- check ------------------------------------------------------------------------------ */

/* kcp's default root configuration (config/root/workspacetype-*.yaml), as
 * a server answers GET .../workspacetypes/<name>. */
#define WT(name, spec)                                                                             \
	"{\"kind\":\"WorkspaceType\",\"metadata\":{\"name\":\"" name "\",\"annotations\":{"        \
	"\"kcp.io/path\":\"root\"}},\"spec\":" spec "}"
#define REF(name) "{\"name\":\"" name "\",\"path\":\"root\"}"
#define EXT(name) "\"extend\":{\"with\":[" REF(name) "]}"
#define TYPE_ROOT                                                                                  \
	WT("root", "{" EXT("universal") ",\"defaultChildWorkspaceType\":" REF(                     \
		       "organization") ",\"limitAllowedParents\":{\"none\":true}}")
#define TYPE_UNIVERSAL WT("universal", "{\"initializer\":true}")
#define TYPE_ORG                                                                                   \
	WT("organization",                                                                         \
	   "{" EXT("universal") ",\"defaultChildWorkspaceType\":" REF(                             \
	       "universal") ",\"limitAllowedParents\":{\"types\":[" REF("root") "]},"              \
										"\"limitAllowedC"  \
										"hildren\":{"      \
										"\"types\":"       \
										"[" REF("univers"  \
											"al") "]"  \
											      "}"  \
											      "}")
#define TYPE_TEAM                                                                                  \
	WT("team", "{" EXT("universal") ",\"defaultChildWorkspaceType\":" REF(                     \
		       "universal") ",\"limitAllow"                                                \
				    "edParents\":{"                                                \
				    "\"types\":"                                                   \
				    "[" REF("organ"                                                \
					    "izati"                                                \
					    "on") "," REF("team") "]"                              \
								  "}"                              \
								  "}")
#define TYPE_HOME WT("home", "{" EXT("universal") ",\"limitAllowedParents\":{\"none\":true}}")
#define ALLOWED(b, reason)                                                                         \
	"{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SelfSubjectAccessReview\","        \
	"\"status\":{\"allowed\":" #b ",\"reason\":\"" reason "\"}}"

/* The default types at root; anything else there is 404. */
static void default_types(void)
{
	on("GET", TYPES("root") "root", NULL, 200, TYPE_ROOT, 0);
	on("GET", TYPES("root") "universal", NULL, 200, TYPE_UNIVERSAL, 0);
	on("GET", TYPES("root") "organization", NULL, 200, TYPE_ORG, 0);
	on("GET", TYPES("root") "team", NULL, 200, TYPE_TEAM, 0);
	on("GET", TYPES("root") "home", NULL, 200, TYPE_HOME, 0);
}

static void not_found(const char *path)
{
	on("GET", path, NULL, 404, STATUS(404, "NotFound", "not found"), 0);
}

/* A provider that listed only root (no children). */
static wsr_provider *empty_provider(void)
{
	on_take("GET", WS("root"), NULL, 200, page(NULL, 0), 1);
	wsr_provider *p = open_provider();
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(ops->list(p, &set, &d), 0);
	wsr_resource_set_free(&set);
	wsr_diag_free(&d);
	return p;
}

/* A provider that listed root:acme (organization) and root:acme:team-a (team). */
static wsr_provider *listed_provider(void)
{
	on_take("GET", WS("root"), NULL, 200, page(NULL, 1, ws("acme", "organization", "Ready")),
		1);
	on_take("GET", WS("root:acme"), NULL, 200, page(NULL, 1, ws("team-a", "team", "Ready")), 1);
	on_take("GET", WS("root:acme:team-a"), NULL, 200, page(NULL, 0), 1);
	wsr_provider *p = open_provider();
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(ops->list(p, &set, &d), 0);
	wsr_resource_set_free(&set);
	wsr_diag_free(&d);
	return p;
}

/* Checks a create of a Workspace at path with spec; returns what check said. */
static fixture_checked check_create(wsr_provider *p, const char *path, const char *spec)
{
	const char *name = strrchr(path, ':') + 1;
	wsr_resource *want = desired(WSR_KCP_KIND_WORKSPACE, path, name, spec);
	wsr_change *c = change(WSR_KCP_KIND_WORKSPACE, path, WSR_ACT_CREATE, want, NULL);
	fixture_checked k = fixture_check(ops, p, c);
	wsr_change_free(c);
	wsr_resource_free(want);
	return k;
}

#define SPEC_OF(parent, type)                                                                      \
	"{\"spec\":{\"parent\":\"" parent "\",\"type\":{\"name\":\"" type "\",\"path\":\"root\"}}" \
	"}"
#define UNTYPED(parent) "{\"spec\":{\"parent\":\"" parent "\"}}"

#define assert_checked(k, n, needle)                                                               \
	do {                                                                                       \
		if ((k).errors != (n) || !strstr((k).text, needle))                                \
			fail_msg("want %d error(s) with \"%s\", got %zu:\n%s", n, needle,          \
				 (k).errors, (k).text);                                            \
	} while (0)

/* The tree: an organization, a team in it, and a workspace without
 * type in the team; kcp's default types admit all three. */
static void test_check_default_types_admit_the_tree(void **state)
{
	(void)state;
	wsr_provider *p = empty_provider();
	default_types();
	on("POST", SSAR("root"), NULL, 201, ALLOWED(true, ""), 0);
	unsigned base = fk.requests;
	fixture_checked k = check_create(p, "root:acme", SPEC_OF("root", "organization"));
	assert_checked(k, 0, "");
	fixture_checked_free(&k);
	k = check_create(p, "root:acme:team-a", SPEC_OF("root:acme", "team"));
	assert_checked(k, 0, "");
	fixture_checked_free(&k);
	k = check_create(p, "root:acme:team-a:app", UNTYPED("root:acme:team-a"));
	assert_checked(k, 0, "");
	assert_non_null(strstr(k.reasons, "its type is root:universal (the parent type's default "
					  "child type)"));
	fixture_checked_free(&k);
	/* use is asked of every alias, each once: universal, organization, team */
	unsigned ssars = 0, universal = 0;
	for (unsigned i = base; i < fk.requests && i < MAX_LOG; i++) {
		if (!strstr(fk.log[i].path, "selfsubjectaccessreviews"))
			continue;
		ssars++;
		assert_non_null(strstr(fk.log[i].body, "\"verb\":\"use\""));
		universal += strstr(fk.log[i].body, "\"name\":\"universal\"") != NULL;
	}
	assert_int_equal(ssars, 3);
	assert_int_equal(universal, 1);
	ops->close(p);
}

static void test_check_refusals_in_kcps_words(void **state)
{
	(void)state;
	wsr_provider *p = listed_provider();
	default_types();
	on("GET", TYPES("root") "sub", NULL, 200,
	   WT("sub", "{" EXT("team") ",\"limitAllowedParents\":{\"types\":[" REF(
			 "organization") "," REF("team") "]}}"),
	   0);
	on("GET", TYPES("root") "both", NULL, 200,
	   WT("both",
	      "{" EXT("team") ",\"limitAllowedParents\":{\"types\":[" REF("organization") "]}}"),
	   0);
	on("GET", TYPES("root") "plain", NULL, 200, WT("plain", "{}"), 0);
	on("GET", TYPES("root") "leaf", NULL, 200,
	   WT("leaf", "{\"limitAllowedChildren\":{\"none\":true}}"), 0);
	not_found(TYPES("root") "*");
	on("POST", SSAR("root"), NULL, 201, ALLOWED(true, ""), 0);

	fixture_checked k = check_create(p, "root:acme:ghosts", SPEC_OF("root:acme", "ghost"));
	assert_checked(k, 1,
		       "workspaces.tenancy.kcp.io \"ghosts\" is forbidden: Internal error "
		       "occurred: workspacetypes.tenancy.kcp.io \"root:ghost\" not found");
	fixture_checked_free(&k);

	/* the child's limitAllowedParents, with the parent's aliases */
	k = check_create(p, "root:acme:org2", SPEC_OF("root:acme", "organization"));
	assert_checked(
	    k, 1,
	    "workspaces.tenancy.kcp.io \"org2\" is forbidden: workspace type "
	    "root:organization only allows [root:root] parent workspaces, but parent "
	    "type root:organization only implements [root:organization root:universal] | "
	    "its parent root:acme is of type root:organization");
	fixture_checked_free(&k);
	k = check_create(p, "root:t", SPEC_OF("root", "team"));
	assert_checked(k, 1,
		       "workspace type root:team only allows [root:organization root:team] parent "
		       "workspaces, but parent type root:root only implements [root:root "
		       "root:universal]");
	fixture_checked_free(&k);
	/* a rule inherited: sub extends team; both's own rule and team's fail together */
	k = check_create(p, "root:s", SPEC_OF("root", "sub"));
	assert_checked(k, 1,
		       "\"s\" is forbidden: [workspace type root:sub extends root:team, which "
		       "only allows [root:organization root:team] parent workspaces, but "
		       "parent type root:root only implements [root:root root:universal], "
		       "workspace type root:sub only allows");
	fixture_checked_free(&k);
	/* none: nowhere (home), and no child at all (leaf) */
	k = check_create(p, "root:acme:h", SPEC_OF("root:acme", "home"));
	assert_checked(k, 1, "\"h\" is forbidden: workspace type root:home cannot have any parent");
	fixture_checked_free(&k);
	k = check_create(p, "root:acme:team-a:leaf", SPEC_OF("root:acme:team-a", "leaf"));
	assert_checked(k, 0, "");
	fixture_checked_free(&k);
	k = check_create(p, "root:acme:team-a:leaf:x",
			 SPEC_OF("root:acme:team-a:leaf", "universal"));
	assert_checked(k, 1, "workspace type root:leaf cannot have any child");
	fixture_checked_free(&k);
	/* the parent's limitAllowedChildren: an organization takes universal ones */
	k = check_create(p, "root:acme:p", SPEC_OF("root:acme", "plain"));
	assert_checked(k, 1,
		       "workspace type root:organization only allows [root:universal] child "
		       "workspaces, but child type root:plain only implements [root:plain]");
	fixture_checked_free(&k);
	/* no spec.type under a type without defaultChildWorkspaceType: kcp's literal text */
	k = check_create(p, "root:acme:team-a:leaf:y", UNTYPED("root:acme:team-a:leaf"));
	assert_checked(k, 1,
		       "\"y\" is forbidden: spec.defaultChildWorkspaceType of workspace type "
		       "%s:%s must be set | spec.type is not set and the parent's type "
		       "root:leaf has no defaultChildWorkspaceType | set spec.type");
	fixture_checked_free(&k);
	ops->close(p);
}

static void test_check_use_on_every_alias(void **state)
{
	(void)state;
	wsr_provider *p = listed_provider();
	default_types();
	/* team extends universal: universal is asked first, and refused */
	on("POST", SSAR("root"), NULL, 201, ALLOWED(false, "not in the type's users"), 1);
	on("POST", SSAR("root"), NULL, 201, ALLOWED(true, ""), 0);
	fixture_checked k = check_create(p, "root:acme:team-b", SPEC_OF("root:acme", "team"));
	assert_checked(k, 1,
		       "\"team-b\" is forbidden: unable to use workspace type root:universal: "
		       "missing verb='use' permission on workspacetype | not in the type's users");
	fixture_checked_free(&k);
	/* the answers are kept: team itself was never asked, so it is now */
	k = check_create(p, "root:acme:team-c", SPEC_OF("root:acme", "team"));
	assert_checked(k, 1, "unable to use workspace type root:universal");
	fixture_checked_free(&k);
	ops->close(p);
}

/* A type without path is looked up in the parent, its parent, ... root;
 * the canonical path is the type's kcp.io/path. */
static void test_check_resolves_types_upwards(void **state)
{
	(void)state;
	wsr_provider *p = listed_provider();
	default_types();
	not_found(TYPES("root:acme:team-a") "*");
	on("GET", TYPES("root:acme") "custom", NULL, 200,
	   "{\"metadata\":{\"name\":\"custom\",\"annotations\":{\"kcp.io/path\":\"root:acme\"}},"
	   "\"spec\":{}}",
	   0);
	not_found(TYPES("root:acme") "*");
	not_found(TYPES("root") "*");
	on("POST", SSAR("root:acme"), NULL, 201, ALLOWED(true, ""), 0);
	on("POST", SSAR("root"), NULL, 201, ALLOWED(true, ""), 0);
	fixture_checked k =
	    check_create(p, "root:acme:team-a:c",
			 "{\"spec\":{\"parent\":\"root:acme:team-a\",\"type\":{\"name\":"
			 "\"custom\"}}}");
	assert_checked(k, 0, "");
	assert_non_null(strstr(k.reasons, "its type is root:acme:custom (kcp resolves spec.type "
					  "from the parent up)"));
	fixture_checked_free(&k);
	/* team resolves to root's */
	k = check_create(
	    p, "root:acme:team-a:t",
	    "{\"spec\":{\"parent\":\"root:acme:team-a\",\"type\":{\"name\":\"team\"}}}");
	assert_checked(k, 0, "");
	assert_non_null(strstr(k.reasons, "its type is root:team"));
	fixture_checked_free(&k);
	k = check_create(
	    p, "root:acme:team-a:n",
	    "{\"spec\":{\"parent\":\"root:acme:team-a\",\"type\":{\"name\":\"nope\"}}}");
	assert_checked(k, 1, "workspace type \"nope\" cannot be resolved");
	fixture_checked_free(&k);
	/* one GET per workspace on the way up, each asked once */
	unsigned custom = 0;
	for (unsigned i = 0; i < fk.requests && i < MAX_LOG; i++)
		custom += strstr(fk.log[i].path, "/workspacetypes/custom") != NULL;
	assert_int_equal(custom, 2);
	ops->close(p);
}

/* Types that extend each other in a circle, and a chain longer than wsr follows. */
static int chain_len;

static char *chain_type(const char *url, const char *cont)
{
	(void)cont;
	int i = atoi(strrchr(url, '/') + 2);
	if (i == 99)
		return strdup(WT("t99", "{" EXT("t98") "}"));
	if (i >= chain_len)
		return strdup(WT("tz", "{}"));
	return wsr_strdupf("{\"metadata\":{\"name\":\"t%d\",\"annotations\":{\"kcp.io/path\":"
			   "\"root\"}},\"spec\":{\"extend\":{\"with\":[{\"name\":\"t%d\",\"path\":"
			   "\"root\"}]}}}",
			   i, i == 98 ? 99 : i + 1);
}

static void test_check_alias_cycles_and_limit(void **state)
{
	(void)state;
	wsr_provider *p = listed_provider();
	default_types();
	on("GET", TYPES("root") "t*", NULL, 200, NULL, 0);
	fk.routes[fk.nroutes - 1].gen = chain_type;
	on("POST", SSAR("root"), NULL, 201, ALLOWED(true, ""), 0);
	/* 15 types extended (t1..t15) and itself: KC_ALIASES_MAX */
	chain_len = KC_ALIASES_MAX - 1;
	fixture_checked k =
	    check_create(p, "root:acme:team-a:a", SPEC_OF("root:acme:team-a", "t0"));
	assert_checked(k, 0, "");
	fixture_checked_free(&k);
	ops->close(p);
	fake_reset();
	p = listed_provider();
	default_types();
	on("GET", TYPES("root") "t*", NULL, 200, NULL, 0);
	fk.routes[fk.nroutes - 1].gen = chain_type;
	on("POST", SSAR("root"), NULL, 201, ALLOWED(true, ""), 0);
	chain_len = KC_ALIASES_MAX;
	k = check_create(p, "root:acme:team-a:b", SPEC_OF("root:acme:team-a", "t0"));
	assert_checked(k, 1, "workspace type root:t0 extends more than 15 types");
	fixture_checked_free(&k);
	chain_len = 200; /* t98 -> t99 -> t98 */
	k = check_create(p, "root:acme:team-a:c", SPEC_OF("root:acme:team-a", "t98"));
	assert_checked(k, 1, "circular dependency detected in workspace type root:t98");
	fixture_checked_free(&k);
	ops->close(p);
}

/* kcp's content authorizer and deletion: what a parent's phase allows. */
static void test_check_parent_phases(void **state)
{
	(void)state;
	on_take(
	    "GET", WS("root"), NULL, 200,
	    page(NULL, 6, ws("term", "organization", "Terminating"),
		 ws("del", "organization", "Deleting"), ws("sched", "organization", "Scheduling"),
		 ws("unav", "organization", "Unavailable"), ws("inact", "organization", "Inactive"),
		 ws("init", "organization", "Initializing")),
	    1);
	wsr_provider *p = open_provider();
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(ops->list(p, &set, &d), 0);
	assert_int_equal(fk.requests, 1); /* none of them is listed: none is Ready */
	wsr_resource_set_free(&set);
	wsr_diag_free(&d);
	default_types();
	on("POST", SSAR("root"), NULL, 201, ALLOWED(true, ""), 0);
	static const struct {
		const char *parent, *needle;
	} cases[] = {
	    {"root:term", "cannot create kcp/root:term:x: its parent root:term is being deleted "
			  "(phase Terminating) | kcp deletes every workspace inside"},
	    {"root:del", "its parent root:del is being deleted (phase Deleting)"},
	    {"root:sched", "its parent root:sched is in phase Scheduling | kcp refuses access to "
			   "a workspace's content in phase Scheduling (403: not permitted due to "
			   "phase \"Scheduling\") | plan again when it is Ready"},
	    {"root:unav", "its parent root:unav is in phase Unavailable"},
	    {"root:inact", "its parent root:inact is in phase Inactive"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = wsr_strdupf("%s:x", cases[i].parent);
		char *spec = wsr_strdupf("{\"spec\":{\"parent\":\"%s\",\"type\":{\"name\":"
					 "\"universal\",\"path\":\"root\"}}}",
					 cases[i].parent);
		fixture_checked k = check_create(p, path, spec);
		assert_checked(k, 1, cases[i].needle);
		fixture_checked_free(&k);
		free(path);
		free(spec);
	}
	fixture_checked k = check_create(p, "root:init:x", SPEC_OF("root:init", "universal"));
	assert_checked(k, 0, "");
	assert_non_null(strstr(k.reasons, "its parent root:init is still Initializing"));
	fixture_checked_free(&k);
	ops->close(p);
}

static void test_check_planned_parent(void **state)
{
	(void)state;
	wsr_provider *p = listed_provider();
	default_types();
	on("POST", SSAR("root"), NULL, 201, ALLOWED(true, ""), 0);
	/* the parent is created by the same plan: its child is checked against it */
	fixture_checked k = check_create(p, "root:newco", SPEC_OF("root", "organization"));
	assert_checked(k, 0, "");
	fixture_checked_free(&k);
	k = check_create(p, "root:newco:t1", SPEC_OF("root:newco", "team"));
	assert_checked(k, 0, "");
	fixture_checked_free(&k);
	k = check_create(p, "root:newco:nested", SPEC_OF("root:newco", "organization"));
	assert_checked(k, 1,
		       "only allows [root:root] parent workspaces, but parent type "
		       "root:organization only implements");
	fixture_checked_free(&k);
	/* a type without path is not looked up in the planned workspace */
	k = check_create(p, "root:newco:t1:x",
			 "{\"spec\":{\"parent\":\"root:newco:t1\",\"type\":{\"name\":\"team\"}}}");
	assert_checked(k, 0, "");
	fixture_checked_free(&k);
	for (unsigned i = 0; i < fk.requests && i < MAX_LOG; i++)
		assert_null(strstr(fk.log[i].path, "/clusters/root:newco"));
	/* a refused parent is not remembered: its child is the engine's to refuse */
	k = check_create(p, "root:newco:nested:y", SPEC_OF("root:newco:nested", "team"));
	assert_checked(k, 0, "");
	fixture_checked_free(&k);
	ops->close(p);
}

/* ---- homes ------------------------------------------------------------------------------ */

static wsr_provider *open_with_home(const char *home)
{
	char *cfg = wsr_strdupf("{\"endpoint\":\"%s\",\"apiKey\":\"test-token\",\"timeout\":30,"
				"\"home\":%s}",
				base_url, home);
	cJSON *c = cJSON_Parse(cfg);
	wsr_provider *p = NULL;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(ops->open(&p, c, &d), 0);
	cJSON_Delete(c);
	free(cfg);
	wsr_diag_free(&d);
	return p;
}

static fixture_checked check_home_action(wsr_provider *p, const char *path, const char *user,
					 wsr_action a)
{
	wsr_resource *want =
	    a == WSR_ACT_DELETE ? NULL : desired(WSR_KCP_KIND_HOME, path, user, "{}");
	wsr_change *c = change(WSR_KCP_KIND_HOME, path, a, want, NULL);
	fixture_checked k = fixture_check(ops, p, c);
	wsr_change_free(c);
	wsr_resource_free(want);
	return k;
}

static void test_check_home_buckets(void **state)
{
	(void)state;
	on_take("GET", WS("root"), NULL, 200, page(NULL, 1, ws("users", "homeroot", "Ready")), 1);
	on_take("GET", WS("root:users"), NULL, 200, page(NULL, 0), 1);
	on("GET", TYPES("root") "home", NULL, 200, WT("home", "{}"), 0);
	on("GET", TYPES("root") "homebucket", NULL, 200, WT("homebucket", "{}"), 0);
	on("POST", SSAR("root"), NULL, 201, ALLOWED(true, ""), 1);
	on("POST", SSAR("root"), NULL, 201, ALLOWED(false, "homes are made by kcp here"), 0);
	wsr_provider *p = open_with_home("{\"style\":\"buckets\"}");
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(ops->list(p, &set, &d), 0);
	/* buckets missing: homebucket (allowed) and home (refused) are asked */
	fixture_checked k =
	    check_home_action(p, "root:users:bi:ie:user-1", "user-1", WSR_ACT_CREATE);
	assert_checked(k, 1,
		       "unable to use workspace type root:home: missing verb='use' "
		       "permission on workspacetype | homes are made");
	fixture_checked_free(&k);
	/* not as many buckets as providers.kcp.home says */
	k = check_home_action(p, "root:users:bi:user-1", "user-1", WSR_ACT_CREATE);
	assert_checked(k, 1,
		       "kcp/root:users:bi:user-1 is not a home workspace address under "
		       "root:users with 2 bucket levels");
	fixture_checked_free(&k);
	/* a path the home rule does not give for this user */
	k = check_home_action(p, "root:users:aa:bb:user-1", "user-1", WSR_ACT_CREATE);
	assert_checked(k, 1,
		       "is not where kcp puts the home of this user | the home rule gives "
		       "root:users:bi:ie:user-1");
	fixture_checked_free(&k);
	ops->close(p);
	wsr_resource_set_free(&set);

	/* the prefix is not on the server */
	fake_reset();
	on_take("GET", WS("root"), NULL, 200, page(NULL, 0), 1);
	on("GET", TYPES("root") "homebucket", NULL, 200, WT("homebucket", "{}"), 0);
	p = open_with_home("{\"style\":\"buckets\"}");
	assert_int_equal(ops->list(p, &set, &d), 0);
	k = check_home_action(p, "root:users:bi:ie:user-1", "user-1", WSR_ACT_CREATE);
	assert_checked(k, 1, "the home workspaces' prefix root:users does not exist");
	fixture_checked_free(&k);
	ops->close(p);

	/* a server of today's kind: no root:homebucket */
	fake_reset();
	on_take("GET", WS("root"), NULL, 200, page(NULL, 0), 1);
	not_found(TYPES("root") "homebucket");
	p = open_with_home("{\"style\":\"buckets\"}");
	assert_int_equal(ops->list(p, &set, &d), 0);
	k = check_home_action(p, "root:users:bi:ie:user-1", "user-1", WSR_ACT_CREATE);
	assert_checked(k, 1,
		       "keeps home workspaces as logical clusters user:<name>, not as "
		       "providers.kcp.home.style says | the server has no workspace type "
		       "root:homebucket | set providers.kcp.home.style: logicalcluster");
	fixture_checked_free(&k);
	ops->close(p);
	wsr_resource_set_free(&set);
	wsr_diag_free(&d);
}

static void test_check_home_logicalcluster(void **state)
{
	(void)state;
	wsr_provider *p = empty_provider(); /* logicalcluster is the default */
	not_found(TYPES("root") "homebucket");
	on("POST", SSAR("root"), NULL, 201, ALLOWED(true, ""), 1);
	on("POST", SSAR("root"), NULL, 201, ALLOWED(false, "not system:masters"), 0);
	fixture_checked k = check_home_action(p, "user:adam", "adam", WSR_ACT_CREATE);
	assert_checked(k, 0, "");
	assert_non_null(strstr(k.reasons, "home workspace of user adam: kcp creates it when the "
					  "user asks for ~ (wsr asks as adam, with "
					  "Impersonate-User)"));
	fixture_checked_free(&k);
	const char *body = fk.log[fk.requests - 1].body;
	assert_non_null(strstr(body, "\"verb\":\"impersonate\",\"group\":\"\",\"resource\":"
				     "\"users\",\"name\":\"adam\""));
	/* asked once per user */
	unsigned before = fk.requests;
	k = check_home_action(p, "user:adam", "adam", WSR_ACT_CREATE);
	assert_checked(k, 0, "");
	fixture_checked_free(&k);
	assert_int_equal(fk.requests, before);
	/* a user name with '@' and '.' is an address, a URL segment and a header value */
	k = check_home_action(p, "user:bella@example.com", "bella@example.com", WSR_ACT_CREATE);
	assert_checked(k, 1,
		       "cannot create the home workspace of bella@example.com: wsr's credentials "
		       "may not impersonate user bella@example.com (kcp creates a home only for "
		       "the user who asks for it; wsr asks with Impersonate-User) | not "
		       "system:masters | let wsr's credentials impersonate users");
	fixture_checked_free(&k);
	/* kcp has no call that deletes a home */
	k = check_home_action(p, "user:adam", "adam", WSR_ACT_DELETE);
	assert_checked(k, 1,
		       "kcp has no API that deletes a home workspace | a home is a logical "
		       "cluster kcp made for its user");
	fixture_checked_free(&k);
	ops->close(p);

	/* a bucket-style server */
	fake_reset();
	p = empty_provider();
	on("GET", TYPES("root") "homebucket", NULL, 200, WT("homebucket", "{}"), 0);
	k = check_home_action(p, "user:adam", "adam", WSR_ACT_CREATE);
	assert_checked(k, 1,
		       "keeps home workspaces in buckets, not as providers.kcp.home.style "
		       "says | the server has workspace type root:homebucket | set "
		       "providers.kcp.home.style: buckets");
	fixture_checked_free(&k);
	ops->close(p);
}

#define HOME_WS(user, phase)                                                                       \
	"{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\",\"metadata\":{"        \
	"\"name\":\"cluster\"},\"spec\":{\"cluster\":\"2ph5o8yw\",\"URL\":"                        \
	"\"http://kcp/clusters/user:" user "\"},\"status\":{\"phase\":\"" phase "\"}}"

static void test_home_created_through_tilde(void **state)
{
	(void)state;
	fake_retry_after = "1";
	on("GET", "/clusters/root" API "/workspaces/~", NULL, 429, "Creating the home workspace",
	   2);
	on("GET", "/clusters/root" API "/workspaces/~", NULL, 200, HOME_WS("adam", "Ready"), 0);
	wsr_provider *p = open_provider();
	wsr_resource *want = desired(WSR_KCP_KIND_HOME, "user:adam", "adam", "{}");
	wsr_change *c = change(WSR_KCP_KIND_HOME, "user:adam", WSR_ACT_CREATE, want, NULL);
	wsr_diag d = WSR_DIAG_INIT;
	wsr_op *op = NULL;
	assert_int_equal(ops->start(p, c, WSR_ACT_CREATE, &op, &d), 0);
	assert_int_equal(fk.requests, 1);
	assert_string_equal(fk.log[0].as, "adam");
	/* within Retry-After a poll returns at once, without a request */
	int done = 0;
	wsr_resource *r = NULL;
	int64_t t0 = wsr_clock_mono_ms();
	assert_int_equal(ops->poll(p, op, &done, &r, &d), 0);
	assert_false(done);
	assert_true(wsr_clock_mono_ms() - t0 < 200);
	assert_int_equal(fk.requests, 1);
	for (int i = 0; i < 100 && !done; i++) {
		assert_int_equal(ops->poll(p, op, &done, &r, &d), 0);
		if (!done)
			usleep(50 * 1000);
	}
	assert_true(done);
	int64_t took = wsr_clock_mono_ms() - t0;
	assert_true(took >= 1900); /* two waits of one second */
	assert_int_equal(fk.requests, 3);
	assert_string_equal(fk.log[2].as, "adam");
	assert_non_null(r);
	assert_string_equal(r->address, "kcp/user:adam");
	assert_string_equal(r->kind, WSR_KCP_KIND_HOME);
	assert_string_equal(r->id, "2ph5o8yw");
	assert_string_equal(wsr_json_str(r->status, "phase"), "Ready");
	assert_int_equal(wsr_diag_errors(&d), 0);
	wsr_resource_free(r);
	ops->op_free(op);

	/* impersonation refused: kcp's 403 */
	fake_reset();
	on("GET", "/clusters/root" API "/workspaces/~", NULL, 403,
	   STATUS(403, "Forbidden",
		  "users \\\"adam\\\" is forbidden: User \\\"x\\\" cannot "
		  "impersonate resource \\\"users\\\""),
	   0);
	assert_int_equal(ops->start(p, c, WSR_ACT_CREATE, &op, &d), WSR_EAPI);
	assert_diag_has(&d, "kcp refused to create the home workspace of adam: users \"adam\" is "
			    "forbidden");
	wsr_diag_free(&d);
	/* hostile answers are errors naming what is wrong, never a crash */
	static const struct {
		unsigned status;
		const char *body, *needle;
	} bad[] = {
	    {200, "<html>", "status.phase is missing"},
	    {200, "{\"status\":{\"phase\":7}}", "status.phase is missing"},
	    {500, "oops", "HTTP 500, reason (none) (the answer was not a Status"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fake_reset();
		on("GET", "/clusters/root" API "/workspaces/~", NULL, bad[i].status, bad[i].body,
		   0);
		wsr_diag_free(&d);
		assert_int_equal(ops->start(p, c, WSR_ACT_CREATE, &op, &d), WSR_EAPI);
		assert_diag_has(&d, bad[i].needle);
	}
	wsr_diag_free(&d);
	/* and nothing but a creation is possible */
	assert_int_equal(ops->start(p, c, WSR_ACT_DELETE, &op, &d), WSR_EINVAL);
	assert_diag_has(&d, "kcp has no API to delete a home workspace");
	wsr_change_free(c);
	wsr_resource_free(want);
	ops->close(p);
	wsr_diag_free(&d);
}

#define LC(user, phase)                                                                            \
	"{\"apiVersion\":\"core.kcp.io/v1alpha1\",\"kind\":\"LogicalCluster\",\"metadata\":{"      \
	"\"name\":\"cluster\",\"annotations\":{\"kcp.io/path\":\"user:" user "\",\"kcp.io/"        \
	"cluster\":\"2ph5o8yw\"},\"resourceVersion\":\"3\"},\"status\":{\"phase\":\"" phase        \
	"\",\"URL\":\"http://kcp/clusters/user:" user "\"}}"

static void test_read_home_and_unlisted(void **state)
{
	(void)state;
	on("GET", "/clusters/user:adam/apis/core.kcp.io/v1alpha1/logicalclusters/cluster", NULL,
	   200, LC("adam", "Ready"), 0);
	on("GET",
	   "/clusters/user:bella@example.com/apis/core.kcp.io/v1alpha1/logicalclusters/cluster",
	   NULL, 403, STATUS(403, "Forbidden", "access denied"), 0);
	wsr_provider *p = listed_provider();
	unsigned before = fk.requests;
	wsr_diag d = WSR_DIAG_INIT;
	wsr_resource *r = NULL;
	assert_int_equal(ops->read(p, "kcp/user:adam", &r, &d), 0);
	assert_non_null(r);
	assert_string_equal(r->kind, WSR_KCP_KIND_HOME);
	assert_string_equal(r->id, "2ph5o8yw");
	assert_string_equal(wsr_json_str(r->status, "URL"), "http://kcp/clusters/user:adam");
	wsr_resource_free(r);
	assert_int_equal(ops->read(p, "kcp/user:bella@example.com", &r, &d), 0);
	assert_null(r); /* no such home */
	assert_int_equal(fk.requests, before + 2);
	/* under a listed workspace, or under one the listing shows absent: no request */
	assert_int_equal(ops->read(p, "kcp/root:acme:new", &r, &d), 0);
	assert_int_equal(ops->read(p, "kcp/root:nothing:deeper", &r, &d), 0);
	assert_null(r);
	assert_int_equal(fk.requests, before + 2);
	assert_int_equal(wsr_diag_errors(&d), 0);
	assert_true(ops->partial_list);
	ops->close(p);
	wsr_diag_free(&d);
}

/* ---- deletion: the subtree, afresh ------------------------------------------------------- */

static fixture_checked check_delete(wsr_provider *p, const char *path)
{
	wsr_change *c = change(WSR_KCP_KIND_WORKSPACE, path, WSR_ACT_DELETE, NULL, NULL);
	fixture_checked k = fixture_check(ops, p, c);
	wsr_change_free(c);
	return k;
}

static void test_check_delete_lists_the_subtree(void **state)
{
	(void)state;
	wsr_provider *p = listed_provider();
	/* the platform now: a child made after the listing, one Terminating, a grandchild,
	 * one still Scheduling (no logical cluster yet: nothing to list inside) */
	on_take("GET", WS("root:acme"), NULL, 200,
		page(NULL, 3, ws("team-a", "team", "Ready"), ws("late", "team", "Terminating"),
		     ws("new", "team", "Scheduling")),
		0);
	on_take("GET", WS("root:acme:team-a"), NULL, 200,
		page(NULL, 1, ws("app", "universal", "Ready")), 0);
	on_take("GET", WS("root:acme:late"), NULL, 200, page(NULL, 0), 0);
	on_take("GET", WS("root:acme:team-a:app"), NULL, 200, page(NULL, 0), 0);
	unsigned before = fk.requests;
	fixture_checked k = check_delete(p, "root:acme");
	assert_checked(k, 0, "");
	assert_string_equal(
	    k.extra, "{\"destroys\":[\"workspace kcp/root:acme:team-a (type root:team, Ready)\","
		     "\"workspace kcp/root:acme:late (type root:team, Terminating)\","
		     "\"workspace kcp/root:acme:new (type root:team, Scheduling)\","
		     "\"workspace kcp/root:acme:team-a:app (type root:universal, Ready)\"],"
		     "\"descendants\":[\"kcp/root:acme:team-a\",\"kcp/root:acme:late\",\"kcp/"
		     "root:acme:new\","
		     "\"kcp/root:acme:team-a:app\"]}");
	fixture_checked_free(&k);
	assert_int_equal(fk.requests - before, 4);
	/* a leaf: nothing under it, no extra */
	k = check_delete(p, "root:acme:team-a:app");
	assert_checked(k, 0, "");
	assert_null(k.extra);
	fixture_checked_free(&k);
	ops->close(p);

	/* a subtree wsr may not read refuses the deletion */
	fake_reset();
	p = listed_provider();
	on_take("GET", WS("root:acme"), NULL, 200, page(NULL, 1, ws("team-a", "team", "Ready")), 0);
	on("GET", WS("root:acme:team-a"), NULL, 403, STATUS(403, "Forbidden", "no"), 0);
	k = check_delete(p, "root:acme");
	assert_checked(k, 1,
		       "cannot delete kcp/root:acme: the workspaces in root:acme:team-a "
		       "cannot be listed (HTTP 403) | kcp deletes every workspace under a "
		       "workspace it deletes");
	fixture_checked_free(&k);
	/* gone meanwhile: nothing to destroy */
	on("GET", WS("root:gone"), NULL, 404, STATUS(404, "NotFound", "no"), 0);
	k = check_delete(p, "root:gone");
	assert_checked(k, 0, "");
	assert_null(k.extra);
	fixture_checked_free(&k);
	ops->close(p);
}

/* ---- parent -------------------------------------------------------------------------------- */

static void expect_parent(const char *kind, const char *address, int rc, const char *want)
{
	char buf[WSR_ADDRESS_MAX + 1] = "untouched";
	assert_int_equal(wsr_kcp_parent(kind, address, buf, sizeof(buf)), rc);
	assert_string_equal(buf, want);
	assert_true(ops->parent == wsr_kcp_parent);
}

static void test_parent_for_all_cases(void **state)
{
	(void)state;
	const char *W = WSR_KCP_KIND_WORKSPACE, *H = WSR_KCP_KIND_HOME;
	expect_parent(W, "kcp/root:a:b:c", 0, "kcp/root:a:b");
	expect_parent(W, "kcp/root:a:b", 0, "kcp/root:a");
	expect_parent(W, "kcp/root:a", 0, ""); /* under root: nothing wsr manages */
	expect_parent(H, "kcp/root:users:bi:ie:user-1", 0, ""); /* buckets are the provider's */
	expect_parent(H, "kcp/user:bella@example.com", 0, "");	/* a logical cluster, no parent */
	expect_parent(H, "kcp/user:", WSR_EINVAL, "");
	expect_parent(H, "kcp/user:Adam", WSR_EINVAL, "");
	expect_parent(W, "kcp/user:adam", WSR_EINVAL, ""); /* not a Workspace address */
	expect_parent(W, "kcp/root", WSR_EINVAL, "");
	expect_parent(W, "kcp/", WSR_EINVAL, "");
	expect_parent(W, "kcp/other:a", WSR_EINVAL, "");
	expect_parent(W, "kcp/root::a", WSR_EINVAL, "");
	expect_parent(W, "kcp/root:a:", WSR_EINVAL, "");
	expect_parent(W, "kcp/root:-a", WSR_EINVAL, "");
	expect_parent(W, "kcp/root:A", WSR_EINVAL, "");
	expect_parent(W, "kcp/root:a/b", WSR_EINVAL, "");
	expect_parent(W, "loopback/acme/x", WSR_EINVAL, "");
	expect_parent("kcp.wsr.dev/v1/Other", "kcp/root:a:b", WSR_EINVAL, "");
	expect_parent(NULL, "kcp/root:a:b", WSR_EINVAL, "");
	char name[70];
	memset(name, 'a', 64);
	strcpy(name + 64, ":b");
	char *addr = wsr_strdupf("kcp/root:%s", name); /* a 64-character name */
	expect_parent(W, addr, WSR_EINVAL, "");
	free(addr);
	char small[8];
	assert_int_equal(wsr_kcp_parent(W, "kcp/root:abcdef:g", small, sizeof(small)), WSR_ELIMIT);
	assert_string_equal(small, "");
}

/* ---- open through a kubeconfig ---------------------------------------------------------- */

static void test_kubeconfig_token_reaches_the_server(void **state)
{
	(void)state;
	char dir[] = "/tmp/wsr-kcp-wire-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = wsr_strdupf("%s/config", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(
	    f,
	    "apiVersion: v1\nclusters:\n- name: kcp\n  cluster:\n    server: "
	    "%s/clusters/root:acme\nusers:\n- name: me\n  user:\n    token: kube-token\n"
	    "contexts:\n- name: kcp\n  context: {cluster: kcp, user: me}\ncurrent-context: kcp\n",
	    base_url);
	fclose(f);
	char *cfg = wsr_strdupf("{\"endpoint\":\"kubeconfig\",\"kubeconfig\":\"%s\"}", path);
	cJSON *c = cJSON_Parse(cfg);
	wsr_provider *p = NULL;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(ops->open(&p, c, &d), 0);
	on_take("GET", WS("root"), NULL, 200, page(NULL, 0), 0);
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	assert_int_equal(ops->list(p, &set, &d), 0);
	assert_string_equal(fk.log[0].auth, "Bearer kube-token");
	assert_string_equal(fk.log[0].path, WS("root")); /* the server's root, not root:acme */
	ops->close(p);
	unlink(path);
	rmdir(dir);
	cJSON_Delete(c);
	free(cfg);
	free(path);
	wsr_resource_set_free(&set);
	wsr_diag_free(&d);
}

#define T(f) cmocka_unit_test_setup(f, reset)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_list_walks_three_levels_across_pages),
	    T(test_list_hostile_answers_become_diagnostics),
	    T(test_list_hostile_numbers_are_never_converted),
	    T(test_open_refuses_hostile_config_numbers),
	    T(test_list_skips_refused_subtrees),
	    T(test_list_page_limit_boundary),
	    T(test_list_stops_at_the_path_limit),
	    T(test_list_repeated_continue_is_refused),
	    T(test_create_waits_through_phases_to_ready),
	    T(test_create_stops_when_kcp_takes_the_workspace_out_of_service),
	    T(test_create_409_adopts_when_the_type_matches),
	    T(test_create_sends_the_type_as_the_spec_has_it),
	    T(test_create_hostile_answers),
	    T(test_create_home_makes_missing_buckets),
	    T(test_update_retries_on_conflict_then_gives_up),
	    T(test_delete_polls_until_gone),
	    T(test_transfer_and_upgrade_are_not_kcp_operations),
	    T(test_read_one_workspace),
	    T(test_unavailable_workspace_is_broken_with_kcps_reason),
	    T(test_answered_with_another_workspace),
	    T(test_check_default_types_admit_the_tree),
	    T(test_check_refusals_in_kcps_words),
	    T(test_check_use_on_every_alias),
	    T(test_check_resolves_types_upwards),
	    T(test_check_alias_cycles_and_limit),
	    T(test_check_parent_phases),
	    T(test_check_planned_parent),
	    T(test_check_home_buckets),
	    T(test_check_home_logicalcluster),
	    T(test_home_created_through_tilde),
	    T(test_read_home_and_unlisted),
	    T(test_check_delete_lists_the_subtree),
	    T(test_parent_for_all_cases),
	    T(test_kubeconfig_token_reaches_the_server),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
