#!/bin/sh
# make demo: the main job on the embedded platform, step by step —
# validate, plan, apply, plan again — on a fresh copy of examples/basic,
# then the kcp tree of examples/kcp.
set -eu
BIN=$(cd "${1:-bin}" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/wsr-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -R "$top/examples/basic" "$work/basic"
cp -R "$top/examples/kcp" "$work/kcp"
cd "$work"
bold="" plain=""
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	bold=$(printf '\033[1m') plain=$(printf '\033[0m')
fi
step() {
	printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"
}
step wsr validate basic
"$BIN/wsr" validate basic
step wsr plan basic --detailed-exitcode
set +e
"$BIN/wsr" plan basic --detailed-exitcode
rc=$?
set -e
echo "(exit status $rc: 2 means changes are planned)"
[ "$rc" -eq 2 ]
step wsr apply basic --auto-approve
"$BIN/wsr" apply basic --auto-approve
step wsr plan basic --detailed-exitcode
"$BIN/wsr" plan basic --detailed-exitcode
echo "(exit status 0: the embedded platform matches the specs)"
step wsr state list --dir basic
"$BIN/wsr" state list --dir basic
step wsr apply kcp --auto-approve
"$BIN/wsr" apply kcp --auto-approve
step wsr plan kcp --detailed-exitcode
"$BIN/wsr" plan kcp --detailed-exitcode
