#!/bin/bash
# curate ps [--json] (issue 11, observability): the containers running now,
# found from their cgroups under curate/ whichever way they were started:
# two `curate run` containers with different limits (one with a device), a
# container an engine made (a cgroup curate/ID with a process, as runc or
# podman make with the cgroup parent /curate), and, once they end, none of
# them. Limits come from the cgroup files, devices from the registration.
. "$(dirname "$0")/lib.sh"
require_curate
command -v jq >/dev/null || skip "jq is not installed (scripts/setup.sh installs it)"
export LC_ALL=C

run_tmpdir
export CURATE_DEVICES_DIR=$T/registrations
mkdir -p "$CURATE_DEVICES_DIR"
mount_curatefs || { not_ok "mount curatefs"; finish; }

# an empty list (or only other sessions' containers) still exits 0
"$CURATE" ps >/dev/null; check_eq "curate ps exits 0" 0 $?
"$CURATE" ps --json | jq -e 'type == "array"' >/dev/null; check_eq "curate ps --json prints a JSON array" 0 $?
"$CURATE" ps --bogus >/dev/null 2>&1; check_eq "an unknown option is a usage error" 2 $?

cr_bg run --mountpoint "$MNT" -m 64M --cpus 0.5 --pids 50 -- sleep 1001
P1=$CR_PID; OUT1=$CR_OUTF
cr_bg run --mountpoint "$MNT" -m 128M --memory-swap 256M --cpuset 0 --device /dev/fuse -- sleep 1002
P2=$CR_PID
# until both commands run (their sleep shows in their cgroups)
for i in $(seq 200); do
        n=$("$CURATE" ps --json | jq --arg a "run-$P1" --arg b "run-$P2" \
                '[.[] | select((.id == $a or .id == $b) and (.command | startswith("sleep")))] | length')
        [ "$n" = 2 ] && break
        sleep 0.1
done
check_eq "both curate run containers are listed with their command" 2 "$n"

# an engine's container: a cgroup curate/ID holding a process, no launcher
ENG=eng-ps-$$
if cg_create "curate/$ENG" memory=$((96 << 20)) quota=25000; then
        cg_spawn "curate/$ENG" sleep 1003
        ENG_PID=$SPAWNED
        for i in $(seq 100); do [ "$(cat /proc/$ENG_PID/comm 2>/dev/null)" = sleep ] && break; sleep 0.05; done
else
        not_ok "create the engine-like cgroup curate/$ENG"
fi

J=$("$CURATE" ps --json); check_eq "curate ps --json exits 0 with containers" 0 $?
get() { echo "$J" | jq -r --arg id "$1" ".[] | select(.id == \$id) | $2"; }

check_eq "run 1: started by curate run" run "$(get run-$P1 .started)"
check_eq "run 1: launcher_pid is curate run's pid" "$P1" "$(get run-$P1 .launcher_pid)"
check_eq "run 1: memory limit" $((64 << 20)) "$(get run-$P1 .limits.memory_bytes)"
check_eq "run 1: no memory+swap limit" null "$(get run-$P1 .limits.memory_swap_bytes)"
check_eq "run 1: cpus" 0.5 "$(get run-$P1 .limits.cpus)"
check_eq "run 1: pids" 50 "$(get run-$P1 .limits.pids)"
check_eq "run 1: no devices" 0 "$(get run-$P1 '.devices | length')"
check_eq "run 1: command" "sleep 1001" "$(get run-$P1 .command)"
check_eq "run 2: memory limit" $((128 << 20)) "$(get run-$P2 .limits.memory_bytes)"
check_eq "run 2: memory+swap limit" $((256 << 20)) "$(get run-$P2 .limits.memory_swap_bytes)"
check_eq "run 2: no cpu quota" null "$(get run-$P2 .limits.cpus)"
check_eq "run 2: cpuset" 0 "$(get run-$P2 .limits.cpuset)"
check_eq "run 2: no pids limit" null "$(get run-$P2 .limits.pids)"
check_eq "run 2: its device" "/dev/fuse c 10 229 rwm" \
        "$(get run-$P2 '.devices[] | "\(.path) \(.type) \(.major) \(.minor) \(.access)"')"
check_eq "run 2: command" "sleep 1002" "$(get run-$P2 .command)"
for id in run-$P1 run-$P2; do
        pid=$(get $id .pid)
        check "$id: pid $pid exists" test -d "/proc/$pid"
        check "$id: pid $pid is in the container's cgroup" grep -q ":/curate/$id\$" "/proc/$pid/cgroup"
        age=$(get $id .age_s)
        check "$id: age $age >= 0" test "$age" -ge 0
        check "$id: a cgroup path per hierarchy" test "$(get $id '[.cgroup[] | select(. == "/curate/'$id'")] | length')" -ge 1
done
if [ -n "${ENG_PID:-}" ]; then
        check_eq "engine: started by an engine" engine "$(get $ENG .started)"
        check_eq "engine: no launcher" null "$(get $ENG .launcher_pid)"
        check_eq "engine: pid is its process" "$ENG_PID" "$(get $ENG .pid)"
        check_eq "engine: memory limit" $((96 << 20)) "$(get $ENG .limits.memory_bytes)"
        check_eq "engine: cpus" 0.25 "$(get $ENG .limits.cpus)"
        check_eq "engine: command" "sleep 1003" "$(get $ENG .command)"
fi

# the table: a header and one aligned row per container
TXT=$("$CURATE" ps)
check "the table has a header" grep -q '^ID  *STARTED  *PID  *LAUNCHER  *AGE  *MEMORY  *CPUS  *CPUSET  *PIDS  *DEVICES  *COMMAND$' <<<"$TXT"
row1=$(grep "^run-$P1 " <<<"$TXT"); row2=$(grep "^run-$P2 " <<<"$TXT")
check "table: run 1 row shows 64M, 0.50, pids 50 and its command" \
        grep -Eq "^run-$P1 +run +[0-9]+ +$P1 +[0-9]+[smhd] +64M +0\.50 +[0-9,-]+ +50 +- +sleep 1001$" <<<"$row1"
check "table: run 2 row shows 128M/256M, cpuset 0, its device" \
        grep -Eq "^run-$P2 +run +[0-9]+ +$P2 +[0-9]+[smhd] +128M/256M +- +0 +- +/dev/fuse:rwm +sleep 1002$" <<<"$row2"
hdr_col=$(head -1 <<<"$TXT" | grep -bo COMMAND | cut -d: -f1)
check_eq "table: columns are aligned (COMMAND starts at one offset)" "$hdr_col" "$(grep -bo 'sleep 1001' <<<"$row1" | cut -d: -f1)"

# runc through the hook is covered by test-oci-hook.sh; here it is optional
command -v runc >/dev/null || echo "# runc is not installed: the engine case above stands for it"

# once they end they are gone
kill -TERM "$P1" "$P2"
wait "$P1" "$P2" 2>/dev/null
if [ -n "${ENG_PID:-}" ]; then kill -KILL "$ENG_PID"; wait "$ENG_PID" 2>/dev/null; fi
J=$("$CURATE" ps --json)
check_eq "ended curate run containers are gone" 0 \
        "$(echo "$J" | jq --arg a "run-$P1" --arg b "run-$P2" '[.[] | select(.id == $a or .id == $b)] | length')"
check_eq "an engine container whose processes ended is gone (empty cgroup)" 0 \
        "$(echo "$J" | jq --arg a "$ENG" '[.[] | select(.id == $a)] | length')"
finish
