/* cli: the flags plan and apply share, parsed one way (getopt_long). */
#ifndef WSR_RECONCILER_CLI_H
#define WSR_RECONCILER_CLI_H
#include <stddef.h>

#include "lib/diag.h"
#include "reconciler/plan.h"

#define WSR_CLI_MAX_LIST 64 /* --target / --selector given at most this often */

enum {
	WSR_CLI_JSON = 1 << 0,
	WSR_CLI_TARGET = 1 << 1, /* --target ADDRESS, --selector key=value */
	WSR_CLI_PRUNE = 1 << 2,
	WSR_CLI_DETAILED = 1 << 3, /* --detailed-exitcode */
	WSR_CLI_OUT = 1 << 4,	   /* --out FILE */
	WSR_CLI_APPLY = 1 << 5,	   /* --auto-approve, --dry-run, --parallelism N */
	WSR_CLI_MODE = 1 << 6,	   /* --allow-replace, --allow-cascade, --refresh-only */
	WSR_CLI_FORMAT = 1 << 7,   /* --format NAME (the command checks NAME) */
};

typedef struct wsr_cli {
	const char *path; /* the positional argument, or NULL */
	const char *targets[WSR_CLI_MAX_LIST];
	size_t ntargets;
	const char *selectors[WSR_CLI_MAX_LIST];
	size_t nselectors;
	int json, prune, detailed, auto_approve, dry_run, allow_replace, allow_cascade,
	    refresh_only;
	int parallelism; /* 0: from the config */
	const char *out;
	const char *format; /* --format's value, or NULL */
} wsr_cli;

/* Parses argv (argv[0] is the verb) for the flags in `allowed`. Prints the
 * usage and returns 1 for --help (caller exits 0), prints an error and
 * returns -1 for bad flags (caller exits 1), returns 0 otherwise. */
int wsr_cli_parse(wsr_cli *cli, int argc, char **argv, unsigned allowed, const char *usage);

/* Runs `wsr <verb> ADDRESS [PATH] [--json]` (import, profiles): parses the
 * arguments (the first positional one is the address; only flags without a
 * value), calls fn(address, dir, json, diag), prints the diagnostics and
 * returns the exit status (0, or 1 on any error). */
int wsr_cli_run_address(int argc, char **argv, const char *usage_text,
			int (*fn)(const char *address, const char *dir, int json, wsr_diag *diag));

/* The planning options the flags ask for (prune is or-ed with the config's later). */
wsr_plan_opts wsr_cli_plan_opts(const wsr_cli *cli);
#endif
