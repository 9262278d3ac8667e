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

# cgroup v2 pressure (row 7: cpu, memory, io .pressure) from the fixtures
# and this host's /proc/pressure (the same format)
seed cgroup-v2 7 "$fx/v2/sys/fs/cgroup/box/cpu.pressure" "$fx/v2/sys/fs/cgroup/box/memory.pressure" "$fx/v2/sys/fs/cgroup/box/io.pressure"
seed cgroup-v2 7 /proc/pressure/cpu /proc/pressure/memory /proc/pressure/io
text cgroup-v2 7 'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n'

# /proc/vmstat: host text, memory.stat, figures (see fuzz-vmstat.c)
figs='4096 2097152 104857600 1 409600 819200 268435456 134217728 0 0 50000000 40000000 1000 2000 3000 4000 5000 6000 7000 8000 9000 10000 11000 12000 13000 2097152 0 0 14000 15000'
for t in v1 v2 hybrid; do
        for st in $(find "$fx/$t/sys/fs/cgroup" -name memory.stat | head -3); do
                text vmstat "" "$(cat "$fx/$t/proc/vmstat" 2>/dev/null)" "$(cat "$st")" "$figs"
        done
done
text vmstat "" "$(cat /proc/vmstat)" "$(cat /sys/fs/cgroup/memory/memory.stat 2>/dev/null)" '4096 2097152 1073741824 0'
text vmstat "" 'nr_free_pages 1\npgfault 2\npgpgin 3\nnr_zone_write_pending 4\n' 'total_pgfault 7\npgfault 5\n' "$figs"

# CPU files: kind (0 plain, 1 list, 2 mask, 3 spaced), host text, CPUs shown, a path
for f in $(find "$fx/cputree" /sys/devices/system/cpu/cpu0/topology /sys/devices/system/cpu/cpu0/cache/index0 \
                /sys/devices/system/cpu/cpufreq/policy0 -maxdepth 4 -type f 2>/dev/null | head -60); do
        b=$(basename "$f")
        case $b in
        *_list|isolated|nohz_full|enabled) k=1 ;;
        core_cpus|thread_siblings|core_siblings|package_cpus|die_cpus|cluster_cpus|shared_cpu_map) k=2 ;;
        affected_cpus|related_cpus) k=3 ;;
        *) k=0 ;;
        esac
        text cpu-file "$k" "$(cat "$f")\n" '0,2-3' "${f#*/sys/devices/system/cpu/}"
done
text cpu-file 2 '00000000,00000000,0000000f\n' '1' 'cpu1/cache/index0/shared_cpu_map'
text cpu-file 3 '0 1 2 3\n' '2-3' 'cpufreq/policy2/related_cpus'

# the CPU tree: CPUs shown, then "d PATH", "f PATH\nTEXT", "l PATH\nTARGET"
# parts (fuzz-cputree.c), from the fixture tree and this host's
cputree_seed() { # DIR SHOWN [MAX]
        local d=$1 shown=$2 max=${3:-16} parts=("$2") rel f
        while read -r f; do
                rel=${f#"$d"/}
                if [ -L "$f" ]; then parts+=("l $rel\n$(readlink "$f")")
                elif [ -d "$f" ]; then parts+=("d $rel")
                else parts+=("f $rel\n$(head -c 200 "$f" 2>/dev/null)"); fi
        done < <(find "$d" -mindepth 1 -maxdepth 4 2>/dev/null | grep -v -e '/power' -e '/uevent' -e '/subsystem' | head -"$max")
        text cputree "" "${parts[@]}"
}
cputree_seed "$fx/cputree/sys/devices/system/cpu" '0,2'
cputree_seed "$fx/cputree/sys/devices/system/cpu/cpu1" '1-3'
cputree_seed /sys/devices/system/cpu/cpu0 '0'
text cputree "" '1' 'd cpu0' 'd cpu1/topology' 'f cpu1/topology/core_cpus_list\n0-1\n' 'f cpufreq/policy0/affected_cpus\n0 1\n' 'l cpu1/node0\n../../node/node0' 'f online\n0-1\n'

# sysinfo: 0 the figures, 1 a registration, 2 the pending file
text sysinfo 0 '1000 500 10 20 300 200 0 0 4096 65536 32768 16384 300 1234 | 1073741824 536870912 600000000 0 0 1000 100 200 300 12345 42'
text sysinfo 0 '1 1 1 1 1 1 1 1 1 1 1 1 1 1'
text sysinfo 1 '1234 5678 7\n'
text sysinfo 1 '1 0 0'
text sysinfo 2 ''

# c/ nodes: a reader's /proc/PID/cgroup, an id
for c in "$fx"/*/proc/[0-9]*/cgroup /proc/self/cgroup; do
        text cnodes "" "$(cat "$c")" 'box'
done
text cnodes "" '12:memory:/curate/run-42/sub\n0::/curate/run-42\n' 'run-42'
text cnodes "" '0::/curate/a:b/c\n1:name=x:/\n' 'a:b'

# OOM counters: u/memory.events, m/memory.events, m/memory.oom_control, m/d/memory.oom_control
text oom "" 'low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\noom_group_kill 0\n'
text oom "" '' '' 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n' 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n'
seed oom "" /sys/fs/cgroup/unified/memory.events /sys/fs/cgroup/memory/memory.events /sys/fs/cgroup/memory/memory.oom_control

# [Process] keys of the policy format, for the policy harness
text policy "" '[Resources]\nMemory = 512M\nCPUs = 1.5\nCPUSet = 0-1\nPids = 100\n[Views]\nViews = meminfo cpuinfo\n[Security]\nSysinfo = yes\n[Process]\nWorkingDirectory = /srv\nEnvironment = A=1 B=two\nUnsetEnvironment = HOME\nClearEnvironment = no\nUser = 1000\nGroup = 1000\n'
text policy "" '[Process]\nEnvironment =\nEnvironment = =x\nUnsetEnvironment = A=B\nUser = root\nGroup = 4294967295\nWorkingDirectory = relative\n'
# CDI: the checks at load (relative deviceNodes path / hostPath, a bind
# mount's options)
cdi_spec='{"cdiVersion":"0.6.0","kind":"vendor.com/dev","devices":[{"name":"a","containerEdits":{"deviceNodes":[{"path":"dev/rel","hostPath":"rel"}]}}],"containerEdits":{"mounts":[{"hostPath":"lib","containerPath":"/lib/x","options":["bind","ro","nosuid","rshared","weird"]}],"env":["A=1"]}}'
text cdi-json "" "$cdi_spec"
text cdi-yaml "" 'cdiVersion: 0.6.0\nkind: vendor.com/dev\ndevices:\n- name: a\n  containerEdits:\n    deviceNodes:\n    - path: /dev/null\n      hostPath: dev/null\ncontainerEdits:\n  mounts:\n  - hostPath: /nonexistent\n    containerPath: /x\n    options: [rbind, ro, noexec]\n'
text cdi-registry "" "$cdi_spec" '' "$cdi_spec"

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
