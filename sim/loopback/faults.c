/* faults: injected faults, oldest first. A fault that has been used count
 * times is removed at once, so "pending" is always what is left to happen. */
#include "sim/loopback/faults.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/json.h"
#include "sim/loopback/body.h"

/* A required string of 1..max bytes from the characters in set (NULL: any). */
static int text(const cJSON *in, const char *key, size_t max, const char *set, const char **out,
		char *why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, key);
	*out = cJSON_GetStringValue(v);
	size_t n = *out ? strlen(*out) : 0;
	if (!*out || !n || n > max || (set && strspn(*out, set) != n))
		return wsr_lbsim_why(why, "%s must be a string of 1 to %zu characters%s", key, max,
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
		return wsr_lbsim_why(why, "%s must be a whole number from %ld to %ld", key, lo, hi);
	*out = (long)d;
	return 0;
}

#define CODE_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_"
#define METHOD_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define METHOD_MAX 16
#define PATH_MAX_LEN 1024

static int parse_respond(wsr_lbsim_fault *f, const cJSON *in, char *why)
{
	static const char *const keys[] = {"kind", "method", "path",  "status",
					   "code", "skip",   "count", NULL};
	const char *method, *path, *code;
	long status;
	int rc = wsr_lbsim_only_fields(in, keys, "", why);
	if (!rc)
		rc = text(in, "method", METHOD_MAX, METHOD_CHARS, &method, why);
	if (!rc)
		rc = text(in, "path", PATH_MAX_LEN, NULL, &path, why);
	if (!rc && path[0] != '/')
		rc = wsr_lbsim_why(why, "path must start with /");
	if (!rc)
		rc = whole(in, "status", 400, 599, -1, &status, why);
	if (!rc)
		rc = text(in, "code", WSR_LBSIM_FAULT_CODE_MAX, CODE_CHARS, &code, why);
	if (rc)
		return rc;
	f->status = (int)status;
	f->method = strdup(method);
	f->path = strdup(path);
	f->code = strdup(code);
	f->message = strdup("injected fault");
	return f->method && f->path && f->code && f->message ? 0 : WSR_ENOMEM;
}

static int parse_fail_task(wsr_lbsim_fault *f, const cJSON *in, char *why)
{
	static const char *const keys[] = {"kind", "type",  "code", "message",
					   "skip", "count", NULL};
	const char *code, *msg = "injected fault";
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(in, "message");
	int rc = wsr_lbsim_only_fields(in, keys, "", why);
	if (!rc && !(f->task_type = wsr_lbsim_task_type_parse(wsr_json_str(in, "type"))))
		rc = wsr_lbsim_why(why, "type must be create, delete, upgrade or transfer");
	if (!rc)
		rc = text(in, "code", WSR_LBSIM_FAULT_CODE_MAX, CODE_CHARS, &code, why);
	if (!rc && m)
		rc = text(in, "message", WSR_LBSIM_FAULT_MESSAGE_MAX, NULL, &msg, why);
	if (rc)
		return rc;
	f->code = strdup(code);
	f->message = strdup(msg);
	return f->code && f->message ? 0 : WSR_ENOMEM;
}

int wsr_lbsim_fault_add(wsr_lbsim_store *s, const cJSON *in, char *why)
{
	wsr_lbsim_fault f;
	memset(&f, 0, sizeof(f));
	if (!cJSON_IsObject(in))
		return wsr_lbsim_why(why, "a fault is a JSON object");
	const char *kind = wsr_json_str(in, "kind");
	int rc;
	if (kind && strcmp(kind, "respond") == 0)
		rc = parse_respond(&f, in, why);
	else if (kind && strcmp(kind, "failTask") == 0)
		rc = parse_fail_task(&f, in, why);
	else
		rc = wsr_lbsim_why(why, "kind must be respond or failTask");
	if (!rc)
		rc = whole(in, "skip", 0, WSR_LBSIM_MAX_FAULT_COUNT, 0, &f.skip, why);
	if (!rc)
		rc = whole(in, "count", 1, WSR_LBSIM_MAX_FAULT_COUNT, 1, &f.count, why);
	if (!rc && s->nfaults >= WSR_LBSIM_MAX_FAULTS) {
		wsr_lbsim_why(why, "%d faults are pending already; DELETE /_sim/faults clears them",
			      WSR_LBSIM_MAX_FAULTS);
		rc = WSR_ELIMIT;
	}
	if (!rc && s->nfaults == s->capfaults) {
		size_t cap = s->capfaults ? s->capfaults * 2 : 8;
		wsr_lbsim_fault *v = realloc(s->faults, cap * sizeof(*v));
		if (v) {
			s->faults = v;
			s->capfaults = cap;
		} else
			rc = WSR_ENOMEM;
	}
	if (rc) {
		wsr_lbsim_fault_free(&f);
		return rc;
	}
	s->faults[s->nfaults++] = f;
	return 0;
}

void wsr_lbsim_faults_clear(wsr_lbsim_store *s)
{
	for (size_t i = 0; i < s->nfaults; i++)
		wsr_lbsim_fault_free(&s->faults[i]);
	s->nfaults = 0;
}

size_t wsr_lbsim_faults_pending(const wsr_lbsim_store *s)
{
	return s->nfaults;
}

/* A matching request or task reached fault i: 1 when the fault applies to
 * it (and is used once, removed when used up), 0 when it lets it through
 * (one fewer to skip). */
static int reached(wsr_lbsim_store *s, size_t i)
{
	wsr_lbsim_fault *f = &s->faults[i];
	if (f->skip > 0) {
		f->skip--;
		return 0;
	}
	if (--f->count > 0)
		return 1;
	wsr_lbsim_fault_free(f);
	memmove(&s->faults[i], &s->faults[i + 1], (s->nfaults - i - 1) * sizeof(*s->faults));
	s->nfaults--;
	return 1;
}

/* Oldest first, every matching fault sees the request or task until one
 * applies: a fault still skipping counts it and passes it on. */
int wsr_lbsim_fault_respond(wsr_lbsim_store *s, const char *method, const char *path, int *status,
			    char *code)
{
	for (size_t i = 0; i < s->nfaults; i++) {
		const wsr_lbsim_fault *f = &s->faults[i];
		if (f->task_type || strcmp(f->method, method) != 0 ||
		    strncmp(path, f->path, strlen(f->path)) != 0)
			continue;
		*status = f->status;
		snprintf(code, WSR_LBSIM_FAULT_CODE_MAX + 1, "%s", f->code);
		if (reached(s, i))
			return 1;
	}
	return 0;
}

int wsr_lbsim_fault_task(wsr_lbsim_store *s, wsr_lbsim_task *t)
{
	for (size_t i = 0; i < s->nfaults; i++) {
		const wsr_lbsim_fault *f = &s->faults[i];
		if (f->task_type != t->type || f->skip > 0) {
			if (f->task_type == t->type)
				reached(s, i); /* counts one skipped */
			continue;
		}
		int rc = wsr_lbsim_task_fail(t, f->code, f->message);
		if (!rc)
			reached(s, i);
		return rc;
	}
	return 0;
}
