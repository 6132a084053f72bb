/* json: the few cJSON helpers wsr needs beyond cJSON itself — bounded
 * parsing of untrusted text, typed getters that never crash on a wrong type,
 * and dotted paths. Deep equality is cJSON_Compare(a, b, 1). */
#ifndef WSR_LIB_JSON_H
#define WSR_LIB_JSON_H
#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

#include <cJSON.h>

/* Deepest nesting accepted from untrusted JSON (API responses, state files,
 * webhook bodies). cJSON's own limit is 1000, which is far past anything real. */
#define WSR_JSON_MAX_DEPTH 64

/* Parses len bytes of untrusted JSON. Fails (WSR_EINVAL, *err set to a
 * message with the byte offset, caller frees) on bad syntax, trailing bytes,
 * or nesting deeper than WSR_JSON_MAX_DEPTH. */
int wsr_json_parse(cJSON **out, const char *text, size_t len, char **err);

/* The first key found twice in one object anywhere inside v, or NULL
 * (also when out of memory: the caller then reads the document as cJSON
 * does, first key wins). cJSON keeps both members of {"a":1,"a":2}; a
 * document that says two things must be refused where what it says is
 * compared or trusted (a saved plan), not read one way here and another
 * way there. Borrowed from v. */
const char *wsr_json_repeated_key(const cJSON *v);

/* Typed getters: NULL / def when the key is absent or of another type. */
const char *wsr_json_str(const cJSON *obj, const char *key);
const cJSON *wsr_json_obj(const cJSON *obj, const char *key);
const cJSON *wsr_json_arr(const cJSON *obj, const char *key);
double wsr_json_num(const cJSON *obj, const char *key, double def);
int wsr_json_bool(const cJSON *obj, const char *key, int def);

/* The whole number at obj[key], checked before it is converted: casting a
 * double such as 1e30 to an integer type is undefined behaviour, so every
 * integer read from untrusted JSON goes through here. Returns 0 with *out
 * set when the value is a finite number with no fraction in [min, max];
 * WSR_ENOTFOUND when the key is absent or null (*out untouched: the
 * caller's default stands); WSR_EINVAL when it is of another type, has a
 * fraction (2.5), is not finite (1e400 parses as infinity) or is out of
 * range (1e30, -1 for min 0). Callers name the field in their message. */
int wsr_json_int_in(const cJSON *obj, const char *key, int64_t min, int64_t max, int64_t *out);

/* Follows a dotted path ("spec.kubernetes.version"); NULL when absent. */
const cJSON *wsr_json_path(const cJSON *root, const char *dotted);
/* Sets the value at a dotted path of root (an object) to a copy of value,
 * creating the objects on the way; value NULL removes it. A step through a
 * non-object is WSR_EINVAL. */
int wsr_json_set_path(cJSON *root, const char *dotted, const cJSON *value);

/* A copy of m, an object whose values must all be strings (labels, a
 * free-form string map), with its keys sorted so printing it is canonical.
 * WSR_EINVAL with *why (caller frees) naming the field at `where` that is
 * not an object, or the member that is not a string; WSR_ENOMEM. *out is
 * NULL on failure. */
int wsr_json_sorted_strings(cJSON **out, const cJSON *m, const char *where, char **why);

/* Prints v indented, and a newline, to f: how every --json output is
 * written. WSR_ENOMEM when it cannot be rendered (nothing is printed). */
int wsr_json_fputs(FILE *f, const cJSON *v);

/* Prints compactly (pretty=0) or indented; NULL on failure. Caller frees. */
char *wsr_json_print(const cJSON *v, int pretty);

/* Makes v hold what it has in common with `from` once: an object or array
 * of v equal to the one at the same place in from borrows from's children,
 * an equal string borrows from's text (cJSON_IsReference: cJSON_Delete
 * leaves them, cJSON_Duplicate copies them). v prints, compares and reads
 * as before. from must outlive v, and neither may be changed in place
 * afterwards (copy v first). Returns the number of nodes v released. */
size_t wsr_json_share(cJSON *v, const cJSON *from);
#endif
