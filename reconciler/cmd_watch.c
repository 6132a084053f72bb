/* cmd_watch: `wsr watch` — its flags; the daemon is reconciler/watch.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "reconciler/commands.h"
#include "reconciler/watch.h"

static const char usage[] =
    "usage: wsr watch [DIR] [flags]\n"
    "       wsr watch --git URL [--ref REF] [--path SUBDIR] [flags]\n"
    "Keeps the platforms converged with a directory or a Git repository.\n\n"
    "  --git URL              follow this repository (file://, git://, https://, ssh://)\n"
    "  --ref REF              branch, tag or commit (default: the remote's default branch)\n"
    "  --path SUBDIR          the specs' directory inside the repository\n"
    "  --config FILE          wsr.yaml to use (default: DIR/wsr.yaml; with --git ./wsr.yaml)\n"
    "  --interval DURATION    fetch and drift check interval, e.g. 30s, 5m (default 5m)\n"
    "  --listen ADDR:PORT     health, status, metrics and webhook endpoints, or off\n"
    "                         (default 127.0.0.1:9464)\n"
    "  --once                 one reconcile, then exit: 0 no changes, 2 changes, 1 error\n"
    "  --prune                delete workspaces no longer in the specs\n"
    "  --allow-replace        allow replacing workspaces (deletes them first)\n"
    "  --parallelism N        workspaces changed at once (default: config, 8)\n"
    "  --log-format text|json how events are written on stderr (default text)\n";

enum {
	O_GIT = 256,
	O_REF,
	O_PATH,
	O_CONFIG,
	O_INTERVAL,
	O_LISTEN,
	O_ONCE,
	O_PRUNE,
	O_REPLACE,
	O_PAR,
	O_LOG
};

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "error: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage);
	return 1;
}

/* Tests move time: WSR_CLOCK_FILE names a file holding an RFC 3339 time
 * that is "now" for maintenance windows and backoff (docs/operations.md). */
static const char *clock_file;

static int64_t file_clock(void)
{
	char buf[64] = "";
	FILE *f = fopen(clock_file, "r");
	int64_t ms = 0;
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			buf[strcspn(buf, "\r\n")] = '\0';
		fclose(f);
	}
	if (!buf[0] || wsr_time_parse(&ms, buf) != 0) {
		wsr_clock_set(NULL);
		ms = wsr_clock_now_ms();
		wsr_clock_set(file_clock);
	}
	return ms;
}

int wsr_cmd_watch(int argc, char **argv)
{
	static const struct option opts[] = {{"git", required_argument, NULL, O_GIT},
					     {"ref", required_argument, NULL, O_REF},
					     {"path", required_argument, NULL, O_PATH},
					     {"config", required_argument, NULL, O_CONFIG},
					     {"interval", required_argument, NULL, O_INTERVAL},
					     {"listen", required_argument, NULL, O_LISTEN},
					     {"once", no_argument, NULL, O_ONCE},
					     {"prune", no_argument, NULL, O_PRUNE},
					     {"allow-replace", no_argument, NULL, O_REPLACE},
					     {"parallelism", required_argument, NULL, O_PAR},
					     {"log-format", required_argument, NULL, O_LOG},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	wsr_watch_opts o = {0};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end = NULL;
		long n;
		switch (c) {
		case O_GIT:
			o.git_url = optarg;
			break;
		case O_REF:
			o.git_ref = optarg;
			break;
		case O_PATH:
			o.git_path = optarg;
			break;
		case O_CONFIG:
			o.config_file = optarg;
			break;
		case O_INTERVAL:
			if (wsr_clock_duration(&o.interval_ms, optarg) || o.interval_ms <= 0)
				return bad("--interval wants a duration like 30s or 5m, got '%s'",
					   optarg);
			break;
		case O_LISTEN:
			o.listen = optarg;
			break;
		case O_ONCE:
			o.once = 1;
			break;
		case O_PRUNE:
			o.prune = 1;
			break;
		case O_REPLACE:
			o.allow_replace = 1;
			break;
		case O_PAR:
			n = strtol(optarg, &end, 10);
			if (!*optarg || *end || n < 1 || n > 256)
				return bad("--parallelism wants a number from 1 to 256, got '%s'",
					   optarg);
			o.parallelism = (int)n;
			break;
		case O_LOG:
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
				return bad("--log-format is text or json, not '%s'", optarg);
			o.log_json = strcmp(optarg, "json") == 0;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 1;
		}
	}
	if (optind < argc - 1)
		return bad("one directory at most, got '%s' too", argv[optind + 1]);
	if (optind < argc) {
		if (o.git_url)
			return bad("a directory and --git cannot be followed at once ('%s')",
				   argv[optind]);
		o.dir = argv[optind];
	}
	if (!o.git_url && (o.git_ref || o.git_path))
		return bad("%s", "--ref and --path go with --git");
	if ((clock_file = getenv("WSR_CLOCK_FILE")) && *clock_file)
		wsr_clock_set(file_clock);
	return wsr_watch_run(&o);
}
