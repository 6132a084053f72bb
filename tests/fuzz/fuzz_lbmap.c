/* fuzz_lbmap: the Loopback provider reading what the platform answers. The
 * provider's real entry points run (open, list, read, profiles, check,
 * start and poll); the transport is tests/fuzz/http_fake.h, so every
 * request takes the next answer of the fuzzed script, and what is tested
 * is the whole way from bytes to resources: lib/http_json.c, client.c's
 * errors and pages (nextCursor), map.c's Workspace and compute profile
 * mapping, ops.c's tasks (202 answers, GET /v1/tasks/<id>) and check.c's
 * catalog (principal, organizations, Kubernetes versions, management
 * clusters).
 *
 * The first byte chooses what the provider does (OPS below; another byte
 * picks OPS[byte % n]); the rest is the script of answers. Real answers
 * captured from the emulator are in tests/fixtures/fuzz/lbmap/. */
#include <stdlib.h>
#include <string.h>

#include "lib/diag.h"
#include "lib/json.h"
#include "providers/loopback/lb.h"
#include "providers/loopback/loopback.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/http_fake.h"

/* Polls of one operation before the target stops it: each takes an answer
 * or finishes, so a script runs out long before. */
#define LBMAP_MAX_POLLS 256

/* The workspace the changes are about, as the platform answers it. */
static const char OBSERVED[] =
    "{\"id\":\"ws-1\",\"name\":\"team-a\",\"organization\":\"acme\",\"project\":\"payments\","
    "\"type\":\"kubernetes\",\"state\":\"active\",\"metadata\":{\"owner\":\"team-a\"},"
    "\"kubernetes\":{\"version\":\"1.29.4\",\"controlPlane\":\"high_available\","
    "\"computeProvider\":\"hetzner_cloud\",\"managementCluster\":\"kamaji-fsn1\","
    "\"ingress\":false,\"oidc\":{\"enabled\":false}},\"dns\":{\"provider\":\"cloudflare\"},"
    "\"maintenance\":{\"enabled\":true,\"schedule\":{\"0\":3,\"1\":3,\"2\":3,\"3\":3,\"4\":3,"
    "\"5\":3,\"6\":3},\"priorityHour\":4,\"compute\":{\"autoUpdate\":true},"
    "\"kubernetes\":{\"autoPatch\":true}}}";
/* What the spec wants of it: another project, version, oidc and owner. */
static const char DESIRED[] =
    "{\"id\":\"ws-1\",\"name\":\"team-a\",\"organization\":\"acme\",\"project\":\"sandbox\","
    "\"type\":\"kubernetes\",\"state\":\"active\",\"metadata\":{\"owner\":\"team-b\"},"
    "\"kubernetes\":{\"version\":\"1.30.2\",\"computeProvider\":\"hetzner_cloud\","
    "\"oidc\":{\"enabled\":true,\"sessionLifetime\":\"8h\"}},"
    "\"maintenance\":{\"enabled\":false,\"schedule\":{\"0\":3,\"1\":3,\"2\":3,\"3\":3,\"4\":3,"
    "\"5\":3,\"6\":3},\"priorityHour\":5,\"compute\":{\"autoUpdate\":false},"
    "\"kubernetes\":{\"autoPatch\":true}}}";
static const char *const FIELDS[] = {"project", "kubernetes.version", "kubernetes.oidc.enabled",
				     "metadata.owner", "maintenance.enabled"};

/* A resource mapped from one of the constant answers above. */
static wsr_resource *constant(const char *json)
{
	cJSON *v = NULL;
	char *why = NULL;
	wsr_resource *r = NULL;
	if (wsr_json_parse(&v, json, strlen(json), &why) == 0)
		(void)lb_workspace_to_resource(&r, v, &why);
	cJSON_Delete(v);
	free(why);
	return r;
}

/* A change of team-a carrying the given actions (desired/observed borrowed). */
static wsr_change *change(const wsr_action *acts, int n, const wsr_resource *desired,
			  const wsr_resource *observed)
{
	wsr_change *c = calloc(1, sizeof(*c));
	if (!c || !(c->address = strdup("loopback/acme/team-a")))
		return free(c), NULL;
	for (int i = 0; i < n; i++)
		c->actions[c->nactions++] = acts[i];
	c->desired = desired;
	c->observed = observed;
	size_t nf = sizeof(FIELDS) / sizeof(FIELDS[0]);
	if ((c->fields = calloc(nf, sizeof(*c->fields))))
		for (; c->nfields < nf; c->nfields++)
			if (!(c->fields[c->nfields].path = strdup(FIELDS[c->nfields])))
				break;
	return c;
}

static int address_ok(const char *address)
{
	char org[64], name[64];
	return lb_parse_address(address, org, name) == 0;
}

/* Starts one action and polls it until it finishes, fails or gives up. */
static void run_op(wsr_provider *p, const wsr_change *c, wsr_action a, wsr_diag *diag)
{
	wsr_op *op = NULL;
	if (wsr_loopback_provider.start(p, c, a, &op, diag) != 0)
		return;
	for (int i = 0; i < LBMAP_MAX_POLLS; i++) {
		int done = 0;
		wsr_resource *r = NULL;
		int rc = wsr_loopback_provider.poll(p, op, &done, &r, diag);
		fake_same_address(r, c->address);
		wsr_resource_free(r);
		if (rc || done)
			break;
	}
	wsr_loopback_provider.op_free(op);
}

typedef enum { OP_READ, OP_LIST, OP_PROFILES, OP_CHECK, OP_APPLY } lbmap_kind;
static const struct {
	char key;
	lbmap_kind kind;
	wsr_action action;
} OPS[] = {
    {'r', OP_READ, 0},
    {'l', OP_LIST, 0},
    {'p', OP_PROFILES, 0},
    {'k', OP_CHECK, WSR_ACT_CREATE},
    {'K', OP_CHECK, WSR_ACT_UPDATE}, /* with transfer and upgrade: every catalog look-up */
    {'c', OP_APPLY, WSR_ACT_CREATE},
    {'u', OP_APPLY, WSR_ACT_UPDATE},
    {'t', OP_APPLY, WSR_ACT_TRANSFER},
    {'g', OP_APPLY, WSR_ACT_UPGRADE},
    {'d', OP_APPLY, WSR_ACT_DELETE},
};

static void run(wsr_provider *p, size_t which, const wsr_resource *desired,
		const wsr_resource *observed, wsr_diag *diag)
{
	static const wsr_action all[] = {WSR_ACT_UPDATE, WSR_ACT_TRANSFER, WSR_ACT_UPGRADE};
	wsr_action a = OPS[which].action;
	int create = a == WSR_ACT_CREATE, del = a == WSR_ACT_DELETE;
	wsr_change *c = OPS[which].key == 'K'
			    ? change(all, 3, desired, observed)
			    : change(&a, 1, del ? NULL : desired, create ? NULL : observed);
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	wsr_resource *r = NULL;
	cJSON *profiles = NULL;
	switch (OPS[which].kind) {
	case OP_READ:
		(void)wsr_loopback_provider.read(p, "loopback/acme/team-a", &r, diag);
		fake_same_address(r, "loopback/acme/team-a");
		break;
	case OP_LIST:
		if (wsr_loopback_provider.list(p, &set, diag) == 0)
			fake_listed(&set, address_ok);
		break;
	case OP_PROFILES:
		(void)wsr_loopback_provider.profiles(p, "loopback/acme/team-a", &profiles, diag);
		break;
	case OP_CHECK:
		if (c)
			(void)wsr_loopback_provider.check(p, c, diag);
		break;
	case OP_APPLY:
		if (c)
			run_op(p, c, a, diag);
		break;
	}
	wsr_resource_free(r);
	cJSON_Delete(profiles);
	wsr_resource_set_free(&set);
	wsr_change_free(c);
}

static int fuzz_lbmap(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t which = WSR_FUZZ_PICK(data[0], OPS);
	fake_script((const char *)data + 1, size - 1);
	cJSON *config = cJSON_CreateObject();
	cJSON_AddStringToObject(config, "endpoint", "https://loopback.invalid");
	cJSON_AddStringToObject(config, "apiKey", "fuzz-key");
	wsr_resource *desired = constant(DESIRED), *observed = constant(OBSERVED);
	wsr_diag diag;
	wsr_diag_init(&diag);
	wsr_provider *p = NULL;
	if (desired && observed && wsr_loopback_provider.open(&p, config, &diag) == 0) {
		run(p, which, desired, observed, &diag);
		fake_trace((const char[]){OPS[which].key, '\0'}, &diag);
		wsr_loopback_provider.close(p);
	}
	wsr_diag_free(&diag);
	wsr_resource_free(desired);
	wsr_resource_free(observed);
	cJSON_Delete(config);
	return 0;
}
WSR_FUZZ_TARGET(fuzz_lbmap)
