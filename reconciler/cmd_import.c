/* cmd_import: `wsr import ADDRESS [PATH]` — adopts a workspace that already
 * exists on the platform into state, so a team can start managing what it
 * has (Terraform's `terraform import`). It is not a prefix of the planning
 * flow (run.c): it reads one resource by address instead of listing, and
 * writes one state entry without a plan, so it has its own file.
 *
 * The entry records the platform's spec as both applied and observed: wsr
 * has applied nothing yet, and recording the spec of the source instead
 * would make the next plan report the differences as drift ("changed
 * outside wsr") instead of as the update they are.
 *
 * Like `terraform import`, the specs under PATH must be valid: a document
 * that fails validation may be the very one declaring ADDRESS, and then its
 * source position and labels would silently be missing from the entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/diag.h"
#include "lib/err.h"
#include "lib/json.h"
#include "providers/provider.h"
#include "reconciler/apply.h"
#include "reconciler/cli.h"
#include "reconciler/commands.h"
#include "reconciler/config.h"
#include "reconciler/diff.h"
#include "reconciler/engine.h"
#include "reconciler/load.h"
#include "state/state.h"

static const char usage[] =
    "usage: wsr import ADDRESS [PATH] [--json] [--timeout DURATION]\n"
    "Adopts a workspace that already exists on the platform: records it in state\n"
    "as the platform has it, so the next plan compares it with its spec.\n"
    "Changes nothing on the platform.\n\n"
    "  ADDRESS   loopback/<organization>/<workspace>\n"
    "  PATH      the spec directory holding wsr.yaml (default: .)\n"
    "  --timeout DURATION  give up talking to the platform after this long\n"
    "            (default 5m; 0: never)\n"
    "  --json    print the recorded state entry as JSON\n";

/* ---- import ------------------------------------------------------------ */

/* Reads the resource from its platform: 0 with *out set, or an error in
 * diag (nothing there, unreachable, or an answer about something else). */
static int read_platform(wsr_resource **out, wsr_engine *e, const char *provider,
			 const char *address, wsr_diag *diag)
{
	*out = NULL;
	wsr_engine_provider *ep;
	int rc = wsr_engine_provider_open(e, provider, &ep, diag);
	if (rc)
		return rc;
	size_t before = wsr_diag_errors(diag);
	rc = ep->ops->read(ep->p, address, out, diag);
	if (rc) {
		if (wsr_diag_errors(diag) == before)
			wsr_diag_add(diag, WSR_SEV_ERROR, NULL, address, NULL, NULL,
				     "cannot read it from the %s platform: %s", provider,
				     wsr_strerror(rc));
		return rc;
	}
	if (!*out) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, address, NULL,
			     "check the organization and the workspace's name; "
			     "to create it, write its spec and run wsr apply",
			     "nothing to import: %s does not exist on the platform", address);
		return WSR_ENOTFOUND;
	}
	if (strcmp((*out)->address, address) != 0 || !(*out)->spec) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, address, NULL, NULL,
			     "the %s platform answered with something else (%s)", provider,
			     (*out)->address);
		wsr_resource_free(*out);
		*out = NULL;
		return WSR_EAPI;
	}
	return 0;
}

static int print_result(const wsr_state_entry *s, const char *dir, int json, wsr_diag *diag)
{
	if (json) {
		cJSON *v = wsr_state_entry_to_json(s);
		int rc = wsr_json_fputs(stdout, v);
		cJSON_Delete(v);
		if (rc)
			return rc;
	} else {
		printf("Imported %s (id %s)\n", s->address, s->id ? s->id : "none");
		if (s->file)
			printf("Its spec is %s:%d; run 'wsr plan %s' to see how the platform "
			       "differs from it.\n",
			       s->file, s->line, dir);
	}
	if (!s->file) {
		char *hint = wsr_strdupf(
		    "write its spec under %s ('wsr state show %s' shows what the platform has); "
		    "until then plan keeps it as no longer in the specs, and --prune deletes it",
		    dir, s->address);
		wsr_diag_add(diag, WSR_SEV_WARNING, NULL, s->address, NULL, hint,
			     "no spec under %s declares it", dir);
		free(hint);
	}
	return 0;
}

/* Under the lock: not in state yet, on the platform, recorded. */
static int record(wsr_engine *e, const char *address, const char *provider,
		  const wsr_resource_set *desired, wsr_state **state, wsr_state_entry **out,
		  wsr_diag *diag)
{
	wsr_state_backend *b = e->backend;
	int rc = b->ops->read(b, state, diag);
	if (rc)
		return rc;
	if (wsr_state_find(*state, address)) {
		char *hint = wsr_strdupf("'wsr state show %s' shows what wsr recorded", address);
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, address, NULL, hint,
			     "already managed: %s is in the state", address);
		free(hint);
		return WSR_ECONFLICT;
	}
	wsr_resource *r = NULL;
	if ((rc = read_platform(&r, e, provider, address, diag)))
		return rc;
	if (r->health != WSR_HEALTH_OK) /* recorded all the same: import takes it over as it is */
		wsr_diag_add(diag, WSR_SEV_WARNING, NULL, address, NULL,
			     "run wsr plan: it shows the repair, or refuses it with the reason",
			     "imported as the platform has it, which is not working: %s",
			     r->health_why ? r->health_why : "it is broken");
	wsr_state_entry *s = wsr_apply_entry(r, r->spec, wsr_resource_set_find(desired, address));
	wsr_resource_free(r);
	if (!s)
		return WSR_ENOMEM;
	if ((rc = wsr_state_put(*state, s))) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, address, NULL, NULL,
			     "the platform's answer cannot be recorded in state");
		wsr_state_entry_free(s);
		return rc;
	}
	if ((rc = wsr_state_write(b, *state, diag)))
		return rc;
	*out = s; /* owned by *state */
	return 0;
}

static int import(const char *address, const char *dir, int json, const wsr_deadline *deadline,
		  wsr_diag *diag)
{
	const wsr_provider_ops *ops = wsr_provider_for_address(address, diag);
	if (!ops)
		return WSR_EINVAL;
	if (!ops->read) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, address, NULL, NULL,
			     "the %s provider cannot read one resource: nothing can be imported",
			     ops->name);
		return WSR_EINVAL;
	}
	wsr_config *cfg = NULL;
	int rc = wsr_config_load(&cfg, dir, diag);
	if (rc)
		return rc;
	wsr_resource_set desired = WSR_RESOURCE_SET_INIT;
	if (wsr_load_dir(dir, &cfg->home, &desired, diag) || wsr_diag_errors(diag)) {
		wsr_diag_add(diag, WSR_SEV_NOTE, NULL, address, NULL, NULL,
			     "nothing imported: fix the specs first (every spec under %s must "
			     "load: import records the source of the one declaring the address)",
			     dir);
		wsr_resource_set_free(&desired);
		wsr_config_free(cfg);
		return WSR_EINVAL;
	}
	wsr_engine *e = NULL;
	if ((rc = wsr_engine_new(&e, cfg, diag))) {
		wsr_resource_set_free(&desired);
		return rc;
	}
	e->deadline = *deadline;
	wsr_state_backend *b = e->backend;
	char *command = wsr_strdupf("wsr import %s", address);
	rc = command ? wsr_state_lock(b, command, 0, NULL, diag) : WSR_ENOMEM;
	free(command);
	wsr_state *state = NULL;
	wsr_state_entry *s = NULL;
	if (!rc) {
		rc = record(e, address, ops->name, &desired, &state, &s, diag);
		b->ops->unlock(b);
	}
	if (!rc)
		rc = print_result(s, dir, json, diag);
	wsr_state_free(state);
	wsr_engine_free(e);
	wsr_resource_set_free(&desired);
	return rc;
}

int wsr_cmd_import(int argc, char **argv)
{
	return wsr_cli_run_address(argc, argv, usage, import);
}
