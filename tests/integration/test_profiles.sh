#!/bin/sh
# End to end: `wsr profiles` against wsr-sim with tests/fixtures/seed-day2.yaml
# (acme/legacy runs on hetzner_cloud; acme has an active price override for
# cx32 and an inactive one for cx22; cx52's only datacenter is unreachable;
# acme/metal is baremetal), and on the embedded platform.
. "$(dirname "$0")/lib.sh"

DAY2=$FIXTURES/seed-day2.yaml

day2() {
	sim_start "$DAY2" && use_sim "$1" "${2:-day2-admin-key}"
}

# ws DIR NAME: a kubernetes workspace spec (hetzner_cloud by default).
ws() {
	printf 'apiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata: {name: %s}\nspec: {organization: acme, project: payments, type: kubernetes, kubernetes: {version: "1.30.2"}}\n' \
		"$2" >"$1/$2.yaml"
}

# line NAME: the table row of profile NAME, blanks squeezed.
line() {
	grep "^$1 " "$T/stdout" | tr -s ' '
}

t_table_of_a_hetzner_cloud_workspace() {
	day2 specs
	run "$WSR" profiles loopback/acme/legacy specs
	expect_rc 0
	expect_out "loopback/acme/legacy: compute provider hetzner_cloud, 3 profiles"
	expect_out "NAME"
	expect_out "SERVER TYPE"
	expect_out "MONTHLY"
	expect_out "CURRENCY"
	# the active override replaces cx32's prices
	[ "$(line cx32)" = "cx32 cx32 4 8 GiB 0.00 0.0100 6.49 EUR override" ] ||
		fail "cx32 row: $(line cx32)"
	# cx22's override is inactive: list prices, no marker
	[ "$(line cx22)" = "cx22 cx22 2 4 GiB 0.00 0.0060 3.79 EUR" ] || fail "cx22 row: $(line cx22)"
	# cx52 is offered in no reachable datacenter
	line cx52 | grep -qF "cx52 cx52 16 32 GiB 0.00 0.0480 29.99 EUR unavailable: " ||
		fail "cx52 row: $(line cx52)"
	line cx52 | grep -qF "nbg1" || fail "cx52 reason does not name the datacenter"
	# other compute providers' profiles are not offered
	expect_no_out "ionos-4"
	expect_no_out "bm-small"
	# ordered by name
	[ "$(grep -o '^cx[0-9]*' "$T/stdout" | tr '\n' ' ')" = "cx22 cx32 cx52 " ] || fail "order"
}

t_json_is_the_providers_document() {
	day2 specs
	run "$WSR" profiles loopback/acme/legacy specs --json
	expect_rc 0
	expect_json '.address == "loopback/acme/legacy" and .computeProvider == "hetzner_cloud"'
	expect_json '[.profiles[].name] == ["cx22", "cx32", "cx52"]'
	expect_json '.profiles[1].prices == {"currency": "EUR", "setup": "0.00", "hourly": "0.0100", "monthly": "6.49"}'
	expect_json '.profiles[1].priceSource == "override"'
	expect_json '.profiles[0].priceSource == "list" and .profiles[0].prices.hourly == "0.0060"'
	expect_json '.profiles[0].available == true and .profiles[0].unavailableReason == null'
	expect_json '.profiles[2].available == false'
	expect_json '.profiles[2].unavailableReason | test("cx52.*nbg1")'
	expect_json '.profiles[2].cpu == 16 and .profiles[2].memoryGiB == 32 and .profiles[2].serverType == "cx52"'
	expect_no_out "NAME"
}

t_baremetal_workspace() {
	day2 specs
	run "$WSR" profiles loopback/acme/metal specs
	expect_rc 0
	expect_out "loopback/acme/metal: compute provider baremetal, 1 profile"
	[ "$(line bm-small)" = "bm-small bm-small 8 64 GiB 99.00 0.1200 79.00 EUR" ] ||
		fail "bm-small row: $(line bm-small)"
	expect_no_out "cx22"
	run "$WSR" profiles loopback/acme/metal specs --json
	expect_json '.computeProvider == "baremetal" and [.profiles[].name] == ["bm-small"]'
}

t_a_viewer_may_look() {
	day2 specs day2-viewer-key
	run "$WSR" profiles loopback/acme/legacy specs
	expect_rc 0
	expect_out "cx32"
}

t_only_in_the_specs_must_be_applied_first() {
	day2 specs
	ws specs fresh
	run "$WSR" profiles loopback/acme/fresh specs
	expect_rc 1
	expect_err "loopback/acme/fresh is only in the specs (specs/fresh.yaml:1)"
	expect_err "must be applied first"
	[ ! -s "$T/stdout" ] || fail "printed something on stdout"
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	run "$WSR" profiles loopback/acme/fresh specs
	expect_rc 0
	expect_out "cx32"
}

t_errors() {
	day2 specs
	run "$WSR" profiles loopback/acme/ghost specs
	expect_rc 1
	expect_err "loopback/acme/ghost does not exist on the platform"
	run "$WSR" profiles loopback/acme/ghost specs --json
	expect_rc 1
	[ ! -s "$T/stdout" ] || fail "--json printed something on error"
	# another organization's workspace is invisible
	use_sim specs globex-admin-key
	run "$WSR" profiles loopback/acme/legacy specs
	expect_rc 1
	expect_err "does not exist on the platform"
	run "$WSR" profiles "loopback/acme/../legacy" specs
	expect_rc 1
	expect_err "malformed address"
	run "$WSR" profiles "$(printf 'loopback/acme/\033[2J')" specs
	expect_rc 1
	expect_err 'malformed address'
	! LC_ALL=C grep -q "$(printf '\033')" "$T/stderr" || fail "a raw escape reached stderr"
	run "$WSR" profiles nope/acme/legacy specs
	expect_rc 1
	expect_err "unknown provider 'nope'"
	run "$WSR" profiles
	expect_rc 1
	expect_err "missing ADDRESS"
	run "$WSR" profiles --help
	expect_rc 0
	expect_out "usage: wsr profiles ADDRESS [PATH] [--json]"
}

t_unreachable_platform() {
	SIM_URL=http://127.0.0.1:1 # nothing listens there
	use_sim specs day2-admin-key
	run "$WSR" profiles loopback/acme/legacy specs
	expect_rc 1
	expect_err "loopback/acme/legacy: error: cannot reach"
	[ ! -s "$T/stdout" ] || fail "printed something on stdout"
}

t_embedded_platform() {
	# no wsr.yaml at all: the embedded platform and its built-in seed
	ws . web
	run "$WSR" profiles loopback/acme/web
	expect_rc 1
	expect_err "must be applied first"
	run "$WSR" apply --auto-approve
	expect_rc 0
	run "$WSR" profiles loopback/acme/web
	expect_rc 0
	expect_out "loopback/acme/web: compute provider hetzner_cloud"
	expect_out "NAME"
	run "$WSR" profiles loopback/acme/web --json
	expect_rc 0
	expect_json '.computeProvider == "hetzner_cloud" and (.profiles | length) > 0'
	expect_json 'all(.profiles[]; .prices.currency != null and (.prices.monthly | test("^[0-9]+(\\.[0-9]+)?$")))'
	[ ! -e .wsr/state.json.lock ] || [ ! -s .wsr/state.json.lock ] || fail "profiles left a lock"
}

run_tests
