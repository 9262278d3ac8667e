#!/bin/bash
# MOUNTPOINT/dev: the curated /dev a container gets (the host's null, zero,
# full, random, urandom and tty nodes, the fd links, and mount points for
# devpts, shm and mqueue), the mount flags that let its nodes be opened, and
# --pidfile.
. "$(dirname "$0")/lib.sh"
require_root
export LC_ALL=C
DEVS="null zero full random urandom tty"
LINKS="fd:/proc/self/fd stdin:/proc/self/fd/0 stdout:/proc/self/fd/1 stderr:/proc/self/fd/2 ptmx:pts/ptmx"
DIRS="pts shm mqueue"

words() { tr '\n' ' ' | sed 's/ $//'; }
# the names dev/ must hold, given the character devices under HOSTDEV
expected_dev() {
        local n
        { for n in $DEVS; do [ -c "$1/$n" ] && [ ! -L "$1/$n" ] && echo "$n"; done
          for n in $DIRS; do echo "$n"; done
          for n in $LINKS; do echo "${n%%:*}"; done; } | sort | words
}
mount_opts() { awk -v m="$1" '$5 == m { print $6 }' /proc/self/mountinfo; }
requests() { grep -c 'opcode:' "$CURATEFS_LOG"; }
# the mounts our namespaces could leak into the host's: at or below $MNT and
# /dev (other tests may mount elsewhere meanwhile)
our_mounts() {
        awk -v m="$MNT" '$5 == m || index($5, m "/") == 1 || $5 == "/dev" || index($5, "/dev/") == 1 { print $5, $6, $9 }' \
                /proc/self/mountinfo | sort
}

# -d: every FUSE request is logged, so we can see which ones an access costs
mount_curatefs -d || { not_ok "mount curatefs"; finish; }
ok "curatefs mounted"

# --- the tree ------------------------------------------------------------------
check_eq "the root holds c, dev, devs, proc and sys" "c dev devs proc sys" "$(ls -A "$MNT" | words)"
check_eq "dev holds exactly the curated names" "$(expected_dev /dev)" "$(ls -A "$MNT/dev" | words)"
check_eq "dev is a 0755 directory" "directory 755" "$(stat -c '%F %a' "$MNT/dev")"
for d in $DIRS; do
        check_eq "dev/$d is an empty 0755 directory" "directory 755 " "$(stat -c '%F %a' "$MNT/dev/$d") $(ls -A "$MNT/dev/$d" | words)"
done
for l in $LINKS; do
        n=${l%%:*}; t=${l#*:}
        check_eq "dev/$n is a symlink to $t" "symbolic link ${#t} $t" "$(stat -c '%F %s' "$MNT/dev/$n") $(readlink "$MNT/dev/$n")"
done
for n in $DEVS; do
        [ -c /dev/$n ] || { echo "# the host has no character device /dev/$n"; continue; }
        check_eq "dev/$n is the host's node (type, major:minor, mode)" "$(stat -c '%F %t:%T %a' /dev/$n)" \
                "$(stat -c '%F %t:%T %a' "$MNT/dev/$n")"
done
check_eq "readdir reports the types lstat does" "$(cd "$MNT/dev" && stat -c '%n %F' * | sort)" \
        "$(find "$MNT/dev" -mindepth 1 -maxdepth 1 -printf '%f %y\n' | sort | sed 's/ d$/ directory/; s/ l$/ symbolic link/; s/ c$/ character special file/')"
check "unknown names do not exist" bash -c "! test -e '$MNT/dev/sda' && ! test -e '$MNT/dev/console'"

# --- the nodes work: the mount allows devices, the kernel opens them -------------
opts=$(mount_opts "$MNT")
check "the mount has no nodev flag ($opts)" bash -c "! grep -qw nodev <<<'$opts'"
check "the mount keeps nosuid and ro ($opts)" bash -c "grep -qw nosuid <<<'$opts' && grep -qw ro <<<'$opts'"
check "dev/null accepts writes" bash -c "echo hello > '$MNT/dev/null'"
check_eq "dev/null reads empty" 0 "$(wc -c < "$MNT/dev/null")"
check_eq "dev/zero reads 4096 zeros" "4096 0" "$(head -c 4096 "$MNT/dev/zero" | wc -c) $(head -c 4096 "$MNT/dev/zero" | tr -d '\0' | wc -c)"
err=$(dd if=/dev/zero of="$MNT/dev/full" bs=1 count=1 2>&1); rc=$?; err=$(head -1 <<<"$err")
check "writing dev/full fails with ENOSPC ($err)" test $rc != 0 -a -n "$(grep 'No space left on device' <<<"$err")"
check_eq "dev/urandom gives bytes" 64 "$(head -c 64 "$MNT/dev/urandom" | wc -c)"
check "dev/urandom bytes are not all zero" test "$(head -c 64 "$MNT/dev/urandom" | tr -d '\0' | wc -c)" -gt 0
check_eq "dev/random gives bytes" 16 "$(head -c 16 "$MNT/dev/random" | wc -c)"
# with no controlling terminal the tty driver itself answers ENXIO, as on the host
check_eq "dev/tty is the tty driver (no controlling terminal: same error as the host's)" \
        "$(setsid bash -c 'exec 3<>/dev/tty' 2>&1 | sed 's/.*: //')" \
        "$(setsid bash -c "exec 3<>'$MNT/dev/tty'" 2>&1 | sed 's/.*: //')"
before=$(requests)
for i in $(seq 50); do
        head -c 16 "$MNT/dev/zero" >/dev/null; echo x > "$MNT/dev/null"; head -c 16 "$MNT/dev/urandom" >/dev/null
done
check_eq "150 opens, reads and writes of cached device nodes send no FUSE request" 0 $(( $(requests) - before ))
check_eq "no FUSE OPEN was ever sent for a device" 0 "$(grep -c 'opcode: OPEN ' "$CURATEFS_LOG")"

# --- the links lead where /dev's do ------------------------------------------------
check_eq "dev/stdin reads the reader's stdin" piped "$(echo piped | cat "$MNT/dev/stdin")"
check_eq "dev/stdout writes to the writer's stdout" out "$(bash -c "echo out > '$MNT/dev/stdout'")"
check_eq "dev/stderr writes to the writer's stderr" err "$(bash -c "echo err > '$MNT/dev/stderr'" 2>&1 >/dev/null)"
check_eq "dev/fd lists the reader's descriptors" "$(ls /proc/self/fd | wc -l)" "$(ls "$MNT/dev/fd/" | wc -l)"
before=$(grep -c 'opcode: READLINK' "$CURATEFS_LOG")
for i in $(seq 20); do readlink "$MNT/dev/stdout" >/dev/null; done
# the kernel keeps no link target (the top links proc and sys point each
# reader to its own cgroup's copies): every follow asks
check "no symlink target is cached by the kernel ($(( $(grep -c 'opcode: READLINK' "$CURATEFS_LOG") - before )) READLINKs for 20 reads)" \
        test $(( $(grep -c 'opcode: READLINK' "$CURATEFS_LOG") - before )) -ge 20

# --- read-only ---------------------------------------------------------------------
listing=$(ls -lA "$MNT/dev")
for op in "touch '$MNT/dev/new'" "mknod '$MNT/dev/sda' b 8 0" "mkdir '$MNT/dev/x'" "rm -f '$MNT/dev/null'" \
          "rmdir '$MNT/dev/pts'" "ln -s /x '$MNT/dev/link'" "mv '$MNT/dev/zero' '$MNT/dev/zero2'" \
          "chmod 600 '$MNT/dev/null'" "chown 1 '$MNT/dev/tty'" "touch '$MNT/dev/pts/x'"; do
        err=$(eval "$op" 2>&1); rc=$?
        check "refused: $op ($err)" test $rc != 0 -a -n "$(grep 'Read-only file system' <<<"$err")"
done
check_eq "dev is unchanged after the refused changes" "$listing" "$(ls -lA "$MNT/dev")"

# --- what the launcher mounts on it, in a private mount namespace --------------------
mounts_before=$(our_mounts)
out=$(unshare -m --propagation private "$BASH" -c '
        mount -t devpts -o newinstance,ptmxmode=0666 devpts "$0/dev/pts" || exit 1
        echo "pts before: $(ls "$0/dev/pts" | tr "\n" " ")"
        exec 3<>"$0/dev/ptmx" || exit 2
        echo "pts after: $(ls "$0/dev/pts" | tr "\n" " ")"
        echo "fd 3: $(readlink /proc/$$/fd/3)"
        mount -t tmpfs -o size=1m tmpfs "$0/dev/shm" || exit 3
        echo shared > "$0/dev/shm/f" && echo "shm: $(cat "$0/dev/shm/f")"
        mount -t mqueue mqueue "$0/dev/mqueue" && echo "mqueue: $(stat -f -c %T "$0/dev/mqueue")"' "$MNT" 2>&1)
rc=$?
check_eq "devpts, tmpfs and mqueue mount on the FUSE directories (rc $rc)" 0 "$rc"
check_eq "a fresh devpts instance starts with only ptmx" "pts before: ptmx " "$(grep '^pts before' <<<"$out")"
check_eq "opening dev/ptmx through the link allocates pts 0 in the private devpts" "pts after: 0 ptmx " \
        "$(grep '^pts after' <<<"$out")"
check_eq "the master is the private instance's ptmx" "fd 3: $MNT/dev/pts/ptmx" "$(grep '^fd 3' <<<"$out")"
check_eq "a tmpfs on dev/shm is writable" "shm: shared" "$(grep '^shm' <<<"$out")"
check "an mqueue mounts on dev/mqueue ($(grep '^mqueue' <<<"$out"))" grep -q '^mqueue: ' <<<"$out"
# as the launcher does it: the whole dev bound over /dev
out=$(unshare -m --propagation private "$BASH" -c '
        mount --bind "$0/dev" /dev && mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts || exit 1
        echo x > /dev/null && head -c 3 /dev/zero | od -An -tx1 | tr -d " " && exec 3<>/dev/ptmx && ls /dev/pts | tr "\n" " "
        echo; awk "\$5 == \"/dev\" { o = \$6 } END { print o }" /proc/self/mountinfo' "$MNT" 2>&1)
check_eq "bound over /dev: null, zero and ptmx work" "000000 0 ptmx " "$(head -2 <<<"$out" | words)"
check "bound over /dev: the bind mount has no nodev ($(tail -1 <<<"$out"))" bash -c "! grep -qw nodev <<<'$(tail -1 <<<"$out")'"
check_eq "the host's mount table is unchanged at $MNT and /dev" "$mounts_before" "$(our_mounts)"
check_eq "the host sees dev/pts empty again" "" "$(ls -A "$MNT/dev/pts")"

# --- --pidfile ------------------------------------------------------------------------
check "--help documents --pidfile and dev/" bash -c "'$CURATEFS' --help | grep -q -- '--pidfile FILE' && '$CURATEFS' --help | grep -q 'MOUNTPOINT/dev'"
piddir=$(mktemp -d /tmp/curatefs-pid.XXXXXX); OUR_DIRS+=("$piddir")
MNT2=$(mktemp -d /tmp/curatefs-test.XXXXXX); OUR_DIRS+=("$MNT2"); OUR_MOUNTS+=("$MNT2")
# a relative FILE, from another directory: the daemon moves to "/" meanwhile
(cd "$piddir" && "$CURATEFS" --pidfile curatefs.pid "$MNT2"); rc=$?
pid2=$(cat "$piddir/curatefs.pid" 2>/dev/null); [ -n "$pid2" ] && OUR_PIDS+=("$pid2")
check_eq "detached start with a relative --pidfile exits 0" 0 "$rc"
check "the pid file exists as soon as the start returns" test -s "$piddir/curatefs.pid"
check_eq "it holds the daemon's pid and a newline" "$(pgrep -xf "$CURATEFS --pidfile curatefs.pid $MNT2")|0a" \
        "$pid2|$(tail -c 1 "$piddir/curatefs.pid" | od -An -tx1 | tr -d ' ')"
check_eq "that pid serves the mount (it is the detached daemon, a session leader)" "$pid2 $pid2" \
        "$(ps -o pid=,sid= -p "${pid2:-0}" | awk '{ print $1, $2 }')"
check_eq "no temporary file is left beside it" curatefs.pid "$(ls -A "$piddir")"
check "and the mount is served" grep -q MemTotal "$MNT2/proc/meminfo"
umount "$MNT2"
for i in $(seq 100); do kill -0 "${pid2:-0}" 2>/dev/null || break; sleep 0.1; done
check "umount ends the daemon" bash -c "! kill -0 '${pid2:-0}' 2>/dev/null"
check_eq "and its pid file is removed" "" "$(ls -A "$piddir")"
err=$("$CURATEFS" -p "$piddir/no/such/dir/x.pid" "$MNT2" 2>&1); rc=$?
check "a pid file in a missing directory is refused with exit 1 ($err)" test $rc = 1 -a -n "$(grep 'pid file' <<<"$err")"
check "and nothing was mounted" bash -c "! mountpoint -q '$MNT2'"
# foreground (as under a supervisor): the pid is the foreground process's
"$CURATEFS" -f -p "$piddir/fg.pid" "$MNT2" 2>/dev/null & fgpid=$!; OUR_PIDS+=("$fgpid")
for i in $(seq 100); do [ -s "$piddir/fg.pid" ] && break; sleep 0.05; done
check_eq "--foreground --pidfile writes the foreground pid" "$fgpid" "$(cat "$piddir/fg.pid" 2>/dev/null)"
kill -TERM "$fgpid"; wait "$fgpid"; rc=$?
check_eq "SIGTERM: exit 0 and the pid file is gone" "0 " "$rc $(ls -A "$piddir")"

# --- CURATE_HOST_ROOT: dev/ serves exactly what is valid in the host tree -----------------
# null: a char device; zero: a regular file; full: a symlink to null; random:
# a block device; urandom: a char device with mode 0640; tty: absent.
fx=$(mktemp -d /tmp/curatefs-root.XXXXXX); OUR_DIRS+=("$fx")
cp -a "$SOURCE_ROOT/tests/fixtures/hybrid/." "$fx/"
mkdir "$fx/dev"
mknod -m 0666 "$fx/dev/null" c 1 3
echo "not a device" > "$fx/dev/zero"
ln -s null "$fx/dev/full"
mknod -m 0666 "$fx/dev/random" b 7 0
mknod -m 0640 "$fx/dev/urandom" c 1 9
MNT_HOST=$MNT LOG_HOST=$CURATEFS_LOG
CURATE_HOST_ROOT=$fx mount_curatefs || not_ok "mount curatefs on the fixture root"
check_eq "fixture root: dev holds only its valid nodes" "fd mqueue null ptmx pts shm stderr stdin stdout urandom" \
        "$(ls -A "$MNT/dev" | words)"
check_eq "fixture root: null is 1:3 0666" "character special file 1:3 666" "$(stat -c '%F %t:%T %a' "$MNT/dev/null")"
check_eq "fixture root: urandom keeps its 0640 and 1:9" "character special file 1:9 640" "$(stat -c '%F %t:%T %a' "$MNT/dev/urandom")"
check "fixture root: the fixture's null is the real null device" bash -c "echo x > '$MNT/dev/null' && test ! -s '$MNT/dev/null'"
check "fixture root: zero, full, random and tty do not exist" \
        bash -c "! test -e '$MNT/dev/zero' && ! test -L '$MNT/dev/full' && ! test -e '$MNT/dev/random' && ! test -e '$MNT/dev/tty'"
for n in zero full random tty; do
        check_eq "fixture root: why dev/$n is left out is logged once" 1 "$(grep -c "host dev/$n[: ]" "$CURATEFS_LOG")"
done
check_eq "fixture root: nothing is logged about the valid nodes" 0 "$(grep -c 'dev/null\|dev/urandom' "$CURATEFS_LOG")"
# a host tree without dev/: no device nodes, the rest of dev as usual
fx2=$(mktemp -d /tmp/curatefs-root.XXXXXX); OUR_DIRS+=("$fx2")
cp -a "$SOURCE_ROOT/tests/fixtures/hybrid/." "$fx2/"
CURATE_HOST_ROOT=$fx2 mount_curatefs || not_ok "mount curatefs on a root without dev/"
check_eq "root without dev/: dev holds the links and mount points only" "fd mqueue ptmx pts shm stderr stdin stdout" \
        "$(ls -A "$MNT/dev" | words)"
check "root without dev/: the reason is logged" grep -q "cannot open the host's dev/" "$CURATEFS_LOG"
check "the first daemon still serves the host's dev" test -c "$MNT_HOST/dev/null"
finish
