#pragma once
/* The parts of a running curatefs, as `curate daemon status|restart` see
 * them: the holder (the pid file's process: it mounts and keeps the
 * /dev/fuse fd) and its children, the serving processes (curatefs
 * re-executed with CURATEFS_SERVE set). An old-style curatefs is one
 * process with no children. */
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>
#include <sys/types.h>

#define DAEMON_PARTS_MAX 16 /* one serving process, two while a restart overlaps them */

/* HOLDER's live children (zombies left out), in pid order: their count, at
 * most MAX of them in RET, or -errno (-ESRCH: HOLDER is gone). When there
 * are none, look again for up to SETTLE_MS: a holder replaces a serving
 * process that died at once. */
int daemon_serving_pids(pid_t holder, pid_t *ret, size_t max, int settle_ms);

/* The lines that follow "curatefs running at ... (pid HOLDER)": one per
 * part, with its binary and whether that file was replaced on disk since
 * the part started. */
void daemon_parts_print(FILE *f, pid_t holder);

/* SIGHUP to HOLDER, then wait up to TIMEOUT_MS until every serving process
 * that was there before has exited and a new one runs. 0 with the old and
 * new pids (at most DAEMON_PARTS_MAX each; their counts in *ret_n_old,
 * *ret_n_new), or -errno with *ret_error saying what did not happen
 * (-EOPNOTSUPP: an old-style single-process curatefs, which SIGHUP would
 * end; it is not sent). */
int daemon_replace_serving(pid_t holder, int timeout_ms, pid_t ret_old[static DAEMON_PARTS_MAX],
                           size_t *ret_n_old, pid_t ret_new[static DAEMON_PARTS_MAX], size_t *ret_n_new,
                           char **ret_error);

/* "201 202": PIDS as text, in BUF. */
const char *pid_list(const pid_t *pids, size_t n, char *buf, size_t size);

/* Add HOLDER's parts to INTO, for `curate daemon status --json`: "holder"
 * and each of "serving_processes" as { pid, binary, binary_state (current, replaced,
 * removed, unknown), rss_kib, age_s }, "single_process" (an old-style
 * curatefs), "serving_count", "rss_kib_total" (holder and serving
 * processes) and "unit" (the systemd service it runs in, or null). 0, or
 * -errno (-ESRCH: HOLDER is gone). */
int daemon_parts_json(pid_t holder, json_object *into);

/* ---- daemon-stats.c ---- */
/* The counters the daemon keeps in its journal (fs/journal.h, struct
 * journal_stats): replies served and failed (an error other than ENOENT),
 * serving processes that replaced another since the journal was made, and
 * the per-cgroup records of the serving process that answered last; of the
 * replies served those committed through io_uring, and the transport
 * (0 /dev/fuse, 1 io_uring: daemon_transport_state_name) and io_uring
 * queues of the serving process that started last. */
struct daemon_stats {
        uint64_t served, failed, restarts, readers;
        uint64_t served_uring, transport, uring_queues;
        uint64_t heap_in_use; /* bytes, at the serving process's last sampler pass; 0: none yet */
};
/* Read them from HOLDER's journal memfd via /proc/HOLDER/fd (root). 0 or
 * -errno (-ENOENT: no journal, an old-style curatefs; -ESRCH: gone). */
int daemon_stats_read(pid_t holder, struct daemon_stats *ret);
/* Add "restarts", "requests_served", "requests_failed", "readers",
 * "transport" ("uring" or "dev"), "uring_queues",
 * "requests_served_uring" and "heap_in_use_bytes" to INTO (null each when
 * unreadable, transport also for a value unknown here, heap_in_use_bytes
 * before the first pass); returns daemon_stats_read's result. */
int daemon_stats_json(pid_t holder, json_object *into);
/* The status line "transport: io_uring (2 queues), 123 of 456 requests
 * through io_uring" or "transport: /dev/fuse"; nothing for an old-style
 * curatefs (no journal). */
void daemon_transport_print(FILE *f, pid_t holder);
/* "seccomp_agent": {"socket": the agent's socket (null: none), "listeners":
 * the containers' seccomp listener fds the holder keeps} into INTO, from
 * the holder's fds; 0 or -errno (nothing added). */
int daemon_agent_json(pid_t holder, json_object *into);
