#!/bin/bash
# `curate device add|remove` on a container podman started (issue 11 item
# 7): rootful podman 4.3 with runc runs a busybox image made here (`podman
# import`) with a sleep loop and CAP_MKNOD (so the container can try to make
# the node itself: what then stops it is the device cgroup alone).
# /dev/fuse (10:229) is a device the host has and podman does not give: it
# is absent and cannot be had, appears with the host node's mode and owner
# and opens after an add (by id prefix), and after a remove (by pid:PID) the
# node is gone and a node the container makes cannot be opened. --gpu 0
# from the fake NVIDIA tree gives exactly the nodes curate's discovery names;
# /dev/net/tun comes with the /dev/net the container lacked. Refused,
# changing nothing: a device the host lacks, an add of a node the container
# has, an unknown id, an ambiguous prefix, a host pid, a v2 state, and an
# add whose cgroup write fails (its node, and a directory made for it, are
# taken away again). Podman's
# storage is private to the test and removed with it.
. "$(dirname "$0")/lib.sh"
require_curate
require_podman
[ -c /dev/fuse ] || skip "the host has no /dev/fuse"

run_tmpdir
podman_private hotplug
CHILD=
child_cleanup() { # the child cgroup a test below makes in the container's
        [ -n "$CHILD" ] || return 0
        while read -r p; do echo "$p" >"$DEVCG/cgroup.procs"; done <"$CHILD/cgroup.procs" 2>/dev/null
        rmdir "$CHILD" 2>/dev/null
}
trap 'child_cleanup; podman_cleanup; cleanup' EXIT

R=$T/rootfs
busybox_rootfs "$R"
podman_import "$R"
ID=$("${PODMAN[@]}" run -d --network none --cap-add MKNOD --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
        "$IMAGE" sh -c 'while :; do sleep 1; done' 2>"$T/run.err") ||
        skip "rootful podman with runc cannot run a container here: $(tail -1 "$T/run.err")"
PID=$("${PODMAN[@]}" inspect --format '{{.State.Pid}}' "$ID")
DEVCG=/sys/fs/cgroup/devices$(awk -F: '$2 == "devices" { print $3 }' "/proc/$PID/cgroup")
[ -f "$DEVCG/devices.list" ] || skip "the container has no v1 devices cgroup (cgroup v2 is not supported)"
pexec() { OUT=$("${PODMAN[@]}" exec "$ID" sh -c "$1" 2>&1); RC=$?; }
dev() { OUT=$("$CURATE" device "$@" 2>&1); RC=$?; }
listed() { grep -qx "c 10:229 rwm" "$DEVCG/devices.list"; }
HOST_LS=$(stat -c '%a %u %g %t:%T' /dev/fuse)

# ---- before: no node, and one the container makes cannot be opened
pexec 'exec 3</dev/fuse'
check "before: opening /dev/fuse fails" test "$RC" != 0
pexec 'mknod /tmp/f c 10 229 && exec 3</tmp/f'
check "before: a node made inside cannot be opened (the cgroup denies)" test "$RC" != 0
check "before: 10:229 not in devices.list" bash -c "! grep -qx 'c 10:229 rwm' '$DEVCG/devices.list'"

# ---- add by a 12-character prefix
dev add "${ID:0:12}" /dev/fuse
check_eq "add: exit 0 ($OUT)" 0 "$RC"
check "add: reports the node and the full id" grep -q "^added /dev/fuse (c 10:229 rwm) to $ID" <<<"$OUT"
pexec 'exec 3</dev/fuse && echo opened'
check_eq "add: /dev/fuse opens inside ($OUT)" opened "$OUT"
pexec 'stat -c "%a %u %g %t:%T" /dev/fuse'
check_eq "add: mode, owner and numbers are the host node's" "$HOST_LS" "$OUT"
check "add: 10:229 in devices.list" listed

# ---- refusals, nothing changed
dev add "${ID:0:12}" /dev/fuse
check_eq "add again: exit 1" 1 "$RC"
check "add again: says it has it" grep -q "already has /dev/fuse" <<<"$OUT"
dev add "$ID" /dev/curate-no-such-device
check_eq "a device the host lacks: exit 1" 1 "$RC"
pexec 'ls /dev/curate-no-such-device'
check "a device the host lacks: no node" test "$RC" != 0
dev add 0123456789abcdef0123 /dev/fuse
check_eq "unknown id: exit 1" 1 "$RC"
check "unknown id: says so" grep -q "no running container 0123456789abcdef0123" <<<"$OUT"
dev add pid:$$ /dev/fuse
check_eq "a host pid: exit 1" 1 "$RC"
check "a host pid: says so" grep -q "not in a container" <<<"$OUT"
# a runc root of our own: an ambiguous prefix, a cgroup v2 state
FAKE=$T/runc-root
mkdir -p "$FAKE/abcdef0123456789a" "$FAKE/abcdef0123456789b" "$FAKE/fedcba9876543210"
echo '{"init_process_pid": '"$PID"', "cgroup_paths": {"": "/sys/fs/cgroup/x"}}' >"$FAKE/fedcba9876543210/state.json"
OUT=$(CURATE_RUNC_ROOT=$FAKE "$CURATE" device add abcdef012345 /dev/fuse 2>&1); RC=$?
check_eq "ambiguous prefix: exit 1" 1 "$RC"
check "ambiguous prefix: says so" grep -q "is ambiguous" <<<"$OUT"
OUT=$(CURATE_RUNC_ROOT=$FAKE "$CURATE" device add fedcba9876543210 /dev/fuse 2>&1); RC=$?
check_eq "cgroup v2 state: exit 1" 1 "$RC"
check "cgroup v2 state: says so" grep -q "cgroup v2" <<<"$OUT"

# ---- remove by pid:PID: node gone, the cgroup denies one made inside
dev remove "pid:$PID" /dev/fuse
check_eq "remove: exit 0 ($OUT)" 0 "$RC"
pexec 'ls /dev/fuse'
check "remove: node gone" test "$RC" != 0
pexec 'mknod /tmp/g c 10 229 && echo made; (exec 3</tmp/g) 2>/dev/null && echo opened'
check_eq "remove: a node made inside is made but cannot be opened" made "$OUT"
check "remove: 10:229 out of devices.list" bash -c "! grep -qx 'c 10:229 rwm' '$DEVCG/devices.list'"
dev remove "pid:$PID" /dev/fuse
check_eq "remove again: exit 1" 1 "$RC"
check "remove again: says it has none" grep -q "has no device node /dev/fuse" <<<"$OUT"

# ---- GPUs from the fake NVIDIA host of tests/fixtures/gpu/two (index 0 is
# Device Minor 1), its nodes made here: the nodes curate's discovery names
HR=$T/hr
fake_nvidia_host "$HR"
OUT=$(CURATE_HOST_ROOT=$HR "$CURATE" device add "$ID" --gpu 0 2>&1); RC=$?
check_eq "--gpu 0: exit 0 ($OUT)" 0 "$RC"
pexec 'for n in /dev/nvidia*; do stat -c "%n %t:%T" $n; done'
check_eq "--gpu 0: the nodes discovery names, and only those" \
        "/dev/nvidia-modeset c3:fe /dev/nvidia-uvm 1fe:0 /dev/nvidia-uvm-tools 1fe:1 /dev/nvidia1 c3:1 /dev/nvidiactl c3:ff" \
        "$(echo $OUT)"
check "--gpu 0: 195:1 in devices.list" grep -qx "c 195:1 rwm" "$DEVCG/devices.list"
OUT=$(CURATE_HOST_ROOT=$HR "$CURATE" device remove "$ID" --gpu 0 2>&1); RC=$?
check_eq "remove --gpu 0: exit 0 ($OUT)" 0 "$RC"
pexec 'ls /dev/nvidia*'
check "remove --gpu 0: the nodes are gone" test "$RC" != 0
check "remove --gpu 0: 195:1 out of devices.list" bash -c "! grep -qx 'c 195:1 rwm' '$DEVCG/devices.list'"

# ---- a node whose directory the container's /dev lacks: made with it
if [ -c /dev/net/tun ]; then
        pexec 'test -e /dev/net'
        check "before: the container has no /dev/net" test "$RC" != 0
        dev add "$ID" /dev/net/tun
        check_eq "/dev/net/tun: exit 0 ($OUT)" 0 "$RC"
        pexec 'stat -c "%t:%T" /dev/net/tun'
        check_eq "/dev/net/tun: made, with /dev/net" a:c8 "$OUT"
        dev remove "$ID" /dev/net/tun
        check_eq "/dev/net/tun: removed" 0 "$RC"
        "${PODMAN[@]}" exec "$ID" rmdir /dev/net
fi

# ---- all or nothing: a cgroup below the container's cannot allow what
# its parent denies, so the write fails after the mknod: the node goes
# (the container's init moved into it meanwhile: curate checks that the
# pid a state names is in that cgroup)
CHILD=$DEVCG/curate-hotplug-test-$$
mkdir "$CHILD"
mkdir -p "$FAKE/0a0b0c0d0e0f2222"
echo '{"init_process_pid": '"$PID"', "cgroup_paths": {"devices": "'"$CHILD"'"}}' >"$FAKE/0a0b0c0d0e0f2222/state.json"
OUT=$(CURATE_RUNC_ROOT=$FAKE "$CURATE" device add 0a0b0c0d0e0f2222 /dev/fuse 2>&1); RC=$?
check_eq "a state whose pid is not in its cgroup: exit 1" 1 "$RC"
check "a state whose pid is not in its cgroup: says so" grep -q "is not in its cgroup" <<<"$OUT"
echo "$PID" >"$CHILD/cgroup.procs"
mkdir -p "$FAKE/0a0b0c0d0e0f1111"
echo '{"init_process_pid": '"$PID"', "cgroup_paths": {"devices": "'"$CHILD"'"}}' >"$FAKE/0a0b0c0d0e0f1111/state.json"
OUT=$(CURATE_RUNC_ROOT=$FAKE "$CURATE" device add 0a0b0c0d0e0f1111 /dev/fuse 2>&1); RC=$?
check_eq "cgroup write fails: exit 1" 1 "$RC"
check "cgroup write fails: names devices.allow" grep -q "devices.allow" <<<"$OUT"
pexec 'ls /dev/fuse'
check "cgroup write fails: no node left inside" test "$RC" != 0
OUT=$(CURATE_RUNC_ROOT=$FAKE "$CURATE" device add 0a0b0c0d0e0f1111 /dev/net/tun 2>&1); RC=$?
check_eq "cgroup write fails for /dev/net/tun: exit 1" 1 "$RC"
pexec 'test -e /dev/net'
check "cgroup write fails: the directory made for it is gone too" test "$RC" != 0
echo "$PID" >"$DEVCG/cgroup.procs"
rmdir "$CHILD" && CHILD=

finish
