/* upgrade: the platform's Kubernetes version graph, read from its catalog.
 * An upgrade is one hop from v to w when w is active, newer than v and lists
 * v in upgradeFrom; a desired version further away takes several hops. Both
 * the plan-time check (is the target reachable, along which path?) and the
 * upgrade operation (which hop next?) ask this file, so they cannot disagree.
 *
 * The catalog is untrusted: the graph is built once per question with a
 * hash index (not a scan per edge), so a large hostile catalog costs
 * O(versions + edges), and edges that go backwards are ignored because the
 * platform refuses them hop by hop (version_not_newer). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/hmap.h"
#include "lib/json.h"
#include "providers/loopback/lb.h"

/* Next numeric part of a version; *s advances past it and its dot. */
static unsigned long long next_part(const char **s)
{
	char *end;
	unsigned long long v = strtoull(*s, &end, 10);
	*s = *end == '.' ? end + 1 : end;
	return v;
}

int lb_version_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		const char *a0 = a, *b0 = b;
		unsigned long long x = next_part(&a), y = next_part(&b);
		if (x != y)
			return x < y ? -1 : 1;
		if (a == a0 && b == b0) /* neither is numeric here: fall back to text */
			return strcmp(a, b) < 0 ? -1 : strcmp(a, b) > 0;
	}
	return 0;
}

typedef struct node {
	const char *version;
	const cJSON *from; /* upgradeFrom of the catalog entry */
	int active;
	int listed; /* in the catalog (the start version may not be) */
} node;

static int node_cmp(const void *x, const void *y)
{
	const node *a = x, *b = y;
	int c = lb_version_cmp(a->version, b->version);
	return c ? c : strcmp(a->version, b->version);
}

typedef struct graph {
	node *nodes;
	size_t n;
	wsr_hmap index; /* version -> node index + 1 */
	size_t *first;	/* adjacency (CSR): edges of node i are adj[first[i] .. first[i+1]) */
	size_t *adj;
} graph;

static void graph_free(graph *g)
{
	free(g->nodes);
	free(g->first);
	free(g->adj);
	wsr_hmap_free(&g->index);
}

static size_t lookup(const graph *g, const char *version)
{
	return (size_t)(uintptr_t)wsr_hmap_get(&g->index, version); /* 0: absent */
}

/* Calls edge(g, u, w, ctx) for every hop u -> w; returns how many. */
static size_t each_edge(graph *g, void (*edge)(graph *, size_t, size_t, size_t *), size_t *ctx)
{
	size_t count = 0;
	for (size_t w = 0; w < g->n; w++) {
		const cJSON *s;
		if (!g->nodes[w].active)
			continue;
		cJSON_ArrayForEach(s, g->nodes[w].from)
		{
			size_t u = cJSON_IsString(s) ? lookup(g, s->valuestring) : 0;
			if (!u || lb_version_cmp(g->nodes[w].version, g->nodes[u - 1].version) <= 0)
				continue;
			if (edge)
				edge(g, u - 1, w, ctx);
			count++;
		}
	}
	return count;
}

static void count_edge(graph *g, size_t u, size_t w, size_t *ctx)
{
	(void)w, (void)ctx;
	g->first[u + 1]++;
}

static void put_edge(graph *g, size_t u, size_t w, size_t *fill)
{
	g->adj[g->first[u] + fill[u]++] = w;
}

/* Nodes are sorted by version and edges added in that order, so every
 * adjacency list is ascending: a breadth-first search then meets the lowest
 * version first, which makes its choice among equally short paths stable. */
static int graph_build(graph *g, const cJSON *versions, const char *start)
{
	memset(g, 0, sizeof(*g));
	size_t cap = (size_t)cJSON_GetArraySize(versions) + 1;
	const cJSON *v;
	int rc = (g->nodes = calloc(cap, sizeof(*g->nodes))) ? 0 : WSR_ENOMEM;
	cJSON_ArrayForEach(v, (rc ? NULL : versions))
	{
		const char *name = wsr_json_str(v, "version");
		if (name)
			g->nodes[g->n++] = (node){name, wsr_json_arr(v, "upgradeFrom"),
						  wsr_json_bool(v, "active", 0), 1};
	}
	if (!rc)
		g->nodes[g->n++] = (node){start, NULL, 0, 0};
	if (!rc)
		qsort(g->nodes, g->n, sizeof(*g->nodes), node_cmp);
	/* one node per version: a catalog entry wins over the start, and of a
	 * version the catalog lists twice (hostile) one entry is kept */
	size_t kept = 0;
	for (size_t i = 0; !rc && i < g->n; i++) {
		if (kept && strcmp(g->nodes[kept - 1].version, g->nodes[i].version) == 0) {
			if (!g->nodes[kept - 1].listed)
				g->nodes[kept - 1] = g->nodes[i];
			continue;
		}
		g->nodes[kept++] = g->nodes[i];
	}
	g->n = kept;
	for (size_t i = 0; !rc && i < g->n; i++)
		rc = wsr_hmap_put(&g->index, g->nodes[i].version, (void *)(uintptr_t)(i + 1));
	if (!rc && !(g->first = calloc(g->n + 1, sizeof(*g->first))))
		rc = WSR_ENOMEM;
	size_t edges = rc ? 0 : each_edge(g, count_edge, NULL);
	for (size_t i = 0; !rc && i < g->n; i++)
		g->first[i + 1] += g->first[i];
	size_t *fill = rc ? NULL : calloc(g->n + 1, sizeof(*fill));
	if (!rc && (!fill || !(g->adj = calloc(edges + 1, sizeof(*g->adj)))))
		rc = WSR_ENOMEM;
	if (!rc)
		each_edge(g, put_edge, fill);
	free(fill);
	if (rc)
		graph_free(g);
	return rc;
}

static int add_version(cJSON *arr, const char *v)
{
	cJSON *s = cJSON_CreateString(v);
	return s && cJSON_AddItemToArray(arr, s) ? 0 : WSR_ENOMEM;
}

/* Walks the parents back from target into *path, current version first. */
static int unwind(cJSON **path, const graph *g, const size_t *parent, size_t start, size_t target)
{
	size_t hops = 0;
	for (size_t i = target; i != start; i = parent[i])
		hops++;
	size_t *order = calloc(hops + 1, sizeof(*order));
	int rc = order && (*path = cJSON_CreateArray()) ? 0 : WSR_ENOMEM;
	size_t k = hops;
	for (size_t i = target; !rc && k > 0; i = parent[i])
		order[k--] = i;
	order[0] = start;
	for (size_t i = 0; !rc && i <= hops; i++)
		rc = add_version(*path, g->nodes[order[i]].version);
	free(order);
	return rc;
}

int lb_upgrade_path(cJSON **path, cJSON **reachable, const cJSON *versions, const char *from,
		    const char *to)
{
	graph g;
	*path = NULL;
	if (reachable)
		*reachable = NULL;
	if (!from)
		return WSR_EINVAL;
	int rc = graph_build(&g, versions, from);
	if (rc)
		return rc;
	size_t start = lookup(&g, from) - 1, target = to ? lookup(&g, to) : 0;
	size_t *parent = malloc((g.n + 1) * sizeof(*parent));
	size_t *queue = malloc((g.n + 1) * sizeof(*queue));
	unsigned char *seen = calloc(g.n + 1, 1);
	rc = parent && queue && seen ? 0 : WSR_ENOMEM;
	size_t head = 0, tail = 0;
	if (!rc) {
		queue[tail++] = start;
		seen[start] = 1;
	}
	while (!rc && head < tail) {
		size_t u = queue[head++];
		for (size_t e = g.first[u]; e < g.first[u + 1]; e++) {
			size_t w = g.adj[e];
			if (!seen[w]) {
				seen[w] = 1;
				parent[w] = u;
				queue[tail++] = w;
			}
		}
	}
	if (!rc && target && seen[target - 1] && target - 1 != start)
		rc = unwind(path, &g, parent, start, target - 1);
	if (!rc && reachable && !(*reachable = cJSON_CreateArray()))
		rc = WSR_ENOMEM;
	for (size_t i = 0; !rc && reachable && i < g.n; i++) /* nodes are in version order */
		if (seen[i] && i != start)
			rc = add_version(*reachable, g.nodes[i].version);
	if (rc) {
		cJSON_Delete(*path);
		*path = NULL;
		if (reachable) {
			cJSON_Delete(*reachable);
			*reachable = NULL;
		}
	}
	free(parent);
	free(queue);
	free(seen);
	graph_free(&g);
	return rc;
}

char *lb_join_path(const cJSON *path)
{
	wsr_buf b = WSR_BUF_INIT;
	const cJSON *v;
	cJSON_ArrayForEach(v, path)
	{
		if (cJSON_IsString(v))
			wsr_buf_printf(&b, "%s%s", b.len ? " → " : "", v->valuestring);
	}
	return wsr_buf_detach(&b);
}
