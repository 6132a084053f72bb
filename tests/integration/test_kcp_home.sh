#!/bin/sh
# End to end: `wsr kcp home-path`, kcp's bucket-style home workspace paths
# (contacts nothing; expected paths come from kcp's own tests, from the
# Python script in tests/unit/test_kcp_home.c, or are computed here with
# sha1sum and shell arithmetic, never from wsr itself), and today's homes
# (style logicalcluster) against `wsr-sim serve --api kcp`: created through
# ~ as the user, converging, never deleted.
. "$(dirname "$0")/lib.sh"

# expected NAME DEPTH LENGTH: the path of an ASCII user NAME under root:users,
# computed from sha1sum; the name part with tr/sed (ASCII: one byte, one character).
expected() {
	hex=$(printf '%s' "$1" | sha1sum | cut -c1-40)
	path=root:users
	i=0
	while [ "$i" -lt "$2" ]; do
		n=$((0x$(printf '%s' "$hex" | cut -c$((i * 2 + 1))-$((i * 2 + 8)))))
		b=""
		j=0
		while [ "$j" -lt "$3" ]; do
			b="$b$(printf "\\$(printf '%03o' $((97 + n % 26)))")"
			n=$((n / 26))
			j=$((j + 1))
		done
		path="$path:$b"
		i=$((i + 1))
	done
	name=$(printf '%s' "$1" | LC_ALL=C tr -c 'a-z0-9-' '-' | sed 's/^[-0-9]*//; s/-*$//')
	echo "$path:$name"
}

t_defaults_print_one_path_a_line_in_order() {
	run "$WSR" kcp home-path user-1 user-2 system:apiserver '2system:apiserver@company-2à-' Alice
	expect_rc 0
	printf '%s\n' root:users:bi:ie:user-1 root:users:cv:ef:user-2 \
		root:users:ev:vo:system-apiserver root:users:fk:wp:system-apiserver-company-2 \
		root:users:of:tf:lice >want
	diff want "$T/stdout" >&2 || fail "paths differ from kcp's"
	[ ! -s "$T/stderr" ] || fail "stderr is not empty"
}

t_utf8_characters_become_one_dash_each() {
	run "$WSR" kcp home-path 'aàb' 'a😀b'
	expect_rc 0
	[ "$(cat "$T/stdout")" = "root:users:nv:xj:a-b
root:users:im:ke:a-b" ] || fail "utf-8 names"
}

t_buckets_match_sha1sum() {
	for cfg in "2 2" "3 1" "4 1"; do
		set -- $cfg
		i=0
		while [ $i -lt 25 ]; do
			u="User.$i@Example-$((i * 7919))"
			want=$(expected "$u" "$1" "$2")
			run "$WSR" kcp home-path --depth "$1" --length "$2" "$u"
			expect_rc 0
			[ "$(cat "$T/stdout")" = "$want" ] || fail "depth $1 length $2 '$u': want $want"
			i=$((i + 1))
		done
	done
}

t_prefix_flag() {
	run "$WSR" kcp home-path --prefix root:homes user-1
	expect_rc 0
	expect_out "root:homes:bi:ie:user-1"
	run "$WSR" kcp home-path --prefix Root:Homes user-1
	expect_rc 1
	expect_err 'kcp home prefix "Root:Homes" is not a logical cluster path'
	[ ! -s "$T/stdout" ] || fail "stdout is not empty"
}

# kcp's table of invalid configurations, with the two figures each prints
t_invalid_bucket_configs_refused_with_figures() {
	for c in "1 1 26 83448" "1 2 26 3210" "2 1 676 3210" "2 3 676 0" "3 1 17576 123"; do
		set -- $c
		run "$WSR" kcp home-path --length "$1" --depth "$2" user-1
		expect_rc 1
		expect_err "depth $2, length $1 would put $3 sub-buckets in a bucket and $4 users"
		[ ! -s "$T/stdout" ] || fail "length $1 depth $2 printed a path"
		[ "$(grep -c 'error:' "$T/stderr")" -eq 1 ] || fail "not exactly one error"
	done
	run "$WSR" kcp home-path --depth 6 user-1
	expect_rc 1
	expect_err "kcp allows depth 1 to 5 and length 1 to 4"
	run "$WSR" kcp home-path --length 1 --depth 4 user-1
	expect_rc 0
	expect_out "root:users:b:i:e:y:user-1"
}

t_one_refused_user_prints_nothing() {
	run "$WSR" kcp home-path alice 123 Ä bob
	expect_rc 1
	[ ! -s "$T/stdout" ] || fail "stdout is not empty"
	expect_err 'user "123": has no character kcp can use in a workspace name'
	expect_err 'user "Ä": has no character kcp can use'
	expect_no_err alice
}

t_long_names() {
	n63=$(printf '%063d' 0 | tr 0 x)
	run "$WSR" kcp home-path "$n63"
	expect_rc 0
	expect_out "$(expected "$n63" 2 2)"
	run "$WSR" kcp home-path "${n63}x"
	expect_rc 1
	expect_err "would have 64 characters, kcp allows 63"
}

# Linux caps one argument at 128 KiB, so this is the largest a shell can
# pass (the unit test feeds 1 MiB): refused at once, and not echoed back.
t_hostile_user_argument() {
	big=$(head -c 131071 /dev/zero | tr '\0' 'a')
	run "$WSR" kcp home-path "$big"
	expect_rc 1
	expect_err "longer than 1024 bytes"
	[ "$(wc -c <"$T/stderr")" -lt 400 ] || fail "the name was echoed"
	[ ! -s "$T/stdout" ] || fail "stdout is not empty"
}

t_json() {
	run "$WSR" kcp home-path --json user-1 user-2
	expect_rc 0
	expect_json '.paths == ["root:users:bi:ie:user-1", "root:users:cv:ef:user-2"]'
}

t_usage_and_bad_flags() {
	run "$WSR" kcp --help
	expect_rc 0
	expect_out "wsr kcp home-path"
	run "$WSR" --help
	expect_out "kcp"
	run "$WSR" kcp
	expect_rc 1
	run "$WSR" kcp nope
	expect_rc 1
	expect_err "unknown subcommand 'nope'"
	run "$WSR" kcp home-path
	expect_rc 1
	expect_err "no USER given"
	run "$WSR" kcp home-path --depth two user-1
	expect_rc 1
	expect_err "--depth wants a whole number, got 'two'"
	run "$WSR" kcp home-path --depth 99999999999999999999 user-1
	expect_rc 1
	# a user name that looks like a flag, after --
	run "$WSR" kcp home-path -- --alice
	expect_rc 0
	expect_out "$(expected --alice 2 2)"
}

# lc_start: the emulator with homes as today's kcp has them (the default),
# an administrator who may impersonate and a user who may not.
lc_start() {
	cat >seed.yaml <<EOC
users:
  - {name: admin, token: kcp-admin-token, groups: ["system:masters"]}
  - {name: bob, token: bob-token}
EOC
	sim_start "$T/seed.yaml" kcp || return 1
	# no home block: the provider's default style
	use_kcp specs "${1:-kcp-admin-token}" ""
}

home() { printf 'apiVersion: kcp.wsr.dev/v1\nkind: HomeWorkspace\nmetadata: {name: "%s"}\n' "$1" >"specs/$2.yaml"; }

# lc_get USER: the home's LogicalCluster as the emulator has it.
lc_get() {
	curl -s -H "Authorization: Bearer kcp-admin-token" \
		"$SIM_URL/clusters/user:$1/apis/core.kcp.io/v1alpha1/logicalclusters/cluster"
}

t_logicalcluster_home_created_through_tilde_and_converges() {
	lc_start && home adam adam && home chen chen
	[ "$(lc_get adam | jq -r .code)" = 403 ] || fail "adam has a home before the test"
	run "$WSR" plan specs
	expect_rc 0
	expect_out "+   kcp/user:adam"
	expect_out "# home workspace of user adam: kcp creates it when the user asks for ~ (wsr asks as adam, with Impersonate-User)"
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	expect_out "kcp/user:adam: created"
	expect_out "Apply complete: 2 succeeded, 0 failed"
	lc_get adam | jq -e '.status.phase == "Ready" and .metadata.annotations["kcp.io/path"] == "user:adam"' >/dev/null ||
		fail "adam's home is not Ready: $(lc_get adam)"

	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
	run "$WSR" state list --dir specs
	expect_out "kcp/user:adam"
	# a home that exists already (the user logged in) is adopted, not created
	curl -s -o /dev/null -H "Authorization: Bearer kcp-admin-token" -H "Impersonate-User: dora" \
		"$SIM_URL/clusters/root/apis/tenancy.kcp.io/v1alpha1/workspaces/~"
	sleep 1
	home dora dora
	run "$WSR" plan specs
	expect_rc 0
	expect_out "exists on the platform but not in state: apply records it"
}

t_logicalcluster_home_refusals() {
	lc_start bob-token && home adam adam
	run "$WSR" plan specs
	expect_rc 1
	expect_err "kcp/user:adam: error: cannot create the home workspace of adam: wsr's credentials may not impersonate user adam"
	expect_err "only system:masters may impersonate users"
	# a name that cannot be an address, refused when the specs load
	home Adam upper
	run "$WSR" validate specs
	expect_rc 1
	expect_err 'user "Adam": byte 1 (0x41) cannot be part of a home workspace'"'"'s address'
}

# a user name with '@' and '.' is an address, a URL segment and a header
# value: an e-mail user (OIDC) gets the home kcp makes at user:<address>
t_logicalcluster_home_of_an_email_user_name_converges() {
	lc_start && home bella@example.com bella
	run "$WSR" plan specs
	expect_rc 0
	expect_out "+   kcp/user:bella@example.com"
	expect_out "# home workspace of user bella@example.com"
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	expect_out "kcp/user:bella@example.com: created"
	run "$WSR" state show kcp/user:bella@example.com --dir specs
	expect_rc 0
	expect_no_err "malformed address"
	run "$WSR" plan specs --detailed-exitcode
	expect_rc 0
	expect_out "No changes"
}

# kcp has no API that deletes a home
t_logicalcluster_home_deletion_refused() {
	lc_start && home adam adam
	run "$WSR" apply specs --auto-approve
	expect_rc 0
	rm specs/adam.yaml
	run "$WSR" plan specs --prune
	expect_rc 1
	expect_err "kcp/user:adam: error: kcp has no API that deletes a home workspace"
	expect_err "wsr state rm"
}

t_style_mismatch_is_refused() {
	lc_start && home adam adam
	printf '  kcp: {endpoint: kubeconfig, kubeconfig: kcp.kubeconfig, home: {style: buckets}}\n' >>specs/p
	sed -i '/^  kcp:/d' specs/wsr.yaml && cat specs/p >>specs/wsr.yaml
	run "$WSR" plan specs
	expect_rc 1
	expect_err "keeps home workspaces as logical clusters user:<name>, not as providers.kcp.home.style says"
	expect_err "hint: set providers.kcp.home.style: logicalcluster"
}

run_tests
