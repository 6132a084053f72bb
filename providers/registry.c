/* registry: the table of providers wsr is built with. Adding a platform is
 * one line here and one folder under providers/. */
#include <string.h>

#include "providers/loopback/loopback.h"
#include "providers/provider.h"

static const wsr_provider_ops *const providers[] = {
    &wsr_loopback_provider,
};

const wsr_provider_ops *wsr_provider_find(const char *name)
{
	for (size_t i = 0; i < sizeof(providers) / sizeof(providers[0]); i++)
		if (strcmp(providers[i]->name, name) == 0)
			return providers[i];
	return NULL;
}
