#!/bin/sh
# test_validate: `wsr validate` as a user meets it — every bad input is
# reported at its file:line:col with exit status 1, every problem of a run is
# reported at once, and good specs pass. No platform is contacted.
. "$(dirname "$0")/lib.sh"

# specs NAME: copies the fixture directory tests/fixtures/validate/NAME to ./specs
specs() { cp -r "$FIXTURES/validate/$1" specs; }

# ws NAME [TYPE]: a minimal valid workspace document
ws() {
	printf 'apiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata:\n  name: %s\nspec:\n  organization: acme\n  project: sandbox\n  type: %s\n' \
		"$1" "${2:-baremetal}"
}

# ms: milliseconds since the epoch
ms() { echo $(($(date +%s%N) / 1000000)); }

t_example_is_valid() {
	run "$WSR" validate "$EXAMPLES/basic"
	expect_rc 0
	expect_out "3 workspaces valid in $EXAMPLES/basic"
}

t_current_directory_is_the_default() {
	cp -r "$EXAMPLES/basic" specs
	cd specs && run "$WSR" validate
	expect_rc 0
	expect_out "3 workspaces valid in ."
}

t_json_valid() {
	run "$WSR" validate "$EXAMPLES/basic" --json
	expect_rc 0
	expect_out '"valid":	true'
	expect_out '"resources":	3'
	expect_out '"diagnostics":	[]'
}

t_json_invalid() {
	specs duplicate-key
	run "$WSR" validate specs --json
	expect_rc 1
	expect_out '"valid":	false'
	expect_out '"source":	"specs/ws.yaml:9:3"'
	expect_out "duplicate key 'project' (first defined at 7:3)"
}

t_help() {
	run "$WSR" validate --help
	expect_rc 0
	expect_out "usage: wsr validate [PATH] [--json]"
}

t_bad_flag() {
	run "$WSR" validate --frobnicate
	expect_rc 1
}

t_missing_directory() {
	run "$WSR" validate nowhere
	expect_rc 1
	expect_err "error: nowhere: No such file or directory"
}

t_invalid_yaml() {
	specs invalid-yaml
	run "$WSR" validate specs
	expect_rc 1
	expect_err "specs/ws.yaml:8:7: error: invalid YAML: did not find expected ',' or ']'"
	expect_err "while parsing a flow sequence (at 7:12)"
}

t_duplicate_key() {
	specs duplicate-key
	run "$WSR" validate specs
	expect_rc 1
	expect_err "specs/ws.yaml:9:3: error: duplicate key 'project' (first defined at 7:3)"
}

t_unknown_field_with_did_you_mean() {
	specs unknown-field
	run "$WSR" validate specs
	expect_rc 1
	expect_err "specs/ws.yaml:10:5: error: unknown field 'verison' in spec.kubernetes"
	expect_err "hint: did you mean 'version'?"
	expect_err "specs/ws.yaml:11:5: error: unknown field 'color' in spec.kubernetes"
	expect_err "hint: allowed here: version, controlPlane,"
	expect_err "specs/ws.yaml:9:3: error: spec.kubernetes: missing required field 'version'"
}

t_wrong_type() {
	specs wrong-type
	run "$WSR" validate specs
	expect_rc 1
	expect_err "specs/ws.yaml:11:14: error: spec.kubernetes.ingress: expected true or false, found the quoted string \"true\""
	expect_err "hint: remove the quotes"
	expect_err "specs/ws.yaml:13:14: error: spec.maintenance.enabled: expected true or false, found 'yes'"
	expect_err "specs/ws.yaml:14:19: error: spec.maintenance.priorityHour: expected an integer, found 'noon'"
}

t_bad_enum() {
	specs bad-enum
	run "$WSR" validate specs
	expect_rc 1
	expect_err "specs/ws.yaml:11:19: error: spec.kubernetes.controlPlane: 'single-node' is not one of: high_available, single_node"
	expect_err "hint: did you mean 'single_node'?"
}

t_version_stays_a_string() {
	specs version-string
	run "$WSR" validate specs
	expect_rc 1
	expect_err "specs/ws.yaml:10:14: error: spec.kubernetes.version: '1.30' does not have the required form"
}

t_tab_indentation() {
	specs tab-indent
	run "$WSR" validate specs
	expect_rc 1
	expect_err "specs/ws.yaml:7:1: error: tab character in indentation; YAML requires spaces"
}

t_alias_bomb_refused_fast() {
	mkdir specs
	{
		echo 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]'
		i=1
		while [ $i -le 12 ]; do
			p=$((i - 1))
			echo "a$i: &a$i [*a$p, *a$p, *a$p, *a$p, *a$p, *a$p, *a$p, *a$p, *a$p, *a$p]"
			i=$((i + 1))
		done
	} >specs/bomb.yaml
	start=$(ms)
	run "$WSR" validate specs
	took=$(($(ms) - start))
	expect_rc 1
	expect_err "specs/bomb.yaml:5:"
	expect_err "error: aliases expand to more than 100000 nodes"
	[ "$took" -lt 1000 ] || fail "took ${took} ms"
}

t_nesting_too_deep() {
	specs too-deep
	run "$WSR" validate specs
	expect_rc 1
	expect_err "specs/ws.yaml:6:69: error: maps and lists nested deeper than 64 levels"
}

t_oversized_file() {
	mkdir specs
	ws big >specs/big.yaml
	head -c 8388608 /dev/zero | tr '\0' '#' >>specs/big.yaml
	run "$WSR" validate specs
	expect_rc 1
	expect_err "specs/big.yaml:1:1: error: the file is larger than 8 MiB (WSR_LOAD_MAX_FILE)"
}

t_non_utf8() {
	mkdir specs
	ws latin1 >specs/ws.yaml
	printf '  metadata:\n    owner: J\374rgen\n' >>specs/ws.yaml
	run "$WSR" validate specs
	expect_rc 1
	expect_err "specs/ws.yaml:10:13: error: invalid UTF-8 (byte 0xfc)"
}

t_nul_byte() {
	mkdir specs
	printf 'apiVersion: x\0\n' >specs/ws.yaml
	run "$WSR" validate specs
	expect_rc 1
	expect_err "specs/ws.yaml:1:14: error: NUL byte (0x00) in the file"
}

t_duplicate_workspace_across_files() {
	specs duplicate-workspace
	run "$WSR" validate specs
	expect_rc 1
	expect_err "specs/b.yaml:2:1: error: loopback/acme/twin is declared twice (first at specs/a.yaml:1)"
}

t_symlink_outside_refused() {
	mkdir specs outside
	ws elsewhere >outside/ws.yaml
	ln -s ../outside/ws.yaml specs/linked.yaml
	run "$WSR" validate specs
	expect_rc 1
	expect_err "specs/linked.yaml:1:1: error: symbolic link leads outside specs"
}

t_symlinked_directory_outside_refused() {
	mkdir specs outside
	ws elsewhere >outside/ws.yaml
	ln -s ../outside specs/more
	run "$WSR" validate specs
	expect_rc 1
	expect_err "specs/more:1:1: error: symbolic link leads outside specs"
}

t_symlink_inside_allowed() {
	mkdir -p specs/shared
	ws inside >specs/shared/ws.txt
	ln -s shared/ws.txt specs/linked.yaml
	run "$WSR" validate specs
	expect_rc 0
	expect_out "1 workspace valid in specs"
}

t_bad_name_with_sanitized_hint() {
	specs bad-name
	run "$WSR" validate specs
	expect_rc 1
	expect_err "specs/ws.yaml:4:9: error: metadata.name 'Payments_Prod' is not in the platform's form"
	expect_err "hint: the platform would call it 'payments-prod'; use that name"
	expect_no_err "does not have the required form"
}

t_kubernetes_block_on_baremetal() {
	specs baremetal-kubernetes
	run "$WSR" validate specs
	expect_rc 1
	expect_err "specs/ws.yaml:9:3: error: spec.kubernetes is not allowed for a baremetal workspace"
	expect_err "specs/ws.yaml:12:5: error: spec.maintenance.kubernetes is not allowed for a baremetal workspace"
}

t_kubernetes_block_required() {
	mkdir specs
	ws kube kubernetes >specs/ws.yaml
	run "$WSR" validate specs
	expect_rc 1
	expect_err "specs/ws.yaml:8:9: error: spec.kubernetes is required for a kubernetes workspace"
}

t_several_errors_in_one_run() {
	specs many-errors
	run "$WSR" validate specs
	expect_rc 1
	expect_err "specs/a.yaml:5:1: error: spec: missing required field 'project'"
	expect_err "specs/a.yaml:9:14: error: spec.kubernetes.version: '1.30' does not have the required form"
	expect_err "specs/a.yaml:20:15: error: spec.dns.provider: 'bind' is not one of: cloudflare, route53, none"
	expect_err "specs/b.yaml:5:3: error: unknown field 'lables' in metadata"
	expect_err "specs/b.yaml:10:9: error: spec.kubernetes is required for a kubernetes workspace"
	expect_err "5 errors"
	# sorted by file, then line
	[ "$(grep -c ': error: ' "$T/stderr")" -eq 5 ] || fail "expected 5 errors"
	grep ': error: ' "$T/stderr" | sort -t: -k1,1 -k2,2n -c || fail "diagnostics not in file:line order"
}

t_bad_config() {
	specs bad-config
	run "$WSR" validate specs
	expect_rc 1
	expect_err "specs/wsr.yaml:5:15: error: providers.loopback.endpoint: 'ftp://example.com' does not have the required form"
	expect_err "specs/wsr.yaml:6:14: error: providers.loopback.timeout: 0 is below the minimum 1"
	expect_err "specs/wsr.yaml:8:12: error: state.backend: 'consul' is not one of: file, etcd"
	expect_err "specs/wsr.yaml:9:1: error: unknown field 'parallelizm'"
	expect_err "hint: did you mean 'parallelism'?"
}

t_good_config_is_not_a_spec() {
	mkdir specs
	printf 'apiVersion: wsr.dev/v1\nkind: Config\nproviders:\n  loopback: {endpoint: "https://api.loopback.example", timeout: 60}\nparallelism: 4\n' >specs/wsr.yaml
	ws one >specs/ws.yaml
	run "$WSR" validate specs
	expect_rc 0
	expect_out "1 workspace valid in specs"
}

t_unknown_kind_and_stray_config() {
	specs unknown-kind
	run "$WSR" validate specs
	expect_rc 1
	expect_err "specs/ws.yaml:2:7: error: unknown kind 'Cluster' with apiVersion 'loopback.wsr.dev/v1'"
	expect_err "hint: known kinds: kcp.wsr.dev/v1 HomeWorkspace, kcp.wsr.dev/v1 Workspace, loopback.wsr.dev/v1 Workspace"
	expect_err "specs/ws.yaml:6:1: error: a Config document belongs only in wsr.yaml"
}

t_dot_directories_and_other_files_skipped() {
	mkdir -p specs/.wsr specs/.git specs/team
	echo 'not: [valid' >specs/.wsr/broken.yaml
	echo 'not: [valid' >specs/.git/broken.yml
	echo 'not: [valid' >specs/.gitlab-ci.yml
	echo 'not yaml at all: [' >specs/README.md
	ws one >specs/team/one.yml
	{ echo '---'; ws two; echo '---'; echo '# nothing'; echo '---'; } >specs/two.yaml
	run "$WSR" validate specs
	expect_rc 0
	expect_out "2 workspaces valid in specs"
}

# An alias of an anchor nobody defined, as a key of a map of ten keys,
# crashed every YAML reader (SIGSEGV): a spec, wsr.yaml and a seed now each
# get an error at the alias.
t_unknown_alias_key_is_an_error_everywhere() {
	mkdir specs
	{
		ws a
		printf '*nope: x\n'
		for k in b c d e f g h i j; do printf '%s: 1\n' "$k"; done
	} >specs/a.yaml
	run "$WSR" validate specs
	expect_rc 1
	expect_err "specs/a.yaml:9:1: error: unknown alias '*nope'"
	rm specs/a.yaml
	ws a >specs/a.yaml
	{
		printf 'apiVersion: wsr.dev/v1\nkind: Config\n*nope: x\n'
		for k in b c d e f g h i j; do printf '%s: 1\n' "$k"; done
	} >specs/wsr.yaml
	run "$WSR" plan specs
	expect_rc 1
	expect_err "specs/wsr.yaml:3:1: error: unknown alias '*nope'"
	{
		printf 'users: []\n*nope: x\n'
		for k in b c d e f g h i j; do printf '%s: 1\n' "$k"; done
	} >seed.yaml
	run "$WSR_SIM" serve --api kcp --seed seed.yaml --listen 127.0.0.1:0
	expect_rc 1
	expect_err "unknown alias '*nope'"
}

run_tests
