#!/bin/bash
# curate oci-hook, the OCI createContainer hook, under the engines people
# run: plain `runc run` of a bundle with the hook in config.json, podman
# through the hooks.d definition oci/50-curate.json and the annotation
# io.curate.views, and the hook run by hand the way the runtime spec says a
# runtime runs it (from the runtime's namespaces, on a process that has or
# has not changed its root yet). Checked: the container's own memory limit
# and cpuset through /proc/meminfo and /sys/devices/system/cpu/online, the
# view set from the annotation, and every failure (bad annotation, no
# daemon, a named view whose target is missing, a gone process, bad input)
# failing the container with the container id in the message and nothing
# bound: not in the container's namespace, not on the host.
. "$(dirname "$0")/lib.sh"
require_curate
export LC_ALL=C

RUNC=$(command -v runc) || skip "runc not installed (scripts/setup.sh installs it)"
command -v jq >/dev/null || skip "jq not installed (scripts/setup.sh installs it)"
BUSYBOX=$(command -v busybox) || skip "busybox not installed (scripts/setup.sh installs busybox-static)"
command -v unshare nsenter >/dev/null || skip "unshare/nsenter (util-linux) missing"

mount_curatefs || { not_ok "mount curatefs"; finish; }
run_tmpdir
MEM=268435456 # 256 MiB
CGPARENT=curate-oci-test-$$
RUNC_ROOT=$T/runc-state
PODMAN_DIR=$T/podman
declare -a PM=(podman --root "$PODMAN_DIR/root" --runroot "$PODMAN_DIR/runroot" --tmpdir "$PODMAN_DIR/tmp"
               --storage-driver vfs --cgroup-manager cgroupfs --events-backend file --runtime "$RUNC")
HAVE_PODMAN=
n=0

# everything runc and podman made: containers, images, their mounts, the
# cgroups below $CGPARENT (runc removes a container's own; the parent and
# podman's conmon cgroup stay)
cleanup_oci() {
        local id m d
        for id in $("$RUNC" --root "$RUNC_ROOT" list -q 2>/dev/null); do
                "$RUNC" --root "$RUNC_ROOT" delete -f "$id" >/dev/null 2>&1
        done
        if [ -n "$HAVE_PODMAN" ]; then
                timeout 60 "${PM[@]}" rm -a -f >/dev/null 2>&1
                timeout 60 "${PM[@]}" rmi -a -f >/dev/null 2>&1
        fi
        for m in $(awk -v t="$T/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
                umount -l "$m" 2>/dev/null
        done
        for d in /sys/fs/cgroup/*/"$CGPARENT" /sys/fs/cgroup/"$CGPARENT"; do
                [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
        # podman --cgroup-parent /curate puts conmon in /curate/conmon
        if [ -z "$CONMON_CG_BEFORE" ]; then
                for d in /sys/fs/cgroup/*/curate/conmon /sys/fs/cgroup/curate/conmon; do
                        [ -d "$d" ] && rmdir "$d" 2>/dev/null
                done
        fi
}
CONMON_CG_BEFORE=$(ls -d /sys/fs/cgroup/*/curate/conmon /sys/fs/cgroup/curate/conmon 2>/dev/null)
trap 'cleanup_oci; cleanup_run; cleanup' EXIT

MNT_DEV=$(mountpoint -d "$MNT")
# how many mounts of our curatefs the host has: only $MNT itself, whatever failed
host_binds() { awk -v d="$MNT_DEV" '$3 == d { n++ } END { print n + 0 }' /proc/self/mountinfo; }
check_host_clean() { # check_host_clean WHAT
        check_eq "$1: no curatefs bind left on the host" 1 "$(host_binds)"
        check_eq "$1: no mount left under the test's directory" 0 \
                "$(awk -v t="$T/" 'index($5, t) == 1 { n++ } END { print n + 0 }' /proc/self/mountinfo)"
}

mkrootfs() { # mkrootfs DIR: busybox-static and the directories runc mounts on
        local a
        mkdir -p "$1"/{bin,proc,sys,dev,tmp,etc}
        cp "$BUSYBOX" "$1/bin/busybox"
        for a in sh head cat grep awk wc ls sleep; do ln -sf busybox "$1/bin/$a"; done
}

# ---- plain runc: the hook in the bundle's config.json --------------------------------
BUNDLE=$T/bundle
mkdir -p "$BUNDLE" "$RUNC_ROOT"
mkrootfs "$BUNDLE/rootfs"
"$RUNC" spec --bundle "$BUNDLE" || { not_ok "runc spec"; finish; }
cp "$BUNDLE/config.json" "$T/spec.json"

# runc_config VIEWS HOOKARGS-JSON ARG...: the bundle's config.json running
# ARG... with 256 MiB and CPU 0, the hook with HOOKARGS, annotation VIEWS
# ("-": none), and JQ_EXTRA (a jq filter) applied last
runc_config() {
        local views=$1 hookargs=$2; shift 2
        # the command, each word its own --arg (jq's --args would take sh's -c for its own)
        local a i=0 jqargs=() list=()
        for a; do jqargs+=(--arg "a$i" "$a"); list+=("\$a$i"); i=$((i + 1)); done
        jq --arg curate "$CURATE" --argjson hookargs "$hookargs" --arg views "$views" --argjson mem $MEM \
           --arg cg "${CGPATH:-/$CGPARENT}/$ID" "${jqargs[@]}" '
                .process.terminal = false | .process.args = ['"$(IFS=,; echo "${list[*]}")"'] |
                .linux.resources.memory.limit = $mem | .linux.resources.cpu.cpus = "0" |
                .linux.cgroupsPath = $cg |
                .hooks.createContainer = [{ path: $curate, args: $hookargs }] |
                (if $views == "-" then del(.annotations) else .annotations = { "io.curate.views": $views } end) |
                '"${JQ_EXTRA:-.}" <"$T/spec.json" >"$BUNDLE/config.json"
}
# runc_run VIEWS ARG...: run ARG... in a new container $ID; sets OUT, ERR, RC
runc_run() {
        local views=$1; shift
        n=$((n + 1)); ID=curate-oci-$$-$n
        runc_config "$views" "${HOOKARGS:-[\"curate\",\"oci-hook\",\"--mountpoint\",\"$MNT\"]}" "$@"
        OUT=$(cd "$BUNDLE" && timeout -k 5 60 "$RUNC" --root "$RUNC_ROOT" run "$ID" </dev/null 2>"$T/err")
        # runc quotes the hook's stderr in its message: \" for "
        RC=$?; ERR=$(sed 's/\\"/"/g' "$T/err")
        "$RUNC" --root "$RUNC_ROOT" delete -f "$ID" >/dev/null 2>&1
}
# the views (head: busybox cat reads a shared view through sendfile, which
# stops at the FUSE file's size) and the container's curatefs mounts
PROBE='head -1 /proc/meminfo; head -1 /sys/devices/system/cpu/online
awk '\''{ for (i = 7; $i != "-"; i++) ; if ($(i + 1) == "fuse.curatefs") print $5, substr($6, 1, 2) }'\'' /proc/self/mountinfo'
# the same through busybox cat and the daemon's files each target shows
CAT_PROBE='cat /proc/meminfo | head -1; cat /sys/devices/system/cpu/online
awk '\''{ for (i = 7; $i != "-"; i++) ; if ($(i + 1) == "fuse.curatefs") print "src", $4 }'\'' /proc/self/mountinfo'
curatefs_targets() { awk 'NF == 2 && $1 ~ /^\// { print $1 }' <<<"$OUT" | sort | tr '\n' ' '; }

# can runc run a container here at all (without the hook)?
HOOKARGS='["curate","--version"]' runc_run none sh -c :
[ "$RC" = 0 ] || { echo "$ERR"; skip "runc cannot run a container on this host"; }

runc_run all sh -c "$PROBE"
check_eq "runc, views=all: the hook runs" 0 "$RC"
[ "$RC" = 0 ] || echo "$ERR"
check_eq "runc: MemTotal is the container's 256 MiB" "MemTotal: 262144 kB" "$(head -1 <<<"$OUT" | tr -s ' ')"
check_eq "runc: cpu/online is the container's cpuset" 0 "$(sed -n 2p <<<"$OUT")"
check_eq "runc: all binds the LXCFS set and the cpu tree" \
        "/proc/cpuinfo /proc/diskstats /proc/loadavg /proc/meminfo /proc/stat /proc/swaps /proc/uptime /sys/devices/system/cpu " \
        "$(curatefs_targets)"
check "runc: every bind is read-only" test -z "$(awk 'NF == 2 && $1 ~ /^\// && $2 != "ro"' <<<"$OUT")"
check_host_clean "runc, views=all"

# busybox cat (sendfile) in a container of any cgroup: the hook clones from
# the container's cgroup, so the views are that cgroup's own, sized copies
WHOLE='echo bb=$(cat /proc/meminfo | awk "\$1 == \"MemTotal:\" { print \$2 }")/$(cat /proc/meminfo | wc -l)/$(head -n 1000 /proc/meminfo | wc -l)
echo online=$(cat /sys/devices/system/cpu/online)'
runc_run all sh -c "$WHOLE"
check_eq "runc: busybox cat /proc/meminfo: MemTotal 262144, every line ($ERR)" 262144 "$(kv bb <<<"$OUT" | cut -d/ -f1)"
l=$(kv bb <<<"$OUT")
check "runc: busybox cat /proc/meminfo reads as many lines as head -n 1000 ($l)" \
        test -n "$l" -a "$(cut -d/ -f2 <<<"$l")" = "$(cut -d/ -f3 <<<"$l")" -a "$(cut -d/ -f2 <<<"$l")" != 0
check_eq "runc: busybox cat cpu/online: the cpuset" 0 "$(kv online <<<"$OUT")"

# plain runc with binds of the shared names in config.json, as a CDI spec
# makes them, no hook: runc's init binds them from the container's cgroup
JQ_EXTRA='.mounts += [{ destination: "/proc/meminfo", type: "bind", source: "'"$MNT"'/proc/meminfo",
        options: ["rbind", "ro"] }, { destination: "/sys/devices/system/cpu", type: "bind",
        source: "'"$MNT"'/sys/devices/system/cpu", options: ["rbind", "ro"] }]' runc_run none sh -c "$WHOLE"
check_eq "runc, binds in config.json: busybox cat /proc/meminfo: MemTotal 262144 ($ERR)" 262144 \
        "$(kv bb <<<"$OUT" | cut -d/ -f1)"
l=$(kv bb <<<"$OUT")
check "runc, binds in config.json: as many lines as head -n 1000 ($l)" \
        test -n "$l" -a "$(cut -d/ -f2 <<<"$l")" = "$(cut -d/ -f3 <<<"$l")" -a "$(cut -d/ -f2 <<<"$l")" != 0
check_eq "runc, binds in config.json: busybox cat cpu/online: the cpuset" 0 "$(kv online <<<"$OUT")"

runc_run "meminfo, cpu-online" sh -c "$PROBE"
check_eq "runc, views=meminfo,cpu-online: runs" 0 "$RC"
check_eq "runc: only the named views" "/proc/meminfo /sys/devices/system/cpu/online " "$(curatefs_targets)"
check_eq "runc: cpu-online alone gives the cpuset" 0 "$(sed -n 2p <<<"$OUT")"

runc_run none sh -c "$PROBE"
check_eq "runc, views=none: runs" 0 "$RC"
check_eq "runc, views=none: nothing bound" "" "$(curatefs_targets)"

# no annotation: the hook's --views, else all
HOOKARGS="[\"curate\",\"oci-hook\",\"--mountpoint\",\"$MNT\",\"--views\",\"uptime\"]" runc_run - sh -c "$PROBE"
check_eq "runc, no annotation: the hook's --views" "/proc/uptime " "$(curatefs_targets)"
runc_run - sh -c "$PROBE"
check_eq "runc, no annotation and no --views: all" 8 "$(curatefs_targets | wc -w)"

# the state carries the annotations (runc); config.json's count where it does not
# (checked by hand below). A view target the container lacks is skipped for
# "all" and refused when named: no /sys in the container at all.
JQ_EXTRA='.mounts |= map(select(.destination != "/sys"))' runc_run all sh -c "$PROBE"
check_eq "runc, no /sys, views=all: runs, the cpu tree skipped" \
        "0 /proc/cpuinfo /proc/diskstats /proc/loadavg /proc/meminfo /proc/stat /proc/swaps /proc/uptime " \
        "$RC $(curatefs_targets)"

# a container in a cgroup /curate/ID gets curatefs's copies made for it,
# MOUNTPOINT/c/ID/: sized, so busybox cat (sendfile) reads them whole
CGPATH=/curate runc_run all sh -c "$CAT_PROBE"
check_eq "runc, cgroup /curate/ID: runs" 0 "$RC"
[ "$RC" = 0 ] || echo "# stderr: $ERR"
check_eq "runc, cgroup /curate/ID: busybox cat /proc/meminfo" "MemTotal: 262144 kB" "$(head -1 <<<"$OUT" | tr -s ' ')"
check_eq "runc, cgroup /curate/ID: busybox cat cpu/online" 0 "$(sed -n 2p <<<"$OUT")"
check_eq "runc, cgroup /curate/ID: the files are c/ID's (the cpu tree too)" \
        "/c/$ID/proc/cpuinfo /c/$ID/proc/diskstats /c/$ID/proc/loadavg /c/$ID/proc/meminfo /c/$ID/proc/stat /c/$ID/proc/swaps /c/$ID/proc/uptime /c/$ID/sys/devices/system/cpu " \
        "$(awk '$1 == "src" { print $2 }' <<<"$OUT" | sort | tr '\n' ' ')"
check "runc removed its cgroup /curate/ID" test ! -e "/sys/fs/cgroup/memory/curate/$ID"

# ---- failures fail the container, id in the message, nothing left ---------------------
fails() { # fails WHAT EXPECTED-STDERR-PART: after runc_run
        check "$1: runc fails" test "$RC" != 0
        check "$1: the message names the container" grep -qF "curate oci-hook: $ID: $2" <<<"$ERR"
        [[ "$ERR" == *"curate oci-hook: $ID: $2"* ]] || echo "# stderr: $ERR"
        check_eq "$1: the command never ran" "" "$OUT"
        check_eq "$1: runc keeps no container" "" "$("$RUNC" --root "$RUNC_ROOT" list -q)"
        check "$1: runc's cgroup is gone" test ! -e "/sys/fs/cgroup/memory/$CGPARENT/$ID"
        check_host_clean "$1"
}
runc_run "meminfo,bogus" sh -c "$PROBE"
fails "bad annotation" 'annotation io.curate.views: unknown view "bogus"'
runc_run "meminfo,,stat" sh -c "$PROBE"
fails "empty view name" 'annotation io.curate.views="meminfo,,stat": empty view name'
JQ_EXTRA='.mounts |= map(select(.destination != "/sys"))' runc_run "meminfo,cpuinfo,cpu-tree" sh -c "$PROBE"
fails "named view without target" "/sys/devices/system/cpu in the container: No such file or directory"
mkdir -p "$T/empty"
HOOKARGS="[\"curate\",\"oci-hook\",\"--mountpoint\",\"$T/empty\"]" runc_run all sh -c "$PROBE"
fails "no daemon" "no curatefs serves $T/empty"

# ---- by hand, as the runtime spec says: from the runtime's namespaces ----------------
# ns_binds PID ROOT: the curatefs mounts in PID's mount namespace below ROOT
ns_binds() { nsenter -t "$1" -m awk -v r="$2/" -v d="$MNT_DEV" '$3 == d && index($5, r) == 1 { print substr($5, length(r)) }' /proc/self/mountinfo | sort | tr '\n' ' '; }
# hook_by_hand ID PID BUNDLE VIEWS: sets OUT, ERR, RC
hook_by_hand() {
        local ann=""
        [ "$4" != - ] && ann=",\"annotations\":{\"io.curate.views\":\"$4\"}"
        OUT=$(printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":%s,"bundle":"%s"%s}' "$1" "$2" "$3" "$ann" |
              timeout 30 "$CURATE" oci-hook --mountpoint "$MNT" 2>"$T/err")
        RC=$?; ERR=$(cat "$T/err")
}
sleeper() { # sleeper [UNSHARE-ARGS...]: a process in a private mount namespace; sets SPID
        unshare -m --propagation private "$@" "${SLEEP:-$BUSYBOX}" sleep 600 &
        SPID=$!; OUR_PIDS+=("$SPID")
        wait_ns "$SPID"
}
# until unshare has made the namespace (and root) and executed busybox
wait_ns() { local i; for i in $(seq 100); do [ "$(cat /proc/$1/comm 2>/dev/null)" = busybox ] && return; sleep 0.05; done; }

# not pivoted: the rootfs at config.json's root.path (absolute here), the
# annotation only in config.json
R=$T/byhand-root; B=$T/byhand-bundle
mkdir -p "$R/proc" "$R/sys" "$B"
touch "$R/proc/meminfo" "$R/proc/cpuinfo"
jq -n --arg r "$R" '{ root: { path: $r }, annotations: { "io.curate.views": "meminfo,cpuinfo" } }' >"$B/config.json"
sleeper
hook_by_hand byhand-1 "$SPID" "$B" -
check_eq "by hand: binds in the process's namespace" "0 /proc/cpuinfo /proc/meminfo " "$RC $(ns_binds "$SPID" "$R")"
[ "$RC" = 0 ] || echo "# stderr: $ERR"
check_eq "by hand: not on the host" 1 "$(host_binds)"
check "by hand: the bound meminfo is curatefs's" \
        nsenter -t "$SPID" -m grep -q '^MemTotal:' "$R/proc/meminfo"

# all or nothing: a named view whose target is missing, after two that are there
sleeper
hook_by_hand byhand-2 "$SPID" "$B" "meminfo,cpuinfo,cpu-tree"
check "by hand, missing named target: fails" test "$RC" = 1
check "by hand, missing named target: says which" \
        grep -qxF "curate oci-hook: byhand-2: /sys/devices/system/cpu in the container: No such file or directory" <<<"$ERR"
check_eq "by hand, missing named target: nothing bound in the namespace" "" "$(ns_binds "$SPID" "$R")"
hook_by_hand byhand-3 "$SPID" "$B" all
check_eq "by hand, all: what is there is bound, the rest skipped" "0 /proc/cpuinfo /proc/meminfo " \
        "$RC $(ns_binds "$SPID" "$R")"
# an attach that fails after others worked: those are undone
# (CURATE_OCI_HOOK_FAIL_ATTACH=N fails the Nth; nothing makes one fail on cue)
sleeper
CURATE_OCI_HOOK_FAIL_ATTACH=2 hook_by_hand byhand-2b "$SPID" "$B" "meminfo,cpuinfo"
check_eq "by hand, second attach fails: the first is undone" \
        "1 curate oci-hook: byhand-2b: cannot bind $MNT/proc/cpuinfo over /proc/cpuinfo: Input/output error (nothing bound)|" \
        "$RC $ERR|$(ns_binds "$SPID" "$R")"
CURATE_OCI_HOOK_FAIL_ATTACH=3 hook_by_hand byhand-2c "$SPID" "$B" "meminfo,cpuinfo"
check_eq "by hand, a third attach that never comes: both bound" "0 /proc/cpuinfo /proc/meminfo " \
        "$RC $(ns_binds "$SPID" "$R")"
# a target of the wrong kind is refused before anything is bound
sleeper
mkdir -p "$R/sys/devices/system"; touch "$R/sys/devices/system/cpu"
hook_by_hand byhand-4 "$SPID" "$B" "meminfo,cpu-tree"
check_eq "by hand, file where the cpu tree goes: refused, nothing bound" \
        "1 curate oci-hook: byhand-4: /sys/devices/system/cpu in the container is not a directory|" \
        "$RC $ERR|$(ns_binds "$SPID" "$R")"
rm -rf "$R/sys/devices"

# pivoted (chrooted) already: the rootfs is the process's root, not root.path
R2=$T/byhand-root2
mkrootfs "$R2"; touch "$R2/proc/meminfo"
jq -n '{ root: { path: "rootfs" } }' >"$B/config.json"
SLEEP=/bin/busybox sleeper --root="$R2"
hook_by_hand byhand-5 "$SPID" "$B" meminfo
check_eq "by hand, process already in its root: binds there" "0 /proc/meminfo " "$RC $(ns_binds "$SPID" "$R2")"
[ "$RC" = 0 ] || echo "# stderr: $ERR"

# neither: root.path missing and the process in its namespace's root
sleeper
hook_by_hand byhand-5b "$SPID" "$B" meminfo
check_eq "by hand, root.path missing, root not changed: refused" \
        "1 curate oci-hook: byhand-5b: root.path $B/rootfs is not in the container's mount namespace and the container process has not changed its root: cannot tell the container's root|" \
        "$RC $ERR|$(ns_binds "$SPID" /proc)"

# run outside the container's cgroups (the runtime spec's runtime
# namespaces): a child joins them and clones there, so the views are the
# container's own, sized copies; the hook itself stays where it was
CGS=curate-oci-hand-$$
if cg_create "$CGS" memory=$MEM; then
        R3=$T/byhand-root3; mkdir -p "$R3/proc"; touch "$R3/proc/meminfo"
        jq -n --arg r "$R3" '{ root: { path: $r } }' >"$B/config.json"
        dirs=$(_cg_dirs "$CGS" | tr '\n' ' ')
        CG_DIRS="$dirs" "$BASH" -c "$_CG_ENTER" cg_exec unshare -m --propagation private "$BUSYBOX" sleep 600 &
        SPID=$!; OUR_PIDS+=("$SPID"); wait_ns "$SPID"
        before=$(cat /proc/self/cgroup)
        hook_by_hand byhand-join "$SPID" "$B" meminfo
        check_eq "by hand, from another cgroup: binds ($ERR)" "0 /proc/meminfo " "$RC $(ns_binds "$SPID" "$R3")"
        check_eq "by hand, from another cgroup: the hook's shell stays in its cgroup" "$before" "$(cat /proc/self/cgroup)"
        got=$(cg_exec "$CGS" nsenter -t "$SPID" -m "$BUSYBOX" cat "$R3/proc/meminfo" | awk '$1 == "MemTotal:" { t = $2 } END { print t, NR }')
        check_eq "by hand, from another cgroup: busybox cat in the container's cgroup reads its own, whole" \
                "262144 $(cg_exec "$CGS" nsenter -t "$SPID" -m head -n 1000 "$R3/proc/meminfo" | wc -l)" "$got"
        got=$(nsenter -t "$SPID" -m "$BUSYBOX" cat "$R3/proc/meminfo" 2>/dev/null | kb_of MemTotal)
        check "by hand: a reader of another cgroup never gets the container's figures (${got:-nothing})" test "$got" != 262144
else
        not_ok "cgroup $CGS made"
fi
# hooks of two containers of two cgroups at once, from within them (as runc
# runs them): each one's lookups make the kernel drop the other's
# directories between its clones and its attaches; each must bind all
CGS2=curate-oci-hand2-$$
if cg_create "$CGS2" memory=$((2 * MEM)); then
        R4=$T/byhand-root4; mkdir -p "$R4/proc"; touch "$R4/proc/meminfo" "$R4/proc/cpuinfo" "$R4/proc/stat"
        jq -n --arg r "$R4" '{ root: { path: $r } }' >"$B/config.json"
        bad=0
        for i in $(seq 10); do
                spids=() hpids=()
                for cg in "$CGS" "$CGS2"; do
                        # exec all the way down: $! is the sleeper itself
                        CG_DIRS="$(_cg_dirs "$cg" | tr '\n' ' ')" "$BASH" -c "$_CG_ENTER" cg_exec \
                                unshare -m --propagation private "$BUSYBOX" sleep 600 &
                        spids+=($!); OUR_PIDS+=($!)
                done
                for p in "${spids[@]}"; do wait_ns "$p"; done
                k=0
                for cg in "$CGS" "$CGS2"; do
                        printf '{"ociVersion":"1.0.2","id":"both-%s-%s","status":"creating","pid":%s,"bundle":"%s","annotations":{"io.curate.views":"meminfo,cpuinfo,stat"}}' \
                                "$i" "$k" "${spids[$k]}" "$B" | cg_exec "$cg" "$CURATE" oci-hook --mountpoint "$MNT" 2>>"$T/both.err" &
                        hpids+=($!); k=$((k + 1))
                done
                for p in "${hpids[@]}"; do wait "$p" || bad=$((bad + 1)); done
                for p in "${spids[@]}"; do
                        [ "$(ns_binds "$p" "$R4")" = "/proc/cpuinfo /proc/meminfo /proc/stat " ] || bad=$((bad + 1))
                        kill "$p"
                done
        done
        check_eq "by hand, two cgroups' hooks at once, 10 times: every one binds all ($(sort -u "$T/both.err" | head -2 | tr '\n' ' '))" \
                0 "$bad"
else
        not_ok "cgroup $CGS2 made"
fi

# bad input: the id when there is one, the reason always
hook_by_hand byhand-6 999999999 "$B" meminfo
check_eq "gone process" "1 curate oci-hook: byhand-6: container process 999999999: No such process" "$RC $ERR"
hook_by_hand byhand-7 "$SPID" "$T/nonexistent" meminfo
check_eq "missing bundle" "1 curate oci-hook: byhand-7: bundle $T/nonexistent: No such file or directory" "$RC $ERR"
OUT=$(echo '{"id":"x","pid":1}' | "$CURATE" oci-hook 2>&1); RC=$?
check_eq "state without bundle" "1 curate oci-hook: (no container id): OCI state on stdin: no \"bundle\"" "$RC $OUT"
OUT=$("$CURATE" oci-hook </dev/null 2>&1); RC=$?
check_eq "empty stdin" "1 curate oci-hook: (no container id): OCI state on stdin: empty" "$RC $OUT"
OUT=$("$CURATE" oci-hook extra </dev/null 2>&1); RC=$?
check_eq "usage error" "2 curate oci-hook: unexpected argument 'extra'" "$RC $OUT"
check_host_clean "by hand"

# ---- podman: the hooks.d definition and the annotation --------------------------------
# the definition meson configured (hook.path: the installed curate)
HOOKS_JSON=${BUILD_ROOT:-}/oci/50-curate.json
hooks_json_ok() { jq -e "$@" >/dev/null; }
check "hooks.d definition: oci-hooks(5) 1.0.0, createContainer, on io.curate.views" hooks_json_ok '
        .version == "1.0.0" and .stages == ["createContainer"] and .hook.args == ["curate", "oci-hook"] and
        (.hook.path | startswith("/")) and
        (.when.annotations | to_entries | length == 1 and (.[0] as $e | ("io.curate.views" | test($e.key)) and
         ("all" | test($e.value)) and ("io.curate.viewsx" | test($e.key) | not)))' "$HOOKS_JSON"

if ! command -v podman >/dev/null; then
        echo "# SKIP podman part: podman not installed (scripts/setup.sh installs it)"
        finish
fi
HAVE_PODMAN=1
mkdir -p "$PODMAN_DIR/hooks"
jq --arg c "$CURATE" --arg m "$MNT" '.hook.path = $c | .hook.args += ["--mountpoint", $m]' "$HOOKS_JSON" \
        >"$PODMAN_DIR/hooks/50-curate.json"
tar -C "$BUNDLE/rootfs" -cf "$T/rootfs.tar" .
IMAGE=localhost/curate-oci-test:$$
if ! timeout 120 "${PM[@]}" import "$T/rootfs.tar" "$IMAGE" >"$T/err" 2>&1; then
        cat "$T/err"
        echo "# SKIP podman part: podman cannot import an image here"
        finish
fi
pm_run() { # pm_run PODMAN-RUN-ARGS... -- ARG...: sets OUT, ERR, RC
        local a=()
        while [ "$1" != -- ]; do a+=("$1"); shift; done; shift
        OUT=$(timeout -k 5 120 "${PM[@]}" --hooks-dir "$PODMAN_DIR/hooks" run --rm --network none \
              --cgroup-parent "/$CGPARENT" --memory 256m --cpuset-cpus 0 \
              --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "${a[@]}" "$IMAGE" "$@" </dev/null 2>"$T/err")
        RC=$?; ERR=$(sed 's/\\"/"/g' "$T/err")
}
pm_run -- sh -c :
if [ "$RC" != 0 ]; then
        echo "$ERR"
        echo "# SKIP podman part: podman cannot run a container here"
        finish
fi
pm_run --annotation io.curate.views=all -- sh -c "$PROBE"
check_eq "podman, views=all: runs" 0 "$RC"
[ "$RC" = 0 ] || echo "# stderr: $ERR"
check_eq "podman: MemTotal is the container's 256 MiB" "MemTotal: 262144 kB" "$(head -1 <<<"$OUT" | tr -s ' ')"
check_eq "podman: cpu/online is the container's cpuset" 0 "$(sed -n 2p <<<"$OUT")"
check_eq "podman: all binds the LXCFS set and the cpu tree" 8 "$(curatefs_targets | wc -w)"
pm_run -- sh -c "$PROBE"
check_eq "podman, no annotation: the hook does not run" "0 " "$RC $(curatefs_targets)"
check "podman, no annotation: the host's MemTotal" test "$(head -1 <<<"$OUT" | tr -s ' ')" != "MemTotal: 262144 kB"
# --cgroup-parent /curate: the container's cgroup is /curate/libpod-ID, its own views sized
pm_run --cgroup-parent /curate --annotation io.curate.views=all -- sh -c "$CAT_PROBE"
check_eq "podman, --cgroup-parent /curate: busybox cat /proc/meminfo" "0 MemTotal: 262144 kB" \
        "$RC $(head -1 <<<"$OUT" | tr -s ' ')"
check_eq "podman, --cgroup-parent /curate: busybox cat cpu/online" 0 "$(sed -n 2p <<<"$OUT")"
check_eq "podman, --cgroup-parent /curate: c/ID's files" 8 "$(grep -c '^src /c/libpod-[0-9a-f]*/' <<<"$OUT")"
# any cgroup parent: busybox cat reads the container's own copies whole
pm_run --annotation io.curate.views=all -- sh -c "$WHOLE"
check_eq "podman: busybox cat /proc/meminfo: MemTotal 262144 ($ERR)" 262144 "$(kv bb <<<"$OUT" | cut -d/ -f1)"
l=$(kv bb <<<"$OUT")
check "podman: busybox cat /proc/meminfo reads as many lines as head -n 1000 ($l)" \
        test -n "$l" -a "$(cut -d/ -f2 <<<"$l")" = "$(cut -d/ -f3 <<<"$l")" -a "$(cut -d/ -f2 <<<"$l")" != 0
check_eq "podman: busybox cat cpu/online: the cpuset" 0 "$(kv online <<<"$OUT")"
# two at once, different limits, a fixed number of reads each
mkdir -p "$T/w"; rm -f "$T/w/go"
BBLOOP='while [ ! -e /w/go ]; do sleep 0.05; done; n=0; bad=0; l=$(head -n 1000 /proc/meminfo | wc -l); while [ $n -lt 300 ]; do
        r=$(cat /proc/meminfo | awk -v w=$0 -v l=$l "\$1 == \"MemTotal:\" { t = \$2 } END { print (t == w && NR == l) ? \"good\" : \"bad \" t \" \" NR }")
        n=$((n + 1)); [ "$r" = good ] || { bad=$((bad + 1)); echo "first: $r"; }; done; echo reads=$n bad=$bad'
for m in 256 512; do
        timeout -k 5 120 "${PM[@]}" --hooks-dir "$PODMAN_DIR/hooks" run --rm --network none --cgroup-parent "/$CGPARENT" \
                --memory ${m}m --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 -v "$T/w:/w" \
                --annotation io.curate.views=all "$IMAGE" sh -c "$BBLOOP" $((m * 1024)) >"$T/loop$m" 2>&1 </dev/null &
        eval "lp$m=\$!"
done
touch "$T/w/go"; wait "$lp256" "$lp512"
for m in 256 512; do
        check "podman, two at once: the ${m}m one read its own, whole, 300 times ($(tail -2 "$T/loop$m" | tr '\n' ' '))" \
                grep -q '^reads=300 bad=0$' "$T/loop$m"
done
rm -f "$T/w/go"
# the host's root meets a container's bound file through /proc/PID/root:
# its own figures or nothing, never the container's; the container's cat
# still reads its own afterwards
WAITCAT='cat /proc/meminfo >/dev/null; echo > /w/ready; while [ ! -e /w/go ]; do sleep 0.05; done
echo after=$(cat /proc/meminfo | awk "\$1 == \"MemTotal:\" { print \$2 }")/$(cat /proc/meminfo | wc -l)/$(head -n 1000 /proc/meminfo | wc -l)'
rm -f "$T/w/ready"
timeout -k 5 120 "${PM[@]}" --hooks-dir "$PODMAN_DIR/hooks" run --rm --network none --cgroup-parent "/$CGPARENT" \
        --memory 256m --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 -v "$T/w:/w" --name "curate-hook-wait-$$" \
        --annotation io.curate.views=all "$IMAGE" sh -c "$WAITCAT" >"$T/wait.out" 2>&1 </dev/null &
pw=$!
wait_file "$T/w/ready" 60 || not_ok "the waiting container came up"
cpid=$("${PM[@]}" inspect --format '{{.State.Pid}}' "curate-hook-wait-$$" 2>/dev/null)
if [ -n "$cpid" ] && [ -d "/proc/$cpid/root/proc" ]; then
        for who in root test; do
                if [ $who = root ]; then run=(cg_exec_root); else run=(); fi
                got=$("${run[@]}" "$BUSYBOX" cat "/proc/$cpid/root/proc/meminfo" 2>/dev/null | kb_of MemTotal)
                check "host ($who cgroup): busybox cat /proc/PID/root/proc/meminfo is not the container's (${got:-nothing})" \
                        test "$got" != 262144
                got=$("${run[@]}" head -n 1000 "/proc/$cpid/root/proc/meminfo" 2>/dev/null | kb_of MemTotal)
                check "host ($who cgroup): head of it is not the container's (${got:-nothing})" test "$got" != 262144
        done
else
        not_ok "the waiting container's pid ($cpid) found"
fi
touch "$T/w/go"; wait "$pw"
a=$(kv after <"$T/wait.out")
check_eq "... and the container's busybox cat still reads its own, whole" \
        "262144/$(cut -d/ -f3 <<<"$a")/$(cut -d/ -f3 <<<"$a")" "$a"
rm -f "$T/w/go" "$T/w/ready"

# podman splits --annotation at commas (a CSV list): blanks separate views too
pm_run --annotation "io.curate.views=meminfo cpu-online" -- sh -c "$PROBE"
check_eq "podman, views=\"meminfo cpu-online\": only those" "0 /proc/meminfo /sys/devices/system/cpu/online " \
        "$RC $(curatefs_targets)"
# a CSV-quoted value keeps its commas
pm_run --annotation '"io.curate.views=meminfo,bogus"' -- sh -c "$PROBE"
check "podman, bad annotation: fails" test "$RC" != 0
check "podman, bad annotation: the message names the container" \
        grep -qE 'curate oci-hook: [0-9a-f]{64}: annotation io.curate.views: unknown view "bogus"' <<<"$ERR"
grep -qE 'curate oci-hook: [0-9a-f]{64}: ' <<<"$ERR" || echo "# stderr: $ERR"
check_eq "podman, bad annotation: the command never ran" "" "$OUT"
check_eq "podman keeps no container" "" "$("${PM[@]}" ps -a -q)"
check_host_clean "podman"
finish
