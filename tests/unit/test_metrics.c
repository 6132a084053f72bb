/* test_metrics: the /metrics text as a scraper reads it. The text is parsed
 * structurally here (HELP and TYPE before each family's samples, histogram
 * buckets cumulative up to +Inf and equal to _count) rather than compared
 * with a golden file, so a new series does not break the test but a
 * malformed one does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconciler/metrics.h"

static const char *const contract[][2] = {
    {"wsr_reconcile_total", "counter"},
    {"wsr_reconcile_duration_seconds", "histogram"},
    {"wsr_last_success_timestamp_seconds", "gauge"},
    {"wsr_changes_applied_total", "counter"},
    {"wsr_drift_detected_total", "counter"},
    {"wsr_errors_total", "counter"},
    {"wsr_source_fetch_duration_seconds", "histogram"},
    {"wsr_held_changes", "gauge"},
    {"wsr_source_info", "gauge"},
};
#define NFAMILIES (sizeof(contract) / sizeof(contract[0]))

typedef struct family {
	char name[64], type[16];
	int samples;
} family;

/* Checks the text's structure; fills fams (at most max) and returns how many. */
static size_t parse(const char *text, family *fams, size_t max)
{
	size_t n = 0;
	family *cur = NULL;
	/* histogram state of the current family */
	double last_le = -INFINITY, last_cum = -1, inf_count = -1;
	int saw_sum = 0;
	const char *line = text;
	assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
	while (*line) {
		const char *eol = strchr(line, '\n');
		assert_non_null(eol);
		char l[512];
		size_t len = (size_t)(eol - line);
		assert_true(len < sizeof(l));
		memcpy(l, line, len);
		l[len] = '\0';
		line = eol + 1;
		char name[128], rest[256];
		if (strncmp(l, "# HELP ", 7) == 0) {
			if (cur && strcmp(cur->type, "histogram") == 0) /* the last one closed */
				assert_true(saw_sum && inf_count >= 0);
			assert_true(n < max);
			cur = &fams[n++];
			memset(cur, 0, sizeof(*cur));
			assert_int_equal(sscanf(l + 7, "%63s %255[^\n]", cur->name, rest), 2);
			for (size_t i = 0; i + 1 < n; i++) /* each family once */
				assert_string_not_equal(fams[i].name, cur->name);
			last_le = -INFINITY;
			last_cum = -1;
			inf_count = -1;
			saw_sum = 0;
			continue;
		}
		assert_non_null(cur); /* nothing before the first HELP */
		if (strncmp(l, "# TYPE ", 7) == 0) {
			assert_string_equal(cur->type, ""); /* once, right after HELP */
			assert_int_equal(sscanf(l + 7, "%127s %15s", name, cur->type), 2);
			assert_string_equal(name, cur->name);
			continue;
		}
		assert_true(l[0] != '#');
		assert_string_not_equal(cur->type, ""); /* TYPE before samples */
		/* name{labels} value */
		size_t nl = strcspn(l, "{ ");
		assert_true(nl < sizeof(name));
		memcpy(name, l, nl);
		name[nl] = '\0';
		const char *v = strrchr(l, ' ');
		assert_non_null(v);
		char *end;
		double val = strtod(v + 1, &end);
		assert_true(*end == '\0' && end != v + 1);
		cur->samples++;
		if (strcmp(cur->type, "histogram") != 0) {
			assert_string_equal(name, cur->name);
			if (strcmp(cur->type, "counter") == 0) {
				assert_true(strlen(name) > 6 &&
					    strcmp(name + strlen(name) - 6, "_total") == 0);
				assert_true(val >= 0);
			}
			continue;
		}
		size_t fl = strlen(cur->name);
		assert_memory_equal(name, cur->name, fl);
		if (strcmp(name + fl, "_bucket") == 0) {
			const char *le = strstr(l, "{le=\"");
			assert_non_null(le);
			double b =
			    strncmp(le + 5, "+Inf\"", 5) == 0 ? INFINITY : strtod(le + 5, &end);
			assert_true(b > last_le);     /* increasing bounds */
			assert_true(val >= last_cum); /* cumulative */
			assert_true(inf_count < 0);   /* +Inf is the last bucket */
			last_le = b;
			last_cum = val;
			if (isinf(b))
				inf_count = val;
		} else if (strcmp(name + fl, "_sum") == 0) {
			assert_true(inf_count >= 0);
			saw_sum = 1;
		} else {
			assert_string_equal(name + fl, "_count");
			assert_true(saw_sum);
			assert_true(val == inf_count); /* the +Inf bucket counts everything */
		}
	}
	return n;
}

/* The value of the sample that starts with series + " ", or NAN. */
static double sample(const char *text, const char *series)
{
	size_t sl = strlen(series);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, series, sl) == 0 && p[sl] == ' ')
			return strtod(p + sl + 1, NULL);
	return NAN;
}

static void check_contract(const char *text)
{
	family f[32];
	size_t n = parse(text, f, 32);
	assert_int_equal(n, NFAMILIES);
	for (size_t i = 0; i < NFAMILIES; i++) {
		assert_string_equal(f[i].name, contract[i][0]);
		assert_string_equal(f[i].type, contract[i][1]);
	}
}

static void test_every_series_from_the_start(void **st)
{
	(void)st;
	wsr_metrics *m = wsr_metrics_new();
	char *t = wsr_metrics_render(m);
	check_contract(t);
	static const char *const zero[] = {
	    "wsr_reconcile_total{result=\"invalid\"}",
	    "wsr_changes_applied_total{action=\"transfer\",result=\"failed\"}",
	    "wsr_errors_total{kind=\"webhook\"}",
	    "wsr_held_changes{reason=\"selfheal\"}",
	    "wsr_drift_detected_total",
	    "wsr_last_success_timestamp_seconds",
	    "wsr_reconcile_duration_seconds_bucket{le=\"+Inf\"}",
	    "wsr_source_fetch_duration_seconds_count",
	};
	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++) {
		print_message("%s\n", zero[i]);
		assert_true(sample(t, zero[i]) == 0);
	}
	/* 4 results, 6 actions x 2 results, 7 kinds, 3 reasons */
	family f[32];
	parse(t, f, 32);
	assert_int_equal(f[0].samples, 4);
	assert_int_equal(f[1].samples, 12 + 1 + 2);
	assert_int_equal(f[3].samples, 12);
	assert_int_equal(f[5].samples, 7);
	assert_int_equal(f[7].samples, 3);
	assert_int_equal(f[8].samples, 0); /* no revision known: no info sample */
	free(t);
	wsr_metrics_free(m);
}

static void test_events(void **st)
{
	(void)st;
	wsr_metrics *m = wsr_metrics_new();
	wsr_metrics_reconcile(m, "ok", 0.03, 1763716500123LL);
	wsr_metrics_reconcile(m, "failed", 12.0, 1763716600000LL);
	wsr_metrics_reconcile(m, "error", 0.01, 0); /* on the bound: le is inclusive */
	wsr_metrics_change(m, "update", 1);
	wsr_metrics_change(m, "replace", 0);
	wsr_metrics_change(m, "replace", 0);
	wsr_metrics_drift(m, 3);
	wsr_metrics_drift(m, -1);
	wsr_metrics_error(m, "webhook");
	wsr_metrics_fetch(m, 0.2);
	wsr_metrics_fetch(m, 400);
	wsr_metrics_held(m, 1, 2, -5);
	wsr_metrics_revision(m, "3f2a1bc");
	char *t = wsr_metrics_render(m);
	check_contract(t);
	assert_true(sample(t, "wsr_reconcile_total{result=\"ok\"}") == 1);
	assert_true(sample(t, "wsr_reconcile_total{result=\"failed\"}") == 1);
	assert_true(sample(t, "wsr_reconcile_total{result=\"error\"}") == 1);
	assert_true(sample(t, "wsr_reconcile_duration_seconds_bucket{le=\"0.01\"}") == 1);
	assert_true(sample(t, "wsr_reconcile_duration_seconds_bucket{le=\"0.05\"}") == 2);
	assert_true(sample(t, "wsr_reconcile_duration_seconds_bucket{le=\"10\"}") == 2);
	assert_true(sample(t, "wsr_reconcile_duration_seconds_bucket{le=\"30\"}") == 3);
	assert_true(sample(t, "wsr_reconcile_duration_seconds_count") == 3);
	assert_true(fabs(sample(t, "wsr_reconcile_duration_seconds_sum") - 12.04) < 1e-9);
	/* only "ok" moves the last success, to the millisecond */
	assert_non_null(strstr(t, "\nwsr_last_success_timestamp_seconds 1763716500.123\n"));
	assert_true(sample(t, "wsr_changes_applied_total{action=\"update\",result=\"ok\"}") == 1);
	assert_true(sample(t, "wsr_changes_applied_total{action=\"replace\",result=\"failed\"}") ==
		    2);
	assert_true(sample(t, "wsr_changes_applied_total{action=\"replace\",result=\"ok\"}") == 0);
	assert_true(sample(t, "wsr_drift_detected_total") == 3);
	assert_true(sample(t, "wsr_errors_total{kind=\"webhook\"}") == 1);
	assert_true(sample(t, "wsr_source_fetch_duration_seconds_bucket{le=\"300\"}") == 1);
	assert_true(sample(t, "wsr_source_fetch_duration_seconds_bucket{le=\"+Inf\"}") == 2);
	assert_true(sample(t, "wsr_held_changes{reason=\"window\"}") == 1);
	assert_true(sample(t, "wsr_held_changes{reason=\"selfheal\"}") == 2);
	assert_true(sample(t, "wsr_held_changes{reason=\"backoff\"}") == 0);
	assert_true(sample(t, "wsr_source_info{revision=\"3f2a1bc\"}") == 1);
	free(t);
	/* a new revision replaces the old series, it does not add one */
	wsr_metrics_revision(m, "4e5f");
	t = wsr_metrics_render(m);
	assert_null(strstr(t, "3f2a1bc"));
	assert_true(sample(t, "wsr_source_info{revision=\"4e5f\"}") == 1);
	free(t);
	wsr_metrics_free(m);
}

static void test_unknown_labels_ignored(void **st)
{
	(void)st;
	wsr_metrics *m = wsr_metrics_new();
	char *before = wsr_metrics_render(m);
	wsr_metrics_reconcile(m, "weird", 1, 1000);
	wsr_metrics_reconcile(m, NULL, 1, 1000);
	wsr_metrics_change(m, "explode", 1);
	wsr_metrics_error(m, "nope");
	wsr_metrics_error(m, "Webhook");
	char *after = wsr_metrics_render(m);
	/* nothing at all changed: no new series, no count, no duration */
	assert_string_equal(before, after);
	free(before);
	free(after);
	wsr_metrics_free(m);
}

static void test_label_escaping(void **st)
{
	(void)st;
	wsr_metrics *m = wsr_metrics_new();
	wsr_metrics_revision(m, "a\"b\\c\nd\x01\xc3\xa9");
	char *t = wsr_metrics_render(m);
	check_contract(t);
	assert_non_null(strstr(t, "\nwsr_source_info{revision=\"a\\\"b\\\\c\\nd???\"} 1\n"));
	free(t);
	/* a long revision is cut, not refused */
	char rev[WSR_METRICS_MAX_REVISION * 2 + 1];
	memset(rev, 'f', sizeof(rev) - 1);
	rev[sizeof(rev) - 1] = '\0';
	wsr_metrics_revision(m, rev);
	t = wsr_metrics_render(m);
	rev[WSR_METRICS_MAX_REVISION] = '\0';
	char want[sizeof(rev) + 64];
	snprintf(want, sizeof(want), "{revision=\"%s\"} 1\n", rev);
	assert_non_null(strstr(t, want));
	free(t);
	wsr_metrics_revision(m, NULL);
	t = wsr_metrics_render(m);
	assert_null(strstr(t, "wsr_source_info{"));
	free(t);
	wsr_metrics_free(m);
}

static void *record(void *arg)
{
	wsr_metrics *m = arg;
	for (int i = 0; i < 1000; i++) {
		wsr_metrics_error(m, "apply");
		wsr_metrics_fetch(m, 0.001);
	}
	return NULL;
}

static void test_threads(void **st)
{
	(void)st;
	wsr_metrics *m = wsr_metrics_new();
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, record, m), 0);
	for (int i = 0; i < 20; i++) { /* renders while they record: always well-formed */
		char *t = wsr_metrics_render(m);
		check_contract(t);
		free(t);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	char *t = wsr_metrics_render(m);
	assert_true(sample(t, "wsr_errors_total{kind=\"apply\"}") == 4000);
	assert_true(sample(t, "wsr_source_fetch_duration_seconds_bucket{le=\"0.01\"}") == 4000);
	free(t);
	wsr_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_series_from_the_start),
	    cmocka_unit_test(test_events),
	    cmocka_unit_test(test_unknown_labels_ignored),
	    cmocka_unit_test(test_label_escaping),
	    cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
