#!/bin/bash
# curate ps lists containers whichever way they got curatefs's views (issue
# 11 item 6), not only those with a cgroup under curate/: real podman 4.3
# with runc (cgroupfs manager, so their cgroups are libpod_parent/libpod-ID,
# nowhere near curate/) runs one container with the CDI device
# curate.dev/views=all and one with an LXCFS-style -v bind of
# MOUNTPOINT/proc/meminfo; both are listed once (pid, memory limit,
# command, the views bound, the id `curate device add` takes), a podman
# container without views is not, a `curate run` container still is, once,
# and after `podman rm -f` they are gone. Podman's storage is private to the
# test; the CDI spec is installed as /var/run/cdi/curate.yaml under a lock
# on that directory (podman 4.3 reads no other spec directory) and a file
# that was there is put back at exit.
. "$(dirname "$0")/lib.sh"
require_curate
command -v jq >/dev/null || skip "jq is not installed (scripts/setup.sh installs it)"
require_podman
export LC_ALL=C

run_tmpdir
SPEC=curate.yaml
SAVED=0 INSTALLED=0 MADE_CDI_DIR=0
restore_spec() {
        [ "$INSTALLED" = 1 ] && rm -f "$CDI_DIR/$SPEC"
        [ "$SAVED" = 1 ] && mv "$T/saved-$SPEC" "$CDI_DIR/$SPEC"
        [ "$MADE_CDI_DIR" = 1 ] && rmdir "$CDI_DIR" 2>/dev/null
        SAVED=0 INSTALLED=0 MADE_CDI_DIR=0
}
podman_private ps
trap 'restore_spec; podman_cleanup; cleanup_run; cleanup' EXIT
cdi_lock

# ---- the image: static busybox and its applet links
R=$T/rootfs
busybox_rootfs "$R"
podman_import "$R"
LIMITS=(--network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
"${PODMAN[@]}" run --rm "${LIMITS[@]}" "$IMAGE" true 2>"$T/run.err" ||
        skip "rootful podman with runc cannot run a container here: $(tail -1 "$T/run.err")"

fresh_mountpoint
"$CURATE" daemon start --mountpoint "$FRESH" >/dev/null || { not_ok "daemon start"; finish; }
mkdir -p "$T/spec"
"$CURATE" cdi generate --mountpoint "$FRESH" --output "$T/spec/$SPEC" || { not_ok "cdi generate"; finish; }
if [ -e "$CDI_DIR/$SPEC" ]; then mv "$CDI_DIR/$SPEC" "$T/saved-$SPEC" && SAVED=1; fi
cp "$T/spec/$SPEC" "$CDI_DIR/$SPEC" && INSTALLED=1

# start NAME PODMAN-RUN-ARGS...: a detached container; sets ID and PID
start() {
        local name=$1; shift
        ID=$("${PODMAN[@]}" run -d --name "$name" "${LIMITS[@]}" "$@" 2>"$T/start.err") ||
                { not_ok "podman run $name: $(tail -1 "$T/start.err")"; ID= PID=; return 1; }
        PID=$("${PODMAN[@]}" inspect --format '{{.State.Pid}}' "$name")
        # until the command runs (runc's init has exec'd it)
        for i in $(seq 200); do [ "$(cat /proc/$PID/comm 2>/dev/null)" = sleep ] && break; sleep 0.05; done
}
start ps-cdi-$$ --memory 96m --device curate.dev/views=all "$IMAGE" sleep 1000; CDI_ID=$ID CDI_PID=$PID
start ps-bind-$$ --memory 64m -v "$FRESH/proc/meminfo:/proc/meminfo:ro" "$IMAGE" sleep 1001; BIND_ID=$ID BIND_PID=$PID
start ps-none-$$ --memory 32m "$IMAGE" sleep 1002; NONE_ID=$ID NONE_PID=$PID
cr_bg run --mountpoint "$FRESH" -m 48M -- sleep 1003
RUN_ID=run-$CR_PID
for i in $(seq 200); do
        [ "$("$CURATE" ps --json | jq -r --arg id "$RUN_ID" '.[] | select(.id == $id) | .command')" = "sleep 1003" ] && break
        sleep 0.1
done

J=$("$CURATE" ps --json); check_eq "curate ps --json exits 0" 0 $?
byid() { echo "$J" | jq -r --arg id "$1" "[.[] | select(.id == \$id)] | $2"; }
bypid() { echo "$J" | jq -r --argjson p "${1:-0}" "[.[] | select(.pid == \$p)] | $2"; }

if [ -n "$CDI_ID" ]; then
        check "CDI container: its cgroup is not under curate/" bash -c "! grep -q ':/curate/' /proc/$CDI_PID/cgroup"
        check_eq "CDI container: listed once, by its podman id" 1 "$(byid "$CDI_ID" length)"
        check_eq "CDI container: pid is podman's State.Pid" "$CDI_PID" "$(byid "$CDI_ID" '.[0].pid')"
        check_eq "CDI container: started by an engine" engine "$(byid "$CDI_ID" '.[0].started')"
        check_eq "CDI container: no launcher" null "$(byid "$CDI_ID" '.[0].launcher_pid')"
        check_eq "CDI container: memory limit --memory 96m" 100663296 "$(byid "$CDI_ID" '.[0].limits.memory_bytes')"
        check_eq "CDI container: command" "sleep 1000" "$(byid "$CDI_ID" '.[0].command')"
        check_eq "CDI container: its memory cgroup is podman's" "$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' /proc/$CDI_PID/cgroup)" \
                "$(byid "$CDI_ID" '.[0].cgroup.memory')"
        devcg=$(awk -F: '$2 ~ /(^|,)devices(,|$)/ { print $3 }' /proc/$CDI_PID/cgroup)
        [ -n "$devcg" ] && check_eq "CDI container: its device cgroup is podman's" "$devcg" "$(byid "$CDI_ID" '.[0].cgroup.devices')"
        check "CDI container: views lists /proc/meminfo and /sys/devices/system/cpu" \
                test "$(byid "$CDI_ID" '.[0].views | index("/proc/meminfo") != null and index("/sys/devices/system/cpu") != null')" = true
        check_eq "CDI container: listed by no other entry (its pid once)" 1 "$(bypid "$CDI_PID" length)"
fi
if [ -n "$BIND_ID" ]; then
        check_eq "-v MOUNTPOINT/proc/meminfo container: listed once" 1 "$(byid "$BIND_ID" length)"
        check_eq "-v bind container: pid" "$BIND_PID" "$(byid "$BIND_ID" '.[0].pid')"
        check_eq "-v bind container: memory limit" $((64 << 20)) "$(byid "$BIND_ID" '.[0].limits.memory_bytes')"
        check_eq "-v bind container: views is the one bind" '["/proc/meminfo"]' "$(byid "$BIND_ID" '.[0].views' | jq -c .)"
fi
if [ -n "$NONE_ID" ]; then
        check_eq "a podman container without views is not listed (by id)" 0 "$(byid "$NONE_ID" length)"
        check_eq "a podman container without views is not listed (by pid)" 0 "$(bypid "$NONE_PID" length)"
fi
check_eq "curate run container: listed once" 1 "$(byid "$RUN_ID" length)"
check_eq "curate run container: started run" run "$(byid "$RUN_ID" '.[0].started')"
RUN_INIT=$(byid "$RUN_ID" '.[0].pid')
check_eq "curate run container: its init in no other entry" 1 "$(bypid "$RUN_INIT" length)"
check "curate run container: views listed" test "$(byid "$RUN_ID" '.[0].views | length')" -ge 1
check_eq "no entry for the host or ps itself (the daemon's mount: no pid:1 entry)" 0 "$(byid pid:1 length)"

# the table: one row per container, the podman id cut to 12 digits
TXT=$("$CURATE" ps)
sed 's/^/# /' <<<"$TXT"
if [ -n "$CDI_ID" ]; then
        check_eq "table: one row for the CDI container" 1 "$(grep -c "^${CDI_ID:0:12} " <<<"$TXT")"
        # podman's default --memory-swap is twice --memory: 96M/192M
        check "table: its row shows engine, its pid, 96M and its command ($(grep "^${CDI_ID:0:12} " <<<"$TXT"))" \
                grep -Eq "^${CDI_ID:0:12} +engine +$CDI_PID +- +[0-9]+[smhd] +96M(/[0-9]+[KMG])? +.* sleep 1000$" <<<"$TXT"
        # the id shown is one `curate device add` takes (runc's state of podman)
        OUT=$("$CURATE" device add "${CDI_ID:0:12}" /dev/fuse 2>&1); RC=$?
        check_eq "curate device add with the table's id: exit 0 ($OUT)" 0 "$RC"
        [ "$RC" = 0 ] && "$CURATE" device remove "${CDI_ID:0:12}" /dev/fuse >/dev/null 2>&1
fi
[ -n "$BIND_ID" ] && check_eq "table: one row for the -v bind container" 1 "$(grep -c "^${BIND_ID:0:12} " <<<"$TXT")"
check_eq "table: one row for the curate run container" 1 "$(grep -c "^$RUN_ID " <<<"$TXT")"

# once removed they are gone
"${PODMAN[@]}" rm -f ps-cdi-$$ ps-bind-$$ ps-none-$$ >/dev/null 2>&1
kill -TERM "$CR_PID"; wait "$CR_PID" 2>/dev/null
J=$("$CURATE" ps --json)
for id in "$CDI_ID" "$BIND_ID"; do
        [ -n "$id" ] && check_eq "after podman rm -f: ${id:0:12} is gone" 0 "$(byid "$id" length)"
done
check_eq "after it ended: the curate run container is gone" 0 "$(byid "$RUN_ID" length)"

restore_spec
podman_cleanup
check_eq "no container left in the private storage" "" "$("${PODMAN[@]}" ps -aq 2>/dev/null)"
finish
