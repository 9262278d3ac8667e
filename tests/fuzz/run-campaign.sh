#!/bin/bash
# A long fuzzing campaign of one harness: RUNS executions (libFuzzer -runs)
# niced, starting from the committed corpus (plus SEEDS, a directory of more
# inputs, e.g. from seed-corpus.sh). Prints the executions, the time taken,
# the corpus size and the crashes (their inputs kept under the work
# directory). With --merge, the committed corpus/NAME/ is replaced by the
# minimized union (-merge=1, edges only) of itself and what the campaign found;
# inputs named regress-* (crashes found before, fixed) are always kept.
# Usage: run-campaign.sh [--merge] NAME [RUNS [SEEDS]]
#   FUZZ_BUILD: the fuzz build directory (default: build-fuzz)
set -uo pipefail
merge=0
[ "${1:-}" = --merge ] && { merge=1; shift; }
name=${1:?usage: run-campaign.sh [--merge] NAME [RUNS [SEEDS]]}
runs=${2:-1000000}
seeds=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
build=${FUZZ_BUILD:-$here/../../build-fuzz}
harness=$build/tests/fuzz/fuzz-$name
corpus=$here/corpus/$name
[ -x "$harness" ] || { echo "run-campaign: no $harness (configure a build with CC=clang -Db_sanitize=address,undefined -Db_lundef=false; FUZZ_BUILD names it)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/campaign-$name.XXXXXX")
mkdir -p "$work/corpus" "$work/artifacts"
cp -r "$corpus"/. "$work/corpus/" 2>/dev/null
[ -n "$seeds" ] && [ -d "$seeds" ] && cp -r "$seeds"/. "$work/corpus/"

export TMPDIR=$work # the harness's private directory lives beside the log
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
start=$(date +%s)
nice -n 19 "$harness" -runs="$runs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1
rc=$?
secs=$(( $(date +%s) - start ))
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
crashes=$(find "$work/artifacts" -type f | wc -l)
echo "fuzz-$name: ${execs:-0} executions in $secs s ($(( ${execs:-0} / (secs > 0 ? secs : 1) ))/s)," \
     "corpus $(ls "$work/corpus" | wc -l) inputs, $crashes crash(es), exit $rc; log: $work/log"
for f in "$work/artifacts"/*; do
        [ -f "$f" ] && echo "  crash input: $f"
done
if [ "$merge" = 1 ] && [ "$crashes" = 0 ]; then
        rm -rf "$work/merged" && mkdir "$work/merged" && mkdir -p "$corpus" # a new harness has none yet
        # edges only (no hit-count buckets): every edge stays covered by a
        # corpus a fraction of the size
        nice -n 19 "$harness" -merge=1 -use_counters=0 "$work/merged" "$corpus" "$work/corpus" >"$work/merge.log" 2>&1 &&
                { cp "$corpus"/regress-* "$work/merged/" 2>/dev/null; true; } &&
                rm -rf "$corpus" && mkdir -p "$corpus" && cp "$work/merged"/* "$corpus/" &&
                echo "fuzz-$name: corpus/$name now $(ls "$corpus" | wc -l) inputs, $(du -sk --apparent-size "$corpus" | cut -f1) KiB"
fi
[ "$rc" = 0 ] && [ "$crashes" = 0 ]
