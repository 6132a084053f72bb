/* page: tokens are hex(name) "." hex(first 16 bytes of HMAC-SHA256(secret,
 * list "\n" name)). The secret is kept in the data directory, so tokens
 * survive a restart of the emulator. */
#include "sim/kcp/page.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "lib/err.h"
#include "sim/kcp/store.h"

#define MAC_LEN 16

static int mac(unsigned char *out, const unsigned char *secret, const char *list, const char *last)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t ll = strlen(list), nl = strlen(last);
	unsigned char data[WSR_KCPSIM_PATH_MAX + 64 + WSR_KCPSIM_NAME_MAX + 2];
	if (ll + nl + 1 > sizeof(data))
		return WSR_EINVAL;
	memcpy(data, list, ll);
	data[ll] = '\n';
	memcpy(data + ll + 1, last, nl);
	if (!HMAC(EVP_sha256(), secret, WSR_KCPSIM_SECRET_LEN, data, ll + 1 + nl, md, &n) ||
	    n < MAC_LEN)
		return WSR_ENOMEM;
	memcpy(out, md, MAC_LEN);
	return 0;
}

int wsr_kcpsim_continue_encode(char *out, const unsigned char *secret, const char *list,
			       const char *last)
{
	unsigned char m[MAC_LEN];
	size_t n = strlen(last), a = 0, b = 0;
	int rc = n && n <= WSR_KCPSIM_NAME_MAX ? mac(m, secret, list, last) : WSR_EINVAL;
	if (rc)
		return rc;
	if (OPENSSL_buf2hexstr_ex(out, 2 * n + 1, &a, (const unsigned char *)last, n, '\0') != 1)
		return WSR_ENOMEM;
	out[2 * n] = '.';
	if (OPENSSL_buf2hexstr_ex(out + 2 * n + 1, 2 * MAC_LEN + 1, &b, m, MAC_LEN, '\0') != 1)
		return WSR_ENOMEM;
	return 0;
}

int wsr_kcpsim_continue_decode(char *last, const unsigned char *secret, const char *list,
			       const char *token)
{
	const char *dot = strchr(token, '.');
	size_t tl = strlen(token), n = 0, m = 0;
	unsigned char got[MAC_LEN + 1], want[MAC_LEN];
	char hex[2 * WSR_KCPSIM_NAME_MAX + 1];
	if (!dot || tl > WSR_KCPSIM_CONTINUE_MAX || (size_t)(dot - token) >= sizeof(hex) ||
	    strlen(dot + 1) != 2 * MAC_LEN)
		return WSR_EINVAL;
	memcpy(hex, token, (size_t)(dot - token));
	hex[dot - token] = '\0';
	if (OPENSSL_hexstr2buf_ex((unsigned char *)last, WSR_KCPSIM_NAME_MAX, &n, hex, '\0') != 1 ||
	    OPENSSL_hexstr2buf_ex(got, sizeof(got), &m, dot + 1, '\0') != 1 || m != MAC_LEN)
		return WSR_EINVAL;
	last[n] = '\0';
	if (n == 0 || strlen(last) != n || !wsr_kcpsim_name_valid(last) ||
	    mac(want, secret, list, last) || CRYPTO_memcmp(got, want, MAC_LEN) != 0)
		return WSR_EINVAL;
	return 0;
}
