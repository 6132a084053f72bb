/* fuzz_lbsim: the Loopback emulator reading what a client sends. Each input
 * is one request to the emulator's real handler (wsr_lbsim_handle, or
 * wsr_lbsim_handle_sim for /_sim/), called as sim/server.c calls it but
 * without a server, on a fresh in-memory platform of the built-in seed:
 * the body parsers of sim/loopback/body.c behind a create and a PATCH, the
 * upgrade and transfer bodies of ws_ops.c, the fault bodies of faults.c,
 * the /_sim/ merge patch of simonly.c. Afterwards the workspaces are
 * listed, so whatever a body made the emulator store is also printed. The
 * seed reader (sim/loopback/seed.c) gets the bytes as a seed file.
 *
 * The first byte chooses (OPS below; another byte picks OPS[byte % n]); the
 * rest is the body (or the seed). Real bodies and seeds are in
 * tests/fixtures/fuzz/lbsim/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "sim/loopback/body.h"
#include "sim/loopback/lbsim.h"
#include "sim/loopback/seed.h"
#include "sim/loopback/store.h"
#include "sim/server.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/sim_answer.h"

#define WS "/v1/organizations/acme/workspaces"
/* The workspace the PATCH, upgrade and transfer bodies go to. */
#define WEB_BODY                                                                                   \
	"{\"name\":\"web\",\"project\":\"payments\",\"type\":\"kubernetes\",\"kubernetes\":{"      \
	"\"version\":\"1.29.4\"}}"

static const char *const HEADERS[] = {"Authorization", "Bearer " WSR_LBSIM_BUILTIN_KEY,
				      "Idempotency-Key", "fuzz-1", NULL};

typedef enum { K_API, K_SIM, K_SEED, K_BODY } lbsim_kind;
static const struct {
	char key;
	lbsim_kind kind;
	const char *method, *path;
} OPS[] = {
    {'c', K_API, "POST", WS},
    {'p', K_API, "PATCH", WS "/web"},
    {'g', K_API, "POST", WS "/web/upgrade"},
    {'t', K_API, "POST", WS "/web/transfer"},
    {'f', K_SIM, "POST", "/_sim/faults"},
    {'s', K_SIM, "PATCH", "/_sim/organizations/acme/workspaces/web"},
    {'S', K_SEED, NULL, NULL},
    {'m', K_BODY, NULL, NULL}, /* a create body as a member (not admin) sends it */
};

/* One request to l; the answer is dropped (only a crash or leak counts). */
static void request(wsr_lbsim *l, int sim, const char *method, const char *path, const char *body,
		    size_t len)
{
	wsr_sim_req req = {method, path, body, len, NULL, HEADERS, NULL};
	wsr_sim_resp resp = {0};
	(sim ? wsr_lbsim_handle_sim : wsr_lbsim_handle)(l, &req, &resp);
	sim_answered(&resp, method, path);
}

/* The built-in seed's platform in memory, provisioning at once, so that web
 * is active when the bodies for it arrive. */
static wsr_lbsim *platform(void)
{
	cJSON *p = NULL;
	char *err = NULL;
	wsr_lbsim_store *s = NULL;
	wsr_lbsim *l = NULL;
	int rc = wsr_lbsim_seed_load(&p, NULL, &err);
	free(err);
	if (!rc)
		cJSON_ReplaceItemInObject(cJSON_GetObjectItem(p, "provisioning"), "seconds",
					  cJSON_CreateNumber(0));
	if (rc || wsr_lbsim_store_new(&s, p, NULL) != 0) {
		cJSON_Delete(p);
		return NULL;
	}
	if (wsr_lbsim_new(&l, s) != 0)
		wsr_lbsim_store_free(s);
	return l;
}

static void run_api(size_t which, const char *body, size_t len)
{
	wsr_lbsim *l = NULL;
	if ((l = platform())) {
		if (strcmp(OPS[which].path, WS) != 0)
			request(l, 0, "POST", WS, WEB_BODY, strlen(WEB_BODY));
		request(l, OPS[which].kind == K_SIM, OPS[which].method, OPS[which].path, body, len);
		request(l, 0, "GET", WS, "", 0); /* what it stored, printed */
		wsr_lbsim_free(l);
	}
}

static void run_body(const char *body, size_t len)
{
	cJSON *in = NULL, *ws = NULL;
	char why[WSR_LBSIM_WHY_MAX], *err = NULL;
	if (wsr_json_parse(&in, body, len, &err) == 0 &&
	    wsr_lbsim_body_create(&ws, in, 0, why) == 0) {
		int changed = 0;
		(void)wsr_lbsim_body_patch(ws, in, 0, &changed, why);
	}
	cJSON_Delete(ws);
	cJSON_Delete(in);
	free(err);
}

static int fuzz_lbsim(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t which = WSR_FUZZ_PICK(data[0], OPS);
	char *body = sim_text(data, size);
	if (!body)
		return 0;
	cJSON *seed = NULL;
	char *err = NULL;
	if (OPS[which].kind == K_SEED) {
		if (wsr_lbsim_seed_parse(&seed, "seed.yaml", body, size - 1, &err) && sim_tracing())
			fprintf(stderr, "seed: %s\n", err ? err : "?");
	} else if (OPS[which].kind == K_BODY)
		run_body(body, size - 1);
	else
		run_api(which, body, size - 1);
	cJSON_Delete(seed);
	free(err);
	free(body);
	return 0;
}
WSR_FUZZ_TARGET(fuzz_lbsim)
