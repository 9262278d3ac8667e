#!/bin/bash
# meson install: the installed file set (exact: a missing or a stray file
# fails), the man pages render without warnings, the bash completion loads
# and completes, the unit is the fd-store notify service and passes
# systemd-analyze verify, and the installed curate (run from the destdir)
# finds its installed policies and still starts its installed curatefs when
# no daemon serves. The destdir part needs no root; the run part does.
. "$(dirname "$0")/lib.sh"
export LC_ALL=C
[ -n "${BUILD_ROOT:-}" ] && [ -f "$BUILD_ROOT/build.ninja" ] || skip "BUILD_ROOT is not a meson build directory"
[ -n "${SOURCE_ROOT:-}" ] || skip "SOURCE_ROOT unset"
command -v meson >/dev/null || skip "no meson"

D=$(mktemp -d /var/tmp/curate-install-test.XXXXXX)
chmod 755 "$D"
OUR_DIRS+=("$D")

# the install layout, from the build's options
eval "$(meson introspect "$BUILD_ROOT" --buildoptions | python3 -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
for k in ("prefix", "bindir", "sbindir", "datadir", "mandir", "man"):
    print("opt_%s=%s" % (k, o[k]))')"
abs() { case $1 in /*) echo "$1" ;; *) echo "$opt_prefix/$1" ;; esac; }
bindir=$(abs "$opt_bindir"); sbindir=$(abs "$opt_sbindir")
datadir=$(abs "$opt_datadir"); mandir=$(abs "$opt_mandir")
policydir=$datadir/curate/policies
unitdir=$opt_prefix/lib/systemd/system
compdir=$datadir/bash-completion/completions

out=$(meson install -C "$BUILD_ROOT" --destdir "$D" --quiet 2>&1)
rc=$?
check_eq "meson install --destdir succeeds" 0 "$rc"
[ "$rc" = 0 ] || echo "$out" | tail -20 | sed 's/^/#   /'

# ---- the file list, file by file --------------------------------------------------
expected=("$bindir/curate" "$sbindir/curatefs" "$unitdir/curatefs.service"
          "$compdir/curate" "$compdir/curatefs")
for f in "$SOURCE_ROOT"/policies/*.conf; do expected+=("$policydir/${f##*/}"); done
for f in "$SOURCE_ROOT"/oci/*.json.in; do # the hooks.d definitions, NAME.json.in -> NAME.json
        [ -f "$f" ] && { f=${f##*/}; expected+=("$datadir/containers/oci/hooks.d/${f%.in}"); }
done
man_pages=(man1/curate.1 man1/curate-run.1 man1/curate-device.1 man8/curatefs.8 man5/curate.policy.5)
if [ -f "$BUILD_ROOT/man/curate.1.scd" ]; then
        for m in "${man_pages[@]}"; do expected+=("$mandir/$m"); done
else
        # -Dman=auto without scdoc, or -Dman=disabled: said, and failed when
        # scdoc is there (the build should have used it)
        echo "# man pages not configured (-Dman=$opt_man, scdoc: $(command -v scdoc || echo none))"
        [ "$opt_man" = disabled ] || ! command -v scdoc >/dev/null || not_ok "scdoc is installed but the man pages are not built"
        man_pages=()
fi
want=$(printf '%s\n' "${expected[@]}" | sort)
got=$(cd "$D" && find . ! -type d | sed 's|^\.||' | sort)
check_eq "the installed files are exactly the expected set" "$want" "$got"
[ "$want" = "$got" ] || diff <(echo "$want") <(echo "$got") | sed 's/^/#   /'
check "curate is executable" test -x "$D$bindir/curate"
check "curatefs is executable" test -x "$D$sbindir/curatefs"
for f in "$SOURCE_ROOT"/policies/*.conf; do
        check "policy ${f##*/} installed unchanged" cmp -s "$f" "$D$policydir/${f##*/}"
done

# ---- the unit ----------------------------------------------------------------------
unit=$D$unitdir/curatefs.service
check "unit: Type=notify" grep -qx 'Type=notify' "$unit"
check "unit: the fd store (FileDescriptorStoreMax)" grep -qE '^FileDescriptorStoreMax=[1-9]' "$unit"
check "unit: ExecStart runs the installed curatefs in the foreground" \
        grep -qE "^ExecStart=$sbindir/curatefs --foreground " "$unit"
check "unit: no @variable@ left" bash -c '! grep -q "@[a-z]*@" "$1"' _ "$unit"
if command -v systemd-analyze >/dev/null; then
        # verify insists that ExecStart exists: point it at the destdir's binary
        mkdir "$D.unit"; OUR_DIRS+=("$D.unit")
        sed "s|^ExecStart=$sbindir/|ExecStart=$D$sbindir/|" "$unit" > "$D.unit/curatefs.service"
        err=$(systemd-analyze verify "$D.unit/curatefs.service" 2>&1)
        rc=$?
        check_eq "systemd-analyze verify curatefs.service: no complaint" "0:" "$rc:$err"
        # and it can fail: a misspelt key is reported
        sed 's/^Type=notify/Typ=notify/' "$D.unit/curatefs.service" > "$D.unit/bad.service"
        check "systemd-analyze verify reports a misspelt key" \
                bash -c 'systemd-analyze verify "$1" 2>&1 | grep -q "Unknown key"' _ "$D.unit/bad.service"
else
        echo "# SKIP systemd-analyze verify: no systemd-analyze (Debian package systemd)"
fi

# ---- man pages ------------------------------------------------------------------------
for m in "${man_pages[@]}"; do
        page=$D$mandir/$m
        if ! command -v man >/dev/null; then echo "# SKIP man -l $m: no man (man-db)"; break; fi
        text=$(MANWIDTH=80 man -l --warnings=w "$page" 2>"$D.err")
        check_eq "man -l $m renders without warnings" "" "$(cat "$D.err")"
        check "man -l $m has NAME and SEE ALSO" bash -c '[[ $1 == *NAME* && $1 == *"SEE ALSO"* ]]' _ "$text"
        check "man $m: no @variable@ left" bash -c '[[ $1 != *@policydir@* ]]' _ "$text"
        check_eq "groff -ww $m: no warnings" "" "$(groff -ww -man -z "$page" 2>&1)"
done
rm -f "$D.err"
if [ ${#man_pages[@]} -gt 0 ]; then
        # every run option --help lists is in curate-run(1), and curatefs(8) has curatefs's
        runpage=$(MANWIDTH=200 man -l "$D$mandir/man1/curate-run.1" 2>/dev/null)
        missing=$("$D$bindir/curate" run --help | grep -oE -- '--[a-z][a-z-]+' | sort -u |
                  while read -r o; do grep -qF -- "$o" <<<"$runpage" || echo "$o"; done)
        check_eq "curate-run(1) names every option of curate run --help" "" "$missing"
        fspage=$(MANWIDTH=200 man -l "$D$mandir/man8/curatefs.8" 2>/dev/null)
        missing=$("$D$sbindir/curatefs" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u |
                  while read -r o; do grep -qF -- "$o" <<<"$fspage" || echo "$o"; done)
        check_eq "curatefs(8) names every option of curatefs --help" "" "$missing"
        mainpage=$(MANWIDTH=200 man -l "$D$mandir/man1/curate.1" 2>/dev/null)
        missing=$("$D$bindir/curate" daemon --help | grep -oE -- '--[a-z][a-z-]+' | sort -u |
                  while read -r o; do grep -qF -- "$o" <<<"$mainpage" || echo "$o"; done)
        check_eq "curate(1) names every option of curate daemon --help" "" "$missing"
        devpage=$(MANWIDTH=200 man -l "$D$mandir/man1/curate-device.1" 2>/dev/null)
        missing=$({ "$D$bindir/curate" device --help; "$D$bindir/curate" devices --help; } |
                  grep -oE -- '--[a-z][a-z-]+' | sort -u |
                  while read -r o; do grep -qF -- "$o" <<<"$devpage" || echo "$o"; done)
        check_eq "curate-device(1) names every option of curate device(s) --help" "" "$missing"
fi

# ---- bash completion ------------------------------------------------------------------
# complete WORDS...: what the completion offers for the last word (a plain
# bash, no bash-completion package, no rc files)
complete_words() {
        CURATE_POLICY_PATH=${CPP:-} bash --norc --noprofile -c '
                . "$1" || exit 9; . "$2" || exit 9; shift 2
                COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
                COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
                fn=$(complete -p "$1" | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
                [ -n "$fn" ] || exit 8
                "$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
                printf "%s\n" "${COMPREPLY[@]}"' _ "$D$compdir/curate" "$D$compdir/curatefs" "$@" 2>&1 | sort | tr '\n' ' ' | sed 's/ $//'
}
check "the completion scripts load in bash and register curate and curatefs" \
        bash --norc --noprofile -c '. "$1" && . "$2" && complete -p curate && complete -p curatefs' \
        _ "$D$compdir/curate" "$D$compdir/curatefs"
check_eq "curate ru<TAB>" "run" "$(complete_words curate ru)"
check_eq "curate run --vie<TAB>" "--views" "$(complete_words curate run --vie)"
check_eq "curate run --views cpu-<TAB>" "cpu-online cpu-tree" "$(complete_words curate run --views cpu-)"
check_eq "curate run --views meminfo,sw<TAB>" "meminfo,swaps" "$(complete_words curate run --views meminfo,sw)"
check_eq "curate run --memory 1G --share-t<TAB>" "--share-tmp" "$(complete_words curate run --memory 1G --share-t)"
check_eq "curate run --net <TAB>" "host none" "$(complete_words curate run --net '')"
check_eq "curate run --device /dev/nul<TAB>" "/dev/null" "$(complete_words curate run --device /dev/nul)"
check_eq "curate daemon st<TAB>" "start status stop" "$(complete_words curate daemon st)"
check_eq "curate daemon status --j<TAB>" "--json" "$(complete_words curate daemon status --j)"
check_eq "curate daemon start --tr<TAB>" "--transport" "$(complete_words curate daemon start --tr)"
check_eq "curate daemon restart --en<TAB>" "--enable-uring" "$(complete_words curate daemon restart --en)"
check_eq "curate daemon start --transport <TAB>" "auto dev uring" "$(complete_words curate daemon start --transport '')"
check_eq "curate daemon status --tr<TAB>: with start or restart only" "" "$(complete_words curate daemon status --tr)"
check_eq "curatefs -T <TAB>" "auto dev uring" "$(complete_words curatefs -T '')"
check_eq "curate devices l<TAB>" "list" "$(complete_words curate devices l)"
check_eq "curate device <TAB>" "--help add remove" "$(complete_words curate device '')"
check_eq "curate run --policy hard<TAB> (installed policies)" "hardened-service" \
        "$(CPP=$D$policydir complete_words curate run --policy hard)"
check_eq "curate run --policy <TAB> lists every shipped policy" \
        "$(cd "$SOURCE_ROOT/policies" && ls ./*.conf | sed 's|^\./||; s/\.conf$//' | sort | tr '\n' ' ' | sed 's/ $//')" \
        "$(CPP=$D$policydir complete_words curate run --policy '')"
check_eq "curatefs --recovery j<TAB>" "journal" "$(complete_words curatefs --recovery j)"
check_eq "curatefs --fore<TAB>" "--foreground" "$(complete_words curatefs --fore)"
check_eq "curatefs --secc<TAB>" "--seccomp-agent" "$(complete_words curatefs --secc)"
check_eq "curate secc<TAB>" "seccomp-profile" "$(complete_words curate secc)"
check_eq "curate seccomp-profile --s<TAB>" "--socket" "$(complete_words curate seccomp-profile --s)"
check_eq "completion: the installed policy dir is compiled in" "1" \
        "$(grep -c "'$policydir'" "$D$compdir/curate")"

# ---- the installed curate finds its installed policies -----------------------------
# The policy directory is compiled in from the prefix (CURATE_POLICY_DIR):
# the installed curate names it, and the destdir holds the policies there.
check "the installed curate searches $policydir" \
        bash -c '"$1" run --help | grep -qF "$2"' _ "$D$bindir/curate" "$policydir"
# A destdir install is not at its prefix, so its policy directory is given
# through CURATE_POLICY_PATH; a broken copy there proves that directory is
# the one read (the source tree, searched last, holds an intact one).
cp -a "$D$policydir" "$D.pol"; OUR_DIRS+=("$D.pol")
echo "[Bogus]" >> "$D.pol/hardened-service.conf"
err=$(CURATE_POLICY_PATH=$D.pol "$D$bindir/curate" run --policy hardened-service -- true 2>&1)
rc=$?
check_eq "--policy hardened-service is read from CURATE_POLICY_PATH (a broken copy: 125)" 125 "$rc"
check "the error names the copy's FILE:LINE" bash -c '[[ $1 == *"$2/hardened-service.conf:"* ]]' _ "$err" "$D.pol"

if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ]; then
        echo "# SKIP running the installed curate: needs root and /dev/fuse"
        finish
fi
# ---- as root: the installed curate runs with the installed policy and starts
# the installed curatefs (../sbin beside it) when no daemon serves --------------------
hook_path=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["hook"]["path"])' \
        "$D$datadir/containers/oci/hooks.d/50-curate.json" 2>&1)
check_eq "the hooks.d definition runs the installed curate" "$bindir/curate" "$hook_path"

trap 'cleanup_run; cleanup' EXIT
fresh_mountpoint
out=$(cd / && env -u CURATEFS CURATE_POLICY_PATH="$D$policydir" timeout 60 \
        "$D$bindir/curate" run --mountpoint "$FRESH" --policy hardened-service -- \
        sh -c 'awk "/^MemTotal:/ { print \$2 }" /proc/meminfo; touch "$0/ro-probe" 2>/dev/null; echo ro=$?' "$D" 2>&1)
check_eq "installed curate + hardened-service: 512M, read-only root" "$(printf '524288\nro=1')" "$out"
check "a curatefs serves the fresh mount point" test "$(fuse_mounts_at "$FRESH")" -ge 1
pids=$(daemon_pids "$FRESH")
exe=""
for p in $pids; do exe+="$(readlink "/proc/$p/exe") "; done
check "the daemon started is the installed curatefs ($D$sbindir/curatefs)" \
        bash -c '[[ -n $1 && $1 == *"$2"* ]]' _ "$exe" "$D$sbindir/curatefs"
finish
