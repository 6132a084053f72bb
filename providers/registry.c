/* registry: the table of providers wsr is built with, and the check every
 * address passes before it reaches one. Adding a platform is one line here
 * and one folder under providers/. */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "providers/kcp/kcp.h"
#include "providers/loopback/loopback.h"
#include "providers/provider.h"

/* Bytes of a rejected address quoted back in a message. */
#define QUOTE_MAX 80

/* Diagnostics show every address a provider accepts whole (lib/diag.h). */
_Static_assert(WSR_DIAG_ADDRESS_SHOW >= WSR_ADDRESS_MAX,
	       "WSR_DIAG_ADDRESS_SHOW must not cut an address wsr accepts");

static const wsr_provider_ops *const providers[] = {
    &wsr_loopback_provider,
    &wsr_kcp_provider,
};

const wsr_provider_ops *wsr_provider_find(const char *name)
{
	for (size_t i = 0; i < sizeof(providers) / sizeof(providers[0]); i++)
		if (strcmp(providers[i]->name, name) == 0)
			return providers[i];
	return NULL;
}

/* Up to QUOTE_MAX bytes of s, non-printable bytes as \xNN: an address from
 * the command line may hold anything, and must not reach a terminal raw. */
static char *quote(const char *s)
{
	wsr_buf b = WSR_BUF_INIT;
	size_t i = 0;
	for (; i < QUOTE_MAX && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '\\')
			wsr_buf_printf(&b, "\\x%02x", c);
		else
			wsr_buf_putc(&b, (char)c);
	}
	if (s[i])
		wsr_buf_puts(&b, "...");
	return wsr_buf_detach(&b);
}

static int bad_address(wsr_diag *diag, const char *address, const char *why)
{
	char *q = quote(address);
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, why,
		     "addresses look like loopback/<organization>/<workspace>; "
		     "'wsr state list' shows the managed ones",
		     "malformed address '%s'", q ? q : "");
	free(q);
	return WSR_EINVAL;
}

static int address_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
	       c == '.' || c == ':' || c == '@';
}

const wsr_provider_ops *wsr_provider_for_address(const char *address, wsr_diag *diag)
{
	size_t len = strnlen(address, WSR_ADDRESS_MAX + 1);
	if (len > WSR_ADDRESS_MAX) {
		char *why = wsr_strdupf("it is longer than %d bytes", WSR_ADDRESS_MAX);
		bad_address(diag, address, why);
		free(why);
		return NULL;
	}
	const char *slash = strchr(address, '/');
	if (!slash || slash == address || !slash[1]) {
		bad_address(diag, address, "it is not <provider>/<name>");
		return NULL;
	}
	for (size_t i = 0; i < len; i++) {
		char c = address[i];
		int start = i == 0 || address[i - 1] == '/';
		if ((c == '/' && start) || (c == '.' && start)) {
			bad_address(diag, address,
				    "a part between '/' is empty or starts with '.'");
			return NULL;
		}
		if (c != '/' && !address_char(c)) {
			char *why = wsr_strdupf(
			    "byte %zu (0x%02x) is not a lowercase letter, digit, '-', '_', '.', "
			    "':' or '@'",
			    i + 1, (unsigned char)c);
			bad_address(diag, address, why);
			free(why);
			return NULL;
		}
	}
	if (address[len - 1] == '/') {
		bad_address(diag, address, "a part between '/' is empty or starts with '.'");
		return NULL;
	}
	char name[WSR_ADDRESS_MAX + 1];
	memcpy(name, address, (size_t)(slash - address));
	name[slash - address] = '\0';
	const wsr_provider_ops *ops = wsr_provider_find(name);
	if (!ops)
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL,
			     "addresses start with the provider's name, as in "
			     "loopback/<organization>/<workspace>",
			     "unknown provider '%s' in address %s", name, address);
	return ops;
}
