#!/bin/bash
# Smoke run of one fuzz harness: FUZZ_SMOKE_SECONDS (20) of libFuzzer over
# a scratch copy of its committed corpus (the committed one stays as it is).
# Fails on a crash, a leak, a sanitizer report or a timeout; prints the
# "# N passed, N failed" line scripts/test.sh counts.
# Usage: smoke.sh HARNESS CORPUS_DIR
set -uo pipefail
harness=$1 corpus=$2
secs=${FUZZ_SMOKE_SECONDS:-20}
name=$(basename "$harness")
work=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus" "$work/artifacts"
[ -d "$corpus" ] && cp -r "$corpus"/. "$work/corpus/"

export TMPDIR=$work # the harness's private directory goes with the rest
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
"$harness" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
crashes=$(find "$work/artifacts" -type f | wc -l)
echo "$name: ${execs:-0} executions in ${secs} s, $crashes crash(es), exit $rc"
if [ "$rc" = 0 ] && [ "$crashes" = 0 ]; then
        echo "ok 1 - $name"
        echo "# 1 passed, 0 failed"
        exit 0
fi
tail -n 60 "$work/log"
for f in "$work/artifacts"/*; do
        [ -f "$f" ] && { echo "crashing input $(basename "$f") (base64):"; base64 -w0 "$f"; echo; }
done
echo "not ok 1 - $name"
echo "# 0 passed, 1 failed"
exit 1
