/* Keeps docs/spec.md true: every property path of every embedded schema has
 * a row in the table of its schema's section (`## ... (schema/X.json)`), no
 * row names a field the schema lacks, and each row's type, default, allowed
 * values, numeric limits and change behaviour agree with the schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/embedded.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "schema/schema.h"

#define MAX_ROWS 256
#define MAX_COLS 5

typedef struct row {
	char *schema;	      /* "schema/config.json" */
	char *cols[MAX_COLS]; /* field (without backticks), type, default, values, change */
	int line;
	int seen;
} row;

static row rows[MAX_ROWS];
static size_t nrows;
static int problems;

#define PROBLEM(...)                                                                               \
	do {                                                                                       \
		fprintf(stderr, "docs/spec.md: " __VA_ARGS__);                                     \
		fputc('\n', stderr);                                                               \
		problems++;                                                                        \
	} while (0)

static char *trim(char *s)
{
	while (*s == ' ')
		s++;
	size_t n = strlen(s);
	while (n && s[n - 1] == ' ')
		s[--n] = '\0';
	return s;
}

/* Splits "| a | b |" into cells; '|' inside backticks does not split. */
static int split_row(char *line, char **cols)
{
	int n = 0, tick = 0;
	char *start = NULL;
	for (char *p = line; *p; p++) {
		if (*p == '`')
			tick = !tick;
		if (*p != '|' || tick)
			continue;
		*p = '\0';
		if (start && n < MAX_COLS)
			cols[n++] = trim(start);
		start = p + 1;
	}
	return n;
}

static char *docs_path(void)
{
	const char *src = getenv("WSR_SRC");
	if (src)
		return wsr_path_join(src, "docs/spec.md");
	/* __FILE__ is tests/unit/test_spec_doc.c below the source root */
	char *root = wsr_path_dirname(__FILE__), *up = wsr_path_dirname(root),
	     *top = wsr_path_dirname(up);
	char *p = wsr_path_join(top, "docs/spec.md");
	free(root);
	free(up);
	free(top);
	return p;
}

static void read_doc(void)
{
	char *path = docs_path(), *text = NULL;
	size_t len;
	assert_int_equal(wsr_fs_read(&text, &len, path, 1 << 20), 0);
	free(path);
	char *schema = NULL;
	int line = 0;
	for (char *l = text, *next; l; l = next) {
		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		line++;
		if (!strncmp(l, "## ", 3)) {
			char *s = strstr(l, "(schema/"), *e = s ? strstr(s, ".json)") : NULL;
			free(schema);
			schema = s && e ? strndup(s + 1, (size_t)(e - s + 4)) : NULL;
			continue;
		}
		if (strncmp(l, "| `", 3) != 0 || !schema)
			continue;
		assert_true(nrows < MAX_ROWS);
		row *r = &rows[nrows++];
		char *cols[MAX_COLS] = {0};
		int n = split_row(l, cols);
		if (n != MAX_COLS) {
			PROBLEM("table row %d has %d columns, not %d", line, n, MAX_COLS);
			nrows--;
			continue;
		}
		r->schema = strdup(schema);
		r->line = line;
		for (int i = 0; i < MAX_COLS; i++)
			r->cols[i] = strdup(cols[i]);
		size_t fl = strlen(r->cols[0]); /* `path` -> path */
		memmove(r->cols[0], r->cols[0] + 1, fl - 2);
		r->cols[0][fl - 2] = '\0';
	}
	free(schema);
	free(text);
}

static row *find_row(const char *schema, const char *path)
{
	for (size_t i = 0; i < nrows; i++)
		if (!strcmp(rows[i].schema, schema) && !strcmp(rows[i].cols[0], path))
			return &rows[i];
	return NULL;
}

/* `value` as the table writes it: strings bare, the rest as JSON. */
static int mentions(const char *cell, const cJSON *v)
{
	char *s = cJSON_IsString(v) ? wsr_strdupf("`%s`", v->valuestring) : NULL;
	if (!s) {
		char *j = cJSON_PrintUnformatted(v);
		s = wsr_strdupf("`%s`", j);
		free(j);
	}
	int ok = strstr(cell, s) != NULL;
	free(s);
	return ok;
}

static void check_limit(const row *r, const cJSON *s, const char *kw)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, kw);
	if (!cJSON_IsNumber(v))
		return;
	char num[32];
	snprintf(num, sizeof(num), "%g", v->valuedouble);
	/* 86400 may be written as is; the table writes numbers without separators */
	if (!strstr(r->cols[3], num))
		PROBLEM("line %d: `%s` does not mention its %s %s", r->line, r->cols[0], kw, num);
}

static void check_change(const row *r, const cJSON *s, int local)
{
	const char *want = NULL;
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(s, "x-wsr-operation");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "x-wsr-immutable")))
		want = "replace";
	else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "x-wsr-create-only")))
		want = "creation only";
	else if (cJSON_IsString(op))
		want = op->valuestring;
	else if (local)
		want = "local";
	const char *got = r->cols[4];
	if (want && strcmp(got, want) != 0)
		PROBLEM("line %d: `%s` changes by %s, the schema says %s", r->line, r->cols[0], got,
			want);
	if (!want &&
	    (!strcmp(got, "replace") || !strcmp(got, "transfer") || !strcmp(got, "upgrade")))
		PROBLEM("line %d: `%s` says %s, the schema has no such annotation", r->line,
			r->cols[0], got);
}

static void check_row(row *r, const cJSON *s, int local)
{
	r->seen = 1;
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "type"));
	if (strcmp(r->cols[1], type ? type : "any") != 0)
		PROBLEM("line %d: `%s` has type %s, the schema says %s", r->line, r->cols[0],
			r->cols[1], type ? type : "any");
	const cJSON *def = cJSON_GetObjectItemCaseSensitive(s, "default");
	if (!def && strcmp(r->cols[2], "—") != 0)
		PROBLEM("line %d: `%s` documents a default the schema lacks", r->line, r->cols[0]);
	if (def && !mentions(r->cols[2], def))
		PROBLEM("line %d: `%s` does not document its default", r->line, r->cols[0]);
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(s, "enum"), *e;
	cJSON_ArrayForEach(e, en)
	{
		if (!mentions(r->cols[3], e))
			PROBLEM("line %d: `%s` does not list the allowed value %s", r->line,
				r->cols[0], cJSON_IsString(e) ? e->valuestring : "(non-string)");
	}
	check_limit(r, s, "minimum");
	check_limit(r, s, "maximum");
	check_limit(r, s, "maxLength");
	check_limit(r, s, "maxItems");
	const cJSON *minl = cJSON_GetObjectItemCaseSensitive(s, "minLength");
	if (cJSON_IsNumber(minl) && minl->valueint > 1)
		check_limit(r, s, "minLength");
	check_change(r, s, local);
}

static void walk(const char *file, const cJSON *s, const char *prefix, int local);

/* Checks the row of one path and everything below it. */
static void check_path(const char *file, const char *path, const cJSON *s, int local)
{
	row *r = find_row(file, path);
	if (!r)
		PROBLEM("`%s` of %s is not documented", path, file);
	else
		check_row(r, s,
			  local ||
			      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "x-wsr-local")));
	walk(file, s, path, local);
}

/* Walks every property path of schema s below prefix; a map's values are
 * documented as `prefix.<key>`. */
static void walk(const char *file, const cJSON *s, const char *prefix, int local)
{
	local = local || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "x-wsr-local"));
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties"), *p;
	cJSON_ArrayForEach(p, props)
	{
		char *path = *prefix ? wsr_strdupf("%s.%s", prefix, p->string) : strdup(p->string);
		check_path(file, path, p, local);
		free(path);
	}
	const cJSON *extra = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
	if (cJSON_IsObject(extra)) {
		char *path = wsr_strdupf("%s.<key>", prefix);
		check_path(file, path, extra, local);
		free(path);
	}
}

/* The repository path of an embedded schema tree. */
static const char *schema_file(const cJSON *s)
{
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "$id"));
	const char *base = id ? strrchr(id, '/') : NULL;
	static char buf[128];
	snprintf(buf, sizeof(buf), "schema%s", base ? base : "/?");
	assert_non_null(wsr_embedded_find(buf));
	return buf;
}

static void test_doc_matches_schemas(void **st)
{
	(void)st;
	read_doc();
	assert_true(nrows > 40);
	size_t n = 0;
	for (const cJSON *s; (s = wsr_schema_list(n)); n++)
		walk(schema_file(s), s, "", 0);
	assert_int_equal(n, 4); /* every schema was walked */
	for (size_t i = 0; i < nrows; i++)
		if (!rows[i].seen)
			PROBLEM("line %d documents `%s`, which %s does not have", rows[i].line,
				rows[i].cols[0], rows[i].schema);
	for (size_t i = 0; i < nrows; i++) {
		free(rows[i].schema);
		for (int k = 0; k < MAX_COLS; k++)
			free(rows[i].cols[k]);
	}
	assert_int_equal(problems, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_doc_matches_schemas),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
