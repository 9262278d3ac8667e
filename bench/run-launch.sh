#!/bin/bash
# curate launch benchmark: how long `curate run -- /bin/true` takes, side by
# side with bubblewrap (with the same isolation: pid, IPC, UTS and cgroup
# namespaces and a read-only /sys) and unshare, and the first run that has to
# start the curatefs daemon; then what the default seccomp filter costs a
# syscall-heavy loop (getpid ns/call natively, inside with the filter and
# inside without it). Prints figures; not a test.
#
#   sudo bench/run-launch.sh            (from the source root, after meson compile)
#
# Environment:
#   BUILD              build directory (default ./build)
#   CURATE             curate binary (default $BUILD/launcher/curate)
#   CURATEFS           curatefs binary (default $BUILD/fs/curatefs)
#   BWRAP              bwrap binary (default: bwrap on PATH)
#   LAUNCH_RUNS        timed runs per command and round (default 50)
#   LAUNCH_ROUNDS      rounds, the commands interleaved; each command's figures
#                      are those of its round with the lowest median (default 3)
#   LAUNCH_FIRST_RUNS  runs of the first-run case, each starting the daemon
#                      afresh (default 20, in one round)
#   LAUNCH_MAX_LOAD    1-minute load average above which a warning is printed
#                      before timing (default 0.5)
#
# The steady-state cases share one curatefs, started here on a temp mount
# point. The first-run case uses another temp mount point: before each run
# `curate daemon stop` ends the daemon and any mount left there is detached,
# untimed. Everything started or mounted here is undone on exit.
set -u

BUILD=$(cd "${BUILD:-./build}" && pwd)
# from /: curate keeps the caller's working directory, and one under the
# host's /tmp (a checkout there) is not in the container
cd /
CURATE=${CURATE:-$BUILD/launcher/curate}
CURATEFS=${CURATEFS:-$BUILD/fs/curatefs}
BWRAP=${BWRAP:-$(command -v bwrap || echo bwrap)}
LAUNCHBENCH=$BUILD/bench/launchbench
RUNS=${LAUNCH_RUNS:-50}
ROUNDS=${LAUNCH_ROUNDS:-3}
FIRST_RUNS=${LAUNCH_FIRST_RUNS:-20}
MAX_LOAD=${LAUNCH_MAX_LOAD:-0.5}

die() { echo "run-launch: $*" >&2; exit 1; }
note() { echo "run-launch: $*" >&2; }

[ "$(id -u)" -eq 0 ] || die "must run as root (curate's cgroups, FUSE mounts)"
for b in "$LAUNCHBENCH" "$CURATE" "$CURATEFS"; do
	[ -x "$b" ] || die "$b missing: build first (meson compile -C $BUILD)"
done
[ -e /dev/fuse ] || die "/dev/fuse missing"
"$CURATE" --version >/dev/null 2>&1 || die "$CURATE --version fails: is the launcher built?"

# ---------------------------------------------------------------- cleanup
TMP=$(mktemp -d /tmp/curate-launch.XXXXXX) || die "mktemp failed"
MNT=$TMP/mnt          # the shared daemon's mount point
FRESH=$TMP/fresh      # the first-run case's mount point
FS_PID=""

stop_fresh() { # end the first-run case's daemon; detach what is left mounted
	"$CURATE" daemon stop --mountpoint "$FRESH" >/dev/null 2>&1
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		mountpoint -q "$FRESH" 2>/dev/null || return 0
		umount -l "$FRESH" 2>/dev/null || sleep 0.1
	done
}

cleanup() {
	trap - EXIT INT TERM
	[ -n "$FS_PID" ] && kill -TERM "$FS_PID" 2>/dev/null
	stop_fresh
	# a daemon curate started for $FRESH that did not stop: its pid by its
	# command line, which names our private mount point
	local p
	for p in $(pgrep -f "curatefs.* $FRESH\$"); do kill -TERM "$p" 2>/dev/null; done
	[ -n "$FS_PID" ] && wait "$FS_PID" 2>/dev/null
	awk -v t="$TMP/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
	rm -rf --one-file-system "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- daemon
mkdir -p "$MNT"
"$CURATEFS" -f "$MNT" 2>"$TMP/curatefs.log" &
FS_PID=$!
for _ in $(seq 100); do
	[ -e "$MNT/proc/meminfo" ] && break
	kill -0 "$FS_PID" 2>/dev/null || break
	sleep 0.05
done
[ -e "$MNT/proc/meminfo" ] || die "curatefs did not start: $(tail -n 3 "$TMP/curatefs.log")"
"$CURATE" run --mountpoint "$MNT" --memory 256M -- /bin/true ||
	die "curate run --mountpoint $MNT --memory 256M -- /bin/true fails (status $?)"

# ---------------------------------------------------------------- timing
load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" -v m="$MAX_LOAD" 'BEGIN { exit !(l > m) }'; then
	note "1-minute load is $load (> $MAX_LOAD) before timing: other work on this machine skews the figures"
	# top's second sample covers the last half second (ps's %CPU is a lifetime average)
	busy=$(top -b -n 2 -d 0.5 2>/dev/null | awk '/^ *PID/ { n++; next } n == 2 && c < 3 && $9 > 0 { printf "%s %s%%; ", $12, $9; c++ }')
	note "busiest now: ${busy:-nothing in a 0.5 s sample (the load is past work, or tasks waiting on I/O)}"
fi

declare -A R=()      # "label" -> launchbench line of its best round
declare -a LABELS=()

# run_case LABEL [--between CMD] -- COMMAND...: one launchbench; keeps the
# line with the lowest median for LABEL
run_case() {
	local label=$1; shift
	local out med old
	out=$("$LAUNCHBENCH" --runs "$RUNS" "$@" 2>"$TMP/lb.err")
	[ -s "$TMP/lb.err" ] && note "$label: $(head -n 1 "$TMP/lb.err")"
	med=$(sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p' <<<"$out")
	[ -n "${R[$label]+x}" ] || LABELS+=("$label")
	old=$(sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p' <<<"${R[$label]:-}")
	if [ -z "$old" ] || { [ -n "$med" ] && awk -v a="$med" -v b="$old" 'BEGIN { exit !(a < b) }'; }; then
		R[$label]=$out
	fi
}

L_CUR="curate run -- /bin/true"
L_MEM="curate run --memory 256M -- /bin/true"
L_BWRAP="bwrap --dev-bind / / --dev /dev --proc /proc /bin/true"
L_BWRAP_ISO="bwrap --dev-bind / / --dev /dev --proc /proc --unshare-pid --unshare-ipc --unshare-uts --unshare-cgroup --ro-bind /sys /sys /bin/true"
L_UNSHARE="unshare -m /bin/true"
L_FIRST="first run: curate run --memory 256M (starts the daemon)"
L_DEV="curate run --device /dev/fuse -- /bin/true"
L_BWRAP_DEV="bwrap --dev-bind / / --dev /dev --dev-bind /dev/fuse /dev/fuse --proc /proc /bin/true"
L_ADD="curate device add ID /dev/fuse (a running container; removed between runs)"

for ((round = 0; round < ROUNDS; round++)); do
	run_case "$L_CUR" -- "$CURATE" run --mountpoint "$MNT" -- /bin/true
	run_case "$L_MEM" -- "$CURATE" run --mountpoint "$MNT" --memory 256M -- /bin/true
	if command -v "$BWRAP" >/dev/null 2>&1; then
		run_case "$L_BWRAP" -- "$BWRAP" --dev-bind / / --dev /dev --proc /proc /bin/true
		run_case "$L_BWRAP_ISO" -- "$BWRAP" --dev-bind / / --dev /dev --proc /proc --unshare-pid --unshare-ipc \
			--unshare-uts --unshare-cgroup --ro-bind /sys /sys /bin/true
	fi
	run_case "$L_UNSHARE" -- unshare -m /bin/true
	# one device node passed through: curate also registers it with curatefs
	# and allows it in the device cgroup; bwrap binds it (no device cgroup)
	run_case "$L_DEV" -- "$CURATE" run --mountpoint "$MNT" --device /dev/fuse -- /bin/true
	if command -v "$BWRAP" >/dev/null 2>&1; then
		run_case "$L_BWRAP_DEV" -- "$BWRAP" --dev-bind / / --dev /dev --dev-bind /dev/fuse /dev/fuse --proc /proc /bin/true
	fi
done

# Hot-plug into a running container (no peer here does it: a runtime would
# restart the container); the remove between runs is untimed.
"$CURATE" run --mountpoint "$MNT" -- sleep 600 >/dev/null 2>&1 &
HOLD=$!
held() { [ -d "/sys/fs/cgroup/devices/curate/run-$HOLD" ] || [ -d "/sys/fs/cgroup/curate/run-$HOLD" ]; }
for _ in $(seq 100); do held && break; sleep 0.05; done
sleep 0.2
if held; then
	# the warm-up add also switches the container to a /dev of its own
	run_case "$L_ADD" --warmup 1 --between "$(printf '%q ' "$CURATE") device remove --mountpoint $(printf '%q' "$MNT") run-$HOLD /dev/fuse >/dev/null 2>&1; true" \
		-- "$CURATE" device add --mountpoint "$MNT" "run-$HOLD" /dev/fuse
else
	note "the container for the hot-plug case did not start; its row stays empty"
fi
kill -TERM "$HOLD" 2>/dev/null; wait "$HOLD" 2>/dev/null
command -v "$BWRAP" >/dev/null 2>&1 || note "bwrap not installed: its row stays empty"

# The first run: the daemon is stopped and its mount detached before each
# one (untimed), so every timed run finds no daemon and starts one.
RUNS_SAVED=$RUNS; RUNS=$FIRST_RUNS
run_case "$L_FIRST" --warmup 1 \
	--between "$(printf '%q ' "$CURATE") daemon stop --mountpoint $(printf '%q' "$FRESH") >/dev/null 2>&1; \
for i in 1 2 3 4 5 6 7 8 9 10; do mountpoint -q $(printf '%q' "$FRESH") || exit 0; umount -l $(printf '%q' "$FRESH") 2>/dev/null || sleep 0.1; done; exit 1" \
	-- "$CURATE" run --mountpoint "$FRESH" --memory 256M -- /bin/true
RUNS=$RUNS_SAVED
stop_fresh

# ---------------------------------------------------------------- report
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"${R[$2]:-}"; }
ratio() { # A B -> A/B with two decimals, or "-"
	case "$1$2" in *[!0-9.]* | "") echo "-"; return ;; esac
	awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f\n", a / b }'
}
verdict() { # VALUE OP TARGET -> met / NOT met / n/a
	case "$1$3" in "" | *[!0-9.]*) echo "n/a"; return ;; esac
	awk -v v="$1" -v t="$3" 'BEGIN { print (v <= t) ? "met" : "NOT met" }'
}

bw=$(field median_ms "$L_BWRAP_ISO")
echo "curate launch benchmark: $(uname -r), $(nproc) CPUs, load before timing $load;"
echo "median of $RUNS runs (fork to waitpid), best median of $ROUNDS interleaved rounds; first run: $FIRST_RUNS runs"
echo
echo "(median / bwrap: against bwrap with the same isolation, the second bwrap row)"
echo
echo "| command | median ms | p90 ms | min ms | runs | median / bwrap |"
echo "|---|---:|---:|---:|---:|---:|"
for l in "${LABELS[@]}"; do
	printf '| %s | %s | %s | %s | %s | %s |\n' "$l" "$(field median_ms "$l")" "$(field p90_ms "$l")" \
		"$(field min_ms "$l")" "$(field runs "$l")" "$(ratio "$(field median_ms "$l")" "$bw")"
done
echo
mem=$(field median_ms "$L_MEM"); first=$(field median_ms "$L_FIRST")
three_bw=$(awk -v b="$bw" 'BEGIN { if (b != "") printf "%.2f", 3 * b }')
echo "Targets:"
echo "- curate run --memory 256M median ${mem:--} ms <= bwrap median ${bw:--} ms: $(verdict "$mem" "<=" "$bw")"
echo "- first run median ${first:--} ms <= 3 x bwrap median (${three_bw:--} ms): $(verdict "$first" "<=" "$three_bw")"
dev=$(field median_ms "$L_DEV"); bwdev=$(field median_ms "$L_BWRAP_DEV")
echo "- with one device: curate ${dev:--} ms vs bwrap ${bwdev:--} ms ($(ratio "$dev" "$bwdev")x; curate also enforces it in the device cgroup)"

# ---------------------------------------------------------------- seccomp cost
GETPID=$BUILD/bench/getpid-loop
if [ -x "$GETPID" ]; then
	# the binary must be reachable inside: the build tree is on the host root
	echo
	echo "getpid(2) loop, best of 10 rounds of 100,000 calls (ns/call):"
	echo
	echo "| where | ns/call | Seccomp |"
	echo "|---|---:|---:|"
	for how in native default unconfined; do
		case $how in
		native) out=$("$GETPID") ;;
		default) out=$("$CURATE" run --mountpoint "$MNT" -- "$GETPID") ;;
		unconfined) out=$("$CURATE" run --mountpoint "$MNT" --seccomp unconfined -- "$GETPID") ;;
		esac
		printf '| %s | %s | %s |\n' "$how" "$(sed -n 's/^getpid ns\/call: *//p' <<<"$out")" \
			"$(sed -n 's/^seccomp: *Seccomp:[[:space:]]*//p' <<<"$out")"
	done
fi
exit 0
