/* wsr-sim: serves an emulated platform API on the loopback interface for
 * tests, benchmarks and demos. Signals only set a flag; the main thread
 * waits for it with sigsuspend while libmicrohttpd's threads serve. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/server.h"
#include "sim/sim.h"

#define EXIT_USAGE 2

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fputs("usage: wsr-sim serve [--api loopback|kcp] [--listen HOST:PORT] [--seed FILE]\n"
	      "                     [--data DIR] [--tls-cert FILE --tls-key FILE]\n"
	      "                    "
	      " [--quiet] [--allow-remote]\n"
	      "\n"
	      "Serves an emulated platform API until SIGINT or SIGTERM, and prints\n"
	      "\"listening on http://HOST:PORT\" once it accepts requests.\n"
	      "\n"
	      "  --api NAME        the platform to emulate: loopback (default; "
	      "docs/api/loopback.md)\n"
	      "                    or kcp (docs/api/kcp.md)\n"
	      "  --listen HOST:PORT  address to bind (default 127.0.0.1:0; port 0 picks a free "
	      "one);\n"
	      "                    only loopback addresses unless --allow-remote\n"
	      "  --seed FILE       YAML seed used when DIR is empty (default: the API's built-in\n"
	      "                    seed; the formats are in docs/sim.md)\n"
	      "  --data DIR        where the platform's data persists (default: memory only)\n"
	      "  --tls-cert FILE   serve HTTPS with this PEM certificate (and --tls-key FILE,\n"
	      "                    its PEM key); kubectl sends its token only over HTTPS\n"
	      "  --quiet           no request log on stderr\n"
	      "  --allow-remote    permit a non-loopback --listen address\n",
	      f);
}

enum {
	OPT_API = 1,
	OPT_LISTEN,
	OPT_SEED,
	OPT_DATA,
	OPT_QUIET,
	OPT_REMOTE,
	OPT_HELP,
	OPT_TLS_CERT,
	OPT_TLS_KEY
};

static const struct option options[] = {
    {"api", required_argument, NULL, OPT_API},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"seed", required_argument, NULL, OPT_SEED},
    {"data", required_argument, NULL, OPT_DATA},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"allow-remote", no_argument, NULL, OPT_REMOTE},
    {"help", no_argument, NULL, OPT_HELP},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {NULL, 0, NULL, 0},
};

/* Fills opts from argv after "serve"; returns -1 on a usage error, 1 for --help. */
static int parse(wsr_sim_opts *o, int *remote, int argc, char **argv)
{
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case OPT_API:
			o->api = optarg;
			break;
		case OPT_LISTEN:
			o->listen = optarg;
			break;
		case OPT_SEED:
			o->seed_file = optarg;
			break;
		case OPT_DATA:
			o->data_dir = optarg;
			break;
		case OPT_QUIET:
			o->quiet = 1;
			break;
		case OPT_REMOTE:
			*remote = 1;
			break;
		case OPT_TLS_CERT:
			o->tls_cert_file = optarg;
			break;
		case OPT_TLS_KEY:
			o->tls_key_file = optarg;
			break;
		case OPT_HELP:
			return 1;
		default:
			fprintf(stderr, "wsr-sim: unknown or incomplete option %s\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "wsr-sim: unexpected argument %s\n", argv[optind]);
		return -1;
	}
	return 0;
}

static int serve(const wsr_sim_opts *o, int remote)
{
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	/* blocked before the server's threads exist, so only this thread gets them */
	pthread_sigmask(SIG_BLOCK, &block, &old);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	wsr_sim *s;
	char *err = NULL;
	if (wsr_sim_serve(&s, o, remote, &err)) {
		fprintf(stderr, "wsr-sim: %s\n", err ? err : "cannot start");
		free(err);
		return 1;
	}
	printf("listening on %s\n", wsr_sim_url(s));
	fflush(stdout);
	while (!stop)
		sigsuspend(&old);
	wsr_sim_stop(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "serve") != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	wsr_sim_opts o = WSR_SIM_OPTS_INIT;
	o.quiet = 0;
	int remote = 0;
	int rc = parse(&o, &remote, argc - 1, argv + 1);
	if (rc) {
		usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? 0 : EXIT_USAGE;
	}
	return serve(&o, remote);
}
