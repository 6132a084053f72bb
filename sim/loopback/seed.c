/* seed: YAML in, checked platform out. The check itself works on JSON (see
 * platform.c); this file walks the error's path back through the YAML node
 * tree to find the line and column the author has to fix. */
#include "sim/loopback/seed.h"

#include <stdlib.h>

#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/embedded.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/yaml.h"
#include "sim/loopback/platform.h"

/* The deepest node of the error path that exists in the document. */
static const wsr_node *resolve(const wsr_node *n, const wsr_lbsim_perr *e)
{
	for (int i = 0; n && i < e->nsteps; i++) {
		const wsr_lbsim_step *s = &e->steps[i];
		const wsr_node *next = NULL;
		if (s->key)
			next = wsr_node_get(n, s->key);
		else if (n->kind == WSR_NODE_SEQ && (size_t)s->index < n->n)
			next = n->vals[s->index];
		if (!next)
			break;
		n = next;
	}
	return n;
}

static char *first_error(const wsr_diag *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++) {
		const wsr_diag_entry *x = &d->v[i];
		if (x->severity == WSR_SEV_ERROR)
			return wsr_strdupf("%s:%d:%d: %s", x->file ? x->file : name, x->line,
					   x->col, x->summary);
	}
	return wsr_strdupf("%s: not a valid YAML seed", name);
}

static int check(cJSON **out, const wsr_yaml_file *f, const char *name, char **err)
{
	if (f->ndocs != 1 || !f->docs[0].root) {
		*err = wsr_strdupf("%s:1:1: a seed is exactly one YAML document", name);
		return WSR_EINVAL;
	}
	const wsr_node *root = f->docs[0].root;
	cJSON *in = wsr_node_to_json(root);
	if (!in)
		return WSR_ENOMEM;
	wsr_lbsim_perr e = {.nsteps = 0};
	int rc = wsr_lbsim_platform_check(out, in, &e);
	if (rc == WSR_EINVAL) {
		char where[128];
		wsr_pos pos = wsr_node_pos(resolve(root, &e));
		wsr_lbsim_perr_path(&e, where, sizeof(where));
		*err = wsr_strdupf("%s:%d:%d: %s%s%s", name, pos.line, pos.col, where,
				   where[0] ? ": " : "", e.msg);
	}
	cJSON_Delete(in);
	return rc;
}

int wsr_lbsim_seed_parse(cJSON **out, const char *name, const char *text, size_t len, char **err)
{
	*out = NULL;
	*err = NULL;
	wsr_yaml_file f = {0};
	wsr_diag d;
	wsr_diag_init(&d);
	int rc = wsr_yaml_parse(&f, name, text, len, &d);
	if (rc || wsr_diag_errors(&d)) {
		*err = first_error(&d, name);
		rc = WSR_EINVAL;
	} else
		rc = check(out, &f, name, err);
	wsr_yaml_file_free(&f);
	wsr_diag_free(&d);
	return rc;
}

int wsr_lbsim_seed_load(cJSON **out, const char *path, char **err)
{
	*out = NULL;
	*err = NULL;
	if (!path) {
		const wsr_embedded_file *f = wsr_embedded_find(WSR_LBSIM_BUILTIN_SEED);
		if (!f) {
			*err = wsr_strdupf("%s: not built in", WSR_LBSIM_BUILTIN_SEED);
			return WSR_ENOTFOUND;
		}
		return wsr_lbsim_seed_parse(out, f->path, f->data, f->len, err);
	}
	char *text;
	size_t len;
	int rc = wsr_fs_read(&text, &len, path, WSR_LBSIM_MAX_SEED);
	if (rc) {
		*err = wsr_strdupf("%s: cannot read the seed: %s", path, wsr_strerror(rc));
		return rc;
	}
	rc = wsr_lbsim_seed_parse(out, path, text, len, err);
	free(text);
	return rc;
}
