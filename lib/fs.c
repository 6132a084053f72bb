/* fs: bounded reads and crash-safe writes. */
#include "lib/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"

int wsr_fs_read(char **out, size_t *len, const char *path, size_t max)
{
	return wsr_fs_read_stat(out, len, path, max, NULL);
}

int wsr_fs_read_stat(char **out, size_t *len, const char *path, size_t max, struct stat *stat_out)
{
	*out = NULL;
	if (len)
		*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? WSR_ENOTFOUND : WSR_EIO;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return WSR_EIO;
	}
	if (stat_out)
		*stat_out = st;
	if ((unsigned long long)st.st_size > max) {
		close(fd);
		return WSR_ELIMIT;
	}
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *p = malloc(cap);
	if (!p) {
		close(fd);
		return WSR_ENOMEM;
	}
	for (;;) {
		if (n + 1 >= cap) { /* the file grew while we read it */
			if (cap > max + 1) {
				free(p);
				close(fd);
				return WSR_ELIMIT;
			}
			char *q = realloc(p, cap * 2);
			if (!q) {
				free(p);
				close(fd);
				return WSR_ENOMEM;
			}
			p = q;
			cap *= 2;
		}
		ssize_t r = read(fd, p + n, cap - 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(p);
			close(fd);
			return WSR_EIO;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n > max) {
		free(p);
		return WSR_ELIMIT;
	}
	p[n] = '\0';
	*out = p;
	if (len)
		*len = n;
	return 0;
}

char *wsr_path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

char *wsr_path_join(const char *a, const char *b)
{
	if (b[0] == '/' || !a || !*a)
		return strdup(b);
	size_t la = strlen(a);
	return wsr_strdupf("%s%s%s", a, a[la - 1] == '/' ? "" : "/", b);
}

int wsr_fs_mkdirs(const char *path, mode_t mode)
{
	char *p = strdup(path);
	if (!p)
		return WSR_ENOMEM;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			free(p);
			return WSR_EIO;
		}
		*s = '/';
	}
	int rc = (mkdir(p, mode) < 0 && errno != EEXIST) ? WSR_EIO : 0;
	free(p);
	return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* unlink(2) that leaves errno as the failure before it set it. */
static void unlink_keep_errno(const char *path)
{
	int err = errno;
	unlink(path);
	errno = err;
}

int wsr_fs_stage(const char *path, const void *data, size_t len, mode_t mode, char **tmp)
{
	/* mkstemp: a unique temporary per call, so two threads (or processes)
	 * writing the same path never share one */
	*tmp = wsr_strdupf("%s.tmp.XXXXXX", path);
	if (!*tmp)
		return WSR_ENOMEM;
	int fd = mkostemp(*tmp, O_CLOEXEC);
	if (fd >= 0 && fchmod(fd, mode) == 0 && write_all(fd, data, len) == 0 && fsync(fd) == 0 &&
	    close(fd) == 0)
		return 0;
	if (fd >= 0) {
		int err = errno;
		close(fd); /* a second close after a failed one is harmless: EBADF */
		unlink_keep_errno(*tmp);
		errno = err;
	}
	free(*tmp);
	*tmp = NULL;
	return WSR_EIO;
}

int wsr_fs_commit(char *tmp, const char *path)
{
	char *dir = wsr_path_dirname(path);
	int rc = WSR_EIO;
	if (!dir) {
		rc = WSR_ENOMEM;
		unlink(tmp);
	} else if (rename(tmp, path) < 0) {
		unlink_keep_errno(tmp);
	} else {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
		rc = 0;
	}
	free(dir);
	free(tmp);
	return rc;
}

void wsr_fs_discard(char *tmp)
{
	if (tmp)
		unlink_keep_errno(tmp);
	free(tmp);
}

int wsr_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char *tmp = NULL;
	int rc = wsr_fs_stage(path, data, len, mode, &tmp);
	return rc ? rc : wsr_fs_commit(tmp, path);
}
