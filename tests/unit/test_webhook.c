/* test_webhook: which webhook requests count as authentic (GitHub's
 * documented example, GitLab's token) and how the secret file is read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/diag.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "reconciler/webhook.h"

/* From GitHub's "Validating webhook deliveries". */
#define GH_SECRET "It's a Secret to Everybody"
#define GH_BODY "Hello, World!"
#define GH_SIG "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

static int gh(const char *secret, const char *sig)
{
	return wsr_webhook_verify(secret, strlen(secret), sig, NULL, GH_BODY, strlen(GH_BODY));
}

static void test_github_documented_example(void **st)
{
	(void)st;
	assert_int_equal(gh(GH_SECRET, GH_SIG), 1);
	assert_int_equal(
	    gh(GH_SECRET,
	       "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17"),
	    1);
	/* the same signature over another body, or with another secret */
	assert_int_equal(
	    wsr_webhook_verify(GH_SECRET, strlen(GH_SECRET), GH_SIG, NULL, "Hello, World?", 13), 0);
	assert_int_equal(gh("It's a Secret to Everybody!", GH_SIG), 0);
}

static void test_github_malformed_signatures(void **st)
{
	(void)st;
	static const char *const bad[] = {
	    /* one digit changed */
	    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18",
	    /* truncated, and one digit too many */
	    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1",
	    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e170",
	    /* no prefix, another prefix, a space */
	    "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
	    "sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
	    "sha256= 757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
	    /* not hex */
	    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043ezz",
	    "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("%s\n", bad[i]);
		assert_int_equal(gh(GH_SECRET, bad[i]), 0);
	}
	/* an empty secret authenticates nothing, even a matching HMAC of "" */
	assert_int_equal(wsr_webhook_verify("", 0, GH_SIG, "", GH_BODY, strlen(GH_BODY)), 0);
	assert_int_equal(wsr_webhook_verify(NULL, 0, GH_SIG, NULL, GH_BODY, strlen(GH_BODY)), 0);
	/* neither header */
	assert_int_equal(gh(GH_SECRET, NULL), 0);
}

static void test_empty_body(void **st)
{
	(void)st;
	/* HMAC-SHA256("key", ""): a ping without a body still verifies */
	const char *sig = "sha256=5d5d139563c95b5967b9bd9a8c9b233a9dedb45072794cd232dc1b74832607d0";
	assert_int_equal(wsr_webhook_verify("key", 3, sig, NULL, NULL, 0), 1);
	assert_int_equal(wsr_webhook_verify("kez", 3, sig, NULL, NULL, 0), 0);
}

static void test_gitlab_token(void **st)
{
	(void)st;
	const char *s = "gl-secret";
	assert_int_equal(wsr_webhook_verify(s, strlen(s), NULL, "gl-secret", "x", 1), 1);
	assert_int_equal(wsr_webhook_verify(s, strlen(s), NULL, "gl-secreT", "x", 1), 0);
	assert_int_equal(wsr_webhook_verify(s, strlen(s), NULL, "gl-secret2", "x", 1), 0);
	assert_int_equal(wsr_webhook_verify(s, strlen(s), NULL, "gl-secre", "x", 1), 0);
	assert_int_equal(wsr_webhook_verify(s, strlen(s), NULL, "", "x", 1), 0);
	/* either header that verifies is enough */
	assert_int_equal(wsr_webhook_verify(s, strlen(s), "sha256=00", "gl-secret", "x", 1), 1);
	/* the secret's bytes, not a C string: a NUL inside counts */
	assert_int_equal(wsr_webhook_verify("gl-secret\0x", 11, NULL, "gl-secret", "x", 1), 0);
}

/* ---- the secret file ---- */

static char dir[64];

static int setup(void **st)
{
	(void)st;
	snprintf(dir, sizeof(dir), "/tmp/wsr-webhook-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **st)
{
	(void)st;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static char *put(const char *name, const char *data, size_t len, mode_t mode)
{
	char *p = wsr_path_join(dir, name);
	assert_int_equal(wsr_fs_write_atomic(p, data, len, mode), 0);
	assert_int_equal(chmod(p, mode), 0);
	return p;
}

/* Reads name; returns the code, the secret in *out, the printed diagnostics in *text. */
static int read_secret(const char *path, char **out, size_t *len, char **text, size_t *warnings)
{
	wsr_diag d;
	wsr_diag_init(&d);
	int rc = wsr_webhook_secret_read(out, len, path, &d);
	size_t tl = 0;
	FILE *f = open_memstream(text, &tl);
	wsr_diag_print(&d, f, 0);
	fclose(f);
	*warnings = 0;
	for (size_t i = 0; i < d.n; i++)
		*warnings += d.v[i].severity == WSR_SEV_WARNING;
	if (rc)
		assert_true(wsr_diag_errors(&d) > 0);
	wsr_diag_free(&d);
	return rc;
}

static void test_secret_file(void **st)
{
	(void)st;
	char *out, *text;
	size_t len, warn;
	struct {
		const char *data;
		const char *want;
	} ok[] = {
	    {"s3cret\n", "s3cret"},	{"s3cret\r\n", "s3cret"}, {"s3cret", "s3cret"},
	    {"s3cret\n\n", "s3cret\n"}, /* only one newline is the editor's */
	    {" s3 cret ", " s3 cret "},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *p = put("secret", ok[i].data, strlen(ok[i].data), 0600);
		assert_int_equal(read_secret(p, &out, &len, &text, &warn), 0);
		assert_int_equal(len, strlen(ok[i].want));
		assert_string_equal(out, ok[i].want);
		assert_string_equal(text, ""); /* 0600: nothing to say */
		free(out);
		free(text);
		free(p);
	}
}

static void test_secret_file_refused(void **st)
{
	(void)st;
	char *out, *text;
	size_t len, warn;
	char *p = put("empty", "\n", 1, 0600);
	assert_int_equal(read_secret(p, &out, &len, &text, &warn), WSR_EINVAL);
	assert_null(out);
	assert_non_null(strstr(text, p));
	assert_non_null(strstr(text, "is empty"));
	free(text);
	free(p);

	p = wsr_path_join(dir, "absent");
	assert_int_equal(read_secret(p, &out, &len, &text, &warn), WSR_ENOTFOUND);
	assert_non_null(strstr(text, p));
	assert_non_null(strstr(text, "does not exist"));
	free(text);
	free(p);

	/* the bound: WSR_WEBHOOK_SECRET_MAX bytes are fine, one more is not */
	char big[WSR_WEBHOOK_SECRET_MAX + 1];
	memset(big, 'k', sizeof(big));
	p = put("max", big, WSR_WEBHOOK_SECRET_MAX, 0600);
	assert_int_equal(read_secret(p, &out, &len, &text, &warn), 0);
	assert_int_equal(len, WSR_WEBHOOK_SECRET_MAX);
	free(out);
	free(text);
	free(p);
	p = put("big", big, sizeof(big), 0600);
	assert_int_equal(read_secret(p, &out, &len, &text, &warn), WSR_ELIMIT);
	assert_non_null(strstr(text, "larger than 4096 bytes"));
	assert_null(strstr(text, "kkkk")); /* never the content */
	free(text);
	free(p);

	/* a directory is not a secret */
	assert_int_not_equal(read_secret(dir, &out, &len, &text, &warn), 0);
	assert_non_null(strstr(text, "cannot be read"));
	free(text);
}

static void test_secret_file_mode_warns(void **st)
{
	(void)st;
	char *out, *text;
	size_t len, warn;
	char *p = put("shared", "topsecret\n", 10, 0644);
	assert_int_equal(read_secret(p, &out, &len, &text, &warn), 0);
	assert_string_equal(out, "topsecret");
	assert_int_equal(warn, 1);
	assert_non_null(strstr(text, "warning:"));
	assert_non_null(strstr(text, p));
	assert_non_null(strstr(text, "644"));
	assert_null(strstr(text, "topsecret"));
	free(out);
	free(text);
	free(p);
	p = put("group", "topsecret", 9, 0640);
	assert_int_equal(read_secret(p, &out, &len, &text, &warn), 0);
	assert_int_equal(warn, 1);
	free(out);
	free(text);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_github_documented_example),
	    cmocka_unit_test(test_github_malformed_signatures),
	    cmocka_unit_test(test_empty_body),
	    cmocka_unit_test(test_gitlab_token),
	    cmocka_unit_test_setup_teardown(test_secret_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_secret_file_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_secret_file_mode_warns, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
