/* resource: resources, resource sets and changes. */
#include "providers/resource.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"

wsr_resource *wsr_resource_new(const char *address, const char *provider, const char *kind,
			       const char *name)
{
	wsr_resource *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->address = strdup(address);
	r->provider = strdup(provider);
	r->kind = strdup(kind);
	r->name = strdup(name ? name : "");
	if (!r->address || !r->provider || !r->kind || !r->name) {
		wsr_resource_free(r);
		return NULL;
	}
	return r;
}

static int dup_json(cJSON **dst, const cJSON *src)
{
	if (!src)
		return 0;
	*dst = cJSON_Duplicate(src, 1);
	return *dst ? 0 : WSR_ENOMEM;
}

wsr_resource *wsr_resource_dup(const wsr_resource *r)
{
	wsr_resource *c = wsr_resource_new(r->address, r->provider, r->kind, r->name);
	if (!c)
		return NULL;
	c->line = r->line;
	c->col = r->col;
	c->health = r->health;
	if ((r->id && !(c->id = strdup(r->id))) ||
	    (r->health_why && !(c->health_why = strdup(r->health_why))) ||
	    (r->file && !(c->file = strdup(r->file))) || dup_json(&c->spec, r->spec) ||
	    dup_json(&c->labels, r->labels) || dup_json(&c->status, r->status)) {
		wsr_resource_free(c);
		return NULL;
	}
	return c;
}

void wsr_resource_free(wsr_resource *r)
{
	if (!r)
		return;
	free(r->address);
	free(r->provider);
	free(r->kind);
	free(r->name);
	free(r->id);
	cJSON_Delete(r->spec);
	cJSON_Delete(r->labels);
	cJSON_Delete(r->status);
	free(r->health_why);
	free(r->file);
	free(r);
}

int wsr_resource_set_add(wsr_resource_set *s, wsr_resource *r)
{
	if (wsr_hmap_get(&s->index, r->address))
		return WSR_ECONFLICT;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		wsr_resource **v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return WSR_ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	if (wsr_hmap_put(&s->index, r->address, r))
		return WSR_ENOMEM;
	s->v[s->n++] = r;
	const wsr_resource *same = s->share ? wsr_resource_set_find(s->share, r->address) : NULL;
	if (same) {
		wsr_json_share(r->spec, same->spec);
		wsr_json_share(r->labels, same->labels);
	}
	return 0;
}

wsr_resource *wsr_resource_set_find(const wsr_resource_set *s, const char *address)
{
	return wsr_hmap_get(&s->index, address);
}

void wsr_resource_set_free(wsr_resource_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		wsr_resource_free(s->v[i]);
	free(s->v);
	wsr_hmap_free(&s->index);
	memset(s, 0, sizeof(*s));
}

const char *wsr_action_name(wsr_action a)
{
	switch (a) {
	case WSR_ACT_CREATE:
		return "create";
	case WSR_ACT_UPDATE:
		return "update";
	case WSR_ACT_TRANSFER:
		return "transfer";
	case WSR_ACT_UPGRADE:
		return "upgrade";
	case WSR_ACT_DELETE:
		return "delete";
	}
	return "?";
}

void wsr_change_free(wsr_change *c)
{
	if (!c)
		return;
	free(c->address);
	free(c->provider);
	free(c->kind);
	for (size_t i = 0; i < c->nfields; i++) {
		free(c->fields[i].path);
		cJSON_Delete(c->fields[i].before);
		cJSON_Delete(c->fields[i].after);
		free(c->fields[i].operation);
	}
	free(c->fields);
	for (size_t i = 0; i < c->nreasons; i++)
		free(c->reasons[i]);
	free(c->reasons);
	cJSON_Delete(c->extra);
	free(c);
}

int wsr_change_add_reason(wsr_change *c, const char *fmt, ...)
{
	wsr_buf b = WSR_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	wsr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	char *s = wsr_buf_detach(&b);
	char **v = s ? realloc(c->reasons, (c->nreasons + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(s);
		return WSR_ENOMEM;
	}
	c->reasons = v;
	c->reasons[c->nreasons++] = s;
	return 0;
}
