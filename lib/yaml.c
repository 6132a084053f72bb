/* yaml: builds wsr's positioned node tree from libyaml's event stream.
 *
 * libyaml does the scanning and parsing; this file adds what libyaml leaves
 * to its callers: a tree that remembers line:col, the limits of lib/yaml.h,
 * duplicate-key and merge-key refusal, and diagnostics a user can act on
 * (libyaml's "found character that cannot start any token" becomes "tab
 * character in indentation").
 *
 * Aliases share the anchored subtree instead of copying it: nodes are boxed
 * with a reference count, a subtree size and a height, so an alias costs
 * O(1) and the expansion is counted (and refused past the bound) without
 * ever being built. The price: a problem inside an aliased value is
 * reported where the anchor defined it, which is also where it is fixed. */
#include "lib/yaml.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/hmap.h"
#include "lib/utf8.h"

/* A map switches from a linear duplicate-key scan to a hash index here. */
#define DUP_SCAN_MAX 8

typedef struct nbox {
	size_t size; /* nodes in the subtree, aliases expanded (saturating) */
	int height;  /* 0 for a scalar, 1 + the deepest child for a container */
	wsr_node node;
} nbox;

static nbox *box_of(const wsr_node *n)
{
	return (nbox *)(void *)((char *)(uintptr_t)n - offsetof(nbox, node));
}

/* ---- the file's arena ------------------------------------------------ */

/* Every node of a file, its text and its child arrays come from one arena
 * that wsr_yaml_file_free releases at once: a spec file is parsed, checked
 * and dropped as a whole, and one malloc per node (and one free) was a
 * third of the loader's time. An alias shares its anchor's nodes. */
#define ARENA_CHUNK (64 * 1024)

struct wsr_yaml_arena {
	struct wsr_yaml_arena *next;
	size_t used, cap;
	max_align_t data[];
};

static void *arena_alloc(wsr_yaml_arena **a, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (!*a || (*a)->cap - (*a)->used < n) {
		size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		wsr_yaml_arena *c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->next = *a;
		c->used = 0;
		c->cap = cap;
		*a = c;
	}
	void *p = (char *)(*a)->data + (*a)->used;
	(*a)->used += n;
	return p;
}

static void arena_free(wsr_yaml_arena *a)
{
	while (a) {
		wsr_yaml_arena *next = a->next;
		free(a);
		a = next;
	}
}

static size_t sat_add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* ---- UTF-8 ---------------------------------------------------------- */

/* Byte offset of 0-based line:column (columns count characters, as
 * libyaml's marks do), or len when past the end. */
static size_t offset_of(const char *text, size_t len, size_t line, size_t col)
{
	size_t i = 0;
	while (line > 0 && i < len)
		if (text[i++] == '\n')
			line--;
	while (col > 0 && i < len && text[i] != '\n') {
		size_t k = wsr_utf8_len((const unsigned char *)text + i, len - i);
		i += k ? k : 1;
		col--;
	}
	return i;
}

/* ---- the builder ------------------------------------------------------ */

typedef struct frame {
	wsr_node *node;
	char *anchor;
	size_t cap;
	wsr_node *key;	/* map: the key waiting for its value */
	int skip;	/* map: the next value belongs to a refused key */
	wsr_hmap index; /* map: key text -> key node, once the map is large */
} frame;

typedef struct builder {
	wsr_yaml_arena **arena; /* the file's */
	const char *file;
	const char *text;
	size_t len;
	wsr_diag *diag;
	frame stack[WSR_YAML_MAX_DEPTH + 1];
	int depth;
	wsr_node *root;
	int doc_bad;  /* this document had an error: it is not handed out */
	int failed;   /* any error in the file */
	int fatal;    /* stop reading the file */
	int nomem;    /* an allocation failed */
	size_t nodes; /* nodes in the file, aliases expanded */
	size_t alias_nodes;
	wsr_hmap anchors; /* name -> node; names owned by anchor_names */
	char **anchor_names;
	size_t nanchors, anchors_cap;
} builder;

static wsr_pos mark_pos(const builder *b, yaml_mark_t m)
{
	wsr_pos p = {b->file, (int)m.line + 1, (int)m.column + 1};
	return p;
}

static void fail(builder *b, const wsr_pos *pos, const char *hint, const char *fmt, const char *arg)
{
	wsr_diag_add(b->diag, WSR_SEV_ERROR, pos, NULL, NULL, hint, fmt, arg);
	b->doc_bad = 1;
	b->failed = 1;
}

static void fail_fatal(builder *b, const wsr_pos *pos, const char *fmt, const char *arg)
{
	fail(b, pos, NULL, fmt, arg);
	b->fatal = 1;
}

static void oom(builder *b)
{
	b->failed = b->fatal = b->doc_bad = b->nomem = 1;
}

static wsr_node *node_new(builder *b, wsr_node_kind kind, yaml_mark_t m)
{
	nbox *x = arena_alloc(b->arena, sizeof(*x));
	if (!x) {
		oom(b);
		return NULL;
	}
	memset(x, 0, sizeof(*x));
	x->size = 1;
	x->node.kind = kind;
	x->node.file = b->file;
	x->node.line = (int)m.line + 1;
	x->node.col = (int)m.column + 1;
	return &x->node;
}

static void anchors_reset(builder *b)
{
	/* every look-up first, every free after: a probe for one name compares
	 * keys stored before it, so freeing as we go read freed names */
	for (size_t i = 0; i < b->nanchors; i++)
		free(b->anchor_names[i]);
	free(b->anchor_names);
	wsr_hmap_free(&b->anchors);
	b->anchor_names = NULL;
	b->nanchors = b->anchors_cap = 0;
}

/* Remembers n under name (YAML lets a later anchor reuse a name; the newest
 * definition wins). The table holds its own reference. */
static void anchor_define(builder *b, char *name, wsr_node *n)
{
	if (!name)
		return;
	wsr_node *old = wsr_hmap_get(&b->anchors, name);
	if (old) {
		for (size_t i = 0; i < b->nanchors; i++)
			if (strcmp(b->anchor_names[i], name) == 0) {
				free(name);
				name = b->anchor_names[i];
				break;
			}
	} else {
		if (b->nanchors == b->anchors_cap) {
			size_t cap = b->anchors_cap ? b->anchors_cap * 2 : 8;
			char **v = realloc(b->anchor_names, cap * sizeof(*v));
			if (!v) {
				free(name);
				oom(b);
				return;
			}
			b->anchor_names = v;
			b->anchors_cap = cap;
		}
		b->anchor_names[b->nanchors++] = name;
	}
	if (wsr_hmap_put(&b->anchors, name, n) != 0)
		oom(b);
}

static int push_child(builder *b, frame *f, wsr_node *key, wsr_node *val)
{
	wsr_node *p = f->node;
	if (p->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 4;
		/* the arena cannot grow in place: copy (the old arrays stay
		 * until the file is freed; doubling bounds them by the new) */
		wsr_node **v = arena_alloc(b->arena, cap * sizeof(*v));
		wsr_node **k =
		    p->kind == WSR_NODE_MAP ? arena_alloc(b->arena, cap * sizeof(*k)) : NULL;
		if (!v || (p->kind == WSR_NODE_MAP && !k))
			return oom(b), -1;
		if (p->n) {
			memcpy(v, p->vals, p->n * sizeof(*v));
			if (k)
				memcpy(k, p->keys, p->n * sizeof(*k));
		}
		p->vals = v;
		p->keys = k;
		f->cap = cap;
	}
	if (p->kind == WSR_NODE_MAP)
		p->keys[p->n] = key;
	p->vals[p->n++] = val;
	nbox *pb = box_of(p), *vb = box_of(val);
	pb->size = sat_add(pb->size, vb->size);
	if (key)
		pb->size = sat_add(pb->size, 1);
	if (vb->height + 1 > pb->height)
		pb->height = vb->height + 1;
	return 0;
}

/* The earlier key with the same text, or NULL. Large maps are indexed so a
 * map with many keys does not cost a quadratic scan. */
static wsr_node *find_dup(builder *b, frame *f, wsr_node *key)
{
	wsr_node *p = f->node;
	if (p->n < DUP_SCAN_MAX) {
		for (size_t i = 0; i < p->n; i++)
			if (p->keys[i]->len == key->len &&
			    memcmp(p->keys[i]->text, key->text, key->len) == 0)
				return p->keys[i];
		return NULL;
	}
	if (f->index.n == 0)
		for (size_t i = 0; i < p->n; i++)
			if (wsr_hmap_put(&f->index, p->keys[i]->text, p->keys[i]) != 0)
				return oom(b), NULL;
	return wsr_hmap_get(&f->index, key->text);
}

/* Takes a finished key; returns 0 when the map will accept its value. */
static void map_key(builder *b, frame *f, wsr_node *key)
{
	wsr_pos pos = wsr_node_pos(key);
	if (key->kind != WSR_NODE_SCALAR) {
		fail(b, &pos, "write the key as a plain or quoted string", "%s",
		     "map keys must be scalars, not maps or lists");
	} else if (key->plain && strcmp(key->text, "<<") == 0) {
		fail(b, &pos, "write the merged fields out in this map",
		     "merge keys ('%s') are not supported", "<<");
	} else {
		wsr_node *first = find_dup(b, f, key);
		if (!first) {
			f->key = key;
			return;
		}
		char where[64];
		snprintf(where, sizeof(where), "%d:%d", first->line, first->col);
		wsr_diag_add(b->diag, WSR_SEV_ERROR, &pos, NULL, NULL, NULL,
			     "duplicate key '%s' (first defined at %s)", key->text, where);
		b->doc_bad = b->failed = 1;
	}
	f->skip = 1;
}

/* Hands a finished node (new or aliased) to its parent or makes it the root. */
static void attach(builder *b, wsr_node *n)
{
	if (b->depth == 0) {
		b->root = n;
		return;
	}
	frame *f = &b->stack[b->depth - 1];
	if (f->node->kind == WSR_NODE_SEQ) {
		push_child(b, f, NULL, n);
		return;
	}
	if (!f->key && !f->skip) {
		map_key(b, f, n);
		return;
	}
	if (!f->skip && push_child(b, f, f->key, n) == 0 && f->index.n &&
	    wsr_hmap_put(&f->index, f->key->text, f->key) != 0)
		oom(b);
	f->key = NULL;
	f->skip = 0;
}

/* Counts nodes against the file's bounds; 0 when still inside them. */
static int count_nodes(builder *b, size_t n, yaml_mark_t m)
{
	b->nodes = sat_add(b->nodes, n);
	if (b->nodes <= WSR_YAML_MAX_NODES)
		return 0;
	wsr_pos pos = mark_pos(b, m);
	char lim[32];
	snprintf(lim, sizeof(lim), "%d", WSR_YAML_MAX_NODES);
	fail_fatal(b, &pos, "the file has more than %s nodes", lim);
	return -1;
}

static char *dup_anchor(builder *b, const yaml_char_t *a)
{
	if (!a)
		return NULL;
	char *s = strdup((const char *)a);
	if (!s)
		oom(b);
	return s;
}

static void on_scalar(builder *b, const yaml_event_t *e)
{
	if (count_nodes(b, 1, e->start_mark) != 0)
		return;
	wsr_node *n = node_new(b, WSR_NODE_SCALAR, e->start_mark);
	if (!n)
		return;
	size_t len = e->data.scalar.length;
	n->text = arena_alloc(b->arena, len + 1);
	if (!n->text) {
		oom(b);
		return;
	}
	memcpy(n->text, e->data.scalar.value, len);
	n->text[len] = '\0';
	n->len = len;
	const char *tag = (const char *)e->data.scalar.tag;
	n->plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		   !(tag && strcmp(tag, YAML_STR_TAG) == 0);
	if (len > WSR_YAML_MAX_SCALAR) {
		wsr_pos pos = wsr_node_pos(n);
		char lim[32];
		snprintf(lim, sizeof(lim), "%d", WSR_YAML_MAX_SCALAR);
		fail(b, &pos, NULL, "scalar is longer than %s bytes", lim);
	}
	anchor_define(b, dup_anchor(b, e->data.scalar.anchor), n);
	attach(b, n);
}

static void on_start(builder *b, const yaml_event_t *e, wsr_node_kind kind)
{
	if (count_nodes(b, 1, e->start_mark) != 0)
		return;
	if (b->depth >= WSR_YAML_MAX_DEPTH) {
		wsr_pos pos = mark_pos(b, e->start_mark);
		char lim[32];
		snprintf(lim, sizeof(lim), "%d", WSR_YAML_MAX_DEPTH);
		fail_fatal(b, &pos, "maps and lists nested deeper than %s levels", lim);
		return;
	}
	wsr_node *n = node_new(b, kind, e->start_mark);
	if (!n)
		return;
	frame *f = &b->stack[b->depth++];
	memset(f, 0, sizeof(*f));
	f->node = n;
	f->anchor = dup_anchor(b, kind == WSR_NODE_MAP ? e->data.mapping_start.anchor
						       : e->data.sequence_start.anchor);
}

static void on_end(builder *b)
{
	frame *f = &b->stack[--b->depth];
	wsr_node *n = f->node;
	wsr_hmap_free(&f->index);
	anchor_define(b, f->anchor, n);
	attach(b, n);
}

static void on_alias(builder *b, const yaml_event_t *e)
{
	wsr_pos pos = mark_pos(b, e->start_mark);
	const char *name = (const char *)e->data.alias.anchor;
	wsr_node *n = wsr_hmap_get(&b->anchors, name);
	if (!n) {
		fail(b, &pos, "define the anchor (&name) before the alias (*name) uses it",
		     "unknown alias '*%s'", name);
		/* the document is dropped, but keys and values must stay paired:
		 * as a key, skip the pair; elsewhere an empty scalar holds the
		 * place (a scalar always has text: keys are compared and hashed) */
		frame *f = b->depth ? &b->stack[b->depth - 1] : NULL;
		if (f && f->node->kind == WSR_NODE_MAP && !f->key && !f->skip) {
			f->skip = 1;
			return;
		}
		wsr_node *hole = node_new(b, WSR_NODE_SCALAR, e->start_mark);
		if (hole && !(hole->text = arena_alloc(b->arena, 1))) {
			oom(b);
			return;
		}
		if (hole)
			hole->text[0] = '\0';
		if (hole)
			attach(b, hole);
		return;
	}
	nbox *x = box_of(n);
	b->alias_nodes = sat_add(b->alias_nodes, x->size);
	if (b->alias_nodes > WSR_YAML_MAX_ALIAS_NODES) {
		char lim[32];
		snprintf(lim, sizeof(lim), "%d", WSR_YAML_MAX_ALIAS_NODES);
		fail_fatal(b, &pos, "aliases expand to more than %s nodes", lim);
		return;
	}
	if (count_nodes(b, x->size, e->start_mark) != 0)
		return;
	if (b->depth + x->height > WSR_YAML_MAX_DEPTH) {
		char lim[32];
		snprintf(lim, sizeof(lim), "%d", WSR_YAML_MAX_DEPTH);
		fail_fatal(b, &pos, "maps and lists nested deeper than %s levels", lim);
		return;
	}
	attach(b, n);
}

static void unwind(builder *b)
{
	while (b->depth > 0) {
		frame *f = &b->stack[--b->depth];
		free(f->anchor);
		wsr_hmap_free(&f->index);
	}
	b->root = NULL;
}

/* ---- libyaml errors ------------------------------------------------- */

/* 1 when the byte at off is a tab with only blanks before it on its line. */
static int tab_in_indent(const char *text, size_t len, size_t off)
{
	if (off >= len || text[off] != '\t')
		return 0;
	while (off > 0 && text[off - 1] != '\n') {
		off--;
		if (text[off] != ' ' && text[off] != '\t')
			return 0;
	}
	return 1;
}

/* The first tab in the indentation of the mark's line, or len. libyaml
 * sometimes trips a little after the tab (at the token it could not fit). */
static size_t indent_tab(const char *text, size_t len, yaml_mark_t m)
{
	size_t off = offset_of(text, len, m.line, 0);
	for (; off < len && (text[off] == ' ' || text[off] == '\t'); off++)
		if (text[off] == '\t')
			return off;
	return len;
}

static void report_libyaml(builder *b, const yaml_parser_t *p)
{
	wsr_pos pos = mark_pos(b, p->problem_mark);
	if (p->error == YAML_SCANNER_ERROR || p->error == YAML_PARSER_ERROR) {
		size_t off =
		    offset_of(b->text, b->len, p->problem_mark.line, p->problem_mark.column);
		if (!tab_in_indent(b->text, b->len, off))
			off = indent_tab(b->text, b->len, p->problem_mark);
		if (off < b->len) {
			size_t ls = off;
			while (ls > 0 && b->text[ls - 1] != '\n')
				ls--;
			pos.col = (int)(off - ls) + 1;
			fail(b, &pos, "indent with spaces only", "%s",
			     "tab character in indentation; YAML requires spaces");
			return;
		}
	}
	char *detail = NULL;
	if (p->context)
		detail = wsr_strdupf("%s (at %d:%d)", p->context, (int)p->context_mark.line + 1,
				     (int)p->context_mark.column + 1);
	wsr_diag_add(b->diag, WSR_SEV_ERROR, &pos, NULL, detail, NULL, "invalid YAML: %s",
		     p->problem ? p->problem : "syntax error");
	free(detail);
	b->failed = b->doc_bad = 1;
}

/* ---- the document list ------------------------------------------------ */

static int add_doc(wsr_yaml_file *out, wsr_node *root, int line)
{
	wsr_yaml_doc *v = realloc(out->docs, (out->ndocs + 1) * sizeof(*v));
	if (!v)
		return WSR_ENOMEM;
	out->docs = v;
	v[out->ndocs].root = root;
	v[out->ndocs].line = line;
	out->ndocs++;
	return 0;
}

/* An empty document (`---` alone) arrives as one empty plain scalar. */
static int is_empty_root(const wsr_node *n)
{
	return !n || (n->kind == WSR_NODE_SCALAR && n->plain && n->len == 0);
}

static void on_doc_end(builder *b, wsr_yaml_file *out, int line)
{
	wsr_node *root = b->root;
	b->root = NULL;
	anchors_reset(b);
	if (b->doc_bad)
		return;
	if (is_empty_root(root))
		root = NULL;
	if (add_doc(out, root, line) != 0)
		oom(b);
}

/* Feeds one event to the builder. */
static void on_event(builder *b, wsr_yaml_file *out, const yaml_event_t *e, int *doc_line)
{
	switch (e->type) {
	case YAML_DOCUMENT_START_EVENT:
		b->doc_bad = 0;
		*doc_line = (int)e->start_mark.line + 1;
		break;
	case YAML_DOCUMENT_END_EVENT:
		on_doc_end(b, out, *doc_line);
		break;
	case YAML_SCALAR_EVENT:
		on_scalar(b, e);
		break;
	case YAML_SEQUENCE_START_EVENT:
		on_start(b, e, WSR_NODE_SEQ);
		break;
	case YAML_MAPPING_START_EVENT:
		on_start(b, e, WSR_NODE_MAP);
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		on_end(b);
		break;
	case YAML_ALIAS_EVENT:
		on_alias(b, e);
		break;
	default:
		break;
	}
}

static void run_parser(builder *b, wsr_yaml_file *out)
{
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		oom(b);
		return;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)b->text, b->len);
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
	int doc_line = 1;
	for (;;) {
		yaml_event_t e;
		if (!yaml_parser_parse(&p, &e)) {
			if (p.error == YAML_MEMORY_ERROR)
				oom(b);
			else
				report_libyaml(b, &p);
			break;
		}
		on_event(b, out, &e, &doc_line);
		int end = e.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&e);
		if (end || b->fatal)
			break;
	}
	yaml_parser_delete(&p);
}

int wsr_yaml_parse(wsr_yaml_file *out, const char *file, const char *text, size_t len,
		   wsr_diag *diag)
{
	memset(out, 0, sizeof(*out));
	out->file = strdup(file);
	if (!out->file)
		return WSR_ENOMEM;
	int line, col;
	if (wsr_utf8_check(text, len, &line, &col) != 0) {
		wsr_pos pos = {out->file, line, col};
		unsigned char c =
		    (unsigned char)text[offset_of(text, len, (size_t)line - 1, (size_t)col - 1)];
		wsr_diag_add(diag, WSR_SEV_ERROR, &pos, NULL, NULL, "save the file as UTF-8",
			     c ? "invalid UTF-8 (byte 0x%02x)" : "NUL byte (0x%02x) in the file",
			     c);
		return WSR_EINVAL;
	}
	builder b = {0};
	b.arena = &out->arena;
	b.file = out->file;
	b.text = text;
	b.len = len;
	b.diag = diag;
	run_parser(&b, out);
	unwind(&b);
	anchors_reset(&b);
	if (b.nomem)
		return WSR_ENOMEM;
	return b.failed ? WSR_EINVAL : 0;
}

void wsr_yaml_file_free(wsr_yaml_file *f)
{
	if (!f)
		return;
	arena_free(f->arena);
	free(f->docs);
	free(f->file);
	memset(f, 0, sizeof(*f));
}

/* ---- reading the tree ------------------------------------------------ */

/* The entry's index, or n->n when absent. Linear: spec maps are small, and
 * the builder indexes large ones itself. */
static size_t entry_index(const wsr_node *n, const char *key)
{
	size_t i = 0;
	while (i < n->n && strcmp(n->keys[i]->text, key) != 0)
		i++;
	return i;
}

const wsr_node *wsr_node_get(const wsr_node *n, const char *key)
{
	if (!n || n->kind != WSR_NODE_MAP)
		return NULL;
	size_t i = entry_index(n, key);
	return i < n->n ? n->vals[i] : NULL;
}

const wsr_node *wsr_node_key(const wsr_node *n, const char *key)
{
	if (!n || n->kind != WSR_NODE_MAP)
		return NULL;
	size_t i = entry_index(n, key);
	return i < n->n ? n->keys[i] : NULL;
}

wsr_pos wsr_node_pos(const wsr_node *n)
{
	wsr_pos p = {NULL, 0, 0};
	if (n) {
		p.file = n->file;
		p.line = n->line;
		p.col = n->col;
	}
	return p;
}

/* ---- YAML 1.2 core schema typing ------------------------------------ */

static int is_null_text(const char *s)
{
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

/* 1 / 0 for the core schema's booleans, -1 otherwise. */
static int bool_text(const char *s)
{
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return 1;
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return 0;
	return -1;
}

static int all_of(const char *s, const char *set)
{
	return *s && strspn(s, set) == strlen(s);
}

static int core_int(const char *s, double *out)
{
	const char *d = s + (*s == '-' || *s == '+');
	if (all_of(d, "0123456789")) {
		*out = strtod(s, NULL);
		return 1;
	}
	if (s[0] == '0' && s[1] == 'o' && all_of(s + 2, "01234567")) {
		*out = (double)strtoull(s + 2, NULL, 8);
		return 1;
	}
	if (s[0] == '0' && s[1] == 'x' && all_of(s + 2, "0123456789abcdefABCDEF")) {
		*out = (double)strtoull(s + 2, NULL, 16);
		return 1;
	}
	return 0;
}

/* [-+]? ( \.[0-9]+ | [0-9]+ ( \.[0-9]* )? ) ( [eE] [-+]? [0-9]+ )? and the
 * .inf / .nan spellings. */
static int core_float(const char *s, double *out)
{
	const char *p = s + (*s == '-' || *s == '+');
	static const char *const inf[] = {".inf", ".Inf", ".INF"}, *const nan[] = {".nan", ".NaN",
										   ".NAN"};
	for (int i = 0; i < 3; i++) {
		if (!strcmp(p, inf[i])) {
			*out = *s == '-' ? -HUGE_VAL : HUGE_VAL;
			return 1;
		}
		if (p == s && !strcmp(s, nan[i])) {
			*out = NAN;
			return 1;
		}
	}
	size_t ip = strspn(p, "0123456789"), fp = 0;
	const char *q = p + ip;
	if (*q == '.') {
		fp = strspn(q + 1, "0123456789");
		q += 1 + fp;
	}
	if (ip == 0 && fp == 0)
		return 0;
	if (*q == 'e' || *q == 'E') {
		const char *x = q + 1 + (q[1] == '-' || q[1] == '+');
		size_t xp = strspn(x, "0123456789");
		if (!xp)
			return 0;
		q = x + xp;
	}
	if (*q)
		return 0;
	*out = strtod(s, NULL);
	return 1;
}

static cJSON *scalar_to_json(const wsr_node *n)
{
	if (!n->plain)
		return cJSON_CreateString(n->text);
	double d;
	int b = bool_text(n->text);
	if (is_null_text(n->text))
		return cJSON_CreateNull();
	if (b >= 0)
		return cJSON_CreateBool(b);
	if (core_int(n->text, &d) || core_float(n->text, &d))
		return cJSON_CreateNumber(d);
	return cJSON_CreateString(n->text);
}

cJSON *wsr_node_to_json(const wsr_node *n)
{
	if (!n)
		return cJSON_CreateNull();
	if (n->kind == WSR_NODE_SCALAR)
		return scalar_to_json(n);
	cJSON *v = n->kind == WSR_NODE_MAP ? cJSON_CreateObject() : cJSON_CreateArray();
	for (size_t i = 0; v && i < n->n; i++) {
		cJSON *c = wsr_node_to_json(n->vals[i]);
		int ok =
		    c && (n->kind == WSR_NODE_MAP ? cJSON_AddItemToObject(v, n->keys[i]->text, c)
						  : cJSON_AddItemToArray(v, c));
		if (!ok) {
			cJSON_Delete(c);
			cJSON_Delete(v);
			return NULL;
		}
	}
	return v;
}
