/* cli: shared flag parsing for the planning commands. */
#include "reconciler/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/err.h"

static const struct {
	struct option opt;
	unsigned group;
} table[] = {
    {{"json", no_argument, NULL, 'j'}, WSR_CLI_JSON},
    {{"target", required_argument, NULL, 't'}, WSR_CLI_TARGET},
    {{"selector", required_argument, NULL, 'l'}, WSR_CLI_TARGET},
    {{"prune", no_argument, NULL, 'p'}, WSR_CLI_PRUNE},
    {{"detailed-exitcode", no_argument, NULL, 'd'}, WSR_CLI_DETAILED},
    {{"out", required_argument, NULL, 'o'}, WSR_CLI_OUT},
    {{"auto-approve", no_argument, NULL, 'y'}, WSR_CLI_APPLY},
    {{"dry-run", no_argument, NULL, 'n'}, WSR_CLI_APPLY},
    {{"parallelism", required_argument, NULL, 'P'}, WSR_CLI_APPLY},
    {{"allow-replace", no_argument, NULL, 'R'}, WSR_CLI_MODE},
    {{"allow-cascade", no_argument, NULL, 'C'}, WSR_CLI_MODE},
    {{"refresh-only", no_argument, NULL, 'F'}, WSR_CLI_MODE},
    {{"format", required_argument, NULL, 'f'}, WSR_CLI_FORMAT},
    {{"timeout", required_argument, NULL, 'T'}, WSR_CLI_TIMEOUT},
    {{"lock-timeout", required_argument, NULL, 'L'}, WSR_CLI_LOCK},
};

#define NOPTS (sizeof(table) / sizeof(table[0]))

static int add_list(const char **v, size_t *n, const char *s, const char *flag)
{
	if (*n == WSR_CLI_MAX_LIST) {
		fprintf(stderr, "error: --%s given more than %d times\n", flag, WSR_CLI_MAX_LIST);
		return -1;
	}
	v[(*n)++] = s;
	return 0;
}

int wsr_cli_duration(int64_t *ms, const char *flag, const char *arg)
{
	*ms = 0;
	if (strcmp(arg, "0") != 0 &&
	    (wsr_clock_duration(ms, arg) || *ms > WSR_CLI_TIMEOUT_MAX_MS)) {
		fprintf(stderr,
			"error: --%s wants a duration like 90s, 5m or 2h (at most %lldh; 0 "
			"for none), got '%.40s'\n",
			flag, WSR_CLI_TIMEOUT_MAX_MS / 3600000, arg);
		return -1;
	}
	return 0;
}

/* --timeout: a duration (lib/clock's one parser) up to a week; 0 or 0s for none. */
static int parse_timeout(wsr_cli *cli, const char *arg)
{
	int64_t ms = 0;
	if (wsr_cli_duration(&ms, "timeout", arg))
		return -1;
	cli->timeout = arg;
	cli->timeout_ms = ms;
	return 0;
}

static int parse_one(wsr_cli *cli, int c, const char *arg)
{
	char *end;
	long n;
	switch (c) {
	case 'j':
		cli->json = 1;
		return 0;
	case 'p':
		cli->prune = 1;
		return 0;
	case 'd':
		cli->detailed = 1;
		return 0;
	case 'y':
		cli->auto_approve = 1;
		return 0;
	case 'n':
		cli->dry_run = 1;
		return 0;
	case 'R':
		cli->allow_replace = 1;
		return 0;
	case 'C':
		cli->allow_cascade = 1;
		return 0;
	case 'F':
		cli->refresh_only = 1;
		return 0;
	case 'o':
		cli->out = arg;
		return 0;
	case 'f':
		cli->format = arg;
		return 0;
	case 't':
		return add_list(cli->targets, &cli->ntargets, arg, "target");
	case 'T':
		return parse_timeout(cli, arg);
	case 'L':
		return wsr_cli_duration(&cli->lock_timeout_ms, "lock-timeout", arg);
	case 'l':
		if (!strchr(arg, '=') || arg[0] == '=') {
			fprintf(stderr, "error: --selector wants key=value, got '%s'\n", arg);
			return -1;
		}
		return add_list(cli->selectors, &cli->nselectors, arg, "selector");
	case 'P':
		n = strtol(arg, &end, 10);
		if (*end || n < 1 || n > 256) {
			fprintf(stderr,
				"error: --parallelism wants a number from 1 to 256, got '%s'\n",
				arg);
			return -1;
		}
		cli->parallelism = (int)n;
		return 0;
	}
	return -1;
}

int wsr_cli_parse(wsr_cli *cli, int argc, char **argv, unsigned allowed, const char *usage)
{
	memset(cli, 0, sizeof(*cli));
	struct option opts[NOPTS + 2];
	size_t k = 0;
	for (size_t i = 0; i < NOPTS; i++)
		if (table[i].group & allowed)
			opts[k++] = table[i].opt;
	opts[k++] = (struct option){"help", no_argument, NULL, 'h'};
	opts[k] = (struct option){0};
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return 1;
		}
		if (c == '?' || c == ':') {
			fprintf(stderr, "error: unknown or incomplete flag '%s'\n%s",
				argv[optind - 1], usage);
			return -1;
		}
		if (parse_one(cli, c, optarg))
			return -1;
	}
	/* GNU getopt moved the positional arguments to the end */
	if (optind < argc)
		cli->path = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "error: unexpected argument '%s'\n%s", argv[optind], usage);
		return -1;
	}
	return 0;
}

wsr_plan_opts wsr_cli_plan_opts(const wsr_cli *cli)
{
	return (wsr_plan_opts){.prune = cli->prune,
			       .targets = cli->targets,
			       .ntargets = cli->ntargets,
			       .selectors = cli->selectors,
			       .nselectors = cli->nselectors,
			       .allow_replace = cli->allow_replace,
			       .allow_cascade = cli->allow_cascade,
			       .refresh_only = cli->refresh_only};
}

/* "5m" for 300000: the largest unit that divides ms. */
static void format_duration(char *out, size_t n, int64_t ms)
{
	static const struct {
		int64_t ms;
		const char *unit;
	} units[] = {{3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
	size_t i = 0;
	while (ms % units[i].ms)
		i++;
	snprintf(out, n, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
}

wsr_deadline wsr_cli_deadline(const wsr_cli *cli, int64_t default_ms)
{
	wsr_deadline d = {0};
	int64_t ms = cli->timeout ? cli->timeout_ms : default_ms;
	if (ms <= 0)
		return d;
	d.after_ms = ms;
	d.at_ms = wsr_clock_mono_ms() + ms;
	char given[32];
	format_duration(given, sizeof(given), ms);
	if (cli->timeout)
		snprintf(d.hint, sizeof(d.hint), "--timeout %s", given);
	else
		snprintf(d.hint, sizeof(d.hint), "--timeout, %s by default", given);
	return d;
}

void wsr_cli_deadline_report(const wsr_deadline *d, const char *verb, int failed, wsr_diag *diag)
{
	if (!failed || !d->at_ms || wsr_clock_mono_ms() < d->at_ms)
		return;
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL,
		     "the errors above name the request that was waiting; give the run longer "
		     "with --timeout (e.g. --timeout 15m), or no deadline with --timeout 0",
		     "wsr %s stopped at its deadline after %.1f s (%s)", verb,
		     (double)d->after_ms / 1000, d->hint);
}

/* Parses `ADDRESS [PATH] [--json] [--timeout D]`: the first positional
 * argument is the address, the next one goes to cli->path. Besides
 * --timeout (whose value is taken with it) only flags without a value are
 * allowed, so that every other argument not starting with '-' is
 * positional. Returns like wsr_cli_parse. */
static int parse_address(const char **address, wsr_cli *cli, int argc, char **argv,
			 const char *usage_text)
{
	*address = NULL;
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	if (!rest)
		return -1;
	int n = 0, positional = 0;
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		int flag = !positional && s[0] == '-' && s[1];
		if (i > 0 && !flag && !*address) {
			*address = s;
			continue;
		}
		if (flag && strcmp(s, "--timeout") == 0 && i + 1 < argc) {
			rest[n++] = argv[i++];
			rest[n++] = argv[i];
			continue;
		}
		if (i > 0 && strcmp(s, "--") == 0)
			positional = 1;
		rest[n++] = argv[i];
	}
	int rc = wsr_cli_parse(cli, n, rest, WSR_CLI_JSON | WSR_CLI_TIMEOUT, usage_text);
	free(rest);
	if (rc == 0 && !*address) {
		fprintf(stderr, "error: missing ADDRESS\n%s", usage_text);
		return -1;
	}
	return rc;
}

int wsr_cli_run_address(int argc, char **argv, const char *usage_text,
			int (*fn)(const char *address, const char *dir, int json,
				  const wsr_deadline *deadline, wsr_diag *diag))
{
	wsr_cli cli;
	const char *address;
	int rc = parse_address(&address, &cli, argc, argv, usage_text);
	if (rc)
		return rc > 0 ? 0 : 1;
	wsr_diag diag;
	wsr_diag_init(&diag);
	wsr_deadline dl = wsr_cli_deadline(&cli, WSR_CLI_TIMEOUT_READ_MS);
	rc = fn(address, cli.path ? cli.path : ".", cli.json, &dl, &diag);
	wsr_cli_deadline_report(&dl, argv[0], rc || wsr_diag_errors(&diag), &diag);
	if (rc == WSR_ENOMEM)
		fprintf(stderr, "wsr %s: out of memory\n", argv[0]);
	int failed = rc || wsr_diag_errors(&diag);
	wsr_diag_sort(&diag);
	wsr_diag_print(&diag, stderr, wsr_use_color(stderr));
	wsr_diag_free(&diag);
	return failed;
}

int wsr_cli_confirm(const char *verb, const char *question, const char *hint, const char *cancelled)
{
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr,
			"error: refusing to %s without confirmation: standard input is not a "
			"terminal\n  hint: %s\n",
			verb, hint);
		return 0;
	}
	fprintf(stderr, "\n%s Only 'yes' will be accepted: ", question);
	char line[64];
	if (!fgets(line, sizeof(line), stdin) || strcmp(line, "yes\n") != 0) {
		fprintf(stderr, "%s\n", cancelled);
		return 0;
	}
	return 1;
}
