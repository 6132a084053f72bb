/* buf: growable strings with a sticky allocation failure. */
#include "lib/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"

static int grow(wsr_buf *b, size_t extra)
{
	if (b->failed)
		return WSR_ENOMEM;
	if (b->len + extra + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1) {
		if (cap > ((size_t)-1) / 2) {
			b->failed = 1;
			return WSR_ENOMEM;
		}
		cap *= 2;
	}
	char *p = realloc(b->data, cap);
	if (!p) {
		b->failed = 1;
		return WSR_ENOMEM;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int wsr_buf_add(wsr_buf *b, const char *s, size_t n)
{
	if (grow(b, n))
		return WSR_ENOMEM;
	if (n)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int wsr_buf_puts(wsr_buf *b, const char *s)
{
	return wsr_buf_add(b, s, strlen(s));
}

int wsr_buf_putc(wsr_buf *b, char c)
{
	return wsr_buf_add(b, &c, 1);
}

int wsr_buf_vprintf(wsr_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || grow(b, (size_t)n))
		return WSR_ENOMEM;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int wsr_buf_printf(wsr_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = wsr_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

const char *wsr_buf_str(const wsr_buf *b)
{
	return b->data ? b->data : "";
}

int wsr_buf_failed(const wsr_buf *b)
{
	return b->failed;
}

char *wsr_buf_detach(wsr_buf *b)
{
	char *s = NULL;
	if (!b->failed)
		s = b->data ? b->data : strdup("");
	else
		free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
	return s;
}

void wsr_buf_clear(wsr_buf *b)
{
	b->len = 0;
	b->failed = 0;
	if (b->data)
		b->data[0] = '\0';
}

void wsr_buf_free(wsr_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}

char *wsr_strdupf(const char *fmt, ...)
{
	wsr_buf b = WSR_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	wsr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return wsr_buf_detach(&b);
}
