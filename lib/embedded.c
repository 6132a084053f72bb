/* embedded: lookup over the table that tools/embed.c generates. */
#include "lib/embedded.h"

#include <string.h>

const wsr_embedded_file *wsr_embedded_find(const char *path)
{
	for (const wsr_embedded_file *f = wsr_embedded_files; f->path; f++)
		if (strcmp(f->path, path) == 0)
			return f;
	return NULL;
}
