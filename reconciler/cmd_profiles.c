/* cmd_profiles: `wsr profiles ADDRESS [PATH]` — the compute profiles a
 * workspace can use, with their prices: a table for people, the provider's
 * document as is with --json. A question to the platform about one existing
 * workspace, outside the planning flow, so it has its own file; it changes
 * nothing and takes no lock.
 *
 * The workspace is read first (the provider's `read`): that tells "not on
 * the platform" apart from a refusal of the profiles request, and lets the
 * message say when the address is only in the specs and must be applied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/err.h"
#include "lib/json.h"
#include "providers/provider.h"
#include "reconciler/cli.h"
#include "reconciler/commands.h"
#include "reconciler/config.h"
#include "reconciler/engine.h"
#include "reconciler/load.h"

/* Widest a platform-supplied value is shown in a table cell (the last
 * column, the reason a profile is unavailable, gets UNAVAILABLE_MAX). */
#define CELL_MAX 40
#define UNAVAILABLE_MAX 200

static const char usage[] =
    "usage: wsr profiles ADDRESS [PATH] [--json] [--timeout DURATION]\n"
    "Shows the compute profiles the workspace at ADDRESS can use, with their prices.\n"
    "The workspace must exist on the platform. Changes nothing.\n\n"
    "  ADDRESS   loopback/<organization>/<workspace>\n"
    "  PATH      the spec directory holding wsr.yaml (default: .)\n"
    "  --timeout DURATION  give up talking to the platform after this long\n"
    "            (default 5m; 0: never)\n"
    "  --json    print the provider's document: {\"address\", \"computeProvider\",\n"
    "            \"profiles\": [{\"name\", \"serverType\", \"cpu\", \"memoryGiB\", \"available\",\n"
    "            \"unavailableReason\", \"prices\", \"priceSource\"}]}\n";

enum { C_NAME, C_TYPE, C_CPU, C_MEM, C_SETUP, C_HOURLY, C_MONTHLY, C_CUR, C_NOTE, NCOLS };

static const char *const heads[NCOLS] = {"NAME",   "SERVER TYPE", "CPU",      "MEMORY", "SETUP",
					 "HOURLY", "MONTHLY",	  "CURRENCY", "NOTES"};
/* numbers are right-aligned so their digits line up */
static const int right[NCOLS] = {0, 0, 1, 1, 1, 1, 1, 0, 0};

/* Platform text for a terminal: control bytes become '?', at most max bytes. */
static char *cell(const char *s, size_t max)
{
	wsr_buf b = WSR_BUF_INIT;
	size_t i = 0;
	for (; s && i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		wsr_buf_putc(&b, c < 0x20 || c == 0x7f ? '?' : (char)c);
	}
	if (s && s[i])
		wsr_buf_puts(&b, "...");
	if (!b.len)
		wsr_buf_puts(&b, "-");
	return wsr_buf_detach(&b);
}

static char *number_cell(const cJSON *obj, const char *key, const char *unit)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!cJSON_IsNumber(v))
		return cell(NULL, 0);
	return wsr_strdupf("%g%s", v->valuedouble, unit);
}

/* One row of the table; every cell is a new string. */
static int row(char *cells[NCOLS], const cJSON *p)
{
	const cJSON *prices = wsr_json_obj(p, "prices");
	const char *source = wsr_json_str(p, "priceSource");
	cells[C_NAME] = cell(wsr_json_str(p, "name"), CELL_MAX);
	cells[C_TYPE] = cell(wsr_json_str(p, "serverType"), CELL_MAX);
	cells[C_CPU] = number_cell(p, "cpu", "");
	cells[C_MEM] = number_cell(p, "memoryGiB", " GiB");
	cells[C_SETUP] = cell(wsr_json_str(prices, "setup"), CELL_MAX);
	cells[C_HOURLY] = cell(wsr_json_str(prices, "hourly"), CELL_MAX);
	cells[C_MONTHLY] = cell(wsr_json_str(prices, "monthly"), CELL_MAX);
	cells[C_CUR] = cell(wsr_json_str(prices, "currency"), CELL_MAX);
	wsr_buf note = WSR_BUF_INIT;
	if (source && strcmp(source, "override") == 0)
		wsr_buf_puts(&note, "override");
	if (!wsr_json_bool(p, "available", 1)) {
		char *why = cell(wsr_json_str(p, "unavailableReason"), UNAVAILABLE_MAX);
		wsr_buf_printf(&note, "%sunavailable: %s", note.len ? "; " : "", why ? why : "");
		free(why);
	}
	cells[C_NOTE] = wsr_buf_failed(&note) ? NULL : strdup(wsr_buf_str(&note));
	wsr_buf_free(&note);
	for (int c = 0; c < NCOLS; c++)
		if (!cells[c])
			return WSR_ENOMEM;
	return 0;
}

static void print_row(char *const cells[NCOLS], const size_t width[NCOLS])
{
	wsr_buf line = WSR_BUF_INIT;
	for (int c = 0; c < NCOLS; c++) {
		int w = (int)width[c];
		if (c == NCOLS - 1)
			wsr_buf_puts(&line, cells[c]);
		else if (right[c])
			wsr_buf_printf(&line, "%*s  ", w, cells[c]);
		else
			wsr_buf_printf(&line, "%-*s  ", w, cells[c]);
	}
	/* a row without notes must not end in blanks */
	while (line.len && line.data[line.len - 1] == ' ')
		line.data[--line.len] = '\0';
	printf("%s\n", wsr_buf_str(&line));
	wsr_buf_free(&line);
}

static int print_table(const cJSON *doc, const char *address)
{
	const cJSON *list = wsr_json_arr(doc, "profiles"), *p;
	const char *cp = wsr_json_str(doc, "computeProvider");
	char *provider = cell(cp, CELL_MAX);
	if (!provider)
		return WSR_ENOMEM;
	int n = cJSON_GetArraySize(list);
	printf("%s: compute provider %s, %d profile%s\n", address, provider, n, n == 1 ? "" : "s");
	free(provider);
	if (!n)
		return 0;
	char *(*cells)[NCOLS] = calloc((size_t)n, sizeof(*cells));
	if (!cells)
		return WSR_ENOMEM;
	size_t width[NCOLS];
	for (int c = 0; c < NCOLS; c++)
		width[c] = strlen(heads[c]);
	int i = 0, rc = 0;
	cJSON_ArrayForEach(p, list)
	{
		if (!rc)
			rc = row(cells[i], p);
		for (int c = 0; c < NCOLS && !rc; c++)
			if (strlen(cells[i][c]) > width[c])
				width[c] = strlen(cells[i][c]);
		i++;
	}
	if (!rc) {
		putchar('\n');
		print_row((char *const *)heads, width);
		for (i = 0; i < n; i++)
			print_row(cells[i], width);
	}
	for (i = 0; i < n; i++)
		for (int c = 0; c < NCOLS; c++)
			free(cells[i][c]);
	free(cells);
	return rc;
}

/* The address is not on the platform: say whether it is waiting in the
 * specs (then it needs an apply) or unknown. Spec problems are not this
 * command's business, so they are not reported. */
static int not_on_platform(const char *address, const char *dir, wsr_diag *diag)
{
	wsr_resource_set desired = WSR_RESOURCE_SET_INIT;
	wsr_diag ignored = WSR_DIAG_INIT;
	wsr_load_dir(dir, NULL, &desired, &ignored);
	wsr_diag_free(&ignored);
	const wsr_resource *d = wsr_resource_set_find(&desired, address);
	if (d)
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, address, NULL,
			     "compute profiles come from the platform: run 'wsr apply' first",
			     "%s is only in the specs (%s:%d), not on the platform yet: it must "
			     "be applied first",
			     address, d->file ? d->file : "?", d->line);
	else
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, address, NULL,
			     "check the organization and the workspace's name",
			     "%s does not exist on the platform", address);
	wsr_resource_set_free(&desired);
	return WSR_ENOTFOUND;
}

/* Reads the workspace, then its profiles into *doc. */
static int fetch(cJSON **doc, wsr_engine_provider *ep, const char *address, const char *dir,
		 wsr_diag *diag)
{
	wsr_resource *r = NULL;
	size_t before = wsr_diag_errors(diag);
	int rc = ep->ops->read(ep->p, address, &r, diag);
	int found = r != NULL;
	wsr_resource_free(r);
	if (!rc && !found)
		return not_on_platform(address, dir, diag);
	if (!rc)
		rc = ep->ops->profiles(ep->p, address, doc, diag);
	if (!rc && !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(*doc, "profiles"))) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, address, NULL, NULL,
			     "the %s provider's profiles document has no \"profiles\" list",
			     ep->name);
		rc = WSR_EAPI;
	}
	if (rc && wsr_diag_errors(diag) == before)
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, address, NULL, NULL,
			     "cannot read its compute profiles: %s", wsr_strerror(rc));
	return rc;
}

static int profiles(const char *address, const char *dir, int json, const wsr_deadline *deadline,
		    wsr_diag *diag)
{
	const wsr_provider_ops *ops = wsr_provider_for_address(address, diag);
	if (!ops)
		return WSR_EINVAL;
	if (!ops->profiles || !ops->read) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, address, NULL, NULL,
			     "the %s provider has no compute profiles", ops->name);
		return WSR_EINVAL;
	}
	wsr_config *cfg = NULL;
	int rc = wsr_config_load(&cfg, dir, diag);
	wsr_engine *e = NULL;
	if (!rc && !(rc = wsr_engine_new(&e, cfg, diag)))
		e->deadline = *deadline;
	wsr_engine_provider *ep = NULL;
	if (!rc)
		rc = wsr_engine_provider_open(e, ops->name, &ep, diag);
	cJSON *doc = NULL;
	if (!rc)
		rc = fetch(&doc, ep, address, dir, diag);
	if (!rc && json) {
		rc = wsr_json_fputs(stdout, doc);
	} else if (!rc) {
		rc = print_table(doc, address);
	}
	cJSON_Delete(doc);
	wsr_engine_free(e);
	return rc;
}

int wsr_cmd_profiles(int argc, char **argv)
{
	return wsr_cli_run_address(argc, argv, usage, profiles);
}
