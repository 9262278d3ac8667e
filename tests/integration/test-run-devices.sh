#!/bin/bash
# curate run --device / --gpu (issue 4): the container's /dev is the curated
# set plus exactly the nodes asked for, served by curatefs from the
# launcher's registration, and the device cgroup allows exactly those. Runs
# on a fake host root (CURATE_HOST_ROOT) with real nodes made by mknod whose
# majors have no driver here: an allowed open fails with ENXIO/ENODEV (the
# cgroup let it through), a refused one with EPERM.
. "$(dirname "$0")/lib.sh"
require_curate
export LC_ALL=C

run_tmpdir
export CURATE_DEVICES_DIR=$T/registrations
mkdir -p "$CURATE_DEVICES_DIR"
mount_curatefs || { not_ok "mount curatefs"; finish; }

# the fake host: tests/fixtures/gpu/two (GPU index 0 is 0000:1a:00.0 with
# Device Minor 1; index 1 is 0000:3b:00.0 with Device Minor 0) plus nodes
HR=$T/host
fake_nvidia_host "$HR"
touch "$HR/dev/notadevice"
mkdir -p "$HR/etc/cdi" "$T/pass"
cat > "$HR/etc/cdi/example.json" <<'EOS'
{"cdiVersion": "0.6.0", "kind": "example.com/gpu",
 "containerEdits": {"deviceNodes": [{"path": "/dev/nvidiactl"}]},
 "devices": [
  {"name": "one", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia1"}], "env": ["CDI_ONE=yes"]}},
  {"name": "mnt", "containerEdits": {"mounts": [{"hostPath": "/share", "containerPath": "@T@/mnt", "options": ["ro", "nosuid", "nodev", "bind"]}],
                                     "additionalGIDs": [4242], "env": ["CDI_MNT=yes"],
                                     "hooks": [{"hookName": "createContainer", "path": "/usr/bin/nvidia-cdi-hook", "args": ["nvidia-cdi-hook", "update-ldcache"]}]}},
  {"name": "nomnt", "containerEdits": {"mounts": [{"hostPath": "/share", "containerPath": "/curate-no-such-dir"}]}},
  {"name": "tmp", "containerEdits": {"mounts": [{"hostPath": "tmpfs", "containerPath": "@T@/mnt", "type": "tmpfs", "options": ["nosuid", "size=1m", "mode=0750"]}]}}
 ]}
EOS
# a spec with a bind mount option a bind cannot take is refused when it
# loads (its own file: the whole spec is skipped)
cat > "$HR/etc/cdi/badopt.json" <<'EOS'
{"cdiVersion": "0.6.0", "kind": "example.com/badopt",
 "devices": [{"name": "x", "containerEdits": {"mounts": [{"hostPath": "/share", "containerPath": "/mnt", "options": ["bind", "size=1m"]}]}}]}
EOS
sed -i "s|@T@|$T|g" "$HR/etc/cdi/example.json"
mkdir -p "$HR/share" "$T/mnt"
echo from-the-host-root > "$HR/share/lib.txt"
mknod -m 666 "$T/pass/nvidia1" c 195 1 # the other container's node, made outside

# open PATH inside: the error text (or "opened")
cat > "$T/open.sh" <<'EOS'
for f in "$@"; do
        if (exec 3<"$f") 2>/dev/null; then echo "$f=opened"
        else echo "$f=$( (exec 3<"$f") 2>&1 | sed 's/.*: //')"; fi
done
EOS
chmod 755 "$T/open.sh"

cd_run() { CURATE_HOST_ROOT=$HR cr run --mountpoint "$MNT" "$@"; }
regs() { ls -A "$CURATE_DEVICES_DIR" | tr '\n' ' '; }

cr run --mountpoint "$MNT" -- ls -A /dev
check_eq "plain run: exit 0" 0 "$RC"
curated=$(echo "$OUT" | sort | tr '\n' ' ')

# --device /dev/nvidia0: the curated list + nvidia0
cd_run --device /dev/nvidia0 -- ls -A /dev
check_eq "--device /dev/nvidia0: exit 0 ($ERR)" 0 "$RC"
check_eq "--device /dev/nvidia0: /dev is the curated set + nvidia0" \
        "$(printf '%s\n' $curated nvidia0 | sort | tr '\n' ' ')" "$(echo "$OUT" | sort | tr '\n' ' ')"
check_eq "registration removed after the run" "" "$(regs)"
check_eq "no cgroup left" "" "$(run_cgroups "$CR_PID")"

# $T is on the host root the command shares: the node made outside is reachable
cd_run --device /dev/nvidia0 -- "$T/open.sh" /dev/nvidia0 "$T/pass/nvidia1" /dev/null
check_eq "open ran ($ERR)" 0 "$RC"
v=$(echo "$OUT" | kv /dev/nvidia0)
case $v in
"No such device or address"|"No such device") ok "/dev/nvidia0: the device cgroup allows it ($v)" ;;
*) not_ok "/dev/nvidia0: want ENXIO/ENODEV, got '$v'" ;;
esac
check_eq "nvidia1 made outside and passed in: the device cgroup refuses it" "Operation not permitted" \
        "$(echo "$OUT" | kv "$T/pass/nvidia1")"
check_eq "/dev/null still opens" opened "$(echo "$OUT" | kv /dev/null)"

# --gpu 0: index 0 is Device Minor 1 in the fixture
cd_run --gpu 0 -- sh -c 'ls -A /dev; ls -ln /dev/nvidia1' 
check_eq "--gpu 0: exit 0 ($ERR)" 0 "$RC"
check "--gpu 0: /dev/nvidia1 (Device Minor 1)" grep -qx nvidia1 <<<"$OUT"
check "--gpu 0: not /dev/nvidia0" bash -c '! grep -qx nvidia0' <<<"$OUT"
check "--gpu 0: nvidiactl" grep -qx nvidiactl <<<"$OUT"
check "--gpu 0: node 195, 1" grep -Eq '^c.* 195, +1 .*nvidia1$' <<<"$OUT"

# /proc/driver/nvidia: only the container's GPUs, params with ModifyDeviceFiles: 0
nv() { cd_run "$@" -- sh -c 'echo "gpus=$(ls /proc/driver/nvidia/gpus | tr "\n" " ")"; grep ModifyDeviceFiles /proc/driver/nvidia/params; cat /proc/driver/nvidia/version | head -1; echo x > /proc/driver/nvidia/params 2>/dev/null && echo writable'; }
nv --gpu 0
check_eq "--gpu 0: /proc/driver/nvidia shows GPU 0's bus id only ($ERR)" "0000:1a:00.0 " "$(kv gpus <<<"$OUT")"
check "--gpu 0: params says ModifyDeviceFiles: 0" grep -qx "ModifyDeviceFiles: 0" <<<"$OUT"
check "--gpu 0: the host's version file" grep -q "^NVRM version" <<<"$OUT"
check "--gpu 0: the view is read-only" bash -c '! grep -qx writable' <<<"$OUT"
check "--gpu 0: the host's information files are there" cd_run --gpu 0 -- grep -q "Device Minor" /proc/driver/nvidia/gpus/0000:1a:00.0/information
nv --device /dev/nvidia0
check_eq "--device /dev/nvidia0: the view follows the node (minor 0 = 0000:3b:00.0)" "0000:3b:00.0 " "$(kv gpus <<<"$OUT")"
nv --gpu all
check_eq "--gpu all: both, in PCI order" "0000:1a:00.0 0000:3b:00.0 " "$(kv gpus <<<"$OUT")"
nv
check_eq "no GPU: the view lists none of the host's GPUs ($ERR)" "" "$(kv gpus <<<"$OUT" | tr -d ' ')"
check "no GPU: params still says ModifyDeviceFiles: 0" grep -qx "ModifyDeviceFiles: 0" <<<"$OUT"

# two containers at once, different GPUs, each sees only its own node
CURATE_HOST_ROOT=$HR cr_bg run --mountpoint "$MNT" --gpu 0 -- sh -c 'sleep 1; ls -A /dev; '"$T"'/open.sh /dev/nvidia1'
p1=$CR_PID o1=$CR_OUTF e1=$CR_ERRF
CURATE_HOST_ROOT=$HR cr_bg run --mountpoint "$MNT" --gpu 1 -- sh -c 'sleep 1; ls -A /dev; '"$T"'/open.sh /dev/nvidia0'
p2=$CR_PID
sleep 0.5
check_eq "registration of the --gpu 0 run" "nvidiactl c 195 255 0666 rwm
nvidia-uvm c 510 0 0666 rwm
nvidia-uvm-tools c 510 1 0666 rwm
nvidia-modeset c 195 254 0666 rwm
nvidia1 c 195 1 0666 rwm" "$(cat "$CURATE_DEVICES_DIR/run-$p1" 2>&1)"
check "two at once: two registrations" bash -c "[ \$(ls -A '$CURATE_DEVICES_DIR' | wc -l) = 2 ]"
cr_wait; r2=$RC out2=$OUT
CR_PID=$p1 CR_OUTF=$o1 CR_ERRF=$e1; cr_wait; r1=$RC out1=$OUT
check_eq "two at once: both exit 0" "0 0" "$r1 $r2"
check "gpu 0 container: nvidia1 only" bash -c "grep -qx nvidia1 <<<'$out1' && ! grep -qx nvidia0 <<<'$out1'"
check "gpu 1 container: nvidia0 only" bash -c "grep -qx nvidia0 <<<'$out2' && ! grep -qx nvidia1 <<<'$out2'"
check "gpu 0 container: its node passes the cgroup" bash -c "grep -q '^/dev/nvidia1=No such device' <<<'$out1'"
check "gpu 1 container: its node passes the cgroup" bash -c "grep -q '^/dev/nvidia0=No such device' <<<'$out2'"
check_eq "two at once: registrations removed" "" "$(regs)"
check_eq "two at once: no cgroups left" "" "$(run_cgroups "$p1")$(run_cgroups "$p2")"

# CDI: the spec's nodes (its own and the device's) and env
cd_run --device example.com/gpu=one -- sh -c 'ls -A /dev; echo "CDI_ONE=$CDI_ONE"'
check_eq "CDI example.com/gpu=one: exit 0 ($ERR)" 0 "$RC"
check "CDI: nvidia1 and nvidiactl" bash -c "grep -qx nvidia1 <<<'$OUT' && grep -qx nvidiactl <<<'$OUT' && ! grep -qx nvidia0 <<<'$OUT'"
check_eq "CDI: env applied" yes "$(echo "$OUT" | kv CDI_ONE)"

# CDI mounts (beneath the host root), additionalGIDs, and hooks reported as not run
cd_run --device example.com/gpu=mnt -- sh -c 'cat "$0/mnt/lib.txt"; echo x > "$0/mnt/new" 2>/dev/null && echo writable; id -G; echo "CDI_MNT=$CDI_MNT"; grep " ${0}/mnt " /proc/self/mountinfo' "$T"
check_eq "CDI mounts: exit 0 ($ERR)" 0 "$RC"
check "CDI mounts: the host root's /share is bound at the containerPath" grep -qx from-the-host-root <<<"$OUT"
check "CDI mounts: read-only as the options say" bash -c '! grep -qx writable' <<<"$OUT"
check "CDI mounts: nosuid,nodev" grep -Eq " ro,nosuid,nodev" <<<"$OUT"
check "CDI additionalGIDs: 4242 among the groups" grep -Eq '(^| )4242( |$)' <<<"$OUT"
check_eq "CDI mounts: env" yes "$(echo "$OUT" | kv CDI_MNT)"
check "CDI hooks: a warning names the hook not run" grep -q "not run.*nvidia-cdi-hook" <<<"$ERR"
check "CDI mounts: nothing reached the host" test ! -e "$T/mnt/lib.txt"
# a host root under the host's /tmp, which the container's private /tmp
# hides: CDI sources are host paths, opened before anything is mounted there
HT=$(mktemp -d /tmp/curate-cdi-src.XXXXXX); OUR_DIRS+=("$HT"); chmod 755 "$HT"
mkdir -p "$HT/etc/cdi" "$HT/share"
echo from-the-hosts-tmp > "$HT/share/lib.txt"
cat > "$HT/etc/cdi/tmpsrc.json" <<EOS
{"cdiVersion": "0.6.0", "kind": "example.com/tmpsrc",
 "devices": [{"name": "mnt", "containerEdits": {"mounts": [{"hostPath": "/share", "containerPath": "$T/mnt", "options": ["ro", "bind"]}]}}]}
EOS
CURATE_HOST_ROOT=$HT cr run --mountpoint "$MNT" --device example.com/tmpsrc=mnt -- sh -c 'cat "$0/mnt/lib.txt"; ls -A /tmp | wc -l' "$T"
check_eq "CDI mounts: a source under the host's /tmp is bound although /tmp is private ($ERR)" \
        "0 from-the-hosts-tmp 0" "$RC $(echo "$OUT" | tr '\n' ' ' | sed 's/ $//')"
cd_run --device example.com/gpu=tmp -- sh -c 'stat -c %a "$0/mnt"; grep " ${0}/mnt " /proc/self/mountinfo' "$T"
check_eq "CDI tmpfs mount: exit 0 ($ERR)" 0 "$RC"
check "CDI tmpfs mount: a new tmpfs with its options" bash -c "grep -qx 750 <<<'$OUT' && grep -q ' - tmpfs tmpfs .*size=1024k' <<<'$OUT'"

# hot-plug: curate device add|remove on a running container (--gpu 0: nvidia1)
mknod -m 666 "$T/pass/nvidia0" c 195 0
cat > "$T/hotplug.sh" <<'EOS'
# inside the container: at each step file, list /dev's GPU nodes and open them
T=$1 P=${2:-hp}
echo "$CURATE_CONTAINER" > "$T/$P.id"
for step in 1 2 3; do
        while [ ! -e "$T/$P.go$step" ]; do sleep 0.05; done
        { ls -A /dev | grep nvidia | tr '\n' ' '; echo
          "$T/open.sh" /dev/nvidia0 /dev/nvidia1 "$T/pass/nvidia0" "$T/pass/nvidia1"
          ls /dev/pts >/dev/null; ls /dev/shm >/dev/null
          echo "submounts=$(grep -Ec ' /dev/(pts|shm|mqueue) ' /proc/self/mountinfo)"
          echo "pty=$(script -qec tty /dev/null 2>&1 | grep -c '^/dev/pts/')"
          echo "nvgpus=$(ls /proc/driver/nvidia/gpus 2>/dev/null | tr '\n' ' ')"; } > "$T/$P.out$step.tmp"
        mv "$T/$P.out$step.tmp" "$T/$P.out$step"
done
EOS
hp_step() { touch "$T/${P:-hp}.go$1"; wait_file "$T/${P:-hp}.out$1" 20; cat "$T/${P:-hp}.out$1"; }
enxio() { grep -Eq "^$1=No such device( or address)?$"; }
CURATE_HOST_ROOT=$HR cr_bg run --mountpoint "$MNT" --gpu 0 -- sh "$T/hotplug.sh" "$T"
wait_file "$T/hp.id" 20
hid=$(cat "$T/hp.id")
check_eq "the command sees its id as \$CURATE_CONTAINER" "run-$CR_PID" "$hid"
o=$(hp_step 1)
submounts=$(kv submounts <<<"$o")
check "before: /dev/pts, shm (and mqueue) are mounted ($submounts)" test "${submounts:-0}" -ge 2
check_eq "before: nvidia1 and the control nodes only" "nvidia-modeset nvidia-uvm nvidia-uvm-tools nvidia1 nvidiactl " "$(head -1 <<<"$o")"
check_eq "before: nvidia0 made outside is refused" "Operation not permitted" "$(kv "$T/pass/nvidia0" <<<"$o")"
reg_before=$(cat "$CURATE_DEVICES_DIR/$hid")
# bad hot-plugs change nothing
hp() { OUT=$(CURATE_HOST_ROOT=$HR "$CURATE" device "$@" 2>"$T/hp.err"); RC=$?; ERR=$(cat "$T/hp.err"); }
hp add "$hid" --gpu 7
check_eq "device add --gpu 7 (unknown): exit 1" 1 "$RC"
check "  says which GPU ($ERR)" grep -q -- "--gpu 7" <<<"$ERR"
hp remove "$hid" /dev/nvidia0
check_eq "device remove of a node the container lacks: exit 1" 1 "$RC"
check "  says so ($ERR)" grep -q "/dev/nvidia0 is not in the container's device set" <<<"$ERR"
hp add run-999999999 /dev/nvidia0
check_eq "device add to no container: exit 1" 1 "$RC"
check "  says so ($ERR)" grep -q "no running container run-999999999" <<<"$ERR"
hp add "$hid" --device-typo /dev/nvidia0
check_eq "device add with a bad option: exit 2 ($ERR)" 2 "$RC"
hp add "$hid" /dev/nvidia0:rwx
check_eq "device add with a bad access mode: exit 1" 1 "$RC"
check "  says bad access mode ($ERR)" grep -qF "bad access mode 'rwx': valid is a non-empty subset of rwm" <<<"$ERR"
hp add "$hid" example.com/gpu=mnt
check_eq "device add of a CDI device with mounts: exit 1" 1 "$RC"
check "  says mounts cannot be added ($ERR)" grep -q "CDI mounts cannot be added to a running container" <<<"$ERR"
check_eq "failed hot-plugs leave the registration as it was" "$reg_before" "$(cat "$CURATE_DEVICES_DIR/$hid")"
hp add "$CR_PID" --gpu 1
check_eq "device add PID --gpu 1: exit 0 ($ERR)" 0 "$RC"
check_eq "  reports the node added" "added /dev/nvidia0 (c 195:0 rwm)" "$OUT"
o=$(hp_step 2)
# /proc/driver/nvidia follows where the kernel can build the view detached (6.15)
if printf '6.15\n%s\n' "$(uname -r)" | sort -V -C; then
        check_eq "after add: /proc/driver/nvidia shows both GPUs" "0000:1a:00.0 0000:3b:00.0 " "$(kv nvgpus <<<"$o")"
else
        check "after add (kernel $(uname -r) < 6.15): /proc/driver/nvidia not updated, with a warning ($ERR)" \
                grep -q "/proc/driver/nvidia not updated" <<<"$ERR"
fi
check_eq "after add: nvidia0 appears beside nvidia1" "nvidia-modeset nvidia-uvm nvidia-uvm-tools nvidia0 nvidia1 nvidiactl " "$(head -1 <<<"$o")"
check "after add: /dev/nvidia0 passes the device cgroup" enxio /dev/nvidia0 <<<"$o"
check "after add: nvidia0 made outside now passes too (the cgroup follows)" enxio "$T/pass/nvidia0" <<<"$o"
hp remove "$hid" --gpu 0
check_eq "device remove --gpu 0: exit 0 ($ERR)" 0 "$RC"
check_eq "  removes nvidia1 only, the control nodes stay for GPU 1" "removed /dev/nvidia1 (c 195:1 rwm)" "$OUT"
o=$(hp_step 3)
if printf '6.15\n%s\n' "$(uname -r)" | sort -V -C; then
        check_eq "after remove: /proc/driver/nvidia shows GPU 1 only" "0000:3b:00.0 " "$(kv nvgpus <<<"$o")"
fi
check_eq "after remove: nvidia1 is gone" "nvidia-modeset nvidia-uvm nvidia-uvm-tools nvidia0 nvidiactl " "$(head -1 <<<"$o")"
check_eq "after remove: /dev/nvidia1 cannot be opened" "no such file" "$(kv /dev/nvidia1 <<<"$o" | tr A-Z a-z | sed 's/ or directory$//')"
check_eq "after remove: nvidia1 made outside is refused by the cgroup" "Operation not permitted" "$(kv "$T/pass/nvidia1" <<<"$o")"
check "after remove: nvidia0 still passes" enxio /dev/nvidia0 <<<"$o"
check_eq "after add and remove: /dev/pts, shm and mqueue are still mounted" "$submounts" "$(kv submounts <<<"$o")"
cr_wait
check_eq "hot-plugged container exits 0 ($ERR)" 0 "$RC"
check_eq "hot-plug: registration removed at the end" "" "$(regs)"
check_eq "hot-plug: no cgroup left" "" "$(run_cgroups "$CR_PID")"
hp remove "$hid" --gpu 1
check_eq "device remove after the container ended: exit 1" 1 "$RC"

# hot-plug into a container started without devices: its /dev is curatefs's
# shared dev/ until the first add puts a tree of its own in place, with its
# pts, shm and mqueue mounts moved onto it
P=hq
CURATE_HOST_ROOT=$HR cr_bg run --mountpoint "$MNT" -- sh "$T/hotplug.sh" "$T" hq
wait_file "$T/hq.id" 20
qid=$(cat "$T/hq.id")
o=$(hp_step 1)
submounts=$(kv submounts <<<"$o")
check_eq "no devices: no registration" "" "$(regs)"
check_eq "no devices: no GPU node" "" "$(head -1 <<<"$o")"
check_eq "no devices: a pty works" 1 "$(kv pty <<<"$o")"
hp add "$qid" --mountpoint /no/such/dir /dev/nvidia0
check_eq "device add with the wrong --mountpoint: exit 1" 1 "$RC"
check_eq "  changes nothing: no registration" "" "$(regs)"
hp add "$qid" --mountpoint "$MNT" /dev/nvidia0
check_eq "device add to a container started without devices: exit 0 ($ERR)" 0 "$RC"
o=$(hp_step 2)
check_eq "  nvidia0 appears in its /dev" "nvidia0 " "$(head -1 <<<"$o")"
check "  and passes the device cgroup" enxio /dev/nvidia0 <<<"$o"
check_eq "  its pts, shm and mqueue mounts moved onto the new /dev" "$submounts" "$(kv submounts <<<"$o")"
check_eq "  a pty still works" 1 "$(kv pty <<<"$o")"
if printf '6.15\n%s\n' "$(uname -r)" | sort -V -C; then
        check_eq "  /proc/driver/nvidia shows its GPU now" "0000:3b:00.0 " "$(kv nvgpus <<<"$o")"
fi
check_eq "  the node made outside for GPU 1 is still refused" "Operation not permitted" "$(kv "$T/pass/nvidia1" <<<"$o")"
hp remove "$qid" --mountpoint "$MNT" /dev/nvidia0
check_eq "device remove: exit 0 ($ERR)" 0 "$RC"
o=$(hp_step 3)
check_eq "  nvidia0 vanishes" "" "$(head -1 <<<"$o")"
check_eq "  and is refused when reached another way" "Operation not permitted" "$(kv "$T/pass/nvidia0" <<<"$o")"
cr_wait
check_eq "container exits 0 ($ERR)" 0 "$RC"
check_eq "its registration is removed at the end" "" "$(regs)"
P=hp

# a launcher killed with SIGKILL cannot clean up: curatefs's sweep (every
# few seconds) drops its registration and removes its emptied cgroups; a
# registration whose cgroup is gone is dropped as well
CURATE_HOST_ROOT=$HR cr_bg run --mountpoint "$MNT" --gpu 0 -- sleep 60
kp=$CR_PID
wait_file "$CURATE_DEVICES_DIR/run-$kp" 20
printf 'nvidia0 c 195 0 0666 rwm\n' > "$CURATE_DEVICES_DIR/run-gone-$$"
sleep 0.3
kill -KILL "$kp"
cr_wait
check_eq "SIGKILLed launcher: exit 137" 137 "$RC"
for (( i = 0; i < 150; i++ )); do
        [ -e "$CURATE_DEVICES_DIR/run-$kp" ] || [ -e "$CURATE_DEVICES_DIR/run-gone-$$" ] ||
                [ -n "$(run_cgroups "$kp")" ] || break
        sleep 0.1
done
check "SIGKILLed launcher: its registration is dropped" test ! -e "$CURATE_DEVICES_DIR/run-$kp"
check_eq "SIGKILLed launcher: its empty cgroups are removed" "" "$(run_cgroups "$kp")"
check "a registration whose cgroup never existed is dropped" test ! -e "$CURATE_DEVICES_DIR/run-gone-$$"
check "the daemon logged why" grep -q "dropped the device registration of run-$kp: its launcher was killed" "$CURATEFS_LOG"

# AMD: --gpu amd:N gives /dev/kfd and GPU N's DRI nodes, found through sysfs
# in PCI order (tests/fixtures/amd/two: GPU 0 is 0000:03:00.0 = card1 and
# renderD129; GPU 1 is card0 and renderD128)
HA=$T/amdhost
cp -a "${SOURCE_ROOT:-.}/tests/fixtures/amd/two" "$HA"
mkdir -p "$HA/dev/dri"
mknod -m 666 "$HA/dev/kfd" c 235 0
mknod -m 660 "$HA/dev/dri/card0" c 226 0
mknod -m 660 "$HA/dev/dri/card1" c 226 1
mknod -m 666 "$HA/dev/dri/renderD128" c 226 128
mknod -m 666 "$HA/dev/dri/renderD129" c 226 129
mknod -m 666 "$T/pass/renderD128" c 226 128 # GPU 1's render node, made outside
CURATE_HOST_ROOT=$HA cr run --mountpoint "$MNT" --gpu amd:0 -- sh -c \
        'ls -A /dev | grep -E "^(kfd|dri|nvidia)"; ls -A /dev/dri | tr "\n" " "; echo; ls -ln /dev/dri/renderD129; "$0/open.sh" /dev/dri/renderD129 "$0/pass/renderD128"' "$T"
check_eq "--gpu amd:0: exit 0 ($ERR)" 0 "$RC"
check_eq "--gpu amd:0: /dev gets kfd and dri only" "dri kfd" "$(grep -E '^(kfd|dri|nvidia)' <<<"$OUT" | sort | tr '\n' ' ' | sed 's/ $//')"
check_eq "--gpu amd:0: GPU 0 in PCI order is card1 and renderD129" "card1 renderD129 " "$(sed -n 3p <<<"$OUT")"
check "--gpu amd:0: renderD129 is 226, 129" grep -Eq '^c.* 226, +129 .*renderD129$' <<<"$OUT"
check "--gpu amd:0: its render node passes the device cgroup" bash -c "grep -Eq '^/dev/dri/renderD129=No such (device|file)' <<<'$OUT'"
check_eq "--gpu amd:0: GPU 1's render node made outside is refused" "Operation not permitted" "$(kv "$T/pass/renderD128" <<<"$OUT")"
CURATE_HOST_ROOT=$HA cr run --mountpoint "$MNT" --gpu amd:all -- ls -A /dev/dri
check_eq "--gpu amd:all: both GPUs' nodes ($ERR)" "card0 card1 renderD128 renderD129" "$(echo $OUT)"
CURATE_HOST_ROOT=$HA cr run --mountpoint "$MNT" --gpu amd:2 -- true
check_eq "--gpu amd:2 (no such GPU): exit 125" 125 "$RC"
check "  says which GPUs there are ($ERR)" grep -q "unknown AMD GPU 2" <<<"$ERR"
CURATE_HOST_ROOT=$HR cr run --mountpoint "$MNT" --gpu amd:0 -- true
check_eq "--gpu amd:0 on a host without AMD GPU: exit 125" 125 "$RC"
check "  says so ($ERR)" grep -q "no AMD GPU" <<<"$ERR"

# MIG: --gpu 0:1 on tests/fixtures/gpu/mig (one A100, Device Minor 3; MIG
# device 0:1 is GPU instance 2, compute instance 0: caps 39 and 40) gives the
# parent's node and exactly those two caps, and /proc/driver/nvidia shows
# only their capability files
HM=$T/mighost
cp -a "${SOURCE_ROOT:-.}/tests/fixtures/gpu/mig" "$HM"
mkdir -p "$HM/dev/nvidia-caps"
mknod -m 666 "$HM/dev/nvidia3" c 195 3
mknod -m 666 "$HM/dev/nvidiactl" c 195 255
mknod -m 666 "$HM/dev/nvidia-uvm" c 508 0
mknod -m 666 "$HM/dev/nvidia-uvm-tools" c 508 1
for m in 30 31 39 40 41 140 141; do mknod -m 444 "$HM/dev/nvidia-caps/nvidia-cap$m" c 236 $m; done
CURATE_HOST_ROOT=$HM cr run --mountpoint "$MNT" --gpu 0:1 -- sh -c \
        'ls -A /dev | grep nvidia | tr "\n" " "; echo; ls -A /dev/nvidia-caps | tr "\n" " "; echo; cd /proc/driver/nvidia && find capabilities gpus -type f | sort | tr "\n" " "'
check_eq "--gpu 0:1 (MIG): exit 0 ($ERR)" 0 "$RC"
check_eq "--gpu 0:1: the parent's node and the control nodes" "nvidia-caps nvidia-uvm nvidia-uvm-tools nvidia3 nvidiactl " "$(sed -n 1p <<<"$OUT")"
check_eq "--gpu 0:1: exactly the caps of GI 2 / CI 0" "nvidia-cap39 nvidia-cap40 " "$(sed -n 2p <<<"$OUT")"
check_eq "--gpu 0:1: /proc/driver/nvidia shows only their capability files and the parent GPU" \
        "capabilities/gpu3/mig/gi2/access capabilities/gpu3/mig/gi2/ci0/access gpus/0000:07:00.0/information " "$(sed -n 3p <<<"$OUT")"

# a node the curated /dev has anyway adds nothing (and breaks nothing)
cr run --mountpoint "$MNT" --device /dev/null --device /dev/tty:rw -- sh -c 'ls -A /dev; echo x > /dev/null && echo null-ok'
check_eq "--device /dev/null: exit 0 ($ERR)" 0 "$RC"
check "--device /dev/null: /dev still works" grep -qx null-ok <<<"$OUT"
check_eq "--device /dev/null: /dev is the curated set" "$curated" "$(grep -v null-ok <<<"$OUT" | sort | tr '\n' ' ')"

# a policy file's [Devices]
printf '[Devices]\nDevice=/dev/nvidia0:rw\n' > "$T/dev.conf"
cd_run --policy "$T/dev.conf" -- "$T/open.sh" /dev/nvidia0
check_eq "policy Device=: exit 0 ($ERR)" 0 "$RC"
check "policy Device=/dev/nvidia0:rw: allowed by the cgroup" grep -q '^/dev/nvidia0=No such device' <<<"$OUT"

# bad input: 125, a message, nothing created
bad() { # bad DESCRIPTION MESSAGE-PART ARGS...
        local d=$1 m=$2; shift 2
        cd_run "$@" -- true
        check_eq "$d: exit 125" 125 "$RC"
        check "$d: says '$m' ($ERR)" grep -qF -- "$m" <<<"$ERR"
        check_eq "$d: no registration" "" "$(regs)"
        check_eq "$d: no cgroup" "" "$(run_cgroups "$CR_PID")"
}
bad "missing node" "No such file or directory" --device /dev/nvidia7
bad "not a device" "not a character or block device" --device /dev/notadevice
bad "outside /dev" "is not a device node under /dev" --device /etc/passwd
bad "unknown GPU" "--gpu 5" --gpu 5
bad "unknown CDI device" "--device vendor.com/gpu=0" --device vendor.com/gpu=0
bad "CDI mount point missing" "/etc/cdi/example.json: CDI mount /curate-no-such-dir: no such mount point" --device example.com/gpu=nomnt
bad "CDI bind with a filesystem option" '/etc/cdi/badopt.json: devices[0].containerEdits.mounts[0]: option "size=1m" is not supported for a bind mount' --device example.com/badopt=x
bad "with --host-dev" "need the curated /dev" --host-dev --device /dev/nvidia0
bad "with --cgroup" "need root and a cgroup of curate's own" --cgroup / --device /dev/nvidia0
if command -v setpriv >/dev/null; then
        OUT=$(CURATE_HOST_ROOT=$HR setpriv --reuid 65534 --regid 65534 --clear-groups "$CURATE" run --user --views none \
                --mountpoint "$MNT" --device /dev/nvidia0 -- true 2>&1); RC=$?
        check_eq "non-root --device: exit 125 ($OUT)" 125 "$RC"
        check "non-root --device: says it needs root" grep -q "need root" <<<"$OUT"
fi
finish
