#!/bin/bash
# The holder's own death under systemd: curatefs stores the /dev/fuse
# connection and the journal in the unit's fd store (FDSTORE=1), and a
# restarted unit takes them back (LISTEN_FDS) instead of mounting, so readers
# in a cgroup see no failed read while the whole service (holder and serving
# processes, as KillMode=control-group kills them) is SIGKILLed and started
# again. systemd does not run here: tests/helpers/fdstore.py stands in for it
# (a notify socket, an fd store, a restart), as curatefs.service uses it.
. "$(dirname "$0")/lib.sh"
require_root
command -v python3 >/dev/null || skip "python3 missing (scripts/setup.sh installs it)"
export LC_ALL=C
T=$(mktemp -d /tmp/curatefs-fdstore.XXXXXX); OUR_DIRS+=("$T")
MNT=$T/mnt; mkdir "$MNT"; OUR_MOUNTS+=("$MNT")
mkfifo "$T/ctl"
python3 "$SOURCE_ROOT/tests/helpers/fdstore.py" "$T" -- "$CURATEFS" -f "$MNT" < "$T/ctl" 2>"$T/log" &
OUR_PIDS+=($!); manager=$!
exec 7>"$T/ctl"
wait_events() { # PATTERN COUNT: wait up to 10 s for COUNT lines matching PATTERN
        local i n
        for i in $(seq 200); do
                n=$(grep -c "$1" "$T/events" 2>/dev/null)
                [ "${n:-0}" -ge "$2" ] && return 0
                sleep 0.05
        done
        return 1
}
check "the holder reports ready through the notify socket" wait_events '^ready' 1
check "  and stores the connection and the journal" bash -c "grep -q '^stored fuse' '$T/events' && grep -q '^stored journal' '$T/events'"
holder1=$(awk '$1 == "started" { p = $2 } END { print p }' "$T/events")

cat > "$T/reader.py" <<'PY'
import sys, time
path, want, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
ok = bad = 0; worst = 0.0; end = time.monotonic() + seconds
while time.monotonic() < end:
    t = time.monotonic()
    try:
        with open(path) as f:
            total = next(l.split()[1] for l in f if l.startswith("MemTotal:"))
        if total == want: ok += 1
        else: bad += 1; print("wrong MemTotal", total, flush=True)
    except OSError as e:
        bad += 1; print("error", e, flush=True)
    worst = max(worst, time.monotonic() - t)
print(f"ok={ok} bad={bad} worst_ms={worst * 1000:.0f}")
PY
cg_create "$CG_PREFIX-r" memory=268435456
for k in 1 2; do cg_spawn "$CG_PREFIX-r" python3 "$T/reader.py" "$MNT/proc/meminfo" 262144 6 > "$T/reader$k"; done
readers=("${OUR_PIDS[@]: -2}")
sleep 1.5
echo restart >&7
check "the restarted holder reports ready" wait_events '^ready' 2
holder2=$(awk '$1 == "started" { p = $2 } END { print p }' "$T/events")
check "  a new holder ($holder1 -> $holder2)" test -n "$holder2" -a "$holder2" != "$holder1"
check_eq "  still one curatefs mount (the stored connection, not a new mount)" 1 "$(fuse_mounts_at "$MNT")"
for p in "${readers[@]}"; do wait "$p"; done
for k in 1 2; do
        check "reader $k: every read through the restart answered, the cgroup's MemTotal ($(tail -1 "$T/reader$k"))" \
                grep -q '^ok=[1-9][0-9]* bad=0 ' "$T/reader$k"
done
check "the serving process of the new holder answers" grep -q '^MemTotal:' "$MNT/proc/meminfo"
echo stop >&7
exec 7>&-
wait "$manager"
unit=$BUILD_ROOT/fs/curatefs.service
if [ -f "$unit" ]; then
        for line in Type=notify FileDescriptorStoreMax=4098 KillMode=control-group Restart=always 'ExecReload=/bin/kill -HUP $MAINPID'; do
                check "the shipped unit has $line (what this test stands in for)" grep -qxF "$line" "$unit"
        done
fi
check "a stop removes the connection from the fd store" grep -q '^removed fuse' "$T/events"
check_eq "  and unmounts" 0 "$(fuse_mounts_at "$MNT")"
finish
