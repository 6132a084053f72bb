/* fuzz_report: what `wsr watch` serves on GET /status and GET /metrics
 * (reconciler/watch_report.c, reconciler/metrics.c), fed by a state
 * parsed from the fuzzed bytes (wsr_state_from_json): every recorded
 * workspace becomes one item of a plan, with actions, holds, failures and
 * bad spec files chosen from what the entry records, so addresses,
 * revisions, file names and errors from a damaged state reach every
 * renderer, the events on stderr included. A state that does not parse
 * still reports its diagnostics. The status must be JSON and the
 * exposition text well-formed: a broken document breaks every dashboard. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/json.h"
#include "reconciler/watch_report.h"
#include "state/state.h"
#include "tests/fuzz/fuzz.h"

/* The holds watch.c and window.c put on items, by entry. */
static const char *const holds[] = {NULL, "waiting for maintenance window (next: Tue 03:00 UTC)",
				    "drift: selfHeal is off", "backing off after 2 failures"};
static const char *const results[] = {"ok", "failed", "invalid", "error"};

/* 1 when text is Prometheus text format 0.0.4 as a scraper reads it:
 * comments, or `name{label="value",...} number` with escaped values. */
static int exposition_ok(const char *text)
{
	for (const char *p = text; *p;) {
		const char *end = strchr(p, '\n');
		if (!end)
			return 0; /* every line ends with a newline */
		if (*p != '#') {
			size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz_:0123456789");
			if (!n)
				return 0;
			p += n;
			if (*p == '{') {
				for (p++; *p != '}';) {
					p += strspn(p, "abcdefghijklmnopqrstuvwxyz_");
					if (p[0] != '=' || p[1] != '"')
						return 0;
					for (p += 2; *p != '"'; p++)
						if (*p == '\n' || !*p ||
						    (*p == '\\' && !strchr("\\\"n", *++p)))
							return 0;
					p++;
					if (*p == ',')
						p++;
					else if (*p != '}')
						return 0;
				}
				p++;
			}
			if (*p != ' ' || p + 1 >= end || memchr(p + 1, ' ', (size_t)(end - p - 1)))
				return 0;
		}
		p = end + 1;
	}
	return 1;
}

/* A plan with one item per entry (sorted, as the planner orders them). */
static int build(wsr_plan *p, wsr_change **cs, int **rcs, const wsr_state *s)
{
	wsr_state_entry **v = wsr_state_sorted(s);
	p->items = calloc(s->n ? s->n : 1, sizeof(*p->items));
	*cs = calloc(s->n ? s->n : 1, sizeof(**cs));
	*rcs = calloc(s->n ? s->n : 1, sizeof(**rcs));
	if (!v || !p->items || !*cs || !*rcs) {
		free(v);
		return -1;
	}
	for (size_t i = 0; i < s->n; i++) {
		wsr_change *c = &(*cs)[i];
		c->address = v[i]->address;
		c->provider = v[i]->provider;
		c->kind = v[i]->kind;
		c->nactions = (int)(((size_t)v[i]->line + i) % 3);
		for (int a = 0; a < c->nactions; a++)
			c->actions[a] = (wsr_action)(((size_t)v[i]->updated_ms + (size_t)a) % 5);
		p->items[i].change = c;
		p->items[i].recorded = v[i];
		const char *h = holds[i % 4];
		p->items[i].hold = h ? strdup(h) : NULL;
		p->items[i].hold_until_ms = v[i]->updated_ms;
		(*rcs)[i] = i % 3 == 0 ? 1 : i % 3 == 1 ? 0 : -1;
		p->n++;
	}
	free(v);
	return 0;
}

static void plan_free(wsr_plan *p, wsr_change *cs, int *rcs)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->items[i].hold);
	free(p->items);
	free(cs);
	free(rcs);
}

/* What one reconcile reports, then both documents rendered and checked. */
static void reconcile(wsr_report *r, const wsr_state *s, const wsr_diag *diag, int parsed)
{
	wsr_plan p = {0};
	wsr_change *cs = NULL;
	int *rcs = NULL;
	const char *rev = s && s->n ? s->v[0]->revision : s ? s->lineage : NULL;
	wsr_report_fetch(r, 0.25);
	wsr_report_source(r, rev, parsed ? NULL : "fetch failed: bad state");
	wsr_report_start(r);
	char *bad[2] = {NULL, NULL};
	wsr_run run = {.state = (wsr_state *)s, .plan = &p, .bad_files = bad};
	if (s && build(&p, &cs, &rcs, s) == 0) {
		for (size_t i = 0; i < p.n; i++) {
			const wsr_state_entry *e = p.items[i].recorded;
			if (p.items[i].change->nactions)
				wsr_report_change(r, &p.items[i], rcs[i] == 1 ? 0 : rcs[i], e->id,
						  1000, 60000, e->updated_ms);
			if (e->file && run.nbad < 2)
				bad[run.nbad++] = e->file;
		}
		wsr_report_outcome(r, &run, 0, s->serial % 2 ? rcs : NULL, diag);
	} else {
		wsr_report_outcome(r, NULL, WSR_EINVAL, NULL, diag);
	}
	wsr_report_reconcile(r, results[s ? (size_t)s->serial % 4 : 3], 1.5, rev);
	plan_free(&p, cs, rcs);
	for (size_t i = 0; s && i < s->n; i++)
		(void)wsr_report_retry_at(r, s->v[i]->address);
	(void)wsr_report_next_due(r);
	(void)wsr_report_not_ready(r);

	char *status = wsr_report_status(r);
	cJSON *back = NULL;
	if (status && wsr_json_parse(&back, status, strlen(status), NULL) != 0) {
		fprintf(stderr, "report: /status is not JSON:\n%s\n", status);
		abort();
	}
	cJSON_Delete(back);
	free(status);
	char *metrics = wsr_metrics_render(r->metrics);
	if (metrics && !exposition_ok(metrics)) {
		fprintf(stderr, "report: /metrics is not the text format:\n%s\n", metrics);
		abort();
	}
	free(metrics);
}

static int fuzz_report(const uint8_t *data, size_t size)
{
	/* events go to stderr: thousands a second would drown libFuzzer's own
	 * output, so they go to /dev/null unless WSR_FUZZ_VERBOSE is set */
	int saved = -1;
#ifdef WSR_FUZZ_LIBFUZZER
	if (!getenv("WSR_FUZZ_VERBOSE")) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		fflush(stderr);
		saved = dup(2);
		dup2(null, 2);
		close(null);
	}
#endif
	wsr_state *s = NULL;
	wsr_diag diag;
	wsr_diag_init(&diag);
	int parsed =
	    wsr_state_from_json(&s, size ? (const char *)data : "", size, "state.json", &diag) == 0;
	wsr_report r;
	if (wsr_report_init(&r, size % 2, "git", "https://git.example/specs.git", "main",
			    "specs") == 0)
		reconcile(&r, s, &diag, parsed);
	wsr_report_free(&r);
	wsr_state_free(s);
	wsr_diag_free(&diag);
	if (saved >= 0) {
		fflush(stderr);
		dup2(saved, 2);
		close(saved);
	}
	return 0;
}
WSR_FUZZ_TARGET(fuzz_report)
