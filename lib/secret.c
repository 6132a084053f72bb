/* secret: a secret read from a file (see secret.h). */
#include "lib/secret.h"

#include <stdlib.h>
#include <sys/stat.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"

int wsr_secret_read(char **out, size_t *len, const char *file, const char *what, const char *key,
		    wsr_diag *diag)
{
	char *text = NULL;
	size_t n = 0;
	*out = NULL;
	*len = 0;
	int rc = wsr_fs_read(&text, &n, file, WSR_SECRET_MAX);
	if (rc == WSR_ENOTFOUND) {
		char *hint = wsr_strdupf("%s is resolved relative to wsr.yaml", key);
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, hint, "%s %s does not exist",
			     what, file);
		free(hint);
	} else if (rc == WSR_ELIMIT)
		wsr_diag_error(diag, NULL, "%s %s is larger than %d bytes", what, file,
			       WSR_SECRET_MAX);
	else if (rc == WSR_ENOMEM)
		wsr_diag_error(diag, NULL, "%s %s: out of memory", what, file);
	else if (rc)
		wsr_diag_error(diag, NULL, "%s %s cannot be read (not a readable regular file)",
			       what, file);
	if (rc)
		return rc;
	if (n > 0 && text[n - 1] == '\n') { /* what an editor or echo adds */
		text[--n] = '\0';
		if (n > 0 && text[n - 1] == '\r')
			text[--n] = '\0';
	}
	if (n == 0) {
		free(text);
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL,
			     "put a long random string in it, e.g. openssl rand -hex 32",
			     "%s %s is empty", what, file);
		return WSR_EINVAL;
	}
	struct stat st;
	if (stat(file, &st) == 0 && (st.st_mode & 077))
		wsr_diag_add(diag, WSR_SEV_WARNING, NULL, NULL, NULL, "chmod 600 the file",
			     "%s %s is readable by other users (mode %03o)", what, file,
			     (unsigned)(st.st_mode & 0777));
	*out = text;
	*len = n;
	return 0;
}
