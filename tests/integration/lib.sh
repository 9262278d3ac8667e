# Shared helpers for the integration tests (bash). Real FUSE mounts, real
# cgroups (v1, v2 or hybrid), real processes. Everything created is removed
# on exit; only our own pids are killed and only our own mounts unmounted.
set -u

pass=0
fail=0
CG_PREFIX="curate-test-$$"
declare -a OUR_PIDS=() OUR_MOUNTS=() OUR_CGROUPS=() OUR_DIRS=()

skip() { echo "SKIP: $*"; exit 77; }
require_root() {
        [ "$(id -u)" = 0 ] || skip "needs root"
        [ -c /dev/fuse ] || skip "needs /dev/fuse"
        [ -x "${CURATEFS:-}" ] || skip "CURATEFS not built (${CURATEFS:-unset})"
}

ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }
check() { # check DESCRIPTION COMMAND...
        local d=$1; shift
        if "$@"; then ok "$d"; else not_ok "$d"; fi
}
check_eq() { # check_eq DESCRIPTION EXPECTED ACTUAL
        if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: expected '$2', got '$3'"; fi
}

cg_is_v2() { [ -f /sys/fs/cgroup/cgroup.controllers ]; }

# v1 controllers we use, where the host mounts them
cg_v1_controllers() {
        local c
        for c in memory cpu cpuacct cpuset blkio pids; do
                [ -d /sys/fs/cgroup/$c ] && [ ! -L /sys/fs/cgroup/$c ] && echo $c
        done
}

# cg_create NAME [memory=BYTES] [swap=BYTES] [quota=US] [cpus=LIST] [parent=NAME]
cg_create() {
        local name=$1; shift
        local mem="" quota="" cpus="" swap="" kv
        for kv in "$@"; do
                case $kv in
                memory=*) mem=${kv#*=} ;;
                quota=*) quota=${kv#*=} ;;
                cpus=*) cpus=${kv#*=} ;;
                swap=*) swap=${kv#*=} ;;
                esac
        done
        if cg_is_v2; then
                local d=/sys/fs/cgroup/$name parent
                parent=$(dirname "$d")
                echo "+memory +cpu +cpuset +io +pids" > "$parent/cgroup.subtree_control" 2>/dev/null || true
                mkdir "$d" || return 1
                OUR_CGROUPS+=("$d")
                [ -n "$mem" ] && echo "$mem" > "$d/memory.max"
                [ -n "$swap" ] && echo "$swap" > "$d/memory.swap.max"
                [ -n "$quota" ] && echo "$quota 100000" > "$d/cpu.max"
                [ -n "$cpus" ] && echo "$cpus" > "$d/cpuset.cpus"
        else
                local c
                for c in $(cg_v1_controllers); do
                        mkdir "/sys/fs/cgroup/$c/$name" || return 1
                        OUR_CGROUPS+=("/sys/fs/cgroup/$c/$name")
                done
                [ -n "$mem" ] && echo "$mem" > "/sys/fs/cgroup/memory/$name/memory.limit_in_bytes"
                if [ -n "$quota" ]; then
                        echo 100000 > "/sys/fs/cgroup/cpu/$name/cpu.cfs_period_us"
                        echo "$quota" > "/sys/fs/cgroup/cpu/$name/cpu.cfs_quota_us"
                fi
                local cs=/sys/fs/cgroup/cpuset/$name
                cat "$(dirname "$cs")/cpuset.mems" > "$cs/cpuset.mems"
                cat "$(dirname "$cs")/cpuset.cpus" > "$cs/cpuset.cpus"
                [ -n "$cpus" ] && echo "$cpus" > "$cs/cpuset.cpus"
        fi
        return 0
}

_cg_dirs() { # the cgroup directories of NAME ("" for the root), one line
        local name=$1 c dirs=""
        if cg_is_v2; then echo "/sys/fs/cgroup/$name"; return; fi
        for c in $(cg_v1_controllers); do dirs="$dirs /sys/fs/cgroup/$c/$name"; done
        echo "$dirs"
}
_CG_ENTER='for d in $CG_DIRS; do echo $$ > $d/cgroup.procs || exit 125; done; exec "$@"'

# cg_exec NAME CMD...: run CMD inside cgroup NAME (every hierarchy)
cg_exec() {
        local dirs; dirs=$(_cg_dirs "$1"); shift
        CG_DIRS="$dirs" "$BASH" -c "$_CG_ENTER" cg_exec "$@"
}
# cg_spawn NAME CMD...: the same in the background; its pid is recorded (and
# killed at exit) and left in SPAWNED
cg_spawn() {
        local dirs; dirs=$(_cg_dirs "$1"); shift
        CG_DIRS="$dirs" "$BASH" -c "$_CG_ENTER" cg_exec "$@" &
        SPAWNED=$!
        OUR_PIDS+=("$SPAWNED")
}
# cg_exec_root CMD...: run CMD in the root cgroup of every hierarchy
cg_exec_root() { cg_exec "" "$@"; }

mount_curatefs() { # sets MNT
        MNT=$(mktemp -d /tmp/curatefs-test.XXXXXX)
        OUR_DIRS+=("$MNT")
        CURATEFS_LOG=$(mktemp /tmp/curatefs-log.XXXXXX)
        OUR_DIRS+=("$CURATEFS_LOG")
        "$CURATEFS" -f "$@" "$MNT" 2>"${CURATEFS_LOG_KEEP:-$CURATEFS_LOG}" &
        CURATEFS_PID=$!
        OUR_PIDS+=("$CURATEFS_PID")
        OUR_MOUNTS+=("$MNT")
        local i
        for i in $(seq 100); do
                [ -e "$MNT/proc/meminfo" ] && return 0
                kill -0 "$CURATEFS_PID" 2>/dev/null || break
                sleep 0.05
        done
        echo "curatefs did not come up:"; cat "$CURATEFS_LOG"
        return 1
}

cleanup() {
        local p m d i
        for p in "${OUR_PIDS[@]}"; do kill "$p" 2>/dev/null; done
        for m in "${OUR_MOUNTS[@]}"; do
                mountpoint -q "$m" && umount -l "$m" 2>/dev/null
        done
        for p in "${OUR_PIDS[@]}"; do wait "$p" 2>/dev/null; done
        # innermost cgroups first; move stray tasks to the parent first
        for (( i=${#OUR_CGROUPS[@]}-1; i>=0; i-- )); do
                d=${OUR_CGROUPS[$i]}
                [ -d "$d" ] || continue
                if [ -f "$d/cgroup.procs" ]; then
                        while read -r p; do echo "$p" > "$(dirname "$d")/cgroup.procs" 2>/dev/null; done < "$d/cgroup.procs"
                fi
                rmdir "$d" 2>/dev/null || { sleep 0.2; rmdir "$d" 2>/dev/null; }
        done
        for d in "${OUR_DIRS[@]}"; do rm -rf "$d" 2>/dev/null; done
}
trap cleanup EXIT

finish() {
        echo "# $pass passed, $fail failed"
        [ "$fail" = 0 ]
        exit $?
}

kb_of() { awk -v k="$1:" '$1 == k { print $2 }'; }
