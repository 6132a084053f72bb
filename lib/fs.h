/* fs: reading files with a size bound and writing them atomically. Every file
 * that holds state goes through wsr_fs_write_atomic. */
#ifndef WSR_LIB_FS_H
#define WSR_LIB_FS_H
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Reads a whole regular file. Fails with WSR_ELIMIT when it is larger than
 * max bytes, WSR_ENOTFOUND when it does not exist, WSR_EIO otherwise. The
 * result is NUL-terminated (len excludes the NUL). */
int wsr_fs_read(char **out, size_t *len, const char *path, size_t max);

/* wsr_fs_read that also fills *st (when not NULL) with the fstat of the
 * file it opened, so a check of owner or mode is about the very bytes read,
 * not a file swapped in between a stat and the open. */
int wsr_fs_read_stat(char **out, size_t *len, const char *path, size_t max, struct stat *st);

/* Writes data to path atomically: a temporary file in the same directory,
 * fsync, rename over path, fsync of the directory. The file gets mode.
 * WSR_EIO with errno saying why (ENOSPC, EROFS, EFBIG, ...). */
int wsr_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* wsr_fs_write_atomic in two halves, for a caller with something to do
 * between "the new bytes are safely on disk" and "they replace path" (the
 * state file keeps its backup there, so that a disk too full for the new
 * state fails before the backup is touched). stage writes and fsyncs the
 * temporary beside path and names it in *tmp; commit renames it over path
 * (and fsyncs the directory), discard removes it; both free tmp. Failures
 * are WSR_EIO with errno saying why, and leave no temporary behind. */
int wsr_fs_stage(const char *path, const void *data, size_t len, mode_t mode, char **tmp);
int wsr_fs_commit(char *tmp, const char *path);
void wsr_fs_discard(char *tmp);

/* Creates a directory and its parents (like mkdir -p). */
int wsr_fs_mkdirs(const char *path, mode_t mode);

/* Returns "a/b" in a new string (b alone when it is absolute); NULL on failure. */
char *wsr_path_join(const char *a, const char *b);

/* Returns the directory part of path in a new string ("." when none). */
char *wsr_path_dirname(const char *path);
#endif
