#!/bin/bash
# The main job: mount curatefs, put a process in a 256 MiB / 1-CPU cgroup and
# show what free, uptime and nproc-style tools see there, next to the host.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
CURATEFS=$PWD/build/fs/curatefs
MNT=${CURATEFS_MOUNTPOINT:-/var/lib/curatefs}
CG=curate-demo-$$

started=
if ! grep -q " $MNT fuse.curatefs " /proc/mounts; then
        "$CURATEFS" "$MNT"
        started=1
fi
cleanup() {
        for d in /sys/fs/cgroup/*/$CG /sys/fs/cgroup/$CG; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
        if [ -n "$started" ]; then umount "$MNT" 2>/dev/null || true; fi
}
trap cleanup EXIT

dirs=()
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
        echo "+memory +cpu +cpuset" > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
        mkdir /sys/fs/cgroup/$CG; dirs=(/sys/fs/cgroup/$CG)
        echo 268435456 > /sys/fs/cgroup/$CG/memory.max
        echo "100000 100000" > /sys/fs/cgroup/$CG/cpu.max
else
        for c in memory cpu cpuacct cpuset blkio pids; do
                [ -d /sys/fs/cgroup/$c ] || continue
                mkdir /sys/fs/cgroup/$c/$CG; dirs+=(/sys/fs/cgroup/$c/$CG)
        done
        echo 268435456 > /sys/fs/cgroup/memory/$CG/memory.limit_in_bytes
        echo 100000 > /sys/fs/cgroup/cpu/$CG/cpu.cfs_quota_us
        cat /sys/fs/cgroup/cpuset/cpuset.mems > /sys/fs/cgroup/cpuset/$CG/cpuset.mems
        cat /sys/fs/cgroup/cpuset/cpuset.cpus > /sys/fs/cgroup/cpuset/$CG/cpuset.cpus
fi

show() {
        echo "\$ free -m";                    free -m
        echo "\$ uptime";                     uptime
        echo "\$ getconf _NPROCESSORS_ONLN";  getconf _NPROCESSORS_ONLN
        echo "\$ grep -c ^processor /proc/cpuinfo"; grep -c ^processor /proc/cpuinfo
        echo "\$ head -1 /proc/stat";         head -1 /proc/stat
}
export -f show

echo "=== The host sees ==="
show
echo
echo "=== A process in cgroup $CG (memory 256 MiB, 1 CPU quota) with curatefs views bind-mounted ==="
CG_DIRS="${dirs[*]}" MNT="$MNT" unshare -m --propagation private bash -c '
        for d in $CG_DIRS; do echo $$ > $d/cgroup.procs; done
        for f in meminfo cpuinfo stat uptime loadavg swaps diskstats; do mount --bind "$MNT/proc/$f" /proc/$f; done
        mount --bind "$MNT/sys/devices/system/cpu/online" /sys/devices/system/cpu/online
        show'
