#!/bin/bash
# Read-only behaviour, the tree, errors, restart and clean unmount.
. "$(dirname "$0")/lib.sh"
require_root
READ=${READ:-$BUILD_ROOT/tests/reread}

mount_curatefs || { not_ok "mount curatefs"; finish; }
pressure=; [ -e /proc/pressure/cpu ] && pressure=" pressure"
check_eq "tree has LXCFS's proc files, vmstat and pressure where the host has it" \
        "cpuinfo diskstats loadavg meminfo$pressure stat swaps uptime vmstat" "$(ls "$MNT/proc" | tr '\n' ' ' | sed 's/ $//')"
check_eq "tree has sys/devices/system/cpu's lists" "offline online possible present" \
        "$(ls "$MNT/sys/devices/system/cpu" | grep -xE 'online|offline|possible|present' | tr '\n' ' ' | sed 's/ $//')"
c0=$MNT/sys/devices/system/cpu/cpu0
check_eq "the cpu tree passes the host's files to a root reader" "$(cat /sys/devices/system/cpu/kernel_max /sys/devices/system/cpu/cpu0/topology/core_cpus_list)" \
        "$(cat "$MNT/sys/devices/system/cpu/kernel_max" "$c0/topology/core_cpus_list")"
check "the cpu tree walks whole" bash -c "ls -R '$MNT/sys/devices/system/cpu' >/dev/null"
check_eq "opening a cpu tree file for writing fails" EROFS "$("$READ" write "$c0/topology/core_id")"
check "vmstat reads" grep -q '^nr_free_pages ' "$MNT/proc/vmstat"
check "mounted with allow_other" grep -q "$MNT fuse.curatefs ro,.*allow_other" /proc/mounts
check_eq "opening for writing fails" EROFS "$("$READ" write "$MNT/proc/meminfo")"
check "creating a file fails" bash -c "! touch '$MNT/proc/new' 2>/dev/null"
check "chmod fails" bash -c "! chmod 666 '$MNT/proc/meminfo' 2>/dev/null"
check "mkdir fails" bash -c "! mkdir '$MNT/proc/x' 2>/dev/null"
check "removing fails" bash -c "! rm -f '$MNT/proc/meminfo' 2>/dev/null"
check "unknown names do not exist" bash -c "! test -e '$MNT/proc/kcore'"
check_eq "files are 0444 root" "444 0" "$(stat -c '%a %u' "$MNT/proc/meminfo")"

# a non-root user can read (allow_other)
if id nobody >/dev/null 2>&1; then
        check "user nobody can read meminfo" su -s /bin/sh nobody -c "grep -q MemTotal '$MNT/proc/meminfo'"
fi

# a cgroup that disappears while a reader holds the file open: no crash, no leak
cg_create "$CG_PREFIX-gone" memory=134217728
out=$(cg_exec "$CG_PREFIX-gone" cat "$MNT/proc/meminfo" | kb_of MemTotal)
check_eq "limited reader sees 128 MiB" 131072 "$out"
check "daemon still alive after many opens" kill -0 "$CURATEFS_PID"

# threads of one reader sharing one fd: their READs reach different workers
shared=$(cg_exec "$CG_PREFIX-gone" "$READ" shared "$MNT/proc/meminfo" 2000)
check_eq "4 threads x 2000 pread(0) on one shared fd: every read complete" "8000 0" "$shared"
check "daemon alive after the shared-fd storm" kill -0 "$CURATEFS_PID"

# help, version, bad options
check "--help names the files" bash -c "'$CURATEFS' --help | grep -q 'proc/{meminfo'"
check "--version prints the version" bash -c "'$CURATEFS' --version | grep -q '^curatefs [0-9]'"
err=$("$CURATEFS" --threads 0 /tmp/x 2>&1); rc=$?
check "bad --threads is refused with exit 2 and a clear error ($err)" test $rc = 2 -a -n "$(grep -- '--threads' <<<"$err")"

# a second daemon on the same mount point is refused, and changes nothing
mounts_before=$(grep -c " $MNT " /proc/self/mountinfo)
err=$("$CURATEFS" -f "$MNT" 2>&1); rc=$?
check "a second curatefs on $MNT is refused with exit 1 ($err)" test $rc = 1 -a -n "$(grep 'already mounted' <<<"$err")"
check_eq "and nothing was stacked on the mount point" "$mounts_before" "$(grep -c " $MNT " /proc/self/mountinfo)"
check "the first daemon still serves" grep -q MemTotal "$MNT/proc/meminfo"

# SIGTERM unmounts cleanly
kill -TERM "$CURATEFS_PID"; wait "$CURATEFS_PID"; rc=$?
check_eq "SIGTERM: daemon exits 0" 0 "$rc"
check "SIGTERM: mount point is unmounted" bash -c "! mountpoint -q '$MNT'"

# background mode: the command returns once the mount is ready
MNT2=$(mktemp -d /tmp/curatefs-test.XXXXXX); OUR_DIRS+=("$MNT2"); OUR_MOUNTS+=("$MNT2")
"$CURATEFS" "$MNT2"; rc=$?
check_eq "detaching start exits 0" 0 "$rc"
check "files are readable as soon as it returns" grep -q MemTotal "$MNT2/proc/meminfo"
pid2=$(pgrep -f "curatefs $MNT2\$" | head -1); [ -n "$pid2" ] && OUR_PIDS+=("$pid2")
umount "$MNT2"
for i in $(seq 100); do kill -0 "$pid2" 2>/dev/null || break; sleep 0.1; done
check "umount of its mount point ends the daemon" bash -c "! kill -0 '$pid2' 2>/dev/null"
finish
