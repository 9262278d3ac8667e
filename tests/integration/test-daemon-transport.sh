#!/bin/bash
# curate daemon start|restart --transport auto|uring|dev and --enable-uring:
# bad values and misplaced options exit 125 naming the option, with nothing
# mounted; curatefs gets --transport only when one was asked for (curate
# run's auto-start passes none: curatefs's default, auto); --enable-uring
# turns the switch on (a stand-in file, CURATE_FUSE_URING_SWITCH: this test
# never flips the host's) and implies --transport uring; a missing switch
# or one that is off is refused before curatefs runs; a daemon that already
# serves keeps its transport, and start and restart say so.
. "$(dirname "$0")/lib.sh"
require_curate
[ -x "${CURATEFS:-}" ] || skip "CURATEFS not built"
trap 'cleanup_run; cleanup' EXIT
export LC_ALL=C
run_tmpdir
fresh_mountpoint; M=$FRESH
# a safety net: whatever a check below gets wrong, the host's switch is
# never the one written
export CURATE_FUSE_URING_SWITCH=$T/unset-switch

# ---- the option values ----
cr daemon start --transport bogus --mountpoint "$M"
check_eq "--transport bogus: exit 125" 125 "$RC"
check "… the message names --transport and the value ($ERR)" grep -q -- "--transport: 'bogus' is not auto, uring or dev" <<<"$ERR"
cr daemon start -T '' --mountpoint "$M"
check_eq "-T '' (empty): exit 125" 125 "$RC"
cr daemon restart --transport=UrInG --mountpoint "$M"
check_eq "restart --transport=UrInG (the words are exact): exit 125" 125 "$RC"
cr daemon start --transport --mountpoint "$M"
check_eq "--transport with --mountpoint as its value: exit 125" 125 "$RC"
check_eq "… nothing mounted after the refusals" 0 "$(fuse_mounts_at "$M")"
cr daemon start --mountpoint "$M" --transport
check_eq "--transport without a value: exit 125" 125 "$RC"
check "… says it needs an argument" grep -q "needs an argument" <<<"$ERR"
for c in "status --transport dev" "stop --transport dev" "status --enable-uring" "stop --enable-uring"; do
        cr daemon $c --mountpoint "$M"
        check_eq "daemon $c: exit 125" 125 "$RC"
        o=${c#* }; o=${o% dev}
        check "… names $o and where it goes ($ERR)" grep -q -- "$o goes with start or restart only" <<<"$ERR"
done

# ---- the switch ----
cr_switch() { CURATE_FUSE_URING_SWITCH=$SW cr "$@"; }
SW=$T/no-such-switch
cr_switch daemon start --enable-uring --mountpoint "$M"
check_eq "--enable-uring, switch missing: exit 125" 125 "$RC"
check "… names the option, the file and the kernel it needs ($ERR)" \
        grep -q -- "--enable-uring: $SW is missing: this kernel has no FUSE over io_uring (Linux >= 6.14 with CONFIG_FUSE_IO_URING)" <<<"$ERR"
check "… and creates no file there" test ! -e "$SW"
check_eq "… and mounts nothing" 0 "$(fuse_mounts_at "$M")"
cr_switch daemon start --transport uring --mountpoint "$M"
check_eq "--transport uring, switch missing: exit 125" 125 "$RC"
check "… names --transport uring ($ERR)" grep -q -- "--transport uring: $SW is missing" <<<"$ERR"
SW=$T/enable_uring; echo N >"$SW"
cr_switch daemon start --transport uring --mountpoint "$M"
check_eq "--transport uring, switch N: exit 125" 125 "$RC"
check "… says it is off and what turns it on ($ERR)" grep -q -- "--transport uring: $SW reads N.*--enable-uring" <<<"$ERR"
check_eq "… the switch left as it was" N "$(cat "$SW")"
check_eq "… and nothing mounted" 0 "$(fuse_mounts_at "$M")"
mkdir "$T/ro-switch"
SW=$T/ro-switch; CURATE_FUSE_URING_SWITCH=$SW cr daemon start --enable-uring --mountpoint "$M"
check_eq "--enable-uring, switch not writable (a directory): exit 125" 125 "$RC"
check "… names the option and the file ($ERR)" grep -q -- "--enable-uring: .*$SW" <<<"$ERR"

# ---- what curatefs is given: a stand-in that prints its arguments and fails ----
FAKE=$T/fake-curatefs
printf '#!/bin/sh\necho "argv: $*"\nexit 1\n' >"$FAKE"; chmod 755 "$FAKE"
fake() { CURATEFS=$FAKE CURATE_FUSE_URING_SWITCH=$SW cr "$@"; }
argv_of() { sed -n 's/.*argv: //p' <<<"$ERR"; }
SW=$T/enable_uring; echo N >"$SW"
fake daemon start --mountpoint "$M"
check_eq "plain start: curatefs's failure is curate's (125)" 125 "$RC"
check_eq "plain start: no --transport passed" "--pidfile /run/curate/curatefs-$(realpath "$M" | tr / _).pid -- $(realpath "$M")" "$(argv_of)"
fake run --mountpoint "$M" -- true
check "curate run's auto-start passes no --transport (argv: $(argv_of))" \
        bash -c '[ -n "$1" ] && ! grep -q -- --transport <<<"$1"' _ "$(argv_of)"
for t in auto uring dev; do
        [ $t = uring ] && echo Y >"$SW"
        fake daemon start --transport $t --mountpoint "$M"
        check "start --transport $t: passed on (argv: $(argv_of))" grep -q -- "^--transport $t --pidfile " <<<"$(argv_of)"
done
echo N >"$SW"
fake daemon restart -T dev --mountpoint "$M"
check "restart -T dev, none running: started with it (argv: $(argv_of))" grep -q -- "^--transport dev " <<<"$(argv_of)"
fake daemon start --enable-uring --mountpoint "$M"
check_eq "--enable-uring: the switch written" Y "$(head -c1 "$SW")"
check "… implies --transport uring (argv: $(argv_of))" grep -q -- "^--transport uring " <<<"$(argv_of)"
check "… and says so, host-wide, not switched back ($ERR)" grep -q "wrote Y to $SW.*host-wide.*does not switch it back" <<<"$ERR"
echo N >"$SW"
fake daemon start --transport dev --enable-uring --mountpoint "$M"
check "--enable-uring --transport dev: dev passed (argv: $(argv_of))" grep -q -- "^--transport dev " <<<"$(argv_of)"
check_eq "… the switch written all the same" Y "$(head -c1 "$SW")"
fake daemon start --enable-uring --mountpoint "$M"
check "switch already Y: no 'wrote Y' message" bash -c '! grep -q "wrote Y" <<<"$1"' _ "$ERR"
check_eq "… nothing mounted by the stand-in" 0 "$(fuse_mounts_at "$M")"

# ---- a daemon that already serves keeps its transport ----
tr=(); "$CURATEFS" --help 2>&1 | grep -q -- --transport && tr=(--transport dev)
cr daemon start "${tr[@]}" --mountpoint "$M"
check_eq "a real curatefs starts (${tr[*]:-no --transport: this curatefs has none})" 0 "$RC"
check "… and serves" test "$(fuse_mounts_at "$M")" -ge 1 || echo "$OUT $ERR"
echo N >"$SW"
CURATE_FUSE_URING_SWITCH=$SW cr daemon start --enable-uring --mountpoint "$M"
check_eq "start --enable-uring, already serving: exit 0" 0 "$RC"
check "… says already running" grep -q "already running" <<<"$OUT"
check "… notes that it keeps its transport, /dev/fuse ($ERR)" grep -q "keeps its transport (/dev/fuse).*--enable-uring had no effect" <<<"$ERR"
check_eq "… and leaves the switch alone" N "$(cat "$SW")"
cr daemon start --transport uring --mountpoint "$M"
check "start --transport uring, already serving: exit 0 with the note ($ERR)" \
        bash -c '[ "$1" = 0 ] && grep -q "keeps its transport.*--transport uring had no effect.*stop. then .curate daemon start --transport uring" <<<"$2"' _ "$RC" "$ERR"
cr daemon start --mountpoint "$M"
check "plain start, already serving: no note" bash -c '! grep -q "keeps its transport" <<<"$1"' _ "$ERR"
pid0=$("$CURATE" daemon status --json --mountpoint "$M" | python3 -c 'import json,sys; print(json.load(sys.stdin)["holder_pid"])' 2>/dev/null)
cr daemon restart --transport uring --mountpoint "$M"
check_eq "restart --transport uring, serving: exit 0 (the serving processes are replaced)" 0 "$RC"
check "… notes that restart does not change the transport ($ERR)" grep -q "keeps its transport.*restart. does not change it" <<<"$ERR"
check "… still serves /dev/fuse (text status)" grep -q "^  transport: /dev/fuse$" <<<"$("$CURATE" daemon status --mountpoint "$M")"
check_eq "… same holder" "$pid0" "$(awk '{ print $NF }' <<<"$(grep -o 'pid [0-9]*' <<<"$OUT" | head -1)")"
finish
