/* check: the path-tracking seed checks, moved here from the Loopback
 * emulator's platform.c when the kcp emulator needed the same thing. The
 * path is a fixed array: seeds are shallow, and a path deeper than
 * WSR_CHECK_PATH_MAX is still reported, at its first steps. */
#include "sim/check.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"

void wsr_check_init(wsr_check *c, wsr_check_err *e)
{
	memset(c, 0, sizeof(*c));
	memset(e, 0, sizeof(*e));
	c->e = e;
}

void wsr_check_push(wsr_check *c, const char *key, int index)
{
	if (c->depth < WSR_CHECK_PATH_MAX)
		c->path[c->depth] = (wsr_check_step){key, index};
	c->depth++;
}

void wsr_check_pop(wsr_check *c)
{
	c->depth--;
}

static int vfail(wsr_check *c, const char *key, const char *fmt, va_list ap)
{
	wsr_check_err *e = c->e;
	e->nsteps = c->depth < WSR_CHECK_PATH_MAX ? c->depth : WSR_CHECK_PATH_MAX;
	memcpy(e->steps, c->path, sizeof(e->steps[0]) * (size_t)e->nsteps);
	if (key && e->nsteps < WSR_CHECK_PATH_MAX)
		e->steps[e->nsteps++] = (wsr_check_step){key, 0};
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	return WSR_EINVAL;
}

int wsr_check_fail(wsr_check *c, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vfail(c, key, fmt, ap);
	va_end(ap);
	return rc;
}

int wsr_check_fail_entry(wsr_check *c, const char *key, int i, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	wsr_check_push(c, key, 0);
	wsr_check_push(c, NULL, i);
	int rc = vfail(c, NULL, fmt, ap);
	c->depth -= 2;
	va_end(ap);
	return rc;
}

int wsr_check_only_keys(wsr_check *c, const cJSON *obj, const char *const *allowed)
{
	for (const cJSON *it = obj->child; it; it = it->next) {
		const char *const *a = allowed;
		while (*a && strcmp(*a, it->string) != 0)
			a++;
		if (!*a)
			return wsr_check_fail(c, it->string, "unknown field %s", it->string);
	}
	return 0;
}

int wsr_check_str(wsr_check *c, const cJSON *obj, const char *key, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v)
		return wsr_check_fail(c, NULL, "missing field %s", key);
	if (!cJSON_IsString(v) || !v->valuestring[0])
		return wsr_check_fail(c, key, "%s must be a non-empty string", key);
	*out = v->valuestring;
	return 0;
}

int wsr_check_bool(wsr_check *c, const cJSON *obj, const char *key, int def, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = def;
	if (!v)
		return 0;
	if (!cJSON_IsBool(v))
		return wsr_check_fail(c, key, "%s must be true or false", key);
	*out = cJSON_IsTrue(v);
	return 0;
}

int wsr_check_whole(wsr_check *c, const cJSON *obj, const char *key, double lo, double hi,
		    double def, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = def;
	if (!v)
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi ||
	    floor(v->valuedouble) != v->valuedouble)
		return wsr_check_fail(c, key, "%s must be a whole number from %.0f to %.0f", key,
				      lo, hi);
	*out = v->valuedouble;
	return 0;
}

int wsr_check_has(const cJSON *arr, const char *s)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0)
			return 1;
	}
	return 0;
}

/* The entries of the list v into out (wsr_check_list's checks). */
static int list_entries(wsr_check *c, const cJSON *v, const char *key, int (*valid)(const char *),
			const char *what, cJSON *out)
{
	if (!cJSON_IsArray(v))
		return wsr_check_fail(c, key, "%s must be a list", key);
	wsr_check_push(c, key, 0);
	int i = 0, rc = 0;
	for (const cJSON *it = v->child; it && !rc; it = it->next, i++) {
		wsr_check_push(c, NULL, i);
		if (!cJSON_IsString(it) || !it->valuestring[0])
			rc = wsr_check_fail(c, NULL, "%s entries must be non-empty strings", key);
		else if (valid && !valid(it->valuestring))
			rc = wsr_check_fail(c, NULL, "%s is not %s", it->valuestring, what);
		else if (wsr_check_has(out, it->valuestring))
			rc = wsr_check_fail(c, NULL, "%s is listed twice", it->valuestring);
		else if (!cJSON_AddItemToArray(out, cJSON_CreateString(it->valuestring)))
			rc = WSR_ENOMEM;
		wsr_check_pop(c);
	}
	wsr_check_pop(c);
	return rc;
}

int wsr_check_list(wsr_check *c, const cJSON *obj, const char *key, int (*valid)(const char *),
		   const char *what, cJSON **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	int rc = (*out = cJSON_CreateArray()) ? 0 : WSR_ENOMEM;
	if (!rc && v && !cJSON_IsNull(v))
		rc = list_entries(c, v, key, valid, what, *out);
	if (rc) { /* a refused list is the caller's to report, not to free */
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

int wsr_check_each(wsr_check *c, const cJSON *obj, const char *key, cJSON *out,
		   wsr_check_entry_fn fn, const cJSON *ctx)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(obj, key);
	cJSON *arr = cJSON_AddArrayToObject(out, key);
	if (!arr)
		return WSR_ENOMEM;
	if (!list || cJSON_IsNull(list))
		return 0;
	if (!cJSON_IsArray(list))
		return wsr_check_fail(c, key, "%s must be a list", key);
	int i = 0, rc = 0;
	wsr_check_push(c, key, 0);
	for (const cJSON *it = list->child; it && !rc; it = it->next, i++) {
		wsr_check_push(c, NULL, i);
		rc = cJSON_IsObject(it)
			 ? fn(c, it, arr, ctx)
			 : wsr_check_fail(c, NULL, "each entry of %s must be a map", key);
		wsr_check_pop(c);
	}
	wsr_check_pop(c);
	return rc;
}

const cJSON *wsr_check_find(const cJSON *arr, const char *field, const char *value)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, field);
		if (cJSON_IsString(v) && strcmp(v->valuestring, value) == 0)
			return it;
	}
	return NULL;
}

void wsr_check_path(const wsr_check_err *e, char *out, unsigned long outlen)
{
	size_t n = 0;
	out[0] = '\0';
	for (int i = 0; i < e->nsteps && n < outlen; i++) {
		const wsr_check_step *s = &e->steps[i];
		int w = s->key ? snprintf(out + n, outlen - n, "%s%s", n ? "." : "", s->key)
			       : snprintf(out + n, outlen - n, "[%d]", s->index);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}
