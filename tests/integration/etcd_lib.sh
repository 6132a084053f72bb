# etcd_lib.sh: a real etcd cluster (Debian's etcd 3.4) for integration
# tests, on 127.0.0.1 only. Source it AFTER lib.sh; every function works in
# the test's $T. The members' data, logs and (with etcd_tls=1) certificates
# are under $T/etcd/.
#
#   etcd_start [N]        N members (default 3) on free client and peer ports;
#                         returns once every member answers and a leader
#                         exists; sets ETCD_ENDPOINTS (comma-separated client
#                         URLs), ETCD_URL1..N and ETCD_N.
#   etcd_stop_member I [SIGNAL]   stops member I (default TERM; KILL for a crash)
#   etcd_start_member I   starts member I again on its data dir (it rejoins);
#                         returns once it answers (a leader needs a quorum:
#                         etcd_wait_healthy waits for that)
#   etcd_wait_healthy [SECONDS]   every running member answers a linearizable
#                         read (so a leader exists)
#   etcd_leader           the index I of the current leader
#   etcd_enable_auth USER PASSWORD   adds root and USER (both with PASSWORD;
#                         USER may read and write keys under /), turns auth on;
#                         etcd_ctl uses root from then on
#   etcd_ctl ARGS...      etcdctl against the cluster with the TLS and auth
#                         options it needs
#
# Options, set before etcd_start: etcd_tls=1 makes the members serve HTTPS
# with a CA made for the test and require client certificates: the CA is
# $T/etcd/ca.pem, the client's $T/etcd/client.pem and client-key.pem.
# ETCD_EXTRA: more etcd flags for every member (e.g. "--auth-token-ttl 2").
#
# Timings are for tests, not production: a 50 ms heartbeat and a 500 ms
# election timeout (etcd's defaults are 100 ms and 1 s), so a cluster
# starts in about a second and a new leader is elected within about one
# second of losing the old one. Minimum lease TTL follows (1.5 election
# timeouts, 750 ms, rounded up to 1 s).
#
# Members end with the test even when it fails: they are in $T/.pids, which
# lib.sh's trap kills, and a reaper started with the first member removes
# their data directories and the private keys when the test ends, before
# lib.sh keeps the test's files for the secret scan (the write-ahead log
# holds the auth requests' passwords, the key files are keys). Their logs
# stay.

etcd_tls=${etcd_tls:-0}

# Functions here name their variables _e*, so a test's own stay as they are.

# etcd_ports N: N distinct free TCP ports on 127.0.0.1, one a line (held
# open together while chosen, so they differ).
etcd_ports() {
	python3 -c '
import socket, sys
ss = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    ss.append(s)
for s in ss:
    print(s.getsockname()[1])
' "$1"
}

# etcd_certs: a CA, a server certificate for 127.0.0.1 (also usable as a
# client: etcd's embedded gateway presents it to etcd's own gRPC server)
# and a client certificate, all under $T/etcd. Neither has a CommonName:
# with auth on, the gateway refuses a client certificate that has one, and
# etcd would take the gateway's CN for a user (docs/api/etcd.md, TLS).
etcd_certs() {
	_ed=$T/etcd
	_eec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
	# shellcheck disable=SC2086
	openssl req -x509 $_eec -days 1 -subj /CN=wsr-test-etcd-ca \
		-keyout "$_ed/ca-key.pem" -out "$_ed/ca.pem" 2>/dev/null || return 1
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >"$_ed/server.ext"
	printf 'extendedKeyUsage=clientAuth\n' >"$_ed/client.ext"
	for _ewho in server client; do
		# shellcheck disable=SC2086
		openssl req $_eec -subj "/O=wsr-test-$_ewho" -keyout "$_ed/$_ewho-key.pem" \
			-out "$_ed/$_ewho.csr" 2>/dev/null &&
			openssl x509 -req -in "$_ed/$_ewho.csr" -CA "$_ed/ca.pem" -CAkey "$_ed/ca-key.pem" \
				-CAcreateserial -days 1 -extfile "$_ed/$_ewho.ext" -out "$_ed/$_ewho.pem" 2>/dev/null ||
			return 1
	done
}

# etcd_gone PID: the process has exited (a zombie not yet reaped counts).
etcd_gone() {
	[ ! -d "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# etcd_reaper: started once per test (its pid first in $T/.pids): on TERM it
# stops the members still running and removes data and keys (see the top).
etcd_reaper() {
	(
		trap '
			for _ef in "$T"/etcd/pid.*; do
				[ -f "$_ef" ] && kill -9 "$(cat "$_ef")" 2>/dev/null
			done
			for _ef in "$T"/etcd/pid.*; do
				_ei=0
				while [ -f "$_ef" ] && ! etcd_gone "$(cat "$_ef")" && [ $_ei -lt 50 ]; do
					sleep 0.1
					_ei=$((_ei + 1))
				done
			done
			rm -rf "$T"/etcd/data.* "$T"/etcd/*key.pem
			exit 0' TERM
		while :; do
			sleep 1 &
			wait $!
		done
	) </dev/null >/dev/null 2>&1 &
	echo $! >>"$T/.pids"
}

etcd_scheme() { if [ "$etcd_tls" = 1 ]; then echo https; else echo http; fi; }

# etcd_get KEY: a value of $T/etcd/cluster (ports, URLs, the initial cluster).
etcd_get() { sed -n "s/^$1=//p" "$T/etcd/cluster"; }

# etcd_run I: starts member I.
etcd_run() {
	_ed=$T/etcd
	_ei=$1
	_eurl=$(etcd_get "url$_ei")
	_epp=$(etcd_get "peer$_ei")
	set --
	if [ "$etcd_tls" = 1 ]; then
		set -- --cert-file "$_ed/server.pem" --key-file "$_ed/server-key.pem" \
			--trusted-ca-file "$_ed/ca.pem" --client-cert-auth
	fi
	# shellcheck disable=SC2086 # ETCD_EXTRA is a list of flags
	etcd --name "m$_ei" --data-dir "$_ed/data.$_ei" \
		--listen-client-urls "$_eurl" --advertise-client-urls "$_eurl" \
		--listen-peer-urls "http://127.0.0.1:$_epp" \
		--initial-advertise-peer-urls "http://127.0.0.1:$_epp" \
		--initial-cluster "$(etcd_get initial)" --initial-cluster-state new \
		--initial-cluster-token "wsr-test-$$" \
		--heartbeat-interval 50 --election-timeout 500 \
		--logger zap --log-outputs stderr "$@" ${ETCD_EXTRA:-} \
		</dev/null >>"$_ed/m$_ei.log" 2>&1 &
	echo $! >"$_ed/pid.$_ei"
	echo $! >>"$T/.pids"
}

# etcd_ctl_at ENDPOINTS ARGS...: etcdctl against those endpoints.
etcd_ctl_at() {
	_eeps=$1
	shift
	set -- --endpoints "$_eeps" --dial-timeout 2s --command-timeout 3s "$@"
	if [ "$etcd_tls" = 1 ]; then
		set -- --cacert "$T/etcd/ca.pem" --cert "$T/etcd/client.pem" \
			--key "$T/etcd/client-key.pem" "$@"
	fi
	if [ -n "${ETCD_ROOT_PASSWORD:-}" ]; then
		set -- --user "root:$ETCD_ROOT_PASSWORD" "$@"
	fi
	ETCDCTL_API=3 etcdctl "$@"
}

etcd_ctl() { etcd_ctl_at "$ETCD_ENDPOINTS" "$@"; }

# etcd_answers I: member I answers on its client port (no leader needed).
etcd_answers() {
	set -- "$(etcd_get "url$1")/version"
	if [ "$etcd_tls" = 1 ]; then
		set -- --cacert "$T/etcd/ca.pem" --cert "$T/etcd/client.pem" \
			--key "$T/etcd/client-key.pem" "$@"
	fi
	curl -s -f -m 1 -o /dev/null "$@"
}

# etcd_running: the client URLs of the members running now, comma-separated.
etcd_running() {
	_eeps=""
	_en=1
	while [ $_en -le "$ETCD_N" ]; do
		[ -f "$T/etcd/pid.$_en" ] && _eeps="$_eeps${_eeps:+,}$(etcd_get "url$_en")"
		_en=$((_en + 1))
	done
	echo "$_eeps"
}

etcd_wait_healthy() {
	_elim=$((${1:-20} * 10))
	_ei=0
	while [ $_ei -lt "$_elim" ]; do
		etcd_ctl_at "$(etcd_running)" endpoint health >/dev/null 2>&1 && return 0
		sleep 0.1
		_ei=$((_ei + 1))
	done
	echo "etcd: the cluster did not become healthy within ${1:-20} s" >&2
	tail -n 20 "$T"/etcd/m*.log >&2
	return 1
}

etcd_start() {
	ETCD_N=${1:-3}
	_ed=$T/etcd
	mkdir -p "$_ed"
	if [ -f "$_ed/cluster" ]; then
		echo "etcd_start: a cluster already runs in this test" >&2
		return 1
	fi
	if [ "$etcd_tls" = 1 ] && ! etcd_certs; then
		echo "etcd: making the certificates failed" >&2
		return 1
	fi
	etcd_reaper
	# shellcheck disable=SC2046 # one port a word
	set -- $(etcd_ports $((2 * ETCD_N)))
	_einit=""
	_en=1
	while [ $_en -le "$ETCD_N" ]; do
		{
			echo "client$_en=$1"
			echo "peer$_en=$2"
			echo "url$_en=$(etcd_scheme)://127.0.0.1:$1"
		} >>"$_ed/cluster"
		_einit="$_einit${_einit:+,}m$_en=http://127.0.0.1:$2"
		shift 2
		_en=$((_en + 1))
	done
	echo "initial=$_einit" >>"$_ed/cluster"
	_en=1
	while [ $_en -le "$ETCD_N" ]; do
		eval "ETCD_URL$_en=\$(etcd_get url$_en)"
		etcd_run $_en
		_en=$((_en + 1))
	done
	ETCD_ENDPOINTS=$(etcd_running)
	export ETCD_ENDPOINTS ETCD_N
	etcd_wait_healthy 20
}

etcd_stop_member() {
	_ef=$T/etcd/pid.$1
	[ -f "$_ef" ] || return 0
	_ep=$(cat "$_ef")
	kill "-${2:-TERM}" "$_ep" 2>/dev/null
	watchdog 10 "$_ep" # a member that does not stop on TERM is killed
	wait "$_ep" 2>/dev/null
	watchdog_off
	rm -f "$_ef"
}

etcd_start_member() {
	[ -f "$T/etcd/pid.$1" ] && return 0
	etcd_run "$1"
	_ei=0
	while [ $_ei -lt 100 ]; do
		etcd_answers "$1" && return 0
		sleep 0.1
		_ei=$((_ei + 1))
	done
	echo "etcd: member $1 did not answer again" >&2
	tail -n 20 "$T/etcd/m$1.log" >&2
	return 1
}

etcd_leader() {
	_en=1
	while [ $_en -le "$ETCD_N" ]; do
		if [ -f "$T/etcd/pid.$_en" ] &&
			etcd_ctl_at "$(etcd_get "url$_en")" endpoint status -w json 2>/dev/null |
			jq -e '.[0].Status | .header.member_id == .leader' >/dev/null 2>&1; then
			echo "$_en"
			return 0
		fi
		_en=$((_en + 1))
	done
	return 1
}

etcd_enable_auth() {
	etcd_ctl user add root --new-user-password "$2" >/dev/null &&
		etcd_ctl user grant-role root root >/dev/null || return 1
	if [ "$1" != root ]; then
		etcd_ctl user add "$1" --new-user-password "$2" >/dev/null &&
			etcd_ctl role add wsr >/dev/null &&
			etcd_ctl role grant-permission wsr readwrite / --prefix >/dev/null &&
			etcd_ctl user grant-role "$1" wsr >/dev/null || return 1
	fi
	etcd_ctl auth enable >/dev/null || return 1
	ETCD_ROOT_PASSWORD=$2
}
