#!/bin/sh
# Bounded waits: a platform on 127.0.0.1 that accepts and never answers is
# reported within the deadline the user chose (--timeout, or the
# providers.<name> limits), with the request and what to change; apply
# stops at its deadline with state saved and converges on the next run; a
# 5xx says how hard wsr tried; oversized headers are "too large", not
# retried. Timing bounds allow MARGIN_MS for process start and a loaded
# machine; a bound missed by more is a failure, never loosened.
. "$(dirname "$0")/lib.sh"

MARGIN_MS=1500

# listener MODE: a tiny server on 127.0.0.1 that accepts, reads each
# request and then, for MODE hang, never answers (the connection stays
# open), or for MODE headers, answers with 70,000 bytes of headers. Sets
# PORT; $T/requests holds how many requests it read.
listener() {
	cat >listener.py <<'EOF'
import socket, sys
mode, count = sys.argv[1], sys.argv[2]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
conns, n = [], 0
while True:
    c, _ = s.accept()
    conns.append(c)  # kept open: a hung platform never closes
    data = b""
    while b"\r\n\r\n" not in data:
        d = c.recv(65536)
        if not d:
            break
        data += d
    n += 1
    with open(count, "w") as f:
        f.write(str(n))
    if mode == "headers":
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pad: " + b"p" * 70000 + b"\r\n\r\n{}")
EOF
	python3 listener.py "$1" "$T/requests" >port 2>listener.err &
	echo $! >>"$T/.pids"
	i=0
	while [ $i -lt 100 ] && [ ! -s port ]; do
		sleep 0.05
		i=$((i + 1))
	done
	PORT=$(cat port)
	[ -n "$PORT" ] || fail "the listener did not start: $(cat listener.err)"
}

# config DIR EXTRA: wsr.yaml pointing loopback at SIM_URL, EXTRA added to its block.
config() {
	mkdir -p "$1"
	printf 'apiVersion: wsr.dev/v1\nkind: Config\nproviders:\n  loopback: {endpoint: "%s", apiKeyEnv: LOOPBACK_API_KEY%s}\n' \
		"$SIM_URL" "${2:+, $2}" >"$1/wsr.yaml"
	LOOPBACK_API_KEY=test-admin-key
	export LOOPBACK_API_KEY
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# timed CMD...: run, with TOOK the milliseconds it took.
timed() {
	t0=$(now_ms)
	run "$@"
	TOOK=$(($(now_ms) - t0))
}

# within LOW HIGH: LOW <= TOOK <= HIGH + MARGIN_MS.
within() {
	[ "$TOOK" -ge "$1" ] && [ "$TOOK" -le $(($2 + MARGIN_MS)) ] ||
		fail "took $TOOK ms, expected $1 to $2 ms (+$MARGIN_MS)"
}

t_hung_platform_plan_stops_at_timeout() {
	listener hang
	SIM_URL=http://127.0.0.1:$PORT
	many specs 1 && config specs
	timed "$WSR" plan specs --timeout 2s
	expect_rc 1
	within 2000 2000
	expect_err "wsr plan stopped at its deadline after 2.0 s (--timeout 2s)"
	expect_err "the Loopback platform at http://127.0.0.1:$PORT did not answer in time"
	expect_err "GET http://127.0.0.1:$PORT/v1/"
	expect_err "no answer before the run's deadline (--timeout 2s)"
	expect_err "hint: the errors above name the request that was waiting"
	[ "$(cat "$T/requests")" = 1 ] || fail "$(cat "$T/requests") requests: the deadline allows no retry"
}

# Without --timeout the providers' limits bound each request: attempts of
# requestTimeout until retryBudget is spent, not six full timeouts.
t_hung_platform_bounded_by_retry_budget() {
	listener hang
	SIM_URL=http://127.0.0.1:$PORT
	many specs 1 && config specs 'requestTimeout: 500ms, retryBudget: 1500ms'
	timed "$WSR" plan specs
	expect_rc 1
	# a retry whose backoff (random, up to 0.2 s, 0.4 s...) would end past
	# the budget is not made, so the end can come up to that much earlier
	within 1000 1500
	expect_err "did not answer in time"
	expect_err "providers.loopback.retryBudget"
	n=$(cat "$T/requests")
	[ "$n" -ge 2 ] && [ "$n" -le 3 ] || fail "$n attempts in a 1.5 s budget of 500 ms attempts"
	expect_no_err "stopped at its deadline" # the default 5m deadline was far away
}

t_hung_platform_import_stops_at_timeout() {
	listener hang
	SIM_URL=http://127.0.0.1:$PORT
	many specs 1 && config specs
	timed "$WSR" import loopback/acme/w001 specs --timeout 1500ms
	expect_rc 1
	within 1500 1500
	expect_err "wsr import stopped at its deadline after 1.5 s (--timeout 1500ms)"
	expect_err "loopback/acme/w001"
	[ ! -e specs/.wsr/state.json ] || fail "a state was written"
}

t_timeout_values() {
	sim_start && many specs 1 && config specs
	for bad in abc 5 -1s 1.5s "5 m" +5s 169h 10d ""; do
		for cmd in plan apply; do
			run "$WSR" $cmd specs --timeout "$bad"
			expect_rc 1
			expect_err "error: --timeout wants a duration like 90s, 5m or 2h (at most 168h; 0 for none), got '$bad'"
		done
		run "$WSR" import loopback/acme/w001 specs --timeout "$bad"
		expect_rc 1
		expect_err "error: --timeout wants a duration"
	done
	run "$WSR" plan specs --timeout
	expect_rc 1
	# the boundaries and "none" are accepted and the plan runs
	for good in 168h 0 0s 1h --timeout=30s; do
		if [ "$good" = --timeout=30s ]; then run "$WSR" plan specs "$good"; else run "$WSR" plan specs --timeout "$good"; fi
		expect_rc 0
		expect_out "w001"
	done
	[ "$(sim_requests)" -gt 0 ] || fail "no plan reached the emulator"
}

t_provider_limits_are_checked() {
	sim_start && many specs 1
	config specs 'requestTimeout: 61m'
	run "$WSR" plan specs
	expect_rc 1
	expect_err "providers.loopback: requestTimeout is not a duration from 1ms to 60m"
	config specs 'connectTimeout: 0ms'
	run "$WSR" plan specs
	expect_rc 1
	expect_err "providers.loopback: connectTimeout is not a duration from 1ms to 60m"
	config specs 'retryBudget: 5 m'
	run "$WSR" plan specs
	expect_rc 1
	expect_err "retryBudget"
	config specs 'connectTimeout: 60m, requestTimeout: 1h, retryBudget: 3600000ms'
	run "$WSR" plan specs
	expect_rc 0
}

# Apply stops at its deadline like at a second SIGINT: nothing new starts,
# waits end, every finished step is in state; the next apply converges
# with nothing lost or duplicated.
t_apply_stops_at_timeout_state_saved() {
	sim_start "$FIXTURES/seed-slow.yaml" && many specs 12 && config specs
	timed "$WSR" apply specs --auto-approve --parallelism 2 --timeout 3s
	expect_rc 1
	within 3000 3000
	expect_out "Apply stopped at its deadline:"
	expect_err "wsr apply stopped at its deadline after 3.0 s (--timeout 3s)"
	created=$(grep -c ': created (' "$T/stdout")
	[ "$created" -ge 1 ] && [ "$created" -lt 12 ] || fail "$created of 12 created before a 3 s deadline"
	[ "$("$WSR" state list --dir specs | wc -l)" -eq "$created" ] ||
		fail "state holds $("$WSR" state list --dir specs | wc -l) entries, $created were created"
	expect_converged specs 12
}

t_apply_json_says_timed_out() {
	sim_start "$FIXTURES/seed-slow.yaml" && many specs 4 && config specs
	run "$WSR" apply specs --auto-approve --parallelism 1 --timeout 1500ms --json
	expect_rc 1
	expect_json '.result.timedOut == true and .result.interrupted == false'
	expect_json '.result.succeeded >= 1 and .result.notStarted >= 1'
}

# A 503 that six attempts did not get past says so, with the time spent.
t_5xx_says_how_many_attempts() {
	sim_start && many specs 1 && config specs
	curl -s -X POST "$SIM_URL/_sim/faults" \
		-d '{"kind":"respond","method":"GET","path":"/v1/","status":503,"code":"unavailable","count":100}' >/dev/null
	run "$WSR" plan specs
	expect_rc 1
	expect_err "the Loopback platform at $SIM_URL answered 503 after 6 attempts over "
	expect_err "hint: try again later, or raise providers.loopback.retryBudget"
	expect_no_err "cannot reach"
}

# Headers beyond WSR_HTTP_MAX_HEADERS: too large, said as such, asked once.
t_huge_headers_are_too_large_not_retried() {
	listener headers
	SIM_URL=http://127.0.0.1:$PORT
	many specs 1 && config specs
	run "$WSR" plan specs
	expect_rc 1
	expect_err "sent a response that is too large"
	expect_err "the response headers are larger than 65536 bytes (not retried)"
	expect_no_err "cannot reach"
	[ "$(cat "$T/requests")" = 1 ] || fail "asked $(cat "$T/requests") times"
}

# A Git server that accepts and never answers: `wsr watch --git` gives up
# at watch.git.timeout, naming it (libgit2 1.5 alone would wait forever).
t_hung_git_server_bounded_by_watch_git_timeout() {
	listener hang
	mkdir cfg
	printf 'apiVersion: wsr.dev/v1\nkind: Config\nwatch:\n  listen: "off"\n  git: {timeout: 2s}\n' >cfg/wsr.yaml
	timed "$WSR" watch --git "git://127.0.0.1:$PORT/repo.git" --config cfg/wsr.yaml --once
	expect_rc 1
	within 2000 2000
	expect_err "cannot clone git://127.0.0.1:$PORT/repo.git"
	expect_err "did not finish within the fetch's time limit"
	expect_err "raise watch.git.timeout"
	printf 'apiVersion: wsr.dev/v1\nkind: Config\nwatch:\n  listen: "off"\n  git: {timeout: 61m}\n' >cfg/wsr.yaml
	run "$WSR" watch --git "git://127.0.0.1:$PORT/repo.git" --config cfg/wsr.yaml --once
	expect_rc 1
	expect_err "watch.git.timeout is not a duration from 1s to 60m"
	# the boundaries: 999ms is refused, 1s and 60m are taken (the clone of a
	# repository that does not exist then fails on its own)
	for t in 999ms 1s 60m 3600000ms 3600001ms; do
		printf 'apiVersion: wsr.dev/v1\nkind: Config\nwatch:\n  listen: "off"\n  git: {timeout: %s}\n' "$t" >cfg/wsr.yaml
		run "$WSR" watch --git "file://$T/nothing.git" --config cfg/wsr.yaml --once
		expect_rc 1
		case $t in
		999ms | 3600001ms) expect_err "watch.git.timeout is not a duration from 1s to 60m" ;;
		*)
			expect_no_err "watch.git.timeout is not"
			expect_err "cannot clone file://$T/nothing.git"
			;;
		esac
	done
}

run_tests
