#!/bin/bash
# curate run: exit statuses, signals sent to curate (kill and a terminal's
# Ctrl-C), stdin/stdout/stderr, and what the command leaves behind.
. "$(dirname "$0")/lib.sh"
require_curate
export LC_ALL=C

mount_curatefs || { not_ok "mount curatefs"; finish; }
run_tmpdir
printf '#!/bin/sh\nexit 0\n' > "$T/not-executable"; chmod 644 "$T/not-executable"

# --- exit statuses -----------------------------------------------------------------
for ns in "" --pid; do
        w=${ns:+" (with --pid)"}
        cr run --mountpoint "$MNT" $ns -- sh -c 'exit 3'
        check_eq "exit 3 -> 3$w ($ERR)" 3 "$RC"
        cr run --mountpoint "$MNT" $ns -- true
        check_eq "true -> 0$w ($ERR)" 0 "$RC"
        cr run --mountpoint "$MNT" $ns -- sh -c 'kill -9 $$'
        check_eq "killed by SIGKILL -> 137$w" 137 "$RC"
        cr run --mountpoint "$MNT" $ns -- sh -c 'kill -TERM $$'
        check_eq "killed by SIGTERM -> 143$w" 143 "$RC"
        cr run --mountpoint "$MNT" $ns -- curate-no-such-command-$$
        check_eq "missing command -> 127$w" 127 "$RC"
        check "  with a message naming it ($ERR)" grep -q "curate-no-such-command-$$" <<<"$ERR"
        cr run --mountpoint "$MNT" $ns -- "$T/not-executable"
        check_eq "non-executable file -> 126$w" 126 "$RC"
        check "  with a message naming it ($ERR)" grep -q "not-executable" <<<"$ERR"
        cr run --mountpoint "$MNT" $ns -- "$T"
        check_eq "a directory as the command -> 126$w" 126 "$RC"
        check_eq "no cgroup left$w" "" "$(run_cgroups "$CR_PID")"
done
cr run --mountpoint "$MNT" --no-such-option -- true
check_eq "bad option -> 125" 125 "$RC"
check "  with a message naming it ($ERR)" grep -q -- '--no-such-option' <<<"$ERR"
cr run --mountpoint "$MNT" --memory lots -- true
check_eq "bad --memory value -> 125" 125 "$RC"
check "  with a message naming the value ($ERR)" grep -q 'lots' <<<"$ERR"
cr run --mountpoint "$MNT" --cpus 0 -- true
check_eq "--cpus 0 -> 125 ($ERR)" 125 "$RC"
cr run --mountpoint "$MNT" --cpuset 0-x -- true
check_eq "bad --cpuset -> 125 ($ERR)" 125 "$RC"
cr run --mountpoint "$MNT" --pids -1 -- true
check_eq "bad --pids -> 125 ($ERR)" 125 "$RC"
cr run --mountpoint "$MNT" --views meminfo,nosuchview -- true
check_eq "unknown view -> 125" 125 "$RC"
check "  with a message naming it ($ERR)" grep -q 'nosuchview' <<<"$ERR"
cr run --mountpoint "$MNT"
check_eq "no command -> 125 ($ERR)" 125 "$RC"
cr run --mountpoint "$MNT" --cgroup / --memory 256M -- true
check_eq "--cgroup with a limit -> 125" 125 "$RC"
check "  with a message naming --cgroup ($ERR)" grep -q -- 'cgroup' <<<"$ERR"
cr bogus-subcommand
check_eq "unknown subcommand -> 125 ($ERR)" 125 "$RC"
cr --version
check "--version prints curate and a version ($OUT)" grep -q '^curate [0-9]' <<<"$OUT"
cr run --help
check "run --help documents the options" test "$RC" = 0 -a -n "$(grep -- '--memory' <<<"$OUT")"

# --- --cgroup: join an existing cgroup ---------------------------------------------------
cg_create "$CG_PREFIX-join" memory=134217728
cr run --mountpoint "$MNT" --cgroup "/$CG_PREFIX-join" -- sh -c 'cat /proc/self/cgroup; grep MemTotal /proc/meminfo'
check_eq "--cgroup runs ($ERR)" 0 "$RC"
# its cgroup namespace is rooted there (/proc/self/cgroup reads /); shared,
# the path shows
if cg_is_v2; then check "--cgroup: the cgroup namespace's root is that cgroup" grep -qx "0::/" <<<"$OUT"
else check "--cgroup: the cgroup namespace's root is that cgroup (memory)" grep -qx "[0-9]*:memory:/" <<<"$OUT"; fi
check_eq "--cgroup: the views follow its limit" 131072 "$(kb_of MemTotal <<<"$OUT")"
cr run --mountpoint "$MNT" --cgroup "/$CG_PREFIX-join" --share cgroup -- sh -c 'cat /proc/self/cgroup; grep MemTotal /proc/meminfo'
check_eq "--cgroup --share cgroup runs ($ERR)" 0 "$RC"
if cg_is_v2; then check "--cgroup: the command is in that cgroup" grep -qx "0::/$CG_PREFIX-join" <<<"$OUT"
else check "--cgroup: the command is in that cgroup (memory)" grep -qx "[0-9]*:memory:/$CG_PREFIX-join" <<<"$OUT"; fi
check_eq "--cgroup --share cgroup: the views follow its limit" 131072 "$(kb_of MemTotal <<<"$OUT")"
check "--cgroup: the joined cgroup is left in place" test -d "$(_cg_dirs "$CG_PREFIX-join" | awk '{ print $1 }')"
check_eq "--cgroup: no transient cgroup was made" "" "$(run_cgroups "$CR_PID")"
cr run --mountpoint "$MNT" --cgroup "/$CG_PREFIX-missing" -- true
check_eq "--cgroup of a missing cgroup -> 125 ($ERR)" 125 "$RC"

# --- stdin, stdout, stderr ---------------------------------------------------------------------
cr run --mountpoint "$MNT" -- cat <<<"hello through curate"
check_eq "stdin reaches the command, stdout comes back" "hello through curate" "$OUT"
head -c 1048576 /dev/urandom > "$T/blob"
want=$(sha256sum < "$T/blob" | cut -d' ' -f1)
cr run --mountpoint "$MNT" -- sha256sum < "$T/blob"
check_eq "1 MiB of stdin arrives intact" "$want" "${OUT%% *}"
got=$("$CURATE" run --mountpoint "$MNT" -- cat "$T/blob" | sha256sum | cut -d' ' -f1)
check_eq "1 MiB of stdout through a pipe arrives intact" "$want" "$got"
cr run --mountpoint "$MNT" -- sh -c 'echo to-stderr >&2; echo to-stdout'
check_eq "stdout is the command's" to-stdout "$OUT"
check_eq "stderr is the command's" to-stderr "$ERR"

# --- signals sent to curate -------------------------------------------------------------------
# The command counts the signals it gets in $T/NAME.count, says it is ready,
# and ends when told (or after 10 s).
cat > "$T/trap.sh" <<'EOF'
T=$1 name=$2 sig=$3 exitcode=$4
trap 'echo "$sig" >> "$T/$name.count"; [ "$exitcode" != keep ] && exit "$exitcode"' "$sig"
touch "$T/$name.ready"
# no command substitution while a signal may arrive: bash 5.2 can misparse
# a trap action run in the middle of one ("unexpected EOF while looking for
# matching `)'", seen once under qemu)
i=0
while [ ! -e "$T/$name.done" ]; do
        [ "$i" -ge 200 ] && exit 99
        sleep 0.05
        i=$((i + 1))
done
exit 0
EOF
sigtest() { # NAME SIGNAL EXPECTED_STATUS CURATE_OPTIONS...
        local name=$1 sig=$2 want=$3; shift 3
        cr_bg run --mountpoint "$MNT" "$@" -- bash "$T/trap.sh" "$T" "$name" "$sig" "$([ "$want" = 0 ] && echo keep || echo "$want")"
        if wait_file "$T/$name.ready"; then
                kill -"$sig" "$CR_PID"
                sleep 1
                touch "$T/$name.done"
        else
                not_ok "$name: the command did not start ($(cat "$CR_ERRF"))"
        fi
        cr_wait 15
        check_eq "$name: the command got $sig exactly once" "$sig" "$(cat "$T/$name.count" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
        check_eq "$name: curate exits with the command's status ($ERR)" "$want" "$RC"
        check_eq "$name: no cgroup left" "" "$(run_cgroups "$CR_PID")"
}
sigtest "kill -TERM curate" TERM 0
sigtest "kill -TERM curate, command exits 7 on it" TERM 7
sigtest "kill -INT curate" INT 0
sigtest "kill -HUP curate" HUP 0
sigtest "kill -TERM curate (--pid)" TERM 0 --pid
sigtest "kill -INT curate (--pid)" INT 0 --pid

# a command that does not handle SIGTERM dies of it: 143
cr_bg run --mountpoint "$MNT" -- sh -c 'touch "$0/plain.ready"; exec sleep 30' "$T"
wait_file "$T/plain.ready" && sleep 0.2 && kill -TERM "$CR_PID"
cr_wait 15
check_eq "kill -TERM curate, command without a handler -> 143" 143 "$RC"

# A terminal's Ctrl-C: the tty sends SIGINT to its whole foreground process group.
# script(1) runs its command through $SHELL -c (/bin/sh when SHELL is unset, as
# under CI); "exec" keeps a shell that would die of the SIGINT itself out of it.
ctrl_c() { # NAME CURATE_OPTIONS...
        local name=$1; shift
        { wait_file "$T/$name.ready" 20; sleep 0.2; printf '\003'; sleep 1; touch "$T/$name.done"; sleep 0.5; } |
                timeout -k 5 40 script -qec "exec $(printf '%q ' "$CURATE" run --mountpoint "$MNT" "$@" -- bash "$T/trap.sh" "$T" "$name" INT keep)" /dev/null >/dev/null 2>&1
        RC=$?
        check_eq "$name: the command got SIGINT exactly once" INT "$(cat "$T/$name.count" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
        check_eq "$name: and exited normally" 0 "$RC"
}
if script -qec true /dev/null </dev/null >/dev/null 2>&1; then
        ctrl_c "Ctrl-C on the terminal"
        ctrl_c "Ctrl-C on the terminal (--pid)" --pid
else
        echo "# script(1) cannot open a pty here (no devpts?): the Ctrl-C checks are left out"
fi

# --- what the command leaves behind ------------------------------------------------------------
# a "sleep 300.PID" of our own, in a new session, outliving the command
marker="sleep 300.$$"
left() { pgrep -fx "$marker" | tr '\n' ' ' | sed 's/ $//'; }
for ns in "" --pid; do
        w=${ns:+" (with --pid)"}
        cr run --mountpoint "$MNT" $ns -- sh -c '( setsid $0 </dev/null >/dev/null 2>&1 & ); sleep 0.3; exit 0' "$marker"
        check_eq "a command that leaves a daemonized child exits 0$w ($ERR)" 0 "$RC"
        sleep 0.3
        l=$(left)
        check_eq "  the daemonized child was killed$w" "" "$l"
        for p in $l; do OUR_PIDS+=("$p"); done
        check_eq "  and the cgroup is removed$w" "" "$(run_cgroups "$CR_PID")"
done

finish
