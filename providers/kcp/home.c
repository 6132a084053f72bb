/* kcp/home: the home workspace path rule and the bucket sizing rule (see
 * home.h for both). Separate from the rest of the kcp provider because it
 * is pure arithmetic over a user name that the command line, the config
 * check and planning share, and it is the one place wsr must agree with
 * kcp byte for byte. */
#include "providers/kcp/home.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/utf8.h"

/* How many bytes of a user name an error message shows. */
#define SHOWN_MAX 40

/* A user name or prefix for a message: at most SHOWN_MAX bytes, whole UTF-8
 * characters only, control and invalid bytes as \xNN. */
static void show(wsr_buf *b, const char *user)
{
	const unsigned char *s = (const unsigned char *)user;
	size_t n = strlen(user), i = 0;
	wsr_buf_putc(b, '"');
	while (i < n && i < SHOWN_MAX) {
		size_t k = wsr_utf8_len(s + i, n - i);
		if (k == 1 && (s[i] < 0x20 || s[i] == 0x7f || s[i] == '"' || s[i] == '\\'))
			k = 0;
		if (k)
			wsr_buf_add(b, user + i, k);
		else
			wsr_buf_printf(b, "\\x%02x", s[i]);
		i += k ? k : 1;
	}
	wsr_buf_puts(b, i < n ? "\"..." : "\"");
}

/* Adds an error about user: `user "<shown>": <what>`. */
static int user_error(wsr_diag *diag, const char *user, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int user_error(wsr_diag *diag, const char *user, const char *hint, const char *fmt, ...)
{
	wsr_buf b = WSR_BUF_INIT;
	show(&b, user);
	wsr_buf_puts(&b, ": ");
	va_list ap;
	va_start(ap, fmt);
	wsr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	int rc = wsr_buf_failed(&b) ? WSR_ENOMEM : 0;
	if (!rc)
		rc = wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, hint, "user %s",
				  wsr_buf_str(&b));
	wsr_buf_free(&b);
	return rc;
}

int wsr_kcp_bucket_check(wsr_kcp_buckets *out, int depth, int length)
{
	out->subbuckets = out->users = 0;
	if (depth < 1 || depth > WSR_KCP_DEPTH_MAX || length < 1 || length > WSR_KCP_LENGTH_MAX)
		return WSR_ELIMIT;
	long sub = 1;
	for (int i = 0; i < length; i++)
		sub *= 26;
	/* (26^4)^5 does not fit in a long; a double holds the quotient closely
	 * enough to round it */
	double leaves = 1;
	for (int i = 0; i < depth; i++)
		leaves *= (double)sub;
	out->subbuckets = sub;
	out->users = (long)((double)WSR_KCP_USER_NAMES / leaves + 0.5);
	if (sub > WSR_KCP_BUCKET_MAX || out->users > WSR_KCP_BUCKET_MAX ||
	    out->users < WSR_KCP_BUCKET_USERS_MIN)
		return WSR_EINVAL;
	return 0;
}

/* A logical cluster path segment: [a-z0-9]([a-z0-9-]*[a-z0-9])? */
static int segment_ok(const char *s, size_t n)
{
	if (!n || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

static int prefix_ok(const char *prefix)
{
	size_t n = strnlen(prefix, WSR_KCP_PREFIX_MAX + 1);
	if (n > WSR_KCP_PREFIX_MAX)
		return 0;
	for (size_t start = 0;;) {
		const char *colon = memchr(prefix + start, ':', n - start);
		size_t end = colon ? (size_t)(colon - prefix) : n;
		if (!segment_ok(prefix + start, end - start))
			return 0;
		if (!colon)
			return 1;
		start = end + 1;
	}
}

int wsr_kcp_home_opts_check(wsr_diag *diag, const wsr_pos *pos, const wsr_kcp_home_opts *opts)
{
	/* checked in either style: a configuration that names buckets kcp
	 * would refuse is wrong even while the style does not use them */
	if (!opts->prefix || !prefix_ok(opts->prefix)) {
		wsr_buf b = WSR_BUF_INIT;
		show(&b, opts->prefix ? opts->prefix : "");
		wsr_diag_add(diag, WSR_SEV_ERROR, pos, NULL, NULL,
			     "a logical cluster path such as root:users: lowercase letters, digits "
			     "and '-' in segments joined by ':'",
			     "kcp home prefix %s is not a logical cluster path of at most %d bytes",
			     wsr_buf_str(&b), WSR_KCP_PREFIX_MAX);
		wsr_buf_free(&b);
		return WSR_EINVAL;
	}
	wsr_kcp_buckets f;
	int depth = opts->depth, length = opts->length;
	int rc = wsr_kcp_bucket_check(&f, depth, length);
	if (rc == WSR_ELIMIT)
		wsr_diag_add(diag, WSR_SEV_ERROR, pos, NULL, NULL,
			     "kcp's defaults are depth 2, length 2",
			     "kcp home buckets: depth %d, length %d: kcp allows depth 1 to %d and "
			     "length 1 to %d",
			     depth, length, WSR_KCP_DEPTH_MAX, WSR_KCP_LENGTH_MAX);
	else if (rc)
		wsr_diag_add(
		    diag, WSR_SEV_ERROR, pos, NULL, NULL,
		    "valid are length 2 depth 2 (the default), length 1 depth 3 or 4",
		    "kcp home buckets: depth %d, length %d would put %ld sub-buckets in a "
		    "bucket and %ld users in a last-level bucket (kcp wants at most %ld of "
		    "each and at least %ld users)",
		    depth, length, f.subbuckets, f.users, WSR_KCP_BUCKET_MAX,
		    WSR_KCP_BUCKET_USERS_MIN);
	return rc ? WSR_EINVAL : 0;
}

/* The workspace name kcp derives from the user name (see home.h) into b. */
static void sanitize(wsr_buf *b, const char *user, size_t n)
{
	const unsigned char *s = (const unsigned char *)user;
	for (size_t i = 0; i < n;) {
		size_t k = wsr_utf8_len(s + i, n - i);
		char c = (char)s[i];
		int keep = k == 1 && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
		/* leading characters up to '9' go; after the replacement that is
		 * digits and '-' */
		if (!(b->len == 0 && (!keep || c <= '9')))
			wsr_buf_putc(b, keep ? c : '-');
		i += k ? k : 1;
	}
	while (b->len && b->data[b->len - 1] == '-')
		b->data[--b->len] = '\0';
}

static int buckets(wsr_buf *b, const char *user, size_t n, int depth, int length)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (EVP_Digest(user, n, md, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != 20)
		return WSR_ENOMEM;
	/* depth <= WSR_KCP_DEPTH_MAX keeps byte depth-1+3 inside the 20 */
	for (int i = 0; i < depth; i++) {
		unsigned long v = (unsigned long)md[i] << 24 | (unsigned long)md[i + 1] << 16 |
				  (unsigned long)md[i + 2] << 8 | md[i + 3];
		wsr_buf_putc(b, ':');
		for (int j = 0; j < length; j++) {
			wsr_buf_putc(b, (char)('a' + v % 26));
			v /= 26;
		}
	}
	return 0;
}

/* A byte of a logicalcluster-style home's user name (see home.h). */
static int lc_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
	       c == '.' || c == '@';
}

/* "user:<user>" when the name can be part of an address, a URL and a header. */
static int lc_path(char **out, const char *user, wsr_diag *diag)
{
	size_t n = strnlen(user, WSR_KCP_HOME_USER_MAX + 1), i = 0;
	int rc;
	if (n > WSR_KCP_HOME_USER_MAX) {
		rc = user_error(diag, user, NULL,
				"longer than %d bytes: user:<name> would pass kcp's path limit",
				WSR_KCP_HOME_USER_MAX);
		return rc ? rc : WSR_ELIMIT;
	}
	while (i < n && lc_char((unsigned char)user[i]))
		i++;
	const char *hint = "the home's address is kcp/user:<name>: lowercase letters, digits, "
			   "'-', '_', '.' and '@' only (or use providers.kcp.home.style: buckets)";
	if (n == 0) {
		rc = user_error(diag, user, hint, "is empty");
		return rc ? rc : WSR_EINVAL;
	}
	if (i < n) {
		rc = user_error(diag, user, hint,
				"byte %zu (0x%02x) cannot be part of a home workspace's address",
				i + 1, (unsigned char)user[i]);
		return rc ? rc : WSR_EINVAL;
	}
	return (*out = wsr_strdupf("user:%s", user)) ? 0 : WSR_ENOMEM;
}

int wsr_kcp_home_path(char **out, const wsr_kcp_home_opts *opts, const char *user, wsr_diag *diag)
{
	const wsr_kcp_home_opts defaults = WSR_KCP_HOME_OPTS_INIT;
	if (!opts)
		opts = &defaults;
	*out = NULL;
	if (opts->style == WSR_KCP_HOME_LOGICALCLUSTER)
		return lc_path(out, user, diag);
	int rc = wsr_kcp_home_opts_check(diag, NULL, opts);
	if (rc)
		return rc;
	size_t n = strnlen(user, WSR_KCP_USER_MAX + 1);
	if (n > WSR_KCP_USER_MAX) {
		rc = user_error(diag, user, NULL, "longer than %d bytes, the most wsr accepts",
				WSR_KCP_USER_MAX);
		return rc ? rc : WSR_ELIMIT;
	}
	wsr_buf name = WSR_BUF_INIT;
	sanitize(&name, user, n);
	if (wsr_buf_failed(&name)) {
		rc = WSR_ENOMEM;
	} else if (name.len == 0) {
		rc = user_error(diag, user,
				"kcp keeps only a-z, 0-9 and '-' and drops leading digits and '-'",
				"has no character kcp can use in a workspace name");
		rc = rc ? rc : WSR_EINVAL;
	} else if (name.len > WSR_KCP_NAME_MAX) {
		rc = user_error(diag, user, NULL,
				"its workspace name would have %zu characters, kcp allows %d",
				name.len, WSR_KCP_NAME_MAX);
		rc = rc ? rc : WSR_ELIMIT;
	}
	if (rc) {
		wsr_buf_free(&name);
		return rc;
	}
	wsr_buf path = WSR_BUF_INIT;
	wsr_buf_puts(&path, opts->prefix);
	rc = buckets(&path, user, n, opts->depth, opts->length);
	wsr_buf_putc(&path, ':');
	wsr_buf_add(&path, name.data, name.len);
	wsr_buf_free(&name);
	if (!rc && wsr_buf_failed(&path))
		rc = WSR_ENOMEM;
	if (!rc)
		*out = wsr_buf_detach(&path);
	wsr_buf_free(&path);
	return rc;
}
