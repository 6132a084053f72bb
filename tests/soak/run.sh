#!/bin/sh
# run.sh: `make soak`. Runs the campaigns (crash, faults, disk, watch; or
# those SOAK_CAMPAIGNS names, e.g. SOAK_CAMPAIGNS="crash disk"), one after
# the other, each printing its figures; says the machine first (the figures
# mean little without it) and ends with one line per campaign. Exits
# non-zero when any campaign counted a violation. The knobs are each
# campaign's (docs/reliability.md, "Campaigns").
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${WSR_BIN:?set WSR_BIN (make soak does)}"
export WSR_BIN
campaigns=${SOAK_CAMPAIGNS:-crash faults disk watch}

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[ \t]*: //p' /proc/cpuinfo | head -n 1)," \
	"$(awk '/MemTotal/ { printf "%d GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)," \
	"load $(cut -d ' ' -f 1-3 /proc/loadavg)"
echo "wsr: $("$WSR_BIN/wsr" version 2>/dev/null | head -n 1), commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)"

summary=""
failed=0
for c in $campaigns; do
	[ -f "$here/$c.sh" ] || {
		echo "no such campaign: $c (have: crash faults disk watch)"
		exit 2
	}
	start=$(date +%s)
	sh "$here/$c.sh"
	rc=$?
	secs=$(($(date +%s) - start))
	if [ "$rc" -eq 0 ]; then
		summary="$summary
ok   $c (${secs}s)"
	else
		summary="$summary
FAIL $c (${secs}s)"
		failed=$((failed + 1))
	fi
done
echo "$summary" | sed '/^$/d'
[ "$failed" -eq 0 ]
