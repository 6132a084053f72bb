/* Unit tests for lib/fs.c: bounded reads and atomic writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"

static char dir[64];

static int setup(void **st)
{
	(void)st;
	strcpy(dir, "/tmp/wsr-test-fs.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **st)
{
	(void)st;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void test_read_at_and_past_bound(void **st)
{
	(void)st;
	char *p = wsr_path_join(dir, "f");
	assert_int_equal(wsr_fs_write_atomic(p, "12345", 5, 0600), 0);
	char *out;
	size_t len;
	assert_int_equal(wsr_fs_read(&out, &len, p, 5), 0);
	assert_int_equal(len, 5);
	assert_string_equal(out, "12345");
	free(out);
	assert_int_equal(wsr_fs_read(&out, &len, p, 4), WSR_ELIMIT);
	assert_null(out);
	char *missing = wsr_path_join(dir, "nope");
	assert_int_equal(wsr_fs_read(&out, &len, missing, 10), WSR_ENOTFOUND);
	assert_int_equal(wsr_fs_read(&out, &len, dir, 10), WSR_EIO); /* a directory */
	free(missing);
	free(p);
}

static void test_atomic_write_mode_and_no_leftovers(void **st)
{
	(void)st;
	char *p = wsr_path_join(dir, "state.json");
	assert_int_equal(wsr_fs_write_atomic(p, "old", 3, 0600), 0);
	assert_int_equal(wsr_fs_write_atomic(p, "new!", 4, 0600), 0);
	struct stat s;
	assert_int_equal(stat(p, &s), 0);
	assert_int_equal(s.st_mode & 0777, 0600);
	assert_int_equal(s.st_size, 4);
	DIR *d = opendir(dir);
	struct dirent *e;
	int files = 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			files++;
	closedir(d);
	assert_int_equal(files, 1); /* no temporary left behind */
	free(p);
}

static void *writer(void *arg)
{
	const char *p = arg;
	char body[64];
	for (int i = 0; i < 50; i++) {
		int n = snprintf(body, sizeof(body), "writer %lu round %d",
				 (unsigned long)pthread_self(), i);
		if (wsr_fs_write_atomic(p, body, (size_t)n, 0600))
			return (void *)1;
	}
	return NULL;
}

static void test_concurrent_writers_never_tear(void **st)
{
	(void)st;
	char *p = wsr_path_join(dir, "shared");
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, writer, p);
	for (int i = 0; i < 4; i++) {
		void *rc;
		pthread_join(t[i], &rc);
		assert_null(rc);
	}
	char *out;
	size_t len;
	assert_int_equal(wsr_fs_read(&out, &len, p, 100), 0);
	assert_non_null(strstr(out, "round 49")); /* whole, not interleaved */
	free(out);
	free(p);
}

/* The stat is that of the file read: a check of its mode and owner is
 * about those bytes. */
static void test_read_stat_describes_the_file_read(void **st)
{
	(void)st;
	char *p = wsr_path_join(dir, "s");
	assert_int_equal(wsr_fs_write_atomic(p, "abc", 3, 0620), 0);
	struct stat s;
	memset(&s, 0, sizeof(s));
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(wsr_fs_read_stat(&text, &len, p, 16, &s), 0);
	assert_string_equal(text, "abc");
	assert_int_equal(s.st_mode & 07777, 0620);
	assert_int_equal(s.st_uid, geteuid());
	assert_int_equal(s.st_size, 3);
	free(text);
	free(p);
}

static void test_paths(void **st)
{
	(void)st;
	char *s = wsr_path_join("a", "b");
	assert_string_equal(s, "a/b");
	free(s);
	s = wsr_path_join("a/", "/abs");
	assert_string_equal(s, "/abs");
	free(s);
	s = wsr_path_dirname("x/y/z.json");
	assert_string_equal(s, "x/y");
	free(s);
	s = wsr_path_dirname("z.json");
	assert_string_equal(s, ".");
	free(s);
	char *deep = wsr_strdupf("%s/a/b/c", dir);
	assert_int_equal(wsr_fs_mkdirs(deep, 0700), 0);
	assert_int_equal(wsr_fs_mkdirs(deep, 0700), 0); /* exists: fine */
	free(deep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_read_at_and_past_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_atomic_write_mode_and_no_leftovers, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_writers_never_tear, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_stat_describes_the_file_read, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
