/* admission: the body is rebuilt from the parts kcp keeps (metadata.name,
 * labels, annotations, spec.type, spec.location), so the server's fields a
 * client sends (uid, spec.URL, status) are ignored rather than stored. Every
 * problem of a body is collected, as Kubernetes lists all causes of a 422. */
#include "sim/kcp/admission.h"

#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "lib/json.h"

#define NAME_RULE                                                                                  \
	"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "        \
	"'-', and must start and end with an alphanumeric character (at most 63 characters)"
#define KEY_RULE                                                                                   \
	"a qualified name must be at most 63 characters of [A-Za-z0-9._-] beginning and ending "   \
	"with a letter or digit, with an optional DNS subdomain prefix and '/'"
#define VALUE_RULE                                                                                 \
	"a valid label value must be empty or at most 63 characters of [A-Za-z0-9._-] "            \
	"beginning and ending with a letter or digit"

static const char *str_of(const cJSON *v)
{
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A string member that must equal want. */
static void expect_const(const cJSON *in, const char *key, const char *want,
			 wsr_kcpsim_invalid *inv)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, key);
	if (!v)
		wsr_kcpsim_invalid_add(inv, "FieldValueRequired", key, "Required value: must be %s",
				       want);
	else if (!str_of(v) || strcmp(v->valuestring, want) != 0)
		wsr_kcpsim_invalid_add(inv, "FieldValueNotSupported", key,
				       "Unsupported value: must be %s", want);
}

/* A string map (null or absent: {}) checked by key and value rules; a
 * new copy in *out, or NULL when it is not an object. */
static cJSON *string_map(const cJSON *m, const char *field, int labels, wsr_kcpsim_invalid *inv)
{
	if (!m || cJSON_IsNull(m))
		return cJSON_CreateObject();
	if (!cJSON_IsObject(m)) {
		wsr_kcpsim_invalid_add(inv, "FieldValueInvalid", field,
				       "Invalid value: must be a map of strings");
		return NULL;
	}
	size_t total = 0;
	const cJSON *it;
	char f[WSR_KCPSIM_MSG_MAX / 4];
	cJSON_ArrayForEach(it, m)
	{
		snprintf(f, sizeof(f), "%s[%.200s]", field, it->string);
		if (!str_of(it)) {
			wsr_kcpsim_invalid_add(inv, "FieldValueInvalid", f,
					       "Invalid value: must be a string");
			continue;
		}
		total += strlen(it->string) + strlen(it->valuestring);
		if (!wsr_kcpsim_label_key_valid(it->string))
			wsr_kcpsim_invalid_add(inv, "FieldValueInvalid", field,
					       "Invalid value: \"%.200s\": %s", it->string,
					       KEY_RULE);
		else if (labels && !wsr_kcpsim_label_value_valid(it->valuestring))
			wsr_kcpsim_invalid_add(inv, "FieldValueInvalid", f,
					       "Invalid value: \"%.100s\": %s", it->valuestring,
					       VALUE_RULE);
	}
	if (!labels && total > WSR_KCPSIM_ANNOTATIONS_MAX)
		wsr_kcpsim_invalid_add(inv, "FieldValueTooLong", field,
				       "Too long: must have at most %d bytes",
				       WSR_KCPSIM_ANNOTATIONS_MAX);
	return cJSON_Duplicate(m, 1);
}

/* The fields of a Workspace, as kcp's schema has them: a field with
 * children lists them, one without is free-form (maps, lists, scalars). */
typedef struct field {
	const char *name;
	const struct field *kids; /* NULL: anything below */
} field;

#define END                                                                                        \
	{                                                                                          \
		NULL, NULL                                                                         \
	}
static const field ref_fields[] = {{"name", NULL}, {"path", NULL}, END};
static const field selector_fields[] = {{"matchLabels", NULL}, {"matchExpressions", NULL}, END};
static const field location_fields[] = {{"selector", selector_fields}, END};
static const field meta_fields[] = {{"name", NULL},
				    {"generateName", NULL},
				    {"namespace", NULL},
				    {"labels", NULL},
				    {"annotations", NULL},
				    {"resourceVersion", NULL},
				    {"uid", NULL},
				    {"creationTimestamp", NULL},
				    {"deletionTimestamp", NULL},
				    {"deletionGracePeriodSeconds", NULL},
				    {"generation", NULL},
				    {"finalizers", NULL},
				    {"ownerReferences", NULL},
				    {"managedFields", NULL},
				    {"selfLink", NULL},
				    END};
static const field spec_fields[] = {
    {"type", ref_fields}, {"location", location_fields}, {"URL", NULL}, {"cluster", NULL}, END};
static const field status_fields[] = {
    {"phase", NULL}, {"conditions", NULL}, {"initializers", NULL}, END};
static const field top_fields[] = {{"apiVersion", NULL},      {"kind", NULL},
				   {"metadata", meta_fields}, {"spec", spec_fields},
				   {"status", status_fields}, END};

static int unknown_in(const cJSON *obj, const field *known, char *out, size_t at)
{
	const cJSON *it, *o = cJSON_IsObject(obj) ? obj : NULL;
	cJSON_ArrayForEach(it, o)
	{
		const field *f = known;
		while (f->name && strcmp(f->name, it->string) != 0)
			f++;
		int n = snprintf(out + at, at < WSR_KCPSIM_WHY_MAX ? WSR_KCPSIM_WHY_MAX - at : 0,
				 "%s%.200s", at ? "." : "", it->string);
		if (!f->name)
			return 1;
		if (f->kids && n > 0 && unknown_in(it, f->kids, out, at + (size_t)n))
			return 1;
	}
	return 0;
}

int wsr_kcpsim_unknown_field(const cJSON *in, char *out)
{
	out[0] = '\0';
	return unknown_in(in, top_fields, out, 0);
}

void wsr_kcpsim_labels_check(const cJSON *labels, const char *field, wsr_kcpsim_invalid *inv)
{
	cJSON_Delete(string_map(labels, field, 1, inv));
}

/* spec.type: {name[, path]}; NULL when absent or without a name (the
 * default applies then, as in kcp). */
static cJSON *type_ref(const cJSON *t, wsr_kcpsim_invalid *inv)
{
	if (!t || cJSON_IsNull(t))
		return NULL;
	if (!cJSON_IsObject(t)) {
		wsr_kcpsim_invalid_add(inv, "FieldValueInvalid", "spec.type",
				       "Invalid value: must be an object {name, path}");
		return NULL;
	}
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(t, "name"),
		    *p = cJSON_GetObjectItemCaseSensitive(t, "path");
	/* no path: kcp resolves the name upward from the parent (typerules.h) */
	const char *name = str_of(n), *path = p && !cJSON_IsNull(p) ? str_of(p) : "";
	if (!n || (name && !name[0]))
		return NULL; /* kcp gives a type without a name the parent's default */
	if (!name || !wsr_kcpsim_name_valid(name))
		wsr_kcpsim_invalid_add(inv, "FieldValueInvalid", "spec.type.name",
				       "Invalid value: \"%.63s\": %s", name ? name : "", NAME_RULE);
	if (!path || (path[0] && !wsr_kcpsim_path_valid(path)))
		wsr_kcpsim_invalid_add(
		    inv, "FieldValueInvalid", "spec.type.path",
		    "Invalid value: \"%.200s\": a workspace path is names joined "
		    "with ':' starting at root, at most %d bytes",
		    path ? path : "", WSR_KCPSIM_PATH_MAX);
	if (!name || !path)
		return NULL;
	cJSON *r = cJSON_CreateObject();
	if (r && (!cJSON_AddStringToObject(r, "name", name) ||
		  (path[0] && !cJSON_AddStringToObject(r, "path", path)))) {
		cJSON_Delete(r);
		r = NULL;
	}
	if (!r)
		inv->oom = 1;
	return r;
}

/* spec.location: {selector: {matchLabels}}; kept as given when valid. */
static cJSON *location(const cJSON *l, wsr_kcpsim_invalid *inv)
{
	if (!l || cJSON_IsNull(l))
		return NULL;
	const cJSON *sel = cJSON_GetObjectItemCaseSensitive(l, "selector");
	if (!cJSON_IsObject(l) || (sel && !cJSON_IsNull(sel) && !cJSON_IsObject(sel))) {
		wsr_kcpsim_invalid_add(inv, "FieldValueInvalid", "spec.location",
				       "Invalid value: must be {selector: {matchLabels}}");
		return NULL;
	}
	wsr_kcpsim_labels_check(cJSON_GetObjectItemCaseSensitive(sel, "matchLabels"),
				"spec.location.selector.matchLabels", inv);
	return cJSON_Duplicate(l, 1);
}

int wsr_kcpsim_body_check(wsr_kcpsim_body *b, const cJSON *in, int need_name,
			  wsr_kcpsim_invalid *inv)
{
	memset(b, 0, sizeof(*b));
	expect_const(in, "kind", "Workspace", inv);
	expect_const(in, "apiVersion", WSR_KCPSIM_API_VERSION, inv);
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(in, "metadata");
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(in, "spec");
	if (meta && !cJSON_IsObject(meta)) {
		wsr_kcpsim_invalid_add(inv, "FieldValueInvalid", "metadata",
				       "Invalid value: must be an object");
		meta = NULL;
	}
	if (spec && !cJSON_IsNull(spec) && !cJSON_IsObject(spec)) {
		wsr_kcpsim_invalid_add(inv, "FieldValueInvalid", "spec",
				       "Invalid value: must be an object");
		spec = NULL;
	}
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(meta, "name"),
		    *rv = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
	b->name = str_of(name);
	if (!name && need_name)
		wsr_kcpsim_invalid_add(inv, "FieldValueRequired", "metadata.name",
				       "Required value: name is required");
	else if (name && (!b->name || !wsr_kcpsim_name_valid(b->name))) {
		wsr_kcpsim_invalid_add(inv, "FieldValueInvalid", "metadata.name",
				       "Invalid value: \"%.63s\": %s", b->name ? b->name : "",
				       NAME_RULE);
		b->name = NULL;
	}
	if (cJSON_GetObjectItemCaseSensitive(meta, "generateName"))
		wsr_kcpsim_invalid_add(inv, "FieldValueForbidden", "metadata.generateName",
				       "Forbidden: generateName is not supported");
	if (rv && !cJSON_IsNull(rv) && !(b->rv = str_of(rv)))
		wsr_kcpsim_invalid_add(inv, "FieldValueInvalid", "metadata.resourceVersion",
				       "Invalid value: must be a string");
	b->labels =
	    string_map(cJSON_GetObjectItemCaseSensitive(meta, "labels"), "metadata.labels", 1, inv);
	b->annotations = string_map(cJSON_GetObjectItemCaseSensitive(meta, "annotations"),
				    "metadata.annotations", 0, inv);
	b->type = type_ref(cJSON_GetObjectItemCaseSensitive(spec, "type"), inv);
	b->location = location(cJSON_GetObjectItemCaseSensitive(spec, "location"), inv);
	return inv->oom ? WSR_ENOMEM : 0;
}

void wsr_kcpsim_body_free(wsr_kcpsim_body *b)
{
	cJSON_Delete(b->labels);
	cJSON_Delete(b->annotations);
	cJSON_Delete(b->type);
	cJSON_Delete(b->location);
	memset(b, 0, sizeof(*b));
}

void wsr_kcpsim_ref(char *out, const cJSON *type)
{
	const char *p = wsr_json_str(type, "path"), *n = wsr_json_str(type, "name");
	snprintf(out, WSR_KCPSIM_REF_MAX, "%s:%s", p ? p : "root", n ? n : "?");
}

int wsr_kcpsim_ref_eq(const cJSON *a, const cJSON *b)
{
	const char *pa = wsr_json_str(a, "path"), *pb = wsr_json_str(b, "path");
	const char *na = wsr_json_str(a, "name"), *nb = wsr_json_str(b, "name");
	return na && nb && strcmp(na, nb) == 0 && strcmp(pa ? pa : "root", pb ? pb : "root") == 0;
}
