/* hung_server: a raw-socket server on 127.0.0.1 for the bounded-wait
 * tests: it accepts, reads each request's head and then sends a canned
 * answer or, with none, never answers and never closes (a hung
 * platform or Git server); and listen_on(0) for a listener whose backlog
 * a test fills so that a connection is never accepted. */
#ifndef WSR_TESTS_HUNG_SERVER_H
#define WSR_TESTS_HUNG_SERVER_H
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char base_url[64]; /* http://127.0.0.1:<port> of the last listen_on */
static unsigned base_port;

#define MAX_CONNS 16

static struct {
	int fd;
	pthread_t tid;
	atomic_int stop;   /* set by the test, read by the server thread */
	const char *reply; /* NULL: never answer */
	size_t reply_len;
	int conns[MAX_CONNS];
	int nconns;    /* under mu: read with raw_nconns() */
	int requests;  /* under mu: requests read (a blank line seen); raw_requests() */
	int any_bytes; /* a request is any bytes, not an HTTP head (git://) */
	pthread_mutex_t mu;
} raw = {.fd = -1, .mu = PTHREAD_MUTEX_INITIALIZER};

/* Reads one connection's request headers, then answers or keeps silent. */
static void serve_conn(int c)
{
	char buf[8192];
	size_t got = 0;
	while (!raw.stop) {
		struct pollfd p = {c, POLLIN, 0};
		if (poll(&p, 1, 50) <= 0)
			continue;
		ssize_t n = read(c, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			return;
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") || (raw.any_bytes && got > 0))
			break;
		if (got == sizeof(buf) - 1)
			return;
	}
	pthread_mutex_lock(&raw.mu);
	raw.requests++;
	pthread_mutex_unlock(&raw.mu);
	if (raw.reply) {
		size_t off = 0;
		while (off < raw.reply_len) {
			ssize_t n = write(c, raw.reply + off, raw.reply_len - off);
			if (n <= 0)
				break;
			off += (size_t)n;
		}
	}
}

static void *raw_loop(void *arg)
{
	(void)arg;
	while (!raw.stop) {
		struct pollfd p = {raw.fd, POLLIN, 0};
		if (poll(&p, 1, 50) <= 0)
			continue;
		int c = accept(raw.fd, NULL, NULL);
		if (c < 0)
			continue;
		pthread_mutex_lock(&raw.mu);
		int full = raw.nconns == MAX_CONNS;
		if (!full)
			raw.conns[raw.nconns++] = c; /* kept open: a hung server never closes */
		pthread_mutex_unlock(&raw.mu);
		if (full) {
			close(c);
			continue;
		}
		serve_conn(c);
	}
	return NULL;
}

/* What the server thread counted, read under its lock. */
static inline int raw_requests(void)
{
	pthread_mutex_lock(&raw.mu);
	int n = raw.requests;
	pthread_mutex_unlock(&raw.mu);
	return n;
}

static inline int raw_nconns(void)
{
	pthread_mutex_lock(&raw.mu);
	int n = raw.nconns;
	pthread_mutex_unlock(&raw.mu);
	return n;
}

static int listen_on(int backlog)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	base_port = ntohs(sa.sin_port);
	snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%u", base_port);
	return fd;
}

/* Serves reply (NULL: silence) on every connection. */
static void raw_start(const char *reply, size_t len)
{
	raw.stop = 0;
	raw.reply = reply;
	raw.reply_len = len;
	raw.nconns = raw.requests = 0;
	raw.fd = listen_on(16);
	assert_int_equal(pthread_create(&raw.tid, NULL, raw_loop, NULL), 0);
}

static void raw_stop(void)
{
	if (raw.fd >= 0) {
		raw.stop = 1;
		pthread_join(raw.tid, NULL);
		for (int i = 0; i < raw.nconns; i++)
			close(raw.conns[i]);
		close(raw.fd);
		raw.fd = -1;
		raw.any_bytes = 0;
	}
}

#endif
