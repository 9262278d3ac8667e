#!/bin/sh
# Fetch and unpack a Debian 12 cloud kernel for the cgroup v2 qemu harness.
#
# Idempotent: a second run finds the unpacked tree and only prints the paths.
# Needs root only for apt-get's cache lock on some hosts; the download itself
# is `apt-get download`, which writes to the current directory.
#
#   CURATE_QEMU_CACHE   cache dir (default /var/cache/curate-qemu)
#   CURATE_QEMU_KERNEL  package name to use (default: newest
#                       linux-image-6.1.0-*-cloud-amd64-unsigned apt knows)
#
# Prints shell-sourceable lines:
#   CURATE_QEMU_VMLINUZ=/.../boot/vmlinuz-...
#   CURATE_QEMU_FUSE_KO=/.../kernel/fs/fuse/fuse.ko[.xz|.zst]
set -eu

cache=${CURATE_QEMU_CACHE:-/var/cache/curate-qemu}
mkdir -p "$cache"

find_kernel() {
	# The 6.1 series is what the platform notes measured; pick its newest ABI.
	apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' 2>/dev/null |
		awk '{print $1}' | sort -V | tail -n 1
}
pkg=${CURATE_QEMU_KERNEL:-}
if [ -z "$pkg" ] && [ -z "$(ls "$cache"/*/.unpacked 2>/dev/null)" ]; then
	pkg=$(find_kernel)
	# a fresh machine may have no package lists yet
	if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
		apt-get update -qq >&2 || true
		pkg=$(find_kernel)
	fi
elif [ -z "$pkg" ]; then
	pkg=$(basename "$(dirname "$(ls -d "$cache"/*/.unpacked | sort -V | tail -n 1)")")
fi
if [ -z "$pkg" ]; then
	echo "setup.sh: no linux-image-6.1.0-*-cloud-amd64-unsigned in apt's lists (run apt-get update?)" >&2
	exit 1
fi

root="$cache/$pkg"
if [ ! -e "$root/.unpacked" ]; then
	deb=$(ls "$cache"/"${pkg}"_*.deb 2>/dev/null | head -n 1 || true)
	if [ -z "$deb" ]; then
		echo "setup.sh: downloading $pkg into $cache" >&2
		(cd "$cache" && apt-get download "$pkg" >&2)
		deb=$(ls "$cache"/"${pkg}"_*.deb | head -n 1)
	fi
	rm -rf "$root.tmp"
	dpkg -x "$deb" "$root.tmp"
	rm -rf "$root"
	mv "$root.tmp" "$root"
	touch "$root/.unpacked"
fi

vmlinuz=$(ls "$root"/boot/vmlinuz-* | head -n 1)
fuse_ko=$(find "$root/lib/modules" "$root/usr/lib/modules" -path '*/kernel/fs/fuse/fuse.ko*' 2>/dev/null | head -n 1)
# Debian's 6.12 cloud kernels build FUSE in (CONFIG_FUSE_FS=y): no module
if [ -z "$fuse_ko" ] && grep -qx 'CONFIG_FUSE_FS=y' "$root"/boot/config-* 2>/dev/null; then
	fuse_ko=builtin
fi
if [ -z "$vmlinuz" ] || [ -z "$fuse_ko" ]; then
	echo "setup.sh: $root lacks vmlinuz or fuse.ko" >&2
	exit 1
fi
# A "current" symlink lets run-in-qemu.sh find the kernel without apt.
ln -sfn "$pkg" "$cache/current"
echo "CURATE_QEMU_VMLINUZ=$vmlinuz"
echo "CURATE_QEMU_FUSE_KO=$fuse_ko"
