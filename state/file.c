/* file: the state backend that keeps the document in one local file
 * (default .wsr/state.json). Separate from state.c because where the bytes
 * live is a choice a later backend (etcd) makes differently; the format and
 * its checks stay in state.c.
 *
 * Guarantees, and how:
 * - a crash never leaves a half-written state: wsr_fs_write_atomic (temporary
 *   file, fsync, rename, fsync of the directory), mode 0600;
 * - one bad write can be undone: the previous file is kept as path.backup
 *   (a hard link to it, renamed over the backup; never a rename of the file
 *   itself: a crash between two renames would leave no state at all, and an
 *   empty state means "create everything") before the new one replaces it,
 *   and only once the new one is on disk beside it, so a full or read-only
 *   disk leaves both files as they were;
 * - no lost update: write is a compare-and-swap on the lineage and serial
 *   stored on disk, done under the lock so the check and the rename are one
 *   step for every wsr that follows the protocol; the file is parsed again
 *   only when it is not the one this backend last read or wrote;
 * - no stale lock: the lock is flock(2) on path.lock, which the kernel drops
 *   when the holder exits, however it exits. The file's contents only say who
 *   holds it, for the message of the one who waits. */
#include "state/state.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/json.h"

/* The holder record in the lock file is tiny; anything larger is not ours. */
#define LOCK_INFO_MAX 4096

typedef struct file_backend {
	wsr_state_backend base;
	char *path;   /* the state file */
	char *backup; /* path.backup: the previous version */
	char *lock;   /* path.lock: flock target and holder record */
	char *dir;
	int lock_fd; /* -1 when this backend does not hold the lock */
	/* The file as this backend last read or wrote it: while it is the
	 * same file (device, inode, size, modification time), a write knows
	 * its lineage and serial without reading and parsing it again. */
	struct {
		int valid;
		struct stat st;
		char *lineage;
		int64_t serial;
	} known;
} file_backend;

static void forget_known(file_backend *fb)
{
	free(fb->known.lineage);
	fb->known.lineage = NULL;
	fb->known.valid = 0;
}

static void remember_known(file_backend *fb, const struct stat *st, const char *lineage,
			   int64_t serial)
{
	forget_known(fb);
	fb->known.lineage = lineage ? strdup(lineage) : NULL;
	if (!fb->known.lineage)
		return;
	fb->known.st = *st;
	fb->known.serial = serial;
	fb->known.valid = 1;
}

/* 1 when st is the file this backend last read or wrote. Any write by
 * another wsr replaces the file (a new inode, and a link to the old one,
 * which changes its ctime); an editor that rewrites it in place changes
 * its modification time. And writers hold the lock besides. */
static int is_known(const file_backend *fb, const struct stat *st)
{
	const struct stat *k = &fb->known.st;
	return fb->known.valid && k->st_dev == st->st_dev && k->st_ino == st->st_ino &&
	       k->st_size == st->st_size && k->st_mtim.tv_sec == st->st_mtim.tv_sec &&
	       k->st_mtim.tv_nsec == st->st_mtim.tv_nsec &&
	       k->st_ctim.tv_sec == st->st_ctim.tv_sec && k->st_ctim.tv_nsec == st->st_ctim.tv_nsec;
}

static void io_error(wsr_diag *diag, const char *what, const char *path, int err)
{
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, NULL, "cannot %s %s: %s", what, path,
		     strerror(err));
}

/* "name (uid N)", or "uid N" when the user has no name. */
static void user_label(char *out, size_t n, uid_t uid)
{
	const struct passwd *pw = getpwuid(uid);
	if (pw && pw->pw_name)
		snprintf(out, n, "%s (uid %u)", pw->pw_name, (unsigned)uid);
	else
		snprintf(out, n, "uid %u", (unsigned)uid);
}

/* The state says what wsr owns, so whoever can write it can make wsr adopt
 * or delete workspaces. Like ssh with a key, wsr refuses a file that anyone
 * but the user running it could have written: owned by another user, or
 * writable by its group or the world. */
static int check_private(const file_backend *fb, const struct stat *st, wsr_diag *diag)
{
	if (st->st_uid != geteuid()) {
		char owner[96], me[96], hint[160];
		user_label(owner, sizeof(owner), st->st_uid);
		user_label(me, sizeof(me), geteuid());
		snprintf(
		    hint, sizeof(hint),
		    "run wsr as its owner, or, if the file is yours, chown %u and chmod 600 it",
		    (unsigned)geteuid());
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, hint,
			     "state file %s is owned by %s, not by %s who runs wsr: refusing to "
			     "trust it",
			     fb->path, owner, me);
		return WSR_EINVAL;
	}
	mode_t loose = st->st_mode & (S_IWGRP | S_IWOTH);
	if (loose) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL,
			     "chmod 600 the file (wsr writes it 0600)",
			     "state file %s is %s (mode %04o): refusing to trust it", fb->path,
			     (loose & S_IWOTH) ? "world-writable" : "group-writable",
			     (unsigned)(st->st_mode & 07777));
		return WSR_EINVAL;
	}
	return 0;
}

static int file_trusted(wsr_state_backend *b, wsr_diag *diag)
{
	file_backend *fb = (file_backend *)b;
	struct stat st;
	if (stat(fb->path, &st) != 0)
		return 0; /* none yet, or read reports why it cannot be read */
	return check_private(fb, &st, diag);
}

/* Reads the state file's bytes. WSR_ENOTFOUND (no diagnostic) when there is
 * none yet. */
static int load(file_backend *fb, char **text, size_t *len, struct stat *read_st, wsr_diag *diag)
{
	struct stat st;
	int rc = wsr_fs_read_stat(text, len, fb->path, WSR_STATE_MAX_BYTES, &st);
	if (rc == 0 && read_st)
		*read_st = st;
	int err = errno;
	if (rc == 0 && (rc = check_private(fb, &st, diag)) != 0) {
		free(*text);
		*text = NULL;
		return rc;
	}
	if (rc == WSR_ELIMIT)
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL,
			     "the limit is WSR_STATE_MAX_BYTES; wsr never replaces such a file",
			     NULL, "state file %s: larger than %u bytes", fb->path,
			     WSR_STATE_MAX_BYTES);
	else if (rc == WSR_EIO)
		io_error(diag, "read state file", fb->path, err ? err : EINVAL);
	return rc;
}

static int file_read(wsr_state_backend *b, wsr_state **out, wsr_diag *diag)
{
	file_backend *fb = (file_backend *)b;
	char *text = NULL;
	size_t len = 0;
	*out = NULL;
	struct stat st;
	int rc = load(fb, &text, &len, &st, diag);
	if (rc == WSR_ENOTFOUND) {
		forget_known(fb);
		*out = wsr_state_new();
		return *out ? 0 : WSR_ENOMEM;
	}
	if (rc)
		return rc;
	rc = wsr_state_from_json(out, text, len, fb->path, diag);
	free(text);
	if (rc == 0)
		remember_known(fb, &st, (*out)->lineage, (*out)->serial);
	return rc;
}

/* ---- locking ---- */

/* Reads the holder record the lock's holder wrote into fd. */
static int read_holder(int fd, wsr_state_lock_info *info)
{
	char buf[LOCK_INFO_MAX];
	ssize_t n = pread(fd, buf, sizeof(buf), 0);
	return wsr_state_lock_parse(info, buf, n > 0 ? (size_t)n : 0);
}

/* Says who holds the lock, from the record the holder wrote into fd. */
static void report_holder(file_backend *fb, int fd, wsr_diag *diag)
{
	wsr_state_lock_info info;
	int unknown = read_holder(fd, &info);
	char *detail = wsr_strdupf("lock file: %s", fb->lock);
	if (unknown) {
		/* between its flock and its write, or not a wsr */
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, detail,
			     "another process holds it; try again when it has finished",
			     "state is locked by another process (it has not said who it is)");
	} else {
		char who[512], pid[24] = "?";
		wsr_state_lock_describe(&info, who, sizeof(who));
		if (info.pid)
			snprintf(pid, sizeof(pid), "%ld", info.pid);
		char *hint = wsr_strdupf(
		    "wait for it to finish (--lock-timeout waits). The lock is released the "
		    "moment that process exits, even if it is killed, so it is still running "
		    "(ps -p %s on %s); there is no stale lock to remove",
		    pid, info.host);
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, detail, hint, "state is locked by %s",
			     who);
		free(hint);
	}
	free(detail);
}

/* Records who holds the lock in its file. */
static int write_holder(int fd, const char *command)
{
	char *id = NULL;
	char *text = wsr_state_lock_record(command, &id);
	free(id);
	if (!text)
		return WSR_ENOMEM;
	size_t len = strlen(text);
	int ok = ftruncate(fd, 0) == 0 && pwrite(fd, text, len, 0) == (ssize_t)len;
	free(text);
	return ok ? 0 : WSR_EIO;
}

static int file_lock(wsr_state_backend *b, const char *command, wsr_diag *diag)
{
	file_backend *fb = (file_backend *)b;
	if (fb->lock_fd >= 0)
		return 0;
	if (wsr_fs_mkdirs(fb->dir, 0700)) {
		io_error(diag, "create directory", fb->dir, errno);
		return WSR_EIO;
	}
	/* O_CLOEXEC: a program wsr runs must not inherit (and outlive us with) the lock */
	int fd = open(fb->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		io_error(diag, "open lock file", fb->lock, errno);
		return WSR_EIO;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EINTR)
			continue;
		int err = errno;
		if (err == EWOULDBLOCK)
			report_holder(fb, fd, diag);
		else
			io_error(diag, "lock", fb->lock, err);
		close(fd);
		return err == EWOULDBLOCK ? WSR_ELOCKED : WSR_EIO;
	}
	if (write_holder(fd, command)) {
		io_error(diag, "write lock file", fb->lock, errno);
		close(fd);
		return WSR_EIO;
	}
	fb->lock_fd = fd;
	return 0;
}

static int file_unlock(wsr_state_backend *b)
{
	file_backend *fb = (file_backend *)b;
	if (fb->lock_fd < 0)
		return 0;
	/* the file itself stays: unlinking it would let a waiter lock the old
	 * inode while a newcomer locks a new one, and both would "hold" it */
	int rc = ftruncate(fb->lock_fd, 0) == 0 ? 0 : WSR_EIO;
	flock(fb->lock_fd, LOCK_UN);
	close(fb->lock_fd);
	fb->lock_fd = -1;
	return rc;
}

static int file_holder(wsr_state_backend *b, wsr_state_lock_info *info, wsr_diag *diag)
{
	file_backend *fb = (file_backend *)b;
	if (fb->lock_fd >= 0) {
		read_holder(fb->lock_fd, info);
		return 0;
	}
	int fd = open(fb->lock, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return WSR_ENOTFOUND;
		io_error(diag, "open lock file", fb->lock, errno);
		return WSR_EIO;
	}
	int rc = 0;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		flock(fd, LOCK_UN);
		rc = WSR_ENOTFOUND;
	} else if (errno == EWOULDBLOCK) {
		read_holder(fd, info);
	} else {
		io_error(diag, "lock", fb->lock, errno);
		rc = WSR_EIO;
	}
	close(fd);
	return rc;
}

/* flock(2) is the kernel's: no other process can break it, and it never
 * outlives its holder. So there is never a stale file lock to remove, and
 * `wsr state unlock` says how to end the process that holds it. */
static int file_force_unlock(wsr_state_backend *b, const char *id, wsr_diag *diag)
{
	file_backend *fb = (file_backend *)b;
	wsr_state_lock_info info;
	int rc = file_holder(b, &info, diag);
	if (rc)
		return rc;
	if (strcmp(info.id, id) != 0)
		return WSR_ECONFLICT;
	char who[512];
	wsr_state_lock_describe(&info, who, sizeof(who));
	char *hint = wsr_strdupf(
	    "the kernel releases the lock the moment that process exits, however it exits: if "
	    "it hangs, stop it (kill %ld on %s) and the lock is gone",
	    info.pid, info.host);
	char *detail = wsr_strdupf("lock file: %s (flock(2))", fb->lock);
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, detail, hint,
		     "the state file's lock is held by a running process, %s: a file lock "
		     "cannot be removed from outside",
		     who);
	free(detail);
	free(hint);
	return WSR_ELOCKED;
}

/* ---- writing ---- */

/* The compare of compare-and-swap: what is on disk (disk_lineage at
 * disk_serial; NULL: no file) must be what the writer expects (no file for
 * a state never written: serial 0). */
static int compare(file_backend *fb, const char *disk_lineage, int64_t disk_serial,
		   const char *lineage, int64_t serial, wsr_diag *diag)
{
	const char *hint = "another wsr wrote the state after this one read it; run the command "
			   "again so it starts from the current state";
	if (!disk_lineage) {
		if (serial == 0)
			return 0;
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, hint,
			     "state file %s disappeared after it was read (serial %lld)", fb->path,
			     (long long)serial);
		return WSR_ECONFLICT;
	}
	if (!lineage || strcmp(disk_lineage, lineage) != 0) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, hint,
			     "state file %s now holds another state (lineage %s, expected %s)",
			     fb->path, disk_lineage, lineage ? lineage : "none");
		return WSR_ECONFLICT;
	}
	if (disk_serial != serial) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, hint,
			     "state file %s changed since it was read (serial %lld on disk, %lld "
			     "when read)",
			     fb->path, (long long)disk_serial, (long long)serial);
		return WSR_ECONFLICT;
	}
	return 0;
}

/* The compare against the file's bytes, when the file is not the one this
 * backend knows. */
static int check_unchanged(file_backend *fb, const char *lineage, int64_t serial, const char *text,
			   size_t len, wsr_diag *diag)
{
	if (!text)
		return compare(fb, NULL, 0, lineage, serial, diag);
	wsr_state *disk = NULL;
	int rc = wsr_state_from_json(&disk, text, len, fb->path, diag);
	if (rc)
		return rc; /* corrupt on disk: never overwrite it */
	rc = compare(fb, disk->lineage, disk->serial, lineage, serial, diag);
	wsr_state_free(disk);
	return rc;
}

/* Keeps the file about to be replaced as path.backup: a hard link to it
 * (no copy: the old file is never written again, a new state always goes
 * to a new file), made beside and renamed over the backup in one step.
 * Where links are not possible, a copy. */
static int keep_backup(file_backend *fb, wsr_diag *diag)
{
	char *tmp = wsr_strdupf("%s.tmp-link", fb->backup);
	if (!tmp)
		return WSR_ENOMEM;
	unlink(tmp); /* a crash's leftover */
	int rc = 0;
	if (link(fb->path, tmp) == 0) {
		if (rename(tmp, fb->backup) != 0) {
			io_error(diag, "write backup", fb->backup, errno);
			unlink(tmp);
			rc = WSR_EIO;
		}
	} else {
		char *old = NULL;
		size_t len = 0;
		rc = load(fb, &old, &len, NULL, diag);
		if (!rc && wsr_fs_write_atomic(fb->backup, old, len, 0600)) {
			io_error(diag, "write backup", fb->backup, errno);
			rc = WSR_EIO;
		}
		free(old);
	}
	free(tmp);
	return rc;
}

/* Under the lock: compare, then the new state written beside the file,
 * the backup kept, and the swap. The new state goes to disk first so that a
 * disk too full (or read-only) for it fails before the backup is touched:
 * the state and its backup are then exactly what they were. */
static int write_locked(file_backend *fb, const wsr_state *s, const char *lineage, int64_t serial,
			wsr_diag *diag)
{
	char *old = NULL, *text = NULL, *tmp = NULL;
	size_t len = 0, new_len = 0;
	struct stat st;
	int exists = stat(fb->path, &st) == 0, rc = 0;
	if (!exists && errno != ENOENT) {
		io_error(diag, "read state file", fb->path, errno);
		return WSR_EIO;
	}
	if (exists && is_known(fb, &st)) {
		/* our own last read or write: compare without parsing it again */
		rc = check_private(fb, &st, diag);
		if (!rc)
			rc =
			    compare(fb, fb->known.lineage, fb->known.serial, lineage, serial, diag);
	} else {
		rc = load(fb, &old, &len, NULL, diag);
		if (rc && rc != WSR_ENOTFOUND)
			return rc;
		exists = rc != WSR_ENOTFOUND;
		rc = check_unchanged(fb, lineage, serial, old, len, diag);
		free(old);
	}
	forget_known(fb);
	if (!rc && !(text = wsr_state_to_json(s, &new_len)))
		rc = WSR_ENOMEM;
	if (!rc && (rc = wsr_fs_stage(fb->path, text, new_len, 0600, &tmp)) == WSR_EIO)
		io_error(diag, "write state file", fb->path, errno);
	if (!rc && exists && (rc = keep_backup(fb, diag)) != 0)
		wsr_fs_discard(tmp);
	else if (!rc && (rc = wsr_fs_commit(tmp, fb->path)) == WSR_EIO)
		io_error(diag, "write state file", fb->path, errno);
	if (!rc && stat(fb->path, &st) == 0)
		remember_known(fb, &st, s->lineage, s->serial);
	free(text);
	return rc;
}

static int file_store(wsr_state_backend *b, const wsr_state *s, const char *lineage, int64_t serial,
		      wsr_diag *diag)
{
	file_backend *fb = (file_backend *)b;
	/* a writer that did not lock for its whole run still locks for the
	 * moment of the write, so no two writers interleave compare and swap */
	int own = fb->lock_fd < 0;
	if (own) {
		int rc = file_lock(b, "wsr (writing state)", diag);
		if (rc)
			return rc;
	}
	int rc = write_locked(fb, s, lineage, serial, diag);
	if (own)
		file_unlock(b);
	return rc;
}

static void file_free(wsr_state_backend *b)
{
	file_backend *fb = (file_backend *)b;
	if (!fb)
		return;
	file_unlock(b);
	forget_known(fb);
	free(fb->path);
	free(fb->backup);
	free(fb->lock);
	free(fb->dir);
	free(fb);
}

static const wsr_state_backend_ops file_ops = {
    .name = "file",
    .read = file_read,
    .trusted = file_trusted,
    .store = file_store,
    .lock = file_lock,
    .unlock = file_unlock,
    .holder = file_holder,
    .force_unlock = file_force_unlock,
    .free = file_free,
};

int wsr_state_file_open(wsr_state_backend **out, const char *path)
{
	*out = NULL;
	if (!path || !*path)
		return WSR_EINVAL;
	file_backend *fb = calloc(1, sizeof(*fb));
	if (!fb)
		return WSR_ENOMEM;
	fb->base.ops = &file_ops;
	fb->lock_fd = -1;
	fb->path = strdup(path);
	fb->backup = wsr_strdupf("%s.backup", path);
	fb->lock = wsr_strdupf("%s.lock", path);
	fb->dir = wsr_path_dirname(path);
	if (!fb->path || !fb->backup || !fb->lock || !fb->dir) {
		file_free(&fb->base);
		return WSR_ENOMEM;
	}
	*out = &fb->base;
	return 0;
}
