# watch_lib.sh: helpers shared by the `wsr watch` integration tests, on top
# of lib.sh (source that first).

# watch_start ARGS...: starts `wsr watch ARGS --listen 127.0.0.1:0` in the
# background with events in $T/watch.log; sets WATCH_PID and WATCH_URL once
# /healthz answers.
watch_start() {
	"$WSR" watch "$@" --listen 127.0.0.1:0 >"$T/watch.out" 2>"$T/watch.log" &
	WATCH_PID=$!
	echo "$WATCH_PID" >>"$T/.pids"
	i=0
	while [ $i -lt 200 ]; do
		port=$(grep 'listen' "$T/watch.log" | grep -o 'port[=":]*[0-9]*' | grep -o '[0-9]*$' | head -n 1)
		if [ -n "$port" ]; then
			WATCH_URL=http://127.0.0.1:$port
			echo "$WATCH_URL" >>"$T/.urls" # for keep_answers
			return 0
		fi
		kill -0 "$WATCH_PID" 2>/dev/null || break
		sleep 0.05
		i=$((i + 1))
	done
	echo "wsr watch did not start:" >&2
	cat "$T/watch.log" >&2
	return 1
}

# status_is FILTER: jq FILTER over GET /status is true.
status_is() {
	curl -s -m 30 "$WATCH_URL/status" | jq -e "$1" >/dev/null 2>&1
}

# within SECONDS CMD...: runs CMD every 20 ms until it succeeds; fails the
# test (with the watch log) when SECONDS pass first.
within() {
	limit=$1
	shift
	end=$(($(date +%s%N) + limit * 1000000000))
	while ! "$@"; do
		if [ "$(date +%s%N)" -gt "$end" ]; then
			echo "--- watch.log:" >&2
			grep -v "trigger=interval\|event=reconciled result=ok" "$T/watch.log" | tail -n 30 >&2
			fail "not within ${limit}s: $*"
		fi
		sleep 0.02
	done
}

# reconciles: the number of reconciles the daemon has finished (0 before
# the first status).
reconciles() {
	curl -s -m 30 "$WATCH_URL/status" | jq -r '.reconcile.count' 2>/dev/null || echo 0
}

# reconciled N: at least N reconciles have finished (for `within`, which
# must re-read the count on every try).
reconciled() {
	[ "$(reconciles)" -ge "$1" ] 2>/dev/null
}

# ws_state ADDRESS: the workspace's state in /status.
ws_state() {
	curl -s -m 30 "$WATCH_URL/status" | jq -r --arg a "$1" '.workspaces[] | select(.address == $a) | .state'
}

# stop_watch: SIGTERM, then wait; sets RC to the daemon's exit status.
# A daemon still running 60 s after SIGTERM is killed and the test fails.
stop_watch() {
	keep_answers
	kill -TERM "$WATCH_PID"
	watchdog 60 "$WATCH_PID"
	wait "$WATCH_PID"
	RC=$?
	watchdog_off
	[ "$RC" -ne 137 ] || fail "wsr watch did not stop within 60 s of SIGTERM"
}
