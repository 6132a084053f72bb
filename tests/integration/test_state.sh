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
	printf '{"id":"6f1c","pid":4242,"host":"ci-runner-7","user":"ci","command":"wsr apply","since":"2026-11-21T09:15:00Z"}' \
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
	expect_err "state is locked by pid 4242 on host ci-runner-7 (wsr apply, by ci, since 2026-11-21T09:15:00Z; lock id 6f1c)"
	expect_err "hint: wait for it to finish"
	cmp -s "$STATE_FIXTURES/three.json" "$T/.wsr/state.json" || fail "state changed"
	# reading needs no lock
	run "$WSR" state list
	expect_rc 0
	expect_out "loopback/acme/web"
}

# hold_lock: a process holds the file lock for 30 s with the given record.
hold_lock() {
	printf '%s' "$1" >"$T/.wsr/state.json.lock"
	flock "$T/.wsr/state.json.lock" sleep 30 &
	echo $! >>"$T/.pids"
	HOLDER=$!
	i=0
	until ! flock -n "$T/.wsr/state.json.lock" true; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "flock did not take the lock"
		sleep 0.05
	done
}

t_pull_prints_the_state_file_format() {
	put_state three.json
	run "$WSR" state pull
	expect_rc 0
	# the same state: pulling and reading back gives the same document
	"$WSR" state pull >"$T/again.json" || fail "second pull failed"
	cmp -s "$T/stdout" "$T/again.json" || fail "two pulls differ"
	expect_json '.format == "wsr.state/v1" and .serial == 12 and (.resources | length) == 3'
	expect_json '.lineage == "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"'
	run "$WSR" state pull --json
	expect_rc 1
	expect_err "pull prints the state file format"
}

t_push_needs_the_same_lineage_and_a_newer_serial() {
	put_state three.json
	"$WSR" state pull >"$T/s.json" || fail "pull failed"
	# the same serial: refused, nothing written
	run "$WSR" state push "$T/s.json"
	expect_rc 1
	expect_err "its serial 12 is not newer than the stored serial 12"
	cmp -s "$STATE_FIXTURES/three.json" "$T/.wsr/state.json" || fail "refused push wrote"
	# a newer serial of the same lineage, one resource less: stored as it is
	jq '.serial = 20 | .resources |= map(select(.address != "loopback/acme/db"))' \
		"$T/s.json" >"$T/newer.json"
	run "$WSR" state push "$T/newer.json"
	expect_rc 0
	expect_out "lineage 6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b, serial 20, 2 resources"
	"$WSR" state pull >"$T/back.json"
	jq -S . "$T/newer.json" >"$T/a" && jq -S . "$T/back.json" >"$T/b"
	cmp -s "$T/a" "$T/b" || fail "pulled state is not the pushed one"
	# another lineage: refused unless --force
	jq '.lineage = "00000000-0000-4000-8000-000000000000" | .serial = 99' "$T/s.json" >"$T/other.json"
	run "$WSR" state push "$T/other.json"
	expect_rc 1
	expect_err "its lineage 00000000-0000-4000-8000-000000000000 is not the stored state's"
	run "$WSR" state push "$T/other.json" --force
	expect_rc 0
	"$WSR" state pull | jq -e '.serial == 99 and (.resources | length) == 3' >/dev/null ||
		fail "forced push not stored"
	# into an empty state anything goes; a corrupt file is refused with its reason
	rm -f "$T/.wsr/state.json"
	run "$WSR" state push "$T/s.json"
	expect_rc 0
	printf '{"format":"wsr.state/v1"' >"$T/bad.json"
	run "$WSR" state push "$T/bad.json"
	expect_rc 1
	expect_err "bad.json"
	run "$WSR" state push "$T/missing.json"
	expect_rc 1
	expect_err "cannot read $T/missing.json"
}

t_push_waits_for_the_lock_with_lock_timeout() {
	put_state three.json
	jq '.serial = 13' "$STATE_FIXTURES/three.json" >"$T/newer.json"
	hold_lock '{"id":"abc","pid":4242,"host":"h","user":"u","command":"wsr apply","since":"s"}'
	run "$WSR" state push "$T/newer.json"
	expect_rc 1
	expect_err "lock id abc"
	# the holder goes away within the wait: the push goes through
	(sleep 1 && pkill -P "$HOLDER" sleep; kill "$HOLDER") 2>/dev/null &
	start=$(date +%s)
	run "$WSR" state push "$T/newer.json" --lock-timeout 10s
	expect_rc 0
	[ $(($(date +%s) - start)) -lt 8 ] || fail "push waited too long after the lock was free"
	# a holder that stays: the wait ends with its reason
	hold_lock '{"id":"def","pid":4243,"host":"h","user":"u","command":"wsr apply","since":"s"}'
	run "$WSR" state rm loopback/acme/web --lock-timeout 1s
	expect_rc 1
	expect_err "gave up waiting for the state lock after 1."
	expect_err "lock id def"
	run "$WSR" state rm loopback/acme/web --lock-timeout soon
	expect_rc 1
	expect_err "--lock-timeout wants a duration"
}

t_unlock_of_a_file_lock_says_how_it_ends() {
	put_state three.json
	run "$WSR" state unlock abc --force
	expect_rc 1
	expect_err "the state is not locked"
	hold_lock '{"id":"abc","pid":4242,"host":"h","user":"u","command":"wsr apply","since":"s"}'
	run "$WSR" state unlock nope --force
	expect_rc 1
	expect_err "locked under another id: pid 4242 on host h"
	run "$WSR" state unlock abc </dev/null
	expect_rc 1
	expect_err "refusing to unlock without confirmation"
	run "$WSR" state unlock abc --force
	expect_rc 1
	expect_err "a file lock cannot be removed from outside"
	expect_err "kill 4242 on h"
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
