#!/bin/sh
# End to end: `wsr import` adopts workspaces that already exist on wsr-sim
# (tests/fixtures/seed-day2.yaml: acme/legacy, kubernetes 1.28.9, and
# acme/metal, baremetal, both in project payments) into state.
. "$(dirname "$0")/lib.sh"

DAY2=$FIXTURES/seed-day2.yaml

# ws DIR NAME VERSION [EXTRA]: a kubernetes workspace spec in project
# payments; EXTRA is appended to its spec block (a difference).
ws() {
	mkdir -p "$1"
	cat >"$1/$2.yaml" <<EOF2
apiVersion: loopback.wsr.dev/v1
kind: Workspace
metadata:
  name: $2
  labels: {team: payments}
spec:
  organization: acme
  project: payments
  type: kubernetes
  kubernetes: {version: "$3"}
$4
EOF2
}

# legacy DIR [EXTRA]: the spec of acme/legacy as the platform has it.
legacy() { ws "$1" legacy 1.28.9 "$2"; }

# day2 DIR: the emulator with the day-two seed, DIR/wsr.yaml pointing at it.
day2() {
	sim_start "$DAY2" && use_sim "$1" day2-admin-key
}

# state_sum DIR: a checksum of DIR's state file ("none" when there is none).
state_sum() {
	if [ -e "$1/.wsr/state.json" ]; then cksum <"$1/.wsr/state.json"; else echo none; fi
}

t_import_matching_spec_then_plan_has_no_changes() {
	day2 specs && legacy specs
	run "$WSR" import loopback/acme/legacy specs
	expect_rc 0
	expect_out "Imported loopback/acme/legacy (id ws-"
	expect_out "Its spec is specs/legacy.yaml:1"
	run "$WSR" state show loopback/acme/legacy --dir specs --json
	expect_rc 0
	expect_json '.id | startswith("ws-")'
	expect_json '.applied == .observed'
	expect_json '.applied.kubernetes.version == "1.28.9" and .applied.project == "payments"'
	expect_json '.labels == {"team": "payments"}'
	expect_json '.source.file == "specs/legacy.yaml" and .source.line == 1'
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
	expect_out "No changes."
	expect_no_out "<="
}

t_import_differing_spec_then_plan_is_an_update() {
	day2 specs && legacy specs '  metadata: {costCenter: "4711"}'
	run "$WSR" import loopback/acme/legacy specs
	expect_rc 0
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 2
	expect_out "~   loopback/acme/legacy"
	expect_out "1 to update"
	expect_out "0 to create"
	expect_no_out "<="
	expect_no_out "changed outside wsr" # the import recorded no drift
	run "$WSR" plan specs --json
	expect_json '.changes[0].address == "loopback/acme/legacy"'
	expect_json '.changes[0].actions == ["update"]'
	expect_json '.changes[0].state == null'
	expect_json '.drift == []'
	# and apply converges it
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
}

t_import_without_spec_warns_and_keeps_it() {
	day2 specs
	run "$WSR" import loopback/acme/metal specs
	expect_rc 0
	expect_out "Imported loopback/acme/metal (id ws-"
	expect_err "loopback/acme/metal: warning: no spec under specs declares it"
	expect_err "--prune deletes it"
	run "$WSR" state show loopback/acme/metal --dir specs --json
	expect_json '.applied.type == "baremetal" and .source == null and .labels == null'
	# without --prune the plan keeps it and changes nothing on the platform
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
	expect_out "loopback/acme/metal"
}

t_import_json_prints_the_entry() {
	day2 specs && legacy specs
	run "$WSR" import --json loopback/acme/legacy specs
	expect_rc 0
	expect_json '.address == "loopback/acme/legacy" and .provider == "loopback"'
	expect_json '.kind == "loopback.wsr.dev/v1/Workspace"'
	expect_json '.id | startswith("ws-")'
	expect_json '.applied == .observed and .source.file == "specs/legacy.yaml"'
	expect_no_out "Imported"
}

t_import_default_path_is_current_directory() {
	day2 . && legacy .
	run "$WSR" import loopback/acme/legacy
	expect_rc 0
	expect_out "Its spec is legacy.yaml:1"
	run "$WSR" state list
	expect_out "loopback/acme/legacy"
}

t_not_on_the_platform_writes_nothing() {
	day2 specs
	run "$WSR" import loopback/acme/ghost specs
	expect_rc 1
	expect_err "nothing to import: loopback/acme/ghost does not exist on the platform"
	[ "$(state_sum specs)" = none ] || fail "a state was written"
	# another organization's workspace is not visible: the same answer
	use_sim specs globex-admin-key
	run "$WSR" import loopback/acme/legacy specs
	expect_rc 1
	expect_err "does not exist on the platform"
	[ "$(state_sum specs)" = none ] || fail "a state was written"
}

t_already_managed_is_refused() {
	day2 specs && legacy specs
	run "$WSR" import loopback/acme/legacy specs
	expect_rc 0
	before=$(state_sum specs)
	run "$WSR" import loopback/acme/legacy specs
	expect_rc 1
	expect_err "already managed: loopback/acme/legacy"
	expect_err "wsr state show loopback/acme/legacy"
	[ "$(state_sum specs)" = "$before" ] || fail "the state changed"
	# and after `wsr state rm` it can be imported again
	run "$WSR" state rm loopback/acme/legacy --dir specs
	expect_rc 0
	run "$WSR" import loopback/acme/legacy specs
	expect_rc 0
}

t_malformed_and_unknown_addresses() {
	day2 specs
	for a in loopback loopback/ /acme/legacy loopback//legacy loopback/acme/ \
		Loopback/acme/legacy "loopback/acme/leg acy" "loopback/acme/%00x"; do
		run "$WSR" import "$a" specs
		expect_rc 1
		expect_err "error: malformed address"
	done
	run "$WSR" import kcp9/root:acme specs
	expect_rc 1
	expect_err "unknown provider 'kcp9' in address kcp9/root:acme"
	# the provider checks its own form: loopback addresses have two parts
	for a in loopback/acme loopback/acme/legacy/extra loopback/acme/leg@cy; do
		run "$WSR" import "$a" specs
		expect_rc 1
		expect_err "$a: error:"
	done
	[ "$(sim_requests)" = 0 ] || fail "a malformed address reached the emulator"
	[ "$(state_sum specs)" = none ] || fail "a state was written"
}

t_hostile_addresses_never_reach_the_platform() {
	day2 specs
	long=$(head -c 5000 /dev/zero | tr '\0' a)
	for a in "loopback/acme/$long" "loopback/../../etc/passwd" "loopback/acme/../legacy" \
		"loopback/acme/.legacy" "$(printf 'loopback/acme/leg\001acy')" \
		"$(printf 'loopback/acme/\033[31mred')" "$(printf 'loopback/acme/\377\376')"; do
		run "$WSR" import "$a" specs
		expect_rc 1
		expect_err "error: malformed address"
		! LC_ALL=C grep -q "$(printf '[\001\033\377]')" "$T/stderr" || fail "a raw control byte reached stderr"
		[ "$(wc -c <"$T/stderr")" -lt 2000 ] || fail "the message echoes the whole address"
	done
	# WSR_ADDRESS_MAX at its boundary: 1028 bytes pass this check (and the
	# provider refuses the 1014-byte name), 1029 do not
	amax="loopback/acme/$(printf '%s' "$long" | head -c 1014)"
	run "$WSR" import "$amax" specs
	expect_rc 1
	expect_no_err "malformed address"
	expect_err "$amax: error:"
	run "$WSR" import "${amax}a" specs
	expect_rc 1
	expect_err "longer than 1028 bytes"
	run "$WSR" import "loopback/acme/.legacy" specs
	expect_err "starts with '.'"
	run "$WSR" import "$(printf 'loopback/acme/leg\001acy')" specs
	expect_err 'leg\x01acy'
	[ "$(sim_requests)" = 0 ] || fail "the emulator was asked $(sim_requests) requests"
	[ "$(state_sum specs)" = none ] || fail "a state was written"
}

t_unreachable_platform() {
	SIM_URL=http://127.0.0.1:1 # nothing listens there
	use_sim specs day2-admin-key && legacy specs
	run "$WSR" import loopback/acme/legacy specs
	expect_rc 1
	expect_err "loopback/acme/legacy: error: cannot reach"
	expect_no_out "Imported"
	[ "$(state_sum specs)" = none ] || fail "a state was written"
}

t_invalid_spec_elsewhere_blocks_the_import() {
	day2 specs && legacy specs
	cat >specs/broken.yaml <<EOF2
apiVersion: loopback.wsr.dev/v1
kind: Workspace
metadata: {name: broken}
spec: {organization: acme, project: payments, type: kubernetes, colour: blue}
EOF2
	run "$WSR" import loopback/acme/legacy specs
	expect_rc 1
	expect_err "specs/broken.yaml:4"
	expect_err "nothing imported: fix the specs first"
	[ "$(state_sum specs)" = none ] || fail "a state was written"
	rm specs/broken.yaml
	run "$WSR" import loopback/acme/legacy specs
	expect_rc 0
}

t_lock_held_by_another_process() {
	day2 specs && legacy specs
	mkdir -p specs/.wsr
	# one process holds the lock (the exec keeps its pid, so killing it frees the lock)
	sh -c 'exec 9>>"$1" && flock 9 && exec sleep 30' sh specs/.wsr/state.json.lock &
	holder=$!
	echo $holder >>"$T/.pids"
	i=0
	while flock -n specs/.wsr/state.json.lock true; do # still free
		i=$((i + 1))
		[ $i -lt 100 ] || fail "the other process did not take the lock"
		sleep 0.05
	done
	run "$WSR" import loopback/acme/legacy specs
	expect_rc 1
	expect_err "state is locked"
	[ "$(state_sum specs)" = none ] || fail "a state was written"
	kill $holder
	wait $holder 2>/dev/null
	run "$WSR" import loopback/acme/legacy specs
	expect_rc 0
}

t_import_releases_the_lock() {
	# the lock file keeps the holder's record only while it is held
	day2 specs && legacy specs
	run "$WSR" import loopback/acme/legacy specs
	expect_rc 0
	[ ! -s specs/.wsr/state.json.lock ] || fail "the lock was not released"
}

t_embedded_platform_state_rm_then_import() {
	# no wsr.yaml: the embedded platform. Create, forget, import back.
	ws . web 1.30.2
	run "$WSR" apply --auto-approve
	expect_rc 0
	run "$WSR" state rm loopback/acme/web
	expect_rc 0
	run "$WSR" plan --detailed-exitcode
	expect_out "<="
	run "$WSR" import loopback/acme/web
	expect_rc 0
	expect_out "Imported loopback/acme/web (id ws-"
	run "$WSR" plan --detailed-exitcode
	expect_rc 0
	expect_out "No changes."
}

t_usage() {
	run "$WSR" import --help
	expect_rc 0
	expect_out "usage: wsr import ADDRESS [PATH] [--json]"
	run "$WSR" import
	expect_rc 1
	expect_err "missing ADDRESS"
	run "$WSR" import loopback/acme/legacy specs extra
	expect_rc 1
	expect_err "unexpected argument 'extra'"
	run "$WSR" import --prune loopback/acme/legacy
	expect_rc 1
	expect_err "unknown or incomplete flag '--prune'"
	run "$WSR" --help
	expect_out "import"
	expect_out "profiles"
}

run_tests
