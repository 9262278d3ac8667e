#!/bin/bash
# curatefs as a holder (the pid file's process: it mounts and keeps the
# /dev/fuse fd) and serving processes (its children, curatefs re-executed
# with CURATEFS_SERVE set). `curate daemon restart` replaces the serving
# processes under running containers, which must not see one read fail;
# `curate daemon status` lists the parts and tells a binary replaced on disk,
# which a restart then picks up.
. "$(dirname "$0")/lib.sh"
require_curate
export LC_ALL=C

run_tmpdir
LIMIT_KB=262144 # --memory 256M

# parts MOUNTPOINT: `curate daemon status` into RC and OUT; HOLDER (the pid
# of its first line, the pid file's), SERVING (the serving pids, sorted,
# space-separated), SERVING_LINES and HOLDER_LINE
parts() {
        cr daemon status --mountpoint "$1"
        HOLDER=$(sed -n '1s/^curatefs running at .* (pid \([0-9][0-9]*\))$/\1/p' <<<"$OUT")
        SERVING=$(sed -n 's/^  serving: pid \([0-9][0-9]*\),.*/\1/p' <<<"$OUT" | sort -n | tr '\n' ' ' | sed 's/ $//')
        SERVING_LINES=$(grep '^  serving: ' <<<"$OUT")
        HOLDER_LINE=$(grep '^  holder: ' <<<"$OUT")
}
# children_of PID: PID's children (by PPid: /proc/PID/task/*/children needs
# CONFIG_PROC_CHILDREN), zombies left out, sorted, space-separated
children_of() {
        local f line st pp pids=()
        for f in /proc/[0-9]*/stat; do
                read -r line 2>/dev/null <"$f" || continue
                read -r st pp _ <<<"${line##*) }"
                [ "$pp" = "$1" ] && [ "$st" != Z ] && { f=${f#/proc/}; pids+=("${f%/stat}"); }
        done
        printf '%s\n' "${pids[@]}" | sort -n | tr '\n' ' ' | sed 's/^ *//; s/ $//'
}
gone() { local p; for p in $1; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
same_file() { [ "$(stat -L -c %d:%i "$1")" = "$(stat -L -c %d:%i "$2")" ]; }
not_same_file() { ! same_file "$@"; }

# ---- the readers: containers reading views and /dev until $T/stop exists ----------------
# The C helper where it is built (copied beside the test's files: a run gets
# a private /tmp, where the build tree may be), else a shell loop. Both end
# with a line "NAME ops=N errors=N ...".
READER=""
if [ -x "${BUILD_ROOT:-}/tests/view-reader" ]; then
        cp "$BUILD_ROOT/tests/view-reader" "$T/view-reader" && READER=$T/view-reader
fi
SHELL_READER='stop=$1 name=$2 limit=$3 ops=0 bad=0
while [ ! -e "$stop" ]; do
        m=$(awk "/^MemTotal:/ { print \$2 }" /proc/meminfo) || true
        if [ "$m" = "$limit" ]; then ops=$((ops + 1)); else bad=$((bad + 1)); echo "meminfo: \"$m\"" >&2; fi
        if head -c 64 /proc/loadavg >/dev/null; then ops=$((ops + 1)); else bad=$((bad + 1)); fi
        if cat /dev/null; then ops=$((ops + 1)); else bad=$((bad + 1)); fi
        if ls /dev >/dev/null; then ops=$((ops + 1)); else bad=$((bad + 1)); fi
done
echo "$name ops=$ops errors=$bad stalls=0 hung=0"'
echo "# readers: ${READER:-a shell loop (tests/view-reader not built)}"

declare -a RD_PIDS=() RD_OUTS=()
start_readers() { # MOUNTPOINT N
        local k
        rm -f "$T/stop"
        RD_PIDS=() RD_OUTS=()
        for k in $(seq "$2"); do
                if [ -n "$READER" ]; then
                        cr_bg run --mountpoint "$1" --memory 256M -- "$READER" -d 600 -s "$T/stop" -m "$LIMIT_KB" \
                                -O meminfo,loadavg,stat,null,devdir -t -n "c$k"
                else
                        cr_bg run --mountpoint "$1" --memory 256M -- bash -c "$SHELL_READER" reader "$T/stop" "c$k" "$LIMIT_KB"
                fi
                RD_PIDS+=("$CR_PID"); RD_OUTS+=("$CR_OUTF $CR_ERRF")
        done
        sleep 1.5 # every reader past its start, reading
}
# stop_readers DESCRIPTION: end them and check that no read failed
stop_readers() {
        local i p rc line out err n=${#RD_PIDS[@]} summary="" bad=0
        touch "$T/stop"
        for i in "${!RD_PIDS[@]}"; do
                p=${RD_PIDS[$i]}; read -r out err <<<"${RD_OUTS[$i]}"
                for j in $(seq 600); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
                kill -0 "$p" 2>/dev/null && { echo "# reader $p still running after 30 s: SIGKILL"; kill -KILL "$p"; }
                wait "$p"; rc=$?
                line=$(tail -n 1 "$out")
                echo "#   reader $((i + 1)) (exit $rc): $line"
                [ -s "$err" ] && sed 's/^/#     /' "$err" | head -n 20
                summary="$summary $(grep -o 'errors=[0-9]*' <<<"$line")"
                grep -q ' ops=[1-9][0-9]* errors=0 ' <<<"$line " && grep -q ' hung=0' <<<"$line " && [ "$rc" = 0 ] ||
                        bad=$((bad + 1))
        done
        check_eq "$1: $n readers ran and no read failed, stalled or hung ($summary )" 0 "$bad"
}

# ---- restart of a daemon that does not run starts it (as systemctl restart) ------------------
fresh_mountpoint; M=$FRESH
cr daemon restart --mountpoint "$M"
check_eq "restart with no daemon: exit 0 ($ERR)" 0 "$RC"
check "  and says it started one ($OUT)" grep -q "^curatefs was not running at .*: started it" <<<"$OUT"
parts "$M"
check_eq "  status afterwards: 0 ($OUT)" 0 "$RC"
check_eq "  one curatefs mount" 1 "$(fuse_mounts_at "$M")"
holder0=$HOLDER
check "  status's first line as before: curatefs running at $M (pid N)" test -n "$holder0"

if [ -z "$SERVING" ]; then
        # an old-style single-process curatefs: SIGHUP would end it, so
        # restart must refuse and leave it serving
        check "status says it is a single process ($OUT)" grep -q '^  single process (old-style' <<<"$OUT"
        cr daemon restart --mountpoint "$M"
        check "restart of a single-process curatefs fails ($RC: $ERR)" test "$RC" != 0
        check "  saying why ($ERR)" grep -q 'old-style single process' <<<"$ERR"
        check "  and leaves it serving" grep -q MemTotal "$M/proc/meminfo"
        check_eq "  the same process" "$holder0" "$(parts "$M"; echo "$HOLDER")"
        [ "$fail" = 0 ] || finish
        skip "curatefs is one process here (no holder/serving split yet): $pass checks passed"
fi

# ---- the parts -----------------------------------------------------------------------------
holder_exe=$(readlink "/proc/$holder0/exe")
check "status lists the holder with its pid and binary ($HOLDER_LINE)" \
        test "$HOLDER_LINE" = "  holder: pid $holder0, $holder_exe"
check_eq "exactly one serving process ($OUT)" 1 "$(wc -w <<<"$SERVING")"
check_eq "  the holder's only child" "$SERVING" "$(children_of "$holder0")"
s=$SERVING
check_eq "  named curatefs in argv[0]" curatefs "$(tr '\0' '\n' <"/proc/$s/cmdline" | head -n 1)"
check "  with CURATEFS_SERVE in its environment" grep -qz '^CURATEFS_SERVE=' "/proc/$s/environ"
check "  running the holder's binary, current on disk ($SERVING_LINES)" \
        test "$SERVING_LINES" = "  serving: pid $s, $holder_exe"

# ---- 10 restarts under 3 reading containers --------------------------------------------
start_readers "$M" 3
prev=$SERVING bad_restarts=0
for i in $(seq 10); do
        cr daemon restart --mountpoint "$M"
        new=$(sed -n 's/^curatefs restarted at .* (pid [0-9]*): serving process \(.*\) replaces .*/\1/p' <<<"$OUT")
        parts "$M"
        why=""
        [ "$RC" = 0 ] || why="$why restart exited $RC ($ERR);"
        [ "$HOLDER" = "$holder0" ] || why="$why holder $holder0 -> '$HOLDER';"
        [ -n "$SERVING" ] && [ "$SERVING" = "$new" ] || why="$why restart printed '$new', status lists '$SERVING';"
        for p in $prev; do grep -qw "$p" <<<"$SERVING" && why="$why old serving $p still listed;"; done
        gone "$prev" || why="$why old serving $prev still alive;"
        [ "$(children_of "$holder0")" = "$SERVING" ] || why="$why holder's children '$(children_of "$holder0")';"
        if [ -n "$why" ]; then not_ok "restart $i: $prev -> $SERVING:$why"; bad_restarts=$((bad_restarts + 1))
        else ok "restart $i: serving $prev -> $SERVING, holder $holder0 unchanged"; fi
        prev=$SERVING
done
check_eq "one curatefs mount still" 1 "$(fuse_mounts_at "$M")"
check "the holder ($holder0) is the process of the pid file still" test "$HOLDER" = "$holder0"
# over io_uring (the @uring run): the readers' requests went through the rings
[ "${CURATEFS_TRANSPORT:-}" = uring ] && uring_checks "$M" 100
stop_readers "10 restarts"
cr daemon stop --mountpoint "$M"
check_eq "stop ($ERR)" 0 "$RC"
for i in $(seq 50); do kill -0 "$holder0" 2>/dev/null || break; sleep 0.1; done
check "  the holder is gone" gone "$holder0"
check "  and its serving process" gone "$prev"

# ---- an upgrade: the binary replaced on disk, picked up by a restart ------------------------------
mkdir "$T/bin"
BIN=$T/bin/curatefs # named curatefs: /proc/PID/comm is the file's name
cp "$CURATEFS" "$BIN"
fresh_mountpoint; M2=$FRESH
saved=$CURATEFS; CURATEFS=$BIN
cr daemon start --mountpoint "$M2"
CURATEFS=$saved
check_eq "a daemon started from the copy $BIN ($ERR)" 0 "$RC"
parts "$M2"; holder2=$HOLDER
check_eq "  status: holder runs the copy ($OUT)" "  holder: pid $holder2, $BIN" "$HOLDER_LINE"
check_eq "  and so does the serving process" "  serving: pid $SERVING, $BIN" "$SERVING_LINES"
start_readers "$M2" 2
cp "$CURATEFS" "$T/new"; printf x >>"$T/new"; chmod 755 "$T/new"; mv "$T/new" "$BIN"
parts "$M2"; old=$SERVING
check "after the file is replaced, status says the serving binary was replaced ($SERVING_LINES)" \
        grep -qF "serving: pid $old, $BIN (replaced on disk since it started: \`curate daemon restart\` picks up the new one)" \
        <<<"$SERVING_LINES"
check "  and the holder's ($HOLDER_LINE)" grep -qF "holder: pid $holder2, $BIN (replaced on disk" <<<"$HOLDER_LINE"
check "  (true: the running file is not the one at $BIN)" not_same_file "/proc/$old/exe" "$BIN"
cr daemon restart --mountpoint "$M2"
check_eq "restart ($OUT)" "0 " "$RC $ERR"
parts "$M2"
check "  a new serving process ($old -> $SERVING)" test -n "$SERVING" -a "$SERVING" != "$old"
check_eq "  holder unchanged" "$holder2" "$HOLDER"
check_eq "  status: the serving binary is current" "  serving: pid $SERVING, $BIN" "$SERVING_LINES"
check "  (true: it runs the new file)" same_file "/proc/$SERVING/exe" "$BIN"
check "  the holder's binary is still the replaced one ($HOLDER_LINE)" grep -qF "(replaced on disk" <<<"$HOLDER_LINE"
check "  the views answer" grep -q MemTotal "$M2/proc/meminfo"
[ "${CURATEFS_TRANSPORT:-}" = uring ] && uring_checks "$M2" 100
stop_readers "upgrade"

# ---- errors ------------------------------------------------------------------------------------
cr daemon restart --mountpoint "$M2" extra
check "restart with an extra argument: usage error ($RC: $ERR)" test "$RC" != 0
cr daemon restart --kill --mountpoint "$M2"
check "restart --kill: refused ($RC: $ERR)" test "$RC" != 0
cr daemon stop --kill --mountpoint "$M2"
check_eq "stop --kill ($ERR)" 0 "$RC"
cr daemon status --mountpoint "$M2"
check_eq "status after stop: 3 ($OUT)" 3 "$RC"

finish
