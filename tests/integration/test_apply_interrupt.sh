#!/bin/sh
# apply under stress: parallel workers, SIGKILL and SIGINT part-way, the
# state lock, and the embedded platform when no account is configured.
. "$(dirname "$0")/lib.sh"

t_parallel_workers_overlap() {
	sim_start "$FIXTURES/seed-slow.yaml" && use_sim specs && many specs 16
	start=$(date +%s)
	run "$WSR" apply specs --auto-approve --parallelism 8
	took=$(($(date +%s) - start))
	expect_rc 0
	expect_out "16 succeeded"
	# one second each: sequentially 16 s, with 8 workers about 2-4 s
	[ "$took" -le 8 ] || fail "16 one-second creations took ${took}s with 8 workers"
}

t_sigkill_mid_apply_converges() {
	sim_start "$FIXTURES/seed-slow.yaml" && use_sim specs && many specs 50
	"$WSR" apply specs --auto-approve --parallelism 4 >apply.out 2>&1 &
	pid=$!
	sleep 4
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	grep -q "created" apply.out || fail "nothing finished before the kill: $(cat apply.out)"
	before=$(count_platform)
	[ "$before" -gt 0 ] && [ "$before" -lt 50 ] || fail "expected a partial apply, platform has $before"
	run "$WSR" plan specs --json
	expect_rc 0
	# every workspace is either recorded, to be recorded, or to be created: none lost
	recorded=$("$WSR" state list --dir specs | wc -l)
	expect_converged specs 50
	[ "$recorded" -le 50 ] || fail "state held $recorded before convergence"
}

t_sigint_finishes_in_flight_and_saves() {
	sim_start "$FIXTURES/seed-slow.yaml" && use_sim specs && many specs 30
	"$WSR" apply specs --auto-approve --parallelism 2 >apply.out 2>&1 &
	pid=$!
	sleep 2.5
	kill -INT "$pid"
	wait "$pid"
	rc=$?
	[ "$rc" -ne 0 ] || fail "interrupted apply exited 0"
	grep -q "not started" apply.out || fail "no summary: $(cat apply.out)"
	# what finished is in state, and matches the platform exactly
	recorded=$("$WSR" state list --dir specs | wc -l)
	[ "$recorded" -eq "$(count_platform)" ] || fail "state has $recorded, platform $(count_platform)"
	[ "$recorded" -lt 30 ] || fail "the interrupt did not stop new work"
}

t_second_apply_refused_while_locked() {
	sim_start "$FIXTURES/seed-slow.yaml" && use_sim specs && many specs 6
	"$WSR" apply specs --auto-approve --parallelism 1 >apply.out 2>&1 &
	pid=$!
	sleep 1.5
	run "$WSR" apply specs --auto-approve
	wait "$pid"
	expect_rc 1
	expect_err "locked"
	expect_err "wsr apply"
	expect_err "$pid"
}

t_embedded_platform_by_default() {
	mkdir specs
	cp "$EXAMPLES"/basic/*.yaml specs/
	unset LOOPBACK_API_KEY
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 2
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	[ -d specs/.wsr/platform ] || fail "embedded platform data not under .wsr/platform"
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
}

# A state directory without room (here `ulimit -f`, which fails a write
# with EFBIG as a full disk fails it with ENOSPC) stops the apply with the
# reason, and leaves the state and its backup one write apart as they were:
# the new state is written beside the file before the backup is touched.
t_no_room_for_the_state_stops_apply_and_keeps_the_backup() {
	sim_start && use_sim specs && many specs 40
	(
		trap '' XFSZ
		ulimit -f 20 # 10 KiB: about a dozen entries
		"$WSR" apply specs --auto-approve --parallelism 4 >"$T/stdout" 2>"$T/stderr"
		echo $? >rc
	)
	RC=$(cat rc)
	expect_rc 1
	expect_err "cannot write state file"
	expect_err "File too large"
	recorded=$("$WSR" state list --dir specs | wc -l)
	[ "$recorded" -gt 0 ] && [ "$recorded" -lt 40 ] || fail "state holds $recorded of 40"
	serial=$(jq -r .serial specs/.wsr/state.json)
	[ "$(jq -r .serial specs/.wsr/state.json.backup)" = $((serial - 1)) ] ||
		fail "backup serial $(jq -r .serial specs/.wsr/state.json.backup), state $serial: not the one before"
	[ "$(jq -r .lineage specs/.wsr/state.json.backup)" = "$(jq -r .lineage specs/.wsr/state.json)" ] ||
		fail "the backup is of another lineage"
	! ls -a specs/.wsr | grep -q tmp || fail "temporary files left: $(ls -a specs/.wsr)"
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
	[ "$(count_platform)" -eq 40 ] || fail "platform has $(count_platform) workspaces, want 40"
}

run_tests
