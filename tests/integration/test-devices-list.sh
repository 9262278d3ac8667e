#!/bin/bash
# `curate devices list` on fake host trees (CURATE_HOST_ROOT): the GPU fixture
# trees of tests/fixtures/gpu, tests/fixtures/amd and tests/fixtures/cdi (see
# their README.md). Needs no root.
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

# AMD GPUs: the sysfs trees of tests/fixtures/amd (see their README.md)
A=$SOURCE_ROOT/tests/fixtures/amd
# the AMD section of the table, blanks squeezed, lines joined by '|'
amd_rows() { sed -n '/^AMD GPU /,/kfd/p' <<<"$OUT" | tr -s ' ' | paste -sd'|'; }
# --json's value at a Python expression over the parsed object J
json_at() { python3 -c 'import json, sys; J = json.load(sys.stdin); print(json.dumps(eval(sys.argv[1])))' "$1" <<<"$OUT"; }

list "$A/two"
check_eq "AMD: exit 0" 0 "$RC"
check_eq "AMD rows in PCI order (card numbers run against it), Intel ignored, kfd there" \
        "AMD GPU BUS ID CARD RENDER|0 0000:03:00.0 card1 (226:1) renderD129 (226:129)|1 0000:83:00.0 card0 (226:0) renderD128 (226:128)|/dev/kfd (235:0) is present." \
        "$(amd_rows)"
list "$A/two" --json
check_eq "AMD --json: exit 0" 0 "$RC"
check_eq "AMD --json: the GPUs by index with their nodes" \
        '[{"index": 0, "bus_id": "0000:03:00.0", "card": "card1", "card_dev": "226:1", "render": "renderD129", "render_dev": "226:129"}, {"index": 1, "bus_id": "0000:83:00.0", "card": "card0", "card_dev": "226:0", "render": "renderD128", "render_dev": "226:128"}]' \
        "$(json_at 'J["amd"]["gpus"]')"
check_eq "AMD --json: kfd's numbers" '"235:0"' "$(json_at 'J["amd"]["kfd"]')"
check_eq "AMD --json: the existing keys kept, amd added" '["nvidia_driver", "gpus", "amd", "cdi", "cdi_errors"]' \
        "$(json_at 'list(J)')"
check_eq "AMD --json: no NVIDIA GPU on an AMD host" '[false, []]' "$(json_at '[J["nvidia_driver"], J["gpus"]]')"

list "$A/nokfd"
check_eq "AMD without amdkfd: exit 0" 0 "$RC"
check_eq "  the GPU, and no /dev/kfd said so" \
        "AMD GPU BUS ID CARD RENDER|0 0000:e5:00.0 card0 (226:0) renderD128 (226:128)|No /dev/kfd (amdkfd not loaded): --gpu amd gives the DRI nodes only, no ROCm compute." \
        "$(amd_rows)"
list "$A/nokfd" --json
check_eq "  --json: kfd is null" '{"gpus": [{"index": 0, "bus_id": "0000:e5:00.0", "card": "card0", "card_dev": "226:0", "render": "renderD128", "render_dev": "226:128"}], "kfd": null}' \
        "$(json_at 'J["amd"]')"

list "$A/none"
check_eq "no AMD GPU (Intel and nouveau only): exit 0" 0 "$RC"
check_eq "  says so once, and no AMD rows" "1|" "$(grep -cx 'No AMD GPUs\.' <<<"$OUT")|$(amd_rows)"
list "$A/none" --json
check_eq "  --json: an empty list and no kfd" '{"gpus": [], "kfd": null}' "$(json_at 'J["amd"]')"
list "$F/two" --json
check_eq "an NVIDIA-only host: amd is empty" '{"gpus": [], "kfd": null}' "$(json_at 'J["amd"]')"

list "$A/broken"
check_eq "a malformed AMD dev file: exit 125" 125 "$RC"
check_eq "  naming the file and what it held" 'curate: devices: sys/class/drm/renderD128/dev: expected "MAJOR:MINOR", got "226-128"' "$OUT"
list "$A/broken" --json
check_eq "  --json too: exit 125" 125 "$RC"

OUT=$("$CURATE" devices --help 2>&1)
check "--help names the AMD sources and --gpu amd:N" \
        bash -c 'grep -q /sys/class/drm <<<"$1" && grep -q /sys/class/kfd <<<"$1" && grep -q "gpu amd:N" <<<"$1"' _ "$OUT"

list /nonexistent-root
check_eq "a missing CURATE_HOST_ROOT: exit 125" 125 "$RC"
check "  naming it" grep -q 'CURATE_HOST_ROOT /nonexistent-root' <<<"$OUT"
finish
