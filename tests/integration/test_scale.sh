#!/bin/sh
# Scale regression guards that stay in `make test` (issue 14, item 6): at
# 2,000 Loopback workspaces (100 per file, the specs of bench/plan.sh)
# against wsr-sim with instant provisioning, a plan with no changes stays
# under a peak-RSS, a request-count and a time ceiling, its time grows
# linearly from 1,000 to 2,000 workspaces, and an apply of one changed spec
# sends the listing pages and a handful of requests, not one per workspace.
# `make bench` measures the same at 10,000; this catches the regressions
# (per-workspace requests, quadratic work, a memory blow-up) in CI.
#
# The 2,000 workspaces are applied once per run (12-26 s here) and the
# emulator's data and the specs with their state are copied into each test.
. "$(dirname "$0")/lib.sh"

N=2000
HALF=$((N / 2))
PAGES=$(((N + 499) / 500)) # the listing serves 500 workspaces a page
# Ceilings, from measurements on the 2-core machine (load average ~1.8),
# 2026-12-04 03:05-03:16 UTC, commits c54738d and 095acd7: a plan of 2,000
# with no changes took 0.19-0.36 s wall, 47-49 MiB peak RSS and 5 requests
# (the organization and 4 listing pages); an apply of one changed spec
# 0.31-0.51 s, 84-88 MiB and 9 requests; plan CPU from 1,000 to 2,000 grew
# 1.48-1.63x (interleaved, best of 5).
RSS_CEILING_KB=$((75 * 1024))        # about 1.5x the 49 MiB measured
APPLY_RSS_CEILING_KB=$((130 * 1024)) # about 1.5x the 88 MiB of the apply
PLAN_REQ_CEILING=$((PAGES + 4))
APPLY_REQ_CEILING=$((PAGES + 8))
PLAN_SECONDS_CEILING=5 # 15x the measured: the machine is shared
RATIO_CEILING=3        # time(2N) / time(N): linear is 2, quadratic 4

# The time and memory ceilings hold for the ordinary build; under a
# sanitizer or valgrind (WSR_TEST_UNTIMED=1, or a sanitized binary) the
# figures are printed and the request ceilings still checked.
untimed=${WSR_TEST_UNTIMED:-0}
grep -qa -e __asan_init -e __tsan_init "$WSR" && untimed=1

SCALE_CACHE=$(mktemp -d)
trap 'rm -rf "$SCALE_CACHE"' EXIT

# gen DIR FROM TO: the workspaces FROM..TO-1 of bench/plan.sh, 100 a file.
gen() {
	mkdir -p "$1"
	awk -v dir="$1" -v from="$2" -v to="$3" 'BEGIN {
	for (i = from; i < to; i++) {
		f = sprintf("%s/ws-%03d.yaml", dir, int(i / 100));
		printf "---\napiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata:\n  name: bench-%05d\n  labels: {team: t%d}\nspec:\n  organization: acme\n  project: %s\n  type: kubernetes\n  metadata: {costCenter: \"%d\"}\n  kubernetes: {version: \"1.30.2\", controlPlane: single_node, ingress: false}\n  dns: {provider: cloudflare, hostnamePattern: \"{name}.{organization}.example.net\"}\n  maintenance:\n    enabled: true\n    schedule: {0: 3, 1: 3, 2: 3, 3: 3, 4: 3, 5: 5, 6: 5}\n    priorityHour: 4\n    compute: {autoUpdate: true}\n    kubernetes: {autoPatch: true}\n", i, i % 20, (i % 2) ? "payments" : "sandbox", 1000 + i > f
	}
}'
}

# sim_stop: stops the emulator sim_start started last (its data stays).
sim_stop() {
	pid=$(tail -n 1 "$T/.pids")
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# snapshot NAME: the emulator's data and specs/ (with the state) as they are
# now, kept in $SCALE_CACHE/NAME; the emulator is stopped for the copy.
snapshot() {
	sim_stop
	mkdir -p "$SCALE_CACHE/$1"
	cp -r "$SIM_DIR/data" "$SCALE_CACHE/$1/data" && cp -r specs "$SCALE_CACHE/$1/specs"
}

# setup: applies HALF workspaces (kept as "half"), then the rest (kept as
# "full"), in a folder of its own whose emulator it stops itself.
setup() {
	(
		T=$T/setup
		mkdir -p "$T" && cd "$T" || exit 1
		trap 'for p in $(cat "$T/.pids" 2>/dev/null); do kill "$p" 2>/dev/null; done' EXIT
		sim_start && use_sim specs && gen specs 0 "$HALF" || exit 1
		start=$(date +%s)
		run "$WSR" apply specs --auto-approve --parallelism 8
		expect_rc 0
		expect_out "$HALF succeeded"
		snapshot half || exit 1
		sim_start && use_sim specs && gen specs "$HALF" "$N" || exit 1
		run "$WSR" apply specs --auto-approve --parallelism 8
		expect_rc 0
		expect_out "$HALF succeeded"
		snapshot full || exit 1
		echo "setup: applied $N workspaces in $(($(date +%s) - start)) s" >&2
		touch "$SCALE_CACHE/ready"
	)
}

# platform NAME [DIR]: DIR/specs (DIR is $T unless given) and an emulator
# serving the workspaces of snapshot NAME (half: HALF workspaces, full: N)
# from DIR/sim, made by setup on first use. SIM_URL is that emulator's.
platform() {
	[ -f "$SCALE_CACHE/ready" ] || setup || fail "setup of $N workspaces failed"
	dir=${2:-$T}
	rm -rf "$dir/sim" "$dir/specs"
	mkdir -p "$dir/sim"
	cp -r "$SCALE_CACHE/$1/data" "$dir/sim/data" && cp -r "$SCALE_CACHE/$1/specs" "$dir/specs" ||
		fail "copy of snapshot $1"
	test_dir=$T
	T=$dir
	sim_start
	rc=$?
	T=$test_dir
	[ "$dir" = "$T" ] || cat "$dir/.pids" >>"$T/.pids" # stopped as the test ends
	[ "$rc" -eq 0 ] || fail "wsr-sim did not start"
	use_sim "$dir/specs"
}

# measured CMD...: runs CMD; sets WALL (s), CPU (user + sys, s), RSS (peak,
# KiB) and REQ (requests the emulator served meanwhile). From the child's
# rusage, read by python3: GNU time prints CPU to 10 ms, too coarse for a
# ratio of 0.1 s runs.
measured() {
	before=$(sim_requests)
	python3 -c '
import os, resource, subprocess, sys, time
t = time.monotonic()
with open(sys.argv[1], "w") as out, open(sys.argv[2], "w") as err:
    rc = subprocess.call(sys.argv[4:], stdout=out, stderr=err)
wall = time.monotonic() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[3], "w") as f:
    f.write("%d %.2f %.4f %d\n" % (rc, wall, r.ru_utime + r.ru_stime, r.ru_maxrss))
' "$T/stdout" "$T/stderr" "$T/time.out" "$@"
	after=$(sim_requests)
	read -r RC WALL CPU RSS <"$T/time.out"
	if [ -n "${WSR_KEEP_DIR:-}" ]; then # as run does, for the secret scan
		cat "$T/stdout" >>"$T/.runs.stdout"
		cat "$T/stderr" >>"$T/.runs.stderr"
	fi
	REQ=$((after - before))
}

# drop_platform: stops the test's emulators and deletes their copies of the
# platform, which are not wsr's output: left out of what the secret scan
# reads (24 MB and 2,000 files at 2,000 workspaces).
drop_platform() {
	for p in $(cat "$T/.pids"); do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$T/sim/data" "$T/half/sim/data" "$T/setup/sim/data"
}

t_plan_of_2000_no_changes_under_ceilings() {
	platform full
	measured "$WSR" plan specs --detailed-exitcode
	expect_rc 0
	expect_out "($N workspaces)"
	echo "figure: plan of $N, no changes: ${WALL} s wall, $(printf %.2f "$CPU") s CPU, $((RSS / 1024)) MiB peak RSS, $REQ requests"
	[ "$REQ" -le "$PLAN_REQ_CEILING" ] ||
		fail "the plan sent $REQ requests, ceiling $PLAN_REQ_CEILING ($PAGES listing pages + 4)"
	if [ "$untimed" != 1 ]; then
		[ "$RSS" -le "$RSS_CEILING_KB" ] ||
			fail "plan peak RSS $((RSS / 1024)) MiB, ceiling $((RSS_CEILING_KB / 1024)) MiB"
		awk -v w="$WALL" -v c="$PLAN_SECONDS_CEILING" 'BEGIN { exit !(w <= c) }' ||
			fail "plan took $WALL s, ceiling $PLAN_SECONDS_CEILING s"
	fi
	drop_platform
}

# best_cpu SPECS: the least CPU time of one more plan of SPECS with no
# changes than was seen before (CPU, not wall: on a shared machine the wait
# for a core is not wsr's work). SIM_URL must be the emulator of SPECS.
best_cpu() {
	measured "$WSR" plan "$1" --detailed-exitcode
	expect_rc 0
	best=$2
	if [ -z "$best" ] || awk -v a="$CPU" -v b="$best" 'BEGIN { exit !(a < b) }'; then
		best=$CPU
	fi
	echo "$best"
}

# Both sizes are measured in turn, five times each, so both see the same
# load, and the least of each is kept: best of 3 one size after the other
# gave ratios from 1.62 to 2.75 on the loaded machine.
t_plan_time_grows_linearly() {
	platform half "$T/half"
	url_half=$SIM_URL
	platform full
	url_full=$SIM_URL
	cpu1="" cpu2=""
	for _ in 1 2 3 4 5; do
		SIM_URL=$url_half
		cpu1=$(best_cpu half/specs "$cpu1") || exit 1
		SIM_URL=$url_full
		cpu2=$(best_cpu specs "$cpu2") || exit 1
	done
	drop_platform
	ratio=$(awk -v a="$cpu2" -v b="$cpu1" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 99) }')
	cpu1=$(printf '%.3f' "$cpu1") cpu2=$(printf '%.3f' "$cpu2")
	echo "figure: plan CPU, best of 5: $HALF workspaces ${cpu1} s, $N ${cpu2} s, ratio $ratio (linear 2, quadratic 4)"
	[ "$untimed" = 1 ] || awk -v r="$ratio" -v c="$RATIO_CEILING" 'BEGIN { exit !(r <= c) }' ||
		fail "plan CPU grew ${ratio}x from $HALF to $N workspaces, ceiling ${RATIO_CEILING}x: more than linear"
}

t_apply_of_one_change_sends_few_requests() {
	platform full
	# one workspace of the 2,000 gets another Wednesday hour
	sed '0,/3: 3, 4: 3/s//3: 7, 4: 3/' specs/ws-007.yaml >ws.tmp && mv ws.tmp specs/ws-007.yaml
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 2
	expect_out "1 to update"
	measured "$WSR" apply specs --auto-approve
	expect_rc 0
	expect_out "1 succeeded"
	echo "figure: apply of 1 changed among $N: ${WALL} s wall, $((RSS / 1024)) MiB peak RSS, $REQ requests"
	[ "$REQ" -le "$APPLY_REQ_CEILING" ] ||
		fail "the apply sent $REQ requests, ceiling $APPLY_REQ_CEILING ($PAGES listing pages + 8)"
	[ "$untimed" = 1 ] || [ "$RSS" -le "$APPLY_RSS_CEILING_KB" ] ||
		fail "apply peak RSS $((RSS / 1024)) MiB, ceiling $((APPLY_RSS_CEILING_KB / 1024)) MiB"
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
	drop_platform
}

run_tests
