#!/bin/sh
# test_secrets: the secret scan that tests/run.sh runs over everything the
# suite produced (tests/secrets_scan.sh) finds a planted secret, and cannot
# pass by reading nothing. It plants into trees shaped like the harness's
# (DIR/<script>/<test>/), not into real outputs; the scan leaves this
# group's own kept outputs out by path for that reason.
. "$(dirname "$0")/lib.sh"
SCAN=$(cd "$(dirname "$0")/.." && pwd)/secrets_scan.sh

# kept DIR TESTS: a kept tree of TESTS tests with clean outputs.
kept() {
	i=0
	while [ "$i" -lt "$2" ]; do
		d=$1/test_x/t_$i
		mkdir -p "$d/.wsr"
		: >"$d/.test.log"
		printf 'loopback/acme/web: created\n' >"$d/stdout"
		printf '{"format": "wsr.state/v1", "resources": []}\n' >"$d/.wsr/state.json"
		i=$((i + 1))
	done
}

t_clean_outputs_pass_and_say_what_was_read() {
	kept k 3
	run sh "$SCAN" k 3
	expect_rc 0
	expect_out "secret scan: 6 files of 3 tests read for"
	expect_out ": 0 with a secret"
}

# One planted occurrence of each kind of secret fails the scan, naming the
# file and the line.
t_planted_secret_fails_naming_the_file() {
	for s in test-admin-key day2-transfer-key kcp-admin-token bob-token embedded-admin-key \
		"It's a Secret to Everybody" "-----BEGIN PRIVATE KEY-----"; do
		rm -rf k && kept k 2
		printf 'GET /v1/x\nAuthorization: Bearer %s\n' "$s" >k/test_x/t_1/.wsr/state.json
		run sh "$SCAN" k 2
		expect_rc 1
		expect_out "LEAK test_x/t_1/.wsr/state.json:"
		expect_out "line 2:"
		expect_out ": 1 with a secret"
	done
	# in a daemon's kept /metrics answer too
	rm -rf k && kept k 2
	mkdir -p k/test_watch/t_a/.answers && : >k/test_watch/t_a/.test.log
	printf 'wsr_up{key="test-viewer-key"} 1\n' >k/test_watch/t_a/.answers/metrics-1
	run sh "$SCAN" k 3
	expect_rc 1
	expect_out "LEAK test_watch/t_a/.answers/metrics-1:"
}

# Where a secret belongs (the emulator's store, a kubeconfig) it is left
# out by path, and only there.
t_excluded_paths_only() {
	kept k 2
	mkdir -p k/test_x/t_0/sim/data
	printf '{"key": "test-admin-key"}\n' >k/test_x/t_0/sim/data/platform.json
	printf 'user: {token: kcp-admin-token}\n' >k/test_x/t_0/kcp.kubeconfig
	run sh "$SCAN" k 2
	expect_rc 0
	printf 'request from key test-admin-key\n' >k/test_x/t_0/sim/err
	run sh "$SCAN" k 2
	expect_rc 1
	expect_out "LEAK test_x/t_0/sim/err:"
}

# It cannot pass vacuously: a test that kept nothing, or fewer files read
# than tests run, is a failure.
t_reading_too_little_fails() {
	mkdir empty
	run sh "$SCAN" empty 5
	expect_rc 1
	expect_out "5 integration tests ran but only 0 kept their outputs"
	kept k 2
	run sh "$SCAN" k 3
	expect_rc 1
	expect_out "3 integration tests ran but only 2 kept their outputs"
	# directories kept, but nothing in them was read
	rm -rf k && kept k 4
	find k \( -name stdout -o -name state.json \) -exec rm -f {} +
	run sh "$SCAN" k 4
	expect_rc 1
	expect_out "only 0 files read for 4 tests"
	# the unit tests' output does not stand in for the integration tests'
	mkdir -p k/unit && for i in 1 2 3 4 5; do echo "[  PASSED  ] 1 test" >k/unit/test_$i.out; done
	run sh "$SCAN" k 4
	expect_rc 1
	expect_out "only 0 files read for 4 tests"
}

# Every key and token of the fixtures' seeds is searched for.
t_every_fixture_secret_is_searched() {
	n=0
	for s in $(sed -n 's/.*{key: *\([^,} ]*\).*/\1/p; s/.*[{ ]token: *\([^,} ]*\).*/\1/p' "$FIXTURES"/*.yaml | sort -u); do
		rm -rf k && kept k 1
		printf '%s\n' "$s" >k/test_x/t_0/stdout
		run sh "$SCAN" k 1
		[ "$RC" = 1 ] || fail "the scan missed $s"
		n=$((n + 1))
	done
	[ "$n" -ge 15 ] || fail "only $n secrets in the fixtures: the collection is broken"
}

run_tests
