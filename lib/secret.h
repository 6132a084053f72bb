/* secret: reading a secret (a token, a password, a webhook key) from a file
 * named in the configuration — bounded, one trailing newline dropped, an
 * empty file refused, a file other users can read warned about. The secret
 * itself never reaches a diagnostic. */
#ifndef WSR_LIB_SECRET_H
#define WSR_LIB_SECRET_H
#include <stddef.h>

#include "lib/diag.h"

#define WSR_SECRET_MAX 4096 /* bytes of a secret file */

/* Reads file into *out (NUL-terminated, *len bytes; caller scrubs and
 * frees). what names it in messages ("etcd password file"), key is the
 * configuration key that names it ("state.passwordFile"). */
int wsr_secret_read(char **out, size_t *len, const char *file, const char *what, const char *key,
		    wsr_diag *diag);
#endif
