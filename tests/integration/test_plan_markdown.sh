#!/bin/sh
# `wsr plan --format markdown`: the pull-request comment CI posts, on the
# embedded platform (no wsr.yaml). Also --format's contract and that the CI
# examples are valid YAML.
. "$(dirname "$0")/lib.sh"

# ws DIR FILE NAME [COSTCENTER]: a kubernetes workspace spec in DIR/FILE.
ws() {
	mkdir -p "$1"
	cat >"$1/$2" <<EOF2
apiVersion: loopback.wsr.dev/v1
kind: Workspace
metadata:
  name: $3
spec:
  organization: acme
  project: payments
  type: kubernetes
  metadata: {costCenter: '${4:-4711}'}
  kubernetes: {version: "1.30.2"}
EOF2
}

# rows_consistent: every table line of stdout has as many unescaped '|' as
# the header (an escaped "\|" is text, not a cell border).
rows_consistent() {
	n=$(grep '^|' "$T/stdout" | sed 's/\\\\//g; s/\\|//g' | awk -F'|' '{print NF}' | sort -u | wc -l)
	[ "$n" -eq 1 ] || fail "table rows differ in cell count: $(grep '^|' "$T/stdout")"
}

t_summary_table_and_diff() {
	ws specs alpha.yaml alpha && ws specs beta.yaml beta
	run "$WSR" plan specs --format markdown --detailed-exitcode
	expect_rc 2
	expect_out "## wsr plan"
	expect_out "**2 to create, 0 to update, 0 to replace, 0 to delete.**"
	expect_out "| | address | actions | why |"
	expect_out '| `+` | loopback/acme/alpha (specs/alpha.yaml:1) | create | new in the specs |'
	expect_out '<details><summary><code>loopback/acme/beta</code></summary>'
	expect_out '```diff'
	expect_out '+ kubernetes.version = "1.30.2"'
	expect_no_out "wsr will perform"
	rows_consistent
	[ "$(grep -c '^| `+`' "$T/stdout")" -eq 2 ] || fail "expected two table rows"

	run "$WSR" apply specs --auto-approve
	expect_rc 0
	sed -i 's/1.30.2/1.31.1/' specs/alpha.yaml
	run "$WSR" plan specs --format markdown --detailed-exitcode
	expect_rc 2
	expect_out '| `~` | loopback/acme/alpha (specs/alpha.yaml:1) | upgrade **(disruptive)** |'
	expect_out '- kubernetes.version = "1.30.2"'
	expect_out '+ kubernetes.version = "1.31.1"'
	sed -i 's/1.31.1/1.30.2/' specs/alpha.yaml
	run "$WSR" plan specs --format markdown --detailed-exitcode
	expect_rc 0
	expect_out "**No changes. The platform matches the specs (2 workspaces).**"
	expect_no_out "| address |"
}

t_user_text_cannot_break_the_table() {
	# a file name and a value with '|' and backticks
	ws specs 'we|ird`name.yaml' alpha 'a|b `c` ```'
	run "$WSR" plan specs --format markdown
	expect_rc 0
	rows_consistent
	expect_out '| `+` | loopback/acme/alpha (specs/we\|ird\`name.yaml:1) | create |'
	# inside the diff fence the value is shown as it is
	expect_out '+ metadata = {"costCenter":"a|b `c` ```"}'
	# and the fence closes where wsr closed it: one opening, one closing
	[ "$(grep -c '^```' "$T/stdout")" -eq 2 ] || fail "fence lines: $(grep '^```' "$T/stdout")"
}

t_errors_as_a_list_with_positions() {
	ws specs alpha.yaml alpha
	sed -i 's/type: kubernetes/type: bare-metal/' specs/alpha.yaml
	run "$WSR" plan specs --format markdown --detailed-exitcode
	expect_rc 1
	expect_out "**No plan: planning failed with 1 error.**"
	expect_out "### Errors and warnings"
	expect_out "- **error** specs/alpha.yaml:8:9: spec.type: 'bare-metal' is not one of: kubernetes, baremetal"
	expect_out "  - hint: did you mean 'baremetal'?"
	# stderr still carries the diagnostics, as for every format
	expect_err "specs/alpha.yaml:8:9: error: spec.type"
}

t_format_flag() {
	ws specs alpha.yaml alpha
	run "$WSR" plan specs --json
	cp "$T/stdout" json1
	run "$WSR" plan specs --format json
	expect_rc 0
	cmp -s json1 "$T/stdout" || fail "--format json differs from --json"
	run "$WSR" plan specs --format text
	expect_rc 0
	expect_out "Plan: 1 to create"
	run "$WSR" plan specs --format yaml
	expect_rc 1
	expect_err "error: --format wants text, json or markdown, got 'yaml'"
	[ ! -s "$T/stdout" ] || fail "a usage error printed a plan"
	run "$WSR" plan specs --json --format markdown
	expect_rc 1
	expect_err "--json contradicts --format markdown"
	# a saved plan is announced only in the text form: markdown stays clean
	run "$WSR" plan specs --format markdown --out plan.json
	expect_rc 0
	expect_no_out "Saved the plan"
	[ -s plan.json ] || fail "no plan file"
}

t_ci_examples_are_yaml() {
	if ! /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
		echo "  skipped: /usr/bin/python3 has no yaml module" >&2
		return 0
	fi
	for f in "$EXAMPLES"/ci/*.yml; do
		run /usr/bin/python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); assert isinstance(d, dict) and d, "empty"' "$f"
		expect_rc 0
	done
	# both plan in Markdown and apply, with flags wsr knows
	for f in github-actions.yml gitlab-ci.yml; do
		grep -q 'wsr plan "$SPECS" --format markdown --detailed-exitcode' "$EXAMPLES/ci/$f" ||
			fail "$f does not run the markdown plan"
		grep -q 'wsr apply "$SPECS" --auto-approve' "$EXAMPLES/ci/$f" ||
			fail "$f does not apply"
	done
	mkdir specs
	run "$WSR" plan specs --format markdown --detailed-exitcode
	expect_rc 0
}

run_tests
