#!/bin/bash
# `curate cdi generate` under a real engine (issue 11 items 1 and 2): rootful
# podman 4.3 with runc runs a busybox image made here (`podman import`) with
# --device curate.dev/views=all and sees its own --memory and --cpus in
# /proc/meminfo, procps free, /proc/cpuinfo and /sys/devices/system/cpu; the
# GPU spec of the fake NVIDIA tree (tests/fixtures/gpu/two, nodes made with
# mknod) gives podman exactly the nodes curate's discovery names. curate's
# own CDI loader (`curate run --device`) takes both specs too.
#
# podman 4.3 reads CDI specs only from /etc/cdi and /var/run/cdi (no spec
# dir setting before 4.4's containers.conf cdi_spec_dirs), so the specs,
# generated into a private directory first, are installed as
# /var/run/cdi/curate.yaml and curate-nvidia.yaml for the test; a file that
# was there is put back at exit. Podman's storage (--root, --runroot,
# --tmpdir) is private to the test and removed with its image and containers:
# the host's podman state is not touched.
. "$(dirname "$0")/lib.sh"
require_curate
require_podman

run_tmpdir
declare -a CDI_INSTALLED=()
# install_spec SRC NAME: SRC as $CDI_DIR/NAME, a file already there kept aside
install_spec() {
        if [ -e "$CDI_DIR/$2" ] && [ ! -e "$T/saved-$2" ]; then
                mv "$CDI_DIR/$2" "$T/saved-$2" || return 1
        fi
        CDI_INSTALLED+=("$2")
        cp "$1" "$CDI_DIR/$2"
}
restore_specs() {
        local n
        for n in "${CDI_INSTALLED[@]}"; do
                rm -f "$CDI_DIR/$n"
                [ -e "$T/saved-$n" ] && mv "$T/saved-$n" "$CDI_DIR/$n"
        done
        [ "${MADE_CDI_DIR:-0}" = 1 ] && rmdir "$CDI_DIR" 2>/dev/null
}
podman_private cdi
trap 'restore_specs; podman_cleanup; cleanup_run; cleanup' EXIT
cdi_lock

# ---- the image: static busybox with its applet links, plus procps free
# (busybox free asks sysinfo(2), which no bind can change) and its libraries
R=$T/rootfs
HAVE_FREE=0
if [ -x /usr/bin/free ] && ldd /usr/bin/free >/dev/null 2>&1; then
        busybox_rootfs "$R" /usr/bin/free
        HAVE_FREE=1
else
        busybox_rootfs "$R"
fi
podman_import "$R"
RUN=(run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
"${PODMAN[@]}" "${RUN[@]}" "$IMAGE" true 2>"$T/run.err" ||
        skip "rootful podman with runc cannot run a container here: $(tail -1 "$T/run.err")"
pod() { OUT=$("${PODMAN[@]}" "${RUN[@]}" "$@" 2>"$T/pod.err"); RC=$?; ERR=$(cat "$T/pod.err"); }
HOST_CPUS=$(grep -c ^processor /proc/cpuinfo)
HOST_MEM=$(kb_of MemTotal </proc/meminfo)

# ---- generation refuses without a daemon, writing nothing
fresh_mountpoint
OUT=$("$CURATE" cdi generate --mountpoint "$FRESH" --output "$T/none.yaml" 2>&1); RC=$?
check_eq "no daemon: exit 1" 1 "$RC"
check "no daemon: says so" grep -q "no curatefs serves $FRESH" <<<"$OUT"
check "no daemon: nothing written" test ! -e "$T/none.yaml"
OUT=$("$CURATE" cdi generate --mountpoint "$FRESH" --output "$T/x.txt" 2>&1); RC=$?
check_eq "--output of no known format: usage, exit 2" 2 "$RC"

BEFORE=$(cat "$CDI_DIR/curate.yaml" 2>/dev/null)
"$CURATE" daemon start --mountpoint "$FRESH" >/dev/null || { not_ok "daemon start"; finish; }
check_eq "daemon start on a private mount point leaves $CDI_DIR/curate.yaml alone" \
        "$BEFORE" "$(cat "$CDI_DIR/curate.yaml" 2>/dev/null)"
mkdir -p "$T/spec"
check "generate to a private --output" "$CURATE" cdi generate --mountpoint "$FRESH" --output "$T/spec/curate.yaml"
check "generate as JSON" "$CURATE" cdi generate --mountpoint "$FRESH" --output "$T/spec/curate.json"
check "JSON and YAML name the same mounts" bash -c \
        "[ \$(grep -c hostPath '$T/spec/curate.yaml') = \$(grep -c hostPath '$T/spec/curate.json') ]"
check "no temporary file left beside it" bash -c "[ \$(ls -A '$T/spec' | wc -l) = 2 ]"
install_spec "$T/spec/curate.yaml" curate.yaml

# ---- curate devices list shows them
OUT=$("$CURATE" devices list)
for d in all meminfo cpuinfo cpu-tree; do
        check "devices list: curate.dev/views=$d" grep -q "^curate.dev/views=$d " <<<"$OUT"
done

# ---- podman with the views
SCRIPT='echo mem=$(head -1 /proc/meminfo | tr -s " "); [ -x /usr/bin/free ] && echo free=$(/usr/bin/free -k | awk "/^Mem:/ { print \$2 }");
echo online=$(head -1 /sys/devices/system/cpu/online); echo cpus=$(ls /sys/devices/system/cpu | grep -c "^cpu[0-9]");
echo procs=$(grep -c ^processor /proc/cpuinfo); echo x 2>/dev/null >/proc/meminfo && echo meminfo=writable; true'
pod --memory 256m --cpus 1 --device curate.dev/views=all "$IMAGE" sh -c "$SCRIPT"
check_eq "views=all: podman exit 0 ($ERR)" 0 "$RC"
check_eq "views=all: /proc/meminfo MemTotal is --memory 256m" "MemTotal: 262144 kB" "$(kv mem <<<"$OUT")"
[ "$HAVE_FREE" = 1 ] && check_eq "views=all: procps free shows 256 MiB" 262144 "$(kv free <<<"$OUT")"
check_eq "views=all: cpu/online is --cpus 1" 0 "$(kv online <<<"$OUT")"
check_eq "views=all: one cpuN in the curated /sys/devices/system/cpu" 1 "$(kv cpus <<<"$OUT")"
check_eq "views=all: one processor in /proc/cpuinfo" 1 "$(kv procs <<<"$OUT")"
check_eq "views=all: /proc/meminfo not writable" "" "$(kv meminfo <<<"$OUT")"

pod --memory 128m --device curate.dev/views=all "$IMAGE" sh -c "$SCRIPT"
check_eq "views=all, another container: its own 128 MiB" "MemTotal: 131072 kB" "$(kv mem <<<"$OUT")"

# ---- busybox cat (sendfile, the image's cat) through the spec's binds of
# the shared names: the lookup runc's init makes in the container's cgroup
# gets that cgroup's own inode, sized, so cat reads it whole
BBCAT='echo bb=$(cat /proc/meminfo | awk "\$1 == \"MemTotal:\" { print \$2 }");
echo lines=$(cat /proc/meminfo | wc -l)/$(head -n 1000 /proc/meminfo | wc -l); echo online=$(cat /sys/devices/system/cpu/online)'
pod --memory 256m --cpus 1 --device curate.dev/views=all "$IMAGE" sh -c "$BBCAT"
check_eq "busybox cat /proc/meminfo in a --memory 256m container: MemTotal 262144 ($ERR)" 262144 "$(kv bb <<<"$OUT")"
l=$(kv lines <<<"$OUT")
check "busybox cat /proc/meminfo: the whole file, as head -n 1000 reads it ($l)" test "${l%/*}" = "${l#*/}" -a "${l%/*}" -gt 10
check_eq "busybox cat /sys/devices/system/cpu/online: --cpus 1" 0 "$(kv online <<<"$OUT")"

# two containers at once, different limits, each in a loop: its own figures,
# whole, every time (a fixed number of reads: no timed assertion)
mkdir -p "$T/w"
BBLOOP='while [ ! -e /w/go ]; do sleep 0.05; done; n=0; bad=0; while [ $n -lt 300 ]; do
        r=$(cat /proc/meminfo | awk -v w=$0 -v l=$(head -n 1000 /proc/meminfo | wc -l) "\$1 == \"MemTotal:\" { t = \$2 } END { print (t == w && NR == l) ? \"good\" : \"bad \" t \" \" NR }")
        n=$((n + 1)); [ "$r" = good ] || { bad=$((bad + 1)); echo "first: $r"; }; done; echo reads=$n bad=$bad'
"${PODMAN[@]}" "${RUN[@]}" -v "$T/w:/w" --memory 256m --device curate.dev/views=all "$IMAGE" sh -c "$BBLOOP" 262144 \
        >"$T/loopA.out" 2>&1 &
pa=$!
"${PODMAN[@]}" "${RUN[@]}" -v "$T/w:/w" --memory 512m --device curate.dev/views=all "$IMAGE" sh -c "$BBLOOP" 524288 \
        >"$T/loopB.out" 2>&1 &
pb=$!
touch "$T/w/go"
wait "$pa"; ra=$?; wait "$pb"; rb=$?
check "two containers at once: A (256m) read its own, whole, 300 times ($ra: $(tail -2 "$T/loopA.out" | tr '\n' ' '))" \
        grep -q '^reads=300 bad=0$' "$T/loopA.out"
check "two containers at once: B (512m) read its own, whole, 300 times ($rb: $(tail -2 "$T/loopB.out" | tr '\n' ' '))" \
        grep -q '^reads=300 bad=0$' "$T/loopB.out"
rm -f "$T/w/go"

# containers started at the same moment: runc's binds of the shared names are
# made by each container's init from its own cgroup, and each LOOKUP of `proc`
# from another cgroup makes the kernel drop the directory entry the previous
# one got; no start may fail for it, none may see another's figures
STARTS=6 ROUNDS=3 sfail=0 swrong=0 sfirst=""
for ((round = 1; round <= ROUNDS; round++)); do
        pids=()
        for ((i = 1; i <= STARTS; i++)); do
                "${PODMAN[@]}" "${RUN[@]}" --memory $((64 * (i + 1)))m --device curate.dev/views=all "$IMAGE" \
                        sh -c 'cat /proc/meminfo | head -1; cat /sys/devices/system/cpu/online' >"$T/start-$i.out" 2>&1 &
                pids+=($!)
        done
        for ((i = 1; i <= STARTS; i++)); do
                if ! wait "${pids[i - 1]}"; then
                        sfail=$((sfail + 1)); [ -z "$sfirst" ] && sfirst="round $round #$i: $(tail -1 "$T/start-$i.out")"
                elif [ "$(kb_of MemTotal <"$T/start-$i.out")" != $((65536 * (i + 1))) ]; then
                        swrong=$((swrong + 1)); [ -z "$sfirst" ] && sfirst="round $round #$i: $(head -1 "$T/start-$i.out")"
                fi
        done
done
check_eq "$((STARTS * ROUNDS)) containers started $STARTS at a time: none fails ($sfirst)" 0 "$sfail"
check_eq "$((STARTS * ROUNDS)) containers started $STARTS at a time: each reads its own MemTotal whole ($sfirst)" 0 "$swrong"

# the host: the shared file is still the host's (a reader in the root cgroup
# gets the shared inode; this test's own cgroup its own figures, never a
# container's)
check_eq "a root-cgroup reader: $FRESH/proc/meminfo is the host's" "$HOST_MEM" \
        "$(cg_exec_root head -n 1000 "$FRESH/proc/meminfo" | kb_of MemTotal)"
m=$("$BUSYBOX" cat "$FRESH/proc/meminfo" | kb_of MemTotal)
check "this test's cgroup: busybox cat of $FRESH/proc/meminfo is not a container's ($m)" \
        test "$m" != 262144 -a "$m" != 524288

# a host root reading a container's bound file through /proc/PID/root with
# busybox cat: its own figures or nothing, never the container's; and the
# container's cat still reads its own afterwards (its page cache untouched)
WAITCAT='cat /proc/meminfo >/dev/null; echo > /w/ready; while [ ! -e /w/go ]; do sleep 0.05; done
echo after=$(cat /proc/meminfo | awk "\$1 == \"MemTotal:\" { print \$2 }")/$(cat /proc/meminfo | wc -l)/$(head -n 1000 /proc/meminfo | wc -l)'
rm -f "$T/w/ready"
"${PODMAN[@]}" "${RUN[@]}" -v "$T/w:/w" --name curate-cdi-wait-$$ --memory 256m --device curate.dev/views=all "$IMAGE" \
        sh -c "$WAITCAT" >"$T/wait.out" 2>&1 &
pw=$!
wait_file "$T/w/ready" 60 || not_ok "the waiting container came up"
cpid=$("${PODMAN[@]}" inspect --format '{{.State.Pid}}' curate-cdi-wait-$$ 2>/dev/null)
if [ -n "$cpid" ] && [ -d "/proc/$cpid/root/proc" ]; then
        for who in root test; do
                if [ $who = root ]; then got=$(cg_exec_root "$BUSYBOX" cat "/proc/$cpid/root/proc/meminfo" 2>/dev/null | kb_of MemTotal)
                else got=$("$BUSYBOX" cat "/proc/$cpid/root/proc/meminfo" 2>/dev/null | kb_of MemTotal); fi
                check "host ($who cgroup): busybox cat /proc/$cpid/root/proc/meminfo is not the container's (${got:-nothing})" \
                        test "$got" != 262144
                got=$(head -n 1000 "/proc/$cpid/root/proc/meminfo" 2>/dev/null | kb_of MemTotal)
                check "host ($who cgroup): head of it is not the container's (${got:-nothing})" test "$got" != 262144
        done
else
        not_ok "the waiting container's pid ($cpid) and its /proc/meminfo found"
fi
touch "$T/w/go"
wait "$pw"
a=$(kv after <"$T/wait.out")
check_eq "... and the container's busybox cat still reads its own, whole, afterwards" \
        "262144/$(cut -d/ -f3 <<<"$a")/$(cut -d/ -f3 <<<"$a")" "$a"
rm -f "$T/w/go" "$T/w/ready"

# a daemon restart (and a serving process killed) while a podman container
# reads: nothing lost, never the host's figures (the holder keeps the mount)
LOOP='end=$(( $(date +%s) + 6 )); n=0; bad=0
while [ $(date +%s) -lt $end ]; do
        l=$(head -1 /proc/meminfo 2>/dev/null); c=$(head -1 /sys/devices/system/cpu/online 2>/dev/null)
        case "$l:$c" in *262144*:0) n=$((n + 1)) ;; *) bad=$((bad + 1)); echo "bad: $l:$c" ;; esac
done; echo reads=$n bad=$bad'
"${PODMAN[@]}" "${RUN[@]}" --memory 256m --cpus 1 --device curate.dev/views=all "$IMAGE" sh -c "$LOOP" \
        >"$T/loop.out" 2>"$T/loop.err" &
loop_pid=$!
sleep 2
restart_out=$("$CURATE" daemon restart --mountpoint "$FRESH" 2>&1); restart_rc=$?
sleep 1
serving=$("$CURATE" daemon status --mountpoint "$FRESH" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["serving_processes"][0]["pid"])' 2>/dev/null)
[ -n "$serving" ] && kill -KILL "$serving"
wait "$loop_pid"; loop_rc=$?
check_eq "restart under a podman container's reads: curate daemon restart ($restart_out)" 0 "$restart_rc"
check "restart under reads: a serving process was killed too ($serving)" test -n "$serving"
check_eq "restart under reads: the container exits 0 ($(tail -2 "$T/loop.err"))" 0 "$loop_rc"
reads=$(sed -n 's/^reads=\([0-9]*\) bad=.*/\1/p' "$T/loop.out"); bad=$(sed -n 's/^reads=[0-9]* bad=\([0-9]*\)/\1/p' "$T/loop.out")
check "restart under reads: reads went on (${reads:-none})" test "${reads:-0}" -gt 10
check_eq "restart under reads: no read failed or showed other figures ($(grep -m 3 '^bad:' "$T/loop.out" | tr '\n' ' '))" 0 "${bad:-x}"

# only meminfo: the other files stay the host's (the device names one view)
pod --memory 256m --cpus 1 --device curate.dev/views=meminfo "$IMAGE" sh -c "$SCRIPT"
check_eq "views=meminfo: exit 0 ($ERR)" 0 "$RC"
check_eq "views=meminfo: MemTotal 256 MiB" "MemTotal: 262144 kB" "$(kv mem <<<"$OUT")"
check_eq "views=meminfo: /proc/cpuinfo is the host's" "$HOST_CPUS" "$(kv procs <<<"$OUT")"

# the control: without the device the container sees the host
pod --memory 256m --cpus 1 "$IMAGE" sh -c "$SCRIPT"
check_eq "no device: the host's MemTotal" "MemTotal: $HOST_MEM kB" "$(kv mem <<<"$OUT")"

pod --device curate.dev/views=nosuch "$IMAGE" true
check "unknown device: podman refuses" test "$RC" != 0

# ---- curate's own loader takes the same spec (--share-tmp: the test's mount
# point is under /tmp, and curate resolves CDI host paths in the container,
# whose /tmp is private by default)
cr run --mountpoint "$FRESH" --share-tmp --views none --memory 256m --device curate.dev/views=all -- \
        sh -c 'head -1 /proc/meminfo; head -1 /sys/devices/system/cpu/online'
check_eq "curate run --device curate.dev/views=all: exit 0 ($ERR)" 0 "$RC"
check "curate run --device curate.dev/views=all: MemTotal 256 MiB" grep -q "^MemTotal: *262144 kB" <<<"$OUT"

# ---- GPUs: the fake NVIDIA host (index 0 is Device Minor 1), real nodes
HR=$T/hr
fake_nvidia_host "$HR"
check "generate --gpus from the fake tree" env CURATE_HOST_ROOT="$HR" "$CURATE" cdi generate --gpus --output "$T/spec/nvidia.yaml"
OUT=$(CURATE_HOST_ROOT="$HR" "$CURATE" cdi generate --gpus=amd --output "$T/spec/amd.yaml" 2>&1); RC=$?
check_eq "--gpus=amd on a host without AMD GPU: exit 1" 1 "$RC"
check "--gpus=amd: nothing written" test ! -e "$T/spec/amd.yaml"
install_spec "$T/spec/nvidia.yaml" curate-nvidia.yaml

# a host with both vendors: one spec per file, so --output needs a vendor
BOTH=$T/both
cp -a "$SOURCE_ROOT/tests/fixtures/gpu/two" "$BOTH" && cp -a "$SOURCE_ROOT/tests/fixtures/amd/two/." "$BOTH/"
OUT=$(CURATE_HOST_ROOT="$BOTH" "$CURATE" cdi generate --gpus --output "$T/spec/both.yaml" 2>&1); RC=$?
check_eq "NVIDIA and AMD, one --output: exit 1" 1 "$RC"
check "NVIDIA and AMD, one --output: says to name a vendor" grep -q -- "--gpus=nvidia or --gpus=amd" <<<"$OUT"
check "NVIDIA and AMD, one --output: nothing written" test ! -e "$T/spec/both.yaml"
check "--gpus=amd on that host" env CURATE_HOST_ROOT="$BOTH" "$CURATE" cdi generate --gpus=amd --output "$T/spec/amd.json"
check "--gpus=amd: kind amd.com/gpu with /dev/kfd" grep -q '"amd.com/gpu"' "$T/spec/amd.json"
check "--gpus=amd: /dev/kfd in it" grep -q '"/dev/kfd"' "$T/spec/amd.json"

NODES='for n in /dev/nvidia0 /dev/nvidia1 /dev/nvidiactl /dev/nvidia-uvm /dev/nvidia-uvm-tools; do
        [ -e $n ] && ls -ln $n | awk -v n=$n "{ sub(\",\", \"\", \$5); print n \"=\" \$1 \" \" \$5 \":\" \$6 }"; done'
pod --device nvidia.com/gpu=0 "$IMAGE" sh -c "$NODES"
check_eq "podman nvidia.com/gpu=0: exit 0 ($ERR)" 0 "$RC"
check_eq "gpu=0: /dev/nvidia1 is char 195:1 (Device Minor 1)" "crw-rw-rw- 195:1" "$(kv /dev/nvidia1 <<<"$OUT")"
check_eq "gpu=0: no /dev/nvidia0" "" "$(kv /dev/nvidia0 <<<"$OUT")"
check_eq "gpu=0: nvidiactl 195:255" "195:255" "$(kv /dev/nvidiactl <<<"$OUT" | cut -d' ' -f2)"
check_eq "gpu=0: nvidia-uvm 510:0" "510:0" "$(kv /dev/nvidia-uvm <<<"$OUT" | cut -d' ' -f2)"
check_eq "gpu=0: nvidia-uvm-tools 510:1" "510:1" "$(kv /dev/nvidia-uvm-tools <<<"$OUT" | cut -d' ' -f2)"
pod --device nvidia.com/gpu=GPU-3b3b3b3b-0000-1111-2222-333333333333 "$IMAGE" sh -c "$NODES"
check_eq "gpu=GPU-3b3b...: /dev/nvidia0 195:0 ($ERR)" "195:0" "$(kv /dev/nvidia0 <<<"$OUT" | cut -d' ' -f2)"
check_eq "gpu=GPU-3b3b...: no /dev/nvidia1" "" "$(kv /dev/nvidia1 <<<"$OUT")"
pod --device nvidia.com/gpu=all "$IMAGE" sh -c "$NODES"
check_eq "gpu=all: both GPUs ($ERR)" "195:0 195:1" \
        "$(kv /dev/nvidia0 <<<"$OUT" | cut -d' ' -f2) $(kv /dev/nvidia1 <<<"$OUT" | cut -d' ' -f2)"

# curate's loader on the same spec, beneath the fake root whose nodes it checks
mkdir -p "$HR/etc/cdi" && cp "$T/spec/nvidia.yaml" "$HR/etc/cdi/"
CURATE_HOST_ROOT=$HR cr run --mountpoint "$FRESH" --device nvidia.com/gpu=0 -- sh -c "$NODES"
check_eq "curate run --device nvidia.com/gpu=0: exit 0 ($ERR)" 0 "$RC"
check_eq "curate run --device nvidia.com/gpu=0: /dev/nvidia1 195:1" "195:1" "$(kv /dev/nvidia1 <<<"$OUT" | cut -d' ' -f2)"
check_eq "curate run --device nvidia.com/gpu=0: no /dev/nvidia0" "" "$(kv /dev/nvidia0 <<<"$OUT")"

# ---- nothing left: the host's CDI dirs as found, podman storage private
restore_specs; CDI_INSTALLED=(); MADE_CDI_DIR=0
podman_cleanup
check_eq "no image left in the private storage" "" "$("${PODMAN[@]}" images -q 2>/dev/null)"
finish
