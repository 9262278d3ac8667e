#!/bin/bash
# curate daemon status --json: one JSON object other tools can parse, whose
# pids, binaries and RSS are the daemon's own (checked against the pid file,
# /proc/PID/stat's parent and /proc/PID/exe), with the text form's exit status;
# its counters (requests served/failed, restarts, readers) follow reads,
# restarts and a killed serving process; the transport fields say /dev/fuse
# for a daemon started with --transport dev.
. "$(dirname "$0")/lib.sh"
require_curate
command -v python3 >/dev/null || skip "no python3 to parse the JSON"
trap 'cleanup_run; cleanup' EXIT
export LC_ALL=C

# jq-like: field PATH (a python expression on o) of JSON on stdin
field() { python3 -c 'import json, sys; o = json.load(sys.stdin); v = eval(sys.argv[1]); print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)' "$1"; }

fresh_mountpoint
out=$("$CURATE" daemon status --json --mountpoint "$FRESH"); rc=$?
check_eq "not running: exit 3, as the text form" 3 "$rc"
check_eq "not running: state" "stopped" "$(field 'o["state"]' <<<"$out")"
check_eq "not running: serving false, no holder" "false null" \
        "$(field 'o["serving"]' <<<"$out") $(field 'o["holder_pid"]' <<<"$out")"

# /dev/fuse whatever the host's io_uring switch says (another test may turn
# it on), where curatefs has --transport; an older one serves only that
tr=(); "$CURATEFS" --help 2>&1 | grep -q -- --transport && tr=(--transport dev)
out=$("$CURATE" daemon start "${tr[@]}" --mountpoint "$FRESH" 2>&1)
check "curate daemon start" test "$(fuse_mounts_at "$FRESH")" -ge 1 || echo "$out"
sleep 2 # an age of at least 2 s to read back
out=$("$CURATE" daemon status --json --mountpoint "$FRESH"); rc=$?
check_eq "serving: exit 0" 0 "$rc"
check "the output is one JSON object" python3 -c 'import json, sys; assert isinstance(json.loads(sys.argv[1]), dict)' "$out"
check_eq "serving: state" "serving" "$(field 'o["state"]' <<<"$out")"
check_eq "serving: the serving flag stays a boolean" "true" "$(field 'o["serving"]' <<<"$out")"
check_eq "mountpoint" "$(realpath "$FRESH")" "$(field 'o["mountpoint"]' <<<"$out")"
pidfile=/run/curate/curatefs-$(realpath "$FRESH" | tr / _).pid
holder=$(cat "$pidfile" 2>/dev/null)
check_eq "holder_pid is the pid file's" "$holder" "$(field 'o["holder_pid"]' <<<"$out")"
check_eq "holder.pid" "$holder" "$(field 'o["holder"]["pid"]' <<<"$out")"
check_eq "holder binary is the one started" "$(realpath "$CURATEFS")" "$(field 'o["holder"]["binary"]' <<<"$out")"
check_eq "holder binary_state" "current" "$(field 'o["holder"]["binary_state"]' <<<"$out")"
serving=$(field '" ".join(str(s["pid"]) for s in o["serving_processes"])' <<<"$out")
check "at least one serving process" test -n "$serving"
check_eq "serving_count" "$(wc -w <<<"$serving")" "$(field 'o["serving_count"]' <<<"$out")"
for p in $serving; do
        check_eq "serving $p is the holder's child" "$holder" "$(awk '{ sub(/.*\) /, ""); print $2 }' "/proc/$p/stat")"
        check_eq "serving $p: binary" "$(readlink "/proc/$p/exe")" \
                "$(field '[s["binary"] for s in o["serving_processes"] if s["pid"] == '"$p"'][0]' <<<"$out")"
done
check_eq "single_process false" "false" "$(field 'o["single_process"]' <<<"$out")"
rss_holder=$(awk '/^VmRSS:/ { print $2 }' "/proc/$holder/status")
got=$(field 'o["holder"]["rss_kib"]' <<<"$out")
# RSS moves: the figure must be the holder's, within a factor of two
check "holder.rss_kib is the holder's VmRSS ($got vs $rss_holder kB)" \
        test "$got" -gt 0 -a "$got" -le $((rss_holder * 2)) -a "$rss_holder" -le $((got * 2))
check "rss_kib_total at least the holder's" test "$(field 'o["rss_kib_total"]' <<<"$out")" -ge "$got"
age=$(field 'o["holder"]["age_s"]' <<<"$out"); etimes=$(ps -o etimes= -p "$holder" | tr -d ' ')
check "holder.age_s ($age) is ps's etimes ($etimes), taken after it (±1 s of rounding)" test "$age" -ge 2 -a "$age" -le $((etimes + 1)) -a "$age" -ge $((etimes - 5))
check_eq "unit: null outside systemd's services" "null" "$(field 'o["unit"]' <<<"$out")"

# the counters kept in the journal: requests served and failed, restarts,
# readers by cgroup (fs/journal.h struct journal_stats)
st() { "$CURATE" daemon status --json --mountpoint "$FRESH" | field "o[\"$1\"]"; }
for k in restarts requests_served requests_failed readers; do
        check "$k is a number" test "$(st $k)" -ge 0
done
# the transport (fs/journal.h stats.transport, uring_queues, served_uring)
out=$("$CURATE" daemon status --json --mountpoint "$FRESH")
check_eq "transport, uring_queues, requests_served_uring: a string and two integers" "str int int" \
        "$(field '" ".join(type(o[k]).__name__ for k in ("transport", "uring_queues", "requests_served_uring"))' <<<"$out")"
check_eq "transport: dev (${tr[*]:-this curatefs has no --transport})" "dev" "$(field 'o["transport"]' <<<"$out")"
check_eq "uring_queues: 0 on /dev/fuse" 0 "$(field 'o["uring_queues"]' <<<"$out")"
text=$("$CURATE" daemon status --mountpoint "$FRESH")
check "the text form says so: '  transport: /dev/fuse'" grep -qx "  transport: /dev/fuse" <<<"$text" || echo "$text"
served0=$(st requests_served); failed0=$(st requests_failed); restarts0=$(st restarts)
A=curate-stats-a-$$; B=curate-stats-b-$$
cg_create "$A" && cg_create "$B" || not_ok "create two cgroups to read from"
for i in 1 2 3 4 5; do
        cg_exec "$A" cat "$FRESH/proc/meminfo" >/dev/null
        cg_exec "$B" cat "$FRESH/proc/meminfo" >/dev/null
done
served1=$(st requests_served)
check "requests_served grew by at least the 10 reads ($served0 -> $served1)" test "$served1" -ge $((served0 + 10))
# the readers count goes to the journal with a request, at most every
# 100 ms (serve-loop.c publish_readers): one more read after that window
sleep 0.2; cat "$FRESH/proc/uptime" >/dev/null
check "readers ($(st readers)) >= the 2 cgroups that read" test "$(st readers)" -ge 2
check_eq "requests_served_uring stays 0 on /dev/fuse after the reads" 0 "$(st requests_served_uring)"
cat "$FRESH/proc/no-such-view" 2>/dev/null
check_eq "a lookup of a missing name (ENOENT) is no failure" "$failed0" "$(st requests_failed)"
# the heap in use, published by the sampler after each pass (every 5 s;
# null before the first); glibc's figure, which AddressSanitizer's own
# allocator leaves at nothing
heap=null
for _ in $(seq 80); do heap=$(st heap_in_use_bytes); [ "$heap" != null ] && break; sleep 0.1; done
if curatefs_asan; then
        echo "# heap_in_use_bytes under ASan: $heap (not glibc's malloc: not checked)"
else
        check "heap_in_use_bytes within 8 s: a figure between 16 KiB and 64 MiB ($heap)" \
                test "$heap" != null -a "${heap/null/0}" -ge 16384 -a "${heap/null/0}" -le 67108864
fi

out=$("$CURATE" daemon restart --mountpoint "$FRESH" 2>&1)
restarts1=$(st restarts)
check "restarts grew after curate daemon restart ($restarts0 -> $restarts1)" test "$restarts1" -ge $((restarts0 + 1)) || echo "$out"
served2=$(st requests_served)
check "requests_served survives the restart ($served1 -> $served2)" test "$served2" -ge "$served1"
victim=$("$CURATE" daemon status --json --mountpoint "$FRESH" | field 'o["serving_processes"][0]["pid"]')
kill -KILL "$victim"
# until the holder has a ready replacement (bounded; the figure is checked after)
for i in $(seq 100); do
        [ "$(st restarts)" -gt "$restarts1" ] && break
        sleep 0.1
done
restarts2=$(st restarts)
check "restarts grew after SIGKILL of serving process $victim ($restarts1 -> $restarts2)" test "$restarts2" -ge $((restarts1 + 1))
cg_exec "$A" cat "$FRESH/proc/meminfo" >/dev/null
served3=$(st requests_served)
check "requests_served stays monotonic after the kill ($served2 -> $served3)" test "$served3" -gt "$served2"
check "restarts stays monotonic ($restarts2 -> $(st restarts))" test "$(st restarts)" -ge "$restarts2"
check_eq "the replacements keep the transport: dev, 0 queues" "dev 0" "$(st transport) $(st uring_queues)"

err=$("$CURATE" daemon stop --json --mountpoint "$FRESH" 2>&1); rc=$?
check_eq "--json with stop is refused (125)" 125 "$rc"
check "… and the daemon still serves" test "$(fuse_mounts_at "$FRESH")" -ge 1
finish
