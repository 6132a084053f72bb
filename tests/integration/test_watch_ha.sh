#!/bin/sh
# wsr watch as three replicas with one leader (watch.ha) on a real 3-member
# etcd cluster: one leader at a time, failover after kill -9 mid-apply
# without any creation started twice, handover on SIGTERM, and what the
# replicas do when etcd loses one member, then its quorum. The figures it
# prints ("failover: ...", "handover: ...", "double-apply: ...") are the
# ones in docs/operations.md, High availability.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/watch_lib.sh"
. "$(dirname "$0")/etcd_lib.sh"

# within SECONDS CMD...: as watch_lib.sh's, but showing every replica's log.
within() {
	_lim=$1
	shift
	_end=$(($(date +%s%N) + _lim * 1000000000))
	while ! "$@"; do
		if [ "$(date +%s%N)" -gt "$_end" ]; then
			for _f in "$T"/w*.log; do
				echo "--- $_f:" >&2
				grep -v "event=reconciled result=ok" "$_f" | tail -n 25 >&2
			done
			fail "not within ${_lim}s: $*"
		fi
		sleep 0.05
	done
}

LEASE=3 # watch.haLease in seconds: short, so the test stays fast

# now_ms: the wall clock in milliseconds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# secs MS: MS milliseconds as seconds with one decimal.
secs() { printf '%d.%d' $(($1 / 1000)) $((($1 % 1000) / 100)); }

# ha_setup N: etcd, an emulator whose tasks take 2 s, and N workspace specs
# in specs/ with a wsr.yaml that keeps state in etcd and turns watch.ha on.
ha_setup() {
	etcd_start 3 || fail "etcd did not start"
	sed 's/^provisioning: .*/provisioning: {seconds: 2}/' "$FIXTURES/seed-slow.yaml" >seed.yaml
	sim_start "$T/seed.yaml" && use_sim specs && many specs "$1"
	eps=$(echo "$ETCD_ENDPOINTS" | sed 's/,/", "/g')
	cat >>specs/wsr.yaml <<EOC
state: {backend: etcd, endpoints: ["$eps"], prefix: /wsr/ha-test, requestTimeout: 1s}
watch: {ha: true, haLease: ${LEASE}s, interval: 1h}
EOC
}

# replica_start I: starts replica I of `wsr watch specs` with its own
# endpoints; sets PID_I and URL_I once its port is known.
replica_start() {
	"$WSR" watch specs --listen 127.0.0.1:0 --parallelism 2 >"$T/w$1.out" 2>"$T/w$1.log" &
	eval "PID_$1=$!"
	echo $! >>"$T/.pids"
	_i=0
	while [ $_i -lt 200 ]; do
		_p=$(grep event=listen "$T/w$1.log" 2>/dev/null | grep -o 'port=[0-9]*' | grep -o '[0-9]*$' | head -n 1)
		if [ -n "$_p" ]; then
			eval "URL_$1=http://127.0.0.1:$_p"
			echo "http://127.0.0.1:$_p" >>"$T/.urls"
			return 0
		fi
		sleep 0.05
		_i=$((_i + 1))
	done
	cat "$T/w$1.log" >&2
	fail "replica $1 did not start"
}

url() { eval "echo \$URL_$1"; }
pid() { eval "echo \$PID_$1"; }
alive() { kill -0 "$(pid "$1")" 2>/dev/null; }

# role I: what replica I says it is (leader, follower, or "" when silent).
role() { curl -s -m 2 "$(url "$1")/status" | jq -r '.ha.role // empty' 2>/dev/null; }

# leaders: the replicas (alive) that say they lead, space-separated.
leaders() {
	_l=""
	for _r in 1 2 3; do
		alive "$_r" && [ "$(role "$_r")" = leader ] && _l="$_l $_r"
	done
	echo $_l
}

# one_leader: exactly one replica leads, and every live one names it.
one_leader() {
	set -- $(leaders)
	[ $# -eq 1 ] || return 1
	_id=$(curl -s -m 2 "$(url "$1")/status" | jq -r '.ha.id')
	for _r in 1 2 3; do
		alive "$_r" || continue
		[ "$(curl -s -m 2 "$(url "$_r")/status" | jq -r '.ha.leader.id')" = "$_id" ] || return 1
	done
}

no_leader() { [ -z "$(leaders)" ]; }

# a_leader_other_than I: some live replica other than I leads.
a_leader_other_than() {
	for _r in $(leaders); do [ "$_r" != "$1" ] && return 0; done
	return 1
}

# creates CODE: requests to create a workspace the emulator answered CODE.
creates() { grep -c "POST /v1/organizations/acme/workspaces $1" "$SIM_DIR/err"; }
# mutations: every request that changes something on the emulator.
mutations() { grep -cE 'wsr-sim: (POST|PUT|PATCH|DELETE) /v1/' "$SIM_DIR/err"; }

ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' -m 2 "$(url "$1")/readyz")" = 200 ]; }
not_ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$(url "$1")/readyz")" = 503 ]; }
all_not_ready() { for _r in 1 2 3; do not_ready "$_r" || return 1; done; }
all_ready() { for _r in 1 2 3; do ready "$_r" || return 1; done; }

# converged N: the emulator has N workspaces of acme, every one active.
converged() {
	curl -s -H "Authorization: Bearer test-admin-key" \
		"$SIM_URL/v1/organizations/acme/workspaces?limit=500" >ws.json 2>/dev/null &&
		jq -e --argjson n "$1" '(.items | length) == $n and all(.items[]; .state == "active")' ws.json >/dev/null 2>&1
}

t_failover_after_kill_and_handover_on_sigterm() {
	ha_setup 8
	for r in 1 2 3; do replica_start $r; done
	within 15 one_leader
	first=$(leaders)
	# the followers are ready without reconciling (the leader only once its
	# first reconcile ended)
	for r in 1 2 3; do [ "$r" = "$first" ] || within 5 ready $r; done
	# kill -9 the leader while its creations run (2 s each, 2 at a time)
	within 15 sh -c "[ \$(grep -c 'POST /v1/organizations/acme/workspaces' '$SIM_DIR/err') -ge 2 ]"
	converged 8 && fail "everything was created before the kill: nothing to take over"
	kill -9 "$(pid "$first")"
	t0=$(now_ms)
	within $((LEASE + 6)) a_leader_other_than "$first"
	failover=$(($(now_ms) - t0))
	echo "figure: failover: $(secs $failover) s (haLease ${LEASE}s, renew every 1 s; leader killed with SIGKILL mid-apply)"
	# lease TTL + one renew period, plus the 0.5 s poll and the test's own polling
	[ "$failover" -le $((LEASE * 1000 + 1000 + 700)) ] ||
		fail "failover took $(secs $failover) s, more than haLease + one renew period"
	within 10 one_leader
	second=$(leaders)
	within 40 converged 8
	# the dead leader's state lock (30 s lockTTL) did not hold the new one up
	grep -q "removed a former leader's state lock" "$T/w$second.log" ||
		fail "the new leader did not remove the old one's lock: $(grep 'event=ha' "$T/w$second.log")"
	# nothing created twice: 8 creations answered 201 or 202, none refused as a duplicate
	ok=$(($(creates 201) + $(creates 202)))
	dup=$(creates 409)
	upgrades=$(grep -cE 'POST /v1/organizations/acme/workspaces/[^/ ]*/upgrade' "$SIM_DIR/err")
	double=$((ok - 8 + dup))
	echo "figure: double-apply: $double (creations answered: $ok for 8 workspaces, duplicates refused: $dup, upgrades: $upgrades)"
	[ "$double" -eq 0 ] || fail "$double creations started twice: $(grep 'POST' "$SIM_DIR/err")"
	# the new leader says so, in /status and /metrics
	curl -s "$(url "$second")/status" | jq -e '.ha.role == "leader" and .ha.transitions == 1 and (.ha.etcd | type) == "string"' >/dev/null ||
		fail "status of the new leader: $(curl -s "$(url "$second")/status" | jq -c .ha)"
	curl -s "$(url "$second")/metrics" >metrics.txt
	grep -q '^wsr_ha_leader 1$' metrics.txt || fail "wsr_ha_leader is not 1 on the leader"
	grep -q '^wsr_ha_transitions_total 1$' metrics.txt || fail "wsr_ha_transitions_total is not 1"
	/usr/bin/python3 "$FIXTURES/../integration/promcheck.py" <metrics.txt >families.txt || fail "metrics do not parse: $(cat families.txt)"
	grep -q "wsr_ha_leader" families.txt || fail "promcheck did not see wsr_ha_leader: $(cat families.txt)"
	for r in 1 2 3; do
		[ "$r" = "$first" ] || [ "$r" = "$second" ] || third=$r
	done
	curl -s "$(url "$third")/metrics" | grep -q '^wsr_ha_leader 0$' || fail "a follower says it leads"
	# SIGTERM on the (idle) leader: it resigns, and the third takes over at its next poll
	within 20 sh -c "curl -s '$(url "$second")/status' | jq -e '.reconcile.running == false and .reconcile.count >= 1' >/dev/null"
	kill -TERM "$(pid "$second")"
	t0=$(now_ms)
	within 5 a_leader_other_than "$second"
	handover=$(($(now_ms) - t0))
	echo "figure: handover: $(secs $handover) s (SIGTERM on the leader; lease revoked, next follower poll)"
	[ "$handover" -lt 2000 ] || fail "handover took $(secs $handover) s"
	wait "$(pid "$second")"
	rc=$?
	[ "$rc" -eq 0 ] || fail "the leader exited $rc after SIGTERM"
	grep -q 'event=ha role=resigned' "$T/w$second.log" || fail "no resign event: $(tail -n 5 "$T/w$second.log")"
	within 10 one_leader
	# SIGTERM mid-apply: the leader finishes the creations in flight, starts
	# no more, resigns, and the killed replica, started again as a follower,
	# does the rest — still nothing created twice
	third=$(leaders)
	replica_start "$first"
	within 10 ready "$first"
	sed 's/name: w0/name: w3/' specs/many.yaml >specs/more.yaml
	within 15 sh -c "[ \$(grep -c 'POST /v1/organizations/acme/workspaces' '$SIM_DIR/err') -ge 10 ]"
	kill -TERM "$(pid "$third")"
	t0=$(now_ms)
	within 10 a_leader_other_than "$third"
	echo "figure: handover mid-apply: $(secs $(($(now_ms) - t0))) s (SIGTERM while creations of 2 s ran: they finish, then the lease is revoked)"
	wait "$(pid "$third")"
	rc=$?
	[ "$rc" -eq 0 ] || fail "the leader exited $rc after SIGTERM mid-apply"
	within 40 converged 16
	ok=$(($(creates 201) + $(creates 202)))
	dup=$(creates 409)
	echo "figure: double-apply after both handovers: $((ok - 16 + dup)) (creations answered: $ok for 16 workspaces, duplicates refused: $dup)"
	[ "$ok" -eq 16 ] && [ "$dup" -eq 0 ] || fail "creations started twice: $ok answered, $dup refused as duplicates"
}

t_ha_needs_the_etcd_backend() {
	sim_start && use_sim specs && many specs 1
	printf 'watch: {ha: true}\n' >>specs/wsr.yaml
	run "$WSR" watch specs --listen off
	expect_rc 1
	expect_err "watch.ha needs the etcd state backend"
	printf 'apiVersion: wsr.dev/v1\nkind: Config\nstate: {backend: etcd, endpoints: ["http://127.0.0.1:9"], prefix: /wsr/x}\nwatch: {ha: true, haLease: 1s}\n' >specs/wsr.yaml
	run "$WSR" watch specs --listen off
	expect_rc 1
	expect_err "watch.haLease is not a duration from 2s to 5m"
}

t_one_etcd_member_down_then_no_quorum() {
	ha_setup 2
	for r in 1 2 3; do replica_start $r; done
	within 15 one_leader
	within 20 converged 2
	within 10 all_ready
	# one member of three down: the cluster keeps its quorum, the daemons go on
	etcd_stop_member 1
	printf -- '---\napiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata: {name: w101}\nspec: {organization: acme, project: sandbox, type: baremetal}\n' >specs/more.yaml
	within 20 converged 3
	within 10 one_leader
	within 10 all_ready
	# two down while the leader applies six more (2 s each, 2 at a time): no
	# quorum. Nothing new starts (each start reads the leader key first),
	# every replica reports not ready, and nothing more reaches the emulator,
	# not even for a spec added then
	many more 6
	sed 's/name: w0/name: w2/' more/many.yaml >specs/more6.yaml
	within 10 sh -c "[ \$(grep -c 'POST /v1/organizations/acme/workspaces' '$SIM_DIR/err') -ge 4 ]"
	etcd_stop_member 2
	t0=$(now_ms)
	sleep 0.5 # a request sent before the stop may still arrive
	before=$(mutations)
	within $((LEASE + 12)) all_not_ready
	curl -s -m 5 "$(url 1)/readyz" | grep -q "etcd" || fail "readyz does not say etcd: $(curl -s "$(url 1)/readyz")"
	# the leader steps down on its own: no renewal for haLease minus one renew period
	within $((LEASE + 2)) no_leader
	echo "figure: step-down without quorum: $(secs $(($(now_ms) - t0))) s after the second member stopped"
	printf -- '---\napiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata: {name: w102}\nspec: {organization: acme, project: sandbox, type: baremetal}\n' >>specs/more.yaml
	sleep $((LEASE + 1))
	[ "$(mutations)" -eq "$before" ] || fail "mutations reached the emulator without an etcd quorum: $(tail -n 5 "$SIM_DIR/err")"
	all_not_ready || fail "a replica became ready without a quorum"
	converged 10 && fail "all six were created: the quorum loss came too late to show anything"
	grep -q "message=\"not started: this replica is no longer the leader\"" "$T"/w*.log ||
		fail "no replica reported the creations it did not start: $(grep -h "event=ha\\|not started" "$T"/w*.log)"
	# quorum back: one leader again, which applies what waited
	etcd_start_member 1 && etcd_start_member 2 || fail "etcd members did not restart"
	etcd_wait_healthy 20 || fail "etcd did not recover"
	within 20 one_leader
	# the specs changed while nobody could lead: the new leader's first reconcile applies them
	within 40 converged 10
	within 20 all_ready
}

run_tests
