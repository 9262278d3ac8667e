#!/bin/bash
# The main job: one `curate run` command. It starts the shared curatefs
# daemon if none serves /var/lib/curatefs (later runs reuse it), puts the
# command in a transient 256 MiB / 1-CPU cgroup and shows what free, uptime,
# getconf and ls /dev see there, next to what the host shows.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
CURATE=$PWD/build/launcher/curate

show() {
        echo "\$ free -m";                    free -m
        echo "\$ uptime";                     uptime
        echo "\$ getconf _NPROCESSORS_ONLN";  getconf _NPROCESSORS_ONLN
        echo "\$ grep -c ^processor /proc/cpuinfo"; grep -c ^processor /proc/cpuinfo
        echo "\$ head -1 /proc/stat";         head -1 /proc/stat
        echo "\$ ls /dev";                    ls /dev | tr '\n' ' '; echo
}
export -f show

echo "=== The host sees ==="
show
echo
echo "=== \$ curate run --memory 256M --cpus 1 -- bash -c show ==="
# from /: curate keeps the caller's working directory, and a checkout under
# the host's /tmp is not in the container (its /tmp is private)
(cd / && "$CURATE" run --memory 256M --cpus 1 -- bash -c show)
echo
"$CURATE" daemon status
