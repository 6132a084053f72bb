/* cmd_plan: `wsr plan` — the flow up to a rendered plan; touches nothing. */
#include <stdio.h>
#include <stdlib.h>

#include "lib/diag.h"
#include "lib/json.h"
#include "reconciler/cli.h"
#include "reconciler/commands.h"
#include "reconciler/planfile.h"
#include "reconciler/render.h"
#include "reconciler/run.h"

static const char usage[] =
    "usage: wsr plan [PATH] [flags]\n"
    "Shows what apply would change in the platforms, and why. Changes nothing.\n\n"
    "  --json                 print the plan as JSON (format wsr.plan/v1)\n"
    "  --out FILE             save the plan for `wsr apply FILE`\n"
    "  --detailed-exitcode    exit 0: no changes, 2: changes, 1: error\n"
    "  --prune                plan deletion of workspaces no longer in the specs\n"
    "  --allow-replace        allow replacing workspaces (deletes them first)\n"
    "  --refresh-only         only show drift; apply then records it in state\n"
    "  --target ADDRESS       only this resource (repeatable)\n"
    "  --selector key=value   only resources with this label (repeatable)\n";

int wsr_cmd_plan(int argc, char **argv)
{
	wsr_cli cli;
	int rc = wsr_cli_parse(&cli, argc, argv,
			       WSR_CLI_JSON | WSR_CLI_TARGET | WSR_CLI_PRUNE | WSR_CLI_DETAILED |
				   WSR_CLI_OUT | WSR_CLI_MODE,
			       usage);
	if (rc)
		return rc > 0 ? 0 : 1;
	wsr_run_opts ro = {.dir = cli.path ? cli.path : "."};
	ro.plan = wsr_cli_plan_opts(&cli);
	wsr_diag diag;
	wsr_diag_init(&diag);
	wsr_run *r = NULL;
	rc = wsr_run_plan(&r, &ro, &diag);
	/* the JSON rendering copies every spec: build it only when it is wanted */
	cJSON *json = cli.json || cli.out ? wsr_render_json(r ? r->plan : NULL, &diag) : NULL;
	if (cli.json) {
		wsr_json_fputs(stdout, json);
	} else if (r && r->plan) {
		wsr_render_text(stdout, r->plan, wsr_use_color(stdout));
	}
	if (!rc && cli.out && !wsr_diag_errors(&diag)) {
		ro.plan.prune = r->plan ? ro.plan.prune || r->engine->cfg->prune : ro.plan.prune;
		if (wsr_planfile_write(cli.out, &ro, r, json, &diag) == 0 && !cli.json)
			printf("Saved the plan to %s; apply it with: wsr apply %s\n", cli.out,
			       cli.out);
	}
	wsr_diag_sort(&diag);
	wsr_diag_print(&diag, stderr, wsr_use_color(stderr));
	int code = 0;
	if (rc || wsr_diag_errors(&diag))
		code = 1;
	else if (cli.detailed && wsr_plan_has_changes(r->plan))
		code = 2;
	cJSON_Delete(json);
	wsr_run_free(r);
	wsr_diag_free(&diag);
	return code;
}
