#!/bin/bash
# curate's shared curatefs daemon: started on first use, one for concurrent
# first runs, `curate daemon start|stop|status`, recovery from a killed daemon.
. "$(dirname "$0")/lib.sh"
require_curate
export LC_ALL=C

run_tmpdir
daemon_status() { # MOUNTPOINT: RC, OUT and SPID, the curatefs pid that `curate daemon status` names
        local p
        cr daemon status --mountpoint "$1"
        SPID=""
        for p in $(grep -o '[0-9][0-9]*' <<<"$OUT"); do
                [ "$(cat /proc/$p/comm 2>/dev/null)" = curatefs ] && { SPID=$p; break; }
        done
}
# alive PID: running, not a zombie (a stopped daemon was reparented to pid 1,
# which may not reap it at once)
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
meminfo_run() { # MOUNTPOINT: a 256M run that prints MemTotal
        cr run --mountpoint "$1" --memory 256M -- awk '/^MemTotal:/ { print $2 }' /proc/meminfo
}

# --- first run starts the daemon ---------------------------------------------------------
fresh_mountpoint; M1=$FRESH
cr daemon status --mountpoint "$M1"
check_eq "status at a fresh mount point: 3 (not running) ($OUT$ERR)" 3 "$RC"
meminfo_run "$M1"
check_eq "first run at a fresh mount point exits 0 ($ERR)" 0 "$RC"
check_eq "  and sees the views (the daemon it started serves them)" 262144 "$OUT"
check_eq "one curatefs is mounted there" 1 "$(fuse_mounts_at "$M1")"
daemon_status "$M1"; pid1=$SPID
check_eq "status: 0 (running) ($OUT)" 0 "$RC"
check "status names the daemon's pid ($OUT)" test -n "$pid1"
check_eq "  which is the one curatefs process for $M1" "$pid1" "$(daemon_pids "$M1")"
sid=$(sed 's/.*) //' /proc/$pid1/stat 2>/dev/null | cut -d' ' -f4); mysid=$(sed 's/.*) //' /proc/$$/stat | cut -d' ' -f4)
check "the daemon is detached: a session of its own (its $sid, ours $mysid)" test -n "$sid" -a "$sid" != "$mysid"
check_eq "the daemon is not in a run's transient cgroup" 0 "$(grep -c "/curate/run-" /proc/$pid1/cgroup 2>/dev/null)"
meminfo_run "$M1"
check_eq "a second run reuses it ($ERR)" "0 262144" "$RC $OUT"
daemon_status "$M1"
check_eq "  same daemon" "$pid1" "$SPID"
check_eq "  still one mount" 1 "$(fuse_mounts_at "$M1")"
sleep 1
check "the daemon stays after the runs end" kill -0 "$pid1"

# --- stop ------------------------------------------------------------------------------------
cr daemon stop --mountpoint "$M1"
check_eq "daemon stop exits 0 ($ERR)" 0 "$RC"
for i in $(seq 50); do alive "$pid1" || break; sleep 0.1; done
check "  the daemon process is gone" bash -c "$(declare -f alive); ! alive $pid1"
check_eq "  nothing is mounted there" 0 "$(fuse_mounts_at "$M1")"
cr daemon status --mountpoint "$M1"
check_eq "status after stop: 3" 3 "$RC"
cr daemon stop --mountpoint "$M1"
echo "# daemon stop when none runs: exit $RC ($OUT$ERR)"

# --- explicit start ---------------------------------------------------------------------------
cr daemon start --mountpoint "$M1"
check_eq "daemon start exits 0 ($ERR)" 0 "$RC"
daemon_status "$M1"; pid2=$SPID
check_eq "  status 0 afterwards" 0 "$RC"
check "  with a new daemon ($pid2)" test -n "$pid2" -a "$pid2" != "$pid1"
cr daemon start --mountpoint "$M1"
echo "# a second daemon start: exit $RC ($OUT$ERR)"
check_eq "  a second start does not stack another mount" 1 "$(fuse_mounts_at "$M1")"
check_eq "  nor another daemon" "$pid2" "$(daemon_pids "$M1")"

# --- a killed holder: its serving process goes on; when that dies too, the next run recovers ---
serving=$(cat /proc/$pid2/task/*/children 2>/dev/null | tr -d ' ')
check "the holder ($pid2) has a serving process ($serving)" test -n "$serving"
kill -KILL "$pid2"
for i in $(seq 50); do alive "$pid2" || break; sleep 0.1; done
check "  the killed holder is gone" bash -c "$(declare -f alive); ! alive $pid2"
meminfo_run "$M1"
check_eq "  runs still see the views: the serving process keeps the connection ($ERR)" "0 262144" "$RC $OUT"
kill -KILL $serving
for i in $(seq 50); do alive "$serving" || break; sleep 0.1; done
# a read, not a stat: Linux 6.1 answers stat from the attribute cache even on a dead connection
stale=$(head -c 16 "$M1/proc/meminfo" 2>&1)
check "the mount is stale once the last process holding the connection is gone ($stale)" grep -Eq 'not connected|connection abort' <<<"$stale"
cr daemon status --mountpoint "$M1"
check_eq "status with a stale mount: 3" 3 "$RC"
meminfo_run "$M1"
check_eq "the next run recovers ($ERR)" "0 262144" "$RC $OUT"
daemon_status "$M1"; pid3=$SPID
check "  with a new daemon ($pid3)" test -n "$pid3" -a "$pid3" != "$pid2"
check_eq "  and exactly one curatefs mount at $M1 (the stale one detached)" 1 "$(fuse_mounts_at "$M1")"
check "  which answers" grep -q MemTotal "$M1/proc/meminfo"
cr daemon stop --mountpoint "$M1"

# --- concurrent first runs start one daemon -------------------------------------------------------
for round in 1 2 3; do
        fresh_mountpoint; M=$FRESH
        declare -a bg=()
        for k in 1 2 3; do
                timeout 60 "$CURATE" run --mountpoint "$M" --memory 256M -- awk '/^MemTotal:/ { print $2 }' /proc/meminfo \
                        > "$T/conc-$round-$k" 2>&1 &
                bg+=($!)
        done
        rcs=""
        for p in "${bg[@]}"; do wait "$p"; rcs="$rcs $?"; done
        check_eq "round $round: 3 concurrent first runs all exit 0" " 0 0 0" "$rcs"
        check_eq "round $round: all saw the views" "262144 262144 262144" "$(cat "$T"/conc-$round-* | tr '\n' ' ' | sed 's/ $//')"
        check_eq "round $round: exactly one curatefs mount at the fresh mount point" 1 "$(fuse_mounts_at "$M")"
        check_eq "round $round: exactly one daemon process" 1 "$(daemon_pids "$M" | wc -w)"
        cr daemon stop --mountpoint "$M"
        check_eq "round $round: stop ($ERR)" 0 "$RC"
done

# --- containers starting on a daemon that has just mounted ------------------------------------
# Right after a curatefs mounts, concurrent runs' move_mount(2) onto the view
# paths failed with ENOENT now and then (about 1 round in 40 here) until
# curate retried such a mount with a fresh lookup. 60 rounds of a fresh
# daemon and 3 runs at once.
failed_runs=0 msgs=""
for round in $(seq 60); do
        M=$T/race-$round; mkdir -p "$M"
        # curatefs in the foreground: the runs start the moment the mount
        # appears, not after a daemon start has settled
        "$CURATEFS" -f "$M" >/dev/null 2>&1 &
        fspid=$!; OUR_PIDS+=("$fspid")
        for i in $(seq 2000); do grep -q " $M .* fuse.curatefs " /proc/self/mountinfo && break; done
        declare -a bg=()
        for k in 1 2 3; do
                timeout 60 "$CURATE" run --mountpoint "$M" -- true 2>"$T/race-$round-$k" &
                bg+=($!)
        done
        for p in "${bg[@]}"; do wait "$p" || failed_runs=$((failed_runs + 1)); done
        msgs="$msgs$(cat "$T"/race-$round-* 2>/dev/null)"
        kill "$fspid"; wait "$fspid" 2>/dev/null
done
check_eq "180 runs on just-started daemons all succeed (${msgs:0:200})" 0 "$failed_runs"

finish
