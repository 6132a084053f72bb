#!/bin/sh
# test_etcd_client: lib/etcd against a real 3-member etcd cluster
# (etcd_lib.sh): tests/unit/test_etcd_live.c's groups, each run after this
# script has set the cluster up for it (a member stopped, two stopped, TLS,
# auth). A group passes when its tests ran and passed; one that skipped
# (the cluster was not seen) fails here. Timings the tests measure
# (failover, lease expiry) are printed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/etcd_lib.sh"

LIVE=${WSR_UNIT:?set WSR_UNIT}/test_etcd_live
PASSWORD="live-Pw-7f3e9a"

# live GROUP TEST...: runs the group against ETCD_ENDPOINTS (or
# LIVE_ENDPOINTS); each named test must have run and passed. What the tests
# measured is printed.
live() {
	WSR_ETCD_ENDPOINTS=${LIVE_ENDPOINTS:-$ETCD_ENDPOINTS}
	WSR_ETCD_LIVE=$1
	export WSR_ETCD_ENDPOINTS WSR_ETCD_LIVE
	shift
	run "$LIVE"
	grep -v '^\[' "$T/stdout" | sed 's/^/  /'
	expect_rc 0
	for t in "$@"; do
		grep -q "^\[       OK \] $t\$" "$T/stdout" || fail "$t did not run and pass"
	done
}

# first I: the client URLs with member I's first (a client meets it first).
first() {
	out=$(etcd_get "url$1")
	for i in $(seq 1 "$ETCD_N"); do
		[ "$i" = "$1" ] || out="$out,$(etcd_get "url$i")"
	done
	echo "$out"
}

t_kv_txn_leases() {
	etcd_start 3 || fail "etcd did not start"
	live kv test_kv_put_read_delete test_kv_paging_at_a_fixed_revision \
		test_kv_compare_and_swap test_lease_grant_keepalive_revoke \
		test_lease_expiry_deletes_keys
}

t_failover_leader_stopped() {
	etcd_start 3 || fail "etcd did not start"
	l=$(etcd_leader) || fail "no leader"
	etcd_stop_member "$l" # TERM: the leader hands over as it stops
	LIVE_ENDPOINTS=$(first "$l")
	live failover test_failover_one_member_stopped
}

t_failover_leader_killed() {
	etcd_start 3 || fail "etcd did not start"
	l=$(etcd_leader) || fail "no leader"
	start=$(date +%s%N)
	etcd_stop_member "$l" KILL
	etcd_wait_healthy 10 || fail "no new leader"
	echo "  a new leader $((($(date +%s%N) - start) / 1000000)) ms after kill -9 of the leader"
	LIVE_ENDPOINTS=$(first "$l")
	live failover test_failover_one_member_stopped
	etcd_start_member "$l" || fail "member $l did not come back"
	etcd_wait_healthy 10 || fail "the cluster did not heal"
}

t_no_quorum() {
	etcd_start 3 || fail "etcd did not start"
	etcd_stop_member 2 KILL
	etcd_stop_member 3 KILL
	sleep 1.5 # member 1 notices it has no leader (election timeout 500 ms)
	live noquorum test_no_quorum_fails_fast_and_clearly
	etcd_start_member 3 || fail "member 3 did not come back"
	etcd_wait_healthy 10 || fail "quorum did not come back"
	live quorum test_quorum_back
}

t_tls_client_cert() {
	etcd_tls=1
	etcd_start 3 || fail "etcd did not start"
	WSR_ETCD_CA=$T/etcd/ca.pem
	WSR_ETCD_CERT=$T/etcd/client.pem
	WSR_ETCD_KEY=$T/etcd/client-key.pem
	export WSR_ETCD_CA WSR_ETCD_CERT WSR_ETCD_KEY
	live tls test_tls_client_certificate
}

t_tls_with_auth() {
	etcd_tls=1
	etcd_start 3 || fail "etcd did not start"
	etcd_enable_auth wsr "$PASSWORD" || fail "auth did not turn on"
	WSR_ETCD_CA=$T/etcd/ca.pem
	WSR_ETCD_CERT=$T/etcd/client.pem
	WSR_ETCD_KEY=$T/etcd/client-key.pem
	WSR_ETCD_USER=wsr
	WSR_ETCD_PASSWORD=$PASSWORD
	export WSR_ETCD_CA WSR_ETCD_CERT WSR_ETCD_KEY WSR_ETCD_USER WSR_ETCD_PASSWORD
	live tls test_tls_client_certificate
}

t_auth_password() {
	ETCD_EXTRA="--auth-token-ttl 1" # the client must renew its token
	etcd_start 3 || fail "etcd did not start"
	etcd_enable_auth wsr "$PASSWORD" || fail "auth did not turn on"
	WSR_ETCD_USER=wsr
	WSR_ETCD_PASSWORD=$PASSWORD
	export WSR_ETCD_USER WSR_ETCD_PASSWORD
	live auth test_auth_password
	! grep -rqF -- "$PASSWORD" "$T/stdout" "$T/stderr" || fail "the password was printed"
}

run_tests
