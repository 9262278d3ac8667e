#!/bin/bash
# Direct reads of every curatefs view by processes in real limited cgroups.
. "$(dirname "$0")/lib.sh"
require_root
READ=${READ:-$BUILD_ROOT/tests/reread}

mount_curatefs || { not_ok "mount curatefs"; finish; }
ok "curatefs mounted"

ncpu_host=$(getconf _NPROCESSORS_ONLN)
host_total_kb=$(kb_of MemTotal < /proc/meminfo)

cg_create "$CG_PREFIX-a" memory=268435456 quota=50000 cpus=0
cg_create "$CG_PREFIX-b" memory=536870912
cg_create "$CG_PREFIX-outer" memory=402653184
cg_create "$CG_PREFIX-outer/inner" memory=1073741824
# a container has a long-lived process: its start is the container's start
cg_spawn "$CG_PREFIX-a" sleep 600; sleeper=$SPAWNED

# --- meminfo -----------------------------------------------------------------
mi=$(cg_exec "$CG_PREFIX-a" cat "$MNT/proc/meminfo")
check_eq "meminfo MemTotal is the 256 MiB limit" 262144 "$(kb_of MemTotal <<<"$mi")"
free_kb=$(kb_of MemFree <<<"$mi"); avail_kb=$(kb_of MemAvailable <<<"$mi")
check "MemFree <= MemTotal" test "$free_kb" -le 262144
check "MemAvailable between MemFree and MemTotal" test "$avail_kb" -ge "$free_kb" -a "$avail_kb" -le 262144
check_eq "meminfo keeps every host line, in order" "$(cut -d: -f1 /proc/meminfo)" "$(cut -d: -f1 <<<"$mi")"
over=$(awk '$3 == "kB" && $2 > 262144 && $1 !~ /^(Swap|CommitLimit)/ { print $1 }' <<<"$mi")
check_eq "no kB figure above the container's MemTotal (swap aside)" "" "$over"
check_eq "nested limits: the lowest on the path wins" 393216 \
        "$(cg_exec "$CG_PREFIX-outer/inner" cat "$MNT/proc/meminfo" | kb_of MemTotal)"
check_eq "root cgroup reader gets the host file unchanged" "$host_total_kb" \
        "$(cg_exec_root cat "$MNT/proc/meminfo" | kb_of MemTotal)"

# memory use of the cgroup shows up in MemFree
used_before=$(cg_exec "$CG_PREFIX-b" cat "$MNT/proc/meminfo" | kb_of MemFree)
used_after=$(cg_exec "$CG_PREFIX-b" sh -c 'dd if=/dev/zero of=/dev/shm/curate-fill-$$ bs=1M count=64 2>/dev/null; sleep 0.2; cat '"$MNT"'/proc/meminfo; rm -f /dev/shm/curate-fill-$$' | kb_of MemFree)
check "64 MiB of shmem written by the cgroup lowers its MemFree (before $used_before, after $used_after)" \
        test $((used_before - used_after)) -ge 60000

# --- cpus --------------------------------------------------------------------
check_eq "cpuinfo shows one CPU under cpuset 0 and a half-CPU quota" 1 \
        "$(cg_exec "$CG_PREFIX-a" grep -c ^processor "$MNT/proc/cpuinfo")"
check_eq "cpu/online is 0" 0 "$(cg_exec "$CG_PREFIX-a" cat "$MNT/sys/devices/system/cpu/online")"
check_eq "root reader: cpu/online is the host's" "$(cat /sys/devices/system/cpu/online)" \
        "$(cg_exec_root cat "$MNT/sys/devices/system/cpu/online")"
if [ "$ncpu_host" -ge 2 ]; then
        cg_create "$CG_PREFIX-q" quota=100000
        check_eq "quota of exactly one CPU cuts cpuinfo to 1 of $ncpu_host" 1 \
                "$(cg_exec "$CG_PREFIX-q" grep -c ^processor "$MNT/proc/cpuinfo")"
        check_eq "siblings rewritten to the visible count" "1" \
                "$(cg_exec "$CG_PREFIX-q" awk -F': ' '/^siblings/ { print $2; exit }' "$MNT/proc/cpuinfo")"
fi

# --- stat --------------------------------------------------------------------
st=$(cg_exec "$CG_PREFIX-a" sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; cat '"$MNT"'/proc/stat')
check_eq "stat has exactly one cpuN line" "cpu0" "$(grep -o '^cpu[0-9]*' <<<"$st" | tr '\n' ' ' | sed 's/ $//' | sed 's/^cpu //')"
agg=$(awk '/^cpu / { print $2+$4+$5 }' <<<"$st"); per=$(awk '/^cpu[0-9]/ { s += $2+$4+$5 } END { print s }' <<<"$st")
check_eq "aggregate cpu line is the sum of cpuN lines" "$agg" "$per"
check "stat keeps btime" grep -q '^btime ' <<<"$st"
check_eq "stat hides the host's interrupt total" "intr 0" "$(grep ^intr <<<"$st")"
s1=$(cg_exec "$CG_PREFIX-a" cat "$MNT/proc/stat" | awk '/^cpu0/ { print $2+$4+$5, $2, $4, $5 }')
sleep 1.2
s2=$(cg_exec "$CG_PREFIX-a" cat "$MNT/proc/stat" | awk '/^cpu0/ { print $2+$4+$5, $2, $4, $5 }')
read -r t1 u1 y1 i1 <<<"$s1"; read -r t2 u2 y2 i2 <<<"$s2"
check "stat counters never go backwards" test "$u2" -ge "$u1" -a "$y2" -ge "$y1" -a "$i2" -ge "$i1"
check "busy+idle advances with wall time (1.2 s: $((t2 - t1)) ticks)" test $((t2 - t1)) -ge 100 -a $((t2 - t1)) -le 200

# --- uptime ------------------------------------------------------------------
# the container's start is its oldest process (the sleeper, started seconds
# ago), not the reader: expected = host uptime - the sleeper's start time
up=$(cg_exec "$CG_PREFIX-a" cat "$MNT/proc/uptime")
host_up=$(cut -d' ' -f1 /proc/uptime)
start_ticks=$(sed 's/.*) //' /proc/$sleeper/stat | cut -d' ' -f20)
expected=$(awk -v h="$host_up" -v s="$start_ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", h - s / hz }')
cu=${up%% *}; ci=${up##* }
check "container uptime is the age of its oldest process ($cu, expected $expected)" \
        awk -v u="$cu" -v e="$expected" 'BEGIN { exit !(e >= 1.0 && u >= e - 0.3 && u <= e + 0.3) }'
check "host uptime is far larger ($host_up)" awk -v u="$cu" -v h="$host_up" 'BEGIN { exit !(h > u) }'
check "idle <= uptime x visible CPUs" awk -v u="$cu" -v i="$ci" 'BEGIN { exit !(i <= u * 1 + 0.01) }'
if unshare --help 2>&1 | grep -q -- --mount-proc; then
        pu=$(cg_exec_root unshare -p -f --mount-proc sh -c 'sleep 1; cat '"$MNT"'/proc/uptime')
        check "a new pid namespace counts from its init (${pu%% *})" awk -v u="${pu%% *}" 'BEGIN { exit !(u >= 0.9 && u < 10) }'
fi

# --- loadavg -----------------------------------------------------------------
# the reader is the only task of b: the total is 1 and the last pid is its own
la=$(cg_exec "$CG_PREFIX-b" sh -c 'echo $$; exec cat "$0"' "$MNT/proc/loadavg")
reader=$(head -1 <<<"$la"); la=$(tail -1 <<<"$la")
check "loadavg has the kernel's format ($la)" grep -Eq '^[0-9]+\.[0-9]{2} [0-9]+\.[0-9]{2} [0-9]+\.[0-9]{2} [0-9]+/[0-9]+ [0-9]+$' <<<"$la"
check_eq "loadavg task total is the cgroup's, not the host's" 1 "$(awk '{ split($4, a, "/"); print a[2] }' <<<"$la")"
check_eq "loadavg last pid is the cgroup's newest task, not the host's" "$reader" "$(awk '{ print $5 }' <<<"$la")"
cg_create "$CG_PREFIX-busy"
cg_spawn "$CG_PREFIX-busy" sh -c 'while :; do :; done'; busy1=$SPAWNED
cg_spawn "$CG_PREFIX-busy" sh -c 'while :; do :; done'; busy2=$SPAWNED
sleep 0.3
cg_exec "$CG_PREFIX-busy" cat "$MNT/proc/loadavg" >/dev/null   # first look starts sampling
sleep 11
la=$(cg_exec "$CG_PREFIX-busy" cat "$MNT/proc/loadavg")
check "two busy tasks raise the cgroup's 1-min load ($la)" awk -v l="${la%% *}" 'BEGIN { exit !(l >= 0.25) }'
la_idle=$(cg_exec "$CG_PREFIX-b" cat "$MNT/proc/loadavg")
check "an idle cgroup's load stays low meanwhile ($la_idle)" awk -v l="${la_idle%% *}" 'BEGIN { exit !(l < 0.25) }'
kill "$busy1" "$busy2" 2>/dev/null

# --- swaps, diskstats ----------------------------------------------------------
sw=$(cg_exec "$CG_PREFIX-a" cat "$MNT/proc/swaps")
check_eq "swaps starts with the kernel's header" "Filename" "$(head -c 8 <<<"$sw")"
host_swap=$(kb_of SwapTotal < /proc/meminfo)
if [ "$host_swap" = 0 ]; then
        check_eq "no host swap: the container has none either" 1 "$(wc -l <<<"$sw")"
fi
ds_before=$(cg_exec "$CG_PREFIX-b" cat "$MNT/proc/diskstats" | wc -l)
ds_host=$(wc -l < /proc/diskstats)
if [ "$ds_host" -gt 0 ]; then
        check "diskstats leaves out devices the cgroup did not touch ($ds_before of $ds_host)" test "$ds_before" -lt "$ds_host"
else
        echo "# no block devices on this machine: the diskstats filter check does not apply"
fi
if [ -z "${CURATE_TEST_NO_BLOCK:-}" ]; then
        tmpf=$(mktemp /var/tmp/curate-io.XXXXXX); OUR_DIRS+=("$tmpf")
        # Since Linux 6.10 blk-throttle keeps no statistics for a disk until
        # some throttle rule exists on it (v1 blkio.throttle.* read 0): give
        # our own cgroup a rule of 1 TiB/s on the disk under /var/tmp.
        dev=$(stat -c '%Hd:%Ld' "$tmpf")
        [ -e /sys/dev/block/$dev/partition ] && dev=$(cat /sys/dev/block/$dev/../dev)
        if [ -d /sys/fs/cgroup/blkio/$CG_PREFIX-b ]; then
                echo "$dev 1099511627776" > /sys/fs/cgroup/blkio/$CG_PREFIX-b/blkio.throttle.write_bps_device
        fi
        ds=$(cg_exec "$CG_PREFIX-b" sh -c 'dd if=/dev/zero of='"$tmpf"' bs=1M count=8 oflag=direct 2>/dev/null; sync; sleep 0.2; cat '"$MNT"'/proc/diskstats')
        sectors=$(awk '{ s += $10 } END { print s + 0 }' <<<"$ds")
        check "direct writes by the cgroup appear as its sectors written ($sectors)" test "$sectors" -ge 16384
fi

# --- open-file semantics -------------------------------------------------------
# 7-byte reads 4 ms apart take ~0.9 s, far past the 100 ms render cache;
# 64 MiB of shmem is written meanwhile. One snapshot
# keeps MemTotal - MemFree >= Shmem (shmem is charged to the cgroup); reads
# rendered afresh would pair the early MemFree with the later Shmem.
chunks=$(cg_exec "$CG_PREFIX-b" sh -c '"$0" chunk "$1" 7 4000 & sleep 0.03; dd if=/dev/zero of=/dev/shm/curate-chunk-$$ bs=1M count=64 2>/dev/null; wait; rm -f /dev/shm/curate-chunk-$$' "$READ" "$MNT/proc/meminfo")
check_eq "chunked read is a complete meminfo" "$(wc -l < /proc/meminfo)" "$(wc -l <<<"$chunks")"
used=$(( $(kb_of MemTotal <<<"$chunks") - $(kb_of MemFree <<<"$chunks") )); shm=$(kb_of Shmem <<<"$chunks")
check "reads in 7-byte chunks give one consistent snapshot (used $used kB >= shmem $shm kB)" test "$used" -ge "$shm"
seeks=$(cg_exec "$CG_PREFIX-b" sh -c '"$0" seek "$1" 2 & sleep 0.05; dd if=/dev/zero of=/dev/shm/curate-seek-$$ bs=1M count=32 2>/dev/null; wait; rm -f /dev/shm/curate-seek-$$' "$READ" "$MNT/proc/meminfo")
f1=$(awk '/^--/ { n++ } /^MemFree/ && n == 0 { print $2 }' <<<"$seeks"); f2=$(awk '/^--/ { n++ } /^MemFree/ && n == 1 { print $2 }' <<<"$seeks")
check "lseek(0)+read renders fresh figures ($f1 -> $f2)" test $((f1 - f2)) -ge 30000

# --- two cgroups at once -------------------------------------------------------
cg_spawn "$CG_PREFIX-a" sh -c 'for i in $(seq 300); do grep MemTotal '"$MNT"'/proc/meminfo; done' > "$MNT.a"; pa=$SPAWNED
cg_spawn "$CG_PREFIX-b" sh -c 'for i in $(seq 300); do grep MemTotal '"$MNT"'/proc/meminfo; done' > "$MNT.b"; pb=$SPAWNED
OUR_DIRS+=("$MNT.a" "$MNT.b")
wait $pa $pb
check_eq "concurrent reader in a sees only its 256 MiB" "262144" "$(awk '{ print $2 }' "$MNT.a" | sort -u | tr '\n' ' ' | sed 's/ $//')"
check_eq "concurrent reader in b sees only its 512 MiB" "524288" "$(awk '{ print $2 }' "$MNT.b" | sort -u | tr '\n' ' ' | sed 's/ $//')"

finish
