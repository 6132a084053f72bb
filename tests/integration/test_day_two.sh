#!/bin/sh
# Day two on Loopback, end to end: wsr against wsr-sim with the day-two seed
# (tests/fixtures/seed-day2.yaml). Each rule of docs/spec.md "Changes to an
# existing workspace" as a user meets it: what plan says, what apply does,
# and what the platform has afterwards.
. "$(dirname "$0")/lib.sh"

SEED="$FIXTURES/seed-day2.yaml"

# wsfile DIR NAME PROJECT VERSION [EXTRA-SPEC-YAML...]: a kubernetes workspace.
wsfile() {
	d=$1 n=$2 p=$3 v=$4
	shift 4
	{
		printf 'apiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata: {name: %s}\n' "$n"
		printf 'spec:\n  organization: acme\n  project: %s\n  type: kubernetes\n' "$p"
		printf '  kubernetes: {version: "%s"}\n' "$v"
		for extra in "$@"; do printf '  %s\n' "$extra"; done
	} >"$d/$n.yaml"
}

# get NAME: the workspace as the platform has it (admin key).
get() {
	curl -s -H "Authorization: Bearer day2-admin-key" "$SIM_URL/v1/organizations/acme/workspaces/$1"
}

# ui NAME JSON: changes a workspace as a person in the platform's UI would.
ui() {
	curl -s -X PATCH -H "Content-Type: application/json" -d "$2" \
		"$SIM_URL/_sim/organizations/acme/workspaces/$1" >/dev/null
}

converges() {
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
	expect_out "No changes."
}

t_every_maintenance_spec_converges_in_two_applies() {
	sim_start "$SEED" && use_sim specs day2-admin-key
	wsfile specs m-none payments 1.30.2
	wsfile specs m-empty payments 1.30.2 'maintenance: {}'
	wsfile specs m-schedule payments 1.30.2 'maintenance: {schedule: {"3": 7}}'
	wsfile specs m-hour payments 1.30.2 'maintenance: {priorityHour: 1}'
	wsfile specs m-noos payments 1.30.2 'maintenance: {compute: {autoUpdate: false}}'
	wsfile specs m-nopatch payments 1.30.2 'maintenance: {kubernetes: {autoPatch: false}}'
	wsfile specs m-off payments 1.30.2 'maintenance: {enabled: false, schedule: {"0": 1}}'
	cat >specs/m-metal.yaml <<EOF
apiVersion: loopback.wsr.dev/v1
kind: Workspace
metadata: {name: m-metal}
spec: {organization: acme, project: sandbox, type: baremetal, maintenance: {schedule: {"6": 4}}}
EOF
	converges
	# a one-field edit of an existing workspace keeps the automatic flags on
	sed -i 's/"3": 7/"3": 9/' specs/m-schedule.yaml
	converges
	get m-schedule >ws.json
	jq -e '.maintenance | .schedule["3"] == 9 and .compute.autoUpdate and .kubernetes.autoPatch and .enabled' ws.json >/dev/null ||
		fail "maintenance after a schedule edit: $(cat ws.json)"
	get m-metal >ws.json
	jq -e '.maintenance | .schedule["6"] == 4 and .compute.autoUpdate and .kubernetes == null' ws.json >/dev/null ||
		fail "baremetal maintenance: $(cat ws.json)"
	get m-off | jq -e '.maintenance.enabled == false' >/dev/null || fail "an administrator switched maintenance off"
}

t_a_member_cannot_switch_maintenance_off() {
	sim_start "$SEED" && use_sim specs day2-member-key
	wsfile specs quiet payments 1.30.2 'maintenance: {enabled: false}'
	run "$WSR" plan specs
	expect_rc 1
	expect_err "would force maintenance back on"
	run "$WSR" apply specs --auto-approve
	expect_rc 1
	get quiet | jq -e '.error.code == "not_found"' >/dev/null || fail "apply created the workspace anyway"
	# the same member may change everything else about maintenance
	wsfile specs quiet payments 1.30.2 'maintenance: {schedule: {"2": 5}}'
	converges
}

t_upgrade_walks_the_shortest_path() {
	sim_start "$SEED" && use_sim specs day2-admin-key
	wsfile specs legacy payments 1.30.2
	run "$WSR" plan specs --json
	expect_rc 0
	expect_json '.changes[0] | .actions == ["upgrade"] and .upgradePath == ["1.28.9", "1.29.4", "1.30.2"] and .disruptive'
	run "$WSR" plan specs
	expect_out "# Kubernetes upgrade 1.28.9 → 1.29.4 → 1.30.2 (2 hops, disruptive)"
	expect_out "[disruptive]"
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	get legacy | jq -e '.kubernetes.version == "1.30.2" and .state == "active"' >/dev/null || fail "not upgraded"
	run "$WSR" state show loopback/acme/legacy --json
	expect_json '.observed.kubernetes.version == "1.30.2"'
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
}

t_upgrade_records_each_hop() {
	sim_start "$SEED" && use_sim specs day2-admin-key
	wsfile specs legacy payments 1.31.1
	# the second hop's task fails: the first one is done and must be in state
	curl -s -X POST -d '{"kind": "failTask", "type": "upgrade", "skip": 1, "count": 1, "code": "upgrade_failed", "message": "etcd did not come back"}' \
		"$SIM_URL/_sim/faults" >/dev/null
	run "$WSR" apply specs --auto-approve
	expect_rc 1
	expect_err "etcd did not come back"
	get legacy | jq -e '.kubernetes.version == "1.29.4"' >/dev/null || fail "first hop not done"
	run "$WSR" state show loopback/acme/legacy --json
	expect_json '.observed.kubernetes.version == "1.29.4"'
	run "$WSR" plan specs --json
	expect_json '.changes[0].upgradePath == ["1.29.4", "1.30.2", "1.31.1"]'
	expect_json '.drift == []'
	converges
}

t_upgrade_refusals_name_the_reason() {
	sim_start "$SEED" && use_sim specs day2-admin-key
	wsfile specs web payments 1.30.2
	converges
	for case in "1.29.4|forward" "1.99.0|not in the platform's catalog" "1.32.0|inactive" "1.33.0|1.31.1"; do
		v=${case%%|*} why=${case#*|}
		wsfile specs web payments "$v"
		run "$WSR" plan specs
		expect_rc 1
		expect_err "$why"
	done
	wsfile specs web payments 1.31.1
	LOOPBACK_API_KEY=day2-noupgrade-key run "$WSR" plan specs
	expect_rc 1
	expect_err "kubernetes:upgrade"
}

t_upgrade_of_a_workspace_that_is_not_active_is_refused() {
	sed 's/provisioning: {seconds: 0}/provisioning: {seconds: 30}/' "$SEED" >slow.yaml
	sim_start slow.yaml && use_sim specs day2-admin-key
	wsfile specs young payments 1.29.4
	curl -s -X POST -H "Authorization: Bearer day2-admin-key" -H "Content-Type: application/json" \
		-d '{"name": "young", "project": "payments", "type": "kubernetes", "kubernetes": {"version": "1.29.4"}}' \
		"$SIM_URL/v1/organizations/acme/workspaces" >/dev/null
	wsfile specs young payments 1.30.2
	run "$WSR" plan specs
	expect_rc 1
	expect_err "initializing"
}

t_transfer_moves_the_workspace() {
	sim_start "$SEED" && use_sim specs day2-admin-key
	wsfile specs mover payments 1.30.2
	converges
	id=$(get mover | jq -r .id)
	wsfile specs mover sandbox 1.30.2
	run "$WSR" plan specs --json
	expect_json '.changes[0] | .actions == ["transfer"] and (.verifyAfter | length) >= 3'
	run "$WSR" plan specs
	expect_out "verify after the transfer:"
	expect_out "billing"
	converges
	get mover | jq -e --arg id "$id" '.project == "sandbox" and .id == $id' >/dev/null || fail "not transferred in place"
}

# A step the platform carried out but whose answer was lost (the
# connection reset after serving): lib/http sends it again, the platform
# refuses the repeat (busy, or done already), and wsr must see its own
# first attempt on the workspace, not report a refusal or a second hop.
t_lost_answers_of_upgrade_and_transfer_are_adopted() {
	sim_start "$SEED" && use_sim specs day2-admin-key
	wsfile specs legacy payments 1.30.2
	wsfile specs mover payments 1.30.2
	# legacy runs 1.28.9: two hops, the first one's answer lost
	curl -s -X POST -d '{"kind": "reset", "method": "POST", "path": "/v1/organizations/acme/workspaces/legacy/upgrade", "when": "after", "count": 1}' \
		"$SIM_URL/_sim/faults" | jq -e '.faults == 1' >/dev/null || fail "fault not taken"
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	get legacy | jq -e '.kubernetes.version == "1.30.2" and .state == "active"' >/dev/null || fail "not upgraded"
	wsfile specs mover sandbox 1.30.2
	curl -s -X POST -d '{"kind": "reset", "method": "POST", "path": "/v1/organizations/acme/workspaces/mover/transfer", "when": "after", "count": 1}' \
		"$SIM_URL/_sim/faults" >/dev/null
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	expect_no_err "refused"
	get mover | jq -e '.project == "sandbox" and .state == "active"' >/dev/null || fail "not transferred"
	grep -q 'upgrade 202 reset' "$SIM_DIR/err" || fail "the upgrade's answer was not lost"
	grep -q 'transfer 202 reset' "$SIM_DIR/err" || fail "the transfer's answer was not lost"
	# one upgrade task per hop, one transfer: the repeats were refused
	[ "$(grep -c 'POST /v1/organizations/acme/workspaces/legacy/upgrade 202' "$SIM_DIR/err")" -eq 2 ] ||
		fail "upgrade hops started: $(grep -c 'legacy/upgrade 202' "$SIM_DIR/err"), expected 2"
	run "$WSR" plan specs --json --detailed-exitcode
	expect_rc 0
	expect_json '.drift == [] and .summary.changes == false'
}

t_transfer_refusals() {
	sim_start "$SEED" && use_sim specs day2-admin-key
	wsfile specs mover payments 1.30.2
	converges
	wsfile specs mover research 1.30.2
	run "$WSR" plan specs
	expect_rc 1
	expect_err "research"
	wsfile specs mover nowhere 1.30.2
	run "$WSR" plan specs
	expect_rc 1
	expect_err "project nowhere does not exist"
	wsfile specs mover sandbox 1.30.2
	LOOPBACK_API_KEY=day2-member-key run "$WSR" plan specs
	expect_rc 1
	expect_err "workspace:transfer"
}

t_plan_reports_every_missing_permission() {
	sim_start "$SEED" && use_sim specs day2-admin-key
	wsfile specs kept payments 1.30.2
	converges
	wsfile specs kept payments 1.30.2 'metadata: {owner: ops}' 'maintenance: {schedule: {"1": 1}}'
	wsfile specs fresh payments 1.30.2
	LOOPBACK_API_KEY=day2-viewer-key run "$WSR" plan specs --json
	expect_rc 1
	for perm in workspace:create workspace:update maintenance:update; do
		jq -e --arg p "$perm" '[.diagnostics[] | select(.severity == "error" and (.summary | contains($p)))] | length >= 1' "$T/stdout" >/dev/null ||
			fail "no diagnostic names $perm"
	done
}

t_settings_change_in_place_and_ingress_only_warns() {
	sim_start "$SEED" && use_sim specs day2-admin-key
	wsfile specs web payments 1.30.2
	converges
	id=$(get web | jq -r .id)
	wsfile specs web payments 1.30.2 'metadata: {costCenter: "42"}' \
		'dns: {provider: route53, hostnamePattern: "{name}.example.net"}'
	sed -i 's/kubernetes: {version: "1.30.2"}/kubernetes: {version: "1.30.2", oidc: {enabled: true, sessionLifetime: 8h}}/' specs/web.yaml
	run "$WSR" plan specs --json
	expect_json '.changes[0].actions == ["update"] and (.changes[0].disruptive | not)'
	converges
	get web | jq -e --arg id "$id" '.id == $id and .metadata.costCenter == "42" and .dns.provider == "route53" and .kubernetes.oidc.sessionLifetime == "8h"' >/dev/null ||
		fail "settings not updated in place"
	sed -i 's/oidc: {enabled: true, sessionLifetime: 8h}/oidc: {enabled: true, sessionLifetime: 8h}, ingress: true/' specs/web.yaml
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
	expect_err "warning: kubernetes.ingress is only used when the workspace is created"
	sed -i 's/single_node/high_available/; s/version: "1.30.2"/version: "1.30.2", controlPlane: single_node/' specs/web.yaml
	run "$WSR" plan specs
	expect_rc 1
	expect_err "kubernetes.controlPlane"
	expect_err "--allow-replace"
}

t_drift_is_reported_per_field_and_restored() {
	sim_start "$SEED" && use_sim specs day2-admin-key
	wsfile specs web payments 1.30.2 'metadata: {costCenter: "42"}' 'maintenance: {schedule: {"3": 3}}'
	converges
	ui web '{"maintenance": {"schedule": {"3": 7}}, "metadata": {"costCenter": "99"}}'
	sed -i 's/"42"/"43"/' specs/web.yaml
	run "$WSR" plan specs --json
	expect_rc 0
	expect_json '[.drift[0].fields[].path] | sort == ["maintenance.schedule.3", "metadata"]'
	expect_json '[.changes[0].fields[] | select(.path == "maintenance.schedule.3")][0].cause == "drift"'
	expect_json '[.changes[0].fields[] | select(.path == "metadata")][0].cause == "spec"'
	run "$WSR" plan specs
	expect_out "changed outside wsr: maintenance.schedule.3 3 -> 7"
	expect_out "~ maintenance.schedule.3: 7 -> 3   # changed outside wsr"
	expect_out "restores 1 field changed outside wsr"
	converges
	get web | jq -e '.maintenance.schedule["3"] == 3 and .metadata.costCenter == "43"' >/dev/null || fail "not restored"
}

t_ignore_changes_leaves_fields_alone() {
	sim_start "$SEED" && use_sim specs day2-admin-key
	wsfile specs web payments 1.30.2 'metadata: {costCenter: "42", owner: ops}' \
		'maintenance: {schedule: {"3": 3}}' 'lifecycle: {ignoreChanges: [maintenance.schedule, metadata.costCenter]}'
	converges
	ui web '{"maintenance": {"schedule": {"3": 7}}, "metadata": {"costCenter": "99"}}'
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
	expect_no_out "changed outside wsr"
	# another field's edit does not put the ignored ones back
	sed -i 's/owner: ops/owner: dev/' specs/web.yaml
	converges
	get web | jq -e '.maintenance.schedule["3"] == 7 and .metadata.costCenter == "99" and .metadata.owner == "dev"' >/dev/null ||
		fail "ignored fields were overwritten"
	sed -i 's/ignoreChanges: \[maintenance.schedule, metadata.costCenter\]/ignoreChanges: [maintenance.bogus]/' specs/web.yaml
	run "$WSR" validate specs
	expect_rc 1
	expect_err "web.yaml:11:"
	expect_err "lifecycle.ignoreChanges names a field the spec does not have"
}

t_refresh_only_records_drift_without_changing_the_platform() {
	sim_start "$SEED" && use_sim specs day2-admin-key
	wsfile specs web payments 1.30.2 'maintenance: {schedule: {"3": 3}}'
	wsfile specs gone payments 1.30.2
	converges
	ui web '{"maintenance": {"schedule": {"3": 7}}}'
	curl -s -X DELETE -H "Authorization: Bearer day2-admin-key" "$SIM_URL/v1/organizations/acme/workspaces/gone" >/dev/null
	run "$WSR" plan specs --refresh-only --json
	expect_rc 0
	expect_json '.refreshOnly and ([.changes[] | select(.actions != [])] == []) and (.drift | length) == 2'
	run "$WSR" plan specs --refresh-only --detailed-exitcode
	expect_rc 2
	expect_out "Refresh only"
	before=$(sim_requests)
	run "$WSR" apply specs --refresh-only --auto-approve
	expect_rc 0
	get web | jq -e '.maintenance.schedule["3"] == 7' >/dev/null || fail "refresh-only changed the platform"
	run "$WSR" state list
	expect_no_out "loopback/acme/gone"
	run "$WSR" plan specs --refresh-only --detailed-exitcode
	expect_rc 0
	# the spec still says 3: a normal plan now proposes it as the spec's change
	run "$WSR" plan specs --json
	expect_json '.drift == [] and ([.changes[] | select(.address == "loopback/acme/web")][0].fields[0].cause == "spec")'
	[ "$before" -gt 0 ] || fail "no requests counted"
}

t_deletion_shows_what_it_destroys() {
	sim_start "$SEED" && use_sim specs day2-admin-key
	wsfile specs old payments 1.30.2 'dns: {provider: cloudflare, hostnamePattern: "{name}.acme.example"}'
	wsfile specs kept payments 1.30.2 'lifecycle: {preventDestroy: true}'
	converges
	rm specs/old.yaml specs/kept.yaml
	run "$WSR" plan specs --prune
	expect_rc 1
	expect_err "preventDestroy forbids deleting"
	expect_out "destroys:"
	expect_out "back up first:"
	run "$WSR" plan specs --prune --json --target loopback/acme/old
	expect_rc 0
	expect_json '.changes[0] | .actions == ["delete"] and (.destroys | length) >= 1 and (.backupFirst | length) >= 1'
	run "$WSR" apply specs --prune --auto-approve --target loopback/acme/old
	expect_rc 0
	get old | jq -e '.error.code == "not_found"' >/dev/null || fail "apply returned before the deletion finished"
}

t_examples_do_not_drift_after_two_applies() {
	for ex in "$EXAMPLES"/*/; do
		[ "$(basename "$ex")" = ci ] && continue # CI pipelines, not specs
		rm -rf specs && cp -r "$ex" specs && rm -rf specs/.wsr
		converges
	done
}

# fault JSON: injects a fault into the emulator (docs/api/loopback.md).
fault() {
	curl -s -X POST -d "$1" "$SIM_URL/_sim/faults" >/dev/null
}

t_a_failed_creation_is_never_taken_as_in_sync() {
	sim_start "$SEED" && use_sim specs day2-admin-key
	wsfile specs web payments 1.30.2
	fault '{"kind": "failTask", "type": "create", "code": "provisioning_failed", "message": "no capacity in fsn1"}'
	run "$WSR" apply specs --auto-approve
	expect_rc 1
	expect_err "the platform's create failed: no capacity in fsn1"
	expect_err "the next plan replaces it"
	get web | jq -e '.state == "failed"' >/dev/null || fail "the platform does not show web failed"
	run "$WSR" state list specs
	expect_no_out "loopback/acme/web"
	# plan says it needs repair, in every form
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 2
	expect_out "-/+ loopback/acme/web"
	expect_out "# the platform shows the workspace failed (its creation failed)"
	expect_out "# needs repair: apply deletes it and creates it again"
	expect_out "Plan: 0 to create, 0 to update, 1 to replace, 0 to delete."
	expect_no_out "No changes."
	run "$WSR" plan specs --json
	expect_json '.changes[0].actions == ["delete", "create"] and (.changes[0].disruptive | not)'
	expect_json '.changes[0].repair == "the platform shows the workspace failed (its creation failed)"'
	expect_json '.changes[0].state == null and .diagnostics == []'
	run "$WSR" plan specs --format markdown
	expect_out "the platform shows the workspace failed (its creation failed)"
	# the same creation failing again is still reported, and still not recorded
	fault '{"kind": "failTask", "type": "create", "code": "provisioning_failed", "message": "still no capacity"}'
	run "$WSR" apply specs --auto-approve
	expect_rc 1
	expect_err "still no capacity"
	get web | jq -e '.state == "failed"' >/dev/null || fail "the second creation did not fail"
	run "$WSR" state list specs
	expect_no_out "loopback/acme/web"
	# the platform is healthy again: apply repairs it, and it converges
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	expect_out "loopback/acme/web: deleted"
	expect_out "loopback/acme/web: created"
	get web | jq -e '.state == "active"' >/dev/null || fail "not repaired: $(get web)"
	run "$WSR" state show loopback/acme/web --json specs
	expect_json '.status.state == "active"'
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
	expect_out "No changes."
}

# The failed workspace is deleted but not created again (a crash between
# the repair's two steps, or a person on the platform): the plain creation
# that follows must not replay the failed one's answer.
t_a_creation_after_a_failed_one_was_deleted_is_not_a_replay() {
	sim_start "$SEED" && use_sim specs day2-admin-key
	wsfile specs web payments 1.30.2
	fault '{"kind": "failTask", "type": "create", "code": "provisioning_failed", "message": "no capacity in fsn1"}'
	run "$WSR" apply specs --auto-approve
	expect_rc 1
	curl -s -X DELETE -H "Authorization: Bearer day2-admin-key" \
		"$SIM_URL/v1/organizations/acme/workspaces/web" >/dev/null
	get web | jq -e '.error.code == "not_found"' >/dev/null || fail "not deleted: $(get web)"
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 2
	expect_out "+   loopback/acme/web"
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	expect_no_err "no capacity in fsn1"
	get web | jq -e '.state == "active"' >/dev/null || fail "the replayed failure won: $(get web)"
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
}

t_a_failed_workspace_recorded_as_converged_is_repaired() {
	sim_start "$SEED" && use_sim specs day2-admin-key
	wsfile specs web payments 1.30.2
	fault '{"kind": "failTask", "type": "create", "code": "provisioning_failed"}'
	run "$WSR" apply specs --auto-approve
	expect_rc 1
	# recorded as if converged (an older wsr adopted it so): still repaired
	run "$WSR" import loopback/acme/web specs
	expect_rc 0
	expect_err "warning: imported as the platform has it, which is not working: the platform shows the workspace failed"
	run "$WSR" state show loopback/acme/web --json specs
	expect_json '.status.state == "failed"'
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 2
	expect_out "# the platform shows the workspace failed"
	expect_no_out "No changes."
	# lifecycle.preventDestroy still holds
	wsfile specs web payments 1.30.2 'lifecycle: {preventDestroy: true}'
	run "$WSR" plan specs
	expect_rc 1
	expect_err "lifecycle.preventDestroy forbids replacing this workspace, which needs repair"
	wsfile specs web payments 1.30.2
	# a saved plan carries the repair
	run "$WSR" plan specs --out repair.plan
	expect_rc 0
	run "$WSR" apply repair.plan
	expect_rc 0
	expect_out "loopback/acme/web: created"
	get web | jq -e '.state == "active"' >/dev/null || fail "not repaired: $(get web)"
	converges
}

run_tests
