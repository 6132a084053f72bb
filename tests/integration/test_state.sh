#!/bin/sh
# test_state: `wsr state list|show|rm` on crafted state files in .wsr/state.json
# (the default path when there is no wsr.yaml). No platform is contacted.
. "$(dirname "$0")/lib.sh"
STATE_FIXTURES=$FIXTURES/state

# put_state NAME: installs a fixture as the state of $T.
put_state() {
	mkdir -p "$T/.wsr"
	cp "$STATE_FIXTURES/$1" "$T/.wsr/state.json"
}

t_list_prints_sorted_addresses() {
	put_state three.json
	run "$WSR" state list
	expect_rc 0
	printf 'kcp/root:acme:team\nloopback/acme/db\nloopback/acme/web\n' >"$T/want"
	cmp -s "$T/want" "$T/stdout" || fail "list is not the sorted addresses"
}

t_list_without_state_prints_nothing() {
	run "$WSR" state list
	expect_rc 0
	[ ! -s "$T/stdout" ] || fail "list printed something without a state"
	[ ! -e "$T/.wsr/state.json" ] || fail "list created a state file"
}

t_list_json_and_dir_flag() {
	mkdir -p "$T/elsewhere/.wsr"
	cp "$STATE_FIXTURES/three.json" "$T/elsewhere/.wsr/state.json"
	run "$WSR" state list --dir "$T/elsewhere" --json
	expect_rc 0
	expect_out '"address":	"kcp/root:acme:team"'
	expect_out '"applied":'
	# the entries, sorted, as an array
	first=$(grep -o '"address":	"[^"]*"' "$T/stdout" | head -n 1)
	[ "$first" = '"address":	"kcp/root:acme:team"' ] || fail "first entry is $first"
	run "$WSR" state list --json
	expect_rc 0
	[ "$(tr -d ' \t\n' <"$T/stdout")" = "[]" ] || fail "no state should be []"
}

t_show_prints_the_entry() {
	put_state three.json
	run "$WSR" state show loopback/acme/web
	expect_rc 0
	expect_out "loopback/acme/web"
	expect_out "id:       ws-7f3a"
	expect_out "source:   specs/web.yaml:4"
	expect_out "created:  2026-11-02T08:00:00Z"
	expect_out "updated:  2026-11-20T17:45:10Z"
	expect_out "  applied:"
	expect_out '        "version": "1.30"' # indented JSON
	expect_out '"phase": "Ready"'           # observed
	expect_out '"team": "core"'             # labels
}

t_show_json() {
	put_state three.json
	run "$WSR" state show kcp/root:acme:team --json
	expect_rc 0
	expect_out '"address":	"kcp/root:acme:team"'
	expect_out '"id":	null'
	expect_no_out "loopback/acme/web"
}

t_show_missing_address_fails() {
	put_state three.json
	run "$WSR" state show loopback/acme/nope
	expect_rc 1
	expect_err "loopback/acme/nope: error: not in the state"
	[ ! -s "$T/stdout" ] || fail "stdout should be empty"
}

t_rm_forgets_and_says_the_resource_stays() {
	put_state three.json
	run "$WSR" state rm loopback/acme/web kcp/root:acme:team
	expect_rc 0
	expect_out "removed loopback/acme/web from the state"
	expect_out "removed kcp/root:acme:team from the state"
	expect_out "wsr no longer manages them"
	run "$WSR" state list
	[ "$(cat "$T/stdout")" = "loopback/acme/db" ] || fail "left: $(cat "$T/stdout")"
	grep -q '"serial": 13' "$T/.wsr/state.json" || fail "serial did not grow by one"
	cmp -s "$STATE_FIXTURES/three.json" "$T/.wsr/state.json.backup" || fail "backup is not the old state"
	[ "$(stat -c %a "$T/.wsr/state.json")" = 600 ] || fail "state file is not mode 600"
}

t_rm_missing_address_changes_nothing() {
	put_state three.json
	run "$WSR" state rm loopback/acme/web loopback/acme/typo
	expect_rc 1
	expect_err "loopback/acme/typo: error: not in the state"
	expect_no_out "removed"
	cmp -s "$STATE_FIXTURES/three.json" "$T/.wsr/state.json" || fail "state changed"
}

t_corrupt_state_is_an_error_and_untouched() {
	put_state truncated.json
	for cmd in "list" "show loopback/acme/web" "rm loopback/acme/web"; do
		# shellcheck disable=SC2086
		run "$WSR" state $cmd
		expect_rc 1
		expect_err "state.json:"
		expect_err "not valid JSON"
		expect_err "truncated"
		expect_err "state.json.backup"
		cmp -s "$STATE_FIXTURES/truncated.json" "$T/.wsr/state.json" || fail "$cmd changed it"
	done
	[ ! -e "$T/.wsr/state.json.backup" ] || fail "a backup was written"
}

# expect_refused_untouched WHAT: `list` and `rm` refuse $T/.wsr/state.json
# with WHAT on stderr, leave its bytes as they were and write no backup.
expect_refused_untouched() {
	cp "$T/.wsr/state.json" "$T/before"
	for cmd in "list" "rm loopback/acme/web"; do
		# shellcheck disable=SC2086
		run "$WSR" state $cmd
		expect_rc 1
		expect_err "$1"
		expect_no_err "truncated"
		cmp -s "$T/before" "$T/.wsr/state.json" || fail "$cmd changed it"
	done
	[ ! -e "$T/.wsr/state.json.backup" ] || fail "a backup was written"
}

t_nul_byte_is_refused_at_its_offset() {
	put_state three.json
	size=$(wc -c <"$T/.wsr/state.json")
	printf '\000{"anything": "after it"}\n' >>"$T/.wsr/state.json"
	expect_refused_untouched "NUL byte at byte offset $size"
}

t_trailing_data_is_not_called_truncated() {
	put_state three.json
	lines=$(wc -l <"$T/.wsr/state.json")
	printf '  {"resources": []}\n' >>"$T/.wsr/state.json"
	expect_refused_untouched "trailing data after the state document at line $((lines + 1)) col 3"
}

t_huge_address_is_quoted_short() {
	# two entries with one 10 MB address: the duplicate is an error, and
	# every diagnostic quotes the address cut short with its length
	mkdir -p "$T/.wsr"
	{
		printf '{"format":"wsr.state/v1","lineage":"l-1","serial":3,"resources":['
		for i in 1 2; do
			[ $i = 1 ] || printf ','
			printf '{"address":"'
			head -c 10485760 /dev/zero | tr '\000' x
			printf '","provider":"loopback","kind":"Workspace","applied":{}}'
		done
		printf ']}\n'
	} >"$T/.wsr/state.json"
	cp "$T/.wsr/state.json" "$T/before"
	run "$WSR" state list
	expect_rc 1
	[ "$(wc -c <"$T/stderr")" -lt 65536 ] || fail "stderr is $(wc -c <"$T/stderr") bytes"
	expect_err "x…(10485760 bytes): error: state file .wsr/state.json: resources[1]: duplicate address xxx"
	grep -q 'duplicate address x*…(10485760 bytes)$' "$T/stderr" || fail "summary address not cut"
	cmp -s "$T/before" "$T/.wsr/state.json" || fail "state changed"
}

t_newer_format_is_refused() {
	put_state newer.json
	run "$WSR" state list
	expect_rc 1
	expect_err "written by a newer wsr (format wsr.state/v2)"
	run "$WSR" state rm loopback/acme/web
	expect_rc 1
	cmp -s "$STATE_FIXTURES/newer.json" "$T/.wsr/state.json" || fail "newer state was changed"
}

t_locked_state_names_the_holder() {
	put_state three.json
	printf '{"pid":4242,"host":"ci-runner-7","command":"wsr apply","since":"2026-11-21T09:15:00Z"}' \
		>"$T/.wsr/state.json.lock"
	flock "$T/.wsr/state.json.lock" sleep 30 &
	echo $! >>"$T/.pids"
	i=0
	until ! flock -n "$T/.wsr/state.json.lock" true; do # wait until it is held
		i=$((i + 1))
		[ $i -lt 100 ] || fail "flock did not take the lock"
		sleep 0.05
	done
	run "$WSR" state rm loopback/acme/web
	expect_rc 1
	expect_err "state is locked by pid 4242 on host ci-runner-7 (wsr apply, since 2026-11-21T09:15:00Z)"
	expect_err "hint: wait for it to finish"
	cmp -s "$STATE_FIXTURES/three.json" "$T/.wsr/state.json" || fail "state changed"
	# reading needs no lock
	run "$WSR" state list
	expect_rc 0
	expect_out "loopback/acme/web"
}

t_usage_errors() {
	run "$WSR" state --help
	expect_rc 0
	expect_out "wsr state rm ADDRESS..."
	run "$WSR" state
	expect_rc 1
	run "$WSR" state frobnicate
	expect_rc 1
	expect_err "unknown subcommand"
	run "$WSR" state show
	expect_rc 1
	expect_err "show takes exactly one address"
	run "$WSR" state rm
	expect_rc 1
	expect_err "rm needs at least one address"
	run "$WSR" state list --bogus
	expect_rc 1
	expect_err "unknown or incomplete flag '--bogus'"
}

run_tests
