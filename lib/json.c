/* json: bounded parsing and safe getters over cJSON. */
#include "lib/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/hmap.h"

static int depth_ok(const char *s, size_t n)
{
	/* cJSON recurses per nesting level; measure before handing it text */
	int depth = 0, in_str = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"')
			in_str = 1;
		else if (c == '[' || c == '{') {
			if (++depth > WSR_JSON_MAX_DEPTH)
				return 0;
		} else if (c == ']' || c == '}')
			depth--;
	}
	return 1;
}

int wsr_json_parse(cJSON **out, const char *text, size_t len, char **err)
{
	*out = NULL;
	if (err)
		*err = NULL;
	if (!depth_ok(text, len)) {
		if (err)
			*err = wsr_strdupf("JSON nested deeper than %d levels", WSR_JSON_MAX_DEPTH);
		return WSR_EINVAL;
	}
	const char *end = NULL;
	cJSON *v = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (v) {
		/* anything but white space after the value is an error */
		while (end && (size_t)(end - text) < len &&
		       (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
			end++;
		if (end && (size_t)(end - text) < len && *end != '\0') {
			cJSON_Delete(v);
			v = NULL;
		}
	}
	if (!v) {
		if (err) {
			size_t off = end ? (size_t)(end - text) : 0;
			const char *ep = cJSON_GetErrorPtr();
			if (ep >= text && ep <= text + len)
				off = (size_t)(ep - text);
			*err = wsr_strdupf("invalid JSON near byte %zu", off);
		}
		return WSR_EINVAL;
	}
	*out = v;
	return 0;
}

const char *wsr_json_repeated_key(const cJSON *v)
{
	if (!v)
		return NULL;
	const char *found = NULL;
	wsr_hmap seen = WSR_HMAP_INIT;
	const cJSON *c;
	for (c = v->child; c && !found; c = c->next) {
		if (cJSON_IsObject(v)) {
			if (wsr_hmap_get(&seen, c->string)) {
				found = c->string;
				break;
			}
			if (wsr_hmap_put(&seen, c->string, (void *)c) != 0)
				break;
		}
		found = wsr_json_repeated_key(c); /* nesting is bounded by the parse */
	}
	wsr_hmap_free(&seen);
	return found;
}

const char *wsr_json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const cJSON *wsr_json_obj(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsObject(v) ? v : NULL;
}

const cJSON *wsr_json_arr(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsArray(v) ? v : NULL;
}

double wsr_json_num(const cJSON *obj, const char *key, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/* 2^63 as a double, exactly: the first value past int64_t's range on either
 * side's magnitude; [-2^63, 2^63) converts to int64_t without UB. */
#define INT64_SPAN 9223372036854775808.0

int wsr_json_int_in(const cJSON *obj, const char *key, int64_t min, int64_t max, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v || cJSON_IsNull(v))
		return WSR_ENOTFOUND;
	if (!cJSON_IsNumber(v))
		return WSR_EINVAL;
	double d = v->valuedouble;
	/* NaN fails every comparison, so it is refused here too */
	if (!(d >= -INT64_SPAN && d < INT64_SPAN) || floor(d) != d)
		return WSR_EINVAL;
	int64_t n = (int64_t)d;
	if (n < min || n > max)
		return WSR_EINVAL;
	*out = n;
	return 0;
}

int wsr_json_bool(const cJSON *obj, const char *key, int def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
}

const cJSON *wsr_json_path(const cJSON *root, const char *dotted)
{
	const cJSON *cur = root;
	const char *p = dotted;
	char key[256];
	while (cur && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		cur = cJSON_IsObject(cur) ? cJSON_GetObjectItemCaseSensitive(cur, key) : NULL;
		p += n + (dot ? 1 : 0);
	}
	return cur;
}

int wsr_json_set_path(cJSON *root, const char *dotted, const cJSON *value)
{
	cJSON *cur = root;
	const char *p = dotted;
	char key[256];
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (!cJSON_IsObject(cur) || n == 0 || n >= sizeof(key))
			return WSR_EINVAL;
		memcpy(key, p, n);
		key[n] = '\0';
		if (!dot)
			break;
		cJSON *next = cJSON_GetObjectItemCaseSensitive(cur, key);
		if (!next && !value)
			return 0; /* nothing there to remove */
		if (!next && !(next = cJSON_AddObjectToObject(cur, key)))
			return WSR_ENOMEM;
		cur = next;
		p = dot + 1;
	}
	if (!value) {
		cJSON_DeleteItemFromObjectCaseSensitive(cur, key);
		return 0;
	}
	cJSON *copy = cJSON_Duplicate(value, 1);
	if (!copy)
		return WSR_ENOMEM;
	int ok = cJSON_GetObjectItemCaseSensitive(cur, key)
		     ? cJSON_ReplaceItemInObjectCaseSensitive(cur, key, copy)
		     : cJSON_AddItemToObject(cur, key, copy);
	if (ok)
		return 0;
	cJSON_Delete(copy);
	return WSR_ENOMEM;
}

char *wsr_json_print(const cJSON *v, int pretty)
{
	return pretty ? cJSON_Print(v) : cJSON_PrintUnformatted(v);
}

int wsr_json_fputs(FILE *f, const cJSON *v)
{
	char *text = v ? cJSON_Print(v) : NULL;
	if (!text)
		return WSR_ENOMEM;
	fprintf(f, "%s\n", text);
	free(text);
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int wsr_json_sorted_strings(cJSON **out, const cJSON *m, const char *where, char **why)
{
	*out = NULL;
	if (!cJSON_IsObject(m)) {
		*why = wsr_strdupf("field %s is not an object", where);
		return WSR_EINVAL;
	}
	size_t n = (size_t)cJSON_GetArraySize(m), i = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	cJSON *copy = keys ? cJSON_CreateObject() : NULL;
	int rc = copy ? 0 : WSR_ENOMEM;
	const cJSON *it;
	cJSON_ArrayForEach(it, (rc ? NULL : m))
	{
		if (!cJSON_IsString(it)) {
			*why = wsr_strdupf("field %s.%s is not a string", where, it->string);
			rc = WSR_EINVAL;
			break;
		}
		keys[i++] = it->string;
	}
	if (!rc)
		qsort(keys, n, sizeof(*keys), cmp_key);
	for (i = 0; !rc && i < n; i++)
		if (!cJSON_AddStringToObject(copy, keys[i], wsr_json_str(m, keys[i])))
			rc = WSR_ENOMEM;
	free(keys);
	if (rc)
		cJSON_Delete(copy);
	else
		*out = copy;
	return rc;
}

/* Counts the nodes of a chain of siblings and their subtrees. */
static size_t count_nodes(const cJSON *c)
{
	size_t n = 0;
	for (; c; c = c->next)
		n += 1 + (c->type & cJSON_IsReference ? 0 : count_nodes(c->child));
	return n;
}

/* Equal and printed the same: the same keys in the same order, numbers
 * exactly equal (cJSON_Compare ignores key order and rounding). */
static int identical(const cJSON *a, const cJSON *b)
{
	if ((a->type & 0xFF) != (b->type & 0xFF))
		return 0;
	if (cJSON_IsNumber(a))
		return a->valuedouble == b->valuedouble;
	if (cJSON_IsString(a))
		return a->valuestring && b->valuestring && !strcmp(a->valuestring, b->valuestring);
	if (!cJSON_IsObject(a) && !cJSON_IsArray(a))
		return 1; /* true, false, null */
	const cJSON *x = a->child, *y = b->child;
	for (; x && y; x = x->next, y = y->next)
		if ((cJSON_IsObject(a) &&
		     (!x->string || !y->string || strcmp(x->string, y->string))) ||
		    !identical(x, y))
			return 0;
	return !x && !y;
}

size_t wsr_json_share(cJSON *v, const cJSON *from)
{
	if (!v || !from || (v->type & 0xFF) != (from->type & 0xFF) || (v->type & cJSON_IsReference))
		return 0;
	if (cJSON_IsString(v)) {
		if (!v->valuestring || !from->valuestring ||
		    strcmp(v->valuestring, from->valuestring))
			return 0;
		free(v->valuestring);
		v->valuestring = from->valuestring;
		v->type |= cJSON_IsReference;
		return 0;
	}
	if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
		return 0;
	if (identical(v, from)) {
		cJSON *kids = v->child;
		size_t n = count_nodes(kids);
		v->child = from->child;
		v->type |= cJSON_IsReference;
		cJSON_Delete(kids);
		return n;
	}
	size_t n = 0;
	const cJSON *f = from->child;
	for (cJSON *c = v->child; c; c = c->next) {
		const cJSON *match =
		    cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(from, c->string) : f;
		n += wsr_json_share(c, match);
		if (f)
			f = f->next;
	}
	return n;
}
