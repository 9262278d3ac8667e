#!/bin/bash
# Real clients (free, uptime, top, getconf) inside a new mount namespace whose
# /proc and /sys files are curatefs views, as a container would have them.
. "$(dirname "$0")/lib.sh"
require_root
for t in free uptime top getconf unshare; do command -v $t >/dev/null || skip "$t missing (procps/util-linux)"; done

mount_curatefs || { not_ok "mount curatefs"; finish; }
mounts_before=$(awk '{ print $5, $9 }' /proc/self/mountinfo | sort)
host_mi_before=$(kb_of MemTotal < /proc/meminfo)
ncpu=$(getconf _NPROCESSORS_ONLN)

cpus=0; [ "$ncpu" -ge 2 ] && cpus=0-1
cg_create "$CG_PREFIX-c" memory=268435456 quota=100000 cpus=$cpus

# in the container: bind every view over the real path, then run the clients
inside() {
        cg_exec "$CG_PREFIX-c" unshare -m --propagation private "$BASH" -c '
                for f in meminfo cpuinfo stat uptime loadavg swaps diskstats; do
                        mount --bind "$0/proc/$f" /proc/$f || exit 1
                done
                mount --bind "$0/sys/devices/system/cpu/online" /sys/devices/system/cpu/online || exit 1
                eval "$1"' "$MNT" "$1"
}

total=$(inside 'free -b' | awk '/^Mem:/ { print $2 }')
check_eq "free -b shows 268435456 total" 268435456 "$total"
swap=$(inside 'free -b' | awk '/^Swap:/ { print $2 }')
check "free shows no more swap than the host ($swap)" test "$swap" -le $(( $(kb_of SwapTotal < /proc/meminfo) * 1024 ))
topmem=$(inside 'top -bn1' | grep -E '^(MiB|KiB) Mem')
check "top -bn1 shows 256 MiB ($topmem)" grep -Eq '256\.0 total|262144 total' <<<"$topmem"
check_eq "getconf _NPROCESSORS_ONLN (glibc reads cpu/online) is 1 under a 1-CPU quota" 1 "$(inside 'getconf _NPROCESSORS_ONLN')"
check_eq "cpuinfo seen by the container has 1 processor" 1 "$(inside 'grep -c ^processor /proc/cpuinfo')"
up=$(inside 'sleep 1; uptime')
check "uptime reports the container's minutes, not the host's ($up)" grep -Eq 'up +0 min|up +[0-9]+ min' <<<"$up"
check "uptime shows a load average line" grep -q 'load average:' <<<"$up"
topcpu=$(inside 'top -bn1 | head -5')
check "top -bn1 parses the container's stat and loadavg" grep -q 'load average' <<<"$topcpu"
if command -v node >/dev/null; then
        nt=$(inside 'node -e "console.log(require(\"os\").totalmem())"')
        check_eq "node os.totalmem() is 268435456" 268435456 "$nt"
fi

# the container cannot undo the view as long as it lacks CAP_SYS_ADMIN: that
# is the launcher's job (issue 3); here we check the host is untouched
check_eq "host /proc/meminfo untouched" "$host_mi_before" "$(kb_of MemTotal < /proc/meminfo)"
check_eq "host mount table identical after the namespaces exit" "$mounts_before" "$(awk '{ print $5, $9 }' /proc/self/mountinfo | sort)"
check_eq "host getconf still sees every CPU" "$ncpu" "$(getconf _NPROCESSORS_ONLN)"

finish
