/* load: a directory of YAML specs -> the desired set. Walks every *.yaml and
 * *.yml below dir (except wsr.yaml at its root and the .wsr/ and dot
 * directories), parses each document, finds its kind's schema, validates it,
 * and turns it into a wsr_resource with its address and source position.
 * Refuses files over WSR_LOAD_MAX_FILE, symbolic links that lead outside dir,
 * unknown kinds, names that are not already in the platform's sanitized form,
 * and two documents that declare the same address — all reported in one run. */
#ifndef WSR_RECONCILER_LOAD_H
#define WSR_RECONCILER_LOAD_H
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
#endif
