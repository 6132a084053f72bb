#!/bin/sh
# test_kcp_sim: wsr-sim's kcp API driven over HTTP with curl, as a client
# sees it (docs/api/kcp.md): Status errors with their reasons, phases that
# follow the clock and the phases that close a workspace, kcp's admission
# messages, pages of at most maxPageSize with continue tokens, PUT/PATCH
# with resourceVersion conflicts, cascading deletion, dryRun=All writing
# nothing, logical-cluster and bucketed homes, impersonation, the body
# limit, hostile paths, the emulator-only endpoints, persistence across a
# restart, bad seeds, the built-in seed, and HTTPS.
. "$(dirname "$0")/lib.sh"

SEED="$FIXTURES/kcp-seed.yaml"
TOKEN=kcp-admin-token
CT=application/json

# api METHOD PATH [BODY] [TOKEN]: one request; the answer's body goes to
# $T/stdout, its status to CODE. CT is the body's Content-Type.
api() {
	if [ -n "${3:-}" ]; then
		CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -X "$1" -H "Authorization: Bearer ${4-$TOKEN}" \
			-H "Content-Type: $CT" --data-binary "$3" "$SIM_URL$2")
	else
		CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -X "$1" -H "Authorization: Bearer ${4-$TOKEN}" \
			"$SIM_URL$2")
	fi
	: >"$T/stderr"
}

expect_code() { [ "$CODE" = "$1" ] || fail "HTTP status $CODE, expected $1"; }
# expect_status CODE REASON: the last answer is a Status with them.
expect_status() {
	expect_code "$1"
	expect_json ".kind == \"Status\" and .code == $1 and .reason == \"$2\""
}

WS=/clusters/root/apis/tenancy.kcp.io/v1alpha1/workspaces

# ws NAME [TYPE]: a Workspace body.
ws() {
	if [ -n "${2:-}" ]; then
		printf '{"apiVersion":"tenancy.kcp.io/v1alpha1","kind":"Workspace","metadata":{"name":"%s"},"spec":{"type":{"name":"%s"}}}' "$1" "$2"
	else
		printf '{"apiVersion":"tenancy.kcp.io/v1alpha1","kind":"Workspace","metadata":{"name":"%s"}}' "$1"
	fi
}

start() { sim_start "${1:-$SEED}" kcp || exit 1; }

t_tokens_and_unknown_paths() {
	start
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' "$SIM_URL$WS")
	expect_status 401 Unauthorized
	api GET $WS "" nope
	expect_status 401 Unauthorized
	api GET /clusters/root:nope/apis/tenancy.kcp.io/v1alpha1/workspaces
	expect_status 404 NotFound
	expect_out 'workspace root:nope not found'
	api GET /clusters/root/nothing
	expect_status 404 NotFound
	api GET /version
	expect_code 200
	expect_json '.gitVersion | test("kcp")'
}

t_create_list_and_pages() {
	start
	for n in e a d c; do
		api POST $WS "$(ws $n)"
		expect_code 201
	done
	expect_json '.status.phase == "Ready" and .spec.type == {"name":"universal","path":"root"}'
	expect_json '.spec.URL == "'"$SIM_URL"'/clusters/root:c" and (.spec.cluster | length) == 16'
	# five children of root (users too), two a page: a c / d e / users
	names=""
	cont=""
	pages=0
	while :; do
		api GET "$WS${cont:+?continue=$cont}"
		expect_code 200
		expect_json '.kind == "WorkspaceList" and (.items | length) <= 2'
		names="$names $(jq -r '.items[].metadata.name' "$T/stdout" | tr '\n' ' ')"
		pages=$((pages + 1))
		cont=$(jq -r '.metadata.continue // ""' "$T/stdout")
		[ -n "$cont" ] || break
	done
	[ "$pages" = 3 ] || fail "$pages pages"
	[ "$(echo $names)" = "a c d e users" ] || fail "names: $names"
	api GET "$WS?limit=1"
	expect_json '(.items | length) == 1 and .items[0].metadata.name == "a"'
	api GET "$WS?limit=x"
	expect_status 400 BadRequest
	api GET "$WS?continue=made-up"
	expect_status 410 Gone
	api GET $WS/a
	expect_json '.metadata.name == "a"'
	api GET $WS/zz
	expect_status 404 NotFound
	expect_out 'workspaces.tenancy.kcp.io \"zz\" not found'
}

t_phases_and_the_scheduling_403() {
	printf 'schedulingMs: 300\n' >"$T/seed.yaml"
	sed -n '/^users:/,$p' "$SEED" >>"$T/seed.yaml"
	start "$T/seed.yaml"
	api POST $WS "$(ws turtle slow)" bob-token
	expect_code 201
	expect_json '.status.phase == "Scheduling"'
	# kcp's content authorizer closes a Scheduling workspace
	api GET /clusters/root:turtle/apis/tenancy.kcp.io/v1alpha1/workspaces "" bob-token
	expect_status 403 Forbidden
	expect_out 'User \"bob\" cannot list resource \"workspaces\" in API group \"tenancy.kcp.io\" at the cluster scope: not permitted due to phase \"Scheduling\"'
	sleep 0.4
	api GET $WS/turtle
	expect_json '.status.phase == "Initializing" and .status.initializers == ["root:slow"]'
	# Initializing is open
	api GET /clusters/root:turtle/apis/tenancy.kcp.io/v1alpha1/workspaces
	expect_code 200
	sleep 1.6
	api GET $WS/turtle
	expect_json '.status.phase == "Ready" and .status.initializers == []'
	api POST /clusters/root:turtle/apis/tenancy.kcp.io/v1alpha1/workspaces "$(ws inner)" bob-token
	expect_code 201
}

t_admission_refusals() {
	start
	api POST $WS "$(ws acme organization)"
	expect_code 201
	sleep 0.3
	api POST $WS '{"apiVersion":"tenancy.kcp.io/v1alpha1","kind":"Workspace","metadata":{"name":"Bad!"}}'
	expect_status 422 Invalid
	expect_json '.details.causes[0].field == "metadata.name"'
	api POST $WS "$(ws acme nope)"
	expect_status 409 AlreadyExists
	api POST $WS "$(ws x nope)"
	expect_status 403 Forbidden
	expect_out 'workspaces.tenancy.kcp.io \"x\" is forbidden: workspace type \"nope\" cannot be resolved'
	api POST $WS "$(ws x restricted)" bob-token
	expect_status 403 Forbidden
	expect_out "unable to use workspace type root:restricted: missing verb='use' permission on workspacetype"
	api POST /clusters/root:acme/apis/tenancy.kcp.io/v1alpha1/workspaces "$(ws sub organization)"
	expect_status 403 Forbidden
	expect_out 'workspace type root:organization only allows [root:root] parent workspaces, but parent type root:organization only implements [root:organization]'
	api POST /clusters/root:users/apis/tenancy.kcp.io/v1alpha1/workspaces "$(ws u universal)"
	expect_status 403 Forbidden
	expect_out 'workspace type root:homeroot only allows [root:homebucket] child workspaces, but child type root:universal only implements [root:universal]'
	api POST /clusters/root:acme/apis/tenancy.kcp.io/v1alpha1/workspaces "$(ws team-a)" bob-token
	expect_code 201
	expect_json '.spec.type.name == "team"'
	# a review says the same before the create
	api POST /clusters/root/apis/authorization.k8s.io/v1/selfsubjectaccessreviews \
		'{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"group":"tenancy.kcp.io","resource":"workspacetypes","verb":"use","name":"restricted"}}}' alice-token
	expect_code 201
	expect_json '.status.allowed == true'
}

t_updates_and_conflicts() {
	start
	api POST $WS "$(ws w)"
	# what a client PUTs: the object it read, changed (spec.URL, spec.cluster
	# and spec.type must stay as they are)
	body=$(jq -c '.metadata.labels = {"a":"1"}' "$T/stdout")
	curl -s -X POST "$SIM_URL/_sim/conflicts" -d '{"path":"root:w","count":1}' >"$T/stdout"
	expect_json '.conflicts == 1'
	api PUT $WS/w "$body"
	expect_status 409 Conflict
	expect_out 'the object has been modified; please apply your changes to the latest version and try again'
	api GET $WS/w
	expect_json '.metadata.annotations["sim.wsr.dev/touched"] == "1"'
	rv=$(jq -r .metadata.resourceVersion "$T/stdout")
	api PUT $WS/w "$(echo "$body" | sed "s/\"resourceVersion\":\"[0-9]*\"/\"resourceVersion\":\"$rv\"/")"
	expect_code 200
	expect_json '.metadata.labels == {"a":"1"}'
	CT=application/merge-patch+json api PATCH $WS/w '{"metadata":{"labels":{"a":null,"b":"2"}}}'
	expect_code 200
	expect_json '.metadata.labels == {"b":"2"}'
	CT=application/apply-patch+yaml api PATCH $WS/w '{}'
	expect_status 415 UnsupportedMediaType
	CT=application/merge-patch+json api PATCH $WS/w '{"spec":{"type":{"name":"team"}}}'
	expect_status 422 Invalid
	expect_out 'spec.type: Invalid value: \"object\": name is immutable'
	# a PUT without spec.type would unset it: kcp's admission refuses
	api GET $WS/w
	api PUT $WS/w "$(jq -c 'del(.spec.type)' "$T/stdout")"
	expect_status 403 Forbidden
	expect_out 'spec.type: Invalid value: \"null\": field is immutable'
	api PUT $WS/w '{"apiVersion":"tenancy.kcp.io/v1alpha1","kind":"Workspace","metadata":{"name":"v"}}'
	expect_status 400 BadRequest
}

t_delete_and_the_body_limit() {
	start
	api POST $WS "$(ws acme organization)"
	sleep 0.3
	api POST /clusters/root:acme/apis/tenancy.kcp.io/v1alpha1/workspaces "$(ws t1)"
	expect_code 201
	# a parent with children is deleted with them (no terminatingMs or
	# deletionMs here: at once)
	api DELETE $WS/acme
	expect_code 200
	expect_json '.metadata.deletionTimestamp != null and .status.phase == "Deleting"'
	expect_json '.metadata.finalizers == ["core.kcp.io/logicalcluster"]'
	api GET $WS/acme
	expect_status 404 NotFound
	api GET /clusters/root:acme/apis/tenancy.kcp.io/v1alpha1/workspaces/t1
	expect_status 404 NotFound
	head -c 1048577 /dev/zero | tr '\0' ' ' >"$T/big"
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
		-H "Content-Type: $CT" --data-binary @"$T/big" "$SIM_URL$WS")
	expect_status 413 RequestEntityTooLarge
	# a 64 KiB request line, twice libmicrohttpd's connection buffer: its
	# own 414, and the server goes on. bash writes the request; the server
	# may answer and close before the write ends, so a failed write is not
	# a failure (the line is small enough to sit in the socket buffers,
	# where the 414 is still read)
	port=${SIM_URL##*:}
	bash -c 'trap "" PIPE
		exec 3<>/dev/tcp/127.0.0.1/$1 || exit 1
		printf "GET /clusters/root:%s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" \
			"$(head -c 65536 /dev/zero | tr "\0" a)" >&3 2>/dev/null
		head -n 1 <&3' sh "$port" >"$T/stdout" || fail "bash could not connect"
	expect_out '414'
	api GET "/clusters/root:$(head -c 3000 /dev/zero | tr '\0' a)/apis"
	expect_status 404 NotFound
	[ "$(wc -c <"$T/stdout")" -lt 1500 ] || fail "the long path came back whole"
	api GET /version
	expect_code 200
}

t_sim_endpoints() {
	start
	before=$(sim_requests)
	api GET $WS
	api GET $WS
	[ "$(sim_requests)" = $((before + 2)) ] || fail "requests not counted"
	curl -s -X POST "$SIM_URL/_sim/faults" -d '{"kind":"respond","method":"GET","path":"/clusters/root/","status":429,"count":1}' >"$T/stdout"
	expect_json '.faults == 1'
	CODE=$(curl -s -D "$T/headers" -o "$T/stdout" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$SIM_URL$WS")
	expect_status 429 TooManyRequests
	expect_json '.details.retryAfterSeconds == 1'
	grep -qi '^Retry-After: 1' "$T/headers" || fail 'no Retry-After header'
	api GET $WS
	expect_code 200
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -X POST "$SIM_URL/_sim/faults" -d '{"kind":"respond"}')
	expect_status 400 BadRequest
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -X DELETE "$SIM_URL/_sim/faults")
	expect_code 200
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -X POST "$SIM_URL/_sim/conflicts" -d '{"path":"root:none"}')
	expect_status 404 NotFound
}

t_data_survives_a_restart() {
	start
	api POST $WS "$(ws keep)"
	expect_code 201
	api DELETE $WS/keep
	rv=$(curl -s -H "Authorization: Bearer $TOKEN" "$SIM_URL$WS" | jq -r .metadata.resourceVersion)
	api POST $WS "$(ws stays)"
	kill "$(tail -n 1 "$T/.pids")"
	wait "$(tail -n 1 "$T/.pids")" 2>/dev/null
	: >"$SIM_DIR/out"
	start
	api GET $WS/stays
	expect_code 200
	api GET $WS/keep
	expect_status 404 NotFound
	api POST $WS "$(ws later)"
	[ "$(jq -r .metadata.resourceVersion "$T/stdout")" -gt "$rv" ] || fail "resourceVersion went back"
}

t_bad_seed_is_refused_with_its_position() {
	printf 'users:\n  - {name: a, token: t}\nworkspaces:\n  - {path: "root:x:y"}\n' >"$T/bad.yaml"
	run "$WSR_SIM" serve --api kcp --listen 127.0.0.1:0 --seed "$T/bad.yaml"
	expect_rc 1
	expect_err "bad.yaml:4:12: workspaces[0].path: its parent root:x is not listed before it"
	run "$WSR_SIM" serve --api nope
	expect_rc 1
	expect_err 'loopback and kcp are'
}

t_builtin_seed_and_https() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		-keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null || fail "openssl req failed"
	"$WSR_SIM" serve --api kcp --listen 127.0.0.1:0 --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" \
		>"$T/out" 2>"$T/err" &
	echo $! >>"$T/.pids"
	i=0
	while [ $i -lt 100 ] && ! grep -q listening "$T/out"; do
		sleep 0.05
		i=$((i + 1))
	done
	url=$(sed -n 's/^listening on //p' "$T/out")
	case "$url" in https://127.0.0.1:*) ;; *) fail "not https: $url" ;; esac
	# kcp's default configuration: no root:users, a home at ~
	curl -s --cacert "$T/cert.pem" -H "Authorization: Bearer wsr-embedded-kcp-admin" \
		"$url$WS/users" >"$T/stdout"
	expect_json '.code == 404'
	curl -s --cacert "$T/cert.pem" -H "Authorization: Bearer wsr-embedded-kcp-admin" \
		-H 'Content-Type: application/json' -d "$(ws acme)" "$url$WS" >"$T/stdout"
	expect_json '.spec.type == {"name":"organization","path":"root"} and (.spec.URL | startswith("https://"))'
	curl -s --cacert "$T/cert.pem" -H "Authorization: Bearer wsr-embedded-kcp-admin" \
		"$url/clusters/root/apis/tenancy.kcp.io/v1alpha1/workspacetypes/homebucket" >"$T/stdout"
	expect_json '.code == 404'
	run "$WSR_SIM" serve --api kcp --listen 127.0.0.1:0 --tls-cert "$T/cert.pem"
	expect_rc 1
	expect_err '--tls-cert and --tls-key go together'
}

# snapshot: what a dry run must not change (the list, its resourceVersion,
# the files under --data).
snapshot() {
	curl -s -H "Authorization: Bearer $TOKEN" "$SIM_URL$WS" >"$T/$1.list"
	find "$SIM_DIR/data" -type f -exec sha256sum {} + | sort >"$T/$1.files"
}

t_dry_run_writes_nothing() {
	start
	api POST $WS "$(ws w)"
	expect_code 201
	snapshot before
	api POST "$WS?dryRun=All" "$(ws x)"
	expect_code 201
	expect_json '.metadata.name == "x" and .spec.type.name == "universal" and .metadata.resourceVersion == null'
	api POST "$WS?dryRun=All" "$(ws x nope)"
	expect_status 403 Forbidden
	api GET $WS/w
	api PUT "$WS/w?dryRun=All" "$(jq -c '.metadata.labels = {"a":"1"}' "$T/stdout")"
	expect_code 200
	expect_json '.metadata.labels == {"a":"1"}'
	CT=application/merge-patch+json api PATCH "$WS/w?dryRun=All" '{"metadata":{"labels":{"b":"2"}}}'
	expect_json '.metadata.labels == {"b":"2"}'
	api PUT "$WS/w/status?dryRun=All" '{"apiVersion":"tenancy.kcp.io/v1alpha1","kind":"Workspace","metadata":{"name":"w"},"status":{"phase":"Inactive"}}'
	expect_json '.status.phase == "Inactive"'
	api DELETE "$WS/w?dryRun=All"
	expect_code 200
	expect_json '.metadata.deletionTimestamp != null'
	snapshot after
	cmp -s "$T/before.list" "$T/after.list" || fail "the list changed"
	cmp -s "$T/before.files" "$T/after.files" || fail "files under --data changed"
	api GET $WS/x
	expect_status 404 NotFound
	api DELETE "$WS/w?dryRun=Yes"
	expect_status 422 Invalid
	expect_out 'dryRun: Unsupported value'
}

# poll_json SECONDS PATH FILTER: GETs PATH every 50 ms until jq FILTER holds
# over the answer (then returns 0) or SECONDS pass (then fails the test).
poll_json() {
	end=$(($(date +%s%N) + $1 * 1000000000))
	while :; do
		api GET "$2"
		jq -e "$3" "$T/stdout" >/dev/null 2>&1 && return 0
		[ "$(date +%s%N)" -lt "$end" ] || fail "not within $1 s: $2 $3"
		sleep 0.05
	done
}

t_delete_cascades_with_its_phases() {
	# phases of 1.5 s each: wide enough that a loaded machine still sees
	# every one of them by polling, never by sleeping a guessed time
	printf 'terminatingMs: 1500\ndeletionMs: 1500\n' >"$T/seed.yaml"
	sed -n '/^users:/,$p' "$SEED" >>"$T/seed.yaml"
	start "$T/seed.yaml"
	api POST $WS "$(ws p)"
	api POST /clusters/root:p/apis/tenancy.kcp.io/v1alpha1/workspaces "$(ws c)"
	expect_code 201
	api DELETE $WS/p
	expect_code 200
	expect_json '.status.phase == "Terminating" and .metadata.deletionTimestamp != null'
	api GET /clusters/root:p/apis/tenancy.kcp.io/v1alpha1/workspaces/c
	expect_json '.status.phase == "Ready"'
	poll_json 5 $WS/p '.status.phase == "Deleting"'
	api GET /clusters/root:p/apis/tenancy.kcp.io/v1alpha1/workspaces/c
	expect_json '.status.phase == "Deleting" and .metadata.deletionTimestamp != null'
	poll_json 5 $WS/p '.code == 404 and .reason == "NotFound"'
	api GET /clusters/root:p:c/apis/tenancy.kcp.io/v1alpha1/workspaces
	expect_status 404 NotFound
}

t_seeded_phases_close_workspaces() {
	cat >"$T/seed.yaml" <<'YAML'
users:
  - {name: admin, token: kcp-admin-token, groups: ["system:masters"]}
workspaces:
  - {path: "root:off", type: {name: organization}, phase: Unavailable}
  - {path: "root:gone", type: {name: organization}, phase: Inactive}
YAML
	start "$T/seed.yaml"
	api GET /clusters/root:off/apis/tenancy.kcp.io/v1alpha1/workspaces
	expect_status 403 Forbidden
	expect_out 'not permitted due to phase \"Unavailable\"'
	api GET /clusters/root:gone/apis/tenancy.kcp.io/v1alpha1/workspaces
	expect_status 403 Forbidden
	expect_out 'logical cluster is marked inactive'
	api PUT $WS/off/status '{"apiVersion":"tenancy.kcp.io/v1alpha1","kind":"Workspace","metadata":{"name":"off"},"status":{"phase":"Ready"}}'
	expect_code 200
	api GET /clusters/root:off/apis/tenancy.kcp.io/v1alpha1/workspaces
	expect_code 200
}

t_logicalcluster_homes() {
	printf 'users:\n  - {name: admin, token: kcp-admin-token, groups: ["system:masters"]}\n  - {name: bob, token: bob-token}\n' >"$T/seed.yaml"
	start "$T/seed.yaml"
	CODE=$(curl -s -D "$T/headers" -o "$T/stdout" -w '%{http_code}' -H "Authorization: Bearer bob-token" "$SIM_URL$WS/~")
	expect_code 429
	expect_out 'Creating the home workspace'
	grep -qi '^Retry-After: 1' "$T/headers" || fail 'no Retry-After header'
	grep -qi '^Content-Type: text/plain' "$T/headers" || fail 'not text/plain'
	sleep 0.2
	api GET $WS/~ "" bob-token
	expect_code 200
	expect_json '.metadata.name == "cluster" and .spec.cluster == "2okdry95y5lkv" and .spec.URL == "'"$SIM_URL"'/clusters/user:bob" and .status.phase == "Ready"'
	api POST /clusters/user:bob/apis/tenancy.kcp.io/v1alpha1/workspaces "$(ws dev)" bob-token
	expect_code 201
	api GET /clusters/user:bob/apis/core.kcp.io/v1alpha1/logicalclusters/cluster "" bob-token
	expect_json '.metadata.annotations["kcp.io/path"] == "user:bob" and .status.phase == "Ready"'
	# impersonation: only system:masters; the impersonated user has no home yet
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -H "Authorization: Bearer bob-token" -H "Impersonate-User: admin" "$SIM_URL$WS")
	expect_status 403 Forbidden
	expect_out 'users \"admin\" is forbidden: User \"bob\" cannot impersonate resource \"users\"'
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H "Impersonate-User: carol" \
		"$SIM_URL/clusters/user:carol/apis/core.kcp.io/v1alpha1/logicalclusters/cluster")
	expect_status 403 Forbidden
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H "Impersonate-User: carol" "$SIM_URL$WS/~")
	expect_code 429
	# homes persist across a restart
	kill "$(tail -n 1 "$T/.pids")"
	wait "$(tail -n 1 "$T/.pids")" 2>/dev/null
	start "$T/seed.yaml"
	api GET /clusters/user:bob/apis/tenancy.kcp.io/v1alpha1/workspaces/dev "" bob-token
	expect_code 200
}

# a bucket-style server has none of it: how a client tells them apart
t_bucketed_homes() {
	start
	api GET $WS/~ "" bob-token
	expect_status 404 NotFound
	api GET /clusters/root/apis/tenancy.kcp.io/v1alpha1/workspacetypes/homebucket
	expect_code 200
}

# ---- the API surface kubectl needs: watch, limits, continue expiry,
# set-based selectors, JSON patch, the core group ----

# watch_bg FILE QUERY: a watch of root's workspaces in the background (curl,
# at most 8 s), its events to FILE and its headers to FILE.h.
watch_bg() {
	timeout 8 curl -sN -D "$1.h" -H "Authorization: Bearer $TOKEN" "$SIM_URL$WS?$2" >"$1" &
}

t_watch_streams_live_events_until_its_timeout() {
	start
	api POST $WS "$(ws a)"
	api GET $WS
	rv=$(jq -r .metadata.resourceVersion "$T/stdout")
	before=$(date +%s)
	watch_bg "$T/w" "watch=true&resourceVersion=$rv&timeoutSeconds=3"
	wpid=$!
	sleep 0.3
	api POST $WS "$(ws s slow)" # Initializing for 1.5 s
	expect_code 201
	# nobody asks anything more: Ready must still reach the watcher
	wait $wpid || fail "the watch did not end by itself (curl $?)"
	secs=$(($(date +%s) - before))
	[ "$secs" -ge 2 ] && [ "$secs" -le 5 ] || fail "the watch lasted ${secs}s, not its 3 s"
	grep -qi '^transfer-encoding: chunked' "$T/w.h" || fail "not a chunked answer: $(cat "$T/w.h")"
	cp "$T/w" "$T/stdout"
	[ "$(jq -s 'length' "$T/stdout")" = 3 ] || fail "not three events"
	jq -s -e '.[0].type == "ADDED" and .[0].object.metadata.name == "s" and ([.[1:][].type] == ["MODIFIED", "MODIFIED"])' \
		"$T/stdout" >/dev/null || fail "not ADDED s, then MODIFIED twice"
	jq -s -e '[.[].object.status.phase] == ["Scheduling", "Initializing", "Ready"]' "$T/stdout" >/dev/null ||
		fail "not Scheduling, Initializing, Ready"
	jq -s -e '[.[].object.metadata.resourceVersion | tonumber] | . == sort and (unique | length) == 3' \
		"$T/stdout" >/dev/null || fail "not in resourceVersion order"
	# from the start: the current items, then live
	watch_bg "$T/w2" "watch=1&timeoutSeconds=1"
	wait $! || true
	[ "$(jq -r .object.metadata.name "$T/w2" | tr '\n' ' ')" = "a s users " ] || fail "not a, s, users: $(cat "$T/w2")"
	# a selector applies to the stream
	watch_bg "$T/w3" "watch=true&timeoutSeconds=1&labelSelector=$(printf 'region in (eu)' | jq -sRr @uri)"
	wait $! || true
	[ ! -s "$T/w3" ] || fail "a selector matching nothing still streamed: $(cat "$T/w3")"
}

t_watch_errors_limits_and_shutdown() {
	start
	api GET "$WS?watch=true&resourceVersion=abc"
	expect_status 400 BadRequest
	api GET "$WS?watch=true&timeoutSeconds=86401"
	expect_status 400 BadRequest
	# 32 open watches (the limit) hold no server threads: requests still answer
	i=0
	while [ $i -lt 32 ]; do
		watch_bg "$T/w$i" "watch=true&resourceVersion=1"
		i=$((i + 1))
	done
	sleep 1
	start_ns=$(date +%s%N)
	api GET $WS
	expect_code 200
	[ $((($(date +%s%N) - start_ns) / 1000000)) -lt 1000 ] || fail "a list waited behind the watches"
	CODE=$(curl -s -D "$T/h" -o "$T/stdout" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
		"$SIM_URL$WS?watch=true")
	expect_status 429 TooManyRequests
	grep -qi '^retry-after: 1' "$T/h" || fail "no Retry-After on the 429"
	# the server stops at once with every watch suspended, and cleanly
	pid=$(head -n 1 "$T/.pids")
	kill "$pid"
	watchdog 3 "$pid"
	wait "$pid"
	rc=$?
	watchdog_off
	[ "$rc" -eq 0 ] || fail "wsr-sim did not stop cleanly with watches open (exit $rc)"
	wait
	# (built with SANITIZE=1, the sanitizers report here: leaks at exit too)
	! grep -q 'PANIC\|suspended connections\|Sanitizer\|runtime error' "$SIM_DIR/err" ||
		fail "wsr-sim complained: $(grep -v '^wsr-sim: ' "$SIM_DIR/err" | head -20)"
}

EXPIRED_TEXT='The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.'

t_any_limit_and_continue_tokens_that_expire() {
	{
		echo "continueTtlMs: 500"
		cat "$SEED"
	} >"$T/ttl.yaml"
	start "$T/ttl.yaml"
	for n in a b c; do api POST $WS "$(ws $n)"; done
	api GET "$WS?limit=1000"
	expect_code 200
	expect_json '(.items | length) == 2 and (.metadata.continue | length) > 0' # maxPageSize 2
	api GET "$WS?limit=0"
	expect_json '(.items | length) == 2'
	api GET "$WS?limit=-1"
	expect_status 400 BadRequest
	api GET "$WS?limit=1"
	tok=$(jq -r .metadata.continue "$T/stdout")
	api GET "$WS?limit=1&continue=$tok"
	expect_code 200
	sleep 0.6 # older than continueTtlMs
	api GET "$WS?limit=1&continue=$tok"
	expect_status 410 Expired
	expect_json ".message == \"$EXPIRED_TEXT\""
	next=$(jq -r .metadata.continue "$T/stdout")
	api GET "$WS?limit=1&continue=$next"
	expect_code 200
	expect_json '.items[0].metadata.name == "b"'
	# the emulator-only control expires every token handed out so far
	api GET "$WS?limit=1"
	tok=$(jq -r .metadata.continue "$T/stdout")
	CODE=$(curl -s -o "$T/stdout" -w '%{http_code}' -X POST "$SIM_URL/_sim/expire-continue")
	expect_code 200
	api GET "$WS?limit=1&continue=$tok"
	expect_status 410 Expired
	api GET "$WS?limit=1"
	tok=$(jq -r .metadata.continue "$T/stdout")
	api GET "$WS?limit=1&continue=$tok"
	expect_code 200
}

t_set_selectors_json_patch_and_the_core_group() {
	start
	for r in eu ap us; do
		api POST $WS "{\"apiVersion\":\"tenancy.kcp.io/v1alpha1\",\"kind\":\"Workspace\",\"metadata\":{\"name\":\"w-$r\",\"labels\":{\"region\":\"$r\"}}}"
		expect_code 201
	done
	q=$(printf 'region in (eu,ap)' | jq -sRr @uri)
	api GET "$WS?labelSelector=$q&limit=10"
	expect_code 200
	[ "$(jq -r '[.items[].metadata.name] | join(" ")' "$T/stdout")" = "w-ap w-eu" ] || fail "not w-ap, w-eu"
	q=$(printf 'region notin (eu,ap),region' | jq -sRr @uri)
	api GET "$WS?labelSelector=$q"
	expect_json '[.items[].metadata.name] == ["w-us"]'
	q=$(printf 'region in (eu' | jq -sRr @uri)
	api GET "$WS?labelSelector=$q"
	expect_status 400 BadRequest
	expect_json ".message == \"unable to parse requirement: found '', expected: ',' or ')'\""
	CT=application/json-patch+json api PATCH $WS/w-eu '[{"op":"add","path":"/metadata/labels/tier","value":"gold"},{"op":"replace","path":"/metadata/labels/region","value":"ap"}]'
	expect_code 200
	expect_json '.metadata.labels == {"region":"ap","tier":"gold"}'
	CT=application/json-patch+json api PATCH $WS/w-eu '[{"op":"remove","path":"/metadata/labels/tier"},{"op":"test","path":"/metadata/labels/region","value":"eu"}]'
	expect_status 422 Invalid
	api GET $WS/w-eu
	expect_json '.metadata.labels.tier == "gold"' # all or nothing
	CT=application/json-patch+json api PATCH $WS/w-eu '{"op":"add"}'
	expect_status 400 BadRequest
	CT=application/apply-patch+yaml api PATCH "$WS/w-eu?fieldManager=kubectl&force=true" 'metadata: {name: w-eu}'
	expect_status 415 UnsupportedMediaType
	expect_json '.message == "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json"'
	api GET /clusters/root/api/v1
	expect_json '[.resources[].name] == ["namespaces", "events"]'
	api GET /clusters/root/api/v1/namespaces
	expect_json '.kind == "NamespaceList" and .items == []'
}

run_tests
