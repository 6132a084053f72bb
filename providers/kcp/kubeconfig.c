/* kcp/kubeconfig: reading one context of a kubeconfig (see kubeconfig.h).
 * Separate from the provider because it is a file format with its own
 * hostile inputs (sizes, wrong types, unsupported authentication) and is
 * tested on its own, without a server. */
#include "providers/kcp/kubeconfig.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/http.h"
#include "lib/yaml.h"

/* Bytes of a name from the file shown in a message. */
#define SHOWN_MAX 64
/* Names listed in a hint ("contexts in the file: a, b, ..."). */
#define LISTED_MAX 10

typedef struct reader {
	const char *file;
	char *dir; /* relative file names start here */
	wsr_diag *diag;
} reader;

/* A name from the file, safe for a terminal: at most SHOWN_MAX bytes,
 * bytes outside printable ASCII as \xNN. */
static void show(wsr_buf *b, const char *s)
{
	size_t i = 0;
	for (; i < SHOWN_MAX && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			wsr_buf_printf(b, "\\x%02x", c);
		else
			wsr_buf_putc(b, (char)c);
	}
	if (s[i])
		wsr_buf_puts(b, "...");
}

/* An error at node n (the file without a position when n is NULL). Names
 * from the file go through shown() first; values never appear. */
static int fail(const reader *r, const wsr_node *n, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(const reader *r, const wsr_node *n, const char *hint, const char *fmt, ...)
{
	wsr_buf b = WSR_BUF_INIT;
	va_list ap;
	if (!n)
		wsr_buf_printf(&b, "kubeconfig %s: ", r->file);
	va_start(ap, fmt);
	wsr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	wsr_pos pos = n ? wsr_node_pos(n) : (wsr_pos){NULL, 0, 0};
	wsr_diag_add(r->diag, WSR_SEV_ERROR, n ? &pos : NULL, NULL, NULL, hint, "%s",
		     wsr_buf_str(&b));
	wsr_buf_free(&b);
	return WSR_EINVAL;
}

/* "name" of a map entry, shown safely; caller frees. */
static char *shown(const char *s)
{
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_putc(&b, '"');
	show(&b, s);
	wsr_buf_putc(&b, '"');
	return wsr_buf_detach(&b);
}

/* m[key]: NULL when absent or null. */
static const wsr_node *get(const wsr_node *m, const char *key)
{
	const wsr_node *v = wsr_node_get(m, key);
	if (v && v->kind == WSR_NODE_SCALAR && v->plain &&
	    (v->len == 0 || strcmp(v->text, "null") == 0 || strcmp(v->text, "~") == 0))
		return NULL;
	return v;
}

/* m[key] as a string: *out NULL when absent; an error when not a scalar. */
static int str(const reader *r, const wsr_node *m, const char *key, const char **out)
{
	const wsr_node *v = get(m, key);
	*out = NULL;
	if (!v)
		return 0;
	if (v->kind != WSR_NODE_SCALAR)
		return fail(r, v, NULL, "%s must be a string", key);
	*out = v->text;
	return 0;
}

/* The entry of a named list (clusters, contexts, users) called name: *out
 * is its item map (cluster, context, user), NULL when the entry has an
 * empty one. from (may be NULL) is where the name was given, for the
 * error when no entry has it. */
static int find_named(const reader *r, const wsr_node *root, const char *list, const char *item,
		      const char *name, const wsr_node *from, const wsr_node **out)
{
	const wsr_node *seq = get(root, list), *found = NULL;
	wsr_buf names = WSR_BUF_INIT;
	int rc = 0;
	*out = NULL;
	if (seq && seq->kind != WSR_NODE_SEQ)
		return fail(r, seq, NULL, "%s must be a list", list);
	for (size_t i = 0; seq && i < seq->n && !found && !rc; i++) {
		const wsr_node *e = seq->vals[i], *nm = get(e, "name");
		if (e->kind != WSR_NODE_MAP || !nm || nm->kind != WSR_NODE_SCALAR)
			rc = fail(r, e, NULL, "each entry of %s must be a map with a name", list);
		else if (strcmp(nm->text, name) == 0)
			found = e;
		else if (i < LISTED_MAX)
			wsr_buf_puts(&names, names.len ? ", " : "defined: "),
			    show(&names, nm->text);
		else if (i == LISTED_MAX)
			wsr_buf_puts(&names, ", ...");
	}
	const wsr_node *body = found ? get(found, item) : NULL;
	if (!rc && found && body && body->kind != WSR_NODE_MAP)
		rc = fail(r, body, NULL, "%s must be a map", item);
	else if (found)
		*out = body;
	else if (!rc) {
		char *s = shown(name);
		rc = fail(r, from, names.len ? wsr_buf_str(&names) : NULL,
			  "%s %s is not in the kubeconfig's %s", item, s ? s : "", list);
		free(s);
	}
	wsr_buf_free(&names);
	return rc;
}

/* Reads a file the kubeconfig names (relative to its directory) into *out. */
static int read_named(const reader *r, const wsr_node *n, const char *key, char **out, size_t *len)
{
	char *path = wsr_path_join(r->dir, n->text);
	if (!path)
		return WSR_ENOMEM;
	int rc = wsr_fs_read(out, len, path, WSR_KCP_CRED_FILE_MAX);
	if (rc == WSR_ENOTFOUND)
		fail(r, n, NULL, "%s %s does not exist", key, path);
	else if (rc == WSR_ELIMIT)
		fail(r, n, NULL, "%s %s is larger than %u bytes", key, path, WSR_KCP_CRED_FILE_MAX);
	else if (rc)
		fail(r, n, NULL, "%s %s cannot be read (not a readable regular file)", key, path);
	free(path);
	return rc == WSR_ENOMEM ? rc : rc ? WSR_EINVAL : 0;
}

/* base64 (as kubeconfigs carry *-data) into a new NUL-terminated string. */
static int decode(const reader *r, const wsr_node *n, const char *key, char **out)
{
	*out = NULL;
	if (n->len > INT_MAX)
		return fail(r, n, NULL, "%s is too long", key);
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	unsigned char *buf = malloc(n->len + 4);
	int len = 0, fin = 0, rc = ctx && buf ? 0 : WSR_ENOMEM;
	if (!rc) {
		EVP_DecodeInit(ctx);
		if (EVP_DecodeUpdate(ctx, buf, &len, (const unsigned char *)n->text, (int)n->len) <
			0 ||
		    EVP_DecodeFinal(ctx, buf + len, &fin) != 1)
			rc = fail(r, n, NULL, "%s is not base64", key);
		else if (len + fin == 0)
			rc = fail(r, n, NULL, "%s is empty", key);
	}
	EVP_ENCODE_CTX_free(ctx);
	if (rc) {
		if (buf)
			OPENSSL_cleanse(buf, n->len + 4);
		free(buf);
		return rc;
	}
	buf[len + fin] = '\0';
	*out = (char *)buf;
	return 0;
}

/* A PEM entry: key-data (base64) when present, else the file key names.
 * *out stays NULL when neither is set. */
static int pem(const reader *r, const wsr_node *m, const char *key, wsr_http_pem what, char **out)
{
	char data_key[64];
	snprintf(data_key, sizeof(data_key), "%s-data", key);
	const wsr_node *data = get(m, data_key), *file = get(m, key);
	const wsr_node *n = data ? data : file;
	const char *name = data ? data_key : key;
	size_t len = 0;
	int rc = 0;
	*out = NULL;
	if (!n)
		return 0;
	if (n->kind != WSR_NODE_SCALAR)
		return fail(r, n, NULL, "%s must be a string", name);
	rc = data ? decode(r, n, name, out) : read_named(r, n, name, out, &len);
	if (rc)
		return rc;
	char *why = NULL;
	rc = wsr_http_pem_check(*out, strlen(*out), what, &why);
	if (rc == WSR_EINVAL)
		fail(r, n, NULL, "%s: %s", name, why);
	free(why);
	if (rc) {
		OPENSSL_cleanse(*out, strlen(*out));
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* Refuses each key of m that names something wsr cannot do. */
static int refuse_unsupported(const reader *r, const wsr_node *m, const char *const *keys,
			      const char *const *why, size_t n)
{
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		const wsr_node *k = get(m, keys[i]) ? wsr_node_key(m, keys[i]) : NULL;
		if (k)
			rc = fail(r, k, "use a context with a token or a client certificate",
				  "%s is not supported by wsr: %s", keys[i], why[i]);
	}
	return rc;
}

static int cluster_creds(const reader *r, const wsr_node *cluster, wsr_kcp_creds *out)
{
	static const char *const keys[] = {"proxy-url", "tls-server-name"};
	static const char *const why[] = {"wsr connects to the server directly",
					  "wsr checks the certificate against the server's host"};
	const char *server;
	const wsr_node *skip = get(cluster, "insecure-skip-tls-verify");
	int rc = refuse_unsupported(r, cluster, keys, why, 2);
	if (!rc)
		rc = str(r, cluster, "server", &server);
	if (!rc && !server)
		rc = fail(r, cluster, NULL, "the cluster has no server");
	if (!rc && skip) {
		cJSON *v = wsr_node_to_json(skip);
		if (!cJSON_IsBool(v))
			rc = fail(r, skip, NULL, "insecure-skip-tls-verify must be true or false");
		else if (cJSON_IsTrue(v))
			rc = fail(r, skip,
				  "give the server's CA in certificate-authority(-data) instead",
				  "insecure-skip-tls-verify: true is refused: wsr never skips TLS "
				  "verification");
		cJSON_Delete(v);
	}
	if (!rc && !(out->server = strdup(server)))
		rc = WSR_ENOMEM;
	if (!rc)
		wsr_kcp_server_root(out->server);
	if (!rc)
		rc = pem(r, cluster, "certificate-authority", WSR_HTTP_PEM_CERTS, &out->ca_pem);
	return rc;
}

static int user_token(const reader *r, const wsr_node *user, wsr_kcp_creds *out)
{
	const wsr_node *tok = get(user, "token"), *file = get(user, "tokenFile");
	const wsr_node *n = file ? file : tok;
	size_t len = 0;
	if (!n)
		return 0;
	if (n->kind != WSR_NODE_SCALAR)
		return fail(r, n, NULL, "%s must be a string", file ? "tokenFile" : "token");
	int rc = file ? read_named(r, n, "tokenFile", &out->token, &len)
		      : ((out->token = strdup(n->text)) ? 0 : WSR_ENOMEM);
	if (rc)
		return rc;
	/* a token file ends in a newline more often than not */
	char *t = out->token;
	size_t a = strspn(t, " \t\r\n"), b = strlen(t);
	while (b > a && strchr(" \t\r\n", t[b - 1]))
		b--;
	memmove(t, t + a, b - a);
	t[b - a] = '\0';
	if (!*t)
		rc = fail(r, n, NULL, "%s is empty", file ? "the token file" : "token");
	else if (!wsr_http_header_safe(t))
		rc = fail(r, n, NULL, "%s holds control characters",
			  file ? "the token file" : "token");
	return rc;
}

static int user_creds(const reader *r, const wsr_node *user, wsr_kcp_creds *out)
{
	static const char *const keys[] = {"exec", "auth-provider", "username",	 "password",
					   "as",   "as-uid",	    "as-groups", "as-user-extra"};
	static const char *const why[] = {"wsr runs no credential plugins",
					  "wsr runs no authentication plugins",
					  "basic authentication is not offered",
					  "basic authentication is not offered",
					  "wsr does not impersonate",
					  "wsr does not impersonate",
					  "wsr does not impersonate",
					  "wsr does not impersonate"};
	int rc = refuse_unsupported(r, user, keys, why, sizeof(keys) / sizeof(keys[0]));
	if (!rc)
		rc = user_token(r, user, out);
	if (!rc)
		rc = pem(r, user, "client-certificate", WSR_HTTP_PEM_CERTS, &out->cert_pem);
	if (!rc)
		rc = pem(r, user, "client-key", WSR_HTTP_PEM_KEY, &out->key_pem);
	if (!rc && !out->cert_pem != !out->key_pem)
		rc = fail(r, user, NULL, "the user has a client %s but no client %s",
			  out->cert_pem ? "certificate" : "key",
			  out->cert_pem ? "key" : "certificate");
	return rc;
}

static int load(const reader *r, const wsr_node *root, const char *context, wsr_kcp_creds *out)
{
	const wsr_node *cur = get(root, "current-context"), *ctx, *cluster, *user = NULL;
	const wsr_node *from = NULL; /* where the context's name came from */
	const char *cluster_name, *user_name;
	if (!root || root->kind != WSR_NODE_MAP)
		return fail(r, root, NULL, "a kubeconfig is a map (apiVersion, clusters, ...)");
	if (!context && cur && cur->kind != WSR_NODE_SCALAR)
		return fail(r, cur, NULL, "current-context must be a string");
	if (!context && !cur)
		return fail(r, NULL, "set providers.kcp.context to one of its contexts",
			    "it has no current-context");
	if (!context) {
		context = cur->text;
		from = cur;
	}
	int rc = find_named(r, root, "contexts", "context", context, from, &ctx);
	if (!rc)
		rc = str(r, ctx, "cluster", &cluster_name);
	if (!rc && !cluster_name)
		rc = fail(r, ctx ? ctx : from, NULL, "the context names no cluster");
	if (!rc)
		rc = str(r, ctx, "user", &user_name);
	if (!rc)
		rc = find_named(r, root, "clusters", "cluster", cluster_name, get(ctx, "cluster"),
				&cluster);
	if (!rc && user_name)
		rc = find_named(r, root, "users", "user", user_name, get(ctx, "user"), &user);
	if (!rc && !(out->context = strdup(context)))
		rc = WSR_ENOMEM;
	if (!rc && !cluster)
		rc = fail(r, get(ctx, "cluster"), NULL, "the cluster has no server");
	if (!rc)
		rc = cluster_creds(r, cluster, out);
	if (!rc && user)
		rc = user_creds(r, user, out);
	return rc;
}

int wsr_kcp_kubeconfig_load(wsr_kcp_creds *out, const char *path, const char *context,
			    wsr_diag *diag)
{
	memset(out, 0, sizeof(*out));
	reader r = {path, wsr_path_dirname(path), diag};
	char *text = NULL;
	size_t len = 0;
	wsr_yaml_file f = {0};
	int rc = r.dir ? wsr_fs_read(&text, &len, path, WSR_KCP_KUBECONFIG_MAX) : WSR_ENOMEM;
	if (rc == WSR_ENOTFOUND)
		fail(&r, NULL, "set providers.kcp.kubeconfig, or KUBECONFIG", "it does not exist");
	else if (rc == WSR_ELIMIT)
		fail(&r, NULL, NULL, "it is larger than %u bytes (WSR_KCP_KUBECONFIG_MAX)",
		     WSR_KCP_KUBECONFIG_MAX);
	else if (rc && rc != WSR_ENOMEM)
		fail(&r, NULL, NULL, "it cannot be read (not a readable regular file)");
	if (!rc && (rc = wsr_yaml_parse(&f, path, text, len, diag)) == 0 && !f.ndocs)
		rc = fail(&r, NULL, NULL, "it is empty");
	if (!rc)
		rc = load(&r, f.docs[0].root, context, out);
	if (!rc && !(out->file = strdup(path)))
		rc = WSR_ENOMEM;
	wsr_yaml_file_free(&f);
	if (text) /* the file may hold tokens and keys */
		OPENSSL_cleanse(text, len);
	free(text);
	free(r.dir);
	if (rc) {
		wsr_kcp_creds_free(out);
		return rc == WSR_ENOMEM ? rc : WSR_EINVAL;
	}
	return 0;
}

char *wsr_kcp_kubeconfig_path(const char *configured)
{
	if (configured && *configured)
		return strdup(configured);
	const char *list = getenv("KUBECONFIG");
	while (list && *list) {
		size_t n = strcspn(list, ":");
		if (n)
			return strndup(list, n);
		list++;
	}
	const char *home = getenv("HOME");
	return home && *home ? wsr_strdupf("%s/.kube/config", home) : NULL;
}

void wsr_kcp_server_root(char *url)
{
	const char *scheme = strstr(url, "://");
	char *path = strchr(scheme ? scheme + 3 : url, '/');
	char *c = path ? strstr(path, "/clusters/") : NULL;
	/* only when the rest is one path: no '/' after it but trailing ones */
	if (c &&
	    strspn(c + 10 + strcspn(c + 10, "/"), "/") == strlen(c + 10 + strcspn(c + 10, "/")))
		*c = '\0';
	size_t n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		url[--n] = '\0';
}

void wsr_kcp_creds_free(wsr_kcp_creds *c)
{
	char *secrets[] = {c->token, c->key_pem};
	for (size_t i = 0; i < 2; i++)
		if (secrets[i])
			OPENSSL_cleanse(secrets[i], strlen(secrets[i]));
	free(c->file);
	free(c->context);
	free(c->server);
	free(c->token);
	free(c->ca_pem);
	free(c->cert_pem);
	free(c->key_pem);
	memset(c, 0, sizeof(*c));
}
