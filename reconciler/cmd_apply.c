/* cmd_apply: `wsr apply` — plan under the state lock, confirm, carry out. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/diag.h"
#include "lib/json.h"
#include "reconciler/apply.h"
#include "reconciler/cli.h"
#include "reconciler/commands.h"
#include "reconciler/planfile.h"
#include "reconciler/render.h"
#include "reconciler/run.h"

static const char usage[] =
    "usage: wsr apply [PATH | PLANFILE] [flags]\n"
    "Carries out the plan, recording every finished step in state.\n\n"
    "  --auto-approve         do not ask for confirmation\n"
    "  --dry-run              print the plan; make no change, write no state\n"
    "  --parallelism N        workspaces changed at once (default: config, 8)\n"
    "  --json                 print the plan and the outcome as JSON\n"
    "  --prune                delete workspaces no longer in the specs\n"
    "  --allow-replace        allow replacing workspaces (deletes them first)\n"
    "  --allow-cascade        allow deletions that destroy nested workspaces not\n"
    "                         planned for deletion themselves (kcp)\n"
    "  --refresh-only         record drift in state; change nothing on the platforms\n"
    "  --target ADDRESS       only this resource (repeatable)\n"
    "  --selector key=value   only resources with this label (repeatable)\n"
    "  --timeout DURATION     stop after this long, e.g. 30m: nothing new starts,\n"
    "                         state keeps every finished step (default: none)\n"
    "  --lock-timeout DURATION\n"
    "                         wait this long for a state lock another run holds\n"
    "                         (default 0: fail at once, naming the holder)\n";

/* atomic: the apply workers read it (reconciler/apply.h); lock-free, so
 * the handler may change it */
static atomic_int stop;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "a signal handler may only use lock-free atomics");

static void on_signal(int sig)
{
	(void)sig;
	stop++;
}

static int is_file(const char *path)
{
	struct stat st;
	return path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void print_json(const cJSON *plan, const wsr_apply_result *res, const wsr_diag *diag,
		       int applied)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "format", "wsr.apply/v1");
	cJSON_AddItemToObject(o, "plan", cJSON_Duplicate(plan, 1));
	cJSON *r = cJSON_AddObjectToObject(o, "result");
	cJSON_AddBoolToObject(r, "applied", applied);
	cJSON_AddNumberToObject(r, "succeeded", res->succeeded);
	cJSON_AddNumberToObject(r, "failed", res->failed);
	cJSON_AddNumberToObject(r, "notStarted", res->skipped);
	cJSON_AddBoolToObject(r, "interrupted", res->interrupted);
	cJSON_AddBoolToObject(r, "timedOut", res->timed_out);
	cJSON_AddItemToObject(o, "diagnostics", wsr_diag_to_json(diag));
	wsr_json_fputs(stdout, o);
	cJSON_Delete(o);
}

typedef struct outcome {
	int code;
	int applied;
	wsr_apply_result res;
} outcome;

static void execute(outcome *out, const wsr_cli *cli, wsr_run *r, int from_file,
		    const wsr_deadline *dl, wsr_diag *diag)
{
	if (!wsr_plan_has_changes(r->plan)) {
		if (!cli->json)
			printf("Nothing to apply.\n");
		return;
	}
	if (cli->dry_run) {
		if (!cli->json)
			printf("Dry run: nothing was changed and no state was written.\n");
		return;
	}
	if (!cli->auto_approve && !from_file &&
	    !wsr_cli_confirm("apply", "Do you want to apply these changes?",
			     "review the plan, then pass --auto-approve",
			     "Apply cancelled; nothing was changed.")) {
		out->code = 1;
		return;
	}
	struct sigaction sa = {0}, old_int, old_term;
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	wsr_apply_opts ao = {0};
	ao.parallelism = cli->parallelism ? cli->parallelism : r->engine->cfg->parallelism;
	ao.stop = &stop;
	ao.progress = cli->json ? stderr : stdout;
	ao.deadline_ms = dl->at_ms;
	ao.deadline_hint = dl->hint;
	int rc = wsr_apply_run(&out->res, r->engine, r->plan, r->state, &ao, diag);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	out->applied = 1;
	if (!cli->json)
		printf("\nApply %s: %d succeeded, %d failed, %d not started; state serial %lld.\n",
		       out->res.timed_out ? "stopped at its deadline"
		       : rc		  ? "incomplete"
					  : "complete",
		       out->res.succeeded, out->res.failed, out->res.skipped,
		       (long long)r->state->serial);
	if (out->res.interrupted)
		out->code = 130;
	else if (rc)
		out->code = 1;
}

int wsr_cmd_apply(int argc, char **argv)
{
	wsr_cli cli;
	int rc = wsr_cli_parse(&cli, argc, argv,
			       WSR_CLI_JSON | WSR_CLI_TARGET | WSR_CLI_PRUNE | WSR_CLI_APPLY |
				   WSR_CLI_MODE | WSR_CLI_TIMEOUT | WSR_CLI_LOCK,
			       usage);
	if (rc)
		return rc > 0 ? 0 : 1;
	wsr_diag diag;
	wsr_diag_init(&diag);
	wsr_planfile *pf = NULL;
	int from_file = is_file(cli.path);
	wsr_run_opts ro = {.dir = cli.path ? cli.path : ".",
			   .lock = !cli.dry_run,
			   .command = cli.dry_run ? "wsr apply --dry-run" : "wsr apply",
			   .lock_wait_ms = cli.lock_timeout_ms};
	ro.plan = wsr_cli_plan_opts(&cli);
	ro.deadline = wsr_cli_deadline(&cli, 0);
	if (from_file) {
		if (wsr_planfile_read(&pf, cli.path, &diag) == 0) {
			ro.dir = pf->dir;
			ro.plan = (wsr_plan_opts){.prune = pf->prune,
						  .targets = pf->targets,
						  .ntargets = pf->ntargets,
						  .selectors = pf->selectors,
						  .nselectors = pf->nselectors,
						  .allow_replace = pf->allow_replace,
						  .allow_cascade = pf->allow_cascade,
						  .refresh_only = pf->refresh_only};
		}
	}
	wsr_run *r = NULL;
	if (!wsr_diag_errors(&diag))
		rc = wsr_run_plan(&r, &ro, &diag);
	cJSON *json = wsr_render_json(r ? r->plan : NULL, &diag);
	if (pf && !rc && !wsr_diag_errors(&diag))
		wsr_planfile_check(pf, r, json, &diag);
	if (!cli.json && r && r->plan)
		wsr_render_text(stdout, r->plan, wsr_use_color(stdout));
	outcome out = {0};
	if (rc || wsr_diag_errors(&diag))
		out.code = 1;
	else
		execute(&out, &cli, r, from_file, &ro.deadline, &diag);
	wsr_cli_deadline_report(&ro.deadline, "apply", out.code != 0, &diag);
	if (cli.json)
		print_json(json, &out.res, &diag, out.applied);
	wsr_diag_sort(&diag);
	wsr_diag_print(&diag, stderr, wsr_use_color(stderr));
	cJSON_Delete(json);
	wsr_run_free(r);
	wsr_planfile_free(pf);
	wsr_diag_free(&diag);
	return out.code;
}
