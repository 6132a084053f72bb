/* test_sim_store: the emulator's store and data directory: workspaces kept
 * sorted, states that follow the clock, finished deletions swept (file
 * included), and a reload that restores every record or names the file
 * that stops it. */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/err.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "sim/loopback/persist.h"
#include "sim/loopback/seed.h"
#include "sim/loopback/store.h"

typedef struct fixture {
	char dir[64];
	wsr_lbsim_store *s;
} fixture;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	cJSON *platform;
	char *err = NULL;
	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/wsr-sim-store-XXXXXX");
	if (!mkdtemp(f->dir) || wsr_lbsim_seed_load(&platform, NULL, &err)) {
		free(f);
		return -1;
	}
	assert_int_equal(wsr_lbsim_persist_platform(f->dir, platform), 0);
	assert_int_equal(wsr_lbsim_store_new(&f->s, platform, f->dir), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	wsr_lbsim_store_free(f->s);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Creates a workspace the way the API does, ready at now + provisioning. */
static wsr_lbsim_ws *add(wsr_lbsim_store *s, const char *name, int64_t now)
{
	cJSON *obj = cJSON_CreateObject();
	cJSON_AddStringToObject(obj, "name", name);
	cJSON_AddStringToObject(obj, "project", "payments");
	cJSON_AddStringToObject(obj, "state", "initializing");
	wsr_lbsim_org *o = wsr_lbsim_store_org(s, "acme");
	wsr_lbsim_ws *w = wsr_lbsim_ws_new(name, o->name, obj);
	wsr_lbsim_task *t =
	    wsr_lbsim_task_new(WSR_LBSIM_TASK_CREATE, "acme", name, now, s->provisioning_ms);
	w->ready_at = t->finished_at;
	strcpy(w->create_task, t->id);
	assert_int_equal(wsr_lbsim_store_create(s, o, w, t), 0);
	return w;
}

static void inserts_stay_sorted(void **state)
{
	fixture *f = *state;
	char name[32];
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "ws-%03d",
			 (i * 7919) % 200); /* a permutation of 0..199 */
		add(f->s, name, 0);
	}
	wsr_lbsim_org *o = wsr_lbsim_store_org(f->s, "acme");
	assert_int_equal(o->nws, 200);
	for (size_t i = 1; i < o->nws; i++)
		assert_true(strcmp(o->ws[i - 1]->name, o->ws[i]->name) < 0);
	assert_non_null(wsr_lbsim_store_ws(o, "ws-123"));
	assert_null(wsr_lbsim_store_ws(o, "ws-1234"));
	assert_string_equal(o->ws[wsr_lbsim_store_after(o, "ws-049")]->name, "ws-050");
	assert_string_equal(o->ws[wsr_lbsim_store_after(o, "ws-0495")]->name,
			    "ws-050"); /* a key that is gone */
	assert_int_equal(wsr_lbsim_store_after(o, "ws-199"), 200);
	assert_int_equal(wsr_lbsim_store_after(o, ""), 0);
}

static void state_follows_clock_and_sweep_removes(void **state)
{
	fixture *f = *state;
	int64_t t0 = 1700000000000;
	wsr_lbsim_ws *w = add(f->s, "web", t0);
	assert_string_equal(wsr_lbsim_ws_state(w, t0 + 999), "initializing");
	assert_string_equal(wsr_lbsim_ws_state(w, t0 + 1000), "active");
	wsr_lbsim_task *t = wsr_lbsim_task_new(WSR_LBSIM_TASK_DELETE, "acme", "web", t0 + 5000,
					       f->s->provisioning_ms);
	assert_int_equal(wsr_lbsim_store_delete(f->s, w, t), 0);
	assert_string_equal(wsr_lbsim_ws_state(w, t0 + 5000), "deleting");
	char path[128];
	snprintf(path, sizeof(path), "%s/workspaces/acme/web.json", f->dir);
	assert_int_equal(access(path, F_OK), 0);
	wsr_lbsim_store_sweep(f->s, t0 + 5999);
	wsr_lbsim_org *o = wsr_lbsim_store_org(f->s, "acme");
	assert_non_null(wsr_lbsim_store_ws(o, "web"));
	wsr_lbsim_store_sweep(f->s, t0 + 6000);
	assert_null(wsr_lbsim_store_ws(o, "web"));
	assert_int_not_equal(access(path, F_OK), 0);
	assert_non_null(wsr_lbsim_store_task(f->s, t->id)); /* the task outlives its workspace */
}

static void reload_restores_every_record(void **state)
{
	fixture *f = *state;
	add(f->s, "b-kept", 1000);
	wsr_lbsim_ws *w = add(f->s, "a-going", 1000);
	char create_id[WSR_LBSIM_ID_MAX];
	strcpy(create_id, w->create_task);
	wsr_lbsim_task *t =
	    wsr_lbsim_task_new(WSR_LBSIM_TASK_DELETE, "acme", "a-going", 2000, 1000);
	assert_int_equal(wsr_lbsim_store_delete(f->s, w, t), 0);
	assert_int_equal(wsr_lbsim_store_remember(f->s, "abc123", 202, "{\"x\":1}"), 0);
	char delete_id[WSR_LBSIM_ID_MAX];
	strcpy(delete_id, t->id);
	wsr_lbsim_store_free(f->s);
	f->s = NULL;

	char *err = NULL;
	int rc = wsr_lbsim_persist_load(&f->s, f->dir, &err);
	if (rc)
		fail_msg("%s", err);
	wsr_lbsim_org *o = wsr_lbsim_store_org(f->s, "acme");
	assert_int_equal(o->nws, 2);
	assert_string_equal(o->ws[0]->name, "a-going");
	assert_string_equal(o->ws[0]->delete_task, delete_id);
	assert_int_equal(o->ws[0]->gone_at, 3000);
	assert_int_equal(o->ws[1]->ready_at, 2000);
	const wsr_lbsim_task *ct = wsr_lbsim_store_task(f->s, create_id);
	assert_non_null(ct);
	assert_int_equal(ct->type, WSR_LBSIM_TASK_CREATE);
	assert_int_equal(ct->finished_at, 2000);
	const wsr_lbsim_idem *r = wsr_lbsim_store_idem(f->s, "abc123");
	assert_int_equal(r->status, 202);
	assert_string_equal(r->body, "{\"x\":1}");
	/* the running deletion goes on after the restart */
	wsr_lbsim_store_sweep(f->s, 3000);
	assert_null(wsr_lbsim_store_ws(o, "a-going"));
	assert_int_equal(f->s->provisioning_ms, 1000);
}

static void write_file(const char *dir, const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	char *folder = wsr_path_dirname(path);
	wsr_fs_mkdirs(folder, 0700);
	free(folder);
	assert_int_equal(wsr_fs_write_atomic(path, text, strlen(text), 0600), 0);
}

/* Loading dir fails, and the error names want. */
static void load_fails(const char *dir, const char *want)
{
	wsr_lbsim_store *s = NULL;
	char *err = NULL;
	int rc = wsr_lbsim_persist_load(&s, dir, &err);
	assert_int_not_equal(rc, 0);
	assert_null(s);
	if (!err || !strstr(err, want))
		fail_msg("error \"%s\" lacks \"%s\"", err ? err : "(none)", want);
	free(err);
}

static void corrupt_data_is_refused_by_name(void **state)
{
	fixture *f = *state;
	add(f->s, "ok", 0);
	write_file(f->dir, "tasks/task-x.json.tmp.123", "half a write"); /* leftovers are ignored */
	wsr_lbsim_store *s = NULL;
	char *err = NULL;
	assert_int_equal(wsr_lbsim_persist_load(&s, f->dir, &err), 0);
	wsr_lbsim_store_free(s);

	write_file(f->dir, "tasks/task-x.json", "{\"id\":");
	load_fails(f->dir, "tasks/task-x.json");
	write_file(f->dir, "tasks/task-x.json",
		   "{\"id\":\"task-y\",\"type\":\"create\",\"organization\":\"acme\","
		   "\"workspace\":\"w\",\"createdAt\":1,\"finishedAt\":1}");
	load_fails(f->dir, "task-x.json: not a task record");
	write_file(f->dir, "tasks/task-x.json",
		   "{\"id\":\"task-x\",\"type\":\"create\",\"organization\":\"acme\","
		   "\"workspace\":\"w\",\"createdAt\":1,\"finishedAt\":1}");
	write_file(f->dir, "workspaces/acme/other.json", "{\"workspace\":{\"name\":\"ok\"}}");
	load_fails(f->dir, "other.json: not a workspace record");
	char path[128];
	snprintf(path, sizeof(path), "%s/workspaces/acme/other.json", f->dir);
	unlink(path);
	/* the day-two fields: a running operation and a task's error */
#define OK_WS(extra)                                                                               \
	"{\"workspace\":{\"name\":\"ok\",\"project\":\"payments\",\"state\":\"active\"},"          \
	"\"readyAt\":0,\"goneAt\":null,\"createTask\":null,\"deleteTask\":null," extra "}"
#define TASK_X(type, extra)                                                                        \
	"{\"id\":\"task-x\",\"type\":\"" type "\",\"organization\":\"acme\","                      \
	"\"workspace\":\"w\",\"createdAt\":1,\"finishedAt\":1" extra "}"
	write_file(f->dir, "workspaces/acme/ok.json",
		   OK_WS("\"op\":{\"type\":\"create\",\"task\":\"t\",\"until\":1,\"arg\":\"x\"}"));
	load_fails(f->dir, "ok.json: not a workspace record");
	write_file(f->dir, "workspaces/acme/ok.json", OK_WS("\"failed\":\"no\""));
	load_fails(f->dir, "ok.json: not a workspace record");
	write_file(
	    f->dir, "workspaces/acme/ok.json",
	    OK_WS("\"op\":{\"type\":\"upgrade\",\"task\":\"t\",\"until\":1,\"arg\":\"1.30.2\"}"));
	wsr_lbsim_store *s2 = NULL;
	assert_int_equal(wsr_lbsim_persist_load(&s2, f->dir, &err), 0);
	assert_int_equal(s2->nbusy, 1); /* a running upgrade is tracked again */
	wsr_lbsim_store_free(s2);
	write_file(f->dir, "tasks/task-x.json", TASK_X("reboot", ""));
	load_fails(f->dir, "task-x.json: not a task record");
	write_file(f->dir, "tasks/task-x.json", TASK_X("upgrade", ",\"error\":{\"code\":1}"));
	load_fails(f->dir, "task-x.json: not a task record");
	write_file(f->dir, "tasks/task-x.json", TASK_X("create", ""));
	write_file(f->dir, "workspaces/ghost/w.json", "{}");
	load_fails(f->dir, "no organization ghost");
	snprintf(path, sizeof(path), "%s/workspaces/ghost/w.json", f->dir);
	unlink(path);
	write_file(f->dir, "platform.json", "{\"organizations\":[]}");
	load_fails(f->dir, "platform.json: (top): missing field apiKeys");
}

static void empty_or_foreign_folders(void **state)
{
	fixture *f = *state;
	wsr_lbsim_store *s = NULL;
	char *err = NULL, sub[96];
	snprintf(sub, sizeof(sub), "%s/missing", f->dir);
	assert_int_equal(wsr_lbsim_persist_load(&s, sub, &err), WSR_ENOTFOUND);
	assert_int_equal(wsr_fs_mkdirs(sub, 0700), 0);
	assert_int_equal(wsr_lbsim_persist_load(&s, sub, &err), WSR_ENOTFOUND);
	write_file(sub, "notes.txt", "mine");
	load_fails(sub, "holds files but no platform.json");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(inserts_stay_sorted, setup, teardown),
	    cmocka_unit_test_setup_teardown(state_follows_clock_and_sweep_removes, setup, teardown),
	    cmocka_unit_test_setup_teardown(reload_restores_every_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(corrupt_data_is_refused_by_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(empty_or_foreign_folders, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
