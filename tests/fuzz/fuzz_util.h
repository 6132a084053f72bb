/* fuzz_util: what the targets whose entry point reads a file, or reports
 * into a wsr_diag, share. The readers are fuzzed through the path the
 * program gives them (wsr_fs_read and all), so the fuzzed bytes go into a
 * file first: one per process folder, made on first use and removed at
 * exit, holding only that run's files. The diagnostics a target collects
 * are rendered as a user would see them (text, with colour, and JSON), so
 * what hostile input puts into a message is exercised too. */
#ifndef WSR_TESTS_FUZZ_UTIL_H
#define WSR_TESTS_FUZZ_UTIL_H
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/diag.h"

/* Descriptors nftw may hold open while it removes the folder. */
#define FUZZ_RM_FDS 8

static char fuzz_dir_path[PATH_MAX];

static inline int fuzz_rm_one(const char *path, const struct stat *st, int kind, struct FTW *ftw)
{
	(void)st;
	(void)kind;
	(void)ftw;
	return remove(path);
}

static inline void fuzz_rm_dir(void)
{
	if (fuzz_dir_path[0])
		nftw(fuzz_dir_path, fuzz_rm_one, FUZZ_RM_FDS, FTW_DEPTH | FTW_PHYS);
}

/* The run's folder (created on first use); aborts when it cannot be made,
 * since every input would then test nothing. */
static inline const char *fuzz_dir(void)
{
	if (!fuzz_dir_path[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(fuzz_dir_path, sizeof(fuzz_dir_path), "%s/wsr-fuzz-XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(fuzz_dir_path)) {
			perror("fuzz: mkdtemp");
			abort();
		}
		atexit(fuzz_rm_dir);
	}
	return fuzz_dir_path;
}

/* Writes data into the run's folder as name; returns its path (static
 * storage, valid until the next call). */
static inline const char *fuzz_file(const char *name, const uint8_t *data, size_t size)
{
	static char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", fuzz_dir(), name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror("fuzz: open");
		abort();
	}
	for (size_t off = 0; off < size;) {
		ssize_t n = write(fd, data + off, size - off);
		if (n <= 0) {
			perror("fuzz: write");
			abort();
		}
		off += (size_t)n;
	}
	close(fd);
	return path;
}

/* Renders d as `wsr` does on stderr and as --json does, into memory;
 * returns the JSON text (caller frees; NULL when out of memory). */
static inline char *fuzz_diag_text(const wsr_diag *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (f) {
		wsr_diag_print(d, f, 1);
		fclose(f);
	}
	free(text);
	cJSON *j = wsr_diag_to_json(d);
	char *s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return s;
}

static inline void fuzz_render_diag(const wsr_diag *d)
{
	free(fuzz_diag_text(d));
}
#endif
