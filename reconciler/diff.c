/* diff: schema-guided comparison of canonical values. */
#include "reconciler/diff.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"
#include "schema/schema.h"

typedef struct walk {
	wsr_field_change *v;
	size_t n, cap;
	int failed;
} walk;

static int flag(const cJSON *schema, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(schema, key));
}

static const char *operation_of(const cJSON *schema)
{
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(schema, "x-wsr-operation");
	return cJSON_IsString(op) ? op->valuestring : NULL;
}

static void add(walk *w, const char *path, const cJSON *schema, const cJSON *before,
		const cJSON *after, int replace)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 8;
		wsr_field_change *v = realloc(w->v, cap * sizeof(*v));
		if (!v) {
			w->failed = 1;
			return;
		}
		w->v = v;
		w->cap = cap;
	}
	wsr_field_change *f = &w->v[w->n++];
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	f->sensitive = flag(schema, "x-wsr-sensitive");
	f->replace = replace || flag(schema, "x-wsr-immutable");
	const char *op = operation_of(schema);
	f->operation = op ? strdup(op) : NULL;
	if (!f->sensitive) {
		f->before = before ? cJSON_Duplicate(before, 1) : NULL;
		f->after = after ? cJSON_Duplicate(after, 1) : NULL;
	}
	if (!f->path)
		w->failed = 1;
}

static void walk_obj(walk *w, wsr_buf *path, const cJSON *schema, const cJSON *ref,
		     const cJSON *other, int replace);

static void walk_value(walk *w, wsr_buf *path, const cJSON *schema, const cJSON *ref,
		       const cJSON *other, int replace)
{
	if (flag(schema, "x-wsr-local") || flag(schema, "x-wsr-computed"))
		return;
	replace = replace || flag(schema, "x-wsr-immutable");
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
	if (cJSON_IsObject(ref) && cJSON_IsObject(props) && cJSON_IsObject(other)) {
		walk_obj(w, path, schema, ref, other, replace);
		return;
	}
	if (!other || !cJSON_Compare(ref, other, 1))
		add(w, wsr_buf_str(path), schema, other, ref, replace);
}

static void walk_obj(walk *w, wsr_buf *path, const cJSON *schema, const cJSON *ref,
		     const cJSON *other, int replace)
{
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
	const cJSON *more = cJSON_GetObjectItemCaseSensitive(schema, "additionalProperties");
	size_t mark = path->len;
	const cJSON *item;
	cJSON_ArrayForEach(item, ref)
	{
		const cJSON *sub = cJSON_GetObjectItemCaseSensitive(props, item->string);
		if (!sub)
			sub = cJSON_IsObject(more) ? more : NULL;
		if (!sub)
			continue;
		if (mark)
			wsr_buf_putc(path, '.');
		wsr_buf_puts(path, item->string);
		walk_value(w, path, sub, item,
			   cJSON_GetObjectItemCaseSensitive(other, item->string), replace);
		path->len = mark;
		path->data[mark] = '\0';
	}
}

int wsr_diff(wsr_field_change **out, size_t *n, const cJSON *spec_schema, const cJSON *ref,
	     const cJSON *other)
{
	walk w = {0};
	wsr_buf path = WSR_BUF_INIT;
	wsr_buf_puts(&path, "");
	if (ref)
		walk_obj(&w, &path, spec_schema, ref, other, 0);
	int failed = w.failed || wsr_buf_failed(&path);
	wsr_buf_free(&path);
	if (failed) {
		wsr_diff_free(w.v, w.n);
		*out = NULL;
		*n = 0;
		return WSR_ENOMEM;
	}
	*out = w.v;
	*n = w.n;
	return 0;
}

void wsr_diff_free(wsr_field_change *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].path);
		cJSON_Delete(f[i].before);
		cJSON_Delete(f[i].after);
		free(f[i].operation);
	}
	free(f);
}

const cJSON *wsr_diff_spec_schema(const char *kind)
{
	const char *slash = strrchr(kind, '/');
	if (!slash)
		return NULL;
	char api[128];
	size_t n = (size_t)(slash - kind);
	if (n >= sizeof(api))
		return NULL;
	memcpy(api, kind, n);
	api[n] = '\0';
	const cJSON *schema = wsr_schema_for(api, slash + 1);
	const cJSON *canon = cJSON_GetObjectItemCaseSensitive(schema, "x-wsr-canonical");
	if (cJSON_IsString(canon) && strcmp(canon->valuestring, "document") == 0)
		return schema;
	return schema ? wsr_schema_at(schema, "spec") : NULL;
}

static void redact(const cJSON *schema, cJSON *value)
{
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
	const cJSON *more = cJSON_GetObjectItemCaseSensitive(schema, "additionalProperties");
	if (!cJSON_IsObject(value))
		return;
	cJSON *item = value->child;
	while (item) {
		cJSON *next = item->next;
		const cJSON *sub = cJSON_GetObjectItemCaseSensitive(props, item->string);
		if (!sub && cJSON_IsObject(more))
			sub = more;
		if (sub && flag(sub, "x-wsr-sensitive"))
			cJSON_Delete(cJSON_DetachItemViaPointer(value, item));
		else if (sub)
			redact(sub, item);
		item = next;
	}
}

cJSON *wsr_diff_redact(const cJSON *spec_schema, const cJSON *value)
{
	cJSON *copy = cJSON_Duplicate(value, 1);
	if (copy && spec_schema)
		redact(spec_schema, copy);
	return copy;
}

/* Copies the value at path from `from` into *copy (made from desired on
 * first use) unless the two already agree. */
static int keep(cJSON **copy, const cJSON *desired, const cJSON *from, const char *path)
{
	const cJSON *want = wsr_json_path(desired, path), *have = wsr_json_path(from, path);
	if ((!want && !have) || (want && have && cJSON_Compare(want, have, 1)))
		return 0;
	if (!*copy && !(*copy = cJSON_Duplicate(desired, 1)))
		return WSR_ENOMEM;
	int rc = wsr_json_set_path(*copy, path, have);
	return rc == WSR_EINVAL ? 0 : rc; /* a path through a non-object: nothing to keep */
}

typedef struct effective {
	cJSON *copy;
	walk held;
	const cJSON *desired, *observed;
	int rc;
} effective;

/* Visits every x-wsr-create-only property of the schema. */
static void create_only(effective *e, const cJSON *schema, wsr_buf *path)
{
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
	size_t mark = path->len;
	const cJSON *sub;
	cJSON_ArrayForEach(sub, props)
	{
		if (mark)
			wsr_buf_putc(path, '.');
		wsr_buf_puts(path, sub->string);
		if (flag(sub, "x-wsr-create-only")) {
			const char *at = wsr_buf_str(path);
			const cJSON *want = wsr_json_path(e->desired, at);
			const cJSON *have = wsr_json_path(e->observed, at);
			if (want && !(have && cJSON_Compare(want, have, 1))) {
				add(&e->held, at, sub, have, want, 0);
				if (!e->rc)
					e->rc = keep(&e->copy, e->desired, e->observed, at);
			}
		} else {
			create_only(e, sub, path);
		}
		path->len = mark;
		path->data[mark] = '\0';
	}
}

int wsr_diff_effective(cJSON **out, wsr_field_change **held, size_t *nheld,
		       const cJSON *spec_schema, const cJSON *desired, const cJSON *observed,
		       const cJSON *ignore)
{
	effective e = {.desired = desired, .observed = observed};
	wsr_buf path = WSR_BUF_INIT;
	wsr_buf_puts(&path, "");
	create_only(&e, spec_schema, &path);
	const cJSON *it;
	cJSON_ArrayForEach(it, ignore)
	{
		if (cJSON_IsString(it) && !e.rc)
			e.rc = keep(&e.copy, desired, observed, it->valuestring);
	}
	if (!e.rc && (e.held.failed || wsr_buf_failed(&path)))
		e.rc = WSR_ENOMEM;
	wsr_buf_free(&path);
	if (e.rc) {
		cJSON_Delete(e.copy);
		wsr_diff_free(e.held.v, e.held.n);
		*out = NULL;
		*held = NULL;
		*nheld = 0;
		return e.rc;
	}
	*out = e.copy;
	*held = e.held.v;
	*nheld = e.held.n;
	return 0;
}

int wsr_diff_without(cJSON **out, const cJSON *value, const cJSON *ignore)
{
	*out = NULL;
	const cJSON *it;
	cJSON_ArrayForEach(it, ignore)
	{
		if (!cJSON_IsString(it) || !wsr_json_path(value, it->valuestring))
			continue;
		if (!*out && !(*out = cJSON_Duplicate(value, 1)))
			return WSR_ENOMEM;
		int rc = wsr_json_set_path(*out, it->valuestring, NULL);
		if (rc && rc != WSR_EINVAL) {
			cJSON_Delete(*out);
			*out = NULL;
			return rc;
		}
	}
	return 0;
}

int wsr_diff_is_local(const cJSON *spec_schema, const char *path)
{
	const cJSON *sub = wsr_schema_at(spec_schema, path);
	return sub && flag(sub, "x-wsr-local");
}
