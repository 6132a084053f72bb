/* log: operational messages on stderr (what wsr is doing), separate from
 * diagnostics (what the user must fix) and from results on stdout. */
#ifndef WSR_LIB_LOG_H
#define WSR_LIB_LOG_H

typedef enum { WSR_LOG_ERROR = 0, WSR_LOG_WARN, WSR_LOG_INFO, WSR_LOG_DEBUG } wsr_log_level;

/* Messages above this level are dropped. Default WSR_LOG_WARN; WSR_LOG env
 * (error|warn|info|debug) overrides it at the first call. */
void wsr_log_set_level(wsr_log_level level);
wsr_log_level wsr_log_get_level(void);

/* Writes "wsr: <level>: message" to stderr when level is enabled. Thread-safe. */
void wsr_log(wsr_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif
