/* window: maintenance windows of Loopback workspaces for `wsr watch` (see
 * window.h). Kept apart from plan.c because plan and apply never wait: the
 * hold is a watch-only decision laid over an ordinary plan, and keeping the
 * calendar here leaves the plan the same whichever command built it.
 *
 * The arithmetic is done on whole UTC days since the epoch rather than with
 * gmtime(): windows are hours of weekdays, day 0 (1970-01-01) was a
 * Thursday, and no time zone or leap second can move a UTC hour.
 *
 * maintenance.enabled: false does not remove the window: it switches off
 * the platform's own routine maintenance, while the schedule still says
 * when the owner accepts an interruption, so wsr keeps waiting for it. */
#include "reconciler/window.h"

#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"

#define DAY_MS (24 * WSR_WINDOW_LENGTH_MS)
#define EPOCH_WEEKDAY 4 /* 1970-01-01 was a Thursday; 0 = Sunday */

typedef enum { MODE_WINDOW, MODE_PRIORITY, MODE_IMMEDIATE } mode;

/* Days since the epoch, rounding toward minus infinity so instants before
 * 1970 still land on their own day. */
static int64_t day_of(int64_t ms)
{
	return ms >= 0 ? ms / DAY_MS : -((-ms + DAY_MS - 1) / DAY_MS);
}

static int weekday_of(int64_t day)
{
	return (int)(((day % 7) + 7 + EPOCH_WEEKDAY) % 7);
}

/* The hour v holds, or -1 when it is not a whole number 0-23 (a value the
 * schema would refuse is no window rather than a wrong one). */
static int hour_of(const cJSON *v)
{
	if (!cJSON_IsNumber(v))
		return -1;
	double d = v->valuedouble;
	if (d < 0 || d > 23 || d != (double)(int)d)
		return -1;
	return (int)d;
}

/* The weekly schedule in hours[weekday] (-1: no window that day): the
 * desired spec's when it has one, else the observed's; one with no usable
 * weekday, or none at all, is the platform's default. */
static void schedule_of(int hours[7], const cJSON *desired, const cJSON *observed)
{
	static const char *days[] = {"0", "1", "2", "3", "4", "5", "6"};
	const cJSON *s = wsr_json_path(desired, "maintenance.schedule");
	if (!cJSON_IsObject(s))
		s = wsr_json_path(observed, "maintenance.schedule");
	int n = 0;
	for (int d = 0; d < 7; d++) {
		hours[d] =
		    cJSON_IsObject(s) ? hour_of(cJSON_GetObjectItemCaseSensitive(s, days[d])) : -1;
		n += hours[d] >= 0;
	}
	for (int d = 0; d < 7 && n == 0; d++)
		hours[d] = WSR_WINDOW_DEFAULT_HOUR;
}

static int priority_hour_of(const cJSON *desired, const cJSON *observed)
{
	int h = hour_of(wsr_json_path(desired, "maintenance.priorityHour"));
	if (h < 0)
		h = hour_of(wsr_json_path(observed, "maintenance.priorityHour"));
	return h < 0 ? WSR_WINDOW_DEFAULT_PRIORITY_HOUR : h;
}

int wsr_window_next(int64_t *start_ms, const cJSON *desired_spec, const cJSON *observed_spec,
		    int priority, int64_t now_ms)
{
	int hours[7];
	if (priority) {
		int h = priority_hour_of(desired_spec, observed_spec);
		for (int d = 0; d < 7; d++)
			hours[d] = h;
	} else {
		schedule_of(hours, desired_spec, observed_spec);
	}
	/* Windows never cross midnight (the latest is 23:00-24:00), so the one
	 * in progress or next starts today or on one of the 7 days after: a
	 * schedule with only today's weekday, whose window has passed, has its
	 * next one a week later. */
	int64_t today = day_of(now_ms);
	for (int64_t day = today; day <= today + 7; day++) {
		int h = hours[weekday_of(day)];
		if (h < 0)
			continue;
		int64_t start = day * DAY_MS + h * WSR_WINDOW_LENGTH_MS;
		if (start + WSR_WINDOW_LENGTH_MS <= now_ms)
			continue;
		*start_ms = start;
		return start <= now_ms;
	}
	*start_ms = now_ms; /* not reached: schedule_of leaves at least one weekday */
	return 1;
}

char *wsr_window_label(int64_t ms, char *out, size_t outlen)
{
	static const char *names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	if (!out || !outlen)
		return out;
	int64_t day = day_of(ms), in_day = ms - day * DAY_MS;
	snprintf(out, outlen, "%s %02d:%02d UTC", names[weekday_of(day)],
		 (int)(in_day / WSR_WINDOW_LENGTH_MS),
		 (int)(in_day % WSR_WINDOW_LENGTH_MS / 60000));
	return out;
}

/* What the item's desired spec asks for; a value the schema would refuse
 * counts as absent. */
static mode mode_of(const cJSON *desired_spec, wsr_disrupt_default dflt)
{
	const char *m = wsr_json_str(wsr_json_obj(desired_spec, "lifecycle"), "disruptive");
	if (m && strcmp(m, "window") == 0)
		return MODE_WINDOW;
	if (m && strcmp(m, "priority") == 0)
		return MODE_PRIORITY;
	if (m && strcmp(m, "immediate") == 0)
		return MODE_IMMEDIATE;
	return dflt == WSR_DISRUPT_IMMEDIATE ? MODE_IMMEDIATE : MODE_WINDOW;
}

int wsr_window_hold(wsr_plan *p, int64_t now_ms, wsr_disrupt_default dflt)
{
	int held = 0;
	for (size_t i = 0; p && i < p->n; i++) {
		wsr_plan_item *it = &p->items[i];
		const wsr_change *c = it->change;
		if (it->hold || !c || !c->disruptive || c->nactions == 0 || !c->provider ||
		    strcmp(c->provider, "loopback") != 0)
			continue;
		/* change->desired is the effective spec when lifecycle.ignoreChanges
		 * keeps the platform's values: a schedule left to others is theirs */
		const cJSON *want = c->desired ? c->desired->spec : NULL;
		const cJSON *seen = c->observed ? c->observed->spec : NULL;
		mode m = mode_of(want, dflt);
		int64_t start;
		if (m == MODE_IMMEDIATE ||
		    wsr_window_next(&start, want, seen, m == MODE_PRIORITY, now_ms))
			continue;
		char label[32];
		wsr_window_label(start, label, sizeof(label));
		it->hold = wsr_strdupf("waiting for maintenance window (%snext: %s)",
				       m == MODE_PRIORITY ? "priority hour; " : "", label);
		if (!it->hold)
			return WSR_ENOMEM;
		it->hold_until_ms = start;
		held++;
	}
	return held;
}
