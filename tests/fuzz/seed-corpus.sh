#!/bin/bash
# Write seed inputs for every harness into OUT/NAME/ from tests/fixtures,
# the shipped policies and this host's own /proc, /sys and cgroup files (the
# committed corpus/NAME/ is these, minimized: run-campaign.sh --merge).
# Multi-file inputs are the files joined by NUL bytes, after a selector byte
# where the harness has one (see each fuzz-NAME.c).
# Usage: seed-corpus.sh OUT
set -uo pipefail
out=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
fx=$src/tests/fixtures
n=0

# seed NAME SELECTOR FILE... : one input; a missing FILE is an empty part
# and "-" ends the parts early (the rest absent); SELECTOR "" for none
seed() {
        local name=$1 sel=$2 first=1 f
        shift 2
        mkdir -p "$out/$name"
        local file="$out/$name/seed-$((n++))"
        {
                [ -n "$sel" ] && printf "\\x$(printf %02x "$sel")"
                for f in "$@"; do
                        [ "$f" = - ] && break
                        [ $first = 1 ] || printf '\0'
                        first=0
                        [ -f "$f" ] && tr -d '\0' <"$f" 2>/dev/null | head -c 65536
                done
        } >"$file"
}
text() { # text NAME SELECTOR STRING...: parts given as strings
        local name=$1 sel=$2 tmp
        shift 2
        tmp=$(mktemp -d)
        local parts=() i=0 s
        for s in "$@"; do
                printf '%b' "$s" >"$tmp/$i"
                parts+=("$tmp/$i")
                i=$((i + 1))
        done
        seed "$name" "$sel" "${parts[@]}"
        rm -rf "$tmp"
}

# policy, CDI
for f in "$src"/policies/*.conf; do seed policy "" "$f"; done
text policy "" '[limits]\nmemory = 512M\ncpus = 1.5\n[devices]\nallow = nvidia0\n'
for f in $(find "$fx/cdi" -name '*.json'); do seed cdi-json "" "$f"; done
for f in $(find "$fx/cdi" -name '*.yaml' -o -name '*.yml'); do seed cdi-yaml "" "$f"; done
# the registry: a JSON and a YAML spec of etc/cdi and a JSON of var/run/cdi
for d in "$fx"/cdi/*/; do
        j=$(find "$d" -name '*.json' | sort | head -1)
        y=$(find "$d" -name '*.yaml' -o -name '*.yml' | sort | head -1)
        v=$(find "$d" -name '*.json' | sort | tail -1)
        seed cdi-registry "" "$j" "$y" "$v"
done
seed cdi-registry "" "$fx/cdi/basic/etc/cdi/nvidia.json" "$fx/cdi/basic/var/run/cdi/example.yaml" "$fx/cdi/nodes/etc/cdi/nodes.json"

# registrations
text registration "" 'nvidia0 c 195 0 0666 rwm\nnvidiactl c 195 255 0666\n# comment\n\ndri/renderD128 c 226 128 0660 rw\n'
text registration "" 'sda b 8 0 0600 r\n'

# cgroup v1 and v2: each cgroup directory of the fixtures and of this host
v1_memory=(memory.stat memory.usage_in_bytes memory.memsw.usage_in_bytes)
v1_quota=(cpu.cfs_quota_us cpu.cfs_period_us)
v1_usage=(cpuacct.usage_percpu_user cpuacct.usage_percpu_sys cpuacct.usage_user cpuacct.usage_sys cpuacct.usage_all)
v1_io=(blkio.throttle.io_service_bytes_recursive blkio.throttle.io_serviced_recursive)
files_in() { local d=$1; shift; for f in "$@"; do echo "$d/$f"; done; }
for root in "$fx/v1/sys/fs/cgroup" "$fx/hybrid/sys/fs/cgroup" /sys/fs/cgroup; do
        for d in $(find "$root" -maxdepth 3 -type d 2>/dev/null | head -40); do
                [ -f "$d/memory.stat" ] && [ -f "$d/memory.usage_in_bytes" ] && seed cgroup-v1 0 $(files_in "$d" "${v1_memory[@]}")
                [ -f "$d/cpu.cfs_quota_us" ] && seed cgroup-v1 1 $(files_in "$d" "${v1_quota[@]}")
                [ -f "$d/cpuset.effective_cpus" ] && seed cgroup-v1 2 "$d/cpuset.effective_cpus"
                [ -f "$d/cpuacct.usage_all" ] && seed cgroup-v1 3 $(files_in "$d" "${v1_usage[@]}")
                [ -f "$d/blkio.throttle.io_serviced_recursive" ] && seed cgroup-v1 4 $(files_in "$d" "${v1_io[@]}")
                [ -f "$d/tasks" ] && seed cgroup-v1 5 "$d/tasks"
        done
done
text cgroup-v1 3 - - - - 'cpu user system\n0 100 200\n1 300 400\n'
for root in "$fx/v2/sys/fs/cgroup" "$fx/hybrid/sys/fs/cgroup/unified"; do
        for d in $(find "$root" -maxdepth 3 -type d 2>/dev/null | head -40); do
                [ -f "$d/memory.stat" ] && seed cgroup-v2 0 $(files_in "$d" memory.current memory.max memory.stat memory.swap.current memory.swap.max)
                [ -f "$d/cpu.max" ] && seed cgroup-v2 1 "$d/cpu.max"
                [ -f "$d/cpuset.cpus.effective" ] && seed cgroup-v2 2 "$d/cpuset.cpus.effective"
                [ -f "$d/cpu.stat" ] && seed cgroup-v2 3 "$d/cpu.stat"
                [ -f "$d/io.stat" ] && seed cgroup-v2 4 "$d/io.stat"
                [ -f "$d/cgroup.threads" ] && seed cgroup-v2 5 "$d/cgroup.threads"
        done
done
text cgroup-v2 4 '8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n253:1 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6 cost.vrate=1\n'
text cgroup-v2 1 'max 100000\n' '150000 100000\n'

# CPU lists
for f in $(find "$fx" -name 'cpuset.cpus*' -o -name 'cpuset.effective_cpus' | head -20) \
         /sys/devices/system/cpu/online /sys/devices/system/cpu/possible; do
        seed cpu-list "" "$f"
done
text cpu-list "" '0-3,8,10-11\n'

# mountinfo + cgroup.controllers + /proc/PID/cgroup
for t in v1 v2 hybrid; do
        for c in "$fx/$t"/proc/[0-9]*/cgroup; do
                seed mountinfo "" "$fx/$t/proc/self/mountinfo" "$fx/$t/sys/fs/cgroup/unified/cgroup.controllers" "$c"
        done
done
seed mountinfo "" /proc/self/mountinfo /sys/fs/cgroup/unified/cgroup.controllers /proc/self/cgroup

# views: host texts with figures
for t in v1 v2 hybrid; do
        p=$fx/$t/proc
        text views 0 "$(cat "$p/meminfo" 2>/dev/null)" '1 268435456 104857600 0 0 50000000 40000000 1000 2000 3000 4000'
        text views 1 "$(cat "$p/cpuinfo" 2>/dev/null)" '0-3' '150000 100000'
        text views 2 "$(cat "$p/stat" 2>/dev/null)" '0-1' 'max 100000 1 0 500 3000000000 1000000000 900 5000000000 2000000000' '1000 2000' '3000 4000'
        text views 3 "$(cat "$p/diskstats" 2>/dev/null)" '8 0 4096 8192 1 2 0 0 253 1 1 1 1 1 1 1'
done
text views 0 "$(cat /proc/meminfo)" '1 1073741824 5000000'
text views 1 "$(cat /proc/cpuinfo)" '0-1' 'max 100000'
text views 2 "$(cat /proc/stat)" '0-1' '50000 100000 2 1 100 1000 1000'
text views 3 "$(cat /proc/diskstats)" '8 0 1 2 3 4 5 6'

# /proc/driver/nvidia trees, params, /proc/devices, sysfs dev and vendor files
for d in "$fx"/gpu/*/; do
        nv=$d/proc/driver/nvidia
        infos=($(find "$nv/gpus" -name information 2>/dev/null | sort | head -2))
        seed nvidia-proc 0 "$d/proc/devices" "${infos[0]:-}" "${infos[1]:-}" \
                "$nv/capabilities/gpu0/mig/gi1/access" "$nv/capabilities/gpu0/mig/gi1/ci0/access" "$nv/capabilities/mig/config"
        seed proc-devices 0 "$d/proc/devices"
done
text nvidia-proc 1 'ResourceManager: 1\nModifyDeviceFiles: 1\r\nDeviceFileUID: 0\n'
seed proc-devices 0 /proc/devices
for f in $(find "$fx/amd" -name dev | head -8); do seed proc-devices 1 "$f"; done
for f in $(find "$fx/amd" -name vendor | head -4); do seed proc-devices 2 "$f"; done
# gather: the v1 fixture's pid 300 per view, with and without a pid namespace
p=$fx/v1/proc
status=$(mktemp)
printf 'Name:\tbash\nPPid:\t1\nNSpid:\t300\t1\n' >"$status"
for sel in 0 1 2 3 4 5 6 7 10 11; do
        case $((sel & 7)) in 0|5) host=$p/meminfo ;; 1|7) host=$p/cpuinfo ;; 6) host=$p/diskstats ;; *) host=$p/stat ;; esac
        seed gather "$sel" "$p/300/stat" "$p/300/stat" "$status" "$p/uptime" "$host" "$fx/v1/proc/self/online"
done
rm -f "$status"
echo "seed-corpus: $n inputs in $out"
