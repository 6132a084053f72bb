/* loopback: the provider for the Loopback hosting platform (REST API
 * described in docs/api/loopback.md). Exposes the ops table and the name
 * rule the loader needs before any platform is reached. */
#ifndef WSR_PROVIDERS_LOOPBACK_H
#define WSR_PROVIDERS_LOOPBACK_H
#include <stddef.h>

#include "providers/provider.h"

extern const wsr_provider_ops wsr_loopback_provider;

/* Longest workspace name the platform accepts. */
#define WSR_LOOPBACK_NAME_MAX 63

/* Writes into out (size outlen, at least WSR_LOOPBACK_NAME_MAX + 1) the form
 * the platform turns a requested name into: lowercased; every character
 * outside [a-z0-9-] becomes '-'; runs of '-' become one; leading and trailing
 * '-' removed; cut to 63 characters (and a trailing '-' removed again).
 * Returns out. An all-invalid name sanitizes to "". */
char *wsr_loopback_sanitize_name(const char *name, char *out, size_t outlen);
#endif
