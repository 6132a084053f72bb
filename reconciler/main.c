/* main: the wsr command line. Dispatches the verb to its cmd_<verb>.c from
 * one table; everything else lives in those files. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "reconciler/commands.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
    {"validate", wsr_cmd_validate, "check every spec against its schema"},
    {"plan", wsr_cmd_plan, "show what apply would change, and why"},
    {"apply", wsr_cmd_apply, "carry out the plan and record it in state"},
    {"state", wsr_cmd_state, "list, show or forget recorded resources"},
    {"import", wsr_cmd_import, "adopt a workspace that exists on the platform into state"},
    {"profiles", wsr_cmd_profiles, "show a workspace's compute profiles and their prices"},
    {"watch", wsr_cmd_watch, "follow a directory or Git repository and keep platforms converged"},
    {"kcp", wsr_cmd_kcp, "kcp helpers: home-path prints users' home workspace paths"},
    {"version", wsr_cmd_version, "print the version"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: wsr <command> [PATH] [flags]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nRun 'wsr <command> --help' for a command's flags; see wsr(1).\n");
}

/* Read by LeakSanitizer only (make test SANITIZE=1). libgit2 1.5, Debian's,
 * leaks inside its PCRE2 wrapper on every configuration lookup (fixed
 * upstream in 1.6); wsr's own leaks are still reported. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libpcre2-8.so\n";
}

int main(int argc, char **argv)
{
	/* wsr builds millions of small cJSON nodes and frees them in bulk; with
	 * glibc's fastbins every large allocation after such frees triggers a
	 * consolidation sweep. Without them a 10,000-workspace plan is ~20%
	 * faster (docs/performance.md). */
	mallopt(M_MXFAST, 0);
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0)
		return wsr_cmd_version(1, argv + 1);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "wsr: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 1;
}
