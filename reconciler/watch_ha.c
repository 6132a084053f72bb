/* watch_ha: leader election on etcd for `wsr watch` (see watch_ha.h). One
 * thread campaigns, renews and watches the leader key; the loop and the
 * apply workers only read what it found, under one mutex, plus the one
 * etcd read of wsr_ha_may_start.
 *
 * Why polling and not /v3/watch: lib/http is request/response, a watch is
 * a stream, and one range of one key every 500 ms per replica is nothing
 * to etcd. Why a time-based leadership: a keepalive can hang for the
 * client's whole timeout (5 s), longer than a short lease, so "I lead" is
 * not a flag the thread clears but a deadline anyone compares with the
 * clock — the send time of the last successful renewal plus lease minus
 * one renew period. etcd starts the lease's TTL when the renewal arrives,
 * later than it was sent, so the deadline passes before the lease can
 * expire and before another replica can be elected. */
#include "reconciler/watch_ha.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/etcd.h"
#include "lib/log.h"
#include "state/state.h"

typedef struct ident {
	char id[64], host[128], since[40], listen[128];
	long pid;
} ident;

struct wsr_ha {
	wsr_etcd *etcd;
	char *key;
	int64_t ttl_s, lease_ms, renew_ms, poll_ms;
	int wake_fd;
	void (*on_change)(void *arg, wsr_ha *h);
	void *arg;
	pthread_mutex_t notify_mu; /* one on_change at a time, each with a newer view */
	int64_t notified;	   /* the version on_change last saw (under notify_mu) */
	ident self;
	pthread_t tid;
	int started;
	pthread_mutex_t mu; /* guards what follows */
	pthread_cond_t cv;
	int stop;
	int leader;	     /* elected (valid only before deadline_ms) */
	int64_t lease;	     /* ours while leader; 0 none */
	int64_t revision;    /* the leader key's create_revision while leader */
	int64_t deadline_ms; /* monotonic: leadership ends here unless renewed */
	int have_leader;     /* who leads, as last read */
	ident current;
	int64_t transitions;
	int64_t version;
	char *etcd_error; /* NULL: the last request was answered */
};

/* ---- small helpers ------------------------------------------------------ */

static void wake(wsr_ha *h)
{
	if (h->wake_fd < 0)
		return;
	uint64_t one = 1;
	ssize_t n = write(h->wake_fd, &one, sizeof(one));
	(void)n; /* a full counter already means "wake up" */
}

/* Called with mu held: something /status shows changed. */
static void changed(wsr_ha *h)
{
	h->version++;
	wake(h);
}

/* Calls on_change if something changed since its last call. Not with mu
 * held: on_change reads the state through wsr_ha_status. */
static void notify(wsr_ha *h)
{
	if (!h->on_change)
		return;
	pthread_mutex_lock(&h->notify_mu);
	pthread_mutex_lock(&h->mu);
	int64_t v = h->version;
	pthread_mutex_unlock(&h->mu);
	if (v != h->notified) {
		h->notified = v;
		h->on_change(h->arg, h);
	}
	pthread_mutex_unlock(&h->notify_mu);
}

static int leads(const wsr_ha *h)
{
	return h->leader && wsr_clock_mono_ms() < h->deadline_ms;
}

/* Printable bytes of an untrusted text, at most n-1 of them; "?" for none. */
static void keep_printable(char *out, size_t n, const char *v)
{
	size_t k = 0;
	for (; v && *v && k + 1 < n; v++)
		if ((unsigned char)*v >= 0x20 && (unsigned char)*v < 0x7f)
			out[k++] = *v;
	if (!k && n > 1)
		out[k++] = '?';
	out[k] = '\0';
}

/* A leader key's value (anyone who can write the prefix can write it). */
static void parse_ident(ident *out, const char *v, size_t len)
{
	memset(out, 0, sizeof(*out));
	cJSON *o = len <= WSR_HA_MAX_IDENTITY ? cJSON_ParseWithLength(v, len) : NULL;
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
	const cJSON *host = cJSON_GetObjectItemCaseSensitive(o, "host");
	const cJSON *since = cJSON_GetObjectItemCaseSensitive(o, "since");
	const cJSON *listen = cJSON_GetObjectItemCaseSensitive(o, "listen");
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(o, "pid");
	keep_printable(out->id, sizeof(out->id), cJSON_GetStringValue(id));
	keep_printable(out->host, sizeof(out->host), cJSON_GetStringValue(host));
	keep_printable(out->since, sizeof(out->since), cJSON_GetStringValue(since));
	if (cJSON_IsString(listen))
		keep_printable(out->listen, sizeof(out->listen), listen->valuestring);
	out->pid = cJSON_IsNumber(pid) && pid->valuedouble >= 0 && pid->valuedouble < 1e9
		       ? (long)pid->valuedouble
		       : 0;
	cJSON_Delete(o);
}

static int same_ident(const ident *a, const ident *b)
{
	return strcmp(a->id, b->id) == 0 && strcmp(a->since, b->since) == 0;
}

/* Records the outcome of a request to etcd (err NULL: answered). */
static void note_etcd(wsr_ha *h, const char *err)
{
	pthread_mutex_lock(&h->mu);
	int was_ok = h->etcd_error == NULL;
	if (!err) {
		free(h->etcd_error);
		h->etcd_error = NULL;
		if (!was_ok) {
			wsr_log(WSR_LOG_INFO, "ha: etcd answers again (%s)",
				wsr_etcd_endpoint(h->etcd));
			changed(h);
		}
	} else if (!h->etcd_error || strcmp(h->etcd_error, err) != 0) {
		free(h->etcd_error);
		h->etcd_error = strdup(err);
		if (!h->etcd_error)
			h->etcd_error = strdup("out of memory");
		if (was_ok)
			wsr_log(WSR_LOG_WARN, "ha: etcd unreachable: %s", err);
		changed(h);
	}
	pthread_mutex_unlock(&h->mu);
}

/* Called with mu held: the leader as just read (kv NULL: none). */
static void note_leader(wsr_ha *h, const wsr_etcd_kv *kv)
{
	ident cur;
	if (kv)
		parse_ident(&cur, kv->value, kv->value_len);
	int had = h->have_leader;
	if (!kv) {
		h->have_leader = 0;
		if (had)
			changed(h);
		return;
	}
	h->have_leader = 1;
	if (!had || !same_ident(&cur, &h->current)) {
		h->current = cur;
		wsr_log(WSR_LOG_INFO, "ha: leader is %s (pid %ld on %s)", cur.id, cur.pid,
			cur.host);
		changed(h);
	}
}

/* Called with mu held. why: for the log. */
static void step_down(wsr_ha *h, const char *why)
{
	if (!h->leader)
		return;
	h->leader = 0;
	h->transitions++;
	h->have_leader = 0;
	wsr_log(WSR_LOG_WARN, "ha: no longer the leader: %s", why);
	changed(h);
}

/* Sleeps up to ms unless stopped; returns h->stop. Called with mu held. */
static int nap(wsr_ha *h, int64_t ms)
{
	if (ms <= 0 || h->stop)
		return h->stop;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (!h->stop && pthread_cond_timedwait(&h->cv, &h->mu, &ts) == 0)
		;
	return h->stop;
}

/* Who this replica is; since is filled by each campaign. */
static int init_self(ident *self, const char *listen)
{
	char *id = wsr_state_new_id();
	if (!id)
		return WSR_ENOMEM;
	memset(self, 0, sizeof(*self));
	snprintf(self->id, sizeof(self->id), "%s", id);
	free(id);
	char host[256] = "";
	if (gethostname(host, sizeof(host) - 1))
		snprintf(host, sizeof(host), "?");
	keep_printable(self->host, sizeof(self->host), host);
	self->pid = (long)getpid();
	if (listen)
		keep_printable(self->listen, sizeof(self->listen), listen);
	return 0;
}

static cJSON *ident_json(const ident *i);

/* The leader key's value: {"id", "host", "pid", "since", "listen"}. */
static char *identity(const ident *self)
{
	cJSON *o = ident_json(self);
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return s;
}

/* ---- campaign, renew, follow -------------------------------------------- */

static void revoke_quietly(wsr_ha *h, int64_t lease)
{
	char *err = NULL;
	if (lease && wsr_etcd_lease_revoke(h->etcd, lease, &err) && err)
		wsr_log(WSR_LOG_INFO, "ha: revoking lease %lld: %s", (long long)lease, err);
	free(err);
}

/* Called with mu held when elected at revision on lease, the lease's TTL
 * counted from sent_ms. */
static void elected(wsr_ha *h, int64_t lease, int64_t revision, int64_t sent_ms)
{
	h->leader = 1;
	h->lease = lease;
	h->revision = revision;
	h->deadline_ms = sent_ms + h->lease_ms - h->renew_ms;
	h->transitions++;
	h->have_leader = 1;
	h->current = h->self;
	wsr_log(WSR_LOG_INFO, "ha: elected leader (revision %lld, lease %lld s)",
		(long long)revision, (long long)h->ttl_s);
	changed(h);
}

/* The key is gone: one txn creates it if it still is, else reads who won. */
static void campaign(wsr_ha *h)
{
	char *err = NULL;
	ident me = h->self;
	wsr_time_format(wsr_clock_now_ms(), me.since, sizeof(me.since)); /* leader since */
	char *value = identity(&me);
	if (!value)
		return; /* out of memory: the next poll tries again */
	int64_t lease = 0, sent = wsr_clock_mono_ms();
	int rc = wsr_etcd_lease_grant(h->etcd, h->ttl_s, &lease, &err);
	if (rc) {
		free(value);
		note_etcd(h, err ? err : wsr_strerror(rc));
		free(err);
		return;
	}
	wsr_etcd_cmp cmp = {
	    .key = h->key, .target = WSR_ETCD_CMP_CREATE, .result = WSR_ETCD_EQUAL, .number = 0};
	wsr_etcd_op put = {.type = WSR_ETCD_PUT,
			   .key = h->key,
			   .value = value,
			   .value_len = strlen(value),
			   .lease = lease};
	wsr_etcd_op get = {.type = WSR_ETCD_GET, .key = h->key};
	wsr_etcd_txn_result res = {0};
	rc = wsr_etcd_txn(h->etcd, &cmp, 1, &put, 1, &get, 1, &res, &err);
	if (rc == WSR_ETIMEOUT) {
		/* the outcome is unknown: the key says whether we won */
		free(err);
		err = NULL;
		wsr_etcd_range_result r = {0};
		rc = wsr_etcd_range(h->etcd, &r, h->key, NULL, 0, 0, &err);
		if (!rc) {
			res.succeeded = r.n && r.kvs[0].lease == lease;
			res.revision = res.succeeded ? r.kvs[0].create_revision : 0;
		}
		wsr_etcd_range_free(&r);
	}
	free(value);
	if (rc) {
		note_etcd(h, err ? err : wsr_strerror(rc));
		free(err);
		wsr_etcd_txn_result_free(&res);
		revoke_quietly(h, lease);
		return;
	}
	note_etcd(h, NULL);
	if (res.succeeded) {
		pthread_mutex_lock(&h->mu);
		h->self = me;
		elected(h, lease, res.revision, sent);
		pthread_mutex_unlock(&h->mu);
	} else {
		pthread_mutex_lock(&h->mu);
		note_leader(h, res.ngets && res.gets[0].n ? &res.gets[0].kvs[0] : NULL);
		pthread_mutex_unlock(&h->mu);
		revoke_quietly(h, lease);
	}
	wsr_etcd_txn_result_free(&res);
}

/* Reads the leader key into *r, noting whether etcd answered. */
static int read_leader(wsr_ha *h, wsr_etcd_range_result *r)
{
	char *err = NULL;
	int rc = wsr_etcd_range(h->etcd, r, h->key, NULL, 0, 0, &err);
	note_etcd(h, rc ? (err ? err : wsr_strerror(rc)) : NULL);
	free(err);
	return rc;
}

/* A follower's look at the leader key; campaigns when it is gone. */
static void follow(wsr_ha *h)
{
	wsr_etcd_range_result r = {0};
	if (read_leader(h, &r))
		return;
	if (!r.n) {
		wsr_etcd_range_free(&r);
		campaign(h);
		return;
	}
	ident cur;
	parse_ident(&cur, r.kvs[0].value, r.kvs[0].value_len);
	int64_t stale = strcmp(cur.id, h->self.id) == 0 ? r.kvs[0].lease : 0;
	pthread_mutex_lock(&h->mu);
	note_leader(h, &r.kvs[0]);
	pthread_mutex_unlock(&h->mu);
	wsr_etcd_range_free(&r);
	/* our own key from a leadership we gave up on our own (renewals did
	 * not get through, etcd kept the lease): end it, so someone leads */
	if (stale)
		revoke_quietly(h, stale);
}

/* One renewal of the leader's lease. */
static void renew(wsr_ha *h)
{
	pthread_mutex_lock(&h->mu);
	int64_t lease = h->lease;
	pthread_mutex_unlock(&h->mu);
	int64_t sent = wsr_clock_mono_ms(), ttl = 0;
	char *err = NULL;
	int rc = wsr_etcd_lease_keepalive(h->etcd, lease, &ttl, &err);
	note_etcd(h, rc ? (err ? err : wsr_strerror(rc)) : NULL);
	free(err);
	pthread_mutex_lock(&h->mu);
	if (wsr_clock_mono_ms() >= h->deadline_ms) {
		/* the renewal took past the deadline (etcd retried it through an
		 * election or a lost quorum): whatever it says, the loop and the
		 * workers have seen this replica not lead, so it is over */
		step_down(h, "no renewal of the lease got through in time");
		h->lease = 0;
		pthread_mutex_unlock(&h->mu);
		revoke_quietly(h, lease);
		return;
	}
	if (!rc && ttl > 0) {
		h->deadline_ms = sent + h->lease_ms - h->renew_ms;
	} else if (!rc) {
		step_down(h, "etcd says the lease expired");
		h->lease = 0;
	}
	pthread_mutex_unlock(&h->mu);
}

static void *run(void *arg)
{
	wsr_ha *h = arg;
	pthread_mutex_lock(&h->mu);
	while (!h->stop) {
		int leader = h->leader;
		if (leader && !leads(h)) {
			/* the deadline passed while a renewal hung */
			int64_t lease = h->lease;
			step_down(h, "no renewal of the lease got through in time");
			h->lease = 0;
			pthread_mutex_unlock(&h->mu);
			notify(h);
			revoke_quietly(h, lease);
			pthread_mutex_lock(&h->mu);
			continue;
		}
		pthread_mutex_unlock(&h->mu);
		int64_t t0 = wsr_clock_mono_ms();
		if (leader)
			renew(h);
		else
			follow(h);
		notify(h);
		pthread_mutex_lock(&h->mu);
		int64_t period = h->leader ? h->renew_ms : h->poll_ms;
		if (h->leader && h->etcd_error) /* retry a failed renewal sooner */
			period = period / 3 > 200 ? period / 3 : 200;
		int64_t left = t0 + period - wsr_clock_mono_ms();
		if (h->leader && h->deadline_ms - wsr_clock_mono_ms() < left)
			left = h->deadline_ms - wsr_clock_mono_ms();
		nap(h, left);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

/* ---- the interface --------------------------------------------------------- */

static void ha_free(wsr_ha *h)
{
	wsr_etcd_free(h->etcd);
	free(h->key);
	free(h->etcd_error);
	pthread_mutex_destroy(&h->mu);
	pthread_mutex_destroy(&h->notify_mu);
	pthread_cond_destroy(&h->cv);
	free(h);
}

int wsr_ha_start(wsr_ha **out, const wsr_ha_opts *o, wsr_diag *diag)
{
	*out = NULL;
	if (o->lease_ms < WSR_HA_MIN_LEASE_MS || o->lease_ms > WSR_HA_MAX_LEASE_MS) {
		wsr_etcd_free(o->etcd);
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, "e.g. haLease: 15s",
			     "watch.haLease is not a duration from %ds to %dm",
			     WSR_HA_MIN_LEASE_MS / 1000, WSR_HA_MAX_LEASE_MS / 60000);
		return WSR_EINVAL;
	}
	wsr_ha *h = calloc(1, sizeof(*h));
	if (!h) {
		wsr_etcd_free(o->etcd);
		return WSR_ENOMEM;
	}
	h->etcd = o->etcd;
	pthread_mutex_init(&h->mu, NULL);
	pthread_mutex_init(&h->notify_mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	h->on_change = o->on_change;
	h->arg = o->arg;
	h->notified = -1;
	h->wake_fd = o->wake_fd;
	h->ttl_s = (o->lease_ms + 999) / 1000;
	h->lease_ms = h->ttl_s * 1000;
	h->renew_ms = h->lease_ms / 3;
	h->poll_ms = o->poll_ms > 0 ? o->poll_ms : WSR_HA_POLL_MS;
	size_t plen = strlen(o->prefix);
	while (plen && o->prefix[plen - 1] == '/')
		plen--; /* "/wsr/x/" and "/wsr/x" name one key */
	h->key = wsr_strdupf("%.*s%s", (int)plen, o->prefix, WSR_HA_KEY_SUFFIX);
	if (!h->key || init_self(&h->self, o->listen)) {
		ha_free(h);
		return WSR_ENOMEM;
	}
	/* the thread takes no signal: they are the loop's */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int prc = pthread_create(&h->tid, NULL, run, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (prc) {
		ha_free(h);
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, NULL,
			     "cannot start the leader election thread");
		return WSR_ENOMEM;
	}
	h->started = 1;
	wsr_log(WSR_LOG_INFO, "ha: campaigning for %s as %s (lease %llds)", h->key, h->self.id,
		(long long)h->ttl_s);
	*out = h;
	return 0;
}

int wsr_ha_leader(wsr_ha *h, const char **key, int64_t *revision)
{
	pthread_mutex_lock(&h->mu);
	int yes = leads(h);
	if (yes) {
		*key = h->key;
		*revision = h->revision;
	}
	pthread_mutex_unlock(&h->mu);
	return yes;
}

int wsr_ha_may_start(void *arg)
{
	wsr_ha *h = arg;
	pthread_mutex_lock(&h->mu);
	int yes = leads(h);
	int64_t rev = h->revision;
	pthread_mutex_unlock(&h->mu);
	if (!yes)
		return WSR_ELOCKED;
	wsr_etcd_range_result r = {0};
	int rc = read_leader(h, &r);
	if (rc) {
		notify(h);
		return rc; /* cannot prove it: refused */
	}
	int ours = r.n && r.kvs[0].create_revision == rev;
	pthread_mutex_lock(&h->mu);
	if (!ours && h->leader && h->revision == rev)
		step_down(h,
			  r.n ? "another replica holds the leader key" : "the leader key is gone");
	if (!ours)
		note_leader(h, r.n ? &r.kvs[0] : NULL);
	pthread_mutex_unlock(&h->mu);
	wsr_etcd_range_free(&r);
	if (!ours)
		notify(h);
	return ours ? 0 : WSR_ELOCKED;
}

static cJSON *ident_json(const ident *i)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "id", i->id);
	cJSON_AddStringToObject(o, "host", i->host);
	cJSON_AddNumberToObject(o, "pid", (double)i->pid);
	cJSON_AddStringToObject(o, "since", i->since);
	if (i->listen[0])
		cJSON_AddStringToObject(o, "listen", i->listen);
	return o;
}

cJSON *wsr_ha_status(wsr_ha *h)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	pthread_mutex_lock(&h->mu);
	int yes = leads(h);
	cJSON_AddStringToObject(o, "role", yes ? "leader" : "follower");
	cJSON_AddStringToObject(o, "id", h->self.id);
	if (h->have_leader)
		cJSON_AddItemToObject(o, "leader", ident_json(&h->current));
	else
		cJSON_AddNullToObject(o, "leader");
	cJSON_AddNumberToObject(o, "transitions", (double)h->transitions);
	cJSON_AddNumberToObject(o, "leaseSeconds", (double)h->ttl_s);
	if (h->etcd_error) {
		cJSON *e = cJSON_AddObjectToObject(o, "etcd");
		if (e)
			cJSON_AddStringToObject(e, "error", h->etcd_error);
	} else {
		const char *ep = wsr_etcd_endpoint(h->etcd);
		cJSON_AddStringToObject(o, "etcd", ep ? ep : "");
	}
	pthread_mutex_unlock(&h->mu);
	return o;
}

int wsr_ha_not_ready(wsr_ha *h, char *why, size_t n)
{
	pthread_mutex_lock(&h->mu);
	int bad = h->etcd_error != NULL;
	if (bad)
		snprintf(why, n, "etcd unreachable: %s", h->etcd_error);
	pthread_mutex_unlock(&h->mu);
	return bad;
}

int64_t wsr_ha_transitions(wsr_ha *h)
{
	pthread_mutex_lock(&h->mu);
	int64_t t = h->transitions;
	pthread_mutex_unlock(&h->mu);
	return t;
}

int64_t wsr_ha_version(wsr_ha *h)
{
	pthread_mutex_lock(&h->mu);
	/* a leadership that ran out without the thread noticing yet is a change too */
	int64_t v = h->version * 2 + (h->leader && !leads(h));
	pthread_mutex_unlock(&h->mu);
	return v;
}

void wsr_ha_stop(wsr_ha *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->stop = 1;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	if (h->started)
		pthread_join(h->tid, NULL);
	if (h->leader && h->lease) {
		/* resign: the key goes with the lease, a follower campaigns at its next poll */
		char *err = NULL;
		int rc = wsr_etcd_lease_revoke(h->etcd, h->lease, &err);
		if (rc && rc != WSR_ENOTFOUND)
			wsr_log(WSR_LOG_WARN,
				"ha: could not resign (%s); the lease expires in %llds",
				err ? err : wsr_strerror(rc), (long long)h->ttl_s);
		else
			wsr_log(WSR_LOG_INFO, "ha: resigned the leadership");
		free(err);
	}
	ha_free(h);
}
