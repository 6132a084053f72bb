/* http_fake: lib/http.c's transport replaced by a script of answers, for
 * the fuzz targets of the providers' answer handling (fuzz_lbmap,
 * fuzz_kcpmap). Included by exactly one file of a binary: it DEFINES every
 * function lib/http.o exports, so the linker never takes lib/http.o out of
 * the archive and every provider call lands here, while the JSON layer
 * (lib/http_json.c: parsing with lib/json's bounds, a 2xx that is not JSON)
 * and everything above it stay the real code. A target then drives the
 * provider's real entry points (open, list, read, check, start, poll) and
 * each request takes the next answer of the fuzzed script.
 *
 * The script (what follows a target's first byte) is answers separated by
 * a line "---": each is "<status> <body>" (a status of 100 to 599 and one
 * space or newline; without one the status is 200), the body the rest up to
 * the separator. A request after the last answer fails as an unreachable
 * server does (WSR_EHTTP). Paths and bodies of requests are not looked at:
 * what is fuzzed is how the provider reads what a server says. */
#ifndef WSR_TESTS_FUZZ_HTTP_FAKE_H
#define WSR_TESTS_FUZZ_HTTP_FAKE_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "lib/buf.h"
#include "lib/diag.h"
#include "lib/err.h"
#include "lib/http.h"
#include "providers/resource.h"

/* The separator line between two answers of a script. */
#define FAKE_SEPARATOR "\n---\n"
/* The most requests one input may answer: far more than a script of at most
 * libFuzzer's -max_len bytes holds, so a provider that keeps asking after
 * the answers ran out is seen stopping, not looping. */
#define FAKE_MAX_REQUESTS 4096

struct wsr_http {
	int unused;
};

/* The script of the current input (one at a time: targets are not threaded). */
static const char *fake_next;
static size_t fake_left;
static unsigned long fake_requests;

static void fake_script(const char *data, size_t size)
{
	fake_next = data;
	fake_left = size;
	fake_requests = 0;
}

/* With WSR_FUZZ_TRACE set, prints what the provider said of one input and
 * how many answers it asked for: how to see what a new seed exercises
 * (WSR_FUZZ_TRACE=1 build/std/tests/test_fuzz_<name>). */
static void fake_trace(const char *what, const wsr_diag *diag)
{
	if (!getenv("WSR_FUZZ_TRACE"))
		return;
	fprintf(stderr, "%s: %lu requests, %zu diagnostics\n", what, fake_requests, diag->n);
	for (size_t i = 0; i < diag->n; i++)
		fprintf(stderr, "  %s: %s (%s)\n", diag->v[i].severity ? "note" : "error",
			diag->v[i].summary, diag->v[i].detail ? diag->v[i].detail : "");
}

/* What a user relies on whatever a server answers: a read or a finished
 * operation yields the resource it was asked about (or none), never one
 * at another address, which the engine would record as that one. A
 * violation aborts, so libFuzzer keeps the input. */
static void fake_same_address(const wsr_resource *r, const char *address)
{
	if (r && strcmp(r->address, address) != 0) {
		fprintf(stderr, "fuzz: asked about %s, got a resource at %s\n", address,
			r->address);
		abort();
	}
}

/* A listing yields only addresses the provider itself accepts (ok), each
 * once: what plan and apply later split, read and record. */
static void fake_listed(const wsr_resource_set *set, int (*ok)(const char *address))
{
	for (size_t i = 0; i < set->n; i++)
		if (!ok(set->v[i]->address)) {
			fprintf(stderr, "fuzz: listed an address the provider refuses: %s\n",
				set->v[i]->address);
			abort();
		}
}

int wsr_http_new(wsr_http **out, const wsr_http_opts *opts, char **err)
{
	(void)opts;
	*err = NULL;
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : WSR_ENOMEM;
}

void wsr_http_free(wsr_http *h)
{
	free(h);
}

/* "<status> " at the start of an answer, or 200 when there is none. */
static long fake_status(const char **body, size_t *len)
{
	long status = 0;
	size_t i = 0;
	while (i < *len && i < 3 && (*body)[i] >= '0' && (*body)[i] <= '9')
		status = status * 10 + ((*body)[i++] - '0');
	if (i != 3 || status < 100 || i == *len || ((*body)[i] != ' ' && (*body)[i] != '\n'))
		return 200;
	*body += i + 1;
	*len -= i + 1;
	return status;
}

int wsr_http_request(wsr_http *h, wsr_http_resp *resp, const char *method, const char *path,
		     const char *const *headers, const char *body, char **err)
{
	(void)h, (void)method, (void)path, (void)headers, (void)body;
	memset(resp, 0, sizeof(*resp));
	*err = NULL;
	if (!fake_next || fake_requests >= FAKE_MAX_REQUESTS) {
		*err = strdup("fuzz: the script has no more answers");
		return WSR_EHTTP;
	}
	fake_requests++;
	const char *a = fake_next;
	const char *sep = memmem(a, fake_left, FAKE_SEPARATOR, strlen(FAKE_SEPARATOR));
	size_t len = sep ? (size_t)(sep - a) : fake_left;
	if (sep) {
		fake_next = sep + strlen(FAKE_SEPARATOR);
		fake_left -= len + strlen(FAKE_SEPARATOR);
	} else {
		fake_next = NULL;
		fake_left = 0;
	}
	resp->status = fake_status(&a, &len);
	/* a 429 or 5xx is what lib/http returns once its retries are spent */
	resp->attempts = resp->status == 429 || resp->status >= 500 ? 6 : 1;
	if (!(resp->body = malloc(len + 1)))
		return WSR_ENOMEM;
	memcpy(resp->body, a, len);
	resp->body[len] = '\0';
	resp->len = len;
	return 0;
}

int wsr_http_exhausted(const wsr_http_answer *ans)
{
	return ans->attempts > 1;
}

char *wsr_http_gave_up(const wsr_http_answer *ans)
{
	return wsr_strdupf("answered %ld after %d attempts", ans->status, ans->attempts);
}

void wsr_http_resp_free(wsr_http_resp *r)
{
	if (!r)
		return;
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

unsigned long wsr_http_requests(const wsr_http *h)
{
	(void)h;
	return fake_requests;
}

int wsr_http_pem_check(const char *pem, size_t len, wsr_http_pem what, char **err)
{
	(void)pem, (void)len, (void)what;
	*err = NULL;
	return 0; /* the targets' configs hold no PEM data */
}

int wsr_http_header_safe(const char *s)
{
	(void)s;
	return 1; /* the targets' credentials are fixed, not fuzzed */
}

/* The real encoding: ids and cursors from answers go into the next path. */
char *wsr_http_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *out = e ? strdup(e) : NULL;
	curl_free(e);
	return out;
}
#endif
