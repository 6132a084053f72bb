#!/bin/sh
# wsr watch following a Git repository, end to end: a bare repository
# served by file:// and by `git daemon` on 127.0.0.1, pushed to by the test
# like a user would; the platform is wsr-sim.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/watch_lib.sh"

SECRET="It's a Secret to Everybody"

# repo_init: $T/repo.git (bare, branch main) and a working clone $T/work;
# cfg/wsr.yaml points at the emulator and names the webhook secret.
repo_init() {
	git init -q --bare -b main "$T/repo.git"
	git init -q -b main "$T/work"
	git -C "$T/work" remote add origin "$T/repo.git"
	git -C "$T/work" config user.name tester
	git -C "$T/work" config user.email tester@example.invalid
	use_sim cfg
	printf '%s\n' "$SECRET" >cfg/hook.secret
	chmod 600 cfg/hook.secret
	printf 'watch: {webhook: {secretFile: hook.secret}}\n' >>cfg/wsr.yaml
}

# ws NAME [DIR]: a baremetal workspace spec in the working clone.
ws() {
	mkdir -p "$T/work/${2:-.}"
	printf 'apiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata: {name: %s}\nspec: {organization: acme, project: sandbox, type: baremetal}\n' \
		"$1" >"$T/work/${2:-.}/$1.yaml"
}

# push MESSAGE [FLAGS]: commits everything and pushes main.
push() {
	git -C "$T/work" add -A
	git -C "$T/work" commit -q -m "$1"
	git -C "$T/work" push -q $2 origin HEAD:main 2>/dev/null
}

head_rev() { git -C "$T/work" rev-parse HEAD; }

on_platform() {
	curl -s -H "Authorization: Bearer test-admin-key" \
		"$SIM_URL/v1/organizations/acme/workspaces/$1" | jq -e '.state == "active"' >/dev/null 2>&1
}
gone() { ! on_platform "$1"; }

log_has() { grep -qF -- "$1" "$T/watch.log"; }

# daemon_start: `git daemon` serving $T on a free port; sets GIT_URL.
daemon_start() {
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	git daemon --reuseaddr --base-path="$T" --export-all --listen=127.0.0.1 --port="$port" \
		"$T" 2>"$T/daemon.log" &
	echo $! >>"$T/.pids"
	GIT_URL=git://127.0.0.1:$port/repo.git
	i=0
	until git ls-remote "$GIT_URL" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] || { fail "git daemon did not start: $(cat "$T/daemon.log")"; }
		sleep 0.05
	done
}

# hook BODY [HEADER]: POSTs a webhook; prints the HTTP status.
hook() {
	if [ $# -ge 2 ]; then
		curl -s -o /dev/null -w '%{http_code}' -X POST -H "$2" --data-binary "$1" "$WATCH_URL/hooks/git"
	else
		curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary "$1" "$WATCH_URL/hooks/git"
	fi
}

signature() {
	printf '%s' "$1" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/.*= *//'
}

t_missing_token_file_is_named_as_what_it_is() {
	sim_start && repo_init && ws a && push "first"
	use_sim cfg2
	printf 'watch: {git: {tokenFile: nowhere.token}}\n' >>cfg2/wsr.yaml
	run "$WSR" watch --once --git "file://$T/repo.git" --config cfg2/wsr.yaml
	expect_rc 1
	expect_err "git token file cfg2/nowhere.token does not exist"
	expect_err "watch.git.tokenFile is resolved relative to wsr.yaml"
	expect_no_err "webhook"
}

t_file_commit_reconciled_within_one_poll_interval() {
	sim_start && repo_init
	ws first && push "first"
	watch_start --git "file://$T/repo.git" --config cfg/wsr.yaml --interval 2s
	within 10 on_platform first
	ws second && push "second"
	rev=$(head_rev)
	# one interval (2 s) and the reconcile itself
	within 3 on_platform second
	jq -e --arg r "$rev" '.resources[] | select(.address == "loopback/acme/second") | .source.revision == $r' \
		cfg/.wsr/state.json >/dev/null || fail "state does not record revision $rev"
	status_is ".source.revision == \"$rev\"" || fail "status does not show $rev"
	log_has "revision=$rev" || fail "the log does not name $rev"
}

t_signed_webhook_reconciled_within_a_second() {
	sim_start && repo_init && daemon_start
	ws first && push "first"
	watch_start --git "$GIT_URL" --config cfg/wsr.yaml --interval 1h
	within 10 on_platform first
	within 5 status_is '.reconcile.lastResult == "ok"'
	ws second && push "second"
	n=$(reconciles)
	# unsigned, badly signed and wrongly tokened hooks trigger nothing
	[ "$(hook '{}')" = 401 ] || fail "unsigned hook not refused"
	[ "$(hook '{}' "X-Hub-Signature-256: sha256=$(signature '{"other":1}')")" = 401 ] ||
		fail "badly signed hook not refused"
	[ "$(hook '{}' 'X-Gitlab-Token: guess')" = 401 ] || fail "wrong GitLab token not refused"
	sleep 1
	[ "$(reconciles)" -eq "$n" ] || fail "a refused hook triggered a reconcile"
	gone second || fail "second applied without a hook"
	body='{"ref":"refs/heads/main"}'
	[ "$(hook "$body" "X-Hub-Signature-256: sha256=$(signature "$body")")" = 202 ] ||
		fail "signed hook not accepted"
	within 1 on_platform second
	ws third && push "third"
	[ "$(hook '{}' "X-Gitlab-Token: $SECRET")" = 202 ] || fail "GitLab token not accepted"
	within 1 on_platform third
}

t_force_push_followed() {
	sim_start && repo_init
	ws keep && push "keep"
	base=$(head_rev)
	ws doomed && push "doomed"
	watch_start --git "file://$T/repo.git" --config cfg/wsr.yaml --interval 300ms --prune
	within 10 on_platform doomed
	git -C work reset -q --hard "$base"
	ws replacement && push "rewritten" --force
	rev=$(head_rev)
	within 10 on_platform replacement
	within 10 gone doomed
	on_platform keep || fail "keep was deleted"
	status_is ".source.revision == \"$rev\"" || fail "status does not follow the new tip"
}

t_bad_spec_in_a_commit_leaves_the_others_reconciled() {
	sim_start && repo_init
	ws stable && ws fragile && push "two"
	watch_start --git "file://$T/repo.git" --config cfg/wsr.yaml --interval 300ms --prune
	within 10 on_platform fragile
	printf 'apiVersion: loopback.wsr.dev/v1\nkind: Workspace\nmetadata: {name: fragile}\nspec:\n  organization: acme\n  project: sandbox\n  type: metal\n' \
		>work/fragile.yaml
	ws newcomer && push "break fragile, add newcomer"
	rev=$(head_rev)
	within 10 on_platform newcomer
	within 5 log_has "event=invalid"
	grep 'event=invalid' "$T/watch.log" | grep -q "file=fragile.yaml line=7 col=.* revision=$rev" ||
		fail "the error does not name file, line and commit: $(grep event=invalid "$T/watch.log" | head -1)"
	within 5 status_is '.workspaces[] | select(.address == "loopback/acme/fragile") | .state == "invalid"'
	on_platform fragile || fail "the broken file's workspace was deleted"
	on_platform stable || fail "stable was touched"
}

t_ref_and_path_pin_what_is_followed() {
	sim_start && repo_init
	ws prod-a envs/prod && ws dev-a envs/dev && push "v1"
	git -C work tag v1
	git -C work push -q origin v1 2>/dev/null
	ws prod-b envs/prod && push "after v1"
	watch_start --git "file://$T/repo.git" --ref v1 --path envs/prod --config cfg/wsr.yaml --interval 300ms
	within 10 on_platform prod-a
	within 5 reconciled 3
	gone dev-a || fail "a file outside --path was applied"
	gone prod-b || fail "a commit after the tag was applied"
}

t_vanished_branch_is_reported_not_fatal() {
	sim_start && repo_init
	ws w && push "w"
	git -C work push -q origin HEAD:feature 2>/dev/null
	watch_start --git "file://$T/repo.git" --ref feature --config cfg/wsr.yaml --interval 300ms
	within 10 on_platform w
	git -C work push -q origin :feature 2>/dev/null
	within 5 status_is '.source.error != null'
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$WATCH_URL/readyz")" = 503 ] || fail "ready without a source"
	kill -0 "$WATCH_PID" || fail "the daemon died"
	git -C work push -q origin HEAD:feature 2>/dev/null
	within 5 status_is '.source.error == null'
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$WATCH_URL/readyz")" = 200 ] || fail "not ready again"
}

run_tests
