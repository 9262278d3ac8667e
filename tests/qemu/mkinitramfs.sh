#!/bin/sh
# Build a busybox initramfs that boots into a guest test script.
#
#   mkinitramfs.sh OUTPUT.cpio.gz GUEST_SCRIPT [ITEM...]
#
# ITEM is either
#   /host/path/prog          copied to /usr/local/bin/prog (on the guest's PATH)
#   /host/path:/guest/path   copied to exactly /guest/path (a file or a directory)
# Every dynamic ELF file among the items gets its shared libraries (per ldd)
# copied to the same paths in the guest, so host binaries run unchanged.
#
# The fuse module comes from CURATE_QEMU_FUSE_KO, or from tests/qemu/setup.sh.
# GUEST_SCRIPT becomes /init-test and is run by busybox sh (see README.md).
set -eu

here=$(cd "$(dirname "$0")" && pwd)

if [ $# -lt 2 ]; then
	echo "usage: $0 OUTPUT.cpio.gz GUEST_SCRIPT [ITEM...]" >&2
	exit 2
fi
out=$1
guest=$2
shift 2

busybox=${CURATE_QEMU_BUSYBOX:-/bin/busybox}
# The guest has no libc of its own, so busybox must be the static build.
if ! "$busybox" --help >/dev/null 2>&1 || ldd "$busybox" >/dev/null 2>&1; then
	echo "mkinitramfs.sh: $busybox is not a static busybox (install busybox-static)" >&2
	exit 1
fi

fuse_ko=${CURATE_QEMU_FUSE_KO:-}
if [ -z "$fuse_ko" ]; then
	eval "$("$here/setup.sh")"
	fuse_ko=$CURATE_QEMU_FUSE_KO
fi

root=$(mktemp -d "${TMPDIR:-/tmp}/curate-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT

# Debian 12 is merged-/usr: keep the same symlinks so ldd's paths resolve.
mkdir -p "$root/usr/bin" "$root/usr/sbin" "$root/usr/lib" "$root/usr/lib64" \
	"$root/usr/local/bin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" \
	"$root/run" "$root/mnt" "$root/etc" "$root/root" "$root/var/tmp"
for d in bin sbin lib lib64; do
	ln -s "usr/$d" "$root/$d"
done

cp "$busybox" "$root/usr/bin/busybox"
ln -s busybox "$root/usr/bin/sh"

# fuse.ko may be compressed depending on the kernel package's build.
case $fuse_ko in
builtin) ;; # CONFIG_FUSE_FS=y: nothing to load
*.xz) xz -dc "$fuse_ko" >"$root/fuse.ko" ;;
*.zst) zstd -qdc "$fuse_ko" >"$root/fuse.ko" ;;
*.gz) gzip -dc "$fuse_ko" >"$root/fuse.ko" ;;
*) cp "$fuse_ko" "$root/fuse.ko" ;;
esac

copy_libs() {
	# ldd fails on static binaries and on non-ELF files: nothing to copy then.
	ldd "$1" 2>/dev/null | awk '
		$2 == "=>" && $3 ~ /^\// { print $3 }
		$1 ~ /^\// { print $1 }' | while read -r lib; do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

for item in "$@"; do
	case $item in
	*:*) src=${item%%:*}; dst=${item#*:} ;;
	*) src=$item; dst=/usr/local/bin/$(basename "$item") ;;
	esac
	if [ ! -e "$src" ]; then
		echo "mkinitramfs.sh: $src: no such file" >&2
		exit 1
	fi
	mkdir -p "$root$(dirname "$dst")"
	if [ -d "$src" ]; then
		cp -a "$src" "$root$dst"
		find "$src" -type f -perm -u+x | while read -r f; do copy_libs "$f"; done
	else
		cp -L "$src" "$root$dst"
		copy_libs "$src"
	fi
done

cp "$guest" "$root/init-test"
chmod 755 "$root/init-test"
ln -sf /proc/self/mounts "$root/etc/mtab"
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"

cat >"$root/init" <<'INIT'
#!/bin/sh
# PID 1 of the test guest: set up a cgroup v2 system, run /init-test, report.
export PATH=/usr/local/bin:/usr/bin:/usr/sbin:/bin:/sbin
# Applet links are made here, not at build time: one exec instead of ~400 forks.
/usr/bin/busybox --install -s /usr/bin
export HOME=/root TMPDIR=/tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
# Delegate every controller the kernel offers to child cgroups, as systemd does.
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
	echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
done
[ ! -e /fuse.ko ] || insmod /fuse.ko || echo "init: insmod fuse.ko failed"
[ -e /dev/fuse ] || mknod -m 666 /dev/fuse c 10 229
cd /
sh /init-test </dev/null
rc=$?
sync
echo "QEMU-TEST-EXIT=$rc"
poweroff -f
INIT
chmod 755 "$root/init"

(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
