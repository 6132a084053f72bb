/* buf: the one growable string type used everywhere (rendering, JSON bodies,
 * paths). An allocation failure is sticky: later appends do nothing and
 * wsr_buf_failed() reports it, so callers check once at the end. */
#ifndef WSR_LIB_BUF_H
#define WSR_LIB_BUF_H
#include <stdarg.h>
#include <stddef.h>

typedef struct wsr_buf {
	char *data; /* always NUL-terminated once anything was appended */
	size_t len;
	size_t cap;
	int failed; /* an allocation failed */
} wsr_buf;

#define WSR_BUF_INIT                                                                               \
	{                                                                                          \
		NULL, 0, 0, 0                                                                      \
	}

/* Appends n bytes of s. Returns 0 or WSR_ENOMEM. */
int wsr_buf_add(wsr_buf *b, const char *s, size_t n);
/* Appends a NUL-terminated string. */
int wsr_buf_puts(wsr_buf *b, const char *s);
/* Appends one character. */
int wsr_buf_putc(wsr_buf *b, char c);
/* Appends printf-formatted text. */
int wsr_buf_printf(wsr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int wsr_buf_vprintf(wsr_buf *b, const char *fmt, va_list ap);
/* Returns the contents ("" when empty); valid until the next append. */
const char *wsr_buf_str(const wsr_buf *b);
/* Returns 1 when any allocation failed. */
int wsr_buf_failed(const wsr_buf *b);
/* Hands the heap string to the caller (NULL on failure) and empties b. */
char *wsr_buf_detach(wsr_buf *b);
/* Empties b but keeps its memory. */
void wsr_buf_clear(wsr_buf *b);
void wsr_buf_free(wsr_buf *b);

/* printf into a new heap string; NULL on failure. */
char *wsr_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#endif
