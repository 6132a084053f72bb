#!/bin/sh
# Runs every fuzz target built in DIR (make fuzz) for FUZZ_SECONDS each, from
# a seed corpus of real inputs (its tests/fuzz/<name>.seeds) plus what
# earlier runs found, with the target's dictionary when it has one. A crash,
# leak, timeout or out-of-memory fails the run; libFuzzer writes the input
# into tests/fuzz/regressions/<target>/, which `make test` then replays
# (test_fuzz_<name>, tests/fuzz/replay.c): fix the defect and commit the file.
# Prints each target's runs so docs/reliability.md can record them.
set -u
dir=${1:?usage: run.sh DIR}
secs=${FUZZ_SECONDS:-60}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
failed=0

# seeds SHORT CORPUS: copies the real inputs a target starts from, named by
# its seed list tests/fuzz/SHORT.seeds (lines "DIR GLOB"; replay.c reads
# the same list in `make test`).
seeds() {
	grep -v '^#' "$here/$1.seeds" | while read -r d g; do
		find "$top/$d" -name "$g" -type f
	done | while read -r f; do cp "$f" "$2/" 2>/dev/null; done
}

for bin in "$dir"/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	short=${name#fuzz_}
	corpus="$top/build/fuzz/corpus/$name"
	regress="$here/regressions/$short"
	mkdir -p "$corpus" "$regress"
	seeds "$short" "$corpus"
	dict=""
	[ -f "$here/$short.dict" ] && dict="-dict=$here/$short.dict"
	log="$top/build/fuzz/$name.log"
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix="$regress/" $dict "$corpus" "$regress" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' "$log" | tail -n 1)
	if [ "$rc" -ne 0 ]; then
		echo "FAIL $name (exit $rc): $(grep -m1 -E 'ERROR|SUMMARY' "$log")"
		echo "     input kept in $regress/; log: $log"
		failed=$((failed + 1))
	else
		echo "ok   $name: ${runs:-?}"
	fi
done
[ "$failed" -eq 0 ]
