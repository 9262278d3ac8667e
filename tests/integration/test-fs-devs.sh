#!/bin/bash
# MOUNTPOINT/devs/<id>: per-container /dev trees. Each is dev/ plus the nodes
# the launcher registered in CURATE_DEVICES_DIR/<id>, seen only by readers in
# the cgroup curate/<id> (or in the root cgroup everywhere), never cached by
# the kernel, reloaded when the registration changes.
. "$(dirname "$0")/lib.sh"
require_root
export LC_ALL=C
words() { tr '\n' ' ' | sed 's/ $//'; }

# ids unique to this run, so that a launcher's real curate/ cgroups are untouched
A=run-A-$$ B=run-B-$$
REG=$(mktemp -d /tmp/curate-devices.XXXXXX); OUR_DIRS+=("$REG")
export CURATE_DEVICES_DIR=$REG
# write a registration as the launcher does: temp + rename
register() { local id=$1; shift; printf '%s\n' "$@" > "$REG/.$id.tmp" && mv "$REG/.$id.tmp" "$REG/$id"; }
register "$A" "# container A" "nvidia0 c 195 0 0666" "" "nvidia-caps/nvidia-cap1 c 236 1 0444"
register "$B" "nvidia1 c 195 1 0660" "dri/renderD128 c 226 128 0666"

# the parent curate/ cgroup in each hierarchy, unless a launcher made it already
if cg_is_v2; then parents=/sys/fs/cgroup/curate
else parents=$(for c in $(cg_v1_controllers); do echo /sys/fs/cgroup/$c/curate; done); fi
for d in $parents; do
        [ -d "$d" ] && continue
        mkdir "$d" || { not_ok "create $d"; finish; }
        OUR_CGROUPS+=("$d")
        [ -f "$(dirname "$d")/cpuset.cpus" ] && cat "$(dirname "$d")/cpuset.cpus" > "$d/cpuset.cpus" && cat "$(dirname "$d")/cpuset.mems" > "$d/cpuset.mems"
done
cg_create "curate/$A" || { not_ok "create cgroup curate/$A"; finish; }
cg_create "curate/$B" || { not_ok "create cgroup curate/$B"; finish; }
# and in the v1 devices hierarchy, where curate run makes them too: curatefs
# drops a registration whose container has no cgroup there
if ! cg_is_v2 && [ -d /sys/fs/cgroup/devices ]; then
        for d in /sys/fs/cgroup/devices/curate /sys/fs/cgroup/devices/curate/$A /sys/fs/cgroup/devices/curate/$B; do
                [ -d "$d" ] && continue
                mkdir "$d" || { not_ok "create $d"; finish; }
                OUR_CGROUPS+=("$d")
        done
fi
asA() { cg_exec "curate/$A" "$@"; }
asB() { cg_exec "curate/$B" "$@"; }
asroot() { cg_exec_root "$@"; }

mount_curatefs || { not_ok "mount curatefs"; finish; }
ok "curatefs mounted"
D=$MNT/devs
DEVNAMES=$(ls -A "$MNT/dev" | words)
sorted() { tr ' ' '\n' | sort | words; }

# --- devs/ itself --------------------------------------------------------------
check_eq "devs is a 0555 directory that lists nothing" "directory 555 " "$(stat -c '%F %a' "$D") $(asroot ls -A "$D" | words)"

# --- each container sees its own tree -------------------------------------------
check_eq "A sees dev/'s names plus its own" "$(echo "$DEVNAMES nvidia-caps nvidia0" | sorted)" "$(asA ls -A "$D/$A" | words)"
check_eq "B sees dev/'s names plus its own" "$(echo "$DEVNAMES dri nvidia1" | sorted)" "$(asB ls -A "$D/$B" | words)"
check_eq "A's nvidia0 is c 195:0 0666 root" "character special file c3:0 666 0:0" "$(asA stat -c '%F %t:%T %a %u:%g' "$D/$A/nvidia0")"
check_eq "A's intermediate nvidia-caps is a 0755 directory" "directory 755 nvidia-cap1" \
        "$(asA stat -c '%F %a' "$D/$A/nvidia-caps") $(asA ls -A "$D/$A/nvidia-caps" | words)"
check_eq "A's nvidia-caps/nvidia-cap1 is c 236:1 0444" "character special file ec:1 444" \
        "$(asA stat -c '%F %t:%T %a' "$D/$A/nvidia-caps/nvidia-cap1")"
check_eq "B's dri/renderD128 is c 226:128 0666" "character special file e2:80 666" \
        "$(asB stat -c '%F %t:%T %a' "$D/$B/dri/renderD128")"
check_eq "A's links are dev/'s" "/proc/self/fd pts/ptmx" "$(asA readlink "$D/$A/fd" "$D/$A/ptmx" | words)"
[ -c /dev/null ] && check "A's null is the real null" asA bash -c "echo x > '$D/$A/null' && test ! -s '$D/$A/null'"

# --- and nothing of another's, even right after the other looked ------------------
for p in "" /nvidia1 /dri/renderD128 /null; do
        asB stat "$D/$B$p" >/dev/null 2>&1
        check_eq "A cannot stat devs/B$p right after B did" "No such file or directory" \
                "$(asA stat "$D/$B$p" 2>&1 | grep -o 'No such file or directory' | head -1)"
done
asB stat "$D/$B/nvidia1" >/dev/null 2>&1
check "A cannot open devs/B/nvidia1 right after B looked it up" asA bash -c "! exec 3< '$D/$B/nvidia1'" 2>/dev/null
check "A cannot list devs/B" asA bash -c "! ls '$D/$B' 2>/dev/null"
check "B cannot see devs/A" asB bash -c "! test -e '$D/$A'"
check "a reader in neither cgroup sees neither (the test's own cgroup: $(grep -v ':/$' /proc/self/cgroup | head -1))" \
        bash -c "grep -q -v ':/\$' /proc/self/cgroup || exit 0; ! test -e '$D/$A' && ! test -e '$D/$B'"
check "the host root sees both" asroot bash -c "test -c '$D/$A/nvidia0' && test -c '$D/$B/nvidia1'"
check "an unregistered id does not exist, even for the host root" asroot bash -c "! test -e '$D/run-none-$$'"
check "an invalid id does not exist" asroot bash -c "! test -e '$D/..x' && ! test -e '$D/a b'"

# --- hot-plug ----------------------------------------------------------------------
ino_before=$(asA stat -c '%i' "$D/$A" "$D/$A/pts" "$D/$A/null" "$D/$A/nvidia0" | words)
register "$A" "nvidia0 c 195 0 0666" "nvidia-caps/nvidia-cap1 c 236 1 0444" "nvidia2 c 195 2 0666"
ino_after=$(asA stat -c '%i' "$D/$A" "$D/$A/pts" "$D/$A/null" "$D/$A/nvidia0" | words)
check_eq "a reload keeps the root's and dev/'s own inodes (mounts on pts, shm stay)" \
        "$(cut -d' ' -f1-3 <<<"$ino_before")" "$(cut -d' ' -f1-3 <<<"$ino_after")"
check "a reload gives a registered node a new inode" test "$(cut -d' ' -f4 <<<"$ino_before")" != "$(cut -d' ' -f4 <<<"$ino_after")"
check_eq "a node added to A's registration appears" "character special file c3:2" "$(asA stat -c '%F %t:%T' "$D/$A/nvidia2")"
check_eq "A's listing has it" "$(echo "$DEVNAMES nvidia-caps nvidia0 nvidia2" | sorted)" "$(asA ls -A "$D/$A" | words)"
register "$A" "nvidia2 c 195 2 0666"
check "a removed node vanishes" asA bash -c "! test -e '$D/$A/nvidia0' && ! test -e '$D/$A/nvidia-caps'"
check_eq "A's listing follows" "$(echo "$DEVNAMES nvidia2" | sorted)" "$(asA ls -A "$D/$A" | words)"
# the same size and a rewrite within one mtime tick: the inode number differs
register "$A" "nvidia3 c 195 3 0666"
check "a same-size rewrite is seen (new inode)" asA bash -c "test -c '$D/$A/nvidia3' && ! test -e '$D/$A/nvidia2'"
rm "$REG/$A"
check "with the registration gone, devs/A does not exist" asA bash -c "! test -e '$D/$A'"
check "nor for the host root" asroot bash -c "! test -e '$D/$A'"
check "B is unaffected" asB test -c "$D/$B/nvidia1"

# --- a malformed registration ----------------------------------------------------------
register "$A" "nvidia0 c 195 0 0666" "../etc c 1 3 0666"
check_eq "a malformed registration gives EIO" "Input/output error" \
        "$(asA stat "$D/$A" 2>&1 | grep -o 'Input/output error' | head -1)"
asA stat "$D/$A" >/dev/null 2>&1
check_eq "and is logged once, naming the file and line" 1 "$(grep -c "$REG/$A:2: malformed" "$CURATEFS_LOG")"
for bad in "nvidia0 x 195 0 0666" "nvidia0 c 195 0 0999" "/abs c 1 3 0666" "nvidia0 c 195" "null c 1 3 0666"; do
        register "$A" "$bad"
        check_eq "malformed: '$bad' gives EIO" "Input/output error" \
                "$(asA stat "$D/$A" 2>&1 | grep -o 'Input/output error' | head -1)"
done
register "$A" "nvidia0 c 195 0 0666"
check "a fixed registration serves again" asA test -c "$D/$A/nvidia0"

# --- dev/ is unchanged ----------------------------------------------------------------
check_eq "dev/ still holds only its own names" "$DEVNAMES" "$(ls -A "$MNT/dev" | words)"

# --- a daemon restart: registrations are files, the new daemon serves them ----------------
kill "$CURATEFS_PID"
for (( i = 0; i < 100; i++ )); do kill -0 "$CURATEFS_PID" 2>/dev/null || break; sleep 0.05; done
check "the old daemon has exited" bash -c "! kill -0 $CURATEFS_PID 2>/dev/null"
mount_curatefs || { not_ok "mount curatefs again"; finish; }
D=$MNT/devs
check_eq "after a restart A still sees its node" "character special file c3:0" "$(asA stat -c '%F %t:%T' "$D/$A/nvidia0")"
check_eq "and B its own" "character special file e2:80" "$(asB stat -c '%F %t:%T' "$D/$B/dri/renderD128")"
check "and A still not B's" asA bash -c "! test -e '$D/$B'"
check "the registrations of live containers were kept" test -e "$REG/$A" -a -e "$REG/$B"
finish
