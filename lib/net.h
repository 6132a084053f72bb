/* net: listen addresses ("127.0.0.1:9464", "[::1]:0", ":9464") into socket
 * addresses, for the two HTTP servers (wsr-sim, wsr watch). Numeric hosts
 * only: a name would need a resolver that might answer with anything. */
#ifndef WSR_LIB_NET_H
#define WSR_LIB_NET_H
#include <sys/socket.h>

#define WSR_NET_HOST_MAX 64 /* bytes of a host, brackets excluded */

typedef struct wsr_net_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	int ipv6;
	char host[WSR_NET_HOST_MAX + 2]; /* as it goes into a URL: 127.0.0.1, [::1] */
} wsr_net_addr;

/* Parses HOST:PORT: HOST numeric IPv4, IPv6 in brackets, or "localhost"
 * (127.0.0.1); an empty HOST means every IPv4 interface when empty_is_any,
 * and is refused otherwise. Returns 0, WSR_EINVAL when it is not HOST:PORT
 * with a port 0-65535, or WSR_ENOTFOUND when HOST is not numeric. */
int wsr_net_parse_listen(wsr_net_addr *a, const char *listen, int empty_is_any);

/* 1 when a is a loopback address (127.0.0.0/8, ::1). */
int wsr_net_is_loopback(const wsr_net_addr *a);
#endif
