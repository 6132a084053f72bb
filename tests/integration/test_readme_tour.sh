#!/bin/sh
# The README's five-minute tour, step by step, asserting what the README
# shows. If this fails, the README is lying to a newcomer: fix one or the other.
. "$(dirname "$0")/lib.sh"

t_tour() {
	cp -R "$EXAMPLES/basic" tour && cd tour
	unset LOOPBACK_API_KEY
	run "$WSR" validate
	expect_rc 0
	expect_out "3 workspaces valid in ."
	sed -i 's/type: baremetal/type: bare-metal/' sandbox-metal.yaml
	run "$WSR" validate
	expect_rc 1
	expect_err "sandbox-metal.yaml:13:9: error: spec.type: 'bare-metal' is not one of: kubernetes, baremetal"
	expect_err "hint: did you mean 'baremetal'?"
	sed -i 's/type: bare-metal/type: baremetal/' sandbox-metal.yaml

	run "$WSR" plan
	expect_rc 0
	expect_out "+   loopback/acme/payments-prod  (payments-prod.yaml:3)"
	expect_out "+ organization = \"acme\""
	expect_out "Plan: 3 to create, 0 to update, 0 to replace, 0 to delete."
	run "$WSR" apply --dry-run
	expect_out "Dry run: nothing was changed and no state was written."
	[ ! -e .wsr/state.json ] || fail "dry run wrote state"
	run "$WSR" apply --auto-approve
	expect_rc 0
	expect_out "loopback/acme/payments-prod: created"
	expect_out "Apply complete: 3 succeeded, 0 failed, 0 not started; state serial"
	run "$WSR" plan
	expect_out "No changes. The platform matches the specs (3 workspaces)."
	run "$WSR" state list
	expect_out "loopback/acme/payments-prod"

	# drift, with the emulator on its own (the README uses port 8088)
	"$WSR_SIM" serve --api loopback --listen 127.0.0.1:0 --data "$T/tour-platform" >sim.out 2>&1 &
	echo $! >>"$T/.pids"
	sleep 0.3
	url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' sim.out)
	[ -n "$url" ] || fail "wsr-sim with the built-in seed did not start: $(cat sim.out)"
	printf 'apiVersion: wsr.dev/v1\nkind: Config\nproviders:\n  loopback: {endpoint: "%s"}\n' "$url" >wsr.yaml
	export LOOPBACK_API_KEY=embedded-admin-key
	run "$WSR" apply --auto-approve
	expect_rc 0
	curl -s -X PATCH -H "Authorization: Bearer $LOOPBACK_API_KEY" \
		-d '{"maintenance":{"enabled":true,"schedule":{"0":2,"3":7},"priorityHour":3,"compute":{"autoUpdate":true},"kubernetes":{"autoPatch":true}}}' \
		"$url/v1/organizations/acme/workspaces/payments-prod" >/dev/null
	run "$WSR" plan
	expect_out "~ maintenance.schedule.3: 7 -> 2"
	expect_out "changed outside wsr: maintenance.schedule.3 2 -> 7"
	expect_out "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete."
	run "$WSR" apply --auto-approve
	expect_rc 0
	run "$WSR" plan --detailed-exitcode
	expect_rc 0
}

run_tests
