/* Unit tests for reconciler/source_git.c: real repositories made with the git
 * CLI in a temporary directory, served over file:// (and git:// by a
 * git daemon on 127.0.0.1). What a user of `wsr watch --git` would notice:
 * the revision followed (new commits, force-pushes, tags, commit ids,
 * deleted branches), the files read from a commit (which, in which order,
 * with which text), the limits, and that a password never shows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "reconciler/load.h"
#include "reconciler/source_git.h"
#include "tests/unit/hung_server.h"

/* libgit2 1.5's git_regexp_match leaks pcre2's match data on every
 * non-match (upstream bb65da7d5, fixed in 1.6): a few per config lookup,
 * so a constant per wsr_git_open and none per fetch (the origin is looked
 * up once). Only allocations made inside pcre2 are excused here; project
 * code never calls pcre2, so no leak of ours can hide behind this. */
__attribute__((used)) const char *__lsan_default_suppressions(void);
__attribute__((used)) const char *__lsan_default_suppressions(void)
{
	return "leak:libpcre2-8.so\n";
}

#define GIT "git -c user.name=t -c user.email=t@t -c init.defaultBranch=main"

static char tmp[64];
static char *src, *cache, *url;

static int setup(void **st)
{
	(void)st;
	/* no user or system configuration may change what git does here */
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
	strcpy(tmp, "/tmp/wsr-test-git-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	src = wsr_strdupf("%s/src", tmp);
	cache = wsr_strdupf("%s/cache", tmp);
	url = wsr_strdupf("file://%s", src);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	/* the git daemon of test_git_daemon_and_password_not_stored, even when it failed */
	char *pidfile = wsr_strdupf("%s/daemon.pid", tmp);
	FILE *f = fopen(pidfile, "r");
	int pid = 0;
	if (f && fscanf(f, "%d", &pid) == 1 && pid > 0)
		kill(pid, SIGTERM);
	if (f)
		fclose(f);
	free(pidfile);
	char *cmd = wsr_strdupf("rm -rf '%s'", tmp);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(src);
	free(cache);
	free(url);
	return 0;
}

/* Runs a shell command (printf-formatted); fails the test unless it exits 0. */
__attribute__((format(printf, 1, 2))) static void sh(const char *fmt, ...)
{
	wsr_buf b = WSR_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	wsr_buf_puts(&b, "( ");
	wsr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	wsr_buf_puts(&b,
		     " ) >/dev/null"); /* quiet, without undoing the command's own redirections */
	int rc = system(wsr_buf_str(&b));
	if (rc != 0)
		fail_msg("command failed (%d): %s", rc, wsr_buf_str(&b));
	wsr_buf_free(&b);
}

/* The first line a shell command prints; the caller frees. */
__attribute__((format(printf, 1, 2))) static char *out(const char *fmt, ...)
{
	wsr_buf b = WSR_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	wsr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	FILE *p = popen(wsr_buf_str(&b), "r");
	assert_non_null(p);
	char line[4096] = "";
	if (!fgets(line, sizeof(line), p))
		line[0] = '\0';
	assert_int_equal(pclose(p), 0);
	line[strcspn(line, "\n")] = '\0';
	wsr_buf_free(&b);
	return strdup(line);
}

/* Writes text to src/path (directories created). */
static void put(const char *path, const char *text)
{
	char *full = wsr_strdupf("%s/%s", src, path);
	char *dir = wsr_path_dirname(full);
	assert_int_equal(wsr_fs_mkdirs(dir, 0700), 0);
	FILE *f = fopen(full, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(dir);
	free(full);
}

static void commit(const char *msg)
{
	sh(GIT " -C '%s' add -A && " GIT " -C '%s' commit -q -m '%s'", src, src, msg);
}

static char *rev_parse(const char *what)
{
	return out(GIT " -C '%s' rev-parse '%s'", src, what);
}

static void init_src(void)
{
	sh(GIT " init -q '%s'", src);
}

/* A source repository with one commit holding one file. */
static void init_with(const char *path, const char *text)
{
	init_src();
	put(path, text);
	commit("one");
}

static wsr_git *open_git(const char *u, const char *ref, const char *path)
{
	wsr_git_opts o = {.url = u, .ref = ref, .path = path, .cache_dir = cache, .timeout_s = 30};
	wsr_diag d = WSR_DIAG_INIT;
	wsr_git *g = NULL;
	int rc = wsr_git_open(&g, &o, &d);
	if (rc != 0) {
		wsr_diag_print(&d, stderr, 0);
		fail_msg("wsr_git_open: %d", rc);
	}
	wsr_diag_free(&d);
	return g;
}

static void fetch_ok(wsr_git *g, char rev[41])
{
	wsr_diag d = WSR_DIAG_INIT;
	int rc = wsr_git_fetch(g, rev, &d);
	if (rc != 0) {
		wsr_diag_print(&d, stderr, 0);
		fail_msg("wsr_git_fetch: %d", rc);
	}
	assert_int_equal(strlen(rev), 40);
	wsr_diag_free(&d);
}

/* 1 when any entry's summary, detail or hint contains text. */
static int diag_has(const wsr_diag *d, const char *text)
{
	for (size_t i = 0; i < d->n; i++) {
		const wsr_diag_entry *e = &d->v[i];
		if (strstr(e->summary, text) || (e->detail && strstr(e->detail, text)) ||
		    (e->hint && strstr(e->hint, text)))
			return 1;
	}
	return 0;
}

/* Asserts the files are exactly these paths, in this order. */
static void expect_paths(const wsr_spec_files *f, const char *const *paths, size_t n)
{
	int same = f->n == n;
	for (size_t i = 0; same && i < n; i++)
		same = !strcmp(f->v[i].path, paths[i]);
	for (size_t i = 0; !same && i < f->n; i++)
		fprintf(stderr, "  read %s\n", f->v[i].path);
	assert_int_equal(f->n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(f->v[i].path, paths[i]);
}

static const wsr_spec_file *find_file(const wsr_spec_files *f, const char *path)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->v[i].path, path))
			return &f->v[i];
	return NULL;
}

/* Reads commit rev and asserts that path holds exactly text. */
static void expect_text(wsr_git *g, const char *rev, const char *path, const char *text)
{
	wsr_spec_files f = {0};
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(wsr_git_read(g, rev, &f, &d), 0);
	const wsr_spec_file *e = find_file(&f, path);
	assert_non_null(e);
	assert_string_equal(e->text, text);
	wsr_spec_files_free(&f);
	wsr_diag_free(&d);
}

/* ---- the walk ------------------------------------------------------------ */

static void make_tree(void)
{
	init_src();
	put("wsr.yaml", "apiVersion: wsr.dev/v1\nkind: Config\n"); /* the local config's place */
	put("a.yaml", "a: 1\n");
	put("a-b.yaml", "ab: 1\n");
	put("a/z.yaml", "z: 1\n");
	put("b.yml", "b: 1\n");
	put("README.md", "not a spec\n");
	put(".x.yaml", "dot file\n");
	put(".hidden/h.yaml", "dot directory\n");
	put("sub/wsr.yaml", "only the root's wsr.yaml is skipped\n");
	put("sub/c.yaml", "c: 1\n");
	put("sub/deeper/d.yaml", "d: 1\n");
	sh("chmod +x '%s/b.yml'", src); /* executable blobs are files too */
	commit("one");
	/* a submodule (gitlink) is not content of this commit */
	char *head = rev_parse("HEAD");
	sh(GIT " -C '%s' update-index --add --cacheinfo 160000,%s,mod.yaml", src, head);
	sh(GIT " -C '%s' commit -q -m submodule", src);
	free(head);
}

static void test_clone_fetch_read_walk_order(void **st)
{
	(void)st;
	make_tree();
	wsr_git *g = open_git(url, NULL, NULL);
	char rev[41];
	fetch_ok(g, rev);
	char *want = rev_parse("main");
	assert_string_equal(rev, want);
	free(want);

	wsr_spec_files f = {0};
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(wsr_git_read(g, rev, &f, &d), 0);
	assert_int_equal(d.n, 0);
	/* byte-wise like the directory walk ("a" < "a-b.yaml" < "a.yaml"), not
	 * Git's tree order (which puts a/ after a.yaml) */
	const char *paths[] = {"a/z.yaml",   "a-b.yaml",	  "a.yaml",	 "b.yml",
			       "sub/c.yaml", "sub/deeper/d.yaml", "sub/wsr.yaml"};
	expect_paths(&f, paths, 7);
	assert_string_equal(find_file(&f, "a.yaml")->text, "a: 1\n");
	assert_int_equal(find_file(&f, "a.yaml")->len, 5);
	assert_string_equal(find_file(&f, "sub/deeper/d.yaml")->text, "d: 1\n");
	assert_string_equal(find_file(&f, "sub/wsr.yaml")->text,
			    "only the root's wsr.yaml is skipped\n");
	wsr_spec_files_free(&f);
	wsr_diag_free(&d);
	wsr_git_free(g);
}

static void test_path_subdirectory(void **st)
{
	(void)st;
	make_tree();
	char rev[41];
	wsr_spec_files f = {0};
	wsr_diag d = WSR_DIAG_INIT;

	/* paths relative to --path; its wsr.yaml is the root's and skipped */
	wsr_git *g = open_git(url, NULL, "./sub/");
	fetch_ok(g, rev);
	assert_int_equal(wsr_git_read(g, rev, &f, &d), 0);
	const char *paths[] = {"c.yaml", "deeper/d.yaml"};
	expect_paths(&f, paths, 2);
	wsr_spec_files_free(&f);
	wsr_git_free(g);

	g = open_git(url, NULL, "sub/deeper");
	fetch_ok(g, rev);
	assert_int_equal(wsr_git_read(g, rev, &f, &d), 0);
	const char *deeper[] = {"d.yaml"};
	expect_paths(&f, deeper, 1);
	wsr_spec_files_free(&f);
	wsr_git_free(g);

	g = open_git(url, NULL, "nope");
	fetch_ok(g, rev);
	assert_int_equal(wsr_git_read(g, rev, &f, &d), WSR_ENOTFOUND);
	assert_int_equal(f.n, 0);
	assert_true(diag_has(&d, "path 'nope' does not exist"));
	wsr_git_free(g);
	wsr_diag_free(&d);

	g = open_git(url, NULL, "a.yaml"); /* a file is no spec directory */
	fetch_ok(g, rev);
	assert_int_equal(wsr_git_read(g, rev, &f, &d), WSR_ENOTFOUND);
	assert_true(diag_has(&d, "path 'a.yaml' is not a directory"));
	wsr_git_free(g);
	wsr_diag_free(&d);
}

/* ---- following the remote -------------------------------------------------- */

static void test_new_commit_is_picked_up(void **st)
{
	(void)st;
	init_with("web.yaml", "v: 1\n");
	wsr_git *g = open_git(url, "main", NULL);
	char rev1[41], rev2[41];
	fetch_ok(g, rev1);

	put("web.yaml", "v: 2\n");
	commit("two");
	fetch_ok(g, rev2);
	char *want = rev_parse("main");
	assert_string_equal(rev2, want);
	assert_string_not_equal(rev1, rev2);
	free(want);

	expect_text(g, rev2, "web.yaml", "v: 2\n");
	expect_text(g, rev1, "web.yaml", "v: 1\n"); /* the older commit stays readable */
	wsr_git_free(g);
}

static void test_force_push_is_followed(void **st)
{
	(void)st;
	/* a bare "server" repository and a clone that pushes to it */
	char *server = wsr_strdupf("%s/server.git", tmp);
	char *server_url = wsr_strdupf("file://%s", server);
	sh(GIT " init -q --bare '%s'", server);
	init_src();
	put("web.yaml", "v: a\n");
	commit("a");
	put("web.yaml", "v: b\n");
	commit("b");
	sh(GIT " -C '%s' push -q '%s' main 2>&1", src, server);

	wsr_git *g = open_git(server_url, "main", NULL);
	char rev[41];
	fetch_ok(g, rev);
	char *b = rev_parse("main");
	assert_string_equal(rev, b);

	/* history rewritten: back to a, then a different commit c */
	sh(GIT " -C '%s' reset -q --hard HEAD~1", src);
	put("web.yaml", "v: c\n");
	commit("c");
	sh(GIT " -C '%s' push -q --force '%s' main 2>&1", src, server);
	char *c = rev_parse("main");

	fetch_ok(g, rev);
	assert_string_equal(rev, c);
	expect_text(g, rev, "web.yaml", "v: c\n");
	wsr_git_free(g);
	free(b);
	free(c);
	free(server);
	free(server_url);
}

static void test_ref_tag_commit_and_abbreviation(void **st)
{
	(void)st;
	init_with("web.yaml", "v: 1\n");
	sh(GIT " -C '%s' tag -a -m release v1", src);
	char *one = rev_parse("main");
	put("web.yaml", "v: 2\n");
	commit("two");
	char *two = rev_parse("main");
	char abbrev[8];
	snprintf(abbrev, sizeof(abbrev), "%.7s", one);
	const char *refs[] = {"v1", "refs/tags/v1", one, abbrev};
	char rev[41];
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		wsr_git *g = open_git(url, refs[i], NULL);
		fetch_ok(g, rev);
		assert_string_equal(rev, one); /* an annotated tag peels to its commit */
		wsr_git_free(g);
	}
	wsr_git *g = open_git(url, "refs/heads/main", NULL);
	fetch_ok(g, rev);
	assert_string_equal(rev, two);
	wsr_git_free(g);

	/* a tag moved by force is followed too */
	g = open_git(url, "v1", NULL);
	sh(GIT " -C '%s' tag -f -a -m moved v1 main", src);
	fetch_ok(g, rev);
	assert_string_equal(rev, two);
	wsr_git_free(g);

	const char *missing[] = {"nope", "deadbeefdeadbeef", "abc"};
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		wsr_diag d = WSR_DIAG_INIT;
		g = open_git(url, missing[i], NULL);
		assert_int_equal(wsr_git_fetch(g, rev, &d), WSR_ENOTFOUND);
		char *named = wsr_strdupf("ref '%s'", missing[i]);
		assert_true(diag_has(&d, named));
		free(named);
		wsr_diag_free(&d);
		wsr_git_free(g);
	}
	free(one);
	free(two);
}

static void test_deleted_branch_is_not_found(void **st)
{
	(void)st;
	init_with("web.yaml", "v: 1\n");
	sh(GIT " -C '%s' branch feature", src);
	wsr_git *g = open_git(url, "feature", NULL);
	char rev[41];
	fetch_ok(g, rev);

	sh(GIT " -C '%s' branch -q -D feature", src);
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(wsr_git_fetch(g, rev, &d), WSR_ENOTFOUND);
	assert_true(diag_has(&d, "ref 'feature' not found"));
	wsr_diag_free(&d);
	wsr_git_free(g);
}

static void test_default_branch_is_the_remote_head(void **st)
{
	(void)st;
	init_with("web.yaml", "v: main\n");
	sh(GIT " -C '%s' branch main-old", src);
	sh(GIT " -C '%s' checkout -q -b trunk", src);
	put("web.yaml", "v: trunk\n");
	commit("trunk");
	wsr_git *g = open_git(url, NULL, NULL);
	char rev[41];
	fetch_ok(g, rev);
	char *trunk = rev_parse("trunk");
	assert_string_equal(rev, trunk); /* not main: HEAD names trunk */
	free(trunk);
	wsr_git_free(g);
}

/* ---- limits and links -------------------------------------------------------- */

static void test_large_blob_and_symbolic_links(void **st)
{
	(void)st;
	init_src();
	put("a.yaml", "a: 1\n");
	put("sub/c.yaml", "c: 1\n");
	sh("head -c %u /dev/zero | tr '\\0' '#' > '%s/at-limit.yaml'", WSR_LOAD_MAX_FILE, src);
	sh("head -c %u /dev/zero | tr '\\0' '#' > '%s/big.yaml'", WSR_LOAD_MAX_FILE + 1, src);
	sh("cd '%s' && ln -s a.yaml link.yaml && ln -s sub dirlink && ln -s a.yaml notes && "
	   "ln -s ../sub sub/up && ln -s ../../etc sub/out",
	   src);
	commit("limits");
	wsr_git *g = open_git(url, NULL, NULL);
	char rev[41];
	fetch_ok(g, rev);

	wsr_spec_files f = {0};
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(wsr_git_read(g, rev, &f, &d), WSR_EINVAL);
	/* the links are reported, the other files still read */
	const char *paths[] = {"a.yaml", "at-limit.yaml", "big.yaml", "sub/c.yaml"};
	expect_paths(&f, paths, 4);
	assert_non_null(find_file(&f, "at-limit.yaml")->text);
	assert_int_equal(find_file(&f, "at-limit.yaml")->len, WSR_LOAD_MAX_FILE);
	assert_null(find_file(&f, "big.yaml")->text);
	/* a link named like a spec or leading to a directory; not notes (a file
	 * that is no spec) nor sub/out (outside the repository) */
	const char *links[] = {"dirlink", "link.yaml", "sub/up"};
	const char *targets[] = {"it points to sub", "it points to a.yaml", "it points to ../sub"};
	assert_int_equal(d.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(d.v[i].file, links[i]);
		assert_int_equal(d.v[i].line, 1);
		assert_int_equal(d.v[i].col, 1);
		assert_string_equal(d.v[i].summary,
				    "symbolic links are not followed in a Git source");
		assert_string_equal(d.v[i].detail, targets[i]);
	}
	wsr_diag_free(&d);
	wsr_git_free(g);

	/* below --path, a link is resolved from where it is in the repository */
	g = open_git(url, NULL, "sub");
	fetch_ok(g, rev);
	wsr_spec_files below = {0};
	assert_int_equal(wsr_git_read(g, rev, &below, &d), WSR_EINVAL);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].file, "up");
	wsr_spec_files_free(&below);
	wsr_diag_free(&d);

	/* the loader reports the large file as it does for a directory */
	wsr_resource_set set = {0};
	assert_int_equal(wsr_load_files(&f, NULL, &set, &d), WSR_EINVAL);
	int large = 0;
	for (size_t i = 0; i < d.n; i++)
		if (d.v[i].file && !strcmp(d.v[i].file, "big.yaml") &&
		    strstr(d.v[i].summary, "the file is larger than"))
			large = 1;
	assert_true(large);
	wsr_resource_set_free(&set);
	wsr_spec_files_free(&f);
	wsr_diag_free(&d);
	wsr_git_free(g);
}

/* A commit whose only tree has n entries named f000000.yaml... (one empty
 * blob), made with git mktree: a checkout would be slow, a tree is not. */
static char *wide_commit(unsigned n)
{
	init_src();
	sh("cd '%s' && blob=$(" GIT " hash-object -w --stdin </dev/null) && "
	   "awk -v b=$blob 'BEGIN{for(i=0;i<%u;i++) printf \"100644 blob %%s\\tf%%06d.yaml\\n\", "
	   "b, i}' | " GIT " mktree > ../tree",
	   src, n);
	return out("cd '%s' && " GIT " commit-tree -m wide $(cat ../tree) | tee ../commit | "
		   "xargs " GIT " update-ref refs/heads/main && cat ../commit",
		   src);
}

static void test_file_count_limit(void **st)
{
	(void)st;
	char *commit_id = wide_commit(WSR_LOAD_MAX_FILES + 2);
	wsr_git *g = open_git(url, NULL, NULL);
	char rev[41];
	fetch_ok(g, rev);
	assert_string_equal(rev, commit_id);
	wsr_spec_files f = {0};
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(wsr_git_read(g, rev, &f, &d), 0);
	/* one more than the limit, so the loader can say there are too many */
	assert_int_equal(f.n, WSR_LOAD_MAX_FILES + 1);
	assert_string_equal(f.v[WSR_LOAD_MAX_FILES].path, "f100000.yaml");
	wsr_resource_set set = {0};
	assert_int_equal(wsr_load_files(&f, NULL, &set, &d), WSR_EINVAL);
	assert_true(diag_has(&d, "more than 100000 (WSR_LOAD_MAX_FILES) spec files"));
	wsr_resource_set_free(&set);
	wsr_spec_files_free(&f);
	wsr_diag_free(&d);
	wsr_git_free(g);
	free(commit_id);
}

static void test_depth_limit(void **st)
{
	(void)st;
	init_src();
	/* ok: WSR_GIT_MAX_DEPTH directories (ok/d/d/.../x.yaml); deep: one more */
	char *commit_id =
	    out("cd '%s' && blob=$(echo 'x: 1' | " GIT " hash-object -w --stdin) && "
		"t=$(printf '100644 blob %%s\\tx.yaml\\n' $blob | " GIT " mktree) && i=1 && "
		"while [ $i -lt %d ]; do t=$(printf '040000 tree %%s\\td\\n' $t | " GIT
		" mktree); i=$((i+1)); done && "
		"u=$(printf '040000 tree %%s\\td\\n' $t | " GIT " mktree) && "
		"root=$(printf '040000 tree %%s\\tok\\n040000 tree %%s\\tdeep\\n' $t $u | " GIT
		" mktree) && c=$(" GIT " commit-tree -m deep $root) && " GIT
		" update-ref refs/heads/main $c && echo $c",
		src, WSR_GIT_MAX_DEPTH);
	wsr_git *g = open_git(url, NULL, NULL);
	char rev[41];
	fetch_ok(g, rev);
	assert_string_equal(rev, commit_id);
	wsr_spec_files f = {0};
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(wsr_git_read(g, rev, &f, &d), WSR_EINVAL);
	wsr_buf ok = WSR_BUF_INIT, deep = WSR_BUF_INIT;
	wsr_buf_puts(&ok, "ok");
	wsr_buf_puts(&deep, "deep");
	for (int i = 1; i < WSR_GIT_MAX_DEPTH; i++) {
		wsr_buf_puts(&ok, "/d");
		wsr_buf_puts(&deep, "/d");
	}
	wsr_buf_puts(&deep, "/d"); /* the directory one level too deep */
	wsr_buf_puts(&ok, "/x.yaml");
	assert_int_equal(f.n, 1);
	assert_string_equal(f.v[0].path, wsr_buf_str(&ok));
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].file, wsr_buf_str(&deep));
	assert_non_null(strstr(d.v[0].summary, "WSR_GIT_MAX_DEPTH"));
	wsr_buf_free(&ok);
	wsr_buf_free(&deep);
	wsr_spec_files_free(&f);
	wsr_diag_free(&d);
	wsr_git_free(g);
	free(commit_id);
}

/* ---- failures and secrets ------------------------------------------------------ */

static void test_unreachable_url_and_bad_input(void **st)
{
	(void)st;
	wsr_git_opts o = {.url = "file:///nonexistent/repo", .cache_dir = cache};
	wsr_diag d = WSR_DIAG_INIT;
	char sentinel;
	wsr_git *g = (wsr_git *)&sentinel; /* must come back NULL */
	assert_int_equal(wsr_git_open(&g, &o, &d), WSR_EIO);
	assert_null(g);
	assert_int_equal(wsr_diag_errors(&d), 1);
	assert_true(diag_has(&d, "cannot clone file:///nonexistent/repo"));
	wsr_diag_free(&d);
	/* no half clone is left to be mistaken for a cache */
	char *left = out("ls -A '%s' | wc -l", cache);
	assert_string_equal(left, "0");
	free(left);

	o.url = NULL;
	assert_int_equal(wsr_git_open(&g, &o, &d), WSR_EINVAL);
	wsr_diag_free(&d);

	init_with("a.yaml", "a: 1\n");
	g = open_git(url, NULL, NULL);
	wsr_spec_files f = {0};
	assert_int_equal(wsr_git_read(g, "main", &f, &d), WSR_EINVAL);
	assert_int_equal(wsr_git_read(g, "1111111111111111111111111111111111111111", &f, &d),
			 WSR_ENOTFOUND);
	assert_true(diag_has(&d, "commit 1111111111111111111111111111111111111111"));
	assert_int_equal(f.n, 0);
	wsr_diag_free(&d);

	/* the repository disappears: the fetch fails, the cache still reads */
	char rev[41];
	fetch_ok(g, rev);
	sh("mv '%s' '%s.gone'", src, src);
	assert_int_equal(wsr_git_fetch(g, rev, &d), WSR_EIO);
	assert_string_equal(rev, "");
	assert_true(diag_has(&d, "cannot fetch"));
	wsr_diag_free(&d);
	wsr_git_free(g);
}

static void test_password_never_shown(void **st)
{
	(void)st;
	/* nothing listens on port 1: the connection is refused */
	const char *urls[] = {"http://user:secret@127.0.0.1:1/repo.git",
			      "https://x-access-token:secret%21@127.0.0.1:1/r"};
	for (size_t i = 0; i < 2; i++) {
		wsr_git_opts o = {.url = urls[i], .cache_dir = cache, .token = "tok-secret"};
		wsr_diag d = WSR_DIAG_INIT;
		wsr_git *g = NULL;
		assert_int_equal(wsr_git_open(&g, &o, &d), WSR_EIO);
		assert_true(d.n > 0);
		assert_true(diag_has(&d, ":***@127.0.0.1:1/"));
		assert_false(diag_has(&d, "secret"));
		wsr_diag_free(&d);
	}
}

/* An https-like server that refuses every credential: it answers 401
 * with a Basic challenge and records what it was sent. */
static pthread_mutex_t auth_mu = PTHREAD_MUTEX_INITIALIZER;
static int auth_requests;
static char auth_seen[256];

static enum MHD_Result refuse(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	(void)cls, (void)url, (void)method, (void)version, (void)upload, (void)upload_size;
	(void)con_cls;
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	pthread_mutex_lock(&auth_mu);
	auth_requests++;
	if (auth)
		snprintf(auth_seen, sizeof(auth_seen), "%s", auth);
	pthread_mutex_unlock(&auth_mu);
	struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "WWW-Authenticate", "Basic realm=\"git\"");
	enum MHD_Result ret = MHD_queue_response(c, 401, r);
	MHD_destroy_response(r);
	return ret;
}

static void test_refused_credentials_give_up(void **st)
{
	(void)st;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct MHD_Daemon *mhd =
	    MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, refuse, NULL,
			     MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
	assert_non_null(mhd);
	unsigned port = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT)->port;
	char *u = wsr_strdupf("http://127.0.0.1:%u/specs.git", port);
	/* the password of the URL, percent-decoded, when there is no token */
	char *with_password = wsr_strdupf("http://me:p%%40ss@127.0.0.1:%u/specs.git", port);
	const char *urls[] = {u, u, with_password};
	const char *tokens[] = {"tok-secret", "tok-secret", NULL};
	const char *users[] = {NULL, "bot", NULL};
	const char *want[] = {"Basic eC1hY2Nlc3MtdG9rZW46dG9rLXNlY3JldA==", /* x-access-token: */
			      "Basic Ym90OnRvay1zZWNyZXQ=",		    /* bot: */
			      "Basic bWU6cEBzcw=="};			    /* me:p@ss */
	for (size_t i = 0; i < 3; i++) {
		auth_requests = 0;
		auth_seen[0] = '\0';
		wsr_git_opts o = {.url = urls[i],
				  .cache_dir = cache,
				  .token = tokens[i],
				  .username = users[i],
				  .timeout_s = 30};
		wsr_diag d = WSR_DIAG_INIT;
		wsr_git *g = NULL;
		/* without a limit libgit2 would ask for credentials forever */
		assert_int_equal(wsr_git_open(&g, &o, &d), WSR_EIO);
		pthread_mutex_lock(&auth_mu);
		assert_string_equal(auth_seen, want[i]);
		/* one unauthenticated request, then one per attempt (with a user in
		 * the URL, libgit2 sends one more on its own) */
		assert_in_range(auth_requests, 1 + WSR_GIT_MAX_AUTH_ATTEMPTS,
				2 + WSR_GIT_MAX_AUTH_ATTEMPTS);
		pthread_mutex_unlock(&auth_mu);
		assert_true(diag_has(&d, "check the token"));
		assert_false(diag_has(&d, "tok-secret"));
		assert_false(diag_has(&d, "p%40ss"));
		assert_false(diag_has(&d, "p@ss"));
		wsr_diag_free(&d);
	}
	MHD_stop_daemon(mhd);
	free(with_password);
	free(u);
}

/* A free port on 127.0.0.1 (bound, then released). */
static int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	close(s);
	return ntohs(a.sin_port);
}

static void test_git_daemon_and_password_not_stored(void **st)
{
	(void)st;
	char *server = wsr_strdupf("%s/srv/specs.git", tmp);
	sh(GIT " init -q --bare '%s'", server);
	init_with("web.yaml", "v: 1\n");
	sh(GIT " -C '%s' push -q '%s' main 2>&1", src, server);
	int port = free_port();
	sh("git daemon --reuseaddr --base-path='%s/srv' --export-all --listen=127.0.0.1 "
	   "--port=%d --detach --pid-file='%s/daemon.pid'",
	   tmp, port, tmp);
	/* --detach returns before the daemon wrote its pid file and listens */
	sh("i=0; while [ ! -s '%s/daemon.pid' ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); "
	   "done; "
	   "test -s '%s/daemon.pid'",
	   tmp, tmp);
	char *u = wsr_strdupf("git://user:secret@127.0.0.1:%d/specs.git", port);
	wsr_git_opts o = {.url = u, .cache_dir = cache, .timeout_s = 30};
	wsr_git *g = NULL;
	int rc = WSR_EIO;
	for (int i = 0; i < 50 && rc != 0; i++) {
		wsr_diag d = WSR_DIAG_INIT;
		rc = wsr_git_open(&g, &o, &d);
		assert_false(diag_has(&d, "secret"));
		wsr_diag_free(&d);
		if (rc != 0)
			usleep(100 * 1000);
	}
	assert_int_equal(rc, 0);
	char rev[41];
	fetch_ok(g, rev);
	char *want = rev_parse("main");
	assert_string_equal(rev, want);
	char *shown = wsr_strdupf("git://user:***@127.0.0.1:%d/specs.git", port);
	assert_string_equal(wsr_git_url(g), shown);
	/* the cache on disk keeps no password */
	char *found = out("grep -rl secret '%s' | wc -l", cache);
	assert_string_equal(found, "0");
	wsr_git_free(g);
	free(found);
	free(shown);
	free(want);
	free(u);
	free(server);
}

static void test_reopen_reuses_cache_and_recovers(void **st)
{
	(void)st;
	init_with("a.yaml", "a: 1\n");
	wsr_git *g = open_git(url, NULL, NULL);
	char rev[41];
	fetch_ok(g, rev);
	wsr_git_free(g);
	char *dir = out("ls -d '%s'/*", cache);
	sh("touch '%s/marker'", dir);

	/* reopened without the network: no clone happened */
	sh("mv '%s' '%s.away'", src, src);
	g = open_git(url, NULL, NULL);
	expect_text(g, rev, "a.yaml", "a: 1\n");
	wsr_git_free(g);
	sh("test -e '%s/marker'", dir);
	sh("mv '%s.away' '%s'", src, src);

	/* an origin that is another URL: cloned again */
	sh("git -C '%s' config remote.origin.url file:///elsewhere", dir);
	g = open_git(url, NULL, NULL);
	fetch_ok(g, rev);
	wsr_git_free(g);
	sh("test ! -e '%s/marker'", dir);
	sh("test \"$(git -C '%s' config remote.origin.url)\" = '%s'", dir, url);

	/* a damaged cache: cloned again */
	sh("touch '%s/marker' && rm -rf '%s/objects' '%s/refs' && echo junk > '%s/HEAD'", dir, dir,
	   dir, dir);
	g = open_git(url, NULL, NULL);
	fetch_ok(g, rev);
	expect_text(g, rev, "a.yaml", "a: 1\n");
	wsr_git_free(g);
	sh("test ! -e '%s/marker'", dir);
	free(dir);
}

/* ---- bounded waits --------------------------------------------------------------- */

/* Slack above a bound for a loaded machine; missing a bound by more fails. */
#define MARGIN_MS 700

/* Clones git://127.0.0.1:<port>/repo.git with the bounds; asserts it
 * fails within bound_ms (+ margin) with a message holding needle and the
 * hint naming the key to raise. */
static void expect_bounded(const wsr_git_opts *bounds, int64_t bound_ms, const char *needle)
{
	char *u = wsr_strdupf("git://127.0.0.1:%u/repo.git", base_port);
	wsr_git_opts o = *bounds;
	o.url = u;
	o.cache_dir = cache;
	wsr_diag d = WSR_DIAG_INIT;
	wsr_git *g = NULL;
	int64_t t0 = wsr_clock_mono_ms();
	assert_int_equal(wsr_git_open(&g, &o, &d), WSR_EIO);
	int64_t took = wsr_clock_mono_ms() - t0;
	if (took < bound_ms - 50 || took > bound_ms + MARGIN_MS)
		fail_msg("took %lld ms, bound %lld ms", (long long)took, (long long)bound_ms);
	if (!diag_has(&d, needle) || !diag_has(&d, "raise watch.git.timeout")) {
		wsr_diag_print(&d, stderr, 0);
		fail_msg("the message lacks '%s' or the hint", needle);
	}
	wsr_diag_free(&d);
	free(u);
}

/* A Git server that accepts, reads the request and never answers: libgit2
 * 1.5 alone would wait forever; the stall bound ends it. */
static void test_silent_server_is_bounded_by_stall(void **st)
{
	(void)st;
	raw.any_bytes = 1;
	raw_start(NULL, 0);
	wsr_git_opts o = {.timeout_s = 30, .stall_ms = 600};
	expect_bounded(&o, 600, "reading from 127.0.0.1:");
	raw_stop();
}

/* The operation's time limit ends a silence shorter than the stall bound. */
static void test_silent_server_is_bounded_by_timeout(void **st)
{
	(void)st;
	raw.any_bytes = 1;
	raw_start(NULL, 0);
	wsr_git_opts o = {.timeout_s = 1};
	expect_bounded(&o, 1000, "did not finish within the fetch's time limit");
	raw_stop();
}

/* A listener that never accepts (its backlog full): the connect bound. */
static void test_connection_never_accepted_is_bounded(void **st)
{
	(void)st;
	int fd = listen_on(0), fill[4];
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	for (int i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fill[i], (struct sockaddr *)&sa, sizeof(sa));
	}
	usleep(100 * 1000);
	wsr_git_opts o = {.timeout_s = 30, .connect_ms = 500};
	expect_bounded(&o, 500, "connecting to 127.0.0.1:");
	for (int i = 0; i < 4; i++)
		close(fill[i]);
	close(fd);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_clone_fetch_read_walk_order),
	    T(test_path_subdirectory),
	    T(test_new_commit_is_picked_up),
	    T(test_force_push_is_followed),
	    T(test_ref_tag_commit_and_abbreviation),
	    T(test_deleted_branch_is_not_found),
	    T(test_default_branch_is_the_remote_head),
	    T(test_large_blob_and_symbolic_links),
	    T(test_file_count_limit),
	    T(test_depth_limit),
	    T(test_unreachable_url_and_bad_input),
	    T(test_password_never_shown),
	    T(test_refused_credentials_give_up),
	    T(test_git_daemon_and_password_not_stored),
	    T(test_reopen_reuses_cache_and_recovers),
	    T(test_silent_server_is_bounded_by_stall),
	    T(test_silent_server_is_bounded_by_timeout),
	    T(test_connection_never_accepted_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
