/* yaml: YAML text -> a tree of nodes that remembers file:line:col for every
 * node, built on libyaml. It refuses what would hurt: invalid UTF-8, tabs
 * used as indentation, duplicate keys, nesting past WSR_YAML_MAX_DEPTH and
 * aliases that expand past WSR_YAML_MAX_ALIAS_NODES (an alias bomb is refused
 * as soon as the bound is crossed, without building the expansion).
 * It knows nothing of workspaces; typing against a schema happens in schema/. */
#ifndef WSR_LIB_YAML_H
#define WSR_LIB_YAML_H
#include <stddef.h>

#include <cJSON.h>

#include "lib/diag.h"

#define WSR_YAML_MAX_DEPTH 64		  /* nesting of maps and sequences */
#define WSR_YAML_MAX_NODES 2000000	  /* nodes in one file, aliases included */
#define WSR_YAML_MAX_ALIAS_NODES 100000	  /* nodes produced by alias expansion in one file */
#define WSR_YAML_MAX_SCALAR (1024 * 1024) /* bytes in one scalar */

typedef enum { WSR_NODE_SCALAR, WSR_NODE_MAP, WSR_NODE_SEQ } wsr_node_kind;

typedef struct wsr_node wsr_node;
struct wsr_node {
	wsr_node_kind kind;
	const char *file; /* borrowed from the wsr_yaml_file that owns the tree */
	int line, col;	  /* 1-based start of the node */
	/* scalars */
	char *text; /* the scalar's value, NUL-terminated */
	size_t len;
	int plain; /* 1 for an unquoted scalar (its type comes from its text) */
	/* maps: keys[i] -> vals[i]; sequences: vals[i]; n entries */
	size_t n;
	wsr_node **keys; /* map only; keys are scalars */
	wsr_node **vals;
};

typedef struct wsr_yaml_doc {
	wsr_node *root; /* NULL for an empty document */
	int line;	/* where the document starts */
} wsr_yaml_doc;

typedef struct wsr_yaml_arena wsr_yaml_arena;

typedef struct wsr_yaml_file {
	char *file; /* the name used in positions */
	wsr_yaml_doc *docs;
	size_t ndocs;
	wsr_yaml_arena *arena; /* owns every node of every document */
} wsr_yaml_file;

/* Parses every document of text (len bytes) into out. file is the name used
 * in positions. Every problem found is added to diag with its position; on
 * any error the return is WSR_EINVAL and out holds the documents parsed
 * before it (free them with wsr_yaml_file_free either way). */
int wsr_yaml_parse(wsr_yaml_file *out, const char *file, const char *text, size_t len,
		   wsr_diag *diag);

void wsr_yaml_file_free(wsr_yaml_file *f);

/* Map lookup; NULL when n is not a map or has no such key. */
const wsr_node *wsr_node_get(const wsr_node *n, const char *key);
/* The key node of that entry (where "remove this field" is reported); NULL
 * likewise. */
const wsr_node *wsr_node_key(const wsr_node *n, const char *key);

/* The position of a node, for diagnostics. */
wsr_pos wsr_node_pos(const wsr_node *n);

/* Plain-scalar typing as YAML 1.2's core schema does it: null (~, null, ""),
 * true/false, integers, floats; quoted scalars are strings. */
cJSON *wsr_node_to_json(const wsr_node *n);
#endif
