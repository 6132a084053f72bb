/* utf8: well-formed UTF-8 (utf8.h), checked by byte ranges rather than by
 * decoding: the second byte's range rules out overlongs (after 0xe0, 0xf0),
 * surrogates (after 0xed) and code points past U+10FFFF (after 0xf4). */
#include "lib/utf8.h"

#include "lib/err.h"

size_t wsr_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf; /* range of the second byte */
	size_t len = c < 0x80		      ? 1
		     : c >= 0xc2 && c <= 0xdf ? 2
		     : c >= 0xe0 && c <= 0xef ? 3
		     : c >= 0xf0 && c <= 0xf4 ? 4
					      : 0;
	if (len < 2)
		return len;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

int wsr_utf8_check(const char *s, size_t len, int *line, int *col)
{
	const unsigned char *p = (const unsigned char *)s;
	int l = 1, c = 1;
	for (size_t i = 0; i < len;) {
		size_t k = p[i] ? wsr_utf8_len(p + i, len - i) : 0;
		if (!k) {
			*line = l;
			*col = c;
			return WSR_EINVAL;
		}
		if (p[i] == '\n')
			l++, c = 1;
		else
			c++;
		i += k;
	}
	return 0;
}
