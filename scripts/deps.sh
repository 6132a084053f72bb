#!/bin/sh
# Installs the Debian packages wsr needs to build and test, and only those that
# are missing, so `make demo` and `make test` work on a fresh machine.
set -eu
PKGS="gcc make pkg-config git curl ca-certificates libyaml-dev libgit2-dev
libcurl4-openssl-dev libcjson-dev libssl-dev libcmocka-dev libmicrohttpd-dev
time util-linux jq python3-prometheus-client etcd-server etcd-client"
# `make fuzz` also needs clang and its runtime (libFuzzer, ASan, UBSan).
if [ "${FUZZ:-0}" = 1 ]; then
	PKGS="$PKGS clang libclang-rt-dev"
fi
# `make valgrind` also needs valgrind.
if [ "${VALGRIND:-0}" = 1 ]; then
	PKGS="$PKGS valgrind"
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
