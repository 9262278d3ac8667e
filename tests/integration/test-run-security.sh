#!/bin/bash
# curate run: what the command cannot do (unmount the views, remount, mknod,
# reach host disks or hidden /proc files), its capability bounding set,
# no_new_privs and the file descriptors it inherits.
. "$(dirname "$0")/lib.sh"
require_curate
export LC_ALL=C

mount_curatefs || { not_ok "mount curatefs"; finish; }
run_tmpdir
rootdev=$(findmnt -no SOURCE / | head -n 1)
case $rootdev in /dev/*) ;; *) rootdev=/dev/fuse ;; esac   # a host device either way
before=$(mount_table)

cat > "$T/inside.sh" <<'EOF'
rootdev=$1
export LC_ALL=C
umount /proc/meminfo 2>/dev/null; echo "umount=$?"
echo "meminfo_after=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
mount -o remount,rw / 2>/dev/null; echo "remount_root=$?"
mount -o remount,rw /proc/sys 2>/dev/null; echo "remount_procsys=$?"
mount -t tmpfs curate-x /mnt 2>/dev/null; echo "mount_new=$?"
for p in bus fs irq sys sysrq-trigger; do
        [ -e /proc/$p ] && echo "ro_$p=$(findmnt -no OPTIONS /proc/$p | tail -n 1 | cut -d, -f1)"
done
mknod /tmp/x c 1 3 2>/dev/null; echo "mknod=$?"
if [ -e /proc/kcore ]; then echo "kcore=$(head -c 64 /proc/kcore 2>/dev/null | wc -c)"; else echo "kcore=absent"; fi
(exec 3>>/proc/sys/vm/drop_caches) 2>/dev/null; echo "drop_caches=$?"
(exec 3>>/proc/sysrq-trigger) 2>/dev/null; echo "sysrq=$?"
echo "rootdev_exists=$([ -e "$rootdev" ] && echo yes || echo no)"
(exec 3<"$rootdev") 2>/dev/null; echo "rootdev_open=$?"
echo "firmware=$(ls -A /sys/firmware 2>/dev/null | tr '\n' ' ')"
touch /sys/firmware/x 2>/dev/null; echo "firmware_write=$?"
for m in acpi asound keys latency_stats timer_list timer_stats sched_debug scsi interrupts; do
        if [ -d /proc/$m ]; then echo "mask_$m=$(ls -A /proc/$m | wc -l)"
        elif [ -e /proc/$m ]; then echo "mask_$m=$(head -c 100 /proc/$m 2>/dev/null | wc -c)"
        else echo "mask_$m=absent"; fi
done
echo "capbnd=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)"
echo "capeff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)"
echo "nnp=$(awk '/^NoNewPrivs:/ { print $2 }' /proc/self/status)"
echo "p1root=$(ls -A /proc/1/root/dev/ 2>/dev/null | sort | tr '\n' ' ')"
(exec 3<"/proc/1/root$rootdev") 2>/dev/null; echo "p1root_open=$?"
EOF

cr run --mountpoint "$MNT" --memory 256M -- bash "$T/inside.sh" "$rootdev"
check_eq "run exits 0 ($ERR)" 0 "$RC"
in=$OUT
check "umount /proc/meminfo fails" test "$(kv umount <<<"$in")" != 0
check_eq "  and meminfo still shows the limit" 262144 "$(kv meminfo_after <<<"$in")"
check "mount -o remount,rw / fails" test "$(kv remount_root <<<"$in")" != 0
check "mount -o remount,rw /proc/sys fails" test "$(kv remount_procsys <<<"$in")" != 0
check "mounting a new tmpfs fails" test "$(kv mount_new <<<"$in")" != 0
for p in bus fs irq sys sysrq-trigger; do
        [ -e /proc/$p ] && check_eq "/proc/$p is mounted read-only" ro "$(kv ro_$p <<<"$in")"
done
check "mknod /tmp/x c 1 3 fails" test "$(kv mknod <<<"$in")" != 0
kc=$(kv kcore <<<"$in")
if [ -e /proc/kcore ]; then check_eq "/proc/kcore reads empty" 0 "$kc"
else check_eq "/proc/kcore: absent on the host, absent inside" absent "$kc"; fi
check "opening /proc/sys/vm/drop_caches for writing fails" test "$(kv drop_caches <<<"$in")" != 0
check "opening /proc/sysrq-trigger for writing fails" test "$(kv sysrq <<<"$in")" != 0
check_eq "the host's disk $rootdev does not exist inside" no "$(kv rootdev_exists <<<"$in")"
check "  and cannot be opened" test "$(kv rootdev_open <<<"$in")" != 0
check_eq "/sys/firmware lists empty" "" "$(kv firmware <<<"$in" | sed 's/ $//')"
check "/sys/firmware is read-only" test "$(kv firmware_write <<<"$in")" != 0
for m in acpi asound keys latency_stats timer_list timer_stats sched_debug scsi interrupts; do
        [ -e /proc/$m ] || continue
        check_eq "/proc/$m is masked (empty)" 0 "$(kv mask_$m <<<"$in")"
done
check_eq "CapBnd is the default set" "$CAPS_DEFAULT" "$(kv capbnd <<<"$in")"
check_eq "CapEff (root) is the default set" "$CAPS_DEFAULT" "$(kv capeff <<<"$in")"
check_eq "NoNewPrivs: 1" 1 "$(kv nnp <<<"$in")"
check_eq "pid 1 is curate's init: /proc/1/root/dev is the curated /dev" "$DEV_CURATED" "$(kv p1root <<<"$in" | sed 's/ $//')"
check "/proc/1/root$rootdev cannot be opened" test "$(kv p1root_open <<<"$in")" != 0
check_mounts_same "host mount table unchanged" "$before"

# --- file descriptors ----------------------------------------------------------------
# No pipeline in the probing shell (it would hold the pipe's fds itself), and
# not ls alone: a shell may exec its last command in place of itself.
fdprobe='ls /proc/$$/fd; exit 0'
ctl=$(sh -c "$fdprobe" 3</dev/null 9</dev/null | sort -n | tr '\n' ' ')
check "control: without curate, fds 3 and 9 reach the shell ($ctl)" grep -q '^0 1 2 3 .*9' <<<"$ctl"
cr run --mountpoint "$MNT" -- sh -c "$fdprobe" 3</dev/null 9</dev/null
check_eq "inside, only fds 0 1 2 are open" "0 1 2" "$(sort -n <<<"$OUT" | tr '\n' ' ' | sed 's/ $//')"

# --- --cap-add / --cap-drop ---------------------------------------------------------------
caps() { cr run --mountpoint "$MNT" "$@" -- awk '/^CapBnd:/ { print $2 }' /proc/self/status; }
caps --cap-add NET_RAW;       check_eq "--cap-add NET_RAW ($ERR)" 00000000800425fb "$OUT"
caps --cap-add net_raw;       check_eq "--cap-add net_raw ($ERR)" 00000000800425fb "$OUT"
caps --cap-add CAP_NET_RAW;   check_eq "--cap-add CAP_NET_RAW ($ERR)" 00000000800425fb "$OUT"
caps --cap-drop CHOWN;        check_eq "--cap-drop CHOWN ($ERR)" 00000000800405fa "$OUT"
caps --cap-add NET_RAW --cap-drop chown; check_eq "--cap-add NET_RAW --cap-drop chown ($ERR)" 00000000800425fa "$OUT"
caps --cap-drop ALL;          check_eq "--cap-drop ALL ($ERR)" 0000000000000000 "$OUT"
caps --cap-drop ALL --cap-add KILL; check_eq "--cap-drop ALL --cap-add KILL ($ERR)" 0000000000000020 "$OUT"
caps --cap-add ALL
host_bnd=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
check_eq "--cap-add ALL: everything the host's bounding set has ($ERR)" "$host_bnd" "$OUT"
caps --cap-add NOT_A_CAP
check_eq "--cap-add NOT_A_CAP: exit 125" 125 "$RC"
check "  with a message naming it ($ERR)" grep -qi 'not_a_cap' <<<"$ERR"

# --- the device cgroup -----------------------------------------------------------------------
# Whatever node the command reaches, the kernel lets it open only the curated
# set: the host's /dev kept with --host-dev, or a node made with mknod outside
# and passed in (here /dev/kmsg's numbers, c 1:11, and a copy of null, c 1:3).
mknod "$T/kmsg-node" c 1 11 && mknod "$T/null-node" c 1 3
cat > "$T/devices.sh" <<'EOF'
rootdev=$1 dir=$2
(exec 3<"$rootdev") 2>"$dir/err-root"; echo "open_rootdev=$?"
echo "err_rootdev=$(cat "$dir/err-root")"
(exec 3<"$dir/kmsg-node") 2>"$dir/err-kmsg"; echo "open_passed_in=$?"
echo "err_passed_in=$(cat "$dir/err-kmsg")"
(echo x >"$dir/null-node") 2>/dev/null; echo "write_null_copy=$?"
(echo x >/dev/null) 2>/dev/null; echo "write_null=$?"
echo "zero=$(head -c 4 /dev/zero | od -An -tx1 | tr -d ' ')"
d=$(awk -F: '$2 == "devices" { print $3 }' /proc/self/cgroup)
if [ -n "$d" ]; then echo "devlist=$(tr '\n' ' ' < /sys/fs/cgroup/devices$d/devices.list)"; fi
EOF
cr run --mountpoint "$MNT" --host-dev --share-tmp -- sh "$T/devices.sh" "$rootdev" "$T"
check_eq "device cgroup: runs ($ERR)" 0 "$RC"
check "the host's disk $rootdev, visible with --host-dev, cannot be opened" test "$(kv open_rootdev <<<"$OUT")" != 0
check "  refused by the device cgroup (EPERM: $(kv err_rootdev <<<"$OUT"))" grep -q 'Operation not permitted' <<<"$(kv err_rootdev <<<"$OUT")"
check "a node made outside with mknod and passed in cannot be opened" test "$(kv open_passed_in <<<"$OUT")" != 0
check "  refused by the device cgroup (EPERM: $(kv err_passed_in <<<"$OUT"))" grep -q 'Operation not permitted' <<<"$(kv err_passed_in <<<"$OUT")"
check_eq "a passed-in node of an allowed device (null) works" 0 "$(kv write_null_copy <<<"$OUT")"
check_eq "/dev/null works" 0 "$(kv write_null <<<"$OUT")"
check_eq "/dev/zero works" 00000000 "$(kv zero <<<"$OUT")"
if ! cg_is_v2 && [ -d /sys/fs/cgroup/devices ]; then
        check_eq "v1 devices.list is exactly the curated set" \
                "c 1:3 rwm c 1:5 rwm c 1:7 rwm c 1:8 rwm c 1:9 rwm c 5:0 rwm c 5:2 rwm c 136:* rwm" \
                "$(kv devlist <<<"$OUT" | sed 's/ $//')"
fi
# the same node outside curate opens: the refusal is the container's
check "control: outside curate the passed-in node opens" sh -c "exec 3<'$T/kmsg-node'"

finish
