#!/bin/bash
# FUSE over io_uring (curatefs --transport, Linux >= 6.14): with the
# kernel's switch on, a daemon started with --transport uring (or auto)
# registers a queue per CPU and the requests of every CPU go through the
# rings, not /dev/fuse: the counters `curate daemon status --json` reads
# from the daemon's journal must show it, so a transport that silently fell
# back to /dev/fuse fails here. With the switch off, uring is refused before
# anything is mounted, auto serves through /dev/fuse, and a mount made then
# stays on /dev/fuse when the switch is turned on later (the kernel offers
# io_uring in INIT only). A serving process killed under readers is
# replaced and its queues are served again, even with the switch turned off
# since the mount; the entries of one killed while idle fail no read from
# any CPU, even with its rings kept open. The switch is restored at exit.
. "$(dirname "$0")/lib.sh"
require_curate
# a holder this test stopped is let go first, should it end before its SIGCONT
trap '[ -z "${stopped_holder:-}" ] || kill -CONT "$stopped_holder" 2>/dev/null; cleanup_run; cleanup' EXIT
export LC_ALL=C
[ -w "$URING_SWITCH" ] || skip "this kernel has no FUSE over io_uring (no $URING_SWITCH)"
run_tmpdir
NCPU=$(getconf _NPROCESSORS_CONF)

st() { # MNT KEY: a field of curate daemon status --json
        "$CURATE" daemon status --json --mountpoint "$1" |
                python3 -c "import json,sys; v = json.load(sys.stdin).get('$2'); print('null' if v is None else v)"
}
served_dev() { echo $(( $(st "$1" requests_served) - $(st "$1" requests_served_uring) )); }

# ---- the switch off ----
URING_WAS=$(cat "$URING_SWITCH")
echo N >"$URING_SWITCH"
fresh_mountpoint; M0=$FRESH
out=$("$CURATEFS" --transport uring "$M0" 2>&1); rc=$?
check_eq "switch off: curatefs --transport uring exits 1" 1 "$rc"
check "… naming the switch ($out)" grep -q "enable_uring is N" <<<"$out"
check_eq "… and mounts nothing" 0 "$(fuse_mounts_at "$M0")"
cr daemon start --mountpoint "$M0"
check_eq "switch off: the daemon starts (auto)" 0 "$RC"
check_eq "… on /dev/fuse" dev "$(st "$M0" transport)"
check_eq "… no io_uring queue" 0 "$(st "$M0" uring_queues)"
# the kernel offered nothing in INIT: turning the switch on now changes nothing
echo Y >"$URING_SWITCH"
for i in $(seq 50); do head -n 1 "$M0/proc/meminfo" >/dev/null; done
check_eq "switch turned on after the mount: still /dev/fuse" dev "$(st "$M0" transport)"
check_eq "… nothing went through io_uring" 0 "$(st "$M0" requests_served_uring)"
cr daemon stop --kill --mountpoint "$M0"

# ---- the switch on ----
fresh_mountpoint; M=$FRESH
cr daemon start --mountpoint "$M" --transport uring
check_eq "switch on: the daemon starts with --transport uring ($ERR)" 0 "$RC"
check_eq "… its transport is io_uring" uring "$(st "$M" transport)"
check_eq "… a queue per possible CPU ($NCPU)" "$NCPU" "$(st "$M" uring_queues)"
cr daemon status --mountpoint "$M"
check "… the text status says so ($(grep transport <<<"$OUT"))" grep -q "transport: io_uring ($NCPU queues)" <<<"$OUT"

# reads from each CPU: the kernel queues a request on its reader's CPU
for ((c = 0; c < NCPU; c++)); do
        u0=$(st "$M" requests_served_uring); d0=$(served_dev "$M")
        out=$(taskset -c "$c" "$CURATE" run --mountpoint "$M" --memory 256M -- \
                sh -c 'for i in $(seq 100); do head -n 1 /proc/meminfo; done' 2>&1)
        u1=$(st "$M" requests_served_uring); d1=$(served_dev "$M")
        check_eq "CPU $c: 100 reads in a 256 MiB container see 256 MiB" 100 "$(grep -c '^MemTotal: *262144 kB' <<<"$out")"
        check "CPU $c: they went through io_uring ($((u1 - u0)) requests)" test $((u1 - u0)) -ge 300
        # what /dev/fuse still carries after the switch: FORGETs (no reply)
        # and interrupts; a reply there means a request took that path
        check "CPU $c: none through /dev/fuse ($((d1 - d0)))" test $((d1 - d0)) -le 2
done

# what the containers' tools see through the rings: busybox cat (sendfile
# on the container's own sized copy), free, nproc
BB=$(command -v busybox || true)
if [ -n "$BB" ]; then
        cr run --mountpoint "$M" --memory 256M -- "$BB" cat /proc/meminfo
        check_eq "busybox cat of meminfo through io_uring: 256 MiB, whole file" \
                "262144 $(wc -l </proc/meminfo)" "$(awk '$1 == "MemTotal:" { t = $2 } END { print t, NR }' <<<"$OUT")"
fi
cr run --mountpoint "$M" --memory 256M --cpuset 0 -- sh -c 'free -k | awk "/^Mem:/ { print \$2 }"; nproc'
check_eq "free and nproc through io_uring" "262144 1" "$(tr '\n' ' ' <<<"$OUT" | sed 's/ $//')"

# ---- a serving process killed under readers ----
# with the switch off by now: the INIT reply set FUSE_OVER_IO_URING, so the
# kernel takes the replacement's REGISTERs whatever the switch says (else
# the queues would have no entry and every request would wait for good)
echo N >"$URING_SWITCH"
holder=$(st "$M" holder_pid)
cr_bg run --mountpoint "$M" --memory 256M -- sh -c \
        'n=0; f=0; end=$(($(date +%s) + 4)); while [ $(date +%s) -lt $end ]; do head -n 1 /proc/meminfo >/dev/null 2>&1 || f=$((f + 1)); n=$((n + 1)); done; echo "reads $n failed $f"'
sleep 1
victims=""
for k in 1 2 3; do
        v=$(pgrep -P "$holder" | head -n 1)
        [ -n "$v" ] && kill -KILL "$v" && victims+="$v "
        sleep 0.5
done
cr_wait 30
reads=$(awk '/^reads/ { print $2 }' <<<"$OUT"); failed=$(awk '/^reads/ { print $4 }' <<<"$OUT")
check "3 serving processes killed ($victims) under a reading container: it ran on ($OUT$ERR)" test "${reads:-0}" -gt 100
# the kernel fails (ECANCELED) a request it hands a dead process's armed
# entry before it tears that process's ring down: one per CPU and kill
check "… at most one failed read per CPU and kill ($failed <= $((3 * NCPU)))" test "${failed:-99}" -le $((3 * NCPU))
check_eq "… the replacement serves through io_uring" uring "$(st "$M" transport)"
u0=$(st "$M" requests_served_uring)
cr run --mountpoint "$M" --memory 256M -- head -n 1 /proc/meminfo
check_eq "… and answers a new container" "MemTotal:         262144 kB" "$OUT"
check "… through io_uring" test "$(st "$M" requests_served_uring)" -gt "$u0"

# ---- a killed process's entries are off offer the moment it dies ----
# The holder is stopped (SIGSTOP) before the kill, so no replacement comes
# until it is let go, and the dead process's rings live on: this test takes
# their fds (pidfd_getfd) first, so the kernel never tears them down. An
# entry still on offer then fails the first request each CPU hands it
# (ECANCELED: its copy can no longer run in the dead thread). curatefs makes
# each ring thread's exit take its free entries off offer
# (serve-uring.c, arm_exit_cancel): a read from every CPU then waits, and
# the replacement answers it.
victim=$(pgrep -P "$holder" | head -n 1)
python3 -c '
import ctypes, os, sys, time
pid, out, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3]
libc = ctypes.CDLL(None, use_errno=True)
pidfd = os.pidfd_open(pid)
held = []
for name in os.listdir(f"/proc/{pid}/fd"):
    try:
        if os.readlink(f"/proc/{pid}/fd/{name}") == "anon_inode:[io_uring]":
            fd = libc.syscall(438, pidfd, int(name), 0)  # pidfd_getfd
            if fd >= 0:
                held.append(fd)
    except OSError:
        pass
with open(out, "w") as f:
    f.write(f"{len(held)}\n")
while not os.path.exists(stop):
    time.sleep(0.05)
' "$victim" "$T/held" "$T/held-stop" &
keeper=$!
OUR_PIDS+=("$keeper") # killed at exit should the test stop before its stop file
for _ in $(seq 100); do [ -s "$T/held" ] && break; sleep 0.05; done
check "the rings of serving process $victim are held here ($(cat "$T/held" 2>/dev/null) fds)" \
        test "$(cat "$T/held" 2>/dev/null || echo 0)" -gt "$NCPU"
stopped_holder=$holder
kill -STOP "$holder"
kill -KILL "$victim"
# dead: every thread gone (a zombie: its stopped parent cannot reap it)
for _ in $(seq 400); do
        [ "$(ls /proc/"$victim"/task 2>/dev/null | wc -l)" -le 1 ] &&
                [[ "$(awk '{ print $3 }' /proc/"$victim"/stat 2>/dev/null)" != [RSDt] ]] && break
        sleep 0.005
done
probes=()
for ((c = 0; c < NCPU; c++)); do
        timeout 20 taskset -c "$c" head -c 1 "$M/proc/loadavg" >/dev/null 2>"$T/probe-$c" &
        probes+=($!)
done
sleep 1
waiting=0
for p in "${probes[@]}"; do kill -0 "$p" 2>/dev/null && waiting=$((waiting + 1)); done
kill -CONT "$holder"
stopped_holder=""
probe_failed=""
for ((c = 0; c < NCPU; c++)); do
        wait "${probes[$c]}" || probe_failed+="cpu $c: $(cat "$T/probe-$c") "
done
touch "$T/held-stop"
wait "$keeper"
kept=() # reaped: no longer ours to kill at exit
for p in "${OUR_PIDS[@]}"; do [ "$p" = "$keeper" ] || kept+=("$p"); done
OUR_PIDS=("${kept[@]}")
check_eq "… killed, no replacement yet: a read from each CPU waits ($waiting of $NCPU)" "$NCPU" "$waiting"
check_eq "… and is answered once the holder replaces it" "" "$probe_failed"
check_eq "… by a replacement through io_uring" uring "$(st "$M" transport)"
cr daemon stop --kill --mountpoint "$M"

echo Y >"$URING_SWITCH"

# ---- --transport dev and auto with the switch on ----
fresh_mountpoint; MD=$FRESH
cr daemon start --mountpoint "$MD" --transport dev
check_eq "switch on, --transport dev: /dev/fuse" dev "$(st "$MD" transport)"
cr run --mountpoint "$MD" --memory 256M -- head -n 1 /proc/meminfo
check_eq "… nothing through io_uring" 0 "$(st "$MD" requests_served_uring)"
cr daemon stop --kill --mountpoint "$MD"
fresh_mountpoint; MA=$FRESH
cr daemon start --mountpoint "$MA"
check_eq "switch on, auto (curate run's default): io_uring" uring "$(st "$MA" transport)"
cr daemon stop --kill --mountpoint "$MA"
finish
