# lib.sh: the shared harness of the integration tests. A test script sources
# it, defines functions named t_<what>, and ends with `run_tests`. Each test
# runs in its own subshell and temporary directory ($T, also the working
# directory); emulators it starts are stopped when it ends. Output protocol:
# "PASS name" / "FAIL name" lines, which tests/run.sh counts.
#
# Only 127.0.0.1 is ever contacted.

WSR="$WSR_BIN/wsr"
WSR_SIM="$WSR_BIN/wsr-sim"
FIXTURES=$(cd "$(dirname "$0")/../fixtures" && pwd)
EXAMPLES=$(cd "$(dirname "$0")/../../examples" && pwd)
export NO_COLOR=1

# sim_start [SEED] [API]: starts wsr-sim on a free port; sets SIM_URL and
# SIM_DIR (its folder: data/, out, and err with the request log), which is
# $T/sim for loopback and $T/sim-<api> for the others, so one test can run
# both emulators. With SIM_TLS=1 it serves HTTPS with a certificate for
# 127.0.0.1 made for the test; the CA to trust is $SIM_DIR/cert.pem.
sim_start() {
	seed=${1:-$FIXTURES/seed.yaml}
	api=${2:-loopback}
	SIM_DIR=$T/sim
	[ "$api" = loopback ] || SIM_DIR=$T/sim-$api
	mkdir -p "$SIM_DIR"
	set --
	if [ "${SIM_TLS:-0}" = 1 ]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
			-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
			-keyout "$SIM_DIR/key.pem" -out "$SIM_DIR/cert.pem" 2>/dev/null || return 1
		set -- --tls-cert "$SIM_DIR/cert.pem" --tls-key "$SIM_DIR/key.pem"
	fi
	"$WSR_SIM" serve --api "$api" --listen 127.0.0.1:0 --seed "$seed" \
		--data "$SIM_DIR/data" "$@" >"$SIM_DIR/out" 2>"$SIM_DIR/err" &
	echo $! >>"$T/.pids"
	i=0
	while [ $i -lt 100 ]; do
		SIM_URL=$(sed -n 's/^listening on \(https\{0,1\}:[^ ]*\).*/\1/p' "$SIM_DIR/out" 2>/dev/null | head -n 1)
		[ -n "$SIM_URL" ] && return 0
		sleep 0.05
		i=$((i + 1))
	done
	echo "wsr-sim did not start:" >&2
	cat "$SIM_DIR/err" >&2
	return 1
}

# sim_requests: the number of requests the emulator has served.
sim_requests() {
	curl -s "$SIM_URL/_sim/stats" | sed -n 's/.*"requests":[ ]*\([0-9]*\).*/\1/p'
}

# use_sim DIR [KEY]: writes DIR/wsr.yaml pointing the loopback provider at
# SIM_URL with the key in LOOPBACK_API_KEY (default: the fixture admin key).
use_sim() {
	mkdir -p "$1"
	cat >"$1/wsr.yaml" <<EOC
apiVersion: wsr.dev/v1
kind: Config
providers:
  loopback: {endpoint: "$SIM_URL", apiKeyEnv: LOOPBACK_API_KEY}
EOC
	LOOPBACK_API_KEY=${2:-test-admin-key}
	export LOOPBACK_API_KEY
}

# many DIR N: N baremetal workspace specs of acme (w001...) in DIR/many.yaml.
many() {
	mkdir -p "$1"
	i=1
	while [ "$i" -le "$2" ]; do
		printf -- '---\napiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata: {name: w%03d}\nspec: {organization: acme, project: sandbox, type: baremetal}\n' "$i"
		i=$((i + 1))
	done >"$1/many.yaml"
}

# count_platform: how many workspaces acme has on the emulator at SIM_URL
# (every page of the listing).
count_platform() {
	n=0
	cursor=""
	while :; do
		curl -s -H "Authorization: Bearer test-admin-key" \
			"$SIM_URL/v1/organizations/acme/workspaces?limit=500$cursor" >page.json
		n=$((n + $(grep -o '"id":' page.json | wc -l)))
		next=$(sed -n 's/.*"nextCursor":[ ]*"\([^"]*\)".*/\1/p' page.json)
		[ -n "$next" ] || break
		cursor="&cursor=$next"
	done
	echo "$n"
}

# expect_converged DIR N: one more apply of DIR succeeds, the plan after it
# has no changes, and the emulator and the state each hold exactly N
# workspaces: nothing lost, nothing duplicated.
expect_converged() {
	run "$WSR" apply "$1" --auto-approve --parallelism 8
	expect_rc 0
	run "$WSR" plan "$1" --detailed-exitcode
	expect_rc 0
	[ "$(count_platform)" -eq "$2" ] || fail "platform has $(count_platform) workspaces, want $2 (none duplicated)"
	[ "$("$WSR" state list --dir "$1" | wc -l)" -eq "$2" ] || fail "state does not hold all $2"
}

# use_kcp DIR [TOKEN] [HOME]: wsr.yaml and a kubeconfig pointing the kcp
# provider at the emulator (SIM_URL) as TOKEN (default the admin's). HOME is
# the providers.kcp.home block, default {style: buckets} (the test seed's
# homes); "" leaves it out, so the provider's default applies.
use_kcp() {
	mkdir -p "$1"
	cat >"$1/kcp.kubeconfig" <<EOC
apiVersion: v1
kind: Config
clusters:
- name: sim
  cluster: {server: "$SIM_URL/clusters/root"}
users:
- name: me
  user: {token: "${2:-kcp-admin-token}"}
contexts:
- name: sim
  context: {cluster: sim, user: me}
current-context: sim
EOC
	home=${3-"{style: buckets}"}
	printf 'apiVersion: wsr.dev/v1\nkind: Config\nproviders:\n  kcp: {endpoint: kubeconfig, kubeconfig: kcp.kubeconfig%s}\n' \
		"${home:+, home: $home}" >"$1/wsr.yaml"
}

# run CMD...: runs a command, keeping stdout in $T/stdout, stderr in
# $T/stderr and the exit status in RC. Never fails by itself. Under
# tests/run.sh (WSR_KEEP_DIR) both are also added to $T/.runs.stdout and
# .runs.stderr, so the secret scan reads every run's output, not the last.
run() {
	"$@" >"$T/stdout" 2>"$T/stderr"
	RC=$?
	if [ -n "${WSR_KEEP_DIR:-}" ]; then # every run's output, for the secret scan
		cat "$T/stdout" >>"$T/.runs.stdout"
		cat "$T/stderr" >>"$T/.runs.stderr"
	fi
	return 0
}

fail() {
	echo "  $*" >&2
	echo "  --- stdout:" >&2
	sed 's/^/  | /' "$T/stdout" 2>/dev/null | tail -n 30 >&2
	echo "  --- stderr:" >&2
	sed 's/^/  | /' "$T/stderr" 2>/dev/null | tail -n 30 >&2
	exit 1
}

# watchdog SECONDS PID: kills PID with SIGKILL if it still runs SECONDS
# from now (its exit status is then 137); sets DOG for watchdog_off. The
# watchdog's sleep ends with it and holds none of the test's output.
watchdog() {
	(
		sleep "$1" </dev/null >/dev/null 2>&1 &
		s=$!
		trap 'kill $s 2>/dev/null; exit 0' TERM
		wait $s
		kill -9 "$2" 2>/dev/null
	) </dev/null >/dev/null 2>&1 &
	DOG=$!
}
watchdog_off() { kill "$DOG" 2>/dev/null; wait "$DOG" 2>/dev/null; }

# expect_rc N: the last `run` exited with N.
expect_rc() { [ "$RC" -eq "$1" ] || fail "exit status $RC, expected $1"; }
# expect_out TEXT / expect_err TEXT: stdout / stderr contains TEXT (fixed string).
expect_out() { grep -qF -- "$1" "$T/stdout" || fail "stdout lacks: $1"; }
expect_err() { grep -qF -- "$1" "$T/stderr" || fail "stderr lacks: $1"; }
expect_no_out() { ! grep -qF -- "$1" "$T/stdout" || fail "stdout has: $1"; }
# expect_json FILTER: jq FILTER over stdout is true (the output must be JSON).
expect_json() { jq -e "$1" "$T/stdout" >/dev/null 2>&1 || fail "stdout JSON fails: $1"; }
expect_no_err() { ! grep -qF -- "$1" "$T/stderr" || fail "stderr has: $1"; }

# keep_answers: what each daemon of the test (watch_start lists its URL in
# $T/.urls) answers on /status and /metrics as the test ends, kept in
# $T/.answers/ for the secret scan (tests/secrets_scan.sh).
keep_answers() {
	[ -n "${WSR_KEEP_DIR:-}" ] && [ -f "$T/.urls" ] || return 0
	mkdir -p "$T/.answers"
	# called mid-test by stop_watch: names of its own, not the test's n or f
	_ka_n=0
	for _ka_u in $(cat "$T/.urls"); do
		_ka_n=$((_ka_n + 1))
		for _ka_e in status metrics; do # a stopped daemon's silence keeps what it said
			_ka_f=$T/.answers/$_ka_e-$_ka_n
			curl -s -m 2 "$_ka_u/$_ka_e" >"$_ka_f.new" 2>/dev/null && [ -s "$_ka_f.new" ] &&
				mv "$_ka_f.new" "$_ka_f"
			rm -f "$_ka_f.new"
		done
	done
}

# keep_outputs NAME: with WSR_KEEP_DIR set (tests/run.sh sets it), copies
# what test NAME left in $T, and its own log, to
# $WSR_KEEP_DIR/<script>/NAME/ before $T is deleted, so the secret scan
# reads every output, state, plan and log file the suite produced. Git
# object stores are left out: compressed, they hide nothing a grep finds.
keep_outputs() {
	[ -n "${WSR_KEEP_DIR:-}" ] || return 0
	dest=$WSR_KEEP_DIR/$(basename "$0" .sh)/$1
	mkdir -p "$dest" && cp "$T.log" "$dest/.test.log"
	(cd "$T" && find . -type f ! -path '*/objects/*' -print0 | xargs -0 -r cp --parents -t "$dest")
}

run_tests() {
	for t in $(grep -o '^t_[a-zA-Z0-9_]*' "$0"); do
		T=$(mktemp -d)
		(
			cd "$T" || exit 1
			trap 'keep_answers; for p in $(cat "$T/.pids" 2>/dev/null); do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done' EXIT
			$t
		) 2>"$T.log"
		if [ $? -eq 0 ]; then
			echo "PASS $t"
		else
			echo "FAIL $t"
			sed 's/^/    /' "$T.log"
		fi
		keep_outputs "$t"
		rm -rf "$T" "$T.log"
	done
}
