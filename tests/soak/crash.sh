#!/bin/sh
# crash.sh: crash consistency. SOAK_TRIALS times (default 100), a fresh
# emulator and a 200-workspace apply (SOAK_WORKSPACES) that is SIGKILLed at
# a uniformly random time within the length of an uninterrupted apply
# (the median of three measured first); then SOAK_SIM_TRIALS times (default 20) the emulator
# itself is SIGKILLed mid-apply and restarted, 0 to 3 s later, on the same
# port and --data directory (the apply in flight rides it out on its
# retries, or fails and is run again). Each
# trial is followed by `wsr apply` and `wsr plan --detailed-exitcode`, which
# must be 0, and is judged by the emulator's own listing, not by wsr:
#   corrupt      the state (or its backup) cannot be read after the kill
#   lost         a spec'd workspace missing from the platform or the state
#                once converged
#   duplicated   a name or id listed twice, a workspace no spec asks for,
#                or one whose id changed (deleted and made again)
#   unconverged  the apply or the plan after the kill did not exit 0
# Every count must be 0.
. "$(dirname "$0")/lib.sh"
soak_init crash
TRIALS=${SOAK_TRIALS:-100}
SIM_TRIALS=${SOAK_SIM_TRIALS:-20}
N=${SOAK_WORKSPACES:-200}
PAR=${SOAK_PARALLELISM:-8}
corrupt=0 lost=0 dup=0 unconverged=0 partial=0 finished=0 sim_survived=0 recorded_sum=0

fresh_platform() {
	[ -z "${SIM_PID:-}" ] || { kill -9 "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; }
	rm -rf "$T/sim" "$T/specs"
	sim_start "$SOAK_HERE/seed.yaml" || exit 1
	SIM_PID=$(sim_pid)
	specs "$T/specs" "$N"
}

# check_state WHEN: the state and its backup read back (counts corrupt).
check_state() {
	if ! "$WSR" state list --dir "$T/specs" >"$T/recorded" 2>"$T/state.err"; then
		corrupt=$((corrupt + 1))
		violation "trial $trial: state unreadable $1: $(head -n 3 "$T/state.err")"
		return 1
	fi
	b="$T/specs/.wsr/state.json.backup"
	if [ -e "$b" ] && ! jq -e '.format == "wsr.state/v1"' "$b" >/dev/null 2>&1; then
		corrupt=$((corrupt + 1))
		violation "trial $trial: the backup is not a state $1"
		return 1
	fi
}

# check_listing FILE: no name or id twice, nothing no spec asks for; sets
# LISTED to how many are listed (not printed: a $(...) would lose the counts).
check_listing() {
	d=$(awk '{print $1}' "$1" | sort | uniq -d | wc -l)
	di=$(awk '{print $2}' "$1" | sort | uniq -d | wc -l)
	extra=$(awk -v n="$N" '{ k = substr($1, 2) + 0; if ($1 !~ /^s[0-9][0-9][0-9]$/ || k < 1 || k > n) print }' "$1" | wc -l)
	if [ "$d" -ne 0 ] || [ "$di" -ne 0 ] || [ "$extra" -ne 0 ]; then
		dup=$((dup + d + di + extra))
		violation "trial $trial: listing has $d names and $di ids twice, $extra unasked"
	fi
	LISTED=$(wc -l <"$1" | tr -d ' ')
}

# converge_and_judge apply|sim: the apply and plan after a crash, then the checks.
converge_and_judge() {
	check_state "after the kill" || return
	platform_list "$T/before" || { violation "trial $trial: cannot list the platform"; return; }
	check_listing "$T/before"
	listed=$LISTED
	if [ "$1" = apply ]; then
		[ "$listed" -gt 0 ] && [ "$listed" -lt "$N" ] && partial=$((partial + 1))
		[ "$listed" -eq "$N" ] && finished=$((finished + 1))
		recorded_sum=$((recorded_sum + $(wc -l <"$T/recorded")))
	fi
	run "$WSR" apply "$T/specs" --auto-approve --parallelism "$PAR"
	ok=$RC
	cp "$T/stderr" "$T/apply2.err"
	run "$WSR" plan "$T/specs" --detailed-exitcode
	if [ "$ok" -ne 0 ] || [ "$RC" -ne 0 ]; then
		unconverged=$((unconverged + 1))
		violation "trial $trial: apply exited $ok, plan $RC: $(tail -n 3 "$T/apply2.err") $(tail -n 2 "$T/stdout")"
	fi
	check_state "after the re-apply" || return
	platform_list "$T/after" || { violation "trial $trial: cannot list the platform"; return; }
	check_listing "$T/after"
	missing=$((N - $(awk '{print $1}' "$T/after" | sort -u | wc -l)))
	unrecorded=$((N - $(wc -l <"$T/recorded")))
	if [ "$missing" -ne 0 ] || [ "$unrecorded" -ne 0 ]; then
		lost=$((lost + missing + unrecorded))
		violation "trial $trial: $missing missing from the platform, $unrecorded from the state"
	fi
	# a workspace listed before and after must be the same one
	changed=$(sort "$T/before" | join - "$(sort "$T/after" >"$T/after.s" && echo "$T/after.s")" |
		awk '$2 != $6' | wc -l)
	if [ "$changed" -ne 0 ]; then
		dup=$((dup + changed))
		violation "trial $trial: $changed workspaces got a new id (made again)"
	fi
}

echo "   seed $SOAK_SEED, $N workspaces, parallelism $PAR, $TRIALS apply kills, $SIM_TRIALS emulator kills"

# the length of an uninterrupted apply, the window the kill times are drawn
# from: the median of three, so one slowed by a busy machine does not put
# most kills after the end
trial=0
runs=""
for k in 1 2 3; do
	fresh_platform
	start=$(now_ms)
	run "$WSR" apply "$T/specs" --auto-approve --parallelism "$PAR"
	runs="$runs $(($(now_ms) - start))"
	[ "$RC" -eq 0 ] || { violation "the uninterrupted apply failed: $(tail -n 3 "$T/stderr")"; soak_end; }
done
D=$(echo "$runs" | tr ' ' '\n' | sed '/^$/d' | sort -n | sed -n 2p)
figure "uninterrupted apply of $N (median of 3)" "${D} ms (of$runs)"

kills_ms=""
trial=1
while [ "$trial" -le "$TRIALS" ]; do
	fresh_platform
	rand_ms at "$D"
	kills_ms="$kills_ms $at"
	"$WSR" apply "$T/specs" --auto-approve --parallelism "$PAR" >"$T/apply.out" 2>&1 &
	pid=$!
	sleep "$(ms_to_s "$at")"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	converge_and_judge apply
	[ $((trial % 20)) -ne 0 ] || echo "   ... $trial of $TRIALS apply kills"
	trial=$((trial + 1))
done

# the emulator killed mid-apply, restarted on the same port and data
sim_trials_done=0
while [ "$sim_trials_done" -lt "$SIM_TRIALS" ]; do
	fresh_platform
	port=${SIM_URL##*:}
	rand_ms at "$D"
	rand_ms down 3000
	"$WSR" apply "$T/specs" --auto-approve --parallelism "$PAR" >"$T/apply.out" 2>&1 &
	pid=$!
	sleep "$(ms_to_s "$at")"
	kill -9 "$SIM_PID"
	wait "$SIM_PID" 2>/dev/null
	sleep "$(ms_to_s "$down")"
	if ! sim_start_at "$port"; then
		corrupt=$((corrupt + 1))
		violation "trial $trial: the emulator does not restart on its data: $(tail -n 3 "$SIM_DIR/err")"
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		trial=$((trial + 1))
		sim_trials_done=$((sim_trials_done + 1))
		continue
	fi
	wait "$pid"
	[ $? -ne 0 ] || sim_survived=$((sim_survived + 1))
	converge_and_judge sim
	trial=$((trial + 1))
	sim_trials_done=$((sim_trials_done + 1))
done

figure "apply kills" "$TRIALS"
figure "  kill time ms (min / median / max)" "$(echo "$kills_ms" | tr ' ' '\n' | sed '/^$/d' | sort -n |
	awk '{ v[NR] = $1 } END { if (NR) printf "%d / %d / %d", v[1], v[int((NR + 1) / 2)], v[NR] }')"
figure "  killed part-way (0 < listed < $N)" "$partial"
figure "  killed after the platform had all" "$finished"
figure "  recorded in state at the kill (mean)" "$((recorded_sum / TRIALS)) of $N"
figure "emulator kills and restarts" "$SIM_TRIALS"
figure "  apply rode out the restart (exit 0)" "$sim_survived"
figure "corrupt states" "$corrupt"
figure "lost workspaces" "$lost"
figure "duplicated workspaces" "$dup"
figure "did not converge" "$unconverged"
soak_end
