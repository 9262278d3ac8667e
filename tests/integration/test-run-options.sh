#!/bin/bash
# curate run's validation and run details (issue 10 items 4 and 5). Every
# refused case exits 125 with a message naming the option (or the policy's
# FILE:LINE) and the cause, and leaves nothing: no curate/run-PID cgroup in
# any hierarchy, no device registration. Then each run detail for real:
# bind sources under /tmp, the working directory, --chdir, the environment
# options, --uid/--gid, the OOM report, and --help naming every option.
. "$(dirname "$0")/lib.sh"
require_curate
export LC_ALL=C

run_tmpdir
export CURATE_DEVICES_DIR=$T/registrations
mkdir -p "$CURATE_DEVICES_DIR"
mount_curatefs || { not_ok "mount curatefs"; finish; }
ncpu=$(nproc) # the CPUs curate may run on (its affinity), as it counts them

# left_behind: what a run that curate ran as $CR_PID left on the host
left_behind() { run_cgroups "$CR_PID"; ls -A "$CURATE_DEVICES_DIR"; }

# refused DESC MESSAGE ARG...: curate run ARG... -- true exits 125, says
# MESSAGE (a fixed string) and leaves nothing behind
refused() {
        local d=$1 want=$2; shift 2
        cr run --mountpoint "$MNT" "$@" -- true
        check_eq "$d: exit 125" 125 "$RC"
        check "$d: says '$want' (got: $ERR)" grep -qF -- "$want" <<<"$ERR"
        check_eq "$d: nothing left (cgroup, registration)" "" "$(left_behind)"
}
policy() { # policy NAME TEXT: a policy file, its path in P
        P=$T/$1.conf
        printf '%s' "$2" > "$P"
}

echo "# validation (item 4)"
for m in 0 1 4K 6291455; do
        refused "--memory $m" "--memory: '$m' is below the minimum memory limit, 6M" --memory "$m"
done
policy mem $'[Resources]\nMemory=4K\n'
refused "Memory=4K" "$P:2: Memory: '4K' is below the minimum memory limit, 6M" --policy "$P"
for c in 0.001 0.005 0.009; do
        refused "--cpus $c" "--cpus: '$c' is below the minimum, 0.01 (the kernel's smallest CPU quota" --cpus "$c"
done
refused "--cpus 1000" "--cpus 1000: more than the $ncpu CPU" --cpus 1000
refused "--cpus $ncpu.001" "--cpus $ncpu.001: more than the $ncpu CPU" --cpus "$ncpu.001"
policy cpus $'[Resources]\nCPUs=1000\n'
refused "CPUs=1000" "$P:2: CPUs=1000: more than the $ncpu CPU" --policy "$P"
refused "--cpuset $ncpu" "--cpuset $ncpu: CPU $ncpu is not available to curate" --cpuset "$ncpu"
refused "--cpuset 0,4095" "--cpuset 0,4095: CPU 4095 is not available to curate" --cpuset 0,4095
policy cpuset "[Resources]
CPUSet=$ncpu
"
refused "CPUSet=$ncpu" "$P:2: CPUSet=$ncpu: CPU $ncpu is not available to curate" --policy "$P"
refused "--pids 0" "--pids: '0' is below the minimum, 1" --pids 0

mkdir -p "$T/noproc/dev" "$T/nodev/proc"
refused "--rootfs without /proc" "--rootfs $T/noproc: no directory /proc in it" --rootfs "$T/noproc"
refused "--rootfs without /dev" "--rootfs $T/nodev: no directory /dev in it" --rootfs "$T/nodev"
refused "--rootfs missing" "--rootfs $T/nothere: No such file or directory" --rootfs "$T/nothere"
policy rootfs "# a comment
[Namespaces]
RootFS=$T/noproc
"
refused "RootFS= without /proc" "$P:3: RootFS=$T/noproc: no directory /proc in it" --policy "$P"
policy rootfs2 "[Namespaces]
RootFS=$T/nothere
"
refused "RootFS= missing" "$P:2: RootFS=$T/nothere: No such file or directory" --policy "$P"
# the command line's --rootfs is named as such even over a policy's
refused "--rootfs over RootFS=" "--rootfs $T/nodev: no directory /dev" --policy "$P" --rootfs "$T/nodev"

refused "--device :rwx" "--device: '/dev/null:rwx' has a bad access mode: valid is a non-empty subset of rwm" \
        --device /dev/null:rwx
refused "--device twice, two accesses" "--device: '/dev/null:rw' is given already with another access" \
        --device /dev/null:r --device /dev/null:rw
policy dev $'[Devices]\nDevice=/dev/null:r\nDevice=/dev/null:w\n'
refused "Device= twice, two accesses" "$P:3: Device: '/dev/null:w' is given already with another access" --policy "$P"
cr run --mountpoint "$MNT" --device /dev/null:rw --device /dev/null:wr -- true
check_eq "--device twice with the same access: accepted ($ERR)" 0 "$RC"

# CDI specs on a fake host root: each error names its spec file
HR=$T/host
mkdir -p "$HR/dev" "$HR/etc/cdi" "$HR/opt"
mknod -m 666 "$HR/dev/null" c 1 3
cat > "$HR/etc/cdi/bad.json" <<'EOS'
{"cdiVersion": "0.6.0", "kind": "acme.io/bad", "devices": [{"name": "a", "containerEdits": {"env": ["X"]}}]}
EOS
cat > "$HR/etc/cdi/one.json" <<'EOS'
{"cdiVersion": "0.6.0", "kind": "acme.io/c", "devices": [{"name": "dup", "containerEdits": {"env": ["FROM=one"]}}]}
EOS
cat > "$HR/etc/cdi/two.json" <<'EOS'
{"cdiVersion": "0.6.0", "kind": "acme.io/c", "devices": [{"name": "dup", "containerEdits": {"env": ["FROM=two"]}}]}
EOS
cat > "$HR/etc/cdi/rel.json" <<'EOS'
{"cdiVersion": "0.6.0", "kind": "acme.io/rel", "devices": [{"name": "a", "containerEdits": {"deviceNodes": [{"path": "dev/null"}]}}]}
EOS
cat > "$HR/etc/cdi/mnt.json" <<'EOS'
{"cdiVersion": "0.6.0", "kind": "acme.io/mnt", "devices": [
  {"name": "gone", "containerEdits": {"mounts": [{"hostPath": "/opt/gone", "containerPath": "/opt/x", "options": ["ro", "bind"]}]}}]}
EOS
cat > "$HR/etc/cdi/mntopt.json" <<'EOS'
{"cdiVersion": "0.6.0", "kind": "acme.io/mntopt", "devices": [
  {"name": "opt", "containerEdits": {"mounts": [{"hostPath": "/opt", "containerPath": "/opt/y", "options": ["bind", "size=1m"]}]}}]}
EOS
cdi_refused() { CURATE_HOST_ROOT=$HR refused "$@"; }
cdi_refused "CDI: a spec skipped for an error is named" \
        "unknown CDI device \"acme.io/bad=a\"; no spec of that kind; known kinds: acme.io/mnt, acme.io/c; skipped for errors: " --device acme.io/bad=a
check "CDI: ... with its file and error" grep -qF '/etc/cdi/bad.json: devices[0].containerEdits.env: invalid environment variable "X"' <<<"$ERR"
cdi_refused "CDI: two conflicting specs say which" \
        'CDI device "acme.io/c=dup" is not used: conflicting device "acme.io/c=dup" (specs /etc/cdi/two.json, /etc/cdi/one.json): two specs in one directory define it' \
        --device acme.io/c=dup
check "CDI: ... not 'no spec of that kind'" bash -c '! grep -q "no spec of that kind" <<<"$1"' _ "$ERR"
cdi_refused "CDI: a relative deviceNodes.path is refused at load" \
        '/etc/cdi/rel.json: devices[0].containerEdits.deviceNodes[0]: path "dev/null" is not absolute' --device acme.io/rel=a
cdi_refused "CDI: a bind mount's missing hostPath, found before anything is made" \
        "/etc/cdi/mnt.json: mount /opt/x: hostPath /opt/gone: No such file or directory" --device acme.io/mnt=gone
cdi_refused "CDI: a bind mount option it cannot take, refused at load with the spec named" \
        '/etc/cdi/mntopt.json: devices[0].containerEdits.mounts[0]: option "size=1m" is not supported for a bind mount' \
        --device acme.io/mntopt=opt

echo "# run details (item 5)"
src=$(mktemp -d /tmp/curate-opt-src.XXXXXX); OUR_DIRS+=("$src")
echo from-host-tmp > "$src/f"
mkdir -p "$T/dst" "$T/rodst"
cr run --mountpoint "$MNT" --bind "$src" "$T/dst" --ro-bind "$src" "$T/rodst" -- \
        sh -c 'cat '"$T"'/dst/f; echo w > '"$T"'/dst/w && echo wrote; echo x > '"$T"'/rodst/x 2>/dev/null || echo ro-refused'
check_eq "--bind/--ro-bind of a /tmp host path: exit 0 ($ERR)" 0 "$RC"
check_eq "  the sources under /tmp are bound (private /tmp mounted over them)" $'from-host-tmp\nwrote\nro-refused' "$OUT"
check "  a --bind write reached the host" test -e "$src/w"

mkdir -p "$T/wd"
pushd "$T/wd" >/dev/null
cr run --mountpoint "$MNT" -- pwd
popd >/dev/null
check_eq "cwd kept where the container has it ($ERR)" "$T/wd" "$OUT"
tmpwd=$(mktemp -d /tmp/curate-opt-wd.XXXXXX); OUR_DIRS+=("$tmpwd")
pushd "$tmpwd" >/dev/null
cr run --mountpoint "$MNT" --share-tmp -- pwd
check_eq "cwd under /tmp kept with --share-tmp ($ERR)" "$tmpwd" "$OUT"
cr run --mountpoint "$MNT" -- pwd
check_eq "cwd under the private /tmp: exit 125" 125 "$RC"
check "  names the directory and why ($ERR)" grep -qF "the working directory $tmpwd: No such file or directory in the container, whose /tmp is a private tmpfs" <<<"$ERR"
check_eq "  not silently / (nothing printed)" "" "$OUT"
check_eq "  nothing left" "" "$(left_behind)"
cr run --mountpoint "$MNT" --chdir /etc -- pwd
check_eq "--chdir /etc from a cwd the container lacks ($ERR)" /etc "$OUT"
popd >/dev/null
cr run --mountpoint "$MNT" --chdir "$T/nothere" -- pwd
check_eq "--chdir missing: exit 125" 125 "$RC"
check "  names --chdir and the directory ($ERR)" grep -qF -- "--chdir $T/nothere: No such file or directory in the container" <<<"$ERR"
check_eq "  nothing left" "" "$(left_behind)"
policy wd $'[Process]\nWorkingDirectory=/nonexistent-dir\n'
cr run --mountpoint "$MNT" --policy "$P" -- pwd
check "WorkingDirectory= missing: FILE:LINE ($ERR)" grep -qF "$P:2: WorkingDirectory=/nonexistent-dir: No such file" <<<"$ERR"
policy wd2 $'[Process]\nWorkingDirectory=/usr\n'
cr run --mountpoint "$MNT" --policy "$P" -- pwd
check_eq "WorkingDirectory=/usr ($ERR)" /usr "$OUT"

cr run --mountpoint "$MNT" --env A=1 --env B=x=y --unsetenv HOME --env C= -- /usr/bin/env
check_eq "--env sets ($ERR)" "1|x=y|" "$(kv A <<<"$OUT")|$(kv B <<<"$OUT")|$(kv C <<<"$OUT")"
check "--unsetenv removes HOME" bash -c '! grep -q "^HOME=" <<<"$1"' _ "$OUT"
check "  and the rest is kept (PATH)" grep -q "^PATH=" <<<"$OUT"
cr run --mountpoint "$MNT" --clearenv --env B=2 --env A=1 --unsetenv A -- /usr/bin/env
check_eq "--clearenv: only curate's id and --env's, in order ($ERR)" "B=2|CURATE_CONTAINER=run-$CR_PID" "$(echo "$OUT" | sort | paste -sd'|')"
policy env $'[Process]\nClearEnvironment=yes\nEnvironment=P=1 Q=2\nUnsetEnvironment=Q\n'
cr run --mountpoint "$MNT" --policy "$P" --env R=3 -- /usr/bin/env
check_eq "Environment=/UnsetEnvironment=/ClearEnvironment=, then --env ($ERR)" "CURATE_CONTAINER=run-$CR_PID|P=1|R=3" "$(echo "$OUT" | sort | paste -sd'|')"

cat > "$T/who.sh" <<'EOF'
echo "uid=$(id -u) gid=$(id -g)"
echo "groups=$(awk '/^Groups:/ { $1 = ""; print }' /proc/self/status | tr -d ' \t')"
awk '/^Cap(Eff|Prm|Inh|Amb):/ { print $1 $2 }' /proc/self/status
echo "init=$(awk '/^Uid:/ { print $2 }' /proc/1/status)"
touch /etc/curate-opt-probe 2>/dev/null && echo wrote-etc || echo etc-refused
EOF
cr run --mountpoint "$MNT" --uid 65534 --gid 65534 -- sh "$T/who.sh"
check_eq "--uid/--gid: exit 0 ($ERR)" 0 "$RC"
check_eq "  uid and gid" "uid=65534 gid=65534" "$(sed -n 1p <<<"$OUT")"
check_eq "  supplementary groups cleared" "groups=" "$(sed -n 2p <<<"$OUT")"
check_eq "  no capabilities at all" $'CapInh:0000000000000000\nCapPrm:0000000000000000\nCapEff:0000000000000000\nCapAmb:0000000000000000' "$(grep ^Cap <<<"$OUT")"
check_eq "  the init (pid 1) runs as the user too" "init=65534" "$(grep ^init= <<<"$OUT")"
check_eq "  cannot write the host's /etc" etc-refused "$(tail -n 1 <<<"$OUT")"
rm -f /etc/curate-opt-probe
cr run --mountpoint "$MNT" --uid 1234 --cap-add ALL -- sh "$T/who.sh"
check_eq "--uid alone: the gid is the uid's number ($ERR)" "uid=1234 gid=1234" "$(sed -n 1p <<<"$OUT")"
check "  --cap-add ALL gives a non-root uid nothing" grep -qx "CapEff:0000000000000000" <<<"$OUT"
policy user $'[Process]\nUser=65534\nGroup=100\n'
cr run --mountpoint "$MNT" --policy "$P" -- sh "$T/who.sh"
check_eq "User=/Group= ($ERR)" "uid=65534 gid=100" "$(sed -n 1p <<<"$OUT")"
refused "--uid name" "--uid: 'nobody' is not a numeric id" --uid nobody

# dd's 200 MiB buffer is touched as /dev/zero is read into it (numeric
# sizes: busybox's dd and head in the qemu guest take no "M")
cr run --mountpoint "$MNT" --memory 32M --memory-swap 32M -- dd if=/dev/zero of=/dev/null bs=209715200 count=1
check_eq "OOM: exit 137" 137 "$RC"
check "  reported with the limit ($ERR)" grep -qxF "curate: dd was killed by the OOM killer (memory limit 32 MiB)" <<<"$ERR"
check_eq "  nothing left" "" "$(left_behind)"
cr run --mountpoint "$MNT" --memory 32M -- sh -c 'kill -KILL $$'
check_eq "SIGKILL without OOM: 137" 137 "$RC"
check "  no OOM report ($ERR)" bash -c '! grep -q "OOM" <<<"$1"' _ "$ERR"

echo "# --help names every option"
if [ -n "${SOURCE_ROOT:-}" ] && [ -f "$SOURCE_ROOT/launcher/options.c" ]; then
        longopts() { grep -o '{ "[a-z-]*", *\(required\|no\|optional\)_argument' "$SOURCE_ROOT/launcher/$1" | cut -d'"' -f2; }
        helps() { # helps HELP-TEXT-COMMAND FILE
                local h o missing=""
                h=$($1 2>&1)
                for o in $(longopts "$2"); do grep -q -- "--$o\b" <<<"$h" || missing="$missing --$o"; done
                check_eq "$1 names every option of $2" "" "$missing"
        }
        helps "$CURATE run --help" options.c
        helps "$CURATE daemon --help" daemon.c
        helps "$CURATE devices --help" devices-cmd.c
        helps "$CURATE device --help" hotplug.c
        helps "$CURATE oci-hook --help" oci-hook.c
        check_eq "options.c's table was read" yes "$([ "$(longopts options.c | wc -l)" -gt 30 ] && echo yes)"
else
        echo "# no source tree (SOURCE_ROOT): skipped"
fi
top=$("$CURATE" --help)
for c in "run \[OPTIONS\]" "daemon start|stop|restart|status" "--kill" "devices list" "device add|remove" "oci-hook" "--version"; do
        check "curate --help names '$c'" grep -q -- "$c" <<<"$top"
done

finish
