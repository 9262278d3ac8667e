#!/bin/bash
# The daemon may die: the long version of tests/integration/test-fs-crash.sh.
# curatefs's serving processes are killed with SIGKILL every 0.5-2 s for 60 s
# per recovery mode while 8 readers in 4 containers loop over the views and
# /dev, then 10,000 launches run beside 2 reader containers; the figures come
# in a table: kills, reader operations and errors, recovery times, the
# daemon's RSS and fd count over the soak. Beside them, the peer: LXCFS
# killed once under a reader. Prints figures; not a test (though the test it
# runs says "not ok" where a reader failed).
#
#   sudo bench/run-crash.sh            (from the source root, after meson compile)
#
# Environment:
#   BUILD                 build directory (default ./build)
#   CURATE, CURATEFS      binaries (default $BUILD/launcher/curate, $BUILD/fs/curatefs)
#   CRASH_SECONDS         seconds of kills per recovery mode (default 60)
#   CRASH_MODES           recovery modes (default "auto journal", and resend
#                         where the kernel has FUSE_NOTIFY_RESEND: >= 6.9)
#   SOAK_LAUNCHES         launches in the soak (default 10000)
#   CRASH_QEMU            1: the same in the qemu guest on Debian's 6.1 kernel
#                         (tests/qemu; 6.1 has no resend: auto and journal),
#                         with CRASH_QEMU_SECONDS of kills per mode (default 30)
#                         and CRASH_QEMU_LAUNCHES launches (default 1000): the
#                         guest is emulated, so slower (default 0)
#   CRASH_LOG             keep the full test output here (default: a temp file)
#
# Recovery columns (ms; median/p90/max over the kills): "recovery" is kill to
# a replacement serving process running and a read through the mount issued
# after it appeared answered; "first answer" is kill to the first answer to a
# read issued right after the kill; "in flight" is how long past the kill
# the slowest reader operation in flight at the kill took (0: none took over
# 10 ms). "longest op" is the slowest of all reader operations (ms). "probe
# errors" counts the reads of the recovery probe that failed after a kill.
set -u

BUILD=${BUILD:-./build}
CURATE=${CURATE:-$BUILD/launcher/curate}
CURATEFS=${CURATEFS:-$BUILD/fs/curatefs}
SECONDS_PER_MODE=${CRASH_SECONDS:-60}
LAUNCHES=${SOAK_LAUNCHES:-10000}
QEMU=${CRASH_QEMU:-0}
src=$(cd "$(dirname "$0")/.." && pwd)
test_script=$src/tests/integration/test-fs-crash.sh

die() { echo "run-crash: $*" >&2; exit 1; }
note() { echo "run-crash: $*" >&2; }

[ "$(id -u)" -eq 0 ] || die "must run as root (curate's cgroups, FUSE mounts)"
for b in "$CURATE" "$CURATEFS" "$BUILD/tests/view-reader"; do
	[ -x "$b" ] || die "$b missing: build first (meson compile -C $BUILD)"
done
BUILD=$(cd "$BUILD" && pwd)
CURATE=$(realpath "$CURATE") CURATEFS=$(realpath "$CURATEFS")
# from /: curate keeps the caller's working directory, and one under the
# host's /tmp (a checkout there) is not in the container
cd /

kernel_at_least() { # MAJOR MINOR
	local v; v=$(uname -r)
	local ma=${v%%.*} mi=${v#*.}; mi=${mi%%[!0-9]*}
	[ "$ma" -gt "$1" ] || { [ "$ma" -eq "$1" ] && [ "$mi" -ge "$2" ]; }
}
if [ -z "${CRASH_MODES:-}" ]; then
	CRASH_MODES="auto journal"
	kernel_at_least 6 9 && CRASH_MODES="auto resend journal"
fi

TMP=$(mktemp -d /tmp/curate-bench.crash.XXXXXX) || die "mktemp failed"
LXCFS_PID="" LXCFS_MNT=$TMP/lxcfs
cleanup() {
	[ -n "$LXCFS_PID" ] && kill -KILL "$LXCFS_PID" 2>/dev/null
	mountpoint -q "$LXCFS_MNT" 2>/dev/null && umount -l "$LXCFS_MNT"
	rm -rf "$TMP"
}
trap cleanup EXIT
LOG=${CRASH_LOG:-$TMP/test.log}
: >"$LOG"

# ---------------------------------------------------------------- this host
note "$(uname -r): modes '$CRASH_MODES', ${SECONDS_PER_MODE}s of kills each, $LAUNCHES launches (output: $LOG)"
CRASH_SECONDS=$SECONDS_PER_MODE CRASH_JOURNAL_SECONDS=$SECONDS_PER_MODE CRASH_MODES=$CRASH_MODES \
	SOAK_LAUNCHES=$LAUNCHES CURATE=$CURATE CURATEFS=$CURATEFS BUILD_ROOT=$BUILD SOURCE_ROOT=$src \
	bash "$test_script" 2>&1 | sed "s/^/[$(uname -r)] /" | tee -a "$LOG" | grep -E '^\[[^]]*\] (not ok|# [0-9]+ passed)' >&2

# ---------------------------------------------------------------- the qemu guest
if [ "$QEMU" = 1 ]; then
	guest=$TMP/guest.sh
	cat >"$guest" <<GUEST
CRASH_SECONDS=${CRASH_QEMU_SECONDS:-30} CRASH_JOURNAL_SECONDS=${CRASH_QEMU_SECONDS:-30}
SOAK_LAUNCHES=${CRASH_QEMU_LAUNCHES:-1000}
GUEST
	cat >>"$guest" <<'GUEST'
mkdir -p /dev/shm /var/tmp /dev/pts && mount -t tmpfs tmpfs /dev/shm
mount -t devpts -o ptmxmode=666 devpts /dev/pts
chmod 755 /
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin TERM=dumb
export CURATEFS=/usr/local/bin/curatefs CURATE=/usr/local/bin/curate BUILD_ROOT=/build SOURCE_ROOT=/fixtures
export CURATE_POLICY_PATH=/usr/local/share/curate/policies
export CRASH_SECONDS CRASH_JOURNAL_SECONDS SOAK_LAUNCHES CRASH_MODES="auto journal"
bash /tests/test-fs-crash.sh
GUEST
	items=("$CURATEFS" "$CURATE" "$BUILD/tests/view-reader:/build/tests/view-reader"
	       "$src/tests/integration:/tests" "$src/policies:/usr/local/share/curate/policies")
	for b in bash env timeout pgrep mountpoint mount umount sort seq; do
		p=$(command -v $b) && items+=("$p")
	done
	note "qemu guest (Debian 6.1): this takes a while"
	CURATE_QEMU_TIMEOUT=3000 CURATE_QEMU_MEM=2048 "$src/tests/qemu/run-in-qemu.sh" "$guest" "${items[@]}" 2>&1 |
		sed 's/^/[guest] /' | tee -a "$LOG" | grep -E '^\[guest\] (not ok|# [0-9]+ passed|SKIP|guest kernel)' >&2
fi

# ---------------------------------------------------------------- the peer: LXCFS killed once
# A reader on the host loops over LXCFS's files for 4 s; lxcfs is killed after 1 s.
lxcfs_row=""
if command -v lxcfs >/dev/null; then
	mkdir -p "$LXCFS_MNT"
	lxcfs "$LXCFS_MNT" >/dev/null 2>&1 &
	LXCFS_PID=$!
	for i in $(seq 100); do [ -e "$LXCFS_MNT/proc/meminfo" ] && break; sleep 0.05; done
	"$BUILD/tests/view-reader" -r "$LXCFS_MNT" -d 4 -j 2 -O meminfo,loadavg,uptime,stat,cpuinfo,online \
		>"$TMP/lxcfs.out" 2>/dev/null &
	rd=$!
	sleep 1
	kill -KILL "$LXCFS_PID"; wait "$LXCFS_PID" 2>/dev/null; LXCFS_PID=""
	wait "$rd"
	lxcfs_row=$(cat "$TMP/lxcfs.out")
	umount -l "$LXCFS_MNT" 2>/dev/null
fi

# ---------------------------------------------------------------- the table
fig() { # KEY LINE
	awk -v k="$1" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) { print substr($i, length(k) + 2); exit } }' <<<"$2"
}
echo
echo "## kills of serving processes (SIGKILL every 0.5-2 s, 8 readers in 4 containers)"
echo
echo "| kernel | mode | s | kills | failed kills | reader ops | reader errors | probe errors | recovery ms | first answer ms | in flight ms | longest op ms |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---|---|---|---:|"
grep -E '^\[[^]]*\] # figures crash ' "$LOG" | while read -r line; do
	where=${line%%]*}; where=${where#[}
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$where" "$(fig mode "$line")" \
		"$(fig seconds "$line")" "$(fig kills "$line")" "$(fig kill_failures "$line")" "$(fig ops "$line")" \
		"$(fig errors "$line")" "$(fig probe_errors "$line")" "$(fig rec_ms "$line")" "$(fig first_ms "$line")" "$(fig at_kill_ms "$line")" \
		"$(fig max_op_ms "$line")"
done
echo
echo "## launch soak (\`curate run --memory 64M -- true\` in a row, 2 reader containers beside)"
echo
echo "| kernel | launches | failed | ms/launch | daemon RSS kB start/mid/end | daemon fds start/mid/end | reader ops | reader errors |"
echo "|---|---:|---:|---:|---|---|---:|---:|"
grep -E '^\[[^]]*\] # figures soak ' "$LOG" | while read -r line; do
	where=${line%%]*}; where=${where#[}
	n=$(fig launches "$line"); ms=$(fig ms "$line")
	printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$where" "$n" "$(fig failed "$line")" \
		"$(awk -v a="$ms" -v b="$n" 'BEGIN { printf "%.1f", b ? a / b : 0 }')" "$(fig rss_kb "$line")" \
		"$(fig fds "$line")" "$(fig reader_ops "$line")" "$(fig reader_errors "$line")"
done
if [ -n "$lxcfs_row" ]; then
	echo
	echo "## the peer: LXCFS $(lxcfs --version 2>&1 | tr -d '"') killed once under 2 host readers (4 s)"
	echo
	echo "| reader ops | errors | by operation |"
	echo "|---:|---:|---|"
	printf '| %s | %s | %s |\n' "$(fig ops "$lxcfs_row")" "$(fig errors "$lxcfs_row")" \
		"$(grep -o 'fail\.[^ ]*' <<<"$lxcfs_row" | tr '\n' ' ')"
fi
echo
echo "(full output: $LOG$( [ -z "${CRASH_LOG:-}" ] && echo ', removed on exit: set CRASH_LOG to keep it'))"
