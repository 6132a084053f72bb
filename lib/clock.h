/* clock: wall and monotonic time, behind one seam so tests (and later the
 * maintenance-window logic) can inject a clock instead of waiting. */
#ifndef WSR_LIB_CLOCK_H
#define WSR_LIB_CLOCK_H
#include <stdint.h>

/* Milliseconds since the Unix epoch (wall clock, or the injected one). */
int64_t wsr_clock_now_ms(void);

/* Milliseconds on a monotonic clock, for timeouts and durations. */
int64_t wsr_clock_mono_ms(void);

/* Replaces the wall clock; NULL restores the real one. */
void wsr_clock_set(int64_t (*now_ms)(void));

/* Sleeps, resuming after signals, unless *stop becomes non-zero (checked
 * every 50 ms; stop may be NULL). */
void wsr_sleep_ms(int64_t ms, volatile int *stop);

/* Formats ms as RFC 3339 UTC ("2026-11-21T09:15:00Z") into out (>= 32 bytes). */
char *wsr_time_format(int64_t ms, char *out, unsigned long outlen);

/* The largest number a duration may have before its unit. */
#define WSR_CLOCK_DURATION_MAX 999999999LL

/* Parses a duration: a whole number of at most WSR_CLOCK_DURATION_MAX
 * followed by ms, s, m or h ("250ms", "30s", "5m", "1h"; the pattern
 * schema/config.json gives every duration). Returns 0 and *ms, or
 * WSR_EINVAL (nothing else before the digits: no sign, no space). */
int wsr_clock_duration(int64_t *ms, const char *s);

/* Parses RFC 3339 UTC ("...Z"); returns 0 and *ms, or WSR_EINVAL. */
int wsr_time_parse(int64_t *ms, const char *s);
#endif
