/* cmd_plan: `wsr plan` — the flow up to a rendered plan; touches nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    "  --format FORMAT        text (default), json (format wsr.plan/v1) or markdown\n"
    "                         (a pull-request comment)\n"
    "  --json                 the same as --format json\n"
    "  --out FILE             save the plan for `wsr apply FILE`\n"
    "  --detailed-exitcode    exit 0: no changes, 2: changes, 1: error\n"
    "  --prune                plan deletion of workspaces no longer in the specs\n"
    "  --allow-replace        allow replacing workspaces (deletes them first)\n"
    "  --allow-cascade        allow deletions that destroy nested workspaces not\n"
    "                         planned for deletion themselves (kcp)\n"
    "  --refresh-only         only show drift; apply then records it in state\n"
    "  --target ADDRESS       only this resource (repeatable)\n"
    "  --selector key=value   only resources with this label (repeatable)\n"
    "  --timeout DURATION     give up after this long, e.g. 90s or 10m (default 5m;\n"
    "                         0: never)\n";

enum { FMT_TEXT, FMT_JSON, FMT_MARKDOWN };

/* The output format --format and --json ask for; -1 (after a usage error)
 * for an unknown name or --json next to another format. */
static int output_format(const wsr_cli *cli)
{
	static const char *const names[] = {"text", "json", "markdown"};
	int fmt = cli->json ? FMT_JSON : FMT_TEXT;
	if (cli->format) {
		fmt = -1;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(cli->format, names[i]) == 0)
				fmt = (int)i;
		if (fmt < 0) {
			fprintf(stderr,
				"error: --format wants text, json or markdown, got '%s'\n%s",
				cli->format, usage);
			return -1;
		}
		if (cli->json && fmt != FMT_JSON) {
			fprintf(stderr, "error: --json contradicts --format %s\n%s", cli->format,
				usage);
			return -1;
		}
	}
	return fmt;
}

int wsr_cmd_plan(int argc, char **argv)
{
	wsr_cli cli;
	int rc = wsr_cli_parse(&cli, argc, argv,
			       WSR_CLI_JSON | WSR_CLI_TARGET | WSR_CLI_PRUNE | WSR_CLI_DETAILED |
				   WSR_CLI_OUT | WSR_CLI_MODE | WSR_CLI_FORMAT | WSR_CLI_TIMEOUT,
			       usage);
	if (rc)
		return rc > 0 ? 0 : 1;
	int fmt = output_format(&cli);
	if (fmt < 0)
		return 1;
	wsr_run_opts ro = {.dir = cli.path ? cli.path : "."};
	ro.plan = wsr_cli_plan_opts(&cli);
	ro.deadline = wsr_cli_deadline(&cli, WSR_CLI_TIMEOUT_READ_MS);
	wsr_diag diag;
	wsr_diag_init(&diag);
	wsr_run *r = NULL;
	rc = wsr_run_plan(&r, &ro, &diag);
	wsr_cli_deadline_report(&ro.deadline, "plan", rc || wsr_diag_errors(&diag), &diag);
	/* the JSON rendering copies every spec: build it only when it is wanted */
	cJSON *json =
	    fmt == FMT_JSON || cli.out ? wsr_render_json(r ? r->plan : NULL, &diag) : NULL;
	if (fmt == FMT_JSON) {
		wsr_json_fputs(stdout, json);
	} else if (fmt == FMT_MARKDOWN) {
		/* the comment shows the diagnostics too, so sort them first; it is
		 * written even when planning failed, to say why in the review */
		wsr_diag_sort(&diag);
		wsr_render_markdown(stdout, r ? r->plan : NULL, &diag);
	} else if (r && r->plan) {
		wsr_render_text(stdout, r->plan, wsr_use_color(stdout));
	}
	if (!rc && cli.out && !wsr_diag_errors(&diag)) {
		ro.plan.prune = r->plan ? ro.plan.prune || r->engine->cfg->prune : ro.plan.prune;
		if (wsr_planfile_write(cli.out, &ro, r, json, &diag) == 0 && fmt == FMT_TEXT)
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
