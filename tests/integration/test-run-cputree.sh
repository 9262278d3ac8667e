#!/bin/bash
# /sys/devices/system/cpu, /proc/vmstat and /proc/pressure inside `curate
# run`, read by the real clients that size themselves by them (lscpu, nproc,
# getconf, Python, psutil, numpy's OpenBLAS, Node, vmstat), under a cpuset
# and under a CPU quota; a CPU outside the set cannot be seen or written;
# two containers with different cpusets never see each other's set.
# Clients that are not installed (the qemu guest has no Python or Node) are
# reported and left out.
. "$(dirname "$0")/lib.sh"
require_curate
export LC_ALL=C

mount_curatefs || { not_ok "mount curatefs"; finish; }
run_tmpdir
ncpu_host=$(getconf _NPROCESSORS_ONLN)
host_free_kb=$(kb_of MemFree < /proc/meminfo)
PY=$(command -v /usr/bin/python3 python3 | head -n 1)

cat > "$T/inside.sh" <<'EOF'
export LC_ALL=C
hidden=$1 py=$2
d=/sys/devices/system/cpu
for f in online possible present offline; do echo "$f=$(cat $d/$f)"; done
echo "dirs=$(ls $d | grep -E '^cpu[0-9]+$' | tr '\n' ' ')"
echo "cpuinfo_ids=$(awk -F: '/^processor/ { gsub(/[ \t]/, "", $2); printf "%s ", $2 }' /proc/cpuinfo)"
echo "stat_ids=$(awk '$1 ~ /^cpu[0-9]+$/ { printf "%s ", $1 }' /proc/stat)"
shown=$(ls $d | grep -E '^cpu[0-9]+$' | head -n 1)
l=$(lscpu)
echo "lscpu_cpus=$(awk -F: '/^CPU\(s\):/ { gsub(/ /, "", $2); print $2 }' <<<"$l")"
echo "lscpu_online=$(awk -F: '/^On-line CPU\(s\) list:/ { gsub(/ /, "", $2); print $2 }' <<<"$l")"
echo "lscpu_offline=$(grep -c '^Off-line' <<<"$l")"
echo "nproc_all=$(nproc --all) nproc=$(nproc)"
echo "conf=$(getconf _NPROCESSORS_CONF)"
echo "onln=$(getconf _NPROCESSORS_ONLN)"
if [ -x "$py" ]; then
        echo "py=$($py -c 'import os; print(os.cpu_count())')"
        echo "affinity=$($py -c 'import os; print(",".join(map(str, sorted(os.sched_getaffinity(0)))))')"
        $py -c 'import psutil' 2>/dev/null &&
                echo "psutil=$($py -c 'import psutil; print(psutil.cpu_count(logical=True), psutil.cpu_count(logical=False))')"
        $py -c 'import numpy, threadpoolctl' 2>/dev/null &&
                echo "blas=$($py -c 'import numpy, threadpoolctl; print(" ".join(str(i["num_threads"]) for i in threadpoolctl.threadpool_info()))')"
fi
command -v node >/dev/null && echo "node=$(node -e 'console.log(require("os").cpus().length)')"
echo "siblings=$(cat $d/$shown/topology/core_cpus_list) $(cat $d/$shown/topology/package_cpus_list)"
echo "hidden_ls=$(ls $d/$hidden >/dev/null 2>&1; echo $?)"
echo "hidden_stat=$(stat $d/$hidden/topology/core_id >/dev/null 2>&1; echo $?)"
echo "hidden_open=$(cat $d/$hidden/topology/core_id >/dev/null 2>&1; echo $?)"
echo "hidden_cache=$(cat $d/$hidden/cache/index0/size >/dev/null 2>&1; echo $?)"
echo "write_list=$( (echo 0 > $d/online) 2>/dev/null; echo $?)"
[ -e $d/$shown/online ] && echo "write_cpu=$( (echo 0 > $d/$shown/online) 2>/dev/null; echo $?) $(cat $d/$shown/online)"
echo "vm_free=$(vmstat 1 2 | awk 'NR == 3 { print $4 }')"
echo "meminfo_free=$(awk '$1 == "MemFree:" { print $2 }' /proc/meminfo)"
echo "nr_free_kb=$(awk -v p=$(getconf PAGESIZE) '$1 == "nr_free_pages" { print $2 * p / 1024 }' /proc/vmstat)"
echo "pressure_ls=$(ls /proc/pressure 2>/dev/null | tr '\n' ' ')"
echo "pressure_cat=$(cat /proc/pressure/cpu >/dev/null 2>&1; echo $?)"
# the cgroup's own figures, read around the view's: before <= view <= after
# (a view is at most 100 ms old: waiting longer than that after "before"
# makes any rendering served a later one)
if [ -f /sys/fs/cgroup/memory.pressure ]; then
        for r in cpu memory io; do
                b=$(sed -n 's/^some .*total=//p' /sys/fs/cgroup/$r.pressure)
                sleep 0.25
                v=$(sed -n 's/^some .*total=//p' /proc/pressure/$r)
                a=$(sed -n 's/^some .*total=//p' /sys/fs/cgroup/$r.pressure)
                echo "psi_$r=$b $v $a"
        done
fi
EOF

# expected cgroups with PSI: the launcher binds /proc/pressure only there
psi=
if cg_is_v2 && [ -e /proc/pressure/cpu ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers &&
   grep -qw io /sys/fs/cgroup/cgroup.controllers && grep -qw cpu /sys/fs/cgroup/cgroup.controllers; then
        psi=1
fi

# run_case NAME SET HIDDEN ARGS...: one CPU shown (SET) under ARGS
run_case() {
        local name=$1 set=$2 hidden=$3; shift 3
        cr run --mountpoint "$MNT" --memory 300M "$@" -- bash "$T/inside.sh" "$hidden" "$PY"
        check_eq "$name: runs ($ERR)" 0 "$RC"
        local in=$OUT f
        for f in online possible present; do
                check_eq "$name: cpu/$f is the real CPU $set" "$set" "$(kv $f <<<"$in")"
        done
        check_eq "$name: cpu/offline is empty" "" "$(kv offline <<<"$in")"
        check_eq "$name: only cpu$set is listed" "cpu$set " "$(kv dirs <<<"$in")"
        check_eq "$name: /proc/cpuinfo numbers its processor as the tree does" "$set " "$(kv cpuinfo_ids <<<"$in")"
        check_eq "$name: /proc/stat's per-CPU line is cpu$set" "cpu$set " "$(kv stat_ids <<<"$in")"
        check_eq "$name: lscpu CPU(s)" 1 "$(kv lscpu_cpus <<<"$in")"
        check_eq "$name: lscpu On-line CPU(s) list" "$set" "$(kv lscpu_online <<<"$in")"
        check_eq "$name: lscpu has no Off-line line" 0 "$(kv lscpu_offline <<<"$in")"
        check_eq "$name: getconf _NPROCESSORS_CONF" 1 "$(kv conf <<<"$in")"
        check_eq "$name: getconf _NPROCESSORS_ONLN" 1 "$(kv onln <<<"$in")"
        local na; na=$(kv nproc_all <<<"$in"); na=${na%% *}
        if [ "$name" = quota ]; then
                # gnulib's num_processors takes a _NPROCESSORS_CONF of 1 for
                # an unmounted /sys and falls back to the affinity mask, which
                # a quota does not narrow (README: limits)
                check "$name: nproc --all is 1, or the affinity count by gnulib's fallback ($na)" \
                        test "$na" = 1 -o "$na" = "$ncpu_host"
        else
                check_eq "$name: nproc --all" 1 "$na"
        fi
        check_eq "$name: the shown CPU's topology lists are cut to it" "$set $set" "$(kv siblings <<<"$in")"
        if [ -n "$PY" ]; then
                check_eq "$name: Python os.cpu_count()" 1 "$(kv py <<<"$in")"
                [ "$name" != quota ] && check_eq "$name: the cpu tree agrees with sched_getaffinity" "$set" "$(kv affinity <<<"$in")"
                if grep -q '^psutil=' <<<"$in"; then
                        check_eq "$name: psutil cpu_count(logical=True), (logical=False)" "1 1" "$(kv psutil <<<"$in")"
                else echo "# psutil not installed: left out"; fi
                if grep -q '^blas=' <<<"$in" && [ -n "$(kv blas <<<"$in")" ]; then
                        check_eq "$name: numpy's OpenBLAS pool (threadpoolctl num_threads)" 1 "$(kv blas <<<"$in")"
                else echo "# numpy/threadpoolctl/OpenBLAS not installed: left out"; fi
        else echo "# python3 not installed: Python, psutil and numpy left out"; fi
        if grep -q '^node=' <<<"$in"; then
                check_eq "$name: Node os.cpus().length" 1 "$(kv node <<<"$in")"
        else echo "# node not installed: left out"; fi
        check "$name: ls of cpu$hidden fails" test "$(kv hidden_ls <<<"$in")" != 0
        check "$name: stat of cpu$hidden/topology/core_id fails" test "$(kv hidden_stat <<<"$in")" != 0
        check "$name: open of cpu$hidden/topology/core_id fails" test "$(kv hidden_open <<<"$in")" != 0
        check "$name: open of cpu$hidden/cache/index0/size fails" test "$(kv hidden_cache <<<"$in")" != 0
        check "$name: writing cpu/online fails" test "$(kv write_list <<<"$in")" != 0
        if grep -q '^write_cpu=' <<<"$in"; then
                check "$name: writing cpu$set/online fails and it stays 1 ($(kv write_cpu <<<"$in"))" \
                        test "$(kv write_cpu <<<"$in" | cut -d' ' -f1)" != 0 -a "$(kv write_cpu <<<"$in" | cut -d' ' -f2)" = 1
        fi
        local vf mf nf; vf=$(kv vm_free <<<"$in"); mf=$(kv meminfo_free <<<"$in"); nf=$(kv nr_free_kb <<<"$in")
        check "$name: vmstat's free ($vf kB) is the container's: at most 300M, not the host's ($host_free_kb kB)" \
                test -n "$vf" -a "${vf:-0}" -gt 0 -a "${vf:-0}" -le 307200
        check "$name: /proc/vmstat nr_free_pages ($nf kB) is meminfo's MemFree ($mf kB) within 10%" \
                awk -v a="$nf" -v b="$mf" 'BEGIN { exit !(a > 0 && a <= 307200 && a >= b * 0.9 && a <= b * 1.1) }'
        if [ -n "$psi" ]; then
                check_eq "$name: /proc/pressure has cpu, memory, io" "cpu io memory " "$(kv pressure_ls <<<"$in")"
                local r b v a
                for r in cpu memory io; do
                        read -r b v a <<<"$(kv psi_$r <<<"$in")"
                        check "$name: /proc/pressure/$r is the cgroup's ($b <= $v <= $a)" \
                                test -n "$v" -a "${b:-x}" -le "${v:-0}" -a "${v:-0}" -le "${a:-0}"
                done
        else
                check_eq "$name: no cgroup PSI here: /proc/pressure is empty" "" "$(kv pressure_ls <<<"$in")"
                check "$name: no cgroup PSI here: /proc/pressure/cpu cannot be read" test "$(kv pressure_cat <<<"$in")" != 0
        fi
}

run_case "cpuset 0" 0 1 --cpuset 0
if [ "$ncpu_host" -ge 2 ]; then
        run_case "cpuset 1" 1 0 --cpuset 1
        run_case quota 0 1 --cpus 1
else
        echo "# one host CPU: the cpuset 1 and quota cases need two"
fi

# --- the view names ------------------------------------------------------------
cr run --mountpoint "$MNT" --memory 300M --cpuset 0 --views cpu-online -- sh -c \
        'echo "online=$(cat /sys/devices/system/cpu/online)"; echo "dirs=$(ls /sys/devices/system/cpu | grep -cE "^cpu[0-9]+$")"; echo "vm=$(head -n 1 /proc/vmstat)"'
check_eq "--views cpu-online runs ($ERR)" 0 "$RC"
check_eq "--views cpu-online: online is curated" 0 "$(kv online <<<"$OUT")"
check_eq "--views cpu-online: the rest of the tree is the host's" "$ncpu_host" "$(kv dirs <<<"$OUT")"
check_eq "--views cpu-online: vmstat is the host's" "$(head -n 1 /proc/vmstat | cut -d' ' -f1)" "$(kv vm <<<"$OUT" | cut -d' ' -f1)"
cr run --mountpoint "$MNT" --memory 300M --views cpu-tree,vmstat -- sh -c \
        'echo "fuse=$(awk "/ fuse.curatefs / { print \$5 }" /proc/self/mountinfo | grep -xcE "/sys/devices/system/cpu|/proc/vmstat|/proc/meminfo")"; echo "free=$(awk "\$1 == \"nr_free_pages\" { print \$2 }" /proc/vmstat)"'
check_eq "--views cpu-tree,vmstat runs ($ERR)" 0 "$RC"
check_eq "--views cpu-tree,vmstat: the tree and vmstat are curatefs mounts, meminfo is not" 2 "$(kv fuse <<<"$OUT")"
check "--views cpu-tree,vmstat: vmstat is curated" test "$(kv free <<<"$OUT")" -le $((307200 / 4))

# --- two containers, two cpusets, one mount ------------------------------------
if [ "$ncpu_host" -ge 2 ]; then
        cat > "$T/loop.sh" <<'EOF'
want=$1 other=$((1 - $1)) d=/sys/devices/system/cpu n=0 bad=0
for i in $(seq 60); do
        o=$(cat $d/online); l=$(ls $d | grep -E '^cpu[0-9]+$' | tr '\n' ' ')
        s=$(cat $d/cpu$want/topology/core_cpus_list 2>&1)
        [ "$o" = "$want" ] && [ "$l" = "cpu$want " ] && [ "$s" = "$want" ] || bad=$((bad + 1))
        [ -e $d/cpu$other ] && bad=$((bad + 1))
        cat $d/cpu$other/topology/core_id >/dev/null 2>&1 && bad=$((bad + 1))
        n=$((n + 1))
done
echo "n=$n bad=$bad"
EOF
        cr_bg run --mountpoint "$MNT" --memory 300M --cpuset 0 -- bash "$T/loop.sh" 0
        pid0=$CR_PID out0=$CR_OUTF
        # generous bounds: the qemu guest forks slowly
        CR_TIMEOUT=240 cr run --mountpoint "$MNT" --memory 300M --cpuset 1 -- bash "$T/loop.sh" 1
        out1=$OUT rc1=$RC
        CR_PID=$pid0 CR_OUTF=$out0; cr_wait 240
        check_eq "two containers: cpuset 0 never saw cpuset 1's tree ($ERR)" "n=60 bad=0" "$OUT"
        check_eq "two containers: cpuset 1 never saw cpuset 0's tree" "n=60 bad=0 0" "$out1 $rc1"
fi

# --- a serving process killed under a container ---------------------------------
# The container keeps its working directory inside cpu1/topology: after the
# kill, the new serving process is asked about inodes it never handed out
# (the tree's inode numbers are derived from the paths, found again by a
# walk of that CPU's part of the host's tree).
if [ "$ncpu_host" -ge 2 ]; then
        cat > "$T/restart.sh" <<'EOF'
t=$1 d=/sys/devices/system/cpu
cd $d/cpu1/topology || exit 1
echo "before=$(cat core_id) $(cat core_cpus_list) $(ls | wc -l)"
: > "$t/ready"
while [ ! -e "$t/killed" ]; do sleep 0.05; done
echo "after=$(cat core_id) $(cat core_cpus_list) $(ls | wc -l)"
echo "cache=$(cat ../cache/index0/level 2>&1)"
echo "hidden=$(ls $d/cpu0 >/dev/null 2>&1; echo $?)"
EOF
        cr_bg run --mountpoint "$MNT" --memory 300M --cpuset 1 -- bash "$T/restart.sh" "$T"
        if wait_file "$T/ready" 60; then
                kids=$(cat /proc/"$CURATEFS_PID"/task/*/children 2>/dev/null)
                for k in $kids; do kill -KILL "$k"; done
                # the holder starts another; the next read is served by it
                for i in $(seq 100); do
                        now=$(cat /proc/"$CURATEFS_PID"/task/*/children 2>/dev/null)
                        [ -n "$now" ] && [ "$now" != "$kids" ] && break
                        sleep 0.05
                done
                check "a new serving process replaced the killed one ($kids -> $now)" test -n "$now" -a "$now" != "$kids"
                : > "$T/killed"
                cr_wait 120
                check_eq "after the kill: runs ($ERR)" 0 "$RC"
                before=$(kv before <<<"$OUT")
                check "after the kill: cpu1/topology read through the old directory inode is the same ($before)" \
                        test -n "$before" -a "$before" = "$(kv after <<<"$OUT")"
                check_eq "after the kill: a sibling directory reads" "1" "$(kv cache <<<"$OUT")"
                check "after the kill: cpu0 is still hidden" test "$(kv hidden <<<"$OUT")" != 0
        else
                not_ok "the restart container did not start: $(cat "$CR_ERRF")"
        fi
fi

finish
