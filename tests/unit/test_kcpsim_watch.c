/* test_kcpsim_watch: watches of the kcp emulator (docs/api/kcp.md,
 * "Watch"), driven without HTTP on a fake clock and read the way the HTTP
 * server reads a stream: the current items then live events in
 * resourceVersion order, a replay from a resourceVersion, the history's
 * bound (WSR_KCPSIM_WATCH_HISTORY) at its edge, selectors that move an
 * object in and out, phase changes by the clock, timeouts, bookmarks,
 * Tables for kubectl, the concurrent-watch limit and bad parameters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kcpsim_fixture.h"
#include "sim/kcp/watch.h"

static int open_watch(wsr_kcpsim *k, const kf_rq *o, wsr_sim_resp *resp)
{
	return kf_send(k, "GET", KF_WS("root"), NULL, o, resp);
}

static void from_nothing_lists_then_follows(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("");
	wsr_sim_resp w;
	cJSON *ev = NULL, *v;
	kf_create_ok(k, "root", "a", NULL, NULL);
	kf_rq o = {.q = {"watch", "true"}};
	assert_int_equal(open_watch(k, &o, &w), 200);
	assert_null(w.body);
	assert_int_equal(kf_read(&w, &ev), 0); /* open: nothing more now */
	assert_int_equal(cJSON_GetArraySize(ev), 2);
	assert_string_equal(kf_ev_type(ev, 0), "ADDED");
	assert_string_equal(kf_ev_name(ev, 0), "a");
	assert_string_equal(kf_ev_name(ev, 1), "users");
	assert_string_equal(
	    wsr_json_str(wsr_json_path(cJSON_GetArrayItem(ev, 0), "object.spec"), "URL"),
	    KF_URL "/clusters/root:a");
	kf_create_ok(k, "root", "b", NULL, NULL);
	kf_label(k, "b", "region", "eu");
	assert_int_equal(kf_req(k, "DELETE", KF_WS("root") "/a", NULL, NULL, &v), 200);
	cJSON_Delete(v);
	assert_int_equal(kf_read(&w, &ev), 0);
	/* b: created (Scheduling), Ready by the clock, labelled; a: Terminating,
	 * Deleting (terminatingMs and deletionMs are 0), gone */
	const char *want[][2] = {{"ADDED", "b"},    {"MODIFIED", "b"}, {"MODIFIED", "b"},
				 {"MODIFIED", "a"}, {"MODIFIED", "a"}, {"DELETED", "a"}};
	assert_int_equal(cJSON_GetArraySize(ev), 2 + 6);
	assert_string_equal(
	    wsr_json_str(wsr_json_path(cJSON_GetArrayItem(ev, 5), "object.status"), "phase"),
	    "Terminating");
	assert_string_equal(
	    wsr_json_str(wsr_json_path(cJSON_GetArrayItem(ev, 6), "object.status"), "phase"),
	    "Deleting");
	long last = 0;
	for (int i = 0; i < 6; i++) {
		assert_string_equal(kf_ev_type(ev, 2 + i), want[i][0]);
		assert_string_equal(kf_ev_name(ev, 2 + i), want[i][1]);
		const cJSON *meta = wsr_json_path(cJSON_GetArrayItem(ev, 2 + i), "object.metadata");
		long rv = atol(wsr_json_str(meta, "resourceVersion"));
		assert_true(rv > last); /* in resourceVersion order */
		last = rv;
	}
	/* the DELETED event carries the final object */
	const cJSON *del = wsr_json_path(cJSON_GetArrayItem(ev, 7), "object.metadata");
	assert_non_null(wsr_json_str(del, "deletionTimestamp"));
	assert_string_equal(wsr_json_str(wsr_json_obj(cJSON_GetArrayItem(ev, 4), "object"), "kind"),
			    "Workspace");
	assert_int_equal(kf_list_rv(k), last); /* a list after it is at its version */
	cJSON_Delete(ev);
	wsr_sim_resp_free(&w);
	wsr_kcpsim_free(k);
}

static void from_a_version_replays_what_came_after(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("");
	wsr_sim_resp w;
	cJSON *ev = NULL;
	char rv[32];
	kf_create_ok(k, "root", "before", NULL, NULL);
	snprintf(rv, sizeof(rv), "%llu", kf_list_rv(k));
	kf_create_ok(k, "root", "after", NULL, NULL);
	kf_rq o = {.q = {"watch", "1", "resourceVersion", rv}};
	assert_int_equal(open_watch(k, &o, &w), 200);
	assert_int_equal(kf_read(&w, &ev), 0);
	assert_int_equal(cJSON_GetArraySize(ev), 2); /* ADDED, then Ready */
	assert_string_equal(kf_ev_type(ev, 0), "ADDED");
	assert_string_equal(kf_ev_name(ev, 0), "after");
	assert_string_equal(kf_ev_type(ev, 1), "MODIFIED");
	assert_string_equal(
	    wsr_json_str(wsr_json_path(cJSON_GetArrayItem(ev, 1), "object.status"), "phase"),
	    "Ready");
	cJSON_Delete(ev);
	wsr_sim_resp_free(&w);
	wsr_kcpsim_free(k);
}

/* Opens a watch from rv and returns its first event's type, and *code the
 * ERROR's code. */
static void first_event(wsr_kcpsim *k, unsigned long long rv, char *type, int *code, char *msg)
{
	char s[32];
	wsr_sim_resp w;
	cJSON *ev = NULL;
	snprintf(s, sizeof(s), "%llu", rv);
	kf_rq o = {.q = {"watch", "true", "resourceVersion", s}};
	assert_int_equal(open_watch(k, &o, &w), 200);
	kf_read(&w, &ev);
	const cJSON *e = cJSON_GetArrayItem(ev, 0);
	snprintf(type, 16, "%s", e ? wsr_json_str(e, "type") : "none");
	*code = (int)wsr_json_num(wsr_json_obj(e, "object"), "code", 0);
	snprintf(msg, 128, "%s", e ? kf_message(wsr_json_obj(e, "object")) : "");
	cJSON_Delete(ev);
	wsr_sim_resp_free(&w);
}

static void the_history_is_bounded_at_its_edge(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("");
	char type[16], msg[128], want[128];
	int code;
	kf_create_ok(k, "root", "a", NULL, NULL);
	for (int i = 0; i < WSR_KCPSIM_WATCH_HISTORY; i++)
		kf_label(k, "a", "n", i % 2 ? "odd" : "even");
	/* the last WSR_KCPSIM_WATCH_HISTORY events are the patches, one
	 * resourceVersion each: the history starts after last - HISTORY */
	unsigned long long last = kf_list_rv(k), floor = last - WSR_KCPSIM_WATCH_HISTORY;
	first_event(k, floor, type, &code, msg);
	assert_string_equal(type, "MODIFIED");
	first_event(k, floor - 1, type, &code, msg);
	assert_string_equal(type, "ERROR");
	assert_int_equal(code, 410);
	snprintf(want, sizeof(want), "too old resource version: %llu (%llu)", floor - 1, floor);
	assert_string_equal(msg, want);
	/* a watcher that falls that far behind is told so, then the stream ends */
	wsr_sim_resp w;
	cJSON *ev = NULL;
	char s[32];
	snprintf(s, sizeof(s), "%llu", floor);
	kf_rq o = {.q = {"watch", "true", "resourceVersion", s}};
	assert_int_equal(open_watch(k, &o, &w), 200);
	kf_label(k, "a", "n", "one-more");
	assert_int_equal(kf_read(&w, &ev), 1);
	assert_int_equal(cJSON_GetArraySize(ev), 1);
	assert_string_equal(kf_ev_type(ev, 0), "ERROR");
	assert_string_equal(
	    wsr_json_str(wsr_json_obj(cJSON_GetArrayItem(ev, 0), "object"), "reason"), "Expired");
	cJSON_Delete(ev);
	wsr_sim_resp_free(&w);
	wsr_kcpsim_free(k);
}

static void selectors_move_objects_in_and_out(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("");
	wsr_sim_resp w;
	cJSON *ev = NULL;
	kf_create_ok(k, "root", "x", NULL, "{\"region\":\"us\"}");
	kf_create_ok(k, "root", "y", NULL, "{\"region\":\"eu\"}");
	kf_rq o = {.q = {"watch", "true", "labelSelector", "region in (eu,ap)"}};
	assert_int_equal(open_watch(k, &o, &w), 200);
	kf_read(&w, &ev);
	assert_int_equal(cJSON_GetArraySize(ev), 1);
	assert_string_equal(kf_ev_name(ev, 0), "y");
	kf_label(k, "x", "region", "eu"); /* enters the selection */
	kf_label(k, "x", "region", "ap"); /* stays in it */
	kf_label(k, "x", "region", "us"); /* leaves it */
	kf_label(k, "y", "tier", "1");
	kf_read(&w, &ev);
	const char *want[][2] = {
	    {"ADDED", "x"}, {"MODIFIED", "x"}, {"DELETED", "x"}, {"MODIFIED", "y"}};
	assert_int_equal(cJSON_GetArraySize(ev), 5);
	for (int i = 0; i < 4; i++) {
		assert_string_equal(kf_ev_type(ev, 1 + i), want[i][0]);
		assert_string_equal(kf_ev_name(ev, 1 + i), want[i][1]);
	}
	cJSON_Delete(ev);
	wsr_sim_resp_free(&w);
	/* the field selector kubectl wait uses */
	ev = NULL;
	kf_rq byname = {.q = {"watch", "true", "fieldSelector", "metadata.name=x"}};
	assert_int_equal(open_watch(k, &byname, &w), 200);
	kf_label(k, "y", "tier", "2");
	kf_label(k, "x", "tier", "2");
	kf_read(&w, &ev);
	assert_int_equal(cJSON_GetArraySize(ev), 2);
	assert_string_equal(kf_ev_name(ev, 1), "x");
	cJSON_Delete(ev);
	wsr_sim_resp_free(&w);
	wsr_kcpsim_free(k);
}

static void the_clock_is_an_event_source(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("");
	wsr_sim_resp w;
	cJSON *ev = NULL;
	char rv[32];
	kf_create_ok(k, "root", "s", "slow", NULL); /* Initializing for 1500 ms */
	snprintf(rv, sizeof(rv), "%llu", kf_list_rv(k));
	kf_rq o = {.q = {"watch", "true", "resourceVersion", rv}};
	assert_int_equal(open_watch(k, &o, &w), 200);
	assert_int_equal(kf_read(&w, &ev), 0);
	assert_int_equal(cJSON_GetArraySize(ev), 0);
	kf_now += 1500; /* nobody else asks anything: the stream's own read sweeps */
	kf_read(&w, &ev);
	assert_int_equal(cJSON_GetArraySize(ev), 1);
	assert_string_equal(kf_ev_type(ev, 0), "MODIFIED");
	assert_string_equal(
	    wsr_json_str(wsr_json_path(cJSON_GetArrayItem(ev, 0), "object.status"), "phase"),
	    "Ready");
	cJSON_Delete(ev);
	wsr_sim_resp_free(&w);
	wsr_kcpsim_free(k);
}

static void timeouts_and_bookmarks(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("");
	wsr_sim_resp w;
	cJSON *ev = NULL;
	kf_rq o = {.q = {"watch", "true", "timeoutSeconds", "2", "resourceVersion", "1"}};
	assert_int_equal(open_watch(k, &o, &w), 200);
	kf_now += 1999;
	assert_int_equal(kf_read(&w, &ev), 0);
	kf_now += 1;
	assert_int_equal(kf_read(&w, &ev), 1); /* the end, without an event */
	assert_int_equal(cJSON_GetArraySize(ev), 0);
	cJSON_Delete(ev);
	wsr_sim_resp_free(&w);
	ev = NULL;
	kf_rq b = {.q = {"watch", "true", "allowWatchBookmarks", "true", "resourceVersion", "1"}};
	assert_int_equal(open_watch(k, &b, &w), 200);
	kf_now += WSR_KCPSIM_WATCH_BOOKMARK_MS - 1;
	kf_read(&w, &ev);
	assert_int_equal(cJSON_GetArraySize(ev), 0);
	kf_now += 1;
	kf_read(&w, &ev);
	assert_int_equal(cJSON_GetArraySize(ev), 1);
	assert_string_equal(kf_ev_type(ev, 0), "BOOKMARK");
	char want[32];
	snprintf(want, sizeof(want), "%llu", kf_list_rv(k));
	assert_string_equal(
	    wsr_json_str(wsr_json_path(cJSON_GetArrayItem(ev, 0), "object.metadata"),
			 "resourceVersion"),
	    want);
	/* without ?timeoutSeconds=, a watch lasts WSR_KCPSIM_WATCH_TIMEOUT_S */
	kf_now += (int64_t)WSR_KCPSIM_WATCH_TIMEOUT_S * 1000 - WSR_KCPSIM_WATCH_BOOKMARK_MS - 1;
	kf_read(&w, &ev);
	kf_now += 1;
	assert_int_equal(kf_read(&w, &ev), 1);
	cJSON_Delete(ev);
	wsr_sim_resp_free(&w);
	wsr_kcpsim_free(k);
}

static void tables_carry_columns_once(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("");
	wsr_sim_resp w;
	cJSON *ev = NULL;
	kf_rq o = {.accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
		   .q = {"watch", "true"}};
	assert_int_equal(open_watch(k, &o, &w), 200);
	kf_create_ok(k, "root", "t", NULL, "{\"region\":\"eu\"}");
	kf_read(&w, &ev);
	assert_true(cJSON_GetArraySize(ev) >= 2);
	const cJSON *t0 = wsr_json_obj(cJSON_GetArrayItem(ev, 0), "object"),
		    *t1 = wsr_json_obj(cJSON_GetArrayItem(ev, 1), "object");
	assert_string_equal(wsr_json_str(t0, "kind"), "Table");
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(t0, "columnDefinitions")), 6);
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(t1, "columnDefinitions")), 0);
	assert_int_equal(cJSON_GetArraySize(wsr_json_arr(t1, "rows")), 1);
	cJSON_Delete(ev);
	wsr_sim_resp_free(&w);
	wsr_kcpsim_free(k);
}

static void types_are_watched_too(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("");
	wsr_sim_resp w;
	cJSON *ev = NULL;
	kf_rq o = {.q = {"watch", "true", "timeoutSeconds", "1"}};
	assert_int_equal(
	    kf_send(k, "GET", "/clusters/root" KF_TENANCY "/workspacetypes", NULL, &o, &w), 200);
	kf_read(&w, &ev);
	assert_int_equal(cJSON_GetArraySize(ev), 9); /* root and the seed's eight */
	assert_string_equal(wsr_json_str(wsr_json_obj(cJSON_GetArrayItem(ev, 0), "object"), "kind"),
			    "WorkspaceType");
	kf_now += 1000;
	assert_int_equal(kf_read(&w, &ev), 1);
	cJSON_Delete(ev);
	wsr_sim_resp_free(&w);
	wsr_kcpsim_free(k);
}

static void open_watches_are_bounded(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("");
	static wsr_sim_resp w[WSR_KCPSIM_WATCH_MAX + 1];
	cJSON *v;
	kf_rq o = {.q = {"watch", "true"}};
	for (int i = 0; i < WSR_KCPSIM_WATCH_MAX; i++)
		assert_int_equal(open_watch(k, &o, &w[i]), 200);
	assert_int_equal(kf_req(k, "GET", KF_WS("root"), NULL, &o, &v), 429);
	assert_string_equal(wsr_json_str(v, "reason"), "TooManyRequests");
	cJSON_Delete(v);
	wsr_sim_resp_free(&w[0]); /* one ends: room for one more */
	assert_int_equal(open_watch(k, &o, &w[WSR_KCPSIM_WATCH_MAX]), 200);
	for (int i = 1; i <= WSR_KCPSIM_WATCH_MAX; i++)
		wsr_sim_resp_free(&w[i]);
	wsr_kcpsim_free(k);
}

static void bad_parameters_are_400(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("");
	wsr_sim_resp w;
	cJSON *v;
	char max[32], over[32];
	snprintf(max, sizeof(max), "%d", WSR_KCPSIM_WATCH_TIMEOUT_MAX_S);
	snprintf(over, sizeof(over), "%d", WSR_KCPSIM_WATCH_TIMEOUT_MAX_S + 1);
	const char *bad[][2] = {{"resourceVersion", "abc"},
				{"resourceVersion", "-1"},
				{"timeoutSeconds", over},
				{"timeoutSeconds", "1.5"},
				{"labelSelector", "region in (eu"}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kf_rq o = {.q = {"watch", "true", bad[i][0], bad[i][1]}};
		if (kf_req(k, "GET", KF_WS("root"), NULL, &o, &v) != 400)
			fail_msg("%s=%s is not 400", bad[i][0], bad[i][1]);
		assert_string_equal(wsr_json_str(v, "reason"), "BadRequest");
		cJSON_Delete(v);
	}
	kf_rq ok = {.q = {"watch", "true", "timeoutSeconds", max}};
	assert_int_equal(open_watch(k, &ok, &w), 200);
	wsr_sim_resp_free(&w);
	/* watch=false is a list */
	kf_rq no = {.q = {"watch", "false"}};
	assert_int_equal(kf_req(k, "GET", KF_WS("root"), NULL, &no, &v), 200);
	assert_string_equal(wsr_json_str(v, "kind"), "WorkspaceList");
	cJSON_Delete(v);
	wsr_kcpsim_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(from_nothing_lists_then_follows),
	    cmocka_unit_test(from_a_version_replays_what_came_after),
	    cmocka_unit_test(the_history_is_bounded_at_its_edge),
	    cmocka_unit_test(selectors_move_objects_in_and_out),
	    cmocka_unit_test(the_clock_is_an_event_source),
	    cmocka_unit_test(timeouts_and_bookmarks),
	    cmocka_unit_test(tables_carry_columns_once),
	    cmocka_unit_test(types_are_watched_too),
	    cmocka_unit_test(open_watches_are_bounded),
	    cmocka_unit_test(bad_parameters_are_400),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
