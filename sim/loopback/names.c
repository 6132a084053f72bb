/* names: the workspace-name rule and cursors. A cursor names the last key of
 * the page it ends rather than an offset, so it stays valid when items are
 * inserted or deleted before it: the next page simply starts after that key. */
#include "sim/loopback/names.h"

#include <string.h>

#include "lib/err.h"

void wsr_lbsim_name_sanitize(char *out, const char *in)
{
	size_t n = 0;
	for (const char *p = in; *p && n < WSR_LBSIM_NAME_MAX; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			c = '-';
		if (c == '-' && (n == 0 || out[n - 1] == '-'))
			continue;
		out[n++] = c;
	}
	while (n > 0 && out[n - 1] == '-')
		n--;
	out[n] = '\0';
}

int wsr_lbsim_name_valid(const char *s)
{
	char buf[WSR_LBSIM_NAME_MAX + 1];
	if (strlen(s) > WSR_LBSIM_NAME_MAX)
		return 0;
	wsr_lbsim_name_sanitize(buf, s);
	return buf[0] != '\0' && strcmp(buf, s) == 0;
}

static const char hexdig[] = "0123456789abcdef";

int wsr_lbsim_cursor_encode(char *out, const char *key)
{
	size_t n = strlen(key);
	if (n > WSR_LBSIM_CURSOR_KEY_MAX)
		return WSR_ELIMIT;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)key[i];
		out[2 * i] = hexdig[c >> 4];
		out[2 * i + 1] = hexdig[c & 15];
	}
	out[2 * n] = '\0';
	return 0;
}

static int hexval(char c)
{
	const char *p = c ? strchr(hexdig, c) : NULL;
	return p ? (int)(p - hexdig) : -1;
}

int wsr_lbsim_cursor_decode(char *out, const char *cursor)
{
	size_t n = strlen(cursor);
	if (n == 0 || n % 2 || n > WSR_LBSIM_CURSOR_MAX)
		return WSR_EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(cursor[2 * i]), lo = hexval(cursor[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return WSR_EINVAL;
		int c = hi * 16 + lo;
		if (c < 0x21 || c > 0x7e) /* keys are printable ASCII */
			return WSR_EINVAL;
		out[i] = (char)c;
	}
	out[n / 2] = '\0';
	return 0;
}
