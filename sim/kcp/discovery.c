/* discovery: what kubectl reads before it touches a workspace: the server
 * version, the API groups and resources (legacy discovery; kubectl asks for
 * the aggregated form too and takes this when the answer is plain JSON),
 * OpenAPI v3 for the workspaces (kubectl checks there that the server
 * validates fields itself, so it needs no schema of its own), a core v1
 * group that kubectl api-resources accepts (namespaces and events, both
 * empty lists), and empty event lists for describe. The answers are fixed texts: they describe the
 * API, not the data. docs/sim.md lists them. */
#include "sim/kcp/api.h"

#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "sim/kcp/status.h"

static const char version[] =
    "{\"major\":\"1\",\"minor\":\"31\",\"gitVersion\":\"v1.31.0+kcp-wsr-sim\","
    "\"gitCommit\":\"\",\"gitTreeState\":\"clean\",\"buildDate\":\"2026-01-01T00:00:00Z\","
    "\"goVersion\":\"\",\"compiler\":\"wsr-sim\",\"platform\":\"linux/amd64\"}";

static const char api_versions[] = "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],"
				   "\"serverAddressByClientCIDRs\":[]}";

/* The core group must list something: kubectl api-resources (client-go's
 * discovery) fails on an empty one. It has what kubectl reads of it. */
static const char api_v1[] =
    "{\"kind\":\"APIResourceList\",\"groupVersion\":\"v1\",\"resources\":["
    "{\"name\":\"namespaces\",\"singularName\":\"namespace\",\"namespaced\":false,"
    "\"kind\":\"Namespace\",\"verbs\":[\"get\",\"list\"],\"shortNames\":[\"ns\"]},"
    "{\"name\":\"events\",\"singularName\":\"event\",\"namespaced\":true,"
    "\"kind\":\"Event\",\"verbs\":[\"list\"],\"shortNames\":[\"ev\"]}]}";

#define TENANCY_GROUP_BODY                                                                         \
	"\"name\":\"tenancy.kcp.io\",\"versions\":[{\"groupVersion\":\"tenancy.kcp.io/"            \
	"v1alpha1\",\"version\":\"v1alpha1\"}],\"preferredVersion\":{\"groupVersion\":"            \
	"\"tenancy.kcp.io/v1alpha1\",\"version\":\"v1alpha1\"}"
#define AUTHZ_GROUP_BODY                                                                           \
	"\"name\":\"authorization.k8s.io\",\"versions\":[{\"groupVersion\":\"authorization.k8s."   \
	"io/v1\",\"version\":\"v1\"}],\"preferredVersion\":{\"groupVersion\":\"authorization."     \
	"k8s.io/v1\",\"version\":\"v1\"}"
#define TENANCY_GROUP "{" TENANCY_GROUP_BODY "}"
#define AUTHZ_GROUP "{" AUTHZ_GROUP_BODY "}"

static const char apis[] =
    "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[" TENANCY_GROUP "," AUTHZ_GROUP
    "]}";
static const char tenancy_group[] =
    "{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\"," TENANCY_GROUP_BODY "}";
static const char authz_group[] =
    "{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\"," AUTHZ_GROUP_BODY "}";

static const char tenancy_resources[] =
    "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"tenancy.kcp.io/"
    "v1alpha1\",\"resources\":["
    "{\"name\":\"workspaces\",\"singularName\":\"workspace\",\"namespaced\":false,"
    "\"kind\":\"Workspace\",\"verbs\":[\"create\",\"delete\",\"get\",\"list\",\"patch\","
    "\"update\",\"watch\"],\"shortNames\":[\"ws\"],\"categories\":[\"kcp\"]},"
    "{\"name\":\"workspaces/status\",\"singularName\":\"\",\"namespaced\":false,"
    "\"kind\":\"Workspace\",\"verbs\":[\"get\",\"update\"]},"
    "{\"name\":\"workspacetypes\",\"singularName\":\"workspacetype\",\"namespaced\":false,"
    "\"kind\":\"WorkspaceType\",\"verbs\":[\"get\",\"list\",\"watch\"],\"categories\":[\"kcp\"]}]}";

static const char authz_resources[] =
    "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"authorization.k8s."
    "io/v1\",\"resources\":[{\"name\":\"selfsubjectaccessreviews\",\"singularName\":"
    "\"selfsubjectaccessreview\",\"namespaced\":false,\"kind\":\"SelfSubjectAccessReview\","
    "\"verbs\":[\"create\"]}]}";

/* The hash only makes clients' caches notice a change of the document. */
static const char openapi_v3_root[] =
    "{\"paths\":{\"apis/tenancy.kcp.io/v1alpha1\":{\"serverRelativeURL\":"
    "\"/openapi/v3/apis/tenancy.kcp.io/v1alpha1?hash=wsrsim1\"}}}";

#define GVK_WS "{\"group\":\"tenancy.kcp.io\",\"version\":\"v1alpha1\",\"kind\":\"Workspace\"}"
#define PARAM(n) "{\"name\":\"" n "\",\"in\":\"query\",\"schema\":{\"type\":\"string\"}}"
#define JSON_BODY(type)                                                                            \
	"{\"content\":{\"" type "\":{\"schema\":{\"$ref\":\"#/components/schemas/"                 \
	"io.kcp.tenancy.v1alpha1.Workspace\"}}}}"
#define OK_WS "{\"200\":" JSON_BODY("application/json") "}"
#define OP(verb, extra)                                                                            \
	"\"" verb "\":{\"x-kubernetes-action\":\"" verb                                            \
	"\",\"x-kubernetes-group-version-kind\":" GVK_WS extra ",\"responses\":" OK_WS "}"
#define WRITE_PARAMS                                                                               \
	",\"parameters\":[" PARAM("dryRun") "," PARAM("fieldManager") "," PARAM(                   \
	    "fieldValidation") "]"
#define REF_SCHEMA                                                                                 \
	"{\"type\":\"object\",\"required\":[\"name\"],\"properties\":{\"name\":{\"type\":"         \
	"\"string\"},\"path\":{\"type\":\"string\"}}}"
#define STRING_MAP "{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}}"

static const char openapi_v3_tenancy
    [] = "{\"openapi\":\"3.0.0\",\"info\":{\"title\":\"kcp "
	 "(wsr-sim)\",\"version\":\"v1alpha1\"},"
	 "\"paths\":{"
	 "\"/apis/tenancy.kcp.io/v1alpha1/workspaces\":{" OP("get", "") "," OP("post", WRITE_PARAMS ",\"requestBody\":" JSON_BODY("application/json")) "},"
																		       "\"/apis/tenancy.kcp.io/v1alpha1/workspaces/"
																		       "{name}\":{" OP(
																			   "get", "") "," OP("put", WRITE_PARAMS ","
																								 "\""
																								 "re"
																								 "qu"
																								 "es"
																								 "tB"
																								 "od"
																								 "y"
																								 "\""
																								 ":" JSON_BODY(
																								     "application/json")) "," OP("patch", WRITE_PARAMS ",\"requestBody\":" JSON_BODY("application/merge-patch+json")) "," OP("delete", "") "},"
																																									   "\"/apis/tenancy.kcp.io/v1alpha1/workspaces/"
																																									   "{name}/status\":{" OP("get", "") "," OP("put", WRITE_PARAMS ",\"requestBody\":" JSON_BODY("application/json")) "}},"
																																																							   "\"components\":{"
																																																							   "\"schemas\":{\"io."
																																																							   "kcp.tenancy."
																																																							   "v1alpha1."
																																																							   "Workspace\":{"
																																																							   "\"description\":"
																																																							   "\"Workspace "
																																																							   "defines a generic "
																																																							   "Kubernetes-cluster-"
																																																							   "like endpoint.\","
																																																							   "\"type\":"
																																																							   "\"object\",\"x-"
																																																							   "kubernetes-group-"
																																																							   "version-kind\":"
																																																							   "[" GVK_WS
																																																							   "],"
																																																							   "\"properties\":{"
																																																							   "\"apiVersion\":{"
																																																							   "\"type\":"
																																																							   "\"string\"},"
																																																							   "\"kind\":{\"type\":"
																																																							   "\"string\"},"
																																																							   "\"metadata\":{"
																																																							   "\"type\":"
																																																							   "\"object\","
																																																							   "\"properties\":{"
																																																							   "\"name\":{\"type\":"
																																																							   "\"string\"},"
																																																							   "\"labels\""
																																																							   ":" STRING_MAP
																																																							   ",\"annotations\""
																																																							   ":" STRING_MAP
																																																							   ",\"resourceVersion"
																																																							   "\":{\"type\":"
																																																							   "\"string\"},"
																																																							   "\"uid\":{\"type\":"
																																																							   "\"string\"},"
																																																							   "\"creationTimestamp"
																																																							   "\":{\"type\":"
																																																							   "\"string\","
																																																							   "\"format\":\"date-"
																																																							   "time\"},"
																																																							   "\"deletionTimestamp"
																																																							   "\":{\"type\":"
																																																							   "\"string\","
																																																							   "\"format\":"
																																																							   "\"date-time\"}}},"
																																																							   "\"spec\":{\"type\":"
																																																							   "\"object\","
																																																							   "\"properties\":{"
																																																							   "\"type\""
																																																							   ":" REF_SCHEMA
																																																							   ","
																																																							   "\"location\":{"
																																																							   "\"type\":"
																																																							   "\"object\","
																																																							   "\"properties\":{"
																																																							   "\"selector\":{"
																																																							   "\"type\":"
																																																							   "\"object\","
																																																							   "\"properties\":{"
																																																							   "\"matchLabels\""
																																																							   ":" STRING_MAP
																																																							   "}}}},\"URL\":{"
																																																							   "\"type\":"
																																																							   "\"string\"},"
																																																							   "\"cluster\":{"
																																																							   "\"type\":"
																																																							   "\"string\"}}},"
																																																							   "\"status\":{"
																																																							   "\"type\":"
																																																							   "\"object\","
																																																							   "\"properties\":{"
																																																							   "\"phase\":{"
																																																							   "\"type\":"
																																																							   "\"string\"},"
																																																							   "\"conditions\":{"
																																																							   "\"type\":\"array\","
																																																							   "\"items\":{"
																																																							   "\"type\":"
																																																							   "\"object\"}},"
																																																							   "\"initializers\":{"
																																																							   "\"type\":\"array\","
																																																							   "\"items\":{"
																																																							   "\"type\":"
																																																							   "\"string\"}}}}}}}}"
																																																							   "}";

static const struct doc {
	const char *path;
	const char *text;
} docs[] = {
    {"version", version},
    {"api", api_versions},
    {"api/v1", api_v1},
    {"apis", apis},
    {"apis/tenancy.kcp.io", tenancy_group},
    {"apis/tenancy.kcp.io/v1alpha1", tenancy_resources},
    {"apis/authorization.k8s.io", authz_group},
    {"apis/authorization.k8s.io/v1", authz_resources},
    {"openapi/v3", openapi_v3_root},
    {"openapi/v3/apis/tenancy.kcp.io/v1alpha1", openapi_v3_tenancy},
};

/* 1 for api/v1/events and api/v1/namespaces/<ns>/events: describe lists
 * the events of what it shows, and there are none. */
static int events_path(const char *rest)
{
	const char *p = rest;
	if (strncmp(p, "api/v1/", 7) != 0)
		return 0;
	p += 7;
	if (strncmp(p, "namespaces/", 11) == 0) {
		const char *slash = strchr(p + 11, '/');
		if (!slash || slash == p + 11)
			return 0;
		p = slash + 1;
	}
	return strcmp(p, "events") == 0;
}

/* Answers 405 for anything but GET; 1 when it did. */
static int read_only(wsr_kcpsim_call *c)
{
	if (strcmp(c->req->method, "GET") == 0)
		return 0;
	c->resp->allow = "GET";
	wsr_kcpsim_fail(c->resp, 405, NULL, NULL,
			"the server does not allow this method on the requested resource");
	return 1;
}

/* Answers an empty list of kind ("EventList") at the store's version. */
static void empty_list(wsr_kcpsim_call *c, const char *kind)
{
	char rv[32];
	cJSON *v = cJSON_CreateObject(), *m;
	snprintf(rv, sizeof(rv), "%llu", (unsigned long long)c->s->rv);
	if (!v || !cJSON_AddStringToObject(v, "kind", kind) ||
	    !cJSON_AddStringToObject(v, "apiVersion", "v1") ||
	    !(m = cJSON_AddObjectToObject(v, "metadata")) ||
	    !cJSON_AddStringToObject(m, "resourceVersion", rv) ||
	    !cJSON_AddArrayToObject(v, "items")) {
		cJSON_Delete(v);
		wsr_kcpsim_unavailable(c, WSR_ENOMEM);
	} else
		wsr_sim_resp_json(c->resp, 200, v);
}

/* The core group's namespaces: none are modelled, so the list is empty and
 * each one is 404. 1 when rest was one of them. */
static int namespaces(wsr_kcpsim_call *c, const char *rest)
{
	const char *ns = "api/v1/namespaces";
	size_t n = strlen(ns);
	if (strncmp(rest, ns, n) != 0 ||
	    (rest[n] && (rest[n] != '/' || !rest[n + 1] || strchr(rest + n + 1, '/'))))
		return 0;
	if (read_only(c))
		return 1;
	if (!rest[n])
		empty_list(c, "NamespaceList");
	else
		wsr_kcpsim_fail(c->resp, 404, NULL, NULL, "namespaces \"%.63s\" not found",
				rest + n + 1);
	return 1;
}

int wsr_kcpsim_discovery(wsr_kcpsim_call *c, const char *rest)
{
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		if (strcmp(rest, docs[i].path) != 0)
			continue;
		if (read_only(c))
			return 1;
		cJSON *v = cJSON_Parse(docs[i].text);
		if (!v)
			wsr_kcpsim_unavailable(c, WSR_ENOMEM);
		else
			wsr_sim_resp_json(c->resp, 200, v);
		return 1;
	}
	if (namespaces(c, rest))
		return 1;
	if (!events_path(rest))
		return 0;
	if (!read_only(c))
		empty_list(c, "EventList");
	return 1;
}
