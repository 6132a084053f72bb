/* page: tokens are hex(name) "." issued "." hex(first 16 bytes of
 * HMAC-SHA256(secret, list "\n" name "\n" issued)), issued the decimal
 * time (ms) the token was handed out, so its age cannot be forged. The
 * secret is kept in the data directory, so tokens survive a restart of the
 * emulator. */
#include "sim/kcp/page.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "sim/kcp/store.h"

#define MAC_LEN 16

/* Digits of the issue time in a token, at most. */
#define ISSUED_MAX 19

static int mac(unsigned char *out, const unsigned char *secret, const char *list, const char *last,
	       const char *issued)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	unsigned char data[WSR_KCPSIM_PATH_MAX + 64 + WSR_KCPSIM_NAME_MAX + ISSUED_MAX + 3];
	int len = snprintf((char *)data, sizeof(data), "%s\n%s\n%s", list, last, issued);
	if (len < 0 || (size_t)len >= sizeof(data))
		return WSR_EINVAL;
	if (!HMAC(EVP_sha256(), secret, WSR_KCPSIM_SECRET_LEN, data, (size_t)len, md, &n) ||
	    n < MAC_LEN)
		return WSR_ENOMEM;
	memcpy(out, md, MAC_LEN);
	return 0;
}

int wsr_kcpsim_continue_encode(char *out, const unsigned char *secret, const char *list,
			       const char *last, int64_t issued)
{
	unsigned char m[MAC_LEN];
	char at[ISSUED_MAX + 1];
	size_t n = strlen(last), a = 0, b = 0;
	snprintf(at, sizeof(at), "%lld", (long long)(issued > 0 ? issued : 0));
	int rc = n && n <= WSR_KCPSIM_NAME_MAX ? mac(m, secret, list, last, at) : WSR_EINVAL;
	if (rc)
		return rc;
	if (OPENSSL_buf2hexstr_ex(out, 2 * n + 1, &a, (const unsigned char *)last, n, '\0') != 1)
		return WSR_ENOMEM;
	size_t at_len = strlen(at);
	out[2 * n] = '.';
	memcpy(out + 2 * n + 1, at, at_len);
	out[2 * n + 1 + at_len] = '.';
	char *hex = out + 2 * n + 2 + at_len;
	if (OPENSSL_buf2hexstr_ex(hex, 2 * MAC_LEN + 1, &b, m, MAC_LEN, '\0') != 1)
		return WSR_ENOMEM;
	return 0;
}

/* Copies the issue time between the two dots into at; -1 unless it is
 * 1 to ISSUED_MAX digits. */
static int issued_part(char *at, const char *from, const char *to)
{
	size_t n = (size_t)(to - from);
	if (n == 0 || n > ISSUED_MAX)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (from[i] < '0' || from[i] > '9')
			return -1;
	memcpy(at, from, n);
	at[n] = '\0';
	return 0;
}

int wsr_kcpsim_continue_decode(char *last, int64_t *issued, const unsigned char *secret,
			       const char *list, const char *token)
{
	const char *dot = strchr(token, '.'), *dot2 = dot ? strchr(dot + 1, '.') : NULL;
	size_t tl = strlen(token), n = 0, m = 0;
	unsigned char got[MAC_LEN + 1], want[MAC_LEN];
	char hex[2 * WSR_KCPSIM_NAME_MAX + 1], at[ISSUED_MAX + 1];
	if (!dot2 || tl > WSR_KCPSIM_CONTINUE_MAX || (size_t)(dot - token) >= sizeof(hex) ||
	    strlen(dot2 + 1) != 2 * MAC_LEN || issued_part(at, dot + 1, dot2))
		return WSR_EINVAL;
	memcpy(hex, token, (size_t)(dot - token));
	hex[dot - token] = '\0';
	if (OPENSSL_hexstr2buf_ex((unsigned char *)last, WSR_KCPSIM_NAME_MAX, &n, hex, '\0') != 1 ||
	    OPENSSL_hexstr2buf_ex(got, sizeof(got), &m, dot2 + 1, '\0') != 1 || m != MAC_LEN)
		return WSR_EINVAL;
	last[n] = '\0';
	if (n == 0 || strlen(last) != n || !wsr_kcpsim_name_valid(last) ||
	    mac(want, secret, list, last, at) || CRYPTO_memcmp(got, want, MAC_LEN) != 0)
		return WSR_EINVAL;
	*issued = strtoll(at, NULL, 10);
	return 0;
}
