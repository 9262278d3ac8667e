#!/bin/bash
# sysinfo(2) of podman and runc containers answered by curatefs through the
# OCI seccomp agent (fs/seccomp-agent.c): a profile from `curate
# seccomp-profile` routes sysinfo to SCMP_ACT_NOTIFY with "listenerPath"
# naming curatefs's socket; runc sends each container process's listener
# fd there; the holder keeps it and the serving processes answer. Busybox
# free and uptime (sysinfo only) then show the container's memory, load
# and uptime. Tried to break: a serving process killed while a container
# calls sysinfo in a loop (no call lost, failed or answered with the
# host's figures), garbage on the socket (the daemon keeps serving), fds
# left behind (the holder's fd count returns to where it was), a stopped
# daemon (the container does not start, with runc's message).
#
# The daemon here is private (its own mount point, socket and registration
# directory, CURATE_SYSINFO_DIR); the CDI spec of its views is installed as
# /var/run/cdi/curate.yaml under the same lock test-podman-cdi.sh takes.
. "$(dirname "$0")/lib.sh"
require_curate
require_podman
command -v jq >/dev/null || skip "jq not installed (scripts/setup.sh installs it)"
command -v python3 >/dev/null || skip "python3 not installed"
PROBE=$BUILD_ROOT/tests/sysinfo-probe
[ -x "$PROBE" ] || skip "tests/sysinfo-probe not built"
[ -r /usr/share/containers/seccomp.json ] || skip "no /usr/share/containers/seccomp.json (podman's default profile)"

run_tmpdir
SAVED=0 MADE_CDI_DIR=0
restore_spec() {
        [ -n "${CDI_DIR:-}" ] && rm -f "$CDI_DIR/curate.yaml"
        [ "$SAVED" = 1 ] && mv "$T/saved-curate.yaml" "$CDI_DIR/curate.yaml"
        [ "$MADE_CDI_DIR" = 1 ] && rmdir "$CDI_DIR" 2>/dev/null
}
podman_private sysinfo
trap 'restore_spec; runc --root "$T/runc" delete -f "ocil-runc-$$" >/dev/null 2>&1; podman_cleanup; cleanup_run; cleanup' EXIT
cdi_lock

# ---- the image: static busybox, and sysinfo-probe with its libraries
R=$T/rootfs
busybox_rootfs "$R" "$PROBE"
podman_import "$R"
RUN=(run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
"${PODMAN[@]}" "${RUN[@]}" "$IMAGE" true 2>"$T/run.err" ||
        skip "rootful podman with runc cannot run a container here: $(tail -1 "$T/run.err")"
pod() { OUT=$("${PODMAN[@]}" "${RUN[@]}" "$@" 2>"$T/pod.err"); RC=$?; ERR=$(tail -3 "$T/pod.err"); }
HOST_MEM=$(kb_of MemTotal </proc/meminfo)

# ---- the daemon with its agent, the profile, the views' CDI spec
SOCK=$T/agent.sock
export CURATE_SYSINFO_DIR=$T/sysinfo
fresh_mountpoint
MNT=$FRESH
CURATE_SECCOMP_AGENT=$SOCK "$CURATE" daemon start --mountpoint "$MNT" >/dev/null ||
        { not_ok "curate daemon start with CURATE_SECCOMP_AGENT"; finish; }
HOLDER=$("$CURATE" daemon status --mountpoint "$MNT" --json | jq -r .holder_pid)
check "the holder's pid ($HOLDER)" test "$HOLDER" -gt 0
check "the agent's socket is there" test -S "$SOCK"
check_eq "the socket is root's only (0600)" 600 "$(stat -c %a "$SOCK")"
check "curate seccomp-profile --socket" "$CURATE" seccomp-profile --socket "$SOCK" --output "$T/profile.json"
check_eq "the profile: sysinfo named once, in the NOTIFY rule" \
        '[{"names":["sysinfo"],"action":"SCMP_ACT_NOTIFY"}]' \
        "$(jq -c '[.syscalls[] | select((.names // []) | index("sysinfo"))]' "$T/profile.json")"
check_eq "the profile: listenerPath is the socket" "$SOCK" "$(jq -r .listenerPath "$T/profile.json")"
check_eq "the profile keeps the base's default action" "$(jq -r .defaultAction /usr/share/containers/seccomp.json)" \
        "$(jq -r .defaultAction "$T/profile.json")"
mkdir -p "$T/spec"
"$CURATE" cdi generate --mountpoint "$MNT" --output "$T/spec/curate.yaml" || { not_ok "cdi generate"; finish; }
if [ -e "$CDI_DIR/curate.yaml" ]; then mv "$CDI_DIR/curate.yaml" "$T/saved-curate.yaml" && SAVED=1; fi
cp "$T/spec/curate.yaml" "$CDI_DIR/curate.yaml"
fd_count() { ls "/proc/$HOLDER/fd" 2>/dev/null | wc -l; }
regs() { ls "$CURATE_SYSINFO_DIR" 2>/dev/null | grep -c '^oci-'; }
# wait_fds N: until the holder holds N fds (its containers' ended), 10 s at most
wait_fds() { local i; for i in $(seq 200); do [ "$(fd_count)" = "$1" ] && return 0; sleep 0.05; done; return 1; }
BASE_FDS=$(fd_count)
SEC=(--security-opt "seccomp=$T/profile.json")

# ---- busybox free and uptime: sysinfo(2) only
pod --memory 256m "${SEC[@]}" --device curate.dev/views=all "$IMAGE" \
        sh -c 'echo free=$(free | awk "/^Mem:/ { print \$2, \$3 <= \$2 }"); echo l1=$(cut -d" " -f1-3 /proc/loadavg)
               echo up=$(uptime); echo l2=$(cut -d" " -f1-3 /proc/loadavg)'
check_eq "podman + profile: exit 0 ($ERR)" 0 "$RC"
check_eq "busybox free: total is --memory 256m, used within it" "262144 1" "$(kv free <<<"$OUT")"
up=$(kv up <<<"$OUT")
check "busybox uptime: the container's uptime, not the host's 'up $(awk '{ print int($1 / 60) }' /proc/uptime) min' ($up)" \
        grep -Eq 'up +0 min' <<<"$up"
# the loads of the view read before and after (they move every 5 s); busybox
# truncates to 1/100 where /proc/loadavg rounds: 0.01 apart at most
near_loads() { # near_loads UPTIME_LINE "A B C"
        awk -v u="$1" -v l="$2" 'BEGIN { sub(/.*load average: /, "", u); gsub(/,/, "", u)
                n = split(u, a, " "); split(l, b, " "); if (n != 3) exit 1
                for (i = 1; i <= 3; i++) { d = a[i] - b[i]; if (d < -0.011 || d > 0.011) exit 1 } }'
}
check "busybox uptime: loads are the container's /proc/loadavg ($up; $(kv l1 <<<"$OUT"))" \
        bash -c "$(declare -f near_loads); near_loads '$up' '$(kv l1 <<<"$OUT")' || near_loads '$up' '$(kv l2 <<<"$OUT")'"
check_eq "the container's fd is released when it ends" "$BASE_FDS" "$(wait_fds "$BASE_FDS"; fd_count)"
check_eq "and its registration removed" 0 "$(regs)"

pod --memory 128m "${SEC[@]}" "$IMAGE" sysinfo-probe fields
check_eq "another container, no views device: its own 128 MiB through sysinfo" 134217728 \
        "$(( $(kv totalram <<<"$OUT") * $(kv mem_unit <<<"$OUT") ))"
pod --memory 256m "$IMAGE" free
check_eq "the control: without the profile, busybox free shows the host's" "$HOST_MEM" \
        "$(awk '/^Mem:/ { print $2 }' <<<"$OUT")"

# ---- podman exec: each exec'd process sends its own fd
"${PODMAN[@]}" run -d --name "ocil-$$" --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
        --memory 192m "${SEC[@]}" --device curate.dev/views=all "$IMAGE" sleep 60 >/dev/null 2>"$T/exec.err"
check_eq "a detached container: one registration" 1 "$(regs)"
check_eq "curate daemon status --json: the agent's socket and the one listener kept" "$SOCK 1" \
        "$("$CURATE" daemon status --mountpoint "$MNT" --json | jq -r '"\(.seccomp_agent.socket) \(.seccomp_agent.listeners)"')"
OUT=$("${PODMAN[@]}" exec "ocil-$$" sh -c 'free | awk "/^Mem:/ { print \$2 }"' 2>"$T/exec.err")
check_eq "podman exec: busybox free shows 192 MiB ($(tail -1 "$T/exec.err"))" 196608 "$OUT"
OUT=$("${PODMAN[@]}" exec "ocil-$$" sh -c 'sleep 0.5 & sysinfo-probe fields >/dev/null; ls /proc/self/fd | wc -l' 2>&1)
check_eq "podman exec: the exec'd process's fd dropped once it ended" 1 "$(for i in $(seq 100); do [ "$(regs)" = 1 ] && break; sleep 0.05; done; regs)"
"${PODMAN[@]}" rm -f -t 0 "ocil-$$" >/dev/null 2>&1
check_eq "detached container removed: fds back to the baseline" "$BASE_FDS" "$(wait_fds "$BASE_FDS"; fd_count)"

# ---- plain runc with a bundle whose linux.seccomp has listenerPath
B=$T/bundle
mkdir -p "$B"
(cd "$B" && runc spec)
jq --slurpfile prof "$T/profile.json" --arg root "$R" --arg cg "/curate-ocil-test-$$" \
        '.process.args = ["sysinfo-probe", "fields"] | .process.terminal = false
         | .root = { path: $root, readonly: true } | .linux.cgroupsPath = $cg
         | .linux.resources.memory = { limit: 268435456 } | .linux.seccomp = $prof[0]' \
        "$B/config.json" >"$B/config.new" && mv "$B/config.new" "$B/config.json"
OUT=$(runc --root "$T/runc" run -b "$B" "ocil-runc-$$" 2>"$T/runc.err" </dev/null); RC=$?
check_eq "runc run with listenerPath: exit 0 ($(tail -1 "$T/runc.err"))" 0 "$RC"
check_eq "runc run: sysinfo(2) says 256 MiB" 268435456 "$(( $(kv totalram <<<"$OUT") * $(kv mem_unit <<<"$OUT") ))"

# ---- the routes without CDI: the OCI hook gives the files, the profile
# sysinfo(2): busybox free and busybox cat in one container
# (free: total from sysinfo, buffers and cache from /proc/meminfo)
BOTH='echo free=$(free | awk "/^Mem:/ { print \$2 }"); echo cat=$(cat /proc/meminfo | awk "\$1 == \"MemTotal:\" { t = \$2 } END { print t \"/\" NR }")/$(head -n 1000 /proc/meminfo | wc -l)'
jq --arg curate "$CURATE" --arg mnt "$MNT" --arg sh "$BOTH" --arg cg "/curate-ocil-test-$$-hook" \
        '.process.args = ["sh", "-c", $sh] | .linux.cgroupsPath = $cg
         | .hooks.createContainer = [{ path: $curate, args: ["curate", "oci-hook", "--mountpoint", $mnt] }]
         | .annotations = { "io.curate.views": "all" }' "$B/config.json" >"$B/config.new" && mv "$B/config.new" "$B/config.json"
OUT=$(runc --root "$T/runc" run -b "$B" "ocil-runc-hook-$$" 2>"$T/runc.err" </dev/null); RC=$?
check_eq "runc run with the hook and listenerPath: exit 0 ($(tail -1 "$T/runc.err"))" 0 "$RC"
check_eq "runc, hook + listenerPath: busybox free shows 256 MiB" 262144 "$(kv free <<<"$OUT")"
c=$(kv cat <<<"$OUT")
check "runc, hook + listenerPath: busybox cat /proc/meminfo: 262144, every line ($c)" \
        test "${c%%/*}" = 262144 -a "$(cut -d/ -f2 <<<"$c")" = "$(cut -d/ -f3 <<<"$c")"
mkdir -p "$T/hooks"
jq -n --arg curate "$CURATE" --arg mnt "$MNT" '{ version: "1.0.0",
        hook: { path: $curate, args: ["curate", "oci-hook", "--mountpoint", $mnt] },
        when: { annotations: { "^io\\.curate\\.views$": ".*" } }, stages: ["createContainer"] }' >"$T/hooks/50-curate.json"
OUT=$("${PODMAN[@]}" --hooks-dir "$T/hooks" "${RUN[@]}" --annotation io.curate.views=all --memory 256m "${SEC[@]}" \
        "$IMAGE" sh -c "$BOTH" 2>"$T/pod.err"); RC=$?; ERR=$(tail -3 "$T/pod.err")
check_eq "podman, hooks.d + annotation + profile: exit 0 ($ERR)" 0 "$RC"
check_eq "podman, hooks.d + annotation + profile: busybox free shows 256 MiB" 262144 "$(kv free <<<"$OUT")"
c=$(kv cat <<<"$OUT")
check "podman, hooks.d + annotation + profile: busybox cat /proc/meminfo: 262144, every line ($c)" \
        test "${c%%/*}" = 262144 -a "$(cut -d/ -f2 <<<"$c")" = "$(cut -d/ -f3 <<<"$c")"

# ---- the holder is not woken by the calls (epoll wakes it on EPOLLHUP only)
switches() { awk '/^(voluntary|nonvoluntary)_ctxt_switches/ { n += $2 } END { print n }' "/proc/$HOLDER/status"; }
sw0=$(switches)
pod --memory 256m "${SEC[@]}" "$IMAGE" sysinfo-probe loop 2 1 268435456
sw1=$(switches)
calls=$(kv calls <<<"$(tr ' ' '\n' <<<"$OUT")")
check "a 2 s sysinfo loop: calls answered (${calls:-none}, $OUT$ERR)" test "${calls:-0}" -gt 1000
check "  and the holder woke a few times, not per call ($((sw1 - sw0)) switches for $calls calls)" \
        test $((sw1 - sw0)) -lt $(( ${calls:-0} / 100 ))

# ---- a serving process killed while a container calls sysinfo in a loop
timeout -k 5 60 "${PODMAN[@]}" "${RUN[@]}" --memory 256m "${SEC[@]}" "$IMAGE" sysinfo-probe loop 6 2 268435456 \
        >"$T/loop.out" 2>"$T/loop.err" &
loop_pid=$!
sleep 1.5
killed=""
for k in 1 2 3; do
        s=$(pgrep -P "$HOLDER" | head -1)
        [ -n "$s" ] && kill -KILL "$s" && killed="$killed $s"
        sleep 1
done
wait "$loop_pid"; loop_rc=$?
check_eq "loop under kills: the container exits 0 ($(tail -1 "$T/loop.err"))" 0 "$loop_rc"
check "loop under kills: three serving processes killed ($killed)" test "$(wc -w <<<"$killed")" = 3
calls=$(grep -o 'calls=[0-9]*' "$T/loop.out" | cut -d= -f2)
check "loop under kills: calls went on (${calls:-none})" test "${calls:-0}" -gt 100
check_eq "loop under kills: no call failed, none showed other figures ($(cat "$T/loop.out"))" \
        "wrong=0 errors=0" "$(grep -o 'wrong=[0-9]* errors=[0-9]*' "$T/loop.out")"
check "the holder is the same process" kill -0 "$HOLDER"

# ---- garbage on the socket
python3 - "$SOCK" >"$T/garbage.out" 2>&1 <<'EOF'
import array, os, socket, sys, time
path = sys.argv[1]
msg = b'{"ociVersion":"1.0.2","fds":["seccompFd"],"pid":1,"state":{"id":"garbage","pid":1}}'
r, w = os.pipe()
def send(data, fds=()):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    try:
        s.sendmsg([data], anc)
    except OSError as e:
        print("send:", e)
    return s
for data, fds in [(msg, ()), (msg, (r,)), (b'{"x": [1, 2,', (r,)), (b"not json", (r,)),
                  (b"[1, 2, 3]", (r,)), (msg, (r,) * 8), (msg, (r,) * 200), (b"", (r,)),
                  (msg.replace(b"seccompFd", b"other"), (r,)),
                  (b'{"fds":["x","x","x","x","x","seccompFd"],"pid":1,"state":{"id":"a"}}', (r,) * 6)]:
    send(data, fds).close()
big = send(b"[" + b"1," * 40000)
try:
    big.sendall(b"1," * 40000)
except OSError as e:
    print("big:", e)
big.close()
idle = send(b"")
flood = []
for i in range(300):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        flood.append(s)
    except OSError as e:
        print("flood:", e)
        break
time.sleep(3)  # beyond the agent's 2 s per connection
for s in flood:
    s.close()
idle.close()
print("done")
EOF
check "garbage: the client ran ($(tail -1 "$T/garbage.out"))" grep -q '^done$' "$T/garbage.out"
check "garbage: the holder still runs" kill -0 "$HOLDER"
check_eq "garbage: nothing registered" 0 "$(regs)"
check_eq "garbage: the holder's fds back to the baseline" "$BASE_FDS" "$(wait_fds "$BASE_FDS"; fd_count)"
pod --memory 256m "${SEC[@]}" --device curate.dev/views=all "$IMAGE" sh -c 'free | awk "/^Mem:/ { print \$2 }"'
check_eq "garbage: a container after it still gets its figures ($ERR)" "0 262144" "$RC $OUT"

# ---- the daemon stopped: a container with the profile does not start
kill -TERM "$HOLDER"
for i in $(seq 100); do kill -0 "$HOLDER" 2>/dev/null || break; sleep 0.1; done
check "daemon stopped: its socket is removed" test ! -e "$SOCK"
pod --memory 256m "${SEC[@]}" "$IMAGE" true
check "daemon stopped: the container does not start (exit $RC)" test "$RC" != 0
check "daemon stopped: runc says it cannot reach the agent ($ERR)" grep -q "seccomp agent" <<<"$ERR"
echo "# runc's message: $ERR"

# ---- the holder killed under systemd (tests/helpers/fdstore.py stands in
# for it, as in test-fs-fdstore.sh): the listeners wait in the fd store, so
# a container's calls wait for the restarted holder instead of failing
M2=$T/mnt2 SOCK2=$T/agent2.sock
mkdir -p "$M2" "$T/fds"; OUR_MOUNTS+=("$M2")
mkfifo "$T/ctl"
CURATE_SECCOMP_AGENT=$SOCK2 python3 "$SOURCE_ROOT/tests/helpers/fdstore.py" "$T/fds" -- "$CURATEFS" -f "$M2" \
        <"$T/ctl" 2>"$T/fds/log" &
manager=$!; OUR_PIDS+=("$manager")
exec 8>"$T/ctl"
events() { local n; n=$(grep -c "$1" "$T/fds/events" 2>/dev/null); echo "${n:-0}"; }
wait_events() { local i; for i in $(seq 200); do [ "$(events "$1")" -ge "$2" ] && return 0; sleep 0.05; done; return 1; }
check "fd store: the holder is ready" wait_events '^ready' 1
"$CURATE" seccomp-profile --socket "$SOCK2" --output "$T/profile2.json" 2>/dev/null
# (a call left unanswered would hang the container: timeout fails it instead)
timeout -k 5 60 "${PODMAN[@]}" "${RUN[@]}" --memory 256m --security-opt "seccomp=$T/profile2.json" "$IMAGE" \
        sysinfo-probe loop 6 2 268435456 >"$T/loop2.out" 2>"$T/loop2.err" &
loop_pid=$!
for i in $(seq 200); do [ "$(regs)" -ge 1 ] && break; sleep 0.05; done
sleep 1
check "fd store: the container's listener is stored" test "$(events '^stored oci-')" -ge 1
echo restart >&8
check "fd store: the holder and its serving processes killed, a new holder ready" wait_events '^ready' 2
wait "$loop_pid"; loop_rc=$?
check_eq "fd store: the looping container exits 0 ($(tail -1 "$T/loop2.err"))" 0 "$loop_rc"
check_eq "fd store: no call failed or showed other figures ($(cat "$T/loop2.out"))" \
        "wrong=0 errors=0" "$(grep -o 'wrong=[0-9]* errors=[0-9]*' "$T/loop2.out")"
check "fd store: the container ended, its listener left the store" wait_events '^removed oci-' 1
echo stop >&8
exec 8>&-
wait "$manager"

# ---- a daemon on a private mount point takes no socket unless told to
fresh_mountpoint
env -u CURATE_SECCOMP_AGENT "$CURATE" daemon start --mountpoint "$FRESH" >/dev/null
check_eq "a private mount point's daemon: no agent socket" null \
        "$("$CURATE" daemon status --mountpoint "$FRESH" --json | jq -r .seccomp_agent.socket)"
finish
