#!/bin/sh
# Runs every test: each cmocka unit binary, then each integration script.
# Prints one line per failing group, and ends with "N passed, N failed".
# WSR_BIN: folder with wsr and wsr-sim; WSR_UNIT: folder with unit binaries.
# TESTS="pattern ..." runs only the groups whose name contains one of the
# patterns (blank-separated).
# A group that runs longer than GROUP_TIMEOUT seconds (default 600) is
# killed with every process it started (timeout(1) signals its process
# group) and counted as failed: a hang fails the suite, it never stalls it.
# When integration tests ran, the secret scan (tests/secrets_scan.sh) reads
# everything they produced and counts as one more test.
# WSR_SANITIZER_LOGS: a folder where the sanitizer writes its reports
# (log_path, as `make test SANITIZE=thread` sets it), so a report from any
# process, an emulator in the background too, is seen: a group after which
# a new report is there fails, and the report is printed.
set -u
: "${WSR_BIN:?set WSR_BIN}" "${WSR_UNIT:?set WSR_UNIT}"
here=$(cd "$(dirname "$0")" && pwd)
export WSR_BIN
limit=${GROUP_TIMEOUT:-600}
passed=0
failed=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
# What every test produced, for the secret scan at the end (lib.sh keeps it);
# set WSR_KEEP_DIR to an empty folder to keep it after the run.
WSR_KEEP_DIR=${WSR_KEEP_DIR:-$log/kept}
export WSR_KEEP_DIR
mkdir -p "$WSR_KEEP_DIR/unit"
ran=0 # integration tests run

want() {
	[ -z "${TESTS:-}" ] && return 0
	for pat in $TESTS; do
		case "$1" in *"$pat"*) return 0 ;; esac
	done
	return 1
}

logs=${WSR_SANITIZER_LOGS:-}
if [ -n "$logs" ]; then
	rm -rf "$logs"
	mkdir -p "$logs/seen"
fi

# reports: the number of sanitizer reports the last group left; their
# beginnings go to $log/san, and each moves to $logs/seen to be read whole.
reports() {
	n=0
	: >"$log/san"
	for r in ${logs:+"$logs"/*}; do
		[ -f "$r" ] || continue
		n=$((n + 1))
		{ echo "--- $logs/seen/$(basename "$r"):" && head -n 50 "$r"; } >>"$log/san"
		mv "$r" "$logs/seen/"
	done
	echo "$n"
}

for t in "$WSR_UNIT"/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	want "$name" || continue
	timeout -k 10 "$limit" "$t" >"$log/out" 2>&1
	rc=$?
	[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || echo "(timed out after ${limit}s, or killed)" >>"$log/out"
	cp "$log/out" "$WSR_KEEP_DIR/unit/$name.out"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log/out" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log/out" | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi # crashed before reporting
	san=$(reports)
	[ "$san" -eq 0 ] || f=$((f + san))
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		echo "FAIL $name (unit):"
		sed 's/^/    /' "$log/out" | tail -n 40
		sed 's/^/    /' "$log/san"
	else
		echo "ok   $name ($p)"
	fi
done

for s in "$here"/integration/test_*.sh; do
	[ -f "$s" ] || continue
	name=$(basename "$s" .sh)
	want "$name" || continue
	start=$(date +%s)
	timeout -k 10 "$limit" sh "$s" >"$log/out" 2>&1
	rc=$?
	[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || echo "FAIL (timed out after ${limit}s, or killed: the test after the last PASS did not finish)" >>"$log/out"
	p=$(grep -c '^PASS ' "$log/out")
	f=$(grep -c '^FAIL ' "$log/out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	san=$(reports)
	[ "$san" -eq 0 ] || f=$((f + san))
	passed=$((passed + p))
	failed=$((failed + f))
	ran=$((ran + p + f))
	secs=$(($(date +%s) - start))
	if [ "$f" -ne 0 ]; then
		echo "FAIL $name (integration, ${secs}s):"
		sed 's/^/    /' "$log/out" | tail -n 60
		sed 's/^/    /' "$log/san"
	else
		echo "ok   $name ($p, ${secs}s)"
		# measured figures a test prints ("figure: failover: 3.1 s ...") are
		# shown even when it passes, so they can be copied into the docs
		grep '^figure: ' "$log/out" | sed 's/^/    /'
	fi
done

# No output, log, state, plan file or daemon answer of any test may hold a
# key, token or secret the tests use (tests/secrets_scan.sh says which).
if [ "$ran" -gt 0 ]; then
	if sh "$here/secrets_scan.sh" "$WSR_KEEP_DIR" "$ran" >"$log/out" 2>&1; then
		passed=$((passed + 1))
		echo "ok   secret_scan ($(tail -n 1 "$log/out"))"
	else
		failed=$((failed + 1))
		echo "FAIL secret_scan:"
		sed 's/^/    /' "$log/out" | tail -n 60
	fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
