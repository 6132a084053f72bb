/* cmd_kcp: `wsr kcp <subcommand>`, questions about the kcp platform that
 * need no platform: today `home-path`, which prints where kcp puts users'
 * home workspaces (providers/kcp/home.h holds the rule). Its own file
 * because it is outside the planning flow and has flags of its own.
 *
 * Output is all or nothing: one path a line, in the order of the USER
 * arguments, or, when any USER is refused, nothing on stdout and every
 * refusal on stderr, so a script never pairs a line with the wrong user. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/diag.h"
#include "lib/err.h"
#include "lib/json.h"
#include "providers/kcp/home.h"
#include "reconciler/commands.h"

static const char usage[] =
    "usage: wsr kcp home-path [--prefix P] [--depth D] [--length L] [--json] [--] USER...\n"
    "Prints the path of each USER's home workspace on kcp, one a line:\n"
    "<prefix>:<bucket>...:<name>, buckets derived from the SHA-1 of the user name.\n"
    "Contacts nothing.\n\n"
    "  --prefix P   the workspace holding the homes (default: root:users)\n"
    "  --depth D    bucket levels (default: 2)\n"
    "  --length L   characters per bucket name (default: 2)\n"
    "               valid: length 2 depth 2, length 1 depth 3 or 4\n"
    "  --json       print {\"paths\": [...]} in the order of the users\n"
    "  --           ends the flags (for a user name starting with '-')\n";

/* A whole decimal int, or -1 with a message. */
static int parse_int(int *out, const char *flag, const char *arg)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (end == arg || *end || errno || v < INT_MIN || v > INT_MAX) {
		fprintf(stderr, "wsr kcp home-path: --%s wants a whole number, got '%.40s'\n", flag,
			arg);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* Parses the flags into opts and *json; returns 1 for --help, -1 for bad
 * flags (message printed), 0 otherwise with optind at the first USER. */
static int parse(wsr_kcp_home_opts *opts, int *json, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"prefix", required_argument, NULL, 'p'}, {"depth", required_argument, NULL, 'd'},
	    {"length", required_argument, NULL, 'l'}, {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},	      {0},
	};
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return 1;
		case 'p':
			opts->prefix = optarg;
			break;
		case 'd':
			if (parse_int(&opts->depth, "depth", optarg))
				return -1;
			break;
		case 'l':
			if (parse_int(&opts->length, "length", optarg))
				return -1;
			break;
		case 'j':
			*json = 1;
			break;
		default:
			fprintf(stderr, "wsr kcp home-path: unknown or incomplete flag '%.40s'\n%s",
				argv[optind - 1], usage);
			return -1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "wsr kcp home-path: no USER given\n%s", usage);
		return -1;
	}
	return 0;
}

/* Computes every path into paths[]; errors for every refused user go into diag. */
static int compute(char **paths, const wsr_kcp_home_opts *opts, char **users, int n, wsr_diag *diag)
{
	/* a bad configuration is reported once, not once per user */
	if (wsr_kcp_home_opts_check(diag, NULL, opts))
		return WSR_EINVAL;
	int rc = 0;
	for (int i = 0; i < n && rc != WSR_ENOMEM; i++) {
		int r = wsr_kcp_home_path(&paths[i], opts, users[i], diag);
		if (r && (!rc || r == WSR_ENOMEM))
			rc = r;
	}
	return rc;
}

static int print(char **paths, int n, int json)
{
	if (!json) {
		for (int i = 0; i < n; i++)
			printf("%s\n", paths[i]);
		return 0;
	}
	cJSON *doc = cJSON_CreateObject();
	cJSON *list = doc ? cJSON_AddArrayToObject(doc, "paths") : NULL;
	int rc = list ? 0 : WSR_ENOMEM;
	for (int i = 0; i < n && !rc; i++) {
		cJSON *s = cJSON_CreateString(paths[i]);
		if (!s || !cJSON_AddItemToArray(list, s))
			rc = WSR_ENOMEM;
	}
	if (!rc)
		rc = wsr_json_fputs(stdout, doc);
	cJSON_Delete(doc);
	return rc;
}

static int home_path(int argc, char **argv)
{
	wsr_kcp_home_opts opts = WSR_KCP_HOME_OPTS_INIT;
	int json = 0;
	int rc = parse(&opts, &json, argc, argv);
	if (rc)
		return rc > 0 ? 0 : 1;
	int n = argc - optind;
	char **paths = calloc((size_t)n, sizeof(*paths));
	if (!paths) {
		fprintf(stderr, "wsr kcp home-path: out of memory\n");
		return 1;
	}
	wsr_diag diag;
	wsr_diag_init(&diag);
	rc = compute(paths, &opts, argv + optind, n, &diag);
	if (!rc)
		rc = print(paths, n, json);
	if (rc == WSR_ENOMEM)
		fprintf(stderr, "wsr kcp home-path: out of memory\n");
	wsr_diag_print(&diag, stderr, wsr_use_color(stderr));
	wsr_diag_free(&diag);
	for (int i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return rc ? 1 : 0;
}

int wsr_cmd_kcp(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "wsr kcp: no subcommand given\n%s", usage);
		return 1;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "home-path") == 0)
		return home_path(argc - 1, argv + 1);
	fprintf(stderr, "wsr kcp: unknown subcommand '%.40s' (home-path)\n%s", argv[1], usage);
	return 1;
}
