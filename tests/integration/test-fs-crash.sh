#!/bin/bash
# The daemon may die: curatefs's serving processes (the children of the
# holder, the pid the pid file names) are killed with SIGKILL every 0.5-2 s
# while 8 readers in 4 containers (`curate run --memory 256M`, view-reader
# with 2 threads each) loop over the views, /dev lookups and opens. Every
# reader must see zero failed operations, none over 1 s and the container's
# own figures (MemTotal of its limit); the holder stays; each kill's
# recovery time is measured and printed. Then one kill while readers
# lseek(0)+read files they hold open, and a launch soak: many `curate run`s
# with 2 reader containers beside them, the daemon's RSS and fd count flat.
#
# Environment (the defaults fit CI; bench/run-crash.sh runs the long version):
#   CRASH_SECONDS          seconds of kills in the default recovery mode (30)
#   CRASH_JOURNAL_SECONDS  seconds of kills in the other modes (20)
#   CRASH_MODES            recovery modes to run ("auto journal"): auto is the
#                          daemon as `curate daemon start` starts it; any other
#                          is started here as `curatefs --recovery MODE`
#   SOAK_LAUNCHES          launches in the soak (1000; 0 to leave it out)
#   CRASH_STALL_MS         the longest an operation may take (1000 ms)
#   VIEW_READER            the reader binary (default $BUILD_ROOT/tests/view-reader)
#
# Lines starting "# figures " carry the measured figures as KEY=VALUE pairs.
#
# Recovery time of one kill, three ways:
#   rec        kill -> a replacement serving process exists and a read through
#              the mount (issued after it appeared) is answered
#   first      kill -> the first answer to a read issued right after the kill
#   at_kill    the readers' view: the longest time past the kill that an
#              operation in flight at the kill took to finish (the readers log
#              operations over 10 ms; 0 means none in flight took longer)
. "$(dirname "$0")/lib.sh"
require_curate
export LC_ALL=C

READER_BIN=${VIEW_READER:-${BUILD_ROOT:-}/tests/view-reader}
# the longest a reader's operation may take (ms); the qemu guest under TCG
# emulation runs everything several times slower and sets it higher
STALL_MS=${CRASH_STALL_MS:-1000}
[ -x "$READER_BIN" ] || skip "view-reader not built ($READER_BIN)"
CRASH_SECONDS=${CRASH_SECONDS:-30}
CRASH_JOURNAL_SECONDS=${CRASH_JOURNAL_SECONDS:-20}
# uring: FUSE over io_uring, where the kernel has it (the switch is turned on for it)
CRASH_MODES=${CRASH_MODES-auto journal$([ -w /sys/module/fuse/parameters/enable_uring ] && echo " uring")}
SOAK_LAUNCHES=${SOAK_LAUNCHES:-1000}
MEMTOTAL_256M=262144

run_tmpdir
# the containers get a private /tmp: the reader goes beside the test's files
cp "$READER_BIN" "$T/view-reader"
READER=$T/view-reader
mkfifo "$T/tick"
exec {TICK_FD}<>"$T/tick" # read -t on it is a builtin sleep: nothing ever arrives

# ---- helpers ------------------------------------------------------------------------------

# read_kids HOLDER: KIDS, the holder's children (the serving processes), with
# builtins only: the kill loop runs it in a tight loop
read_kids() {
        local f l
        KIDS=""
        for f in /proc/"$1"/task/*/children; do
                l=""
                read -r l <"$f" 2>/dev/null
                KIDS+=" $l"
        done
        KIDS=${KIDS## }
}
alive() { # PID: it exists and is not a zombie (pid 1 here may reap late)
        local s
        s=$(sed 's/.*) //' /proc/"$1"/stat 2>/dev/null | cut -d' ' -f1)
        [ -n "$s" ] && [ "$s" != Z ]
}
live_kids() { # HOLDER: its children that are not zombies
        local p
        read_kids "$1"
        for p in $KIDS; do alive "$p" && echo "$p"; done | tr '\n' ' ' | sed 's/ $//'
}
# holder_of MOUNTPOINT: the pid `curate daemon status` names (its "holder:"
# line's, else the first curatefs pid it names)
holder_of() {
        local p
        cr daemon status --mountpoint "$1"
        for p in $(sed -n 's/.*holder: pid \([0-9]*\).*/\1/p' <<<"$OUT") $(grep -o '[0-9][0-9]*' <<<"$OUT"); do
                [ "$(cat /proc/"$p"/comm 2>/dev/null)" = curatefs ] && { echo "$p"; return; }
        done
}

# kill_one HOLDER PROBE_FILE: SIGKILL one of the holder's serving processes,
# chosen at random, and measure the recovery (see the top). Prints
# "VICTIM REC_US FIRST_US KILL_TIME_US PROBE_ERRORS" or "VICTIM fail WHY".
# Returns 2 when the holder has no child to kill.
kill_one() {
        local holder=$1 probe=$2 old victim t0 t now first="" seen="" rec="" x p perr=0
        local -a kids
        read_kids "$holder"
        kids=($KIDS)
        [ ${#kids[@]} -gt 0 ] || { echo "- fail no-serving-process"; return 2; }
        victim=${kids[RANDOM % ${#kids[@]}]}
        old=" $KIDS "
        t0=${EPOCHREALTIME/./}
        kill -KILL "$victim" 2>/dev/null || { echo "$victim fail kill"; return 1; }
        while :; do
                now=${EPOCHREALTIME/./}
                if [ -z "$seen" ]; then
                        read_kids "$holder"
                        for p in $KIDS; do [[ $old == *" $p "* ]] || seen=$p; done
                fi
                if { read -r x <"$probe"; } 2>/dev/null; then
                        t=${EPOCHREALTIME/./}
                        [ -z "$first" ] && first=$((t - t0))
                        # this read left after the replacement was seen
                        [ -n "$seen" ] && { rec=$((t - t0)); break; }
                else
                        perr=$((perr + 1)) # failed, or read nothing
                fi
                if [ $((now - t0)) -gt 5000000 ]; then
                        echo "$victim fail no-recovery-in-5s first=${first:-none} replacement=${seen:-none} probe_errors=$perr"
                        return 1
                fi
                read -r -t 0.001 -u "$TICK_FD" x
        done
        alive "$holder" || { echo "$victim fail holder-died"; return 1; }
        echo "$victim $rec $first $t0 $perr"
}
# kill_one_bounded HOLDER PROBE_FILE: kill_one, given 10 s (a probe read
# that never returns must not hang the test)
kill_one_bounded() {
        (trap - EXIT; kill_one "$@") >"$T/kill-one" 2>&1 &
        local p=$! i
        OUR_PIDS+=("$p")
        for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$p" 2>/dev/null && { kill -KILL "$p"; echo "- fail probe-read-blocked-10s"; }
        wait "$p" 2>/dev/null
        cat "$T/kill-one"
}

# kill_loop HOLDER PROBE SECONDS: kill_one every 0.5-2 s (random) for
# SECONDS; one line per kill
kill_loop() {
        local end=$(( ${EPOCHREALTIME/./} + $3 * 1000000 )) ms s
        while [ "${EPOCHREALTIME/./}" -lt "$end" ]; do
                ms=$((500 + RANDOM % 1501))
                printf -v s '%d.%03d' $((ms / 1000)) $((ms % 1000))
                sleep "$s"
                [ "${EPOCHREALTIME/./}" -lt "$end" ] || break
                kill_one "$1" "$2"
                [ $? = 2 ] && break
        done
        return 0
}

# stats: "median p90 max" (ms, one decimal) of the microsecond values on stdin
stats() {
        sort -n | awk '{ v[++n] = $1 } END {
                if (!n) { print "- - -"; exit }
                p = int(0.9 * n); if (p < 0.9 * n) p++
                printf "%.1f %.1f %.1f\n", v[int((n + 1) / 2)] / 1000, v[p] / 1000, v[n] / 1000 }'
}

# at_kill KILLS LOG...: per kill, how long past it the longest reader
# operation in flight at the kill ran (us; 0 when none was logged)
at_kill() {
        local kills=$1; shift
        awk 'FNR == NR { if ($2 != "fail") k[++n] = $4; next }
             /^view-reader: (slow|stall|fail) t=/ {
                t = substr($3, 3); ms = substr($5, 4)
                sub(/\./, "", t); s = t + 0; e = s + ms * 1000
                for (i = 1; i <= n; i++) if (s <= k[i] && e > k[i] && e - k[i] > m[i]) m[i] = e - k[i]
             }
             END { for (i = 1; i <= n; i++) print m[i] + 0 }' "$kills" "$@"
}

# daemon_figures HOLDER: "RSS_KB FDS ANON_KB SHMEM_KB KEPT BOUND" summed over
# the holder and its children; FDS leaves out the readers' /proc/PID/cgroup
# files a serving thread keeps open (fs/pidcg.c), which are KEPT; BOUND is
# what those may come to, 32 a thread. The fewest fds of 5 looks 20 ms
# apart (a request being served holds a cgroup file open for a moment)
daemon_figures() {
        local p rss=0 fds n k r kept=0 bound=0 c
        for ((k = 0; k < 5; k++)); do
                n=0 c=0
                for p in "$1" $(live_kids "$1"); do
                        n=$((n + $(ls /proc/"$p"/fd 2>/dev/null | wc -l)))
                        c=$((c + $(ls -l /proc/"$p"/fd 2>/dev/null | grep -c '/proc/[0-9]*/cgroup$')))
                done
                [ -z "${fds:-}" ] || [ $((n - c)) -lt "$fds" ] && fds=$((n - c)) kept=$c
                sleep 0.02
        done
        for p in "$1" $(live_kids "$1"); do bound=$((bound + 32 * $(ls /proc/"$p"/task 2>/dev/null | wc -l))); done
        local anon=0 shm=0 a s
        for p in "$1" $(live_kids "$1"); do
                # a here-string, not <(...): the qemu guest has no /dev/fd
                read -r r a s <<<"$(awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } /^RssShmem:/ { s = $2 }
                                        END { print r + 0, a + 0, s + 0 }' /proc/"$p"/status 2>/dev/null)"
                rss=$((rss + ${r:-0})) anon=$((anon + ${a:-0})) shm=$((shm + ${s:-0}))
        done
        echo "$rss $fds $anon $shm $kept $bound"
}

# field KEY LINE: the value of KEY=VALUE in a summary line (0 when absent)
field() { awk -v k="$1" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) { print substr($i, length(k) + 2); exit } }' <<<"$2" | grep . || echo 0; }

# start_readers MNT N NAME ARGS...: N containers each running
# "view-reader ARGS -n NAME<k>"; their curate pids in RD_PIDS, out/err files
# in RD_OUT/RD_ERR
start_readers() {
        local mnt=$1 n=$2 name=$3 k; shift 3
        RD_PIDS=() RD_OUT=() RD_ERR=()
        for ((k = 1; k <= n; k++)); do
                cr_bg run --mountpoint "$mnt" --memory 256M -- "$READER" "$@" -n "$name$k"
                RD_PIDS+=("$CR_PID") RD_OUT+=("$CR_OUTF") RD_ERR+=("$CR_ERRF")
        done
}
# wait_readers SECONDS DESC: collect start_readers' containers; each must
# exit 0 with a clean summary. Sums ops into RD_OPS and the largest max_ms
# into RD_MAX_MS, errors and stalls into RD_ERRORS.
# With ALLOW_CANCELED=1 (FUSE over io_uring, see crash_mode) a failure with
# ECANCELED is counted into RD_CANCELED instead of failing the reader.
wait_readers() {
        local k line bad=0 canceled errors
        RD_OPS=0 RD_MAX_MS=0 RD_ERRORS=0 RD_CANCELED=0
        for k in "${!RD_PIDS[@]}"; do
                CR_PID=${RD_PIDS[$k]} CR_OUTF=${RD_OUT[$k]} CR_ERRF=${RD_ERR[$k]}
                cr_wait "$1"
                line=$(grep 'ops=' <<<"$OUT" | tail -1)
                echo "#   $line (exit $RC)"
                canceled=0
                if [ "${ALLOW_CANCELED:-0}" = 1 ]; then
                        canceled=$(grep -c '^view-reader: fail .* errno=ECANCELED$' <<<"$ERR")
                        errors=$(field errors "$line")
                        RD_CANCELED=$((RD_CANCELED + canceled))
                        # the reader's status reflects its errors: only
                        # ECANCELED ones, nothing else wrong, pass
                        if [ "$errors" = "$canceled" ] && grep -q ' stalls=0 .* hung=0 ' <<<"$line"; then
                                line=${line/ errors=$errors / errors=0 }
                                RC=0
                        fi
                fi
                if [ "$RC" != 0 ] || ! grep -q ' errors=0 stalls=0 .* hung=0 ' <<<"$line"; then
                        bad=$((bad + 1))
                        grep -v '^view-reader: slow ' <<<"$ERR" | head -20 | sed 's/^/#     /'
                fi
                RD_OPS=$((RD_OPS + $(field ops "$line")))
                RD_ERRORS=$((RD_ERRORS + $(field errors "$line") + $(field stalls "$line") + $(field hung "$line")))
                [ -n "$line" ] || RD_ERRORS=$((RD_ERRORS + 1)) # no summary: it died
                RD_MAX_MS=$(awk -v a="$RD_MAX_MS" -v b="$(field max_ms "$line")" 'BEGIN { print (b + 0 > a + 0) ? b : a }')
        done
        check_eq "$2: every reader exits 0 with no error, stall or hang" 0 "$bad"
}
# no_leftovers DESC: no reader process left, no run cgroup left
no_leftovers() {
        local p left="" cgs=""
        left=$(pgrep -f "^$READER " | tr '\n' ' ')
        for p in "${RD_PIDS[@]}"; do cgs+=$(run_cgroups "$p"); done
        check_eq "$1: no reader process left" "" "$left"
        check_eq "$1: no run cgroup left" "" "$cgs"
}

# start_daemon MODE MNT: HOLDER, the daemon serving MNT in recovery MODE
start_daemon() {
        local mode=$1 mnt=$2
        HOLDER=""
        if [ "$mode" = auto ]; then
                cr daemon start --mountpoint "$mnt"
                [ "$RC" = 0 ] && HOLDER=$(holder_of "$mnt")
        elif [ "$mode" = uring ]; then
                # FUSE over io_uring (recovery auto): the switch on while it mounts
                uring_on || { ERR="this kernel has no FUSE over io_uring"; return 1; }
                "$CURATEFS" --transport uring -p "/run/curate/curatefs-${mnt//\//_}.pid" "$mnt" >"$T/$mode.log" 2>&1
                [ $? = 0 ] && HOLDER=$(cat "/run/curate/curatefs-${mnt//\//_}.pid" 2>/dev/null)
                OUR_DIRS+=("/run/curate/curatefs-${mnt//\//_}.pid")
                ERR=$(cat "$T/$mode.log")
        else
                "$CURATEFS" --recovery "$mode" -p "$T/$mode.pid" "$mnt" >"$T/$mode.log" 2>&1
                [ $? = 0 ] && HOLDER=$(cat "$T/$mode.pid" 2>/dev/null)
                ERR=$(cat "$T/$mode.log")
        fi
        [ -n "$HOLDER" ] && kill -0 "$HOLDER" 2>/dev/null
}
stop_daemon() { # MODE MNT
        local i
        if [ "$1" = auto ]; then
                cr daemon stop --mountpoint "$2"
        else
                kill -TERM "$HOLDER" 2>/dev/null
        fi
        for i in $(seq 100); do alive "$HOLDER" || break; sleep 0.1; done
}

# ---- the expected figures --------------------------------------------------------------------

fresh_mountpoint; M0=$FRESH
# head, not cat: busybox's cat (the qemu guest's) uses sendfile(2), which reads
# a size-0 FUSE file as empty on Linux 6.5-6.18 (see README, Kernel note)
cr run --mountpoint "$M0" --memory 256M -- head -n 1 /sys/devices/system/cpu/online
ONLINE=$OUT
check "a container's cpu online list reads ($ONLINE$ERR)" test "$RC" = 0 -a -n "$ONLINE"
cr run --mountpoint "$M0" --memory 256M -- "$READER" -d 1 -j 2 -O all -m $MEMTOTAL_256M -o "$ONLINE" -t
check "view-reader runs clean in a container with no kills ($OUT$ERR)" test "$RC" = 0
cr daemon stop --mountpoint "$M0"

# ---- kills while readers loop -----------------------------------------------------------------

crash_mode() { # MODE SECONDS
        local mode=$1 secs=$2 M kids0 kids1 n_kills n_fail rec first atk line holder_now
        echo "# --- recovery mode $mode: kills for ${secs}s, 8 readers in 4 containers"
        fresh_mountpoint; M=$FRESH
        if ! start_daemon "$mode" "$M"; then
                not_ok "$mode: the daemon starts ($ERR)"
                return
        fi
        ok "$mode: the daemon starts (holder $HOLDER)"
        kids0=$(live_kids "$HOLDER")
        check "$mode: the holder has serving processes (children: '$kids0')" test -n "$kids0"
        [ -n "$kids0" ] || secs=2 # an old single-process daemon: just the readers

        [ "$mode" = uring ] && ALLOW_CANCELED=1 || ALLOW_CANCELED=0
        start_readers "$M" 4 "$mode-c" -d $((secs + 3)) -j 2 -O all -m $MEMTOTAL_256M -o "$ONLINE" -b "$STALL_MS" -t -L 10
        # the control: a reader of the host's own /proc (no FUSE) beside them,
        # to tell a busy machine from a daemon that stopped answering
        "$READER" -d $((secs + 3)) -O meminfo,loadavg,stat -b "$STALL_MS" -n "$mode-control" >"$T/control-$mode" 2>&1 &
        local control=$!
        OUR_PIDS+=("$control")
        sleep 1
        (trap - EXIT; kill_loop "$HOLDER" "$M/proc/loadavg" "$secs") >"$T/kills-$mode" 2>&1 &
        local killer=$!
        OUR_PIDS+=("$killer")
        local i
        for ((i = 0; i < (secs + 20) * 10; i++)); do kill -0 "$killer" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$killer" 2>/dev/null; then
                not_ok "$mode: the kill loop finishes (its probe read is blocked: $(tail -1 "$T/kills-$mode"))"
                kill -KILL "$killer"
        fi
        wait "$killer" 2>/dev/null
        wait_readers $((secs + 30)) "$mode"
        wait "$control"
        echo "# $mode: control reader of the host's /proc (no FUSE): $(tail -1 "$T/control-$mode")"
        echo "# $mode: load average now $(cut -d' ' -f1-3 /proc/loadavg)"
        if [ "$RD_ERRORS" != 0 ]; then
                echo "# $mode: the kills (victim, recovery us, first answer us, kill time us, probe errors):"
                sed 's/^/#   kill: /' "$T/kills-$mode"
        fi

        n_kills=$(grep -c -v '^- ' "$T/kills-$mode")
        n_fail=$(grep -c ' fail' "$T/kills-$mode")
        local perrs; perrs=$(awk '$2 != "fail" { n += $5 } END { print n + 0 }' "$T/kills-$mode")
        grep ' fail' "$T/kills-$mode" | head -5 | sed 's/^/#   kill: /'
        rec=$(awk '$2 != "fail" { print $2 }' "$T/kills-$mode" | stats)
        first=$(awk '$2 != "fail" { print $3 }' "$T/kills-$mode" | stats)
        atk=$(at_kill "$T/kills-$mode" "${RD_ERR[@]}" | stats)
        echo "# $mode: $n_kills kills; recovery ms (median p90 max): rec $rec, first $first, at_kill $atk"
        echo "# figures crash mode=$mode seconds=$secs kills=$n_kills kill_failures=$n_fail ops=$RD_OPS" \
                "errors=$RD_ERRORS probe_errors=$perrs max_op_ms=$RD_MAX_MS rec_ms=${rec// //} first_ms=${first// //} at_kill_ms=${atk// //}"
        if [ -n "$kids0" ]; then
                check "$mode: serving processes were killed ($n_kills)" test "$n_kills" -gt 0
                check_eq "$mode: every kill recovered" 0 "$n_fail"
                if [ "$mode" = uring ]; then
                        # the kernel fails (ECANCELED) a request it hands a
                        # dead process's armed entry before it tears that
                        # process's ring down: one entry per CPU queue
                        local bound=$((n_kills * $(getconf _NPROCESSORS_CONF)))
                        echo "# figures crash-uring kills=$n_kills canceled_reads=$RD_CANCELED probe_failures=$perrs bound=$bound"
                        check "$mode: reads failed by the kernel's ECANCELED ($RD_CANCELED) and failed probes ($perrs) stay within one per CPU and kill ($bound)" \
                                test $((RD_CANCELED + perrs)) -le "$bound"
                else
                        check_eq "$mode: every probe read after a kill succeeded" 0 "$perrs"
                fi
        fi

        check "$mode: the holder $HOLDER is alive" alive "$HOLDER"
        if [ "$mode" = auto ]; then holder_now=$(holder_of "$M")
        elif [ "$mode" = uring ]; then holder_now=$(cat "/run/curate/curatefs-${M//\//_}.pid" 2>/dev/null)
        else holder_now=$(cat "$T/$mode.pid" 2>/dev/null); fi
        check_eq "$mode: the daemon's pid is still the holder's" "$HOLDER" "$holder_now"
        kids1=$(live_kids "$HOLDER")
        check_eq "$mode: as many serving processes as before the kills" "$(wc -w <<<"$kids0")" "$(wc -w <<<"$kids1")"
        check "$mode: the mount answers on the host" grep -q '^MemTotal:' "$M/proc/meminfo"
        cr run --mountpoint "$M" --memory 256M -- awk '/^MemTotal:/ { print $2 }' /proc/meminfo
        check_eq "$mode: a new container sees its MemTotal ($ERR)" "0 $MEMTOTAL_256M" "$RC $OUT"
        no_leftovers "$mode"

        # a kill while files are held open and re-read with lseek(0)+read
        # (top's way): their handles must survive the serving process
        if [ -n "$kids1" ]; then
                start_readers "$M" 1 "$mode-seek" -d 4 -j 2 -O seek -m $MEMTOTAL_256M -b "$STALL_MS" -t
                "$READER" -r "$M" -d 4 -j 2 -O seek,online -b "$STALL_MS" -t -n "$mode-host-seek" >"$T/host-seek" 2>&1 &
                local hs=$!
                OUR_PIDS+=("$hs")
                sleep 1.5
                line=$(kill_one_bounded "$HOLDER" "$M/proc/loadavg")
                echo "# $mode: one kill under held-open files: $line"
                check "$mode: that kill recovered ($line)" test "$(cut -d' ' -f2 <<<"$line")" != fail
                local hs_rc hs_canceled=0 ncpu
                ncpu=$(getconf _NPROCESSORS_CONF)
                wait "$hs"
                hs_rc=$?
                if [ "$mode" = uring ]; then
                        # as above: ECANCELED for a request handed to the dead
                        # process's armed entries, one per CPU queue at most
                        hs_canceled=$(grep -c '^view-reader: fail .* errno=ECANCELED$' "$T/host-seek")
                        [ "$hs_rc" != 0 ] && [ "$(field errors "$(grep 'ops=' "$T/host-seek" | tail -1)")" = "$hs_canceled" ] &&
                                grep -q ' stalls=0 .* hung=0 ' "$T/host-seek" && hs_rc=0
                        check "$mode: the probe's failed reads after that kill ($(cut -d' ' -f5 <<<"$line")) and the host readers' ECANCELED ($hs_canceled) stay within one per CPU ($ncpu)" \
                                test $(( $(cut -d' ' -f5 <<<"$line") + hs_canceled )) -le "$ncpu"
                else
                        check_eq "$mode: the probe's reads after that kill all succeeded" 0 "$(cut -d' ' -f5 <<<"$line")"
                fi
                check "$mode: the host's held-open readers see no error ($(cat "$T/host-seek"))" test "$hs_rc" = 0
                wait_readers 30 "$mode, held-open files"
                no_leftovers "$mode, held-open files"
        fi

        local all_kids; all_kids=$(live_kids "$HOLDER")
        stop_daemon "$mode" "$M"
        check "$mode: the holder exits when stopped" test -z "$(alive "$HOLDER" && echo alive)"
        local p left=""
        for p in $all_kids; do alive "$p" && left+="$p "; done
        check_eq "$mode: and its serving processes with it" "" "$left"
        check_eq "$mode: nothing is mounted at $M" 0 "$(fuse_mounts_at "$M")"
}

recovery_supported=0
"$CURATEFS" --help 2>&1 | grep -q -- '--recovery' && recovery_supported=1
for mode in $CRASH_MODES; do
        if [ "$mode" != auto ] && [ "$recovery_supported" = 0 ]; then
                not_ok "$mode: curatefs has no --recovery option yet"
                continue
        fi
        if [ "$mode" = auto ]; then crash_mode auto "$CRASH_SECONDS"; else crash_mode "$mode" "$CRASH_JOURNAL_SECONDS"; fi
done

# ---- launch soak --------------------------------------------------------------------------------

if [ "$SOAK_LAUNCHES" -gt 0 ]; then
        echo "# --- soak: $SOAK_LAUNCHES launches beside 2 reader containers"
        fresh_mountpoint; MS=$FRESH
        # AddressSanitizer's quarantine keeps freed memory (up to 256 MiB):
        # without it an ASAN daemon's RSS is as flat as a plain one's
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0" \
                start_daemon auto "$MS"
        check "soak: the daemon starts ($ERR)" test -n "$HOLDER"
        rm -f "$T/soak-stop"
        start_readers "$MS" 2 soak-c -d 3600 -s "$T/soak-stop" -j 1 -O all -m $MEMTOTAL_256M -o "$ONLINE" -b "$STALL_MS" -t
        launch() { "$CURATE" run --mountpoint "$MS" --memory 64M -- true 2>"$T/launch-err"; }
        # the daemon keeps a gone container's cgroup record and node
        # snapshots until the sampler's next pass finds it gone (every
        # LOAD_FREQ_SEC, 5 s; a node's snapshot once idle for 2 s), and at
        # ~100 launches a second those are megabytes: each figure is taken
        # once a pass has dropped them, launches paused, the readers going on
        # The heap in use (`curate daemon status --json`, glibc's mallinfo2 at
        # the sampler's last pass) is the leak check; RSS, which also counts
        # what malloc keeps of freed memory in partly used pages (its arenas'
        # fragmentation: 300-800 kB over the second half here, whatever the
        # transport), only a loose bound on the rest (stacks, mappings).
        heap_of() { # grep, not python: the qemu guest is busybox
                local v
                v=$("$CURATE" daemon status --json --mountpoint "$1" 2>/dev/null |
                        grep -o '"heap_in_use_bytes": *[0-9]*' | grep -o '[0-9]*$')
                echo "${v:--1}"
        }
        settled_figures() { sleep 8; echo "$(daemon_figures "$1") $(heap_of "$MS")"; }
        for i in $(seq 20); do launch; done # warm-up: caches filled
        fig0=$(settled_figures "$HOLDER")
        failed=0 first_err="" t0=${EPOCHREALTIME/./}
        for ((i = 1; i <= SOAK_LAUNCHES; i++)); do
                if ! launch; then
                        failed=$((failed + 1))
                        [ -z "$first_err" ] && first_err="launch $i: $(head -c 300 "$T/launch-err")"
                fi
                if [ "$i" = $((SOAK_LAUNCHES / 2)) ]; then
                        t_mid=${EPOCHREALTIME/./}
                        fig1=$(settled_figures "$HOLDER")
                        t0=$((t0 + ${EPOCHREALTIME/./} - t_mid))
                fi
        done
        t1=${EPOCHREALTIME/./}
        fig2=$(settled_figures "$HOLDER")
        touch "$T/soak-stop"
        wait_readers 60 "soak"
        # nothing is killed here, so no request may fail: a view's entry taken
        # for idle while in use (a stamp later than a thread's clock reading,
        # fs/clock.h) made opens fail ESTALE, which the kernel's retry hid
        soak_failed=$("$CURATE" daemon status --json --mountpoint "$MS" 2>/dev/null |
                grep -o '"requests_failed": *[0-9]*' | grep -o '[0-9]*$')
        check_eq "soak: the daemon failed no request (requests_failed)" 0 "${soak_failed:--1}"
        r0= f0= a0= s0= k0= b0= h0= r1= f1= a1= s1= k1= b1= h1= r2= f2= a2= s2= k2= b2= h2=
        read -r r0 f0 a0 s0 k0 b0 h0 <<<"$fig0"
        read -r r1 f1 a1 s1 k1 b1 h1 <<<"${fig1:-$fig0}"
        read -r r2 f2 a2 s2 k2 b2 h2 <<<"$fig2"
        echo "# soak: $SOAK_LAUNCHES launches in $(( (t1 - t0) / 1000 )) ms; daemon RSS kB start/mid/end $r0/$r1/$r2" \
                "(of which anonymous $a0/$a1/$a2, shared memory $s0/$s1/$s2), heap in use bytes $h0/$h1/$h2, fds $f0/$f1/$f2" \
                "besides the kept cgroup files $k0/$k1/$k2 (at most $b0/$b1/$b2)" \
                "(holder and serving processes: $HOLDER $(live_kids "$HOLDER"))"
        echo "# figures soak launches=$SOAK_LAUNCHES failed=$failed ms=$(( (t1 - t0) / 1000 )) rss_kb=$r0/$r1/$r2" \
                "anon_kb=$a0/$a1/$a2 shmem_kb=$s0/$s1/$s2 heap_bytes=$h0/$h1/$h2 fds=$f0/$f1/$f2 kept_fds=$k0/$k1/$k2 reader_ops=$RD_OPS reader_errors=$RD_ERRORS"
        check_eq "soak: every launch exits 0 (${first_err})" 0 "$failed"
        # the first half is warm-up (serving threads started as readers and launches overlap, their
        # malloc arenas and stacks): a leak shows as growth over the second half, where 256 KiB
        # of heap over SOAK_LAUNCHES/2 launches is 512 bytes a launch at the default 1000, and
        # 2048 kB of RSS 4 kB a launch
        if curatefs_asan; then
                echo "# soak: heap in use not checked under ASan (its allocator is not glibc's; LeakSanitizer checks at exit)"
        else
                check "soak: the daemon's heap in use was read at all three points ($h0/$h1/$h2)" \
                        test "${h0:--1}" -gt 0 -a "${h1:--1}" -gt 0 -a "${h2:--1}" -gt 0
                check "soak: its heap in use stays flat over the second half (end $h2 <= mid $h1 + 262144 bytes; start $h0)" \
                        test "${h2:-0}" -le $((${h1:-0} + 262144))
        fi
        check "soak: the daemon's RSS was read at all three points ($r0/$r1/$r2)" test "$r0" -gt 0 -a "$r1" -gt 0 -a "$r2" -gt 0
        check "soak: the daemon's RSS stays within 4 kB a launch over the second half (end $r2 kB <= mid $r1 kB + 2048; start $r0 kB)" \
                test "$r2" -le $((r1 + 2048))
        check "soak: its fd count stays flat (start $f0, end $f2, within 2; the kept cgroup files aside)" \
                test $((f2 - f0)) -le 2 -a $((f0 - f2)) -le 2
        check "soak: the kept cgroup files stay within 32 a thread (start $k0, mid $k1, end $k2 <= $b2)" \
                test "${k2:-0}" -le "${b2:-0}" -a "${b2:-0}" -gt 0
        no_leftovers "soak"
        stop_daemon auto "$MS"
fi

finish
