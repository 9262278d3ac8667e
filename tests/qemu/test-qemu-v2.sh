#!/bin/bash
# The integration checks on a real cgroup v2 kernel: boots Debian's cloud
# kernel under qemu into a busybox initramfs holding curatefs, the test
# scripts and the real clients (procps free/top/uptime, util-linux), and runs
# test-fs-views.sh and test-fs-clients.sh there. Skips (77) with a message when
# qemu or the kernel package is missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
[ -x "${CURATEFS:-}" ] || { echo "SKIP: CURATEFS not built"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 not installed (scripts/setup.sh installs it)"; exit 77; }

guest=$(mktemp /tmp/curate-guest.XXXXXX)
trap 'rm -f "$guest"' EXIT
cat > "$guest" <<'GUEST'
mkdir -p /dev/shm /var/tmp && mount -t tmpfs tmpfs /dev/shm
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin TERM=dumb
export CURATEFS=/usr/local/bin/curatefs READ=/usr/local/bin/reread BUILD_ROOT=/build
# the guest's root is an initramfs: no block device to do direct I/O on
export CURATE_TEST_NO_BLOCK=1
echo "guest kernel: $(uname -r); cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
rc=0
for t in test-fs-views.sh test-fs-clients.sh; do
        echo "=== $t (cgroup v2) ==="
        bash /tests/$t || rc=1
done
exit $rc
GUEST

items=("$CURATEFS" "$BUILD_ROOT/tests/reread"
       "$src/tests/integration:/tests")
# procps top needs a terminfo entry even in batch mode
[ -f /lib/terminfo/d/dumb ] && items+=("/lib/terminfo/d/dumb:/lib/terminfo/d/dumb")
for b in bash free uptime top getconf unshare mount umount mountpoint; do
        p=$(command -v $b) && items+=("$p")
done
CURATE_QEMU_TIMEOUT=${CURATE_QEMU_TIMEOUT:-420} exec "$here/run-in-qemu.sh" "$guest" "${items[@]}"
