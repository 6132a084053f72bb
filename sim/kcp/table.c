/* table: the meta.k8s.io/v1 Table kubectl asks for on get (Accept:
 * ...;as=Table;g=meta.k8s.io). Workspaces get kcp's printer columns (NAME
 * TYPE REGION PHASE URL AGE), workspace types NAME and AGE; ages are
 * rendered as Kubernetes renders them ("5m3s", "2d4h"). */
#include "sim/kcp/api.h"

#include <stdio.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/json.h"

/* Kubernetes' duration.HumanDuration. */
static void human(char *out, size_t n, int64_t ms)
{
	long long s = ms / 1000, m = s / 60, h = m / 60, d = h / 24;
	if (s < -1)
		snprintf(out, n, "<invalid>");
	else if (s < 0)
		snprintf(out, n, "0s");
	else if (s < 120)
		snprintf(out, n, "%llds", s);
	else if (m < 10)
		snprintf(out, n, s % 60 ? "%lldm%llds" : "%lldm", m, s % 60);
	else if (m < 180)
		snprintf(out, n, "%lldm", m);
	else if (h < 8)
		snprintf(out, n, m % 60 ? "%lldh%lldm" : "%lldh", h, m % 60);
	else if (h < 48)
		snprintf(out, n, "%lldh", h);
	else if (h < 24 * 8)
		snprintf(out, n, h % 24 ? "%lldd%lldh" : "%lldd", d, h % 24);
	else if (h < 24 * 365 * 2)
		snprintf(out, n, "%lldd", d);
	else if (h < 24 * 365 * 8)
		snprintf(out, n, d % 365 ? "%lldy%lldd" : "%lldy", d / 365, d % 365);
	else
		snprintf(out, n, "%lldy", d / 365);
}

static cJSON *age(const cJSON *obj, int64_t now)
{
	char buf[32];
	int64_t at;
	const char *ts = wsr_json_str(wsr_json_obj(obj, "metadata"), "creationTimestamp");
	if (!ts || wsr_time_parse(&at, ts))
		return cJSON_CreateString("<unknown>");
	human(buf, sizeof(buf), now - at);
	return cJSON_CreateString(buf);
}

static cJSON *str(const char *s)
{
	return cJSON_CreateString(s ? s : "");
}

static int is_workspace(const char *kind)
{
	return kind && strncmp(kind, "Workspace", 9) == 0 &&
	       strncmp(kind, "WorkspaceType", 13) != 0;
}

static cJSON *columns(int ws)
{
	static const char *const names[] = {"Name", "Type", "Region", "Phase", "URL", "Age"};
	static const char *const descr[] = {
	    "Name must be unique within a workspace.",
	    "Type of the workspace",
	    "The region this workspace is in",
	    "The current phase (e.g. Scheduling, Initializing, Ready)",
	    "URL to access the workspace",
	    "CreationTimestamp of the object"};
	cJSON *cols = cJSON_CreateArray();
	for (int i = 0; cols && i < 6; i++) {
		if (!ws && i > 0 && i < 5)
			continue;
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "name", names[i]);
		cJSON_AddStringToObject(c, "type", i == 5 ? "date" : "string");
		cJSON_AddStringToObject(c, "format", i == 0 ? "name" : "");
		cJSON_AddStringToObject(c, "description", descr[i]);
		cJSON_AddNumberToObject(c, "priority", 0);
		if (!cJSON_AddItemToArray(cols, c)) {
			cJSON_Delete(c);
			cJSON_Delete(cols);
			return NULL;
		}
	}
	return cols;
}

/* The row of one object (taken over). */
static cJSON *row(cJSON *obj, int ws, int64_t now, const char *include)
{
	const cJSON *meta = wsr_json_obj(obj, "metadata");
	cJSON *r = cJSON_CreateObject(), *cells = cJSON_AddArrayToObject(r, "cells");
	if (!cells) {
		cJSON_Delete(r);
		cJSON_Delete(obj);
		return NULL;
	}
	cJSON_AddItemToArray(cells, str(wsr_json_str(meta, "name")));
	if (ws) {
		cJSON_AddItemToArray(cells,
				     str(wsr_json_str(wsr_json_path(obj, "spec.type"), "name")));
		cJSON_AddItemToArray(cells,
				     str(wsr_json_str(wsr_json_obj(meta, "labels"), "region")));
		cJSON_AddItemToArray(cells,
				     str(wsr_json_str(wsr_json_obj(obj, "status"), "phase")));
		cJSON_AddItemToArray(cells, str(wsr_json_str(wsr_json_obj(obj, "spec"), "URL")));
	}
	cJSON_AddItemToArray(cells, age(obj, now));
	if (include && strcmp(include, "None") == 0)
		cJSON_Delete(obj);
	else if (include && strcmp(include, "Object") == 0)
		cJSON_AddItemToObject(r, "object", obj);
	else {
		cJSON *p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "kind", "PartialObjectMetadata");
		cJSON_AddStringToObject(p, "apiVersion", "meta.k8s.io/v1");
		cJSON_AddItemToObject(p, "metadata",
				      cJSON_DetachItemFromObjectCaseSensitive(obj, "metadata"));
		cJSON_AddItemToObject(r, "object", p);
		cJSON_Delete(obj);
	}
	if (cJSON_GetArraySize(cells) != (ws ? 6 : 2)) {
		cJSON_Delete(r);
		return NULL;
	}
	return r;
}

cJSON *wsr_kcpsim_table(cJSON *v, int64_t now, const char *include)
{
	const char *kind = wsr_json_str(v, "kind");
	size_t kl = kind ? strlen(kind) : 0;
	int list = kl > 4 && strcmp(kind + kl - 4, "List") == 0, ws = is_workspace(kind);
	cJSON *t = cJSON_CreateObject(), *rows = cJSON_CreateArray(), *it;
	int ok = t && rows && cJSON_AddStringToObject(t, "kind", "Table") &&
		 cJSON_AddStringToObject(t, "apiVersion", "meta.k8s.io/v1");
	cJSON *meta =
	    list ? cJSON_DetachItemFromObjectCaseSensitive(v, "metadata") : cJSON_CreateObject();
	if (ok && meta && cJSON_AddItemToObject(t, "metadata", meta))
		meta = NULL;
	else
		ok = 0;
	ok = ok && cJSON_AddItemToObject(t, "columnDefinitions", columns(ws));
	cJSON *items = list ? cJSON_DetachItemFromObjectCaseSensitive(v, "items") : NULL;
	if (!list && ok) {
		cJSON *r = row(v, ws, now, include); /* takes v over */
		v = NULL;
		ok = r && cJSON_AddItemToArray(rows, r);
	}
	while (ok && items && (it = items->child) != NULL) {
		cJSON *r = row(cJSON_DetachItemViaPointer(items, it), ws, now, include);
		ok = r && cJSON_AddItemToArray(rows, r);
	}
	ok = ok && cJSON_AddItemToObject(t, "rows", rows);
	cJSON_Delete(items);
	cJSON_Delete(meta);
	cJSON_Delete(v);
	if (!ok) {
		if (!cJSON_GetObjectItemCaseSensitive(t, "rows"))
			cJSON_Delete(rows);
		cJSON_Delete(t);
		return NULL;
	}
	return t;
}
