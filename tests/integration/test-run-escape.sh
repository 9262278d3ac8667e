#!/bin/bash
# The escape suite: root inside a default `curate run` (no hardening option)
# tries each way out the security model says is closed, and the host is
# checked unchanged afterwards: its cgroup limits and membership, the daemon
# alive, no process left, no file written, no node made, no mount changed.
# Then each opt-out (--share, --seccomp unconfined, --allow-userns,
# --net none, --hostname, --read-only) restores what it names and nothing
# more.
. "$(dirname "$0")/lib.sh"
require_curate
export LC_ALL=C
PROBE=${PROBE:-${BUILD_ROOT:-}/tests/escape-probe}
[ -x "$PROBE" ] || skip "escape-probe not built ($PROBE)"

mount_curatefs || { not_ok "mount curatefs"; finish; }
run_tmpdir
cp "$PROBE" "$T/probe"; PROBE=$T/probe
marker=curate-escape-$$
before=$(mount_table)
host_thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)
blk=$(ls /sys/block | head -n 1)
host_ra=$([ -n "$blk" ] && cat "/sys/block/$blk/queue/read_ahead_kb")
regdir=${CURATE_DEVICES_DIR:-/run/curate/devices}
reg_before=$(ls -A "$regdir" 2>/dev/null | sort | tr '\n' ' ')
host_ns() { readlink "/proc/self/ns/$1"; }

# a host process and a peer container to aim at
sleep 300 & hostsleep=$!; OUR_PIDS+=("$hostsleep")
cr_bg run --mountpoint "$MNT" --memory 64M -- env CURATE_PEER_SECRET=s3cr3t-$$ sh -c "touch '$T/peer-up'; exec sleep 300"
peer_curate=$CR_PID peer_out=$CR_OUTF peer_err=$CR_ERRF
wait_file "$T/peer-up" || not_ok "the peer container did not start ($(cat "$peer_err"))"
peer=""
for p in $(cat "$(cg_file "$peer_curate" memory cgroup.procs)" 2>/dev/null); do
        [ "$(cat /proc/$p/comm 2>/dev/null)" = sleep ] && peer=$p
done
check "control: the peer's environment is readable on the host" grep -q "s3cr3t-$$" "/proc/$peer/environ"
# a SysV segment of the host's, which a private IPC namespace must not show
shmid=$(ipcmk -M 4096 2>/dev/null | awk '{ print $NF }')

cat > "$T/attack.sh" <<'EOF'
probe=$1 hostsleep=$2 daemon=$3 peer=$4 blk=$5 marker=$6
export LC_ALL=C
try() { local n=$1; shift; ( "$@" ) >/dev/null 2>&1; echo "$n=$?"; }
# limits and cgroup membership
for f in memory.limit_in_bytes memory.max; do
        for d in /sys/fs/cgroup/memory /sys/fs/cgroup; do
                [ -e "$d/$f" ] && try "lift_$f" sh -c "echo 1073741824 > $d/$f"
        done
done
try leave_v1 sh -c 'echo $$ > /sys/fs/cgroup/memory/cgroup.procs'
try leave_v2 sh -c 'echo $$ > /sys/fs/cgroup/cgroup.procs'
try mount_cgroup mount -t cgroup -o memory none /mnt
try mount_cgroup2 mount -t cgroup2 none /mnt
echo "cgroup=$(head -n 1 /proc/self/cgroup)"
echo "cgroup_ls=$(ls /sys/fs/cgroup | tr '\n' ' ')"
# a setsid child that tries to leave and outlive the container
setsid sh -c "echo \$\$ > /sys/fs/cgroup/memory/cgroup.procs; echo \$\$ > /sys/fs/cgroup/cgroup.procs; exec -a $marker sleep 300" </dev/null >/dev/null 2>&1 &
# host tunables under /sys
try thp sh -c 'echo never > /sys/kernel/mm/transparent_hugepage/enabled'
[ -n "$blk" ] && try readahead sh -c "echo 4096 > /sys/block/$blk/queue/read_ahead_kb"
try remount_sys mount -o remount,rw /sys
try remount_cgroupfs mount -o remount,rw /sys/fs/cgroup
# host processes and the daemon
echo "ps=$(ps -e -o pid= | wc -l)"
try kill_host kill -0 "$hostsleep"
try kill_daemon kill -9 "$daemon"
try pidfile sh -c 'cat /run/curate/curatefs-*.pid'
echo "run_curate=$(ls -A /run/curate 2>/dev/null | wc -l)"
try kill_init kill -9 1
echo "init_alive=yes"
# the peer container
try peer_environ cat "/proc/$peer/environ"
try peer_root ls "/proc/$peer/root/"
try peer_cwd ls "/proc/$peer/cwd/"
"$probe" "ptrace:$peer"
# curate's state and the views
try forge_registration sh -c "echo 'kmsg c 1 11 0666 rwm' >> /run/curate/devices/$CURATE_CONTAINER"
try plant_registration sh -c 'echo "kmsg c 1 11 0666 rwm" > /run/curate/devices/run-1'
try plant_policy sh -c 'echo "[Security]" > /etc/curate/evil.conf'
try plant_cdi sh -c 'echo "{}" > /etc/cdi/evil.json'
echo "mountpoint_ls=$(ls -A "$CURATE_MP" 2>/dev/null | wc -l)"
try umount_view umount /proc/meminfo
try bind_view mount --bind /proc/self/status /proc/meminfo
try mknod mknod /tmp/node c 1 11
try kmsg sh -c 'exec 3</dev/kmsg'
try sysrq sh -c 'echo h > /proc/sysrq-trigger'
try unshare_cmd unshare -U true
try unshare_remount unshare -Urm sh -c 'mount -o remount,rw /sys'
echo "memtotal=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
echo "seccomp=$(awk '/^Seccomp:/ { print $2 }' /proc/self/status)"
echo "ipc=$(ipcs -m 2>/dev/null | awk '$2 ~ /^[0-9]+$/ { print $2 }' | tr '\n' ' ')"
echo "ns_ipc=$(readlink /proc/self/ns/ipc)"
echo "ns_uts=$(readlink /proc/self/ns/uts)"
echo "ns_cgroup=$(readlink /proc/self/ns/cgroup)"
echo "ns_net=$(readlink /proc/self/ns/net)"
"$probe" keyctl add_key request_key bpf perf_event_open userfaultfd open_by_handle_at name_to_handle_at \
        kexec_load init_module finit_module delete_module swapon swapoff acct clock_settime settimeofday reboot \
        personality_bad personality_ok unshare_user clone_user clone3 io_uring_setup keyctl_i386 keyctl_x32
EOF

CURATE_MP=$MNT cr run --mountpoint "$MNT" --memory 64M -- env CURATE_MP="$MNT" bash "$T/attack.sh" \
        "$PROBE" "$hostsleep" "$CURATEFS_PID" "$peer" "$blk" "$marker"
in=$OUT run_pid=$CR_PID
fails() { check "$2" test "$(kv "$1" <<<"$in")" != 0; } # fails KEY DESCRIPTION: KEY's status is not 0
check_eq "the attack script ran to the end ($ERR)" 0 "$RC"
for f in memory.limit_in_bytes memory.max; do
        v=$(kv "lift_$f" <<<"$in")
        [ -n "$v" ] && check "writing its own $f fails" test "$v" != 0
done
fails leave_v1 "echo \$\$ > /sys/fs/cgroup/memory/cgroup.procs fails"
fails leave_v2 "echo \$\$ > /sys/fs/cgroup/cgroup.procs fails"
fails mount_cgroup "mounting a cgroup v1 hierarchy fails"
fails mount_cgroup2 "mounting cgroup2 fails"
check "/proc/self/cgroup names no host cgroup ($(kv cgroup <<<"$in"))" grep -qE ':/$' <<<"$(kv cgroup <<<"$in")"
check_eq "  and meminfo still shows the 64M limit" 65536 "$(kv memtotal <<<"$in")"
fails thp "writing /sys/kernel/mm/transparent_hugepage/enabled fails"
[ -n "$blk" ] && check "writing /sys/block/$blk/queue/read_ahead_kb fails" test "$(kv readahead <<<"$in")" != 0
fails remount_sys "mount -o remount,rw /sys fails"
fails remount_cgroupfs "mount -o remount,rw /sys/fs/cgroup fails"
check "ps -e lists only the container ($(kv ps <<<"$in") processes)" test "$(kv ps <<<"$in")" -le 8
fails kill_host "a host process cannot be signalled (kill -0 fails)"
fails kill_daemon "kill -9 of the daemon's host pid fails"
fails pidfile "the daemon's pid file cannot be read"
check_eq "/run/curate is empty inside" 0 "$(kv run_curate <<<"$in")"
check_eq "kill -9 1 leaves curate's init running" yes "$(kv init_alive <<<"$in")"
fails peer_environ "the peer's /proc/PID/environ is out of reach"
fails peer_root "the peer's /proc/PID/root is out of reach"
fails peer_cwd "the peer's /proc/PID/cwd is out of reach"
check "ptrace of the peer fails ($(kv ptrace <<<"$in"))" test -n "$(kv ptrace <<<"$in")" -a "$(kv ptrace <<<"$in")" != 0
fails forge_registration "appending to its own registration fails"
fails plant_registration "planting a registration for another id fails"
fails plant_policy "writing a policy into /etc/curate fails"
fails plant_cdi "writing a CDI spec into /etc/cdi fails"
check_eq "the curatefs mount point shows nothing" 0 "$(kv mountpoint_ls <<<"$in")"
fails umount_view "umount /proc/meminfo fails"
fails bind_view "mount --bind over /proc/meminfo fails"
fails mknod "mknod fails"
fails kmsg "/dev/kmsg cannot be opened"
fails sysrq "writing /proc/sysrq-trigger fails"
fails unshare_cmd "unshare -U fails"
fails unshare_remount "unshare -Urm then remount /sys rw fails"
check_eq "a seccomp filter is on (Seccomp: 2)" 2 "$(kv seccomp <<<"$in")"
for s in keyctl add_key request_key bpf perf_event_open userfaultfd open_by_handle_at name_to_handle_at \
        kexec_load init_module finit_module delete_module swapon swapoff acct clock_settime settimeofday reboot \
        personality_bad unshare_user clone_user io_uring_setup keyctl_i386 keyctl_x32; do
        # int $0x80 faults (SIGSEGV) before any syscall where the kernel has
        # no i386 emulation: nothing to filter there
        if [ $s = keyctl_i386 ] && [ "$("$PROBE" keyctl_i386)" = keyctl_i386=SIGSEGV ]; then
                echo "# no i386 ABI on this kernel (int \$0x80 faults): the i386 check is left out"
                continue
        fi
        check_eq "seccomp: $s is refused" EPERM "$(kv "$s" <<<"$in")"
done
check_eq "seccomp: clone3 answers ENOSYS (glibc falls back to clone)" ENOSYS "$(kv clone3 <<<"$in")"
check_eq "seccomp: personality(0xffffffff) (a query) works" 0 "$(kv personality_ok <<<"$in")"
[ -n "$shmid" ] && check "the host's SysV segment $shmid is not listed (ipcs: $(kv ipc <<<"$in"))" \
        test -z "$(tr ' ' '\n' <<<"$(kv ipc <<<"$in")" | grep -x "$shmid")"
for ns in ipc uts cgroup; do
        check "a $ns namespace of its own" test "$(kv ns_$ns <<<"$in")" != "$(host_ns $ns)"
done
check_eq "the host's network namespace (the default)" "$(host_ns net)" "$(kv ns_net <<<"$in")"

# the host afterwards
sleep 0.3
check "the host's sleep is alive" kill -0 "$hostsleep"
check "the daemon is alive" kill -0 "$CURATEFS_PID"
check "  and serves: a new container reads its limit" sh -c \
        "'$CURATE' run --mountpoint '$MNT' --memory 32M -- awk '/^MemTotal:/ { print \$2 }' /proc/meminfo | grep -qx 32768"
check_eq "no process of the container is left (the setsid escapee included)" "" "$(pgrep -f "^$marker" | tr '\n' ' ')"
check_eq "its cgroups are gone" "" "$(run_cgroups "$run_pid")"
check_eq "the host's THP setting is unchanged" "$host_thp" "$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)"
[ -n "$blk" ] && check_eq "the host's read_ahead_kb is unchanged" "$host_ra" "$(cat "/sys/block/$blk/queue/read_ahead_kb")"
check_eq "no registration was planted" "$reg_before" "$(ls -A "$regdir" 2>/dev/null | grep -v "^run-$peer_curate\$" | sort | tr '\n' ' ')"
check "no policy was planted" test ! -e /etc/curate/evil.conf
check "no CDI spec was planted" test ! -e /etc/cdi/evil.json
check "no node was made" test ! -e /tmp/node
check "the peer is still running" kill -0 "$peer"
check_mounts_same "the host mount table is unchanged" "$before"
kill "$peer_curate" 2>/dev/null; CR_PID=$peer_curate CR_OUTF=$peer_out CR_ERRF=$peer_err cr_wait 10
check_eq "the peer container ends on SIGTERM (143)" 143 "$RC"
[ -n "$shmid" ] && ipcrm -m "$shmid"

# --- opt-outs: each restores what it names and nothing more -----------------------------
cat > "$T/ns.sh" <<'EOF'
export LC_ALL=C
echo "pid=$$"
for ns in ipc uts cgroup net; do echo "ns_$ns=$(readlink /proc/self/ns/$ns)"; done
echo "cgroup=$(tr '\n' ' ' < /proc/self/cgroup)"
echo "seccomp=$(awk '/^Seccomp:/ { print $2 }' /proc/self/status)"
echo "sys=$(findmnt -no OPTIONS /sys | tail -n 1 | cut -d, -f1)"
echo "hostname=$(hostname)"
echo "ifaces=$(ls /sys/class/net | tr '\n' ' ')"
echo "lo=$(cat /sys/class/net/lo/operstate 2>/dev/null)"
(echo x > /var/tmp/curate-escape-ro) 2>/dev/null; echo "write_root=$?"; rm -f /var/tmp/curate-escape-ro
(echo x > /tmp/x) 2>/dev/null; echo "write_tmp=$?"
EOF
optout() { # optout NAME ARGS...: run ns.sh with ARGS; OUT holds its lines
        cr run --mountpoint "$MNT" "${@:2}" -- bash "$T/ns.sh"
        check_eq "$1 runs ($ERR)" 0 "$RC"
}
optout "the default"
def=$OUT
sleep 300 & hs=$!; OUR_PIDS+=("$hs")
cr run --mountpoint "$MNT" --share pid -- kill -0 "$hs"
check_eq "--share pid: a host process can be signalled (what it gives up)" 0 "$RC"
kill "$hs" 2>/dev/null
optout "--share pid" --share pid
check "--share pid: a host pid ($(kv pid <<<"$OUT"))" test "$(kv pid <<<"$OUT")" -gt 2
for ns in ipc uts cgroup; do
        check "--share pid: the $ns namespace stays its own" test "$(kv ns_$ns <<<"$OUT")" != "$(host_ns $ns)"
done
check_eq "--share pid: seccomp stays on" 2 "$(kv seccomp <<<"$OUT")"
check_eq "--share pid: /sys stays read-only" ro "$(kv sys <<<"$OUT")"
for ns in ipc uts cgroup; do
        optout "--share $ns" --share $ns
        check_eq "--share $ns: the host's $ns namespace" "$(host_ns $ns)" "$(kv ns_$ns <<<"$OUT")"
        for o in ipc uts cgroup; do
                [ $o = $ns ] || check "--share $ns: the $o namespace stays its own" test "$(kv ns_$o <<<"$OUT")" != "$(host_ns $o)"
        done
        check_eq "--share $ns: still pid 2" 2 "$(kv pid <<<"$OUT")"
        check_eq "--share $ns: seccomp stays on" 2 "$(kv seccomp <<<"$OUT")"
done
optout "--share cgroup (cgroup path)" --share cgroup
check "--share cgroup: /proc/self/cgroup shows the host path ($(kv cgroup <<<"$OUT"))" grep -q "/curate/run-$CR_PID" <<<"$(kv cgroup <<<"$OUT")"
check_eq "--share cgroup: /sys stays read-only" ro "$(kv sys <<<"$OUT")"
optout "--seccomp unconfined" --seccomp unconfined
check_eq "--seccomp unconfined: no filter (Seccomp: 0)" 0 "$(kv seccomp <<<"$OUT")"
check_eq "--seccomp unconfined: still pid 2" 2 "$(kv pid <<<"$OUT")"
check_eq "--seccomp unconfined: /sys stays read-only" ro "$(kv sys <<<"$OUT")"
cr run --mountpoint "$MNT" --seccomp unconfined -- "$PROBE" keyctl
check "--seccomp unconfined: keyctl is not refused by a filter ($OUT)" test "$OUT" != keyctl=EPERM
cr run --mountpoint "$MNT" --allow-userns -- "$PROBE" unshare_user keyctl
check_eq "--allow-userns: unshare(CLONE_NEWUSER) works" unshare_user=0 "$(head -n 1 <<<"$OUT")"
check_eq "--allow-userns: keyctl stays refused" keyctl=EPERM "$(tail -n 1 <<<"$OUT")"
cr run --mountpoint "$MNT" --allow-userns -- unshare -Urm sh -c \
        'mount -o remount,rw /sys 2>/dev/null; echo "sys=$?"; umount /proc/meminfo 2>/dev/null; echo "umount=$?"; echo "memtotal=$(awk "/^MemTotal:/ { print \$2 }" /proc/meminfo)"'
check "--allow-userns: in a new user namespace, remounting /sys rw still fails (locked)" test "$(kv sys <<<"$OUT")" != 0
check "--allow-userns: and unmounting a view still fails (locked)" test "$(kv umount <<<"$OUT")" != 0
optout "--net none" --net none
check "--net none: a network namespace of its own" test "$(kv ns_net <<<"$OUT")" != "$(host_ns net)"
check_eq "--net none: only lo" "lo" "$(kv ifaces <<<"$OUT" | sed 's/ $//')"
check "--net none: lo is up ($(kv lo <<<"$OUT"))" grep -qE 'unknown|up' <<<"$(kv lo <<<"$OUT")"
host_name=$(hostname)
optout "--hostname" --hostname curate-test-host
check_eq "--hostname: the name inside" curate-test-host "$(kv hostname <<<"$OUT")"
check_eq "--hostname: the host's name is unchanged" "$host_name" "$(hostname)"
cr run --mountpoint "$MNT" --share uts --hostname x -- true
check_eq "--hostname with --share uts -> 125" 125 "$RC"
check "  naming both ($ERR)" grep -q -- "--hostname.*--share uts" <<<"$ERR"
optout "--read-only" --read-only
check "--read-only: writing the root fails" test "$(kv write_root <<<"$OUT")" != 0
check_eq "--read-only: /tmp stays writable" 0 "$(kv write_tmp <<<"$OUT")"
check_eq "--read-only: still pid 2" 2 "$(kv pid <<<"$OUT")"
check_eq "the default: the root is writable" 0 "$(kv write_root <<<"$def")"
optout "--policy hardened-service" --policy hardened-service
check "hardened-service: the root is read-only" test "$(kv write_root <<<"$OUT")" != 0
check_eq "hardened-service: /tmp is writable" 0 "$(kv write_tmp <<<"$OUT")"
mkdir -p "$T/rw"
cr run --mountpoint "$MNT" --read-only --bind "$T/rw" "$T/rw" -- sh -c "echo x > '$T/rw/f' && ! touch '$T/g' 2>/dev/null"
check_eq "--read-only: a --bind stays writable, the rest not ($ERR)" 0 "$RC"
check "  the file written through the bind is on the host" test -f "$T/rw/f"
check "  and nothing else was written" test ! -e "$T/g"
# --delegate: its cgroup writable, the limits above it out of reach
cat > "$T/delegate.sh" <<'EOF2'
marker=$1
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then m=/sys/fs/cgroup lim=memory.max
else m=/sys/fs/cgroup/memory lim=memory.limit_in_bytes; fi
echo 1073741824 > $m/$lim 2>/dev/null; echo "raise_own=$?"
mkdir $m/sub 2>/dev/null; echo "mkdir=$?"
# v2: controllers are enabled for children only in a cgroup without
# processes: move them all (curate's init too) to a leaf first
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
        mkdir $m/leaf
        for p in $(cat $m/cgroup.procs); do echo $p > $m/leaf/cgroup.procs 2>/dev/null; done
        echo "+memory" > /sys/fs/cgroup/cgroup.subtree_control
fi
echo 33554432 > $m/sub/$lim 2>/dev/null; echo "limit_sub=$?"
sh -c "echo \$\$ > $m/sub/cgroup.procs && awk '/^MemTotal:/ { print \"sub_memtotal=\" \$2 }' /proc/meminfo"
setsid sh -c "echo \$\$ > $m/sub/cgroup.procs; exec -a $marker-deleg sleep 300" </dev/null >/dev/null 2>&1 &
echo "memtotal=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
echo "cgroup=$(head -n 1 /proc/self/cgroup)"
EOF2
cr_bg run --mountpoint "$MNT" --memory 64M --delegate -- sh -c "sh '$T/delegate.sh' '$marker'; touch '$T/deleg-up'; sleep 300"
if wait_file "$T/deleg-up"; then
        lim=$(cat "$(cg_file "$CR_PID" memory memory.limit_in_bytes)" "$(cg_file "$CR_PID" memory memory.max)" 2>/dev/null)
        check_eq "--delegate: the limit on the transient cgroup is untouched (host view)" 67108864 "$lim"
        check "--delegate: the command runs in its delegated child" test -d "$(dirname "$(cg_file "$CR_PID" memory x)")/container"
fi
kill "$CR_PID"; cr_wait 10
check_eq "--delegate: the run ends on SIGTERM (143; $ERR)" 143 "$RC"
check_eq "--delegate: writing its own limit works (its cgroup is delegated)" 0 "$(kv raise_own <<<"$OUT")"
check_eq "--delegate: but meminfo still shows the 64M limit above it" 65536 "$(kv memtotal <<<"$OUT")"
check_eq "--delegate: it can make a child cgroup" 0 "$(kv mkdir <<<"$OUT")"
check_eq "--delegate: and limit it" 0 "$(kv limit_sub <<<"$OUT")"
check_eq "--delegate: a process moved there sees the child's 32M" 32768 "$(kv sub_memtotal <<<"$OUT")"
# its path inside its cgroup namespace: "/" (v1), "/leaf" where it moved
# its processes (v2): never the host's curate/run-PID
dcg=$(kv cgroup <<<"$OUT" | awk -F: '{ print $3 }')
check "--delegate: its cgroup namespace's root is its own cgroup ($dcg)" test "$dcg" = / -o "$dcg" = /leaf
check_eq "--delegate: nothing is left running (the process in its child cgroup included)" "" "$(pgrep -f "^$marker-deleg" | tr '\n' ' ')"
check_eq "--delegate: its cgroups, children included, are gone" "" "$(run_cgroups "$CR_PID")"
cr run --mountpoint "$MNT" --delegate --cgroup / -- true
check_eq "--delegate with --cgroup -> 125" 125 "$RC"
check "  naming --delegate ($ERR)" grep -q -- "--delegate" <<<"$ERR"
cr run --mountpoint "$MNT" --share bogus -- true
check_eq "--share bogus -> 125" 125 "$RC"
check "  naming it ($ERR)" grep -q -- "--share.*bogus" <<<"$ERR"
check_mounts_same "the host mount table is unchanged at the end" "$before"

finish
