/* etcd (state): the state in an etcd cluster (see etcd.h). The format and
 * its checks stay in state.c; this file owns where the pieces live and how
 * they change.
 *
 * Layout under the prefix P (docs/state.md, "The etcd backend"):
 *   P/header        {"format","lineage","serial","generation"}
 *   P/r/<gen>/<address>   one entry each, as the file stores it
 *   P/lock          the holder record, attached to the lock's lease
 *   P/leader        the HA daemon's leadership (reconciler/watch_ha.c)
 * One key per resource keeps every request far below etcd's limits (1.5 MiB
 * a request, 128 operations a txn) whatever the number of workspaces.
 *
 * Guarantees, and how:
 * - a reader sees one state: the header and the entries are read at the
 *   revision the header was read at (paged ranges at a fixed revision);
 * - no lost update: every write is a txn that compares the header's
 *   mod_revision (or its absence) with what was read, and writes the new
 *   header with the entries; a txn that loses is WSR_ECONFLICT;
 * - fenced writes: while this process holds the lock, every txn also
 *   compares the lock key's create_revision, so a run whose lease expired
 *   (paused, cut off, unlocked by an operator) can no longer write; the HA
 *   daemon adds its leadership key the same way (fence);
 * - writes of any size stay atomic: a write with few changed entries is one
 *   txn; a larger one (a push, the first write of a big state) writes the
 *   entries under a new generation in batches nobody reads yet, then flips
 *   the header to it in one compared txn that also deletes every other
 *   generation; a write that loses leaves only unread keys, removed by the
 *   next flip;
 * - no stuck lock: the lock is a key on a lease of lockTTL seconds, renewed
 *   every TTL/3 by a thread while the command runs; a crashed run's lock
 *   goes when its lease expires, and `wsr state unlock` removes it at once. */
#include "state/etcd.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/hmap.h"
#include "lib/json.h"

#define PAGE 500		 /* entries a range page asks for */
#define TXN_OPS 120		 /* below etcd's --max-txn-ops default, 128 */
#define TXN_BYTES (1024u * 1024) /* value bytes a txn carries: base64 makes 1.33 MiB of 1.5 */
#define HEADER_MAX 4096		 /* a header is a few dozen bytes */

typedef struct stored {
	char *address;
	unsigned char hash[32]; /* SHA-256 of the value stored */
	uint64_t seq;		/* the entry's (wsr_state_entry.seq) when stored or read */
} stored;

typedef struct etcd_backend {
	wsr_state_backend base;
	wsr_etcd *c;
	char *where;
	char *k_header, *k_lock, *k_res, *k_res_end; /* P/header, P/lock, P/r/, P/r0 */
	int64_t lock_ttl_s;

	/* what this process last read or wrote */
	int known;
	char *lineage;
	int64_t serial;
	int64_t header_mod; /* 0: no header stored */
	char gen[17];
	stored *v;
	size_t n;
	wsr_hmap index; /* address -> stored */

	/* the lock, while held */
	int locked;
	int64_t lease, lock_rev;
	pthread_t keeper;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop_keeper;
	atomic_int lost;

	/* the HA daemon's fence; NULL when none */
	char *fence_key;
	int64_t fence_rev;
} etcd_backend;

/* ---- messages ---- */

static void fail(etcd_backend *eb, wsr_diag *diag, const char *what, int rc, const char *err)
{
	const char *hint = rc == WSR_EAPI ? "check state.username and the password, and that the "
					    "user may read and write under state.prefix"
					  : "check state.endpoints and that the etcd cluster has "
					    "quorum (etcdctl endpoint health --cluster)";
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, err, hint, "cannot %s the state in %s: %s",
		     what, eb->where, wsr_strerror(rc));
}

static void corrupt(etcd_backend *eb, wsr_diag *diag, const char *key, const char *why)
{
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL,
		     "wsr never replaces a corrupt state: fix or delete the key (etcdctl), or "
		     "push a good state file with wsr state push --force",
		     "state in %s: key %s %s", eb->where, key, why);
}

/* ---- the snapshot of what is stored ---- */

static void forget(etcd_backend *eb)
{
	for (size_t i = 0; i < eb->n; i++)
		free(eb->v[i].address);
	free(eb->v);
	eb->v = NULL;
	eb->n = 0;
	wsr_hmap_free(&eb->index);
	eb->index = (wsr_hmap)WSR_HMAP_INIT;
	free(eb->lineage);
	eb->lineage = NULL;
	eb->known = 0;
}

static void hash(unsigned char out[32], const char *text, size_t len)
{
	unsigned int n = 32;
	if (EVP_Digest(text, len, out, &n, EVP_sha256(), NULL) != 1)
		memset(out, 0, 32); /* never equal to a real one by chance: forces a write */
}

/* The serialized entries of s, in address order, for the snapshot and the
 * write. */
typedef struct piece {
	const char *address;
	const wsr_state_entry *e;
	char *text; /* NULL for an entry the snapshot holds already (same seq) */
	size_t len;
	unsigned char hash[32];
} piece;

static void pieces_free(piece *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++)
		free(p[i].text);
	free(p);
}

/* Serializes p's entry (once) and hashes it. */
static int piece_text(piece *p)
{
	if (p->text)
		return 0;
	cJSON *o = wsr_state_entry_to_json(p->e);
	p->text = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	if (!p->text)
		return WSR_ENOMEM;
	p->len = strlen(p->text);
	hash(p->hash, p->text, p->len);
	return 0;
}

/* The entries of s in address order, each serialized and hashed unless the
 * snapshot holds it already: an entry is never changed once put, so the
 * same seq is the same bytes, and a write after one apply step serializes
 * that step's entries, not the whole state. */
static int pieces(const etcd_backend *eb, const wsr_state *s, piece **out)
{
	*out = NULL;
	wsr_state_entry **v = wsr_state_sorted(s);
	piece *p = calloc(s->n ? s->n : 1, sizeof(*p));
	if (!v || !p) {
		free(v);
		free(p);
		return WSR_ENOMEM;
	}
	for (size_t i = 0; i < s->n; i++) {
		p[i].e = v[i];
		p[i].address = v[i]->address;
		const stored *had = eb->known ? wsr_hmap_get(&eb->index, v[i]->address) : NULL;
		if (had && v[i]->seq && had->seq == v[i]->seq) {
			memcpy(p[i].hash, had->hash, 32);
			continue;
		}
		if (piece_text(&p[i])) {
			free(v);
			pieces_free(p, s->n);
			return WSR_ENOMEM;
		}
	}
	free(v);
	*out = p;
	return 0;
}

/* Completes the snapshot once eb->v holds the entries' addresses and
 * hashes: their seqs from s, the index, and the header it stands for. */
static int know(etcd_backend *eb, const wsr_state *s, int64_t header_mod, const char *gen)
{
	eb->lineage = strdup(s->lineage);
	if (!eb->lineage)
		goto nomem;
	for (size_t i = 0; i < eb->n; i++) {
		const wsr_state_entry *e = wsr_state_find(s, eb->v[i].address);
		eb->v[i].seq = e ? e->seq : 0;
		if (wsr_hmap_put(&eb->index, eb->v[i].address, &eb->v[i]))
			goto nomem;
	}
	eb->serial = s->serial;
	eb->header_mod = header_mod;
	snprintf(eb->gen, sizeof(eb->gen), "%s", gen);
	eb->known = 1;
	return 0;
nomem:
	forget(eb);
	return WSR_ENOMEM;
}

/* Makes the snapshot what was just stored. */
static int remember(etcd_backend *eb, const wsr_state *s, const piece *p, int64_t header_mod,
		    const char *gen)
{
	forget(eb);
	eb->v = calloc(s->n ? s->n : 1, sizeof(*eb->v));
	if (!eb->v)
		return WSR_ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		if (!(eb->v[i].address = strdup(p[i].address))) {
			forget(eb);
			return WSR_ENOMEM;
		}
		memcpy(eb->v[i].hash, p[i].hash, 32);
		eb->n++;
	}
	return know(eb, s, header_mod, gen);
}

/* ---- keys ---- */

static char *entry_key(const etcd_backend *eb, const char *gen, const char *address)
{
	return wsr_strdupf("%s%s/%s", eb->k_res, gen, address);
}

static int new_generation(char out[17])
{
	unsigned char r[8];
	if (RAND_bytes(r, sizeof(r)) != 1)
		return WSR_EIO;
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	return 0;
}

static int is_generation(const char *g)
{
	size_t n = 0;
	for (; g && g[n]; n++)
		if (!((g[n] >= '0' && g[n] <= '9') || (g[n] >= 'a' && g[n] <= 'f')))
			return 0;
	return n == 16;
}

/* ---- reading ---- */

typedef struct header {
	int present;
	int64_t mod;
	int64_t revision; /* the store's revision it was read at */
	cJSON *doc;	  /* the header object; owned */
	const char *lineage;
	int64_t serial;
	char gen[17];
} header;

/* Reads and checks the header. A header that is not one is WSR_ECORRUPT;
 * its format is left to state.c's checks (a newer wsr's format is named as
 * such there). */
static int read_header(etcd_backend *eb, header *h, wsr_diag *diag)
{
	memset(h, 0, sizeof(*h));
	wsr_etcd_range_result r = {0};
	char *err = NULL;
	int rc = wsr_etcd_range(eb->c, &r, eb->k_header, NULL, 0, 0, &err);
	if (rc) {
		fail(eb, diag, "read", rc, err);
		free(err);
		return rc;
	}
	h->revision = r.revision;
	if (r.n == 0) {
		wsr_etcd_range_free(&r);
		return 0;
	}
	h->present = 1;
	h->mod = r.kvs[0].mod_revision;
	cJSON *o = NULL;
	if (r.kvs[0].value_len > HEADER_MAX ||
	    wsr_json_parse(&o, r.kvs[0].value, r.kvs[0].value_len, NULL) || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		wsr_etcd_range_free(&r);
		corrupt(eb, diag, eb->k_header, "is not a wsr state header (a small JSON object)");
		return WSR_ECORRUPT;
	}
	wsr_etcd_range_free(&r);
	h->doc = o;
	const char *g = wsr_json_str(o, "generation");
	int64_t serial = 0;
	if (!is_generation(g) ||
	    wsr_json_int_in(o, "serial", 0, INT64_C(9007199254740992), &serial) ||
	    !wsr_json_str(o, "lineage")) {
		corrupt(eb, diag, eb->k_header,
			"lacks a lineage, a serial or a generation (16 hex digits)");
		cJSON_Delete(o);
		h->doc = NULL;
		return WSR_ECORRUPT;
	}
	h->lineage = wsr_json_str(o, "lineage");
	h->serial = serial;
	snprintf(h->gen, sizeof(h->gen), "%s", g);
	return 0;
}

/* The hash of every entry as read, for the snapshot: a later write then
 * sends only the entries that changed (and rewrites none that did not, even
 * if another wsr formatted them otherwise: those differ once, harmlessly). */
typedef struct reading {
	stored *v;
	size_t n, cap;
} reading;

static void reading_free(reading *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].address);
	free(r->v);
	r->v = NULL;
	r->n = r->cap = 0;
}

static int reading_add(reading *r, const char *address, const char *value, size_t len)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		stored *v = realloc(r->v, cap * sizeof(*v));
		if (!v)
			return WSR_ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	stored *e = &r->v[r->n];
	if (!(e->address = strdup(address)))
		return WSR_ENOMEM;
	hash(e->hash, value, len);
	e->seq = 0;
	r->n++;
	return 0;
}

/* Makes the snapshot the state just read: its entries' seqs with the hashes
 * of the bytes stored. */
static int remember_read(etcd_backend *eb, const wsr_state *s, reading *r, int64_t header_mod,
			 const char *gen)
{
	forget(eb);
	eb->v = r->v;
	eb->n = r->n;
	r->v = NULL;
	r->n = r->cap = 0;
	return know(eb, s, header_mod, gen);
}

/* Adds one stored entry to resources, checking the key names its address. */
static int add_entry(etcd_backend *eb, cJSON *resources, reading *got, const wsr_etcd_kv *kv,
		     size_t skip, wsr_diag *diag)
{
	cJSON *o = NULL;
	const char *address = kv->key + skip;
	if (wsr_json_parse(&o, kv->value, kv->value_len, NULL) || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		corrupt(eb, diag, kv->key, "is not a JSON object");
		return WSR_ECORRUPT;
	}
	const char *a = wsr_json_str(o, "address");
	if (!a || strcmp(a, address) != 0) {
		cJSON_Delete(o);
		corrupt(eb, diag, kv->key, "holds the entry of another address");
		return WSR_ECORRUPT;
	}
	if (!cJSON_AddItemToArray(resources, o)) {
		cJSON_Delete(o);
		return WSR_ENOMEM;
	}
	return reading_add(got, address, kv->value, kv->value_len);
}

/* Every entry of generation gen, as read at revision rev, into resources. */
static int read_entries(etcd_backend *eb, const char *gen, int64_t rev, cJSON *resources,
			reading *got, size_t *bytes, wsr_diag *diag)
{
	char *from = entry_key(eb, gen, ""), *end = from ? wsr_etcd_prefix_end(from) : NULL;
	int rc = from && end ? 0 : WSR_ENOMEM;
	size_t skip = from ? strlen(from) : 0;
	char *start = from ? strdup(from) : NULL;
	int first_page = 1;
	while (!rc && start) {
		wsr_etcd_range_result r = {0};
		char *err = NULL;
		rc = wsr_etcd_range(eb->c, &r, start, end, rev, PAGE, &err);
		if (rc) {
			fail(eb, diag, "read", rc, err);
			free(err);
			break;
		}
		size_t i = 0;
		/* pages after the first start at the last key of the one before */
		if (!first_page && r.n && strcmp(r.kvs[0].key, start) == 0)
			i = 1;
		for (; !rc && i < r.n; i++) {
			*bytes += r.kvs[i].value_len;
			if (*bytes > WSR_STATE_MAX_BYTES) {
				wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL,
					     "the limit is WSR_STATE_MAX_BYTES", NULL,
					     "state in %s: larger than %u bytes", eb->where,
					     WSR_STATE_MAX_BYTES);
				rc = WSR_ELIMIT;
			} else
				rc = add_entry(eb, resources, got, &r.kvs[i], skip, diag);
		}
		free(start);
		start = NULL;
		if (!rc && r.more && r.n)
			start = strdup(r.kvs[r.n - 1].key);
		if (!rc && r.more && !start)
			rc = WSR_ENOMEM;
		first_page = 0;
		wsr_etcd_range_free(&r);
	}
	free(start);
	free(from);
	free(end);
	return rc;
}

static int read_once(etcd_backend *eb, wsr_state **out, wsr_diag *diag);

/* A page read at the header's revision fails if etcd compacted that
 * revision away meanwhile (a refusal, not a transport error): the whole
 * read is made once more, at the new header's revision. */
static int etcd_read(wsr_state_backend *b, wsr_state **out, wsr_diag *diag)
{
	etcd_backend *eb = (etcd_backend *)b;
	wsr_diag first;
	wsr_diag_init(&first);
	int rc = read_once(eb, out, &first);
	if (rc == WSR_EAPI) {
		wsr_diag_free(&first);
		wsr_diag_init(&first);
		rc = read_once(eb, out, &first);
	}
	wsr_diag_move(diag, &first);
	wsr_diag_free(&first);
	return rc;
}

static int read_once(etcd_backend *eb, wsr_state **out, wsr_diag *diag)
{
	*out = NULL;
	header h;
	int rc = read_header(eb, &h, diag);
	if (rc)
		return rc;
	if (!h.present) {
		*out = wsr_state_new();
		if (!*out)
			return WSR_ENOMEM;
		forget(eb);
		eb->lineage = strdup((*out)->lineage);
		eb->serial = 0;
		eb->header_mod = 0;
		eb->known = eb->lineage != NULL;
		return 0;
	}
	cJSON *doc = cJSON_CreateObject(), *res = cJSON_CreateArray();
	reading got = {0};
	size_t bytes = 0;
	char gen[17];
	snprintf(gen, sizeof(gen), "%s", h.gen);
	if (!doc || !res) {
		cJSON_Delete(res);
		rc = WSR_ENOMEM;
	} else {
		/* the header's own fields, so state.c checks them as in a file */
		cJSON *f;
		while ((f = h.doc->child)) {
			cJSON_DetachItemViaPointer(h.doc, f);
			if (strcmp(f->string, "generation") == 0)
				cJSON_Delete(f);
			else
				cJSON_AddItemToObject(doc, f->string, f);
		}
		cJSON_AddItemToObject(doc, "resources", res);
		rc = read_entries(eb, gen, h.revision, res, &got, &bytes, diag);
	}
	cJSON_Delete(h.doc);
	char *where = wsr_strdupf("%s", eb->where);
	if (!rc)
		rc = where ? wsr_state_from_doc(out, doc, where, diag) : WSR_ENOMEM;
	free(where);
	cJSON_Delete(doc);
	if (!rc)
		rc = remember_read(eb, *out, &got, h.mod, gen);
	reading_free(&got);
	if (rc && *out) {
		wsr_state_free(*out);
		*out = NULL;
	}
	return rc;
}

/* ---- writing ---- */

/* The compares every write makes besides the header's: the lock (while
 * held) and the HA fence. */
static size_t fences(const etcd_backend *eb, wsr_etcd_cmp *cmp)
{
	size_t n = 0;
	if (eb->locked)
		cmp[n++] = (wsr_etcd_cmp){.key = eb->k_lock,
					  .target = WSR_ETCD_CMP_CREATE,
					  .result = WSR_ETCD_EQUAL,
					  .number = eb->lock_rev};
	if (eb->fence_key)
		cmp[n++] = (wsr_etcd_cmp){.key = eb->fence_key,
					  .target = WSR_ETCD_CMP_CREATE,
					  .result = WSR_ETCD_EQUAL,
					  .number = eb->fence_rev};
	return n;
}

static char *header_text(const wsr_state *s, const char *gen)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;
	if (o && cJSON_AddStringToObject(o, "format", WSR_STATE_FORMAT) &&
	    cJSON_AddStringToObject(o, "lineage", s->lineage) &&
	    cJSON_AddNumberToObject(o, "serial", (double)s->serial) &&
	    cJSON_AddStringToObject(o, "generation", gen))
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

/* A write that lost: says why from what the failure branch read (the
 * header, the lock, the fence key, in that order). */
static int explain_loss(etcd_backend *eb, const wsr_etcd_txn_result *res, int64_t want_mod,
			wsr_diag *diag)
{
	const wsr_etcd_range_result *h = res->ngets > 0 ? &res->gets[0] : NULL;
	const wsr_etcd_range_result *l = res->ngets > 1 ? &res->gets[1] : NULL;
	const wsr_etcd_range_result *f = res->ngets > 2 ? &res->gets[2] : NULL;
	if (eb->locked && l && (l->n == 0 || l->kvs[0].create_revision != eb->lock_rev)) {
		atomic_store(&eb->lost, 1);
		wsr_diag_add(
		    diag, WSR_SEV_ERROR, NULL, NULL,
		    "its lease expired (this process was paused or cut off from etcd for "
		    "longer than state.lockTTL) or someone ran wsr state unlock",
		    "run the command again: the next plan starts from what was stored",
		    "the state lock in %s is no longer this process's: nothing was written",
		    eb->where);
		return WSR_ELOCKED;
	}
	if (eb->fence_key && f && (f->n == 0 || f->kvs[0].create_revision != eb->fence_rev)) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL,
			     "another replica leads now; this one writes nothing more",
			     "leadership (%s) was lost: nothing was written", eb->fence_key);
		return WSR_ELOCKED;
	}
	int64_t now = h && h->n ? h->kvs[0].mod_revision : 0;
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL,
		     "another wsr wrote the state after this one read it; run the command again "
		     "so it starts from the current state",
		     "state in %s changed since it was read (header revision %lld, %lld when read)",
		     eb->where, (long long)now, (long long)want_mod);
	return WSR_ECONFLICT;
}

/* Runs one txn: the header compare and the fences, then ops; on a loss the
 * failure branch reads what explain_loss needs. */
static int txn(etcd_backend *eb, int64_t header_mod, const wsr_etcd_op *ops, size_t nops,
	       int64_t *revision, wsr_diag *diag)
{
	wsr_etcd_cmp cmp[3];
	size_t ncmp = 0;
	cmp[ncmp++] = header_mod ? (wsr_etcd_cmp){.key = eb->k_header,
						  .target = WSR_ETCD_CMP_MOD,
						  .result = WSR_ETCD_EQUAL,
						  .number = header_mod}
				 : (wsr_etcd_cmp){.key = eb->k_header,
						  .target = WSR_ETCD_CMP_VERSION,
						  .result = WSR_ETCD_EQUAL,
						  .number = 0};
	ncmp += fences(eb, cmp + ncmp);
	wsr_etcd_op reads[3] = {{.type = WSR_ETCD_GET, .key = eb->k_header},
				{.type = WSR_ETCD_GET, .key = eb->k_lock},
				{.type = WSR_ETCD_GET, .key = eb->fence_key}};
	wsr_etcd_txn_result res = {0};
	char *err = NULL;
	int rc =
	    wsr_etcd_txn(eb->c, cmp, ncmp, ops, nops, reads, eb->fence_key ? 3 : 2, &res, &err);
	if (rc) {
		fail(eb, diag, rc == WSR_ETIMEOUT ? "know whether it wrote" : "write", rc, err);
		free(err);
		return rc;
	}
	if (!res.succeeded)
		rc = explain_loss(eb, &res, header_mod, diag);
	else
		*revision = res.revision;
	wsr_etcd_txn_result_free(&res);
	return rc;
}

/* Fenced puts that nobody reads yet (a new generation's entries). */
static int put_batch(etcd_backend *eb, const wsr_etcd_op *ops, size_t nops, wsr_diag *diag)
{
	wsr_etcd_cmp cmp[2];
	size_t ncmp = fences(eb, cmp);
	wsr_etcd_txn_result res = {0};
	char *err = NULL;
	int rc = wsr_etcd_txn(eb->c, cmp, ncmp, ops, nops, NULL, 0, &res, &err);
	if (rc) {
		fail(eb, diag, "write", rc, err);
		free(err);
	} else if (!res.succeeded) {
		atomic_store(&eb->lost, 1);
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL,
			     "run the command again: the next plan starts from what was stored",
			     "the state lock or leadership in %s was lost while writing: the "
			     "stored state is unchanged",
			     eb->where);
		rc = WSR_ELOCKED;
	}
	wsr_etcd_txn_result_free(&res);
	return rc;
}

typedef struct opbuf {
	wsr_etcd_op *v;
	char **keys; /* owned, one per op */
	size_t n, cap;
	size_t bytes;
} opbuf;

static void opbuf_clear(opbuf *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->keys[i]);
	o->n = 0;
	o->bytes = 0;
}

static void opbuf_free(opbuf *o)
{
	opbuf_clear(o);
	free(o->v);
	free(o->keys);
}

/* Adds an op whose key is taken over. */
static int opbuf_add(opbuf *o, int type, char *key, const char *value, size_t len)
{
	if (!key)
		return WSR_ENOMEM;
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 64;
		wsr_etcd_op *v = realloc(o->v, cap * sizeof(*v));
		if (v)
			o->v = v;
		char **k = v ? realloc(o->keys, cap * sizeof(*k)) : NULL;
		if (!v || !k) {
			free(key);
			return WSR_ENOMEM;
		}
		o->keys = k;
		o->cap = cap;
	}
	o->keys[o->n] = key;
	o->v[o->n] = (wsr_etcd_op){.type = type, .key = key, .value = value, .value_len = len};
	o->n++;
	o->bytes += len + strlen(key);
	return 0;
}

static int too_big(etcd_backend *eb, const piece *p, wsr_diag *diag)
{
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, p->address,
		     "etcd refuses requests over 1.5 MiB (--max-request-bytes)", NULL,
		     "the state entry is %zu bytes: too large for the state in %s", p->len,
		     eb->where);
	return WSR_ELIMIT;
}

/* The changes against the snapshot, in one txn when they fit: 0 and
 * *fits 0 when they do not (nothing sent). */
static int write_changes(etcd_backend *eb, const wsr_state *s, piece *p, int *fits,
			 int64_t *revision, wsr_diag *diag)
{
	opbuf o = {0};
	int rc = 0;
	*fits = 1;
	char *head = header_text(s, eb->gen);
	rc = head ? opbuf_add(&o, WSR_ETCD_PUT, strdup(eb->k_header), head, strlen(head))
		  : WSR_ENOMEM;
	wsr_hmap seen = WSR_HMAP_INIT;
	for (size_t i = 0; !rc && i < s->n && *fits; i++) {
		const stored *had = wsr_hmap_get(&eb->index, p[i].address);
		if (wsr_hmap_put(&seen, p[i].address, (void *)&p[i])) {
			rc = WSR_ENOMEM;
			break;
		}
		if (had && memcmp(had->hash, p[i].hash, 32) == 0)
			continue;
		rc = piece_text(&p[i]);
		if (!rc)
			rc = opbuf_add(&o, WSR_ETCD_PUT, entry_key(eb, eb->gen, p[i].address),
				       p[i].text, p[i].len);
		*fits = o.n <= TXN_OPS && o.bytes <= TXN_BYTES;
	}
	for (size_t i = 0; !rc && i < eb->n && *fits; i++) {
		if (wsr_hmap_get(&seen, eb->v[i].address))
			continue;
		rc = opbuf_add(&o, WSR_ETCD_DELETE, entry_key(eb, eb->gen, eb->v[i].address), NULL,
			       0);
		*fits = o.n <= TXN_OPS && o.bytes <= TXN_BYTES;
	}
	wsr_hmap_free(&seen);
	if (!rc && *fits)
		rc = txn(eb, eb->header_mod, o.v, o.n, revision, diag);
	opbuf_free(&o);
	free(head);
	return rc;
}

/* Every entry under a new generation in batches, then the header flipped
 * to it (deleting every other generation) in one compared txn. */
static int write_generation(etcd_backend *eb, const wsr_state *s, piece *p, int64_t header_mod,
			    char gen[17], int64_t *revision, wsr_diag *diag)
{
	int rc = new_generation(gen);
	if (rc) {
		wsr_diag_error(diag, NULL, "no randomness for a state generation id");
		return rc;
	}
	opbuf o = {0};
	for (size_t i = 0; !rc && i < s->n; i++) {
		if ((rc = piece_text(&p[i])))
			break;
		if (p[i].len + 512 > TXN_BYTES) {
			rc = too_big(eb, &p[i], diag);
			break;
		}
		if (o.n == TXN_OPS || o.bytes + p[i].len > TXN_BYTES) {
			rc = put_batch(eb, o.v, o.n, diag);
			opbuf_clear(&o);
		}
		if (!rc)
			rc = opbuf_add(&o, WSR_ETCD_PUT, entry_key(eb, gen, p[i].address),
				       p[i].text, p[i].len);
	}
	if (!rc && o.n)
		rc = put_batch(eb, o.v, o.n, diag);
	opbuf_clear(&o);
	char *head = rc ? NULL : header_text(s, gen);
	char *mine = rc ? NULL : entry_key(eb, gen, "");
	char *mine_end = mine ? wsr_etcd_prefix_end(mine) : NULL;
	if (!rc && (!head || !mine || !mine_end))
		rc = WSR_ENOMEM;
	if (!rc) {
		wsr_etcd_op flip[3] = {
		    {.type = WSR_ETCD_PUT,
		     .key = eb->k_header,
		     .value = head,
		     .value_len = strlen(head)},
		    {.type = WSR_ETCD_DELETE, .key = eb->k_res, .range_end = mine},
		    {.type = WSR_ETCD_DELETE, .key = mine_end, .range_end = eb->k_res_end}};
		rc = txn(eb, header_mod, flip, 3, revision, diag);
		if (rc && rc != WSR_ETIMEOUT) {
			/* nobody reads them; removed now rather than at the next flip */
			wsr_etcd_op drop = {
			    .type = WSR_ETCD_DELETE, .key = mine, .range_end = mine_end};
			wsr_etcd_txn_result res = {0};
			char *err = NULL;
			wsr_etcd_txn(eb->c, NULL, 0, &drop, 1, NULL, 0, &res, &err);
			wsr_etcd_txn_result_free(&res);
			free(err);
		}
	}
	opbuf_free(&o);
	free(head);
	free(mine);
	free(mine_end);
	return rc;
}

/* The compare of compare-and-swap when the snapshot is not what the caller
 * expects: the stored header must be. */
static int check_expected(etcd_backend *eb, const char *lineage, int64_t serial,
			  int64_t *header_mod, wsr_diag *diag)
{
	header h;
	int rc = read_header(eb, &h, diag);
	if (rc)
		return rc;
	const char *hint = "another wsr wrote the state after this one read it; run the command "
			   "again so it starts from the current state";
	if (!h.present) {
		*header_mod = 0;
		if (serial != 0) {
			wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, hint,
				     "state in %s disappeared after it was read (serial %lld)",
				     eb->where, (long long)serial);
			rc = WSR_ECONFLICT;
		}
	} else if (!lineage || strcmp(h.lineage, lineage) != 0) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, hint,
			     "state in %s now holds another state (lineage %s, expected %s)",
			     eb->where, h.lineage, lineage ? lineage : "none");
		rc = WSR_ECONFLICT;
	} else if (h.serial != serial) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, hint,
			     "state in %s changed since it was read (serial %lld stored, %lld "
			     "when read)",
			     eb->where, (long long)h.serial, (long long)serial);
		rc = WSR_ECONFLICT;
	} else {
		*header_mod = h.mod;
	}
	cJSON_Delete(h.doc);
	return rc;
}

static int etcd_store(wsr_state_backend *b, const wsr_state *s, const char *lineage, int64_t serial,
		      wsr_diag *diag)
{
	etcd_backend *eb = (etcd_backend *)b;
	if (eb->locked && atomic_load(&eb->lost)) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL,
			     "its lease could not be renewed for state.lockTTL",
			     "run the command again: the next plan starts from what was stored",
			     "the state lock in %s was lost: nothing was written", eb->where);
		return WSR_ELOCKED;
	}
	piece *p = NULL;
	int rc = pieces(eb, s, &p);
	if (rc)
		return rc;
	int same = eb->known && lineage && eb->lineage && strcmp(eb->lineage, lineage) == 0 &&
		   eb->serial == serial;
	int64_t revision = 0, header_mod = eb->header_mod;
	char gen[17];
	int fits = 0;
	if (same && eb->header_mod)
		rc = write_changes(eb, s, p, &fits, &revision, diag);
	if (!rc && !fits) {
		if (!same)
			rc = check_expected(eb, lineage, serial, &header_mod, diag);
		if (!rc)
			rc = write_generation(eb, s, p, header_mod, gen, &revision, diag);
	} else
		snprintf(gen, sizeof(gen), "%s", eb->gen);
	if (!rc)
		rc = remember(eb, s, p, revision, gen);
	else
		forget(eb); /* what is stored is not known now */
	pieces_free(p, s->n);
	return rc;
}

/* ---- the lock ---- */

/* Renews the lock's lease every TTL/3 until told to stop; marks the lock
 * lost when etcd says the lease is gone or no renewal succeeded for a TTL. */
static void *keeper(void *arg)
{
	etcd_backend *eb = arg;
	int64_t period = eb->lock_ttl_s * 1000 / 3, last_ok = wsr_clock_mono_ms();
	pthread_mutex_lock(&eb->mu);
	while (!eb->stop_keeper) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += period / 1000;
		ts.tv_nsec += (period % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&eb->cv, &eb->mu, &ts);
		if (eb->stop_keeper)
			break;
		pthread_mutex_unlock(&eb->mu);
		int64_t ttl = 0;
		char *err = NULL;
		int rc = wsr_etcd_lease_keepalive(eb->c, eb->lease, &ttl, &err);
		free(err);
		int64_t now = wsr_clock_mono_ms();
		if (rc == 0 && ttl > 0)
			last_ok = now;
		if ((rc == 0 && ttl == 0) || now - last_ok >= eb->lock_ttl_s * 1000)
			atomic_store(&eb->lost, 1);
		pthread_mutex_lock(&eb->mu);
		if (atomic_load(&eb->lost))
			break;
	}
	pthread_mutex_unlock(&eb->mu);
	return NULL;
}

static void report_holder(etcd_backend *eb, const wsr_etcd_kv *kv, wsr_diag *diag)
{
	wsr_state_lock_info info;
	wsr_state_lock_parse(&info, kv ? kv->value : NULL, kv ? kv->value_len : 0);
	char who[512];
	wsr_state_lock_describe(&info, who, sizeof(who));
	char *detail = wsr_strdupf("lock key: %s in %s", eb->k_lock, eb->where);
	char *hint = wsr_strdupf(
	    "wait for it to finish (--lock-timeout waits). If that run died, its lock goes "
	    "when its lease expires, at most state.lockTTL after its last renewal; wsr state "
	    "unlock %s removes it now",
	    info.id);
	wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, detail, hint, "state is locked by %s", who);
	free(hint);
	free(detail);
}

static int etcd_lock(wsr_state_backend *b, const char *command, wsr_diag *diag)
{
	etcd_backend *eb = (etcd_backend *)b;
	if (eb->locked)
		return 0;
	char *id = NULL, *record = wsr_state_lock_record(command, &id);
	free(id);
	if (!record)
		return WSR_ENOMEM;
	char *err = NULL;
	int64_t lease = 0;
	int rc = wsr_etcd_lease_grant(eb->c, eb->lock_ttl_s, &lease, &err);
	if (rc) {
		fail(eb, diag, "lock", rc, err);
		free(err);
		free(record);
		return rc;
	}
	wsr_etcd_cmp free_lock = {.key = eb->k_lock,
				  .target = WSR_ETCD_CMP_VERSION,
				  .result = WSR_ETCD_EQUAL,
				  .number = 0};
	wsr_etcd_op put = {.type = WSR_ETCD_PUT,
			   .key = eb->k_lock,
			   .value = record,
			   .value_len = strlen(record),
			   .lease = lease};
	wsr_etcd_op get = {.type = WSR_ETCD_GET, .key = eb->k_lock};
	wsr_etcd_txn_result res = {0};
	rc = wsr_etcd_txn(eb->c, &free_lock, 1, &put, 1, &get, 1, &res, &err);
	free(record);
	if (rc) {
		fail(eb, diag, "lock", rc, err);
		free(err);
	} else if (!res.succeeded) {
		report_holder(eb, res.ngets && res.gets[0].n ? &res.gets[0].kvs[0] : NULL, diag);
		rc = WSR_ELOCKED;
	}
	if (rc) {
		wsr_etcd_txn_result_free(&res);
		err = NULL;
		wsr_etcd_lease_revoke(eb->c, lease, &err); /* ours, unused */
		free(err);
		return rc;
	}
	eb->lease = lease;
	eb->lock_rev = res.revision; /* the key was created by this txn */
	wsr_etcd_txn_result_free(&res);
	atomic_store(&eb->lost, 0);
	eb->stop_keeper = 0;
	if (pthread_create(&eb->keeper, NULL, keeper, eb) != 0) {
		err = NULL;
		wsr_etcd_lease_revoke(eb->c, lease, &err);
		free(err);
		wsr_diag_error(diag, NULL, "cannot start the thread that renews the state lock");
		return WSR_ENOMEM;
	}
	eb->locked = 1;
	return 0;
}

static int etcd_unlock(wsr_state_backend *b)
{
	etcd_backend *eb = (etcd_backend *)b;
	if (!eb->locked)
		return 0;
	pthread_mutex_lock(&eb->mu);
	eb->stop_keeper = 1;
	pthread_cond_signal(&eb->cv);
	pthread_mutex_unlock(&eb->mu);
	pthread_join(eb->keeper, NULL);
	eb->locked = 0;
	char *err = NULL;
	/* revoking deletes the key; if etcd cannot be reached, the lease ends
	 * by itself within the TTL */
	int rc = wsr_etcd_lease_revoke(eb->c, eb->lease, &err);
	free(err);
	eb->lease = 0;
	return rc == WSR_ENOTFOUND ? 0 : rc;
}

static int get_lock(etcd_backend *eb, wsr_etcd_range_result *r, wsr_diag *diag)
{
	char *err = NULL;
	int rc = wsr_etcd_range(eb->c, r, eb->k_lock, NULL, 0, 0, &err);
	if (rc) {
		fail(eb, diag, "read the lock of", rc, err);
		free(err);
	}
	return rc;
}

static int etcd_holder(wsr_state_backend *b, wsr_state_lock_info *info, wsr_diag *diag)
{
	etcd_backend *eb = (etcd_backend *)b;
	wsr_etcd_range_result r = {0};
	int rc = get_lock(eb, &r, diag);
	if (!rc && r.n == 0)
		rc = WSR_ENOTFOUND;
	if (!rc)
		wsr_state_lock_parse(info, r.kvs[0].value, r.kvs[0].value_len);
	wsr_etcd_range_free(&r);
	return rc;
}

static int etcd_force_unlock(wsr_state_backend *b, const char *id, wsr_diag *diag)
{
	etcd_backend *eb = (etcd_backend *)b;
	wsr_etcd_range_result r = {0};
	int rc = get_lock(eb, &r, diag);
	if (!rc && r.n == 0)
		rc = WSR_ENOTFOUND;
	wsr_state_lock_info info;
	if (!rc) {
		wsr_state_lock_parse(&info, r.kvs[0].value, r.kvs[0].value_len);
		if (strcmp(info.id, id) != 0)
			rc = WSR_ECONFLICT;
	}
	if (rc) {
		wsr_etcd_range_free(&r);
		return rc;
	}
	/* only the lock that was shown: if it changed hands meanwhile, keep it */
	wsr_etcd_cmp same = {.key = eb->k_lock,
			     .target = WSR_ETCD_CMP_CREATE,
			     .result = WSR_ETCD_EQUAL,
			     .number = r.kvs[0].create_revision};
	wsr_etcd_op del = {.type = WSR_ETCD_DELETE, .key = eb->k_lock};
	int64_t lease = r.kvs[0].lease;
	wsr_etcd_range_free(&r);
	wsr_etcd_txn_result res = {0};
	char *err = NULL;
	rc = wsr_etcd_txn(eb->c, &same, 1, &del, 1, NULL, 0, &res, &err);
	if (rc) {
		fail(eb, diag, "unlock", rc, err);
		free(err);
	} else if (!res.succeeded) {
		wsr_diag_add(diag, WSR_SEV_ERROR, NULL, NULL, NULL, "run wsr state unlock again",
			     "the state lock changed hands while it was being removed; it was "
			     "kept");
		rc = WSR_ECONFLICT;
	}
	wsr_etcd_txn_result_free(&res);
	if (!rc && lease) {
		/* the old holder's next renewal then finds its lease gone: it stops
		 * writing even before its next write is refused */
		err = NULL;
		wsr_etcd_lease_revoke(eb->c, lease, &err);
		free(err);
	}
	return rc;
}

static int etcd_fence(wsr_state_backend *b, const char *key, int64_t create_revision)
{
	etcd_backend *eb = (etcd_backend *)b;
	char *k = key ? strdup(key) : NULL;
	if (key && !k)
		return WSR_ENOMEM;
	free(eb->fence_key);
	eb->fence_key = k;
	eb->fence_rev = create_revision;
	return 0;
}

static void etcd_free(wsr_state_backend *b)
{
	etcd_backend *eb = (etcd_backend *)b;
	if (!eb)
		return;
	etcd_unlock(b);
	forget(eb);
	wsr_etcd_free(eb->c);
	free(eb->where);
	free(eb->k_header);
	free(eb->k_lock);
	free(eb->k_res);
	free(eb->k_res_end);
	free(eb->fence_key);
	pthread_mutex_destroy(&eb->mu);
	pthread_cond_destroy(&eb->cv);
	free(eb);
}

static const wsr_state_backend_ops etcd_ops = {
    .name = "etcd",
    .read = etcd_read,
    .store = etcd_store,
    .lock = etcd_lock,
    .unlock = etcd_unlock,
    .holder = etcd_holder,
    .force_unlock = etcd_force_unlock,
    .fence = etcd_fence,
    .free = etcd_free,
};

int wsr_state_etcd_open(wsr_state_backend **out, wsr_etcd *client, const char *prefix,
			int64_t lock_ttl_s, const char *where)
{
	*out = NULL;
	etcd_backend *eb = calloc(1, sizeof(*eb));
	if (!eb) {
		wsr_etcd_free(client);
		return WSR_ENOMEM;
	}
	eb->base.ops = &etcd_ops;
	eb->c = client;
	eb->lock_ttl_s = lock_ttl_s > 0 ? lock_ttl_s : WSR_STATE_ETCD_LOCK_TTL_S;
	eb->index = (wsr_hmap)WSR_HMAP_INIT;
	pthread_mutex_init(&eb->mu, NULL);
	pthread_cond_init(&eb->cv, NULL);
	eb->where = wsr_strdupf("%s (prefix %s)", where ? where : "etcd", prefix);
	eb->k_header = wsr_strdupf("%s/header", prefix);
	eb->k_lock = wsr_strdupf("%s/lock", prefix);
	eb->k_res = wsr_strdupf("%s/r/", prefix);
	eb->k_res_end = eb->k_res ? wsr_etcd_prefix_end(eb->k_res) : NULL;
	if (!eb->where || !eb->k_header || !eb->k_lock || !eb->k_res || !eb->k_res_end) {
		etcd_free(&eb->base);
		return WSR_ENOMEM;
	}
	*out = &eb->base;
	return 0;
}
