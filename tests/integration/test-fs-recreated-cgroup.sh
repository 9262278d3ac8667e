#!/bin/bash
# A memory cgroup removed and made again under the same path with another
# limit, over and over, while readers in it (and in other cgroups) read
# MemTotal through a real curatefs mount: each read must show exactly the
# limit of the cgroup the reader is in now, never the old cgroup's (the
# daemon caches figures for 100 ms) and never the host's total.
. "$(dirname "$0")/lib.sh"
require_root

SECS=${RECREATE_SECS:-18}       # time given to each of the two loops
MAX_ITER=${RECREATE_ITER:-6000} # generations each
READERS=${RECREATE_READERS:-2}     # readers per generation, each READS reads
READS=${RECREATE_READS:-3}
MiB=1048576

mount_curatefs || { not_ok "mount curatefs"; finish; }
ok "curatefs mounted"
host_total_kb=$(kb_of MemTotal < /proc/meminfo)

# the churned cgroups (two, each re-made by its own loop, in parallel):
# memory only, meminfo reads nothing else
if cg_is_v2; then
        echo "+memory" > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
        GEN_BASE=/sys/fs/cgroup/$CG_PREFIX-gen; LIMIT_FILE=memory.max
else
        GEN_BASE=/sys/fs/cgroup/memory/$CG_PREFIX-gen; LIMIT_FILE=memory.limit_in_bytes
fi
OUR_CGROUPS+=("${GEN_BASE}0" "${GEN_BASE}1")
RES=$(mktemp -d /tmp/curate-recreate.XXXXXX)
OUR_DIRS+=("$RES")

# Readers that run throughout: one in a fixed 300 MiB cgroup, one in the
# root cgroup (the host's file). Each counts reads that show another total.
cg_create "$CG_PREFIX-fixed" memory=$((300 * MiB))
# They pause a millisecond between reads (read -t on a pipe that never
# speaks: no fork) so that the loop below keeps its share of the CPUs.
steady_reader() { # NAME EXPECTED_KB
        local good=0 bad=0 errs=0 k v u
        exec {quiet}<> <(:)
        while [ ! -e "$RES/stop" ]; do
                read -r -t 0.001 -u "$quiet"
                if read -r k v u < "$MNT/proc/meminfo" 2>/dev/null; then
                        if [ "$k $v" = "MemTotal: $2" ]; then good=$((good + 1)); else bad=$((bad + 1)); fi
                else
                        errs=$((errs + 1))
                fi
        done
        echo "$good $bad $errs" > "$RES/$1"
}
cg_spawn "$CG_PREFIX-fixed" bash -c "$(declare -f steady_reader); RES=$RES MNT=$MNT; steady_reader fixed $((300 * 1024))"
fixed_pid=$SPAWNED
cg_spawn "" bash -c "$(declare -f steady_reader); RES=$RES MNT=$MNT; steady_reader root $host_total_kb"
root_pid=$SPAWNED

# One generation's reader: joins cgroup GEN, reads READS times, and prints
# one word per read: "ok", "old" (a previous generation's limit), "host",
# "eio" or "other".
gen_reader() { # GEN EXPECTED_KB
        local i k v u out=""
        echo "$BASHPID" > "$1/cgroup.procs" || { echo "join-failed"; return; }
        for (( i = 0; i < READS; i++ )); do
                if ! read -r k v u < "$MNT/proc/meminfo" 2>/dev/null; then out+="eio "
                elif [ "$v" = "$2" ]; then out+="ok "
                elif [ "$v" = "$host_total_kb" ]; then out+="host "
                elif [ $(( v % 1024 )) = 0 ] && [ "$v" -ge $((64 * 1024)) ] && [ "$v" -le $((192 * 1024)) ]; then out+="old "
                else out+="other "; fi
        done
        echo "$out"
}

# rmdir, retried while the kernel still holds the cgroup (EBUSY for a
# moment after its last task was reaped); read -t on a pipe that never
# speaks pauses without a fork
remove_gen() { # GEN QUIET_FD
        local t
        for (( t = 0; t < 2000; t++ )); do
                rmdir "$1" 2>/dev/null && return 0
                read -r -t 0.0005 -u "$2"
        done
        return 1
}

# One loop: make cgroup GEN with the next limit, let READERS readers in it
# read, remove it; until SECS have passed. Writes its counts to RES/churnN:
# generations, then reads by word, then failures to make or remove.
churn() { # N
        local gen=$GEN_BASE$1 iter=0 limit want r w line out setup_fail=0 quiet pids
        local -A n=([ok]=0 [old]=0 [host]=0 [eio]=0 [other]=0)
        exec {quiet}<> <(:)
        SECONDS=0
        while (( iter < MAX_ITER && SECONDS < SECS )); do
                # 64..192 MiB in 16 MiB steps: every generation differs from the last
                limit=$(( (64 + ((iter + 4 * $1) % 9) * 16) * MiB ))
                if ! mkdir "$gen" 2>/dev/null || ! echo "$limit" > "$gen/$LIMIT_FILE"; then
                        setup_fail=$((setup_fail + 1)); remove_gen "$gen" "$quiet"; break
                fi
                want=$((limit / 1024))
                pids=()
                for (( r = 0; r < READERS; r++ )); do gen_reader "$gen" "$want" > "$RES/gen$1.$r" & pids+=($!); done
                wait "${pids[@]}"
                out=""
                for (( r = 0; r < READERS; r++ )); do read -r line < "$RES/gen$1.$r"; out+=" $line"; done
                for w in $out; do
                        case $w in
                        ok|old|host|eio) n[$w]=$((n[$w] + 1)) ;;
                        *) n[other]=$((n[other] + 1)); echo "# unexpected: $w" >&2 ;;
                        esac
                done
                remove_gen "$gen" "$quiet" || { setup_fail=$((setup_fail + 1)); break; }
                iter=$((iter + 1))
        done
        echo "$iter ${n[ok]} ${n[old]} ${n[host]} ${n[eio]} ${n[other]} $setup_fail $SECONDS" > "$RES/churn$1"
}

churn 0 & c0=$!
churn 1 & c1=$!
wait "$c0" "$c1"
touch "$RES/stop"
wait "$fixed_pid" "$root_pid" 2>/dev/null

iter=0 good=0 old=0 host=0 eio=0 other=0 setup_fail=0 elapsed=0
for i in 0 1; do
        read -r a b c d e f g h < "$RES/churn$i" || { setup_fail=$((setup_fail + 1)); continue; }
        iter=$((iter + a)) good=$((good + b)) old=$((old + c)) host=$((host + d)) eio=$((eio + e))
        other=$((other + f)) setup_fail=$((setup_fail + g)); (( h > elapsed )) && elapsed=$h
done

echo "# $iter generations of two cgroups in ${elapsed}s, $good reads as expected"
check_eq "every generation's cgroup was made, filled and removed" 0 "$setup_fail"
check "at least 500 generations (got $iter)" test "$iter" -ge 500
check_eq "all $((iter * READERS * READS)) reads in re-created cgroups answered" "$((iter * READERS * READS))" \
        "$((good + old + host + eio + other))"
check_eq "no read showed a previous generation's limit" 0 "$old"
check_eq "no read showed the host's MemTotal" 0 "$host"
check_eq "no read failed (the readers stayed in their cgroup)" 0 "$eio"
check_eq "no read showed anything else" 0 "$other"

read -r fg fb fe < "$RES/fixed" || fg=0
read -r rg rb re < "$RES/root" || rg=0
check "a reader in a fixed cgroup meanwhile: $fg reads, all its own limit" test "${fg:-0}" -gt 0 -a "${fb:-1}" = 0 -a "${fe:-1}" = 0
check "a root reader meanwhile: $rg reads, all the host's total" test "${rg:-0}" -gt 0 -a "${rb:-1}" = 0 -a "${re:-1}" = 0
check "the daemon is still running" kill -0 "$CURATEFS_PID"
finish
