#!/bin/bash
# The robustness and client tests again with the daemon under valgrind, which
# sees what ASan cannot: stale accesses made inside libc (a mutex unlocked in
# freed memory). Any valgrind error fails the test.
. "$(dirname "$0")/lib.sh"
require_root
command -v valgrind >/dev/null || skip "valgrind not installed (scripts/setup.sh installs it)"
ldd "$CURATEFS" | grep -q libasan && skip "a sanitizer build: valgrind cannot run it (the plain build runs this test)"
wrap=$(mktemp /tmp/curatefs-vg.XXXXXX); vglog=$(mktemp /tmp/curatefs-vg-log.XXXXXX)
OUR_DIRS+=("$wrap" "$vglog")
# the holder and its serving processes (the binary executed anew), each
# with a log of its own
printf '#!/bin/sh\nexec valgrind -q --error-exitcode=9 --trace-children=yes --child-silent-after-fork=yes --log-file=%s.%%p "%s" "$@"\n' "$vglog" "$CURATEFS" > "$wrap"
chmod +x "$wrap"
for t in test-fs-robust.sh test-fs-clients.sh; do
        if CURATEFS=$wrap bash "$(dirname "$0")/$t" > "$vglog.out" 2>&1; then ok "$t with the daemon under valgrind"
        else not_ok "$t with the daemon under valgrind:"; grep '^not ok' "$vglog.out"; fi
        rm -f "$vglog.out"
done
errors=$(cat "$vglog".* 2>/dev/null | grep -E '^==[0-9]+== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched)' | head -5)
logs=$(ls "$vglog".* 2>/dev/null | wc -l)
check "valgrind followed the holder and its serving processes ($logs logs)" test "$logs" -ge 2
rm -f "$vglog".*
check_eq "valgrind reports no memory errors in the daemon" "" "$errors"
finish
