#!/bin/bash
# curate run: what a command sees inside (views, CPUs, /dev, /tmp, its
# cgroup) and what is left on the host afterwards (nothing).
. "$(dirname "$0")/lib.sh"
require_curate
export LC_ALL=C

mount_curatefs || { not_ok "mount curatefs"; finish; }
run_tmpdir
host_total_kb=$(kb_of MemTotal < /proc/meminfo)
host_root_dev=$(findmnt -no SOURCE / | head -n 1)

# What the command reports, one KEY=value per line.
cat > "$T/inside.sh" <<'EOF'
hm=$1 probe=$2
export LC_ALL=C
echo "free=$(free -b | awk '/^Mem:/ { print $2 }')"
echo "nproc=$(nproc)"
echo "getconf=$(getconf _NPROCESSORS_ONLN)"
echo "cpuinfo=$(grep -c '^processor' /proc/cpuinfo)"
echo "statcpus=$(grep -c '^cpu[0-9]' /proc/stat)"
echo "online=$(cat /sys/devices/system/cpu/online)"
up=$(uptime 2>&1); echo "uptime_rc=$?"; echo "uptime=$up"
echo "procuptime=$(cut -d' ' -f1 /proc/uptime)"
echo "dev=$(ls -A /dev | sort | tr '\n' ' ')"
echo "zero=$(head -c 4 /dev/zero | od -An -tx1 | tr -d ' \n')"
echo x > /dev/null; echo "null_rc=$?"
echo "nullread=$(wc -c < /dev/null)"
echo "urandom=$(head -c 16 /dev/urandom | wc -c)"
(echo x > /dev/full) 2>/dev/null; echo "full_rc=$?"
echo "pty=$(script -qc tty /dev/null 2>&1 | tr -d '\r' | head -n 1)"
echo "pts=$(ls -A /dev/pts | tr '\n' ' ')"
echo "links=$(for l in fd stdin stdout stderr ptmx; do printf '%s>%s ' $l "$(readlink /dev/$l)"; done)"
echo "mqueue=$(findmnt -no FSTYPE /dev/mqueue | tail -n 1)"
echo "shmfs=$(findmnt -no FSTYPE /dev/shm | tail -n 1)"
echo inside > "/dev/shm/$probe"; echo "shm_write=$?"
echo "tmpfs=$(findmnt -no FSTYPE /tmp | tail -n 1)"
echo inside > "/tmp/$probe"; echo "tmp_write=$?"
echo "hostmarker=$([ -e "$hm" ] && echo visible || echo hidden)"
echo "cgroup=$(tr '\n' ' ' < /proc/self/cgroup)"
echo "cglimit=$(cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null)"
echo "meminfo_fs=$(findmnt -no FSTYPE /proc/meminfo | tail -n 1)"
EOF

hm=$(mktemp /tmp/curate-run-host.XXXXXX); OUR_DIRS+=("$hm")
probe=curate-run-probe-$$
OUR_DIRS+=("/tmp/$probe" "/dev/shm/$probe")
host_up=$(cut -d' ' -f1 /proc/uptime)
before=$(mount_table)

cr run --mountpoint "$MNT" --memory 256M --cpus 1 --cpuset 0 -- bash "$T/inside.sh" "$hm" "$probe"
check_eq "run exits 0 (stderr: $ERR)" 0 "$RC"
in=$OUT
check_eq "free -b: total is the 256M limit" 268435456 "$(kv free <<<"$in")"
check_eq "nproc (affinity) is 1 under --cpuset 0" 1 "$(kv nproc <<<"$in")"
check_eq "getconf _NPROCESSORS_ONLN is 1" 1 "$(kv getconf <<<"$in")"
check_eq "/proc/cpuinfo lists 1 processor" 1 "$(kv cpuinfo <<<"$in")"
check_eq "/proc/stat has 1 cpuN line" 1 "$(kv statcpus <<<"$in")"
check_eq "/sys/devices/system/cpu/online is 0" 0 "$(kv online <<<"$in")"
check_eq "/proc/meminfo is served by curatefs" fuse.curatefs "$(kv meminfo_fs <<<"$in")"
check_eq "uptime runs" 0 "$(kv uptime_rc <<<"$in")"
check "uptime prints a load average ($(kv uptime <<<"$in"))" grep -q 'load average' <<<"$(kv uptime <<<"$in")"
pu=$(kv procuptime <<<"$in")
check "/proc/uptime counts from the container's start ($pu s; host $host_up s)" \
        awk -v u="$pu" -v h="$host_up" 'BEGIN { exit !(u != "" && u < 30 && u < h) }'

dev=$(kv dev <<<"$in")
check_eq "ls -A /dev is the curated list" "$DEV_CURATED" "${dev% }"
if grep -qw mqueue /proc/filesystems; then
        check_eq "/dev/mqueue is an mqueue mount (the kernel has mqueue)" mqueue "$(kv mqueue <<<"$in")"
else
        check_eq "/dev/mqueue: no mqueue mounted (the kernel has none)" "" "$(kv mqueue <<<"$in")"
fi
check_eq "/dev/zero reads zeros" 00000000 "$(kv zero <<<"$in")"
check_eq "/dev/null takes writes" 0 "$(kv null_rc <<<"$in")"
check_eq "/dev/null reads empty" 0 "$(kv nullread <<<"$in")"
check_eq "/dev/urandom reads" 16 "$(kv urandom <<<"$in")"
check "/dev/full refuses writes" test "$(kv full_rc <<<"$in")" != 0
check_eq "a pty works and is the first of a private devpts" /dev/pts/0 "$(kv pty <<<"$in")"
check_eq "/dev/pts holds only ptmx once the pty is closed" "ptmx" "$(kv pts <<<"$in" | sed 's/ $//')"
check_eq "/dev symlinks" "fd>/proc/self/fd stdin>/proc/self/fd/0 stdout>/proc/self/fd/1 stderr>/proc/self/fd/2 ptmx>pts/ptmx" \
        "$(kv links <<<"$in" | sed 's/ $//')"
check_eq "/dev/shm is a tmpfs" tmpfs "$(kv shmfs <<<"$in")"
check "/dev/shm is private (the file written inside is not on the host)" \
        test "$(kv shm_write <<<"$in")" = 0 -a ! -e "/dev/shm/$probe"
check_eq "/tmp is a tmpfs" tmpfs "$(kv tmpfs <<<"$in")"
check "/tmp is private (the file written inside is not on the host)" \
        test "$(kv tmp_write <<<"$in")" = 0 -a ! -e "/tmp/$probe"
check_eq "the host's /tmp files are not visible inside" hidden "$(kv hostmarker <<<"$in")"

# a cgroup namespace rooted at the transient cgroup: its path reads "/",
# and /sys/fs/cgroup shows that cgroup (its 256M limit)
cgl=$(kv cgroup <<<"$in")
if cg_is_v2; then
        check_eq "/proc/self/cgroup: / (the cgroup namespace's root)" "0::/" "${cgl% }"
else
        for c in $(cg_v1_controllers); do
                p=$(tr ' ' '\n' <<<"$cgl" | awk -F: -v c="$c" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }')
                check_eq "/proc/self/cgroup: $c is / (the cgroup namespace's root)" "/" "$p"
        done
fi
check_eq "/sys/fs/cgroup shows the transient cgroup (its memory limit)" 268435456 "$(kv cglimit <<<"$in")"
check_eq "the transient cgroups are gone after the run" "" "$(run_cgroups "$CR_PID")"
check_mounts_same "host mount table unchanged by the run" "$before"

# --- limits land in the cgroup files; the cgroup exists during the run ---------
cr_bg run --mountpoint "$MNT" --memory 256M --memory-swap 512M --pids 64 --cpus 1.5 --cpuset 0 -- \
        bash -c 'touch "$0/started"; for i in $(seq 600); do [ -e "$0/go" ] && exit 0; sleep 0.05; done; exit 9' "$T"
if wait_file "$T/started"; then
        p=$CR_PID
        check "the transient cgroup exists during the run" test -n "$(run_cgroups "$p")"
        if cg_is_v2; then
                check_eq "memory.max" 268435456 "$(cat "$(cg_file "$p" memory memory.max)")"
                check_eq "memory.swap.max is memory-swap minus memory" 268435456 "$(cat "$(cg_file "$p" memory memory.swap.max)")"
                check_eq "pids.max" 64 "$(cat "$(cg_file "$p" pids pids.max)")"
                check_eq "cpu.max is 1.5 CPUs" "150000 100000" "$(cat "$(cg_file "$p" cpu cpu.max)")"
                check_eq "cpuset.cpus" 0 "$(cat "$(cg_file "$p" cpuset cpuset.cpus)")"
        else
                check_eq "memory.limit_in_bytes" 268435456 "$(cat "$(cg_file "$p" memory memory.limit_in_bytes)")"
                if [ -f /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ]; then
                        check_eq "memory.memsw.limit_in_bytes is --memory-swap" 536870912 \
                                "$(cat "$(cg_file "$p" memory memory.memsw.limit_in_bytes)")"
                fi
                check_eq "pids.max" 64 "$(cat "$(cg_file "$p" pids pids.max)")"
                q=$(cat "$(cg_file "$p" cpu cpu.cfs_quota_us)"); per=$(cat "$(cg_file "$p" cpu cpu.cfs_period_us)")
                check_eq "cpu quota/period is 1.5 CPUs ($q/$per)" 1500 "$(( q * 1000 / per ))"
                check_eq "cpuset.cpus" 0 "$(cat "$(cg_file "$p" cpuset cpuset.cpus)")"
        fi
else
        not_ok "the limited command did not start (curate stderr: $(cat "$CR_ERRF"))"
fi
touch "$T/go"
cr_wait
check_eq "limited run exits 0 (stderr: $ERR)" 0 "$RC"
check_eq "its cgroups are gone afterwards" "" "$(run_cgroups "$CR_PID")"
rm -f "$T/started" "$T/go"

cr run --mountpoint "$MNT" --memory 256M --memory-swap 128M -- true
check_eq "--memory-swap below --memory is refused with 125 ($ERR)" 125 "$RC"
check "  with a message naming --memory-swap" grep -q -- 'memory-swap' <<<"$ERR"
cr run --mountpoint "$MNT" --memory 256M --memory-swap max -- cat /proc/self/cgroup
check_eq "--memory-swap max is accepted ($ERR)" 0 "$RC"

# --- --views none, --views meminfo, --host-dev ------------------------------------
cr run --mountpoint "$MNT" -m 256M --cpuset 0 --views none -- sh -c \
        'grep MemTotal /proc/meminfo; echo "fuse=$(awk "\$5 ~ /^\/(proc|sys)\// && / - fuse\.curatefs /" /proc/self/mountinfo | wc -l)"; echo "dev=$(ls -A /dev | sort | tr "\n" " ")"'
check_eq "--views none runs ($ERR)" 0 "$RC"
check_eq "--views none: /proc/meminfo is the host's" "$host_total_kb" "$(kb_of MemTotal <<<"$OUT")"
check_eq "--views none: no curatefs mount on /proc or /sys inside" 0 "$(kv fuse <<<"$OUT")"
d=$(kv dev <<<"$OUT")
check_eq "--views none keeps the curated /dev" "$DEV_CURATED" "${d% }"

cr run --mountpoint "$MNT" -m 256M -c 1 --cpuset 0 --views meminfo -- sh -c \
        'grep MemTotal /proc/meminfo; echo "cpuinfo=$(grep -c ^processor /proc/cpuinfo)"; echo "online=$(cat /sys/devices/system/cpu/online)"'
check_eq "--views meminfo runs ($ERR)" 0 "$RC"
check_eq "--views meminfo: meminfo is curated" 262144 "$(kb_of MemTotal <<<"$OUT")"
check_eq "--views meminfo: cpuinfo is the host's" "$(grep -c ^processor /proc/cpuinfo)" "$(kv cpuinfo <<<"$OUT")"
check_eq "--views meminfo: cpu/online is the host's" "$(cat /sys/devices/system/cpu/online)" "$(kv online <<<"$OUT")"

# bash, not sh: busybox's ash (the qemu guest's sh) runs its own free applet,
# which takes its totals from sysinfo(2)
cr run --mountpoint "$MNT" -m 262144K --host-dev -- bash -c \
        'free -b | awk "/^Mem:/ { print \"free=\" \$2 }"; echo "dev=$(ls -A /dev | tr "\n" " ")"'
check_eq "--host-dev runs ($ERR)" 0 "$RC"
check_eq "--host-dev: views still apply (and 262144K = 256 MiB)" 268435456 "$(kv free <<<"$OUT")"
check "--host-dev: the host's /dev/fuse is there" grep -qw fuse <<<"$(kv dev <<<"$OUT")"
case $host_root_dev in
/dev/*) check "--host-dev: the host's disk ${host_root_dev#/dev/} is there" grep -qw "${host_root_dev#/dev/}" <<<"$(kv dev <<<"$OUT")" ;;
esac

check_mounts_same "host mount table unchanged after all runs" "$before"
check_eq "no transient cgroup of ours is left" "" "$(for p in "${OUR_CURATE_PIDS[@]}"; do run_cgroups "$p"; done)"
finish
