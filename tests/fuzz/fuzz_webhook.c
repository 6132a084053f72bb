/* fuzz_webhook: what `wsr watch` does with a POST /hooks/git, past the
 * HTTP server: wsr_webhook_verify on a fuzzed header value and body with a
 * fixed secret (the body is only ever authenticated, never parsed: a hook
 * just wakes the loop), and wsr_webhook_secret_read on the same bytes as
 * the secret file. The input is the header value, a newline, then the
 * body. Besides crashes, the target checks the verdicts against an
 * independent computation: a forged request accepted, or a real one
 * refused, is a defect too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "reconciler/webhook.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_util.h"

/* GitHub's documented example secret (docs "Validating webhook
 * deliveries"), so their example delivery is a real seed. */
#define SECRET "It's a Secret to Everybody"
#define SIG_PREFIX "sha256="

/* "sha256=<64 lowercase hex>" of HMAC-SHA256(secret, body) into out. */
static void sign(char out[72], const void *secret, size_t slen, const void *body, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!HMAC(EVP_sha256(), secret, (int)slen, body ? body : (const void *)"", len, md,
		  &mdlen) ||
	    mdlen != 32)
		abort();
	strcpy(out, SIG_PREFIX);
	for (unsigned i = 0; i < mdlen; i++)
		sprintf(out + strlen(SIG_PREFIX) + 2 * i, "%02x", md[i]);
}

static void expect(int got, int want, const char *what, const char *header)
{
	if (got != want) {
		fprintf(stderr, "webhook: %s gave %d, expected %d (header \"%s\")\n", what, got,
			want, header);
		abort();
	}
}

static void verify(const char *secret, size_t slen, const char *header, const uint8_t *body,
		   size_t len)
{
	char good[72];
	sign(good, secret, slen, body, len);
	/* the hex digits in either case, the prefix exactly */
	int sig_ok = strncmp(header, SIG_PREFIX, strlen(SIG_PREFIX)) == 0 &&
		     strlen(header) == strlen(good) &&
		     strcasecmp(header + strlen(SIG_PREFIX), good + strlen(SIG_PREFIX)) == 0;
	int token_ok = strlen(header) == slen && memcmp(header, secret, slen) == 0;
	expect(wsr_webhook_verify(secret, slen, header, NULL, body, len), sig_ok, "signature",
	       header);
	expect(wsr_webhook_verify(secret, slen, NULL, header, body, len), token_ok, "token",
	       header);
	expect(wsr_webhook_verify(secret, slen, header, header, body, len), sig_ok || token_ok,
	       "both", header);
	expect(wsr_webhook_verify(secret, slen, good, NULL, body, len), 1, "own signature", good);
	expect(wsr_webhook_verify(NULL, 0, good, header, body, len), 0, "no secret", header);
}

static int fuzz_webhook(const uint8_t *data, size_t size)
{
	const uint8_t *nl = size ? memchr(data, '\n', size) : NULL;
	size_t hlen = nl ? (size_t)(nl - data) : size;
	char *header = strndup(size ? (const char *)data : "", hlen);
	if (!header)
		return 0;
	const uint8_t *body = nl ? nl + 1 : NULL;
	size_t blen = nl ? size - hlen - 1 : 0;
	verify(SECRET, strlen(SECRET), header, body, blen);

	char *secret = NULL;
	size_t slen = 0;
	wsr_diag diag;
	wsr_diag_init(&diag);
	const char *path = fuzz_file("secret", data, size);
	if (wsr_webhook_secret_read(&secret, &slen, path, &diag) == 0) {
		if (slen == 0 || strlen(secret) > slen)
			abort(); /* an empty secret would authenticate anyone */
		verify(secret, slen, header, body, blen);
	}
	fuzz_render_diag(&diag);
	free(secret);
	wsr_diag_free(&diag);
	free(header);
	return 0;
}
WSR_FUZZ_TARGET(fuzz_webhook)
