/* jsonpatch: each operation works on a copy of the document, so a patch
 * whose fifth operation fails leaves nothing of the first four. Pointers
 * are split and unescaped (~1 is '/', ~0 is '~') into one buffer; array
 * indexes are decimal without leading zeros, and "-" (the end) only where
 * RFC 6902 allows it (add, and the target of move and copy). */
#include "sim/jsonpatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"

typedef struct ptr {
	char *buf; /* the unescaped tokens, each NUL-terminated */
	char **tok;
	int n;
	const char *text; /* as written, for messages */
} ptr;

static void ptr_free(ptr *p)
{
	free(p->buf);
	free(p->tok);
	memset(p, 0, sizeof(*p));
}

static int ptr_parse(ptr *p, const char *s, char *why)
{
	size_t len = strlen(s), k = 0;
	memset(p, 0, sizeof(*p));
	p->text = s;
	if (len == 0)
		return 0;
	if (s[0] != '/') {
		snprintf(why, WSR_SIM_JSONPATCH_WHY, "JSON pointer \"%.100s\" must start with /",
			 s);
		return WSR_EINVAL;
	}
	int n = 0;
	for (size_t i = 0; i < len; i++)
		n += s[i] == '/';
	p->buf = malloc(len + 1);
	p->tok = calloc((size_t)n, sizeof(*p->tok));
	if (!p->buf || !p->tok) {
		ptr_free(p);
		return WSR_ENOMEM;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '/') {
			p->buf[k++] = '\0';
			p->tok[p->n++] = p->buf + k;
		} else if (s[i] == '~' && (s[i + 1] == '0' || s[i + 1] == '1')) {
			p->buf[k++] = s[++i] == '0' ? '~' : '/';
		} else if (s[i] == '~') {
			snprintf(why, WSR_SIM_JSONPATCH_WHY,
				 "JSON pointer \"%.100s\": ~ must be followed by 0 or 1", s);
			ptr_free(p);
			return WSR_EINVAL;
		} else
			p->buf[k++] = s[i];
	}
	p->buf[k] = '\0';
	return 0;
}

/* An array index token: 0 and *i, or -1. "-" is size when end is allowed. */
static int index_of(const char *t, int size, int end, int *i)
{
	long v = 0;
	if (end && strcmp(t, "-") == 0) {
		*i = size;
		return 0;
	}
	if (!t[0] || (t[0] == '0' && t[1]) || strlen(t) > 9)
		return -1;
	for (const char *c = t; *c; c++) {
		if (*c < '0' || *c > '9')
			return -1;
		v = v * 10 + (*c - '0');
	}
	*i = (int)v;
	return 0;
}

/* The value at the first n tokens of p, or NULL. */
static cJSON *get(cJSON *doc, const ptr *p, int n)
{
	cJSON *cur = doc;
	int i;
	for (int k = 0; cur && k < n; k++) {
		if (cJSON_IsObject(cur))
			cur = cJSON_GetObjectItemCaseSensitive(cur, p->tok[k]);
		else if (cJSON_IsArray(cur) &&
			 index_of(p->tok[k], cJSON_GetArraySize(cur), 0, &i) == 0)
			cur = cJSON_GetArrayItem(cur, i);
		else
			cur = NULL;
	}
	return cur;
}

static int missing(char *why, const char *op, const ptr *p)
{
	snprintf(why, WSR_SIM_JSONPATCH_WHY,
		 "%s operation does not apply: doc is missing path: \"%.100s\"", op, p->text);
	return WSR_ECONFLICT;
}

/* Puts v (taken over) at p; replace: the place must hold a value already. */
static int put(cJSON **doc, const ptr *p, cJSON *v, int replace, const char *op, char *why)
{
	cJSON *parent = p->n ? get(*doc, p, p->n - 1) : NULL;
	const char *last = p->n ? p->tok[p->n - 1] : NULL;
	int i, ok = 0;
	if (!p->n) { /* the whole document */
		cJSON_Delete(*doc);
		*doc = v;
		return 0;
	}
	if (cJSON_IsObject(parent)) {
		int has = cJSON_GetObjectItemCaseSensitive(parent, last) != NULL;
		if (has)
			ok = cJSON_ReplaceItemInObjectCaseSensitive(parent, last, v);
		else if (!replace)
			ok = cJSON_AddItemToObject(parent, last, v);
		else
			parent = NULL;
	} else if (cJSON_IsArray(parent) &&
		   index_of(last, cJSON_GetArraySize(parent), !replace, &i) == 0 &&
		   i <= cJSON_GetArraySize(parent) - replace) {
		if (replace)
			ok = cJSON_ReplaceItemInArray(parent, i, v);
		else if (i == cJSON_GetArraySize(parent))
			ok = cJSON_AddItemToArray(parent, v);
		else
			ok = cJSON_InsertItemInArray(parent, i, v);
	} else
		parent = NULL;
	if (ok)
		return 0;
	cJSON_Delete(v);
	return parent ? WSR_ENOMEM : missing(why, op, p);
}

/* Detaches the value at p (which must exist) into *out. */
static int take(cJSON *doc, const ptr *p, cJSON **out, const char *op, char *why)
{
	cJSON *parent = p->n ? get(doc, p, p->n - 1) : NULL;
	const char *last = p->n ? p->tok[p->n - 1] : NULL;
	int i;
	*out = NULL;
	if (cJSON_IsObject(parent))
		*out = cJSON_DetachItemFromObjectCaseSensitive(parent, last);
	else if (cJSON_IsArray(parent) && index_of(last, cJSON_GetArraySize(parent), 0, &i) == 0)
		*out = cJSON_DetachItemFromArray(parent, i);
	return *out ? 0 : missing(why, op, p);
}

/* The operation's pointer member key ("path", "from"), parsed. */
static int member_ptr(const cJSON *op, const char *key, ptr *p, int at, char *why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(op, key);
	if (!cJSON_IsString(v)) {
		snprintf(why, WSR_SIM_JSONPATCH_WHY, "operation %d: %s must be a string", at, key);
		return WSR_EINVAL;
	}
	return ptr_parse(p, v->valuestring, why);
}

/* One operation with its parsed pointers; value is its "value" member. */
typedef struct op {
	const char *name;
	const cJSON *value;
	ptr path, from;
} op;

static int op_test(cJSON **doc, op *o, char *why)
{
	const cJSON *have = get(*doc, &o->path, o->path.n);
	if (have && cJSON_Compare(have, o->value, 1))
		return 0;
	snprintf(why, WSR_SIM_JSONPATCH_WHY, "testing value %.100s failed", o->path.text);
	return WSR_ECONFLICT;
}

static int op_remove(cJSON **doc, op *o, char *why)
{
	cJSON *v;
	int rc =
	    o->path.n ? take(*doc, &o->path, &v, o->name, why) : missing(why, o->name, &o->path);
	if (!rc)
		cJSON_Delete(v);
	return rc;
}

static int op_add(cJSON **doc, op *o, char *why)
{
	cJSON *v = cJSON_Duplicate(o->value, 1);
	return v ? put(doc, &o->path, v, 0, o->name, why) : WSR_ENOMEM;
}

static int op_replace(cJSON **doc, op *o, char *why)
{
	cJSON *v = cJSON_Duplicate(o->value, 1);
	return v ? put(doc, &o->path, v, 1, o->name, why) : WSR_ENOMEM;
}

static int op_move(cJSON **doc, op *o, char *why)
{
	size_t n = strlen(o->from.text);
	cJSON *v;
	if (strcmp(o->path.text, o->from.text) == 0) /* a no-op, if from exists */
		return get(*doc, &o->from, o->from.n) ? 0 : missing(why, o->name, &o->from);
	if (strncmp(o->path.text, o->from.text, n) == 0 && o->path.text[n] == '/') {
		snprintf(why, WSR_SIM_JSONPATCH_WHY, "move operation: %.100s is inside %.100s",
			 o->path.text, o->from.text);
		return WSR_ECONFLICT;
	}
	int rc =
	    o->from.n ? take(*doc, &o->from, &v, o->name, why) : missing(why, o->name, &o->from);
	return rc ? rc : put(doc, &o->path, v, 0, o->name, why);
}

static int op_copy(cJSON **doc, op *o, char *why)
{
	const cJSON *src = get(*doc, &o->from, o->from.n);
	cJSON *v = src ? cJSON_Duplicate(src, 1) : NULL;
	if (!src)
		return missing(why, o->name, &o->from);
	return v ? put(doc, &o->path, v, 0, o->name, why) : WSR_ENOMEM;
}

static const struct {
	const char *name;
	int (*fn)(cJSON **doc, op *o, char *why);
	int value, from; /* the members it needs */
} ops[] = {
    {"add", op_add, 1, 0},   {"remove", op_remove, 0, 0}, {"replace", op_replace, 1, 0},
    {"move", op_move, 0, 1}, {"copy", op_copy, 0, 1},	  {"test", op_test, 1, 0},
};

static int apply_one(cJSON **doc, const cJSON *in, int at, char *why)
{
	op o = {cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(in, "op")),
		cJSON_GetObjectItemCaseSensitive(in, "value"),
		{0},
		{0}};
	size_t i = 0;
	while (o.name && i < sizeof(ops) / sizeof(ops[0]) && strcmp(ops[i].name, o.name) != 0)
		i++;
	if (!cJSON_IsObject(in) || !o.name || i == sizeof(ops) / sizeof(ops[0])) {
		snprintf(why, WSR_SIM_JSONPATCH_WHY, "operation %d: unknown op %.40s", at,
			 o.name ? o.name : "(none)");
		return WSR_EINVAL;
	}
	if (ops[i].value && !o.value) {
		snprintf(why, WSR_SIM_JSONPATCH_WHY, "operation %d: %s needs a value", at, o.name);
		return WSR_EINVAL;
	}
	int rc = member_ptr(in, "path", &o.path, at, why);
	if (!rc && ops[i].from)
		rc = member_ptr(in, "from", &o.from, at, why);
	if (!rc)
		rc = ops[i].fn(doc, &o, why);
	ptr_free(&o.path);
	ptr_free(&o.from);
	return rc;
}

int wsr_sim_json_patch(cJSON **doc, const cJSON *patch, char *why)
{
	const cJSON *op;
	int at = 0, rc = 0;
	why[0] = '\0';
	if (!cJSON_IsArray(patch)) {
		snprintf(why, WSR_SIM_JSONPATCH_WHY, "a JSON patch is a list of operations");
		return WSR_EINVAL;
	}
	if (cJSON_GetArraySize(patch) > WSR_SIM_JSONPATCH_MAX_OPS) {
		snprintf(why, WSR_SIM_JSONPATCH_WHY,
			 "The allowed maximum operations in a JSON patch is %d, got %d",
			 WSR_SIM_JSONPATCH_MAX_OPS, cJSON_GetArraySize(patch));
		return WSR_ELIMIT;
	}
	cJSON *work = cJSON_Duplicate(*doc, 1);
	if (!work)
		return WSR_ENOMEM;
	cJSON_ArrayForEach(op, patch)
	{
		if ((rc = apply_one(&work, op, at++, why)) != 0)
			break;
	}
	if (rc) {
		cJSON_Delete(work);
		return rc;
	}
	cJSON_Delete(*doc);
	*doc = work;
	return 0;
}
