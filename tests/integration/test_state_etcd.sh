#!/bin/sh
# test_state_etcd: the etcd state backend against a real 3-member etcd
# cluster (etcd_lib.sh) and the Loopback emulator: plan/apply equal to the
# file backend, pull/push round trips, the lease lock (a killed run's lock
# expires, state unlock removes one, --lock-timeout waits), fenced writes,
# failover between endpoints, TLS with client certificates and
# username/password auth. Only 127.0.0.1 is contacted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/etcd_lib.sh"

# use_etcd DIR [LINES]: DIR/wsr.yaml with the loopback provider on SIM_URL and
# the state in the cluster under /wsr/test; LINES (already indented two
# spaces) are added to the state block.
use_etcd() {
	use_sim "$1"
	eps=$(printf '%s' "$ETCD_ENDPOINTS" | sed 's/,/, /g')
	cat >>"$1/wsr.yaml" <<EOC
state:
  backend: etcd
  endpoints: [$eps]
  prefix: /wsr/test
${2:-}
EOC
}

# resources FILE: the recorded resources of a pulled state, without what
# differs between two runs (ids, times).
resources() {
	jq -S '[.resources[] | {address, provider, kind, applied, labels}]' "$1"
}

t_apply_on_etcd_equals_the_file_backend() {
	etcd_start 3 && sim_start && use_etcd e && many e 5
	run "$WSR" apply e --auto-approve
	expect_rc 0
	expect_out "5 succeeded"
	run "$WSR" plan e --detailed-exitcode
	expect_rc 0
	"$WSR" state pull --dir e >e.json || fail "pull from etcd failed"
	# the layout: a header and one key per resource, nothing else
	etcd_ctl get --prefix /wsr/test --keys-only | sed '/^$/d' >keys
	[ "$(grep -c '^/wsr/test/r/[0-9a-f]\{16\}/loopback/acme/w00[1-5]$' keys)" -eq 5 ] ||
		fail "not one key per resource: $(cat keys)"
	grep -qx /wsr/test/header keys || fail "no header key"
	! grep -qx /wsr/test/lock keys || fail "the lock outlived the apply"
	[ "$(wc -l <keys)" -eq 6 ] || fail "other keys than the header and the entries: $(cat keys)"
	# the same specs on the file backend, on the same emulator once the
	# etcd run's workspaces are pruned (a prune through the etcd state)
	mkdir -p f && mv e/many.yaml f/ && use_sim f
	run "$WSR" apply e --auto-approve --prune
	expect_rc 0
	expect_out "5 succeeded"
	[ "$(count_platform)" -eq 0 ] || fail "the prune left $(count_platform) workspaces"
	"$WSR" state pull --dir e | jq -e '.resources == []' >/dev/null || fail "pruned entries kept"
	run "$WSR" apply f --auto-approve
	expect_rc 0
	"$WSR" state pull --dir f >f.json || fail "pull from the file failed"
	resources e.json >e.res && resources f.json >f.res
	cmp -s e.res f.res || fail "the etcd state records other resources than the file state"
	# one write per serial: the header changed exactly as often as the
	# serial says (steps that finish together are written together)
	serial=$("$WSR" state pull --dir e | jq .serial)
	[ "$(etcd_ctl get /wsr/test/header -w json | jq '.kvs[0].version')" -eq "$serial" ] ||
		fail "header versions do not follow the serial ($serial)"
}

t_push_and_pull_move_a_state_between_backends() {
	etcd_start 3 && sim_start && use_sim f && many f 3
	run "$WSR" apply f --auto-approve
	expect_rc 0
	"$WSR" state pull --dir f >file.json || fail "pull from the file failed"
	use_etcd e
	run "$WSR" state push --dir e file.json
	expect_rc 0
	expect_out "to the etcd state"
	"$WSR" state pull --dir e >back.json || fail "pull from etcd failed"
	cmp -s file.json back.json || fail "pulled back from etcd differs from the file state"
	# the etcd state is now the one in use: a plan on it sees no change
	cp f/many.yaml e/
	run "$WSR" plan e --detailed-exitcode
	expect_rc 0
	# and back to a file backend, byte for byte
	mkdir -p g && cp f/many.yaml g/ && use_sim g
	run "$WSR" state push --dir g back.json
	expect_rc 0
	cmp -s back.json g/.wsr/state.json || fail "pushed to a file, the state differs"
	# an older serial, another lineage: refused without --force
	run "$WSR" state push --dir e file.json
	expect_rc 1
	expect_err "is not newer than the stored serial"
}

t_large_state_is_written_in_batches_then_changed_by_one_key() {
	etcd_start 3 && sim_start && use_etcd e
	# 1,000 entries: far more than one txn may carry (128 operations)
	jq -n '{format: "wsr.state/v1", lineage: "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b", serial: 7,
		resources: [range(1000) | {address: "loopback/acme/w\(.)", provider: "loopback",
		kind: "Workspace", id: "ws-\(.)", applied: {name: "w\(.)", type: "baremetal"},
		observed: null, labels: null, status: null, source: null, created: null,
		updated: null}]}' >big.json
	"$WSR" state push --dir e big.json >/dev/null 2>&1 || fail "push of 1,000 entries failed"
	"$WSR" state pull --dir e >back.json || fail "pull failed"
	# the state is kept in address order (w10 before w2)
	jq -S '.resources |= sort_by(.address)' big.json >a && jq -S . back.json >b
	cmp -s a b || fail "1,000 entries pulled back differ"
	gen=$(etcd_ctl get /wsr/test/header --print-value-only | jq -r .generation)
	rev=$(etcd_ctl get /wsr/test/header -w json | jq -r .header.revision)
	# one entry changed: one key and the header written, in the same generation
	jq '.serial = 8 | (.resources[] | select(.address == "loopback/acme/w3") | .applied.type) =
		"kubernetes"' back.json >one.json
	run "$WSR" state push --dir e one.json
	expect_rc 0
	[ "$(etcd_ctl get /wsr/test/header --print-value-only | jq -r .generation)" = "$gen" ] ||
		fail "a one-entry change rewrote the whole state"
	changed=$(etcd_ctl get --prefix /wsr/test/r/ --keys-only --rev 0 -w json |
		jq --argjson r "$rev" '[.kvs[] | select(.mod_revision > $r)] | length')
	[ "$changed" -eq 1 ] || fail "$changed entries were rewritten for one change"
	"$WSR" state pull --dir e | jq -e '.resources[] | select(.address == "loopback/acme/w3") |
		.applied.type == "kubernetes"' >/dev/null || fail "the change was not stored"
}

t_concurrent_applies_one_fails_naming_the_holder() {
	etcd_start 3 && sim_start "$FIXTURES/seed-slow.yaml" && use_etcd e && many e 4
	"$WSR" apply e --auto-approve --parallelism 1 >a.out 2>&1 &
	a=$!
	i=0
	until etcd_ctl get /wsr/test/lock --print-value-only | grep -q '"command":"wsr apply"'; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "the first apply never locked: $(cat a.out)"
		sleep 0.05
	done
	run "$WSR" apply e --auto-approve
	expect_rc 1
	expect_err "state is locked by pid $a on host"
	expect_err "(wsr apply, by "
	expect_err "wsr state unlock "
	# waiting instead: it starts after the first and finds nothing to do
	run "$WSR" apply e --auto-approve --lock-timeout 60s
	expect_rc 0
	wait "$a" || fail "the first apply failed: $(cat a.out)"
	expect_out "Nothing to apply"
	[ "$(count_platform)" -eq 4 ] || fail "the platform has $(count_platform) workspaces, not 4"
	"$WSR" state pull --dir e | jq -e '.serial == 4' >/dev/null ||
		fail "the waiting apply wrote too (serial $("$WSR" state pull --dir e | jq .serial))"
}

t_killed_apply_lock_expires_and_the_next_converges() {
	etcd_start 3 && sim_start "$FIXTURES/seed-slow.yaml" && use_etcd e '  lockTTL: 3s' && many e 6
	"$WSR" apply e --auto-approve --parallelism 2 >a.out 2>&1 &
	a=$!
	sleep 2.5
	kill -9 "$a"
	wait "$a" 2>/dev/null
	grep -q created a.out || fail "nothing finished before the kill: $(cat a.out)"
	run "$WSR" apply e --auto-approve
	expect_rc 1
	expect_err "state is locked by pid $a"
	# the lease ends at most lockTTL after the last renewal (etcd checks
	# every 500 ms; a leader change would add its election time)
	start=$(date +%s)
	run "$WSR" apply e --auto-approve --lock-timeout 20s
	expect_rc 0
	waited=$(($(date +%s) - start))
	[ "$waited" -le 6 ] || fail "the dead run's lock lasted ${waited}s with lockTTL 3s"
	echo "lock of a SIGKILLed apply expired after ${waited}s (lockTTL 3s)"
	expect_converged e 6
}

t_state_unlock_removes_a_lock_at_once() {
	etcd_start 3 && sim_start "$FIXTURES/seed-slow.yaml" && use_etcd e '  lockTTL: 1h' && many e 3
	"$WSR" apply e --auto-approve --parallelism 1 >a.out 2>&1 &
	a=$!
	sleep 1.5
	kill -9 "$a"
	wait "$a" 2>/dev/null
	id=$(etcd_ctl get /wsr/test/lock --print-value-only | jq -r .id)
	[ -n "$id" ] && [ "$id" != null ] || fail "no lock record left by the killed apply"
	run "$WSR" state unlock --dir e "$id" </dev/null
	expect_rc 1
	expect_err "refusing to unlock without confirmation"
	run "$WSR" state unlock --dir e wrong-id --force
	expect_rc 1
	expect_err "locked under another id: pid $a"
	run "$WSR" state unlock --dir e "$id" --force
	expect_rc 0
	expect_err "The state lock is held by pid $a"
	expect_out "removed the state lock $id"
	run "$WSR" state unlock --dir e "$id" --force
	expect_rc 1
	expect_err "the state is not locked"
	expect_converged e 3
}

t_write_after_the_lease_is_revoked_is_refused() {
	etcd_start 3 && sim_start "$FIXTURES/seed-slow.yaml" && use_etcd e && many e 5
	"$WSR" apply e --auto-approve --parallelism 1 >a.out 2>&1 &
	a=$!
	i=0
	until grep -q "created" a.out; do
		i=$((i + 1))
		[ $i -lt 200 ] || fail "nothing was created: $(cat a.out)"
		sleep 0.05
	done
	# the lease under the holder goes (an operator, a partition, a pause)
	# (etcdctl lists leases in hex; jq would round the 64-bit decimal id)
	lease=$(etcd_ctl lease list | sed -n 2p)
	serial=$(etcd_ctl get /wsr/test/header --print-value-only | jq .serial)
	etcd_ctl lease revoke "$lease" >/dev/null || fail "revoke of lease '$lease' failed"
	wait "$a"
	rc=$?
	[ "$rc" -ne 0 ] || fail "the apply went on after losing its lock: $(cat a.out)"
	grep -q "is no longer this process's: nothing was written\|was lost" a.out ||
		fail "the refusal does not say the lock was lost: $(cat a.out)"
	after=$(etcd_ctl get /wsr/test/header --print-value-only | jq .serial)
	[ "$after" -le $((serial + 1)) ] ||
		fail "state written after the lock was lost (serial $serial, then $after)"
	expect_converged e 5
}

t_fails_over_to_the_next_endpoint() {
	etcd_start 3 && sim_start && use_etcd e && many e 2
	run "$WSR" apply e --auto-approve
	expect_rc 0
	etcd_stop_member 1 KILL
	etcd_wait_healthy 10
	many e 3
	run "$WSR" apply e --auto-approve
	expect_rc 0
	expect_out "1 succeeded"
	# no quorum: a clear error in bounded time, nothing changed
	etcd_stop_member 2 KILL
	start=$(date +%s)
	run "$WSR" plan e
	expect_rc 1
	[ $(($(date +%s) - start)) -le 30 ] || fail "plan without quorum took too long"
	expect_err "the state in etcd"
	etcd_start_member 1 && etcd_start_member 2 && etcd_wait_healthy 20
	run "$WSR" plan e --detailed-exitcode
	expect_rc 0
}

t_tls_client_certificates_and_password() {
	etcd_tls=1
	etcd_start 3 && etcd_enable_auth wsr "It's a Secret to Everybody" && sim_start && many e 2
	printf '%s\n' "It's a Secret to Everybody" >e/etcd.pass && chmod 600 e/etcd.pass
	use_etcd e "  caFile: $T/etcd/ca.pem
  certFile: $T/etcd/client.pem
  keyFile: $T/etcd/client-key.pem
  username: wsr
  passwordFile: etcd.pass"
	run "$WSR" apply e --auto-approve
	expect_rc 0
	expect_out "2 succeeded"
	expect_no_out "Secret to Everybody"
	expect_no_err "Secret to Everybody"
	# a wrong password: refused with etcd's reason, the password not shown
	printf 'wrong-token\n' >e/etcd.pass
	run "$WSR" plan e
	expect_rc 1
	expect_err "authentication failed"
	expect_no_err "wrong-token"
	# the password from the environment wins over the file
	export WSR_ETCD_PASSWORD="It's a Secret to Everybody"
	run "$WSR" plan e --detailed-exitcode
	expect_rc 0
	unset WSR_ETCD_PASSWORD
	# without the CA the server is not trusted
	use_etcd e "  username: wsr
  passwordFile: etcd.pass"
	run "$WSR" plan e
	expect_rc 1
}

t_bad_etcd_configuration_is_named() {
	sim_start && use_sim e
	printf 'state:\n  backend: etcd\n  prefix: /wsr/x\n' >>e/wsr.yaml
	run "$WSR" plan e
	expect_rc 1
	expect_err "state.endpoints is required with backend etcd"
	use_sim e
	printf 'state:\n  backend: etcd\n  endpoints: [http://127.0.0.1:1]\n' >>e/wsr.yaml
	run "$WSR" plan e
	expect_rc 1
	expect_err "state.prefix is required with backend etcd"
	use_sim e
	printf 'state:\n  backend: etcd\n  endpoints: [http://127.0.0.1:1]\n  prefix: /wsr/x/\n' >>e/wsr.yaml
	run "$WSR" plan e
	expect_rc 1
	expect_err "prefix"
	use_sim e
	printf 'state:\n  backend: etcd\n  endpoints: [http://127.0.0.1:1]\n  prefix: /wsr/x\n  username: u\n' >>e/wsr.yaml
	unset WSR_ETCD_PASSWORD
	run "$WSR" plan e
	expect_rc 1
	expect_err "there is no password"
	use_sim e
	printf 'state:\n  backend: etcd\n  endpoints: [http://127.0.0.1:1]\n  prefix: /wsr/x\n  lockTTL: 1s\n' >>e/wsr.yaml
	run "$WSR" plan e
	expect_rc 1
	expect_err "state.lockTTL must be a duration from 2s"
	# nothing listens there: a clear error, quickly
	use_sim e
	printf 'state:\n  backend: etcd\n  endpoints: [http://127.0.0.1:1]\n  prefix: /wsr/x\n' >>e/wsr.yaml
	run "$WSR" plan e
	expect_rc 1
	expect_err "cannot read the state in etcd http://127.0.0.1:1"
}

t_hostile_keys_are_refused_and_left_alone() {
	etcd_start 1 && sim_start && use_etcd e && many e 2
	run "$WSR" apply e --auto-approve
	expect_rc 0
	gen=$(etcd_ctl get /wsr/test/header --print-value-only | jq -r .generation)
	key=/wsr/test/r/$gen/loopback/acme/w001
	good=$(etcd_ctl get "$key" --print-value-only)
	# an entry under the key of another address
	etcd_ctl put "$key" "$(printf '%s' "$good" | jq -c '.address = "loopback/acme/w009"')" >/dev/null
	run "$WSR" plan e
	expect_rc 1
	expect_err "key $key holds the entry of another address"
	run "$WSR" apply e --auto-approve
	expect_rc 1
	# not JSON, and an entry missing what the format requires
	etcd_ctl put "$key" 'not json {' >/dev/null
	run "$WSR" state list --dir e
	expect_rc 1
	expect_err "is not a JSON object"
	etcd_ctl put "$key" '{"address":"loopback/acme/w001"}' >/dev/null
	run "$WSR" state list --dir e
	expect_rc 1
	expect_err "\"provider\""
	etcd_ctl put "$key" "$good" >/dev/null
	# a header that is not one, then one of a newer wsr
	h=$(etcd_ctl get /wsr/test/header --print-value-only)
	etcd_ctl put /wsr/test/header '[1,2]' >/dev/null
	run "$WSR" plan e
	expect_rc 1
	expect_err "is not a wsr state header"
	etcd_ctl put /wsr/test/header "$(printf '%s' "$h" | jq -c '.format = "wsr.state/v2"')" >/dev/null
	run "$WSR" apply e --auto-approve
	expect_rc 1
	expect_err "written by a newer wsr"
	etcd_ctl put /wsr/test/header "$(printf '%s' "$h" | jq -c '.generation = "../../x"')" >/dev/null
	run "$WSR" plan e
	expect_rc 1
	expect_err "lacks a lineage, a serial or a generation"
	# nothing was replaced: the good header back, the state is whole
	etcd_ctl put /wsr/test/header "$h" >/dev/null
	run "$WSR" plan e --detailed-exitcode
	expect_rc 0
	# a holder record that is not one is shown as "?", not trusted
	etcd_ctl put /wsr/test/lock "$(printf 'x\033[2J%.0s' 1 2 3)" >/dev/null
	run "$WSR" apply e --auto-approve
	expect_rc 1
	expect_err "state is locked by pid ? on host ?"
	expect_no_err "$(printf '\033')"
}

run_tests
