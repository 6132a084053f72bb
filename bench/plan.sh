#!/bin/sh
# make bench: plan 10,000 workspaces against wsr-sim on 127.0.0.1.
#   1. generate N specs (100 per file), start wsr-sim, apply them all (setup);
#   2. time `wsr plan` with nothing changed, then with 1% of the specs changed;
#   3. for a ratio measured in the same run: `wsr validate` (load + schema)
#      against a bare libyaml parse of the same files.
# Prints wall time, peak RSS and the number of HTTP requests the emulator served.
set -eu
BIN=${WSR_BIN:?}
N=${BENCH_N:-10000}
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/wsr-bench.XXXXXX")
sim_pid=""
cleanup() {
	[ -z "$sim_pid" ] || kill "$sim_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

cc -O2 -o yaml_baseline "$top/bench/yaml_baseline.c" $(pkg-config --cflags --libs yaml-0.1)

mkdir -p specs
awk -v n="$N" 'BEGIN {
	for (i = 0; i < n; i++) {
		f = sprintf("specs/ws-%03d.yaml", int(i / 100));
		printf "---\napiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata:\n  name: bench-%05d\n  labels: {team: t%d}\nspec:\n  organization: acme\n  project: %s\n  type: kubernetes\n  metadata: {costCenter: \"%d\"}\n  kubernetes: {version: \"1.30.2\", controlPlane: single_node, ingress: false}\n  dns: {provider: cloudflare, hostnamePattern: \"{name}.{organization}.example.net\"}\n  maintenance:\n    enabled: true\n    schedule: {0: 3, 1: 3, 2: 3, 3: 3, 4: 3, 5: 5, 6: 5}\n    priorityHour: 4\n    compute: {autoUpdate: true}\n    kubernetes: {autoPatch: true}\n", i, i % 20, (i % 2) ? "payments" : "sandbox", 1000 + i > f
	}
}'
cp "$top/tests/fixtures/seed.yaml" seed.yaml
"$BIN/wsr-sim" serve --api loopback --listen 127.0.0.1:0 --seed seed.yaml --data platform --quiet >sim.out 2>sim.err &
sim_pid=$!
i=0
while ! grep -q '^listening on' sim.out 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 200 ] || { cat sim.err; exit 1; }
	sleep 0.05
done
url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' sim.out)
printf 'apiVersion: wsr.dev/v1\nkind: Config\nproviders:\n  loopback: {endpoint: "%s", apiKeyEnv: LOOPBACK_API_KEY}\nparallelism: 32\n' "$url" >specs/wsr.yaml
export LOOPBACK_API_KEY=test-admin-key
requests() { curl -s "$url/_sim/stats" | sed -n 's/.*"requests":[ ]*\([0-9]*\).*/\1/p'; }

# measure LABEL CMD...: wall seconds and peak RSS of one run (best of 3).
measure() {
	label=$1
	shift
	best=""
	for r in 1 2 3; do
		before=$(requests)
		/usr/bin/time -q -f '%e %M' -o t.out "$@" >/dev/null 2>cmd.err || [ $? -eq 2 ] || { cat cmd.err; exit 1; }
		after=$(requests)
		read -r secs kb <t.out
		if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN{exit !(a<b)}'; then
			best=$secs
			best_kb=$kb
			best_req=$((after - before))
		fi
	done
	[ "$best_req" -ge 0 ] || best_req="-"
	printf '%-34s %7.2f s %8.1f MiB %7s requests\n' "$label" "$best" "$(echo "$best_kb" | awk '{print $1/1024}')" "$best_req"
}

echo "wsr bench: $N workspaces, $(nproc) cores, $(uname -m), $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
start=$(date +%s)
"$BIN/wsr" apply specs --auto-approve >apply.out 2>apply.err || { tail apply.out apply.err; exit 1; }
echo "setup: applied $N workspaces in $(($(date +%s) - start)) s ($(tail -n 1 apply.out))"

measure "libyaml parse only (baseline)" ./yaml_baseline specs/ws-*.yaml
measure "wsr validate" "$BIN/wsr" validate specs
measure "wsr plan, no changes" "$BIN/wsr" plan specs --detailed-exitcode
"$BIN/wsr" plan specs --detailed-exitcode >/dev/null 2>&1 || { echo "plan after apply is not clean"; exit 1; }
# change 1%: every 100th workspace gets another Wednesday hour
for f in specs/ws-*.yaml; do
	awk 'BEGIN{n=0} /^    schedule:/ { n++; if (n == 1) sub(/3: 3/, "3: 7") } {print}' "$f" >"$f.tmp" && mv "$f.tmp" "$f"
done
measure "wsr plan, 1% changed" "$BIN/wsr" plan specs --detailed-exitcode
changed=$("$BIN/wsr" plan specs --json | jq '[.changes[] | select(.actions == ["update"])] | length' || true)
echo "workspaces planned for update: $changed (expected $((N / 100)))"
