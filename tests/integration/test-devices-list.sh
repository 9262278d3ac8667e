#!/bin/bash
# `curate devices list` on fake host trees (CURATE_HOST_ROOT): the GPU fixture
# trees of tests/fixtures/gpu (see their README.md). Needs no root.
. "$(dirname "$0")/lib.sh"
[ -x "${CURATE:-}" ] || skip "CURATE not built"
F=$SOURCE_ROOT/tests/fixtures/gpu
list() { OUT=$(CURATE_HOST_ROOT=$1 "$CURATE" devices list "${@:2}" 2>&1); RC=$?; }

list "$F/two"
check_eq "two GPUs: exit 0" 0 "$RC"
check_eq "index 0 is the lower bus id, /dev/nvidia1 (minor != index)" \
        "0 1 GPU-1a1a1a1a-4444-5555-6666-777777777777 0000:1a:00.0" "$(awk '$1 == "0" { print $1, $2, $3, $4 }' <<<"$OUT")"
check_eq "index 1 is 0000:3b:00.0, minor 0" "1 0 0000:3b:00.0" "$(awk '$1 == "1" { print $1, $2, $4 }' <<<"$OUT")"

list "$F/two" --json
check_eq "--json: exit 0" 0 "$RC"
check "--json: the driver is there" grep -q '"nvidia_driver":true' <<<"$OUT"
check_eq "--json: GPUs in index order with their minors" '"index":0 "minor":1 "index":1 "minor":0' \
        "$(grep -oE '"(index|minor)":[0-9]+' <<<"$OUT" | tr '\n' ' ' | sed 's/ $//')"

list "$F/mig" --json
check_eq "MIG devices listed by i:j in (gi, ci) order" '"id":"0:0" "id":"0:1" "id":"0:2" "id":"0:3"' \
        "$(grep -oE '"id":"[0-9]+:[0-9]+"' <<<"$OUT" | tr '\n' ' ' | sed 's/ $//')"
list "$F/mig"
check "MIG in the table: 0:3 is GPU instance 10" grep -q 'MIG 0:3  (GPU instance 10, compute instance 0)' <<<"$OUT"

list "$F/nodriver"
check_eq "no driver: exit 0" 0 "$RC"
check "no driver: says so" grep -q 'No NVIDIA driver' <<<"$OUT"

list "$F/broken"
check_eq "a broken information file: exit 125" 125 "$RC"
check "  naming the file and the line" grep -q 'gpus/0000:1a:00.0/information: missing or malformed "Device Minor:"' <<<"$OUT"

list "$F/two" --bogus
check_eq "unknown option: exit 125" 125 "$RC"
list "$F/two" show
check_eq "unknown subcommand: exit 125" 125 "$RC"
# CDI devices: the specs of tests/fixtures/cdi (see their README.md)
C=$SOURCE_ROOT/tests/fixtures/cdi
list "$C/basic"
check_eq "CDI: exit 0" 0 "$RC"
check_eq "CDI devices listed by qualified name with their spec" \
        "nvidia.com/gpu=0 /etc/cdi/nvidia.json|nvidia.com/gpu=all /etc/cdi/nvidia.json" \
        "$(awk '$1 == "nvidia.com/gpu=0" || $1 == "nvidia.com/gpu=all" { print $1, $2 }' <<<"$OUT" | paste -sd'|')"
list "$C/invalid" --json
check_eq "CDI: specs that do not load are reported, not fatal" 0 "$RC"
check "  each with its file and reason" grep -q '"error":"/etc/cdi/no-path.json: devices\[0\].containerEdits.deviceNodes\[0\].path: missing"' <<<"$OUT"

list /nonexistent-root
check_eq "a missing CURATE_HOST_ROOT: exit 125" 125 "$RC"
check "  naming it" grep -q 'CURATE_HOST_ROOT /nonexistent-root' <<<"$OUT"
finish
