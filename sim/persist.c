/* persist: one file per record. Creating one workspace among 10,000 writes
 * one small file instead of rewriting everything; loading reads every file
 * back through the emulator's own loader. */
#include "sim/persist.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/json.h"

#define FILE_MODE 0600
#define DIR_MODE 0700
/* platform.json holds a checked seed, itself at most WSR_SIM_MAX_SEED of YAML */
#define MAX_PLATFORM (4u * WSR_SIM_MAX_SEED)

int wsr_sim_persist_write(const char *dir, const char *sub, const char *stem, cJSON *v)
{
	char *folder = sub ? wsr_strdupf("%s/%s", dir, sub) : wsr_strdupf("%s", dir);
	char *path = wsr_strdupf("%s/%s.json", folder ? folder : "", stem);
	char *text = v ? cJSON_PrintUnformatted(v) : NULL;
	int rc = folder && path && text ? wsr_fs_mkdirs(folder, DIR_MODE) : WSR_ENOMEM;
	if (!rc)
		rc = wsr_fs_write_atomic(path, text, strlen(text), FILE_MODE);
	free(folder);
	free(path);
	free(text);
	cJSON_Delete(v);
	return rc;
}

int wsr_sim_persist_remove(const char *dir, const char *sub, const char *stem)
{
	char *path = sub ? wsr_strdupf("%s/%s/%s.json", dir, sub, stem)
			 : wsr_strdupf("%s/%s.json", dir, stem);
	int rc = !path ? WSR_ENOMEM : (unlink(path) < 0 && errno != ENOENT) ? WSR_EIO : 0;
	free(path);
	return rc;
}

int wsr_sim_persist_names(char ***out, size_t *n, const char *folder)
{
	*out = NULL;
	*n = 0;
	DIR *d = opendir(folder);
	if (!d)
		return errno == ENOENT ? 0 : WSR_EIO;
	size_t cap = 0;
	int rc = 0;
	struct dirent *e;
	while (!rc && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    strstr(e->d_name, ".tmp."))
			continue;
		if (*n == cap) {
			char **p = realloc(*out, (cap = cap ? cap * 2 : 64) * sizeof(*p));
			if (!p) {
				rc = WSR_ENOMEM;
				break;
			}
			*out = p;
		}
		if (!((*out)[*n] = strdup(e->d_name)))
			rc = WSR_ENOMEM;
		else
			(*n)++;
	}
	closedir(d);
	return rc;
}

void wsr_sim_persist_names_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int wsr_sim_persist_load_file(const char *path, const char *stem, size_t max, wsr_sim_load_fn fn,
			      void *ctx, char **err)
{
	char *text = NULL, *perr = NULL;
	size_t len = 0;
	cJSON *v = NULL;
	const char *why = NULL;
	int rc = wsr_fs_read(&text, &len, path, max);
	if (rc)
		why = wsr_strerror(rc);
	else if ((rc = wsr_json_parse(&v, text, len, &perr)) != 0)
		why = perr;
	else if ((rc = fn(ctx, stem, v, &why)) != 0 && !why)
		why = wsr_strerror(rc);
	if (rc)
		*err = wsr_strdupf("%s: %s", path, why);
	free(text);
	free(perr);
	cJSON_Delete(v);
	return rc ? (rc == WSR_ENOMEM ? rc : WSR_ECORRUPT) : 0;
}

int wsr_sim_persist_load_folder(const char *folder, size_t max, wsr_sim_load_fn fn, void *ctx,
				char **err)
{
	char **names;
	size_t n;
	int rc = wsr_sim_persist_names(&names, &n, folder);
	if (rc)
		*err = wsr_strdupf("%s: cannot read the folder", folder);
	for (size_t i = 0; !rc && i < n; i++) {
		size_t len = strlen(names[i]);
		char *path = wsr_strdupf("%s/%s", folder, names[i]);
		if (!path)
			rc = WSR_ENOMEM;
		else if (len <= 5 || strcmp(names[i] + len - 5, ".json") != 0) {
			*err = wsr_strdupf("%s: not a data file of the emulator", path);
			rc = WSR_ECORRUPT;
		} else {
			names[i][len - 5] = '\0';
			rc = wsr_sim_persist_load_file(path, names[i], max, fn, ctx, err);
		}
		free(path);
	}
	wsr_sim_persist_names_free(names, n);
	return rc;
}

cJSON *wsr_sim_persist_ms(int64_t ms)
{
	return ms ? cJSON_CreateNumber((double)ms) : cJSON_CreateNull();
}

int wsr_sim_persist_get_ms(const cJSON *v, const char *key, int nullable, int64_t *out)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(v, key);
	*out = 0;
	if (nullable && cJSON_IsNull(x))
		return 0;
	if (!cJSON_IsNumber(x) || x->valuedouble < 0)
		return WSR_ECORRUPT;
	*out = (int64_t)x->valuedouble;
	return 0;
}

int wsr_sim_persist_platform(const char *dir, const cJSON *platform)
{
	int rc = wsr_fs_mkdirs(dir, DIR_MODE);
	return rc ? rc : wsr_sim_persist_write(dir, NULL, "platform", cJSON_Duplicate(platform, 1));
}

typedef struct platform_ctx {
	wsr_sim_seed_check_fn check;
	cJSON *platform;
	char why[400];
} platform_ctx;

static int check_platform(void *ctx, const char *stem, const cJSON *v, const char **why)
{
	(void)stem;
	platform_ctx *p = ctx;
	wsr_check_err e = {.nsteps = 0};
	int rc = p->check(&p->platform, v, &e);
	if (rc == WSR_EINVAL) {
		char where[128];
		wsr_check_path(&e, where, sizeof(where));
		snprintf(p->why, sizeof(p->why), "%s: %s", where[0] ? where : "(top)", e.msg);
		*why = p->why;
	}
	return rc;
}

static int check_empty(const char *dir, char **err)
{
	char **names;
	size_t n;
	int rc = wsr_sim_persist_names(&names, &n, dir);
	if (rc)
		*err = wsr_strdupf("%s: cannot read the folder", dir);
	else if (n) {
		*err = wsr_strdupf(
		    "%s: holds files but no platform.json; use an empty or new folder", dir);
		rc = WSR_ECORRUPT;
	}
	wsr_sim_persist_names_free(names, n);
	return rc ? rc : WSR_ENOTFOUND;
}

int wsr_sim_persist_load_platform(cJSON **out, const char *dir, wsr_sim_seed_check_fn check,
				  char **err)
{
	*out = NULL;
	*err = NULL;
	char *path = wsr_strdupf("%s/platform.json", dir);
	if (!path)
		return WSR_ENOMEM;
	platform_ctx p = {check, NULL, ""};
	int rc = access(path, F_OK) == 0 ? wsr_sim_persist_load_file(path, "platform", MAX_PLATFORM,
								     check_platform, &p, err)
					 : check_empty(dir, err);
	free(path);
	if (rc)
		cJSON_Delete(p.platform);
	else
		*out = p.platform;
	return rc;
}
