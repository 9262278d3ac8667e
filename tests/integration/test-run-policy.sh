#!/bin/bash
# curate run --policy: a policy file is applied, options override it, policies
# are found by name, and a malformed policy is refused (125, FILE:LINE) before
# anything is created.
. "$(dirname "$0")/lib.sh"
require_curate
export LC_ALL=C

mount_curatefs || { not_ok "mount curatefs"; finish; }
run_tmpdir
mkdir -p "$T/rodir"; echo s3cret > "$T/secret"; echo y > "$T/rodir/file"
host_ncpu=$(getconf _NPROCESSORS_ONLN)
before=$(mount_table)

cat > "$T/p.conf" <<EOF
# a test policy
[Resources]
Memory=128M
CPUs=1

[Views]
Views=meminfo,cpuinfo

[Filesystem]
Mask=$T/secret
ReadOnly=$T/rodir
EOF
cat > "$T/inside.sh" <<'EOF'
T=$1
echo "free=$(free -b | awk '/^Mem:/ { print $2 }')"
echo "cpuinfo=$(grep -c ^processor /proc/cpuinfo)"
echo "statcpus=$(grep -c '^cpu[0-9]' /proc/stat)"
echo "getconf=$(getconf _NPROCESSORS_ONLN)"
echo "secret=$(cat "$T/secret" 2>&1)"
(touch "$T/rodir/new") 2>/dev/null; echo "ro_write=$?"
echo "capbnd=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)"
echo "tmp=$(findmnt -no FSTYPE /tmp | tail -n 1)"
EOF

# --- a policy file is applied ------------------------------------------------------------
cr run --mountpoint "$MNT" --policy "$T/p.conf" -- bash "$T/inside.sh" "$T"
check_eq "--policy FILE runs ($ERR)" 0 "$RC"
check_eq "policy Memory=128M" 134217728 "$(kv free <<<"$OUT")"
if [ "$host_ncpu" -ge 2 ]; then
        check_eq "policy CPUs=1: cpuinfo shows 1 of $host_ncpu" 1 "$(kv cpuinfo <<<"$OUT")"
        check_eq "policy Views=meminfo,cpuinfo: /proc/stat is the host's" "$host_ncpu" "$(kv statcpus <<<"$OUT")"
        check_eq "policy Views=meminfo,cpuinfo: cpu/online is the host's" "$host_ncpu" "$(kv getconf <<<"$OUT")"
fi
check_eq "policy Mask= hides the file" "" "$(kv secret <<<"$OUT")"
check "policy ReadOnly= makes the directory read-only" test "$(kv ro_write <<<"$OUT")" != 0
check_eq "policy keeps the default capabilities" "$CAPS_DEFAULT" "$(kv capbnd <<<"$OUT")"
check_eq "no cgroup left" "" "$(run_cgroups "$CR_PID")"

# -P and the same policy through $CURATE_POLICY_PATH by name
mkdir -p "$T/policies"; cp "$T/p.conf" "$T/policies/curate-test.conf"
OUT=$(CURATE_POLICY_PATH=$T/policies timeout 60 "$CURATE" run --mountpoint "$MNT" -P curate-test -- \
        free -b 2>&1 | awk '/^Mem:/ { print $2 }')
check_eq "-P NAME finds NAME.conf in \$CURATE_POLICY_PATH" 134217728 "$OUT"

# --- options override the policy ------------------------------------------------------------
cr run --mountpoint "$MNT" --policy "$T/p.conf" --memory 256M --views all -- bash "$T/inside.sh" "$T"
check_eq "--policy + options runs ($ERR)" 0 "$RC"
check_eq "--memory overrides Memory=" 268435456 "$(kv free <<<"$OUT")"
if [ "$host_ncpu" -ge 2 ]; then
        check_eq "--views all overrides Views=: /proc/stat is curated" 1 "$(kv statcpus <<<"$OUT")"
        check_eq "--views all overrides Views=: cpu/online is curated" 1 "$(kv getconf <<<"$OUT")"
fi
check_eq "  the policy's mask still applies" "" "$(kv secret <<<"$OUT")"
cr run --mountpoint "$MNT" --memory 256M --policy "$T/p.conf" -- bash "$T/inside.sh" "$T"
check_eq "an option given before --policy still overrides it" 268435456 "$(kv free <<<"$OUT")"
cr run --mountpoint "$MNT" --policy "$T/p.conf" --cap-drop ALL -- bash "$T/inside.sh" "$T"
check_eq "--cap-drop ALL over the policy" 0000000000000000 "$(kv capbnd <<<"$OUT")"

# --- the shipped default policy, by name -------------------------------------------------------
cr run --mountpoint "$MNT" --policy default --memory 256M -- bash "$T/inside.sh" "$T"
check_eq "--policy default runs ($ERR)" 0 "$RC"
check_eq "--policy default: the limit applies" 268435456 "$(kv free <<<"$OUT")"
check_eq "--policy default: the default capabilities" "$CAPS_DEFAULT" "$(kv capbnd <<<"$OUT")"
check_eq "--policy default: a private /tmp" tmpfs "$(kv tmp <<<"$OUT")"
cr run --mountpoint "$MNT" --memory 256M -- bash "$T/inside.sh" "$T"
nopol=$OUT
cr run --mountpoint "$MNT" --memory 256M --policy default -- bash "$T/inside.sh" "$T"
check_eq "--policy default behaves as no policy at all" "$nopol" "$OUT"
for f in "$SOURCE_ROOT"/policies/*.conf; do
        n=$(basename "$f" .conf)
        [ "$n" = default ] && continue
        cr run --mountpoint "$MNT" --policy "$n" -- true
        echo "# shipped policy $n: exit $RC${ERR:+ ($ERR)}"
done
check_mounts_same "host mount table unchanged" "$before"

# --- malformed policies: 125, FILE:LINE, nothing created --------------------------------------
fresh_mountpoint
bad() { # DESCRIPTION LINE[|LINE] CONTENT
        local d=$1 line=$2 f=$T/bad-$RANDOM.conf
        printf '%s\n' "$3" > "$f"
        rm -f "$T/ran"
        local b; b=$(mount_table)
        cr run --mountpoint "$FRESH" --policy "$f" -- touch "$T/ran"
        check_eq "$d: exit 125" 125 "$RC"
        local l hit=""
        for l in ${line//|/ }; do grep -qF "$f:$l:" <<<"$ERR" && hit=$l; done
        if [ -n "$hit" ]; then ok "$d: the message names FILE:$hit ($ERR)"
        else not_ok "$d: the message should name $f:$line, got '$ERR'"; fi
        check "$d: the command did not run" test ! -e "$T/ran"
        check_eq "$d: no cgroup was created" "" "$(run_cgroups "$CR_PID")"
        check_eq "$d: no daemon was started at the fresh mount point" 0 "$(fuse_mounts_at "$FRESH")"
        check_mounts_same "$d: host mount table unchanged" "$b"
}
bad "unknown key" 3 "[Resources]
Memory=128M
NoSuchKey=1"
bad "bad Memory value" 2 "[Resources]
Memory=lots"
bad "bad CPUs value" 3 "
[Resources]
CPUs=-1"
bad "unknown section" "1|2" "[NoSuchSection]
Memory=1G"
bad "unknown capability" 2 "[Security]
CapabilityAdd=CAP_NOT_A_CAP"
bad "relative Mask path" 4 "[Resources]
Memory=128M
[Filesystem]
Mask=relative/path"
bad "bad boolean" 2 "[Namespaces]
PID=perhaps"
bad "Bind= without a colon" 2 "[Filesystem]
Bind=/tmp"
bad "unknown view" 2 "[Views]
Views=meminfo,nosuchview"
cr run --mountpoint "$FRESH" --policy no-such-policy-$$ -- true
check_eq "--policy of an unknown name -> 125" 125 "$RC"
check "  with a message naming it ($ERR)" grep -q "no-such-policy-$$" <<<"$ERR"
cr run --mountpoint "$FRESH" --policy "$T/missing.conf" -- true
check_eq "--policy of a missing file -> 125" 125 "$RC"
check "  with a message naming it ($ERR)" grep -q "missing.conf" <<<"$ERR"
check_eq "no daemon was started at $FRESH by any refused run" 0 "$(fuse_mounts_at "$FRESH")"
check_eq "no daemon process for $FRESH" "" "$(daemon_pids "$FRESH")"

finish
