/* source_dir: inotify, one watch per directory. Editors save in many ways
 * (write in place, write a temporary file and rename it over, delete and
 * recreate); every one of them ends in IN_CLOSE_WRITE, IN_MOVED_TO or
 * IN_DELETE on the spec's name, which is all that is looked at. */
#include "reconciler/source_dir.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "reconciler/load.h"

#define EVENTS                                                                                     \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_DELETE_SELF |   \
	 IN_MOVE_SELF)

typedef struct watched {
	int wd;
	char *path;
} watched;

struct wsr_dir_watch {
	int fd;
	watched *v;
	size_t n, cap;
	int full_reported;
};

static const char *path_of(const wsr_dir_watch *w, int wd)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->v[i].wd == wd)
			return w->v[i].path;
	return NULL;
}

static void add_tree(wsr_dir_watch *w, const char *path);

/* Adds a watch on path and its subdirectories. Failures are logged, not
 * fatal: the directory is still loaded on every reconcile. */
static void add_one(wsr_dir_watch *w, const char *path)
{
	if (w->n >= WSR_DIR_WATCH_MAX) {
		if (!w->full_reported++)
			wsr_log(WSR_LOG_WARN,
				"more than %d directories: changes below %s are seen at the next "
				"interval only",
				WSR_DIR_WATCH_MAX, path);
		return;
	}
	int wd = inotify_add_watch(w->fd, path, EVENTS | IN_ONLYDIR | IN_DONT_FOLLOW);
	if (wd < 0) {
		wsr_log(WSR_LOG_WARN, "cannot watch %s: %s", path, strerror(errno));
		return;
	}
	if (path_of(w, wd))
		return; /* already watched (inotify returns the same wd) */
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		watched *v = realloc(w->v, cap * sizeof(*v));
		if (!v)
			return;
		w->v = v;
		w->cap = cap;
	}
	char *copy = strdup(path);
	if (!copy)
		return;
	w->v[w->n++] = (watched){wd, copy};
	add_tree(w, path);
}

static void add_tree(wsr_dir_watch *w, const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char *child = wsr_path_join(path, e->d_name);
		struct stat st;
		if (child && lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
			add_one(w, child);
		free(child);
	}
	closedir(d);
}

static void forget(wsr_dir_watch *w, int wd)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->v[i].wd == wd) {
			free(w->v[i].path);
			w->v[i] = w->v[--w->n];
			return;
		}
}

int wsr_dir_watch_open(wsr_dir_watch **out, const char *dir, wsr_diag *diag)
{
	*out = NULL;
	wsr_dir_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return WSR_ENOMEM;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		wsr_diag_error(diag, NULL, "cannot watch %s: inotify: %s", dir, strerror(errno));
		free(w);
		return WSR_EIO;
	}
	add_one(w, dir);
	if (!w->n) {
		wsr_diag_error(diag, NULL, "cannot watch %s: not a readable directory", dir);
		wsr_dir_watch_free(w);
		return WSR_EIO;
	}
	*out = w;
	return 0;
}

int wsr_dir_watch_fd(const wsr_dir_watch *w)
{
	return w->fd;
}

/* One event: 1 when it matters. */
static int handle(wsr_dir_watch *w, const struct inotify_event *ev)
{
	if (ev->mask & IN_Q_OVERFLOW)
		return 1;
	if (ev->mask & IN_IGNORED) {
		forget(w, ev->wd);
		return 0;
	}
	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF))
		return 1;
	const char *name = ev->len ? ev->name : "";
	if (name[0] == '.' || !name[0])
		return 0;
	if (ev->mask & IN_ISDIR) {
		const char *parent = path_of(w, ev->wd);
		if (parent && (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
			char *child = wsr_path_join(parent, name);
			if (child)
				add_one(
				    w,
				    child); /* files written before the watch are loaded anyway */
			free(child);
		}
		return 1;
	}
	return wsr_load_is_spec(name, 0) &&
	       !(ev->mask & IN_CREATE); /* created: its close-write follows */
}

int wsr_dir_watch_read(wsr_dir_watch *w)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	int changed = 0;
	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return changed;
		if (n <= 0)
			return WSR_EIO;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			changed |= handle(w, ev);
			p += sizeof(*ev) + ev->len;
		}
	}
}

void wsr_dir_watch_free(wsr_dir_watch *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i].path);
	free(w->v);
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}
