#!/bin/sh
# wsr watch on a directory, end to end against wsr-sim: inotify edits,
# drift with and without selfHeal, an invalid file, maintenance windows on
# an injected clock, SIGTERM part-way through an apply, SIGHUP, the
# endpoints, --once, and resources over 1,000 reconciles.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/watch_lib.sh"

# ws DIR NAME [EXTRA-SPEC-YAML...]: a baremetal workspace in the sandbox project.
ws() {
	d=$1 n=$2
	shift 2
	{
		printf 'apiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata: {name: %s}\n' "$n"
		printf 'spec:\n  organization: acme\n  project: sandbox\n  type: baremetal\n'
		for extra in "$@"; do printf '  %s\n' "$extra"; done
	} >"$d/$n.yaml"
}

# k8s DIR NAME VERSION [EXTRA...]: a kubernetes workspace.
k8s() {
	d=$1 n=$2 v=$3
	shift 3
	{
		printf 'apiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata: {name: %s}\n' "$n"
		printf 'spec:\n  organization: acme\n  project: payments\n  type: kubernetes\n'
		printf '  kubernetes: {version: "%s"}\n' "$v"
		for extra in "$@"; do printf '  %s\n' "$extra"; done
	} >"$d/$n.yaml"
}

get() {
	curl -s -H "Authorization: Bearer test-admin-key" "$SIM_URL/v1/organizations/acme/workspaces/$1"
}

ui() {
	curl -s -X PATCH -H "Content-Type: application/json" -d "$2" \
		"$SIM_URL/_sim/organizations/acme/workspaces/$1" >/dev/null
}

platform_has() { get "$1" | jq -e "$2" >/dev/null 2>&1; }
state_has() { jq -e "$1" "$T/specs/.wsr/state.json" >/dev/null 2>&1; }
log_has() { grep -qF -- "$1" "$T/watch.log"; }

t_directory_edit_reconciled_within_200ms() {
	sim_start && use_sim specs
	ws specs edge 'maintenance: {schedule: {"1": 2}}'
	watch_start specs --interval 1h
	within 10 platform_has edge '.state == "active"'
	within 5 status_is '.workspaces[0].state == "in-sync"'
	# an editor's save: write a temporary file, rename it over the spec
	ws specs .edge.tmp 'maintenance: {schedule: {"1": 5}}'
	sed -i 's/name: .edge.tmp/name: edge/' specs/.edge.tmp.yaml
	t0=$(date +%s%N)
	mv specs/.edge.tmp.yaml specs/edge.yaml
	while ! state_has '.resources[0].applied.maintenance.schedule."1" == 5'; do
		[ $(($(date +%s%N) - t0)) -lt 5000000000 ] || fail "edit never reconciled"
		sleep 0.005
	done
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "edit reconciled in ${ms} ms"
	# the bound holds for the ordinary build; under ThreadSanitizer
	# (WSR_TEST_UNTIMED=1) the edit must still be reconciled, not as fast
	[ "${WSR_TEST_UNTIMED:-0}" = 1 ] || [ "$ms" -le 200 ] ||
		fail "edit took ${ms} ms to reconcile (more than 200)"
	platform_has edge '.maintenance.schedule."1" == 5' || fail "platform not updated"
	# a new subdirectory is followed too
	mkdir specs/team
	ws specs/team deep
	within 10 platform_has deep '.state == "active"'
}

t_drift_corrected_with_self_heal() {
	sim_start && use_sim specs
	k8s specs heal 1.30.2 'maintenance: {schedule: {"1": 2}}'
	watch_start specs --interval 300ms
	within 10 status_is '.workspaces[0].state == "in-sync"'
	ui heal '{"maintenance": {"schedule": {"1": 9}}}'
	within 5 log_has "event=drift"
	within 5 platform_has heal '.maintenance.schedule."1" == 2'
	curl -s "$WATCH_URL/metrics" | grep -q '^wsr_drift_detected_total [1-9]' || fail "drift not counted"
}

t_drift_only_reported_without_self_heal() {
	sim_start && use_sim specs
	printf 'watch: {selfHeal: false}\n' >>specs/wsr.yaml
	k8s specs keep 1.30.2 'maintenance: {schedule: {"1": 2}}'
	watch_start specs --interval 300ms
	within 10 status_is '.workspaces[0].state == "in-sync"'
	ui keep '{"maintenance": {"schedule": {"1": 9}}}'
	within 5 status_is '.workspaces[0].state == "drifted"'
	status_is '.workspaces[0].reason | test("selfHeal is off")' || fail "no reason given"
	n=$(reconciles)
	within 5 reconciled $((n + 3))
	platform_has keep '.maintenance.schedule."1" == 9' || fail "drift was corrected"
	# a spec edit is still applied, drift or not
	k8s specs keep 1.30.2 'maintenance: {schedule: {"1": 4}}'
	within 5 platform_has keep '.maintenance.schedule."1" == 4'
}

t_invalid_file_stops_only_its_own_workspaces() {
	sim_start && use_sim specs
	ws specs good 'maintenance: {schedule: {"1": 2}}'
	ws specs bad 'maintenance: {schedule: {"1": 2}}'
	watch_start specs --interval 1h --prune
	within 10 status_is '[.workspaces[].state] == ["in-sync", "in-sync"]'
	printf 'apiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata: {name: bad}\nspec: {organization: acme, project: sandbox, type: baremetal, bogus: 1}\n' >specs/bad.yaml
	ws specs good 'maintenance: {schedule: {"1": 6}}'
	within 5 platform_has good '.maintenance.schedule."1" == 6'
	within 5 status_is '.workspaces[] | select(.address == "loopback/acme/bad") | .state == "invalid"'
	log_has 'event=invalid' || fail "no invalid event"
	grep 'event=invalid' "$T/watch.log" | grep -q 'file=specs/bad.yaml line=4' || fail "no position"
	# prune is on, yet the workspace of the broken file is not deleted
	platform_has bad '.state == "active"' || fail "bad's workspace was touched"
	# an alias of no anchor, as a key of a large map, once crashed the
	# daemon: now it is one more invalid file, and the daemon lives on
	{
		printf '*nope: x\n'
		for k in b c d e f g h i j; do printf '%s: 1\n' "$k"; done
	} >specs/alias.yaml
	ws specs good 'maintenance: {schedule: {"1": 7}}'
	within 5 platform_has good '.maintenance.schedule."1" == 7'
	within 5 log_has 'file=specs/alias.yaml line=1'
	kill -0 "$WATCH_PID" 2>/dev/null || fail "the daemon died"
}

t_upgrade_held_until_maintenance_window() {
	sim_start && use_sim specs
	# Monday 10:00 UTC; the workspace's window is Tuesday 03:00
	echo 2026-11-23T10:00:00Z >clock
	WSR_CLOCK_FILE=$T/clock
	export WSR_CLOCK_FILE
	k8s specs up 1.29.4 'maintenance: {schedule: {"2": 3}}'
	watch_start specs --interval 1h
	within 10 status_is '.workspaces[0].state == "in-sync"'
	k8s specs up 1.30.2 'maintenance: {schedule: {"2": 3}}'
	within 5 status_is '.workspaces[0].state == "held"'
	status_is '.workspaces[0].reason == "waiting for maintenance window (next: Tue 03:00 UTC)"' ||
		fail "reason: $(curl -s "$WATCH_URL/status" | jq -r '.workspaces[0].reason')"
	status_is '.workspaces[0].nextWindow == "2026-11-24T03:00:00Z"' || fail "no nextWindow"
	platform_has up '.kubernetes.version == "1.29.4"' || fail "upgraded outside the window"
	# a non-disruptive edit of another workspace goes ahead meanwhile
	ws specs side
	within 10 platform_has side '.state == "active"'
	platform_has up '.kubernetes.version == "1.29.4"' || fail "upgraded outside the window"
	echo 2026-11-24T03:00:10Z >clock
	within 10 platform_has up '.kubernetes.version == "1.30.2"'
	within 5 status_is '.workspaces[] | select(.address == "loopback/acme/up") | .state == "in-sync"'
}

t_failing_workspace_backs_off_alone() {
	sim_start && use_sim specs
	# the first creation is refused (409: not retried by the client), the next works
	curl -s -X POST -d '{"kind": "respond", "method": "POST", "path": "/v1/organizations/acme/workspaces", "status": 409, "code": "conflict", "count": 1}' \
		"$SIM_URL/_sim/faults" >/dev/null
	ws specs flaky
	watch_start specs --interval 200ms
	within 5 status_is '.workspaces[] | select(.address == "loopback/acme/flaky") | .state == "failing" and .failures == 1 and .lastError != null and .retryAt != null'
	# meanwhile another workspace is reconciled: one failure stops nothing else
	ws specs steady
	within 5 platform_has steady '.state == "active"'
	status_is '.workspaces[] | select(.address == "loopback/acme/flaky") | .reason | test("backing off")' ||
		fail "no backoff reason: $(curl -s "$WATCH_URL/status" | jq -c '.workspaces')"
	# the retry waits 10 s by default, then 20 s: set 300ms in the config
	printf 'watch: {backoff: {initial: 300ms, max: 1s}}\n' >>specs/wsr.yaml
	kill -HUP "$WATCH_PID"
	within 10 platform_has flaky '.state == "active"'
	within 5 status_is '.workspaces[] | select(.address == "loopback/acme/flaky") | .state == "in-sync" and .failures == 0'
	curl -s "$WATCH_URL/metrics" | grep -q '^wsr_changes_applied_total{action="create",result="failed"} 1' ||
		fail "failures not counted: $(curl -s "$WATCH_URL/metrics" | grep changes_applied)"
}

t_failed_creation_shows_as_needing_repair_then_is_repaired() {
	sim_start && use_sim specs
	curl -s -X POST -d '{"kind": "failTask", "type": "create", "code": "provisioning_failed", "message": "no capacity in fsn1"}' \
		"$SIM_URL/_sim/faults" >/dev/null
	# the retry after the failure waits 2 s: long enough to read the status
	printf 'watch: {backoff: {initial: 2s, max: 2s}}\n' >>specs/wsr.yaml
	ws specs shaky
	watch_start specs --interval 200ms
	within 10 platform_has shaky '.state == "failed"'
	within 5 status_is '.workspaces[] | select(.address == "loopback/acme/shaky") | .state == "needs-repair" and (.reason | test("the platform shows the workspace failed")) and .pending == ["delete", "create"] and (.lastError | test("no capacity in fsn1"))'
	[ ! -f specs/.wsr/state.json ] || state_has '.resources | map(.address) | index("loopback/acme/shaky") | not' ||
		fail "the failed workspace was recorded: $(cat specs/.wsr/state.json)"
	within 10 platform_has shaky '.state == "active"'
	within 5 status_is '.workspaces[] | select(.address == "loopback/acme/shaky") | .state == "in-sync" and .failures == 0'
	state_has '.resources[] | select(.address == "loopback/acme/shaky") | .status.state == "active"' ||
		fail "the repaired workspace was not recorded: $(cat specs/.wsr/state.json)"
}

t_sigterm_during_apply_leaves_state_consistent() {
	sim_start "$FIXTURES/seed-slow.yaml" && use_sim specs
	for n in s1 s2 s3 s4 s5 s6; do ws specs $n; done
	watch_start specs --interval 1h --parallelism 2
	within 10 log_has "event=change"
	stop_watch
	expect_rc 0
	log_has "event=stop" || fail "no stop event"
	# state is valid and unlocked, and every workspace it records exists
	for a in $(jq -r '.resources[].address' specs/.wsr/state.json); do
		platform_has "${a##*/}" '.state == "active"' || fail "$a in state, not on the platform"
	done
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
	n=$(curl -s -H "Authorization: Bearer test-admin-key" "$SIM_URL/v1/organizations/acme/workspaces?limit=100" | jq '.items | length')
	[ "$n" -eq 6 ] || fail "$n workspaces on the platform, expected 6"
}

t_once_exits_with_the_plan_code() {
	sim_start && use_sim specs
	ws specs one
	run "$WSR" watch specs --once
	expect_rc 2
	expect_err "event=change"
	run "$WSR" watch specs --once
	expect_rc 0
	printf 'watch: {interval: 5 minutes}\n' >>specs/wsr.yaml
	run "$WSR" watch specs --once
	expect_rc 1
	expect_err "wsr.yaml"
}

t_endpoints_and_metrics() {
	sim_start && use_sim specs
	ws specs m
	watch_start specs --interval 1h --log-format json
	within 10 status_is '.reconcile.lastResult == "ok"'
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$WATCH_URL/healthz")" = 200 ] || fail "healthz"
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$WATCH_URL/readyz")" = 200 ] || fail "readyz"
	status_is '.format == "wsr.status/v1" and .source.type == "dir"' || fail "status shape"
	curl -s "$WATCH_URL/metrics" >metrics.txt
	/usr/bin/python3 "$FIXTURES/../integration/promcheck.py" <metrics.txt >families.txt ||
		fail "metrics do not parse: $(cat families.txt)"
	grep -q '^wsr_reconcile_duration_seconds histogram' families.txt || fail "no histogram"
	grep -q 'wsr_changes_applied_total{action="create",result="ok"} 1' metrics.txt ||
		fail "creation not counted"
	# no webhook secret configured: every hook is refused
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{}' "$WATCH_URL/hooks/git")" = 401 ] ||
		fail "hook without a secret accepted"
	# events are JSON lines, one per change
	grep '"event":"change"' watch.log | jq -e 'select(.address == "loopback/acme/m") | .result == "ok"' >/dev/null ||
		fail "no change event"
}

t_sighup_reloads_the_configuration() {
	sim_start && use_sim specs
	ws specs h
	watch_start specs
	within 10 status_is '.reconcile.lastResult == "ok"'
	printf 'watch: {interval: soon}\n' >>specs/wsr.yaml
	kill -HUP "$WATCH_PID"
	within 5 log_has "kept the previous configuration"
	sed -i '$d' specs/wsr.yaml
	printf 'watch: {interval: 200ms}\n' >>specs/wsr.yaml
	kill -HUP "$WATCH_PID"
	within 5 log_has "event=reload result=ok"
	n=$(reconciles)
	within 5 reconciled $((n + 3))
}

# RSS (KiB) and open descriptors of the daemon.
rss() { sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$WATCH_PID/status"; }
# the fewest over 20 looks: a reconcile in flight holds a few (the state
# lock, the emulator's sockets) that are closed when it ends
fds() {
	least=100000
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		n=$(ls "/proc/$WATCH_PID/fd" | wc -l)
		[ "$n" -lt "$least" ] && least=$n
		sleep 0.003
	done
	echo "$least"
}

t_rss_and_fds_flat_over_1000_reconciles() {
	# the embedded platform: every reconcile starts and stops an emulator too
	mkdir specs
	ws specs a
	ws specs b
	# under AddressSanitizer (make test SANITIZE=1) freed memory sits in a
	# quarantine that would look like growth; without one, growth is ours
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0
	export ASAN_OPTIONS
	watch_start specs --interval 2ms
	within 60 reconciled 100
	rss0=$(rss) fds0=$(fds)
	n0=$(reconciles)
	within 300 reconciled $((n0 + 1000))
	rss1=$(rss) fds1=$(fds)
	echo "over 1000 reconciles: RSS ${rss0} -> ${rss1} KiB, open fds ${fds0} -> ${fds1}" >&2
	echo "over 1000 reconciles: RSS ${rss0} -> ${rss1} KiB, open fds ${fds0} -> ${fds1}"
	[ "$fds1" -le $((fds0 + 2)) ] || fail "descriptors grew from $fds0 to $fds1"
	[ "$rss1" -le $((rss0 + rss0 / 10 + 2048)) ] || fail "RSS grew from $rss0 to $rss1 KiB"
}

run_tests
