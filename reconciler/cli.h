/* cli: the flags plan and apply share, parsed one way (getopt_long). */
#ifndef WSR_RECONCILER_CLI_H
#define WSR_RECONCILER_CLI_H
#include <stddef.h>

#include "lib/diag.h"
#include "reconciler/engine.h"
#include "reconciler/plan.h"

#define WSR_CLI_MAX_LIST 64 /* --target / --selector given at most this often */
/* The longest --timeout accepted: a week; an apply longer than that is
 * better run without a deadline (--timeout 0). */
#define WSR_CLI_TIMEOUT_MAX_MS (7LL * 24 * 3600 * 1000)
/* --timeout of the read-only commands (plan, import, profiles) when none is
 * given: far above a 10,000-workspace plan (bench/plan.sh, seconds), short
 * enough that a hung platform fails CI in minutes, not hours. */
#define WSR_CLI_TIMEOUT_READ_MS (5LL * 60 * 1000)

enum {
	WSR_CLI_JSON = 1 << 0,
	WSR_CLI_TARGET = 1 << 1, /* --target ADDRESS, --selector key=value */
	WSR_CLI_PRUNE = 1 << 2,
	WSR_CLI_DETAILED = 1 << 3, /* --detailed-exitcode */
	WSR_CLI_OUT = 1 << 4,	   /* --out FILE */
	WSR_CLI_APPLY = 1 << 5,	   /* --auto-approve, --dry-run, --parallelism N */
	WSR_CLI_MODE = 1 << 6,	   /* --allow-replace, --allow-cascade, --refresh-only */
	WSR_CLI_FORMAT = 1 << 7,   /* --format NAME (the command checks NAME) */
	WSR_CLI_TIMEOUT = 1 << 8,  /* --timeout DURATION (0: none) */
	WSR_CLI_LOCK = 1 << 9,	   /* --lock-timeout DURATION (0, the default: fail at once) */
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
	const char *format;	 /* --format's value, or NULL */
	const char *timeout;	 /* --timeout as given, or NULL */
	int64_t timeout_ms;	 /* its value; 0: no deadline */
	int64_t lock_timeout_ms; /* how long to wait for a busy state lock */
} wsr_cli;

/* Parses the duration of --flag (lib/clock's units, at most a week, 0 for
 * none) into *ms; prints the error and returns -1 when it is not one. */
int wsr_cli_duration(int64_t *ms, const char *flag, const char *arg);

/* Parses argv (argv[0] is the verb) for the flags in `allowed`. Prints the
 * usage and returns 1 for --help (caller exits 0), prints an error and
 * returns -1 for bad flags (caller exits 1), returns 0 otherwise. */
int wsr_cli_parse(wsr_cli *cli, int argc, char **argv, unsigned allowed, const char *usage);

/* The deadline --timeout asks for, counted from now; default_ms (0: none)
 * when the flag was not given. */
wsr_deadline wsr_cli_deadline(const wsr_cli *cli, int64_t default_ms);

/* After a run that failed with its deadline passed: an error in diag
 * saying that `wsr <verb>` stopped there, after how long, and what to
 * change. */
void wsr_cli_deadline_report(const wsr_deadline *d, const char *verb, int failed, wsr_diag *diag);

/* Runs `wsr <verb> ADDRESS [PATH] [--json] [--timeout DURATION]` (import,
 * profiles): parses the arguments (the first positional one is the
 * address; besides --timeout only flags without a value), calls fn(address,
 * dir, json, deadline, diag) with the deadline of --timeout (default
 * WSR_CLI_TIMEOUT_READ_MS), prints the diagnostics and returns the exit
 * status (0, or 1 on any error). */
int wsr_cli_run_address(int argc, char **argv, const char *usage_text,
			int (*fn)(const char *address, const char *dir, int json,
				  const wsr_deadline *deadline, wsr_diag *diag));

/* Asks question on the terminal and returns 1 only for the answer "yes".
 * Without a terminal on stdin it refuses ("refusing to <verb> without
 * confirmation", then hint: the flag that skips the question); a cancel
 * prints `cancelled`. */
int wsr_cli_confirm(const char *verb, const char *question, const char *hint,
		    const char *cancelled);

/* The planning options the flags ask for (prune is or-ed with the config's later). */
wsr_plan_opts wsr_cli_plan_opts(const wsr_cli *cli);
#endif
