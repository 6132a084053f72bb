#!/bin/sh
# faults.sh: applies through a flaky platform. For each fault kind (5xx
# before serving, 5xx after serving, 429 without and with Retry-After,
# connection reset before and after serving, slow answers before and after
# serving), a fresh emulator and four applies of SOAK_FAULT_WORKSPACES
# (default 60) workspaces, every one under that kind injected into GET, POST
# and PATCH at a rate from SOAK_FAULT_RATES (default 10 25 40 percent,
# taken in turn): creations, updates (metadata), upgrades (1.29.4 to 1.31.1,
# two hops) and transfers (sandbox to payments). Every other kind runs with
# one-second tasks, so retries also meet work in flight. A faulted apply
# may fail when a request's retries run out (counted, its error shown); it
# is run again, up to SOAK_FAULT_APPLIES times (default 5). Then, with the
# faults removed, `wsr plan --detailed-exitcode` must be 0, and the
# emulator's own records must show:
#   duplicated   a name or id listed twice, or not asked for; more than one
#                creation or transfer task for a workspace
#   double hop   more upgrade tasks for a workspace than the path has hops
#   unconverged  the plan after the faulted applies is not 0, or a
#                workspace is not on the spec's project or version
. "$(dirname "$0")/lib.sh"
soak_init faults
N=${SOAK_FAULT_WORKSPACES:-60}
RATES=${SOAK_FAULT_RATES:-10 25 40}
APPLIES=${SOAK_FAULT_APPLIES:-5}
PAR=${SOAK_PARALLELISM:-8}
KINDS="5xx-before 5xx-after 429 429-retry-after reset-before reset-after slow-before slow-after"
dup=0 hops=0 unconverged=0 failed_applies=0 applies=0 phases=0
: >"$T/errors"
echo "   $N workspaces, rates $RATES %, up to $APPLIES applies a phase, parallelism $PAR"

# next_rate: RATE is the next of RATES, in turn.
NRATES=$(echo $RATES | wc -w)
TURN=0
next_rate() {
	RATE=$(echo $RATES | cut -d ' ' -f $((TURN % NRATES + 1)))
	TURN=$((TURN + 1))
}

# inject KIND PERCENT: that fault into every GET, POST and PATCH of the API.
inject() {
	case $1 in
	5xx-before) f='"kind":"respond","status":503,"code":"unavailable"' ;;
	5xx-after) f='"kind":"respond","status":502,"code":"bad_gateway","when":"after"' ;;
	429) f='"kind":"respond","status":429,"code":"rate_limited"' ;;
	429-retry-after) f='"kind":"respond","status":429,"code":"rate_limited","retryAfter":1' ;;
	reset-before) f='"kind":"reset"' ;;
	reset-after) f='"kind":"reset","when":"after"' ;;
	slow-before) f='"kind":"slow","ms":300' ;;
	slow-after) f='"kind":"slow","ms":300,"when":"after"' ;;
	esac
	for m in GET POST PATCH; do
		fault "{$f,\"method\":\"$m\",\"path\":\"/v1/\",\"percent\":$2,\"count\":1000000}" || exit 1
	done
}

# phase KIND WHAT VERSION PROJECT COST: the specs changed to that, applied
# under the fault until an apply exits 0 (at most APPLIES times).
phase() {
	kind=$1 what=$2
	specs "$T/specs" "$N" "$3" "$4" "$5"
	next_rate
	inject "$kind" "$RATE"
	k=0
	while [ "$k" -lt "$APPLIES" ]; do
		k=$((k + 1))
		applies=$((applies + 1))
		run "$WSR" apply "$T/specs" --auto-approve --parallelism "$PAR"
		[ "$RC" -eq 0 ] && break
		failed_applies=$((failed_applies + 1))
		grep -m 1 'error' "$T/stderr" | sed "s/^/$kind $what $RATE%: /" >>"$T/errors"
	done
	faults_clear
	phases=$((phases + 1))
	run "$WSR" plan "$T/specs" --detailed-exitcode
	if [ "$RC" -ne 0 ]; then
		unconverged=$((unconverged + 1))
		violation "$kind $what at $RATE%: plan exits $RC after $k applies: $(tail -n 3 "$T/stdout") $(tail -n 2 "$T/stderr")"
	fi
	judge "$kind $what at $RATE%" "$3" "$4"
	printf '   %-16s %-9s %3s%%  %d apply(s), last exit %d\n' "$kind" "$what" "$RATE" "$k" "$RC"
}

# tasks TYPE: "workspace count" of the emulator's tasks of that type.
tasks() {
	cat "$SIM_DIR"/data/tasks/*.json 2>/dev/null | jq -r --arg t "$1" 'select(.type == $t) | .workspace' |
		sort | uniq -c | awk '{print $2, $1}'
}

# judge WHERE VERSION PROJECT: the emulator's listing and tasks.
judge() {
	platform_list "$T/list" || { violation "$1: cannot list the platform"; return; }
	d=$(awk '{print $1}' "$T/list" | sort | uniq -d | wc -l)
	di=$(awk '{print $2}' "$T/list" | sort | uniq -d | wc -l)
	n=$(wc -l <"$T/list")
	if [ "$d" -ne 0 ] || [ "$di" -ne 0 ] || [ "$n" -ne "$N" ]; then
		dup=$((dup + d + di))
		violation "$1: $n listed ($N asked for), $d names and $di ids twice"
	fi
	twice=$(tasks create | awk '$2 > 1' | wc -l)
	moved=$(tasks transfer | awk '$2 > 1' | wc -l)
	if [ "$twice" -ne 0 ] || [ "$moved" -ne 0 ]; then
		dup=$((dup + twice + moved))
		violation "$1: $twice workspaces created and $moved transferred more than once"
	fi
	want=0
	[ "$2" = 1.30.2 ] && want=1
	[ "$2" = 1.31.1 ] && want=2
	over=$(tasks upgrade | awk -v w="$want" '$2 > w' | wc -l)
	if [ "$over" -ne 0 ]; then
		hops=$((hops + over))
		violation "$1: $over workspaces upgraded more hops than the path has ($want): $(tasks upgrade | awk -v w="$want" '$2 > w' | head -n 3 | tr '\n' ' ')"
	fi
	off=$(awk -v v="$2" -v p="$3" '$3 != p || ($4 != "-" && $4 != v) || $5 != "active"' "$T/list" | wc -l)
	if [ "$off" -ne 0 ]; then
		unconverged=$((unconverged + 1))
		violation "$1: $off workspaces not on $3/$2 or not active: $(awk -v v="$2" -v p="$3" '$3 != p || ($4 != "-" && $4 != v) || $5 != "active"' "$T/list" | head -n 2 | tr '\n' ' ')"
	fi
}

round=0
for kind in $KINDS; do
	round=$((round + 1))
	rm -rf "$T/sim" "$T/specs"
	seed=$SOAK_HERE/seed.yaml
	if [ $((round % 2)) -eq 0 ]; then
		sed 's/seconds: 0/seconds: 1/' "$seed" >"$T/seed-slow.yaml"
		seed=$T/seed-slow.yaml
	fi
	sim_start "$seed" || exit 1
	phase "$kind" create 1.29.4 sandbox 100
	phase "$kind" update 1.29.4 sandbox 200
	phase "$kind" upgrade 1.31.1 sandbox 200
	phase "$kind" transfer 1.31.1 payments 200
	kill "$(sim_pid)" 2>/dev/null
	wait "$(sim_pid)" 2>/dev/null
done

figure "phases (kind x create/update/upgrade/transfer)" "$phases"
figure "applies under faults" "$applies"
figure "  of which failed (retries ran out)" "$failed_applies"
figure "duplicated" "$dup"
figure "double upgrade hops" "$hops"
figure "did not converge" "$unconverged"
if [ -s "$T/errors" ]; then
	echo "   errors of the failed applies (first line each, up to 30 distinct):"
	sed 's/ [0-9][0-9]* attempts/ N attempts/' "$T/errors" | sort | uniq -c | sort -rn | head -n 30 | sed 's/^/     /'
fi
soak_end
