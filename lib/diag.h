/* diag: the list of things the user must read (errors, warnings, notes), each
 * with a position (file:line:col) or a resource address, a summary, a detail
 * and a hint. Every command renders it the same way, on stderr for people
 * (`file:line:col: error: summary`) and as JSON for machines. Adding is
 * thread-safe so parallel apply workers can report into one list. */
#ifndef WSR_LIB_DIAG_H
#define WSR_LIB_DIAG_H
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#include <cJSON.h>

typedef enum { WSR_SEV_ERROR = 0, WSR_SEV_WARNING = 1, WSR_SEV_NOTE = 2 } wsr_severity;

/* A position in a source file; file NULL means "no position". Lines and
 * columns count from 1. */
typedef struct wsr_pos {
	const char *file;
	int line;
	int col;
} wsr_pos;

typedef struct wsr_diag_entry {
	wsr_severity severity;
	char *file; /* may be NULL */
	int line, col;
	char *address; /* resource address, may be NULL */
	char *summary;
	char *detail; /* may be NULL */
	char *hint;   /* may be NULL */
} wsr_diag_entry;

/* More than this many entries in one list are counted, not kept: hostile
 * input must not turn into unbounded memory. */
#define WSR_DIAG_MAX 1000

typedef struct wsr_diag {
	wsr_diag_entry *v;
	size_t n, cap;
	size_t errors;	/* error entries added, including dropped ones */
	size_t dropped; /* entries past WSR_DIAG_MAX */
	pthread_mutex_t mu;
} wsr_diag;

#define WSR_DIAG_INIT                                                                              \
	{                                                                                          \
		NULL, 0, 0, 0, 0, PTHREAD_MUTEX_INITIALIZER                                        \
	}

void wsr_diag_init(wsr_diag *d);
void wsr_diag_free(wsr_diag *d);

/* Adds an entry. pos and address may be NULL; detail and hint may be NULL.
 * The strings are copied. Returns 0 or WSR_ENOMEM (the error is still counted). */
int wsr_diag_add(wsr_diag *d, wsr_severity sev, const wsr_pos *pos, const char *address,
		 const char *detail, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* Shorthands for the common cases. */
#define wsr_diag_error(d, pos, ...)                                                                \
	wsr_diag_add((d), WSR_SEV_ERROR, (pos), NULL, NULL, NULL, __VA_ARGS__)
#define wsr_diag_warn(d, pos, ...)                                                                 \
	wsr_diag_add((d), WSR_SEV_WARNING, (pos), NULL, NULL, NULL, __VA_ARGS__)

/* Number of errors (not warnings) ever added. */
size_t wsr_diag_errors(const wsr_diag *d);

/* Moves every entry of src to the end of dst; src is left empty. */
void wsr_diag_move(wsr_diag *dst, wsr_diag *src);

/* Orders entries by file, line, column (entries without a file keep their
 * relative order, after positioned ones). */
void wsr_diag_sort(wsr_diag *d);

/* Prints every entry for people (addresses through wsr_diag_short):
 *   file:line:col: error: summary      (or  address: error: summary, or  error: summary)
 *     detail
 *     hint: hint
 * color: use ANSI colour. */
void wsr_diag_print(const wsr_diag *d, FILE *f, int color);

/* Returns a JSON array of {"severity","summary","detail","address","source"}
 * where source is "file:line:col" or null and address is shortened as in
 * wsr_diag_print. NULL on allocation failure. */
cJSON *wsr_diag_to_json(const wsr_diag *d);

/* How many bytes of an address a diagnostic shows; a longer one is cut
 * there and its length said. It is the longest address a provider accepts
 * (WSR_ADDRESS_MAX, checked in providers/registry.c), so an address wsr can
 * manage is always shown whole, and only one that cannot be valid (a state
 * entry of 10 MB, say) is cut: one line of a message, not megabytes. */
#define WSR_DIAG_ADDRESS_SHOW 1028

/* The buffer wsr_diag_short needs at most: every shown byte escaped as
 * \xNN, the "…(N bytes)" suffix, the NUL. */
#define WSR_DIAG_SHORT_SIZE (WSR_DIAG_ADDRESS_SHOW * 4 + 32)

/* An address (or any untrusted name) as a message may quote it: at most
 * WSR_DIAG_ADDRESS_SHOW bytes of s, cut at a character boundary, then
 * "…(N bytes)" with N the length of s when it was longer. Only whole UTF-8
 * characters are kept; control characters (C0, DEL, C1), bytes that are not
 * UTF-8, and '\' are written as \xNN, so the result is valid UTF-8 and safe
 * for a terminal. An address of printable ASCII no longer than the limit is
 * unchanged. Writes into buf (size bytes; WSR_DIAG_SHORT_SIZE always
 * suffices, less cuts the result further) and returns buf; s NULL gives "".
 * Every renderer of a diagnostic's address goes through it, and so should a
 * summary that embeds an address with "%s". */
const char *wsr_diag_short(char *buf, size_t size, const char *s);

/* 1 when colour should be used on this stream (a terminal and no NO_COLOR). */
int wsr_use_color(FILE *f);
#endif
