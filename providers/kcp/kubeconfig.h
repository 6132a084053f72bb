/* kcp/kubeconfig: the server and credentials of one kubeconfig context, as
 * kubectl reads them, for the kcp provider's `endpoint: kubeconfig`. Only
 * static credentials are taken (a token, a token file, a client
 * certificate); everything that would run a program, skip TLS
 * verification, impersonate someone or detour through a proxy is refused
 * with a message saying so, because wsr cannot honour it and silently
 * ignoring it would talk to the server as someone else or less safely.
 * Secrets (tokens, keys) never reach a message. */
#ifndef WSR_PROVIDERS_KCP_KUBECONFIG_H
#define WSR_PROVIDERS_KCP_KUBECONFIG_H
#include <stddef.h>

#include "lib/diag.h"

/* Largest kubeconfig file read, in bytes: far above a real one with a few
 * hundred contexts and embedded certificates. */
#define WSR_KCP_KUBECONFIG_MAX (4u * 1024 * 1024)
/* Largest file a kubeconfig names (CA, certificate, key, token), in bytes. */
#define WSR_KCP_CRED_FILE_MAX (1024u * 1024)

typedef struct wsr_kcp_creds {
	char *file;	/* the kubeconfig that was read */
	char *context;	/* the context used */
	char *server;	/* the kcp server's root URL (a /clusters/<path> suffix removed) */
	char *token;	/* bearer token, or NULL; secret */
	char *ca_pem;	/* certificate authorities to trust instead of the system's, or NULL */
	char *cert_pem; /* client certificate, or NULL */
	char *key_pem;	/* its private key, or NULL; secret */
} wsr_kcp_creds;

/* The kubeconfig to read: configured when set (the engine resolved it
 * against wsr.yaml's directory), else the first non-empty entry of
 * $KUBECONFIG (a ':'-separated list), else $HOME/.kube/config. A new
 * string; NULL when none applies ($HOME unset) or out of memory. */
char *wsr_kcp_kubeconfig_path(const char *configured);

/* Reads the kubeconfig at path and the credentials of context (NULL: its
 * current-context) into *out. Every problem is an error in diag, at the
 * file:line:col of the offending entry where there is one; returns
 * WSR_EINVAL (or WSR_ENOMEM) then, with *out empty. Relative file names in
 * the kubeconfig are relative to its directory, as kubectl reads them.
 * tokenFile wins over token and *-data over the file it replaces, as in
 * kubectl. */
int wsr_kcp_kubeconfig_load(wsr_kcp_creds *out, const char *path, const char *context,
			    wsr_diag *diag);

/* Removes, in place, a trailing "/clusters/<path>" (kubeconfigs for kcp
 * point at one workspace; wsr wants the server's root) and trailing '/'. */
void wsr_kcp_server_root(char *url);

/* Frees the strings, scrubbing the secrets first; *c is left empty. */
void wsr_kcp_creds_free(wsr_kcp_creds *c);
#endif
