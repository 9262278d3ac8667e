#!/bin/bash
# Run every test: unit (cmocka), integration (real FUSE, cgroups, namespaces,
# clients; root), the same checks on a cgroup v2 kernel under qemu, and the
# unit and integration tests again with everything (the daemon included) built
# with AddressSanitizer + UBSan, and a short libFuzzer run of every parser of
# outside input (tests/fuzz, built with clang). Ends with
# "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
# the cgroup v2 kernel for the qemu suite (skipped with a message if absent)
if [ "$(id -u)" = 0 ]; then
        ./tests/qemu/setup.sh >/dev/null 2>&1 || echo "note: qemu kernel set-up failed; the qemu suite will skip"
fi

if [ ! -f build-asan/build.ninja ]; then
        meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C build-asan >/dev/null
# the libFuzzer harnesses (tests/fuzz): clang, ASan + UBSan; a 20 s smoke each
if [ ! -f build-fuzz/build.ninja ]; then
        CC=clang meson setup build-fuzz -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=enabled >/dev/null
fi
ninja -C build-fuzz >/dev/null

passed=0 failed=0 skipped=0
# Count individual checks, not meson suites: cmocka's "[  PASSED  ] N test(s)"
# and "[  FAILED  ] N test(s)" lines, and the shell tests' "# N passed, N
# failed" lines (the qemu guest's included). A suite that failed without
# printing a count (a crash, a timeout) still counts as one failure.
tally() { # tally BUILD_DIR
        local log=$1/meson-logs/testlog.txt json=$1/meson-logs/testlog.json p f s m
        [ -f "$log" ] || return
        p=$(grep -hE '^\[  PASSED  \] [0-9]+ test' "$log" | awk '{ n += $4 } END { print n + 0 }')
        f=$(grep -hE '^\[  FAILED  \] [0-9]+ test' "$log" | awk '{ n += $4 } END { print n + 0 }')
        p=$((p + $(grep -haE '^# [0-9]+ passed, [0-9]+ failed' "$log" | tr -d '\r' | awk '{ n += $2 } END { print n + 0 }')))
        f=$((f + $(grep -haE '^# [0-9]+ passed, [0-9]+ failed' "$log" | tr -d '\r' | awk '{ n += $4 } END { print n + 0 }')))
        m=$(grep -Ec '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$json")
        [ "$m" -gt "$f" ] && f=$m
        s=$(grep -c '"result": "SKIP"' "$json")
        passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}
# run_suites DIR MESON-TEST-ARGS...: a run that fails without a failed check
# to show for it (the build did not compile, meson itself failed) is one
# failure, never silence
run_suites() {
        local dir=$1 before=$failed rc; shift
        meson test -C "$dir" --print-errorlogs --num-processes 1 "$@"
        rc=$?
        tally "$dir"
        if [ "$rc" != 0 ] && [ "$failed" = "$before" ]; then
                echo "test.sh: meson test in $dir failed (status $rc) without a failed check: counted as one failure"
                failed=$((failed + 1))
        fi
}
run_suites build "$@"
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 run_suites build-asan --suite unit --suite integration
run_suites build-fuzz --suite fuzz
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
