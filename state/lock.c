/* lock: what every state backend shares about locking and writing — the
 * holder record a lock carries (who, where, which command, since when,
 * under which id), the message that names a holder, the wait for a busy
 * lock (--lock-timeout) and the compare-and-swap write on top of a
 * backend's store. Where the lock lives and how it is taken is each
 * backend's (file.c: flock; etcd.c: a key on a lease). */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "state/state.h"

/* A holder record is tiny; anything larger is not one. */
#define LOCK_RECORD_MAX 4096

int wsr_state_write(wsr_state_backend *b, wsr_state *s, wsr_diag *diag)
{
	s->serial++;
	int rc = b->ops->store(b, s, s->lineage, s->serial - 1, diag);
	if (rc)
		s->serial--;
	return rc;
}

/* The waits between attempts: short at first (a plan of a few seconds
 * releases it soon), then once a second. */
static int64_t pause_ms(int attempt)
{
	return attempt < 4 ? 250 : 1000;
}

int wsr_state_lock(wsr_state_backend *b, const char *command, int64_t wait_ms, volatile int *stop,
		   wsr_diag *diag)
{
	int64_t t0 = wsr_clock_mono_ms();
	for (int attempt = 0;; attempt++) {
		wsr_diag tries;
		wsr_diag_init(&tries);
		int rc = b->ops->lock(b, command, &tries);
		int64_t waited = wsr_clock_mono_ms() - t0;
		int again = rc == WSR_ELOCKED && waited < wait_ms && !(stop && *stop);
		if (!again) {
			if (rc == WSR_ELOCKED && wait_ms > 0) {
				wsr_diag_add(
				    &tries, WSR_SEV_ERROR, NULL, NULL, NULL,
				    stop && *stop ? NULL : "wait longer with --lock-timeout",
				    "%s waiting for the state lock after %.1f s",
				    stop && *stop ? "stopped" : "gave up", (double)waited / 1000.0);
				if (stop && *stop)
					rc = WSR_EINTR;
			}
			wsr_diag_move(diag, &tries);
			wsr_diag_free(&tries);
			return rc;
		}
		wsr_diag_free(&tries);
		int64_t left = wait_ms - waited, p = pause_ms(attempt);
		wsr_sleep_ms(p < left ? p : left, stop);
	}
}

char *wsr_state_lock_record(const char *command, char **id)
{
	char host[256] = "", since[40], user[64] = "";
	*id = NULL;
	if (gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "unknown");
	const struct passwd *pw = getpwuid(geteuid());
	snprintf(user, sizeof(user), "%s", pw && pw->pw_name ? pw->pw_name : "unknown");
	char *lid = wsr_state_new_id();
	cJSON *o = lid ? cJSON_CreateObject() : NULL;
	char *text = NULL;
	if (o && cJSON_AddStringToObject(o, "id", lid) &&
	    cJSON_AddNumberToObject(o, "pid", (double)getpid()) &&
	    cJSON_AddStringToObject(o, "host", host) && cJSON_AddStringToObject(o, "user", user) &&
	    cJSON_AddStringToObject(o, "command", command ? command : "wsr") &&
	    cJSON_AddStringToObject(o, "since",
				    wsr_time_format(wsr_clock_now_ms(), since, sizeof(since))))
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!text) {
		free(lid);
		return NULL;
	}
	*id = lid;
	return text;
}

/* Copies a string of the record, keeping only printable bytes. */
static void field(char *out, size_t n, const cJSON *info, const char *key)
{
	const char *s = wsr_json_str(info, key);
	size_t j = 0;
	for (; s && *s && j + 1 < n; s++)
		out[j++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
	out[j] = '\0';
	if (!j)
		snprintf(out, n, "?");
}

int wsr_state_lock_parse(wsr_state_lock_info *info, const char *text, size_t len)
{
	cJSON *o = NULL;
	int ok = text && len <= LOCK_RECORD_MAX && wsr_json_parse(&o, text, len, NULL) == 0 &&
		 cJSON_IsObject(o);
	field(info->id, sizeof(info->id), ok ? o : NULL, "id");
	field(info->host, sizeof(info->host), ok ? o : NULL, "host");
	field(info->user, sizeof(info->user), ok ? o : NULL, "user");
	field(info->command, sizeof(info->command), ok ? o : NULL, "command");
	field(info->since, sizeof(info->since), ok ? o : NULL, "since");
	int64_t pid = 0; /* anyone's to write: no unchecked cast */
	info->pid = ok && wsr_json_int_in(o, "pid", 1, INT32_MAX, &pid) == 0 ? (long)pid : 0;
	cJSON_Delete(o);
	return ok ? 0 : WSR_ECORRUPT;
}

void wsr_state_lock_describe(const wsr_state_lock_info *info, char *out, size_t n)
{
	char pid[24] = "?";
	if (info->pid)
		snprintf(pid, sizeof(pid), "%ld", info->pid);
	snprintf(out, n, "pid %s on host %s (%s, by %s, since %s; lock id %s)", pid, info->host,
		 info->command, info->user, info->since, info->id);
}
