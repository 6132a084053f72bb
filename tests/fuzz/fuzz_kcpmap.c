/* fuzz_kcpmap: the kcp provider reading what a kcp server answers. The
 * provider's real entry points run (open, list, read, check, start and
 * poll); the transport is tests/fuzz/http_fake.h, so every request takes
 * the next answer of the fuzzed script: lib/http_json.c, client.c's Status
 * answers and pages (metadata.continue, 403/404/410), map.c's Workspace and
 * home mapping, check.c's WorkspaceTypes (extensions, allowed parents and
 * children) and access reviews, ops.c's and home.c's creation, update and
 * deletion steps.
 *
 * The first byte chooses what the provider does (OPS below; another byte
 * picks OPS[byte % n]); the rest is the script of answers. Real answers
 * captured from the emulator are in tests/fixtures/fuzz/kcpmap/. */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/json.h"
#include "providers/kcp/home.h"
#include "providers/kcp/kc.h"
#include "providers/kcp/kcp.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/http_fake.h"

/* Polls of one operation before the target stops it (each takes an answer
 * or finishes, so a script runs out long before). */
#define KCPMAP_MAX_POLLS 256

#define ADDRESS "kcp/root:acme:team"
#define HOME "kcp/user:alice"
#define USER "alice"

/* What an op is about: a workspace, a logical-cluster home, or a home in
 * buckets (providers.kcp.home.style: buckets, under root:users). */
enum { WORKSPACE, LC_HOME, BUCKET_HOME };

/* The workspace the changes are about, as the server answers it. */
static const char OBSERVED[] =
    "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\",\"metadata\":{\"name\":"
    "\"team\",\"resourceVersion\":\"3\",\"labels\":{\"env\":\"dev\"}},\"spec\":{\"type\":{"
    "\"name\":\"team\",\"path\":\"root\"},\"URL\":\"https://kcp.invalid/clusters/root:acme:team\","
    "\"cluster\":\"2x7rk1u4uq6nq8we\"},\"status\":{\"phase\":\"Ready\"}}";
/* Its canonical spec as a wsr.yaml wants it. */
static const char DESIRED[] =
    "{\"metadata\":{\"labels\":{\"env\":\"prod\"}},\"spec\":{\"parent\":\"root:acme\",\"type\":"
    "{\"name\":\"team\",\"path\":\"root\"},\"location\":{\"selector\":{\"matchLabels\":{"
    "\"region\":\"eu\"}}}}}";

static cJSON *parse(const char *json)
{
	cJSON *v = NULL;
	char *why = NULL;
	(void)wsr_json_parse(&v, json, strlen(json), &why);
	free(why);
	return v;
}

/* The observed workspace, mapped as a listing maps it. */
static wsr_resource *observed_ws(void)
{
	cJSON *v = parse(OBSERVED);
	char *why = NULL;
	wsr_resource *r = NULL;
	if (v)
		(void)kc_workspace_to_resource(&r, v, "root:acme", &why);
	cJSON_Delete(v);
	free(why);
	return r;
}

/* A desired workspace (or home) at address. */
static wsr_resource *desired_at(const char *address, int home)
{
	wsr_resource *r =
	    wsr_resource_new(address, "kcp", home ? WSR_KCP_KIND_HOME : WSR_KCP_KIND_WORKSPACE,
			     home ? USER : strrchr(address, ':') + 1);
	if (r && !(r->spec = home ? cJSON_CreateObject() : parse(DESIRED))) {
		wsr_resource_free(r);
		return NULL;
	}
	return r;
}

static wsr_change *change(const char *address, int home, wsr_action a, const wsr_resource *desired,
			  const wsr_resource *observed)
{
	wsr_change *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->actions[c->nactions++] = a;
	c->desired = desired;
	c->observed = observed;
	c->address = strdup(address);
	c->provider = strdup("kcp");
	c->kind = strdup(home ? WSR_KCP_KIND_HOME : WSR_KCP_KIND_WORKSPACE);
	if (!c->address || !c->provider || !c->kind) {
		wsr_change_free(c);
		return NULL;
	}
	return c;
}

static int address_ok(const char *address)
{
	char parent[KC_PATH_MAX + 1], name[KC_NAME_MAX + 1];
	return kc_split_address(address, parent, name) == 0;
}

static void run_op(wsr_provider *p, const wsr_change *c, wsr_diag *diag)
{
	wsr_op *op = NULL;
	if (wsr_kcp_provider.start(p, c, c->actions[0], &op, diag) != 0)
		return;
	for (int i = 0; i < KCPMAP_MAX_POLLS; i++) {
		int done = 0;
		wsr_resource *r = NULL;
		int rc = wsr_kcp_provider.poll(p, op, &done, &r, diag);
		fake_same_address(r, c->address);
		wsr_resource_free(r);
		if (rc || done)
			break;
	}
	wsr_kcp_provider.op_free(op);
}

typedef enum { OP_LIST, OP_READ, OP_CHECK, OP_APPLY } kcpmap_kind;
static const struct {
	char key;
	kcpmap_kind kind;
	wsr_action action;
	int of;
} OPS[] = {
    {'l', OP_LIST, 0, WORKSPACE},
    {'r', OP_READ, 0, WORKSPACE},
    {'h', OP_READ, 0, LC_HOME},
    {'k', OP_CHECK, WSR_ACT_CREATE, WORKSPACE},
    {'H', OP_CHECK, WSR_ACT_CREATE, LC_HOME},
    {'b', OP_CHECK, WSR_ACT_CREATE, BUCKET_HOME},
    {'x', OP_CHECK, WSR_ACT_DELETE, WORKSPACE},
    {'c', OP_APPLY, WSR_ACT_CREATE, WORKSPACE},
    {'e', OP_APPLY, WSR_ACT_CREATE, LC_HOME},
    {'B', OP_APPLY, WSR_ACT_CREATE, BUCKET_HOME},
    {'u', OP_APPLY, WSR_ACT_UPDATE, WORKSPACE},
    {'d', OP_APPLY, WSR_ACT_DELETE, WORKSPACE},
};

static void run(wsr_provider *p, size_t which, wsr_diag *diag)
{
	int home = OPS[which].of != WORKSPACE;
	wsr_action a = OPS[which].action;
	wsr_kcp_home_opts buckets = WSR_KCP_HOME_OPTS_INIT;
	char *path = NULL, *bucketed = NULL; /* the home rule's path of USER, as an address */
	if (OPS[which].of == BUCKET_HOME && (wsr_kcp_home_path(&path, &buckets, USER, diag) ||
					     !(bucketed = wsr_strdupf("kcp/%s", path)))) {
		free(path);
		return;
	}
	free(path);
	const char *address = bucketed ? bucketed : home ? HOME : ADDRESS;
	wsr_resource *desired = desired_at(address, home);
	wsr_resource *observed = home ? NULL : observed_ws();
	wsr_change *c = change(address, home, a, a == WSR_ACT_DELETE ? NULL : desired,
			       a == WSR_ACT_CREATE ? NULL : observed);
	wsr_resource_set set = WSR_RESOURCE_SET_INIT;
	wsr_resource *r = NULL;
	if (!c || !desired || (!home && !observed))
		; /* out of memory: nothing to run */
	else if (OPS[which].kind == OP_LIST && wsr_kcp_provider.list(p, &set, diag) == 0)
		fake_listed(&set, address_ok);
	else if (OPS[which].kind == OP_READ && wsr_kcp_provider.read(p, address, &r, diag) == 0)
		fake_same_address(r, address);
	else if (OPS[which].kind == OP_CHECK && wsr_kcp_provider.list(p, &set, diag) == 0)
		(void)wsr_kcp_provider.check(p, c, diag); /* as plan does: list, then check */
	else
		run_op(p, c, diag);
	wsr_resource_free(r);
	wsr_resource_set_free(&set);
	wsr_change_free(c);
	wsr_resource_free(desired);
	wsr_resource_free(observed);
	free(bucketed);
}

static int fuzz_kcpmap(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t which = WSR_FUZZ_PICK(data[0], OPS);
	fake_script((const char *)data + 1, size - 1);
	cJSON *config = cJSON_CreateObject();
	cJSON_AddStringToObject(config, "endpoint", "https://kcp.invalid");
	cJSON_AddStringToObject(config, "apiKey", "fuzz-token");
	if (OPS[which].of == BUCKET_HOME)
		cJSON_AddStringToObject(cJSON_AddObjectToObject(config, "home"), "style",
					"buckets");
	wsr_diag diag;
	wsr_diag_init(&diag);
	wsr_provider *p = NULL;
	if (config && wsr_kcp_provider.open(&p, config, &diag) == 0) {
		run(p, which, &diag);
		fake_trace((const char[]){OPS[which].key, '\0'}, &diag);
		wsr_kcp_provider.close(p);
	}
	wsr_diag_free(&diag);
	cJSON_Delete(config);
	return 0;
}
WSR_FUZZ_TARGET(fuzz_kcpmap)
