/* log: leveled messages on stderr. */
#include "lib/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -1 until WSR_LOG is read (once, whichever thread logs first) or a
 * level is set; a level set first wins over the variable. */
static atomic_int level = -1;
static pthread_once_t read_once = PTHREAD_ONCE_INIT;

static void read_env(void)
{
	int l = WSR_LOG_WARN;
	const char *e = getenv("WSR_LOG");
	static const char *names[] = {"error", "warn", "info", "debug"};
	for (int i = 0; e && i < 4; i++)
		if (strcmp(e, names[i]) == 0)
			l = i;
	int unset = -1;
	atomic_compare_exchange_strong(&level, &unset, l);
}

static int current(void)
{
	pthread_once(&read_once, read_env);
	return atomic_load(&level);
}

void wsr_log_set_level(wsr_log_level l)
{
	atomic_store(&level, (int)l);
}

wsr_log_level wsr_log_get_level(void)
{
	return (wsr_log_level)current();
}

void wsr_log(wsr_log_level l, const char *fmt, ...)
{
	if ((int)l > current())
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
