/* source_git: the Git source of `wsr watch` (libgit2). Keeps a bare clone
 * of one repository in a cache directory, fetches it, resolves the ref to
 * follow to a commit, and reads that commit's spec files straight from its
 * tree (no checkout, no work tree) into a wsr_spec_files list that the
 * loader parses exactly as it parses a directory.
 *
 * It is separate from the loader because it is the one place wsr speaks
 * Git: credentials, caching, refs and force-pushes stay here, and the loader
 * keeps knowing only files.
 *
 * libgit2 is initialised once per process (pthread_once) and never shut
 * down: its global state lives until exit, so any number of wsr_git handles
 * may come and go without counting references. One wsr_git is used from one
 * thread at a time (libgit2 objects are not shared between threads).
 *
 * Secrets: the token and any password written in the URL ("user:pass@") are
 * never printed and never stored on disk. The cache's origin URL is the URL
 * without the password; the password is handed to libgit2 through the
 * credential callback. Every diagnostic is passed through redaction. */
#ifndef WSR_RECONCILER_SOURCE_GIT_H
#define WSR_RECONCILER_SOURCE_GIT_H

#include "lib/diag.h"
#include "reconciler/load.h"

/* Directories nested deeper than this below the spec path are reported,
 * not read: a hostile commit must not exhaust the stack. */
#define WSR_GIT_MAX_DEPTH 256

/* Credential callback attempts per network operation before giving up
 * (libgit2 asks again forever while the server refuses). */
#define WSR_GIT_MAX_AUTH_ATTEMPTS 3

typedef struct wsr_git wsr_git;

typedef struct wsr_git_opts {
	const char *url;  /* file://, git://, https://, ssh:// (scp-like user@host:path too) */
	const char *ref;  /* branch, tag or commit (full or >= 7 hex); NULL: the remote's HEAD */
	const char *path; /* subdirectory of the repository holding the specs; NULL or "": root */
	const char *cache_dir; /* where the bare clone lives (created; one subdirectory per URL,
				  named by `printf %s URL | git hash-object --stdin` of the URL
				  without its password) */
	const char *token; /* https token (already read from env/file by the caller); may be NULL */
	const char *username; /* for the token; NULL: "x-access-token" */
	const char *ssh_key;  /* private key file for ssh; may be NULL (then ssh-agent) */
	int timeout_s;	      /* the longest network operation (clone, fetch); 0: none */
	long connect_ms;      /* the longest connection; 0: WSR_GIT_CONNECT_MS */
	long stall_ms;	      /* the longest silence of the server; 0: WSR_GIT_STALL_MS */
} wsr_git_opts;

/* Defaults of the bounds below: a connection is quick or not coming, and
 * a server that sends nothing for half a minute is not going to. */
#define WSR_GIT_CONNECT_MS 10000L
/* The longest watch.git.timeout accepted, in seconds: an hour. */
#define WSR_GIT_MAX_TIMEOUT_S 3600
#define WSR_GIT_STALL_MS 30000L

/**
 * Opens the bare cache repository of o->url under o->cache_dir, cloning it
 * the first time. A cached repository that cannot be opened (corrupt, half
 * cloned) or whose origin is another URL is removed and cloned again.
 * Every string of o is copied; o may be freed after the call.
 *
 * Bounded waits: libgit2 1.5 has no socket timeouts, so wsr's own TCP
 * stream (reconciler/git_stream.h) waits in poll(): connecting may take
 * connect_ms, the server may stay silent for stall_ms, and a clone or
 * fetch ends after timeout_s in all, also checked in libgit2's progress
 * callbacks. A server that accepts and never answers is reported after
 * stall_ms (or timeout_s if shorter), naming the bound.
 *
 * @param out the handle (NULL on failure); free with wsr_git_free
 * @param o options; url and cache_dir are required
 * @param diag receives what went wrong (URLs redacted, never the token)
 * @return 0, WSR_EINVAL (bad options), WSR_EIO (clone failed: network,
 *         authentication, no such repository; or the cache directory could
 *         not be written), WSR_ENOMEM
 */
int wsr_git_open(wsr_git **out, const wsr_git_opts *o, wsr_diag *diag);

/**
 * Fetches the repository (branches into refs/remotes/origin/, tags into
 * refs/tags/, force-updating both so a force-pushed branch or a moved tag is
 * followed, pruning what the remote deleted) and resolves the ref to a
 * commit. Resolution order: refs/remotes/origin/<ref>, refs/tags/<ref>
 * (peeled to its commit), then a commit id (40 hex, or at least 7 hex that
 * name one object). "refs/heads/<b>" and "refs/tags/<t>" are accepted as
 * spelled. A NULL ref follows the remote's default branch (its HEAD, or
 * main, then master, when the server does not say).
 *
 * @param g the handle
 * @param rev receives the commit id: 40 hex digits and a NUL ("" on failure)
 * @param diag receives what went wrong
 * @return 0; WSR_ENOTFOUND when the ref does not exist (any more) or names
 *         no commit, the diagnostic naming the ref (the caller keeps its last
 *         good revision); WSR_EINVAL when an abbreviation is ambiguous;
 *         WSR_EIO when the fetch failed (network, authentication, timeout);
 *         WSR_ENOMEM
 */
int wsr_git_fetch(wsr_git *g, char rev[41], wsr_diag *diag);

/**
 * Reads the spec files of commit rev below the handle's path from the
 * commit's tree into files, with paths relative to that path
 * ("team-a/web.yaml"), in the order the directory walk uses (entries
 * sorted byte-wise by name, depth first). The rules are the directory
 * loader's: only names wsr_load_is_spec() accepts (wsr.yaml at the root
 * skipped), entries whose name starts with "." skipped (directories too),
 * blobs larger than WSR_LOAD_MAX_FILE added with text NULL (wsr_load_files
 * then reports them), at most WSR_LOAD_MAX_FILES + 1 files added (so the
 * loader reports the excess), submodules skipped.
 *
 * Symbolic links are not followed: a link with a spec's name, or one that
 * points to a directory of the commit, is an error at "<path>:1:1"
 * ("symbolic links are not followed in a Git source"); other links are
 * skipped like other non-spec files. Directories nested deeper than
 * WSR_GIT_MAX_DEPTH are an error at their path.
 *
 * @param g the handle
 * @param rev a commit id as wsr_git_fetch returned it (40 hex)
 * @param files receives the files (appended; the caller frees)
 * @param diag receives the problems found
 * @return 0; WSR_EINVAL when a problem was reported (files then holds every
 *         other spec, so the caller can load them and report all at once)
 *         or rev is not 40 hex; WSR_ENOTFOUND when the commit is not in the
 *         cache or the path does not exist in it (or is not a directory);
 *         WSR_EIO when the cache cannot be read; WSR_ENOMEM
 */
int wsr_git_read(wsr_git *g, const char *rev, wsr_spec_files *files, wsr_diag *diag);

/* The URL as it may be shown (a password replaced by "***"); owned by g. */
const char *wsr_git_url(const wsr_git *g);

/* Closes the repository (the cache stays on disk) and frees g. NULL is fine. */
void wsr_git_free(wsr_git *g);
#endif
