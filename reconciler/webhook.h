/* webhook: is a POST /hooks/git really from the Git host? Pure functions
 * (no I/O besides reading the secret file), kept apart from the HTTP server
 * so the comparison rules can be tested byte by byte without a socket. */
#ifndef WSR_RECONCILER_WEBHOOK_H
#define WSR_RECONCILER_WEBHOOK_H
#include <stddef.h>

#include "lib/diag.h"
#include "lib/secret.h"

/* Largest webhook secret file accepted, in bytes. */
#define WSR_WEBHOOK_SECRET_MAX WSR_SECRET_MAX

/* Returns 1 when the request is authentic, 0 otherwise:
 *  - github_sig (the X-Hub-Signature-256 header, may be NULL) is
 *    "sha256=" and 64 hex digits (either case) of HMAC-SHA256(secret, body);
 *  - or gitlab_token (the X-Gitlab-Token header, may be NULL) equals the
 *    secret.
 * Either one that verifies is enough. Both comparisons take the same time
 * whatever the input (digests of equal length compared with
 * CRYPTO_memcmp; the token is hashed first so its length leaks nothing).
 * An empty or NULL secret never authenticates anything. body may be NULL
 * when len is 0. */
int wsr_webhook_verify(const void *secret, size_t secret_len, const char *github_sig,
		       const char *gitlab_token, const void *body, size_t len);

/* Reads the webhook secret from file (at most WSR_WEBHOOK_SECRET_MAX bytes)
 * into *out (NUL-terminated, caller frees; *len excludes the NUL), without
 * one trailing "\n" or "\r\n". A missing, unreadable, too large or empty
 * file is an error diagnostic naming the file (never its content) and
 * WSR_ENOTFOUND, WSR_EIO, WSR_ELIMIT or WSR_EINVAL; *out is then NULL. A
 * file that group or others may read gives a warning (and still returns
 * 0). */
int wsr_webhook_secret_read(char **out, size_t *len, const char *file, wsr_diag *diag);
#endif
