/* clock: the time seam. */
#include "lib/clock.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/err.h"

static int64_t (*fake_now)(void);

int64_t wsr_clock_now_ms(void)
{
	if (fake_now)
		return fake_now();
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t wsr_clock_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void wsr_clock_set(int64_t (*now_ms)(void))
{
	fake_now = now_ms;
}

void wsr_sleep_ms(int64_t ms, volatile int *stop)
{
	int64_t end = wsr_clock_mono_ms() + ms;
	for (;;) {
		if (stop && *stop)
			return;
		int64_t left = end - wsr_clock_mono_ms();
		if (left <= 0)
			return;
		if (left > 50)
			left = 50;
		struct timespec ts = {left / 1000, (left % 1000) * 1000000};
		nanosleep(&ts, NULL);
	}
}

char *wsr_time_format(int64_t ms, char *out, unsigned long outlen)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return out;
}

int wsr_clock_duration(int64_t *ms, const char *s)
{
	if (!s || *s < '0' || *s > '9')
		return WSR_EINVAL;
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || v > WSR_CLOCK_DURATION_MAX)
		return WSR_EINVAL;
	if (strcmp(end, "ms") == 0)
		*ms = v;
	else if (strcmp(end, "s") == 0)
		*ms = v * 1000;
	else if (strcmp(end, "m") == 0)
		*ms = v * 60000;
	else if (strcmp(end, "h") == 0)
		*ms = v * 3600000;
	else
		return WSR_EINVAL;
	return 0;
}

int wsr_time_parse(int64_t *ms, const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return WSR_EINVAL;
	*ms = (int64_t)timegm(&tm) * 1000;
	return 0;
}
