/* net: listen address parsing shared by wsr-sim and wsr watch. */
#include "lib/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"

int wsr_net_parse_listen(wsr_net_addr *a, const char *listen, int empty_is_any)
{
	const char *colon = listen ? strrchr(listen, ':') : NULL;
	char host[WSR_NET_HOST_MAX], *end;
	size_t hl = colon ? (size_t)(colon - listen) : 0;
	memset(a, 0, sizeof(*a));
	if (!colon || hl >= sizeof(host) || (hl == 0 && !empty_is_any) || !colon[1] ||
	    colon[1] == '-' || colon[1] == '+')
		return WSR_EINVAL;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (*end || port > 65535)
		return WSR_EINVAL;
	memcpy(host, listen, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	struct sockaddr_in *v4 = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a->ss;
	const char *numeric = !host[0]			       ? "0.0.0.0"
			      : strcmp(host, "localhost") == 0 ? "127.0.0.1"
							       : host;
	if (inet_pton(AF_INET, numeric, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		a->len = sizeof(*v4);
		snprintf(a->host, sizeof(a->host), "%s", numeric);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		a->len = sizeof(*v6);
		a->ipv6 = 1;
		snprintf(a->host, sizeof(a->host), "[%s]", host);
	} else {
		return WSR_ENOTFOUND;
	}
	return 0;
}

int wsr_net_is_loopback(const wsr_net_addr *a)
{
	if (a->ipv6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
	return (ntohl(((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr) >> 24) == 127;
}
