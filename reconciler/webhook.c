/* webhook: authenticity of a webhook request and reading its secret. Apart
 * from watch_http.c so the rules (what is accepted, what leaks nothing) sit
 * in one small file a reviewer can check against GitHub's and GitLab's
 * documentation. */
#include "reconciler/webhook.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/err.h"
#include "lib/fs.h"
#include "lib/secret.h"

#define DIGEST_LEN 32 /* SHA-256 */
#define GITHUB_PREFIX "sha256="

/* "sha256=<64 hex>" exactly; anything else (other algorithms, a short or
 * long digest, spaces) is not a signature we can check. */
static int decode_github(unsigned char out[DIGEST_LEN], const char *sig)
{
	size_t plen = sizeof(GITHUB_PREFIX) - 1;
	if (strncmp(sig, GITHUB_PREFIX, plen) != 0 || strlen(sig + plen) != 2 * DIGEST_LEN)
		return -1;
	const char *hex = sig + plen;
	for (size_t i = 0; i < DIGEST_LEN; i++) {
		int hi = OPENSSL_hexchar2int((unsigned char)hex[2 * i]),
		    lo = OPENSSL_hexchar2int((unsigned char)hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static int github_ok(const void *secret, size_t secret_len, const char *sig, const void *body,
		     size_t len)
{
	unsigned char want[EVP_MAX_MD_SIZE], got[DIGEST_LEN];
	unsigned int want_len = 0;
	if (decode_github(got, sig) != 0 || secret_len > INT_MAX)
		return 0;
	if (!HMAC(EVP_sha256(), secret, (int)secret_len, body ? body : (const void *)"", len, want,
		  &want_len) ||
	    want_len != DIGEST_LEN)
		return 0;
	int ok = CRYPTO_memcmp(want, got, DIGEST_LEN) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

/* Compares digests, not the strings: equal-length inputs to CRYPTO_memcmp
 * whatever the token's length, so neither the secret's length nor a common
 * prefix shows in the timing. */
static int gitlab_ok(const void *secret, size_t secret_len, const char *token)
{
	unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
	unsigned int alen = 0, blen = 0;
	if (!EVP_Digest(secret, secret_len, a, &alen, EVP_sha256(), NULL) ||
	    !EVP_Digest(token, strlen(token), b, &blen, EVP_sha256(), NULL) || alen != DIGEST_LEN ||
	    blen != DIGEST_LEN)
		return 0;
	int ok = CRYPTO_memcmp(a, b, DIGEST_LEN) == 0;
	OPENSSL_cleanse(a, sizeof(a));
	return ok;
}

int wsr_webhook_verify(const void *secret, size_t secret_len, const char *github_sig,
		       const char *gitlab_token, const void *body, size_t len)
{
	if (!secret || secret_len == 0)
		return 0;
	if (github_sig && github_ok(secret, secret_len, github_sig, body, len))
		return 1;
	return gitlab_token && gitlab_ok(secret, secret_len, gitlab_token);
}

int wsr_webhook_secret_read(char **out, size_t *len, const char *file, wsr_diag *diag)
{
	return wsr_secret_read(out, len, file, "webhook secret file", "watch.webhook.secretFile",
			       diag);
}
