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
        local -a transport=()
        if [ -n "${CURATEFS_TRANSPORT:-}" ]; then
                # the pid file `curate daemon status` looks for (transport_checks)
                transport=(--transport "$CURATEFS_TRANSPORT" -p "/run/curate/curatefs-${MNT//\//_}.pid")
                OUR_DIRS+=("/run/curate/curatefs-${MNT//\//_}.pid")
        fi
        "$CURATEFS" -f "${transport[@]}" "$@" "$MNT" 2>"${CURATEFS_LOG_KEEP:-$CURATEFS_LOG}" &
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
        [ -z "$URING_WAS" ] || echo "$URING_WAS" >"$URING_SWITCH"
}
trap cleanup EXIT

# ---- FUSE over io_uring ------------------------------------------------------------
# CURATEFS_TRANSPORT=uring (the suite's "(uring)" runs): the kernel's switch
# is turned on for the test and restored at exit, mount_curatefs starts
# curatefs --transport uring, and curate run's daemons (transport auto) take
# io_uring too; finish checks that the requests went through it.
URING_SWITCH=/sys/module/fuse/parameters/enable_uring
URING_WAS=""
uring_on() { # the switch on until exit; 1 when this kernel has none
        [ -w "$URING_SWITCH" ] || return 1
        [ -n "$URING_WAS" ] || URING_WAS=$(cat "$URING_SWITCH")
        echo Y >"$URING_SWITCH" 2>/dev/null && [ "$(cat "$URING_SWITCH")" = Y ]
}
if [ "${CURATEFS_TRANSPORT:-}" = uring ] && ! uring_on; then
        skip "this kernel has no FUSE over io_uring (Linux >= 6.14 with CONFIG_FUSE_IO_URING: no $URING_SWITCH)"
fi
# the daemon on MNT (mount_curatefs's) serves through io_uring: every queue
# registered, and more of its answers went through the rings than N
uring_checks() { # MNT N
        local out
        out=$("$CURATE" daemon status --json --mountpoint "$1" 2>&1)
        check_eq "the daemon's transport is io_uring" uring \
                "$(python3 -c 'import json,sys; print(json.load(sys.stdin).get("transport"))' <<<"$out" 2>&1)"
        check "more than $2 requests answered through io_uring ($(grep -o '"requests_served[a-z_]*": *[0-9]*' <<<"$out" | tr '\n' ' '))" \
                test "$(python3 -c 'import json,sys; print(json.load(sys.stdin).get("requests_served_uring") or 0)' <<<"$out" 2>/dev/null || echo 0)" -gt "$2"
}

finish() {
        if [ "${CURATEFS_TRANSPORT:-}" = uring ] && [ -n "${MNT:-}" ] && [ -n "${CURATEFS_PID:-}" ] && kill -0 "$CURATEFS_PID" 2>/dev/null; then
                uring_checks "$MNT" 10
        fi
        echo "# $pass passed, $fail failed"
        [ "$fail" = 0 ]
        exit $?
}

kb_of() { awk -v k="$1:" '$1 == k { print $2 }'; }

# Is curatefs built with AddressSanitizer (its own allocator, not glibc's)?
curatefs_asan() { ldd "$CURATEFS" 2>/dev/null | grep -q libasan; }

# ---- helpers for the launcher tests (test-run-*.sh) ----------------------------
declare -a OUR_CURATE_PIDS=() OUR_DAEMON_MOUNTS=()

# require_curate: root, /dev/fuse, curatefs and a working curate binary
require_curate() {
        require_root
        [ -x "${CURATE:-}" ] || skip "CURATE not built (${CURATE:-unset})"
        "$CURATE" --version >/dev/null 2>&1 || "$CURATE" --help >/dev/null 2>&1 ||
                skip "$CURATE answers neither --version nor --help: the launcher is not built yet"
}

# run_tmpdir: a 0755 directory for the test's files, outside /tmp (the
# command gets a private /tmp), removed at exit; sets T
run_tmpdir() {
        T=$(mktemp -d /var/tmp/curate-run-test.XXXXXX)
        chmod 755 "$T"
        OUR_DIRS+=("$T")
}

# cr ARG...: run "$CURATE ARG..." (stdin inherited; at most CR_TIMEOUT
# seconds, default 60): sets OUT (stdout), ERR (stderr), RC (exit status)
# and CR_PID (the pid curate ran as, which names its cgroup run-PID)
cr() {
        local pidf errf
        pidf=$(mktemp /tmp/curate-cr-pid.XXXXXX); errf=$(mktemp /tmp/curate-cr-err.XXXXXX)
        OUT=$(timeout -k 5 "${CR_TIMEOUT:-60}" "$BASH" -c 'echo $$ >"$0"; exec "$@"' "$pidf" "$CURATE" "$@" 2>"$errf")
        RC=$?
        ERR=$(cat "$errf"); CR_PID=$(cat "$pidf")
        rm -f "$pidf" "$errf"
        [ -n "$CR_PID" ] && OUR_CURATE_PIDS+=("$CR_PID")
        return 0
}
# cr_bg ARG...: start "$CURATE ARG..." in the background with SIGINT and
# SIGQUIT at their defaults (bash leaves them ignored in background jobs),
# stdout and stderr to files: sets CR_PID, CR_OUTF, CR_ERRF. Collect with cr_wait.
cr_bg() {
        CR_OUTF=$(mktemp /tmp/curate-cr-out.XXXXXX); CR_ERRF=$(mktemp /tmp/curate-cr-err.XXXXXX)
        OUR_DIRS+=("$CR_OUTF" "$CR_ERRF")
        env --default-signal=INT,QUIT "$CURATE" "$@" >"$CR_OUTF" 2>"$CR_ERRF" </dev/null &
        CR_PID=$!
        OUR_CURATE_PIDS+=("$CR_PID"); OUR_PIDS+=("$CR_PID")
}
# cr_wait [SECONDS]: wait for the cr_bg curate (default 30 s, then SIGKILL);
# sets RC, OUT, ERR
cr_wait() {
        local i n=$(( ${1:-30} * 20 ))
        for (( i = 0; i < n; i++ )); do kill -0 "$CR_PID" 2>/dev/null || break; sleep 0.05; done
        kill -0 "$CR_PID" 2>/dev/null && { echo "# curate $CR_PID still running after ${1:-30}s: SIGKILL"; kill -KILL "$CR_PID"; }
        wait "$CR_PID"; RC=$?
        OUT=$(cat "$CR_OUTF"); ERR=$(cat "$CR_ERRF")
}
# wait_file FILE [SECONDS]: until FILE exists (default 20 s)
wait_file() {
        local i n=$(( ${2:-20} * 20 ))
        for (( i = 0; i < n; i++ )); do [ -e "$1" ] && return 0; sleep 0.05; done
        return 1
}

# kv KEY: the value of the line "KEY=value" on stdin (the first one)
kv() { awk -v k="$1" 'index($0, k "=") == 1 { print substr($0, length(k) + 2); exit }'; }

# mount_table: the host's mount table (this process's namespace) as stable
# text, one sorted line per mount: mount point, propagation fields, options,
# type, source, super options. Mount ids are left out (they change). Left out
# too: the temp mounts of other test and benchmark runs (they may run on this
# machine meanwhile) and curatefs or lxcfs daemons that are not ours.
mount_table() {
        local ours
        ours=$(printf '%s\n' "${OUR_DIRS[@]}" "${OUR_MOUNTS[@]}" "${OUR_DAEMON_MOUNTS[@]}")
        awk -v ours="$ours" '
                BEGIN { n = split(ours, a, "\n"); for (i = 1; i <= n; i++) if (a[i] != "") mine[a[i]] = 1 }
                function ours_path(p,   q) {
                        for (q in mine) if (p == q || index(p, q "/") == 1) return 1
                        return 0
                }
                {
                        mp = $5; opt = ""
                        for (i = 7; $i != "-"; i++) opt = opt " " $i
                        t = $(i + 1); src = $(i + 2); so = $(i + 3)
                        if (!ours_path(mp)) {
                                if (match(mp, "^/(var/)?tmp/(curatefs-test|curate-bench|curate-run-test|curate-launch|curate-qemu)\\.")) next
                                if (t == "fuse.curatefs" || t == "fuse.lxcfs") next
                        }
                        print mp, $6 opt, t, src, so
                }' /proc/self/mountinfo | sort
}
# check_mounts_same DESCRIPTION BEFORE: the host mount table equals BEFORE
# (an earlier mount_table); on a difference the changed lines are shown
check_mounts_same() {
        local now; now=$(mount_table)
        if [ "$now" = "$2" ]; then ok "$1"; return; fi
        not_ok "$1: the host mount table changed"
        diff <(echo "$2") <(echo "$now") | grep '^[<>]' | sed 's/^/#   /'
}

# run_cgroups PID: the transient cgroup directories of the curate that ran
# as PID (curate/run-PID beneath every hierarchy root), one per line
run_cgroups() {
        local d
        for d in /sys/fs/cgroup/curate/run-"$1" /sys/fs/cgroup/*/curate/run-"$1"; do
                [ -d "$d" ] && echo "$d"
        done
        return 0
}
# cg_file PID V1_CONTROLLER FILE: the path of FILE in curate PID's transient cgroup
cg_file() {
        if cg_is_v2; then echo "/sys/fs/cgroup/curate/run-$1/$3"
        else echo "/sys/fs/cgroup/$2/curate/run-$1/$3"; fi
}

# fresh_mountpoint: a mount point no curatefs serves yet (not even created),
# for curate to start its daemon on; the daemon is stopped at exit. Sets FRESH.
fresh_mountpoint() {
        local d; d=$(mktemp -d /tmp/curatefs-test.XXXXXX)
        OUR_DIRS+=("$d")
        FRESH=$d/mnt
        OUR_DAEMON_MOUNTS+=("$FRESH")
}
# fuse_mounts_at DIR: how many curatefs mounts sit on DIR
fuse_mounts_at() { awk -v m="$1" '$5 == m && / - fuse\.curatefs / { n++ } END { print n + 0 }' /proc/self/mountinfo; }
# daemon_pids DIR: the curatefs processes serving (or started for) DIR
daemon_pids() { pgrep -f "curatefs.* $1\$" | tr '\n' ' ' | sed 's/ $//'; }

# Launcher tests' own cleanup, before lib's cleanup: stop the daemons curate
# started for us, kill what is left in our runs' cgroups and remove them.
cleanup_run() {
        local m p d c t
        for m in "${OUR_DAEMON_MOUNTS[@]}"; do
                [ -n "${CURATE:-}" ] && timeout 10 "$CURATE" daemon stop --mountpoint "$m" >/dev/null 2>&1
                for p in $(daemon_pids "$m"); do kill -TERM "$p" 2>/dev/null; done
                for c in 1 2 3 4 5 6 7 8 9 10; do mountpoint -q "$m" 2>/dev/null || break; umount -l "$m" 2>/dev/null || sleep 0.1; done
                for p in $(daemon_pids "$m"); do kill -KILL "$p" 2>/dev/null; done
        done
        for p in "${OUR_CURATE_PIDS[@]}"; do
                kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
                for d in $(run_cgroups "$p"); do
                        echo "# cleanup: removing leftover cgroup $d"
                        for c in 1 2 3 4 5 6 7 8 9 10; do
                                while read -r t; do kill -KILL "$t" 2>/dev/null; done < "$d/cgroup.procs"
                                rmdir "$d" 2>/dev/null && break
                                sleep 0.1
                        done
                done
        done
}
trap 'cleanup_run; cleanup' EXIT

# The host's default capability bounding set inside curate (podman's default):
# CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE
# SYS_CHROOT SETFCAP
CAPS_DEFAULT=00000000800405fb
# The curated /dev, as `ls -A /dev | sort` lists it
DEV_CURATED="fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero"

# fake_nvidia_host DIR: a copy of tests/fixtures/gpu/two (two GPUs; index 0
# is Device Minor 1) with its device nodes made for real, as a host root
# for CURATE_HOST_ROOT
fake_nvidia_host() {
        local d=$1
        cp -a "${SOURCE_ROOT:-.}/tests/fixtures/gpu/two" "$d" || return 1
        rm -f "$d/dev/nvidia-modeset"
        mknod -m 666 "$d/dev/nvidia0" c 195 0
        mknod -m 666 "$d/dev/nvidia1" c 195 1
        mknod -m 666 "$d/dev/nvidiactl" c 195 255
        mknod -m 666 "$d/dev/nvidia-modeset" c 195 254
        mknod -m 666 "$d/dev/nvidia-uvm" c 510 0
        mknod -m 666 "$d/dev/nvidia-uvm-tools" c 510 1
}

# ---- the engine tests: rootful podman with runc, its state private to the test ----
# require_podman: podman, runc and a static busybox (BUSYBOX), or skip
require_podman() {
        command -v podman >/dev/null || skip "podman not installed (scripts/setup.sh installs it)"
        command -v runc >/dev/null || skip "runc not installed (scripts/setup.sh installs it)"
        BUSYBOX=$(command -v busybox) || skip "busybox-static not installed"
        ! ldd "$BUSYBOX" >/dev/null 2>&1 || skip "$BUSYBOX is not static (busybox-static)"
}
# podman_private TAG (after run_tmpdir): PODMAN, podman with its storage, run
# state and temporary files below $T (runc, cgroupfs, no events), and IMAGE,
# the name podman_import gives the test's image
podman_private() {
        PODMAN=(podman --root "$T/storage" --runroot "$T/run" --tmpdir "$T/tmp" --storage-driver vfs
                --runtime runc --cgroup-manager cgroupfs --events-backend none)
        IMAGE=localhost/curate-$1-test:$$
}
# podman_cleanup: the private podman's containers and images, and every
# mount left below $T (nothing of podman's may stay mounted where cleanup
# removes the directory)
podman_cleanup() {
        [ -n "${PODMAN[*]:-}" ] || return 0
        "${PODMAN[@]}" rm -a -f -t 0 >/dev/null 2>&1
        "${PODMAN[@]}" rmi -a -f >/dev/null 2>&1
        awk -v t="$T/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
                umount -l "$m"
        done
}
# busybox_rootfs DIR [BINARY...]: static busybox with its applet links, the
# directories runc mounts on, and each BINARY in /usr/bin with the
# libraries ldd names
busybox_rootfs() {
        local d=$1 a b lib
        shift
        mkdir -p "$d"/{bin,proc,sys,dev,etc,tmp,usr/bin}
        cp "$BUSYBOX" "$d/bin/busybox"
        for a in $("$BUSYBOX" --list); do [ "$a" = busybox ] || ln -sf busybox "$d/bin/$a"; done
        for b; do
                cp "$b" "$d/usr/bin/${b##*/}"
                for lib in $(ldd "$b" | grep -o '/[^ ]*'); do
                        mkdir -p "$d$(dirname "$lib")" && cp -L "$lib" "$d$lib"
                done
        done
}
# podman_import DIR: DIR as the image $IMAGE, or skip
podman_import() {
        tar -C "$1" -cf "$T/rootfs.tar" .
        "${PODMAN[@]}" import "$T/rootfs.tar" "$IMAGE" >/dev/null 2>"$T/import.err" ||
                skip "podman cannot import an image here: $(tail -1 "$T/import.err")"
}
# cdi_lock: CDI_DIR (/var/run/cdi, made when missing: MADE_CDI_DIR=1),
# locked (fd 9) for the rest of the test: podman 4.3 reads specs only from
# /etc/cdi and /var/run/cdi, so one test at a time installs its spec there
# (a lock on the directory itself leaves no lock file behind)
cdi_lock() {
        CDI_DIR=/var/run/cdi MADE_CDI_DIR=0
        [ -d "$CDI_DIR" ] || { mkdir -p "$CDI_DIR" && MADE_CDI_DIR=1; }
        exec 9<"$CDI_DIR"
        flock -w 300 9 || skip "another test holds the lock on $CDI_DIR"
}
