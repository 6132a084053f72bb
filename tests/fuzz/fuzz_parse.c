/* fuzz_parse: the small parsers of user text `wsr watch` and wsr-sim run
 * on flags and wsr.yaml values, one input line each: listen addresses
 * (lib/net.c, --listen and watch.listen), durations (--interval,
 * watch.interval and backoff), RFC 3339 times (lib/clock.c, state's
 * created/updated, status' nextWindow), and a Loopback spec's maintenance
 * block as JSON (reconciler/window.c, which holds disruptive changes until
 * the window). Each result is checked against what its header promises. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/json.h"
#include "lib/net.h"
#include <arpa/inet.h>
#include "reconciler/watch.h"
#include "reconciler/window.h"
#include "tests/fuzz/fuzz.h"

/* The instant the windows are computed from when no line is a time:
 * 2026-12-03T00:00:00Z, a Thursday. */
#define DEFAULT_NOW_MS 1796256000000LL
/* The longest a window may be away (today's passed, next week's). */
#define WINDOW_HORIZON_MS (8 * 24 * WSR_WINDOW_LENGTH_MS)

static void check(int ok, const char *what, const char *line)
{
	if (!ok) {
		fprintf(stderr, "parse: %s broken for \"%s\"\n", what, line);
		abort();
	}
}

/* A parsed address printed as host:port must parse to the same address. */
static void listen_line(const char *line)
{
	for (int any = 0; any < 2; any++) {
		wsr_net_addr a, b;
		if (wsr_net_parse_listen(&a, line, any) != 0)
			continue;
		(void)wsr_net_is_loopback(&a);
		check(memchr(a.host, '\0', sizeof(a.host)) != NULL, "listen host end", line);
		unsigned port = a.ipv6 ? ntohs(((struct sockaddr_in6 *)&a.ss)->sin6_port)
				       : ntohs(((struct sockaddr_in *)&a.ss)->sin_port);
		char again[sizeof(a.host) + 8];
		snprintf(again, sizeof(again), "%s:%u", a.host, port);
		check(wsr_net_parse_listen(&b, again, 0) == 0 && a.len == b.len &&
			  memcmp(&a.ss, &b.ss, a.len) == 0,
		      "listen round trip", line);
	}
}

static void duration_line(const char *line)
{
	int64_t ms = -1;
	if (wsr_clock_duration(&ms, line) == 0)
		check(ms >= 0 && ms <= 999999999LL * 3600000, "duration range", line);
}

/* Updates *now when line is a time; a time formatted must parse back. */
static void time_line(const char *line, int64_t *now)
{
	int64_t ms = 0, again = 0;
	char buf[40];
	if (wsr_time_parse(&ms, line) != 0)
		return;
	check(wsr_time_parse(&again, wsr_time_format(ms, buf, sizeof(buf))) == 0 && again == ms,
	      "time round trip", line);
	*now = ms;
}

/* One disruptive Loopback change whose desired spec is spec, held or not. */
static void hold(cJSON *spec, int64_t now)
{
	wsr_resource desired = {.address = "loopback/fuzz/ws", .spec = spec};
	wsr_change c = {.address = "loopback/fuzz/ws", .provider = "loopback"};
	c.actions[c.nactions++] = WSR_ACT_UPGRADE;
	c.disruptive = 1;
	c.desired = &desired;
	wsr_plan_item it = {.change = &c};
	wsr_plan p = {.items = &it, .n = 1};
	for (int d = 0; d < 2; d++) {
		int held = wsr_window_hold(&p, now, d ? WSR_DISRUPT_IMMEDIATE : WSR_DISRUPT_WINDOW);
		check(held == (it.hold != NULL), "hold count", "");
		free(it.hold);
		it.hold = NULL;
	}
}

static void window_line(const char *line, int64_t now)
{
	cJSON *spec = NULL;
	if (wsr_json_parse(&spec, line, strlen(line), NULL) != 0)
		return;
	for (int priority = 0; priority < 2; priority++) {
		int64_t start = 0;
		int in = wsr_window_next(&start, spec, spec, priority, now);
		check(in == (start <= now), "window in progress", line);
		check(start + WSR_WINDOW_LENGTH_MS > now && start - now <= WINDOW_HORIZON_MS,
		      "window bounds", line);
		char label[32];
		wsr_window_label(start, label, sizeof(label));
		check(strlen(label) < sizeof(label) && strstr(label, " UTC"), "window label", line);
	}
	hold(spec, now);
	cJSON_Delete(spec);
}

static int fuzz_parse(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	if (size)
		memcpy(text, data, size);
	text[size] = '\0';
	int64_t now = DEFAULT_NOW_MS;
	for (char *line = text, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		listen_line(line);
		duration_line(line);
		time_line(line, &now);
		window_line(line, now);
	}
	free(text);
	return 0;
}
WSR_FUZZ_TARGET(fuzz_parse)
