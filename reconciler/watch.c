/* watch: the loop of `wsr watch`. This file owns the sources, the
 * triggers, signals and one reconcile's bookkeeping (holds, backoff,
 * events, status); the flow itself is run.c and apply.c, as for `wsr
 * apply`. Events and the status document are watch_report.c. */
#include "reconciler/watch.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/etcd.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/secret.h"
#include "reconciler/apply.h"
#include "reconciler/config.h"
#include "reconciler/run.h"
#include "reconciler/source_dir.h"
#include "reconciler/source_git.h"
#include "reconciler/state_backend.h"
#include "reconciler/watch_ha.h"
#include "reconciler/watch_http.h"
#include "reconciler/watch_report.h"
#include "reconciler/webhook.h"
#include "reconciler/window.h"

#define DEBOUNCE_QUIET_MS 20 /* a burst of writes is over after this much quiet */
#define DEBOUNCE_MAX_MS 100  /* ... or after this long, whichever comes first */
#define TICK_MS 1000	     /* the loop wakes at least this often (heartbeat) */
/* the command an HA leader's state lock records: a lock with it that is not
 * ours is a former leader's, whose writes the fence refuses (see
 * break_old_leader_lock) */
#define HA_COMMAND "wsr watch (ha leader)"

/* stop_flag is read by the apply workers too: an atomic (reconciler/apply.h) */
static atomic_int stop_flag;
static volatile sig_atomic_t hup_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag++;
}

static void on_hup(int sig)
{
	(void)sig;
	hup_flag = 1;
}

typedef struct watch {
	const wsr_watch_opts *o;
	wsr_config *cfg; /* for the watch block; run.c reads its own copy per reconcile */
	int64_t interval_ms, backoff_initial_ms, backoff_max_ms;
	int self_heal;
	wsr_disrupt_default disruptive;
	wsr_report rep; /* what status, metrics and events say */
	/* sources */
	wsr_dir_watch *dw;
	wsr_git *git;
	char rev[41];	      /* the revision the specs come from ("" for a directory) */
	wsr_spec_files files; /* the specs of rev (git) */
	int have_files;
	/* triggers */
	int wake_fd; /* eventfd the webhook writes */
	wsr_watch_http *http;
	char *secret;
	size_t secret_len;
	/* watch.ha */
	wsr_ha *ha;
	int ha_fd;	    /* eventfd the election writes */
	int64_t ha_version; /* of the election's state last reported */
	int ha_leader;	    /* this replica led at the last report */
	int ha_became;	    /* ... and became leader since the loop last looked */
	char ha_seen[64];   /* the leader's id last reported */
} watch;

/* ---- configuration ---------------------------------------------------- */

static int load_config(wsr_config **out, const wsr_watch_opts *o, wsr_diag *diag)
{
	if (o->config_file)
		return wsr_config_load_file(out, o->config_file, diag);
	return wsr_config_load(out, o->git_url ? "." : (o->dir ? o->dir : "."), diag);
}

/* Takes the watch block of cfg (validated: durations match the schema's
 * pattern, so parsing cannot fail here but for the bounds). */
static int take_config(watch *w, wsr_config *cfg, wsr_diag *diag)
{
	const cJSON *wb = cfg->watch;
	int64_t interval = 0, initial = 0, max = 0;
	if (wsr_clock_duration(&interval, wsr_json_str(wb, "interval")) ||
	    wsr_clock_duration(&initial, wsr_json_str(wsr_json_path(wb, "backoff"), "initial")) ||
	    wsr_clock_duration(&max, wsr_json_str(wsr_json_path(wb, "backoff"), "max")) ||
	    interval <= 0 || initial <= 0 || max < initial) {
		wsr_pos pos = {cfg->file, 0, 0};
		wsr_diag_add(diag, WSR_SEV_ERROR, cfg->file ? &pos : NULL, NULL, NULL,
			     "write durations like 30s or 5m; backoff.max at least backoff.initial",
			     "watch: an interval or backoff duration is out of range");
		return WSR_EINVAL;
	}
	char *secret = NULL;
	size_t secret_len = 0;
	const char *sf = wsr_json_str(wsr_json_path(wb, "webhook"), "secretFile");
	if (sf) {
		char *path = wsr_config_path(cfg, sf);
		int rc =
		    path ? wsr_webhook_secret_read(&secret, &secret_len, path, diag) : WSR_ENOMEM;
		free(path);
		if (rc)
			return rc;
	}
	free(w->secret);
	w->secret = secret;
	w->secret_len = secret_len;
	w->interval_ms = w->o->interval_ms ? w->o->interval_ms : interval;
	w->backoff_initial_ms = initial;
	w->backoff_max_ms = max;
	w->self_heal = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(wb, "selfHeal"));
	const char *d = wsr_json_str(wb, "disruptive");
	w->disruptive =
	    d && strcmp(d, "immediate") == 0 ? WSR_DISRUPT_IMMEDIATE : WSR_DISRUPT_WINDOW;
	wsr_config_free(w->cfg);
	w->cfg = cfg;
	return 0;
}

static void reload(watch *w)
{
	wsr_diag diag = WSR_DIAG_INIT;
	wsr_config *cfg = NULL;
	int rc = load_config(&cfg, w->o, &diag);
	if (!rc)
		rc = take_config(w, cfg, &diag);
	if (rc) {
		wsr_config_free(cfg);
		wsr_report_diag(&w->rep, &diag, "config");
		wsr_report_event(&w->rep, "error", "reload", "result",
				 "kept the previous configuration", WSR_EV_END);
	} else {
		wsr_report_event(&w->rep, "info", "reload", "result", "ok", WSR_EV_END);
	}
	wsr_diag_free(&diag);
}

/* ---- sources ----------------------------------------------------------- */

/* The token from tokenEnv, else tokenFile; *token NULL when neither is
 * set. A token file named but unreadable is an error, not "no token": the
 * daemon would otherwise fetch without it and fail far from the cause. */
static int git_token(char **token, const wsr_config *cfg, wsr_diag *diag)
{
	*token = NULL;
	const cJSON *g = wsr_json_path(cfg->watch, "git");
	const char *env = wsr_json_str(g, "tokenEnv");
	const char *v = env ? getenv(env) : NULL;
	if (v && *v)
		return (*token = strdup(v)) ? 0 : WSR_ENOMEM;
	const char *file = wsr_json_str(g, "tokenFile");
	if (!file)
		return 0;
	char *path = wsr_config_path(cfg, file);
	size_t len = 0;
	int rc =
	    path ? wsr_secret_read(token, &len, path, "git token file", "watch.git.tokenFile", diag)
		 : WSR_ENOMEM;
	free(path);
	return rc;
}

static int open_source(watch *w, wsr_diag *diag)
{
	if (!w->o->git_url) {
		if (w->o->once)
			return 0;
		return wsr_dir_watch_open(&w->dw, w->o->dir ? w->o->dir : ".", diag);
	}
	const cJSON *g = wsr_json_path(w->cfg->watch, "git");
	int64_t timeout_ms = 0;
	if (wsr_clock_duration(&timeout_ms, wsr_json_str(g, "timeout")) || timeout_ms < 1000 ||
	    timeout_ms > (int64_t)WSR_GIT_MAX_TIMEOUT_S * 1000) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, "e.g. timeout: 2m",
			     "watch.git.timeout is not a duration from 1s to %dm",
			     WSR_GIT_MAX_TIMEOUT_S / 60);
		return WSR_EINVAL;
	}
	char *cache = wsr_config_path(w->cfg, wsr_json_str(g, "cacheDir"));
	char *key = wsr_config_path(w->cfg, wsr_json_str(g, "sshKeyFile"));
	char *token = NULL;
	int trc = git_token(&token, w->cfg, diag);
	wsr_git_opts go = {.url = w->o->git_url,
			   .ref = w->o->git_ref,
			   .path = w->o->git_path,
			   .cache_dir = cache,
			   .token = token,
			   .username = wsr_json_str(g, "username"),
			   .ssh_key = key,
			   .timeout_s = (int)((timeout_ms + 999) / 1000)};
	int rc = trc ? trc : cache ? wsr_git_open(&w->git, &go, diag) : WSR_ENOMEM;
	if (token)
		memset(token, 0, strlen(token));
	free(token);
	free(cache);
	free(key);
	return rc;
}

/* Fetches and, when the revision moved, reads its specs. A failure keeps
 * the last good revision: a vanished branch or an unreachable server is
 * reported, and the loop goes on with what it had. */
static void fetch(watch *w)
{
	if (!w->git)
		return;
	wsr_diag diag = WSR_DIAG_INIT;
	char rev[41] = "";
	int64_t t0 = wsr_clock_mono_ms();
	int rc = wsr_git_fetch(w->git, rev, &diag);
	wsr_report_fetch(&w->rep, (double)(wsr_clock_mono_ms() - t0) / 1000.0);
	if (!rc && (!w->have_files || strcmp(rev, w->rev) != 0)) {
		wsr_spec_files files = {0};
		rc = wsr_git_read(w->git, rev, &files, &diag);
		if (!rc) {
			wsr_spec_files_free(&w->files);
			w->files = files;
			w->have_files = 1;
			memcpy(w->rev, rev, sizeof(w->rev));
			wsr_report_event(&w->rep, "info", "source", "revision", rev, WSR_EV_END);
		} else {
			wsr_spec_files_free(&files);
		}
	}
	if (rc) {
		wsr_report_diag(&w->rep, &diag, "source");
		wsr_report_source(&w->rep, w->have_files ? w->rev : NULL,
				  diag.n ? diag.v[0].summary : wsr_strerror(rc));
	} else {
		wsr_report_source(&w->rep, w->rev, NULL);
	}
	wsr_diag_free(&diag);
}

/* ---- one reconcile ------------------------------------------------------ */

/* Only drift: every changed field changed outside wsr, or the resource
 * vanished from the platform while its spec stayed as applied. */
static int drift_only(const wsr_plan_item *it)
{
	const wsr_change *c = it->change;
	if (!c->nactions || !c->desired || !it->recorded)
		return 0;
	if (!c->observed)
		return cJSON_Compare(it->recorded->applied, c->desired->spec, 1);
	if (!c->nfields)
		return 0;
	for (size_t i = 0; i < c->nfields; i++)
		if (!c->fields[i].drift)
			return 0;
	return 1;
}

static int hold(wsr_plan_item *it, int64_t until, const char *fmt, const char *arg)
{
	if (it->hold)
		return 0;
	it->hold = wsr_strdupf(fmt, arg);
	it->hold_until_ms = until;
	return it->hold ? 0 : WSR_ENOMEM;
}

/* What waits, and why: a refusal of the platform's stops its own
 * workspace only; drift waits for a person when selfHeal is off; a
 * workspace that failed waits for its retry. */
static int place_holds(watch *w, wsr_plan *p, const wsr_diag *diag, int64_t now)
{
	int rc = 0;
	for (size_t i = 0; i < p->n && !rc; i++) {
		wsr_plan_item *it = &p->items[i];
		if (!it->change->nactions)
			continue;
		for (size_t k = 0; k < diag->n && !rc; k++) {
			const wsr_diag_entry *e = &diag->v[k];
			if (e->severity == WSR_SEV_ERROR && e->address &&
			    strcmp(e->address, it->change->address) == 0)
				rc = hold(it, 0, "refused: %s", e->summary);
		}
		if (!rc && !w->self_heal && drift_only(it))
			rc = hold(it, 0, "%s", "drift: selfHeal is off, so wsr only reports it");
		int64_t retry = wsr_report_retry_at(&w->rep, it->change->address);
		if (!rc && retry > now) {
			char when[40];
			wsr_time_format(retry, when, sizeof(when));
			rc = hold(it, retry, "backing off after a failure (retry at %s)", when);
		}
	}
	if (!rc && wsr_window_hold(p, now, w->disruptive) < 0)
		rc = WSR_ENOMEM;
	return rc;
}

/* Errors that are not about one workspace or one file stop the reconcile. */
static int blocking_errors(const wsr_diag *diag, const wsr_run *r)
{
	for (size_t i = 0; i < diag->n; i++) {
		const wsr_diag_entry *e = &diag->v[i];
		if (e->severity != WSR_SEV_ERROR || e->address)
			continue;
		int in_bad = 0;
		for (size_t k = 0; e->file && k < r->nbad; k++)
			in_bad |= strcmp(e->file, r->bad_files[k]) == 0;
		if (!in_bad)
			return 1;
	}
	return 0;
}

static int ha_update(watch *w);

typedef struct item_ctx {
	watch *w;
	int *rcs; /* per plan item: 1 not run, 0 ok, <0 error */
	wsr_plan *p;
	wsr_diag *diag;
} item_ctx;

/* The first error apply reported about address, copied under the list's
 * lock (other workers may be adding to it). */
static char *error_for(wsr_diag *diag, const char *address)
{
	char *out = NULL;
	pthread_mutex_lock(&diag->mu);
	for (size_t i = 0; i < diag->n && !out; i++)
		if (diag->v[i].severity == WSR_SEV_ERROR && diag->v[i].address &&
		    strcmp(diag->v[i].address, address) == 0)
			out = strdup(diag->v[i].summary);
	pthread_mutex_unlock(&diag->mu);
	return out;
}

static void on_item(void *arg, const wsr_plan_item *it, int rc)
{
	item_ctx *c = arg;
	c->rcs[it - c->p->items] = rc;
	char *error = rc ? error_for(c->diag, it->change->address) : NULL;
	wsr_report_change(&c->w->rep, it, rc, error, c->w->backoff_initial_ms, c->w->backoff_max_ms,
			  wsr_clock_now_ms());
	free(error);
	if (c->w->http)
		wsr_watch_http_beat(c->w->http);
	/* a leadership lost mid-reconcile shows now, not when the operations
	 * still in flight have finished (apply serializes this call, and the
	 * loop's thread is busy writing state, not reporting) */
	ha_update(c->w);
}

/* A leader killed mid-reconcile leaves its state lock until the lock's
 * lease expires (30 s), far longer than a failover. That lock is a former
 * leader's (HA_COMMAND; this replica holds none between reconciles), and
 * the former leader can no longer change anything: it stopped starting
 * operations before its lease ran out, and the fence refuses its state
 * writes. So the new leader removes it, as `wsr state unlock` would. A
 * lock of anyone else (`wsr apply` from CI) is left alone: the reconcile
 * then fails as locked and is tried again. */
static void break_old_leader_lock(watch *w)
{
	wsr_diag diag = WSR_DIAG_INIT;
	wsr_state_backend *b = NULL;
	wsr_state_lock_info info;
	if (wsr_state_backend_open(&b, w->cfg, &diag) == 0 && b->ops->holder &&
	    b->ops->force_unlock && b->ops->holder(b, &info, &diag) == 0 &&
	    strcmp(info.command, HA_COMMAND) == 0) {
		char who[512];
		wsr_state_lock_describe(&info, who, sizeof(who));
		int rc = b->ops->force_unlock(b, info.id, &diag);
		wsr_report_event(&w->rep, rc ? "warn" : "info", "ha", "result",
				 rc ? "could not remove a former leader's state lock"
				    : "removed a former leader's state lock",
				 "holder", who, WSR_EV_END);
	}
	if (b)
		b->ops->free(b);
	wsr_diag_free(&diag);
}

/* One reconcile: 0 when it ran through (failed changes included), an
 * error when it could not plan. *changes: the plan had changes. */
static int reconcile(watch *w, const char *why, int *changes)
{
	int64_t t0 = wsr_clock_mono_ms();
	*changes = 0;
	const char *fence_key = NULL;
	int64_t fence_rev = 0;
	if (w->ha && !wsr_ha_leader(w->ha, &fence_key, &fence_rev))
		return 0; /* a follower keeps its source fresh, and nothing else */
	if (w->git && !w->have_files) {
		wsr_report_event(&w->rep, "warn", "reconcile", "result",
				 "skipped: no revision of the source could be read yet",
				 WSR_EV_END);
		wsr_report_reconcile(&w->rep, "error", 0, w->rev);
		return WSR_ENOTFOUND;
	}
	wsr_report_event(&w->rep, "info", "reconcile", "trigger", why, "revision",
			 w->rev[0] ? w->rev : NULL, WSR_EV_END);
	wsr_report_start(&w->rep);
	wsr_diag diag = WSR_DIAG_INIT;
	if (w->ha)
		break_old_leader_lock(w);
	wsr_run_opts ro = {.dir = w->git ? "." : (w->o->dir ? w->o->dir : "."),
			   .lock = 1,
			   .command = w->ha ? HA_COMMAND : "wsr watch",
			   .config_file = w->o->config_file,
			   .files = w->git ? &w->files : NULL,
			   .keep_going = 1,
			   .fence_key = fence_key,
			   .fence_revision = fence_rev};
	ro.plan.prune = w->o->prune;
	ro.plan.allow_replace = w->o->allow_replace;
	wsr_run *r = NULL;
	int rc = wsr_run_plan(&r, &ro, &diag);
	int64_t now = wsr_clock_now_ms();
	if (!rc && blocking_errors(&diag, r))
		rc = WSR_EINVAL;
	if (!rc)
		rc = place_holds(w, r->plan, &diag, now);
	wsr_apply_result res = {0};
	int *rcs = NULL;
	if (!rc && wsr_plan_has_changes(r->plan)) {
		*changes = 1;
		rcs = malloc((r->plan->n ? r->plan->n : 1) * sizeof(*rcs));
		if (!rcs) {
			rc = WSR_ENOMEM;
		} else {
			for (size_t i = 0; i < r->plan->n; i++)
				rcs[i] = 1;
			item_ctx ic = {w, rcs, r->plan, &diag};
			wsr_apply_opts ao = {.parallelism = w->o->parallelism
								? w->o->parallelism
								: r->engine->cfg->parallelism,
					     .stop = &stop_flag,
					     .revision = w->rev[0] ? w->rev : NULL,
					     .on_item = on_item,
					     .arg = &ic,
					     .may_start = w->ha ? wsr_ha_may_start : NULL,
					     .may_start_arg = w->ha};
			wsr_apply_run(&res, r->engine, r->plan, r->state, &ao, &diag);
		}
	}
	if (res.refused) {
		char n[24];
		snprintf(n, sizeof(n), "%d", res.refused);
		wsr_report_event(&w->rep, "warn", "ha", "result",
				 "leadership lost during the reconcile: nothing more started, "
				 "no more state written",
				 "notStarted", n, WSR_EV_END);
	}
	wsr_report_outcome(&w->rep, r, rc, rcs, &diag);
	const char *result = rc		      ? "error"
			     : res.failed     ? "failed"
			     : (r && r->nbad) ? "invalid"
					      : "ok";
	wsr_report_reconcile(&w->rep, result, (double)(wsr_clock_mono_ms() - t0) / 1000.0, w->rev);
	free(rcs);
	wsr_run_free(r);
	wsr_diag_free(&diag);
	if (!rc && (res.failed || res.interrupted))
		rc = res.interrupted ? WSR_EINTR : WSR_EAPI;
	return rc;
}

static void publish(watch *w)
{
	if (!w->http)
		return;
	char *status = wsr_report_status(&w->rep);
	/* etcd's reachability is the election's, published live (ha_changed) */
	const char *why = NULL;
	if (w->ha && !w->ha_leader)
		/* a follower never reconciles: ready when it can reach the source */
		why = w->rep.source_ok ? NULL : wsr_report_not_ready(&w->rep);
	else
		why = wsr_report_not_ready(&w->rep);
	wsr_watch_http_publish(w->http, status ? status : "{}", why == NULL, why);
	free(status);
}

/* ---- the loop ----------------------------------------------------------- */

static void hook(void *arg)
{
	watch *w = arg;
	uint64_t one = 1;
	ssize_t n = write(w->wake_fd, &one, sizeof(one));
	(void)n; /* a full counter already means "wake up" */
}

static int start_http(watch *w, wsr_diag *diag)
{
	const char *listen = w->o->listen ? w->o->listen : wsr_json_str(w->cfg->watch, "listen");
	if (w->o->once || !listen || strcmp(listen, "off") == 0)
		return 0;
	wsr_watch_http_opts ho = {.listen = listen,
				  .secret = w->secret,
				  .secret_len = w->secret_len,
				  .metrics = w->rep.metrics,
				  .hook = hook,
				  .arg = w};
	int rc = wsr_watch_http_start(&w->http, &ho, diag);
	if (!rc) {
		char port[16];
		snprintf(port, sizeof(port), "%d", wsr_watch_http_port(w->http));
		wsr_report_event(&w->rep, "info", "listen", "address", listen, "port", port,
				 WSR_EV_END);
	}
	return rc;
}

/* The daemon's HTTP address as others reach it (the port picked for :0). */
static char *listen_address(watch *w)
{
	if (!w->http)
		return NULL;
	const char *listen = w->o->listen ? w->o->listen : wsr_json_str(w->cfg->watch, "listen");
	const char *colon = listen ? strrchr(listen, ':') : NULL;
	if (!colon)
		return NULL;
	return wsr_strdupf("%.*s:%d", (int)(colon - listen), listen, wsr_watch_http_port(w->http));
}

/* What the election says, straight to the endpoints and the metrics
 * (watch_ha's on_change: from the election thread or an apply worker, one
 * call at a time), so /status's "ha" and /readyz follow it even while the
 * loop is in a long reconcile. Touches only what is thread-safe. */
static void ha_changed(void *arg, wsr_ha *h)
{
	watch *w = arg;
	const char *key;
	int64_t rev;
	int leader = wsr_ha_leader(h, &key, &rev);
	wsr_metrics_ha(w->rep.metrics, leader, wsr_ha_transitions(h));
	if (!w->http)
		return;
	cJSON *st = wsr_ha_status(h);
	char *json = st ? cJSON_PrintUnformatted(st) : NULL;
	cJSON_Delete(st);
	char why[512];
	int bad = wsr_ha_not_ready(h, why, sizeof(why)); /* e.g. etcd without quorum */
	if (json)					 /* out of memory: the last view stays */
		wsr_watch_http_publish_ha(w->http, json, bad ? why : NULL);
	free(json);
}

/* watch.ha: the election on the state's etcd cluster. --once does not
 * campaign: it is one reconcile under the state lock, like wsr apply. */
static int start_ha(watch *w, wsr_diag *diag)
{
	if (w->o->once || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(w->cfg->watch, "ha")))
		return 0;
	int64_t lease_ms = 0;
	if (wsr_clock_duration(&lease_ms, wsr_json_str(w->cfg->watch, "haLease")))
		lease_ms = -1; /* reported by wsr_ha_start */
	struct wsr_etcd *etcd = NULL;
	char *prefix = NULL;
	/* a state that is not on etcd is its error (watch.ha needs etcd) */
	int rc = wsr_state_backend_etcd(w->cfg, &etcd, &prefix, diag);
	if (rc)
		return rc;
	if ((w->ha_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		wsr_etcd_free(etcd);
		free(prefix);
		return WSR_EIO;
	}
	char *listen = listen_address(w);
	wsr_ha_opts ho = {.etcd = etcd,
			  .prefix = prefix,
			  .lease_ms = lease_ms,
			  .listen = listen,
			  .wake_fd = w->ha_fd,
			  .on_change = ha_changed,
			  .arg = w};
	rc = wsr_ha_start(&w->ha, &ho, diag);
	free(listen);
	free(prefix);
	if (!rc) {
		w->ha_version = -1;
		wsr_report_event(&w->rep, "info", "ha", "role", "follower", "result", "campaigning",
				 WSR_EV_END);
	}
	return rc;
}

/* Reports what the election changed (role, leader, etcd); 1 when it did.
 * Becoming the leader sets ha_became for the loop (this also runs from
 * on_item, mid-reconcile). */
static int ha_update(watch *w)
{
	if (!w->ha)
		return 0;
	int64_t v = wsr_ha_version(w->ha);
	if (v == w->ha_version)
		return 0;
	w->ha_version = v;
	const char *key;
	int64_t rev = 0;
	int leader = wsr_ha_leader(w->ha, &key, &rev);
	int64_t transitions = wsr_ha_transitions(w->ha);
	cJSON *st = wsr_ha_status(w->ha);
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(st, "leader");
	const char *id = wsr_json_str(l, "id");
	char n[24], r[24];
	snprintf(n, sizeof(n), "%lld", (long long)transitions);
	snprintf(r, sizeof(r), "%lld", (long long)rev);
	if (leader != w->ha_leader)
		wsr_report_event(&w->rep, leader ? "info" : "warn", "ha", "role",
				 leader ? "leader" : "follower", "revision", leader ? r : NULL,
				 "transitions", n, WSR_EV_END);
	if (id && strcmp(id, w->ha_seen) != 0) {
		char pid[24];
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(l, "pid");
		snprintf(pid, sizeof(pid), "%.0f", cJSON_IsNumber(p) ? p->valuedouble : 0.0);
		wsr_report_event(&w->rep, "info", "ha", "leader", id, "host",
				 wsr_json_str(l, "host"), "pid", pid, WSR_EV_END);
	}
	snprintf(w->ha_seen, sizeof(w->ha_seen), "%s", id ? id : "");
	w->ha_became |= leader && !w->ha_leader;
	w->ha_leader = leader;
	cJSON_Delete(st);
	publish(w); /* the follower's and the leader's readiness differ */
	return 1;
}

/* Waits for the next thing to do with the signals blocked outside the
 * wait, so a signal arriving between the flag check and the wait is not
 * lost. Returns the poll result; fds[0] inotify, fds[1] webhook, fds[2]
 * the election. */
static int wait_event(struct pollfd *fds, int nfds, int64_t timeout_ms, const sigset_t *unblocked)
{
	if (stop_flag || hup_flag)
		return 0;
	struct timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
	return ppoll(fds, (nfds_t)nfds, &ts, unblocked);
}

static void drain(int fd)
{
	uint64_t v;
	ssize_t n = read(fd, &v, sizeof(v));
	(void)n;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int loop(watch *w)
{
	sigset_t block, unblocked;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	int64_t next_poll = wsr_clock_mono_ms() + w->interval_ms;
	int64_t dirty_first = 0, dirty_last = 0;
	while (!stop_flag) {
		if (w->http)
			wsr_watch_http_beat(w->http);
		int64_t now = wsr_clock_mono_ms();
		int64_t due = next_poll;
		int64_t retry = wsr_report_next_due(&w->rep); /* wall clock */
		if (retry)
			due = min64(due, now + (retry - wsr_clock_now_ms()));
		if (dirty_first)
			due = min64(due, min64(dirty_last + DEBOUNCE_QUIET_MS,
					       dirty_first + DEBOUNCE_MAX_MS));
		int64_t timeout = due - now;
		timeout = timeout < 0 ? 0 : min64(timeout, TICK_MS);
		struct pollfd fds[3] = {{w->dw ? wsr_dir_watch_fd(w->dw) : -1, POLLIN, 0},
					{w->wake_fd, POLLIN, 0},
					{w->ha_fd, POLLIN, 0}};
		sigprocmask(SIG_BLOCK, &block, &unblocked);
		int n = wait_event(fds, 3, timeout, &unblocked);
		sigprocmask(SIG_SETMASK, &unblocked, NULL);
		if (stop_flag)
			break;
		const char *why = NULL;
		if (hup_flag) {
			hup_flag = 0;
			reload(w);
			next_poll = wsr_clock_mono_ms() + w->interval_ms;
			why = "reload";
		}
		now = wsr_clock_mono_ms();
		if (n > 0 && (fds[0].revents & POLLIN) && wsr_dir_watch_read(w->dw) != 0) {
			dirty_first = dirty_first ? dirty_first : now;
			dirty_last = now;
		}
		if (n > 0 && (fds[1].revents & POLLIN)) {
			drain(w->wake_fd);
			fetch(w);
			why = "webhook";
		}
		if (dirty_first && (now - dirty_last >= DEBOUNCE_QUIET_MS ||
				    now - dirty_first >= DEBOUNCE_MAX_MS)) {
			dirty_first = dirty_last = 0;
			why = why ? why : "change";
		}
		if (now >= next_poll) {
			fetch(w);
			next_poll = now + w->interval_ms;
			why = why ? why : "interval";
		}
		if (n > 0 && (fds[2].revents & POLLIN))
			drain(w->ha_fd);
		/* every turn, not only on a wake: a leadership can also run out */
		ha_update(w);
		if (w->ha_became) {
			w->ha_became = 0;
			why = "leader";
		}
		if (!why && retry && wsr_clock_now_ms() >= retry)
			why = "retry";
		if (why) {
			int changes;
			reconcile(w, why, &changes);
			publish(w);
		}
	}
	return 0;
}

int wsr_watch_run(const wsr_watch_opts *o)
{
	watch w = {.o = o, .wake_fd = -1, .ha_fd = -1};
	wsr_diag diag = WSR_DIAG_INIT;
	wsr_config *cfg = NULL;
	int rc =
	    wsr_report_init(&w.rep, o->log_json, o->git_url ? "git" : "dir",
			    o->git_url ? "" : (o->dir ? o->dir : "."), o->git_ref, o->git_path);
	if (!rc)
		rc = load_config(&cfg, o, &diag);
	if (!rc && (rc = take_config(&w, cfg, &diag)))
		wsr_config_free(cfg);
	struct sigaction sa = {0};
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	if (!rc && (w.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		rc = WSR_EIO;
	if (!rc)
		rc = open_source(&w, &diag);
	if (!rc && w.git) /* the URL as it may be shown: without a password */
		wsr_report_source_url(&w.rep, wsr_git_url(w.git));
	if (!rc)
		rc = start_http(&w, &diag);
	if (!rc)
		rc = start_ha(&w, &diag);
	int code = 1;
	if (rc) {
		wsr_report_diag(&w.rep, &diag, "config");
	} else {
		fetch(&w);
		ha_update(&w);
		w.ha_became = 0; /* the start reconcile is the leader's first */
		int changes = 0;
		rc = reconcile(&w, "start", &changes);
		publish(&w);
		if (o->once)
			code = rc ? 1 : changes ? 2 : 0;
		else
			code = loop(&w) ? 1 : 0;
	}
	if (w.ha) { /* resign first: a follower takes over while this one exits */
		int led = w.ha_leader;
		wsr_ha_stop(w.ha);
		w.ha = NULL;
		if (led)
			wsr_report_event(&w.rep, "info", "ha", "role", "resigned", WSR_EV_END);
	}
	if (w.ha_fd >= 0)
		close(w.ha_fd);
	if (stop_flag)
		wsr_report_event(&w.rep, "info", "stop", "result", "state saved", WSR_EV_END);
	if (w.http)
		wsr_watch_http_stop(w.http);
	wsr_dir_watch_free(w.dw);
	wsr_git_free(w.git);
	wsr_spec_files_free(&w.files);
	if (w.wake_fd >= 0)
		close(w.wake_fd);
	wsr_config_free(w.cfg);
	free(w.secret);
	wsr_report_free(&w.rep);
	wsr_diag_free(&diag);
	return code;
}
