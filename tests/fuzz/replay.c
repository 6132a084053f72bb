/* replay: the main of test_fuzz_<name>, the `make test` side of one fuzz
 * target (see tests/fuzz/fuzz.h). It runs the target, built with the
 * ordinary compiler, on every input once found to crash it
 * (tests/fuzz/regressions/<name>/, kept by `make fuzz`) and on every real
 * input its seed list names (tests/fuzz/<name>.seeds: lines "DIR GLOB",
 * relative to the repository, the same list tests/fuzz/run.sh gives
 * libFuzzer as its starting corpus). So CI without clang still holds every
 * fixed defect, and under SANITIZE=1 ASan and UBSan check the real inputs
 * too. Runs from the repository's top folder, as tests/run.sh does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <fnmatch.h>
#include <ftw.h>

#include "lib/fs.h"
#include "tests/fuzz/fuzz.h"

#ifndef WSR_FUZZ_NAME
#error "build with -DWSR_FUZZ_NAME=\"<name>\" (the Makefile does)"
#endif

/* The largest input replayed; libFuzzer's are far smaller (-max_len). */
#define REPLAY_MAX_INPUT (1024 * 1024)
/* Descriptors nftw may hold open while it walks a seed folder. */
#define REPLAY_WALK_FDS 16

/* Runs the target on one file; fails the test when it cannot be read. */
static void replay_file(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	if (wsr_fs_read(&text, &len, path, REPLAY_MAX_INPUT) != 0)
		fail_msg("cannot read %s", path);
	assert_int_equal(wsr_fuzz_one((const uint8_t *)text, len), 0);
	free(text);
}

static void regressions(void **state)
{
	(void)state;
	int n = 0;
	DIR *d = opendir("tests/fuzz/regressions/" WSR_FUZZ_NAME);
	if (!d)
		return; /* nothing has crashed this target yet */
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		char path[512];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "tests/fuzz/regressions/%s/%s", WSR_FUZZ_NAME,
			 e->d_name);
		print_message("replay %s\n", path);
		replay_file(path);
		n++;
	}
	closedir(d);
	print_message("%d regression inputs\n", n);
}

/* The glob of the seed line being walked (nftw has no user argument). */
static const char *walk_glob;
static int walk_count;

static int walk_one(const char *path, const struct stat *st, int kind, struct FTW *ftw)
{
	(void)st;
	if (kind == FTW_F && fnmatch(walk_glob, path + ftw->base, 0) == 0) {
		replay_file(path);
		walk_count++;
	}
	return 0;
}

static void seeds(void **state)
{
	(void)state;
	FILE *f = fopen("tests/fuzz/" WSR_FUZZ_NAME ".seeds", "r");
	if (!f)
		fail_msg("tests/fuzz/%s.seeds is missing: every target starts from real inputs",
			 WSR_FUZZ_NAME);
	char line[512], dir[256], glob[256];
	walk_count = 0;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || sscanf(line, "%255s %255s", dir, glob) != 2)
			continue;
		walk_glob = glob;
		if (nftw(dir, walk_one, REPLAY_WALK_FDS, FTW_PHYS) != 0)
			fail_msg("cannot walk %s (from %s.seeds)", dir, WSR_FUZZ_NAME);
	}
	fclose(f);
	print_message("%d seed inputs\n", walk_count);
	/* a seed list that names nothing would make this test pass vacuously */
	assert_true(walk_count > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(regressions),
	    cmocka_unit_test(seeds),
	};
	return cmocka_run_group_tests_name(WSR_FUZZ_NAME, tests, NULL, NULL);
}
