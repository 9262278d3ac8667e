#!/bin/bash
# curatefs benchmark: prints figures side by side with the peers. Not a test.
#
#   sudo bench/run-bench.sh            (from the source root, after meson compile)
#
# Environment:
#   BUILD           build directory (default ./build)
#   CURATEFS        curatefs binary (default $BUILD/fs/curatefs)
#   LXCFS           lxcfs binary (default: lxcfs on PATH)
#   BENCH_SECONDS   seconds per throughput run (default 1)
#   BENCH_ROUNDS    runs per figure, interleaved across the columns; the
#                   figure is the best one (default 3)
#   BENCH_CGROUPS   cgroups in the scale case (default 1000; 0 skips it)
#   BENCH_SWEEP_S   seconds of once-per-second reads in the scale case (30)
#   BENCH_IDLE_S    seconds of the idle (sampling only) window (20)
#   BENCH_SCALE_LXCFS=0  skip the scale case for lxcfs
#   BENCH_READERS   reader counts of the throughput cases (default: 1 2 4 8 16,
#                   those up to the CPUs this machine has)
#   BENCH_URING=0   no io_uring column. Else, where the kernel has FUSE over
#                   io_uring, a second curatefs serves with --transport uring:
#                   /sys/module/fuse/parameters/enable_uring is turned on while
#                   it mounts and put back as it was right after
#   CURATE          the curate binary (default $BUILD/launcher/curate): reads
#                   the daemons' request counters for the CPU per request
#   BENCH_VARIANTS=0  skip the meminfo cases at 1 and 2 readers with each
#                   reader on a CPU of its own ("pinned": readbench --pin, as in
#                   a container whose workers each own a CPU) and with every
#                   CPU running a busy loop besides ("CPUs busy": a loaded node)
#
# Every reader runs inside a cgroup limited to 256 MiB (v1: memory plus the cpu
# and cpuacct hierarchies, which curatefs and LXCFS key loadavg on; v2: one
# cgroup with memory.max). All mounts, cgroups and processes this script makes
# are undone on exit, whatever the exit path.
set -u

BUILD=${BUILD:-./build}
CURATEFS=${CURATEFS:-$BUILD/fs/curatefs}
LXCFS=${LXCFS:-$(command -v lxcfs || echo lxcfs)}
READBENCH=$BUILD/bench/readbench
STATIC_FUSE=$BUILD/bench/static-fuse
CGROUP_SWEEP=$BUILD/bench/cgroup-sweep
CURATE=${CURATE:-$BUILD/launcher/curate}
URING=${BENCH_URING:-1}
URING_SWITCH=/sys/module/fuse/parameters/enable_uring
SECS=${BENCH_SECONDS:-1}
ROUNDS=${BENCH_ROUNDS:-3}
SCALE_N=${BENCH_CGROUPS:-1000}
SWEEP_S=${BENCH_SWEEP_S:-30}
IDLE_S=${BENCH_IDLE_S:-20}
SCALE_LXCFS=${BENCH_SCALE_LXCFS:-1}
NAME=curate-bench-$$

die() { echo "run-bench: $*" >&2; exit 1; }
note() { echo "run-bench: $*" >&2; }

[ "$(id -u)" -eq 0 ] || die "must run as root (FUSE mounts and cgroups)"
for b in "$READBENCH" "$STATIC_FUSE" "$CGROUP_SWEEP"; do
	[ -x "$b" ] || die "$b missing: build first (meson compile -C $BUILD)"
done
[ -e /dev/fuse ] || die "/dev/fuse missing"

# ---------------------------------------------------------------- cleanup
TMP=$(mktemp -d /tmp/curate-bench.XXXXXX) || die "mktemp failed"
declare -a PIDS=()       # daemons and helpers we started
declare -a SLEEPERS=()   # the scale case's sleeping processes
declare -a CGROUPS=()    # every cgroup directory we created
V2_ENABLED_MEMORY=""     # set when we enabled +memory at a v2 root

URING_WAS=""
cleanup() {
	trap - EXIT INT TERM
	[ -n "$URING_WAS" ] && echo "$URING_WAS" >"$URING_SWITCH"
	[ ${#SLEEPERS[@]} -gt 0 ] && kill -KILL "${SLEEPERS[@]}" 2>/dev/null
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	# Our mounts only: those under our private temp dir, deepest first.
	local m
	awk -v t="$TMP/" 'index($2, t) == 1 { print $2 }' /proc/self/mounts | sort -r |
		while read -r m; do
			fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		done
	# Anything still in our cgroups goes back to where this script runs, then
	# the cgroups go, children before parents.
	local cg i
	for ((i = ${#CGROUPS[@]} - 1; i >= 0; i--)); do
		cg=${CGROUPS[i]}
		[ -d "$cg" ] || continue
		# (cgroup files report size 0, so no -s test: just read.)
		while read -r p; do
			echo "$p" >"$(home_cgroup "$cg")/cgroup.procs" 2>/dev/null
		done <"$cg/cgroup.procs"
		rmdir "$cg" 2>/dev/null || note "could not remove cgroup $cg"
	done
	if [ -n "$V2_ENABLED_MEMORY" ]; then
		echo "-memory" >"$V2_ENABLED_MEMORY/cgroup.subtree_control" 2>/dev/null
	fi
	rm -rf --one-file-system "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- cgroups
# v1: the hierarchies a reader is placed in. cpu and cpuacct may be one
# comounted hierarchy; keep each directory once.
declare -a V1_HIER=()
declare -A HOME_CG=()   # hierarchy root -> the cgroup this script runs in there
if [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
	CGVER=1
	declare -A seen=()
	for ctl in memory cpu cpuacct; do
		[ -d /sys/fs/cgroup/$ctl ] || continue
		real=$(readlink -f /sys/fs/cgroup/$ctl)
		[ -n "${seen[$real]:-}" ] && continue
		seen[$real]=1
		V1_HIER+=("$real")
		# /proc/self/cgroup: "4:memory:/path" (or "2:cpu,cpuacct:/path").
		own=$(awk -F: -v c="$ctl" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' /proc/self/cgroup)
		HOME_CG[$real]=$real${own%/}
	done
elif grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
	CGVER=2
	if ! grep -qw memory /sys/fs/cgroup/cgroup.subtree_control; then
		echo "+memory" >/sys/fs/cgroup/cgroup.subtree_control || die "cannot enable the v2 memory controller"
		V2_ENABLED_MEMORY=/sys/fs/cgroup
	fi
	grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control ||
		note "v2 cpu controller not enabled at the root: loadavg is measured for the memory cgroup only"
	V1_HIER=(/sys/fs/cgroup)
	own=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
	HOME_CG[/sys/fs/cgroup]=/sys/fs/cgroup${own%/}
else
	die "no memory cgroup controller (neither v1 nor v2)"
fi

home_cgroup() { # the home cgroup of the hierarchy holding cgroup $1
	local h
	for h in "${V1_HIER[@]}"; do
		case $1 in "$h"/*) echo "${HOME_CG[$h]}"; return ;; esac
	done
	echo "${1%/*}"
}

# make_cgroup NAME LIMIT: creates NAME in every hierarchy; sets CG_LINE to
# its blank-separated directories (the "cgroup line" cgroup-sweep takes).
# Not for $(...): the cgroups must be recorded in this shell for cleanup.
make_cgroup() {
	local h dir line=""
	CG_LINE=""
	for h in "${V1_HIER[@]}"; do
		dir=$h/$1
		mkdir "$dir" || return 1
		CGROUPS+=("$dir")
		if [ -f "$dir/memory.limit_in_bytes" ]; then
			echo "$2" >"$dir/memory.limit_in_bytes" || return 1
		elif [ -f "$dir/memory.max" ]; then
			echo "$2" >"$dir/memory.max" || return 1
		fi
		line="$line${line:+ }$dir"
	done
	CG_LINE=$line
}

# join_cgroup_line "DIRS" PID
join_cgroup_line() {
	local dir
	for dir in $1; do
		echo "$2" >"$dir/cgroup.procs" || return 1
	done
}

make_cgroup "$NAME" $((256 * 1024 * 1024)) || die "cannot create cgroup $NAME"
BENCH_CG=$CG_LINE

# ---------------------------------------------------------------- mounts
wait_readable() { # FILE PID: until FILE reads non-empty, while PID lives (10 s)
	local i
	for ((i = 0; i < 100; i++)); do
		[ -n "$(head -c 1 "$1" 2>/dev/null)" ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# start_fs NAME FILE CMD...: start a FUSE server in the background on
# $TMP/NAME and wait until FILE below it reads; sets STARTED_PID. On failure
# says why (its log's tail) and returns 1, leaving its column empty.
start_fs() {
	local name=$1 file=$2
	shift 2
	mkdir -p "$TMP/$name"
	"$@" >"$TMP/$name.log" 2>&1 &
	STARTED_PID=$!
	PIDS+=($STARTED_PID)
	wait_readable "$TMP/$name/$file" $STARTED_PID && return 0
	note "$name did not start: $(tail -n 3 "$TMP/$name.log")"
	return 1
}

# the pid file `curate daemon status` reads for a mount point (daemon.c)
pidfile_of() { echo "/run/curate/curatefs-$(sed 's|/|_|g' <<<"$1").pid"; }

FLOOR="" CUR="" URG="" LXC="" CUR_PID="" URG_PID="" LXC_PID=""
start_fs floor meminfo "$STATIC_FUSE" "$TMP/floor" && FLOOR=$TMP/floor
if [ -x "$CURATEFS" ]; then
	mkdir -p "$TMP/curatefs"
	start_fs curatefs proc/meminfo "$CURATEFS" -f --transport dev -p "$(pidfile_of "$TMP/curatefs")" "$TMP/curatefs" &&
		CUR=$TMP/curatefs
	CUR_PID=$STARTED_PID
	if [ "$URING" != 0 ] && [ -w "$URING_SWITCH" ]; then
		# the kernel offers io_uring in INIT only with the switch on when
		# mounting; the switch goes back right after
		URING_WAS=$(cat "$URING_SWITCH")
		echo Y >"$URING_SWITCH"
		mkdir -p "$TMP/uring"
		start_fs uring proc/meminfo "$CURATEFS" -f --transport uring -p "$(pidfile_of "$TMP/uring")" "$TMP/uring" &&
			URG=$TMP/uring
		URG_PID=$STARTED_PID
		echo "$URING_WAS" >"$URING_SWITCH"
		URING_WAS=""
		if [ -n "$URG" ] && [ "$("$CURATE" daemon status --json --mountpoint "$URG" 2>/dev/null |
			sed -n 's/.*"transport": *"\([a-z]*\)".*/\1/p')" != uring ]; then
			note "curatefs --transport uring serves through /dev/fuse: its column stays empty"
			URG=""
		fi
	elif [ "$URING" != 0 ]; then
		note "this kernel has no FUSE over io_uring ($URING_SWITCH): the uring column stays empty"
	fi
else
	note "curatefs not found at $CURATEFS: its columns stay empty"
fi
if command -v "$LXCFS" >/dev/null 2>&1; then
	# A private pidfile so a system lxcfs (pidfile /run/lxcfs.pid) is left alone.
	start_fs lxcfs proc/meminfo "$LXCFS" -f -l -p "$TMP/lxcfs.pid" "$TMP/lxcfs" && LXC=$TMP/lxcfs
	LXC_PID=$STARTED_PID
else
	note "lxcfs not installed: its column stays empty"
fi

# ---------------------------------------------------------------- throughput
# Notes go to a file: measure() runs in a $(...) subshell.
: >"$TMP/notes"

# tree_ticks PID: utime+stime of PID and its children (curatefs's serving
# processes), in clock ticks
tree_ticks() {
	local p t=0 c
	for p in "$1" $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		c=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }')
		t=$((t + ${c:-0}))
	done
	echo "$t"
}
# requests MOUNT: the requests a curatefs on MOUNT answered (0: unknown)
requests() {
	"$CURATE" daemon status --json --mountpoint "$1" 2>/dev/null |
		sed -n 's/.*"requests_served": *\([0-9]*\).*/\1/p' | grep . || echo 0
}

# bind-run SOURCE TARGET CMD...: CMD with SOURCE bound on TARGET, in a mount
# namespace of its own (private: nothing reaches the host's mounts). The bind
# is made from the readers' cgroup, so curatefs's proc link leads it to that
# cgroup's own copy, as an engine's bind for a container does.
cat >"$TMP/bind-run" <<'EOS'
src=$1 dst=$2
shift 2
mount --bind "$src" "$dst" || exit 98
exec "$@"
EOS
: >"$TMP/bind-target"

# measure MODE THREADS FILE [PID MOUNT]: prints "reads/s ops ticks requests"
# (the daemon PID's CPU ticks and MOUNT's requests over the run), "err" or "-".
# MODE bind: open+read+close of FILE bound on a file of its own, the way a
# container reads its /proc/meminfo (no walk of the mount point's names).
measure() {
	local mode=$1 threads=$2 file=$3 pid=${4:-} mnt=${5:-} out rps errors ops t0 t1 q0=0 q1=0
	local -a wrap=() opts=()
	[ "$PIN" = 1 ] && opts=(--pin)
	[ -n "$file" ] || { echo "-"; return; }
	if [ "$mode" = bind ]; then
		wrap=(unshare -m --propagation private sh "$TMP/bind-run" "$file" "$TMP/bind-target")
		mode=open file=$TMP/bind-target
	fi
	[ -n "$pid" ] && t0=$(tree_ticks "$pid")
	[ -n "$mnt" ] && q0=$(requests "$mnt")
	out=$(sh -c 'for d in $1; do echo $$ >"$d/cgroup.procs" || exit 99; done; shift; exec "$@"' \
		sh "$BENCH_CG" "${wrap[@]}" "$READBENCH" "${opts[@]}" --threads "$threads" --seconds "$SECS" --mode "$mode" "$file" 2>"$TMP/rb.err")
	[ -n "$pid" ] && t1=$(tree_ticks "$pid")
	[ -n "$mnt" ] && q1=$(requests "$mnt")
	rps=$(sed -n 's/^reads_per_sec=\([0-9.]*\) .*/\1/p' <<<"$out")
	ops=$(sed -n 's/.* ops=\([0-9]*\).*/\1/p' <<<"$out")
	errors=$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<<"$out")
	if [ -z "$rps" ] || [ "${errors:-1}" != 0 ]; then
		echo "$file ($mode, $threads thr): ${out:-no output} $(head -n 1 "$TMP/rb.err")" >>"$TMP/notes"
		echo "err"
		return
	fi
	printf '%.0f %s %s %s\n' "$rps" "$ops" "$(( ${t1:-0} - ${t0:-0} ))" "$((q1 - q0))"
}

ratio() { # A B -> A/B with two decimals, or "-"
	case "$1$2" in *[!0-9.]* | "") echo "-"; return ;; esac
	[ "$2" = 0 ] && { echo "-"; return; }
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", a / b }'
}

declare -A R=()   # "case|column" -> reads/s (the best round)
declare -A CPU=() # "case|column" -> "ops ticks requests" summed over the rounds
declare -a CASES=()

# best OLD NEW: the higher figure; an error sticks.
best() {
	case "$1$2" in *err*) echo err; return ;; esac
	[ -z "$1" ] || [ "$1" = - ] && { echo "$2"; return; }
	[ "$2" -gt "$1" ] 2>/dev/null && echo "$2" || echo "$1"
}

COLS=(native floor curatefs uring lxcfs)
# Shared machines drift and other tenants steal CPU: the columns of one case
# are measured in turn, ROUNDS times over, and each keeps its best run.
run_case() { # LABEL MODE THREADS NATIVE FLOOR CURATEFS URING LXCFS
	local label=$1 mode=$2 thr=$3 round col m a b c
	local -a files=("$4" "$5" "$6" "$7" "$8") pids=("" "" "$CUR_PID" "$URG_PID" "$LXC_PID") \
		mnts=("" "" "$CUR" "$URG" "")
	CASES+=("$label")
	for ((round = 0; round < ROUNDS; round++)); do
		for col in 0 1 2 3 4; do
			m=$(measure "$mode" "$thr" "${files[col]}" "${pids[col]}" "${mnts[col]}")
			R[$label|${COLS[col]}]=$(best "${R[$label|${COLS[col]}]:-}" "${m%% *}")
			case $m in *\ *)
				read -r _ a b c <<<"$m"
				read -r x y z <<<"${CPU[$label|${COLS[col]}]:-0 0 0}"
				CPU[$label|${COLS[col]}]="$((x + a)) $((y + b)) $((z + c))" ;;
			esac
		done
	done
}

path() { [ -n "$1" ] && echo "$1/$2"; } # empty when the mount is missing

PIN=0            # 1: readbench --pin (each reader on a CPU of its own)
declare -a BUSY=() # the busy loops of the "CPUs busy" cases
busy_start() { # one busy loop on each CPU, outside the readers' cgroup
	local c
	for c in $(seq 0 $((NCPU - 1))); do
		taskset -c "$c" sh -c 'while :; do :; done' &
		BUSY+=($!)
		PIDS+=($!)
	done
}
busy_stop() { # and out of PIDS: reaped, their numbers may go to others
	[ ${#BUSY[@]} -gt 0 ] || return 0
	kill -KILL "${BUSY[@]}" 2>/dev/null
	wait "${BUSY[@]}" 2>/dev/null
	local p b keep
	local -a left=()
	for p in "${PIDS[@]}"; do
		keep=1
		for b in "${BUSY[@]}"; do [ "$p" = "$b" ] && keep=0; done
		[ $keep = 1 ] && left+=("$p")
	done
	PIDS=("${left[@]}")
	BUSY=()
}

NCPU=$(nproc)
READERS=${BENCH_READERS:-$(for n in 1 2 4 8 16; do [ "$n" -le "$NCPU" ] && echo "$n"; done)}
echo "curatefs benchmark: $(uname -r), $NCPU CPUs, cgroup v$CGVER; reads/s, best of $ROUNDS interleaved ${SECS}s runs"
echo "readers in $BENCH_CG (256 MiB); floor = static-fuse, one static 1.5 KiB file;"
echo "curatefs = --transport dev (/dev/fuse), uring = --transport uring (FUSE over io_uring);"
echo "\"pinned\": each reader on a CPU of its own; \"CPUs busy\": a busy loop on every CPU besides"
echo
for thr in $READERS; do
	run_case "meminfo open, $thr thr" open "$thr" /proc/meminfo "$(path "$FLOOR" meminfo)" \
		"$(path "$CUR" proc/meminfo)" "$(path "$URG" proc/meminfo)" "$(path "$LXC" proc/meminfo)"
done
for thr in $READERS; do
	run_case "meminfo bind open, $thr thr" bind "$thr" /proc/meminfo "$(path "$FLOOR" meminfo)" \
		"$(path "$CUR" proc/meminfo)" "$(path "$URG" proc/meminfo)" "$(path "$LXC" proc/meminfo)"
done
for thr in $READERS; do
	run_case "meminfo seek, $thr thr" seek "$thr" /proc/meminfo "$(path "$FLOOR" meminfo)" \
		"$(path "$CUR" proc/meminfo)" "$(path "$URG" proc/meminfo)" "$(path "$LXC" proc/meminfo)"
done
for f in loadavg cpuinfo; do
	for thr in 1 2; do
		run_case "$f open, $thr thr" open $thr /proc/$f "" \
			"$(path "$CUR" proc/$f)" "$(path "$URG" proc/$f)" "$(path "$LXC" proc/$f)"
	done
done
# The scheduler's placement decides much of a one-reader figure: each reply
# wakes the reader, and on an idle machine it may be woken on another CPU than
# the one it asked from. Pinned readers and busy CPUs take that choice away.
if [ "${BENCH_VARIANTS:-1}" != 0 ]; then
	VTHR=$(for n in 1 2; do [ "$n" -le "$NCPU" ] && echo "$n"; done)
	for variant in pinned "CPUs busy"; do
		[ "$variant" = pinned ] && PIN=1
		[ "$variant" = "CPUs busy" ] && busy_start
		for m in seek open; do
			for thr in $VTHR; do
				run_case "meminfo $m, $thr thr, $variant" $m "$thr" /proc/meminfo "$(path "$FLOOR" meminfo)" \
					"$(path "$CUR" proc/meminfo)" "$(path "$URG" proc/meminfo)" "$(path "$LXC" proc/meminfo)"
			done
		done
		PIN=0
		busy_stop
	done
fi

echo "| case | native | floor | curatefs | uring | lxcfs | uring/curatefs | uring/lxcfs | uring/native | curatefs/lxcfs |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for c in "${CASES[@]}"; do
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$c" "${R[$c|native]}" "${R[$c|floor]}" \
		"${R[$c|curatefs]}" "${R[$c|uring]}" "${R[$c|lxcfs]}" \
		"$(ratio "${R[$c|uring]}" "${R[$c|curatefs]}")" "$(ratio "${R[$c|uring]}" "${R[$c|lxcfs]}")" \
		"$(ratio "${R[$c|uring]}" "${R[$c|native]}")" "$(ratio "${R[$c|curatefs]}" "${R[$c|lxcfs]}")"
done
echo

# daemon CPU per read and per request (all rounds of a case): us
per() { # TICKS COUNT -> microseconds of CPU per one
	case "$1$2" in *[!0-9]* | "") echo "-"; return ;; esac
	[ "$2" -gt 0 ] || { echo "-"; return; }
	awk -v t="$1" -v n="$2" -v hz="$HZ" 'BEGIN { printf "%.1f\n", t / hz * 1e6 / n }'
}
HZ=$(getconf CLK_TCK)
echo "Daemon CPU (user+system of the daemon and its serving processes, all rounds), us:"
echo "| case | curatefs per read | uring per read | lxcfs per read | curatefs per request | uring per request |"
echo "|---|---:|---:|---:|---:|---:|"
for c in "${CASES[@]}"; do
	read -r co ct cq <<<"${CPU[$c|curatefs]:-0 0 0}"
	read -r uo ut uq <<<"${CPU[$c|uring]:-0 0 0}"
	read -r lo lt _ <<<"${CPU[$c|lxcfs]:-0 0 0}"
	printf '| %s | %s | %s | %s | %s | %s |\n' "$c" "$(per "$ct" "$co")" "$(per "$ut" "$uo")" "$(per "$lt" "$lo")" \
		"$(per "$ct" "$cq")" "$(per "$ut" "$uq")"
done
echo

verdict() { # VALUE OP TARGET -> "met" / "NOT met" / "n/a"
	case "$1" in "" | *[!0-9.]*) echo "n/a"; return ;; esac
	awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
		ok = (op == ">=") ? (v >= t) : (v <= t); print ok ? "met" : "NOT met" }'
}

echo "Targets:"
for c in "${CASES[@]}"; do
	rl=$(ratio "${R[$c|curatefs]}" "${R[$c|lxcfs]}")
	line="- $c: curatefs/lxcfs $rl (target >= 4: $(verdict "$rl" ">=" 4))"
	case $c in meminfo\ open*)
		rf=$(ratio "${R[$c|curatefs]}" "${R[$c|floor]}")
		line="$line; curatefs/floor $rf (target >= 0.85: $(verdict "$rf" ">=" 0.85))" ;;
	esac
	ru=$(ratio "${R[$c|uring]}" "${R[$c|curatefs]}")
	case $c in meminfo\ *", 1 thr" | meminfo\ *", 2 thr")
		line="$line; uring/curatefs $ru (target >= 1.3: $(verdict "$ru" ">=" 1.3))" ;;
	meminfo\ open*", 16 thr")
		line="$line; uring/lxcfs $(ratio "${R[$c|uring]}" "${R[$c|lxcfs]}") (target >= 4: $(verdict "$(ratio "${R[$c|uring]}" "${R[$c|lxcfs]}")" ">=" 4)), uring/native $(ratio "${R[$c|uring]}" "${R[$c|native]}") (target >= 0.3: $(verdict "$(ratio "${R[$c|uring]}" "${R[$c|native]}")" ">=" 0.3))" ;;
	esac
	echo "$line"
done
sed 's/^/note: /' "$TMP/notes"
: >"$TMP/notes"
echo

# ---------------------------------------------------------------- scale
cpu_ticks() { tree_ticks "$1"; } # the daemon and its serving processes
rss_kib() { # PID FIELD: the field (kB) summed over PID and its children (serving processes)
	local p t=0 v
	for p in "$1" $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		v=$(awk '$1 == "'"$2"':" { print $2 }' "/proc/$p/status" 2>/dev/null)
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

declare -A S=()   # "metric|daemon" -> value

# scale_daemon NAME PID MOUNT: one sweep window and one idle window.
scale_daemon() {
	local name=$1 pid=$2 mnt=$3 t0 t1 c0 c1 out w0 w1
	note "scale: $name, ${SWEEP_S}s of reads from $SCALE_N cgroups, then ${IDLE_S}s idle"
	c0=$(cpu_ticks "$pid"); w0=$(date +%s.%N)
	out=$("$CGROUP_SWEEP" --seconds "$SWEEP_S" "$TMP/cgroups.list" \
		"$mnt/proc/meminfo" "$mnt/proc/loadavg" 2>"$TMP/sweep.err")
	c1=$(cpu_ticks "$pid"); w1=$(date +%s.%N)
	S[sweep|$name]=$out
	S[errors|$name]=$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<<"$out")
	case "$out" in rounds=$SWEEP_S\ * | rounds=$((SWEEP_S + 1))\ *) ;;
	*) echo "$name sweep fell behind once per second: $out" >>"$TMP/notes" ;;
	esac
	[ -s "$TMP/sweep.err" ] && echo "$name sweep: $(head -n 1 "$TMP/sweep.err")" >>"$TMP/notes"
	S[rss|$name]=$(awk -v k="$(rss_kib "$pid" VmRSS)" 'BEGIN { printf "%.1f", k / 1024 }')
	S[hwm|$name]=$(awk -v k="$(rss_kib "$pid" VmHWM)" 'BEGIN { printf "%.1f", k / 1024 }')
	S[busy|$name]=$(awk -v c="$((c1 - c0))" -v hz="$HZ" -v w0="$w0" -v w1="$w1" \
		'BEGIN { printf "%.2f", 100 * c / hz / (w1 - w0) }')
	# Nothing reads now; what the daemon spends is its background sampling of
	# the cgroups that were read recently.
	c0=$(cpu_ticks "$pid"); w0=$(date +%s.%N)
	sleep "$IDLE_S"
	c1=$(cpu_ticks "$pid"); w1=$(date +%s.%N)
	S[idle|$name]=$(awk -v c="$((c1 - c0))" -v hz="$HZ" -v w0="$w0" -v w1="$w1" \
		'BEGIN { printf "%.2f", 100 * c / hz / (w1 - w0) }')
	S[rss_end|$name]=$(awk -v k="$(rss_kib "$pid" VmRSS)" 'BEGIN { printf "%.1f", k / 1024 }')
}

if [ "$SCALE_N" -gt 0 ] && { [ -n "$CUR" ] || [ -n "$LXC" ]; }; then
	note "scale: creating $SCALE_N cgroups with one sleeping process each"
	: >"$TMP/cgroups.list"
	ok=1
	for ((i = 1; i <= SCALE_N; i++)); do
		make_cgroup "$NAME-$i" $((64 * 1024 * 1024)) || { ok=0; break; }
		sleep 600 &
		SLEEPERS+=($!)
		disown $! # no "Killed" job report at cleanup
		join_cgroup_line "$CG_LINE" $! || { ok=0; break; }
		echo "$CG_LINE" >>"$TMP/cgroups.list"
	done
	if [ $ok = 1 ]; then
		[ -n "$CUR" ] && scale_daemon curatefs "$CUR_PID" "$CUR"
		[ -n "$LXC" ] && [ "$SCALE_LXCFS" = 1 ] && scale_daemon lxcfs "$LXC_PID" "$LXC"
		echo "Scale: $SCALE_N cgroups (each 64 MiB, one sleeping process), each read once per second"
		echo "(proc/meminfo + proc/loadavg) for ${SWEEP_S}s, then ${IDLE_S}s with no reads."
		echo
		echo "| metric | curatefs | lxcfs | target (curatefs) |"
		echo "|---|---:|---:|---:|"
		echo "| RSS MiB after the sweep (VmRSS) | ${S[rss|curatefs]:--} | ${S[rss|lxcfs]:--} | <= 16 |"
		echo "| peak RSS MiB (VmHWM) | ${S[hwm|curatefs]:--} | ${S[hwm|lxcfs]:--} | |"
		echo "| daemon CPU % of one core while read | ${S[busy|curatefs]:--} | ${S[busy|lxcfs]:--} | |"
		echo "| sampling CPU % of one core (idle window) | ${S[idle|curatefs]:--} | ${S[idle|lxcfs]:--} | <= 1 |"
		echo "| failed reads in the sweep | ${S[errors|curatefs]:--} | ${S[errors|lxcfs]:--} | 0 |"
		echo
		for d in curatefs lxcfs; do
			[ -n "${S[sweep|$d]:-}" ] && echo "$d sweep: ${S[sweep|$d]}"
		done
		echo "Targets: RSS $(verdict "${S[rss|curatefs]:-}" "<=" 16), sampling CPU $(verdict "${S[idle|curatefs]:-}" "<=" 1)"
	else
		note "scale: could not create cgroup $i; scale case skipped"
	fi
fi
sed 's/^/note: /' "$TMP/notes"
exit 0
