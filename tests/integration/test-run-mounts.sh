#!/bin/bash
# curate run: --bind, --ro-bind, --tmpfs, --mask, --ro, --share-tmp,
# --propagation, and refused mount options (125, nothing left behind).
. "$(dirname "$0")/lib.sh"
require_curate
export LC_ALL=C

mount_curatefs || { not_ok "mount curatefs"; finish; }
run_tmpdir
mkdir -p "$T"/{src,dst,rosrc,rodst,tmpfsdst,maskdir,rodir,mp,prop}
echo hello > "$T/src/file"; echo ro > "$T/rosrc/file"; echo host > "$T/tmpfsdst/hostfile"
echo s3cret > "$T/secret"; echo x > "$T/maskdir/inner"; echo y > "$T/rodir/file"
# a shared mount of our own, so that host mounts beneath it can propagate
# (this host's / is private): the --propagation checks use it
mount --bind "$T/prop" "$T/prop" && mount --make-shared "$T/prop" && OUR_MOUNTS+=("$T/prop") ||
        not_ok "cannot make the shared mount $T/prop"
mkdir -p "$T/prop/sub" "$T/prop/sub2"
before=$(mount_table)

cat > "$T/inside.sh" <<'EOF'
T=$1
echo "bind_read=$(cat "$T/dst/file")"
echo fromin > "$T/dst/new"; echo "bind_write=$?"
echo "robind_read=$(cat "$T/rodst/file")"
(echo x > "$T/rodst/new") 2>/dev/null; echo "robind_write=$?"
echo "tmpfs_fs=$(findmnt -no FSTYPE "$T/tmpfsdst" | tail -n 1)"
echo "tmpfs_ls=$(ls -A "$T/tmpfsdst" | tr '\n' ' ')"
echo t > "$T/tmpfsdst/intmpfs"; echo "tmpfs_write=$?"
echo "secret=$(cat "$T/secret" 2>&1)"
echo "secret_rc=$?"
(echo overwrite > "$T/secret") 2>/dev/null
echo "maskdir_ls=$(ls -A "$T/maskdir" | tr '\n' ' ')"
(touch "$T/maskdir/new") 2>/dev/null; echo "maskdir_write=$?"
echo "rodir_read=$(cat "$T/rodir/file")"
(touch "$T/rodir/new") 2>/dev/null; echo "rodir_write=$?"
(echo z > "$T/rodir/file") 2>/dev/null; echo "rodir_modify=$?"
EOF

cr run --mountpoint "$MNT" --bind "$T/src" "$T/dst" --ro-bind "$T/rosrc" "$T/rodst" --tmpfs "$T/tmpfsdst" \
        --mask "$T/secret" --mask "$T/maskdir" --ro "$T/rodir" -- bash "$T/inside.sh" "$T"
check_eq "run with binds, tmpfs, masks and --ro exits 0 ($ERR)" 0 "$RC"
check_eq "--bind: the source's file reads at the target" hello "$(kv bind_read <<<"$OUT")"
check_eq "--bind: writes go through" 0 "$(kv bind_write <<<"$OUT")"
check_eq "--bind: the write landed in the host's source" fromin "$(cat "$T/src/new" 2>/dev/null)"
check_eq "--bind: the host's target is untouched" "" "$(ls -A "$T/dst")"
check_eq "--ro-bind: reads" ro "$(kv robind_read <<<"$OUT")"
check "--ro-bind: a write fails" test "$(kv robind_write <<<"$OUT")" != 0
check "--ro-bind: nothing was written to the source" test ! -e "$T/rosrc/new"
check_eq "--tmpfs: a tmpfs at the target" tmpfs "$(kv tmpfs_fs <<<"$OUT")"
check_eq "--tmpfs: starts empty (the host's file is hidden)" "" "$(kv tmpfs_ls <<<"$OUT")"
check_eq "--tmpfs: writable" 0 "$(kv tmpfs_write <<<"$OUT")"
check_eq "--tmpfs: nothing reaches the host's directory" hostfile "$(ls -A "$T/tmpfsdst" | tr '\n' ' ' | sed 's/ $//')"
check_eq "--mask FILE: reads empty" "" "$(kv secret <<<"$OUT")"
check_eq "--mask FILE: the read itself succeeds (/dev/null over it)" 0 "$(kv secret_rc <<<"$OUT")"
check_eq "--mask FILE: the host's file is unchanged" s3cret "$(cat "$T/secret")"
check_eq "--mask DIR: lists empty" "" "$(kv maskdir_ls <<<"$OUT")"
check "--mask DIR: read-only" test "$(kv maskdir_write <<<"$OUT")" != 0
check "--mask DIR: the host's directory is unchanged" test "$(ls -A "$T/maskdir")" = inner
check_eq "--ro: reads" y "$(kv rodir_read <<<"$OUT")"
check "--ro: creating a file fails" test "$(kv rodir_write <<<"$OUT")" != 0
check "--ro: modifying a file fails" test "$(kv rodir_modify <<<"$OUT")" != 0 -a "$(cat "$T/rodir/file")" = y
check "--ro: the host can still write there" touch "$T/rodir/host-write"
check_eq "the transient cgroups are gone" "" "$(run_cgroups "$CR_PID")"
check_mounts_same "host mount table unchanged" "$before"

# --- /tmp --------------------------------------------------------------------------
hm=$(mktemp /tmp/curate-run-host.XXXXXX); OUR_DIRS+=("$hm")
probe=/tmp/curate-run-probe-$$; OUR_DIRS+=("$probe")
host_tmp_fs=$(findmnt -no FSTYPE -T /tmp | tail -n 1)
cr run --mountpoint "$MNT" --share-tmp -- sh -c \
        'cat "$0"; echo inside > "$1"; echo "fs=$(findmnt -no FSTYPE -T /tmp | tail -n 1)"' "$hm" "$probe"
echo host > "$hm.x"; OUR_DIRS+=("$hm.x")
check_eq "--share-tmp runs ($ERR)" 0 "$RC"
check_eq "--share-tmp: /tmp is the host's (its filesystem)" "$host_tmp_fs" "$(kv fs <<<"$OUT")"
check_eq "--share-tmp: a file written inside is on the host" inside "$(cat "$probe" 2>/dev/null)"
rm -f "$probe"
cr run --mountpoint "$MNT" -- sh -c 'cat "$0" 2>/dev/null; echo inside > "$1"; echo "fs=$(findmnt -no FSTYPE -T /tmp | tail -n 1)"' "$hm" "$probe"
check_eq "default: /tmp is a tmpfs" tmpfs "$(kv fs <<<"$OUT")"
check "default: a file written inside /tmp is not on the host" test "$RC" = 0 -a ! -e "$probe"

# --- propagation --------------------------------------------------------------------
# wait_go: the command's half of a handshake: touch $T/NAME.started, wait for $T/NAME.go
cat > "$T/handshake.sh" <<'EOF'
T=$1 name=$2; shift 2
"$@"
touch "$T/$name.started"
for i in $(seq 400); do [ -e "$T/$name.go" ] && break; sleep 0.05; done
echo "sub=$(findmnt -no FSTYPE "$T/prop/sub" | tail -n 1)"
EOF
# mount made inside (the command is given CAP_SYS_ADMIN to mount at all)
cr_bg run --mountpoint "$MNT" --cap-add SYS_ADMIN -- bash "$T/handshake.sh" "$T" inner \
        mount -t tmpfs curate-inner "$T/mp"
if wait_file "$T/inner.started"; then
        check_eq "a mount made inside (private) does not appear on the host" "" "$(findmnt -no FSTYPE "$T/mp")"
        check_mounts_same "  and the host mount table is unchanged meanwhile" "$before"
else
        not_ok "the inner-mount command did not start ($(cat "$CR_ERRF"))"
fi
touch "$T/inner.go"; cr_wait
check_eq "  the run exits 0 ($ERR)" 0 "$RC"

# host mounts after the start: seen with --propagation slave, not by default
for mode in slave private; do
        opt=(); [ $mode = slave ] && opt=(--propagation slave)
        cr_bg run --mountpoint "$MNT" "${opt[@]}" -- bash "$T/handshake.sh" "$T" "$mode" true
        if wait_file "$T/$mode.started"; then
                mount -t tmpfs "curate-host-$mode" "$T/prop/sub"
        else
                not_ok "the $mode command did not start ($(cat "$CR_ERRF"))"
        fi
        touch "$T/$mode.go"; cr_wait
        umount "$T/prop/sub" 2>/dev/null
        check_eq "--propagation $mode runs ($ERR)" 0 "$RC"
        if [ $mode = slave ]; then
                check_eq "--propagation slave: a host mount made after the start appears inside" tmpfs "$(kv sub <<<"$OUT")"
        else
                check "default (private): a host mount made after the start does not appear inside ($(kv sub <<<"$OUT"))" \
                        test "$(kv sub <<<"$OUT")" != tmpfs
        fi
done
cr_bg run --mountpoint "$MNT" --propagation slave --cap-add SYS_ADMIN -- bash "$T/handshake.sh" "$T" slave-inner \
        mount -t tmpfs curate-inner "$T/prop/sub2"
if wait_file "$T/slave-inner.started"; then
        check_eq "--propagation slave: a mount made inside does not reach the host" "" "$(findmnt -no FSTYPE "$T/prop/sub2")"
else
        not_ok "the slave inner-mount command did not start ($(cat "$CR_ERRF"))"
fi
touch "$T/slave-inner.go"; cr_wait
check_mounts_same "host mount table unchanged after the propagation runs" "$before"

# --- refused options: 125, a message naming the path, nothing left --------------------
refused() { # DESCRIPTION WORD-IN-MESSAGE OPTIONS...
        local d=$1 word=$2; shift 2
        rm -f "$T/ran"
        cr run --mountpoint "$MNT" --memory 256M "$@" -- touch "$T/ran"
        check_eq "$d: exit 125" 125 "$RC"
        if grep -qF -- "$word" <<<"$ERR"; then ok "$d: the message names $word ($ERR)"
        else not_ok "$d: the message should name '$word', got '$ERR'"; fi
        check "$d: the command did not run" test ! -e "$T/ran"
        check_eq "$d: no cgroup left" "" "$(run_cgroups "$CR_PID")"
        check_mounts_same "$d: host mount table unchanged" "$before"
}
refused "--bind to a missing target" "$T/missing" --bind "$T/src" "$T/missing"
check "  and the missing target was not created" test ! -e "$T/missing"
refused "--bind from a missing source" "$T/nosrc" --bind "$T/nosrc" "$T/dst"
refused "--ro-bind to a missing target" "$T/missing" --ro-bind "$T/rosrc" "$T/missing"
refused "--bind with a relative source" "relsrc" --bind relsrc "$T/dst"
refused "--bind with a relative target" "reldst" --bind "$T/src" reldst
refused "--tmpfs with a relative path" "reltmp" --tmpfs reltmp
refused "--tmpfs on a missing target" "$T/missing" --tmpfs "$T/missing"
refused "--mask with a relative path" "relmask" --mask relmask
refused "--ro with a relative path" "relro" --ro relro
refused "--propagation with an unknown mode" "shared" --propagation shared

finish
