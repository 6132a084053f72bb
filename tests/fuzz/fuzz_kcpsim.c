/* fuzz_kcpsim: the kcp emulator reading what a client sends. Most inputs
 * are one request to the emulator's real handler (wsr_kcpsim_handle),
 * called as sim/server.c calls it but without a server, on a fresh
 * in-memory server of the built-in seed that already has workspace w: the
 * Workspace bodies of a create and a PUT (sim/kcp/ws_write.c, admission.c),
 * a status PUT, DeleteOptions, both PATCH kinds (sim/kcp/patch.c: a merge
 * patch, and a JSON patch through sim/jsonpatch.c), an access review, and a
 * list's ?labelSelector= (sim/kcp/selector.c). Afterwards the workspaces
 * are listed, so whatever a body made the emulator store is printed too.
 * Three take the bytes themselves: the seed reader (sim/kcp/seed.c), the
 * selector parser with its matching, and JSON patch on a document of the
 * input's own (the rest split at a line "---" into document and patch).
 *
 * The first byte chooses (OPS below; another byte picks OPS[byte % n]).
 * Real bodies, selectors, patches and seeds are in
 * tests/fixtures/fuzz/kcpsim/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "sim/jsonpatch.h"
#include "sim/kcp/kcpsim.h"
#include "sim/kcp/seed.h"
#include "sim/kcp/selector.h"
#include "sim/server.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/sim_answer.h"

#define WS "/clusters/root/apis/tenancy.kcp.io/v1alpha1/workspaces"
/* The separator line of a JSON patch input: document, then patch. */
#define SEPARATOR "\n---\n"
/* Workspace w, which the PUT, PATCH, status and delete bodies go to. */
#define W_BODY                                                                                     \
	"{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\",\"metadata\":{"        \
	"\"name\":\"w\",\"labels\":{\"env\":\"prod\",\"tier\":\"2\"}},\"spec\":{\"type\":{"        \
	"\"name\":\"universal\",\"path\":\"root\"}}}"

typedef enum { K_API, K_LIST, K_SEED, K_SELECTOR, K_PATCH } kcpsim_kind;
static const struct {
	char key;
	kcpsim_kind kind;
	const char *method, *path, *ctype;
} OPS[] = {
    {'c', K_API, "POST", WS, "application/json"},
    {'u', K_API, "PUT", WS "/w", "application/json"},
    {'m', K_API, "PATCH", WS "/w", "application/merge-patch+json"},
    {'j', K_API, "PATCH", WS "/w", "application/json-patch+json"},
    {'s', K_API, "PUT", WS "/w/status", "application/json"},
    {'d', K_API, "DELETE", WS "/w", "application/json"},
    {'a', K_API, "POST", "/clusters/root/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
     "application/json"},
    {'l', K_LIST, "GET", WS, NULL},
    {'S', K_SEED, NULL, NULL, NULL},
    {'L', K_SELECTOR, NULL, NULL, NULL},
    {'J', K_PATCH, NULL, NULL, NULL},
};

/* One request to k as the built-in administrator; the answer is dropped. */
static void request(wsr_kcpsim *k, const char *method, const char *path, const char *ctype,
		    const char *const *query, const char *body, size_t len)
{
	const char *headers[] = {"Authorization", "Bearer " WSR_KCPSIM_BUILTIN_TOKEN,
				 "Content-Type", ctype ? ctype : "application/json", NULL};
	wsr_sim_req req = {method, path, body, len, NULL, headers, query};
	wsr_sim_resp resp = {0};
	wsr_kcpsim_handle(k, &req, &resp);
	sim_answered(&resp, method, path);
}

static void run_api(size_t which, const char *body, size_t len)
{
	wsr_kcpsim *k = NULL;
	char *err = NULL;
	if (wsr_kcpsim_open(&k, NULL, NULL, &err) == 0) {
		wsr_kcpsim_set_url(k, "https://kcp.invalid");
		request(k, "POST", WS, NULL, NULL, W_BODY, strlen(W_BODY));
		if (OPS[which].kind == K_LIST) {
			const char *query[] = {"labelSelector", body, NULL};
			request(k, "GET", WS, NULL, query, "", 0);
		} else {
			request(k, OPS[which].method, OPS[which].path, OPS[which].ctype, NULL, body,
				len);
		}
		request(k, "GET", WS, NULL, NULL, "", 0); /* what it stored, printed */
		wsr_kcpsim_free(k);
	}
	free(err);
}

/* The text up to the separator is the label selector, the rest the field
 * selector; each is matched against a few workspaces. */
static void run_selector(char *text)
{
	static const char *const labels[] = {"{}", "{\"env\":\"prod\",\"tier\":\"2\"}",
					     "{\"env\":\"dev\",\"a.b/c\":\"x\"}"};
	char *sep = strstr(text, SEPARATOR), why[WSR_KCPSIM_SELECTOR_WHY];
	if (sep)
		*sep = '\0';
	wsr_kcpsim_selector *sel = malloc(sizeof(*sel)), *copy = malloc(sizeof(*copy));
	if (sel && copy &&
	    wsr_kcpsim_selector_parse(sel, text, sep ? sep + strlen(SEPARATOR) : NULL, why) == 0) {
		wsr_kcpsim_selector_copy(copy, sel);
		for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
			cJSON *l = cJSON_Parse(labels[i]);
			(void)wsr_kcpsim_selector_match(copy, "w", l);
			cJSON_Delete(l);
		}
	} else if (sel && copy && sim_tracing()) {
		fprintf(stderr, "selector: %s\n", why);
	}
	free(sel);
	free(copy);
}

/* Document, separator, patch: the patch applied to the document. */
static void run_patch(const char *text, size_t len)
{
	const char *sep = memmem(text, len, SEPARATOR, strlen(SEPARATOR));
	cJSON *doc = NULL, *patch = NULL;
	char *err = NULL, why[WSR_SIM_JSONPATCH_WHY];
	if (!sep)
		return;
	size_t dl = (size_t)(sep - text), skip = dl + strlen(SEPARATOR);
	if (wsr_json_parse(&doc, text, dl, &err) == 0 &&
	    wsr_json_parse(&patch, text + skip, len - skip, &err) == 0) {
		int rc = wsr_sim_json_patch(&doc, patch, why);
		char *out = cJSON_PrintUnformatted(doc);
		if (sim_tracing())
			fprintf(stderr, "patch: %d %s\n", rc, rc ? why : out);
		free(out);
	}
	free(err);
	cJSON_Delete(doc);
	cJSON_Delete(patch);
}

static int fuzz_kcpsim(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t which = WSR_FUZZ_PICK(data[0], OPS);
	char *text = sim_text(data, size);
	if (!text)
		return 0;
	cJSON *seed = NULL;
	char *err = NULL;
	if (OPS[which].kind == K_SEED) {
		if (wsr_kcpsim_seed_parse(&seed, "seed.yaml", text, size - 1, &err) &&
		    sim_tracing())
			fprintf(stderr, "seed: %s\n", err ? err : "?");
	} else if (OPS[which].kind == K_SELECTOR) {
		run_selector(text);
	} else if (OPS[which].kind == K_PATCH) {
		run_patch(text, size - 1);
	} else {
		run_api(which, text, size - 1);
	}
	cJSON_Delete(seed);
	free(err);
	free(text);
	return 0;
}
WSR_FUZZ_TARGET(fuzz_kcpsim)
