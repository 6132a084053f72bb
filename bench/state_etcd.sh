#!/bin/sh
# make bench, second part: the etcd state backend against the file backend,
# in one run, on the same specs, the same emulator and the same platform.
#   1. start a BENCH_ETCD_MEMBERS-member etcd (default 3, what teams run) on
#      free 127.0.0.1 ports with its data under a temp dir (etcd's default
#      timings), and wsr-sim (instant provisioning);
#   2. apply N (default 10,000) workspaces on the file backend, then
#      `wsr state push` that state into etcd (the documented migration);
#   3. time `wsr plan` with nothing changed on each backend, and
#      `wsr state pull` from each;
#   4. time `wsr apply` of M (default 1,000) new workspaces on each backend,
#      each against a fresh emulator and a fresh state (new file, new prefix).
# Prints wall time, peak RSS and wsr's CPU time (best of BENCH_RUNS,
# default 3, alternating the backends; apply: best of BENCH_APPLY_RUNS,
# default 5, as it varies most with other load), every run's time, the
# etcd/file ratios, the etcd requests each run made (from etcd's gRPC
# counters, summed over the members) and the CPU etcd spent on them, the
# etcd state's key count and size, and etcd's WAL fsync and backend commit
# times.
# The etcd here is the bench's own: nothing of tests/integration is used.
set -eu
BIN=${WSR_BIN:?}
N=${BENCH_N:-10000}
M=${BENCH_APPLY_N:-1000}
MEMBERS=${BENCH_ETCD_MEMBERS:-3}
RUNS=${BENCH_RUNS:-3}
APPLY_RUNS=${BENCH_APPLY_RUNS:-5}
ETCD=${ETCD:-/usr/bin/etcd}
ETCDCTL=${ETCDCTL:-/usr/bin/etcdctl}
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/wsr-bench-etcd.XXXXXX")
pids=""    # the etcd members
sim_pid="" # the emulator running now
cleanup() {
	for p in $pids $sim_pid; do
		kill "$p" 2>/dev/null || true
	done
	for p in $pids $sim_pid; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
cd "$work"
export LOOPBACK_API_KEY=test-admin-key

# ---- etcd ----

# ports K: K distinct free TCP ports on 127.0.0.1 (held together while
# chosen, so they differ).
ports() {
	python3 -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))
' "$1"
}

# shellcheck disable=SC2046 # one port a word
set -- $(ports $((2 * MEMBERS)))
initial=""
endpoints=""
i=1
for p in "$@"; do
	if [ $((i % 2)) -eq 1 ]; then
		endpoints="$endpoints${endpoints:+,}http://127.0.0.1:$p"
	else
		initial="$initial${initial:+,}m$((i / 2))=http://127.0.0.1:$p"
	fi
	i=$((i + 1))
done
i=1
while [ $i -le "$MEMBERS" ]; do
	url=$(echo "$endpoints" | cut -d, -f$i)
	peer=$(echo "$initial" | cut -d, -f$i | sed 's/^m[0-9]*=//')
	"$ETCD" --name "m$i" --data-dir "$work/etcd.$i" \
		--listen-client-urls "$url" --advertise-client-urls "$url" \
		--listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
		--initial-cluster "$initial" --initial-cluster-state new \
		--initial-cluster-token "wsr-bench-$$" \
		--logger zap --log-outputs stderr </dev/null >"etcd.$i.log" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
ctl() { ETCDCTL_API=3 "$ETCDCTL" --endpoints "$endpoints" --dial-timeout 2s --command-timeout 30s "$@"; }
i=0
while ! ctl endpoint health >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 300 ] || { tail -n 20 etcd.*.log; echo "etcd did not become healthy"; exit 1; }
	sleep 0.1
done

# metric NAME_REGEX: the sum over the members of the Prometheus samples
# whose name and labels match.
metric() {
	for u in $(echo "$endpoints" | tr , ' '); do
		curl -s "$u/metrics"
	done | awk -v re="$1" '$0 !~ /^#/ && $1 ~ re { s += $2 } END { printf "%.6f\n", s }'
}
# etcd requests served (unary gRPC calls, the JSON gateway's included, and
# messages received on streams such as lease keepalive), by method.
etcd_calls() {
	for u in $(echo "$endpoints" | tr , ' '); do
		curl -s "$u/metrics"
	done | awk '
		/^grpc_server_handled_total/ && /grpc_type="unary"/ { m = $1; sub(/.*grpc_method="/, "", m); sub(/".*/, "", m); c[m] += $2 }
		/^grpc_server_msg_received_total/ && /grpc_type="bidi_stream"/ { m = $1; sub(/.*grpc_method="/, "", m); sub(/".*/, "", m); c[m] += $2 }
		END { for (m in c) print m, c[m] }' | sort
}
# calls_delta BEFORE AFTER: "Range 42, Txn 3" for the methods that changed
# (etcdctl's and this script's own Status/health calls are not made between
# the two snapshots).
calls_delta() {
	awk 'NR == FNR { b[$1] = $2; next } { d = $2 - b[$1]; if (d > 0) { t += d; s = s (s ? ", " : "") $1 " " d } }
		END { printf "%d (%s)\n", t, s ? s : "none" }' "$1" "$2"
}

# ---- the emulator ----

sim_start() {
	if [ -n "$sim_pid" ]; then
		kill "$sim_pid"
		wait "$sim_pid" 2>/dev/null || true
		sim_pid=""
	fi
	rm -rf platform sim.out
	"$BIN/wsr-sim" serve --api loopback --listen 127.0.0.1:0 --seed "$top/tests/fixtures/seed.yaml" \
		--data platform --quiet >sim.out 2>sim.err &
	sim_pid=$!
	i=0
	while ! grep -q '^listening on' sim.out 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 200 ] || { cat sim.err; exit 1; }
		sleep 0.05
	done
	url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' sim.out)
}
requests() { curl -s "$url/_sim/stats" | sed -n 's/.*"requests":[ ]*\([0-9]*\).*/\1/p'; }

# ---- trees ----

# specs DIR COUNT NAMEPREFIX: COUNT Loopback workspaces (100 a file), as
# bench/plan.sh makes them.
specs() {
	mkdir -p "$1"
	awk -v n="$2" -v d="$1" -v p="$3" 'BEGIN {
	for (i = 0; i < n; i++) {
		f = sprintf("%s/ws-%03d.yaml", d, int(i / 100));
		printf "---\napiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata:\n  name: %s-%05d\n  labels: {team: t%d}\nspec:\n  organization: acme\n  project: %s\n  type: kubernetes\n  metadata: {costCenter: \"%d\"}\n  kubernetes: {version: \"1.30.2\", controlPlane: single_node, ingress: false}\n  dns: {provider: cloudflare, hostnamePattern: \"{name}.{organization}.example.net\"}\n  maintenance:\n    enabled: true\n    schedule: {0: 3, 1: 3, 2: 3, 3: 3, 4: 3, 5: 5, 6: 5}\n    priorityHour: 4\n    compute: {autoUpdate: true}\n    kubernetes: {autoPatch: true}\n", p, i, i % 20, (i % 2) ? "payments" : "sandbox", 1000 + i > f
	}
}'
}
# config DIR file|etcd PREFIX: DIR/wsr.yaml on the current emulator.
config() {
	printf 'apiVersion: wsr.dev/v1\nkind: Config\nproviders:\n  loopback: {endpoint: "%s", apiKeyEnv: LOOPBACK_API_KEY}\nparallelism: 32\n' "$url" >"$1/wsr.yaml"
	if [ "$2" = etcd ]; then
		printf 'state:\n  backend: etcd\n  endpoints: [%s]\n  prefix: %s\n' \
			"$(echo "$endpoints" | sed 's/,/, /g')" "$3" >>"$1/wsr.yaml"
	fi
}

# ---- measuring ----

# etcd_cpu: CPU seconds the members have used so far.
etcd_cpu() {
	for p in $pids; do
		cat "/proc/$p/stat"
	done | awk -v hz="$(getconf CLK_TCK)" '{ t += $14 + $15 } END { printf "%.2f\n", t / hz }'
}
# once LABEL CMD...: one run; its wall seconds, peak KiB, CPU seconds,
# emulator requests, etcd CPU seconds and etcd calls are left in last.
once() {
	label=$1
	shift
	etcd_calls >calls.before
	c0=$(etcd_cpu)
	r0=$(requests)
	/usr/bin/time -q -f '%e %M %U %S' -o t.out "$@" >cmd.out 2>cmd.err || [ $? -eq 2 ] ||
		{ echo "$label failed:"; tail cmd.out cmd.err; exit 1; }
	r1=$(requests)
	c1=$(etcd_cpu)
	etcd_calls >calls.after
	echo "$(awk '{printf "%s %s %.2f", $1, $2, $3 + $4}' t.out) $((r1 - r0)) $(echo "$c0 $c1" | awk '{printf "%.2f", $2 - $1}') $(calls_delta calls.before calls.after)" >last
}
# keep KEY: the last run becomes KEY's if it is KEY's fastest (results:
# one line per key, "KEY secs kib wsr-cpu requests etcd-cpu calls...").
keep() {
	echo "$1 $(cut -d' ' -f1 last)" >>every
	touch results
	if awk -v k="$1" -v s="$(cut -d' ' -f1 last)" '$1 == k && $2 <= s { found = 1 } END { exit found }' results; then
		grep -v "^$1 " results >results.tmp || true
		echo "$1 $(cat last)" >>results.tmp
		mv results.tmp results
	fi
}
row() {
	awk -v k="$1" -v l="$2" '$1 == k { c = $7; for (i = 8; i <= NF; i++) c = c " " $i
		printf "%-34s %6.2f s %7.1f MiB  CPU %5.2f s %5s sim req.  etcd: %4.2f s CPU, %s calls\n", l, $2, $3 / 1024, $4, $5, $6, c }' results
}
# spread KEY: every run's wall time, in the order run.
spread() { awk -v k="$1" '$1 == k { s = s (s ? " " : "") $2 } END { print s }' every; }
ratio() {
	awk -v a="$1" -v b="$2" -v l="$3" '{ s[$1] = $2; m[$1] = $3; c[$1] = $4 }
		END { printf "%-36s %5.2fx wall  %5.2fx peak RSS  %5.2fx wsr CPU\n", l, s[a] / s[b], m[a] / m[b],
			(c[b] > 0 ? c[a] / c[b] : 0) }' results
}
# disk_counters: WAL fsyncs and backend commits so far (count, seconds),
# summed over the members.
disk_counters() {
	echo "$(metric '^etcd_disk_wal_fsync_duration_seconds_count$') $(metric '^etcd_disk_wal_fsync_duration_seconds_sum$')" \
		"$(metric '^etcd_disk_backend_commit_duration_seconds_count$') $(metric '^etcd_disk_backend_commit_duration_seconds_sum$')"
}
# disk_delta BEFORE AFTER: what the members' disks did in between.
disk_delta() {
	echo "$1 $2" | awk '{ wc = $5 - $1; ws = $6 - $2; bc = $7 - $3; bs = $8 - $4
		printf "%d WAL fsyncs, mean %.2f ms; %d backend commits, mean %.2f ms (all members)\n",
			wc, (wc ? 1000 * ws / wc : 0), bc, (bc ? 1000 * bs / bc : 0) }'
}

echo "wsr bench, state backends: $N workspaces planned, $M applied; $MEMBERS-member etcd $("$ETCD" --version | sed -n 's/^etcd Version: //p'); $(nproc) cores"
tmpdev=$(df -P "$work" | awk 'NR == 2 {print $1}')
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shows here)"
echo "etcd data and the state file on $tmpdev ($(df -PT "$work" | awk 'NR == 2 {print $2}'))"
# the disk's own fsync cost: 200 synchronous 4 KiB writes (as etcd's WAL)
dd if=/dev/zero of=dd.test bs=4k count=200 oflag=dsync 2>dd.err >/dev/null
awk '/copied/ { for (i = 1; i <= NF; i++) if ($i ~ /^s,?$/) t = $(i - 1); printf "disk: 200 O_DSYNC 4 KiB writes in %s s, %.2f ms each\n", t, 1000 * t / 200 }' dd.err
rm -f dd.test
disk0=$(disk_counters)

# ---- plan of N, nothing changed ----

sim_start
specs f "$N" bench
config f file
start=$(date +%s)
"$BIN/wsr" apply f --auto-approve >apply.out 2>apply.err || { tail apply.out apply.err; exit 1; }
echo "setup: applied $N workspaces on the file backend in $(($(date +%s) - start)) s ($(tail -n 1 apply.out))"
# the same tree with its state in etcd: same specs (same relative paths),
# same emulator, the file state pushed
mkdir e && cp f/ws-*.yaml e/ && config e etcd /wsr/bench/plan
"$BIN/wsr" state pull --dir f >file-state.json
once "wsr state push (file -> etcd)" "$BIN/wsr" state push --dir e file-state.json
keep push
once "wsr state pull, etcd" "$BIN/wsr" state pull --dir e
cmp -s cmd.out file-state.json || { echo "the state pulled from etcd differs from the file state pushed"; exit 1; }
keys=$(ctl get --prefix /wsr/bench/plan --keys-only -w json | jq -r ".count")
dbsize=$(ctl endpoint status -w json | jq '[.[].Status.dbSize] | max')
"$BIN/wsr" plan e --detailed-exitcode >/dev/null 2>&1 || { echo "plan on the pushed etcd state is not clean"; exit 1; }

r=1
while [ "$r" -le "$RUNS" ]; do
	once "plan file" "$BIN/wsr" plan f --detailed-exitcode
	keep plan_f
	once "plan etcd" "$BIN/wsr" plan e --detailed-exitcode
	keep plan_e
	once "pull file" "$BIN/wsr" state pull --dir f
	keep pull_f
	once "pull etcd" "$BIN/wsr" state pull --dir e
	keep pull_e
	r=$((r + 1))
done

# ---- apply of M new workspaces, each on a fresh emulator and state ----

r=1
while [ "$r" -le "$APPLY_RUNS" ]; do
	for b in file etcd; do
		sim_start
		rm -rf "a-$b" && specs "a-$b" "$M" new
		config "a-$b" "$b" "/wsr/bench/apply-$r"
		once "apply $b" "$BIN/wsr" apply "a-$b" --auto-approve
		grep -q "$M succeeded" cmd.out || { echo "apply $b:"; tail -n 3 cmd.out cmd.err; exit 1; }
		if [ $b = file ]; then keep apply_f; else keep apply_e; fi
		echo "$b $("$BIN/wsr" state pull --dir "a-$b" | jq .serial)" >>serials
	done
	r=$((r + 1))
done

echo
echo "ratios, etcd / file (best of $RUNS runs each, apply best of $APPLY_RUNS; alternating):"
ratio plan_e plan_f "wsr plan of $N, no changes"
ratio apply_e apply_f "wsr apply of $M new"
ratio pull_e pull_f "wsr state pull of $N"
echo
row plan_f "wsr plan $N, no changes, file"
row plan_e "wsr plan $N, no changes, etcd"
row apply_f "wsr apply $M new, file"
row apply_e "wsr apply $M new, etcd"
row pull_f "wsr state pull $N, file"
row pull_e "wsr state pull $N, etcd"
row push "wsr state push $N, file -> etcd"
echo "every run's wall time (s): plan file $(spread plan_f); plan etcd $(spread plan_e)"
echo "  apply file $(spread apply_f); apply etcd $(spread apply_e)"
echo
echo "etcd state of $N: $keys keys under the prefix (a header and one per resource); db size $(echo "$dbsize" | awk '{printf "%.1f", $1 / 1048576}') MiB (largest member)"
echo "state writes of each $M-workspace apply (the serial it ended at; an etcd apply's Txn calls are these, the lock's and any batches of a write over one txn):" \
	"file $(sed -n 's/^file //p' serials | tr '\n' ' ')- etcd $(sed -n 's/^etcd //p' serials | tr '\n' ' ')"
echo "etcd disk during the bench: $(disk_delta "$disk0" "$(disk_counters)")"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
