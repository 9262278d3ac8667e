#!/bin/bash
# curate run: the default pid namespace (a fresh /proc with the views over
# it) and --share pid, --rootfs (a busybox root; the old root out of reach;
# refused with --share pid), --user (a non-root caller).
. "$(dirname "$0")/lib.sh"
require_curate
export LC_ALL=C

mount_curatefs || { not_ok "mount curatefs"; finish; }
run_tmpdir
before=$(mount_table)

# --- the pid namespace (default) ---------------------------------------------------------
cat > "$T/pid.sh" <<'EOF'
export LC_ALL=C
echo "pid=$$"
echo "ppid=$(awk '/^PPid:/ { print $2 }' /proc/$$/status)"
echo "pids=$(ls /proc | grep -E '^[0-9]+$' | sort -n | tr '\n' ' ')"
echo "ps=$(ps -e -o pid= | wc -l)"
echo "free=$(free -b | awk '/^Mem:/ { print $2 }')"
echo "meminfo_fs=$(findmnt -no FSTYPE /proc/meminfo | tail -n 1)"
echo "cpuinfo=$(grep -c ^processor /proc/cpuinfo)"
echo "uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "keys=$(head -c 100 /proc/keys 2>/dev/null | wc -c)"
echo "procsys=$(findmnt -no OPTIONS /proc/sys | tail -n 1 | cut -d, -f1)"
echo "nsproc=$(findmnt -no FSTYPE /proc | tail -n 1)"
EOF
sleep 300 & hostsleep=$!; OUR_PIDS+=("$hostsleep")
cr run --mountpoint "$MNT" --memory 256M --cpuset 0 -- bash "$T/pid.sh"
out_default=$OUT rc_default=$RC err_default=$ERR pid_default=$CR_PID
cr run --mountpoint "$MNT" --share pid --memory 256M --cpuset 0 -- bash "$T/pid.sh"
out_shared=$OUT rc_shared=$RC err_shared=$ERR
cr run --mountpoint "$MNT" --share pid --pid --memory 256M --cpuset 0 -- bash "$T/pid.sh"
out_again=$OUT
OUT=$out_default RC=$rc_default ERR=$err_default CR_PID=$pid_default
kill "$hostsleep" 2>/dev/null
check_eq "pid ns (default) runs ($ERR)" 0 "$RC"
check_eq "pid ns (default): the command is pid 2" 2 "$(kv pid <<<"$OUT")"
check_eq "pid ns (default): its parent is curate's init, pid 1" 1 "$(kv ppid <<<"$OUT")"
pids=$(kv pids <<<"$OUT")
check "pid ns (default): /proc lists only the container's processes ($pids)" \
        awk -v p="$pids" 'BEGIN { n = split(p, a, " "); if (n < 2 || a[1] != 1 || a[2] != 2) exit 1; for (i = 1; i <= n; i++) if (a[i] > 20) exit 1 }'
check "pid ns (default): the host's processes are not visible (ps -e counts $(kv ps <<<"$OUT"))" test "$(kv ps <<<"$OUT")" -le 6
check_eq "pid ns (default): a fresh proc on /proc" proc "$(kv nsproc <<<"$OUT")"
check_eq "pid ns (default): free shows the limit (views over the fresh /proc)" 268435456 "$(kv free <<<"$OUT")"
check_eq "pid ns (default): /proc/meminfo is curatefs's" fuse.curatefs "$(kv meminfo_fs <<<"$OUT")"
check_eq "pid ns (default): cpuinfo shows 1 CPU" 1 "$(kv cpuinfo <<<"$OUT")"
check "pid ns (default): uptime counts from the container's start ($(kv uptime <<<"$OUT"))" \
        awk -v u="$(kv uptime <<<"$OUT")" 'BEGIN { exit !(u != "" && u < 30) }'
[ -e /proc/keys ] && check_eq "pid ns (default): masks apply over the fresh /proc (/proc/keys empty)" 0 "$(kv keys <<<"$OUT")"
check_eq "pid ns (default): /proc/sys is read-only in the fresh /proc" ro "$(kv procsys <<<"$OUT")"
check_eq "pid ns (default): no cgroup left" "" "$(run_cgroups "$CR_PID")"
check_mounts_same "pid ns (default): host mount table unchanged" "$before"

check_eq "--share pid runs ($err_shared)" 0 "$rc_shared"
check "--share pid: the command has a host pid ($(kv pid <<<"$out_shared"))" test "$(kv pid <<<"$out_shared")" -gt 2
check "--share pid: the host's processes are visible (ps -e counts $(kv ps <<<"$out_shared"))" \
        test "$(kv ps <<<"$out_shared")" -gt 6
check_eq "--share pid: /proc/meminfo is still curatefs's" fuse.curatefs "$(kv meminfo_fs <<<"$out_shared")"
check_eq "--share pid: free still shows the limit" 268435456 "$(kv free <<<"$out_shared")"
check_eq "--share pid: /proc/sys is still read-only" ro "$(kv procsys <<<"$out_shared")"
check_eq "--share pid then --pid: the command is pid 2 again" 2 "$(kv pid <<<"$out_again")"

# --- --rootfs -------------------------------------------------------------------------------
if [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; then
        R=$T/rootfs
        mkdir -p "$R"/{bin,dev,etc,proc,sys,tmp}
        cp /bin/busybox "$R/bin/busybox"
        for a in $(/bin/busybox --list); do [ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"; done
        echo "root:x:0:0:root:/:/bin/sh" > "$R/etc/passwd"
        echo "curate-rootfs" > "$R/etc/marker"
        cat > "$R/inside.sh" <<'EOF'
export PATH=/bin
echo "marker=$(cat /etc/marker)"
echo "available=$(busybox free | awk '/^Mem:/ { print $NF }')"
echo "free_rc=$(busybox free >/dev/null 2>&1; echo $?)"
# busybox cat copies with sendfile(2); awk and the shell's read use read(2)
echo "memtotal=$(cat /proc/meminfo | awk '/^MemTotal:/ { print $2 }')"
echo "memtotal_read=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
echo "cpuinfo=$(grep -c ^processor /proc/cpuinfo)"
echo "online=$(cat /sys/devices/system/cpu/online 2>&1)"
echo "online_read=$(read x < /sys/devices/system/cpu/online; echo "$x")"
echo "dev=$(ls -A /dev | sort | tr '\n' ' ')"
echo "root=$(cd /..; ls -A | sort | tr '\n' ' ')"
echo "work=$([ -e /work ] || [ -e /var ] || [ -e /usr ] && echo reachable || echo gone)"
echo "hostroot_mounts=$(awk -v d="$1" '$4 == "/" && $(NF - 1) == d' /proc/self/mountinfo | wc -l)"
echo "p1root_ls=$(ls -A /proc/1/root/ 2>/dev/null | sort | tr '\n' ' ')"
echo "tmp=$(awk '$5 == "/tmp" { print $9 }' /proc/self/mountinfo | tail -n 1)"
EOF
        hostroot=$(findmnt -no SOURCE / | head -n 1)
        # Linux 6.5 until the fix "fuse: use copy_splice_read for direct io"
        # serves sendfile(2) from a direct-I/O FUSE file out of the page cache,
        # bounded by its size (0, as procfs reports): busybox cat reads
        # nothing, from curatefs as from any such file. Probe it on the host
        # (a root reader gets the host's file through curatefs) and check the
        # sendfile path only where the kernel can serve it.
        if [ -n "$(/bin/busybox cat "$MNT/proc/uptime")" ]; then sendfile_ok=1; else
                sendfile_ok=""
                echo "# this kernel ($(uname -r)) returns no data to sendfile(2) from a direct-I/O FUSE file; the busybox cat checks are left out"
        fi
        for ns in ""; do
                w=""
                cr run --mountpoint "$MNT" --rootfs "$R" $ns --memory 256M --cpuset 0 -- /bin/sh /inside.sh "$hostroot"
                check_eq "--rootfs$w runs ($ERR)" 0 "$RC"
                check_eq "--rootfs$w: the command sees the new root" curate-rootfs "$(kv marker <<<"$OUT")"
                check_eq "--rootfs$w: busybox free runs" 0 "$(kv free_rc <<<"$OUT")"
                # busybox free takes its totals from sysinfo(2), which no filesystem can
                # serve; only its "available" column comes from /proc/meminfo
                check "--rootfs$w: busybox free's available column is within the limit ($(kv available <<<"$OUT") KiB)" \
                        test "$(kv available <<<"$OUT")" -le 262144
                check_eq "--rootfs$w: /proc/meminfo read with read(2) shows the limit" 262144 "$(kv memtotal_read <<<"$OUT")"
                [ -n "$sendfile_ok" ] && check_eq "--rootfs$w: busybox cat /proc/meminfo (sendfile) shows the limit" 262144 "$(kv memtotal <<<"$OUT")"
                check_eq "--rootfs$w: cpuinfo shows 1 CPU" 1 "$(kv cpuinfo <<<"$OUT")"
                check_eq "--rootfs$w: cpu/online read with read(2) is 0" 0 "$(kv online_read <<<"$OUT")"
                [ -n "$sendfile_ok" ] && check_eq "--rootfs$w: busybox cat cpu/online (sendfile) is 0" 0 "$(kv online <<<"$OUT")"
                d=$(kv dev <<<"$OUT")
                check_eq "--rootfs$w: ls /dev is the curated list" "$DEV_CURATED" "${d% }"
                check_eq "--rootfs$w: cd /..; ls shows the rootfs only" "bin dev etc inside.sh proc sys tmp" "$(kv root <<<"$OUT" | sed 's/ $//')"
                check_eq "--rootfs$w: the host's /work, /var and /usr are gone" gone "$(kv work <<<"$OUT")"
                check_eq "--rootfs$w: the old root ($hostroot /) is not mounted inside" 0 "$(kv hostroot_mounts <<<"$OUT")"
                check_eq "--rootfs$w: /tmp is a private tmpfs" tmpfs "$(kv tmp <<<"$OUT")"
                # pid 1 is curate's init, inside the rootfs
                check_eq "--rootfs: /proc/1/root is the rootfs" "bin dev etc inside.sh proc sys tmp" "$(kv p1root_ls <<<"$OUT" | sed 's/ $//')"
                check_eq "--rootfs$w: no cgroup left" "" "$(run_cgroups "$CR_PID")"
        done
        check_eq "--rootfs: nothing is left mounted in the rootfs" "" "$(awk -v r="$R" 'index($5, r) == 1' /proc/self/mountinfo)"
        check_eq "--rootfs: the rootfs tree is unchanged" "bin dev etc inside.sh proc sys tmp" "$(ls -A "$R" | sort | tr '\n' ' ' | sed 's/ $//')"
        check_eq "--rootfs: its /dev and /tmp stay empty" "" "$(ls -A "$R/dev" "$R/tmp" | grep -v ':$' | grep -v '^$')"
        check_mounts_same "--rootfs: host mount table unchanged" "$before"
        cr run --mountpoint "$MNT" --rootfs "$R" --share pid -- /bin/true
        check_eq "--rootfs with --share pid -> 125 (a host process's /proc/PID/root leads out)" 125 "$RC"
        check "  with a message naming both ($ERR)" grep -q -- "--rootfs.*--share pid" <<<"$ERR"
        check_eq "  and no cgroup left" "" "$(run_cgroups "$CR_PID")"
        cr run --mountpoint "$MNT" --rootfs "$T/no-such-root" -- /bin/true
        check_eq "--rootfs of a missing directory -> 125" 125 "$RC"
        check "  with a message naming it ($ERR)" grep -q "no-such-root" <<<"$ERR"
        cr run --mountpoint "$MNT" --rootfs "$R" -- /bin/no-such-command
        check_eq "--rootfs: a command missing in the rootfs -> 127 ($ERR)" 127 "$RC"
else
        echo "# /bin/busybox is not a static busybox (install busybox-static): --rootfs checks skipped"
fi

# --- --user, as a non-root caller -----------------------------------------------------------
NOBODY=65534
as_nobody() { setpriv --reuid $NOBODY --regid $NOBODY --clear-groups "$@"; }
C=$CURATE
if ! as_nobody test -x "$CURATE"; then
        # the build dir is not open to nobody: run a copy (it finds curatefs
        # through $CURATEFS; the daemon is already running anyway)
        mkdir -p "$T/bin"; cp "$CURATE" "$T/bin/curate"; C=$T/bin/curate
fi
nb_out=$(mktemp /tmp/curate-nb.XXXXXX); OUR_DIRS+=("$nb_out"); chmod 666 "$nb_out"
as_nobody timeout 30 "$C" run --user --mountpoint "$MNT" -- sh -c \
        'echo "uid=$(id -u)"; echo "gid=$(id -g)"; echo "map=$(awk "{ print \$1, \$2, \$3 }" /proc/self/uid_map)";
         echo "fs=$(findmnt -no FSTYPE /proc/meminfo | tail -n 1)"; echo "memtotal=$(awk "/^MemTotal:/ { print \$2 }" /proc/meminfo)";
         echo "dev=$(ls -A /dev | sort | tr "\n" " ")"; echo "tmp=$(findmnt -no FSTYPE /tmp | tail -n 1)"' > "$nb_out" 2>"$nb_out.err"
rc=$?; OUR_DIRS+=("$nb_out.err"); out=$(cat "$nb_out")
check_eq "--user as uid $NOBODY runs ($(cat "$nb_out.err"))" 0 "$rc"
check_eq "--user: id -u is the caller's" $NOBODY "$(kv uid <<<"$out")"
check_eq "--user: id -g is the caller's" $NOBODY "$(kv gid <<<"$out")"
check_eq "--user: uid_map maps the caller to itself" "$NOBODY $NOBODY 1" "$(kv map <<<"$out")"
check_eq "--user: /proc/meminfo is curatefs's" fuse.curatefs "$(kv fs <<<"$out")"
want=$(as_nobody cat "$MNT/proc/meminfo" | kb_of MemTotal)
check_eq "--user: meminfo is what curatefs serves the caller's cgroup" "$want" "$(kv memtotal <<<"$out")"
d=$(kv dev <<<"$out")
check_eq "--user: the curated /dev" "$DEV_CURATED" "${d% }"
check_eq "--user: a private /tmp" tmpfs "$(kv tmp <<<"$out")"
as_nobody timeout 30 "$C" run --user --pid --mountpoint "$MNT" -- sh -c 'echo "pid=$$ uid=$(id -u)"' > "$nb_out" 2>"$nb_out.err"
check_eq "--user --pid as uid $NOBODY ($(cat "$nb_out.err"))" "pid=2 uid=$NOBODY" "$(cat "$nb_out")"
as_nobody timeout 30 "$C" run --user --mountpoint "$MNT" --memory 256M -- true > "$nb_out" 2>"$nb_out.err"
rc=$?; err=$(cat "$nb_out.err")
check_eq "--user --memory as a non-root caller -> 125" 125 "$rc"
check "  with a clear message ($err)" grep -qi 'memory\|cgroup\|root\|permission' <<<"$err"
as_nobody timeout 30 "$C" run --mountpoint "$MNT" -- true > "$nb_out" 2>"$nb_out.err"
rc=$?; err=$(cat "$nb_out.err")
echo "# non-root without --user: exit $rc ($err)"
check "non-root without --user: refused with 125 or run in a user namespace (exit $rc)" test "$rc" = 125 -o "$rc" = 0
check_mounts_same "host mount table unchanged at the end" "$before"

finish
