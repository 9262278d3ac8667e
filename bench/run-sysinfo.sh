#!/bin/bash
# sysinfo(2) benchmark: ns per call (loop of SYSINFO_CALLS, best of 5
# rounds) natively on the host, inside `curate run` answered by curatefs,
# answered by the launcher (a run with no curatefs: --views none
# --host-dev), and with interception off (--no-sysinfo), side by side, with
# the totalram each saw. Prints figures; not a test.
#
#   sudo bench/run-sysinfo.sh           (from the source root, after meson compile)
#
# Environment: BUILD (default ./build), CURATE (default $BUILD/launcher/curate),
# SYSINFO_CALLS (default 100000). curatefs is started by curate on a temp
# mount point and stopped on exit.
set -u
BUILD=$(cd "${BUILD:-./build}" && pwd)
# from /: curate keeps the caller's working directory, and one under the
# host's /tmp (a checkout there) is not in the container
cd /
CURATE=${CURATE:-$BUILD/launcher/curate}
N=${SYSINFO_CALLS:-100000}
die() { echo "run-sysinfo: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (curate run with --memory)"
[ -x "$BUILD/bench/sysinfo-loop" ] || die "$BUILD/bench/sysinfo-loop not built"
dir=$(mktemp -d /var/tmp/curate-sysinfo-bench.XXXXXX)
mnt=$dir/mnt
trap '"$CURATE" daemon stop --kill --mountpoint "$mnt" >/dev/null 2>&1; rm -rf "$dir"' EXIT
# the command's /tmp is its own: the loop goes where it can see it
chmod 755 "$dir"; cp "$BUILD/bench/sysinfo-loop" "$dir/"
loop=$dir/sysinfo-loop

native() { "$loop" "$N"; }
answered() { "$CURATE" run --mountpoint "$mnt" --memory 300M -- "$loop" "$N"; }
launcher() { "$CURATE" run --mountpoint "$mnt" --views none --host-dev --memory 300M -- "$loop" "$N"; }
off() { "$CURATE" run --mountpoint "$mnt" --memory 300M --no-sysinfo -- "$loop" "$N"; }
echo "# sysinfo(2), $N calls a round, best of 5; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r)"
"$CURATE" run --mountpoint "$mnt" -- true || die "curate run failed"
printf '%-34s %s\n' "native (host)" "$(native | grep 'sysinfo ns/call')"
printf '%-34s %s\n' "curate run (curatefs answers)" "$(answered | grep 'sysinfo ns/call')"
printf '%-34s %s\n' "curate run (launcher answers)" "$(launcher | grep 'sysinfo ns/call')"
printf '%-34s %s\n' "curate run --no-sysinfo" "$(off | grep 'sysinfo ns/call')"
