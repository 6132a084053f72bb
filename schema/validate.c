/* validate: the schema registry (the embedded schema/<kind>.json files, parsed once) and
 * the validator that applies one schema to a YAML node tree.
 *
 * Validation works on the YAML tree, not on YAML already turned into JSON,
 * because the schema decides a scalar's type: `version: 1.30` is the string
 * "1.30" where a string is expected, and every problem keeps the node's
 * file:line:col. The result is canonical: properties come out in the
 * schema's order with defaults filled, so two specs that say the same thing
 * in a different order produce the same JSON (and the same state). */
#include "schema/schema.h"

#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/embedded.h"
#include "lib/err.h"
#include "lib/log.h"

#define SCHEMA_MAX 16	   /* schema files embedded */
#define REGEX_CACHE_MAX 64 /* distinct patterns kept compiled */
#define SUGGEST_MAX_LEN 64 /* names longer than this get no did-you-mean */
#define PATH_SHOWN_MAX 256 /* bytes of a field path shown in a message */

/* ---- the registry ------------------------------------------------------ */

static cJSON *schemas[SCHEMA_MAX];
static size_t nschemas;
static pthread_once_t schemas_once = PTHREAD_ONCE_INIT;

static int is_schema_file(const char *path)
{
	size_t n = strlen(path);
	return strncmp(path, "schema/", 7) == 0 && n > 12 && strcmp(path + n - 5, ".json") == 0;
}

static void schemas_load(void)
{
	for (const wsr_embedded_file *f = wsr_embedded_files; f->path; f++) {
		if (!is_schema_file(f->path) || nschemas == SCHEMA_MAX)
			continue;
		cJSON *s = cJSON_ParseWithLength(f->data, f->len);
		if (!s) /* a build-time file: a broken one is a bug the schema test catches */
			wsr_log(WSR_LOG_ERROR, "embedded %s is not valid JSON", f->path);
		else
			schemas[nschemas++] = s;
	}
}

const cJSON *wsr_schema_list(size_t i)
{
	pthread_once(&schemas_once, schemas_load);
	return i < nschemas ? schemas[i] : NULL;
}

const cJSON *wsr_schema_for(const char *api_version, const char *kind)
{
	const cJSON *s;
	for (size_t i = 0; api_version && kind && (s = wsr_schema_list(i)); i++) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(s, "x-wsr-api-version");
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(s, "x-wsr-kind");
		if (cJSON_IsString(a) && cJSON_IsString(k) &&
		    strcmp(a->valuestring, api_version) == 0 && strcmp(k->valuestring, kind) == 0)
			return s;
	}
	return NULL;
}

const cJSON *wsr_schema_at(const cJSON *schema, const char *dotted)
{
	const char *p = dotted;
	while (schema && p && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
		const cJSON *next = NULL, *c;
		cJSON_ArrayForEach(c, props)
		{
			if (strlen(c->string) == n && strncmp(c->string, p, n) == 0)
				next = c;
		}
		if (!next) {
			next = cJSON_GetObjectItemCaseSensitive(schema, "additionalProperties");
			if (!cJSON_IsObject(next))
				next = NULL;
		}
		schema = next;
		p = dot ? dot + 1 : NULL;
	}
	return schema;
}

/* ---- patterns ----------------------------------------------------------- */

/* Compiled patterns, keyed by their text (schemas live for the process, but
 * tests build their own). JSON Schema patterns are ECMA-262; the ones wsr
 * ships stay inside what POSIX ERE means the same way (a test checks). */
static struct {
	char *pat;
	regex_t re;
	int ok;
} regex_cache[REGEX_CACHE_MAX];
static size_t nregex;
static pthread_mutex_t regex_mu = PTHREAD_MUTEX_INITIALIZER;

/* 1 when s matches pat, 0 when not, -1 when pat does not compile. */
static int pattern_match(const char *pat, const char *s)
{
	int rc = -1;
	pthread_mutex_lock(&regex_mu);
	size_t i = 0;
	while (i < nregex && strcmp(regex_cache[i].pat, pat) != 0)
		i++;
	if (i == nregex && nregex < REGEX_CACHE_MAX) {
		regex_cache[i].pat = strdup(pat);
		regex_cache[i].ok = regex_cache[i].pat &&
				    regcomp(&regex_cache[i].re, pat, REG_EXTENDED | REG_NOSUB) == 0;
		nregex++;
	}
	if (i < nregex) {
		if (regex_cache[i].ok)
			rc = regexec(&regex_cache[i].re, s, 0, NULL, 0) == 0;
	} else {
		regex_t re; /* the cache is full: compile for this one use */
		if (regcomp(&re, pat, REG_EXTENDED | REG_NOSUB) == 0) {
			rc = regexec(&re, s, 0, NULL, 0) == 0;
			regfree(&re);
		}
	}
	pthread_mutex_unlock(&regex_mu);
	return rc;
}

/* ---- did you mean ------------------------------------------------------- */

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Case-insensitive edit distance where swapping two neighbours costs one. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[SUGGEST_MAX_LEN + 1][SUGGEST_MAX_LEN + 1];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = lower(a[i - 1]) != lower(b[j - 1]);
			size_t v = d[i - 1][j - 1] + cost;
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

/* The candidate close enough to word to be what the user meant, or NULL:
 * at most two edits, and no more than a third of the word. */
static const char *closest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t best_d = 3;
	if (strlen(word) > SUGGEST_MAX_LEN)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t lc = strlen(cands[i]);
		if (lc > SUGGEST_MAX_LEN)
			continue;
		size_t d = edit_distance(word, cands[i]);
		size_t longer = lc > strlen(word) ? lc : strlen(word);
		if (d < best_d && d * 3 <= longer) {
			best = cands[i];
			best_d = d;
		}
	}
	return best;
}

/* ---- the validator ---------------------------------------------------- */

/* One step of the path to the node being checked: a map key or a list
 * index. The path is only spelled out when a problem is reported, so a
 * valid spec never pays for formatting it. */
typedef struct seg {
	const char *key; /* NULL: a list index */
	size_t index;
} seg;

typedef struct vctx {
	wsr_diag *diag;
	seg path[WSR_YAML_MAX_DEPTH + 1]; /* a node tree is never deeper than this */
	size_t depth;
	int const_keys; /* the schema lives for the process: its keys are shared */
	int errors;
} vctx;

/* The dotted path of the node being checked ("" at the root). */
static void path_format(const vctx *c, wsr_buf *out)
{
	for (size_t i = 0; i < c->depth; i++) {
		if (!c->path[i].key)
			wsr_buf_printf(out, "[%zu]", c->path[i].index);
		else
			wsr_buf_printf(out, "%s%s", i ? "." : "", c->path[i].key);
	}
}

/* Reports a problem at n: "<path>: <message>". */
__attribute__((format(printf, 5, 6))) static void
problem(vctx *c, const wsr_node *n, const char *detail, const char *hint, const char *fmt, ...)
{
	wsr_buf msg = WSR_BUF_INIT, path = WSR_BUF_INIT;
	path_format(c, &path);
	if (path.len)
		wsr_buf_printf(&msg, "%.*s: ", PATH_SHOWN_MAX, wsr_buf_str(&path));
	wsr_buf_free(&path);
	va_list ap;
	va_start(ap, fmt);
	wsr_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	wsr_pos pos = wsr_node_pos(n);
	wsr_diag_add(c->diag, WSR_SEV_ERROR, &pos, NULL, detail, hint, "%s", wsr_buf_str(&msg));
	wsr_buf_free(&msg);
	c->errors++;
}

/* ---- one schema object's keywords, looked up once ------------------------ */

/* What the validator reads from one schema object. The registry's schemas
 * are compiled once for the process; any other schema is compiled for the
 * one call. Keyword lookups in cJSON are linear scans, and a spec of
 * 10,000 workspaces would repeat each of them 10,000 times. */
typedef struct cschema cschema;
struct cschema {
	const cJSON *s;
	const char *type; /* NULL: any */
	const cJSON *props, *required, *def, *enumv;
	const char *desc, *pattern;
	double min_len, max_len, minimum, maximum, max_items;
	int extra_false;	/* additionalProperties: false */
	cschema *extra, *items; /* schemas of additional properties and list items */
	cschema *prop;		/* one per property, in the schema's order */
	size_t nprops;
};

/* No node tree is deeper than WSR_YAML_MAX_DEPTH, so schema objects below
 * this depth can never meet a node: they are not compiled (a deep schema
 * costs no recursion past it). */
#define SCHEMA_DEPTH_MAX (WSR_YAML_MAX_DEPTH + 1)

static double num_kw(const cJSON *s, const char *kw, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, kw);
	return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static void cschema_clear(cschema *c)
{
	for (size_t i = 0; i < c->nprops; i++)
		cschema_clear(&c->prop[i]);
	free(c->prop);
	if (c->extra)
		cschema_clear(c->extra);
	if (c->items)
		cschema_clear(c->items);
	free(c->extra);
	free(c->items);
}

static int cschema_build(cschema *c, const cJSON *s, int depth);

static int cschema_sub(cschema **out, const cJSON *s, int depth)
{
	if (!cJSON_IsObject(s))
		return 0;
	if (!(*out = calloc(1, sizeof(**out))))
		return WSR_ENOMEM;
	return cschema_build(*out, s, depth);
}

static int cschema_build(cschema *c, const cJSON *s, int depth)
{
	*c = (cschema){.s = s};
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "type");
	c->type = cJSON_IsString(t) ? t->valuestring : NULL;
	if (depth > SCHEMA_DEPTH_MAX) {
		c->type = NULL;
		return 0;
	}
	c->props = cJSON_GetObjectItemCaseSensitive(s, "properties");
	c->required = cJSON_GetObjectItemCaseSensitive(s, "required");
	c->def = cJSON_GetObjectItemCaseSensitive(s, "default");
	c->enumv = cJSON_GetObjectItemCaseSensitive(s, "enum");
	if (!cJSON_IsArray(c->enumv))
		c->enumv = NULL;
	c->desc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "description"));
	c->pattern = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "pattern"));
	c->min_len = num_kw(s, "minLength", 0);
	c->max_len = num_kw(s, "maxLength", INFINITY);
	c->minimum = num_kw(s, "minimum", -INFINITY);
	c->maximum = num_kw(s, "maximum", INFINITY);
	c->max_items = num_kw(s, "maxItems", INFINITY);
	const cJSON *extra = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
	c->extra_false = cJSON_IsFalse(extra);
	int rc = cschema_sub(&c->extra, extra, depth + 1);
	if (!rc)
		rc =
		    cschema_sub(&c->items, cJSON_GetObjectItemCaseSensitive(s, "items"), depth + 1);
	size_t n = (size_t)cJSON_GetArraySize(c->props);
	if (!rc && n && !(c->prop = calloc(n, sizeof(*c->prop))))
		rc = WSR_ENOMEM;
	const cJSON *p;
	cJSON_ArrayForEach(p, c->props)
	{
		if (rc)
			break;
		rc = cschema_build(&c->prop[c->nprops++], p, depth + 1);
	}
	return rc;
}

static cschema compiled[SCHEMA_MAX];
static pthread_once_t compiled_once = PTHREAD_ONCE_INIT;
static int compiled_rc;

static void compile_registry(void)
{
	for (size_t i = 0; !compiled_rc && wsr_schema_list(i); i++)
		compiled_rc = cschema_build(&compiled[i], wsr_schema_list(i), 0);
}

/* ---- checks --------------------------------------------------------------- */

static const char *describe(const char *type)
{
	if (!strcmp(type, "object"))
		return "a map";
	if (!strcmp(type, "array"))
		return "a list";
	if (!strcmp(type, "boolean"))
		return "true or false";
	if (!strcmp(type, "integer"))
		return "an integer";
	if (!strcmp(type, "number"))
		return "a number";
	return "a string";
}

static const char *found(const wsr_node *n)
{
	return n->kind == WSR_NODE_MAP ? "a map" : n->kind == WSR_NODE_SEQ ? "a list" : "a scalar";
}

/* A plain scalar YAML 1.2's core schema reads as null (wsr_node_to_json). */
static int is_null_plain(const wsr_node *n)
{
	const char *t = n->text;
	return n->plain && (!*t || !strcmp(t, "~") || !strcmp(t, "null") || !strcmp(t, "Null") ||
			    !strcmp(t, "NULL"));
}

/* Truncated quote of a scalar for messages. */
#define SHOW(n) (int)((n)->len > 80 ? 80 : (n)->len), (n)->text

static cJSON *scalar_string(vctx *c, const wsr_node *n)
{
	if (is_null_plain(n)) {
		problem(c, n, NULL,
			n->len ? "quote it (\"...\") if you mean the text" : "give it a value",
			"expected a string, found %s", n->len ? "null" : "nothing");
		return NULL;
	}
	return cJSON_CreateString(n->text);
}

/* Booleans and numbers: the plain scalar's YAML 1.2 core-schema type must
 * be the expected one. */
static cJSON *scalar_typed(vctx *c, const wsr_node *n, const char *type)
{
	if (!n->plain) {
		problem(c, n, NULL, "remove the quotes",
			"expected %s, found the quoted string \"%.*s\"", describe(type), SHOW(n));
		return NULL;
	}
	cJSON *j = wsr_node_to_json(n);
	int ok = !strcmp(type, "boolean") ? cJSON_IsBool(j)
		 : cJSON_IsNumber(j)
		     ? isfinite(j->valuedouble) &&
			   (strcmp(type, "integer") || floor(j->valuedouble) == j->valuedouble)
		     : 0;
	if (ok)
		return j;
	cJSON_Delete(j);
	problem(c, n, NULL,
		!strcmp(type, "boolean") ? "YAML 1.2 booleans are true and false only" : NULL,
		"expected %s, found '%.*s'", describe(type), SHOW(n));
	return NULL;
}

static void check_enum(vctx *c, const cschema *s, const wsr_node *n, const cJSON *v)
{
	const cJSON *e;
	if (!s->enumv)
		return;
	cJSON_ArrayForEach(e, s->enumv)
	{
		if (cJSON_Compare(e, v, 1))
			return;
	}
	const char *names[32];
	size_t k = 0;
	wsr_buf list = WSR_BUF_INIT;
	cJSON_ArrayForEach(e, s->enumv)
	{
		char *p = cJSON_PrintUnformatted(e);
		if (cJSON_IsString(e) && k < 32)
			names[k++] = e->valuestring;
		wsr_buf_printf(&list, "%s%s", list.len ? ", " : "",
			       cJSON_IsString(e) ? e->valuestring : p);
		free(p);
	}
	const char *guess = cJSON_IsString(v) ? closest(v->valuestring, names, k) : NULL;
	char *hint = guess ? wsr_strdupf("did you mean '%s'?", guess) : NULL;
	problem(c, n, NULL, hint, "'%.*s' is not one of: %s", SHOW(n), wsr_buf_str(&list));
	free(hint);
	wsr_buf_free(&list);
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static void check_string(vctx *c, const cschema *s, const wsr_node *n, const char *v)
{
	double len = (double)utf8_chars(v);
	if (len < s->min_len)
		problem(c, n, NULL, NULL,
			"'%.*s' is too short: at least %.0f characters are required", SHOW(n),
			s->min_len);
	if (len > s->max_len)
		problem(c, n, NULL, NULL,
			"'%.*s...' is %.0f characters long; at most %.0f are allowed",
			(int)(n->len > 40 ? 40 : n->len), n->text, len, s->max_len);
	if (s->pattern && pattern_match(s->pattern, v) == 0)
		problem(c, n, s->desc, NULL, "'%.*s' does not have the required form %s", SHOW(n),
			s->pattern);
}

static void check_number(vctx *c, const cschema *s, const wsr_node *n, double v)
{
	if (v < s->minimum)
		problem(c, n, NULL, NULL, "%.*s is below the minimum %g", SHOW(n), s->minimum);
	if (v > s->maximum)
		problem(c, n, NULL, NULL, "%.*s is above the maximum %g", SHOW(n), s->maximum);
}

static cJSON *check_node(vctx *c, const cschema *s, const wsr_node *n, const wsr_node *at);

static cJSON *check_scalar(vctx *c, const cschema *s, const wsr_node *n)
{
	const char *type = s->type;
	cJSON *v = !type		     ? wsr_node_to_json(n)
		   : !strcmp(type, "string") ? scalar_string(c, n)
					     : scalar_typed(c, n, type);
	if (!v)
		return NULL;
	if (cJSON_IsString(v))
		check_string(c, s, n, v->valuestring);
	else if (cJSON_IsNumber(v))
		check_number(c, s, n, v->valuedouble);
	check_enum(c, s, n, v);
	return v;
}

/* The node tree's depth bounds the path's (WSR_YAML_MAX_DEPTH); a tree
 * built by other means that goes deeper keeps its deepest steps unnamed. */
static void path_push(vctx *c, const char *key, size_t index)
{
	if (c->depth < sizeof(c->path) / sizeof(c->path[0]))
		c->path[c->depth] = (seg){key, index};
	c->depth++;
}

static void path_pop(vctx *c)
{
	c->depth--;
}

/* const_key: a schema key that outlives the value (the registry's), shared
 * instead of copied. */
static int add_item(cJSON *obj, const char *key, int const_key, cJSON *v)
{
	if (v &&
	    (const_key ? cJSON_AddItemToObjectCS(obj, key, v) : cJSON_AddItemToObject(obj, key, v)))
		return 0;
	cJSON_Delete(v);
	return -1;
}

static void unknown_field(vctx *c, const cJSON *props, const wsr_node *key)
{
	const char *names[64] = {0};
	size_t k = 0;
	wsr_buf list = WSR_BUF_INIT;
	const cJSON *p;
	cJSON_ArrayForEach(p, props)
	{
		if (k < 64)
			names[k++] = p->string;
		wsr_buf_printf(&list, "%s%s", list.len ? ", " : "", p->string);
	}
	const char *guess = closest(key->text, names, k);
	char *hint =
	    guess ? wsr_strdupf("did you mean '%s'?", guess)
		  : wsr_strdupf("allowed here: %s", list.len ? wsr_buf_str(&list) : "nothing");
	wsr_pos pos = wsr_node_pos(key);
	wsr_buf path = WSR_BUF_INIT;
	path_format(c, &path);
	if (path.len)
		wsr_diag_add(c->diag, WSR_SEV_ERROR, &pos, NULL, NULL, hint,
			     "unknown field '%.*s' in %.*s", SHOW(key), PATH_SHOWN_MAX,
			     wsr_buf_str(&path));
	else
		wsr_diag_add(c->diag, WSR_SEV_ERROR, &pos, NULL, NULL, hint, "unknown field '%.*s'",
			     SHOW(key));
	c->errors++;
	free(hint);
	wsr_buf_free(&list);
	wsr_buf_free(&path);
}

/* Fields the schema names, in the schema's order, with defaults for the
 * absent ones; then required fields that are missing. Returns how many of
 * n's keys the schema names (keys are unique: the loader refuses repeats). */
static size_t object_known(vctx *c, const cschema *s, const wsr_node *n, const wsr_node *at,
			   cJSON *out)
{
	size_t matched = 0, next = 0;
	for (size_t pi = 0; pi < s->nprops; pi++) {
		const cschema *p = &s->prop[pi];
		const char *name = p->s->string;
		/* one scan finds both the key (for positions) and the value; it
		 * starts after the last key found, as specs mostly list fields
		 * in the schema's order */
		size_t i = n->n;
		for (size_t j = 0; j < n->n; j++) {
			size_t at_j = (next + j) % n->n;
			if (strcmp(n->keys[at_j]->text, name) == 0) {
				i = at_j;
				break;
			}
		}
		const wsr_node *k = i < n->n ? n->keys[i] : NULL, *v = k ? n->vals[i] : NULL;
		path_push(c, name, 0);
		if (v) {
			matched++;
			next = i + 1;
			add_item(out, name, c->const_keys, check_node(c, p, v, k));
		} else if (p->def) {
			add_item(out, name, c->const_keys, cJSON_Duplicate(p->def, 1));
		}
		path_pop(c);
	}
	const cJSON *r;
	cJSON_ArrayForEach(r, s->required)
	{
		if (cJSON_IsString(r) && !wsr_node_get(n, r->valuestring))
			problem(c, at ? at : n, NULL, NULL, "missing required field '%s'",
				r->valuestring);
	}
	return matched;
}

/* Fields the schema does not name: additionalProperties decides. */
static void object_extra(vctx *c, const cschema *s, const wsr_node *n, cJSON *out)
{
	for (size_t i = 0; i < n->n; i++) {
		const wsr_node *k = n->keys[i];
		if (cJSON_GetObjectItemCaseSensitive(s->props, k->text))
			continue;
		if (s->extra_false) {
			unknown_field(c, s->props, k);
			continue;
		}
		path_push(c, k->text, 0);
		add_item(out, k->text, 0,
			 s->extra ? check_node(c, s->extra, n->vals[i], k)
				  : wsr_node_to_json(n->vals[i]));
		path_pop(c);
	}
}

static cJSON *check_array(vctx *c, const cschema *s, const wsr_node *n)
{
	if ((double)n->n > s->max_items)
		problem(c, n, NULL, NULL, "%zu items; at most %.0f are allowed", n->n,
			s->max_items);
	cJSON *out = cJSON_CreateArray();
	for (size_t i = 0; out && i < n->n; i++) {
		path_push(c, NULL, i);
		cJSON *v = s->items ? check_node(c, s->items, n->vals[i], NULL)
				    : wsr_node_to_json(n->vals[i]);
		if (v)
			cJSON_AddItemToArray(out, v);
		path_pop(c);
	}
	return out;
}

/* at: the key that holds n, where "missing field" problems are reported. */
static cJSON *check_node(vctx *c, const cschema *s, const wsr_node *n, const wsr_node *at)
{
	const char *type = s->type;
	wsr_node_kind want = !type		       ? n->kind
			     : !strcmp(type, "object") ? WSR_NODE_MAP
			     : !strcmp(type, "array")  ? WSR_NODE_SEQ
						       : WSR_NODE_SCALAR;
	if (n->kind != want) {
		if (n->kind == WSR_NODE_SCALAR && is_null_plain(n))
			problem(c, n, NULL, "give it a value or remove the field",
				"expected %s, found nothing", describe(type));
		else
			problem(c, n, NULL, NULL, "expected %s, found %s", describe(type),
				found(n));
		return NULL;
	}
	if (n->kind == WSR_NODE_SCALAR)
		return check_scalar(c, s, n);
	if (n->kind == WSR_NODE_SEQ)
		return check_array(c, s, n);
	cJSON *out = cJSON_CreateObject();
	if (out && object_known(c, s, n, at, out) < n->n)
		object_extra(c, s, n, out);
	return out;
}

int wsr_schema_validate(cJSON **out, const cJSON *schema, const wsr_node *node, wsr_diag *diag)
{
	*out = NULL;
	vctx c = {.diag = diag};
	/* a registry schema: compiled once, and its keys outlive every value */
	const cschema *cs = NULL;
	pthread_once(&compiled_once, compile_registry);
	for (size_t i = 0; !compiled_rc && wsr_schema_list(i); i++)
		if (wsr_schema_list(i) == schema)
			cs = &compiled[i];
	cschema own = {0};
	int rc = 0;
	if (cs)
		c.const_keys = 1;
	else if (!(rc = cschema_build(&own, schema, 0)))
		cs = &own;
	cJSON *v = cs ? check_node(&c, cs, node, NULL) : NULL;
	cschema_clear(&own);
	if (c.errors) {
		cJSON_Delete(v);
		return WSR_EINVAL;
	}
	if (!v) {
		cJSON_Delete(v);
		return WSR_ENOMEM;
	}
	*out = v;
	return 0;
}
