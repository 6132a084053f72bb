/* git_stream: libgit2's plain TCP stream, rewritten with poll() timeouts
 * (see git_stream.h for why).
 *
 * Layout: libgit2 1.5's ssh transport reads the socket of the stream it
 * asked for by casting it to its own git_socket_stream {parent, host,
 * port, socket}, so this struct starts with the same four members.
 * The socket stays blocking for libssh2's sake; this stream's own reads
 * and writes wait in poll() and then use MSG_DONTWAIT. */
#include "reconciler/git_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/stream.h>

#include "lib/clock.h"

typedef struct tcp {
	git_stream parent; /* these four as libgit2's git_socket_stream */
	char *host;
	char *port;
	int fd;
} tcp;

static _Thread_local wsr_git_bounds *bounds;

void wsr_git_stream_bounds(wsr_git_bounds *b)
{
	bounds = b;
}

/* Milliseconds poll may wait for one step with limit (connect_ms or
 * stall_ms), -1 for no bound; *by says which bound it is. */
static int step_ms(int64_t limit, const char **by)
{
	if (!bounds)
		return -1;
	int64_t ms = limit > 0 ? limit : -1;
	*by = "stall";
	if (bounds->deadline_ms) {
		int64_t left = bounds->deadline_ms - wsr_clock_mono_ms();
		if (left < 0)
			left = 0;
		if (ms < 0 || left <= ms) {
			ms = left;
			*by = "deadline";
		}
	}
	return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

static int ended(const tcp *t, const char *by, const char *what, int64_t limit)
{
	if (bounds) {
		bounds->timed_out = 1;
		if (strcmp(by, "deadline") == 0)
			snprintf(bounds->why, sizeof(bounds->why),
				 "%s %s:%s did not finish within the fetch's time limit", what,
				 t->host, t->port);
		else
			snprintf(bounds->why, sizeof(bounds->why), "%s %s:%s: nothing for %.1f s",
				 what, t->host, t->port, (double)limit / 1000);
		git_error_set_str(GIT_ERROR_NET, bounds->why);
	}
	return -1;
}

/* Waits for events on t's socket within the bound; 0, or -1 with the error set. */
static int wait_for(tcp *t, short events, int64_t limit, const char *what)
{
	const char *by = "stall";
	for (;;) {
		int ms = step_ms(limit, &by);
		struct pollfd p = {t->fd, events, 0};
		int n = poll(&p, 1, ms);
		if (n > 0)
			return 0;
		if (n == 0)
			return ended(t, by, what, limit);
		if (errno != EINTR) {
			git_error_set(GIT_ERROR_OS, "poll on %s:%s failed", t->host, t->port);
			return -1;
		}
	}
}

static int set_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL, 0);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

/* Connects to one address: 0; -1 when it refused (try the next); -2 when
 * a bound ended the wait (the error is set; try no further). */
static int connect_one(tcp *t, const struct addrinfo *a)
{
	int fd =
	    socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
	if (fd < 0)
		return -1;
	t->fd = fd;
	int rc = 0;
	if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (errno != EINPROGRESS)
			rc = -1;
		else if (wait_for(t, POLLOUT, bounds ? bounds->connect_ms : 0, "connecting to"))
			rc = -2;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
			rc = -1;
	}
	if (!rc && set_blocking(fd) == 0)
		return 0;
	close(fd);
	t->fd = -1;
	return rc ? rc : -1;
}

static int tcp_connect(git_stream *s)
{
	tcp *t = (tcp *)s;
	struct addrinfo hints = {0}, *info = NULL;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = AF_UNSPEC;
	int e = getaddrinfo(t->host, t->port, &hints, &info);
	if (e) {
		git_error_set(GIT_ERROR_NET, "failed to resolve address for %s: %s", t->host,
			      gai_strerror(e));
		return -1;
	}
	int rc = -1;
	for (const struct addrinfo *a = info; a && rc == -1; a = a->ai_next)
		rc = connect_one(t, a);
	freeaddrinfo(info);
	if (rc == -1)
		git_error_set(GIT_ERROR_OS, "failed to connect to %s", t->host);
	return rc == 0 ? 0 : -1;
}

static ssize_t tcp_read(git_stream *s, void *data, size_t len)
{
	tcp *t = (tcp *)s;
	for (;;) {
		if (wait_for(t, POLLIN, bounds ? bounds->stall_ms : 0, "reading from"))
			return -1;
		ssize_t n = recv(t->fd, data, len, MSG_DONTWAIT);
		if (n >= 0)
			return n;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			git_error_set(GIT_ERROR_OS, "error receiving data from %s", t->host);
			return -1;
		}
	}
}

static ssize_t tcp_write(git_stream *s, const char *data, size_t len, int flags)
{
	tcp *t = (tcp *)s;
	(void)flags;
	for (;;) {
		if (wait_for(t, POLLOUT, bounds ? bounds->stall_ms : 0, "writing to"))
			return -1;
		ssize_t n = send(t->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n >= 0)
			return n;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			git_error_set(GIT_ERROR_OS, "error sending data to %s", t->host);
			return -1;
		}
	}
}

static int tcp_close(git_stream *s)
{
	tcp *t = (tcp *)s;
	int rc = t->fd >= 0 ? close(t->fd) : 0;
	t->fd = -1;
	return rc;
}

static void tcp_free(git_stream *s)
{
	tcp *t = (tcp *)s;
	free(t->host);
	free(t->port);
	free(t);
}

static int tcp_new(git_stream **out, const char *host, const char *port)
{
	tcp *t = calloc(1, sizeof(*t));
	if (!t || !(t->host = strdup(host)) || !(t->port = strdup(port ? port : ""))) {
		if (t)
			free(t->host);
		free(t);
		git_error_set_oom();
		return -1;
	}
	t->fd = -1;
	t->parent.version = GIT_STREAM_VERSION;
	t->parent.connect = tcp_connect;
	t->parent.read = tcp_read;
	t->parent.write = tcp_write;
	t->parent.close = tcp_close;
	t->parent.free = tcp_free;
	*out = &t->parent;
	return 0;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int register_rc;

static void do_register(void)
{
	git_stream_registration r = {GIT_STREAM_VERSION, tcp_new, NULL};
	register_rc = git_stream_register(GIT_STREAM_STANDARD, &r) < 0 ? -1 : 0;
}

int wsr_git_stream_register(void)
{
	pthread_once(&once, do_register);
	return register_rc;
}
