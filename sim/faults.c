/* faults: injected faults, oldest first. A fault that has been used count
 * times is removed at once, so "pending" is always what is left to happen.
 * A percent below 100 is drawn from a xorshift generator the list owns (the
 * emulator calls in under its own lock), seeded from the clock: campaigns
 * want a rate, not a reproducible sequence, since the order of concurrent
 * requests is not reproducible anyway. */
#include "sim/faults.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/err.h"

#define CODE_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_"
#define METHOD_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define METHOD_MAX 16
#define PATH_MAX_LEN 1024

static int why_f(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int why_f(char *why, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, WSR_SIM_FAULT_WHY_MAX, fmt, ap);
	va_end(ap);
	return WSR_EINVAL;
}

void wsr_sim_fault_free(wsr_sim_fault *f)
{
	free(f->method);
	free(f->path);
	free(f->code);
	free(f->message);
	memset(f, 0, sizeof(*f));
}

int wsr_sim_fault_text(const cJSON *in, const char *key, size_t max, const char *set,
		       const char **out, char *why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, key);
	*out = cJSON_GetStringValue(v);
	size_t n = *out ? strlen(*out) : 0;
	if (!*out || !n || n > max || (set && strspn(*out, set) != n))
		return why_f(why, "%s must be a string of 1 to %zu characters%s", key, max,
			     set ? " from its allowed set" : "");
	return 0;
}

/* A whole number from lo to hi; absent is def (when def >= lo). */
static int whole(const cJSON *in, const char *key, long lo, long hi, long def, long *out, char *why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, key);
	if (!v && def >= lo) {
		*out = def;
		return 0;
	}
	double d = cJSON_IsNumber(v) ? v->valuedouble : (double)lo - 1;
	if (d < (double)lo || d > (double)hi || floor(d) != d)
		return why_f(why, "%s must be a whole number from %ld to %ld", key, lo, hi);
	*out = (long)d;
	return 0;
}

/* Which requests a request fault applies to, and when. */
static int target(wsr_sim_fault *f, int kind, const cJSON *in, char *why)
{
	const char *method, *path, *when = "before";
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(in, "when");
	int rc = wsr_sim_fault_text(in, "method", METHOD_MAX, METHOD_CHARS, &method, why);
	if (!rc)
		rc = wsr_sim_fault_text(in, "path", PATH_MAX_LEN, NULL, &path, why);
	if (!rc && path[0] != '/')
		rc = why_f(why, "path must start with /");
	if (!rc && w &&
	    (!(when = cJSON_GetStringValue(w)) ||
	     (strcmp(when, "before") != 0 && strcmp(when, "after") != 0)))
		rc = why_f(why, "when must be before or after");
	if (rc)
		return rc;
	f->kind = kind;
	f->after = strcmp(when, "after") == 0;
	f->method = strdup(method);
	f->path = strdup(path);
	f->message = strdup("injected fault");
	return f->method && f->path && f->message ? 0 : WSR_ENOMEM;
}

int wsr_sim_fault_respond(wsr_sim_fault *f, const cJSON *in, int with_code, char *why)
{
	const char *code = NULL;
	long status;
	int rc = target(f, WSR_SIM_FAULT_RESPOND, in, why);
	if (!rc)
		rc = whole(in, "status", 400, 599, -1, &status, why);
	if (!rc)
		rc = whole(in, "retryAfter", 0, WSR_SIM_FAULT_RETRY_AFTER_MAX, 0, &f->retry_after,
			   why);
	if (!rc && with_code)
		rc = wsr_sim_fault_text(in, "code", WSR_SIM_FAULT_CODE_MAX, CODE_CHARS, &code, why);
	if (rc)
		return rc;
	f->status = (int)status;
	f->code = code ? strdup(code) : NULL;
	return f->code || !code ? 0 : WSR_ENOMEM;
}

int wsr_sim_fault_reset(wsr_sim_fault *f, const cJSON *in, char *why)
{
	return target(f, WSR_SIM_FAULT_RESET, in, why);
}

int wsr_sim_fault_slow(wsr_sim_fault *f, const cJSON *in, char *why)
{
	int rc = target(f, WSR_SIM_FAULT_SLOW, in, why);
	return rc ? rc : whole(in, "ms", 1, WSR_SIM_FAULT_DELAY_MAX_MS, -1, &f->delay_ms, why);
}

int wsr_sim_faults_add(wsr_sim_faults *l, wsr_sim_fault *f, const cJSON *in, char *why)
{
	int rc = whole(in, "skip", 0, WSR_SIM_MAX_FAULT_COUNT, 0, &f->skip, why);
	if (!rc)
		rc = whole(in, "count", 1, WSR_SIM_MAX_FAULT_COUNT, 1, &f->count, why);
	if (!rc)
		rc = whole(in, "percent", 1, 100, 100, &f->percent, why);
	if (!rc && l->n >= WSR_SIM_MAX_FAULTS) {
		why_f(why, "%d faults are pending already; DELETE /_sim/faults clears them",
		      WSR_SIM_MAX_FAULTS);
		rc = WSR_ELIMIT;
	}
	if (!rc && l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		wsr_sim_fault *v = realloc(l->v, cap * sizeof(*v));
		if (v) {
			l->v = v;
			l->cap = cap;
		} else
			rc = WSR_ENOMEM;
	}
	if (rc) {
		wsr_sim_fault_free(f);
		return rc;
	}
	l->v[l->n++] = *f;
	return 0;
}

void wsr_sim_faults_clear(wsr_sim_faults *l)
{
	for (size_t i = 0; i < l->n; i++)
		wsr_sim_fault_free(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int wsr_sim_faults_reached(wsr_sim_faults *l, size_t i)
{
	wsr_sim_fault *f = &l->v[i];
	if (f->skip > 0) {
		f->skip--;
		return 0;
	}
	if (--f->count > 0)
		return 1;
	wsr_sim_fault_free(f);
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
	l->n--;
	return 1;
}

/* 1 with a chance of percent in 100. */
static int draw(wsr_sim_faults *l, long percent)
{
	if (percent >= 100)
		return 1;
	if (!l->rng)
		l->rng = ((unsigned long long)wsr_clock_now_ms() << 20) ^
			 (unsigned long long)getpid() ^ 0x9e3779b97f4a7c15ull;
	l->rng ^= l->rng << 13; /* xorshift64 */
	l->rng ^= l->rng >> 7;
	l->rng ^= l->rng << 17;
	return (long)(l->rng % 100) < percent;
}

/* Oldest first, every matching fault sees the request until one applies: a
 * fault still skipping counts it and passes it on. */
int wsr_sim_faults_take(wsr_sim_faults *l, const char *method, const char *path,
			wsr_sim_fault_hit *hit)
{
	for (size_t i = 0; i < l->n; i++) {
		const wsr_sim_fault *f = &l->v[i];
		if (f->kind > WSR_SIM_FAULT_RESPOND || strcmp(f->method, method) != 0 ||
		    strncmp(path, f->path, strlen(f->path)) != 0)
			continue;
		if (f->skip == 0 && !draw(l, f->percent))
			continue;
		*hit = (wsr_sim_fault_hit){f->kind,	   f->status,	f->after,
					   f->retry_after, f->delay_ms, ""};
		snprintf(hit->code, sizeof(hit->code), "%s", f->code ? f->code : "");
		if (wsr_sim_faults_reached(l, i))
			return 1;
	}
	return 0;
}

int wsr_sim_faults_match(wsr_sim_faults *l, const char *method, const char *path, int *status,
			 char *code)
{
	wsr_sim_fault_hit hit;
	if (!wsr_sim_faults_take(l, method, path, &hit))
		return 0;
	*status = hit.status;
	memcpy(code, hit.code, sizeof(hit.code));
	return 1;
}
