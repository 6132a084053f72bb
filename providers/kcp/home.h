/* kcp/home: where kcp puts a user's home workspace, and whether a bucket
 * configuration is one kcp's documentation calls valid.
 *
 * Two generations (providers.kcp.home.style):
 * - logicalcluster (kcp since late 2022, pkg/server/home_workspaces.go): a
 *   home is a parent-less logical cluster at path "user:<user name>", the
 *   name as authentication gives it, unchanged;
 * - buckets (kcp before): the rule below. Pure functions (no
 * I/O, no platform): `wsr kcp home-path` prints them today, and the kcp
 * provider's config and planning will use the same rule, so it lives with
 * the provider rather than with the command.
 *
 * The rule is kcp's bucket-style home workspaces (pkg/server/home_workspaces.go,
 * getHomeLogicalClusterName, before kcp moved to parent-less homes):
 *
 *   <prefix>:<bucket 0>:...:<bucket depth-1>:<name>
 *
 * bucket i: n = the 4 bytes of SHA-1(user) starting at byte i, big-endian;
 * `length` characters, each 'a' + n % 26, then n /= 26.
 * name: the user name with every character (a UTF-8 code point, or one byte
 * that is not part of a valid sequence) outside [a-z0-9-] replaced by '-',
 * leading characters <= '9' (digits, '-', punctuation) and trailing '-'
 * trimmed. The hash is of the user name as given, not of the name. */
#ifndef WSR_PROVIDERS_KCP_HOME_H
#define WSR_PROVIDERS_KCP_HOME_H
#include <stddef.h>

#include "lib/diag.h"

/* kcp's defaults (--home-workspaces-root-prefix, -bucket-levels, -bucket-size). */
#define WSR_KCP_HOME_PREFIX "root:users"
#define WSR_KCP_HOME_DEPTH 2
#define WSR_KCP_HOME_LENGTH 2

/* kcp's own hard limits on the two numbers (it refuses to start outside
 * them); wsr refuses them the same way, before the documented rule below. */
#define WSR_KCP_DEPTH_MAX 5
#define WSR_KCP_LENGTH_MAX 4

/* kcp's documented sizing rule: the number of possible user names it counts
 * (26 * (26 + 10 + 2) * 61 * 36), the most entries (sub-buckets or users) a
 * bucket should hold, and the fewest users a last-level bucket must hold. */
#define WSR_KCP_USER_NAMES 2169648L
#define WSR_KCP_BUCKET_MAX 1000L
#define WSR_KCP_BUCKET_USERS_MIN 5L

/* Longest user name accepted, in bytes: kcp itself sets none, but a name
 * this long cannot sanitize to a workspace name kcp accepts unless nearly
 * all of it is trimmed, and hostile input (a 1 MiB argument) must be turned
 * away before any work and never echoed whole. */
#define WSR_KCP_USER_MAX 1024
/* Longest workspace name kcp accepts (its Workspace CRD's maxLength). A
 * longer sanitized name is refused, not truncated: truncating would name a
 * workspace kcp never uses. */
#define WSR_KCP_NAME_MAX 63
/* Longest workspace path accepted anywhere, in bytes (docs/api/kcp.md). */
#define WSR_KCP_PATH_MAX 1024
/* Longest prefix accepted, in bytes. */
#define WSR_KCP_PREFIX_MAX 255

/* The two generations of home workspaces. */
typedef enum {
	WSR_KCP_HOME_BUCKETS = 0,	 /* <prefix>:<buckets>:<name> (`wsr kcp home-path`) */
	WSR_KCP_HOME_LOGICALCLUSTER = 1, /* user:<user name> (providers.kcp.home's default) */
} wsr_kcp_home_style;

/* Longest user name of a logicalcluster-style home: "user:" and the name
 * must fit a workspace path (WSR_KCP_PATH_MAX). */
#define WSR_KCP_HOME_USER_MAX (WSR_KCP_PATH_MAX - 5)

typedef struct wsr_kcp_home_opts {
	/* a logical cluster path: segments [a-z0-9]([a-z0-9-]*[a-z0-9])? joined by ':' */
	const char *prefix;
	int depth;  /* bucket levels */
	int length; /* characters per bucket name */
	int style;  /* wsr_kcp_home_style; prefix, depth and length serve buckets only
		       (and are checked in either style) */
} wsr_kcp_home_opts;

#define WSR_KCP_HOME_OPTS_INIT                                                                     \
	{                                                                                          \
		WSR_KCP_HOME_PREFIX, WSR_KCP_HOME_DEPTH, WSR_KCP_HOME_LENGTH, WSR_KCP_HOME_BUCKETS \
	}

/* The two figures kcp's documentation judges a bucket configuration by. */
typedef struct wsr_kcp_buckets {
	long subbuckets; /* entries of an inner bucket: 26^length */
	long users;	 /* users per last-level bucket: USER_NAMES / (26^length)^depth, rounded */
} wsr_kcp_buckets;

/* Judges a bucket configuration. Fills *out whenever 1 <= depth <= DEPTH_MAX
 * and 1 <= length <= LENGTH_MAX (else sets both figures to 0).
 * Returns 0 when valid: subbuckets <= BUCKET_MAX and BUCKET_USERS_MIN <=
 * users <= BUCKET_MAX (so length 2 depth 2, length 1 depth 3 or 4);
 * WSR_ELIMIT when depth or length is outside kcp's hard limits;
 * WSR_EINVAL when the figures break the documented rule. */
int wsr_kcp_bucket_check(wsr_kcp_buckets *out, int depth, int length);

/* Checks a whole configuration: the prefix, then wsr_kcp_bucket_check.
 * When it fails, adds one error to diag (at pos, which may be NULL) naming
 * the rule broken (for buckets: the limits, or the two figures) and returns
 * WSR_EINVAL. For the command line and the provider config. */
int wsr_kcp_home_opts_check(wsr_diag *diag, const wsr_pos *pos, const wsr_kcp_home_opts *opts);

/* Computes the home workspace path of `user` (a NUL-terminated byte string,
 * normally UTF-8) into *out, a new heap string the caller frees. opts NULL
 * means the defaults (buckets).
 *
 * logicalcluster style: "user:<user>". The user name becomes part of a wsr
 * address (kcp/user:<user>) and of a URL and a header (Impersonate-User),
 * so it must be 1 to WSR_KCP_HOME_USER_MAX bytes of lowercase letters,
 * digits, '-', '_', '.' and '@' (adam, bella@example.com); anything else
 * is WSR_EINVAL naming the first bad byte (WSR_ELIMIT when too long).
 *
 * buckets style: Checks opts as wsr_kcp_home_opts_check does (check
 * once before many users to get one message). Returns 0, or adds an error
 * to diag and returns: WSR_EINVAL for bad opts, or a user
 * whose name sanitizes to nothing (e.g. "123", "-", "ÄÖ"); WSR_ELIMIT for a
 * user longer than WSR_KCP_USER_MAX bytes or a name longer than
 * WSR_KCP_NAME_MAX; WSR_ENOMEM. *out is NULL on failure. */
int wsr_kcp_home_path(char **out, const wsr_kcp_home_opts *opts, const char *user, wsr_diag *diag);

#endif
