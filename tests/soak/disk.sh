#!/bin/sh
# disk.sh: the state directory fills up, or turns read-only, in the middle
# of a SOAK_DISK_WORKSPACES (default 200) workspace apply. wsr must stop
# with an error that says what happened (exit 1, not success and not a
# crash), leave a state and a backup that read back (the backup one write
# older, same lineage), leave no temporary files behind, and converge
# without duplicates once there is room again.
#
# How the directory is made full or read-only, the first that works here:
#   tmpfs   `unshare --user --map-root-user --mount` (or plain root) mounts
#           a small tmpfs on the state directory; read-only is a read-only
#           bind mount of it over itself part-way through the apply. Works where
#           unprivileged user namespaces are allowed (most Linux CI) or as
#           root.
#   ulimit  otherwise: `ulimit -f` below the size the state reaches, with
#           SIGXFSZ ignored so a write past it fails with EFBIG as on a full
#           disk; read-only is `chmod a-w` of the directory part-way (only
#           when not root: root writes anyway, and that case is skipped with
#           the reason printed). SOAK_DISK_MODE=ulimit takes this way even
#           where a namespace would work.
# Inside the namespace this script runs itself with --inside.
. "$(dirname "$0")/lib.sh"

N=${SOAK_DISK_WORKSPACES:-200}

# inside MODE CASE: runs in the mount namespace: a tmpfs on the state
# directory, one apply, and copies of what it left in $T/CASE.after.
if [ "${1:-}" = --inside ]; then
	T=$3
	export LOOPBACK_API_KEY=test-admin-key
	S=$T/specs/.wsr
	mount -t tmpfs -o "size=$5" tmpfs "$S" || exit 3
	case $2 in
	full)
		# everything but 64 KiB taken: the state outgrows the rest part-way
		"$WSR" apply "$T/specs" --auto-approve >"$T/$2.out" 2>"$T/$2.err"
		echo $? >"$T/$2.rc"
		;;
	readonly)
		"$WSR" apply "$T/specs" --auto-approve >"$T/$2.out" 2>"$T/$2.err" &
		pid=$!
		# part-way: once the apply has written the state a few times
		i=0
		while [ "$(jq -r .serial "$S/state.json" 2>/dev/null || echo 0)" -lt "$4" ] && [ $i -lt 2000 ]; do
			sleep 0.005
			i=$((i + 1))
		done
		# a read-only bind of the directory over itself: every open from
		# now on meets EROFS (remounting the tmpfs itself read-only is
		# refused while wsr holds its lock file open for writing)
		mount --bind "$S" "$S" && mount -o remount,bind,ro "$S" || echo "cannot remount" >&2
		wait "$pid"
		echo $? >"$T/$2.rc"
		;;
	esac
	df -k "$S" | tail -n 1 >"$T/$2.df"
	mkdir -p "$T/$2.after"
	cp -a "$S/." "$T/$2.after/"
	exit 0
fi

soak_init disk
echo "   $N workspaces"

# a pre-made full state's size: what the tmpfs and the ulimit are cut to
sim_start "$SOAK_HERE/seed.yaml" || exit 1
specs "$T/specs" "$N"
start=$(now_ms)
run "$WSR" apply "$T/specs" --auto-approve
D=$(($(now_ms) - start))
[ "$RC" -eq 0 ] || { violation "the apply with room failed: $(tail -n 2 "$T/stderr")"; soak_end; }
FULL=$(wc -c <"$T/specs/.wsr/state.json")
figure "state of $N, apply with room" "$FULL bytes, $D ms"

mode=""
mkdir -p "$T/probe"
if [ "${SOAK_DISK_MODE:-}" = ulimit ]; then
	mode=ulimit
	echo "   SOAK_DISK_MODE=ulimit: not trying a mount namespace"
elif unshare --user --map-root-user --mount sh -c "mount -t tmpfs -o size=64k tmpfs '$T/probe'" 2>/dev/null; then
	mode=tmpfs
	NS="unshare --user --map-root-user --mount"
elif [ "$(id -u)" = 0 ] && unshare --mount sh -c "mount -t tmpfs -o size=64k tmpfs '$T/probe'" 2>/dev/null; then
	mode=tmpfs
	NS="unshare --mount"
else
	mode=ulimit
	echo "   no mount namespace here (unshare: $(unshare --user --map-root-user --mount true 2>&1 | head -n 1)); using ulimit -f"
fi
figure "how" "$mode"

# fresh CASE: a new platform and specs, nothing applied yet
fresh() {
	[ -z "${SIM_PID:-}" ] || { kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; }
	rm -rf "$T/sim" "$T/specs" "$T/$1".*
	sim_start "$SOAK_HERE/seed.yaml" || exit 1
	SIM_PID=$(sim_pid)
	specs "$T/specs" "$N"
	mkdir -p "$T/specs/.wsr"
	chmod 700 "$T/specs/.wsr"
}

# judge CASE WORDS: the stopped apply and what it left, then convergence
# with room again.
judge() {
	c=$1 words=$2
	rc=$(cat "$T/$c.rc" 2>/dev/null || echo none)
	err=$(grep -m 1 'error' "$T/$c.err" 2>/dev/null)
	figure "$c: exit" "$rc"
	figure "$c: error" "${err:-(none)}"
	if [ "$rc" != 1 ]; then
		violation "$c: the apply exited $rc, want 1 (stopped with an error)"
	elif ! grep -qiE "$words" "$T/$c.err"; then
		violation "$c: the error does not say what happened ($words): $(head -n 3 "$T/$c.err")"
	fi
	a=$T/$c.after
	left=$(find "$a" -name '*.tmp*' | wc -l)
	figure "$c: temporary files left" "$left"
	[ "$left" -eq 0 ] || violation "$c: temporary files left in the state directory: $(find "$a" -name '*.tmp*' | head -n 3)"
	# the state and its backup read back, one write apart
	mkdir -p "$T/$c.judge/.wsr"
	cp "$T/specs/wsr.yaml" "$T/$c.judge/"
	cp "$a"/state.json* "$T/$c.judge/.wsr/" 2>/dev/null
	if [ ! -s "$a/state.json" ]; then
		figure "$c: state" "none written"
	elif ! "$WSR" state list --dir "$T/$c.judge" >"$T/$c.recorded" 2>"$T/$c.state.err"; then
		violation "$c: the state left behind does not read: $(head -n 2 "$T/$c.state.err")"
	else
		serial=$(jq -r .serial "$a/state.json")
		figure "$c: state left" "serial $serial, $(wc -l <"$T/$c.recorded") recorded"
		if [ -e "$a/state.json.backup" ]; then
			bs=$(jq -r .serial "$a/state.json.backup" 2>/dev/null)
			bl=$(jq -r .lineage "$a/state.json.backup" 2>/dev/null)
			if [ "$bs" != $((serial - 1)) ] || [ "$bl" != "$(jq -r .lineage "$a/state.json")" ]; then
				violation "$c: the backup is not the previous state (serial ${bs:-unreadable}, state $serial)"
			fi
		fi
	fi
	# room again: the state as it was left, on the real disk
	rm -rf "$T/specs/.wsr"
	mkdir -p "$T/specs/.wsr"
	cp "$a"/state.json* "$T/specs/.wsr/" 2>/dev/null
	chmod -R u+w "$T/specs/.wsr"
	run "$WSR" apply "$T/specs" --auto-approve
	ok=$RC
	run "$WSR" plan "$T/specs" --detailed-exitcode
	if [ "$ok" -ne 0 ] || [ "$RC" -ne 0 ]; then
		violation "$c: with room again, apply exits $ok and plan $RC: $(tail -n 2 "$T/stderr")"
	fi
	platform_list "$T/$c.list" || violation "$c: cannot list the platform"
	u=$(awk '{print $1}' "$T/$c.list" | sort -u | wc -l)
	n=$(wc -l <"$T/$c.list")
	figure "$c: then converged" "apply $ok, plan $RC, platform $n ($u names)"
	[ "$n" -eq "$N" ] && [ "$u" -eq "$N" ] || violation "$c: the platform has $n workspaces ($u names), want $N"
}

# full: room for about half the final state (it is written twice: the
# state and its backup, plus the temporary of the next write)
fresh full
if [ "$mode" = tmpfs ]; then
	$NS sh "$SOAK_HERE/disk.sh" --inside full "$T" 0 "$((FULL + FULL / 2))"
else
	(
		trap '' XFSZ
		ulimit -f $((FULL / 2 / 512))
		"$WSR" apply "$T/specs" --auto-approve >"$T/full.out" 2>"$T/full.err"
		echo $? >"$T/full.rc"
	)
	mkdir -p "$T/full.after"
	cp -a "$T/specs/.wsr/." "$T/full.after/"
fi
judge full "no space|file too large|quota"

fresh readonly
if [ "$mode" = tmpfs ]; then
	$NS sh "$SOAK_HERE/disk.sh" --inside readonly "$T" 5 64m
	judge readonly "read-only"
elif [ "$(id -u)" != 0 ]; then
	"$WSR" apply "$T/specs" --auto-approve >"$T/readonly.out" 2>"$T/readonly.err" &
	pid=$!
	i=0
	while [ "$(jq -r .serial "$T/specs/.wsr/state.json" 2>/dev/null || echo 0)" -lt 5 ] && [ $i -lt 2000 ]; do
		sleep 0.005
		i=$((i + 1))
	done
	chmod a-w "$T/specs/.wsr"
	wait "$pid"
	echo $? >"$T/readonly.rc"
	mkdir -p "$T/readonly.after"
	cp -a "$T/specs/.wsr/." "$T/readonly.after/"
	judge readonly "permission denied|read-only"
else
	echo "   readonly: skipped: no mount namespace, and as root chmod a-w does not stop a write"
fi
soak_end
