#!/bin/bash
# `curate run` killed with SIGKILL: its command dies with it, curatefs's
# sweep removes the empty curate/run-PID cgroups it left, and a later
# launcher that gets a dead run's pid is not stopped by its leftovers.
. "$(dirname "$0")/lib.sh"
require_curate
export LC_ALL=C

mount_curatefs || { not_ok "mount curatefs"; finish; }
run_tmpdir

# the hierarchies a run gets a cgroup in: curate/ beneath each of them
if cg_is_v2; then HIERS=/sys/fs/cgroup
else HIERS=$(for c in memory cpu cpuacct cpuset blkio pids devices; do
        [ -d /sys/fs/cgroup/$c ] && [ ! -L /sys/fs/cgroup/$c ] && echo /sys/fs/cgroup/$c; done); fi
# our pids whose curate/run-PID must all be gone at the end
declare -a OUR_RUN_PIDS=()
ours_left() { local p; for p in "${OUR_RUN_PIDS[@]}"; do run_cgroups "$p"; done; }

# --- a killed launcher ---------------------------------------------------------
cr_bg run --mountpoint "$MNT" --memory 64M -- sleep 1000
kp=$CR_PID; OUR_RUN_PIDS+=("$kp")
memcg=$(cg_file "$kp" memory cgroup.procs)
for i in $(seq 200); do grep -q . "$memcg" 2>/dev/null && break; sleep 0.05; done
cmd_pids=$(cat "$memcg" 2>/dev/null | tr '\n' ' ')
check "the command runs in curate/run-$kp ($cmd_pids)" test -n "$cmd_pids"
check "its cgroups exist in every hierarchy" test "$(run_cgroups "$kp" | wc -l)" -ge 1
kill -KILL "$kp"
cr_wait 10
check_eq "the launcher died of SIGKILL" 137 "$RC"
alive=""
for i in $(seq 100); do
        alive=""; for p in $cmd_pids; do kill -0 "$p" 2>/dev/null && alive+="$p "; done
        [ -z "$alive" ] && break; sleep 0.05
done
check_eq "the command died with its launcher" "" "$alive"
# the sweep runs every 5 s
for i in $(seq 240); do [ -z "$(run_cgroups "$kp")" ] && break; sleep 0.05; done
check_eq "curatefs removed the empty run-$kp cgroups within 12 s" "" "$(run_cgroups "$kp" | tr '\n' ' ')"
check "curatefs logged why" grep -q "removed the cgroups of run-$kp .*its launcher is gone" "$CURATEFS_LOG"

# a live launcher, checked after two passes of the sweep (at the end)
cr_bg run --mountpoint "$MNT" -- sleep 1000
lp=$CR_PID; OUR_RUN_PIDS+=("$lp"); live_since=$SECONDS

# --- a launch whose pid names a dead run's leftovers -----------------------------
# The wrapper makes empty curate/run-$$ cgroups (what a killed run with this
# pid leaves) and becomes the launcher: it finds its name taken.
cat > "$T/stale.sh" <<'EOF'
# stale.sh MODE CURATE ARGS...: MODE empty: empty run-$$ cgroups; busy: and
# the first one (memory) with a process in it (a sleep, its pid in $T/busy.pid)
mode=$1; shift
for h in $HIERS; do
        mkdir -p "$h/curate" && mkdir "$h/curate/run-$$" || exit 99
done
echo $$ > "$T/stale.pid"
if [ "$mode" = busy ]; then
        first=${HIERS%%$'\n'*}
        sh -c 'echo $$ > "$1/cgroup.procs" && exec sleep 1000' sh "$first/curate/run-$$" </dev/null >/dev/null 2>&1 &
        echo $! > "$T/busy.pid"
        for i in $(seq 100); do grep -q . "$first/curate/run-$$/cgroup.procs" && break; sleep 0.02; done
fi
exec "$@"
EOF
export HIERS T
OUT=$(timeout -k 5 60 bash "$T/stale.sh" empty "$CURATE" run --mountpoint "$MNT" --memory 96M -- cat /proc/meminfo 2>"$T/err")
RC=$?; ERR=$(cat "$T/err"); sp=$(cat "$T/stale.pid"); OUR_RUN_PIDS+=("$sp")
for h in $HIERS; do OUR_CGROUPS+=("$h/curate/run-$sp"); done
check_eq "a launch over a dead run's empty cgroups succeeds" "0 " "$RC $ERR"
check_eq "  its command ran in a new cgroup with its own limit" 98304 "$(kb_of MemTotal <<<"$OUT")"
check_eq "  which it removed as it ended" "" "$(run_cgroups "$sp" | tr '\n' ' ')"

OUT=$(timeout -k 5 60 bash "$T/stale.sh" busy "$CURATE" run --mountpoint "$MNT" --memory 96M -- true 2>"$T/err")
RC=$?; ERR=$(cat "$T/err"); sp=$(cat "$T/stale.pid"); OUR_RUN_PIDS+=("$sp"); busy=$(cat "$T/busy.pid")
for h in $HIERS; do OUR_CGROUPS+=("$h/curate/run-$sp"); done
OUR_PIDS+=("$busy")
check "a launch over a run-$sp cgroup with a process in it is refused (rc $RC)" test "$RC" != 0
check "  saying which cgroup and why ($ERR)" grep -q "curate/run-$sp: cannot create the cgroup: File exists, and processes are in it" <<<"$ERR"
check "  the process in it is untouched" kill -0 "$busy"
sleep $(( 11 - (SECONDS - live_since) > 6 ? 11 - (SECONDS - live_since) : 6 )) # a pass or more
check "  the sweep leaves a cgroup with a process alone" grep -q . "$(cg_file "$sp" memory cgroup.procs)"
check "a running launcher's cgroups stay through the sweep's passes" test -n "$(run_cgroups "$lp")"
kill -TERM "$lp"; cr_wait 10
check_eq "  and it removes them itself as it ends" "" "$(run_cgroups "$lp" | tr '\n' ' ')"
kill -KILL "$busy"; wait "$busy" 2>/dev/null
# now empty and its "launcher" gone: the sweep's to remove
for i in $(seq 240); do [ -z "$(run_cgroups "$sp")" ] && break; sleep 0.05; done
check_eq "  once empty, the sweep removes it" "" "$(run_cgroups "$sp" | tr '\n' ' ')"

# --- nothing of ours is left ----------------------------------------------------
check_eq "no cgroup of these runs is left" "" "$(ours_left | tr '\n' ' ')"
check "the daemon is still running" kill -0 "$CURATEFS_PID"
finish
