/* persist: the data directory of an emulator, one JSON file per record, so
 * a mutation rewrites only what it touched. DIR/platform.json holds the
 * checked seed; each emulator keeps its records in folders below DIR (the
 * layouts are in sim/<api>/persist.h). Every write is atomic (lib/fs.h),
 * files 0600, folders 0700. Loading refuses anything it cannot account for,
 * naming the file, rather than serving half a platform. Moved here from the
 * Loopback emulator when the kcp emulator needed the same. */
#ifndef WSR_SIM_PERSIST_H
#define WSR_SIM_PERSIST_H
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "sim/seed.h"

/* Writes v (taken over, may be NULL after a failed allocation) as
 * DIR/SUB/STEM.json, creating the folders; sub NULL writes DIR/STEM.json. */
int wsr_sim_persist_write(const char *dir, const char *sub, const char *stem, cJSON *v);

/* Removes DIR/SUB/STEM.json; a missing file is fine. */
int wsr_sim_persist_remove(const char *dir, const char *sub, const char *stem);

/* The entries of folder other than . and .. and leftover temporary files of
 * an interrupted atomic write; a missing folder has none. Free with
 * wsr_sim_persist_names_free. */
int wsr_sim_persist_names(char ***out, size_t *n, const char *folder);
void wsr_sim_persist_names_free(char **v, size_t n);

/* Reads one record: returns 0, or an error with *why set (a string that
 * lives at least until the loader returns; NULL for WSR_ENOMEM) when v is
 * not what the loader expects. stem is the file name without ".json". */
typedef int (*wsr_sim_load_fn)(void *ctx, const char *stem, const cJSON *v, const char **why);

/* Loads the JSON file path (at most max bytes) with fn. A file that cannot
 * be read or parsed, or that fn refuses, is WSR_ECORRUPT (or WSR_ENOMEM)
 * with *err (caller frees) naming the file. */
int wsr_sim_persist_load_file(const char *path, const char *stem, size_t max, wsr_sim_load_fn fn,
			      void *ctx, char **err);
/* Loads every NAME.json in folder (missing: none); anything else there is
 * refused. */
int wsr_sim_persist_load_folder(const char *folder, size_t max, wsr_sim_load_fn fn, void *ctx,
				char **err);

/* A time in a record: milliseconds since the epoch, or null for "none"
 * (0 in memory). get reads one: WSR_ECORRUPT when it is missing, negative,
 * not a number, or null where nullable is 0. */
cJSON *wsr_sim_persist_ms(int64_t ms);
int wsr_sim_persist_get_ms(const cJSON *v, const char *key, int nullable, int64_t *out);

/* Creates dir and writes platform (the checked seed) as DIR/platform.json. */
int wsr_sim_persist_platform(const char *dir, const cJSON *platform);

/* Reads DIR/platform.json back through check. WSR_ENOTFOUND when dir is
 * missing or empty (the caller seeds it); a folder that holds files but no
 * platform.json is refused (seeding there could mix emulator data into
 * someone else's files). Otherwise 0, or an error with *err naming the file. */
int wsr_sim_persist_load_platform(cJSON **out, const char *dir, wsr_sim_seed_check_fn check,
				  char **err);
#endif
