/* kcp: the provider for kcp, the Kubernetes-like control plane whose
 * workspaces form a tree (wire contract: docs/api/kcp.md; how the provider
 * uses it: docs/providers/kcp.md). Exposes the ops table and the one rule
 * the engine needs without an open provider: which workspace contains which. */
#ifndef WSR_PROVIDERS_KCP_H
#define WSR_PROVIDERS_KCP_H
#include <stddef.h>

#include "providers/provider.h"

extern const wsr_provider_ops wsr_kcp_provider;

#define WSR_KCP_KIND_WORKSPACE "kcp.wsr.dev/v1/Workspace"
#define WSR_KCP_KIND_HOME "kcp.wsr.dev/v1/HomeWorkspace"

/* The `parent` op: writes into buf (n bytes) the address of the workspace
 * that contains the resource of kind at address. A Workspace "kcp/a:b:c"
 * lives in "kcp/a:b"; one directly under root (a single-segment parent) and
 * every HomeWorkspace (its buckets are the provider's business) in nothing:
 * "". Returns 0; WSR_EINVAL for an unknown kind or an address that is not
 * "kcp/root:<name>[:<name>...]" (names as kcp allows them); WSR_ELIMIT when
 * buf is too small (buf is then ""). */
int wsr_kcp_parent(const char *kind, const char *address, char *buf, size_t n);
#endif
