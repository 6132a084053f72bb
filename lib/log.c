/* log: leveled messages on stderr. */
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int level = -1;

static void init_level(void)
{
	if (level >= 0)
		return;
	level = WSR_LOG_WARN;
	const char *e = getenv("WSR_LOG");
	if (!e)
		return;
	static const char *names[] = {"error", "warn", "info", "debug"};
	for (int i = 0; i < 4; i++)
		if (strcmp(e, names[i]) == 0)
			level = i;
}

void wsr_log_set_level(wsr_log_level l)
{
	level = (int)l;
}

wsr_log_level wsr_log_get_level(void)
{
	init_level();
	return (wsr_log_level)level;
}

void wsr_log(wsr_log_level l, const char *fmt, ...)
{
	init_level();
	if ((int)l > level)
		return;
	static const char *names[] = {"error", "warning", "info", "debug"};
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* one fprintf call so lines from threads do not interleave */
	fprintf(stderr, "wsr: %s: %s\n", names[l], msg);
}
