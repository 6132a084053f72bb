/* etcd: a client of etcd's v3 API through its JSON gateway (grpc-gateway,
 * HTTP POST /v3/...), on lib/http, so wsr needs no gRPC library. What wsr
 * relies on, and the etcd source it comes from, is in docs/api/etcd.md.
 *
 * On the wire keys and values are base64 and int64 fields (revisions,
 * lease ids, TTLs) are JSON strings; here keys are C strings, values are
 * bytes with a length, and numbers are int64_t.
 *
 * Several endpoints: a request that gets no answer, or an answer saying the
 * member cannot serve it now (503, "etcdserver: no leader", "etcdserver:
 * request timed out", a member stopping), is sent to the next endpoint;
 * the endpoint that answered is tried first next time. An answer that is a
 * refusal (a compare that failed is not one: it is a txn result) is
 * returned at once. TLS (a CA file, a client certificate and key) goes
 * through lib/http. With a username, the client authenticates
 * (/v3/auth/authenticate) on first use and sends the token in the
 * Authorization header (no "Bearer"), authenticating again once when etcd
 * says the token is invalid or expired. The password is kept only in the
 * client, scrubbed when it is freed, and never logged or put in *err.
 * Thread-safe: one client serves several threads. */
#ifndef WSR_LIB_ETCD_H
#define WSR_LIB_ETCD_H
#include <stddef.h>
#include <stdint.h>

#define WSR_ETCD_MAX_ENDPOINTS 16
/* etcd's own defaults (--max-txn-ops, --max-request-bytes): a caller that
 * writes more splits it. */
#define WSR_ETCD_MAX_TXN_OPS 128
#define WSR_ETCD_MAX_REQUEST_BYTES (3u * 512 * 1024) /* 1.5 MiB */
/* The largest answer taken (a range larger than this is read in pages). */
#define WSR_ETCD_MAX_RESPONSE (64u * 1024 * 1024)

typedef struct wsr_etcd_opts {
	const char *const *endpoints; /* "http://127.0.0.1:2379", "https://..."; no path */
	size_t nendpoints;	      /* 1 .. WSR_ETCD_MAX_ENDPOINTS */
	const char *ca_file;	      /* may be NULL */
	const char *cert_file;	      /* client certificate; with key_file; may be NULL */
	const char *key_file;
	const char *username;	 /* NULL: no auth */
	const char *password;	 /* copied; NULL with a username is an empty password */
	long connect_timeout_ms; /* 0: 2000 */
	long timeout_ms;	 /* one attempt on one endpoint; 0: 5000 */
	const char *where;	 /* what configured it, for messages ("state") */
} wsr_etcd_opts;

typedef struct wsr_etcd wsr_etcd;

/* Checks the options (endpoint URLs, files readable) and builds the
 * client; nothing is sent yet. *err (caller frees) says what is wrong. */
int wsr_etcd_new(wsr_etcd **out, const wsr_etcd_opts *o, char **err);
void wsr_etcd_free(wsr_etcd *c);
/* The endpoint that answered last (for messages and /status). */
const char *wsr_etcd_endpoint(const wsr_etcd *c);

typedef struct wsr_etcd_kv {
	char *key;   /* NUL-terminated */
	char *value; /* NUL-terminated too, for text; value_len bytes */
	size_t value_len;
	int64_t create_revision, mod_revision, version, lease;
} wsr_etcd_kv;

/* A range's answer. (Not named wsr_etcd_range: that is the function, and C
 * puts typedef and function names in one namespace.) */
typedef struct wsr_etcd_range_result {
	wsr_etcd_kv *kvs;
	size_t n;
	int more;	  /* more keys in the range than returned (limit) */
	int64_t count;	  /* keys in the range */
	int64_t revision; /* the store's revision the answer was read at */
} wsr_etcd_range_result;

void wsr_etcd_range_free(wsr_etcd_range_result *r);

/* The end of the range of every key starting with prefix (etcd's
 * "prefix + 1" rule); caller frees. */
char *wsr_etcd_prefix_end(const char *prefix);

/* Reads keys in [key, range_end) (range_end NULL: key alone; "": every key
 * from key on, etcd's "\0", as wsr_etcd_prefix_end gives for a prefix of
 * 0xff bytes), at revision
 * (0: the latest), at most limit keys (0: all), in key order. Linearizable
 * (not serializable) reads. */
int wsr_etcd_range(wsr_etcd *c, wsr_etcd_range_result *out, const char *key, const char *range_end,
		   int64_t revision, int64_t limit, char **err);

enum { WSR_ETCD_CMP_VERSION, WSR_ETCD_CMP_CREATE, WSR_ETCD_CMP_MOD, WSR_ETCD_CMP_VALUE };
enum { WSR_ETCD_EQUAL, WSR_ETCD_NOT_EQUAL, WSR_ETCD_GREATER, WSR_ETCD_LESS };

typedef struct wsr_etcd_cmp {
	const char *key;
	int target;	   /* WSR_ETCD_CMP_* */
	int result;	   /* WSR_ETCD_EQUAL ... */
	int64_t number;	   /* version, create or mod revision */
	const char *value; /* WSR_ETCD_CMP_VALUE */
	size_t value_len;
} wsr_etcd_cmp;

enum { WSR_ETCD_PUT, WSR_ETCD_DELETE, WSR_ETCD_GET };

typedef struct wsr_etcd_op {
	int type;
	const char *key;
	const char *range_end; /* DELETE and GET: NULL for key alone */
	const char *value;     /* PUT */
	size_t value_len;
	int64_t lease; /* PUT: attach to this lease; 0: none */
} wsr_etcd_op;

typedef struct wsr_etcd_txn_result {
	int succeeded;		     /* every compare held: the success ops ran */
	int64_t revision;	     /* the store's revision after the txn */
	wsr_etcd_range_result *gets; /* one per GET op of the branch that ran, in order */
	size_t ngets;
} wsr_etcd_txn_result;

void wsr_etcd_txn_result_free(wsr_etcd_txn_result *r);

/* One transaction: if every compare holds, the success ops, else the
 * failure ops. A txn is not retried on another endpoint after it may have
 * reached a member (a timeout after sending): that returns WSR_ETIMEOUT
 * ("outcome unknown" in *err) and the caller re-reads to find out. */
int wsr_etcd_txn(wsr_etcd *c, const wsr_etcd_cmp *cmp, size_t ncmp, const wsr_etcd_op *success,
		 size_t nsuccess, const wsr_etcd_op *failure, size_t nfailure,
		 wsr_etcd_txn_result *out, char **err);

/* Leases. grant: a lease of ttl_s seconds, *id its id (etcd chooses it).
 * keepalive: renews it once; *ttl the TTL now left, 0 when the lease no
 * longer exists (expired or revoked). revoke: ends it and deletes every key
 * attached to it; a lease that does not exist is WSR_ENOTFOUND. */
int wsr_etcd_lease_grant(wsr_etcd *c, int64_t ttl_s, int64_t *id, char **err);
int wsr_etcd_lease_keepalive(wsr_etcd *c, int64_t id, int64_t *ttl, char **err);
int wsr_etcd_lease_revoke(wsr_etcd *c, int64_t id, char **err);

/* Return codes: 0; WSR_EHTTP when no endpoint answered (*err names each
 * endpoint and why); WSR_ETIMEOUT; WSR_EAPI when etcd refused (*err has
 * etcd's message, e.g. "etcdserver: permission denied"); WSR_ELIMIT when a
 * request would exceed WSR_ETCD_MAX_REQUEST_BYTES or ops; WSR_ECORRUPT when
 * an answer is not what the API defines (bad JSON, bad base64, a number
 * that is not one); WSR_ENOMEM. */
#endif
