#!/bin/bash
# busybox cat (the cat of every Alpine and busybox image) reads with
# sendfile(2), which on Linux 6.5-6.18 reads a FUSE file through the page
# cache no further than its size, even a direct_io one. curate run binds
# curatefs's per-container copies, MOUNTPOINT/c/<id>/, which report their
# exact size and are an inode of the container's own: busybox cat prints
# every view whole, and no container ever reads another's figures, nor the
# host's, out of a shared page cache. Only readers in the container's
# cgroup may look them up or open them: not the host's root, not another
# container. Checked here: the running kernel's handling of a FUSE size
# (sizefs), every view by busybox cat and sendfile, two containers in tight
# loops, who may open a node, top's lseek(0)+read, serving processes killed
# under the readers; the cpu tree (c/<id>/sys/devices/system/cpu) per
# container: two cpusets in loops, who may open it, a kill under a cwd in
# it. LOOP_SECONDS (default 4) sets the loops' length.
. "$(dirname "$0")/lib.sh"
require_curate
export LC_ALL=C

BUSYBOX=$(command -v busybox) || skip "busybox not installed (scripts/setup.sh installs busybox-static)"
SENDFILE_CAT=${SENDFILE_CAT:-${BUILD_ROOT:-}/tests/sendfile-cat}
[ -x "$SENDFILE_CAT" ] || SENDFILE_CAT=$(command -v sendfile-cat) || skip "sendfile-cat not built"
LOOP_SECONDS=${LOOP_SECONDS:-4}

mount_curatefs || { not_ok "mount curatefs"; finish; }
run_tmpdir
# the command gets a private /tmp: the helper goes beside the test's files
cp "$SENDFILE_CAT" "$T/sendfile-cat"
SF=$T/sendfile-cat

# ---- what the running kernel does with a FUSE file's size ------------------------
# sizefs: one direct_io file whose reported size and text length are set
# apart. Linux 6.5+ splices it through the page cache (fuse_splice_read ->
# filemap_splice_read): a text longer than the size is cut there, silently,
# a shorter one is whole (the short READ shrinks the size: fuse_short_read),
# size 0 reads as nothing; read() is not bounded by the size. Earlier
# kernels splice through read_iter: the size does not matter. curatefs's
# c/ nodes rely on each of these, and on a page cache fill coming without
# a lock owner (fuse_send_read gives read()'s one).
SIZEFS=${SIZEFS:-${BUILD_ROOT:-}/tests/sizefs}
[ -x "$SIZEFS" ] || SIZEFS=$(command -v sizefs)
if [ -x "$SIZEFS" ]; then
        SZ=$(mktemp -d /tmp/curate-sizefs.XXXXXX); OUR_DIRS+=("$SZ"); mkdir "$SZ/m"
        echo "10 10" > "$SZ/ctl"
        "$SIZEFS" "$SZ/ctl" "$SZ/m" -f -o default_permissions,attr_timeout=0,entry_timeout=0,negative_timeout=0 2> "$SZ/log" &
        OUR_PIDS+=($!); OUR_MOUNTS+=("$SZ/m")
        for i in $(seq 100); do [ -e "$SZ/m/f" ] && break; sleep 0.05; done
        fact() { echo "$1 $2" > "$SZ/ctl"; echo "$("$BUSYBOX" cat "$SZ/m/f" | wc -c) $(head -c 1048576 "$SZ/m/f" | wc -c)"; }
        IFS=. read -r kmaj kmin _ <<<"$(uname -r)"
        if [ "$kmaj" -gt 6 ] || { [ "$kmaj" = 6 ] && [ "${kmin%%[!0-9]*}" -ge 5 ]; }; then
                check_eq "Linux $kmaj.$kmin: size 100, text 200: sendfile stops at the size, read() gets all" "100 200" "$(fact 100 200)"
                check_eq "size 200, text 100: both whole" "100 100" "$(fact 200 100)"
                check_eq "size 0: sendfile reads nothing" "0 100" "$(fact 0 100)"
                : > "$SZ/log"; fact 9000 9000 > /dev/null
                check_eq "sendfile's READ is a page cache fill of the pages up to the size, read()'s a direct one" \
                        "READ 0 12288 pagecache|direct" "$(awk 'NR == 1 { print $1, $2, $3, $4 } NR == 2 { print $4 }' "$SZ/log" | paste -sd '|')"
        else
                check_eq "Linux $kmaj.$kmin: sendfile reads through read_iter, whatever the size" "200 200|100 100" \
                        "$(fact 100 200)|$(fact 0 100)"
        fi
        umount "$SZ/m"
else
        not_ok "sizefs not built"
fi

# ---- every view, whole, by busybox cat and by sendfile ----------------------------
# Inside: each view file curatefs serves there (its fuse.curatefs bind mounts
# that are regular files), read with busybox cat, sendfile and head -c 1M.
# Renderings of one view may differ in figures between two reads, never in
# their lines: each must end in a newline and have the same keys (each
# line's first word and count of words).
cat > "$T/views.sh" <<'INSIDE'
bb=$1 sf=$2
# each line's first word (a number: N) and its count of words
keys() { awk '{ k = $1; if (k ~ /^[0-9.]+$/) k = "N"; print k, NF }' "$1" | tr '\n' ' '; }
for f in $(findmnt -rn -o TARGET,FSTYPE | awk '$2 == "fuse.curatefs" { print $1 }'); do
        [ -f "$f" ] || continue
        "$bb" cat "$f" > /dev/shm/bb; "$sf" "$f" > /dev/shm/sf; head -c 1048576 "$f" > /dev/shm/hd
        for w in bb sf; do
                last=$(tail -c 1 /dev/shm/$w | od -An -c | tr -d ' ')
                echo "$f $w size=$(wc -c < /dev/shm/$w) nl=$last same_keys=$([ "$(keys /dev/shm/$w)" = "$(keys /dev/shm/hd)" ] && echo yes || echo no)"
        done
        echo "$f stat=$(stat -c %s "$f") hd=$(wc -c < /dev/shm/hd)"
done
echo "memtotal_bb=$("$bb" cat /proc/meminfo | awk '$1 == "MemTotal:" { print $2 }')"
echo "memtotal_sf=$("$sf" /proc/meminfo | awk '$1 == "MemTotal:" { print $2 }')"
echo "source=$(findmnt -no SOURCE,FSROOT /proc/meminfo | tail -n 1)"
INSIDE
cr run --mountpoint "$MNT" --memory 256M -- bash "$T/views.sh" "$BUSYBOX" "$SF"
check_eq "curate run --memory 256M exits 0" 0 "$RC"
[ "$RC" = 0 ] || echo "$ERR" | sed 's/^/# /'
id=run-$CR_PID
check_eq "busybox cat /proc/meminfo: MemTotal is the limit" 262144 "$(kv memtotal_bb <<<"$OUT")"
check_eq "sendfile /proc/meminfo: MemTotal is the limit" 262144 "$(kv memtotal_sf <<<"$OUT")"
check "/proc/meminfo is the container's own node c/$id/proc/meminfo" grep -q "^source=.*/c/$id/proc/meminfo" <<<"$OUT"
nviews=$(grep -c ' bb size=' <<<"$OUT")
check "the views are found inside ($nviews files, at least meminfo cpuinfo stat uptime loadavg swaps diskstats online)" \
        test "$nviews" -ge 8
while read -r f w size nl same; do
        case $f in */diskstats) [ "$size" = size=0 ] && continue ;; esac # no disk touched yet: empty
        check "$w of $f is complete ($size, ends in a newline, the lines of head -c 1M)" \
                test "$size" != size=0 -a "$nl" = 'nl=\n' -a "$same" = same_keys=yes
done <<<"$(grep -E ' (bb|sf) size=' <<<"$OUT")"
# meminfo's figures have fixed widths: its length does not change
m=$(grep '^/proc/meminfo stat=' <<<"$OUT"); s=${m#*stat=}
check_eq "stat's size of /proc/meminfo is its length" "${m##*hd=}" "${s%% *}"

# ---- two containers, tight loops: never the other's figures, never cut ------------
cat > "$T/loop.sh" <<'INSIDE'
bb=$1 sf=$2 secs=$3 want=$4 ready=$5 go=$6
lines=$(wc -l < /proc/meminfo)
echo > "$ready"; read -r _ < "$go"
"$sf" loop /proc/meminfo "$secs" MemTotal "$want" &
n=0 bad=0 end=$((SECONDS + secs))
while [ $SECONDS -lt $end ]; do
        r=$("$bb" cat /proc/meminfo | "$bb" awk -v w="$want" -v l="$lines" \
                '$1 == "MemTotal:" { t = $2 } END { print (t == w && NR == l) ? "good" : "bad " t " " NR }')
        n=$((n + 1))
        [ "$r" = good ] || { bad=$((bad + 1)); [ $bad = 1 ] && echo "busybox first bad: $r"; }
done
echo "busybox reads $n bad $bad"
wait $!; echo "sendfile_rc=$?"
INSIDE
mkfifo "$T/goA" "$T/goB"
rm -f "$T/readyA" "$T/readyB"
cr_bg run --mountpoint "$MNT" --memory 256M -- bash "$T/loop.sh" "$BUSYBOX" "$SF" "$LOOP_SECONDS" 262144 "$T/readyA" "$T/goA"
pidA=$CR_PID outA=$CR_OUTF errA=$CR_ERRF
cr_bg run --mountpoint "$MNT" --memory 512M -- bash "$T/loop.sh" "$BUSYBOX" "$SF" "$LOOP_SECONDS" 524288 "$T/readyB" "$T/goB"
pidB=$CR_PID outB=$CR_OUTF errB=$CR_ERRF
wait_file "$T/readyA" 30 && wait_file "$T/readyB" 30 || not_ok "the loop containers came up"
nodeA=$MNT/c/run-$pidA/proc/meminfo nodeB=$MNT/c/run-$pidB/proc/meminfo
# while both loop, the host's root tries A's node in a loop too: it must
# never get in (it would fill A's page cache with the host's figures)
echo > "$T/goA" & echo > "$T/goB" &
hostgot=0 hosttries=0 end=$((SECONDS + LOOP_SECONDS))
while [ $SECONDS -lt $end ]; do
        r=$("$SF" open "$nodeA"); hosttries=$((hosttries + 1))
        [ "$r" = ENOENT ] || hostgot=$((hostgot + 1))
        "$BUSYBOX" cat "$nodeA" 2>/dev/null | grep -q . && hostgot=$((hostgot + 1))
done
CR_PID=$pidA CR_OUTF=$outA CR_ERRF=$errA; cr_wait 60; rcA=$RC outA=$OUT
CR_PID=$pidB CR_OUTF=$outB CR_ERRF=$errB; cr_wait 60; rcB=$RC outB=$OUT
echo "$outA" | sed 's/^/# A (256M): /'
echo "$outB" | sed 's/^/# B (512M): /'
for c in A B; do
        o=outA; [ $c = B ] && o=outB
        check "$c: sendfile and read() loop: every read complete with its own MemTotal" grep -q '^reads [1-9][0-9]* bad 0 errors 0$' <<<"${!o}"
        check "$c: busybox cat loop: every read complete with its own MemTotal" grep -q '^busybox reads [1-9][0-9]* bad 0$' <<<"${!o}"
        check "$c: the loops ran to their end" grep -q '^sendfile_rc=0$' <<<"${!o}"
done
check_eq "the host's root never opened or read A's node ($hosttries tries)" 0 "$hostgot"

# ---- who may open a container's node -----------------------------------------------
# container A waits; the host's root, a process of B's cgroup and A's own
# mount namespace reached through /proc/PID/root are tried against it
cat > "$T/wait.sh" <<'INSIDE'
echo > "$1"; read -r _ < "$2"
INSIDE
mkfifo "$T/goC" "$T/goD"; rm -f "$T/readyC" "$T/readyD"
cr_bg run --mountpoint "$MNT" --memory 256M -- bash "$T/wait.sh" "$T/readyC" "$T/goC"
pidC=$CR_PID outC=$CR_OUTF errC=$CR_ERRF
cr_bg run --mountpoint "$MNT" --memory 512M -- bash "$T/wait.sh" "$T/readyD" "$T/goD"
pidD=$CR_PID outD=$CR_OUTF errD=$CR_ERRF
wait_file "$T/readyC" 30 && wait_file "$T/readyD" 30 || not_ok "the waiting containers came up"
nodeC=$MNT/c/run-$pidC
cmdC=$(head -n 1 "$(run_cgroups "$pidC" | head -n 1)/cgroup.procs")
# a process of the host moved into a container's cgroups (every hierarchy)
in_cg() { # PID CMD...: run CMD in curate PID's cgroups
        local dirs; dirs=$(run_cgroups "$1" | tr '\n' ' '); shift
        CG_DIRS="$dirs" "$BASH" -c "$_CG_ENTER" in_cg "$@"
}
check_eq "host root: c/ lists no container" "" "$(ls -A "$MNT/c")"
check_eq "host root: open c/run-C/proc/meminfo is ENOENT" ENOENT "$("$SF" open "$nodeC/proc/meminfo")"
check "host root: stat c/run-C fails" bash -c '! stat "$0" >/dev/null 2>&1' "$nodeC"
check_eq "host root: busybox cat c/run-C/proc/meminfo prints nothing" "" "$("$BUSYBOX" cat "$nodeC/proc/meminfo" 2>/dev/null)"
check_eq "c/run-C holds a copy of each of proc/ and sys/'s files and directories" \
        "$(cd "$MNT" && find .proc .sys | sed 's/^\.//' | sort | tr '\n' ' ')" "$(in_cg "$pidC" sh -c 'cd "$0" && find proc sys | sort' "$nodeC" | tr '\n' ' ')"
check_eq "a process of C's cgroup opens C's node" ok "$(in_cg "$pidC" "$SF" open "$nodeC/proc/meminfo")"
check_eq "... and reads C's figures (MemTotal 262144)" 262144 "$(in_cg "$pidC" "$BUSYBOX" cat "$nodeC/proc/meminfo" | kb_of MemTotal)"
check_eq "a process of D's cgroup: open C's node is ENOENT" ENOENT "$(in_cg "$pidD" "$SF" open "$nodeC/proc/meminfo")"
check_eq "a process of D's cgroup: lookup of c/run-C is ENOENT" ENOENT "$(in_cg "$pidD" "$SF" open "$nodeC")"
denied() { [ "$1" = ENOENT ] || [ "$1" = EACCES ]; }
if [ -n "$cmdC" ] && [ -d "/proc/$cmdC/root/proc" ]; then
        # C's own bind mount, reached from outside: no lookup is asked (the
        # kernel holds the inode), the open's GETATTR or OPEN is refused
        r=$("$SF" open "/proc/$cmdC/root/proc/meminfo")
        check "host root: C's /proc/meminfo through /proc/PID/root cannot be opened ($r)" denied "$r"
        r=$(in_cg "$pidD" "$SF" open "/proc/$cmdC/root/proc/meminfo")
        check "D's cgroup: C's /proc/meminfo through /proc/PID/root cannot be opened ($r)" denied "$r"
        check_eq "host root: busybox cat of it prints nothing" "" "$("$BUSYBOX" cat "/proc/$cmdC/root/proc/meminfo" 2>/dev/null)"
        check_eq "C's own process still reads it whole after those tries" "$(wc -l < /proc/meminfo) 262144" \
                "$(in_cg "$pidC" "$BUSYBOX" cat "/proc/$cmdC/root/proc/meminfo" | awk '$1 == "MemTotal:" { t = $2 } END { print NR, t }')"
else
        not_ok "C's command ($cmdC) and its /proc/PID/root/proc found"
fi
# a cgroup below C's with a limit of its own (v1: v2 keeps no process in a
# cgroup that has children with controllers, and C's command is in it):
# its read()s get its own figures; its sendfile the node's, which are C's
# or its own, never D's, and whole
if ! cg_is_v2 && [ -n "$cmdC" ]; then
        subdirs=""
        for d in $(run_cgroups "$pidC"); do
                mkdir "$d/sub" && OUR_CGROUPS+=("$d/sub") && subdirs+=" $d/sub"
                [ -f "$d/cpuset.cpus" ] && cat "$d/cpuset.cpus" > "$d/sub/cpuset.cpus" && cat "$d/cpuset.mems" > "$d/sub/cpuset.mems"
        done
        echo $((128 << 20)) > "$(cg_file "$pidC" memory memory.limit_in_bytes | sed 's|/memory.limit_in_bytes$|/sub/memory.limit_in_bytes|')"
        in_sub() { CG_DIRS="$subdirs" "$BASH" -c "$_CG_ENTER" in_sub "$@"; }
        check_eq "C's sub-cgroup (128M): read() of C's node gives its own MemTotal" 131072 \
                "$(in_sub head -c 1048576 "$nodeC/proc/meminfo" | kb_of MemTotal)"
        r=$(in_sub "$BUSYBOX" cat "$nodeC/proc/meminfo" | awk '$1 == "MemTotal:" { t = $2 } END { print NR, t }')
        check "C's sub-cgroup: busybox cat of C's node is whole, with C's or its own MemTotal ($r)" \
                test "$r" = "$(wc -l < /proc/meminfo) 262144" -o "$r" = "$(wc -l < /proc/meminfo) 131072"
        check_eq "C itself still reads its own 256M with busybox cat" 262144 \
                "$(in_cg "$pidC" "$BUSYBOX" cat "$nodeC/proc/meminfo" | kb_of MemTotal)"
        for d in $subdirs; do rmdir "$d"; done # before curate removes C's cgroups
fi
echo > "$T/goC"; echo > "$T/goD"
CR_PID=$pidC CR_OUTF=$outC CR_ERRF=$errC; cr_wait 30; check_eq "C exits 0" 0 "$RC"
CR_PID=$pidD CR_OUTF=$outD CR_ERRF=$errD; cr_wait 30; check_eq "D exits 0" 0 "$RC"

# ---- top's way: one fd held, lseek(0)+read gets fresh figures ------------------------
# the fd is held across 32 MiB written to the container's /dev/shm (a tmpfs
# charged to its memory cgroup); the second read must show it
cat > "$T/held.sh" <<'INSIDE'
sf=$1 bb=$2
mkfifo /dev/shm/go
"$sf" held /proc/meminfo < /dev/shm/go > /dev/shm/out &
exec 3> /dev/shm/go
until grep -q '^--$' /dev/shm/out; do "$bb" usleep 10000; done
dd if=/dev/zero of=/dev/shm/fill bs=1M count=32 2>/dev/null
"$bb" usleep 200000 # past the render cache's 100 ms (figures at most that old)
echo >&3; exec 3>&-; wait
cat /dev/shm/out
echo "after=$("$bb" cat /proc/meminfo | wc -l)"
INSIDE
cr run --mountpoint "$MNT" --memory 256M -- bash "$T/held.sh" "$SF" "$BUSYBOX"
check_eq "held-fd container exits 0" 0 "$RC"
f1=$(awk '/^--/ { n++ } /^MemFree/ && n == 0 { print $2 }' <<<"$OUT"); f2=$(awk '/^--/ { n++ } /^MemFree/ && n == 1 { print $2 }' <<<"$OUT")
check "lseek(0)+read on a held fd renders fresh figures (MemFree $f1 -> $f2 kB)" test $(( ${f1:-0} - ${f2:-0} )) -ge 30000
check_eq "busybox cat after it is whole" "after=$(wc -l < /proc/meminfo)" "$(grep '^after=' <<<"$OUT")"

# ---- serving processes killed under the readers --------------------------------------
# curatefs's holder keeps the connection and starts a replacement at once;
# the replacement never saw the container's nodes and resolves them from
# the reader's cgroup. Every read of every view (but diskstats, which may be
# empty) stays whole, by busybox cat and by sendfile and read().
cat > "$T/kills.sh" <<'INSIDE'
bb=$1 sf=$2 secs=$3 ready=$4 go=$5
lines=$(wc -l < /proc/meminfo)
echo > "$ready"; read -r _ < "$go"
for f in /proc/meminfo /proc/cpuinfo /proc/stat /proc/uptime /proc/loadavg /proc/swaps /sys/devices/system/cpu/online; do
        "$sf" loop "$f" "$secs" - - > "/dev/shm/loop.${f##*/}" &
done
n=0 bad=0 errors=0 end=$((SECONDS + secs))
while [ $SECONDS -lt $end ]; do
        n=$((n + 1))
        "$bb" cat /proc/meminfo > /dev/shm/bb 2>/dev/null || { errors=$((errors + 1)); continue; }
        r=$("$bb" awk -v l="$lines" '$1 == "MemTotal:" { t = $2 } END { print (t == 262144 && NR == l) ? "good" : "bad " t " " NR }' /dev/shm/bb)
        [ "$r" = good ] || { bad=$((bad + 1)); [ $bad = 1 ] && echo "busybox first bad: $r"; }
done
echo "busybox reads $n bad $bad errors $errors"
wait
for f in /dev/shm/loop.*; do echo "${f#*loop.}: $(tail -n 1 "$f")"; grep -A14 -E "^(bad|error)" "$f" | head -n 15; done
INSIDE
read_kids() { local f l; KIDS=""; for f in /proc/"$1"/task/*/children; do l=""; read -r l < "$f" 2>/dev/null; KIDS+=" $l"; done; KIDS=${KIDS## }; }
read_kids "$CURATEFS_PID"
if [ -z "$KIDS" ]; then
        echo "# curatefs $CURATEFS_PID serves without a holder: no serving process to kill"
else
        mkfifo "$T/goK"; rm -f "$T/readyK"
        cr_bg run --mountpoint "$MNT" --memory 256M -- bash "$T/kills.sh" "$BUSYBOX" "$SF" "$LOOP_SECONDS" "$T/readyK" "$T/goK"
        wait_file "$T/readyK" 30 || not_ok "the killed-under container came up"
        echo > "$T/goK"
        kills=0 end=$((SECONDS + LOOP_SECONDS))
        while [ $SECONDS -lt $end ]; do
                read_kids "$CURATEFS_PID"; set -- $KIDS
                [ $# -gt 0 ] && kill -KILL "$1" 2>/dev/null && kills=$((kills + 1))
                sleep 0.3
        done
        cr_wait 60
        echo "$OUT" | sed 's/^/# killed under: /'
        # Never a wrong or cut text. A read may fail (EIO, not silently):
        # a kill between a sendfile's open and its read, the view longer
        # now than the size the kernel was told, or two kills around one
        # open (ESTALE twice); at most one read per reader and kill.
        check "$kills serving processes killed: busybox cat of meminfo never wrong or cut" grep -q '^busybox reads [1-9][0-9]* bad 0 ' <<<"$OUT"
        check_eq "... nor sendfile/read() of 7 views" 7 "$(grep -c ': reads [1-9][0-9]* bad 0 ' <<<"$OUT")"
        errs=$(grep -E '^(busybox|[a-z]+:) reads ' <<<"$OUT" | awk '{ n += $NF; if ($NF > m) m = $NF } END { print n + 0, m + 0 }')
        echo "# figures kills=$kills failed_reads=${errs% *} (the most of one reader: ${errs#* })"
        check "... failed reads (${errs% *}) at most one per reader and kill" test "${errs#* }" -le "$kills"
        check "the holder lives on" kill -0 "$CURATEFS_PID"
fi

# ---- the cpu tree, each container's own: c/<id>/sys/devices/system/cpu ---------------
# curate run binds the container's copy of the whole cpu directory: every
# file there reports its exact size and is an inode of that container's,
# so busybox cat prints each whole, and two containers shown other CPUs
# never meet each other's text in a page cache. Two containers, --cpuset 0
# and --cpuset 1, read online, cpuN/topology/core_cpus_list and the last
# cache level's shared_cpu_list in loops at once (on a host whose CPUs
# share that cache and a core's threads its list, the cut is visible too).
cat > "$T/cpuloop.sh" <<'INSIDE'
bb=$1 secs=$2 n=$3 ready=$4 go=$5
d=/sys/devices/system/cpu cache=
for c in $d/cpu$n/cache/index*/shared_cpu_list; do [ -f "$c" ] && cache=$c; done
files="$d/online $d/cpu$n/topology/core_cpus_list $cache"
want=$(printf '%s\nx' "$n")
echo > "$ready"; read -r _ < "$go"
reads=0 bad=0 end=$((SECONDS + secs))
while [ $SECONDS -lt $end ]; do
        for f in $files; do
                r=$("$bb" cat "$f" 2>&1; echo x); reads=$((reads + 1))
                [ "$r" = "$want" ] || { bad=$((bad + 1)); [ $bad = 1 ] && echo "first bad: $f: $r"; }
        done
done
echo "cpu reads $reads bad $bad files $(echo $files | wc -w)"
echo "source=$(findmnt -no FSROOT $d | tail -n 1)"
INSIDE
# The shared tree (MOUNTPOINT/sys/devices/system/cpu), as a reader in the
# root cgroup meets it (any other reader's lookup of the cpu directory gets
# its own cgroup's copy, as below c/<id>/): a file that reads per reader
# reports size 0, as procfs does, so no sendfile reads a page cache another
# reader filled; read() gets it whole. A file the same for every reader
# keeps its size.
shared=$MNT/sys/devices/system/cpu
check_eq "shared tree: cpu0/topology/core_cpus_list reports size 0" 0 \
        "$(cg_exec_root stat -c %s "$shared/cpu0/topology/core_cpus_list")"
check_eq "... and cat (read()) gets the host's text" "$(cat /sys/devices/system/cpu/cpu0/topology/core_cpus_list)" \
        "$(cg_exec_root cat "$shared/cpu0/topology/core_cpus_list")"
check_eq "shared tree: kernel_max (the same for all) reports its length" "$(wc -c < /sys/devices/system/cpu/kernel_max)" \
        "$(cg_exec_root stat -c %s "$shared/kernel_max")"
ncpu_host=$(getconf _NPROCESSORS_ONLN)
if [ "$ncpu_host" -lt 2 ]; then
        echo "# one CPU on the host: the --cpuset 0 / --cpuset 1 checks need two"
else
        mkfifo "$T/goP0" "$T/goP1"; rm -f "$T/readyP0" "$T/readyP1"
        for n in 0 1; do
                cr_bg run --mountpoint "$MNT" --cpuset $n -- bash "$T/cpuloop.sh" "$BUSYBOX" "$LOOP_SECONDS" $n "$T/readyP$n" "$T/goP$n"
                eval "pidP$n=\$CR_PID outP$n=\$CR_OUTF errP$n=\$CR_ERRF"
        done
        wait_file "$T/readyP0" 30 && wait_file "$T/readyP1" 30 || not_ok "the cpuset containers came up"
        cmdP0=$(head -n 1 "$(run_cgroups "$pidP0" | head -n 1)/cgroup.procs")
        treeP0=$MNT/c/run-$pidP0/sys/devices/system/cpu
        echo > "$T/goP0" & echo > "$T/goP1" &
        # first, while P0 surely runs (its loop lasts LOOP_SECONDS from now),
        # P1's cgroup through P0's own mount
        r=$(in_cg "$pidP1" "$SF" open "/proc/$cmdP0/root/sys/devices/system/cpu/cpu0/topology/core_cpus_list")
        check "P1's cgroup: P0's cpu0/topology/core_cpus_list through /proc/PID/root cannot be opened ($r)" denied "$r"
        r=$(in_cg "$pidP1" "$SF" open "/proc/$cmdP0/root/sys/devices/system/cpu/kernel_max")
        check "P1's cgroup: P0's kernel_max through /proc/PID/root cannot be opened ($r)" denied "$r"
        # meanwhile the host's root and P1's cgroup try P0's tree: by its
        # c/ path (a lookup), and through P0's own mount (/proc/PID/root:
        # the kernel holds the inodes, only the GETATTR or OPEN can refuse)
        hostgot=0 hosttries=0 end=$((SECONDS + LOOP_SECONDS))
        while [ $SECONDS -lt $end ]; do
                for f in "$treeP0/cpu0/topology/core_cpus_list" "$treeP0/kernel_max" \
                         "/proc/$cmdP0/root/sys/devices/system/cpu/cpu0/topology/core_cpus_list"; do
                        r=$("$SF" open "$f"); hosttries=$((hosttries + 1))
                        denied "$r" || { hostgot=$((hostgot + 1)); echo "# host root opened $f: $r"; }
                        "$BUSYBOX" cat "$f" 2>/dev/null | grep -q . && hostgot=$((hostgot + 1))
                done
        done
        check_eq "host root: open c/run-P0/sys/devices/system/cpu/kernel_max is ENOENT" ENOENT "$("$SF" open "$treeP0/kernel_max")"
        for n in 0 1; do
                eval "CR_PID=\$pidP$n CR_OUTF=\$outP$n CR_ERRF=\$errP$n"; cr_wait 60
                echo "$OUT" | sed "s/^/# cpuset $n: /"
                check "cpuset $n: busybox cat of online, core_cpus_list, shared_cpu_list: always \"$n\", whole" \
                        grep -q '^cpu reads [1-9][0-9]* bad 0 files 3$' <<<"$OUT"
                check "cpuset $n: /sys/devices/system/cpu is c/run-$CR_PID's" grep -q "^source=/c/run-$CR_PID/sys/devices/system/cpu" <<<"$OUT"
        done
        check_eq "the host's root never opened or read P0's tree ($hosttries tries)" 0 "$hostgot"
fi

# ---- a serving process killed while a container's cwd is in its tree ----------------
# The replacement never saw the container's tree inodes: it resolves the
# cwd's (cpuN/topology) from the reader's cgroup and a walk of the host's
# tree. busybox cat through the old cwd still prints the container's text.
cat > "$T/cpucwd.sh" <<'INSIDE'
bb=$1 ready=$2 go=$3 n=$4
cd /sys/devices/system/cpu/cpu$n/topology || exit 1
echo "before=$("$bb" cat core_cpus_list) $("$bb" cat core_id) $(ls | wc -l)"
echo > "$ready"; read -r _ < "$go"
echo "after=$("$bb" cat core_cpus_list) $("$bb" cat core_id) $(ls | wc -l)"
cache=; for c in ../cache/index*/shared_cpu_list; do cache=$c; done
echo "cache=$("$bb" cat "$cache")"
echo "online=$("$bb" cat ../../online)"
INSIDE
if [ -n "$KIDS" ] && [ "$ncpu_host" -ge 2 ]; then
        mkfifo "$T/goW"; rm -f "$T/readyW"
        cr_bg run --mountpoint "$MNT" --cpuset 1 -- bash "$T/cpucwd.sh" "$BUSYBOX" "$T/readyW" "$T/goW" 1
        if wait_file "$T/readyW" 30; then
                read_kids "$CURATEFS_PID"; old=$KIDS
                for k in $old; do kill -KILL "$k"; done
                for i in $(seq 100); do read_kids "$CURATEFS_PID"; [ -n "$KIDS" ] && [ "$KIDS" != "$old" ] && break; sleep 0.05; done
                check "a new serving process replaced the killed ones ($old -> $KIDS)" test -n "$KIDS" -a "$KIDS" != "$old"
                echo > "$T/goW"
                cr_wait 60
                check_eq "cwd in cpu1/topology: exits 0 ($ERR)" 0 "$RC"
                check "before the kill: busybox cat core_cpus_list is 1 ($(kv before <<<"$OUT"))" \
                        test "$(kv before <<<"$OUT" | cut -d' ' -f1)" = 1
                check_eq "after the kill: the same through the old cwd" "$(kv before <<<"$OUT")" "$(kv after <<<"$OUT")"
                check_eq "after the kill: the cache's shared_cpu_list is 1" 1 "$(kv cache <<<"$OUT")"
                check_eq "after the kill: online is 1" 1 "$(kv online <<<"$OUT")"
        else
                not_ok "the cwd container came up: $(cat "$CR_ERRF")"
        fi
fi

# ---- any cgroup's reader of the shared names: its own sized inode -------------------
# A reader outside the root cgroup that walks a view's shared name
# (MOUNTPOINT/proc/meminfo, what CDI specs and the OCI hook bind) is sent by
# the link proc to its own cgroup's inode, sized: busybox cat reads it whole. A bind made by
# such a reader pins that cgroup's inode; a reader of another cgroup, or of
# the root, that meets it never gets its figures and never fills its page
# cache.
cgA=curate-bbcat-a-$$ cgB=curate-bbcat-b-$$
if cg_create "$cgA" memory=268435456 && cg_create "$cgB" memory=536870912; then
        for c in A B; do
                cg=cgA want=262144; [ $c = B ] && cg=cgB want=524288
                got=$(cg_exec "${!cg}" "$BUSYBOX" cat "$MNT/proc/meminfo" | awk '$1 == "MemTotal:" { t = $2 } END { print t, NR }')
                check_eq "cgroup $c: busybox cat $MNT/proc/meminfo: its own MemTotal, every line" \
                        "$want $(cg_exec "${!cg}" head -n 1000 "$MNT/proc/meminfo" | wc -l)" "$got"
                check_eq "cgroup $c: busybox cat $MNT/sys/devices/system/cpu/online: whole" \
                        "$(cg_exec "${!cg}" head -n 1 "$MNT/sys/devices/system/cpu/online")" \
                        "$(cg_exec "${!cg}" "$BUSYBOX" cat "$MNT/sys/devices/system/cpu/online")"
        done
        # both at once, a fixed number of reads each
        LOOPBB='n=0 bad=0; while [ $n -lt 300 ]; do r=$("$0" cat "$1" | "$0" awk -v w="$2" "\$1 == \"MemTotal:\" { t = \$2 } END { print (t == w && NR > 10) ? \"good\" : \"bad \" t \" \" NR }");
                n=$((n + 1)); [ "$r" = good ] || bad=$((bad + 1)); done; echo "reads $n bad $bad"'
        cg_exec "$cgA" sh -c "$LOOPBB" "$BUSYBOX" "$MNT/proc/meminfo" 262144 > "$T/bbA" & la=$!
        cg_exec "$cgB" sh -c "$LOOPBB" "$BUSYBOX" "$MNT/proc/meminfo" 524288 > "$T/bbB" & lb=$!
        wait $la $lb
        check_eq "cgroups A and B at once: each its own, whole ($(cat "$T/bbA" "$T/bbB" | tr '\n' ' '))" \
                "reads 300 bad 0|reads 300 bad 0" "$(cat "$T/bbA")|$(cat "$T/bbB")"
        # the root cgroup: the shared inode (size 0), the host's figures
        check_eq "root cgroup: $MNT/proc/meminfo is the host's" "$(kb_of MemTotal < /proc/meminfo)" \
                "$(cg_exec_root head -n 1000 "$MNT/proc/meminfo" | kb_of MemTotal)"
        check_eq "root cgroup: it reports size 0" 0 "$(cg_exec_root stat -c %s "$MNT/proc/meminfo")"
        # a bind made from A pins A's inode; others meet it through the bind
        touch "$T/bindA"
        if cg_exec "$cgA" mount --bind "$MNT/proc/meminfo" "$T/bindA"; then
                OUR_MOUNTS+=("$T/bindA")
                for who in root B; do
                        if [ $who = root ]; then run=(cg_exec_root); else run=(cg_exec "$cgB"); fi
                        got=$("${run[@]}" "$BUSYBOX" cat "$T/bindA" 2>/dev/null | kb_of MemTotal)
                        check "$who: busybox cat of A's bind is never A's figures (${got:-nothing})" test "$got" != 262144
                        got=$("${run[@]}" head -n 1000 "$T/bindA" 2>/dev/null | kb_of MemTotal)
                        check "$who: read() of A's bind is never A's figures (${got:-nothing})" test "$got" != 262144
                        r=$("${run[@]}" "$SF" open "$T/bindA")
                        check "$who: cannot open A's bind ($r)" test "$r" = ENOENT -o "$r" = EACCES
                done
                got=$(cg_exec "$cgA" "$BUSYBOX" cat "$T/bindA" | awk '$1 == "MemTotal:" { t = $2 } END { print t, NR }')
                check_eq "A still reads its own through its bind, whole, after those tries" \
                        "262144 $(cg_exec "$cgA" head -n 1000 "$T/bindA" | wc -l)" "$got"
                umount "$T/bindA"
        else
                not_ok "bind $MNT/proc/meminfo from cgroup A"
        fi
        # proc and sys are links each reader follows to its own cgroup's
        # copies: one inode for every reader, so the kernel never drops an
        # entry a bind is being made under (a bind whose source's directory
        # entry was dropped fails with ENOENT: containers started at once)
        tA=$(cg_exec "$cgA" readlink "$MNT/proc") tB=$(cg_exec "$cgB" readlink "$MNT/proc")
        check_eq "root cgroup: $MNT/proc -> .proc (the shared tree)" .proc "$(cg_exec_root readlink "$MNT/proc")"
        check "A's $MNT/proc points below c/ ($tA), B's elsewhere ($tB)" \
                test "${tA#c/@}" != "$tA" -a "${tB#c/@}" != "$tB" -a "$tA" != "$tB"
        check_eq "B cannot walk A's target ($tA)" ENOENT "$(cg_exec "$cgB" "$SF" open "$MNT/$tA/meminfo")"
        # c/<id>'s directories are kept by the kernel (their entries and
        # attributes never change) while c/<id> and each view are asked at
        # every walk: a process standing in A's copy that moves to B gets no
        # view through it (the walk from its cwd passes no LOOKUP of c/<id>)
        tAs=$(cg_exec "$cgA" readlink "$MNT/sys")
        MOVE='cd "$1" || exit 1; echo "A:$("$3" open "$4")"; for d in $2; do echo $$ > $d/cgroup.procs || exit 125; done
              echo "B:$("$3" open "$4")"; ls >/dev/null 2>&1 && echo "B:listed" || echo "B:no-list"'
        for where in "$tA meminfo" "$tAs/devices/system/cpu online"; do
                read -r wdir wfile <<<"$where"
                r=$(cg_exec "$cgA" bash -c "$MOVE" _ "$MNT/$wdir" "$(_cg_dirs "$cgB")" "$SF" "$wfile" | tr '\n' ' ')
                check "moved from A to B with its cwd in A's $wdir: opens $wfile there as A, not as B, nor lists it ($r)" \
                        eval 'case "$r" in "A:ok B:ENOENT B:no-list " | "A:ok B:EACCES B:no-list ") true ;; *) false ;; esac'
        done
        BINDS='f=0; touch "$1"; for i in $(seq 200); do unshare -m --propagation private sh -c "mount --bind $0/proc/meminfo $1 && mount --bind $0/sys/devices/system/cpu/online $1" 2>/dev/null || f=$((f + 1)); done; echo "$f"'
        cg_exec "$cgA" bash -c "$BINDS" "$MNT" "$T/tgtA" > "$T/bfA" & la=$!
        cg_exec "$cgB" bash -c "$BINDS" "$MNT" "$T/tgtB" > "$T/bfB" & lb=$!
        wait $la $lb
        check_eq "cgroups A and B binding the shared names at once, 200 times each: no bind fails" "0 0" \
                "$(cat "$T/bfA") $(cat "$T/bfB")"
else
        not_ok "cgroups $cgA and $cgB made"
fi

finish
