#!/bin/sh
# test_sim_api: wsr-sim's Loopback API driven over HTTP with curl, as a
# client sees it: every documented refusal with its status and code, the
# create -> task -> active lifecycle, idempotent retries, pagination,
# deletion, the body limit, and persistence across a restart; and the
# day-two rules on tests/fixtures/seed-day2.yaml: maintenance, upgrades,
# transfers, compute profiles and the emulator-only drift and fault
# endpoints.
. "$(dirname "$0")/lib.sh"

# api METHOD PATH [BODY] [KEY] [EXTRA-HEADER]: sends one request; the body of
# the answer goes to $T/stdout, its status to CODE.
api() {
	key=${4-test-admin-key}
	set -- "$1" "$2" "${3:-}" "$key" "${5:-X-None: 1}"
	if [ -n "$3" ]; then
		CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $4" \
			-H "Content-Type: application/json" -H "$5" --data-binary "$3" "$SIM_URL$2")
	else
		CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $4" \
			-H "$5" "$SIM_URL$2")
	fi
	: >"$T/stderr"
}

expect_code() { [ "$CODE" = "$1" ] || fail "HTTP status $CODE, expected $1"; }
# expect_error STATUS CODE: the last answer is that documented refusal.
expect_error() {
	expect_code "$1"
	expect_out "\"code\":\"$2\""
}

WS=/v1/organizations/acme/workspaces
K8S='"type":"kubernetes","kubernetes":{"version":"1.30.2"}'

create() { # create NAME [EXTRA-JSON-FIELDS] [KEY] [PROJECT]
	api POST $WS "{\"name\":\"$1\",\"project\":\"${4:-payments}\",$K8S${2:+,$2}}" "${3:-test-admin-key}"
}

slow_seed() {
	sed 's/seconds: 0/seconds: 1/' "$FIXTURES/seed.yaml" >"$T/slow.yaml"
	echo "$T/slow.yaml"
}

t_principal_and_401() {
	sim_start || exit 1
	api GET /v1/principal
	expect_code 200
	expect_out '"organization":"acme","role":"admin","projects":null'
	api GET /v1/principal "" test-sandbox-key
	expect_out '"projects":["sandbox"]'
	expect_no_out 'workspace:transfer'
	api GET /v1/principal "" no-such-key
	expect_error 401 unauthenticated
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' "$SIM_URL$WS")
	expect_error 401 unauthenticated
}

t_create_refusals_in_documented_order() {
	sim_start || exit 1
	api POST /v1/organizations/shady/workspaces '{"name":"a","project":"x","type":"baremetal"}' shady-key
	expect_error 422 organization_not_verified
	api POST /v1/organizations/frozen/workspaces '{"name":"a","project":"y","type":"baremetal"}' frozen-key
	expect_error 422 organization_inactive
	create a "" test-admin-key nope
	expect_error 422 project_not_found
	create a "" test-sandbox-key payments
	expect_error 403 permission_denied
	expect_out 'missing permission workspace:create on project payments'
	create a "" test-viewer-key
	expect_error 403 permission_denied
	api POST $WS '{"name":"a","project":"payments","type":"kubernetes","kubernetes":{"version":"9.9.9"}}'
	expect_error 422 version_unknown
	api POST $WS '{"name":"a","project":"payments","type":"kubernetes","kubernetes":{"version":"1.28.9"}}'
	expect_error 422 version_inactive
	api POST $WS "{\"name\":\"a\",\"project\":\"payments\",\"type\":\"kubernetes\",\"kubernetes\":{\"version\":\"1.30.2\",\"computeProvider\":\"ionos_dcd\"}}"
	expect_error 422 no_management_cluster
	for pin in nowhere kamaji-old root-1; do
		api POST $WS "{\"name\":\"a\",\"project\":\"payments\",\"type\":\"kubernetes\",\"kubernetes\":{\"version\":\"1.30.2\",\"managementCluster\":\"$pin\"}}"
		expect_error 422 management_cluster_invalid
	done
	api POST $WS '{"name":"a","project":"payments","type":"baremetal","kubernetes":{"version":"1.30.2"}}'
	expect_error 400 invalid_request
	api POST $WS '{"name":"a","project":"payments","type":"kubernetes"}'
	expect_error 400 invalid_request
	api POST $WS '{"name":"!!!","project":"payments","type":"baremetal"}'
	expect_error 400 invalid_request
	# 400 comes before 404: a bad body for another organization is still a bad body
	api POST /v1/organizations/shady/workspaces '{"name":"a"}'
	expect_error 400 invalid_request
	api POST /v1/organizations/shady/workspaces '{"name":"a","project":"x","type":"baremetal"}'
	expect_error 404 not_found
	create taken
	expect_code 202
	create Taken
	expect_error 409 already_exists
	api GET $WS
	expect_out '"items":[{'
	expect_no_out '"name":"a"'
}

t_create_task_active_after_provisioning() {
	sim_start "$(slow_seed)" || exit 1
	create "Payments Prod" '"metadata":{"costCenter":"4711"}'
	expect_code 202
	expect_out '"name":"payments-prod"'
	expect_out '"state":"initializing"'
	expect_out '"managementCluster":"kamaji-fsn1"'
	expect_out '"costCenter":"4711"'
	expect_out '"maintenance":{"enabled":true,"schedule":{"0":3,"1":3,"2":3,"3":3,"4":3,"5":3,"6":3},"priorityHour":4'
	task=$(sed -n 's/.*"task":{"id":"\([^"]*\)".*/\1/p' "$T/stdout")
	[ -n "$task" ] || fail "no task id"
	api GET /v1/tasks/$task
	expect_out '"state":"running"'
	expect_out '"finishedAt":null'
	api PATCH $WS/payments-prod '{"metadata":{}}'
	expect_error 409 conflict
	sleep 1.2
	api GET $WS/payments-prod
	expect_code 200
	expect_out '"state":"active"'
	api GET /v1/tasks/$task
	expect_out '"state":"succeeded"'
	api GET /v1/tasks/$task "" shady-key
	expect_error 404 not_found
}

t_idempotent_create_replays_first_answer() {
	sim_start "$(slow_seed)" || exit 1
	create idem "" test-admin-key payments
	body='{"name":"retry-me","project":"payments","type":"baremetal"}'
	api POST $WS "$body" test-admin-key "Idempotency-Key: abc"
	expect_code 202
	cp "$T/stdout" "$T/first"
	sleep 1.1 # the workspace is active now; a replay still says what the first answer said
	api POST $WS "$body" test-admin-key "Idempotency-Key: abc"
	expect_code 202
	cmp -s "$T/first" "$T/stdout" || fail "replayed body differs"
	api POST $WS "$body" test-member-key "Idempotency-Key: abc"
	expect_error 409 already_exists
	long=$(printf '%0256d' 0)
	api POST $WS '{"name":"x","project":"payments","type":"baremetal"}' test-admin-key "Idempotency-Key: $long"
	expect_error 400 invalid_request
}

t_pagination_across_pages() {
	sim_start || exit 1
	for i in 01 02 03 04 05 06 07; do
		api POST $WS "{\"name\":\"ws-$i\",\"project\":\"sandbox\",\"type\":\"baremetal\"}"
		expect_code 202
	done
	api GET "$WS?limit=3"
	expect_out '"name":"ws-03"'
	expect_no_out '"name":"ws-04"'
	cursor=$(sed -n 's/.*"nextCursor":"\([^"]*\)".*/\1/p' "$T/stdout")
	[ -n "$cursor" ] || fail "no nextCursor"
	# the cursor survives a delete before it and an insert after it
	api DELETE $WS/ws-02
	expect_code 202
	api POST $WS '{"name":"ws-035","project":"sandbox","type":"baremetal"}'
	api GET "$WS?limit=3&cursor=$cursor"
	expect_out '"name":"ws-035"'
	expect_out '"name":"ws-05"'
	expect_no_out '"name":"ws-03"'
	expect_no_out '"name":"ws-06"'
	cursor=$(sed -n 's/.*"nextCursor":"\([^"]*\)".*/\1/p' "$T/stdout")
	api GET "$WS?limit=3&cursor=$cursor"
	expect_out '"name":"ws-07"'
	expect_out '"nextCursor":null'
	for bad in 'limit=501' 'limit=0' 'limit=ten' 'cursor=zz' 'cursor=%00'; do
		api GET "$WS?$bad"
		expect_error 400 invalid_request
	done
	api GET "$WS?limit=500"
	expect_code 200
	api GET $WS "" test-sandbox-key
	expect_out '"name":"ws-01"'
}

t_project_limited_key_sees_its_projects() {
	sim_start || exit 1
	create pay
	api POST $WS '{"name":"box","project":"sandbox","type":"baremetal"}' test-sandbox-key
	expect_code 202
	api GET $WS "" test-sandbox-key
	expect_out '"name":"box"'
	expect_no_out '"name":"pay"'
	api GET $WS/pay "" test-sandbox-key
	expect_error 403 permission_denied
	api DELETE $WS/pay "" test-viewer-key
	expect_error 403 permission_denied
}

t_patch_updates_and_refuses_fixed_fields() {
	sim_start || exit 1
	create web '"dns":{"provider":"cloudflare"}'
	api PATCH $WS/web '{"metadata":{"team":"a"},"kubernetes":{"ingress":false,"oidc":{"enabled":true}}}'
	expect_code 200
	expect_out '"team":"a"'
	expect_out '"ingress":false,"oidc":{"enabled":true,"sessionLifetime":null}'
	expect_out '"dns":{"provider":"cloudflare"'
	# ingress is seeded at creation: another value is refused by name
	api PATCH $WS/web '{"kubernetes":{"ingress":true}}'
	expect_error 400 invalid_request
	expect_out 'kubernetes.ingress'
	api PATCH $WS/web '{"kubernetes":{"version":"1.29.4"}}'
	expect_error 400 invalid_request
	expect_out 'kubernetes.version'
	api PATCH $WS/web '{"project":"sandbox"}'
	expect_error 400 invalid_request
	api PATCH $WS/web '{"bogus":1}'
	expect_error 400 invalid_request
	api PATCH $WS/web '{"metadata":{}}' test-viewer-key
	expect_error 403 permission_denied
	api PATCH $WS/nope '{"metadata":{}}'
	expect_error 404 not_found
}

t_delete_lifecycle() {
	sim_start "$(slow_seed)" || exit 1
	api POST $WS '{"name":"gone","project":"payments","type":"baremetal"}'
	sleep 1.1
	api DELETE $WS/gone
	expect_code 202
	expect_out '"type":"delete","state":"running"'
	task=$(sed -n 's/.*"id":"\(task-[^"]*\)".*/\1/p' "$T/stdout")
	api GET $WS/gone
	expect_out '"state":"deleting"'
	api DELETE $WS/gone
	expect_code 202
	expect_out "\"id\":\"$task\""
	sleep 1.1
	api GET $WS/gone
	expect_error 404 not_found
	api GET /v1/tasks/$task
	expect_out '"state":"succeeded"'
}

t_other_org_is_not_found() {
	sim_start || exit 1
	api GET /v1/organizations/shady
	expect_error 404 not_found
	api GET /v1/organizations/shady/workspaces
	expect_error 404 not_found
	api GET /v1/organizations/no-such-org/workspaces
	expect_error 404 not_found
	api GET /v1/organizations/acme
	expect_out '"projects":["payments","sandbox"]'
}

t_bad_requests_are_json_errors() {
	sim_start || exit 1
	api POST $WS '{"name": "a",'
	expect_error 400 invalid_request
	api POST $WS '["not an object"]'
	expect_error 400 invalid_request
	api POST $WS '{"name":1,"project":"payments","type":"baremetal"}'
	expect_error 400 invalid_request
	api GET /v1/nowhere
	expect_error 404 not_found
	api PUT $WS
	expect_error 405 method_not_allowed
	# exactly 1 MiB is read; one byte more is refused
	head -c 1048576 /dev/zero | tr '\0' ' ' >"$T/big"
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -X POST -H "Authorization: Bearer test-admin-key" \
		--data-binary @"$T/big" "$SIM_URL$WS")
	expect_error 400 invalid_request
	printf ' ' >>"$T/big"
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -X POST -H "Authorization: Bearer test-admin-key" \
		--data-binary @"$T/big" "$SIM_URL$WS")
	expect_error 413 payload_too_large
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -X POST -H "Authorization: Bearer test-admin-key" \
		-H "Transfer-Encoding: chunked" --data-binary @"$T/big" "$SIM_URL$WS")
	expect_error 413 payload_too_large
	api GET /v1/principal
	expect_code 200
}

t_stats_count_requests() {
	sim_start || exit 1
	[ "$(sim_requests)" = 0 ] || fail "a fresh emulator counts $(sim_requests) requests"
	api GET /v1/principal
	api GET /v1/nowhere
	[ "$(sim_requests)" = 2 ] || fail "expected 2 requests, stats say $(sim_requests)"
}

t_persistence_across_restart() {
	sim_start || exit 1
	create kept '"metadata":{"k":"v"}'
	expect_code 202
	api POST $WS '{"name":"x","project":"payments","type":"baremetal"}' test-admin-key "Idempotency-Key: once"
	cp "$T/stdout" "$T/first"
	for p in $(cat "$T/.pids"); do kill "$p"; wait "$p" 2>/dev/null; done
	: >"$T/.pids"
	rm -f "$T/sim/out" # or sim_start could read the old address before the new one is written
	ls "$T/sim/data/workspaces/acme/kept.json" >/dev/null || fail "no workspace file"
	# the data wins over the seed: an emptied seed does not reset the platform
	sim_start "$T/none.yaml" || exit 1
	api GET $WS/kept
	expect_code 200
	expect_out '"k":"v"'
	api POST $WS '{"name":"x","project":"payments","type":"baremetal"}' test-admin-key "Idempotency-Key: once"
	cmp -s "$T/first" "$T/stdout" || fail "idempotency record lost in the restart"
}

t_bad_seed_and_data_are_clear_errors() {
	printf 'organizations:\n  - {name: acme, verified: maybe}\napiKeys: []\n' >"$T/bad.yaml"
	run "$WSR_SIM" serve --listen 127.0.0.1:0 --seed "$T/bad.yaml" --data "$T/d1"
	expect_rc 1
	expect_err "bad.yaml:2:"
	expect_err "verified"
	"$WSR_SIM" serve --seed "$FIXTURES/seed.yaml" --data "$T/d2" >"$T/out" 2>&1 &
	pid=$!
	i=0
	while ! grep -q listening "$T/out" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	kill $pid
	wait $pid || fail "wsr-sim did not exit 0 on SIGTERM"
	mkdir -p "$T/d2/workspaces/acme"
	printf '{"workspace":' >"$T/d2/workspaces/acme/broken.json"
	run "$WSR_SIM" serve --listen 127.0.0.1:0 --data "$T/d2"
	expect_rc 1
	expect_err "broken.json"
	# a folder with foreign files is not seeded over
	mkdir -p "$T/d3" && echo hi >"$T/d3/notes.txt"
	run "$WSR_SIM" serve --listen 127.0.0.1:0 --data "$T/d3"
	expect_rc 1
	expect_err "no platform.json"
}

t_refuses_non_loopback_listen() {
	run "$WSR_SIM" serve --listen 0.0.0.0:0 --data "$T/d"
	expect_rc 1
	expect_err "not a loopback address"
	run "$WSR_SIM" serve --listen :8080
	expect_rc 1
	run "$WSR_SIM" serve --bogus
	expect_rc 2
}

# ---- day two (tests/fixtures/seed-day2.yaml) ----

DAY2=day2-admin-key
LEGACY=$WS/legacy

t_day2_partial_maintenance_patch_turns_flags_off() {
	sim_start "$FIXTURES/seed-day2.yaml" || exit 1
	api GET $LEGACY "" $DAY2
	expect_out '"compute":{"autoUpdate":true},"kubernetes":{"autoPatch":true}'
	api PATCH $LEGACY '{"maintenance":{"schedule":{"2":6}}}' $DAY2
	expect_code 200
	expect_out '"maintenance":{"enabled":true,"schedule":{"0":3,"1":3,"2":6,"3":3,"4":3,"5":3,"6":3},"priorityHour":4,"compute":{"autoUpdate":false},"kubernetes":{"autoPatch":false}}'
	api GET $LEGACY "" $DAY2
	expect_out '"compute":{"autoUpdate":false},"kubernetes":{"autoPatch":false}'
	api PATCH $WS/metal '{"maintenance":{"kubernetes":{"autoPatch":true}}}' $DAY2
	expect_error 400 invalid_request
	expect_out 'maintenance.kubernetes'
}

t_day2_member_cannot_switch_maintenance_off() {
	sim_start "$FIXTURES/seed-day2.yaml" || exit 1
	api PATCH $LEGACY '{"maintenance":{"enabled":false,"schedule":{"0":5},"compute":{},"kubernetes":{}}}' day2-member-key
	expect_code 200
	expect_out '"maintenance":{"enabled":true,"schedule":{"0":5,'
	api GET $LEGACY "" $DAY2
	expect_out '"enabled":true,"schedule":{"0":5,'
	api PATCH $LEGACY '{"maintenance":{"enabled":false,"compute":{},"kubernetes":{}}}' $DAY2
	expect_code 200
	expect_out '"maintenance":{"enabled":false,'
}

t_day2_upgrade_hop_via_task() {
	sed 's/seconds: 0/seconds: 1/' "$FIXTURES/seed-day2.yaml" >"$T/slow.yaml"
	sim_start "$T/slow.yaml" || exit 1
	api GET $LEGACY/upgrades "" $DAY2
	expect_out '"items":[{"version":"1.29.4"'
	expect_out '"current":"1.28.9"'
	api POST $LEGACY/upgrade '{"version":"1.29.4"}' $DAY2
	expect_code 202
	expect_out '"state":"upgrading"'
	expect_out '"type":"upgrade","state":"running"'
	task=$(sed -n 's/.*"task":{"id":"\([^"]*\)".*/\1/p' "$T/stdout")
	[ -n "$task" ] || fail "no task id"
	api DELETE $LEGACY "" $DAY2
	expect_error 409 conflict
	sleep 1.2
	api GET /v1/tasks/$task "" $DAY2
	expect_out '"state":"succeeded"'
	api GET $LEGACY "" $DAY2
	expect_out '"state":"active"'
	expect_out '"version":"1.29.4"'
}

t_day2_two_hop_jump_is_refused_naming_eligible_targets() {
	sim_start "$FIXTURES/seed-day2.yaml" || exit 1
	api POST $LEGACY/upgrade '{"version":"1.30.2"}' $DAY2
	expect_error 422 upgrade_not_allowed
	expect_out 'eligible targets: 1.29.4'
	api POST $LEGACY/upgrade '{"version":"1.28.9"}' $DAY2
	expect_error 422 version_inactive
	api POST $WS/metal/upgrade '{"version":"1.29.4"}' $DAY2
	expect_error 422 not_kubernetes
	api POST $LEGACY/upgrade '{"version":"1.29.4"}' day2-noupgrade-key
	expect_error 403 permission_denied
	expect_out 'kubernetes:upgrade'
	api GET $LEGACY "" $DAY2
	expect_out '"version":"1.28.9"'
}

t_day2_transfer() {
	sim_start "$FIXTURES/seed-day2.yaml" || exit 1
	id=$(curl -s -H "Authorization: Bearer $DAY2" "$SIM_URL$LEGACY" | sed -n 's/^{"id":"\([^"]*\)".*/\1/p')
	api POST $LEGACY/transfer '{"project":"sandbox"}' day2-member-key
	expect_error 403 permission_denied
	expect_out 'workspace:transfer'
	api POST $LEGACY/transfer '{"project":"payments"}' day2-transfer-key
	expect_error 400 invalid_request
	api POST $LEGACY/transfer '{"project":"nope"}' day2-transfer-key
	expect_error 422 project_not_found
	api POST $LEGACY/transfer '{"project":"sandbox"}' day2-transfer-key
	expect_code 202
	expect_out '"project":"sandbox"'
	expect_out '"type":"transfer"'
	api GET $LEGACY "" day2-sandbox-key
	expect_code 200
	expect_out "\"id\":\"$id\""
	expect_out '"state":"active"'
}

t_day2_drift_endpoint() {
	sim_start "$FIXTURES/seed-day2.yaml" || exit 1
	before=$(sim_requests)
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -X PATCH --data-binary \
		'{"metadata":{"owner":"ui"},"maintenance":{"enabled":false,"compute":null}}' \
		"$SIM_URL/_sim/organizations/acme/workspaces/legacy")
	expect_code 200
	expect_out '"owner":"ui"'
	expect_out '"enabled":false'
	expect_out '"compute":{"autoUpdate":false}'
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -X PATCH --data-binary \
		'{"kubernetes":{"version":"0.0.1"}}' "$SIM_URL/_sim/organizations/acme/workspaces/legacy")
	expect_error 400 invalid_request
	expect_out 'kubernetes.version'
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -X PATCH --data-binary '{}' \
		"$SIM_URL/_sim/organizations/acme/workspaces/nope")
	expect_error 404 not_found
	api GET $LEGACY "" $DAY2
	expect_out '"owner":"ui"'
	# /_sim requests are not counted; the GET is
	[ "$(sim_requests)" = $((before + 1)) ] || fail "stats count $(sim_requests), expected $((before + 1))"
}

t_day2_respond_fault() {
	sim_start "$FIXTURES/seed-day2.yaml" || exit 1
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -X POST --data-binary \
		'{"kind":"respond","method":"POST","path":"/v1/organizations/acme/workspaces/legacy/upgrade","status":503,"code":"unavailable","count":1}' \
		"$SIM_URL/_sim/faults")
	expect_code 201
	expect_out '"faults":1'
	api POST $LEGACY/upgrade '{"version":"1.29.4"}' $DAY2
	expect_error 503 unavailable
	expect_out 'injected fault'
	api GET $LEGACY "" $DAY2
	expect_out '"version":"1.28.9"'
	api POST $LEGACY/upgrade '{"version":"1.29.4"}' $DAY2
	expect_code 202
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -X POST --data-binary \
		'{"kind":"failTask","type":"transfer","code":"stuck","message":"mover crashed"}' \
		"$SIM_URL/_sim/faults")
	expect_code 201
	api POST $LEGACY/transfer '{"project":"platform"}' $DAY2
	expect_code 202
	expect_out '"state":"failed","organization":"acme","workspace":"legacy"'
	expect_out '"error":{"code":"stuck","message":"mover crashed"}'
	api GET $LEGACY "" $DAY2
	expect_out '"project":"payments"'
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -X POST --data-binary '{"kind":"bogus"}' \
		"$SIM_URL/_sim/faults")
	expect_error 400 invalid_request
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -X DELETE "$SIM_URL/_sim/faults")
	expect_code 200
	expect_out '"faults":0'
}

t_day2_compute_profiles() {
	sim_start "$FIXTURES/seed-day2.yaml" || exit 1
	api GET $LEGACY/compute-profiles "" day2-viewer-key
	expect_code 200
	expect_json '.items | map(.name) == ["cx22","cx32","cx52"]'
	expect_json '.items[1].priceSource == "override" and .items[1].prices.hourly == "0.0100" and .items[1].prices.monthly == "6.49" and .items[1].prices.setup == "0.00"'
	expect_json '.items[0].priceSource == "list" and .items[0].prices.hourly == "0.0060"'
	expect_json '.items[2].available == false and .items[2].unavailableReason == "server type cx52 is in no reachable datacenter (nbg1: unreachable)"'
	expect_json '.items[0].prices.currency == "EUR" and .nextCursor == null'
	api GET $WS/metal/compute-profiles "" $DAY2
	expect_json '.items | map(.name) == ["bm-small"]'
}

# sim_fault JSON: POST /_sim/faults; its answer in $T/stdout, status in CODE.
sim_fault() {
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -X POST --data-binary "$1" "$SIM_URL/_sim/faults")
}

# reset_create NAME WHEN: a reset fault WHEN serving the next create, then
# a create of NAME, which gets no answer at all.
reset_create() {
	sim_fault '{"kind":"reset","method":"POST","path":"/v1/organizations/acme/workspaces","when":"'"$2"'"}'
	expect_code 201
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -X POST -H "Authorization: Bearer test-admin-key" \
		--data-binary '{"name":"'"$1"'","project":"payments","type":"baremetal"}' "$SIM_URL$WS")
	[ "$CODE" = 000 ] || fail "a reset answered $CODE"
}

t_reset_fault_before_and_after_serving() {
	sim_start || exit 1
	reset_create early before
	api GET $WS/early
	expect_error 404 not_found # before: nothing was done
	reset_create late after
	api GET $WS/late
	expect_code 200 # after: served, the answer lost
	grep -q '^wsr-sim: POST /v1/organizations/acme/workspaces reset$' "$SIM_DIR/err" ||
		fail "the log does not show the reset before serving"
	grep -q '^wsr-sim: POST /v1/organizations/acme/workspaces 202 reset$' "$SIM_DIR/err" ||
		fail "the log does not show the reset after serving"
	api POST $WS '{"name":"third","project":"payments","type":"baremetal"}'
	expect_code 202 # used up: count 1
}

t_respond_fault_retry_after_and_after_serving() {
	sim_start || exit 1
	sim_fault '{"kind":"respond","method":"GET","path":"/v1/principal","status":429,"code":"rate_limited","retryAfter":7}'
	expect_code 201
	CODE=$(curl -s -D "$T/headers" -o "$T/stdout" -w '%{http_code}' -H "Authorization: Bearer test-admin-key" "$SIM_URL/v1/principal")
	expect_error 429 rate_limited
	grep -qi '^Retry-After: 7' "$T/headers" || fail "no Retry-After: 7"
	sim_fault '{"kind":"respond","method":"GET","path":"/v1/principal","status":429,"code":"rate_limited"}'
	CODE=$(curl -s -D "$T/headers" -o "$T/stdout" -w '%{http_code}' -H "Authorization: Bearer test-admin-key" "$SIM_URL/v1/principal")
	expect_error 429 rate_limited
	! grep -qi '^Retry-After' "$T/headers" || fail "Retry-After sent without retryAfter"
	sim_fault '{"kind":"respond","method":"POST","path":"/v1/organizations/acme/workspaces","status":504,"code":"gateway_timeout","when":"after"}'
	api POST $WS '{"name":"served","project":"payments","type":"baremetal"}'
	expect_error 504 gateway_timeout
	api GET $WS/served
	expect_code 200
}

t_slow_fault_delays_the_answer() {
	sim_start || exit 1
	sim_fault '{"kind":"slow","method":"GET","path":"/v1/principal","ms":800}'
	expect_code 201
	start=$(date +%s%N)
	api GET /v1/principal
	took=$((($(date +%s%N) - start) / 1000000))
	expect_code 200
	[ "$took" -ge 800 ] || fail "a slow answer took ${took} ms, expected at least 800"
	# after: served at once, answered late (here after the client gave up)
	sim_fault '{"kind":"slow","method":"POST","path":"/v1/organizations/acme/workspaces","ms":2500,"when":"after"}'
	expect_code 201
	CODE=$(curl -s -m 1 -o "$T/stdout" -w '%{http_code}' -X POST -H "Authorization: Bearer test-admin-key" \
		--data-binary '{"name":"tardy","project":"payments","type":"baremetal"}' "$SIM_URL$WS")
	[ "$CODE" = 000 ] || fail "the late answer came within 1 s ($CODE)"
	api GET $WS/tardy
	expect_code 200
	sim_fault '{"kind":"slow","method":"GET","path":"/","ms":60001}'
	expect_error 400 invalid_request
	expect_out 'ms must be a whole number from 1 to 60000'
	sim_fault '{"kind":"slow","method":"GET","path":"/"}'
	expect_error 400 invalid_request
	sim_fault '{"kind":"reset","method":"GET","path":"/","when":"later"}'
	expect_error 400 invalid_request
	expect_out 'when must be before or after'
	sim_fault '{"kind":"respond","method":"GET","path":"/","status":429,"code":"x","retryAfter":3601}'
	expect_error 400 invalid_request
	expect_out 'retryAfter must be a whole number from 0 to 3600'
	sim_fault '{"kind":"reset","method":"GET","path":"/","ms":5}'
	expect_error 400 invalid_request
	# the limits themselves are accepted (and removed unused)
	sim_fault '{"kind":"slow","method":"DELETE","path":"/","ms":60000}'
	expect_code 201
	sim_fault '{"kind":"respond","method":"DELETE","path":"/","status":429,"code":"x","retryAfter":3600}'
	expect_code 201
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -X DELETE "$SIM_URL/_sim/faults")
	expect_code 200
}

t_percent_fault_applies_to_about_that_share() {
	sim_start || exit 1
	sim_fault '{"kind":"respond","method":"GET","path":"/v1/principal","status":503,"code":"unavailable","percent":30,"count":1000}'
	expect_code 201
	hits=0
	i=0
	while [ $i -lt 200 ]; do
		api GET /v1/principal
		[ "$CODE" = 503 ] && hits=$((hits + 1))
		i=$((i + 1))
	done
	# 30% of 200 is 60; the chance of falling outside 30..90 is below 1e-6
	[ "$hits" -ge 30 ] && [ "$hits" -le 90 ] || fail "$hits of 200 faulted at 30%"
	sim_fault '{"kind":"respond","method":"GET","path":"/","status":503,"code":"x","percent":0}'
	expect_error 400 invalid_request
	expect_out 'percent must be a whole number from 1 to 100'
	sim_fault '{"kind":"respond","method":"GET","path":"/","status":503,"code":"x","percent":101}'
	expect_error 400 invalid_request
	sim_fault '{"kind":"respond","method":"GET","path":"/","status":503,"code":"x","percent":100}'
	expect_code 201
}

run_tests
