#!/bin/sh
# watch.sh: the daemon over a long run. `wsr watch` on SOAK_WATCH_WORKSPACES
# (default 20) specs, one file each, with a short --interval, until it has
# finished SOAK_RECONCILES reconciles (default 10,000). Every 10th reconcile
# a spec changes (its costCenter); every 7th a fault is injected, in turn: a
# 503, a reset before serving, a reset after serving, a 429, a slow answer,
# and six 503s in a row (more than the retries: that reconcile fails and
# the workspace backs off). RSS and open descriptors are sampled after
# the first SOAK_WARMUP reconciles (default 200: caches, pools and the
# first keep-alive connections are in place by then) and every tenth of
# the run; the campaign fails when RSS grows by more than SOAK_RSS_SLACK_KB
# (default 4096) from the first sample to the last, when the fewest open
# descriptors of the last three samples exceed the most of the first three
# (keep-alive connections make the count move), when the daemon dies, or
# when it has not converged
# (plan --detailed-exitcode 0, every workspace on the platform once) after
# the faults stop.
. "$(dirname "$0")/lib.sh"
. "$SOAK_HERE/../integration/watch_lib.sh"
soak_init watch
N=${SOAK_WATCH_WORKSPACES:-20}
R=${SOAK_RECONCILES:-10000}
WARM=${SOAK_WARMUP:-200}
SLACK=${SOAK_RSS_SLACK_KB:-4096}
INTERVAL=${SOAK_WATCH_INTERVAL:-10ms}
[ "$WARM" -lt "$R" ] || WARM=$((R / 5))
echo "   $N workspaces, $R reconciles, --interval $INTERVAL, samples after $WARM"

sim_start "$SOAK_HERE/seed.yaml" || exit 1
use_sim "$T/specs"
cat >>"$T/specs/wsr.yaml" <<EOF
watch:
  backoff: {initial: 50ms, max: 500ms}
EOF
# spec I COST: workspace w<I> with that costCenter, in its own file
spec() {
	printf 'apiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata: {name: w%03d}\nspec: {organization: acme, project: sandbox, type: baremetal, metadata: {costCenter: "%s"}}\n' \
		"$1" "$2" >"$T/specs/w$1.yaml.tmp" && mv "$T/specs/w$1.yaml.tmp" "$T/specs/w$1.yaml"
}
i=1
while [ "$i" -le "$N" ]; do
	spec "$i" 0
	i=$((i + 1))
done
watch_start "$T/specs" --interval "$INTERVAL" || exit 1
figure "wsr watch pid" "$WATCH_PID"

FAULTS='{"kind":"respond","method":"GET","path":"/v1/","status":503,"code":"unavailable"}
{"kind":"reset","method":"GET","path":"/v1/"}
{"kind":"reset","method":"PATCH","path":"/v1/","when":"after"}
{"kind":"respond","method":"GET","path":"/v1/","status":429,"code":"rate_limited"}
{"kind":"slow","method":"GET","path":"/v1/","ms":200}
{"kind":"respond","method":"PATCH","path":"/v1/","status":503,"code":"unavailable","count":6}'
NF=$(echo "$FAULTS" | wc -l)

next_change=10 next_fault=7 next_sample=$WARM changes=0 faults=0 samples=""
rss0="" fd0="" fd_list="" c=0 stuck=0 last=-1
start=$(now_ms)
while [ "$c" -lt "$R" ]; do
	if ! kill -0 "$WATCH_PID" 2>/dev/null; then
		violation "wsr watch died after $c reconciles: $(tail -n 5 "$T/watch.log")"
		soak_end
	fi
	c=$(reconciles)
	case $c in '' | *[!0-9]*) c=$last ;; esac
	if [ "$c" = "$last" ]; then
		stuck=$((stuck + 1))
		# 3000 polls without progress (a minute and more): the daemon hangs
		[ "$stuck" -lt 3000 ] || { violation "no reconcile for 3000 polls at $c"; soak_end; }
		sleep 0.01
		continue
	fi
	stuck=0
	last=$c
	if [ "$c" -ge "$next_change" ]; then
		changes=$((changes + 1))
		spec $((changes % N + 1)) "$changes"
		next_change=$((next_change + 10))
	fi
	if [ "$c" -ge "$next_fault" ]; then
		fault "$(echo "$FAULTS" | sed -n "$((faults % NF + 1))p")" >/dev/null || true
		faults=$((faults + 1))
		next_fault=$((next_fault + 7))
	fi
	if [ "$c" -ge "$next_sample" ]; then
		rss=$(rss_kb "$WATCH_PID") fd=$(fds "$WATCH_PID")
		[ -n "$rss0" ] || { rss0=$rss fd0=$fd; }
		samples="$samples $c:${rss}kB/${fd}fd"
		fd_list="$fd_list $fd"
		next_sample=$((next_sample + R / 10))
	fi
done
secs=$((($(now_ms) - start) / 1000))
rss=$(rss_kb "$WATCH_PID") fd=$(fds "$WATCH_PID")
samples="$samples $c:${rss}kB/${fd}fd"
fd_list="$fd_list $fd"
faults_clear

figure "reconciles" "$c in ${secs}s"
figure "spec changes" "$changes"
figure "faults injected" "$faults"
figure "reconcile results" "$(grep -o 'event=reconciled result=[a-z]*' "$T/watch.log" | sed 's/.*=//' | sort | uniq -c | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }')"
figure "RSS after warm-up, at the end" "${rss0} kB, ${rss} kB ($((rss - rss0)) kB)"
figure "open fds after warm-up, at the end" "${fd0}, ${fd}"
echo "   samples (reconcile:RSS/fds):"
echo "$samples" | tr ' ' '\n' | sed '/^$/d' | paste -sd ' ' | fold -s -w 76 | sed 's/^/     /'
[ $((rss - rss0)) -le "$SLACK" ] || violation "RSS grew by $((rss - rss0)) kB (slack $SLACK kB)"
# keep-alive connections come and go (9 to 13 descriptors here): a leak is
# the fewest of the last three samples above the most of the first three
early=$(echo $fd_list | tr ' ' '\n' | head -n 3 | sort -n | tail -n 1)
late=$(echo $fd_list | tr ' ' '\n' | tail -n 3 | sort -n | head -n 1)
[ "$late" -le "$early" ] || violation "open descriptors grew: at most $early in the first three samples, at least $late in the last three: $(ls -l "/proc/$WATCH_PID/fd" | tail -n 5)"

# with the faults gone, the daemon converges by itself (backoffs are short)
plan_clean() {
	"$WSR" plan "$T/specs" --detailed-exitcode >"$T/stdout" 2>"$T/stderr"
}
end=$(($(now_ms) + 60000))
while ! plan_clean && [ "$(now_ms)" -lt "$end" ]; do
	sleep 0.2
done
plan_clean || violation "the daemon did not converge within 60 s of the last fault: $(tail -n 3 "$T/stdout")"
figure "converged after the last fault" "$((($(now_ms) - end + 60000) / 1000)) s"
# SIGTERM, then at most 30 s (watch_lib's stop_watch leaves a sleeping
# watchdog holding stdout, which a pipe reading this campaign would wait for)
t0=$(now_ms)
kill -TERM "$WATCH_PID"
i=0
while kill -0 "$WATCH_PID" 2>/dev/null && [ $i -lt 3000 ]; do
	sleep 0.01
	i=$((i + 1))
done
kill -9 "$WATCH_PID" 2>/dev/null
wait "$WATCH_PID"
RC=$?
figure "stopped on SIGTERM" "$(($(now_ms) - t0)) ms"
[ "$RC" -eq 0 ] || violation "wsr watch exited $RC on SIGTERM (137: killed after 30 s)"
platform_list "$T/list" || violation "cannot list the platform"
n=$(wc -l <"$T/list")
u=$(awk '{print $1}' "$T/list" | sort -u | wc -l)
figure "platform at the end" "$n workspaces ($u names)"
[ "$n" -eq "$N" ] && [ "$u" -eq "$N" ] || violation "the platform has $n workspaces ($u names), want $N"
soak_end
