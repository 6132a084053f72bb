/* embedded: data files compiled into the binaries (schemas, the built-in
 * emulator seed), generated at build time by tools/embed.c. */
#ifndef WSR_LIB_EMBEDDED_H
#define WSR_LIB_EMBEDDED_H
#include <stddef.h>

typedef struct wsr_embedded_file {
	const char *path; /* path relative to the repository root, e.g. "schema/config.json" */
	const char *data; /* NUL-terminated contents */
	size_t len;
} wsr_embedded_file;

/* Terminated by an entry with path NULL. */
extern const wsr_embedded_file wsr_embedded_files[];

/* Returns the embedded file with that repository-relative path, or NULL. */
const wsr_embedded_file *wsr_embedded_find(const char *path);
#endif
