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
		char method[8], path[160], limit[8], cont[32], auth[64];
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
		    "\"name\":\"team\"}},\"status\":{\"phase\":\"Ready\"}}"),
	    200, "metadata.labels.x is not a string");
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
	    {201, "{\"spec\":{\"type\":{\"name\":\"team\"}},\"status\":{}}", NULL,
	     "status.phase is missing"},
	    {201, "{\"spec\":{\"type\":{\"name\":\"team\"}},\"status\":{\"phase\":\"Scheduling\"}}",
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

static void test_delete_polls_until_gone(void **state)
{
	(void)state;
	on_take("DELETE", WS("root:acme") "/team-a", NULL, 200,
		ws_full("team-a", "team", "Ready", "5",
			",\"deletionTimestamp\":\"2026-11-21T09:15:00Z\"", ""),
		0);
	on_take("GET", WS("root:acme") "/team-a", NULL, 200, ws("team-a", "team", "Ready"), 2);
	on("GET", WS("root:acme") "/team-a", NULL, 404, STATUS(404, "NotFound", "not found"), 0);
	fixture f;
	fixture_init(&f, WSR_ACT_DELETE);
	int polls = 0;
	assert_int_equal(fixture_run(&f, &polls), 0);
	assert_null(f.got);
	assert_int_equal(polls, 3);
	assert_int_equal(fk.requests, 4);

	/* children: kcp's 409 and its message */
	fake_reset();
	on("DELETE", WS("root:acme") "/team-a", NULL, 409,
	   STATUS(409, "Conflict", "workspace root:acme:team-a has child workspaces: x, y"), 0);
	assert_int_equal(fixture_run(&f, NULL), WSR_EAPI);
	assert_diag_has(&f.d, "it still has child workspaces | workspace root:acme:team-a has "
			      "child workspaces: x, y | delete its child workspaces first");

	/* already gone is what a delete wants */
	fake_reset();
	on("DELETE", WS("root:acme") "/team-a", NULL, 404, STATUS(404, "NotFound", "not found"), 0);
	wsr_diag_free(&f.d);
	assert_int_equal(fixture_run(&f, NULL), 0);
	assert_int_equal(wsr_diag_errors(&f.d), 0);
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

/* ---- check ------------------------------------------------------------------------------ */

#define TYPE_ROOT "{\"kind\":\"WorkspaceType\",\"metadata\":{\"name\":\"root\"},\"spec\":{}}"
#define TYPE_ORG                                                                                   \
	"{\"kind\":\"WorkspaceType\",\"metadata\":{\"name\":\"organization\"},\"spec\":{"          \
	"\"defaultChildWorkspaceType\":{\"name\":\"team\",\"path\":\"root\"},"                     \
	"\"limitAllowedParents\":{\"types\":[{\"name\":\"root\",\"path\":\"root\"}]},"             \
	"\"limitAllowedChildren\":{\"types\":[{\"name\":\"team\",\"path\":\"root\"}]}}}"
#define TYPE_TEAM                                                                                  \
	"{\"kind\":\"WorkspaceType\",\"metadata\":{\"name\":\"team\"},\"spec\":{"                  \
	"\"limitAllowedChildren\":{\"none\":true}}}"
#define ALLOWED(b, reason)                                                                         \
	"{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SelfSubjectAccessReview\","        \
	"\"status\":{\"allowed\":" #b ",\"reason\":\"" reason "\"}}"

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

static void test_check_refusals(void **state)
{
	(void)state;
	wsr_provider *p = listed_provider();
	on("GET", TYPES("root") "root", NULL, 200, TYPE_ROOT, 0);
	on("GET", TYPES("root") "organization", NULL, 200, TYPE_ORG, 0);
	on("GET", TYPES("root") "team", NULL, 200, TYPE_TEAM, 0);
	on("GET", TYPES("root") "ghost", NULL, 404, STATUS(404, "NotFound", "not found"), 0);
	on("GET", TYPES("root") "secret", NULL, 200,
	   "{\"kind\":\"WorkspaceType\",\"metadata\":{\"name\":\"secret\"},\"spec\":{}}", 0);
	on("POST", SSAR("root"), NULL, 201, ALLOWED(true, ""), 0);
	unsigned base = fk.requests;

	/* a type that does not exist */
	fixture_checked k = check_create(p, "root:acme:ghosts", SPEC_OF("root:acme", "ghost"));
	assert_int_equal(k.errors, 1);
	assert_non_null(strstr(k.text, "workspace type root:ghost does not exist"));
	fixture_checked_free(&k);

	/* organization only under root: refused under an organization, with the rule */
	k = check_create(p, "root:acme:org2", SPEC_OF("root:acme", "organization"));
	assert_non_null(strstr(k.text, "workspace type root:organization may only be created under "
				       "workspaces of type root:root | its parent root:acme is of "
				       "type root:organization"));
	/* and the parent's own rule says the same from its side */
	assert_non_null(strstr(k.text, "workspaces of type root:organization may not have children "
				       "of type root:organization"));
	assert_int_equal(k.errors, 2);
	fixture_checked_free(&k);

	/* a team may have no children at all */
	k = check_create(p, "root:acme:team-a:sub", SPEC_OF("root:acme:team-a", "team"));
	assert_int_equal(k.errors, 1);
	assert_non_null(strstr(k.text, "workspaces of type root:team may not have children"));
	fixture_checked_free(&k);

	/* allowed: a team in an organization, and the default type (the
	 * organization's defaultChildWorkspaceType) */
	k = check_create(p, "root:acme:team-b", SPEC_OF("root:acme", "team"));
	assert_int_equal(k.errors, 0);
	fixture_checked_free(&k);
	k = check_create(p, "root:acme:team-c", "{\"spec\":{\"parent\":\"root:acme\"}}");
	assert_int_equal(k.errors, 0);
	fixture_checked_free(&k);

	/* types are read once per run, use asked once per type */
	unsigned type_gets = 0, ssars = 0;
	for (unsigned i = base; i < fk.requests && i < MAX_LOG; i++) {
		type_gets += strstr(fk.log[i].path, "/workspacetypes/") != NULL;
		ssars += strstr(fk.log[i].path, "selfsubjectaccessreviews") != NULL;
		if (strstr(fk.log[i].path, "selfsubjectaccessreviews"))
			assert_non_null(strstr(fk.log[i].body, "\"verb\":\"use\""));
	}
	assert_int_equal(type_gets, 3); /* organization, ghost, team */
	assert_int_equal(ssars, 2);	/* organization, team */
	ops->close(p);
}

static void test_check_no_use_and_planned_parent(void **state)
{
	(void)state;
	wsr_provider *p = listed_provider();
	on("GET", TYPES("root") "root", NULL, 200, TYPE_ROOT, 0);
	on("GET", TYPES("root") "organization", NULL, 200, TYPE_ORG, 0);
	on("GET", TYPES("root") "team", NULL, 200, TYPE_TEAM, 0);
	on("POST", SSAR("root"), NULL, 201, ALLOWED(false, "not in the type's users"), 1);
	on("POST", SSAR("root"), NULL, 201, ALLOWED(true, ""), 0);

	/* no use of organization */
	fixture_checked k = check_create(p, "root:newco", SPEC_OF("root", "organization"));
	assert_int_equal(k.errors, 1);
	assert_non_null(strstr(k.text, "you may not use workspace type root:organization | not in "
				       "the type's users"));
	fixture_checked_free(&k);
	ops->close(p);

	/* the parent is created by the same plan: its child is checked against it */
	fake_reset();
	p = listed_provider();
	on("GET", TYPES("root") "root", NULL, 200, TYPE_ROOT, 0);
	on("GET", TYPES("root") "organization", NULL, 200, TYPE_ORG, 0);
	on("GET", TYPES("root") "team", NULL, 200, TYPE_TEAM, 0);
	on("POST", SSAR("root"), NULL, 201, ALLOWED(true, ""), 0);
	k = check_create(p, "root:newco", SPEC_OF("root", "organization"));
	assert_int_equal(k.errors, 0);
	fixture_checked_free(&k);
	k = check_create(p, "root:newco:t1", SPEC_OF("root:newco", "team"));
	assert_int_equal(k.errors, 0);
	fixture_checked_free(&k);
	k = check_create(p, "root:newco:nested", SPEC_OF("root:newco", "organization"));
	assert_non_null(strstr(k.text, "may only be created under workspaces of type root:root | "
				       "its parent root:newco is of type root:organization"));
	fixture_checked_free(&k);
	/* the planned team takes no children either */
	k = check_create(p, "root:newco:t1:x", SPEC_OF("root:newco:t1", "team"));
	assert_non_null(strstr(k.text, "workspaces of type root:team may not have children"));
	fixture_checked_free(&k);
	ops->close(p);
}

static void test_check_home(void **state)
{
	(void)state;
	on_take("GET", WS("root"), NULL, 200, page(NULL, 1, ws("users", "homeroot", "Ready")), 1);
	on_take("GET", WS("root:users"), NULL, 200, page(NULL, 0), 1);
	on("GET", TYPES("root") "home", NULL, 200, "{\"spec\":{}}", 0);
	on("GET", TYPES("root") "homebucket", NULL, 200, "{\"spec\":{}}", 0);
	on("POST", SSAR("root"), NULL, 201, ALLOWED(true, ""), 1);
	on("POST", SSAR("root"), NULL, 201, ALLOWED(false, "homes are made by kcp here"), 0);
	wsr_provider *p = open_provider();
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(ops->list(p, &set, &d), 0);
	wsr_resource *want = desired(WSR_KCP_KIND_HOME, "root:users:bi:ie:user-1", "user-1", "{}");
	wsr_change *c =
	    change(WSR_KCP_KIND_HOME, "root:users:bi:ie:user-1", WSR_ACT_CREATE, want, NULL);
	fixture_checked k = fixture_check(ops, p, c);
	/* buckets missing: homebucket (allowed) and home (refused) are asked */
	assert_int_equal(k.errors, 1);
	assert_non_null(
	    strstr(k.text, "you may not use workspace type root:home | homes are made"));
	fixture_checked_free(&k);
	wsr_change_free(c);
	wsr_resource_free(want);

	/* not as many buckets as providers.kcp.home says */
	want = desired(WSR_KCP_KIND_HOME, "root:users:bi:user-1", "user-1", "{}");
	c = change(WSR_KCP_KIND_HOME, "root:users:bi:user-1", WSR_ACT_CREATE, want, NULL);
	k = fixture_check(ops, p, c);
	assert_non_null(strstr(k.text, "kcp/root:users:bi:user-1 is not a home workspace address "
				       "under root:users with 2 bucket levels"));
	fixture_checked_free(&k);
	wsr_change_free(c);
	wsr_resource_free(want);

	/* a path the home rule does not give for this user */
	want = desired(WSR_KCP_KIND_HOME, "root:users:aa:bb:user-1", "user-1", "{}");
	c = change(WSR_KCP_KIND_HOME, "root:users:aa:bb:user-1", WSR_ACT_CREATE, want, NULL);
	k = fixture_check(ops, p, c);
	assert_non_null(strstr(k.text,
			       "is not where kcp puts the home of this user | the home rule "
			       "gives root:users:bi:ie:user-1"));
	fixture_checked_free(&k);
	wsr_change_free(c);
	wsr_resource_free(want);
	ops->close(p);
	wsr_resource_set_free(&set);
	wsr_diag_free(&d);

	/* the prefix is not on the server */
	fake_reset();
	on_take("GET", WS("root"), NULL, 200, page(NULL, 0), 1);
	p = open_provider();
	assert_int_equal(ops->list(p, &set, &d), 0);
	want = desired(WSR_KCP_KIND_HOME, "root:users:bi:ie:user-1", "user-1", "{}");
	c = change(WSR_KCP_KIND_HOME, "root:users:bi:ie:user-1", WSR_ACT_CREATE, want, NULL);
	k = fixture_check(ops, p, c);
	assert_non_null(strstr(k.text, "the home workspaces' prefix root:users does not exist"));
	fixture_checked_free(&k);
	wsr_change_free(c);
	wsr_resource_free(want);
	ops->close(p);
	wsr_resource_set_free(&set);
	wsr_diag_free(&d);
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
	    T(test_list_skips_refused_subtrees),
	    T(test_list_page_limit_boundary),
	    T(test_list_stops_at_the_path_limit),
	    T(test_list_repeated_continue_is_refused),
	    T(test_create_waits_through_phases_to_ready),
	    T(test_create_409_adopts_when_the_type_matches),
	    T(test_create_hostile_answers),
	    T(test_create_home_makes_missing_buckets),
	    T(test_update_retries_on_conflict_then_gives_up),
	    T(test_delete_polls_until_gone),
	    T(test_transfer_and_upgrade_are_not_kcp_operations),
	    T(test_read_one_workspace),
	    T(test_check_refusals),
	    T(test_check_no_use_and_planned_parent),
	    T(test_check_home),
	    T(test_parent_for_all_cases),
	    T(test_kubeconfig_token_reaches_the_server),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
