#!/bin/bash
# Install what curate needs from Debian's packages (only what is missing) and
# build it into ./build. Idempotent; run as root on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(gcc meson ninja-build pkg-config libfuse3-dev fuse3 libcap-dev libcmocka-dev libinih-dev libyaml-dev libjson-c-dev libseccomp-dev liburing-dev libsystemd-dev
          procps util-linux valgrind busybox-static lxcfs bubblewrap xz-utils zstd
          clang libclang-rt-14-dev)  # the libFuzzer harnesses (tests/fuzz); the runtime is only a recommends of clang
# qemu is pulled without its recommends (no GUI stack)
QEMU_PACKAGES=(qemu-system-x86)
# test-run-cputree's CPU-counting clients (numpy sizes OpenBLAS's pool)
PACKAGES+=(python3-psutil python3-numpy python3-threadpoolctl libopenblas0-pthread)
# the man pages (scdoc) and test-install.sh's checks: man -l, systemd-analyze verify
PACKAGES+=(scdoc man-db systemd)
# test-podman-cdi and test-oci-hook: engines reading curate's CDI specs and
# running its OCI hook (runc: crun refuses hybrid cgroups)
PACKAGES+=(podman runc jq)
# test-k8s-manifests: parses the deploy/kubernetes manifests
PACKAGES+=(python3-yaml)

missing=()
for p in "${PACKAGES[@]}" "${QEMU_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" != 0 ]; then
                echo "setup: missing packages ${missing[*]}; run as root" >&2
                exit 1
        fi
        echo "setup: installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f build/build.ninja ]; then
        meson setup build -Dwerror=true >/dev/null
fi
ninja -C build >/dev/null
