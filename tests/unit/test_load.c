/* Unit tests for reconciler/load.c and reconciler/config.c: a directory of
 * specs becomes the desired set (addresses, positions, defaults), the walk
 * is deterministic, every limit holds at its boundary, and wsr.yaml (or its
 * absence) becomes the configuration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "reconciler/config.h"
#include "reconciler/load.h"

static char tmp[64];

static const char ws_fmt[] =
    "apiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata:\n  name: %s\n"
    "spec:\n  organization: acme\n  project: sandbox\n  type: baremetal\n";

static int setup(void **st)
{
	(void)st;
	strcpy(tmp, "/tmp/wsr-test-load-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	assert_int_equal(chdir(tmp), 0);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	char *cmd = wsr_strdupf("rm -rf '%s'", tmp);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	return 0;
}

static void put(const char *path, const char *text)
{
	char *dir = wsr_path_dirname(path);
	assert_int_equal(wsr_fs_mkdirs(dir, 0700), 0);
	free(dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void put_ws(const char *path, const char *name)
{
	char *s = wsr_strdupf(ws_fmt, name);
	put(path, s);
	free(s);
}

typedef struct loaded {
	wsr_resource_set set;
	wsr_diag d;
	int rc;
} loaded;

static loaded *load(const char *dir)
{
	loaded *l = calloc(1, sizeof(*l));
	assert_non_null(l);
	wsr_diag_init(&l->d);
	l->rc = wsr_load_dir(dir, NULL, &l->set, &l->d);
	wsr_diag_sort(&l->d);
	return l;
}

static void done(loaded *l)
{
	wsr_resource_set_free(&l->set);
	wsr_diag_free(&l->d);
	free(l);
}

static void expect_error(const loaded *l, const char *file, int line, int col, const char *text)
{
	assert_int_equal(l->rc, WSR_EINVAL);
	for (size_t i = 0; i < l->d.n; i++) {
		const wsr_diag_entry *e = &l->d.v[i];
		if (e->file && !strcmp(e->file, file) && e->line == line && e->col == col &&
		    strstr(e->summary, text))
			return;
	}
	for (size_t i = 0; i < l->d.n; i++)
		fprintf(stderr, "got %s:%d:%d: %s\n", l->d.v[i].file ? l->d.v[i].file : "-",
			l->d.v[i].line, l->d.v[i].col, l->d.v[i].summary);
	fail_msg("no error at %s:%d:%d containing '%s'", file, line, col, text);
}

static void test_resource_shape(void **st)
{
	(void)st;
	put("specs/prod.yaml",
	    "# leading comment\napiVersion: loopback.wsr.dev/v1\nkind: Workspace\n"
	    "metadata:\n  name: payments-prod\n  labels: {team: payments}\n"
	    "spec:\n  organization: acme\n  project: payments\n  type: kubernetes\n"
	    "  kubernetes: {version: 1.30.2}\n");
	loaded *l = load("specs/");
	assert_int_equal(l->rc, 0);
	assert_int_equal(l->set.n, 1);
	const wsr_resource *r = wsr_resource_set_find(&l->set, "loopback/acme/payments-prod");
	assert_non_null(r);
	assert_string_equal(r->provider, "loopback");
	assert_string_equal(r->kind, "loopback.wsr.dev/v1/Workspace");
	assert_string_equal(r->name, "payments-prod");
	assert_string_equal(r->file, "specs/prod.yaml");
	assert_int_equal(r->line, 2);
	assert_int_equal(r->col, 1);
	char *spec = cJSON_PrintUnformatted(r->spec), *labels = cJSON_PrintUnformatted(r->labels);
	assert_string_equal(
	    spec, "{\"organization\":\"acme\",\"project\":\"payments\",\"type\":\"kubernetes\","
		  "\"kubernetes\":{\"version\":\"1.30.2\",\"controlPlane\":\"high_available\","
		  "\"computeProvider\":\"hetzner_cloud\",\"ingress\":false}}");
	assert_string_equal(labels, "{\"team\":\"payments\"}");
	free(spec);
	free(labels);
	done(l);
}

static void test_walk_is_sorted_and_skips(void **st)
{
	(void)st;
	put_ws("c.yml", "c");
	put_ws("a/z.yaml", "az");
	put_ws("b.yaml", "b");
	put_ws(".wsr/hidden.yaml", "hidden");
	put_ws(".git/x.yaml", "git");
	put(".gitlab-ci.yml", "stages: [x]\n");
	put("notes.txt", "not: [yaml\n");
	put("wsr.yaml", "apiVersion: wsr.dev/v1\nkind: Config\n");
	put("empty.yaml", "---\n# nothing\n---\n");
	loaded *l = load(".");
	assert_int_equal(l->rc, 0);
	assert_int_equal(l->set.n, 3);
	assert_string_equal(l->set.v[0]->file, "a/z.yaml");
	assert_string_equal(l->set.v[1]->file, "b.yaml");
	assert_string_equal(l->set.v[2]->file, "c.yml");
	done(l);
}

static void test_nested_wsr_yaml_is_a_spec(void **st)
{
	(void)st;
	put("team/wsr.yaml", "apiVersion: wsr.dev/v1\nkind: Config\n");
	loaded *l = load(".");
	expect_error(l, "team/wsr.yaml", 1, 1, "a Config document belongs only in wsr.yaml");
	done(l);
}

static void test_multi_document_and_duplicates(void **st)
{
	(void)st;
	char *two = wsr_strdupf(ws_fmt, "one");
	char *s = wsr_strdupf("%s---\n%s", two, two);
	put("a.yaml", s);
	put_ws("b.yaml", "one");
	loaded *l = load(".");
	expect_error(l, "a.yaml", 10, 1, "loopback/acme/one is declared twice (first at a.yaml:1)");
	expect_error(l, "b.yaml", 1, 1, "loopback/acme/one is declared twice (first at a.yaml:1)");
	assert_int_equal(l->set.n, 1);
	done(l);
	free(s);
	free(two);
}

static void test_valid_resources_kept_on_error(void **st)
{
	(void)st;
	put_ws("good.yaml", "good");
	put("bad.yaml", "apiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata: {name: Bad}\n"
			"spec: {organization: acme, project: p, type: baremetal}\n");
	loaded *l = load(".");
	expect_error(l, "bad.yaml", 3, 18, "metadata.name 'Bad' is not in the platform's form");
	assert_int_equal(l->d.n, 1); /* the rule's message replaces the pattern's */
	assert_string_equal(l->d.v[0].hint, "the platform would call it 'bad'; use that name");
	assert_int_equal(l->set.n, 1);
	assert_non_null(wsr_resource_set_find(&l->set, "loopback/acme/good"));
	done(l);
}

static void test_kind_rules(void **st)
{
	(void)st;
	put("k.yaml", "apiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata: {name: k}\n"
		      "spec: {organization: acme, project: p, type: kubernetes}\n");
	put("m.yaml",
	    "apiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata: {name: m}\n"
	    "spec:\n  organization: acme\n  project: p\n  type: baremetal\n"
	    "  kubernetes: {version: 1.30.2}\n  maintenance: {kubernetes: {autoPatch: true}}\n");
	put("n.yaml", "apiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata: {name: '---'}\n"
		      "spec: {organization: acme, project: p, type: baremetal}\n");
	loaded *l = load(".");
	expect_error(l, "k.yaml", 4, 46, "spec.kubernetes is required for a kubernetes workspace");
	expect_error(l, "m.yaml", 8, 3, "spec.kubernetes is not allowed for a baremetal workspace");
	expect_error(l, "m.yaml", 9, 17,
		     "spec.maintenance.kubernetes is not allowed for a baremetal workspace");
	expect_error(l, "n.yaml", 3, 18, "metadata.name '---' is not in the platform's form");
	assert_int_equal(l->set.n, 0);
	done(l);
}

static void test_unknown_kind(void **st)
{
	(void)st;
	put("u.yaml",
	    "apiVersion: example.com/v1\nkind: Thing\n---\n[1, 2]\n---\nkind: Workspace\n");
	loaded *l = load(".");
	expect_error(l, "u.yaml", 2, 7, "unknown kind 'Thing' with apiVersion 'example.com/v1'");
	assert_string_equal(l->d.v[0].hint,
			    "known kinds: kcp.wsr.dev/v1 HomeWorkspace, "
			    "kcp.wsr.dev/v1 Workspace, loopback.wsr.dev/v1 Workspace");
	expect_error(l, "u.yaml", 4, 1, "a spec document must be a map with apiVersion and kind");
	expect_error(l, "u.yaml", 6, 1, "the document has no apiVersion");
	done(l);
}

/* A spec padded with a comment to exactly n bytes. */
static void put_sized(const char *path, size_t n)
{
	char *head = wsr_strdupf(ws_fmt, "sized");
	size_t hl = strlen(head);
	char *s = malloc(n + 1);
	memcpy(s, head, hl);
	s[hl] = '#';
	memset(s + hl + 1, 'x', n - hl - 2);
	s[n - 1] = '\n';
	s[n] = '\0';
	put(path, s);
	free(s);
	free(head);
}

static void test_file_size_boundary(void **st)
{
	(void)st;
	put_sized("at/ws.yaml", WSR_LOAD_MAX_FILE);
	put_sized("past/ws.yaml", WSR_LOAD_MAX_FILE + 1);
	loaded *l = load("at");
	assert_int_equal(l->rc, 0);
	assert_int_equal(l->set.n, 1);
	done(l);
	l = load("past");
	expect_error(l, "past/ws.yaml", 1, 1, "the file is larger than 8 MiB");
	done(l);
}

static void test_file_count_boundary(void **st)
{
	(void)st;
	assert_int_equal(mkdir("many", 0700), 0);
	char name[64];
	for (unsigned i = 0; i < WSR_LOAD_MAX_FILES; i++) {
		snprintf(name, sizeof(name), "many/%06u.yaml", i);
		FILE *f = fopen(name, "w");
		assert_non_null(f);
		fclose(f);
	}
	loaded *l = load("many");
	assert_int_equal(l->rc, 0);
	done(l);
	put("many/zzz.yaml", "");
	l = load("many");
	expect_error(l, "many/zzz.yaml", 1, 1, "more than 100000 (WSR_LOAD_MAX_FILES) spec files");
	done(l);
}

static void test_symlinks(void **st)
{
	(void)st;
	put_ws("outside/ws.yaml", "outside");
	put_ws("specs/real/ws.txt", "inside");
	assert_int_equal(symlink("real/ws.txt", "specs/in.yaml"), 0);
	assert_int_equal(symlink("real", "specs/again"), 0); /* walked once, as real/ */
	loaded *l = load("specs");
	assert_int_equal(l->rc, 0);
	assert_int_equal(l->set.n, 1);
	done(l);
	assert_int_equal(symlink("../outside/ws.yaml", "specs/out.yaml"), 0);
	assert_int_equal(symlink("/nonexistent/x", "specs/broken.yaml"), 0);
	l = load("specs");
	expect_error(l, "specs/out.yaml", 1, 1, "symbolic link leads outside specs");
	expect_error(l, "specs/broken.yaml", 1, 1, "broken symbolic link");
	assert_int_equal(l->set.n, 1);
	done(l);
}

static void test_missing_directory(void **st)
{
	(void)st;
	loaded *l = load("nowhere");
	assert_int_equal(l->rc, WSR_EINVAL);
	assert_non_null(strstr(l->d.v[0].summary, "nowhere"));
	done(l);
}

/* ---- config ----------------------------------------------------------- */

static void test_config_defaults(void **st)
{
	(void)st;
	wsr_diag d = WSR_DIAG_INIT;
	wsr_config *c = NULL;
	assert_int_equal(mkdir("specs", 0700), 0);
	assert_int_equal(wsr_config_load(&c, "specs", &d), 0);
	assert_null(c->file);
	assert_string_equal(c->dir, "specs");
	char *p = cJSON_PrintUnformatted(c->providers);
	assert_string_equal(
	    p,
	    "{\"loopback\":{\"endpoint\":\"embedded\",\"apiKeyEnv\":\"LOOPBACK_API_KEY\","
	    "\"timeout\":1800},\"kcp\":{\"endpoint\":\"embedded\",\"timeout\":1800,\"home\":{"
	    "\"style\":\"logicalcluster\",\"prefix\":\"root:users\",\"depth\":2,\"length\":2}}}");
	assert_int_equal(c->home.style, WSR_KCP_HOME_LOGICALCLUSTER);
	assert_string_equal(c->home.prefix, "root:users");
	assert_int_equal(c->home.depth, 2);
	assert_int_equal(c->home.length, 2);
	free(p);
	assert_string_equal(c->state_backend, "file");
	assert_string_equal(c->state_path, "specs/.wsr/state.json");
	assert_int_equal(c->prune, 0);
	assert_int_equal(c->parallelism, 8);
	wsr_config_free(c);
	/* an empty wsr.yaml, and "." itself, mean the same */
	put("wsr.yaml", "# nothing yet\n");
	assert_int_equal(wsr_config_load(&c, ".", &d), 0);
	assert_string_equal(c->state_path, ".wsr/state.json");
	assert_int_equal(c->parallelism, 8);
	wsr_config_free(c);
	assert_int_equal(d.n, 0);
}

static void test_config_file(void **st)
{
	(void)st;
	put("specs/wsr.yaml",
	    "apiVersion: wsr.dev/v1\nkind: Config\n"
	    "providers:\n  loopback:\n    endpoint: https://api.example\n    caFile: ca.pem\n"
	    "  kcp: {endpoint: kubeconfig, home: {prefix: root:people, depth: 3, length: 1}}\n"
	    "state: {path: /var/lib/wsr/state.json}\nprune: true\nparallelism: 256\n");
	wsr_diag d = WSR_DIAG_INIT;
	wsr_config *c = NULL;
	assert_int_equal(wsr_config_load(&c, "specs", &d), 0);
	assert_string_equal(c->file, "specs/wsr.yaml");
	char *p = cJSON_PrintUnformatted(c->providers);
	assert_string_equal(p,
			    "{\"loopback\":{\"endpoint\":\"https://api.example\",\"apiKeyEnv\":"
			    "\"LOOPBACK_API_KEY\",\"caFile\":\"ca.pem\",\"timeout\":1800},"
			    "\"kcp\":{\"endpoint\":\"kubeconfig\",\"timeout\":1800,\"home\":{"
			    "\"style\":\"logicalcluster\",\"prefix\":\"root:people\",\"depth\":3,"
			    "\"length\":1}}}");
	assert_string_equal(c->home.prefix, "root:people");
	assert_int_equal(c->home.depth, 3);
	free(p);
	assert_string_equal(c->state_path, "/var/lib/wsr/state.json");
	assert_int_equal(c->prune, 1);
	assert_int_equal(c->parallelism, 256);
	wsr_config_free(c);
	put("specs/wsr.yaml", "apiVersion: wsr.dev/v1\nkind: Config\nproviders: {}\nstate: {}\n");
	assert_int_equal(wsr_config_load(&c, "specs", &d), 0);
	assert_string_equal(c->state_path, "specs/.wsr/state.json");
	assert_non_null(cJSON_GetObjectItem(c->providers, "loopback"));
	wsr_config_free(c);
	assert_int_equal(d.n, 0);
}

static void test_config_refused(void **st)
{
	(void)st;
	put("specs/wsr.yaml",
	    "apiVersion: wsr.dev/v1\nkind: Config\nparallelism: 257\n---\nprune: yes\n");
	wsr_diag d = WSR_DIAG_INIT;
	wsr_config *c = NULL;
	assert_int_equal(wsr_config_load(&c, "specs", &d), WSR_EINVAL);
	assert_null(c);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.v[0].summary, "wsr.yaml holds one Config document; this is another");
	assert_int_equal(d.v[0].line, 5);
	assert_string_equal(d.v[1].summary, "parallelism: 257 is above the maximum 256");
	assert_string_equal(d.v[1].file, "specs/wsr.yaml");
	assert_int_equal(d.v[1].line, 3);
	assert_int_equal(d.v[1].col, 14);
	wsr_diag_free(&d);
	put("specs/wsr.yaml", "apiVersion: wsr.dev/v1\nkind: Workspace\n");
	assert_int_equal(wsr_config_load(&c, "specs", &d), WSR_EINVAL);
	assert_string_equal(d.v[0].summary, "kind: 'Workspace' is not one of: Config");
	wsr_diag_free(&d);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_resource_shape),
	    T(test_walk_is_sorted_and_skips),
	    T(test_nested_wsr_yaml_is_a_spec),
	    T(test_multi_document_and_duplicates),
	    T(test_valid_resources_kept_on_error),
	    T(test_kind_rules),
	    T(test_unknown_kind),
	    T(test_file_size_boundary),
	    T(test_file_count_boundary),
	    T(test_symlinks),
	    T(test_missing_directory),
	    T(test_config_defaults),
	    T(test_config_file),
	    T(test_config_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
