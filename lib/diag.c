/* diag: collecting and rendering user-facing diagnostics, and quoting the
 * addresses they carry (wsr_diag_short): an address can come from a
 * damaged state file or a command line, so it is shown bounded and safe for
 * a terminal wherever a diagnostic is rendered. Entries keep the address
 * whole: callers match diagnostics to changes by it. */
#include "lib/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/utf8.h"

void wsr_diag_init(wsr_diag *d)
{
	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->mu, NULL);
}

static void entry_free(wsr_diag_entry *e)
{
	free(e->file);
	free(e->address);
	free(e->summary);
	free(e->detail);
	free(e->hint);
}

void wsr_diag_free(wsr_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		entry_free(&d->v[i]);
	free(d->v);
	d->v = NULL;
	d->n = d->cap = d->errors = d->dropped = 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int push(wsr_diag *d, wsr_diag_entry *e)
{
	int rc = 0;
	pthread_mutex_lock(&d->mu);
	if (e->severity == WSR_SEV_ERROR)
		d->errors++;
	if (d->n >= WSR_DIAG_MAX) {
		d->dropped++;
		entry_free(e);
	} else {
		if (d->n == d->cap) {
			size_t cap = d->cap ? d->cap * 2 : 16;
			wsr_diag_entry *v = realloc(d->v, cap * sizeof(*v));
			if (!v) {
				entry_free(e);
				pthread_mutex_unlock(&d->mu);
				return WSR_ENOMEM;
			}
			d->v = v;
			d->cap = cap;
		}
		d->v[d->n++] = *e;
	}
	pthread_mutex_unlock(&d->mu);
	return rc;
}

int wsr_diag_add(wsr_diag *d, wsr_severity sev, const wsr_pos *pos, const char *address,
		 const char *detail, const char *hint, const char *fmt, ...)
{
	wsr_diag_entry e = {0};
	e.severity = sev;
	if (pos && pos->file) {
		e.file = strdup(pos->file);
		e.line = pos->line;
		e.col = pos->col;
	}
	e.address = dup_or_null(address);
	e.detail = dup_or_null(detail);
	e.hint = dup_or_null(hint);
	wsr_buf b = WSR_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	wsr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	e.summary = wsr_buf_detach(&b);
	if (!e.summary)
		e.summary = strdup("(out of memory)");
	return push(d, &e);
}

size_t wsr_diag_errors(const wsr_diag *d)
{
	return d->errors;
}

void wsr_diag_move(wsr_diag *dst, wsr_diag *src)
{
	for (size_t i = 0; i < src->n; i++)
		push(dst, &src->v[i]);
	/* errors past the cap in src were counted there but not kept */
	pthread_mutex_lock(&dst->mu);
	dst->errors += src->errors;
	for (size_t i = 0; i < src->n; i++)
		if (src->v[i].severity == WSR_SEV_ERROR)
			dst->errors--;
	dst->dropped += src->dropped;
	pthread_mutex_unlock(&dst->mu);
	free(src->v);
	src->v = NULL;
	src->n = src->cap = src->errors = src->dropped = 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const wsr_diag_entry *x = a, *y = b;
	if (!x->file || !y->file) {
		if (x->file != y->file)
			return x->file ? -1 : 1;
		return 0;
	}
	int c = strcmp(x->file, y->file);
	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return 0;
}

void wsr_diag_sort(wsr_diag *d)
{
	/* a stable order: insertion sort keeps equal entries as reported */
	for (size_t i = 1; i < d->n; i++) {
		wsr_diag_entry e = d->v[i];
		size_t j = i;
		while (j > 0 && cmp_entry(&d->v[j - 1], &e) > 0) {
			d->v[j] = d->v[j - 1];
			j--;
		}
		d->v[j] = e;
	}
}

/* 1 when the character of k bytes at s is safe to print as it is. */
static int shown_raw(const unsigned char *s, size_t k)
{
	if (k == 1)
		return s[0] >= 0x20 && s[0] != 0x7f && s[0] != '\\';
	return k > 1 && !(s[0] == 0xc2 && s[1] < 0xa0); /* U+0080..U+009F: C1 controls */
}

const char *wsr_diag_short(char *buf, size_t size, const char *str)
{
	if (!size)
		return buf;
	buf[0] = '\0';
	if (!str)
		return buf;
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), i = 0, j = 0;
	while (i < n) {
		size_t k = wsr_utf8_len(s + i, n - i), step = k ? k : 1;
		if (i + step > WSR_DIAG_ADDRESS_SHOW)
			break;
		int raw = shown_raw(s + i, k);
		size_t need = raw ? k : 4 * step;
		if (j + need >= size)
			break;
		for (size_t m = 0; m < step; m++) {
			if (raw)
				buf[j++] = (char)s[i + m];
			else
				j += (size_t)snprintf(buf + j, size - j, "\\x%02x", s[i + m]);
		}
		i += step;
	}
	buf[j] = '\0';
	if (i < n)
		snprintf(buf + j, size - j, "\u2026(%zu bytes)", n);
	return buf;
}

static const char *sev_name(wsr_severity s)
{
	return s == WSR_SEV_ERROR ? "error" : s == WSR_SEV_WARNING ? "warning" : "note";
}

static const char *sev_color(wsr_severity s)
{
	return s == WSR_SEV_ERROR     ? "\033[1;31m"
	       : s == WSR_SEV_WARNING ? "\033[1;35m"
				      : "\033[1;36m";
}

void wsr_diag_print(const wsr_diag *d, FILE *f, int color)
{
	for (size_t i = 0; i < d->n; i++) {
		const wsr_diag_entry *e = &d->v[i];
		char addr[WSR_DIAG_SHORT_SIZE];
		wsr_diag_short(addr, sizeof(addr), e->address);
		if (e->file)
			fprintf(f, "%s:%d:%d: ", e->file, e->line, e->col);
		else if (e->address)
			fprintf(f, "%s: ", addr);
		fprintf(f, "%s%s:%s %s\n", color ? sev_color(e->severity) : "",
			sev_name(e->severity), color ? "\033[0m" : "", e->summary);
		if (e->file && e->address)
			fprintf(f, "  resource: %s\n", addr);
		if (e->detail)
			fprintf(f, "  %s\n", e->detail);
		if (e->hint)
			fprintf(f, "  hint: %s\n", e->hint);
	}
	if (d->dropped)
		fprintf(f, "note: %zu more diagnostics not shown\n", d->dropped);
}

cJSON *wsr_diag_to_json(const wsr_diag *d)
{
	cJSON *arr = cJSON_CreateArray();
	if (!arr)
		return NULL;
	for (size_t i = 0; i < d->n; i++) {
		const wsr_diag_entry *e = &d->v[i];
		cJSON *o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddStringToObject(o, "severity", sev_name(e->severity));
		cJSON_AddStringToObject(o, "summary", e->summary);
		if (e->detail)
			cJSON_AddStringToObject(o, "detail", e->detail);
		else
			cJSON_AddNullToObject(o, "detail");
		char addr[WSR_DIAG_SHORT_SIZE];
		if (e->address)
			cJSON_AddStringToObject(o, "address",
						wsr_diag_short(addr, sizeof(addr), e->address));
		else
			cJSON_AddNullToObject(o, "address");
		if (e->file) {
			char *s = wsr_strdupf("%s:%d:%d", e->file, e->line, e->col);
			cJSON_AddStringToObject(o, "source", s ? s : e->file);
			free(s);
		} else {
			cJSON_AddNullToObject(o, "source");
		}
		if (e->hint)
			cJSON_AddStringToObject(o, "hint", e->hint);
	}
	return arr;
}

int wsr_use_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR");
	if (nc && *nc)
		return 0;
	return isatty(fileno(f));
}
