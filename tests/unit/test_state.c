/* test_state: the state document, its format checks, and the file backend
 * (compare-and-swap, backups, modes, locking across processes). Each test
 * works in its own temporary directory. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "state/state.h"

/* ---- helpers ---- */

/* 0 under memcheck or ThreadSanitizer (tests/valgrind/run.sh and
 * `make test SANITIZE=thread` set WSR_TEST_UNTIMED=1), where code runs 5 to
 * 50 times slower: the work and its results are still checked there, the
 * time bound only in the ordinary build. */
static int timed(void)
{
	const char *v = getenv("WSR_TEST_UNTIMED");
	return !v || strcmp(v, "1") != 0;
}

typedef struct fixture {
	char dir[64];
	char *path; /* dir/.wsr/state.json: the directory does not exist yet */
} fixture;

static int setup(void **ctx)
{
	fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/wsr-test-state-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->path = wsr_strdupf("%s/.wsr/state.json", f->dir);
	*ctx = f;
	return 0;
}

static int teardown(void **ctx)
{
	fixture *f = *ctx;
	char *cmd = wsr_strdupf("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f->path);
	free(f);
	return 0;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);
	assert_non_null(p);
	return p;
}

/* An entry whose spec holds `value` (tests look for it in diagnostics). */
static wsr_state_entry *entry(const char *address, const char *value)
{
	wsr_state_entry *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	e->address = xstrdup(address);
	e->provider = xstrdup("loopback");
	e->kind = xstrdup("Workspace");
	e->applied = cJSON_CreateObject();
	cJSON_AddStringToObject(e->applied, "name", value);
	cJSON_AddNumberToObject(e->applied, "nodes", 3);
	return e;
}

static wsr_state_entry *full_entry(const char *address)
{
	wsr_state_entry *e = entry(address, "web");
	e->id = xstrdup("ws-0001");
	e->observed = cJSON_Parse("{\"name\":\"web\",\"nodes\":3,\"phase\":\"Ready\"}");
	e->labels = cJSON_Parse("{\"team\":\"core\"}");
	e->status = cJSON_Parse("{\"endpoint\":\"https://web.example\"}");
	e->file = xstrdup("specs/web.yaml");
	e->line = 7;
	e->created_ms = 1795000000000LL; /* whole seconds: the format keeps seconds */
	e->updated_ms = 1795000060000LL;
	return e;
}

/* 1 when some diagnostic's summary or detail contains s. */
static int diag_has(const wsr_diag *d, const char *s)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->v[i].summary, s) || (d->v[i].detail && strstr(d->v[i].detail, s)) ||
		    (d->v[i].hint && strstr(d->v[i].hint, s)))
			return 1;
	return 0;
}

static void dump_diag(const wsr_diag *d)
{
	wsr_diag_print(d, stderr, 0);
}

static char *slurp(const char *path, size_t *len)
{
	char *text = NULL;
	size_t n = 0;
	if (wsr_fs_read(&text, &n, path, WSR_STATE_MAX_BYTES))
		return NULL;
	if (len)
		*len = n;
	return text;
}

static void spit(const char *path, const char *text, size_t len)
{
	char *dir = wsr_path_dirname(path);
	assert_int_equal(wsr_fs_mkdirs(dir, 0700), 0);
	free(dir);
	assert_int_equal(wsr_fs_write_atomic(path, text, len, 0600), 0);
}

static wsr_state_backend *open_file(const char *path)
{
	wsr_state_backend *b = NULL;
	assert_int_equal(wsr_state_file_open(&b, path), 0);
	return b;
}

static wsr_state *read_ok(wsr_state_backend *b)
{
	wsr_diag d = WSR_DIAG_INIT;
	wsr_state *s = NULL;
	int rc = b->ops->read(b, &s, &d);
	if (rc)
		dump_diag(&d);
	assert_int_equal(rc, 0);
	wsr_diag_free(&d);
	return s;
}

static void write_ok(wsr_state_backend *b, wsr_state *s)
{
	wsr_diag d = WSR_DIAG_INIT;
	int rc = wsr_state_write(b, s, &d);
	if (rc)
		dump_diag(&d);
	assert_int_equal(rc, 0);
	wsr_diag_free(&d);
}

/* ---- the document ---- */

static void test_new_state_is_empty_with_a_uuid_lineage(void **ctx)
{
	(void)ctx;
	wsr_state *a = wsr_state_new(), *b = wsr_state_new();
	assert_int_equal(a->serial, 0);
	assert_int_equal(a->n, 0);
	assert_int_equal(strlen(a->lineage), 36);
	assert_int_equal(a->lineage[14], '4'); /* version 4 */
	assert_non_null(strchr("89ab", a->lineage[19]));
	assert_string_not_equal(a->lineage, b->lineage);
	wsr_state_free(a);
	wsr_state_free(b);
}

static void test_round_trip_keeps_every_field(void **ctx)
{
	(void)ctx;
	wsr_state *s = wsr_state_new();
	s->serial = 41;
	assert_int_equal(wsr_state_put(s, full_entry("loopback/acme/web")), 0);
	assert_int_equal(wsr_state_put(s, entry("kcp/root:acme", "team")), 0);
	size_t len = 0;
	char *text = wsr_state_to_json(s, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	assert_non_null(strstr(text, "\"format\": \"wsr.state/v1\""));

	wsr_diag d = WSR_DIAG_INIT;
	wsr_state *r = NULL;
	assert_int_equal(wsr_state_from_json(&r, text, len, "state.json", &d), 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(r->lineage, s->lineage);
	assert_int_equal(r->serial, 41);
	assert_int_equal(r->n, 2);
	const wsr_state_entry *a = wsr_state_find(s, "loopback/acme/web");
	const wsr_state_entry *b = wsr_state_find(r, "loopback/acme/web");
	assert_non_null(b);
	assert_string_equal(b->provider, a->provider);
	assert_string_equal(b->kind, a->kind);
	assert_string_equal(b->id, a->id);
	assert_true(cJSON_Compare(b->applied, a->applied, 1));
	assert_true(cJSON_Compare(b->observed, a->observed, 1));
	assert_true(cJSON_Compare(b->labels, a->labels, 1));
	assert_true(cJSON_Compare(b->status, a->status, 1));
	assert_string_equal(b->file, "specs/web.yaml");
	assert_int_equal(b->line, 7);
	assert_int_equal(b->created_ms, a->created_ms);
	assert_int_equal(b->updated_ms, a->updated_ms);
	const wsr_state_entry *k = wsr_state_find(r, "kcp/root:acme");
	assert_null(k->id);
	assert_null(k->observed);
	assert_null(k->file);
	assert_int_equal(k->created_ms, 0);

	/* the same document serializes to the same bytes */
	char *again = wsr_state_to_json(r, NULL);
	assert_string_equal(again, text);
	free(again);
	free(text);
	wsr_state_free(r);
	wsr_state_free(s);
}

static void test_file_lists_entries_sorted_by_address(void **ctx)
{
	(void)ctx;
	wsr_state *s = wsr_state_new();
	wsr_state_put(s, entry("loopback/b/z", "x"));
	wsr_state_put(s, entry("kcp/root:x", "x"));
	wsr_state_put(s, entry("loopback/a/y", "x"));
	char *text = wsr_state_to_json(s, NULL);
	char *k = strstr(text, "kcp/root:x"), *a = strstr(text, "loopback/a/y"),
	     *z = strstr(text, "loopback/b/z");
	assert_true(k && a && z && k < a && a < z);
	/* in memory, the order they were added in stays */
	assert_string_equal(s->v[0]->address, "loopback/b/z");
	free(text);
	wsr_state_free(s);
}

static void test_put_replaces_and_remove_forgets(void **ctx)
{
	(void)ctx;
	wsr_state *s = wsr_state_new();
	wsr_state_put(s, entry("loopback/a/one", "first"));
	wsr_state_put(s, entry("loopback/a/two", "x"));
	assert_int_equal(wsr_state_put(s, entry("loopback/a/one", "second")), 0);
	assert_int_equal(s->n, 2);
	assert_string_equal(wsr_json_str(wsr_state_find(s, "loopback/a/one")->applied, "name"),
			    "second");
	assert_string_equal(s->v[0]->address, "loopback/a/one"); /* replaced in place */

	wsr_state *copy = wsr_state_dup(s);
	assert_int_equal(wsr_state_remove(s, "loopback/a/one"), 0);
	assert_null(wsr_state_find(s, "loopback/a/one"));
	assert_int_equal(s->n, 1);
	assert_int_equal(wsr_state_remove(s, "loopback/a/one"), WSR_ENOTFOUND);
	/* the copy is deep: it still has what s lost */
	assert_non_null(wsr_state_find(copy, "loopback/a/one"));
	assert_string_equal(copy->lineage, s->lineage);
	assert_int_equal(copy->n, 2);

	wsr_state_entry *noaddr = entry("x", "y");
	free(noaddr->address);
	noaddr->address = NULL;
	assert_int_equal(wsr_state_put(s, noaddr), WSR_EINVAL);
	wsr_state_entry_free(noaddr); /* a refused entry stays the caller's */
	/* what the file could not hold back is refused before it is written */
	wsr_state_entry *bad = entry("loopback/a/three", "x");
	cJSON_Delete(bad->applied);
	bad->applied = cJSON_CreateString("not a spec");
	assert_int_equal(wsr_state_put(s, bad), WSR_EINVAL);
	cJSON_Delete(bad->applied);
	bad->applied = cJSON_CreateObject();
	bad->status = cJSON_CreateArray();
	assert_int_equal(wsr_state_put(s, bad), WSR_EINVAL);
	wsr_state_entry_free(bad);
	assert_int_equal(s->n, 1);
	wsr_state_free(copy);
	wsr_state_free(s);
}

/* ---- refusing what is not a v1 state ---- */

#define HEAD "{\"format\":\"wsr.state/v1\",\"lineage\":\"l-1\",\"serial\":3,\"resources\":"
#define RES(x)                                                                                     \
	"[{\"address\":\"loopback/a/b\",\"provider\":\"loopback\",\"kind\":\"Workspace\"," x "}]}"
#define APPLIED "\"applied\":{\"password\":\"hunter2-secret\"}"

static const struct bad_case {
	const char *name;
	const char *text;
	const char *says; /* what the user reads */
	const char *hint; /* what to do; NULL: restore the backup or fix the file */
} bad_cases[] = {
    {"empty", "", "the file is empty", NULL},
    {"blank", " \n\t\n", "the file is empty", NULL},
    {"truncated", HEAD "[{\"address\":\"loopback/a/b\",\"provi", "truncated", NULL},
    {"garbage", "{\"format\": wsr.state}", "not valid JSON", NULL},
    {"an array", "[1,2]", "does not start with a JSON object", NULL},
    {"trailing bytes", HEAD "[]} {}", "trailing data after the state document at line 1 col 69",
     NULL},
    {"trailing line", HEAD "[]}\ngarbage\n",
     "trailing data after the state document at line 2 col 1", NULL},
    {"corrupt inside", HEAD "[{\"address\":\"a\" \"provider\":\"p\"}]}\n",
     "the file is corrupt or was edited by hand", NULL},
    {"no format", "{\"lineage\":\"x\",\"serial\":1,\"resources\":[]}", "no \"format\" field", NULL},
    {"format number", "{\"format\":1}", "\"format\" must be a string, not a number", NULL},
    {"newer format", "{\"format\":\"wsr.state/v2\",\"lineage\":\"x\"}", "written by a newer wsr",
     "upgrade wsr"},
    {"other format", "{\"format\":\"terraform\"}", "unknown format \"terraform\"", NULL},
    {"no lineage", "{\"format\":\"wsr.state/v1\",\"serial\":1,\"resources\":[]}",
     "missing \"lineage\"", NULL},
    {"empty lineage",
     "{\"format\":\"wsr.state/v1\",\"lineage\":\"\",\"serial\":1,\"resources\":[]}",
     "\"lineage\" must be non-empty", NULL},
    {"no serial", "{\"format\":\"wsr.state/v1\",\"lineage\":\"x\",\"resources\":[]}",
     "missing \"serial\"", NULL},
    {"negative serial",
     "{\"format\":\"wsr.state/v1\",\"lineage\":\"x\",\"serial\":-1,\"resources\":[]}",
     "\"serial\" must be a whole number", NULL},
    {"fractional serial",
     "{\"format\":\"wsr.state/v1\",\"lineage\":\"x\",\"serial\":1.5,\"resources\":[]}",
     "\"serial\" must be a whole number", NULL},
    {"string serial",
     "{\"format\":\"wsr.state/v1\",\"lineage\":\"x\",\"serial\":\"1\",\"resources\":[]}",
     "\"serial\" must be a number, not a string", NULL},
    {"no resources", "{\"format\":\"wsr.state/v1\",\"lineage\":\"x\",\"serial\":1}",
     "missing \"resources\"", NULL},
    {"resources object", HEAD "{}}", "\"resources\" must be an array, not an object", NULL},
    {"unknown top field",
     "{\"format\":\"wsr.state/v1\",\"lineage\":\"x\",\"serial\":1,\"resources\":[],\"extra\":1}",
     "unknown field \"extra\"", NULL},
    {"entry not object", HEAD "[42]}", "resources[0]: must be an object, not a number", NULL},
    {"no address", HEAD "[{\"provider\":\"p\",\"kind\":\"k\"," APPLIED "}]}",
     "resources[0]: missing \"address\"", NULL},
    {"no provider", HEAD "[{\"address\":\"a\",\"kind\":\"k\"," APPLIED "}]}",
     "missing \"provider\"", NULL},
    {"no kind", HEAD "[{\"address\":\"a\",\"provider\":\"p\"," APPLIED "}]}", "missing \"kind\"",
     NULL},
    {"no applied", HEAD RES("\"id\":null"), "missing \"applied\"", NULL},
    {"applied string", HEAD RES("\"applied\":\"hunter2-secret\""),
     "\"applied\" must be an object, not a string", NULL},
    {"observed array", HEAD RES(APPLIED ",\"observed\":[\"hunter2-secret\"]"),
     "\"observed\" must be an object, not an array", NULL},
    {"id number", HEAD RES(APPLIED ",\"id\":7"), "\"id\" must be a string, not a number", NULL},
    {"bad time", HEAD RES(APPLIED ",\"created\":\"yesterday\""), "\"created\" is not an RFC 3339",
     NULL},
    /* a day that does not exist was moved on silently; and a leap second
     * in 9999 became the year 10000, which the next write made unreadable */
    {"impossible day", HEAD RES(APPLIED ",\"updated\":\"2026-02-30T00:00:00Z\""),
     "\"updated\" is not an RFC 3339", NULL},
    {"leap second", HEAD RES(APPLIED ",\"created\":\"9999-12-31T23:59:60Z\""),
     "\"created\" is not an RFC 3339", NULL},
    {"bad source", HEAD RES(APPLIED ",\"source\":{\"file\":\"a.yaml\",\"line\":-2}"),
     "\"line\" must be a whole number", NULL},
    {"unknown entry field", HEAD RES(APPLIED ",\"obsreved\":{}"), "unknown field \"obsreved\"",
     NULL},
    {"repeated field", HEAD RES(APPLIED "," APPLIED), "field \"applied\" appears twice", NULL},
    {"control chars",
     HEAD "[{\"address\":\"a\\u001b[2J\",\"provider\":\"p\",\"kind\":\"k\"," APPLIED "}]}",
     "\"address\" must be non-empty, without control characters", NULL},
    {"duplicate address",
     HEAD "[{\"address\":\"loopback/a/b\",\"provider\":\"p\",\"kind\":\"k\"," APPLIED "},"
	  "{\"address\":\"loopback/a/b\",\"provider\":\"p\",\"kind\":\"k\"," APPLIED "}]}",
     "duplicate address loopback/a/b", NULL},
};

/* Cases whose text holds a NUL byte, so strlen cannot say how long it is. */
#define NUL_CASE(name, text, says)                                                                 \
	{                                                                                          \
		{name, text, says, NULL}, sizeof(text) - 1                                         \
	}
static const struct nul_case {
	struct bad_case c;
	size_t len;
} nul_cases[] = {
    NUL_CASE("nul bytes", "\0\0\0\0", "NUL byte at byte offset 0 (line 1 col 1)"),
    /* the parser would stop at a NUL: what follows must not go unread */
    NUL_CASE("nul after document", HEAD "[]}\n\0garbage",
	     "NUL byte at byte offset 68 (line 2 col 1)"),
    NUL_CASE("nul in an address", HEAD "[{\"address\":\"loop\0back/a/b\"}]}",
	     "NUL byte at byte offset 81 (line 1 col 82)"),
};

/* The i-th case of both tables and its length; NULL past the end. */
static const struct bad_case *bad_case_at(size_t i, size_t *len)
{
	size_t n = sizeof(bad_cases) / sizeof(bad_cases[0]);
	if (i < n) {
		*len = strlen(bad_cases[i].text);
		return &bad_cases[i];
	}
	if (i - n >= sizeof(nul_cases) / sizeof(nul_cases[0]))
		return NULL;
	*len = nul_cases[i - n].len;
	return &nul_cases[i - n].c;
}

static char *deep_state(int levels)
{
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_puts(&b, HEAD "[{\"address\":\"a\",\"provider\":\"p\",\"kind\":\"k\",\"applied\":");
	for (int i = 0; i < levels; i++)
		wsr_buf_puts(&b, "{\"x\":");
	wsr_buf_puts(&b, "1");
	for (int i = 0; i < levels; i++)
		wsr_buf_puts(&b, "}");
	wsr_buf_puts(&b, "}]}");
	return wsr_buf_detach(&b);
}

static void expect_refused(const char *text, size_t len, const char *says, const char *hint,
			   const char *name)
{
	wsr_diag d = WSR_DIAG_INIT;
	wsr_state *s = (wsr_state *)1;
	int rc = wsr_state_from_json(&s, text, len, "dir/state.json", &d);
	if (rc != WSR_ECORRUPT || !diag_has(&d, says) || !diag_has(&d, "dir/state.json")) {
		fprintf(stderr, "case '%s' (rc %d), expected '%s':\n", name, rc, says);
		dump_diag(&d);
		fail();
	}
	assert_null(s);
	/* values from the file are never echoed: they may be secrets */
	assert_false(diag_has(&d, "hunter2"));
	/* and the user is told what to do */
	assert_true(
	    diag_has(&d, hint ? hint : "restore the previous version from dir/state.json.backup"));
	wsr_diag_free(&d);
}

static void test_bad_documents_are_refused_with_a_reason(void **ctx)
{
	(void)ctx;
	size_t len = 0;
	const struct bad_case *c;
	for (size_t i = 0; (c = bad_case_at(i, &len)) != NULL; i++) {
		expect_refused(c->text, len, c->says, c->hint, c->name);
	}
}

static void test_serial_limit(void **ctx)
{
	(void)ctx;
	/* serials are read through a double: 2^53 is the last exact one */
	const char *at = "{\"format\":\"wsr.state/v1\",\"lineage\":\"x\",\"serial\":"
			 "9007199254740992,\"resources\":[]}";
	const char *past = "{\"format\":\"wsr.state/v1\",\"lineage\":\"x\",\"serial\":"
			   "9007199254740994,\"resources\":[]}";
	wsr_diag d = WSR_DIAG_INIT;
	wsr_state *s = NULL;
	assert_int_equal(wsr_state_from_json(&s, at, strlen(at), "st.json", &d), 0);
	assert_int_equal(s->serial, 9007199254740992LL);
	wsr_state_free(s);
	expect_refused(past, strlen(past), "\"serial\" must be a whole number from 0 to", NULL,
		       "past 2^53");
	wsr_diag_free(&d);
}

static void test_syntax_error_has_line_and_column(void **ctx)
{
	(void)ctx;
	const char *text = "{\n  \"format\": \"wsr.state/v1\",\n  \"serial\": ?\n}\n";
	wsr_diag d = WSR_DIAG_INIT;
	wsr_state *s = NULL;
	assert_int_equal(wsr_state_from_json(&s, text, strlen(text), "st.json", &d), WSR_ECORRUPT);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].file, "st.json");
	assert_int_equal(d.v[0].line, 3);
	assert_int_equal(d.v[0].col, 13);
	wsr_diag_free(&d);
}

/* Reads text, expecting a refusal; returns the diagnostics (caller frees). */
static wsr_diag refused(const char *text, size_t len)
{
	wsr_diag d = WSR_DIAG_INIT;
	wsr_state *s = NULL;
	assert_int_equal(wsr_state_from_json(&s, text, len, "st.json", &d), WSR_ECORRUPT);
	assert_null(s);
	return d;
}

static void test_truncated_trailing_and_nul_are_told_apart(void **ctx)
{
	(void)ctx;
	wsr_state *st = wsr_state_new();
	assert_int_equal(wsr_state_put(st, full_entry("loopback/acme/api")), 0);
	assert_int_equal(wsr_state_put(st, full_entry("loopback/acme/web")), 0);
	size_t len = 0;
	char *text = wsr_state_to_json(st, &len);
	assert_non_null(text);
	/* every cut short copy, wherever it was cut, is "truncated" and not
	 * "trailing"; only the final newline may go */
	for (size_t cut = 1; cut + 1 < len; cut++) {
		wsr_diag d = refused(text, cut);
		if (!diag_has(&d, "it is truncated") || diag_has(&d, "trailing")) {
			fprintf(stderr, "cut at byte %zu of %zu:\n", cut, len);
			dump_diag(&d);
			fail();
		}
		wsr_diag_free(&d);
	}
	/* a whole document then more: trailing data, at its first byte */
	int lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_add(&b, text, len);
	wsr_buf_puts(&b, "  x}\n");
	wsr_diag d = refused(wsr_buf_str(&b), b.len);
	char *want =
	    wsr_strdupf("trailing data after the state document at line %d col 3", lines + 1);
	assert_true(diag_has(&d, want));
	assert_false(diag_has(&d, "truncated"));
	assert_int_equal(d.v[0].line, lines + 1);
	assert_int_equal(d.v[0].col, 3);
	free(want);
	wsr_diag_free(&d);
	/* and a NUL byte there: refused at its offset, the rest unread */
	wsr_buf_clear(&b);
	wsr_buf_add(&b, text, len);
	wsr_buf_add(&b, "\0{}", 3);
	d = refused(wsr_buf_str(&b), b.len);
	want = wsr_strdupf("NUL byte at byte offset %zu (line %d col 1)", len, lines + 1);
	assert_true(diag_has(&d, want));
	assert_int_equal(d.n, 1);
	free(want);
	wsr_diag_free(&d);
	wsr_buf_free(&b);
	free(text);
	wsr_state_free(st);
}

static void test_huge_address_is_quoted_short(void **ctx)
{
	(void)ctx;
	enum { BIG = 10 * 1024 * 1024 };
	/* two entries with one 10 MB address: the duplicate is reported, the
	 * address in front of it and inside its summary */
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_puts(&b, HEAD "[");
	for (int i = 0; i < 2; i++) {
		wsr_buf_puts(&b, i ? ",{\"address\":\"" : "{\"address\":\"");
		for (size_t j = 0; j < BIG; j++)
			wsr_buf_putc(&b, 'x');
		wsr_buf_puts(&b, "\",\"provider\":\"p\",\"kind\":\"k\"," APPLIED "}");
	}
	wsr_buf_puts(&b, "]}\n");
	assert_false(b.failed);
	wsr_diag d = refused(wsr_buf_str(&b), b.len);
	wsr_buf_free(&b);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	wsr_diag_print(&d, f, 0);
	fclose(f);
	assert_true(len < 64 * 1024);
	assert_non_null(strstr(text, "x\u2026(10485760 bytes): error: state file st.json: "
				     "resources[1]: duplicate address xxx"));
	assert_non_null(strstr(text, "duplicate address xxx"));
	const char *tail = strstr(text, "duplicate address ");
	assert_non_null(strstr(tail, "x\u2026(10485760 bytes)\n"));
	free(text);
	wsr_diag_free(&d);
}

static void test_nesting_depth_limit(void **ctx)
{
	(void)ctx;
	/* the document itself is 3 levels deep around applied */
	char *ok = deep_state(WSR_JSON_MAX_DEPTH - 3);
	char *deep = deep_state(WSR_JSON_MAX_DEPTH - 2);
	wsr_diag d = WSR_DIAG_INIT;
	wsr_state *s = NULL;
	assert_int_equal(wsr_state_from_json(&s, ok, strlen(ok), "st.json", &d), 0);
	wsr_state_free(s);
	expect_refused(deep, strlen(deep), "nested deeper than", NULL, "deep");
	free(ok);
	free(deep);
	wsr_diag_free(&d);
}

static void test_every_problem_is_reported(void **ctx)
{
	(void)ctx;
	const char *text =
	    HEAD "[{\"address\":\"a\",\"kind\":\"k\"},{\"address\":\"b\",\"provider\":7,"
		 "\"kind\":\"k\"," APPLIED "}]}";
	wsr_diag d = WSR_DIAG_INIT;
	wsr_state *s = NULL;
	assert_int_equal(wsr_state_from_json(&s, text, strlen(text), "st.json", &d), WSR_ECORRUPT);
	assert_int_equal(wsr_diag_errors(&d), 3);
	assert_string_equal(d.v[0].address, "a");
	assert_true(diag_has(&d, "resources[0]: missing \"provider\""));
	assert_true(diag_has(&d, "resources[0]: missing \"applied\""));
	assert_true(diag_has(&d, "resources[1]: \"provider\" must be a string"));
	assert_non_null(d.v[0].hint);
	assert_null(d.v[1].hint); /* said once */
	wsr_diag_free(&d);
}

/* ---- the file backend ---- */

static void test_missing_file_reads_as_new_state(void **ctx)
{
	fixture *f = *ctx;
	wsr_state_backend *b = open_file(f->path);
	assert_string_equal(b->ops->name, "file");
	wsr_state *s = read_ok(b);
	assert_int_equal(s->serial, 0);
	assert_int_equal(s->n, 0);
	wsr_state_free(s);
	b->ops->free(b);
	struct stat st;
	assert_int_not_equal(stat(f->path, &st), 0); /* reading created nothing */
}

static void test_writes_grow_serial_by_one_and_keep_a_backup(void **ctx)
{
	fixture *f = *ctx;
	wsr_state_backend *b = open_file(f->path);
	wsr_state *s = read_ok(b);
	wsr_state_put(s, full_entry("loopback/acme/web"));
	write_ok(b, s);
	assert_int_equal(s->serial, 1);

	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char *dir = wsr_path_dirname(f->path);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	free(dir);

	size_t len1 = 0;
	char *first = slurp(f->path, &len1);
	assert_non_null(strstr(first, "\"serial\": 1,")); /* the file has the new serial */

	wsr_state_put(s, entry("loopback/acme/db", "db"));
	write_ok(b, s);
	assert_int_equal(s->serial, 2);
	char *backup_path = wsr_strdupf("%s.backup", f->path);
	size_t blen = 0;
	char *backup = slurp(backup_path, &blen);
	assert_non_null(backup);
	assert_int_equal(blen, len1);
	assert_memory_equal(backup, first, len1);
	assert_int_equal(stat(backup_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	wsr_state *r = read_ok(b);
	assert_int_equal(r->serial, 2);
	assert_int_equal(r->n, 2);
	assert_string_equal(r->lineage, s->lineage);
	wsr_state_free(r);
	free(backup);
	free(backup_path);
	free(first);
	wsr_state_free(s);
	b->ops->free(b);
}

/* A write does not parse the file again when it is the one this backend
 * last wrote (device, inode, size, times): a file changed in place by hand
 * under the same name, with the same size, is still noticed, and the
 * backup is the previous version (a link, not a copy). */
static void test_own_file_is_known_an_edited_one_is_read_again(void **ctx)
{
	fixture *f = *ctx;
	wsr_state_backend *a = open_file(f->path);
	wsr_state *s = wsr_state_new();
	write_ok(a, s);
	wsr_state_put(s, entry("loopback/x/a", "a"));
	write_ok(a, s); /* serial 2, known to a */
	size_t len = 0;
	char *two = slurp(f->path, &len);
	/* someone rewrites it in place, same inode, same size: serial 2 -> 7 */
	char *edited = strdup(two);
	char *at = strstr(edited, "\"serial\": 2");
	assert_non_null(at);
	at[strlen("\"serial\": ")] = '7';
	struct timespec pause = {0, 20 * 1000 * 1000};
	nanosleep(&pause, NULL); /* a later modification time */
	FILE *w = fopen(f->path, "r+");
	assert_non_null(w);
	assert_int_equal(fwrite(edited, 1, len, w), len);
	fclose(w);
	wsr_state_put(s, entry("loopback/x/b", "b"));
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(wsr_state_write(a, s, &d), WSR_ECONFLICT);
	assert_true(diag_has(&d, "serial 7 on disk, 2 when read"));
	wsr_diag_free(&d);
	/* the backup of the next good write is the version it replaced */
	wsr_state *again = read_ok(a);
	wsr_state_put(again, entry("loopback/x/c", "c"));
	write_ok(a, again);
	char *backup_path = wsr_strdupf("%s.backup", f->path);
	size_t blen = 0;
	char *backup = slurp(backup_path, &blen);
	assert_int_equal(blen, len);
	assert_memory_equal(backup, edited, len);
	struct stat st;
	assert_int_equal(stat(backup_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(backup);
	free(backup_path);
	free(edited);
	free(two);
	wsr_state_free(again);
	wsr_state_free(s);
	a->ops->free(a);
}

static void test_two_writers_from_one_read_conflict(void **ctx)
{
	fixture *f = *ctx;
	wsr_state_backend *a = open_file(f->path), *b = open_file(f->path);
	wsr_state *s = wsr_state_new();
	write_ok(a, s);
	wsr_state_free(s);

	wsr_state *sa = read_ok(a), *sb = read_ok(b);
	wsr_state_put(sa, entry("loopback/x/a", "a"));
	wsr_state_put(sb, entry("loopback/x/b", "b"));
	write_ok(a, sa);
	size_t len = 0;
	char *after_a = slurp(f->path, &len);

	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(wsr_state_write(b, sb, &d), WSR_ECONFLICT);
	assert_true(diag_has(&d, "changed since it was read (serial 2 on disk, 1 when read)"));
	assert_int_equal(sb->serial, 1); /* unchanged: the write did not happen */
	size_t len2 = 0;
	char *now = slurp(f->path, &len2);
	assert_int_equal(len2, len);
	assert_memory_equal(now, after_a, len);
	wsr_diag_free(&d);

	/* another lineage in the file is a conflict too */
	wsr_state *other = wsr_state_new();
	other->serial = 2;
	assert_int_equal(wsr_state_write(b, other, &d), WSR_ECONFLICT);
	assert_true(diag_has(&d, "now holds another state"));
	wsr_diag_free(&d);

	/* and so is a file that vanished after the read */
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(wsr_state_write(a, sa, &d), WSR_ECONFLICT);
	assert_true(diag_has(&d, "disappeared after it was read"));
	wsr_diag_free(&d);

	wsr_state_free(other);
	free(now);
	free(after_a);
	wsr_state_free(sa);
	wsr_state_free(sb);
	a->ops->free(a);
	b->ops->free(b);
}

/* Forks a process that takes the lock as `wsr apply` and waits to be killed. */
static pid_t hold_lock_in_child(const char *path)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		wsr_state_backend *b = NULL;
		wsr_diag d = WSR_DIAG_INIT;
		char ok =
		    wsr_state_file_open(&b, path) == 0 && b->ops->lock(b, "wsr apply", &d) == 0
			? 'y'
			: 'n';
		if (write(p[1], &ok, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	char ok = 0;
	assert_int_equal(read(p[0], &ok, 1), 1);
	close(p[0]);
	assert_int_equal(ok, 'y');
	return pid;
}

static void test_lock_held_by_another_process_names_it(void **ctx)
{
	fixture *f = *ctx;
	pid_t child = hold_lock_in_child(f->path);
	wsr_state_backend *b = open_file(f->path);
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(b->ops->lock(b, "wsr plan", &d), WSR_ELOCKED);
	char *want = wsr_strdupf("state is locked by pid %ld on host ", (long)child);
	assert_true(diag_has(&d, want));
	assert_true(diag_has(&d, "(wsr apply, by "));
	assert_true(diag_has(&d, "; lock id ")); /* what `wsr state unlock` takes */
	wsr_state_lock_info held;
	assert_int_equal(b->ops->holder(b, &held, &d), 0);
	assert_int_equal(held.pid, (long)child);
	assert_int_equal(strlen(held.id), 36); /* a UUID */
	assert_true(diag_has(&d, held.id));
	assert_true(diag_has(&d, "wait for it to finish"));
	free(want);
	wsr_diag_free(&d);

	/* the lock file is anyone's to write: a pid that is no pid is "?" */
	char *lockfile = wsr_strdupf("%s.lock", f->path);
	FILE *lf = fopen(lockfile, "w"); /* same file, the holder's flock stays */
	assert_non_null(lf);
	fputs("{\"pid\":1e30,\"host\":\"h\",\"command\":\"wsr apply\",\"since\":\"s\"}\n", lf);
	fclose(lf);
	free(lockfile);
	assert_int_equal(b->ops->lock(b, "wsr plan", &d), WSR_ELOCKED);
	assert_true(diag_has(
	    &d, "state is locked by pid ? on host h (wsr apply, by ?, since s; lock id ?)"));
	wsr_diag_free(&d);

	/* a write without the lock waits for nobody: it is refused too */
	wsr_state *s = wsr_state_new();
	assert_int_equal(wsr_state_write(b, s, &d), WSR_ELOCKED);
	wsr_diag_free(&d);
	struct stat st;
	assert_int_not_equal(stat(f->path, &st), 0);

	/* the holder is SIGKILLed: no stale lock, the next one gets it */
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	assert_int_equal(b->ops->lock(b, "wsr plan", &d), 0);
	char *lockpath = wsr_strdupf("%s.lock", f->path);
	char *info = slurp(lockpath, NULL);
	char *mine = wsr_strdupf("\"pid\":%ld,", (long)getpid());
	assert_non_null(strstr(info, mine));
	assert_non_null(strstr(info, "\"command\":\"wsr plan\""));
	write_ok(b, s); /* the holder writes without re-locking */
	assert_int_equal(b->ops->unlock(b), 0);
	assert_int_equal(stat(lockpath, &st), 0);
	assert_int_equal(st.st_size, 0); /* unlock forgets the holder */
	assert_int_equal(st.st_mode & 0777, 0600);
	free(mine);
	free(info);
	free(lockpath);
	wsr_state_free(s);
	b->ops->free(b);
}

static void test_lock_without_holder_record(void **ctx)
{
	fixture *f = *ctx;
	/* someone (flock(1), or a wsr between its flock and its write) holds it */
	char *lockpath = wsr_strdupf("%s.lock", f->path);
	spit(lockpath, "", 0);
	int fd = open(lockpath, O_RDONLY);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	wsr_state_backend *b = open_file(f->path);
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(b->ops->lock(b, "wsr apply", &d), WSR_ELOCKED);
	assert_true(diag_has(&d, "locked by another process"));
	wsr_diag_free(&d);
	close(fd);
	assert_int_equal(b->ops->lock(b, "wsr apply", &d), 0);
	b->ops->free(b); /* free releases the lock */
	b = open_file(f->path);
	assert_int_equal(b->ops->lock(b, "wsr apply", &d), 0);
	b->ops->free(b);
	free(lockpath);
}

static void test_corrupt_files_stop_reads_and_writes_untouched(void **ctx)
{
	fixture *f = *ctx;
	char *backup = wsr_strdupf("%s.backup", f->path);
	size_t len = 0;
	const struct bad_case *c;
	for (size_t i = 0; (c = bad_case_at(i, &len)) != NULL; i++) {
		spit(f->path, c->text, len);
		wsr_state_backend *b = open_file(f->path);
		wsr_diag d = WSR_DIAG_INIT;
		wsr_state *s = NULL;
		assert_int_equal(b->ops->read(b, &s, &d), WSR_ECORRUPT);
		assert_true(diag_has(&d, c->says));
		assert_true(diag_has(&d, f->path));
		/* a fresh state written over it is refused as well */
		s = wsr_state_new();
		assert_int_equal(wsr_state_write(b, s, &d), WSR_ECORRUPT);
		assert_int_equal(s->serial, 0);
		size_t n = 0;
		char *now = slurp(f->path, &n);
		assert_int_equal(n, len);
		assert_memory_equal(now, c->text, len);
		struct stat st;
		assert_int_not_equal(stat(backup, &st), 0);
		free(now);
		wsr_state_free(s);
		wsr_diag_free(&d);
		b->ops->free(b);
	}
	free(backup);
}

static void make_sparse(const char *path, off_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
}

static void test_size_limit_boundary(void **ctx)
{
	fixture *f = *ctx;
	spit(f->path, "", 0);
	wsr_state_backend *b = open_file(f->path);
	wsr_diag d = WSR_DIAG_INIT;
	wsr_state *s = NULL;

	make_sparse(f->path, (off_t)WSR_STATE_MAX_BYTES + 1);
	assert_int_equal(b->ops->read(b, &s, &d), WSR_ELIMIT);
	assert_true(diag_has(&d, "larger than"));
	wsr_diag_free(&d);
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, (off_t)WSR_STATE_MAX_BYTES + 1);

	/* exactly at the limit it is read, and then refused for what it holds */
	make_sparse(f->path, (off_t)WSR_STATE_MAX_BYTES);
	assert_int_equal(b->ops->read(b, &s, &d), WSR_ECORRUPT);
	assert_false(diag_has(&d, "larger than"));
	assert_true(diag_has(&d, "NUL byte at byte offset 0"));
	wsr_diag_free(&d);
	b->ops->free(b);
}

static void test_ten_thousand_entries_are_fast(void **ctx)
{
	fixture *f = *ctx;
	enum { N = 10000 };
	wsr_state *s = wsr_state_new();
	for (int i = N; i > 0; i--) {
		char addr[64];
		snprintf(addr, sizeof(addr), "loopback/org%03d/ws%05d", i % 97, i);
		wsr_state_entry *e = full_entry(addr);
		assert_int_equal(wsr_state_put(s, e), 0);
	}
	int64_t t0 = wsr_clock_mono_ms();
	wsr_state_backend *b = open_file(f->path);
	write_ok(b, s);
	wsr_state *r = read_ok(b);
	size_t len = 0;
	char *text = wsr_state_to_json(r, &len);
	wsr_diag d = WSR_DIAG_INIT;
	wsr_state *r2 = NULL;
	assert_int_equal(wsr_state_from_json(&r2, text, len, "x", &d), 0);
	int64_t ms = wsr_clock_mono_ms() - t0;
	fprintf(stderr, "10,000 entries: write+read+serialize+parse in %lld ms (%zu bytes)\n",
		(long long)ms, len);
	assert_true(!timed() || ms < 2000);
	assert_int_equal(r2->n, N);
	assert_non_null(wsr_state_find(r2, "loopback/org000/ws09700"));
	for (int i = 1; i <= N; i += 2) { /* removing half stays cheap too */
		char addr[64];
		snprintf(addr, sizeof(addr), "loopback/org%03d/ws%05d", i % 97, i);
		assert_int_equal(wsr_state_remove(r2, addr), 0);
	}
	assert_int_equal(r2->n, N / 2);
	assert_true(!timed() || wsr_clock_mono_ms() - t0 < 3000);
	free(text);
	wsr_state_free(r2);
	wsr_state_free(r);
	wsr_state_free(s);
	b->ops->free(b);
}

/* A write the disk has no room for (here RLIMIT_FSIZE, which fails it with
 * EFBIG as a full disk fails it with ENOSPC) leaves the state and its
 * backup exactly as they were, and no temporary behind: the new state is
 * written beside the file before the backup is touched. */
static void test_write_without_room_keeps_state_and_backup(void **ctx)
{
	fixture *f = *ctx;
	wsr_state_backend *b = open_file(f->path);
	wsr_state *s = read_ok(b);
	wsr_state_put(s, full_entry("loopback/acme/web"));
	write_ok(b, s);
	wsr_state_put(s, entry("loopback/acme/db", "db"));
	write_ok(b, s);
	char *backup_path = wsr_strdupf("%s.backup", f->path);
	size_t slen = 0, blen = 0;
	char *state = slurp(f->path, &slen), *backup = slurp(backup_path, &blen);
	assert_non_null(state);
	assert_non_null(backup);
	for (int i = 0; i < 200; i++) { /* the next state is far larger than both */
		char a[64];
		snprintf(a, sizeof(a), "loopback/acme/w%03d", i);
		wsr_state_put(s, full_entry(a));
	}
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (slen > blen ? slen : blen) + 64; /* room for a backup copy only */
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	wsr_diag d = WSR_DIAG_INIT;
	int rc = wsr_state_write(b, s, &d);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(rc, WSR_EIO);
	assert_true(diag_has(&d, "File too large"));
	assert_true(diag_has(&d, f->path));
	assert_int_equal(s->serial, 2);
	size_t len = 0;
	char *now = slurp(f->path, &len);
	assert_int_equal(len, slen);
	assert_memory_equal(now, state, slen);
	free(now);
	now = slurp(backup_path, &len);
	assert_int_equal(len, blen);
	assert_memory_equal(now, backup, blen); /* still the one before */
	free(now);
	char *cmd = wsr_strdupf("ls -a '%s/.wsr' | grep -q tmp", f->dir);
	assert_int_not_equal(system(cmd), 0); /* no temporary left */
	free(cmd);
	wsr_diag_free(&d);
	free(state);
	free(backup);
	free(backup_path);
	wsr_state_free(s);
	b->ops->free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_state_is_empty_with_a_uuid_lineage),
	    cmocka_unit_test(test_round_trip_keeps_every_field),
	    cmocka_unit_test(test_file_lists_entries_sorted_by_address),
	    cmocka_unit_test(test_put_replaces_and_remove_forgets),
	    cmocka_unit_test(test_bad_documents_are_refused_with_a_reason),
	    cmocka_unit_test(test_serial_limit),
	    cmocka_unit_test(test_syntax_error_has_line_and_column),
	    cmocka_unit_test(test_truncated_trailing_and_nul_are_told_apart),
	    cmocka_unit_test(test_huge_address_is_quoted_short),
	    cmocka_unit_test(test_nesting_depth_limit),
	    cmocka_unit_test(test_every_problem_is_reported),
	    cmocka_unit_test_setup_teardown(test_missing_file_reads_as_new_state, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writes_grow_serial_by_one_and_keep_a_backup, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_write_without_room_keeps_state_and_backup, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_own_file_is_known_an_edited_one_is_read_again,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_writers_from_one_read_conflict, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_lock_held_by_another_process_names_it, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_lock_without_holder_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_files_stop_reads_and_writes_untouched,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_size_limit_boundary, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ten_thousand_entries_are_fast, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
