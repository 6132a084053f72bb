/* source_git: the Git source of `wsr watch` on libgit2 — a bare cache clone,
 * fetch with force and prune, ref resolution and reading spec blobs from a
 * commit's tree. See source_git.h for the contract.
 *
 * Design notes:
 * - Branches are fetched into refs/remotes/origin/ and never into local
 *   branches, so a stale local branch (git_clone creates one for HEAD) can
 *   never be mistaken for the remote's tip: resolution only looks at
 *   refs/remotes/origin/ and refs/tags/, then at object ids.
 * - The remote's default branch is asked on the connection of every fetch
 *   and kept in memory rather than as refs/remotes/origin/HEAD: a symbolic
 *   ref there falls under the refspec's prune and would need care to keep.
 * - Git sorts tree entries as if directories ended in "/"; the directory
 *   walk sorts plain names byte-wise. Entries are re-sorted here so a commit
 *   and its checkout load in the same order (and report in the same order).
 * - Blob sizes are read from the object header first, so a huge blob is
 *   never inflated into memory just to be refused. */
#include "reconciler/source_git.h"

#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "reconciler/git_stream.h"

#define REFSPEC_HEADS "+refs/heads/*:refs/remotes/origin/*"
#define REFSPEC_TAGS "+refs/tags/*:refs/tags/*"
#define REDACTED "***"
#define MIN_ABBREV 7 /* hex digits of the shortest commit id accepted as a ref */

struct wsr_git {
	git_repository *repo;
	git_remote *origin; /* looked up once: libgit2 1.5 leaks a little on every
			       lookup (its pcre2 wrapper), which a daemon must not
			       repeat every interval */
	char *stored;	    /* the URL without its password: what libgit2 connects to, the
			       cache's origin URL and its name */
	char *shown;	    /* password replaced by REDACTED: what diagnostics print */
	char *user;	    /* user and password from the URL (percent-decoded), or NULL */
	char *password;	    /* NULL when the URL has none */
	char *raw_password; /* as written in the URL, for redaction */
	char *ref, *path, *dir, *token, *username, *ssh_key, *ssh_pub;
	char *default_branch; /* the remote's HEAD branch name, from the last fetch */
	int timeout_s;
	long connect_ms, stall_ms;
	/* per network operation */
	int attempts;
	int64_t deadline_ms; /* 0: none */
	int timed_out;
	wsr_git_bounds bounds; /* what the stream obeys during the operation */
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

/* Never paired with git_libgit2_shutdown: see the header. */
static void init_libgit2(void)
{
	init_rc = git_libgit2_init() < 0 || wsr_git_stream_register() ? -1 : 0;
}

/* ---- secrets out of text ----------------------------------------------- */

/* Replaces every occurrence of secret in b's text by REDACTED. */
static void redact_secret(wsr_buf *b, const char *secret)
{
	if (!secret || !*secret || !b->data)
		return;
	wsr_buf out = WSR_BUF_INIT;
	size_t n = strlen(secret);
	const char *s = b->data, *hit;
	while ((hit = strstr(s, secret))) {
		wsr_buf_add(&out, s, (size_t)(hit - s));
		wsr_buf_puts(&out, REDACTED);
		s = hit + n;
	}
	wsr_buf_puts(&out, s);
	wsr_buf_free(b);
	*b = out;
}

/* Copies text with the password of every "scheme://user:password@" in it
 * replaced by REDACTED (libgit2's messages may quote URLs). */
static void redact_urls(wsr_buf *out, const char *text)
{
	const char *s = text, *sep;
	while ((sep = strstr(s, "://"))) {
		const char *auth = sep + 3;
		size_t span = strcspn(auth, "/?# \t\r\n'\"");
		const char *at = memrchr(auth, '@', span);
		const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (!colon) {
			wsr_buf_add(out, s, (size_t)(auth - s));
			s = auth;
			continue;
		}
		wsr_buf_add(out, s, (size_t)(colon + 1 - s));
		wsr_buf_puts(out, REDACTED);
		s = at;
	}
	wsr_buf_puts(out, s);
}

/* text without any secret this handle knows or any URL password; the
 * caller frees. g may be NULL (only URL passwords are removed then). */
static char *redact(const wsr_git *g, const char *text)
{
	wsr_buf b = WSR_BUF_INIT;
	redact_urls(&b, text);
	if (g) {
		redact_secret(&b, g->token);
		redact_secret(&b, g->password);
		redact_secret(&b, g->raw_password);
	}
	return wsr_buf_detach(&b);
}

/* Adds an error whose text (summary and hint) went through redact(). */
__attribute__((format(printf, 4, 5))) static void fail(const wsr_git *g, wsr_diag *diag,
						       const char *hint, const char *fmt, ...)
{
	wsr_buf b = WSR_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	wsr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	char *summary = redact(g, wsr_buf_str(&b));
	char *h = hint ? redact(g, hint) : NULL;
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, h, "%s",
		     summary ? summary : "out of memory");
	free(h);
	free(summary);
	wsr_buf_free(&b);
}

/* libgit2's last error message (never NULL). */
static const char *git_msg(void)
{
	const git_error *e = git_error_last();
	return e && e->message ? e->message : "unknown error";
}

/* ---- the URL ----------------------------------------------------------- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* n bytes of s with %XX decoded, as a new string. */
static char *percent_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			*o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* Splits "scheme://user:password@host/..." into the URL without the
 * password (g->stored), the one to show (g->shown), and the user and
 * password for the credential callback: libgit2 never sees the password in
 * a URL, so it cannot end up in the cache's config or in an error message.
 * Other URLs are kept as they are. */
static int split_url(wsr_git *g, const char *u)
{
	const char *sep = strstr(u, "://");
	const char *auth = sep ? sep + 3 : NULL;
	size_t span = auth ? strcspn(auth, "/?#") : 0;
	const char *at = auth ? memrchr(auth, '@', span) : NULL;
	const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (!colon) {
		g->stored = strdup(u);
		g->shown = strdup(u);
		return g->stored && g->shown ? 0 : WSR_ENOMEM;
	}
	int ulen = (int)(colon - u), plen = (int)(at - colon - 1);
	g->stored = wsr_strdupf("%.*s%s", ulen, u, at);
	g->shown = wsr_strdupf("%.*s:%s%s", ulen, u, REDACTED, at);
	g->user = percent_decode(auth, (size_t)(colon - auth));
	g->password = percent_decode(colon + 1, (size_t)plen);
	g->raw_password = wsr_strdupf("%.*s", plen, colon + 1);
	return g->stored && g->shown && g->user && g->password && g->raw_password ? 0 : WSR_ENOMEM;
}

/* ---- libgit2 callbacks --------------------------------------------------- */

static int credentials(git_credential **out, const char *url, const char *user_from_url,
		       unsigned int allowed, void *payload)
{
	(void)url;
	wsr_git *g = payload;
	if (++g->attempts > WSR_GIT_MAX_AUTH_ATTEMPTS) {
		git_error_set_str(GIT_ERROR_NET, "authentication failed: the server refused the "
						 "credentials");
		return GIT_EAUTH;
	}
	const char *user = user_from_url && *user_from_url ? user_from_url : "git";
	if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
		if (g->token)
			return git_credential_userpass_plaintext_new(
			    out, g->username ? g->username : "x-access-token", g->token);
		if (g->password)
			return git_credential_userpass_plaintext_new(out, g->user, g->password);
	}
	if (allowed & GIT_CREDENTIAL_SSH_KEY) {
		if (g->ssh_key)
			return git_credential_ssh_key_new(out, user, g->ssh_pub, g->ssh_key, NULL);
		return git_credential_ssh_key_from_agent(out, user);
	}
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user);
	git_error_set_str(GIT_ERROR_NET, "the server asks for credentials and none are configured");
	return GIT_EAUTH;
}

/* libgit2 1.5 has no socket timeout: the deadline is checked whenever it
 * reports progress, which it does while data arrives. */
static int past_deadline(wsr_git *g)
{
	if (!g->deadline_ms || wsr_clock_mono_ms() < g->deadline_ms)
		return 0;
	g->timed_out = 1;
	git_error_set_str(GIT_ERROR_NET, "the transfer took longer than its time limit");
	return GIT_EUSER;
}

static int on_transfer(const git_indexer_progress *stats, void *payload)
{
	(void)stats;
	return past_deadline(payload);
}

static int on_sideband(const char *str, int len, void *payload)
{
	(void)str;
	(void)len;
	return past_deadline(payload);
}

/* Callbacks for one network operation, its counters reset. */
static void begin_op(wsr_git *g, git_remote_callbacks *cb)
{
	git_remote_init_callbacks(cb, GIT_REMOTE_CALLBACKS_VERSION);
	cb->credentials = credentials;
	cb->transfer_progress = on_transfer;
	cb->sideband_progress = on_sideband;
	cb->payload = g;
	g->attempts = 0;
	g->timed_out = 0;
	g->deadline_ms = g->timeout_s > 0 ? wsr_clock_mono_ms() + (int64_t)g->timeout_s * 1000 : 0;
	g->bounds = (wsr_git_bounds){
	    .deadline_ms = g->deadline_ms, .connect_ms = g->connect_ms, .stall_ms = g->stall_ms};
	wsr_git_stream_bounds(&g->bounds);
}

/* The operation begun by begin_op is over: the stream's bounds go. */
static void end_op(wsr_git *g)
{
	(void)g;
	wsr_git_stream_bounds(NULL);
}

/* Why a network operation failed, for people. */
static const char *net_hint(const wsr_git *g)
{
	if (g->timed_out || g->bounds.timed_out)
		return "the Git server did not answer in time; if it is only slow, raise "
		       "watch.git.timeout in wsr.yaml";
	if (g->attempts > WSR_GIT_MAX_AUTH_ATTEMPTS)
		return "check the token (watch.git.tokenEnv / tokenFile) or the ssh key "
		       "(watch.git.sshKeyFile)";
	return "check the URL, the network and the credentials";
}

/* ---- the cache ----------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* rm -rf of a cache subdirectory (never follows symbolic links). */
static int remove_tree(const char *dir)
{
	return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The clone's origin: the URL without its password, and both refspecs. */
static int create_remote(git_remote **out, git_repository *repo, const char *name, const char *url,
			 void *payload)
{
	(void)url;
	wsr_git *g = payload;
	git_remote *r = NULL;
	int rc = git_remote_create_with_fetchspec(&r, repo, name, g->stored, REFSPEC_HEADS);
	git_remote_free(r);
	if (rc == 0)
		rc = git_remote_add_fetch(repo, name, REFSPEC_TAGS);
	if (rc == 0)
		rc = git_remote_lookup(out, repo, name);
	return rc;
}

static void proxy_auto(git_proxy_options *p)
{
	git_proxy_options_init(p, GIT_PROXY_OPTIONS_VERSION);
	p->type = GIT_PROXY_AUTO; /* http.proxy or the *_proxy variables, as git does */
}

static int clone_cache(wsr_git *g, wsr_diag *diag)
{
	git_clone_options co;
	git_clone_options_init(&co, GIT_CLONE_OPTIONS_VERSION);
	co.bare = 1;
	co.remote_cb = create_remote;
	co.remote_cb_payload = g;
	begin_op(g, &co.fetch_opts.callbacks);
	proxy_auto(&co.fetch_opts.proxy_opts);
	co.fetch_opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE; /* the refspec has them */
	co.fetch_opts.update_fetchhead = 0;
	int rc = git_clone(&g->repo, g->stored, g->dir, &co);
	end_op(g);
	if (rc == 0 && git_remote_lookup(&g->origin, g->repo, "origin") == 0)
		return 0;
	fail(g, diag, net_hint(g), "cannot clone %s: %s", g->shown, git_msg());
	git_repository_free(g->repo);
	g->repo = NULL;
	remove_tree(g->dir); /* a half clone must not look like a cache */
	return WSR_EIO;
}

/* 1 when the cached repository opens and its origin is this URL. */
static int cache_usable(wsr_git *g)
{
	int ok = git_repository_open_ext(&g->repo, g->dir,
					 GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE,
					 NULL) == 0 &&
		 git_repository_is_bare(g->repo) &&
		 git_remote_lookup(&g->origin, g->repo, "origin") == 0 &&
		 strcmp(git_remote_url(g->origin), g->stored) == 0;
	if (!ok) {
		git_remote_free(g->origin);
		g->origin = NULL;
		git_repository_free(g->repo);
		g->repo = NULL;
	}
	return ok;
}

/* "a//b/./c/" -> "a/b/c"; "" for the root. */
static char *clean_path(const char *p)
{
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_puts(&b, "");
	while (p && *p) {
		size_t n = strcspn(p, "/");
		if (n && !(n == 1 && p[0] == '.')) {
			if (b.len)
				wsr_buf_putc(&b, '/');
			wsr_buf_add(&b, p, n);
		}
		p += n + (p[n] == '/');
	}
	return wsr_buf_detach(&b);
}

static char *dup_or_null(const char *s, int *oom)
{
	char *d = s ? strdup(s) : NULL;
	if (s && !d)
		*oom = 1;
	return d;
}

int wsr_git_open(wsr_git **out, const wsr_git_opts *o, wsr_diag *diag)
{
	*out = NULL;
	if (!o || !o->url || !*o->url || !o->cache_dir || !*o->cache_dir) {
		wsr_diag_error(diag, NULL, "a Git source needs a URL and a cache directory");
		return WSR_EINVAL;
	}
	pthread_once(&init_once, init_libgit2);
	if (init_rc != 0) {
		wsr_diag_error(diag, NULL, "cannot initialise libgit2: %s", git_msg());
		return WSR_EIO;
	}
	wsr_git *g = calloc(1, sizeof(*g));
	if (!g)
		return WSR_ENOMEM;
	int oom = 0;
	g->ref = o->ref && *o->ref ? dup_or_null(o->ref, &oom) : NULL;
	g->path = clean_path(o->path);
	g->token = o->token && *o->token ? dup_or_null(o->token, &oom) : NULL;
	g->username = dup_or_null(o->username, &oom);
	g->ssh_key = dup_or_null(o->ssh_key, &oom);
	g->timeout_s = o->timeout_s;
	g->connect_ms = o->connect_ms > 0 ? o->connect_ms : WSR_GIT_CONNECT_MS;
	g->stall_ms = o->stall_ms > 0 ? o->stall_ms : WSR_GIT_STALL_MS;
	if (oom || !g->path || split_url(g, o->url) != 0) {
		wsr_git_free(g);
		return WSR_ENOMEM;
	}
	if (g->ssh_key) {
		g->ssh_pub = wsr_strdupf("%s.pub", g->ssh_key);
		if (g->ssh_pub && access(g->ssh_pub, F_OK) != 0) {
			free(g->ssh_pub); /* libgit2 derives the public key from the private one */
			g->ssh_pub = NULL;
		}
	}
	/* The cache is named by the URL without its password: a rotated
	 * password keeps its cache, and no secret appears in a file name. */
	git_oid id;
	char hex[GIT_OID_HEXSZ + 1];
	git_odb_hash(&id, g->stored, strlen(g->stored), GIT_OBJECT_BLOB);
	git_oid_tostr(hex, sizeof(hex), &id);
	g->dir = wsr_path_join(o->cache_dir, hex);
	if (!g->dir) {
		wsr_git_free(g);
		return WSR_ENOMEM;
	}
	int rc = wsr_fs_mkdirs(o->cache_dir, 0700);
	if (rc != 0) {
		fail(g, diag, NULL, "cannot create the Git cache directory %s: %s", o->cache_dir,
		     wsr_strerror(rc));
		wsr_git_free(g);
		return WSR_EIO;
	}
	struct stat st;
	if (lstat(g->dir, &st) == 0 && !cache_usable(g) && remove_tree(g->dir) != 0) {
		fail(g, diag, "remove it by hand",
		     "the cached clone %s is unusable and cannot be removed", g->dir);
		wsr_git_free(g);
		return WSR_EIO;
	}
	if (!g->repo && (rc = clone_cache(g, diag)) != 0) {
		wsr_git_free(g);
		return rc;
	}
	*out = g;
	return 0;
}

/* ---- fetch and resolve ------------------------------------------------- */

/* Remembers the branch the remote's HEAD names (kept when it does not say). */
static void remember_default_branch(wsr_git *g, git_remote *remote)
{
	git_buf b = {0};
	if (git_remote_default_branch(&b, remote) == 0 && b.ptr &&
	    strncmp(b.ptr, "refs/heads/", 11) == 0) {
		char *name = strdup(b.ptr + 11);
		if (name) {
			free(g->default_branch);
			g->default_branch = name;
		}
	}
	git_buf_dispose(&b);
}

/* The commit refname peels to: 0, GIT_ENOTFOUND (no such ref), or 1 (the
 * ref exists but does not lead to a commit). */
static int peel_ref(git_oid *oid, git_repository *repo, const char *refname)
{
	git_reference *ref = NULL;
	git_object *obj = NULL;
	int rc = git_reference_lookup(&ref, repo, refname);
	if (rc != 0) {
		git_reference_free(ref);
		return GIT_ENOTFOUND;
	}
	rc = git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) == 0 ? 0 : 1;
	if (rc == 0)
		git_oid_cpy(oid, git_object_id(obj));
	git_object_free(obj);
	git_reference_free(ref);
	return rc;
}

/* Tries refs/remotes/origin/<branch>: 0 found, else not. */
static int try_branch(git_oid *oid, git_repository *repo, const char *branch)
{
	char *name = wsr_strdupf("refs/remotes/origin/%s", branch);
	int rc = name ? peel_ref(oid, repo, name) : GIT_ENOTFOUND;
	free(name);
	return rc;
}

static int all_hex(const char *s)
{
	for (; *s; s++)
		if (hexval((unsigned char)*s) < 0)
			return 0;
	return 1;
}

/* ref as an object id (full or abbreviated), peeled to a commit. */
static int resolve_id(wsr_git *g, git_oid *oid, wsr_diag *diag)
{
	size_t n = strlen(g->ref);
	git_oid prefix;
	git_object *obj = NULL, *commit = NULL;
	git_oid_fromstrn(&prefix, g->ref, n);
	int rc = git_object_lookup_prefix(&obj, g->repo, &prefix, n, GIT_OBJECT_ANY);
	if (rc == GIT_EAMBIGUOUS) {
		fail(g, diag, "write more digits of the commit id",
		     "ref '%s' is ambiguous: several objects of %s start with it", g->ref,
		     g->shown);
		return WSR_EINVAL;
	}
	if (rc == 0 && git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) == 0)
		git_oid_cpy(oid, git_object_id(commit));
	git_object_free(obj);
	git_object_free(commit);
	if (rc == 0 && commit)
		return 0;
	fail(g, diag,
	     "use a branch, a tag or a commit id (at least 7 hex digits) of the repository",
	     rc == 0 ? "ref '%s' in %s is not a commit" : "ref '%s' not found in %s", g->ref,
	     g->shown);
	return WSR_ENOTFOUND;
}

static int resolve(wsr_git *g, git_oid *oid, wsr_diag *diag)
{
	if (!g->ref) {
		const char *names[] = {g->default_branch, "main", "master"};
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (names[i] && try_branch(oid, g->repo, names[i]) == 0)
				return 0;
		fail(g, diag, "name the branch to follow with --ref",
		     "%s has no default branch to follow (no HEAD, main or master)", g->shown);
		return WSR_ENOTFOUND;
	}
	int rc;
	if (strncmp(g->ref, "refs/heads/", 11) == 0)
		rc = try_branch(oid, g->repo, g->ref + 11);
	else if (strncmp(g->ref, "refs/tags/", 10) == 0)
		rc = peel_ref(oid, g->repo, g->ref);
	else if ((rc = try_branch(oid, g->repo, g->ref)) == GIT_ENOTFOUND) {
		char *tag = wsr_strdupf("refs/tags/%s", g->ref);
		rc = tag ? peel_ref(oid, g->repo, tag) : GIT_ENOTFOUND;
		free(tag);
	}
	if (rc == 0)
		return 0;
	if (rc == GIT_ENOTFOUND) {
		size_t n = strlen(g->ref);
		if (n >= MIN_ABBREV && n <= GIT_OID_HEXSZ && all_hex(g->ref))
			return resolve_id(g, oid, diag);
		fail(g, diag, "use a branch, a tag or a commit id (at least 7 hex digits)",
		     "ref '%s' not found in %s (no such branch or tag)", g->ref, g->shown);
		return WSR_ENOTFOUND;
	}
	fail(g, diag, "point the ref at a commit", "ref '%s' in %s does not lead to a commit",
	     g->ref, g->shown);
	return WSR_ENOTFOUND;
}

int wsr_git_fetch(wsr_git *g, char rev[41], wsr_diag *diag)
{
	rev[0] = '\0';
	git_remote *remote = g->origin;
	git_remote_callbacks cb;
	git_proxy_options proxy;
	begin_op(g, &cb);
	proxy_auto(&proxy);
	/* Connected first so the remote's HEAD can be asked on the same connection. */
	int rc = git_remote_connect(remote, GIT_DIRECTION_FETCH, &cb, &proxy, NULL);
	if (rc == 0)
		remember_default_branch(g, remote);
	if (rc == 0) {
		char *specs[] = {REFSPEC_HEADS, REFSPEC_TAGS};
		git_strarray refspecs = {specs, 2};
		git_fetch_options fo;
		git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
		fo.callbacks = cb;
		fo.proxy_opts = proxy;
		fo.prune = GIT_FETCH_PRUNE;
		fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE; /* the refspec has them */
		fo.update_fetchhead = 0;
		rc = git_remote_fetch(remote, &refspecs, &fo, "wsr: fetch");
	}
	end_op(g);
	if (rc != 0) {
		fail(g, diag, net_hint(g), "cannot fetch %s: %s", g->shown, git_msg());
		git_remote_disconnect(remote); /* when connect worked and the fetch did not */
		return WSR_EIO;
	}
	git_oid oid;
	if ((rc = resolve(g, &oid, diag)) != 0)
		return rc;
	git_oid_tostr(rev, 41, &oid);
	return 0;
}

/* ---- reading a commit's tree ------------------------------------------ */

typedef struct reader {
	wsr_git *g;
	wsr_spec_files *files;
	wsr_diag *diag;
	git_tree *root; /* the commit's whole tree: where link targets are looked up */
	size_t added;
	int rc; /* first hard failure (WSR_ENOMEM, WSR_EIO) */
	int problems;
} reader;

static void problem(reader *r, const char *path, const char *detail, const char *hint,
		    const char *msg)
{
	wsr_pos pos = {path, 1, 1};
	wsr_diag_add(r->diag, WSR_SEV_ERROR, &pos, NULL, detail, hint, "%s", msg);
	r->problems = 1;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(git_tree_entry_name(*(const git_tree_entry *const *)a),
		      git_tree_entry_name(*(const git_tree_entry *const *)b));
}

/* "dir" + "/" + "name" with "" meaning the top. */
static char *join(const char *dir, const char *name)
{
	return *dir ? wsr_strdupf("%s/%s", dir, name) : strdup(name);
}

/* The link target of the blob, resolved against the repository directory
 * dir ("a/b" for a link in a/b/) and normalised; NULL when it leaves the
 * repository or is absolute. */
static char *link_target(const char *dir, const char *target, size_t len)
{
	if (len && target[0] == '/')
		return NULL;
	char *joined = wsr_strdupf("%s%s%.*s", dir, *dir ? "/" : "", (int)len, target);
	if (!joined)
		return NULL;
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_puts(&b, "");
	int outside = 0;
	for (const char *p = joined; *p && !outside;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			char *slash = b.len ? strrchr(b.data, '/') : NULL;
			if (!b.len)
				outside = 1;
			b.len = slash ? (size_t)(slash - b.data) : 0;
			if (b.data)
				b.data[b.len] = '\0';
		} else if (n && !(n == 1 && p[0] == '.')) {
			if (b.len)
				wsr_buf_putc(&b, '/');
			wsr_buf_add(&b, p, n);
		}
		p += n + (p[n] == '/');
	}
	free(joined);
	if (outside) {
		wsr_buf_free(&b);
		return NULL;
	}
	return wsr_buf_detach(&b);
}

/* The size of the entry's blob, from its header (the blob stays packed). */
static int blob_size(reader *r, const git_tree_entry *e, size_t *size)
{
	git_odb *odb = NULL;
	git_object_t type;
	int rc = git_repository_odb(&odb, r->g->repo);
	if (rc == 0)
		rc = git_odb_read_header(size, &type, odb, git_tree_entry_id(e));
	git_odb_free(odb);
	return rc;
}

/* What a link entry points to, as written in the commit; NULL when it
 * cannot be read or is longer than any real path. */
static char *link_text(reader *r, const git_tree_entry *e)
{
	git_blob *blob = NULL;
	size_t size = 0;
	if (blob_size(r, e, &size) != 0 || size > PATH_MAX ||
	    git_blob_lookup(&blob, r->g->repo, git_tree_entry_id(e)) != 0)
		return NULL;
	char *text = wsr_strdupf("%.*s", (int)size, (const char *)git_blob_rawcontent(blob));
	git_blob_free(blob);
	return text;
}

/* 1 when a link in rel_dir (below the spec path) that points to text
 * leads to a directory of the commit. */
static int link_to_dir(reader *r, const char *rel_dir, const char *text)
{
	/* the link's directory, from the repository root */
	char *dir = *r->g->path ? (*rel_dir ? wsr_strdupf("%s/%s", r->g->path, rel_dir)
					    : strdup(r->g->path))
				: strdup(rel_dir);
	char *target = dir && text ? link_target(dir, text, strlen(text)) : NULL;
	git_tree_entry *at = NULL;
	int is_dir = 0;
	if (target && !*target)
		is_dir = 1; /* the repository root itself */
	else if (target && git_tree_entry_bypath(&at, r->root, target) == 0)
		is_dir = git_tree_entry_type(at) == GIT_OBJECT_TREE;
	git_tree_entry_free(at);
	free(target);
	free(dir);
	return is_dir;
}

static void add_blob(reader *r, const git_tree_entry *e, const char *path)
{
	size_t size = 0;
	git_blob *blob = NULL;
	int rc = blob_size(r, e, &size);
	if (rc == 0 && size > WSR_LOAD_MAX_FILE) {
		rc = wsr_spec_files_add(r->files, path, NULL, size);
	} else if (rc == 0 &&
		   (rc = git_blob_lookup(&blob, r->g->repo, git_tree_entry_id(e))) == 0) {
		rc = wsr_spec_files_add(r->files, path, git_blob_rawcontent(blob),
					(size_t)git_blob_rawsize(blob));
	} else {
		fail(r->g, r->diag, "the cache may be damaged; remove it to clone again",
		     "cannot read %s from the Git cache: %s", path, git_msg());
		rc = WSR_EIO;
	}
	git_blob_free(blob);
	if (rc == WSR_ENOMEM || rc == WSR_EIO)
		r->rc = rc;
	else
		r->added++;
}

static void walk(reader *r, const git_tree *tree, const char *dir, int depth);

static void visit(reader *r, const git_tree_entry *e, const char *dir, int depth)
{
	const char *name = git_tree_entry_name(e);
	char *path = join(dir, name);
	if (!path) {
		r->rc = WSR_ENOMEM;
		return;
	}
	int spec = wsr_load_is_spec(path, depth == 0);
	switch (git_tree_entry_filemode(e)) {
	case GIT_FILEMODE_TREE: {
		git_tree *sub = NULL;
		if (depth + 1 > WSR_GIT_MAX_DEPTH) {
			problem(r, path, NULL, "move the specs up",
				"directories nested deeper than 256 (WSR_GIT_MAX_DEPTH) are not "
				"read");
		} else if (git_tree_lookup(&sub, r->g->repo, git_tree_entry_id(e)) == 0) {
			walk(r, sub, path, depth + 1);
		} else {
			fail(r->g, r->diag, NULL, "cannot read %s from the Git cache: %s", path,
			     git_msg());
			r->rc = WSR_EIO;
		}
		git_tree_free(sub);
		break;
	}
	case GIT_FILEMODE_LINK: {
		char *text = link_text(r, e);
		char *detail = text ? wsr_strdupf("it points to %s", text) : NULL;
		if (spec || link_to_dir(r, dir, text))
			problem(r, path, detail, "commit the file itself instead of a link to it",
				"symbolic links are not followed in a Git source");
		free(detail);
		free(text);
		break;
	}
	case GIT_FILEMODE_BLOB:
	case GIT_FILEMODE_BLOB_EXECUTABLE:
		if (spec)
			add_blob(r, e, path);
		break;
	default: /* submodules (GIT_FILEMODE_COMMIT): not part of this commit's content */
		break;
	}
	free(path);
}

static void walk(reader *r, const git_tree *tree, const char *dir, int depth)
{
	size_t n = git_tree_entrycount(tree), k = 0;
	const git_tree_entry **v = n ? malloc(n * sizeof(*v)) : NULL;
	if (n && !v) {
		r->rc = WSR_ENOMEM;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		if (git_tree_entry_name(e)[0] != '.') /* .git*, .wsr/, .hidden/ */
			v[k++] = e;
	}
	qsort(v, k, sizeof(*v), by_name);
	for (size_t i = 0; i < k && !r->rc && r->added <= WSR_LOAD_MAX_FILES; i++)
		visit(r, v[i], dir, depth);
	free(v);
}

int wsr_git_read(wsr_git *g, const char *rev, wsr_spec_files *files, wsr_diag *diag)
{
	git_oid oid;
	if (!rev || strlen(rev) != GIT_OID_HEXSZ || !all_hex(rev) || git_oid_fromstr(&oid, rev)) {
		wsr_diag_error(diag, NULL, "'%.64s' is not a commit id (40 hex digits)",
			       rev ? rev : "(null)");
		return WSR_EINVAL;
	}
	git_commit *commit = NULL;
	git_tree *root = NULL, *top = NULL;
	git_tree_entry *at = NULL;
	int rc = 0;
	if (git_commit_lookup(&commit, g->repo, &oid) != 0) {
		fail(g, diag, "fetch again; the commit may have been force-pushed away",
		     "commit %s of %s is not in the Git cache", rev, g->shown);
		return WSR_ENOTFOUND;
	}
	if (git_commit_tree(&root, commit) != 0) {
		fail(g, diag, NULL, "cannot read the tree of commit %s: %s", rev, git_msg());
		rc = WSR_EIO;
	} else if (!*g->path) {
		rc = git_tree_dup(&top, root) == 0 ? 0 : WSR_ENOMEM;
	} else if (git_tree_entry_bypath(&at, root, g->path) != 0 ||
		   git_tree_entry_type(at) != GIT_OBJECT_TREE) {
		fail(g, diag, "check --path: it is relative to the repository's root",
		     at ? "path '%s' is not a directory in commit %.12s of %s"
			: "path '%s' does not exist in commit %.12s of %s",
		     g->path, rev, g->shown);
		rc = WSR_ENOTFOUND;
	} else if (git_tree_lookup(&top, g->repo, git_tree_entry_id(at)) != 0) {
		fail(g, diag, NULL, "cannot read %s in commit %s: %s", g->path, rev, git_msg());
		rc = WSR_EIO;
	}
	if (rc == 0) {
		reader r = {g, files, diag, root, 0, 0, 0};
		walk(&r, top, "", 0);
		rc = r.rc ? r.rc : r.problems ? WSR_EINVAL : 0;
	}
	git_tree_entry_free(at);
	git_tree_free(top);
	git_tree_free(root);
	git_commit_free(commit);
	return rc;
}

const char *wsr_git_url(const wsr_git *g)
{
	return g->shown;
}

void wsr_git_free(wsr_git *g)
{
	if (!g)
		return;
	git_remote_free(g->origin);
	git_repository_free(g->repo);
	if (g->token) /* secrets do not linger in freed memory */
		explicit_bzero(g->token, strlen(g->token));
	if (g->password)
		explicit_bzero(g->password, strlen(g->password));
	if (g->raw_password)
		explicit_bzero(g->raw_password, strlen(g->raw_password));
	char *strs[] = {g->stored,  g->shown,	g->user,	  g->password, g->raw_password,
			g->ref,	    g->path,	g->dir,		  g->token,    g->username,
			g->ssh_key, g->ssh_pub, g->default_branch};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(strs[i]);
	free(g);
}
