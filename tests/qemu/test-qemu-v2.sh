#!/bin/bash
# The integration checks on a real cgroup v2 kernel: boots Debian's cloud
# kernel under qemu into a busybox initramfs holding curatefs, the test
# scripts and the real clients (procps free/top/uptime, util-linux), and runs
# test-fs-views.sh and test-fs-clients.sh there, then (when CURATE is built)
# the launcher's tests named in CURATE_QEMU_RUN_TESTS (default "all": basic
# mounts security process ns policy daemon devices escape options sysinfo cputree busybox-cat; or a list; "none"). Skips (77)
# with a message when qemu or the kernel package is missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
[ -x "${CURATEFS:-}" ] || { echo "SKIP: CURATEFS not built"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 not installed (scripts/setup.sh installs it)"; exit 77; }

guest=$(mktemp /tmp/curate-guest.XXXXXX)
trap 'rm -f "$guest"' EXIT
run_tests=${CURATE_QEMU_RUN_TESTS:-all}
[ "$run_tests" = all ] && run_tests="basic mounts security process ns policy daemon devices escape options sysinfo cputree busybox-cat"
[ "$run_tests" = none ] && run_tests=""
[ -x "${CURATE:-}" ] || { [ -n "$run_tests" ] && echo "# CURATE not built: the launcher tests are left out"; run_tests=""; }
# an operation's bound in the crash test: the guest runs under TCG
# emulation (run-in-qemu.sh), several times slower than the host, where the
# bound is 1 s (its own control reader of the guest's /proc saw 480 ms)
stall_ms=4000
cat > "$guest" <<GUEST
CRASH_STALL_MS=$stall_ms
RUN_TESTS="$run_tests"
SOURCE_ROOT="$src"
GUEST
cat >> "$guest" <<'GUEST'
mkdir -p /dev/shm /var/tmp && mount -t tmpfs tmpfs /dev/shm
# ptys for script(1) (the Ctrl-C checks); a / that uid 65534 may traverse
# (the --user checks): the initramfs root is made 0700 by mktemp
mkdir -p /dev/pts && mount -t devpts -o ptmxmode=666 devpts /dev/pts
chmod 755 /
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin TERM=dumb
export CURATEFS=/usr/local/bin/curatefs READ=/usr/local/bin/reread VIEW_READER=/usr/local/bin/view-reader BUILD_ROOT=/build PROBE=/usr/local/bin/escape-probe
export CURATE=/usr/local/bin/curate CURATE_POLICY_PATH=/usr/local/share/curate/policies
# sysinfo's bound on a call while the daemon is killed (1 s on the host)
export SYSINFO_PROBE=/usr/local/bin/sysinfo-probe SYSINFO_STALL_MS=$CRASH_STALL_MS
# the fixture trees (the devices tests copy one); the source path may be under
# /tmp, which the guest covers with a tmpfs
export SOURCE_ROOT=/fixtures
# the guest's root is an initramfs: no block device to do direct I/O on
export CURATE_TEST_NO_BLOCK=1
echo "guest kernel: $(uname -r); cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
rc=0
for t in test-fs-views.sh test-fs-clients.sh; do
        echo "=== $t (cgroup v2) ==="
        bash /tests/$t || rc=1
done
# The launcher: curate starts curatefs itself only where /dev/fuse is there and
# the fuse module is loaded (the guest's /init loads it); the tests use their
# own mount points.
if [ -n "$RUN_TESTS" ]; then
        if [ -c /dev/fuse ] && grep -qw fuse /proc/filesystems; then
                for t in $RUN_TESTS; do
                        echo "=== test-run-$t.sh (cgroup v2) ==="
                        bash /tests/test-run-$t.sh; r=$?
                        [ $r = 0 ] || [ $r = 77 ] || rc=1
                done
                # serving processes killed under readers: on 6.1 there is no
                # FUSE_NOTIFY_RESEND, so auto recovers through the journal
                if [ -f /tests/test-fs-crash.sh ] && [ -x /usr/local/bin/view-reader ]; then
                        echo "=== test-fs-crash.sh (cgroup v2) ==="
                        CRASH_MODES=auto CRASH_SECONDS=${CRASH_SECONDS:-20} SOAK_LAUNCHES=${SOAK_LAUNCHES:-100} CRASH_STALL_MS=$CRASH_STALL_MS \
                                VIEW_READER=/usr/local/bin/view-reader bash /tests/test-fs-crash.sh || rc=1
                fi
        else
                echo "guest: no /dev/fuse or fuse module: launcher tests not run"; rc=1
        fi
fi
exit $rc
GUEST

items=("$CURATEFS" "$BUILD_ROOT/tests/reread" "$BUILD_ROOT/tests/escape-probe"
       $( [ -x "$BUILD_ROOT/tests/view-reader" ] && echo "$BUILD_ROOT/tests/view-reader")
       $( [ -x "$BUILD_ROOT/tests/sysinfo-probe" ] && echo "$BUILD_ROOT/tests/sysinfo-probe")
       $( [ -x "$BUILD_ROOT/tests/sendfile-cat" ] && echo "$BUILD_ROOT/tests/sendfile-cat")
       $( [ -x "$BUILD_ROOT/tests/sizefs" ] && echo "$BUILD_ROOT/tests/sizefs")
       "$src/tests/integration:/tests")
# procps top needs a terminfo entry even in batch mode
[ -f /lib/terminfo/d/dumb ] && items+=("/lib/terminfo/d/dumb:/lib/terminfo/d/dumb")
for b in bash free uptime top getconf unshare mount umount mountpoint; do
        p=$(command -v $b) && items+=("$p")
done
if [ -n "$run_tests" ]; then
        # curate (its libraries, libinih and libcap, follow by ldd); the shipped
        # policies where an installed curate looks (the source path may be
        # under /tmp, which the guest covers with a tmpfs); and
        # the host tools the launcher tests use where busybox's differ
        items+=("$CURATE" "$src/policies:/usr/local/share/curate/policies" "$src/tests/fixtures:/fixtures/tests/fixtures" "$src/policies:/fixtures/policies")
        for b in env timeout nproc od findmnt script setpriv ps pgrep setsid sha256sum ipcmk ipcs ipcrm; do
                p=$(command -v $b) && items+=("$p")
        done
        # test-run-cputree's clients (Python and Node are too big to copy: left out there)
        for b in lscpu vmstat stat; do
                p=$(command -v $b) && items+=("$p")
        done
fi
CURATE_QEMU_TIMEOUT=${CURATE_QEMU_TIMEOUT:-1700} exec "$here/run-in-qemu.sh" "$guest" "${items[@]}"
