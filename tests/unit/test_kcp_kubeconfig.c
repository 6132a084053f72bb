/* test_kcp_kubeconfig: reading one context of a kubeconfig for the kcp
 * provider (providers/kcp/kubeconfig.h), from files written into a
 * temporary directory: which context, which credentials, relative file
 * names, the server's root, and every refusal with its position — without
 * ever showing a secret. The credentials reaching the server is
 * test_kcp_wire's (bearer) and test_http's (certificates). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "providers/kcp/kcp.h"
#include "providers/kcp/kubeconfig.h"
#include "tests/unit/kubeconfig_pem.h"

#define TOKEN "s3cret-T0KEN-value"
#define FILE_TOKEN "f1le-T0KEN-value"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/wsr-kubeconfig-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes dir/name (parents made); returns the path (caller frees). */
static char *put(const char *name, const char *text, size_t len)
{
	char *path = wsr_strdupf("%s/%s", dir, name), *slash = strrchr(path, '/');
	*slash = '\0';
	assert_int_equal(wsr_fs_mkdirs(path, 0700), 0);
	*slash = '/';
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	return path;
}

static char *put_str(const char *name, const char *text)
{
	return put(name, text, strlen(text));
}

static char *b64(const char *s)
{
	size_t n = strlen(s);
	char *out = calloc(1, 4 * (n / 3 + 1) + 1);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

/* Everything the diagnostics say, positions included, one entry a line. */
static char *diag_text(const wsr_diag *d)
{
	wsr_buf b = WSR_BUF_INIT;
	for (size_t i = 0; i < d->n; i++)
		wsr_buf_printf(&b, "%s:%d:%d: %s | %s | %s\n", d->v[i].file ? d->v[i].file : "-",
			       d->v[i].line, d->v[i].col, d->v[i].summary,
			       d->v[i].detail ? d->v[i].detail : "",
			       d->v[i].hint ? d->v[i].hint : "");
	return wsr_buf_detach(&b);
}

/* A kubeconfig: two clusters, two users, three contexts; extra lines are
 * appended to the user "dev" (indented as its fields) and cluster "dev". */
static char *kubeconfig(const char *cluster_extra, const char *user_extra)
{
	return wsr_strdupf("apiVersion: v1\n"
			   "kind: Config\n"
			   "clusters:\n"
			   "- name: dev\n"
			   "  cluster:\n"
			   "    server: https://kcp.example.com:6443/clusters/root:acme\n"
			   "%s"
			   "- name: prod\n"
			   "  cluster:\n"
			   "    server: https://prod.example.com/\n"
			   "users:\n"
			   "- name: dev\n"
			   "  user:\n"
			   "%s"
			   "- name: ops\n"
			   "  user:\n"
			   "    token: ops-token\n"
			   "contexts:\n"
			   "- name: dev\n"
			   "  context: {cluster: dev, user: dev}\n"
			   "- name: prod\n"
			   "  context: {cluster: prod, user: ops}\n"
			   "- name: anonymous\n"
			   "  context: {cluster: prod}\n"
			   "current-context: dev\n",
			   cluster_extra, user_extra);
}

/* Loads text as dir/name with context; must succeed. */
static wsr_kcp_creds load_ok(const char *name, const char *text, const char *context)
{
	char *path = put_str(name, text);
	wsr_kcp_creds c;
	wsr_diag d = WSR_DIAG_INIT;
	int rc = wsr_kcp_kubeconfig_load(&c, path, context, &d);
	if (rc) {
		char *t = diag_text(&d);
		fail_msg("load failed (%d):\n%s", rc, t);
	}
	assert_int_equal(wsr_diag_errors(&d), 0);
	assert_string_equal(c.file, path);
	wsr_diag_free(&d);
	free(path);
	return c;
}

/* Loads text (len bytes) as dir/name; must fail with one error containing
 * each of the NULL-terminated needles, and no secret anywhere. */
static void expect_error_n(const char *name, const char *text, size_t len, const char *context,
			   const char *const *needles)
{
	char *path = put(name, text, len);
	wsr_kcp_creds c;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(wsr_kcp_kubeconfig_load(&c, path, context, &d), WSR_EINVAL);
	assert_null(c.server);
	assert_null(c.token);
	assert_true(wsr_diag_errors(&d) >= 1);
	char *t = diag_text(&d);
	for (; *needles; needles++)
		if (!strstr(t, *needles))
			fail_msg("diagnostics lack \"%s\":\n%s", *needles, t);
	const char *secrets[] = {TOKEN, FILE_TOKEN, "MIGHAgEAMBMGByqGSM49", "TUlHSEFnRUFNQk1H"};
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		if (strstr(t, secrets[i]))
			fail_msg("a secret reached the diagnostics:\n%s", t);
	free(t);
	wsr_diag_free(&d);
	free(path);
}

#define expect_error(name, text, context, ...)                                                     \
	do {                                                                                       \
		const char *n_[] = {__VA_ARGS__, NULL};                                            \
		expect_error_n((name), (text), strlen(text), (context), n_);                       \
	} while (0)

static void test_current_context_and_token(void **state)
{
	(void)state;
	char *k = kubeconfig("", "    token: " TOKEN "\n");
	wsr_kcp_creds c = load_ok("config", k, NULL);
	assert_string_equal(c.context, "dev");
	/* kcp kubeconfigs point at a workspace; wsr wants the server's root */
	assert_string_equal(c.server, "https://kcp.example.com:6443");
	assert_string_equal(c.token, TOKEN);
	assert_null(c.ca_pem);
	assert_null(c.cert_pem);
	assert_null(c.key_pem);
	wsr_kcp_creds_free(&c);
	assert_null(c.token);
	free(k);
}

static void test_context_option_chooses(void **state)
{
	(void)state;
	char *k = kubeconfig("", "    token: " TOKEN "\n");
	wsr_kcp_creds c = load_ok("config", k, "prod");
	assert_string_equal(c.context, "prod");
	assert_string_equal(c.server, "https://prod.example.com");
	assert_string_equal(c.token, "ops-token");
	wsr_kcp_creds_free(&c);
	/* a context without a user: no credentials, the server may still answer */
	c = load_ok("config", k, "anonymous");
	assert_null(c.token);
	assert_null(c.cert_pem);
	wsr_kcp_creds_free(&c);
	free(k);
}

static void test_token_file_relative_and_winning(void **state)
{
	(void)state;
	free(put_str("sub/secrets/token", "  " FILE_TOKEN "\r\n\n"));
	/* relative to the kubeconfig's directory, not to the working directory */
	char *k = kubeconfig("", "    token: " TOKEN "\n    tokenFile: secrets/token\n");
	wsr_kcp_creds c = load_ok("sub/config", k, NULL);
	assert_string_equal(c.token, FILE_TOKEN); /* as kubectl: the file wins, trimmed */
	wsr_kcp_creds_free(&c);
	free(k);
	char *abs = wsr_strdupf("    tokenFile: %s/sub/secrets/token\n", dir);
	k = kubeconfig("", abs);
	c = load_ok("elsewhere/config", k, NULL);
	assert_string_equal(c.token, FILE_TOKEN);
	wsr_kcp_creds_free(&c);
	free(abs);
	free(k);
}

static void test_ca_data_and_file(void **state)
{
	(void)state;
	char *data = b64(CERT_A);
	char *extra = wsr_strdupf("    certificate-authority-data: %s\n"
				  "    certificate-authority: no-such-file.crt\n",
				  data);
	char *k = kubeconfig(extra, "");
	wsr_kcp_creds c = load_ok("config", k, NULL);
	assert_string_equal(c.ca_pem, CERT_A); /* data wins over the file, as in kubectl */
	wsr_kcp_creds_free(&c);
	free(k);

	free(put_str("pki/ca.crt", CERT_A));
	k = kubeconfig("    certificate-authority: pki/ca.crt\n", "");
	c = load_ok("config", k, NULL);
	assert_string_equal(c.ca_pem, CERT_A);
	wsr_kcp_creds_free(&c);
	free(k);
	free(extra);
	free(data);
}

static void test_client_certificate_data_and_files(void **state)
{
	(void)state;
	char *cd = b64(CERT_A), *kd = b64(KEY_A);
	char *extra =
	    wsr_strdupf("    client-certificate-data: %s\n    client-key-data: %s\n", cd, kd);
	char *k = kubeconfig("", extra);
	wsr_kcp_creds c = load_ok("config", k, NULL);
	assert_string_equal(c.cert_pem, CERT_A);
	assert_string_equal(c.key_pem, KEY_A);
	assert_null(c.token);
	wsr_kcp_creds_free(&c);
	free(k);

	free(put_str("certs/client.crt", CERT_A));
	free(put_str("certs/client.key", KEY_A));
	k = kubeconfig("", "    client-certificate: ../certs/client.crt\n"
			   "    client-key: ../certs/client.key\n");
	c = load_ok("kube/config", k, NULL);
	assert_string_equal(c.cert_pem, CERT_A);
	assert_string_equal(c.key_pem, KEY_A);
	wsr_kcp_creds_free(&c);
	free(k);
	free(extra);
	free(cd);
	free(kd);
}

static void expect_root(const char *in, const char *want)
{
	char *s = strdup(in);
	wsr_kcp_server_root(s);
	assert_string_equal(s, want);
	free(s);
}

static void test_server_root(void **state)
{
	(void)state;
	expect_root("https://kcp.example.com:6443/clusters/root:acme:team-a",
		    "https://kcp.example.com:6443");
	expect_root("https://h/clusters/root/", "https://h");
	expect_root("https://h/prefix/clusters/root:a", "https://h/prefix");
	expect_root("https://h/", "https://h");
	expect_root("https://h", "https://h");
	/* not one workspace path: left alone */
	expect_root("https://h/clusters/root/apis/x", "https://h/clusters/root/apis/x");
	expect_root("https://clusters/x", "https://clusters/x");
}

static void test_kubeconfig_path_rule(void **state)
{
	(void)state;
	setenv("HOME", "/home/someone", 1);
	setenv("KUBECONFIG", "::/first/config:/second/config", 1);
	char *p = wsr_kcp_kubeconfig_path("/configured");
	assert_string_equal(p, "/configured");
	free(p);
	p = wsr_kcp_kubeconfig_path(NULL);
	assert_string_equal(p, "/first/config");
	free(p);
	setenv("KUBECONFIG", "", 1);
	p = wsr_kcp_kubeconfig_path(NULL);
	assert_string_equal(p, "/home/someone/.kube/config");
	free(p);
	unsetenv("KUBECONFIG");
	unsetenv("HOME");
	assert_null(wsr_kcp_kubeconfig_path(NULL));
}

static void test_missing_pieces_have_positions(void **state)
{
	(void)state;
	char *k = kubeconfig("", "    token: " TOKEN "\n");
	/* current-context names no context: at line 24, where it is named */
	char *t = strdup(k);
	memcpy(strstr(t, "current-context: dev") + 17, "xyz", 3);
	expect_error("config", t, NULL, "/config:24:18:", "context \"xyz\" is not in",
		     "defined: dev, prod, anonymous");
	free(t);
	expect_error("config", k, "nope", "context \"nope\" is not in the kubeconfig's contexts");
	/* the context names a cluster and a user the file lacks */
	t = strdup(k);
	memcpy(strstr(t, "{cluster: dev,") + 10, "dex", 3);
	expect_error("config", t, NULL, "/config:19:22:", "cluster \"dex\" is not in",
		     "defined: dev, prod");
	free(t);
	t = strdup(k);
	memcpy(strstr(t, "user: dev}") + 6, "dex", 3);
	expect_error("config", t, NULL, "/config:19:33:", "user \"dex\" is not in");
	free(t);
	t = strdup(k);
	memcpy(strstr(t, "current-context"), "# urrent-context", 16);
	expect_error("config", t, NULL, "it has no current-context", "providers.kcp.context");
	free(t);
	t = strdup(k);
	memcpy(strstr(t, "    server: https://kcp"), "    sarver", 10);
	expect_error("config", t, NULL, "/config:6:5:", "the cluster has no server");
	free(t);
	char *cd = b64(CERT_A);
	char *extra = wsr_strdupf("    client-certificate-data: %s\n", cd);
	free(k);
	k = kubeconfig("", extra);
	expect_error("config", k, NULL, "client certificate but no client key");
	free(extra);
	free(cd);
	free(k);
	expect_error("config", "[1, 2]", NULL, "/config:1:1:", "a kubeconfig is a map");
	expect_error("config", "", NULL, "kubeconfig", "config: it is empty");
	expect_error("config", "clusters: {a: 1}\ncurrent-context: x\n", NULL, "contexts",
		     "is not in");
	expect_error("config", "contexts: [5]\ncurrent-context: x\n", NULL,
		     "/config:1:12:", "must be a map with a name");
	char *gone = wsr_strdupf("%s/no-such-dir/config", dir);
	wsr_kcp_creds c;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(wsr_kcp_kubeconfig_load(&c, gone, NULL, &d), WSR_EINVAL);
	char *text = diag_text(&d);
	assert_non_null(strstr(text, "no-such-dir/config: it does not exist"));
	free(text);
	wsr_diag_free(&d);
	free(gone);
	k = kubeconfig("    certificate-authority: nowhere/ca.crt\n", "");
	expect_error("config", k, NULL, "/config:7:28:", "certificate-authority ",
		     "nowhere/ca.crt does not exist");
	free(k);
}

static void test_insecure_skip_refused(void **state)
{
	(void)state;
	char *k = kubeconfig("    insecure-skip-tls-verify: true\n", "");
	expect_error("config", k, NULL, "/config:7:31:",
		     "insecure-skip-tls-verify: true is refused: wsr never skips TLS verification",
		     "certificate-authority");
	free(k);
	k = kubeconfig("    insecure-skip-tls-verify: \"yes\"\n", "");
	expect_error("config", k, NULL, "must be true or false");
	free(k);
	k = kubeconfig("    insecure-skip-tls-verify: false\n", "");
	wsr_kcp_creds c = load_ok("config", k, NULL);
	wsr_kcp_creds_free(&c);
	free(k);
}

static void test_unsupported_authentication_refused(void **state)
{
	(void)state;
	char *k =
	    kubeconfig("", "    token: " TOKEN "\n"
			   "    exec:\n      command: kubectl-oidc\n      args: [" TOKEN "]\n");
	expect_error("config", k, NULL, "/config:14:5:", "exec is not supported by wsr",
		     "no credential plugins");
	free(k);
	k = kubeconfig("", "    auth-provider: {name: oidc}\n");
	expect_error("config", k, NULL, "auth-provider is not supported");
	free(k);
	k = kubeconfig("", "    username: admin\n    password: " TOKEN "\n");
	expect_error("config", k, NULL, "basic authentication is not offered");
	free(k);
	k = kubeconfig("", "    as: system:admin\n");
	expect_error("config", k, NULL, "does not impersonate");
	free(k);
	k = kubeconfig("    proxy-url: http://proxy:3128\n", "");
	expect_error("config", k, NULL, "proxy-url is not supported");
	free(k);
}

static void test_malformed_yaml_has_position(void **state)
{
	(void)state;
	expect_error("bad.yaml",
		     "apiVersion: v1\nusers:\n- name: dev\n  user:\n    token: " TOKEN
		     "\n    client-key-data: \"unterminated\n",
		     NULL, "bad.yaml:7:1:", "(at 6:22)");
	expect_error("tab.yaml", "users:\n\t- name: x\n", NULL, "tab.yaml:2:");
	expect_error(
	    "dup.yaml",
	    "current-context: a\ncurrent-context: b\nusers:\n- {name: dev, user: {token: " TOKEN
	    "}}\n",
	    NULL, "dup.yaml:2:1:");
}

static void test_size_limit_boundary(void **state)
{
	(void)state;
	char *k = kubeconfig("", "    token: " TOKEN "\n");
	size_t n = WSR_KCP_KUBECONFIG_MAX, used = strlen(k);
	char *big = malloc(n + 2);
	memcpy(big, k, used);
	/* filled up with a comment line of exactly the bytes left */
	big[used] = '#';
	memset(big + used + 1, 'x', n - used - 2);
	big[n - 1] = '\n';
	char *path = put("big", big, n);
	wsr_kcp_creds c;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(wsr_kcp_kubeconfig_load(&c, path, NULL, &d), 0);
	assert_string_equal(c.token, TOKEN);
	wsr_kcp_creds_free(&c);
	free(path);
	big[n - 1] = 'x';
	big[n] = '\n';
	const char *needles[] = {"it is larger than 4194304 bytes", NULL};
	expect_error_n("big", big, n + 1, NULL, needles);
	wsr_diag_free(&d);
	free(big);
	free(k);
}

static void test_secrets_never_in_diagnostics(void **state)
{
	(void)state;
	char *kd = b64(KEY_A), *cd = b64(CERT_A);
	/* a damaged key: the message names the field, never its bytes */
	char *extra =
	    wsr_strdupf("    client-certificate-data: %s\n    client-key-data: %s!!\n", cd, kd);
	char *k = kubeconfig("", extra);
	expect_error("config", k, NULL, "client-key-data is not base64");
	free(k);
	free(extra);
	/* a certificate where the key should be */
	extra = wsr_strdupf("    client-certificate-data: %s\n    client-key-data: %s\n", cd, cd);
	k = kubeconfig("", extra);
	expect_error("config", k, NULL, "client-key-data: it holds no unencrypted private key");
	free(k);
	free(extra);
	/* a key file that holds a token, a token in the wrong shape */
	free(put_str("wrong.key", TOKEN "\n"));
	extra = wsr_strdupf("    client-certificate-data: %s\n    client-key: wrong.key\n", cd);
	k = kubeconfig("", extra);
	expect_error("config", k, NULL, "client-key: it holds no unencrypted private key");
	free(k);
	free(extra);
	k = kubeconfig("", "    token: {value: " TOKEN "}\n");
	expect_error("config", k, NULL, "token must be a string");
	free(k);
	k = kubeconfig("", "    token: \"" TOKEN "\\r\\nX-Injected: 1\"\n");
	expect_error("config", k, NULL, "token holds control characters");
	free(k);
	free(put_str("empty-token", "\n\n"));
	k = kubeconfig("", "    tokenFile: empty-token\n");
	expect_error("config", k, NULL, "the token file is empty");
	free(k);
	/* a key that does not belong to the certificate is the provider's
	 * (lib/http checks the pair); the kubeconfig itself is fine */
	free(kd);
	free(cd);
}

/* The provider opened on a kubeconfig: the whole chain, failing only where
 * the kubeconfig does, and naming the kubeconfig and context. */
static void test_open_through_the_provider(void **state)
{
	(void)state;
	char *k = kubeconfig("", "    token: " TOKEN "\n");
	memcpy(strstr(k, "https://kcp.example.com:6443"), "http://kcp.example.com:64430", 28);
	char *path = put_str("plain-http", k);
	char *cfg = wsr_strdupf("{\"endpoint\":\"kubeconfig\",\"kubeconfig\":\"%s\"}", path);
	cJSON *config = cJSON_Parse(cfg);
	wsr_provider *p = NULL;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(wsr_kcp_provider.open(&p, config, &d), WSR_EINVAL);
	assert_null(p);
	char *t = diag_text(&d);
	if (!strstr(t, "context dev") || !strstr(t, "in clear") || strstr(t, TOKEN))
		fail_msg("unexpected diagnostics:\n%s", t);
	free(t);
	wsr_diag_free(&d);
	cJSON_Delete(config);
	free(cfg);

	/* KUBECONFIG's first entry when the config names none */
	setenv("KUBECONFIG", path, 1);
	config = cJSON_Parse("{\"endpoint\":\"kubeconfig\",\"context\":\"prod\"}");
	assert_int_equal(wsr_kcp_provider.open(&p, config, &d), 0);
	assert_int_equal(wsr_diag_errors(&d), 0);
	wsr_kcp_provider.close(p);
	cJSON_Delete(config);
	unsetenv("KUBECONFIG");
	free(path);
	free(k);
	wsr_diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_current_context_and_token),
	    cmocka_unit_test(test_context_option_chooses),
	    cmocka_unit_test(test_token_file_relative_and_winning),
	    cmocka_unit_test(test_ca_data_and_file),
	    cmocka_unit_test(test_client_certificate_data_and_files),
	    cmocka_unit_test(test_server_root),
	    cmocka_unit_test(test_kubeconfig_path_rule),
	    cmocka_unit_test(test_missing_pieces_have_positions),
	    cmocka_unit_test(test_insecure_skip_refused),
	    cmocka_unit_test(test_unsupported_authentication_refused),
	    cmocka_unit_test(test_malformed_yaml_has_position),
	    cmocka_unit_test(test_size_limit_boundary),
	    cmocka_unit_test(test_secrets_never_in_diagnostics),
	    cmocka_unit_test(test_open_through_the_provider),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
