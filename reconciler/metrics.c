/* metrics: the counters, gauges and histograms of `wsr watch` and their
 * Prometheus text rendering. Separate from the HTTP server (which only asks
 * for the text) and from the loop (which only records events), so both stay
 * ignorant of the exposition format. The label sets are fixed arrays: a
 * label value from outside the contract is dropped, never added. */
#include "reconciler/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *const results[] = {"ok", "failed", "invalid", "error"};
static const char *const actions[] = {"create", "update",   "replace",
				      "delete", "transfer", "upgrade"};
static const char *const change_results[] = {"ok", "failed"};
static const char *const error_kinds[] = {"source", "config", "spec",	"plan",
					  "apply",  "state",  "webhook"};
static const char *const held_reasons[] = {"window", "selfheal", "backoff"};

/* One set of buckets for both histograms: a reconcile and a fetch both run
 * from milliseconds (an unchanged directory) to minutes (a slow platform). */
static const double bounds[] = {.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300};
/* as Prometheus' own clients print them, so series match other exporters' */
static const char *const bound_text[] = {"0.01", "0.05", "0.1", "0.25", "0.5", "1",
					 "2.5",	 "5",	 "10",	"30",	"60",  "300"};
#define NBUCKETS N_OF(bounds)

typedef struct histogram {
	unsigned long long in[NBUCKETS + 1]; /* per bucket, not cumulative; last is +Inf */
	unsigned long long count;
	double sum;
} histogram;

struct wsr_metrics {
	pthread_mutex_t mu;
	unsigned long long reconciles[N_OF(results)];
	histogram reconcile_secs;
	double last_success; /* seconds since the epoch; 0 = never */
	unsigned long long changes[N_OF(actions)][N_OF(change_results)];
	unsigned long long drifted;
	unsigned long long errors[N_OF(error_kinds)];
	histogram fetch_secs;
	long long held[N_OF(held_reasons)];
	char revision[WSR_METRICS_MAX_REVISION + 1]; /* "" = unknown */
	int ha, ha_leader;			     /* ha: watch.ha is on */
	unsigned long long ha_transitions;
};

static int find(const char *const *set, size_t n, const char *v)
{
	for (size_t i = 0; v && i < n; i++)
		if (strcmp(set[i], v) == 0)
			return (int)i;
	return -1;
}

static void observe(histogram *h, double secs)
{
	if (!(secs >= 0)) /* negative or NaN: a clock step, not a duration */
		secs = 0;
	size_t i = 0;
	while (i < NBUCKETS && secs > bounds[i])
		i++;
	h->in[i]++;
	h->count++;
	h->sum += secs;
}

wsr_metrics *wsr_metrics_new(void)
{
	wsr_metrics *m = calloc(1, sizeof(*m));
	if (m && pthread_mutex_init(&m->mu, NULL) != 0) {
		free(m);
		return NULL;
	}
	return m;
}

void wsr_metrics_free(wsr_metrics *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->mu);
	free(m);
}

void wsr_metrics_reconcile(wsr_metrics *m, const char *result, double secs, int64_t now_ms)
{
	int i = find(results, N_OF(results), result);
	if (i < 0)
		return;
	pthread_mutex_lock(&m->mu);
	m->reconciles[i]++;
	observe(&m->reconcile_secs, secs);
	if (i == 0)
		m->last_success = (double)now_ms / 1000.0;
	pthread_mutex_unlock(&m->mu);
}

void wsr_metrics_change(wsr_metrics *m, const char *action, int ok)
{
	int i = find(actions, N_OF(actions), action);
	if (i < 0)
		return;
	pthread_mutex_lock(&m->mu);
	m->changes[i][ok ? 0 : 1]++;
	pthread_mutex_unlock(&m->mu);
}

void wsr_metrics_drift(wsr_metrics *m, int n)
{
	if (n <= 0)
		return;
	pthread_mutex_lock(&m->mu);
	m->drifted += (unsigned long long)n;
	pthread_mutex_unlock(&m->mu);
}

void wsr_metrics_error(wsr_metrics *m, const char *kind)
{
	int i = find(error_kinds, N_OF(error_kinds), kind);
	if (i < 0)
		return;
	pthread_mutex_lock(&m->mu);
	m->errors[i]++;
	pthread_mutex_unlock(&m->mu);
}

void wsr_metrics_fetch(wsr_metrics *m, double secs)
{
	pthread_mutex_lock(&m->mu);
	observe(&m->fetch_secs, secs);
	pthread_mutex_unlock(&m->mu);
}

void wsr_metrics_held(wsr_metrics *m, int window, int selfheal, int backoff)
{
	pthread_mutex_lock(&m->mu);
	m->held[0] = window > 0 ? window : 0;
	m->held[1] = selfheal > 0 ? selfheal : 0;
	m->held[2] = backoff > 0 ? backoff : 0;
	pthread_mutex_unlock(&m->mu);
}

void wsr_metrics_revision(wsr_metrics *m, const char *rev)
{
	pthread_mutex_lock(&m->mu);
	size_t n = 0;
	/* A label value must be UTF-8; a revision is ASCII (a commit id), so
	 * anything else is shown as '?' rather than risking invalid text. */
	for (; rev && rev[n] && n < WSR_METRICS_MAX_REVISION; n++) {
		unsigned char c = (unsigned char)rev[n];
		m->revision[n] = (c >= 0x20 && c < 0x7f) || c == '\n' ? (char)c : '?';
	}
	m->revision[n] = '\0';
	pthread_mutex_unlock(&m->mu);
}

void wsr_metrics_ha(wsr_metrics *m, int leader, int64_t transitions)
{
	pthread_mutex_lock(&m->mu);
	m->ha = 1;
	m->ha_leader = leader != 0;
	m->ha_transitions = transitions > 0 ? (unsigned long long)transitions : 0;
	pthread_mutex_unlock(&m->mu);
}

/* Shortest text that reads back as the same double. */
static void put_double(wsr_buf *b, double v)
{
	char s[40];
	snprintf(s, sizeof(s), "%.15g", v);
	if (strtod(s, NULL) != v)
		snprintf(s, sizeof(s), "%.17g", v);
	wsr_buf_puts(b, s);
}

static void family(wsr_buf *b, const char *name, const char *type, const char *help)
{
	wsr_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_label_value(wsr_buf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			wsr_buf_puts(b, "\\\\");
		else if (*v == '"')
			wsr_buf_puts(b, "\\\"");
		else if (*v == '\n')
			wsr_buf_puts(b, "\\n");
		else
			wsr_buf_putc(b, *v);
	}
}

/* One counter family with one label over a fixed set of values. */
static void labelled(wsr_buf *b, const char *name, const char *label, const char *const *set,
		     size_t n, const unsigned long long *v)
{
	for (size_t i = 0; i < n; i++)
		wsr_buf_printf(b, "%s{%s=\"%s\"} %llu\n", name, label, set[i], v[i]);
}

static void render_histogram(wsr_buf *b, const char *name, const histogram *h)
{
	unsigned long long cum = 0;
	for (size_t i = 0; i <= NBUCKETS; i++) {
		cum += h->in[i];
		wsr_buf_printf(b, "%s_bucket{le=\"%s\"} %llu\n", name,
			       i < NBUCKETS ? bound_text[i] : "+Inf", cum);
	}
	wsr_buf_printf(b, "%s_sum ", name);
	put_double(b, h->sum);
	wsr_buf_printf(b, "\n%s_count %llu\n", name, h->count);
}

char *wsr_metrics_render(wsr_metrics *m)
{
	wsr_buf b = WSR_BUF_INIT;
	pthread_mutex_lock(&m->mu);
	family(&b, "wsr_reconcile_total", "counter", "Reconciles finished, by result.");
	labelled(&b, "wsr_reconcile_total", "result", results, N_OF(results), m->reconciles);

	family(&b, "wsr_reconcile_duration_seconds", "histogram",
	       "How long a reconcile took, from source to the last change applied.");
	render_histogram(&b, "wsr_reconcile_duration_seconds", &m->reconcile_secs);

	family(&b, "wsr_last_success_timestamp_seconds", "gauge",
	       "When the last successful reconcile finished (0: never).");
	wsr_buf_puts(&b, "wsr_last_success_timestamp_seconds ");
	put_double(&b, m->last_success);
	wsr_buf_putc(&b, '\n');

	family(&b, "wsr_changes_applied_total", "counter",
	       "Actions of changes applied to the platform, by action and result.");
	for (size_t i = 0; i < N_OF(actions); i++)
		for (size_t j = 0; j < N_OF(change_results); j++)
			wsr_buf_printf(&b,
				       "wsr_changes_applied_total{action=\"%s\",result=\"%s\"} "
				       "%llu\n",
				       actions[i], change_results[j], m->changes[i][j]);

	family(&b, "wsr_drift_detected_total", "counter",
	       "Workspaces found drifted (changed outside wsr), summed over reconciles.");
	wsr_buf_printf(&b, "wsr_drift_detected_total %llu\n", m->drifted);

	family(&b, "wsr_errors_total", "counter", "Errors, by where they happened.");
	labelled(&b, "wsr_errors_total", "kind", error_kinds, N_OF(error_kinds), m->errors);

	family(&b, "wsr_source_fetch_duration_seconds", "histogram",
	       "How long reading the source (git fetch or directory scan) took.");
	render_histogram(&b, "wsr_source_fetch_duration_seconds", &m->fetch_secs);

	family(&b, "wsr_held_changes", "gauge", "Changes waiting now, by reason.");
	for (size_t i = 0; i < N_OF(held_reasons); i++)
		wsr_buf_printf(&b, "wsr_held_changes{reason=\"%s\"} %lld\n", held_reasons[i],
			       m->held[i]);

	family(&b, "wsr_source_info", "gauge",
	       "The source revision being reconciled (no sample until one is known).");
	if (m->revision[0]) {
		wsr_buf_puts(&b, "wsr_source_info{revision=\"");
		put_label_value(&b, m->revision);
		wsr_buf_puts(&b, "\"} 1\n");
	}

	if (m->ha) {
		family(&b, "wsr_ha_leader", "gauge",
		       "1 while this replica is the leader (watch.ha), else 0.");
		wsr_buf_printf(&b, "wsr_ha_leader %d\n", m->ha_leader);
		family(&b, "wsr_ha_transitions_total", "counter",
		       "Times this replica became or stopped being the leader.");
		wsr_buf_printf(&b, "wsr_ha_transitions_total %llu\n", m->ha_transitions);
	}
	pthread_mutex_unlock(&m->mu);
	if (wsr_buf_failed(&b)) {
		wsr_buf_free(&b);
		return NULL;
	}
	return wsr_buf_detach(&b);
}
