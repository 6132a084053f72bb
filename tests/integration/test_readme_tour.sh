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
	curl -s -X PATCH -d '{"maintenance":{"schedule":{"3":7}}}' \
		"$url/_sim/organizations/acme/workspaces/payments-prod" >/dev/null
	run "$WSR" plan
	expect_out "# restores 1 field changed outside wsr"
	expect_out "~ maintenance.schedule.3: 7 -> 2   # changed outside wsr"
	expect_out "changed outside wsr: maintenance.schedule.3 2 -> 7"
	expect_out "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete."
	run "$WSR" apply --auto-approve
	expect_rc 0
	run "$WSR" plan --detailed-exitcode
	expect_rc 0

	# day two: upgrade and transfer
	sed -i 's/version: 1.29.4/version: 1.31.1/' payments-staging.yaml
	sed -i 's/project: sandbox/project: platform/' sandbox-metal.yaml
	run "$WSR" plan
	expect_rc 0
	expect_out "~   loopback/acme/payments-staging  (payments-staging.yaml:3)  [disruptive]"
	expect_out "# Kubernetes upgrade 1.29.4 → 1.30.2 → 1.31.1 (2 hops, disruptive)"
	expect_out "verify after the transfer:"
	expect_out "- billing: costs are attributed to project platform from now on"
	expect_out '~ project: "sandbox" -> "platform"'
	expect_out "Plan: 0 to create, 0 to update, 0 to replace, 0 to delete, 1 to transfer, 1 to upgrade."
	run "$WSR" apply --auto-approve
	expect_rc 0
	run "$WSR" plan --detailed-exitcode
	expect_rc 0

	# refusals come from plan
	sed -i 's/version: 1.30.2/version: 1.29.4/' payments-prod.yaml
	run "$WSR" plan
	expect_rc 1
	expect_err "loopback/acme/payments-prod: error: upgrades are forward-only: Kubernetes 1.29.4 is not newer than the running 1.30.2"
	expect_err "versions reachable from 1.30.2: 1.31.1"
	sed -i 's/version: 1.29.4/version: 1.30.2/' payments-prod.yaml

	# accept drift
	curl -s -X PATCH -d '{"maintenance":{"priorityHour":5}}' \
		"$url/_sim/organizations/acme/workspaces/payments-prod" >/dev/null
	run "$WSR" plan --refresh-only
	expect_out "changed outside wsr: maintenance.priorityHour 3 -> 5"
	expect_out "Refresh only: apply records what the platforms report for 1 resource in state and changes nothing on the platforms."
	run "$WSR" apply --refresh-only --auto-approve
	expect_rc 0
	run "$WSR" plan --refresh-only --detailed-exitcode
	expect_rc 0

	# profiles, import, deletion
	run "$WSR" profiles loopback/acme/payments-prod
	expect_rc 0
	expect_out "loopback/acme/payments-prod: compute provider hetzner_cloud, 3 profiles"
	expect_out "cx52  cx52          16  32 GiB   0.00  0.0480    29.99  EUR       unavailable: server type cx52 is in no reachable datacenter (nbg1: unreachable)"
	curl -s -X POST -H "Authorization: Bearer $LOOPBACK_API_KEY" \
		-d '{"name": "legacy-box", "project": "platform", "type": "baremetal"}' \
		"$url/v1/organizations/acme/workspaces" >/dev/null
	run "$WSR" import loopback/acme/legacy-box
	expect_rc 0
	expect_out "Imported loopback/acme/legacy-box (id ws-"
	rm sandbox-metal.yaml
	run "$WSR" plan --prune
	expect_out "-   loopback/acme/sandbox-metal"
	expect_out "- bare-metal workspace acme/sandbox-metal (project platform) with its servers and the data on their disks"
	expect_out "back up first:"
	expect_out "- the data on the servers' disks (databases, files, logs): back it up or move it"
}

t_kcp_tour() {
	cp -R "$EXAMPLES/kcp" kcp && cd kcp
	run "$WSR" plan
	expect_rc 0
	expect_out "+   kcp/root:acme:payments  (teams.yaml:2)"
	expect_out "      # waits for kcp/root:acme"
	expect_out '+ metadata.labels = {"region":"eu","cost-center":"cc-4711"}'
	expect_out "+   kcp/user:adam  (homes.yaml:4)"
	expect_out "# home workspace of user adam: kcp creates it when the user asks for ~ (wsr asks as adam, with Impersonate-User)"
	expect_out "Plan: 6 to create, 0 to update, 0 to replace, 0 to delete."
	run "$WSR" apply --auto-approve
	expect_rc 0
	expect_out "kcp/root:acme: created"
	expect_out "kcp/root:acme:payments: creating..."
	# the serial depends on how many results one state write takes
	expect_out "Apply complete: 6 succeeded, 0 failed, 0 not started; state serial "
	a=$(grep -n "kcp/root:acme: created" "$T/stdout" | cut -d: -f1)
	b=$(grep -n "kcp/root:acme:payments: creating" "$T/stdout" | cut -d: -f1)
	[ "$a" -lt "$b" ] || fail "a team was started before acme was ready"
	run "$WSR" kcp home-path adam
	expect_out "root:users:sj:pq:adam"
}

run_tests
