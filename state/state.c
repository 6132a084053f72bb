/* state: the in-memory state document and its JSON form (wsr.state/v1).
 * Separate from the backends (file.c, later etcd) because the format and its
 * checks must be the same wherever the bytes are kept.
 *
 * Entries live in insertion order in s->v and are indexed by address in
 * s->index (the hash map borrows each entry's address string), so lookups
 * stay O(1) with 10,000 entries; they are sorted by address only when
 * serialized. A document read from disk is checked field by field: a state
 * that is not exactly what this wsr wrote stops the run instead of being
 * half-understood and then overwritten. */
#include "state/state.h"

#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"

/* Serials are JSON numbers, read through a double: above 2^53 they would
 * no longer be exact. No state is written that often. */
#define MAX_SERIAL 9007199254740992.0

/* ---- the document ---- */

char *wsr_state_new_id(void)
{
	unsigned char r[16];
	if (RAND_bytes(r, sizeof(r)) != 1)
		return NULL;
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	return wsr_strdupf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			   r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11],
			   r[12], r[13], r[14], r[15]);
}

static wsr_state *state_alloc(void)
{
	wsr_state *s = calloc(1, sizeof(*s));
	if (s)
		s->index = (wsr_hmap)WSR_HMAP_INIT;
	return s;
}

wsr_state *wsr_state_new(void)
{
	wsr_state *s = state_alloc();
	if (!s)
		return NULL;
	s->lineage = wsr_state_new_id();
	if (!s->lineage) {
		free(s);
		return NULL;
	}
	return s;
}

void wsr_state_entry_free(wsr_state_entry *e)
{
	if (!e)
		return;
	free(e->address);
	free(e->provider);
	free(e->kind);
	free(e->id);
	cJSON_Delete(e->applied);
	cJSON_Delete(e->observed);
	cJSON_Delete(e->labels);
	cJSON_Delete(e->status);
	free(e->file);
	free(e->revision);
	free(e);
}

void wsr_state_free(wsr_state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		wsr_state_entry_free(s->v[i]);
	free(s->v);
	wsr_hmap_free(&s->index);
	free(s->lineage);
	free(s);
}

wsr_state_entry *wsr_state_find(const wsr_state *s, const char *address)
{
	return address ? wsr_hmap_get(&s->index, address) : NULL;
}

/* Which put made an entry: a backend that remembers what it stored can
 * tell an entry it already wrote (same seq) from a new one without
 * serializing it again. Unique in the process, never 0. */
static uint64_t next_seq(void)
{
	static _Atomic uint64_t seq;
	return ++seq;
}

static int append(wsr_state *s, wsr_state_entry *e)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		wsr_state_entry **v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return WSR_ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	if (wsr_hmap_put(&s->index, e->address, e))
		return WSR_ENOMEM;
	e->seq = next_seq();
	s->v[s->n++] = e;
	return 0;
}

/* Position of e in s->v. O(n), but only remove and replace need it, and a
 * pointer scan over 10,000 entries is microseconds. */
static size_t position(const wsr_state *s, const wsr_state_entry *e)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == e)
			return i;
	return s->n;
}

/* 1 when s is non-empty and has no control characters (it will be printed). */
static int printable(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int object_or_null(const cJSON *v)
{
	return !v || cJSON_IsObject(v);
}

/* What from_json requires of an entry: a state this wsr writes, it must be
 * able to read back. */
static int entry_ok(const wsr_state_entry *e)
{
	return e && e->address && printable(e->address) && e->provider && e->kind &&
	       cJSON_IsObject(e->applied) && object_or_null(e->observed) &&
	       object_or_null(e->labels) && object_or_null(e->status);
}

int wsr_state_put(wsr_state *s, wsr_state_entry *e)
{
	if (!entry_ok(e))
		return WSR_EINVAL;
	wsr_state_entry *old = wsr_state_find(s, e->address);
	if (!old)
		return append(s, e);
	/* the map borrows old->address: re-key it before old is freed */
	wsr_hmap_del(&s->index, old->address);
	if (wsr_hmap_put(&s->index, e->address, e)) {
		wsr_hmap_put(&s->index, old->address, old); /* reuses the freed slot */
		return WSR_ENOMEM;
	}
	s->v[position(s, old)] = e;
	e->seq = next_seq();
	wsr_state_entry_free(old);
	return 0;
}

int wsr_state_remove(wsr_state *s, const char *address)
{
	wsr_state_entry *e = wsr_state_find(s, address);
	if (!e)
		return WSR_ENOTFOUND;
	size_t i = position(s, e);
	wsr_hmap_del(&s->index, address);
	/* keep the order entries were added in: callers iterate s->v */
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
	s->n--;
	wsr_state_entry_free(e);
	return 0;
}

static int dup_str(char **out, const char *s)
{
	*out = NULL;
	if (!s)
		return 0;
	*out = strdup(s);
	return *out ? 0 : WSR_ENOMEM;
}

static int dup_json(cJSON **out, const cJSON *v)
{
	*out = NULL;
	if (!v)
		return 0;
	*out = cJSON_Duplicate(v, 1);
	return *out ? 0 : WSR_ENOMEM;
}

static wsr_state_entry *entry_dup(const wsr_state_entry *e)
{
	wsr_state_entry *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	int rc = dup_str(&d->address, e->address) | dup_str(&d->provider, e->provider) |
		 dup_str(&d->kind, e->kind) | dup_str(&d->id, e->id) | dup_str(&d->file, e->file) |
		 dup_str(&d->revision, e->revision) | dup_json(&d->applied, e->applied) |
		 dup_json(&d->observed, e->observed) | dup_json(&d->labels, e->labels) |
		 dup_json(&d->status, e->status);
	d->line = e->line;
	d->seq = e->seq;
	d->created_ms = e->created_ms;
	d->updated_ms = e->updated_ms;
	if (rc) {
		wsr_state_entry_free(d);
		return NULL;
	}
	return d;
}

wsr_state *wsr_state_dup(const wsr_state *s)
{
	wsr_state *d = state_alloc();
	if (!d)
		return NULL;
	d->serial = s->serial;
	if (dup_str(&d->lineage, s->lineage))
		goto fail;
	for (size_t i = 0; i < s->n; i++) {
		wsr_state_entry *e = entry_dup(s->v[i]);
		if (!e || append(d, e)) {
			wsr_state_entry_free(e);
			goto fail;
		}
	}
	return d;
fail:
	wsr_state_free(d);
	return NULL;
}

/* ---- serializing ---- */

static cJSON *str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *json_or_null(const cJSON *v)
{
	return v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
}

static cJSON *time_or_null(int64_t ms)
{
	char buf[40];
	return ms ? cJSON_CreateString(wsr_time_format(ms, buf, sizeof(buf))) : cJSON_CreateNull();
}

static cJSON *source_json(const wsr_state_entry *e)
{
	if (!e->file)
		return cJSON_CreateNull();
	cJSON *o = cJSON_CreateObject();
	if (o && (!cJSON_AddStringToObject(o, "file", e->file) ||
		  !cJSON_AddNumberToObject(o, "line", e->line) ||
		  (e->revision && !cJSON_AddStringToObject(o, "revision", e->revision)))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Adds v under key, taking it; 0 when either is missing (v is freed). */
static int add(cJSON *o, const char *key, cJSON *v)
{
	if (!v || !cJSON_AddItemToObject(o, key, v)) {
		cJSON_Delete(v);
		return 0;
	}
	return 1;
}

cJSON *wsr_state_entry_to_json(const wsr_state_entry *e)
{
	/* every field is always written (null when unknown), in one order, so
	 * a reader of the file sees the whole shape and diffs stay small */
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	if (add(o, "address", str_or_null(e->address)) &&
	    add(o, "provider", str_or_null(e->provider)) && add(o, "kind", str_or_null(e->kind)) &&
	    add(o, "id", str_or_null(e->id)) && add(o, "applied", json_or_null(e->applied)) &&
	    add(o, "observed", json_or_null(e->observed)) &&
	    add(o, "labels", json_or_null(e->labels)) &&
	    add(o, "status", json_or_null(e->status)) && add(o, "source", source_json(e)) &&
	    add(o, "created", time_or_null(e->created_ms)) &&
	    add(o, "updated", time_or_null(e->updated_ms)))
		return o;
	cJSON_Delete(o);
	return NULL;
}

static int by_address(const void *a, const void *b)
{
	const wsr_state_entry *x = *(wsr_state_entry *const *)a, *y = *(wsr_state_entry *const *)b;
	return strcmp(x->address, y->address);
}

wsr_state_entry **wsr_state_sorted(const wsr_state *s)
{
	wsr_state_entry **v = malloc((s->n ? s->n : 1) * sizeof(*v));
	if (!v)
		return NULL;
	if (s->n)
		memcpy(v, s->v, s->n * sizeof(*v));
	qsort(v, s->n, sizeof(*v), by_address);
	return v;
}

static cJSON *document(const wsr_state *s)
{
	wsr_state_entry **sorted = wsr_state_sorted(s);
	cJSON *doc = cJSON_CreateObject(), *arr = NULL;
	int ok = sorted && doc && add(doc, "format", cJSON_CreateString(WSR_STATE_FORMAT)) &&
		 add(doc, "lineage", str_or_null(s->lineage)) &&
		 add(doc, "serial", cJSON_CreateNumber((double)s->serial)) &&
		 (arr = cJSON_AddArrayToObject(doc, "resources")) != NULL;
	for (size_t i = 0; ok && i < s->n; i++) {
		cJSON *e = wsr_state_entry_to_json(sorted[i]);
		ok = e && cJSON_AddItemToArray(arr, e);
		if (!ok)
			cJSON_Delete(e);
	}
	free(sorted);
	if (!ok) {
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

/* The layout: the header fields one a line, then one resource a line in
 * compact JSON. A state of 10,000 workspaces stays a third of its indented
 * size (it is read by every plan), and a diff or grep of the file still
 * shows one line per resource. */
char *wsr_state_to_json(const wsr_state *s, size_t *len)
{
	cJSON *doc = document(s);
	cJSON *resources = doc ? cJSON_DetachItemFromObjectCaseSensitive(doc, "resources") : NULL;
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_puts(&b, "{\n");
	const cJSON *f;
	cJSON_ArrayForEach(f, doc)
	{
		/* the key through cJSON too, so it is escaped like the value */
		char *v = cJSON_PrintUnformatted(f);
		cJSON *key = cJSON_CreateString(f->string);
		char *kt = key ? cJSON_PrintUnformatted(key) : NULL;
		cJSON_Delete(key);
		wsr_buf_printf(&b, "  %s: %s,\n", kt ? kt : "\"\"", v ? v : "null");
		if (!v || !kt)
			b.failed = 1;
		free(v);
		free(kt);
	}
	wsr_buf_puts(&b, "  \"resources\": [");
	const cJSON *r;
	cJSON_ArrayForEach(r, resources)
	{
		char *line = cJSON_PrintUnformatted(r);
		if (!line)
			b.failed = 1;
		wsr_buf_printf(&b, "%s\n    %s", r == resources->child ? "" : ",",
			       line ? line : "");
		free(line);
	}
	wsr_buf_puts(&b, resources && resources->child ? "\n  ]\n}\n" : "]\n}\n");
	cJSON_Delete(resources);
	if (!doc)
		b.failed = 1;
	cJSON_Delete(doc);
	if (len)
		*len = b.len;
	return wsr_buf_detach(&b); /* NULL when anything failed */
}

/* ---- parsing and checking ---- */

/* Where a check is: the file, the part of the document ("resources[3]")
 * and the entry's address once known. Only the first problem carries the
 * hint, so a file with many problems does not repeat it. Values from the
 * file are never printed (they may be anything a spec held); only field
 * names, types, addresses and the format are, and an address only through
 * wsr_diag_short (an entry may hold megabytes of one). */
typedef struct check {
	const char *file;
	wsr_diag *diag;
	char where[48];
	const char *address;
	int hinted;
	int errors;
	int nomem; /* an allocation failed: the result is incomplete, not corrupt */
} check;

static char *take_hint(check *c)
{
	if (c->hinted)
		return NULL;
	c->hinted = 1;
	return wsr_strdupf("wsr never replaces a corrupt state: fix the file by hand, or restore "
			   "the previous version from %s.backup (see docs/state.md)",
			   c->file);
}

static void problem(check *c, const char *detail, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds one problem; only the first carries the hint. */
static void report(check *c, const wsr_pos *pos, const char *detail, const char *summary)
{
	char *hint = take_hint(c);
	c->errors++;
	wsr_diag_add(c->diag, WSR_SEV_ERROR, pos, c->address, detail, hint, "%s", summary);
	free(hint);
}

static void problem(check *c, const char *detail, const char *fmt, ...)
{
	wsr_buf b = WSR_BUF_INIT;
	wsr_buf_printf(&b, "state file %s: ", c->file);
	if (c->where[0])
		wsr_buf_printf(&b, "%s: ", c->where);
	va_list ap;
	va_start(ap, fmt);
	wsr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	report(c, NULL, detail, wsr_buf_str(&b));
	wsr_buf_free(&b);
}

static const char *type_name(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsArray(v))
		return "an array";
	return "an object";
}

/* Checks that every key of o is one of known (NULL-terminated, at most 32)
 * and appears once: a field this wsr does not know would be dropped on its
 * next write, and a repeated one would be read ambiguously. */
static void check_keys(check *c, const cJSON *o, const char *const *known)
{
	unsigned seen = 0;
	for (const cJSON *k = o->child; k; k = k->next) {
		size_t i = 0;
		while (known[i] && strcmp(known[i], k->string) != 0)
			i++;
		if (!known[i])
			problem(c, "a field this wsr does not know would be lost on its next write",
				"unknown field \"%.40s\"", printable(k->string) ? k->string : "?");
		else if (seen & (1u << i))
			problem(c, NULL, "field \"%s\" appears twice", known[i]);
		seen |= 1u << i;
	}
}

/* Finds key in o. Returns 1 with *v set when present (and not a null that
 * an optional field may be), 0 when absent (a problem if required). */
static int field(check *c, const cJSON **v, const cJSON *o, const char *key, int required)
{
	*v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (*v && !(cJSON_IsNull(*v) && !required))
		return 1;
	if (required)
		problem(c, NULL, "missing \"%s\"", key);
	return 0;
}

/* A string field, copied. Returns 0 when it is missing but required, or of
 * the wrong type. */
static int get_str(check *c, char **out, const cJSON *o, const char *key, int required)
{
	const cJSON *v;
	*out = NULL;
	if (!field(c, &v, o, key, required))
		return !required;
	if (!cJSON_IsString(v)) {
		problem(c, NULL, "\"%s\" must be a string, not %s", key, type_name(v));
		return 0;
	}
	*out = strdup(v->valuestring);
	c->nomem |= !*out;
	return *out != NULL;
}

/* An object field, detached from the parsed tree (no copy: 10,000 specs). */
static int take_obj(check *c, cJSON **out, cJSON *o, const char *key, int required)
{
	const cJSON *v;
	*out = NULL;
	if (!field(c, &v, o, key, required))
		return !required;
	if (!cJSON_IsObject(v)) {
		problem(c, NULL, "\"%s\" must be an object, not %s", key, type_name(v));
		return 0;
	}
	*out = cJSON_DetachItemViaPointer(o, (cJSON *)v);
	return 1;
}

/* A required whole number from 0 to max. */
static int get_int(check *c, double *out, const cJSON *o, const char *key, double max)
{
	const cJSON *v;
	if (!field(c, &v, o, key, 1))
		return 0;
	if (!cJSON_IsNumber(v)) {
		problem(c, NULL, "\"%s\" must be a number, not %s", key, type_name(v));
		return 0;
	}
	double d = v->valuedouble;
	if (!(d >= 0 && d <= max) || d != (double)(int64_t)d) { /* also refuses NaN */
		problem(c, NULL, "\"%s\" must be a whole number from 0 to %.0f", key, max);
		return 0;
	}
	*out = d;
	return 1;
}

static int get_time(check *c, int64_t *out, const cJSON *o, const char *key)
{
	char *s = NULL;
	*out = 0;
	if (!get_str(c, &s, o, key, 0))
		return 0;
	int ok = !s || wsr_time_parse(out, s) == 0;
	if (!ok)
		problem(c, NULL, "\"%s\" is not an RFC 3339 UTC time (like 2026-11-21T09:15:00Z)",
			key);
	free(s);
	return ok;
}

static int get_source(check *c, wsr_state_entry *e, const cJSON *o)
{
	static const char *const keys[] = {"file", "line", "revision", NULL};
	const cJSON *v;
	if (!field(c, &v, o, "source", 0))
		return 1;
	if (!cJSON_IsObject(v)) {
		problem(c, NULL, "\"source\" must be an object, not %s", type_name(v));
		return 0;
	}
	double line = 0;
	int before = c->errors;
	check_keys(c, v, keys);
	if (get_str(c, &e->file, v, "file", 1) && get_int(c, &line, v, "line", INT_MAX))
		e->line = (int)line;
	get_str(c, &e->revision, v, "revision", 0);
	return c->errors == before;
}

/* Reads one entry of "resources"; NULL (with problems reported) when it is bad. */
static wsr_state_entry *read_entry(check *c, cJSON *o)
{
	static const char *const keys[] = {"address", "provider", "kind",    "id",
					   "applied", "observed", "labels",  "status",
					   "source",  "created",  "updated", NULL};
	if (!cJSON_IsObject(o)) {
		problem(c, NULL, "must be an object, not %s", type_name(o));
		return NULL;
	}
	wsr_state_entry *e = calloc(1, sizeof(*e));
	c->nomem |= !e;
	if (!e)
		return NULL;
	int before = c->errors;
	if (get_str(c, &e->address, o, "address", 1) && !printable(e->address))
		problem(c, NULL, "\"address\" must be non-empty, without control characters");
	else
		c->address = e->address;
	check_keys(c, o, keys);
	/* one statement each, so problems are reported in field order */
	get_str(c, &e->provider, o, "provider", 1);
	get_str(c, &e->kind, o, "kind", 1);
	get_str(c, &e->id, o, "id", 0);
	take_obj(c, &e->applied, o, "applied", 1);
	take_obj(c, &e->observed, o, "observed", 0);
	take_obj(c, &e->labels, o, "labels", 0);
	take_obj(c, &e->status, o, "status", 0);
	get_source(c, e, o);
	get_time(c, &e->created_ms, o, "created");
	get_time(c, &e->updated_ms, o, "updated");
	if (c->errors != before || c->nomem) {
		c->address = NULL;
		wsr_state_entry_free(e);
		return NULL;
	}
	return e;
}

static void read_entries(check *c, wsr_state *s, cJSON *arr)
{
	size_t i = 0;
	for (cJSON *o = arr->child; o; o = o->next, i++) {
		snprintf(c->where, sizeof(c->where), "resources[%zu]", i);
		wsr_state_entry *e = read_entry(c, o);
		if (!e)
			continue;
		if (wsr_state_find(s, e->address)) {
			char shown[WSR_DIAG_SHORT_SIZE];
			problem(
			    c,
			    "an address names one resource; two records of it cannot both be true",
			    "duplicate address %s",
			    wsr_diag_short(shown, sizeof(shown), e->address));
			wsr_state_entry_free(e);
		} else if (append(s, e)) {
			c->nomem = 1;
			wsr_state_entry_free(e);
		}
		c->address = NULL;
	}
	c->where[0] = '\0';
}

/* The format field: this wsr's, a newer one's, or something else. */
static int check_format(check *c, const cJSON *doc)
{
	const char *prefix = "wsr.state/v";
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(doc, "format");
	if (!f) {
		problem(c, NULL, "no \"format\" field: not a wsr state file");
		return 0;
	}
	if (!cJSON_IsString(f)) {
		problem(c, NULL, "\"format\" must be a string, not %s", type_name(f));
		return 0;
	}
	if (strcmp(f->valuestring, WSR_STATE_FORMAT) == 0)
		return 1;
	long v = 0;
	if (strncmp(f->valuestring, prefix, strlen(prefix)) == 0) {
		char *end = NULL;
		v = strtol(f->valuestring + strlen(prefix), &end, 10);
		if (*end)
			v = 0;
	}
	if (v > 1) {
		c->hinted = 1; /* the file is fine: restoring a backup is not the answer */
		c->errors++;
		wsr_diag_add(c->diag, WSR_SEV_ERROR, NULL, NULL,
			     "an older wsr must not rewrite a newer state: it would drop what it "
			     "does not understand",
			     "upgrade wsr",
			     "state file %s: written by a newer wsr (format "
			     "wsr.state/v%ld); this wsr reads %s",
			     c->file, v, WSR_STATE_FORMAT);
	} else
		problem(c, NULL, "unknown format \"%.40s\" (expected %s)",
			printable(f->valuestring) ? f->valuestring : "?", WSR_STATE_FORMAT);
	return 0;
}

/* Line and column (from 1) of byte off of text, for a message. O(off), and
 * only on the way to an error. */
static wsr_pos pos_at(const check *c, const char *text, size_t len, size_t off)
{
	wsr_pos pos = {c->file, 1, 1};
	for (size_t i = 0; i < off && i < len; i++) {
		pos.col++;
		if (text[i] == '\n') {
			pos.line++;
			pos.col = 1;
		}
	}
	return pos;
}

/* A problem at a position in the file (the document as a whole: no address). */
static void problem_at(check *c, const wsr_pos *pos, const char *detail, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void problem_at(check *c, const wsr_pos *pos, const char *detail, const char *fmt, ...)
{
	wsr_buf b = WSR_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	wsr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	report(c, pos, detail, wsr_buf_str(&b));
	wsr_buf_free(&b);
}

/* 1 when the text stops inside the document: a string, object or array is
 * still open at the end and every bracket closed before it matched. That is
 * what a state cut short looks like; a bracket that does not match, or a
 * document that closed before the end, is damage of another kind. */
static int ends_inside(const char *text, size_t len)
{
	char open[WSR_JSON_MAX_DEPTH + 1];
	size_t depth = 0;
	int in_str = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = text[i];
		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = 0;
		} else if (ch == '"') {
			in_str = 1;
		} else if (ch == '{' || ch == '[') {
			if (depth == sizeof(open))
				return 0;
			open[depth++] = ch == '{' ? '}' : ']';
		} else if (ch == '}' || ch == ']') {
			if (!depth || open[--depth] != ch || !depth)
				return 0;
		}
	}
	return in_str || depth > 0;
}

/* Offset of the start of the last line holding more than white space. */
static size_t last_line_start(const char *text, size_t len)
{
	size_t end = len;
	while (end > 0 && strchr(" \t\r\n", text[end - 1]))
		end--;
	while (end > 0 && text[end - 1] != '\n')
		end--;
	return end;
}

/* Reports a syntax error at its line and column (wsr_json_parse gives the
 * byte offset); an error without one (too deep) is reported as it is.
 * Three kinds are told apart, because each has another cause: bytes after a
 * whole document (appended to, or two writes mixed), a document that stops
 * early on its last line (truncated: a copy or a disk cut short), and
 * anything else (edited by hand, or damaged). */
static void syntax_problem(check *c, const char *text, size_t len, const char *err)
{
	const char *p = err ? strstr(err, "near byte ") : NULL;
	if (!p) {
		problem(c, NULL, "%s", err ? err : "not valid JSON");
		return;
	}
	size_t off = strtoul(p + strlen("near byte "), NULL, 10);
	wsr_pos pos = pos_at(c, text, len, off);
	/* the parser stops at the first byte it cannot take: when everything
	 * before it is a whole document, that byte starts trailing data */
	cJSON *head = NULL;
	if (off > 0 && off < len && wsr_json_parse(&head, text, off, NULL) == 0) {
		cJSON_Delete(head);
		problem_at(c, &pos,
			   "wsr ends every state file with the document's closing brace and a "
			   "newline: bytes were appended, or two writes were mixed",
			   "trailing data after the state document at line %d col %d (byte %zu)",
			   pos.line, pos.col, off);
		return;
	}
	const char *why = ends_inside(text, len) && off >= last_line_start(text, len)
			      ? "the file ends before the document does: it is truncated"
			      : "the file is corrupt or was edited by hand";
	problem_at(c, &pos, why, "state file is not valid JSON (%s)", err);
}

/* WSR_STATE_MAX_BYTES is checked first, so the scan for NUL is bounded. */
static int parse_document(check *c, cJSON **doc, const char *text, size_t len)
{
	*doc = NULL;
	if (len > WSR_STATE_MAX_BYTES) {
		problem(c, "the limit is WSR_STATE_MAX_BYTES", "larger than %u bytes",
			WSR_STATE_MAX_BYTES);
		return 0;
	}
	size_t i = 0;
	while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r'))
		i++;
	if (i == len) {
		problem(c, "wsr never writes an empty state file: it was truncated",
			"the file is empty");
		return 0;
	}
	/* JSON text has no NUL byte, and wsr writes none: one is damage (a
	 * crash mid-write on some file systems leaves blocks of them). The
	 * parser would stop at it and take what follows as the end of the
	 * text, so it is refused here, wherever it is. */
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		size_t off = (size_t)(nul - text);
		wsr_pos pos = pos_at(c, text, len, off);
		problem_at(c, &pos,
			   "JSON text holds no NUL byte and wsr never writes one: the file was "
			   "damaged",
			   "state file holds a NUL byte at byte offset %zu (line %d col %d)", off,
			   pos.line, pos.col);
		return 0;
	}
	if (text[i] != '{') {
		problem(c, NULL, "not a wsr state file (it does not start with a JSON object)");
		return 0;
	}
	char *err = NULL;
	if (wsr_json_parse(doc, text, len, &err)) {
		syntax_problem(c, text, len, err);
		free(err);
		return 0;
	}
	return 1;
}

static void read_document(check *c, wsr_state *s, cJSON *doc)
{
	static const char *const keys[] = {"format", "lineage", "serial", "resources", NULL};
	double serial = 0;
	check_keys(c, doc, keys);
	if (get_str(c, &s->lineage, doc, "lineage", 1) && !printable(s->lineage))
		problem(c, NULL, "\"lineage\" must be non-empty, without control characters");
	if (get_int(c, &serial, doc, "serial", MAX_SERIAL))
		s->serial = (int64_t)serial;
	const cJSON *arr;
	if (!field(c, &arr, doc, "resources", 1))
		return;
	if (!cJSON_IsArray(arr))
		problem(c, NULL, "\"resources\" must be an array, not %s", type_name(arr));
	else
		read_entries(c, s, (cJSON *)arr);
}

/* Checks doc (format, then the document) into *out; the shared end of
 * both ways in. doc is consumed in part (entries take their objects). */
static int from_doc(check *c, wsr_state **out, cJSON *doc)
{
	wsr_state *s = NULL;
	if (check_format(c, doc)) {
		s = state_alloc();
		c->nomem |= !s;
		if (s)
			read_document(c, s, doc);
	}
	if (c->errors || c->nomem) {
		wsr_state_free(s);
		return c->errors ? WSR_ECORRUPT : WSR_ENOMEM;
	}
	*out = s;
	return 0;
}

int wsr_state_from_doc(wsr_state **out, cJSON *doc, const char *where, wsr_diag *diag)
{
	check c = {.file = where ? where : "(state)", .diag = diag};
	*out = NULL;
	if (!cJSON_IsObject(doc)) {
		problem(&c, NULL, "must be a JSON object, not %s", type_name(doc));
		return WSR_ECORRUPT;
	}
	return from_doc(&c, out, doc);
}

int wsr_state_from_json(wsr_state **out, const char *text, size_t len, const char *file,
			wsr_diag *diag)
{
	check c = {.file = file ? file : "(state)", .diag = diag};
	cJSON *doc = NULL;
	*out = NULL;
	int rc = WSR_ECORRUPT;
	if (parse_document(&c, &doc, text, len))
		rc = from_doc(&c, out, doc);
	else if (!c.errors)
		rc = c.nomem ? WSR_ENOMEM : WSR_ECORRUPT;
	cJSON_Delete(doc);
	return rc;
}
