/* fake_server: the HTTP plumbing of the provider wire tests — a
 * libmicrohttpd daemon on 127.0.0.1 (port 0) that collects each request's
 * body and hands method, URL and body to the test's dispatch, which returns
 * the JSON to answer (heap, taken over) and sets the status. What a test
 * scripts (routes, the request log) stays in the test: the fakes of two
 * platforms answer differently. A 429 carries Retry-After: fake_retry_after
 * when a test sets it. */
#ifndef WSR_TESTS_FAKE_SERVER_H
#define WSR_TESTS_FAKE_SERVER_H
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

static const char *fake_retry_after; /* set before starting requests, not during */

typedef char *(*fake_dispatch)(struct MHD_Connection *c, const char *method, const char *url,
			       const char *body, unsigned *status);

static enum MHD_Result fake_handler(void *cls, struct MHD_Connection *c, const char *url,
				    const char *method, const char *version, const char *upload,
				    size_t *upload_size, void **con_cls)
{
	(void)version;
	wsr_buf *in = *con_cls;
	if (!in) {
		*con_cls = calloc(1, sizeof(wsr_buf));
		return *con_cls ? MHD_YES : MHD_NO;
	}
	if (*upload_size) {
		wsr_buf_add(in, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	unsigned status = 500;
	char *body = ((fake_dispatch)cls)(c, method, url, wsr_buf_str(in), &status);
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", "application/json");
	if (status == 429 && fake_retry_after)
		MHD_add_response_header(r, "Retry-After", fake_retry_after);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void fake_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			   enum MHD_RequestTerminationCode code)
{
	(void)cls, (void)c, (void)code;
	wsr_buf_free(*con_cls);
	free(*con_cls);
	*con_cls = NULL;
}

/* Starts the fake; writes "http://127.0.0.1:PORT" into url. NULL on failure. */
static inline struct MHD_Daemon *fake_start(fake_dispatch dispatch, char *url, size_t n)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct MHD_Daemon *d =
	    MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
			     NULL, NULL, fake_handler, (void *)dispatch, MHD_OPTION_SOCK_ADDR, &sa,
			     MHD_OPTION_NOTIFY_COMPLETED, fake_completed, NULL, MHD_OPTION_END);
	if (!d)
		return NULL;
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(url, n, "http://127.0.0.1:%u", info->port);
	return d;
}
#endif
