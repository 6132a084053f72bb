#!/bin/sh
# End to end on kcp: bin/wsr against `wsr-sim serve --api kcp` on 127.0.0.1,
# through a kubeconfig as a user would point wsr at a real server. Trees are
# created parent first and deleted child first, a child waits for its
# parent's Ready, refusals come from plan, a 409 is resolved, listings page,
# and a deletion never takes along what the plan does not say.
. "$(dirname "$0")/lib.sh"

# kcp_start: the kcp emulator with the test seed (maxPageSize 2, a `slow`
# type that initializes for 1.5 s, a `restricted` type only acme-admins use).
kcp_start() { sim_start "$FIXTURES/kcp-seed.yaml" kcp; }

# kws DIR FILE NAME PARENT TYPE: a Workspace spec.
kws() {
	mkdir -p "$1"
	cat >"$1/$2.yaml" <<EOC
apiVersion: kcp.wsr.dev/v1
kind: Workspace
metadata: {name: $3, labels: {team: $3}}
spec:
  parent: $4
  type: {name: $5, path: root}
EOC
}

# kget PATH NAME: the Workspace as the emulator has it, on stdout.
kget() {
	curl -s -H "Authorization: Bearer kcp-admin-token" \
		"$SIM_URL/clusters/$1/apis/tenancy.kcp.io/v1alpha1/workspaces/$2"
}

# line_of TEXT: the line number of the first stdout line containing TEXT.
line_of() { grep -nF -- "$1" "$T/stdout" | head -n 1 | cut -d: -f1; }

# before A B: in stdout, the line with A comes before the line with B.
before() {
	a=$(line_of "$1")
	b=$(line_of "$2")
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] || fail "'$1' (line $a) not before '$2' (line $b)"
}

three_levels() {
	kws "$1" acme acme root organization
	kws "$1" payments payments root:acme team
	kws "$1" api api root:acme:payments team
}

t_three_level_tree_created_in_order_and_deleted_in_reverse() {
	kcp_start && use_kcp specs && three_levels specs/tree
	run "$WSR" plan specs --json
	expect_rc 0
	expect_json '[.changes[] | {(.address): .waitsFor}] | add == {"kcp/root:acme": [], "kcp/root:acme:payments": ["kcp/root:acme"], "kcp/root:acme:payments:api": ["kcp/root:acme:payments"]}'
	run "$WSR" apply specs --auto-approve --parallelism 4
	expect_rc 0
	before "kcp/root:acme: created" "kcp/root:acme:payments: creating"
	before "kcp/root:acme:payments: created" "kcp/root:acme:payments:api: creating"
	kget root:acme:payments api | jq -e '.status.phase == "Ready" and .spec.type.name == "team"' >/dev/null ||
		fail "api is not Ready on the platform"
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
	rm -r specs/tree
	run "$WSR" plan specs
	expect_rc 0
	expect_out "kept because prune is off"
	run "$WSR" apply specs --auto-approve --prune --parallelism 4
	expect_rc 0
	before "kcp/root:acme:payments:api: deleted" "kcp/root:acme:payments: deleting"
	before "kcp/root:acme:payments: deleted" "kcp/root:acme: deleting"
	expect_out "Apply complete: 3 succeeded, 0 failed"
	[ "$(kget root acme | jq -r .code)" = 404 ] || fail "acme still exists"
	run "$WSR" state list --dir specs
	expect_no_out "kcp/"
}

t_child_waits_for_its_parent_to_be_ready() {
	kcp_start && use_kcp specs
	kws specs lab lab root slow
	kws specs bench bench root:lab universal
	start=$(date +%s%N)
	run "$WSR" apply specs --auto-approve --parallelism 8
	expect_rc 0
	before "kcp/root:lab: created" "kcp/root:lab:bench: creating"
	[ $((($(date +%s%N) - start) / 1000000)) -ge 1400 ] || fail "apply did not wait for Initializing"
	expect_out "Apply complete: 2 succeeded, 0 failed"
	! grep -q " 403 " "$SIM_DIR/err" || fail "the emulator refused a request: $(grep ' 403 ' "$SIM_DIR/err")"
}

t_a_failed_parent_leaves_its_children_unstarted() {
	kcp_start && use_kcp specs
	kws specs lab lab root universal
	kws specs bench bench root:lab universal
	curl -s -X POST "$SIM_URL/_sim/faults" \
		-d '{"kind": "respond", "method": "POST", "path": "/clusters/root/apis/tenancy.kcp.io/v1alpha1/workspaces", "status": 500, "count": 100}' >/dev/null
	run "$WSR" apply specs --auto-approve
	expect_rc 1
	expect_err "kcp/root:lab:bench: warning: not started: kcp/root:lab did not finish"
	expect_out "0 succeeded, 1 failed, 1 not started"
	# a 500 that retries did not get past says how hard wsr tried
	expect_err "answered 500 after 6 attempts over "
}

t_use_permission_refused_on_plan() {
	kcp_start && use_kcp specs bob-token
	kws specs secret secret root restricted
	run "$WSR" plan specs
	expect_rc 1
	expect_err "kcp/root:secret: error:"
	expect_err "root:restricted"
	expect_err "use"
	use_kcp specs alice-token
	run "$WSR" plan specs
	expect_rc 0
}

t_organization_only_under_root_refused_on_plan() {
	kcp_start && use_kcp specs && kws specs acme acme root organization
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	kws specs nested nested root:acme organization
	run "$WSR" plan specs
	expect_rc 1
	expect_err "kcp/root:acme:nested: error:"
	expect_err "organization"
	expect_no_out "kcp/root:acme:nested: creating"
}

t_parent_that_does_not_exist_refused_on_plan() {
	kcp_start && use_kcp specs && kws specs orphan orphan root:nowhere universal
	run "$WSR" plan specs
	expect_rc 1
	expect_err "cannot create kcp/root:nowhere:orphan: its parent kcp/root:nowhere does not exist"
}

# kpost PARENT NAME TYPE: a workspace made outside wsr (kubectl create).
kpost() {
	curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer kcp-admin-token" \
		-H 'Content-Type: application/json' \
		-d "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\",\"metadata\":{\"name\":\"$2\"},\"spec\":{\"type\":{\"name\":\"$3\",\"path\":\"root\"}}}" \
		"$SIM_URL/clusters/$1/apis/tenancy.kcp.io/v1alpha1/workspaces" | grep -q '^20[01]$' ||
		fail "could not create $1:$2 behind wsr's back"
}

# kcp deletes a workspace's whole subtree: a prune that would take along
# workspaces the plan does not delete is refused and lists them, found by a
# fresh listing (the strangers were made after wsr's last look).
t_prune_that_would_destroy_unplanned_descendants_is_refused() {
	kcp_start && use_kcp specs && kws specs lab lab root universal && kws specs bench bench root:lab universal
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	kpost root:lab stranger universal
	kpost root:lab:bench deep universal
	rm specs/lab.yaml specs/bench.yaml
	run "$WSR" plan specs --prune
	expect_rc 1
	expect_err "kcp/root:lab: error: deleting kcp/root:lab would also destroy 2 workspaces not planned for deletion: kcp/root:lab:stranger, kcp/root:lab:bench:deep"
	expect_err "kcp/root:lab:bench: error: deleting kcp/root:lab:bench would also destroy 1 workspace not planned for deletion: kcp/root:lab:bench:deep"
	expect_err "hint: delete them in the same plan (remove their specs, --prune), keep this workspace, or pass --allow-cascade"
	expect_out "destroys:"
	expect_out "- workspace kcp/root:lab:stranger (type root:universal, Ready)"
	expect_out "- workspace kcp/root:lab:bench:deep (type root:universal, Ready)"
	run "$WSR" plan specs --prune --json
	expect_json '[.changes[] | select(.address == "kcp/root:lab") | .descendants[]] == ["kcp/root:lab:bench", "kcp/root:lab:stranger", "kcp/root:lab:bench:deep"]'
	# apply plans again, and refuses the same
	run "$WSR" apply specs --auto-approve --prune
	expect_rc 1
	[ "$(kget root:lab stranger | jq -r .status.phase)" = Ready ] || fail "stranger was touched"
}

t_allow_cascade_deletes_the_subtree() {
	kcp_start && use_kcp specs && kws specs lab lab root universal && kws specs bench bench root:lab universal
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	kpost root:lab stranger universal
	kpost root:lab:bench deep universal
	rm specs/lab.yaml specs/bench.yaml
	run "$WSR" plan specs --prune --allow-cascade --out plan.json
	expect_rc 0
	expect_out "# destroys 2 nested workspaces not planned for deletion (--allow-cascade)"
	jq -e '.options.allowCascade == true' plan.json >/dev/null || fail "the saved plan lost --allow-cascade"
	run "$WSR" apply plan.json --auto-approve
	expect_rc 0
	before "kcp/root:lab:bench: deleted" "kcp/root:lab: deleting"
	expect_out "Apply complete: 2 succeeded, 0 failed"
	for w in "root lab" "root:lab stranger" "root:lab:bench deep"; do
		set -- $w
		[ "$(kget "$1" "$2" | jq -r .code)" != 200 ] || fail "$1:$2 is still there"
	done
	[ "$(kget root lab | jq -r .code)" = 404 ] || fail "lab was not deleted: $(kget root lab)"
	run "$WSR" state list --dir specs
	expect_no_out "kcp/"
}

t_a_subtree_wsr_cannot_list_refuses_the_deletion() {
	kcp_start && use_kcp specs && kws specs lab lab root universal && kws specs bench bench root:lab universal
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	curl -s -X POST "$SIM_URL/_sim/faults" \
		-d '{"kind": "respond", "method": "GET", "path": "/clusters/root:lab:bench/apis/tenancy.kcp.io/v1alpha1/workspaces", "status": 403, "count": 100}' >/dev/null
	rm specs/lab.yaml specs/bench.yaml
	run "$WSR" plan specs --prune --allow-cascade
	expect_rc 1
	expect_err "kcp/root:lab: error: cannot delete kcp/root:lab: the workspaces in root:lab:bench cannot be listed (HTTP 403)"
	expect_err "kcp/root:lab:bench: error: cannot delete kcp/root:lab:bench: the workspaces in root:lab:bench cannot be listed (HTTP 403)"
}

# kcp's default types (the emulator's default seed): an organization, a
# team in it, and a workspace without type in the team (universal, the
# team's default child type) apply and converge.
t_default_types_tree_applies_and_converges() {
	printf 'users:\n  - {name: admin, token: kcp-admin-token, groups: ["system:masters"]}\n' >seed.yaml
	sim_start "$T/seed.yaml" kcp && use_kcp specs kcp-admin-token "{}"
	kws specs acme acme root organization
	kws specs team-a team-a root:acme team
	cat >specs/app.yaml <<EOC
apiVersion: kcp.wsr.dev/v1
kind: Workspace
metadata: {name: app}
spec: {parent: root:acme:team-a}
EOC
	run "$WSR" plan specs
	expect_rc 0
	expect_out "# its type is root:universal (the parent type's default child type)"
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	expect_out "Apply complete: 3 succeeded, 0 failed"
	kget root:acme:team-a app | jq -e '.spec.type == {"name": "universal", "path": "root"} and .status.phase == "Ready"' >/dev/null ||
		fail "app is not a Ready universal workspace: $(kget root:acme:team-a app)"
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
	# kcp refuses an untyped workspace under universal (no default child type); so does plan
	cat >specs/x.yaml <<EOC
apiVersion: kcp.wsr.dev/v1
kind: Workspace
metadata: {name: x}
spec: {parent: root:acme:team-a:app}
EOC
	run "$WSR" plan specs
	expect_rc 1
	expect_err 'kcp/root:acme:team-a:app:x: error: workspaces.tenancy.kcp.io "x" is forbidden: spec.defaultChildWorkspaceType of workspace type %s:%s must be set'
}

# kstatus PATH NAME STATUS-JSON: writes the workspace's status through the
# status subresource, as a kcp controller does.
kstatus() {
	curl -s -X PUT -H "Authorization: Bearer kcp-admin-token" -H "Content-Type: application/json" \
		-d "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\",\"metadata\":{\"name\":\"$2\"},\"status\":$3}" \
		"$SIM_URL/clusters/$1/apis/tenancy.kcp.io/v1alpha1/workspaces/$2/status" >/dev/null
}

# kcp takes a workspace out of service (phase Unavailable) while one of its
# Workspace… conditions is False: wsr cannot repair that through the API
# (recreating it destroys its contents), so plan refuses it with kcp's
# reason and never calls it in sync.
t_unavailable_workspace_is_refused_with_kcps_reason() {
	kcp_start && use_kcp specs
	kws specs acme acme root organization
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	kstatus root acme '{"phase":"Unavailable","conditions":[{"type":"WorkspaceInitialized","status":"False","severity":"Error","reason":"WorkspaceDisappeared","message":"LogicalCluster disappeared"}]}'
	kget root acme | jq -e '.status.phase == "Unavailable"' >/dev/null || fail "status not written: $(kget root acme)"
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 1
	expect_err "kcp/root:acme: error: kcp reports the workspace Unavailable: WorkspaceInitialized is False (WorkspaceDisappeared: LogicalCluster disappeared); wsr cannot repair that"
	expect_no_out "No changes."
	expect_out "!   kcp/root:acme"
	expect_out "# kcp reports the workspace Unavailable: WorkspaceInitialized is False"
	expect_out "No changes can be planned: 1 workspace needs a repair wsr cannot make (see the errors)."
	run "$WSR" plan specs --format markdown
	expect_out "No changes can be planned: 1 workspace needs a repair wsr cannot make"
	expect_out "kcp reports the workspace Unavailable"
	run "$WSR" plan specs --json
	expect_json '.changes[0].repair | test("Unavailable: WorkspaceInitialized is False")'
	expect_json '.changes[0].actions == [] and .changes[0].state == null'
	run "$WSR" apply specs --auto-approve
	expect_rc 1
	run "$WSR" state show kcp/root:acme --json specs
	expect_json '.status.phase == "Ready"'
	# kcp makes it Ready again once the condition clears: so does the plan
	kstatus root acme '{"phase":"Ready","conditions":[{"type":"WorkspaceInitialized","status":"True"}]}'
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
}

# A workspace kcp takes out of service while wsr waits for it to be Ready:
# apply stops at once with kcp's reason instead of waiting out the timeout.
t_creation_that_kcp_takes_out_of_service_fails_at_once() {
	printf 'schedulingMs: 3000\n' >seed.yaml
	sed -n '/^users:/,$p' "$FIXTURES/kcp-seed.yaml" >>seed.yaml
	sim_start "$T/seed.yaml" kcp && use_kcp specs
	# a wait for the timeout would fail the test in 20 s, not hang it for 30 min
	sed -i 's/kubeconfig: kcp.kubeconfig/kubeconfig: kcp.kubeconfig, timeout: 20/' specs/wsr.yaml
	kws specs acme acme root organization
	"$WSR" apply specs --auto-approve >"$T/apply.out" 2>"$T/apply.err" &
	apid=$!
	i=0
	until kget root acme | jq -e '.status.phase == "Scheduling"' >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "acme never appeared"
		sleep 0.05
	done
	kstatus root acme '{"phase":"Unavailable","conditions":[{"type":"WorkspaceScheduled","status":"False","reason":"Unschedulable","message":"no shard matches"}]}'
	t0=$(date +%s)
	wait $apid
	RC=$?
	[ $(($(date +%s) - t0)) -lt 15 ] || fail "apply waited for the timeout"
	cp "$T/apply.out" "$T/stdout"
	cp "$T/apply.err" "$T/stderr"
	expect_rc 1
	expect_err "workspace root:acme was created, but kcp reports the workspace Unavailable: WorkspaceScheduled is False (Unschedulable: no shard matches)"
	run "$WSR" state list specs
	expect_no_out "kcp/root:acme"
}

# What plan refuses, kcp refuses with the same words: the plan's message
# is the one the emulator gives when the same create is sent anyway.
t_plan_refuses_in_the_servers_words() {
	printf 'users:\n  - {name: admin, token: kcp-admin-token, groups: ["system:masters"]}\n' >seed.yaml
	sim_start "$T/seed.yaml" kcp && use_kcp specs kcp-admin-token "{}"
	kws specs acme acme root organization
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	for c in "root team t1" "root:acme organization o2" "root:acme home h1" "root:acme ghost g1"; do
		set -- $c
		rm -f specs/x.yaml
		kws specs x "$3" "$1" "$2"
		run "$WSR" plan specs
		expect_rc 1
		said=$(sed -n "s/^kcp\/$1:$3: error: //p" "$T/stderr" | head -n 1)
		[ -n "$said" ] || fail "plan did not refuse $1:$3"
		got=$(curl -s -X POST -H "Authorization: Bearer kcp-admin-token" -H 'Content-Type: application/json' \
			-d "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\",\"metadata\":{\"name\":\"$3\"},\"spec\":{\"type\":{\"name\":\"$2\",\"path\":\"root\"}}}" \
			"$SIM_URL/clusters/$1/apis/tenancy.kcp.io/v1alpha1/workspaces")
		[ "$(printf '%s' "$got" | jq -r .code)" = 403 ] || fail "the server admitted $1:$3: $got"
		[ "$(printf '%s' "$got" | jq -r .message)" = "$said" ] ||
			fail "plan said '$said', the server '$(printf '%s' "$got" | jq -r .message)'"
	done
}

t_type_change_is_a_replacement_refused_without_allow_replace() {
	kcp_start && use_kcp specs && kws specs lab lab root universal
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	kws specs lab lab root team
	run "$WSR" plan specs
	expect_rc 1
	expect_err "spec.type"
	run "$WSR" apply specs --auto-approve --allow-replace
	expect_rc 1 # team may only live under an organization or a team: refused at plan
	expect_err "team"
	kws specs lab lab root slow
	run "$WSR" apply specs --auto-approve --allow-replace
	expect_rc 0
	kget root lab | jq -e '.spec.type.name == "slow"' >/dev/null || fail "lab was not replaced"
}

t_conflict_on_update_is_resolved_by_reading_again() {
	kcp_start && use_kcp specs && kws specs lab lab root universal
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	sed -i 's/team: lab/team: platform/' specs/lab.yaml
	curl -s -X POST "$SIM_URL/_sim/conflicts" -d '{"path": "root:lab", "count": 2}' >/dev/null
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	expect_out "kcp/root:lab: updated"
	kget root lab | jq -e '.metadata.labels.team == "platform" and .metadata.annotations["sim.wsr.dev/touched"] != null' >/dev/null ||
		fail "the label was not set after the conflicts: $(kget root lab)"
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
}

t_listing_pages_across_more_than_one_page() {
	kcp_start && use_kcp specs
	for n in w1 w2 w3 w4 w5; do kws specs "$n" "$n" root universal; done
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	expect_out "Apply complete: 5 succeeded, 0 failed"
	n0=$(sim_requests)
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
	expect_out "No changes. The platform matches the specs (5 workspaces)."
	# root's 5 children come in 3 pages of at most 2, then each child's
	# (empty) list: 8 requests; one page for root would be 6
	[ $(($(sim_requests) - n0)) -ge 8 ] || fail "wsr did not follow metadata.continue"
}

t_home_workspaces_at_kcps_paths() {
	kcp_start && use_kcp specs
	cat >specs/homes.yaml <<EOC
apiVersion: kcp.wsr.dev/v1
kind: HomeWorkspace
metadata: {name: adam}
---
apiVersion: kcp.wsr.dev/v1
kind: HomeWorkspace
metadata: {name: bella@example.com}
EOC
	adam=$("$WSR" kcp home-path adam)
	bella=$("$WSR" kcp home-path bella@example.com)
	run "$WSR" plan specs
	expect_rc 0
	expect_out "+   kcp/$bella"
	expect_out "# home workspace of user bella@example.com"
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	expect_out "kcp/$adam: created"
	expect_out "kcp/$bella: created"
	parent=${adam%:*}
	kget "$parent" adam | jq -e '.spec.type.name == "home" and .status.phase == "Ready"' >/dev/null ||
		fail "no home workspace at $adam"
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
}

t_home_workspaces_with_other_buckets() {
	kcp_start && use_kcp specs
	printf '  kcp: {endpoint: kubeconfig, kubeconfig: kcp.kubeconfig, home: {style: buckets, depth: 3, length: 1}}\n' >specs/p
	sed -i '/^  kcp:/d' specs/wsr.yaml && cat specs/p >>specs/wsr.yaml && rm specs/p
	printf 'apiVersion: kcp.wsr.dev/v1\nkind: HomeWorkspace\nmetadata: {name: chen}\n' >specs/chen.yaml
	want=$("$WSR" kcp home-path --depth 3 --length 1 chen)
	[ "$(echo "$want" | tr ':' '\n' | wc -l)" -eq 6 ] || fail "unexpected path $want"
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	expect_out "kcp/$want: created"
}

t_every_invalid_bucket_configuration_refused() {
	for lp in "1 1" "1 2" "2 1" "2 3" "3 1"; do
		set -- $lp
		rm -rf specs && mkdir specs
		printf 'apiVersion: wsr.dev/v1\nkind: Config\nproviders:\n  kcp:\n    home: {length: %s, depth: %s}\n' "$1" "$2" >specs/wsr.yaml
		run "$WSR" validate specs
		expect_rc 1
		expect_err "specs/wsr.yaml:5:11: error: kcp home buckets: depth $2, length $1"
		run "$WSR" plan specs
		expect_rc 1
		expect_err "depth $2, length $1"
	done
	for lp in "2 2" "1 3" "1 4"; do
		set -- $lp
		printf 'apiVersion: wsr.dev/v1\nkind: Config\nproviders:\n  kcp:\n    home: {length: %s, depth: %s}\n' "$1" "$2" >specs/wsr.yaml
		run "$WSR" validate specs
		expect_rc 0
	done
}

t_kubeconfig_problems_are_clear_errors() {
	kcp_start && use_kcp specs && kws specs lab lab root universal
	sed -i 's/current-context: sim/current-context: elsewhere/' specs/kcp.kubeconfig
	run "$WSR" plan specs
	expect_rc 1
	expect_err "elsewhere"
	use_kcp specs wrong-token
	run "$WSR" plan specs
	expect_rc 1
	expect_err "401"
	expect_no_err "wrong-token"
}

t_both_platforms_in_one_repository() {
	kcp_start
	kcp_url=$SIM_URL
	sim_start "$FIXTURES/seed.yaml" loopback
	use_sim specs
	SIM_URL=$kcp_url
	use_kcp kcp
	mv kcp/kcp.kubeconfig specs/
	cat >>specs/wsr.yaml <<EOC
  kcp: {endpoint: kubeconfig, kubeconfig: kcp.kubeconfig}
EOC
	kws specs/kcp acme acme root organization
	cat >specs/web.yaml <<EOC
apiVersion: loopback.wsr.dev/v1
kind: Workspace
metadata: {name: web}
spec: {organization: acme, project: payments, type: baremetal}
EOC
	run "$WSR" plan specs
	expect_rc 0
	before "kcp:" "+   kcp/root:acme"
	before "+   kcp/root:acme" "loopback:"
	before "loopback:" "+   loopback/acme/web"
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	expect_out "Apply complete: 2 succeeded, 0 failed"
	run "$WSR" state list --dir specs
	expect_out "kcp/root:acme"
	expect_out "loopback/acme/web"
}

t_embedded_kcp_example() {
	cp -R "$EXAMPLES/kcp" ex
	run "$WSR" apply ex --auto-approve
	expect_rc 0
	expect_out "Apply complete: 6 succeeded, 0 failed"
	run "$WSR" plan ex --detailed-exitcode
	expect_rc 0
}

run_tests
