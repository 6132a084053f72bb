#!/bin/sh
# test_kcp_kubectl: a real Kubernetes client against wsr-sim's kcp API, with
# nothing but a kubeconfig: get (empty, then listed, and across pages),
# apply (create, then a label change as a merge patch), get -o json,
# describe, delete, and refusals as kubectl shows them. kubectl sends its
# bearer token only over TLS, so the emulator serves HTTPS here with a
# certificate made for the test (the kubeconfig names it as the CA).
# kubectl keeps a discovery cache in ~/.kube: HOME is the test's folder.
. "$(dirname "$0")/lib.sh"

if ! command -v kubectl >/dev/null 2>&1; then
	echo "SKIP test_kcp_kubectl: kubectl is not installed"
	exit 0
fi

# kcp_start: wsr-sim --api kcp over HTTPS on a free port, the test seed
# (or $KCP_SEED), a
# kubeconfig with contexts root, users and acme (admin) and stranger (an
# unknown token); sets URL and exports KUBECONFIG and HOME.
kcp_start() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		-keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null || fail "openssl req failed"
	"$WSR_SIM" serve --api kcp --listen 127.0.0.1:0 --seed "${KCP_SEED:-$FIXTURES/kcp-seed.yaml}" \
		--data "$T/data" --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" \
		>"$T/sim.out" 2>"$T/sim.err" &
	echo $! >>"$T/.pids"
	i=0
	while [ $i -lt 100 ] && ! grep -q '^listening on' "$T/sim.out"; do
		sleep 0.05
		i=$((i + 1))
	done
	URL=$(sed -n 's/^listening on //p' "$T/sim.out")
	[ -n "$URL" ] || fail "wsr-sim did not start: $(cat "$T/sim.err")"
	mkdir -p "$T/home"
	cat >"$T/kubeconfig" <<EOC
apiVersion: v1
kind: Config
clusters:
- name: root
  cluster: {server: "$URL/clusters/root", certificate-authority: "$T/cert.pem"}
- name: users
  cluster: {server: "$URL/clusters/root:users", certificate-authority: "$T/cert.pem"}
- name: acme
  cluster: {server: "$URL/clusters/root:acme", certificate-authority: "$T/cert.pem"}
users:
- name: admin
  user: {token: kcp-admin-token}
- name: stranger
  user: {token: not-a-known-token}
contexts:
- name: root
  context: {cluster: root, user: admin}
- name: users
  context: {cluster: users, user: admin}
- name: acme
  context: {cluster: acme, user: admin}
- name: stranger
  context: {cluster: root, user: stranger}
current-context: root
EOC
	KUBECONFIG=$T/kubeconfig
	HOME=$T/home
	export KUBECONFIG HOME
}

# manifest NAME [TYPE] [REGION]: a Workspace manifest in $T/NAME.yaml.
manifest() {
	{
		echo "apiVersion: tenancy.kcp.io/v1alpha1"
		echo "kind: Workspace"
		echo "metadata:"
		echo "  name: $1"
		[ -z "${3:-}" ] || echo "  labels: {region: $3}"
		[ -z "${2:-}" ] || echo "spec: {type: {name: $2, path: root}}"
	} >"$T/$1.yaml"
}

t_get_apply_describe() {
	kcp_start
	run kubectl --context users get workspaces
	expect_rc 0
	expect_err 'No resources found'
	manifest acme organization eu
	run kubectl apply -f "$T/acme.yaml"
	expect_rc 0
	expect_out 'workspace.tenancy.kcp.io/acme created'
	run kubectl get workspaces
	expect_rc 0
	expect_out 'NAME'
	expect_out 'PHASE'
	grep -q '^acme  *organization  *eu  *\(Initializing\|Ready\)  *https://127.0.0.1' "$T/stdout" ||
		fail "acme is not listed with its type, region and phase"
	grep -q '^users  *homeroot' "$T/stdout" || fail "users is not listed"
	sleep 0.3 # the organization's initializer
	manifest acme organization us
	run kubectl apply -f "$T/acme.yaml"
	expect_rc 0
	expect_out 'workspace.tenancy.kcp.io/acme configured'
	grep -q 'PATCH /clusters/root/apis/tenancy.kcp.io/v1alpha1/workspaces/acme 200' "$T/sim.err" ||
		fail "the label change was no PATCH"
	run kubectl apply -f "$T/acme.yaml"
	expect_out 'workspace.tenancy.kcp.io/acme unchanged'
	run kubectl get ws acme -o json
	expect_rc 0
	expect_json '.metadata.labels.region == "us" and .spec.type == {"name":"organization","path":"root"}'
	expect_json '.status.phase == "Ready" and .spec.URL == "'"$URL"'/clusters/root:acme"'
	run kubectl describe workspace acme
	expect_rc 0
	expect_out 'Name:         acme'
	expect_out 'Labels:       region=us'
	expect_out 'Kind:         Workspace'
	expect_out 'Phase:  Ready'
	expect_out 'Events:'
	grep -q '^Events: *<none>' "$T/stdout" || fail "describe shows no empty events"
}

t_pages_and_delete() {
	kcp_start
	for n in a b c; do
		manifest $n
		run kubectl create -f "$T/$n.yaml"
		expect_rc 0
	done
	manifest acme organization
	run kubectl apply -f "$T/acme.yaml"
	# five workspaces, two a page: kubectl follows continue and shows them all
	run kubectl get workspaces -v=6
	expect_rc 0
	for n in a acme b c users; do
		grep -q "^$n " "$T/stdout" || fail "$n is missing"
	done
	[ "$(grep -c 'workspaces?continue=' "$T/stderr")" = 2 ] || fail "not three pages"
	run kubectl get ws -l region
	expect_err 'No resources found'
	run kubectl delete workspace c
	expect_rc 0
	expect_out 'workspace.tenancy.kcp.io "c" deleted'
	run kubectl get ws c
	expect_rc 1
	expect_err 'Error from server (NotFound): workspaces.tenancy.kcp.io "c" not found'
	run kubectl get workspaces
	! grep -q '^c ' "$T/stdout" || fail "c is still listed"
	expect_out 'acme'
}

t_refusals_as_kubectl_shows_them() {
	kcp_start
	manifest acme organization
	run kubectl apply -f "$T/acme.yaml"
	expect_rc 0
	sleep 0.3
	manifest sub organization
	run kubectl --context acme apply -f "$T/sub.yaml"
	expect_rc 1
	expect_err 'Error from server (Forbidden): error when creating'
	expect_err 'workspace type root:organization only allows [root:root] parent workspaces, but parent type root:organization only implements [root:organization]'
	manifest team-a team
	run kubectl --context acme apply -f "$T/team-a.yaml"
	expect_rc 0
	manifest typo nope
	run kubectl create -f "$T/typo.yaml"
	expect_rc 1
	expect_err 'workspaces.tenancy.kcp.io "typo" is forbidden: Internal error occurred: workspacetypes.tenancy.kcp.io "root:nope" not found'
	sed 's/type: {name: nope, path: root}/type: {name: team, path: root}/' "$T/typo.yaml" >"$T/t2.yaml"
	run kubectl create -f "$T/t2.yaml"
	expect_rc 1
	expect_err 'workspace type root:team only allows [root:organization root:team] parent workspaces, but parent type root:root only implements [root:root]'
	printf 'apiVersion: tenancy.kcp.io/v1alpha1\nkind: Workspace\nmetadata: {name: z}\nspec: {tpye: {name: universal}}\n' >"$T/z.yaml"
	run kubectl apply -f "$T/z.yaml"
	expect_rc 1
	expect_err 'unknown field "spec.tpye"'
	run kubectl --context stranger get workspaces
	expect_rc 1
	expect_err 'You must be logged in to the server'
	run kubectl auth can-i use workspacetypes/restricted
	expect_out 'yes'
}

# ---- sim-core: dry runs and cascading deletion as kubectl sees them ----

t_server_dry_runs_write_nothing() {
	kcp_start
	manifest dry universal eu
	run kubectl create --dry-run=server -f "$T/dry.yaml"
	expect_rc 0
	expect_out 'workspace.tenancy.kcp.io/dry created (server dry run)'
	run kubectl get ws dry
	expect_rc 1
	expect_err 'workspaces.tenancy.kcp.io "dry" not found'
	manifest w universal eu
	run kubectl create -f "$T/w.yaml"
	expect_rc 0
	run kubectl delete ws w --dry-run=server
	expect_rc 0
	expect_out 'workspace.tenancy.kcp.io "w" deleted (server dry run)'
	run kubectl get ws w -o json
	expect_rc 0
	expect_json '.metadata.deletionTimestamp == null and .status.phase == "Ready"'
	rv=$(jq -r .metadata.resourceVersion "$T/stdout")
	# kubectl diff sends a dry-run PATCH: it shows the change, exits 1, and
	# the workspace keeps its label
	manifest w universal us
	run kubectl diff -f "$T/w.yaml"
	expect_rc 1
	expect_out '+    region: us'
	grep -q 'PATCH /clusters/root/apis/tenancy.kcp.io/v1alpha1/workspaces/w 200' "$T/sim.err" ||
		fail "kubectl diff sent no PATCH"
	run kubectl get ws w -o json
	expect_json '.metadata.labels.region == "eu" and .metadata.resourceVersion == "'"$rv"'"'
}

t_cascading_delete_seen_by_kubectl() {
	printf 'terminatingMs: 2000\ndeletionMs: 2000\n' >"$T/seed.yaml"
	sed -n '/^users:/,$p' "$FIXTURES/kcp-seed.yaml" >>"$T/seed.yaml"
	KCP_SEED=$T/seed.yaml kcp_start
	manifest p universal
	run kubectl create -f "$T/p.yaml"
	expect_rc 0
	manifest c universal
	run kubectl --server "$URL/clusters/root:p" create -f "$T/c.yaml"
	expect_rc 0
	run kubectl delete ws p --wait=false
	expect_rc 0
	expect_out 'workspace.tenancy.kcp.io "p" deleted'
	run kubectl get ws p
	expect_rc 0
	grep -q '^p  *universal .* Terminating ' "$T/stdout" || fail "p is not Terminating: $(cat "$T/stdout")"
	run kubectl --server "$URL/clusters/root:p" get ws c
	grep -q '^c  *universal .* Ready ' "$T/stdout" || fail "c is not Ready while p terminates"
	sleep 2
	run kubectl get ws p
	grep -q '^p  *universal .* Deleting ' "$T/stdout" || fail "p is not Deleting: $(cat "$T/stdout")"
	run kubectl --server "$URL/clusters/root:p" get ws c
	grep -q '^c  *universal .* Deleting ' "$T/stdout" || fail "c is not Deleting with p"
	sleep 2
	run kubectl get ws p
	expect_rc 1
	expect_err 'workspaces.tenancy.kcp.io "p" not found'
	run kubectl get workspaces
	! grep -q '^p ' "$T/stdout" || fail "p is still listed"
	run kubectl --server "$URL/clusters/root:p:c" get ws
	expect_rc 1
}

t_impersonation_through_kubectl() {
	kcp_start
	run kubectl auth can-i impersonate users/bob
	expect_out 'yes'
	run kubectl --as bob auth can-i impersonate users/alice
	expect_out 'no'
	run kubectl --as bob get workspaces
	expect_rc 0
	expect_out 'users'
	grep -q 'GET /clusters/root/apis/tenancy.kcp.io/v1alpha1/workspaces' "$T/sim.err" ||
		fail "no list reached the server"
}

run_tests
