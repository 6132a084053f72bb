/* cmd_validate: `wsr validate [PATH] [--json]` — the first stage of the flow
 * on its own: wsr.yaml and every spec, checked without reaching any
 * platform, so it runs in CI before credentials exist. */
#include <stdio.h>
#include <stdlib.h>

#include <cJSON.h>

#include "lib/diag.h"
#include "lib/json.h"
#include "providers/resource.h"
#include "reconciler/cli.h"
#include "reconciler/commands.h"
#include "reconciler/config.h"
#include "reconciler/load.h"

static const char usage[] =
    "usage: wsr validate [PATH] [--json]\n"
    "\n"
    "Checks PATH/wsr.yaml and every *.yaml / *.yml spec below PATH (default .)\n"
    "against their schemas and kind rules, without contacting any platform.\n"
    "Problems are printed on stderr as file:line:col: error: ...\n"
    "\n"
    "  --json   print {\"valid\", \"resources\", \"diagnostics\"} on stdout\n"
    "\n"
    "Exit status: 0 valid, 1 otherwise.\n";

static void print_json(int valid, size_t n, const wsr_diag *diag)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "valid", valid);
	cJSON_AddNumberToObject(o, "resources", (double)n);
	cJSON *d = wsr_diag_to_json(diag);
	if (d)
		cJSON_AddItemToObject(o, "diagnostics", d);
	wsr_json_fputs(stdout, o);
	cJSON_Delete(o);
}

int wsr_cmd_validate(int argc, char **argv)
{
	wsr_cli cli;
	int rc = wsr_cli_parse(&cli, argc, argv, WSR_CLI_JSON, usage);
	if (rc != 0)
		return rc > 0 ? 0 : 1;
	const char *dir = cli.path ? cli.path : ".";
	wsr_diag diag = WSR_DIAG_INIT;
	wsr_config *cfg = NULL;
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	wsr_config_load(&cfg, dir, &diag);
	wsr_load_dir(dir, cfg ? &cfg->home : NULL, &set, &diag);
	int valid = wsr_diag_errors(&diag) == 0;
	wsr_diag_sort(&diag);
	if (cli.json)
		print_json(valid, set.n, &diag);
	else
		wsr_diag_print(&diag, stderr, wsr_use_color(stderr));
	if (valid && !cli.json)
		printf("%zu workspace%s valid in %s\n", set.n, set.n == 1 ? "" : "s", dir);
	else if (!valid && !cli.json)
		fprintf(stderr, "%zu error%s\n", wsr_diag_errors(&diag),
			wsr_diag_errors(&diag) == 1 ? "" : "s");
	wsr_resource_set_free(&set);
	wsr_config_free(cfg);
	wsr_diag_free(&diag);
	return valid ? 0 : 1;
}
