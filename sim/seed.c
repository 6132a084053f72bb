/* seed: YAML in, checked JSON out. The check itself works on JSON; this
 * file walks the error's path back through the YAML node tree to find the
 * line and column the author has to fix. Moved here from the Loopback
 * emulator when the kcp emulator needed the same. */
#include "sim/seed.h"

#include <stdlib.h>

#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/embedded.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/yaml.h"

/* The deepest node of the error path that exists in the document. */
static const wsr_node *resolve(const wsr_node *n, const wsr_check_err *e)
{
	for (int i = 0; n && i < e->nsteps; i++) {
		const wsr_check_step *s = &e->steps[i];
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

static int check_doc(cJSON **out, const wsr_yaml_file *f, const char *name,
		     wsr_sim_seed_check_fn check, char **err)
{
	if (f->ndocs != 1 || !f->docs[0].root) {
		*err = wsr_strdupf("%s:1:1: a seed is exactly one YAML document", name);
		return WSR_EINVAL;
	}
	const wsr_node *root = f->docs[0].root;
	cJSON *in = wsr_node_to_json(root);
	if (!in)
		return WSR_ENOMEM;
	wsr_check_err e = {.nsteps = 0};
	int rc = check(out, in, &e);
	if (rc == WSR_EINVAL) {
		char where[128];
		wsr_pos pos = wsr_node_pos(resolve(root, &e));
		wsr_check_path(&e, where, sizeof(where));
		*err = wsr_strdupf("%s:%d:%d: %s%s%s", name, pos.line, pos.col, where,
				   where[0] ? ": " : "", e.msg);
	}
	cJSON_Delete(in);
	return rc;
}

int wsr_sim_seed_parse(cJSON **out, const char *name, const char *text, size_t len,
		       wsr_sim_seed_check_fn check, char **err)
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
		rc = check_doc(out, &f, name, check, err);
	wsr_yaml_file_free(&f);
	wsr_diag_free(&d);
	return rc;
}

int wsr_sim_seed_load(cJSON **out, const char *path, const char *builtin,
		      wsr_sim_seed_check_fn check, char **err)
{
	*out = NULL;
	*err = NULL;
	if (!path) {
		const wsr_embedded_file *f = wsr_embedded_find(builtin);
		if (!f) {
			*err = wsr_strdupf("%s: not built in", builtin);
			return WSR_ENOTFOUND;
		}
		return wsr_sim_seed_parse(out, f->path, f->data, f->len, check, err);
	}
	char *text;
	size_t len;
	int rc = wsr_fs_read(&text, &len, path, WSR_SIM_MAX_SEED);
	if (rc) {
		*err = wsr_strdupf("%s: cannot read the seed: %s", path, wsr_strerror(rc));
		return rc;
	}
	rc = wsr_sim_seed_parse(out, path, text, len, check, err);
	free(text);
	return rc;
}
