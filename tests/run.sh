#!/bin/sh
# Runs every test: each cmocka unit binary, then each integration script.
# Prints one line per failing group, and ends with "N passed, N failed".
# WSR_BIN: folder with wsr and wsr-sim; WSR_UNIT: folder with unit binaries.
# TESTS=pattern runs only the groups whose name contains pattern.
set -u
: "${WSR_BIN:?set WSR_BIN}" "${WSR_UNIT:?set WSR_UNIT}"
here=$(cd "$(dirname "$0")" && pwd)
export WSR_BIN
passed=0
failed=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

want() { [ -z "${TESTS:-}" ] || case "$1" in *"$TESTS"*) return 0 ;; *) return 1 ;; esac; }

for t in "$WSR_UNIT"/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	want "$name" || continue
	"$t" >"$log/out" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log/out" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log/out" | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi # crashed before reporting
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		echo "FAIL $name (unit):"
		sed 's/^/    /' "$log/out" | tail -n 40
	else
		echo "ok   $name ($p)"
	fi
done

for s in "$here"/integration/test_*.sh; do
	[ -f "$s" ] || continue
	name=$(basename "$s" .sh)
	want "$name" || continue
	start=$(date +%s)
	sh "$s" >"$log/out" 2>&1
	rc=$?
	p=$(grep -c '^PASS ' "$log/out")
	f=$(grep -c '^FAIL ' "$log/out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p))
	failed=$((failed + f))
	secs=$(($(date +%s) - start))
	if [ "$f" -ne 0 ]; then
		echo "FAIL $name (integration, ${secs}s):"
		sed 's/^/    /' "$log/out" | tail -n 60
	else
		echo "ok   $name ($p, ${secs}s)"
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
