#!/bin/sh
# End to end: bin/wsr plans and applies against bin/wsr-sim on 127.0.0.1.
. "$(dirname "$0")/lib.sh"

# ws DIR NAME [PROJECT] [HOUR]: writes a kubernetes workspace spec.
ws() {
	mkdir -p "$1"
	cat >"$1/$2.yaml" <<EOF2
apiVersion: loopback.wsr.dev/v1
kind: Workspace
metadata:
  name: $2
  labels: {team: ${3:-payments}}
spec:
  organization: acme
  project: ${3:-payments}
  type: kubernetes
  metadata: {costCenter: "4711"}
  kubernetes: {version: "1.30.2"}
  maintenance:
    enabled: true
    schedule: {0: 3, 3: ${4:-3}}
EOF2
}

t_detailed_exitcode_before_and_after_apply() {
	sim_start && use_sim specs && ws specs alpha && ws specs beta
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 2
	expect_out "+   loopback/acme/alpha"
	expect_out "+ kubernetes.version = \"1.30.2\""
	expect_out "Plan: 2 to create, 0 to update, 0 to replace, 0 to delete."
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	expect_out "loopback/acme/alpha: created"
	expect_out "Apply complete: 2 succeeded, 0 failed"
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
	expect_out "No changes."
}

t_plan_json_contract() {
	sim_start && use_sim specs && ws specs alpha
	run "$WSR" plan specs --json
	expect_rc 0
	expect_json '.format == "wsr.plan/v1"'
	expect_json '.changes[0].address == "loopback/acme/alpha"'
	expect_json '.changes[0].actions == ["create"]'
	expect_json '.changes[0].kind == "loopback.wsr.dev/v1/Workspace"'
	expect_json '.changes[0].after.kubernetes.version == "1.30.2"'
	expect_json '.changes[0].before == null'
	expect_json '.changes[0].source == "specs/alpha.yaml:1:1"'
	expect_json '.changes[0].reasons | length > 0'
	expect_json '.summary.create == 1 and .diagnostics == [] and .drift == []'
}

t_dry_run_changes_nothing() {
	sim_start && use_sim specs && ws specs alpha
	run "$WSR" apply specs --dry-run
	expect_rc 0
	expect_out "Dry run: nothing was changed"
	[ ! -e specs/.wsr/state.json ] || fail "dry run wrote state"
	curl -s -H "Authorization: Bearer test-admin-key" \
		"$SIM_URL/v1/organizations/acme/workspaces" >list.json
	grep -q '"items":\[\]' list.json || grep -q '"items": \[\]' list.json || fail "dry run created: $(cat list.json)"
}

t_update_in_place_then_converged() {
	sim_start && use_sim specs && ws specs alpha
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	ws specs alpha payments 7
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 2
	expect_out "~   loopback/acme/alpha"
	expect_out "~ maintenance.schedule.3: 3 -> 7"
	expect_out "1 to update"
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	expect_out "loopback/acme/alpha: updated"
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
}

t_immutable_change_is_replacement() {
	sim_start && use_sim specs && ws specs alpha
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	sed -i 's/kubernetes: {version: "1.30.2"}/kubernetes: {version: "1.30.2", controlPlane: single_node}/' specs/alpha.yaml
	run "$WSR" plan specs --json
	expect_rc 1
	expect_json '.changes[0].actions == ["delete", "create"] and .changes[0].disruptive'
	expect_json '.changes[0].fields[0] | .path == "kubernetes.controlPlane" and .forcesReplacement and .before == "high_available" and .after == "single_node"'
	expect_json '.diagnostics[0].summary | test("refused without --allow-replace")'
	run "$WSR" apply specs --auto-approve
	expect_rc 1
	expect_err "refused without --allow-replace"
	run "$WSR" plan specs --allow-replace
	expect_rc 0
	expect_out "-/+ loopback/acme/alpha"
	expect_out "# forces replacement"
	run "$WSR" apply specs --auto-approve --allow-replace
	expect_rc 0
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
}

t_prune_only_when_asked() {
	sim_start && use_sim specs && ws specs alpha && ws specs beta
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	rm specs/beta.yaml
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
	expect_out "kept because prune is off"
	run "$WSR" plan specs --prune --detailed-exitcode
	expect_rc 2
	expect_out "-   loopback/acme/beta"
	run "$WSR" apply specs --prune --auto-approve
	expect_rc 0
	expect_out "loopback/acme/beta: deleted"
	run "$WSR" state list --dir specs
	expect_no_out "loopback/acme/beta"
	curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer test-admin-key" \
		"$SIM_URL/v1/organizations/acme/workspaces/beta" >code
	[ "$(cat code)" = 404 ] || fail "beta still on the platform"
}

t_prevent_destroy_refuses_prune() {
	sim_start && use_sim specs && ws specs alpha
	printf '  lifecycle: {preventDestroy: true}\n' >>specs/alpha.yaml
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	rm specs/alpha.yaml
	run "$WSR" apply specs --prune --auto-approve
	expect_rc 1
	expect_err "loopback/acme/alpha: error: lifecycle.preventDestroy forbids deleting this workspace"
}

t_drift_reported_apart_and_restored() {
	sim_start && use_sim specs && ws specs alpha
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	curl -s -X PATCH -H "Authorization: Bearer test-admin-key" -H "Content-Type: application/json" \
		-d '{"maintenance":{"enabled":true,"schedule":{"0":3,"3":9},"priorityHour":4,"compute":{"autoUpdate":true},"kubernetes":{"autoPatch":true}}}' \
		"$SIM_URL/v1/organizations/acme/workspaces/alpha" >/dev/null
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 2
	expect_out "Drift (changed outside wsr since the last apply):"
	expect_out "changed outside wsr: maintenance.schedule.3 3 -> 9"
	expect_out "~ maintenance.schedule.3: 9 -> 3"
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
}

t_platform_refusals_on_plan() {
	sim_start && use_sim specs shady-key
	cat >specs/s.yaml <<EOF2
apiVersion: loopback.wsr.dev/v1
kind: Workspace
metadata: {name: s1}
spec: {organization: shady, project: x, type: baremetal}
EOF2
	run "$WSR" plan specs
	expect_rc 1
	expect_err "loopback/shady/s1: error:"
	expect_err "not verified"
	use_sim specs2 && ws specs2 old
	sed -i 's/1.30.2/1.28.9/' specs2/old.yaml
	ws specs2 unknown
	sed -i 's/1.30.2/1.99.0/' specs2/unknown.yaml
	run "$WSR" plan specs2 --json
	expect_rc 1

	use_sim specs3 test-viewer-key && ws specs3 v
	run "$WSR" plan specs3
	expect_rc 1
	expect_err "workspace:create"
}

t_saved_plan_applies_then_goes_stale() {
	sim_start && use_sim specs && ws specs alpha
	run "$WSR" plan specs --out p1.json
	expect_rc 0
	run "$WSR" apply p1.json
	expect_rc 0
	expect_out "loopback/acme/alpha: created"
	ws specs beta
	run "$WSR" plan specs --out p2.json
	expect_rc 0
	run "$WSR" apply p1.json
	expect_rc 1
	expect_err "stale"
	# someone changes the platform between plan and apply
	curl -s -X PATCH -H "Authorization: Bearer test-admin-key" -H "Content-Type: application/json" \
		-d '{"metadata":{"costCenter":"1"}}' "$SIM_URL/v1/organizations/acme/workspaces/alpha" >/dev/null
	run "$WSR" apply p2.json
	expect_rc 1
	expect_err "the saved plan is stale: the platform or the specs changed"
}

# A plan file's serial was cast to int64_t unchecked (1e30: undefined
# behaviour); a hand-edited one is now a clear refusal.
t_saved_plan_with_hostile_serial_is_refused() {
	sim_start && use_sim specs && ws specs alpha
	run "$WSR" plan specs --out p.json
	expect_rc 0
	for v in 1e30 -1 2.5; do
		jq ".state.serial = $v" p.json >bad.json
		run "$WSR" apply bad.json
		expect_rc 1
		expect_err "state.serial is not a whole number of 0 or more"
	done
	[ ! -e specs/.wsr/state.json ] || fail "state written from a refused plan file"
}

t_apply_needs_confirmation_without_tty() {
	sim_start && use_sim specs && ws specs alpha
	run sh -c "echo yes | '$WSR' apply specs"
	expect_rc 1
	expect_err "refusing to apply without confirmation"
	[ ! -e specs/.wsr/state.json ] || fail "state written without confirmation"
}

t_target_and_selector_narrow() {
	sim_start && use_sim specs && ws specs alpha && ws specs beta sandbox
	run "$WSR" apply specs --target loopback/acme/alpha --auto-approve
	expect_rc 0
	expect_out "1 succeeded"
	expect_no_out "beta"
	run "$WSR" plan specs --selector team=sandbox --json
	expect_json '[.changes[].address] == ["loopback/acme/beta"]'
	run "$WSR" plan specs --selector team
	expect_rc 1
	expect_err "--selector wants key=value"
}

t_state_file_written_safely() {
	sim_start && use_sim specs && ws specs alpha && ws specs beta
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	[ "$(stat -c %a specs/.wsr/state.json)" = 600 ] || fail "state mode $(stat -c %a specs/.wsr/state.json)"
	grep -q '"format":[ ]*"wsr.state/v1"' specs/.wsr/state.json || fail "state format"
	grep -q '"address":[ ]*"loopback/acme/alpha"' specs/.wsr/state.json || fail "alpha not in state"
	run "$WSR" state show loopback/acme/alpha --dir specs
	expect_rc 0
	expect_out "ws-"
}

# mode PATH: its permission bits in octal, as stat prints them.
mode() { stat -c %a "$1"; }

# State, backup, lock and plan files are 0600 and the state directory wsr
# creates is 0700 whatever the umask: they hold what wsr owns and applied.
t_state_lock_and_plan_files_are_private() {
	sim_start && use_sim specs && ws specs alpha
	umask 000
	run "$WSR" plan specs --out p.json
	expect_rc 0
	run "$WSR" apply p.json
	expect_rc 0
	ws specs beta
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	for f in specs/.wsr/state.json specs/.wsr/state.json.backup specs/.wsr/state.json.lock p.json; do
		[ "$(mode "$f")" = 600 ] || fail "$f has mode $(mode "$f"), expected 600"
	done
	[ "$(mode specs/.wsr)" = 700 ] || fail "specs/.wsr has mode $(mode specs/.wsr), expected 700"
}

# A state file its group or the world can write is refused before it is
# trusted, naming the file and its mode; nothing is sent to the platform.
t_group_or_world_writable_state_is_refused() {
	sim_start && use_sim specs && ws specs alpha
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	cp specs/.wsr/state.json before.json
	for m in 620 602; do
		chmod "$m" specs/.wsr/state.json
		n=$(sim_requests)
		run "$WSR" plan specs
		expect_rc 1
		case $m in
		620) expect_err "state file specs/.wsr/state.json is group-writable (mode 0620): refusing to trust it" ;;
		*) expect_err "state file specs/.wsr/state.json is world-writable (mode 0602): refusing to trust it" ;;
		esac
		expect_err "chmod 600"
		run "$WSR" apply specs --auto-approve
		expect_rc 1
		expect_err "refusing to trust it"
		[ "$(sim_requests)" = "$n" ] || fail "requests were sent with an untrusted state"
		cmp -s before.json specs/.wsr/state.json || fail "the refused state was changed"
	done
	chmod 640 specs/.wsr/state.json # readable by the group is not a risk to wsr
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
}

# A state file owned by another user is refused (needs root to chown one).
t_state_owned_by_another_user_is_refused() {
	if [ "$(id -u)" != 0 ]; then
		echo "  skipped: not root, so no file of another user can be made" >&2
		return 0
	fi
	sim_start && use_sim specs && ws specs alpha
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	chown nobody specs/.wsr/state.json
	run "$WSR" plan specs
	expect_rc 1
	expect_err "state file specs/.wsr/state.json is owned by nobody (uid $(id -u nobody)), not by root (uid 0) who runs wsr: refusing to trust it"
	run "$WSR" state list --dir specs
	expect_rc 1
	expect_err "is owned by nobody"
	chown 0 specs/.wsr/state.json
	run "$WSR" state list --dir specs
	expect_rc 0
	expect_out "loopback/acme/alpha"
}

t_missing_api_key_names_variable() {
	sim_start && use_sim specs && ws specs alpha
	unset LOOPBACK_API_KEY
	run "$WSR" plan specs
	expect_rc 1
	expect_err "LOOPBACK_API_KEY"
}

# A key with CR/LF would end the Authorization header and inject others:
# refused before anything is sent, naming the variable, never echoing the key.
t_api_key_with_line_break_is_refused() {
	sim_start && use_sim specs && ws specs alpha
	before=$(sim_requests)
	LOOPBACK_API_KEY=$(printf 'test-admin-key\r\nX-Injected: 1')
	run "$WSR" plan specs
	expect_rc 1
	expect_err "LOOPBACK_API_KEY"
	expect_err "control characters"
	expect_no_err "X-Injected"
	expect_no_err "test-admin-key"
	after=$(sim_requests)
	[ -n "$before" ] && [ "$after" = "$before" ] || fail "the emulator saw requests: $before before, $after after"
	! grep -q "X-Injected" "$SIM_DIR/err" || fail "the injected header reached the emulator"
}

t_unknown_flag_and_help() {
	run "$WSR" plan --bogus
	expect_rc 1
	expect_err "unknown or incomplete flag"
	run "$WSR" apply --help
	expect_rc 0
	expect_out "--dry-run"
}

t_ca_file_is_relative_to_wsr_yaml() {
	SIM_TLS=1 sim_start && use_sim specs && ws specs alpha
	case "$SIM_URL" in https://*) ;; *) fail "the emulator is not on HTTPS: $SIM_URL" ;; esac
	cp "$SIM_DIR/cert.pem" specs/ca.pem
	run "$WSR" plan specs
	expect_rc 1 # the emulator's certificate is not trusted without the CA
	sed -i "s|apiKeyEnv: LOOPBACK_API_KEY}|apiKeyEnv: LOOPBACK_API_KEY, caFile: ca.pem}|" specs/wsr.yaml
	run "$WSR" plan specs
	expect_rc 0
	expect_out "+   loopback/acme/alpha"
}

run_tests
