/* faults: the Loopback emulator's fault kinds on sim/faults.c's list: the
 * request faults (respond, reset, slow) and its own failTask, whose kind is
 * the type of task it fails (above WSR_SIM_FAULT_RESPOND), so one list
 * keeps every kind in order. */
#include "sim/loopback/faults.h"

#include <string.h>

#include "lib/err.h"
#include "lib/json.h"
#include "sim/loopback/body.h"

static int parse_respond(wsr_sim_fault *f, const cJSON *in, char *why)
{
	static const char *const keys[] = {"kind",	 "method",  "path",  "status",
					   "code",	 "skip",    "count", "when",
					   "retryAfter", "percent", NULL};
	int rc = wsr_lbsim_only_fields(in, keys, "", why);
	return rc ? rc : wsr_sim_fault_respond(f, in, 1, why);
}

static int parse_reset(wsr_sim_fault *f, const cJSON *in, char *why)
{
	static const char *const keys[] = {"kind", "method", "path",	"when",
					   "skip", "count",  "percent", NULL};
	int rc = wsr_lbsim_only_fields(in, keys, "", why);
	return rc ? rc : wsr_sim_fault_reset(f, in, why);
}

static int parse_slow(wsr_sim_fault *f, const cJSON *in, char *why)
{
	static const char *const keys[] = {"kind", "method", "path",	"when", "ms",
					   "skip", "count",  "percent", NULL};
	int rc = wsr_lbsim_only_fields(in, keys, "", why);
	return rc ? rc : wsr_sim_fault_slow(f, in, why);
}

static int parse_fail_task(wsr_sim_fault *f, const cJSON *in, char *why)
{
	static const char *const keys[] = {"kind", "type",  "code", "message",
					   "skip", "count", NULL};
	static const char code_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
	const char *code, *msg = "injected fault";
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(in, "message");
	int rc = wsr_lbsim_only_fields(in, keys, "", why);
	if (!rc && !(f->kind = wsr_lbsim_task_type_parse(wsr_json_str(in, "type"))))
		rc = wsr_lbsim_why(why, "type must be create, delete, upgrade or transfer");
	if (!rc)
		rc = wsr_sim_fault_text(in, "code", WSR_SIM_FAULT_CODE_MAX, code_chars, &code, why);
	if (!rc && m)
		rc = wsr_sim_fault_text(in, "message", WSR_SIM_FAULT_MESSAGE_MAX, NULL, &msg, why);
	if (rc)
		return rc;
	f->code = strdup(code);
	f->message = strdup(msg);
	return f->code && f->message ? 0 : WSR_ENOMEM;
}

int wsr_lbsim_fault_add(wsr_lbsim_store *s, const cJSON *in, char *why)
{
	wsr_sim_fault f;
	memset(&f, 0, sizeof(f));
	if (!cJSON_IsObject(in))
		return wsr_lbsim_why(why, "a fault is a JSON object");
	const char *kind = wsr_json_str(in, "kind");
	int rc;
	if (kind && strcmp(kind, "respond") == 0)
		rc = parse_respond(&f, in, why);
	else if (kind && strcmp(kind, "reset") == 0)
		rc = parse_reset(&f, in, why);
	else if (kind && strcmp(kind, "slow") == 0)
		rc = parse_slow(&f, in, why);
	else if (kind && strcmp(kind, "failTask") == 0)
		rc = parse_fail_task(&f, in, why);
	else
		rc = wsr_lbsim_why(why, "kind must be respond, reset, slow or failTask");
	if (rc) {
		wsr_sim_fault_free(&f);
		return rc;
	}
	return wsr_sim_faults_add(&s->faults, &f, in, why);
}

void wsr_lbsim_faults_clear(wsr_lbsim_store *s)
{
	wsr_sim_faults_clear(&s->faults);
}

size_t wsr_lbsim_faults_pending(const wsr_lbsim_store *s)
{
	return s->faults.n;
}

int wsr_lbsim_fault_take(wsr_lbsim_store *s, const char *method, const char *path,
			 wsr_sim_fault_hit *hit)
{
	return wsr_sim_faults_take(&s->faults, method, path, hit);
}

int wsr_lbsim_fault_task(wsr_lbsim_store *s, wsr_lbsim_task *t)
{
	wsr_sim_faults *l = &s->faults;
	for (size_t i = 0; i < l->n; i++) {
		const wsr_sim_fault *f = &l->v[i];
		if (f->kind != t->type || f->skip > 0) {
			if (f->kind == t->type)
				wsr_sim_faults_reached(l, i); /* counts one skipped */
			continue;
		}
		int rc = wsr_lbsim_task_fail(t, f->code, f->message);
		if (!rc)
			wsr_sim_faults_reached(l, i);
		return rc;
	}
	return 0;
}
