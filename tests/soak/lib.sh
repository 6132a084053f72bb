# lib.sh: what the soak campaigns (tests/soak/*.sh, `make soak`) share, on
# top of the integration tests' harness (tests/integration/lib.sh: sim_start,
# use_sim, run). A campaign sources this, calls soak_init, counts its
# violations with violation, prints its figures with figure, and ends with
# soak_end, whose exit status is non-zero when any violation was counted.
#
# Only 127.0.0.1 is ever contacted.

SOAK_HERE=$(cd "$(dirname "$0")" && pwd)
# the binaries: `make soak` passes them; run by hand, the tree's bin/
WSR_BIN=${WSR_BIN:-$(cd "$SOAK_HERE/../.." && pwd)/bin}
export WSR_BIN
# shellcheck source=../integration/lib.sh
. "$SOAK_HERE/../integration/lib.sh"

# soak_init NAME: a scratch directory $T (also the working directory),
# removed at the end unless SOAK_KEEP=1; emulators and daemons started
# through sim_start or listed in $T/.pids are stopped on exit.
soak_init() {
	SOAK_NAME=$1
	T=$(mktemp -d "${TMPDIR:-/tmp}/wsr-soak-$1.XXXXXX")
	VIOLATIONS=0
	cd "$T" || exit 1
	trap soak_cleanup EXIT
	trap 'exit 130' INT TERM
	echo "== soak $SOAK_NAME ($(date -u +%Y-%m-%dT%H:%M:%SZ), scratch $T)"
}

soak_cleanup() {
	for p in $(cat "$T/.pids" 2>/dev/null); do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	cd /
	if [ "${SOAK_KEEP:-0}" = 1 ] || [ "$VIOLATIONS" -ne 0 ]; then
		echo "   (scratch kept: $T)"
	else
		rm -rf "$T"
	fi
}

# violation WHAT: counts one and says what, at once (a long campaign shows
# its first failure while it still runs).
violation() {
	VIOLATIONS=$((VIOLATIONS + 1))
	echo "   VIOLATION: $*"
}

# figure NAME VALUE: one line of the campaign's figures.
figure() { printf '   %-40s %s\n' "$1" "$2"; }

soak_end() {
	if [ "$VIOLATIONS" -eq 0 ]; then
		echo "== soak $SOAK_NAME: ok"
		exit 0
	fi
	echo "== soak $SOAK_NAME: $VIOLATIONS violation(s)"
	exit 1
}

# rand_ms VAR MAX: sets VAR to a uniformly random whole number of
# milliseconds in [0, MAX], the next draw of the sequence SOAK_SEED names
# (printed by the campaign, so a schedule can be replayed).
SOAK_SEED=${SOAK_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
SOAK_DRAW=0
rand_ms() {
	SOAK_DRAW=$((SOAK_DRAW + 1))
	eval "$1=\$(awk -v s=\"\$SOAK_SEED\" -v k=\"\$SOAK_DRAW\" -v m=\"\$2\" \
		'BEGIN { srand(s); for (i = 1; i < k; i++) rand(); printf \"%d\", rand() * (m + 1) }')"
}

# ms_to_s MS: "1.234" for sleep(1).
ms_to_s() { awk -v m="$1" 'BEGIN { printf "%.3f\n", m / 1000 }'; }

# now_ms: wall clock in milliseconds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# specs DIR N [VERSION] [PROJECT] [COST]: DIR/wsr.yaml for the emulator
# (use_sim) and N workspace specs s001..sN in one file, in PROJECT (default
# sandbox) with metadata costCenter COST (default 100): every third is a
# kubernetes workspace on VERSION (default 1.29.4), the others baremetal.
specs() {
	use_sim "$1"
	awk -v n="$2" -v v="${3:-1.29.4}" -v p="${4:-sandbox}" -v c="${5:-100}" 'BEGIN {
		for (i = 1; i <= n; i++) {
			printf "---\napiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata: {name: s%03d}\n", i
			printf "spec: {organization: acme, project: %s, metadata: {costCenter: \"%s\"}, ", p, c
			if (i % 3 == 0)
				printf "type: kubernetes, kubernetes: {version: \"%s\"}}\n", v
			else
				printf "type: baremetal}\n"
		}
	}' >"$1/many.yaml"
}

# platform_list FILE: the emulator's own listing of acme's workspaces, one
# "name id project version state" line per item, in the order served (all
# pages, 100 a page so a listing of 200 takes the cursor too).
platform_list() {
	: >"$1"
	cursor=""
	pages=0
	while :; do
		curl -s -m 30 -H "Authorization: Bearer test-admin-key" \
			"$SIM_URL/v1/organizations/acme/workspaces?limit=100$cursor" >"$T/page.json" || return 1
		jq -r '.items[] | "\(.name) \(.id) \(.project) \(.kubernetes.version // "-") \(.state)"' \
			"$T/page.json" >>"$1" 2>/dev/null || return 1
		next=$(jq -r '.nextCursor // empty' "$T/page.json")
		[ -n "$next" ] || return 0
		cursor="&cursor=$next"
		pages=$((pages + 1))
		[ "$pages" -lt 1000 ] || return 1
	done
}

# sim_start_at PORT [SEED]: wsr-sim on 127.0.0.1:PORT with SIM_DIR's data
# (what a restart after a crash needs: the same address, the same --data).
sim_start_at() {
	"$WSR_SIM" serve --api loopback --listen "127.0.0.1:$1" --seed "${2:-$SOAK_HERE/seed.yaml}" \
		--data "$SIM_DIR/data" >"$SIM_DIR/out" 2>>"$SIM_DIR/err" &
	SIM_PID=$!
	echo "$SIM_PID" >>"$T/.pids"
	i=0
	while [ $i -lt 200 ]; do
		grep -q '^listening on' "$SIM_DIR/out" 2>/dev/null && return 0
		kill -0 "$SIM_PID" 2>/dev/null || break
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# sim_pid: the pid of the emulator sim_start started last.
sim_pid() { tail -n 1 "$T/.pids"; }

# fault JSON: adds one fault to the emulator (POST /_sim/faults).
fault() {
	code=$(curl -s -m 10 -o "$T/fault.out" -w '%{http_code}' -X POST -d "$1" "$SIM_URL/_sim/faults")
	[ "$code" = 201 ] || {
		echo "   cannot add fault $1: $code $(cat "$T/fault.out")" >&2
		return 1
	}
}
faults_clear() { curl -s -m 10 -X DELETE "$SIM_URL/_sim/faults" >/dev/null; }

# rss_kb PID / fds PID: resident memory and open descriptors of a process.
rss_kb() { sed -n 's/^VmRSS:[ \t]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" | wc -l; }
