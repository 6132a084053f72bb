/* test_kcpsim_list: paging of the kcp emulator's lists (docs/api/kcp.md,
 * "Lists"): any whole number is a ?limit= (pages are still cut at the
 * seed's maxPageSize), and continue tokens expire after the seed's
 * continueTtlMs or when POST /_sim/expire-continue says so, with
 * Kubernetes' 410 Expired and a token that continues inconsistently. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kcpsim_fixture.h"
#include "sim/kcp/page.h"

#define EXPIRED_TEXT                                                                               \
	"The provided continue parameter is too old to display a consistent list result. You "     \
	"can start a new list without the continue parameter, or use the continue token in this "  \
	"response to retrieve the remainder of the results. Continuing with the provided token "   \
	"results in an inconsistent list - objects that were created, modified, or deleted "       \
	"between the time the first chunk was returned and now may show up in the list."

/* A page of root's list: the status, the number of items, and the token
 * (into next, "" when none). */
static int page(wsr_kcpsim *k, const char *limit, const char *cont, int *n, char *next, cJSON **out)
{
	kf_rq o = {.q = {NULL}};
	int i = 0;
	if (limit) {
		o.q[i++] = "limit";
		o.q[i++] = limit;
	}
	if (cont) {
		o.q[i++] = "continue";
		o.q[i++] = cont;
	}
	cJSON *v;
	int rc = kf_req(k, "GET", KF_WS("root"), NULL, &o, &v);
	const char *c = wsr_json_str(wsr_json_obj(v, "metadata"), "continue");
	*n = cJSON_GetArraySize(wsr_json_arr(v, "items"));
	snprintf(next, WSR_KCPSIM_CONTINUE_MAX + 1, "%s", c ? c : "");
	if (out)
		*out = v;
	else
		cJSON_Delete(v);
	return rc;
}

static void any_whole_number_is_a_limit(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("maxPageSize: 3");
	char next[WSR_KCPSIM_CONTINUE_MAX + 1];
	int n;
	kf_create_ok(k, "root", "a", NULL, NULL);
	kf_create_ok(k, "root", "b", NULL, NULL);
	kf_create_ok(k, "root", "c", NULL, NULL); /* and users: four */
	const struct {
		const char *limit;
		int status, items;
	} cases[] = {
	    {"1", 200, 1},
	    {"2", 200, 2},
	    {"3", 200, 3},
	    {"4", 200, 3},
	    {"500", 200, 3},
	    {"1000", 200, 3},
	    {"0", 200, 3}, /* 0 is no limit: a full page */
	    {"9223372036854775807", 200, 3},
	    {"99999999999999999999", 400, 0},
	    {"-1", 400, 0},
	    {"1e3", 400, 0},
	    {"", 400, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = page(k, cases[i].limit, NULL, &n, next, NULL);
		if (rc != cases[i].status || (rc == 200 && n != cases[i].items))
			fail_msg("limit=%s: %d with %d items, expected %d with %d", cases[i].limit,
				 rc, n, cases[i].status, cases[i].items);
	}
	wsr_kcpsim_free(k);
}

/* Expects the token to be expired: 410 Expired with Kubernetes' message
 * and a token in the Status that continues after the same item. */
static void expect_expired(wsr_kcpsim *k, const char *token, const char *then_first)
{
	char next[WSR_KCPSIM_CONTINUE_MAX + 1];
	int n;
	cJSON *v;
	assert_int_equal(page(k, "1", token, &n, next, &v), 410);
	assert_string_equal(wsr_json_str(v, "kind"), "Status");
	assert_string_equal(wsr_json_str(v, "reason"), "Expired");
	assert_string_equal(kf_message(v), EXPIRED_TEXT);
	assert_true(next[0]);
	cJSON_Delete(v);
	assert_int_equal(page(k, "1", next, &n, next, &v), 200);
	assert_string_equal(
	    wsr_json_str(wsr_json_obj(cJSON_GetArrayItem(wsr_json_arr(v, "items"), 0), "metadata"),
			 "name"),
	    then_first);
	cJSON_Delete(v);
}

static void tokens_expire_after_the_seeds_ttl(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("continueTtlMs: 1000");
	char tok[WSR_KCPSIM_CONTINUE_MAX + 1], next[WSR_KCPSIM_CONTINUE_MAX + 1];
	int n;
	kf_create_ok(k, "root", "a", NULL, NULL);
	kf_create_ok(k, "root", "b", NULL, NULL);
	assert_int_equal(page(k, "1", NULL, &n, tok, NULL), 200);
	kf_now += 1000; /* at its age limit: still good */
	assert_int_equal(page(k, "1", tok, &n, next, NULL), 200);
	kf_now += 1;
	expect_expired(k, tok, "b");
	wsr_kcpsim_free(k);
	/* without continueTtlMs a token does not age */
	k = kf_open_seed("");
	kf_create_ok(k, "root", "a", NULL, NULL);
	assert_int_equal(page(k, "1", NULL, &n, tok, NULL), 200);
	kf_now += 86400000;
	assert_int_equal(page(k, "1", tok, &n, next, NULL), 200);
	wsr_kcpsim_free(k);
}

static void sim_expire_continue_expires_every_token_so_far(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("");
	char old[WSR_KCPSIM_CONTINUE_MAX + 1], fresh[WSR_KCPSIM_CONTINUE_MAX + 1],
	    next[WSR_KCPSIM_CONTINUE_MAX + 1];
	int n;
	kf_create_ok(k, "root", "a", NULL, NULL);
	kf_create_ok(k, "root", "b", NULL, NULL);
	assert_int_equal(page(k, "1", NULL, &n, old, NULL), 200);
	wsr_sim_req r = {.method = "POST", .path = "/_sim/expire-continue", .body = ""};
	wsr_sim_resp resp = {0};
	wsr_kcpsim_handle_sim(k, &r, &resp);
	assert_int_equal(resp.status, 200);
	wsr_sim_resp_free(&resp);
	/* in the same millisecond: old tokens are expired, new ones are not */
	assert_int_equal(page(k, "1", NULL, &n, fresh, NULL), 200);
	assert_int_equal(page(k, "1", fresh, &n, next, NULL), 200);
	expect_expired(k, old, "b");
	wsr_sim_req get = {.method = "GET", .path = "/_sim/expire-continue", .body = ""};
	wsr_kcpsim_handle_sim(k, &get, &resp);
	assert_int_equal(resp.status, 405);
	wsr_sim_resp_free(&resp);
	wsr_kcpsim_free(k);
}

static void forged_ages_are_not_tokens(void **state)
{
	(void)state;
	wsr_kcpsim *k = kf_open_seed("continueTtlMs: 1000");
	char tok[WSR_KCPSIM_CONTINUE_MAX + 1], next[WSR_KCPSIM_CONTINUE_MAX + 1];
	int n;
	kf_create_ok(k, "root", "a", NULL, NULL);
	kf_create_ok(k, "root", "b", NULL, NULL);
	assert_int_equal(page(k, "1", NULL, &n, tok, NULL), 200);
	/* a younger issue time under the same MAC is someone else's token */
	char *dot = strchr(tok, '.');
	assert_non_null(dot);
	dot[1] = dot[1] == '9' ? '8' : (char)(dot[1] + 1);
	kf_now += 5000;
	assert_int_equal(page(k, "1", tok, &n, next, NULL), 410);
	wsr_kcpsim_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(any_whole_number_is_a_limit),
	    cmocka_unit_test(tokens_expire_after_the_seeds_ttl),
	    cmocka_unit_test(sim_expire_continue_expires_every_token_so_far),
	    cmocka_unit_test(forged_ages_are_not_tokens),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
