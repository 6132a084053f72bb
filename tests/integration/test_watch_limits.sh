#!/bin/sh
# test_watch_limits: slow clients of `wsr watch`'s HTTP server (connections
# that send nothing, or a byte a second) cannot starve /healthz, and are
# bounded per client, in all and in idle time, at the limits of
# reconciler/watch_http.h. The clients come from 127.0.0.2 and up (all of
# 127/8 is loopback) so that one test has several "client addresses".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/watch_lib.sh"
SLOW="/usr/bin/python3 $(dirname "$0")/slowclients.py"
HEADER=$(dirname "$0")/../../reconciler/watch_http.h

# limit NAME: the value of a #define in watch_http.h, so the test follows it.
limit() { sed -n "s/^#define $1 \([0-9]*\)$/\1/p" "$HEADER"; }
MAX=$(limit WSR_WATCH_MAX_CONNECTIONS)
PER_CLIENT=$(limit WSR_WATCH_MAX_CONNECTIONS_PER_CLIENT)
IDLE_S=$(limit WSR_WATCH_CONNECTION_TIMEOUT_S)
# how long /healthz may take while slow clients hold every place
HEALTH_BOUND_S=2

# start: a daemon with nothing to reconcile; sets PORT.
start() {
	[ -n "$MAX" ] && [ -n "$PER_CLIENT" ] && [ -n "$IDLE_S" ] || fail "limits not found in $HEADER"
	mkdir -p specs
	watch_start specs --interval 1h || fail "wsr watch did not start"
	PORT=${WATCH_URL##*:}
}

# slow SPEC... : runs slowclients.py and prints its "closed ..." line.
slow() { $SLOW "$PORT" "$@"; }

# healthy FROM: /healthz answers 200 to a new connection from address FROM
# within HEALTH_BOUND_S.
healthy() {
	code=$(curl -s -o /dev/null -w '%{http_code}' -m "$HEALTH_BOUND_S" --interface "$1" "$WATCH_URL/healthz")
	[ "$code" = 200 ] || fail "/healthz from $1 answered '$code' (000: nothing within ${HEALTH_BOUND_S}s)"
}

# hold SPEC...: slow clients in the background, held until the test ends,
# once the server has seen them all.
hold() {
	$SLOW "$PORT" "$@" --hold 600 >held.out &
	echo $! >>"$T/.pids"
	i=0
	while ! grep -q '^closed' held.out; do
		i=$((i + 1))
		[ $i -lt 500 ] || fail "the slow clients did not connect"
		sleep 0.02
	done
}

# The issue's case: 64 slow clients from one address; then every place
# taken by slow clients from many addresses. /healthz answers at once, to
# the attacker's address too (a probe behind the same NAT or node).
t_slow_clients_leave_healthz_answerable() {
	start
	hold 127.0.0.2:32:idle 127.0.0.2:32:trickle
	for a in 127.0.0.1 127.0.0.2 127.0.0.1 127.0.0.2; do healthy $a; done
	kill "$(tail -n 1 "$T/.pids")"
	hold 127.0.0.2:40:idle 127.0.0.3:40:trickle 127.0.0.4:40:idle 127.0.0.5:40:trickle \
		127.0.0.6:40:idle
	for a in 127.0.0.1 127.0.0.3 127.0.0.6 127.0.0.1; do healthy $a; done
	code=$(curl -s -o /dev/null -w '%{http_code}' -m "$HEALTH_BOUND_S" "$WATCH_URL/metrics")
	[ "$code" = 200 ] || fail "/metrics answered '$code'"
	grep -q "http: closed [0-9]* connection(s) waiting for a request" "$T/watch.log" ||
		fail "the closed connections were not logged"
	[ "$(grep -c 'http: closed' "$T/watch.log")" -le 2 ] || fail "one log line per closed connection"
}

# One client keeps at most PER_CLIENT connections: the one past it closes
# the client's longest waiting one, and other clients are not touched.
t_connections_per_client_are_bounded() {
	start
	[ "$(slow 127.0.0.2:"$PER_CLIENT":idle)" = "closed " ] || fail "$PER_CLIENT from one client not all kept"
	[ "$(slow 127.0.0.2:$((PER_CLIENT + 1)):idle)" = "closed 0" ] ||
		fail "the connection past $PER_CLIENT did not close the oldest"
	[ "$(slow 127.0.0.3:3:idle 127.0.0.2:$((PER_CLIENT + 2)):trickle)" = "closed 3 4" ] ||
		fail "past $PER_CLIENT, the wrong connections were closed"
}

# In all, at most MAX: the one past it closes the longest waiting of all.
t_connections_in_all_are_bounded() {
	start
	n=$((MAX / PER_CLIENT)) # clients that fill the server exactly
	set --
	i=0
	while [ $i -lt $n ]; do
		set -- "$@" 127.0.1.$((i + 1)):"$PER_CLIENT":idle
		i=$((i + 1))
	done
	[ "$(slow "$@")" = "closed " ] || fail "$MAX connections not all kept"
	[ "$(slow "$@" 127.0.2.1:1:idle)" = "closed 0" ] || fail "connection $((MAX + 1)) did not close the oldest"
}

# A connection that sends nothing is closed after IDLE_S seconds, not before.
t_idle_connection_closed_after_the_timeout() {
	start
	slow 127.0.0.2:1:idle --settle $((IDLE_S - 2)) >early.out &
	early=$!
	late=$(slow 127.0.0.3:1:idle --settle $((IDLE_S + 2)))
	wait $early
	[ "$(cat early.out)" = "closed " ] || fail "closed before ${IDLE_S}s: $(cat early.out)"
	[ "$late" = "closed 0" ] || fail "an idle connection still open after $((IDLE_S + 2))s"
}

run_tests
