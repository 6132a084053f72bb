/* Unit tests for providers/kcp/home: kcp's home workspace paths and its
 * bucket sizing rule.
 *
 * Expected paths are not from our code. The first six are kcp's own test
 * cases (pkg/server/home_workspaces_test.go, TestGetHomeLogicalClusterName,
 * at kcp commit cb6b3424). The others were computed with this Python 3
 * script, which follows the rule as the issue words it (re works on code
 * points like kcp's Go regexp on runes; surrogateescape turns each byte of
 * invalid UTF-8 into one character, as Go's decoder does):
 *
 *   import hashlib, re
 *   def home(user: bytes, prefix="root:users", depth=2, length=2):
 *       d = hashlib.sha1(user).digest()
 *       parts = [prefix]
 *       for i in range(depth):
 *           n = int.from_bytes(d[i:i+4], 'big')
 *           s = ''
 *           for _ in range(length):
 *               s += chr(ord('a') + n % 26); n //= 26
 *           parts.append(s)
 *       name = re.sub(r'[^a-z0-9-]', '-', user.decode('utf-8', 'surrogateescape'))
 *       name = name.lstrip(''.join(chr(c) for c in range(0x3a))).rstrip('-')
 *       return ':'.join(parts + [name])
 *
 * and the figures with round(2169648 / 26**(length*depth)). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/diag.h"
#include "lib/err.h"
#include "providers/kcp/home.h"

/* Path of user under opts; fails the test when it is refused. */
static void expect_path(const char *prefix, int depth, int length, const char *user,
			const char *want)
{
	wsr_kcp_home_opts o = {.prefix = prefix, .depth = depth, .length = length};
	wsr_diag d = WSR_DIAG_INIT;
	char *got = NULL;
	int rc = wsr_kcp_home_path(&got, &o, user, &d);
	if (rc)
		print_error("user '%s': rc %d\n", user, rc);
	assert_int_equal(rc, 0);
	assert_string_equal(got, want);
	assert_int_equal(wsr_diag_errors(&d), 0);
	free(got);
	wsr_diag_free(&d);
}

/* user is refused with rc and one error whose summary contains text. */
static void expect_refused(const wsr_kcp_home_opts *o, const char *user, int rc, const char *text)
{
	wsr_diag d = WSR_DIAG_INIT;
	char *got = (char *)"untouched";
	assert_int_equal(wsr_kcp_home_path(&got, o, user, &d), rc);
	assert_null(got);
	assert_int_equal(wsr_diag_errors(&d), 1);
	if (!strstr(d.v[0].summary, text))
		print_error("summary '%s' lacks '%s'\n", d.v[0].summary, text);
	assert_non_null(strstr(d.v[0].summary, text));
	wsr_diag_free(&d);
}

static void test_kcp_own_vectors(void **st)
{
	(void)st;
	expect_path("root:users", 2, 2, "user-1", "root:users:bi:ie:user-1");
	expect_path("root:homes", 2, 2, "user-1", "root:homes:bi:ie:user-1");
	expect_path("root:users", 2, 2, "user-2", "root:users:cv:ef:user-2");
	expect_path("root:users", 2, 2, "system:apiserver", "root:users:ev:vo:system-apiserver");
	expect_path("root:users", 2, 2, "2system:apiserver@company-2\xc3\xa0-",
		    "root:users:fk:wp:system-apiserver-company-2");
	/* kcp's sixth case, depth 5 length 4 ("root:users:biht:ieal:ertd:yfel:
	 * kbap:user-1"), breaks its documented sizing rule and is refused; its
	 * buckets' first letters are the length 1 depth 4 path below */
}

static void test_defaults_and_other_valid_configs(void **st)
{
	(void)st;
	wsr_diag d = WSR_DIAG_INIT;
	char *got = NULL;
	assert_int_equal(wsr_kcp_home_path(&got, NULL, "adam", &d), 0);
	assert_string_equal(got, "root:users:sj:pq:adam");
	free(got);
	wsr_diag_free(&d);
	expect_path("root:users", 3, 1, "user-1", "root:users:b:i:e:user-1");
	expect_path("root:users", 4, 1, "user-1", "root:users:b:i:e:y:user-1");
	wsr_kcp_home_opts o = {.prefix = "root:users", .depth = 5, .length = 4};
	expect_refused(&o, "user-1", WSR_EINVAL, "456976 sub-buckets in a bucket and 0 users");
	expect_path("root", 2, 2, "user-1", "root:bi:ie:user-1");
}

static void test_name_sanitizing(void **st)
{
	(void)st;
	static const struct {
		const char *user, *want;
	} cases[] = {
	    /* uppercase is outside [a-z0-9-]: replaced, then trimmed when
	     * leading; the buckets still come from the name as given */
	    {"Alice", "root:users:of:tf:lice"},
	    {"ZZ9alice--", "root:users:km:ig:alice"},
	    {"a b\tc", "root:users:zv:hg:a-b-c"},
	    /* one '-' per UTF-8 character (à, U+1F600), not per byte */
	    {"a\xc3\xa0\x62", "root:users:nv:xj:a-b"},
	    {"a\xf0\x9f\x98\x80\x62", "root:users:im:ke:a-b"},
	    /* one '-' per byte of invalid UTF-8: a stray byte, an overlong, a
	     * surrogate, a sequence cut short by the end */
	    {"a\xff\x62", "root:users:qb:dt:a-b"},
	    {"a\xc0\xaf\x62", "root:users:fb:tu:a--b"},
	    {"a\xed\xa0\x80\x62", "root:users:lp:lk:a---b"},
	    {"a\xe2\x82", "root:users:sv:gb:a"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_path("root:users", 2, 2, cases[i].user, cases[i].want);
}

static void test_empty_name_refused(void **st)
{
	(void)st;
	wsr_kcp_home_opts o = WSR_KCP_HOME_OPTS_INIT;
	expect_refused(&o, "", WSR_EINVAL, "user \"\": has no character kcp can use");
	expect_refused(&o, "123", WSR_EINVAL, "user \"123\": has no character");
	expect_refused(&o, "-", WSR_EINVAL, "has no character kcp can use");
	expect_refused(&o, "--9--", WSR_EINVAL, "has no character kcp can use");
	/* "ÄÖ": two characters outside [a-z0-9-], both trimmed */
	expect_refused(&o, "\xc3\x84\xc3\x96", WSR_EINVAL, "user \"\xc3\x84\xc3\x96\"");
	/* "9-aÄ" keeps the a */
	expect_path("root:users", 2, 2, "9-a\xc3\x84", "root:users:vm:tf:a");
}

/* The name limit counts the sanitized name: 63 fits, 64 does not, and a
 * long run of trimmed characters in front does not count. */
static void test_name_length_boundary(void **st)
{
	(void)st;
	char u[WSR_KCP_USER_MAX + 2];
	memset(u, 'x', 63);
	u[63] = '\0';
	expect_path(
	    "root:users", 2, 2, u,
	    "root:users:wp:mk:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	memset(u, 'x', 64);
	u[64] = '\0';
	wsr_kcp_home_opts o = WSR_KCP_HOME_OPTS_INIT;
	expect_refused(&o, u, WSR_ELIMIT, "would have 64 characters, kcp allows 63");
	memset(u, '1', 1000);
	strcpy(u + 1000, "ab");
	expect_path("root:users", 2, 2, u, "root:users:gc:jf:ab");
}

/* WSR_KCP_USER_MAX bytes pass, one more is refused, and so is 1 MiB; the
 * message shows at most a short, quoted start of the name. */
static void test_user_length_boundary(void **st)
{
	(void)st;
	static char u[(1 << 20) + 1];
	memset(u, '1', WSR_KCP_USER_MAX - 1);
	u[WSR_KCP_USER_MAX - 1] = 'a';
	u[WSR_KCP_USER_MAX] = '\0';
	char *got = NULL;
	wsr_diag d = WSR_DIAG_INIT;
	assert_int_equal(wsr_kcp_home_path(&got, NULL, u, &d), 0);
	assert_string_equal(got, "root:users:ok:ck:a");
	free(got);
	wsr_kcp_home_opts o = WSR_KCP_HOME_OPTS_INIT;
	u[WSR_KCP_USER_MAX] = 'a';
	u[WSR_KCP_USER_MAX + 1] = '\0';
	expect_refused(&o, u, WSR_ELIMIT, "longer than 1024 bytes");
	memset(u, 'a', sizeof(u) - 1);
	u[5] = '\n';
	expect_refused(&o, u, WSR_ELIMIT, "user \"aaaaa\\x0aaaaa");
	assert_int_equal(wsr_kcp_home_path(&got, &o, u, &d), WSR_ELIMIT);
	assert_true(strlen(d.v[0].summary) < 200);
	assert_non_null(strstr(d.v[0].summary, "\"..."));
	wsr_diag_free(&d);
}

static void test_bucket_figures(void **st)
{
	(void)st;
	static const struct {
		int length, depth, rc;
		long sub, users;
	} cases[] = {
	    {2, 2, 0, 676, 5},
	    {1, 3, 0, 26, 123},
	    {1, 4, 0, 26, 5},
	    {1, 1, WSR_EINVAL, 26, 83448},
	    {1, 2, WSR_EINVAL, 26, 3210},
	    {2, 1, WSR_EINVAL, 676, 3210},
	    {2, 3, WSR_EINVAL, 676, 0},
	    {3, 1, WSR_EINVAL, 17576, 123},
	    {3, 2, WSR_EINVAL, 17576, 0},
	    {4, 5, WSR_EINVAL, 456976, 0},
	    {0, 2, WSR_ELIMIT, 0, 0},
	    {5, 1, WSR_ELIMIT, 0, 0},
	    {1, 0, WSR_ELIMIT, 0, 0},
	    {1, 6, WSR_ELIMIT, 0, 0},
	    {-1, 2, WSR_ELIMIT, 0, 0},
	    {2, -2147483647 - 1, WSR_ELIMIT, 0, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wsr_kcp_buckets f = {-1, -1};
		int rc = wsr_kcp_bucket_check(&f, cases[i].depth, cases[i].length);
		if (rc != cases[i].rc || f.subbuckets != cases[i].sub || f.users != cases[i].users)
			print_error("length %d depth %d: rc %d, %ld, %ld\n", cases[i].length,
				    cases[i].depth, rc, f.subbuckets, f.users);
		assert_int_equal(rc, cases[i].rc);
		assert_int_equal(f.subbuckets, cases[i].sub);
		assert_int_equal(f.users, cases[i].users);
	}
}

/* An invalid configuration is one error naming both figures, and no path. */
static void test_invalid_config_message(void **st)
{
	(void)st;
	wsr_kcp_home_opts o = {.prefix = "root:users", .depth = 1, .length = 2};
	expect_refused(&o, "user-1", WSR_EINVAL, "676 sub-buckets in a bucket and 3210 users");
	o = (wsr_kcp_home_opts){.prefix = "root:users", .depth = 9, .length = 2};
	expect_refused(&o, "user-1", WSR_EINVAL, "kcp allows depth 1 to 5 and length 1 to 4");
	wsr_diag d = WSR_DIAG_INIT;
	wsr_pos at = {"wsr.yaml", 4, 3};
	o = (wsr_kcp_home_opts){.prefix = "root:users", .depth = 1, .length = 3};
	assert_int_equal(wsr_kcp_home_opts_check(&d, &at, &o), WSR_EINVAL);
	assert_string_equal(d.v[0].file, "wsr.yaml");
	assert_int_equal(d.v[0].line, 4);
	assert_non_null(strstr(d.v[0].summary, "17576 sub-buckets in a bucket and 123 users"));
	wsr_diag_free(&d);
	o = (wsr_kcp_home_opts)WSR_KCP_HOME_OPTS_INIT;
	assert_int_equal(wsr_kcp_home_opts_check(&d, &at, &o), 0);
	assert_int_equal(wsr_diag_errors(&d), 0);
	wsr_diag_free(&d);
}

static void test_prefix_checked(void **st)
{
	(void)st;
	const char *bad[] = {"",      "Root:users",  "root::users", "root:",	   ":root",
			     "-root", "root:users-", "root:us ers", "root:users\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		wsr_kcp_home_opts o = {bad[i], 2, 2, WSR_KCP_HOME_BUCKETS};
		expect_refused(&o, "user-1", WSR_EINVAL, "is not a logical cluster path");
	}
	wsr_kcp_home_opts o = {NULL, 2, 2, WSR_KCP_HOME_BUCKETS};
	expect_refused(&o, "user-1", WSR_EINVAL, "is not a logical cluster path");
	char p[WSR_KCP_PREFIX_MAX + 2];
	memset(p, 'r', sizeof(p));
	p[WSR_KCP_PREFIX_MAX] = '\0';
	char want[WSR_KCP_PREFIX_MAX + 32];
	snprintf(want, sizeof(want), "%s:bi:ie:user-1", p);
	expect_path(p, 2, 2, "user-1", want);
	p[WSR_KCP_PREFIX_MAX] = 'r';
	p[WSR_KCP_PREFIX_MAX + 1] = '\0';
	o.prefix = p;
	expect_refused(&o, "user-1", WSR_EINVAL, "is not a logical cluster path");
}

/* logicalcluster style: user:<name> as authentication gives it, within
 * what an address, a URL and a header can carry. */
static void test_logicalcluster_paths(void **state)
{
	(void)state;
	wsr_kcp_home_opts o = WSR_KCP_HOME_OPTS_INIT;
	o.style = WSR_KCP_HOME_LOGICALCLUSTER;
	const char *ok[][2] = {{"adam", "user:adam"},
			       {"bella@example.com", "user:bella@example.com"},
			       {"j.doe_2-x", "user:j.doe_2-x"},
			       {"123", "user:123"}}; /* no sanitizing: kcp uses the name as is */
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		wsr_diag d = WSR_DIAG_INIT;
		char *got = NULL;
		assert_int_equal(wsr_kcp_home_path(&got, &o, ok[i][0], &d), 0);
		assert_string_equal(got, ok[i][1]);
		free(got);
		wsr_diag_free(&d);
	}
	expect_refused(&o, "Adam", WSR_EINVAL, "byte 1 (0x41) cannot be part of a home");
	expect_refused(&o, "a:b", WSR_EINVAL, "byte 2 (0x3a)");
	expect_refused(&o, "a b", WSR_EINVAL, "byte 2 (0x20)");
	expect_refused(&o, "", WSR_EINVAL, "is empty");
	/* the boundary: "user:" and the name fill a 1024-byte path */
	char *name = malloc(WSR_KCP_HOME_USER_MAX + 2);
	memset(name, 'a', WSR_KCP_HOME_USER_MAX + 1);
	name[WSR_KCP_HOME_USER_MAX] = '\0';
	wsr_diag d = WSR_DIAG_INIT;
	char *got = NULL;
	assert_int_equal(wsr_kcp_home_path(&got, &o, name, &d), 0);
	assert_int_equal(strlen(got), WSR_KCP_PATH_MAX);
	free(got);
	name[WSR_KCP_HOME_USER_MAX] = 'a';
	name[WSR_KCP_HOME_USER_MAX + 1] = '\0';
	expect_refused(&o, name, WSR_ELIMIT, "longer than 1019 bytes");
	free(name);
	wsr_diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kcp_own_vectors),
	    cmocka_unit_test(test_defaults_and_other_valid_configs),
	    cmocka_unit_test(test_name_sanitizing),
	    cmocka_unit_test(test_empty_name_refused),
	    cmocka_unit_test(test_name_length_boundary),
	    cmocka_unit_test(test_user_length_boundary),
	    cmocka_unit_test(test_bucket_figures),
	    cmocka_unit_test(test_invalid_config_message),
	    cmocka_unit_test(test_prefix_checked),
	    cmocka_unit_test(test_logicalcluster_paths),
	};
	return cmocka_run_group_tests(tests, 0, 0);
}
