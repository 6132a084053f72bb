#!/bin/sh
# secrets_scan.sh DIR TESTS: fails when any file under DIR holds one of the
# API keys, tokens, webhook secrets or private keys the test suite uses.
# DIR is what the integration harness kept of every test (lib.sh
# keep_outputs: DIR/<script>/<test>/ with the test's outputs, logs, state
# and plan files and the /status and /metrics answers of its daemons) and
# the unit tests' output (DIR/unit/). TESTS is the number of integration
# tests that ran; the scan refuses to pass vacuously: every one of them must
# have left its directory, and at least as many non-empty files of theirs
# as tests must have been read.
#
# The secrets are collected from the seeds of tests/fixtures and the
# emulators' built-in ones (every apiKeys key and every kcp user token) plus
# those the scripts define themselves (the list below). A secret the tests pass on purpose into a place where it
# belongs is excluded by path (EXCLUDE below), each with its reason.
set -u
dir=${1:?usage: secrets_scan.sh DIR TESTS}
tests=${2:?usage: secrets_scan.sh DIR TESTS}
here=$(cd "$(dirname "$0")" && pwd)
# Fewer secrets than this means the collection broke, not that all is well.
MIN_SECRETS=20

list=$(mktemp)
trap 'rm -f "$list"' EXIT
{
	seeds="$here/fixtures/*.yaml $here/../sim/loopback/seed.yaml $here/../sim/kcp/seed.yaml"
	# shellcheck disable=SC2086 # the globs are meant to expand
	sed -n 's/.*{key: *\([^,} ]*\).*/\1/p; s/.*[{ ]token: *\([^,} ]*\).*/\1/p' $seeds
	# defined by the scripts and unit tests, not by a fixture
	cat <<'EOF'
It's a Secret to Everybody
wrong-token
test-token
s3cret-token
kube-token
ops-token
tok-secret
supersecret-value
embedded-key
topsecret
live-Pw-7f3e9a
PRIVATE KEY-----
EOF
} | sort -u | sed '/^$/d' >"$list"

# Paths (shell patterns, relative to DIR) where a secret is meant to be,
# each with its reason. Nothing wsr writes is on this list.
EXCLUDE='
test_secrets/*
*/platform.json
*/key.pem
*.kubeconfig
*/kubeconfig
*/hook.secret
*/etcd.pass
*/seed.yaml
*/seed-*.yaml
test_day_two/*/slow.yaml
test_sim_api/*/slow.yaml
test_sim_api/*/bad.yaml
test_kcp_sim/*/ttl.yaml
'
# test_secrets/*: the scanner's own test plants secrets to see it fail.
# platform.json: the emulators' store (--data), which holds their seeds' keys.
# key.pem: TLS keys the tests make for the emulators they start.
# kubeconfigs, hook.secret, etcd.pass: inputs that hand a token, the webhook
# secret or the etcd password to wsr and kubectl.
# seed*.yaml, slow.yaml, bad.yaml, ttl.yaml: emulator seeds the tests write
# (the users and keys the emulator accepts).

excluded() {
	set -f # the patterns are for case, not for the shell to expand
	for p in $EXCLUDE; do
		# shellcheck disable=SC2254 # the patterns are meant to match
		case "$1" in $p)
			set +f
			return 0
			;;
		esac
	done
	set +f
	return 1
}

secrets=$(wc -l <"$list")
if [ "$secrets" -lt "$MIN_SECRETS" ]; then
	echo "secret scan: only $secrets secrets collected (expected at least $MIN_SECRETS): the collection is broken"
	exit 1
fi
kept=$(find "$dir" -mindepth 3 -maxdepth 3 -name .test.log ! -path "$dir/test_secrets/*" | wc -l)
planted=$(find "$dir" -mindepth 3 -maxdepth 3 -name .test.log -path "$dir/test_secrets/*" | wc -l)
if [ $((kept + planted)) -lt "$tests" ]; then
	echo "secret scan: $tests integration tests ran but only $((kept + planted)) kept their outputs"
	exit 1
fi

files=0
outputs=0 # of integration tests
leaks=0
out=$(mktemp)
cd "$dir" || exit 1
find . -type f -size +0 | sed 's|^\./||' | sort >"$out"
while IFS= read -r f; do
	excluded "$f" && continue
	files=$((files + 1))
	case "$f" in unit/*) ;; *) outputs=$((outputs + 1)) ;; esac
	grep -qF -f "$list" "$f" || continue
	leaks=$((leaks + 1))
	echo "LEAK $f:"
	grep -noF -f "$list" "$f" | head -n 5 | sed 's/^/    line /'
done <"$out"
rm -f "$out"

need=$((tests - planted)) # the planted trees are not read
if [ "$outputs" -lt "$need" ]; then
	echo "secret scan: only $outputs files read for $need tests: nothing was really scanned"
	exit 1
fi
echo "secret scan: $files files of $kept tests read for $secrets secrets: $leaks with a secret"
[ "$leaks" -eq 0 ]
