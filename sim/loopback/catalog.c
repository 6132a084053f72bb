/* catalog: answers from the static catalogs. Lists are sorted on the way out
 * rather than kept sorted: catalogs are a handful of entries, fixed for the
 * platform's life, and seed order is the author's to choose. */
#include "sim/loopback/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "sim/loopback/platform.h"

const cJSON *wsr_lbsim_catalog_version(const cJSON *platform, const char *version)
{
	const cJSON *v;
	cJSON_ArrayForEach(v, wsr_json_arr(platform, "kubernetesVersions"))
	{
		if (strcmp(wsr_json_str(v, "version"), version) == 0)
			return v;
	}
	return NULL;
}

/* One dot-separated part: its leading number, and where the rest starts. */
static unsigned long long part(const char **p, const char **rest, size_t *restlen)
{
	unsigned long long n = 0;
	const char *s = *p;
	while (*s >= '0' && *s <= '9') {
		if (n < 1000000000000ULL) /* beyond any real version; keeps it from wrapping */
			n = n * 10 + (unsigned long long)(*s - '0');
		s++;
	}
	*rest = s;
	while (*s && *s != '.')
		s++;
	*restlen = (size_t)(s - *rest);
	*p = *s ? s + 1 : s;
	return n;
}

int wsr_lbsim_version_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		const char *ra, *rb;
		size_t la, lb;
		unsigned long long na = part(&a, &ra, &la), nb = part(&b, &rb, &lb);
		if (na != nb)
			return na < nb ? -1 : 1;
		int c = strncmp(ra, rb, la < lb ? la : lb);
		if (c || la != lb)
			return c ? c : (la < lb ? -1 : 1);
	}
	return 0;
}

static int by_version(const void *x, const void *y)
{
	const cJSON *a = *(const cJSON *const *)x, *b = *(const cJSON *const *)y;
	return wsr_lbsim_version_cmp(wsr_json_str(a, "version"), wsr_json_str(b, "version"));
}

static int by_name(const void *x, const void *y)
{
	const cJSON *a = *(const cJSON *const *)x, *b = *(const cJSON *const *)y;
	return strcmp(wsr_json_str(a, "name"), wsr_json_str(b, "name"));
}

/* A new array of the items of arr that keep(item, ctx) accepts, copied by
 * make (or duplicated when make is NULL) and ordered by cmp. */
static cJSON *sorted(const cJSON *arr, int (*keep)(const cJSON *, const void *), const void *ctx,
		     int (*cmp)(const void *, const void *),
		     cJSON *(*make)(const cJSON *, const void *), const void *mctx)
{
	size_t n = 0, cap = (size_t)cJSON_GetArraySize(arr);
	const cJSON **v = calloc(cap + 1, sizeof(*v));
	cJSON *out = v ? cJSON_CreateArray() : NULL;
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		if (n < cap && keep(it, ctx))
			v[n++] = it;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp);
	for (size_t i = 0; out && i < n; i++) {
		cJSON *x = make ? make(v[i], mctx) : cJSON_Duplicate(v[i], 1);
		if (!x || !cJSON_AddItemToArray(out, x)) {
			cJSON_Delete(x);
			cJSON_Delete(out);
			out = NULL;
		}
	}
	free(v);
	return out;
}

static int is_target(const cJSON *v, const void *from)
{
	return wsr_json_bool(v, "active", 0) &&
	       wsr_lbsim_list_has(wsr_json_arr(v, "upgradeFrom"), from);
}

cJSON *wsr_lbsim_upgrade_targets(const cJSON *platform, const char *from)
{
	return sorted(wsr_json_arr(platform, "kubernetesVersions"), is_target, from, by_version,
		      NULL, NULL);
}

static int fits(const cJSON *cl, int root, const char *compute)
{
	const char *cp = wsr_json_str(cl, "computeProvider");
	return wsr_json_bool(cl, "active", 0) &&
	       strcmp(wsr_json_str(cl, "type"), root ? "root" : "kamaji") == 0 &&
	       (root || (cp && strcmp(cp, compute) == 0));
}

/* Why the pinned cluster cannot take the workspace, or NULL when it can. */
static const char *pin_problem(const cJSON *cl, int root, const char *compute)
{
	const char *cp = wsr_json_str(cl, "computeProvider");
	if (!cl)
		return "does not exist";
	if (!wsr_json_bool(cl, "active", 0))
		return "is not active";
	if (strcmp(wsr_json_str(cl, "type"), root ? "root" : "kamaji") != 0)
		return root ? "is not a root cluster" : "is not a Kamaji cluster";
	if (!root && (!cp || strcmp(cp, compute) != 0))
		return "is bound to another compute provider";
	return NULL;
}

int wsr_lbsim_place(const char **cluster, const char **code, char *why, size_t whylen,
		    const cJSON *platform, const cJSON *ws)
{
	const cJSON *k = wsr_json_obj(ws, "kubernetes"), *cl, *best = NULL, *pinned = NULL;
	int root = wsr_json_str(ws, "kind") != NULL;
	const char *compute = wsr_json_str(k, "computeProvider"),
		   *pin = wsr_json_str(k, "managementCluster");
	*cluster = NULL;
	*code = NULL;
	if (!root && !k)
		return 0;
	cJSON_ArrayForEach(cl, wsr_json_arr(platform, "managementClusters"))
	{
		const char *n = wsr_json_str(cl, "name");
		if (fits(cl, root, compute) && (!best || strcmp(n, wsr_json_str(best, "name")) < 0))
			best = cl;
		if (pin && strcmp(n, pin) == 0)
			pinned = cl;
	}
	const char *problem = pin ? pin_problem(pinned, root, compute) : NULL;
	*code = best ? "management_cluster_invalid" : "no_management_cluster";
	if (!best && root)
		snprintf(why, whylen, "no active root management cluster");
	else if (!best)
		snprintf(why, whylen,
			 "no active Kamaji management cluster carries compute provider %s",
			 compute);
	else if (problem)
		snprintf(why, whylen, "management cluster %s %s", pin, problem);
	else {
		*code = NULL;
		*cluster = pin ? pin : wsr_json_str(best, "name");
		return 0;
	}
	return -1;
}

static const cJSON *find_named(const cJSON *arr, const char *field, const char *name)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		const char *v = wsr_json_str(it, field);
		if (v && strcmp(v, name) == 0)
			return it;
	}
	return NULL;
}

/* Fills "available" and "unavailableReason": a server type is available
 * when one of its datacenters is reachable. */
static int availability(cJSON *out, const cJSON *platform, const char *type)
{
	const cJSON *st = find_named(wsr_json_arr(platform, "serverTypes"), "name", type), *dc;
	wsr_buf why = WSR_BUF_INIT;
	int available = 0, n = 0;
	wsr_buf_printf(&why, "server type %s is in no reachable datacenter (", type);
	cJSON_ArrayForEach(dc, wsr_json_arr(st, "datacenters"))
	{
		const cJSON *d =
		    find_named(wsr_json_arr(platform, "datacenters"), "name", dc->valuestring);
		if (wsr_json_bool(d, "reachable", 0))
			available = 1;
		wsr_buf_printf(&why, "%s%s: unreachable", n++ ? ", " : "", dc->valuestring);
	}
	wsr_buf_puts(&why, n ? ")" : "none)");
	cJSON_AddBoolToObject(out, "available", available);
	cJSON *reason = available || wsr_buf_failed(&why) ? cJSON_CreateNull()
							  : cJSON_CreateString(wsr_buf_str(&why));
	wsr_buf_free(&why);
	return cJSON_AddItemToObject(out, "unavailableReason", reason) ? 0 : -1;
}

typedef struct view_ctx {
	const cJSON *platform, *org;
} view_ctx;

/* The profile as the API shows it to the organization. */
static cJSON *profile_view(const cJSON *p, const void *vctx)
{
	static const char *const kinds[] = {"setup", "hourly", "monthly", NULL};
	const view_ctx *x = vctx;
	const char *name = wsr_json_str(p, "name");
	const cJSON *ov = find_named(wsr_json_arr(x->org, "pricingOverrides"), "profile", name);
	int override = ov && wsr_json_bool(ov, "active", 0);
	cJSON *v = cJSON_CreateObject(), *prices;
	cJSON_AddStringToObject(v, "name", name);
	cJSON_AddStringToObject(v, "computeProvider", wsr_json_str(p, "computeProvider"));
	cJSON_AddStringToObject(v, "serverType", wsr_json_str(p, "serverType"));
	cJSON_AddNumberToObject(v, "cpu", wsr_json_num(p, "cpu", 0));
	cJSON_AddNumberToObject(v, "memoryGiB", wsr_json_num(p, "memoryGiB", 0));
	int rc = availability(v, x->platform, wsr_json_str(p, "serverType"));
	prices = cJSON_AddObjectToObject(v, "prices");
	cJSON_AddStringToObject(prices, "currency", wsr_json_str(x->platform, "currency"));
	for (const char *const *k = kinds; *k; k++) {
		const char *price = override ? wsr_json_str(ov, *k) : NULL;
		cJSON_AddStringToObject(
		    prices, *k, price ? price : wsr_json_str(wsr_json_obj(p, "prices"), *k));
	}
	if (rc || !cJSON_AddStringToObject(v, "priceSource", override ? "override" : "list")) {
		cJSON_Delete(v);
		return NULL;
	}
	return v;
}

static int of_provider(const cJSON *p, const void *provider)
{
	return strcmp(wsr_json_str(p, "computeProvider"), provider) == 0;
}

cJSON *wsr_lbsim_profiles(const cJSON *platform, const cJSON *org, const char *provider)
{
	view_ctx x = {platform, org};
	return sorted(wsr_json_arr(platform, "computeProfiles"), of_provider, provider, by_name,
		      profile_view, &x);
}
