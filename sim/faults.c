/* faults: injected faults, oldest first. A fault that has been used count
 * times is removed at once, so "pending" is always what is left to happen. */
#include "sim/faults.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int wsr_sim_fault_respond(wsr_sim_fault *f, const cJSON *in, int with_code, char *why)
{
	const char *method, *path, *code = NULL;
	long status;
	int rc = wsr_sim_fault_text(in, "method", METHOD_MAX, METHOD_CHARS, &method, why);
	if (!rc)
		rc = wsr_sim_fault_text(in, "path", PATH_MAX_LEN, NULL, &path, why);
	if (!rc && path[0] != '/')
		rc = why_f(why, "path must start with /");
	if (!rc)
		rc = whole(in, "status", 400, 599, -1, &status, why);
	if (!rc && with_code)
		rc = wsr_sim_fault_text(in, "code", WSR_SIM_FAULT_CODE_MAX, CODE_CHARS, &code, why);
	if (rc)
		return rc;
	f->kind = WSR_SIM_FAULT_RESPOND;
	f->status = (int)status;
	f->method = strdup(method);
	f->path = strdup(path);
	f->code = code ? strdup(code) : NULL;
	f->message = strdup("injected fault");
	return f->method && f->path && (f->code || !code) && f->message ? 0 : WSR_ENOMEM;
}

int wsr_sim_faults_add(wsr_sim_faults *l, wsr_sim_fault *f, const cJSON *in, char *why)
{
	int rc = whole(in, "skip", 0, WSR_SIM_MAX_FAULT_COUNT, 0, &f->skip, why);
	if (!rc)
		rc = whole(in, "count", 1, WSR_SIM_MAX_FAULT_COUNT, 1, &f->count, why);
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

/* Oldest first, every matching fault sees the request until one applies: a
 * fault still skipping counts it and passes it on. */
int wsr_sim_faults_match(wsr_sim_faults *l, const char *method, const char *path, int *status,
			 char *code)
{
	for (size_t i = 0; i < l->n; i++) {
		const wsr_sim_fault *f = &l->v[i];
		if (f->kind != WSR_SIM_FAULT_RESPOND || strcmp(f->method, method) != 0 ||
		    strncmp(path, f->path, strlen(f->path)) != 0)
			continue;
		*status = f->status;
		snprintf(code, WSR_SIM_FAULT_CODE_MAX + 1, "%s", f->code ? f->code : "");
		if (wsr_sim_faults_reached(l, i))
			return 1;
	}
	return 0;
}
