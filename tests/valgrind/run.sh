#!/bin/sh
# make valgrind: runs every cmocka unit binary, then one end-to-end
# validate/plan/apply/plan of examples/basic (Loopback) and of examples/kcp
# (kcp) against `wsr-sim serve` on 127.0.0.1, with wsr and wsr-sim both
# under valgrind's memcheck. A memory error or a definite leak in any of
# these processes fails the run (--error-exitcode=1; its report is printed).
# tests/valgrind/memcheck.supp holds suppressions for third-party libraries
# only. Prints one line per step and ends with "N passed, N failed".
# WSR_BIN: folder with wsr and wsr-sim; WSR_UNIT: folder with unit binaries.
# TESTS=pattern runs only the steps whose name contains it (unit binaries
# by name; the end-to-end steps are e2e-loopback and e2e-kcp).
set -u
: "${WSR_BIN:?set WSR_BIN}" "${WSR_UNIT:?set WSR_UNIT}"
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
limit=${GROUP_TIMEOUT:-1200}
work=$(mktemp -d "${TMPDIR:-/tmp}/wsr-valgrind.XXXXXX")
sims=""
cleanup() {
	for p in $sims; do kill "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
# the integration tests' wsr.yaml and kubeconfig writers (use_sim, use_kcp)
# shellcheck source=tests/integration/lib.sh
. "$here/../integration/lib.sh"
# memcheck runs code 20 to 50 times slower: the unit tests keep checking
# what their performance cases compute, not how fast (tests/unit/test_state.c)
export WSR_TEST_UNTIMED=1
passed=0
failed=0

# Memory errors and definite leaks count; memory still reachable at exit
# (the global tables libcurl, OpenSSL and libgit2 keep by design) does not.
# In VALGRIND_OPTS, so every process below, foreground or not, gets them.
case "$here" in *[[:space:]]*)
	echo "valgrind: the checkout's path must not contain blanks: $here" >&2
	exit 2
	;;
esac
export VALGRIND_OPTS="-q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite
--show-leak-kinds=definite --num-callers=40 --suppressions=$here/memcheck.supp"

# vg LOG CMD...: CMD under memcheck, bounded by the group timeout; the
# report goes to LOG, apart from the output the steps check.
vg() {
	log=$1
	shift
	timeout -k 10 "$limit" valgrind --log-file="$log" "$@"
}

want() { [ -z "${TESTS:-}" ] || case "$1" in *"$TESTS"*) return 0 ;; *) return 1 ;; esac; }

# verdict NAME OK LOG [OUT]: counts one step (OK is 1 when its exit status
# was the expected one); a failed step prints valgrind's report and the
# tail of its output.
verdict() {
	if [ "$2" = 1 ] && [ ! -s "$3" ]; then
		passed=$((passed + 1))
		echo "ok   $1"
		return 0
	fi
	failed=$((failed + 1))
	echo "FAIL $1"
	sed 's/^/    | /' "$3" 2>/dev/null | tail -n 80
	[ -z "${4:-}" ] || sed 's/^/    > /' "$4" 2>/dev/null | tail -n 30
	return 1
}

# step NAME WANT CMD...: runs CMD under memcheck and expects exit status WANT.
step() {
	name=$1 expect=$2
	shift 2
	start=$(date +%s)
	vg "$work/$name.vg" "$@" >"$work/$name.out" 2>&1
	rc=$?
	ok=0
	[ "$rc" -eq "$expect" ] && ok=1
	[ "$ok" = 1 ] || echo "exit status $rc, expected $expect" >>"$work/$name.out"
	verdict "$name ($(($(date +%s) - start))s)" "$ok" "$work/$name.vg" "$work/$name.out"
}

for t in "$WSR_UNIT"/test_*; do
	[ -f "$t" ] || continue
	[ -x "$t" ] || continue
	name=$(basename "$t")
	want "$name" || continue
	step "$name" 0 "$t"
done

# vg_sim_start API: starts `wsr-sim serve --api API` under memcheck with its
# built-in seed and a data folder; sets SIM_URL and SIM_PID.
vg_sim_start() {
	d=$work/sim-$1
	mkdir -p "$d"
	# not through vg: $! must be the process that SIGTERM stops
	timeout -k 10 "$limit" valgrind --log-file="$d.vg" "$WSR_BIN/wsr-sim" serve --api "$1" \
		--listen 127.0.0.1:0 --data "$d/data" --quiet >"$d/out" 2>"$d/err" &
	SIM_PID=$!
	sims="$sims $SIM_PID"
	i=0
	while [ $i -lt 600 ]; do # valgrind starts slowly: up to 60 s
		SIM_URL=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$d/out" 2>/dev/null | head -n 1)
		[ -n "$SIM_URL" ] && return 0
		kill -0 "$SIM_PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	cat "$d/err" >>"$d.vg"
	return 1
}

# vg_sim_stop API: SIGTERM (timeout(1) passes it on), then the emulator's own
# verdict: it must exit 0 within 60 s with nothing in its memcheck report,
# which includes the leaks found at its exit.
vg_sim_stop() {
	kill -TERM "$SIM_PID" 2>/dev/null
	i=0
	while kill -0 "$SIM_PID" 2>/dev/null && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$SIM_PID" 2>/dev/null
	wait "$SIM_PID"
	rc=$?
	ok=0
	[ "$rc" -eq 0 ] && ok=1
	verdict "e2e-$1-wsr-sim (exit status $rc)" "$ok" "$work/sim-$1.vg" "$work/sim-$1/err"
}

# plan_apply API DIR: the user's main job, each command under memcheck.
plan_apply() {
	step "e2e-$1-validate" 0 "$WSR_BIN/wsr" validate "$2"
	step "e2e-$1-plan" 2 "$WSR_BIN/wsr" plan "$2" --detailed-exitcode
	step "e2e-$1-apply" 0 "$WSR_BIN/wsr" apply "$2" --auto-approve
	step "e2e-$1-plan-again" 0 "$WSR_BIN/wsr" plan "$2" --detailed-exitcode
	step "e2e-$1-state-list" 0 "$WSR_BIN/wsr" state list --dir "$2"
}

if want e2e-loopback; then
	cp -R "$top/examples/basic" "$work/basic"
	if vg_sim_start loopback; then
		use_sim "$work/basic" embedded-admin-key
		plan_apply loopback "$work/basic"
		vg_sim_stop loopback
	else
		verdict "e2e-loopback: wsr-sim did not start" 0 "$work/sim-loopback.vg"
	fi
fi

if want e2e-kcp; then
	cp -R "$top/examples/kcp" "$work/kcp"
	if vg_sim_start kcp; then
		use_kcp "$work/kcp" wsr-embedded-kcp-admin "{style: logicalcluster}"
		plan_apply kcp "$work/kcp"
		vg_sim_stop kcp
	else
		verdict "e2e-kcp: wsr-sim did not start" 0 "$work/sim-kcp.vg"
	fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
