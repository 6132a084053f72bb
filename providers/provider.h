/* provider: the contract between the engine and a platform. A provider knows
 * one platform's API and rules; it knows nothing of plans, ordering, state,
 * parallelism or the command line — the engine owns those so that every
 * provider gets them the same way. Providers never include reconciler headers.
 *
 * Life of a provider in one run:
 *   open(config)  -> list(observed) [-> read(address)... when partial_list]
 *                 -> check(change)... -> start/poll... -> close
 *
 * Threading: list, read and check are called from one thread. start and
 * poll may be called concurrently from several apply workers (different
 * ops), so a provider must make them thread-safe (the http client in lib/
 * is). */
#ifndef WSR_PROVIDERS_PROVIDER_H
#define WSR_PROVIDERS_PROVIDER_H
#include <stddef.h>

#include <cJSON.h>

#include "lib/diag.h"
#include "lib/http.h"
#include "providers/resource.h"

typedef struct wsr_provider wsr_provider; /* defined by each provider */
typedef struct wsr_op wsr_op;		  /* one operation in flight, defined by each provider */

typedef struct wsr_provider_ops {
	const char *name; /* "loopback", "kcp" */

	/* Opens a provider from its config object (the providers.<name> block of
	 * wsr.yaml, defaults filled, "endpoint" already resolved to a URL; the
	 * engine may add "apiKey" for the embedded platform, and "deadlineMs"
	 * (a wsr_clock_mono_ms() time) with "deadlineHint" ("--timeout 5m") when
	 * the run has a deadline). Problems go to diag. */
	int (*open)(wsr_provider **out, const cJSON *config, wsr_diag *diag);

	/* Adds every resource the credentials can see, in canonical shape with
	 * id and status set, to observed. Paginated listing, not one request
	 * per resource. */
	int (*list)(wsr_provider *p, wsr_resource_set *observed, wsr_diag *diag);

	/* Plan-time check of one change against the platform's rules (unknown
	 * version, unverified organization, missing permission, ...). Every
	 * refusal the platform would give is an error in diag with the change's
	 * address; the provider may add reasons or extra plan data to change. */
	int (*check)(wsr_provider *p, wsr_change *change, wsr_diag *diag);

	/* Starts one action of a change. Returns 0 with *op set (the operation
	 * may already be finished), or an error with the platform's reason in
	 * diag. Must be idempotent across retries (Idempotency-Key on create). */
	int (*start)(wsr_provider *p, const wsr_change *change, wsr_action action, wsr_op **op,
		     wsr_diag *diag);

	/* Advances an operation without blocking for long. Sets *done when it
	 * has finished; then *result is the resource as the platform now has it
	 * (NULL after a delete). Returns an error (reason in diag) when the
	 * operation failed.
	 *
	 * An action made of several platform steps (an upgrade along a path of
	 * versions, one hop at a time) reports each finished step before the
	 * last: *done stays 0 and *result is the resource after that step, so
	 * the engine records it in state and a crash loses no finished step.
	 * The caller owns *result either way. */
	int (*poll)(wsr_provider *p, wsr_op *op, int *done, wsr_resource **result, wsr_diag *diag);

	/* Frees an op, finished or not. */
	void (*op_free)(wsr_op *op);

	void (*close)(wsr_provider *p);

	/* Reads one resource by address (`wsr import`). Returns 0 with *out
	 * NULL when the platform has no such resource; an error in diag when it
	 * cannot tell. */
	int (*read)(wsr_provider *p, const char *address, wsr_resource **out, wsr_diag *diag);

	/* Optional (NULL when the platform has none): the compute profiles the
	 * resource at address can use, with prices (`wsr profiles`). *out is
	 *   {"address": "...", "computeProvider": "...",
	 *    "profiles": [{"name", "serverType", "cpu", "memoryGiB",
	 *                  "available", "unavailableReason" (string or null),
	 *                  "prices": {"currency", "setup", "hourly", "monthly"},
	 *                  "priceSource": "list" | "override"}]}
	 * with prices as decimal strings, profiles ordered by name. */
	int (*profiles)(wsr_provider *p, const char *address, cJSON **out, wsr_diag *diag);

	/* Optional (NULL when resources do not nest): writes into buf (n bytes)
	 * the address of the resource of this platform that the resource of kind
	 * at address lives inside (a kcp workspace's parent workspace), or ""
	 * when it lives inside nothing wsr could manage (a top-level workspace,
	 * a home workspace whose buckets the provider makes itself). Needs no
	 * open provider: the engine asks it while planning, to create parents
	 * before children and delete children before parents. */
	int (*parent)(const char *kind, const char *address, char *buf, size_t n);

	/* 1 when list may leave out resources that exist: some cannot be
	 * listed at all (a kcp home workspace in logicalcluster style has no
	 * parent to list it under). After list, the engine then calls read
	 * for every desired or recorded address of this provider that the
	 * listing did not return, and adds what read finds to observed. Such
	 * a provider's read should answer "absent" without a request when its
	 * listing already shows that (a workspace whose parent was listed). */
	int partial_list;
} wsr_provider_ops;

/* Longest address accepted from a user: a Loopback address is at most
 * 9 + 63 + 1 + 63 bytes; a kcp one is "kcp/" and a path of at most 1024
 * bytes (docs/api/kcp.md). */
#define WSR_ADDRESS_MAX 1028

/* Fills the bounded waits of o from a provider's config object: the
 * durations connectTimeout, requestTimeout and retryBudget of the block
 * (each from 1 ms to WSR_HTTP_MAX_WAIT_MS; absent: lib/http's defaults),
 * the run's deadline the engine added, and block ("providers.kcp") as the
 * place messages tell the user to change them. Strings stay the config's.
 * Returns 0, or WSR_EINVAL with an error in diag. */
int wsr_provider_http_limits(wsr_http_opts *o, const cJSON *config, const char *block,
			     wsr_diag *diag);

/* The providers wsr knows, by name; NULL when unknown. */
const wsr_provider_ops *wsr_provider_find(const char *name);

/* Checks what every provider's addresses share — "<provider>/<segment>..."
 * of lowercase letters, digits, '-', '_', '.', ':', '@' (a kcp home's user
 * name), no empty segment and none starting with '.' (no "..") — and finds
 * the provider. The provider then checks its own form (how many segments,
 * which characters). Returns the provider, or NULL after an error in diag
 * (the address quoted safely for a terminal). */
const wsr_provider_ops *wsr_provider_for_address(const char *address, wsr_diag *diag);
#endif
