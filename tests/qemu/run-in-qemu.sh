#!/bin/sh
# Boot a real cgroup v2 kernel under qemu and run a guest script in it.
#
#   run-in-qemu.sh GUEST_SCRIPT [ITEM...]
#
# ITEMs are host files to bring along, as for mkinitramfs.sh (a path, or
# SRC:DEST). Exits with the guest script's exit code, 77 (with "SKIP: ...")
# when qemu or the kernel package is missing, 124 on timeout, 1 when the
# guest never printed its exit marker.
#
#   CURATE_QEMU_CACHE    kernel cache (default /var/cache/curate-qemu)
#   CURATE_QEMU_TIMEOUT  seconds before the guest is killed (default 300)
#   CURATE_QEMU_MEM      guest memory in MiB (default 1024)
#   CURATE_QEMU_LOG      keep the full console log at this path
set -u

here=$(cd "$(dirname "$0")" && pwd)

if [ $# -lt 1 ]; then
	echo "usage: $0 GUEST_SCRIPT [ITEM...]" >&2
	exit 2
fi
guest=$1
shift

skip() {
	echo "SKIP: $*"
	exit 77
}

qemu=$(command -v qemu-system-x86_64) || skip "qemu-system-x86_64 not installed (apt-get install --no-install-recommends qemu-system-x86)"
[ -x /bin/busybox ] || skip "busybox not installed (apt-get install busybox-static)"

cache=${CURATE_QEMU_CACHE:-/var/cache/curate-qemu}
export CURATE_QEMU_CACHE=$cache
vmlinuz=$(ls "$cache"/current/boot/vmlinuz-* 2>/dev/null | head -n 1)
if [ -z "$vmlinuz" ]; then
	# Download only when allowed to: setup.sh needs apt and the network.
	if [ "$(id -u)" -eq 0 ] && [ "${CURATE_QEMU_NO_SETUP:-0}" != 1 ] &&
		"$here/setup.sh" >/dev/null 2>&1; then
		vmlinuz=$(ls "$cache"/current/boot/vmlinuz-* 2>/dev/null | head -n 1)
	fi
	[ -n "$vmlinuz" ] || skip "no cloud kernel in $cache (run tests/qemu/setup.sh as root)"
fi
fuse_ko=$(find "$cache/current/lib/modules" "$cache/current/usr/lib/modules" \
	-path '*/kernel/fs/fuse/fuse.ko*' 2>/dev/null | head -n 1)
# Debian's 6.12 cloud kernels build FUSE in (CONFIG_FUSE_FS=y): no module
if [ -z "$fuse_ko" ] && grep -qx 'CONFIG_FUSE_FS=y' "$cache"/current/boot/config-* 2>/dev/null; then
	fuse_ko=builtin
fi
[ -n "$fuse_ko" ] || skip "no fuse.ko under $cache/current"

work=$(mktemp -d "${TMPDIR:-/tmp}/curate-qemu.XXXXXX")
trap 'rm -rf "$work"' EXIT

if ! CURATE_QEMU_FUSE_KO=$fuse_ko "$here/mkinitramfs.sh" "$work/initrd.gz" "$guest" "$@"; then
	echo "run-in-qemu.sh: building the initramfs failed" >&2
	exit 1
fi

log=${CURATE_QEMU_LOG:-$work/console.log}
# Plain TCG emulation: this host's /dev/kvm starts qemu but the guest
# kernel hangs right after the BIOS (measured 2026-12-06), and qemu does not
# fall back to TCG then. The console log is also streamed to our stdout so a
# test's output shows up in meson's log.
{
	timeout "${CURATE_QEMU_TIMEOUT:-300}" "$qemu" \
		-nographic -no-reboot -nodefaults -serial stdio -monitor none \
		-m "${CURATE_QEMU_MEM:-1024}" -smp 2 \
		-kernel "$vmlinuz" -initrd "$work/initrd.gz" \
		-append 'console=ttyS0 quiet panic=-1' </dev/null 2>&1
	echo $? >"$work/qrc"
} | tr -d '\r' | tee "$log"
qrc=$(cat "$work/qrc" 2>/dev/null || true)

rc=$(sed -n 's/^.*QEMU-TEST-EXIT=\([0-9][0-9]*\).*$/\1/p' "$log" | tail -n 1)
if [ -z "$rc" ]; then
	if [ "$qrc" = 124 ]; then
		echo "run-in-qemu.sh: guest timed out" >&2
		exit 124
	fi
	echo "run-in-qemu.sh: guest ended without printing QEMU-TEST-EXIT" >&2
	exit 1
fi
exit "$rc"
