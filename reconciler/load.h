/* load: a directory of YAML specs -> the desired set. Walks every *.yaml and
 * *.yml below dir (except wsr.yaml at its root and the .wsr/ and dot
 * directories), parses each document, finds its kind's schema, validates it,
 * and turns it into a wsr_resource with its address and source position.
 * Refuses files over WSR_LOAD_MAX_FILE, symbolic links that lead outside dir,
 * unknown kinds, names that are not already in the platform's sanitized form,
 * and two documents that declare the same address — all reported in one run. */
#ifndef WSR_RECONCILER_LOAD_H
#define WSR_RECONCILER_LOAD_H
#include <stddef.h>

#include "lib/diag.h"
#include "providers/kcp/home.h"
#include "providers/resource.h"

#define WSR_LOAD_MAX_FILE (8u * 1024 * 1024) /* bytes in one spec file */
#define WSR_LOAD_MAX_FILES 100000	     /* spec files in one directory tree */

/* Loads every spec under dir into desired; home says where kcp home
 * workspaces live (the config's providers.kcp.home; NULL: kcp's defaults).
 * Returns 0, or WSR_EINVAL when any error was reported (desired then holds
 * the resources that were valid). */
int wsr_load_dir(const char *dir, const wsr_kcp_home_opts *home, wsr_resource_set *desired,
		 wsr_diag *diag);

/* Spec files already in memory (the blobs of a Git commit): path as it
 * appears in positions, text NUL-terminated. text NULL records a file that
 * was not read because it is larger than WSR_LOAD_MAX_FILE (the loader
 * reports it as it does for a directory). */
typedef struct wsr_spec_file {
	char *path;
	char *text;
	size_t len;
} wsr_spec_file;

typedef struct wsr_spec_files {
	wsr_spec_file *v;
	size_t n, cap;
} wsr_spec_files;

/* Appends a copy of path and of len bytes of text (text may be NULL, see
 * above). WSR_ENOMEM. */
int wsr_spec_files_add(wsr_spec_files *f, const char *path, const char *text, size_t len);
void wsr_spec_files_free(wsr_spec_files *f);

/* 1 when a file at path (relative to the spec root) is a spec the loader
 * reads: *.yaml or *.yml, not a dot file, not wsr.yaml at the root (top:
 * path is at the root). Directories starting with a dot are the caller's
 * to skip, as the directory walk does. */
int wsr_load_is_spec(const char *path, int top);

/* As wsr_load_dir, for files in memory, loaded in the order given. */
int wsr_load_files(const wsr_spec_files *files, const wsr_kcp_home_opts *home,
		   wsr_resource_set *desired, wsr_diag *diag);
#endif
