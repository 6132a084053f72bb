/* test_fuzz_replay: every input that once crashed a fuzz target (kept in
 * tests/fuzz/regressions/<target>/ by `make fuzz`, or added by hand with
 * the fix) is run through that target again by `make test`, with the
 * ordinary compiler, so CI without clang still holds every fixed defect;
 * under SANITIZE=1 ASan and UBSan check them too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>

#include "lib/fs.h"
#include "tests/fuzz/fuzz_json.c"
#include "tests/fuzz/fuzz_yaml.c"

/* The largest regression input kept; libFuzzer's are far smaller. */
#define REPLAY_MAX_INPUT (1024 * 1024)

/* Runs fn on every file of tests/fuzz/regressions/<name>; returns how many. */
static int replay(const char *name, int (*fn)(const uint8_t *, size_t))
{
	char dir[256];
	int n = 0;
	snprintf(dir, sizeof(dir), "tests/fuzz/regressions/%s", name);
	DIR *d = opendir(dir);
	if (!d)
		return 0; /* no regression kept for this target yet */
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		char path[512], *text = NULL;
		size_t len = 0;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (wsr_fs_read(&text, &len, path, REPLAY_MAX_INPUT) != 0)
			fail_msg("cannot read %s", path);
		print_message("replay %s\n", path);
		assert_int_equal(fn((const uint8_t *)text, len), 0);
		free(text);
		n++;
	}
	closedir(d);
	return n;
}

static void yaml_regressions(void **state)
{
	(void)state;
	/* the two crashes issue 12 names: both must stay replayed */
	assert_true(replay("yaml", fuzz_yaml) >= 2);
}

static void json_regressions(void **state)
{
	(void)state;
	replay("json", fuzz_json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(yaml_regressions),
	    cmocka_unit_test(json_regressions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
