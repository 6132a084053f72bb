/* cmd_state: `wsr state list|show|rm|pull|push|unlock`, the way to look
 * into what wsr recorded, to make it forget a resource without touching
 * the platform, to move a state between backends (pull prints it in the
 * file format, push stores such a file), and to remove a lock on purpose.
 * Reading needs no lock (every backend replaces the state in one step);
 * rm and push lock, read, change and write with the same compare-and-swap
 * as apply. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/diag.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "reconciler/cli.h"
#include "reconciler/commands.h"
#include "reconciler/config.h"
#include "reconciler/state_backend.h"
#include "state/state.h"

typedef struct state_args {
	const char *verb; /* list, show, rm, pull, push, unlock */
	const char *dir;
	int json;
	int force;	      /* push: past the lineage and serial checks; unlock: no question */
	int64_t lock_wait_ms; /* --lock-timeout */
	char **addr;	      /* positional arguments */
	int naddr;
} state_args;

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: wsr state list [--dir DIR] [--json]\n"
	       "       wsr state show ADDRESS [--dir DIR] [--json]\n"
	       "       wsr state rm ADDRESS... [--dir DIR] [--lock-timeout D]\n"
	       "       wsr state pull [--dir DIR] > FILE\n"
	       "       wsr state push FILE [--force] [--dir DIR] [--lock-timeout D]\n"
	       "       wsr state unlock LOCK_ID [--force] [--dir DIR]\n"
	       "\n"
	       "  list    the addresses of the resources wsr manages, one per line\n"
	       "  show    what wsr recorded about one resource\n"
	       "  rm      forget resources: wsr stops managing them, the platform keeps them\n"
	       "  pull    print the whole state in the state file format\n"
	       "  push    replace the stored state with FILE's: it must be the same\n"
	       "          state (lineage) at a newer serial\n"
	       "  unlock  remove the lock LOCK_ID that a run left (shown with it)\n"
	       "\n"
	       "  --dir DIR            the directory holding wsr.yaml (default: .)\n"
	       "  --json               print JSON for machines (list, show)\n"
	       "  --force              push: even another lineage or an older serial;\n"
	       "                       unlock: without asking\n"
	       "  --lock-timeout D     wait this long for a busy lock (default 0: fail at once)\n");
}

/* Returns 0, 1 for --help, or -1 after printing what is wrong. addr must
 * have room for argc entries. */
static int parse_args(state_args *a, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0)
			return 1;
		if (strcmp(s, "--json") == 0)
			a->json = 1;
		else if (strcmp(s, "--force") == 0)
			a->force = 1;
		else if (strcmp(s, "--lock-timeout") == 0 && i + 1 < argc) {
			if (wsr_cli_duration(&a->lock_wait_ms, "lock-timeout", argv[++i]))
				return -1;
		} else if (strncmp(s, "--lock-timeout=", 15) == 0) {
			if (wsr_cli_duration(&a->lock_wait_ms, "lock-timeout", s + 15))
				return -1;
		} else if (strcmp(s, "--dir") == 0 && i + 1 < argc)
			a->dir = argv[++i];
		else if (strncmp(s, "--dir=", 6) == 0)
			a->dir = s + 6;
		else if (s[0] == '-' && s[1]) {
			fprintf(stderr, "wsr state: unknown or incomplete flag '%s'\n", s);
			return -1;
		} else if (!a->verb)
			a->verb = s;
		else
			a->addr[a->naddr++] = argv[i];
	}
	if (!a->verb) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* Loads wsr.yaml from dir and opens the state backend it names. */
static int open_backend(wsr_state_backend **b, const char *dir, wsr_diag *diag)
{
	wsr_config *cfg = NULL;
	*b = NULL;
	int rc = wsr_config_load(&cfg, dir, diag);
	if (rc == 0)
		rc = wsr_state_backend_open(b, cfg, diag);
	wsr_config_free(cfg);
	return rc;
}

static int print_json(cJSON *v)
{
	int rc = wsr_json_fputs(stdout, v);
	cJSON_Delete(v);
	return rc;
}

static int list(const wsr_state *s, const state_args *a)
{
	wsr_state_entry **v = wsr_state_sorted(s);
	if (!v)
		return WSR_ENOMEM;
	cJSON *arr = a->json ? cJSON_CreateArray() : NULL;
	int rc = 0;
	for (size_t i = 0; i < s->n && !rc; i++) {
		if (!a->json) {
			printf("%s\n", v[i]->address);
			continue;
		}
		cJSON *e = wsr_state_entry_to_json(v[i]);
		if (!arr || !e || !cJSON_AddItemToArray(arr, e)) {
			cJSON_Delete(e);
			rc = WSR_ENOMEM;
		}
	}
	free(v);
	if (a->json && !rc)
		return print_json(arr);
	cJSON_Delete(arr);
	return rc;
}

/* Prints v as JSON under a label, two spaces a level. cJSON indents with
 * tabs and puts one after each colon; a tab inside a string is escaped, so
 * every raw tab is formatting. */
static void show_json(const char *label, const cJSON *v)
{
	if (!v)
		return;
	char *text = wsr_json_print(v, 1);
	printf("  %s:\n    ", label);
	int leading = 1; /* in the indentation of a line */
	for (const char *p = text ? text : ""; *p; p++) {
		if (*p == '\t') {
			fputs(leading ? "  " : " ", stdout);
			continue;
		}
		putchar(*p);
		leading = *p == '\n';
		if (leading)
			fputs("    ", stdout);
	}
	putchar('\n');
	free(text);
}

static void show_time(const char *label, int64_t ms)
{
	char buf[40];
	printf("  %-9s %s\n", label, ms ? wsr_time_format(ms, buf, sizeof(buf)) : "(unknown)");
}

static int show(const wsr_state_entry *e, int json)
{
	if (json)
		return print_json(wsr_state_entry_to_json(e));
	printf("%s\n", e->address);
	printf("  %-9s %s\n", "provider:", e->provider ? e->provider : "(unknown)");
	printf("  %-9s %s\n", "kind:", e->kind ? e->kind : "(unknown)");
	printf("  %-9s %s\n", "id:", e->id ? e->id : "(none)");
	if (e->file)
		printf("  %-9s %s:%d\n", "source:", e->file, e->line);
	else
		printf("  %-9s (unknown)\n", "source:");
	show_time("created:", e->created_ms);
	show_time("updated:", e->updated_ms);
	show_json("applied", e->applied);
	show_json("observed", e->observed);
	show_json("labels", e->labels);
	show_json("status", e->status);
	return 0;
}

static int not_found(wsr_diag *diag, const char *address)
{
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, address, NULL,
		     "'wsr state list' shows the addresses in the state", "not in the state");
	return WSR_ENOTFOUND;
}

/* 1 when address i was already given before it. */
static int repeated(const state_args *a, int i)
{
	for (int j = 0; j < i; j++)
		if (strcmp(a->addr[j], a->addr[i]) == 0)
			return 1;
	return 0;
}

/* Every address must be there before anything is removed: a typo in one of
 * several must not leave the state half-changed. */
static int forget(wsr_state_backend *b, const state_args *a, wsr_diag *diag)
{
	wsr_state *s = NULL;
	int rc = b->ops->read(b, &s, diag);
	for (int i = 0; !rc && i < a->naddr; i++)
		if (!wsr_state_find(s, a->addr[i]))
			rc = not_found(diag, a->addr[i]);
	for (int i = 0; !rc && i < a->naddr; i++)
		wsr_state_remove(s, a->addr[i]); /* a repeated address: already gone */
	if (!rc)
		rc = wsr_state_write(b, s, diag);
	wsr_state_free(s);
	if (rc)
		return rc;
	for (int i = 0; i < a->naddr; i++)
		if (!repeated(a, i))
			printf("removed %s from the state\n", a->addr[i]);
	printf("The platform resources are untouched: wsr no longer manages them.\n"
	       "If their specs are still in the source, the next plan will create them again:\n"
	       "remove the specs too, or bring the resources back with 'wsr import'.\n");
	return 0;
}

/* The pushed state must continue the stored one: the same lineage (one
 * state's history) at a newer serial, as Terraform's state push checks.
 * Nothing stored yet accepts any state. */
static int push_refused(const wsr_state *stored, const wsr_state *in, const char *file,
			wsr_diag *diag)
{
	if (stored->serial == 0 && stored->n == 0)
		return 0;
	if (strcmp(stored->lineage, in->lineage) != 0) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL,
			     "a state of another lineage is another state's history: pushing it "
			     "replaces every record of this one",
			     "check FILE is the state you meant; --force replaces the stored state "
			     "anyway",
			     "refusing to push %s: its lineage %s is not the stored state's (%s)",
			     file, in->lineage, stored->lineage);
		return WSR_ECONFLICT;
	}
	if (in->serial <= stored->serial) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL,
			     "an older serial would undo what was written since FILE was pulled",
			     "pull the state again, or --force to store FILE anyway",
			     "refusing to push %s: its serial %lld is not newer than the stored "
			     "serial %lld",
			     file, (long long)in->serial, (long long)stored->serial);
		return WSR_ECONFLICT;
	}
	return 0;
}

static int read_push_file(wsr_state **in, const char *file, wsr_diag *diag)
{
	char *text = NULL;
	size_t len = 0;
	int rc = wsr_fs_read(&text, &len, file, WSR_STATE_MAX_BYTES);
	if (rc) {
		wsr_diag_add(
		    diag, WSR_SEV_ERROR, NULL, NULL, NULL, NULL, "cannot read %s: %s", file,
		    rc == WSR_ELIMIT ? "larger than the state size limit" : wsr_strerror(rc));
		return rc;
	}
	rc = wsr_state_from_json(in, text, len, file, diag);
	free(text);
	return rc;
}

static int push(wsr_state_backend *b, const state_args *a, wsr_diag *diag)
{
	const char *file = a->addr[0];
	wsr_state *in = NULL, *stored = NULL;
	int rc = read_push_file(&in, file, diag);
	if (!rc)
		rc = b->ops->read(b, &stored, diag);
	if (!rc && !a->force)
		rc = push_refused(stored, in, file, diag);
	if (!rc)
		rc = b->ops->store(b, in, stored->lineage, stored->serial, diag);
	if (!rc)
		printf("pushed %s to the %s state: lineage %s, serial %lld, %zu resources\n", file,
		       b->ops->name, in->lineage, (long long)in->serial, in->n);
	wsr_state_free(in);
	wsr_state_free(stored);
	return rc;
}

static int unlock(wsr_state_backend *b, const state_args *a, wsr_diag *diag)
{
	const char *id = a->addr[0];
	wsr_state_lock_info info;
	int rc = b->ops->holder(b, &info, diag);
	if (rc == WSR_ENOTFOUND) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, NULL,
			     "the state is not locked: there is nothing to unlock");
		return rc;
	}
	if (rc)
		return rc;
	char who[512];
	wsr_state_lock_describe(&info, who, sizeof(who));
	if (strcmp(info.id, id) != 0) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL,
			     "wsr state unlock takes the id the lock error printed",
			     "the state is locked under another id: %s", who);
		return WSR_ECONFLICT;
	}
	fprintf(stderr, "The state lock is held by %s.\n", who);
	if (!a->force && !wsr_cli_confirm("unlock",
					  "If that run is still going, removing its lock lets "
					  "another run change the same workspaces at the same "
					  "time.\nDo you really want to remove the lock?",
					  "check the holder has stopped, then pass --force",
					  "Unlock cancelled; the lock is still held."))
		return WSR_EINVAL;
	rc = b->ops->force_unlock(b, id, diag);
	if (!rc)
		printf("removed the state lock %s\n", id);
	return rc;
}

/* The verbs that change the state: under the lock, held only for them. */
static int locked(wsr_state_backend *b, const state_args *a, wsr_diag *diag)
{
	char *command = wsr_strdupf("wsr state %s", a->verb);
	int rc = command ? wsr_state_lock(b, command, a->lock_wait_ms, NULL, diag) : WSR_ENOMEM;
	free(command);
	if (rc)
		return rc;
	rc = strcmp(a->verb, "rm") == 0 ? forget(b, a, diag) : push(b, a, diag);
	b->ops->unlock(b);
	return rc;
}

static int pull(const wsr_state *s)
{
	size_t len = 0;
	char *text = wsr_state_to_json(s, &len);
	if (!text)
		return WSR_ENOMEM;
	int rc = fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : WSR_EIO;
	free(text);
	return rc;
}

static int run(wsr_state_backend *b, const state_args *a, wsr_diag *diag)
{
	if (strcmp(a->verb, "rm") == 0 || strcmp(a->verb, "push") == 0)
		return locked(b, a, diag);
	if (strcmp(a->verb, "unlock") == 0)
		return unlock(b, a, diag);
	wsr_state *s = NULL;
	int rc = b->ops->read(b, &s, diag);
	if (rc)
		return rc;
	if (strcmp(a->verb, "list") == 0) {
		rc = list(s, a);
	} else if (strcmp(a->verb, "pull") == 0) {
		rc = pull(s);
	} else {
		const wsr_state_entry *e = wsr_state_find(s, a->addr[0]);
		rc = e ? show(e, a->json) : not_found(diag, a->addr[0]);
	}
	wsr_state_free(s);
	return rc;
}

/* Returns a message when the verb and its arguments do not fit, else NULL. */
static const char *misuse(const state_args *a)
{
	if (strcmp(a->verb, "list") == 0)
		return a->naddr ? "list takes no address" : NULL;
	if (strcmp(a->verb, "show") == 0)
		return a->naddr != 1 ? "show takes exactly one address" : NULL;
	if (a->force && strcmp(a->verb, "push") != 0 && strcmp(a->verb, "unlock") != 0)
		return "--force is for push and unlock";
	if (strcmp(a->verb, "rm") == 0)
		return !a->naddr ? "rm needs at least one address"
		       : a->json ? "rm has no --json output"
				 : NULL;
	if (strcmp(a->verb, "pull") == 0)
		return a->naddr	 ? "pull takes no argument (it prints the state: > FILE)"
		       : a->json ? "pull prints the state file format, which is JSON already"
				 : NULL;
	if (strcmp(a->verb, "push") == 0)
		return a->naddr != 1 ? "push takes exactly one FILE"
		       : a->json     ? "push has no --json output"
				     : NULL;
	if (strcmp(a->verb, "unlock") == 0)
		return a->naddr != 1 ? "unlock takes exactly one LOCK_ID"
		       : a->json     ? "unlock has no --json output"
				     : NULL;
	return "unknown subcommand (list, show, rm, pull, push or unlock)";
}

int wsr_cmd_state(int argc, char **argv)
{
	state_args a = {.dir = "."};
	a.addr = calloc((size_t)argc + 1, sizeof(*a.addr));
	if (!a.addr)
		return 1;
	int rc = parse_args(&a, argc, argv);
	const char *bad = rc == 0 ? misuse(&a) : NULL;
	if (rc || bad) {
		if (rc > 0)
			usage(stdout);
		else if (bad)
			fprintf(stderr, "wsr state %s: %s\n", a.verb, bad);
		free(a.addr);
		return rc > 0 ? 0 : 1;
	}
	wsr_diag diag;
	wsr_diag_init(&diag);
	wsr_state_backend *b = NULL;
	rc = open_backend(&b, a.dir, &diag);
	if (!rc)
		rc = run(b, &a, &diag);
	if (rc == WSR_ENOMEM)
		fprintf(stderr, "wsr state: out of memory\n");
	wsr_diag_print(&diag, stderr, wsr_use_color(stderr));
	wsr_diag_free(&diag);
	if (b)
		b->ops->free(b);
	free(a.addr);
	return rc ? 1 : 0;
}
