/* names: the platform's workspace-name rule, needed before the platform is
 * reached (wsr validate refuses a name that is not already sanitized). */
#include <string.h>

#include "providers/loopback/loopback.h"

char *wsr_loopback_sanitize_name(const char *name, char *out, size_t outlen)
{
	size_t n = 0, max = outlen - 1;
	if (max > WSR_LOOPBACK_NAME_MAX)
		max = WSR_LOOPBACK_NAME_MAX;
	for (const char *p = name; *p && n < max; p++) {
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
	return out;
}
